//! What workers tell the one thread that prints. Workers never print themselves.

use std::fmt;

use crate::path::RelPath;
use crate::plan::Op;
use crate::remote::{Failure, Step};

#[derive(Debug, Clone)]
pub enum Event {
    /// A remote directory was listed, holding this many entries.
    Listed { entries: usize },
    /// An action began.
    Start { op: Op, path: RelPath },
    /// Bytes moved by a transfer in progress.
    Bytes(u64),
    /// An action ended; `bytes` counts what was transferred.
    Done {
        op: Op,
        path: RelPath,
        bytes: u64,
        result: Result<(), Fault>,
    },
    /// Something worth telling that is not a failure of an action.
    Notice(String),
    /// A detail for `-v`: what the run learnt about the server on the way.
    Detail(String),
}

/// A failed action as reports and logs give it: the message, the step that failed, and the
/// server's reply code where it refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub message: String,
    pub step: Step,
    pub code: Option<u32>,
}

impl Fault {
    /// What the FTP layer said about `e`; an error it did not make is the local side's.
    pub fn of(e: &anyhow::Error) -> Fault {
        Fault {
            message: format!("{e:#}"),
            step: Failure::step_of(e).unwrap_or(Step::Local),
            code: Failure::code_of(e),
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
