//! What pushing an owned operation checks and writes: [`Rejected`], the flags an operation may
//! carry, the entry checks of [`OwnedRing::push_safe`](super::OwnedRing::push_safe), the one
//! push path (`push_into`) shared by [`OwnedRing`](super::OwnedRing) and [`OwnedBatch`].

use uring_uapi::{io_uring_sqe, IORING_OP_POLL_REMOVE, IORING_POLL_UPDATE_USER_DATA};

use crate::buf::ring::{SEL_BUNDLE, SEL_INC};
use crate::owned::ops::{OnComplete, Operation};
use crate::owned::table::{OpId, Table, OWNED_TAG};
#[cfg(doc)]
use crate::owned::OwnedRing;
use crate::sq::SqBatch;
use crate::sqe::SqeFlags;
use crate::{Error, Result};

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
pub(super) fn rejected<O>(op: O, error: Error) -> Rejected<O> {
    Rejected { op, error }
}

pub(super) const NO_FREE_SLOT: Error = Error::InFlightTableFull;

const INC_BUNDLE: Error = Error::Unsupported { what: "bundles on incremental buffer rings (not yet in this crate)" };

const WRONG_RING: Error =
    Error::InvalidArgument { what: "buffer ring", reason: "the operation's buffer ring is registered on another ring" };

/// The `IOSQE_*` flags an owned operation may be pushed with: the others would change what
/// the kernel does with the entry's memory or its completion (`CQE_SKIP_SUCCESS`: see
/// [`OwnedRing::push_chain`]; `BUFFER_SELECT`, `FIXED_FILE`: the operation sets them itself).
pub(super) const PUSH_FLAGS: SqeFlags =
    SqeFlags::IO_DRAIN.union(SqeFlags::IO_LINK).union(SqeFlags::IO_HARDLINK).union(SqeFlags::ASYNC);

#[cold]
pub(super) fn flags_refused(flags: SqeFlags) -> Error {
    if flags.contains(SqeFlags::CQE_SKIP_SUCCESS) {
        Error::InvalidArgument {
            what: "IOSQE_CQE_SKIP_SUCCESS",
            reason: "an owned operation must complete to hand its memory back; use push_chain",
        }
    } else {
        Error::InvalidArgument {
            what: "IOSQE flags",
            reason: "only IO_DRAIN, IO_LINK, IO_HARDLINK and ASYNC may be added to an owned operation",
        }
    }
}

/// The checks of [`OwnedRing::push_safe`]: no owned `user_data` on the entry, nor one it makes
/// the kernel post, nor a raw one it gives an owned operation.
pub(super) fn check_safe(raw: &io_uring_sqe) -> Result<()> {
    if raw.user_data & OWNED_TAG != 0 {
        return Err(Error::InvalidArgument { what: "user_data", reason: "bit 63 is reserved for owned operations" });
    }
    // SAFETY: plain integers in unions written by the encoders.
    let (len, old_ud, new_ud) = (raw.len, unsafe { raw.addr.addr }, unsafe { raw.off.off });
    if raw.opcode == IORING_OP_POLL_REMOVE && len & IORING_POLL_UPDATE_USER_DATA != 0 {
        if new_ud & OWNED_TAG != 0 {
            return Err(Error::InvalidArgument {
                what: "poll update user_data",
                reason: "bit 63 is reserved for owned operations",
            });
        }
        // Relabelling an owned poll would take its completions from the layer: the operation
        // would never complete (its memory and files leaked, the ring's drop kept waiting).
        if old_ud & OWNED_TAG != 0 {
            return Err(Error::InvalidArgument {
                what: "poll update",
                reason: "the user_data of an owned operation's poll cannot be changed",
            });
        }
    }
    Ok(())
}

/// Places `op` in a free slot and builds its entry in the next slot of `sq`.
#[inline(always)]
pub(super) fn push_into<O: Operation, S: SlotSource>(
    t: &mut Table,
    ring_id: u64,
    op: O,
    flags: SqeFlags,
    sq: &mut S,
) -> core::result::Result<OpId, Rejected<O>> {
    let sel = match op.selects() {
        None => 0,
        Some(s) if s.ring == ring_id && s.sel & (SEL_INC | SEL_BUNDLE) != (SEL_INC | SEL_BUNDLE) => s.sel,
        Some(s) if s.ring == ring_id => return Err(rejected(op, INC_BUNDLE)),
        Some(_) => return Err(rejected(op, WRONG_RING)),
    };
    if !t.has_free_slot() {
        return Err(rejected(op, NO_FREE_SLOT));
    }
    let Some(dst) = sq.reserve_slot() else {
        return Err(rejected(op, Error::SubmissionQueueFull));
    };
    let (index, ud) = t.claim().expect("a free slot was checked");
    // SAFETY: `index` comes from `claim`.
    let slot = unsafe { t.slot_at(index) };
    slot.on_complete = op.on_complete().0 | if sel & SEL_INC != 0 { OnComplete::INC } else { 0 };
    // SAFETY: `slot.op` is a valid, aligned place. A free slot holds `None` (the completion
    // that freed it took or dropped the operation; had it been leaked with `mem::forget`,
    // overwriting leaks that operation, which is safe).
    unsafe { core::ptr::write(&mut slot.op, Some(op.into_owned_op())) };
    slot.sel = sel;
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
            let op = O::take_stored(&mut slot.op).expect("the slot holds the operation just stored");
            t.unclaim(index);
            return Err(rejected(op, error));
        }
    }
    Ok(OpId::of_slot(ud))
}

/// Where `push_into` writes entries: the submission queue or a batch handle. Every entry
/// written points only into an operation in a slot of the table, which keeps it there,
/// unmoved, until its final completion (or leaks it): that is what makes writing it sound.
pub(super) trait SlotSource {
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

/// Pushes owned operations with the submission queue's state held locally; from
/// [`OwnedRing::batch`].
/// (`io_uring_get_sqe(3)` per operation.)
#[derive(Debug)]
pub struct OwnedBatch<'a> {
    pub(super) ring_id: u64,
    pub(super) sq: SqBatch<'a>,
    // The table is updated on every push, not when the handle is dropped: a handle leaked with
    // `mem::forget` must not leave a free list naming slots in use.
    pub(super) t: &'a mut Table,
}

impl OwnedBatch<'_> {
    /// As [`OwnedRing::push`].
    /// (`io_uring_get_sqe(3)`.)
    #[inline]
    pub fn push<O: Operation>(&mut self, op: O) -> core::result::Result<OpId, Rejected<O>> {
        push_into(self.t, self.ring_id, op, SqeFlags::empty(), &mut self.sq)
    }

    /// As [`OwnedRing::push_with`].
    /// (`io_uring_get_sqe(3)`.)
    #[inline]
    pub fn push_with<O: Operation>(&mut self, op: O, flags: SqeFlags) -> core::result::Result<OpId, Rejected<O>> {
        if !PUSH_FLAGS.contains(flags) {
            return Err(rejected(op, flags_refused(flags)));
        }
        push_into(self.t, self.ring_id, op, flags, &mut self.sq)
    }
}
