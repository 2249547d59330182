//! A delay-line TCP proxy, because this machine has no netem: it listens on the announce
//! address (127.0.0.2) on the server's control port and every passive port, connects each
//! client to the same port on 127.0.0.1, and holds every chunk of bytes for RTT/2 in each
//! direction. The server announces 127.0.0.2 in PASV replies, so control and data connections
//! of every client pay the same round trips. It also counts the commands clients send.
//!
//! Not emulated: the TCP handshake's own round trip (the proxy accepts at once) and any
//! bandwidth limit. Both are the same for every client.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

pub const LISTEN: &str = "127.0.0.2";
const UPSTREAM: &str = "127.0.0.1";

pub struct Proxy {
    stop: Arc<AtomicBool>,
    ports: Vec<u16>,
    /// Commands seen on control connections, by verb.
    counts: Arc<Mutex<BTreeMap<String, u64>>>,
}

impl Proxy {
    /// Listens on `control` and every port in `passive` (inclusive), delaying each direction
    /// by `rtt / 2`.
    pub fn start(control: u16, passive: (u16, u16), rtt: Duration) -> std::io::Result<Proxy> {
        let stop = Arc::new(AtomicBool::new(false));
        let counts = Arc::new(Mutex::new(BTreeMap::new()));
        let ports: Vec<u16> = std::iter::once(control)
            .chain(passive.0..=passive.1)
            .collect();
        for &port in &ports {
            let listener = TcpListener::bind((LISTEN, port))?;
            let stop = stop.clone();
            let counts = (port == control).then(|| counts.clone());
            thread::spawn(move || {
                for client in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(client) = client else { continue };
                    let counts = counts.clone();
                    thread::spawn(move || {
                        if let Ok(server) = TcpStream::connect((UPSTREAM, port)) {
                            join(client, server, rtt / 2, counts);
                        }
                    });
                }
            });
        }
        Ok(Proxy {
            stop,
            ports,
            counts,
        })
    }

    /// The command counts since the last call, by verb; resets them.
    pub fn take_counts(&self) -> BTreeMap<String, u64> {
        std::mem::take(&mut *self.counts.lock().unwrap())
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for &port in &self.ports {
            let _ = TcpStream::connect((LISTEN, port));
        }
    }
}

/// Pumps both directions through delay lines until both sides have closed.
fn join(
    client: TcpStream,
    server: TcpStream,
    delay: Duration,
    counts: Option<Arc<Mutex<BTreeMap<String, u64>>>>,
) {
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (c2, s2) = match (client.try_clone(), server.try_clone()) {
        (Ok(c), Ok(s)) => (c, s),
        _ => return,
    };
    let up = thread::spawn(move || delay_line(client, server, delay, counts));
    delay_line(s2, c2, delay, None);
    let _ = up.join();
}

/// Reads `from` on one thread and writes each chunk to `to` `delay` after it arrived; an EOF
/// travels the same way, as a shutdown of `to`'s write side.
fn delay_line(
    mut from: TcpStream,
    mut to: TcpStream,
    delay: Duration,
    counts: Option<Arc<Mutex<BTreeMap<String, u64>>>>,
) {
    let (tx, rx) = mpsc::channel::<(Instant, Option<Vec<u8>>)>();
    let reader_side = from.try_clone();
    let writer = thread::spawn(move || {
        for (due, chunk) in rx {
            let now = Instant::now();
            if due > now {
                thread::sleep(due - now);
            }
            match chunk {
                Some(bytes) => {
                    if to.write_all(&bytes).is_err() {
                        // The receiver is gone: stop reading the sender too.
                        if let Ok(r) = &reader_side {
                            let _ = r.shutdown(Shutdown::Read);
                        }
                        let _ = to.shutdown(Shutdown::Both);
                        return;
                    }
                }
                None => {
                    let _ = to.shutdown(Shutdown::Write);
                    return;
                }
            }
        }
    });
    let mut line = Vec::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => 0,
            Ok(n) => n,
        };
        // The proxy ends the server's TCP connection, so its kernel's ACKs are the ones the
        // server waits on. FTPMIRROR_BENCH_QUICKACK=1 acknowledges at once, as a client does
        // that sets TCP_QUICKACK on its data connections (ftpmirror on Linux); without it,
        // the proxy delays ACKs as the kernel does by default.
        if std::env::var_os("FTPMIRROR_BENCH_QUICKACK").is_some() {
            let _ = socket2::SockRef::from(&from).set_tcp_quickack(true);
        }
        let due = Instant::now() + delay;
        if n == 0 {
            let _ = tx.send((due, None));
            break;
        }
        if let Some(counts) = &counts {
            count_commands(&mut line, &buf[..n], counts);
        }
        if tx.send((due, Some(buf[..n].to_vec()))).is_err() {
            break;
        }
    }
    let _ = writer.join();
}

/// Splits control-connection bytes into lines and counts each command's verb.
fn count_commands(line: &mut Vec<u8>, bytes: &[u8], counts: &Mutex<BTreeMap<String, u64>>) {
    for &b in bytes {
        if b == b'\n' {
            let text = String::from_utf8_lossy(line);
            let verb = text
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_ascii_uppercase();
            if !verb.is_empty() {
                *counts.lock().unwrap().entry(verb).or_insert(0) += 1;
            }
            line.clear();
        } else if line.len() < 64 {
            line.push(b);
        }
    }
}
