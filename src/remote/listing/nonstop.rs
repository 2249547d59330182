//! HP NonStop (Tandem) Guardian lines: `NAME  code  EOF  DD-Mon-YY  HH:MM:SS  owner  "RWEP"`,
//! where EOF is the size in bytes and the owner is `group, user` (possibly with a space).

use super::dates;
use super::{Listed, ListedKind, Size, digits};
use crate::tree::{Mtime, Precision};

pub fn parse(line: &str) -> Option<Listed> {
    let w: Vec<&str> = line.split_whitespace().collect();
    if w.len() < 6 || !digits(w[1]) || !digits(w[2]) || !w.last()?.starts_with('"') {
        return None;
    }
    let date = dates::numeric_date(w[3], dates::Order::DayMonth)
        .filter(|_| w[3].bytes().any(|b| b.is_ascii_alphabetic()))?;
    let clock = dates::clock(w[4]).filter(|c| c.hour < 24)?;
    // The owner: "255,255" or "255, 0".
    let owner = w[5..w.len() - 1].concat();
    let ok = owner
        .split_once(',')
        .is_some_and(|(g, u)| digits(g) && digits(u));
    if !ok {
        return None;
    }
    let t = date.and_hms_opt(clock.hour, clock.minute, clock.second.unwrap_or(0))?;
    let mtime = Mtime {
        time: t.and_utc().into(),
        precision: Precision::Second,
    };
    let size = Size::Exact(w[2].parse().ok()?);
    Some(Listed::new(w[0], ListedKind::File, size, Some(mtime)))
}
