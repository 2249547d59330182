//! One logged-in FTP control connection, plain or TLS, owned by ftpmirror end to end, and
//! the few commands a mirror needs, each failing with host, path and the server's reply.
//!
//! | file | job |
//! |---|---|
//! | `connect.rs` | TCP connect, greeting, AUTH TLS or implicit TLS, login, `TYPE I`, FEAT, probes |
//! | `control.rs` | the control stream: commands in one write, replies read in order, deadlines |
//! | `data.rs` | data connections: passive and active addresses, TLS after `PROT P` |
//! | `batch.rs` | EPSV with its command in one write, and what counts as an anomaly there |
//! | `list.rs` | listings: MLSD, `LIST -a`, `LIST`, listings sent ahead and letting them go |
//! | `transfer.rs` | RETR and STOR, batched or not, and the commands after an upload |
//! | `carry.rs` | an upload's finish carried in the write of the next upload's EPSV and STOR |
//! | `query.rs` | SIZE for many files, in batches where the server takes that |
//!
//! Every retry and fallback, innermost first:
//! 1. **425 re-ask.** A 425 to EPSV before any data moved (pure-ftpd's passive port still in
//!    TIME_WAIT) is asked again at once, up to [`BUSY_PORT_TRIES`] in all; with another
//!    listing queued behind it, the step is redone on a fresh connection instead (4).
//! 2. **EPSV → PASV.** EPSV refused (500, 501, 502, 504, 522): this session uses PASV, to the
//!    control connection's address whatever the 227 names.
//! 3. **`LIST -a` → `LIST`.** A refused `LIST -a` (the first listing tells) is sent bare from
//!    then on, on this session.
//! 4. **Redo.** An anomaly in a batched exchange (see `proven`) turns that kind of batching
//!    off for the run and returns [`StepError::Redo`]: the pool runs the step again at once,
//!    unbatched, on a fresh connection. Never counted as a failure or a retry. A step can
//!    meet one redo per kind of batching. Where the anomaly was in an upload's finish
//!    carried with the next upload, the executor also does that upload again.
//! 5. **Back-off.** A transient failure (reset, timeout, 421, 425, 426, 450, 451) is retried
//!    by the pool's `RetryPolicy` on a reconnected session, after a growing delay.

mod batch;
mod caps;
mod carry;
mod connect;
mod control;
mod data;
mod list;
mod query;
mod transfer;

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use anyhow::Result;
use suppaftp::types::Response;
use suppaftp::{FtpError, FtpResult};

pub use caps::{Caps, HashCommand, Learned};
pub use carry::{Carried, CarryState};
pub use query::{Move, Moved, Renamed};
pub use transfer::Finished;

use super::proven::{Batching, Proven};
use super::{Failure, Step, breaks_session, describe};
use control::{Control, code, expect};
use data::{Data, DataTls};

/// How this session sets up data connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// EPSV (RFC 2428), the default.
    Epsv,
    /// PASV, after the server refused EPSV.
    Pasv,
    /// PORT on IPv4, EPRT on IPv6: the server connects back.
    Active,
}

pub struct Session {
    ctl: Control,
    pub caps: Caps,
    label: String,
    timeout: Duration,
    mode: Mode,
    /// TLS for data connections, after `PROT P`.
    data_tls: Option<DataTls>,
    /// Whether `LIST -a` works here; learnt on the first LIST.
    list_a: Option<bool>,
    /// The control connection failed or fell out of step; the pool drops this session.
    pub broken: bool,
    /// What this server has shown it handles (shared by the run's sessions).
    proven: Arc<Proven>,
    /// What the run learnt beyond FEAT (shared by the run's sessions).
    learned: Arc<Learned>,
    /// The listing whose commands went out ahead, with the previous listing's: its replies
    /// are the next to come, so the next listing on this session must be that one.
    ahead: Option<list::Ahead>,
    /// The control connection's peer: where passive data connections go.
    peer: SocketAddr,
    /// Set once per run when a PASV reply named another address than the server's.
    pasv_note: Arc<OnceLock<String>>,
    /// The server's clock, as seconds east of UTC, for dates without a year.
    list_clock: i64,
    /// The algorithm `OPTS HASH` selected on this session, if it was sent.
    hash_selected: Option<crate::hash::Algo>,
}

/// A batched step met an anomaly: redo it now, unbatched, on a fresh connection. Not a
/// failure and not a retry; the kind of batching at fault is already off for the run.
#[derive(Debug)]
pub struct Redo(pub String);

impl std::fmt::Display for Redo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Redo {}

/// How a listing or a batched data setup ended when it did not succeed.
#[derive(Debug)]
pub enum StepError {
    /// Redo at once, unbatched, on a fresh connection.
    Redo(String),
    /// A failure to report, or to retry if transient.
    Failed(FtpError),
}

impl From<FtpError> for StepError {
    fn from(e: FtpError) -> Self {
        StepError::Failed(e)
    }
}

/// How a file's mtime is set: `MFMT`, or vsftpd's `MDTM time path`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeCommand {
    Mfmt,
    MdtmWrite,
}

impl TimeCommand {
    fn line(self, time: SystemTime, remote: &str) -> String {
        let ts = chrono::DateTime::<chrono::Utc>::from(time).format("%Y%m%d%H%M%S");
        format!("{} {ts} {remote}", self.verb())
    }

    fn verb(self) -> &'static str {
        match self {
            TimeCommand::Mfmt => "MFMT",
            TimeCommand::MdtmWrite => "MDTM",
        }
    }
}

/// How often a data command's port is asked for when the server answers 425 before any data
/// moved.
pub const BUSY_PORT_TRIES: usize = 5;

/// 425 before a transfer started: the server could not open its side of the data
/// connection. pure-ftpd says so when the passive port it picked at random is still in
/// TIME_WAIT; asking again at once picks another, which beats a retry's back-off.
fn busy_port(r: &Response) -> bool {
    code(r) == 425
}

/// Whether a refusal is the server declining EPSV (RFC 2428: 522; older servers: 500/502).
fn refuses_epsv(r: &Response) -> bool {
    matches!(code(r), 500 | 501 | 502 | 504 | 522)
}

/// The time in an MDTM reply (`213 YYYYMMDDHHMMSS[.sss]`, UTC); None for a refusal.
pub(super) fn mdtm_time(r: &Response) -> Option<SystemTime> {
    if code(r) != 213 {
        return None;
    }
    let text = String::from_utf8_lossy(&r.body);
    let digits = text.get(4..18)?;
    chrono::NaiveDateTime::parse_from_str(digits, "%Y%m%d%H%M%S")
        .ok()
        .map(|t| t.and_utc().into())
}

/// The directory in a 257 reply: `257 "/a ""quoted"" dir" is current` (RFC 959 appendix II).
fn quoted_path(r: &Response) -> Option<String> {
    let text = String::from_utf8_lossy(&r.body);
    let rest = &text[text.find('"')? + 1..];
    let mut out = String::new();
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if chars.peek() == Some(&'"') => {
                chars.next();
                out.push('"');
            }
            '"' => return Some(out),
            c => out.push(c),
        }
    }
    None
}

impl Session {
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Notes a failure that leaves the control connection unusable.
    fn check<T>(&mut self, r: FtpResult<T>) -> FtpResult<T> {
        if let Err(e) = &r
            && breaks_session(e)
        {
            self.broken = true;
        }
        r
    }

    /// Sends `lines` in one write and reads `n` replies; what came beyond them stays
    /// buffered for the next read (a batch whose later replies are still to be read).
    fn exchange_partial(&mut self, lines: &[String], n: usize) -> FtpResult<Vec<Response>> {
        let r = self.ctl.exchange(lines, n);
        self.check(r)
    }

    /// [`Session::exchange_partial`], where nothing may come beyond the `n` replies: more
    /// means the next reply would answer the wrong command.
    fn exchange(&mut self, lines: &[String], n: usize) -> FtpResult<Vec<Response>> {
        let r = self.exchange_partial(lines, n)?;
        if self.ctl.pending() {
            self.broken = true;
            return Err(FtpError::BadResponse);
        }
        Ok(r)
    }

    /// One command, one reply, which must be one of `expected`.
    fn ask(&mut self, line: impl Into<String>, expected: &[u32]) -> FtpResult<Response> {
        let mut r = self.exchange(&[line.into()], 1)?;
        expect(r.remove(0), expected)
    }

    /// Sends a data command and reads its 125 or 150; the final reply may already be
    /// behind it (a short transfer), and stays buffered.
    fn opens(&mut self, command: &str) -> FtpResult<Response> {
        let mut r = self.exchange_partial(&[command.to_string()], 1)?;
        expect(r.remove(0), &[125, 150])
    }

    /// After a data connection failed under an upload: the server's refusal (550 permission
    /// denied, 552 disk full), if one comes within a moment. The session is retired either
    /// way, so the shorter read timeout it leaves behind does not matter.
    fn refusal(&mut self) -> Option<Response> {
        self.broken = true;
        self.ctl.set_read_timeout(Duration::from_secs(2));
        self.ctl.read().ok().filter(|r| code(r) >= 400)
    }

    /// The next reply. With a listing sent ahead, its replies may already follow.
    fn read_next(&mut self) -> FtpResult<Response> {
        let r = match self.ahead.is_some() {
            true => self.exchange_partial(&[], 1),
            false => self.exchange(&[], 1),
        };
        r.map(|mut r| r.remove(0))
    }

    /// Whether the session can serve another step: connected, and no replies to commands
    /// sent ahead still to come.
    pub fn reusable(&self) -> bool {
        !self.broken && self.ahead.is_none()
    }

    /// Whether EPSV goes out with the data command it is for: in EPSV mode, only where the
    /// server has EPSV (FEAT, or seen working; a server without it must not get data
    /// commands that have no port to go to), and while it keeps such batches in step.
    /// Plain and TLS control connections alike.
    fn batches_data(&self) -> bool {
        self.mode == Mode::Epsv && self.caps.epsv && self.proven.get(Batching::WithCommand).on()
    }

    /// Whether the commands after a transfer (MFMT, RNFR, RNTO) go out in one write.
    fn batches_after_transfer(&self) -> bool {
        self.proven.get(Batching::AfterTransfer).on()
    }

    /// EPSV was refused: PASV from now on, for this session.
    fn use_pasv(&mut self) {
        self.mode = Mode::Pasv;
    }

    /// A data connection for `command`, one command at a time: EPSV (or PASV) and a
    /// connection to the port named, then the command; or in active mode PORT/EPRT, the
    /// command, and the server's connection back. TLS, where due, starts after the 150.
    fn open_data(&mut self, command: &str) -> FtpResult<Data> {
        let data = if self.mode == Mode::Active {
            let local = self.ctl.local().map_err(FtpError::ConnectionError)?.ip();
            let (listener, port_cmd) = data::listen(local)?;
            self.ask(port_cmd, &[200])?;
            self.opens(command)?;
            let sock = data::accept(&listener, self.peer.ip(), self.timeout)?;
            self.data_conn(sock)?
        } else {
            let sock = self.passive()?;
            let data = self.data_conn(sock)?;
            self.opens(command)?;
            data
        };
        self.start_data(data)
    }

    /// A connected data socket as a data connection: timeouts set, and over TLS the
    /// ClientHello sent. A failure retires the session.
    fn data_conn(&mut self, sock: std::net::TcpStream) -> FtpResult<Data> {
        Data::new(sock, self.data_tls.as_ref(), self.timeout).map_err(|e| {
            self.broken = true;
            FtpError::ConnectionError(e)
        })
    }

    /// Finishes a data connection's TLS handshake, once the server has taken the command.
    fn start_data(&mut self, data: Data) -> FtpResult<Data> {
        data.start().map_err(|e| {
            self.broken = true;
            FtpError::ConnectionError(e)
        })
    }

    /// EPSV, or PASV where EPSV was refused, and a connection to the port it names (on the
    /// control connection's address: a server must not point us at another host). A 425 is
    /// asked again at once; a refused EPSV switches this session to PASV.
    fn passive(&mut self) -> FtpResult<std::net::TcpStream> {
        let mut busy = 1;
        loop {
            let (line, ok) = match self.mode {
                Mode::Pasv => ("PASV", 227),
                _ => ("EPSV", 229),
            };
            match self.ask(line, &[ok]) {
                Ok(r) if ok == 229 => {
                    let port = data::epsv_port(&r)?;
                    if !self.caps.epsv {
                        self.caps.epsv = true;
                        self.learned.saw_epsv();
                    }
                    return data::connect(self.peer.ip(), port, self.timeout);
                }
                Ok(r) => {
                    let (ip, port) = data::pasv_addr(&r)?;
                    if ip != self.peer.ip() {
                        let peer = self.peer.ip();
                        self.pasv_note.get_or_init(|| {
                            format!(
                                "the server's PASV reply named {ip}; connected to {peer} instead"
                            )
                        });
                    }
                    return data::connect(self.peer.ip(), port, self.timeout);
                }
                Err(FtpError::UnexpectedResponse(r)) if busy_port(&r) && busy < BUSY_PORT_TRIES => {
                    busy += 1;
                }
                Err(FtpError::UnexpectedResponse(r))
                    if self.mode == Mode::Epsv && refuses_epsv(&r) =>
                {
                    self.use_pasv();
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// The login directory (`PWD`), used to resolve relative URL paths.
    pub fn pwd(&mut self) -> Result<String> {
        let r = self.ask("PWD", &[257]);
        r.and_then(|r| quoted_path(&r).ok_or(FtpError::UnexpectedResponse(r)))
            .map_err(|e| {
                let msg = format!("{}: PWD failed: {}", self.label, describe(&e));
                Failure::ftp(Step::Connect, msg, &e)
            })
    }

    /// The server's system type (SYST, RFC 959), such as `UNIX Type: L8` or `Windows_NT`.
    pub fn syst(&mut self) -> Result<String> {
        self.ask("SYST", &[215])
            .map(|r| {
                let text = String::from_utf8_lossy(&r.body).into_owned();
                super::escape(text.get(4..).unwrap_or("").trim())
            })
            .map_err(|e| self.fail("SYST", "", &e))
    }

    /// Sets a remote file's mtime, to the second: MFMT (RFC draft, widely deployed), or the
    /// vsftpd way, `MDTM YYYYMMDDHHMMSS path` (`mdtm_write`), which servers that do not know
    /// this form refuse (550 or 501).
    pub fn set_time(&mut self, cmd: TimeCommand, remote: &str, time: SystemTime) -> Result<()> {
        self.ask(cmd.line(time, remote), &[213, 200, 250])
            .map(|_| ())
            .map_err(|e| self.fail_at(Step::SetTime, cmd.verb(), remote, &e))
    }

    /// A remote file's mtime to the second, UTC (MDTM, RFC 3659).
    pub fn mdtm(&mut self, remote: &str) -> Result<SystemTime> {
        self.ask(format!("MDTM {remote}"), &[213])
            .and_then(|r| mdtm_time(&r).ok_or(FtpError::UnexpectedResponse(r)))
            .map_err(|e| self.fail("MDTM", remote, &e))
    }

    /// Whether `remote` is a directory the server lets us into (CWD): for a listing refused
    /// with a reply that does not say whether the directory exists.
    pub fn dir_exists(&mut self, remote: &str) -> Result<bool> {
        match self.ask(format!("CWD {remote}"), &[250, 200]) {
            Ok(_) => Ok(true),
            Err(FtpError::UnexpectedResponse(r)) if (500..600).contains(&code(&r)) => Ok(false),
            Err(e) => Err(self.fail("CWD", remote, &e)),
        }
    }

    pub fn mkdir(&mut self, remote: &str) -> Result<()> {
        self.ask(format!("MKD {remote}"), &[257, 250])
            .map(|_| ())
            .map_err(|e| self.fail("MKD", remote, &e))
    }

    /// Creates `remote` and any missing parents. A parent's MKD may fail because it exists;
    /// only the last one decides.
    pub fn mkdir_all(&mut self, remote: &str) -> Result<()> {
        let absolute = remote.starts_with('/');
        let parts: Vec<&str> = remote.split('/').filter(|p| !p.is_empty()).collect();
        for i in 1..parts.len() {
            let prefix = parts[..i].join("/");
            let prefix = if absolute {
                format!("/{prefix}")
            } else {
                prefix
            };
            let _ = self.ask(format!("MKD {prefix}"), &[257, 250]);
            if self.broken {
                return Err(Failure::io(
                    Step::Mkdir,
                    format!("MKD {prefix} on {}: connection lost", self.label),
                    true,
                ));
            }
        }
        self.mkdir(remote)
    }

    /// Makes `dir` and its parents; one that is there already is fine (as `mkdir -p`), also
    /// when another session made it a moment ago, or a redo finds it made.
    pub fn ensure_dir(&mut self, dir: &str) -> Result<()> {
        match self.mkdir_all(dir) {
            Ok(()) => Ok(()),
            Err(_) if !self.broken && self.dir_exists(dir).unwrap_or(false) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// RNFR/RNTO: moves a finished temporary upload over its final name.
    pub fn rename(&mut self, from: &str, to: &str) -> Result<()> {
        self.ask(format!("RNFR {from}"), &[350])
            .and_then(|_| self.ask(format!("RNTO {to}"), &[250]))
            .map(|_| ())
            .map_err(|e| self.fail("RNFR/RNTO", &format!("{from} -> {to}"), &e))
    }

    pub fn remove_file(&mut self, remote: &str) -> Result<()> {
        self.ask(format!("DELE {remote}"), &[250, 200])
            .map(|_| ())
            .map_err(|e| self.fail("DELE", remote, &e))
    }

    pub fn remove_dir(&mut self, remote: &str) -> Result<()> {
        self.ask(format!("RMD {remote}"), &[250, 200])
            .map(|_| ())
            .map_err(|e| self.fail("RMD", remote, &e))
    }

    /// "RETR /www/a on host:21: 550 Permission denied".
    fn fail(&self, cmd: &str, path: &str, e: &FtpError) -> anyhow::Error {
        self.fail_at(Step::of_command(cmd), cmd, path, e)
    }

    /// [`Session::fail`], at a step the command alone does not tell (MDTM setting a time).
    fn fail_at(&self, step: Step, cmd: &str, path: &str, e: &FtpError) -> anyhow::Error {
        let msg = format!(
            "{cmd} {} on {}: {}",
            super::escape(path),
            self.label,
            describe(e)
        );
        Failure::ftp(step, msg, e)
    }

    /// Says goodbye on every session. The 221 is not waited for: every earlier reply has
    /// been read, so it could tell nothing, and waiting would cost each run a round trip at
    /// its very end.
    pub fn quit_all(sessions: Vec<Session>) {
        for mut s in sessions {
            if !s.broken {
                let _ = s.ctl.send(&["QUIT".to_string()]);
            }
            s.ctl.close();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use suppaftp::Status;

    fn reply(text: &str) -> Response {
        Response::new(Status::from(0), text.as_bytes().to_vec())
    }

    #[test]
    fn mdtm_replies_give_utc_seconds_and_refusals_none() {
        let t = mdtm_time(&reply("213 20200913122640\r\n")).unwrap();
        assert_eq!(
            t,
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_600_000_000)
        );
        let frac = mdtm_time(&reply("213 20200913122640.123\r\n")).unwrap();
        assert_eq!(frac, t);
        assert_eq!(mdtm_time(&reply("550 No such file\r\n")), None);
        assert_eq!(mdtm_time(&reply("213 junk\r\n")), None);
        assert_eq!(mdtm_time(&reply("213 2020\r\n")), None);
    }

    #[test]
    fn pwd_replies_unquote() {
        assert_eq!(
            quoted_path(&reply("257 \"/home/u\" is cwd\r\n")).unwrap(),
            "/home/u"
        );
        assert_eq!(
            quoted_path(&reply("257 \"/a \"\"b\"\"\" ok\r\n")).unwrap(),
            "/a \"b\""
        );
        assert_eq!(quoted_path(&reply("257 no quotes\r\n")), None);
    }
}
