//! Head/tail index arithmetic of the submission queue, the completion queue and buffer rings.
//!
//! Every io_uring ring is a single-producer/single-consumer queue over free-running counters: the
//! producer owns `tail`, the consumer owns `head`, both wrap at their integer width (`u32` for the
//! SQ and CQ, `u16` for buffer rings) and a slot is `counter & mask`. The number of entries in
//! flight is `tail - head` in wrapping arithmetic, which is correct across wraparound because the
//! ring size is a power of two no larger than half the counter range.
//!
//! The ordering contract with the kernel (see `io_uring(7)`, "Submission queue" and "Completion
//! queue"):
//! - the producer writes the entry, then publishes the new tail with a **release** store;
//! - the consumer reads the tail with an **acquire** load before it reads any entry, and releases
//!   the slots with a **release** store of the new head once it is done reading them;
//! - for SQPOLL, a full fence separates the tail store from the read of `IORING_SQ_NEED_WAKEUP`
//!   ([`full_fence`]).
//!
//! This module is the only place that does that arithmetic. It is written against the atomics
//! shim in `crate::sync`, and its loom tests (`RUSTFLAGS="--cfg loom" cargo test --release --lib
//! index`) model an application thread against a simulated kernel thread.

use crate::sync::{fence, AtomicU16, AtomicU32, Ordering};

/// Producer state of the submission queue (the application fills entries, the kernel consumes).
///
/// `tail` is the local tail: slots up to it are reserved and being filled. `published` is the tail
/// the kernel has been shown. The kernel's head is read from shared memory when space is needed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SqProducer {
    published: u32,
    tail: u32,
    mask: u32,
    entries: u32,
    /// The kernel's head as last read: space is known to exist up to `head + entries`, so the
    /// shared head is re-read only when the ring looks full.
    head: u32,
}

/// Where a reservation of two contiguous SQ slots landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Reserved2 {
    /// A slot that must be filled with a padding entry first (the ring's last slot, which a
    /// two-slot entry cannot use without wrapping).
    pub pad: Option<u32>,
    /// The first of the two contiguous slots.
    pub index: u32,
}

impl SqProducer {
    /// Starts producing at `ktail`, the tail the kernel currently shows, on a ring of `entries`
    /// slots (a power of two).
    pub(crate) fn new(ktail: u32, entries: u32) -> Self {
        debug_assert!(entries.is_power_of_two());
        Self { published: ktail, tail: ktail, mask: entries - 1, entries, head: ktail }
    }

    /// Entries the kernel has not consumed yet, as seen from `khead`, including reserved ones.
    #[inline]
    pub(crate) fn used(&self, khead: &AtomicU32) -> u32 {
        // Acquire: once we see the kernel's head past a slot, the kernel has finished reading it,
        // so it may be overwritten.
        self.tail.wrapping_sub(khead.load(Ordering::Acquire))
    }

    /// Free slots.
    #[inline]
    pub(crate) fn space_left(&self, khead: &AtomicU32) -> u32 {
        self.entries - self.used(khead)
    }

    /// Reserves one slot and returns its index, or `None` when the ring is full.
    #[inline]
    pub(crate) fn reserve(&mut self, khead: &AtomicU32) -> Option<u32> {
        if self.tail.wrapping_sub(self.head) >= self.entries {
            // Looks full against the cached head: refresh it (acquire: the kernel is done with
            // the slots it moved past).
            self.head = khead.load(Ordering::Acquire);
            if self.tail.wrapping_sub(self.head) >= self.entries {
                return None;
            }
        }
        let index = self.tail & self.mask;
        self.tail = self.tail.wrapping_add(1);
        Some(index)
    }

    /// Reserves two *contiguous* slots (a 128-byte entry on an `IORING_SETUP_SQE_MIXED` ring).
    /// When the local tail sits on the ring's last slot, that slot is reserved too and returned as
    /// `pad`: the caller must fill it with an entry that completes silently.
    #[inline]
    pub(crate) fn reserve2(&mut self, khead: &AtomicU32) -> Option<Reserved2> {
        let used = self.used(khead);
        let at_end = (self.tail & self.mask) == self.mask;
        let need = if at_end { 3 } else { 2 };
        if need > self.entries - used {
            return None;
        }
        let pad = if at_end {
            let pad = self.tail & self.mask;
            self.tail = self.tail.wrapping_add(1);
            Some(pad)
        } else {
            None
        };
        let index = self.tail & self.mask;
        self.tail = self.tail.wrapping_add(2);
        Some(Reserved2 { pad, index })
    }

    /// Gives back the most recent `n` reserved, unpublished slots.
    #[inline]
    pub(crate) fn unreserve(&mut self, n: u32) {
        debug_assert!(n <= self.unpublished());
        self.tail = self.tail.wrapping_sub(n.min(self.unpublished()));
    }

    /// Entries reserved but not yet shown to the kernel.
    #[inline]
    pub(crate) fn unpublished(&self) -> u32 {
        self.tail.wrapping_sub(self.published)
    }

    /// Shows every reserved entry to the kernel: one release store of the tail, so the kernel
    /// never sees the new tail before the entries' contents. Returns the entries the kernel has
    /// not consumed (what `io_uring_enter(2)` should be asked to submit).
    #[inline]
    pub(crate) fn publish(&mut self, ktail: &AtomicU32, khead: &AtomicU32) -> u32 {
        if self.published != self.tail {
            ktail.store(self.tail, Ordering::Release);
            self.published = self.tail;
        }
        self.tail.wrapping_sub(khead.load(Ordering::Acquire))
    }

    /// `IORING_SETUP_SQ_REWIND`: the kernel reads entries from slot 0 on every submit and the
    /// shared head and tail stay 0. Returns the entries filled since the last reset, then starts
    /// again at slot 0 without touching shared memory.
    #[inline]
    pub(crate) fn rewind_take(&mut self) -> u32 {
        let n = self.tail.wrapping_sub(self.published);
        self.published = 0;
        self.tail = 0;
        n
    }

    /// `IORING_SETUP_SQ_REWIND` after a partial submission: keep the last `left` entries, which
    /// the caller has moved to slots `0..left`.
    #[inline]
    pub(crate) fn rewind_keep(&mut self, left: u32) {
        self.published = 0;
        self.tail = left;
    }

    /// The ring size.
    #[inline]
    pub(crate) fn entries(&self) -> u32 {
        self.entries
    }

    /// The local tail (the counter of the next slot to reserve).
    #[inline]
    pub(crate) fn tail(&self) -> u32 {
        self.tail
    }

    /// The state for a run of reservations ([`SqRun`]), started at the current local tail.
    #[inline]
    pub(crate) fn begin_run(&self) -> SqRun {
        debug_assert!(self.tail.wrapping_sub(self.head) <= self.entries);
        SqRun { tail: self.tail, limit: self.head.wrapping_add(self.entries), mask: self.mask, entries: self.entries }
    }

    /// Takes back the state of a run started with [`begin_run`](Self::begin_run): its tail and
    /// the kernel head it last read.
    #[inline]
    pub(crate) fn end_run(&mut self, run: &SqRun) {
        self.tail = run.tail;
        self.head = run.limit.wrapping_sub(self.entries);
    }
}

/// Producer state for a run of single-slot reservations (the SQ batch handle): the cached
/// kernel head is kept as `limit = head + entries`, the tail at which the ring looks full, so a
/// reservation is one equality test until the ring looks full.
///
/// Invariant (inherited from [`SqProducer`]): `tail - (limit - entries)` is at most `entries`
/// in wrapping arithmetic, so `tail == limit` exactly when the ring looks full.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SqRun {
    tail: u32,
    limit: u32,
    mask: u32,
    entries: u32,
}

impl SqRun {
    /// Reserves one slot and returns its index, or `None` when the ring is full.
    #[inline(always)]
    pub(crate) fn reserve(&mut self, khead: &AtomicU32) -> Option<u32> {
        if self.tail == self.limit {
            // Looks full against the cached head: refresh it (acquire: the kernel is done with
            // the slots it moved past).
            self.limit = khead.load(Ordering::Acquire).wrapping_add(self.entries);
            if self.tail == self.limit {
                return None;
            }
        }
        let index = self.tail & self.mask;
        self.tail = self.tail.wrapping_add(1);
        Some(index)
    }

    /// Free slots, as seen from `khead`.
    #[inline]
    pub(crate) fn space_left(&self, khead: &AtomicU32) -> u32 {
        self.entries - self.tail.wrapping_sub(khead.load(Ordering::Acquire))
    }

    /// Gives back the slot reserved last (not yet filled or published).
    #[inline]
    pub(crate) fn unreserve_last(&mut self) {
        self.tail = self.tail.wrapping_sub(1);
    }
}

/// Consumer state of the completion queue (the kernel posts, the application reaps).
///
/// `head` is the local head: entries before it have been read. `released` is the head the kernel
/// has been shown; the gap lets a batch of completions be released with one store.
#[derive(Debug, Clone)]
pub(crate) struct CqConsumer {
    head: u32,
    released: u32,
    mask: u32,
    entries: u32,
}

/// How many slots a CQE with these `flags` occupies on a ring with mixed 16/32-byte CQEs.
#[inline]
pub(crate) const fn mixed_cqe_slots(flags: u32) -> u32 {
    if flags & uring_uapi::IORING_CQE_F_32 != 0 {
        2
    } else {
        1
    }
}

impl CqConsumer {
    /// Starts consuming at `khead` on a ring of `entries` slots.
    pub(crate) fn new(khead: u32, entries: u32) -> Self {
        debug_assert!(entries.is_power_of_two());
        Self { head: khead, released: khead, mask: entries - 1, entries }
    }

    /// Slots posted by the kernel and not yet read.
    #[inline]
    pub(crate) fn ready(&self, ktail: &AtomicU32) -> u32 {
        // Acquire pairs with the kernel's release of the tail: the entries are visible after it.
        ktail.load(Ordering::Acquire).wrapping_sub(self.head)
    }

    /// The slot index of the next unread entry (valid only when [`Self::ready`] is non-zero).
    #[inline]
    pub(crate) fn next_slot(&self) -> u32 {
        self.head & self.mask
    }

    /// The slot index `n` entries past the next unread one.
    #[inline]
    #[cfg(any(test, loom))]
    pub(crate) fn slot_at(&self, n: u32) -> u32 {
        self.head.wrapping_add(n) & self.mask
    }

    /// The `ready` slots from the local head as at most two contiguous runs of the slot array:
    /// `(start, first, second)` means slots `start..start + first`, then (past the wrap)
    /// `0..second`.
    #[inline]
    pub(crate) fn ready_runs(&self, ready: u32) -> (u32, u32, u32) {
        let start = self.head & self.mask;
        let first = ready.min(self.entries - start);
        (start, first, ready - first)
    }

    /// Marks `n` slots read without telling the kernel yet.
    #[inline]
    pub(crate) fn consume(&mut self, n: u32) {
        self.head = self.head.wrapping_add(n);
    }

    /// Tells the kernel every slot read so far is free (one release store: the kernel may
    /// overwrite a slot only after our reads of it are done).
    #[inline]
    pub(crate) fn release(&mut self, khead: &AtomicU32) {
        if self.released != self.head {
            khead.store(self.head, Ordering::Release);
            self.released = self.head;
        }
    }

    /// The ring size.
    #[inline]
    pub(crate) fn entries(&self) -> u32 {
        self.entries
    }
}

/// Producer state of a provided-buffer ring: the application adds buffers at `tail`, the kernel
/// takes them from `head`. The shared tail is a `u16` overlaying the `resv` field of slot 0.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BufRingProducer {
    tail: u16,
    mask: u16,
}

impl BufRingProducer {
    /// Starts at `tail` on a ring of `entries` slots (a power of two, at most 32768).
    pub(crate) fn new(tail: u16, entries: u32) -> Self {
        debug_assert!(entries.is_power_of_two() && entries <= 32768);
        Self { tail, mask: (entries - 1) as u16 }
    }

    /// The slot the buffer added `offset` places past the tail goes into.
    #[inline]
    pub(crate) fn slot(&self, offset: u16) -> u16 {
        self.tail.wrapping_add(offset) & self.mask
    }

    /// Publishes `n` added buffers with one release store of the tail: the kernel sees the new
    /// tail only after the slot contents.
    #[inline]
    pub(crate) fn advance(&mut self, ktail: &AtomicU16, n: u16) {
        self.tail = self.tail.wrapping_add(n);
        ktail.store(self.tail, Ordering::Release);
    }

    /// The local tail.
    #[inline]
    pub(crate) fn tail(&self) -> u16 {
        self.tail
    }

    /// Buffers the kernel can still take, given its `head` (from `IORING_REGISTER_PBUF_STATUS`
    /// or the application's own count).
    #[inline]
    pub(crate) fn available(&self, head: u16) -> u16 {
        self.tail.wrapping_sub(head)
    }
}

/// A full memory fence: orders the SQ tail store before the read of the SQ flags when deciding
/// whether an SQPOLL thread needs a wakeup (the kernel has the matching barrier).
#[inline]
pub(crate) fn full_fence() {
    fence(Ordering::SeqCst);
}

/// `IORING_SETUP_SQPOLL` (Linux 5.1): after new entries were published (the release store of
/// the SQ tail in [`SqProducer::publish`]), whether the SQ poll thread went to sleep and must be
/// woken with `IORING_ENTER_SQ_WAKEUP` (`io_uring_enter(2)`). `kflags` is the SQ ring's `flags`
/// word; the bit is `IORING_SQ_NEED_WAKEUP`.
///
/// The ordering is a store-buffering pair with the kernel: we store the tail, then read the
/// flags; the thread, before it sleeps, sets `IORING_SQ_NEED_WAKEUP`, then re-reads the tail.
/// With a full fence on both sides ([`full_fence`] here, `smp_mb__after_atomic()` in the
/// kernel's SQPOLL loop) at least one side sees the other's store: either the thread sees the
/// new entries and stays awake, or we see the flag and wake it. Without our fence both loads
/// may return the old values and the entries sit in the ring with the thread asleep. Fencing
/// unconditionally (even when this call published nothing) also orders tail stores made by
/// earlier publishes that were not followed by a check.
///
/// Model-checked in `loom_tests` (`sqpoll_*`), including that dropping the fence loses a
/// wake-up.
#[inline]
pub(crate) fn sqpoll_needs_wakeup(kflags: &AtomicU32) -> bool {
    full_fence();
    kflags.load(Ordering::Relaxed) & uring_uapi::IORING_SQ_NEED_WAKEUP != 0
}

#[cfg(all(test, loom))]
mod loom_tests;

#[cfg(all(test, not(loom)))]
mod tests;
