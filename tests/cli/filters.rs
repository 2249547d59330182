use super::*;

#[test]
fn excluded_paths_are_neither_sent_nor_deleted_nor_entered() {
    let sb = Sandbox::new();
    write(&sb.local, "index.html", b"i");
    write(&sb.local, "draft.tmp", b"t");
    write(&sb.local, "sub/notes.tmp", b"t");
    write(&sb.local, "build/out.js", b"b");
    write(&sb.local, "src/build/keep.js", b"k");
    // A name that cannot be sent: entering this directory would be an error.
    write(&sb.local, "node_modules/bad\nname", b"x");
    let probe = sb.push(&["--dry-run"]);
    assert_eq!(
        probe.code,
        1,
        "entering node_modules/ must fail: {}",
        probe.all()
    );
    write(&sb.remote, "server-side.tmp", b"remote only, excluded");
    write(&sb.remote, "stale.html", b"remote only");

    let args = [
        "--delete",
        "--exclude",
        "*.tmp",
        "--exclude",
        "node_modules",
        "--exclude",
        "/build",
    ];
    let out = sb.push(&args);
    out.assert_code(0);
    let mut sent = out.actions("upload");
    sent.sort();
    assert_eq!(sent, ["index.html", "src/build/keep.js"], "{}", out.all());
    assert_eq!(out.actions("delete"), ["stale.html"], "{}", out.all());
    assert!(
        sb.remote.join("server-side.tmp").exists(),
        "excluded files are never deleted"
    );

    let mut args = args.to_vec();
    args.push("--delete-excluded");
    let out = sb.push(&args);
    out.assert_code(0);
    assert_eq!(out.actions("delete"), ["server-side.tmp"], "{}", out.all());
}

#[test]
fn include_keeps_only_matching_files_on_pull() {
    let sb = Sandbox::new();
    write(&sb.remote, "a.html", b"a");
    write(&sb.remote, "deep/b.html", b"b");
    write(&sb.remote, "deep/c.css", b"c");
    write(&sb.remote, "skip/bad\nname", b"x");
    let probe = sb.pull(&["--dry-run", "--include", "*.html"]);
    assert_eq!(probe.code, 1, "entering skip/ must fail: {}", probe.all());
    let out = sb.pull(&["--include", "*.html", "--exclude", "skip/"]);
    out.assert_code(0);
    let mut got = out.actions("download");
    got.sort();
    assert_eq!(got, ["a.html", "deep/b.html"], "{}", out.all());
    assert!(!sb.local.join("deep/c.css").exists());
}

#[test]
fn empty_or_broken_patterns_are_usage_errors() {
    let sb = Sandbox::new();
    mkdir(&sb.local, "");
    let out = sb.push(&["--exclude", ""]);
    out.assert_code(2);
    assert!(
        out.stderr.contains("would match everything"),
        "{}",
        out.all()
    );
    let out = sb.push(&["--exclude-from", "/nonexistent/list"]);
    out.assert_code(2);
    assert!(out.stderr.contains("/nonexistent/list"), "{}", out.all());
}

#[test]
fn max_delete_holds_back_every_deletion_but_not_the_rest() {
    let sb = Sandbox::new();
    write(&sb.local, "new.txt", b"new");
    for i in 0..3 {
        write(&sb.remote, &format!("old{i}.txt"), b"old");
    }
    let out = sb.push(&["--delete", "--max-delete", "2"]);
    out.assert_code(1);
    assert!(
        out.stderr
            .contains("the plan deletes 3 of 3 entries, more than --max-delete 2"),
        "{}",
        out.all()
    );
    assert!(
        sb.remote.join("new.txt").exists(),
        "the uploads still happen"
    );
    assert_eq!(snapshot(&sb.remote).len(), 4, "nothing deleted");

    let out = sb.push(&["--delete", "--max-delete", "80%"]);
    assert_eq!(out.code, 0, "3 of 4 entries is 75%: {}", out.all());
    assert_eq!(snapshot(&sb.remote).len(), 1);
}
