//! Command dispatch: `pull`/`push`/`ls` from flags; `run`/`profiles`/`check` from the profile
//! file. Every configuration is resolved before anything connects.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::Parser;

use crate::config::cli::{Cli, Command, ConfigArg};
use crate::config::profile::{self, Flags, ProfileFile};
use crate::config::{Config, Env, FileOp, Request};
use crate::error::Exit;
use crate::lock::{self, Acquire};
use crate::plan::Direction;
use crate::report::term;
use crate::run::run;

/// Parses `args` (including the program name), runs, prints, and returns the exit code.
/// `main` and the demo example both come through here.
pub fn main_with_args<I, T>(args: I) -> Exit
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                Exit::Usage
            } else {
                Exit::Ok
            };
        }
    };
    crate::interrupt::install();
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    term::init(cli.color, no_color);
    init_logging(verbosity(&cli.command));
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
        Command::Init { pull, file, .. } => match crate::config::init::write(&file, pull) {
            Ok(name) => {
                println!(
                    "wrote {f}: edit the profile '{name}', then run\n  ftpmirror check -f {f}\n  \
                     ftpmirror run {name} -f {f} --dry-run",
                    f = file.display()
                );
                Exit::Ok
            }
            Err(e) => usage(&e),
        },
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "ftpmirror", &mut std::io::stdout());
            Exit::Ok
        }
        Command::Man => {
            let cmd = <Cli as clap::CommandFactory>::command();
            match clap_mangen::Man::new(cmd).render(&mut std::io::stdout()) {
                // `ftpmirror man | head` closing the pipe early is not an error.
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    usage(&anyhow::anyhow!("cannot write the man page: {e}"))
                }
                _ => Exit::Ok,
            }
        }
        command => {
            let req = request(command).expect("pull, push and ls make a request");
            match Config::resolve(req, &env) {
                Ok(cfg) => run(&cfg),
                Err(e) => usage(&e),
            }
        }
    }
}

/// The `-v` count of whichever command was given.
fn verbosity(command: &Command) -> u8 {
    match command {
        Command::Pull { out, .. }
        | Command::Push { out, .. }
        | Command::Ls { out, .. }
        | Command::Get { out, .. }
        | Command::Put { out, .. }
        | Command::Mv { out, .. }
        | Command::Rm { out, .. }
        | Command::Mkdir { out, .. }
        | Command::Rmdir { out, .. }
        | Command::Run { out, .. } => out.verbose,
        Command::Profiles { verbose, .. } | Command::Check { verbose, .. } => *verbose,
        Command::Init { .. } | Command::Completions { .. } | Command::Man => 0,
    }
}

/// `-vv` shows the FTP protocol exchange (target `ftpmirror::ftp`) on stderr; `RUST_LOG` works as in
/// other Rust tools and wins over `-v`. The password of a `PASS` command is always masked.
fn init_logging(verbose: u8) {
    let mut builder = env_logger::Builder::new();
    match std::env::var("RUST_LOG") {
        Ok(filter) => {
            builder.parse_filters(&filter);
        }
        Err(_) if verbose >= 2 => {
            builder.parse_filters("ftpmirror=debug,ftpmirror::ftp=trace");
        }
        Err(_) => return,
    }
    builder.format(|f, record| {
        use std::io::Write;
        let msg = mask_password(&record.args().to_string());
        writeln!(
            f,
            "[{} {}] {}",
            record.level(),
            record.target(),
            crate::remote::escape(&msg)
        )
    });
    let _ = builder.try_init();
}

/// "CC OUT: PASS hunter2" → "CC OUT: PASS ****".
pub fn mask_password(line: &str) -> String {
    match line.find("PASS ") {
        Some(i) => format!("{}PASS ****", &line[..i]),
        None => line.to_string(),
    }
}

fn usage(e: &anyhow::Error) -> Exit {
    term::fail(Exit::Usage, e)
}

/// The request a `pull`, `push` or `ls` command line makes; `None` for the profile commands.
pub fn request(command: Command) -> Option<Request> {
    let ls_json = matches!(command, Command::Ls { json: true, .. });
    let mut file_op = None;
    let (sync, url, sync_args, conn, out) = match command {
        Command::Get {
            url,
            local_file,
            conn,
            out,
        } => {
            file_op = Some(FileOp::Get(local_file));
            (None, url, Default::default(), conn, out)
        }
        Command::Put {
            local_file,
            url,
            conn,
            out,
        } => {
            file_op = Some(FileOp::Put(local_file));
            (None, url, Default::default(), conn, out)
        }
        Command::Mv { url, to, conn, out } => {
            file_op = Some(FileOp::Mv(to));
            (None, url, Default::default(), conn, out)
        }
        Command::Rm { url, conn, out } => {
            file_op = Some(FileOp::Rm);
            (None, url, Default::default(), conn, out)
        }
        Command::Mkdir { url, conn, out } => {
            file_op = Some(FileOp::Mkdir);
            (None, url, Default::default(), conn, out)
        }
        Command::Rmdir { url, conn, out } => {
            file_op = Some(FileOp::Rmdir);
            (None, url, Default::default(), conn, out)
        }
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
        Command::Ls { url, conn, out, .. } => (None, url, Default::default(), conn, out),
        Command::Run { .. }
        | Command::Profiles { .. }
        | Command::Check { .. }
        | Command::Init { .. }
        | Command::Completions { .. }
        | Command::Man => return None,
    };
    Some(Request {
        sync,
        url,
        sync_args,
        conn,
        out,
        password: None,
        profile: None,
        ls_json,
        file_op,
    })
}

fn load(
    file: &ConfigArg,
    verbose: u8,
    getenv: &dyn Fn(&str) -> Option<String>,
) -> Result<ProfileFile, Exit> {
    let path = profile::find(file.config.as_deref(), getenv).map_err(|e| usage(&e))?;
    if verbose > 0 {
        println!("using profile file {}", path.display());
    }
    let pf = ProfileFile::load(&path).map_err(|e| usage(&e))?;
    for w in &pf.warnings {
        eprintln!("{}", term::warning(w));
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
) -> Exit {
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
    let mut worst = Exit::Ok;
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

fn run_locked(cfg: &Config, name: &str, config_path: &Path, runtime_dir: Option<PathBuf>) -> Exit {
    let path = lock::lock_path(name, config_path, runtime_dir);
    match lock::acquire(&path) {
        Ok(Acquire::Held(_lock)) => run(cfg),
        Ok(Acquire::Busy(pid)) => {
            let pid = pid.map(|p| format!(" (pid {p})")).unwrap_or_default();
            let e = anyhow::anyhow!("profile '{name}' is already running{pid}");
            term::fail(Exit::Locked, &e)
        }
        Err(e) => term::fail(Exit::Locked, &e),
    }
}

fn list_profiles(file: &ConfigArg, verbose: u8, getenv: &dyn Fn(&str) -> Option<String>) -> Exit {
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
    Exit::Ok
}

/// Resolves every profile as `run` would, without connecting; reports every mistake.
fn check(
    file: &ConfigArg,
    verbose: u8,
    env: &Env,
    getenv: &dyn Fn(&str) -> Option<String>,
) -> Exit {
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
            usage(&e);
            bad += 1;
        }
    }
    if bad > 0 {
        return Exit::Usage;
    }
    println!(
        "{}: {} profile(s) OK: {}",
        pf.path.display(),
        names.len(),
        names.join(", ")
    );
    Exit::Ok
}
