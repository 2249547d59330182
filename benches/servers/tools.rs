//! The three clients, each told to do the same thing with the same parallelism N: mirror a
//! local directory to the server's root (push) or the server's root to a local directory
//! (pull), deleting what the source does not have.

use std::ffi::OsString;
use std::path::Path;
use std::process::Command;

use crate::daemons::{PASSWORD, USER};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    Ftpmirror,
    Lftp,
    Rclone,
}

impl Tool {
    pub const ALL: [Tool; 3] = [Tool::Ftpmirror, Tool::Lftp, Tool::Rclone];

    pub fn name(self) -> &'static str {
        match self {
            Tool::Ftpmirror => "ftpmirror",
            Tool::Lftp => "lftp",
            Tool::Rclone => "rclone",
        }
    }

    pub fn parse(s: &str) -> Option<Tool> {
        Tool::ALL.into_iter().find(|t| t.name() == s)
    }

    /// The program's version line, for the report's header.
    pub fn version(self) -> String {
        let (prog, arg) = match self {
            Tool::Ftpmirror => (env!("CARGO_BIN_EXE_ftpmirror"), "--version"),
            Tool::Lftp => ("lftp", "--version"),
            Tool::Rclone => ("rclone", "version"),
        };
        Command::new(prog)
            .arg(arg)
            .output()
            .ok()
            .and_then(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .lines()
                    .next()
                    .map(str::to_string)
            })
            .unwrap_or_else(|| "not installed".into())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Way {
    Push,
    Pull,
}

/// Where the clients connect: the proxy or the daemon itself.
pub struct Target {
    pub host: String,
    pub port: u16,
    /// rclone wants the password obscured (`rclone obscure`).
    pub rclone_pass: String,
    /// FTPS (explicit, TLS required): the server certificate's SHA-256, for ftpmirror's pin.
    pub tls_pin: Option<String>,
}

/// A command line and its environment; the password never goes on a command line we print.
pub struct Invocation {
    pub argv: Vec<OsString>,
    pub env: Vec<(String, String)>,
}

pub fn rclone_obscure() -> String {
    Command::new("rclone")
        .args(["obscure", PASSWORD])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

/// The command that runs `tool` for `way` between `local` and the server root, with `n`
/// parallel sessions. `dry_run` lists and plans without transferring.
pub fn invocation(
    tool: Tool,
    way: Way,
    local: &Path,
    t: &Target,
    n: usize,
    dry_run: bool,
    checksum: bool,
) -> Invocation {
    let local = local.display().to_string();
    let mut env = Vec::new();
    let argv: Vec<String> = match tool {
        Tool::Ftpmirror => {
            let scheme = if t.tls_pin.is_some() { "ftps" } else { "ftp" };
            let url = format!("{scheme}://{USER}@{}:{}/", t.host, t.port);
            env.push(("FTPMIRROR_PASSWORD".into(), PASSWORD.into()));
            let (verb, from, to) = match way {
                Way::Push => ("push", local, url),
                Way::Pull => ("pull", url, local),
            };
            let mut v = vec![
                env!("CARGO_BIN_EXE_ftpmirror").to_string(),
                verb.into(),
                from,
                to,
                "--delete".into(),
                "-j".into(),
                n.to_string(),
                "-q".into(),
            ];
            if let Some(pin) = &t.tls_pin {
                v.extend(["--pin-sha256".into(), pin.clone()]);
            }
            if dry_run {
                v.push("--dry-run".into());
            }
            if checksum {
                v.push("--checksum".into());
            }
            v
        }
        Tool::Lftp => {
            let dir = match way {
                Way::Push => format!("-R --parallel={n} --delete {local} /"),
                Way::Pull => format!("--parallel={n} --delete / {local}"),
            };
            let dry = if dry_run { " --dry-run" } else { "" };
            let ssl = match t.tls_pin {
                Some(_) => {
                    "set ftp:ssl-force true; set ftp:ssl-protect-data true; \
                     set ssl:verify-certificate no"
                }
                None => "set ftp:ssl-allow no",
            };
            let script = format!(
                "set cmd:fail-exit yes; {ssl}; set net:max-retries 2; \
                 set net:reconnect-interval-base 1; \
                 open -u {USER},{PASSWORD} -p {} {}; mirror{dry} {dir}",
                t.port, t.host
            );
            vec!["lftp".into(), "-c".into(), script]
        }
        Tool::Rclone => {
            let tls = match t.tls_pin {
                Some(_) => ",explicit_tls=true,no_check_certificate=true",
                None => "",
            };
            let remote = format!(
                ":ftp,host={},port={},user={USER},pass={}{tls}:/",
                t.host, t.port, t.rclone_pass
            );
            let (from, to) = match way {
                Way::Push => (local, remote),
                Way::Pull => (remote, local),
            };
            let mut v = vec![
                "rclone".into(),
                "sync".into(),
                from,
                to,
                "--transfers".into(),
                n.to_string(),
                "--checkers".into(),
                n.to_string(),
                // Its default multi-stream download of files over 250 MiB fails against
                // these servers; one stream per file, like the other two.
                "--multi-thread-streams".into(),
                "0".into(),
                "--config".into(),
                "/dev/null".into(),
                "-q".into(),
            ];
            if dry_run {
                v.push("--dry-run".into());
            }
            v
        }
    };
    Invocation {
        argv: argv.into_iter().map(OsString::from).collect(),
        env,
    }
}
