//! An in-process FTP server (libunftp over a directory) on 127.0.0.1, for tests and the demo.
//!
//! The storage wraps unftp-sbe-fs so a test can make the server refuse named files (a real
//! `550` on RETR/STOR), and the server records what it was asked to store, delete and create.

#![allow(dead_code)]

use std::collections::HashSet;
use std::fmt::Debug;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use libunftp::ServerBuilder;
use libunftp::notification::{DataEvent, DataListener, EventMeta};
use libunftp::options::{ActivePassiveMode, FtpsRequired};
use unftp_core::auth::{AuthenticationError, Authenticator, Credentials, DefaultUser, Principal};
use unftp_core::storage::{self, ErrorKind, Fileinfo, StorageBackend};
use unftp_sbe_fs::Filesystem;

pub const USER: &str = "test";
pub const PASSWORD: &str = "s3cret-pw";

#[derive(Debug)]
struct TestAuth;

#[async_trait]
impl Authenticator for TestAuth {
    async fn authenticate(
        &self,
        username: &str,
        creds: &Credentials,
    ) -> Result<Principal, AuthenticationError> {
        if username == USER && creds.password.as_deref() == Some(PASSWORD) {
            Ok(Principal {
                username: username.to_string(),
            })
        } else {
            Err(AuthenticationError::BadPassword)
        }
    }
}

/// File names (last path component) the server refuses to send, store or rename into.
type Refused = Arc<Mutex<HashSet<String>>>;

#[derive(Debug)]
struct Guarded {
    inner: Filesystem,
    refused: Refused,
}

impl Guarded {
    fn check<P: AsRef<Path>>(&self, path: P) -> storage::Result<()> {
        let name = path
            .as_ref()
            .file_name()
            .map(|n| n.to_string_lossy().into_owned());
        let refused = self.refused.lock().unwrap();
        match name {
            Some(n) if refused.contains(&n) => Err(ErrorKind::PermissionDenied.into()),
            _ => Ok(()),
        }
    }
}

type Meta = <Filesystem as StorageBackend<DefaultUser>>::Metadata;

#[async_trait]
impl StorageBackend<DefaultUser> for Guarded {
    type Metadata = Meta;

    fn supported_features(&self) -> u32 {
        StorageBackend::<DefaultUser>::supported_features(&self.inner)
    }

    async fn metadata<P: AsRef<Path> + Send + Debug>(
        &self,
        user: &DefaultUser,
        path: P,
    ) -> storage::Result<Meta> {
        self.inner.metadata(user, path).await
    }

    async fn list<P: AsRef<Path> + Send + Debug>(
        &self,
        user: &DefaultUser,
        path: P,
    ) -> storage::Result<Vec<Fileinfo<PathBuf, Meta>>>
    where
        Meta: storage::Metadata,
    {
        self.inner.list(user, path).await
    }

    async fn get<P: AsRef<Path> + Send + Debug>(
        &self,
        user: &DefaultUser,
        path: P,
        start_pos: u64,
    ) -> storage::Result<Box<dyn tokio::io::AsyncRead + Send + Sync + Unpin>> {
        self.check(&path)?;
        self.inner.get(user, path, start_pos).await
    }

    async fn put<
        P: AsRef<Path> + Send + Debug,
        R: tokio::io::AsyncRead + Send + Sync + Unpin + 'static,
    >(
        &self,
        user: &DefaultUser,
        input: R,
        path: P,
        start_pos: u64,
    ) -> storage::Result<u64> {
        self.check(&path)?;
        self.inner.put(user, input, path, start_pos).await
    }

    async fn del<P: AsRef<Path> + Send + Debug>(
        &self,
        user: &DefaultUser,
        path: P,
    ) -> storage::Result<()> {
        self.inner.del(user, path).await
    }

    async fn mkd<P: AsRef<Path> + Send + Debug>(
        &self,
        user: &DefaultUser,
        path: P,
    ) -> storage::Result<()> {
        self.inner.mkd(user, path).await
    }

    async fn rename<P: AsRef<Path> + Send + Debug>(
        &self,
        user: &DefaultUser,
        from: P,
        to: P,
    ) -> storage::Result<()> {
        self.check(&to)?;
        self.inner.rename(user, from, to).await
    }

    async fn rmd<P: AsRef<Path> + Send + Debug>(
        &self,
        user: &DefaultUser,
        path: P,
    ) -> storage::Result<()> {
        self.inner.rmd(user, path).await
    }

    async fn cwd<P: AsRef<Path> + Send + Debug>(
        &self,
        user: &DefaultUser,
        path: P,
    ) -> storage::Result<()> {
        self.inner.cwd(user, path).await
    }
}

/// Records what the server did, as "put /a/b", "del /x", "mkdir /d", "rmdir /d", "get /f".
#[derive(Debug, Clone, Default)]
struct Recorder(Arc<Mutex<Vec<String>>>);

#[async_trait]
impl DataListener for Recorder {
    async fn receive_data_event(&self, e: DataEvent, _m: EventMeta) {
        let line = match e {
            DataEvent::Got { path, .. } => format!("get {path}"),
            DataEvent::Put { path, .. } => format!("put {path}"),
            DataEvent::Deleted { path } => format!("del {path}"),
            DataEvent::MadeDir { path } => format!("mkdir {path}"),
            DataEvent::RemovedDir { path } => format!("rmdir {path}"),
            DataEvent::Renamed { from, to } => format!("rename {from} {to}"),
        };
        self.0.lock().unwrap().push(line);
    }
}

/// A running server; it stops when dropped (the runtime goes with it).
pub struct FtpServer {
    pub port: u16,
    pub root: PathBuf,
    refused: Refused,
    events: Recorder,
    runtime: Option<tokio::runtime::Runtime>,
}

impl FtpServer {
    /// Serves `root` on 127.0.0.1 on a free port, passive and active (PORT) mode both enabled.
    pub fn start(root: &Path) -> FtpServer {
        Self::start_with(root, None)
    }

    /// The same over explicit FTPS with this certificate and key (PEM files), TLS required on
    /// the control and the data connections: a transfer that works was encrypted (PROT P).
    pub fn start_ftps(root: &Path, cert: &Path, key: &Path) -> FtpServer {
        Self::start_with(root, Some((cert.to_path_buf(), key.to_path_buf())))
    }

    fn start_with(root: &Path, tls: Option<(PathBuf, PathBuf)>) -> FtpServer {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime");
        // Bound here so the port is known before the first connection.
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let refused: Refused = Arc::default();
        let events = Recorder::default();
        let (root_c, refused_c, events_c) = (root.to_path_buf(), refused.clone(), events.clone());
        runtime.spawn(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    continue;
                };
                let (root, refused) = (root_c.clone(), refused_c.clone());
                let builder = ServerBuilder::with_authenticator(
                    Box::new(move || Guarded {
                        inner: Filesystem::new(root.clone()).expect("filesystem backend"),
                        refused: refused.clone(),
                    }),
                    Arc::new(TestAuth),
                )
                .active_passive_mode(ActivePassiveMode::ActiveAndPassive)
                .notify_data(events_c.clone())
                .greeting("ftpmirror test server");
                let builder = match &tls {
                    Some((cert, key)) => builder
                        .ftps(cert.clone(), key.clone())
                        .ftps_required(FtpsRequired::All, FtpsRequired::All),
                    None => builder,
                };
                let server = builder.build().expect("server");
                tokio::spawn(server.service(socket));
            }
        });
        FtpServer {
            port,
            root: root.to_path_buf(),
            refused,
            events,
            runtime: Some(runtime),
        }
    }

    /// `ftp://test:PASSWORD@127.0.0.1:PORT/path`.
    pub fn url(&self, path: &str) -> String {
        format!(
            "ftp://{USER}:{PASSWORD}@127.0.0.1:{}/{}",
            self.port,
            path.trim_start_matches('/')
        )
    }

    /// The same URL without credentials.
    pub fn bare_url(&self, path: &str) -> String {
        format!(
            "ftp://127.0.0.1:{}/{}",
            self.port,
            path.trim_start_matches('/')
        )
    }

    /// Makes RETR and STOR of any file with this name fail with 550.
    pub fn refuse(&self, name: &str) {
        self.refused.lock().unwrap().insert(name.to_string());
    }

    /// What the server has done so far.
    pub fn events(&self) -> Vec<String> {
        self.events.0.lock().unwrap().clone()
    }
}

impl Drop for FtpServer {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}
