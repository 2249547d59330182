//! `--backup-dir DIR` and `--suffix SUFFIX`, as in rclone: what a run would overwrite or
//! delete is moved aside first, under its relative path, so a deploy can be undone. On a
//! push DIR is on the server (relative to the remote root unless absolute) and the move is
//! one RNFR/RNTO; on a pull DIR is local (relative to the local directory unless absolute)
//! and the move is a rename.

use std::path::{Path, PathBuf};

use crate::path::RelPath;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backup {
    /// `None`: in place, beside the file (then `suffix` is not empty).
    pub dir: Option<String>,
    pub suffix: String,
}

impl Backup {
    /// From the flags; `None` when neither is given.
    pub fn new(dir: Option<String>, suffix: Option<String>) -> Result<Option<Backup>, String> {
        match (dir, suffix) {
            (None, None) => Ok(None),
            (None, Some(s)) if s.is_empty() => Err("--suffix alone must not be empty".into()),
            (dir, suffix) => Ok(Some(Backup {
                dir: dir.map(|d| d.trim_end_matches('/').to_string()),
                suffix: suffix.unwrap_or_default(),
            })),
        }
    }

    /// The backup directory as a path below the tree's root, where it is inside it: it is
    /// then left out of the mirror (never sent, compared or deleted).
    pub fn inside(&self) -> Option<RelPath> {
        let d = self.dir.as_deref()?;
        if d.starts_with('/') {
            return None;
        }
        RelPath::parse(d).ok().filter(|p| !p.is_root())
    }

    /// Where the server copy of `path` goes; `root` is the remote root.
    pub fn remote(&self, root: &str, path: &RelPath) -> String {
        let name = format!("{}{}", path.as_str(), self.suffix);
        match self.dir.as_deref() {
            None => format!("{}/{name}", root.trim_end_matches('/')),
            Some(d) if d.starts_with('/') => format!("{d}/{name}"),
            Some(d) => format!("{}/{d}/{name}", root.trim_end_matches('/')),
        }
    }

    /// Where the local copy of `path` goes; `root` is the local directory.
    pub fn local(&self, root: &Path, path: &RelPath) -> PathBuf {
        let name = format!("{}{}", path.as_str(), self.suffix);
        match self.dir.as_deref() {
            None => root.join(name),
            Some(d) => root.join(d).join(name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backup_paths() {
        let p = RelPath::parse("css/site.css").unwrap();
        let b = Backup::new(Some("_old/".into()), None).unwrap().unwrap();
        assert_eq!(b.remote("/htdocs", &p), "/htdocs/_old/css/site.css");
        assert_eq!(b.inside(), Some(RelPath::parse("_old").unwrap()));
        let b = Backup::new(None, Some(".bak".into())).unwrap().unwrap();
        assert_eq!(b.remote("/htdocs/", &p), "/htdocs/css/site.css.bak");
        assert_eq!(
            b.local(Path::new("/srv"), &p),
            Path::new("/srv/css/site.css.bak")
        );
        let b = Backup::new(Some("/backups/site".into()), Some(".1".into()))
            .unwrap()
            .unwrap();
        assert_eq!(b.remote("/htdocs", &p), "/backups/site/css/site.css.1");
        assert_eq!(b.inside(), None);
        assert!(Backup::new(None, Some(String::new())).is_err());
        assert_eq!(Backup::new(None, None), Ok(None));
    }
}
