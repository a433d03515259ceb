//! The submission queue: where entries are written for the kernel to consume (the SQ ring of
//! `io_uring_setup(2)`, Linux 5.1).
//!
//! Entries are copied into free slots ([`SubmissionQueue::push`]) and become visible to the
//! kernel when the queue is flushed (one release store of the tail, done by every submit call).
//! See `io_uring(7)`, "Submission queue", and `io_uring_get_sqe(3)`, `io_uring_sq_space_left(3)`,
//! `io_uring_sq_ready(3)`.

use crate::error::QueueFull;
use crate::index::{SqProducer, SqRun};
use crate::sqe::{FdSqe, SafeSqe, SafeSqe128, Sqe, Sqe128, ZERO_SQE};
use crate::sync::AtomicU32;
use crate::{Error, Result};
use uring_uapi::*;

/// The submission side of a ring.
///
/// Obtained from [`Ring::sq`](crate::Ring::sq) or [`Ring::split`](crate::Ring::split); the
/// pointers it holds stay valid for the life of the ring's mappings, which the ring owns.
/// The SQ ring of `io_uring_setup(2)` (`struct io_sqring_offsets`), Linux 5.1.
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
    /// `SQE128` rings only: the counter of the first slot filled by [`SqBatch`] handles since
    /// the last settle; the slots from there to the tail have second halves still to be zeroed
    /// (see [`settle`](Self::settle)). The batch handle writes 64 bytes per entry and leaves the
    /// zeroing to the queue, which keeps its push loop free of a slot-size check and its drop
    /// trivial.
    batch_dirty: Option<u32>,
}

/// Why a 128-byte entry could not be pushed.
/// 128-byte entries need `IORING_SETUP_SQE128` (Linux 5.19) or `IORING_SETUP_SQE_MIXED` (Linux
/// 6.19).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushError128 {
    /// No room.
    Full,
    /// The ring has 64-byte entries only (neither `IORING_SETUP_SQE128` (Linux 5.19) nor
    /// `IORING_SETUP_SQE_MIXED`).
    RingTooSmall,
    /// On an `IORING_SETUP_SQE_MIXED` (Linux 6.19) ring only 128-byte opcodes (`IORING_OP_NOP128`,
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

/// The opcode a 128-byte entry needs on a ring of 128-byte entries (`sqe128`) or of mixed
/// sizes (`mixed`): the crate's one rule for fitting 128-byte entries, used by
/// [`SubmissionQueue::push128_raw`] and by [`cmd::uring_cmd_for`](crate::cmd::uring_cmd_for).
///
/// - `IORING_SETUP_SQE128`: a uring_cmd is `IORING_OP_URING_CMD` (the 128-byte form of a
///   mixed ring, `IORING_OP_URING_CMD128`, is turned back); other opcodes are kept.
/// - `IORING_SETUP_SQE_MIXED`: only 128-byte opcodes take two slots: `NOP` and `URING_CMD`
///   become `IORING_OP_NOP128` and `IORING_OP_URING_CMD128`, any other opcode is refused
///   ([`PushError128::NotA128ByteOpcode`]).
/// - 64-byte entries only: refused ([`PushError128::RingTooSmall`]).
///
/// Mixed rings: Linux 6.19.
pub const fn fit128_opcode(opcode: u8, sqe128: bool, mixed: bool) -> Result<u8, PushError128> {
    if sqe128 {
        return Ok(if opcode == IORING_OP_URING_CMD128 { IORING_OP_URING_CMD } else { opcode });
    }
    if !mixed {
        return Err(PushError128::RingTooSmall);
    }
    match opcode {
        IORING_OP_NOP128 | IORING_OP_NOP => Ok(IORING_OP_NOP128),
        IORING_OP_URING_CMD128 | IORING_OP_URING_CMD => Ok(IORING_OP_URING_CMD128),
        _ => Err(PushError128::NotA128ByteOpcode),
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
            batch_dirty: None,
        }
    }

    #[inline]
    fn khead(&self) -> &AtomicU32 {
        // SAFETY: points into the live SQ ring mapping (constructor contract).
        unsafe { &*self.khead }
    }

    /// The flags word in the ring mapping (for the completion queue, which reads it too).
    pub(crate) fn kflags_ptr(&self) -> *const AtomicU32 {
        self.kflags
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
    /// As `io_uring_get_sqe(3)` and filling the entry.
    #[inline]
    pub fn push(&mut self, sqe: &SafeSqe) -> Result<(), QueueFull> {
        // SAFETY: a `SafeSqe` references no memory the caller must keep alive.
        unsafe { self.push_raw(&sqe.0) }
    }

    /// Copies an entry that names file descriptors but points at no memory (an [`FdSqe`]:
    /// fsync, poll, splice, close, `MSG_RING`...) into the next free slot.
    /// As `io_uring_get_sqe(3)` and filling the entry.
    ///
    /// # Safety
    /// Every file descriptor the entry names must stay open, referring to the same open file,
    /// until the request's final completion (for multishot requests, the one without
    /// `IORING_CQE_F_MORE`) has been reaped: the kernel looks the number up when it issues the
    /// request, which for linked requests, `IOSQE_ASYNC` and poll-driven retries can be long
    /// after the submission. For a close, the fd must be one the caller owns and gives up (the
    /// number is released even when the close fails).
    #[inline]
    pub unsafe fn push_fd(&mut self, sqe: &FdSqe) -> Result<(), QueueFull> {
        // SAFETY: an `FdSqe` points at no memory; the caller keeps the fds it names open.
        unsafe { self.push_raw(&sqe.0) }
    }

    /// Copies `sqe` into the next free slot.
    /// As `io_uring_get_sqe(3)` and filling the entry.
    ///
    /// # Safety
    /// Every memory region the entry points at (buffers, iovec arrays and the buffers they
    /// name, paths, timespecs, msghdrs, sockaddrs, ...) must stay valid, and unmoved, for as long
    /// as the kernel may access it: until the operation's completion (for multishot operations,
    /// its final completion) has been reaped. Every file descriptor it names (the target, a
    /// directory, a pidfd, an epoll fd, files in an update...) must stay open, referring to the
    /// same open file, until then too (see [`push_fd`](Self::push_fd)). See each encoder's
    /// documentation for what it points at.
    ///
    /// Sixteen reads of a file through a ring of four entries, at most four in flight; each
    /// buffer stays untouched until its read's completion has been reaped:
    ///
    /// ```
    /// use uring::{op, Ring};
    ///
    /// let path = std::env::temp_dir().join(format!("uring-doc-push-raw-{}", std::process::id()));
    /// std::fs::write(&path, vec![7u8; 16 * 4096])?;
    /// let file = std::fs::File::open(&path)?;
    /// std::fs::remove_file(&path)?;
    ///
    /// let mut ring = Ring::new(4)?;
    /// let mut bufs = vec![vec![0u8; 4096]; 16];
    /// let mut in_flight = 0;
    /// for (i, buf) in bufs.iter_mut().enumerate() {
    ///     if in_flight == 4 {
    ///         let cqe = ring.wait_cqe()?; // submits the pushed reads, waits for one
    ///         assert_eq!(cqe.result(), Ok(4096));
    ///         in_flight -= 1;
    ///     }
    ///     let sqe = op::Read::new(&file, buf)?.offset(i as u64 * 4096).build().user_data(i as u64);
    ///     // SAFETY: `buf` is the heap block of one vector of `bufs`, which is neither read,
    ///     // moved nor freed before every read's completion is reaped (the loops here); `file`
    ///     // stays open until then too.
    ///     unsafe { ring.sq().push_raw(&sqe) }?;
    ///     in_flight += 1;
    /// }
    /// while in_flight > 0 {
    ///     assert_eq!(ring.wait_cqe()?.result(), Ok(4096));
    ///     in_flight -= 1;
    /// }
    /// assert!(bufs.iter().all(|b| b.iter().all(|&x| x == 7)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
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

    /// Reserves the next slot for an entry written in place (crate-internal: the owned layer
    /// encodes into it); on an `SQE128` ring its second half is zeroed.
    #[inline]
    pub(crate) fn reserve_slot(&mut self) -> Option<*mut io_uring_sqe> {
        // SAFETY: points into the live ring (constructor contract).
        let khead = unsafe { &*self.khead };
        let index = self.prod.reserve(khead)?;
        let dst = self.slot(index);
        if self.shift == 1 {
            // SAFETY: a reserved 128-byte slot; the kernel reads it only after the tail is
            // published.
            unsafe { dst.add(1).write(ZERO_SQE) };
        }
        Some(dst)
    }

    /// Gives back the slot [`reserve_slot`](Self::reserve_slot) returned last (crate-internal).
    #[inline]
    pub(crate) fn unreserve_last(&mut self) {
        self.prod.unreserve(1);
    }

    /// Copies several entries, all or none.
    /// As `io_uring_get_sqe(3)` per entry.
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
    /// As `io_uring_get_sqe(3)` per entry.
    pub fn push_multiple(&mut self, sqes: &[SafeSqe]) -> Result<(), QueueFull> {
        // SAFETY: `SafeSqe` is `repr(transparent)` over `Sqe` and references no caller memory.
        unsafe { self.push_multiple_raw(core::slice::from_raw_parts(sqes.as_ptr().cast(), sqes.len())) }
    }

    /// Copies a safe 128-byte entry (see [`push128_raw`](Self::push128_raw)).
    /// As `io_uring_get_sqe128(3)`; 128-byte entries need `IORING_SETUP_SQE128` (Linux 5.19) or
    /// `IORING_SETUP_SQE_MIXED` (Linux 6.19).
    #[inline]
    pub fn push128(&mut self, sqe: &SafeSqe128) -> Result<(), PushError128> {
        // SAFETY: a `SafeSqe128` references no memory the caller must keep alive.
        unsafe { self.push128_raw(&sqe.0) }
    }

    /// Copies a 128-byte entry, fitted to the ring ([`fit128_opcode`], the crate's one rule for
    /// 128-byte entries): one slot on an `IORING_SETUP_SQE128` ring, where a uring_cmd takes
    /// opcode `IORING_OP_URING_CMD` (which every kernel since 5.19 reads there); two contiguous
    /// slots on an `IORING_SETUP_SQE_MIXED` ring, where the opcode must be a 128-byte one (`NOP`
    /// and `URING_CMD` become `IORING_OP_NOP128` and `IORING_OP_URING_CMD128`; any other opcode
    /// is refused with [`PushError128::NotA128ByteOpcode`], as the kernel would read the second
    /// half as an entry of its own). A ring of 64-byte entries is refused with
    /// [`PushError128::RingTooSmall`] before anything is written. On a mixed ring whose next free
    /// slot is the last one, that slot is filled with a NOP that posts no completion, as
    /// liburing's `io_uring_get_sqe128(3)` does.
    ///
    /// # Safety
    /// As [`push_raw`](Self::push_raw).
    pub unsafe fn push128_raw(&mut self, sqe: &Sqe128) -> Result<(), PushError128> {
        self.settle();
        let mut sqe = *sqe;
        sqe.sqe.opcode = fit128_opcode(sqe.sqe.opcode, self.shift == 1, self.mixed)?;
        let sqe = &sqe;
        if self.shift == 1 {
            // SAFETY: points into the live SQ ring mapping.
            let khead = unsafe { &*self.khead };
            let index = self.prod.reserve(khead).ok_or(PushError128::Full)?;
            // SAFETY: a 128-byte slot reserved for us.
            unsafe { (self.slot(index) as *mut Sqe128).write(*sqe) };
            return Ok(());
        }
        // A mixed ring (`fit128_opcode` refused the rest): the opcode tells the kernel the entry
        // spans two slots.
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
        if self.shift == 1 {
            self.begin_dirty();
        }
        SqBatch {
            run: self.prod.begin_run(),
            khead: self.khead,
            sqes: self.sqes.cast(),
            slot_shift: 6 + self.shift,
            sq: self,
        }
    }

    /// `SQE128`: a batch handle is about to fill slots from the current tail; remember where its
    /// range starts (the end is the tail at the next [`settle`](Self::settle), since only batch
    /// handles and 64-byte pushes, which zero their own second half, move the tail in between).
    #[cold]
    fn begin_dirty(&mut self) {
        self.settle();
        self.batch_dirty = Some(self.prod.tail());
    }

    /// `SQE128`: zeroes the second half of every slot filled through a batch handle since the
    /// last settle. Called before anything that could let the kernel read those slots (flush)
    /// or write a second half of its own (`push128`), or move the tail back (`unpush`).
    #[inline]
    fn settle(&mut self) {
        if self.batch_dirty.is_some() {
            self.settle_dirty();
        }
    }

    #[cold]
    fn settle_dirty(&mut self) {
        if let Some(from) = self.batch_dirty.take() {
            let to = self.prod.tail();
            // SAFETY: `from..to` are slots reserved since `begin_dirty` and not yet flushed (every
            // flush settles first), in an SQE array of 128-byte slots (`batch_dirty` is only set
            // on `SQE128` rings).
            unsafe { zero_upper_halves(self.sqes.cast(), from, to, self.prod.entries() - 1) };
        }
    }

    /// Drops the last `n` pushed, unflushed entries (crate-internal: a partly encoded chain).
    pub(crate) fn unpush(&mut self, n: u32) {
        self.settle();
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

    /// `IORING_SETUP_SQPOLL`, after a flush: whether the SQ poll thread sleeps and needs
    /// `IORING_ENTER_SQ_WAKEUP` (a full fence orders the tail store before the flags load; the
    /// kernel has the other fence; model-checked in `index::loom_tests`).
    #[inline]
    pub(crate) fn sqpoll_needs_wakeup(&self) -> bool {
        // SAFETY: `kflags` points into the live SQ ring mapping.
        crate::index::sqpoll_needs_wakeup(unsafe { &*self.kflags })
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
        self.settle();
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
///
/// The slot size is fixed when the handle is created: a push computes the slot's byte offset
/// with one shift and writes the 64-byte entry. On an `IORING_SETUP_SQE128` ring the second
/// halves of the slots it filled are zeroed by the queue before they can reach the kernel (at
/// the next flush), which keeps the push loop free of a slot-size check.
/// Each push is liburing's `io_uring_get_sqe(3)` without touching the shared tail until the batch
/// is flushed.
#[derive(Debug)]
pub struct SqBatch<'a> {
    sq: &'a mut SubmissionQueue,
    run: SqRun,
    khead: *const AtomicU32,
    /// The SQE array, as bytes.
    sqes: *mut u8,
    /// log2 of the slot size in bytes: 6, or 7 on `SQE128` rings.
    slot_shift: u32,
}

impl SqBatch<'_> {
    /// Copies a safe entry into the next free slot.
    /// As `io_uring_get_sqe(3)`.
    #[inline]
    pub fn push(&mut self, sqe: &SafeSqe) -> Result<(), QueueFull> {
        // SAFETY: a `SafeSqe` references no memory the caller must keep alive.
        unsafe { self.push_raw(&sqe.0) }
    }

    /// Copies an entry that names file descriptors into the next free slot.
    /// As `io_uring_get_sqe(3)`.
    ///
    /// # Safety
    /// As [`SubmissionQueue::push_fd`].
    #[inline]
    pub unsafe fn push_fd(&mut self, sqe: &FdSqe) -> Result<(), QueueFull> {
        // SAFETY: the caller's contract, as for `SubmissionQueue::push_fd`.
        unsafe { self.push_raw(&sqe.0) }
    }

    /// Copies an entry into the next free slot.
    /// As `io_uring_get_sqe(3)`.
    ///
    /// # Safety
    /// As [`SubmissionQueue::push_raw`].
    #[inline]
    pub unsafe fn push_raw(&mut self, sqe: &Sqe) -> Result<(), QueueFull> {
        // SAFETY: points into the live SQ ring mapping, owned by the borrowed queue's ring.
        let khead = unsafe { &*self.khead };
        let Some(index) = self.run.reserve(khead) else {
            return Err(QueueFull);
        };
        // SAFETY: a reserved slot inside the SQE array (`index` is masked to the ring and a slot
        // is `1 << slot_shift` bytes); the kernel will not read it before the tail is published.
        // The second half of a 128-byte slot is zeroed by the queue before the next flush.
        unsafe { (self.sqes.add((index as usize) << self.slot_shift) as *mut io_uring_sqe).write(sqe.0) };
        Ok(())
    }

    /// Reserves the next slot for an entry written in place (crate-internal, as
    /// [`SubmissionQueue::reserve_slot`]; an `SQE128` second half is zeroed before the flush).
    #[inline]
    pub(crate) fn reserve_slot(&mut self) -> Option<*mut io_uring_sqe> {
        // SAFETY: as in `push_raw`.
        let khead = unsafe { &*self.khead };
        let index = self.run.reserve(khead)?;
        // SAFETY: as in `push_raw`: a reserved slot inside the SQE array.
        Some(unsafe { self.sqes.add((index as usize) << self.slot_shift) } as *mut io_uring_sqe)
    }

    /// Gives back the slot [`reserve_slot`](Self::reserve_slot) returned last (crate-internal).
    #[inline]
    pub(crate) fn unreserve_last(&mut self) {
        self.run.unreserve_last();
    }

    /// Free slots.
    #[inline]
    pub fn space_left(&self) -> u32 {
        // SAFETY: as in `push_raw`.
        self.run.space_left(unsafe { &*self.khead })
    }
}

/// Zeroes the second 64 bytes of the 128-byte slots `start..tail` (counters, masked with
/// `mask`) of the SQE array `sqes`.
///
/// # Safety
/// The slots must be reserved by the caller and not yet shown to the kernel, on an `SQE128`
/// ring (128-byte slots).
#[cold]
#[inline(never)]
unsafe fn zero_upper_halves(sqes: *mut u8, start: u32, tail: u32, mask: u32) {
    let mut t = start;
    while t != tail {
        // SAFETY: a reserved 128-byte slot (caller's contract), masked to the ring.
        unsafe { (sqes.add(((t & mask) as usize) << 7) as *mut io_uring_sqe).add(1).write(ZERO_SQE) };
        t = t.wrapping_add(1);
    }
}

impl Drop for SqBatch<'_> {
    // Kept trivial (two stores) so it inlines everywhere, unwinding paths included: an
    // out-of-line drop would take the handle's address and force its state out of registers on
    // every push.
    #[inline]
    fn drop(&mut self) {
        self.sq.prod.end_run(&self.run);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::op;

    /// The one fitting rule for 128-byte entries, per ring layout.
    #[test]
    fn fit128_opcodes() {
        use PushError128::*;
        let cases = [
            // (opcode, SQE128, mixed) -> fitted opcode
            (IORING_OP_URING_CMD, true, false, Ok(IORING_OP_URING_CMD)),
            (IORING_OP_URING_CMD128, true, false, Ok(IORING_OP_URING_CMD)),
            (IORING_OP_NOP128, true, false, Ok(IORING_OP_NOP128)),
            (IORING_OP_READ, true, false, Ok(IORING_OP_READ)),
            (IORING_OP_URING_CMD, false, true, Ok(IORING_OP_URING_CMD128)),
            (IORING_OP_URING_CMD128, false, true, Ok(IORING_OP_URING_CMD128)),
            (IORING_OP_NOP, false, true, Ok(IORING_OP_NOP128)),
            (IORING_OP_READ, false, true, Err(NotA128ByteOpcode)),
            (IORING_OP_URING_CMD, false, false, Err(RingTooSmall)),
            (IORING_OP_NOP128, false, false, Err(RingTooSmall)),
        ];
        for (op, sqe128, mixed, want) in cases {
            assert_eq!(fit128_opcode(op, sqe128, mixed), want, "opcode {op}, SQE128 {sqe128}, mixed {mixed}");
        }
    }

    /// A submission queue over plain memory laid out like the kernel's mapping, and a view of
    /// it for checking what the kernel would read.
    struct FakeSq {
        ring: Vec<AtomicU32>,
        sqes: Vec<[u64; 16]>,
        sq: SubmissionQueue,
    }

    const HEAD: usize = 0;
    const TAIL: usize = 1;

    impl FakeSq {
        fn new(entries: u32, flags: u32) -> Self {
            let ring: Vec<AtomicU32> = (0..16 + entries).map(|_| AtomicU32::new(0)).collect();
            // Stale bytes everywhere: what earlier 128-byte entries may have left in the slots.
            let mut sqes = vec![[0xaaaa_aaaa_aaaa_aaaa_u64; 16]; entries as usize];
            let mut p = io_uring_params { sq_entries: entries, cq_entries: entries * 2, flags, ..Default::default() };
            p.sq_off = io_sqring_offsets {
                head: 0,
                tail: 4,
                ring_mask: 8,
                ring_entries: 12,
                flags: 16,
                dropped: 20,
                array: 64,
                ..Default::default()
            };
            // SAFETY: `ring` holds the counters and the index array at those offsets, `sqes`
            // holds `entries` 128-byte slots; both outlive the queue (fields of the same value,
            // heap memory that does not move).
            let sq = unsafe { SubmissionQueue::new(ring.as_ptr() as *mut u8, sqes.as_mut_ptr().cast(), &p) };
            FakeSq { ring, sqes, sq }
        }
        /// The first and second 64 bytes of the `i`th 64-byte unit of the SQE array.
        fn unit(&self, i: usize) -> [u64; 8] {
            assert!(i < self.sqes.len() * 2);
            // SAFETY: in bounds (checked); read through the same pointer the queue writes with.
            unsafe { (self.sqes.as_ptr() as *const [u64; 8]).add(i).read() }
        }
        fn tail(&self) -> u32 {
            self.ring[TAIL].load(core::sync::atomic::Ordering::Acquire)
        }
        fn consume_to(&self, head: u32) {
            self.ring[HEAD].store(head, core::sync::atomic::Ordering::Release);
        }
    }

    fn words(sqe: &Sqe) -> [u64; 8] {
        // SAFETY: an `Sqe` is 64 plain bytes.
        unsafe { core::mem::transmute::<io_uring_sqe, [u64; 8]>(sqe.0) }
    }

    const STALE: [u64; 8] = [0xaaaa_aaaa_aaaa_aaaa; 8];

    /// On an SQE128 ring the batch handle writes 64 bytes per entry; the second halves of its
    /// slots are zero by the time the kernel can see them, while the extension of a 128-byte
    /// entry pushed around them is kept.
    #[test]
    fn sqe128_batch_zeroes_second_halves() {
        let mut f = FakeSq::new(4, IORING_SETUP_SQE128);
        let ext = |b: u8| Sqe128::from_parts(op::Nop::new().build().into_sqe(), [b; 64]);
        // SAFETY: NOPs point at no memory.
        unsafe { f.sq.push128_raw(&ext(0x11).user_data(100)) }.unwrap();
        {
            let mut b = f.sq.batch();
            b.push(&op::Nop::new().build().user_data(1)).unwrap();
            b.push(&op::Nop::new().build().user_data(2)).unwrap();
            // Nothing is shown to the kernel while the handle lives.
        }
        assert_eq!(f.tail(), 0);
        // A 128-byte push after the batch keeps its own extension.
        // SAFETY: as above.
        unsafe { f.sq.push128_raw(&ext(0x22).user_data(101)) }.unwrap();
        assert_eq!(f.sq.flush(), 4);
        assert_eq!(f.tail(), 4);
        assert_eq!(f.unit(1), [0x1111_1111_1111_1111; 8]);
        for (slot, ud) in [(1, 1), (2, 2)] {
            assert_eq!(f.unit(slot * 2), words(op::Nop::new().build().user_data(ud).sqe()));
            assert_eq!(f.unit(slot * 2 + 1), [0; 8], "slot {slot}: stale second half");
        }
        assert_eq!(f.unit(7), [0x2222_2222_2222_2222; 8]);

        // The kernel consumed everything; a batch across the wrap, then a 64-byte push.
        f.consume_to(4);
        {
            let mut b = f.sq.batch();
            for ud in 10..13 {
                b.push(&op::Nop::new().build().user_data(ud)).unwrap();
            }
        }
        f.sq.push(&op::Nop::new().build().user_data(13)).unwrap();
        assert_eq!(f.sq.flush(), 4);
        for slot in 0..4 {
            assert_eq!(f.unit(slot * 2), words(op::Nop::new().build().user_data(10 + slot as u64).sqe()));
            assert_eq!(f.unit(slot * 2 + 1), [0; 8], "slot {slot}: stale second half");
        }
    }

    /// Two batch handles in a row, a handle that pushes nothing, and `unpush` after a batch.
    #[test]
    fn sqe128_batches_back_to_back_and_unpush() {
        let mut f = FakeSq::new(8, IORING_SETUP_SQE128);
        f.sq.batch().push(&op::Nop::new().build().user_data(1)).unwrap();
        drop(f.sq.batch());
        f.sq.batch().push(&op::Nop::new().build().user_data(2)).unwrap();
        {
            let mut b = f.sq.batch();
            b.push(&op::Nop::new().build().user_data(3)).unwrap();
            b.push(&op::Nop::new().build().user_data(4)).unwrap();
        }
        f.sq.unpush(1);
        assert_eq!(f.sq.flush(), 3);
        for slot in 0..3 {
            assert_eq!(f.unit(slot * 2 + 1), [0; 8], "slot {slot}: stale second half");
        }
        // The dropped entry's slot is not published and is overwritten by the next push.
        assert_eq!(f.unit(7), [0; 8]);
        assert_eq!(f.unit(8), STALE);
    }

    /// On a 64-byte ring the handle fills consecutive 64-byte slots and touches nothing else;
    /// it stops at a full ring and picks up slots the kernel frees while it is open.
    #[test]
    fn batch_fills_64_byte_slots_and_refreshes_head() {
        let mut f = FakeSq::new(4, 0);
        {
            let mut b = f.sq.batch();
            for ud in 0..4 {
                b.push(&op::Nop::new().build().user_data(ud)).unwrap();
            }
            assert_eq!(b.space_left(), 0);
            assert!(b.push(&op::Nop::new().build()).is_err());
        }
        assert_eq!(f.sq.flush(), 4);
        for slot in 0..4 {
            assert_eq!(f.unit(slot), words(op::Nop::new().build().user_data(slot as u64).sqe()));
        }
        for unit in 4..8 {
            assert_eq!(f.unit(unit), STALE);
        }
        let mut b = f.sq.batch();
        assert!(b.push(&op::Nop::new().build()).is_err());
        f.ring[HEAD].store(3, core::sync::atomic::Ordering::Release);
        assert_eq!(b.space_left(), 3);
        for ud in 4..7 {
            b.push(&op::Nop::new().build().user_data(ud)).unwrap();
        }
        assert!(b.push(&op::Nop::new().build()).is_err());
        drop(b);
        assert_eq!(f.sq.unflushed(), 3);
        assert_eq!(f.sq.flush(), 4);
        assert_eq!(f.tail(), 7);
        assert_eq!(f.unit(2), words(op::Nop::new().build().user_data(6).sqe()));
    }
}
