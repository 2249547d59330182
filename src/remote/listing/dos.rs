//! DOS/IIS lines: `MM-DD-YY  HH:MMPM  <DIR>|size  name`, in every variant IIS and other
//! Windows servers print.

use chrono::NaiveDate;

use super::{Listed, ListedKind, Size, token};
use crate::tree::{Mtime, Precision};

/// A DOS/IIS line: the date (`MM-DD-YY`, `MM-DD-YYYY`, or ISO `YYYY-MM-DD`, with `-` or `/`),
/// the time (`HH:MM` with `AM`/`PM` glued on or apart, or 24-hour), `<DIR>` or the size
/// (thousands separated by `,` or `.` or not at all), then the name. IIS's "four-digit
/// years" option and non-US locales give the variants; suppaftp's parser knows only the first.
pub fn parse(line: &str) -> Option<Listed> {
    let line = line.trim_end();
    let (date, rest) = token(line)?;
    let date = dos_date(date)?;
    let (time, mut rest) = token(rest)?;
    let split = time
        .len()
        .checked_sub(2)
        .filter(|&i| time.is_char_boundary(i));
    let (clock, glued) = match split.map(|i| time.split_at(i)) {
        Some((c, m)) if m.eq_ignore_ascii_case("AM") || m.eq_ignore_ascii_case("PM") => {
            (c, Some(m))
        }
        _ => (time, None),
    };
    let meridiem = match glued {
        Some(m) => Some(m),
        None => match token(rest) {
            Some((m, r)) if m.eq_ignore_ascii_case("AM") || m.eq_ignore_ascii_case("PM") => {
                rest = r;
                Some(m)
            }
            _ => None,
        },
    };
    let (h, m) = clock.split_once(':')?;
    let digits = |t: &str| !t.is_empty() && t.len() <= 2 && t.bytes().all(|b| b.is_ascii_digit());
    if !digits(h) || m.len() != 2 || !digits(m) {
        return None;
    }
    let (mut hour, minute): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    if let Some(mer) = meridiem {
        if !(1..=12).contains(&hour) {
            return None;
        }
        hour %= 12;
        if mer.eq_ignore_ascii_case("PM") {
            hour += 12;
        }
    }
    let time = date.and_hms_opt(hour, minute, 0)?;
    let (field, rest) = token(rest)?;
    let (kind, size) = if field.eq_ignore_ascii_case("<DIR>") {
        (ListedKind::Dir, Size::Unknown)
    } else if field.starts_with('<') && field.ends_with('>') {
        // <JUNCTION>, <SYMLINKD>, <SYMLINK>: links, never followed.
        (ListedKind::Symlink, Size::Unknown)
    } else {
        (ListedKind::File, Size::Exact(dos_size(field)?))
    };
    let name = rest.trim_start();
    if name.is_empty() {
        return None;
    }
    // A junction's name may carry its target: "name [target]".
    let (name, target) = match (
        &kind,
        name.strip_suffix(']').and_then(|n| n.split_once(" [")),
    ) {
        (ListedKind::Symlink, Some((n, t))) => (n, Some(t.to_string())),
        _ => (name, None),
    };
    let mtime = Mtime {
        time: time.and_utc().into(),
        precision: Precision::Minute,
    };
    let mut l = Listed::new(name, kind, size, Some(mtime));
    l.target = target;
    Some(l)
}

/// `MM-DD-YY`, `MM-DD-YYYY` or `YYYY-MM-DD` (also with `/`); a two-digit year below 70 is in
/// this century, as in every DOS listing since 2000.
fn dos_date(t: &str) -> Option<NaiveDate> {
    let parts: Vec<&str> = t.split(['-', '/']).collect();
    if parts.len() != 3
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let n = |p: &str| p.parse::<u32>().ok();
    let (y, m, d) = if parts[0].len() == 4 {
        (n(parts[0])? as i32, n(parts[1])?, n(parts[2])?)
    } else {
        let y = match parts[2].len() {
            2 => {
                let y = n(parts[2])? as i32;
                if y < 70 { 2000 + y } else { 1900 + y }
            }
            4 => n(parts[2])? as i32,
            _ => return None,
        };
        (y, n(parts[0])?, n(parts[1])?)
    };
    NaiveDate::from_ymd_opt(y, m, d)
}

/// A DOS size: digits, in groups of three after `,` or `.` where the server separates
/// thousands.
fn dos_size(t: &str) -> Option<u64> {
    let groups: Vec<&str> = t.split([',', '.']).collect();
    let ok = groups.iter().enumerate().all(|(i, g)| {
        !g.is_empty() && g.bytes().all(|b| b.is_ascii_digit()) && (i == 0 || g.len() == 3)
    });
    if !ok || groups[0].len() > 20 {
        return None;
    }
    groups.concat().parse().ok()
}
