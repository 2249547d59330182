//! What workers tell the one thread that prints. Workers never print themselves.

use crate::path::RelPath;
use crate::plan::Op;

#[derive(Debug, Clone)]
pub enum Event {
    /// A remote directory was listed, holding this many entries.
    Listed { entries: usize },
    /// An action began.
    Start { op: Op, path: RelPath, size: u64 },
    /// Bytes moved by a transfer in progress.
    Bytes(u64),
    /// An action ended; `bytes` counts what was transferred.
    Done {
        op: Op,
        path: RelPath,
        bytes: u64,
        result: Result<(), String>,
    },
    /// Something worth telling that is not a failure of an action.
    Notice(String),
    /// A detail for `-v`: what the run learnt about the server on the way.
    Detail(String),
}
