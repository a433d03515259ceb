//! The completion queue: where the kernel posts the results of operations (the CQ ring of
//! `io_uring_setup(2)`, Linux 5.1).
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
use crate::{Error, Result};
use uring_uapi::*;

/// The completion side of a ring.
///
/// Reading completions needs no system call, except to see completions that wait inside the
/// kernel: those that overflowed a full CQ (`IORING_SQ_CQ_OVERFLOW`) and those that task work
/// still has to post (`IORING_SQ_TASKRUN`). Like liburing, [`pop_batch`](Self::pop_batch)
/// enters the kernel once to flush them when it finds the CQ empty while either flag is set;
/// [`pop`](Self::pop), [`peek`](Self::peek) and [`iter`](Self::iter) never enter (as
/// `io_uring_for_each_cqe`); [`Ring::peek_cqe`](crate::Ring::peek_cqe), every wait and every
/// submit do.
/// The CQ ring of `io_uring_setup(2)` (`struct io_cqring_offsets`), Linux 5.1.
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
    /// The SQ ring's flags word (`IORING_SQ_CQ_OVERFLOW`, `IORING_SQ_TASKRUN`).
    sq_kflags: *const AtomicU32,
    /// How to enter the kernel to flush completions: the fd (or registered index) and the
    /// enter flags the ring uses; kept current by the ring.
    enter_fd: i32,
    enter_flags: u32,
}

impl CompletionQueue {
    /// # Safety
    /// `ring` must point to the live CQ ring mapping laid out by `p`, valid for as long as the
    /// returned queue is used.
    pub(crate) unsafe fn new(ring: *mut u8, sq_kflags: *const AtomicU32, p: &io_uring_params) -> Self {
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
                sq_kflags,
                enter_fd: -1,
                enter_flags: 0,
            }
        }
    }

    /// Sets how [`flush`](Self::flush) enters the kernel (crate-internal: the ring calls this
    /// whenever its enter fd or flags change).
    pub(crate) fn set_enter(&mut self, fd: i32, flags: u32) {
        self.enter_fd = fd;
        self.enter_flags = flags;
    }

    /// Whether completions wait inside the kernel, so only `io_uring_enter(2)` with
    /// `IORING_ENTER_GETEVENTS` makes them visible: overflowed completions
    /// (`IORING_SQ_CQ_OVERFLOW`) or pending task work (`IORING_SQ_TASKRUN`, with
    /// `IORING_SETUP_TASKRUN_FLAG`). liburing's `cq_ring_needs_flush`.
    #[inline]
    pub fn needs_flush(&self) -> bool {
        if self.sq_kflags.is_null() {
            return false;
        }
        // SAFETY: points into the live SQ ring mapping, owned by the same ring.
        let flags = unsafe { (*self.sq_kflags).load(Ordering::Relaxed) };
        flags & (IORING_SQ_CQ_OVERFLOW | IORING_SQ_TASKRUN) != 0
    }

    /// Releases the consumed slots, then enters the kernel with `IORING_ENTER_GETEVENTS` and
    /// nothing to submit, so overflowed completions move into the CQ and pending task work
    /// runs (`io_uring_get_events(3)`).
    pub fn flush(&mut self) -> std::io::Result<()> {
        self.release();
        // SAFETY: no argument; nothing is submitted.
        unsafe {
            crate::sys::enter(self.enter_fd, 0, 0, IORING_ENTER_GETEVENTS | self.enter_flags, core::ptr::null(), 0)
        }?;
        Ok(())
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
    /// yet (release happens with [`sync`](Self::sync) or the next `pop`/`advance`). Refused
    /// with [`Error::InvalidArgument`] when no completion is ready (nothing was peeked).
    /// The first half of `io_uring_cqe_seen(3)`.
    #[inline]
    pub fn consume_peeked(&mut self, cqe: &Cqe) -> Result<()> {
        let n = self.slots_of(cqe);
        if n > self.ready() {
            return Err(past_tail());
        }
        self.cons.consume(n);
        Ok(())
    }

    /// Consumes and releases `n` slots (`io_uring_cq_advance(3)`): counts slots, so a 32-byte
    /// entry of a mixed ring counts 2. Refused with [`Error::InvalidArgument`] (and nothing
    /// consumed) when fewer than `n` slots are ready: the head never passes the kernel's tail.
    /// Linux 5.1.
    #[inline]
    pub fn advance(&mut self, n: u32) -> Result<()> {
        if n > self.ready() {
            return Err(past_tail());
        }
        self.cons.consume(n);
        self.release();
        Ok(())
    }

    /// Tells the kernel about every slot consumed so far.
    /// The store of `cq.khead` that `io_uring_cq_advance(3)` makes.
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
    /// returns how many (`io_uring_peek_batch_cqe(3)` + `io_uring_cq_advance(3)`). As liburing
    /// does, when the CQ is empty while completions wait in the kernel
    /// ([`needs_flush`](Self::needs_flush)), it enters the kernel once to flush them and reads again. (An error
    /// of that `io_uring_enter(2)`, such as `EINTR`, leaves the result at 0, as in liburing;
    /// [`flush`](Self::flush) reports it.)
    /// Linux 5.1.
    pub fn pop_batch(&mut self, out: &mut [Cqe]) -> usize {
        let mut flushed = false;
        loop {
            let mut n = 0;
            while n < out.len() {
                let Some(cqe) = self.peek() else { break };
                out[n] = cqe;
                n += 1;
                self.cons.consume(self.slots_of(&cqe));
            }
            self.release();
            if n > 0 || out.is_empty() || flushed || !self.needs_flush() {
                return n;
            }
            flushed = true;
            if self.flush().is_err() {
                return 0;
            }
        }
    }

    /// An iterator over the ready completions; the slots are released in one store when it is
    /// dropped (the `io_uring_for_each_cqe` + `io_uring_cq_advance` pattern).
    ///
    /// Reaping in batches: push what fits, submit and wait for at least one completion, then
    /// take every completion that is ready at once:
    ///
    /// ```
    /// use uring::{op, Ring};
    ///
    /// let mut ring = Ring::new(8)?;
    /// let (mut pushed, mut reaped) = (0u64, 0u64);
    /// while reaped < 100 {
    ///     while pushed < 100 && ring.sq().push(&op::Nop::new().build().user_data(pushed)).is_ok() {
    ///         pushed += 1;
    ///     }
    ///     ring.submit_and_wait(1)?;
    ///     for cqe in ring.cq().iter() {
    ///         assert_eq!(cqe.result(), Ok(0));
    ///         reaped += 1;
    ///     } // the slots go back to the kernel here
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn iter(&mut self) -> Drain<'_> {
        // Never more than the array holds, whatever the tail says (a kernel bug must not make
        // the walk leave the CQE array).
        let ready = self.ready().min(self.capacity());
        let (start, first, second) = self.cons.ready_runs(ready);
        let slot_shift = 4 + self.shift;
        let cqes = self.cqes as *const u8;
        // SAFETY: `start + first <= entries`, and the CQE array holds `entries` slots of
        // `1 << slot_shift` bytes: both pointers stay inside it (or one past its end).
        let (ptr, end) =
            unsafe { (cqes.add((start as usize) << slot_shift), cqes.add(((start + first) as usize) << slot_shift)) };
        Drain { ptr, end, wrapped: second, cqes, slot_shift, ready, mixed: self.mixed, cq: self }
    }

    /// Completions dropped because the CQ was full on a kernel without `IORING_FEAT_NODROP` (Linux 5.5)
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

/// The error for a consume or advance past the kernel's tail.
#[cold]
fn past_tail() -> Error {
    Error::InvalidArgument { what: "completion queue advance", reason: "more slots than are ready" }
}

// SAFETY: the queue holds pointers into mappings owned by its ring; moving it moves exclusive use
// of the consumer side with it.
unsafe impl Send for CompletionQueue {}

/// Iterator over the completions ready when it was created (the tail is read once); releases
/// all consumed slots with one store on drop. The ready slots are walked as (at most two)
/// contiguous runs of the CQE array with a pointer, so the loop runs from registers and a step
/// is one add.
/// The loop of `io_uring_for_each_cqe(3)`.
#[derive(Debug)]
pub struct Drain<'a> {
    cq: &'a mut CompletionQueue,
    /// The next entry to read.
    ptr: *const u8,
    /// The end of the contiguous run `ptr` walks.
    end: *const u8,
    /// Ready slots past the wrap, at the start of the array (0 once the walk got there).
    wrapped: u32,
    /// The CQE array, as bytes.
    cqes: *const u8,
    /// log2 of the slot size in bytes: 4, or 5 on `CQE32` rings.
    slot_shift: u32,
    /// Slots ready when the iterator was created.
    ready: u32,
    mixed: bool,
}

impl Drain<'_> {
    /// At the end of the current run: moves to the ready slots past the wrap, at the start of
    /// the array; `false` when there are none (the walk is over).
    #[inline(always)]
    fn next_run(&mut self) -> bool {
        if self.wrapped == 0 {
            return false;
        }
        self.ptr = self.cqes;
        // SAFETY: `wrapped` slots from the array's start are ready (`ready_runs`).
        self.end = unsafe { self.cqes.add((self.wrapped as usize) << self.slot_shift) };
        self.wrapped = 0;
        true
    }

    /// Slots not walked yet.
    #[inline]
    fn remaining(&self) -> u32 {
        ((self.end as usize - self.ptr as usize) >> self.slot_shift) as u32 + self.wrapped
    }
}

impl Iterator for Drain<'_> {
    type Item = Cqe;

    #[inline]
    fn next(&mut self) -> Option<Cqe> {
        loop {
            if self.ptr == self.end && !self.next_run() {
                return None;
            }
            // SAFETY: `ptr` is below `end`, inside a run of slots the kernel posted before the tail
            // read at creation; it will not reuse them before the head store on drop.
            let raw = unsafe { &*(self.ptr as *const io_uring_cqe) };
            let cqe = Cqe::from_raw(raw);
            if !self.mixed {
                // SAFETY: at most `end`, one slot further in the same run.
                self.ptr = unsafe { self.ptr.add(1 << self.slot_shift) };
                return Some(cqe);
            }
            if cqe.raw_flags() & IORING_CQE_F_SKIP != 0 {
                // SAFETY: at most `end`, one slot further in the same run.
                self.ptr = unsafe { self.ptr.add(1 << self.slot_shift) };
                continue;
            }
            let left = (self.end as usize - self.ptr as usize) >> self.slot_shift;
            let n = (mixed_cqe_slots(cqe.raw_flags()) as usize).min(left);
            // SAFETY: at most `end` (the kernel never splits a 32-byte entry across the wrap).
            self.ptr = unsafe { self.ptr.add(n << self.slot_shift) };
            return Some(cqe);
        }
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.remaining() as usize))
    }
}

impl Drop for Drain<'_> {
    #[inline]
    fn drop(&mut self) {
        let consumed = self.ready - self.remaining();
        self.cq.cons.consume(consumed);
        self.cq.release();
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// A completion queue over plain memory laid out like the kernel's mapping; the test plays
    /// the kernel.
    struct FakeCq {
        ring: Vec<AtomicU32>,
        cq: CompletionQueue,
        unit: usize,
        tail: u32,
    }

    const HEAD: usize = 0;
    const TAIL: usize = 1;
    const CQES: usize = 16; // in u32s

    impl FakeCq {
        fn new(entries: u32, flags: u32, start: u32) -> Self {
            let unit = if flags & IORING_SETUP_CQE32 != 0 { 2 } else { 1 };
            let ring: Vec<AtomicU32> =
                (0..CQES as u32 + entries * 8 * unit as u32).map(|_| AtomicU32::new(0)).collect();
            ring[HEAD].store(start, Ordering::Relaxed);
            ring[TAIL].store(start, Ordering::Relaxed);
            let mut p = io_uring_params { sq_entries: entries / 2, cq_entries: entries, flags, ..Default::default() };
            p.cq_off = io_cqring_offsets {
                head: 0,
                tail: 4,
                ring_mask: 8,
                ring_entries: 12,
                overflow: 16,
                flags: 20,
                cqes: (CQES * 4) as u32,
                ..Default::default()
            };
            // SAFETY: `ring` holds the counters and `entries` CQE slots at those offsets and
            // outlives the queue (heap memory of the same value, never moved or resized).
            let cq = unsafe { CompletionQueue::new(ring.as_ptr() as *mut u8, core::ptr::null(), &p) };
            FakeCq { ring, cq, unit, tail: start }
        }
        /// Writes a 16-byte completion (plus `big` on a CQE32 ring) at 16-byte unit `unit16`.
        fn write(&self, unit16: usize, user_data: u64, flags: u32, big: [u64; 2]) {
            let base = CQES + unit16 * 4;
            let w = |i: usize, v: u32| self.ring[base + i].store(v, Ordering::Relaxed);
            w(0, user_data as u32);
            w(1, (user_data >> 32) as u32);
            w(2, 7); // res
            w(3, flags);
            if self.unit == 2 {
                for (k, b) in big.iter().enumerate() {
                    w(4 + 2 * k, *b as u32);
                    w(5 + 2 * k, (*b >> 32) as u32);
                }
            }
        }
        /// Posts a completion in the next slot(s); on a mixed ring `slots` is 1 or 2.
        fn post(&mut self, user_data: u64, flags: u32, slots: u32) {
            let mask = self.cq.capacity() - 1;
            self.write(((self.tail & mask) as usize) * self.unit, user_data, flags, [user_data, !user_data]);
            self.tail = self.tail.wrapping_add(slots);
        }
        fn publish(&self) {
            self.ring[TAIL].store(self.tail, Ordering::Release);
        }
        fn head(&self) -> u32 {
            self.ring[HEAD].load(Ordering::Acquire)
        }
    }

    /// The iterator walks the ready completions across the end of the array and the counters'
    /// wraparound, and releases exactly the slots it consumed.
    #[test]
    fn iter_wraps_and_releases_what_it_consumed() {
        let mut f = FakeCq::new(8, 0, u32::MAX - 1); // slot 6
        assert_eq!(f.cq.iter().next(), None);
        assert_eq!(f.head(), u32::MAX - 1);
        for ud in 100..105 {
            f.post(ud, 0, 1);
        }
        f.publish();
        let it = f.cq.iter();
        assert_eq!(it.size_hint(), (0, Some(5)));
        let got: Vec<u64> = it.map(|c| c.user_data()).collect();
        assert_eq!(got, (100..105).collect::<Vec<_>>());
        assert_eq!(f.head(), 3);
        // Stop part-way: only what was taken is released, the rest comes next time.
        for ud in 105..113 {
            f.post(ud, 0, 1);
        }
        f.publish();
        {
            let mut it = f.cq.iter();
            assert_eq!(it.next().map(|c| c.user_data()), Some(105));
            assert_eq!(it.next().map(|c| c.raw_result()), Some(7));
            assert_eq!(it.size_hint(), (0, Some(6)));
        }
        assert_eq!(f.head(), 5);
        {
            // Stop exactly at the end of the array (slot 7 consumed, the wrap not taken yet).
            let mut it = f.cq.iter();
            for ud in 107..110 {
                assert_eq!(it.next().unwrap().user_data(), ud);
            }
        }
        assert_eq!(f.head(), 8);
        let got: Vec<u64> = f.cq.iter().map(|c| c.user_data()).collect();
        assert_eq!(got, (110..113).collect::<Vec<_>>());
        assert_eq!(f.head(), 11);
        assert_eq!(f.cq.iter().count(), 0);
    }

    /// CQE32 rings: slots are 32 bytes.
    #[test]
    fn iter_cqe32() {
        let mut f = FakeCq::new(4, IORING_SETUP_CQE32, 2);
        for ud in 1..5 {
            f.post(ud, 0, 1);
        }
        f.publish();
        let got: Vec<u64> = f.cq.iter().map(|c| c.user_data()).collect();
        assert_eq!(got, vec![1, 2, 3, 4]);
        assert_eq!(f.head(), 6);
        f.post(9, 0, 1);
        f.publish();
        let c = f.cq.pop32().unwrap();
        assert_eq!((c.user_data(), c.big_cqe()), (9, [9, !9]));
    }

    /// Mixed rings: skip entries are hidden, 32-byte entries advance two slots, also when a skip
    /// pads the end of the array and a big entry starts the next lap.
    #[test]
    fn iter_mixed_skips_and_big_entries() {
        let mut f = FakeCq::new(4, IORING_SETUP_CQE_MIXED, 2);
        f.post(1, 0, 1); // slot 2
        f.post(0, IORING_CQE_F_SKIP, 1); // slot 3: a big entry cannot straddle the wrap
        f.post(2, IORING_CQE_F_32, 2); // slots 0-1
        f.publish();
        let got: Vec<u64> = f.cq.iter().map(|c| c.user_data()).collect();
        assert_eq!(got, vec![1, 2]);
        assert_eq!(f.head(), 6);
        f.post(3, 0, 1); // slot 2
        f.post(0, IORING_CQE_F_SKIP, 1); // slot 3
        f.post(4, IORING_CQE_F_32, 2); // slots 0-1
        f.publish();
        {
            let mut it = f.cq.iter();
            assert_eq!(it.next().unwrap().user_data(), 3);
        }
        assert_eq!(f.head(), 7);
        {
            let mut it = f.cq.iter();
            let big = it.next().unwrap();
            assert_eq!((big.user_data(), big.flags().contains(crate::CqeFlags::CQE_32)), (4, true));
        }
        assert_eq!(f.head(), 10);
        f.post(5, IORING_CQE_F_32, 2); // slots 2-3
        f.post(6, 0, 1); // slot 0
        f.publish();
        assert_eq!(f.cq.iter().map(|c| c.user_data()).collect::<Vec<_>>(), vec![5, 6]);
        assert_eq!(f.head(), 13);
        assert_eq!(f.cq.iter().next(), None);
    }
}
