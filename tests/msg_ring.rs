//! MSG_RING between two rings: data messages (with flags pass-through, to a ring fd or a
//! registered slot holding it) and passing a registered file from one ring's table to another's.

mod common;

use std::os::fd::{AsRawFd, OwnedFd};

use uring::op::{self, DestSlot, FilesUpdate, Fixed, MsgRing, MsgRingFd, Target};
use uring::uapi::{
    io_uring_rsrc_register, IORING_OP_READ, IORING_REGISTER_FILES, IORING_REGISTER_FILES2, IORING_RSRC_REGISTER_SPARSE,
};
use uring::{Errno, Probe, Ring, SqeFlags};

fn pipe() -> (OwnedFd, OwnedFd) {
    rustix::pipe::pipe().unwrap()
}

/// Two rings, or `None` (after printing why) when the kernel lacks `IORING_OP_MSG_RING`.
fn rings(test: &str) -> Option<(Ring, Ring)> {
    let a = Ring::new(8).unwrap();
    if !Probe::of(&a).unwrap().is_supported(MsgRing::CODE) {
        common::skip(test, "kernel lacks IORING_OP_MSG_RING (5.18)");
        return None;
    }
    Some((a, Ring::new(8).unwrap()))
}

/// Registers an empty file table of `n` slots (`IORING_REGISTER_FILES2` with
/// `IORING_RSRC_REGISTER_SPARSE`).
fn register_sparse(ring: &Ring, n: u32) {
    let reg = io_uring_rsrc_register { nr: n, flags: IORING_RSRC_REGISTER_SPARSE, ..Default::default() };
    // SAFETY: a valid `io_uring_rsrc_register` of its own size; the kernel copies it.
    unsafe {
        ring.submitter().register_raw(
            IORING_REGISTER_FILES2,
            (&reg as *const io_uring_rsrc_register).cast(),
            core::mem::size_of::<io_uring_rsrc_register>() as u32,
        )
    }
    .unwrap();
}

/// Pushes one safe entry, submits it and returns its completion.
fn run_safe(ring: &mut Ring, sqe: &uring::SafeSqe) -> uring::Cqe {
    ring.sq().push(sqe).unwrap();
    ring.submit_and_wait(1).unwrap();
    ring.cq().pop().unwrap()
}

/// Pushes one entry that names a ring's fd, submits it and returns its completion.
///
/// # Safety
/// The fds the entry names stay open until this returns (it reaps the completion first).
unsafe fn run_one(ring: &mut Ring, sqe: &uring::FdSqe) -> uring::Cqe {
    // SAFETY: the caller's contract; the completion is reaped below.
    unsafe { ring.sq().push_fd(sqe) }.unwrap();
    ring.submit_and_wait(1).unwrap();
    ring.cq().pop().unwrap()
}

#[test]
fn msg_ring_data_arrives() {
    let Some((mut a, mut b)) = rings("msg_ring_data_arrives") else { return };
    // `b` outlives every message sent to it here, so its fd stays open for them.
    let b_fd = Target::from(b.submitter().fd().unwrap());
    // SAFETY: `b`'s fd stays open until `run_one` has reaped the completion.
    let cqe = unsafe { run_one(&mut a, &MsgRing::new(b_fd, 42, 0xabcd).build().user_data(1)) };
    assert_eq!((cqe.user_data(), cqe.result()), (1, Ok(0)), "the sender's own completion");
    let got = b.wait_cqe().unwrap();
    assert_eq!((got.user_data(), got.raw_result(), got.raw_flags()), (0xabcd, 42, 0));
    assert!(b.peek_cqe().unwrap().is_none(), "exactly one message");
}

#[test]
fn msg_ring_flags_pass() {
    let Some((mut a, mut b)) = rings("msg_ring_flags_pass") else { return };
    // `b` outlives every message sent to it here, so its fd stays open for them.
    let b_fd = Target::from(b.submitter().fd().unwrap());
    let flags = 0x00ab_0000u32;
    // SAFETY: `b`'s fd stays open until `run_one` has reaped the completion.
    let cqe = unsafe { run_one(&mut a, &MsgRing::new(b_fd, -7, 5).cqe_flags(flags).build().user_data(1)) };
    if cqe.result() == Err(Errno::INVAL) {
        common::skip("msg_ring_flags_pass", "kernel lacks IORING_MSG_RING_FLAGS_PASS (6.3)");
        return;
    }
    assert_eq!(cqe.result(), Ok(0));
    let got = b.wait_cqe().unwrap();
    assert_eq!((got.user_data(), got.raw_result(), got.raw_flags()), (5, -7, flags));
}

#[test]
fn msg_ring_to_registered_slot() {
    let Some((mut a, mut b)) = rings("msg_ring_to_registered_slot") else { return };
    let fds = [b.submitter().fd().unwrap().as_raw_fd()];
    // SAFETY: a valid array of one fd; the kernel copies it.
    match unsafe { a.submitter().register_raw(IORING_REGISTER_FILES, fds.as_ptr().cast(), 1) } {
        Ok(_) => {}
        Err(e) if e.raw_os_error() == Some(libc::EBADF) => {
            // Every kernel so far refuses io_uring fds in a registered file table, so a
            // `Target::Fixed` cannot name a ring: that refusal is what this checks here.
            common::note(
                "msg_ring_to_registered_slot",
                "the kernel refuses io_uring fds in a registered file table (EBADF), as documented on MsgRing",
            );
            return;
        }
        Err(e) => panic!("{e}"),
    }
    let cqe = run_safe(&mut a, &MsgRing::new(Fixed(0), 1, 77).build().user_data(1).into_safe().unwrap());
    assert_eq!(cqe.result(), Ok(0));
    let got = b.wait_cqe().unwrap();
    assert_eq!((got.user_data(), got.raw_result()), (77, 1));
}

#[test]
fn msg_ring_to_non_ring_fails() {
    let Some((mut a, _b)) = rings("msg_ring_to_non_ring_fails") else { return };
    let (r, _w) = pipe();
    // SAFETY: `r` stays open until `run_one` has reaped the completion.
    let cqe = unsafe { run_one(&mut a, &MsgRing::new(&r, 1, 1).build().user_data(1)) };
    assert_eq!(cqe.result(), Err(Errno::BADFD));
}

#[test]
fn msg_ring_passes_registered_file() {
    let Some((mut a, mut b)) = rings("msg_ring_passes_registered_file") else { return };
    register_sparse(&a, 4);
    register_sparse(&b, 4);
    // Put a pipe's read end into A's slot 1 (with the FILES_UPDATE operation).
    let (r, w) = pipe();
    let fds = [r.as_raw_fd()];
    // SAFETY: `fds` lives until the completion is reaped below.
    unsafe { a.sq().push_raw(&FilesUpdate::new(&fds, 1).unwrap().build().user_data(9)) }.unwrap();
    a.submit_and_wait(1).unwrap();
    let cqe = a.cq().pop().unwrap();
    assert_eq!((cqe.user_data(), cqe.result()), (9, Ok(1)), "one slot updated");
    drop(r);

    // `b` outlives every message sent to it here, so its fd stays open for them.
    let b_fd = Target::from(b.submitter().fd().unwrap());
    let sqe = MsgRingFd::new(b_fd, Fixed(1), DestSlot::Fixed(2), 0x77).unwrap().build().user_data(1);
    // SAFETY: `b`'s fd stays open until `run_one` has reaped the completion.
    let cqe = unsafe { run_one(&mut a, &sqe) };
    assert_eq!(cqe.result(), Ok(0), "the sender's completion");
    let got = b.wait_cqe().unwrap();
    assert_eq!((got.user_data(), got.result()), (0x77, Ok(0)), "the target's completion");

    // The file is in B's slot 2: a read through it gets what is written to the pipe.
    rustix::io::write(&w, b"moved").unwrap();
    let mut buf = [0u8; 16];
    let read = op::prep_rw(IORING_OP_READ, 2, buf.as_mut_ptr() as u64, buf.len() as u32, u64::MAX)
        .flags(SqeFlags::FIXED_FILE)
        .user_data(2);
    // SAFETY: `buf` lives until the completion is reaped below.
    unsafe { b.sq().push_raw(&read) }.unwrap();
    b.submit_and_wait(1).unwrap();
    let cqe = b.cq().pop().unwrap();
    assert_eq!((cqe.user_data(), cqe.result()), (2, Ok(5)));
    assert_eq!(&buf[..5], b"moved");

    // Alloc: the kernel picks a free slot of B and reports it to both sides; CQE_SKIP keeps
    // the target's completion away.
    let sqe = MsgRingFd::new(b_fd, Fixed(1), DestSlot::Alloc, 0x78).unwrap().build().user_data(3);
    // SAFETY: `b`'s fd stays open until `run_one` has reaped the completion.
    let cqe = unsafe { run_one(&mut a, &sqe) };
    let slot = cqe.result().expect("alloc");
    assert!(slot < 4 && slot != 2, "slot {slot}");
    let got = b.wait_cqe().unwrap();
    assert_eq!((got.user_data(), got.result()), (0x78, Ok(slot)));
    let sqe = MsgRingFd::new(b_fd, Fixed(1), DestSlot::Fixed(3), 0x79).unwrap().skip_cqe().build();
    // SAFETY: `b`'s fd stays open until `run_one` has reaped the completion.
    let cqe = unsafe { run_one(&mut a, &sqe) };
    assert_eq!(cqe.result(), Ok(0));
    b.submit().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(10));
    assert!(b.peek_cqe().unwrap().is_none(), "CQE_SKIP posts nothing to the target");
}
