//! Deletes a plan must not make, whatever the trees say. Pure functions of the plan and the
//! source tree.
//!
//! Case-insensitive servers (IIS, FileZilla Server, most Windows hosts) list `100_001.jpg`
//! where the source has `100_001.JPG`. A planner that compares names exactly uploads the one
//! and deletes the other, and on such a server both are the same file: the delete removes
//! what was just uploaded (lftp#496; rclone#1094). So a delete of a name that differs only
//! in letter case from a name the source has is dropped, with a problem to report.

use std::collections::HashMap;

use super::{Action, Plan};
use crate::path::RelPath;
use crate::tree::Tree;

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
pub fn keep_case_twins(plan: &mut Plan, source: &Tree) -> Vec<CaseTwin> {
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
        let twins = keep_case_twins(&mut pl, &source);
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
