//! Every rule that holds a delete back, in one place. Pure functions of the plan and the
//! trees; `run` calls [`guard`] before anything runs, `exec` asks [`after_failures`] before
//! the deletes, which always come last.
//!
//! | rule | what it stops |
//! |---|---|
//! | the source is complete and empty, the destination not ([`Refusal::EmptySource`]) | the whole run, unless `--allow-empty-source`: an unmounted disk or a failed build would otherwise empty the destination |
//! | a name differs only in letter case from a source name ([`CaseTwin`]) | that delete, reported as a failure |
//! | a listing on either side was incomplete ([`Hold::Incomplete`]) | every delete: what looks extra may only be unseen |
//! | more deletes than `--max-delete` ([`Hold::OverLimit`]) | every delete, reported |
//! | an action of this run failed ([`Hold::Failed`]) | every delete |
//!
//! Names outside the filters (excluded, or beyond `--min-size` and the like) never reach the
//! plan, so they are never deleted either; deletes happen only with `--delete`.
//!
//! Case-insensitive servers (IIS, FileZilla Server, most Windows hosts) list `100_001.jpg`
//! where the source has `100_001.JPG`. A planner that compares names exactly uploads the one
//! and deletes the other, and on such a server both are the same file: the delete removes
//! what was just uploaded (lftp#496; rclone#1094). So a delete of a name that differs only
//! in letter case from a name the source has is dropped, with a problem to report.

use std::collections::HashMap;
use std::fmt;

use super::{Action, Plan};
use crate::path::RelPath;
use crate::tree::Tree;

/// `--max-delete`: a limit on how much one run may delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaxDelete {
    Count(usize),
    /// Percent of the destination's entries (files and directories).
    Percent(u8),
}

impl MaxDelete {
    /// Whether `deletes` removals out of `dest_entries` go over the limit.
    pub fn exceeded(self, deletes: usize, dest_entries: usize) -> bool {
        match self {
            MaxDelete::Count(n) => deletes > n,
            MaxDelete::Percent(p) => deletes * 100 > usize::from(p) * dest_entries,
        }
    }
}

impl std::str::FromStr for MaxDelete {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let bad = || format!("'{s}' is not a count (50) or a percentage (10%)");
        match s.strip_suffix('%') {
            Some(p) => match p.trim().parse::<u8>() {
                Ok(p) if p <= 100 => Ok(MaxDelete::Percent(p)),
                _ => Err(bad()),
            },
            None => s.parse().map(MaxDelete::Count).map_err(|_| bad()),
        }
    }
}

impl fmt::Display for MaxDelete {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MaxDelete::Count(n) => write!(f, "{n}"),
            MaxDelete::Percent(p) => write!(f, "{p}%"),
        }
    }
}

/// The delete options of a run.
#[derive(Debug, Clone, Copy, Default)]
pub struct Rules {
    pub delete: bool,
    pub allow_empty_source: bool,
    pub max_delete: Option<MaxDelete>,
}

/// A run the rules refuse outright.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// `--delete` from a complete, empty source to a destination that has entries.
    EmptySource,
}

/// Why no delete of a plan may run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hold {
    Incomplete,
    OverLimit {
        deletes: usize,
        entries: usize,
        limit: MaxDelete,
    },
    Failed(usize),
}

impl fmt::Display for Hold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Hold::Incomplete => f.write_str("a listing was incomplete"),
            Hold::OverLimit {
                deletes,
                entries,
                limit,
            } => write!(
                f,
                "the plan deletes {deletes} of {entries} entries, more than --max-delete {limit}"
            ),
            Hold::Failed(n) => write!(f, "{n} action(s) failed"),
        }
    }
}

/// What the rules left of a plan's deletes.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Guarded {
    /// Deletes taken out of the plan, each to be reported as a failure.
    pub twins: Vec<CaseTwin>,
    /// Why none of the remaining deletes may run, most telling first.
    pub holds: Vec<Hold>,
}

impl Guarded {
    /// The reason the executor is given, if deletes are held.
    pub fn hold(&self) -> Option<&Hold> {
        self.holds.first()
    }
}

/// Applies the rules to `plan` before it runs: refuses the run, or takes case twins out and
/// says why the rest of the deletes are held, if they are.
pub fn guard(
    plan: &mut Plan,
    source: &Tree,
    dest: &Tree,
    rules: Rules,
) -> Result<Guarded, Refusal> {
    let complete = |t: &Tree| t.unreadable.is_empty() && t.errors.is_empty();
    // Only a complete listing can show an empty source; an incomplete one holds deletes.
    if rules.delete
        && complete(source)
        && source.entries.is_empty()
        && !dest.entries.is_empty()
        && !rules.allow_empty_source
    {
        return Err(Refusal::EmptySource);
    }
    let twins = keep_case_twins(plan, source);
    let mut holds = Vec::new();
    if !complete(source) || !complete(dest) {
        holds.push(Hold::Incomplete);
    }
    let deletes = plan.clear.len() + plan.deletes.len();
    if let Some(limit) = rules.max_delete
        && limit.exceeded(deletes, dest.entries.len())
    {
        holds.push(Hold::OverLimit {
            deletes,
            entries: dest.entries.len(),
            limit,
        });
    }
    Ok(Guarded { twins, holds })
}

/// Before the deletes run: held once any action of the run has failed.
pub fn after_failures(failed: usize) -> Option<Hold> {
    (failed > 0).then_some(Hold::Failed(failed))
}

/// A delete dropped because its name is a source name but for letter case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseTwin {
    /// The destination entry that was not deleted.
    pub kept: RelPath,
    /// The source name it differs from only in case.
    pub twin: RelPath,
}

impl std::fmt::Display for CaseTwin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "not deleting {}: its name differs only in letter case from {}, which this run \
             keeps or sends, and on a case-insensitive server they are one file (use \
             --ignore-case to compare names that way)",
            self.kept, self.twin
        )
    }
}

/// Takes out of `plan` every delete whose path equals a source path but for letter case,
/// and returns them, each to be reported as a failure.
fn keep_case_twins(plan: &mut Plan, source: &Tree) -> Vec<CaseTwin> {
    let folded: HashMap<String, &RelPath> = source.entries.keys().map(|p| (fold(p), p)).collect();
    let mut twins = Vec::new();
    let mut keep = |a: &Action| match folded.get(&fold(&a.path)) {
        Some(twin) if **twin != a.path => {
            twins.push(CaseTwin {
                kept: a.path.clone(),
                twin: (*twin).clone(),
            });
            false
        }
        _ => true,
    };
    plan.deletes.retain(&mut keep);
    plan.clear.retain(&mut keep);
    twins
}

fn fold(p: &RelPath) -> String {
    p.as_str().to_lowercase()
}

/// `--ignore-case`: a destination entry whose name matches a source name only when letter
/// case is ignored is taken to be that entry, under the source's spelling. Names that fold
/// to the same key more than once on either side are left as they are.
pub fn match_case_insensitively(source: &Tree, dest: &mut Tree) -> usize {
    let mut by_fold: HashMap<String, Vec<&RelPath>> = HashMap::new();
    for p in source.entries.keys() {
        by_fold.entry(fold(p)).or_default().push(p);
    }
    let mut dest_folds: HashMap<String, usize> = HashMap::new();
    for p in dest.entries.keys() {
        *dest_folds.entry(fold(p)).or_default() += 1;
    }
    let renames: Vec<(RelPath, RelPath)> = dest
        .entries
        .keys()
        .filter(|p| !source.entries.contains_key(*p))
        .filter_map(|p| {
            let key = fold(p);
            match (by_fold.get(&key).map(Vec::as_slice), dest_folds.get(&key)) {
                (Some([only]), Some(1)) => Some((p.clone(), (*only).clone())),
                _ => None,
            }
        })
        .collect();
    let n = renames.len();
    for (from, to) in renames {
        if let Some(e) = dest.entries.remove(&from) {
            dest.entries.insert(to, e);
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::CompareOpts;
    use crate::plan::{Direction, PlanOpts, plan};
    use crate::tree::Entry;

    fn p(s: &str) -> RelPath {
        RelPath::parse(s).unwrap()
    }

    fn opts() -> PlanOpts {
        PlanOpts {
            explain: false,
            direction: Direction::Push,
            delete: true,
            compare: CompareOpts {
                size_only: false,
                dest_times_settable: true,
            },
            resume_min: None,
        }
    }

    #[test]
    fn a_delete_of_a_case_twin_is_dropped_and_reported() {
        let mut source = Tree::new();
        source.insert(p("img"), Entry::dir());
        source.insert(p("img/100_001.JPG"), Entry::file(5, None));
        let mut dest = Tree::new();
        dest.insert(p("img"), Entry::dir());
        dest.insert(p("img/100_001.jpg"), Entry::file(5, None));
        dest.insert(p("img/stale.jpg"), Entry::file(5, None));
        let mut pl = plan(&source, &dest, opts());
        assert_eq!(pl.deletes.len(), 2);
        let twins = guard(&mut pl, &source, &dest, Rules::default())
            .unwrap()
            .twins;
        let left: Vec<&str> = pl.deletes.iter().map(|a| a.path.as_str()).collect();
        assert_eq!(left, ["img/stale.jpg"]);
        assert_eq!(
            twins,
            [CaseTwin {
                kept: p("img/100_001.jpg"),
                twin: p("img/100_001.JPG")
            }]
        );
        assert_eq!(pl.transfers.len(), 1, "the upload itself stays");
    }

    fn tree(files: &[&str]) -> Tree {
        let mut t = Tree::new();
        for f in files {
            t.insert(p(f), Entry::file(5, None));
        }
        t
    }

    #[test]
    fn the_rules_decide_which_deletes_may_run() {
        use MaxDelete::{Count, Percent};
        let rules = |delete, allow, max| Rules {
            delete,
            allow_empty_source: allow,
            max_delete: max,
        };
        let unreadable = |mut t: Tree| {
            t.unreadable.push((p("d"), "550".into()));
            t
        };
        let dest = || tree(&["a", "b", "c", "d"]);
        let over = |deletes, limit| Hold::OverLimit {
            deletes,
            entries: 4,
            limit,
        };
        // (source, dest, rules) → refused, or the holds.
        type Case = (Tree, Tree, Rules, Result<Vec<Hold>, Refusal>);
        let cases: Vec<Case> = vec![
            (
                tree(&[]),
                dest(),
                rules(true, false, None),
                Err(Refusal::EmptySource),
            ),
            (tree(&[]), dest(), rules(true, true, None), Ok(vec![])),
            (tree(&[]), dest(), rules(false, false, None), Ok(vec![])),
            (tree(&[]), tree(&[]), rules(true, false, None), Ok(vec![])),
            (
                unreadable(tree(&[])),
                dest(),
                rules(true, false, None),
                Ok(vec![Hold::Incomplete]),
            ),
            (
                tree(&["a"]),
                unreadable(dest()),
                rules(true, false, None),
                Ok(vec![Hold::Incomplete]),
            ),
            (
                tree(&["a"]),
                dest(),
                rules(true, false, Some(Count(3))),
                Ok(vec![]),
            ),
            (
                tree(&["a"]),
                dest(),
                rules(true, false, Some(Count(2))),
                Ok(vec![over(3, Count(2))]),
            ),
            (
                tree(&["a"]),
                dest(),
                rules(true, false, Some(Percent(75))),
                Ok(vec![]),
            ),
            (
                tree(&["a"]),
                dest(),
                rules(true, false, Some(Percent(50))),
                Ok(vec![over(3, Percent(50))]),
            ),
            (
                unreadable(tree(&["a"])),
                dest(),
                rules(true, false, Some(Count(0))),
                // Nothing under an unreadable directory is planned for deletion at all.
                Ok(vec![Hold::Incomplete, over(2, Count(0))]),
            ),
        ];
        for (i, (source, dest, rules, want)) in cases.into_iter().enumerate() {
            let mut pl = plan(
                &source,
                &dest,
                PlanOpts {
                    delete: rules.delete,
                    ..opts()
                },
            );
            let got = guard(&mut pl, &source, &dest, rules).map(|g| g.holds);
            assert_eq!(got, want, "case {i}");
        }
        assert_eq!(after_failures(0), None);
        assert_eq!(after_failures(2), Some(Hold::Failed(2)));
        assert_eq!(
            over(3, Percent(50)).to_string(),
            "the plan deletes 3 of 4 entries, more than --max-delete 50%"
        );
    }

    #[test]
    fn ignore_case_pairs_names_that_fold_alike_once() {
        let mut source = Tree::new();
        source.insert(p("A.txt"), Entry::file(5, None));
        source.insert(p("b.txt"), Entry::file(5, None));
        source.insert(p("B.TXT"), Entry::file(5, None));
        let mut dest = Tree::new();
        dest.insert(p("a.txt"), Entry::file(5, None));
        dest.insert(p("b.Txt"), Entry::file(5, None));
        assert_eq!(match_case_insensitively(&source, &mut dest), 1);
        assert!(dest.get(&p("A.txt")).is_some());
        assert!(
            dest.get(&p("b.Txt")).is_some(),
            "two source names fold to it: left alone"
        );
        let pl = plan(&source, &dest, opts());
        assert!(!pl.transfers.iter().any(|a| a.path.as_str() == "A.txt"));
    }
}
