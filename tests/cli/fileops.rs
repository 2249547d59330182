//! Single-file commands against the in-process server: what lands where, what is left
//! behind (nothing), and the exit codes of refusals.

use crate::support;

use std::fs;

use support::{Sandbox, write};

#[test]
fn put_get_mv_rm_mkdir_rmdir() {
    let sb = Sandbox::new();
    let url = |p: &str| sb.server.url(p);
    write(&sb.local, "app.zip", &support::noise(300_000, 9));
    let local = sb.local.join("app.zip");
    let l = local.to_str().unwrap();

    let out = sb.run(&["put", "-v", l, &url("dl/v1/app.zip")]);
    out.assert_code(0);
    assert!(out.stdout.contains("uploaded"), "{}", out.all());
    assert_eq!(
        fs::read(sb.remote.join("dl/v1/app.zip")).unwrap(),
        support::noise(300_000, 9)
    );
    let names: Vec<_> = fs::read_dir(sb.remote.join("dl/v1")).unwrap().collect();
    assert_eq!(names.len(), 1, "no temporary file left: {names:?}");

    let back = sb.dir.path().join("back.zip");
    // libunftp answers an MDTM sent with EPSV and RETR after them: the step is redone
    // unbatched, and the mtime still comes.
    let out = sb.run(&["get", "-v", &url("dl/v1/app.zip"), back.to_str().unwrap()]);
    out.assert_code(0);
    assert_eq!(fs::read(&back).unwrap(), support::noise(300_000, 9));
    assert!(!sb.dir.path().join(".back.zip.ftpmirror-part").exists());
    let secs = |p: &std::path::Path| {
        let t = fs::metadata(p).unwrap().modified().unwrap();
        t.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
    };
    assert_eq!(
        secs(&back),
        secs(&sb.remote.join("dl/v1/app.zip")),
        "the remote mtime, to the second: {}",
        out.all()
    );

    let out = sb.run(&["mv", &url("dl/v1/app.zip"), &url("dl/app-1.zip")]);
    out.assert_code(0);
    assert!(sb.remote.join("dl/app-1.zip").exists());
    assert!(!sb.remote.join("dl/v1/app.zip").exists());

    let out = sb.run(&["rmdir", &url("dl")]);
    assert_eq!(out.code, 1, "not empty: {}", out.all());
    assert!(out.stderr.contains("dl"), "{}", out.all());
    let out = sb.run(&["rmdir", &url("dl/v1")]);
    out.assert_code(0);
    assert!(!sb.remote.join("dl/v1").exists());

    let out = sb.run(&["rm", &url("dl/app-1.zip")]);
    out.assert_code(0);
    assert!(!sb.remote.join("dl/app-1.zip").exists());
    let out = sb.run(&["rm", &url("dl/app-1.zip")]);
    out.assert_code(1);
    assert!(
        out.stderr.contains("app-1.zip") && out.stderr.contains("550"),
        "{}",
        out.all()
    );

    let out = sb.run(&["mkdir", &url("a/b/c")]);
    out.assert_code(0);
    assert!(sb.remote.join("a/b/c").is_dir());

    let out = sb.run(&["put", "/nonexistent/file", &url("x")]);
    out.assert_code(2);
    let out = sb.run(&["get", &url("missing.txt"), back.to_str().unwrap()]);
    out.assert_code(1);
    assert_eq!(
        fs::read(&back).unwrap(),
        support::noise(300_000, 9),
        "a failed get leaves the old file"
    );
}

/// `mv` stays on one server.
#[test]
fn mv_to_another_server_is_refused() {
    let sb = Sandbox::new();
    write(&sb.remote, "a.txt", b"x");
    let out = sb.run(&["mv", &sb.server.url("a.txt"), "ftp://example.com/b.txt"]);
    out.assert_code(1);
    assert!(
        out.stderr.contains("mv works on one server"),
        "{}",
        out.all()
    );
    assert!(sb.remote.join("a.txt").exists());
}
