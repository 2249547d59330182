//! The plan: a pure merge of the source and destination trees. No I/O.

use std::cmp::Ordering;
use std::fmt;
use std::time::SystemTime;

use std::collections::BTreeMap;

use crate::compare::{CompareOpts, Content, Reason, Side, Unchanged, coarse_tie, judge};
use crate::path::RelPath;
pub mod guard;

pub use guard::MaxDelete;

use crate::tree::{Entry, Kind, Tree, part_name};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Local → remote.
    Push,
    /// Remote → local.
    Pull,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Op {
    Mkdir,
    Upload,
    Download,
    Delete,
    Rmdir,
}

impl Op {
    pub fn label(self) -> &'static str {
        match self {
            Op::Mkdir => "mkdir",
            Op::Upload => "upload",
            Op::Download => "download",
            Op::Delete => "delete",
            Op::Rmdir => "rmdir",
        }
    }

    pub fn is_transfer(self) -> bool {
        matches!(self, Op::Upload | Op::Download)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    pub op: Op,
    pub path: RelPath,
    /// Bytes to transfer (the source size); 0 for everything but transfers.
    pub size: u64,
    /// The source's size is only what its listing showed: a download is not checked
    /// against it.
    pub rough_size: bool,
    /// The source's mtime, given to the destination after a transfer.
    pub mtime: Option<SystemTime>,
    pub reason: Reason,
    /// Bytes a partial transfer from an earlier run already holds: the transfer continues
    /// from there (REST). 0 starts from the beginning.
    pub resume_from: u64,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:<8} {}  ({}", self.op.label(), self.path, self.reason)?;
        if self.resume_from > 0 {
            write!(f, "; resume at {} of {} bytes", self.resume_from, self.size)?;
        }
        f.write_str(")")
    }
}

/// A file on one side and a directory on the other, left alone without `--delete`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub path: RelPath,
    pub source: Kind,
    pub dest: Kind,
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = |k: Kind| {
            if k == Kind::Dir {
                "a directory"
            } else {
                "a file"
            }
        };
        write!(
            f,
            "{}: {} in the source but {} in the destination; use --delete to replace it",
            self.path,
            kind(self.source),
            kind(self.dest)
        )
    }
}

#[derive(Debug, Clone, Copy)]
pub struct PlanOpts {
    pub direction: Direction,
    pub delete: bool,
    pub compare: CompareOpts,
    /// Continue partial transfers of files at least this large; `None` never continues
    /// (no `--continue`, or the server has no REST STREAM).
    pub resume_min: Option<u64>,
    /// Keep why each file on both sides is left alone ([`Plan::unchanged`]), for `-v`.
    pub explain: bool,
}

/// What to do, phase by phase. The executor runs the phases in this order.
#[derive(Debug, Clone)]
pub struct Plan {
    pub direction: Direction,
    /// The destination root does not exist yet and must be created first.
    pub create_root: bool,
    /// Destination entries in the way of a source entry of the other type (`--delete` only):
    /// files first, then directories deepest first.
    pub clear: Vec<Action>,
    /// Directories to create, parents before children.
    pub mkdirs: Vec<Action>,
    pub transfers: Vec<Action>,
    /// Extras to remove (`--delete` only): files first, then directories deepest first.
    pub deletes: Vec<Action>,
    pub conflicts: Vec<Conflict>,
    /// Files on both sides left alone, and why: only with [`PlanOpts::explain`].
    pub unchanged: Vec<(RelPath, Unchanged)>,
}

impl Plan {
    pub fn actions(&self) -> impl Iterator<Item = &Action> {
        self.clear
            .iter()
            .chain(&self.mkdirs)
            .chain(&self.transfers)
            .chain(&self.deletes)
    }

    pub fn is_empty(&self) -> bool {
        !self.create_root && self.actions().next().is_none()
    }

    /// Bytes this plan moves: continued transfers count only what is left.
    pub fn transfer_bytes(&self) -> u64 {
        self.transfers.iter().map(|a| a.size - a.resume_from).sum()
    }
}

/// The files present on both sides whose comparison only a coarse remote time settles
/// ([`crate::compare::coarse_tie`]): asked for their exact time before planning.
pub fn coarse_ties(source: &Tree, dest: &Tree, opts: PlanOpts) -> Vec<RelPath> {
    let remote = match opts.direction {
        Direction::Push => Side::Dest,
        Direction::Pull => Side::Source,
    };
    source
        .entries
        .iter()
        .filter(|(p, s)| {
            dest.get(p)
                .is_some_and(|d| coarse_tie(s, d, remote, opts.compare))
        })
        .map(|(p, _)| p.clone())
        .collect()
}

/// Merges the two trees into a plan.
///
/// Nothing is planned below a destination directory that could not be listed (its contents
/// are unknown), and nothing is deleted below a directory that could not be read on either
/// side, nor where the source has an entry it skipped (a symlink of the same name). Without `--delete` a file/directory conflict is reported and its subtree left alone.
pub fn plan(source: &Tree, dest: &Tree, opts: PlanOpts) -> Plan {
    plan_with(source, dest, opts, &BTreeMap::new())
}

/// [`plan`], with what `--checksum` found out about the content of files on both sides.
pub fn plan_with(
    source: &Tree,
    dest: &Tree,
    opts: PlanOpts,
    content: &BTreeMap<RelPath, Content>,
) -> Plan {
    let mut plan = Plan {
        direction: opts.direction,
        create_root: !dest.root_exists,
        clear: Vec::new(),
        mkdirs: Vec::new(),
        transfers: Vec::new(),
        deletes: Vec::new(),
        conflicts: Vec::new(),
        unchanged: Vec::new(),
    };
    let mut merge = Merge {
        source,
        dest,
        opts,
        content,
        transfer_op: match opts.direction {
            Direction::Push => Op::Upload,
            Direction::Pull => Op::Download,
        },
        blocked: Vec::new(),
        cleared: Vec::new(),
    };
    // A merge-join of the two sorted trees, as rclone's march does: one comparison per step,
    // parents before their children.
    let mut s_iter = source.entries.iter().peekable();
    let mut d_iter = dest.entries.iter().peekable();
    loop {
        let order = match (s_iter.peek(), d_iter.peek()) {
            (Some((sp, _)), Some((dp, _))) => sp.cmp(dp),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => break,
        };
        match order {
            Ordering::Less => {
                let (p, s) = s_iter.next().expect("peeked");
                merge.source_entry(p, s, None, &mut plan);
            }
            Ordering::Equal => {
                let (p, s) = s_iter.next().expect("peeked");
                let (_, d) = d_iter.next().expect("peeked");
                merge.source_entry(p, s, Some(d), &mut plan);
            }
            Ordering::Greater => {
                let (p, d) = d_iter.next().expect("peeked");
                merge.dest_only(p, d, &mut plan);
            }
        }
    }
    order_removals(&mut plan.clear);

    if opts.delete {
        // Partial transfers of files this run does not transfer: left over from runs cut short.
        // (A transfer that does not continue its part overwrites it.) Transfers are in order.
        for (target, part) in &dest.parts {
            let transferred = plan
                .transfers
                .binary_search_by(|a| a.path.cmp(target))
                .is_ok();
            let part_path = target
                .parent()
                .and_then(|p| p.join(&part_name(target.name())).ok());
            if let (false, Some(p)) = (transferred, part_path) {
                plan.deletes.push(removal(&p, part, Reason::Leftover));
            }
        }
        order_removals(&mut plan.deletes);
    }
    plan
}

/// The state of one merge: what is left alone or being replaced so far.
struct Merge<'a> {
    source: &'a Tree,
    dest: &'a Tree,
    opts: PlanOpts,
    content: &'a BTreeMap<RelPath, Content>,
    transfer_op: Op,
    /// Source subtrees left alone because of a conflict.
    blocked: Vec<RelPath>,
    /// Destination subtrees being removed to make way for the source's entry.
    cleared: Vec<RelPath>,
}

impl Merge<'_> {
    fn source_entry(
        &mut self,
        path: &RelPath,
        s: &Entry,
        dest_entry: Option<&Entry>,
        plan: &mut Plan,
    ) {
        if self.blocked.iter().any(|b| path.starts_with(b)) || self.dest.is_unreadable(path) {
            return;
        }
        let dest_entry = dest_entry.filter(|_| !self.cleared.iter().any(|c| path.starts_with(c)));
        let reason = match dest_entry {
            None => Reason::Missing,
            Some(d) if d.kind == s.kind => match s.kind {
                Kind::Dir => return,
                Kind::File => match judge(s, d, self.opts.compare, self.content.get(path)) {
                    Err(reason) => reason,
                    Ok(why) => {
                        if self.opts.explain {
                            plan.unchanged.push((path.clone(), why));
                        }
                        return;
                    }
                },
            },
            Some(d) => {
                if !self.opts.delete {
                    plan.conflicts.push(Conflict {
                        path: path.clone(),
                        source: s.kind,
                        dest: d.kind,
                    });
                    self.blocked.push(path.clone());
                    return;
                }
                clear_subtree(self.dest, path, &mut plan.clear);
                self.cleared.push(path.clone());
                Reason::TypeDiffers
            }
        };
        let op = if s.is_dir() {
            Op::Mkdir
        } else {
            self.transfer_op
        };
        let mut action = source_action(op, path, s, reason);
        if op == Op::Mkdir {
            plan.mkdirs.push(action);
        } else {
            action.resume_from = resumable(s, self.dest.parts.get(path), self.opts.resume_min);
            plan.transfers.push(action);
        }
    }

    /// An entry only the destination has: deleted with `--delete`, unless it could be unseen
    /// (an unreadable directory), its source counterpart was skipped, or it is being cleared.
    fn dest_only(&mut self, path: &RelPath, d: &Entry, plan: &mut Plan) {
        let protected = self.dest.is_unreadable(path)
            || self.source.is_unreadable(path)
            || self.source.is_skipped(path)
            || self.cleared.iter().any(|c| path.starts_with(c));
        if self.opts.delete && !protected {
            plan.deletes.push(removal(path, d, Reason::Extra));
        }
    }
}

/// How much of `part` (the destination's partial copy) can be kept: all of it when it is
/// shorter than the source, the file is large enough to bother, and the part is not older
/// than the source (allowing for the coarser clock), so a changed source is never spliced
/// onto old bytes. 0 otherwise.
fn resumable(source: &Entry, part: Option<&Entry>, min: Option<u64>) -> u64 {
    let (Some(part), Some(min)) = (part, min) else {
        return 0;
    };
    let (Some(sm), Some(pm)) = (source.mtime, part.mtime) else {
        return 0;
    };
    let window = sm.precision.max(pm.precision).window();
    let fresh = pm.time + window >= sm.time;
    if !source.rough_size && source.size >= min && part.size > 0 && part.size < source.size && fresh
    {
        part.size
    } else {
        0
    }
}

fn source_action(op: Op, path: &RelPath, s: &Entry, reason: Reason) -> Action {
    Action {
        op,
        path: path.clone(),
        size: if op == Op::Mkdir { 0 } else { s.size },
        rough_size: s.rough_size,
        mtime: s.mtime.map(|m| m.time),
        reason,
        resume_from: 0,
    }
}

fn removal(path: &RelPath, d: &Entry, reason: Reason) -> Action {
    Action {
        op: if d.is_dir() { Op::Rmdir } else { Op::Delete },
        path: path.clone(),
        size: 0,
        rough_size: false,
        mtime: None,
        reason,
        resume_from: 0,
    }
}

/// Removes `path` from the destination and, for a directory, everything below it.
fn clear_subtree(dest: &Tree, path: &RelPath, out: &mut Vec<Action>) {
    for (p, d) in dest.entries.range(path.clone()..) {
        if !p.starts_with(path) {
            break;
        }
        out.push(removal(p, d, Reason::TypeDiffers));
    }
}

/// Files first, then directories deepest first, so each directory is empty when removed.
fn order_removals(actions: &mut [Action]) {
    actions.sort_by(|a, b| {
        (a.op == Op::Rmdir)
            .cmp(&(b.op == Op::Rmdir))
            .then(b.path.depth().cmp(&a.path.depth()))
            .then(a.path.cmp(&b.path))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::{Mtime, Precision};
    use std::time::Duration;

    fn t(secs: u64, precision: Precision) -> Option<Mtime> {
        Some(Mtime {
            time: SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + secs),
            precision,
        })
    }

    /// Builds a tree from ("path", size) pairs; a trailing '/' marks a directory.
    fn tree(items: &[(&str, u64, u64)], precision: Precision) -> Tree {
        let mut tree = Tree::new();
        for &(p, size, secs) in items {
            let path = RelPath::parse(p).unwrap();
            let entry = if p.ends_with('/') {
                Entry::dir()
            } else {
                Entry::file(size, t(secs, precision))
            };
            tree.insert(path, entry);
        }
        tree
    }

    fn opts(delete: bool) -> PlanOpts {
        PlanOpts {
            explain: false,
            direction: Direction::Push,
            delete,
            compare: CompareOpts {
                size_only: false,
                dest_times_settable: true,
            },
            resume_min: Some(100),
        }
    }

    fn summary(plan: &Plan) -> Vec<String> {
        plan.actions()
            .map(|a| format!("{} {}", a.op.label(), a.path))
            .collect()
    }

    #[test]
    fn empty_destination_gets_everything_parents_first() {
        let src = tree(
            &[
                ("a/", 0, 0),
                ("a/b/", 0, 0),
                ("a/b/c", 3, 0),
                ("z", 1, 0),
                ("e/", 0, 0),
            ],
            Precision::Exact,
        );
        let plan = plan(&src, &Tree::new(), opts(false));
        assert_eq!(
            summary(&plan),
            [
                "mkdir a",
                "mkdir a/b",
                "mkdir e",
                "upload a/b/c",
                "upload z"
            ]
        );
        assert_eq!(plan.transfer_bytes(), 4);
        assert!(plan.transfers.iter().all(|a| a.reason == Reason::Missing));
    }

    #[test]
    fn equal_trees_plan_nothing() {
        let src = tree(&[("a/", 0, 0), ("a/x", 3, 5)], Precision::Exact);
        let dst = tree(&[("a/", 0, 0), ("a/x", 3, 5)], Precision::Second);
        let p = plan(&src, &dst, opts(true));
        assert!(p.is_empty(), "{:?}", summary(&p));
    }

    #[test]
    fn changed_file_alone_moves_with_reason() {
        let src = tree(&[("a", 3, 5), ("b", 4, 5), ("c", 5, 100)], Precision::Exact);
        let dst = tree(&[("a", 3, 5), ("b", 9, 5), ("c", 5, 5)], Precision::Second);
        let p = plan(&src, &dst, opts(false));
        assert_eq!(summary(&p), ["upload b", "upload c"]);
        assert!(matches!(
            p.transfers[0].reason,
            Reason::SizeDiffers { source: 4, dest: 9 }
        ));
        assert!(matches!(p.transfers[1].reason, Reason::MtimeDiffers { .. }));
    }

    #[test]
    fn delete_removes_extras_files_first_then_deepest_dirs() {
        let src = tree(&[("keep", 1, 0)], Precision::Exact);
        let dst = tree(
            &[
                ("keep", 1, 0),
                ("old/", 0, 0),
                ("old/sub/", 0, 0),
                ("old/sub/f", 1, 0),
                ("x", 1, 0),
            ],
            Precision::Second,
        );
        assert!(plan(&src, &dst, opts(false)).is_empty());
        let p = plan(&src, &dst, opts(true));
        assert_eq!(
            summary(&p),
            ["delete old/sub/f", "delete x", "rmdir old/sub", "rmdir old"]
        );
    }

    #[test]
    fn conflict_is_reported_without_delete_and_replaced_with_it() {
        // Source has a directory "d" with a file; destination has a file "d".
        // Source has a file "f"; destination has a directory "f" with content.
        let src = tree(
            &[("d/", 0, 0), ("d/in", 2, 0), ("f", 7, 0)],
            Precision::Exact,
        );
        let dst = tree(
            &[("d", 1, 0), ("f/", 0, 0), ("f/old", 1, 0)],
            Precision::Second,
        );

        let p = plan(&src, &dst, opts(false));
        assert!(p.actions().next().is_none(), "{:?}", summary(&p));
        assert_eq!(p.conflicts.len(), 2);
        assert!(p.conflicts[0].to_string().contains("use --delete"));

        let p = plan(&src, &dst, opts(true));
        assert_eq!(
            summary(&p),
            [
                "delete f/old",
                "delete d",
                "rmdir f",
                "mkdir d",
                "upload d/in",
                "upload f"
            ]
        );
        assert!(p.conflicts.is_empty());
    }

    #[test]
    fn unreadable_directories_are_never_deleted_below() {
        let src = tree(&[("a/", 0, 0), ("a/new", 1, 0)], Precision::Exact);
        let mut dst = tree(
            &[("a/", 0, 0), ("b/", 0, 0), ("c", 1, 0)],
            Precision::Second,
        );
        dst.unreadable
            .push((RelPath::parse("a").unwrap(), "550".into()));
        dst.unreadable
            .push((RelPath::parse("b").unwrap(), "550".into()));
        let p = plan(&src, &dst, opts(true));
        // "a/new" cannot be compared, "b" cannot be emptied; only "c" is a safe delete.
        assert_eq!(summary(&p), ["delete c"]);

        let mut src = src;
        src.unreadable
            .push((RelPath::root(), "source unreadable".into()));
        let p = plan(&src, &tree(&[("c", 1, 0)], Precision::Second), opts(true));
        assert!(p.deletes.is_empty());
    }

    #[test]
    fn skipped_source_entries_protect_the_destination() {
        let mut src = tree(&[("a", 1, 0)], Precision::Exact);
        src.skipped.push(crate::tree::Problem {
            path: "link".into(),
            message: "symbolic link skipped".into(),
        });
        let dst = tree(
            &[
                ("a", 1, 0),
                ("link/", 0, 0),
                ("link/f", 1, 0),
                ("other", 1, 0),
            ],
            Precision::Second,
        );
        let p = plan(&src, &dst, opts(true));
        assert_eq!(summary(&p), ["delete other"]);
    }

    #[test]
    fn partial_transfers_are_continued_only_when_safe() {
        let src = tree(
            &[
                ("big", 1000, 50),
                ("small", 50, 50),
                ("changed", 1000, 500),
                ("done", 1000, 50),
            ],
            Precision::Exact,
        );
        let mut dst = Tree::new();
        for (name, size, secs) in [
            ("big", 400, 60),
            ("small", 20, 60),
            ("changed", 400, 60),
            ("done", 1000, 60),
            ("orphan", 5, 60),
        ] {
            let p = RelPath::parse(&format!(".{name}.ftpmirror-part")).unwrap();
            dst.insert(p, Entry::file(size, t(secs, Precision::Second)));
        }
        let p = plan(&src, &dst, opts(false));
        let resume: Vec<(String, u64)> = p
            .transfers
            .iter()
            .map(|a| (a.path.to_string(), a.resume_from))
            .collect();
        // small: under the size threshold; changed: the source is newer than the part;
        // done: the part is not shorter than the file.
        assert_eq!(
            resume,
            [
                ("big".into(), 400),
                ("changed".into(), 0),
                ("done".into(), 0),
                ("small".into(), 0)
            ]
        );
        assert!(
            p.transfers[0]
                .to_string()
                .ends_with("(missing; resume at 400 of 1000 bytes)")
        );
        assert!(
            p.deletes.is_empty(),
            "parts are never deleted without --delete"
        );

        let p = plan(&src, &dst, opts(true));
        let gone: Vec<String> = p.deletes.iter().map(|a| a.path.to_string()).collect();
        assert_eq!(gone, [".orphan.ftpmirror-part"]);

        let never = PlanOpts {
            explain: false,
            resume_min: None,
            ..opts(false)
        };
        assert!(
            plan(&src, &dst, never)
                .transfers
                .iter()
                .all(|a| a.resume_from == 0)
        );
    }

    #[test]
    fn max_delete_limits() {
        assert_eq!("5".parse::<MaxDelete>(), Ok(MaxDelete::Count(5)));
        assert_eq!("10%".parse::<MaxDelete>(), Ok(MaxDelete::Percent(10)));
        for bad in ["", "x", "-1", "101%", "5.5"] {
            assert!(bad.parse::<MaxDelete>().is_err(), "{bad}");
        }
        assert!(!MaxDelete::Count(2).exceeded(2, 100));
        assert!(MaxDelete::Count(2).exceeded(3, 100));
        assert!(!MaxDelete::Percent(10).exceeded(10, 100));
        assert!(MaxDelete::Percent(10).exceeded(11, 100));
        assert!(MaxDelete::Percent(0).exceeded(1, 100));
    }

    #[test]
    fn missing_destination_root_is_created() {
        let src = tree(&[("f", 1, 0)], Precision::Exact);
        let mut dst = Tree::new();
        dst.root_exists = false;
        let p = plan(&src, &dst, opts(false));
        assert!(p.create_root);
        assert_eq!(summary(&p), ["upload f"]);
    }
}
