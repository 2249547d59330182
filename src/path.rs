//! `RelPath`: the one key both trees use.
//!
//! Every name that reaches a tree — from the local file system or from a server listing — is
//! validated here first, so nothing downstream can be tricked into leaving the mirror root.

use std::cmp::Ordering;
use std::fmt;
use std::path::{Path, PathBuf};

/// A normalised path relative to a mirror root: '/'-separated, no empty, `.` or `..`
/// components, no control characters. The empty path is the root itself.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct RelPath(String);

/// Why a name cannot be part of a `RelPath`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BadName {
    Empty,
    Dots,
    Separator,
    Control,
    /// `C:`, `file:`, `http://...`: harmless here, but a trap for anything that passes the
    /// name on (lftp CVE-2018-10916).
    Prefix,
}

impl fmt::Display for BadName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BadName::Empty => "empty name",
            BadName::Dots => "'.' or '..' is not a file name",
            BadName::Separator => "name contains '/' or '\\'",
            BadName::Control => "name contains a control character (CR, LF, NUL, ...)",
            BadName::Prefix => "name looks like a drive or URL prefix (C:, file:)",
        })
    }
}

/// Checks one path component. Control characters are refused because they cannot be sent
/// safely in an FTP command (CR/LF would split it) and would garble terminal output.
pub fn check_name(name: &str) -> Result<(), BadName> {
    if name.is_empty() {
        Err(BadName::Empty)
    } else if name == "." || name == ".." {
        Err(BadName::Dots)
    } else if name.contains(['/', '\\']) {
        Err(BadName::Separator)
    } else if name.chars().any(char::is_control) {
        Err(BadName::Control)
    } else {
        Ok(())
    }
}

/// `check_name` plus what only a server's names are held to: nothing that reads as a drive
/// (`C:x`) or a URL (`file:x`, `http://x`). Other colons (`Re: notes.txt`) are fine.
pub fn check_server_name(name: &str) -> Result<(), BadName> {
    const SCHEMES: &[&str] = &[
        "file",
        "http",
        "https",
        "ftp",
        "ftps",
        "sftp",
        "smb",
        "data",
        "javascript",
    ];
    check_name(name)?;
    let Some((head, rest)) = name.split_once(':') else {
        return Ok(());
    };
    let drive = head.len() == 1 && head.starts_with(|c: char| c.is_ascii_alphabetic());
    let url = rest.starts_with("//") || SCHEMES.contains(&head.to_ascii_lowercase().as_str());
    if drive || url {
        Err(BadName::Prefix)
    } else {
        Ok(())
    }
}

impl RelPath {
    pub fn root() -> RelPath {
        RelPath(String::new())
    }

    /// Parses a '/'-separated relative path, validating each component.
    pub fn parse(s: &str) -> Result<RelPath, BadName> {
        let mut path = RelPath::root();
        for part in s.split('/').filter(|p| !p.is_empty()) {
            path = path.join(part)?;
        }
        Ok(path)
    }

    /// This path with one more component.
    pub fn join(&self, name: &str) -> Result<RelPath, BadName> {
        check_name(name)?;
        Ok(if self.0.is_empty() {
            RelPath(name.to_string())
        } else {
            RelPath(format!("{}/{}", self.0, name))
        })
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The last component ("" for the root).
    pub fn name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or("")
    }

    pub fn parent(&self) -> Option<RelPath> {
        if self.0.is_empty() {
            return None;
        }
        Some(match self.0.rfind('/') {
            Some(i) => RelPath(self.0[..i].to_string()),
            None => RelPath::root(),
        })
    }

    /// Number of components: 0 for the root, 1 for a top-level entry.
    pub fn depth(&self) -> usize {
        if self.0.is_empty() {
            0
        } else {
            self.0.matches('/').count() + 1
        }
    }

    /// True when `self` is `other` or lies below it.
    pub fn starts_with(&self, other: &RelPath) -> bool {
        other.0.is_empty()
            || self.0 == other.0
            || (self.0.starts_with(&other.0) && self.0.as_bytes().get(other.0.len()) == Some(&b'/'))
    }

    pub fn components(&self) -> impl Iterator<Item = &str> {
        self.0.split('/').filter(|c| !c.is_empty())
    }

    /// The local path below `root`.
    pub fn to_local(&self, root: &Path) -> PathBuf {
        let mut p = root.to_path_buf();
        p.extend(self.components());
        p
    }

    /// The remote path below `root` (an absolute server path such as "/www").
    pub fn to_remote(&self, root: &str) -> String {
        if self.0.is_empty() {
            return root.to_string();
        }
        if root.ends_with('/') {
            format!("{root}{}", self.0)
        } else {
            format!("{root}/{}", self.0)
        }
    }
}

/// Component-wise order, so a directory sorts right before its contents ("a", "a/b", "a-b").
///
/// Computed as byte order with '/' ranked below every other byte: the same order, since names
/// hold no control characters, without splitting strings on each of a map lookup's compares.
impl Ord for RelPath {
    fn cmp(&self, other: &Self) -> Ordering {
        let (a, b) = (self.0.as_bytes(), other.0.as_bytes());
        match a.iter().zip(b).position(|(x, y)| x != y) {
            Some(i) => match (a[i], b[i]) {
                (b'/', _) => Ordering::Less,
                (_, b'/') => Ordering::Greater,
                (x, y) => x.cmp(&y),
            },
            None => a.len().cmp(&b.len()),
        }
    }
}

impl PartialOrd for RelPath {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for RelPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str(".")
        } else {
            f.write_str(&self.0)
        }
    }
}

impl fmt::Debug for RelPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_dangerous_names() {
        for (name, why) in [
            ("", BadName::Empty),
            (".", BadName::Dots),
            ("..", BadName::Dots),
            ("a/b", BadName::Separator),
            ("a\\b", BadName::Separator),
            ("a\r\nDELE x", BadName::Control),
            ("nul\0", BadName::Control),
            ("esc\x1b[2J", BadName::Control),
        ] {
            assert_eq!(check_name(name), Err(why), "{name:?}");
        }
        assert!(check_name("ok name.txt").is_ok());
        assert!(check_name("..hidden").is_ok());
        assert!(check_name("ünïcode").is_ok());
    }

    #[test]
    fn server_names_may_not_look_like_prefixes() {
        for bad in [
            "C:",
            "c:evil",
            "file:x",
            "FILE:etc",
            "http://x",
            "weird://y",
        ] {
            assert!(check_server_name(bad).is_err(), "{bad}");
        }
        for ok in [
            "Re: meeting.eml",
            "notes:v2.txt",
            "12:30 notes.txt",
            ":leading",
            "x.txt",
        ] {
            assert_eq!(check_server_name(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn parse_normalises_and_validates() {
        assert_eq!(RelPath::parse("a//b/").unwrap().as_str(), "a/b");
        assert!(RelPath::parse("").unwrap().is_root());
        assert_eq!(RelPath::parse("a/../b"), Err(BadName::Dots));
    }

    #[test]
    fn parent_name_depth() {
        let p = RelPath::parse("a/b/c.txt").unwrap();
        assert_eq!(p.name(), "c.txt");
        assert_eq!(p.depth(), 3);
        assert_eq!(p.parent().unwrap().as_str(), "a/b");
        assert_eq!(RelPath::parse("a").unwrap().parent(), Some(RelPath::root()));
        assert_eq!(RelPath::root().parent(), None);
    }

    #[test]
    fn order_keeps_subtrees_together() {
        let mut v: Vec<RelPath> = ["a-b", "a/b", "a", "b", "a/a/z"]
            .iter()
            .map(|s| RelPath::parse(s).unwrap())
            .collect();
        v.sort();
        let s: Vec<&str> = v.iter().map(RelPath::as_str).collect();
        assert_eq!(s, ["a", "a/a/z", "a/b", "a-b", "b"]);
    }

    #[test]
    fn byte_order_matches_component_order() {
        let names = [
            "a", "a b", "a-b", "a.b", "a/b", "a/b/c", "a/b-c", "a/bc", "ab", "b", " x", "é",
            "a!/z", "a!",
        ];
        let paths: Vec<RelPath> = names.iter().map(|n| RelPath::parse(n).unwrap()).collect();
        for x in &paths {
            for y in &paths {
                let by_components = x.components().cmp(y.components());
                assert_eq!(x.cmp(y), by_components, "{x:?} vs {y:?}");
            }
        }
    }

    #[test]
    fn starts_with_is_component_wise() {
        let ab = RelPath::parse("a/b").unwrap();
        assert!(ab.starts_with(&RelPath::parse("a").unwrap()));
        assert!(ab.starts_with(&RelPath::root()));
        assert!(
            !RelPath::parse("ab")
                .unwrap()
                .starts_with(&RelPath::parse("a").unwrap())
        );
    }

    #[test]
    fn remote_and_local_join() {
        let p = RelPath::parse("d/f").unwrap();
        assert_eq!(p.to_remote("/www"), "/www/d/f");
        assert_eq!(p.to_remote("/"), "/d/f");
        assert_eq!(RelPath::root().to_remote("/www"), "/www");
        assert_eq!(p.to_local(Path::new("/tmp/x")), PathBuf::from("/tmp/x/d/f"));
    }
}
