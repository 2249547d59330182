//! One logged-in FTP control connection: connect with timeouts, log in, `TYPE I`, FEAT,
//! and the few commands a mirror needs, each failing with host, path and the server's reply.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use anyhow::Result;
use suppaftp::types::{FileType, Response};
use suppaftp::{
    ActivePeerCheck, FtpError, FtpResult, ImplFtpStream, Mode, RustlsConnector, RustlsFtpStream,
    Status, TlsConnector, TlsStream, TransferStream,
};

use super::listing::{self, ParsedLine};
use super::pipeline::{self, Replies};
use super::proven::{Batching, Engaged, Proven};
use super::tls::{TlsMode, TlsSetup};
use super::watchdog::{Fired, Guard};
use super::{DataMode, Endpoint, Failure, breaks_session, describe, describe_io};

/// What FEAT said the server can do. Capabilities come from FEAT, never from the server's name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Caps {
    /// MLSD/MLST (RFC 3659: MLST in FEAT implies MLSD).
    pub mlsd: bool,
    pub mdtm: bool,
    pub size: bool,
    /// Setting a file's mtime with `MFMT`.
    pub mfmt: bool,
    pub utf8: bool,
    pub epsv: bool,
    pub rest_stream: bool,
    /// FEAT answered with a list. Without one, what matters is probed (see [`Session::probe`]).
    pub feat: bool,
}

/// What this run learnt about the server beyond FEAT, shared by every session: the probes
/// of the first session, and EPSV once a transfer used it.
#[derive(Debug, Default)]
pub struct Learned {
    probed: std::sync::OnceLock<Caps>,
    epsv: std::sync::atomic::AtomicBool,
}

impl Learned {
    /// Whether EPSV was seen working where FEAT did not list it.
    pub fn epsv(&self) -> bool {
        self.epsv.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// Whether a reply shows the server knows the command, whatever it made of the argument:
/// 500, 502 and 504 say it does not (RFC 959); 550 "not a plain file" says it does.
fn knows(r: &FtpResult<Response>) -> bool {
    match r {
        Ok(_) => true,
        Err(FtpError::UnexpectedResponse(r)) => !matches!(pipeline::code(r), 500 | 502 | 504),
        Err(_) => false,
    }
}

impl Caps {
    fn from_feat(features: &suppaftp::types::Features) -> Caps {
        let has = |k: &str| features.keys().any(|f| f.eq_ignore_ascii_case(k));
        let rest_stream = features.iter().any(|(k, v)| {
            k.eq_ignore_ascii_case("REST")
                && v.as_deref()
                    .is_some_and(|v| v.trim().eq_ignore_ascii_case("STREAM"))
        });
        Caps {
            mlsd: has("MLST") || has("MLSD"),
            mdtm: has("MDTM"),
            size: has("SIZE"),
            mfmt: has("MFMT"),
            utf8: has("UTF8"),
            epsv: has("EPSV"),
            rest_stream,
            feat: true,
        }
    }

    /// The names of the capabilities found, for `-v` output.
    pub fn names(&self) -> Vec<&'static str> {
        [
            (self.mlsd, "MLSD"),
            (self.mdtm, "MDTM"),
            (self.size, "SIZE"),
            (self.mfmt, "MFMT"),
            (self.utf8, "UTF8"),
            (self.epsv, "EPSV"),
            (self.rest_stream, "REST STREAM"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect()
    }
}

pub struct Session {
    ftp: Ftp,
    /// Bounds each whole reply and unblocks the session on Ctrl-C.
    guard: Guard,
    pub caps: Caps,
    label: String,
    timeout: Duration,
    /// Still using EPSV; becomes false when the server refuses it and PASV is used instead.
    epsv: bool,
    /// Whether `LIST -a` works here; learnt on the first LIST.
    list_a: Option<bool>,
    /// The control connection failed; the pool drops this session instead of reusing it.
    pub broken: bool,
    /// Plain-text control connection: commands can be batched (see `pipeline`).
    plain: bool,
    /// What this server has shown it handles (shared by the run's sessions).
    proven: Arc<Proven>,
    /// What the run learnt beyond FEAT (shared by the run's sessions).
    learned: Arc<Learned>,
    /// The listing whose commands went out ahead, with the previous listing's: its replies
    /// are the next to come, so the next listing on this session must be that one.
    ahead: Option<Ahead>,
    /// The control connection's peer: where passive data connections go.
    peer: SocketAddr,
    /// Reply bytes read past the last pipelined reply (none, unless the server misbehaves).
    replies: Replies,
}

/// A listing's commands sent ahead of their turn.
#[derive(Debug)]
struct Ahead {
    /// The commands, as sent.
    commands: Vec<String>,
    /// Whether this is the run's trial of [`Batching::Ahead`].
    trial: bool,
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

impl Session {
    /// Connects, logs in, switches to binary and reads FEAT. Every step is bounded by the
    /// endpoint's timeout: the TCP connect, the greeting and each reply.
    pub fn connect(ep: &Endpoint) -> Result<Session> {
        let label = ep.label();
        let timeout = ep.timeout;
        let (ftp, guard, peer) = match &ep.tls {
            Some(tls) if tls.mode == TlsMode::Implicit => connect_implicit(ep, tls)?,
            _ => {
                let stream = connect_tcp(ep)
                    .map_err(|e| Failure::io(format!("cannot connect to {label}: {e}"), true))?;
                let peer = stream.peer_addr()?;
                let guard = Guard::register(stream.try_clone()?);
                let ftp =
                    bounded(&guard, timeout, || Ftp::connect_with_stream(stream)).map_err(|e| {
                        Failure::ftp(
                            format!("no FTP greeting from {label}: {}", describe(&e)),
                            &e,
                        )
                    })?;
                let ftp = match &ep.tls {
                    // AUTH TLS, then PBSZ 0 and PROT P. A refusal ends the run: no plain-text
                    // fallback, and suppaftp drops anything the server sent before the switch.
                    Some(tls) => bounded(&guard, timeout, || {
                        ftp.into_secure(RustlsConnector::from(tls.config.clone()), &ep.host)
                    })
                    .map_err(|e| tls_failure(&label, &e))?,
                    None => ftp,
                };
                (ftp, guard, peer)
            }
        };
        // Data connections go to the control connection's peer, whatever address a 227 reply
        // names: a server must not be able to point us at another host.
        let note = ep.pasv_note.clone();
        let mut ftp = ftp.passive_stream_builder(move |addr: SocketAddr| {
            if addr.ip() != peer.ip() {
                note.get_or_init(|| {
                    format!(
                        "the server's PASV reply named {}; connected to {} instead",
                        addr.ip(),
                        peer.ip()
                    )
                });
            }
            let target = SocketAddr::new(peer.ip(), addr.port());
            let s =
                TcpStream::connect_timeout(&target, timeout).map_err(FtpError::ConnectionError)?;
            set_timeouts(&s, timeout).map_err(FtpError::ConnectionError)?;
            Ok(s)
        });
        // Active mode: only the server itself may connect back.
        ftp.set_active_peer_check(ActivePeerCheck::ControlPeer);
        match ep.mode {
            DataMode::Active => ftp = ftp.active_mode(timeout),
            DataMode::Passive => ftp.set_mode(Mode::ExtendedPassive),
        }
        bounded(&guard, timeout, || {
            ftp.login(ep.user.as_str(), ep.password.0.as_str())
        })
        .map_err(|e| {
            Failure::ftp(
                format!("login to {label} as {} failed: {}", ep.user, describe(&e)),
                &e,
            )
        })?;
        bounded(&guard, timeout, || ftp.transfer_type(FileType::Binary))
            .map_err(|e| Failure::ftp(format!("{label}: TYPE I failed: {}", describe(&e)), &e))?;
        let caps = match bounded(&guard, timeout, || ftp.feat()) {
            Ok(features) => Caps::from_feat(&features),
            // No FEAT, or a FEAT reply suppaftp cannot parse: assume nothing.
            Err(FtpError::UnexpectedResponse(_)) | Err(FtpError::BadResponse) => Caps::default(),
            Err(e) => {
                return Err(Failure::ftp(
                    format!("{label}: FEAT failed: {}", describe(&e)),
                    &e,
                ));
            }
        };
        let mut caps = caps;
        if let Some(p) = ep.learned.probed.get() {
            caps.mlsd |= p.mlsd;
            caps.mdtm |= p.mdtm;
        }
        caps.epsv |= ep.learned.epsv();
        if caps.utf8 {
            // Some servers answer 202 ("already on"); a refusal is not fatal either.
            let opts = || {
                ftp.custom_command(
                    "OPTS UTF8 ON",
                    &[Status::CommandOk, Status::CommandNotImplemented],
                )
            };
            match bounded(&guard, timeout, opts) {
                Ok(_) | Err(FtpError::UnexpectedResponse(_)) => {}
                Err(e) => {
                    return Err(Failure::ftp(
                        format!("{label}: OPTS UTF8 ON failed: {}", describe(&e)),
                        &e,
                    ));
                }
            }
        }
        Ok(Session {
            ftp,
            guard,
            caps,
            label,
            timeout,
            epsv: ep.mode == DataMode::Passive,
            list_a: None,
            broken: false,
            plain: ep.tls.is_none(),
            proven: ep.proven.clone(),
            learned: ep.learned.clone(),
            ahead: None,
            peer,
            replies: Replies::default(),
        })
    }

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

    /// Runs one command with its whole reply bounded by the timeout.
    fn guarded<T>(&mut self, f: impl FnOnce(&mut Ftp) -> FtpResult<T>) -> FtpResult<T> {
        let (guard, ftp) = (&self.guard, &mut self.ftp);
        let r = bounded(guard, self.timeout, || f(ftp));
        self.check(r)
    }

    /// Runs a data command, switching from EPSV to PASV once if the server refuses EPSV.
    /// EPSV working where FEAT did not list it is learnt for the run, so that batching
    /// engages from the next data command on.
    fn with_data<T>(&mut self, mut f: impl FnMut(&mut Ftp) -> FtpResult<T>) -> FtpResult<T> {
        match self.while_port_busy(|s| s.guarded(&mut f)) {
            Err(FtpError::UnexpectedResponse(ref resp)) if self.epsv && refuses_epsv(resp) => {
                self.use_pasv();
                self.guarded(f)
            }
            Ok(r) if self.epsv && !self.caps.epsv => {
                self.caps.epsv = true;
                self.learned
                    .epsv
                    .store(true, std::sync::atomic::Ordering::SeqCst);
                Ok(r)
            }
            other => other,
        }
    }

    /// Runs `f` again at once while the server answers 425 (its passive port busy), up to
    /// [`BUSY_PORT_TRIES`] in all; see [`busy_port`].
    fn while_port_busy<T>(&mut self, mut f: impl FnMut(&mut Self) -> FtpResult<T>) -> FtpResult<T> {
        let mut r = f(self);
        for _ in 1..BUSY_PORT_TRIES {
            match &r {
                Err(FtpError::UnexpectedResponse(resp)) if busy_port(resp) => r = f(self),
                _ => break,
            }
        }
        r
    }

    /// EPSV was refused: PASV through suppaftp from now on, for this session.
    fn use_pasv(&mut self) {
        self.epsv = false;
        self.ftp.set_mode(Mode::Passive);
    }

    /// Tries what FEAT did not list but the run needs, on the control connection alone (no
    /// port is announced): `MLST root` for MLSD, and where listings are LIST, `MDTM root`
    /// (a 550 for a directory still shows the command is known). Once per run, on the first
    /// session; later sessions take the result. Returns what was tried and how it went.
    pub fn probe(&mut self, root: &str) -> Vec<(&'static str, bool)> {
        let mut tried = Vec::new();
        if !self.caps.mlsd {
            // RFC 3659: a server with MLST has MLSD. A 550 (no such root yet) still says so.
            let r = self.guarded(|f| {
                f.custom_command(format!("MLST {root}"), &[Status::RequestedFileActionOk])
            });
            self.caps.mlsd = knows(&r);
            tried.push(("MLSD", self.caps.mlsd));
        }
        if !self.caps.mlsd && !self.caps.mdtm {
            let r = self.guarded(|f| f.custom_command(format!("MDTM {root}"), &[Status::File]));
            self.caps.mdtm = knows(&r);
            tried.push(("MDTM", self.caps.mdtm));
        }
        let _ = self.learned.probed.set(self.caps.clone());
        tried
    }

    /// The login directory (`PWD`), used to resolve relative URL paths.
    pub fn pwd(&mut self) -> Result<String> {
        let r = self.guarded(|f| f.pwd());
        r.map_err(|e| Failure::ftp(format!("{}: PWD failed: {}", self.label, describe(&e)), &e))
    }

    /// Lists one directory: MLSD when FEAT offers it, else `LIST -a`, else plain `LIST`.
    /// `next`, when given, is the directory this session lists next: where the server has
    /// shown it takes listings sent ahead ([`Batching::Ahead`]), its commands go out in the
    /// same write, so the server starts on it as soon as this listing ends.
    pub fn list(&mut self, dir: &str, next: Option<&str>) -> Result<Vec<ParsedLine>, StepError> {
        let trial = self.ahead.as_ref().is_some_and(|a| a.trial);
        let r = self.list_now(dir, next);
        match &r {
            // This listing went out ahead as the trial, and came back whole.
            Ok(_) if trial => self.proven.get(Batching::Ahead).shown(),
            Ok(_) => {}
            Err(e) => {
                let trying = trial || self.ahead.as_ref().is_some_and(|a| a.trial);
                if trying && matches!(e, StepError::Failed(_)) {
                    self.proven.get(Batching::Ahead).untried();
                }
                self.release(false);
            }
        }
        r
    }

    /// Whether a listing may carry the next one's commands: batching with the command is on
    /// and listings sent ahead have not been turned off. The walker asks before it takes a
    /// second directory for this session.
    pub fn may_send_ahead(&self) -> bool {
        self.batches_data() && self.proven.get(Batching::Ahead).refused().is_none()
    }

    /// Batched listing commands whose replies will not be read here: the next listing's,
    /// sent ahead, and (`own_rest`) this one's EPSV and LIST behind a refused CWD. The
    /// session is out of step, and the server would sit waiting for each listing's data
    /// connection until its own timeout (minutes, holding a connection slot). Take each port
    /// it offers and close it at once, so it goes back to its control connection and finds
    /// ours closed. Replies of this listing still on the way are skipped.
    fn release(&mut self, own_rest: bool) {
        let mut ports = usize::from(own_rest);
        if self.ahead.take().is_some() {
            ports += 1;
        }
        if ports == 0 {
            return;
        }
        self.broken = true;
        let sock = self.ftp.get_ref();
        let _ = sock.set_read_timeout(Some(Duration::from_secs(2)));
        // Each batch is at most CWD, EPSV, 150 and the final reply.
        for _ in 0..4 * (ports + 1) {
            let Ok(mut r) = self.replies.read(&sock, 1) else {
                return;
            };
            let reply = r.remove(0);
            if pipeline::code(&reply) == 229 {
                self.let_go(&reply);
                ports -= 1;
                if ports == 0 {
                    return;
                }
            }
        }
    }

    /// Opens and closes at once the data connection a 229 announced for a listing that will
    /// not be read, so the server does not sit waiting for it.
    fn let_go(&self, reply: &Response) {
        if let Ok(port) = epsv_port(reply) {
            let addr = SocketAddr::new(self.peer.ip(), port);
            drop(TcpStream::connect_timeout(&addr, Duration::from_secs(2)));
        }
    }

    fn list_now(&mut self, dir: &str, next: Option<&str>) -> Result<Vec<ParsedLine>, StepError> {
        // Ahead only once LIST's form is settled (a refused `LIST -a` is sent again bare),
        // and only where this server has shown it takes it, or as the run's one trial.
        let next =
            next.filter(|_| self.batches_data() && (self.caps.mlsd || self.list_a.is_some()));
        let ahead = match next.map(|n| (n, self.proven.get(Batching::Ahead).engage())) {
            Some((n, engaged)) if engaged.yes() => Some(Ahead {
                commands: self.listing_commands(n),
                trial: engaged == Engaged::Trial,
            }),
            _ => None,
        };
        if self.caps.mlsd {
            let mlsd = format!("MLSD {dir}");
            return self.data_lines_after(None, &mlsd, ahead, mlsd_parser);
        }
        let parse: Parser = listing::parse_list_line;
        // LIST takes options and some servers glob its argument, so change into the
        // directory and list "." instead of naming the path. Batched, the CWD goes in the
        // same write as the EPSV and the LIST.
        let cwd = if self.batches_data() {
            Some(dir)
        } else {
            self.guarded(|f| f.cwd(dir))?;
            None
        };
        if self.list_a != Some(false) {
            match self.data_lines_after(cwd, "LIST -a", ahead, parse) {
                Ok(lines) => {
                    self.list_a = Some(true);
                    Ok(lines)
                }
                // A refused batched CWD retires the session: not LIST -a's refusal.
                Err(StepError::Failed(FtpError::UnexpectedResponse(_)))
                    if self.list_a.is_none() && !self.broken =>
                {
                    self.list_a = Some(false);
                    Ok(self.data_lines("LIST", parse)?)
                }
                Err(e) => Err(e),
            }
        } else {
            self.data_lines_after(cwd, "LIST", ahead, parse)
        }
    }

    /// The batched commands that list `dir`: EPSV and MLSD, or CWD, EPSV and LIST.
    fn listing_commands(&self, dir: &str) -> Vec<String> {
        match (self.caps.mlsd, self.list_a) {
            (true, _) => batch(None, &format!("MLSD {dir}")),
            (false, Some(false)) => batch(Some(Before::Cwd(dir)), "LIST"),
            (false, _) => batch(Some(Before::Cwd(dir)), "LIST -a"),
        }
    }

    /// Runs a listing command and reads its data connection line by line, with the session's
    /// timeout on the data socket in passive and active mode alike. A data connection that
    /// breaks is a failed listing whatever the server replies afterwards, and so is a line
    /// longer than any real listing line.
    fn data_lines(&mut self, command: &str, parse: Parser) -> FtpResult<Vec<ParsedLine>> {
        let stream = self.with_data(|ftp| {
            ftp.custom_data_command(command, &[Status::AboutToSend, Status::AlreadyOpen])
                .map(|(_, stream)| stream)
        })?;
        let mut lines = Vec::new();
        let (closed, read) =
            run_transfer(&mut self.ftp, &self.guard, stream, self.timeout, |stream| {
                lines = read_lines(stream, parse)?;
                Ok(())
            });
        self.closed(closed, read.is_ok())?;
        read.map(|()| lines).map_err(FtpError::ConnectionError)
    }

    /// [`Session::data_lines`], batched where the server takes EPSV with its command: a CWD
    /// into `cwd` (given only then) and the EPSV go in the same write as the command, with
    /// `ahead` (the next listing's commands) in that write too.
    fn data_lines_after(
        &mut self,
        cwd: Option<&str>,
        command: &str,
        ahead: Option<Ahead>,
        parse: Parser,
    ) -> Result<Vec<ParsedLine>, StepError> {
        if !self.batches_data() {
            return Ok(self.data_lines(command, parse)?);
        }
        let data = match self.open_batched(cwd.map(Before::Cwd), command, ahead) {
            Ok((d, _)) => d,
            // EPSV refused (after the CWD, if any, was done): suppaftp's PASV path,
            // unless another listing's commands went out behind it.
            Err(StepError::Failed(FtpError::UnexpectedResponse(_)))
                if !self.epsv && self.ahead.is_none() =>
            {
                return Ok(self.data_lines(command, parse)?);
            }
            Err(e) => return Err(e),
        };
        let read = read_lines(data, parse);
        let lines = match read {
            Ok(lines) => lines,
            // The server's final reply may still be coming: not in step any more (a
            // listing sent ahead is let go by `list`).
            Err(e) => {
                self.broken = true;
                let e = FtpError::ConnectionError(e);
                return Err(self.anomaly_if_ahead(command, "its data connection broke", e));
            }
        };
        let done = self
            .read_next()
            .map_err(|e| self.timeout_is_anomaly(command, e))?;
        match pipeline::code(&done) {
            226 | 250 => Ok(lines),
            // The next listing's EPSV answered before this listing ended.
            229 => Err(self.out_of_order(command, &done)),
            _ => {
                let why = format!("it ended with \"{}\"", super::reply_text(&done));
                let e = FtpError::UnexpectedResponse(done);
                Err(self.anomaly_if_ahead(command, &why, e))
            }
        }
    }

    /// The kind of batching an exchange for `command` leans on: listings sent ahead when
    /// any are in flight on this session, else EPSV with its command.
    fn batching_in_play(&self) -> Batching {
        if self.ahead.is_some() {
            Batching::Ahead
        } else {
            Batching::WithCommand
        }
    }

    /// A failure with a listing sent ahead in flight is the bolder batching's doing until
    /// shown otherwise: off for the run, and the step redone unbatched.
    fn anomaly_if_ahead(&mut self, command: &str, what: &str, e: FtpError) -> StepError {
        if self.ahead.is_none() {
            return StepError::Failed(e);
        }
        self.anomaly(Batching::Ahead, command, what)
    }

    /// A reply that does not come in a batched exchange is an anomaly; a stop is not.
    fn timeout_is_anomaly(&mut self, command: &str, e: FtpError) -> StepError {
        match &e {
            FtpError::ConnectionError(io) if io.kind() == io::ErrorKind::TimedOut => {
                self.anomaly(self.batching_in_play(), command, "no reply came in time")
            }
            _ => StepError::Failed(e),
        }
    }

    /// Turns `kind` off for every session to this server (saying why once, under -v),
    /// retires this session, whose replies can no longer be trusted to be in step, and asks
    /// for the step to be redone.
    fn anomaly(&mut self, kind: Batching, command: &str, what: &str) -> StepError {
        let verb = command.split(' ').next().unwrap_or("command");
        let why = format!("{}: {what} after a batched {verb}", self.label);
        self.proven.get(kind).refuse(why.clone());
        self.broken = true;
        StepError::Redo(why)
    }

    /// EPSV and a data command that changes nothing (RETR, MLSD, LIST) in one write. The
    /// server answers 229, then waits for our connection before it answers the command, so
    /// the pair costs one round trip instead of two. When EPSV is refused, the command is
    /// refused too (there is no port): both replies are read. A 425 (pure-ftpd's busy port)
    /// is asked again at once, like [`Session::epsv_port`] does.
    fn open_batched(
        &mut self,
        before: Option<Before>,
        command: &str,
        ahead: Option<Ahead>,
    ) -> Result<(TcpStream, Option<Response>), StepError> {
        let mine = batch(before, command);
        // This command may have gone out already, ahead with the previous listing's.
        let sent = match self.ahead.take() {
            Some(k) if k.commands == mine => true,
            Some(k) => {
                // Put back for `list` to let go.
                self.ahead = Some(k);
                self.broken = true;
                return Err(StepError::Failed(FtpError::ConnectionError(
                    io::Error::other("a listing sent ahead was not the next one read"),
                )));
            }
            None => false,
        };
        let mut first: Vec<String> = if sent { Vec::new() } else { mine.clone() };
        if let Some(a) = ahead {
            first.extend_from_slice(&a.commands);
            self.ahead = Some(a);
        }
        let mut before_reply = None;
        if let Some(b) = before {
            let answer = self
                .converse_partial(&first, 1)
                .map_err(|e| self.timeout_is_anomaly(command, e))?
                .remove(0);
            match b {
                Before::Cwd(_) if !matches!(pipeline::code(&answer), 200..=299) => {
                    // The LIST behind it runs in the old directory: its output must not be
                    // taken for this one's. The session goes, and that listing with it.
                    self.release(true);
                    return Err(StepError::Failed(FtpError::UnexpectedResponse(answer)));
                }
                Before::Cwd(_) => {}
                Before::Mdtm(_) => before_reply = Some(answer),
            }
        }
        let lines = ["EPSV".to_string(), command.to_string()];
        for attempt in 1.. {
            let epsv = match (attempt, before) {
                (1, Some(_)) => self.converse_partial(&[], 1),
                (1, None) => self.converse_partial(&first, 1),
                _ => self.converse_partial(&lines, 1),
            };
            let epsv = epsv
                .map_err(|e| self.timeout_is_anomaly(command, e))?
                .remove(0);
            if pipeline::code(&epsv) != 229 {
                let answer = self
                    .read_next()
                    .map_err(|e| self.timeout_is_anomaly(command, e))?;
                if pipeline::code(&answer) == 229 {
                    return Err(self.out_of_order(command, &answer));
                }
                if busy_port(&epsv) && attempt < BUSY_PORT_TRIES {
                    if self.ahead.is_none() {
                        continue;
                    }
                    // Another listing's commands are queued behind: asked again here, the
                    // replies would come in another order than asked. A new connection;
                    // the server did nothing wrong, so nothing is turned off.
                    self.broken = true;
                    return Err(StepError::Redo(format!(
                        "{}: passive port busy",
                        self.label
                    )));
                }
                if refuses_epsv(&epsv) {
                    self.use_pasv();
                }
                return Err(StepError::Failed(FtpError::UnexpectedResponse(epsv)));
            }
            let data = epsv_port(&epsv).and_then(|port| self.connect_data(port));
            let data = match data {
                Ok(d) => d,
                Err(e) => {
                    // The server is waiting for this connection before it answers, or it
                    // closed the port it announced: a refused data connection.
                    self.broken = true;
                    return Err(match e {
                        FtpError::ConnectionError(_) => self.anomaly(
                            self.batching_in_play(),
                            command,
                            "the announced data port refused the connection",
                        ),
                        other => StepError::Failed(other),
                    });
                }
            };
            // The final reply may follow at once (a short listing): it stays buffered.
            let answer = self
                .converse_partial(&[], 1)
                .map_err(|e| self.timeout_is_anomaly(command, e))?
                .remove(0);
            return match pipeline::code(&answer) {
                125 | 150 => Ok((data, before_reply)),
                // "No data connection" after a 229 and a connection: the server took the
                // command before the EPSV, which is answering out of order.
                // 229: the EPSV sent ahead answered first.
                229 | 425 | 503 => Err(self.out_of_order(command, &answer)),
                _ => Err(StepError::Failed(FtpError::UnexpectedResponse(answer))),
            };
        }
        unreachable!("the loop returns")
    }

    /// The batched command went wrong in a way only disorder explains. A 229 there is the
    /// listing sent ahead answering early: its port is let go here, since that reply has
    /// now been read.
    fn out_of_order(&mut self, command: &str, reply: &Response) -> StepError {
        let kind = self.batching_in_play();
        if pipeline::code(reply) == 229 && self.ahead.take().is_some() {
            self.let_go(reply);
        }
        let what = format!("\"{}\" came out of order", super::reply_text(reply));
        self.anomaly(kind, command, &what)
    }

    /// Finishes a transfer opened on this session; see [`run_transfer`]. When the data did
    /// not move, the transfer was aborted and the session is retired: the server may already
    /// have sent its final reply, so ABOR's own reply could leave the control connection one
    /// reply out of step. A retry reconnects instead. The data-side error is the cause.
    fn closed(&mut self, closed: FtpResult<()>, moved: bool) -> FtpResult<()> {
        let r = self.check(closed);
        if moved {
            r
        } else {
            self.broken = true;
            Ok(())
        }
    }

    /// Downloads `remote` into `out`, from `offset` on (REST, then RETR), calling `progress`
    /// with each chunk's size. Returns the bytes received; a broken data connection is an
    /// error even if the server then replies 226.
    ///
    /// With `mtime`, also the file's mtime to the second (MDTM), or None where the server
    /// does not say. Batched, the MDTM goes in the same write as the EPSV and the RETR.
    pub fn retrieve(
        &mut self,
        remote: &str,
        offset: u64,
        out: &mut dyn Write,
        progress: &mut dyn FnMut(u64),
        mtime: bool,
    ) -> Result<(u64, Option<SystemTime>)> {
        // Not between a REST and its RETR: some servers forget the offset.
        let in_batch = mtime && offset == 0;
        if self.batches_data() {
            let r = self.retrieve_batched(remote, offset, out, progress, in_batch);
            // EPSV refused: nothing was read; suppaftp's PASV path below.
            if r.is_ok() || self.epsv {
                let (got, time) = r?;
                let time = match mtime && !in_batch {
                    true => self.mdtm(remote).ok(),
                    false => time,
                };
                return Ok((got, time));
            }
        }
        let got = self.transfer(remote, offset, Way::Down(out), progress)?;
        let time = if mtime { self.mdtm(remote).ok() } else { None };
        Ok((got, time))
    }

    /// Uploads `input` to `remote`, from `offset` on (REST, then STOR; `input` must start
    /// there). A local read error aborts the transfer (ABOR) rather than closing the data
    /// connection, which the server would take as a complete file.
    pub fn store(
        &mut self,
        remote: &str,
        offset: u64,
        input: &mut dyn Read,
        progress: &mut dyn FnMut(u64),
    ) -> Result<u64> {
        if self.batches_data() {
            let r = self.store_batched(remote, offset, input, progress);
            // EPSV refused: the file was not touched; suppaftp's PASV path below.
            if r.is_ok() || self.epsv {
                return r;
            }
        }
        self.transfer(remote, offset, Way::Up(input), progress)
    }

    /// Whether the session can serve another step: connected, and no replies to commands
    /// sent ahead still to come.
    pub fn reusable(&self) -> bool {
        !self.broken && self.ahead.is_none()
    }

    /// Whether EPSV goes out with the data command it is for: on a plain-text control
    /// connection in EPSV mode, only where FEAT says EPSV (a server without it is not sent
    /// data commands that have no port to go to), and while the server keeps it in step.
    fn batches_data(&self) -> bool {
        self.plain && self.epsv && self.caps.epsv && self.proven.get(Batching::WithCommand).on()
    }

    /// Whether the commands after a transfer (MFMT, RNFR, RNTO) go out in one write.
    fn batches_after_transfer(&self) -> bool {
        self.plain && self.proven.get(Batching::AfterTransfer).on()
    }

    /// Sends `lines` in one write and reads one reply for each: one round trip for all. The
    /// error is the connection's; refusals come back as replies, to be checked one by one.
    fn exchange(&mut self, lines: &[String]) -> FtpResult<Vec<Response>> {
        self.converse(lines, lines.len())
    }

    /// The next reply. With a listing sent ahead, its replies may already follow.
    fn read_next(&mut self) -> FtpResult<Response> {
        let r = if self.ahead.is_some() {
            self.converse_partial(&[], 1)
        } else {
            self.read_replies(1)
        };
        r.map(|mut r| r.remove(0))
    }

    /// Reads `n` replies without sending anything (a transfer's completion).
    fn read_replies(&mut self, n: usize) -> FtpResult<Vec<Response>> {
        self.converse(&[], n)
    }

    /// Like [`Session::converse`], for a batch whose later replies are still to be read: what
    /// arrived beyond the `n` replies stays buffered for the next read.
    fn converse_partial(&mut self, lines: &[String], n: usize) -> FtpResult<Vec<Response>> {
        let (guard, ftp, replies) = (&self.guard, &self.ftp, &mut self.replies);
        let r = bounded(guard, self.timeout, || {
            let sock = ftp.get_ref();
            if !lines.is_empty() {
                pipeline::send(&sock, lines)?;
            }
            replies.read(&sock, n)
        });
        self.check(r)
    }

    /// Sends `lines` (maybe none), then reads `n` replies, all under one watchdog deadline.
    fn converse(&mut self, lines: &[String], n: usize) -> FtpResult<Vec<Response>> {
        let r = self.converse_partial(lines, n);
        if !self.replies.clear() {
            // More came than was asked for: the next reply would answer the wrong command.
            self.broken = true;
            return Err(FtpError::BadResponse);
        }
        r
    }

    /// One command, one reply, checked against `expected`, with the control connection in
    /// our hands (between pipelined steps).
    fn ask(&mut self, line: String, expected: &[u32]) -> FtpResult<Response> {
        let mut r = self.exchange(&[line])?;
        pipeline::expect(r.remove(0), expected)
    }

    fn connect_data(&self, port: u16) -> FtpResult<TcpStream> {
        let s = TcpStream::connect_timeout(&SocketAddr::new(self.peer.ip(), port), self.timeout)
            .map_err(FtpError::ConnectionError)?;
        set_timeouts(&s, self.timeout).map_err(FtpError::ConnectionError)?;
        Ok(s)
    }

    /// The error for a batched data step that did not open: a redo for the pool, or the
    /// failure with its context.
    fn step_failure(&self, cmd: &str, remote: &str, e: StepError) -> anyhow::Error {
        match e {
            StepError::Redo(why) => anyhow::Error::new(Redo(why)),
            StepError::Failed(e) => self.fail(cmd, remote, &e),
        }
    }

    /// EPSV and STOR in one write (see [`Session::open_batched`]); REST, when resuming, on
    /// its own before them: after a refused REST, a batched STOR would start the part over.
    /// A local read error retires the session instead of closing the data connection
    /// cleanly, which the server would take as a complete file.
    fn store_batched(
        &mut self,
        remote: &str,
        offset: u64,
        input: &mut dyn Read,
        progress: &mut dyn FnMut(u64),
    ) -> Result<u64> {
        if offset > 0 {
            self.ask(format!("REST {offset}"), &[350])
                .map_err(|e| self.fail("REST", remote, &e))?;
        }
        let (mut data, _) = self
            .open_batched(None, &format!("STOR {remote}"), None)
            .map_err(|e| self.step_failure("STOR", remote, e))?;
        let copied = copy(input, &mut data, progress);
        let sent = match copied {
            Ok(n) => n,
            Err(e) => {
                self.broken = true;
                let _ = data.shutdown(Shutdown::Both);
                return Err(self.copy_failure("STOR", remote, false, e));
            }
        };
        drop(data);
        self.read_replies(1)
            .and_then(|mut r| pipeline::expect(r.remove(0), &[226, 250]))
            .map_err(|e| self.fail("STOR", remote, &e))?;
        Ok(sent)
    }

    /// RETR sent with its EPSV (see [`Session::open_batched`]); REST, when resuming, on its
    /// own before them. A broken data connection retires the session and is an error,
    /// whatever the server says next.
    fn retrieve_batched(
        &mut self,
        remote: &str,
        offset: u64,
        out: &mut dyn Write,
        progress: &mut dyn FnMut(u64),
        mtime: bool,
    ) -> Result<(u64, Option<SystemTime>)> {
        if offset > 0 {
            self.ask(format!("REST {offset}"), &[350])
                .map_err(|e| self.fail("REST", remote, &e))?;
        }
        let before = mtime.then_some(Before::Mdtm(remote));
        let (mut data, mdtm) = self
            .open_batched(before, &format!("RETR {remote}"), None)
            .map_err(|e| self.step_failure("RETR", remote, e))?;
        let copied = copy(&mut data, out, progress);
        drop(data);
        let got = match copied {
            Ok(n) => n,
            Err(e) => {
                self.broken = true;
                return Err(self.copy_failure("RETR", remote, true, e));
            }
        };
        self.read_replies(1)
            .and_then(|mut r| pipeline::expect(r.remove(0), &[226, 250]))
            .map_err(|e| self.fail("RETR", remote, &e))?;
        Ok((got, mdtm.as_ref().and_then(mdtm_time)))
    }

    /// After a STOR to `stored`: sets its mtime (when `time` is given) and renames it to
    /// `rename_to` (when given). Batched, the mtime goes first, on the stored name, and all
    /// go in one write: one round trip. No EPSV goes along: a port is announced only with
    /// the command that uses it. Otherwise the rename goes first, then the mtime on the
    /// final name. Returns the mtime's result (if it was tried) and the rename's.
    pub fn finish_upload(
        &mut self,
        time: Option<(TimeCommand, SystemTime)>,
        stored: &str,
        rename_to: Option<&str>,
    ) -> (Option<Result<()>>, Result<()>) {
        // RNFR and RNTO (with the mtime before them) are worth a batch; one command is not.
        let batched = self.batches_after_transfer() && rename_to.is_some();
        if !batched {
            if let Some(to) = rename_to
                && let Err(e) = self.rename(stored, to)
            {
                return (None, Err(e));
            }
            let name = rename_to.unwrap_or(stored);
            let t = time.map(|(cmd, t)| self.set_time(cmd, name, t));
            return (t, Ok(()));
        }
        let mut lines = Vec::new();
        let mut expected: Vec<&[u32]> = Vec::new();
        if let Some((cmd, t)) = time {
            lines.push(cmd.line(t, stored));
            expected.push(&[213, 200, 250]);
        }
        if let Some(to) = rename_to {
            lines.push(format!("RNFR {stored}"));
            lines.push(format!("RNTO {to}"));
            expected.extend([&[350][..], &[250][..]]);
        }
        let replies = match self.exchange(&lines) {
            Ok(r) => r,
            Err(FtpError::ConnectionError(io)) if io.kind() == io::ErrorKind::TimedOut => {
                let why = self.anomaly(Batching::AfterTransfer, "RNFR", "no reply came in time");
                return (None, Err(self.step_failure("RNFR/RNTO", stored, why)));
            }
            Err(e) => return (None, Err(self.fail("RNFR/RNTO", stored, &e))),
        };
        // Each reply must be its command's success. Anything else may be a refusal, or a
        // server answering batched commands out of order (libunftp does): either way these
        // go one at a time from now on, and this upload is redone that way at once.
        if let Some((line, reply)) = lines
            .iter()
            .zip(&replies)
            .zip(&expected)
            .find(|((_, r), codes)| !codes.contains(&pipeline::code(r)))
            .map(|(lr, _)| lr)
        {
            let what = format!("\"{}\" came back", super::reply_text(reply));
            let why = self.anomaly(Batching::AfterTransfer, line, &what);
            return (None, Err(self.step_failure("RNFR/RNTO", stored, why)));
        }
        (time.map(|_| Ok(())), Ok(()))
    }

    fn transfer(
        &mut self,
        remote: &str,
        offset: u64,
        mut way: Way,
        progress: &mut dyn FnMut(u64),
    ) -> Result<u64> {
        let down = matches!(way, Way::Down(_));
        let cmd = if down { "RETR" } else { "STOR" };
        let stream = self.with_data(|ftp| {
            ftp.resume_transfer(offset as usize)?;
            if down {
                ftp.retr_as_stream(remote)
            } else {
                ftp.put_with_stream(remote)
            }
        });
        let stream = stream.map_err(|e| self.fail(cmd, remote, &e))?;
        let (closed, copied) = run_transfer(
            &mut self.ftp,
            &self.guard,
            stream,
            self.timeout,
            |stream| match &mut way {
                Way::Down(out) => copy(stream, *out, progress),
                Way::Up(input) => copy(*input, stream, progress),
            },
        );
        self.closed(closed, copied.is_ok())
            .map_err(|e| self.fail(cmd, remote, &e))?;
        copied.map_err(|e| self.copy_failure(cmd, remote, down, e))
    }

    /// Blames the right side of a failed copy: the network's failures are worth a retry, the
    /// disk's are not.
    fn copy_failure(&self, cmd: &str, remote: &str, down: bool, e: CopyError) -> anyhow::Error {
        match (e, down) {
            (CopyError::Interrupted, _) => Failure::io("interrupted".into(), false),
            (CopyError::Read(e), true) | (CopyError::Write(e), false) => Failure::io(
                format!("{cmd} {remote} on {}: {}", self.label, describe_io(&e)),
                true,
            ),
            (CopyError::Write(e), true) => {
                Failure::io(format!("writing the downloaded data: {e}"), false)
            }
            (CopyError::Read(e), false) => {
                Failure::io(format!("reading the local file: {e}"), false)
            }
        }
    }

    /// Sets a remote file's mtime, to the second: MFMT (RFC draft, widely deployed), or the
    /// vsftpd way, `MDTM YYYYMMDDHHMMSS path` (`mdtm_write`), which servers that do not know
    /// this form refuse (550 or 501).
    pub fn set_time(&mut self, cmd: TimeCommand, remote: &str, time: SystemTime) -> Result<()> {
        self.guarded(|f| f.custom_command(cmd.line(time, remote), &[Status::File]))
            .map(|_| ())
            .map_err(|e| self.fail(cmd.verb(), remote, &e))
    }

    /// A remote file's mtime to the second, UTC (MDTM, RFC 3659).
    pub fn mdtm(&mut self, remote: &str) -> Result<SystemTime> {
        self.guarded(|f| f.mdtm(remote))
            .map(|t| t.and_utc().into())
            .map_err(|e| self.fail("MDTM", remote, &e))
    }

    /// Whether `remote` is a directory the server lets us into (CWD): for a listing refused
    /// with a reply that does not say whether the directory exists.
    pub fn dir_exists(&mut self, remote: &str) -> Result<bool> {
        match self.guarded(|f| f.cwd(remote)) {
            Ok(()) => Ok(true),
            Err(FtpError::UnexpectedResponse(r)) if (500..600).contains(&pipeline::code(&r)) => {
                Ok(false)
            }
            Err(e) => Err(self.fail("CWD", remote, &e)),
        }
    }

    pub fn mkdir(&mut self, remote: &str) -> Result<()> {
        self.guarded(|f| f.mkdir(remote))
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
            self.guarded(|f| f.mkdir(&prefix)).ok();
            if self.broken {
                return Err(Failure::io(
                    format!("MKD {prefix} on {}: connection lost", self.label),
                    true,
                ));
            }
        }
        self.mkdir(remote)
    }

    /// RNFR/RNTO: moves a finished temporary upload over its final name.
    pub fn rename(&mut self, from: &str, to: &str) -> Result<()> {
        self.guarded(|f| f.rename(from, to))
            .map_err(|e| self.fail("RNFR/RNTO", &format!("{from} -> {to}"), &e))
    }

    /// The size the server reports for `remote` (SIZE, RFC 3659; binary mode, so exact).
    pub fn size(&mut self, remote: &str) -> Result<u64> {
        self.guarded(|f| f.size(remote))
            .map(|n| n as u64)
            .map_err(|e| self.fail("SIZE", remote, &e))
    }

    pub fn remove_file(&mut self, remote: &str) -> Result<()> {
        self.guarded(|f| f.rm(remote))
            .map_err(|e| self.fail("DELE", remote, &e))
    }

    pub fn remove_dir(&mut self, remote: &str) -> Result<()> {
        self.guarded(|f| f.rmdir(remote))
            .map_err(|e| self.fail("RMD", remote, &e))
    }

    /// "RETR /www/a on host:21: 550 Permission denied".
    fn fail(&self, cmd: &str, path: &str, e: &FtpError) -> anyhow::Error {
        let msg = format!(
            "{cmd} {} on {}: {}",
            super::escape(path),
            self.label,
            describe(e)
        );
        Failure::ftp(msg, e)
    }

    /// Says goodbye politely; errors do not matter at this point.
    pub fn quit(mut self) {
        if !self.broken {
            let _ = self.guarded(|f| f.quit());
        }
    }
}

/// Moves data over an open transfer: bounds the data socket with `timeout` (in passive and
/// active mode alike), runs `body`, then reads the server's completion reply if `body`
/// succeeded, or aborts (ABOR) so the control connection stays in step if it failed.
/// Returns how the transfer closed and what `body` returned.
fn run_transfer<T: TlsStream, R, E>(
    ftp: &mut ImplFtpStream<T>,
    guard: &Guard,
    mut stream: TransferStream<T>,
    timeout: Duration,
    body: impl FnOnce(&mut TransferStream<T>) -> Result<R, E>,
) -> (FtpResult<()>, Result<R, E>) {
    let _ = set_timeouts(stream.get_ref().get_ref(), timeout);
    let result = body(&mut stream);
    // Waiting for the completion reply is a command like any other: bounded, interruptible.
    let closed = bounded(guard, timeout, || {
        if result.is_ok() {
            stream.finish()
        } else {
            ftp.abort(stream)
        }
    });
    (closed, result)
}

/// The control connection type: rustls-capable, plain until secured.
type Ftp = RustlsFtpStream;

/// Implicit FTPS: TLS from the first byte. suppaftp opens the socket itself, so the address is
/// first found with a bounded connect, and the connector catches the socket to bound it too.
fn connect_implicit(ep: &Endpoint, tls: &TlsSetup) -> Result<(Ftp, Guard, SocketAddr)> {
    let label = ep.label();
    let probe = connect_tcp(ep)
        .map_err(|e| Failure::io(format!("cannot connect to {label}: {e}"), true))?;
    let peer = probe.peer_addr()?;
    drop(probe);
    let slot = Arc::new(Mutex::new(None));
    let connector = Catch {
        inner: RustlsConnector::from(tls.config.clone()),
        timeout: ep.timeout,
        guard: slot.clone(),
    };
    let ftp = Ftp::connect_secure_implicit(peer, connector, &ep.host)
        .map_err(|e| tls_failure(&label, &e));
    let guard = slot.lock().unwrap_or_else(|p| p.into_inner()).take();
    let mut ftp = ftp?;
    let guard = guard.ok_or_else(|| Failure::io(format!("{label}: no TLS connection"), false))?;
    for cmd in ["PBSZ 0", "PROT P"] {
        bounded(&guard, ep.timeout, || {
            ftp.custom_command(cmd, &[Status::CommandOk])
        })
        .map_err(|e| tls_failure(&label, &e))?;
    }
    Ok((ftp, guard, peer))
}

/// Wraps the rustls connector to set timeouts on, and watch, the first socket it secures.
#[derive(Debug)]
struct Catch {
    inner: RustlsConnector,
    timeout: Duration,
    guard: Arc<Mutex<Option<Guard>>>,
}

impl TlsConnector for Catch {
    type Stream = <RustlsConnector as TlsConnector>::Stream;

    fn connect(&self, domain: &str, stream: TcpStream) -> FtpResult<Self::Stream> {
        set_timeouts(&stream, self.timeout).map_err(FtpError::ConnectionError)?;
        let mut slot = self.guard.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            let guard = Guard::register(stream.try_clone().map_err(FtpError::ConnectionError)?);
            guard.arm(self.timeout);
            *slot = Some(guard);
        }
        self.inner.connect(domain, stream)
    }
}

/// "FTPS with host:21 failed: ..." — permanent: a refused AUTH TLS or a certificate problem is
/// not cured by trying again, and never by falling back to plain text.
fn tls_failure(label: &str, e: &FtpError) -> anyhow::Error {
    let what = match e {
        FtpError::UnexpectedResponse(r) => {
            format!(
                "the server refused TLS ({}); FTPS was asked for, so there is no plain-text fallback",
                super::reply_text(r)
            )
        }
        other => describe(other),
    };
    anyhow::Error::new(Failure {
        message: format!("FTPS with {label} failed: {what}"),
        code: super::reply_code(e),
        transient: false,
    })
}

/// Runs `f` with the whole reply bounded by `timeout`. A socket the watchdog shut down reads
/// as a timeout or an interruption, whatever `f` made of the closed connection.
fn bounded<T>(guard: &Guard, timeout: Duration, f: impl FnOnce() -> FtpResult<T>) -> FtpResult<T> {
    guard.arm(timeout);
    let r = f();
    guard.disarm();
    // Once the socket was shut down, even an Ok is suspect: suppaftp ends a FEAT reply at EOF.
    match guard.fired() {
        Some(Fired::Deadline) => Err(FtpError::ConnectionError(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("no complete reply within {} s", timeout.as_secs_f64()),
        ))),
        Some(Fired::Interrupt) => Err(FtpError::ConnectionError(io::Error::new(
            io::ErrorKind::Interrupted,
            "interrupted",
        ))),
        None => r,
    }
}

/// The port in a 229 reply: "229 Entering Extended Passive Mode (|||6446|)" (RFC 2428).
fn epsv_port(r: &Response) -> FtpResult<u16> {
    let text = String::from_utf8_lossy(&r.body);
    let inner = text
        .split_once('(')
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(inner, _)| inner)
        .ok_or_else(|| FtpError::UnexpectedResponse(r.clone()))?;
    let mut chars = inner.chars();
    let delim = chars.next().ok_or(FtpError::BadResponse)?;
    inner
        .split(delim)
        .nth(3)
        .and_then(|p| p.parse::<u16>().ok())
        .filter(|&p| p != 0)
        .ok_or_else(|| FtpError::UnexpectedResponse(r.clone()))
}

/// Whether a refusal is the server declining EPSV (RFC 2428: 522; older servers: 500/502).
/// A command sent in the same write ahead of a batched EPSV: a CWD the command depends on, or
/// an MDTM whose answer is wanted along with the download.
#[derive(Clone, Copy)]
enum Before<'a> {
    Cwd(&'a str),
    Mdtm(&'a str),
}

/// The commands that run `command` on a data connection of its own: [CWD or MDTM,] EPSV,
/// command.
fn batch(before: Option<Before>, command: &str) -> Vec<String> {
    before
        .map(|b| match b {
            Before::Cwd(d) => format!("CWD {d}"),
            Before::Mdtm(p) => format!("MDTM {p}"),
        })
        .into_iter()
        .chain(["EPSV".to_string(), command.to_string()])
        .collect()
}

/// The time in an MDTM reply (`213 YYYYMMDDHHMMSS[.sss]`, UTC); None for a refusal.
fn mdtm_time(r: &Response) -> Option<SystemTime> {
    if pipeline::code(r) != 213 {
        return None;
    }
    let text = String::from_utf8_lossy(&r.body);
    let digits = text.get(4..18)?;
    chrono::NaiveDateTime::parse_from_str(digits, "%Y%m%d%H%M%S")
        .ok()
        .map(|t| t.and_utc().into())
}

/// Turns one listing line into an entry, or None for a line that is not one ("total 12").
type Parser = fn(&str) -> Option<ParsedLine>;

fn mlsd_parser(line: &str) -> Option<ParsedLine> {
    Some(listing::parse_mlsd_line(line))
}

/// A listing's entries, parsed line by line; empty lines are skipped. A line longer than any real
/// listing line is an error, not a reason to grow without bound.
fn read_lines(stream: impl Read, parse: Parser) -> io::Result<Vec<ParsedLine>> {
    const MAX_LINE: u64 = 64 * 1024;
    let mut reader = BufReader::new(stream);
    let mut lines = Vec::new();
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match (&mut reader).take(MAX_LINE).read_until(b'\n', &mut buf)? {
            0 => return Ok(lines),
            _ if !buf.ends_with(b"\n") && buf.len() as u64 == MAX_LINE => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "listing line too long",
                ));
            }
            _ => {
                let line = buf.strip_suffix(b"\n").unwrap_or(&buf);
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                // Parsed as it comes: a directory of 200,000 entries never exists twice
                // over, as text and as entries.
                if !line.is_empty()
                    && let Some(parsed) = parse(&String::from_utf8_lossy(line))
                {
                    lines.push(parsed);
                }
            }
        }
    }
}

/// How often a data command is sent when the server answers 425 before any data moved.
const BUSY_PORT_TRIES: usize = 5;

/// 425 before a transfer started: the server could not open its side of the data
/// connection. pure-ftpd says so when the passive port it picked at random is still in
/// TIME_WAIT; asking again at once picks another, which beats a retry's back-off.
fn busy_port(r: &Response) -> bool {
    pipeline::code(r) == 425
}

fn refuses_epsv(r: &Response) -> bool {
    matches!(r.status.code(), 500 | 501 | 502 | 504 | 522)
}

fn connect_tcp(ep: &Endpoint) -> io::Result<TcpStream> {
    let mut last = io::Error::new(io::ErrorKind::NotFound, "host name resolved to no address");
    for addr in (ep.host.as_str(), ep.port).to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, ep.timeout) {
            Ok(s) => {
                set_timeouts(&s, ep.timeout)?;
                s.set_nodelay(true)?;
                return Ok(s);
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}

fn set_timeouts(s: &TcpStream, timeout: Duration) -> io::Result<()> {
    s.set_read_timeout(Some(timeout))?;
    s.set_write_timeout(Some(timeout))
}

/// Which way a transfer's bytes go.
enum Way<'a> {
    Down(&'a mut dyn Write),
    Up(&'a mut dyn Read),
}

/// Which side of a copy failed, or a stop was asked for.
enum CopyError {
    Read(io::Error),
    Write(io::Error),
    Interrupted,
}

/// Streams in 256 KiB chunks: memory stays flat whatever the file size, and a big file
/// moves in few system calls.
fn copy(
    from: &mut dyn Read,
    to: &mut dyn Write,
    progress: &mut dyn FnMut(u64),
) -> Result<u64, CopyError> {
    let mut buf = vec![0u8; 256 * 1024];
    let mut total = 0u64;
    loop {
        if crate::interrupt::requested() {
            return Err(CopyError::Interrupted);
        }
        let n = match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(CopyError::Read(e)),
        };
        to.write_all(&buf[..n]).map_err(CopyError::Write)?;
        total += n as u64;
        progress(n as u64);
    }
    to.flush().map_err(CopyError::Write)?;
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
