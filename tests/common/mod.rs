//! Shared helpers of the integration tests: probe-and-skip with a printed reason.
#![allow(dead_code)]

use std::io::Write;

/// Reports that `test` was skipped and why. Written straight to the process's stderr (not the
/// captured test output), so the reason shows in every `cargo test` run.
pub fn skip(test: &str, why: impl std::fmt::Display) {
    let _ = writeln!(std::io::stderr().lock(), "SKIPPED {test}: {why}");
}

/// Reports a notable fact from a test that ran (e.g. which kernel path it took).
pub fn note(test: &str, what: impl std::fmt::Display) {
    let _ = writeln!(std::io::stderr().lock(), "NOTE {test}: {what}");
}

/// Whether the kernel rejected a setup as unsupported (EINVAL) — used to skip with a reason.
pub fn is_einval(e: &uring::Error) -> bool {
    e.is_errno(libc::EINVAL)
}

/// Runs `body` on a thread; if it has not finished after `secs`, prints `HANG in <test>` and
/// aborts the process, so a hang fails in seconds instead of stalling the run. A panic in the
/// body is re-raised here.
pub fn watchdog(test: &'static str, secs: u64, body: impl FnOnce() + Send + 'static) {
    use std::sync::mpsc;
    let (tx, rx) = mpsc::channel();
    let h = std::thread::spawn(move || {
        body();
        let _ = tx.send(());
    });
    match rx.recv_timeout(std::time::Duration::from_secs(secs)) {
        Ok(()) => h.join().unwrap(),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            if let Err(p) = h.join() {
                std::panic::resume_unwind(p);
            }
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            let _ = writeln!(std::io::stderr().lock(), "HANG in {test}: no progress after {secs} s");
            std::process::abort();
        }
    }
}
