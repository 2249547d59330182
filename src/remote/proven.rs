//! What this server has shown, in this run, that it handles: one value per server, shared
//! by every session of the run, read before each batched exchange.
//!
//! Servers differ in how they take commands sent before the previous reply. A forking daemon
//! reads one line at a time; an event-driven one (pyftpdlib) acts on a new EPSV at once and
//! closes the passive port it announced a moment ago; another stops reading until the
//! announced data connection arrives. FEAT says none of this, so each kind of batching has a
//! [`Trust`]:
//!
//! | kind | what goes in one write | starts |
//! |---|---|---|
//! | [`Batching::WithCommand`] | EPSV and the one data command it is for (MLSD, LIST, RETR, STOR), with a CWD or MDTM before them | on, where FEAT lists EPSV: one data setup, used at once, is safe on both kinds of server |
//! | [`Batching::AfterTransfer`] | MFMT, RNFR and RNTO after a transfer's 226; a deploy's rename into place with its SITE CHMOD (one rename to a write); TYPE I and FEAT or OPTS UTF8 ON behind PASS, and PBSZ with PROT (told apart by code: an asynchronous server may answer a command behind PASS first) | on: commands without data connections, answered in order by any RFC 959 server; replies that never come turn it off |
//! | [`Batching::Ahead`] | the next listing's EPSV and MLSD/LIST while this listing's data is still to come | unknown: one session tries it once, where an anomaly costs only a redo; it is on once that listing came back whole |
//! | [`Batching::Carried`] | an upload's MFMT, RNFR and RNTO ahead of the next upload's EPSV and STOR | unknown: one session tries it once; it is on once that finish came back as successes |
//! | [`Batching::EarlyGoodbye`] | our TLS close_notify on a listing's data connection right after its handshake, so the server's own goodbye (and its 226) need not wait a round trip for ours; TLS 1.3 only, where that closes only our side (RFC 8446, 6.1) | unknown: one listing tries it; it is on once that listing ended with 226 |
//! | [`Batching::Queries`] | up to 32 SIZE or MDTM commands: files whose listing gave no exact size, or a time too coarse to compare | unknown: the first batch is the trial; it is on once every reply came back in order as 213 or 550 |
//!
//! The first anomaly in a batched exchange (a refused or reset data connection, an extra,
//! unexpected or out-of-order reply, a reply that does not come) turns that kind off for the
//! rest of the run, with one `-v` line saying why, and the step is redone at once, unbatched,
//! on a fresh connection; a redo is never a failure or a retry.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU8, Ordering};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Batching {
    WithCommand,
    AfterTransfer,
    Ahead,
    /// Commands that only ask (SIZE, MDTM), many in one write and their replies read together.
    Queries,
    /// An upload's finish (MFMT, RNFR, RNTO) in the write of the next upload's EPSV and STOR.
    Carried,
    /// Our TLS goodbye on a listing's data connection before its data is read.
    EarlyGoodbye,
}

/// How many kinds of batching there are.
pub const KINDS: usize = 6;

impl Batching {
    pub fn label(self) -> &'static str {
        match self {
            Batching::WithCommand => "EPSV with its command",
            Batching::AfterTransfer => "commands after a transfer",
            Batching::Ahead => "listings sent ahead",
            Batching::Queries => "queries in one write",
            Batching::Carried => "an upload's finish carried with the next upload",
            Batching::EarlyGoodbye => "the TLS goodbye sent before a listing is read",
        }
    }
}

const UNKNOWN: u8 = 0;
const TRYING: u8 = 1;
const PROVEN: u8 = 2;
const REFUSED: u8 = 3;

/// How far one kind of batching is trusted on this server.
#[derive(Debug)]
pub struct Trust {
    state: AtomicU8,
    /// Why it was turned off: the `-v` line.
    why: OnceLock<String>,
}

impl Trust {
    fn new(state: u8) -> Trust {
        Trust {
            state: AtomicU8::new(state),
            why: OnceLock::new(),
        }
    }

    fn state(&self) -> u8 {
        self.state.load(Ordering::SeqCst)
    }

    /// Whether it is on (proven, or on from the start).
    pub fn on(&self) -> bool {
        self.state() == PROVEN
    }

    /// Whether this exchange may use it: it is on, or it is untried and this caller is the
    /// one that tries it (one trial at a time for the whole run). The caller then reports
    /// [`Trust::shown`] or [`Trust::refuse`], or [`Trust::untried`] if the trial never ran.
    pub fn engage(&self) -> Engaged {
        match self.state() {
            PROVEN => Engaged::On,
            UNKNOWN
                if self
                    .state
                    .compare_exchange(UNKNOWN, TRYING, Ordering::SeqCst, Ordering::SeqCst)
                    .is_ok() =>
            {
                Engaged::Trial
            }
            _ => Engaged::Off,
        }
    }

    /// The trial went through: on for the rest of the run.
    pub fn shown(&self) {
        let _ = self
            .state
            .compare_exchange(TRYING, PROVEN, Ordering::SeqCst, Ordering::SeqCst);
    }

    /// The trial did not get far enough to show anything (the session broke for another
    /// reason): another exchange may try.
    pub fn untried(&self) {
        let _ = self
            .state
            .compare_exchange(TRYING, UNKNOWN, Ordering::SeqCst, Ordering::SeqCst);
    }

    /// An anomaly: off for the rest of the run. The first reason is kept for `-v`.
    pub fn refuse(&self, why: String) {
        self.state.store(REFUSED, Ordering::SeqCst);
        self.why.get_or_init(|| why);
    }

    /// Whether the server has shown it, one way or the other.
    pub fn settled(&self) -> bool {
        matches!(self.state(), PROVEN | REFUSED)
    }

    /// Why it was turned off, if it was.
    pub fn refused(&self) -> Option<&str> {
        self.why.get().map(String::as_str)
    }
}

/// What [`Trust::engage`] allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engaged {
    On,
    /// Untried: this exchange is the trial.
    Trial,
    Off,
}

impl Engaged {
    pub fn yes(self) -> bool {
        self != Engaged::Off
    }
}

/// Every kind of batching, for one server.
#[derive(Debug)]
pub struct Proven {
    with_command: Trust,
    after_transfer: Trust,
    ahead: Trust,
    queries: Trust,
    carried: Trust,
    early_goodbye: Trust,
}

impl Default for Proven {
    fn default() -> Self {
        Proven {
            with_command: Trust::new(PROVEN),
            after_transfer: Trust::new(PROVEN),
            ahead: Trust::new(UNKNOWN),
            queries: Trust::new(UNKNOWN),
            carried: Trust::new(UNKNOWN),
            early_goodbye: Trust::new(UNKNOWN),
        }
    }
}

impl Proven {
    pub fn get(&self, kind: Batching) -> &Trust {
        match kind {
            Batching::WithCommand => &self.with_command,
            Batching::AfterTransfer => &self.after_transfer,
            Batching::Ahead => &self.ahead,
            Batching::Queries => &self.queries,
            Batching::Carried => &self.carried,
            Batching::EarlyGoodbye => &self.early_goodbye,
        }
    }

    /// One line per kind that was turned off in this run, for `-v`.
    pub fn notes(&self) -> Vec<String> {
        [
            Batching::WithCommand,
            Batching::AfterTransfer,
            Batching::Ahead,
            Batching::Queries,
            Batching::Carried,
            Batching::EarlyGoodbye,
        ]
        .into_iter()
        .filter_map(|k| {
            self.get(k)
                .refused()
                .map(|why| format!("batching off for {}: {why}", k.label()))
        })
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_trial_at_a_time_then_on_or_off_for_good() {
        let p = Proven::default();
        let t = p.get(Batching::Ahead);
        assert_eq!(t.engage(), Engaged::Trial);
        assert_eq!(
            t.engage(),
            Engaged::Off,
            "a second caller waits for the trial"
        );
        t.untried();
        assert_eq!(t.engage(), Engaged::Trial);
        t.shown();
        assert_eq!(t.engage(), Engaged::On);
        t.refuse("first".into());
        t.refuse("second".into());
        assert_eq!(t.engage(), Engaged::Off);
        t.shown();
        assert_eq!(t.engage(), Engaged::Off, "refused stays refused");
        assert_eq!(
            p.notes(),
            ["batching off for listings sent ahead: first".to_string()]
        );
        assert!(p.get(Batching::WithCommand).on());
        assert!(p.get(Batching::AfterTransfer).on());
    }
}
