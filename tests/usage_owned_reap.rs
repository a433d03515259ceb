//! Usage patterns of the owned layer (`uring::owned::OwnedRing`): every way to reap, on every
//! setup mode (`OwnedRing::with_ring` over the mode's ring), in loops past the rings' sizes
//! (tests/common/usage.rs and usage_owned.rs have the modes, the rounds and the watchdog).
//!
//! The rounds are those of the raw layer (`usage::drive`): 20 owned NOPs one at a time (the
//! README's `push; wait` loop), full-SQ rounds and bursts of 12 until 80 more completed, then
//! owned reads on pipes written from another thread (task work). The in-flight table holds as
//! many operations as the CQ (8), so a burst is 8 owned NOPs and 4 raw ones
//! (`OwnedRing::push_safe`): 12 completions for a CQ of 8. Every `user_data` must complete
//! exactly once and every operation come back with its final completion.
//!
//! - `wait`: `OwnedRing::wait` once per completion (it submits what is pushed).
//! - `next`, `completions`, `for_each_completion`: `loop { ring.submit()?; <reap what is
//!   ready> }`.
//! - `submit_and_wait`: `OwnedRing::submit_and_wait` for what is outstanding (at most the CQ),
//!   then `next`.
//! - `batch`: pushes through `OwnedRing::batch`, then `submit_and_wait` + `completions`.
//!
//! On a `DEFER_TASKRUN` ring without `TASKRUN_FLAG` the loops that do not wait need the task
//! work run for them in the task-work rounds; without `OwnedRing::get_events` (see
//! usage_owned_timed.rs) they call `submit_and_wait(1)` when a pass found nothing. A pass that
//! found nothing yields the CPU.

mod common;
#[macro_use]
#[path = "common/usage.rs"]
mod usage;
#[path = "common/usage_owned.rs"]
mod usage_owned;

use usage::CQ;
use usage_owned::{owned, OwnedCell, Push};

/// The reap paths: each gets every outstanding completion back.
mod reap {
    use super::*;

    /// The end of a pass of a loop that does not wait, which found `found` completions: if
    /// none, runs the task work nobody flags and yields the CPU.
    fn kick(c: &mut OwnedCell, found: u32) {
        if found > 0 {
            return;
        }
        if c.needs_kick() {
            c.at("OwnedRing::submit_and_wait(1) (unflagged task work)");
            c.ring.submit_and_wait(1).expect("submit_and_wait");
        }
        std::thread::yield_now();
    }

    /// `OwnedRing::wait` once per completion.
    pub fn wait(c: &mut OwnedCell) {
        while c.book.outstanding() > 0 {
            c.at("OwnedRing::wait");
            let done = c.ring.wait().expect("wait");
            usage_owned::reap(&mut c.book, &c.shape, done);
        }
    }

    /// `OwnedRing::next` in a `submit` loop.
    pub fn next(c: &mut OwnedCell) {
        while c.book.outstanding() > 0 {
            c.at("OwnedRing::submit (poll loop)");
            c.ring.submit().expect("submit");
            let n = c.drain_next("OwnedRing::next (poll loop)");
            kick(c, n);
        }
    }

    /// `OwnedRing::completions` in a `submit` loop.
    pub fn completions(c: &mut OwnedCell) {
        while c.book.outstanding() > 0 {
            c.at("OwnedRing::submit (poll loop)");
            c.ring.submit().expect("submit");
            let n = c.drain_completions("OwnedRing::completions (poll loop)");
            kick(c, n);
        }
    }

    /// `OwnedRing::for_each_completion` in a `submit` loop.
    pub fn for_each_completion(c: &mut OwnedCell) {
        while c.book.outstanding() > 0 {
            c.at("OwnedRing::submit (poll loop)");
            c.ring.submit().expect("submit");
            let n = c.drain_for_each("OwnedRing::for_each_completion (poll loop)");
            kick(c, n);
        }
    }

    /// `OwnedRing::submit_and_wait` for what is outstanding (at most the CQ), then `next`.
    pub fn submit_and_wait(c: &mut OwnedCell) {
        while c.book.outstanding() > 0 {
            c.at("OwnedRing::submit_and_wait");
            c.ring.submit_and_wait(c.book.outstanding().min(CQ)).expect("submit_and_wait");
            c.drain_next("OwnedRing::next (after submit_and_wait)");
        }
    }

    /// `OwnedRing::submit_and_wait` for what is outstanding (at most the CQ), then
    /// `completions` (with the pushes through `OwnedRing::batch`).
    pub fn batch(c: &mut OwnedCell) {
        while c.book.outstanding() > 0 {
            c.at("OwnedRing::submit_and_wait");
            c.ring.submit_and_wait(c.book.outstanding().min(CQ)).expect("submit_and_wait");
            c.drain_completions("OwnedRing::completions (after submit_and_wait)");
        }
    }
}

usage_matrix!([
    wait => owned(Push::One, reap::wait),
    next => owned(Push::One, reap::next),
    completions => owned(Push::One, reap::completions),
    for_each_completion => owned(Push::One, reap::for_each_completion),
    submit_and_wait => owned(Push::One, reap::submit_and_wait),
    batch => owned(Push::Batch, reap::batch),
]);
