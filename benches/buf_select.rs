//! Buffer selection microbenchmarks: this crate beside hand-written `io-uring` crate code
//! (`BufRingEntry` recycling, as its own tests do) in the same groups, so ratios come from one
//! run. See benches/README.md.
//!
//! The synthetic groups (decode, lookup, recycle, bundle walk) feed completions that name
//! buffers without the kernel selecting them: they measure user-space work only.
#![allow(missing_docs)] // criterion_group! generates undocumented items

use std::hint::black_box;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicU16, AtomicU32, Ordering};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use uring::buf::{BufRing, HeldBuf, KeptBufs, Selection};
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

/// `recycle_per_buffer`: buffers per batch, and at most this many batches acquired before each
/// timed stretch (1024 buffers, or the whole ring when it is smaller, so one clock read covers
/// up to 1024 recycled buffers).
const BATCH: usize = 32;
const BATCHES: usize = 32;
/// Ring sizes of the `recycle_per_buffer` and `cycle32` groups.
const SIZES: [u32; 3] = [256, 1024, 4096];

/// Times `recycle` over `iters` batches of 32: each round first acquires up to `batches` with
/// `acquire` (not timed), then times recycling them. Both sides use this, so the clock overhead
/// (two reads per 1024 buffers) and the call structure are the same.
fn time_rounds<S>(
    iters: u64,
    batches: usize,
    s: &mut S,
    mut acquire: impl FnMut(&mut S, usize),
    mut recycle: impl FnMut(&mut S, usize),
) -> Duration {
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let k = left.min(batches as u64) as usize;
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

/// liburing's side, hand-written in Rust with the same memory operations (no C linked):
/// `io_uring_buf_ring_add` reads the shared tail, writes address, length and bid into slot
/// `(tail + offset) & mask`; `io_uring_buf_ring_advance` stores `tail + count` with release.
mod liburing_eq {
    use super::*;

    /// `io_uring_buf_ring_add(br, addr, len, bid, mask, buf_offset)`.
    ///
    /// # Safety
    /// `br` is a live buffer ring of `mask + 1` slots whose tail only this thread writes.
    #[inline(always)]
    pub unsafe fn buf_ring_add(br: *mut io_uring_buf, addr: u64, len: u32, bid: u16, mask: u16, off: u16) {
        // SAFETY: the caller's promise; the tail overlays slot 0's `resv` (a plain load, as in C).
        unsafe {
            let tail = core::ptr::addr_of!((*br).resv).read();
            let buf = br.add((tail.wrapping_add(off) & mask) as usize);
            core::ptr::addr_of_mut!((*buf).addr).write(addr);
            core::ptr::addr_of_mut!((*buf).len).write(len);
            core::ptr::addr_of_mut!((*buf).bid).write(bid);
        }
    }

    /// `io_uring_buf_ring_advance(br, count)`.
    ///
    /// # Safety
    /// As [`buf_ring_add`].
    #[inline(always)]
    pub unsafe fn buf_ring_advance(br: *mut io_uring_buf, count: u16) {
        // SAFETY: the caller's promise; the tail is 2-aligned in the 8-aligned ring.
        unsafe {
            let t = &*(core::ptr::addr_of_mut!((*br).resv) as *const AtomicU16);
            let new = core::ptr::addr_of!((*br).resv).read().wrapping_add(count);
            t.store(new, Ordering::Release);
        }
    }

    /// `io_uring_cq_advance(ring, nr)`: a release store of `khead + nr`.
    #[inline(always)]
    pub fn cq_advance(khead: &AtomicU32, nr: u32) {
        khead.store(khead.load(Ordering::Relaxed).wrapping_add(nr), Ordering::Release);
    }

    /// `io_uring_buf_ring_cq_advance`: buffers first, then CQ slots.
    ///
    /// # Safety
    /// As [`buf_ring_add`].
    #[inline(always)]
    pub unsafe fn buf_ring_cq_advance(br: *mut io_uring_buf, khead: &AtomicU32, bufs: u16, cqes: u32) {
        // SAFETY: the caller's promise.
        unsafe { buf_ring_advance(br, bufs) };
        cq_advance(khead, cqes);
    }

    /// A buffer ring with the caller's own geometry (base + bid * size), registered on an
    /// `io-uring` crate ring (registration is not timed).
    pub struct LibBufRing {
        pub br: *mut io_uring_buf,
        pub mask: u16,
        pub base: u64,
    }

    impl LibBufRing {
        pub fn new(uring: &io_uring::IoUring, bgid: u16, entries: u32, pool: &[u8]) -> Self {
            // The ring memory of an `io-uring`-side ring: the same registration.
            let raw = RawBufRing::with_entries(uring, bgid, entries);
            let r = LibBufRing { br: raw.ring.cast(), mask: (entries - 1) as u16, base: pool.as_ptr() as u64 };
            core::mem::forget(raw.pool); // its pool is unused; the ring memory lives on
            r
        }

        /// One batch: `buf_ring_add` per buffer, one `buf_ring_advance`.
        #[inline(never)]
        pub fn recycle_batch(&self, bids: &mut Vec<u16>) -> usize {
            for (k, &bid) in bids.iter().enumerate() {
                // SAFETY: the live ring of `mask + 1` slots; this thread alone writes its tail.
                unsafe { buf_ring_add(self.br, self.base + bid as u64 * SIZE as u64, SIZE, bid, self.mask, k as u16) };
            }
            let n = bids.len();
            // SAFETY: as above.
            unsafe { buf_ring_advance(self.br, n as u16) };
            bids.clear();
            n
        }
    }
}

/// Recycle cost per buffer, batches of 32, ring sizes 256/1024/4096: the crate's batch paths
/// for kept tokens (`recycle_held_batch`) and for guards (`recycle_batch`), the `io-uring`
/// crate's `BufRingEntry` setters, and liburing's `io_uring_buf_ring_add` + `advance` written in
/// Rust. Acquiring the buffers (select, keep) is not timed.
fn recycle_sizes(c: &mut Criterion) {
    let mut g = c.benchmark_group("recycle_per_buffer");
    g.throughput(Throughput::Elements(BATCH as u64));
    let mut ring = Ring::new(8).unwrap();
    let io = io_uring::IoUring::new(8).unwrap();
    for (i, &entries) in SIZES.iter().enumerate() {
        let batches = BATCHES.min(entries as usize / BATCH);
        let br = BufRing::builder(10 + i as u16, entries, SIZE).build(&mut ring).unwrap();
        let mut next = 0u16;
        let mut held: Vec<Vec<HeldBuf>> = (0..batches).map(|_| Vec::with_capacity(BATCH)).collect();
        g.bench_function(format!("uring_held/{entries}"), |b| {
            b.iter_custom(|iters| {
                time_rounds(
                    iters,
                    batches,
                    &mut held,
                    |held, j| {
                        for _ in 0..BATCH {
                            // SAFETY: the bench plays the kernel: no request on the ring selects
                            // from this buffer ring, so nothing writes its buffers, and each
                            // completion names a buffer the ring holds (ring order), selected once.
                            let Selection::Buffer(buf) = unsafe { br.select(&cqe_for(next, 64)) }.unwrap() else {
                                unreachable!()
                            };
                            held[j].push(buf.keep());
                            next = (next + 1) % entries as u16;
                        }
                    },
                    |held, j| {
                        let n = br.recycle_held_batch(black_box(&mut held[j]));
                        debug_assert_eq!(n, BATCH);
                        black_box(n);
                    },
                )
            })
        });
        let mut kept: Vec<KeptBufs> = (0..batches).map(|_| br.kept_bufs(BATCH)).collect();
        g.bench_function(format!("uring_kept/{entries}"), |b| {
            b.iter_custom(|iters| {
                time_rounds(
                    iters,
                    batches,
                    &mut kept,
                    |kept, j| {
                        for _ in 0..BATCH {
                            // SAFETY: as above.
                            let Selection::Buffer(buf) = unsafe { br.select(&cqe_for(next, 64)) }.unwrap() else {
                                unreachable!()
                            };
                            kept[j].push(buf.keep()).unwrap();
                            next = (next + 1) % entries as u16;
                        }
                    },
                    |kept, j| {
                        black_box(recycle_kept(&br, black_box(&mut kept[j])));
                    },
                )
            })
        });
        let mut guards: Vec<Vec<Selection<'_>>> = (0..batches).map(|_| Vec::with_capacity(BATCH)).collect();
        g.bench_function(format!("uring_batch/{entries}"), |b| {
            b.iter_custom(|iters| {
                time_rounds(
                    iters,
                    batches,
                    &mut guards,
                    |guards, j| {
                        for _ in 0..BATCH {
                            // SAFETY: as above.
                            guards[j].push(unsafe { br.select(&cqe_for(next, 64)) }.unwrap());
                            next = (next + 1) % entries as u16;
                        }
                    },
                    |guards, j| recycle_guards(&br, black_box(&mut guards[j])),
                )
            })
        });
        drop(guards);
        let mut raw = RawBufRing::with_entries(&io, 10 + i as u16, entries);
        let mut bids: Vec<Vec<u16>> = (0..batches).map(|_| Vec::with_capacity(BATCH)).collect();
        let mut rnext = 0u16;
        let mut acquire = |bids: &mut Vec<Vec<u16>>, j: usize| {
            for _ in 0..BATCH {
                let cqe = cqe_for(rnext, 64);
                bids[j].push(io_uring::cqueue::buffer_select(black_box(&cqe).raw_flags()).unwrap());
                rnext = (rnext + 1) % entries as u16;
            }
        };
        g.bench_function(format!("io-uring/{entries}"), |b| {
            b.iter_custom(|iters| {
                time_rounds(iters, batches, &mut bids, &mut acquire, |bids, j| {
                    black_box(raw_recycle_batch(&mut raw, black_box(&mut bids[j])));
                })
            })
        });
        let pool = vec![0u8; entries as usize * SIZE as usize];
        let lib = liburing_eq::LibBufRing::new(&io, 20 + i as u16, entries, &pool);
        g.bench_function(format!("liburing-eq/{entries}"), |b| {
            b.iter_custom(|iters| {
                time_rounds(iters, batches, &mut bids, &mut acquire, |bids, j| {
                    black_box(lib.recycle_batch(black_box(&mut bids[j])));
                })
            })
        });
    }
    g.finish();
}

/// `recycle_per_buffer/uring_kept`: `BufRing::recycle_kept` of one batch. Not inlined, as the
/// other sides' batch functions.
#[inline(never)]
fn recycle_kept(br: &BufRing, kept: &mut KeptBufs) -> usize {
    br.recycle_kept(kept).unwrap()
}

/// `recycle_per_buffer/uring_batch`: one batch of guards through a `RecycleBatch`. Not inlined,
/// as the other sides' batch functions, so callgrind can count it.
#[inline(never)]
fn recycle_guards<'r>(br: &'r BufRing, guards: &mut Vec<Selection<'r>>) {
    let mut back = br.recycle_batch();
    for sel in guards.drain(..) {
        back.push(sel);
    }
    back.finish();
}

/// The synthetic completion of the `k`th buffer of a cycle batch starting at ring position `base`.
#[inline(always)]
fn cycle_cqe(base: u16, k: u16, mask: u16) -> Cqe {
    cqe_for(base.wrapping_add(k) & mask, 64)
}

/// One `cycle32` batch, ours: `RecycleBatch::select_lent` per completion, then
/// `finish_and_release` (tail store, CQ head store). Each cycle function is not inlined, so
/// every side pays one call per batch and callgrind can count each.
#[inline(never)]
fn cycle_lent(br: &BufRing, cq: &mut uring::cq::CompletionQueue, base: u16, mask: u16) {
    let drain = cq.iter();
    let mut back = br.recycle_batch();
    for k in 0..32u16 {
        let cqe = cycle_cqe(base, k, mask);
        // SAFETY: the bench plays the kernel: no request selects from this buffer ring, and
        // each completion names a buffer in the ring (ring order), selected once.
        black_box(unsafe { back.select_lent(black_box(&cqe)) }.unwrap());
    }
    back.finish_and_release(drain);
}

/// One `cycle32` batch, ours with guards: `select` per completion, the `Selection` pushed into
/// a `RecycleBatch`, then `finish_and_release`.
#[inline(never)]
fn cycle_guards(br: &BufRing, cq: &mut uring::cq::CompletionQueue, base: u16, mask: u16) {
    let drain = cq.iter();
    let mut back = br.recycle_batch();
    for k in 0..32u16 {
        let cqe = cycle_cqe(base, k, mask);
        // SAFETY: as in `cycle_lent`.
        let sel = unsafe { br.select(black_box(&cqe)) }.unwrap();
        black_box(sel.data());
        back.push(sel);
    }
    back.finish_and_release(drain);
}

/// One `cycle32` batch, ours with `recycle_and_advance` over an iterator of guards.
#[inline(never)]
fn cycle_advance(br: &BufRing, cq: &mut uring::cq::CompletionQueue, base: u16, mask: u16) {
    let sels = (0..32u16).map(|k| {
        let cqe = cycle_cqe(base, k, mask);
        // SAFETY: as in `cycle_lent`.
        let sel = unsafe { br.select(black_box(&cqe)) }.unwrap();
        black_box(sel.data());
        sel
    });
    br.recycle_and_advance(sels, cq, 0).unwrap();
}

/// One `cycle32` batch, the io-uring crate: decode, slice, `BufRingEntry` writes, tail store,
/// then the CQ head store (its `CompletionQueue` syncs on drop).
#[inline(never)]
fn cycle_io(raw: &mut RawBufRing, io: &mut io_uring::IoUring, base: u16, mask: u16) {
    let cq = io.completion();
    for k in 0..32u16 {
        let cqe = cycle_cqe(base, k, mask);
        let cqe = black_box(&cqe);
        let id = io_uring::cqueue::buffer_select(cqe.raw_flags()).unwrap();
        black_box(raw.slice(id, cqe.raw_result() as usize));
        raw.add(id, k);
    }
    raw.advance(32);
    drop(cq);
}

/// One `cycle32` batch, liburing's helpers in Rust: decode, slice, `io_uring_buf_ring_add`,
/// then `__io_uring_buf_ring_cq_advance` (tail store, CQ head store).
#[inline(never)]
fn cycle_lib(lib: &liburing_eq::LibBufRing, khead: &AtomicU32, base: u16, mask: u16) {
    for k in 0..32u16 {
        let cqe = cycle_cqe(base, k, mask);
        let cqe = black_box(&cqe);
        // The bid in the upper 16 bits of the flags, then the caller's geometry.
        let flags = cqe.raw_flags();
        assert!(flags & IORING_CQE_F_BUFFER != 0);
        let bid = (flags >> IORING_CQE_BUFFER_SHIFT) as u16;
        let addr = lib.base + bid as u64 * SIZE as u64;
        // SAFETY: `addr` is in the pool, `res <= SIZE`.
        black_box(unsafe { core::slice::from_raw_parts(addr as *const u8, cqe.raw_result() as usize) });
        // SAFETY: the live ring of `mask + 1` slots; this thread alone writes its tail.
        unsafe { liburing_eq::buf_ring_add(lib.br, addr, SIZE, bid, lib.mask, k) };
    }
    // SAFETY: as above.
    unsafe { liburing_eq::buf_ring_cq_advance(lib.br, khead, 32, 0) };
}

/// The whole cycle per batch of 32 completions, ring sizes 256/1024/4096: decode each
/// completion, make the buffer's slice, recycle it, then one tail store and one CQ head store
/// (`io_uring_buf_ring_cq_advance`). The completions are synthetic (this bench plays the
/// kernel), so every side releases 0 real CQ slots with one store of the CQ head: ours through
/// `RecycleBatch::finish_and_release` over the ring's real (empty) CQ, the io-uring crate's
/// through its `CompletionQueue` (sync on drop), liburing's as `io_uring_cq_advance`.
fn cycle_sizes(c: &mut Criterion, ring: &mut Ring) {
    let mut g = c.benchmark_group("cycle32");
    g.throughput(Throughput::Elements(32));
    let mut io = io_uring::IoUring::new(8).unwrap();
    let khead = AtomicU32::new(0);
    for (i, &entries) in SIZES.iter().enumerate() {
        let br = BufRing::builder(30 + i as u16, entries, SIZE).build(ring).unwrap();
        let mask = entries as u16 - 1;
        let mut base = 0u16;
        g.bench_function(format!("uring_lent/{entries}"), |b| {
            b.iter(|| {
                cycle_lent(&br, ring.split().2, base, mask);
                base = base.wrapping_add(32);
            })
        });
        g.bench_function(format!("uring_batch/{entries}"), |b| {
            b.iter(|| {
                cycle_guards(&br, ring.split().2, base, mask);
                base = base.wrapping_add(32);
            })
        });
        g.bench_function(format!("uring_advance/{entries}"), |b| {
            b.iter(|| {
                cycle_advance(&br, ring.split().2, base, mask);
                base = base.wrapping_add(32);
            })
        });
        let mut raw = RawBufRing::with_entries(&io, 30 + i as u16, entries);
        let mut rbase = 0u16;
        g.bench_function(format!("io-uring/{entries}"), |b| {
            b.iter(|| {
                cycle_io(&mut raw, &mut io, rbase, mask);
                rbase = rbase.wrapping_add(32);
            })
        });
        let pool = vec![0u8; entries as usize * SIZE as usize];
        let lib = liburing_eq::LibBufRing::new(&io, 40 + i as u16, entries, &pool);
        let mut lbase = 0u16;
        g.bench_function(format!("liburing-eq/{entries}"), |b| {
            b.iter(|| {
                cycle_lib(&lib, &khead, lbase, mask);
                lbase = lbase.wrapping_add(32);
            })
        });
        drop(pool);
    }
    g.finish();
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

    recycle_sizes(c);
    cycle_sizes(c, &mut ring);

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
