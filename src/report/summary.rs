//! `--summary-json FILE`: a machine-readable account of one run, for monitoring. Written to a
//! temporary file beside FILE and renamed over it, so a reader never sees half a summary.

use std::path::Path;
use std::time::SystemTime;

use anyhow::{Context, Result};
use serde_json::json;

use crate::config::{Config, Job};
use crate::error::{Error, Exit};
use crate::plan::{Direction, Op};
use crate::report::Report;

pub fn write(
    path: &Path,
    cfg: &Config,
    result: &Result<Report, Error>,
    code: Exit,
    started: SystemTime,
) -> Result<()> {
    let text = serde_json::to_string_pretty(&value(cfg, result, code, started))?;
    let tmp = path.with_file_name(format!(
        ".{}.tmp",
        path.file_name()
            .map_or("summary".into(), |n| n.to_string_lossy())
    ));
    std::fs::write(&tmp, text + "\n")
        .and_then(|()| std::fs::rename(&tmp, path))
        .with_context(|| format!("cannot write summary {}", path.display()))
}

fn value(
    cfg: &Config,
    result: &Result<Report, Error>,
    code: Exit,
    started: SystemTime,
) -> serde_json::Value {
    let ep = &cfg.endpoint;
    let (command, local, dry_run) = match &cfg.job {
        Job::Ls { .. } => ("ls", None, false),
        Job::File(op) => (op.verb(), None, false),
        Job::Sync(j) => (
            match j.direction {
                Direction::Push => "push",
                Direction::Pull => "pull",
            },
            Some(j.local.display().to_string()),
            j.dry_run,
        ),
    };
    let elapsed = started.elapsed().unwrap_or_default().as_secs_f64();
    let mut v = json!({
        "profile": cfg.profile,
        "command": command,
        "local": local,
        "remote": format!("ftp://{}@{}/{}", ep.user, ep.label(), ep.path.trim_start_matches('/')),
        "dry_run": dry_run,
        "started": chrono::DateTime::<chrono::Utc>::from(started).to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "duration_secs": (elapsed * 1000.0).round() / 1000.0,
        "exit_code": code.code(),
        "ok": code == Exit::Ok,
    });
    match result {
        Ok(r) => {
            v["counts"] = json!({
                "uploaded": r.count(Op::Upload),
                "downloaded": r.count(Op::Download),
                "deleted": r.count(Op::Delete),
                "dirs_created": r.count(Op::Mkdir),
                "dirs_removed": r.count(Op::Rmdir),
                "unchanged": r.unchanged,
            });
            v["bytes"] = json!(r.bytes());
            v["failures"] = r.failures.iter().map(|f| f.json()).collect();
            v["problems"] = json!(r.problems);
            v["notices"] = json!(r.notices);
        }
        Err(e) => v["error"] = json!(e.to_string()),
    }
    v
}
