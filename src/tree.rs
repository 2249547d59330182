//! `Tree`: one side of the mirror as the planner sees it.

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, SystemTime};

use crate::path::RelPath;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
}

/// How finely a side reports modification times. Comparisons allow for the coarser side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Precision {
    /// Local file systems: nanoseconds, treated as exact.
    Exact,
    /// MLSD and MDTM.
    Second,
    /// LIST lines with a time of day ("Nov  5 13:46").
    Minute,
    /// LIST lines with a year instead of a time ("Nov  5  2018").
    Day,
}

impl Precision {
    /// The largest difference two equal times can show at this precision.
    pub fn window(self) -> Duration {
        match self {
            Precision::Exact => Duration::ZERO,
            Precision::Second => Duration::from_secs(1),
            Precision::Minute => Duration::from_secs(60),
            Precision::Day => Duration::from_secs(86_400),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Precision::Exact => "ns",
            Precision::Second => "s",
            Precision::Minute => "min",
            Precision::Day => "day",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mtime {
    pub time: SystemTime,
    pub precision: Precision,
}

impl fmt::Display for Mtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = chrono::DateTime::<chrono::Utc>::from(self.time);
        let s = match self.precision {
            Precision::Exact | Precision::Second => t.format("%Y-%m-%d %H:%M:%S"),
            Precision::Minute => t.format("%Y-%m-%d %H:%M"),
            Precision::Day => t.format("%Y-%m-%d"),
        };
        write!(f, "{s}")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub kind: Kind,
    /// Bytes for files; 0 for directories.
    pub size: u64,
    pub mtime: Option<Mtime>,
    /// The size is only what a listing showed (VMS blocks, no size at all) and the server
    /// could not say it exactly: never compared, and a download is not checked against it.
    pub rough_size: bool,
    /// The mtime's year was not listed (`Nov  5 13:46`) but placed by a clock: placed again
    /// once the server's clock is known (`remote::clock::apply_offset`).
    pub year_placed: bool,
}

impl Entry {
    pub fn file(size: u64, mtime: Option<Mtime>) -> Entry {
        Entry {
            kind: Kind::File,
            size,
            mtime,
            rough_size: false,
            year_placed: false,
        }
    }

    /// A file whose size the server's listing gave only roughly, or not at all.
    pub fn file_rough(size: u64, mtime: Option<Mtime>) -> Entry {
        Entry {
            rough_size: true,
            ..Entry::file(size, mtime)
        }
    }

    pub fn dir() -> Entry {
        Entry {
            kind: Kind::Dir,
            size: 0,
            mtime: None,
            rough_size: false,
            year_placed: false,
        }
    }

    pub fn is_dir(&self) -> bool {
        self.kind == Kind::Dir
    }
}

/// Suffix of ftpmirror's own temporary files: `.NAME.ftpmirror-part` beside `NAME`, for
/// downloads locally and for uploads on the server.
pub const PART_SUFFIX: &str = ".ftpmirror-part";

/// The temporary name for a transfer into `name`.
pub fn part_name(name: &str) -> String {
    format!(".{name}{PART_SUFFIX}")
}

/// The name a temporary file is for, if `name` is one of ours.
pub fn part_target(name: &str) -> Option<&str> {
    name.strip_prefix('.')?
        .strip_suffix(PART_SUFFIX)
        .filter(|t| !t.is_empty())
}

/// Something in a tree that could not be read or is left out on purpose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The directory being read, or the entry skipped.
    pub path: String,
    pub message: String,
}

/// A scanned tree: sorted entries (the root itself is not an entry), plus what could not be read.
#[derive(Debug, Default, Clone)]
pub struct Tree {
    pub entries: BTreeMap<RelPath, Entry>,
    /// Directories whose listing failed: nothing below them may be deleted.
    pub unreadable: Vec<(RelPath, String)>,
    /// Entries left out (symlinks, special files, unsafe names), with why. Notices, not failures.
    pub skipped: Vec<Problem>,
    /// Entries that could not be used and make the run incomplete (e.g. unsafe names).
    pub errors: Vec<Problem>,
    /// False when the root itself does not exist (a push to a new remote directory).
    pub root_exists: bool,
    /// ftpmirror's temporary files, keyed by the path they are for: never mirrored as files.
    pub parts: BTreeMap<RelPath, Entry>,
}

impl Tree {
    pub fn new() -> Tree {
        Tree {
            root_exists: true,
            ..Tree::default()
        }
    }

    /// Adds an entry, setting ftpmirror's temporary files aside in `parts`.
    pub fn insert(&mut self, path: RelPath, entry: Entry) {
        if !entry.is_dir()
            && let Some(target) = part_target(path.name())
            && let Some(Ok(target)) = path.parent().map(|p| p.join(target))
        {
            self.parts.insert(target, entry);
            return;
        }
        self.entries.insert(path, entry);
    }

    pub fn get(&self, path: &RelPath) -> Option<&Entry> {
        self.entries.get(path)
    }

    /// True when `path` is at or below a directory whose listing failed.
    pub fn is_unreadable(&self, path: &RelPath) -> bool {
        self.unreadable.iter().any(|(dir, _)| path.starts_with(dir))
    }

    /// True when `path` is, or lies below, an entry this side left out (a symlink, a special
    /// file): the other side's entry of that name is not "extra" and must not be deleted.
    pub fn is_skipped(&self, path: &RelPath) -> bool {
        self.skipped
            .iter()
            .any(|p| RelPath::parse(&p.path).is_ok_and(|s| !s.is_root() && path.starts_with(&s)))
    }

    pub fn file_count(&self) -> usize {
        self.entries.values().filter(|e| !e.is_dir()).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_files_are_set_aside() {
        assert_eq!(part_name("a.txt"), ".a.txt.ftpmirror-part");
        assert_eq!(part_target(".a.txt.ftpmirror-part"), Some("a.txt"));
        assert_eq!(part_target("a.txt.ftpmirror-part"), None);
        assert_eq!(part_target("..ftpmirror-part"), None);
        let mut t = Tree::new();
        t.insert(
            RelPath::parse("d/.f.ftpmirror-part").unwrap(),
            Entry::file(3, None),
        );
        t.insert(RelPath::parse("d/f").unwrap(), Entry::file(9, None));
        assert_eq!(t.entries.len(), 1);
        assert_eq!(
            t.parts.get(&RelPath::parse("d/f").unwrap()).unwrap().size,
            3
        );
    }
}
