//! A pool of logged-in sessions shared by listing and transfer workers.
//!
//! Sessions are opened lazily, up to `max`, and handed back after each batch so the listing
//! phase's connections are reused for the transfers. A session whose control connection broke
//! is dropped and replaced on next use.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Result, anyhow};

use super::{Caps, Endpoint, Session};

pub struct Pool {
    ep: Endpoint,
    max: usize,
    /// The absolute remote directory the URL names.
    root: String,
    caps: Caps,
    idle: Mutex<Vec<Session>>,
    /// Sessions that exist (idle or in use).
    live: AtomicUsize,
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
    pub fn open(ep: Endpoint, max: usize) -> Result<Pool> {
        let mut first = Session::connect(&ep)?;
        let root = if ep.path.starts_with('/') {
            ep.path.clone()
        } else {
            let home = first.pwd()?;
            join_remote(&home, &ep.path)
        };
        let caps = first.caps.clone();
        Ok(Pool {
            ep,
            max: max.max(1),
            root,
            caps,
            idle: Mutex::new(vec![first]),
            live: AtomicUsize::new(1),
        })
    }

    pub fn root(&self) -> &str {
        &self.root
    }

    pub fn caps(&self) -> &Caps {
        &self.caps
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.ep
    }

    pub fn max(&self) -> usize {
        self.max
    }

    /// An idle session, or a new one while fewer than `max` exist.
    pub fn take(&self) -> Result<Session> {
        {
            let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(s) = idle.pop() {
                return Ok(s);
            }
            if self.live.load(Ordering::SeqCst) >= self.max {
                return Err(anyhow!("all {} sessions are in use", self.max));
            }
            self.live.fetch_add(1, Ordering::SeqCst);
        }
        Session::connect(&self.ep).inspect_err(|_| {
            self.live.fetch_sub(1, Ordering::SeqCst);
        })
    }

    /// Returns a session for reuse, or drops it if its connection broke.
    pub fn give(&self, s: Session) {
        if s.broken {
            self.live.fetch_sub(1, Ordering::SeqCst);
            return;
        }
        self.idle.lock().unwrap_or_else(|p| p.into_inner()).push(s);
    }

    /// Runs `f` over `items` on up to `max` sessions in parallel. Each worker keeps its session
    /// for many items; when one breaks it reconnects, and a worker that cannot get a session
    /// stops without claiming an item, so the others carry on with fewer connections.
    pub fn run<T: Sync>(&self, items: &[T], f: impl Fn(&mut Session, &T) + Sync) -> BatchOutcome {
        let next = AtomicUsize::new(0);
        let errors = Mutex::new(Vec::new());
        let workers = self.max.min(items.len());
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| {
                    let mut session: Option<Session> = None;
                    loop {
                        if next.load(Ordering::SeqCst) >= items.len() {
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
                        f(s, &items[i]);
                    }
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
        for s in sessions {
            s.quit();
        }
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
