//! MLSD lines (RFC 3659 §7): `fact=value;fact=value; name`. Parsed here rather than with
//! suppaftp, which turns `cdir`/`pdir` into `.`/`..` and rejects `OS.unix=slink:` entries.
//!
//! Fact names are case-insensitive, and so are the values of `type`. Facts hold no spaces,
//! so the facts end at the first space (or tab, which some servers send); exactly one
//! separator follows, and the name is everything after it, its own leading and trailing
//! whitespace included. A `type` fact is optional (the entry's kind is then unknown), and
//! so is `size`: a file without one is given a size by a `SIZE` later.

use std::time::SystemTime;

use chrono::NaiveDateTime;

use super::{Listed, ListedKind, ParsedLine, Size};
use crate::tree::{Mtime, Precision};

pub fn parse_mlsd_line(line: &str) -> ParsedLine {
    let line = line.strip_suffix('\r').unwrap_or(line);
    let bad = |why: &str| Err(format!("{why} in MLSD line {:?}", line));
    let Some(split) = line.find([' ', '\t']) else {
        return bad("no name");
    };
    let (facts, name) = (&line[..split], &line[split + 1..]);
    if name.is_empty() {
        return bad("no name");
    }
    // Each fact ends with ';' (RFC 3659 §7.2), so the facts do too, where there are any.
    if !facts.is_empty() && !facts.ends_with(';') {
        return bad("facts not ended by ';'");
    }
    let mut kind = None;
    let mut size = Size::Unknown;
    let mut mtime = None;
    let mut target = None;
    for fact in facts.split(';').filter(|f| !f.is_empty()) {
        let Some((key, value)) = fact.split_once('=') else {
            return bad("malformed fact");
        };
        if key.is_empty() {
            return bad("malformed fact");
        }
        // An empty value says nothing (`Size=;`).
        if value.is_empty() {
            continue;
        }
        match key.to_ascii_lowercase().as_str() {
            "type" => {
                let v = value.to_ascii_lowercase();
                kind = Some(match v.as_str() {
                    "file" => ListedKind::File,
                    "dir" => ListedKind::Dir,
                    "cdir" | "pdir" => ListedKind::SelfOrParent,
                    _ if v.starts_with("os.unix=slink") || v.starts_with("os.unix=symlink") => {
                        // `OS.unix=slink:/target`: the target keeps its case.
                        target = value.split_once(':').map(|(_, t)| t.to_string());
                        ListedKind::Symlink
                    }
                    _ => ListedKind::Other(value.to_string()),
                });
            }
            // `sizd`: a directory's size, where servers give one.
            "size" | "sizd" => match value.parse::<u64>() {
                Ok(n) => size = Size::Exact(n),
                Err(_) => return bad("bad size"),
            },
            "modify" => match parse_mlsd_time(value) {
                Some(t) => mtime = Some(t),
                None => return bad("bad modify time"),
            },
            _ => {}
        }
    }
    let kind = kind.unwrap_or_else(|| ListedKind::Other("unknown (no type fact)".into()));
    // "." and ".." are never entries of their own, whatever type a server gives them.
    let kind = if name == "." || name == ".." {
        ListedKind::SelfOrParent
    } else {
        kind
    };
    let mut l = Listed::new(
        name,
        kind,
        size,
        mtime.map(|time| Mtime {
            time,
            precision: Precision::Second,
        }),
    );
    l.target = target;
    Ok(l)
}

/// `YYYYMMDDHHMMSS[.sss]`, UTC (RFC 3659 §2.3).
pub fn parse_mlsd_time(v: &str) -> Option<SystemTime> {
    let (whole, frac) = v.split_once('.').unwrap_or((v, "0"));
    if whole.len() != 14
        || frac.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let dt = NaiveDateTime::parse_from_str(v, "%Y%m%d%H%M%S%.f").ok()?;
    Some(dt.and_utc().into())
}
