//! Cancellation on a real ring: by user_data, by fd (plain and registered), by opcode, any, all,
//! and the -ENOENT answer for a request that does not exist.

mod common;

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::time::Duration;

use uring::op::{self, AsyncCancel, Fixed, PollAdd, PollEvents, Target};
use uring::uapi::{IORING_OP_POLL_ADD, IORING_OP_READ, IORING_REGISTER_FILES};
use uring::{Cqe, Errno, Probe, Ring, SqeFlags};

fn pipe() -> (OwnedFd, OwnedFd) {
    rustix::pipe::pipe().unwrap()
}

/// A ring, or `None` (after printing why) when the kernel lacks `IORING_OP_ASYNC_CANCEL`.
fn ring_for(test: &str) -> Option<Ring> {
    let ring = Ring::new(16).unwrap();
    if !Probe::of(&ring).unwrap().is_supported(AsyncCancel::CODE) {
        common::skip(test, "kernel lacks IORING_OP_ASYNC_CANCEL");
        return None;
    }
    Some(ring)
}

/// A read of `buf` from `target` (raw: the typed read encoder is another family's).
fn read_sqe(target: Target, buf: &mut [u8]) -> uring::Sqe {
    let sqe = op::prep_rw(IORING_OP_READ, target.sqe_fd(), buf.as_mut_ptr() as u64, buf.len() as u32, u64::MAX);
    if target.is_fixed() {
        sqe.flags(SqeFlags::FIXED_FILE)
    } else {
        sqe
    }
}

/// Submits what is queued, waits for `n` completions and returns them sorted by user_data.
fn reap(ring: &mut Ring, n: u32) -> Vec<Cqe> {
    let mut v: Vec<Cqe> = Vec::new();
    ring.submit().unwrap();
    while (v.len() as u32) < n {
        v.push(ring.wait_cqe().unwrap());
    }
    v.sort_by_key(|c| c.user_data());
    v
}

/// Asserts that nothing completes for a short while (the reads are really pending).
fn assert_idle(ring: &mut Ring) {
    ring.submit().unwrap();
    std::thread::sleep(Duration::from_millis(20));
    assert!(ring.peek_cqe().unwrap().is_none(), "a read of an empty pipe completed");
}

fn results(cqes: &[Cqe]) -> Vec<(u64, Result<u32, Errno>)> {
    cqes.iter().map(|c| (c.user_data(), c.result())).collect()
}

#[test]
fn cancel_by_user_data() {
    let Some(mut ring) = ring_for("cancel_by_user_data") else { return };
    let (r, _w) = pipe();
    let mut buf = [0u8; 8];
    // SAFETY: `buf` lives until the read's completion is reaped below.
    unsafe { ring.sq().push_raw(&read_sqe((&r).into(), &mut buf).user_data(1)) }.unwrap();
    assert_idle(&mut ring);
    ring.sq().push(&AsyncCancel::user_data(1).build().user_data(2)).unwrap();
    assert_eq!(results(&reap(&mut ring, 2)), vec![(1, Err(Errno::CANCELED)), (2, Ok(0))]);
}

#[test]
fn cancel_unknown_user_data_is_enoent() {
    let Some(mut ring) = ring_for("cancel_unknown_user_data_is_enoent") else { return };
    ring.sq().push(&AsyncCancel::user_data(0x5eed).build().user_data(9)).unwrap();
    assert_eq!(results(&reap(&mut ring, 1)), vec![(9, Err(Errno::NOENT))]);
}

#[test]
fn cancel_by_fd_all() {
    let Some(mut ring) = ring_for("cancel_by_fd_all") else { return };
    let (r1, _w1) = pipe();
    let (r2, _w2) = pipe();
    let mut bufs = [[0u8; 8]; 3];
    let [b1, b2, b3] = &mut bufs;
    // SAFETY: the buffers live until every completion is reaped below.
    unsafe {
        ring.sq().push_raw(&read_sqe((&r1).into(), b1).user_data(1)).unwrap();
        ring.sq().push_raw(&read_sqe((&r1).into(), b2).user_data(2)).unwrap();
        ring.sq().push_raw(&read_sqe((&r2).into(), b3).user_data(3)).unwrap();
    }
    assert_idle(&mut ring);
    // SAFETY: `r1` stays open until the request's final completion is reaped below.
    unsafe { ring.sq().push_fd(&AsyncCancel::fd(r1.as_fd()).all().build().user_data(10)) }.unwrap();
    let got = reap(&mut ring, 3);
    if got.iter().any(|c| c.user_data() == 10 && c.result() == Err(Errno::INVAL)) {
        common::skip("cancel_by_fd_all", "kernel lacks IORING_ASYNC_CANCEL_FD/ALL (5.19)");
        ring.sq().push(&AsyncCancel::any().all().build()).unwrap();
        return;
    }
    assert_eq!(results(&got), vec![(1, Err(Errno::CANCELED)), (2, Err(Errno::CANCELED)), (10, Ok(2))]);
    // The read of the other pipe is untouched; cancel it by user_data to finish.
    assert_idle(&mut ring);
    ring.sq().push(&AsyncCancel::user_data(3).build().user_data(11)).unwrap();
    assert_eq!(results(&reap(&mut ring, 2)), vec![(3, Err(Errno::CANCELED)), (11, Ok(0))]);
}

#[test]
fn cancel_by_fd_first_match_only() {
    let Some(mut ring) = ring_for("cancel_by_fd_first_match_only") else { return };
    let (r, _w) = pipe();
    let mut bufs = [[0u8; 8]; 2];
    let [b1, b2] = &mut bufs;
    // SAFETY: the buffers live until every completion is reaped below.
    unsafe {
        ring.sq().push_raw(&read_sqe((&r).into(), b1).user_data(1)).unwrap();
        ring.sq().push_raw(&read_sqe((&r).into(), b2).user_data(2)).unwrap();
    }
    assert_idle(&mut ring);
    // SAFETY: `r` stays open until the request's final completion is reaped below.
    unsafe { ring.sq().push_fd(&AsyncCancel::fd(r.as_fd()).build().user_data(10)) }.unwrap();
    let got = reap(&mut ring, 2);
    if got.iter().any(|c| c.user_data() == 10 && c.result() == Err(Errno::INVAL)) {
        common::skip("cancel_by_fd_first_match_only", "kernel lacks IORING_ASYNC_CANCEL_FD (5.19)");
        ring.sq().push(&AsyncCancel::any().all().build()).unwrap();
        return;
    }
    let got = results(&got);
    assert!(got.contains(&(10, Ok(0))), "{got:?}");
    assert_eq!(got.iter().filter(|c| c.1 == Err(Errno::CANCELED)).count(), 1, "{got:?}");
    // SAFETY: `r` stays open until the request's final completion is reaped below.
    unsafe { ring.sq().push_fd(&AsyncCancel::fd(r.as_fd()).all().build().user_data(11)) }.unwrap();
    assert_eq!(reap(&mut ring, 2).iter().filter(|c| c.result() == Err(Errno::CANCELED)).count(), 1);
}

#[test]
fn cancel_by_fixed_fd() {
    let Some(mut ring) = ring_for("cancel_by_fixed_fd") else { return };
    let (r, w) = pipe();
    let fds = [r.as_raw_fd()];
    // SAFETY: a valid array of one fd; the kernel copies it.
    unsafe { ring.submitter().register_raw(IORING_REGISTER_FILES, fds.as_ptr().cast(), 1) }.unwrap();
    // Only the registered slot names the pipe's read end from now on.
    drop(r);
    let mut buf = [0u8; 8];
    // SAFETY: `buf` lives until the read's completion is reaped below.
    unsafe { ring.sq().push_raw(&read_sqe(Target::fixed(0), &mut buf).user_data(1)) }.unwrap();
    assert_idle(&mut ring);
    ring.sq().push(&AsyncCancel::fixed(Fixed(0)).build().user_data(3)).unwrap();
    let got = reap(&mut ring, 1);
    if got[0].result() == Err(Errno::INVAL) {
        common::skip("cancel_by_fixed_fd", "kernel lacks IORING_ASYNC_CANCEL_FD_FIXED (5.19)");
        ring.sq().push(&AsyncCancel::any().build()).unwrap();
        return;
    }
    let mut got = got;
    got.extend(reap(&mut ring, 1));
    got.sort_by_key(|c| c.user_data());
    assert_eq!(results(&got), vec![(1, Err(Errno::CANCELED)), (3, Ok(0))]);
    // The slot itself is untouched: a new read through it gets data.
    let mut buf2 = [0u8; 8];
    // SAFETY: `buf2` lives until the read's completion is reaped below.
    unsafe { ring.sq().push_raw(&read_sqe(Target::fixed(0), &mut buf2).user_data(4)) }.unwrap();
    assert_idle(&mut ring);
    rustix::io::write(&w, b"ok").unwrap();
    assert_eq!(results(&reap(&mut ring, 1)), vec![(4, Ok(2))]);
    assert_eq!(&buf2[..2], b"ok");
}

#[test]
fn cancel_any_all() {
    let Some(mut ring) = ring_for("cancel_any_all") else { return };
    let pipes: Vec<_> = (0..3).map(|_| pipe()).collect();
    let mut bufs = [[0u8; 8]; 3];
    for (i, (buf, (r, _))) in bufs.iter_mut().zip(&pipes).enumerate() {
        // SAFETY: the buffers live until every completion is reaped below.
        unsafe { ring.sq().push_raw(&read_sqe(r.into(), buf).user_data(i as u64 + 1)) }.unwrap();
    }
    assert_idle(&mut ring);
    ring.sq().push(&AsyncCancel::any().all().build().user_data(10)).unwrap();
    let got = reap(&mut ring, 4);
    if got.iter().any(|c| c.user_data() == 10 && c.result() == Err(Errno::INVAL)) {
        common::skip("cancel_any_all", "kernel lacks IORING_ASYNC_CANCEL_ANY (5.19)");
        return;
    }
    assert_eq!(
        results(&got),
        vec![(1, Err(Errno::CANCELED)), (2, Err(Errno::CANCELED)), (3, Err(Errno::CANCELED)), (10, Ok(3))]
    );
    // ANY implies ALL: with nothing left it cancels nothing and says so with a count of 0.
    ring.sq().push(&AsyncCancel::any().build().user_data(11)).unwrap();
    assert_eq!(results(&reap(&mut ring, 1)), vec![(11, Ok(0))]);
}

#[test]
fn cancel_by_opcode() {
    let Some(mut ring) = ring_for("cancel_by_opcode") else { return };
    let (r, _w) = pipe();
    let mut bufs = [[0u8; 8]; 2];
    let [b1, b2] = &mut bufs;
    // SAFETY: the buffers live until every completion is reaped below.
    unsafe {
        ring.sq().push_raw(&read_sqe((&r).into(), b1).user_data(1)).unwrap();
        ring.sq().push_raw(&read_sqe((&r).into(), b2).user_data(2)).unwrap();
    }
    // SAFETY: `r` stays open until the request's final completion is reaped below.
    unsafe { ring.sq().push_fd(&PollAdd::new(&r, PollEvents::IN).build().user_data(3)) }.unwrap();
    assert_idle(&mut ring);
    ring.sq().push(&AsyncCancel::opcode(IORING_OP_READ).all().build().user_data(10)).unwrap();
    let got = reap(&mut ring, 3);
    if got.iter().any(|c| c.user_data() == 10 && c.result() == Err(Errno::INVAL)) {
        common::skip("cancel_by_opcode", "kernel lacks IORING_ASYNC_CANCEL_OP (6.6)");
        ring.sq().push(&AsyncCancel::any().all().build()).unwrap();
        return;
    }
    assert_eq!(results(&got), vec![(1, Err(Errno::CANCELED)), (2, Err(Errno::CANCELED)), (10, Ok(2))]);
    // The poll survived; an fd + opcode key finds it.
    // SAFETY: `r` stays open until the request's final completion is reaped below.
    unsafe { ring.sq().push_fd(&AsyncCancel::fd(r.as_fd()).and_opcode(IORING_OP_POLL_ADD).build().user_data(11)) }
        .unwrap();
    assert_eq!(results(&reap(&mut ring, 2)), vec![(3, Err(Errno::CANCELED)), (11, Ok(0))]);
}

#[test]
fn cancel_by_fd_and_user_data() {
    let Some(mut ring) = ring_for("cancel_by_fd_and_user_data") else { return };
    let (r, _w) = pipe();
    let mut bufs = [[0u8; 8]; 2];
    let [b1, b2] = &mut bufs;
    // SAFETY: the buffers live until every completion is reaped below.
    unsafe {
        ring.sq().push_raw(&read_sqe((&r).into(), b1).user_data(1)).unwrap();
        ring.sq().push_raw(&read_sqe((&r).into(), b2).user_data(2)).unwrap();
    }
    assert_idle(&mut ring);
    // SAFETY: `r` stays open until the request's final completion is reaped below.
    unsafe { ring.sq().push_fd(&AsyncCancel::fd(r.as_fd()).and_user_data(2).build().user_data(10)) }.unwrap();
    let got = reap(&mut ring, 2);
    if got.iter().any(|c| c.user_data() == 10 && c.result() == Err(Errno::INVAL)) {
        common::skip("cancel_by_fd_and_user_data", "kernel lacks IORING_ASYNC_CANCEL_USERDATA (6.6)");
        ring.sq().push(&AsyncCancel::any().all().build()).unwrap();
        return;
    }
    assert_eq!(results(&got), vec![(2, Err(Errno::CANCELED)), (10, Ok(0))]);
    ring.sq().push(&AsyncCancel::user_data(1).build().user_data(11)).unwrap();
    assert_eq!(results(&reap(&mut ring, 2)), vec![(1, Err(Errno::CANCELED)), (11, Ok(0))]);
}

/// Synchronous cancel (`IORING_REGISTER_SYNC_CANCEL`): returns once the matched requests are
/// gone; their completions are already in the CQ. Unknown keys give ENOENT.
#[test]
fn sync_cancel_by_user_data_fd_and_all() {
    use std::os::fd::AsRawFd;
    let mut ring = uring::Ring::new(16).unwrap();
    let (r, _w) = rustix::pipe::pipe().unwrap();
    let mut bufs = [[0u8; 8]; 4];
    for (i, b) in bufs.iter_mut().enumerate() {
        let sqe = uring::op::prep_rw(uring::uapi::IORING_OP_READ, r.as_raw_fd(), b.as_mut_ptr() as u64, 8, u64::MAX)
            .user_data(100 + i as u64);
        // SAFETY: `bufs` outlives the requests, which are cancelled below before it is dropped.
        unsafe { ring.sq().push_raw(&sqe) }.unwrap();
    }
    ring.submit().unwrap();
    let sub = ring.submitter();
    let e =
        sub.sync_cancel(uring::op::AsyncCancel::user_data(999), Some(std::time::Duration::from_secs(1))).unwrap_err();
    assert_eq!(e.raw_os_error(), Some(libc::ENOENT));
    sub.sync_cancel(uring::op::AsyncCancel::user_data(100), None).unwrap();
    let n =
        sub.sync_cancel(uring::op::AsyncCancel::fd(r.as_fd()).all(), Some(std::time::Duration::from_secs(1))).unwrap();
    assert_eq!(n, 3, "the three other reads on the pipe");
    let mut ids: Vec<u64> = ring
        .cq()
        .iter()
        .map(|c| {
            assert_eq!(c.result(), Err(uring::Errno::CANCELED));
            c.user_data()
        })
        .collect();
    ids.sort();
    assert_eq!(ids, vec![100, 101, 102, 103], "completions are posted by the time sync cancel returns");
}
