//! Parsing of directory listings: MLSD facts (RFC 3659) and LIST lines (Unix and DOS).
//!
//! MLSD is parsed here rather than with suppaftp, which turns `cdir`/`pdir` into `.`/`..` and
//! rejects `type=OS.unix=slink:` entries; LIST goes through `ListParser::parse_posix` and
//! `parse_dos` directly, because `File::from_str` accepts lines such as `total 12`.

use std::time::SystemTime;

use chrono::NaiveDateTime;
use suppaftp::list::ListParser;

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
    let trimmed = line.trim_end();
    if trimmed.is_empty() || is_total_line(trimmed) {
        return None;
    }
    if let Ok(f) = ListParser::parse_posix(trimmed) {
        let kind = match f.file_type() {
            _ if f.name() == "." || f.name() == ".." => ListedKind::SelfOrParent,
            t if t.is_directory() => ListedKind::Dir,
            t if t.is_symlink() => ListedKind::Symlink,
            _ => ListedKind::File,
        };
        let precision = posix_precision(trimmed, f.name());
        return Some(Ok(Listed {
            name: f.name().to_string(),
            kind,
            size: f.size() as u64,
            mtime: Some(Mtime {
                time: f.modified(),
                precision,
            }),
        }));
    }
    if let Ok(f) = ListParser::parse_dos(trimmed) {
        return Some(Ok(Listed {
            name: f.name().to_string(),
            kind: if f.is_directory() {
                ListedKind::Dir
            } else {
                ListedKind::File
            },
            size: f.size() as u64,
            mtime: Some(Mtime {
                time: f.modified(),
                precision: Precision::Minute,
            }),
        }));
    }
    Some(Err(format!("cannot parse LIST line {:?}", line)))
}

fn is_total_line(line: &str) -> bool {
    line.strip_prefix("total ")
        .is_some_and(|n| n.trim().chars().all(|c| c.is_ascii_digit()))
}

/// A Unix LIST line shows a time of day for recent files ("Nov  5 13:46") and a year for
/// older ones ("Nov  5  2018"): minute or day precision. The token before the name says which.
fn posix_precision(line: &str, name: &str) -> Precision {
    let before = line
        .strip_suffix(name)
        .or_else(|| line.find(&format!(" {name} -> ")).map(|i| &line[..=i]))
        .unwrap_or(line);
    match before.split_whitespace().last() {
        Some(tok) if tok.contains(':') => Precision::Minute,
        _ => Precision::Day,
    }
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
}
