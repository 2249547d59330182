//! Single-file commands for scripts: `get`, `put`, `mv`, `rm`, `mkdir`, `rmdir`. The same
//! URL, credential, TLS, timeout and exit-code rules as `push` and `pull`, and the same
//! atomic writes: a download and an upload go to a temporary name renamed into place.

use std::fs::File;
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};

use crate::config::url::FtpUrl;
use crate::config::{Config, FileOp};
use crate::remote::{Pool, Session, TimeCommand, escape};
use crate::tree::part_name;

/// Runs `op` on the pool's root path (the URL's path). Returns a line for `-v`.
pub fn run(cfg: &Config, pool: &Pool, op: &FileOp) -> Result<String> {
    let path = pool.root().to_string();
    let mut s = pool.take()?;
    let r = pool.with_retries(&mut s, &|_| {}, |s| one(cfg, pool, s, op, &path));
    pool.give(s);
    r
}

fn one(cfg: &Config, pool: &Pool, s: &mut Session, op: &FileOp, path: &str) -> Result<String> {
    match op {
        FileOp::Get(local) => get(pool, s, path, local),
        FileOp::Put(local) => put(pool, s, local, path),
        FileOp::Mv(to) => {
            let to = target(cfg, s, to)?;
            s.rename(path, &to)?;
            Ok(format!("renamed {} to {}", escape(path), escape(&to)))
        }
        FileOp::Rm => {
            s.remove_file(path)?;
            Ok(format!("deleted {}", escape(path)))
        }
        FileOp::Mkdir => {
            s.ensure_dir(path)?;
            Ok(format!("created {}", escape(path)))
        }
        FileOp::Rmdir => {
            s.remove_dir(path)?;
            Ok(format!("removed {}", escape(path)))
        }
    }
}

/// RETR into `.NAME.ftpmirror-part` beside `local`, checked against SIZE where the server
/// has it, given the remote mtime (MDTM), then renamed over `local`.
fn get(pool: &Pool, s: &mut Session, remote: &str, local: &Path) -> Result<String> {
    let name = local
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| anyhow!("{} is not a file name", local.display()))?;
    let dir = local.parent().filter(|d| !d.as_os_str().is_empty());
    let part = dir.unwrap_or(Path::new(".")).join(part_name(name));
    let expected = if pool.caps().size {
        s.sizes(&[remote.to_string()])?.pop().flatten()
    } else {
        None
    };
    let mut file =
        File::create(&part).with_context(|| format!("cannot create {}", part.display()))?;
    let got = s.retrieve(remote, 0, &mut file, &mut |_| {}, pool.caps().mdtm);
    let (bytes, mtime) = match got {
        Ok(r) => r,
        Err(e) => {
            let _ = std::fs::remove_file(&part);
            return Err(e);
        }
    };
    if let Some(n) = expected
        && n != bytes
    {
        let _ = std::fs::remove_file(&part);
        bail!(
            "RETR {} returned {bytes} bytes but SIZE said {n}",
            escape(remote)
        );
    }
    if let Some(t) = mtime {
        file.set_modified(t)
            .with_context(|| format!("cannot set the mtime of {}", part.display()))?;
    }
    file.sync_all().ok();
    drop(file);
    std::fs::rename(&part, local)
        .with_context(|| format!("cannot rename {} to {}", part.display(), local.display()))?;
    Ok(format!("downloaded {} ({bytes} bytes)", escape(remote)))
}

/// STOR to `.NAME.ftpmirror-part` beside the target (its directory made first), the mtime
/// set where the server can (MFMT), then RNFR/RNTO into place.
fn put(pool: &Pool, s: &mut Session, local: &Path, remote: &str) -> Result<String> {
    let mut file = File::open(local).with_context(|| format!("cannot open {}", local.display()))?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        bail!("{} is not a file", local.display());
    }
    let (dir, name) = remote
        .rsplit_once('/')
        .filter(|(_, n)| !n.is_empty())
        .ok_or_else(|| anyhow!("{} names no file", escape(remote)))?;
    if !dir.is_empty() {
        s.ensure_dir(dir)?;
    }
    let temp = format!("{dir}/{}", part_name(name));
    let sent = s.store(&temp, 0, &mut file, &mut |_| {})?;
    if sent != meta.len() {
        let _ = s.remove_file(&temp);
        bail!("sent {sent} of {} bytes of {}", meta.len(), local.display());
    }
    let time = pool
        .caps()
        .mfmt
        .then(|| meta.modified().ok().map(|t| (TimeCommand::Mfmt, t)))
        .flatten();
    let crate::remote::Finished {
        time: timed,
        renamed,
        ..
    } = s.finish_upload(time, None, &temp, Some(remote));
    if let Err(e) = renamed {
        let _ = s.remove_file(&temp);
        return Err(e);
    }
    // An mtime the server would not take costs nothing but the mtime.
    let note = match timed {
        Some(Err(e)) => format!("; mtime not set: {e:#}"),
        _ => String::new(),
    };
    Ok(format!("uploaded {} ({sent} bytes){note}", escape(remote)))
}

/// `mv`'s target: a URL on the same server, or a path, each absolute or relative to the
/// login directory.
fn target(cfg: &Config, s: &mut Session, to: &str) -> Result<String> {
    let path = if to.contains("://") {
        let url = FtpUrl::parse(to)?;
        let port = url.port.unwrap_or(cfg.endpoint.port);
        if url.host != cfg.endpoint.host || port != cfg.endpoint.port {
            bail!("mv works on one server: {to} is on another");
        }
        url.path
    } else {
        to.to_string()
    };
    if path.starts_with('/') {
        return Ok(path);
    }
    let home = s.pwd()?;
    Ok(crate::remote::pool::join_remote(&home, &path))
}
