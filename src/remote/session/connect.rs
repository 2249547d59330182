//! Opening a session: TCP with a bounded connect, the greeting, TLS (AUTH TLS or implicit,
//! RFC 4217), login, `TYPE I`, FEAT, `OPTS UTF8 ON`; and the probes of what FEAT left out.

use std::io;
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::atomic::Ordering;

use anyhow::Result;
use suppaftp::FtpError;

use super::caps::{Caps, knows};
use super::control::{Control, code};
use super::data::DataTls;
use super::{Mode, Session};
use crate::remote::proven::Batching;
use crate::remote::tls::TlsMode;
use crate::remote::{DataMode, Endpoint, Failure, Step, describe, reply_code, reply_text};

impl Session {
    /// Connects, logs in, switches to binary and reads FEAT. Every step is bounded by the
    /// endpoint's timeout: the TCP connect, the greeting and each reply.
    pub fn connect(ep: &Endpoint) -> Result<Session> {
        let label = ep.label();
        let sock = connect_tcp(ep).map_err(|e| {
            Failure::io(
                Step::Connect,
                format!("cannot connect to {label}: {e}"),
                true,
            )
        })?;
        let peer = sock.peer_addr()?;
        let mut ctl = Control::new(sock, ep.timeout)?;
        let tls = ep.tls.as_ref();
        // The run's configuration with a TLS session store of this session's own: its data
        // connections resume its control connection's TLS session, not another session's
        // (vsftpd's require_ssl_reuse runs each FTP session in a process of its own, which
        // knows only its own TLS sessions).
        let config = tls.map(|t| {
            let mut c = (*t.config).clone();
            c.resumption = rustls::client::Resumption::in_memory_sessions(16);
            std::sync::Arc::new(c)
        });
        if let (Some(t), Some(c)) = (tls, &config)
            && t.mode == TlsMode::Implicit
        {
            ctl.secure(c, &ep.host)
                .map_err(|e| tls_failure(&label, &e))?;
        }
        // 120 means "ready in a moment": the 220 follows.
        let greeting = ctl.bounded(|c| {
            loop {
                let r = c.read()?;
                if code(&r) != 120 {
                    return Ok(r);
                }
            }
        });
        let greeting = greeting.and_then(|r| super::control::expect(r, &[220]));
        greeting.map_err(|e| {
            Failure::ftp(
                Step::Connect,
                format!("no FTP greeting from {label}: {}", describe(&e)),
                &e,
            )
        })?;
        if let (Some(t), Some(c)) = (tls, &config) {
            if t.mode == TlsMode::Explicit {
                // A refusal ends the run: no plain-text fallback, and anything the server
                // sent before the switch is dropped.
                ctl.command("AUTH TLS", &[234])
                    .map_err(|e| tls_failure(&label, &e))?;
                ctl.secure(c, &ep.host)
                    .map_err(|e| tls_failure(&label, &e))?;
            }
            settle(&mut ctl, &["PBSZ 0", "PROT P"], &[&[200], &[200]], ep)
                .map_err(|e| tls_failure(&label, &e))?;
        }
        let known = ep.learned.probed.get().cloned();
        let setup = login(&mut ctl, ep, known.as_ref()).and_then(|caps| {
            let caps = ep.learned.apply(caps);
            // The first session learns from FEAT whether to ask for UTF-8.
            if known.is_none() && caps.utf8 {
                alone(&mut ctl, &["OPTS UTF8 ON"], Some(&caps), ep)?;
            }
            Ok(caps)
        });
        let caps = match setup {
            Ok(caps) => caps,
            // Batching after the login is off now: the same again, one command at a time.
            Err(Setup::Redo) => return Session::connect(ep),
            Err(Setup::Login(e)) => {
                let msg = format!("login to {label} as {} failed: {}", ep.user, describe(&e));
                return Err(Failure::ftp(Step::Login, msg, &e));
            }
            Err(Setup::Then(what, e)) => {
                let msg = format!("{label}: {what} failed: {}", describe(&e));
                return Err(Failure::ftp(Step::Connect, msg, &e));
            }
        };
        Ok(Session {
            ctl,
            caps,
            label,
            timeout: ep.timeout,
            mode: match ep.mode {
                DataMode::Active => Mode::Active,
                DataMode::Passive => Mode::Epsv,
            },
            data_tls: config.map(|config| DataTls {
                config,
                host: ep.host.clone(),
            }),
            list_a: None,
            broken: false,
            proven: ep.proven.clone(),
            learned: ep.learned.clone(),
            ahead: None,
            peer,
            pasv_note: ep.pasv_note.clone(),
            list_clock: ep.list_clock,
            hash_selected: None,
        })
    }

    /// Tries what FEAT did not list but the run needs, on the control connection alone (no
    /// port is announced): `MLST root` for MLSD, and where listings are LIST, `MDTM root`
    /// (a 550 for a directory still shows the command is known). Once per run, on the first
    /// session; later sessions take the result. Returns what was tried and how it went.
    pub fn probe(&mut self, root: &str) -> Vec<(&'static str, bool)> {
        let mut tried = Vec::new();
        if !self.caps.mlsd {
            // RFC 3659: a server with MLST has MLSD. A 550 (no such root yet) still says so.
            let r = self.ask(format!("MLST {root}"), &[250]);
            self.caps.mlsd = knows(&r);
            tried.push(("MLSD", self.caps.mlsd));
        }
        if !self.caps.mlsd && !self.caps.mdtm {
            let r = self.ask(format!("MDTM {root}"), &[213]);
            self.caps.mdtm = knows(&r);
            tried.push(("MDTM", self.caps.mdtm));
        }
        let _ = self.learned.probed.set(self.caps.clone());
        tried
    }
}

/// What went wrong setting a session up: the login itself, a command after it, or replies
/// batched behind PASS that never came (batching after a transfer is then off; connect again).
enum Setup {
    Login(FtpError),
    Then(&'static str, FtpError),
    Redo,
}

/// USER, then PASS if asked for (331); 230 (or 202, "not needed") logs in. Then `TYPE I`,
/// FEAT unless the run's first session already read it (`known`), and `OPTS UTF8 ON` where
/// FEAT lists UTF8. Returns the capabilities.
///
/// Where the server answers commands without data connections in order
/// ([`Batching::AfterTransfer`]), TYPE I and FEAT (or OPTS) go in PASS's write, so a session
/// is ready one or two round trips sooner. Their replies are told apart by code, since a
/// server that works asynchronously (libunftp) may answer them in either order; anything
/// else has each asked again alone. Replies that never come turn that batching off.
fn login(ctl: &mut Control, ep: &Endpoint, known: Option<&Caps>) -> Result<Caps, Setup> {
    let then: Vec<&str> = match known {
        None => vec!["TYPE I", "FEAT"],
        Some(c) if c.utf8 && !ep.learned.utf8_refused.load(Ordering::SeqCst) => {
            vec!["TYPE I", "OPTS UTF8 ON"]
        }
        Some(_) => vec!["TYPE I"],
    };
    let batched = ep.proven.get(Batching::AfterTransfer).on();
    let r = ctl
        .command(format!("USER {}", ep.user), &[230, 331])
        .map_err(Setup::Login)?;
    let mut first = Vec::new();
    if code(&r) == 331 {
        first.push(format!("PASS {}", ep.password.0));
    }
    if batched {
        first.extend(then.iter().map(|c| c.to_string()));
    }
    if code(&r) == 331 {
        let pass = ctl.exchange(&first, 1).map_err(Setup::Login)?.remove(0);
        if !matches!(code(&pass), 230 | 202) {
            if batched && out_of_turn(ctl, then.len(), ep.timeout) {
                // An asynchronous server (libunftp) answered a command behind PASS before
                // PASS itself: logged in, but those answers are not to be trusted.
                return alone(ctl, &then, known, ep);
            }
            return Err(Setup::Login(FtpError::UnexpectedResponse(pass)));
        }
    } else if batched {
        ctl.send(&first).map_err(|e| Setup::Then("TYPE I", e))?;
    }
    if !batched {
        return alone(ctl, &then, known, ep);
    }
    let replies = match ctl.exchange(&[], then.len()) {
        Ok(r) => r,
        Err(FtpError::ConnectionError(e)) if e.kind() == std::io::ErrorKind::TimedOut => {
            ep.proven.get(Batching::AfterTransfer).refuse(format!(
                "{}: no reply came in time to {} sent with PASS",
                ep.label(),
                then.join(", ")
            ));
            return Err(Setup::Redo);
        }
        Err(e) => return Err(Setup::Then("TYPE I", e)),
    };
    let codes: Vec<u32> = replies.iter().map(code).collect();
    match (then.len(), codes.as_slice()) {
        // TYPE's 200 and FEAT's 211, in either order.
        (2, [200, 211] | [211, 200]) if known.is_none() => {
            let feat = replies.into_iter().find(|r| code(r) == 211);
            Ok(feat.map(|r| Caps::from_feat(&r)).unwrap_or_default())
        }
        // TYPE's 200 and OPTS's 200 or 202 (already on), in either order.
        (2, [200, 200 | 202] | [202, 200]) => Ok(known.cloned().unwrap_or_default()),
        (1, [200]) => Ok(known.cloned().unwrap_or_default()),
        // A refusal (OPTS, FEAT or TYPE: which one cannot be told from the codes), or an
        // answer out of turn: each again, alone, in order.
        _ => alone(ctl, &then, known, ep),
    }
}

/// After a refused PASS with `n` commands behind it: whether one of the `n` replies still to
/// come is PASS's success, which means the refusal was one of theirs, answered first. A
/// server that ends the session or stays silent after a refused login costs at most 2 s.
fn out_of_turn(ctl: &mut Control, n: usize, timeout: std::time::Duration) -> bool {
    ctl.set_read_timeout(timeout.min(std::time::Duration::from_secs(2)));
    let mut logged_in = false;
    for _ in 0..n {
        match ctl.read() {
            Ok(r) => logged_in |= matches!(code(&r), 230 | 202),
            Err(_) => return false,
        }
    }
    ctl.set_read_timeout(timeout);
    logged_in
}

/// `then` one command at a time: TYPE I must be accepted; FEAT's refusal means no features
/// are known (they are probed later); a refused OPTS UTF8 is not fatal.
fn alone(
    ctl: &mut Control,
    then: &[&str],
    known: Option<&Caps>,
    ep: &Endpoint,
) -> Result<Caps, Setup> {
    let mut caps = known.cloned().unwrap_or_default();
    for &cmd in then {
        match cmd {
            "TYPE I" => {
                ctl.command(cmd, &[200])
                    .map_err(|e| Setup::Then("TYPE I", e))?;
            }
            "FEAT" => match ctl.command(cmd, &[211]) {
                Ok(r) => caps = Caps::from_feat(&r),
                Err(FtpError::UnexpectedResponse(_)) | Err(FtpError::BadResponse) => {}
                Err(e) => return Err(Setup::Then("FEAT", e)),
            },
            _ => match ctl.command(cmd, &[200, 202]) {
                // Some servers answer 202 ("already on"); a refusal is not fatal either.
                Ok(_) => {}
                Err(FtpError::UnexpectedResponse(_)) => {
                    ep.learned.utf8_refused.store(true, Ordering::SeqCst);
                }
                Err(e) => return Err(Setup::Then("OPTS UTF8 ON", e)),
            },
        }
    }
    Ok(caps)
}

/// Commands that set the connection up, in one write where the server answers commands
/// without data connections in order; each must get one of its `expected` codes. Any other
/// answer has them asked again one at a time, whose refusal is the error.
fn settle(
    ctl: &mut Control,
    cmds: &[&str],
    expected: &[&[u32]],
    ep: &Endpoint,
) -> Result<(), FtpError> {
    if ep.proven.get(Batching::AfterTransfer).on() {
        let lines: Vec<String> = cmds.iter().map(|c| c.to_string()).collect();
        let replies = ctl.exchange(&lines, cmds.len())?;
        if replies
            .iter()
            .zip(expected)
            .all(|(r, want)| want.contains(&code(r)))
        {
            return Ok(());
        }
    }
    for (cmd, want) in cmds.iter().zip(expected) {
        ctl.command(*cmd, want)?;
    }
    Ok(())
}

fn connect_tcp(ep: &Endpoint) -> io::Result<TcpStream> {
    let mut last = io::Error::new(io::ErrorKind::NotFound, "host name resolved to no address");
    for addr in (ep.host.as_str(), ep.port).to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, ep.timeout) {
            Ok(s) => {
                s.set_read_timeout(Some(ep.timeout))?;
                s.set_write_timeout(Some(ep.timeout))?;
                s.set_nodelay(true)?;
                return Ok(s);
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// "FTPS with host:21 failed: ..." — permanent: a refused AUTH TLS or a certificate problem is
/// not cured by trying again, and never by falling back to plain text.
fn tls_failure(label: &str, e: &FtpError) -> anyhow::Error {
    let what = match e {
        FtpError::UnexpectedResponse(r) => format!(
            "the server refused TLS ({}); FTPS was asked for, so there is no plain-text fallback",
            reply_text(r)
        ),
        other => describe(other),
    };
    anyhow::Error::new(Failure {
        message: format!("FTPS with {label} failed: {what}"),
        step: Step::Tls,
        code: reply_code(e),
        transient: false,
    })
}
