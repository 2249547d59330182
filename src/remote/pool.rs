//! A pool of logged-in sessions shared by listing and transfer workers.
//!
//! Sessions are opened lazily, up to `max`, and handed back after each batch so the listing
//! phase's connections are reused for the transfers. A session whose control connection broke
//! is dropped and replaced on next use.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Result, anyhow};

use super::proven::Batching;
use super::{Caps, Endpoint, Failure, Session};
use crate::interrupt;

/// How transient failures are retried: `retries` more attempts, waiting `delay`, then twice
/// that, and so on.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub retries: u32,
    pub delay: Duration,
}

impl RetryPolicy {
    /// The wait before retry number `attempt` (1-based).
    pub fn backoff(&self, attempt: u32) -> Duration {
        self.delay
            .saturating_mul(1 << attempt.saturating_sub(1).min(16))
    }

    /// Runs `op` until it succeeds, fails for good, or the retries are used up; `on_retry`
    /// hears about each retry. Nothing is retried once a stop was asked for.
    pub fn run<T>(
        &self,
        on_retry: &dyn Fn(String),
        mut op: impl FnMut() -> Result<T>,
    ) -> Result<T> {
        let mut attempt = 0;
        loop {
            match op() {
                Err(e)
                    if attempt < self.retries
                        && Failure::is_transient(&e)
                        && !interrupt::requested() =>
                {
                    attempt += 1;
                    let delay = self.backoff(attempt);
                    on_retry(format!(
                        "{e:#}; retry {attempt}/{} in {:.1} s",
                        self.retries,
                        delay.as_secs_f64()
                    ));
                    std::thread::sleep(delay);
                }
                r => return r,
            }
        }
    }
}

pub struct Pool {
    ep: Endpoint,
    retry: RetryPolicy,
    /// Sessions allowed; lowered when the server refuses more logins.
    max: AtomicUsize,
    /// The absolute remote directory the URL names.
    root: String,
    caps: Caps,
    /// What was probed beyond FEAT at the start, and how it went (for `-v`).
    probed: Vec<(&'static str, bool)>,
    idle: Mutex<Vec<Session>>,
    /// Sessions that exist (idle or in use).
    live: AtomicUsize,
    /// Said once when the server refused a session and the pool shrank.
    shrunk: Mutex<Option<String>>,
}

/// What became of a batch: the items no worker could start, and why.
#[derive(Debug, Default)]
pub struct BatchOutcome {
    pub unattempted: Vec<usize>,
    pub session_errors: Vec<String>,
}

impl Pool {
    /// Opens the first session, which decides whether the run can go on at all (host
    /// reachable, login accepted), and resolves the URL path against the login directory.
    /// Transient failures (a refused connection, 421) are retried by `retry`.
    pub fn open(
        ep: Endpoint,
        max: usize,
        retry: RetryPolicy,
        on_retry: &dyn Fn(String),
    ) -> Result<Pool> {
        let mut first = retry.run(on_retry, || Session::connect(&ep))?;
        let root = if ep.path.starts_with('/') {
            ep.path.clone()
        } else {
            let home = first.pwd()?;
            join_remote(&home, &ep.path)
        };
        let probed = first.probe(&root);
        let caps = first.caps.clone();
        Ok(Pool {
            probed,
            ep,
            retry,
            max: AtomicUsize::new(max.max(1)),
            root,
            caps,
            idle: Mutex::new(vec![first]),
            live: AtomicUsize::new(1),
            shrunk: Mutex::new(None),
        })
    }

    pub fn root(&self) -> &str {
        &self.root
    }

    pub fn caps(&self) -> &Caps {
        &self.caps
    }

    /// The capabilities tried beyond FEAT, each with whether the server has it.
    pub fn probed(&self) -> &[(&'static str, bool)] {
        &self.probed
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.ep
    }

    pub fn max(&self) -> usize {
        self.max.load(Ordering::SeqCst)
    }

    /// Runs `op` on `session` under the retry policy, reconnecting it first whenever its
    /// control connection broke, so a worker's work survives a dropped connection.
    pub fn with_retries<T>(
        &self,
        session: &mut Session,
        on_retry: &dyn Fn(String),
        mut op: impl FnMut(&mut Session) -> Result<T>,
    ) -> Result<T> {
        self.retry.run(on_retry, || {
            if session.broken {
                *session = Session::connect(&self.ep)?;
            }
            // A batched exchange met an anomaly (that kind of batching is now off), or could
            // not go on in step: the same step again at once, on a fresh connection. Not a
            // retry: the server did nothing wrong. Each kind of batching turns off once, so
            // a step meets at most one redo per kind.
            let mut r = op(session);
            for _ in 0..super::proven::KINDS {
                match r {
                    Err(e) if e.chain().any(|c| c.is::<super::Redo>()) => {
                        *session = Session::connect(&self.ep)?;
                        r = op(session);
                    }
                    done => return done,
                }
            }
            r
        })
    }

    /// The message, once, if the server refused a session and the pool shrank.
    pub fn take_shrink_notice(&self) -> Option<String> {
        self.shrunk.lock().unwrap_or_else(|p| p.into_inner()).take()
    }

    /// An idle session, or a new one while fewer than `max` exist.
    pub fn take(&self) -> Result<Session> {
        {
            let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(s) = idle.pop() {
                return Ok(s);
            }
            if self.live.load(Ordering::SeqCst) >= self.max() {
                return Err(anyhow!("all {} sessions are in use", self.max()));
            }
            self.live.fetch_add(1, Ordering::SeqCst);
        }
        Session::connect(&self.ep).inspect_err(|e| {
            let live = self.live.fetch_sub(1, Ordering::SeqCst) - 1;
            // Others are connected: the server takes no more (421 "too many connections").
            // Go on with the sessions it accepted instead of failing their work.
            if live > 0 && self.max.fetch_min(live, Ordering::SeqCst) > live {
                *self.shrunk.lock().unwrap_or_else(|p| p.into_inner()) = Some(format!(
                    "the server refused another session ({e:#}); continuing with {live}"
                ));
            }
        })
    }

    /// Returns a session for reuse, or drops it if its connection broke.
    pub fn give(&self, s: Session) {
        if !s.reusable() {
            self.live.fetch_sub(1, Ordering::SeqCst);
            return;
        }
        self.idle.lock().unwrap_or_else(|p| p.into_inner()).push(s);
    }

    /// Asks `op` about each of `paths` (SIZE, MDTM: queries without data connections), the
    /// paths shared out over the pool's sessions, at least 32 to a session so that each share
    /// fills a batch. A share that fails even after retries answers `None` for its paths and
    /// gives one notice: these answers refine a listing, and a listing without them is usable.
    pub fn ask_spread<T: Send>(
        &self,
        paths: &[String],
        on_notice: &(dyn Fn(String) + Sync),
        op: impl Fn(&mut Session, &[String]) -> Result<Vec<Option<T>>> + Sync,
    ) -> Vec<Option<T>> {
        self.spread(Batching::Queries, 32, paths, on_notice, op)
    }

    /// [`Pool::ask_spread`] for any items, where `op` leans on `kind` and sends up to `fill`
    /// items in one write (each share holds at least that many).
    pub fn spread<I: Sync, T: Send>(
        &self,
        kind: Batching,
        fill: usize,
        items: &[I],
        on_notice: &(dyn Fn(String) + Sync),
        op: impl Fn(&mut Session, &[I]) -> Result<Vec<Option<T>>> + Sync,
    ) -> Vec<Option<T>> {
        if items.is_empty() {
            return Vec::new();
        }
        let op = &op;
        // Until the server has shown how it takes these in one write, one session sends the
        // first batch alone: that is the trial, and the other shares then go batched (or not)
        // from their first command, instead of one at a time while the trial runs.
        let mut out = Vec::with_capacity(items.len());
        let mut rest = items;
        if !self.ep.proven.get(kind).settled() && fill > 1 && rest.len() > fill {
            let (lead, later) = rest.split_at(fill);
            out.extend(self.ask_share(lead, on_notice, op));
            rest = later;
        }
        let share = rest.len().div_ceil(self.max().max(1)).max(fill);
        std::thread::scope(|scope| {
            let handles: Vec<_> = rest
                .chunks(share)
                .map(|chunk| scope.spawn(move || self.ask_share(chunk, on_notice, op)))
                .collect();
            for h in handles {
                out.extend(h.join().expect("query thread panicked"));
            }
        });
        out
    }

    /// One share of [`Pool::spread`] on one session: an answer for each item.
    fn ask_share<I, T>(
        &self,
        items: &[I],
        on_notice: &(dyn Fn(String) + Sync),
        op: &(impl Fn(&mut Session, &[I]) -> Result<Vec<Option<T>>> + Sync),
    ) -> Vec<Option<T>> {
        let answer = self.take().and_then(|mut s| {
            let r = self.with_retries(&mut s, on_notice, |s| op(s, items));
            self.give(s);
            r
        });
        let answer = answer.unwrap_or_else(|e| {
            on_notice(format!("{e:#}"));
            Vec::new()
        });
        let missing = items.len().saturating_sub(answer.len());
        answer
            .into_iter()
            .chain(std::iter::repeat_with(|| None).take(missing))
            .take(items.len())
            .collect()
    }

    /// Runs `f` over `items` on up to `max` sessions in parallel. Each worker keeps its session
    /// for many items; when one breaks it reconnects, and a worker that cannot get a session
    /// stops without claiming an item, so the others carry on with fewer connections. Each
    /// worker has a state of its own that `f` may leave work in (an upload's finish waiting
    /// to ride with the next upload): `end` gets the state and the worker's last session, if
    /// it has one, before the session goes back to the pool.
    pub fn run_with<T: Sync, S: Default>(
        &self,
        items: &[T],
        f: impl Fn(&mut Session, &mut S, &T) + Sync,
        end: impl Fn(Option<&mut Session>, &mut S) + Sync,
    ) -> BatchOutcome {
        let next = AtomicUsize::new(0);
        let errors = Mutex::new(Vec::new());
        let workers = self.max().min(items.len());
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| {
                    let mut state = S::default();
                    let mut session: Option<Session> = None;
                    loop {
                        if next.load(Ordering::SeqCst) >= items.len() || interrupt::requested() {
                            break;
                        }
                        let s = match session.take() {
                            Some(s) if !s.broken => s,
                            broken => {
                                if let Some(b) = broken {
                                    self.give(b);
                                }
                                match self.take() {
                                    Ok(s) => s,
                                    Err(e) => {
                                        errors.lock().unwrap().push(format!("{e:#}"));
                                        break;
                                    }
                                }
                            }
                        };
                        let s = session.insert(s);
                        let i = next.fetch_add(1, Ordering::SeqCst);
                        if i >= items.len() {
                            break;
                        }
                        f(s, &mut state, &items[i]);
                    }
                    end(session.as_mut(), &mut state);
                    if let Some(s) = session {
                        self.give(s);
                    }
                });
            }
        });
        let done = next.load(Ordering::SeqCst).min(items.len());
        BatchOutcome {
            unattempted: (done..items.len()).collect(),
            session_errors: errors.into_inner().unwrap(),
        }
    }

    /// Logs out of every idle session.
    pub fn close(&self) {
        let sessions = std::mem::take(&mut *self.idle.lock().unwrap_or_else(|p| p.into_inner()));
        Session::quit_all(sessions);
    }
}

/// Joins a login directory and a relative URL path.
pub fn join_remote(home: &str, rel: &str) -> String {
    let rel = rel.trim_matches('/');
    match (home.trim_end_matches('/'), rel) {
        ("", "") => "/".to_string(),
        (h, "") => h.to_string(),
        (h, r) => format!("{h}/{r}"),
    }
}

#[cfg(test)]
mod tests {
    use super::join_remote;

    #[test]
    fn joins() {
        assert_eq!(join_remote("/", "www"), "/www");
        assert_eq!(join_remote("/home/u", "www/"), "/home/u/www");
        assert_eq!(join_remote("/home/u/", ""), "/home/u");
        assert_eq!(join_remote("/", ""), "/");
    }
}
