//! Novell Netware lines: `d [RWCEAFMS] owner  size  Mon DD HH:MM|YYYY  name`.

use super::dates::{self, Stamp};
use super::{Ctx, Listed, ListedKind, Size, after, digits, tokens};

pub fn parse(line: &str, ctx: &Ctx) -> Option<Listed> {
    let toks = tokens(line);
    let kind = match toks.first()?.1 {
        "d" => ListedKind::Dir,
        "-" => ListedKind::File,
        _ => return None,
    };
    let rights = toks.get(1)?.1;
    if !(rights.starts_with('[') && rights.ends_with(']') && rights.len() == 10) {
        return None;
    }
    // Owner, size, then the date.
    let k = 4;
    let size = toks.get(k - 1)?.1;
    let (m, d) = (
        dates::english_month(toks.get(k)?.1)?,
        dates::day(toks.get(k + 1)?.1)?,
    );
    let last = *toks.get(k + 2)?;
    let stamp = match dates::clock(last.1) {
        Some(clock) => Stamp::YearLess {
            month: m,
            day: d,
            clock,
        },
        None => Stamp::Date(chrono::NaiveDate::from_ymd_opt(dates::year(last.1)?, m, d)?),
    };
    if !digits(size) {
        return None;
    }
    let name = after(line, last)?.trim_start();
    Some(Listed::new(
        name,
        kind,
        Size::Exact(size.parse().ok()?),
        stamp.resolve(ctx.now),
    ))
}
