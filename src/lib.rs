//! ftpmirror: keep a local directory tree and an FTP server's tree in sync.
//!
//! Data flows one way: scan (`local`, `remote::walk`) → plan (`plan`, `compare`) →
//! execute (`exec` on a `remote::Pool`) → report (`report`, `progress`).

pub mod app;
pub mod backup;
pub mod bwlimit;
pub mod checksum;
pub mod chmod;
pub mod cli;
pub mod compare;
pub mod config;
pub mod error;
pub mod event;
pub mod exec;
pub mod fileop;
pub mod filter;
pub mod hash;
pub mod init;
pub mod interrupt;
pub mod limits;
pub mod local;
pub mod lock;
pub mod manifest;
pub mod netrc;
pub mod path;
pub mod plan;
pub mod profile;
pub mod progress;
pub mod remote;
pub mod report;
pub mod run;
pub mod runlog;
pub mod summary;
pub mod term;
pub mod tree;
pub mod url;

pub use app::main_with_args;
