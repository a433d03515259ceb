//! Returning buffers to a provided-buffer ring: one at a time as guards drop, in batches with
//! one tail store ([`Refill`]), kept tokens ([`HeldBuf`]), and a send ring's free list.

use core::cell::Cell;

use uring_uapi::*;

use crate::buf::ring::{BufRing, HELD, SUCC};
use crate::buf::select::{HeldBuf, Selection, Whole};

use crate::cq::CompletionQueue;
use crate::{Cqe, Error, Result};

/// What the batch recycle loop reads per buffer: a kept token, whose ring id is checked, or a
/// bare bid of [`KeptBufs`], checked when it was stored.
trait KeptBid {
    /// The bid, if this is a buffer of ring `id`.
    fn bid_of(&self, id: u64) -> Option<u16>;
}

impl KeptBid for HeldBuf {
    #[inline(always)]
    fn bid_of(&self, id: u64) -> Option<u16> {
        (self.ring_id() == id).then_some(self.bid())
    }
}

impl KeptBid for u16 {
    #[inline(always)]
    fn bid_of(&self, _: u64) -> Option<u16> {
        Some(*self)
    }
}

impl BufRing {
    /// Incremental buffer `bid` goes back to the ring: its next piece starts at offset 0, and
    /// pieces reaped before now are stale (a new generation).
    #[cold]
    pub(super) fn inc_recycled(&self, bid: u16) {
        self.inc_off[bid as usize].set(0);
        if let Some(shared) = &self.inc_shared {
            shared.gen[bid as usize].fetch_add(1, core::sync::atomic::Ordering::Relaxed);
        }
    }

    /// Records a new live view of incremental buffer `bid`.
    #[inline]
    pub(crate) fn inc_view_opened(&self, bid: u16) {
        let c = &self.inc_views[bid as usize];
        c.set(c.get() + 1);
    }

    /// A view of incremental buffer `bid` ends (`last`: it was the buffer's final piece).
    /// Returns whether the buffer is now free to go back to the ring: its last piece arrived and
    /// no view of it remains, so the kernel may reuse it without anyone reading it.
    #[inline]
    pub(crate) fn inc_view_closed(&self, bid: u16, last: bool) -> bool {
        let views = &self.inc_views[bid as usize];
        views.set(views.get() - 1);
        let done = &self.inc_done[bid as usize];
        if last {
            done.set(true);
        }
        if views.get() == 0 && done.get() {
            done.set(false);
            true
        } else {
            false
        }
    }

    /// Returns buffer `bid`, held by the application, to the kernel: one slot write, two
    /// bookkeeping stores and one tail store (`io_uring_buf_ring_add(3)` then
    /// `io_uring_buf_ring_advance(3)` by one). What a [`Refill`] of one buffer does, without its
    /// batch state, for the drop of a single guard.
    #[inline]
    pub(crate) fn recycle_bid(&self, bid: u16) {
        if self.send {
            return self.release_free(bid);
        }
        self.add_one(bid, self.buf_size);
    }

    /// Adds buffer `bid`, held by the application, to the ring with length `size` (at most
    /// `buf_size`), with one tail store.
    #[inline]
    fn add_one(&self, bid: u16, size: u32) {
        debug_assert!(self.info(bid).get() & HELD != 0, "recycling buffer {bid}, which is not held");
        debug_assert!(size <= self.buf_size);
        let mut prod = self.prod.get();
        // The pool holds `entries * buf_size` bytes and `bid < entries`: no overflow.
        let addr = self.base as u64 + bid as u64 * self.buf_size as u64;
        // SAFETY: `slot(0) < entries`, so the entry is in the live ring mapping; it is free and
        // unread by the kernel until the tail store below, as in `Refill::write_slot`.
        unsafe { Refill::write(self.slots.add(prod.slot(0) as usize), addr, size, bid) };
        if self.incremental {
            self.inc_recycled(bid);
        }
        // The previous last buffer (which may be held: its bit stays) is now followed by `bid`;
        // then `bid` itself: back in the ring, its successor not yet known. In this order, so
        // that `bid` ends up clear when it was the last added buffer itself.
        let last = self.info(self.last_added.get());
        last.set((last.get() & !SUCC) | bid as u32);
        self.info(bid).set(0);
        self.last_added.set(bid);
        prod.advance(self.tail_atomic(), 1);
        self.prod.set(prod);
    }

    /// Returns the `count` buffers of a bundle, from `first` along the ring-order links, with
    /// a single tail store.
    #[inline]
    pub(crate) fn recycle_chain(&self, first: u16, count: u16) {
        if self.send {
            let mut bid = first;
            for _ in 0..count {
                let next = self.succ_of(bid);
                self.release_free(bid);
                bid = next;
            }
            return;
        }
        let mut refill = Refill::new(self);
        refill.push_chain(first, count);
    }

    /// Send rings: buffer `bid` (held) goes back on the free list, not into the ring.
    #[cold]
    fn release_free(&self, bid: u16) {
        debug_assert!(self.send && self.info(bid).get() & HELD != 0);
        let n = self.free_n.get();
        // At most `entries` buffers are held, and each is on the free list at most once (a
        // held buffer has one owner, which gives it back once).
        self.free[n as usize].set(bid);
        self.free_n.set(n + 1);
    }

    /// Send rings ([`BufRingBuilder::send`](crate::buf::BufRingBuilder::send)): a free buffer, to fill and
    /// [`queue`](Self::queue); `None` when every buffer is queued or in use (or on a receive
    /// ring). The token is the application's proof that it holds the buffer, as the ones
    /// [`Buf::keep`](crate::buf::Buf::keep) makes.
    pub fn take_free(&self) -> Option<HeldBuf> {
        let n = self.free_n.get().checked_sub(1)?;
        self.free_n.set(n);
        let bid = self.free[n as usize].get();
        Some(HeldBuf::new(self.id, self.bgid, bid, 0))
    }

    /// The whole buffer of a held token (`buf_size` bytes), writable: to fill a buffer of a
    /// send ring before [`queue`](Self::queue), or to reuse a received one. A token of another
    /// ring is refused. Buffer rings: `IORING_REGISTER_PBUF_RING`, Linux 5.19; send rings need
    /// Linux 6.10. The slice borrows the token mutably, so there is one at a time:
    ///
    /// ```compile_fail,E0499
    /// # let mut ring = uring::Ring::new(8).unwrap();
    /// let br = uring::buf::BufRing::builder(1, 2, 64).send().build(&mut ring).unwrap();
    /// let mut held = br.take_free().unwrap();
    /// let a = br.held_data_mut(&mut held).unwrap();
    /// let b = br.held_data_mut(&mut held).unwrap(); // error: `held` is borrowed by `a`
    /// a[0] = b[0];
    /// ```
    pub fn held_data_mut<'a>(&'a self, held: &'a mut HeldBuf) -> Result<&'a mut [u8]> {
        if !self.owns(held) {
            return Err(Error::InvalidArgument { what: "held buffer", reason: "a buffer of another ring" });
        }
        // SAFETY: a token of this ring whose buffer is held (checked) names a buffer that is
        // out of the ring, `bid < entries`; the token is unique and borrowed mutably for the
        // slice's life, so no other reference to the buffer exists.
        Ok(unsafe { core::slice::from_raw_parts_mut(self.buf_ptr(held.bid()), self.buf_size as usize) })
    }

    /// Send rings: queues a held buffer, to be sent with its first `len` bytes (1 to
    /// `buf_size`), by the next send bundles on this group (`io_uring_buf_ring_add(3)` with the
    /// length, then `io_uring_buf_ring_advance(3)`). Refused (the token handed back): another
    /// ring's token, a receive ring, a length out of range.
    /// Send bundles (`IORING_RECVSEND_BUNDLE`) need Linux 6.10.
    pub fn queue(&self, held: HeldBuf, len: u32) -> core::result::Result<(), crate::buf::Rejected> {
        let error = if !self.send {
            Error::InvalidArgument { what: "queue", reason: "only for send rings (BufRingBuilder::send)" }
        } else if !self.owns(&held) {
            Error::InvalidArgument { what: "held buffer", reason: "a buffer of another ring" }
        } else if len == 0 || len > self.buf_size {
            Error::InvalidArgument { what: "queue length", reason: "must be 1 to buf_size bytes" }
        } else {
            self.lens[held.bid() as usize].set(len);
            self.add_one(held.bid(), len);
            return Ok(());
        };
        Err(crate::buf::Rejected::new(held, error))
    }

    /// The bytes buffer `bid` holds when full: its queued length on a send ring, else the
    /// buffer size.
    #[inline]
    pub(crate) fn len_of(&self, bid: u16) -> u32 {
        if self.send {
            self.lens[bid as usize].get()
        } else {
            self.buf_size
        }
    }

    /// Whether `held` is a buffer of this ring held by the application: the check that lets a
    /// kept buffer go back to the ring. A few instructions: the ring id, then the [`HELD`] bit.
    #[inline(always)]
    pub(crate) fn owns(&self, held: &HeldBuf) -> bool {
        // A `HeldBuf` is made only by `Buf::keep` from a buffer this ring handed out, so with a
        // matching ring id its bid is below `entries` (checked at selection) and `info` is in
        // bounds; `&&` skips the lookup for another ring's buffers.
        held.ring_id() == self.id && self.info(held.bid()).get() & HELD != 0
    }

    /// Returns every kept buffer of `held` that belongs to this ring, with one tail store for
    /// the whole batch (`io_uring_buf_ring_add(3)` per buffer, then
    /// `io_uring_buf_ring_advance(3)`), and removes them from `held`. Buffers of other rings stay
    /// in `held`, in their order, for the caller to return to their own rings. Returns how many
    /// were recycled.
    ///
    /// Safe because a [`HeldBuf`] is the proof that the application holds its buffer (it is
    /// made once per selection, cannot be copied, and is consumed here), so the per-buffer check
    /// is that the token names this ring: one compare. Then the slot write (address computed
    /// from the pool geometry, length, bid) and one bookkeeping store (the held bit and the
    /// ring-order link share a word). No allocation: `held` only shrinks, and keeps its capacity
    /// for the next batch.
    /// Buffer rings: Linux 5.19.
    ///
    /// ```
    /// # use uring::{buf::{BufRing, Selection}, Ring};
    /// # let mut ring = Ring::new(8)?;
    /// # let br = BufRing::builder(1, 64, 4096).build(&mut ring)?;
    /// let mut done = Vec::with_capacity(32); // reused: recycling allocates nothing
    /// for cqe in ring.cq().iter() {
    ///     // SAFETY: completions of this ring's CQ, each of a read that selected from `br`
    ///     // (the only requests this ring runs), selected once.
    ///     if let Selection::Buffer(buf) = unsafe { br.select(&cqe) }? {
    ///         done.push(buf.keep()); // processed later, past the borrow of `br`
    ///     }
    /// }
    /// let n = br.recycle_held_batch(&mut done);
    /// assert!(done.is_empty(), "{n} recycled, none of another ring");
    /// # Ok::<(), uring::Error>(())
    /// ```
    pub fn recycle_held_batch(&self, held: &mut Vec<HeldBuf>) -> usize {
        let id = self.id;
        let Some(first) = held.first() else { return 0 };
        let mut refill = Refill::new(self);
        // Kept buffers come from whole-buffer selections, which incremental rings never make;
        // a send ring's buffers go to its free list.
        if first.ring_id() != id || self.incremental || self.send {
            return self.recycle_held_mixed(held, 0, refill);
        }
        // A token of this ring is proof that the application holds the buffer (see `HeldBuf`),
        // so the fast path checks the ring id only; the held bit agrees (checked in debug).
        let pushed = refill.push_batch(held, id);
        if pushed < held.len() {
            return self.recycle_held_mixed(held, pushed, refill);
        }
        drop(refill);
        let n = held.len();
        // `HeldBuf` has no drop glue: the recycled tokens are consumed without a trace.
        held.clear();
        n
    }

    /// [`recycle_held_batch`](Self::recycle_held_batch) from `held[start]` on, which belongs to
    /// another ring (the tokens before it went into `refill`): the buffers of other rings move
    /// to the front of `held`, in order, and stay.
    #[cold]
    #[inline(never)]
    fn recycle_held_mixed(&self, held: &mut Vec<HeldBuf>, start: usize, mut refill: Refill<'_>) -> usize {
        let mut kept = 0;
        for i in start..held.len() {
            if self.owns(&held[i]) {
                if self.send {
                    self.release_free(held[i].bid());
                } else {
                    refill.push(held[i].bid());
                }
            } else {
                held.swap(kept, i);
                kept += 1;
            }
        }
        drop(refill);
        let n = held.len() - kept;
        // The first `kept` are the refused tokens; the rest were recycled (no drop glue).
        held.truncate(kept);
        n
    }

    /// Recycles every buffer of `sels` with one tail store (one per 64 buffers), then releases
    /// `cq_slots` CQ slots (`io_uring_buf_ring_cq_advance(3)`): the batch path for bundles and
    /// 32-byte CQEs. A send ring's buffers go back to its free list instead (never into the
    /// ring), as when their selections are dropped.
    /// Buffer rings: Linux 5.19.
    pub fn recycle_and_advance<'a>(
        &'a self,
        sels: impl IntoIterator<Item = Selection<'a>>,
        cq: &mut CompletionQueue,
        cq_slots: u32,
    ) -> Result<()> {
        // The bids are gathered first and written to the ring after the caller's iterator is
        // done: its `next` is caller code, which may itself return buffers of this ring, and
        // that must not happen while a batch is open (both would write the same slots).
        let mut gather = Gather::new(self);
        for sel in sels {
            sel.release_into(self, |bid| gather.push(bid));
        }
        drop(gather); // one tail store, before the CQ slots are released
        cq.advance(cq_slots)
    }
}

/// Kept buffers of one ring, stored as bare buffer ids: each [`HeldBuf`] token is checked
/// against the ring once, when it is [`push`](KeptBufs::push)ed, so that
/// [`BufRing::recycle_kept`] returns them all with the loop of liburing's
/// `io_uring_buf_ring_add(3)` (read a bid, write its slot) plus one bookkeeping store per
/// buffer, and one tail store (`io_uring_buf_ring_advance(3)`). Two bytes per buffer where a
/// `Vec<HeldBuf>` holds sixteen. Made by [`BufRing::kept_bufs`]. Buffer rings: Linux 5.19.
///
/// Like the tokens it holds it is neither `Clone` nor `Copy`; dropping it with buffers in it
/// leaks them (the ring has fewer), it never frees memory the kernel could use.
///
/// ```
/// # use uring::{buf::{BufRing, Selection}, Ring};
/// # let mut ring = Ring::new(8)?;
/// # let br = BufRing::builder(1, 64, 4096).build(&mut ring)?;
/// let mut kept = br.kept_bufs(32); // reused: recycling allocates nothing
/// for cqe in ring.cq().iter() {
///     // SAFETY: completions of this ring's CQ, each of a read that selected from `br`
///     // (the only requests this ring runs), selected once.
///     if let Selection::Buffer(buf) = unsafe { br.select(&cqe) }? {
///         kept.push(buf.keep())?; // refused (and handed back) if of another ring
///     }
/// }
/// let n = br.recycle_kept(&mut kept)?;
/// assert!(kept.is_empty(), "{n} recycled");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct KeptBufs {
    /// The ring whose buffers these are ([`BufRing`]'s unique id).
    ring: u64,
    /// Ids of buffers of that ring held by the application, each once (every one came from a
    /// consumed `HeldBuf` of that ring), all below its entry count.
    bids: Vec<u16>,
}

impl KeptBufs {
    /// Adds a kept buffer. Refused, with the token handed back, if it belongs to another
    /// ring ([`Error::InvalidArgument`]).
    #[inline]
    pub fn push(&mut self, held: HeldBuf) -> core::result::Result<(), crate::buf::Rejected> {
        if held.ring_id() != self.ring {
            return Err(crate::buf::Rejected::new(
                held,
                Error::InvalidArgument { what: "kept buffer", reason: "a buffer of another ring" },
            ));
        }
        // The token is consumed: its buffer is now this list's (no drop glue to run).
        self.bids.push(held.bid());
        Ok(())
    }

    /// Buffers in the list.
    #[inline]
    pub fn len(&self) -> usize {
        self.bids.len()
    }

    /// Whether the list is empty.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.bids.is_empty()
    }

    /// The buffer ids in the list, in the order they were pushed (the order
    /// [`BufRing::recycle_kept`] returns them in).
    #[inline]
    pub fn bids(&self) -> &[u16] {
        &self.bids
    }
}

impl BufRing {
    /// An empty [`KeptBufs`] for this ring's buffers, with room for `capacity` of them
    /// before it allocates.
    pub fn kept_bufs(&self, capacity: usize) -> KeptBufs {
        KeptBufs { ring: self.id, bids: Vec::with_capacity(capacity) }
    }

    /// Returns every buffer of `kept` to this ring with one tail store
    /// (`io_uring_buf_ring_add(3)` per buffer, then `io_uring_buf_ring_advance(3)`), in the
    /// order they were pushed, and empties `kept` (which keeps its capacity). Returns how many.
    /// Refused, with `kept` untouched, if it was made by another ring
    /// ([`Error::InvalidArgument`]). Buffer rings: Linux 5.19.
    ///
    /// Safe because every id in `kept` came from a [`HeldBuf`] of this ring (checked at
    /// [`KeptBufs::push`], the token consumed there): the application holds each of those
    /// buffers, once, and they go back once, here.
    pub fn recycle_kept(&self, kept: &mut KeptBufs) -> Result<usize> {
        if kept.ring != self.id {
            return Err(Error::InvalidArgument { what: "kept buffers", reason: "made by another buffer ring" });
        }
        let n = kept.bids.len();
        if self.send {
            for &bid in &kept.bids {
                self.release_free(bid);
            }
        } else {
            let pushed = Refill::new(self).push_batch(&kept.bids, self.id);
            // Every bid is this ring's and at most `entries` buffers are held: all fit.
            debug_assert_eq!(pushed, n);
        }
        kept.bids.clear();
        Ok(n)
    }

    /// [`recycle_kept`](Self::recycle_kept), then releases `cq_slots` CQ slots
    /// (`io_uring_buf_ring_cq_advance(3)`): the buffers go back to the kernel before the
    /// completions that named them are released. Refused (nothing recycled) when fewer than
    /// `cq_slots` CQ slots are ready, or as `recycle_kept` refuses.
    /// Buffer rings: Linux 5.19.
    pub fn recycle_kept_and_advance(
        &self,
        kept: &mut KeptBufs,
        cq: &mut CompletionQueue,
        cq_slots: u32,
    ) -> Result<usize> {
        check_cq_slots(cq, cq_slots)?;
        let n = self.recycle_kept(kept)?;
        cq.advance(cq_slots)?;
        Ok(n)
    }
}

impl BufRing {
    /// [`recycle_held_batch`](Self::recycle_held_batch), then releases `cq_slots` CQ slots
    /// (`io_uring_buf_ring_cq_advance(3)`): kept buffers go back to the kernel before the
    /// completions that named them are released. Returns how many buffers were recycled;
    /// buffers of other rings stay in `held`. Refused (nothing recycled) when fewer than
    /// `cq_slots` CQ slots are ready.
    /// Buffer rings: Linux 5.19.
    pub fn recycle_held_and_advance(
        &self,
        held: &mut Vec<HeldBuf>,
        cq: &mut CompletionQueue,
        cq_slots: u32,
    ) -> Result<usize> {
        check_cq_slots(cq, cq_slots)?;
        let n = self.recycle_held_batch(held);
        cq.advance(cq_slots)?;
        Ok(n)
    }

    /// A batch of buffers going back to this ring while the caller does other work, such as
    /// iterating the completion queue with [`CompletionQueue::iter`] (which holds the queue,
    /// so [`recycle_and_advance`](Self::recycle_and_advance) cannot be called there): each
    /// [`push`](RecycleBatch::push) or [`push_held`](RecycleBatch::push_held) records a
    /// buffer, and the buffers are written to the ring with one tail store per 64 and when the
    /// batch ends ([`finish`](RecycleBatch::finish),
    /// [`finish_and_release`](RecycleBatch::finish_and_release), or its drop). As
    /// `io_uring_buf_ring_add(3)` per buffer and `io_uring_buf_ring_advance(3)` (or
    /// `io_uring_buf_ring_cq_advance(3)`) at the end.
    /// Buffer rings: Linux 5.19.
    ///
    /// ```
    /// # use uring::{buf::BufRing, Ring};
    /// # let mut ring = Ring::new(8)?;
    /// # let br = BufRing::builder(1, 64, 4096).build(&mut ring)?;
    /// let mut cq = ring.cq().iter();
    /// let mut back = br.recycle_batch();
    /// for cqe in &mut cq {
    ///     // SAFETY: completions of this ring's CQ, each of a read that selected from `br`
    ///     // (the only requests this ring runs), selected once.
    ///     let sel = unsafe { br.select(&cqe) }?;
    ///     let _bytes = sel.data(); // use them
    ///     back.push(sel);
    /// }
    /// back.finish_and_release(cq); // the buffers first, then the CQ slots
    /// # Ok::<(), uring::Error>(())
    /// ```
    #[inline]
    pub fn recycle_batch(&self) -> RecycleBatch<'_> {
        RecycleBatch {
            gather: Gather::new(self),
            // A ring whose buffers are not lent (incremental, send) refuses every completion
            // in the id check `select_lent` makes anyway, with no check of its own.
            whole: if self.incremental | self.send { self.whole().refusing_all() } else { self.whole() },
        }
    }
}

/// Buffers going back to a ring in a batch; from [`BufRing::recycle_batch`]. The buffers are
/// recorded as they are pushed and written to the ring (with one tail store) only when 64 are
/// recorded and when the batch ends, so nothing the caller runs in between, such as another
/// guard of the same ring dropped, can interleave with the writes. Dropping the batch (also
/// while unwinding) returns what it holds.
#[derive(Debug)]
pub struct RecycleBatch<'r> {
    gather: Gather<'r>,
    /// The ring's geometry for [`select_lent`](Self::select_lent), copied once; with no
    /// buffer id in range when the ring's buffers may not be lent (an incremental or a send
    /// ring), so that its id check refuses them.
    whole: Whole<'r>,
}

impl<'r> RecycleBatch<'r> {
    /// Records the buffer(s) of a selection of this ring (a whole buffer, the last piece of an
    /// incremental buffer with no other view open, a bundle's buffers), consuming the guard;
    /// a send ring's go back to its free list when the batch writes. A selection of another
    /// ring is dropped, which returns its buffers to their own ring.
    #[inline]
    pub fn push(&mut self, sel: Selection<'r>) {
        let gather = &mut self.gather;
        sel.release_into(gather.ring, |bid| gather.push(bid));
    }

    /// Records a kept buffer of this ring; a token of another ring comes back refused.
    #[inline]
    pub fn push_held(&mut self, held: HeldBuf) -> core::result::Result<(), crate::buf::Rejected> {
        let ring = self.gather.ring;
        if !ring.owns(&held) || ring.send {
            return Err(refuse_held(ring, held));
        }
        self.gather.push(held.bid());
        Ok(())
    }

    /// Selects the whole buffer a completion names, lends its bytes until the next use of the
    /// batch, and records the buffer to go back to the ring with the batch: the cycle
    /// completion -> bytes -> recycle without a guard moved per completion. `Ok(None)` when the
    /// completion names no buffer (`IORING_CQE_F_BUFFER` clear). The checks of
    /// [`BufRing::select`] (buffer id, length, held bit) with their errors; an incremental ring
    /// (its pieces need [`BufRing::select`]) or a send ring is refused with
    /// [`Error::InvalidArgument`].
    ///
    /// The bytes borrow the batch mutably, so they are gone before the next call records
    /// another buffer or the batch writes the recorded ones to the ring, which only a call on
    /// the batch or its end does: the kernel gets a buffer back only after its bytes are.
    /// Buffer rings: Linux 5.19 (`IORING_CQE_F_BUFFER`).
    ///
    /// ```
    /// # use uring::{buf::BufRing, Ring};
    /// # let mut ring = Ring::new(8)?;
    /// # let br = BufRing::builder(1, 64, 4096).build(&mut ring)?;
    /// let mut total = 0;
    /// let mut cq = ring.cq().iter();
    /// let mut back = br.recycle_batch();
    /// for cqe in &mut cq {
    ///     // SAFETY: completions of this ring's CQ, each of a read that selected from `br`
    ///     // (the only requests this ring runs), selected once.
    ///     if let Some(bytes) = unsafe { back.select_lent(&cqe) }? {
    ///         total += bytes.len();
    ///     }
    /// }
    /// back.finish_and_release(cq); // the buffers first, then the CQ slots
    /// # Ok::<(), uring::Error>(())
    /// ```
    ///
    /// Lent bytes cannot outlive the next use of the batch:
    ///
    /// ```compile_fail,E0499
    /// # let mut ring = uring::Ring::new(8).unwrap();
    /// # let br = uring::buf::BufRing::builder(1, 8, 64).build(&mut ring).unwrap();
    /// # let cqe = uring::Cqe::new(0, 0, 0);
    /// let mut back = br.recycle_batch();
    /// let a = unsafe { back.select_lent(&cqe) }.unwrap();
    /// let b = unsafe { back.select_lent(&cqe) }.unwrap(); // error: `back` is borrowed by `a`
    /// let _ = (a, b);
    /// ```
    ///
    /// # Safety
    /// As for [`BufRing::select`]: `cqe` is a completion the kernel posted for a request
    /// (not a bundle) that selected a buffer from this batch's ring, read from that ring's CQ,
    /// and selected only this once.
    #[inline]
    pub unsafe fn select_lent(&mut self, cqe: &Cqe) -> Result<Option<&[u8]>> {
        let ring = self.gather.ring;
        let Some(bid) = cqe.buffer_id() else { return Ok(None) };
        // Held until the batch writes it to the ring (past the life of the bytes below). An
        // incremental or send ring fails the id check (see `whole`), sorted out on the cold path.
        let len = self.whole.take_or(bid, cqe, move || refuse_lent(ring, bid))?;
        // Records `bid` (a full batch is written first: its buffers' bytes are no longer lent,
        // as this call borrows the batch mutably).
        self.gather.push(bid);
        // SAFETY: the caller's promise: the kernel took buffer `bid` out of the ring for this
        // completion and wrote `len <= buf_size` bytes (checked), and it is marked held, so
        // nothing else hands it out; it goes back to the ring only when the batch writes it,
        // which needs the batch again, after the borrow of the returned bytes ends.
        Ok(Some(unsafe { core::slice::from_raw_parts(self.whole.buf_ptr(bid), len as usize) }))
    }

    /// Writes the recorded buffers to the ring with one tail store
    /// (`io_uring_buf_ring_advance(3)`).
    #[inline(always)]
    pub fn finish(self) {}

    /// Writes the recorded buffers to the ring with one tail store, then releases the CQ slots
    /// `cq` has read (`io_uring_buf_ring_cq_advance(3)`): the buffers go back to the kernel
    /// before the completions that named them are released.
    #[inline(always)]
    pub fn finish_and_release(self, cq: crate::cq::Drain<'_>) {
        drop(self);
        drop(cq);
    }
}

/// Refuses to release more CQ slots than are ready (before anything is recycled).
fn check_cq_slots(cq: &CompletionQueue, cq_slots: u32) -> Result<()> {
    if cq_slots > cq.ready() {
        return Err(Error::InvalidArgument { what: "completion queue advance", reason: "more slots than are ready" });
    }
    Ok(())
}

/// Why [`RecycleBatch::select_lent`] refused the id or the length of a completion naming `bid`:
/// the ring's buffers are not lent (a send or an incremental ring), else as
/// [`BufRing::select`].
#[cold]
#[inline(never)]
fn refuse_lent(ring: &BufRing, bid: u16) -> Error {
    if ring.send {
        Error::InvalidArgument { what: "select_lent", reason: "a send ring's completions need select" }
    } else if ring.incremental {
        Error::InvalidArgument { what: "select_lent", reason: "an incremental ring's pieces need select" }
    } else {
        ring.select_error(bid)
    }
}

/// Why [`RecycleBatch::push_held`] refused a token.
#[cold]
fn refuse_held(ring: &BufRing, held: HeldBuf) -> crate::buf::Rejected {
    let error = if ring.send {
        Error::InvalidArgument { what: "held buffer", reason: "a send ring's buffers go back with queue" }
    } else {
        Error::InvalidArgument { what: "held buffer", reason: "a buffer of another ring" }
    };
    crate::buf::Rejected::new(held, error)
}

/// Buffers [`BufRing::recycle_and_advance`] gathers before one tail store.
const RECYCLE_CHUNK: usize = 64;

/// Bids gathered for one batch while caller code may run; written to the ring when full and
/// when dropped (also when the caller's iterator panics: the buffers are not lost).
struct Gather<'r> {
    ring: &'r BufRing,
    /// The first `n` are written (left uninitialized when the batch starts: a batch that
    /// gathers nothing, such as one that only lends, writes nothing here).
    bids: [core::mem::MaybeUninit<u16>; RECYCLE_CHUNK],
    n: usize,
}

impl core::fmt::Debug for Gather<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Gather").field("bids", &self.bids()).finish()
    }
}

impl<'r> Gather<'r> {
    #[inline(always)]
    fn new(ring: &'r BufRing) -> Self {
        type Bids = [core::mem::MaybeUninit<u16>; RECYCLE_CHUNK];
        // SAFETY: an array of `MaybeUninit` needs no initialization. Made as one uninitialized
        // value: an array of uninitialized elements was filled with zeros.
        let bids = unsafe { core::mem::MaybeUninit::<Bids>::uninit().assume_init() };
        Gather { ring, bids, n: 0 }
    }

    #[inline(always)]
    fn push(&mut self, bid: u16) {
        // `>=`, not `==`: past the branch the compiler knows `n < RECYCLE_CHUNK`.
        if self.n >= RECYCLE_CHUNK {
            self.flush();
        }
        // `n < RECYCLE_CHUNK` here: the compiler drops the bounds check.
        self.bids[self.n].write(bid);
        self.n += 1;
    }

    /// The bids gathered so far.
    #[inline(always)]
    fn bids(&self) -> &[u16] {
        let n = self.n.min(RECYCLE_CHUNK);
        // SAFETY: the first `n` elements were written by `push` (`n` counts them), and
        // `MaybeUninit<u16>` has the layout of `u16`.
        unsafe { core::slice::from_raw_parts(self.bids.as_ptr().cast::<u16>(), n) }
    }

    /// Inline, so that `n` stays in a register (only the array's address reaches the call);
    /// no call when nothing was gathered.
    #[inline(always)]
    fn flush(&mut self) {
        if self.n != 0 {
            write_bids(self.ring, self.bids());
            self.n = 0;
        }
    }
}

/// Returns the held buffers `bids` (distinct, of this ring) with one tail store: the run loop
/// of [`BufRing::recycle_kept`] (no wrap check per buffer), or one at a time on an
/// incremental ring (whose buffers' offsets are reset too). A send ring's go to its free list
/// (a sent buffer is not resent), as when their selection drops.
#[inline(never)]
fn write_bids(ring: &BufRing, bids: &[u16]) {
    if ring.send {
        for &bid in bids {
            ring.release_free(bid);
        }
        return;
    }
    let mut refill = Refill::new(ring);
    if ring.incremental {
        for &bid in bids {
            refill.push(bid);
        }
        return;
    }
    let pushed = refill.push_batch(bids, ring.id);
    // Distinct held buffers of this ring: at most `entries`, so all fit.
    debug_assert_eq!(pushed, bids.len());
}

impl Drop for Gather<'_> {
    /// Inline: a batch that gathered nothing costs a compare.
    #[inline(always)]
    fn drop(&mut self) {
        self.flush();
    }
}

/// A batch of buffers going back to a ring: each [`push`](Refill::push) writes one slot past the
/// tail (`io_uring_buf_ring_add(3)`), and dropping the batch publishes them all with one release
/// store of the tail (`io_uring_buf_ring_advance(3)`), also if a caller's iterator panics midway.
///
/// Per buffer: three stores for the slot (address, length, bid; never `resv`, which for slot 0
/// is the shared tail) and one for the bookkeeping, which writes the word of the buffer pushed
/// before (its link to this one, with [`HELD`] clear); the last buffer's word is written when
/// the batch ends. Until then a pushed buffer still reads as held, which no one can observe:
/// no other code runs while the batch is open (below), and the kernel sees none of the buffers
/// before the tail store.
///
/// No code outside this module may run while a batch is open: a buffer returned meanwhile
/// (a guard dropped by caller code) would be written into a slot of this batch and published
/// before it. Every user of `Refill` pushes from crate code only.
pub(super) struct Refill<'r> {
    ring: &'r BufRing,
    /// The ring's fields the loop needs, copied out: the slot writes go through a raw pointer
    /// and the bookkeeping through `Cell`s, either of which could alias the ring's fields as far
    /// as the compiler knows, so reading them through `ring` would reload them per buffer.
    info: &'r [Cell<u32>],
    /// Slot 0, one past the last slot, and the slot the next push writes.
    slots: *mut io_uring_buf,
    end: *mut io_uring_buf,
    next: *mut io_uring_buf,
    base: u64,
    buf_size: u32,
    incremental: bool,
    /// Buffers pushed so far.
    n: u16,
    /// The bid pushed last; before the first push, the scratch word (index `entries`), so that
    /// the first push needs no branch.
    prev: u32,
}

impl<'r> Refill<'r> {
    #[inline(always)]
    pub(super) fn new(ring: &'r BufRing) -> Self {
        let slots = ring.slots;
        Refill {
            ring,
            info: &ring.bid_info,
            slots,
            end: slots.wrapping_add(ring.entries as usize),
            next: slots.wrapping_add(ring.prod.get().slot(0) as usize),
            base: ring.base as u64,
            buf_size: ring.buf_size,
            incremental: ring.incremental,
            n: 0,
            prev: ring.entries,
        }
    }

    /// Bookkeeping word of `bid` (or the scratch word, `entries`).
    #[inline(always)]
    fn info(&self, bid: u32) -> &'r Cell<u32> {
        debug_assert!((bid as usize) < self.info.len());
        // SAFETY: callers pass bids below `entries` (a bid of a buffer the ring handed out,
        // checked at selection, or the ring's last added bid) or the scratch index `entries`;
        // `bid_info` has `entries + 1` words.
        unsafe { self.info.get_unchecked(bid as usize) }
    }

    /// Whether the application holds `bid` (below `entries`).
    #[inline(always)]
    fn is_held(&self, bid: u16) -> bool {
        self.info(bid as u32).get() & HELD != 0
    }

    /// Writes buffer `bid`, held by the application until now, into the next slot past the
    /// tail (not yet published).
    #[inline(always)]
    fn write_slot(&mut self, bid: u16) {
        debug_assert!(self.is_held(bid), "recycling buffer {bid}, which is not held");
        let e = self.next;
        // The pool holds `entries * buf_size` bytes and `bid < entries`: in bounds, no overflow.
        let addr = self.base + bid as u64 * self.buf_size as u64;
        // SAFETY: `e` is a slot of the live ring mapping (`slots <= e < end`). The slot is free:
        // every buffer not held by the application is in the ring (published or earlier in this
        // batch), there are exactly `entries` buffers and `bid` is held, so at most
        // `entries - 1` slots are in use; and the kernel does not read the slot before the tail
        // store that publishes it.
        unsafe { Self::write(e, addr, self.buf_size, bid) };
        let next = e.wrapping_add(1);
        self.next = if next == self.end { self.slots } else { next };
        if self.incremental {
            self.ring.inc_recycled(bid);
        }
    }

    /// Links the ring's last added buffer (which may be held: its bit stays) to `bid`, the first
    /// buffer of the batch. Once per batch, before the first push.
    #[inline(always)]
    fn link_last(&self, bid: u16) {
        debug_assert_eq!(self.n, 0);
        let last = self.info(self.ring.last_added.get() as u32);
        last.set((last.get() & !SUCC) | bid as u32);
    }

    /// Starts the batch with `toks`: links the ring's last buffer to the first
    /// ([`link_last`](Self::link_last)), then [`push_held`](Self::push_held). Returns how many
    /// it pushed (0 if `toks` is empty or its first is of another ring).
    #[inline(always)]
    fn push_batch<T: KeptBid>(&mut self, toks: &[T], id: u64) -> usize {
        let Some(first) = toks.first().and_then(|t| t.bid_of(id)) else { return 0 };
        self.link_last(first);
        self.push_held(toks, id)
    }

    /// Writes one ring entry: address, length and bid, never `resv` (in slot 0, the shared
    /// tail).
    ///
    /// # Safety
    /// `e` must be a slot of the ring mapping that the kernel does not read (past the tail).
    #[inline(always)]
    unsafe fn write(e: *mut io_uring_buf, addr: u64, len: u32, bid: u16) {
        // SAFETY: the caller's promise; the three fields are plain data.
        unsafe {
            core::ptr::addr_of_mut!((*e).addr).write(addr);
            core::ptr::addr_of_mut!((*e).len).write(len);
            core::ptr::addr_of_mut!((*e).bid).write(bid);
        }
    }

    /// Pushes the buffers of `toks` in order up to the first whose ring id is not `id`; returns
    /// how many it pushed. The caller has linked the ring's last buffer to the first
    /// ([`link_last`](Self::link_last)). The fast path of [`BufRing::recycle_held_batch`]: the
    /// slots up to the end of the ring are filled in one run, then the rest from slot 0, so the
    /// loop has no wrap check. Not for incremental rings (no offsets are reset).
    #[inline(always)]
    fn push_held<T: KeptBid>(&mut self, toks: &[T], id: u64) -> usize {
        debug_assert!(!self.incremental);
        // `slots <= next < end`: at least one slot before the end of the ring.
        let room = (self.end as usize - self.next as usize) / core::mem::size_of::<io_uring_buf>();
        let (first, rest) = toks.split_at(room.min(toks.len()));
        let k = self.push_run(first, id);
        if k < first.len() || rest.is_empty() {
            return k;
        }
        // Wrapped to slot 0. This ring's tokens fit in the free slots, so a longer rest would
        // hold another ring's token: the caller's slow path sorts that out.
        let room = self.ring.entries as usize - first.len();
        k + self.push_run(&rest[..rest.len().min(room)], id)
    }

    /// Pushes the buffers of `run` (at most the slots left before the end of the ring) from
    /// `next` on, up to the first whose ring id is not `id`; returns how many.
    #[inline(always)]
    fn push_run<T: KeptBid>(&mut self, run: &[T], id: u64) -> usize {
        let (e, info, base, size) = (self.next, self.info, self.base, self.buf_size);
        // One buffer's slot at `slot`; returns its bid.
        let put = |slot: *mut io_uring_buf, bid: u16| -> usize {
            debug_assert!(info[bid as usize].get() & HELD != 0, "recycling buffer {bid}, which is not held");
            // A token of this ring has `bid < entries`: the address is in the pool.
            let addr = base + bid as u64 * size as u64;
            // SAFETY: the caller passes at most as many tokens as there are slots from `next` to
            // the end of the ring, so `slot` is inside it; the slot is free and unread by the
            // kernel, as in `write_slot`.
            unsafe { Self::write(slot, addr, size, bid) };
            bid as usize
        };
        // The word of `prev`: back in the ring, followed by `bid`.
        let link = |prev: usize, bid: usize| {
            // SAFETY: `prev` is a bid below `entries` (pushed before) or the scratch index
            // `entries`; `info` has `entries + 1` words.
            unsafe { info.get_unchecked(prev) }.set(bid as u32);
        };
        let mut prev = self.prev as usize;
        // Two at a time (fewer loop instructions per buffer, and the stores to the ring and to
        // the bookkeeping each come in pairs), then one at a time for the rest and from a token
        // of another ring on. One index `k` for the tokens and the slots (`e + k`).
        let mut k = 0;
        for pair in run.chunks_exact(2) {
            let (Some(b0), Some(b1)) = (pair[0].bid_of(id), pair[1].bid_of(id)) else { break };
            let b0 = put(e.wrapping_add(k), b0);
            let b1 = put(e.wrapping_add(k + 1), b1);
            link(prev, b0);
            link(b0, b1);
            prev = b1;
            k += 2;
        }
        while k < run.len() {
            let Some(bid) = run[k].bid_of(id) else { break };
            let bid = put(e.wrapping_add(k), bid);
            link(prev, bid);
            prev = bid;
            k += 1;
        }
        let slot = e.wrapping_add(k);
        self.prev = prev as u32;
        // At most `entries` (<= 32768) buffers are held, so the count fits.
        self.n += k as u16;
        self.next = if slot == self.end { self.slots } else { slot };
        k
    }

    /// Adds `count` buffers following the ring-order links from `first` (a bundle's, all
    /// held). Each link is read before its buffer is added (adding rewrites links), the first
    /// also before the ring's last buffer is linked to it.
    #[inline(always)]
    fn push_chain(&mut self, first: u16, count: u16) {
        let mut bid = first;
        for _ in 0..count {
            let next = (self.info(bid as u32).get() & SUCC) as u16;
            self.push(bid);
            bid = next;
        }
    }

    /// Adds `bid` to the batch (see [`write_slot`](Self::write_slot)).
    #[inline(always)]
    pub(super) fn push(&mut self, bid: u16) {
        if self.n == 0 {
            self.link_last(bid);
        }
        self.write_slot(bid);
        // The previous buffer of this batch (or the scratch word): back in the ring, followed
        // by `bid`.
        self.info(self.prev).set(bid as u32);
        self.prev = bid as u32;
        self.n += 1;
    }
}

impl Drop for Refill<'_> {
    #[inline(always)]
    fn drop(&mut self) {
        if self.n == 0 {
            return;
        }
        // The last buffer: back in the ring, its successor not yet known.
        self.info(self.prev).set(0);
        self.ring.last_added.set(self.prev as u16);
        let mut prod = self.ring.prod.get();
        prod.advance(self.ring.tail_atomic(), self.n);
        self.ring.prod.set(prod);
    }
}
