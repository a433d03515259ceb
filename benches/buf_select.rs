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
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use uring::buf::{BufRing, HeldBuf, Selection};
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
        Self::with_entries(uring, bgid, ENTRIES)
    }

    fn with_entries(uring: &io_uring::IoUring, bgid: u16, entries: u32) -> Self {
        let bytes = entries as usize * 16;
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
        unsafe { uring.submitter().register_buf_ring_with_flags(ring as u64, entries as u16, bgid, 0) }.unwrap();
        let mut r = RawBufRing {
            ring: ring.cast(),
            tail: 0,
            mask: (entries - 1) as u16,
            pool: vec![0; entries as usize * SIZE as usize],
        };
        for bid in 0..entries as u16 {
            r.add(bid, bid);
        }
        r.advance(entries as u16);
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

/// `recycle_batch32`: buffers per batch, and batches acquired before each timed stretch (the
/// whole ring of `RECYCLE_ENTRIES` buffers, so one clock read covers 1024 recycled buffers).
const BATCH: usize = 32;
const BATCHES: usize = 32;
const RECYCLE_ENTRIES: u32 = (BATCH * BATCHES) as u32;

/// Times `recycle` over `iters` batches of 32: each round first acquires up to 32 batches with
/// `acquire` (not timed), then times recycling them. Both sides use this, so the clock overhead
/// (two reads per 1024 buffers) and the call structure are the same.
fn time_rounds<S>(
    iters: u64,
    s: &mut S,
    mut acquire: impl FnMut(&mut S, usize),
    mut recycle: impl FnMut(&mut S, usize),
) -> Duration {
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let k = left.min(BATCHES as u64) as usize;
        for j in 0..k {
            acquire(s, j);
        }
        let t = Instant::now();
        for j in 0..k {
            recycle(s, j);
        }
        total += t.elapsed();
        left -= k as u64;
    }
    total
}

/// The io-uring crate's recycle of one batch: `io_uring_buf_ring_add` per buffer (address from
/// the bid, length, bid), one release store of the tail. Not inlined, like `recycle_held_batch`
/// (a non-generic function of another crate), so both sides pay one call per batch.
#[inline(never)]
fn raw_recycle_batch(raw: &mut RawBufRing, bids: &mut Vec<u16>) -> usize {
    for (k, &bid) in bids.iter().enumerate() {
        raw.add(bid, k as u16);
    }
    let n = bids.len();
    raw.advance(n as u16);
    bids.clear();
    n
}

fn benches(c: &mut Criterion) {
    let mut ring = Ring::new(64).unwrap();
    let br = BufRing::builder(1, ENTRIES, SIZE).build(&mut ring).unwrap();
    let br6 = BufRing::builder(6, RECYCLE_ENTRIES, SIZE).build(&mut ring).unwrap();
    let io = io_uring::IoUring::new(64).unwrap();
    let mut raw = RawBufRing::new(&io, 1);

    let mut g = c.benchmark_group("select_recycle_one");
    g.bench_function("uring", |b| {
        let mut bid = 0u16;
        b.iter(|| {
            let cqe = cqe_for(bid, 64);
            // SAFETY: the bench plays the kernel: no request on the ring selects from this buffer
            // ring, so nothing writes its buffers, and each completion names a buffer the ring holds
            // (taken in ring order), selected once.
            let sel = unsafe { br.select(black_box(&cqe)) }.unwrap();
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
                // SAFETY: the bench plays the kernel: no request on the ring selects from this buffer
                // ring, so nothing writes its buffers, and each completion names a buffer the ring holds
                // (taken in ring order), selected once.
                let sel = unsafe { br.select(&cqe) }.unwrap();
                black_box(sel.data());
                sel
            });
            br.recycle_and_advance(sels, cq, 0).unwrap();
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

    // Recycling held buffers: 32 per batch, one tail store per batch. Acquiring them (select a
    // completion, keep the buffer) is needed every time and is not timed: see `time_rounds`.
    let mut g = c.benchmark_group("recycle_batch32");
    g.throughput(Throughput::Elements(BATCH as u64));
    let mut next = 0u16;
    let mut held: Vec<Vec<HeldBuf>> = (0..BATCHES).map(|_| Vec::with_capacity(BATCH)).collect();
    g.bench_function("uring", |b| {
        b.iter_custom(|iters| {
            time_rounds(
                iters,
                &mut held,
                |held, j| {
                    for _ in 0..BATCH {
                        // SAFETY: the bench plays the kernel: no request on the ring selects from this buffer
                        // ring, so nothing writes its buffers, and each completion names a buffer the ring holds
                        // (taken in ring order), selected once.
                        let Selection::Buffer(buf) = unsafe { br6.select(&cqe_for(next, 64)) }.unwrap() else {
                            unreachable!()
                        };
                        held[j].push(buf.keep());
                        next = (next + 1) % RECYCLE_ENTRIES as u16;
                    }
                },
                |held, j| {
                    let n = br6.recycle_held_batch(black_box(&mut held[j]));
                    debug_assert_eq!(n, BATCH);
                    black_box(n);
                },
            )
        })
    });
    // The guard path for comparison: `Buf` selections returned with `recycle_and_advance`.
    let mut guards: Vec<Vec<Selection<'_>>> = (0..BATCHES).map(|_| Vec::with_capacity(BATCH)).collect();
    g.bench_function("uring_guards", |b| {
        b.iter_custom(|iters| {
            time_rounds(
                iters,
                &mut guards,
                |guards, j| {
                    for _ in 0..BATCH {
                        // SAFETY: the bench plays the kernel: no request on the ring selects from this buffer
                        // ring, so nothing writes its buffers, and each completion names a buffer the ring holds
                        // (taken in ring order), selected once.
                        guards[j].push(unsafe { br6.select(&cqe_for(next, 64)) }.unwrap());
                        next = (next + 1) % RECYCLE_ENTRIES as u16;
                    }
                },
                |guards, j| br6.recycle_and_advance(black_box(&mut guards[j]).drain(..), cq, 0).unwrap(),
            )
        })
    });
    let io6 = io_uring::IoUring::new(8).unwrap();
    let mut raw6 = RawBufRing::with_entries(&io6, 6, RECYCLE_ENTRIES);
    let mut bids: Vec<Vec<u16>> = (0..BATCHES).map(|_| Vec::with_capacity(BATCH)).collect();
    g.bench_function("io-uring", |b| {
        b.iter_custom(|iters| {
            time_rounds(
                iters,
                &mut (&mut bids, &mut raw6),
                |(bids, _), j| {
                    for _ in 0..BATCH {
                        let cqe = cqe_for(next, 64);
                        bids[j].push(io_uring::cqueue::buffer_select(black_box(&cqe).raw_flags()).unwrap());
                        next = (next + 1) % RECYCLE_ENTRIES as u16;
                    }
                },
                |(bids, raw6), j| {
                    black_box(raw_recycle_batch(raw6, black_box(&mut bids[j])));
                },
            )
        })
    });
    g.finish();

    let mut g = c.benchmark_group("bid_to_slice");
    let cr = uring::buf::BufRing::builder(2, ENTRIES, SIZE).kernel_mapped().build(&mut ring).unwrap();
    // SAFETY: the bench plays the kernel: no request on the ring selects from this buffer
    // ring, so nothing writes its buffers, and each completion names a buffer the ring holds
    // (taken in ring order), selected once.
    let held = match unsafe { br.select(&cqe_for(7, 100)) }.unwrap() {
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
        use uring::buf::kmbuf::{CmdBufTracker, KmBufRing};
        let km = KmBufRing::register_with(ModelBackend::new(KmbufModel::new()), 3, ENTRIES, SIZE).unwrap();
        // SAFETY: the backend is the model, which never writes a buffer, and nothing else here
        // touches the region.
        g.bench_function("uring_kmbuf_region", |b| b.iter(|| unsafe { km.buffer(black_box(7)) }.unwrap().len()));
        // From a consumer's completion: the tracker decodes and records the bid per command
        // (a hash map update), then the region lookup.
        let mut t = CmdBufTracker::with_capacity(16);
        let cqe = Cqe::new(5, 100, IORING_CQE_F_BUFFER | 7 << IORING_CQE_BUFFER_SHIFT);
        g.bench_function("uring_kmbuf_from_cqe", |b| {
            b.iter(|| {
                let bid = t.observe(black_box(&cqe)).named().unwrap();
                // SAFETY: as above.
                unsafe { km.buffer(bid) }.unwrap()[..cqe.raw_result() as usize].len()
            })
        });
    }
    g.bench_function("io-uring", |b| b.iter(|| raw.slice(black_box(7), 100).len()));
    g.finish();

    let mut g = c.benchmark_group("bundle_walk4");
    let br3 = BufRing::builder(5, ENTRIES, SIZE).build(&mut ring).unwrap();
    g.bench_function("uring", |b| {
        let mut first = 0u16;
        b.iter(|| {
            // SAFETY: the bench plays the kernel: no request on the ring selects from this buffer
            // ring, so nothing writes its buffers, and each completion names a buffer the ring holds
            // (taken in ring order), selected once.
            let Selection::Bundle(bundle) =
                unsafe { br3.select_bundle(&cqe_for(first, 4 * SIZE as i32 - 10)) }.unwrap()
            else {
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
                    // SAFETY: the bench plays the kernel: no request on the ring selects from this buffer
                    // ring, so nothing writes its buffers, and each completion names a buffer the ring holds
                    // (taken in ring order), selected once.
                    let sel = unsafe { br2.select(&cqe) }.unwrap();
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
