//! ftpmirror: keep a local directory tree and an FTP server's tree in sync.
//!
//! Data flows one way: scan (`local`, `remote::walk`) → plan (`plan`, `compare`) →
//! execute (`exec` on a `remote::Pool`) → report (`report`, `progress`).

pub mod cli;
pub mod compare;
pub mod config;
pub mod error;
pub mod event;
pub mod exec;
pub mod filter;
pub mod local;
pub mod netrc;
pub mod path;
pub mod plan;
pub mod progress;
pub mod remote;
pub mod report;
pub mod run;
pub mod tree;
pub mod url;

use std::ffi::OsString;

use clap::Parser;

/// Parses `args` (including the program name), runs, prints, and returns the exit code.
/// `main` and the demo example both come through here.
pub fn main_with_args<I, T>(args: I) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match cli::Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                error::EXIT_USAGE
            } else {
                error::EXIT_OK
            };
        }
    };
    let cfg = match config::Config::from_cli(cli) {
        Ok(cfg) => cfg,
        Err(e) => {
            eprintln!("error: {e:#}");
            return error::EXIT_USAGE;
        }
    };
    match run::run(&cfg) {
        Ok(report) => report.exit_code(),
        Err(e) => {
            eprintln!("error: {e}");
            e.code
        }
    }
}
