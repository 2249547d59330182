//! The deploy manifest: what `--checksum` knows about the server's copies on a server that
//! cannot hash files itself. Pure data, no I/O.
//!
//! For each file ftpmirror uploaded it records the size and the remote mtime the server then
//! had, to the second, and the SHA-256 of the bytes sent. On a later run a file is unchanged,
//! whatever its local mtime, when the server still shows that size and mtime and the local
//! file still has that SHA-256. A server copy that shows anything else has changed since (an
//! edit on the server, another tool): the record is not trusted and the quick check decides.
//! The manifest holds paths, sizes, times and hashes; nothing secret.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::path::RelPath;
use crate::tree::{Entry, Precision};

/// Where the manifest lives by default: at the remote root. Names there that start with
/// `.ftpmirror` are ftpmirror's own: never mirrored, listed as extra or deleted.
pub const DEFAULT_NAME: &str = ".ftpmirror-manifest.json";

const VERSION: u32 = 1;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    version: u32,
    /// By path relative to the remote root.
    pub files: BTreeMap<String, Record>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    pub size: u64,
    /// The server's mtime of its copy, in whole seconds since 1970 (UTC).
    pub mtime: i64,
    /// Lower-case hex SHA-256 of the bytes sent.
    pub sha256: String,
}

impl Manifest {
    pub fn new() -> Manifest {
        Manifest {
            version: VERSION,
            files: BTreeMap::new(),
        }
    }

    /// Reads a manifest; anything but a well-formed one of this version is an error, which
    /// the caller turns into one warning and the quick check.
    pub fn parse(bytes: &[u8]) -> Result<Manifest> {
        let m: Manifest = serde_json::from_slice(bytes).context("not a manifest")?;
        if m.version != VERSION {
            bail!(
                "manifest version {} (this ftpmirror reads {VERSION})",
                m.version
            );
        }
        for (path, r) in &m.files {
            RelPath::parse(path).map_err(|e| anyhow::anyhow!("bad path {path:?}: {e}"))?;
            if r.sha256.len() != 64 || !r.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
                bail!("bad sha256 for {path:?}");
            }
        }
        Ok(m)
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec_pretty(self).expect("a manifest serialises");
        out.push(b'\n');
        out
    }

    pub fn get(&self, path: &RelPath) -> Option<&Record> {
        self.files.get(path.as_str())
    }

    pub fn insert(&mut self, path: &RelPath, record: Record) {
        self.files.insert(path.as_str().to_string(), record);
    }
}

impl Record {
    /// Whether the server's copy, as the listing (or MDTM) shows it now, is still the one
    /// this record describes: the same exact size and the same mtime at the listing's
    /// precision. A copy without an exact size or any mtime is never taken as unchanged.
    pub fn describes(&self, live: &Entry) -> bool {
        if live.rough_size || live.size != self.size {
            return false;
        }
        let Some(m) = live.mtime else {
            return false;
        };
        let recorded = UNIX_EPOCH + Duration::from_secs(self.mtime.max(0) as u64);
        match m.precision {
            Precision::Exact | Precision::Second => secs(m.time) == self.mtime,
            // A LIST time drops the seconds: the recorded time lies in the listed minute.
            Precision::Minute => {
                recorded >= m.time && recorded < m.time + Precision::Minute.window()
            }
            Precision::Day => abs_diff(recorded, m.time) <= Precision::Day.window(),
        }
    }
}

/// Whole seconds since 1970, rounded down.
pub fn secs(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs_f64().ceil() as i64),
    }
}

fn abs_diff(a: SystemTime, b: SystemTime) -> Duration {
    a.duration_since(b).unwrap_or_else(|e| e.duration())
}

/// Whether `path` is ftpmirror's own state on the server: a root name starting with
/// `.ftpmirror` (the manifest, the remote lock) and what is below it, or the manifest
/// `--manifest` put inside the tree, and its temporary file.
pub fn is_own(path: &RelPath, manifest: Option<&RelPath>) -> bool {
    // A root name, or anything below one (the remote lock's owner file).
    if path
        .components()
        .next()
        .is_some_and(|top| top.starts_with(".ftpmirror"))
    {
        return true;
    }
    manifest.is_some_and(|m| {
        path == m || m.parent() == path.parent() && path.name() == format!("{}.part", m.name())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::Mtime;

    fn rel(s: &str) -> RelPath {
        RelPath::parse(s).unwrap()
    }

    fn live(size: u64, secs: u64, precision: Precision) -> Entry {
        Entry::file(
            size,
            Some(Mtime {
                time: UNIX_EPOCH + Duration::from_secs(secs),
                precision,
            }),
        )
    }

    #[test]
    fn round_trip_and_corruption() {
        let mut m = Manifest::new();
        m.insert(
            &rel("css/site.css"),
            Record {
                size: 12,
                mtime: 1_706_097_600,
                sha256: "a".repeat(64),
            },
        );
        let back = Manifest::parse(&m.to_bytes()).unwrap();
        assert_eq!(back, m);
        for bad in [
            &b"{"[..],
            b"[]",
            b"{\"version\":2,\"files\":{}}",
            b"{\"version\":1,\"files\":{\"../x\":{\"size\":1,\"mtime\":1,\"sha256\":\"\"}}}",
            b"{\"version\":1,\"files\":{\"x\":{\"size\":1,\"mtime\":1,\"sha256\":\"zz\"}}}",
        ] {
            assert!(
                Manifest::parse(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn a_record_describes_only_the_copy_it_was_made_for() {
        let r = Record {
            size: 5,
            mtime: 1_000_000_030,
            sha256: "0".repeat(64),
        };
        assert!(r.describes(&live(5, 1_000_000_030, Precision::Second)));
        assert!(
            !r.describes(&live(5, 1_000_000_031, Precision::Second)),
            "a second later"
        );
        assert!(
            !r.describes(&live(6, 1_000_000_030, Precision::Second)),
            "another size"
        );
        assert!(
            r.describes(&live(5, 1_000_000_020, Precision::Minute)),
            "the listed minute"
        );
        assert!(
            !r.describes(&live(5, 1_000_000_080, Precision::Minute)),
            "a later minute"
        );
        assert!(!r.describes(&Entry::file(5, None)), "no time: not trusted");
        assert!(!r.describes(&Entry::file_rough(5, None)));
    }

    #[test]
    fn own_files_are_the_roots_dot_ftpmirror_names_and_the_manifest() {
        assert!(is_own(&rel(".ftpmirror-manifest.json"), None));
        assert!(is_own(&rel(".ftpmirror-manifest.json.part"), None));
        assert!(!is_own(&rel("sub/.ftpmirror-manifest.json"), None));
        assert!(is_own(&rel(".ftpmirror-lock/owner"), None));
        assert!(!is_own(&rel("ftpmirror.txt"), None));
        let m = rel("deploy/state.json");
        assert!(is_own(&m, Some(&m)));
        assert!(is_own(&rel("deploy/state.json.part"), Some(&m)));
        assert!(!is_own(&rel("deploy/other.json"), Some(&m)));
    }
}
