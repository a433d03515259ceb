//! The owned-operation layer: memory moves into the ring and comes back with the completion.

mod common;

use std::os::fd::AsRawFd;
use std::time::Duration;

use uring::op::Target;
use uring::owned::{BufPool, OwnedOp, OwnedRing, Read, Timeout, Write};

/// The caller's handles are gone right after submit; the kernel's write lands in the buffer the
/// ring owns, which comes back with the completion.
#[test]
fn read_lands_in_owned_memory_after_the_caller_let_go() {
    let mut ring = OwnedRing::new(8).unwrap();
    let (r, w) = rustix::pipe::pipe().unwrap();
    let id = {
        let buf = vec![0u8; 16];
        ring.push(Read::new(Target::raw(r.as_raw_fd()), buf, u64::MAX)).unwrap()
        // `buf` moved: nothing of the caller points at it any more
    };
    ring.submit().unwrap();
    assert_eq!(ring.in_flight(), 1);
    rustix::io::write(&w, b"owned!").unwrap();
    let c = ring.wait().unwrap();
    assert_eq!(c.id(), Some(id));
    assert_eq!(c.result(), Ok(6));
    let read: Read = c.into_op().unwrap();
    assert_eq!(&read.buf[..6], b"owned!");
    assert_eq!(ring.in_flight(), 0);
}

#[test]
fn write_then_read_a_file_with_a_pool() {
    let path = std::env::temp_dir().join(format!("uring-owned-{}", std::process::id()));
    let f = std::fs::OpenOptions::new().create(true).truncate(true).read(true).write(true).open(&path).unwrap();
    let mut ring = OwnedRing::new(8).unwrap();
    let mut pool = BufPool::new(2, 4096);
    let mut data = pool.get();
    data.fill(7);
    ring.push(Write::new(&f, data, 0)).unwrap();
    let c = ring.wait().unwrap();
    assert_eq!(c.result(), Ok(4096));
    let w: Write = c.into_op().unwrap();
    pool.put(w.buf);
    ring.push(Read::new(&f, pool.get(), 0)).unwrap();
    let c = ring.wait().unwrap();
    assert_eq!(c.result(), Ok(4096));
    let r: Read = c.into_op().unwrap();
    assert!(r.buf.iter().all(|&b| b == 7));
    pool.put(r.buf);
    assert_eq!(pool.available(), 2);
    std::fs::remove_file(&path).unwrap();
}

/// Cancelling returns the memory only with the kernel's final completion.
#[test]
fn cancel_before_complete() {
    let mut ring = OwnedRing::new(8).unwrap();
    let (r, _w) = rustix::pipe::pipe().unwrap();
    let id = ring.push(Read::new(Target::raw(r.as_raw_fd()), vec![0; 8], u64::MAX)).unwrap();
    ring.submit().unwrap();
    ring.cancel(id).unwrap();
    let c = ring.wait().unwrap();
    assert_eq!(c.id(), Some(id));
    assert_eq!(c.result(), Err(uring::Errno::CANCELED));
    let read: Read = c.into_op().unwrap();
    assert_eq!(read.buf.len(), 8);
    assert!(ring.cancel(id).is_err(), "a finished id is not in flight");
}

/// Dropping the ring with reads in flight cancels them and waits; nothing is freed under the
/// kernel (run under AddressSanitizer: tests/asan.sh).
#[test]
fn drop_ring_with_in_flight_operations() {
    let pipes: Vec<_> = (0..4).map(|_| rustix::pipe::pipe().unwrap()).collect();
    {
        let mut ring = OwnedRing::new(8).unwrap();
        for (r, _) in &pipes {
            ring.push(Read::new(Target::raw(r.as_raw_fd()), vec![0; 64], u64::MAX)).unwrap();
        }
        ring.submit().unwrap();
        assert_eq!(ring.in_flight(), 4);
    }
    // The pipes' write ends still work: nothing was left reading into freed memory.
    for (_, w) in &pipes {
        rustix::io::write(w, b"late").unwrap();
    }
}

#[test]
fn timeout_returns_its_timespec() {
    let mut ring = OwnedRing::new(4).unwrap();
    ring.push(Timeout::new(Duration::from_millis(5))).unwrap();
    let c = ring.wait().unwrap();
    assert_eq!(c.result(), Err(uring::Errno::TIME));
    let t: Timeout = c.into_op().unwrap();
    assert_eq!(t.ts.as_raw().tv_nsec, 5_000_000);
}

/// A chain whose first link skips its success completion: both come back with the last one.
#[test]
fn chain_with_skip_success() {
    let path = std::env::temp_dir().join(format!("uring-owned-chain-{}", std::process::id()));
    let f = std::fs::OpenOptions::new().create(true).truncate(true).read(true).write(true).open(&path).unwrap();
    let mut ring = OwnedRing::new(8).unwrap();
    let chain =
        vec![OwnedOp::Write(Write::new(&f, b"chained".to_vec(), 0)), OwnedOp::Read(Read::new(&f, vec![0; 7], 0))];
    let ids = ring.push_chain(chain, true).unwrap();
    assert_eq!(ring.in_flight(), 2);
    let c = ring.wait().unwrap();
    assert_eq!(c.id(), Some(ids[1]), "the skipped link posts nothing on success");
    assert_eq!(c.result(), Ok(7));
    assert_eq!(ring.in_flight(), 0, "the skipped link's slot came back with the chain's end");
    let r: Read = c.into_op().unwrap();
    assert_eq!(&r.buf, b"chained");
    assert!(ring.next().is_none());
    std::fs::remove_file(&path).unwrap();
}

/// Owned and raw entries share the ring; a lone skip-success owned op is refused.
#[test]
fn raw_and_owned_side_by_side() {
    let mut ring = OwnedRing::new(4).unwrap();
    ring.push_safe(&uring::op::Nop::new().build().user_data(5)).unwrap();
    assert!(ring.push_safe(&uring::op::Nop::new().build().user_data(1 << 63)).is_err());
    let id = ring.push(uring::owned::Nop).unwrap();
    ring.submit_and_wait(2).unwrap();
    let mut raw = 0;
    let mut owned = 0;
    while let Some(c) = ring.next() {
        match c.id() {
            None => {
                assert_eq!(c.cqe().user_data(), 5);
                raw += 1;
            }
            Some(i) => {
                assert_eq!(i, id);
                owned += 1;
            }
        }
    }
    assert_eq!((raw, owned), (1, 1));
    let r = ring.push_with(uring::owned::Nop, uring::SqeFlags::CQE_SKIP_SUCCESS);
    assert!(r.is_err());
}
