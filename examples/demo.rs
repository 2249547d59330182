//! `cargo run --release --example demo`: ftpmirror's main job with no setup.
//!
//! Starts an in-process FTP server on 127.0.0.1 over a temporary directory, generates a sample
//! website, pushes it, edits a few files, previews and runs a `--delete` push, shows that a
//! re-run sends nothing, lists the server, and pulls the site back to check every byte.
//! Everything runs through the same entry point as the `ftpmirror` binary; the password comes
//! from `FTPMIRROR_PASSWORD`, as it should.

#[path = "../tests/support/sample.rs"]
mod sample;
#[path = "../tests/support/server.rs"]
mod server;

use sample::noise;

use std::fs;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

fn ftpmirror(args: &[&str]) -> u8 {
    println!("\n$ ftpmirror {}", args.join(" "));
    let code =
        ftpmirror::main_with_args(std::iter::once("ftpmirror").chain(args.iter().copied())).code();
    println!("(exit code {code})");
    code
}

/// About 400 files in 24 directories, 1–48 KiB each, plus a few larger images.
fn generate_site(root: &Path) {
    for section in 0..6 {
        for sub in 0..4 {
            let dir = root.join(format!("section-{section}/part-{sub}"));
            fs::create_dir_all(&dir).unwrap();
            for page in 0..16 {
                let seed = (section * 1000 + sub * 100 + page) as u64;
                let len = 1024 + (seed as usize * 7919) % (47 * 1024);
                fs::write(dir.join(format!("page-{page}.html")), noise(len, seed)).unwrap();
            }
        }
    }
    fs::create_dir_all(root.join("img")).unwrap();
    for i in 0..4 {
        fs::write(
            root.join(format!("img/photo-{i}.jpg")),
            noise(3 << 20, 77 + i),
        )
        .unwrap();
    }
    fs::write(
        root.join("index.html"),
        "<html><body>demo site</body></html>\n",
    )
    .unwrap();
    fs::write(root.join("old-page.html"), "stale\n").unwrap();
}

fn same_tree(a: &Path, b: &Path) -> Result<usize, String> {
    let mut files = 0;
    for e in walkdir::WalkDir::new(a).min_depth(1) {
        let e = e.map_err(|e| e.to_string())?;
        let rel = e.path().strip_prefix(a).unwrap();
        let other = b.join(rel);
        if e.file_type().is_dir() {
            if !other.is_dir() {
                return Err(format!("{} missing", other.display()));
            }
        } else {
            if fs::read(e.path()).ok() != fs::read(&other).ok() {
                return Err(format!("{} differs", rel.display()));
            }
            files += 1;
        }
    }
    Ok(files)
}

fn main() -> ExitCode {
    // The password goes where a user would put it: in the environment, not in the URL.
    // SAFETY: nothing else runs yet; the server's threads start below.
    unsafe { std::env::set_var("FTPMIRROR_PASSWORD", server::PASSWORD) };
    let tmp = tempfile::tempdir().expect("temporary directory");
    let site = tmp.path().join("site");
    let server_root = tmp.path().join("server-root");
    let copy = tmp.path().join("pulled-copy");
    fs::create_dir_all(&server_root).unwrap();
    generate_site(&site);
    let srv = server::FtpServer::start(&server_root);
    let base = format!("ftp://{}@127.0.0.1:{}", server::USER, srv.port);
    let url = format!("{base}/htdocs");
    let (site_s, copy_s) = (site.to_str().unwrap(), copy.to_str().unwrap());
    println!(
        "ftpmirror demo: an in-process FTP server on 127.0.0.1:{} serves {}",
        srv.port,
        server_root.display()
    );

    let mut failed = Vec::new();
    let mut step = |name: &str, args: &[&str], want: u8| {
        if ftpmirror(args) != want {
            failed.push(name.to_string());
        }
    };
    step("first push", &["push", "-q", site_s, &url], 0);
    println!("(quiet: nothing printed; the whole site is on the server)");

    // A moment later the site is edited: one page changes size, one keeps its size (only its
    // newer mtime tells), one is new, and one is removed.
    std::thread::sleep(Duration::from_secs(2));
    fs::write(
        site.join("index.html"),
        "<html><body>demo site, v2</body></html>\n",
    )
    .unwrap();
    let same_size = site.join("section-1/part-2/page-3.html");
    let mut bytes = fs::read(&same_size).unwrap();
    bytes[0] ^= 0xff;
    fs::write(&same_size, &bytes).unwrap();
    fs::write(site.join("section-5/news.html"), "<p>new</p>\n").unwrap();
    fs::remove_file(site.join("old-page.html")).unwrap();

    step(
        "preview",
        &["push", "--dry-run", "--delete", site_s, &url],
        0,
    );
    step("deploy", &["push", "--delete", site_s, &url], 0);
    step("no-change re-run", &["push", "--delete", site_s, &url], 0);
    step("list", &["ls", &format!("{base}/htdocs/img")], 0);
    step("pull back", &["pull", "-q", &url, copy_s], 0);

    match same_tree(&site, &copy).and_then(|n| same_tree(&copy, &site).map(|_| n)) {
        Ok(n) => println!("\nverified: the pulled copy matches the site byte for byte ({n} files)"),
        Err(e) => failed.push(format!("verification: {e}")),
    }
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        eprintln!("demo failed at: {}", failed.join(", "));
        ExitCode::FAILURE
    }
}
