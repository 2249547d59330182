//! A small FTP server on `std::net`, for server behaviour libunftp does not have: LIST only
//! (no MLSD), EPSV refused, a PASV reply naming another address, MFMT, `OPTS UTF8` answered
//! with 202, or no greeting at all. It keeps an in-memory tree and logs every command.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
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
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour {
            feat: vec!["SIZE", "MDTM", "MFMT", "UTF8"],
            epsv: false,
            silent: false,
            ipv6: false,
            stall_list: false,
            refuse_rename: false,
        }
    }
}

#[derive(Default)]
struct State {
    /// Absolute paths ("/a/b") to nodes; "/" is implicit.
    nodes: BTreeMap<String, Node>,
    log: Vec<String>,
}

pub struct Scripted {
    pub port: u16,
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
        Scripted { port, host, state }
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

    /// Every command received, PASS included (the test checks what the client sent).
    pub fn log(&self) -> Vec<String> {
        self.state.lock().unwrap().log.clone()
    }
}

fn list_line(name: &str, node: &Node) -> String {
    let (kind, size, mtime) = match node {
        Node::Dir => ('d', 0, SystemTime::now()),
        Node::File { data, mtime } => ('-', data.len(), *mtime),
    };
    let t: DateTime<Utc> = mtime.into();
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

fn serve(conn: TcpStream, st: Arc<Mutex<State>>, b: Behaviour) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(30)))?;
    if b.silent {
        std::thread::sleep(Duration::from_secs(60));
        return Ok(());
    }
    let mut out = conn.try_clone()?;
    let mut reader = BufReader::new(conn);
    let mut cwd = "/".to_string();
    let mut rename_from: Option<String> = None;
    let mut pasv: Option<TcpListener> = None;
    let mut active: Option<std::net::SocketAddr> = None;
    let local_ip = reader.get_ref().local_addr()?.ip();
    out.write_all(b"220 scripted server\r\n")?;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let line = line.trim_end_matches(['\r', '\n']).to_string();
        st.lock().unwrap().log.push(line.clone());
        let (cmd, arg) = line.split_once(' ').unwrap_or((&line, ""));
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
                t.to_string()
            }
        };
        let reply: String = match cmd.to_ascii_uppercase().as_str() {
            "USER" => "331 password please".into(),
            "PASS" if arg == "pw" => "230 logged in".into(),
            "PASS" => "530 Login incorrect.".into(),
            "TYPE" => "200 type set".into(),
            "FEAT" => {
                let mut r = String::from("211-Features:\r\n");
                for f in &b.feat {
                    r.push_str(&format!(" {f}\r\n"));
                }
                r + "211 End"
            }
            "OPTS" => "202 UTF8 is always on".into(),
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
            "LIST" | "RETR" | "STOR" => {
                if pasv.is_none() && active.is_none() {
                    out.write_all(b"425 use PASV or PORT first\r\n")?;
                    continue;
                }
                let target = abs(if cmd.eq_ignore_ascii_case("LIST") {
                    "."
                } else {
                    arg
                });
                if cmd.eq_ignore_ascii_case("RETR")
                    && !matches!(
                        st.lock().unwrap().nodes.get(&target),
                        Some(Node::File { .. })
                    )
                {
                    out.write_all(b"550 no such file\r\n")?;
                    continue;
                }
                out.write_all(b"150 opening data connection\r\n")?;
                let mut data = match (pasv.take(), active.take()) {
                    (Some(l), _) => l.accept()?.0,
                    (None, Some(addr)) => TcpStream::connect(addr)?,
                    (None, None) => unreachable!(),
                };
                match cmd.to_ascii_uppercase().as_str() {
                    "LIST" if b.stall_list => {
                        data.write_all(b"total 1\r\n")?;
                        std::thread::sleep(Duration::from_secs(30));
                    }
                    "LIST" => {
                        let st = st.lock().unwrap();
                        let prefix = if target == "/" {
                            "/".to_string()
                        } else {
                            format!("{target}/")
                        };
                        let mut text = String::from("total 42\r\n");
                        for (p, n) in st.nodes.iter() {
                            if let Some(name) = p.strip_prefix(&prefix).filter(|r| !r.contains('/'))
                            {
                                text.push_str(&list_line(name, n));
                                text.push_str("\r\n");
                            }
                        }
                        data.write_all(text.as_bytes())?;
                    }
                    "RETR" => {
                        if let Some(Node::File { data: d, .. }) =
                            st.lock().unwrap().nodes.get(&target)
                        {
                            data.write_all(d)?;
                        }
                    }
                    _ => {
                        let mut buf = Vec::new();
                        data.read_to_end(&mut buf)?;
                        st.lock().unwrap().nodes.insert(
                            target,
                            Node::File {
                                data: buf,
                                mtime: SystemTime::now(),
                            },
                        );
                    }
                }
                drop(data);
                "226 transfer complete".into()
            }
            "SIZE" => match st.lock().unwrap().nodes.get(&abs(arg)) {
                Some(Node::File { data, .. }) => format!("213 {}", data.len()),
                _ => "550 no such file".into(),
            },
            "RNFR" if b.refuse_rename => "502 command not implemented".into(),
            "RNFR" => {
                rename_from = Some(abs(arg));
                "350 ready for RNTO".into()
            }
            "RNTO" => {
                let mut st = st.lock().unwrap();
                match rename_from.take().and_then(|f| st.nodes.remove(&f)) {
                    Some(node) => {
                        st.nodes.insert(abs(arg), node);
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
                out.write_all(b"221 bye\r\n")?;
                return Ok(());
            }
            _ => "502 command not implemented".into(),
        };
        out.write_all(format!("{reply}\r\n").as_bytes())?;
    }
}
