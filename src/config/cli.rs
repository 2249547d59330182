//! Command-line definitions. Values are validated here; nothing touches the network or disk.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

pub use crate::config::options::{ConnArgs, OutputArgs, SyncArgs};
use crate::report::term::ColorChoice;

/// `--version`: the version and the TLS backend.
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (TLS: rustls 0.23, ring)");

#[derive(Debug, Parser)]
#[command(
    name = "ftpmirror",
    version = VERSION,
    about = "Keep a local directory tree and an FTP server's tree in sync",
    after_help = crate::error::Exit::help_line()
)]
pub struct Cli {
    /// Colour errors and warnings: auto (on a terminal, unless NO_COLOR is set), always, never.
    #[arg(long, global = true, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Make LOCAL_DIR a copy of the remote tree (download).
    #[command(
        after_help = "Examples:\n  ftpmirror pull ftp://mirror.example.com/pub/data ./data\n  \
                            ftpmirror pull --delete -j 8 ftp://bob@ftp.example.com/backups /srv/backups\n  \
                            ftpmirror pull --min-age 5m --bwlimit 4M --stats 1m -q ftp://bob@ftp.example.com/exports /srv/exports\n  \
                            ftpmirror pull --max-size 100M --backup-dir /srv/prev --log-file run.log --log-format json ftp://bob@ftp.example.com/pub /srv/pub"
    )]
    Pull {
        /// ftp://[user[:password]@]host[:port]/path (path relative to the login directory;
        /// %2F at its start makes it absolute).
        url: String,
        /// Local directory to fill; created if missing.
        local_dir: PathBuf,
        #[command(flatten)]
        sync: SyncArgs,
        #[command(flatten)]
        conn: ConnArgs,
        #[command(flatten)]
        out: OutputArgs,
    },
    /// Make the remote tree a copy of LOCAL_DIR (upload).
    #[command(
        after_help = "Examples:\n  ftpmirror push --dry-run --delete ./public ftp://deploy@www.example.com/htdocs\n  \
                            FTPMIRROR_PASSWORD=... ftpmirror push --delete ./public ftp://deploy@www.example.com/htdocs\n  \
                            ftpmirror push --checksum --delete --remote-lock --chmod D755,F644 ./public ftp://deploy@www.example.com/htdocs\n  \
                            ftpmirror push -L --ignore-case --backup-dir _old --upload-last '*.html' --password-command 'pass show ftp' ./site ftp://deploy@www.example.com/"
    )]
    Push {
        /// Local directory to upload.
        local_dir: PathBuf,
        /// ftp://[user[:password]@]host[:port]/path
        url: String,
        #[command(flatten)]
        sync: SyncArgs,
        #[command(flatten)]
        conn: ConnArgs,
        #[command(flatten)]
        out: OutputArgs,
    },
    /// Run the named profiles from the profile file, in order. Flags given here override the profiles' keys.
    #[command(
        after_help = "Examples:\n  ftpmirror run site\n  ftpmirror run site --dry-run -v\n  \
                            ftpmirror run --all -q --log-file /var/log/ftpmirror.log"
    )]
    Run {
        /// Profile names.
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        names: Vec<String>,
        /// Run every profile in the file, in file order.
        #[arg(long)]
        all: bool,
        #[command(flatten)]
        file: ConfigArg,
        #[command(flatten)]
        sync: SyncArgs,
        #[command(flatten)]
        conn: ConnArgs,
        #[command(flatten)]
        out: OutputArgs,
    },
    /// List the profiles: name, direction, local directory, remote URL (password masked).
    #[command(
        after_help = "Examples:\n  ftpmirror profiles\n  ftpmirror profiles -f /etc/ftpmirror.yaml"
    )]
    Profiles {
        #[command(flatten)]
        file: ConfigArg,
        /// Also say which file was used.
        #[arg(short, long, action = clap::ArgAction::Count)]
        verbose: u8,
    },
    /// Check the profile file and every profile in it without connecting.
    #[command(
        after_help = "Examples:\n  ftpmirror check\n  FTP_PASSWORD=x ftpmirror check -v -f /etc/ftpmirror.yaml"
    )]
    Check {
        #[command(flatten)]
        file: ConfigArg,
        /// Also say which file was used.
        #[arg(short, long, action = clap::ArgAction::Count)]
        verbose: u8,
    },
    /// Write a commented starter profile file with one profile (refuses to overwrite).
    #[command(
        after_help = "Examples:\n  ftpmirror init\n  ftpmirror init --pull ~/.config/ftpmirror/ftpmirror.yaml"
    )]
    Init {
        /// A website deployment profile (the default).
        #[arg(long, conflicts_with = "pull")]
        push: bool,
        /// A nightly download mirror profile.
        #[arg(long)]
        pull: bool,
        /// Where to write it.
        #[arg(default_value = "ftpmirror.yaml")]
        file: PathBuf,
    },
    /// Print a shell completion script.
    #[command(
        after_help = "Examples:\n  ftpmirror completions bash > ~/.local/share/bash-completion/completions/ftpmirror\n  \
                            ftpmirror completions zsh > ~/.zfunc/_ftpmirror\n  \
                            ftpmirror completions fish > ~/.config/fish/completions/ftpmirror.fish"
    )]
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
    #[command(
        after_help = "Examples:\n  ftpmirror man > ~/.local/share/man/man1/ftpmirror.1\n  ftpmirror man | man -l -"
    )]
    Man,
    /// Print the remote tree recursively as the planner sees it: type, size, mtime, precision, path.
    #[command(
        after_help = "Examples:\n  ftpmirror ls ftp://bob@ftp.example.com/htdocs\n  \
                            ftpmirror ls --tls implicit ftps://ftp.example.com/pub\n  \
                            ftpmirror ls --json ftp://ftp.example.com/pub | jq '.[].path'"
    )]
    Ls {
        /// ftp://[user[:password]@]host[:port]/path
        url: String,
        /// One JSON array of {path, type, size, mtime, precision} for scripts, as rclone's lsjson.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        conn: ConnArgs,
        #[command(flatten)]
        out: OutputArgs,
    },
    /// Download one file, atomically (a temporary name renamed into place), with its mtime.
    #[command(
        after_help = "Examples:\n  ftpmirror get ftp://ftp.example.com/pub/README README\n  \
                      ftpmirror get --tls implicit ftps://bob@ftp.example.com/backup/db.sql.gz /srv/db.sql.gz"
    )]
    Get {
        /// ftp://[user@]host[:port]/path/to/file
        url: String,
        local_file: PathBuf,
        #[command(flatten)]
        conn: ConnArgs,
        #[command(flatten)]
        out: OutputArgs,
    },
    /// Upload one file, atomically, creating missing remote directories.
    #[command(
        after_help = "Examples:\n  ftpmirror put build/app.zip ftp://deploy@ftp.example.com/htdocs/dl/app.zip\n  \
                      ftpmirror put -v notes.txt ftp://bob@ftp.example.com/notes.txt"
    )]
    Put {
        local_file: PathBuf,
        /// ftp://[user@]host[:port]/path/to/file
        url: String,
        #[command(flatten)]
        conn: ConnArgs,
        #[command(flatten)]
        out: OutputArgs,
    },
    /// Rename or move a remote file or directory (RNFR/RNTO), on one server.
    #[command(
        after_help = "Examples:\n  ftpmirror mv ftp://ftp.example.com/htdocs/old.html ftp://ftp.example.com/htdocs/new.html\n  \
                      ftpmirror mv ftp://ftp.example.com/htdocs/tmp /htdocs/archive/tmp"
    )]
    Mv {
        url: String,
        /// The new name: a URL on the same server, or a path (absolute, or relative to the
        /// login directory).
        to: String,
        #[command(flatten)]
        conn: ConnArgs,
        #[command(flatten)]
        out: OutputArgs,
    },
    /// Delete one remote file.
    #[command(
        after_help = "Examples:\n  ftpmirror rm ftp://ftp.example.com/htdocs/stale.html\n  \
                      ftpmirror rm -v ftp://bob@ftp.example.com/incoming/done.csv"
    )]
    Rm {
        url: String,
        #[command(flatten)]
        conn: ConnArgs,
        #[command(flatten)]
        out: OutputArgs,
    },
    /// Create a remote directory, and its missing parents.
    #[command(
        after_help = "Examples:\n  ftpmirror mkdir ftp://ftp.example.com/htdocs/new/dir\n  \
                      ftpmirror mkdir ftps://bob@ftp.example.com/backup/2026-12"
    )]
    Mkdir {
        url: String,
        #[command(flatten)]
        conn: ConnArgs,
        #[command(flatten)]
        out: OutputArgs,
    },
    /// Remove an empty remote directory.
    #[command(
        after_help = "Examples:\n  ftpmirror rmdir ftp://ftp.example.com/htdocs/old\n  \
                      ftpmirror rmdir -v ftps://bob@ftp.example.com/backup/2025-01"
    )]
    Rmdir {
        url: String,
        #[command(flatten)]
        conn: ConnArgs,
        #[command(flatten)]
        out: OutputArgs,
    },
}

/// `--tls`, and the profile key `tls`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    Explicit,
    Implicit,
}

/// How `--log-file` lines look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// Where the profile file is; see `profile::find`.
#[derive(Debug, Clone, Args)]
pub struct ConfigArg {
    /// Profile file [default: $FTPMIRROR_CONFIG, ./ftpmirror.yaml, ~/.config/ftpmirror/ftpmirror.yaml].
    #[arg(short = 'f', long = "config", value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Parses "30", "30s", "2m" or "500ms".
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("'{s}' is not a duration such as 30s or 2m"))?;
    let d = match unit {
        "" | "s" => Duration::from_secs(n),
        "ms" => Duration::from_millis(n),
        "m" => Duration::from_secs(n * 60),
        _ => return Err(format!("unknown unit '{unit}' in '{s}': use ms, s or m")),
    };
    if d.is_zero() {
        return Err("the timeout must be greater than zero".into());
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, Parser};

    /// Every `ftpmirror ...` command shown in the README's code blocks parses with the real CLI.
    #[test]
    fn readme_commands_parse() {
        let readme = include_str!("../../README.md");
        let mut in_code = false;
        let mut checked = 0;
        for line in readme.lines() {
            if line.starts_with("```") {
                in_code = !in_code;
                continue;
            }
            let Some(at) = line.find("ftpmirror ").filter(|_| in_code) else {
                continue;
            };
            if line.contains("cargo ") {
                continue;
            }
            // Up to a comment, redirection or pipe; `$VAR`s and `${{ }}` stand for values.
            let cmd = line[at..].split(['#', '>', '|']).next().unwrap();
            let mut args = Vec::new();
            let mut quote = None;
            let mut cur = String::new();
            for c in cmd.chars() {
                match (quote, c) {
                    (None, '\'' | '"') => quote = Some(c),
                    (Some(q), c) if c == q => quote = None,
                    (None, ' ') if !cur.is_empty() => args.push(std::mem::take(&mut cur)),
                    (None, ' ') => {}
                    _ => cur.push(c),
                }
            }
            if !cur.is_empty() {
                args.push(cur);
            }
            let placeholders = ["NAME...", "URL", "LOCAL_DIR", "SHELL", "DIR"];
            if args.iter().any(|a| placeholders.contains(&a.as_str())) {
                continue; // the synopsis
            }
            Cli::try_parse_from(&args).unwrap_or_else(|e| panic!("README: {line}\n{e}"));
            checked += 1;
        }
        assert!(checked >= 17, "only {checked} README commands found");
    }

    #[test]
    fn clap_definition_is_valid() {
        Cli::command().debug_assert();
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert!(parse_duration("0").is_err());
        assert!(parse_duration("3h").is_err());
        assert!(parse_duration("x").is_err());
    }

    /// Every subcommand's help ends with 2 to 4 examples, and each parses with the real CLI
    /// (up to a shell redirection or pipe).
    #[test]
    fn examples_in_help_parse() {
        for cmd in Cli::command().get_subcommands() {
            let help = cmd
                .get_after_help()
                .map(|h| h.to_string())
                .unwrap_or_default();
            let examples: Vec<&str> = help.lines().filter(|l| l.contains("ftpmirror ")).collect();
            let n = examples.len();
            assert!((2..=4).contains(&n), "{}: {n} examples", cmd.get_name());
            for line in examples {
                let args = line.split_once("ftpmirror ").unwrap().1;
                let args = args.split(['>', '|']).next().unwrap();
                // Split as the shell would: quoted globs and commands stay one argument.
                let words = shlex::split(args).unwrap_or_else(|| panic!("{line}: quoting"));
                let argv = std::iter::once("ftpmirror".to_string()).chain(words);
                Cli::try_parse_from(argv).unwrap_or_else(|e| panic!("{line}: {e}"));
            }
        }
    }
}
