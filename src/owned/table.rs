//! The in-flight table: one slot per operation the kernel may still use, a free list, and the
//! one step that decides what a completion means ([`Table::step`]).
//!
//! Every path that reads completions for the owned layer (`OwnedRing::next`, its waits,
//! `OwnedRing::completions`, `OwnedRing::for_each_completion`, the drop-time reaping) calls
//! [`Table::step`] for each completion it reads and does nothing else with the table: the slot
//! is freed there, once, and the operation is handed back by the caller right after. The one
//! exception is the common case of `for_each_completion`'s loop, which keeps the table's hot
//! fields in locals: it runs `step`'s own two parts for it ([`plain_final`], [`release`]).
//!
//! Slots are found by masking the `user_data`'s low bits with the table's size (a power of
//! two), without a bounds check; a slot's `user_data` always holds its own index, so one
//! compare of the whole word checks the tag, the index and the generation.

use std::os::fd::{FromRawFd, OwnedFd};

use crate::cqe::Cqe;
use crate::owned::ops::{OnComplete, OwnedOp};

/// Bit 63 of `user_data`: set on every entry the owned layer submits, and refused on every
/// raw-layer entry pushed through an [`OwnedRing`](super::OwnedRing).
pub(crate) const OWNED_TAG: u64 = 1 << 63;
const GEN_MASK: u32 = 0x7fff_ffff;
/// `user_data` of the owned layer's own internal entries (cancel requests); never surfaced.
pub(crate) const INTERNAL: u64 = OWNED_TAG | ((GEN_MASK as u64) << 32) | u32::MAX as u64;

/// The `user_data` of a slot's next operation: the generation (bits 32-62) bumped, wrapping.
#[inline(always)]
fn next_gen(ud: u64) -> u64 {
    // A carry out of the generation lands in bit 63 (already set) and falls off; the tag is
    // set again.
    ud.wrapping_add(1 << 32) | OWNED_TAG
}

/// `Slot::next` of an operation in flight that is a link of a chain skipping its success
/// completions (the field is unused while a slot is in flight; a list link is never this).
const CHAINED: u32 = u32::MAX - 1;

/// End of a slot list (the free list, the pending list).
pub(crate) const NIL: u32 = u32::MAX;

/// Identifies an operation in flight (a slot and a generation, so a stale id never matches a
/// later operation in the same slot). It is the operation's `user_data`.
/// (`sqe.user_data`.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OpId(u64);

impl OpId {
    #[cfg(test)]
    fn new(index: u32, gen: u32) -> OpId {
        OpId(OWNED_TAG | (((gen & GEN_MASK) as u64) << 32) | index as u64)
    }

    /// The `user_data` of the operation's entry.
    #[inline]
    pub(crate) fn user_data(self) -> u64 {
        self.0
    }

    /// The slot.
    #[inline]
    pub(crate) fn index(self) -> u32 {
        self.0 as u32
    }

    /// The id of the operation in the slot whose `user_data` is `ud`.
    #[inline]
    pub(crate) fn of_slot(ud: u64) -> OpId {
        debug_assert!(ud & OWNED_TAG != 0 && ud != INTERNAL);
        OpId(ud)
    }

    /// The id an owned completion carries, or `None` for raw and internal `user_data`.
    #[inline]
    pub(crate) fn from_user_data(ud: u64) -> Option<OpId> {
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
pub(crate) struct Slot {
    /// The operation in flight (`None` while the slot is free).
    pub(crate) op: Option<OwnedOp>,
    /// The `user_data` of the slot's current (or next) operation: [`OWNED_TAG`], a generation
    /// bumped each time the slot is freed (so stale ids and `user_data` never match) and the
    /// slot's index.
    pub(crate) ud: u64,
    /// For an operation that selects provided buffers: which buffer ring, as
    /// [`Completion::select`](super::Completion::select) checks it (0: none).
    pub(crate) sel: u64,
    /// While free: the next free slot. While on the pending list (a chain link that skipped
    /// its success completion and is finished): the next pending slot. While in flight:
    /// [`CHAINED`] for a link of a chain that skips success completions, else unused.
    pub(crate) next: u32,
    /// What the operation's completions carry besides the result ([`OnComplete`] bits, set at
    /// push): a new fd (closed here unless taken), a hook for the final completion.
    pub(crate) on_complete: u8,
    /// For an operation that selects from an incremental buffer ring: the stamp of the
    /// completion being handed out by [`for_each_completion`](super::OwnedRing::for_each_completion)
    /// (read when it was reaped; packed as `Completion` packs it).
    pub(crate) stamp: u64,
}

// One slot is two cache lines: the operation (88 bytes) and the bookkeeping (29 bytes).
const _: () = assert!(core::mem::size_of::<Slot>() == 128);

/// The links of a chain pushed with `skip_success`, kept beside the slots (only such chains
/// touch them).
#[derive(Debug, Default, Clone, Copy)]
struct Chain {
    /// The `user_data` of the link before this one (0: none).
    prev: u64,
    /// The `user_data` of the link after this one (0: none).
    next: u64,
    /// While the link waits on the pending list: the result handed back for it.
    res: i32,
}

/// What one completion is to the owned layer ([`Table::step`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// The layer's own entry (a cancel request): never surfaced.
    Internal,
    /// A raw-layer entry's completion (or a tag that names no operation in flight).
    Raw,
    /// The owned operation in this slot will complete again (`IORING_CQE_F_MORE`, Linux 5.13).
    More(u32),
    /// The final completion of the owned operation in this slot. The slot is already free; its
    /// operation is still in it, for the caller to hand back (or drop) before anything is
    /// pushed again.
    Last(u32),
}

/// Whether `cqe` is the final completion of the operation in flight in `slot` (the slot its
/// `user_data` masks to), not a link of a chain that skips success completions: the common
/// case of [`Table::step`], which then frees the slot with [`release`].
///
/// A slot's `user_data` always carries the tag and its own index in the low 32 bits, so an
/// equal `user_data` is an owned one naming this very slot, in its current generation: the
/// one compare checks the tag, the index and the generation.
#[inline(always)]
pub(crate) fn plain_final(slot: &Slot, cqe: &Cqe) -> bool {
    slot.ud == cqe.user_data() && !cqe.more() && slot.next != CHAINED
}

/// Frees `slot` (at `index`) after its operation's final completion ([`plain_final`]): its
/// `user_data` moves on (a replay of the completion matches nothing), it goes on the free list
/// (`free_head`), one fewer is in flight. The operation stays in it for the caller to hand
/// back before anything is pushed again.
#[inline(always)]
pub(crate) fn release(slot: &mut Slot, index: u32, free_head: &mut u32, in_flight: &mut u32) {
    slot.ud = next_gen(slot.ud);
    slot.next = *free_head;
    *free_head = index;
    *in_flight -= 1;
}

/// The in-flight table: one slot per CQ entry, a free list and the pending list.
#[derive(Debug)]
pub(crate) struct Table {
    /// A power of two of slots (the CQ's size), never freed while the table lives, and never
    /// freed at all once [`leak`](Self::leak)ed: every index masked with `mask` is in bounds.
    pub(crate) slots: core::mem::ManuallyDrop<Box<[Slot]>>,
    /// `slots.len() - 1`.
    mask: u32,
    /// Set by [`leak`](Self::leak): the slots are not dropped with the table.
    leaked: bool,
    chains: Box<[Chain]>,
    /// First free slot (`NIL`: none).
    pub(crate) free_head: u32,
    /// First finished chain link waiting to be handed back (`NIL`: none).
    pub(crate) pending: u32,
    pub(crate) in_flight: u32,
    /// The incremental buffer rings of this ring, by id, whose state a completion is stamped
    /// with when it is reaped (see `buf::ring::IncShared`).
    inc: Vec<(u64, std::sync::Weak<crate::buf::ring::IncShared>)>,
}

impl Table {
    /// A table of `n` free slots (`n` rounded up to a power of two: a CQ's size already is one).
    pub(crate) fn new(n: u32) -> Table {
        let n = n.max(1).next_power_of_two();
        let slots = (0..n)
            .map(|i| Slot {
                op: None,
                ud: OWNED_TAG | i as u64,
                sel: 0,
                next: if i + 1 < n { i + 1 } else { NIL },
                on_complete: 0,
                stamp: 0,
            })
            .collect();
        let chains = (0..n).map(|_| Chain::default()).collect();
        Table {
            slots: core::mem::ManuallyDrop::new(slots),
            mask: n - 1,
            leaked: false,
            chains,
            free_head: 0,
            pending: NIL,
            in_flight: 0,
            inc: Vec::new(),
        }
    }

    /// Registers an incremental buffer ring of this ring (by its id), so that completions
    /// naming its buffers are stamped when reaped.
    pub(crate) fn register_inc(&mut self, id: u64, shared: &std::sync::Arc<crate::buf::ring::IncShared>) {
        self.inc.retain(|(_, w)| w.strong_count() > 0);
        self.inc.push((id, std::sync::Arc::downgrade(shared)));
    }

    /// The stamp (piece offset, buffer generation) of a completion that names a buffer of the
    /// incremental ring `sel` names, read now, in the CQ's order (see `buf::ring::IncShared`).
    #[cold]
    #[inline(never)]
    pub(crate) fn inc_stamp(&self, sel: u64, cqe: &Cqe) -> Option<(u32, u32)> {
        let bid = cqe.buffer_id()?;
        let id = sel >> 2;
        let shared = self.inc.iter().find(|(i, _)| *i == id)?.1.upgrade()?;
        let more = cqe.raw_flags() & uring_uapi::IORING_CQE_F_BUF_MORE != 0;
        shared.stamp(bid, cqe.raw_result().max(0) as u32, more)
    }

    /// The slot `index` names, without a bounds check.
    ///
    /// # Safety
    /// `index` was returned by [`step`](Self::step) (in `Step::More` or `Step::Last`),
    /// [`claim`](Self::claim) or [`pop_pending`](Self::pop_pending) of this table: they return
    /// only indices of slots they found in `slots`, whose length never changes.
    #[inline(always)]
    pub(crate) unsafe fn slot_at(&mut self, index: u32) -> &mut Slot {
        debug_assert!((index as usize) < self.slots.len());
        // SAFETY: in bounds, by the caller's contract.
        unsafe { self.slots.get_unchecked_mut(index as usize) }
    }

    /// What a reaping loop keeps in locals ([`completion::for_each`](super::completion)): the
    /// index mask and the free list's head (read again after anything else changed the table).
    #[inline(always)]
    pub(crate) fn hot(&self) -> (u32, u32) {
        (self.mask, self.free_head)
    }

    /// Whether a slot is free.
    #[inline]
    pub(crate) fn has_free_slot(&self) -> bool {
        self.free_head != NIL
    }

    /// Free slots.
    pub(crate) fn free_slots(&self) -> usize {
        self.slots.len() - self.in_flight as usize
    }

    /// **The** step every reaping path takes for each completion it reads: what `cqe` is to
    /// this layer, with the table updated for it. On the final completion of an owned
    /// operation the slot goes back to the free list (its `user_data` moves on, so a replay of
    /// this completion matches nothing) and, if it ended a chain that skips success
    /// completions, the chain's silent links are queued on the pending list, to be handed back
    /// right after it ([`pop_pending`](Self::pop_pending)).
    ///
    /// A completion's `user_data` matches a slot only while that slot's operation is in flight,
    /// and only the kernel posts completions with owned `user_data` into a ring the owned layer
    /// manages (see the module docs of [`owned`](super)): so `Last` is the kernel's final
    /// completion of that operation.
    #[inline(always)]
    pub(crate) fn step(&mut self, cqe: &Cqe) -> Step {
        let ud = cqe.user_data();
        let index = ud as u32 & self.mask;
        // SAFETY: `mask` is `slots.len() - 1`, and the length is a power of two.
        let slot = unsafe { self.slots.get_unchecked_mut(index as usize) };
        if plain_final(slot, cqe) {
            release(slot, index, &mut self.free_head, &mut self.in_flight);
            return Step::Last(index);
        }
        if slot.ud != ud {
            return Table::unmatched(ud);
        }
        if cqe.more() {
            return Step::More(index);
        }
        // The final completion of a link of a chain that skips success completions.
        self.finish_chain(index);
        self.free(index);
        Step::Last(index)
    }

    /// What a `user_data` that names no operation in flight is: the layer's own cancel
    /// requests, or a raw-layer entry (a tag that names nothing in flight is surfaced raw
    /// rather than guessed at).
    #[cold]
    #[inline(never)]
    fn unmatched(ud: u64) -> Step {
        if ud == INTERNAL {
            Step::Internal
        } else {
            Step::Raw
        }
    }

    /// Takes the first pending chain link off the list, frees its slot and returns it with its
    /// synthesized completion (its own `user_data`, result 0 or `ECANCELED`).
    #[cold]
    pub(crate) fn pop_pending(&mut self) -> (u32, Cqe) {
        let index = self.pending;
        self.pending = self.slots[index as usize].next;
        let chain = core::mem::take(&mut self.chains[index as usize]);
        let cqe = Cqe::new(chain.prev, chain.res, 0);
        self.free(index);
        (index, cqe)
    }

    /// Records that the operation just stored in slot `index` is a link of a chain that skips
    /// success completions, after the link `prev` (`user_data`, 0: the first).
    pub(crate) fn link(&mut self, index: u32, prev: u64) {
        self.slots[index as usize].next = CHAINED;
        self.chains[index as usize].prev = prev;
        if prev != 0 {
            self.chains[prev as u32 as usize].next = self.slots[index as usize].ud;
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
            let n = self.chains[last as usize].next;
            if n == 0 || !self.live(n) {
                break;
            }
            last = n as u32;
        }
        // From that one back to the link after `index`, onto the pending stack (so the stack
        // yields them in chain order).
        let mut j = last;
        while j != index {
            let p = core::mem::take(&mut self.chains[j as usize]).prev;
            self.push_pending(j, -libc::ECANCELED);
            if p == 0 {
                break;
            }
            j = p as u32;
        }
        // The links before `index`. A link that failed earlier posted its own completion and
        // was handed back (its slot maybe reused): the generation no longer matches, and the
        // walk stops there.
        let mut p = core::mem::take(&mut self.chains[index as usize]).prev;
        while p != 0 && self.live(p) {
            let i = p as u32;
            p = core::mem::take(&mut self.chains[i as usize]).prev;
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
        // The operation's `user_data` moves to the chain record (whose links are done) and the
        // slot's moves on: a completion the kernel should never post for this link could not
        // match it.
        self.chains[index as usize] = Chain { prev: slot.ud, next: 0, res };
        slot.ud = next_gen(slot.ud);
        slot.next = self.pending;
        self.pending = index;
    }

    /// Puts slot `index` back on the free list (its operation, if still there, is taken or
    /// dropped by the completion that borrows the table, or overwritten by the next push).
    #[inline]
    pub(crate) fn free(&mut self, index: u32) {
        let slot = &mut self.slots[index as usize];
        slot.ud = next_gen(slot.ud);
        // `sel` stays: the final completion (which borrows the table until it is gone) still
        // selects by it; the next push overwrites it.
        slot.next = self.free_head;
        self.free_head = index;
        self.in_flight -= 1;
    }

    /// Takes a free slot for an operation about to be published: returns its index and
    /// `user_data`. The caller stores the operation and, if publishing fails, calls
    /// [`unclaim`](Self::unclaim).
    #[inline(always)]
    pub(crate) fn claim(&mut self) -> Option<(u32, u64)> {
        let index = self.free_head;
        if index == NIL {
            return None;
        }
        debug_assert!((index as usize) < self.slots.len());
        // SAFETY: the free list holds only indices of slots: `new` links `0..n`, and `free`
        // and `unclaim` put back indices that `step`, `pop_pending` or `claim` found in
        // `slots`, whose length never changes.
        let slot = unsafe { self.slots.get_unchecked_mut(index as usize) };
        self.free_head = slot.next;
        self.in_flight += 1;
        Some((index, slot.ud))
    }

    /// Gives back a slot [`claim`](Self::claim) returned, for an operation that was never
    /// published (its `user_data` stays: nothing can have seen it).
    #[cold]
    pub(crate) fn unclaim(&mut self, index: u32) {
        let slot = &mut self.slots[index as usize];
        slot.sel = 0;
        slot.next = self.free_head;
        self.free_head = index;
        self.in_flight -= 1;
        self.chains[index as usize] = Chain::default();
    }

    /// Whether `id` names an operation in flight.
    pub(crate) fn is_in_flight(&self, id: OpId) -> bool {
        self.slots.get(id.index() as usize).is_some_and(|s| s.ud == id.user_data() && s.op.is_some())
    }

    /// Reaps one completion for drop-time cleanup: drops what it hands back (closing a new fd
    /// it carries, running the final-completion hook first).
    pub(crate) fn reap_and_drop(&mut self, cqe: &Cqe) {
        match self.step(cqe) {
            Step::More(index) => drop(self.new_fd(index, cqe.raw_result())),
            Step::Last(index) => {
                drop(self.new_fd(index, cqe.raw_result()));
                self.run_hook(index, cqe.raw_result());
                self.slots[index as usize].op = None;
            }
            Step::Raw | Step::Internal => {}
        }
        self.drop_pending();
    }

    /// The new fd a completion of the operation in slot `index` carries, if the operation
    /// creates fds in the process's table and `res` is one.
    ///
    /// Sound because the completion is the kernel's own completion of that request (see the
    /// [safety model](super#safety-model)): a non-negative result of such a request is a fd
    /// the kernel just installed, which nobody else owns. Each completion is stepped once, and
    /// the caller takes the fd once.
    #[inline]
    pub(crate) fn new_fd(&self, index: u32, res: i32) -> Option<OwnedFd> {
        if self.slots[index as usize].on_complete & OnComplete::NEW_FD == 0 || res < 0 {
            return None;
        }
        // SAFETY: see above.
        Some(unsafe { OwnedFd::from_raw_fd(res) })
    }

    /// Runs the final-completion hook of the operation in slot `index` with its result, if it
    /// has one (called once, on the final completion, before the operation is reachable).
    #[inline]
    pub(crate) fn run_hook(&mut self, index: u32, res: i32) {
        let slot = &mut self.slots[index as usize];
        if slot.on_complete & OnComplete::HOOK != 0 {
            if let Some(op) = &mut slot.op {
                op.complete(res);
            }
        }
    }

    /// Leaks every slot with what is in it (for a ring dropped while the kernel may still use
    /// the memory of operations in flight).
    pub(crate) fn leak(&mut self) {
        self.leaked = true;
        self.in_flight = 0;
        self.free_head = NIL;
        self.pending = NIL;
    }

    /// Drops the finished chain links waiting to be handed back.
    pub(crate) fn drop_pending(&mut self) {
        while self.pending != NIL {
            let (index, cqe) = self.pop_pending();
            self.run_hook(index, cqe.raw_result());
            self.slots[index as usize].op = None;
        }
    }
}

impl Drop for Table {
    fn drop(&mut self) {
        if !self.leaked {
            // SAFETY: dropped once, here, as the table goes.
            unsafe { core::mem::ManuallyDrop::drop(&mut self.slots) };
        }
    }
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

    /// A final completion frees the slot once: the same completion read again (a replay)
    /// matches nothing.
    #[test]
    fn a_final_completion_matches_once() {
        let mut t = Table::new(2);
        let (i, ud) = t.claim().unwrap();
        t.slots[i as usize].op = Some(OwnedOp::Nop(crate::owned::Nop));
        let more = Cqe::new(ud, 1, uring_uapi::IORING_CQE_F_MORE);
        assert_eq!(t.step(&more), Step::More(i));
        let last = Cqe::new(ud, 0, 0);
        assert_eq!(t.step(&last), Step::Last(i));
        assert_eq!(t.in_flight, 0);
        assert_eq!(t.step(&last), Step::Raw);
        assert_eq!(t.step(&more), Step::Raw);
        assert_eq!(t.step(&Cqe::new(INTERNAL, 0, 0)), Step::Internal);
        assert_eq!(t.step(&Cqe::new(5, 0, 0)), Step::Raw);
    }

    /// Slots are found by masking the index: a `user_data` whose index lies beyond the table
    /// masks to a slot whose `user_data` it does not equal, whatever its generation and tag.
    #[test]
    fn indices_beyond_the_table_match_nothing() {
        let mut t = Table::new(4);
        let (i, ud) = t.claim().unwrap();
        t.slots[i as usize].op = Some(OwnedOp::Nop(crate::owned::Nop));
        for alias in [ud + 4, ud + 8, ud | 0xffff_fff0, ud & !OWNED_TAG, ud ^ (1 << 40)] {
            assert_eq!(t.step(&Cqe::new(alias, 0, 0)), Step::Raw, "{alias:#x}");
        }
        assert_eq!(t.in_flight, 1);
        assert_eq!(t.step(&Cqe::new(ud, 0, 0)), Step::Last(i));
        // A table of 3 is one of 4 (the mask needs a power of two; a CQ's size is one).
        assert_eq!(Table::new(3).slots.len(), 4);
    }
}
