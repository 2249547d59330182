//! A small FTP server on `std::net`, for server behaviour libunftp does not have: LIST only
//! (no MLSD), EPSV refused, a PASV reply naming another address, MFMT, `OPTS UTF8` answered
//! with 202, or no greeting at all. It keeps an in-memory tree and logs every command.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};

#[derive(Clone, Debug)]
pub enum Node {
    Dir,
    File { data: Vec<u8>, mtime: SystemTime },
}

#[derive(Clone, Debug)]
pub struct Behaviour {
    pub feat: Vec<&'static str>,
    pub epsv: bool,
    /// Never send the greeting: the client must time out.
    pub silent: bool,
    /// Listen on [::1] instead of 127.0.0.1.
    pub ipv6: bool,
    /// Open the data connection for LIST, send one line, then go silent.
    pub stall_list: bool,
    /// Answer RNFR with 502, as servers without rename support do.
    pub refuse_rename: bool,
    /// Faults, each counting down: the next N RETRs send half the file, close, and say 226.
    pub cut_retr: Arc<AtomicUsize>,
    /// The next N STORs read a little, reset the data connection, and say 426.
    pub cut_stor: Arc<AtomicUsize>,
    /// The next N LISTs send half the listing, reset the data connection, and say 226.
    pub reset_list: Arc<AtomicUsize>,
    /// Listings to let through before `reset_list` starts counting.
    pub reset_list_skip: Arc<AtomicUsize>,
    /// Connections beyond this many at once are greeted with 421 and closed.
    pub max_sessions: Option<usize>,
    /// A pause per 8 KiB of RETR/STOR data, to make transfers slow.
    pub data_delay: Duration,
    /// Answer FEAT with a never-ending multi-line reply, one byte every 100 ms.
    pub trickle_feat: bool,
    /// Where a cut RETR stops, as a fraction of the file.
    pub cut_fraction: f64,
    /// How many bytes a cut STOR takes (and keeps, as real servers do) before the reset.
    pub cut_stor_after: usize,
    /// Offer MLSD (FEAT MLST) and answer it from the tree.
    pub mlsd: bool,
    /// Raw lines added to the root directory's listing (LIST or MLSD), hostile ones included.
    pub extra_lines: Vec<String>,
    /// Implicit FTPS: TLS from the first byte, and on data connections after PROT P.
    pub implicit_tls: Option<Arc<rustls::ServerConfig>>,
    /// `MDTM YYYYMMDDHHMMSS path` sets the mtime, as vsftpd does with `mdtm_write=YES`.
    pub mdtm_write: bool,
    /// LIST shows times this many seconds ahead of UTC (a server in another time zone).
    pub list_offset: i64,
    /// An EPSV right after an RNTO (the client's next upload) is answered 425,
    /// as pure-ftpd does when the passive port it picked is still in use.
    pub busy_epsv_after_rename: bool,
    /// The next N EPSVs are answered 425, as above, once `busy_epsv_skip` more have passed.
    pub busy_epsv: Arc<AtomicUsize>,
    pub busy_epsv_skip: Arc<AtomicUsize>,
    /// Event-driven, as pyftpdlib: a new EPSV waiting behind a data command that has no
    /// data connection yet closes that command's passive port (the command is dropped).
    pub new_epsv_closes_port: bool,
    /// Event-driven, as pyftpdlib's `FTPServer`: a new EPSV arriving while a listing is
    /// being sent aborts it (`426`), part of it sent.
    pub new_epsv_aborts_listing: bool,
    /// After a 229, read no command until the data connection arrives; give up after this
    /// long with a late `550`, as some event-loop servers do.
    pub epsv_waits: Option<Duration>,
    /// Answer FEAT with 500, as old BSD-style daemons do; everything else still works.
    pub no_feat: bool,
    /// MLSD lines carry no `size` fact (some servers leave it out): SIZE must tell.
    pub mlsd_without_size: bool,
    /// LIST in OpenVMS style: `NAME;VERSION  blocks/blocks  DD-MON-YYYY HH:MM:SS  [OWNER]
    /// (PROTECTION)`, `NAME.DIR;1` for a directory, each file also listed at an older
    /// version, and long names with their columns on the next line.
    pub vms: bool,
    /// A SIZE that arrives in one write with the command before it is answered 500, as a
    /// server that takes one command at a time and drops the rest might.
    pub size_one_at_a_time: bool,
    /// HASH (SHA-256 once `OPTS HASH SHA-256` chose it; MD5 before) and XSHA256 answer with
    /// the digest of other bytes than the file holds, as a broken or lying server might.
    pub hash_lies: bool,
    /// HASH and XSHA256 answer `250` without a digest.
    pub hash_garbage: bool,
    /// HASH and XSHA256 answer `502`, though FEAT lists them (turned off in the config).
    pub hash_refused: bool,
    /// `SITE CHMOD mode path` records the mode of an existing file (`Scripted::mode`).
    pub site_chmod: bool,
    /// RNTO onto a file that exists is refused (550), as Windows servers (IIS) do.
    pub refuse_rename_over: bool,
    /// Names are found whatever their letter case, and keep the case they were made with,
    /// as on Windows servers.
    pub fold_case: bool,
    /// The SYST reply's text.
    pub syst: &'static str,
    /// The root's listing waits (up to 10 s) until this many sessions have logged in.
    pub hold_root_for_logins: usize,
    /// Whatever came in the same write as PASS is dropped unread, unanswered.
    pub forget_after_pass: bool,
    /// A TLS listing whose client says goodbye (close_notify) before the data is sent is
    /// aborted with 426: the server waits up to 2 s for it before sending.
    pub abort_on_early_goodbye: bool,
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour {
            feat: vec!["SIZE", "MDTM", "MFMT", "UTF8", "REST STREAM"],
            epsv: false,
            silent: false,
            ipv6: false,
            stall_list: false,
            refuse_rename: false,
            cut_retr: Arc::default(),
            cut_stor: Arc::default(),
            reset_list: Arc::default(),
            reset_list_skip: Arc::default(),
            max_sessions: None,
            data_delay: Duration::ZERO,
            trickle_feat: false,
            cut_fraction: 0.5,
            cut_stor_after: 1,
            mlsd: false,
            extra_lines: Vec::new(),
            implicit_tls: None,
            mdtm_write: false,
            list_offset: 0,
            mlsd_without_size: false,
            vms: false,
            size_one_at_a_time: false,
            hash_lies: false,
            hash_garbage: false,
            hash_refused: false,
            site_chmod: false,
            refuse_rename_over: false,
            fold_case: false,
            syst: "UNIX Type: L8",
            hold_root_for_logins: 0,
            forget_after_pass: false,
            abort_on_early_goodbye: false,
            busy_epsv_after_rename: false,
            busy_epsv: Arc::default(),
            busy_epsv_skip: Arc::default(),
            new_epsv_closes_port: false,
            new_epsv_aborts_listing: false,
            epsv_waits: None,
            no_feat: false,
        }
    }
}

/// Takes one from a fault counter; true if the fault should happen now.
fn fire(counter: &AtomicUsize) -> bool {
    counter
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}

/// Closes with a reset (RST) instead of an orderly FIN.
fn reset(stream: TcpStream) {
    let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
}

#[derive(Default)]
struct State {
    /// Absolute paths ("/a/b") to nodes; "/" is implicit.
    nodes: BTreeMap<String, Node>,
    log: Vec<String>,
    sessions: usize,
    /// RETR bytes sent and STOR bytes received, over all sessions.
    sent: usize,
    received: usize,
    /// Where in `log` commands arrived in the same read as the one before them: pipelined.
    along: Vec<usize>,
    /// Modes set by `SITE CHMOD` (with `Behaviour::site_chmod`), moved along by renames.
    modes: BTreeMap<String, u32>,
    /// Successful logins so far, and how many there were when a held root listing went on.
    logins: usize,
    logins_at_root: Option<usize>,
}

pub struct Scripted {
    pub port: u16,
    behaviour: Behaviour,
    host: &'static str,
    state: Arc<Mutex<State>>,
}

impl Scripted {
    pub fn start(behaviour: Behaviour) -> Scripted {
        let listener = TcpListener::bind(if behaviour.ipv6 {
            "[::1]:0"
        } else {
            "127.0.0.1:0"
        })
        .unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(State::default()));
        let (st, b0) = (state.clone(), behaviour.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { return };
                let (st, b) = (st.clone(), b0.clone());
                std::thread::spawn(move || {
                    let _ = serve(conn, st, b);
                });
            }
        });
        let host = if behaviour.ipv6 { "[::1]" } else { "127.0.0.1" };
        Scripted {
            port,
            behaviour,
            host,
            state,
        }
    }

    /// The server's fault counters, shared with it: arm one with `store(n)`.
    pub fn behaviour(&self) -> &Behaviour {
        &self.behaviour
    }

    pub fn url(&self) -> String {
        format!("ftp://user:pw@{}:{}/", self.host, self.port)
    }

    pub fn put_file(&self, path: &str, data: &[u8], mtime: SystemTime) {
        let mut st = self.state.lock().unwrap();
        let mut prefix = String::new();
        for part in path
            .trim_matches('/')
            .split('/')
            .collect::<Vec<_>>()
            .split_last()
            .unwrap()
            .1
        {
            prefix = format!("{prefix}/{part}");
            st.nodes.insert(prefix.clone(), Node::Dir);
        }
        st.nodes.insert(
            format!("/{}", path.trim_matches('/')),
            Node::File {
                data: data.to_vec(),
                mtime,
            },
        );
    }

    pub fn file(&self, path: &str) -> Option<(Vec<u8>, SystemTime)> {
        match self.state.lock().unwrap().nodes.get(path) {
            Some(Node::File { data, mtime }) => Some((data.clone(), *mtime)),
            _ => None,
        }
    }

    /// The mode `SITE CHMOD` gave the file at `path`, if any.
    pub fn mode(&self, path: &str) -> Option<u32> {
        self.state.lock().unwrap().modes.get(path).copied()
    }

    /// (RETR bytes sent, STOR bytes received) so far.
    pub fn traffic(&self) -> (usize, usize) {
        let st = self.state.lock().unwrap();
        (st.sent, st.received)
    }

    /// The places in [`Scripted::log`] of the commands that came in one write with the
    /// command before them.
    pub fn pipelined(&self) -> Vec<usize> {
        self.state.lock().unwrap().along.clone()
    }

    /// Whether every session has ended within `wait`: none left blocked waiting for a data
    /// connection the client will never open.
    pub fn all_sessions_end_within(&self, wait: Duration) -> bool {
        let deadline = std::time::Instant::now() + wait;
        while std::time::Instant::now() < deadline {
            if self.state.lock().unwrap().sessions == 0 {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// How many sessions had logged in when the root's listing, held for them
    /// (`Behaviour::hold_root_for_logins`), went on.
    pub fn logins_at_root(&self) -> Option<usize> {
        self.state.lock().unwrap().logins_at_root
    }

    /// Every command received, PASS included (the test checks what the client sent).
    pub fn log(&self) -> Vec<String> {
        self.state.lock().unwrap().log.clone()
    }
}

fn list_line(name: &str, node: &Node, offset: i64) -> String {
    let (kind, size, mtime) = match node {
        Node::Dir => ('d', 0, SystemTime::now()),
        Node::File { data, mtime } => ('-', data.len(), *mtime),
    };
    let t: DateTime<Utc> = DateTime::<Utc>::from(mtime) + chrono::Duration::seconds(offset);
    let recent = SystemTime::now()
        .duration_since(mtime)
        .map_or(true, |d| d < Duration::from_secs(180 * 86_400));
    let when = if recent {
        t.format("%b %d %H:%M").to_string()
    } else {
        t.format("%b %d  %Y").to_string()
    };
    format!("{kind}rw-r--r--    1 ftp      ftp      {size:>10} {when} {name}")
}

/// A control or data connection, plain or TLS.
trait Conn: Read + Write + Send {
    /// Ends the stream cleanly: TLS needs a close_notify before the socket closes.
    fn close(&mut self) {}
}

impl Conn for TcpStream {}

impl Conn for rustls::StreamOwned<rustls::ServerConnection, TcpStream> {
    fn close(&mut self) {
        self.conn.send_close_notify();
        let _ = self.flush();
    }
}

fn wrap(
    stream: TcpStream,
    tls: Option<&Arc<rustls::ServerConfig>>,
) -> std::io::Result<Box<dyn Conn>> {
    Ok(match tls {
        Some(cfg) => {
            let conn = rustls::ServerConnection::new(cfg.clone()).map_err(std::io::Error::other)?;
            Box::new(rustls::StreamOwned::new(conn, stream))
        }
        None => Box::new(stream),
    })
}

/// A server configuration for implicit FTPS from PEM files.
pub fn tls_config(cert: &std::path::Path, key: &std::path::Path) -> Arc<rustls::ServerConfig> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .unwrap()
        .map(|c| c.unwrap())
        .collect();
    let key = PrivateKeyDer::from_pem_file(key).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    Arc::new(cfg)
}

fn mlsd_line(name: &str, node: &Node, with_size: bool) -> String {
    match node {
        Node::Dir => format!("type=dir;modify=20240101000000; {name}"),
        Node::File { data, mtime } => {
            let t: DateTime<Utc> = (*mtime).into();
            let size = if with_size {
                format!("size={};", data.len())
            } else {
                String::new()
            };
            format!(
                "type=file;{size}modify={}; {name}",
                t.format("%Y%m%d%H%M%S")
            )
        }
    }
}

/// The lines of one entry of an OpenVMS listing: the current version, and for a file an
/// older version too (a mirror must take only the highest).
fn vms_lines(name: &str, node: &Node) -> String {
    let (name, blocks, mtime) = match node {
        Node::Dir => (format!("{name}.DIR;1"), 1, SystemTime::UNIX_EPOCH),
        Node::File { data, mtime } => (format!("{name};2"), data.len().div_ceil(512), *mtime),
    };
    let t = DateTime::<Utc>::from(mtime)
        .format("%-d-%b-%Y %H:%M:%S")
        .to_string()
        .to_uppercase();
    let columns = format!("{blocks}/{blocks}  {t}  [FTP,OWNER]  (RWED,RWED,RE,)");
    // Long names put their columns on a line of their own.
    let mut text = if name.len() > 18 {
        format!("{name}\r\n                    {columns}")
    } else {
        format!("{name:<20}{columns}")
    };
    if let Node::File { .. } = node {
        let old = name.replace(";2", ";1");
        text.push_str(&format!(
            "\r\n{old:<19} 1/1  1-JAN-2001 00:00:00  [FTP,OWNER]  (RWED,RWED,RE,)"
        ));
    }
    text
}

fn serve(conn: TcpStream, st: Arc<Mutex<State>>, b: Behaviour) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(30)))?;
    if b.silent {
        std::thread::sleep(Duration::from_secs(60));
        return Ok(());
    }
    let local_ip = conn.local_addr()?.ip();
    // For looking at what the client sent next without reading it (plain text only).
    let peek = conn.try_clone()?;
    let ctl = wrap(conn, b.implicit_tls.as_ref())?;
    let over = {
        let mut st = st.lock().unwrap();
        st.sessions += 1;
        b.max_sessions.is_some_and(|m| st.sessions > m)
    };
    struct Leave(Arc<Mutex<State>>);
    impl Drop for Leave {
        fn drop(&mut self) {
            self.0.lock().unwrap().sessions -= 1;
        }
    }
    let _leave = Leave(st.clone());
    let mut reader = BufReader::new(ctl);
    if over {
        reader
            .get_mut()
            .write_all(b"421 Too many connections, try again later\r\n")?;
        return Ok(());
    }
    let mut prot_p = false;
    let mut cwd = "/".to_string();
    let mut rename_from: Option<String> = None;
    let mut hash_algo = "MD5".to_string();
    let mut offset = 0usize;
    let mut pasv: Option<TcpListener> = None;
    let mut active: Option<std::net::SocketAddr> = None;
    // A data connection taken while the session stopped reading after EPSV (`epsv_waits`).
    let mut accepted: Option<TcpStream> = None;
    let mut last = String::new();
    reader.get_mut().write_all(b"220 scripted server\r\n")?;
    loop {
        let mut line = String::new();
        let along = !reader.buffer().is_empty();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let line = line.trim_end_matches(['\r', '\n']).to_string();
        let previous = std::mem::replace(&mut last, line.clone());
        {
            let mut st = st.lock().unwrap();
            if along {
                let at = st.log.len();
                st.along.push(at);
            }
            st.log.push(line.clone());
        }
        let (cmd, arg) = line.split_once(' ').unwrap_or((&line, ""));
        // A case-insensitive server finds a name in whatever case it was asked for, and
        // keeps the case it was made with.
        let known: Vec<String> = match b.fold_case {
            true => st.lock().unwrap().nodes.keys().cloned().collect(),
            false => Vec::new(),
        };
        let fold = |p: String| -> String {
            known
                .iter()
                .find(|k| k.eq_ignore_ascii_case(&p))
                .cloned()
                .unwrap_or(p)
        };
        let abs = |p: &str| -> String {
            let p = p.trim_end_matches("/.").trim_start_matches("./");
            let p = if p == "." || p.is_empty() {
                cwd.clone()
            } else if p.starts_with('/') {
                p.to_string()
            } else {
                format!("{}/{p}", cwd.trim_end_matches('/'))
            };
            let t = p.trim_end_matches('/');
            if t.is_empty() {
                "/".to_string()
            } else {
                fold(t.to_string())
            }
        };
        let reply: String = match cmd.to_ascii_uppercase().as_str() {
            "USER" => "331 password please".into(),
            "PASS" if arg == "pw" => {
                st.lock().unwrap().logins += 1;
                if b.forget_after_pass {
                    let n = reader.buffer().len();
                    reader.consume(n);
                }
                "230 logged in".into()
            }
            "PASS" => "530 Login incorrect.".into(),
            "TYPE" => "200 type set".into(),
            "SYST" => format!("215 {}", b.syst),
            "FEAT" if b.trickle_feat => {
                reader.get_mut().write_all(b"211-Features:\r\n")?;
                for byte in b" SIZE\r\n".iter().cycle() {
                    std::thread::sleep(Duration::from_millis(100));
                    if reader.get_mut().write_all(&[*byte]).is_err() {
                        return Ok(());
                    }
                }
                unreachable!()
            }
            "FEAT" if b.no_feat => "500 FEAT: command not understood".into(),
            "FEAT" => {
                let mut r = String::from("211-Features:\r\n");
                for f in &b.feat {
                    r.push_str(&format!(" {f}\r\n"));
                }
                if b.mlsd {
                    r.push_str(" MLST type*;size*;modify*;\r\n");
                }
                r + "211 End"
            }
            "OPTS" if arg.to_ascii_uppercase().starts_with("HASH ") => {
                hash_algo = arg[5..].trim().to_ascii_uppercase();
                format!("200 {hash_algo}")
            }
            "OPTS" => "202 UTF8 is always on".into(),
            "HASH" | "XSHA256" if b.hash_refused => "502 command not implemented".into(),
            "HASH" | "XSHA256" => match st.lock().unwrap().nodes.get(&abs(arg)) {
                Some(Node::File { data, .. }) => {
                    let mut bytes = data.clone();
                    if b.hash_lies {
                        bytes.push(b'!');
                    }
                    let sha256 = |d: &[u8]| -> String {
                        ring::digest::digest(&ring::digest::SHA256, d)
                            .as_ref()
                            .iter()
                            .map(|x| format!("{x:02x}"))
                            .collect()
                    };
                    match (cmd.to_ascii_uppercase().as_str(), hash_algo.as_str()) {
                        _ if b.hash_garbage => "250 digest unavailable".into(),
                        ("XSHA256", _) => format!("250 {}", sha256(&bytes).to_uppercase()),
                        (_, "SHA-256") => format!(
                            "213-Computing SHA-256 digest\r\n213 SHA-256 0-{} {} {arg}",
                            data.len(),
                            sha256(&bytes)
                        ),
                        // Only SHA-256 is computed here; MD5 is claimed with a dummy digest.
                        _ => format!("213 MD5 0-{} {} {arg}", data.len(), "0".repeat(32)),
                    }
                }
                Some(Node::Dir) => format!("553 {arg}: not a regular file"),
                None => format!("550 {arg}: no such file"),
            },
            "MLST" if b.mlsd => match st.lock().unwrap().nodes.get(&abs(arg)) {
                Some(n) => format!(
                    "250-Listing\r\n {}\r\n250 End",
                    mlsd_line(&abs(arg), n, !b.mlsd_without_size)
                ),
                None if abs(arg) == "/" => "250-Listing\r\n type=dir; /\r\n250 End".into(),
                None => "550 no such file or directory".into(),
            },
            "PWD" => "257 \"/\" is the current directory".into(),
            "CWD" => {
                let p = abs(arg);
                let is_dir =
                    p == "/" || matches!(st.lock().unwrap().nodes.get(&p), Some(Node::Dir));
                if is_dir {
                    cwd = p;
                    "250 ok".into()
                } else {
                    "550 no such directory".into()
                }
            }
            "EPSV" if !b.epsv => "500 EPSV not understood".into(),
            "EPSV"
                if (b.busy_epsv_after_rename && previous.starts_with("RNTO"))
                    || (!fire(&b.busy_epsv_skip) && fire(&b.busy_epsv)) =>
            {
                "425 Unable to identify the local data socket: Address already in use".into()
            }
            "EPSV" if b.epsv_waits.is_some() => {
                let l = TcpListener::bind((local_ip, 0))?;
                let p = l.local_addr()?.port();
                accepted = None;
                let reply = format!("229 Entering Extended Passive Mode (|||{p}|)\r\n");
                reader.get_mut().write_all(reply.as_bytes())?;
                // Nothing more is read until the connection comes, or the wait is over.
                match accept_within(&l, b.epsv_waits.unwrap()) {
                    Some(c) => {
                        accepted = Some(c);
                        continue;
                    }
                    None => "550 data connection timed out".into(),
                }
            }
            "EPSV" => {
                let l = TcpListener::bind((local_ip, 0))?;
                let p = l.local_addr()?.port();
                pasv = Some(l);
                format!("229 Entering Extended Passive Mode (|||{p}|)")
            }
            "PORT" => {
                let n: Vec<u16> = arg.split(',').filter_map(|x| x.parse().ok()).collect();
                if n.len() == 6 {
                    let ip =
                        std::net::Ipv4Addr::new(n[0] as u8, n[1] as u8, n[2] as u8, n[3] as u8);
                    active = Some((ip, n[4] << 8 | n[5]).into());
                    "200 PORT ok".into()
                } else {
                    "501 bad PORT".into()
                }
            }
            "EPRT" => {
                let d = arg.chars().next().unwrap_or('|');
                let parts: Vec<&str> = arg.split(d).collect();
                match (
                    parts
                        .get(2)
                        .and_then(|h| h.parse::<std::net::IpAddr>().ok()),
                    parts.get(3).and_then(|p| p.parse::<u16>().ok()),
                ) {
                    (Some(ip), Some(port)) => {
                        active = Some((ip, port).into());
                        "200 EPRT ok".into()
                    }
                    _ => "501 bad EPRT".into(),
                }
            }
            "PASV" => {
                let l = TcpListener::bind("127.0.0.1:0")?;
                let p = l.local_addr()?.port();
                pasv = Some(l);
                // Deliberately names another address: clients must use the control peer.
                format!(
                    "227 Entering Passive Mode (127,0,0,2,{},{})",
                    p >> 8,
                    p & 255
                )
            }
            "LIST" | "MLSD" | "RETR" | "STOR" | "APPE" => {
                // REST applies to this transfer only; APPE continues from the end.
                let mut offset = std::mem::take(&mut offset);
                if cmd.eq_ignore_ascii_case("APPE") {
                    offset = match st.lock().unwrap().nodes.get(&abs(arg)) {
                        Some(Node::File { data, .. }) => data.len(),
                        _ => 0,
                    };
                }
                if pasv.is_none() && active.is_none() && accepted.is_none() {
                    reader
                        .get_mut()
                        .write_all(b"425 use PASV or PORT first\r\n")?;
                    continue;
                }
                let target = abs(
                    if cmd.eq_ignore_ascii_case("LIST")
                        || (cmd.eq_ignore_ascii_case("MLSD") && arg.is_empty())
                    {
                        "."
                    } else {
                        arg
                    },
                );
                if cmd.eq_ignore_ascii_case("RETR")
                    && !matches!(
                        st.lock().unwrap().nodes.get(&target),
                        Some(Node::File { .. })
                    )
                {
                    reader.get_mut().write_all(b"550 no such file\r\n")?;
                    continue;
                }
                let raw = match (accepted.take(), pasv.take(), active.take()) {
                    (Some(c), _, _) => c,
                    (None, Some(l), _) if b.new_epsv_closes_port => {
                        // Acts on what else has come in before the connection arrives.
                        match accept_unless_epsv(&l, &reader, &peek) {
                            Some(c) => c,
                            None => continue,
                        }
                    }
                    (None, Some(l), _) => l.accept()?.0,
                    (None, None, Some(addr)) => TcpStream::connect(addr)?,
                    (None, None, None) => unreachable!(),
                };
                reader
                    .get_mut()
                    .write_all(b"150 opening data connection\r\n")?;
                let tls = b.implicit_tls.as_ref().filter(|_| prot_p);
                let mut data = wrap(raw.try_clone()?, tls)?;
                let data_raw = raw;
                match cmd.to_ascii_uppercase().as_str() {
                    "LIST" if b.stall_list => {
                        data.write_all(b"total 1\r\n")?;
                        std::thread::sleep(Duration::from_secs(30));
                    }
                    "LIST" | "MLSD" => {
                        if target == "/" && b.hold_root_for_logins > 0 {
                            let deadline = std::time::Instant::now() + Duration::from_secs(10);
                            let mut logins = st.lock().unwrap().logins;
                            while logins < b.hold_root_for_logins
                                && std::time::Instant::now() < deadline
                            {
                                std::thread::sleep(Duration::from_millis(5));
                                logins = st.lock().unwrap().logins;
                            }
                            st.lock().unwrap().logins_at_root.get_or_insert(logins);
                        }
                        let mlsd = cmd.eq_ignore_ascii_case("MLSD");
                        let text = {
                            let st = st.lock().unwrap();
                            let prefix = if target == "/" {
                                "/".to_string()
                            } else {
                                format!("{target}/")
                            };
                            let mut text = String::from(match (mlsd, b.vms) {
                                (true, _) => "",
                                (false, true) => "Directory FTP$ROOT:[000000]\r\n\r\n",
                                (false, false) => "total 42\r\n",
                            });
                            for (p, n) in st.nodes.iter() {
                                if let Some(name) =
                                    p.strip_prefix(&prefix).filter(|r| !r.contains('/'))
                                {
                                    text.push_str(&if mlsd {
                                        mlsd_line(name, n, !b.mlsd_without_size)
                                    } else if b.vms {
                                        vms_lines(name, n)
                                    } else {
                                        list_line(name, n, b.list_offset)
                                    });
                                    text.push_str("\r\n");
                                }
                            }
                            if target == "/" {
                                for line in &b.extra_lines {
                                    text.push_str(line);
                                    text.push_str("\r\n");
                                }
                            }
                            text
                        };
                        if b.abort_on_early_goodbye && tls.is_some() {
                            data_raw.set_read_timeout(Some(Duration::from_secs(2)))?;
                            if matches!(data.read(&mut [0u8; 1]), Ok(0)) {
                                drop(data);
                                reader
                                    .get_mut()
                                    .write_all(b"426 Transfer aborted: client went away\r\n")?;
                                continue;
                            }
                        }
                        if !fire(&b.reset_list_skip) && fire(&b.reset_list) {
                            data.write_all(&text.as_bytes()[..text.len() / 2])?;
                            reset(data_raw);
                            reader.get_mut().write_all(b"226 transfer complete\r\n")?;
                            continue;
                        }
                        if b.new_epsv_aborts_listing {
                            // Line by line, looking at the control connection in between.
                            let mut aborted = false;
                            for line in text.split_inclusive('\n') {
                                if epsv_waiting(&reader, &peek) {
                                    aborted = true;
                                    break;
                                }
                                data.write_all(line.as_bytes())?;
                                std::thread::sleep(b.data_delay);
                            }
                            if aborted {
                                data.close();
                                drop(data);
                                drop(data_raw);
                                reader
                                    .get_mut()
                                    .write_all(b"426 Transfer aborted; partly sent\r\n")?;
                                continue;
                            }
                        } else {
                            data.write_all(text.as_bytes())?;
                        }
                    }
                    "RETR" => {
                        let body = match st.lock().unwrap().nodes.get(&target) {
                            Some(Node::File { data, .. }) => {
                                data[offset.min(data.len())..].to_vec()
                            }
                            _ => Vec::new(),
                        };
                        let body = if fire(&b.cut_retr) {
                            &body[..(body.len() as f64 * b.cut_fraction) as usize]
                        } else {
                            &body[..]
                        };
                        st.lock().unwrap().sent += body.len();
                        for chunk in body.chunks(8192) {
                            std::thread::sleep(b.data_delay);
                            if data.write_all(chunk).is_err() {
                                break;
                            }
                        }
                    }
                    _ => {
                        let cut = fire(&b.cut_stor);
                        let mut buf = Vec::new();
                        let mut chunk = [0u8; 8192];
                        loop {
                            std::thread::sleep(b.data_delay);
                            let n = data.read(&mut chunk).unwrap_or(0);
                            if n == 0 {
                                break;
                            }
                            buf.extend_from_slice(&chunk[..n]);
                            // Counted as it arrives: a test may wait for a transfer to be
                            // under way.
                            st.lock().unwrap().received += n;
                            if cut && buf.len() >= b.cut_stor_after {
                                break;
                            }
                        }
                        let mut st = st.lock().unwrap();
                        let mut whole = match st.nodes.get(&target) {
                            Some(Node::File { data, .. }) if offset > 0 => {
                                data[..offset.min(data.len())].to_vec()
                            }
                            _ => Vec::new(),
                        };
                        whole.extend_from_slice(&buf);
                        st.nodes.insert(
                            target,
                            Node::File {
                                data: whole,
                                mtime: SystemTime::now(),
                            },
                        );
                        if cut {
                            // The partial file stays, as on real servers.
                            drop(st);
                            reset(data_raw);
                            reader
                                .get_mut()
                                .write_all(b"426 connection closed; transfer aborted\r\n")?;
                            continue;
                        }
                    }
                }
                data.close();
                drop(data);
                drop(data_raw);
                "226 transfer complete".into()
            }
            "PBSZ" => "200 PBSZ=0".into(),
            "PROT" if arg.eq_ignore_ascii_case("P") => {
                prot_p = true;
                "200 protection level private".into()
            }
            "REST" => match arg.parse() {
                Ok(n) => {
                    offset = n;
                    format!("350 restarting at {n}")
                }
                Err(_) => "501 bad offset".into(),
            },
            "ABOR" => "226 abort done".into(),
            "MDTM" => {
                let (stamp, path) = match arg.split_once(' ') {
                    Some((t, p))
                        if b.mdtm_write
                            && t.len() == 14
                            && t.chars().all(|c| c.is_ascii_digit()) =>
                    {
                        (Some(t), p)
                    }
                    _ => (None, arg),
                };
                let mut st = st.lock().unwrap();
                match (stamp, st.nodes.get_mut(&abs(path))) {
                    (Some(t), Some(Node::File { mtime, .. })) => {
                        let when =
                            chrono::NaiveDateTime::parse_from_str(t, "%Y%m%d%H%M%S").unwrap();
                        *mtime = when.and_utc().into();
                        format!("213 Modify={t}")
                    }
                    (None, Some(Node::File { mtime, .. })) => {
                        format!(
                            "213 {}",
                            DateTime::<Utc>::from(*mtime).format("%Y%m%d%H%M%S")
                        )
                    }
                    _ => "550 no such file".into(),
                }
            }
            "SITE" if b.site_chmod => {
                let mut words = arg.splitn(3, ' ');
                let (verb, mode, p) = (words.next(), words.next(), words.next());
                let mode = mode.and_then(|m| u32::from_str_radix(m, 8).ok());
                let mut st = st.lock().unwrap();
                match (verb, mode, p) {
                    (Some(v), Some(m), Some(p))
                        if v.eq_ignore_ascii_case("CHMOD")
                            && matches!(st.nodes.get(&abs(p)), Some(Node::File { .. })) =>
                    {
                        st.modes.insert(abs(p), m);
                        "200 SITE CHMOD command successful".into()
                    }
                    (Some(v), _, _) if v.eq_ignore_ascii_case("CHMOD") => "550 no such file".into(),
                    _ => "500 unknown SITE command".into(),
                }
            }
            "SIZE" if b.size_one_at_a_time && along => "500 one command at a time".into(),
            "SIZE" => match st.lock().unwrap().nodes.get(&abs(arg)) {
                Some(Node::File { data, .. }) => format!("213 {}", data.len()),
                _ => "550 no such file".into(),
            },
            "RNFR" if b.refuse_rename => "502 command not implemented".into(),
            "RNFR" => {
                rename_from = Some(abs(arg));
                "350 ready for RNTO".into()
            }
            "RNTO"
                if b.refuse_rename_over
                    && matches!(
                        st.lock().unwrap().nodes.get(&abs(arg)),
                        Some(Node::File { .. })
                    ) =>
            {
                rename_from = None;
                "550 Cannot create a file when that file already exists.".into()
            }
            "RNTO" => {
                let mut st = st.lock().unwrap();
                let from = rename_from.take();
                match from.clone().and_then(|f| st.nodes.remove(&f)) {
                    Some(node) => {
                        st.nodes.insert(abs(arg), node);
                        match from.and_then(|f| st.modes.remove(&f)) {
                            Some(m) => st.modes.insert(abs(arg), m),
                            None => st.modes.remove(&abs(arg)),
                        };
                        "250 renamed".into()
                    }
                    None => "503 RNFR first".into(),
                }
            }
            "DELE" => match st.lock().unwrap().nodes.remove(&abs(arg)) {
                Some(_) => "250 deleted".into(),
                None => "550 no such file".into(),
            },
            "MKD" => {
                st.lock().unwrap().nodes.insert(abs(arg), Node::Dir);
                format!("257 \"{}\" created", abs(arg))
            }
            "MFMT" => {
                let (ts, p) = arg.split_once(' ').unwrap_or(("", ""));
                let when = chrono::NaiveDateTime::parse_from_str(ts, "%Y%m%d%H%M%S");
                let mut st = st.lock().unwrap();
                match (when, st.nodes.get_mut(&abs(p))) {
                    (Ok(w), Some(Node::File { mtime, .. })) => {
                        *mtime = w.and_utc().into();
                        format!("213 Modify={ts}; {p}")
                    }
                    _ => "550 cannot set time".into(),
                }
            }
            "QUIT" => {
                reader.get_mut().write_all(b"221 bye\r\n")?;
                return Ok(());
            }
            _ => "502 command not implemented".into(),
        };
        reader
            .get_mut()
            .write_all(format!("{reply}\r\n").as_bytes())?;
    }
}

/// Whether an EPSV is among the commands the client has sent and the session has not read:
/// in the reader's buffer, or waiting on the socket.
fn epsv_waiting<R: Read>(reader: &BufReader<R>, peek: &TcpStream) -> bool {
    let has = |bytes: &[u8]| bytes.starts_with(b"EPSV") || bytes.windows(5).any(|w| w == b"\nEPSV");
    if has(reader.buffer()) {
        return true;
    }
    let mut buf = [0u8; 4096];
    let _ = peek.set_nonblocking(true);
    let n = peek.peek(&mut buf).unwrap_or(0);
    let _ = peek.set_nonblocking(false);
    has(&buf[..n])
}

/// Accepts the data connection, unless an EPSV comes first: an event-driven server acts on
/// it at once and closes this port (dropped on return).
fn accept_unless_epsv<R: Read>(
    l: &TcpListener,
    reader: &BufReader<R>,
    peek: &TcpStream,
) -> Option<TcpStream> {
    // What came in is acted on first, as an event loop does with one read's commands.
    accept_until(l, Duration::from_secs(30), || epsv_waiting(reader, peek))
}

/// The data connection, if it arrives within `wait`.
fn accept_within(l: &TcpListener, wait: Duration) -> Option<TcpStream> {
    accept_until(l, wait, || false)
}

/// The data connection, unless `wait` passes or `give_up` says so first.
fn accept_until(l: &TcpListener, wait: Duration, give_up: impl Fn() -> bool) -> Option<TcpStream> {
    l.set_nonblocking(true).ok()?;
    let deadline = std::time::Instant::now() + wait;
    while std::time::Instant::now() < deadline && !give_up() {
        if let Ok((c, _)) = l.accept() {
            c.set_nonblocking(false).ok()?;
            return Some(c);
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    None
}
