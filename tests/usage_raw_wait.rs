//! Usage patterns of the raw layer, loops that wait: every way to wait for completions, on
//! every setup mode, past the rings' sizes (tests/common/usage.rs has the modes, the rounds and
//! the watchdog; usage_raw_poll.rs has the loops that do not wait).
//!
//! Each test `<mode>::<path>` runs the rounds of `usage::drive` on a 4-entry SQ and an 8-entry
//! CQ: 20 NOPs one at a time, then full-SQ rounds and bursts of 12 (more than the CQ holds)
//! until 80 more completed, then reads on pipes written from another thread (completions through
//! task work), also in bursts past the CQ. Every `user_data` must complete exactly once, with
//! its result. In the one-at-a-time and full-SQ rounds the entries are only pushed: the path
//! submits them.
//!
//! - `wait_cqe`: `Ring::wait_cqe` once per completion (it submits what is pushed).
//! - `wait_cqe_timeout`: one `submit`, then `Ring::wait_cqe_timeout` once per completion.
//! - `wait_cqes`, `submit_and_wait`, `submit_and_wait_timeout`: the call for what is
//!   outstanding (at most the CQ), then `iter`.

mod common;
#[macro_use]
#[path = "common/usage.rs"]
mod usage;

use std::time::Duration;

use usage::{raw, Cell, CQ};

/// How long a timed wait of a reap loop waits before the test calls the completion lost.
const LOST: Duration = Duration::from_secs(2);

/// The reap paths: each gets every outstanding completion back.
mod reap {
    use super::*;

    /// `Ring::wait_cqe`, which submits what is pushed, once per completion.
    pub fn wait_cqe(c: &mut Cell) {
        while c.book.outstanding() > 0 {
            c.at("Ring::wait_cqe");
            let cqe = c.ring.wait_cqe().expect("wait_cqe");
            c.book.reap(&cqe, &c.shape);
        }
    }

    /// One `submit`, then `Ring::wait_cqe_timeout` once per completion.
    pub fn wait_cqe_timeout(c: &mut Cell) {
        c.at("Ring::submit");
        c.ring.submit().expect("submit");
        while c.book.outstanding() > 0 {
            c.at("Ring::wait_cqe_timeout");
            match c.ring.wait_cqe_timeout(LOST) {
                Ok(cqe) => c.book.reap(&cqe, &c.shape),
                Err(e) => panic!("wait_cqe_timeout with {} outstanding: {e}", c.book.outstanding()),
            }
        }
    }

    /// The most a wait may ask for: the CQ size, or on a mixed ring half of it. There `want`
    /// counts slots (a 32-byte completion fills two, a padding entry one), and a 32-byte
    /// completion waiting in the overflow list needs up to three free slots: a CQ holding
    /// `CQ - 1` slots can never reach `CQ` (the kernel waits forever, as with liburing).
    fn max_wait(c: &mut Cell) -> u32 {
        if c.ring.cq().is_mixed() {
            CQ / 2
        } else {
            CQ
        }
    }

    /// `Ring::wait_cqes` for what is outstanding (at most the CQ), then `iter`.
    pub fn wait_cqes(c: &mut Cell) {
        while c.book.outstanding() > 0 {
            c.at("Ring::wait_cqes");
            let want = c.book.outstanding().min(max_wait(c));
            c.ring.wait_cqes(want).expect("wait_cqes");
            c.drain_iter("CompletionQueue::iter (after wait_cqes)");
        }
    }

    /// `Ring::submit_and_wait` for what is outstanding (at most the CQ), then `iter`.
    pub fn submit_and_wait(c: &mut Cell) {
        while c.book.outstanding() > 0 {
            c.at("Ring::submit_and_wait");
            let want = c.book.outstanding().min(max_wait(c));
            c.ring.submit_and_wait(want).expect("submit_and_wait");
            c.drain_iter("CompletionQueue::iter (after submit_and_wait)");
        }
    }

    /// `Ring::submit_and_wait_timeout` (`submit_and_wait_with`) for what is outstanding (at
    /// most the CQ), then `iter`.
    pub fn submit_and_wait_timeout(c: &mut Cell) {
        while c.book.outstanding() > 0 {
            c.at("Ring::submit_and_wait_timeout");
            let want = c.book.outstanding().min(max_wait(c));
            if let Err(e) = c.ring.submit_and_wait_timeout(want, LOST) {
                panic!("submit_and_wait_timeout with {} outstanding: {e}", c.book.outstanding());
            }
            c.drain_iter("CompletionQueue::iter (after submit_and_wait_timeout)");
        }
    }
}

usage_matrix!([
    wait_cqe => raw(reap::wait_cqe),
    wait_cqe_timeout => raw(reap::wait_cqe_timeout),
    wait_cqes => raw(reap::wait_cqes),
    submit_and_wait => raw(reap::submit_and_wait),
    submit_and_wait_timeout => raw(reap::submit_and_wait_timeout),
]);
