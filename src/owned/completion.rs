//! What the owned layer hands out for each completion: [`Completion`], and the batch reader
//! [`Completions`].

use std::os::fd::{FromRawFd, OwnedFd};

use crate::buf::ring::{SEL_BUNDLE, SEL_INC};
use crate::buf::{BufRing, Selection};
use crate::cq::Drain;
use crate::cqe::Cqe;
use crate::owned::ops::{OnComplete, Operation, OwnedOp};
use crate::owned::table::{plain_final, release, OpId, Slot, Step, Table, NIL};
use crate::{Error, Result};

/// No stamp (an offset of `u32::MAX` is never a piece's).
const NO_STAMP: u64 = u64::MAX;

/// An incremental piece's stamp (offset, generation) in one word, so that a completion stays
/// within 128 bytes.
#[inline]
fn pack_stamp(stamp: Option<(u32, u32)>) -> u64 {
    stamp.map_or(NO_STAMP, |(off, gen)| (off as u64) << 32 | gen as u64)
}

#[inline]
fn unpack_stamp(word: u64) -> Option<(u32, u32)> {
    (word != NO_STAMP).then_some(((word >> 32) as u32, word as u32))
}

/// Whether a completion belongs to a raw-layer entry, or to an owned operation that will
/// complete again, or is its last.
// A whole word: a `Completion` has no padding, so moving one copies whole fields (a move that
// copied a 1-byte field and its padding piecewise would cost several instructions more).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
enum Kind {
    Raw,
    More,
    Last,
}

/// A completion from an [`OwnedRing`](super::OwnedRing): the result, and (on the final
/// completion of an owned operation) the operation with all its memory, taken with
/// [`into_op`](Completion::into_op).
///
/// It owns what it carries (the operation is moved out of its slot when the completion is
/// made, the slot is free for the next push), so completions can be kept, collected, or held
/// while pushing more work; whatever is not taken (the operation, a new fd) is dropped with
/// it.
/// It is made from the kernel's `struct io_uring_cqe`.
///
/// ```
/// use uring::owned::{Nop, OwnedRing};
///
/// let mut ring = OwnedRing::new(4)?;
/// ring.push(Nop)?;
/// ring.submit()?;
/// let mut done = 0;
/// while done < 32 {
///     while let Some(c) = ring.next() {
///         c.result()?;
///         done += 1;
///         ring.push(Nop)?; // the completion does not borrow the ring
///     }
///     ring.submit_and_wait(1)?;
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// A `Completion` is made only from a completion the kernel posted into the ring's CQ, for an
/// operation the ring knows is in flight (see the [safety model](super#safety-model)); it is
/// not `Clone`, so what it vouches for — the operation's memory, a provided buffer — is
/// handed out once.
#[derive(Debug)]
pub struct Completion {
    cqe: Cqe,
    /// The operation, on the final completion of an owned operation.
    op: Option<OwnedOp>,
    kind: Kind,
    /// For an operation that selects provided buffers, the buffer ring it selects from, as
    /// [`BufRing::sel_word`] encodes it (0: none, or already selected).
    sel: u64,
    /// The new fd the result names, for an operation that creates fds (closed with the
    /// completion unless taken).
    fd: Option<OwnedFd>,
    /// For a completion naming a buffer of an incremental ring: the piece's offset and the
    /// buffer's generation, read when it was reaped (packed, see [`pack_stamp`]; `NO_STAMP`:
    /// none).
    inc: u64,
}

impl Completion {
    /// A completion of a raw-layer entry.
    #[inline]
    fn raw(cqe: Cqe) -> Self {
        Completion { cqe, op: None, kind: Kind::Raw, sel: 0, fd: None, inc: NO_STAMP }
    }

    /// What [`Table::step`] made of `cqe` (anything but [`Step::Internal`]), as a completion.
    #[inline(always)]
    pub(crate) fn from_step(t: &mut Table, cqe: Cqe, step: Step) -> Self {
        match step {
            Step::Raw | Step::Internal => Completion::raw(cqe),
            Step::More(i) => {
                // SAFETY: `i` comes from `step`.
                let slot = unsafe { t.slot_at(i) };
                if slot.on_complete != 0 {
                    return Completion::with_effects(t, i, cqe, Kind::More);
                }
                Completion { cqe, op: None, kind: Kind::More, sel: slot.sel, fd: None, inc: NO_STAMP }
            }
            Step::Last(i) => {
                // SAFETY: `i` comes from `step`.
                let slot = unsafe { t.slot_at(i) };
                if slot.on_complete != 0 {
                    return Completion::with_effects(t, i, cqe, Kind::Last);
                }
                Completion { cqe, sel: slot.sel, op: slot.op.take(), kind: Kind::Last, fd: None, inc: NO_STAMP }
            }
        }
    }

    /// [`from_step`](Self::from_step), out of line (for the uncommon completions of
    /// [`next`](super::completion::next)).
    #[cold]
    #[inline(never)]
    fn from_step_cold(t: &mut Table, cqe: Cqe, step: Step) -> Self {
        Completion::from_step(t, cqe, step)
    }

    /// The final completion of the operation in slot `i` ([`Step::Last`]), which has no
    /// completion effects (`on_complete` 0: no fd, no hook, no incremental stamp).
    #[inline(always)]
    pub(crate) fn plain_last(t: &mut Table, i: u32, cqe: Cqe) -> Self {
        // SAFETY: `i` comes from `step` (the caller's).
        let slot = unsafe { t.slot_at(i) };
        debug_assert_eq!(slot.on_complete, 0);
        Completion { cqe, sel: slot.sel, op: slot.op.take(), kind: Kind::Last, fd: None, inc: NO_STAMP }
    }

    /// A completion of an operation that creates an fd, has a completion hook, or selects from
    /// an incremental buffer ring.
    #[cold]
    #[inline(never)]
    fn with_effects(t: &mut Table, i: u32, cqe: Cqe, kind: Kind) -> Self {
        let fd = t.new_fd(i, cqe.raw_result());
        if kind == Kind::Last {
            t.run_hook(i, cqe.raw_result());
        }
        let (sel, on_complete) = (t.slots[i as usize].sel, t.slots[i as usize].on_complete);
        let inc = if on_complete & OnComplete::INC != 0 { pack_stamp(t.inc_stamp(sel, &cqe)) } else { NO_STAMP };
        let op = if kind == Kind::Last { t.slots[i as usize].op.take() } else { None };
        Completion { cqe, sel, op, kind, fd, inc }
    }

    /// The next finished link of a chain that skipped its success completions (the table's
    /// pending list must not be empty).
    #[cold]
    pub(crate) fn pending(t: &mut Table) -> Self {
        let (i, cqe) = t.pop_pending();
        // The result is made up (0 or `ECANCELED`), so it names no fd; the operation's hook
        // still runs (a link that succeeded did its work). Chains that skip success completions
        // carry no buffer-selecting links.
        t.run_hook(i, cqe.raw_result());
        Completion { cqe, op: t.slots[i as usize].op.take(), kind: Kind::Last, sel: 0, fd: None, inc: NO_STAMP }
    }

    /// The operation this completes (`None` for a raw-layer entry).
    #[inline]
    pub fn id(&self) -> Option<OpId> {
        if self.kind == Kind::Raw {
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
        self.kind == Kind::More
    }

    /// Takes the new fd this completion's result names, once: on completions of operations
    /// that create an fd in the process's table ([`OpenAt`](super::OpenAt),
    /// [`OpenAt2`](super::OpenAt2), [`Accept`](super::Accept) and
    /// [`AcceptMulti`](super::AcceptMulti), single or multishot, [`Socket`](super::Socket),
    /// [`FixedFdInstall`](super::FixedFdInstall), each with an ordinary-fd destination) that
    /// succeeded. `None` otherwise (a failure, a direct destination, whose result is a slot, a
    /// raw-layer entry, already taken). A completion dropped (or consumed by
    /// [`into_op`](Self::into_op)) without taking it closes the fd: take it first.
    ///
    /// Sound because the layer hands out only the kernel's own completions of the request (see
    /// the [safety model](super#safety-model)): such a result is an fd the kernel just
    /// installed, which nobody else owns.
    #[inline]
    pub fn take_fd(&mut self) -> Option<OwnedFd> {
        self.fd.take()
    }

    /// The operation, on its final completion.
    pub fn op(&self) -> Option<&OwnedOp> {
        self.op.as_ref()
    }

    /// Takes the operation back as its type `O` (on the final completion), or returns the
    /// completion unchanged (not final, a raw entry, or another type).
    #[inline]
    // The completion comes back by value, unchanged, as it came in (no allocation on this path).
    #[allow(clippy::result_large_err)]
    pub fn into_op<O: Operation>(self) -> core::result::Result<O, Self> {
        let mut me = core::mem::ManuallyDrop::new(self);
        // Reads out only the payload of the expected type (no copy of the whole enum).
        match O::take_stored(&mut me.op) {
            Some(o) => {
                // What is left to drop: a new fd not taken (the operation is out, the rest
                // plain data).
                drop(me.fd.take());
                Ok(o)
            }
            None => Err(core::mem::ManuallyDrop::into_inner(me)),
        }
    }

    /// The provided buffer(s) this completion filled, from `ring`, the buffer ring its
    /// operation ([`RecvSelect`](super::RecvSelect), [`RecvMultishot`](super::RecvMultishot),
    /// [`RecvMsgMultishot`](super::RecvMsgMultishot), [`SendBundle`](super::SendBundle),
    /// [`ReadSelect`](super::ReadSelect), [`ReadMultishot`](super::ReadMultishot)) selects
    /// from: [`Selection::None`] when the kernel used no buffer, else a guard that gives the
    /// bytes and returns the buffer(s) to `ring` when dropped (see [`BufRing::select`]).
    ///
    /// Safe, because the owned layer vouches that this is the kernel's own completion of that
    /// operation, and a completion selects once: a second call fails with
    /// [`Error::InvalidArgument`], as does a completion of another operation or a buffer ring
    /// the operation does not select from.
    /// Buffer rings: `IORING_REGISTER_PBUF_RING`, Linux 5.19.
    ///
    /// ```
    /// # std::thread::spawn(|| { // a watchdog: a hang fails fast, naming the example
    /// #     std::thread::sleep(std::time::Duration::from_secs(60));
    /// #     eprintln!("HANG in the Completion::select example: no completion after 60 s");
    /// #     std::process::abort();
    /// # });
    /// use std::io::Write;
    /// use std::os::unix::net::UnixStream;
    /// use uring::buf::BufRing;
    /// use uring::owned::{OwnedRing, RecvMultishot};
    ///
    /// let mut ring = OwnedRing::new(8)?;
    /// let br = ring.buf_ring(BufRing::builder(1, 16, 256))?;
    /// let (mut a, b) = UnixStream::pair()?;
    /// ring.push(RecvMultishot::new(b, &br))?;
    /// a.write_all(b"hello")?;
    /// let mut c = ring.wait()?;
    /// let sel = c.select(&br)?;
    /// assert_eq!(sel.data(), Some(&b"hello"[..]));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn select<'b>(&mut self, ring: &'b BufRing) -> Result<Selection<'b>> {
        // SAFETY: the owned layer made this completion from a CQE the kernel posted into the
        // ring's CQ for the operation whose selection word is `self.sel` (0 once selected), and
        // `inc` is the stamp read when it was reaped (see `select_once`).
        unsafe { select_once(&mut self.sel, &self.cqe, self.inc, ring) }
    }
}

/// [`Completion::select`] and [`CompletionRef::select`]: selects the buffer(s) `cqe` names
/// from `ring` if `*sel` (the operation's selection word, 0: none or already selected) names
/// `ring`, and clears `*sel`.
///
/// # Safety
/// `cqe` is a completion the kernel posted into the CQ of the ring the owned layer manages, for
/// an operation in flight whose selection word `*sel` was (no safe code can post completions
/// with owned `user_data` into such a ring: see the safety model), `*sel` is 0 once any
/// selection was made for `cqe`, and `inc` is the stamp read for `cqe` when it was reaped
/// (incremental rings).
#[inline]
unsafe fn select_once<'b>(sel: &mut u64, cqe: &Cqe, inc: u64, ring: &'b BufRing) -> Result<Selection<'b>> {
    let word = *sel;
    if word == 0 {
        if cqe.buffer_id().is_none() {
            return Ok(Selection::None);
        }
        return Err(Error::InvalidArgument {
            what: "completion",
            reason: "not of an owned operation selecting from a buffer ring, or already selected",
        });
    }
    let bundle = word & SEL_BUNDLE != 0;
    if ring.sel_word(bundle) != word {
        return Err(Error::InvalidArgument {
            what: "buffer ring",
            reason: "not the buffer ring this completion's operation selects from",
        });
    }
    *sel = 0;
    // SAFETY: by the caller's contract, `cqe` is the kernel's own completion of an operation
    // that selects from `ring` (its selection word names `ring`, which is registered on this
    // ring: checked at push), and `*sel` was cleared above, so the completion selects once.
    // For an incremental ring, the piece's offset and its buffer's generation were read
    // when the completion was reaped, in the kernel's order: a piece selected late keeps
    // its place, and one whose buffer went back to the ring since is refused.
    unsafe {
        if word & SEL_INC != 0 {
            ring.select_stamped(cqe, unpack_stamp(inc))
        } else if bundle {
            ring.select_bundle(cqe)
        } else {
            ring.select(cqe)
        }
    }
}

/// A completion handed to the closure of
/// [`OwnedRing::for_each_completion`](super::OwnedRing::for_each_completion): the same as a
/// [`Completion`], borrowed from the ring for the call instead of owned. The operation stays
/// in its slot until it is taken ([`into_op`](Self::into_op) reads only the operation's own
/// fields out), so handing a completion to the closure moves nothing; whatever is not taken
/// (the operation, a new fd) is dropped with it. [`into_completion`](Self::into_completion)
/// makes an owned [`Completion`] of it, to keep.
///
/// It is made, like a `Completion`, only from a completion the kernel posted into the ring's
/// CQ for an operation the ring knows is in flight (see the [safety model](super#safety-model)),
/// and cannot be built outside the crate. While it lives the ring is borrowed, so the slot it
/// reads cannot be reused.
/// It is made from the kernel's `struct io_uring_cqe`.
#[derive(Debug)]
pub struct CompletionRef<'a> {
    cqe: Cqe,
    /// The operation's slot (`None`: a raw-layer entry). On the final completion the slot is
    /// already free (its `user_data` moved on) and still holds the operation until it is
    /// taken or this is dropped.
    slot: Option<&'a mut Slot>,
    /// [`TAKEN_SEL`], [`TAKEN_FD`]: what was taken already.
    taken: u8,
}

/// [`CompletionRef::taken`]: the completion selected its buffer(s).
const TAKEN_SEL: u8 = 1;
/// [`CompletionRef::taken`]: the new fd was taken (or there is none to take).
const TAKEN_FD: u8 = 2;

impl<'a> CompletionRef<'a> {
    /// The completion of a raw-layer entry, or of the owned operation in `slot` (whose
    /// completion effects, hook and stamp, were applied when it was stepped); `taken` marks
    /// what it cannot hand out (a made-up result of a chain link names no fd and no buffer).
    #[inline(always)]
    fn new(cqe: Cqe, slot: Option<&'a mut Slot>, taken: u8) -> Self {
        CompletionRef { cqe, slot, taken }
    }

    /// Whether this is the final completion of an owned operation.
    #[inline(always)]
    fn is_last(&self) -> bool {
        self.slot.is_some() && !self.cqe.more()
    }

    /// As [`Completion::id`].
    #[inline]
    pub fn id(&self) -> Option<OpId> {
        match self.slot {
            Some(_) => OpId::from_user_data(self.cqe.user_data()),
            None => None,
        }
    }

    /// As [`Completion::cqe`].
    #[inline]
    pub fn cqe(&self) -> &Cqe {
        &self.cqe
    }

    /// As [`Completion::result`].
    #[inline]
    pub fn result(&self) -> core::result::Result<u32, crate::Errno> {
        self.cqe.result()
    }

    /// As [`Completion::more`].
    #[inline]
    pub fn more(&self) -> bool {
        self.slot.is_some() && self.cqe.more()
    }

    /// As [`Completion::take_fd`].
    ///
    /// Sound for the same reason: the result of the kernel's own completion of a request that
    /// creates an fd is an fd the kernel just installed, and this completion hands it out once
    /// (the `TAKEN_FD` flag), or closes it when dropped.
    #[inline]
    pub fn take_fd(&mut self) -> Option<OwnedFd> {
        if self.taken & TAKEN_FD != 0 {
            return None;
        }
        self.taken |= TAKEN_FD;
        let slot = self.slot.as_deref()?;
        if slot.on_complete & OnComplete::NEW_FD == 0 || self.cqe.raw_result() < 0 {
            return None;
        }
        // SAFETY: see above; the flag set before makes this the only `OwnedFd` of it.
        Some(unsafe { OwnedFd::from_raw_fd(self.cqe.raw_result()) })
    }

    /// As [`Completion::op`].
    #[inline]
    pub fn op(&self) -> Option<&OwnedOp> {
        if !self.is_last() {
            return None;
        }
        self.slot.as_deref()?.op.as_ref()
    }

    /// As [`Completion::into_op`]: takes the operation out of its slot as its type `O` (on the
    /// final completion), or returns the completion unchanged. Reads only `O`'s fields.
    #[inline]
    pub fn into_op<O: Operation>(mut self) -> core::result::Result<O, Self> {
        if !self.is_last() {
            return Err(self);
        }
        let Some(slot) = self.slot.as_deref_mut() else { return Err(self) };
        match O::take_stored(&mut slot.op) {
            Some(o) => {
                if slot.on_complete == 0 {
                    // Nothing left to drop: no fd to close, the operation taken.
                    core::mem::forget(self);
                }
                Ok(o)
            }
            None => Err(self),
        }
    }

    /// As [`Completion::select`]: the provided buffer(s) this completion filled, from `ring`,
    /// once.
    pub fn select<'b>(&mut self, ring: &'b BufRing) -> Result<Selection<'b>> {
        let (mut sel, stamp) = match self.slot.as_deref() {
            Some(slot) if self.taken & TAKEN_SEL == 0 => (slot.sel, slot.stamp),
            _ => (0, NO_STAMP),
        };
        // SAFETY: this completion was made from a CQE the kernel posted into the ring's CQ for
        // the operation in `slot` (see the safety model), whose selection word is `slot.sel`
        // (set at push, unchanged while the ring is borrowed); `TAKEN_SEL` makes it 0 after the
        // first selection; `slot.stamp` was written for this completion when it was stepped.
        let r = unsafe { select_once(&mut sel, &self.cqe, stamp, ring) };
        if sel == 0 {
            self.taken |= TAKEN_SEL;
        }
        r
    }

    /// An owned [`Completion`] with everything this one still carries (the operation on the
    /// final completion, an fd not taken, a selection not made), to keep past the call.
    pub fn into_completion(mut self) -> Completion {
        let fd = self.take_fd();
        let Some(slot) = self.slot.as_deref_mut() else {
            return Completion::raw(self.cqe);
        };
        let sel = if self.taken & TAKEN_SEL == 0 { slot.sel } else { 0 };
        let inc = if sel & SEL_INC != 0 { slot.stamp } else { NO_STAMP };
        let (kind, op) = if self.cqe.more() { (Kind::More, None) } else { (Kind::Last, slot.op.take()) };
        Completion { cqe: self.cqe, op, kind, sel, fd, inc }
    }
}

impl Drop for CompletionRef<'_> {
    #[inline]
    fn drop(&mut self) {
        let Some(slot) = self.slot.as_deref_mut() else { return };
        if slot.on_complete != 0 && self.taken & TAKEN_FD == 0 {
            drop(self.take_fd());
        }
        let Some(slot) = self.slot.as_deref_mut() else { return };
        if !self.cqe.more() && slot.op.is_some() {
            drop_op(slot);
        }
    }
}

/// Drops the operation a final completion left in its (free) slot.
#[cold]
#[inline(never)]
fn drop_op(slot: &mut Slot) {
    slot.op = None;
}

/// The completions that were ready when it was created; from
/// [`OwnedRing::completions`](super::OwnedRing::completions). The CQ slots it read are
/// released in one store when it is dropped.
/// The loop of `io_uring_for_each_cqe(3)`.
#[derive(Debug)]
pub struct Completions<'a> {
    pub(crate) drain: Drain<'a>,
    pub(crate) t: &'a mut Table,
}

/// Internal entries are skipped; finished links of a chain that skipped their completions come
/// right after the chain's posted completion.
impl Iterator for Completions<'_> {
    type Item = Completion;

    #[inline]
    fn next(&mut self) -> Option<Completion> {
        let drain = &mut self.drain;
        next(self.t, || drain.next())
    }
}

/// The next completion of those `pop` reads (a finished chain link first), or `None`: what
/// [`OwnedRing::next`](super::OwnedRing::next), its waits and [`Completions`] hand out. The
/// common case (the final completion of an operation without completion effects) is built in
/// one place, where the caller receives it (not built, then moved: a completion is 128
/// bytes).
#[inline(always)]
pub(crate) fn next(t: &mut Table, mut pop: impl FnMut() -> Option<Cqe>) -> Option<Completion> {
    if t.pending != NIL {
        return Some(Completion::pending(t));
    }
    loop {
        let cqe = pop()?;
        let step = t.step(&cqe);
        if let Step::Last(i) = step {
            // SAFETY: `i` comes from `step`.
            if unsafe { t.slot_at(i) }.on_complete == 0 {
                return Some(Completion::plain_last(t, i, cqe));
            }
        }
        if step != Step::Internal {
            return Some(Completion::from_step_cold(t, cqe, step));
        }
    }
}

/// The loop of [`OwnedRing::for_each_completion`](super::OwnedRing::for_each_completion), over
/// the entries of `drain`. Returns how many completions it handed out.
///
/// The common case (the final completion of an operation without completion effects, not a
/// chain link) runs `Table::step`'s own two parts ([`plain_final`], [`release`]) with the
/// index mask and the free list's head in locals, so that what `f` does (it cannot reach the
/// table, which this borrows) does not make them be read again; the table's fields are written
/// as they change (a panic in `f` leaves the table consistent). Everything else goes through
/// [`Table::step`], after which the locals are read again.
#[inline(always)]
pub(crate) fn for_each(t: &mut Table, mut drain: Drain<'_>, f: &mut impl FnMut(CompletionRef<'_>)) -> u32 {
    let mut n = 0;
    let (mut mask, mut free_head) = t.hot();
    loop {
        // One call of `f` in the loop, so that the compiler can inline it.
        let (cqe, slot, taken) = if t.pending != NIL {
            let (i, cqe) = t.pop_pending();
            // As `Completion::pending`: the hook runs; no fd, no buffer (the result is made up,
            // so it names no fd, whatever the operation is: marked taken).
            t.run_hook(i, cqe.raw_result());
            (mask, free_head) = t.hot();
            // SAFETY: `i` comes from `pop_pending`.
            (cqe, Some(unsafe { t.slot_at(i) }), TAKEN_SEL | TAKEN_FD)
        } else {
            let Some(cqe) = drain.next() else { break };
            let ud = cqe.user_data();
            let index = ud as u32 & mask;
            // SAFETY: `mask` is the table's (`hot`): masked, the index is in bounds.
            let slot = unsafe { t.slots.get_unchecked_mut(index as usize) };
            if plain_final(slot, &cqe) && slot.on_complete & (OnComplete::HOOK | OnComplete::INC) == 0 {
                // `Table::step`'s common case, with the free list's head from the local.
                release(slot, index, &mut free_head, &mut t.in_flight);
                t.free_head = free_head;
                (cqe, Some(slot), 0)
            } else {
                let step = t.step(&cqe);
                (mask, free_head) = t.hot();
                match step {
                    Step::Internal => continue,
                    Step::Raw => (cqe, None, 0),
                    Step::More(i) | Step::Last(i) => {
                        // SAFETY: `i` comes from `step`.
                        if unsafe { t.slot_at(i) }.on_complete & (OnComplete::HOOK | OnComplete::INC) != 0 {
                            effects(t, i, cqe);
                        }
                        // SAFETY: as above.
                        (cqe, Some(unsafe { t.slot_at(i) }), 0)
                    }
                }
            }
        };
        f(CompletionRef::new(cqe, slot, taken));
        n += 1;
    }
    n
}

/// What stepping `cqe` does beyond freeing the slot, for an operation with a final-completion
/// hook or one that selects from an incremental buffer ring: runs the hook (on the final
/// completion) and stamps the completion in its slot.
#[cold]
#[inline(never)]
fn effects(t: &mut Table, i: u32, cqe: Cqe) {
    if !cqe.more() {
        t.run_hook(i, cqe.raw_result());
    }
    // SAFETY: `i` comes from `step` (the caller's).
    let slot = unsafe { t.slot_at(i) };
    let (sel, on_complete) = (slot.sel, slot.on_complete);
    if on_complete & OnComplete::INC != 0 {
        let stamp = pack_stamp(t.inc_stamp(sel, &cqe));
        // SAFETY: as above.
        unsafe { t.slot_at(i) }.stamp = stamp;
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::os::unix::net::UnixStream;
    use std::time::Duration;

    use super::*;
    use crate::buf::BufRing;
    use crate::owned::{FdOp, Nop, OwnedRing, RecvMultishot, Socket};

    /// Waits (bounded: a missing completion fails the test, never hangs it) until `n`
    /// completions are ready.
    fn ready(ring: &mut OwnedRing, n: u32) {
        ring.submit_and_wait_timeout(n, Duration::from_secs(5)).expect("completions within 5 s");
    }

    /// A lent completion hands out the new fd once; one not taken moves into the owned
    /// completion made of it.
    #[test]
    fn completion_ref_hands_a_new_fd_out_once() {
        let mut ring = OwnedRing::new(8).unwrap();
        for _ in 0..2 {
            ring.push(FdOp::of(crate::op::Socket::new(libc::AF_UNIX, libc::SOCK_STREAM, 0))).unwrap();
        }
        ready(&mut ring, 2);
        let (mut taken, mut kept) = (Vec::new(), Vec::new());
        let n = ring.for_each_completion(|mut c| {
            assert!(c.result().is_ok(), "IORING_OP_SOCKET (Linux 5.19): {:?}", c.result());
            if taken.is_empty() {
                taken.push(c.take_fd().expect("the new socket"));
                assert!(c.take_fd().is_none(), "taken once");
                assert!(c.into_op::<Socket>().is_ok());
            } else {
                kept.push(c.into_completion());
            }
        });
        assert_eq!(n, 2);
        assert_eq!(ring.in_flight(), 0);
        {
            let mut c = kept.pop().expect("a completion kept");
            let fd = c.take_fd().expect("the fd moved into the owned completion");
            assert_eq!(rustix::fs::fstat(&fd).unwrap().st_mode & libc::S_IFMT, libc::S_IFSOCK);
            assert!(c.into_op::<Socket>().is_ok());
            assert_eq!(rustix::fs::fstat(&taken[0]).unwrap().st_mode & libc::S_IFMT, libc::S_IFSOCK);
        }
    }

    /// A lent multishot completion selects its buffer once, has no operation to take, and an
    /// owned completion made of it after the selection selects nothing more.
    #[test]
    fn completion_ref_selects_once() {
        let mut ring = OwnedRing::new(8).unwrap();
        let br = ring.buf_ring(BufRing::builder(1, 8, 64)).unwrap();
        let (mut a, b) = UnixStream::pair().unwrap();
        let id = ring.push(RecvMultishot::new(b, &br)).unwrap();
        ring.submit().unwrap();
        a.write_all(b"hello").unwrap();
        ready(&mut ring, 1);
        let mut kept = Vec::new();
        ring.for_each_completion(|mut c| {
            assert!(c.result().is_ok(), "multishot recv (Linux 6.0): {:?}", c.result());
            assert!(c.more());
            assert!(c.op().is_none());
            {
                let sel = c.select(&br).unwrap();
                assert_eq!(sel.data(), Some(&b"hello"[..]));
            }
            assert!(c.select(&br).is_err(), "a completion selects once");
            let c = c.into_op::<RecvMultishot>().unwrap_err();
            kept.push(c.into_completion());
        });
        {
            let mut c = kept.pop().expect("a completion kept");
            assert!(c.more());
            assert!(c.select(&br).is_err(), "selected already, through the lent completion");
            ring.cancel(id).unwrap();
            ready(&mut ring, 1);
            let c = ring.next().unwrap();
            assert!(!c.more());
            assert!(c.into_op::<RecvMultishot>().is_ok());
        }
    }

    /// One `for_each_completion` pass over every kind of completion at once (plain final ones
    /// on the fast path; a chain that skipped a success completion, an operation with a new fd
    /// and a raw entry through `Table::step`), in more rounds than the table has slots: each
    /// is handed out once, and the free list the fast path keeps in a local stays the table's.
    #[test]
    fn for_each_mixes_fast_and_stepped_completions() {
        let mut ring = OwnedRing::new(8).unwrap(); // CQ and table: 16
        for round in 0..20 {
            ring.push_chain([Nop, Nop], true).unwrap();
            ring.push(Nop).unwrap();
            ring.push(FdOp::of(crate::op::Socket::new(libc::AF_UNIX, libc::SOCK_STREAM, 0))).unwrap();
            ring.push(Nop).unwrap();
            ring.push_safe(&crate::op::Nop::new().build().user_data(round)).unwrap();
            // Posted: the chain's last link, three operations, the raw entry.
            ready(&mut ring, 5);
            let (mut nops, mut sockets, mut raw) = (0, 0, 0);
            let n = ring.for_each_completion(|c| {
                if c.id().is_none() {
                    assert_eq!(c.cqe().user_data(), round, "round {round}");
                    raw += 1;
                } else if c.op().is_some_and(|o| matches!(o, OwnedOp::Socket(_))) {
                    // The new fd is not taken: closed with the completion.
                    assert!(c.result().is_ok(), "IORING_OP_SOCKET (Linux 5.19): {:?}", c.result());
                    sockets += 1;
                } else {
                    assert!(c.into_op::<Nop>().is_ok(), "round {round}");
                    nops += 1;
                }
            });
            assert_eq!((n, nops, sockets, raw, ring.in_flight()), (6, 4, 1, 1, 0), "round {round}");
        }
        // Every slot is free: the table takes as many operations as it has slots.
        for _ in 0..16 {
            ring.push(Nop).unwrap();
            ring.submit().unwrap();
        }
        ready(&mut ring, 16);
        assert_eq!(ring.for_each_completion(|c| assert!(c.into_op::<Nop>().is_ok())), 16);
    }

    /// Operations not taken from lent completions are dropped with them, and the slots serve
    /// the next pushes.
    #[test]
    fn completion_ref_drops_what_is_not_taken() {
        let mut ring = OwnedRing::new(4).unwrap();
        for round in 0..4 {
            for _ in 0..4 {
                ring.push(Nop).unwrap();
            }
            ready(&mut ring, 4);
            let mut seen = 0;
            ring.for_each_completion(|c| {
                assert!(matches!(c.op(), Some(OwnedOp::Nop(_))), "round {round}");
                seen += 1;
            });
            assert_eq!((seen, ring.in_flight()), (4, 0));
        }
    }
}
