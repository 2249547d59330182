//! ftpmirror: keep a local directory tree and an FTP server's tree in sync.
//!
//! Data flows one way: scan (`local`, `remote::walk`) → plan (`plan`, `compare`) →
//! execute (`exec` on a `remote::Pool`) → report (`report`, `progress`).
//!
//! The library is the binary's: modules are private, and what is public is what the binary,
//! the demo, the benches and the tests reach (the entry point, and the pure scan → plan
//! steps with the listing parsers, which benches and corpus tests drive directly).

mod app;
mod backup;
mod bwlimit;
mod checksum;
mod chmod;
mod cli;
pub mod compare;
mod config;
mod error;
mod event;
mod exec;
mod fileop;
pub mod filter;
pub mod hash;
mod init;
mod interrupt;
mod limits;
pub mod local;
mod lock;
mod manifest;
mod netrc;
mod options;
pub mod path;
pub mod plan;
mod profile;
mod progress;
mod remote;
mod report;
mod run;
mod runlog;
mod summary;
mod term;
pub mod tree;
mod url;

pub use app::main_with_args;
pub use error::Exit;
pub use remote::listing;
pub use remote::tls::fingerprint as certificate_fingerprint;
