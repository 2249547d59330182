//! Builders for the end-to-end tests: a sandbox with a local dir, a server root and a real
//! FTP server on loopback, and helpers to run the real binary and compare trees.

#![allow(dead_code)]

pub mod daemons;
pub mod pki;
pub mod run;
pub mod sample;
pub mod scripted;
pub mod server;

#[allow(unused_imports)]
pub use run::{Run, Server};
pub use sample::noise;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

use server::FtpServer;

pub struct Sandbox {
    pub dir: tempfile::TempDir,
    /// The local side (not created until a test writes to it or a pull creates it).
    pub local: PathBuf,
    /// The server's root directory.
    pub remote: PathBuf,
    pub server: FtpServer,
}

pub struct Outcome {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    /// Lines of stdout that start with `op` ("upload", "download", "delete", ...).
    pub fn actions(&self, op: &str) -> Vec<String> {
        self.stdout
            .lines()
            .filter_map(|l| l.strip_prefix(op).filter(|r| r.starts_with(' ')))
            .map(|r| r.trim().split("  (").next().unwrap().to_string())
            .collect()
    }

    pub fn all(&self) -> String {
        format!(
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

impl Sandbox {
    pub fn new() -> Sandbox {
        let dir = tempfile::tempdir().expect("tempdir");
        let local = dir.path().join("local");
        let remote = dir.path().join("remote");
        fs::create_dir_all(&remote).unwrap();
        let server = FtpServer::start(&remote);
        Sandbox {
            dir,
            local,
            remote,
            server,
        }
    }

    pub fn url(&self) -> String {
        self.server.url("")
    }

    pub fn local_str(&self) -> &str {
        self.local.to_str().unwrap()
    }

    /// Runs the real binary with a clean environment: no netrc, no password variable.
    pub fn run(&self, args: &[&str]) -> Outcome {
        self.run_env(args, &[])
    }

    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Outcome {
        run_in(self.dir.path(), args, env)
    }

    pub fn push(&self, extra: &[&str]) -> Outcome {
        self.on().push(&self.local).args(extra).run()
    }

    pub fn pull(&self, extra: &[&str]) -> Outcome {
        self.on().pull(&self.local).args(extra).run()
    }

    /// A run against this sandbox's server, in its home.
    pub fn on(&self) -> Run {
        Run::new(&self.server).home(self.dir.path())
    }
}

/// The binary with `args`, run in `home` with HOME and XDG_RUNTIME_DIR set to it (so no real
/// netrc, profile file or lock is used) and no password or config variable. Killed, and the test failed, if it runs for more than a minute: nothing may hang.
pub fn run_in(home: &Path, args: &[&str], env: &[(&str, &str)]) -> Outcome {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ftpmirror"));
    cmd.args(args)
        .current_dir(home)
        .env("HOME", home)
        .env("XDG_RUNTIME_DIR", home)
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("XDG_CACHE_HOME")
        .env_remove("FTPMIRROR_CONFIG")
        .env_remove("FTPMIRROR_PASSWORD")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("run ftpmirror");
    // Drain the pipes on threads so a chatty child never blocks on a full pipe.
    let drain = |mut r: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut s = Vec::new();
            r.read_to_end(&mut s).unwrap();
            String::from_utf8_lossy(&s).into_owned()
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            let _ = child.wait();
            let (out, err) = (stdout.join().unwrap(), stderr.join().unwrap());
            panic!("ftpmirror {args:?} hung for 60 s\n--- stdout\n{out}--- stderr\n{err}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Outcome {
        code: status.code().unwrap_or(-1),
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

/// Writes `bytes` at `root/rel`, creating parents.
pub fn write(root: &Path, rel: &str, bytes: &[u8]) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, bytes).unwrap();
}

pub fn mkdir(root: &Path, rel: &str) {
    fs::create_dir_all(root.join(rel)).unwrap();
}

/// Sets a file's mtime to `secs` seconds from now (negative: in the past).
pub fn touch(root: &Path, rel: &str, secs: i64) {
    let now = SystemTime::now();
    let t = if secs >= 0 {
        now + Duration::from_secs(secs as u64)
    } else {
        now - Duration::from_secs((-secs) as u64)
    };
    set_mtime(root, rel, t);
}

/// Sets a file's mtime to `t`.
pub fn set_mtime(root: &Path, rel: &str, t: SystemTime) {
    fs::File::options()
        .write(true)
        .open(root.join(rel))
        .unwrap()
        .set_modified(t)
        .unwrap();
}

pub fn mtime(root: &Path, rel: &str) -> SystemTime {
    fs::metadata(root.join(rel)).unwrap().modified().unwrap()
}

/// Every path below `root` ("d/" for directories) with file contents.
pub fn snapshot(root: &Path) -> BTreeMap<String, Option<Vec<u8>>> {
    let mut out = BTreeMap::new();
    if !root.exists() {
        return out;
    }
    for e in walkdir::WalkDir::new(root).min_depth(1) {
        let e = e.unwrap();
        let rel = e
            .path()
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if e.file_type().is_dir() {
            out.insert(format!("{rel}/"), None);
        } else {
            out.insert(rel, Some(fs::read(e.path()).unwrap()));
        }
    }
    out
}

/// A small site with the awkward cases: CRLF and NUL bytes, an empty file, an empty
/// directory, spaces in names, nesting, and optionally a 20 MB file.
pub fn sample_tree(root: &Path, big: bool) {
    write(root, "index.html", b"<html>hello</html>\n");
    write(root, "binary.dat", b"line1\r\nline2\n\0\0\x01\xff\r\n\r");
    write(root, "empty.txt", b"");
    mkdir(root, "empty dir");
    write(root, "css/site.css", b"body { color: red }\n");
    write(root, "a/b/c/deep file.txt", &noise(5000, 7));
    if big {
        write(root, "big.bin", &noise(20 * 1024 * 1024, 42));
    }
}

pub fn assert_same_tree(a: &Path, b: &Path) {
    assert_same_tree_but(a, b, &[]);
}

/// [`assert_same_tree`], leaving out `own` (ftpmirror's state, such as the manifest) in `b`.
pub fn assert_same_tree_but(a: &Path, b: &Path, own: &[&str]) {
    let (sa, mut sb) = (snapshot(a), snapshot(b));
    for o in own {
        sb.remove(*o);
    }
    let keys_a: Vec<_> = sa.keys().collect();
    let keys_b: Vec<_> = sb.keys().collect();
    assert_eq!(
        keys_a,
        keys_b,
        "paths differ between {} and {}",
        a.display(),
        b.display()
    );
    for (k, v) in &sa {
        assert!(sb[k] == *v, "contents of {k} differ");
    }
}

/// A day ago: an mtime older than anything a run writes.
pub fn old() -> SystemTime {
    SystemTime::now() - Duration::from_secs(86_400)
}

/// Polls `f` for up to 5 s, for a condition another process or thread brings about (the
/// in-process server records events asynchronously): waits on the event, not on a time.
pub fn eventually(mut f: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while std::time::Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}
