//! `--log-file`: timestamped lines appended for each run (start, each action, warnings,
//! errors, summary), as text or (`--log-format json`) one JSON object per line. Never a
//! password: URLs are written without credentials.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};

use crate::remote::escape;
use crate::report::event::Event;

pub struct RunLog {
    file: Option<File>,
    tag: String,
    profile: Option<String>,
    json: bool,
}

impl RunLog {
    /// Opens `path` for appending; `profile` tags each line.
    pub fn open(path: Option<&Path>, profile: Option<&str>, json: bool) -> Result<RunLog> {
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
            profile: profile.map(String::from),
            json,
        })
    }

    /// One JSON object: time, pid, profile, event and the fields given.
    fn record(&mut self, event: &str, fields: serde_json::Value) {
        if let Some(f) = &mut self.file {
            let mut v = serde_json::json!({
                "time": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                "pid": std::process::id(),
                "profile": self.profile,
                "event": event,
            });
            if let (Some(o), serde_json::Value::Object(extra)) = (v.as_object_mut(), fields) {
                o.extend(extra);
            }
            let _ = writeln!(f, "{v}");
        }
    }

    pub fn line(&mut self, msg: &str) {
        if self.json {
            let (event, text) = match msg.split_once(": ") {
                Some((k @ ("warning" | "error"), rest)) => (k, rest),
                _ => ("message", msg),
            };
            let event = if text.starts_with("start ") {
                "start"
            } else if text.starts_with("end: ") {
                "end"
            } else {
                event
            };
            self.record(event, serde_json::json!({ "message": text }));
            return;
        }
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
        if self.json
            && let Event::Done {
                op,
                path,
                bytes,
                result,
            } = ev
        {
            let error = result.as_ref().err();
            self.record(
                op.label(),
                serde_json::json!({
                    "path": path.as_str(),
                    "bytes": bytes,
                    "ok": error.is_none(),
                    "error": error.map(|f| &f.message),
                    "step": error.map(|f| f.step.label()),
                    "code": error.and_then(|f| f.code),
                }),
            );
            return;
        }
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
