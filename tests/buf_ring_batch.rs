//! Returning kept buffers (`HeldBuf`) on the real kernel: in batches with one tail store
//! (`BufRing::recycle_held_batch`), across the end of the ring, with buffers of other rings left
//! to the caller, in the ring order bundles follow; a buffer refused by the wrong ring comes
//! back to the caller (`Rejected`); and no allocation on any recycle path.

mod common;

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::Ordering;

use uring::buf::{BufRing, HeldBuf, KeptBufs, Selection};
use uring::uapi::*;
use uring::{op, Cqe, Error, Ring, Sqe};

#[path = "common/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::{ALLOCS, COUNTING};

/// A read of up to `len` bytes (0: the buffer's size) at `off` into a buffer selected from `bgid`.
fn read_select(fd: RawFd, bgid: u16, len: u32, off: u64) -> Sqe {
    let mut sqe = op::prep_rw(IORING_OP_READ, fd, 0, len, off);
    sqe.as_raw_mut().flags |= IOSQE_BUFFER_SELECT;
    sqe.as_raw_mut().buf.buf_group = bgid;
    sqe
}

fn push(ring: &mut Ring, sqe: Sqe) {
    // SAFETY: these entries point at no caller memory (the buffer comes from the group).
    unsafe { ring.sq().push_raw(&sqe) }.unwrap();
}

/// `n` reads of `len` bytes from `fd` (at `off`, `off + len`, ...) into buffers of `br`; returns
/// the kept buffers in completion order, with the bytes each holds.
fn read_and_keep(ring: &mut Ring, br: &BufRing, fd: RawFd, n: u32, len: u32, off: u64) -> Vec<(HeldBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for i in 0..n {
        push(ring, read_select(fd, br.bgid(), len, off + (i * len) as u64));
        ring.submit_and_wait(1).unwrap();
        let cqe = ring.cq().pop().unwrap();
        assert_eq!(cqe.result(), Ok(len), "read {i} into a selected buffer");
        // SAFETY: the kernel posted this completion into the CQ for a request selecting from this
        // buffer ring; it is selected once.
        let Selection::Buffer(buf) = unsafe { br.select(&cqe) }.unwrap() else { panic!("one buffer") };
        let bytes = buf.data().to_vec();
        out.push((buf.keep(), bytes));
    }
    out
}

/// A file of 256 blocks of `block` bytes; block `j` is filled with byte `j`.
fn block_file(name: &str, block: usize) -> (std::fs::File, std::path::PathBuf) {
    let path = std::env::temp_dir().join(format!("uring-{name}-{}", std::process::id()));
    let data: Vec<u8> = (0..256 * block).map(|i| (i / block) as u8).collect();
    std::fs::write(&path, data).unwrap();
    (std::fs::File::open(&path).unwrap(), path)
}

/// One batch crosses the end of the ring; the kernel then takes the buffers in exactly the
/// order they were returned, and writes each at its own address. Both ring memory kinds.
#[test]
fn batch_wraps_and_the_kernel_takes_buffers_in_order() {
    for kernel_mapped in [false, true] {
        let mut ring = Ring::new(8).unwrap();
        let mut b = BufRing::builder(21, 8, 16);
        if kernel_mapped {
            b = b.kernel_mapped();
        }
        let br = b.build(&mut ring).unwrap();
        let (f, path) = block_file("batch-wrap", 16);
        let fd = f.as_raw_fd();
        // Take all 8, return 3 one by one and take them again: the tail is now 3 slots past a
        // multiple of the ring size, so a batch of 8 wraps after 5.
        let mut kept = read_and_keep(&mut ring, &br, fd, 8, 16, 0);
        for (i, (h, bytes)) in kept.iter().enumerate() {
            assert_eq!((h.bid(), bytes.as_slice()), (i as u16, &[i as u8; 16][..]));
        }
        for (h, _) in kept.drain(..3) {
            br.recycle_held(h).unwrap();
        }
        kept.extend(read_and_keep(&mut ring, &br, fd, 3, 16, 8 * 16));
        assert_eq!(br.held(), 8);
        assert_eq!(br.available().unwrap(), 0);
        let tail = br.tail();
        assert_eq!(tail % 8, 3);
        // Return all 8 in a scrambled order, in one batch.
        let order = [5u16, 2, 7, 0, 3, 6, 1, 4];
        let mut batch: Vec<HeldBuf> = Vec::with_capacity(8);
        for bid in order {
            let i = kept.iter().position(|(h, _)| h.bid() == bid).unwrap();
            batch.push(kept.swap_remove(i).0);
        }
        let cap = batch.capacity();
        assert_eq!(br.recycle_held_batch(&mut batch), 8);
        assert!(batch.is_empty());
        assert_eq!(batch.capacity(), cap, "the vector keeps its memory for the next batch");
        assert_eq!(br.tail(), tail.wrapping_add(8));
        assert_eq!((br.held(), br.available().unwrap()), (0, 8));
        // The kernel takes them in the order returned, and the bytes land in each buffer.
        let again = read_and_keep(&mut ring, &br, fd, 8, 16, 11 * 16);
        let bids: Vec<u16> = again.iter().map(|(h, _)| h.bid()).collect();
        assert_eq!(bids, order, "kernel_mapped {kernel_mapped}: ring order is the batch order");
        for (i, (h, bytes)) in again.iter().enumerate() {
            assert_eq!(bytes, &[11 + i as u8; 16], "buffer {} holds its own read", h.bid());
            assert_eq!(br.held_data(h).unwrap(), bytes.as_slice());
        }
        let mut rest: Vec<HeldBuf> = again.into_iter().map(|(h, _)| h).collect();
        assert_eq!(br.recycle_held_batch(&mut rest), 8);
        assert_eq!(br.recycle_held_batch(&mut rest), 0, "an empty batch is a no-op");
        assert_eq!(br.available().unwrap(), 8);
        std::fs::remove_file(&path).unwrap();
    }
}

/// `KeptBufs`: tokens checked at `push` (another ring's refused and handed back), stored as
/// bids, returned by `recycle_kept` across the end of the ring (slot 0, whose `resv` is the
/// shared tail, written field by field, the others whole) in the order pushed; the kernel then
/// takes them in that order and writes each at its own address. A list of another ring is
/// refused, untouched. A send ring's tokens go back to its free list. Both ring memory kinds.
#[test]
fn kept_bufs_wrap_and_refuse_other_rings() {
    common::watchdog("kept_bufs_wrap_and_refuse_other_rings", 30, || {
        for kernel_mapped in [false, true] {
            let mut ring = Ring::new(8).unwrap();
            let mut b = BufRing::builder(31, 8, 16);
            if kernel_mapped {
                b = b.kernel_mapped();
            }
            let br = b.build(&mut ring).unwrap();
            let other = BufRing::builder(32, 4, 16).build(&mut ring).unwrap();
            let (f, path) = block_file("kept-wrap", 16);
            let fd = f.as_raw_fd();
            let mut held = read_and_keep(&mut ring, &br, fd, 8, 16, 0);
            for (h, _) in held.drain(..3) {
                br.recycle_held(h).unwrap();
            }
            held.extend(read_and_keep(&mut ring, &br, fd, 3, 16, 8 * 16));
            let tail = br.tail();
            assert_eq!((tail % 8, br.held()), (3, 8), "the batch below wraps after 5");
            let order = [5u16, 2, 7, 0, 3, 6, 1, 4];
            let mut kept: KeptBufs = br.kept_bufs(8);
            for bid in order {
                let i = held.iter().position(|(h, _)| h.bid() == bid).unwrap();
                kept.push(held.swap_remove(i).0).unwrap();
            }
            assert_eq!((kept.len(), kept.bids()), (8, &order[..]));
            // Another ring's token: refused, handed back, and its own ring takes it.
            let (foreign, _) = read_and_keep(&mut ring, &other, fd, 1, 16, 0).pop().unwrap();
            let r = kept.push(foreign).unwrap_err();
            assert!(matches!(r.error(), Error::InvalidArgument { what: "kept buffer", .. }), "{r}");
            other.recycle_held(r.into_buf()).unwrap();
            assert_eq!((kept.len(), other.held()), (8, 0));
            // Another ring's list: refused, nothing changes.
            let e = other.recycle_kept(&mut kept).unwrap_err();
            assert!(matches!(e, Error::InvalidArgument { what: "kept buffers", .. }), "{e}");
            assert_eq!((kept.len(), br.held(), other.available().unwrap()), (8, 8, 4));
            assert_eq!(br.recycle_kept(&mut kept).unwrap(), 8);
            assert!(kept.is_empty());
            assert_eq!(br.tail(), tail.wrapping_add(8));
            assert_eq!((br.held(), br.available().unwrap()), (0, 8));
            let again = read_and_keep(&mut ring, &br, fd, 8, 16, 11 * 16);
            let bids: Vec<u16> = again.iter().map(|(h, _)| h.bid()).collect();
            assert_eq!(bids, order, "kernel_mapped {kernel_mapped}: ring order is the push order");
            for (i, (h, bytes)) in again.iter().enumerate() {
                assert_eq!(bytes, &[11 + i as u8; 16], "buffer {} holds its own read", h.bid());
            }
            // Recycled many times round the ring, with the CQ advance refused when too large.
            let mut kept = br.kept_bufs(8);
            for (h, _) in again {
                kept.push(h).unwrap();
            }
            let (_, _, cq) = ring.split();
            assert!(br.recycle_kept_and_advance(&mut kept, cq, 1).is_err(), "no CQ slot is ready");
            assert_eq!(kept.len(), 8, "refused: nothing recycled");
            assert_eq!(br.recycle_kept_and_advance(&mut kept, cq, 0).unwrap(), 8);
            for round in 0..10u64 {
                let first = round * 8 % 248;
                for (i, (h, bytes)) in read_and_keep(&mut ring, &br, fd, 8, 16, first * 16).into_iter().enumerate() {
                    assert_eq!(bytes, vec![(first + i as u64) as u8; 16], "round {round}");
                    kept.push(h).unwrap();
                }
                assert_eq!(br.recycle_kept(&mut kept).unwrap(), 8);
                assert_eq!(br.available().unwrap(), 8, "round {round}");
            }
            std::fs::remove_file(&path).unwrap();
        }
        // A send ring: its tokens go back to its free list.
        let mut ring = Ring::new(8).unwrap();
        let send = BufRing::builder(33, 4, 16).send().build(&mut ring).unwrap();
        let mut kept = send.kept_bufs(4);
        while let Some(h) = send.take_free() {
            kept.push(h).unwrap();
        }
        assert_eq!(kept.len(), 4);
        assert_eq!(send.recycle_kept(&mut kept).unwrap(), 4);
        assert_eq!(std::iter::from_fn(|| send.take_free()).count(), 4, "all four free again");
    });
}

/// A batch that mixes two rings' buffers returns only this ring's; the others stay in the
/// vector, in order, and go back to their own ring afterwards. Whether the first buffer is
/// foreign or a later one, the result is the same.
#[test]
fn batch_leaves_other_rings_buffers_in_order() {
    let mut ring = Ring::new(8).unwrap();
    let a = BufRing::builder(22, 4, 32).build(&mut ring).unwrap();
    let b = BufRing::builder(23, 4, 32).build(&mut ring).unwrap();
    let zero = std::fs::File::open("/dev/zero").unwrap();
    let fd = zero.as_raw_fd();
    for foreign_first in [true, false] {
        let mut ha: Vec<HeldBuf> = read_and_keep(&mut ring, &a, fd, 3, 32, 0).into_iter().map(|x| x.0).collect();
        let mut hb: Vec<HeldBuf> = read_and_keep(&mut ring, &b, fd, 3, 32, 0).into_iter().map(|x| x.0).collect();
        let b_bids: Vec<u16> = hb.iter().map(|h| h.bid()).collect();
        let mut mixed = Vec::new();
        if foreign_first {
            mixed.push(hb.remove(0));
        }
        mixed.push(ha.remove(0));
        mixed.push(ha.remove(0));
        mixed.append(&mut hb);
        mixed.push(ha.remove(0));
        assert_eq!((a.held(), b.held()), (3, 3));
        assert_eq!(a.recycle_held_batch(&mut mixed), 3);
        assert_eq!(
            mixed.iter().map(|h| (h.bgid(), h.bid())).collect::<Vec<_>>(),
            b_bids.iter().map(|&x| (23, x)).collect::<Vec<_>>()
        );
        assert_eq!((a.held(), a.available().unwrap()), (0, 4));
        assert_eq!(b.held(), 3, "the other ring's buffers are untouched");
        assert_eq!(b.recycle_held_batch(&mut mixed), 3);
        assert!(mixed.is_empty());
        assert_eq!((b.held(), b.available().unwrap()), (0, 4));
    }
}

/// The wrong ring refuses a kept buffer and hands it back; its own ring then takes it.
#[test]
fn refused_held_buffer_goes_back_to_its_own_ring() {
    let mut ring = Ring::new(8).unwrap();
    let a = BufRing::builder(25, 4, 32).build(&mut ring).unwrap();
    let b = BufRing::builder(26, 4, 32).build(&mut ring).unwrap();
    let zero = std::fs::File::open("/dev/zero").unwrap();
    let mut kept = read_and_keep(&mut ring, &a, zero.as_raw_fd(), 2, 32, 0);
    let (h, _) = kept.remove(0);
    let bid = h.bid();
    let r = b.recycle_held(h).unwrap_err();
    assert!(matches!(r.error(), Error::InvalidArgument { what: "held buffer", .. }), "{r}");
    assert_eq!((r.buf().bgid(), r.buf().bid()), (25, bid));
    assert!(r.to_string().contains("refused"), "{r}");
    let _: &dyn std::error::Error = &r;
    assert_eq!((a.held(), b.held()), (2, 0), "nothing changed on either ring");
    a.recycle_held(r.into_buf()).unwrap();
    assert_eq!((a.held(), a.available().unwrap()), (1, 3));
    // With `?` the refusal becomes the crate's error (the buffer is then lost to its ring).
    fn give_back(to: &BufRing, h: HeldBuf) -> uring::Result<()> {
        to.recycle_held(h)?;
        Ok(())
    }
    let (h, _) = kept.remove(0);
    assert!(matches!(give_back(&b, h), Err(Error::InvalidArgument { what: "held buffer", .. })));
    assert_eq!(a.held(), 1, "leaked, never handed out again");
}

/// Bundles follow the ring order a batch wrote: a recv bundle after a scrambled batch names
/// the buffers in the batch's order, and its bytes arrive in order.
#[test]
fn bundle_follows_batch_order() {
    let mut ring = Ring::new(8).unwrap();
    if !ring.features().contains(uring::Features::RECVSEND_BUNDLE) {
        common::skip("bundle_follows_batch_order", "kernel lacks IORING_FEAT_RECVSEND_BUNDLE (6.10)");
        return;
    }
    let br = BufRing::builder(27, 8, 100).build(&mut ring).unwrap();
    let zero = std::fs::File::open("/dev/zero").unwrap();
    let mut kept: Vec<HeldBuf> =
        read_and_keep(&mut ring, &br, zero.as_raw_fd(), 8, 100, 0).into_iter().map(|x| x.0).collect();
    let order = [6u16, 1, 4, 0, 7, 2, 5, 3];
    kept.sort_by_key(|h| order.iter().position(|&b| b == h.bid()));
    assert_eq!(br.recycle_held_batch(&mut kept), 8);
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut client = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    let (server, _) = l.accept().unwrap();
    let data: Vec<u8> = (0..350u32).map(|i| i as u8).collect();
    client.write_all(&data).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(5));
    let (mut got, mut bids) = (Vec::new(), Vec::new());
    while got.len() < data.len() {
        let mut sqe = op::prep_rw(IORING_OP_RECV, server.as_raw_fd(), 0, 0, 0);
        sqe.as_raw_mut().flags |= IOSQE_BUFFER_SELECT;
        sqe.as_raw_mut().buf.buf_group = 27;
        sqe.as_raw_mut().ioprio = IORING_RECVSEND_BUNDLE;
        push(&mut ring, sqe);
        let cqe = ring.wait_cqe().unwrap();
        // SAFETY: the kernel posted this completion into the CQ for a request selecting from this
        // buffer ring; it is selected once.
        let Selection::Bundle(b) = unsafe { br.select_bundle(&cqe) }.unwrap() else { panic!("expected a bundle") };
        bids.extend(b.bids());
        got.extend_from_slice(&b.to_vec());
    }
    assert_eq!(got, data, "bytes in order");
    assert_eq!(bids, order[..4], "the bundle's buffers are the batch's first four, in order");
}

/// Recycling kept buffers (one by one, in batches, mixed batches, `KeptBufs`) and guards
/// (`recycle_and_advance`) allocates nothing. Synthetic completions: no request uses the
/// groups, so the kernel never reads them.
#[test]
fn recycling_allocates_nothing() {
    let mut ring = Ring::new(8).unwrap();
    let a = BufRing::builder(28, 64, 64).build(&mut ring).unwrap();
    let b = BufRing::builder(29, 64, 64).build(&mut ring).unwrap();
    let cqe = |bid: u16| Cqe::new(0, 64, IORING_CQE_F_BUFFER | (bid as u32) << IORING_CQE_BUFFER_SHIFT);
    // SAFETY: the kernel posted this completion into the CQ for a request selecting from this
    // buffer ring; it is selected once.
    let keep = |br: &BufRing, bid: u16| match unsafe { br.select(&cqe(bid)) }.unwrap() {
        Selection::Buffer(buf) => buf.keep(),
        _ => unreachable!(),
    };
    let mut batch: Vec<HeldBuf> = Vec::with_capacity(64);
    let mut kept = a.kept_bufs(8);
    let mut next = 0u16;
    let before = ALLOCS.load(Ordering::Relaxed);
    COUNTING.with(|c| c.set(true));
    for round in 0..200 {
        for _ in 0..32 {
            batch.push(keep(&a, next));
            next = (next + 1) % 64;
        }
        if round % 2 == 1 {
            batch.push(keep(&b, 0));
        }
        let n = a.recycle_held_batch(&mut batch);
        assert_eq!(n, 32);
        if let Some(h) = batch.pop() {
            let r = a.recycle_held(h).unwrap_err();
            b.recycle_held(r.into_buf()).unwrap();
        }
        // SAFETY: the kernel posted this completion into the CQ for a request selecting from this
        // buffer ring; it is selected once.
        let sels = [unsafe { a.select(&cqe(next)) }.unwrap(), unsafe { a.select(&cqe((next + 1) % 64)) }.unwrap()];
        next = (next + 2) % 64;
        let (_, _, cq) = ring.split();
        a.recycle_and_advance(sels, cq, 0).unwrap();
        for _ in 0..8 {
            kept.push(keep(&a, next)).unwrap();
            next = (next + 1) % 64;
        }
        assert_eq!(a.recycle_kept(&mut kept).unwrap(), 8);
    }
    COUNTING.with(|c| c.set(false));
    assert_eq!(ALLOCS.load(Ordering::Relaxed) - before, 0, "allocations while recycling");
    assert_eq!((a.held(), b.held()), (0, 0));
}

/// `RecycleBatch::select_lent` on the real kernel: the bytes of each read, the buffers back in
/// the ring after the batch (the next reads take them again, in ring order), and a held
/// buffer, an incremental ring and a send ring refused with typed errors.
#[test]
fn select_lent_lends_bytes_and_recycles() {
    common::watchdog("select_lent_lends_bytes_and_recycles", 30, || {
        let mut ring = Ring::new(16).unwrap();
        let br = BufRing::builder(40, 8, 4096).build(&mut ring).unwrap();
        let (f, path) = block_file("select-lent", 4096);
        std::fs::remove_file(&path).unwrap();
        for round in 0..4u64 {
            for i in 0..6u64 {
                push(&mut ring, read_select(f.as_raw_fd(), 40, 100, (round * 6 + i) * 4096));
            }
            ring.submit_and_wait(6).unwrap();
            let (_, _, cq) = ring.split();
            let mut it = cq.iter();
            let mut back = br.recycle_batch();
            let mut seen = Vec::new();
            for cqe in &mut it {
                // SAFETY: the kernel posted this completion for a read selecting from `br`; it
                // is selected once.
                let bytes = unsafe { back.select_lent(&cqe) }.unwrap().expect("a buffer");
                assert_eq!(bytes.len(), 100);
                seen.push(bytes[0]);
            }
            back.finish_and_release(it);
            seen.sort();
            let want: Vec<u8> = (0..6).map(|i| (round * 6 + i) as u8).collect();
            assert_eq!(seen, want, "round {round}");
            assert_eq!(br.held(), 0, "every buffer back in the ring");
            assert_eq!(br.available().unwrap(), 8);
        }
        // A completion without a buffer: nothing selected.
        let mut back = br.recycle_batch();
        // SAFETY: names no buffer.
        assert_eq!(unsafe { back.select_lent(&Cqe::new(0, 0, 0)) }.unwrap(), None);
        drop(back);
        // A buffer the application holds is refused (a completion selected twice).
        let cqe = Cqe::new(0, 8, IORING_CQE_F_BUFFER | 3 << IORING_CQE_BUFFER_SHIFT);
        // SAFETY: the bench-style synthetic completion names a buffer no request uses: no
        // request selects from the group now, and it is selected once before the refusal.
        let kept = unsafe { br.select(&cqe) }.unwrap();
        let mut back = br.recycle_batch();
        // SAFETY: as above (refused: the buffer is held).
        let e = unsafe { back.select_lent(&cqe) }.unwrap_err();
        assert!(matches!(e, Error::InvalidArgument { what: "buffer id", .. }), "{e}");
        drop(back);
        drop(kept);
        // A send ring's completions need `select`.
        let send = BufRing::builder(41, 4, 64).send().build(&mut ring).unwrap();
        let mut back = send.recycle_batch();
        // SAFETY: refused before any buffer is touched.
        let e = unsafe { back.select_lent(&cqe) }.unwrap_err();
        assert!(matches!(e, Error::InvalidArgument { what: "select_lent", .. }), "{e}");
    });
}

/// `RecycleBatch::select_lent`'s checks, with synthetic completions (no request selects from
/// these rings, so the kernel writes none of their buffers): an id out of range and a length
/// over the buffer size are refused with their typed errors and take nothing; a negative result
/// (a request that failed after the kernel took its buffer) lends the buffer with no bytes, also
/// when the buffer size is above `i32::MAX`; a length of exactly the buffer size is lent whole;
/// and an incremental ring is refused whatever the completion names.
#[test]
fn select_lent_checks_id_length_and_negative_results() {
    common::watchdog("select_lent_checks_id_length_and_negative_results", 30, || {
        let test = "select_lent_checks_id_length_and_negative_results";
        let cqe = |bid: u32, res: i32| Cqe::new(0, res, IORING_CQE_F_BUFFER | bid << IORING_CQE_BUFFER_SHIFT);
        let mut ring = Ring::new(4).unwrap();
        let br = BufRing::builder(44, 8, 64).build(&mut ring).unwrap();
        let mut back = br.recycle_batch();
        // SAFETY: a synthetic completion of a buffer no request uses (none is pushed on this
        // ring), selected once; the same for every completion below.
        let e = unsafe { back.select_lent(&cqe(8, 1)) }.unwrap_err();
        assert!(matches!(e, Error::InvalidArgument { what: "buffer id", .. }), "{e}");
        // SAFETY: as above.
        let e = unsafe { back.select_lent(&cqe(0, 65)) }.unwrap_err();
        assert!(matches!(e, Error::InvalidArgument { what: "completion length", .. }), "{e}");
        assert_eq!(br.held(), 0, "a refused completion takes nothing");
        // SAFETY: as above.
        assert_eq!(unsafe { back.select_lent(&cqe(0, -libc::ECONNRESET)) }.unwrap(), Some(&[][..]));
        // SAFETY: as above.
        assert_eq!(unsafe { back.select_lent(&cqe(1, i32::MIN)) }.unwrap().map(<[u8]>::len), Some(0));
        // SAFETY: as above.
        assert_eq!(unsafe { back.select_lent(&cqe(2, 64)) }.unwrap().map(<[u8]>::len), Some(64));
        // SAFETY: as above.
        let e = unsafe { back.select_lent(&cqe(2, 1)) }.unwrap_err();
        assert!(matches!(e, Error::InvalidArgument { what: "buffer id", .. }), "held: {e}");
        assert_eq!(br.held(), 3);
        let tail = br.tail();
        back.finish();
        assert_eq!((br.held(), br.tail()), (0, tail.wrapping_add(3)), "the three back in the ring");

        // One buffer of 2 GiB (address space only): a negative result is still no bytes. A
        // small machine's overcommit policy may refuse the mapping (the kernel matrix's VMs do).
        match BufRing::builder(45, 1, 1 << 31).lazy_pool().build(&mut ring) {
            Ok(big) => {
                let mut back = big.recycle_batch();
                // SAFETY: as above.
                assert_eq!(unsafe { back.select_lent(&cqe(0, -1)) }.unwrap(), Some(&[][..]));
                drop(back);
                assert_eq!(big.held(), 0);
            }
            Err(e) if e.is_errno(libc::ENOMEM) => {
                common::skip(test, format!("the 2 GiB buffer part: the mapping was refused: {e}"))
            }
            Err(e) => panic!("a 2 GiB lazy pool: {e}"),
        }

        match BufRing::builder(46, 8, 64).incremental().build(&mut ring) {
            Ok(inc) => {
                let mut back = inc.recycle_batch();
                for c in [cqe(0, 1), cqe(8, 1), cqe(0, -1)] {
                    // SAFETY: as above.
                    let e = unsafe { back.select_lent(&c) }.unwrap_err();
                    assert!(matches!(e, Error::InvalidArgument { what: "select_lent", .. }), "{e}");
                }
                assert_eq!(inc.held(), 0);
            }
            Err(e) => common::skip(test, format!("no incremental buffer ring (Linux 6.12): {e}")),
        }
    });
}
