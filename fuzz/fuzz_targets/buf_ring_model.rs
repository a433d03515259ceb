//! The crate's provided-buffer rings (`uring::buf::BufRing`, registered on a real ring) against
//! a model of the kernel's consumer. The model owns the head: it selects buffers the way the
//! kernel does (plain: the whole buffer at head; incremental: `n` bytes of the buffer at head,
//! which stays there with `IORING_CQE_F_BUF_MORE` until used up; bundle: several contiguous
//! slots), writes a data pattern into them as the kernel would, and posts synthetic completions
//! (`Cqe::new`) that the crate turns into `Selection` guards. Guards are kept, dropped in any
//! order, kept past the ring borrow and recycled with `recycle_held` (a refused one comes back
//! and goes to its own ring) or `recycle_held_batch` (mixing both rings' buffers), or recycled
//! in batches.
//! Completions the kernel could not produce (bids out of range or already held, lengths past the
//! buffer, bundles on incremental rings) must get a typed error and change nothing.
//!
//! Invariants: no panic; a buffer is never handed out twice while held (selections' bytes keep
//! their pattern, so two guards never alias); bids in range; every selection's bytes lie in its
//! buffer inside the pool; the crate's tail equals the model's; the ring memory the kernel reads
//! (mapped a second time from the ring fd for kernel-mapped rings) holds exactly the model's
//! queue of buffers between head and tail; every buffer is in exactly one place (queue, held, or
//! leaked) and `held()` counts the held ones.
#![no_main]

use std::collections::VecDeque;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use uring::buf::{BufRing, HeldBuf, Selection};
use uring::uapi::*;
use uring::{Cqe, Ring};

#[derive(Arbitrary, Debug, Clone, Copy)]
struct Config {
    entries_log2: u8,
    buf_size: u8,
    incremental: bool,
    kernel_mapped: bool,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Bad {
    /// A bid at or past `entries`.
    OutOfRange(u16),
    /// A bid the application holds.
    Held(u8),
    /// A length past the buffer (plain), or past its end (incremental).
    TooLong(u16),
    /// A bundle on an incremental ring.
    IncBundle,
    /// A bundle longer than the whole ring.
    HugeBundle,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Action {
    /// The kernel completes an operation that selects from group `g` with `len` bytes.
    Complete { g: u8, len: u16 },
    /// A bundle completion of `len` bytes.
    Bundle { g: u8, len: u16 },
    /// A completion without a buffer (`ENOBUFS`, or none used).
    NoBuffer { g: u8, bundle: bool },
    /// A completion the kernel would not post.
    Bad { g: u8, bad: Bad },
    /// Drop guard `pick`.
    Drop { pick: u8 },
    /// Keep the buffer of guard `pick` past the borrow (`Buf::keep`).
    Keep { pick: u8 },
    /// Return a kept buffer (`recycle_held`), possibly to the wrong ring.
    RecycleHeld { pick: u8, wrong_ring: bool },
    /// Return up to 8 kept buffers of either ring to ring `g` in one batch
    /// (`recycle_held_batch`): the other ring's stay with the caller.
    RecycleHeldBatch { g: u8, picks: [u8; 8], n: u8 },
    /// Recycle several guards with one tail store (`recycle_and_advance`).
    Batch { picks: [u8; 4], n: u8 },
    /// Overwrite a whole buffer through `Buf::whole_mut`.
    Scribble { pick: u8, byte: u8 },
}

#[derive(Arbitrary, Debug)]
struct Input {
    rings: [Config; 2],
    two: bool,
    actions: Vec<Action>,
}

/// The model of one buffer ring: the kernel's view (queue from head to tail, incremental
/// progress) and where every buffer is.
struct Model {
    entries: u32,
    size: u32,
    incremental: bool,
    head: u16,
    tail: u16,
    /// Bids from head to tail, in ring order.
    queue: VecDeque<u16>,
    /// Incremental: bytes of the buffer at head already consumed.
    inc_off: u32,
    /// Buffers the application holds (selected and not recycled).
    held: Vec<bool>,
    /// Buffers lost for good (a kept buffer refused by the wrong ring and then dropped).
    leaked: Vec<bool>,
    /// Incremental: live pieces of each buffer, and whether its last piece has arrived.
    views: Vec<u32>,
    done: Vec<bool>,
}

impl Model {
    fn new(entries: u32, size: u32, incremental: bool) -> Self {
        Model {
            entries,
            size,
            incremental,
            head: 0,
            tail: entries as u16,
            queue: (0..entries as u16).collect(),
            inc_off: 0,
            held: vec![false; entries as usize],
            leaked: vec![false; entries as usize],
            views: vec![0; entries as usize],
            done: vec![false; entries as usize],
        }
    }

    fn recycle(&mut self, bid: u16) {
        assert!(self.held[bid as usize], "recycled buffer {bid} the application did not hold");
        self.held[bid as usize] = false;
        self.queue.push_back(bid);
        self.tail = self.tail.wrapping_add(1);
    }

    fn check(&self, ring: &BufRing, mem: Option<&RingMem>) {
        assert_eq!(ring.tail(), self.tail, "tail");
        assert_eq!(self.tail.wrapping_sub(self.head) as usize, self.queue.len());
        // Every buffer in exactly one place.
        let mut seen = vec![0u8; self.entries as usize];
        for &b in &self.queue {
            seen[b as usize] += 1;
        }
        for (b, n) in seen.iter_mut().enumerate() {
            *n += self.held[b] as u8 + self.leaked[b] as u8;
        }
        assert!(seen.iter().all(|&n| n == 1), "a buffer lost or duplicated: {seen:?}");
        let held = self.held.iter().chain(&self.leaked).filter(|&&h| h).count() as u32;
        assert_eq!(ring.held(), held, "held()");
        if let Some(m) = mem {
            let (pool, _) = ring.pool();
            assert_eq!(m.tail(), self.tail, "tail in ring memory");
            for (i, &bid) in self.queue.iter().enumerate() {
                let slot = self.head.wrapping_add(i as u16) as usize & (self.entries as usize - 1);
                let e = m.slot(slot);
                assert_eq!(e.bid, bid, "bid in slot {slot}");
                assert_eq!(e.addr, pool as u64 + bid as u64 * self.size as u64, "address in slot {slot}");
                assert_eq!(e.len, self.size, "length in slot {slot}");
            }
        }
    }
}

/// A second, read-only mapping of a kernel-allocated buffer ring: what the kernel reads.
struct RingMem {
    ptr: *const io_uring_buf,
    len: usize,
}

impl RingMem {
    fn map(ring: &Ring, bgid: u16, entries: u32) -> Self {
        use std::os::fd::AsRawFd;
        let fd = ring.submitter().fd().expect("ring fd").as_raw_fd();
        let len = entries as usize * core::mem::size_of::<io_uring_buf>();
        let off = IORING_OFF_PBUF_RING | (u64::from(bgid) << IORING_OFF_PBUF_SHIFT);
        // SAFETY: maps the kernel's ring for `bgid` read-only; unmapped in `drop`.
        let p = unsafe { libc::mmap(core::ptr::null_mut(), len, libc::PROT_READ, libc::MAP_SHARED, fd, off as i64) };
        assert_ne!(p, libc::MAP_FAILED, "mapping the buffer ring: {}", std::io::Error::last_os_error());
        RingMem { ptr: p as *const io_uring_buf, len }
    }

    fn slot(&self, i: usize) -> io_uring_buf {
        assert!(i * core::mem::size_of::<io_uring_buf>() < self.len);
        // SAFETY: in bounds of the live mapping; plain integers (the crate writes them only
        // while the model is not reading, in this single-threaded target).
        unsafe { core::ptr::read_volatile(self.ptr.add(i)) }
    }

    fn tail(&self) -> u16 {
        // SAFETY: the tail overlays `bufs[0].resv` at byte 14 of the live mapping.
        unsafe { core::ptr::read_volatile((self.ptr as *const u8).add(14) as *const u16) }
    }
}

impl Drop for RingMem {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `map`.
        unsafe { libc::munmap(self.ptr as *mut libc::c_void, self.len) };
    }
}

/// A live selection, what the model selected for it, and the byte its data must hold.
struct Guard<'a> {
    g: usize,
    sel: Selection<'a>,
    /// The buffers the model's kernel selected, in ring order.
    bids: Vec<u16>,
    /// Incremental pieces: `IORING_CQE_F_BUF_MORE` was set.
    more: bool,
    tag: u8,
}

fn cqe(bid: u16, res: i32, more: bool) -> Cqe {
    let mut flags = IORING_CQE_F_BUFFER | (u32::from(bid) << IORING_CQE_BUFFER_SHIFT);
    if more {
        flags |= IORING_CQE_F_BUF_MORE;
    }
    Cqe::new(0x5e1ec7, res, flags)
}

/// The kernel writes the received bytes into the buffer before posting the completion.
fn kernel_write(ring: &BufRing, bid: u16, off: u32, n: u32, tag: u8) {
    let (pool, len) = ring.pool();
    let start = bid as usize * ring.buf_size() as usize + off as usize;
    assert!(start + n as usize <= len);
    // SAFETY: inside the pool; the buffer is in the ring (no guard covers this range: an
    // incremental buffer's earlier pieces end at `off`).
    unsafe { core::ptr::write_bytes((pool as *mut u8).add(start), tag, n as usize) };
}

#[track_caller]
fn check_in_buffer(ring: &BufRing, bid: u16, data: &[u8]) {
    let (pool, len) = ring.pool();
    let size = ring.buf_size() as usize;
    let start = pool as usize + bid as usize * size;
    let p = data.as_ptr() as usize;
    assert!((bid as u32) < ring.entries(), "bid {bid} out of range");
    assert!(p >= start && p + data.len() <= start + size, "selection bytes outside buffer {bid}");
    assert!(p + data.len() <= pool as usize + len, "selection bytes outside the pool");
}

fn check_guard(rings: &[BufRing], gd: &Guard<'_>) {
    let ring = &rings[gd.g];
    match &gd.sel {
        Selection::None => {}
        Selection::Buffer(b) => {
            assert_eq!(vec![b.bid()], gd.bids, "buffer id");
            check_in_buffer(ring, b.bid(), b.data());
            assert!(b.data().iter().all(|&x| x == gd.tag), "buffer {} overwritten while held", b.bid());
        }
        Selection::Incremental(s) => {
            assert_eq!((vec![s.bid()], s.more()), (gd.bids.clone(), gd.more), "incremental piece");
            check_in_buffer(ring, s.bid(), s.data());
            assert!(s.data().iter().all(|&x| x == gd.tag), "incremental piece of {} overwritten", s.bid());
        }
        Selection::Bundle(b) => {
            let bids: Vec<u16> = b.bids().collect();
            assert_eq!(bids, gd.bids, "bundle buffers changed while held");
            assert_eq!(bids.len(), b.count());
            assert_eq!(b.first_bid(), bids[0]);
            let mut total = 0;
            for (bid, s) in bids.iter().zip(b.slices()) {
                check_in_buffer(ring, *bid, s);
                assert!(s.iter().all(|&x| x == gd.tag), "bundle buffer {bid} overwritten");
                total += s.len();
            }
            assert_eq!(total, b.len());
        }
    }
}

fuzz_target!(|input: Input| {
    let Ok(mut ring) = Ring::new(4) else { return };
    let n = if input.two { 2 } else { 1 };
    let mut rings = Vec::new();
    let mut models = Vec::new();
    let mut mems = Vec::new();
    for (g, c) in input.rings.iter().take(n).enumerate() {
        let entries = 1u32 << (c.entries_log2 % 6);
        let size = 1 + c.buf_size as u32 % 64;
        let mut b = BufRing::builder(g as u16, entries, size);
        if c.incremental {
            b = b.incremental();
        }
        if c.kernel_mapped {
            b = b.kernel_mapped();
        }
        let r = b.build(&mut ring).expect("registering a buffer ring");
        assert_eq!((r.entries(), r.buf_size(), r.is_incremental()), (entries, size, c.incremental));
        mems.push(c.kernel_mapped.then(|| RingMem::map(&ring, g as u16, entries)));
        models.push(Model::new(entries, size, c.incremental));
        rings.push(r);
    }
    let rings = rings;
    let mut guards: Vec<Guard<'_>> = Vec::new();
    let mut kept: Vec<(usize, HeldBuf, u8)> = Vec::new();
    let mut tag = 0u8;
    for m in 0..n {
        models[m].check(&rings[m], mems[m].as_ref());
    }

    for action in input.actions.iter().take(200) {
        tag = tag.wrapping_add(1);
        match *action {
            Action::Complete { g, len } => {
                let g = g as usize % n;
                let (ring, m) = (&rings[g], &mut models[g]);
                let Some(&bid) = m.queue.front() else {
                    // No buffer: the kernel fails the request with ENOBUFS.
                    // SAFETY: the model plays the kernel and is the only writer of the buffers (no
                    // request on the ring selects from them); completions it could not post test
                    // the defensive checks, which must refuse them.
                    let sel =
                        unsafe { ring.select(&Cqe::new(0, -libc::ENOBUFS, 0)) }.expect("a completion without a buffer");
                    assert!(matches!(sel, Selection::None));
                    continue;
                };
                if m.incremental {
                    let left = m.size - m.inc_off;
                    let n = (len as u32 % left) + 1;
                    let more = n < left;
                    kernel_write(ring, bid, m.inc_off, n, tag);
                    // SAFETY: the model plays the kernel and is the only writer of the buffers (no
                    // request on the ring selects from them); completions it could not post test
                    // the defensive checks, which must refuse them.
                    let sel = unsafe { ring.select(&cqe(bid, n as i32, more)) }.expect("a completion the kernel posts");
                    match &sel {
                        Selection::Incremental(s) => {
                            assert_eq!((s.bid(), s.offset(), s.len(), s.more()), (bid, m.inc_off, n as usize, more));
                        }
                        other => panic!("expected an incremental slice, got {other:?}"),
                    }
                    if more {
                        m.inc_off += n;
                    } else {
                        m.inc_off = 0;
                        m.queue.pop_front();
                        m.head = m.head.wrapping_add(1);
                        m.held[bid as usize] = true;
                    }
                    m.views[bid as usize] += 1;
                    guards.push(Guard { g, sel, bids: vec![bid], more, tag });
                } else {
                    let n = (len as u32).min(m.size);
                    kernel_write(ring, bid, 0, n, tag);
                    // SAFETY: the model plays the kernel and is the only writer of the buffers (no
                    // request on the ring selects from them); completions it could not post test
                    // the defensive checks, which must refuse them.
                    let sel =
                        unsafe { ring.select(&cqe(bid, n as i32, false)) }.expect("a completion the kernel posts");
                    match &sel {
                        Selection::Buffer(b) => assert_eq!((b.bid(), b.len()), (bid, n as usize)),
                        other => panic!("expected a buffer, got {other:?}"),
                    }
                    assert_eq!(sel.bid(), Some(bid));
                    assert_eq!(sel.len(), n as usize);
                    m.queue.pop_front();
                    m.head = m.head.wrapping_add(1);
                    m.held[bid as usize] = true;
                    guards.push(Guard { g, sel, bids: vec![bid], more: false, tag });
                }
            }
            Action::Bundle { g, len } => {
                let g = g as usize % n;
                let (ring, m) = (&rings[g], &mut models[g]);
                if m.incremental || m.queue.is_empty() {
                    continue;
                }
                let want = (len as usize).div_ceil(m.size as usize).max(1);
                let count = want.min(m.queue.len());
                let res = (len as usize).min(count * m.size as usize);
                let bids: Vec<u16> = m.queue.iter().take(count).copied().collect();
                let mut left = res as u32;
                for &b in &bids {
                    let k = left.min(m.size);
                    kernel_write(ring, b, 0, k, tag);
                    left -= k;
                }
                // SAFETY: the model plays the kernel and is the only writer of the buffers (no
                // request on the ring selects from them); completions it could not post test the
                // defensive checks, which must refuse them.
                let sel =
                    unsafe { ring.select_bundle(&cqe(bids[0], res as i32, false)) }.expect("a bundle the kernel posts");
                match &sel {
                    Selection::Bundle(b) => {
                        assert_eq!(b.bids().collect::<Vec<_>>(), bids, "bundle buffers");
                        assert_eq!((b.first_bid(), b.len(), b.is_empty()), (bids[0], res, res == 0));
                        assert_eq!(b.to_vec(), vec![tag; res]);
                    }
                    other => panic!("expected a bundle, got {other:?}"),
                }
                for &b in &bids {
                    m.queue.pop_front();
                    m.head = m.head.wrapping_add(1);
                    m.held[b as usize] = true;
                }
                guards.push(Guard { g, sel, bids, more: false, tag });
            }
            Action::NoBuffer { g, bundle } => {
                let ring = &rings[g as usize % n];
                let c = Cqe::new(1, if bundle { 0 } else { -libc::ENOBUFS }, 0);
                // SAFETY: the model plays the kernel and is the only writer of the buffers (no
                // request on the ring selects from them); completions it could not post test the
                // defensive checks, which must refuse them.
                let sel = if bundle { unsafe { ring.select_bundle(&c) } } else { unsafe { ring.select(&c) } };
                assert!(matches!(sel, Ok(Selection::None)));
            }
            Action::Bad { g, bad } => {
                let g = g as usize % n;
                let (ring, m) = (&rings[g], &models[g]);
                match bad {
                    Bad::OutOfRange(b) => {
                        let room = (u16::MAX as u32 - m.entries) as u16;
                        let bid = m.entries as u16 + b % room;
                        // SAFETY: the model plays the kernel and is the only writer of the buffers
                        // (no request on the ring selects from them); completions it could not post
                        // test the defensive checks, which must refuse them.
                        invalid(unsafe { ring.select(&cqe(bid, 0, false)) });
                        // SAFETY: the model plays the kernel and is the only writer of the buffers
                        // (no request on the ring selects from them); completions it could not post
                        // test the defensive checks, which must refuse them.
                        let r = unsafe { ring.select_bundle(&cqe(bid, 1, false)) };
                        if m.incremental {
                            unsupported(r);
                        } else {
                            invalid(r);
                        }
                    }
                    Bad::Held(pick) => {
                        let held: Vec<u16> =
                            (0..m.entries as u16).filter(|&b| m.held[b as usize] || m.leaked[b as usize]).collect();
                        if held.is_empty() {
                            continue;
                        }
                        let bid = held[pick as usize % held.len()];
                        let more = m.incremental && pick & 1 != 0;
                        // SAFETY: the model plays the kernel and is the only writer of the buffers
                        // (no request on the ring selects from them); completions it could not post
                        // test the defensive checks, which must refuse them.
                        invalid(unsafe { ring.select(&cqe(bid, 1, more)) });
                    }
                    Bad::TooLong(extra) => {
                        let Some(&bid) = m.queue.front() else { continue };
                        let len = m.size - if m.incremental { m.inc_off } else { 0 } + 1 + u32::from(extra);
                        // SAFETY: the model plays the kernel and is the only writer of the buffers
                        // (no request on the ring selects from them); completions it could not post
                        // test the defensive checks, which must refuse them.
                        invalid(unsafe { ring.select(&cqe(bid, len as i32, m.incremental)) });
                    }
                    Bad::IncBundle => {
                        let Some(&bid) = m.queue.front() else { continue };
                        if m.incremental {
                            // SAFETY: the model plays the kernel and is the only writer of the
                            // buffers (no request on the ring selects from them); completions it
                            // could not post test the defensive checks, which must refuse them.
                            unsupported(unsafe { ring.select_bundle(&cqe(bid, 1, false)) });
                        }
                    }
                    Bad::HugeBundle => {
                        let Some(&bid) = m.queue.front() else { continue };
                        if !m.incremental {
                            // SAFETY: the model plays the kernel and is the only writer of the
                            // buffers (no request on the ring selects from them); completions it
                            // could not post test the defensive checks, which must refuse them.
                            invalid(unsafe { ring.select_bundle(&cqe(bid, (m.entries * m.size + 1) as i32, false)) });
                        }
                    }
                }
            }
            Action::Drop { pick } => {
                if guards.is_empty() {
                    continue;
                }
                let gd = guards.remove(pick as usize % guards.len());
                check_guard(&rings, &gd);
                release(&mut models[gd.g], &gd);
                drop(gd);
            }
            Action::Keep { pick } => {
                if guards.is_empty() {
                    continue;
                }
                let i = pick as usize % guards.len();
                if !matches!(guards[i].sel, Selection::Buffer(_)) {
                    continue;
                }
                let gd = guards.remove(i);
                check_guard(&rings, &gd);
                let Selection::Buffer(b) = gd.sel else { unreachable!() };
                let (bid, len) = (b.bid(), b.len());
                let h = b.keep();
                assert_eq!((h.bid(), h.bgid(), h.len(), h.is_empty()), (bid, gd.g as u16, len, len == 0));
                kept.push((gd.g, h, gd.tag));
            }
            Action::RecycleHeld { pick, wrong_ring } => {
                if kept.is_empty() {
                    continue;
                }
                let (g, h, t) = kept.remove(pick as usize % kept.len());
                let data = rings[g].held_data(&h).expect("a kept buffer's bytes");
                check_in_buffer(&rings[g], h.bid(), data);
                assert!(data.iter().all(|&x| x == t), "kept buffer {} overwritten", h.bid());
                let bid = h.bid();
                if wrong_ring && n == 2 {
                    let other = 1 - g;
                    assert!(rings[other].held_data(&h).is_err());
                    let r = match rings[other].recycle_held(h) {
                        Err(r) if matches!(r.error(), uring::Error::InvalidArgument { .. }) => r,
                        r => panic!("recycle_held on the wrong ring: {r:?}"),
                    };
                    assert_eq!((r.buf().bgid(), r.buf().bid()), (g as u16, bid), "the refused buffer comes back");
                    if pick & 1 == 0 {
                        // Handed back: its own ring takes it.
                        rings[g].recycle_held(r.into_buf()).expect("recycling a refused buffer to its ring");
                        models[g].recycle(bid);
                    } else {
                        // Turned into the crate's error: the buffer is dropped, lost to its ring.
                        let _: uring::Error = r.into();
                        models[g].held[bid as usize] = false;
                        models[g].leaked[bid as usize] = true;
                    }
                } else {
                    rings[g].recycle_held(h).expect("recycling a kept buffer");
                    models[g].recycle(bid);
                }
            }
            Action::RecycleHeldBatch { g, picks, n: k } => {
                let g = g as usize % n;
                let mut batch = Vec::new();
                let mut tags = Vec::new();
                for &p in picks.iter().take(1 + k as usize % 8) {
                    if kept.is_empty() {
                        break;
                    }
                    let (kg, h, t) = kept.remove(p as usize % kept.len());
                    batch.push(h);
                    tags.push((kg, t));
                }
                let mine: Vec<u16> = batch.iter().filter(|h| h.bgid() == g as u16).map(|h| h.bid()).collect();
                let theirs: Vec<(u16, u16)> =
                    batch.iter().filter(|h| h.bgid() != g as u16).map(|h| (h.bgid(), h.bid())).collect();
                let tags: Vec<(usize, u8)> = tags.into_iter().filter(|&(kg, _)| kg != g).collect();
                assert_eq!(rings[g].recycle_held_batch(&mut batch), mine.len(), "buffers of this ring recycled");
                assert_eq!(
                    batch.iter().map(|h| (h.bgid(), h.bid())).collect::<Vec<_>>(),
                    theirs,
                    "the rest stay, in order"
                );
                // The crate adds them in the batch's order.
                for bid in mine {
                    models[g].recycle(bid);
                }
                for (h, (kg, t)) in batch.into_iter().zip(tags) {
                    kept.push((kg, h, t));
                }
            }
            Action::Batch { picks, n: k } => {
                if guards.is_empty() {
                    continue;
                }
                let g = guards[picks[0] as usize % guards.len()].g;
                let mut batch = Vec::new();
                for &p in picks.iter().take(1 + k as usize % 4) {
                    let same: Vec<usize> = (0..guards.len()).filter(|&i| guards[i].g == g).collect();
                    if same.is_empty() {
                        break;
                    }
                    let gd = guards.remove(same[p as usize % same.len()]);
                    check_guard(&rings, &gd);
                    release(&mut models[g], &gd);
                    batch.push(gd.sel);
                }
                rings[g].recycle_and_advance(batch, ring.cq(), 0).expect("advancing 0 slots");
            }
            Action::Scribble { pick, byte } => {
                if guards.is_empty() {
                    continue;
                }
                let i = pick as usize % guards.len();
                let gd = &mut guards[i];
                if let Selection::Buffer(b) = &mut gd.sel {
                    b.whole_mut().fill(byte);
                    assert!(b.data().iter().all(|&x| x == byte));
                    b.data_mut().fill(byte);
                    gd.tag = byte;
                }
            }
        }
        for gd in &guards {
            check_guard(&rings, gd);
        }
        for (g, h, t) in &kept {
            let data = rings[*g].held_data(h).expect("a kept buffer's bytes");
            assert!(data.iter().all(|x| x == t), "kept buffer {} overwritten", h.bid());
        }
        for m in 0..n {
            models[m].check(&rings[m], mems[m].as_ref());
        }
    }
    // Dropping every guard returns every buffer that is not kept or leaked.
    while let Some(gd) = guards.pop() {
        release(&mut models[gd.g], &gd);
    }
    for m in 0..n {
        models[m].check(&rings[m], mems[m].as_ref());
    }
    drop(kept);
    drop(mems);
});

#[track_caller]
fn invalid(r: uring::Result<Selection<'_>>) {
    match r {
        Err(uring::Error::InvalidArgument { .. }) => {}
        other => panic!("a completion the kernel cannot post was not refused: {other:?}"),
    }
}

#[track_caller]
fn unsupported(r: uring::Result<Selection<'_>>) {
    match r {
        Err(uring::Error::Unsupported { .. }) => {}
        other => panic!("a bundle on an incremental ring was not refused as unsupported: {other:?}"),
    }
}

/// What dropping the guard returns to the ring, in the order the crate adds them: the model's
/// own record of the selection (not what the crate reports). An incremental buffer returns once
/// its last piece has arrived and no piece of it is viewed any more.
fn release(m: &mut Model, gd: &Guard<'_>) {
    match &gd.sel {
        Selection::None => {}
        Selection::Buffer(_) | Selection::Bundle(_) => {
            for &bid in &gd.bids {
                m.recycle(bid);
            }
        }
        Selection::Incremental(_) => {
            let bid = gd.bids[0];
            let v = &mut m.views[bid as usize];
            *v -= 1;
            if !gd.more {
                m.done[bid as usize] = true;
            }
            if *v == 0 && m.done[bid as usize] {
                m.done[bid as usize] = false;
                m.recycle(bid);
            }
        }
    }
}
