//! No allocation on the hot path: after setup, prepare + push + submit + reap of NOPs and
//! reads, and buffer selection + recycling, allocate nothing (a counting global allocator).

use std::os::fd::AsRawFd;
use std::sync::atomic::Ordering;

use uring::buf::BufRing;
use uring::uapi::*;
use uring::{op, Ring};

#[path = "common/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::{ALLOCS, COUNTING};

#[test]
fn hot_path_allocates_nothing() {
    let mut ring = Ring::new(64).unwrap();
    let br = BufRing::builder(1, 64, 64).build(&mut ring).unwrap();
    let zero = std::fs::File::open("/dev/zero").unwrap();
    let mut read_sqe = op::prep_rw(IORING_OP_READ, zero.as_raw_fd(), 0, 0, 0);
    read_sqe.as_raw_mut().flags |= IOSQE_BUFFER_SELECT;
    read_sqe.as_raw_mut().buf.buf_group = 1;
    // Warm up once (lazy kernel-side setup, first-use paths in std).
    ring.sq().push(&op::Nop::new().build()).unwrap();
    ring.submit_and_wait(1).unwrap();
    ring.cq().advance(1).unwrap();

    let before = ALLOCS.load(Ordering::Relaxed);
    COUNTING.with(|c| c.set(true));
    for round in 0..1000u64 {
        for i in 0..32 {
            ring.sq().push(&op::Nop::new().build().user_data(round * 32 + i)).unwrap();
        }
        ring.submit_and_wait(32).unwrap();
        let mut n = 0;
        for cqe in ring.cq().iter() {
            assert!(cqe.result().is_ok());
            n += 1;
        }
        assert_eq!(n, 32);
        // Buffer-selecting reads: select, read the bytes, recycle on drop.
        for _ in 0..8 {
            // SAFETY: the entry points at no caller memory (the buffer comes from the group).
            unsafe { ring.sq().push_raw(&read_sqe) }.unwrap();
        }
        ring.submit_and_wait(8).unwrap();
        while let Some(cqe) = ring.cq().pop() {
            // SAFETY: the kernel posted this completion into the CQ for a request selecting from this
            // buffer ring; it is selected once.
            let sel = unsafe { br.select(&cqe) }.unwrap();
            assert_eq!(sel.len(), 64);
        }
        // The lent cycle: bytes of each completion's buffer, recycled with the batch, then the
        // CQ slots released (RecycleBatch::select_lent + finish_and_release); and guards
        // pushed into a batch while iterating the CQ (RecycleBatch::push).
        for lent in [true, false] {
            for _ in 0..8 {
                // SAFETY: the entry points at no caller memory (the buffer comes from the group).
                unsafe { ring.sq().push_raw(&read_sqe) }.unwrap();
            }
            ring.submit_and_wait(8).unwrap();
            let (_, _, cq) = ring.split();
            let mut it = cq.iter();
            let mut back = br.recycle_batch();
            for cqe in &mut it {
                if lent {
                    // SAFETY: the kernel posted this completion for a read selecting from `br`;
                    // it is selected once.
                    assert_eq!(unsafe { back.select_lent(&cqe) }.unwrap().map(<[u8]>::len), Some(64));
                } else {
                    // SAFETY: as above.
                    back.push(unsafe { br.select(&cqe) }.unwrap());
                }
            }
            back.finish_and_release(it);
        }
    }
    COUNTING.with(|c| c.set(false));
    let after = ALLOCS.load(Ordering::Relaxed);
    assert_eq!(after - before, 0, "allocations on the hot path");
}

/// The owned layer's hot path allocates nothing either: owned NOPs and pool-buffer reads,
/// pushed one by one and in batches, reaped one by one and with `for_each_completion`.
#[test]
fn owned_hot_path_allocates_nothing() {
    use uring::owned::{BufPool, Fd, Nop, OwnedRing, Read, Readv};
    let mut ring = OwnedRing::new(64).unwrap();
    // Shared with the operations: each holds a clone of the `Arc` (no allocation).
    let zero = std::sync::Arc::new(std::fs::File::open("/dev/zero").unwrap());
    let mut pool = BufPool::new(16, 512);
    ring.push(Nop).unwrap();
    ring.submit_and_wait(1).unwrap();
    while ring.next().is_some() {}
    // A vectored read sits in its slot (no box); pushed again when it comes back, it reuses its
    // buffers and its iovec array.
    let mut readv = Some(Readv::new(Fd::shared(zero.clone()), vec![vec![0u8; 64]; 4], 0));
    let mut round_trip_readv = |ring: &mut OwnedRing| {
        ring.push(readv.take().unwrap()).unwrap();
        ring.submit_and_wait(1).unwrap();
        let c = ring.next().unwrap();
        assert_eq!(c.result(), Ok(256));
        readv = Some(c.into_op::<Readv>().unwrap());
    };
    round_trip_readv(&mut ring);

    let before = ALLOCS.load(Ordering::Relaxed);
    COUNTING.with(|c| c.set(true));
    for _ in 0..500 {
        {
            let mut sq = ring.batch();
            for _ in 0..32 {
                sq.push(Nop).unwrap();
            }
        }
        ring.submit_and_wait(32).unwrap();
        let n = ring.for_each_completion(|c| {
            assert!(c.into_op::<Nop>().is_ok());
        });
        assert_eq!(n, 32);
        for _ in 0..16 {
            ring.push(Read::new(Fd::shared(zero.clone()), pool.get(), 0)).unwrap();
        }
        ring.submit_and_wait(16).unwrap();
        let mut n = 0;
        while let Some(c) = ring.next() {
            assert_eq!(c.result(), Ok(512));
            pool.put(c.into_op::<Read>().unwrap().buf);
            n += 1;
        }
        assert_eq!(n, 16);
        round_trip_readv(&mut ring);
    }
    COUNTING.with(|c| c.set(false));
    let after = ALLOCS.load(Ordering::Relaxed);
    assert_eq!(after - before, 0, "allocations on the owned hot path");
}

/// The async layer's hot path allocates nothing either: awaited NOPs and reads in a loop,
/// driven by `block_on`, after a warm-up (the task's completion queue gets its capacity on
/// first use and keeps it).
#[test]
fn awaited_hot_path_allocates_nothing() {
    use uring::future::{block_on, Handle};
    use uring::owned::{Fd, Nop, Read};
    let h = Handle::new(16).unwrap();
    let zero = std::sync::Arc::new(std::fs::File::open("/dev/zero").unwrap());
    let allocs = block_on(&h, async {
        let mut buf = vec![0u8; 256];
        // Warm up every task of the slab.
        for _ in 0..64 {
            let (r, Nop) = h.run(Nop).await;
            r.unwrap();
        }
        let before = ALLOCS.load(Ordering::Relaxed);
        COUNTING.with(|c| c.set(true));
        for _ in 0..2000 {
            let (r, Nop) = h.run(Nop).await;
            r.unwrap();
            let (r, read) = h.run(Read::new(Fd::shared(zero.clone()), buf, 0)).await;
            assert_eq!(r.unwrap(), 256);
            buf = read.buf;
        }
        COUNTING.with(|c| c.set(false));
        ALLOCS.load(Ordering::Relaxed) - before
    })
    .unwrap();
    assert_eq!(allocs, 0, "allocations on the awaited hot path");
}
