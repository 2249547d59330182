//! Data connections: where a passive reply points, connecting there, listening for an active
//! one, and TLS on top after `PROT P` (resuming the control connection's TLS session, since
//! every connection shares the run's one client configuration).

use std::io::{self, Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::ClientConfig;
use suppaftp::types::Response;
use suppaftp::{FtpError, FtpResult};

use super::control::TlsStream;

/// TLS for data connections: the run's configuration and the host name to check.
#[derive(Clone)]
pub struct DataTls {
    pub config: Arc<ClientConfig>,
    pub host: String,
}

/// One data connection. Over TLS the ClientHello goes out as soon as the connection is
/// made, but the handshake is finished only once the server has taken the command (its
/// 150): some servers answer the handshake only then, and a refused command must not leave
/// us waiting on one.
pub enum Data {
    Plain(TcpStream),
    /// Connected, ClientHello sent, the rest of the handshake still to come.
    Pending(Box<TlsStream>),
    Tls(Box<TlsStream>),
}

impl Data {
    pub fn new(sock: TcpStream, tls: Option<&DataTls>, timeout: Duration) -> io::Result<Data> {
        sock.set_read_timeout(Some(timeout))?;
        sock.set_write_timeout(Some(timeout))?;
        sock.set_nodelay(true)?;
        let Some(t) = tls else {
            return Ok(Data::Plain(sock));
        };
        let name = rustls_pki_types::ServerName::try_from(t.host.clone())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let conn =
            rustls::ClientConnection::new(t.config.clone(), name).map_err(io::Error::other)?;
        let mut tls = rustls::StreamOwned::new(conn, sock);
        while tls.conn.wants_write() {
            tls.conn.write_tls(&mut tls.sock)?;
        }
        Ok(Data::Pending(Box::new(tls)))
    }

    /// Finishes the TLS handshake where one is due; nothing for a plain connection.
    pub fn start(self) -> io::Result<Data> {
        match self {
            Data::Pending(mut t) => {
                while t.conn.is_handshaking() {
                    t.conn.complete_io(&mut t.sock)?;
                }
                Ok(Data::Tls(t))
            }
            other => Ok(other),
        }
    }

    /// Whether this is TLS 1.3, where [`Data::goodbye_early`] closes our side alone (RFC
    /// 8446, 6.1). Not TLS 1.2, where a goodbye asks the other side to stop sending.
    pub fn tls13(&self) -> bool {
        matches!(self, Data::Tls(t) if t.conn.protocol_version() == Some(rustls::ProtocolVersion::TLSv1_3))
    }

    /// Says TLS goodbye now, on a TLS 1.3 connection we only read from ([`Data::tls13`]):
    /// a server that waits for our goodbye before it answers 226 (pure-ftpd) finds it
    /// already there.
    pub fn goodbye_early(&mut self) -> io::Result<()> {
        if let Data::Tls(t) = self {
            t.conn.send_close_notify();
            t.flush()?;
        }
        Ok(())
    }

    fn socket(&self) -> &TcpStream {
        match self {
            Data::Plain(s) => s,
            Data::Pending(t) | Data::Tls(t) => &t.sock,
        }
    }

    /// The end of an upload: TLS says goodbye, then our side closes, which tells the server
    /// the file is whole. Over TLS, what the server sent is then read up to its own goodbye:
    /// under TLS 1.3 that holds the session ticket the next data connection resumes with
    /// (tickets are used once, and a server such as vsftpd with require_ssl_reuse refuses a
    /// data connection that does not resume).
    pub fn finish(mut self) -> io::Result<()> {
        if let Data::Tls(t) = &mut self {
            t.conn.send_close_notify();
            t.flush()?;
        }
        self.socket().shutdown(Shutdown::Write)?;
        if let Data::Tls(t) = &mut self {
            // A server that keeps its side open until ours is gone costs a moment, not a
            // whole timeout.
            let _ = t.sock.set_read_timeout(Some(Duration::from_secs(2)));
            let mut sink = [0u8; 4096];
            // Errors here (a reset, no close_notify) change nothing about the upload: its
            // bytes are all sent, and the server's reply tells how it went.
            while matches!(t.read(&mut sink), Ok(n) if n > 0) {}
        }
        Ok(())
    }

    /// Gives up on a transfer: the server sees a reset, never a clean end of a file.
    pub fn abort(self) {
        let _ = socket2::SockRef::from(self.socket()).set_linger(Some(Duration::ZERO));
        let _ = self.socket().shutdown(Shutdown::Both);
    }
}

impl Read for Data {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Data::Plain(s) => s.read(buf),
            Data::Pending(..) => Err(io::Error::other("TLS not started on the data connection")),
            // A server that closes the socket without TLS's close_notify: the end of the
            // data all the same; sizes and the final reply are checked by the caller.
            Data::Tls(t) => {
                quick_ack(&t.sock);
                match t.read(buf) {
                    Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(0),
                    other => other,
                }
            }
        }
    }
}

/// Acknowledges what arrives at once rather than up to 40 ms later. After the TLS
/// handshake's back and forth, Linux delays its ACKs (hoping to send them with data we never
/// send), while a server that leaves Nagle on for its data connections (pure-ftpd) holds its
/// close_notify until the data before it is acknowledged: measured, that is 40 ms on every
/// listing and download over FTPS, about two round trips at 20 ms. Reset by the kernel, so
/// set before each read.
fn quick_ack(sock: &TcpStream) {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let _ = socket2::SockRef::from(sock).set_tcp_quickack(true);
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let _ = sock;
}

impl Write for Data {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Data::Plain(s) => s.write(buf),
            Data::Pending(..) => Err(io::Error::other("TLS not started on the data connection")),
            Data::Tls(t) => t.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Data::Plain(s) => s.flush(),
            Data::Pending(..) => Ok(()),
            Data::Tls(t) => t.flush(),
        }
    }
}

/// The port in a 229 reply: "229 Entering Extended Passive Mode (|||6446|)" (RFC 2428).
pub fn epsv_port(r: &Response) -> FtpResult<u16> {
    let text = String::from_utf8_lossy(&r.body);
    let inner = text
        .split_once('(')
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(inner, _)| inner)
        .ok_or_else(|| FtpError::UnexpectedResponse(r.clone()))?;
    let delim = inner.chars().next().ok_or(FtpError::BadResponse)?;
    inner
        .split(delim)
        .nth(3)
        .and_then(|p| p.parse::<u16>().ok())
        .filter(|&p| p != 0)
        .ok_or_else(|| FtpError::UnexpectedResponse(r.clone()))
}

/// The address in a 227 reply: "227 Entering Passive Mode (h1,h2,h3,h4,p1,p2)" (RFC 959);
/// some servers leave the parentheses out.
pub fn pasv_addr(r: &Response) -> FtpResult<(IpAddr, u16)> {
    let text = String::from_utf8_lossy(&r.body);
    let bad = || FtpError::UnexpectedResponse(r.clone());
    let digits = text
        .get(4..)
        .ok_or_else(bad)?
        .trim_start_matches(|c: char| !c.is_ascii_digit());
    let n: Vec<u8> = digits
        .split(|c: char| !c.is_ascii_digit())
        .take(6)
        .map(|p| p.parse::<u8>())
        .collect::<Result<_, _>>()
        .map_err(|_| bad())?;
    if n.len() != 6 {
        return Err(bad());
    }
    let ip = IpAddr::from([n[0], n[1], n[2], n[3]]);
    let port = u16::from(n[4]) << 8 | u16::from(n[5]);
    if port == 0 {
        return Err(bad());
    }
    Ok((ip, port))
}

/// Connects to a passive port of the server, with the session's timeout.
pub fn connect(ip: IpAddr, port: u16, timeout: Duration) -> FtpResult<TcpStream> {
    TcpStream::connect_timeout(&SocketAddr::new(ip, port), timeout)
        .map_err(FtpError::ConnectionError)
}

/// Active mode: a listener on the control connection's local address, and the command that
/// tells the server where it is (PORT on IPv4, EPRT on IPv6, RFC 2428).
pub fn listen(local: IpAddr) -> FtpResult<(TcpListener, String)> {
    let l = TcpListener::bind((local, 0)).map_err(FtpError::ConnectionError)?;
    let port = l.local_addr().map_err(FtpError::ConnectionError)?.port();
    let cmd = match local {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            format!(
                "PORT {},{},{},{},{},{}",
                o[0],
                o[1],
                o[2],
                o[3],
                port >> 8,
                port & 255
            )
        }
        IpAddr::V6(v6) => format!("EPRT |2|{v6}|{port}|"),
    };
    Ok((l, cmd))
}

/// The server's connection to our listener, within `timeout`. Only the server itself may
/// connect: a connection from any other address is closed and waited past.
pub fn accept(l: &TcpListener, server: IpAddr, timeout: Duration) -> FtpResult<TcpStream> {
    l.set_nonblocking(true).map_err(FtpError::ConnectionError)?;
    let deadline = Instant::now() + timeout;
    loop {
        match l.accept() {
            Ok((s, from)) if from.ip() == server => {
                s.set_nonblocking(false)
                    .map_err(FtpError::ConnectionError)?;
                return Ok(s);
            }
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(FtpError::ConnectionError(e)),
        }
        if Instant::now() >= deadline || crate::interrupt::requested() {
            return Err(FtpError::ConnectionError(io::Error::new(
                io::ErrorKind::TimedOut,
                "the server did not connect back for the active data connection",
            )));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use suppaftp::Status;

    fn reply(text: &str) -> Response {
        Response::new(Status::from(0), text.as_bytes().to_vec())
    }

    /// Before each read of a TLS data connection the socket is told to ACK at once (see
    /// `quick_ack`); over TLS to pure-ftpd on loopback this took a no-change push of 41
    /// directories from 0.52 s to 0.04 s.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_data_socket_acknowledges_at_once() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let sock = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let _peer = l.accept().unwrap();
        let opt = || socket2::SockRef::from(&sock).tcp_quickack().unwrap();
        socket2::SockRef::from(&sock)
            .set_tcp_quickack(false)
            .unwrap();
        assert!(!opt());
        quick_ack(&sock);
        assert!(opt());
    }

    #[test]
    fn passive_replies_parse() {
        assert_eq!(
            epsv_port(&reply("229 Extended (|||6446|)\r\n")).unwrap(),
            6446
        );
        assert!(epsv_port(&reply("229 Extended (|||0|)\r\n")).is_err());
        assert!(epsv_port(&reply("229 nothing\r\n")).is_err());
        let (ip, port) =
            pasv_addr(&reply("227 Entering Passive Mode (127,0,0,2,4,1)\r\n")).unwrap();
        assert_eq!((ip, port), (IpAddr::from([127, 0, 0, 2]), 1025));
        assert_eq!(pasv_addr(&reply("227 =10,1,2,3,0,21\r\n")).unwrap().1, 21);
        assert!(pasv_addr(&reply("227 (1,2,3)\r\n")).is_err());
        assert!(pasv_addr(&reply("227 (1,2,3,4,300,1)\r\n")).is_err());
    }

    #[test]
    fn active_commands_name_our_side() {
        let (_l, cmd) = listen(IpAddr::from([127, 0, 0, 1])).unwrap();
        assert!(cmd.starts_with("PORT 127,0,0,1,"), "{cmd}");
    }
}
