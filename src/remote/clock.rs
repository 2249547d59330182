//! Remote times: LIST's time zone, and how (whether) this server lets us set mtimes.
//!
//! MLSD and MDTM are UTC, but LIST shows the server's local time to the minute. Where only LIST
//! is available, the offset is taken from `--time-offset` or found once per run by comparing
//! one file's LIST time with its MDTM, as FileZilla does. Where MFMT is missing, vsftpd's
//! `MDTM YYYYMMDDHHMMSS path` may still set times: one harmless probe per run tells.

use std::time::{Duration, SystemTime};

use anyhow::Result;

use super::session::TimeCommand;
use super::{Pool, Session};
use crate::path::RelPath;
use crate::tree::{Kind, Mtime, Precision, Tree};

/// Parses `+02:00`, `-05:30`, `+2`, `0` into seconds east of UTC.
pub fn parse_offset(s: &str) -> Result<i64, String> {
    let t = s.trim();
    let bad = || format!("'{s}' is not a time offset such as +02:00 or -05:30");
    let (sign, rest) = match t.as_bytes().first() {
        Some(b'-') => (-1, &t[1..]),
        Some(b'+') => (1, &t[1..]),
        _ => (1, t),
    };
    let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
    let (h, m): (i64, i64) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if h > 14 || m >= 60 {
        return Err(bad());
    }
    Ok(sign * (h * 3600 + m * 60))
}

/// "+02:00".
pub fn format_offset(secs: i64) -> String {
    let sign = if secs < 0 { '-' } else { '+' };
    let a = secs.abs();
    format!("{sign}{:02}:{:02}", a / 3600, (a % 3600) / 60)
}

/// Shifts every LIST time (minute or day precision) from server-local time to UTC. A date
/// listed without a year is first placed again by the server's clock, now that it is known.
pub fn apply_offset(tree: &mut Tree, offset: i64) {
    if offset == 0 {
        return;
    }
    let shift = Duration::from_secs(offset.unsigned_abs());
    let server_now = chrono::Utc::now() + chrono::Duration::seconds(offset);
    for e in tree.entries.values_mut().chain(tree.parts.values_mut()) {
        let placed = e.year_placed;
        if let Some(m) = e
            .mtime
            .as_mut()
            .filter(|m| m.precision >= Precision::Minute)
        {
            if placed {
                m.time = crate::remote::listing::place_year(m.time, server_now);
            }
            m.time = if offset > 0 {
                m.time - shift
            } else {
                m.time + shift
            };
        }
    }
}

/// The offset of the server's LIST times from UTC, from one recent file's LIST time and its
/// MDTM, rounded to a quarter hour. `None` when there is no such file or MDTM fails.
pub fn detect_offset(pool: &Pool, tree: &Tree) -> Option<(i64, RelPath)> {
    let (path, listed) = tree.entries.iter().find_map(|(p, e)| {
        let m = e
            .mtime
            .filter(|m| e.kind == Kind::File && m.precision == Precision::Minute)?;
        Some((p.clone(), m.time))
    })?;
    let exact = with_session(pool, |s| s.mdtm(&path.to_remote(pool.root()))).ok()?;
    let diff = secs_between(exact, listed);
    // LIST drops the seconds, so the difference is the offset minus up to 59 s.
    let quarter = 900;
    Some((
        ((diff + 30) as f64 / quarter as f64).round() as i64 * quarter,
        path,
    ))
}

/// Whether this server sets mtimes with `MDTM time path`: set one listed file's mtime to what
/// MDTM says it is, which changes nothing. `None` when the tree has no file to try it on.
pub fn probe_mdtm_write(pool: &Pool, tree: &Tree) -> Option<bool> {
    let path = tree
        .entries
        .iter()
        .find(|(_, e)| e.kind == Kind::File)
        .map(|(p, _)| p)?;
    let remote = path.to_remote(pool.root());
    let r = with_session(pool, |s| {
        let now = s.mdtm(&remote)?;
        s.set_time(TimeCommand::MdtmWrite, &remote, now)
    });
    Some(r.is_ok())
}

/// Gives each of `paths` (files whose listed time was too coarse to compare) its MDTM, to
/// the second, asked in batches over the pool's sessions. Returns how many the server
/// answered; the others keep their listed time.
pub fn exact_times(
    pool: &Pool,
    tree: &mut Tree,
    paths: &[RelPath],
    on_notice: &(dyn Fn(String) + Sync),
) -> usize {
    let remote: Vec<String> = paths.iter().map(|p| p.to_remote(pool.root())).collect();
    let times = pool.ask_spread(&remote, on_notice, |s, chunk| s.mtimes(chunk));
    let mut answered = 0;
    for (path, time) in paths.iter().zip(times) {
        if let (Some(t), Some(e)) = (time, tree.entries.get_mut(path)) {
            e.mtime = Some(Mtime {
                time: t,
                precision: Precision::Second,
            });
            e.year_placed = false;
            answered += 1;
        }
    }
    answered
}

fn with_session<T>(pool: &Pool, f: impl FnOnce(&mut Session) -> Result<T>) -> Result<T> {
    let mut s = pool.take()?;
    let r = f(&mut s);
    pool.give(s);
    r
}

/// `listed - exact` in seconds.
fn secs_between(exact: SystemTime, listed: SystemTime) -> i64 {
    match listed.duration_since(exact) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::{Entry, Mtime};

    #[test]
    fn offsets_parse_and_print() {
        assert_eq!(parse_offset("+02:00"), Ok(7200));
        assert_eq!(parse_offset("-05:30"), Ok(-19800));
        assert_eq!(parse_offset("+2"), Ok(7200));
        assert_eq!(parse_offset("0"), Ok(0));
        assert!(parse_offset("+25:00").is_err() && parse_offset("two").is_err());
        assert_eq!(format_offset(-19800), "-05:30");
        assert_eq!(format_offset(7200), "+02:00");
    }

    #[test]
    fn only_list_times_move() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let mut tree = Tree::new();
        let at = |p| {
            Some(Mtime {
                time: t0,
                precision: p,
            })
        };
        tree.insert(
            RelPath::parse("list").unwrap(),
            Entry::file(1, at(Precision::Minute)),
        );
        tree.insert(
            RelPath::parse("mlsd").unwrap(),
            Entry::file(1, at(Precision::Second)),
        );
        apply_offset(&mut tree, 7200);
        let time = |n| {
            tree.get(&RelPath::parse(n).unwrap())
                .unwrap()
                .mtime
                .unwrap()
                .time
        };
        assert_eq!(time("list"), t0 - Duration::from_secs(7200));
        assert_eq!(time("mlsd"), t0);
    }
}
