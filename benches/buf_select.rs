//! Buffer selection microbenchmarks: this crate beside hand-written `io-uring` crate code
//! (`BufRingEntry` recycling, as its own tests do) in the same groups, so ratios come from one
//! run. See benches/README.md.
//!
//! The synthetic groups (decode, lookup, recycle, bundle walk) feed completions that name
//! buffers without the kernel selecting them: they measure user-space work only.
#![allow(missing_docs)] // criterion_group! generates undocumented items

use std::hint::black_box;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicU16, Ordering};

use criterion::{criterion_group, criterion_main, Criterion};
use uring::buf::{BufRing, Selection};
use uring::uapi::*;
use uring::{Cqe, Ring};

const ENTRIES: u32 = 256;
const SIZE: u32 = 4096;

/// The io-uring crate's side: a ring of `BufRingEntry` in page-aligned memory, recycled by hand.
struct RawBufRing {
    ring: *mut io_uring::types::BufRingEntry,
    tail: u16,
    mask: u16,
    pool: Vec<u8>,
}

impl RawBufRing {
    fn new(uring: &io_uring::IoUring, bgid: u16) -> Self {
        let bytes = ENTRIES as usize * 16;
        // SAFETY: a fresh anonymous mapping.
        let ring = unsafe {
            libc::mmap(
                core::ptr::null_mut(),
                bytes,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert_ne!(ring, libc::MAP_FAILED);
        // SAFETY: the ring memory lives for the whole benchmark process.
        unsafe { uring.submitter().register_buf_ring_with_flags(ring as u64, ENTRIES as u16, bgid, 0) }.unwrap();
        let mut r = RawBufRing {
            ring: ring.cast(),
            tail: 0,
            mask: (ENTRIES - 1) as u16,
            pool: vec![0; (ENTRIES * SIZE) as usize],
        };
        for bid in 0..ENTRIES as u16 {
            r.add(bid, bid);
        }
        r.advance(ENTRIES as u16);
        r
    }

    #[inline]
    fn add(&mut self, bid: u16, off: u16) {
        // SAFETY: the slot index is masked to the ring.
        let e = unsafe { &mut *self.ring.add((self.tail.wrapping_add(off) & self.mask) as usize) };
        e.set_addr(self.pool.as_ptr() as u64 + bid as u64 * SIZE as u64);
        e.set_len(SIZE);
        e.set_bid(bid);
    }

    #[inline]
    fn advance(&mut self, n: u16) {
        self.tail = self.tail.wrapping_add(n);
        // SAFETY: the tail overlays slot 0's resv field in the live ring.
        let t = unsafe { &*(io_uring::types::BufRingEntry::tail(self.ring) as *const AtomicU16) };
        t.store(self.tail, Ordering::Release);
    }

    #[inline]
    fn slice(&self, bid: u16, len: usize) -> &[u8] {
        &self.pool[bid as usize * SIZE as usize..][..len]
    }
}

fn cqe_for(bid: u16, res: i32) -> Cqe {
    Cqe::new(0, res, IORING_CQE_F_BUFFER | (bid as u32) << IORING_CQE_BUFFER_SHIFT)
}

fn benches(c: &mut Criterion) {
    let mut ring = Ring::new(64).unwrap();
    let br = BufRing::builder(1, ENTRIES, SIZE).build(&mut ring).unwrap();
    let io = io_uring::IoUring::new(64).unwrap();
    let mut raw = RawBufRing::new(&io, 1);

    let mut g = c.benchmark_group("select_recycle_one");
    g.bench_function("uring", |b| {
        let mut bid = 0u16;
        b.iter(|| {
            let cqe = cqe_for(bid, 64);
            let sel = br.select(black_box(&cqe)).unwrap();
            black_box(sel.data());
            drop(sel); // recycle: one slot write, one tail store
            bid = (bid + 1) % ENTRIES as u16;
        })
    });
    g.bench_function("io-uring", |b| {
        let mut bid = 0u16;
        b.iter(|| {
            let cqe = cqe_for(bid, 64);
            let flags = black_box(&cqe).raw_flags();
            let id = io_uring::cqueue::buffer_select(flags).unwrap();
            black_box(raw.slice(id, cqe.raw_result() as usize));
            raw.add(id, 0);
            raw.advance(1);
            bid = (bid + 1) % ENTRIES as u16;
        })
    });
    g.finish();

    let mut g = c.benchmark_group("select_recycle_batch32");
    let (_, _, cq) = ring.split();
    g.bench_function("uring", |b| {
        let mut base = 0u16;
        b.iter(|| {
            let sels = (0..32u16).map(|k| {
                let cqe = cqe_for((base + k) % ENTRIES as u16, 64);
                let sel = br.select(&cqe).unwrap();
                black_box(sel.data());
                sel
            });
            br.recycle_and_advance(sels, cq, 0);
            base = (base + 32) % ENTRIES as u16;
        })
    });
    g.bench_function("io-uring", |b| {
        let mut base = 0u16;
        b.iter(|| {
            for k in 0..32u16 {
                let cqe = cqe_for((base + k) % ENTRIES as u16, 64);
                let id = io_uring::cqueue::buffer_select(black_box(&cqe).raw_flags()).unwrap();
                black_box(raw.slice(id, 64));
                raw.add(id, k);
            }
            raw.advance(32);
            base = (base + 32) % ENTRIES as u16;
        })
    });
    g.finish();

    let mut g = c.benchmark_group("bid_to_slice");
    let cr = uring::buf::BufRing::builder(2, ENTRIES, SIZE).kernel_mapped().build(&mut ring).unwrap();
    let held = match br.select(&cqe_for(7, 100)).unwrap() {
        Selection::Buffer(b) => b.keep(),
        _ => unreachable!(),
    };
    g.bench_function("uring_app_managed", |b| b.iter(|| br.held_data(black_box(&held)).unwrap().len()));
    g.bench_function("uring_contiguous_pool", |b| {
        let (base, _) = cr.pool();
        b.iter(|| {
            let bid = black_box(7usize);
            // SAFETY: in bounds of the pool.
            unsafe { core::slice::from_raw_parts(base.add(bid * SIZE as usize), SIZE as usize) }.len()
        })
    });
    #[cfg(feature = "kmbuf")]
    {
        use uring::buf::kmbuf::model::{KmbufModel, ModelBackend};
        let km = uring::buf::kmbuf::KmBufRing::register_with(ModelBackend::new(KmbufModel::new()), 3, ENTRIES, SIZE)
            .unwrap();
        g.bench_function("uring_kmbuf_region", |b| b.iter(|| km.buffer(black_box(7)).unwrap().len()));
    }
    g.bench_function("io-uring", |b| b.iter(|| raw.slice(black_box(7), 100).len()));
    g.finish();

    let mut g = c.benchmark_group("bundle_walk4");
    let br3 = BufRing::builder(5, ENTRIES, SIZE).build(&mut ring).unwrap();
    g.bench_function("uring", |b| {
        let mut first = 0u16;
        b.iter(|| {
            let Selection::Bundle(bundle) = br3.select_bundle(&cqe_for(first, 4 * SIZE as i32 - 10)).unwrap() else {
                unreachable!()
            };
            let total: usize = bundle.slices().map(|s| black_box(s).len()).sum();
            first = (first + 4) % ENTRIES as u16;
            total // the bundle's drop recycles its 4 buffers with one tail store
        })
    });
    g.bench_function("io-uring", |b| {
        let mut first = 0u16;
        b.iter(|| {
            let mut left = 4 * SIZE as usize - 10;
            let mut total = 0;
            for k in 0..4u16 {
                // SAFETY: masked slot index into the live ring.
                let e = unsafe { &*raw.ring.add((first.wrapping_add(k) & raw.mask) as usize) };
                let n = left.min(SIZE as usize);
                total += black_box(raw.slice(e.bid(), n)).len();
                left -= n;
            }
            for k in 0..4u16 {
                // SAFETY: as above.
                let bid = unsafe { &*raw.ring.add((first.wrapping_add(k) & raw.mask) as usize) }.bid();
                raw.add(bid, k);
            }
            raw.advance(4);
            first = first.wrapping_add(4);
            total
        })
    });
    g.finish();

    // Multishot recv over a datagram socketpair, 64-byte messages, 32 per round.
    let mut g = c.benchmark_group("multishot_recv_64b_x32");
    let (a, bsock) = std::os::unix::net::UnixDatagram::pair().unwrap();
    let mut r2 = Ring::new(64).unwrap();
    let br2 = BufRing::builder(4, ENTRIES, 256).build(&mut r2).unwrap();
    let mut sqe = uring::op::prep_rw(IORING_OP_RECV, bsock.as_raw_fd(), 0, 0, 0);
    sqe.as_raw_mut().flags |= IOSQE_BUFFER_SELECT;
    sqe.as_raw_mut().buf.buf_group = 4;
    sqe.as_raw_mut().ioprio = IORING_RECV_MULTISHOT;
    // SAFETY: the entry points at no caller memory.
    unsafe { r2.sq().push_raw(&sqe) }.unwrap();
    r2.submit().unwrap();
    let msg = [7u8; 64];
    g.bench_function("uring", |b| {
        b.iter(|| {
            for _ in 0..32 {
                a.send(&msg).unwrap();
            }
            let mut got = 0;
            while got < 32 {
                r2.submit_and_wait(1).unwrap();
                let (_, _, cq) = r2.split();
                for cqe in cq.iter() {
                    assert!(cqe.more());
                    let sel = br2.select(&cqe).unwrap();
                    black_box(sel.data());
                    got += 1;
                }
            }
        })
    });
    let mut io2 = io_uring::IoUring::new(64).unwrap();
    let mut raw2 = RawBufRing::new(&io2, 4);
    let (a2, b2) = std::os::unix::net::UnixDatagram::pair().unwrap();
    let e = io_uring::opcode::RecvMulti::new(io_uring::types::Fd(b2.as_raw_fd()), 4).build();
    // SAFETY: the entry points at no caller memory.
    unsafe { io2.submission().push(&e) }.unwrap();
    io2.submit().unwrap();
    g.bench_function("io-uring", |b| {
        b.iter(|| {
            for _ in 0..32 {
                a2.send(&msg).unwrap();
            }
            let mut got = 0;
            while got < 32 {
                io2.submit_and_wait(1).unwrap();
                let mut n = 0u16;
                for cqe in io2.completion() {
                    assert!(io_uring::cqueue::more(cqe.flags()));
                    let id = io_uring::cqueue::buffer_select(cqe.flags()).unwrap();
                    black_box(raw2.slice(id, cqe.result() as usize));
                    raw2.add(id, n);
                    n += 1;
                    got += 1;
                }
                raw2.advance(n);
            }
        })
    });
    g.finish();
}

criterion_group! {
    name = group;
    config = Criterion::default().warm_up_time(std::time::Duration::from_millis(300)).measurement_time(std::time::Duration::from_secs(2));
    targets = benches
}
criterion_main!(group);
