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
