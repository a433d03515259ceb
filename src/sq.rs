//! The submission queue: where entries are written for the kernel to consume.
//!
//! Entries are copied into free slots ([`SubmissionQueue::push`]) and become visible to the
//! kernel when the queue is flushed (one release store of the tail, done by every submit call).
//! See `io_uring(7)`, "Submission queue", and `io_uring_get_sqe(3)`, `io_uring_sq_space_left(3)`,
//! `io_uring_sq_ready(3)`.

use crate::error::QueueFull;
use crate::index::SqProducer;
use crate::sqe::{SafeSqe, SafeSqe128, Sqe, Sqe128, ZERO_SQE};
use crate::sync::AtomicU32;
use crate::{Error, Result};
use uring_uapi::*;

/// The submission side of a ring.
///
/// Obtained from [`Ring::sq`](crate::Ring::sq) or [`Ring::split`](crate::Ring::split); the
/// pointers it holds stay valid for the life of the ring's mappings, which the ring owns.
#[derive(Debug)]
pub struct SubmissionQueue {
    khead: *const AtomicU32,
    ktail: *const AtomicU32,
    kflags: *const AtomicU32,
    kdropped: *const AtomicU32,
    sqes: *mut io_uring_sqe,
    prod: SqProducer,
    /// log2 of the slot size in 64-byte units: 1 on `SQE128` rings.
    shift: u32,
    mixed: bool,
    rewind: bool,
}

/// Why a 128-byte entry could not be pushed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushError128 {
    /// No room.
    Full,
    /// The ring has 64-byte entries only (neither `IORING_SETUP_SQE128` nor
    /// `IORING_SETUP_SQE_MIXED`).
    RingTooSmall,
    /// On an `IORING_SETUP_SQE_MIXED` ring only 128-byte opcodes (`IORING_OP_NOP128`,
    /// `IORING_OP_URING_CMD128`) occupy two slots; another opcode would be misread.
    NotA128ByteOpcode,
}

impl core::fmt::Display for PushError128 {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            PushError128::Full => f.write_str("the submission queue is full"),
            PushError128::RingTooSmall => {
                f.write_str("a 128-byte entry needs a ring set up with IORING_SETUP_SQE128 or IORING_SETUP_SQE_MIXED")
            }
            PushError128::NotA128ByteOpcode => f.write_str(
                "on an IORING_SETUP_SQE_MIXED ring a 128-byte entry needs a 128-byte opcode (NOP128, URING_CMD128)",
            ),
        }
    }
}

impl std::error::Error for PushError128 {}

impl From<PushError128> for Error {
    fn from(e: PushError128) -> Self {
        match e {
            PushError128::Full => Error::SubmissionQueueFull,
            PushError128::RingTooSmall => {
                Error::WrongRingKind { needs: "IORING_SETUP_SQE128 or IORING_SETUP_SQE_MIXED" }
            }
            PushError128::NotA128ByteOpcode => Error::InvalidArgument {
                what: "opcode",
                reason: "a 128-byte entry on a mixed ring needs NOP128 or URING_CMD128",
            },
        }
    }
}

impl SubmissionQueue {
    /// # Safety
    /// The pointers must point into live ring mappings laid out by `params`, valid for as long
    /// as the returned queue is used.
    pub(crate) unsafe fn new(ring: *mut u8, sqes: *mut io_uring_sqe, p: &io_uring_params) -> Self {
        let off = &p.sq_off;
        // SAFETY: the offsets come from the kernel for this mapping.
        let (khead, ktail, kflags, kdropped) = unsafe {
            (
                ring.add(off.head as usize) as *const AtomicU32,
                ring.add(off.tail as usize) as *const AtomicU32,
                ring.add(off.flags as usize) as *const AtomicU32,
                ring.add(off.dropped as usize) as *const AtomicU32,
            )
        };
        // SAFETY: as above; the kernel initialised the tail.
        let ktail_now = unsafe { (*ktail).load(core::sync::atomic::Ordering::Acquire) };
        let flags = p.flags;
        if flags & IORING_SETUP_NO_SQARRAY == 0 && off.array != 0 {
            // The SQ index array: identity, set once (liburing does the same), so flushing
            // never touches it.
            // SAFETY: the array holds `sq_entries` u32s at `off.array`.
            let array = unsafe { ring.add(off.array as usize) as *mut u32 };
            for i in 0..p.sq_entries {
                // SAFETY: `i < sq_entries`.
                unsafe { array.add(i as usize).write(i) };
            }
        }
        SubmissionQueue {
            khead,
            ktail,
            kflags,
            kdropped,
            sqes,
            prod: SqProducer::new(ktail_now, p.sq_entries),
            shift: (flags & IORING_SETUP_SQE128 != 0) as u32,
            mixed: flags & IORING_SETUP_SQE_MIXED != 0,
            rewind: flags & IORING_SETUP_SQ_REWIND != 0,
        }
    }

    #[inline]
    fn khead(&self) -> &AtomicU32 {
        // SAFETY: points into the live SQ ring mapping (constructor contract).
        unsafe { &*self.khead }
    }

    /// The `IORING_SQ_*` flags word the kernel maintains (`NEED_WAKEUP`, `CQ_OVERFLOW`,
    /// `TASKRUN`).
    #[inline]
    pub(crate) fn kernel_flags(&self) -> u32 {
        // SAFETY: as for `khead`.
        unsafe { (*self.kflags).load(core::sync::atomic::Ordering::Relaxed) }
    }

    #[inline]
    fn slot(&self, index: u32) -> *mut io_uring_sqe {
        // SAFETY: `index` is masked to the ring, and the SQE array holds `entries << shift`
        // 64-byte entries.
        unsafe { self.sqes.add((index << self.shift) as usize) }
    }

    /// Copies `sqe` into the next free slot. Safe: a [`SafeSqe`] points at no caller memory.
    #[inline]
    pub fn push(&mut self, sqe: &SafeSqe) -> Result<(), QueueFull> {
        // SAFETY: a `SafeSqe` references no memory the caller must keep alive.
        unsafe { self.push_raw(&sqe.0) }
    }

    /// Copies `sqe` into the next free slot.
    ///
    /// # Safety
    /// Every memory region the entry points at (buffers, iovec arrays and the buffers they
    /// name, paths, timespecs, msghdrs, sockaddrs, ...) must stay valid, and unmoved, for as long
    /// as the kernel may access it: until the operation's completion (for multishot operations,
    /// its final completion) has been reaped. File descriptors it names must stay open until it
    /// is submitted. See each encoder's documentation for what it points at.
    #[inline]
    pub unsafe fn push_raw(&mut self, sqe: &Sqe) -> Result<(), QueueFull> {
        // SAFETY: `khead` points into the live ring (constructor contract); the deref is inlined
        // here so the reservation and the copy stay in one basic block.
        let khead = unsafe { &*self.khead };
        let Some(index) = self.prod.reserve(khead) else {
            return Err(QueueFull);
        };
        let dst = self.slot(index);
        // SAFETY: the slot is reserved for us and the kernel will not read it before the tail is
        // published.
        unsafe {
            dst.write(sqe.0);
            if self.shift == 1 {
                dst.add(1).write(ZERO_SQE);
            }
        }
        Ok(())
    }

    /// Copies several entries, all or none.
    ///
    /// # Safety
    /// As [`push_raw`](Self::push_raw), for every entry.
    pub unsafe fn push_multiple_raw(&mut self, sqes: &[Sqe]) -> Result<(), QueueFull> {
        let n = u32::try_from(sqes.len()).map_err(|_| QueueFull)?;
        if n > self.prod.space_left(self.khead()) {
            return Err(QueueFull);
        }
        for sqe in sqes {
            // SAFETY: the caller's contract; the space was checked above.
            unsafe { self.push_raw(sqe) }?;
        }
        Ok(())
    }

    /// Copies several safe entries, all or none.
    pub fn push_multiple(&mut self, sqes: &[SafeSqe]) -> Result<(), QueueFull> {
        // SAFETY: `SafeSqe` is `repr(transparent)` over `Sqe` and references no caller memory.
        unsafe { self.push_multiple_raw(core::slice::from_raw_parts(sqes.as_ptr().cast(), sqes.len())) }
    }

    /// Copies a safe 128-byte entry (see [`push128_raw`](Self::push128_raw)).
    #[inline]
    pub fn push128(&mut self, sqe: &SafeSqe128) -> Result<(), PushError128> {
        // SAFETY: a `SafeSqe128` references no memory the caller must keep alive.
        unsafe { self.push128_raw(&sqe.0) }
    }

    /// Copies a 128-byte entry: one slot on an `IORING_SETUP_SQE128` ring; two contiguous slots
    /// on an `IORING_SETUP_SQE_MIXED` ring (the entry's opcode must then be a 128-byte one,
    /// `IORING_OP_NOP128` or `IORING_OP_URING_CMD128`). On a mixed ring whose next free slot is
    /// the last one, that slot is filled with a NOP that posts no completion, as liburing's
    /// `io_uring_get_sqe128(3)` does.
    ///
    /// # Safety
    /// As [`push_raw`](Self::push_raw).
    pub unsafe fn push128_raw(&mut self, sqe: &Sqe128) -> Result<(), PushError128> {
        if self.shift == 1 {
            // SAFETY: points into the live SQ ring mapping.
            let khead = unsafe { &*self.khead };
            let index = self.prod.reserve(khead).ok_or(PushError128::Full)?;
            // SAFETY: a 128-byte slot reserved for us.
            unsafe { (self.slot(index) as *mut Sqe128).write(*sqe) };
            return Ok(());
        }
        if !self.mixed {
            return Err(PushError128::RingTooSmall);
        }
        // On a mixed ring the opcode tells the kernel the entry spans two slots; the 64-byte
        // forms of NOP and URING_CMD are converted, anything else is refused.
        let mut sqe = *sqe;
        sqe.sqe.opcode = match sqe.sqe.opcode {
            IORING_OP_NOP128 | IORING_OP_NOP => IORING_OP_NOP128,
            IORING_OP_URING_CMD128 | IORING_OP_URING_CMD => IORING_OP_URING_CMD128,
            _ => return Err(PushError128::NotA128ByteOpcode),
        };
        let sqe = &sqe;
        // SAFETY: points into the live SQ ring mapping.
        let khead = unsafe { &*self.khead };
        let r = self.prod.reserve2(khead).ok_or(PushError128::Full)?;
        if let Some(pad) = r.pad {
            let mut nop = ZERO_SQE;
            nop.opcode = IORING_OP_NOP;
            nop.flags = IOSQE_CQE_SKIP_SUCCESS;
            // SAFETY: the pad slot is reserved for us.
            unsafe { self.slot(pad).write(nop) };
        }
        // SAFETY: two contiguous reserved slots (reserve2 never wraps them).
        unsafe { (self.slot(r.index) as *mut Sqe128).write(*sqe) };
        Ok(())
    }

    /// A batch handle: pushes through it keep the queue's state in local variables (registers)
    /// and write it back once when the handle is dropped, which makes filling many entries
    /// cheaper than repeated [`push`](Self::push) calls. Entries become visible to the kernel at
    /// the next flush or submit, as with `push`.
    #[inline]
    pub fn batch(&mut self) -> SqBatch<'_> {
        SqBatch { prod: self.prod, khead: self.khead, sqes: self.sqes, shift: self.shift, sq: self }
    }

    /// Drops the last `n` pushed, unflushed entries (crate-internal: a partly encoded chain).
    pub(crate) fn unpush(&mut self, n: u32) {
        self.prod.unreserve(n);
    }

    /// Free slots (`io_uring_sq_space_left(3)`).
    #[inline]
    pub fn space_left(&self) -> u32 {
        self.prod.space_left(self.khead())
    }

    /// Entries written and not yet consumed by the kernel (`io_uring_sq_ready(3)`): those not
    /// yet flushed plus, under SQPOLL, those the thread has not picked up.
    #[inline]
    pub fn ready(&self) -> u32 {
        self.prod.used(self.khead())
    }

    /// Entries pushed since the last flush.
    #[inline]
    pub fn unflushed(&self) -> u32 {
        self.prod.unpublished()
    }

    /// Whether no free slot is left.
    #[inline]
    pub fn is_full(&self) -> bool {
        self.space_left() == 0
    }

    /// The number of slots.
    #[inline]
    pub fn capacity(&self) -> u32 {
        self.prod.entries()
    }

    /// Entries the kernel dropped as invalid (`sq_ring->dropped`).
    pub fn dropped(&self) -> u32 {
        // SAFETY: points into the live SQ ring mapping.
        unsafe { (*self.kdropped).load(core::sync::atomic::Ordering::Relaxed) }
    }

    /// Whether the SQPOLL thread is asleep and needs `IORING_ENTER_SQ_WAKEUP`.
    pub fn need_wakeup(&self) -> bool {
        self.kernel_flags() & IORING_SQ_NEED_WAKEUP != 0
    }

    /// Whether completions overflowed the CQ and wait in the kernel (`IORING_SQ_CQ_OVERFLOW`).
    pub fn cq_overflow(&self) -> bool {
        self.kernel_flags() & IORING_SQ_CQ_OVERFLOW != 0
    }

    /// Whether task work is pending and a kernel entry would run it (`IORING_SQ_TASKRUN`, with
    /// `IORING_SETUP_TASKRUN_FLAG`).
    pub fn taskrun(&self) -> bool {
        self.kernel_flags() & IORING_SQ_TASKRUN != 0
    }

    /// Publishes pushed entries to the kernel (one release store of the tail) and returns how
    /// many the kernel has yet to consume: the `to_submit` of the next `io_uring_enter(2)`.
    /// With `IORING_SETUP_SQ_REWIND` nothing is stored; the count of entries in slots
    /// `0..n` is returned and the next push starts at slot 0 again.
    #[inline]
    pub fn flush(&mut self) -> u32 {
        if self.rewind {
            return self.prod.unpublished();
        }
        // SAFETY: both point into the live SQ ring mapping.
        let (ktail, khead) = unsafe { (&*self.ktail, &*self.khead) };
        self.prod.publish(ktail, khead)
    }

    /// `IORING_SETUP_SQ_REWIND` bookkeeping after `io_uring_enter(2)` consumed `submitted` of
    /// the `pending` entries at the start of the SQE array: the rest move to the front.
    pub(crate) fn rewind_after_submit(&mut self, pending: u32, submitted: u32) {
        if !self.rewind {
            return;
        }
        let left = pending.saturating_sub(submitted);
        if left == 0 {
            self.prod.rewind_take();
        } else {
            let unit = 1usize << self.shift;
            // SAFETY: both ranges lie inside the SQE array (`pending <= entries`); `copy` allows
            // overlap.
            unsafe { core::ptr::copy(self.sqes.add(submitted as usize * unit), self.sqes, left as usize * unit) };
            self.prod.rewind_keep(left);
        }
    }

    /// Whether this queue uses `IORING_SETUP_SQ_REWIND`.
    pub(crate) fn is_rewind(&self) -> bool {
        self.rewind
    }
}

// SAFETY: the queue holds pointers into mappings owned by its ring; moving it to another thread
// moves exclusive use of those slots with it.
unsafe impl Send for SubmissionQueue {}

/// Pushes entries with the queue's state held locally; see [`SubmissionQueue::batch`].
#[derive(Debug)]
pub struct SqBatch<'a> {
    sq: &'a mut SubmissionQueue,
    prod: SqProducer,
    khead: *const AtomicU32,
    sqes: *mut io_uring_sqe,
    shift: u32,
}

impl SqBatch<'_> {
    /// Copies a safe entry into the next free slot.
    #[inline]
    pub fn push(&mut self, sqe: &SafeSqe) -> Result<(), QueueFull> {
        // SAFETY: a `SafeSqe` references no memory the caller must keep alive.
        unsafe { self.push_raw(&sqe.0) }
    }

    /// Copies an entry into the next free slot.
    ///
    /// # Safety
    /// As [`SubmissionQueue::push_raw`].
    #[inline]
    pub unsafe fn push_raw(&mut self, sqe: &Sqe) -> Result<(), QueueFull> {
        // SAFETY: points into the live SQ ring mapping, owned by the borrowed queue's ring.
        let khead = unsafe { &*self.khead };
        let Some(index) = self.prod.reserve(khead) else {
            return Err(QueueFull);
        };
        // SAFETY: a reserved slot inside the SQE array (see `SubmissionQueue::push_raw`).
        unsafe {
            let dst = self.sqes.add((index << self.shift) as usize);
            dst.write(sqe.0);
            if self.shift == 1 {
                dst.add(1).write(ZERO_SQE);
            }
        }
        Ok(())
    }

    /// Free slots.
    #[inline]
    pub fn space_left(&self) -> u32 {
        // SAFETY: as in `push_raw`.
        self.prod.space_left(unsafe { &*self.khead })
    }
}

impl Drop for SqBatch<'_> {
    #[inline]
    fn drop(&mut self) {
        self.sq.prod = self.prod;
    }
}
