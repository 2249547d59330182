//! Command dispatch: `pull`/`push`/`ls` from flags; `run`/`profiles`/`check` from the profile
//! file. Every configuration is resolved before anything connects.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::Parser;

use crate::cli::{Cli, Command, ConfigArg};
use crate::config::{Config, Env, Request};
use crate::error::{EXIT_LOCKED, EXIT_OK, EXIT_USAGE};
use crate::lock::{self, Acquire};
use crate::plan::Direction;
use crate::profile::{self, Flags, ProfileFile};
use crate::run::run;

/// Parses `args` (including the program name), runs, prints, and returns the exit code.
/// `main` and the demo example both come through here.
pub fn main_with_args<I, T>(args: I) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { EXIT_USAGE } else { EXIT_OK };
        }
    };
    crate::interrupt::install();
    let env = Env::from_process();
    let getenv = |k: &str| std::env::var(k).ok();
    match cli.command {
        Command::Run {
            names,
            all,
            file,
            sync,
            conn,
            out,
        } => run_profiles(&file, &names, all, Flags { sync, conn, out }, &env, &getenv),
        Command::Profiles { file, verbose } => list_profiles(&file, verbose, &getenv),
        Command::Check { file, verbose } => check(&file, verbose, &env, &getenv),
        command => {
            let req = request(command).expect("pull, push and ls make a request");
            match Config::resolve(req, &env) {
                Ok(cfg) => run(&cfg),
                Err(e) => usage(&e),
            }
        }
    }
}

fn usage(e: &anyhow::Error) -> u8 {
    eprintln!("error: {e:#}");
    EXIT_USAGE
}

/// The request a `pull`, `push` or `ls` command line makes; `None` for the profile commands.
pub fn request(command: Command) -> Option<Request> {
    let (sync, url, sync_args, conn, out) = match command {
        Command::Pull {
            url,
            local_dir,
            sync,
            conn,
            out,
        } => (Some((Direction::Pull, local_dir)), url, sync, conn, out),
        Command::Push {
            local_dir,
            url,
            sync,
            conn,
            out,
        } => (Some((Direction::Push, local_dir)), url, sync, conn, out),
        Command::Ls { url, conn, out } => (None, url, Default::default(), conn, out),
        Command::Run { .. } | Command::Profiles { .. } | Command::Check { .. } => return None,
    };
    Some(Request {
        sync,
        url,
        sync_args,
        conn,
        out,
        password: None,
        profile: None,
    })
}

fn load(
    file: &ConfigArg,
    verbose: u8,
    getenv: &dyn Fn(&str) -> Option<String>,
) -> Result<ProfileFile, u8> {
    let path = profile::find(file.config.as_deref(), getenv).map_err(|e| usage(&e))?;
    if verbose > 0 {
        println!("using profile file {}", path.display());
    }
    let pf = ProfileFile::load(&path).map_err(|e| usage(&e))?;
    for w in &pf.warnings {
        eprintln!("warning: {w}");
    }
    Ok(pf)
}

/// Resolves every named profile first (exit 2 and nothing touched if any is wrong), then runs
/// each under its lock. The exit code is the worst of the runs.
fn run_profiles(
    file: &ConfigArg,
    names: &[String],
    all: bool,
    flags: Flags,
    env: &Env,
    getenv: &dyn Fn(&str) -> Option<String>,
) -> u8 {
    let pf = match load(file, flags.out.verbose, getenv) {
        Ok(pf) => pf,
        Err(code) => return code,
    };
    let names: Vec<String> = if all {
        pf.names().iter().map(|s| s.to_string()).collect()
    } else {
        names.to_vec()
    };
    let mut configs = Vec::new();
    for name in &names {
        let cfg = pf
            .request(name, &flags, getenv)
            .and_then(|r| Config::resolve(r, env));
        match cfg {
            Ok(cfg) => configs.push(cfg),
            Err(e) => return usage(&e),
        }
    }
    let runtime_dir = getenv("XDG_RUNTIME_DIR").map(PathBuf::from);
    let mut worst = EXIT_OK;
    for cfg in &configs {
        let name = cfg.profile.as_deref().unwrap_or_default();
        if configs.len() > 1 && !cfg.output.quiet {
            println!("== {name}");
        }
        worst = worst.max(run_locked(cfg, name, &pf.path, runtime_dir.clone()));
        if crate::interrupt::requested() {
            break;
        }
    }
    worst
}

fn run_locked(cfg: &Config, name: &str, config_path: &Path, runtime_dir: Option<PathBuf>) -> u8 {
    let path = lock::lock_path(name, config_path, runtime_dir);
    match lock::acquire(&path) {
        Ok(Acquire::Held(_lock)) => run(cfg),
        Ok(Acquire::Busy(pid)) => {
            let pid = pid.map(|p| format!(" (pid {p})")).unwrap_or_default();
            eprintln!("error: profile '{name}' is already running{pid}");
            EXIT_LOCKED
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            EXIT_LOCKED
        }
    }
}

fn list_profiles(file: &ConfigArg, verbose: u8, getenv: &dyn Fn(&str) -> Option<String>) -> u8 {
    let pf = match load(file, verbose, getenv) {
        Ok(pf) => pf,
        Err(code) => return code,
    };
    let rows = pf.rows();
    let width = |i: usize| {
        rows.iter()
            .map(|r| r[i].chars().count())
            .max()
            .unwrap_or(0)
            .max(4)
    };
    let (w0, w1, w2) = (width(0), width(1), width(2));
    println!(
        "{:<w0$}  {:<w1$}  {:<w2$}  REMOTE",
        "NAME", "DIRECTION", "LOCAL"
    );
    for [name, dir, local, remote] in rows {
        println!("{name:<w0$}  {dir:<w1$}  {local:<w2$}  {remote}");
    }
    EXIT_OK
}

/// Resolves every profile as `run` would, without connecting; reports every mistake.
fn check(file: &ConfigArg, verbose: u8, env: &Env, getenv: &dyn Fn(&str) -> Option<String>) -> u8 {
    let pf = match load(file, verbose, getenv) {
        Ok(pf) => pf,
        Err(code) => return code,
    };
    let flags = Flags {
        sync: Default::default(),
        conn: Default::default(),
        out: Default::default(),
    };
    let names = pf.names();
    let mut bad = 0;
    for name in &names {
        if let Err(e) = pf
            .request(name, &flags, getenv)
            .and_then(|r| Config::resolve(r, env))
        {
            eprintln!("error: {e:#}");
            bad += 1;
        }
    }
    if bad > 0 {
        return EXIT_USAGE;
    }
    println!(
        "{}: {} profile(s) OK: {}",
        pf.path.display(),
        names.len(),
        names.join(", ")
    );
    EXIT_OK
}
