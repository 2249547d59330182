use super::*;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};
use support::scripted::{Behaviour, Scripted};

const SIZE: usize = 50 * 1024 * 1024;

fn cut_server() -> Scripted {
    Scripted::start(Behaviour {
        cut_fraction: 0.4,
        cut_stor_after: SIZE * 2 / 5,
        ..Behaviour::default()
    })
}

#[test]
fn an_interrupted_50_mb_download_continues_where_it_stopped() {
    let content = noise(SIZE, 21);
    let srv = cut_server();
    srv.put_file(
        "big.bin",
        &content,
        SystemTime::now() - Duration::from_secs(3600),
    );
    let home = tempfile::tempdir().unwrap();
    let local = home.path().join("l");

    srv.behaviour().cut_retr.store(1, Ordering::SeqCst);
    Run::new(&srv)
        .home(home.path())
        .pull(&local)
        .args(["--retries", "0"])
        .expect_code(1);
    let cut = (SIZE as f64 * 0.4) as usize;
    assert_eq!(
        fs::metadata(local.join(".big.bin.ftpmirror-part"))
            .unwrap()
            .len() as usize,
        cut
    );
    assert!(!local.join("big.bin").exists());

    let dry = Run::new(&srv)
        .home(home.path())
        .pull(&local)
        .args(["--dry-run"])
        .run();
    assert!(
        dry.stdout
            .contains(&format!("resume at {cut} of {SIZE} bytes")),
        "{}",
        dry.all()
    );

    let before = srv.traffic().0;
    Run::new(&srv).home(home.path()).pull(&local).expect_code(0);
    assert_eq!(
        srv.traffic().0 - before,
        SIZE - cut,
        "only the rest is sent"
    );
    assert!(
        srv.log().contains(&format!("REST {cut}")),
        "{:?}",
        srv.log()
    );
    assert!(
        fs::read(local.join("big.bin")).unwrap() == content,
        "byte-identical"
    );
    assert!(!local.join(".big.bin.ftpmirror-part").exists());
}

#[test]
fn an_interrupted_50_mb_upload_continues_where_it_stopped() {
    let content = noise(SIZE, 22);
    let srv = cut_server();
    let home = tempfile::tempdir().unwrap();
    let local = home.path().join("l");
    write(&local, "big.bin", &content);

    srv.behaviour().cut_stor.store(1, Ordering::SeqCst);
    Run::new(&srv)
        .home(home.path())
        .push(&local)
        .args(["--retries", "0"])
        .expect_code(1);
    assert!(
        srv.file("/big.bin").is_none(),
        "the final name is untouched"
    );
    let kept = srv
        .file("/.big.bin.ftpmirror-part")
        .expect("the partial upload is kept")
        .0
        .len();
    assert!((SIZE * 2 / 5..SIZE).contains(&kept), "{kept}");

    let before = srv.traffic().1;
    Run::new(&srv).home(home.path()).push(&local).expect_code(0);
    assert_eq!(
        srv.traffic().1 - before,
        SIZE - kept,
        "only the rest is sent"
    );
    assert!(
        srv.log().contains(&format!("REST {kept}")),
        "{:?}",
        srv.log()
    );
    assert!(srv.file("/big.bin").unwrap().0 == content, "byte-identical");
    assert!(srv.file("/.big.bin.ftpmirror-part").is_none());
}

#[test]
fn no_continue_starts_over_and_delete_clears_leftovers() {
    let content = noise(2 * 1024 * 1024, 23);
    let srv = cut_server();
    srv.put_file(
        "a.bin",
        &content,
        SystemTime::now() - Duration::from_secs(3600),
    );
    let home = tempfile::tempdir().unwrap();
    let local = home.path().join("l");
    srv.behaviour().cut_retr.store(1, Ordering::SeqCst);
    assert_eq!(
        Run::new(&srv)
            .home(home.path())
            .pull(&local)
            .args(["--retries", "0"])
            .run()
            .code,
        1
    );
    assert!(local.join(".a.bin.ftpmirror-part").exists());

    let before = srv.traffic().0;
    Run::new(&srv)
        .home(home.path())
        .pull(&local)
        .args(["--no-continue"])
        .expect_code(0);
    assert_eq!(srv.traffic().0 - before, content.len(), "started over");
    assert!(fs::read(local.join("a.bin")).unwrap() == content);

    // A leftover part of a file that is no longer transferred goes with --delete.
    write(&local, ".gone.bin.ftpmirror-part", b"stale");
    let out = Run::new(&srv).home(home.path()).pull(&local).run();
    assert!(
        local.join(".gone.bin.ftpmirror-part").exists(),
        "kept without --delete: {}",
        out.all()
    );
    let out = Run::new(&srv)
        .home(home.path())
        .pull(&local)
        .args(["--delete"])
        .expect_code(0);
    assert!(
        !local.join(".gone.bin.ftpmirror-part").exists(),
        "{}",
        out.all()
    );
    assert!(local.join("a.bin").exists());
}
