use super::*;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};
use support::scripted::{Behaviour, Scripted};
use support::{eventually, old};

#[test]
fn uploads_go_to_a_temporary_name_and_are_renamed_into_place() {
    let sb = Sandbox::new();
    write(&sb.local, "index.html", b"new");
    write(&sb.local, "css/site.css", b"css");
    let out = sb.push(&[]);
    out.assert_code(0);
    assert_same_tree(&sb.local, &sb.remote);
    let want = [
        "put /.index.html.ftpmirror-part",
        "rename /.index.html.ftpmirror-part /index.html",
        "put /css/.site.css.ftpmirror-part",
        "rename /css/.site.css.ftpmirror-part /css/site.css",
    ];
    assert!(
        eventually(|| want
            .iter()
            .all(|w| sb.server.events().iter().any(|e| e == w))),
        "{:?}",
        sb.server.events()
    );
    assert!(
        !sb.server.events().iter().any(|e| e == "put /index.html"),
        "{:?}",
        sb.server.events()
    );

    // --no-temp-upload stores straight to the final name.
    write(&sb.local, "direct.txt", b"d");
    let out = sb.push(&["--no-temp-upload"]);
    out.assert_code(0);
    assert!(eventually(|| sb
        .server
        .events()
        .iter()
        .any(|e| e == "put /direct.txt")));
}

/// Steady state over a plain connection in EPSV mode: per file EPSV and STOR in one
/// write, and its MFMT, RNFR and RNTO ahead of the next file's EPSV and STOR in the next
/// write (the last file's on their own): one write per upload once the server has shown,
/// on the first, that it takes that. No SIZE, CWD, MDTM or extra TYPE.
#[test]
fn uploads_cost_epsv_stor_mfmt_and_the_rename_and_nothing_else() {
    let srv = Scripted::start(Behaviour {
        epsv: true,
        mlsd: true,
        ..Behaviour::default()
    });
    let home = tempfile::tempdir().unwrap();
    let local = home.path().join("l");
    // A whole second: MFMT carries seconds.
    let when = SystemTime::UNIX_EPOCH
        + Duration::from_secs(
            old()
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap()
                .as_secs(),
        );
    for i in 0..6 {
        write(
            &local,
            &format!("d{}/f{i}.txt", i % 2),
            format!("file {i}").as_bytes(),
        );
        std::fs::File::options()
            .write(true)
            .open(local.join(format!("d{}/f{i}.txt", i % 2)))
            .unwrap()
            .set_modified(when)
            .unwrap();
    }
    let out = run_in(
        home.path(),
        &["push", "-j", "1", local.to_str().unwrap(), &srv.url()],
        &[],
    );
    out.assert_code(0);
    let count = |verb: &str| {
        srv.log()
            .iter()
            .filter(|l| l.split(' ').next() == Some(verb))
            .count()
    };
    for verb in ["STOR", "MFMT", "RNFR", "RNTO"] {
        assert_eq!(count(verb), 6, "{verb}: {:?}", srv.log());
    }
    // One listing of the (empty) root and six uploads; no port asked for ahead. Each
    // STOR came in the same write as its EPSV.
    assert_eq!(count("EPSV"), 7, "{:?}", srv.log());
    let (log, along) = (srv.log(), srv.pipelined());
    for (i, _) in log
        .iter()
        .enumerate()
        .filter(|(_, c)| c.starts_with("STOR"))
    {
        assert!(
            along.contains(&i) && log[i - 1] == "EPSV",
            "{log:?} {along:?}"
        );
    }
    // Each finish but the last came with the next upload: RNTO, EPSV and STOR in one
    // write, after its MFMT and RNFR.
    let carried: Vec<usize> = (0..log.len())
        .filter(|&i| log[i].starts_with("RNTO") && log.get(i + 1).is_some_and(|c| c == "EPSV"))
        .collect();
    assert_eq!(carried.len(), 5, "{log:?}");
    for &i in &carried {
        assert!(log[i - 2].starts_with("MFMT") && log[i - 1].starts_with("RNFR"));
        for j in i - 1..=i + 2 {
            assert!(along.contains(&j), "{j}: {log:?} {along:?}");
        }
    }
    assert!(!out.all().contains("batching off"), "{}", out.all());
    for verb in ["SIZE", "CWD", "MDTM", "PASV", "LIST", "SITE"] {
        assert_eq!(count(verb), 0, "{verb}: {:?}", srv.log());
    }
    assert_eq!(count("TYPE"), 1, "{:?}", srv.log());
    for i in 0..6 {
        let (data, mtime) = srv.file(&format!("/d{}/f{i}.txt", i % 2)).unwrap();
        assert_eq!(data, format!("file {i}").as_bytes());
        // `when`, not a fresh `old()`: that one is read after the run, a second later
        // at times (which was this check's old 1 s flake).
        assert_eq!(mtime, when, "mtime of f{i}");
    }
}

/// A server that refuses a batched command (here RNFR): the step is redone at once one
/// command at a time, which finds the refusal and uploads directly; no retry is spent.
#[test]
fn a_refusal_in_a_batch_turns_that_batching_off_without_losing_a_file() {
    let srv = Scripted::start(Behaviour {
        epsv: true,
        mlsd: true,
        refuse_rename: true,
        ..Behaviour::default()
    });
    let out = push_numbered(&srv, 3);
    assert!(
        out.all()
            .contains("batching off for commands after a transfer"),
        "{}",
        out.all()
    );
    assert_eq!(
        out.stderr.matches("refused to rename").count(),
        1,
        "{}",
        out.all()
    );
    for i in 0..3 {
        assert!(srv.file(&format!("/.f{i}.txt.ftpmirror-part")).is_none());
    }
}

/// Pulls the server's tree into a new directory with `-j 1 --retries 0`.
fn pull_once(srv: &Scripted) -> (tempfile::TempDir, std::path::PathBuf, Outcome) {
    let home = tempfile::tempdir().unwrap();
    let local = home.path().join("l");
    let l = local.to_str().unwrap();
    let args = ["pull", "-j", "1", "--retries", "0", &srv.url(), l];
    let out = run_in(home.path(), &args, &[]);
    (home, local, out)
}

/// Pushes `n` files `f{i}.txt` ("file {i}") with `-v -j 1 --retries 0`; checks the run
/// succeeded and each file arrived whole.
fn push_numbered(srv: &Scripted, n: usize) -> Outcome {
    let home = tempfile::tempdir().unwrap();
    let local = home.path().join("l");
    for i in 0..n {
        write(&local, &format!("f{i}.txt"), format!("file {i}").as_bytes());
    }
    let (l, url) = (local.to_str().unwrap(), srv.url());
    let args = ["push", "-v", "-j", "1", "--retries", "0", l, &url];
    let out = run_in(home.path(), &args, &[]);
    out.assert_code(0);
    for i in 0..n {
        assert_eq!(
            srv.file(&format!("/f{i}.txt")).unwrap().0,
            format!("file {i}").as_bytes()
        );
    }
    out
}

/// Listings and downloads send EPSV together with their MLSD or RETR: one round trip
/// each, nothing else per file. A RETR refused after its 229 (the file went away) fails
/// that file alone; the session goes on in step.
#[test]
fn listings_and_downloads_send_epsv_with_the_command_and_nothing_else() {
    let mut feat = Behaviour::default().feat;
    feat.push("EPSV");
    let srv = Scripted::start(Behaviour {
        epsv: true,
        mlsd: true,
        feat,
        extra_lines: vec!["type=file;size=5;modify=20200101000000; ghost.txt".into()],
        ..Behaviour::default()
    });
    let when = SystemTime::UNIX_EPOCH + Duration::from_secs(1_600_000_000);
    let files = [
        ("/d1/a.txt", "alpha"),
        ("/d1/b.txt", "bravo"),
        ("/d2/c.txt", "c"),
    ];
    for (path, body) in files {
        srv.put_file(path, body.as_bytes(), when);
    }
    let (_home, local, out) = pull_once(&srv);
    out.assert_code(1);
    assert!(out.stderr.contains("RETR /ghost.txt"), "{}", out.all());
    assert!(out.stderr.contains("550"), "{}", out.all());
    for (path, body) in files {
        let p = local.join(path.trim_start_matches('/'));
        assert_eq!(fs::read(&p).unwrap(), body.as_bytes(), "{path}");
        assert_eq!(
            fs::metadata(&p).unwrap().modified().unwrap(),
            when,
            "{path}"
        );
    }
    let log = srv.log();
    let data: Vec<usize> = (0..log.len())
        .filter(|&i| log[i].starts_with("MLSD") || log[i].starts_with("RETR"))
        .collect();
    // Three listings (/, /d1, /d2) and four RETRs, the ghost's included.
    assert_eq!(data.len(), 7, "{log:?}");
    let along = srv.pipelined();
    for &i in &data {
        assert_eq!(log[i - 1], "EPSV", "{log:?}");
        assert!(along.contains(&i), "{} not sent with its EPSV", log[i]);
    }
    // /d2's listing went out ahead, in the write that listed /d1.
    let d2 = log.iter().position(|c| c == "MLSD /d2").unwrap();
    assert!(along.contains(&(d2 - 1)), "{log:?} {along:?}");
    let count = |verb: &str| log.iter().filter(|l| l.starts_with(verb)).count();
    assert_eq!(count("EPSV"), 7, "{log:?}");
    for verb in ["PASV", "SIZE", "MDTM", "CWD", "LIST", "TYPE A"] {
        assert_eq!(count(verb), 0, "{verb}: {log:?}");
    }
}

/// Without MLSD (vsftpd), a listing is CWD, EPSV and LIST in one write, and a download
/// MDTM (LIST has minutes only), EPSV and RETR. A directory
/// whose CWD is refused (gone since its parent was listed) is reported unreadable; the
/// LIST that went along, which ran in the previous directory, is never taken for it.
#[test]
fn list_listings_send_cwd_epsv_and_list_in_one_write() {
    let mut feat = Behaviour::default().feat;
    feat.push("EPSV");
    let srv = Scripted::start(Behaviour {
        epsv: true,
        feat,
        extra_lines: vec!["drwxr-xr-x 2 u g 4096 Jan 01 2020 ghostdir".into()],
        ..Behaviour::default()
    });
    let when = SystemTime::UNIX_EPOCH + Duration::from_secs(1_600_000_000);
    srv.put_file("/top.txt", b"top", when);
    srv.put_file("/d1/a.txt", b"alpha", when);
    srv.put_file("/d1/d2/b.txt", b"bravo", when);
    let (_home, local, out) = pull_once(&srv);
    assert_ne!(out.code, 0, "{}", out.all());
    assert!(out.stderr.contains("ghostdir"), "{}", out.all());
    for (path, body) in [
        ("top.txt", "top"),
        ("d1/a.txt", "alpha"),
        ("d1/d2/b.txt", "bravo"),
    ] {
        assert_eq!(fs::read(local.join(path)).unwrap(), body.as_bytes());
        // To the second, from the MDTM that went along with the RETR.
        let got = fs::metadata(local.join(path)).unwrap().modified().unwrap();
        assert_eq!(got, when, "{path}");
    }
    // Nothing of another directory's listing ended up under the ghost.
    assert!(
        fs::read_dir(local.join("ghostdir")).map_or(true, |mut d| d.next().is_none()),
        "{}",
        out.all()
    );
    // No server session is left waiting for a data connection that will never come.
    assert!(
        srv.all_sessions_end_within(Duration::from_secs(5)),
        "{}",
        out.all()
    );
    let log = srv.log();
    let along = srv.pipelined();
    for dir in ["/d1", "/d1/d2"] {
        let i = log.iter().position(|c| *c == format!("CWD {dir}")).unwrap();
        assert_eq!(log[i + 1], "EPSV", "{log:?}");
        assert!(log[i + 2].starts_with("LIST"), "{log:?}");
        assert!(
            along.contains(&(i + 1)) && along.contains(&(i + 2)),
            "{log:?}"
        );
    }
    for (i, c) in log
        .iter()
        .enumerate()
        .filter(|(_, c)| c.starts_with("RETR"))
    {
        let path = c.trim_start_matches("RETR ");
        assert_eq!(log[i - 2], format!("MDTM {path}"), "{log:?}");
        assert_eq!(log[i - 1], "EPSV", "{log:?}");
        assert!(along.contains(&(i - 1)) && along.contains(&i), "{log:?}");
    }
}

/// A 425 to EPSV (pure-ftpd's passive port still in TIME_WAIT) is asked again at once,
/// up to five tries in all, on the listing, download and upload paths alike: no retry spent.
#[test]
fn a_busy_passive_port_is_asked_for_again_at_once() {
    let srv = Scripted::start(Behaviour {
        epsv: true,
        mlsd: true,
        ..Behaviour::default()
    });
    let mtime = SystemTime::UNIX_EPOCH + Duration::from_secs(1_600_000_000);
    srv.put_file("/down.txt", b"from the server", mtime);
    let home = tempfile::tempdir().unwrap();
    let local = home.path().join("l");
    write(&local, "up.txt", b"from here");
    let url = srv.url();
    let args = |way: &'static str| -> Vec<String> {
        let (from, to) = match way {
            "pull" => (url.clone(), local.display().to_string()),
            _ => (local.display().to_string(), url.clone()),
        };
        [way, "-j", "1", "--retries", "0", "-v"]
            .iter()
            .map(|s| s.to_string())
            .chain([from, to])
            .collect()
    };
    // The listing's EPSV (through suppaftp), then the upload's (our own path).
    for (way, skip) in [("pull", 0), ("push", 0), ("push", 1)] {
        srv.behaviour().busy_epsv_skip.store(skip, Ordering::SeqCst);
        srv.behaviour().busy_epsv.store(2, Ordering::SeqCst);
        if skip == 1 {
            write(&local, "up.txt", b"from here, again");
        }
        let a = args(way);
        let out = run_in(
            home.path(),
            &a.iter().map(String::as_str).collect::<Vec<_>>(),
            &[],
        );
        assert_eq!(out.code, 0, "{way}: {}", out.all());
        assert!(!out.all().contains("retry"), "{way}: {}", out.all());
        assert_eq!(srv.behaviour().busy_epsv.load(Ordering::SeqCst), 0);
    }
    assert_eq!(
        std::fs::read(local.join("down.txt")).unwrap(),
        b"from the server"
    );
    assert_eq!(srv.file("/up.txt").unwrap().0, b"from here, again");
    // Five in a row is a real failure, reported as one.
    srv.behaviour().busy_epsv.store(5, Ordering::SeqCst);
    write(&local, "up2.txt", b"more");
    let a = args("push");
    let out = run_in(
        home.path(),
        &a.iter().map(String::as_str).collect::<Vec<_>>(),
        &[],
    );
    assert_ne!(out.code, 0, "{}", out.all());
    assert!(out.stderr.contains("425"), "{}", out.all());
}

/// pure-ftpd answers EPSV with 425 when the passive port it picked is still in use; here
/// every EPSV right after an upload's rename. The next upload's EPSV and STOR, sent in
/// one write, are both refused (no port), and the pair is sent again at once: no
/// failure, no retry, and batching stays on.
#[test]
fn a_busy_epsv_before_a_batched_stor_is_asked_again_and_batching_stays_on() {
    let mut feat = Behaviour::default().feat;
    feat.push("EPSV");
    let srv = Scripted::start(Behaviour {
        epsv: true,
        mlsd: true,
        feat,
        busy_epsv_after_rename: true,
        ..Behaviour::default()
    });
    let out = push_numbered(&srv, 4);
    assert!(!out.all().contains("batching off"), "{}", out.all());
    assert!(!out.all().contains("retry"), "{}", out.all());
    let log = srv.log();
    let count = |verb: &str| log.iter().filter(|l| l.starts_with(verb)).count();
    assert_eq!(count("RNTO"), 4, "{log:?}");
    // After each rename but the last: EPSV and STOR refused, then the pair again.
    let asked_again = log
        .windows(4)
        .filter(|w| {
            w[0].starts_with("RNTO") && w[1] == "EPSV" && w[2].starts_with("STOR") && w[3] == "EPSV"
        })
        .count();
    assert_eq!(asked_again, 3, "{log:?}");
    let along = srv.pipelined();
    let stors: Vec<usize> = (0..log.len())
        .filter(|&i| log[i].starts_with("STOR"))
        .collect();
    assert!(stors.iter().all(|i| along.contains(i)), "{log:?} {along:?}");
}

#[test]
fn a_refused_rename_is_detected_once_and_uploads_go_direct() {
    let srv = Scripted::start(Behaviour {
        refuse_rename: true,
        ..Behaviour::default()
    });
    let home = tempfile::tempdir().unwrap();
    let local = home.path().join("l");
    for i in 0..3 {
        write(&local, &format!("f{i}.txt"), format!("file {i}").as_bytes());
    }
    let out = run_in(
        home.path(),
        &["push", "-j", "1", local.to_str().unwrap(), &srv.url()],
        &[],
    );
    out.assert_code(0);
    for i in 0..3 {
        assert_eq!(
            srv.file(&format!("/f{i}.txt")).unwrap().0,
            format!("file {i}").as_bytes()
        );
        assert!(
            srv.file(&format!("/.f{i}.txt.ftpmirror-part")).is_none(),
            "temporary file left"
        );
    }
    assert_eq!(
        out.stderr.matches("refused to rename").count(),
        1,
        "{}",
        out.all()
    );
    // Once in a batch with the mtime (refused: the upload is redone one command at a
    // time), once on its own (refused: uploads go direct), then never again.
    assert_eq!(
        srv.log().iter().filter(|c| c.starts_with("RNFR")).count(),
        2,
        "{:?}",
        srv.log()
    );
}

#[test]
fn a_download_cut_short_with_226_is_retried_and_never_replaces_the_old_file() {
    let content = noise(100_000, 9);
    let srv = Scripted::start(Behaviour::default());
    srv.put_file("data.bin", &content, old());
    let home = tempfile::tempdir().unwrap();
    let local = home.path().join("l");
    write(&local, "data.bin", b"old local version");

    // No fault armed yet: a plain pull works; then the old file goes back for the faults.
    Run::new(&srv)
        .home(home.path())
        .pull(&local)
        .args(["--retries", "0"])
        .expect_code(0);
    write(&local, "data.bin", b"old local version");

    srv.behaviour().cut_retr.store(1, Ordering::SeqCst);
    let out = Run::new(&srv)
        .home(home.path())
        .pull(&local)
        .args(["--retries", "0"])
        .expect_code(1);
    assert!(
        out.stderr
            .contains("returned 50000 bytes but the listing said 100000"),
        "{}",
        out.all()
    );
    assert_eq!(
        fs::read(local.join("data.bin")).unwrap(),
        b"old local version"
    );
    assert!(!local.join(".data.bin.ftpmirror-part").exists());

    srv.behaviour().cut_retr.store(1, Ordering::SeqCst);
    let out = Run::new(&srv)
        .home(home.path())
        .pull(&local)
        .args(["--retry-delay", "10ms"])
        .expect_code(0);
    assert!(out.stderr.contains("retry 1/3"), "{}", out.all());
    assert_eq!(fs::read(local.join("data.bin")).unwrap(), content);
}

#[test]
fn an_upload_dropped_mid_stor_never_touches_the_final_file() {
    let srv = Scripted::start(Behaviour::default());
    srv.put_file("page.html", b"the live page", old());
    let home = tempfile::tempdir().unwrap();
    let local = home.path().join("l");
    write(&local, "page.html", &noise(300_000, 4));

    srv.behaviour().cut_stor.store(1, Ordering::SeqCst);
    Run::new(&srv)
        .home(home.path())
        .push(&local)
        .args(["--retries", "0"])
        .expect_code(1);
    assert_eq!(srv.file("/page.html").unwrap().0, b"the live page");

    srv.behaviour().cut_stor.store(1, Ordering::SeqCst);
    Run::new(&srv)
        .home(home.path())
        .push(&local)
        .args(["--retry-delay", "10ms"])
        .expect_code(0);
    assert_eq!(srv.file("/page.html").unwrap().0, noise(300_000, 4));
    let log = srv.log();
    assert!(
        !log.iter().any(|c| c == "STOR /page.html"),
        "never stored under the final name: {log:?}"
    );
    assert!(log.iter().any(|c| c == "RNTO /page.html"), "{log:?}");
}

#[test]
fn a_listing_reset_half_way_deletes_nothing() {
    let srv = Scripted::start(Behaviour::default());
    for i in 0..20 {
        srv.put_file(&format!("file-{i:02}.txt"), b"x", old());
    }
    let home = tempfile::tempdir().unwrap();
    let local = home.path().join("l");
    for i in 0..20 {
        write(&local, &format!("file-{i:02}.txt"), b"x");
    }
    write(&local, "local-extra.txt", b"keep");

    srv.behaviour().reset_list.store(1, Ordering::SeqCst);
    let out = Run::new(&srv)
        .home(home.path())
        .pull(&local)
        .args(["--delete", "--retries", "0"])
        .expect_code(1);
    assert!(out.stderr.contains("cannot list /"), "{}", out.all());
    assert_eq!(snapshot(&local).len(), 21, "nothing deleted");

    srv.behaviour().reset_list.store(1, Ordering::SeqCst);
    Run::new(&srv)
        .home(home.path())
        .pull(&local)
        .args(["--delete", "--retry-delay", "10ms"])
        .expect_code(0);
    assert!(
        !local.join("local-extra.txt").exists(),
        "deleted once the listing was whole"
    );
}

/// A server that batching and listings ahead apply to (MLSD, EPSV in FEAT), holding
/// /d1, /d2 and /d3 with one file each: with `-j 1`, /d2 is sent ahead with /d1.
fn three_dirs_batching() -> Scripted {
    three_dirs(Behaviour::default())
}

/// [`three_dirs_batching`] with the server's other behaviour from `b`.
fn three_dirs(b: Behaviour) -> Scripted {
    let mut feat = b.feat.clone();
    feat.push("EPSV");
    let srv = Scripted::start(Behaviour {
        epsv: true,
        mlsd: true,
        feat,
        ..b
    });
    for d in ["d1", "d2", "d3"] {
        srv.put_file(&format!("/{d}/f.txt"), d.as_bytes(), old());
    }
    srv
}

/// A server that refuses FEAT (old BSD-style daemons) but has EPSV, MDTM and LIST in
/// its local time: MLSD and MDTM are probed once, on the control connection; the time
/// zone is found from MDTM; each download gets its mtime to the second; EPSV, seen
/// working with the first listing, then goes with its command.
#[test]
fn without_feat_mdtm_and_epsv_are_found_and_used() {
    let srv = Scripted::start(Behaviour {
        no_feat: true,
        epsv: true,
        list_offset: 2 * 3600,
        ..Behaviour::default()
    });
    let t = |s: u64| SystemTime::UNIX_EPOCH + Duration::from_secs(s);
    let recent = SystemTime::now() - Duration::from_secs(86_400);
    let recent = t(recent
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs());
    srv.put_file("/a.txt", b"alpha", recent);
    srv.put_file("/d/b.txt", b"beta", t(1_600_000_123));
    let home = tempfile::tempdir().unwrap();
    let local = home.path().join("l");
    let (l, url) = (local.to_str().unwrap(), srv.url());
    let out = run_in(home.path(), &["pull", "-v", "-j", "1", &url, l], &[]);
    out.assert_code(0);
    assert!(
        out.stdout
            .contains("FEAT: none (refused); probed: MLSD no, MDTM yes; listing with LIST"),
        "{}",
        out.all()
    );
    assert!(
        out.stdout
            .contains("LIST times are UTC+02:00 (detected from the MDTM"),
        "{}",
        out.all()
    );
    assert!(out.stdout.contains("EPSV works here"), "{}", out.all());
    assert_eq!(mtime(&local, "a.txt"), recent, "{}", out.all());
    assert_eq!(mtime(&local, "d/b.txt"), t(1_600_000_123));
    let log = srv.log();
    assert!(!log.iter().any(|c| c == "PASV"), "{log:?}");
    assert!(log.iter().any(|c| c == "MDTM /d/b.txt"), "{log:?}");
    // After the first listing, EPSV goes in one write with what it is for.
    let along = srv.pipelined();
    assert!(
        log.iter()
            .enumerate()
            .any(|(i, c)| c.starts_with("RETR") && along.contains(&i)),
        "{log:?} {along:?}"
    );
    let again = run_in(home.path(), &["pull", "-j", "1", &url, l], &[]);
    again.assert_code(0);
    assert!(again.actions("download").is_empty(), "{}", again.all());
}

/// No FEAT, but MLST answers: MLSD is used, exact sizes and UTC times, no MDTM asked.
#[test]
fn without_feat_a_server_with_mlst_is_listed_with_mlsd() {
    let srv = Scripted::start(Behaviour {
        no_feat: true,
        epsv: true,
        mlsd: true,
        ..Behaviour::default()
    });
    let when = SystemTime::UNIX_EPOCH + Duration::from_secs(1_600_000_123);
    srv.put_file("/d/b.txt", b"beta", when);
    let home = tempfile::tempdir().unwrap();
    let local = home.path().join("l");
    let (l, url) = (local.to_str().unwrap(), srv.url());
    let out = run_in(home.path(), &["pull", "-v", &url, l], &[]);
    out.assert_code(0);
    assert!(
        out.stdout.contains("probed: MLSD yes; listing with MLSD"),
        "{}",
        out.all()
    );
    assert_eq!(mtime(&local, "d/b.txt"), when);
    let log = srv.log();
    assert!(log.iter().any(|c| c == "MLSD /d"), "{log:?}");
    assert!(!log.iter().any(|c| c.starts_with("MDTM")), "{log:?}");
}

/// Pulls an event-driven server's three directories twice, then pushes them back with
/// nothing to do: every run exits 0 with no retry, and each says why listings sent
/// ahead went off (one of `why`).
fn event_driven_runs_clean(srv: &Scripted, why: &[&str]) {
    let home = tempfile::tempdir().unwrap();
    let local = home.path().join("l");
    let l = local.to_str().unwrap();
    let url = srv.url();
    for (i, args) in [
        ["pull", "-j", "1", "-v", &url, l],
        ["pull", "-j", "1", "-v", &url, l],
        ["push", "-j", "1", "-v", l, &url],
    ]
    .iter()
    .enumerate()
    {
        let out = run_in(home.path(), args, &[]);
        assert_eq!(out.code, 0, "run {i}: {}", out.all());
        assert!(!out.stderr.contains("retry"), "run {i}: {}", out.all());
        assert!(
            out.stdout
                .lines()
                .any(|n| n.contains("batching off for listings sent ahead")
                    && why.iter().any(|w| n.contains(w))),
            "run {i}: {}",
            out.all()
        );
        if i > 0 {
            assert!(out.actions("download").is_empty(), "{}", out.all());
            assert!(out.actions("upload").is_empty(), "{}", out.all());
        }
        for d in ["d1", "d2", "d3"] {
            assert_eq!(fs::read(local.join(d).join("f.txt")).unwrap(), d.as_bytes());
        }
    }
    // Every listing that went ahead was let go: no server session is left waiting.
    assert!(srv.all_sessions_end_within(Duration::from_secs(5)));
}

/// pyftpdlib's way: an EPSV behind a data command that has no data connection yet
/// closes that command's port. The trial of listings sent ahead meets a refused data
/// connection, is redone at once without it, and no run fails.
#[test]
fn a_new_epsv_that_closes_the_pending_port_turns_listings_ahead_off() {
    let srv = three_dirs(Behaviour {
        new_epsv_closes_port: true,
        ..Behaviour::default()
    });
    // Refused, or taken in the backlog just before the port closed, when the 229 of
    // the EPSV behind comes where the 150 was due.
    event_driven_runs_clean(&srv, &["the data connection failed", "came out of order"]);
}

/// pyftpdlib's `FTPServer`: an EPSV arriving while a listing is being sent aborts it
/// with 426, part of it sent. Never taken for a whole listing; redone, not retried.
#[test]
fn a_new_epsv_that_aborts_a_running_listing_turns_listings_ahead_off() {
    let srv = three_dirs(Behaviour {
        new_epsv_aborts_listing: true,
        data_delay: Duration::from_millis(5),
        ..Behaviour::default()
    });
    event_driven_runs_clean(&srv, &["426 Transfer aborted"]);
}

/// A server that reads nothing after a 229 until the announced data connection arrives,
/// and answers late (550) when it does not: every EPSV is followed by the data command
/// it was for, so uploads, then deletes on the same session, run clean.
#[test]
fn a_server_that_waits_for_the_announced_connection_never_waits_in_vain() {
    let srv = three_dirs(Behaviour {
        epsv_waits: Some(Duration::from_secs(2)),
        ..Behaviour::default()
    });
    srv.put_file("/stale.txt", b"old", old());
    let home = tempfile::tempdir().unwrap();
    let local = home.path().join("l");
    for d in ["d1", "d2", "d3"] {
        write(&local, &format!("{d}/f.txt"), d.as_bytes());
    }
    write(&local, "new1.txt", b"one");
    write(&local, "new2.txt", b"two");
    let (l, url) = (local.to_str().unwrap(), srv.url());
    let out = run_in(home.path(), &["push", "-j", "1", "--delete", l, &url], &[]);
    out.assert_code(0);
    assert_eq!(out.actions("delete"), ["stale.txt"], "{}", out.all());
    assert!(srv.file("/stale.txt").is_none());
    assert_eq!(srv.file("/new1.txt").unwrap().0, b"one");
    assert_eq!(srv.file("/new2.txt").unwrap().0, b"two");
    assert!(!out.all().contains("550"), "{}", out.all());
    let log = srv.log();
    let data = ["MLSD", "LIST", "RETR", "STOR"];
    for (i, _) in log.iter().enumerate().filter(|(_, c)| *c == "EPSV") {
        let next = log.get(i + 1).map(|n| n.split(' ').next().unwrap_or(""));
        assert!(
            next.is_some_and(|n| data.contains(&n)),
            "EPSV at {i} is followed by {next:?}: {log:?}"
        );
    }
    let again = run_in(home.path(), &["pull", "-j", "1", &url, l], &[]);
    again.assert_code(0);
    assert!(again.actions("download").is_empty(), "{}", again.all());
}

/// A listing whose next one was sent ahead (the run's trial of listings sent ahead)
/// breaks half-way: an anomaly. The session, with replies still to come, is not reused;
/// both directories are listed again at once on a new one, without a retry, and no
/// listing goes ahead for the rest of the run.
#[test]
fn a_listing_with_one_sent_ahead_breaks_and_both_are_listed_again() {
    let srv = three_dirs_batching();
    // The root is listed whole; /d1 (with /d2 sent ahead) breaks.
    srv.behaviour().reset_list_skip.store(1, Ordering::SeqCst);
    srv.behaviour().reset_list.store(1, Ordering::SeqCst);
    let home = tempfile::tempdir().unwrap();
    let local = home.path().join("l");
    let l = local.to_str().unwrap();
    let args = ["pull", "-j", "1", "-v", &srv.url(), l];
    let out = run_in(home.path(), &args, &[]);
    out.assert_code(0);
    assert!(!out.stderr.contains("retry"), "{}", out.all());
    let note = out
        .stdout
        .lines()
        .find(|l| l.contains("batching off for listings sent ahead"));
    // Reset while it was being read, or already as it was made.
    assert!(
        note.is_some_and(|n| n.contains("data connection") && n.contains("reset")),
        "{}",
        out.all()
    );
    for d in ["d1", "d2", "d3"] {
        assert_eq!(fs::read(local.join(d).join("f.txt")).unwrap(), d.as_bytes());
    }
    // No server session is left waiting for a data connection that will never come.
    assert!(
        srv.all_sessions_end_within(Duration::from_secs(5)),
        "{} {:?}",
        out.all(),
        srv.log()
    );
    let log = srv.log();
    let listed = |dir: &str| log.iter().filter(|c| **c == format!("MLSD {dir}")).count();
    assert_eq!(listed("/d1"), 2, "{log:?}");
    assert!(log.iter().filter(|c| c.starts_with("USER")).count() >= 2);
}

/// A busy passive port (425) for a listing with the next one queued behind it: asked
/// again there, the replies would come out of order, so it is listed again at once on
/// a new connection; no retry is spent and nothing is missed.
#[test]
fn a_busy_port_with_a_listing_queued_behind_is_redone_on_a_new_connection() {
    let srv = three_dirs_batching();
    // The root's EPSV goes through; /d1's (with /d2 queued behind) is busy.
    srv.behaviour().busy_epsv_skip.store(1, Ordering::SeqCst);
    srv.behaviour().busy_epsv.store(1, Ordering::SeqCst);
    let (_home, local, out) = pull_once(&srv);
    out.assert_code(0);
    assert!(!out.stderr.contains("retry"), "{}", out.all());
    for d in ["d1", "d2", "d3"] {
        assert_eq!(fs::read(local.join(d).join("f.txt")).unwrap(), d.as_bytes());
    }
    // No server session is left waiting for a data connection that will never come.
    assert!(
        srv.all_sessions_end_within(Duration::from_secs(5)),
        "{}",
        out.all()
    );
    let log = srv.log();
    assert_eq!(
        log.iter().filter(|c| c.starts_with("USER")).count(),
        2,
        "{log:?}"
    );
}

#[test]
fn too_many_connections_shrinks_the_pool_and_finishes() {
    let srv = Scripted::start(Behaviour {
        max_sessions: Some(2),
        ..Behaviour::default()
    });
    for i in 0..12 {
        srv.put_file(
            &format!("d{}/f{i}.bin", i % 3),
            &noise(2000 + i, i as u64),
            old(),
        );
    }
    let home = tempfile::tempdir().unwrap();
    let local = home.path().join("l");
    let out = run_in(
        home.path(),
        &[
            "pull",
            "-j",
            "4",
            "--retry-delay",
            "10ms",
            &srv.url(),
            local.to_str().unwrap(),
        ],
        &[],
    );
    out.assert_code(0);
    assert_eq!(out.actions("download").len(), 12, "{}", out.all());
    assert_eq!(
        out.stderr.matches("refused another session").count(),
        1,
        "{}",
        out.all()
    );
    assert!(out.stderr.contains("421"), "{}", out.all());
    assert_eq!(fs::read(local.join("d2/f11.bin")).unwrap(), noise(2011, 11));
}

/// FEAT is asked once a run: the sessions after the first take its answer (it only informs,
/// RFC 2389), and each still sends what sets its own state (TYPE I, OPTS UTF8 ON), in the
/// same write as PASS. The other sessions log in while the first lists the root, and each
/// says QUIT at the end.
#[test]
fn feat_is_asked_once_a_run_not_once_a_session() {
    let srv = Scripted::start(Behaviour {
        epsv: true,
        feat: vec!["SIZE", "MDTM", "MFMT", "UTF8", "REST STREAM", "EPSV"],
        data_delay: Duration::from_millis(5),
        hold_root_for_logins: 4,
        ..Behaviour::default()
    });
    let home = tempfile::tempdir().unwrap();
    let local = home.path().join("l");
    for i in 0..16 {
        write(
            &local,
            &format!("d{}/f{i}.bin", i % 4),
            &noise(40_000, i as u64),
        );
    }
    Run::new(&srv)
        .push(&local)
        .args(["-j", "4"])
        .expect_code(0)
        .expect_uploaded(16);
    let log = srv.log();
    let count = |c: &str| log.iter().filter(|l| l.as_str() == c).count();
    let sessions = count("TYPE I");
    assert!(sessions > 1, "several sessions: {log:?}");
    assert_eq!(count("FEAT"), 1, "{log:?}");
    assert_eq!(count("OPTS UTF8 ON"), sessions, "{log:?}");
    assert_eq!(srv.file("/d3/f15.bin").unwrap().0, noise(40_000, 15));
    assert_eq!(
        srv.logins_at_root(),
        Some(4),
        "all four logged in during the root's listing"
    );
    assert_eq!(count("QUIT"), 4, "{log:?}");
    // Each session's TYPE I came in the same write as the command before it in that
    // session, its PASS.
    let along = srv.pipelined();
    let types: Vec<usize> = (0..log.len()).filter(|&i| log[i] == "TYPE I").collect();
    assert!(
        types.iter().all(|i| along.contains(i)),
        "{types:?} {along:?}"
    );
}

/// A server that drops what came with PASS: the replies never come, so batching after the
/// login goes off for the run and the session is set up again, one command at a time.
#[test]
fn commands_lost_behind_pass_are_sent_again_one_at_a_time() {
    let srv = Scripted::start(Behaviour {
        epsv: true,
        feat: vec!["SIZE", "MDTM", "MFMT", "UTF8", "EPSV"],
        forget_after_pass: true,
        ..Behaviour::default()
    });
    let home = tempfile::tempdir().unwrap();
    let local = home.path().join("l");
    for i in 0..4 {
        write(&local, &format!("d{i}/f{i}.bin"), &noise(1000, i as u64));
    }
    Run::new(&srv)
        .push(&local)
        .args(["-j", "2", "-v", "--timeout", "2"])
        .expect_code(0)
        .expect_stdout("batching off for commands after a transfer")
        .expect_stdout("TYPE I, FEAT sent with PASS");
    for i in 0..4 {
        let path = format!("/d{i}/f{i}.bin");
        assert_eq!(srv.file(&path).unwrap().0, noise(1000, i as u64));
    }
    // The dropped commands never reached the log: what is there was sent alone.
    let log = srv.log();
    let count = |c: &str| log.iter().filter(|l| l.as_str() == c).count();
    assert_eq!((count("FEAT"), count("TYPE I")), (1, 2), "{log:?}");
    assert_eq!(count("PASS pw"), 3, "one session set up again: {log:?}");
}
