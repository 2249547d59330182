//! Parsing of directory listings: MLSD facts (RFC 3659) and LIST lines (Unix and DOS).
//!
//! MLSD is parsed here rather than with suppaftp, which turns `cdir`/`pdir` into `.`/`..` and
//! rejects `type=OS.unix=slink:` entries; Unix and DOS/IIS LIST lines are parsed here too
//! (suppaftp's parsers drop ACL marks, 24-hour and four-digit-year DOS lines, and accept
//! lines such as `total 12`).

use std::time::SystemTime;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Utc};

use crate::tree::{Mtime, Precision};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListedKind {
    File,
    Dir,
    Symlink,
    /// Devices, sockets, unknown MLSD types: never mirrored.
    Other(String),
    /// MLSD `cdir` / `pdir`, or LIST `.` / `..`: the listing's own directory or its parent.
    SelfOrParent,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub name: String,
    pub kind: ListedKind,
    pub size: u64,
    pub mtime: Option<Mtime>,
}

/// One parsed line, or why it could not be parsed (with the raw line).
pub type ParsedLine = Result<Listed, String>;

/// Parses `fact=value;fact=value; name`. Facts are case-insensitive; times are UTC.
pub fn parse_mlsd_line(line: &str) -> ParsedLine {
    let bad = |why: &str| Err(format!("{why} in MLSD line {:?}", line));
    let (facts, name) = if let Some(name) = line.strip_prefix(' ') {
        ("", name)
    } else {
        match line.find("; ") {
            Some(i) => (&line[..=i], &line[i + 2..]),
            None => return bad("no name"),
        }
    };
    let mut kind = None;
    let mut size = None;
    let mut mtime = None;
    for fact in facts.split(';').filter(|f| !f.is_empty()) {
        let Some((key, value)) = fact.split_once('=') else {
            return bad("malformed fact");
        };
        match key.to_ascii_lowercase().as_str() {
            "type" => {
                let v = value.to_ascii_lowercase();
                kind = Some(match v.as_str() {
                    "file" => ListedKind::File,
                    "dir" => ListedKind::Dir,
                    "cdir" | "pdir" => ListedKind::SelfOrParent,
                    _ if v.starts_with("os.unix=slink") || v.starts_with("os.unix=symlink") => {
                        ListedKind::Symlink
                    }
                    _ => ListedKind::Other(value.to_string()),
                });
            }
            "size" => match value.parse::<u64>() {
                Ok(n) => size = Some(n),
                Err(_) => return bad("bad size"),
            },
            "modify" => match parse_mlsd_time(value) {
                Some(t) => mtime = Some(t),
                None => return bad("bad modify time"),
            },
            _ => {}
        }
    }
    let Some(kind) = kind else {
        return bad("no type fact");
    };
    if kind == ListedKind::File && size.is_none() {
        return bad("no size fact");
    }
    Ok(Listed {
        name: name.to_string(),
        kind,
        size: size.unwrap_or(0),
        mtime: mtime.map(|time| Mtime {
            time,
            precision: Precision::Second,
        }),
    })
}

/// `YYYYMMDDHHMMSS[.sss]`, UTC (RFC 3659 §2.3).
pub fn parse_mlsd_time(v: &str) -> Option<SystemTime> {
    let dt = NaiveDateTime::parse_from_str(v, "%Y%m%d%H%M%S%.f").ok()?;
    Some(dt.and_utc().into())
}

/// Parses one LIST line: Unix `ls -l` style, then DOS/IIS style. `None` for lines that carry
/// no entry (`total 12`, blank lines).
pub fn parse_list_line(line: &str) -> Option<ParsedLine> {
    parse_list_line_at(line, Utc::now())
}

/// As `parse_list_line`, with "now" given: a Unix date without a year is in the last year.
pub fn parse_list_line_at(line: &str, now: DateTime<Utc>) -> Option<ParsedLine> {
    let line = line.trim_end_matches(['\r', '\n']);
    if line.trim().is_empty() || is_total_line(line.trim_end()) {
        return None;
    }
    if let Some(l) = parse_unix(line, now) {
        return Some(Ok(l));
    }
    if let Some(l) = parse_dos(line.trim_end()) {
        return Some(Ok(l));
    }
    Some(Err(format!("cannot parse LIST line {:?}", line)))
}

/// A DOS/IIS line: the date (`MM-DD-YY`, `MM-DD-YYYY`, or ISO `YYYY-MM-DD`, with `-` or `/`),
/// the time (`HH:MM` with `AM`/`PM` glued on or apart, or 24-hour), `<DIR>` or the size
/// (thousands separated by `,` or `.` or not at all), then the name. IIS's "four-digit
/// years" option and non-US locales give the variants; suppaftp's parser knows only the first.
fn parse_dos(line: &str) -> Option<Listed> {
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
        (ListedKind::Dir, 0)
    } else if field.starts_with('<') && field.ends_with('>') {
        // <JUNCTION>, <SYMLINKD>, <SYMLINK>: links, never followed.
        (ListedKind::Symlink, 0)
    } else {
        (ListedKind::File, dos_size(field)?)
    };
    let name = rest.trim_start();
    if name.is_empty() {
        return None;
    }
    // A junction's name may carry its target: "name [target]".
    let name = match kind {
        ListedKind::Symlink => name.split(" [").next().unwrap_or(name),
        _ => name,
    };
    Some(Listed {
        name: name.to_string(),
        kind,
        size,
        mtime: Some(Mtime {
            time: time.and_utc().into(),
            precision: Precision::Minute,
        }),
    })
}

/// The first whitespace-separated token of `s` and what follows it (its separator included).
fn token(s: &str) -> Option<(&str, &str)> {
    let s = s.trim_start();
    let end = s.find(char::is_whitespace).unwrap_or(s.len());
    (end > 0).then(|| s.split_at(end))
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

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// A Unix `ls -l` line, however its middle columns look: an ACL `+` or `.` after the
/// permissions, no group column, `major, minor` for devices. The date (`Mon DD HH:MM` or
/// `Mon DD YYYY`) anchors the parse; the size is the column before it, and the name is
/// everything after it but the one separating space, so leading and inner spaces survive.
fn parse_unix(line: &str, now: DateTime<Utc>) -> Option<Listed> {
    let tokens: Vec<(usize, &str)> = line
        .split(' ')
        .scan(0usize, |pos, tok| {
            let start = *pos;
            *pos += tok.len() + 1;
            Some((start, tok))
        })
        .filter(|(_, t)| !t.is_empty())
        .collect();
    let perms = tokens.first()?.1;
    let type_char = perms.chars().next()?;
    // Characters, not bytes: a hostile line must not split a multi-byte character.
    let mut mode = perms.chars().skip(1);
    let mode_ok = "-dlcbpsD".contains(type_char)
        && (0..9).all(|_| mode.next().is_some_and(|c| "rwxsStTl-".contains(c)));
    if !mode_ok {
        return None;
    }
    // The first Mon DD time-or-year triple after at least links and owner.
    let k = (3..tokens.len().saturating_sub(2)).find(|&k| {
        month(tokens[k].1).is_some()
            && tokens[k + 1]
                .1
                .parse::<u32>()
                .is_ok_and(|d| (1..=31).contains(&d))
            && (is_clock(tokens[k + 2].1) || is_year(tokens[k + 2].1))
    })?;
    let (end_pos, end_tok) = tokens[k + 2];
    let name_start = end_pos + end_tok.len() + 1;
    let raw_name = line.get(name_start..).filter(|n| !n.is_empty())?;
    let kind = match type_char {
        '-' => ListedKind::File,
        'd' => ListedKind::Dir,
        'l' => ListedKind::Symlink,
        'c' => ListedKind::Other("character device".into()),
        'b' => ListedKind::Other("block device".into()),
        'p' => ListedKind::Other("fifo".into()),
        _ => ListedKind::Other("socket".into()),
    };
    let name = match kind {
        ListedKind::Symlink => raw_name.split(" -> ").next().unwrap_or(raw_name),
        _ => raw_name,
    };
    let size = match kind {
        ListedKind::File | ListedKind::Dir => tokens[k - 1].1.parse::<u64>().ok()?,
        _ => 0,
    };
    let kind = if name == "." || name == ".." {
        ListedKind::SelfOrParent
    } else {
        kind
    };
    let mtime = unix_time(tokens[k].1, tokens[k + 1].1, end_tok, now)?;
    Some(Listed {
        name: name.to_string(),
        kind,
        size,
        mtime: Some(mtime),
    })
}

fn month(tok: &str) -> Option<u32> {
    let lower = tok.to_ascii_lowercase();
    MONTHS
        .iter()
        .position(|m| *m == lower)
        .map(|i| i as u32 + 1)
}

fn is_clock(tok: &str) -> bool {
    matches!(tok.split_once(':'), Some((h, m)) if h.len() <= 2 && m.len() == 2
        && h.parse::<u32>().is_ok_and(|h| h < 24) && m.parse::<u32>().is_ok_and(|m| m < 60))
}

fn is_year(tok: &str) -> bool {
    tok.len() == 4 && tok.parse::<i32>().is_ok_and(|y| y >= 1970)
}

/// `Nov 5 13:46` (this year, or last year if that would be more than a day ahead) has minute
/// precision; `Nov 5 2018` has day precision. Taken as UTC; `--time-offset` corrects it.
fn unix_time(mon: &str, day: &str, third: &str, now: DateTime<Utc>) -> Option<Mtime> {
    let (m, d) = (month(mon)?, day.parse::<u32>().ok()?);
    if is_year(third) {
        let date = NaiveDate::from_ymd_opt(third.parse().ok()?, m, d)?;
        return Some(Mtime {
            time: date.and_hms_opt(0, 0, 0)?.and_utc().into(),
            precision: Precision::Day,
        });
    }
    let (h, min) = third.split_once(':')?;
    let at = |year: i32| {
        NaiveDate::from_ymd_opt(year, m, d)
            .and_then(|date| date.and_hms_opt(h.parse().ok()?, min.parse().ok()?, 0))
    };
    let this_year = at(now.year())?.and_utc();
    let time = if this_year > now + chrono::Duration::days(1) {
        at(now.year() - 1)?.and_utc()
    } else {
        this_year
    };
    Some(Mtime {
        time: time.into(),
        precision: Precision::Minute,
    })
}

fn is_total_line(line: &str) -> bool {
    line.strip_prefix("total ")
        .is_some_and(|n| n.trim().chars().all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn secs(t: SystemTime) -> u64 {
        t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs()
    }

    #[test]
    fn mlsd_lines() {
        let f = parse_mlsd_line("type=file;size=1234;modify=20240102030405; my file.txt").unwrap();
        assert_eq!(f.name, "my file.txt");
        assert_eq!((f.kind.clone(), f.size), (ListedKind::File, 1234));
        assert_eq!(secs(f.mtime.unwrap().time), 1_704_164_645);
        assert_eq!(f.mtime.unwrap().precision, Precision::Second);

        let d = parse_mlsd_line("Type=dir;Modify=20240102030405.123;UNIX.mode=0755; sub").unwrap();
        assert_eq!(d.kind, ListedKind::Dir);
        assert_eq!(
            d.mtime.unwrap().time,
            SystemTime::UNIX_EPOCH + Duration::from_millis(1_704_164_645_123)
        );

        for cdir in ["type=cdir;modify=20240102030405; .", "type=pdir; /home"] {
            assert_eq!(
                parse_mlsd_line(cdir).unwrap().kind,
                ListedKind::SelfOrParent
            );
        }
        let l = parse_mlsd_line("type=OS.unix=slink:/etc/passwd;size=11; link").unwrap();
        assert_eq!(l.kind, ListedKind::Symlink);
        let n = parse_mlsd_line(" bare name").unwrap_err();
        assert!(n.contains("no type"), "{n}");
        // A name may itself contain "; ".
        let s = parse_mlsd_line("type=file;size=1; a; b").unwrap();
        assert_eq!(s.name, "a; b");
    }

    #[test]
    fn mlsd_rejects_garbage() {
        for bad in [
            "garbage",
            "type=file; nosize",
            "type=file;size=x; f",
            "type=file;size=1;modify=2024; f",
        ] {
            assert!(parse_mlsd_line(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn list_lines() {
        assert!(parse_list_line("total 12").is_none());
        assert!(parse_list_line("").is_none());

        let f = parse_list_line("-rw-r--r--    1 1000     1000         4096 Nov 05  2018 old.txt")
            .unwrap()
            .unwrap();
        assert_eq!(
            (f.name.as_str(), f.size, f.kind.clone()),
            ("old.txt", 4096, ListedKind::File)
        );
        assert_eq!(f.mtime.unwrap().precision, Precision::Day);

        let f = parse_list_line("-rw-r--r--    1 ftp      ftp            17 Jan 02 10:15 new file")
            .unwrap()
            .unwrap();
        assert_eq!(f.name, "new file");
        assert_eq!(f.mtime.unwrap().precision, Precision::Minute);

        let d = parse_list_line("drwxr-xr-x    2 ftp      ftp          4096 Jan 02 10:15 dir")
            .unwrap()
            .unwrap();
        assert_eq!(d.kind, ListedKind::Dir);
        let dot = parse_list_line("drwxr-xr-x    2 ftp      ftp          4096 Jan 02 10:15 ..")
            .unwrap()
            .unwrap();
        assert_eq!(dot.kind, ListedKind::SelfOrParent);
        let l = parse_list_line(
            "lrwxrwxrwx    1 ftp      ftp            11 Jan 02 10:15 ln -> /etc/passwd",
        )
        .unwrap()
        .unwrap();
        assert_eq!((l.name.as_str(), l.kind), ("ln", ListedKind::Symlink));

        let dos = parse_list_line("01-02-24  10:15AM       <DIR>          Windows dir")
            .unwrap()
            .unwrap();
        assert_eq!(
            (dos.name.as_str(), dos.kind),
            ("Windows dir", ListedKind::Dir)
        );
        let dos = parse_list_line("01-02-24  10:15AM                  123 a.txt")
            .unwrap()
            .unwrap();
        assert_eq!(
            (dos.size, dos.mtime.unwrap().precision),
            (123, Precision::Minute)
        );

        let err = parse_list_line("this is not a listing")
            .unwrap()
            .unwrap_err();
        assert!(err.contains("this is not a listing"), "{err}");
    }

    fn now() -> DateTime<Utc> {
        use chrono::TimeZone;
        Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap()
    }

    fn entry(line: &str) -> Listed {
        parse_list_line_at(line, now())
            .expect("an entry")
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn real_unix_lines() {
        // (line, name, kind, size, mtime as "YYYY-mm-dd HH:MM", precision)
        type Case = (
            &'static str,
            &'static str,
            ListedKind,
            u64,
            &'static str,
            Precision,
        );
        let cases: Vec<Case> = vec![
            (
                "-rw-r--r--+   1 www  www      1234 Nov  5 13:46 acl.txt",
                "acl.txt",
                ListedKind::File,
                1234,
                "2026-11-05 13:46",
                Precision::Minute,
            ),
            (
                "-rw-r--r--.   1 root root       5 Jan 02  2019 selinux",
                "selinux",
                ListedKind::File,
                5,
                "2019-01-02 00:00",
                Precision::Day,
            ),
            (
                "-rw-r--r--    1 owner        42 Nov 21 09:00 nogroup",
                "nogroup",
                ListedKind::File,
                42,
                "2026-11-21 09:00",
                Precision::Minute,
            ),
            (
                "-rw-r--r--    1 ftp ftp        7 Dec 24 18:00 last year",
                "last year",
                ListedKind::File,
                7,
                "2025-12-24 18:00",
                Precision::Minute,
            ),
            (
                "-rw-r--r--    1 ftp ftp        3 Nov 20 10:00   leading spaces",
                "  leading spaces",
                ListedKind::File,
                3,
                "2026-11-20 10:00",
                Precision::Minute,
            ),
            (
                "-rw-r--r--    1 ftp ftp        3 Nov 20 10:00 inner  two  spaces ",
                "inner  two  spaces ",
                ListedKind::File,
                3,
                "2026-11-20 10:00",
                Precision::Minute,
            ),
            (
                "-rw-r--r--    1 ftp ftp        3 Nov 20 10:00 Jan 5 2020 looks like a date",
                "Jan 5 2020 looks like a date",
                ListedKind::File,
                3,
                "2026-11-20 10:00",
                Precision::Minute,
            ),
            (
                "-rw-r--r--    1 1000 1000 5368709120 Feb 29  2024 big.iso",
                "big.iso",
                ListedKind::File,
                5_368_709_120,
                "2024-02-29 00:00",
                Precision::Day,
            ),
            (
                "drwxr-xr-x    2 ftp ftp     4096 Nov 20 10:00 -leading-dash",
                "-leading-dash",
                ListedKind::Dir,
                4096,
                "2026-11-20 10:00",
                Precision::Minute,
            ),
            (
                "drwxr-xr-x    2 ftp ftp     4096 Nov 20 10:00 .htaccess",
                ".htaccess",
                ListedKind::Dir,
                4096,
                "2026-11-20 10:00",
                Precision::Minute,
            ),
            (
                "lrwxrwxrwx    1 ftp ftp       11 Nov 20 10:00 link -> target file",
                "link",
                ListedKind::Symlink,
                0,
                "2026-11-20 10:00",
                Precision::Minute,
            ),
            (
                "crw-rw-rw-    1 root root   1,   3 Nov 20 10:00 null",
                "null",
                ListedKind::Other("character device".into()),
                0,
                "2026-11-20 10:00",
                Precision::Minute,
            ),
            (
                "brw-rw----    1 root disk   8,   0 Nov 20 10:00 sda",
                "sda",
                ListedKind::Other("block device".into()),
                0,
                "2026-11-20 10:00",
                Precision::Minute,
            ),
            (
                "-rw-r--r--    1 ftp ftp        9 nov 20 10:00 lower month",
                "lower month",
                ListedKind::File,
                9,
                "2026-11-20 10:00",
                Precision::Minute,
            ),
            (
                "-rw-r--r--    1 ftp ftp        9 Nov 20 10:00 Ünïcödé 中文 😀.txt",
                "Ünïcödé 中文 😀.txt",
                ListedKind::File,
                9,
                "2026-11-20 10:00",
                Precision::Minute,
            ),
            (
                "-rw-r--r--    1 ftp ftp        9 Nov 20 10:00 #%[weird].txt",
                "#%[weird].txt",
                ListedKind::File,
                9,
                "2026-11-20 10:00",
                Precision::Minute,
            ),
        ];
        for (line, name, kind, size, when, precision) in cases {
            let l = entry(line);
            assert_eq!(
                (l.name.as_str(), &l.kind, l.size),
                (name, &kind, size),
                "{line}"
            );
            let m = l.mtime.unwrap();
            let t = DateTime::<Utc>::from(m.time)
                .format("%Y-%m-%d %H:%M")
                .to_string();
            assert_eq!((t.as_str(), m.precision), (when, precision), "{line}");
        }
    }

    /// DOS/IIS lines in every variant the corpus of other clients' tests shows: two- and
    /// four-digit and ISO years, 12- and 24-hour times, AM/PM apart, thousands separators.
    #[test]
    fn dos_lines_of_every_style() {
        let at = |y, mo, d, h, mi| {
            let t: SystemTime = NaiveDate::from_ymd_opt(y, mo, d)
                .unwrap()
                .and_hms_opt(h, mi, 0)
                .unwrap()
                .and_utc()
                .into();
            Some(Mtime {
                time: t,
                precision: Precision::Minute,
            })
        };
        let file = |name: &str, size, mtime| Listed {
            name: name.into(),
            kind: ListedKind::File,
            size,
            mtime,
        };
        let dir = |name: &str, mtime| Listed {
            name: name.into(),
            kind: ListedKind::Dir,
            size: 0,
            mtime,
        };
        let cases = [
            (
                "04-27-00  12:09PM       <DIR>          16-dos-dateambiguous dir",
                dir("16-dos-dateambiguous dir", at(2000, 4, 27, 12, 9)),
            ),
            (
                "08-07-2015  07:50PM                  718 Post_PRR.dat",
                file("Post_PRR.dat", 718, at(2015, 8, 7, 19, 50)),
            ),
            (
                "2002-09-02  19:06                9,730 19-dos-longyear file",
                file("19-dos-longyear file", 9730, at(2002, 9, 2, 19, 6)),
            ),
            (
                "12-05-96  17:03         <DIR>          absoft2",
                dir("absoft2", at(1996, 12, 5, 17, 3)),
            ),
            (
                "07-17-09  12:08AM             12266720 test.exe",
                file("test.exe", 12_266_720, at(2009, 7, 17, 0, 8)),
            ),
            (
                "04-08-14  03:09 PM       1234 readme.txt",
                file("readme.txt", 1234, at(2014, 4, 8, 15, 9)),
            ),
            (
                "04-08-14  03:09PM  1,234,567 bigfile.bin",
                file("bigfile.bin", 1_234_567, at(2014, 4, 8, 15, 9)),
            ),
            (
                "03-10-21 11:12       <DIR> System Volume Information",
                dir("System Volume Information", at(2021, 3, 10, 11, 12)),
            ),
        ];
        for (line, want) in cases {
            assert_eq!(parse_list_line(line), Some(Ok(want)), "{line}");
        }
        for bad in [
            "07-17-ab  02:08AM           12266720 test.exe",
            "ab-17-00  02:08AM           12266720 test.exe",
            "07-17-00  ab:08AM           12266720 test.exe",
            "07-17-00  02:08AM           1226672x test.exe",
            "34-08-14  03:09PM  <DIR> docs",
            "04-08-14  03:09PM  OMAR docs",
            "07-27-01  11:16AM                      Test",
            "04-08-14  13:09PM  12 x",
            "04-08-14  03:09PM  1,23 x",
        ] {
            assert!(matches!(parse_list_line(bad), Some(Err(_))), "{bad}");
        }
    }

    #[test]
    fn headers_and_garbage() {
        assert!(parse_list_line_at("total 12", now()).is_none());
        assert!(parse_list_line_at("   ", now()).is_none());
        // The last one crashed an earlier version (bytes, not characters, were sliced).
        for bad in [
            "hello world",
            "drwxr-xr-x 2 ftp ftp 4096 Noc 20 10:00 x",
            "-rw-r--r-- 1 a b 5 Nov 20 10:00 ",
            "b/.&\u{a01}\u{1fae2}%AoUyi 1 a b 5 Nov 20 10:00 x",
        ] {
            let err = parse_list_line_at(bad, now()).unwrap().unwrap_err();
            assert!(err.contains("cannot parse LIST line"), "{bad}: {err}");
        }
        let dos = entry("11-20-26  10:15AM       <DIR>          Web Site");
        assert_eq!((dos.name.as_str(), dos.kind), ("Web Site", ListedKind::Dir));
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn never_panics(line in "\\PC{0,120}") {
                let _ = parse_list_line_at(&line, now());
                let _ = parse_mlsd_line(&line);
            }

            #[test]
            fn unix_lines_round_trip(
                name in "[^\\x00-\\x1f/\\x7f]{1,40}",
                size in any::<u64>(),
                day in 1u32..=28,
                month in 0usize..12,
                year in 1990i32..2024,
                owner in "[a-z]{1,8}",
                group in proptest::option::of("[a-z]{1,8}"),
            ) {
                prop_assume!(!name.contains(" -> ") && name != "." && name != "..");
                let group = group.map(|g| format!(" {g}")).unwrap_or_default();
                let mon = MONTHS[month];
                let line = format!("-rw-r--r--    1 {owner}{group} {size:>12} {mon} {day:>2}  {year} {name}");
                let l = entry(&line);
                prop_assert_eq!(&l.name, &name);
                prop_assert_eq!(l.size, size);
                let t = DateTime::<Utc>::from(l.mtime.unwrap().time);
                prop_assert_eq!((t.year(), t.day()), (year, day));
            }
        }
    }
}
