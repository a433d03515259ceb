//! Timeouts on a real ring: count and time based, absolute, update, remove, linked timeouts,
//! multishot and immediate-argument timeouts.

mod common;

use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

use uring::op::{self, LinkTimeout, Timeout, TimeoutClock, TimeoutImmediate, TimeoutRemove, TimeoutUpdate, Timespec};
use uring::{Cqe, Errno, Probe, Ring, SqeFlags};

fn pipe() -> (OwnedFd, OwnedFd) {
    rustix::pipe::pipe().unwrap()
}

/// A ring, or `None` (after printing why) when the kernel lacks one of `ops`.
fn ring_for(test: &str, ops: &[(u8, &str)]) -> Option<Ring> {
    let ring = Ring::new(16).unwrap();
    let probe = Probe::of(&ring).unwrap();
    for (op, name) in ops {
        if !probe.is_supported(*op) {
            common::skip(test, format!("kernel lacks {name}"));
            return None;
        }
    }
    Some(ring)
}

const TIMEOUT: (u8, &str) = (Timeout::CODE, "IORING_OP_TIMEOUT");

/// Submits what is queued, waits for `n` completions and returns them sorted by user_data.
fn reap(ring: &mut Ring, n: u32) -> Vec<Cqe> {
    ring.submit_and_wait(n).unwrap();
    let mut v: Vec<Cqe> = Vec::new();
    while (v.len() as u32) < n {
        match ring.cq().pop() {
            Some(c) => v.push(c),
            None => {
                ring.submit_and_wait(1).unwrap();
            }
        }
    }
    v.sort_by_key(|c| c.user_data());
    v
}

/// Pushes a read of `buf` from `fd` (raw: the typed read encoder is another family's).
fn read_sqe(fd: &OwnedFd, buf: &mut [u8]) -> uring::Sqe {
    op::prep_rw(uring::uapi::IORING_OP_READ, fd.as_raw_fd(), buf.as_mut_ptr() as u64, buf.len() as u32, u64::MAX)
}

/// The current time on `clock`.
fn now(clock: rustix::time::ClockId) -> Duration {
    let ts = rustix::time::clock_gettime(clock);
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

#[test]
fn timeout_count_completes_after_n_cqes() {
    let Some(mut ring) = ring_for("timeout_count_completes_after_n_cqes", &[TIMEOUT]) else { return };
    let ts = Timespec::from(Duration::from_secs(10));
    let start = Instant::now();
    // SAFETY: `ts` lives until the timeout's completion is reaped below.
    unsafe { ring.sq().push_raw(&Timeout::new(&ts).count(2).build().user_data(1)) }.unwrap();
    ring.sq().push(&op::Nop::new().build().user_data(2)).unwrap();
    ring.sq().push(&op::Nop::new().build().user_data(3)).unwrap();
    let got = reap(&mut ring, 3);
    assert_eq!(got[0].user_data(), 1);
    assert_eq!(got[0].result(), Ok(0), "a count-satisfied timeout completes with 0");
    assert!(start.elapsed() < Duration::from_secs(5), "the count, not the time, ended it");
}

#[test]
fn timeout_relative_expires_with_etime() {
    let Some(mut ring) = ring_for("timeout_relative_expires_with_etime", &[TIMEOUT]) else { return };
    let ts = Timespec::from(Duration::from_millis(30));
    let start = Instant::now();
    // SAFETY: `ts` lives until the completion is reaped below.
    unsafe { ring.sq().push_raw(&Timeout::new(&ts).build().user_data(1)) }.unwrap();
    let got = reap(&mut ring, 1);
    assert_eq!(got[0].result(), Err(Errno::TIME));
    assert!(start.elapsed() >= Duration::from_millis(25), "expired after {:?}", start.elapsed());
}

/// An expired timeout fails its link chain; with ETIME_SUCCESS the chain goes on (the timeout
/// still reports -ETIME).
#[test]
fn timeout_etime_success_keeps_link_chain() {
    let Some(mut ring) = ring_for("timeout_etime_success_keeps_link_chain", &[TIMEOUT]) else { return };
    let ts = Timespec::from(Duration::from_millis(5));
    // SAFETY: `ts` lives until the completions are reaped below.
    unsafe { ring.sq().push_raw(&Timeout::new(&ts).build().user_data(1).flags(SqeFlags::IO_LINK)) }.unwrap();
    ring.sq().push(&op::Nop::new().build().user_data(2)).unwrap();
    let got = reap(&mut ring, 2);
    assert_eq!(got[0].result(), Err(Errno::TIME));
    assert_eq!(got[1].result(), Err(Errno::CANCELED), "a plain expiry breaks the chain");
    // SAFETY: as above.
    unsafe { ring.sq().push_raw(&Timeout::new(&ts).etime_success().build().user_data(3).flags(SqeFlags::IO_LINK)) }
        .unwrap();
    ring.sq().push(&op::Nop::new().build().user_data(4)).unwrap();
    let got = reap(&mut ring, 2);
    assert_eq!(got[0].result(), Err(Errno::TIME));
    assert_eq!(got[1].result(), Ok(0), "ETIME_SUCCESS lets the linked entry run");
}

#[test]
fn timeout_absolute_on_each_clock() {
    let Some(mut ring) = ring_for("timeout_absolute_on_each_clock", &[TIMEOUT]) else { return };
    for (clock, id) in [
        (TimeoutClock::Monotonic, rustix::time::ClockId::Monotonic),
        (TimeoutClock::Boottime, rustix::time::ClockId::Boottime),
        (TimeoutClock::Realtime, rustix::time::ClockId::Realtime),
    ] {
        let ts = Timespec::from(now(id) + Duration::from_millis(40));
        let start = Instant::now();
        // SAFETY: `ts` lives until the completion is reaped below.
        unsafe { ring.sq().push_raw(&Timeout::new(&ts).absolute().clock(clock).build().user_data(1)) }.unwrap();
        let got = reap(&mut ring, 1);
        if got[0].result() == Err(Errno::INVAL) && clock != TimeoutClock::Monotonic {
            common::skip("timeout_absolute_on_each_clock", format!("kernel lacks {clock:?} timeouts (5.15)"));
            continue;
        }
        assert_eq!(got[0].result(), Err(Errno::TIME), "{clock:?}");
        assert!(start.elapsed() >= Duration::from_millis(30), "{clock:?}: expired after {:?}", start.elapsed());
        assert!(start.elapsed() < Duration::from_secs(5), "{clock:?}: expired after {:?}", start.elapsed());
    }
}

#[test]
fn timeout_update_extends() {
    let Some(mut ring) =
        ring_for("timeout_update_extends", &[TIMEOUT, (TimeoutUpdate::CODE, "IORING_OP_TIMEOUT_REMOVE")])
    else {
        return;
    };
    let short = Timespec::from(Duration::from_millis(50));
    let long = Timespec::from(Duration::from_millis(300));
    let start = Instant::now();
    // SAFETY: both timespecs live until the completions are reaped below.
    unsafe {
        ring.sq().push_raw(&Timeout::new(&short).build().user_data(1)).unwrap();
        ring.submit().unwrap();
        ring.sq().push_raw(&TimeoutUpdate::new(&long, 1).build().user_data(2)).unwrap();
    }
    let got = reap(&mut ring, 1);
    assert_eq!((got[0].user_data(), got[0].result()), (2, Ok(0)), "the update itself");
    let got = reap(&mut ring, 1);
    assert_eq!((got[0].user_data(), got[0].result()), (1, Err(Errno::TIME)));
    assert!(start.elapsed() >= Duration::from_millis(250), "expired after {:?}: not extended", start.elapsed());
    // Updating a timeout that is gone fails with ENOENT.
    // SAFETY: `long` lives until the completion is reaped.
    unsafe { ring.sq().push_raw(&TimeoutUpdate::new(&long, 1).build().user_data(3)) }.unwrap();
    assert_eq!(reap(&mut ring, 1)[0].result(), Err(Errno::NOENT));
}

#[test]
fn timeout_remove_cancels() {
    let Some(mut ring) =
        ring_for("timeout_remove_cancels", &[TIMEOUT, (TimeoutRemove::CODE, "IORING_OP_TIMEOUT_REMOVE")])
    else {
        return;
    };
    let ts = Timespec::from(Duration::from_secs(10));
    // SAFETY: `ts` lives until the completion is reaped below.
    unsafe { ring.sq().push_raw(&Timeout::new(&ts).build().user_data(1)) }.unwrap();
    ring.submit().unwrap();
    ring.sq().push(&TimeoutRemove::new(1).build().user_data(2)).unwrap();
    let got = reap(&mut ring, 2);
    assert_eq!(got[0].result(), Err(Errno::CANCELED), "the timeout");
    assert_eq!(got[1].result(), Ok(0), "the removal");
    ring.sq().push(&TimeoutRemove::new(1).build().user_data(3)).unwrap();
    assert_eq!(reap(&mut ring, 1)[0].result(), Err(Errno::NOENT));
}

#[test]
fn link_timeout_cancels_linked_read() {
    let Some(mut ring) = ring_for("link_timeout_cancels_linked_read", &[(LinkTimeout::CODE, "IORING_OP_LINK_TIMEOUT")])
    else {
        return;
    };
    let (r, _w) = pipe();
    let mut buf = [0u8; 8];
    let ts = Timespec::from(Duration::from_millis(20));
    // SAFETY: `buf` and `ts` live until both completions are reaped below.
    unsafe {
        ring.sq().push_raw(&read_sqe(&r, &mut buf).user_data(1).flags(SqeFlags::IO_LINK)).unwrap();
        ring.sq().push_raw(&LinkTimeout::new(&ts).build().user_data(2)).unwrap();
    }
    let got = reap(&mut ring, 2);
    assert_eq!(got[0].result(), Err(Errno::CANCELED), "the read");
    assert_eq!(got[1].result(), Err(Errno::TIME), "the link timeout");
}

#[test]
fn link_timeout_not_reached() {
    let Some(mut ring) = ring_for("link_timeout_not_reached", &[(LinkTimeout::CODE, "IORING_OP_LINK_TIMEOUT")]) else {
        return;
    };
    let ts = Timespec::from(Duration::from_secs(10));
    // SAFETY: `ts` lives until both completions are reaped below.
    unsafe {
        ring.sq().push_raw(&op::Nop::new().build().into_sqe().user_data(1).flags(SqeFlags::IO_LINK)).unwrap();
        ring.sq().push_raw(&LinkTimeout::new(&ts).build().user_data(2)).unwrap();
    }
    let got = reap(&mut ring, 2);
    assert_eq!(got[0].result(), Ok(0));
    assert_eq!(got[1].result(), Err(Errno::CANCELED), "an unneeded link timeout is cancelled");
}

#[test]
fn link_timeout_update_shortens() {
    let Some(mut ring) = ring_for(
        "link_timeout_update_shortens",
        &[(LinkTimeout::CODE, "IORING_OP_LINK_TIMEOUT"), (TimeoutUpdate::CODE, "IORING_OP_TIMEOUT_REMOVE")],
    ) else {
        return;
    };
    let (r, _w) = pipe();
    let mut buf = [0u8; 8];
    let long = Timespec::from(Duration::from_secs(10));
    let short = Timespec::from(Duration::from_millis(20));
    let start = Instant::now();
    // SAFETY: `buf` and both timespecs live until every completion is reaped below.
    unsafe {
        ring.sq().push_raw(&read_sqe(&r, &mut buf).user_data(1).flags(SqeFlags::IO_LINK)).unwrap();
        ring.sq().push_raw(&LinkTimeout::new(&long).build().user_data(2)).unwrap();
        ring.submit().unwrap();
        ring.sq().push_raw(&TimeoutUpdate::new(&short, 2).link().build().user_data(3)).unwrap();
    }
    let got = reap(&mut ring, 3);
    if got[2].result() == Err(Errno::INVAL) {
        common::skip("link_timeout_update_shortens", "kernel lacks IORING_LINK_TIMEOUT_UPDATE (5.15)");
        return;
    }
    assert_eq!(got[2].result(), Ok(0), "the update");
    assert_eq!(got[0].result(), Err(Errno::CANCELED), "the read");
    assert_eq!(got[1].result(), Err(Errno::TIME), "the link timeout");
    assert!(start.elapsed() < Duration::from_secs(5), "the update shortened the limit");
}

#[test]
fn timeout_multishot_fires_repeatedly() {
    let Some(mut ring) = ring_for("timeout_multishot_fires_repeatedly", &[TIMEOUT]) else { return };
    let ts = Timespec::from(Duration::from_millis(10));
    // SAFETY: `ts` lives until every completion is reaped below.
    unsafe { ring.sq().push_raw(&Timeout::new(&ts).multishot(3).build().user_data(1)) }.unwrap();
    let mut shots = Vec::new();
    ring.submit().unwrap();
    loop {
        let cqe = ring.wait_cqe().unwrap();
        if shots.is_empty() && cqe.result() == Err(Errno::INVAL) {
            common::skip("timeout_multishot_fires_repeatedly", "kernel lacks IORING_TIMEOUT_MULTISHOT (6.4)");
            return;
        }
        assert_eq!(cqe.result(), Err(Errno::TIME));
        shots.push(cqe.more());
        if !cqe.more() {
            break;
        }
    }
    assert_eq!(shots, vec![true, true, false], "three expiries, the last without F_MORE");
}

#[test]
fn timeout_immediate_arg() {
    let Some(mut ring) = ring_for("timeout_immediate_arg", &[TIMEOUT]) else { return };
    let start = Instant::now();
    ring.sq().push(&TimeoutImmediate::new(Duration::from_millis(30)).unwrap().build().user_data(1)).unwrap();
    let got = reap(&mut ring, 1);
    if got[0].result() == Err(Errno::INVAL) {
        common::skip("timeout_immediate_arg", "kernel lacks IORING_TIMEOUT_IMMEDIATE_ARG (Linux 7.1)");
        return;
    }
    assert_eq!(got[0].result(), Err(Errno::TIME));
    assert!(start.elapsed() >= Duration::from_millis(25));
}

/// `Duration::MAX` used to become `tv_sec = -1` (`as_secs() as i64`), which the kernel refuses
/// with `EINVAL` (timeouts) or treats as already expired (waits). It now saturates at
/// `i64::MAX` seconds: a timeout that lasts "forever" and a wait that waits.
#[test]
fn duration_max_saturates_instead_of_going_negative() {
    let Some(mut ring) = ring_for("duration_max_saturates_instead_of_going_negative", &[TIMEOUT]) else { return };
    let forever = Timespec::from(Duration::MAX);
    assert_eq!((forever.as_raw().tv_sec, forever.as_raw().tv_nsec), (i64::MAX, 999_999_999));
    // A count timeout of "forever" is accepted and ends by its count.
    // SAFETY: `forever` lives until the timeout's completion is reaped below.
    unsafe { ring.sq().push_raw(&Timeout::new(&forever).count(1).build().user_data(1)) }.unwrap();
    ring.sq().push(&op::Nop::new().build().user_data(2)).unwrap();
    let got = reap(&mut ring, 2);
    assert_eq!(got[0].result(), Ok(0), "a saturated timeout is valid and ended by its count: {:?}", got[0]);
    // The ring's own wait: `Duration::MAX` waits for the 30 ms timeout instead of returning at
    // once. A watchdog fails the test if the wait never returns.
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = done.clone();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(20));
        if !flag.load(std::sync::atomic::Ordering::SeqCst) {
            eprintln!("watchdog: stuck in Ring::submit_and_wait_timeout(1, Duration::MAX) for 20 s");
            std::process::abort();
        }
    });
    let short = Timespec::from(Duration::from_millis(30));
    // SAFETY: `short` lives until the timeout's completion is reaped below.
    unsafe { ring.sq().push_raw(&Timeout::new(&short).build().user_data(3)) }.unwrap();
    let start = Instant::now();
    ring.submit_and_wait_timeout(1, Duration::MAX).unwrap();
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    assert!(start.elapsed() >= Duration::from_millis(20), "waited for the timeout: {:?}", start.elapsed());
    let c = ring.cq().pop().expect("the timeout's completion");
    assert_eq!((c.user_data(), c.result()), (3, Err(Errno::TIME)));
}
