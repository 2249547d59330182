//! `--min-size`, `--max-size`, `--min-age`, `--max-age`: which files a run considers, by
//! size and by age (the file's own mtime). Pure, no I/O.
//!
//! A source file outside the limits is left alone on both sides: not transferred, and its
//! destination copy not deleted, exactly like an excluded name. A destination file outside
//! them with no source file is not deleted either (as in rclone, where the filters apply to
//! both sides).

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime};

use crate::path::RelPath;
use crate::tree::{Entry, Kind, Tree};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    pub min_size: Option<u64>,
    pub max_size: Option<u64>,
    /// Files modified less than this long ago are left for a later run (still being
    /// written, for example).
    pub min_age: Option<Duration>,
    /// Files modified longer ago than this are left alone.
    pub max_age: Option<Duration>,
}

impl Limits {
    pub fn is_none(&self) -> bool {
        *self == Limits::default()
    }

    /// Whether a file is inside the limits at `now`. Directories always are; a file without
    /// an mtime passes the age limits (nothing to judge it by).
    pub fn admits(&self, e: &Entry, now: SystemTime) -> bool {
        if e.kind == Kind::Dir {
            return true;
        }
        let size_ok =
            self.min_size.is_none_or(|m| e.size >= m) && self.max_size.is_none_or(|m| e.size <= m);
        let age = e
            .mtime
            .map(|m| now.duration_since(m.time).unwrap_or(Duration::ZERO));
        let age_ok = match age {
            None => true,
            Some(a) => self.min_age.is_none_or(|m| a >= m) && self.max_age.is_none_or(|m| a <= m),
        };
        size_ok && age_ok
    }

    /// Takes the files outside the limits out of both trees, as described in the module
    /// doc; returns how many source files were left alone.
    pub fn apply(&self, source: &mut Tree, dest: &mut Tree, now: SystemTime) -> usize {
        if self.is_none() {
            return 0;
        }
        let held: BTreeSet<RelPath> = source
            .entries
            .iter()
            .filter(|(_, e)| !self.admits(e, now))
            .map(|(p, _)| p.clone())
            .collect();
        source.entries.retain(|p, _| !held.contains(p));
        dest.entries.retain(|p, e| {
            if held.contains(p) {
                return false;
            }
            // A destination file of its own (nothing of that name in the source) outside
            // the limits is not the source's to delete.
            source.entries.contains_key(p) || self.admits(e, now)
        });
        held.len()
    }
}

/// `512`, `512k`, `4M`, `1.5G`: bytes, with K, M, G, T (base 1024, `KiB` and `k` too).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("'{s}' is not a size such as 512k or 4M"))?;
    let unit = unit.trim().to_ascii_lowercase();
    let mult: u64 = match unit.trim_end_matches("ib").trim_end_matches('b') {
        "" => 1,
        "k" => 1 << 10,
        "m" => 1 << 20,
        "g" => 1 << 30,
        "t" => 1 << 40,
        _ => {
            return Err(format!(
                "unknown unit in '{s}': use k, M, G or T (base 1024)"
            ));
        }
    };
    Ok((n * mult as f64).round() as u64)
}

/// `90s`, `5m`, `2h`, `7d`, `2w`, `6M` (30 days), `1y` (365 days); a bare number is seconds.
pub fn parse_age(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("'{s}' is not an age such as 5m, 12h or 30d"))?;
    let secs = match unit.trim() {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        "M" => 30 * 86_400,
        "y" => 365 * 86_400,
        _ => return Err(format!("unknown unit in '{s}': use s, m, h, d, w, M or y")),
    };
    Ok(Duration::from_secs(n.saturating_mul(secs)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::{Mtime, Precision};

    const NOW: u64 = 1_800_000_000;

    fn file(size: u64, age_secs: u64) -> Entry {
        Entry::file(
            size,
            Some(Mtime {
                time: SystemTime::UNIX_EPOCH + Duration::from_secs(NOW - age_secs),
                precision: Precision::Exact,
            }),
        )
    }

    fn now() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(NOW)
    }

    #[test]
    fn sizes_and_ages_parse() {
        assert_eq!(parse_size("512"), Ok(512));
        assert_eq!(parse_size("512k"), Ok(512 * 1024));
        assert_eq!(parse_size("4M"), Ok(4 << 20));
        assert_eq!(parse_size("1.5G"), Ok(3 << 29));
        assert_eq!(parse_size("2KiB"), Ok(2048));
        assert!(parse_size("4X").is_err() && parse_size("big").is_err());
        assert_eq!(parse_age("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_age("7d"), Ok(Duration::from_secs(604_800)));
        assert_eq!(parse_age("90"), Ok(Duration::from_secs(90)));
        assert!(parse_age("5 minutes").is_err());
    }

    #[test]
    fn limits_admit_by_size_and_age() {
        let l = Limits {
            min_size: Some(10),
            max_size: Some(100),
            min_age: Some(Duration::from_secs(300)),
            max_age: Some(Duration::from_secs(86_400)),
        };
        assert!(l.admits(&file(50, 3600), now()));
        assert!(!l.admits(&file(5, 3600), now()), "too small");
        assert!(!l.admits(&file(500, 3600), now()), "too big");
        assert!(!l.admits(&file(50, 60), now()), "still being written");
        assert!(!l.admits(&file(50, 2 * 86_400), now()), "too old");
        assert!(
            l.admits(&Entry::file(50, None), now()),
            "no mtime: by size only"
        );
        assert!(l.admits(&Entry::dir(), now()));
    }

    #[test]
    fn held_files_are_neither_sent_nor_deleted() {
        let l = Limits {
            min_age: Some(Duration::from_secs(300)),
            ..Limits::default()
        };
        let p = |s: &str| RelPath::parse(s).unwrap();
        let mut source = Tree::new();
        source.insert(p("fresh.log"), file(5, 10));
        source.insert(p("done.log"), file(5, 3600));
        let mut dest = Tree::new();
        dest.insert(p("fresh.log"), file(3, 7200));
        dest.insert(p("gone.log"), file(3, 7200));
        dest.insert(p("new-there.log"), file(3, 10));
        assert_eq!(l.apply(&mut source, &mut dest, now()), 1);
        assert!(source.get(&p("fresh.log")).is_none());
        assert!(
            dest.get(&p("fresh.log")).is_none(),
            "its copy is not deleted"
        );
        assert!(
            dest.get(&p("gone.log")).is_some(),
            "an old extra is still an extra"
        );
        assert!(
            dest.get(&p("new-there.log")).is_none(),
            "a destination file too young to judge is kept"
        );
        assert!(source.get(&p("done.log")).is_some());
    }
}
