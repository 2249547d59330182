//! Ctrl-C and SIGTERM: the first asks for a clean stop (no new work, transfers in flight
//! aborted, temporary files dealt with, summary printed, exit 130 or 143); a second one exits
//! at once.

use std::sync::Once;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::flag;

static SIGNAL: AtomicUsize = AtomicUsize::new(0);
static ARMED: AtomicBool = AtomicBool::new(false);

/// Installs the handlers once per process.
pub fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for (signal, code) in [(SIGINT, 130), (SIGTERM, 143)] {
            // Handlers run in registration order: the shutdown sees ARMED only from the
            // second signal on.
            let r = flag::register_conditional_shutdown(signal, code, &ARMED)
                .and_then(|_| flag::register(signal, &ARMED))
                .and_then(|_| flag::register_usize(signal, &SIGNAL, signal as usize));
            if let Err(e) = r {
                eprintln!(
                    "{}",
                    crate::report::term::warning(&format!("cannot handle signal {signal}: {e}"))
                );
            }
        }
    });
}

/// Whether a stop was asked for.
pub fn requested() -> bool {
    SIGNAL.load(Ordering::SeqCst) != 0
}

/// 130 after SIGINT, 143 after SIGTERM.
pub fn exit_code() -> Option<crate::error::Exit> {
    use crate::error::Exit;
    match SIGNAL.load(Ordering::SeqCst) {
        0 => None,
        s if s == SIGTERM as usize => Some(Exit::Terminated),
        _ => Some(Exit::Interrupted),
    }
}
