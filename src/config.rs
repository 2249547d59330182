//! `Config`: everything a run needs, resolved once from the command line and environment,
//! before any network call.

use std::path::PathBuf;

use anyhow::{Result, bail};

use crate::cli::{Cli, Command, ConnArgs, OutputArgs, SyncArgs};
use crate::filter::Filter;
use crate::netrc;
use crate::plan::{Direction, MaxDelete};
use crate::remote::{DataMode, Endpoint, Secret};
use crate::url::FtpUrl;

/// Environment variable holding the password when the URL has none.
pub const PASSWORD_ENV: &str = "FTPMIRROR_PASSWORD";

#[derive(Debug, Clone)]
pub enum Job {
    Sync(SyncJob),
    Ls,
}

#[derive(Debug, Clone)]
pub struct SyncJob {
    pub direction: Direction,
    pub local: PathBuf,
    /// Delete extras on the destination (also set by `delete_excluded`).
    pub delete: bool,
    pub dry_run: bool,
    pub size_only: bool,
    pub filter: Filter,
    /// Delete excluded paths on the destination too: the destination is scanned unfiltered.
    pub delete_excluded: bool,
    pub max_delete: Option<MaxDelete>,
}

#[derive(Debug, Clone, Copy)]
pub struct Output {
    pub quiet: bool,
    pub verbose: u8,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub job: Job,
    pub endpoint: Endpoint,
    pub parallel: usize,
    pub output: Output,
}

impl Config {
    pub fn from_cli(cli: Cli) -> Result<Config> {
        Self::resolve(cli, std::env::var(PASSWORD_ENV).ok(), home_netrc())
    }

    /// `env_password` and `default_netrc` are passed in so tests need not touch the process
    /// environment.
    pub fn resolve(
        cli: Cli,
        env_password: Option<String>,
        default_netrc: Option<PathBuf>,
    ) -> Result<Config> {
        let (job, url, conn, out) = match cli.command {
            Command::Pull {
                url,
                local_dir,
                sync,
                conn,
                out,
            } => (sync_job(Direction::Pull, local_dir, sync)?, url, conn, out),
            Command::Push {
                local_dir,
                url,
                sync,
                conn,
                out,
            } => (sync_job(Direction::Push, local_dir, sync)?, url, conn, out),
            Command::Ls { url, conn, out } => (Job::Ls, url, conn, out),
        };
        let url = FtpUrl::parse(&url)?;
        let endpoint = endpoint(url, &conn, env_password, default_netrc)?;
        Ok(Config {
            job,
            endpoint,
            parallel: usize::from(conn.parallel),
            output: output(out),
        })
    }
}

fn sync_job(direction: Direction, local: PathBuf, sync: SyncArgs) -> Result<Job> {
    Ok(Job::Sync(SyncJob {
        direction,
        local,
        delete: sync.delete || sync.delete_excluded,
        dry_run: sync.dry_run,
        size_only: sync.size_only,
        filter: Filter::new(&sync.include, &sync.exclude, &sync.exclude_from)?,
        delete_excluded: sync.delete_excluded,
        max_delete: sync.max_delete,
    }))
}

fn output(out: OutputArgs) -> Output {
    Output {
        quiet: out.quiet,
        verbose: out.verbose,
    }
}

fn home_netrc() -> Option<PathBuf> {
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".netrc"))
}

/// Password sources, first match wins: the URL, `$FTPMIRROR_PASSWORD`, the netrc file.
/// With no user and no password anywhere the login is anonymous.
fn endpoint(
    url: FtpUrl,
    conn: &ConnArgs,
    env_password: Option<String>,
    default_netrc: Option<PathBuf>,
) -> Result<Endpoint> {
    let mut user = conn.user.clone().or(url.user.clone());
    let mut password = url.password.clone().or(env_password);
    if password.is_none() {
        let netrc_path = match &conn.netrc_file {
            Some(p) => Some(p.clone()),
            None => default_netrc.filter(|p| p.exists()),
        };
        if let Some(path) = netrc_path
            && let Some(creds) = netrc::lookup(&path, &url.host, user.as_deref())?
        {
            if user.is_none() {
                user = creds.login;
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
    Ok(Endpoint {
        host: url.host,
        port: url.port,
        user,
        password: Secret(password),
        path,
        timeout: conn.timeout,
        mode: if conn.active {
            DataMode::Active
        } else {
            DataMode::Passive
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn cfg(args: &[&str], env: Option<&str>, netrc: Option<PathBuf>) -> Result<Config> {
        let cli = Cli::try_parse_from(std::iter::once("ftpmirror").chain(args.iter().copied()))?;
        Config::resolve(cli, env.map(String::from), netrc)
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
