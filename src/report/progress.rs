//! The one place that writes to the terminal: indicatif bars when stderr is a terminal,
//! one plain line per action otherwise (cron, CI logs), nothing but errors with `--quiet`.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{HumanBytes, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::config::Output;
use crate::report::event::Event;
use crate::report::runlog::RunLog;
use crate::report::term;

pub struct Progress {
    quiet: bool,
    verbose: u8,
    /// `--log-file`: gets every action, warning, error and the summary, whatever `--quiet` says.
    log: RunLog,
    bar: Option<ProgressBar>,
    tty: bool,
    files_total: usize,
    files_done: usize,
    listed_dirs: usize,
    listed_entries: usize,
    /// Actions started and not yet done, shown under the bar.
    current: Vec<String>,
    /// `--stats`: how often a plain progress line is written where there is no bar.
    stats: Option<Duration>,
    last_stats: Instant,
    /// When the transfers began, and their bytes: total and done.
    transfers: Option<(Instant, u64, u64)>,
}

impl Progress {
    pub fn new(out: &Output, log: RunLog) -> Progress {
        Progress {
            quiet: out.quiet,
            verbose: out.verbose,
            log,
            bar: None,
            tty: !out.quiet && std::io::stderr().is_terminal(),
            files_total: 0,
            files_done: 0,
            listed_dirs: 0,
            listed_entries: 0,
            current: Vec::new(),
            stats: out.stats,
            last_stats: Instant::now(),
            transfers: None,
        }
    }

    /// `--stats`: one line when the interval has passed (only without a terminal, where
    /// the bar shows the same), written to stdout (not with `--quiet`) and the log.
    fn maybe_stats(&mut self) {
        let Some(every) = self.stats else { return };
        if self.tty || self.last_stats.elapsed() < every {
            return;
        }
        self.last_stats = Instant::now();
        let line = match self.transfers {
            Some((started, total, done)) => {
                let secs = started.elapsed().as_secs_f64().max(0.001);
                let rate = done as f64 / secs;
                let eta = match rate > 0.0 {
                    true => format!("{:.0}s", total.saturating_sub(done) as f64 / rate),
                    false => "-".to_string(),
                };
                format!(
                    "stats: {}/{} files, {} of {}, {}/s, ETA {eta}",
                    self.files_done,
                    self.files_total,
                    HumanBytes(done),
                    HumanBytes(total),
                    HumanBytes(rate as u64)
                )
            }
            None => format!(
                "stats: listing: {} directories, {} entries",
                self.listed_dirs, self.listed_entries
            ),
        };
        self.log.line(&line);
        self.line(&line);
    }

    pub fn verbose(&self) -> bool {
        self.verbose > 0 && !self.quiet
    }

    /// A spinner while the trees are read.
    pub fn start_listing(&mut self) {
        if self.tty {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(ProgressStyle::with_template("{spinner} {msg}").expect("valid template"));
            bar.set_message("listing the remote tree");
            bar.enable_steady_tick(Duration::from_millis(120));
            self.bar = Some(bar);
        }
    }

    /// The transfer bar: overall bytes, rate and ETA, files done and the current file.
    pub fn start_transfers(&mut self, files: usize, bytes: u64) {
        self.finish();
        self.files_total = files;
        self.files_done = 0;
        self.transfers = Some((Instant::now(), bytes, 0));
        if self.tty {
            let bar = ProgressBar::with_draw_target(Some(bytes), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "[{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta}\n{msg}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            self.bar = Some(bar);
        }
    }

    pub fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }

    /// A line for the log file only.
    pub fn log(&mut self, s: &str) {
        self.log.line(s);
    }

    /// A line of normal output on stdout (suppressed by `--quiet`).
    pub fn line(&self, s: &str) {
        if self.quiet {
            return;
        }
        match &self.bar {
            Some(bar) => bar.println(s),
            None => println!("{s}"),
        }
    }

    /// A warning on stderr (suppressed by `--quiet`) and in the log.
    pub fn warn(&mut self, s: &str) {
        self.log.line(&format!("warning: {s}"));
        if self.quiet {
            return;
        }
        match &self.bar {
            Some(bar) => bar.println(term::warning(s)),
            None => eprintln!("{}", term::warning(s)),
        }
    }

    /// A warning that `--quiet` does not silence: security matters.
    pub fn warn_always(&mut self, s: &str) {
        self.log.line(&format!("warning: {s}"));
        match &self.bar {
            Some(bar) => bar.suspend(|| eprintln!("{}", term::warning(s))),
            None => eprintln!("{}", term::warning(s)),
        }
    }

    /// An error on stderr, always, and in the log.
    pub fn error(&mut self, s: &str) {
        self.log.line(&format!("error: {s}"));
        match &self.bar {
            Some(bar) => bar.suspend(|| eprintln!("{}", term::error(s))),
            None => eprintln!("{}", term::error(s)),
        }
    }

    /// "3/25 files  download a.bin, download b.bin" under the bar.
    fn show_current(&self) {
        if let Some(bar) = &self.bar {
            bar.set_message(format!(
                "{}/{} files  {}",
                self.files_done,
                self.files_total,
                self.current.join(", ")
            ));
        }
    }

    pub fn on_event(&mut self, ev: &Event) {
        if !matches!(ev, Event::Notice(_)) {
            self.log.event(ev);
        }
        match ev {
            Event::Listed { entries } => {
                self.listed_dirs += 1;
                self.listed_entries += entries;
                if let Some(bar) = &self.bar {
                    bar.set_message(format!(
                        "listing the remote tree: {} directories, {} entries",
                        self.listed_dirs, self.listed_entries
                    ));
                }
            }
            Event::Start { op, path, .. } => {
                self.current.push(format!("{} {path}", op.label()));
                self.show_current();
            }
            Event::Bytes(n) => {
                if let Some(bar) = &self.bar {
                    bar.inc(*n);
                }
                if let Some((_, _, done)) = &mut self.transfers {
                    *done += n;
                }
            }
            Event::Done {
                op,
                path,
                bytes,
                result,
            } => {
                if op.is_transfer() {
                    self.files_done += 1;
                }
                let label = format!("{} {path}", op.label());
                if let Some(i) = self.current.iter().position(|c| *c == label) {
                    self.current.remove(i);
                }
                self.show_current();
                // Failures are printed once, at the end, with the summary.
                if result.is_ok() && (!self.tty || self.verbose()) {
                    let size = if op.is_transfer() {
                        format!("  ({})", HumanBytes(*bytes))
                    } else {
                        String::new()
                    };
                    self.line(&format!("{:<8} {path}{size}", op.label()));
                }
            }
            Event::Notice(n) => self.warn(n),
            Event::Detail(d) if self.verbose() => self.line(d),
            Event::Detail(_) => {}
        }
        self.maybe_stats();
    }
}
