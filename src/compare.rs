//! Does a file on the destination need replacing? Pure, no I/O.

use std::fmt;
use std::time::{Duration, SystemTime};

use crate::hash::Algo;
use crate::tree::{Entry, Mtime};

/// How the quick check is allowed to judge a pair of files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompareOpts {
    /// `--size-only`: never look at times.
    pub size_only: bool,
    /// Whether this run can give the destination the source's mtime after a transfer
    /// (always locally; remotely only with MFMT). When it cannot, a destination file newer
    /// than the source is the copy a previous run made, not a stale one.
    pub dest_times_settable: bool,
}

/// Why a transfer is needed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// The destination has no such file.
    Missing,
    SizeDiffers {
        source: u64,
        dest: u64,
    },
    MtimeDiffers {
        source: Mtime,
        dest: Mtime,
    },
    /// The destination has a directory where the source has a file, or the reverse.
    TypeDiffers,
    /// The destination has it and the source does not (`--delete`).
    Extra,
    /// A partial transfer from an earlier run that nothing will continue (`--delete`).
    Leftover,
    /// `--checksum`: the same size, another content.
    ContentDiffers(Evidence),
    /// `--checksum`: the manifest has the file, but the server's copy is no longer the one
    /// it describes; the quick check gave this reason.
    ServerChanged(Box<Reason>),
}

/// Where `--checksum` learnt a file's remote content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Evidence {
    /// The server hashed it (HASH, XSHA256, ...).
    Server(Algo),
    /// The deploy manifest's SHA-256, for a copy that has not changed since.
    Manifest,
}

impl fmt::Display for Evidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Evidence::Server(a) => write!(f, "{} from the server's {}", a.label(), a.name()),
            Evidence::Manifest => f.write_str("sha256 in the manifest"),
        }
    }
}

/// What `--checksum` found out about one pair's content, where it could.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    Same(Evidence),
    Differs(Evidence),
    /// The manifest describes another copy than the server now has: the quick check decides.
    ServerChanged,
}

/// Why a pair is left alone, for `-v --dry-run`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unchanged {
    /// Size and mtime, by the quick check's rules.
    QuickCheck,
    SizeOnly,
    Content(Evidence),
}

impl fmt::Display for Unchanged {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unchanged::QuickCheck => f.write_str("same size and mtime"),
            Unchanged::SizeOnly => f.write_str("same size; --size-only"),
            Unchanged::Content(Evidence::Manifest) => f.write_str("sha256 matches manifest"),
            Unchanged::Content(Evidence::Server(a)) => {
                write!(f, "{} matches the server's {}", a.label(), a.name())
            }
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Missing => f.write_str("missing"),
            Reason::SizeDiffers { source, dest } => {
                write!(f, "size differs: source {source}, destination {dest}")
            }
            Reason::MtimeDiffers { source, dest } => write!(
                f,
                "mtime differs: source {source}, destination {dest} ({}s)",
                signed_secs(source.time, dest.time)
            ),
            Reason::TypeDiffers => f.write_str("file/directory conflict"),
            Reason::Extra => f.write_str("not in source"),
            Reason::Leftover => f.write_str("leftover partial transfer"),
            Reason::ContentDiffers(e) => write!(f, "content differs: {e}"),
            Reason::ServerChanged(r) => {
                write!(f, "server copy changed since the last deploy; {r}")
            }
        }
    }
}

fn signed_secs(source: SystemTime, dest: SystemTime) -> String {
    match dest.duration_since(source) {
        Ok(d) => format!("+{}", d.as_secs()),
        Err(e) => format!("-{}", e.duration().as_secs()),
    }
}

fn abs_diff(a: SystemTime, b: SystemTime) -> Duration {
    a.duration_since(b).unwrap_or_else(|e| e.duration())
}

/// Decides whether the destination file must be replaced by the source file.
///
/// The order, as in rsync's and rclone's quick check:
/// 1. sizes differ → transfer (only where both sizes are exact: a size a listing gave only
///    roughly, as VMS and MVS servers do, is never compared);
/// 2. `--size-only` → equal;
/// 3. either side has no mtime → equal (nothing more to compare);
/// 4. the mtimes are within the coarser side's precision (1 s for MLSD/MDTM, 60 s for LIST
///    times, a day for LIST dates) → equal;
/// 5. the destination cannot be given the source's mtime and is newer → equal: it is the copy
///    an earlier run made, and re-sending it every run would never converge;
/// 6. otherwise → transfer, whether the source is newer or older, so an edit that keeps the
///    size is never missed and a restored older version is sent too.
pub fn needs_transfer(source: &Entry, dest: &Entry, opts: CompareOpts) -> Option<Reason> {
    if source.size != dest.size && !source.rough_size && !dest.rough_size {
        return Some(Reason::SizeDiffers {
            source: source.size,
            dest: dest.size,
        });
    }
    if opts.size_only {
        return None;
    }
    let (Some(s), Some(d)) = (source.mtime, dest.mtime) else {
        return None;
    };
    let window = s.precision.max(d.precision).window();
    if abs_diff(s.time, d.time) <= window {
        return None;
    }
    if !opts.dest_times_settable && d.time > s.time {
        return None;
    }
    Some(Reason::MtimeDiffers { source: s, dest: d })
}

/// The quick check, with what `--checksum` learnt about the content where it learnt
/// something: sizes that differ still decide first; then a content verdict decides; a copy
/// the manifest no longer describes goes back to the quick check.
pub fn judge(
    source: &Entry,
    dest: &Entry,
    opts: CompareOpts,
    content: Option<&Content>,
) -> Result<Unchanged, Reason> {
    let quick = |opts: CompareOpts| match needs_transfer(source, dest, opts) {
        Some(r) => Err(r),
        None if opts.size_only => Ok(Unchanged::SizeOnly),
        None => Ok(Unchanged::QuickCheck),
    };
    let sizes_differ = source.size != dest.size && !source.rough_size && !dest.rough_size;
    match content {
        _ if sizes_differ => quick(opts),
        Some(Content::Same(e)) => Ok(Unchanged::Content(*e)),
        Some(Content::Differs(e)) => Err(Reason::ContentDiffers(*e)),
        Some(Content::ServerChanged) => quick(opts).map_err(|r| Reason::ServerChanged(Box::new(r))),
        None => quick(opts),
    }
}

/// Whether the quick check calls this pair equal only because the remote side's time is
/// coarse: a LIST time to the minute, a LIST date, or no time at all. The remote file's MDTM,
/// to the second, may then decide otherwise: an edit that kept the size and moved the mtime
/// by less than a day is invisible in `Jan 24  2024`.
pub fn coarse_tie(source: &Entry, dest: &Entry, remote: Side, opts: CompareOpts) -> bool {
    if opts.size_only || needs_transfer(source, dest, opts).is_some() {
        return false;
    }
    let (remote_entry, other) = match remote {
        Side::Source => (source, dest),
        Side::Dest => (dest, source),
    };
    if remote_entry.kind != crate::tree::Kind::File || other.kind != crate::tree::Kind::File {
        return false;
    }
    match (remote_entry.mtime, other.mtime) {
        (None, Some(_)) => true,
        (Some(r), Some(o)) => {
            r.precision > crate::tree::Precision::Second
                && abs_diff(r.time, o.time) <= r.precision.max(o.precision).window()
        }
        (_, None) => false,
    }
}

/// Which side of a comparison is the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Source,
    Dest,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::Precision::{self, *};

    fn at(secs: u64, precision: Precision) -> Option<Mtime> {
        Some(Mtime {
            time: SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + secs),
            precision,
        })
    }

    fn at_ms(ms: u64, precision: Precision) -> Option<Mtime> {
        Some(Mtime {
            time: SystemTime::UNIX_EPOCH + Duration::from_millis(1_700_000_000_000 + ms),
            precision,
        })
    }

    const STRICT: CompareOpts = CompareOpts {
        size_only: false,
        dest_times_settable: true,
    };
    const NO_MFMT: CompareOpts = CompareOpts {
        size_only: false,
        dest_times_settable: false,
    };
    const SIZE_ONLY: CompareOpts = CompareOpts {
        size_only: true,
        dest_times_settable: true,
    };

    #[test]
    fn quick_check_table() {
        type Case = (&'static str, Entry, Entry, CompareOpts, bool);
        let cases: Vec<Case> = vec![
            (
                "same size, same second",
                Entry::file(5, at(10, Exact)),
                Entry::file(5, at(10, Second)),
                STRICT,
                false,
            ),
            (
                "sub-second local vs MLSD seconds",
                Entry::file(5, at_ms(10_900, Exact)),
                Entry::file(5, at(10, Second)),
                STRICT,
                false,
            ),
            (
                "size differs",
                Entry::file(5, at(10, Exact)),
                Entry::file(6, at(10, Second)),
                STRICT,
                true,
            ),
            (
                "size differs, size-only",
                Entry::file(5, at(10, Exact)),
                Entry::file(6, at(10, Second)),
                SIZE_ONLY,
                true,
            ),
            (
                "source newer by 2 s",
                Entry::file(5, at(12, Exact)),
                Entry::file(5, at(10, Second)),
                STRICT,
                true,
            ),
            (
                "source older by 2 s",
                Entry::file(5, at(8, Exact)),
                Entry::file(5, at(10, Second)),
                STRICT,
                true,
            ),
            (
                "1 s apart at second precision",
                Entry::file(5, at(11, Exact)),
                Entry::file(5, at(10, Second)),
                STRICT,
                false,
            ),
            (
                "LIST minute precision, 50 s apart",
                Entry::file(5, at(50, Exact)),
                Entry::file(5, at(0, Minute)),
                STRICT,
                false,
            ),
            (
                "LIST minute precision, 61 s apart",
                Entry::file(5, at(61, Exact)),
                Entry::file(5, at(0, Minute)),
                STRICT,
                true,
            ),
            (
                "LIST day precision, 5 h apart",
                Entry::file(5, at(18_000, Exact)),
                Entry::file(5, at(0, Day)),
                STRICT,
                false,
            ),
            (
                "mtime differs, size-only",
                Entry::file(5, at(500, Exact)),
                Entry::file(5, at(10, Second)),
                SIZE_ONLY,
                false,
            ),
            (
                "no dest mtime",
                Entry::file(5, at(500, Exact)),
                Entry::file(5, None),
                STRICT,
                false,
            ),
            (
                "no MFMT: dest newer is our copy",
                Entry::file(5, at(10, Exact)),
                Entry::file(5, at(900, Second)),
                NO_MFMT,
                false,
            ),
            (
                "no MFMT: source edited later",
                Entry::file(5, at(900, Exact)),
                Entry::file(5, at(10, Second)),
                NO_MFMT,
                true,
            ),
            (
                "no MFMT: size still wins",
                Entry::file(5, at(10, Exact)),
                Entry::file(4, at(900, Second)),
                NO_MFMT,
                true,
            ),
        ];
        for (name, source, dest, opts, want) in cases {
            assert_eq!(
                needs_transfer(&source, &dest, opts).is_some(),
                want,
                "{name}"
            );
        }
    }

    #[test]
    fn coarse_ties_are_the_pairs_an_exact_time_could_split() {
        let local = |secs| Entry::file(5, at(secs, Exact));
        type Case = (&'static str, Entry, Entry, Side, CompareOpts, bool);
        let cases: Vec<Case> = vec![
            (
                "day date, 5 h apart",
                local(18_000),
                Entry::file(5, at(0, Day)),
                Side::Dest,
                STRICT,
                true,
            ),
            (
                "minute, 50 s apart",
                local(50),
                Entry::file(5, at(0, Minute)),
                Side::Dest,
                STRICT,
                true,
            ),
            (
                "pull: remote source by the minute",
                Entry::file(5, at(0, Minute)),
                local(30),
                Side::Source,
                STRICT,
                true,
            ),
            (
                "no remote time",
                local(30),
                Entry::file(5, None),
                Side::Dest,
                STRICT,
                true,
            ),
            (
                "MLSD seconds: already exact",
                local(0),
                Entry::file(5, at(0, Second)),
                Side::Dest,
                STRICT,
                false,
            ),
            (
                "sizes differ: transfer anyway",
                local(0),
                Entry::file(6, at(0, Day)),
                Side::Dest,
                STRICT,
                false,
            ),
            (
                "minute, 2 min apart: transfer anyway",
                local(120),
                Entry::file(5, at(0, Minute)),
                Side::Dest,
                STRICT,
                false,
            ),
            (
                "size-only: times never matter",
                local(50),
                Entry::file(5, at(0, Minute)),
                Side::Dest,
                SIZE_ONLY,
                false,
            ),
            (
                "no MFMT, dest a day newer: rule 5 either way",
                local(0),
                Entry::file(5, at(200_000, Minute)),
                Side::Dest,
                NO_MFMT,
                false,
            ),
            (
                "no MFMT, within the minute",
                local(0),
                Entry::file(5, at(40, Minute)),
                Side::Dest,
                NO_MFMT,
                true,
            ),
        ];
        for (name, source, dest, side, opts, want) in cases {
            assert_eq!(coarse_tie(&source, &dest, side, opts), want, "{name}");
        }
    }

    #[test]
    fn content_verdicts_decide_after_sizes() {
        let local = Entry::file(5, at(1_000_000, Exact));
        let old = Entry::file(5, at(0, Second));
        let m = Evidence::Manifest;
        assert_eq!(
            judge(&local, &old, STRICT, Some(&Content::Same(m))),
            Ok(Unchanged::Content(m)),
            "a fresh checkout's mtime does not matter"
        );
        assert_eq!(
            judge(
                &local,
                &Entry::file(5, at(1_000_000, Second)),
                STRICT,
                Some(&Content::Differs(m))
            ),
            Err(Reason::ContentDiffers(m)),
            "a same-size edit with an equal mtime is caught"
        );
        assert!(matches!(
            judge(
                &local,
                &Entry::file(6, at(0, Second)),
                STRICT,
                Some(&Content::Same(m))
            ),
            Err(Reason::SizeDiffers { .. })
        ));
        assert!(matches!(
            judge(&local, &old, STRICT, Some(&Content::ServerChanged)),
            Err(Reason::ServerChanged(r)) if matches!(*r, Reason::MtimeDiffers { .. })
        ));
        assert_eq!(
            judge(
                &local,
                &local.clone(),
                STRICT,
                Some(&Content::ServerChanged)
            ),
            Ok(Unchanged::QuickCheck)
        );
        assert_eq!(
            judge(&local, &old, SIZE_ONLY, None),
            Ok(Unchanged::SizeOnly)
        );
        assert_eq!(Unchanged::Content(m).to_string(), "sha256 matches manifest");
    }

    #[test]
    fn reason_names_both_sides() {
        let r = needs_transfer(
            &Entry::file(5, at(12, Exact)),
            &Entry::file(5, at(10, Second)),
            STRICT,
        )
        .unwrap();
        let text = r.to_string();
        assert!(
            text.starts_with("mtime differs: source 2023-11-14 22:13:32"),
            "{text}"
        );
        assert!(text.ends_with("(-2s)"), "{text}");
    }
}
