//! Usage patterns of the owned layer's timed waits and event calls, on every setup mode:
//! `OwnedRing::wait_timeout`, `OwnedRing::get_events` and `OwnedRing::submit_and_wait_timeout`
//! as reap paths (the rounds of `usage::drive`, past the CQ), and as 200 ms waits with nothing
//! in flight that must sleep (less than 20 ms of CPU time).
//!
//! - `wait_timeout`: `OwnedRing::wait_timeout` once per completion (it submits what is pushed).
//! - `get_events`: one `submit`, then `OwnedRing::get_events` + `for_each_completion`.
//! - `next_get_events`: `OwnedRing::next` in a `submit` loop that calls `get_events` where the
//!   kernel does not flag task work (usage_owned_reap.rs has to use `submit_and_wait(1)`).
//! - `submit_and_wait_timeout`: `OwnedRing::submit_and_wait_timeout` for what is outstanding
//!   (at most the CQ), then `completions`.
//! - `idle_wait_timeout`, `idle_submit_and_wait_timeout`: after four rounds of `push(Nop)` +
//!   `wait_timeout`, a 200 ms wait with nothing in flight: `ETIME` (or, for
//!   `submit_and_wait_timeout`, `Ok(0)` with nothing ready), after about 200 ms, using less
//!   than 20 ms of CPU time. Skipped on IOPOLL rings, which never sleep.

mod common;
#[macro_use]
#[path = "common/usage.rs"]
mod usage;
#[path = "common/usage_owned.rs"]
mod usage_owned;

use std::time::Duration;

use uring::owned::Nop;
use usage::{expect_etime, measure_idle_wait, waits_sleep, Mode, Rounds, Watch, CQ, IDLE_WAIT, SQ};
use usage_owned::{owned, OwnedCell, Push};

/// How long a timed wait of a reap loop waits before the test calls the completion lost.
const LOST: Duration = Duration::from_secs(2);

/// The reap paths: each gets every outstanding completion back.
mod reap {
    use super::*;

    /// `OwnedRing::wait_timeout` once per completion.
    pub fn wait_timeout(c: &mut OwnedCell) {
        while c.book.outstanding() > 0 {
            c.at("OwnedRing::wait_timeout");
            match c.ring.wait_timeout(LOST) {
                Ok(done) => usage_owned::reap(&mut c.book, &c.shape, done),
                Err(e) => panic!("wait_timeout with {} outstanding: {e}", c.book.outstanding()),
            }
        }
    }

    /// One `submit`, then `OwnedRing::get_events` + `for_each_completion`.
    pub fn get_events(c: &mut OwnedCell) {
        c.at("OwnedRing::submit");
        c.ring.submit().expect("submit");
        while c.book.outstanding() > 0 {
            c.at("OwnedRing::get_events (poll loop)");
            c.ring.get_events().expect("get_events");
            if c.drain_for_each("OwnedRing::for_each_completion (after get_events)") == 0 {
                std::thread::yield_now();
            }
        }
    }

    /// `OwnedRing::next` in a `submit` loop, with `get_events` for unflagged task work.
    pub fn next_get_events(c: &mut OwnedCell) {
        while c.book.outstanding() > 0 {
            c.at("OwnedRing::submit (poll loop)");
            c.ring.submit().expect("submit");
            if c.needs_kick() {
                c.at("OwnedRing::get_events (unflagged task work)");
                c.ring.get_events().expect("get_events");
            }
            if c.drain_next("OwnedRing::next (poll loop)") == 0 {
                std::thread::yield_now();
            }
        }
    }

    /// `OwnedRing::submit_and_wait_timeout` for what is outstanding (at most the CQ), then
    /// `completions`.
    pub fn submit_and_wait_timeout(c: &mut OwnedCell) {
        while c.book.outstanding() > 0 {
            c.at("OwnedRing::submit_and_wait_timeout");
            if let Err(e) = c.ring.submit_and_wait_timeout(c.book.outstanding().min(CQ), LOST) {
                panic!("submit_and_wait_timeout with {} outstanding: {e}", c.book.outstanding());
            }
            c.drain_completions("OwnedRing::completions (after submit_and_wait_timeout)");
        }
    }
}

/// The 200 ms waits with nothing in flight.
mod idle {
    use super::*;

    /// An owned ring of `mode` after four rounds of `push(Nop)` + `wait_timeout`, with the
    /// SQPOLL thread asleep where the mode wants that.
    fn used_ring(mode: &'static Mode, test: &'static str, w: &Watch) -> Option<OwnedCell> {
        if !waits_sleep(mode, test) {
            return None;
        }
        let mut c = OwnedCell::open(mode, test, w, Push::One)?;
        for i in 0..SQ {
            c.at("OwnedRing::push");
            c.ring.push(Nop).expect("push");
            c.at("OwnedRing::wait_timeout (warm-up)");
            let done = c.ring.wait_timeout(LOST).unwrap_or_else(|e| panic!("wait_timeout {i}: {e}"));
            assert!(done.result().is_ok());
            c.book.watch.completed();
        }
        c.settle();
        Some(c)
    }

    pub fn wait_timeout(mode: &'static Mode, test: &'static str, w: &Watch) {
        let Some(mut c) = used_ring(mode, test, w) else { return };
        c.at("OwnedRing::wait_timeout (idle)");
        let r = measure_idle_wait(test, "OwnedRing::wait_timeout", || c.ring.wait_timeout(IDLE_WAIT).map(|d| *d.cqe()));
        expect_etime(test, "OwnedRing::wait_timeout", r);
    }

    pub fn submit_and_wait_timeout(mode: &'static Mode, test: &'static str, w: &Watch) {
        let Some(mut c) = used_ring(mode, test, w) else { return };
        c.at("OwnedRing::submit_and_wait_timeout (idle)");
        let r = measure_idle_wait(test, "OwnedRing::submit_and_wait_timeout", || {
            c.ring.submit_and_wait_timeout(1, IDLE_WAIT)
        });
        match r {
            Ok(0) => assert!(c.ring.next().is_none(), "{test}: a completion out of nothing"),
            r => expect_etime(test, "OwnedRing::submit_and_wait_timeout", r),
        }
    }
}

usage_matrix!([
    wait_timeout => owned(Push::One, reap::wait_timeout),
    get_events => owned(Push::One, reap::get_events),
    next_get_events => owned(Push::One, reap::next_get_events),
    submit_and_wait_timeout => owned(Push::Batch, reap::submit_and_wait_timeout),
    idle_wait_timeout => idle::wait_timeout,
    idle_submit_and_wait_timeout => idle::submit_and_wait_timeout,
]);
