use super::*;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::scripted::{Behaviour, Scripted};

fn profile_file(sb: &Sandbox, body: &str) -> std::path::PathBuf {
    let path = sb.dir.path().join("ftpmirror.yaml");
    fs::write(&path, body).unwrap();
    path
}

fn site_profile(sb: &Sandbox) -> String {
    format!(
        "profiles:\n  site:\n    direction: push\n    local: local\n    remote: ftp://test@127.0.0.1:{}/\n    password: ${{FTP_PW}}\n    exclude: ['*.tmp']\n    log_file: run.log\n    summary_json: summary.json\n",
        sb.server.port
    )
}

#[test]
fn runs_a_profile_end_to_end_with_log_and_summary() {
    let sb = Sandbox::new();
    sample_tree(&sb.local, false);
    write(&sb.local, "scratch.tmp", b"not for the server");
    profile_file(&sb, &site_profile(&sb));
    let pw = [("FTP_PW", PASSWORD)];

    let dry = sb.run_env(&["run", "site", "--dry-run"], &pw);
    dry.assert_code(0);
    assert!(
        snapshot(&sb.remote).is_empty(),
        "--dry-run on the command line overrides the profile"
    );
    assert!(
        dry.actions("upload").contains(&"index.html".to_string()),
        "{}",
        dry.all()
    );

    let out = sb.run_env(&["run", "site"], &pw);
    out.assert_code(0);
    fs::remove_file(sb.local.join("scratch.tmp")).unwrap();
    assert_same_tree(&sb.local, &sb.remote);

    let log = fs::read_to_string(sb.dir.path().join("run.log")).unwrap();
    let lines: Vec<&str> = log.lines().collect();
    assert!(
        lines.iter().any(|l| l.contains(&format!(
            "[site] start push {} -> ftp://test@127.0.0.1:",
            sb.local.display()
        ))),
        "{log}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.ends_with("[site] upload index.html (19 bytes)")),
        "{log}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("[site] 5 uploaded, 0 downloaded")),
        "{log}"
    );
    assert!(
        lines
            .iter()
            .all(|l| l.starts_with("20") && l.contains("Z ftpmirror[")),
        "timestamped: {log}"
    );
    assert!(!log.contains(PASSWORD));

    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(sb.dir.path().join("summary.json")).unwrap())
            .unwrap();
    assert_eq!(json["profile"], "site");
    assert_eq!(json["exit_code"], 0);
    assert_eq!(json["counts"]["uploaded"], 5, "the .tmp file is excluded");
    assert_eq!(json["counts"]["dirs_created"], 5);
    assert!(json["bytes"].as_u64().unwrap() > 5000);
    assert_eq!(json["failures"].as_array().unwrap().len(), 0);
    assert!(!json.to_string().contains(PASSWORD));
}

#[test]
fn failures_reach_the_log_and_the_summary() {
    let sb = Sandbox::new();
    write(&sb.local, "ok.txt", b"ok");
    write(&sb.local, "denied.txt", b"no");
    sb.server.refuse("denied.txt");
    profile_file(&sb, &site_profile(&sb));
    let out = sb.run_env(&["run", "site", "-q"], &[("FTP_PW", PASSWORD)]);
    out.assert_code(1);
    assert_eq!(out.stdout, "", "quiet");
    let log = fs::read_to_string(sb.dir.path().join("run.log")).unwrap();
    assert!(
        log.contains("error: upload denied.txt: STOR /denied.txt"),
        "{log}"
    );
    assert!(log.contains("end: exit code 1"), "{log}");
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(sb.dir.path().join("summary.json")).unwrap())
            .unwrap();
    assert_eq!(json["exit_code"], 1);
    let failed = &json["failures"][0];
    assert_eq!(
        (&failed["op"], &failed["path"], &failed["step"]),
        (&"upload".into(), &"denied.txt".into(), &"store".into()),
        "{json}"
    );
    assert_eq!(failed["code"], 550, "{json}");
    assert!(
        failed["message"].as_str().unwrap().contains("550"),
        "{json}"
    );
}

#[test]
fn configuration_mistakes_exit_2_in_one_line_and_touch_nothing() {
    let sb = Sandbox::new();
    write(&sb.local, "a.txt", b"a");
    let good = site_profile(&sb);
    // (profile file text, arguments, environment, expected message)
    type Case<'a> = (String, Vec<&'a str>, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case> = vec![
        (
            good.replace("exclude:", "exlude:"),
            vec!["run", "site"],
            vec![("FTP_PW", "x")],
            "unknown key 'exlude' at ftpmirror.yaml:7:5 in profile 'site' — did you mean 'exclude'?",
        ),
        (
            good.clone() + "    mode: passiv\n",
            vec!["run", "site"],
            vec![("FTP_PW", "x")],
            "invalid value for 'mode' at ftpmirror.yaml:10:11",
        ),
        (
            good.clone(),
            vec!["run", "site"],
            vec![],
            "environment variable FTP_PW is not set, used by profile 'site' at ftpmirror.yaml:6:15",
        ),
        (
            good.clone(),
            vec!["run", "sit"],
            vec![("FTP_PW", "x")],
            "unknown profile 'sit' in ftpmirror.yaml; available: site",
        ),
        (
            good.replace("    direction: push\n", ""),
            vec!["check"],
            vec![("FTP_PW", "x")],
            "profile 'site' at ftpmirror.yaml:2:3 has no 'direction' key",
        ),
        (
            "profiles: [oops\n".to_string(),
            vec!["profiles"],
            vec![],
            "ftpmirror.yaml:",
        ),
    ];
    for (text, args, env, want) in cases {
        profile_file(&sb, &text);
        let out = sb.run_env(&args, &env);
        assert_eq!(out.code, 2, "{args:?}: {}", out.all());
        let err = out.stderr.trim_end();
        assert_eq!(err.lines().count(), 1, "one line: {}", out.all());
        assert!(
            err.starts_with("error: ") && err.contains(want),
            "want {want:?}\n{}",
            out.all()
        );
    }
    assert!(snapshot(&sb.remote).is_empty(), "nothing touched");
    fs::remove_file(sb.dir.path().join("ftpmirror.yaml")).unwrap();
    let out = sb.run(&["run", "site"]);
    out.assert_code(2);
    assert!(
        out.stderr.contains("no profile file found"),
        "{}",
        out.all()
    );
}

#[test]
fn profiles_and_check_list_and_validate() {
    let sb = Sandbox::new();
    let path = sb.dir.path().join("elsewhere.yaml");
    fs::write(&path, "profiles:\n  a:\n    direction: pull\n    local: x\n    remote: ftp://u:topsecret@h/p\n  b:\n    direction: push\n    local: y\n    remote: ftp://h/q\n").unwrap();
    let p = path.to_str().unwrap();
    let out = sb.run(&["profiles", "-f", p]);
    out.assert_code(0);
    assert!(!out.all().contains("topsecret"));
    let rows: Vec<Vec<&str>> = out
        .stdout
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows[0], ["NAME", "DIRECTION", "LOCAL", "REMOTE"]);
    assert_eq!(rows[1], ["a", "pull", "x", "ftp://u:***@h/p"]);
    assert_eq!(rows[2], ["b", "push", "y", "ftp://h/q"]);

    let out = sb.run_env(&["check", "-v"], &[("FTPMIRROR_CONFIG", p)]);
    out.assert_code(0);
    assert!(
        out.stdout.contains(&format!("using profile file {p}")),
        "{}",
        out.all()
    );
    assert!(
        out.stdout.contains("2 profile(s) OK: a, b"),
        "{}",
        out.all()
    );
}

#[test]
fn passwords_in_files_others_can_read_are_warned_about() {
    use std::os::unix::fs::PermissionsExt;
    let sb = Sandbox::new();
    write(&sb.remote, "f.txt", b"x");
    let yaml = format!(
        "profiles:\n  p:\n    direction: pull\n    local: l\n    remote: ftp://test@127.0.0.1:{}/\n    password: {PASSWORD}\n",
        sb.server.port
    );
    let path = profile_file(&sb, &yaml);
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
    let out = sb.run(&["run", "p"]);
    out.assert_code(0);
    assert!(
        out.stderr.contains(
            "ftpmirror.yaml holds a password and is readable by others (mode 644): chmod 600"
        ),
        "{}",
        out.all()
    );
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    let out = sb.run(&["run", "p"]);
    assert!(!out.stderr.contains("readable by others"), "{}", out.all());

    // ${VAR} is not a password in the file.
    profile_file(&sb, &yaml.replace(PASSWORD, "${PW}"));
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
    let out = sb.run_env(&["run", "p"], &[("PW", PASSWORD)]);
    assert!(!out.stderr.contains("readable by others"), "{}", out.all());

    let netrc = sb.dir.path().join(".netrc");
    fs::write(
        &netrc,
        format!("machine 127.0.0.1 login test password {PASSWORD}\n"),
    )
    .unwrap();
    fs::set_permissions(&netrc, fs::Permissions::from_mode(0o640)).unwrap();
    let out = sb.run(&["ls", &sb.server.bare_url("")]);
    out.assert_code(0);
    assert!(
        out.stderr
            .contains(".netrc holds a password and is readable by others (mode 640)"),
        "{}",
        out.all()
    );
}

#[test]
fn shipped_example_profiles_pass_check() {
    let home = tempfile::tempdir().unwrap();
    write(home.path(), ".config/ftpmirror/staging.password", b"pw\n");
    for example in ["nightly-mirror.yaml", "deploy-site.yaml"] {
        let file = format!("{}/examples/{example}", env!("CARGO_MANIFEST_DIR"));
        let env = [("REPORTS_FTP_PASSWORD", "x"), ("FTP_PASSWORD", "y")];
        let out = run_in(home.path(), &["check", "-f", &file], &env);
        assert_eq!(out.code, 0, "{example}: {}", out.all());
    }
}

/// Two real processes: the second run of a profile exits 4 naming the first one's pid; once
/// the first is killed, the OS has released the lock and the profile runs again.
#[test]
fn a_second_run_of_the_same_profile_exits_4() {
    let srv = Scripted::start(Behaviour {
        silent: true,
        ..Behaviour::default()
    });
    let home = tempfile::tempdir().unwrap();
    mkdir(home.path(), "local");
    let yaml = format!(
        "profiles:\n  slow:\n    direction: push\n    local: local\n    remote: {}\n    timeout: 30s\n",
        srv.url()
    );
    fs::write(home.path().join("ftpmirror.yaml"), yaml).unwrap();
    let mut first = Command::new(env!("CARGO_BIN_EXE_ftpmirror"))
        .args(["run", "slow"])
        .current_dir(home.path())
        .env("HOME", home.path())
        .env("XDG_RUNTIME_DIR", home.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the first run holds the lock and has written its pid.
    let deadline = Instant::now() + Duration::from_secs(20);
    let pid = first.id().to_string();
    loop {
        let held = fs::read_dir(home.path()).unwrap().flatten().any(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.starts_with("ftpmirror-slow-")
                && fs::read_to_string(e.path()).unwrap_or_default() == pid
        });
        if held {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the first run never took the lock"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let second = run_in(home.path(), &["run", "slow"], &[]);
    second.assert_code(4);
    assert_eq!(
        second.stderr.lines().last().unwrap(),
        format!("error: profile 'slow' is already running (pid {pid})")
    );

    first.kill().unwrap();
    first.wait().unwrap();
    let third = run_in(
        home.path(),
        &["run", "slow", "--timeout", "1s", "--retries", "0"],
        &[],
    );
    assert_eq!(
        third.code,
        3,
        "runs (and times out on the silent server): {}",
        third.all()
    );
}
