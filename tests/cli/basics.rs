use super::*;

#[test]
fn push_into_empty_server_is_byte_identical() {
    let sb = Sandbox::new();
    sample_tree(&sb.local, true);
    Run::new(&sb.server)
        .push(&sb.local)
        .expect_code(0)
        .expect_uploaded(6)
        .expect_stdout("6 uploaded");
    assert_same_tree(&sb.local, &sb.remote);
}

#[test]
fn pull_into_missing_dir_is_byte_identical_with_mtimes() {
    let sb = Sandbox::new();
    sample_tree(&sb.remote, true);
    touch(&sb.remote, "index.html", -86_400 * 30);
    let out = sb.pull(&[]);
    out.assert_code(0);
    assert_same_tree(&sb.remote, &sb.local);
    // MLSD gives seconds: the local copy carries the remote mtime to the second.
    for f in ["index.html", "big.bin", "a/b/c/deep file.txt"] {
        let (r, l) = (mtime(&sb.remote, f), mtime(&sb.local, f));
        let secs =
            |t: std::time::SystemTime| t.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        assert_eq!(secs(r), secs(l), "{f}");
    }
    assert!(
        !snapshot(&sb.local)
            .keys()
            .any(|k| k.contains("ftpmirror-part"))
    );
}

#[test]
fn second_push_sends_nothing_and_a_changed_file_alone_moves() {
    let sb = Sandbox::new();
    sample_tree(&sb.local, false);
    sb.push(&[]).assert_code(0);
    let before = mtime(&sb.remote, "index.html");

    let again = sb.push(&[]);
    again.assert_code(0);
    assert!(again.actions("upload").is_empty(), "{}", again.all());
    assert!(again.stdout.contains("0 uploaded"), "{}", again.all());
    assert_eq!(mtime(&sb.remote, "index.html"), before, "file was re-sent");

    // Same size, newer content: the mtime must catch it. Different size: the size must.
    write(&sb.local, "css/site.css", b"body { color: blu }\n");
    touch(&sb.local, "css/site.css", 120);
    write(
        &sb.local,
        "index.html",
        b"<html>changed and longer</html>\n",
    );
    let third = sb.push(&[]);
    third.assert_code(0);
    let mut sent = third.actions("upload");
    sent.sort();
    assert_eq!(sent, ["css/site.css", "index.html"], "{}", third.all());
    assert_same_tree(&sb.local, &sb.remote);
}

#[test]
fn second_pull_fetches_nothing_and_a_changed_file_alone_moves() {
    let sb = Sandbox::new();
    sample_tree(&sb.remote, false);
    sb.pull(&[]).assert_code(0);
    let again = sb.pull(&[]);
    again.assert_code(0);
    assert!(again.actions("download").is_empty(), "{}", again.all());

    // Same size, different content, older mtime on the server: still fetched.
    write(&sb.remote, "css/site.css", b"body { color: blu }\n");
    touch(&sb.remote, "css/site.css", -3600);
    let third = sb.pull(&[]);
    third.assert_code(0);
    assert_eq!(
        third.actions("download"),
        ["css/site.css"],
        "{}",
        third.all()
    );
    assert_same_tree(&sb.remote, &sb.local);
}

#[test]
fn delete_removes_extras_and_nothing_else() {
    let sb = Sandbox::new();
    sample_tree(&sb.local, false);
    sb.push(&[]).assert_code(0);
    write(&sb.remote, "stale.html", b"old");
    write(&sb.remote, "old/sub/x.txt", b"old");
    mkdir(&sb.remote, "old/empty");

    let keep = sb.push(&[]);
    keep.assert_code(0);
    assert!(
        sb.remote.join("stale.html").exists(),
        "deleted without --delete"
    );

    let out = sb.push(&["--delete"]);
    out.assert_code(0);
    assert_same_tree(&sb.local, &sb.remote);
    let mut deleted = out.actions("delete");
    deleted.sort();
    assert_eq!(deleted, ["old/sub/x.txt", "stale.html"]);

    // Pull direction: local extras go, remote stays.
    write(&sb.local, "local-only.txt", b"x");
    let pulled = sb.pull(&["--delete"]);
    pulled.assert_code(0);
    assert!(!sb.local.join("local-only.txt").exists());
    assert_same_tree(&sb.remote, &sb.local);
}

#[test]
fn dry_run_changes_nothing_and_prints_the_plan() {
    let sb = Sandbox::new();
    sample_tree(&sb.local, false);
    write(&sb.remote, "extra.txt", b"extra");
    let (local, remote) = (snapshot(&sb.local), snapshot(&sb.remote));
    let out = sb.push(&["--dry-run", "--delete"]);
    out.assert_code(0);
    assert_eq!(snapshot(&sb.local), local);
    assert_eq!(snapshot(&sb.remote), remote);
    assert!(
        out.actions("upload").contains(&"index.html".to_string()),
        "{}",
        out.all()
    );
    assert_eq!(out.actions("delete"), ["extra.txt"]);
    assert!(
        out.stdout.contains("(missing)"),
        "reasons are shown: {}",
        out.all()
    );
    assert!(out.stdout.contains("nothing changed"), "{}", out.all());

    let pull = sb.pull(&["--dry-run"]);
    pull.assert_code(0);
    assert_eq!(snapshot(&sb.local), local);
}

#[test]
fn active_mode_pushes_and_pulls() {
    let sb = Sandbox::new();
    sample_tree(&sb.local, false);
    let out = sb.push(&["--active"]);
    out.assert_code(0);
    assert_same_tree(&sb.local, &sb.remote);
    fs::remove_dir_all(&sb.local).unwrap();
    let out = sb.pull(&["--active", "-j", "2"]);
    out.assert_code(0);
    assert_same_tree(&sb.remote, &sb.local);
}

/// The largest files go first, so a run does not end on one big file started last.
#[test]
fn transfers_start_with_the_largest_files() {
    let sb = Sandbox::new();
    for (name, size) in [
        ("a.txt", 10),
        ("b.txt", 3000),
        ("c.txt", 200),
        ("d/e.txt", 1000),
    ] {
        write(&sb.local, name, &noise(size, size as u64));
    }
    let out = sb.push(&["-j", "1"]);
    out.assert_code(0);
    assert_eq!(
        out.actions("upload"),
        ["b.txt", "d/e.txt", "c.txt", "a.txt"],
        "{}",
        out.all()
    );
    assert_same_tree(&sb.local, &sb.remote);
}

#[test]
fn one_and_eight_sessions_give_the_same_result() {
    let sb = Sandbox::new();
    for i in 0..40 {
        write(
            &sb.remote,
            &format!("d{}/f{i}.txt", i % 7),
            &noise(100 + i * 13, i as u64 + 1),
        );
    }
    for j in ["1", "8"] {
        let _ = fs::remove_dir_all(&sb.local);
        let out = sb.pull(&["-j", j]);
        assert_eq!(out.code, 0, "-j {j}: {}", out.all());
        assert_same_tree(&sb.remote, &sb.local);
        assert_eq!(out.actions("download").len(), 40);
    }
}

#[test]
fn wrong_password_exits_3_without_leaking_it() {
    let sb = Sandbox::new();
    mkdir(&sb.local, "");
    let url = format!("ftp://test:wrong-pw-123@127.0.0.1:{}/", sb.server.port);
    let out = sb.run(&["push", "-v", sb.local_str(), &url]);
    out.assert_code(3);
    let want = format!(
        "error: login to 127.0.0.1:{} as test failed: 530",
        sb.server.port
    );
    assert!(out.stderr.contains(&want), "{}", out.all());
    let errors = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("error:"))
        .count();
    assert_eq!(errors, 1, "one line: {}", out.all());
    assert!(
        out.stderr
            .contains("warning: a password in a command-line URL is visible"),
        "{}",
        out.all()
    );
    assert!(!out.all().contains("wrong-pw-123"));
}

#[test]
fn password_from_environment_and_netrc() {
    let sb = Sandbox::new();
    write(&sb.remote, "f.txt", b"x");
    let url = format!("ftp://test@127.0.0.1:{}/", sb.server.port);
    let out = sb.run_env(&["ls", &url], &[("FTPMIRROR_PASSWORD", PASSWORD)]);
    out.assert_code(0);

    fs::write(
        sb.dir.path().join(".netrc"),
        format!("machine 127.0.0.1 login test password {PASSWORD}\n"),
    )
    .unwrap();
    let out = sb.run(&["ls", &sb.server.bare_url("")]);
    out.assert_code(0);
    assert!(out.stdout.contains("f.txt"));
    assert!(!out.all().contains(PASSWORD));
}

/// `--password-command`: the first line the command prints; it beats the environment. A
/// failing command is a configuration error (exit 2) that names it and never shows its output.
#[test]
fn password_from_a_command() {
    let sb = Sandbox::new();
    write(&sb.remote, "f.txt", b"x");
    let url = format!("ftp://test@127.0.0.1:{}/", sb.server.port);
    let cmd = format!("printf '{PASSWORD}\\nsecond line\\n'");
    let out = sb.run_env(
        &["ls", "--password-command", &cmd, &url],
        &[("FTPMIRROR_PASSWORD", "wrong")],
    );
    out.assert_code(0);
    assert!(out.stdout.contains("f.txt"), "{}", out.all());

    let out = sb.run(&[
        "ls",
        "--password-command",
        "sh -c 'echo leaked-secret; exit 3'",
        &url,
    ]);
    out.assert_code(2);
    assert!(
        out.stderr.contains("--password-command \"sh\" failed"),
        "{}",
        out.all()
    );
    assert!(!out.all().contains("leaked-secret"), "{}", out.all());

    let out = sb.run(&["ls", "--password-command", "true", &url]);
    out.assert_code(2);
    assert!(out.stderr.contains("printed no password"), "{}", out.all());
}

#[test]
fn unreachable_host_exits_3() {
    let sb = Sandbox::new();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = sb.run(&[
        "ls",
        "--timeout",
        "5s",
        "--retry-delay",
        "10ms",
        &format!("ftp://127.0.0.1:{port}/"),
    ]);
    out.assert_code(3);
    assert!(
        out.stderr
            .contains(&format!("cannot connect to 127.0.0.1:{port}")),
        "{}",
        out.all()
    );
}

#[test]
fn missing_remote_path_is_reported_and_nothing_touched() {
    let sb = Sandbox::new();
    write(&sb.local, "keep.txt", b"precious");
    let url = sb.server.url("no/such/dir");
    let out = sb.run(&["pull", "--delete", &url, sb.local_str()]);
    out.assert_code(1);
    assert!(
        out.stderr.contains("cannot list /no/such/dir"),
        "{}",
        out.all()
    );
    assert!(out.stderr.contains("550"), "{}", out.all());
    assert_eq!(fs::read(sb.local.join("keep.txt")).unwrap(), b"precious");
}

#[test]
fn push_creates_a_missing_remote_directory() {
    let sb = Sandbox::new();
    sample_tree(&sb.local, false);
    let url = sb.server.url("new/site");
    let out = sb.run(&["push", sb.local_str(), &url]);
    out.assert_code(0);
    assert_same_tree(&sb.local, &sb.remote.join("new/site"));
}

#[test]
fn refused_file_is_reported_and_the_rest_done_without_deletes() {
    let sb = Sandbox::new();
    write(&sb.remote, "ok1.txt", b"one");
    write(&sb.remote, "secret.txt", b"no");
    write(&sb.remote, "sub/ok2.txt", b"two");
    write(&sb.local, "local-extra.txt", b"keep me");
    sb.server.refuse("secret.txt");
    let out = sb.pull(&["--delete"]);
    out.assert_code(1);
    assert!(
        out.stderr.contains("download secret.txt: RETR /secret.txt"),
        "{}",
        out.all()
    );
    assert!(out.stderr.contains("550"), "{}", out.all());
    assert_eq!(fs::read(sb.local.join("ok1.txt")).unwrap(), b"one");
    assert_eq!(fs::read(sb.local.join("sub/ok2.txt")).unwrap(), b"two");
    assert!(!sb.local.join("secret.txt").exists());
    // A failure means no deletions: the extra file survives.
    assert_eq!(
        fs::read(sb.local.join("local-extra.txt")).unwrap(),
        b"keep me"
    );
    assert!(out.stderr.contains("deletion(s) skipped"), "{}", out.all());

    // Push: the server refuses to store one file; the others arrive.
    write(&sb.local, "new/denied.bin", b"data");
    write(&sb.local, "new/fine.bin", b"data");
    sb.server.refuse("denied.bin");
    let out = sb.push(&[]);
    out.assert_code(1);
    assert!(
        out.stderr
            .contains("upload new/denied.bin: STOR /new/denied.bin"),
        "{}",
        out.all()
    );
    assert_eq!(fs::read(sb.remote.join("new/fine.bin")).unwrap(), b"data");
}

#[test]
fn failed_download_leaves_the_old_local_file_intact() {
    let sb = Sandbox::new();
    write(&sb.remote, "report.csv", b"new version, longer");
    write(&sb.local, "report.csv", b"old version");
    sb.server.refuse("report.csv");
    let out = sb.pull(&[]);
    out.assert_code(1);
    assert_eq!(
        fs::read(sb.local.join("report.csv")).unwrap(),
        b"old version"
    );
    assert!(!sb.local.join(".report.csv.ftpmirror-part").exists());
}

#[test]
fn ls_prints_the_tree_as_the_planner_sees_it() {
    let sb = Sandbox::new();
    write(&sb.remote, "dir/file.txt", b"12345");
    mkdir(&sb.remote, "empty");
    let out = sb.run(&["ls", &sb.url()]);
    out.assert_code(0);
    let lines: Vec<Vec<&str>> = out
        .stdout
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(lines.len(), 3, "{}", out.all());
    assert_eq!((lines[0][0], *lines[0].last().unwrap()), ("dir", "dir"));
    assert_eq!(lines[1][0], "file");
    assert_eq!(lines[1][1], "5");
    assert_eq!(
        lines[1][4],
        "s",
        "MLSD times have second precision: {}",
        out.all()
    );
    assert_eq!(lines[1][5], "dir/file.txt");
    assert_eq!(*lines[2].last().unwrap(), "empty");
}

/// `ls --json` for scripts: one array, one object per entry, times in RFC 3339 UTC.
#[test]
fn ls_json_is_one_array_of_entries() {
    let sb = Sandbox::new();
    write(&sb.remote, "dir/file \"q\".txt", b"12345");
    set_mtime(
        &sb.remote,
        "dir/file \"q\".txt",
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_706_097_600),
    );
    mkdir(&sb.remote, "empty");
    let out = sb.run(&["ls", "--json", &sb.url()]);
    out.assert_code(0);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON on stdout");
    let entries = v.as_array().unwrap();
    assert_eq!(entries.len(), 3, "{}", out.stdout);
    let file = &entries[1];
    assert_eq!(file["path"], "dir/file \"q\".txt");
    assert_eq!(file["type"], "file");
    assert_eq!(file["size"], 5);
    assert_eq!(file["mtime"], "2024-01-24T12:00:00Z");
    assert_eq!(file["precision"], "s");
    assert_eq!(entries[0]["type"], "dir");
    assert!(entries[0]["size"].is_null());
    assert_eq!(entries[2]["path"], "empty");
}

#[test]
fn file_directory_conflict_needs_delete() {
    let sb = Sandbox::new();
    write(&sb.local, "thing/inside.txt", b"now a directory");
    write(&sb.remote, "thing", b"was a file");
    let out = sb.push(&[]);
    out.assert_code(1);
    assert!(out.stderr.contains("conflict: thing"), "{}", out.all());
    assert_eq!(fs::read(sb.remote.join("thing")).unwrap(), b"was a file");

    let out = sb.push(&["--delete"]);
    out.assert_code(0);
    assert_same_tree(&sb.local, &sb.remote);
}

#[test]
fn usage_errors_exit_2() {
    let sb = Sandbox::new();
    for args in [
        vec!["push", "/nonexistent/dir", "ftp://127.0.0.1:1/"],
        vec!["ls", "sftp://127.0.0.1/"],
        vec!["ls", "http://example.com/"],
        vec!["ls", "-j", "0", "ftp://127.0.0.1/"],
        vec!["bogus"],
    ] {
        let out = sb.run(&args);
        assert_eq!(out.code, 2, "{args:?}: {}", out.all());
        assert!(out.stderr.contains("error"), "{args:?}: {}", out.all());
    }
    let out = sb.run(&["ls", "sftp://127.0.0.1/"]);
    assert!(
        out.stderr.contains("unsupported scheme 'sftp'"),
        "{}",
        out.all()
    );
}

#[test]
fn quiet_prints_nothing_on_success() {
    let sb = Sandbox::new();
    sample_tree(&sb.local, false);
    let out = sb.push(&["-q"]);
    out.assert_code(0);
    assert_eq!((out.stdout.as_str(), out.stderr.as_str()), ("", ""));
}

#[test]
fn verbose_shows_reasons_and_features_but_never_the_password() {
    let sb = Sandbox::new();
    sample_tree(&sb.local, false);
    let out = sb.push(&["-v"]);
    out.assert_code(0);
    assert!(out.stdout.contains("FEAT: MLSD"), "{}", out.all());
    assert!(
        out.stdout.contains("upload   index.html  (missing)"),
        "{}",
        out.all()
    );
    assert!(!out.all().contains(PASSWORD));
}

#[test]
fn symlinks_are_skipped_with_a_warning_and_protect_their_name() {
    let sb = Sandbox::new();
    write(&sb.local, "real.txt", b"real");
    mkdir(&sb.local, "");
    std::os::unix::fs::symlink("real.txt", sb.local.join("alias.txt")).unwrap();
    write(&sb.remote, "alias.txt", b"remote copy");
    let out = sb.push(&["--delete"]);
    out.assert_code(0);
    assert!(
        out.stderr
            .contains("warning: alias.txt: symbolic link skipped"),
        "{}",
        out.all()
    );
    assert_eq!(
        fs::read(sb.remote.join("alias.txt")).unwrap(),
        b"remote copy"
    );
    assert_eq!(fs::read(sb.remote.join("real.txt")).unwrap(), b"real");
}
