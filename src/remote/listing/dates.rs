//! The date and time pieces of listing lines, in the styles servers print: month names in
//! several languages and with CJK unit marks, numeric dates in every field order, 12- and
//! 24-hour clocks (`24:00` included). Lines whose bytes were not UTF-8 reach here with
//! U+FFFD in place of each bad byte, so a number followed only by those counts as a number
//! with a unit mark (`4月` in Shift-JIS or EUC-JP).

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, Utc};

use crate::tree::{Mtime, Precision};

/// Month names and their common abbreviations: English, German, French, Spanish, Italian,
/// Dutch, Hungarian. Compared in lower case, without a trailing `.` or `,`.
const MONTH_NAMES: [&[&str]; 12] = [
    &[
        "jan", "january", "januar", "jän", "jänner", "janv", "janvier", "ene", "enero", "gen",
        "gennaio", "januari",
    ],
    &[
        "feb", "february", "februar", "febr", "fév", "févr", "fev", "fevr", "février", "febrero",
        "febbraio", "februari",
    ],
    &[
        "mar", "march", "mär", "märz", "mrz", "mars", "marzo", "márc", "marc", "maart", "mrt",
        "március",
    ],
    &[
        "apr", "april", "avr", "avril", "abr", "abril", "ápr", "aprile", "április",
    ],
    &["may", "mai", "mei", "mayo", "maggio", "mag", "máj", "május"],
    &[
        "jun", "june", "juni", "juin", "junio", "giu", "giugno", "jún", "június",
    ],
    &[
        "jul", "july", "juli", "juil", "juillet", "julio", "lug", "luglio", "júl", "július",
    ],
    &[
        "aug",
        "august",
        "août",
        "aout",
        "ago",
        "agosto",
        "augustus",
        "augusztus",
    ],
    &[
        "sep",
        "sept",
        "september",
        "septembre",
        "septiembre",
        "set",
        "settembre",
        "szept",
        "szeptember",
    ],
    &[
        "oct", "october", "okt", "oktober", "octobre", "octubre", "ott", "ottobre", "október",
    ],
    &["nov", "november", "novembre", "noviembre"],
    &[
        "dec",
        "december",
        "dez",
        "dezember",
        "déc",
        "décembre",
        "dic",
        "diciembre",
        "dicembre",
    ],
];

/// Unit marks that follow a number in CJK dates: day, month, year.
const MARKS: [char; 6] = ['日', '일', '月', '월', '年', '년'];

/// A month given by name, by a CJK number-and-mark (`3月`, `1월`), or as a number with
/// undecodable bytes after it.
pub fn month(tok: &str) -> Option<u32> {
    let t = tok.trim_end_matches(['.', ',']).to_lowercase();
    if let Some(i) = MONTH_NAMES
        .iter()
        .position(|names| names.contains(&t.as_str()))
    {
        return Some(i as u32 + 1);
    }
    let (n, mark) = split_number(tok)?;
    let marked = matches!(mark, "月" | "월") || is_undecoded(mark);
    (marked && (1..=12).contains(&n)).then_some(n)
}

/// An English three-letter month (`JAN`..`DEC`, any case), as VMS, HP NonStop and numeric
/// `DD-mon-YY` dates print it.
pub fn english_month(tok: &str) -> Option<u32> {
    let t = tok.to_ascii_lowercase();
    MONTH_NAMES
        .iter()
        .position(|names| names[0] == t)
        .map(|i| i as u32 + 1)
}

/// The leading decimal number of `tok` and what follows it.
fn split_number(tok: &str) -> Option<(u32, &str)> {
    let end = tok.find(|c: char| !c.is_ascii_digit()).unwrap_or(tok.len());
    if end == 0 || end > 4 {
        return None;
    }
    Some((tok[..end].parse().ok()?, &tok[end..]))
}

/// Bytes that were not UTF-8 (a CJK unit mark in Shift-JIS or EUC-JP: `年` is `94 4E` in
/// Shift-JIS, so an ASCII letter may follow the replacement character).
fn is_undecoded(mark: &str) -> bool {
    mark.starts_with('\u{FFFD}') && !mark.bytes().any(|b| b.is_ascii_digit())
}

/// A number, bare or with one mark after it: `.`/`,` (`26.`), or a CJK unit.
fn marked_number(tok: &str) -> Option<u32> {
    let (n, mark) = split_number(tok)?;
    let ok = mark.is_empty()
        || mark == "."
        || mark == ","
        || (mark.chars().count() == 1 && MARKS.contains(&mark.chars().next()?))
        || is_undecoded(mark);
    ok.then_some(n)
}

pub fn day(tok: &str) -> Option<u32> {
    marked_number(tok).filter(|d| (1..=31).contains(d))
}

/// A four-digit year, bare or with its unit mark (`2003年`). Old years (`1800`) are real
/// dates of files restored from archives, not reasons to reject a line.
pub fn year(tok: &str) -> Option<i32> {
    let digits = tok.bytes().take_while(u8::is_ascii_digit).count();
    (digits == 4)
        .then(|| marked_number(tok))
        .flatten()
        .map(|y| y as i32)
        .filter(|y| (1600..=2999).contains(y))
}

/// A time of day, `H:MM`, `HH:MM` or `HH:MM:SS` (a fraction after the seconds is dropped).
/// `24:00` is the midnight that ends the day, as some servers print it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    pub hour: u32,
    pub minute: u32,
    pub second: Option<u32>,
}

pub fn clock(tok: &str) -> Option<Clock> {
    let parts: Vec<&str> = tok.split(':').collect();
    if !(2..=3).contains(&parts.len()) {
        return None;
    }
    let num = |p: &str, width: std::ops::RangeInclusive<usize>, max: u32| {
        (width.contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()))
            .then(|| p.parse::<u32>().ok())
            .flatten()
            .filter(|n| *n <= max)
    };
    let hour = num(parts[0], 1..=2, 24)?;
    let minute = num(parts[1], 2..=2, 59)?;
    let second = match parts.get(2) {
        None => None,
        Some(s) => Some(num(s.split('.').next()?, 2..=2, 59)?),
    };
    if hour == 24 && (minute, second.unwrap_or(0)) != (0, 0) {
        return None;
    }
    Some(Clock {
        hour,
        minute,
        second,
    })
}

/// A point in time as a listing line gives it, before a year-less date is placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stamp {
    /// A date without a time of day.
    Date(NaiveDate),
    /// A date and a time.
    At(NaiveDate, Clock),
    /// Month, day and time, without a year (`Nov  5 13:46`).
    YearLess { month: u32, day: u32, clock: Clock },
}

impl Stamp {
    /// The time as ftpmirror keeps it, naive times taken as UTC (`--time-offset` and the
    /// detected offset correct them later). A server prints a date without a year only for
    /// the last six months, so it is in this year of `now` (the server's clock where that
    /// is known) unless that puts it more than six months ahead: then it is last year's.
    /// A date up to six months ahead is a server clock running ahead of ours.
    pub fn resolve(self, now: DateTime<Utc>) -> Option<Mtime> {
        match self {
            Stamp::Date(d) => Some(Mtime {
                time: d.and_hms_opt(0, 0, 0)?.and_utc().into(),
                precision: Precision::Day,
            }),
            Stamp::At(d, c) => at(d, c),
            Stamp::YearLess { month, day, clock } => {
                let this = NaiveDate::from_ymd_opt(now.year(), month, day)
                    .and_then(|d| at(d, clock))
                    .filter(|m| DateTime::<Utc>::from(m.time) <= now + Duration::days(183));
                // Feb 29 of a year that has none: the last leap year it can be.
                this.or_else(|| {
                    (1..=8).find_map(|back| {
                        NaiveDate::from_ymd_opt(now.year() - back, month, day)
                            .and_then(|d| at(d, clock))
                    })
                })
            }
        }
    }
}

fn at(d: NaiveDate, c: Clock) -> Option<Mtime> {
    let (hour, next_day) = if c.hour == 24 {
        (0, true)
    } else {
        (c.hour, false)
    };
    let t: NaiveDateTime = d.and_hms_opt(hour, c.minute, c.second.unwrap_or(0))?;
    let t = if next_day { t + Duration::days(1) } else { t };
    Some(Mtime {
        time: t.and_utc().into(),
        precision: if c.second.is_some() {
            Precision::Second
        } else {
            Precision::Minute
        },
    })
}

/// A two-digit year: 70..99 in the 1900s, the rest in the 2000s. Three digits (`103`) count
/// from 1900, as OS/2 prints them after 1999.
pub fn short_year(tok: &str) -> Option<i32> {
    if !tok.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: i32 = tok.parse().ok()?;
    match tok.len() {
        2 if n < 70 => Some(2000 + n),
        2 => Some(1900 + n),
        3 => Some(1900 + n),
        4 => Some(n).filter(|y| *y >= 1900),
        _ => None,
    }
}

/// Which field comes first in a numeric date whose order the line does not show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    MonthDay,
    DayMonth,
}

/// A numeric date in one token: `YYYY-MM-DD` (also `/` and `.`), `DD-MM-YYYY` or
/// `MM-DD-YYYY` (whichever the numbers allow, else `ambiguous`), `DD-mon-YY(YY)` and
/// `mon-DD-YYYY`.
pub fn numeric_date(tok: &str, ambiguous: Order) -> Option<NaiveDate> {
    let sep = tok.chars().find(|c| matches!(c, '-' | '/' | '.'))?;
    let parts: Vec<&str> = tok.split(sep).collect();
    if parts.len() != 3 || parts.iter().any(|p| p.is_empty()) {
        return None;
    }
    let num = |p: &str| -> Option<u32> {
        p.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| p.parse().ok())
            .flatten()
    };
    if let Some(m) = english_month(parts[1]) {
        let y = short_year(parts[2])?;
        return NaiveDate::from_ymd_opt(y, m, day(parts[0])?);
    }
    if let Some(m) = english_month(parts[0]) {
        let y = short_year(parts[2]).filter(|_| parts[2].len() == 4)?;
        return NaiveDate::from_ymd_opt(y, m, num(parts[1])?);
    }
    let (a, b, c) = (num(parts[0])?, num(parts[1])?, num(parts[2])?);
    if parts[0].len() == 4 {
        return NaiveDate::from_ymd_opt(a as i32, b, c);
    }
    let y = short_year(parts[2])?;
    let (m, d) = match ambiguous {
        _ if a > 12 => (b, a),
        _ if b > 12 => (a, b),
        Order::MonthDay => (a, b),
        Order::DayMonth => (b, a),
    };
    NaiveDate::from_ymd_opt(y, m, d)
}

/// `MM-DD` without a year, as some Unix servers print recent files.
pub fn month_day(tok: &str) -> Option<(u32, u32)> {
    let (m, d) = tok.split_once('-')?;
    if m.len() > 2 || d.len() > 2 || !(m.bytes().chain(d.bytes())).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (m, d) = (m.parse().ok()?, d.parse().ok()?);
    ((1..=12).contains(&m) && (1..=31).contains(&d)).then_some((m, d))
}
