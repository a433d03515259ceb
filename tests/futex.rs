//! Futex operations on a real ring: wait then wake from another entry, value mismatch, waitv,
//! and a wake from another thread through the futex2 system call.

mod common;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use uring::op::{FutexWait, FutexWaitv, FutexWaitvEntry, FutexWake};
use uring::{Errno, Probe, Ring};

/// A ring, or `None` (after printing why) when the kernel lacks the futex operations.
fn ring_for(test: &str) -> Option<Ring> {
    let ring = Ring::new(8).unwrap();
    let probe = Probe::of(&ring).unwrap();
    for (op, name) in [
        (FutexWait::CODE, "IORING_OP_FUTEX_WAIT (6.7)"),
        (FutexWake::CODE, "IORING_OP_FUTEX_WAKE (6.7)"),
        (FutexWaitv::CODE, "IORING_OP_FUTEX_WAITV (6.7)"),
    ] {
        if !probe.is_supported(op) {
            common::skip(test, format!("kernel lacks {name}"));
            return None;
        }
    }
    Some(ring)
}

/// Asserts that nothing completes for a short while.
fn assert_idle(ring: &mut Ring, what: &str) {
    ring.submit().unwrap();
    std::thread::sleep(Duration::from_millis(20));
    assert!(ring.peek_cqe().unwrap().is_none(), "{what}");
}

#[test]
fn futex_wait_then_wake() {
    let Some(mut ring) = ring_for("futex_wait_then_wake") else { return };
    for private in [false, true] {
        let word = AtomicU32::new(0);
        let wait = if private { FutexWait::new(&word, 0).private() } else { FutexWait::new(&word, 0) };
        // SAFETY: `word` lives until the wait's completion is reaped below.
        unsafe { ring.sq().push_raw(&wait.build().user_data(1)) }.unwrap();
        assert_idle(&mut ring, "a futex wait completed before any wake");
        word.store(1, Ordering::Release);
        let wake = if private { FutexWake::new(&word, 1).private() } else { FutexWake::new(&word, 1) };
        // SAFETY: as above.
        unsafe { ring.sq().push_raw(&wake.build().user_data(2)) }.unwrap();
        ring.submit_and_wait(2).unwrap();
        let mut got: Vec<_> = ring.cq().iter().map(|c| (c.user_data(), c.result())).collect();
        got.sort_by_key(|c| c.0);
        assert_eq!(got, vec![(1, Ok(0)), (2, Ok(1))], "private={private}: the waiter woke, one woken");
    }
}

#[test]
fn futex_wait_value_mismatch() {
    let Some(mut ring) = ring_for("futex_wait_value_mismatch") else { return };
    let word = AtomicU32::new(5);
    // SAFETY: `word` lives until the completion is reaped below.
    unsafe { ring.sq().push_raw(&FutexWait::new(&word, 4).private().build().user_data(1)) }.unwrap();
    ring.submit_and_wait(1).unwrap();
    let cqe = ring.cq().pop().unwrap();
    assert_eq!(cqe.result(), Err(Errno::AGAIN));
}

#[test]
fn futex_wake_with_no_waiters() {
    let Some(mut ring) = ring_for("futex_wake_with_no_waiters") else { return };
    let word = AtomicU32::new(0);
    // SAFETY: `word` lives until the completion is reaped below.
    unsafe { ring.sq().push_raw(&FutexWake::new(&word, 10).build().user_data(1)) }.unwrap();
    ring.submit_and_wait(1).unwrap();
    assert_eq!(ring.cq().pop().unwrap().result(), Ok(0));
}

#[test]
fn futex_masks_select_waiters() {
    let Some(mut ring) = ring_for("futex_masks_select_waiters") else { return };
    let word = AtomicU32::new(0);
    // SAFETY: `word` lives until every completion is reaped below.
    unsafe {
        ring.sq().push_raw(&FutexWait::new(&word, 0).mask(0b01).private().build().user_data(1)).unwrap();
        ring.sq().push_raw(&FutexWait::new(&word, 0).mask(0b10).private().build().user_data(2)).unwrap();
    }
    assert_idle(&mut ring, "futex waits completed before any wake");
    // SAFETY: as above.
    unsafe { ring.sq().push_raw(&FutexWake::new(&word, u32::MAX).mask(0b10).private().build().user_data(3)) }.unwrap();
    ring.submit_and_wait(2).unwrap();
    let mut got: Vec<_> = ring.cq().iter().map(|c| (c.user_data(), c.result())).collect();
    got.sort_by_key(|c| c.0);
    assert_eq!(got, vec![(2, Ok(0)), (3, Ok(1))], "only the waiter with a matching mask woke");
    // SAFETY: as above.
    unsafe { ring.sq().push_raw(&FutexWake::new(&word, 1).mask(0b01).private().build().user_data(4)) }.unwrap();
    ring.submit_and_wait(2).unwrap();
    let mut got: Vec<_> = ring.cq().iter().map(|c| (c.user_data(), c.result())).collect();
    got.sort_by_key(|c| c.0);
    assert_eq!(got, vec![(1, Ok(0)), (4, Ok(1))]);
}

#[test]
fn futex_waitv_reports_woken_index() {
    let Some(mut ring) = ring_for("futex_waitv_reports_woken_index") else { return };
    let a = AtomicU32::new(0);
    let b = AtomicU32::new(0);
    let c = AtomicU32::new(7);
    let entries =
        [FutexWaitvEntry::new(&a, 0).private(), FutexWaitvEntry::new(&b, 0).private(), FutexWaitvEntry::new(&c, 7)];
    // SAFETY: `entries` and the words they name live until the completion is reaped below.
    unsafe { ring.sq().push_raw(&FutexWaitv::new(&entries).unwrap().build().user_data(1)) }.unwrap();
    assert_idle(&mut ring, "waitv completed before any wake");
    // Wake the second futex.
    // SAFETY: `b` lives until the completion is reaped.
    unsafe { ring.sq().push_raw(&FutexWake::new(&b, 1).private().build().user_data(2)) }.unwrap();
    ring.submit_and_wait(2).unwrap();
    let mut got: Vec<_> = ring.cq().iter().map(|c| (c.user_data(), c.result())).collect();
    got.sort_by_key(|c| c.0);
    assert_eq!(got, vec![(1, Ok(1)), (2, Ok(1))], "waitv reports the index of the woken futex");
}

#[test]
fn futex_wait_woken_by_another_thread() {
    let Some(mut ring) = ring_for("futex_wait_woken_by_another_thread") else { return };
    let word = Arc::new(AtomicU32::new(0));
    // SAFETY: `word` (an Arc kept here) lives until the completion is reaped below.
    unsafe { ring.sq().push_raw(&FutexWait::new(&word, 0).build().user_data(1)) }.unwrap();
    ring.submit().unwrap();
    let w = word.clone();
    let waker = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(20));
        w.store(1, Ordering::Release);
        // A shared (non-private) futex is woken by the classic FUTEX_WAKE call too.
        // SAFETY: the futex syscall with a valid address; it only uses the address as a key.
        unsafe { libc::syscall(libc::SYS_futex, w.as_ptr(), libc::FUTEX_WAKE, 1, 0, 0, 0) }
    });
    let cqe = ring.wait_cqe().unwrap();
    assert_eq!((cqe.user_data(), cqe.result()), (1, Ok(0)));
    assert_eq!(waker.join().unwrap(), 1, "the thread woke one waiter");
}
