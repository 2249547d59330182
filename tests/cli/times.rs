//! mtimes to the second on a vsftpd-like server: LIST only (minute precision, local time two
//! hours ahead of UTC), no MFMT, MDTM for reading and, with `mdtm_write`, for setting.

use super::*;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use support::scripted::{Behaviour, Scripted};

fn vsftpd_like(mdtm_write: bool) -> Scripted {
    Scripted::start(Behaviour {
        feat: vec!["SIZE", "MDTM", "UTF8", "REST STREAM"],
        mdtm_write,
        list_offset: 7200,
        ..Behaviour::default()
    })
}

fn secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).unwrap().as_secs()
}

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

#[test]
fn pull_keeps_the_second_and_finds_the_list_time_zone() {
    let srv = vsftpd_like(false);
    // Recent (LIST shows a time of day, not a year), and the seconds matter.
    let now = secs(SystemTime::now());
    let when = at(now - 3600 - now % 60 + 47);
    srv.put_file("a.txt", b"version 1", when);
    let home = tempfile::tempdir().unwrap();
    let local = home.path().join("l");
    let out = Run::new(&srv)
        .home(home.path())
        .pull(&local)
        .args(["-v"])
        .expect_code(0);
    assert!(
        out.stdout
            .contains("LIST times are UTC+02:00 (detected from the MDTM of a.txt)"),
        "{}",
        out.all()
    );
    assert_eq!(
        secs(mtime(&local, "a.txt")),
        secs(when),
        "to the second, from MDTM"
    );

    let again = Run::new(&srv).home(home.path()).pull(&local).run();
    assert!(
        again.actions("download").is_empty(),
        "the offset is applied: {}",
        again.all()
    );

    // Same size, older on the server (a restored version): caught.
    srv.put_file("a.txt", b"version 0", at(1_763_000_000));
    let out = Run::new(&srv).home(home.path()).pull(&local).run();
    assert_eq!(out.actions("download"), ["a.txt"], "{}", out.all());
    assert_eq!(fs::read(local.join("a.txt")).unwrap(), b"version 0");
}

#[test]
fn push_sets_times_with_mdtm_where_mfmt_is_missing() {
    let srv = vsftpd_like(true);
    srv.put_file("old.txt", b"x", at(1_700_000_000));
    let home = tempfile::tempdir().unwrap();
    let local = home.path().join("l");
    write(&local, "old.txt", b"x");
    write(&local, "page.html", b"same size A");
    touch(&local, "page.html", -86_400);
    let out = Run::new(&srv)
        .home(home.path())
        .push(&local)
        .args(["-v"])
        .expect_code(0);
    assert!(
        out.stdout.contains("setting mtimes with MDTM: yes"),
        "{}",
        out.all()
    );
    assert_eq!(
        secs(srv.file("/page.html").unwrap().1),
        secs(mtime(&local, "page.html"))
    );

    let again = Run::new(&srv).home(home.path()).push(&local).run();
    assert!(again.actions("upload").is_empty(), "{}", again.all());

    // An edit that keeps the size and moves the mtime back: caught, because the server's
    // copy carries the old local mtime, not the upload time.
    write(&local, "page.html", b"same size B");
    touch(&local, "page.html", -2 * 86_400);
    let out = Run::new(&srv).home(home.path()).push(&local).run();
    assert_eq!(out.actions("upload"), ["page.html"], "{}", out.all());
    assert_eq!(srv.file("/page.html").unwrap().0, b"same size B");
}

/// vsftpd lists files older than six months with a date only. A same-size edit whose
/// mtime moved by less than a day is equal "within that precision": MDTM, batched, tells.
#[test]
fn a_date_only_listing_does_not_hide_a_same_size_edit() {
    let srv = vsftpd_like(true);
    let home = tempfile::tempdir().unwrap();
    let local = home.path().join("l");
    let jan_24 = at(1_706_097_600); // 2024-01-24 12:00 UTC
    for i in 0..40 {
        write(&local, &format!("p{i:02}.html"), b"<p>same size A</p>");
        set_mtime(&local, &format!("p{i:02}.html"), jan_24);
    }
    let first = Run::new(&srv).home(home.path()).push(&local).expect_code(0);
    assert_eq!(first.actions("upload").len(), 40, "{}", first.all());

    // Unchanged: every time is a tie at day precision, and MDTM says they are equal.
    let log_before = srv.log().len();
    let again = Run::new(&srv)
        .home(home.path())
        .push(&local)
        .args(["-v"])
        .run();
    assert!(again.actions("upload").is_empty(), "{}", again.all());
    assert!(
        again.stdout.contains(
            "asked MDTM for 40 file(s) whose listed time was too coarse to compare; 40 answered"
        ),
        "{}",
        again.all()
    );
    let asked: Vec<usize> = srv.log()[log_before..]
        .iter()
        .enumerate()
        .filter(|(_, c)| c.starts_with("MDTM /p"))
        .map(|(i, _)| i + log_before)
        .collect();
    // Every file once, and once more for the one the `MDTM time path` probe read.
    let log = srv.log();
    let names: std::collections::BTreeSet<&String> = asked.iter().map(|&i| &log[i]).collect();
    assert_eq!((names.len(), asked.len()), (40, 41), "{asked:?}");
    let along = srv.pipelined();
    let batched = asked.iter().filter(|i| along.contains(i)).count();
    assert!(
        batched >= 30,
        "MDTMs in few writes: {batched} of 41 rode along"
    );

    // Same size, one day earlier (as `cp -p` from a backup leaves it): caught.
    write(&local, "p07.html", b"<p>same size B</p>");
    set_mtime(&local, "p07.html", at(1_706_097_600 - 86_400));
    let out = Run::new(&srv).home(home.path()).push(&local).expect_code(0);
    assert_eq!(out.actions("upload"), ["p07.html"], "{}", out.all());
    assert_eq!(srv.file("/p07.html").unwrap().0, b"<p>same size B</p>");
}

/// The same on a pull: the server's copy edited in place, same size, same day.
#[test]
fn a_pull_asks_mdtm_where_the_listing_shows_a_date_only() {
    let srv = vsftpd_like(false);
    let jan_24 = at(1_706_097_600);
    srv.put_file("a.txt", b"version 1", jan_24);
    srv.put_file("b.txt", b"unchanged", jan_24);
    let home = tempfile::tempdir().unwrap();
    let local = home.path().join("l");
    Run::new(&srv).home(home.path()).pull(&local).expect_code(0);
    assert_eq!(secs(mtime(&local, "a.txt")), secs(jan_24));

    srv.put_file("a.txt", b"version 2", at(1_706_097_600 + 5 * 3600));
    let out = Run::new(&srv).home(home.path()).pull(&local).expect_code(0);
    assert_eq!(out.actions("download"), ["a.txt"], "{}", out.all());
    assert_eq!(fs::read(local.join("a.txt")).unwrap(), b"version 2");
    assert_eq!(secs(mtime(&local, "a.txt")), 1_706_097_600 + 5 * 3600);
}

#[test]
fn without_mdtm_write_an_unchanged_tree_still_converges() {
    let srv = vsftpd_like(false);
    srv.put_file("seed.txt", b"s", at(1_700_000_000));
    let home = tempfile::tempdir().unwrap();
    let local = home.path().join("l");
    write(&local, "seed.txt", b"s");
    write(&local, "new.txt", b"new");
    let out = Run::new(&srv)
        .home(home.path())
        .push(&local)
        .args(["-v"])
        .expect_code(0);
    assert!(
        out.stdout.contains("setting mtimes with MDTM: no"),
        "{}",
        out.all()
    );
    assert!(
        !out.stderr.contains("cannot set the mtime"),
        "{}",
        out.all()
    );
    let again = Run::new(&srv).home(home.path()).push(&local).run();
    assert!(again.actions("upload").is_empty(), "{}", again.all());
}

/// A first push to an empty server that cannot set mtimes: no file to probe on, so the
/// sessions' first uploads are the probe. Their refusals are one `-v` line, never a
/// warning per session.
#[test]
fn a_first_push_where_mtimes_cannot_be_set_says_so_once_under_v() {
    let srv = vsftpd_like(false);
    let home = tempfile::tempdir().unwrap();
    let local = home.path().join("l");
    for i in 0..12 {
        write(&local, &format!("f{i}.txt"), format!("file {i}").as_bytes());
    }
    let out = Run::new(&srv)
        .home(home.path())
        .push(&local)
        .args(["-v", "-j", "4"])
        .expect_code(0);
    assert_eq!(
        out.stdout.matches("setting mtimes with MDTM: no").count(),
        1,
        "{}",
        out.all()
    );
    assert!(!out.stderr.contains("mtime"), "{}", out.all());
    for i in 0..12 {
        assert_eq!(
            srv.file(&format!("/f{i}.txt")).unwrap().0,
            format!("file {i}").as_bytes()
        );
    }
}

#[test]
fn time_offset_by_hand_where_mdtm_is_missing() {
    let srv = Scripted::start(Behaviour {
        feat: vec!["SIZE", "UTF8"],
        list_offset: 7200,
        ..Behaviour::default()
    });
    srv.put_file(
        "a.txt",
        b"x",
        SystemTime::now() - Duration::from_secs(3 * 86_400),
    );
    let home = tempfile::tempdir().unwrap();
    let local = home.path().join("l");
    assert_eq!(
        Run::new(&srv)
            .home(home.path())
            .pull(&local)
            .args(["--time-offset", "+02:00"])
            .run()
            .code,
        0
    );
    let diff = secs(mtime(&local, "a.txt")).abs_diff(secs(srv.file("/a.txt").unwrap().1));
    assert!(
        diff < 60,
        "LIST minute precision, shifted to UTC: off by {diff} s"
    );
    let again = Run::new(&srv)
        .home(home.path())
        .pull(&local)
        .args(["--time-offset", "+02:00"])
        .run();
    assert!(again.actions("download").is_empty(), "{}", again.all());
    let wrong = Run::new(&srv)
        .home(home.path())
        .pull(&local)
        .args(["--time-offset", "-05:00"])
        .run();
    assert_eq!(
        wrong.actions("download"),
        ["a.txt"],
        "a wrong offset shows: {}",
        wrong.all()
    );
}
