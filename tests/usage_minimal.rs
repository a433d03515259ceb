//! The smallest loop of each usage pattern that goes wrong when the library misses one rule
//! (issue #15), one test per rule, so a failure names its cause. The matrix of every path on
//! every setup mode is in usage_raw_poll.rs, usage_raw_wait.rs and usage_owned_reap.rs.
//!
//! Loops that could spin forever are bounded (a thousand passes): they fail with a message, not
//! a hang. Calls that block forever run under the watchdog.

mod common;
#[path = "common/usage.rs"]
mod usage;

use std::time::{Duration, Instant};

use uring::owned::{Nop, OwnedRing};
use uring::{op, Ring};
use usage::{watchdog, BURST, CQ, SQ};

/// Passes a polling loop may take before the test calls a completion lost.
const PASSES: u32 = 1000;

/// A ring of 4 SQ and 8 CQ entries with [`BURST`] NOPs (user_data 0..12) pushed and submitted,
/// none reaped: 4 of them wait in the kernel's overflow list.
fn overflowed(mut ring: Ring) -> Ring {
    for ud in 0..BURST as u64 {
        if ring.sq().push(&op::Nop::new().build().user_data(ud)).is_err() {
            ring.submit().unwrap();
            ring.sq().push(&op::Nop::new().build().user_data(ud)).unwrap();
        }
    }
    ring.submit().unwrap();
    assert_eq!(ring.cq().ready(), CQ);
    assert!(ring.sq().cq_overflow(), "the CQ overflowed");
    ring
}

/// Marks `ud` seen; panics on a second time.
fn see(seen: &mut [bool], ud: u64) {
    assert!(!std::mem::replace(&mut seen[ud as usize], true), "user_data {ud} twice");
}

/// `loop { submit; iter }` sees the completions that overflowed (liburing's `io_uring_submit`
/// enters with `IORING_ENTER_GETEVENTS` when `IORING_SQ_CQ_OVERFLOW` is set).
#[test]
fn submit_then_iter_sees_overflowed_completions() {
    let mut ring = overflowed(Ring::builder().cq_entries(CQ).build(SQ).unwrap());
    let mut seen = [false; BURST as usize];
    for _ in 0..PASSES {
        ring.submit().unwrap();
        for cqe in ring.cq().iter() {
            see(&mut seen, cqe.user_data());
        }
        if seen.iter().all(|&s| s) {
            return;
        }
    }
    let n = seen.iter().filter(|&&s| s).count();
    panic!("{PASSES} passes of submit + iter saw {n} of {BURST} completions: submit never flushes the overflow");
}

/// `loop { submit; iter }` sees reads that complete through task work on a `DEFER_TASKRUN` +
/// `TASKRUN_FLAG` ring (`IORING_SQ_TASKRUN` set: liburing's submit enters with `GETEVENTS`).
#[test]
fn submit_then_iter_runs_flagged_task_work() {
    let test = "submit_then_iter_runs_flagged_task_work";
    let mut ring = match Ring::builder().single_issuer().defer_taskrun().taskrun_flag().build(SQ) {
        Ok(r) => r,
        Err(e) if common::is_einval(&e) => {
            return common::skip(test, "kernel lacks DEFER_TASKRUN + TASKRUN_FLAG (6.1)");
        }
        Err(e) => panic!("{e}"),
    };
    let pipes: Vec<_> = (0..SQ).map(|_| rustix::pipe::pipe().unwrap()).collect();
    // Leaked: the reads may outlive a failed test.
    let bufs: &'static mut [[u8; 8]] = Box::leak(vec![[0u8; 8]; SQ as usize].into_boxed_slice());
    for (i, ((r, _), buf)) in pipes.iter().zip(bufs.iter_mut()).enumerate() {
        let sqe = op::Read::new(r, &mut buf[..]).unwrap().offset(u64::MAX).build().user_data(i as u64);
        // SAFETY: the buffer is leaked (it lives for the whole process) and not used again.
        unsafe { ring.sq().push_raw(&sqe) }.unwrap();
    }
    ring.submit().unwrap();
    for (_, w) in &pipes {
        rustix::io::write(w, b"x").unwrap();
    }
    let mut seen = [false; SQ as usize];
    for _ in 0..PASSES {
        ring.submit().unwrap();
        for cqe in ring.cq().iter() {
            assert_eq!(cqe.result(), Ok(1));
            see(&mut seen, cqe.user_data());
        }
        if seen.iter().all(|&s| s) {
            return;
        }
        std::thread::yield_now();
    }
    let flagged = ring.sq().taskrun();
    let n = seen.iter().filter(|&&s| s).count();
    panic!(
        "{PASSES} passes of submit + iter saw {n} of {SQ} reads (IORING_SQ_TASKRUN {flagged}): submit never runs \
         flagged task work"
    );
}

/// `loop { submit; while next }` on an owned ring sees the completions that overflowed.
#[test]
fn owned_submit_then_next_sees_overflowed_completions() {
    let mut ring = OwnedRing::new(SQ).unwrap();
    let mut ids = Vec::new();
    for _ in 0..CQ {
        if let Ok(id) = ring.push(Nop) {
            ids.push(id);
        } else {
            ring.submit().unwrap();
            ids.push(ring.push(Nop).unwrap());
        }
    }
    ring.submit().unwrap();
    for ud in 0..SQ as u64 {
        ring.push_safe(&op::Nop::new().build().user_data(ud)).unwrap();
    }
    ring.submit().unwrap();
    let mut owned = 0;
    let mut raw = 0;
    for _ in 0..PASSES {
        ring.submit().unwrap();
        while let Some(c) = ring.next() {
            if c.id().is_some() {
                owned += 1;
            } else {
                raw += 1;
            }
        }
        if owned + raw == BURST {
            assert_eq!((owned, raw), (CQ, SQ));
            assert_eq!(ring.in_flight(), 0);
            return;
        }
    }
    panic!(
        "{PASSES} passes of submit + next saw {} of {BURST} completions: submit never flushes the overflow",
        owned + raw
    );
}

/// `pop_batch` sees the completions that overflowed, as `io_uring_peek_batch_cqe` does (it
/// enters the kernel when the CQ is empty and the overflow flag is set).
#[test]
fn pop_batch_sees_overflowed_completions() {
    let mut ring = overflowed(Ring::builder().cq_entries(CQ).build(SQ).unwrap());
    let mut out = [uring::Cqe::new(0, 0, 0); 16];
    let first = ring.cq().pop_batch(&mut out);
    assert_eq!(first, CQ as usize, "the CQ's completions");
    let second = ring.cq().pop_batch(&mut out);
    assert_eq!(second, (BURST - CQ) as usize, "pop_batch on an empty CQ with completions in the overflow list");
}

/// The README's loop, past twice the ring: `push(Nop)`, `wait()`, twenty times.
#[test]
fn owned_push_wait_loop_past_the_ring() {
    watchdog("owned_push_wait_loop_past_the_ring", |w| {
        let mut ring = OwnedRing::new(SQ).unwrap();
        for _ in 0..20 {
            w.at("OwnedRing::push");
            ring.push(Nop).unwrap();
            w.at("OwnedRing::wait");
            let c = ring.wait().unwrap();
            assert_eq!(c.result(), Ok(0));
            drop(c);
            w.completed();
        }
    });
}

/// An SQPOLL ring whose thread sleeps: `push`, then `wait_cqe` (which submits) must wake it.
#[test]
fn sqpoll_asleep_push_then_wait_cqe() {
    sqpoll_asleep_push_then("sqpoll_asleep_push_then_wait_cqe", "Ring::wait_cqe", |ring| {
        ring.wait_cqe().unwrap();
    });
}

/// An SQPOLL ring whose thread sleeps: `push`, then `wait_cqes(1)` (which submits) must wake
/// it.
#[test]
fn sqpoll_asleep_push_then_wait_cqes() {
    sqpoll_asleep_push_then("sqpoll_asleep_push_then_wait_cqes", "Ring::wait_cqes", |ring| {
        ring.wait_cqes(1).unwrap();
        ring.cq().pop().unwrap();
    });
}

fn sqpoll_asleep_push_then(test: &'static str, label: &'static str, wait: fn(&mut Ring)) {
    watchdog(test, move |w| {
        let mut ring = match Ring::builder().sqpoll(1).build(SQ) {
            Ok(r) => r,
            Err(e) => return common::skip(test, format!("SQPOLL ring refused: {e}")),
        };
        for round in 0..3 {
            w.at("(waiting for the SQPOLL thread to sleep)");
            let deadline = Instant::now() + Duration::from_secs(1);
            while !ring.sq().need_wakeup() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(1));
            }
            assert!(ring.sq().need_wakeup(), "the SQPOLL thread never slept");
            ring.sq().push(&op::Nop::new().build().user_data(round)).unwrap();
            w.at(label);
            wait(&mut ring);
            w.completed();
        }
    });
}
