//! Real FTP daemons, started by the tests as their own child processes on 127.0.0.1 or ::1, each
//! with a temporary root, a virtual test user, a passive port range and a generated config,
//! and stopped by pid. Where a daemon is not installed, `start` says so in one line and the
//! test returns; with `FTPMIRROR_INTEROP=1` a missing daemon is a failure.

#![allow(dead_code)]

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const USER: &str = "test";
pub const PASSWORD: &str = "s3cret-pw";
/// SHA-512 crypt of PASSWORD (`openssl passwd -6 -salt abcdefgh s3cret-pw`).
const PASSWORD_HASH: &str = "$6$abcdefgh$.q.BVhK3nzf1XSSNB.2BrJA7GdbdB8ngE/91HZf0yINdPs9gg3wMK0PkRZ2OQ8O7lbHWte27wrOWnIAzK3qb3.";
/// The unprivileged account the daemons run sessions as (Debian's `nobody`).
const UID: u32 = 65534;

/// Where a daemon listens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ip {
    V4,
    V6,
}

impl Ip {
    fn addr(self) -> &'static str {
        match self {
            Ip::V4 => "127.0.0.1",
            Ip::V6 => "::1",
        }
    }

    fn url_host(self) -> &'static str {
        match self {
            Ip::V4 => "127.0.0.1",
            Ip::V6 => "[::1]",
        }
    }
}

/// Settings beyond the tests' defaults. The benchmark puts a delay-line proxy in front of the
/// daemon: the server must then name the proxy's address in PASV replies, and the proxy must
/// know the passive ports to listen on.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The IPv4 address PASV replies announce.
    pub announce: Option<&'static str>,
    /// How many passive ports (default 20).
    pub passive_ports: Option<u16>,
    /// pure-ftpd and vsftpd: a PEM file with the certificate and its key, and TLS required
    /// on the control and data connections.
    pub tls_cert: Option<PathBuf>,
}

pub struct Daemon {
    pub name: &'static str,
    pub ip: Ip,
    pub port: u16,
    /// The passive port range, inclusive.
    pub passive: (u16, u16),
    /// The directory that `url("")` names: the test user's `/` where the daemon chroots.
    pub root: PathBuf,
    /// The account to log in as.
    pub user: &'static str,
    /// The URL path of `root`: empty where the daemon chroots to it, `%2F/abs/path/` where
    /// the daemon does not chroot (inetutils-ftpd).
    base: String,
    process: Process,
    _dir: tempfile::TempDir,
}

/// What runs the daemon: its own standalone process, or an inetd-style launcher here.
enum Process {
    Standalone(Child),
    Inetd(Inetd),
}

impl Daemon {
    /// The daemon's process id, for a harness that must stop it from a signal handler;
    /// `None` for an inetd-style daemon, whose launcher runs in this process.
    #[allow(dead_code)]
    pub fn pid(&self) -> Option<u32> {
        match &self.process {
            Process::Standalone(child) => Some(child.id()),
            Process::Inetd(_) => None,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!(
            "ftp://{}@{}:{}/{}{}",
            self.user,
            self.ip.url_host(),
            self.port,
            self.base,
            path.trim_start_matches('/')
        )
    }
}

impl Drop for Daemon {
    /// SIGTERM first, so the daemon stops and reaps its session processes; SIGKILL if it
    /// has not exited within a few seconds.
    fn drop(&mut self) {
        let Process::Standalone(child) = &mut self.process else {
            return;
        };
        let pid = child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

fn free_port(ip: Ip) -> u16 {
    TcpListener::bind((ip.addr(), 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A passive port range unlikely to collide with other tests: `n` ports from a random base.
fn passive_range(opts: &Options) -> (u16, u16) {
    let n = opts.passive_ports.unwrap_or(20).max(1);
    let base = 30_000 + (free_port(Ip::V4) % 20_000);
    (base, base + n - 1)
}

/// The daemon's binary in `$FTPMIRROR_DAEMON_PATH` (where `.ci/run` unpacks what cannot be
/// installed side by side), then in the system's directories.
fn installed(binary: &str) -> Option<PathBuf> {
    let extra = std::env::var("FTPMIRROR_DAEMON_PATH").unwrap_or_default();
    extra
        .split(':')
        .filter(|d| !d.is_empty())
        .chain(["/usr/sbin", "/usr/bin", "/usr/local/sbin"])
        .map(|d| Path::new(d).join(binary))
        .find(|p| p.exists())
}

/// `None`, after saying so, when the daemon cannot run here; a panic with FTPMIRROR_INTEROP=1.
fn missing(name: &str) -> Option<Daemon> {
    skip(&format!("{name} is not installed"))
}

fn skip(why: &str) -> Option<Daemon> {
    if std::env::var_os("FTPMIRROR_INTEROP").is_some_and(|v| v == "1") {
        panic!("{why}, and FTPMIRROR_INTEROP=1 requires the daemon tests");
    }
    eprintln!("skipped: {why} (see tests/README.md)");
    None
}

/// The daemons switch to `nobody` for sessions, which only root may do.
fn not_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").map_or(true, |m| m.uid() != 0)
}

fn chown_tree(path: &Path, uid: u32) {
    let _ = Command::new("chown")
        .args(["-R", &format!("{uid}:{uid}")])
        .arg(path)
        .status();
}

/// Waits until the daemon accepts connections, or fails with its log.
fn wait_ready(name: &str, ip: Ip, port: u16, child: &mut Child, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if TcpStream::connect((ip.addr(), port)).is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "{name} exited ({status}): {}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!(
        "{name} did not start: {}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

/// A temporary directory with `root/` owned by `uid`: the daemon's files and the user's tree.
fn prepare(uid: u32) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir_all(&root).unwrap();
    chown_tree(&root, uid);
    (dir, root)
}

/// Starts `cmd` with its stderr in `dir/stderr.log` and waits until it accepts connections.
fn launch(
    name: &'static str,
    ip: Ip,
    port: u16,
    mut cmd: Command,
    dir: tempfile::TempDir,
    root: PathBuf,
    passive: (u16, u16),
) -> Daemon {
    let log = dir.path().join("stderr.log");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("start {name}: {e}"));
    wait_ready(name, ip, port, &mut child, &log);
    Daemon {
        name,
        ip,
        port,
        passive,
        root,
        user: USER,
        base: String::new(),
        process: Process::Standalone(child),
        _dir: dir,
    }
}

/// proftpd with MLSD and MFMT (mod_facts), HASH (mod_digest, where installed), a file-based
/// virtual user, chrooted to its root.
pub fn proftpd(ip: Ip) -> Option<Daemon> {
    let Some(binary) = installed("proftpd") else {
        return missing("proftpd");
    };
    if not_root() {
        return skip("the proftpd test needs root");
    }
    let (dir, root) = prepare(UID);
    let d = dir.path();
    let port = free_port(ip);
    let (p1, p2) = passive_range(&Options::default());
    let user = format!(
        "{USER}:{PASSWORD_HASH}:{UID}:{UID}::{}:/bin/false\n",
        root.display()
    );
    std::fs::write(d.join("passwd"), user).unwrap();
    std::fs::write(d.join("group"), format!("test:x:{UID}:\n")).unwrap();
    // proftpd refuses user files others can read.
    for f in ["passwd", "group"] {
        std::fs::set_permissions(
            d.join(f),
            std::os::unix::fs::PermissionsExt::from_mode(0o600),
        )
        .unwrap();
    }
    let conf = d.join("proftpd.conf");
    let v6 = if ip == Ip::V6 { "on" } else { "off" };
    let text = format!(
        "ServerType standalone\nDefaultServer on\nServerName \"ftpmirror test\"\nPort {port}\n\
         DefaultAddress {addr}\nUseIPv6 {v6}\nUser nobody\nGroup nogroup\n\
         PidFile {d}/proftpd.pid\nScoreboardFile {d}/scoreboard\nDelayTable none\n\
         SystemLog {d}/system.log\nTransferLog none\nWtmpLog off\nAuthOrder mod_auth_file.c\n\
         AuthUserFile {d}/passwd\nAuthGroupFile {d}/group\nRequireValidShell off\n\
         DefaultRoot ~\nPassivePorts {p1} {p2}\nAllowOverwrite on\nUmask 022\n\
         MaxInstances 40\nTimesGMT on\n",
        addr = ip.addr(),
        d = d.display()
    );
    // mod_digest (Debian's proftpd-core ships it): HASH, XSHA256 and kin, for --checksum.
    let digest = Path::new("/usr/lib/proftpd/mod_digest.so");
    let text = if digest.exists() {
        format!(
            "{text}ModulePath /usr/lib/proftpd\nLoadModule mod_digest.c\n\
             <IfModule mod_digest.c>\nDigestEngine on\n</IfModule>\n"
        )
    } else {
        text
    };
    std::fs::write(&conf, text).unwrap();
    let mut cmd = Command::new(binary);
    cmd.args(["-n", "-c"]).arg(&conf);
    Some(launch("proftpd", ip, port, cmd, dir, root, (p1, p2)))
}

/// pure-ftpd with MLSD and MFMT, a puredb virtual user, everyone chrooted.
pub fn pure_ftpd(ip: Ip) -> Option<Daemon> {
    pure_ftpd_with(ip, &Options::default())
}

pub fn pure_ftpd_with(ip: Ip, opts: &Options) -> Option<Daemon> {
    let Some(binary) = installed("pure-ftpd") else {
        return missing("pure-ftpd");
    };
    let Some(pure_pw) = installed("pure-pw") else {
        return missing("pure-pw");
    };
    if not_root() {
        return skip("the pure-ftpd test needs root");
    }
    let (dir, root) = prepare(UID);
    let d = dir.path();
    let port = free_port(ip);
    let (p1, p2) = passive_range(opts);
    // account:hash:uid:gid:gecos:home (/./ marks the chroot), then 12 empty limit fields
    let passwd = d.join("passwd");
    let line = format!(
        "{USER}:{PASSWORD_HASH}:{UID}:{UID}::{}/./::::::::::::\n",
        root.display()
    );
    std::fs::write(&passwd, line).unwrap();
    let pdb = d.join("pdb");
    let made = Command::new(pure_pw)
        .arg("mkdb")
        .arg(&pdb)
        .arg("-f")
        .arg(&passwd)
        .status()
        .unwrap();
    assert!(made.success(), "pure-pw mkdb failed");
    let mut cmd = Command::new(binary);
    cmd.arg("-S")
        .arg(format!("{},{port}", ip.addr()))
        .arg("-p")
        .arg(format!("{p1}:{p2}"))
        .arg("-l")
        .arg(format!("puredb:{}", pdb.display()))
        .args(["-E", "-A", "-H", "-u", "1"])
        // Listings whole up to a million entries (the default stops at 10,000): the memory
        // benchmark lists one directory of 200,000.
        .args(["-L", "1000000:8"]);
    if let Some(addr) = opts.announce {
        cmd.args(["-P", addr]);
    }
    if let Some(cert) = &opts.tls_cert {
        // 3: plain text refused on control and data connections alike.
        cmd.args(["-Y", "3", "-2"]).arg(cert);
    }
    Some(launch("pure-ftpd", ip, port, cmd, dir, root, (p1, p2)))
}

/// The PAM service vsftpd authenticates the virtual user with (`.ci/run` writes it:
/// pam_pwdfile over /etc/ftpmirror-test.passwd, which holds USER and PASSWORD_HASH).
const PAM_SERVICE: &str = "ftpmirror-test";
/// vsftpd's guest account: unprivileged, with a home that exists (vsftpd changes into it).
const GUEST_UID: u32 = 1; // daemon

/// vsftpd: no MLSD, no MFMT; `mdtm_write` and `force_dot_files` on, as a hosting provider
/// would hopefully set them; a PAM virtual user mapped to the `daemon` account.
pub fn vsftpd(ip: Ip) -> Option<Daemon> {
    vsftpd_with(ip, &Options::default())
}

pub fn vsftpd_with(ip: Ip, opts: &Options) -> Option<Daemon> {
    let Some(binary) = installed("vsftpd") else {
        return missing("vsftpd");
    };
    if not_root() {
        return skip("the vsftpd test needs root");
    }
    if !Path::new("/etc/pam.d").join(PAM_SERVICE).exists() {
        return skip("vsftpd's PAM service ftpmirror-test is not set up (.ci/run does it)");
    }
    let (dir, root) = prepare(GUEST_UID);
    let d = dir.path();
    let empty = d.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let port = free_port(ip);
    let (p1, p2) = passive_range(opts);
    let listen = match ip {
        Ip::V4 => "listen=YES\nlisten_ipv6=NO\nlisten_address=127.0.0.1",
        Ip::V6 => "listen=NO\nlisten_ipv6=YES\nlisten_address6=::1",
    };
    let text = format!(
        "{listen}\nlisten_port={port}\nbackground=NO\nanonymous_enable=NO\nlocal_enable=YES\n\
         write_enable=YES\nguest_enable=YES\nguest_username=daemon\nvirtual_use_local_privs=YES\n\
         local_root={root}\nchroot_local_user=YES\nallow_writeable_chroot=YES\n\
         pam_service_name={PAM_SERVICE}\npasv_enable=YES\npasv_min_port={p1}\n\
         pasv_max_port={p2}\nseccomp_sandbox=NO\nmdtm_write=YES\nforce_dot_files=YES\n\
         secure_chroot_dir={empty}\nxferlog_enable=NO\nuse_localtime=NO\nport_enable=YES\n\
         connect_from_port_20=NO\nlocal_umask=022\nmax_clients=50\nmax_per_ip=50\n",
        root = root.display(),
        empty = empty.display()
    );
    let text = match opts.announce {
        Some(addr) => format!("{text}pasv_address={addr}\npasv_addr_resolve=NO\n"),
        None => text,
    };
    // TLS required for logins and data, each data connection resuming the control
    // connection's TLS session (require_ssl_reuse, vsftpd's default).
    let text = match &opts.tls_cert {
        Some(cert) => format!(
            "{text}ssl_enable=YES\nrsa_cert_file={c}\nrsa_private_key_file={c}\n\
             force_local_logins_ssl=YES\nforce_local_data_ssl=YES\nrequire_ssl_reuse=YES\n\
             ssl_tlsv1=YES\nssl_sslv2=NO\nssl_sslv3=NO\n",
            c = cert.display()
        ),
        None => text,
    };
    let conf = d.join("vsftpd.conf");
    std::fs::write(&conf, text).unwrap();
    let mut cmd = Command::new(binary);
    cmd.arg(&conf);
    Some(launch("vsftpd", ip, port, cmd, dir, root, (p1, p2)))
}

/// pyftpdlib's server: a virtual user with every permission, MLSD, MFMT and EPSV. `threaded`
/// picks `ThreadedFTPServer` (a thread per session), else `FTPServer` (one event loop for
/// all): both act on each command as it arrives, unlike the forking daemons.
const PYFTPDLIB: &str = r#"
import sys
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import FTPServer, ThreadedFTPServer
addr, port, root, p1, p2, flavour, user, password, announce = sys.argv[1:]
auth = DummyAuthorizer()
auth.add_user(user, password, root, perm="elradfmwMT")
class Handler(FTPHandler):
    pass
Handler.authorizer = auth
Handler.passive_ports = range(int(p1), int(p2) + 1)
Handler.banner = "pyftpdlib " + flavour
if announce:
    Handler.masquerade_address = announce
server = (ThreadedFTPServer if flavour == "threaded" else FTPServer)((addr, int(port)), Handler)
server.max_cons = 256
server.serve_forever()
"#;

/// Whether `python3` can import pyftpdlib (`.ci/install-daemons` installs the pinned one).
fn has_pyftpdlib() -> bool {
    Command::new("python3")
        .args(["-c", "import pyftpdlib"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// pyftpdlib, `threaded` or not, with `opts` (100 passive ports unless it says otherwise).
pub fn pyftpdlib_with(ip: Ip, threaded: bool, opts: &Options) -> Option<Daemon> {
    if !has_pyftpdlib() {
        return missing("pyftpdlib (python3 -m pip install pyftpdlib)");
    }
    let (flavour, name) = match threaded {
        true => ("threaded", "pyftpdlib-threaded"),
        false => ("async", "pyftpdlib"),
    };
    let (dir, root) = prepare(0);
    let port = free_port(ip);
    let (p1, p2) = passive_range(&Options {
        passive_ports: Some(opts.passive_ports.unwrap_or(100)),
        ..Options::default()
    });
    let mut cmd = Command::new("python3");
    cmd.args(["-c", PYFTPDLIB, ip.addr(), &port.to_string()])
        .arg(&root)
        .args([&p1.to_string(), &p2.to_string(), flavour, USER, PASSWORD])
        .arg(opts.announce.unwrap_or(""));
    Some(launch(name, ip, port, cmd, dir, root, (p1, p2)))
}

/// pyftpdlib's asynchronous `FTPServer`: one event loop for every session.
pub fn pyftpdlib(ip: Ip) -> Option<Daemon> {
    pyftpdlib_with(ip, false, &Options::default())
}

/// pyftpdlib's `ThreadedFTPServer`: a thread per session.
pub fn pyftpdlib_threaded(ip: Ip) -> Option<Daemon> {
    pyftpdlib_with(ip, true, &Options::default())
}

/// The system account inetutils-ftpd logs in (`.ci/install-daemons` creates it, with
/// PASSWORD_HASH in /etc/shadow): inetutils-ftpd knows no virtual users.
pub const SYSTEM_USER: &str = "ftpmirror-test";

/// The uid of a system account, from `id -u`.
fn uid_of(user: &str) -> Option<u32> {
    let out = Command::new("id").args(["-u", user]).output().ok()?;
    String::from_utf8(out.stdout).ok()?.trim().parse().ok()
}

/// inetutils-ftpd (GNU), run as inetd would: a launcher accepts each connection and starts
/// `ftpd` with the socket as its standard input and output. LIST only (no MLSD, no MFMT),
/// MDTM, SIZE and EPSV; no chroot, so URLs name the root by its absolute path.
pub fn inetutils(ip: Ip) -> Option<Daemon> {
    let Some(binary) = installed("ftpd").filter(|b| {
        Command::new(b)
            .arg("--version")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("inetutils"))
    }) else {
        return missing("inetutils-ftpd");
    };
    if not_root() {
        return skip("the inetutils-ftpd test needs root");
    }
    let Some(uid) = uid_of(SYSTEM_USER) else {
        return skip(&format!(
            "the account {SYSTEM_USER} for inetutils-ftpd does not exist (.ci/install-daemons makes it)"
        ));
    };
    let (dir, root) = prepare(uid);
    // Sessions run as the account itself: it must be able to reach its root.
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let listener = TcpListener::bind((ip.addr(), 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    let inetd = Inetd::start(listener, binary, vec!["-a".into(), "default".into()]);
    let base = format!("%2F{}/", root.display().to_string().trim_start_matches('/'));
    Some(Daemon {
        name: "inetutils-ftpd",
        ip,
        port,
        passive: (0, 0),
        root,
        user: SYSTEM_USER,
        base,
        process: Process::Inetd(inetd),
        _dir: dir,
    })
}

/// An inetd for one service: every accepted connection becomes a `binary` process whose
/// standard input and output are the socket. Dropping it stops accepting and kills the
/// sessions still running.
struct Inetd {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    addr: std::net::SocketAddr,
    sessions: std::sync::Arc<std::sync::Mutex<Vec<Child>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Inetd {
    fn start(listener: TcpListener, binary: PathBuf, args: Vec<String>) -> Inetd {
        use std::sync::atomic::Ordering;
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let sessions = std::sync::Arc::new(std::sync::Mutex::new(Vec::<Child>::new()));
        let addr = listener.local_addr().unwrap();
        let (st, ss) = (stop.clone(), sessions.clone());
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if st.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(conn) = conn else { continue };
                let out = conn.try_clone().unwrap();
                let child = Command::new(&binary)
                    .args(&args)
                    .stdin(Stdio::from(std::os::fd::OwnedFd::from(conn)))
                    .stdout(Stdio::from(std::os::fd::OwnedFd::from(out)))
                    .stderr(Stdio::null())
                    .spawn();
                let mut list = ss.lock().unwrap();
                // Reap the sessions that ended, keep the rest for Drop.
                list.retain_mut(|c| !matches!(c.try_wait(), Ok(Some(_))));
                if let Ok(c) = child {
                    list.push(c);
                }
            }
        });
        Inetd {
            stop,
            addr,
            sessions,
            thread: Some(thread),
        }
    }
}

impl Drop for Inetd {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        // Wakes the accept loop, which then sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        for mut c in self.sessions.lock().unwrap().drain(..) {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
