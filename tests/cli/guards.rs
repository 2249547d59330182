use super::*;

#[test]
fn empty_source_with_delete_is_refused_unless_allowed() {
    let sb = Sandbox::new();
    mkdir(&sb.local, "");
    write(&sb.remote, "index.html", b"live site");
    let out = sb.push(&["--delete"]);
    out.assert_code(1);
    assert!(
        out.stderr.contains("is empty: refusing --delete"),
        "{}",
        out.all()
    );
    assert_eq!(
        fs::read(sb.remote.join("index.html")).unwrap(),
        b"live site"
    );

    // Pull: an empty server directory must not empty the local copy either.
    fs::remove_file(sb.remote.join("index.html")).unwrap();
    write(&sb.local, "backup.tar", b"precious");
    let out = sb.pull(&["--delete"]);
    out.assert_code(1);
    assert!(sb.local.join("backup.tar").exists());

    let out = sb.pull(&["--delete", "--allow-empty-source"]);
    out.assert_code(0);
    assert!(!sb.local.join("backup.tar").exists());
}
