//! `--log-file`: timestamped lines appended for each run (start, each action, warnings,
//! errors, summary). Never a password: URLs are written without credentials.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};

use crate::event::Event;
use crate::remote::escape;

pub struct RunLog {
    file: Option<File>,
    tag: String,
}

impl RunLog {
    pub fn none() -> RunLog {
        RunLog {
            file: None,
            tag: String::new(),
        }
    }

    /// Opens `path` for appending; `profile` tags each line.
    pub fn open(path: Option<&Path>, profile: Option<&str>) -> Result<RunLog> {
        let file = match path {
            None => None,
            Some(p) => Some(
                OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(p)
                    .with_context(|| format!("cannot open log file {}", p.display()))?,
            ),
        };
        Ok(RunLog {
            file,
            tag: profile.map(|p| format!(" [{p}]")).unwrap_or_default(),
        })
    }

    pub fn line(&mut self, msg: &str) {
        if let Some(f) = &mut self.file {
            let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ");
            // A full disk must not stop the mirror; the terminal still has the output.
            let _ = writeln!(
                f,
                "{now} ftpmirror[{}]{} {}",
                std::process::id(),
                self.tag,
                escape(msg)
            );
        }
    }

    pub fn event(&mut self, ev: &Event) {
        match ev {
            Event::Done {
                op,
                path,
                bytes,
                result,
            } => match result {
                Ok(()) if op.is_transfer() => {
                    self.line(&format!("{} {path} ({bytes} bytes)", op.label()))
                }
                Ok(()) => self.line(&format!("{} {path}", op.label())),
                Err(e) => self.line(&format!("error: {} {path}: {e}", op.label())),
            },
            Event::Notice(n) => self.line(&format!("warning: {n}")),
            Event::Detail(d) => self.line(d),
            Event::Listed { .. } | Event::Start { .. } | Event::Bytes(_) => {}
        }
    }
}
