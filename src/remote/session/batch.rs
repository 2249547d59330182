//! EPSV and the one data command it is for, in one write: the server answers 229, waits for
//! the data connection, then answers the command, so the pair costs one round trip. What
//! counts as an anomaly here turns a kind of batching off for the run (see `proven`).

use std::io::{self, Write};
use std::net::Shutdown;

use suppaftp::FtpError;
use suppaftp::types::Response;

use super::carry::{Carried, CarryState};
use super::control::code;
use super::data::Data;
use super::list::Ahead;
use super::{BUSY_PORT_TRIES, Session, StepError, busy_port, data, refuses_epsv};
use crate::remote::proven::Batching;
use crate::remote::reply_text;

/// A command sent in the same write ahead of a batched EPSV: a CWD the command depends on, or
/// an MDTM whose answer is wanted along with the download.
#[derive(Clone, Copy)]
pub enum Before<'a> {
    Cwd(&'a str),
    Mdtm(&'a str),
}

/// The commands that run `command` on a data connection of its own: [CWD or MDTM,] EPSV,
/// command.
pub fn batch(before: Option<Before>, command: &str) -> Vec<String> {
    before
        .map(|b| match b {
            Before::Cwd(d) => format!("CWD {d}"),
            Before::Mdtm(p) => format!("MDTM {p}"),
        })
        .into_iter()
        .chain(["EPSV".to_string(), command.to_string()])
        .collect()
}

impl Session {
    /// The kind of batching an exchange for `command` leans on: listings sent ahead when
    /// any are in flight on this session, else EPSV with its command.
    pub(super) fn batching_in_play(&self) -> Batching {
        if self.ahead.is_some() {
            Batching::Ahead
        } else {
            Batching::WithCommand
        }
    }

    /// A failure with a listing sent ahead in flight is the bolder batching's doing until
    /// shown otherwise: off for the run, and the step redone unbatched.
    pub(super) fn anomaly_if_ahead(&mut self, command: &str, what: &str, e: FtpError) -> StepError {
        if self.ahead.is_none() {
            return StepError::Failed(e);
        }
        self.anomaly(Batching::Ahead, command, what)
    }

    /// A reply that does not come in a batched exchange is an anomaly; a stop is not.
    pub(super) fn timeout_is_anomaly(&mut self, command: &str, e: FtpError) -> StepError {
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
    pub(super) fn anomaly(&mut self, kind: Batching, command: &str, what: &str) -> StepError {
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
    ///
    /// `early` is a whole small upload: written, and our side of the data connection closed,
    /// as soon as the connection is made, without waiting for the 150. The server reads it
    /// once it takes the STOR, or never, if it refuses it; it fits in the socket buffers
    /// either way, so nothing waits on it.
    ///
    /// `carried` is the previous upload's finish, sent first in the same write; its replies
    /// come first and are checked before this command's (see [`Carried`]).
    pub(super) fn open_batched(
        &mut self,
        before: Option<Before>,
        command: &str,
        ahead: Option<Ahead>,
        early: Option<&[u8]>,
        carried: &mut Carried,
    ) -> Result<(Data, Option<Response>), StepError> {
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
        let mut first: Vec<String> = carried.lines.clone();
        if !sent {
            first.extend_from_slice(&mine);
        }
        if let Some(a) = ahead {
            first.extend_from_slice(&a.commands);
            self.ahead = Some(a);
        }
        if !carried.lines.is_empty() {
            self.read_carried(&first, command, carried)?;
            first.clear();
        }
        let mut before_reply = None;
        if let Some(b) = before {
            let answer = self
                .exchange_partial(&first, 1)
                .map_err(|e| self.timeout_is_anomaly(command, e))?
                .remove(0);
            // The EPSV's or the command's reply in the place of the CWD's or MDTM's: the
            // server answered out of turn (libunftp, being asynchronous, can).
            if matches!(code(&answer), 125 | 150 | 229) {
                return Err(self.out_of_order(command, &answer));
            }
            match b {
                Before::Cwd(_) if !matches!(code(&answer), 200..=299) => {
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
                (1, Some(_)) => self.exchange_partial(&[], 1),
                (1, None) => self.exchange_partial(&first, 1),
                _ => self.exchange_partial(&lines, 1),
            };
            let epsv = epsv
                .map_err(|e| self.timeout_is_anomaly(command, e))?
                .remove(0);
            if code(&epsv) != 229 {
                let answer = self
                    .read_next()
                    .map_err(|e| self.timeout_is_anomaly(command, e))?;
                if code(&answer) == 229 {
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
            let data = data::epsv_port(&epsv)
                .and_then(|port| data::connect(self.peer.ip(), port, self.timeout));
            let data = match data {
                Ok(d) => d,
                Err(e) => {
                    // The server is waiting for this connection before it answers, or it
                    // closed the port it announced: refused, or reset as it was made.
                    self.broken = true;
                    return Err(match e {
                        FtpError::ConnectionError(io) => {
                            let what = format!("the data connection failed ({io})");
                            self.anomaly(self.batching_in_play(), command, &what)
                        }
                        other => StepError::Failed(other),
                    });
                }
            };
            if let Some(bytes) = early.filter(|_| self.data_tls.is_none()) {
                let sent = (&data)
                    .write_all(bytes)
                    .and_then(|()| data.shutdown(Shutdown::Write));
                if let Err(e) = sent {
                    // The server may have refused the STOR and closed the port: its reply
                    // says so, and is the error.
                    return Err(StepError::Failed(match self.refusal() {
                        Some(r) => FtpError::UnexpectedResponse(r),
                        None => FtpError::ConnectionError(e),
                    }));
                }
            }
            let data = self.data_conn(data)?;
            // The final reply may follow at once (a short listing): it stays buffered.
            let answer = self
                .exchange_partial(&[], 1)
                .map_err(|e| self.timeout_is_anomaly(command, e))?
                .remove(0);
            return match code(&answer) {
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

    /// Sends `first` and reads the replies to the carried finish at its head: each must be
    /// its command's success, else carrying is off for the run and this step is redone.
    fn read_carried(
        &mut self,
        first: &[String],
        command: &str,
        carried: &mut Carried,
    ) -> Result<(), StepError> {
        carried.state = CarryState::Lost;
        let replies = match self.exchange_partial(first, carried.lines.len()) {
            Ok(r) => r,
            Err(FtpError::ConnectionError(io)) if io.kind() == io::ErrorKind::TimedOut => {
                return Err(self.anomaly(Batching::Carried, command, "no reply came in time"));
            }
            Err(e) => {
                self.broken = true;
                return Err(StepError::Failed(e));
            }
        };
        if let Some((line, reply)) = carried.first_wrong(&replies) {
            let what = format!("\"{}\" came back to {line}", reply_text(reply));
            return Err(self.anomaly(Batching::Carried, command, &what));
        }
        carried.state = CarryState::Answered;
        carried.replies = replies;
        self.proven.get(Batching::Carried).shown();
        Ok(())
    }

    /// The batched command went wrong in a way only disorder explains. A 229 there is the
    /// listing sent ahead answering early: its port is let go here, since that reply has
    /// now been read.
    pub(super) fn out_of_order(&mut self, command: &str, reply: &Response) -> StepError {
        let kind = self.batching_in_play();
        if code(reply) == 229 && self.ahead.take().is_some() {
            self.let_go(reply);
        }
        let what = format!("\"{}\" came out of order", reply_text(reply));
        self.anomaly(kind, command, &what)
    }
}
