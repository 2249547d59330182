//! A server that lies in every way a listing can: nothing may be written or deleted outside
//! the target, no injected command may reach the server, no data connection may go to the
//! address a 227 reply names, and names are escaped on the terminal.

use super::*;
use std::time::{Duration, SystemTime};
use support::scripted::{Behaviour, Scripted};

const ESC_NAME: &str = "\x1b[2J\x1b[31mred";

fn hostile_lines(mlsd: bool) -> Vec<String> {
    let names = [
        "../escape",
        "a/../../b",
        "/etc/ftpmirror-hostile-test",
        "..\\x",
        "file:x",
        "C:evil",
        "lone\rCR DELE /keep.txt",
        ESC_NAME,
        "good.txt",
    ];
    let mut lines: Vec<String> = names
        .iter()
        .map(|n| {
            if mlsd {
                format!("type=file;size=5;modify=20240101000000; {n}")
            } else {
                format!("-rw-r--r--    1 ftp      ftp             5 Jan 01  2024 {n}")
            }
        })
        .collect();
    // CRLF inside a name splits the line: the tail must not become a command.
    lines.push(if mlsd {
        "type=file;size=5; inj\r\nDELE /keep.txt".into()
    } else {
        "-rw-r--r-- 1 ftp ftp 5 Jan 01 2024 inj\r\nDELE /keep.txt".into()
    });
    lines.push(if mlsd {
        "type=OS.unix=slink:/etc/passwd;size=11;modify=20240101000000; passwd".into()
    } else {
        "lrwxrwxrwx    1 ftp      ftp            11 Jan 01  2024 passwd -> /etc/passwd".into()
    });
    lines
}

fn run_hostile(mlsd: bool) {
    let srv = Scripted::start(Behaviour {
        mlsd,
        extra_lines: hostile_lines(mlsd),
        ..Behaviour::default()
    });
    srv.put_file(
        "good.txt",
        b"hello",
        SystemTime::now() - Duration::from_secs(60),
    );
    srv.put_file(
        "keep.txt",
        b"keep",
        SystemTime::now() - Duration::from_secs(60),
    );
    let home = tempfile::tempdir().unwrap();
    let sandbox = home.path().join("sandbox");
    write(&sandbox, "sentinel.txt", b"sentinel");
    write(&sandbox, "target/local-extra.txt", b"mine");
    let target = sandbox.join("target");
    let outside_before = snapshot(&sandbox);
    let etc_before = std::path::Path::new("/etc/ftpmirror-hostile-test").exists();

    let out = run_in(
        home.path(),
        &[
            "pull",
            "--delete",
            "-v",
            &srv.url(),
            target.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.code, 1, "unsafe names are errors: {}", out.all());
    assert_eq!(
        fs::read(target.join("good.txt")).unwrap(),
        b"hello",
        "{}",
        out.all()
    );

    // Nothing outside the target changed; inside it, only good.txt and keep.txt arrived.
    let mut after = snapshot(&sandbox);
    after.retain(|k, _| !k.starts_with("target/"));
    let mut before = outside_before.clone();
    before.retain(|k, _| !k.starts_with("target/"));
    assert_eq!(after, before, "something was written outside the target");
    let inside: Vec<String> = snapshot(&target).into_keys().collect();
    assert_eq!(
        inside,
        ["good.txt", "keep.txt", "local-extra.txt"],
        "{}",
        out.all()
    );
    assert!(!home.path().join("escape").exists() && !home.path().join("b").exists());
    assert_eq!(
        std::path::Path::new("/etc/ftpmirror-hostile-test").exists(),
        etc_before
    );

    // No command built from a hostile name reached the server.
    let log = srv.log();
    assert!(!log.iter().any(|c| c.starts_with("DELE")), "{log:?}");
    // "inj" is what is left of "inj\r\nDELE /keep.txt" once the listing's lines are split:
    // a plain name, fetched and refused; the "DELE" half is a broken line, never sent.
    let mut fetched: Vec<&String> = log.iter().filter(|c| c.starts_with("RETR")).collect();
    fetched.sort();
    assert_eq!(
        fetched,
        ["RETR /good.txt", "RETR /inj", "RETR /keep.txt"],
        "{log:?}"
    );
    // The 227 replies named 127.0.0.2; the data still came from the server itself.
    assert!(
        out.stdout.contains("PASV reply named 127.0.0.2"),
        "{}",
        out.all()
    );

    // The terminal never sees raw control characters.
    assert!(
        !out.all().contains('\x1b') && !out.all().contains('\r'),
        "{:?}",
        out.all()
    );
    assert!(out.stderr.contains("\\u{1b}[2J"), "{}", out.all());
    assert!(
        out.stderr.contains("passwd: symbolic link skipped"),
        "{}",
        out.all()
    );
    assert!(out.stderr.contains("drive or URL prefix"), "{}", out.all());
    assert!(out.stderr.contains("deletion(s) skipped"), "{}", out.all());
    assert_eq!(fs::read(target.join("local-extra.txt")).unwrap(), b"mine");
}

#[test]
fn a_hostile_mlsd_listing_is_contained() {
    run_hostile(true);
}

#[test]
fn a_hostile_list_listing_is_contained() {
    run_hostile(false);
}
