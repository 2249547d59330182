//! The control connection, plain or TLS, in our own hands: several commands can go out in one
//! write and their replies be read back in order on either kind (RFC 959 4.2 replies, RFC 4217
//! TLS), each whole reply bounded by the watchdog.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use rustls::ClientConfig;
use rustls_pki_types::ServerName;
use suppaftp::types::Response;
use suppaftp::{FtpError, FtpResult, Status};

use crate::remote::watchdog::{Fired, Guard, Handle};

/// The log target of the protocol trace: `-vv`, or `RUST_LOG=ftpmirror::ftp=trace`.
pub const TRACE: &str = "ftpmirror::ftp";

/// The longest reply accepted, lines included; longer is a broken or hostile server.
const MAX_REPLY: usize = 64 * 1024;

/// A TLS stream over a socket, client side: the control connection after AUTH TLS (or from
/// the start, implicit FTPS), and data connections after PROT P.
pub type TlsStream = rustls::StreamOwned<rustls::ClientConnection, TcpStream>;

/// Starts TLS on `socket` for `host` and finishes the handshake, so that a certificate
/// problem shows here rather than at the first command.
pub fn tls_client(
    socket: TcpStream,
    config: &Arc<ClientConfig>,
    host: &str,
) -> io::Result<TlsStream> {
    let name = ServerName::try_from(host.to_string())
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let conn = rustls::ClientConnection::new(config.clone(), name).map_err(io::Error::other)?;
    let mut tls = rustls::StreamOwned::new(conn, socket);
    while tls.conn.is_handshaking() {
        tls.conn.complete_io(&mut tls.sock)?;
    }
    Ok(tls)
}

enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream>),
    /// Between the two, while AUTH TLS is being set up.
    Gone,
}

pub struct Control {
    stream: Stream,
    /// A clone of the socket: its timeouts and addresses, and what the watchdog shuts down.
    socket: TcpStream,
    guard: Guard,
    timeout: Duration,
    /// Bytes read past the last reply returned.
    buf: Vec<u8>,
}

impl Control {
    /// Takes a connected socket; its read and write timeouts are already set.
    pub fn new(socket: TcpStream, timeout: Duration) -> io::Result<Control> {
        let clone = socket.try_clone()?;
        Ok(Control {
            guard: Guard::register(socket.try_clone()?),
            stream: Stream::Plain(socket),
            socket: clone,
            timeout,
            buf: Vec::new(),
        })
    }

    /// Switches to TLS (after `AUTH TLS`, or at once for implicit FTPS). Anything the server
    /// sent before is dropped: it was not protected.
    pub fn secure(&mut self, config: &Arc<ClientConfig>, host: &str) -> FtpResult<()> {
        let Stream::Plain(sock) = std::mem::replace(&mut self.stream, Stream::Gone) else {
            return Err(FtpError::ConnectionError(io::Error::other(
                "TLS is already on",
            )));
        };
        self.buf.clear();
        let tls = watch(self.guard.handle(), self.timeout, || {
            tls_client(sock, config, host).map_err(FtpError::ConnectionError)
        })?;
        self.stream = Stream::Tls(Box::new(tls));
        Ok(())
    }

    pub fn local(&self) -> io::Result<SocketAddr> {
        self.socket.local_addr()
    }

    /// Whether bytes arrived beyond the replies read: the next reply would answer the wrong
    /// command.
    pub fn pending(&self) -> bool {
        !self.buf.is_empty()
    }

    /// Runs `f` with the whole exchange bounded by the timeout (see [`watch`]).
    pub fn bounded<T>(&mut self, f: impl FnOnce(&mut Self) -> FtpResult<T>) -> FtpResult<T> {
        watch(self.guard.handle(), self.timeout, || f(self))
    }

    /// Sends `lines` in one write: CRLF-terminated, Telnet IAC doubled. A line with CR or LF
    /// is refused: it would smuggle in another command.
    pub fn send(&mut self, lines: &[String]) -> FtpResult<()> {
        let mut out = Vec::new();
        for line in lines {
            if line.contains(['\r', '\n']) {
                return Err(FtpError::ConnectionError(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "FTP command must not contain CR or LF",
                )));
            }
            for &b in line.as_bytes() {
                out.push(b);
                if b == 0xFF {
                    out.push(0xFF);
                }
            }
            out.extend_from_slice(b"\r\n");
            log::trace!(target: TRACE, "CC OUT: {line}");
        }
        let w = match &mut self.stream {
            Stream::Plain(s) => s.write_all(&out).and_then(|()| s.flush()),
            Stream::Tls(s) => s.write_all(&out).and_then(|()| s.flush()),
            Stream::Gone => Err(io::Error::from(io::ErrorKind::NotConnected)),
        };
        w.map_err(FtpError::ConnectionError)
    }

    /// The next reply: a line `ddd text`, or `ddd-` lines up to the line `ddd text`.
    pub fn read(&mut self) -> FtpResult<Response> {
        let first = self.line(0)?;
        if first.len() < 4 || !first[..3].iter().all(u8::is_ascii_digit) {
            return Err(FtpError::BadResponse);
        }
        let code: u32 = std::str::from_utf8(&first[..3])
            .ok()
            .and_then(|c| c.parse().ok())
            .ok_or(FtpError::BadResponse)?;
        let mut body = first.clone();
        if first[3] == b'-' {
            loop {
                let line = self.line(body.len())?;
                body.extend_from_slice(&line);
                if line.len() >= 4 && line[..3] == first[..3] && line[3] == b' ' {
                    break;
                }
            }
        }
        log::trace!(target: TRACE, "CC IN: {}", String::from_utf8_lossy(&body).trim_end());
        Ok(Response::new(Status::from(code), body))
    }

    /// Sends `lines` (maybe none) in one write and reads `n` replies, whatever their codes,
    /// all under one deadline.
    pub fn exchange(&mut self, lines: &[String], n: usize) -> FtpResult<Vec<Response>> {
        self.bounded(|c| {
            if !lines.is_empty() {
                c.send(lines)?;
            }
            (0..n).map(|_| c.read()).collect()
        })
    }

    /// One command, one reply, which must be one of `expected`.
    pub fn command(&mut self, line: impl Into<String>, expected: &[u32]) -> FtpResult<Response> {
        let mut r = self.exchange(&[line.into()], 1)?;
        expect(r.remove(0), expected)
    }

    /// One line, with its line break; `so_far` bytes of the same reply were read already.
    fn line(&mut self, so_far: usize) -> FtpResult<Vec<u8>> {
        loop {
            if let Some(i) = self.buf.iter().position(|&b| b == b'\n') {
                return Ok(self.buf.drain(..=i).collect());
            }
            if so_far + self.buf.len() > MAX_REPLY {
                return Err(FtpError::ConnectionError(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "reply too long",
                )));
            }
            let mut chunk = [0u8; 4096];
            let n = match &mut self.stream {
                Stream::Plain(s) => s.read(&mut chunk),
                Stream::Tls(s) => s.read(&mut chunk),
                Stream::Gone => Err(io::Error::from(io::ErrorKind::NotConnected)),
            }
            .map_err(FtpError::ConnectionError)?;
            if n == 0 {
                return Err(FtpError::ConnectionError(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "connection closed before the reply",
                )));
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// The socket, for reading replies that may or may not still come (letting go of a
    /// listing): a shorter read timeout than the session's.
    pub fn set_read_timeout(&self, t: Duration) {
        let _ = self.socket.set_read_timeout(Some(t));
    }

    /// Ends the connection: TLS says goodbye first.
    pub fn close(mut self) {
        if let Stream::Tls(s) = &mut self.stream {
            s.conn.send_close_notify();
            let _ = s.flush();
        }
        let _ = self.socket.shutdown(Shutdown::Both);
    }
}

/// Runs `f` with the whole reply bounded by `timeout`. A socket the watchdog shut down reads
/// as a timeout or an interruption, whatever `f` made of the closed connection.
pub fn watch<T>(
    guard: Handle,
    timeout: Duration,
    f: impl FnOnce() -> FtpResult<T>,
) -> FtpResult<T> {
    guard.arm(timeout);
    let r = f();
    guard.disarm();
    match guard.fired() {
        Some(Fired::Deadline) => Err(FtpError::ConnectionError(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("no complete reply within {} s", timeout.as_secs_f64()),
        ))),
        Some(Fired::Interrupt) => Err(FtpError::ConnectionError(io::Error::new(
            io::ErrorKind::Interrupted,
            "interrupted",
        ))),
        None => r,
    }
}

/// A reply's code as the server sent it (suppaftp's `Status` knows only the common ones).
pub fn code(r: &Response) -> u32 {
    std::str::from_utf8(r.body.get(..3).unwrap_or_default())
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

/// `Ok` when the reply's code is one of `expected`, else the refusal.
pub fn expect(r: Response, expected: &[u32]) -> FtpResult<Response> {
    if expected.contains(&code(&r)) {
        Ok(r)
    } else {
        Err(FtpError::UnexpectedResponse(r))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    /// A socket pair on loopback: what the server writes, the client reads. Returns once
    /// the server has written it all.
    fn pair(server_says: &'static [u8]) -> (Control, std::thread::JoinHandle<Vec<u8>>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let (written, wait) = std::sync::mpsc::channel();
        let h = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            s.write_all(server_says).unwrap();
            written.send(()).unwrap();
            let mut got = vec![0u8; 256];
            let n = s.read(&mut got).unwrap();
            got.truncate(n);
            got
        });
        let s = TcpStream::connect(addr).unwrap();
        let c = Control::new(s, Duration::from_secs(5)).unwrap();
        wait.recv().unwrap();
        (c, h)
    }

    #[test]
    fn reads_single_and_multi_line_replies_in_order() {
        let (mut c, h) =
            pair(b"213 ok\r\n350-wait\r\n 213 not the end\r\n350 go on\r\n250 done\r\n");
        let got = c
            .exchange(&["MFMT 1 a".into(), "RNFR a".into(), "RNTO b".into()], 3)
            .unwrap();
        let codes: Vec<u32> = got.iter().map(code).collect();
        assert_eq!(codes, [213, 350, 250]);
        assert!(String::from_utf8_lossy(&got[1].body).contains("not the end"));
        assert!(!c.pending());
        assert_eq!(h.join().unwrap(), b"MFMT 1 a\r\nRNFR a\r\nRNTO b\r\n");
    }

    #[test]
    fn extra_bytes_are_noticed_and_garbage_is_refused() {
        let (mut c, _h) = pair(b"200 ok\r\n201 unasked\r\n");
        // Both lines are in: one read takes both, the second is kept, and noticed.
        assert_eq!(code(&c.read().unwrap()), 200);
        assert!(c.pending());
        assert_eq!(code(&c.read().unwrap()), 201);
        assert!(!c.pending());
        let (mut c, _h) = pair(b"hello\r\n");
        assert!(matches!(c.read(), Err(FtpError::BadResponse)));
    }

    #[test]
    fn refuses_line_breaks_and_doubles_iac() {
        let (mut c, h) = pair(b"");
        assert!(c.send(&["DELE a\r\nDELE b".into()]).is_err());
        c.send(&["DELE \u{ff}".into()]).unwrap();
        // U+00FF is C3 BF in UTF-8: no raw 0xFF byte to double.
        assert_eq!(h.join().unwrap(), "DELE \u{ff}\r\n".as_bytes());
        assert!(expect(Response::new(Status::from(550), vec![]), &[250]).is_err());
    }
}
