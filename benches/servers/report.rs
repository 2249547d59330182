//! The tables: one per scenario, each tool's median of its runs with min–max, rates, memory,
//! CPU, the ratio to ftpmirror, commands per file, the result check, and the targets
//! marked met or not.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::measure::Sample;
use crate::tools::Tool;

/// One scenario's results, as measured.
pub struct Scenario {
    pub title: String,
    /// What the targets key on: "push-initial", "pull-initial", "push-nochange", ...
    pub kind: String,
    pub preset: String,
    pub rtt_ms: u64,
    /// Files in the source tree, files and bytes the scenario must move.
    pub tree_files: usize,
    pub moved_files: usize,
    pub moved_bytes: u64,
    /// The round-trip floor in seconds, when there is latency.
    pub floor: Option<(f64, String)>,
    pub rows: Vec<Row>,
}

pub struct Row {
    pub tool: Tool,
    pub samples: Vec<Sample>,
    /// Per run: the result check ("ok" or what differs).
    pub checks: Vec<String>,
    /// Commands the proxy saw, summed over the runs.
    pub commands: BTreeMap<String, u64>,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    if v.is_empty() { 0.0 } else { v[v.len() / 2] }
}

impl Row {
    pub fn wall(&self) -> f64 {
        median(self.samples.iter().map(|s| s.wall).collect())
    }
    fn cpu(&self) -> f64 {
        median(self.samples.iter().map(|s| s.cpu).collect())
    }
    pub fn rss_mb(&self) -> f64 {
        median(
            self.samples
                .iter()
                .map(|s| s.rss_kb as f64 / 1024.0)
                .collect(),
        )
    }
    fn ok(&self) -> bool {
        self.samples.iter().all(|s| s.exit == 0) && self.checks.iter().all(|c| c == "ok")
    }
}

impl Scenario {
    fn row(&self, tool: Tool) -> Option<&Row> {
        self.rows
            .iter()
            .find(|r| r.tool == tool && !r.samples.is_empty())
    }

    /// The faster peer's row, among those that ran and produced the right tree.
    fn best_peer(&self, by: impl Fn(&Row) -> f64) -> Option<&Row> {
        self.rows
            .iter()
            .filter(|r| r.tool != Tool::Ftpmirror && r.ok() && !r.samples.is_empty())
            .min_by(|a, b| by(a).total_cmp(&by(b)))
    }

    pub fn markdown(&self, out: &mut String) {
        let _ = writeln!(out, "\n### {}\n", self.title);
        let _ = writeln!(
            out,
            "| tool | wall s, median (min–max) | files/s | MB/s | peak RSS MB | CPU s | × ftpmirror's time | cmds/file | result |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|");
        let ours = self.row(Tool::Ftpmirror).map(Row::wall);
        for r in &self.rows {
            if r.samples.is_empty() {
                continue;
            }
            let walls: Vec<f64> = r.samples.iter().map(|s| s.wall).collect();
            let (lo, hi) = walls
                .iter()
                .fold((f64::MAX, 0f64), |(lo, hi), &w| (lo.min(w), hi.max(w)));
            let wall = r.wall();
            let ratio = ours.map_or("–".into(), |o| format!("{:.2}", wall / o));
            let runs = r.samples.len() as f64;
            let total: u64 = r.commands.values().sum();
            let cmds = if total == 0 {
                "–".into()
            } else if self.moved_files > 0 {
                format!("{:.1}", total as f64 / runs / self.moved_files as f64)
            } else {
                format!("{:.0} in all", total as f64 / runs)
            };
            let result = if r.ok() {
                "ok".to_string()
            } else {
                let failed: Vec<String> = r
                    .samples
                    .iter()
                    .zip(&r.checks)
                    .filter(|(s, c)| s.exit != 0 || *c != "ok")
                    .map(|(s, c)| format!("exit {}: {c} {}", s.exit, s.stderr_tail))
                    .collect();
                failed.join("; ")
            };
            let _ = writeln!(
                out,
                "| {} | {wall:.2} ({lo:.2}–{hi:.2}) | {:.0} | {:.1} | {:.1} | {:.2} | {ratio} | {cmds} | {result} |",
                r.tool.name(),
                self.tree_files as f64 / wall,
                self.moved_bytes as f64 / 1e6 / wall,
                r.rss_mb(),
                r.cpu(),
            );
        }
        if let Some((floor, how)) = &self.floor {
            let _ = writeln!(out, "\nRound-trip floor: {floor:.2} s = {how}.");
        }
        for r in &self.rows {
            let total: u64 = r.commands.values().sum();
            if total == 0 || self.moved_files == 0 {
                continue;
            }
            let per = r.samples.len() as f64 * self.moved_files as f64;
            let mut verbs: Vec<(&String, &u64)> = r.commands.iter().collect();
            verbs.sort_by(|a, b| b.1.cmp(a.1));
            let list: Vec<String> = verbs
                .iter()
                .filter(|(_, n)| **n as f64 / per >= 0.05)
                .map(|(v, n)| format!("{v} {:.2}", **n as f64 / per))
                .collect();
            let _ = writeln!(
                out,
                "\n{} commands per file: {}",
                r.tool.name(),
                list.join(", ")
            );
        }
        for t in self.targets() {
            let _ = writeln!(out, "\n{t}");
        }
    }

    /// The targets that apply to this scenario, each marked met or not met.
    fn targets(&self) -> Vec<String> {
        let mut out = Vec::new();
        let Some(ours) = self.row(Tool::Ftpmirror) else {
            return out;
        };
        let mark = |ok: bool| if ok { "**met**" } else { "**not met**" };
        let speed = |need: f64, out: &mut Vec<String>| {
            if let Some(peer) = self.best_peer(Row::wall) {
                let x = peer.wall() / ours.wall();
                out.push(format!(
                    "Target: ≥ {need}× faster than the faster peer ({}): {:.2}× — {}",
                    peer.tool.name(),
                    x,
                    mark(x >= need && ours.ok())
                ));
            }
        };
        let floor = |out: &mut Vec<String>| {
            if let Some((f, _)) = self.floor {
                let x = ours.wall() / f;
                out.push(format!(
                    "Target: within 1.3× of the round-trip floor: {x:.2}× — {}",
                    mark(x <= 1.3)
                ));
            }
        };
        let initial = self.kind == "push-initial" || self.kind == "pull-initial";
        match (self.rtt_ms > 0, self.preset.as_str()) {
            (true, "site") if initial || self.kind == "push-nochange" => {
                speed(1.5, &mut out);
                floor(&mut out);
            }
            (false, "site" | "mirror") if initial => {
                speed(1.3, &mut out);
                let peers_cpu = self
                    .rows
                    .iter()
                    .filter(|r| r.tool != Tool::Ftpmirror && !r.samples.is_empty())
                    .map(Row::cpu)
                    .fold(f64::MAX, f64::min);
                if peers_cpu < f64::MAX {
                    out.push(format!(
                        "Target: less client CPU than either peer: {:.2} s vs {peers_cpu:.2} s — {}",
                        ours.cpu(),
                        mark(ours.cpu() < peers_cpu)
                    ));
                }
            }
            (false, "big") => {
                if let Some(peer) = self.best_peer(Row::wall) {
                    let x = peer.wall() / ours.wall();
                    out.push(format!(
                        "Target: ≥ 0.95× the faster peer's MB/s ({}): {x:.2}× — {}",
                        peer.tool.name(),
                        mark(x >= 0.95)
                    ));
                }
            }
            _ => {}
        }
        if matches!(self.preset.as_str(), "site" | "mirror")
            && let Some(lftp) = self.row(Tool::Lftp)
        {
            out.push(format!(
                "Target: peak RSS no higher than lftp's: {:.1} MB vs {:.1} MB — {}",
                ours.rss_mb(),
                lftp.rss_mb(),
                mark(ours.rss_mb() <= lftp.rss_mb())
            ));
        }
        out
    }
}
