//! Several commands in one write and their replies read in order: one round trip for all.
//! RFC 959 has the server read the control connection as a stream, so a client may send a
//! command before the previous reply; each reply still answers its own command.
//!
//! suppaftp has no API for this and keeps a TLS control stream to itself, so this works on
//! plain-text control connections only, on the socket itself, between suppaftp's commands.
//! That is safe while suppaftp's reply buffer is empty, which holds because a server only
//! speaks when spoken to: [`Replies::clear`] says whether anything came beyond the replies
//! read, and a session where something did is retired.

use std::io::{self, Read, Write};
use std::net::TcpStream;

use suppaftp::types::Response;
use suppaftp::{FtpError, FtpResult, Status};

/// The longest reply accepted, lines included; longer is a broken or hostile server.
const MAX_REPLY: usize = 64 * 1024;

/// Writes `lines` as commands in one write: CRLF-terminated, Telnet IAC doubled. A line with
/// CR or LF is refused: it would smuggle in another command.
/// suppaftp's trace target: `-vv` and `RUST_LOG=suppaftp=trace` then show every command
/// and reply in one stream, whichever of the two sent or read it.
const TRACE: &str = "suppaftp::sync_ftp::control";

pub fn send(mut sock: &TcpStream, lines: &[String]) -> FtpResult<()> {
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
    sock.write_all(&out).map_err(FtpError::ConnectionError)
}

/// Reads replies off the control socket, keeping what arrived beyond the last one read.
#[derive(Debug, Default)]
pub struct Replies {
    buf: Vec<u8>,
}

impl Replies {
    /// Whether nothing arrived beyond the replies read: only then may suppaftp read again.
    pub fn clear(&self) -> bool {
        self.buf.is_empty()
    }

    /// The next `n` replies, in order, whatever their codes.
    pub fn read(&mut self, sock: &TcpStream, n: usize) -> FtpResult<Vec<Response>> {
        (0..n).map(|_| self.reply(sock)).collect()
    }

    /// One reply: a line `ddd text`, or `ddd-` lines up to the line `ddd text` (RFC 959 4.2).
    fn reply(&mut self, sock: &TcpStream) -> FtpResult<Response> {
        let first = self.line(sock, 0)?;
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
                let line = self.line(sock, body.len())?;
                body.extend_from_slice(&line);
                if line.len() >= 4 && line[..3] == first[..3] && line[3] == b' ' {
                    break;
                }
            }
        }
        log::trace!(target: TRACE, "CC IN: {}", String::from_utf8_lossy(&body).trim_end());
        Ok(Response::new(Status::from(code), body))
    }

    /// One line, with its line break; `so_far` bytes of the same reply were read already.
    fn line(&mut self, mut sock: &TcpStream, so_far: usize) -> FtpResult<Vec<u8>> {
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
            let n = sock.read(&mut chunk).map_err(FtpError::ConnectionError)?;
            if n == 0 {
                return Err(FtpError::ConnectionError(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "connection closed before the reply",
                )));
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

/// A reply's code as the server sent it (suppaftp's `Status` knows only the common ones).
pub fn code(r: &Response) -> u32 {
    std::str::from_utf8(r.body.get(..3).unwrap_or_default())
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

/// `Ok` when the reply's code is one of `expected`, else the refusal as suppaftp reports it.
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

    /// A socket pair on loopback: what the server writes, the client reads.
    fn pair(server_says: &'static [u8]) -> (TcpStream, std::thread::JoinHandle<Vec<u8>>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let h = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            s.write_all(server_says).unwrap();
            let mut got = vec![0u8; 256];
            let n = s.read(&mut got).unwrap();
            got.truncate(n);
            got
        });
        (TcpStream::connect(addr).unwrap(), h)
    }

    #[test]
    fn reads_single_and_multi_line_replies_in_order() {
        let (s, h) = pair(b"213 ok\r\n350-wait\r\n 213 not the end\r\n350 go on\r\n250 done\r\n");
        send(&s, &["MFMT 1 a".into(), "RNFR a".into(), "RNTO b".into()]).unwrap();
        let mut r = Replies::default();
        let got = r.read(&s, 3).unwrap();
        let codes: Vec<u32> = got.iter().map(code).collect();
        assert_eq!(codes, [213, 350, 250]);
        assert!(String::from_utf8_lossy(&got[1].body).contains("not the end"));
        assert!(r.clear());
        assert_eq!(h.join().unwrap(), b"MFMT 1 a\r\nRNFR a\r\nRNTO b\r\n");
    }

    #[test]
    fn extra_bytes_are_noticed_and_garbage_is_refused() {
        let (s, _h) = pair(b"200 ok\r\n201 unasked\r\n");
        // Both lines are in by now: the second is kept, and suppaftp may not read next.
        std::thread::sleep(std::time::Duration::from_millis(100));
        let mut r = Replies::default();
        assert_eq!(code(&r.read(&s, 1).unwrap()[0]), 200);
        assert!(!r.clear());
        assert_eq!(code(&r.read(&s, 1).unwrap()[0]), 201);
        assert!(r.clear());
        let (s, _h) = pair(b"hello\r\n");
        assert!(matches!(
            Replies::default().read(&s, 1),
            Err(FtpError::BadResponse)
        ));
    }

    #[test]
    fn refuses_line_breaks_and_doubles_iac() {
        let (s, h) = pair(b"");
        assert!(send(&s, &["DELE a\r\nDELE b".into()]).is_err());
        send(&s, &["DELE \u{ff}".into()]).unwrap();
        // U+00FF is C3 BF in UTF-8: no raw 0xFF byte to double.
        assert_eq!(h.join().unwrap(), "DELE \u{ff}\r\n".as_bytes());
        assert!(expect(Response::new(Status::from(550), vec![]), &[250]).is_err());
    }
}
