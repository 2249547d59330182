//! The run's error type: a message chain plus the exit code it maps to.

use std::fmt;

/// Exit codes, as documented in the README.
pub const EXIT_OK: u8 = 0;
pub const EXIT_PARTIAL: u8 = 1;
pub const EXIT_USAGE: u8 = 2;
pub const EXIT_CONNECT: u8 = 3;
/// Another run of the same profile holds its lock.
pub const EXIT_LOCKED: u8 = 4;

/// A failure that ends the run before or instead of executing a plan.
#[derive(Debug)]
pub struct Error {
    pub code: u8,
    pub inner: anyhow::Error,
}

impl Error {
    /// Bad arguments, URL, local directory or credentials source: exit 2.
    pub fn usage(inner: anyhow::Error) -> Error {
        Error {
            code: EXIT_USAGE,
            inner,
        }
    }

    /// Could not connect or log in: exit 3.
    pub fn connect(inner: anyhow::Error) -> Error {
        Error {
            code: EXIT_CONNECT,
            inner,
        }
    }

    /// The run started but could not finish its work: exit 1.
    pub fn partial(inner: anyhow::Error) -> Error {
        Error {
            code: EXIT_PARTIAL,
            inner,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#}", self.inner)
    }
}
