//! NOP round trips through real rings: depths, full queues, CQ overflow, waits and timeouts.

mod common;

use std::time::{Duration, Instant};

use uring::{op, Features, Ring};

/// Every power-of-two depth from 1 to 32768: the SQ takes exactly `depth` entries, one more is
/// refused, and every CQE comes back exactly once.
#[test]
fn nop_round_trip_every_depth() {
    let mut depth = 1u32;
    while depth <= 32768 {
        let mut ring = Ring::new(depth).unwrap();
        assert_eq!(ring.sq().capacity(), depth);
        assert_eq!(ring.cq().capacity(), 2 * depth);
        for i in 0..depth {
            ring.sq().push(&op::Nop::new().build().user_data(i as u64)).unwrap();
        }
        assert!(ring.sq().push(&op::Nop::new().build()).is_err(), "depth {depth}: push past full");
        assert_eq!(ring.sq().space_left(), 0);
        assert_eq!(ring.submit_and_wait(depth).unwrap(), depth);
        let mut seen = vec![false; depth as usize];
        for cqe in ring.cq().iter() {
            assert_eq!(cqe.result(), Ok(0));
            assert!(!std::mem::replace(&mut seen[cqe.user_data() as usize], true), "duplicate");
        }
        assert!(seen.iter().all(|&s| s), "depth {depth}: missing completions");
        assert_eq!(ring.cq().ready(), 0);
        assert_eq!(ring.sq().space_left(), depth);
        depth *= 2;
    }
}

/// Space accounting of the SQ: space_left / ready / unflushed through push, flush and submit.
#[test]
fn sq_space_accounting() {
    let mut ring = Ring::new(8).unwrap();
    assert_eq!(ring.sq().space_left(), 8);
    assert_eq!(ring.sq().ready(), 0);
    for i in 0..5 {
        ring.sq().push(&op::Nop::new().build().user_data(i)).unwrap();
    }
    assert_eq!(ring.sq().space_left(), 3);
    assert_eq!(ring.sq().ready(), 5);
    assert_eq!(ring.sq().unflushed(), 5);
    assert_eq!(ring.sq().flush(), 5);
    assert_eq!(ring.sq().unflushed(), 0);
    assert_eq!(ring.submit().unwrap(), 5);
    assert_eq!(ring.sq().ready(), 0);
    assert_eq!(ring.sq().space_left(), 8);
    assert_eq!(ring.cq().ready(), 5);
    // push_multiple is all-or-nothing
    let batch = [op::Nop::new().build(); 9];
    assert!(ring.sq().push_multiple(&batch).is_err());
    assert_eq!(ring.sq().space_left(), 8);
    ring.sq().push_multiple(&batch[..8]).unwrap();
    assert!(ring.sq().is_full());
    assert_eq!(ring.submit().unwrap(), 8);
    let mut out = [uring::Cqe::new(0, 0, 0); 32];
    assert_eq!(ring.cq().pop_batch(&mut out), 13);
    // The batch handle: same accounting, state written back on drop.
    {
        let mut b = ring.sq().batch();
        for i in 0..8 {
            b.push(&op::Nop::new().build().user_data(100 + i)).unwrap();
        }
        assert_eq!(b.space_left(), 0);
        assert!(b.push(&op::Nop::new().build()).is_err());
    }
    assert_eq!(ring.sq().unflushed(), 8);
    assert_eq!(ring.submit_and_wait(8).unwrap(), 8);
    let ids: Vec<u64> = ring.cq().iter().map(|c| c.user_data()).collect();
    assert_eq!(ids, (100..108).collect::<Vec<_>>());
}

/// 1 M NOPs through an 8-entry CQ on a `FEAT_NODROP` kernel: the CQ overflows into the kernel's
/// backlog, the overflow flag shows, and every user_data still completes exactly once.
#[test]
fn cq_overflow_nodrop_million() {
    let mut ring = Ring::builder().cq_entries(8).build(8).unwrap();
    if !ring.features().contains(Features::NODROP) {
        common::skip("cq_overflow_nodrop_million", "kernel lacks IORING_FEAT_NODROP");
        return;
    }
    assert_eq!(ring.cq().capacity(), 8);
    const TOTAL: u64 = 1_000_000;
    let mut seen = vec![false; TOTAL as usize];
    let mut next = 0u64;
    let mut done = 0u64;
    let mut overflowed = false;
    while done < TOTAL {
        while next < TOTAL && ring.sq().space_left() > 0 {
            ring.sq().push(&op::Nop::new().build().user_data(next)).unwrap();
            next += 1;
        }
        ring.submit().unwrap();
        overflowed |= ring.sq().cq_overflow();
        // Reap only every fourth round, so completions pile up past the CQ.
        if next % 32 == 0 || next == TOTAL {
            while let Some(cqe) = ring.peek_cqe().unwrap() {
                assert_eq!(cqe.result(), Ok(0));
                let ud = cqe.user_data() as usize;
                assert!(!std::mem::replace(&mut seen[ud], true), "user_data {ud} twice");
                done += 1;
            }
        }
    }
    assert!(overflowed, "the CQ never overflowed");
    assert!(seen.iter().all(|&s| s));
    assert_eq!(ring.cq().overflow(), 0, "a NODROP kernel dropped completions");
}

/// A wait with a timeout and nothing in flight fails with ETIME after about the timeout.
#[test]
fn wait_timeout_is_etime() {
    let mut ring = Ring::new(4).unwrap();
    let start = Instant::now();
    let err = ring.wait_cqe_timeout(Duration::from_millis(20)).unwrap_err();
    assert!(err.is_errno(libc::ETIME), "{err}");
    assert!(start.elapsed() >= Duration::from_millis(15));
    let err =
        ring.wait_cqes_with(1, &uring::WaitArgs { timeout: Some(Duration::from_millis(5)), ..Default::default() });
    assert!(err.unwrap_err().is_errno(libc::ETIME));
}

/// submit_and_wait_timeout returns the number submitted even when the wait times out.
#[test]
fn submit_and_wait_timeout_returns_submitted() {
    let mut ring = Ring::new(8).unwrap();
    for i in 0..3 {
        ring.sq().push(&op::Nop::new().build().user_data(i)).unwrap();
    }
    let n = ring.submit_and_wait_timeout(8, Duration::from_millis(10)).unwrap();
    assert_eq!(n, 3);
    assert_eq!(ring.cq().ready(), 3);
    // Enough completions: returns at once.
    ring.cq().advance(3).unwrap();
    ring.sq().push(&op::Nop::new().build()).unwrap();
    let start = Instant::now();
    assert_eq!(ring.submit_and_wait_timeout(1, Duration::from_secs(5)).unwrap(), 1);
    assert!(start.elapsed() < Duration::from_secs(1));
}

/// Min-wait timeouts (Linux 6.12): with a long timeout and a short min-wait, the wait returns
/// after the min-wait once one completion is there.
#[test]
fn wait_min_timeout() {
    let mut ring = Ring::new(4).unwrap();
    if !ring.features().contains(Features::MIN_TIMEOUT) {
        common::skip("wait_min_timeout", "kernel lacks IORING_FEAT_MIN_TIMEOUT");
        return;
    }
    ring.sq().push(&op::Nop::new().build()).unwrap();
    ring.submit().unwrap();
    let start = Instant::now();
    let args = uring::WaitArgs {
        timeout: Some(Duration::from_secs(5)),
        min_wait: Some(Duration::from_millis(10)),
        ..Default::default()
    };
    ring.wait_cqes_with(4, &args).unwrap();
    assert!(start.elapsed() < Duration::from_secs(2), "min-wait did not cut the wait short");
    assert_eq!(ring.cq().ready(), 1);
}

/// wait_cqe submits what is pending and consumes one completion; peek returns None when empty.
#[test]
fn wait_and_peek() {
    let mut ring = Ring::new(4).unwrap();
    assert!(ring.peek_cqe().unwrap().is_none());
    ring.sq().push(&op::Nop::new().build().user_data(7)).unwrap();
    let cqe = ring.wait_cqe().unwrap();
    assert_eq!(cqe.user_data(), 7);
    assert!(ring.peek_cqe().unwrap().is_none());
    // NOP with an injected error result comes back as an errno.
    ring.sq().push(&op::Nop::new().inject_result(-libc::EBADF).build().user_data(8)).unwrap();
    let cqe = ring.wait_cqe().unwrap();
    if cqe.raw_result() == -libc::EINVAL {
        common::skip("wait_and_peek", "the injected-result part: kernel lacks IORING_NOP_INJECT_RESULT (6.12)");
        return;
    }
    assert_eq!(cqe.result(), Err(uring::Errno::BADF));
}

/// Registered ring fd: every later enter goes through the index; unregister restores the fd.
#[test]
fn registered_ring_fd() {
    let mut ring = Ring::new(4).unwrap();
    let idx = ring.register_ring_fd().unwrap();
    assert!(ring.submitter().is_ring_fd_registered());
    assert_eq!(ring.submitter().enter_fd(), idx as i32);
    ring.sq().push(&op::Nop::new().build().user_data(1)).unwrap();
    assert_eq!(ring.submit_and_wait(1).unwrap(), 1);
    assert_eq!(ring.cq().pop().unwrap().user_data(), 1);
    // Register calls use the index too (probe works).
    let probe = uring::Probe::of(&ring).unwrap();
    assert!(probe.is_supported(uring::uapi::IORING_OP_NOP));
    assert!(ring.register_ring_fd().is_err(), "double registration");
    if ring.features().contains(Features::REG_REG_RING) {
        ring.close_ring_fd().unwrap();
        assert!(ring.submitter().fd().is_none());
        ring.sq().push(&op::Nop::new().build().user_data(2)).unwrap();
        assert_eq!(ring.wait_cqe().unwrap().user_data(), 2);
    } else {
        ring.unregister_ring_fd().unwrap();
        assert!(!ring.submitter().is_ring_fd_registered());
        ring.sq().push(&op::Nop::new().build().user_data(2)).unwrap();
        assert_eq!(ring.wait_cqe().unwrap().user_data(), 2);
    }
}

/// eventfd notifications can be switched off and on through the CQ flags word.
#[test]
fn eventfd_toggle() {
    use std::os::fd::AsRawFd;
    let mut ring = Ring::new(4).unwrap();
    let efd = rustix::event::eventfd(0, rustix::event::EventfdFlags::NONBLOCK).unwrap();
    let fd: i32 = efd.as_raw_fd();
    // SAFETY: one valid fd number, as IORING_REGISTER_EVENTFD expects.
    unsafe { ring.submitter().register_raw(uring::uapi::IORING_REGISTER_EVENTFD, &fd as *const i32 as *const _, 1) }
        .unwrap();
    let read = |efd: &std::os::fd::OwnedFd| {
        let mut b = [0u8; 8];
        rustix::io::read(efd, &mut b).map(|_| u64::from_ne_bytes(b)).unwrap_or(0)
    };
    assert!(ring.cq().eventfd_enabled());
    ring.sq().push(&op::Nop::new().build()).unwrap();
    ring.submit_and_wait(1).unwrap();
    assert!(read(&efd) >= 1, "eventfd fired");
    ring.cq().set_eventfd_enabled(false).unwrap();
    assert!(!ring.cq().eventfd_enabled());
    ring.sq().push(&op::Nop::new().build()).unwrap();
    ring.submit_and_wait(1).unwrap();
    assert_eq!(read(&efd), 0, "disabled: no notification");
    ring.cq().set_eventfd_enabled(true).unwrap();
    ring.sq().push(&op::Nop::new().build()).unwrap();
    ring.submit_and_wait(1).unwrap();
    assert!(read(&efd) >= 1, "enabled again");
}

/// iowait accounting can be switched off where the kernel has IORING_ENTER_NO_IOWAIT.
#[test]
fn set_iowait() {
    let mut ring = Ring::new(4).unwrap();
    match ring.set_iowait(false) {
        Ok(()) => {
            ring.sq().push(&op::Nop::new().build().user_data(3)).unwrap();
            assert_eq!(ring.wait_cqe().unwrap().user_data(), 3, "waits still work without iowait");
            ring.set_iowait(true).unwrap();
        }
        Err(uring::Error::Unsupported { what }) => common::skip("set_iowait", what),
        Err(e) => panic!("{e}"),
    }
}

/// submit_and_get_events submits and makes completions visible without waiting.
#[test]
fn submit_and_get_events() {
    let mut ring = Ring::builder().defer_taskrun().build(4).unwrap();
    ring.sq().push(&op::Nop::new().task_work().build().user_data(4)).unwrap();
    assert_eq!(ring.submit_and_get_events().unwrap(), 1);
    // On a DEFER_TASKRUN ring the task-work completion is visible only because the same enter
    // asked for events.
    let cqe = ring.cq().pop().expect("completion visible after submit_and_get_events");
    assert_eq!(cqe.user_data(), 4);
}
