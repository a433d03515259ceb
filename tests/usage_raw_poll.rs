//! Usage patterns of the raw layer, loops that do not wait: every way to reap completions
//! without blocking, on every setup mode, past the rings' sizes (tests/common/usage.rs has the
//! modes, the rounds and the watchdog; usage_raw_wait.rs has the loops that wait).
//!
//! Each test `<mode>::<path>` runs the rounds of `usage::drive` on a 4-entry SQ and an 8-entry
//! CQ: 20 NOPs one at a time, then full-SQ rounds and bursts of 12 (more than the CQ holds)
//! until 80 more completed, then reads on pipes written from another thread (completions through
//! task work), also in bursts past the CQ. Every `user_data` must complete exactly once, with
//! its result. A path gets all outstanding completions back the way a user of that call would
//! write the loop, as liburing's equivalents allow:
//!
//! - `pop`, `iter`, `peek`: `loop { ring.submit()?; <reap what is ready> }` — liburing's
//!   `io_uring_submit` enters the kernel to flush overflowed completions and flagged task work.
//! - `pop_batch`, `peek_cqe`: one `submit`, then only the reaping call — liburing's
//!   `io_uring_peek_batch_cqe` and `io_uring_peek_cqe` enter the kernel when the CQ is empty and
//!   completions wait in it.
//! - `get_events`: one `submit`, then `get_events` + `iter`; `submit_and_get_events`: that
//!   call + `iter`.
//!
//! On a `DEFER_TASKRUN` ring without `TASKRUN_FLAG` nothing tells user space that task work is
//! pending, so in the task-work rounds a pass that found nothing also calls `get_events`, as a
//! liburing user must. A pass that found nothing yields the CPU.

mod common;
#[macro_use]
#[path = "common/usage.rs"]
mod usage;

use usage::{raw, Cell};

/// The reap paths: each gets every outstanding completion back.
mod reap {
    use super::*;

    /// `CompletionQueue::pop` in a `submit` loop.
    pub fn pop(c: &mut Cell) {
        while c.book.outstanding() > 0 {
            let before = c.book.done;
            c.at("Ring::submit (poll loop)");
            c.ring.submit().expect("submit");
            loop {
                c.at("CompletionQueue::pop (poll loop)");
                let Some(cqe) = c.ring.cq().pop() else { break };
                c.book.reap(&cqe, &c.shape);
            }
            c.idle_pass(before);
        }
    }

    /// `CompletionQueue::iter` in a `submit` loop (the example).
    pub fn iter(c: &mut Cell) {
        while c.book.outstanding() > 0 {
            let before = c.book.done;
            c.at("Ring::submit (poll loop)");
            c.ring.submit().expect("submit");
            c.drain_iter("CompletionQueue::iter (poll loop)");
            c.idle_pass(before);
        }
    }

    /// `CompletionQueue::peek`, then `consume_peeked` + `sync` (peek, then seen), in a `submit`
    /// loop.
    pub fn peek(c: &mut Cell) {
        while c.book.outstanding() > 0 {
            let before = c.book.done;
            c.at("Ring::submit (poll loop)");
            c.ring.submit().expect("submit");
            loop {
                c.at("CompletionQueue::peek (poll loop)");
                let Some(cqe) = c.ring.cq().peek() else { break };
                c.book.reap(&cqe, &c.shape);
                c.ring.cq().consume_peeked(&cqe).expect("consume_peeked");
                c.ring.cq().sync();
            }
            c.idle_pass(before);
        }
    }

    /// One `submit`, then `CompletionQueue::pop_batch` (`io_uring_peek_batch_cqe` +
    /// `io_uring_cq_advance`) into a batch of 4 until everything is back.
    pub fn pop_batch(c: &mut Cell) {
        c.at("Ring::submit");
        c.ring.submit().expect("submit");
        let mut out = [uring::Cqe::new(0, 0, 0); 4];
        while c.book.outstanding() > 0 {
            let before = c.book.done;
            c.at("CompletionQueue::pop_batch (poll loop)");
            let n = c.ring.cq().pop_batch(&mut out);
            for cqe in &out[..n] {
                c.book.reap(cqe, &c.shape);
            }
            c.idle_pass(before);
        }
    }

    /// One `submit`, then `Ring::peek_cqe` until everything is back.
    pub fn peek_cqe(c: &mut Cell) {
        c.at("Ring::submit");
        c.ring.submit().expect("submit");
        while c.book.outstanding() > 0 {
            let before = c.book.done;
            c.at("Ring::peek_cqe (poll loop)");
            if let Some(cqe) = c.ring.peek_cqe().expect("peek_cqe") {
                c.book.reap(&cqe, &c.shape);
            }
            c.idle_pass(before);
        }
    }

    /// One `submit`, then `Ring::get_events` + `iter` until everything is back.
    pub fn get_events(c: &mut Cell) {
        c.at("Ring::submit");
        c.ring.submit().expect("submit");
        while c.book.outstanding() > 0 {
            let before = c.book.done;
            c.at("Ring::get_events (poll loop)");
            c.ring.get_events().expect("get_events");
            c.drain_iter("CompletionQueue::iter (after get_events)");
            c.idle_pass(before);
        }
    }

    /// `Ring::submit_and_get_events` + `iter` until everything is back.
    pub fn submit_and_get_events(c: &mut Cell) {
        while c.book.outstanding() > 0 {
            let before = c.book.done;
            c.at("Ring::submit_and_get_events (poll loop)");
            c.ring.submit_and_get_events().expect("submit_and_get_events");
            c.drain_iter("CompletionQueue::iter (after submit_and_get_events)");
            c.idle_pass(before);
        }
    }
}

usage_matrix!([
    pop => raw(reap::pop),
    iter => raw(reap::iter),
    peek => raw(reap::peek),
    pop_batch => raw(reap::pop_batch),
    peek_cqe => raw(reap::peek_cqe),
    get_events => raw(reap::get_events),
    submit_and_get_events => raw(reap::submit_and_get_events),
]);
