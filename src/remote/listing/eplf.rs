//! EPLF (D. J. Bernstein's Easily Parsed LIST Format): `+facts,facts,...<TAB>name`, where
//! `/` marks a directory, `r` a file that can be retrieved, `s` gives the size in bytes and
//! `m` the mtime in seconds since the epoch (UTC).

use std::time::{Duration, SystemTime};

use super::{Listed, ListedKind, Size, digits};
use crate::tree::{Mtime, Precision};

pub fn parse(line: &str) -> Option<Listed> {
    let (facts, name) = line.strip_prefix('+')?.split_once('\t')?;
    if name.is_empty() {
        return None;
    }
    let (mut dir, mut file, mut size, mut mtime) = (false, false, Size::Unknown, None);
    for fact in facts.split(',').filter(|f| !f.is_empty()) {
        let (tag, value) = fact.split_at(1);
        match tag {
            "/" => dir = true,
            "r" => file = true,
            "s" if digits(value) => size = Size::Exact(value.parse().ok()?),
            "m" if digits(value) => {
                mtime = Some(Mtime {
                    time: SystemTime::UNIX_EPOCH + Duration::from_secs(value.parse().ok()?),
                    precision: Precision::Second,
                })
            }
            "s" | "m" => return None,
            _ => {}
        }
    }
    let kind = match (dir, file) {
        (true, _) => ListedKind::Dir,
        (false, true) => ListedKind::File,
        (false, false) => ListedKind::Other("EPLF entry neither file nor directory".into()),
    };
    Some(Listed::new(name, kind, size, mtime))
}
