//! What happened in a run: counts, bytes, failures with their causes; the summary and the
//! exit code.

pub mod event;
pub mod progress;
pub mod runlog;
pub mod summary;
pub mod term;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use indicatif::HumanBytes;

use crate::error::Exit;
use crate::path::RelPath;
use crate::plan::Op;
use crate::report::event::{Event, Fault};

/// An action that failed: "upload a/b: STOR /www/a/b on host:21: 550 ...".
#[derive(Debug, Clone)]
pub struct Failed {
    pub op: Op,
    pub path: RelPath,
    pub fault: Fault,
}

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.op.label(), self.path, self.fault)
    }
}

impl Failed {
    /// For `--summary-json`.
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "op": self.op.label(),
            "path": self.path.as_str(),
            "step": self.fault.step.label(),
            "code": self.fault.code,
            "message": self.fault.message,
        })
    }
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub count: usize,
    pub bytes: u64,
}

#[derive(Debug)]
pub struct Report {
    pub done: BTreeMap<Op, Counts>,
    /// Actions that failed.
    pub failures: Vec<Failed>,
    /// Listings that failed, unusable names, conflicts: the mirror is incomplete.
    pub problems: Vec<String>,
    /// Worth telling, not a failure: skipped symlinks, deletions held back.
    pub notices: Vec<String>,
    /// Source files the destination already had.
    pub unchanged: usize,
    pub started: Instant,
}

impl Report {
    pub fn new() -> Report {
        Report {
            done: BTreeMap::new(),
            failures: Vec::new(),
            problems: Vec::new(),
            notices: Vec::new(),
            unchanged: 0,
            started: Instant::now(),
        }
    }

    pub fn record(&mut self, ev: &Event) {
        match ev {
            Event::Done {
                op,
                path,
                bytes,
                result,
            } => match result {
                Ok(()) => {
                    let c = self.done.entry(*op).or_default();
                    c.count += 1;
                    c.bytes += bytes;
                }
                Err(e) => self.failures.push(Failed {
                    op: *op,
                    path: path.clone(),
                    fault: e.clone(),
                }),
            },
            Event::Notice(n) => self.notices.push(n.clone()),
            Event::Listed { .. } | Event::Start { .. } | Event::Bytes(_) | Event::Detail(_) => {}
        }
    }

    pub fn count(&self, op: Op) -> usize {
        self.done.get(&op).map_or(0, |c| c.count)
    }

    pub fn bytes(&self) -> u64 {
        self.done.values().map(|c| c.bytes).sum()
    }

    pub fn ok(&self) -> bool {
        self.failures.is_empty() && self.problems.is_empty()
    }

    pub fn exit_code(&self) -> Exit {
        if self.ok() { Exit::Ok } else { Exit::Partial }
    }

    /// "3 uploaded, 0 downloaded, 1 deleted, 2 unchanged, 1 dir created; 1.5 MiB in 0.4 s; 0 failed"
    pub fn summary(&self) -> String {
        self.summary_at(self.started.elapsed())
    }

    pub fn summary_at(&self, elapsed: Duration) -> String {
        let secs = elapsed.as_secs_f64();
        let bytes = self.bytes();
        let mut parts = vec![
            format!("{} uploaded", self.count(Op::Upload)),
            format!("{} downloaded", self.count(Op::Download)),
            format!("{} deleted", self.count(Op::Delete)),
            format!("{} unchanged", self.unchanged),
        ];
        let mk = self.count(Op::Mkdir);
        if mk > 0 {
            parts.push(format!("{mk} dir(s) created"));
        }
        let rm = self.count(Op::Rmdir);
        if rm > 0 {
            parts.push(format!("{rm} dir(s) removed"));
        }
        let rate = if secs > 0.0 && bytes > 0 {
            format!(", {}/s", HumanBytes((bytes as f64 / secs) as u64))
        } else {
            String::new()
        };
        format!(
            "{}; {} in {secs:.1} s{rate}; {} failed",
            parts.join(", "),
            HumanBytes(bytes),
            self.failures.len() + self.problems.len()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remote::Step;

    #[test]
    fn counts_failures_and_exit_code() {
        let mut r = Report::new();
        assert_eq!(r.exit_code(), Exit::Ok);
        let p = RelPath::parse("a").unwrap();
        r.record(&Event::Done {
            op: Op::Upload,
            path: p.clone(),
            bytes: 2048,
            result: Ok(()),
        });
        r.record(&Event::Done {
            op: Op::Upload,
            path: p.clone(),
            bytes: 0,
            result: Err(Fault {
                message: "550 nope".into(),
                step: Step::Store,
                code: Some(550),
            }),
        });
        r.unchanged = 7;
        assert_eq!(r.count(Op::Upload), 1);
        assert_eq!(r.failures[0].to_string(), "upload a: 550 nope");
        assert_eq!(
            r.failures[0].json(),
            serde_json::json!({"op": "upload", "path": "a", "step": "store", "code": 550, "message": "550 nope"})
        );
        assert_eq!(r.exit_code(), Exit::Partial);
        assert_eq!(
            r.summary_at(Duration::from_secs(2)),
            "1 uploaded, 0 downloaded, 0 deleted, 7 unchanged; 2.00 KiB in 2.0 s, 1.00 KiB/s; 1 failed"
        );
    }
}
