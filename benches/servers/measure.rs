//! Runs one client under `/usr/bin/time -v` (wall time, peak RSS, CPU seconds) and checks
//! the tree it produced: every path, size and SHA-256 of the content.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::tools::Invocation;

/// One run of one client.
#[derive(Debug, Clone, Default)]
pub struct Sample {
    pub wall: f64,
    pub rss_kb: u64,
    pub cpu: f64,
    pub exit: i32,
    /// The last lines the client printed on stderr, when it failed.
    pub stderr_tail: String,
}

pub fn run(inv: &Invocation, scratch: &Path) -> Sample {
    let report = scratch.join("time-v.txt");
    let errors = scratch.join("stderr.txt");
    let mut cmd = Command::new("/usr/bin/time");
    cmd.arg("-v")
        .arg("-o")
        .arg(&report)
        .args(&inv.argv)
        .envs(inv.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(File::create(&errors).expect("scratch file"));
    let started = Instant::now();
    let status = cmd.status().expect("/usr/bin/time could not start");
    let wall = started.elapsed().as_secs_f64();
    let text = std::fs::read_to_string(&report).unwrap_or_default();
    let field = |name: &str| -> Option<&str> {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(name))
            .map(str::trim)
    };
    let num = |name: &str| {
        field(name)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    let stderr = std::fs::read_to_string(&errors).unwrap_or_default();
    let exit = status.code().unwrap_or(-1);
    Sample {
        wall,
        rss_kb: num("Maximum resident set size (kbytes):") as u64,
        cpu: num("User time (seconds):") + num("System time (seconds):"),
        exit,
        stderr_tail: if exit == 0 {
            String::new()
        } else {
            let lines: Vec<&str> = stderr.lines().collect();
            lines[lines.len().saturating_sub(3)..].join(" | ")
        },
    }
}

/// path -> (size, SHA-256) for every file under `root`; directories as size `u64::MAX`.
pub fn digest(root: &Path) -> BTreeMap<String, (u64, Vec<u8>)> {
    let mut out = BTreeMap::new();
    let mut buf = vec![0u8; 1 << 20];
    for e in walkdir::WalkDir::new(root).min_depth(1) {
        let Ok(e) = e else { continue };
        let rel = e
            .path()
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        // ftpmirror's own state on the server (the --checksum manifest) is not the tree.
        if e.depth() == 1 && rel.starts_with(".ftpmirror") {
            continue;
        }
        if e.file_type().is_dir() {
            out.insert(rel, (u64::MAX, Vec::new()));
            continue;
        }
        let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
        let mut size = 0u64;
        if let Ok(mut f) = File::open(e.path()) {
            while let Ok(n) = f.read(&mut buf) {
                if n == 0 {
                    break;
                }
                ctx.update(&buf[..n]);
                size += n as u64;
            }
        }
        out.insert(rel, (size, ctx.finish().as_ref().to_vec()));
    }
    out
}

/// "ok", or how the result differs from the source: missing, extra and different paths.
pub fn verify(
    expected: &BTreeMap<String, (u64, Vec<u8>)>,
    result: &BTreeMap<String, (u64, Vec<u8>)>,
) -> String {
    let missing = expected.keys().filter(|k| !result.contains_key(*k)).count();
    let extra: Vec<&String> = result
        .keys()
        .filter(|k| !expected.contains_key(*k))
        .collect();
    let differ = expected
        .iter()
        .filter(|(k, v)| result.get(*k).is_some_and(|r| r != *v))
        .count();
    if missing == 0 && extra.is_empty() && differ == 0 {
        return "ok".into();
    }
    let mut s = format!("{missing} missing, {} extra, {differ} differ", extra.len());
    if let Some(first) = extra.first() {
        s.push_str(&format!(" (extra: {first})"));
    }
    s
}
