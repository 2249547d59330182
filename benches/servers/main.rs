//! The server benchmark: ftpmirror, lftp and rclone side by side on the same real daemons
//! (pure-ftpd, vsftpd), the same generated trees and the same parallelism, on bare loopback
//! and behind a delay-line proxy. Run on demand, never in CI's pass/fail:
//!
//! ```text
//! cargo bench --bench servers -- --all            # the whole table (about an hour)
//! cargo bench --bench servers -- --server pure-ftpd --preset site --rtt 20 --runs 3
//! ```
//!
//! See benches/README.md for the options, the latest table and what each target needs.

#[path = "../../tests/support/daemons.rs"]
mod daemons;
mod measure;
#[path = "../../tests/support/pki.rs"]
mod pki;
mod proxy;
mod report;
mod tools;
mod trees;

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use clap::Parser;

use daemons::{Daemon, Ip, Options};
use report::{Row, Scenario};
use tools::{Target, Tool, Way};
use trees::Preset;

#[derive(Parser, Debug)]
#[command(about = "ftpmirror vs lftp vs rclone on real FTP daemons")]
struct Args {
    /// The whole matrix: site and mirror at 0 ms, site at 20 ms, big, memory; both servers.
    #[arg(long)]
    all: bool,
    /// Servers: pure-ftpd, vsftpd, pyftpdlib (its ThreadedFTPServer), pure-ftpd-tls (TLS
    /// required on control and data connections).
    #[arg(long = "server", value_delimiter = ',')]
    servers: Vec<String>,
    /// Tree presets: site, mirror, big.
    #[arg(long = "preset", value_delimiter = ',')]
    presets: Vec<String>,
    /// Scenarios: push-initial, push-mutate, push-nochange, pull-initial, push-checkout (a CI
    /// deploy: a fresh checkout, every mtime new, about 1% changed; ftpmirror with --checksum
    /// against the manifest its previous deploy left).
    #[arg(long = "scenario", value_delimiter = ',')]
    scenarios: Vec<String>,
    /// Round-trip times in milliseconds; 0 is bare loopback without the proxy.
    #[arg(long = "rtt", value_delimiter = ',')]
    rtts: Vec<u64>,
    /// Clients: ftpmirror, lftp, rclone.
    #[arg(long = "tool", value_delimiter = ',')]
    tools: Vec<String>,
    /// Runs per tool and scenario; the table shows the median.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Parallel sessions for every client.
    #[arg(short = 'j', long, default_value_t = 4)]
    parallel: usize,
    /// Also measure memory: one directory of 200,000 entries, and bytes per entry.
    #[arg(long)]
    memory: bool,
    /// Where the Markdown report goes (it is also printed).
    #[arg(long, default_value = "target/bench-servers.md")]
    out: PathBuf,
    /// Do not install missing daemons or clients.
    #[arg(long)]
    no_install: bool,
    /// Start one server (the first of --server) behind the proxy at the first --rtt, print
    /// its URL and keep it up this many seconds: for looking at one client by hand.
    #[arg(long, value_name = "SECONDS")]
    serve: Option<u64>,
    /// Where the trees, the local side and the server roots live. The default is /dev/shm
    /// (tmpfs), so that the clients are compared rather than this disk: see benches/README.md.
    #[arg(long, value_name = "DIR")]
    work_dir: Option<PathBuf>,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

const SCENARIOS: [&str; 5] = [
    "push-initial",
    "push-mutate",
    "push-nochange",
    "pull-initial",
    "push-checkout",
];

fn main() {
    let mut args = Args::parse();
    if args.all {
        args.memory = true;
    }
    let selected = args.all
        || args.memory
        || !(args.servers.is_empty() && args.presets.is_empty() && args.rtts.is_empty());
    if !selected {
        println!(
            "servers bench: nothing selected. `cargo bench --bench servers -- --all` runs the \
             whole table; see benches/README.md for a smaller selection."
        );
        return;
    }
    let work_dir = args.work_dir.clone().unwrap_or_else(|| {
        let shm = PathBuf::from("/dev/shm");
        if shm.is_dir() {
            shm
        } else {
            std::env::temp_dir()
        }
    });
    // SAFETY: no other thread runs yet. The daemons' roots are temporary directories too,
    // and go to the same place.
    unsafe { std::env::set_var("TMPDIR", &work_dir) };
    if !args.no_install {
        install_missing();
    }
    set_daemon_path();
    stop_daemons_on_signal();
    if let Some(secs) = args.serve {
        serve(&args, secs);
        return;
    }
    let servers = or_default(&args.servers, &["pure-ftpd", "vsftpd"]);
    let tools: Vec<Tool> = or_default(&args.tools, &["ftpmirror", "lftp", "rclone"])
        .iter()
        .map(|t| Tool::parse(t).unwrap_or_else(|| panic!("unknown tool {t}")))
        .collect();
    let work = tempfile::Builder::new()
        .prefix("ftpmirror-bench-")
        .tempdir()
        .expect("temporary directory");
    SCRATCH.lock().unwrap().push(work.path().to_path_buf());
    let mut md = header(&args, &tools);
    let mut plan: Vec<(u64, Preset, Vec<String>)> = Vec::new();
    if args.all {
        let all: Vec<String> = SCENARIOS.iter().map(|s| s.to_string()).collect();
        let initial = vec!["push-initial".to_string(), "pull-initial".to_string()];
        plan.push((0, trees::SITE, all.clone()));
        plan.push((0, trees::MIRROR, all.clone()));
        plan.push((0, trees::BIG, initial));
        plan.push((20, trees::SITE, all));
    } else if !(args.presets.is_empty() && args.rtts.is_empty() && args.servers.is_empty()) {
        let scenarios = or_default(&args.scenarios, &SCENARIOS);
        for &rtt in if args.rtts.is_empty() {
            &[0][..]
        } else {
            &args.rtts
        } {
            for p in or_default(&args.presets, &["site"]) {
                let p = trees::preset(&p).unwrap_or_else(|| panic!("unknown preset {p}"));
                plan.push((rtt, p, scenarios.clone()));
            }
        }
    }
    for server in &servers {
        for rtt in plan
            .iter()
            .map(|(r, _, _)| *r)
            .collect::<std::collections::BTreeSet<_>>()
        {
            let Some(bench) = Bench::start(server, rtt, &args, &tools, work.path()) else {
                continue;
            };
            for (_, preset, scenarios) in plan.iter().filter(|(r, _, _)| *r == rtt) {
                for s in bench.preset(preset, scenarios) {
                    s.markdown(&mut md);
                    print_flush(&md, &args.out);
                }
            }
        }
    }
    if args.memory {
        memory(&args, &tools, work.path(), &mut md);
        print_flush(&md, &args.out);
    }
    println!("{md}");
    println!("(written to {})", args.out.display());
}

/// The daemons running now. Drop does not run when a signal ends the process, so the
/// handler stops them from this list.
static RUNNING: Mutex<Vec<u32>> = Mutex::new(Vec::new());
/// Temporary directories (trees, server roots) for the handler to remove: on tmpfs they
/// hold memory until someone does.
static SCRATCH: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// On SIGINT, SIGTERM or SIGHUP: stop every running daemon, then exit 128 + the signal.
fn stop_daemons_on_signal() {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = match signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("warning: cannot handle signals ({e}); a killed run leaves its daemons");
            return;
        }
    };
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            for pid in RUNNING.lock().unwrap().iter() {
                let _ = Command::new("kill")
                    .args(["-TERM", &pid.to_string()])
                    .status();
            }
            for dir in SCRATCH.lock().unwrap().iter() {
                let _ = std::fs::remove_dir_all(dir);
            }
            eprintln!("servers bench: stopped by signal {signal}; daemons stopped");
            std::process::exit(128 + signal);
        }
    });
}

fn or_default(v: &[String], d: &[&str]) -> Vec<String> {
    if v.is_empty() {
        d.iter().map(|s| s.to_string()).collect()
    } else {
        v.to_vec()
    }
}

fn print_flush(md: &str, out: &Path) {
    if let Some(dir) = out.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let _ = std::fs::write(out, md);
}

fn header(args: &Args, tools: &[Tool]) -> String {
    let mut s = String::from("## Server benchmark\n\n");
    s.push_str(&format!(
        "N = {} parallel sessions for every client; {} runs each, interleaved; \
         loopback, or the delay-line proxy at the RTT shown.\n\n",
        args.parallel, args.runs
    ));
    for t in tools {
        s.push_str(&format!("- {}: {}\n", t.name(), t.version()));
    }
    s
}

/// Installs what the benchmark needs and says so: the daemons (as CI does), lftp, rclone and
/// GNU time.
fn install_missing() {
    let have = |p: &str| {
        Command::new("sh")
            .args(["-c", &format!("command -v {p}")])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let mut missing: Vec<&str> = Vec::new();
    for (bin, pkg) in [("lftp", "lftp"), ("rclone", "rclone")] {
        if !have(bin) {
            missing.push(pkg);
        }
    }
    if !Path::new("/usr/bin/time").exists() {
        missing.push("time");
    }
    if !missing.is_empty() {
        eprintln!("installing {} with apt-get", missing.join(", "));
        let ok = Command::new("sh")
            .args([
                "-c",
                &format!(
                    "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq {} >/dev/null",
                    missing.join(" ")
                ),
            ])
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!("warning: could not install {}", missing.join(", "));
        }
    }
    let daemons = Path::new("target/ci-daemons");
    if !daemons.join("pure-ftpd/usr/sbin/pure-ftpd").exists()
        || !daemons.join("vsftpd/usr/sbin/vsftpd").exists()
    {
        eprintln!("installing pure-ftpd and vsftpd (.ci/install-daemons)");
    }
    if !Command::new("bash")
        .arg(".ci/install-daemons")
        .status()
        .is_ok_and(|s| s.success())
    {
        eprintln!("warning: .ci/install-daemons failed; missing servers are skipped");
    }
}

/// Where `.ci/install-daemons` unpacks pure-ftpd and vsftpd, for the daemons module.
fn set_daemon_path() {
    let daemons = Path::new("target/ci-daemons");
    let abs = std::fs::canonicalize(daemons).unwrap_or(daemons.to_path_buf());
    // SAFETY: called before any thread starts (the signal thread starts after it); the
    // daemons module reads this variable.
    unsafe {
        std::env::set_var(
            "FTPMIRROR_DAEMON_PATH",
            format!(
                "{0}/pure-ftpd/usr/sbin:{0}/pure-ftpd/usr/bin:{0}/vsftpd/usr/sbin",
                abs.display()
            ),
        );
    }
}

/// One daemon, optionally behind the delay-line proxy, and what the clients need to reach it.
struct Bench<'a> {
    daemon: Daemon,
    proxy: Option<proxy::Proxy>,
    target: Target,
    rtt: u64,
    args: &'a Args,
    tools: &'a [Tool],
    work: PathBuf,
}

impl Drop for Bench<'_> {
    fn drop(&mut self) {
        let pid = self.daemon.pid();
        RUNNING.lock().unwrap().retain(|&p| Some(p) != pid);
    }
}

impl<'a> Bench<'a> {
    fn start(
        server: &str,
        rtt: u64,
        args: &'a Args,
        tools: &'a [Tool],
        work: &Path,
    ) -> Option<Bench<'a>> {
        // pure-ftpd-tls: a throwaway certificate, pinned by ftpmirror; the others do not
        // check it (lftp's ssl:verify-certificate no, rclone's no_check_certificate).
        let tls = (server == "pure-ftpd-tls").then(|| {
            let pki = pki::make(work);
            let both = work.join("pure-ftpd-cert.pem");
            let mut pem = std::fs::read(&pki.cert_pem).expect("certificate");
            pem.extend(std::fs::read(&pki.key_pem).expect("key"));
            std::fs::write(&both, pem).expect("write the certificate");
            (both, pki.fingerprint)
        });
        let opts = Options {
            announce: (rtt > 0).then_some(proxy::LISTEN),
            passive_ports: Some(256),
            tls_cert: tls.as_ref().map(|(cert, _)| cert.clone()),
        };
        let daemon = match server {
            "pure-ftpd" | "pure-ftpd-tls" => daemons::pure_ftpd_with(Ip::V4, &opts),
            "vsftpd" => daemons::vsftpd_with(Ip::V4, &opts),
            "pyftpdlib" => daemons::pyftpdlib_with(Ip::V4, true, &opts),
            other => panic!("unknown server {other}"),
        }?;
        RUNNING.lock().unwrap().extend(daemon.pid());
        if let Some(dir) = daemon.root.parent() {
            SCRATCH.lock().unwrap().push(dir.to_path_buf());
        }
        let (proxy, host) = if rtt > 0 {
            let p = proxy::Proxy::start(daemon.port, daemon.passive, Duration::from_millis(rtt))
                .expect("proxy");
            (Some(p), proxy::LISTEN)
        } else {
            (None, "127.0.0.1")
        };
        let target = Target {
            host: host.into(),
            port: daemon.port,
            rclone_pass: tools::rclone_obscure(),
            tls_pin: tls.map(|(_, pin)| pin),
        };
        Some(Bench {
            daemon,
            proxy,
            target,
            rtt,
            args,
            tools,
            work: work.to_path_buf(),
        })
    }

    /// Every selected scenario of one preset.
    fn preset(&self, p: &Preset, scenarios: &[String]) -> Vec<Scenario> {
        let base = self.work.join(format!("{}-src", p.name));
        if !base.exists() {
            eprintln!("generating the {} tree", p.name);
            trees::generate(p, &base, 7).expect("generate tree");
        }
        let stats = tree_stats(&base);
        let mutated = self.work.join(format!("{}-mutated", p.name));
        // Per server: the manifest records the mtimes that server gave its copies.
        let deployed = self
            .work
            .join(format!("{}-{}-deployed", self.daemon.name, p.name));
        let checkout = self.work.join(format!("{}-checkout", p.name));
        let mut out = Vec::new();
        for kind in scenarios {
            let (way, source, moved_files, moved_bytes) = match kind.as_str() {
                "push-initial" => (Way::Push, base.clone(), stats.files, stats.bytes),
                "pull-initial" => (Way::Pull, base.clone(), stats.files, stats.bytes),
                "push-nochange" => (Way::Push, base.clone(), 0, 0),
                "push-mutate" => {
                    if !mutated.exists() {
                        copy_tree(&base, &mutated);
                    }
                    let m = trees::mutate(p, &mutated, 7).expect("mutate");
                    (Way::Push, mutated.clone(), m.changed + m.added, m.bytes)
                }
                "push-checkout" => {
                    self.deploy_with_manifest(&base, &deployed);
                    let _ = std::fs::remove_dir_all(&checkout);
                    copy_tree(&base, &checkout);
                    let m = trees::mutate_with(p, &checkout, 7, true).expect("mutate");
                    touch_all(&checkout);
                    (Way::Push, checkout.clone(), m.changed + m.added, m.bytes)
                }
                other => panic!("unknown scenario {other}"),
            };
            eprintln!(
                "{} / {} / {} ms / {kind}",
                self.daemon.name, p.name, self.rtt
            );
            let expected = measure::digest(&source);
            let mut rows: Vec<Row> = self
                .tools
                .iter()
                .map(|&tool| Row {
                    tool,
                    samples: Vec::new(),
                    checks: Vec::new(),
                    commands: BTreeMap::new(),
                })
                .collect();
            // The server as the last deploy left it: for push-checkout, with ftpmirror's manifest.
            let start = if kind == "push-checkout" {
                &deployed
            } else {
                &base
            };
            for _ in 0..self.args.runs {
                for row in rows.iter_mut() {
                    self.one_run(kind, way, start, &source, &expected, row);
                }
            }
            if kind == "push-mutate" {
                let _ = std::fs::remove_dir_all(&mutated);
            }
            let floor = self.floor(kind, &stats);
            out.push(Scenario {
                title: format!(
                    "{} · {} ({} files, {} dirs, {:.1} MB) · {} · {kind}",
                    self.daemon.name,
                    p.name,
                    stats.files,
                    stats.dirs,
                    stats.bytes as f64 / 1e6,
                    if self.rtt == 0 {
                        "loopback".to_string()
                    } else {
                        format!("{} ms RTT", self.rtt)
                    }
                ),
                kind: kind.clone(),
                preset: p.name.into(),
                rtt_ms: self.rtt,
                tree_files: stats.files,
                moved_files,
                moved_bytes,
                floor,
                rows,
            });
        }
        out
    }

    /// The server as an ftpmirror `--checksum` deploy of `base` leaves it (the tree and the
    /// manifest), kept in `deployed`; made once, on loopback.
    fn deploy_with_manifest(&self, base: &Path, deployed: &Path) {
        if deployed.exists() {
            return;
        }
        let root = &self.daemon.root;
        clear_dir(root);
        let direct = Target {
            host: "127.0.0.1".into(),
            port: self.daemon.port,
            rclone_pass: String::new(),
            tls_pin: self.target.tls_pin.clone(),
        };
        let inv = tools::invocation(
            Tool::Ftpmirror,
            Way::Push,
            base,
            &direct,
            self.args.parallel,
            false,
            true,
        );
        let ok = Command::new(&inv.argv[0])
            .args(&inv.argv[1..])
            .envs(inv.env.iter().map(|(k, v)| (k, v)))
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "the deploy that writes the manifest failed");
        assert!(
            root.join(".ftpmirror-manifest.json").exists(),
            "no manifest after the first deploy"
        );
        copy_tree(root, deployed);
    }

    /// Sets the server and the local side up, runs one tool once, checks the result.
    fn one_run(
        &self,
        kind: &str,
        way: Way,
        base: &Path,
        source: &Path,
        expected: &BTreeMap<String, (u64, Vec<u8>)>,
        row: &mut Row,
    ) {
        let root = &self.daemon.root;
        clear_dir(root);
        let local = self.work.join("local");
        let _ = std::fs::remove_dir_all(&local);
        match kind {
            "push-initial" => {}
            // The server already holds the original tree, as a previous sync left it.
            _ => copy_tree(base, root),
        }
        let (local_arg, result) = match way {
            Way::Push => (source.to_path_buf(), root.clone()),
            Way::Pull => {
                std::fs::create_dir_all(&local).unwrap();
                (local.clone(), local.clone())
            }
        };
        let mut inv = tools::invocation(
            row.tool,
            way,
            &local_arg,
            &self.target,
            self.args.parallel,
            false,
            kind == "push-checkout",
        );
        // A CI runner starts without ftpmirror's hash cache: every same-size file is read.
        let cache = self.work.join("xdg-cache");
        let _ = std::fs::remove_dir_all(&cache);
        inv.env
            .push(("XDG_CACHE_HOME".into(), cache.display().to_string()));
        if let Some(p) = &self.proxy {
            p.take_counts();
        }
        // Write back what the setup wrote, so the disk is not busy with it during the run.
        let _ = Command::new("sync").status();
        let sample = measure::run(&inv, &self.work);
        if let Some(p) = &self.proxy {
            // Let the delay line deliver the last commands (QUIT) before counting.
            std::thread::sleep(Duration::from_millis(self.rtt * 2));
            for (verb, n) in p.take_counts() {
                *row.commands.entry(verb).or_insert(0) += n;
            }
        }
        let check = measure::verify(expected, &measure::digest(&result));
        eprintln!(
            "  {:9} {:7.2} s  {:6.1} MB  {:5.2} CPU s  exit {}  {check}",
            row.tool.name(),
            sample.wall,
            sample.rss_kb as f64 / 1024.0,
            sample.cpu,
            sample.exit
        );
        row.samples.push(sample);
        row.checks.push(check);
    }

    /// The fewest round trips any client needs, in seconds: a login (greeting, USER, PASS,
    /// TYPE) on each session at once, then the work spread over N sessions. A listing costs
    /// one round trip per directory (the issue's figure: the EPSV answer, then the data,
    /// with the next listing's commands already queued), a mkdir 1, an upload 3 (EPSV; STOR
    /// and its 150; the data and its 226, with the mtime and rename sent along with the next
    /// EPSV), a download 2 (EPSV; RETR).
    fn floor(&self, kind: &str, s: &trees::Stats) -> Option<(f64, String)> {
        if self.rtt == 0 {
            return None;
        }
        let n = self.args.parallel as f64;
        let (work, how) = match kind {
            "push-initial" => (
                1.0 + s.dirs as f64 + 3.0 * s.files as f64,
                format!(
                    "(4 login + (1 listing + {} mkdir + 3 × {} files) / {n}) × {} ms",
                    s.dirs, s.files, self.rtt
                ),
            ),
            "pull-initial" => (
                (s.dirs + 1) as f64 + 2.0 * s.files as f64,
                format!(
                    "(4 login + ({} listings + 2 × {} files) / {n}) × {} ms",
                    s.dirs + 1,
                    s.files,
                    self.rtt
                ),
            ),
            "push-nochange" => (
                (s.dirs + 1) as f64,
                format!(
                    "(4 login + {} listings / {n}) × {} ms",
                    s.dirs + 1,
                    self.rtt
                ),
            ),
            _ => return None,
        };
        Some(((4.0 + work / n) * self.rtt as f64 / 1000.0, how))
    }
}

fn tree_stats(root: &Path) -> trees::Stats {
    let mut s = trees::Stats::default();
    for e in walkdir::WalkDir::new(root).min_depth(1) {
        let e = e.unwrap();
        if e.file_type().is_dir() {
            s.dirs += 1;
        } else {
            s.files += 1;
            s.bytes += e.metadata().unwrap().len();
        }
    }
    s
}

/// Every file's mtime set to now, as a fresh checkout leaves them.
fn touch_all(root: &Path) {
    let now = std::time::SystemTime::now();
    for e in walkdir::WalkDir::new(root) {
        let e = e.unwrap();
        if e.file_type().is_file() {
            let f = std::fs::File::options().write(true).open(e.path()).unwrap();
            f.set_modified(now).unwrap();
        }
    }
}

/// Empties a daemon's root, keeping the directory and its owner.
fn clear_dir(root: &Path) {
    for e in std::fs::read_dir(root).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            std::fs::remove_dir_all(&p).unwrap();
        } else {
            std::fs::remove_file(&p).unwrap();
        }
    }
}

/// `cp -a from/. to/`, then gives everything to the owner of `to` (the daemon's user).
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    // Before the copy: `cp -a from/.` gives `to` itself the owner of `from`.
    let uid = std::fs::metadata(to).unwrap().uid();
    let ok = Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", from.display()))
        .arg(to)
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "cp -a {} {}", from.display(), to.display());
    let _ = Command::new("chown")
        .args(["-R", &format!("{uid}:{uid}")])
        .arg(to)
        .status();
}

/// Peak RSS of a dry-run pull that lists and plans one directory of 200,000 entries, for each
/// client; and ftpmirror's bytes per entry between a 10,000- and a 100,000-entry tree.
fn memory(args: &Args, tools: &[Tool], work: &Path, md: &mut String) {
    let Some(bench) = Bench::start("pure-ftpd", 0, args, tools, work) else {
        return;
    };
    md.push_str("\n### Memory: dry-run pull, listing and planning (pure-ftpd, loopback)\n\n");
    md.push_str("| tree | tool | peak RSS MB | wall s | result |\n|---|---|---|---|---|\n");
    let mut rss = BTreeMap::new();
    for (label, entries, dirs) in [
        ("10,000 entries in 100 dirs", 10_000, 100),
        ("100,000 entries in 1,000 dirs", 100_000, 1_000),
        ("200,000 entries in one dir", 200_000, 0),
    ] {
        eprintln!("memory: {label}");
        clear_dir(&bench.daemon.root);
        trees::empty_files(&bench.daemon.root, entries, dirs).unwrap();
        let uid = std::fs::metadata(&bench.daemon.root).unwrap().uid();
        let _ = Command::new("chown")
            .args(["-R", &format!("{uid}:{uid}")])
            .arg(&bench.daemon.root)
            .status();
        for &tool in tools {
            let local = work.join("local");
            let _ = std::fs::remove_dir_all(&local);
            std::fs::create_dir_all(&local).unwrap();
            let inv = tools::invocation(tool, Way::Pull, &local, &bench.target, 4, true, false);
            let s = measure::run(&inv, work);
            let mb = s.rss_kb as f64 / 1024.0;
            eprintln!(
                "  {:9} {mb:.1} MB {:.2} s exit {}",
                tool.name(),
                s.wall,
                s.exit
            );
            rss.insert((entries, tool.name()), s.rss_kb);
            let result = if s.exit == 0 {
                "ok".into()
            } else {
                format!("exit {}: {}", s.exit, s.stderr_tail)
            };
            md.push_str(&format!(
                "| {label} | {} | {mb:.1} | {:.2} | {result} |\n",
                tool.name(),
                s.wall
            ));
        }
    }
    if let (Some(small), Some(large)) = (
        rss.get(&(10_000, "ftpmirror")),
        rss.get(&(100_000, "ftpmirror")),
    ) {
        let per = (*large as f64 - *small as f64) * 1024.0 / 90_000.0;
        md.push_str(&format!(
            "\nftpmirror grows by {per:.0} bytes per entry between 10,000 and 100,000 entries \
             ({:.1} MB → {:.1} MB).\n",
            *small as f64 / 1024.0,
            *large as f64 / 1024.0
        ));
    }
    if let Some(flat) = rss.get(&(200_000, "ftpmirror")) {
        let mb = *flat as f64 / 1024.0;
        md.push_str(&format!(
            "\nTarget: one directory of 200,000 entries listed and planned under 100 MB: \
             {mb:.1} MB — {}\n",
            if mb < 100.0 { "**met**" } else { "**not met**" }
        ));
    }
}

/// Keeps one server (and the proxy) up for `secs` seconds, for a client run by hand.
fn serve(args: &Args, secs: u64) {
    let server = args.servers.first().map_or("pure-ftpd", String::as_str);
    let rtt = args.rtts.first().copied().unwrap_or(0);
    let work = tempfile::tempdir().expect("temporary directory");
    SCRATCH.lock().unwrap().push(work.path().to_path_buf());
    let Some(b) = Bench::start(server, rtt, args, &[], work.path()) else {
        return;
    };
    println!(
        "ftp://{}:{}@{}:{}/  (root {}, {rtt} ms RTT) for {secs} s",
        daemons::USER,
        daemons::PASSWORD,
        b.target.host,
        b.target.port,
        b.daemon.root.display()
    );
    std::thread::sleep(Duration::from_secs(secs));
}
