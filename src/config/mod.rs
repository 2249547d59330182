//! `Config`: everything a run needs, resolved once — from the command line, or from a profile
//! merged with the command line — before any network call.

pub mod cli;
pub mod init;
pub mod netrc;
pub mod options;
pub mod profile;
pub mod url;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::plan::{Direction, MaxDelete};
use crate::remote::pool::RetryPolicy;
use crate::remote::tls::{self, TlsMode, TlsOptions, TlsSetup};
use crate::remote::{DataMode, Endpoint, Secret};
use crate::scan::filter::Filter;
use cli::{ConnArgs, OutputArgs, SyncArgs};
use url::FtpUrl;

/// Environment variable holding the password when the URL has none.
pub const PASSWORD_ENV: &str = "FTPMIRROR_PASSWORD";
pub const DEFAULT_PARALLEL: u16 = 4;
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
pub const DEFAULT_RETRIES: u32 = 3;
pub const DEFAULT_RETRY_DELAY: Duration = Duration::from_secs(1);
/// Partial transfers of files this large and up are kept and continued by default.
pub const DEFAULT_RESUME_MIN: u64 = 1 << 20;

#[derive(Debug, Clone)]
pub enum Job {
    Sync(Box<SyncJob>),
    /// `ls`, as a table or (`--json`) one JSON array.
    Ls {
        json: bool,
    },
    /// `get`, `put`, `mv`, `rm`, `mkdir`, `rmdir`.
    File(FileOp),
}

#[derive(Debug, Clone)]
pub struct SyncJob {
    pub direction: Direction,
    pub local: PathBuf,
    /// Delete extras on the destination (also set by `delete_excluded`).
    pub delete: bool,
    pub dry_run: bool,
    pub size_only: bool,
    /// `--remote-lock`: the TTL after which a held lock is taken over; `None`: no lock.
    pub remote_lock: Option<Duration>,
    /// `--backup-dir`, `--suffix`.
    pub backup: Option<crate::exec::backup::Backup>,
    /// `--upload-last`: on a push, files that go after all the others.
    pub upload_last: globset::GlobSet,
    /// `--chmod`: modes for what the run creates or replaces.
    pub chmod: Option<crate::exec::chmod::Chmod>,
    /// `-L`: the local scan follows symbolic links (push only).
    pub copy_links: bool,
    /// `--ignore-case`: names match whatever their letter case.
    pub ignore_case: bool,
    /// `--checksum`: content decides for files of the same size.
    pub checksum: bool,
    /// `--manifest`: where the deploy manifest lives, relative to the remote root.
    pub manifest: String,
    pub filter: Filter,
    /// `--bwlimit`: `None`, or a schedule that limits at some time of day.
    pub bwlimit: Option<crate::exec::bwlimit::Schedule>,
    /// `--min-size`, `--max-size`, `--min-age`, `--max-age`.
    pub limits: crate::scan::limits::Limits,
    /// Delete excluded paths on the destination too: the destination is scanned unfiltered.
    pub delete_excluded: bool,
    pub max_delete: Option<MaxDelete>,
    pub allow_empty_source: bool,
    /// Upload to `.NAME.ftpmirror-part` and rename into place (`--no-temp-upload` turns it off).
    pub temp_upload: bool,
    /// Keep and continue partial transfers of files at least this large; `None`: never.
    pub resume_min: Option<u64>,
}

#[derive(Debug, Clone)]
pub struct Output {
    pub quiet: bool,
    pub verbose: u8,
    pub log_file: Option<PathBuf>,
    pub summary_json: Option<PathBuf>,
    pub log_format: crate::config::cli::LogFormat,
    /// `--stats`: a progress line this often where there is no terminal.
    pub stats: Option<Duration>,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub job: Job,
    pub endpoint: Endpoint,
    pub parallel: usize,
    pub retry: RetryPolicy,
    /// Seconds east of UTC of the server's LIST times; `None`: detect.
    pub time_offset: Option<i64>,
    pub output: Output,
    /// The profile this run comes from, if any.
    pub profile: Option<String>,
    /// Said at the start of the run (a password in a world-readable file, ...).
    pub warnings: Vec<String>,
}

/// What the user asked for, before the URL, credentials and filters are resolved: the
/// arguments of `pull`/`push`/`ls`, or a profile merged with the flags of `run`.
#[derive(Debug, Clone)]
pub struct Request {
    /// `None` for `ls`.
    pub sync: Option<(Direction, PathBuf)>,
    pub url: String,
    pub sync_args: SyncArgs,
    pub conn: ConnArgs,
    pub out: OutputArgs,
    /// A profile's `password` or `password_file` contents.
    pub password: Option<String>,
    pub profile: Option<String>,
    /// `ls --json`.
    pub ls_json: bool,
    /// A single-file command (`get`, `put`, ...) instead of `ls`, where `sync` is `None`.
    pub file_op: Option<FileOp>,
}

/// A single-file command: one operation on the URL's path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileOp {
    Get(PathBuf),
    Put(PathBuf),
    /// To this remote path (absolute, or relative to the login directory).
    Mv(String),
    Rm,
    Mkdir,
    Rmdir,
}

impl FileOp {
    pub fn verb(&self) -> &'static str {
        match self {
            FileOp::Get(_) => "get",
            FileOp::Put(_) => "put",
            FileOp::Mv(_) => "mv",
            FileOp::Rm => "rm",
            FileOp::Mkdir => "mkdir",
            FileOp::Rmdir => "rmdir",
        }
    }
}

/// What the process environment contributes; passed in so tests need not change it.
#[derive(Debug, Clone, Default)]
pub struct Env {
    pub password: Option<String>,
    /// `~/.netrc`, used when it exists and no netrc file is named.
    pub default_netrc: Option<PathBuf>,
}

impl Env {
    pub fn from_process() -> Env {
        Env {
            password: std::env::var(PASSWORD_ENV).ok(),
            default_netrc: std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".netrc")),
        }
    }
}

impl Config {
    pub fn resolve(req: Request, env: &Env) -> Result<Config> {
        let job = match req.sync {
            Some((direction, local)) => {
                Job::Sync(Box::new(sync_job(direction, local, &req.sync_args)?))
            }
            None => match req.file_op.clone() {
                Some(op) => Job::File(op),
                None => Job::Ls { json: req.ls_json },
            },
        };
        let url = FtpUrl::parse(&req.url)?;
        let mut warnings = Vec::new();
        if req.profile.is_none() && url.password.is_some() {
            warnings.push(format!(
                "a password in a command-line URL is visible to other users in the process list; \
                 use ${PASSWORD_ENV}, a netrc file or a profile instead"
            ));
        }
        let endpoint = endpoint(url, &req.conn, req.password, env, &mut warnings)?;
        Ok(Config {
            job,
            endpoint,
            parallel: usize::from(req.conn.parallel.unwrap_or(DEFAULT_PARALLEL)),
            time_offset: req.conn.time_offset,
            retry: RetryPolicy {
                retries: req.conn.retries.unwrap_or(DEFAULT_RETRIES),
                delay: req.conn.retry_delay.unwrap_or(DEFAULT_RETRY_DELAY),
            },
            output: Output {
                quiet: req.out.quiet,
                verbose: req.out.verbose,
                log_file: req.out.log_file,
                summary_json: req.out.summary_json,
                log_format: req.out.log_format.unwrap_or_default(),
                stats: req.out.stats,
            },
            profile: req.profile,
            warnings,
        })
    }
}

/// The `--upload-last` globs, `*.html` and `*.htm` where none are given.
fn upload_last(globs: &[String]) -> Result<globset::GlobSet> {
    let defaults = ["*.html".to_string(), "*.htm".to_string()];
    let globs = if globs.is_empty() {
        &defaults[..]
    } else {
        globs
    };
    let mut b = globset::GlobSetBuilder::new();
    for g in globs {
        b.add(globset::Glob::new(g).with_context(|| format!("--upload-last {g:?}"))?);
    }
    Ok(b.build()?)
}

fn sync_job(direction: Direction, local: PathBuf, sync: &SyncArgs) -> Result<SyncJob> {
    if sync.copy_links && direction == Direction::Pull {
        // Followed on the destination, a delete would reach into whatever a link points at.
        bail!("-L/--copy-links is for push: a pull never follows local links");
    }
    Ok(SyncJob {
        direction,
        local,
        delete: sync.delete || sync.delete_excluded,
        dry_run: sync.dry_run,
        size_only: sync.size_only,
        checksum: sync.checksum,
        ignore_case: sync.ignore_case,
        copy_links: sync.copy_links,
        chmod: sync.chmod,
        upload_last: upload_last(&sync.upload_last)?,
        backup: crate::exec::backup::Backup::new(sync.backup_dir.clone(), sync.suffix.clone())
            .map_err(|e| anyhow::anyhow!(e))?,
        remote_lock: sync
            .remote_lock
            .then(|| sync.remote_lock_ttl.unwrap_or(Duration::from_secs(3600))),
        manifest: sync
            .manifest
            .clone()
            .unwrap_or_else(|| crate::manifest::DEFAULT_NAME.to_string()),
        filter: Filter::new(&sync.include, &sync.exclude, &sync.exclude_from)?,
        bwlimit: sync.bwlimit.clone().filter(|s| !s.is_off()),
        limits: crate::scan::limits::Limits {
            min_size: sync.min_size,
            max_size: sync.max_size,
            min_age: sync.min_age,
            max_age: sync.max_age,
        },
        delete_excluded: sync.delete_excluded,
        max_delete: sync.max_delete,
        allow_empty_source: sync.allow_empty_source,
        temp_upload: !sync.no_temp_upload,
        resume_min: match (sync.continue_, sync.no_continue) {
            (_, true) => None,
            (true, false) => Some(0),
            (false, false) => Some(DEFAULT_RESUME_MIN),
        },
    })
}

/// Password sources, first match wins: the URL, a profile's `password`/`password_file`,
/// `--password-command`, `$FTPMIRROR_PASSWORD`, the netrc file. With no user and no password anywhere the login is
/// anonymous.
fn endpoint(
    url: FtpUrl,
    conn: &ConnArgs,
    profile_password: Option<String>,
    env: &Env,
    warnings: &mut Vec<String>,
) -> Result<Endpoint> {
    let mut user = conn.user.clone().or(url.user.clone());
    let mut password = url.password.clone().or(profile_password);
    if password.is_none()
        && let Some(cmd) = &conn.password_command
    {
        password = Some(password_from_command(cmd)?);
    }
    let mut password = password.or(env.password.clone());
    if password.is_none() {
        let netrc_path = match &conn.netrc_file {
            Some(p) => Some(p.clone()),
            None => env.default_netrc.clone().filter(|p| p.exists()),
        };
        if let Some(path) = netrc_path
            && let Some(creds) = netrc::lookup(&path, &url.host, user.as_deref())?
        {
            if user.is_none() {
                user = creds.login;
            }
            if creds.password.is_some()
                && let Some(w) = exposed(&path, "a password")
            {
                warnings.push(w);
            }
            password = creds.password;
        }
    }
    let (user, password) = match (user, password) {
        (None, None) => ("anonymous".to_string(), "anonymous@".to_string()),
        (None, Some(p)) => ("anonymous".to_string(), p),
        (Some(u), Some(p)) => (u, p),
        (Some(u), None) if u == "anonymous" || u == "ftp" => (u, "anonymous@".to_string()),
        (Some(u), None) => bail!(
            "no password for {u}@{}: give it in ${PASSWORD_ENV} or a netrc file (--netrc-file)",
            url.host
        ),
    };
    if user.contains(['\r', '\n', '\0']) || password.contains(['\r', '\n', '\0']) {
        bail!("the user name or password contains CR, LF or NUL");
    }
    let path = url.path.clone();
    let tls = tls_setup(&url, conn)?;
    let implicit = tls.as_ref().is_some_and(|t| t.mode == TlsMode::Implicit);
    Ok(Endpoint {
        host: url.host,
        port: url.port.unwrap_or(if implicit { 990 } else { 21 }),
        user,
        password: Secret(password),
        path,
        timeout: conn.timeout.unwrap_or(DEFAULT_TIMEOUT),
        mode: if conn.active {
            DataMode::Active
        } else {
            DataMode::Passive
        },
        tls,
        pasv_note: Default::default(),
        proven: Default::default(),
        learned: Default::default(),
        list_clock: conn.time_offset.unwrap_or(0),
    })
}

/// FTPS when the URL is `ftps://` or `--tls` is given; certificate flags need one of them.
fn tls_setup(url: &FtpUrl, conn: &ConnArgs) -> Result<Option<TlsSetup>> {
    let mode = match (conn.tls, url.tls) {
        (Some(cli::TlsMode::Implicit), _) => Some(TlsMode::Implicit),
        (Some(cli::TlsMode::Explicit), _) | (None, true) => Some(TlsMode::Explicit),
        (None, false) => None,
    };
    let Some(mode) = mode else {
        if !conn.ca_file.is_empty() || !conn.pin_sha256.is_empty() || conn.insecure {
            bail!(
                "--ca-file, --pin-sha256 and --insecure are for FTPS: use an ftps:// URL or --tls"
            );
        }
        return Ok(None);
    };
    let opts = TlsOptions {
        ca_files: conn.ca_file.clone(),
        pins: conn.pin_sha256.clone(),
        insecure: conn.insecure,
    };
    Ok(Some(TlsSetup {
        mode,
        config: tls::client_config(&opts)?,
        insecure: conn.insecure,
    }))
}

/// A warning, as ssh gives, when `path` holds `what` and others may read it.
pub fn exposed(path: &std::path::Path, what: &str) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
    (mode & 0o044 != 0).then(|| {
        format!(
            "{} holds {what} and is readable by others (mode {mode:03o}): chmod 600 {}",
            path.display(),
            path.display()
        )
    })
}

/// Runs a password command (git-credential style): its first line of stdout is the password.
/// Its stderr goes to ours (a prompt, a helper's error); a failure names the command, never
/// what it printed.
pub fn password_from_command(cmd: &str) -> Result<String> {
    let argv = shlex::split(cmd)
        .filter(|a| !a.is_empty())
        .with_context(|| format!("--password-command {cmd:?}: not a command line"))?;
    let out = std::process::Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(std::process::Stdio::inherit())
        .stderr(std::process::Stdio::inherit())
        .output()
        .with_context(|| format!("--password-command: cannot run {:?}", argv[0]))?;
    if !out.status.success() {
        bail!("--password-command {:?} failed ({})", argv[0], out.status);
    }
    let text = String::from_utf8(out.stdout)
        .map_err(|_| anyhow::anyhow!("--password-command {:?}: output is not UTF-8", argv[0]))?;
    match text.lines().next() {
        Some(line) if !line.is_empty() => Ok(line.to_string()),
        _ => bail!("--password-command {:?} printed no password", argv[0]),
    }
}

/// Reads a password file: its first line, without the line ending.
pub fn read_password_file(path: &std::path::Path) -> Result<String> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read password file {}", path.display()))?;
    Ok(text.lines().next().unwrap_or("").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::cli::Cli;
    use clap::Parser;

    fn cfg(args: &[&str], env: Option<&str>, netrc: Option<PathBuf>) -> Result<Config> {
        let cli = Cli::try_parse_from(std::iter::once("ftpmirror").chain(args.iter().copied()))?;
        let env = Env {
            password: env.map(String::from),
            default_netrc: netrc,
        };
        Config::resolve(
            crate::app::request(cli.command).expect("a sync or ls command"),
            &env,
        )
    }

    #[test]
    fn password_precedence() {
        let dir = tempfile::tempdir().unwrap();
        let netrc = dir.path().join("netrc");
        std::fs::write(&netrc, "machine h login nick password fromnetrc\n").unwrap();
        let n = Some(netrc.clone());

        let c = cfg(&["ls", "ftp://u:fromurl@h/"], Some("fromenv"), n.clone()).unwrap();
        assert_eq!(c.endpoint.password.0, "fromurl");
        let c = cfg(&["ls", "ftp://u@h/"], Some("fromenv"), n.clone()).unwrap();
        assert_eq!(
            (c.endpoint.user.as_str(), c.endpoint.password.0.as_str()),
            ("u", "fromenv")
        );
        let c = cfg(&["ls", "ftp://h/"], None, n.clone()).unwrap();
        assert_eq!(
            (c.endpoint.user.as_str(), c.endpoint.password.0.as_str()),
            ("nick", "fromnetrc")
        );
        let c = cfg(&["ls", "--user", "nick", "ftp://other@h/"], None, n.clone()).unwrap();
        assert_eq!(c.endpoint.password.0, "fromnetrc");
        let c = cfg(&["ls", "ftp://h2/"], None, n.clone()).unwrap();
        assert_eq!(c.endpoint.user, "anonymous");
        let err = cfg(&["ls", "ftp://bob@h2/"], None, n).unwrap_err();
        assert!(
            format!("{err:#}").contains("no password for bob@h2"),
            "{err:#}"
        );
    }

    #[test]
    fn explicit_netrc_must_exist() {
        let err = cfg(
            &["ls", "--netrc-file", "/nonexistent/netrc", "ftp://h/"],
            None,
            None,
        )
        .unwrap_err();
        assert!(format!("{err:#}").contains("/nonexistent/netrc"), "{err:#}");
    }

    #[test]
    fn secret_never_debug_printed() {
        let c = cfg(&["push", "/tmp/x", "ftp://u:hunter2@h/"], None, None).unwrap();
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
