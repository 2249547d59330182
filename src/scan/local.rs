//! Walks the local directory into a `Tree`.

use std::path::Path;

use anyhow::{Result, bail};
use walkdir::WalkDir;

use crate::path::RelPath;
use crate::scan::filter::Filter;
use crate::tree::{Entry, Mtime, Precision, Problem, Tree};

/// Scans `root`, leaving out what `filter` excludes (excluded directories are not entered).
/// A missing root is an empty tree with `root_exists == false` (a first pull);
/// a root that is not a directory is an error. Symbolic links and special files are skipped
/// with a notice; names that cannot be sent to a server (not UTF-8, control characters) are
/// errors, and nothing below such a directory is touched.
pub fn scan(root: &Path, filter: &Filter) -> Result<Tree> {
    scan_with(root, filter, false)
}

/// [`scan`]; with `follow_links` (`-L`, push only), a symbolic link stands for what it points
/// to, file or directory, wherever that is. A link that leads back into a directory it is in
/// (a loop) and a link to nothing are skipped with a notice, so the destination's copy of
/// that path is never deleted.
pub fn scan_with(root: &Path, filter: &Filter, follow_links: bool) -> Result<Tree> {
    let mut tree = Tree::new();
    match std::fs::metadata(root) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => bail!("{} is not a directory", root.display()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            tree.root_exists = false;
            return Ok(tree);
        }
        Err(e) => bail!("cannot read {}: {e}", root.display()),
    }
    let mut walk = WalkDir::new(root)
        .follow_links(follow_links)
        .sort_by_file_name()
        .min_depth(1)
        .into_iter();
    while let Some(item) = walk.next() {
        let entry = match item {
            Ok(e) => e,
            Err(e) => {
                let rel = e.path().and_then(|p| relative(root, p).ok());
                let link = e
                    .path()
                    .and_then(|p| std::fs::symlink_metadata(p).ok())
                    .is_some_and(|m| m.file_type().is_symlink());
                if let (true, Some(path)) = (follow_links && link, &rel) {
                    let message = match e.loop_ancestor() {
                        Some(a) => format!("symbolic link loop (back to {}) skipped", a.display()),
                        None => format!("symbolic link skipped: {e}"),
                    };
                    tree.skipped.push(Problem {
                        path: path.to_string(),
                        message,
                    });
                    continue;
                }
                let dir = rel.unwrap_or_else(RelPath::root);
                let msg = format!("cannot read {}: {e}", e.path().unwrap_or(root).display());
                tree.unreadable.push((dir, msg));
                continue;
            }
        };
        let path = match relative(root, entry.path()) {
            Ok(p) => p,
            Err(msg) => {
                tree.errors.push(Problem {
                    path: entry
                        .path()
                        .display()
                        .to_string()
                        .escape_debug()
                        .to_string(),
                    message: msg,
                });
                if entry.file_type().is_dir() {
                    walk.skip_current_dir();
                }
                continue;
            }
        };
        let ft = entry.file_type();
        if filter.excludes(&path, ft.is_dir()) {
            if ft.is_dir() {
                walk.skip_current_dir();
            }
            continue;
        }
        if ft.is_symlink() {
            tree.skipped.push(Problem {
                path: path.to_string(),
                message: "symbolic link skipped".into(),
            });
            continue;
        }
        if ft.is_dir() {
            tree.insert(path, Entry::dir());
            continue;
        }
        if !ft.is_file() {
            tree.skipped.push(Problem {
                path: path.to_string(),
                message: "special file skipped".into(),
            });
            continue;
        }
        match entry.metadata() {
            Ok(m) => {
                let mtime = m.modified().ok().map(|time| Mtime {
                    time,
                    precision: Precision::Exact,
                });
                tree.insert(path, Entry::file(m.len(), mtime));
            }
            Err(e) => tree.errors.push(Problem {
                path: path.to_string(),
                message: format!("cannot read metadata: {e}"),
            }),
        }
    }
    Ok(tree)
}

/// The `RelPath` of `p` below `root`, or why its name cannot be mirrored.
fn relative(root: &Path, p: &Path) -> Result<RelPath, String> {
    let rel = p.strip_prefix(root).map_err(|e| e.to_string())?;
    let mut out = RelPath::root();
    for c in rel.components() {
        let name = c
            .as_os_str()
            .to_str()
            .ok_or_else(|| "name is not valid UTF-8; skipped".to_string())?;
        out = out
            .join(name)
            .map_err(|why| format!("name cannot be sent to an FTP server ({why}); skipped"))?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn scans_files_dirs_and_skips_links() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("a/empty")).unwrap();
        fs::write(root.join("a/x.bin"), b"12345").unwrap();
        fs::write(root.join("bad\nname"), b"").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", root.join("link")).unwrap();

        let t = scan(root, &Filter::default()).unwrap();
        let keys: Vec<&str> = t.entries.keys().map(RelPath::as_str).collect();
        assert_eq!(keys, ["a", "a/empty", "a/x.bin"]);
        assert_eq!(t.get(&RelPath::parse("a/x.bin").unwrap()).unwrap().size, 5);
        assert_eq!(t.skipped.len(), 1);
        assert_eq!(t.errors.len(), 1);
        assert!(t.errors[0].message.contains("control character"));
    }

    #[test]
    fn copy_links_follows_files_and_dirs_and_skips_loops_and_dangling_links() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("site");
        let shared = dir.path().join("shared");
        fs::create_dir_all(root.join("sub")).unwrap();
        fs::create_dir_all(&shared).unwrap();
        fs::write(shared.join("logo.png"), b"png!").unwrap();
        fs::write(dir.path().join("robots.txt"), b"User-agent: *").unwrap();
        std::os::unix::fs::symlink(&shared, root.join("assets")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("robots.txt"), root.join("robots.txt")).unwrap();
        std::os::unix::fs::symlink("..", root.join("sub/up")).unwrap();
        std::os::unix::fs::symlink("/nonexistent", root.join("gone")).unwrap();

        let t = scan_with(&root, &Filter::default(), true).unwrap();
        let keys: Vec<&str> = t.entries.keys().map(RelPath::as_str).collect();
        assert_eq!(keys, ["assets", "assets/logo.png", "robots.txt", "sub"]);
        assert!(t.unreadable.is_empty(), "{:?}", t.unreadable);
        let mut skipped: Vec<&str> = t.skipped.iter().map(|p| p.path.as_str()).collect();
        skipped.sort();
        assert_eq!(skipped, ["gone", "sub/up"]);
        assert!(t.skipped.iter().any(|p| p.message.contains("loop")));

        let plain = scan(&root, &Filter::default()).unwrap();
        assert_eq!(plain.skipped.len(), 4, "without -L every link is skipped");
    }

    #[test]
    fn missing_root_is_empty_and_file_root_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let t = scan(&dir.path().join("nope"), &Filter::default()).unwrap();
        assert!(!t.root_exists && t.entries.is_empty());
        fs::write(dir.path().join("f"), b"").unwrap();
        assert!(scan(&dir.path().join("f"), &Filter::default()).is_err());
    }
}
