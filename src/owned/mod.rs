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
//! The table has one slot per CQ entry, allocated once, with a free list through the slots:
//! pushing and completing allocate nothing. Owned operations use `user_data` values with bit 63
//! set ([`OWNED_TAG`]), a generation (bits 32-62, bumped each time the slot is freed, so a
//! stale [`OpId`] or completion never matches a later operation) and the slot index.
//!
//! Raw-layer entries may share the ring, with `user_data` values below 2^63: push them with
//! [`OwnedRing::push_safe`] (entries that point at no memory), or through
//! [`OwnedRing::ring_mut`], which is `unsafe` because a raw entry carrying an owned operation's
//! `user_data` would hand that operation's memory back early. Their completions come back as
//! [`Completion`]s without an id. [`OwnedRing::ring`] gives shared access (settings, probes,
//! register calls) and [`OwnedRing::buf_ring`] registers buffer rings.
//!
//! The layer trusts that completions carrying bit 63 come from its own entries. Another ring
//! posting into this one (`IORING_OP_MSG_RING` or `IORING_REGISTER_SEND_MSG_RING` naming this
//! ring's file descriptor) with such `user_data` breaks that, like writing into the process's
//! memory through `/proc/self/mem`: Rust's I/O-safety rules make the ring's file descriptor
//! this value's own, and code that does not own it must not use it.
//!
//! ## Fast paths
//! [`OwnedRing::push`] and [`OwnedRing::next`] work one operation at a time. For many at once,
//! [`OwnedRing::batch`] pushes with the submission queue's state held locally and
//! [`OwnedRing::for_each_completion`] hands every ready completion to a closure with the
//! completion queue's and the table's state in registers ([`OwnedRing::completions`] is the
//! same as a lending iterator). Measured beside the raw layer's `SubmissionQueue::batch` and
//! `CompletionQueue::iter` in `benches/owned.rs`: see `benches/README.md`.
//!
//! ## Multishot, zero-copy sends, chains, skip-on-success
//! An operation stays in its slot until a completion without `IORING_CQE_F_MORE`: multishot
//! receives yield each completion (with [`Completion::cqe`] naming the provided buffer) and the
//! operation on the last; a zero-copy send's memory comes back with its notification. In a chain
//! pushed with [`OwnedRing::push_chain`], the links before the last may carry
//! `IOSQE_CQE_SKIP_SUCCESS`; then the kernel posts a single completion for the chain (the last
//! link's, or the failing link's, after which it cancels the rest without completions), and the
//! layer hands every other link back right after it, as a completion of its own (result 0 for
//! the links that ran, `ECANCELED` for the ones cancelled). A single operation with
//! `IOSQE_CQE_SKIP_SUCCESS` outside a chain is refused (its memory could never be handed back
//! safely).
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
//! crate-owned [`BufRing`]), RECVMSG ([`RecvMsg`], [`RecvMsgMultishot`]),
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

use crate::buf::{BufRing, BufRingBuilder};
use crate::cq::Drain;
use crate::cqe::Cqe;
use crate::op::AsyncCancel;
use crate::sq::SqBatch;
use crate::sqe::{SafeSqe, SqeFlags};
use crate::{Error, Result, Ring};
use uring_uapi::io_uring_sqe;

pub mod ops;
mod pool;

pub use ops::*;
pub use pool::BufPool;

/// Bit 63 of `user_data`: set on every entry the owned layer submits.
pub const OWNED_TAG: u64 = 1 << 63;
/// `user_data` of the owned layer's own internal entries (cancel requests); never surfaced.
const INTERNAL: u64 = OWNED_TAG | ((GEN_MASK as u64) << 32) | u32::MAX as u64;
const GEN_MASK: u32 = 0x7fff_ffff;
/// The `user_data` of a slot's next operation: the generation (bits 32-62) bumped, wrapping.
#[inline]
fn next_gen(ud: u64) -> u64 {
    // A carry out of the generation lands in bit 63 (already set) and falls off; the tag is
    // set again.
    ud.wrapping_add(1 << 32) | OWNED_TAG
}

/// `Slot::next` of an operation in flight that is a link of a chain skipping its success
/// completions (the field is unused while a slot is in flight; a list link is never this).
const CHAINED: u32 = u32::MAX - 1;

/// End of a slot list (the free list, the pending list).
const NIL: u32 = u32::MAX;

/// Identifies an operation in flight (a slot and a generation, so a stale id never matches a
/// later operation in the same slot). It is the operation's `user_data`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OpId(u64);

impl OpId {
    #[inline]
    fn new(index: u32, gen: u32) -> OpId {
        OpId(OWNED_TAG | (((gen & GEN_MASK) as u64) << 32) | index as u64)
    }

    #[inline]
    fn user_data(self) -> u64 {
        self.0
    }

    #[inline]
    fn index(self) -> u32 {
        self.0 as u32
    }

    fn from_user_data(ud: u64) -> Option<OpId> {
        if ud & OWNED_TAG == 0 || ud == INTERNAL {
            return None;
        }
        Some(OpId(ud))
    }
}

/// One entry of the in-flight table. Aligned to two cache lines: a slot never straddles a
/// third, and finding one is a shift.
#[derive(Debug)]
#[repr(align(128))]
struct Slot {
    /// The operation in flight (`None` while the slot is free).
    op: Option<OwnedOp>,
    /// The `user_data` of the slot's current (or next) operation: [`OWNED_TAG`], a generation
    /// bumped each time the slot is freed (so stale ids and `user_data` never match) and the
    /// slot's index.
    ud: u64,
    /// While free: the next free slot. While on the pending list (a chain link that skipped
    /// its success completion and is finished): the next pending slot. While in flight:
    /// [`CHAINED`] for a link of a chain that skips success completions, else unused.
    next: u32,
    /// In a chain pushed with `skip_success`: the `user_data` of the link before this one (0:
    /// none). Free slots always hold 0.
    prev: u64,
    /// In such a chain: the `user_data` of the link after this one (0: none; free slots: 0).
    next_link: u64,
    /// The result handed back for a chain link on the pending list.
    res: i32,
}

// One slot is two cache lines: the operation (at most 96 bytes) and the bookkeeping.
const _: () = assert!(core::mem::size_of::<Slot>() == 128);

/// A completion from an [`OwnedRing`]: the result, and (on the final completion of an owned
/// operation) the operation with all its memory, taken with [`into_op`](Completion::into_op).
///
/// It borrows the ring: the operation is moved out of its slot only when taken, and dropped
/// with the completion if it is not taken. (The slot is already free for the next push, which
/// the borrow holds off until then.)
#[derive(Debug)]
pub struct Completion<'a> {
    /// The slot's operation, on the final completion of an owned operation.
    op: Option<&'a mut Option<OwnedOp>>,
    cqe: Cqe,
    /// Whether this is an owned operation's completion.
    owned: bool,
}

impl Completion<'_> {
    /// The operation this completes (`None` for a raw-layer entry).
    #[inline]
    pub fn id(&self) -> Option<OpId> {
        if !self.owned {
            return None;
        }
        OpId::from_user_data(self.cqe.user_data())
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
        self.owned && self.op.is_none()
    }

    /// The operation, on its final completion.
    pub fn op(&self) -> Option<&OwnedOp> {
        self.op.as_deref()?.as_ref()
    }

    /// Takes the operation back as its type `O` (on the final completion), or returns the
    /// completion unchanged (not final, a raw entry, or another type).
    #[inline]
    pub fn into_op<O: Operation>(mut self) -> core::result::Result<O, Self> {
        if let Some(op) = self.op.take() {
            if let Some(o) = O::take_stored(op) {
                // The slot is empty now and `self.op` is `None`: dropping `self` does nothing.
                return Ok(o);
            }
            self.op = Some(op);
        }
        Err(self)
    }
}

impl Drop for Completion<'_> {
    #[inline]
    fn drop(&mut self) {
        if let Some(op) = self.op.as_deref_mut() {
            if op.is_some() {
                *op = None;
            }
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

impl<O> core::fmt::Display for Rejected<O> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "operation refused: {}", self.error)
    }
}

impl<O: core::fmt::Debug> std::error::Error for Rejected<O> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// `?` on a refused push: the error, with the operation (never submitted) dropped.
impl<O> From<Rejected<O>> for Error {
    fn from(r: Rejected<O>) -> Error {
        r.error
    }
}

#[cold]
fn rejected<O>(op: O, error: Error) -> Rejected<O> {
    Rejected { op, error }
}

const SKIP_REFUSED: Error = Error::InvalidArgument {
    what: "IOSQE_CQE_SKIP_SUCCESS",
    reason: "an owned operation must complete to hand its memory back; use push_chain",
};

const NO_FREE_SLOT: Error = Error::InvalidArgument { what: "owned ring", reason: "every in-flight slot is in use" };

/// A ring whose operations own their memory (see the [module docs](self)).
#[derive(Debug)]
pub struct OwnedRing {
    ring: Ring,
    t: Table,
}

impl OwnedRing {
    /// A ring with room for `entries` submissions and up to twice as many operations in flight.
    pub fn new(entries: u32) -> Result<OwnedRing> {
        Ok(Self::with_ring(Ring::new(entries)?))
    }

    /// Wraps a ring; the in-flight table gets one slot per CQ entry.
    pub fn with_ring(ring: Ring) -> OwnedRing {
        let n = ring.params().cq_entries;
        let slots = (0..n)
            .map(|i| Slot {
                op: None,
                ud: OpId::new(i, 0).user_data(),
                next: if i + 1 < n { i + 1 } else { NIL },
                prev: 0,
                next_link: 0,
                res: 0,
            })
            .collect();
        OwnedRing { ring, t: Table { slots, free_head: if n > 0 { 0 } else { NIL }, pending: NIL, in_flight: 0 } }
    }

    /// The raw ring, for its settings, [`Probe::of`](crate::probe::Probe::of) and register
    /// calls ([`Ring::submitter`]).
    pub fn ring(&self) -> &Ring {
        &self.ring
    }

    /// The raw ring, to push raw-layer entries or reap completions directly.
    ///
    /// # Safety
    /// Entries pushed through it must not set bit 63 of `user_data` ([`OWNED_TAG`]): a
    /// completion carrying an owned operation's `user_data` would hand that operation's memory
    /// back while the kernel may still use it. ([`push_safe`](Self::push_safe) checks this for
    /// safe entries.) Completions of owned operations reaped through it are lost to this
    /// layer: their memory stays in the table until the ring is dropped.
    pub unsafe fn ring_mut(&mut self) -> &mut Ring {
        &mut self.ring
    }

    /// Registers a buffer ring on this ring (for [`RecvSelect`], [`RecvMultishot`],
    /// [`RecvMsgMultishot`], [`SendBundle`]).
    pub fn buf_ring(&mut self, builder: BufRingBuilder) -> Result<BufRing> {
        builder.build(&mut self.ring)
    }

    /// Operations in flight.
    pub fn in_flight(&self) -> usize {
        self.t.in_flight as usize
    }

    /// Whether a slot of the in-flight table is free.
    pub(crate) fn has_free_slot(&self) -> bool {
        self.t.free_head != NIL
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
            return Err(rejected(op, SKIP_REFUSED));
        }
        let t = &mut self.t;
        push_into(&mut t.slots, &mut t.free_head, &mut t.in_flight, op, flags, self.ring.sq())
    }

    /// Hands every completion ready now to `f`, in order, and returns how many it handed out:
    /// the fastest way to reap (the completion queue's and the table's state stay in registers,
    /// and the CQ slots are released in one store at the end).
    #[inline]
    pub fn for_each_completion(&mut self, mut f: impl FnMut(Completion<'_>)) -> u32 {
        let mut drain = self.ring.cq().iter();
        // Two copies of the loop, so the common one has no per-entry check for mixed CQE sizes.
        if drain.is_mixed() {
            reap(&mut self.t, &mut drain, &mut f, |d| d.next())
        } else {
            reap(&mut self.t, &mut drain, &mut f, |d| d.next_unmixed())
        }
    }

    /// A handle that pushes several operations with the submission queue's state held locally
    /// (as [`SubmissionQueue::batch`](crate::SubmissionQueue::batch) does for raw entries): the
    /// fastest way to push many. The entries are submitted with the next submit call.
    #[inline]
    pub fn batch(&mut self) -> OwnedBatch<'_> {
        let Table { slots, free_head, in_flight, .. } = &mut self.t;
        OwnedBatch { sq: self.ring.sq().batch(), slots, free_head, in_flight }
    }

    /// The completions ready now, handed out one by one with the completion queue's state held
    /// locally (as [`CompletionQueue::iter`](crate::CompletionQueue::iter) does for raw
    /// entries); the CQ slots are released in one store when the handle is dropped.
    #[inline]
    pub fn completions(&mut self) -> Completions<'_> {
        let free_head = self.t.free_head;
        Completions { drain: self.ring.cq().iter(), t: &mut self.t, free_head, freed: 0 }
    }

    /// Pushes a chain: every operation but the last is linked to the next (`IOSQE_IO_LINK`).
    ///
    /// With `skip_success`, the links before the last carry `IOSQE_CQE_SKIP_SUCCESS`: the
    /// kernel posts one completion for the whole chain, the last link's, or on failure the
    /// failing link's (the links after it are cancelled without completions, see
    /// `io_uring_enter(2)`). Every link still comes back as a [`Completion`] of its own: the
    /// links before the one that posted, with result 0 (they succeeded), and the links after a
    /// failed one with `ECANCELED`, in chain order, right after the posted completion. A
    /// [`LinkTimeout`] cannot be part of such a chain (its own completion does not end the
    /// chain, so the links after it could not be accounted for).
    ///
    /// All or nothing: on failure every operation comes back, in order.
    pub fn push_chain(
        &mut self,
        ops: Vec<OwnedOp>,
        skip_success: bool,
    ) -> core::result::Result<Vec<OpId>, Rejected<Vec<OwnedOp>>> {
        let n = ops.len();
        if skip_success && ops.iter().any(|o| matches!(o, OwnedOp::LinkTimeout(_))) {
            return Err(Rejected {
                op: ops,
                error: Error::InvalidArgument {
                    what: "chain",
                    reason: "a linked timeout cannot be part of a chain that skips success completions",
                },
            });
        }
        let free = self.t.slots.len() - self.t.in_flight as usize;
        if n == 0 || n > free || n as u32 > self.ring.sq().space_left() {
            return Err(Rejected {
                op: ops,
                error: Error::InvalidArgument {
                    what: "chain",
                    reason: "empty, or more links than free slots or free submission entries",
                },
            });
        }
        let mut ids = Vec::with_capacity(n);
        let mut prev_skipped = 0u64;
        let mut ops = ops.into_iter();
        let mut k = 0;
        while let Some(op) = ops.next() {
            k += 1;
            let last = k == n;
            let mut flags = if last { SqeFlags::empty() } else { SqeFlags::IO_LINK };
            if skip_success && !last {
                flags |= SqeFlags::CQE_SKIP_SUCCESS;
            }
            let index = self.t.free_head;
            let slot = &mut self.t.slots[index as usize];
            let id = OpId(slot.ud);
            let stored = slot.op.insert(op);
            let sqe = match stored.sqe() {
                Ok(s) => s.user_data(id.user_data()).flags(flags),
                Err(error) => {
                    // Nothing of this chain was published yet: pull the earlier links back.
                    let this = slot.op.take().expect("just stored");
                    let mut back = Vec::with_capacity(n);
                    for pid in &ids {
                        back.push(self.release_unsubmitted(*pid));
                    }
                    back.push(this);
                    back.extend(ops);
                    self.ring.sq().rewind_unflushed(ids.len() as u32);
                    return Err(Rejected { op: back, error });
                }
            };
            let next_free = slot.next;
            if skip_success {
                // Each link knows its neighbours, to account for the links that post nothing.
                slot.next = CHAINED;
                slot.prev = prev_skipped;
                if prev_skipped != 0 {
                    self.t.slots[prev_skipped as u32 as usize].next_link = id.user_data();
                }
                prev_skipped = id.user_data();
            }
            // SAFETY: as in `push_with`.
            unsafe { self.ring.sq().push_raw(&sqe) }.expect("space was checked");
            self.t.free_head = next_free;
            self.t.in_flight += 1;
            ids.push(id);
        }
        Ok(ids)
    }

    fn release_unsubmitted(&mut self, id: OpId) -> OwnedOp {
        let slot = &mut self.t.slots[id.index() as usize];
        let op = slot.op.take().expect("in flight");
        slot.prev = 0;
        slot.next_link = 0;
        self.t.free(id.index());
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
        let slot = self.t.slots.get(id.index() as usize).filter(|s| s.ud == id.user_data() && s.op.is_some());
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
        if self.t.pending != NIL {
            return Some(self.t.next_pending());
        }
        loop {
            let Some(cqe) = self.ring.cq().next_unreleased() else {
                // Release the slots consumed so far in one store.
                self.ring.cq().sync();
                return None;
            };
            match self.t.classify(&cqe) {
                Kind::Internal => continue,
                Kind::Raw => return Some(Completion { op: None, cqe, owned: false }),
                Kind::More => return Some(Completion { op: None, cqe, owned: true }),
                Kind::Last(index) => return Some(self.t.last(index, cqe)),
            }
        }
    }

    /// Waits for the next completion (submitting what is pending).
    pub fn wait(&mut self) -> io::Result<Completion<'_>> {
        loop {
            // Internal entries (cancel requests) are never surfaced.
            while matches!(self.ring.cq().peek(), Some(c) if c.user_data() == INTERNAL) {
                self.ring.cq().pop();
            }
            if self.t.pending != NIL || !self.ring.cq().is_empty() {
                break;
            }
            self.ring.submit_and_wait(1)?;
        }
        Ok(self.next().expect("a completion is ready"))
    }
}

/// What a completion is to the owned layer.
enum Kind {
    /// The layer's own entry (a cancel request): never surfaced.
    Internal,
    /// A raw-layer entry (`user_data` below 2^63).
    Raw,
    /// An owned operation that will complete again (`IORING_CQE_F_MORE`).
    More,
    /// The final completion of the owned operation in this slot.
    Last(u32),
}

/// Pushes owned operations with the submission queue's state held locally; from
/// [`OwnedRing::batch`].
#[derive(Debug)]
pub struct OwnedBatch<'a> {
    sq: SqBatch<'a>,
    // The table is updated on every push, not when the handle is dropped: a handle leaked with
    // `mem::forget` must not leave a free list naming slots in use.
    slots: &'a mut [Slot],
    free_head: &'a mut u32,
    in_flight: &'a mut u32,
}

impl OwnedBatch<'_> {
    /// As [`OwnedRing::push`].
    #[inline]
    pub fn push<O: Operation>(&mut self, op: O) -> core::result::Result<OpId, Rejected<O>> {
        self.push_with(op, SqeFlags::empty())
    }

    /// As [`OwnedRing::push_with`].
    #[inline]
    pub fn push_with<O: Operation>(&mut self, op: O, flags: SqeFlags) -> core::result::Result<OpId, Rejected<O>> {
        if flags.contains(SqeFlags::CQE_SKIP_SUCCESS) {
            return Err(rejected(op, SKIP_REFUSED));
        }
        push_into(self.slots, self.free_head, self.in_flight, op, flags, &mut self.sq)
    }
}

/// The completions that were ready when it was created; from [`OwnedRing::completions`].
/// A lending iterator: each [`Completion`] borrows it. The slots it frees go back to the
/// table when it is dropped (it keeps the free list locally meanwhile; a handle leaked with
/// `mem::forget` leaks those slots, never hands out one in use).
#[derive(Debug)]
pub struct Completions<'a> {
    drain: Drain<'a>,
    t: &'a mut Table,
    /// The table's free list head, held here while the handle lives.
    free_head: u32,
    /// Slots freed through this handle, not yet subtracted from the table's in-flight count.
    freed: u32,
}

impl Completions<'_> {
    /// The next completion (internal entries are skipped; finished links of a chain that
    /// skipped their completions come right after the chain's posted completion).
    // Not `Iterator::next`: each completion borrows the handle.
    #[allow(clippy::should_implement_trait)]
    #[inline]
    pub fn next(&mut self) -> Option<Completion<'_>> {
        if self.t.pending != NIL {
            self.sync();
            let (index, cqe) = self.t.pop_pending();
            self.free_head = self.t.free_head;
            return Some(Completion { op: Some(&mut self.t.slots[index as usize].op), cqe, owned: true });
        }
        loop {
            let cqe = self.drain.next()?;
            match self.t.classify(&cqe) {
                Kind::Internal => continue,
                Kind::Raw => return Some(Completion { op: None, cqe, owned: false }),
                Kind::More => return Some(Completion { op: None, cqe, owned: true }),
                Kind::Last(index) => {
                    let slot = &mut self.t.slots[index as usize];
                    slot.ud = next_gen(slot.ud);
                    slot.next = self.free_head;
                    self.free_head = index;
                    self.freed += 1;
                    return Some(Completion { op: Some(&mut slot.op), cqe, owned: true });
                }
            }
        }
    }

    /// Hands the locally held free list back to the table.
    #[inline]
    fn sync(&mut self) {
        self.t.free_head = self.free_head;
        self.t.in_flight -= self.freed;
        self.freed = 0;
    }
}

impl Drop for Completions<'_> {
    #[inline]
    fn drop(&mut self) {
        self.sync();
    }
}

/// The loop of [`OwnedRing::for_each_completion`], over the entries `next` reads from `drain`.
#[inline(always)]
fn reap(
    t: &mut Table,
    drain: &mut Drain<'_>,
    f: &mut impl FnMut(Completion<'_>),
    next: impl Fn(&mut Drain<'_>) -> Option<Cqe>,
) -> u32 {
    let mut free_head = t.free_head;
    let mut freed = 0;
    let mut n = 0;
    let mut slots: &mut [Slot] = &mut t.slots;
    while let Some(cqe) = next(drain) {
        let ud = cqe.user_data();
        n += 1;
        if ud & OWNED_TAG == 0 {
            f(Completion { op: None, cqe, owned: false });
            continue;
        }
        let index = ud as u32;
        let Some(slot) = slots.get_mut(index as usize).filter(|s| s.ud == ud) else {
            if ud == INTERNAL {
                n -= 1;
            } else {
                // Not ours (a stale tag): surface it raw rather than guess.
                f(Completion { op: None, cqe, owned: false });
            }
            continue;
        };
        if cqe.more() {
            f(Completion { op: None, cqe, owned: true });
            continue;
        }
        if slot.next == CHAINED {
            // A chain's end: hand back its links that posted nothing right after it.
            t.free_head = free_head;
            t.in_flight -= freed;
            freed = 0;
            t.finish_chain(index);
            t.free(index);
            f(Completion { op: Some(&mut t.slots[index as usize].op), cqe, owned: true });
            while t.pending != NIL {
                let (i, c) = t.pop_pending();
                f(Completion { op: Some(&mut t.slots[i as usize].op), cqe: c, owned: true });
                n += 1;
            }
            free_head = t.free_head;
            slots = &mut t.slots;
            continue;
        }
        slot.ud = next_gen(ud);
        slot.next = free_head;
        free_head = index;
        freed += 1;
        f(Completion { op: Some(&mut slot.op), cqe, owned: true });
    }
    t.free_head = free_head;
    t.in_flight -= freed;
    n
}

/// Places `op` in a free slot and builds its entry in the next slot of `sq`.
#[inline(always)]
fn push_into<O: Operation, S: SlotSource>(
    slots: &mut [Slot],
    free_head: &mut u32,
    in_flight: &mut u32,
    op: O,
    flags: SqeFlags,
    sq: &mut S,
) -> core::result::Result<OpId, Rejected<O>> {
    let index = *free_head;
    // `NIL` is out of range: one check covers "no free slot".
    let Some(slot) = slots.get_mut(index as usize) else {
        return Err(rejected(op, NO_FREE_SLOT));
    };
    let Some(dst) = sq.reserve_slot() else {
        return Err(rejected(op, Error::SubmissionQueueFull));
    };
    let ud = slot.ud;
    debug_assert!(slot.prev == 0 && slot.next_link == 0);
    // SAFETY: `slot.op` is a valid, aligned place. A free slot holds `None` (the completion
    // that freed it took or dropped the operation; had it been leaked with
    // `mem::forget`, overwriting leaks that operation, which is safe).
    unsafe { core::ptr::write(&mut slot.op, Some(op.into_op())) };
    // The entry points into the slot, whose address is stable until the slot is freed.
    match O::encode_stored(&mut slot.op) {
        // SAFETY: `dst` is a reserved SQ slot, which the kernel reads only once the tail is
        // published.
        Ok(sqe) => unsafe {
            dst.write(sqe.0);
            (*dst).user_data = ud;
            (*dst).flags |= flags.bits();
        },
        Err(error) => {
            sq.unreserve_last();
            return Err(rejected(take_back(&mut slot.op), error));
        }
    }
    *free_head = slot.next;
    *in_flight += 1;
    Ok(OpId(ud))
}

/// Where `push_into` writes entries: the submission queue or a batch handle. Every entry
/// written points only into an operation in a slot of the table, which keeps it there,
/// unmoved, until its final completion (or leaks it): that is what makes writing it sound.
trait SlotSource {
    fn reserve_slot(&mut self) -> Option<*mut io_uring_sqe>;
    fn unreserve_last(&mut self);
}

impl SlotSource for crate::SubmissionQueue {
    #[inline(always)]
    fn reserve_slot(&mut self) -> Option<*mut io_uring_sqe> {
        crate::SubmissionQueue::reserve_slot(self)
    }
    #[inline(always)]
    fn unreserve_last(&mut self) {
        crate::SubmissionQueue::unreserve_last(self)
    }
}

impl SlotSource for SqBatch<'_> {
    #[inline(always)]
    fn reserve_slot(&mut self) -> Option<*mut io_uring_sqe> {
        SqBatch::reserve_slot(self)
    }
    #[inline(always)]
    fn unreserve_last(&mut self) {
        SqBatch::unreserve_last(self)
    }
}

/// The in-flight table: one slot per CQ entry, a free list and the pending list.
#[derive(Debug)]
struct Table {
    slots: Box<[Slot]>,
    /// First free slot (`NIL`: none).
    free_head: u32,
    /// First finished chain link waiting to be handed back (`NIL`: none).
    pending: u32,
    in_flight: u32,
}

impl Table {
    /// The final completion of the operation in slot `index`. The slot is free for the next
    /// push once the completion is gone (it borrows the table until then).
    #[inline]
    fn last(&mut self, index: u32, cqe: Cqe) -> Completion<'_> {
        self.free(index);
        Completion { op: Some(&mut self.slots[index as usize].op), cqe, owned: true }
    }

    /// A chain link that posted no completion of its own, handed back with its result.
    #[inline]
    fn next_pending(&mut self) -> Completion<'_> {
        let (index, cqe) = self.pop_pending();
        Completion { op: Some(&mut self.slots[index as usize].op), cqe, owned: true }
    }

    /// Takes the first pending chain link off the list, frees its slot and returns it with its
    /// synthesized completion.
    #[cold]
    fn pop_pending(&mut self) -> (u32, Cqe) {
        let index = self.pending;
        let slot = &mut self.slots[index as usize];
        self.pending = slot.next;
        let cqe = Cqe::new(core::mem::take(&mut slot.prev), slot.res, 0);
        self.free(index);
        (index, cqe)
    }

    /// What `cqe` is to this layer. For the final completion of an owned operation that ended
    /// a chain, queues the chain's links that posted nothing.
    #[inline]
    fn classify(&mut self, cqe: &Cqe) -> Kind {
        let ud = cqe.user_data();
        if ud & OWNED_TAG == 0 {
            return Kind::Raw;
        }
        let index = ud as u32;
        // A slot's `user_data` matches only while its operation is in flight: it moves on when
        // the slot is freed or its link is queued as pending.
        match self.slots.get(index as usize) {
            Some(slot) if slot.ud == ud => {
                if cqe.more() {
                    return Kind::More;
                }
                if slot.next == CHAINED {
                    self.finish_chain(index);
                }
                Kind::Last(index)
            }
            // The layer's own cancel requests (index u32::MAX, never a slot).
            _ if ud == INTERNAL => Kind::Internal,
            // Not ours (a stale tag): surface it raw rather than guess.
            _ => Kind::Raw,
        }
    }

    /// The final completion of `index`, a link of a chain that skips success completions:
    /// the links before it finished successfully, and (if it is not the last link, so it
    /// failed) the links after it were cancelled without completions. Queue them all to be
    /// handed back, in chain order.
    #[cold]
    fn finish_chain(&mut self, index: u32) {
        // The last link still in flight after `index`.
        let mut last = index;
        loop {
            let n = self.slots[last as usize].next_link;
            if n == 0 || !self.live(n) {
                break;
            }
            last = n as u32;
        }
        // From that one back to the link after `index`, onto the pending stack (so the stack
        // yields them in chain order).
        let mut j = last;
        while j != index {
            let slot = &mut self.slots[j as usize];
            let p = core::mem::take(&mut slot.prev);
            slot.next_link = 0;
            self.push_pending(j, -libc::ECANCELED);
            if p == 0 {
                break;
            }
            j = p as u32;
        }
        // The links before `index`. A link that failed earlier posted its own completion and
        // was handed back (its slot maybe reused): the generation no longer matches, and the
        // walk stops there.
        let slot = &mut self.slots[index as usize];
        slot.next_link = 0;
        let mut p = core::mem::take(&mut slot.prev);
        while p != 0 && self.live(p) {
            let i = p as u32;
            let slot = &mut self.slots[i as usize];
            p = core::mem::take(&mut slot.prev);
            slot.next_link = 0;
            self.push_pending(i, 0);
        }
    }

    /// Whether `ud` names an operation in flight.
    fn live(&self, ud: u64) -> bool {
        let index = ud as u32;
        self.slots.get(index as usize).is_some_and(|s| s.ud == ud)
    }

    fn push_pending(&mut self, index: u32, res: i32) {
        let slot = &mut self.slots[index as usize];
        slot.res = res;
        // The operation's `user_data` moves to `prev` (free while pending) and the slot's moves
        // on: a completion the kernel should never post for this link could not match it.
        slot.prev = slot.ud;
        slot.ud = next_gen(slot.ud);
        slot.next = self.pending;
        self.pending = index;
    }

    /// Puts slot `index` back on the free list (its operation, if still there, is taken or
    /// dropped by the completion that borrows the ring, or overwritten by the next push).
    #[inline]
    fn free(&mut self, index: u32) {
        let slot = &mut self.slots[index as usize];
        debug_assert!(slot.prev == 0 && slot.next_link == 0);
        slot.ud = next_gen(slot.ud);
        slot.next = self.free_head;
        self.free_head = index;
        self.in_flight -= 1;
    }

    /// Drops the operation in slot `index` and frees the slot.
    #[inline]
    fn drop_op(&mut self, index: u32) {
        self.slots[index as usize].op = None;
        self.free(index);
    }

    /// Reaps one completion for drop-time cleanup.
    fn reap_one(&mut self, cqe: Cqe) {
        if let Kind::Last(index) = self.classify(&cqe) {
            self.drop_op(index);
        }
        self.drop_pending();
    }

    /// Drops the finished chain links waiting to be handed back.
    fn drop_pending(&mut self) {
        while self.pending != NIL {
            let i = self.pending;
            let slot = &mut self.slots[i as usize];
            self.pending = slot.next;
            slot.prev = 0;
            self.drop_op(i);
        }
    }
}

/// Takes back an operation just stored in a slot (its entry was never published).
#[cold]
fn take_back<O: Operation>(op: &mut Option<OwnedOp>) -> O {
    O::take_stored(op).expect("the slot holds the operation just stored")
}

impl Drop for OwnedRing {
    fn drop(&mut self) {
        self.t.drop_pending();
        if self.t.in_flight == 0 {
            return;
        }
        // Cancel everything and wait for the final completions, so no slot memory is freed while
        // the kernel may use it.
        let cancelled = self.ring.submitter().sync_cancel(AsyncCancel::any().all(), Some(Duration::from_secs(2)));
        if cancelled.is_ok() || cancelled.as_ref().err().and_then(|e| e.raw_os_error()) == Some(libc::ENOENT) {
            let mut rounds = 0;
            while self.t.in_flight > 0 && rounds < 200 {
                rounds += 1;
                while let Some(c) = self.ring.cq().pop() {
                    self.t.reap_one(c);
                }
                if self.t.in_flight == 0 {
                    break;
                }
                if let Ok(c) = self.ring.wait_cqe_timeout(Duration::from_millis(10)) {
                    self.t.reap_one(c);
                }
            }
        }
        if self.t.in_flight > 0 {
            // Could not confirm the kernel is done: leak the in-flight memory.
            let slots = std::mem::take(&mut self.t.slots);
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
        let id = OpId::new(7, 0x1234);
        let ud = id.user_data();
        assert_eq!((id.index(), (ud >> 32) as u32 & GEN_MASK), (7, 0x1234));
        assert_eq!(ud & OWNED_TAG, OWNED_TAG);
        assert_eq!(OpId::from_user_data(ud), Some(id));
        assert_eq!(OpId::from_user_data(42), None);
        assert_eq!(OpId::from_user_data(INTERNAL), None);
    }
}
