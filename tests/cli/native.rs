use super::*;
use std::os::unix::fs::PermissionsExt;

#[test]
fn init_writes_a_starter_file_that_checks_and_never_overwrites() {
    let home = tempfile::tempdir().unwrap();
    let out = run_in(home.path(), &["init"], &[]);
    out.assert_code(0);
    let file = home.path().join("ftpmirror.yaml");
    let text = fs::read_to_string(&file).unwrap();
    assert!(
        text.contains("${FTP_PASSWORD}") && text.contains("node_modules") && text.contains(".git")
    );
    assert_eq!(
        fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let out = run_in(home.path(), &["check"], &[("FTP_PASSWORD", "x")]);
    out.assert_code(0);
    assert!(
        out.stdout.contains("1 profile(s) OK: site"),
        "{}",
        out.all()
    );

    let out = run_in(home.path(), &["init", "--pull"], &[]);
    out.assert_code(2);
    assert!(out.stderr.contains("exists already"), "{}", out.all());
    assert_eq!(fs::read_to_string(&file).unwrap(), text, "not overwritten");

    let out = run_in(home.path(), &["init", "--pull", "nightly.yaml"], &[]);
    out.assert_code(0);
    let env = [("FTP_USER", "u"), ("FTP_PASSWORD", "x")];
    let out = run_in(home.path(), &["check", "-f", "nightly.yaml"], &env);
    out.assert_code(0);
    assert!(out.stdout.contains("OK: mirror"), "{}", out.all());
}

#[test]
fn completions_and_man_page() {
    let home = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let out = run_in(home.path(), &["completions", shell], &[]);
        assert_eq!(out.code, 0, "{shell}: {}", out.all());
        assert!(
            out.stdout.contains("ftpmirror") && out.stdout.contains("dry-run"),
            "{shell}"
        );
    }
    let out = run_in(home.path(), &["man"], &[]);
    out.assert_code(0);
    assert!(
        out.stdout.starts_with(".ie") || out.stdout.contains(".TH ftpmirror 1"),
        "{}",
        &out.stdout[..200]
    );
    assert!(out.stdout.contains("pull") && out.stdout.contains("push"));
    let out = run_in(home.path(), &["--version"], &[]);
    assert!(out.stdout.contains("rustls"), "{}", out.all());
}

#[test]
fn vv_traces_the_protocol_with_the_password_masked() {
    let sb = Sandbox::new();
    write(&sb.remote, "f.txt", b"x");
    let out = sb.run(&["ls", "-vv", &sb.url()]);
    out.assert_code(0);
    assert!(out.stderr.contains("CC OUT: USER test"), "{}", out.all());
    assert!(out.stderr.contains("CC OUT: PASS ****"), "{}", out.all());
    assert!(!out.all().contains(PASSWORD));

    let out = sb.run_env(&["ls", &sb.url()], &[("RUST_LOG", "ftpmirror::ftp=trace")]);
    assert!(
        out.stderr.contains("CC OUT: MLSD"),
        "RUST_LOG works without -v: {}",
        out.all()
    );
    assert!(!out.all().contains(PASSWORD));
}

#[test]
fn color_is_for_terminals_or_when_asked() {
    let sb = Sandbox::new();
    let bad = ["ls", "--retries", "0", "ftp://127.0.0.1:1/"];
    let plain = sb.run(&bad);
    assert!(
        plain.stderr.starts_with("error: "),
        "not a terminal, no colour: {}",
        plain.all()
    );
    let mut always = vec!["--color", "always"];
    always.extend(bad);
    let out = sb.run_env(&always, &[("NO_COLOR", "1")]);
    assert!(
        out.stderr.contains("\x1b[1;31merror:\x1b[0m"),
        "{:?}",
        out.stderr
    );
    let mut never = vec!["--color", "never"];
    never.extend(bad);
    assert!(!sb.run(&never).stderr.contains('\x1b'));
}
