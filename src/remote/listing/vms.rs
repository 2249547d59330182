//! OpenVMS lines: `NAME.EXT;VERSION  SIZE  DD-MON-YYYY HH:MM:SS  [OWNER]  (PROTECTION)`.
//! The size is in 512-byte blocks (`9/9` is used/allocated) or with a unit (`2KB`), so it is
//! an estimate, never bytes. Servers differ in which columns they print and in what order;
//! a long name puts the columns on the next line (`Listing` joins the two). `NAME.DIR;1` is
//! the directory `NAME`; of a file's versions only the highest is the file.

use chrono::NaiveDate;

use super::dates::{self, Stamp};
use super::{Listed, ListedKind, ParsedLine, Size, digits};

pub fn parse(line: &str) -> Option<Listed> {
    let mut words = line.split_whitespace().peekable();
    let (name, version) = name_version(words.next()?)?;
    let (mut size, mut stamp, mut owner, mut protection) = (None, None, false, false);
    while let Some(w) = words.next() {
        if stamp.is_none()
            && let Some(d) = vms_date(w)
        {
            // The time, where there is one, comes right after the date.
            stamp = Some(match words.peek().and_then(|t| dates::clock(t)) {
                Some(c) => {
                    words.next();
                    Stamp::At(d, c)
                }
                None => Stamp::Date(d),
            });
        } else if size.is_none()
            && let Some(s) = blocks(w)
        {
            size = Some(s);
        } else if !owner && is_owner(w) {
            owner = true;
        } else if !protection && is_protection(w) {
            protection = true;
        } else {
            return None;
        }
    }
    let (stamp, size) = (stamp?, size?);
    let (name, kind) = match name
        .strip_suffix(".DIR")
        .or_else(|| name.strip_suffix(".dir"))
    {
        Some(dir) => (dir, ListedKind::Dir),
        None => (name, ListedKind::File),
    };
    // A full date: no year to place, so any clock will do.
    let mtime = stamp.resolve(chrono::Utc::now());
    let mut l = Listed::new(name, kind, size, mtime);
    l.version = Some(version);
    Some(l)
}

/// A line that is only `NAME.EXT;VERSION`: its columns follow on the next line.
pub fn is_lone_name(line: &str) -> bool {
    !line.contains(char::is_whitespace) && name_version(line).is_some()
}

fn name_version(tok: &str) -> Option<(&str, u32)> {
    let (name, version) = tok.rsplit_once(';')?;
    let ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"$_.-~".contains(&b))
        && digits(version)
        && version.len() <= 5;
    ok.then(|| Some((name, version.parse().ok()?))).flatten()
}

/// `2-JUN-1998`: the day, an English month in capitals or not, and four digits of year.
fn vms_date(tok: &str) -> Option<NaiveDate> {
    let mut parts = tok.split('-');
    let (d, m, y) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || !digits(d) || d.len() > 2 || y.len() != 4 || !digits(y) {
        return None;
    }
    NaiveDate::from_ymd_opt(y.parse().ok()?, dates::english_month(m)?, d.parse().ok()?)
}

/// Blocks used (`9`, `9/12`), or a size with a unit (`2KB`, `1.5MB`).
fn blocks(tok: &str) -> Option<Size> {
    let used = tok
        .split_once('/')
        .map_or(tok, |(u, alloc)| if digits(alloc) { u } else { "" });
    if digits(used) {
        return Some(Size::Estimate(
            used.parse::<u64>().ok()?.saturating_mul(512),
        ));
    }
    let i = tok.find(|c: char| c.is_ascii_alphabetic())?;
    let (num, unit) = tok.split_at(i);
    let mult: u64 = match unit.to_ascii_uppercase().as_str() {
        "B" => 1,
        "KB" => 1 << 10,
        "MB" => 1 << 20,
        "GB" => 1 << 30,
        _ => return None,
    };
    let n: f64 = num
        .parse()
        .ok()
        .filter(|_| !num.is_empty() && !num.starts_with(['-', '+']))?;
    Some(Size::Estimate((n * mult as f64) as u64))
}

/// `[GROUP,OWNER]` or `[OWNER]` (some servers cut a long one short of its `]`).
fn is_owner(tok: &str) -> bool {
    tok.strip_prefix('[').is_some_and(|inner| {
        let inner = inner.strip_suffix(']').unwrap_or(inner);
        !inner.is_empty()
            && inner
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"$_,".contains(&b))
    })
}

/// `(RWED,RWED,RE,)`: four groups of the letters R, W, E, D.
fn is_protection(tok: &str) -> bool {
    tok.strip_prefix('(')
        .and_then(|t| t.strip_suffix(')'))
        .is_some_and(|inner| {
            let groups: Vec<&str> = inner.split(',').collect();
            groups.len() == 4
                && groups
                    .iter()
                    .all(|g| g.bytes().all(|b| b"RWED".contains(&b)))
        })
}

/// Of each file's versions, only the highest stays: older versions are not files of their
/// own. A directory has one version and is left as it is.
pub fn keep_latest(out: &mut Vec<ParsedLine>) {
    let mut latest: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
    for l in out.iter().flatten() {
        if let Some(v) = l.version {
            let e = latest.entry(l.name.clone()).or_insert(v);
            *e = (*e).max(v);
        }
    }
    out.retain(|p| match p {
        Ok(l) => l.version.is_none_or(|v| latest.get(&l.name) == Some(&v)),
        Err(_) => true,
    });
}
