//! The harness every end-to-end test states its run with: a [`Server`] (in-process, scripted
//! or daemon), a [`Run`] of the real binary against it, and the expectations on its
//! [`Outcome`], which fail with the run's whole output and at the test's own line.
//!
//! ```ignore
//! Run::new(&sb.server).push(&sb.local).args(["--delete"]).expect_code(0).expect_uploaded(3);
//! ```

use std::path::{Path, PathBuf};

use super::{Outcome, daemons, run_in, scripted, server};

/// Anything ftpmirror can be run against.
pub trait Server {
    /// The `ftp://` URL of `path` (relative to the server's root), with credentials.
    fn url_of(&self, path: &str) -> String;
}

impl Server for server::FtpServer {
    fn url_of(&self, path: &str) -> String {
        self.url(path)
    }
}

impl Server for scripted::Scripted {
    fn url_of(&self, path: &str) -> String {
        format!("{}{}", self.url(), path.trim_start_matches('/'))
    }
}

impl Server for daemons::Daemon {
    fn url_of(&self, path: &str) -> String {
        self.url(path)
    }
}

/// One run of the binary, built up, then run by an `expect_` (or [`Run::run`]).
pub struct Run {
    url: String,
    home: Option<PathBuf>,
    command: Vec<String>,
    flags: Vec<String>,
    operands: Vec<String>,
    env: Vec<(String, String)>,
}

impl Run {
    pub fn new(server: &dyn Server) -> Run {
        Run {
            url: server.url_of(""),
            home: None,
            command: Vec::new(),
            flags: Vec::new(),
            operands: Vec::new(),
            env: Vec::new(),
        }
    }

    /// Runs in `home` (HOME, the working directory, the lock directory); else in a fresh one.
    pub fn home(mut self, home: &Path) -> Run {
        self.home = Some(home.to_path_buf());
        self
    }

    /// `push LOCAL URL`.
    pub fn push(mut self, local: &Path) -> Run {
        self.command = vec!["push".into()];
        self.operands = vec![local.display().to_string(), self.url.clone()];
        self
    }

    /// `pull URL LOCAL`.
    pub fn pull(mut self, local: &Path) -> Run {
        self.command = vec!["pull".into()];
        self.operands = vec![self.url.clone(), local.display().to_string()];
        self
    }

    /// `ls URL`.
    pub fn ls(mut self) -> Run {
        self.command = vec!["ls".into()];
        self.operands = vec![self.url.clone()];
        self
    }

    /// Flags, before the operands.
    pub fn args<I: IntoIterator<Item = S>, S: AsRef<str>>(mut self, args: I) -> Run {
        self.flags
            .extend(args.into_iter().map(|a| a.as_ref().to_string()));
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Run {
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    pub fn run(self) -> Outcome {
        let argv: Vec<&str> = self
            .command
            .iter()
            .chain(&self.flags)
            .chain(&self.operands)
            .map(String::as_str)
            .collect();
        let env: Vec<(&str, &str)> = self
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        match &self.home {
            Some(h) => run_in(h, &argv, &env),
            None => {
                let home = tempfile::tempdir().expect("tempdir");
                run_in(home.path(), &argv, &env)
            }
        }
    }

    /// Runs it; the exit code must be `code`.
    #[track_caller]
    pub fn expect_code(self, code: i32) -> Outcome {
        let out = self.run();
        out.assert_code(code);
        out
    }
}

impl Outcome {
    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Outcome {
        assert_eq!(self.code, code, "exit code\n{}", self.all());
        self
    }

    #[track_caller]
    fn assert_count(&self, op: &str, n: usize) -> &Outcome {
        assert_eq!(self.actions(op).len(), n, "{op} count\n{}", self.all());
        self
    }

    #[track_caller]
    pub fn expect_uploaded(&self, n: usize) -> &Outcome {
        self.assert_count("upload", n)
    }

    #[track_caller]
    pub fn expect_downloaded(&self, n: usize) -> &Outcome {
        self.assert_count("download", n)
    }

    #[track_caller]
    pub fn expect_deleted(&self, n: usize) -> &Outcome {
        self.assert_count("delete", n)
    }

    #[track_caller]
    pub fn expect_stdout(&self, has: &str) -> &Outcome {
        assert!(
            self.stdout.contains(has),
            "stdout lacks {has:?}\n{}",
            self.all()
        );
        self
    }

    #[track_caller]
    pub fn expect_stderr(&self, has: &str) -> &Outcome {
        assert!(
            self.stderr.contains(has),
            "stderr lacks {has:?}\n{}",
            self.all()
        );
        self
    }
}
