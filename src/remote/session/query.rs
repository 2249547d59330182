//! Commands without data connections, many in one write where the server has shown it
//! answers them in order ([`Batching::Queries`]), and the renames that put a deploy's
//! uploads in place.

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
        self.queries(&verb, paths, chmod_of)
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

    /// RNFR and RNTO for each of `moves`, the source's SITE CHMOD first where one is given:
    /// the renames that put finished uploads in place. One rename to a write, its commands
    /// together as after a transfer ([`Batching::AfterTransfer`]): never two RNFRs in one
    /// write, because a server that runs commands concurrently (libunftp starts each RNFR
    /// as a task of its own) could then take one pair's RNTO with the other's source and
    /// put a file under the wrong name, a harm no anomaly seen afterwards undoes.
    pub fn renames(&mut self, moves: &[Move]) -> Result<Vec<Moved>> {
        let items: Vec<Vec<String>> = moves
            .iter()
            .map(|m| {
                let chmod = m
                    .chmod
                    .map(|mode| format!("SITE CHMOD {mode:o} {}", m.from));
                chmod
                    .into_iter()
                    .chain([format!("RNFR {}", m.from), format!("RNTO {}", m.to)])
                    .collect()
            })
            .collect();
        self.batched(Batching::AfterTransfer, &items, 1, |replies| {
            let (chmod, pair) = match replies {
                [c, f, t] => (Some(chmod_of(c)?), [f, t]),
                [f, t] => (None, [f, t]),
                _ => return None,
            };
            let refusal = |r: &Response| (code(r), crate::remote::reply_text(r));
            let renamed = match (code(pair[0]), code(pair[1])) {
                (350, 200..=299) => Renamed::Done,
                (350, 400..=599) => Renamed::ToRefused(refusal(pair[1])),
                (400..=599, 400..=599) => Renamed::FromRefused(refusal(pair[0])),
                _ => return None,
            };
            Some(Moved { renamed, chmod })
        })
    }

    /// `verb path` for each of `paths`, each reply read by `answer` (`Some(None)` for "has
    /// none", `None` for a reply that is no answer), batched as [`Batching::Queries`].
    fn queries<T>(
        &mut self,
        verb: &str,
        paths: &[String],
        answer: impl Fn(&Response) -> Option<Option<T>>,
    ) -> Result<Vec<Option<T>>> {
        let items: Vec<Vec<String>> = paths.iter().map(|p| vec![format!("{verb} {p}")]).collect();
        self.batched(Batching::Queries, &items, BATCH, |r| answer(&r[0]))
    }

    /// Each item's commands, with its replies read by `answer` (`None` for replies that are
    /// no answer to those commands), up to `most` items in one write where `kind` is on or
    /// this is its trial; otherwise one command per write. The first anomaly (a reply that
    /// is no answer, or none in time) turns `kind` off and retires the session, whose state
    /// can no longer be trusted, and the step is redone on a fresh connection: commands that
    /// change something must answer a second sending sensibly (a rename done already finds
    /// its source gone).
    fn batched<T>(
        &mut self,
        kind: Batching,
        items: &[Vec<String>],
        most: usize,
        answer: impl Fn(&[Response]) -> Option<T>,
    ) -> Result<Vec<T>> {
        let mut out = Vec::with_capacity(items.len());
        let mut rest = items;
        let proven = self.proven.clone();
        let trust = proven.get(kind);
        while !rest.is_empty() {
            let engaged = if rest.len().min(most) > 1 || rest[0].len() > 1 {
                trust.engage()
            } else {
                Engaged::Off
            };
            let n = if engaged.yes() {
                rest.len().min(most)
            } else {
                1
            };
            let (now, later) = rest.split_at(n);
            let lines: Vec<String> = now.iter().flatten().cloned().collect();
            let first = now[0].first().map_or("", String::as_str);
            let verb = first.split(' ').next().unwrap_or("command").to_string();
            // Unbatched means one command per write, even within an item.
            let replies = match engaged {
                Engaged::Off => lines
                    .iter()
                    .map(|l| {
                        self.exchange(std::slice::from_ref(l), 1)
                            .map(|mut r| r.remove(0))
                    })
                    .collect(),
                _ => self.exchange(&lines, lines.len()),
            };
            let replies = match replies {
                Ok(r) => r,
                Err(e) if engaged.yes() => {
                    let why = format!("{}: {e} after {n} batched {verb} commands", self.label);
                    trust.refuse(why.clone());
                    self.broken = true;
                    return Err(anyhow::Error::new(Redo(why)));
                }
                Err(e) => {
                    let (v, path) = first.split_once(' ').unwrap_or((first, ""));
                    return Err(self.fail(v, path, &e));
                }
            };
            let mut answers = Vec::with_capacity(n);
            let mut at = 0;
            let mut wrong = None;
            for item in now {
                let mine = &replies[at..at + item.len()];
                at += item.len();
                match answer(mine) {
                    Some(a) => answers.push(a),
                    None => {
                        wrong = Some((item, mine));
                        break;
                    }
                }
            }
            if let Some((item, mine)) = wrong {
                let shown: Vec<String> = mine.iter().map(|r| code(r).to_string()).collect();
                let what = format!(
                    "{}: {} got {}",
                    self.label,
                    crate::remote::escape(&item.join(", ")),
                    shown.join(", ")
                );
                if !engaged.yes() {
                    let reply = mine.last().cloned().unwrap_or_else(|| replies[0].clone());
                    let (v, path) = first.split_once(' ').unwrap_or((first, ""));
                    let e = FtpError::UnexpectedResponse(reply);
                    return Err(self.fail(v, path, &e).context(what));
                }
                // The server may have answered out of turn: no reply in this write can be
                // trusted to be its command's, nor the session's state (a rename's source).
                let why = format!("{what}, not an answer in turn");
                trust.refuse(why.clone());
                self.broken = true;
                return Err(anyhow::Error::new(Redo(why)));
            }
            if engaged == Engaged::Trial {
                trust.shown();
            }
            out.extend(answers);
            rest = later;
        }
        Ok(out)
    }
}

/// A SITE CHMOD reply: `Some(Some(true))` set, `Some(Some(false))` the server does not do
/// SITE CHMOD (500, 502, 504), `Some(None)` refused for that file, `None` no answer to it.
pub(super) fn chmod_of(r: &Response) -> Option<Option<bool>> {
    match code(r) {
        200..=299 => Some(Some(true)),
        500 | 502 | 504 => Some(Some(false)),
        400..=599 => Some(None),
        _ => None,
    }
}

/// One rename of a burst: `from` (a finished upload's temporary name) over `to`, with
/// `SITE CHMOD chmod from` before it when given.
#[derive(Debug, Clone)]
pub struct Move {
    pub from: String,
    pub to: String,
    pub chmod: Option<u32>,
}

/// How a rename of a burst came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Renamed {
    Done,
    /// RNFR was refused, with the code and the server's words: the source is gone (renamed
    /// already, by a first sending whose replies were lost) or may not be renamed.
    FromRefused((u32, String)),
    /// RNTO was refused: the file stays under its temporary name.
    ToRefused((u32, String)),
}

/// A rename's outcome, and its SITE CHMOD's as [`Session::chmods`] gives it, if one was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    pub renamed: Renamed,
    pub chmod: Option<Option<bool>>,
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
