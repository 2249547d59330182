//! Unix `ls -l` lines, however their middle columns and dates look: an ACL `+` or `.` after
//! the permissions, no group or no owner column, `major, minor` for devices, a group run into
//! the size, sizes with a unit (`33.5k`), and dates in every style `dates` knows. The date
//! anchors the parse: the size is the column before it, and the name is everything after it
//! but the one separating space, so leading and inner spaces survive. Sterling
//! Connect:Enterprise's `-C--E-----FTP` permissions are read the same way.

use super::dates::{self, Order, Stamp};
use super::{Ctx, Listed, ListedKind, Size, after, digits, tokens};

pub fn parse(line: &str, ctx: &Ctx) -> Option<Listed> {
    let mut toks = tokens(line);
    // An ACL mark run into the link count: "drwxr-x---+1464".
    if let Some((perms, links)) = toks.first().and_then(|t| t.1.split_once('+'))
        && digits(links)
    {
        let (at, len) = (toks[0].0, perms.len() + 1);
        toks[0] = (at, &line[at..at + len]);
        toks.insert(1, (at + len, links));
    }
    let perms = toks.first()?.1;
    let type_char = perms.chars().next()?;
    if !(is_mode(perms) || is_connect_enterprise(perms)) {
        return None;
    }
    // A link count glued to the owner ("1ftp") is not a column.
    if toks
        .get(1)
        .is_some_and(|t| t.1.starts_with(|c: char| c.is_ascii_digit()) && !digits(t.1))
    {
        return None;
    }
    let device = matches!(type_char, 'c' | 'b');
    let at = |k: usize, exotic: bool| {
        let (stamp, n, trim) = date_at(&toks, k, exotic)?;
        let size = if device {
            Size::Unknown
        } else {
            size(toks[k - 1].1, k == 3 && !digits(toks[1].1))?
        };
        Some((k, Some(stamp), n, trim, size))
    };
    // The usual "Mon DD HH:MM|YYYY" wherever it is, before any other date style: a
    // number in the owner or group columns must not pass for a date.
    let found = (2..toks.len())
        .find_map(|k| at(k, false))
        .or_else(|| (2..toks.len()).find_map(|k| at(k, true)))
        .or_else(|| dateless(&toks));
    let (k, stamp, n, trim, size) = found?;
    let raw_name = after(line, toks[k + n - 1])?;
    // Columns aligned for another date style may leave more than one space.
    let raw_name = if trim {
        raw_name.trim_start()
    } else {
        raw_name
    };
    let kind = match type_char {
        '-' | 'f' => ListedKind::File,
        'd' => ListedKind::Dir,
        'l' => ListedKind::Symlink,
        'c' => ListedKind::Other("character device".into()),
        'b' => ListedKind::Other("block device".into()),
        'p' => ListedKind::Other("fifo".into()),
        'D' => ListedKind::Other("door".into()),
        _ => ListedKind::Other("socket".into()),
    };
    let (name, target) = match kind {
        ListedKind::Symlink => match raw_name.split_once(" -> ") {
            Some((n, t)) => (n, Some(t.to_string())),
            None => (raw_name, None),
        },
        _ => (raw_name, None),
    };
    let kind = if name == "." || name == ".." {
        ListedKind::SelfOrParent
    } else {
        kind
    };
    let mtime = match stamp {
        Some(s) => Some(s.resolve(ctx.now)?),
        None => None,
    };
    let mut l = Listed::new(name, kind, size, mtime);
    l.target = target;
    l.year_placed = matches!(stamp, Some(Stamp::YearLess { .. }));
    Some(l)
}

/// `drwxr-xr-x`: a type, then read/write/execute for owner, group and others, with set-id
/// and sticky bits (`sStT`) and mandatory locking (`l`); an ACL or security-context mark
/// (`+`, `.`, `@`) may follow. Some servers drop the last character.
fn is_mode(perms: &str) -> bool {
    let mut chars = perms.chars();
    if !chars.next().is_some_and(|c| "-dlcbpsDf".contains(c)) {
        return false;
    }
    let rest: Vec<char> = chars.collect();
    let rest = match rest.last() {
        Some('+' | '.' | '@') => &rest[..rest.len() - 1],
        _ => &rest[..],
    };
    (8..=9).contains(&rest.len())
        && rest.iter().enumerate().all(|(i, c)| match i % 3 {
            0 => matches!(c, 'r' | '-'),
            1 => matches!(c, 'w' | '-'),
            _ => matches!(c, 'x' | '-' | 's' | 'S' | 't' | 'T' | 'l' | 'L'),
        })
}

/// `-C--E-----FTP`: Connect:Enterprise's flags where the mode would be.
fn is_connect_enterprise(perms: &str) -> bool {
    perms.len() == 13
        && perms.starts_with(['-', 'd'])
        && perms.ends_with("FTP")
        && perms[1..10]
            .bytes()
            .all(|b| b == b'-' || b.is_ascii_uppercase())
}

/// The size column: bytes; a size with a unit (`33.5k`, an estimate); or, where there is
/// no link count and the group ran into the size (`longgroup123456`), the trailing digits.
fn size(tok: &str, may_be_glued: bool) -> Option<Size> {
    if digits(tok) {
        return tok.parse().ok().map(Size::Exact);
    }
    let unit = tok.char_indices().find(|(_, c)| c.is_ascii_alphabetic());
    if let Some((i, _)) = unit {
        let (num, unit) = tok.split_at(i);
        let mult: f64 = match unit.to_ascii_lowercase().trim_end_matches('b') {
            "" => 1.0,
            "k" => 1024.0,
            "m" => 1024.0 * 1024.0,
            "g" => 1024.0 * 1024.0 * 1024.0,
            "t" => 1024.0f64.powi(4),
            _ => 0.0,
        };
        let numeric = !num.is_empty() && num.bytes().all(|b| b.is_ascii_digit() || b == b'.');
        if mult > 0.0 && numeric && num.bytes().filter(|b| *b == b'.').count() <= 1 {
            return Some(Size::Estimate(
                (num.parse::<f64>().ok()? * mult).round() as u64
            ));
        }
    }
    if may_be_glued {
        let start = tok.rfind(|c: char| !c.is_ascii_digit())? + 1;
        let (group, n) = tok.split_at(start);
        if !n.is_empty() && group.chars().any(|c| c.is_alphabetic()) {
            return n.parse().ok().map(Size::Estimate);
        }
    }
    None
}

/// A line without a date (some embedded servers): mode, links, owner, group, size, name.
fn dateless(toks: &[(usize, &str)]) -> Option<(usize, Option<Stamp>, usize, bool, Size)> {
    // Nothing after the size may look like part of a date (a misspelt month, say).
    let date_like = |t: &str| {
        dates::clock(t).is_some() || dates::year(t).is_some() || (digits(t) && t.len() <= 2)
    };
    let ok = toks.len() >= 6
        && digits(toks[1].1)
        && digits(toks[4].1)
        && dates::month(toks[5].1).is_none()
        && !toks[5..toks.len().min(9)].iter().any(|t| date_like(t.1));
    ok.then(|| Some((5, None, 0, false, Size::Exact(toks[4].1.parse().ok()?))))
        .flatten()
}

/// The date starting at token `k`, how many tokens it takes, and whether the name after it
/// may be padded with more than one space. `exotic` allows the styles other than
/// `Mon DD HH:MM|YYYY` and its localized forms.
fn date_at(toks: &[(usize, &str)], k: usize, exotic: bool) -> Option<(Stamp, usize, bool)> {
    let t = |i: usize| toks.get(k + i).map(|t| t.1).unwrap_or("");
    // Every date is followed by a name.
    let room = toks.len() - k;
    let time_or_year = |tok: &str, month, day| {
        if let Some(clock) = dates::clock(tok) {
            Some(Stamp::YearLess { month, day, clock })
        } else {
            let y = dates::year(tok)?;
            Some(Stamp::Date(chrono::NaiveDate::from_ymd_opt(y, month, day)?))
        }
    };
    let found = if let (Some(m), Some(d)) = (dates::month(t(0)), dates::day(t(1))) {
        // VShell: "Oct 08, 2002 09:47".
        let vshell = t(1)
            .ends_with(',')
            .then(|| Some((dates::year(t(2))?, dates::clock(t(3))?)))
            .flatten();
        match vshell {
            Some((y, c)) => Some((Stamp::At(chrono::NaiveDate::from_ymd_opt(y, m, d)?, c), 4)),
            None => time_or_year(t(2), m, d).map(|s| (s, 3)),
        }
    } else if !exotic {
        None
    } else if let (Some(d), Some(m)) = (dates::day(t(0)), dates::month(t(1))) {
        // "26. Juli, 20:10", "01 oct 2004", "29 Jul 02:27".
        time_or_year(t(2), m, d).map(|s| (s, 3))
    } else if let (Some(y), Some(m), Some(d)) =
        (dates::year(t(0)), dates::month(t(1)), dates::day(t(2)))
        && t(1).starts_with(|c: char| c.is_ascii_digit())
    {
        // "2005년 1월 6일", "2003 3月 20": year first only with a numbered month, so a
        // size before "Feb 23" is never read as a year.
        Some((Stamp::Date(chrono::NaiveDate::from_ymd_opt(y, m, d)?), 3))
    } else if digits(t(0)) && digits(t(1)) && t(0).len() <= 2 {
        // "3 29 03:26".
        let (m, d) = (t(0).parse().ok()?, dates::day(t(1))?);
        if !(1..=12).contains(&m) {
            return None;
        }
        time_or_year(t(2), m, d).map(|s| (s, 3))
    } else if let Some(date) = dates::numeric_date(t(0), Order::MonthDay) {
        // "2005-06-07 21:22", "24-04-2003 17:12", "2004.07.15", "01-jun-99".
        match dates::clock(t(1)) {
            Some(c) => Some((Stamp::At(date, c), 2)),
            None => Some((Stamp::Date(date), 1)),
        }
    } else if let Some((m, d)) = dates::month_day(t(0)) {
        // "09-26 2000", "09-26 13:45".
        time_or_year(t(1), m, d).map(|s| (s, 2))
    } else {
        None
    };
    found
        .filter(|(_, n)| *n < room)
        .map(|(s, n)| (s, n, exotic))
}
