//! Lists the remote tree in parallel: every session in the pool takes directories from one
//! shared queue, so a deep or wide tree is not a sequential walk over one connection.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex};

use super::listing::{Listed, ListedKind, Size};
use super::{Failure, Pool, Redo, Session, Step, StepError, describe, escape};
use crate::path::{RelPath, check_server_name};
use crate::report::event::Event;
use crate::scan::filter::Filter;
use crate::tree::{Entry, Problem, Tree};

struct Queue {
    dirs: VecDeque<RelPath>,
    /// Directories being listed right now; their subdirectories may still arrive.
    in_flight: usize,
    /// Workers still able to list.
    workers: usize,
}

/// What one worker found.
#[derive(Default)]
struct Found {
    entries: Vec<(RelPath, Entry)>,
    unreadable: Vec<(RelPath, String)>,
    skipped: Vec<Problem>,
    errors: Vec<Problem>,
    root_missing: bool,
    /// Files whose listing gave no exact size.
    rough: Vec<RelPath>,
}

/// Walks the tree below the pool's root. `on_event` hears `Listed` for each directory (for
/// progress display) and a `Notice` for each retry. Failures never abort the walk: a directory
/// that cannot be listed, after retries, is recorded as unreadable, so nothing below it is
/// ever deleted.
pub fn walk(pool: &Pool, filter: &Filter, on_event: &(dyn Fn(Event) + Sync)) -> Tree {
    let queue = Mutex::new(Queue {
        dirs: VecDeque::from([RelPath::root()]),
        in_flight: 0,
        workers: pool.max(),
    });
    let ready = Condvar::new();
    let found: Vec<Found> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..pool.max())
            .map(|_| scope.spawn(|| worker(pool, filter, &queue, &ready, on_event)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });

    let mut tree = Tree::new();
    let mut rough = Vec::new();
    for f in found {
        rough.extend(f.rough);
        for (path, entry) in f.entries {
            tree.insert(path, entry);
        }
        tree.unreadable.extend(f.unreadable);
        tree.skipped.extend(f.skipped);
        tree.errors.extend(f.errors);
        tree.root_exists &= !f.root_missing;
    }
    // Anything still queued had no session left to list it.
    let q = queue.into_inner().unwrap_or_else(|p| p.into_inner());
    for dir in q.dirs {
        tree.unreadable
            .push((dir, "no FTP session left to list it".to_string()));
    }
    tree.unreadable.sort();
    if !rough.is_empty() {
        exact_sizes(pool, &mut tree, rough, on_event);
    }
    tree
}

/// Files whose listing gave no exact size (an MLSD entry without `size`, VMS blocks, MVS
/// datasets) get one from `SIZE` where the server has it, batched; the rest are compared by
/// mtime only, which `-v` says once.
fn exact_sizes(
    pool: &Pool,
    tree: &mut Tree,
    rough: Vec<RelPath>,
    on_event: &(dyn Fn(Event) + Sync),
) {
    let mut left = rough.len();
    if pool.caps().size {
        let remote: Vec<String> = rough.iter().map(|p| p.to_remote(pool.root())).collect();
        let on_notice = |m: String| on_event(Event::Notice(m));
        let sizes = pool.ask_spread(&remote, &on_notice, |s, paths| s.sizes(paths));
        for (path, size) in rough.iter().zip(sizes) {
            if let (Some(n), Some(e)) = (size, tree.get(path).cloned()) {
                let exact = Entry {
                    size: n,
                    rough_size: false,
                    ..e
                };
                tree.insert(path.clone(), exact);
                left -= 1;
            }
        }
    }
    if left > 0 {
        let size = if pool.caps().size {
            "SIZE gave none either"
        } else {
            "SIZE does not"
        };
        on_event(Event::Detail(format!(
            "{}: the listing gives no exact size for {left} file(s), and {size}; \
             they are compared by mtime only",
            pool.endpoint().label()
        )));
    }
}

fn worker(
    pool: &Pool,
    filter: &Filter,
    queue: &Mutex<Queue>,
    ready: &Condvar,
    on_event: &(dyn Fn(Event) + Sync),
) -> Found {
    let mut found = Found::default();
    // Logged in before there is work: while the first session lists the root, the others
    // connect, so the root's subdirectories do not wait on a login each. Whichever worker
    // gets the run's first session (already logged in) takes the root.
    let mut session: Option<Session> = match pool.take() {
        Ok(s) => Some(s),
        Err(e) => {
            retire(queue, ready, None, &e, &mut found);
            return found;
        }
    };
    // A directory taken from the queue early, its listing commands sent with the previous
    // listing's: listed next, on the same session.
    let mut next: Option<RelPath> = None;
    loop {
        let dir = next.take().or_else(|| {
            let mut q = queue.lock().unwrap();
            loop {
                if crate::interrupt::requested() {
                    break None;
                }
                if let Some(d) = q.dirs.pop_front() {
                    q.in_flight += 1;
                    break Some(d);
                }
                if q.in_flight == 0 {
                    break None;
                }
                q = ready.wait(q).unwrap();
            }
        });
        let Some(dir) = dir else {
            ready.notify_all();
            break;
        };
        if session.as_ref().is_none_or(|s| s.broken) {
            if let Some(s) = session.take() {
                pool.give(s);
            }
            match pool.take() {
                Ok(s) => session = Some(s),
                Err(e) => {
                    retire(queue, ready, Some(dir), &e, &mut found);
                    return found;
                }
            }
        }
        let s = session.as_mut().expect("session present");
        {
            // Another directory to send ahead, while enough are queued for the other workers
            // and this server has not shown it cannot take listings sent ahead.
            let mut q = queue.lock().unwrap();
            if q.dirs.len() >= pool.max() && s.may_send_ahead() && !crate::interrupt::requested() {
                next = q.dirs.pop_front();
                q.in_flight += 1;
            }
        }
        let subdirs = list_one(pool, filter, s, &dir, next.as_ref(), &mut found, on_event);
        let mut q = queue.lock().unwrap();
        q.dirs.extend(subdirs);
        q.in_flight -= 1;
        ready.notify_all();
    }
    if let Some(s) = session {
        pool.give(s);
    }
    found
}

/// A worker without a session leaves the walk: its directory, if it holds one, goes back
/// for a worker that has a session; if none is left, everything queued is unreadable.
fn retire(
    queue: &Mutex<Queue>,
    ready: &Condvar,
    dir: Option<RelPath>,
    e: &anyhow::Error,
    found: &mut Found,
) {
    let mut q = queue.lock().unwrap();
    q.workers -= 1;
    if let Some(d) = dir {
        q.in_flight -= 1;
        q.dirs.push_front(d);
    }
    if q.workers == 0 {
        for d in q.dirs.drain(..) {
            found.unreadable.push((d, format!("{e:#}")));
        }
    }
    ready.notify_all();
}

/// Lists `dir`, records its entries, and returns its subdirectories.
fn list_one(
    pool: &Pool,
    filter: &Filter,
    session: &mut Session,
    dir: &RelPath,
    next: Option<&RelPath>,
    found: &mut Found,
    on_event: &(dyn Fn(Event) + Sync),
) -> Vec<RelPath> {
    let abs = dir.to_remote(pool.root());
    let next = next.map(|n| n.to_remote(pool.root()));
    let on_retry = |m: String| on_event(Event::Notice(m));
    let listed = pool.with_retries(session, &on_retry, |s| {
        s.list(&abs, next.as_deref()).map_err(|e| match e {
            StepError::Redo(why) => anyhow::Error::new(Redo(why)),
            StepError::Failed(e) => {
                let msg = format!(
                    "cannot list {} on {}: {}",
                    escape(&abs),
                    s.label(),
                    describe(&e)
                );
                Failure::ftp(Step::List, msg, &e)
            }
        })
    });
    let listed = match listed {
        Ok(l) => l,
        Err(e) => {
            // The root not existing is a normal state for a first push. Servers say so with
            // 550, or another permanent refusal (pyftpdlib: 501): a CWD then tells.
            if dir.is_root() {
                found.root_missing = match Failure::code_of(&e) {
                    Some(550) => true,
                    Some(500..=599) => matches!(
                        pool.with_retries(session, &on_retry, |s| s.dir_exists(&abs)),
                        Ok(false)
                    ),
                    _ => false,
                };
            }
            found.unreadable.push((dir.clone(), format!("{e:#}")));
            return Vec::new();
        }
    };
    on_event(Event::Listed {
        entries: listed.len(),
    });
    let mut subdirs = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for item in listed {
        match item {
            Ok(l) if l.kind != ListedKind::SelfOrParent && !seen.insert(l.name.clone()) => {
                found.errors.push(Problem {
                    path: format!("{}/{}", dir, escape(&l.name)),
                    message: "listed twice by the server; the second entry is skipped".into(),
                });
            }
            Ok(l) => {
                if let Some(sub) = record(dir, l, filter, found) {
                    subdirs.push(sub);
                }
            }
            Err(raw) => found.errors.push(Problem {
                path: dir.to_string(),
                message: escape(&raw),
            }),
        }
    }
    subdirs
}

/// Adds one listed name to the tree; returns it when it is a directory to descend into.
/// Excluded entries are left out, and excluded directories are not descended into.
fn record(dir: &RelPath, l: Listed, filter: &Filter, found: &mut Found) -> Option<RelPath> {
    if l.kind == ListedKind::SelfOrParent {
        return None;
    }
    let path = match check_server_name(&l.name).and_then(|()| dir.join(&l.name)) {
        Ok(p) => p,
        Err(why) => {
            found.errors.push(Problem {
                path: format!("{}/{}", dir, escape(&l.name)),
                message: format!("unsafe name from the server skipped: {why}"),
            });
            return None;
        }
    };
    if filter.excludes(&path, l.kind == ListedKind::Dir) {
        return None;
    }
    if l.undecodable {
        found.skipped.push(Problem {
            path: path.to_string(),
            message: "name is not UTF-8 as the server sent it; skipped".into(),
        });
        return None;
    }
    match l.kind {
        ListedKind::File => {
            let mut entry = match l.size {
                Size::Exact(n) => Entry::file(n, l.mtime),
                rough => {
                    found.rough.push(path.clone());
                    Entry::file_rough(rough.shown().unwrap_or(0), l.mtime)
                }
            };
            entry.year_placed = l.year_placed;
            found.entries.push((path, entry));
            None
        }
        ListedKind::Dir => {
            found.entries.push((path.clone(), Entry::dir()));
            Some(path)
        }
        ListedKind::Symlink => {
            found.skipped.push(Problem {
                path: path.to_string(),
                message: "symbolic link skipped".into(),
            });
            None
        }
        ListedKind::Other(t) => {
            found.skipped.push(Problem {
                path: path.to_string(),
                message: format!("entry of type {} skipped", escape(&t)),
            });
            None
        }
        ListedKind::SelfOrParent => None,
    }
}
