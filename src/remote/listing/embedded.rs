//! Formats of single servers that never spread: old VShell (`size  Mon DD, YYYY HH:MM
//! name`, a trailing `/` for a directory), "numerical Unix" (`octal-mode uid gid size epoch
//! name`), Nortel VxWorks (`size  Mon-DD-YYYY  HH:MM:SS  name [<DIR>]`), and IBM z/VM's CMS
//! minidisks (`NAME TYPE F|V LRECL RECORDS BLOCKS YYYY-MM-DD HH:MM:SS OWNER`, the file
//! being `NAME.TYPE` and its size about LRECL times RECORDS), OS-9 (`G.U YY/MM/DD HHMM
//! attributes sector size name`), and Nortel's WfFTP (`name size MM/DD/YY Weekday.
//! HH:MM:SS`).

use std::time::{Duration, SystemTime};

use super::dates::{self, Stamp};
use super::{Listed, ListedKind, Size, after, digits, tokens};
use crate::tree::{Mtime, Precision};

pub fn parse(line: &str) -> Option<Listed> {
    vshell(line)
        .or_else(|| numerical(line))
        .or_else(|| vxworks(line))
        .or_else(|| zvm(line))
        .or_else(|| os9(line))
        .or_else(|| wfftp(line))
}

fn os9(line: &str) -> Option<Listed> {
    let t = tokens(line);
    let [owner, date, time, attrs, sector, size, ..] = t.as_slice() else {
        return None;
    };
    let owner_ok = owner
        .1
        .split_once('.')
        .is_some_and(|(g, u)| digits(g) && digits(u));
    let attrs_ok = attrs.1.len() == 8 && attrs.1.bytes().all(|b| b"dsewr-".contains(&b));
    if !owner_ok || !attrs_ok || !digits(time.1) || time.1.len() != 4 || !digits(size.1) {
        return None;
    }
    if !sector.1.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut p = date.1.split('/');
    let (y, m, d) = (p.next()?, p.next()?, p.next()?);
    let date =
        chrono::NaiveDate::from_ymd_opt(dates::short_year(y)?, m.parse().ok()?, d.parse().ok()?)?;
    let clock = dates::clock(&format!("{}:{}", &time.1[..2], &time.1[2..]))?;
    let kind = if attrs.1.starts_with('d') {
        ListedKind::Dir
    } else {
        ListedKind::File
    };
    let name = after(line, *size)?.trim_start();
    let mtime = Stamp::At(date, clock).resolve(chrono::Utc::now());
    Some(Listed::new(
        name,
        kind,
        Size::Exact(size.1.parse().ok()?),
        mtime,
    ))
}

fn wfftp(line: &str) -> Option<Listed> {
    let w: Vec<&str> = line.split_whitespace().collect();
    let [name, size, date, weekday, time] = w.as_slice() else {
        return None;
    };
    let days = [
        "Mon.", "Tue.", "Wed.", "Thu.", "Thur.", "Fri.", "Sat.", "Sun.",
    ];
    if !digits(size) || !days.contains(weekday) {
        return None;
    }
    let mut p = date.split('/');
    let (m, d, y) = (p.next()?, p.next()?, p.next()?);
    let date =
        chrono::NaiveDate::from_ymd_opt(dates::short_year(y)?, m.parse().ok()?, d.parse().ok()?)?;
    let mtime = Stamp::At(date, dates::clock(time)?).resolve(chrono::Utc::now());
    Some(Listed::new(
        name,
        ListedKind::File,
        Size::Exact(size.parse().ok()?),
        mtime,
    ))
}

fn zvm(line: &str) -> Option<Listed> {
    let w: Vec<&str> = line.split_whitespace().collect();
    let [name, typ, format, lrecl, records, blocks, date, time, ..] = w.as_slice() else {
        return None;
    };
    if !matches!(*format, "F" | "V") || ![lrecl, records, blocks].iter().all(|x| digits(x)) {
        return None;
    }
    let date = dates::numeric_date(date, dates::Order::MonthDay).filter(|_| date.len() == 10)?;
    let mtime = Stamp::At(date, dates::clock(time)?).resolve(chrono::Utc::now());
    let size = lrecl
        .parse::<u64>()
        .ok()?
        .checked_mul(records.parse().ok()?)?;
    let name = format!("{name}.{typ}");
    Some(Listed::new(
        &name,
        ListedKind::File,
        Size::Estimate(size),
        mtime,
    ))
}

fn vshell(line: &str) -> Option<Listed> {
    let t = tokens(line);
    let [size, mon, day, year, time, ..] = t.as_slice() else {
        return None;
    };
    if !digits(size.1) || !day.1.ends_with(',') {
        return None;
    }
    let date = chrono::NaiveDate::from_ymd_opt(
        dates::year(year.1)?,
        dates::english_month(mon.1)?,
        dates::day(day.1)?,
    )?;
    let mtime = Stamp::At(date, dates::clock(time.1)?).resolve(chrono::Utc::now());
    let name = after(line, *time)?;
    let (name, kind) = match name.strip_suffix('/') {
        Some(n) => (n, ListedKind::Dir),
        None => (name, ListedKind::File),
    };
    Some(Listed::new(
        name,
        kind,
        Size::Exact(size.1.parse().ok()?),
        mtime,
    ))
}

fn numerical(line: &str) -> Option<Listed> {
    let t = tokens(line);
    let [mode, uid, gid, size, epoch, ..] = t.as_slice() else {
        return None;
    };
    let octal = |s: &str| s.len() >= 6 && s.bytes().all(|b| (b'0'..=b'7').contains(&b));
    if !octal(mode.1) || ![uid.1, gid.1, size.1, epoch.1].iter().all(|x| digits(x)) {
        return None;
    }
    let kind = match u32::from_str_radix(mode.1, 8).ok()? & 0o170000 {
        0o100000 => ListedKind::File,
        0o040000 => ListedKind::Dir,
        0o120000 => ListedKind::Symlink,
        _ => ListedKind::Other("special file".into()),
    };
    let mtime = Mtime {
        time: SystemTime::UNIX_EPOCH + Duration::from_secs(epoch.1.parse().ok()?),
        precision: Precision::Second,
    };
    let name = after(line, *epoch)?.trim_start();
    Some(Listed::new(
        name,
        kind,
        Size::Exact(size.1.parse().ok()?),
        Some(mtime),
    ))
}

fn vxworks(line: &str) -> Option<Listed> {
    let t = tokens(line);
    let [size, date, time, ..] = t.as_slice() else {
        return None;
    };
    let mut p = date.1.split('-');
    let (m, d, y) = (p.next()?, p.next()?, p.next()?);
    if !digits(size.1) || p.next().is_some() || y.len() != 4 {
        return None;
    }
    let date =
        chrono::NaiveDate::from_ymd_opt(dates::year(y)?, dates::english_month(m)?, dates::day(d)?)?;
    let mtime = Stamp::At(date, dates::clock(time.1)?).resolve(chrono::Utc::now());
    let name = after(line, *time)?.trim_start();
    let (name, kind) = match name.strip_suffix("<DIR>") {
        Some(n) => (n.trim_end(), ListedKind::Dir),
        None => (name, ListedKind::File),
    };
    if name.is_empty() {
        return None;
    }
    Some(Listed::new(
        name,
        kind,
        Size::Exact(size.1.parse().ok()?),
        mtime,
    ))
}
