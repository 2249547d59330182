//! Colour for `error:` and `warning:` on stderr: on a terminal by default, never when
//! `NO_COLOR` is set (unless `--color always`), never in log files.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};

static COLOR: AtomicBool = AtomicBool::new(false);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

/// Decides once per process; `no_color` is whether `NO_COLOR` is set and not empty.
pub fn init(choice: ColorChoice, no_color: bool) {
    let on = match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => !no_color && std::io::stderr().is_terminal(),
    };
    COLOR.store(on, Ordering::SeqCst);
}

fn paint(code: &str, word: &str) -> String {
    if COLOR.load(Ordering::SeqCst) {
        format!("\x1b[{code}m{word}\x1b[0m")
    } else {
        word.to_string()
    }
}

/// "error: {msg}" for stderr, red when colour is on.
pub fn error(msg: &str) -> String {
    format!("{} {msg}", paint("1;31", "error:"))
}

/// Prints an error chain on stderr as one line ("error: cannot list /x on host: 550 ...") and
/// returns the exit code it ends the program with: the one place for errors that happen
/// outside a run (a run's own go through its progress display and log).
pub fn fail(exit: crate::error::Exit, e: &anyhow::Error) -> crate::error::Exit {
    eprintln!("{}", error(&format!("{e:#}")));
    exit
}

/// "warning: {msg}" for stderr, yellow when colour is on.
pub fn warning(msg: &str) -> String {
    format!("{} {msg}", paint("1;33", "warning:"))
}
