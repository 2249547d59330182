//! OS/2 lines: `size  [attributes]  [DIR]  MM-DD-YY  HH:MM  name`. Years after 1999 may be
//! printed as three digits counted from 1900 (`04-23-103`).

use chrono::NaiveDate;

use super::dates::{self, short_year};
use super::{Listed, ListedKind, Size, digits, token};
use crate::tree::{Mtime, Precision};

pub fn parse(line: &str) -> Option<Listed> {
    let (size, mut rest) = token(line)?;
    if !digits(size) {
        return None;
    }
    let mut dir = false;
    let date = loop {
        let (t, r) = token(rest)?;
        rest = r;
        if let Some(d) = date(t) {
            break d;
        }
        match t {
            "DIR" if !dir => dir = true,
            // Attribute letters: archive, read-only, system, hidden.
            _ if t.len() <= 4 && t.bytes().all(|b| b"ARSH".contains(&b)) => {}
            _ => return None,
        }
    };
    let (time, rest) = token(rest)?;
    let clock = dates::clock(time).filter(|c| c.second.is_none() && c.hour < 24)?;
    let name = rest.trim_start();
    if name.is_empty() {
        return None;
    }
    let t = date.and_hms_opt(clock.hour, clock.minute, 0)?;
    let kind = if dir {
        ListedKind::Dir
    } else {
        ListedKind::File
    };
    let mtime = Mtime {
        time: t.and_utc().into(),
        precision: Precision::Minute,
    };
    Some(Listed::new(
        name,
        kind,
        Size::Exact(size.parse().ok()?),
        Some(mtime),
    ))
}

/// `MM-DD-YY`, `MM-DD-YYY` or `MM-DD-YYYY`.
fn date(t: &str) -> Option<NaiveDate> {
    let mut p = t.split('-');
    let (m, d, y) = (p.next()?, p.next()?, p.next()?);
    if p.next().is_some() || m.len() != 2 || d.len() != 2 || !digits(m) || !digits(d) {
        return None;
    }
    NaiveDate::from_ymd_opt(short_year(y)?, m.parse().ok()?, d.parse().ok()?)
}
