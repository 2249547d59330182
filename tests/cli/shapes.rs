use super::*;

/// UTF-8, spaces, `#`, `%`, `[`, leading dashes and hidden files, both ways.
#[test]
fn awkward_names_round_trip() {
    let names = [
        "é à ü.txt",
        "中文/文件.txt",
        "emoji 😀.bin",
        "  two leading spaces",
        "trailing space ",
        "hash#name",
        "per%cent %41",
        "[brackets] *star?",
        "-leading-dash",
        "--double",
        ".htaccess",
        ".hidden dir/.env",
    ];
    let sb = Sandbox::new();
    for (i, n) in names.iter().enumerate() {
        write(&sb.local, n, &noise(100 + i, i as u64));
    }
    let out = sb.push(&[]);
    out.assert_code(0);
    assert_same_tree(&sb.local, &sb.remote);
    let again = sb.push(&[]);
    assert!(again.actions("upload").is_empty(), "{}", again.all());

    fs::remove_dir_all(&sb.local).unwrap();
    let out = sb.pull(&[]);
    out.assert_code(0);
    assert_same_tree(&sb.remote, &sb.local);
}

/// The same names through a LIST-only server (leading spaces and dashes are where LIST
/// parsers usually slip).
#[test]
fn awkward_names_through_list() {
    use support::scripted::{Behaviour, Scripted};
    let srv = Scripted::start(Behaviour::default());
    let home = tempfile::tempdir().unwrap();
    let (up, down) = (home.path().join("up"), home.path().join("down"));
    for (i, n) in [
        "é à ü.txt",
        "  two leading spaces",
        "-leading-dash",
        "[x] #%.txt",
        ".htaccess",
        "sub dir/中文.txt",
    ]
    .iter()
    .enumerate()
    {
        write(&up, n, &noise(50 + i, i as u64));
    }
    let out = run_in(
        home.path(),
        &["push", up.to_str().unwrap(), &srv.url()],
        &[],
    );
    out.assert_code(0);
    let out = run_in(
        home.path(),
        &["pull", &srv.url(), down.to_str().unwrap()],
        &[],
    );
    out.assert_code(0);
    assert_same_tree(&up, &down);
}

/// No recursion limits: a tree 200 levels deep goes up and comes back.
#[test]
fn a_tree_200_levels_deep() {
    let sb = Sandbox::new();
    let deep: String = (0..200).map(|i| format!("d{i}/")).collect();
    write(&sb.local, &format!("{deep}bottom.txt"), b"deep down");
    write(&sb.local, "top.txt", b"top");
    let out = sb.push(&["-q"]);
    out.assert_code(0);
    assert_eq!(
        fs::read(sb.remote.join(format!("{deep}bottom.txt"))).unwrap(),
        b"deep down"
    );
    fs::remove_dir_all(&sb.local).unwrap();
    let out = sb.pull(&["-q"]);
    out.assert_code(0);
    assert_same_tree(&sb.remote, &sb.local);
}

/// 10,000 entries in one directory are listed in full and planned; transferring them all
/// would only measure the test server, so the test stops at the plan.
#[test]
fn ten_thousand_entries_in_one_directory() {
    let sb = Sandbox::new();
    let dir = sb.remote.join("many");
    fs::create_dir_all(&dir).unwrap();
    for i in 0..10_000 {
        fs::write(dir.join(format!("f{i:05}")), b"").unwrap();
    }
    let out = sb.run(&["ls", &sb.url()]);
    out.assert_code(0);
    assert_eq!(
        out.stdout.lines().count(),
        10_001,
        "the directory and its entries"
    );
    let out = sb.pull(&["--dry-run"]);
    out.assert_code(0);
    assert_eq!(out.actions("download").len(), 10_000);
}

/// Sizes are 64-bit end to end in listings and plans: a sparse 5 GiB file on the server.
/// Moving 5 GiB through the test server is left out: it would take minutes and 5 GiB of disk.
#[test]
fn a_file_over_4_gib_is_listed_and_planned_with_its_size() {
    let sb = Sandbox::new();
    let f = fs::File::create(sb.remote.join("huge.iso")).unwrap();
    f.set_len(5 << 30).unwrap();
    let out = sb.run(&["ls", &sb.url()]);
    out.assert_code(0);
    assert!(out.stdout.contains(" 5368709120 "), "{}", out.all());
    let out = sb.pull(&["--dry-run"]);
    assert!(out.stdout.contains("5.00 GiB"), "{}", out.all());
}
