//! Questions without data connections, many in one write where the server has shown it
//! answers them in order ([`Batching::Queries`]).

use std::time::SystemTime;

use anyhow::Result;
use suppaftp::FtpError;
use suppaftp::types::Response;

use super::control::code;
use super::{HashCommand, Session};
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

    /// `SITE CHMOD mode path` for each of `paths`: `Some(true)` set, `Some(false)` the
    /// server does not do SITE CHMOD (500, 502, 504), `None` refused for that file (550).
    pub fn chmods(&mut self, mode: u32, paths: &[String]) -> Result<Vec<Option<bool>>> {
        let verb = format!("SITE CHMOD {mode:o}");
        self.queries(&verb, paths, |r| match code(r) {
            200..=299 => Some(Some(true)),
            500 | 502 | 504 => Some(Some(false)),
            400..=599 => Some(None),
            _ => None,
        })
    }

    /// The digest of each of `paths` by `cmd` (lower-case hex), `None` where the server has
    /// none to give (550: gone, 553: not a plain file, or a reply no digest can be read
    /// from). A command the server does not know (500, 502, 504) is an error.
    pub fn hashes(&mut self, cmd: HashCommand, paths: &[String]) -> Result<Vec<Option<String>>> {
        let algo = cmd.algo();
        if let HashCommand::Hash { current: false, .. } = cmd
            && self.hash_selected != Some(algo)
        {
            let line = format!("OPTS HASH {}", algo.name());
            self.ask(line.clone(), &[200])
                .map_err(|e| self.fail("OPTS HASH", algo.name(), &e))?;
            self.hash_selected = Some(algo);
        }
        let answers = self.queries(cmd.verb(), paths, |r| digest_of(r, cmd))?;
        // One message for the whole run, whichever file it was: the command is off here.
        answers
            .into_iter()
            .map(|a| match a {
                Some(Digest::Hex(h)) => Ok(Some(h)),
                Some(Digest::Refused(code)) => Err(anyhow::anyhow!(
                    "{}: the server refused {} ({code}) though FEAT lists it; those files \
                     are compared by size and mtime",
                    self.label,
                    cmd.verb(),
                )),
                None => Ok(None),
            })
            .collect()
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

/// What a hash command's reply said.
enum Digest {
    Hex(String),
    /// The command is unknown or turned off here: 500, 502, 504.
    Refused(u32),
}

/// A HASH reply (`213 SHA-256 0-12 a948…447 /a.txt`, the last line of a multi-line reply)
/// or an X command's (`250 A948…447`; some servers add the path): `Some(None)` for a refusal
/// of this file or a reply without a digest of the right algorithm and length.
fn digest_of(r: &Response, cmd: HashCommand) -> Option<Option<Digest>> {
    let c = code(r);
    if matches!(c, 500 | 502 | 504) {
        return Some(Some(Digest::Refused(c)));
    }
    if !matches!(c, 213 | 250 | 251) {
        return (400..600).contains(&c).then_some(None);
    }
    let text = String::from_utf8_lossy(&r.body);
    let last = text.lines().rev().find(|l| !l.trim().is_empty())?;
    let mut words = last.get(4..)?.split_whitespace();
    let algo = cmd.algo();
    let hex = match cmd {
        HashCommand::Hash { .. } => {
            let named = words.next().and_then(crate::hash::Algo::from_name);
            let _range = words.next();
            words.next().filter(|_| named == Some(algo))
        }
        HashCommand::X(_) => words.find(|w| w.len() == algo.hex_len()),
    };
    let hex = hex.filter(|h| h.len() == algo.hex_len() && h.bytes().all(|b| b.is_ascii_hexdigit()));
    Some(hex.map(|h| Digest::Hex(h.to_ascii_lowercase())))
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
