//! Safe submission: operations that own their memory until the kernel is done with it.
//!
//! Pushing an entry that points at caller memory is `unsafe` in the raw layer
//! ([`SubmissionQueue::push_raw`](crate::SubmissionQueue::push_raw)): the kernel may write that
//! memory long after the call returns. [`OwnedRing`] closes the gap. An operation value *owns*
//! everything the kernel will read or write (a `Vec<u8>`, a path, a timespec, a sockaddr...).
//! [`OwnedRing::push`] moves it into a preallocated in-flight table; the entry is built from the
//! operation at its final, stable address; the operation comes back only with its final
//! completion ([`Completion::into_op`]), together with the result. So the caller cannot touch
//! or free the memory while the kernel may use it — in safe code that does not compile:
//!
//! ```compile_fail,E0382
//! # use uring::owned::{OwnedRing, Read};
//! # use uring::op::Target;
//! let mut ring = OwnedRing::new(8).unwrap();
//! let mut buf = vec![0u8; 4096];
//! ring.push(Read::new(Target::raw(0), buf, 0)).unwrap();
//! buf[0] = 1; // error: `buf` was moved into the ring
//! ```
//!
//! ## In-flight table and `user_data`
//! The table has one slot per CQ entry, allocated once: pushing and completing allocate nothing.
//! Owned operations use `user_data` values with bit 63 set ([`OWNED_TAG`]: a slot index and a
//! generation). The raw layer may share the ring ([`OwnedRing::ring`]) with `user_data` values
//! below 2^63; their completions come back as [`Completion`]s without an id.
//!
//! ## Multishot, zero-copy sends, chains, skip-on-success
//! An operation stays in its slot until a completion without `IORING_CQE_F_MORE`: multishot
//! receives yield each completion (with [`Completion::cqe`] naming the provided buffer) and the
//! operation on the last; a zero-copy send's memory comes back with its notification. In a chain
//! pushed with [`OwnedRing::push_chain`], earlier links may carry `IOSQE_CQE_SKIP_SUCCESS`: their
//! slots are released by the chain's last completion, which the kernel posts only after they
//! finished. A single operation with `IOSQE_CQE_SKIP_SUCCESS` outside a chain is refused (its
//! memory could never be handed back safely).
//!
//! ## Cancellation and drop
//! [`OwnedRing::cancel`] asks the kernel to cancel; the memory comes back with the operation's
//! final completion (`ECANCELED` or its normal result), never earlier. Dropping an `OwnedRing`
//! with operations in flight cancels them synchronously (`IORING_REGISTER_SYNC_CANCEL`, Linux
//! 6.0) and reaps their completions; if that cannot finish (an older kernel, an uncancellable
//! request), the in-flight memory is **leaked**, never freed under the kernel.
//!
//! ## Coverage
//! Of the 65 operations (`IORING_OP_NOP` = 0 to `IORING_OP_URING_CMD128` = 64), **61** are
//! usable from safe code (93.8%); 4 are not.
//!
//! Safe in the raw layer ([`SafeSqe`]), because they point at no caller memory;
//! [`OwnedRing::push_safe`] takes them (21): NOP, FSYNC, POLL_ADD, POLL_REMOVE (and poll
//! update), SYNC_FILE_RANGE, TIMEOUT_REMOVE, ASYNC_CANCEL, FALLOCATE, CLOSE, FADVISE, SPLICE,
//! REMOVE_BUFFERS, TEE, SHUTDOWN, MSG_RING (data and registered-file passing), SOCKET,
//! READ_MULTISHOT, FIXED_FD_INSTALL, FTRUNCATE, LISTEN, NOP128.
//!
//! Owned operations of [`ops`], which own what the kernel reads or writes (40): READ, WRITE
//! ([`Read`], [`Write`]), READV, WRITEV ([`Readv`], [`Writev`]), READ_FIXED, WRITE_FIXED,
//! READV_FIXED, WRITEV_FIXED ([`ReadFixed`], [`WriteFixed`], [`ReadvFixed`], [`WritevFixed`],
//! over [`FixedBuf`] handles from [`OwnedRing::register_fixed_buffers`], whose memory the ring
//! keeps), OPENAT, OPENAT2, STATX, RENAMEAT, UNLINKAT, MKDIRAT, SYMLINKAT, LINKAT, FSETXATTR,
//! SETXATTR, FGETXATTR, GETXATTR ([`OpenAt`], [`OpenAt2`], [`Statx`], [`RenameAt`],
//! [`UnlinkAt`], [`MkdirAt`], [`SymlinkAt`], [`LinkAt`], [`FsetXattr`], [`SetXattr`],
//! [`FgetXattr`], [`GetXattr`]), CONNECT, BIND, ACCEPT with the peer address ([`Connect`],
//! [`Bind`], [`Accept`]), SEND (send, sendto, and [`SendBundle`]), SEND_ZC, SENDMSG,
//! SENDMSG_ZC ([`Send`], [`SendZc`], [`SendMsg`], [`SendMsgZc`]: zero-copy memory comes back
//! with the notification), RECV ([`Recv`], and [`RecvSelect`], [`RecvMultishot`] over a
//! crate-owned [`BufRing`](crate::buf::BufRing)), RECVMSG ([`RecvMsg`], [`RecvMsgMultishot`]),
//! TIMEOUT, LINK_TIMEOUT, TIMEOUT_REMOVE's update form ([`Timeout`], [`LinkTimeout`],
//! [`TimeoutUpdate`]), EPOLL_CTL, EPOLL_WAIT ([`EpollCtl`], [`EpollWait`]), WAITID
//! ([`Waitid`]), FUTEX_WAIT, FUTEX_WAKE, FUTEX_WAITV (futex words as `Arc<AtomicU32>`:
//! [`FutexWait`], [`FutexWake`], [`FutexWaitv`]), PIPE ([`Pipe`]), FILES_UPDATE
//! ([`FilesUpdate`]), PROVIDE_BUFFERS ([`ProvideBuffers`] through
//! [`OwnedRing::provide_buffers`]: the kernel writes provided buffers after the completion, so
//! the memory moves to the ring's keep-alive list and is freed only when the ring is dropped).
//!
//! Not usable from safe code (4):
//! - MADVISE: advises on any range of the address space, and some advice (`MADV_DONTNEED`,
//!   `MADV_FREE`, `MADV_REMOVE`) discards the contents of memory Rust may hold references to.
//!   No owned value can vouch for an arbitrary range; an owned mapping type could later.
//! - URING_CMD, URING_CMD128: the payload is defined by the file's driver and may hold
//!   addresses the kernel reads or writes (NVMe passthrough, ublk, socket options), which a
//!   generic command cannot check; typed commands that own their memory can be added per
//!   driver.
//! - RECV_ZC: the entry points at no caller memory and the ring keeps the zero-copy area
//!   alive, but its completions are 32-byte CQEs whose second half locates the data, and a
//!   [`Completion`] carries the 16-byte [`Cqe`]. Until it carries the extension, RECV_ZC
//!   needs the raw layer's `unsafe` push and [`Zcrx::data`](crate::zcrx::Zcrx::data).
//!
//! Some variants stay raw-only: buffer groups given as a bare
//! [`BufGroupId`](crate::op::BufGroupId) (legacy caller memory the crate cannot see), sends and
//! receives naming a registered buffer by index (`fixed_buf`), protection-information
//! attributes (`attr_pi`), `IORING_SEND_VECTORIZED`, and multishot accept with an address.

use std::io;
use std::time::Duration;

use crate::cqe::Cqe;
use crate::op::AsyncCancel;
use crate::sqe::{SafeSqe, SqeFlags};
use crate::{Error, Result, Ring};

pub mod ops;
mod pool;

pub use ops::*;
pub use pool::BufPool;

/// Bit 63 of `user_data`: set on every entry the owned layer submits.
pub const OWNED_TAG: u64 = 1 << 63;
/// `user_data` of the owned layer's own internal entries (cancel requests); never surfaced.
const INTERNAL: u64 = OWNED_TAG | ((GEN_MASK as u64) << 32) | u32::MAX as u64;
const GEN_MASK: u32 = 0x7fff_ffff;

/// Identifies an operation in flight (a slot and a generation, so a stale id never matches a
/// later operation in the same slot).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OpId {
    index: u32,
    gen: u32,
}

impl OpId {
    fn user_data(self) -> u64 {
        OWNED_TAG | ((self.gen as u64) << 32) | self.index as u64
    }

    fn from_user_data(ud: u64) -> Option<OpId> {
        if ud & OWNED_TAG == 0 || ud == INTERNAL {
            return None;
        }
        Some(OpId { index: ud as u32, gen: (ud >> 32) as u32 & GEN_MASK })
    }
}

#[derive(Debug)]
struct Slot {
    gen: u32,
    op: Option<OwnedOp>,
    /// Slots of earlier chain links with `IOSQE_CQE_SKIP_SUCCESS`, released with this one.
    chain_prev: Option<u32>,
}

/// A completion from an [`OwnedRing`]: the result, and (on the final completion of an owned
/// operation) the operation with all its memory, taken with [`into_op`](Completion::into_op).
///
/// It borrows the ring: the operation is moved out of its slot only when taken, and the slot is
/// released when the completion is dropped.
#[derive(Debug)]
pub struct Completion<'a> {
    ring: &'a mut OwnedRing,
    id: Option<OpId>,
    cqe: Cqe,
    last: bool,
}

impl Completion<'_> {
    /// The operation this completes (`None` for a raw-layer entry).
    #[inline]
    pub fn id(&self) -> Option<OpId> {
        self.id
    }

    /// The kernel's completion.
    #[inline]
    pub fn cqe(&self) -> &Cqe {
        &self.cqe
    }

    /// The result (bytes, an fd, ...) or the errno.
    #[inline]
    pub fn result(&self) -> core::result::Result<u32, crate::Errno> {
        self.cqe.result()
    }

    /// Whether more completions follow for this operation (multishot, zero-copy send).
    #[inline]
    pub fn more(&self) -> bool {
        self.id.is_some() && !self.last
    }

    /// The operation, on its final completion.
    pub fn op(&self) -> Option<&OwnedOp> {
        let id = self.id.filter(|_| self.last)?;
        self.ring.slots[id.index as usize].op.as_ref()
    }

    /// Takes the operation back as its type `O` (on the final completion), or returns the
    /// completion unchanged (not final, a raw entry, or another type).
    #[inline]
    pub fn into_op<O: Operation>(self) -> core::result::Result<O, Self> {
        let Some(id) = self.id.filter(|_| self.last) else { return Err(self) };
        let slot = &mut self.ring.slots[id.index as usize];
        let Some(op) = slot.op.take() else { return Err(self) };
        match O::from_op(op) {
            Ok(o) => Ok(o),
            Err(other) => {
                slot.op = Some(other);
                Err(self)
            }
        }
    }
}

impl Drop for Completion<'_> {
    #[inline]
    fn drop(&mut self) {
        if let (Some(id), true) = (self.id, self.last) {
            self.ring.release(id.index);
        }
    }
}

/// An operation the ring refused, handed back with the reason.
#[derive(Debug)]
pub struct Rejected<O> {
    /// The operation, with its memory.
    pub op: O,
    /// Why.
    pub error: Error,
}

/// A ring whose operations own their memory (see the [module docs](self)).
#[derive(Debug)]
pub struct OwnedRing {
    ring: Ring,
    slots: Box<[Slot]>,
    free: Vec<u32>,
    in_flight: usize,
}

impl OwnedRing {
    /// A ring with room for `entries` submissions and up to twice as many operations in flight.
    pub fn new(entries: u32) -> Result<OwnedRing> {
        Ok(Self::with_ring(Ring::new(entries)?))
    }

    /// Wraps a ring; the in-flight table gets one slot per CQ entry.
    pub fn with_ring(ring: Ring) -> OwnedRing {
        let n = ring.params().cq_entries;
        let slots = (0..n).map(|_| Slot { gen: 0, op: None, chain_prev: None }).collect();
        let free = (0..n).rev().collect();
        OwnedRing { ring, slots, free, in_flight: 0 }
    }

    /// The raw ring, for raw-layer entries (use `user_data` below 2^63) and settings.
    pub fn ring(&mut self) -> &mut Ring {
        &mut self.ring
    }

    /// Operations in flight.
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// Places `op` in a free slot and pushes its entry. On failure (no free slot, a full SQ,
    /// an operation that cannot be encoded) the operation comes back unchanged.
    #[inline]
    pub fn push<O: Operation>(&mut self, op: O) -> core::result::Result<OpId, Rejected<O>> {
        self.push_with(op, SqeFlags::empty())
    }

    /// As [`push`](Self::push), with `IOSQE_*` flags on the entry (`IO_LINK`, `IO_DRAIN`,
    /// `ASYNC`...). `CQE_SKIP_SUCCESS` is refused here; use [`push_chain`](Self::push_chain).
    #[inline]
    pub fn push_with<O: Operation>(&mut self, op: O, flags: SqeFlags) -> core::result::Result<OpId, Rejected<O>> {
        if flags.contains(SqeFlags::CQE_SKIP_SUCCESS) {
            return Err(Rejected {
                op,
                error: Error::InvalidArgument {
                    what: "IOSQE_CQE_SKIP_SUCCESS",
                    reason: "an owned operation must complete to hand its memory back; use push_chain",
                },
            });
        }
        let Some(&index) = self.free.last() else {
            return Err(Rejected {
                op,
                error: Error::InvalidArgument { what: "owned ring", reason: "every in-flight slot is in use" },
            });
        };
        let slot = &mut self.slots[index as usize];
        let id = OpId { index, gen: slot.gen };
        // A free slot holds no operation, so nothing is dropped here.
        debug_assert!(slot.op.is_none());
        let stored = slot.op.get_or_insert(op.into_op());
        // The entry points into the slot, whose address is stable until the slot is freed.
        let mut sqe = match stored.sqe() {
            Ok(sqe) => sqe,
            Err(error) => return Err(Rejected { op: Self::take_back(slot), error }),
        };
        let raw = sqe.as_raw_mut();
        raw.user_data = id.user_data();
        raw.flags |= flags.bits();
        // SAFETY: everything the entry points at is owned by the operation in its slot, which
        // stays there, unmoved, until the final completion (or is leaked at drop).
        if unsafe { self.ring.sq().push_raw(&sqe) }.is_err() {
            let slot = &mut self.slots[index as usize];
            return Err(Rejected { op: Self::take_back(slot), error: Error::SubmissionQueueFull });
        }
        self.free.pop();
        self.in_flight += 1;
        Ok(id)
    }

    /// Takes back an operation just stored in `slot` (its entry was never published).
    #[cold]
    fn take_back<O: Operation>(slot: &mut Slot) -> O {
        match slot.op.take().map(O::from_op) {
            Some(Ok(op)) => op,
            _ => unreachable!("the slot holds the operation just stored"),
        }
    }

    /// Pushes a chain: every operation but the last is linked to the next (`IOSQE_IO_LINK`);
    /// earlier links may skip their completion on success (`skip_success`), in which case
    /// their memory comes back with the last link's completion (as [`Completion`]s of their
    /// own, result 0). All or nothing: on failure every operation comes back.
    pub fn push_chain(
        &mut self,
        ops: Vec<OwnedOp>,
        skip_success: bool,
    ) -> core::result::Result<Vec<OpId>, Rejected<Vec<OwnedOp>>> {
        let n = ops.len();
        if n == 0 || n > self.free.len() || n as u32 > self.ring.sq().space_left() {
            return Err(Rejected {
                op: ops,
                error: Error::InvalidArgument { what: "chain", reason: "empty, or more links than free slots" },
            });
        }
        let mut ids = Vec::with_capacity(n);
        let mut prev_skipped: Option<u32> = None;
        for (k, op) in ops.into_iter().enumerate() {
            let last = k + 1 == n;
            let mut flags = if last { SqeFlags::empty() } else { SqeFlags::IO_LINK };
            if skip_success && !last {
                flags |= SqeFlags::CQE_SKIP_SUCCESS;
            }
            let index = *self.free.last().expect("counted above");
            let slot = &mut self.slots[index as usize];
            let id = OpId { index, gen: slot.gen };
            let stored = slot.op.insert(op);
            let sqe = match stored.sqe() {
                Ok(s) => s.user_data(id.user_data()).flags(flags),
                Err(error) => {
                    // Nothing of this chain was published yet: pull the earlier links back.
                    let mut back = Vec::with_capacity(n);
                    for pid in &ids {
                        back.push(self.release_unsubmitted(*pid));
                    }
                    back.push(self.slots[index as usize].op.take().expect("just stored"));
                    self.ring.sq().rewind_unflushed(ids.len() as u32);
                    return Err(Rejected { op: back, error });
                }
            };
            if last {
                self.slots[index as usize].chain_prev = prev_skipped;
            } else if skip_success {
                self.slots[index as usize].chain_prev = prev_skipped;
                prev_skipped = Some(index);
            }
            // SAFETY: as in `push_with`.
            unsafe { self.ring.sq().push_raw(&sqe) }.expect("space was checked");
            self.free.pop();
            self.in_flight += 1;
            ids.push(id);
        }
        Ok(ids)
    }

    fn release_unsubmitted(&mut self, id: OpId) -> OwnedOp {
        let slot = &mut self.slots[id.index as usize];
        let op = slot.op.take().expect("in flight");
        slot.chain_prev = None;
        self.free.push(id.index);
        self.in_flight -= 1;
        op
    }

    /// Pushes an entry that points at no caller memory (a raw-layer [`SafeSqe`]) with the
    /// caller's `user_data` (which must be below 2^63).
    pub fn push_safe(&mut self, sqe: &SafeSqe) -> Result<()> {
        if sqe.sqe().get_user_data() & OWNED_TAG != 0 {
            return Err(Error::InvalidArgument {
                what: "user_data",
                reason: "bit 63 is reserved for owned operations",
            });
        }
        self.ring.sq().push(sqe)?;
        Ok(())
    }

    /// Asks the kernel to cancel `id`. Its memory comes back with its final completion.
    pub fn cancel(&mut self, id: OpId) -> Result<()> {
        let slot = self.slots.get(id.index as usize).filter(|s| s.gen == id.gen && s.op.is_some());
        if slot.is_none() {
            return Err(Error::InvalidArgument { what: "operation id", reason: "not in flight" });
        }
        let sqe = AsyncCancel::user_data(id.user_data()).build().user_data(INTERNAL);
        self.ring.sq().push(&sqe)?;
        Ok(())
    }

    /// Submits pushed entries.
    pub fn submit(&mut self) -> io::Result<u32> {
        self.ring.submit()
    }

    /// Submits and waits for `want` completions.
    pub fn submit_and_wait(&mut self, want: u32) -> io::Result<u32> {
        self.ring.submit_and_wait(want)
    }

    /// The next completion, if one is ready (no system call).
    // Not `Iterator::next`: each completion borrows the ring (a lending iterator).
    #[allow(clippy::should_implement_trait)]
    #[inline]
    pub fn next(&mut self) -> Option<Completion<'_>> {
        loop {
            let Some(cqe) = self.ring.cq().peek() else {
                // Release the slots consumed so far in one store.
                self.ring.cq().sync();
                return None;
            };
            self.ring.cq().consume_peeked(&cqe);
            match self.classify(&cqe) {
                Kind::Internal => continue,
                Kind::Raw => return Some(Completion { ring: self, id: None, cqe, last: false }),
                Kind::Owned(id, last) => {
                    if last {
                        self.release_chain(id.index);
                    }
                    return Some(Completion { ring: self, id: Some(id), cqe, last });
                }
            }
        }
    }

    /// Waits for the next completion (submitting what is pending).
    pub fn wait(&mut self) -> io::Result<Completion<'_>> {
        while self.ring.cq().is_empty() {
            self.ring.submit_and_wait(1)?;
        }
        // Internal entries (cancels) are skipped by `next`; wait again if that was all.
        if self.peek_is_internal_only() {
            self.ring.cq().pop();
            return self.wait();
        }
        Ok(self.next().expect("a completion is ready"))
    }

    fn peek_is_internal_only(&mut self) -> bool {
        matches!(self.ring.cq().peek(), Some(c) if c.user_data() == INTERNAL) && self.ring.cq().ready() == 1
    }

    #[inline]
    fn classify(&self, cqe: &Cqe) -> Kind {
        let ud = cqe.user_data();
        if ud == INTERNAL {
            return Kind::Internal;
        }
        let Some(id) = OpId::from_user_data(ud) else { return Kind::Raw };
        match self.slots.get(id.index as usize) {
            Some(slot) if slot.gen == id.gen && slot.op.is_some() => Kind::Owned(id, !cqe.more()),
            // Not ours (a stale or forged tag): surface it raw rather than guess.
            _ => Kind::Raw,
        }
    }

    /// Releases the slots of earlier chain links that skipped their success completion (the
    /// final completion of `index` shows they finished).
    #[inline]
    fn release_chain(&mut self, index: u32) {
        if self.slots[index as usize].chain_prev.is_none() {
            return;
        }
        self.release_chain_slow(index);
    }

    #[cold]
    fn release_chain_slow(&mut self, index: u32) {
        let mut p = self.slots[index as usize].chain_prev.take();
        while let Some(i) = p {
            p = self.slots[i as usize].chain_prev.take();
            if self.slots[i as usize].op.is_some() {
                self.release(i);
            }
        }
    }

    /// Frees slot `index` (dropping any operation left in it).
    #[inline]
    fn release(&mut self, index: u32) {
        let slot = &mut self.slots[index as usize];
        // Usually already taken by `into_op`: skip the drop glue then.
        if slot.op.is_some() {
            slot.op = None;
        }
        slot.gen = (slot.gen + 1) & GEN_MASK;
        self.free.push(index);
        self.in_flight -= 1;
    }

    /// Reaps one completion for drop-time cleanup.
    fn reap_one(&mut self, cqe: Cqe) {
        if let Kind::Owned(id, true) = self.classify(&cqe) {
            self.release_chain(id.index);
            self.release(id.index);
        }
    }
}

enum Kind {
    Internal,
    Raw,
    Owned(OpId, bool),
}

impl Drop for OwnedRing {
    fn drop(&mut self) {
        if self.in_flight == 0 {
            return;
        }
        // Cancel everything and wait for the final completions, so no slot memory is freed while
        // the kernel may use it.
        let cancelled = self.ring.submitter().sync_cancel(AsyncCancel::any().all(), Some(Duration::from_secs(2)));
        if cancelled.is_ok() || cancelled.as_ref().err().and_then(|e| e.raw_os_error()) == Some(libc::ENOENT) {
            let mut rounds = 0;
            while self.in_flight > 0 && rounds < 200 {
                rounds += 1;
                while let Some(c) = self.ring.cq().pop() {
                    self.reap_one(c);
                }
                if self.in_flight == 0 {
                    break;
                }
                if let Ok(c) = self.ring.wait_cqe_timeout(Duration::from_millis(10)) {
                    self.reap_one(c);
                }
            }
        }
        if self.in_flight > 0 {
            // Could not confirm the kernel is done: leak the in-flight memory.
            let slots = std::mem::take(&mut self.slots);
            std::mem::forget(slots);
        }
    }
}

/// Entries of a chain that were encoded but not yet published are dropped from the SQ.
impl crate::SubmissionQueue {
    pub(crate) fn rewind_unflushed(&mut self, n: u32) {
        self.unpush(n);
    }
}

/// The `user_data` of an owned entry (for tests of the tagging scheme).
#[doc(hidden)]
pub fn user_data_of(id: OpId) -> u64 {
    id.user_data()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_data_round_trip() {
        let id = OpId { index: 7, gen: 0x1234 };
        let ud = id.user_data();
        assert_eq!(ud & OWNED_TAG, OWNED_TAG);
        assert_eq!(OpId::from_user_data(ud), Some(id));
        assert_eq!(OpId::from_user_data(42), None);
        assert_eq!(OpId::from_user_data(INTERNAL), None);
    }
}
