//! IBM z/OS (MVS) listings. A dataset list: `VOLSER UNIT REFERRED EXT USED RECFM LRECL BLKSZ
//! DSORG DSNAME`, where a partitioned dataset (`PO`, `PO-E`) is a directory and every other
//! dataset a file. A member list (of a partitioned dataset): `NAME VV.MM CREATED CHANGED
//! TIME SIZE INIT MOD ID`, or the bare name where the member has no statistics, or for load
//! modules `NAME SIZE TTR ...` with the size in hex. Neither
//! gives sizes in bytes (tracks, records), so sizes are unknown; migrated, tape and VSAM
//! datasets carry no date either.

use chrono::NaiveDate;

use super::dates::{self, Stamp};
use super::{Ctx, Listed, ListedKind, Size, digits};

pub fn parse_dataset(line: &str) -> Option<Listed> {
    let w: Vec<&str> = line.split_whitespace().collect();
    let file = |name: &str| Some(Listed::new(name, ListedKind::File, Size::Unknown, None));
    match w.as_slice() {
        ["Migrated", name] => return file(name),
        [vol, "Tape", name] if is_volser(vol) => return file(name),
        [vol, "Not", "Direct", "Access", "Device", name] if is_volser(vol) => return file(name),
        [vol, unit, "VSAM", name] if is_volser(vol) && digits(unit) => return file(name),
        _ => {}
    }
    if w.len() < 6 || !is_volser(w[0]) || !digits(w[1]) || w[1].len() != 4 {
        return None;
    }
    let date = match w[2] {
        "**NONE**" => None,
        d => Some(slashed_date(d)?),
    };
    let (dsorg, name) = (w[w.len() - 2], w[w.len() - 1]);
    // Extents, space used, record format, record and block length: numbers and letters.
    let middle_ok = w[3..w.len() - 2].iter().all(|t| {
        t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'?')
    });
    if !middle_ok || !dsorg.bytes().all(|b| b.is_ascii_uppercase() || b == b'-') {
        return None;
    }
    let kind = if dsorg == "PO" || dsorg == "PO-E" {
        ListedKind::Dir
    } else {
        ListedKind::File
    };
    let mtime = date.and_then(|d| Stamp::Date(d).resolve(chrono::Utc::now()));
    Some(Listed::new(name, kind, Size::Unknown, mtime))
}

pub fn parse_member(line: &str, ctx: &Ctx) -> Option<Listed> {
    let w: Vec<&str> = line.split_whitespace().collect();
    let name = *w.first()?;
    if w.len() == 1 {
        // A member without statistics: only where the listing is known to be of members.
        return ctx
            .members
            .then(|| Listed::new(name, ListedKind::File, Size::Unknown, None));
    }
    if !is_member(name) && !ctx.members {
        return None;
    }
    // A load module: NAME SIZE TTR [ALIAS-OF] AC ATTRIBUTES AMODE RMODE, the size in hex
    // bytes.
    let hex6 = |t: &str| t.len() == 6 && t.bytes().all(|b| b.is_ascii_hexdigit());
    if w.len() >= 4 && hex6(w[1]) && hex6(w[2]) {
        let size = Size::Estimate(u64::from_str_radix(w[1], 16).ok()?);
        return Some(Listed::new(name, ListedKind::File, size, None));
    }
    // NAME VV.MM CREATED CHANGED TIME SIZE INIT MOD ID
    let [_, vvmm, created, changed, time, ..] = w.as_slice() else {
        return None;
    };
    let version_ok = vvmm
        .split_once('.')
        .is_some_and(|(v, m)| v.len() == 2 && m.len() == 2 && digits(v) && digits(m));
    if !version_ok {
        return None;
    }
    slashed_date(created)?;
    let stamp = Stamp::At(slashed_date(changed)?, dates::clock(time)?);
    Some(Listed::new(
        name,
        ListedKind::File,
        Size::Unknown,
        stamp.resolve(ctx.now),
    ))
}

/// `YYYY/MM/DD`.
fn slashed_date(t: &str) -> Option<NaiveDate> {
    let mut p = t.split('/');
    let (y, m, d) = (p.next()?, p.next()?, p.next()?);
    if p.next().is_some() || y.len() != 4 || ![y, m, d].iter().all(|x| digits(x)) {
        return None;
    }
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
}

/// A volume serial: one to six letters and digits.
fn is_volser(t: &str) -> bool {
    (1..=6).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// A member name: up to eight characters, letters, digits and the national characters.
fn is_member(t: &str) -> bool {
    (1..=8).contains(&t.len())
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"$#@-_".contains(&b))
}
