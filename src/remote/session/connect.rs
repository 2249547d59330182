//! Opening a session: TCP with a bounded connect, the greeting, TLS (AUTH TLS or implicit,
//! RFC 4217), login, `TYPE I`, FEAT, `OPTS UTF8 ON`; and the probes of what FEAT left out.

use std::io;
use std::net::{TcpStream, ToSocketAddrs};

use anyhow::Result;
use suppaftp::FtpError;

use super::caps::{Caps, knows};
use super::control::{Control, code};
use super::data::DataTls;
use super::{Mode, Session};
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
            for cmd in ["PBSZ 0", "PROT P"] {
                ctl.command(cmd, &[200])
                    .map_err(|e| tls_failure(&label, &e))?;
            }
        }
        login(&mut ctl, ep).map_err(|e| {
            Failure::ftp(
                Step::Login,
                format!("login to {label} as {} failed: {}", ep.user, describe(&e)),
                &e,
            )
        })?;
        ctl.command("TYPE I", &[200]).map_err(|e| {
            let msg = format!("{label}: TYPE I failed: {}", describe(&e));
            Failure::ftp(Step::Connect, msg, &e)
        })?;
        // FEAT only informs (RFC 2389), and the run's first session has asked it already:
        // later sessions take its answer and save the round trip.
        let known = ep.learned.probed.get().cloned();
        let caps = match known.map_or_else(
            || ctl.command("FEAT", &[211]).map(|r| Caps::from_feat(&r)),
            Ok,
        ) {
            Ok(caps) => caps,
            // No FEAT, or a reply that is not a FEAT reply: assume nothing, probe later.
            Err(FtpError::UnexpectedResponse(_)) | Err(FtpError::BadResponse) => Caps::default(),
            Err(e) => {
                return Err(Failure::ftp(
                    Step::Connect,
                    format!("{label}: FEAT failed: {}", describe(&e)),
                    &e,
                ));
            }
        };
        let caps = ep.learned.apply(caps);
        if caps.utf8 {
            // Some servers answer 202 ("already on"); a refusal is not fatal either.
            match ctl.command("OPTS UTF8 ON", &[200, 202]) {
                Ok(_) | Err(FtpError::UnexpectedResponse(_)) => {}
                Err(e) => {
                    return Err(Failure::ftp(
                        Step::Connect,
                        format!("{label}: OPTS UTF8 ON failed: {}", describe(&e)),
                        &e,
                    ));
                }
            }
        }
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

/// USER, then PASS if asked for (331); 230 (or 202, "not needed") logs in.
fn login(ctl: &mut Control, ep: &Endpoint) -> Result<(), FtpError> {
    let r = ctl.command(format!("USER {}", ep.user), &[230, 331])?;
    if code(&r) == 331 {
        ctl.command(format!("PASS {}", ep.password.0), &[230, 202])?;
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
