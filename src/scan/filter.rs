//! Include/exclude rules in the style of .gitignore and rsync.
//!
//! - A pattern without `/` matches a name at any depth (`*.tmp`, `node_modules`).
//! - A leading `/`, or a `/` inside the pattern, anchors it to the root (`/build`, `docs/*.md`).
//! - A trailing `/` matches directories only (`cache/`).
//! - `*` stays within one name; `**` spans directories (`assets/**/*.map`).
//! - An excluded directory is not descended into.
//! - Includes win over excludes; once any include is given, only files matching an include
//!   are kept (directories are still walked, so included files below them are found).
//!
//! An empty pattern is an error, never "match everything".

use std::path::Path;

use anyhow::{Context, Result, bail};
use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};

use crate::path::RelPath;

#[derive(Debug, Clone, Default)]
struct Rules {
    any: Option<GlobSet>,
    dirs_only: Option<GlobSet>,
    count: usize,
}

impl Rules {
    fn build(patterns: &[String], what: &str) -> Result<Rules> {
        let mut any = GlobSetBuilder::new();
        let mut dirs = GlobSetBuilder::new();
        let (mut n_any, mut n_dirs) = (0, 0);
        for raw in patterns {
            let (glob, dir_only) =
                compile(raw).with_context(|| format!("invalid {what} pattern '{raw}'"))?;
            if dir_only {
                dirs.add(glob);
                n_dirs += 1;
            } else {
                any.add(glob);
                n_any += 1;
            }
        }
        let build = |b: GlobSetBuilder, n: usize| -> Result<Option<GlobSet>> {
            Ok(if n == 0 { None } else { Some(b.build()?) })
        };
        Ok(Rules {
            any: build(any, n_any)?,
            dirs_only: build(dirs, n_dirs)?,
            count: patterns.len(),
        })
    }

    fn matches(&self, path: &str, is_dir: bool) -> bool {
        self.any.as_ref().is_some_and(|s| s.is_match(path))
            || (is_dir && self.dirs_only.as_ref().is_some_and(|s| s.is_match(path)))
    }
}

/// Turns one user pattern into a glob over '/'-separated relative paths.
fn compile(raw: &str) -> Result<(Glob, bool)> {
    let mut p = raw.trim();
    if p.is_empty() {
        bail!("empty pattern: it would match everything");
    }
    let dir_only = p.ends_with('/');
    p = p.trim_end_matches('/');
    let anchored = p.starts_with('/') || p.contains('/');
    p = p.trim_start_matches('/');
    if p.is_empty() {
        bail!("the pattern names no file or directory");
    }
    let glob = if anchored {
        p.to_string()
    } else {
        format!("**/{p}")
    };
    let glob = GlobBuilder::new(&glob).literal_separator(true).build()?;
    Ok((glob, dir_only))
}

/// The compiled rules; the default filter keeps everything.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    include: Rules,
    exclude: Rules,
}

impl Filter {
    /// `exclude_from` files hold one exclude pattern per line; blank lines and `#` comments
    /// are ignored.
    pub fn new(
        include: &[String],
        exclude: &[String],
        exclude_from: &[impl AsRef<Path>],
    ) -> Result<Filter> {
        let mut excludes = exclude.to_vec();
        for file in exclude_from {
            let file = file.as_ref();
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("cannot read exclude file {}", file.display()))?;
            for (i, line) in text.lines().enumerate() {
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                compile(line).with_context(|| {
                    format!("{}:{}: invalid pattern '{line}'", file.display(), i + 1)
                })?;
                excludes.push(line.to_string());
            }
        }
        Ok(Filter {
            include: Rules::build(include, "include")?,
            exclude: Rules::build(&excludes, "exclude")?,
        })
    }

    /// Whether `path` is left out of the mirror.
    pub fn excludes(&self, path: &RelPath, is_dir: bool) -> bool {
        let p = path.as_str();
        if self.include.matches(p, is_dir) {
            return false;
        }
        if self.exclude.matches(p, is_dir) {
            return true;
        }
        !is_dir && self.include.count > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(include: &[&str], exclude: &[&str]) -> Filter {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        Filter::new(&s(include), &s(exclude), &[] as &[&Path]).unwrap()
    }

    fn ex(filter: &Filter, path: &str) -> bool {
        let is_dir = path.ends_with('/');
        filter.excludes(&RelPath::parse(path).unwrap(), is_dir)
    }

    #[test]
    fn semantics_table() {
        // (include, exclude, path — trailing '/' marks a directory, excluded?)
        type Case = (
            &'static [&'static str],
            &'static [&'static str],
            &'static str,
            bool,
        );
        let cases: &[Case] = &[
            (&[], &[], "anything/at/all.txt", false),
            (&[], &["*.tmp"], "a.tmp", true),
            (&[], &["*.tmp"], "deep/er/a.tmp", true),
            (&[], &["*.tmp"], "a.tmp.txt", false),
            (&[], &["node_modules"], "node_modules/", true),
            (&[], &["node_modules"], "web/node_modules/", true),
            (&[], &["/build"], "build/", true),
            (&[], &["/build"], "src/build/", false),
            (&[], &["docs/*.md"], "docs/a.md", true),
            (&[], &["docs/*.md"], "x/docs/a.md", false),
            (&[], &["docs/*.md"], "docs/sub/a.md", false),
            (&[], &["assets/**/*.map"], "assets/js/app.js.map", true),
            (&[], &["assets/**/*.map"], "assets/app.js.map", true),
            (&[], &["cache/"], "cache/", true),
            (&[], &["cache/"], "cache", false),
            (&[], &[".git"], ".git/", true),
            (&["*.html"], &[], "index.html", false),
            (&["*.html"], &[], "style.css", true),
            (&["*.html"], &[], "sub/", false),
            (&["important.log"], &["*.log"], "important.log", false),
            (&["important.log"], &["*.log"], "other.log", true),
        ];
        for &(inc, exc, path, want) in cases {
            assert_eq!(
                ex(&f(inc, exc), path),
                want,
                "include {inc:?} exclude {exc:?} path {path}"
            );
        }
    }

    #[test]
    fn empty_and_bad_patterns_are_errors() {
        for bad in ["", "   ", "/", "//", "a[", "{a,b"] {
            let r = Filter::new(&[], &[bad.to_string()], &[] as &[&Path]);
            assert!(r.is_err(), "{bad:?}");
        }
        let err = format!(
            "{:#}",
            Filter::new(&[], &["".into()], &[] as &[&Path]).unwrap_err()
        );
        assert!(err.contains("would match everything"), "{err}");
    }

    #[test]
    fn exclude_from_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("excludes");
        std::fs::write(&file, "# comment\n\n*.bak\n/private/\n").unwrap();
        let filter = Filter::new(&[], &[], &[&file]).unwrap();
        assert!(ex(&filter, "x/y.bak"));
        assert!(ex(&filter, "private/"));
        assert!(!ex(&filter, "public/"));
        std::fs::write(&file, "ok\n[bad\n").unwrap();
        let err = format!("{:#}", Filter::new(&[], &[], &[&file]).unwrap_err());
        assert!(err.contains("excludes:2"), "{err}");
        assert!(Filter::new(&[], &[], &[dir.path().join("missing")]).is_err());
    }
}
