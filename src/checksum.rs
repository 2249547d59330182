//! `--checksum`: for files of the same size on both sides, whether their contents match,
//! found out before planning (scan → **content** → plan → execute → report).
//!
//! Where FEAT offers a hash command the server hashes its copies (HASH with SHA-256, SHA-1 or
//! MD5; else XSHA256, XSHA1, XMD5, XCRC), asked in batches like SIZE. Elsewhere the deploy
//! manifest ([`crate::manifest`]) tells, for copies that have not changed since ftpmirror
//! uploaded them. Local files are hashed through the [`Cache`], so an unchanged tree is not
//! read again. A file nothing can vouch for is left to the quick check.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

use anyhow::{Context, Result};

use crate::compare::{Content, Evidence};
use crate::config::SyncJob;
use crate::hash::{Algo, Cache};
use crate::manifest;
use crate::manifest::{Manifest, Record};
use crate::path::RelPath;
use crate::plan::{Direction, Plan, PlanOpts};
use crate::remote::{HashCommand, Pool};
use crate::report::progress::Progress;
use crate::tree::{Kind, Tree};

/// The files on both sides whose content could decide: files of the same size, or of a
/// size one side knows only roughly.
pub fn candidates(local: &Tree, remote: &Tree) -> Vec<RelPath> {
    local
        .entries
        .iter()
        .filter(|(p, l)| {
            l.kind == Kind::File
                && remote.get(p).is_some_and(|r| {
                    r.kind == Kind::File && (r.size == l.size || r.rough_size || l.rough_size)
                })
        })
        .map(|(p, _)| p.clone())
        .collect()
}

/// The server's own hashes of `paths`, compared with the local files'.
pub fn by_server(
    pool: &Pool,
    cmd: HashCommand,
    cache: &Cache,
    local_root: &Path,
    paths: &[RelPath],
    on_notice: &(dyn Fn(String) + Sync),
) -> BTreeMap<RelPath, Content> {
    let remote: Vec<String> = paths.iter().map(|p| p.to_remote(pool.root())).collect();
    let digests = pool.ask_spread(&remote, on_notice, |s, chunk| s.hashes(cmd, chunk));
    let answered: Vec<(RelPath, String)> = paths
        .iter()
        .zip(digests)
        .filter_map(|(p, d)| Some((p.clone(), d?)))
        .collect();
    let algo = cmd.algo();
    let local = hash_local(
        cache,
        local_root,
        answered.iter().map(|(p, _)| p),
        algo,
        on_notice,
    );
    answered
        .into_iter()
        .filter_map(|(p, theirs)| {
            let ours = local.get(&p)?;
            let e = Evidence::Server(algo);
            let verdict = if *ours == theirs {
                Content::Same(e)
            } else {
                Content::Differs(e)
            };
            Some((p, verdict))
        })
        .collect()
}

/// What the manifest says of `paths`: for a server copy it still describes, whether the
/// local file has the recorded SHA-256; for one it no longer describes, that it changed.
pub fn by_manifest(
    manifest: &Manifest,
    cache: &Cache,
    local_root: &Path,
    remote: &Tree,
    paths: &[RelPath],
    on_notice: &(dyn Fn(String) + Sync),
) -> BTreeMap<RelPath, Content> {
    let mut out = BTreeMap::new();
    let mut vouched = Vec::new();
    for p in paths {
        let (Some(record), Some(live)) = (manifest.get(p), remote.get(p)) else {
            continue;
        };
        if record.describes(live) {
            vouched.push((p, record));
        } else {
            out.insert(p.clone(), Content::ServerChanged);
        }
    }
    let local = hash_local(
        cache,
        local_root,
        vouched.iter().map(|(p, _)| *p),
        Algo::Sha256,
        on_notice,
    );
    for (p, record) in vouched {
        if let Some(ours) = local.get(p) {
            let verdict = if *ours == record.sha256 {
                Content::Same(Evidence::Manifest)
            } else {
                Content::Differs(Evidence::Manifest)
            };
            out.insert(p.clone(), verdict);
        }
    }
    out
}

/// Hashes local files on a few threads. A file that cannot be read gets no digest, and one
/// notice: the quick check then decides for it.
pub fn hash_local<'a>(
    cache: &Cache,
    root: &Path,
    paths: impl Iterator<Item = &'a RelPath>,
    algo: Algo,
    on_notice: &(dyn Fn(String) + Sync),
) -> BTreeMap<RelPath, String> {
    let paths: Vec<&RelPath> = paths.collect();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get().min(8));
    let share = paths.len().div_ceil(threads).max(1);
    let out = Mutex::new(BTreeMap::new());
    std::thread::scope(|scope| {
        for chunk in paths.chunks(share) {
            let out = &out;
            scope.spawn(move || {
                for p in chunk {
                    let file = p.to_local(root);
                    match cache.hash(&file, algo) {
                        Ok(hex) => {
                            out.lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .insert((*p).clone(), hex);
                        }
                        Err(e) => on_notice(format!("cannot hash {}: {e}", file.display())),
                    }
                }
            });
        }
    });
    out.into_inner().unwrap_or_else(|e| e.into_inner())
}

/// The manifest on the server, or `None` with why, where there is none or it is unusable.
/// A missing file (550) is the first `--checksum` run, not a problem: `Ok(None)`.
pub fn load(pool: &Pool, remote: &str) -> Result<Option<Manifest>> {
    let mut s = pool.take()?;
    let got = s.fetch(remote);
    pool.give(s);
    got?.map(|bytes| {
        Manifest::parse(&bytes).with_context(|| {
            format!(
                "{}: {}",
                pool.endpoint().label(),
                crate::remote::escape(remote)
            )
        })
    })
    .transpose()
}

/// Writes the manifest atomically: stored under a temporary name beside it, then renamed.
pub fn save(pool: &Pool, remote: &str, manifest: &Manifest) -> Result<()> {
    let bytes = manifest.to_bytes();
    let tmp = format!("{remote}.part");
    let mut s = pool.take()?;
    let r = (|| {
        if s.store(&tmp, 0, &mut &bytes[..], &mut |_| {}).is_err() {
            // `--manifest` may name a directory that does not exist yet.
            if let Some((dir, _)) = remote.rsplit_once('/')
                && !dir.is_empty()
            {
                s.mkdir_all(dir)?;
            }
            s.store(&tmp, 0, &mut &bytes[..], &mut |_| {})?;
        }
        if let Err(e) = s.rename(&tmp, remote) {
            let _ = s.remove_file(&tmp);
            return Err(e);
        }
        Ok(())
    })();
    pool.give(s);
    r
}

/// The manifest after this run: the records the run relied on and found true, and a new
/// record for each file it uploaded. Everything else is dropped: a record is only kept for a
/// copy ftpmirror knows.
pub fn next(
    old: Option<&Manifest>,
    content: &BTreeMap<RelPath, Content>,
    uploaded: Vec<(RelPath, Record)>,
) -> Manifest {
    let mut m = Manifest::new();
    if let Some(old) = old {
        for (p, c) in content {
            if let (Content::Same(Evidence::Manifest), Some(r)) = (c, old.get(p)) {
                m.insert(p, r.clone());
            }
        }
    }
    for (p, r) in uploaded {
        m.insert(&p, r);
    }
    m
}

/// How this run learns remote contents.
pub enum Method {
    Server(HashCommand),
    /// The deploy manifest at `remote` (a full remote path), and what it held at the start.
    Manifest {
        remote: String,
        old: Option<Manifest>,
    },
}

/// `--checksum` for one run: the method, and the local hash cache.
pub struct Checking {
    pub method: Method,
    cache: Cache,
}

impl Checking {
    /// Picks the method from FEAT and, for the manifest, reads it. A manifest that cannot be
    /// read or parsed is one warning: the quick check decides instead, and nothing is lost.
    pub fn start(pool: &Pool, job: &SyncJob, progress: &mut Progress) -> Checking {
        let cache = Cache::open(Cache::default_path(|k| std::env::var(k).ok()));
        let method = match pool.caps().hash {
            Some(cmd) => Method::Server(cmd),
            None => {
                let remote = manifest_path(pool.root(), &job.manifest);
                let old = match load(pool, &remote) {
                    Ok(m) => m,
                    Err(e) => {
                        progress.warn(&format!(
                            "--checksum: the manifest is unusable ({e:#}); files are compared \
                             by size and mtime, and the manifest is written anew"
                        ));
                        None
                    }
                };
                Method::Manifest { remote, old }
            }
        };
        if progress.verbose() {
            progress.line(&match &method {
                Method::Server(cmd) => format!(
                    "--checksum: the server hashes its copies ({} {})",
                    cmd.verb(),
                    cmd.algo().name()
                ),
                Method::Manifest { remote, old } => format!(
                    "--checksum: no hash command here; the manifest {} {}",
                    crate::remote::escape(remote),
                    match old {
                        Some(m) => format!("has {} file(s)", m.files.len()),
                        None => "does not exist yet".to_string(),
                    }
                ),
            });
        }
        Checking { method, cache }
    }

    /// The content verdicts for the files of the same size on both sides.
    pub fn content(
        &self,
        pool: &Pool,
        job: &SyncJob,
        local: &Tree,
        remote: &Tree,
        progress: &mut Progress,
    ) -> BTreeMap<RelPath, Content> {
        let paths = candidates(local, remote);
        let notices = Mutex::new(Vec::<String>::new());
        let on_notice = |m: String| {
            let mut n = notices.lock().unwrap_or_else(|e| e.into_inner());
            if !n.contains(&m) {
                n.push(m);
            }
        };
        let content = match &self.method {
            Method::Server(cmd) => {
                by_server(pool, *cmd, &self.cache, &job.local, &paths, &on_notice)
            }
            Method::Manifest { old: Some(m), .. } => {
                by_manifest(m, &self.cache, &job.local, remote, &paths, &on_notice)
            }
            Method::Manifest { old: None, .. } => BTreeMap::new(),
        };
        for n in notices.into_inner().unwrap_or_else(|e| e.into_inner()) {
            progress.warn(&n);
        }
        if progress.verbose() {
            let count = |f: fn(&Content) -> bool| content.values().filter(|c| f(c)).count();
            progress.line(&format!(
                "--checksum: {} of {} same-size file(s) match, {} differ, {} changed on the \
                 server since the manifest; {} local file(s) read, the rest from the cache",
                count(|c| matches!(c, Content::Same(_))),
                paths.len(),
                count(|c| matches!(c, Content::Differs(_))),
                count(|c| matches!(c, Content::ServerChanged)),
                self.cache.files_read()
            ));
        }
        content
    }

    /// After the transfers: on a push that used the manifest, records what was uploaded and
    /// writes the manifest where it changed; then keeps the local hashes for the next run.
    #[allow(clippy::too_many_arguments)]
    pub fn finish(
        &self,
        pool: &Pool,
        job: &SyncJob,
        plan: &Plan,
        content: &BTreeMap<RelPath, Content>,
        uploaded: &[RelPath],
        opts: PlanOpts,
        progress: &mut Progress,
    ) {
        if let Method::Manifest { remote, old } = &self.method
            && job.direction == Direction::Push
            && !job.dry_run
        {
            let records = self.records(pool, job, plan, uploaded, opts, progress);
            let next = next(old.as_ref(), content, records);
            let changed = match old {
                Some(old) => *old != next,
                None => !next.files.is_empty(),
            };
            if changed {
                match save(pool, remote, &next) {
                    Ok(()) if progress.verbose() => progress.line(&format!(
                        "--checksum: wrote the manifest {} ({} file(s))",
                        crate::remote::escape(remote),
                        next.files.len()
                    )),
                    Ok(()) => {}
                    Err(e) => progress.warn(&format!(
                        "--checksum: cannot write the manifest {}: {e:#}; the next run \
                         compares by size and mtime",
                        crate::remote::escape(remote)
                    )),
                }
            }
        }
        if let Err(e) = self.cache.save() {
            progress.line(&format!("note: cannot save the hash cache: {e}"));
        }
    }

    /// A record for each uploaded file whose server mtime is known to the second: the
    /// local mtime where this run set it, else MDTM. A local file that changed since it was
    /// planned gets none: the bytes sent may not be the bytes hashed now.
    fn records(
        &self,
        pool: &Pool,
        job: &SyncJob,
        plan: &Plan,
        uploaded: &[RelPath],
        opts: PlanOpts,
        progress: &mut Progress,
    ) -> Vec<(RelPath, Record)> {
        let done: std::collections::BTreeSet<&RelPath> = uploaded.iter().collect();
        let actions: Vec<_> = plan
            .transfers
            .iter()
            .filter(|a| done.contains(&a.path))
            .filter(|a| {
                std::fs::metadata(a.path.to_local(&job.local)).is_ok_and(|m| {
                    m.len() == a.size && m.modified().ok() == a.mtime && a.mtime.is_some()
                })
            })
            .collect();
        let notices = Mutex::new(Vec::<String>::new());
        let on_notice = |m: String| notices.lock().unwrap_or_else(|e| e.into_inner()).push(m);
        let times: Vec<Option<i64>> = if opts.compare.dest_times_settable {
            actions
                .iter()
                .map(|a| a.mtime.map(manifest::secs))
                .collect()
        } else if pool.caps().mdtm {
            let remote: Vec<String> = actions
                .iter()
                .map(|a| a.path.to_remote(pool.root()))
                .collect();
            pool.ask_spread(&remote, &on_notice, |s, chunk| s.mtimes(chunk))
                .into_iter()
                .map(|t| t.map(manifest::secs))
                .collect()
        } else {
            vec![None; actions.len()]
        };
        let hashes = hash_local(
            &self.cache,
            &job.local,
            actions.iter().map(|a| &a.path),
            Algo::Sha256,
            &on_notice,
        );
        for n in notices.into_inner().unwrap_or_else(|e| e.into_inner()) {
            progress.warn(&n);
        }
        actions
            .iter()
            .zip(times)
            .filter_map(|(a, mtime)| {
                Some((
                    a.path.clone(),
                    Record {
                        size: a.size,
                        mtime: mtime?,
                        sha256: hashes.get(&a.path)?.clone(),
                    },
                ))
            })
            .collect()
    }
}

/// The manifest's full remote path: `--manifest` as given where absolute, else below the
/// remote root.
pub fn manifest_path(root: &str, manifest: &str) -> String {
    if manifest.starts_with('/') {
        manifest.to_string()
    } else {
        format!("{}/{}", root.trim_end_matches('/'), manifest)
    }
}
