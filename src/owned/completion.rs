//! What the owned layer hands out for each completion: [`Completion`], and the batch reader
//! [`Completions`].

use std::os::fd::OwnedFd;

use crate::buf::ring::{SEL_BUNDLE, SEL_INC};
use crate::buf::{BufRing, Selection};
use crate::cq::Drain;
use crate::cqe::Cqe;
use crate::owned::ops::{Operation, OwnedOp};
use crate::owned::table::{OpId, Step, Table, NIL};
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
                let slot = &t.slots[i as usize];
                let (sel, on_complete) = (slot.sel, slot.on_complete);
                let fd = if on_complete != 0 { t.new_fd(i, cqe.raw_result()) } else { None };
                let inc = if sel & SEL_INC != 0 { pack_stamp(t.inc_stamp(sel, &cqe)) } else { NO_STAMP };
                Completion { cqe, op: None, kind: Kind::More, sel, fd, inc }
            }
            Step::Last(i) => {
                let slot = &t.slots[i as usize];
                if slot.on_complete != 0 || slot.sel & SEL_INC != 0 {
                    return Completion::last_with_effects(t, i, cqe);
                }
                let slot = &mut t.slots[i as usize];
                Completion { cqe, sel: slot.sel, op: slot.op.take(), kind: Kind::Last, fd: None, inc: NO_STAMP }
            }
        }
    }

    /// The final completion of an operation that creates an fd, has a completion hook, or
    /// selects from an incremental buffer ring.
    #[cold]
    #[inline(never)]
    fn last_with_effects(t: &mut Table, i: u32, cqe: Cqe) -> Self {
        let fd = t.new_fd(i, cqe.raw_result());
        t.run_hook(i, cqe.raw_result());
        let sel = t.slots[i as usize].sel;
        let inc = if sel & SEL_INC != 0 { pack_stamp(t.inc_stamp(sel, &cqe)) } else { NO_STAMP };
        let slot = &mut t.slots[i as usize];
        Completion { cqe, sel, op: slot.op.take(), kind: Kind::Last, fd, inc }
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
    pub fn into_op<O: Operation>(mut self) -> core::result::Result<O, Self> {
        // Reads out only the payload of the expected type (no copy of the whole enum).
        match O::take_stored(&mut self.op) {
            Some(o) => Ok(o),
            None => Err(self),
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
        let sel = self.sel;
        if sel == 0 {
            if self.cqe.buffer_id().is_none() {
                return Ok(Selection::None);
            }
            return Err(Error::InvalidArgument {
                what: "completion",
                reason: "not of an owned operation selecting from a buffer ring, or already selected",
            });
        }
        let bundle = sel & SEL_BUNDLE != 0;
        if ring.sel_word(bundle) != sel {
            return Err(Error::InvalidArgument {
                what: "buffer ring",
                reason: "not the buffer ring this completion's operation selects from",
            });
        }
        self.sel = 0;
        // SAFETY: the owned layer made this completion from a CQE the kernel posted into the
        // ring's CQ for an operation in flight (no safe code can post completions with owned
        // `user_data` into a ring the owned layer manages: see the safety model); that
        // operation selects from `ring` (its `sel` word names `ring`, which is registered on
        // this ring: checked at push); and `sel` was cleared above, so the completion selects
        // once.
        // For an incremental ring, the piece's offset and its buffer's generation were read
        // when the completion was reaped, in the kernel's order: a piece selected late keeps
        // its place, and one whose buffer went back to the ring since is refused.
        unsafe {
            if sel & SEL_INC != 0 {
                ring.select_stamped(&self.cqe, unpack_stamp(self.inc))
            } else if bundle {
                ring.select_bundle(&self.cqe)
            } else {
                ring.select(&self.cqe)
            }
        }
    }
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
        if self.t.pending != NIL {
            return Some(Completion::pending(self.t));
        }
        loop {
            let cqe = self.drain.next()?;
            let step = self.t.step(&cqe);
            if step != Step::Internal {
                return Some(Completion::from_step(self.t, cqe, step));
            }
        }
    }
}

/// The loop of [`OwnedRing::for_each_completion`](super::OwnedRing::for_each_completion), over
/// the entries `next` reads from `drain`. Returns how many completions it handed out.
#[inline(always)]
pub(crate) fn for_each(
    t: &mut Table,
    drain: &mut Drain<'_>,
    f: &mut impl FnMut(Completion),
    next: impl Fn(&mut Drain<'_>) -> Option<Cqe>,
) -> u32 {
    let mut n = 0;
    while let Some(cqe) = next(drain) {
        let step = t.step(&cqe);
        if step == Step::Internal {
            continue;
        }
        f(Completion::from_step(t, cqe, step));
        n += 1;
        while t.pending != NIL {
            f(Completion::pending(t));
            n += 1;
        }
    }
    n
}
