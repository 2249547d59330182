//! Questions without data connections, many in one write where the server has shown it
//! answers them in order ([`Batching::Queries`]).

use std::time::SystemTime;

use anyhow::Result;
use suppaftp::FtpError;
use suppaftp::types::Response;

use super::Session;
use super::control::code;
use crate::remote::Redo;
use crate::remote::proven::{Batching, Engaged};

/// The most queries in one write.
const BATCH: usize = 32;

impl Session {
    /// The exact size of each of `paths` (SIZE), `None` where the server says it has none
    /// (550: not a plain file, or gone).
    pub fn sizes(&mut self, paths: &[String]) -> Result<Vec<Option<u64>>> {
        self.queries("SIZE", paths, size_of)
    }

    /// The mtime of each of `paths` to the second, UTC (MDTM), `None` where the server says
    /// it has none (550).
    pub fn mtimes(&mut self, paths: &[String]) -> Result<Vec<Option<SystemTime>>> {
        self.queries("MDTM", paths, |r| match code(r) {
            550 => Some(None),
            _ => super::mdtm_time(r).map(Some),
        })
    }

    /// `verb path` for each of `paths`, each reply read by `answer` (`Some(None)` for "has
    /// none", `None` for a reply that is no answer). Where the server has not yet shown that
    /// it answers queries in one write, the first batch is the trial; its first anomaly turns
    /// batching off and the batch is asked again one at a time.
    fn queries<T>(
        &mut self,
        verb: &str,
        paths: &[String],
        answer: impl Fn(&Response) -> Option<Option<T>>,
    ) -> Result<Vec<Option<T>>> {
        let mut out = Vec::with_capacity(paths.len());
        let mut rest = paths;
        let proven = self.proven.clone();
        let trust = proven.get(Batching::Queries);
        while !rest.is_empty() {
            let engaged = if rest.len() > 1 {
                trust.engage()
            } else {
                Engaged::Off
            };
            let n = if engaged.yes() {
                rest.len().min(BATCH)
            } else {
                1
            };
            let (now, later) = rest.split_at(n);
            let lines: Vec<String> = now.iter().map(|p| format!("{verb} {p}")).collect();
            let replies = match self.exchange(&lines, n) {
                Ok(r) => r,
                Err(e) if n > 1 => {
                    let why = format!("{}: {e} after {n} {verb} commands", self.label);
                    trust.refuse(why.clone());
                    self.broken = true;
                    return Err(anyhow::Error::new(Redo(why)));
                }
                Err(e) => return Err(self.fail(verb, &now[0], &e)),
            };
            let answers: Vec<Option<Option<T>>> = replies.iter().map(&answer).collect();
            if let Some(i) = answers.iter().position(Option::is_none) {
                let reply = replies[i].clone();
                if n == 1 {
                    return Err(self.fail(verb, &now[i], &FtpError::UnexpectedResponse(reply)));
                }
                // Asked again one at a time: the server may have answered out of turn.
                trust.refuse(format!(
                    "{}: {verb} {} got {} where 213 or 550 was due",
                    self.label,
                    crate::remote::escape(&now[i]),
                    code(&reply)
                ));
                continue;
            }
            if engaged == Engaged::Trial {
                trust.shown();
            }
            out.extend(answers.into_iter().flatten());
            rest = later;
        }
        Ok(out)
    }
}

/// A SIZE reply: `Some(Some(n))` for 213 and a number, `Some(None)` for 550, `None` for
/// anything else.
fn size_of(r: &Response) -> Option<Option<u64>> {
    match code(r) {
        213 => {
            let text = String::from_utf8_lossy(&r.body);
            text.get(4..)?.trim().parse().ok().map(Some)
        }
        550 => Some(None),
        _ => None,
    }
}
