//! The completion queue: where the kernel posts the results of operations.
//!
//! Completions are copied out as [`Cqe`] values; reading one and releasing its slot are separate
//! steps so a batch is released with one store ([`CompletionQueue::iter`],
//! [`CompletionQueue::advance`]). Mixed-size rings (`IORING_SETUP_CQE_MIXED`) are handled here:
//! padding entries (`IORING_CQE_F_SKIP`) are skipped and 32-byte entries advance by two slots.
//! See `io_uring(7)`, "Completion queue", `io_uring_peek_cqe(3)`, `io_uring_cq_advance(3)`,
//! `io_uring_cq_ready(3)`, `io_uring_cq_has_overflow(3)`, `io_uring_cq_eventfd_toggle(3)`.

use crate::cqe::{Cqe, Cqe32};
use crate::index::{mixed_cqe_slots, CqConsumer};
use crate::sync::{AtomicU32, Ordering};
use uring_uapi::*;

/// The completion side of a ring.
#[derive(Debug)]
pub struct CompletionQueue {
    khead: *const AtomicU32,
    ktail: *const AtomicU32,
    kflags: *const AtomicU32,
    koverflow: *const AtomicU32,
    cqes: *const io_uring_cqe,
    cons: CqConsumer,
    /// 1 on `CQE32` rings (each entry spans two 16-byte units).
    shift: u32,
    mixed: bool,
}

impl CompletionQueue {
    /// # Safety
    /// `ring` must point to the live CQ ring mapping laid out by `p`, valid for as long as the
    /// returned queue is used.
    pub(crate) unsafe fn new(ring: *mut u8, p: &io_uring_params) -> Self {
        let off = &p.cq_off;
        // SAFETY: offsets given by the kernel for this mapping.
        unsafe {
            let khead = ring.add(off.head as usize) as *const AtomicU32;
            let kflags =
                if off.flags != 0 { ring.add(off.flags as usize) as *const AtomicU32 } else { core::ptr::null() };
            CompletionQueue {
                khead,
                ktail: ring.add(off.tail as usize) as *const AtomicU32,
                kflags,
                koverflow: ring.add(off.overflow as usize) as *const AtomicU32,
                cqes: ring.add(off.cqes as usize) as *const io_uring_cqe,
                cons: CqConsumer::new((*khead).load(Ordering::Acquire), p.cq_entries),
                shift: (p.flags & IORING_SETUP_CQE32 != 0) as u32,
                mixed: p.flags & IORING_SETUP_CQE_MIXED != 0,
            }
        }
    }

    #[inline]
    fn ktail(&self) -> &AtomicU32 {
        // SAFETY: points into the live CQ ring mapping (constructor contract).
        unsafe { &*self.ktail }
    }

    #[inline]
    fn entry(&self, slot: u32) -> &io_uring_cqe {
        // SAFETY: `slot` is masked to the ring; the CQE array holds `entries << shift` 16-byte
        // units, and the kernel will not overwrite a slot before our head passes it.
        unsafe { &*self.cqes.add((slot << self.shift) as usize) }
    }

    /// Slots posted and not yet consumed (`io_uring_cq_ready(3)`). On a mixed ring this counts
    /// slots, not completions.
    #[inline]
    pub fn ready(&self) -> u32 {
        self.cons.ready(self.ktail())
    }

    /// Whether nothing is ready.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.ready() == 0
    }

    /// The number of slots.
    #[inline]
    pub fn capacity(&self) -> u32 {
        self.cons.entries()
    }

    /// The next completion, without consuming it (padding entries of a mixed ring are consumed
    /// on the way). `None` when nothing is ready.
    #[inline]
    pub fn peek(&mut self) -> Option<Cqe> {
        let ktail = self.ktail;
        loop {
            // SAFETY: points into the live CQ ring mapping.
            if self.cons.ready(unsafe { &*ktail }) == 0 {
                return None;
            }
            let raw = self.entry(self.cons.next_slot());
            if self.mixed && raw.flags & IORING_CQE_F_SKIP != 0 {
                self.cons.consume(1);
                continue;
            }
            return Some(Cqe::from_raw(raw));
        }
    }

    /// The next completion with its 32-byte extension, without consuming it. On a ring with only
    /// 16-byte entries the extension is zero.
    pub fn peek32(&mut self) -> Option<Cqe32> {
        let cqe = self.peek()?;
        let big = if self.shift == 1 || (self.mixed && cqe.raw_flags() & IORING_CQE_F_32 != 0) {
            let slot = self.cons.next_slot();
            let p = if self.shift == 1 {
                // SAFETY: a CQE32 slot is two 16-byte units; the second holds `big_cqe`.
                unsafe { self.cqes.add((slot << 1) as usize + 1) }
            } else {
                // SAFETY: a 32-byte entry of a mixed ring occupies this slot and the next, which
                // the kernel never splits across the wrap.
                unsafe { self.cqes.add(slot as usize + 1) }
            };
            // SAFETY: 16 readable bytes at `p`, aligned to 8.
            unsafe { *(p as *const [u64; 2]) }
        } else {
            [0; 2]
        };
        Some(Cqe32::new(cqe, big))
    }

    /// Slots the completion `cqe` (just peeked) occupies.
    #[inline]
    fn slots_of(&self, cqe: &Cqe) -> u32 {
        if self.mixed {
            mixed_cqe_slots(cqe.raw_flags())
        } else {
            1
        }
    }

    /// Takes the next completion and releases its slot (`io_uring_peek_cqe(3)` +
    /// `io_uring_cqe_seen(3)`).
    #[inline]
    pub fn pop(&mut self) -> Option<Cqe> {
        let cqe = self.peek()?;
        let n = self.slots_of(&cqe);
        self.cons.consume(n);
        self.release();
        Some(cqe)
    }

    /// Takes the next completion with its 32-byte extension and releases its slots.
    pub fn pop32(&mut self) -> Option<Cqe32> {
        let cqe = self.peek32()?;
        let n = self.slots_of(cqe.cqe());
        self.cons.consume(n);
        self.release();
        Some(cqe)
    }

    /// Consumes the completion last returned by [`peek`](Self::peek) without releasing the slot
    /// yet (release happens with [`sync`](Self::sync) or the next `pop`/`advance`).
    #[inline]
    pub fn consume_peeked(&mut self, cqe: &Cqe) {
        let n = self.slots_of(cqe);
        self.cons.consume(n);
    }

    /// Releases `n` slots (`io_uring_cq_advance(3)`): counts slots, so a 32-byte entry of a
    /// mixed ring counts 2.
    #[inline]
    pub fn advance(&mut self, n: u32) {
        self.cons.consume(n);
        self.release();
    }

    /// Tells the kernel about every slot consumed so far.
    #[inline]
    pub fn sync(&mut self) {
        self.release();
    }

    #[inline]
    fn release(&mut self) {
        // SAFETY: points into the live CQ ring mapping.
        let khead = unsafe { &*self.khead };
        self.cons.release(khead);
    }

    /// Copies up to `out.len()` ready completions into `out`, consuming and releasing them;
    /// returns how many (`io_uring_peek_batch_cqe(3)` + `io_uring_cq_advance(3)`).
    pub fn pop_batch(&mut self, out: &mut [Cqe]) -> usize {
        let mut n = 0;
        while n < out.len() {
            let Some(cqe) = self.peek() else { break };
            out[n] = cqe;
            n += 1;
            self.consume_peeked(&cqe);
        }
        self.release();
        n
    }

    /// An iterator over the ready completions; the slots are released in one store when it is
    /// dropped (the `io_uring_for_each_cqe` + `io_uring_cq_advance` pattern).
    #[inline]
    pub fn iter(&mut self) -> Drain<'_> {
        let ready = self.ready();
        let head = self.cons.head();
        Drain {
            cqes: self.cqes,
            head,
            end: head.wrapping_add(ready),
            mask: self.cons.entries() - 1,
            shift: self.shift,
            mixed: self.mixed,
            cq: self,
        }
    }

    /// Completions dropped because the CQ was full on a kernel without `IORING_FEAT_NODROP`
    /// (`cq_ring->overflow`).
    pub fn overflow(&self) -> u32 {
        // SAFETY: points into the live CQ ring mapping.
        unsafe { (*self.koverflow).load(Ordering::Relaxed) }
    }

    /// Whether eventfd notifications are enabled (`IORING_CQ_EVENTFD_DISABLED` clear).
    pub fn eventfd_enabled(&self) -> bool {
        if self.kflags.is_null() {
            return true;
        }
        // SAFETY: points into the live CQ ring mapping.
        unsafe { (*self.kflags).load(Ordering::Relaxed) & IORING_CQ_EVENTFD_DISABLED == 0 }
    }

    /// Enables or disables eventfd notifications for this ring (`io_uring_cq_eventfd_toggle(3)`).
    /// Fails with `Unsupported` on kernels without the CQ flags word (before 5.8).
    pub fn set_eventfd_enabled(&mut self, enabled: bool) -> crate::Result<()> {
        if self.kflags.is_null() {
            return Err(crate::Error::Unsupported { what: "IORING_CQ_EVENTFD_DISABLED (Linux 5.8)" });
        }
        // SAFETY: points into the live CQ ring mapping; only the application writes this word.
        let kflags = unsafe { &*self.kflags };
        let old = kflags.load(Ordering::Relaxed);
        let new = if enabled { old & !IORING_CQ_EVENTFD_DISABLED } else { old | IORING_CQ_EVENTFD_DISABLED };
        kflags.store(new, Ordering::Relaxed);
        Ok(())
    }

    /// Whether this ring mixes 16- and 32-byte entries.
    pub fn is_mixed(&self) -> bool {
        self.mixed
    }

    /// Whether every entry is 32 bytes.
    pub fn is_cqe32(&self) -> bool {
        self.shift == 1
    }
}

// SAFETY: the queue holds pointers into mappings owned by its ring; moving it moves exclusive use
// of the consumer side with it.
unsafe impl Send for CompletionQueue {}

/// Iterator over the completions ready when it was created (the tail is read once); releases
/// all consumed slots with one store on drop. The ring's geometry is copied into the iterator so
/// the loop runs from registers.
#[derive(Debug)]
pub struct Drain<'a> {
    cq: &'a mut CompletionQueue,
    cqes: *const io_uring_cqe,
    head: u32,
    end: u32,
    mask: u32,
    shift: u32,
    mixed: bool,
}

impl Iterator for Drain<'_> {
    type Item = Cqe;

    #[inline]
    fn next(&mut self) -> Option<Cqe> {
        loop {
            if self.head == self.end {
                return None;
            }
            // SAFETY: `head` is below the tail read at creation, so the kernel posted this slot
            // and will not reuse it before the head store on drop; masked to the ring.
            let raw = unsafe { &*self.cqes.add(((self.head & self.mask) << self.shift) as usize) };
            let cqe = Cqe::from_raw(raw);
            if !self.mixed {
                self.head = self.head.wrapping_add(1);
                return Some(cqe);
            }
            if cqe.raw_flags() & IORING_CQE_F_SKIP != 0 {
                self.head = self.head.wrapping_add(1);
                continue;
            }
            let n = mixed_cqe_slots(cqe.raw_flags()).min(self.end.wrapping_sub(self.head));
            self.head = self.head.wrapping_add(n);
            return Some(cqe);
        }
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.end.wrapping_sub(self.head) as usize))
    }
}

impl Drop for Drain<'_> {
    #[inline]
    fn drop(&mut self) {
        let consumed = self.head.wrapping_sub(self.cq.cons.head());
        self.cq.cons.consume(consumed);
        self.cq.release();
    }
}
