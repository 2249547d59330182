//! The core scenarios against real daemons (see tests/README.md for running the matrix).

use super::*;
use std::time::UNIX_EPOCH;
use support::daemons::{self, Daemon, Ip};

fn secs(t: std::time::SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// What a daemon in the matrix is expected to do beyond the common ground.
#[derive(Clone, Copy)]
struct Expect {
    /// Uploads get their local mtime (MFMT, or MDTM with mdtm_write).
    sets_mtimes: bool,
    /// The kinds of batching this daemon may turn off in a run (`-v`: "batching off
    /// for ..."); every other kind must stay on for the whole run.
    may_turn_off: &'static [&'static str],
    /// FEAT offers a hash command, so `--checksum` needs no manifest.
    server_hash: bool,
    /// Sessions for the `--active` step.
    active_sessions: &'static str,
    /// A no-change run may need a retry (see `clean_of_retries`).
    may_retry: bool,
}

/// pure-ftpd and vsftpd read one command at a time and never look at the control
/// connection during a transfer: every kind of batching stays on.
const FORKING: Expect = Expect {
    sets_mtimes: true,
    server_hash: false,
    may_turn_off: &[],
    active_sessions: "4",
    may_retry: false,
};

/// A no-change run spends no retry: a redo after an anomaly is not one. proftpd, after
/// refusing the listing sent ahead, was once seen on a loaded machine to reset one data
/// connection (a listing, retried and then whole; cause not found): a retry is allowed
/// there, and noted.
fn clean_of_retries(name: &str, expect: Expect, out: &Outcome) {
    if !expect.may_retry {
        assert!(!out.stderr.contains("retry"), "{name}: {}", out.all());
    } else if out.stderr.contains("retry") {
        eprintln!(
            "note: {name} needed a retry in a no-change run: {}",
            out.stderr
        );
    }
}

fn scenario(d: Daemon, expect: Expect) {
    let home = tempfile::tempdir().unwrap();
    let local = home.path().join("local");
    sample_tree(&local, false);
    write(&local, ".htaccess", b"Deny from all\n");
    for (i, n) in [
        "é à ü.txt",
        "中文/文件 😀.txt",
        "  lead",
        "-dash",
        "[x] #%.txt",
    ]
    .iter()
    .enumerate()
    {
        write(&local, &format!("names/{n}"), &noise(10 + i, i as u64));
    }
    // Enough directories that the walk has several queued at once on every session.
    for i in 0..12 {
        write(
            &local,
            &format!("pkg/d{i:02}/s{}/f{i}.txt", i % 3),
            &noise(100 + i, 50 + i as u64),
        );
    }
    let l = local.to_str().unwrap();
    let url = d.url("site");
    let env = [("FTPMIRROR_PASSWORD", daemons::PASSWORD)];
    let run = |args: &[&str]| run_in(home.path(), args, &env);
    let name = d.name;

    let out = run(&["push", l, &url]);
    assert_eq!(out.code, 0, "{name} push: {}", out.all());
    let site = d.root.join("site");
    assert_same_tree(&local, &site);
    if expect.sets_mtimes {
        for f in ["index.html", "a/b/c/deep file.txt", ".htaccess"] {
            assert_eq!(
                secs(mtime(&site, f)),
                secs(mtime(&local, f)),
                "{name}: mtime of {f}"
            );
        }
    }
    // No change: nothing moves, and the run is clean.
    let again = run(&["push", "-v", l, &url]);
    assert_eq!(again.code, 0, "{name} no-change push: {}", again.all());
    clean_of_retries(name, expect, &again);
    assert!(
        again.actions("upload").is_empty(),
        "{name} re-run: {}",
        again.all()
    );
    let ls = run(&["ls", &url]);
    assert_eq!(ls.code, 0, "{name} ls: {}", ls.all());
    for f in ["file         5000", "pkg/d11/s2/f11.txt", "names/-dash"] {
        assert!(ls.stdout.contains(f), "{name} ls lacks {f}: {}", ls.all());
    }

    if expect.sets_mtimes {
        // The same size, an older mtime: caught because the server's copy carries the
        // mtime.
        write(&local, "css/site.css", b"body { color: blu }\n");
        touch(&local, "css/site.css", -86_400 * 3);
        let out = run(&["push", l, &url]);
        assert_eq!(
            out.actions("upload"),
            ["css/site.css"],
            "{name}: {}",
            out.all()
        );
    }

    if expect.sets_mtimes {
        // Older than six months, LIST shows a date only: a same-size edit that moved the
        // mtime by a day is a tie at that precision, and MDTM must decide it.
        let jan_24 = UNIX_EPOCH + std::time::Duration::from_secs(1_706_097_600);
        write(&local, "old/page.html", b"<p>version A</p>");
        set_mtime(&local, "old/page.html", jan_24);
        let out = run(&["push", l, &url]);
        assert_eq!(
            out.actions("upload"),
            ["old/page.html"],
            "{name}: {}",
            out.all()
        );
        write(&local, "old/page.html", b"<p>version B</p>");
        set_mtime(
            &local,
            "old/page.html",
            jan_24 - std::time::Duration::from_secs(86_400),
        );
        let out = run(&["push", l, &url]);
        assert_eq!(
            out.actions("upload"),
            ["old/page.html"],
            "{name}: {}",
            out.all()
        );
        assert_eq!(
            fs::read(site.join("old/page.html")).unwrap(),
            b"<p>version B</p>"
        );
    }

    write(&site, "stale.html", b"old");
    let out = run(&[
        "push",
        "--delete",
        "--active",
        "-j",
        expect.active_sessions,
        l,
        &url,
    ]);
    assert_eq!(out.code, 0, "{name} delete+active: {}", out.all());
    assert_eq!(
        out.actions("delete"),
        ["stale.html"],
        "{name}: {}",
        out.all()
    );

    // Uploads, then deletes on the same session: nothing left over from the uploads
    // may be taken for a DELE's reply.
    write(&local, "pkg/d03/new.txt", b"new file");
    write(&local, "index.html", b"<html>changed, longer</html>\n");
    write(&site, "pkg/d05/stale1.txt", b"old");
    write(&site, "stale2.txt", b"old");
    let out = run(&["push", "-j", "1", "--delete", l, &url]);
    assert_eq!(out.code, 0, "{name} uploads then deletes: {}", out.all());
    let mut deleted = out.actions("delete");
    deleted.sort();
    assert_eq!(deleted, ["pkg/d05/stale1.txt", "stale2.txt"], "{name}");
    assert_same_tree(&local, &site);

    let back = home.path().join("back");
    let out = run(&["pull", "-j", "2", &url, back.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{name} pull: {}", out.all());
    assert_same_tree(&local, &back);
    if expect.sets_mtimes {
        assert_eq!(
            secs(mtime(&back, "index.html")),
            secs(mtime(&local, "index.html"))
        );
    } else {
        assert_eq!(
            secs(mtime(&back, "index.html")),
            secs(mtime(&site, "index.html")),
            "{name}: a pull gives the server's mtime, to the second"
        );
    }
    let again = run(&["pull", "-v", &url, back.to_str().unwrap()]);
    assert_eq!(again.code, 0, "{name} no-change pull: {}", again.all());
    clean_of_retries(name, expect, &again);
    assert!(
        again.actions("download").is_empty(),
        "{name} pull re-run: {}",
        again.all()
    );

    // One session: listings and downloads batched where the server has shown it can.
    // The forking daemons must keep every kind of batching on.
    let solo = home.path().join("solo");
    let out = run(&["pull", "-j", "1", "-v", &url, solo.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{name} pull -j 1: {}", out.all());
    for off in out.all().split("batching off for ").skip(1) {
        assert!(
            expect.may_turn_off.iter().any(|k| off.starts_with(k)),
            "{name} pull -j 1 turned off batching it should keep: {}",
            out.all()
        );
    }
    assert_same_tree(&local, &solo);
    for f in ["index.html", "a/b/c/deep file.txt"] {
        assert_eq!(secs(mtime(&solo, f)), secs(mtime(&back, f)), "{name}: {f}");
    }

    // A CI deploy: a fresh checkout (every mtime new) sends only the one edit, by the
    // server's hash where it has one, else by the manifest the first deploy wrote.
    let checkout = |later: u64| {
        let now = std::time::SystemTime::now() + std::time::Duration::from_secs(later);
        for e in walkdir::WalkDir::new(&local) {
            let e = e.unwrap();
            if e.file_type().is_file() {
                let rel = e.path().strip_prefix(&local).unwrap();
                set_mtime(&local, rel.to_str().unwrap(), now);
            }
        }
    };
    checkout(100);
    let out = run(&["push", "--checksum", "-v", l, &url]);
    assert_eq!(out.code, 0, "{name} first --checksum push: {}", out.all());
    let how = match expect.server_hash {
        true => "--checksum: the server hashes its copies",
        false => "--checksum: no hash command here; the manifest",
    };
    assert!(out.stdout.contains(how), "{name}: {}", out.all());
    assert_same_tree_but(&local, &site, &[".ftpmirror-manifest.json"]);
    checkout(200);
    let out = run(&["push", "--checksum", "--delete", "--remote-lock", l, &url]);
    assert_eq!(out.code, 0, "{name} --checksum push: {}", out.all());
    assert!(
        !site.join(".ftpmirror-lock").exists(),
        "{name}: the lock is released"
    );
    assert!(out.actions("upload").is_empty(), "{name}: {}", out.all());
    assert!(out.actions("delete").is_empty(), "{name}: {}", out.all());
    // The same size as both earlier versions (`red`, `blu`): only the content can tell.
    write(&local, "css/site.css", b"body { color: tan }\n");
    checkout(300);
    let out = run(&["push", "--checksum", l, &url]);
    assert_eq!(
        out.actions("upload"),
        ["css/site.css"],
        "{name}: {}",
        out.all()
    );
    assert_same_tree_but(&local, &site, &[".ftpmirror-manifest.json"]);

    // --chmod: the modes of what the run sent and made, on the server's file system.
    let mode = |p: &str| {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(site.join(p)).unwrap().permissions().mode() & 0o777
    };
    let index_mode = mode("index.html");
    write(&local, "private/key.txt", b"secret");
    // With --checksum (the checkouts above left every mtime new) only the new file goes.
    let out = run(&["push", "--checksum", "--chmod", "D700,F600", l, &url]);
    assert_eq!(out.code, 0, "{name} --chmod: {}", out.all());
    assert_eq!(
        (mode("private"), mode("private/key.txt")),
        (0o700, 0o600),
        "{name}: {}",
        out.all()
    );
    assert_eq!(
        mode("index.html"),
        index_mode,
        "{name}: only what the run sent"
    );

    // --backup-dir: the replaced copy is kept on the server, under its path.
    let before = fs::read(site.join("index.html")).unwrap();
    write(
        &local,
        "index.html",
        b"<html>the next version, longer still</html>\n",
    );
    let out = run(&["push", "--delete", "--backup-dir", "_bak", l, &url]);
    assert_eq!(out.code, 0, "{name} --backup-dir: {}", out.all());
    assert_eq!(
        fs::read(site.join("_bak/index.html")).unwrap(),
        before,
        "{name}"
    );
    assert_eq!(
        fs::read(site.join("index.html")).unwrap(),
        fs::read(local.join("index.html")).unwrap()
    );

    // Single-file commands, on the same daemon.
    let file = |p: &str| format!("{url}/{p}");
    let one = home.path().join("one.bin");
    fs::write(&one, noise(70_000, 3)).unwrap();
    let o = one.to_str().unwrap();
    let out = run(&["put", o, &file("files/new/one.bin")]);
    assert_eq!(out.code, 0, "{name} put: {}", out.all());
    assert_eq!(
        fs::read(site.join("files/new/one.bin")).unwrap(),
        noise(70_000, 3)
    );
    let got = home.path().join("got.bin");
    let out = run(&["get", &file("files/new/one.bin"), got.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{name} get: {}", out.all());
    assert_eq!(fs::read(&got).unwrap(), noise(70_000, 3));
    let out = run(&["mv", &file("files/new/one.bin"), &file("files/one.bin")]);
    assert_eq!(out.code, 0, "{name} mv: {}", out.all());
    let out = run(&["rmdir", &file("files/new")]);
    assert_eq!(out.code, 0, "{name} rmdir: {}", out.all());
    let out = run(&["rm", &file("files/one.bin")]);
    assert_eq!(out.code, 0, "{name} rm: {}", out.all());
    let out = run(&["mkdir", &file("files/a/b")]);
    assert_eq!(out.code, 0, "{name} mkdir: {}", out.all());
    assert!(site.join("files/a/b").is_dir() && !site.join("files/one.bin").exists());
}

/// pure-ftpd requiring TLS on control and data connections (OpenSSL on its side, our
/// own rustls stack on ours): push, a no-change push, a pull back, a no-change pull,
/// batched as over plain FTP.
#[test]
fn pure_ftpd_requiring_tls() {
    tls_scenario(daemons::pure_ftpd_with);
}

/// vsftpd requiring TLS, with require_ssl_reuse: every data connection must resume the
/// control connection's TLS session.
#[test]
fn vsftpd_requiring_tls_with_session_reuse() {
    tls_scenario(daemons::vsftpd_with);
}

fn tls_scenario(start: fn(Ip, &daemons::Options) -> Option<Daemon>) {
    let home = tempfile::tempdir().unwrap();
    let pki = support::pki::make(home.path());
    let both = home.path().join("cert-and-key.pem");
    let mut pem = std::fs::read(&pki.cert_pem).unwrap();
    pem.extend(std::fs::read(&pki.key_pem).unwrap());
    std::fs::write(&both, pem).unwrap();
    let opts = daemons::Options {
        tls_cert: Some(both),
        ..daemons::Options::default()
    };
    let Some(d) = start(Ip::V4, &opts) else {
        return;
    };
    let local = home.path().join("local");
    sample_tree(&local, false);
    for i in 0..6 {
        write(&local, &format!("d{i}/f.bin"), &noise(70_000 + i, i as u64));
    }
    let l = local.to_str().unwrap();
    let url = d.url("site").replacen("ftp://", "ftps://", 1);
    let ca = pki.ca_pem.to_str().unwrap();
    let env = [("FTPMIRROR_PASSWORD", daemons::PASSWORD)];
    let run = |args: &[&str]| {
        let args = [args, &["--ca-file", ca, "-v"]].concat();
        run_in(home.path(), &args, &env)
    };
    let out = run(&["push", l, &url]);
    out.assert_code(0);
    assert_same_tree(&local, &d.root.join("site"));
    let again = run(&["push", l, &url]);
    again.assert_code(0);
    assert!(again.actions("upload").is_empty(), "{}", again.all());
    let back = home.path().join("back");
    let b = back.to_str().unwrap();
    let out = run(&["pull", &url, b]);
    out.assert_code(0);
    assert_same_tree(&local, &back);
    let again = run(&["pull", "-j", "1", &url, b]);
    again.assert_code(0);
    assert!(again.actions("download").is_empty(), "{}", again.all());
    for o in [&out, &again] {
        assert!(!o.all().contains("batching off"), "{}", o.all());
        assert!(!o.stderr.contains("retry"), "{}", o.all());
    }
    // Plain text is refused: the server really requires TLS.
    let plain = run_in(home.path(), &["ls", &d.url("site")], &env);
    assert_ne!(plain.code, 0, "{}", plain.all());
}

/// Over IPv6: passive is EPSV (PASV cannot name an IPv6 host), active is EPRT.
fn scenario_v6(d: Daemon) {
    let home = tempfile::tempdir().unwrap();
    let local = home.path().join("local");
    write(&local, "v6/a.txt", b"over ::1");
    let url = d.url("six");
    let env = [("FTPMIRROR_PASSWORD", daemons::PASSWORD)];
    let out = run_in(home.path(), &["push", local.to_str().unwrap(), &url], &env);
    assert_eq!(out.code, 0, "{} push over ::1: {}", d.name, out.all());
    let back = home.path().join("back");
    let out = run_in(
        home.path(),
        &["pull", "--active", &url, back.to_str().unwrap()],
        &env,
    );
    assert_eq!(
        out.code,
        0,
        "{} active pull over ::1: {}",
        d.name,
        out.all()
    );
    assert_same_tree(&local, &back);
}

/// The scenario on 127.0.0.1, then the IPv6 one on ::1.
fn matrix(start: fn(Ip) -> Option<Daemon>, expect: Expect) {
    if let Some(d) = start(Ip::V4) {
        scenario(d, expect);
    }
    if let Some(d) = start(Ip::V6) {
        scenario_v6(d);
    }
}

/// proftpd reads commands during a transfer, and refuses an EPSV then ("450 EPSV: data
/// transfer in progress"): listings sent ahead are turned off at their first try.
#[test]
fn proftpd() {
    matrix(
        daemons::proftpd,
        Expect {
            sets_mtimes: true,
            // mod_digest, which Debian's proftpd-core ships.
            server_hash: std::path::Path::new("/usr/lib/proftpd/mod_digest.so").exists(),
            may_turn_off: &["listings sent ahead"],
            active_sessions: "4",
            may_retry: true,
        },
    );
}

#[test]
fn pure_ftpd() {
    matrix(daemons::pure_ftpd, FORKING);
}

#[test]
fn vsftpd() {
    matrix(daemons::vsftpd, FORKING);
}

/// Event-driven: acts on each command as it arrives, so a second EPSV closes the port
/// the first one announced.
const EVENT_DRIVEN: Expect = Expect {
    sets_mtimes: true,
    server_hash: false,
    may_turn_off: &["listings sent ahead"],
    active_sessions: "4",
    may_retry: false,
};

/// In active mode pyftpdlib's one-loop `FTPServer` stops serving other sessions at
/// times: a PORT closes the connector of the previous one again, whose socket number may
/// by then be another session's, which the loop then no longer reads (its login hangs
/// until the timeout). One session for `--active` there; the threaded server has a loop
/// per session and takes four.
#[test]
fn pyftpdlib() {
    matrix(
        daemons::pyftpdlib,
        Expect {
            active_sessions: "1",
            ..EVENT_DRIVEN
        },
    );
}

#[test]
fn pyftpdlib_threaded() {
    matrix(daemons::pyftpdlib_threaded, EVENT_DRIVEN);
}

/// GNU inetutils-ftpd, started per connection as inetd would: LIST, MDTM, SIZE and
/// EPSV, no way to set an mtime.
#[test]
fn inetutils_ftpd() {
    matrix(
        daemons::inetutils,
        Expect {
            sets_mtimes: false,
            server_hash: false,
            may_turn_off: &[],
            active_sessions: "4",
            may_retry: false,
        },
    );
}
