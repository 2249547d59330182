use super::*;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use support::scripted::{Behaviour, Scripted};

fn secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// LIST only (no MLSD), EPSV refused, a 227 reply naming 127.0.0.2 where nothing listens,
/// MFMT available: pull and push both work and converge.
#[test]
fn list_only_server_with_pasv_fallback_and_mfmt() {
    let srv = Scripted::start(Behaviour::default());
    let home = tempfile::tempdir().unwrap();
    let local = home.path().join("local");
    let old = SystemTime::now() - Duration::from_secs(3 * 86_400);
    srv.put_file("site/a.txt", b"hello", old);
    srv.put_file("site/sub/b.bin", &noise(3000, 3), old);
    let url = format!("{}site", srv.url());
    let l = local.to_str().unwrap();

    let out = run_in(home.path(), &["pull", "-j", "1", &url, l], &[]);
    out.assert_code(0);
    assert_eq!(fs::read(local.join("a.txt")).unwrap(), b"hello");
    assert_eq!(fs::read(local.join("sub/b.bin")).unwrap(), noise(3000, 3));
    // LIST times have minute precision: the local copy gets the listed minute.
    let diff = secs(old).abs_diff(secs(mtime(&local, "a.txt")));
    assert!(diff < 60, "mtime off by {diff} s");

    let log = srv.log();
    let pass = log.iter().position(|c| c.starts_with("PASS")).unwrap();
    assert_eq!(
        log[pass + 1],
        "TYPE I",
        "binary mode right after login: {log:?}"
    );
    assert!(log.contains(&"OPTS UTF8 ON".to_string()), "{log:?}");
    let epsv = log
        .iter()
        .position(|c| c == "EPSV")
        .expect("EPSV tried first");
    assert_eq!(log[epsv + 1], "PASV", "{log:?}");
    assert_eq!(
        log.iter().filter(|c| *c == "EPSV").count(),
        1,
        "EPSV refusal remembered"
    );
    assert!(log.contains(&"LIST -a".to_string()), "{log:?}");
    assert!(!log.iter().any(|c| c.starts_with("MLSD")), "{log:?}");

    let again = run_in(home.path(), &["pull", &url, l], &[]);
    again.assert_code(0);
    assert!(again.actions("download").is_empty(), "{}", again.all());

    // Push a new file: stored, then its mtime set with MFMT to the local one.
    write(&local, "new.txt", b"fresh");
    touch(&local, "new.txt", -7200);
    let out = run_in(home.path(), &["push", l, &url], &[]);
    out.assert_code(0);
    assert_eq!(out.actions("upload"), ["new.txt"], "{}", out.all());
    let (data, remote_mtime) = srv.file("/site/new.txt").unwrap();
    assert_eq!(data, b"fresh");
    assert_eq!(secs(remote_mtime), secs(mtime(&local, "new.txt")));
    let stamp =
        chrono::DateTime::<chrono::Utc>::from(mtime(&local, "new.txt")).format("%Y%m%d%H%M%S");
    // Batched with the rename, the mtime is set on the temporary name just before it.
    assert!(
        srv.log()
            .contains(&format!("MFMT {stamp} /site/.new.txt.ftpmirror-part")),
        "{:?}",
        srv.log()
    );

    let again = run_in(home.path(), &["push", l, &url], &[]);
    again.assert_code(0);
    assert!(again.actions("upload").is_empty(), "{}", again.all());
}

/// A listing whose data connection goes silent ends in a timeout, not a hang, in both
/// modes; nothing is deleted because the listing is incomplete.
#[test]
fn stalled_listing_times_out_and_deletes_nothing() {
    let srv = Scripted::start(Behaviour {
        stall_list: true,
        ..Behaviour::default()
    });
    let home = tempfile::tempdir().unwrap();
    let local = home.path().join("local");
    write(&local, "keep.txt", b"keep");
    for mode in [None, Some("--active")] {
        let mut args = vec![
            "pull",
            "--delete",
            "--timeout",
            "1s",
            "--retries",
            "1",
            "--retry-delay",
            "10ms",
        ];
        args.extend(mode);
        let url = srv.url();
        args.extend([url.as_str(), local.to_str().unwrap()]);
        let out = run_in(home.path(), &args, &[]);
        assert_eq!(out.code, 1, "{mode:?}: {}", out.all());
        assert!(
            out.stderr.contains("cannot list / on 127.0.0.1"),
            "{}",
            out.all()
        );
        assert!(out.stderr.contains("timed out"), "{}", out.all());
        assert_eq!(fs::read(local.join("keep.txt")).unwrap(), b"keep");
    }
}

/// Each byte arrives well within the timeout, but the reply never ends: the whole reply
/// is bounded, not single reads.
#[test]
fn a_trickled_endless_reply_times_out() {
    let srv = Scripted::start(Behaviour {
        trickle_feat: true,
        ..Behaviour::default()
    });
    let home = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let out = run_in(
        home.path(),
        &["ls", "--timeout", "1s", "--retries", "0", &srv.url()],
        &[],
    );
    out.assert_code(3);
    assert!(
        out.stderr.contains(
            "FEAT failed: timed out waiting for the server: no complete reply within 1 s"
        ),
        "{}",
        out.all()
    );
    // A hang would be cut at 60 s by run_in; this bound only says the watchdog fired.
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[test]
fn silent_server_times_out_with_exit_3() {
    let srv = Scripted::start(Behaviour {
        silent: true,
        ..Behaviour::default()
    });
    let home = tempfile::tempdir().unwrap();
    let out = run_in(
        home.path(),
        &[
            "ls",
            "--timeout",
            "1s",
            "--retries",
            "1",
            "--retry-delay",
            "10ms",
            &srv.url(),
        ],
        &[],
    );
    out.assert_code(3);
    assert!(out.stderr.contains("no FTP greeting"), "{}", out.all());
    assert!(out.stderr.contains("timed out"), "{}", out.all());
}
