//! Blocking waits must block: on every setup mode, a 200 ms wait with nothing to complete uses
//! less than 20 ms of CPU time (`getrusage(RUSAGE_THREAD)` around the call) and lasts about
//! 200 ms, after the ring has been used past its CQ (a burst of 12 NOPs into a CQ of 8).
//!
//! - `wait_cqe_timeout`: `Ring::wait_cqe_timeout(200 ms)` with nothing in flight: `ETIME`.
//! - `submit_and_wait_timeout`: `Ring::submit_and_wait_timeout(1, 200 ms)` with nothing in
//!   flight: `ETIME`.
//! - `owned_wait`: `OwnedRing::wait` for a 200 ms owned `Timeout`, right after four rounds of
//!   the README's `push(Nop); wait()` loop.
//!
//! IOPOLL rings are skipped: the kernel polls instead of sleeping there.
//!
//! The timed owned waits (`OwnedRing::wait_timeout`, `OwnedRing::submit_and_wait_timeout`)
//! are in usage_owned_timed.rs.

mod common;
#[macro_use]
#[path = "common/usage.rs"]
mod usage;
#[path = "common/usage_owned.rs"]
mod usage_owned;

use uring::owned::{Nop, Timeout};
use usage::{expect_etime, measure_idle_wait, waits_sleep, Cell, Mode, Rounds, Watch, BURST, CQ, IDLE_WAIT, SQ};
use usage_owned::{OwnedCell, Push};

/// Uses the ring past its CQ: a burst of [`BURST`] NOPs, pushed and submitted before any is
/// reaped, then reaped with `submit_and_wait` + `iter`; then lets an SQPOLL thread fall asleep
/// where the mode wants that.
fn warm_up(c: &mut Cell) {
    c.book.bursting = true;
    let mut pushed = 0;
    while pushed < BURST {
        let n = c.push_nops(BURST - pushed, false);
        pushed += n;
        if n == 0 {
            c.submit();
        }
    }
    c.book.bursting = false;
    while c.book.outstanding() > 0 {
        c.at("Ring::submit_and_wait (warm-up)");
        c.ring.submit_and_wait(c.book.outstanding().min(CQ)).expect("submit_and_wait");
        c.drain_iter("CompletionQueue::iter (warm-up)");
    }
    c.settle();
}

/// The tests' bodies.
mod idle {
    use super::*;

    pub fn wait_cqe_timeout(mode: &'static Mode, test: &'static str, w: &Watch) {
        if !waits_sleep(mode, test) {
            return;
        }
        let Some(mut c) = Cell::open(mode, test, w) else { return };
        warm_up(&mut c);
        c.at("Ring::wait_cqe_timeout (idle)");
        let r = measure_idle_wait(test, "Ring::wait_cqe_timeout", || c.ring.wait_cqe_timeout(IDLE_WAIT));
        expect_etime(test, "Ring::wait_cqe_timeout", r);
    }

    pub fn submit_and_wait_timeout(mode: &'static Mode, test: &'static str, w: &Watch) {
        if !waits_sleep(mode, test) {
            return;
        }
        let Some(mut c) = Cell::open(mode, test, w) else { return };
        warm_up(&mut c);
        c.at("Ring::submit_and_wait_timeout (idle)");
        let r =
            measure_idle_wait(test, "Ring::submit_and_wait_timeout", || c.ring.submit_and_wait_timeout(1, IDLE_WAIT));
        expect_etime(test, "Ring::submit_and_wait_timeout", r);
    }

    pub fn owned_wait(mode: &'static Mode, test: &'static str, w: &Watch) {
        if !waits_sleep(mode, test) {
            return;
        }
        let Some(mut c) = OwnedCell::open(mode, test, w, Push::One) else { return };
        // The README's loop, for as many rounds as the SQ holds (usage_owned_reap.rs runs it
        // past the CQ): each completion is taken with `wait`.
        for i in 0..SQ {
            c.at("OwnedRing::push");
            c.ring.push(Nop).expect("push");
            c.at("OwnedRing::wait (README loop)");
            let done = c.ring.wait().unwrap_or_else(|e| panic!("wait {i}: {e}"));
            assert!(done.result().is_ok());
            c.book.watch.completed();
        }
        c.settle();
        c.at("OwnedRing::push");
        let id = c.ring.push(Timeout::new(IDLE_WAIT)).expect("push");
        c.at("OwnedRing::wait (200 ms timeout)");
        let (got, res) = measure_idle_wait(test, "OwnedRing::wait", || {
            let done = c.ring.wait().expect("wait");
            (done.id(), done.result())
        });
        assert_eq!(got, Some(id), "{test}: the timeout's completion");
        assert_eq!(res, Err(uring::Errno::TIME), "{test}: a timeout completes with ETIME");
        assert_eq!(c.ring.in_flight(), 0);
    }
}

usage_matrix!([
    wait_cqe_timeout => idle::wait_cqe_timeout,
    submit_and_wait_timeout => idle::submit_and_wait_timeout,
    owned_wait => idle::owned_wait,
]);
