//! An upload's finish (its mtime, and its rename into place) carried in the same write as
//! the next upload's EPSV and STOR ([`Batching::Carried`]), so that it costs no round trip
//! of its own: `MFMT t .a.part, RNFR .a.part, RNTO a, EPSV, STOR .b.part` in one write.
//! The finish's replies come first and are checked before anything else is read. No port is
//! announced for anything but the STOR that uses it.
//!
//! Carrying is off until the server has shown it handles it: one session tries it once,
//! and it is on for the run when that finish came back as successes. Its first anomaly
//! (a reply that is not its command's success, or none in time) turns it off; the step is
//! redone on a fresh connection, and the upload whose finish was carried is done again.

use std::io::Read;
use std::time::SystemTime;

use anyhow::Result;
use suppaftp::types::Response;

use super::Session;
use super::TimeCommand;
use super::control::code;
use crate::remote::proven::{Batching, Engaged};

/// What became of a carried finish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CarryState {
    /// Not sent: this upload went without it (REST, PASV, a failure before the write). The
    /// caller still has to finish the previous upload.
    Unsent,
    /// Sent, and every reply was its command's success.
    Answered,
    /// Sent, and its replies were wrong or did not come: the previous upload must be done
    /// again.
    Lost,
}

/// The commands that finish an upload, and the replies that mean success.
#[derive(Debug, Clone)]
pub struct Carried {
    pub(super) lines: Vec<String>,
    pub(super) expected: Vec<&'static [u32]>,
    pub(super) state: CarryState,
    /// The replies, once read.
    pub(super) replies: Vec<Response>,
}

/// A SITE CHMOD's replies that are answers to it: set, not done by this server, or refused
/// for this file. None is an anomaly; which one came is read afterwards.
const CHMOD_ANSWERS: &[u32] = &[200, 250, 500, 501, 502, 504, 550, 553];

impl Default for Carried {
    fn default() -> Self {
        Carried {
            lines: Vec::new(),
            expected: Vec::new(),
            state: CarryState::Unsent,
            replies: Vec::new(),
        }
    }
}

impl Carried {
    /// `time` on `stored` (when given), `SITE CHMOD chmod` on it (when given), then the
    /// rename of `stored` to `rename_to` (when given): the mtime and mode first, on the name
    /// the file has until the rename, so it is never in place without them.
    pub fn finish(
        time: Option<(TimeCommand, SystemTime)>,
        chmod: Option<u32>,
        stored: &str,
        rename_to: Option<&str>,
    ) -> Carried {
        let mut c = Carried::default();
        if let Some((cmd, t)) = time {
            c.lines.push(cmd.line(t, stored));
            c.expected.push(&[213, 200, 250]);
        }
        if let Some(mode) = chmod {
            c.lines.push(format!("SITE CHMOD {mode:o} {stored}"));
            c.expected.push(CHMOD_ANSWERS);
        }
        if let Some(to) = rename_to {
            c.lines.push(format!("RNFR {stored}"));
            c.lines.push(format!("RNTO {to}"));
            c.expected.extend([&[350][..], &[250][..]]);
        }
        c
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    pub fn state(&self) -> CarryState {
        self.state
    }

    /// How the SITE CHMOD came back, as [`Session::chmods`] gives it, if one was sent and
    /// answered.
    pub fn chmod(&self) -> Option<Option<bool>> {
        let i = self
            .lines
            .iter()
            .position(|l| l.starts_with("SITE CHMOD "))?;
        self.replies.get(i).and_then(super::query::chmod_of)
    }

    /// The first command whose reply is not its success, with that reply.
    pub(super) fn first_wrong<'a>(
        &'a self,
        replies: &'a [Response],
    ) -> Option<(&'a str, &'a Response)> {
        self.lines
            .iter()
            .zip(replies)
            .zip(&self.expected)
            .find(|((_, r), codes)| !codes.contains(&code(r)))
            .map(|((l, r), _)| (l.as_str(), r))
    }
}

impl Session {
    /// Whether an upload's finish may wait to ride with the next upload: where EPSV goes
    /// with its command, commands after a transfer are batched, and carrying is on (or this
    /// is the run's one trial of it).
    pub fn may_carry(&self) -> Engaged {
        if self.batches_data() && self.batches_after_transfer() {
            self.proven.get(Batching::Carried).engage()
        } else {
            Engaged::Off
        }
    }

    /// This session's trial of carrying did not happen (no next upload came): another may try.
    pub fn untried_carry(&self) {
        self.proven.get(Batching::Carried).untried();
    }

    /// [`Session::store`], with `carried` (the previous upload's finish) in the write that
    /// starts this one where the STOR is batched; `carried.state()` says afterwards whether
    /// it went, and how it came back.
    pub fn store_carrying(
        &mut self,
        remote: &str,
        offset: u64,
        input: &mut dyn Read,
        progress: &mut dyn FnMut(u64),
        carried: &mut Carried,
    ) -> Result<u64> {
        // Between a REST and its STOR nothing may go, and once carrying is off nothing is
        // carried: the caller finishes the previous upload itself.
        let off = self.proven.get(Batching::Carried).refused().is_some();
        if offset > 0 || carried.is_empty() || off {
            return self.store(remote, offset, input, progress);
        }
        self.store_with(remote, offset, input, progress, carried)
    }
}
