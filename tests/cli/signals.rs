use super::*;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use support::scripted::{Behaviour, Scripted};
use support::{eventually, old};

/// A slow transfer in a real child process, so a signal can land in the middle of it.
fn slow_push(home: &std::path::Path, srv: &Scripted, local: &std::path::Path) -> Child {
    let child = Command::new(env!("CARGO_BIN_EXE_ftpmirror"))
        .args(["push", "-j", "1", local.to_str().unwrap(), &srv.url()])
        .current_dir(home)
        .env("HOME", home)
        .env("XDG_RUNTIME_DIR", home)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    assert!(
        eventually(|| srv
            .log()
            .iter()
            .any(|c| c == "STOR /.big.bin.ftpmirror-part")),
        "the upload never started: {:?}",
        srv.log()
    );
    // In the middle of it: some of the file has arrived.
    assert!(
        eventually(|| srv.traffic().1 >= 16 * 1024),
        "no data arrived: {:?}",
        srv.traffic()
    );
    child
}

fn slow_server() -> Scripted {
    let srv = Scripted::start(Behaviour {
        data_delay: Duration::from_millis(40),
        ..Behaviour::default()
    });
    srv.put_file("big.bin", b"the good old version", old());
    srv
}

#[test]
fn sigint_stops_cleanly_with_130_and_a_summary() {
    let srv = slow_server();
    let home = tempfile::tempdir().unwrap();
    let local = home.path().join("l");
    write(&local, "big.bin", &noise(800_000, 5));
    let child = slow_push(home.path(), &srv, &local);
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stdout}{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert!(stdout.contains("0 uploaded"), "summary printed: {stdout}");
    assert_eq!(srv.file("/big.bin").unwrap().0, b"the good old version");
}

#[test]
fn sigterm_mid_download_exits_143_keeps_the_old_file_and_the_next_run_continues() {
    let srv = slow_server();
    let content = noise(1024 * 1024 + 100_000, 8);
    srv.put_file("big.bin", &content, old());
    let home = tempfile::tempdir().unwrap();
    let local = home.path().join("l");
    write(&local, "big.bin", b"old local copy");
    let child = Command::new(env!("CARGO_BIN_EXE_ftpmirror"))
        .args(["pull", &srv.url(), local.to_str().unwrap()])
        .current_dir(home.path())
        .env("HOME", home.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let part = local.join(".big.bin.ftpmirror-part");
    assert!(
        eventually(|| fs::metadata(&part).is_ok_and(|m| m.len() > 100_000)),
        "download never started"
    );
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(143),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(fs::read(local.join("big.bin")).unwrap(), b"old local copy");
    let kept = fs::metadata(&part)
        .expect("a large partial download is kept")
        .len() as usize;

    let out = run_in(
        home.path(),
        &["pull", &srv.url(), local.to_str().unwrap()],
        &[],
    );
    out.assert_code(0);
    assert!(
        srv.log().contains(&format!("REST {kept}")),
        "{:?}",
        srv.log()
    );
    assert!(fs::read(local.join("big.bin")).unwrap() == content);
}

#[test]
fn sigkill_mid_upload_corrupts_nothing_and_the_next_run_finishes() {
    let srv = slow_server();
    let home = tempfile::tempdir().unwrap();
    let local = home.path().join("l");
    write(&local, "big.bin", &noise(800_000, 6));
    let mut child = slow_push(home.path(), &srv, &local);
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(srv.file("/big.bin").unwrap().0, b"the good old version");

    let out = run_in(
        home.path(),
        &["push", local.to_str().unwrap(), &srv.url()],
        &[],
    );
    out.assert_code(0);
    assert_eq!(srv.file("/big.bin").unwrap().0, noise(800_000, 6));
}
