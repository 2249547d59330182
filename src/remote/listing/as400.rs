//! IBM i (AS/400, OS/400) lines: `OWNER  size  date  time  *TYPE  name`, or `OWNER  *MEM
//! FILE.FILE/MEMBER.MBR` for a member, which has no size or date. The date's field order is
//! the job's (`*MDY`, `*DMY`, `*YMD`); where the numbers allow more than one, day-month-year
//! is taken, as most of the world's IBM i systems print it.

use chrono::NaiveDate;

use super::dates::{self, short_year};
use super::{Listed, ListedKind, Size, digits, tokens};
use crate::tree::{Mtime, Precision};

pub fn parse(line: &str) -> Option<Listed> {
    let toks = tokens(line);
    let owner = toks.first()?.1;
    if !owner
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"$#@_".contains(&b))
    {
        return None;
    }
    let (typ, size, mtime, at) = match toks.get(1)?.1 {
        "*MEM" => ("*MEM", Size::Unknown, None, 1),
        size if digits(size) => {
            let (date, time, typ) = (toks.get(2)?.1, toks.get(3)?.1, toks.get(4)?.1);
            let clock = dates::clock(time).filter(|c| c.hour < 24)?;
            let t = date_of(date)?.and_hms_opt(clock.hour, clock.minute, clock.second?)?;
            let mtime = Mtime {
                time: t.and_utc().into(),
                precision: Precision::Second,
            };
            (typ, Size::Exact(size.parse().ok()?), Some(mtime), 4)
        }
        _ => return None,
    };
    if !typ.starts_with('*') || typ.len() < 3 || (typ == "*MEM") != (at == 1) {
        return None;
    }
    let name = line.get(toks[at].0 + typ.len()..)?.trim_start();
    if name.is_empty() {
        return None;
    }
    // A name ending in `/` is a directory whatever its type.
    let (name, slash) = match name.strip_suffix('/') {
        Some(n) => (n, true),
        None => (name, false),
    };
    let kind = match typ {
        _ if slash => ListedKind::Dir,
        "*DIR" | "*LIB" | "*FLR" => ListedKind::Dir,
        _ => ListedKind::File,
    };
    Some(Listed::new(name, kind, size, mtime))
}

/// `DD/MM/YY`, `MM/DD/YY` or `YY/MM/DD` (also with `.`), whichever the numbers allow,
/// day first where more than one does.
fn date_of(t: &str) -> Option<NaiveDate> {
    let sep = if t.contains('/') { '/' } else { '.' };
    let p: Vec<&str> = t.split(sep).collect();
    if p.len() != 3 || p.iter().any(|x| x.len() != 2 || !digits(x)) {
        return None;
    }
    let n = |i: usize| p[i].parse::<u32>().ok();
    let (a, b, c) = (n(0)?, n(1)?, n(2)?);
    let (first, last) = (short_year(p[0])?, short_year(p[2])?);
    NaiveDate::from_ymd_opt(last, b, a)
        .or_else(|| NaiveDate::from_ymd_opt(last, a, b))
        .or_else(|| NaiveDate::from_ymd_opt(first, b, c))
}
