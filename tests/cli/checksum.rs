//! `--checksum` end to end against the scripted server: the server's HASH (and a lying or
//! broken one), and the deploy manifest where the server has no hash command. Each test is a
//! CI-style deploy: every local mtime set to "now" before a run, as a fresh checkout does.

use crate::support;

use std::fs;
use std::path::Path;
use std::time::{Duration, SystemTime};

use support::scripted::{Behaviour, Scripted};
use support::{Outcome, run_in, set_mtime, write};

const MANIFEST: &str = "/.ftpmirror-manifest.json";

/// A small site: 12 files in 3 directories.
fn site(local: &Path) {
    for i in 0..12 {
        write(
            local,
            &format!("d{}/page{i:02}.html", i % 3),
            format!("<p>page {i:02}, version A</p>").as_bytes(),
        );
    }
}

/// A fresh checkout: every file's mtime is now (and a little later each time).
fn checkout(local: &Path, secs_later: u64) {
    let now = SystemTime::now() + Duration::from_secs(secs_later);
    for i in 0..12 {
        set_mtime(local, &format!("d{}/page{i:02}.html", i % 3), now);
    }
}

fn push(home: &Path, srv: &Scripted, extra: &[&str]) -> Outcome {
    let local = home.join("l");
    let mut args = vec!["push", "--checksum"];
    args.extend_from_slice(extra);
    let url = srv.url();
    args.extend([local.to_str().unwrap(), url.as_str()]);
    run_in(home, &args, &[])
}

fn assert_site_on(srv: &Scripted, local: &Path) {
    for i in 0..12 {
        let rel = format!("d{}/page{i:02}.html", i % 3);
        assert_eq!(
            srv.file(&format!("/{rel}")).unwrap().0,
            fs::read(local.join(&rel)).unwrap(),
            "{rel}"
        );
    }
}

/// MLSD and MFMT, HASH offering SHA-256 (MD5 is the session's default, so `OPTS HASH`
/// must choose it).
fn hashing(lies: bool, garbage: bool) -> Scripted {
    hashing_with(Behaviour {
        hash_lies: lies,
        hash_garbage: garbage,
        ..Behaviour::default()
    })
}

fn hashing_with(b: Behaviour) -> Scripted {
    Scripted::start(Behaviour {
        feat: vec![
            "SIZE",
            "MDTM",
            "MFMT",
            "UTF8",
            "REST STREAM",
            "HASH SHA-256;MD5*",
        ],
        mlsd: true,
        ..b
    })
}

#[test]
fn the_servers_hash_decides_and_a_checkout_sends_only_the_edit() {
    let srv = hashing(false, false);
    let home = tempfile::tempdir().unwrap();
    let local = home.path().join("l");
    site(&local);
    let first = push(home.path(), &srv, &[]);
    first.assert_code(0);
    assert_eq!(first.actions("upload").len(), 12);

    checkout(&local, 100);
    let log_before = srv.log().len();
    let again = push(home.path(), &srv, &["-v"]);
    again.assert_code(0);
    assert!(again.actions("upload").is_empty(), "{}", again.all());
    assert!(
        again
            .stdout
            .contains("--checksum: the server hashes its copies (HASH SHA-256)"),
        "{}",
        again.all()
    );
    let log = srv.log()[log_before..].to_vec();
    assert!(log.iter().any(|c| c == "OPTS HASH SHA-256"), "{log:?}");
    assert_eq!(log.iter().filter(|c| c.starts_with("HASH /")).count(), 12);
    assert!(
        srv.file(MANIFEST).is_none(),
        "no manifest where the server hashes"
    );

    // A same-size edit with a fresh mtime: exactly that file.
    write(&local, "d1/page04.html", b"<p>page 04, version B</p>");
    checkout(&local, 200);
    let out = push(home.path(), &srv, &["-v", "--dry-run"]);
    assert!(
        out.stdout
            .contains("d1/page04.html  (content differs: sha256 from the server's SHA-256)"),
        "{}",
        out.all()
    );
    assert!(
        out.stdout
            .contains("unchanged d0/page00.html  (sha256 matches the server's SHA-256)"),
        "{}",
        out.all()
    );
    let out = push(home.path(), &srv, &[]);
    assert_eq!(out.actions("upload"), ["d1/page04.html"], "{}", out.all());
    assert_site_on(&srv, &local);
}

#[test]
fn a_lying_hash_costs_uploads_and_a_broken_one_falls_back_to_the_quick_check() {
    for (lies, garbage) in [(true, false), (false, true)] {
        let srv = hashing(lies, garbage);
        let home = tempfile::tempdir().unwrap();
        let local = home.path().join("l");
        site(&local);
        push(home.path(), &srv, &[]).assert_code(0);
        checkout(&local, 100);
        let out = push(home.path(), &srv, &[]);
        out.assert_code(0);
        // Lies: every digest differs. No digest: the mtimes (all new) decide. Either way
        // the server ends with the local bytes.
        assert_eq!(out.actions("upload").len(), 12, "{}", out.all());
        assert_site_on(&srv, &local);
    }
}

/// FEAT lists HASH, the command says 502: one warning, and the quick check decides.
#[test]
fn a_refused_hash_command_is_one_warning_not_a_failure() {
    let srv = hashing_with(Behaviour {
        hash_refused: true,
        ..Behaviour::default()
    });
    let home = tempfile::tempdir().unwrap();
    let local = home.path().join("l");
    site(&local);
    push(home.path(), &srv, &[]).assert_code(0);
    let out = push(home.path(), &srv, &["-j", "4"]);
    out.assert_code(0);
    assert!(
        out.actions("upload").is_empty(),
        "unchanged mtimes: {}",
        out.all()
    );
    assert_eq!(
        out.stderr.matches("the server refused HASH").count(),
        1,
        "{}",
        out.all()
    );
    write(
        &local,
        "d1/page04.html",
        b"<p>page 04, version B, longer</p>",
    );
    let out = push(home.path(), &srv, &[]);
    assert_eq!(out.actions("upload"), ["d1/page04.html"], "{}", out.all());
    assert_site_on(&srv, &local);
}

/// vsftpd-like: LIST only (minute precision, local time 2 h ahead), no MFMT but
/// `MDTM time path`, no hash command: the manifest.
fn listing_only() -> Scripted {
    Scripted::start(Behaviour {
        feat: vec!["SIZE", "MDTM", "UTF8", "REST STREAM"],
        mdtm_write: true,
        list_offset: 7200,
        ..Behaviour::default()
    })
}

fn manifest_files(srv: &Scripted) -> serde_json::Map<String, serde_json::Value> {
    let (bytes, _) = srv.file(MANIFEST).expect("a manifest on the server");
    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    v["files"].as_object().unwrap().clone()
}

#[test]
fn the_manifest_makes_a_checkout_deploy_send_only_what_changed() {
    let srv = listing_only();
    let home = tempfile::tempdir().unwrap();
    let local = home.path().join("l");
    site(&local);
    let first = push(home.path(), &srv, &["--delete"]);
    first.assert_code(0);
    assert_eq!(first.actions("upload").len(), 12);
    let files = manifest_files(&srv);
    assert_eq!(files.len(), 12, "{files:?}");
    let rec = &files["d1/page04.html"];
    assert_eq!(
        rec["sha256"].as_str().unwrap(),
        ftpmirror::hash::hash_bytes(ftpmirror::hash::Algo::Sha256, b"<p>page 04, version A</p>")
    );

    // A fresh checkout: nothing to send, and the manifest survives --delete.
    checkout(&local, 100);
    let again = push(home.path(), &srv, &["--delete"]);
    again.assert_code(0);
    assert!(again.actions("upload").is_empty(), "{}", again.all());
    assert!(again.actions("delete").is_empty(), "{}", again.all());
    assert!(srv.file(MANIFEST).is_some());

    // The same checkout again: every hash from the cache, no file read.
    let cached = push(home.path(), &srv, &["-v"]);
    assert!(cached.actions("upload").is_empty(), "{}", cached.all());
    assert!(
        cached
            .stdout
            .contains("0 local file(s) read, the rest from the cache"),
        "{}",
        cached.all()
    );

    // A same-size edit, fresh mtime: exactly one upload, and its record is new.
    write(&local, "d1/page04.html", b"<p>page 04, version B</p>");
    checkout(&local, 200);
    let out = push(home.path(), &srv, &["-v", "--dry-run"]);
    assert!(
        out.stdout
            .contains("d1/page04.html  (content differs: sha256 in the manifest)"),
        "{}",
        out.all()
    );
    assert!(
        out.stdout
            .contains("unchanged d0/page00.html  (sha256 matches manifest)"),
        "{}",
        out.all()
    );
    let out = push(home.path(), &srv, &[]);
    assert_eq!(out.actions("upload"), ["d1/page04.html"], "{}", out.all());
    assert_eq!(
        manifest_files(&srv)["d1/page04.html"]["sha256"]
            .as_str()
            .unwrap(),
        ftpmirror::hash::hash_bytes(ftpmirror::hash::Algo::Sha256, b"<p>page 04, version B</p>")
    );

    // Edited on the server, same size, mtime moved by hours: put back.
    let (_, when) = srv.file("/d2/page05.html").unwrap();
    srv.put_file(
        "/d2/page05.html",
        b"<p>page 05, HACKED!!!</p>",
        when + Duration::from_secs(3 * 3600),
    );
    checkout(&local, 300);
    let plan = push(home.path(), &srv, &["--dry-run"]);
    assert!(
        plan.stdout.contains(
            "upload   d2/page05.html  (server copy changed since the last deploy; mtime differs"
        ),
        "{}",
        plan.all()
    );
    let out = push(home.path(), &srv, &[]);
    out.assert_code(0);
    assert_eq!(out.actions("upload"), ["d2/page05.html"], "{}", out.all());
    assert_site_on(&srv, &local);
}

/// vsftpd lists files older than six months with a date only; with the manifest, the
/// server's copy is checked against the record to the second (MDTM), and the local edit
/// that kept the size and moved the mtime back a day is caught.
#[test]
fn a_date_only_listing_with_the_manifest_still_catches_a_same_size_edit() {
    let srv = listing_only();
    let home = tempfile::tempdir().unwrap();
    let local = home.path().join("l");
    site(&local);
    let jan_24 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_706_097_600);
    for i in 0..12 {
        set_mtime(&local, &format!("d{}/page{i:02}.html", i % 3), jan_24);
    }
    push(home.path(), &srv, &[]).assert_code(0);
    assert_eq!(manifest_files(&srv).len(), 12);
    let same = push(home.path(), &srv, &[]);
    assert!(same.actions("upload").is_empty(), "{}", same.all());
    write(&local, "d2/page08.html", b"<p>page 08, version B</p>");
    set_mtime(
        &local,
        "d2/page08.html",
        jan_24 - Duration::from_secs(86_400),
    );
    let out = push(home.path(), &srv, &[]);
    assert_eq!(out.actions("upload"), ["d2/page08.html"], "{}", out.all());
    assert_site_on(&srv, &local);
}

#[test]
fn a_corrupt_manifest_is_one_warning_and_the_tree_still_ends_identical() {
    let srv = listing_only();
    let home = tempfile::tempdir().unwrap();
    let local = home.path().join("l");
    site(&local);
    push(home.path(), &srv, &[]).assert_code(0);
    srv.put_file(
        MANIFEST,
        b"{\"version\": 1, \"files\": {\"x\": 3",
        SystemTime::now(),
    );
    write(&local, "d0/page03.html", b"<p>page 03, version C</p>");
    checkout(&local, 100);
    let out = push(home.path(), &srv, &["--delete"]);
    out.assert_code(0);
    assert_eq!(
        out.stderr.matches("the manifest is unusable").count(),
        1,
        "{}",
        out.all()
    );
    assert!(out.actions("delete").is_empty(), "{}", out.all());
    assert_site_on(&srv, &local);
    // Written anew: the next checkout sends nothing.
    assert_eq!(manifest_files(&srv).len(), 12);
    checkout(&local, 200);
    let out = push(home.path(), &srv, &[]);
    assert!(out.actions("upload").is_empty(), "{}", out.all());
}

/// A pull with --checksum uses the same manifest: the local copy that matches the recorded
/// SHA-256 is not downloaded again, whatever its mtime.
#[test]
fn a_pull_trusts_the_manifest_for_copies_it_still_describes() {
    let srv = listing_only();
    let home = tempfile::tempdir().unwrap();
    let local = home.path().join("l");
    site(&local);
    push(home.path(), &srv, &[]).assert_code(0);
    let back = home.path().join("back");
    let b = back.to_str().unwrap();
    let url = srv.url();
    let out = run_in(home.path(), &["pull", &url, b], &[]);
    out.assert_code(0);
    assert!(
        !back.join(".ftpmirror-manifest.json").exists(),
        "never mirrored"
    );
    for i in 0..12 {
        set_mtime(
            &back,
            &format!("d{}/page{i:02}.html", i % 3),
            SystemTime::now(),
        );
    }
    let out = run_in(home.path(), &["pull", "--checksum", &url, b], &[]);
    out.assert_code(0);
    assert!(out.actions("download").is_empty(), "{}", out.all());
}

/// `--manifest` inside the tree, in a directory the source does not have: created, kept by
/// `--delete`, and used by the next deploy.
#[test]
fn the_manifest_can_live_elsewhere_and_delete_leaves_it_alone() {
    let srv = listing_only();
    let home = tempfile::tempdir().unwrap();
    let local = home.path().join("l");
    site(&local);
    let at = ["--manifest", "deploy/state.json", "--delete"];
    let first = push(home.path(), &srv, &at);
    first.assert_code(0);
    assert!(srv.file(MANIFEST).is_none());
    let (bytes, _) = srv
        .file("/deploy/state.json")
        .expect("the manifest where asked");
    assert!(String::from_utf8_lossy(&bytes).contains("d1/page04.html"));
    checkout(&local, 100);
    let again = push(home.path(), &srv, &at);
    again.assert_code(0);
    assert!(again.actions("upload").is_empty(), "{}", again.all());
    assert!(again.actions("delete").is_empty(), "{}", again.all());
    assert!(again.actions("rmdir").is_empty(), "{}", again.all());
    assert!(srv.file("/deploy/state.json").is_some());
}
