//! Resizing the rings of a live ring (IORING_REGISTER_RESIZE_RINGS, Linux 6.13).

mod common;

use std::os::fd::AsRawFd;

use uring::{op, Error, Ring};

fn defer_ring(test: &str, entries: u32) -> Option<Ring> {
    match Ring::builder().defer_taskrun().build(entries) {
        Ok(r) => Some(r),
        Err(e) => {
            common::skip(test, format!("DEFER_TASKRUN ring refused: {e}"));
            None
        }
    }
}

/// Under load (reads in flight on pipes, completions waiting in the CQ, submissions not yet
/// consumed), growing and then shrinking the rings keeps every pending entry.
#[test]
fn resize_under_load_keeps_everything() {
    let Some(mut ring) = defer_ring("resize_under_load_keeps_everything", 8) else { return };
    match ring.resize_rings(8, None) {
        Err(e) if e.is_errno(libc::EINVAL) => {
            common::skip("resize_under_load_keeps_everything", "kernel lacks IORING_REGISTER_RESIZE_RINGS (6.13)");
            return;
        }
        r => r.unwrap(),
    }
    // 6 completed NOPs waiting in the CQ.
    for i in 0..6 {
        ring.sq().push(&op::Nop::new().build().user_data(i)).unwrap();
    }
    ring.submit_and_wait(6).unwrap();
    // 2 reads in flight on pipes.
    let pipes: Vec<_> = (0..2).map(|_| rustix::pipe::pipe().unwrap()).collect();
    let mut bufs = [[0u8; 4]; 2];
    for (i, ((r, _), b)) in pipes.iter().zip(bufs.iter_mut()).enumerate() {
        let sqe = op::prep_rw(uring::uapi::IORING_OP_READ, r.as_raw_fd(), b.as_mut_ptr() as u64, 4, u64::MAX)
            .user_data(100 + i as u64);
        // SAFETY: `bufs` lives until both reads complete below.
        unsafe { ring.sq().push_raw(&sqe) }.unwrap();
    }
    ring.submit().unwrap();
    // 3 NOPs pushed but not submitted.
    for i in 0..3 {
        ring.sq().push(&op::Nop::new().build().user_data(200 + i)).unwrap();
    }
    ring.resize_rings(64, Some(256)).unwrap();
    assert_eq!(ring.params().sq_entries, 64);
    assert_eq!(ring.params().cq_entries, 256);
    assert_eq!(ring.sq().capacity(), 64);
    assert_eq!(ring.cq().capacity(), 256);
    assert_eq!(ring.cq().ready(), 6, "completions survive the resize");
    for (_, w) in &pipes {
        rustix::io::write(w, b"ping").unwrap();
    }
    ring.submit_and_wait(11).unwrap();
    let mut ids: Vec<u64> = ring.cq().iter().map(|c| c.user_data()).collect();
    ids.sort();
    assert_eq!(ids, vec![0, 1, 2, 3, 4, 5, 100, 101, 200, 201, 202]);
    assert_eq!(&bufs, &[*b"ping", *b"ping"]);
    // The new rings take their full size.
    for i in 0..64 {
        ring.sq().push(&op::Nop::new().build().user_data(i)).unwrap();
    }
    assert_eq!(ring.submit_and_wait(64).unwrap(), 64);
    assert_eq!(ring.cq().iter().count(), 64);
    // Shrink again.
    ring.resize_rings(4, Some(8)).unwrap();
    ring.sq().push(&op::Nop::new().build().user_data(9)).unwrap();
    assert_eq!(ring.wait_cqe().unwrap().user_data(), 9);
}

/// More pending completions than the new CQ holds: EOVERFLOW as a typed error, ring unchanged.
#[test]
fn resize_overflow_is_typed() {
    let Some(mut ring) = defer_ring("resize_overflow_is_typed", 16) else { return };
    for i in 0..16 {
        ring.sq().push(&op::Nop::new().build().user_data(i)).unwrap();
    }
    ring.submit_and_wait(16).unwrap();
    match ring.resize_rings(4, Some(8)) {
        Err(e @ Error::ResizeOverflow { .. }) => {
            assert!(e.is_errno(libc::EOVERFLOW));
            assert_eq!(ring.cq().ready(), 16, "nothing lost");
            assert_eq!(ring.cq().iter().count(), 16);
        }
        Err(e) if e.is_errno(libc::EINVAL) => {
            common::skip("resize_overflow_is_typed", "kernel lacks IORING_REGISTER_RESIZE_RINGS (6.13)")
        }
        other => panic!("expected ResizeOverflow, got {other:?}"),
    }
}

/// Resizing needs DEFER_TASKRUN, and sizes are checked like at setup.
#[test]
fn resize_needs_defer_taskrun_and_valid_sizes() {
    let mut plain = Ring::new(4).unwrap();
    assert!(matches!(plain.resize_rings(8, None), Err(Error::WrongRingKind { .. })));
    let Some(mut ring) = defer_ring("resize_needs_defer_taskrun_and_valid_sizes", 4) else { return };
    assert!(matches!(ring.resize_rings(0, None), Err(Error::ZeroEntries)));
    assert!(matches!(ring.resize_rings(8, Some(4)), Err(Error::InvalidCqSize { .. })));
}
