//! `--remote-lock`: one run at a time on a remote tree, across machines. Two CI runs with
//! `--delete` can otherwise delete each other's uploads.
//!
//! The lock is a directory, `.ftpmirror-lock` at the remote root: MKD either creates it or
//! fails, on every server, so taking it is atomic. Inside, a file `owner` names the host, the
//! pid and the start time. A lock older than the TTL is taken over (its run died without
//! cleaning up), with a warning. The lock is removed at the end of the run, also after Ctrl-C
//! or SIGTERM (the run ends through the same path).

use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};

use super::{Pool, Session};

/// The lock's name at the remote root (a `.ftpmirror` name: never mirrored or deleted).
pub const NAME: &str = ".ftpmirror-lock";

/// A lock this run holds.
pub struct RemoteLock {
    dir: String,
    owner: String,
}

/// What [`acquire`] found.
pub enum Taken {
    Held(RemoteLock),
    /// The lock was older than the TTL: taken over. The old owner line, for the warning.
    FromStale(RemoteLock, String),
    /// Another run holds it: its owner line.
    Busy(String),
}

/// Takes the lock at `root`, or says who holds it.
pub fn acquire(pool: &Pool, ttl: Duration) -> Result<Taken> {
    let mut s = pool.take()?;
    let r = acquire_on(&mut s, pool.root(), ttl);
    pool.give(s);
    r
}

fn acquire_on(s: &mut Session, root: &str, ttl: Duration) -> Result<Taken> {
    let dir = format!("{}/{NAME}", root.trim_end_matches('/'));
    let owner = format!("{dir}/owner");
    let me = owner_line(SystemTime::now());
    let write_owner = |s: &mut Session| -> Result<RemoteLock> {
        s.store(&owner, 0, &mut me.as_bytes(), &mut |_| {})
            .with_context(|| format!("cannot write the remote lock {owner}"))?;
        Ok(RemoteLock {
            dir: dir.clone(),
            owner: owner.clone(),
        })
    };
    if s.mkdir(&dir).is_ok() {
        return Ok(Taken::Held(write_owner(s)?));
    }
    if !s.dir_exists(root).unwrap_or(true) {
        // A first push: the remote root is not there yet.
        s.mkdir_all(root)?;
        s.mkdir(&dir)
            .with_context(|| format!("cannot create the remote lock {dir}"))?;
        return Ok(Taken::Held(write_owner(s)?));
    }
    let mut holder = read_owner(s, &owner)?;
    if holder.is_none() {
        // Made a moment ago by a run that has not written its owner file yet, or left by
        // one that died in between: look once more before calling it stale.
        std::thread::sleep(Duration::from_secs(2));
        holder = read_owner(s, &owner)?;
    }
    let Some(line) = holder else {
        return Ok(Taken::FromStale(
            write_owner(s)?,
            "an owner-less lock".to_string(),
        ));
    };
    let started = started_at(&line);
    let stale = started.is_none_or(|t| {
        SystemTime::now()
            .duration_since(t)
            .is_ok_and(|age| age > ttl)
    });
    if stale {
        return Ok(Taken::FromStale(write_owner(s)?, line));
    }
    Ok(Taken::Busy(line))
}

/// The owner file's line, `None` where there is none (550).
fn read_owner(s: &mut Session, owner: &str) -> Result<Option<String>> {
    Ok(s.fetch(owner)?.map(|bytes| {
        let text = String::from_utf8_lossy(&bytes);
        text.lines().next().unwrap_or("").to_string()
    }))
}

impl RemoteLock {
    /// Removes the lock: its owner file, then the directory.
    pub fn release(self, pool: &Pool) -> Result<()> {
        let mut s = pool.take()?;
        let r = s
            .remove_file(&self.owner)
            .and_then(|()| s.remove_dir(&self.dir));
        pool.give(s);
        r.with_context(|| format!("cannot remove the remote lock {}", self.dir))
    }
}

/// `host=build-7 pid=4242 started=2026-12-02T13:00:00Z`.
pub fn owner_line(now: SystemTime) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().replace(char::is_whitespace, "_"))
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".to_string());
    let started = chrono::DateTime::<chrono::Utc>::from(now)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    format!("host={host} pid={} started={started}\n", std::process::id())
}

fn started_at(line: &str) -> Option<SystemTime> {
    let v = line
        .split_whitespace()
        .find_map(|w| w.strip_prefix("started="))?;
    chrono::DateTime::parse_from_rfc3339(v)
        .ok()
        .map(SystemTime::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_owner_line_carries_its_start_time() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_706_097_600);
        let line = owner_line(t);
        assert!(line.contains("started=2024-01-24T12:00:00Z"), "{line}");
        assert!(line.contains(&format!("pid={}", std::process::id())));
        assert_eq!(started_at(line.trim()), Some(t));
        assert_eq!(started_at("garbage"), None);
    }
}
