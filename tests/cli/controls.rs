//! Deploy and cron controls against the in-process server: size and age limits (what is sent,
//! and that nothing outside them is deleted), `--bwlimit`, and names that differ only in
//! letter case.

use crate::support;

use std::fs;
use std::time::{Duration, SystemTime};

use support::{Run, Sandbox, set_mtime, write};

fn ago(secs: u64) -> SystemTime {
    SystemTime::now() - Duration::from_secs(secs)
}

/// A nightly pull leaves a file that is still being written for the next night, and never
/// deletes the local copy of a file it did not look at.
#[test]
fn min_age_leaves_files_still_being_written() {
    let sb = Sandbox::new();
    write(&sb.remote, "done.csv", b"complete export");
    set_mtime(&sb.remote, "done.csv", ago(3600));
    write(&sb.remote, "writing.csv", b"half an exp");
    let out = sb.pull(&["--min-age", "5m", "--delete", "-v"]);
    out.assert_code(0);
    assert!(
        out.stdout
            .contains("1 file(s) outside --min-size/--max-size/--min-age/--max-age"),
        "{}",
        out.all()
    );
    assert_eq!(
        fs::read(sb.local.join("done.csv")).unwrap(),
        b"complete export"
    );
    assert!(!sb.local.join("writing.csv").exists());

    // A local file of its own, too young to judge, is not deleted as an extra either.
    write(&sb.local, "mine.txt", b"local only, young");
    let out = sb.pull(&["--min-age", "5m", "--delete"]);
    out.assert_code(0);
    assert!(out.actions("delete").is_empty(), "{}", out.all());
    assert!(sb.local.join("mine.txt").exists());

    // Once old enough, it comes.
    set_mtime(&sb.remote, "writing.csv", ago(600));
    let out = sb.pull(&["--min-age", "5m"]);
    assert_eq!(out.actions("download"), ["writing.csv"], "{}", out.all());
}

#[test]
fn size_limits_skip_files_and_spare_their_copies() {
    let sb = Sandbox::new();
    write(&sb.local, "small.txt", b"tiny");
    write(&sb.local, "page.html", &vec![b'p'; 2048]);
    write(&sb.local, "video.bin", &vec![b'v'; 64 * 1024]);
    // The server has an older copy of the big file, and a big file of its own.
    write(&sb.remote, "video.bin", b"old video");
    write(&sb.remote, "archive.bin", &vec![b'a'; 100 * 1024]);
    let out = sb.push(&["--min-size", "1k", "--max-size", "32k", "--delete"]);
    out.assert_code(0);
    assert_eq!(out.actions("upload"), ["page.html"], "{}", out.all());
    assert!(out.actions("delete").is_empty(), "{}", out.all());
    assert_eq!(fs::read(sb.remote.join("video.bin")).unwrap(), b"old video");
    assert!(sb.remote.join("archive.bin").exists());
    assert!(!sb.remote.join("small.txt").exists());

    // max_age: files modified long ago are left alone.
    set_mtime(&sb.local, "small.txt", ago(40 * 86_400));
    let out = sb.push(&["--max-age", "30d"]);
    out.assert_code(0);
    assert!(
        !out.actions("upload").contains(&"small.txt".to_string()),
        "{}",
        out.all()
    );
    assert!(
        out.actions("upload").contains(&"video.bin".to_string()),
        "{}",
        out.all()
    );
}

/// `--bwlimit 3M`: 12 MiB take at least 4 s less the one-second burst, uploads and
/// downloads alike; without the limit the same push is faster.
#[test]
fn bwlimit_holds_transfers_to_the_rate() {
    let sb = Sandbox::new();
    write(&sb.local, "a.bin", &support::noise(6 << 20, 1));
    write(&sb.local, "b.bin", &support::noise(6 << 20, 2));
    let started = std::time::Instant::now();
    let out = sb.push(&["--bwlimit", "3M"]);
    let limited = started.elapsed();
    out.assert_code(0);
    assert!(
        limited >= Duration::from_millis(3200),
        "12 MiB at 3 MiB/s in {limited:?}"
    );
    assert_eq!(
        fs::read(sb.remote.join("b.bin")).unwrap(),
        support::noise(6 << 20, 2)
    );

    fs::remove_dir_all(&sb.local).unwrap();
    let started = std::time::Instant::now();
    let out = sb.pull(&["--bwlimit", "08:00,3M 20:00,3M"]);
    let pulled = started.elapsed();
    out.assert_code(0);
    assert!(
        pulled >= Duration::from_millis(3200),
        "pulled in {pulled:?}"
    );

    fs::remove_dir_all(&sb.remote).unwrap();
    fs::create_dir_all(&sb.remote).unwrap();
    let started = std::time::Instant::now();
    let out = sb.push(&["--bwlimit", "off"]);
    out.assert_code(0);
    assert!(
        started.elapsed() < limited,
        "no limit: {:?}",
        started.elapsed()
    );
}

/// A name that differs only in letter case from a source name is never deleted: on a
/// case-insensitive server it is the file just uploaded. `--ignore-case` pairs the two.
#[test]
fn a_case_twin_is_never_deleted() {
    let sb = Sandbox::new();
    write(&sb.local, "img/100_001.JPG", b"photo");
    write(&sb.remote, "img/100_001.jpg", b"photo");
    write(&sb.remote, "img/stale.jpg", b"old");
    let when = ago(86_400);
    set_mtime(&sb.local, "img/100_001.JPG", when);
    set_mtime(&sb.remote, "img/100_001.jpg", when);

    // One SIZE by the source's spelling tells what kind of server this is (-v).
    let out = sb.push(&["--delete", "--dry-run", "-v"]);
    assert!(
        out.stdout
            .contains("the server is case-sensitive: SIZE /img/100_001.JPG found nothing"),
        "{}",
        out.all()
    );
    let out = sb.push(&["--delete"]);
    assert_eq!(out.code, 1, "a failure to look at: {}", out.all());
    assert!(
        out.stderr.contains(
            "not deleting img/100_001.jpg: its name differs only in letter case from img/100_001.JPG"
        ),
        "{}",
        out.all()
    );
    assert_eq!(out.actions("delete"), ["img/stale.jpg"], "{}", out.all());
    assert_eq!(
        fs::read(sb.remote.join("img/100_001.jpg")).unwrap(),
        b"photo"
    );

    // Now the server lists both names: it told its kind itself.
    let out = sb.push(&["--delete", "--dry-run", "-v"]);
    assert!(
        out.stdout
            .contains("the server is case-sensitive: it lists both"),
        "{}",
        out.all()
    );

    fs::remove_file(sb.remote.join("img/100_001.JPG")).unwrap();
    let out = sb.push(&["--delete", "--ignore-case", "-v"]);
    out.assert_code(0);
    assert!(out.actions("upload").is_empty(), "{}", out.all());
    assert!(out.actions("delete").is_empty(), "{}", out.all());
    assert!(
        out.stdout.contains("--ignore-case: 1 name(s) matched"),
        "{}",
        out.all()
    );
}

/// `--remote-lock`: a held lock stops the run (exit 4, nothing sent); a stale one is taken
/// over with a warning; the lock is gone after the run, and never mirrored or deleted.
#[test]
fn remote_lock_keeps_two_runs_apart() {
    let sb = Sandbox::new();
    write(&sb.local, "index.html", b"<p>new</p>");
    let lock = sb.remote.join(".ftpmirror-lock");
    let now = chrono::Utc::now();
    let fresh = format!(
        "host=other-ci pid=77 started={}\n",
        now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    write(&sb.remote, ".ftpmirror-lock/owner", fresh.as_bytes());
    let out = sb.push(&["--remote-lock", "--delete"]);
    out.assert_code(4);
    assert!(
        out.stderr
            .contains("locked by another run (host=other-ci pid=77"),
        "{}",
        out.all()
    );
    assert!(!sb.remote.join("index.html").exists());
    assert!(
        lock.join("owner").exists(),
        "another run's lock is left alone"
    );

    // Without --remote-lock the lock is not the tree's: not deleted by --delete.
    let out = sb.push(&["--delete"]);
    out.assert_code(0);
    assert!(out.actions("delete").is_empty(), "{}", out.all());
    assert!(lock.join("owner").exists());

    let stale = format!(
        "host=dead-ci pid=1 started={}\n",
        (now - chrono::Duration::hours(2)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    write(&sb.remote, ".ftpmirror-lock/owner", stale.as_bytes());
    write(&sb.local, "index.html", b"<p>newer</p>");
    let out = sb.push(&["--remote-lock", "--remote-lock-ttl", "1h"]);
    out.assert_code(0);
    assert!(
        out.stderr.contains("took over the remote lock"),
        "{}",
        out.all()
    );
    assert_eq!(
        fs::read(sb.remote.join("index.html")).unwrap(),
        b"<p>newer</p>"
    );
    assert!(!lock.exists(), "released at the end");

    // A first push to a root that does not exist yet takes the lock too.
    let url = sb.server.url("new/site");
    let l = sb.local_str().to_string();
    let out = sb.run(&["push", "--remote-lock", &l, &url]);
    out.assert_code(0);
    assert!(sb.remote.join("new/site/index.html").exists());
    assert!(!sb.remote.join("new/site/.ftpmirror-lock").exists());
}

/// `--stats` writes progress lines where there is no terminal (here: a pipe), and
/// `--log-format json` makes every log line one JSON object; a failure names its step and
/// the server's code.
#[test]
fn stats_lines_and_a_json_log() {
    let sb = Sandbox::new();
    write(&sb.local, "big.bin", &support::noise(6 << 20, 5));
    write(&sb.local, "small.txt", b"small");
    write(&sb.local, "denied.txt", b"no");
    sb.server.refuse("denied.txt");
    let log = sb.dir.path().join("run.log");
    let l = log.to_str().unwrap();
    let out = sb.push(&[
        "--bwlimit",
        "2M",
        "--stats",
        "100ms",
        "--log-file",
        l,
        "--log-format",
        "json",
    ]);
    out.assert_code(1);
    let stats: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("stats: "))
        .collect();
    assert!(
        stats.len() >= 2,
        "a 3 s run, a line each 100 ms: {}",
        out.all()
    );
    assert!(
        stats
            .iter()
            .any(|l| l.contains("/3 files") && l.contains("/s, ETA")),
        "{stats:?}"
    );
    let lines: Vec<serde_json::Value> = fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    let events: Vec<&str> = lines.iter().map(|v| v["event"].as_str().unwrap()).collect();
    assert_eq!(events.first(), Some(&"start"), "{events:?}");
    assert_eq!(events.last(), Some(&"end"), "{events:?}");
    let up = lines
        .iter()
        .find(|v| v["event"] == "upload" && v["path"] == "big.bin")
        .expect("the upload, logged");
    assert_eq!(up["bytes"], 6 << 20);
    assert_eq!(up["ok"], true);
    let denied = lines
        .iter()
        .find(|v| v["event"] == "upload" && v["path"] == "denied.txt")
        .expect("the failed upload, logged");
    assert_eq!(
        (&denied["ok"], &denied["step"], &denied["code"]),
        (&false.into(), &"store".into(), &550.into()),
        "{denied}"
    );
    assert!(
        denied["error"].as_str().unwrap().contains("550"),
        "{denied}"
    );
    assert!(
        lines
            .iter()
            .any(|v| v["event"] == "message"
                && v["message"].as_str().unwrap().starts_with("stats: "))
    );
}

/// `-L` on push sends what links point to, reports a loop, and is refused on pull.
#[test]
fn copy_links_sends_what_links_point_to() {
    let sb = Sandbox::new();
    let shared = sb.dir.path().join("shared");
    write(&shared, "logo.png", b"png!");
    write(&sb.local, "index.html", b"<p>hi</p>");
    std::os::unix::fs::symlink(&shared, sb.local.join("assets")).unwrap();
    std::os::unix::fs::symlink(".", sb.local.join("again")).unwrap();

    let out = sb.push(&[]);
    out.assert_code(0);
    assert!(
        out.stderr.contains("assets: symbolic link skipped"),
        "{}",
        out.all()
    );
    assert!(!sb.remote.join("assets").exists());

    let out = sb.push(&["-L", "--delete"]);
    out.assert_code(0);
    assert_eq!(
        fs::read(sb.remote.join("assets/logo.png")).unwrap(),
        b"png!"
    );
    assert!(
        out.stderr.contains("again: symbolic link loop"),
        "{}",
        out.all()
    );
    assert!(!sb.remote.join("again").exists());

    let out = sb.pull(&["-L"]);
    out.assert_code(2);
    assert!(
        out.stderr.contains("-L/--copy-links is for push"),
        "{}",
        out.all()
    );
}

/// `--chmod` on a pull sets the local modes of what it wrote; libunftp has no SITE CHMOD, so
/// a push says so once and goes on.
#[test]
fn chmod_sets_modes_of_what_the_run_wrote() {
    use std::os::unix::fs::PermissionsExt;
    let sb = Sandbox::new();
    write(&sb.remote, "d/a.txt", b"a");
    write(&sb.remote, "b.txt", b"b");
    let out = sb.pull(&["--chmod", "D700,F600"]);
    out.assert_code(0);
    let mode = |p: &str| fs::metadata(sb.local.join(p)).unwrap().permissions().mode() & 0o7777;
    assert_eq!(
        (mode("d"), mode("d/a.txt"), mode("b.txt")),
        (0o700, 0o600, 0o600)
    );

    // Not touched again when nothing is written.
    fs::set_permissions(sb.local.join("b.txt"), fs::Permissions::from_mode(0o644)).unwrap();
    let out = sb.pull(&["--chmod", "F600"]);
    out.assert_code(0);
    assert_eq!(mode("b.txt"), 0o644);

    write(&sb.local, "c.txt", b"c");
    let out = sb.push(&["--chmod", "F644"]);
    out.assert_code(0);
    assert_eq!(
        out.stderr.matches("does not do SITE CHMOD").count(),
        1,
        "{}",
        out.all()
    );
    assert!(sb.remote.join("c.txt").exists());
}

/// Pages go live after their assets: every `*.html` is renamed into place only once every
/// other file is (and `--upload-last` changes what counts as a page).
#[test]
fn pages_are_renamed_into_place_after_their_assets() {
    use support::scripted::{Behaviour, Scripted};
    let srv = Scripted::start(Behaviour {
        epsv: true,
        feat: vec!["SIZE", "MDTM", "MFMT", "UTF8", "REST STREAM", "EPSV"],
        ..Behaviour::default()
    });
    let home = tempfile::tempdir().unwrap();
    let local = home.path().join("l");
    for i in 0..6 {
        write(
            &local,
            &format!("assets/s{i}.css"),
            &support::noise(20_000 + i * 1000, i as u64),
        );
    }
    // The pages are the biggest files: largest-first alone would send them first.
    write(&local, "index.html", &support::noise(90_000, 70));
    write(&local, "about/index.htm", b"<p>about</p>");
    write(&local, "feed.xml", &support::noise(80_000, 71));
    let l = local.to_str().unwrap();
    let url = srv.url();
    let out = support::run_in(
        home.path(),
        &[
            "push",
            "-j",
            "4",
            "--upload-last",
            "*.html",
            "--upload-last",
            "*.htm",
            "--upload-last",
            "*.xml",
            l,
            &url,
        ],
        &[],
    );
    out.assert_code(0);
    let log = srv.log();
    let renamed: Vec<(usize, &String)> = log
        .iter()
        .enumerate()
        .filter(|(_, c)| c.starts_with("RNTO "))
        .collect();
    assert_eq!(renamed.len(), 9, "{log:?}");
    let last_asset = renamed
        .iter()
        .filter(|(_, c)| c.ends_with(".css"))
        .map(|(i, _)| *i)
        .max();
    let first_page = renamed
        .iter()
        .filter(|(_, c)| !c.ends_with(".css"))
        .map(|(i, _)| *i)
        .min();
    assert!(last_asset < first_page, "{renamed:?}");
}

/// `--backup-dir` keeps what a push overwrote or deleted, under its path, and a later
/// `--delete` leaves it; `--suffix` alone backs up in place; a pull backs up locally.
#[test]
fn backups_keep_what_was_replaced_or_deleted() {
    let sb = Sandbox::new();
    write(&sb.local, "css/site.css", b"body { color: red }");
    write(&sb.local, "old.html", b"<p>old</p>");
    sb.push(&[]).assert_code(0);

    write(&sb.local, "css/site.css", b"body { color: blue; }");
    fs::remove_file(sb.local.join("old.html")).unwrap();
    let out = sb.push(&["--delete", "--backup-dir", "_old"]);
    out.assert_code(0);
    assert_eq!(
        fs::read(sb.remote.join("css/site.css")).unwrap(),
        b"body { color: blue; }"
    );
    assert_eq!(
        fs::read(sb.remote.join("_old/css/site.css")).unwrap(),
        b"body { color: red }"
    );
    assert_eq!(
        fs::read(sb.remote.join("_old/old.html")).unwrap(),
        b"<p>old</p>"
    );
    assert!(!sb.remote.join("old.html").exists());
    let names: Vec<_> = fs::read_dir(sb.remote.join("css")).unwrap().collect();
    assert_eq!(names.len(), 1, "no temporary file left: {names:?}");

    // The backup directory is not the tree's: a later --delete leaves it.
    let out = sb.push(&["--delete", "--backup-dir", "_old"]);
    out.assert_code(0);
    assert!(out.actions("delete").is_empty(), "{}", out.all());
    assert!(sb.remote.join("_old/old.html").exists());

    // A pull: the local copy goes to the local backup directory, which is not mirrored.
    let back = sb.dir.path().join("back");
    let b = back.to_str().unwrap().to_string();
    let url = sb.url();
    sb.run(&["pull", "--backup-dir", "prev", &url, &b])
        .assert_code(0);
    write(&sb.remote, "css/site.css", b"body { color: black; }");
    let out = sb.run(&["pull", "--delete", "--backup-dir", "prev", &url, &b]);
    out.assert_code(0);
    assert_eq!(
        fs::read(back.join("css/site.css")).unwrap(),
        b"body { color: black; }"
    );
    assert_eq!(
        fs::read(back.join("prev/css/site.css")).unwrap(),
        b"body { color: blue; }"
    );
    assert!(out.actions("delete").is_empty(), "{}", out.all());
}

#[test]
fn a_suffix_alone_backs_up_in_place() {
    let sb = Sandbox::new();
    write(&sb.local, "page.html", b"<p>version A</p>");
    sb.push(&[]).assert_code(0);
    write(&sb.local, "page.html", b"<p>version B!</p>");
    let out = sb.push(&["--delete", "--suffix", ".2026-12-02T031500"]);
    out.assert_code(0);
    assert_eq!(
        fs::read(sb.remote.join("page.html")).unwrap(),
        b"<p>version B!</p>"
    );
    assert_eq!(
        fs::read(sb.remote.join("page.html.2026-12-02T031500")).unwrap(),
        b"<p>version A</p>"
    );
    let out = sb.push(&["--delete", "--suffix", ".2026-12-02T031500"]);
    assert!(out.actions("delete").is_empty(), "kept: {}", out.all());
}

/// A scripted server with EPSV and SITE CHMOD holding a deployed site: six stylesheets at
/// their old content, plus `behaviour` on top.
fn deployed(behaviour: support::scripted::Behaviour) -> support::scripted::Scripted {
    let srv = support::scripted::Scripted::start(support::scripted::Behaviour {
        epsv: true,
        site_chmod: true,
        feat: vec!["SIZE", "MDTM", "MFMT", "UTF8", "REST STREAM", "EPSV"],
        ..behaviour
    });
    for i in 0..6 {
        srv.put_file(&format!("/css/s{i}.css"), b"old", ago(86_400));
    }
    srv
}

/// The new site: the six stylesheets changed, and one new file, the largest (sent first).
fn new_site(local: &std::path::Path) {
    for i in 0..6 {
        write(
            local,
            &format!("css/s{i}.css"),
            &support::noise(5_000 + i, i as u64),
        );
    }
    write(local, "new.js", &support::noise(90_000, 9));
}

/// A deploy's replaced files give way together: each is stored under its temporary name and
/// renamed into place only after the round's last upload, its `--chmod` mode set on the
/// temporary name first, so no old page ever meets a half-replaced site. A new file goes in
/// place at once.
#[test]
fn replaced_files_are_renamed_into_place_in_one_burst() {
    let srv = deployed(support::scripted::Behaviour::default());
    let home = tempfile::tempdir().unwrap();
    let local = home.path().join("l");
    new_site(&local);
    let l = local.to_str().unwrap();
    let url = srv.url();
    let args = ["push", "-j", "1", "--chmod", "F640", l, &url];
    let out = support::run_in(home.path(), &args, &[]);
    out.assert_code(0);
    let log = srv.log();
    let at = |pred: &dyn Fn(&str) -> bool| -> Vec<usize> {
        log.iter()
            .enumerate()
            .filter(|(_, c)| pred(c))
            .map(|(i, _)| i)
            .collect()
    };
    let stors = at(&|c| c.starts_with("STOR "));
    let replaced = at(&|c| c.starts_with("RNTO /css/"));
    let new = at(&|c| c == "RNTO /new.js");
    assert_eq!(
        (stors.len(), replaced.len(), new.len()),
        (7, 6, 1),
        "{log:?}"
    );
    assert!(
        new[0] < stors[1],
        "a new file goes in place at once: {log:?}"
    );
    assert!(
        replaced.iter().all(|r| r > stors.last().unwrap()),
        "replaced files wait for the last upload: {log:?}"
    );
    for i in 0..6 {
        let temp = format!("/css/.s{i}.css.ftpmirror-part");
        let rnfr = log
            .iter()
            .position(|c| *c == format!("RNFR {temp}"))
            .unwrap();
        assert_eq!(log[rnfr - 1], format!("SITE CHMOD 640 {temp}"), "{log:?}");
        let path = format!("/css/s{i}.css");
        let want = fs::read(local.join(&path[1..])).unwrap();
        assert_eq!(srv.file(&path).map(|f| f.0), Some(want), "{path}");
        assert_eq!(srv.mode(&path), Some(0o640), "{path}");
        assert_eq!(srv.file(&temp), None, "{temp} is gone");
    }
    assert_eq!(srv.mode("/new.js"), Some(0o640), "{log:?}");
    // Every mode went on a temporary name with its file's finish, none after the fact.
    let chmods = at(&|c| c.starts_with("SITE CHMOD "));
    assert_eq!(chmods.len(), 7, "{log:?}");
    assert!(
        chmods.iter().all(|&i| log[i].ends_with(".ftpmirror-part")),
        "{log:?}"
    );
    let new_rnfr = log
        .iter()
        .position(|c| c == "RNFR /.new.js.ftpmirror-part")
        .unwrap();
    assert_eq!(
        log[new_rnfr - 1],
        "SITE CHMOD 640 /.new.js.ftpmirror-part",
        "{log:?}"
    );

    // Straight to the final names, the mode goes with each upload's mtime.
    write(&local, "css/s0.css", &support::noise(6_000, 40));
    let args = ["push", "--no-temp-upload", "--chmod", "F600", l, &url];
    let out = support::run_in(home.path(), &args, &[]);
    out.assert_code(0);
    assert_eq!(srv.mode("/css/s0.css"), Some(0o600));
    let log = srv.log();
    let stor = log.iter().rposition(|c| c == "STOR /css/s0.css").unwrap();
    assert_eq!(
        log[stor + 1..].first().map(|c| c.starts_with("MFMT ")),
        Some(true)
    );
    assert_eq!(log[stor + 2], "SITE CHMOD 600 /css/s0.css", "{log:?}");

    // Over four sessions the burst is shared out, and the outcome the same.
    for i in 0..6 {
        write(
            &local,
            &format!("css/s{i}.css"),
            &support::noise(7_000 + i, 20 + i as u64),
        );
    }
    let args = ["push", "-j", "4", l, &url];
    let out = support::run_in(home.path(), &args, &[]);
    out.assert_code(0);
    for i in 0..6 {
        let path = format!("/css/s{i}.css");
        let want = fs::read(local.join(&path[1..])).unwrap();
        assert_eq!(srv.file(&path).map(|f| f.0), Some(want), "{path}");
    }
}

/// A server that refuses to rename over an existing file (IIS does): the burst's refusals
/// turn temporary names off for the run, and those files are sent again straight to their
/// names, their temporary files removed. One warning, exit 0, every byte in place.
#[test]
fn a_burst_refused_over_existing_files_sends_them_again_directly() {
    let srv = deployed(support::scripted::Behaviour {
        refuse_rename_over: true,
        ..support::scripted::Behaviour::default()
    });
    let home = tempfile::tempdir().unwrap();
    let local = home.path().join("l");
    new_site(&local);
    let out = Run::new(&srv).push(&local).args(["-j", "2"]).expect_code(0);
    assert_eq!(
        out.stderr.matches("refused to rename").count(),
        1,
        "{}",
        out.all()
    );
    for i in 0..6 {
        let path = format!("/css/s{i}.css");
        let want = fs::read(local.join(&path[1..])).unwrap();
        assert_eq!(srv.file(&path).map(|f| f.0), Some(want), "{path}");
        let temp = format!("/css/.s{i}.css.ftpmirror-part");
        assert_eq!(srv.file(&temp), None, "{temp} is gone");
    }
    assert!(srv.file("/new.js").is_some());
}

/// On a case-insensitive server (a Windows host, scripted), a case-only rename of a local
/// file deletes nothing: the upload lands on the file the server has, under its old spelling,
/// and the name the plan called extra is that same file. SYST tells `-v` what the server is.
#[test]
fn a_case_only_rename_on_a_case_insensitive_server_deletes_nothing() {
    let srv = support::scripted::Scripted::start(support::scripted::Behaviour {
        fold_case: true,
        syst: "Windows_NT",
        ..support::scripted::Behaviour::default()
    });
    srv.put_file("/img/Photo.JPG", b"old photo", ago(86_400));
    srv.put_file("/img/stale.png", b"stale", ago(86_400));
    let home = tempfile::tempdir().unwrap();
    let local = home.path().join("l");
    write(&local, "img/photo.jpg", b"the photo, renamed and edited");
    // The held delete is a failure.
    Run::new(&srv)
        .push(&local)
        .args(["--delete", "-v"])
        .expect_code(1)
        .expect_stdout("the server is case-insensitive: SYST says Windows_NT")
        .expect_stderr("not deleting img/Photo.JPG");
    let log = srv.log();
    let deleted: Vec<&String> = log.iter().filter(|c| c.starts_with("DELE ")).collect();
    assert_eq!(deleted, ["DELE /img/stale.png"], "{log:?}");
    assert_eq!(
        srv.file("/img/Photo.JPG").map(|f| f.0),
        Some(b"the photo, renamed and edited".to_vec())
    );

    // With --ignore-case the two names are one file: nothing to send, nothing held.
    Run::new(&srv)
        .push(&local)
        .args(["--delete", "--ignore-case"])
        .expect_code(0)
        .expect_uploaded(0)
        .expect_deleted(0);
}
