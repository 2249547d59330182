//! One run per profile at a time: an OS file lock, released by the OS when the holder exits or
//! crashes, so a stale lock never blocks a later run.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// Held while it lives: the lock goes with the file handle.
pub struct Lock {
    _file: File,
}

pub enum Acquire {
    Held(Lock),
    /// Another process holds it; its pid, if it wrote one.
    Busy(Option<u32>),
}

/// `$XDG_RUNTIME_DIR/ftpmirror-NAME-HASH.lock` (or the temp dir), keyed by the profile name and
/// the profile file's absolute path, so two files may use the same profile name.
pub fn lock_path(profile: &str, config: &Path, runtime_dir: Option<PathBuf>) -> PathBuf {
    let config = std::path::absolute(config).unwrap_or_else(|_| config.to_path_buf());
    let safe: String = profile
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let key = format!("{profile}\0{}", config.display());
    let dir = runtime_dir
        .filter(|d| d.is_dir())
        .unwrap_or_else(std::env::temp_dir);
    dir.join(format!(
        "ftpmirror-{safe}-{:016x}.lock",
        fnv1a(key.as_bytes())
    ))
}

/// FNV-1a: a hash that stays the same across builds, so every version agrees on the name.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

pub fn acquire(path: &Path) -> Result<Acquire> {
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .with_context(|| format!("cannot open lock file {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => {
            file.set_len(0)?;
            file.rewind()?;
            write!(file, "{}", std::process::id())?;
            file.flush()?;
            Ok(Acquire::Held(Lock { _file: file }))
        }
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut text = String::new();
            let _ = file.read_to_string(&mut text);
            Ok(Acquire::Busy(text.trim().parse().ok()))
        }
        Err(std::fs::TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("cannot lock {}", path.display()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_holder_is_refused_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let path = lock_path(
            "site",
            Path::new("/etc/ftpmirror.yaml"),
            Some(dir.path().into()),
        );
        assert!(path.starts_with(dir.path()));
        let Acquire::Held(first) = acquire(&path).unwrap() else {
            panic!("not held")
        };
        match acquire(&path).unwrap() {
            Acquire::Busy(pid) => assert_eq!(pid, Some(std::process::id())),
            Acquire::Held(_) => panic!("locked twice"),
        }
        drop(first);
        assert!(matches!(acquire(&path).unwrap(), Acquire::Held(_)));
    }

    #[test]
    fn names_differ_by_profile_and_file() {
        let a = lock_path("site", Path::new("/a.yaml"), None);
        assert_ne!(a, lock_path("site", Path::new("/b.yaml"), None));
        assert_ne!(a, lock_path("other", Path::new("/a.yaml"), None));
        assert_eq!(a, lock_path("site", Path::new("/a.yaml"), None));
        assert!(
            lock_path("../x y", Path::new("/a"), None)
                .file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("ftpmirror-___x_y-")
        );
    }
}
