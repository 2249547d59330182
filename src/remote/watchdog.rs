//! Bounds whole replies and unblocks sessions on Ctrl-C.
//!
//! Socket timeouts bound each read, not a reply: a server trickling a multi-line reply one byte
//! a second would never time out, and a read blocked on the control connection does not notice
//! a signal. Each session registers its control socket here and arms a deadline around every
//! command; one thread shuts down the socket of any session past its deadline, and of every
//! session once a stop was asked for. The blocked read then fails and the session is dropped.

use std::collections::HashMap;
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::interrupt;

const TICK: Duration = Duration::from_millis(50);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fired {
    Deadline,
    Interrupt,
}

struct Entry {
    socket: TcpStream,
    deadline: Option<Instant>,
    fired: Option<Fired>,
}

#[derive(Default)]
struct Registry {
    entries: Mutex<HashMap<u64, Entry>>,
    next: AtomicU64,
}

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        std::thread::Builder::new()
            .name("ftpmirror-watchdog".into())
            .spawn(watch)
            .expect("spawn the watchdog thread");
        Registry::default()
    })
}

fn watch() {
    loop {
        std::thread::sleep(TICK);
        let stop = interrupt::requested();
        let now = Instant::now();
        let mut entries = registry().entries.lock().unwrap_or_else(|p| p.into_inner());
        for e in entries.values_mut().filter(|e| e.fired.is_none()) {
            let why = if stop {
                Some(Fired::Interrupt)
            } else if e.deadline.is_some_and(|d| now >= d) {
                Some(Fired::Deadline)
            } else {
                None
            };
            if let Some(why) = why {
                let _ = e.socket.shutdown(Shutdown::Both);
                e.fired = Some(why);
            }
        }
    }
}

/// A session's registration; dropping it unregisters the socket.
#[derive(Debug)]
pub struct Guard {
    id: u64,
}

impl Guard {
    /// Watches `socket` (a clone of the control connection).
    pub fn register(socket: TcpStream) -> Guard {
        let r = registry();
        let id = r.next.fetch_add(1, Ordering::SeqCst);
        let entry = Entry {
            socket,
            deadline: None,
            fired: None,
        };
        r.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, entry);
        Guard { id }
    }

    /// A handle on this registration, for arming it while the guard itself is borrowed.
    pub fn handle(&self) -> Handle {
        Handle { id: self.id }
    }
}

/// What a [`Guard`] does, without owning the registration.
#[derive(Debug, Clone, Copy)]
pub struct Handle {
    id: u64,
}

impl Handle {
    fn with<T>(&self, f: impl FnOnce(&mut Entry) -> T) -> Option<T> {
        let mut entries = registry().entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.get_mut(&self.id).map(f)
    }

    /// The next reply must be complete within `timeout`.
    pub fn arm(&self, timeout: Duration) {
        self.with(|e| e.deadline = Some(Instant::now() + timeout));
    }

    pub fn disarm(&self) {
        self.with(|e| e.deadline = None);
    }

    /// Whether, and why, this session's socket was shut down.
    pub fn fired(&self) -> Option<Fired> {
        self.with(|e| e.fired).flatten()
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        registry()
            .entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::net::TcpListener;

    #[test]
    fn a_deadline_unblocks_a_read_that_gets_no_complete_reply() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (_server, _) = listener.accept().unwrap();
        let guard = Guard::register(client.try_clone().unwrap());
        guard.handle().arm(Duration::from_millis(200));
        let started = Instant::now();
        let n = client.read(&mut [0u8; 16]).unwrap_or(0);
        assert_eq!(n, 0, "the read ends when the socket is shut down");
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(guard.handle().fired(), Some(Fired::Deadline));
    }
}
