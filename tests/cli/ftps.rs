use super::*;
use support::pki;
use support::scripted::{Behaviour, Scripted};
use support::server::FtpServer;

struct Tls {
    home: tempfile::TempDir,
    server: FtpServer,
    pki: pki::Pki,
}

impl Tls {
    fn new() -> Tls {
        let home = tempfile::tempdir().unwrap();
        let pki = pki::make(home.path());
        let root = home.path().join("remote");
        write(&root, "site/index.html", b"<h1>over TLS</h1>");
        write(&root, "site/img/logo.bin", &noise(300_000, 3));
        let server = FtpServer::start_ftps(&root, &pki.cert_pem, &pki.key_pem);
        Tls { home, server, pki }
    }

    fn url(&self) -> String {
        self.server.url("site").replacen("ftp://", "ftps://", 1)
    }

    fn pull(&self, extra: &[&str]) -> Outcome {
        let local = self.home.path().join("local");
        let url = self.url();
        let mut args = vec!["pull"];
        args.extend_from_slice(extra);
        args.extend([url.as_str(), local.to_str().unwrap()]);
        run_in(self.home.path(), &args, &[])
    }
}

#[test]
fn an_unknown_certificate_is_refused_with_its_fingerprint() {
    let t = Tls::new();
    let out = t.pull(&[]);
    out.assert_code(3);
    assert!(
        out.stderr.contains("certificate verification failed"),
        "{}",
        out.all()
    );
    assert!(out.stderr.contains(&t.pki.fingerprint), "{}", out.all());
    assert_eq!(
        out.stderr
            .lines()
            .filter(|l| l.starts_with("error:"))
            .count(),
        1,
        "{}",
        out.all()
    );
    assert!(!out.stderr.contains("connection error"), "{}", out.all());
    assert!(!t.home.path().join("local").exists(), "nothing written");
}

#[test]
fn a_trusted_ca_or_a_matching_pin_lets_it_through_encrypted() {
    let t = Tls::new();
    let ca = t.pki.ca_pem.to_str().unwrap();
    let out = t.pull(&["--ca-file", ca]);
    out.assert_code(0);
    let local = t.home.path().join("local");
    assert_same_tree(&t.server.root.join("site"), &local);

    fs::remove_dir_all(&local).unwrap();
    let out = t.pull(&["--pin-sha256", &t.pki.fingerprint, "--active"]);
    assert_eq!(out.code, 0, "pinned, active mode: {}", out.all());
    assert_same_tree(&t.server.root.join("site"), &local);

    // And back up: a push over TLS, temporary name and rename included.
    write(&local, "new.txt", b"pushed over TLS");
    let url = t.url();
    let out = run_in(
        t.home.path(),
        &["push", "--ca-file", ca, local.to_str().unwrap(), &url],
        &[],
    );
    out.assert_code(0);
    assert_eq!(
        fs::read(t.server.root.join("site/new.txt")).unwrap(),
        b"pushed over TLS"
    );

    // The server really insists on TLS: plain FTP is turned away.
    let plain = t.server.url("site");
    let out = run_in(t.home.path(), &["ls", "--retries", "0", &plain], &[]);
    out.assert_code(3);
}

#[test]
fn a_wrong_pin_fails() {
    let t = Tls::new();
    let out = t.pull(&["--pin-sha256", &"00".repeat(32)]);
    out.assert_code(3);
    assert!(
        out.stderr.contains("matches no --pin-sha256"),
        "{}",
        out.all()
    );
    assert!(out.stderr.contains(&t.pki.fingerprint), "{}", out.all());
}

#[test]
fn insecure_works_but_warns_even_when_quiet() {
    let t = Tls::new();
    let out = t.pull(&["--insecure", "-q"]);
    out.assert_code(0);
    assert!(out.stderr.contains("warning: --insecure"), "{}", out.all());
}

/// A server without AUTH TLS: the run stops before any password is sent.
#[test]
fn tls_is_never_given_up_for_plain_text() {
    let srv = Scripted::start(Behaviour::default());
    let home = tempfile::tempdir().unwrap();
    let url = srv.url().replacen("ftp://", "ftps://", 1);
    let out = run_in(home.path(), &["ls", &url], &[]);
    out.assert_code(3);
    assert!(
        out.stderr.contains("the server refused TLS"),
        "{}",
        out.all()
    );
    assert!(
        out.stderr.contains("no plain-text fallback"),
        "{}",
        out.all()
    );
    let log = srv.log();
    assert_eq!(log.first().map(String::as_str), Some("AUTH TLS"), "{log:?}");
    assert!(
        !log.iter()
            .any(|c| c.starts_with("USER") || c.starts_with("PASS")),
        "{log:?}"
    );

    // Implicit TLS speaks TLS first: a plain server never sees an FTP command.
    let srv = Scripted::start(Behaviour::default());
    let out = run_in(
        home.path(),
        &["ls", "--tls", "implicit", "--retries", "0", &srv.url()],
        &[],
    );
    out.assert_code(3);
    assert!(out.stderr.contains("FTPS with 127.0.0.1"), "{}", out.all());
    assert!(srv.log().is_empty(), "{:?}", srv.log());
}

/// Implicit FTPS end to end: TLS from the first byte on the control connection and, after
/// PBSZ/PROT P, on every data connection; pull and push, verified against the test CA.
#[test]
fn implicit_tls_pulls_and_pushes() {
    let home = tempfile::tempdir().unwrap();
    let pki = pki::make(home.path());
    let srv = Scripted::start(Behaviour {
        mlsd: true,
        implicit_tls: Some(support::scripted::tls_config(&pki.cert_pem, &pki.key_pem)),
        ..Behaviour::default()
    });
    srv.put_file("d/a.bin", &noise(200_000, 5), std::time::SystemTime::now());
    let local = home.path().join("l");
    let (l, ca) = (local.to_str().unwrap(), pki.ca_pem.to_str().unwrap());
    let url = srv.url();
    let out = run_in(
        home.path(),
        &["pull", "--tls", "implicit", "--ca-file", ca, &url, l],
        &[],
    );
    out.assert_code(0);
    assert_eq!(fs::read(local.join("d/a.bin")).unwrap(), noise(200_000, 5));
    let log = srv.log();
    // The server reads commands only through TLS: these arrived encrypted.
    assert_eq!(
        log[..4],
        ["PBSZ 0", "PROT P", "USER user", "PASS pw"],
        "{log:?}"
    );

    write(&local, "up.txt", b"implicitly secure");
    let out = run_in(
        home.path(),
        &["push", "--tls", "implicit", "--ca-file", ca, l, &url],
        &[],
    );
    out.assert_code(0);
    assert_eq!(srv.file("/up.txt").unwrap().0, b"implicitly secure");

    // Without the CA the certificate is refused, as for explicit TLS.
    let out = run_in(home.path(), &["ls", "--tls", "implicit", &url], &[]);
    out.assert_code(3);
    assert!(
        out.stderr.contains("certificate verification failed"),
        "{}",
        out.all()
    );
}

/// Over TLS, commands are batched as on plain connections: each MLSD, RETR and STOR goes
/// in one write with its EPSV, and an upload's MFMT, RNFR and RNTO in one write; every
/// data connection is TLS too.
#[test]
fn ftps_batches_as_plain_ftp_does() {
    let home = tempfile::tempdir().unwrap();
    let pki = pki::make(home.path());
    let srv = batching_tls_server(&pki, Behaviour::default());
    for i in 0..3 {
        srv.put_file(
            &format!("d{i}/a.bin"),
            &noise(50_000, i),
            std::time::SystemTime::now(),
        );
    }
    let local = home.path().join("l");
    let (l, ca) = (local.to_str().unwrap(), pki.ca_pem.to_str().unwrap());
    let url = srv.url();
    let tls = ["--tls", "implicit", "--ca-file", ca, "-j", "1"];
    let out = run_in(
        home.path(),
        &[&["pull"], &tls[..], &[&url, l]].concat(),
        &[],
    );
    out.assert_code(0);
    for i in 0..3 {
        assert_eq!(
            fs::read(local.join(format!("d{i}/a.bin"))).unwrap(),
            noise(50_000, i)
        );
    }
    write(&local, "up.txt", b"secure and quick");
    let out = run_in(
        home.path(),
        &[&["push"], &tls[..], &[l, &url]].concat(),
        &[],
    );
    out.assert_code(0);
    assert_eq!(srv.file("/up.txt").unwrap().0, b"secure and quick");
    let (log, along) = (srv.log(), srv.pipelined());
    for (i, c) in log.iter().enumerate() {
        let verb = c.split(' ').next().unwrap();
        if ["MLSD", "RETR", "STOR", "RNFR", "RNTO"].contains(&verb) {
            assert!(along.contains(&i), "{c} came alone: {log:?} {along:?}");
        }
    }
    assert!(log.iter().any(|c| c.starts_with("RNTO /up.txt")), "{log:?}");
}

#[test]
fn certificate_flags_need_ftps() {
    let home = tempfile::tempdir().unwrap();
    let out = run_in(
        home.path(),
        &["ls", "--insecure", "ftp://127.0.0.1:1/"],
        &[],
    );
    out.assert_code(2);
    assert!(out.stderr.contains("are for FTPS"), "{}", out.all());
    let out = run_in(
        home.path(),
        &["ls", "--pin-sha256", "xyz", "ftps://127.0.0.1:1/"],
        &[],
    );
    out.assert_code(2);
}

/// An implicit-TLS scripted server with MLSD and EPSV, where batching can engage.
fn batching_tls_server(pki: &pki::Pki, b: Behaviour) -> Scripted {
    let mut feat = b.feat.clone();
    feat.push("EPSV");
    Scripted::start(Behaviour {
        mlsd: true,
        epsv: true,
        feat,
        implicit_tls: Some(support::scripted::tls_config(&pki.cert_pem, &pki.key_pem)),
        ..b
    })
}

/// Over TLS 1.3 our goodbye goes out right after a listing's handshake, so a server that
/// waits for it before its 226 need not wait a round trip. A server that takes it for the
/// client leaving (426) has the listing redone at once without it, for the rest of the run.
#[test]
fn an_early_tls_goodbye_refused_is_redone_without_it() {
    let home = tempfile::tempdir().unwrap();
    let pki = pki::make(home.path());
    let srv = batching_tls_server(
        &pki,
        Behaviour {
            abort_on_early_goodbye: true,
            ..Behaviour::default()
        },
    );
    srv.put_file("a.bin", &noise(5_000, 1), std::time::SystemTime::now());
    let local = home.path().join("l");
    let (l, ca) = (local.to_str().unwrap(), pki.ca_pem.to_str().unwrap());
    let url = srv.url();
    let out = run_in(
        home.path(),
        &["pull", "--tls", "implicit", "--ca-file", ca, "-v", &url, l],
        &[],
    );
    out.assert_code(0);
    assert_eq!(fs::read(local.join("a.bin")).unwrap(), noise(5_000, 1));
    assert!(
        out.stdout
            .contains("batching off for the TLS goodbye sent before a listing is read")
            && out.stdout.contains("426 Transfer aborted"),
        "{}",
        out.all()
    );
    let log = srv.log();
    let listings = log.iter().filter(|c| c.starts_with("MLSD")).count();
    assert_eq!(listings, 2, "the root listed again: {log:?}");
    assert!(
        !out.all().contains("retry"),
        "a redo is no retry: {}",
        out.all()
    );
}

/// A server that takes the early goodbye lists as before: the run's listings are whole.
#[test]
fn an_early_tls_goodbye_keeps_listings_whole() {
    let home = tempfile::tempdir().unwrap();
    let pki = pki::make(home.path());
    let srv = batching_tls_server(&pki, Behaviour::default());
    for i in 0..6 {
        srv.put_file(
            &format!("d{}/f{i}.bin", i % 3),
            &noise(3_000, i),
            std::time::SystemTime::now(),
        );
    }
    let local = home.path().join("l");
    let (l, ca) = (local.to_str().unwrap(), pki.ca_pem.to_str().unwrap());
    let url = srv.url();
    let out = run_in(
        home.path(),
        &["pull", "--tls", "implicit", "--ca-file", ca, "-v", &url, l],
        &[],
    );
    out.assert_code(0);
    for i in 0..6 {
        let got = fs::read(local.join(format!("d{}/f{i}.bin", i % 3))).unwrap();
        assert_eq!(got, noise(3_000, i));
    }
    assert!(!out.stdout.contains("batching off"), "{}", out.all());
}
