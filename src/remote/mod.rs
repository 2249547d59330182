//! The FTP side: sessions, listings, the session pool and the parallel tree walk.

pub mod clock;
pub mod listing;
pub mod lock;
pub mod pool;
pub mod proven;
pub mod session;
pub mod tls;
pub mod walk;
pub mod watchdog;

use std::fmt;
use std::time::Duration;

use suppaftp::FtpError;
use suppaftp::types::Response;

pub use pool::Pool;
pub use session::{
    Caps, Carried, CarryState, Finished, HashCommand, Learned, Move, Moved, Redo, Renamed, Session,
    StepError, TimeCommand,
};

/// A password that never shows up in `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataMode {
    /// EPSV, falling back to PASV when the server refuses EPSV.
    Passive,
    /// PORT on IPv4, EPRT on IPv6.
    Active,
}

/// Where and how to log in.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: Secret,
    /// The URL path: relative to the login directory, or absolute when it starts with '/'.
    pub path: String,
    pub timeout: Duration,
    pub mode: DataMode,
    /// FTPS; `None` is plain FTP.
    pub tls: Option<tls::TlsSetup>,
    /// Set, once per run, when a PASV reply named another address than the server's: the
    /// address was ignored, and `-v` says so.
    pub pasv_note: std::sync::Arc<std::sync::OnceLock<String>>,
    /// What this server has shown, in this run, that it handles: which kinds of batching
    /// are on (shared by every session; `-v` says which were turned off, and why).
    pub proven: std::sync::Arc<proven::Proven>,
    /// What the run learnt beyond FEAT: probes, and EPSV seen working.
    pub learned: std::sync::Arc<Learned>,
    /// Seconds east of UTC of the server's clock as its LIST times show it
    /// (`--time-offset`; 0 where not given), for placing dates printed without a year.
    pub list_clock: i64,
}

impl Endpoint {
    /// `host:port` for messages.
    pub fn label(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// Escapes control characters (`\n`, `\u{1b}`, ...) so a server's text or a file name cannot
/// drive the terminal or forge log lines; everything else is left as it is.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// A server reply as one line: "550 No such file" (multi-line replies joined with " | ").
pub fn reply_text(r: &Response) -> String {
    let body = String::from_utf8_lossy(&r.body);
    let lines: Vec<String> = body
        .lines()
        .map(|l| escape(l.trim_end()))
        .filter(|l| !l.is_empty())
        .collect();
    if lines.is_empty() {
        format!("{} (empty reply)", r.status.code())
    } else {
        lines.join(" | ")
    }
}

/// One line describing what went wrong: the server's reply when there is one.
pub fn describe(e: &FtpError) -> String {
    match e {
        FtpError::UnexpectedResponse(r) => reply_text(r),
        FtpError::ConnectionError(io) => describe_io(io),
        FtpError::BadResponse => "malformed reply from the server".to_string(),
        other => other.to_string(),
    }
}

/// An I/O error in words; a socket read timeout shows up as `WouldBlock` on Linux.
pub fn describe_io(e: &std::io::Error) -> String {
    // A TLS failure: rustls's own words, without "connection error" around them.
    if let Some(tls) = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
        return match tls {
            rustls::Error::General(msg) => msg.clone(),
            other => format!("TLS error: {other}"),
        };
    }
    match e.kind() {
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => match e.get_ref() {
            Some(why) => format!("timed out waiting for the server: {why}"),
            None => "timed out waiting for the server".to_string(),
        },
        std::io::ErrorKind::Interrupted => "interrupted".to_string(),
        _ => format!("connection error: {e}"),
    }
}

/// Which step of the work failed: reported with each failure (`--summary-json`,
/// `--log-format json`), and what a caller tells one kind of refusal by (a refused rename).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Connect,
    Tls,
    Login,
    List,
    Retrieve,
    Store,
    Rename,
    SetTime,
    Mkdir,
    Delete,
    Rmdir,
    /// SIZE, MDTM, HASH, SITE CHMOD: asking or setting something about a file.
    Query,
    /// The bytes moved did not add up to the size expected.
    Verify,
    /// Moving a replaced or deleted file aside (`--backup-dir`, `--suffix`).
    Backup,
    /// The local side: reading, writing or renaming a local file.
    Local,
}

impl Step {
    /// The step an FTP command belongs to.
    pub fn of_command(cmd: &str) -> Step {
        let verb = cmd.split([' ', '/']).next().unwrap_or("");
        match verb.to_ascii_uppercase().as_str() {
            "RETR" => Step::Retrieve,
            "STOR" | "APPE" => Step::Store,
            "RNFR" | "RNTO" => Step::Rename,
            "MFMT" => Step::SetTime,
            "MKD" => Step::Mkdir,
            "DELE" => Step::Delete,
            "RMD" => Step::Rmdir,
            "LIST" | "MLSD" | "NLST" | "CWD" => Step::List,
            "USER" | "PASS" => Step::Login,
            "AUTH" | "PBSZ" | "PROT" => Step::Tls,
            "PWD" | "TYPE" | "FEAT" | "OPTS" | "SYST" => Step::Connect,
            _ => Step::Query,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Step::Connect => "connect",
            Step::Tls => "tls",
            Step::Login => "login",
            Step::List => "list",
            Step::Retrieve => "retrieve",
            Step::Store => "store",
            Step::Rename => "rename",
            Step::SetTime => "set_time",
            Step::Mkdir => "mkdir",
            Step::Delete => "delete",
            Step::Rmdir => "rmdir",
            Step::Query => "query",
            Step::Verify => "verify",
            Step::Backup => "backup",
            Step::Local => "local",
        }
    }
}

/// A failed FTP step: the message for the user, plus what retry logic and reports need.
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub step: Step,
    /// The server's reply code, when it refused.
    pub code: Option<u32>,
    /// Worth retrying on a fresh connection: resets, timeouts, 421, 425, 426, 450, 451.
    pub transient: bool,
}

impl Failure {
    pub fn ftp(step: Step, message: String, e: &FtpError) -> anyhow::Error {
        anyhow::Error::new(Failure {
            message,
            step,
            code: reply_code(e),
            transient: is_transient(e),
        })
    }

    /// A network-side I/O failure (transient) or a local one (not).
    pub fn io(step: Step, message: String, transient: bool) -> anyhow::Error {
        anyhow::Error::new(Failure {
            message,
            step,
            code: None,
            transient,
        })
    }

    /// `e` as a failure of `step`, under `context`: what the FTP layer said about it (code,
    /// transient) is kept, its step replaced.
    pub fn at(step: Step, context: String, e: anyhow::Error) -> anyhow::Error {
        anyhow::Error::new(Failure {
            message: format!("{context}: {e:#}"),
            step,
            code: Self::code_of(&e),
            transient: Self::is_transient(&e),
        })
    }

    /// The step `e` failed at, where the FTP layer said.
    pub fn step_of(e: &anyhow::Error) -> Option<Step> {
        Self::find(e).map(|f| f.step)
    }

    fn find(e: &anyhow::Error) -> Option<&Failure> {
        e.chain().find_map(|c| c.downcast_ref::<Failure>())
    }

    /// Whether `e` came from a failure worth retrying.
    pub fn is_transient(e: &anyhow::Error) -> bool {
        Self::find(e).is_some_and(|f| f.transient)
    }

    pub fn code_of(e: &anyhow::Error) -> Option<u32> {
        Self::find(e).and_then(|f| f.code)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

/// Transient: the connection broke or timed out, or the server said "try again" (421, 425,
/// 426, 450, 451). Permanent replies (530, 550, 553, ...) are not retried.
pub fn is_transient(e: &FtpError) -> bool {
    match e {
        // A TLS failure (a certificate the verifier rejects) surfaces as an I/O error: permanent.
        FtpError::ConnectionError(io) => !io
            .get_ref()
            .is_some_and(|inner| inner.is::<rustls::Error>()),
        FtpError::BadResponse | FtpError::DataConnectionAlreadyOpen => true,
        FtpError::UnexpectedResponse(r) => matches!(r.status.code(), 421 | 425 | 426 | 450 | 451),
        _ => false,
    }
}

/// The reply code of a refused command, if the server answered at all.
pub fn reply_code(e: &FtpError) -> Option<u32> {
    match e {
        FtpError::UnexpectedResponse(r) => Some(r.status.code()),
        _ => None,
    }
}

/// True when the control connection can no longer be trusted and the session must be dropped.
pub fn breaks_session(e: &FtpError) -> bool {
    match e {
        FtpError::ConnectionError(_) | FtpError::BadResponse => true,
        FtpError::UnexpectedResponse(r) => r.status.code() == 421,
        FtpError::DataConnectionAlreadyOpen => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn escape_neutralises_control_characters_only() {
        assert_eq!(super::escape("it's \"ok\" ü"), "it's \"ok\" ü");
        assert_eq!(super::escape("a\nb\x1b[2J\r"), "a\\nb\\u{1b}[2J\\r");
    }
}
