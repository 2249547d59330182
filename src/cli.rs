//! Command-line definitions. Values are validated here; nothing touches the network or disk.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::plan::MaxDelete;
use crate::term::ColorChoice;

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

#[derive(Debug, Clone, Default, Args)]
pub struct SyncArgs {
    /// Only files of at least SIZE: 512, 100k, 4M, 1G (base 1024).
    #[arg(help_heading = "What to sync", long, value_name = "SIZE", value_parser = crate::limits::parse_size)]
    pub min_size: Option<u64>,
    /// Only files of at most SIZE.
    #[arg(help_heading = "What to sync", long, value_name = "SIZE", value_parser = crate::limits::parse_size)]
    pub max_size: Option<u64>,
    /// Only files modified at least AGE ago: 5m (skip files still being written), 2h, 7d.
    #[arg(help_heading = "What to sync", long, value_name = "AGE", value_parser = crate::limits::parse_age)]
    pub min_age: Option<Duration>,
    /// Only files modified at most AGE ago: 30d, 1w, 6M, 1y.
    #[arg(help_heading = "What to sync", long, value_name = "AGE", value_parser = crate::limits::parse_age)]
    pub max_age: Option<Duration>,
    /// Print the plan and change nothing.
    #[arg(help_heading = "What to sync", long, short = 'n')]
    pub dry_run: bool,
    /// push: follow local symbolic links to files and directories and send what they point
    /// to (loops and links to nothing are skipped with a warning) [default: links skipped].
    #[arg(help_heading = "What to sync", short = 'L', long)]
    pub copy_links: bool,
    /// Match names whatever their letter case (for case-insensitive servers: IIS, FileZilla
    /// Server, most Windows hosts): `a.JPG` on one side is `a.jpg` on the other.
    #[arg(help_heading = "What to sync", long)]
    pub ignore_case: bool,
    /// Leave out paths matching GLOB, on both sides (repeatable). See "Filters" in the README.
    #[arg(help_heading = "What to sync", long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Keep paths matching GLOB even if excluded; once given, only matching files are mirrored (repeatable).
    #[arg(help_heading = "What to sync", long, value_name = "GLOB")]
    pub include: Vec<String>,
    /// Read exclude patterns from FILE, one per line; '#' starts a comment (repeatable).
    #[arg(help_heading = "What to sync", long, value_name = "FILE")]
    pub exclude_from: Vec<PathBuf>,
    /// Also delete excluded paths on the destination (implies --delete).
    #[arg(help_heading = "What to sync", long)]
    pub delete_excluded: bool,
    /// Compare sizes only, never modification times.
    #[arg(help_heading = "How files are compared", long)]
    pub size_only: bool,
    /// Compare content, not mtimes, for files of the same size: the server's HASH (or
    /// XSHA256, ...) where it has one, else a deploy manifest on the server (see README).
    #[arg(
        help_heading = "How files are compared",
        long,
        conflicts_with = "size_only"
    )]
    pub checksum: bool,
    /// Where --checksum keeps its manifest on a server without a hash command: a remote path,
    /// relative to the remote root [default: .ftpmirror-manifest.json].
    #[arg(
        help_heading = "How files are compared",
        long,
        value_name = "PATH",
        requires = "checksum"
    )]
    pub manifest: Option<String>,
    /// Delete what the destination has and the source lacks.
    #[arg(help_heading = "Deletes and backups", long)]
    pub delete: bool,
    /// Move what the run would overwrite or delete into DIR first, under its relative path:
    /// on the server for a push (relative to the remote root), local for a pull.
    #[arg(help_heading = "Deletes and backups", long, value_name = "DIR")]
    pub backup_dir: Option<String>,
    /// Add SUFFIX to each backed-up name; alone, back up in place (page.html.SUFFIX).
    #[arg(help_heading = "Deletes and backups", long, value_name = "SUFFIX")]
    pub suffix: Option<String>,
    /// Delete nothing if the plan deletes more than N entries, or more than N% of the destination.
    #[arg(help_heading = "Deletes and backups", long, value_name = "N|N%")]
    pub max_delete: Option<MaxDelete>,
    /// Let --delete run when the source is empty (otherwise refused: an unmounted disk or a
    /// failed build must not wipe the destination).
    #[arg(help_heading = "Deletes and backups", long)]
    pub allow_empty_source: bool,
    /// Bytes per second for all transfers together: 512k, 4M (base 1024), off, or a
    /// timetable of local times, "08:00,512k 19:00,off".
    #[arg(help_heading = "Transfers", long, value_name = "RATE", value_parser = crate::bwlimit::Schedule::parse)]
    pub bwlimit: Option<crate::bwlimit::Schedule>,
    /// push: upload (and rename into place) files matching GLOB after all others, so that no
    /// page goes live before its assets (repeatable) [default: *.html, *.htm].
    #[arg(help_heading = "Transfers", long, value_name = "GLOB")]
    pub upload_last: Vec<String>,
    /// Modes for what this run creates or replaces, as rsync: D755,F644 (octal). Sent with
    /// SITE CHMOD on a push, on the temporary name before the rename (a server without it
    /// gets one warning), set locally on a pull.
    #[arg(help_heading = "Transfers", long, value_name = "SPEC", value_parser = crate::chmod::Chmod::parse)]
    pub chmod: Option<crate::chmod::Chmod>,
    /// Take a lock on the server (the directory .ftpmirror-lock at the remote root) for the
    /// run, so that two runs on other machines never overlap; a held lock exits 4.
    #[arg(help_heading = "Transfers", long)]
    pub remote_lock: bool,
    /// Take over a remote lock older than AGE (its run died) [default: 1h].
    #[arg(help_heading = "Transfers", long, value_name = "AGE", value_parser = crate::limits::parse_age, requires = "remote_lock")]
    pub remote_lock_ttl: Option<Duration>,
    /// Upload straight to the final name instead of a temporary name renamed into place.
    #[arg(help_heading = "Transfers", long)]
    pub no_temp_upload: bool,
    /// Continue partial transfers whatever the file size [default: files of 1 MiB and more].
    #[arg(
        help_heading = "Transfers",
        long = "continue",
        conflicts_with = "no_continue"
    )]
    pub continue_: bool,
    /// Never continue partial transfers: start every transfer from the beginning.
    #[arg(help_heading = "Transfers", long)]
    pub no_continue: bool,
}

#[derive(Debug, Clone, Default, Args)]
pub struct ConnArgs {
    /// FTP sessions to run in parallel (listing and transfers), 1-64 [default: 4].
    #[arg(help_heading = "Connection", short = 'j', long = "parallel", value_name = "N",
          value_parser = clap::value_parser!(u16).range(1..=64))]
    pub parallel: Option<u16>,
    /// Active mode: the server connects back (PORT on IPv4, EPRT on IPv6) instead of passive EPSV/PASV.
    #[arg(help_heading = "Connection", long)]
    pub active: bool,
    /// User name (overrides the one in the URL).
    #[arg(help_heading = "Connection", long, value_name = "NAME")]
    pub user: Option<String>,
    /// netrc file to read the password from [default: ~/.netrc].
    #[arg(help_heading = "Connection", long, value_name = "PATH")]
    pub netrc_file: Option<PathBuf>,
    /// Run CMD (split like a shell) and take the first line it prints as the password, e.g.
    /// "pass show ftp/deploy" or "secret-tool lookup host ftp.example.com".
    #[arg(help_heading = "Connection", long, value_name = "CMD")]
    pub password_command: Option<String>,
    /// Time limit for connecting and for each reply or data stall, e.g. 30, 30s, 2m [default: 30s].
    #[arg(help_heading = "Connection", long, value_name = "DURATION", value_parser = parse_duration)]
    pub timeout: Option<Duration>,
    /// Retries of a step that failed transiently (reset, timeout, 421/425/426/450/451) [default: 3].
    #[arg(help_heading = "Connection", long, value_name = "N")]
    pub retries: Option<u32>,
    /// Wait before the first retry, doubled for each next one [default: 1s].
    #[arg(help_heading = "Connection", long, value_name = "DURATION", value_parser = parse_duration)]
    pub retry_delay: Option<Duration>,
    /// FTPS: explicit (AUTH TLS, port 21; what ftps:// means) or implicit (TLS from the start, port 990).
    #[arg(help_heading = "TLS", long, value_name = "MODE")]
    pub tls: Option<TlsMode>,
    /// Trust the CA certificates in this PEM file too, besides the system's (repeatable).
    #[arg(help_heading = "TLS", long, value_name = "PATH")]
    pub ca_file: Vec<PathBuf>,
    /// Accept exactly the server certificate with this SHA-256 fingerprint, self-signed or not (repeatable).
    #[arg(help_heading = "TLS", long, value_name = "HASH", value_parser = crate::remote::tls::parse_pin)]
    pub pin_sha256: Vec<[u8; 32]>,
    /// Do not check the server certificate at all (a warning is printed on every run).
    #[arg(help_heading = "TLS", long)]
    pub insecure: bool,
    /// The server's LIST time zone, e.g. +02:00 [default: detected from MDTM where LIST is all there is].
    #[arg(help_heading = "Connection", long, value_name = "±HH:MM", allow_hyphen_values = true,
          value_parser = crate::remote::clock::parse_offset)]
    pub time_offset: Option<i64>,
}

/// `--tls`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TlsMode {
    Explicit,
    Implicit,
}

#[derive(Debug, Clone, Default, Args)]
pub struct OutputArgs {
    /// Print nothing but errors.
    #[arg(help_heading = "Output", short, long, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print each planned action with its reason, and connection details.
    #[arg(help_heading = "Output", short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Append timestamped lines (start, each action, summary, errors) to FILE.
    #[arg(help_heading = "Output", long, value_name = "FILE")]
    pub log_file: Option<PathBuf>,
    /// Write a machine-readable JSON summary of the run to FILE.
    #[arg(help_heading = "Output", long, value_name = "FILE")]
    pub summary_json: Option<PathBuf>,
    /// --log-file lines as text, or as one JSON object each (time, profile, event, path,
    /// bytes, and for a failure error, step and code).
    #[arg(help_heading = "Output", long, value_name = "FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,
    /// Without a terminal, one line per DURATION with files and bytes done, rate and ETA
    /// (also in --log-file), e.g. 1m.
    #[arg(help_heading = "Output", long, value_name = "DURATION", value_parser = parse_duration)]
    pub stats: Option<Duration>,
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
        let readme = include_str!("../README.md");
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
