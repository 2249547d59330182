//! Listings: MLSD where the server has it, else `LIST -a` (hidden files too), else plain
//! `LIST`; batched with their EPSV where the server takes that, with the next listing sent
//! ahead where it has shown it takes that too; and a listing that will not be read let go.

use std::io::{self, BufRead, BufReader, Read};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use suppaftp::types::Response;
use suppaftp::{FtpError, FtpResult};

use super::batch::{Before, batch};
use super::control::{code, expect};
use super::{Mode, Session, StepError, data};
use crate::remote::listing::{Listing, ParsedLine, Source};
use crate::remote::proven::{Batching, Engaged};
use crate::remote::reply_text;

/// A listing's commands sent ahead of their turn.
#[derive(Debug)]
pub struct Ahead {
    /// The commands, as sent.
    pub commands: Vec<String>,
    /// Whether this is the run's trial of [`Batching::Ahead`].
    pub trial: bool,
}

/// A listing's entries, parsed line by line as they arrive (`Listing` chooses the format).
/// A line longer than any real listing line is an error, not a reason to grow without bound.
fn read_lines(stream: impl Read, mut listing: Listing) -> io::Result<Vec<ParsedLine>> {
    const MAX_LINE: u64 = 64 * 1024;
    let mut reader = BufReader::new(stream);
    let mut lines = Vec::new();
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match (&mut reader).take(MAX_LINE).read_until(b'\n', &mut buf)? {
            0 => {
                listing.finish(&mut lines);
                return Ok(lines);
            }
            _ if !buf.ends_with(b"\n") && buf.len() as u64 == MAX_LINE => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "listing line too long",
                ));
            }
            _ => {
                let line = buf.strip_suffix(b"\n").unwrap_or(&buf);
                listing.push(line, &mut lines);
            }
        }
    }
}

impl Session {
    /// A parser for one listing, placing dates without a year by the server's clock.
    fn listing(&self, source: Source) -> Listing {
        let now = chrono::Utc::now() + chrono::Duration::seconds(self.list_clock);
        Listing::new(source, now)
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
    pub(super) fn release(&mut self, own_rest: bool) {
        let mut ports = usize::from(own_rest);
        if self.ahead.take().is_some() {
            ports += 1;
        }
        if ports == 0 {
            return;
        }
        self.broken = true;
        self.ctl.set_read_timeout(Duration::from_secs(2));
        // Each batch is at most CWD, EPSV, 150 and the final reply.
        for _ in 0..4 * (ports + 1) {
            let Ok(reply) = self.ctl.read() else {
                return;
            };
            if code(&reply) == 229 {
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
    pub(super) fn let_go(&self, reply: &Response) {
        if let Ok(port) = data::epsv_port(reply) {
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
            return self.data_lines_after(None, &mlsd, ahead, Source::Mlsd);
        }
        let parse = Source::List;
        // LIST takes options and some servers glob its argument, so change into the
        // directory and list "." instead of naming the path. Batched, the CWD goes in the
        // same write as the EPSV and the LIST.
        let cwd = if self.batches_data() {
            Some(dir)
        } else {
            self.ask(format!("CWD {dir}"), &[250, 200])?;
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
    fn data_lines(&mut self, command: &str, parse: Source) -> FtpResult<Vec<ParsedLine>> {
        let data = self.open_data(command)?;
        let lines = read_lines(data, self.listing(parse)).map_err(|e| {
            // The final reply may still come: out of step.
            self.broken = true;
            FtpError::ConnectionError(e)
        })?;
        let done = self.exchange(&[], 1)?.remove(0);
        expect(done, &[226, 250])?;
        Ok(lines)
    }

    /// [`Session::data_lines`], batched where the server takes EPSV with its command: a CWD
    /// into `cwd` (given only then) and the EPSV go in the same write as the command, with
    /// `ahead` (the next listing's commands) in that write too.
    fn data_lines_after(
        &mut self,
        cwd: Option<&str>,
        command: &str,
        ahead: Option<Ahead>,
        parse: Source,
    ) -> Result<Vec<ParsedLine>, StepError> {
        if !self.batches_data() {
            return Ok(self.data_lines(command, parse)?);
        }
        let none = &mut super::carry::Carried::default();
        let sock = match self.open_batched(cwd.map(Before::Cwd), command, ahead, None, none) {
            Ok((d, _)) => d,
            // EPSV refused (after the CWD, if any, was done): the PASV path, unless another
            // listing's commands went out behind it.
            Err(StepError::Failed(FtpError::UnexpectedResponse(_)))
                if self.mode != Mode::Epsv && self.ahead.is_none() =>
            {
                return Ok(self.data_lines(command, parse)?);
            }
            Err(e) => return Err(e),
        };
        let mut data = self.start_data(sock)?;
        let early = self.goodbye_early(&mut data, command)?;
        let read = read_lines(data, self.listing(parse));
        let lines = match read {
            Ok(lines) => lines,
            // The server's final reply may still be coming: not in step any more (a
            // listing sent ahead is let go by `list`).
            Err(e) => {
                self.broken = true;
                let what = format!("its data connection broke ({e})");
                if early.is_some() {
                    return Err(self.anomaly(Batching::EarlyGoodbye, command, &what));
                }
                let e = FtpError::ConnectionError(e);
                return Err(self.anomaly_if_ahead(command, &what, e));
            }
        };
        let done = self
            .read_next()
            .map_err(|e| self.timeout_is_anomaly(command, e))?;
        match code(&done) {
            226 | 250 => {
                if early == Some(Engaged::Trial) {
                    self.proven.get(Batching::EarlyGoodbye).shown();
                }
                Ok(lines)
            }
            // The next listing's EPSV answered before this listing ended.
            229 => Err(self.out_of_order(command, &done)),
            _ => {
                let why = format!("it ended with \"{}\"", reply_text(&done));
                if early.is_some() {
                    return Err(self.anomaly(Batching::EarlyGoodbye, command, &why));
                }
                let e = FtpError::UnexpectedResponse(done);
                Err(self.anomaly_if_ahead(command, &why, e))
            }
        }
    }

    /// Sends our TLS goodbye on a listing's data connection before reading it, where this
    /// server has shown it takes that ([`Batching::EarlyGoodbye`]) or as the run's trial.
    /// Returns how it was engaged, or None where it was not sent.
    fn goodbye_early(
        &mut self,
        data: &mut data::Data,
        command: &str,
    ) -> Result<Option<Engaged>, StepError> {
        if !data.tls13() {
            return Ok(None);
        }
        let engaged = self.proven.get(Batching::EarlyGoodbye).engage();
        if !engaged.yes() {
            return Ok(None);
        }
        match data.goodbye_early() {
            Ok(()) => Ok(Some(engaged)),
            Err(e) => {
                self.broken = true;
                let what = format!("its data connection broke ({e})");
                Err(self.anomaly(Batching::EarlyGoodbye, command, &what))
            }
        }
    }
}
