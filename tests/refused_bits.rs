//! Bits the builders leave out because the kernel refuses them: for each operation whose docs
//! say so, the crate's entry is accepted, and the same entry with the bit liburing's helper
//! would pass (its `flags` argument) fails with `EINVAL`. The docs' claims, checked on every
//! kernel the suite runs on.

mod common;

use std::os::fd::AsFd;
use std::sync::atomic::AtomicU32;
use std::time::Duration;

use uring::op::{self, PollEvents, Target, Timespec};
use uring::uapi::*;
use uring::{Cqe, Errno, Probe, Ring, Sqe};

/// Pushes `sqe` (through the raw path), submits it and returns its completion (within 5 s).
///
/// # Safety
/// What the entry points at, and every fd it names, stay valid until this returns (it reaps the
/// completion first).
unsafe fn run(ring: &mut Ring, sqe: Sqe) -> Cqe {
    // SAFETY: the caller's contract; the completion is reaped below.
    unsafe { ring.sq().push_raw(&sqe) }.expect("SQ space");
    ring.submit().expect("submit");
    ring.wait_cqe_timeout(Duration::from_secs(5)).expect("a completion within 5 s")
}

/// The crate's entry `sqe`, then the same with `patch` applied: the first must not fail with
/// `EINVAL` (it gives `want`), the second must.
///
/// # Safety
/// As [`run`], for both entries.
unsafe fn check(
    ring: &mut Ring,
    what: &str,
    sqe: Sqe,
    want: Result<u32, Errno>,
    patch: impl FnOnce(&mut io_uring_sqe),
) {
    // SAFETY: the caller's contract.
    let ok = unsafe { run(ring, sqe) };
    assert_eq!(ok.result(), want, "{what}: the crate's entry");
    let mut bad = sqe;
    patch(bad.as_raw_mut());
    // SAFETY: the caller's contract.
    let refused = unsafe { run(ring, bad) };
    assert_eq!(refused.result(), Err(Errno::INVAL), "{what}: with the left-out bit");
}

#[test]
fn left_out_bits_are_refused() {
    common::watchdog(TEST, 60, left_out_bits);
}

const TEST: &str = "left_out_bits_are_refused";

fn left_out_bits() {
    let mut ring = Ring::new(8).unwrap();
    let probe = Probe::of(&ring).unwrap();
    let file = tempfile();

    // fsync: `fsync_flags` takes IORING_FSYNC_DATASYNC only.
    let sqe = op::Fsync::new(&file).datasync().build().into_sqe();
    let patch = |s: &mut io_uring_sqe| s.op_flags.fsync_flags = IORING_FSYNC_DATASYNC | 1 << 1;
    // SAFETY: `file` outlives the calls.
    unsafe { check(&mut ring, "fsync", sqe, Ok(0), patch) };

    // Poll update: `sqe.len` takes UPDATE_EVENTS, UPDATE_USER_DATA and ADD_MULTI only.
    let sqe = op::PollUpdate::new(0x5eed).events(PollEvents::IN).build().into_sqe();
    let patch = |s: &mut io_uring_sqe| s.len |= IORING_POLL_ADD_LEVEL;
    // SAFETY: points at no memory.
    unsafe { check(&mut ring, "poll update", sqe, Err(Errno::NOENT), patch) };

    // Timeout: the update bits belong to TIMEOUT_REMOVE.
    let ts = Timespec::new(0, 1000);
    let sqe = op::Timeout::new(&ts).build();
    let patch = |s: &mut io_uring_sqe| s.op_flags.timeout_flags = IORING_TIMEOUT_UPDATE;
    // SAFETY: `ts` outlives the calls.
    unsafe { check(&mut ring, "timeout", sqe, Err(Errno::TIME), patch) };
    // Timeout removal: no flags at all.
    let sqe = op::TimeoutRemove::new(0x5eed).build().into_sqe();
    let patch = |s: &mut io_uring_sqe| s.op_flags.timeout_flags = IORING_TIMEOUT_ABS;
    // SAFETY: points at no memory.
    unsafe { check(&mut ring, "timeout remove", sqe, Err(Errno::NOENT), patch) };
    // Timeout update: ABS and the update bits only; the clock stays the armed timeout's.
    for bit in
        [IORING_TIMEOUT_BOOTTIME, IORING_TIMEOUT_REALTIME, IORING_TIMEOUT_ETIME_SUCCESS, IORING_TIMEOUT_MULTISHOT]
    {
        let sqe = op::TimeoutUpdate::new(&ts, 0x5eed).build();
        let patch = |s: &mut io_uring_sqe| s.op_flags.timeout_flags = IORING_TIMEOUT_UPDATE | bit;
        // SAFETY: `ts` outlives the calls.
        unsafe { check(&mut ring, "timeout update", sqe, Err(Errno::NOENT), patch) };
    }

    // Socket: liburing's `flags` lands in `rw_flags`, which must be 0.
    if probe.is_supported(op::Socket::CODE) {
        let sqe = op::Socket::new(libc::AF_INET, libc::SOCK_STREAM, 0).build().into_sqe();
        // SAFETY: points at no memory.
        let ok = unsafe { run(&mut ring, sqe) };
        let fd = ok.result().expect("socket") as i32;
        // SAFETY: the kernel just created this fd for us.
        drop(unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) });
        let mut bad = sqe;
        bad.as_raw_mut().op_flags.rw_flags = 1;
        // SAFETY: points at no memory.
        assert_eq!(unsafe { run(&mut ring, bad) }.result(), Err(Errno::INVAL), "socket with rw_flags");
    } else {
        common::skip(TEST, "socket: kernel lacks IORING_OP_SOCKET (5.19)");
    }

    // MSG_RING data message: CQE_SKIP is for passing files only.
    if probe.is_supported(op::MsgRing::CODE) {
        let other = Ring::new(4).unwrap();
        let target = other.submitter().fd().expect("a ring with an fd");
        let sqe = op::MsgRing::new(target, 0, 1).build().into_sqe();
        let patch = |s: &mut io_uring_sqe| s.op_flags.msg_ring_flags = IORING_MSG_RING_CQE_SKIP;
        // SAFETY: `other` outlives the calls.
        unsafe { check(&mut ring, "msg_ring data", sqe, Ok(0), patch) };
    } else {
        common::skip(TEST, "msg_ring: kernel lacks IORING_OP_MSG_RING (5.18)");
    }

    // Futex wait: the second flag word (`sqe.futex_flags`) must be 0.
    if probe.is_supported(op::FutexWait::CODE) {
        let word = AtomicU32::new(0);
        let sqe = op::FutexWait::new(&word, 1).build();
        let patch = |s: &mut io_uring_sqe| s.op_flags.futex_flags = 1;
        // SAFETY: `word` outlives the calls.
        unsafe { check(&mut ring, "futex wait", sqe, Err(Errno::AGAIN), patch) };
    } else {
        common::skip(TEST, "futex: kernel lacks IORING_OP_FUTEX_WAIT (6.7)");
    }

    // epoll_wait: liburing's `flags` lands in `rw_flags`, which must be 0.
    if probe.is_supported(op::EpollWait::CODE) {
        let ep = rustix::event::epoll::create(rustix::event::epoll::CreateFlags::CLOEXEC).unwrap();
        let ev = rustix::event::eventfd(1, rustix::event::EventfdFlags::CLOEXEC).unwrap();
        let data = rustix::event::epoll::EventData::new_u64(7);
        rustix::event::epoll::add(&ep, &ev, data, rustix::event::epoll::EventFlags::IN).unwrap();
        let mut events = [libc::epoll_event { events: 0, u64: 0 }; 2];
        let sqe = op::EpollWait::new(Target::from(ep.as_fd()), &mut events).build();
        let patch = |s: &mut io_uring_sqe| s.op_flags.rw_flags = 1;
        // SAFETY: `ep`, `ev` and `events` outlive the calls.
        unsafe { check(&mut ring, "epoll_wait", sqe, Ok(1), patch) };
    } else {
        common::skip(TEST, "epoll_wait: kernel lacks IORING_OP_EPOLL_WAIT (6.15)");
    }

    // waitid: liburing's `flags` lands in `waitid_flags`, which must be 0.
    if probe.is_supported(op::Waitid::CODE) {
        let mut info = zeroed_siginfo();
        let opts = op::WaitidOptions::EXITED | op::WaitidOptions::NOHANG;
        // A pid that is not a child of this process.
        let sqe = op::Waitid::new(op::WaitId::Pid(1), &mut info, opts).build();
        let patch = |s: &mut io_uring_sqe| s.op_flags.waitid_flags = 1;
        // SAFETY: `info` outlives the calls.
        unsafe { check(&mut ring, "waitid", sqe, Err(Errno::CHILD), patch) };
    } else {
        common::skip(TEST, "waitid: kernel lacks IORING_OP_WAITID (6.7)");
    }
}

/// A zeroed `siginfo_t` for the kernel to fill.
fn zeroed_siginfo() -> libc::siginfo_t {
    // SAFETY: `siginfo_t` is plain integers; all-zero is a valid value.
    unsafe { core::mem::zeroed() }
}

/// A scratch file in the temporary directory.
fn tempfile() -> std::fs::File {
    let dir = std::env::temp_dir();
    let path = dir.join(format!("uring-refused-bits-{}", std::process::id()));
    let f = std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(true).open(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    f
}
