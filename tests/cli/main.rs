//! End-to-end tests: the real binary against real FTP servers on loopback (the in-process
//! libunftp server, the scripted one, and the daemons `.ci/run` installs), one file per
//! capability, all on the harness in `tests/support` (`Run`, `Server`, `Outcome`).

#[path = "../support/mod.rs"]
mod support;

use std::fs;

use support::server::PASSWORD;
use support::*;

// Push, pull and ls on the in-process server: bytes, mtimes, deletes, passwords, exit codes.
mod basics;
// --checksum: the server's HASH (a lying one too) and the deploy manifest.
mod checksum;
// Deploy and cron controls: limits, --bwlimit, case twins, locks, backups, --chmod, renames.
mod controls;
// Upload atomicity, batching anomalies redone at once, retries and refused sessions.
mod faults;
// The single-file commands: get, put, mv, rm, mkdir, rmdir.
mod fileops;
// --exclude, --include, --exclude-from and --delete-excluded on both sides.
mod filters;
// FTPS: certificates, pins, CAs, implicit TLS, session reuse.
mod ftps;
// Delete guards end to end: an empty source, --max-delete, incomplete listings.
mod guards;
// Hostile and broken servers: nothing written outside the target, no injected command.
mod hostile;
// The real daemons of the interop matrix (see tests/README.md).
mod interop;
// init, completions, the man page, --help and --version.
mod native;
// Profiles: a run from YAML, errors with file, line and column, locks, logs and summaries.
mod profiles;
// Partial transfers continued with REST.
mod resume;
// IPv6: EPSV passive and EPRT active over ::1.
mod scripted_ipv6;
// Servers without MLSD or EPSV (LIST, PASV), and what the run asks them.
mod scripted_server;
// Awkward names and tree shapes through MLSD and LIST.
mod shapes;
// Ctrl-C, SIGTERM and SIGKILL in the middle of a transfer.
mod signals;
// mtimes to the second on a LIST-only server, and coarse times never settling a tie.
mod times;
