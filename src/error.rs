//! Every exit code the program can end with, and the run's error type: a message chain plus
//! the exit code it maps to.

use std::fmt;

/// How a run ended, as its exit code: the one list (the README, `--help` and `main` all
/// read it from here).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    Ok = 0,
    /// Some actions failed, or the mirror is incomplete.
    Partial = 1,
    /// Bad arguments, URL, local directory, profile or credentials source.
    Usage = 2,
    /// Could not connect or log in.
    Connect = 3,
    /// Another run holds the profile's lock or `--remote-lock`.
    Locked = 4,
    /// Stopped by Ctrl-C (SIGINT).
    Interrupted = 130,
    /// Stopped by SIGTERM.
    Terminated = 143,
}

impl Exit {
    pub const ALL: [Exit; 7] = [
        Exit::Ok,
        Exit::Partial,
        Exit::Usage,
        Exit::Connect,
        Exit::Locked,
        Exit::Interrupted,
        Exit::Terminated,
    ];

    pub fn code(self) -> u8 {
        self as u8
    }

    /// What the code means, for `--help` and the README.
    pub fn meaning(self) -> &'static str {
        match self {
            Exit::Ok => "all done",
            Exit::Partial => "some actions failed",
            Exit::Usage => "usage or configuration error",
            Exit::Connect => "connection or login failure",
            Exit::Locked => "locked by another run (the profile's lock or --remote-lock)",
            Exit::Interrupted => "interrupted (Ctrl-C)",
            Exit::Terminated => "terminated (SIGTERM)",
        }
    }

    /// "Exit codes: 0 all done, 1 some actions failed, ...": the line under `--help`.
    pub fn help_line() -> String {
        let codes: Vec<String> = Exit::ALL
            .iter()
            .map(|e| format!("{} {}", e.code(), e.meaning()))
            .collect();
        format!("Exit codes: {}.", codes.join(", "))
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(e: Exit) -> Self {
        std::process::ExitCode::from(e.code())
    }
}

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code())
    }
}

/// A failure that ends the run before or instead of executing a plan.
#[derive(Debug)]
pub struct Error {
    pub exit: Exit,
    pub inner: anyhow::Error,
}

impl Error {
    /// Bad arguments, URL, local directory or credentials source: exit 2.
    pub fn usage(inner: anyhow::Error) -> Error {
        Error {
            exit: Exit::Usage,
            inner,
        }
    }

    /// Could not connect or log in: exit 3.
    pub fn connect(inner: anyhow::Error) -> Error {
        Error {
            exit: Exit::Connect,
            inner,
        }
    }

    /// The run started but could not finish its work: exit 1.
    pub fn partial(inner: anyhow::Error) -> Error {
        Error {
            exit: Exit::Partial,
            inner,
        }
    }

    /// Another run holds the lock: exit 4.
    pub fn locked(inner: anyhow::Error) -> Error {
        Error {
            exit: Exit::Locked,
            inner,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#}", self.inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_lists_every_code_in_order() {
        assert_eq!(
            Exit::help_line(),
            "Exit codes: 0 all done, 1 some actions failed, 2 usage or configuration error, \
             3 connection or login failure, 4 locked by another run (the profile's lock or \
             --remote-lock), 130 interrupted (Ctrl-C), 143 terminated (SIGTERM)."
        );
        assert!(
            Exit::Interrupted > Exit::Locked,
            "the worst of several runs wins"
        );
    }

    #[test]
    fn the_readme_table_has_every_code() {
        let readme = include_str!("../README.md");
        let table = readme
            .split("### Exit codes")
            .nth(1)
            .and_then(|t| t.split("\n\n").nth(1))
            .expect("an exit code table in the README");
        let listed: Vec<u8> = table
            .lines()
            .skip(2)
            .filter_map(|row| row.split('|').nth(1))
            .flat_map(|cell| cell.split(',').map(|c| c.trim().parse::<u8>().unwrap()))
            .collect();
        let codes: Vec<u8> = Exit::ALL.iter().map(|e| e.code()).collect();
        assert_eq!(listed, codes);
    }
}
