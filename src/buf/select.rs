//! Typed buffer selections: what a completion says about the provided buffer it used, as a
//! guard that gives the bytes and returns the buffer to its ring when dropped.

use core::mem::ManuallyDrop;

use uring_uapi::IORING_CQE_F_BUF_MORE;

use crate::buf::ring::{already_held, bid_out_of_range, cold, BufRing, HELD, SUCC};
use crate::cqe::Cqe;
use crate::{Error, Result};

/// The provided buffer(s) a completion used, from [`BufRing::select`] or
/// [`BufRing::select_bundle`].
///
/// Dropping a selection returns its buffers to the ring (a partially consumed incremental buffer
/// stays with the kernel). Buffers can be returned in any order.
/// The completion names the buffer with `IORING_CQE_F_BUFFER` and the buffer id in the upper 16
/// bits of `cqe.flags` (Linux 5.7; buffer rings 5.19).
// An explicit tag: matching (in `data`, in the drop glue) is one compare instead of decoding a
// niche in `IncSlice::more`. A whole word (the payload is 8-aligned anyway, so the size is the
// same): moving a `Selection` then copies whole words, where a tag byte left seven bytes of
// padding that moves copied as overlapping pieces.
#[derive(Debug)]
#[repr(u64)]
pub enum Selection<'a> {
    /// The completion used no provided buffer (`IORING_CQE_F_BUFFER`, Linux 5.7 clear).
    None,
    /// One whole buffer.
    /// (`IORING_CQE_F_BUFFER`, Linux 5.7.)
    Buffer(Buf<'a>),
    /// A piece of an incrementally consumed buffer (`IOU_PBUF_RING_INC`, Linux 6.12).
    Incremental(IncSlice<'a>),
    /// Several buffers of a bundle operation, contiguous in ring order.
    /// (`IORING_RECVSEND_BUNDLE`, Linux 6.10.)
    Bundle(Bundle<'a>),
}

impl<'a> Selection<'a> {
    /// The bytes the kernel wrote, when they are in one piece (a buffer or incremental slice).
    #[inline]
    pub fn data(&self) -> Option<&[u8]> {
        match self {
            Selection::None | Selection::Bundle(_) => None,
            Selection::Buffer(b) => Some(b.data()),
            Selection::Incremental(s) => Some(s.data()),
        }
    }

    /// Total bytes the kernel wrote.
    #[inline]
    pub fn len(&self) -> usize {
        match self {
            Selection::None => 0,
            Selection::Buffer(b) => b.len(),
            Selection::Incremental(s) => s.len(),
            Selection::Bundle(b) => b.len(),
        }
    }

    /// Whether no bytes were written.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The first buffer id, if a buffer was used.
    #[inline]
    pub fn bid(&self) -> Option<u16> {
        match self {
            Selection::None => None,
            Selection::Buffer(b) => Some(b.bid()),
            Selection::Incremental(s) => Some(s.bid()),
            Selection::Bundle(b) => Some(b.first_bid()),
        }
    }

    /// Hands every buffer this selection owns to `f` instead of recycling them one by one
    /// (for batch recycling into `ring`), consuming the selection. A selection of another ring
    /// is dropped instead, which returns its buffers to their own ring: a bid means something
    /// only in the ring that handed it out.
    #[inline(always)]
    pub(crate) fn release_into(self, ring: &BufRing, mut f: impl FnMut(u16)) {
        // The common case inline: one whole buffer of `ring`.
        if let Selection::Buffer(b) = &self {
            if core::ptr::eq(b.ring, ring) {
                let bid = b.bid as u16;
                // Its buffer goes to `f` instead of the guard's drop.
                core::mem::forget(self);
                return f(bid);
            }
        }
        self.release_rest(ring, &mut f);
    }

    /// [`release_into`](Self::release_into) of anything but a whole buffer of `ring` (out of
    /// line, one copy for every `f`).
    #[inline(never)]
    fn release_rest(self, ring: &BufRing, f: &mut dyn FnMut(u16)) {
        if !self.is_of(ring) {
            return other_ring(self);
        }
        match self {
            Selection::None => {}
            Selection::Buffer(b) => f(ManuallyDrop::new(b).bid as u16),
            Selection::Incremental(s) => {
                let s = ManuallyDrop::new(s);
                if s.ring.inc_view_closed(s.bid(), !s.more) {
                    f(s.bid());
                }
            }
            Selection::Bundle(b) => {
                let b = ManuallyDrop::new(b);
                let mut bid = b.first;
                for _ in 0..b.count {
                    // Read the link before `f` re-adds the buffer (which may rewrite links).
                    let next = b.ring.succ_of(bid);
                    f(bid);
                    bid = next;
                }
            }
        }
    }
}

impl Selection<'_> {
    /// Whether the buffers of this selection belong to `ring` (`None`: trivially).
    #[inline(always)]
    fn is_of(&self, ring: &BufRing) -> bool {
        match self {
            Selection::None => true,
            Selection::Buffer(b) => core::ptr::eq(b.ring, ring),
            Selection::Incremental(s) => core::ptr::eq(s.ring, ring),
            Selection::Bundle(b) => core::ptr::eq(b.ring, ring),
        }
    }
}

/// A selection handed to another ring's batch: dropped, so its buffers go back to their own
/// ring.
#[cold]
#[inline(never)]
fn other_ring(sel: Selection<'_>) {
    drop(sel);
}

/// One whole provided buffer, owned by the application until dropped or recycled.
/// Named by a completion with `IORING_CQE_F_BUFFER` (Linux 5.7; buffer rings 5.19).
#[derive(Debug)]
pub struct Buf<'a> {
    ring: &'a BufRing,
    /// A `u16` in a whole word: the guard has no padding, so moving a `Selection` copies only
    /// whole fields (a copy that read a 2-byte field with its padding as one word would wait
    /// for the 2-byte store to reach the cache, behind every ring store before it).
    bid: u32,
    len: u32,
}

impl<'a> Buf<'a> {
    #[inline]
    pub(crate) fn new(ring: &'a BufRing, bid: u16, len: u32) -> Self {
        Buf { ring, bid: bid as u32, len }
    }

    /// The buffer id.
    #[inline]
    pub fn bid(&self) -> u16 {
        self.bid as u16
    }

    /// Bytes the kernel wrote.
    #[inline]
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether the kernel wrote nothing.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The bytes the kernel wrote.
    #[inline]
    pub fn data(&self) -> &[u8] {
        // SAFETY: the buffer is out of the ring (held by this guard, the only one for `bid`),
        // so the kernel does not write it; `len <= buf_size` was checked at selection.
        unsafe { core::slice::from_raw_parts(self.ring.buf_ptr(self.bid as u16), self.len as usize) }
    }

    /// The bytes the kernel wrote, mutably.
    #[inline]
    pub fn data_mut(&mut self) -> &mut [u8] {
        // SAFETY: as for `data`, and `&mut self` makes this the only view.
        unsafe { core::slice::from_raw_parts_mut(self.ring.buf_ptr(self.bid as u16), self.len as usize) }
    }

    /// The whole buffer (`buf_size` bytes), for reuse as scratch space before recycling.
    #[inline]
    pub fn whole_mut(&mut self) -> &mut [u8] {
        // SAFETY: as for `data_mut`; the pool holds `buf_size` bytes for this bid.
        unsafe { core::slice::from_raw_parts_mut(self.ring.buf_ptr(self.bid as u16), self.ring.buf_size() as usize) }
    }

    /// Returns the buffer to the ring now (the same as dropping it).
    /// As `io_uring_buf_ring_add(3)` + `io_uring_buf_ring_advance(3)`.
    #[inline]
    pub fn recycle(self) {}

    /// Keeps the buffer past the borrow of the ring; return it later with
    /// [`BufRing::recycle_held`] or, many at once, [`BufRing::recycle_held_batch`]. A
    /// [`HeldBuf`] that is dropped leaks its buffer (the ring has one fewer), it never frees
    /// memory the kernel could use.
    #[inline]
    pub fn keep(self) -> HeldBuf {
        let me = ManuallyDrop::new(self);
        HeldBuf { ring: me.ring.id(), bgid: me.ring.bgid(), bid: me.bid as u16, len: me.len }
    }
}

impl Drop for Buf<'_> {
    #[inline]
    fn drop(&mut self) {
        self.ring.recycle_bid(self.bid as u16);
    }
}

/// A buffer kept by the application without borrowing its ring ([`Buf::keep`]).
///
/// It is the proof that the application holds the buffer: it is made only from a [`Buf`], is
/// neither `Clone` nor `Copy`, and is consumed when the buffer goes back to its ring, so a ring
/// takes back only buffers it handed out, each once.
#[derive(Debug, PartialEq, Eq)]
pub struct HeldBuf {
    ring: u64,
    bgid: u16,
    bid: u16,
    len: u32,
}

impl HeldBuf {
    /// A token for buffer `bid` of ring `ring` (crate-internal: made once per hand-out).
    #[inline]
    pub(crate) fn new(ring: u64, bgid: u16, bid: u16, len: u32) -> Self {
        HeldBuf { ring, bgid, bid, len }
    }

    /// The id of the ring that handed the buffer out.
    #[inline(always)]
    pub(crate) fn ring_id(&self) -> u64 {
        self.ring
    }

    /// The buffer id.
    #[inline]
    pub fn bid(&self) -> u16 {
        self.bid
    }

    /// The group it belongs to.
    #[inline]
    pub fn bgid(&self) -> u16 {
        self.bgid
    }

    /// Bytes the kernel wrote.
    #[inline]
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether the kernel wrote nothing.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl BufRing {
    /// The bytes of a kept buffer.
    #[inline]
    ///
    /// One compare: a [`HeldBuf`] of this ring is the proof that the application holds the
    /// buffer (as in [`recycle_held_batch`](Self::recycle_held_batch)), so only its ring id is
    /// checked; a buffer of another ring is an error.
    pub fn held_data(&self, held: &HeldBuf) -> crate::Result<&[u8]> {
        if held.ring_id() != self.id() {
            return Err(foreign_held());
        }
        debug_assert!(self.owns(held));
        // SAFETY: a `HeldBuf` naming this ring was made by `Buf::keep` from a buffer this ring
        // handed out (`bid < entries`, `len <= buf_size`, checked at selection) and is consumed
        // when the buffer goes back, so the buffer is out of the ring while `held` exists.
        Ok(unsafe { core::slice::from_raw_parts(self.buf_ptr(held.bid), held.len as usize) })
    }

    /// Returns a kept buffer to the ring (one slot write and one tail store). A buffer of
    /// another ring is refused and handed back in the error, to be returned to its own ring.
    /// As `io_uring_buf_ring_add(3)` + `io_uring_buf_ring_advance(3)` (buffer rings, Linux 5.19).
    pub fn recycle_held(&self, held: HeldBuf) -> Result<(), Rejected> {
        if let Err(error) = self.check_held(&held) {
            return Err(Rejected { buf: held, error });
        }
        self.recycle_bid(held.bid);
        Ok(())
    }

    #[inline]
    fn check_held(&self, held: &HeldBuf) -> crate::Result<()> {
        if !self.owns(held) {
            return Err(foreign_held());
        }
        Ok(())
    }
}

/// A kept buffer was given to a ring that did not hand it out.
#[inline(always)]
fn foreign_held() -> crate::Error {
    crate::buf::ring::cold();
    crate::Error::InvalidArgument { what: "held buffer", reason: "belongs to another buffer ring" }
}

/// A kept buffer a ring refused to take back ([`BufRing::recycle_held`]: it belongs to another
/// ring), handed back with the reason so that it can still be returned to its own ring.
///
/// Converting it into an [`Error`](crate::Error) (for example with `?`) drops the buffer,
/// which is then lost to its ring (never freed while the kernel could use it).
#[derive(Debug)]
pub struct Rejected {
    buf: HeldBuf,
    error: crate::Error,
}

impl Rejected {
    /// A refusal of `buf` for `error`.
    pub(crate) fn new(buf: HeldBuf, error: crate::Error) -> Self {
        Rejected { buf, error }
    }

    /// The refused buffer.
    pub fn buf(&self) -> &HeldBuf {
        &self.buf
    }

    /// Why it was refused.
    pub fn error(&self) -> &crate::Error {
        &self.error
    }

    /// Takes the refused buffer back (to return it to its own ring).
    pub fn into_buf(self) -> HeldBuf {
        self.buf
    }

    /// The refused buffer and the reason.
    pub fn into_parts(self) -> (HeldBuf, crate::Error) {
        (self.buf, self.error)
    }
}

impl core::fmt::Display for Rejected {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "buffer {} of group {} refused: {}", self.buf.bid, self.buf.bgid, self.error)
    }
}

impl std::error::Error for Rejected {}

impl From<Rejected> for crate::Error {
    /// The reason; the refused buffer is dropped (lost to its ring).
    fn from(r: Rejected) -> Self {
        r.error
    }
}

/// A piece of an incrementally consumed buffer: `len` bytes at `offset` in buffer `bid`.
///
/// If [`more`](IncSlice::more) is set (`IORING_CQE_F_BUF_MORE`), the buffer stays with the
/// kernel, which will fill it further. Otherwise this was the buffer's last piece: the buffer
/// returns to the ring when this slice and every earlier slice of it have been dropped, in any
/// order.
/// Incremental rings: `IOU_PBUF_RING_INC`, Linux 6.12.
#[derive(Debug)]
pub struct IncSlice<'a> {
    ring: &'a BufRing,
    /// A `u16` in a whole word, as in [`Buf`]: the variants of a `Selection` then have no
    /// 2-byte field for a move to copy.
    bid: u32,
    offset: u32,
    len: u32,
    more: bool,
}

impl<'a> IncSlice<'a> {
    #[inline]
    pub(crate) fn opened(ring: &'a BufRing, bid: u16, offset: u32, len: u32, more: bool) -> Self {
        // The ring counted this view (`inc_view_opened`) when it selected the piece.
        IncSlice { ring, bid: bid as u32, offset, len, more }
    }

    /// The buffer id.
    #[inline]
    pub fn bid(&self) -> u16 {
        self.bid as u16
    }

    /// Where this piece starts in the buffer.
    #[inline]
    pub fn offset(&self) -> u32 {
        self.offset
    }

    /// Bytes in this piece.
    #[inline]
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether the piece is empty.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// `IORING_CQE_F_BUF_MORE` (Linux 6.12): the buffer stays with the kernel for more completions.
    #[inline]
    pub fn more(&self) -> bool {
        self.more
    }

    /// The bytes of this piece.
    #[inline]
    pub fn data(&self) -> &[u8] {
        // SAFETY: the kernel finished writing these bytes before posting the completion and
        // never writes this range again (it continues past it); `offset + len <= buf_size`
        // was checked at selection.
        unsafe {
            core::slice::from_raw_parts(self.ring.buf_ptr(self.bid()).add(self.offset as usize), self.len as usize)
        }
    }

    /// The bytes of this piece, mutably.
    #[inline]
    pub fn data_mut(&mut self) -> &mut [u8] {
        // SAFETY: as for `data`; `&mut self` makes this the only view of the range.
        unsafe {
            core::slice::from_raw_parts_mut(self.ring.buf_ptr(self.bid()).add(self.offset as usize), self.len as usize)
        }
    }
}

impl Drop for IncSlice<'_> {
    // Out of line: keeps the drop of a `Selection` small enough to inline for whole buffers.
    #[inline(never)]
    fn drop(&mut self) {
        // The buffer goes back only once its last piece has arrived and no piece is still
        // viewed: earlier pieces may outlive the last one.
        if self.ring.inc_view_closed(self.bid(), !self.more) {
            self.ring.recycle_bid(self.bid());
        }
    }
}

/// The buffers of a bundle completion, contiguous in ring order; their lengths add up to the
/// completion's result. Dropping the bundle returns every buffer with one tail store.
/// Bundles: `IORING_RECVSEND_BUNDLE`, Linux 6.10.
#[derive(Debug)]
pub struct Bundle<'a> {
    ring: &'a BufRing,
    first: u16,
    count: u16,
    res: u32,
}

impl<'a> Bundle<'a> {
    #[inline]
    pub(crate) fn new(ring: &'a BufRing, first: u16, count: u16, res: u32) -> Self {
        Bundle { ring, first, count, res }
    }

    /// The first buffer's id (the completion's).
    #[inline]
    pub fn first_bid(&self) -> u16 {
        self.first
    }

    /// How many buffers.
    #[inline]
    pub fn count(&self) -> usize {
        self.count as usize
    }

    /// Total bytes.
    #[inline]
    pub fn len(&self) -> usize {
        self.res as usize
    }

    /// Whether no bytes were written.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.res == 0
    }

    /// The buffer ids, in order.
    #[inline]
    pub fn bids(&self) -> impl Iterator<Item = u16> + '_ {
        let ring = self.ring;
        let mut next = self.first;
        (0..self.count).map(move |_| {
            let bid = next;
            next = ring.succ_of(bid);
            bid
        })
    }

    /// The written bytes, buffer by buffer, in order.
    #[inline]
    pub fn slices(&self) -> impl Iterator<Item = &[u8]> + '_ {
        // The geometry copied out, so the walk does not reload it from the ring per buffer.
        let (base, size) = (self.ring.base(), self.ring.buf_size());
        let ring = self.ring;
        let mut left = self.res;
        let mut next = self.first;
        (0..self.count).map(move |_| {
            let bid = next;
            next = ring.succ_of(bid);
            let n = left.min(ring.len_of(bid));
            left -= n;
            // SAFETY: every buffer of the bundle is held by this guard (out of the ring), so
            // `bid < entries` and the pool holds `buf_size >= n` bytes at `base + bid * size`.
            unsafe { core::slice::from_raw_parts(base.add(bid as usize * size as usize), n as usize) }
        })
    }

    /// Copies the bundle's bytes into one vector (a convenience; allocates).
    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.res as usize);
        for s in self.slices() {
            v.extend_from_slice(s);
        }
        v
    }
}

impl Drop for Bundle<'_> {
    // Out of line, as for `IncSlice`.
    #[inline(never)]
    fn drop(&mut self) {
        self.ring.recycle_chain(self.first, self.count);
    }
}

/// Turning completions into selections.
impl BufRing {
    /// Turns a completion into a typed buffer selection: no buffer, one buffer, or an
    /// incremental slice. Use [`select_bundle`](Self::select_bundle) for completions of bundle
    /// operations. Every completion that names a buffer must be selected exactly once, or its
    /// buffer is lost to the ring.
    ///
    /// The safe way is [`Completion::select`](crate::owned::Completion::select) on a completion
    /// of the owned layer, which knows the completion is the kernel's own and that it selects
    /// once. A [`Cqe`] is a plain, copyable value that anyone can make ([`Cqe::new`]), replay,
    /// or have posted into a ring (`IORING_OP_MSG_RING` chooses `user_data`, result and flags),
    /// so this function cannot tell a genuine buffer selection from a forged one, and a forged
    /// one would hand out a buffer the kernel may be writing.
    ///
    /// For a whole buffer: one compare of the buffer id with the ring size, one of the length
    /// with the buffer size (both on one branch), then the held bit checked and set in one
    /// word. The error paths are marked cold.
    /// Buffer rings: Linux 5.19 (`IORING_CQE_F_BUFFER`); incremental slices: Linux 6.12
    /// (`IORING_CQE_F_BUF_MORE`).
    ///
    /// # Safety
    /// `cqe` must be a completion the kernel posted for a request that selected a buffer from
    /// this buffer ring's group (`IOSQE_BUFFER_SELECT` with this group id, on the ring this
    /// buffer ring is registered on, while it was registered), read from that ring's CQ, and
    /// this must be the only time that completion is selected (through this function or
    /// [`select_bundle`](Self::select_bundle)). Completions posted by `IORING_OP_MSG_RING`, by
    /// a poll update that relabels a request, or made up with [`Cqe::new`] do not qualify.
    /// Then the kernel has taken the buffer out of the ring and will not write it until it is
    /// returned, which the returned guard does.
    ///
    /// Safe code cannot hand it a replayed or made-up completion (issue #14):
    ///
    /// ```compile_fail,E0133
    /// # let mut ring = uring::Ring::new(8).unwrap();
    /// let br = uring::buf::BufRing::builder(1, 8, 64).build(&mut ring).unwrap();
    /// let forged = uring::Cqe::new(0, 4, uring::uapi::IORING_CQE_F_BUFFER);
    /// let sel = br.select(&forged); // error: unsafe
    /// ```
    #[inline]
    pub unsafe fn select(&self, cqe: &Cqe) -> Result<Selection<'_>> {
        let Some(bid) = cqe.buffer_id() else {
            return Ok(Selection::None);
        };
        if self.incremental {
            return self.select_incremental(cqe, bid);
        }
        let len = self.take_whole(bid, cqe)?;
        Ok(Selection::Buffer(Buf::new(self, bid, len)))
    }

    /// The checks and the bookkeeping of selecting a whole buffer `bid` for `cqe` (shared by
    /// [`select`](Self::select) and [`RecycleBatch::select_lent`](crate::buf::RecycleBatch::select_lent)):
    /// the id and the length must fit the ring, the buffer must not be held already; it is
    /// then marked held. Returns the length the completion wrote.
    #[inline(always)]
    pub(crate) fn take_whole(&self, bid: u16, cqe: &Cqe) -> Result<u32> {
        self.whole().take(self, bid, cqe)
    }

    /// The ring's fields that selecting a whole buffer reads, copied out.
    #[inline(always)]
    pub(crate) fn whole(&self) -> Whole<'_> {
        Whole {
            entries: self.entries,
            buf_size: self.buf_size,
            max_len: self.buf_size.min(i32::MAX as u32),
            base: self.base,
            info: &self.bid_info,
        }
    }

    /// Why a whole-buffer completion was refused: the buffer id or the length.
    #[inline(always)]
    pub(super) fn select_error(&self, bid: u16) -> Error {
        cold();
        if bid as u32 >= self.entries {
            bid_out_of_range()
        } else {
            Error::InvalidArgument { what: "completion length", reason: "larger than a buffer" }
        }
    }

    /// [`select`](Self::select) on an incremental ring (out of line: the whole-buffer path stays
    /// small).
    #[inline(never)]
    fn select_incremental(&self, cqe: &Cqe, bid: u16) -> Result<Selection<'_>> {
        if bid as u32 >= self.entries {
            return Err(bid_out_of_range());
        }
        self.select_piece(cqe, bid, self.inc_off[bid as usize].get(), true)
    }

    /// An owned completion of an incremental ring, stamped when it was reaped with its piece's
    /// offset and its buffer's generation ([`IncShared`](crate::buf::ring::IncShared)): refused
    /// if the buffer went back to the ring since (the piece is stale).
    ///
    /// # Safety
    /// As for [`select`](Self::select), and `stamp` is what the owned layer read for this
    /// completion when it reaped it.
    pub(crate) unsafe fn select_stamped(&self, cqe: &Cqe, stamp: Option<(u32, u32)>) -> Result<Selection<'_>> {
        let Some(bid) = cqe.buffer_id() else {
            return Ok(Selection::None);
        };
        let (Some((off, gen)), Some(shared)) = (stamp, &self.inc_shared) else {
            return Err(bid_out_of_range());
        };
        if shared.gen.get(bid as usize).map(|g| g.load(core::sync::atomic::Ordering::Relaxed)) != Some(gen) {
            return Err(Error::InvalidArgument {
                what: "completion",
                reason: "a piece of an incremental buffer that went back to the ring since (select pieces before dropping the buffer's last piece)",
            });
        }
        // The generation says the buffer has not gone back since this piece was reaped: its
        // other pieces may be selected already, the last one too (the buffer then waits for
        // every view to close before it goes back).
        self.select_piece(cqe, bid, off, false)
    }

    /// The piece of incremental buffer `bid` (below `entries`) at offset `off` that `cqe` names.
    /// `in_order`: pieces arrive here in the kernel's order, so a buffer whose last piece was
    /// selected has no more pieces to give (the raw path's check).
    fn select_piece(&self, cqe: &Cqe, bid: u16, off: u32, in_order: bool) -> Result<Selection<'_>> {
        let len = cqe.raw_result().max(0) as u32;
        if off.checked_add(len).is_none_or(|end| end > self.buf_size) {
            return Err(Error::InvalidArgument { what: "completion length", reason: "past the end of the buffer" });
        }
        let more = cqe.raw_flags() & IORING_CQE_F_BUF_MORE != 0;
        let cell = self.info(bid);
        let v = cell.get();
        if in_order && v & HELD != 0 {
            return Err(already_held());
        }
        if more {
            self.inc_off[bid as usize].set(off + len);
        } else {
            cell.set(v | HELD);
        }
        self.inc_view_opened(bid);
        Ok(Selection::Incremental(IncSlice::opened(self, bid, off, len, more)))
    }

    /// Turns the completion of a bundle operation (`IORING_RECVSEND_BUNDLE`, Linux 6.10) into its buffers:
    /// contiguous in ring order from the completion's buffer id, their lengths adding up to the
    /// result.
    ///
    /// The buffers are taken in one walk along the ring-order links. If one of them is already
    /// held (also: reached twice by this walk), or the walk would go past the buffer added last
    /// (beyond the tail, where no link is known yet), the ones taken so far are given back, the
    /// ring is as before, and the completion is refused with a typed error.
    ///
    /// The safe way is [`Completion::select`](crate::owned::Completion::select).
    ///
    /// # Safety
    /// As for [`select`](Self::select): `cqe` is the kernel's completion of a bundle request
    /// that selected from this buffer ring, read from the CQ of the ring it is registered on,
    /// selected this once.
    #[inline]
    pub unsafe fn select_bundle(&self, cqe: &Cqe) -> Result<Selection<'_>> {
        let Some(bid) = cqe.buffer_id() else {
            return Ok(Selection::None);
        };
        if self.send {
            return self.select_sent(bid, cqe.raw_result());
        }
        let res = cqe.raw_result().max(0) as u32;
        // `res <= i32::MAX`, `buf_size != 0`: no overflow, and in u64 no overflow of the sum.
        let count = if self.size_shift != u32::MAX {
            ((res as u64 + self.buf_size as u64 - 1) >> self.size_shift) as u32
        } else {
            res.div_ceil(self.buf_size)
        }
        .max(1);
        if self.incremental | (bid as u32 >= self.entries) | (count > self.entries) {
            return Err(self.bundle_error(bid));
        }
        self.take_bundle(bid, count, res)
    }

    /// Takes the `count` buffers of a bundle from `bid` along the ring-order links (all must
    /// be in the ring, and the walk may end at, never pass, the buffer added last).
    #[inline]
    fn take_bundle(&self, bid: u16, count: u32, res: u32) -> Result<Selection<'_>> {
        // The buffer in the slot before the tail: a bundle may end there, never pass it (its
        // link is not yet known, and changes when a buffer is added).
        let last = self.last_added.get();
        let mut b = bid;
        for k in 0..count {
            let cell = self.info(b);
            let v = cell.get();
            if (v & HELD != 0) | ((b == last) & (k + 1 < count)) {
                self.untake(bid, k);
                return Err(Error::InvalidArgument {
                    what: "bundle",
                    reason: "names a buffer already handed out or not in the ring",
                });
            }
            cell.set(v | HELD);
            // Every link holds a bid below `entries` (links are only ever set to added bids).
            b = (v & SUCC) as u16;
        }
        Ok(Selection::Bundle(Bundle::new(self, bid, count as u16, res)))
    }

    /// [`select_bundle`](Self::select_bundle) on a send ring: the buffers the kernel took for
    /// `res` bytes, counted by their queued lengths (the last may have gone out in part). A
    /// failed send (`res < 0`, e.g. `EPIPE`) may still have taken several buffers while naming
    /// only the first: their number is the kernel's head (`IORING_REGISTER_PBUF_STATUS`, Linux
    /// 6.8) minus the buffers handed back so far (one send bundle in flight per send ring).
    #[cold]
    fn select_sent(&self, bid: u16, raw: i32) -> Result<Selection<'_>> {
        if bid as u32 >= self.entries {
            return Err(bid_out_of_range());
        }
        let last = self.last_added.get();
        let res = raw.max(0) as u32;
        let taken = if raw < 0 { self.head().ok().map(|h| h.wrapping_sub(self.sent_head.get()) as u32) } else { None };
        let (mut b, mut sum, mut count) = (bid, 0u64, 0u32);
        loop {
            count += 1;
            sum += self.lens[b as usize].get() as u64;
            let enough = match taken {
                Some(n) => count >= n,
                None => sum >= res as u64,
            };
            if enough || b == last || count >= self.entries {
                break;
            }
            b = self.succ_of(b);
        }
        if sum < res as u64 {
            return Err(Error::InvalidArgument { what: "bundle length", reason: "more than the queued buffers hold" });
        }
        let sel = self.take_bundle(bid, count, res)?;
        self.sent_head.set(self.sent_head.get().wrapping_add(count as u16));
        Ok(sel)
    }

    /// Why a bundle completion was refused before any buffer was looked at.
    #[inline(always)]
    fn bundle_error(&self, bid: u16) -> Error {
        cold();
        if self.incremental {
            Error::Unsupported { what: "bundles on incremental buffer rings (not yet in this crate)" }
        } else if bid as u32 >= self.entries {
            bid_out_of_range()
        } else {
            Error::InvalidArgument { what: "bundle length", reason: "more than the ring holds" }
        }
    }

    /// Gives back the first `k` buffers a refused bundle walk took from `bid` on (they are
    /// distinct: the walk stops at the first buffer already held).
    #[cold]
    #[inline(never)]
    fn untake(&self, bid: u16, k: u32) {
        let mut b = bid;
        for _ in 0..k {
            let cell = self.info(b);
            cell.set(cell.get() & !HELD);
            b = (cell.get() & SUCC) as u16;
        }
    }
}

/// What selecting a whole buffer reads of its ring ([`BufRing::whole`]), copied out: a
/// caller that selects many (a [`RecycleBatch`](crate::buf::RecycleBatch)) keeps the copy in
/// registers, where the ring's own fields would be read again after each bookkeeping store
/// (a `Cell` store may alias them as far as the compiler knows).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Whole<'r> {
    entries: u32,
    buf_size: u32,
    /// The longest result a completion may report: `buf_size`, at most `i32::MAX` (so that a
    /// negative result, read as a `u32`, is longer).
    max_len: u32,
    base: *mut u8,
    /// `entries + 1` cells (`BufRing::bid_info`).
    info: &'r [core::cell::Cell<u32>],
}

impl Whole<'_> {
    /// The checks and the bookkeeping of selecting whole buffer `bid` of `ring` (whose fields
    /// these are) for `cqe`: the id and the length must fit the ring, the buffer must not be
    /// held already; it is then marked held. Returns the length the completion wrote.
    #[inline(always)]
    pub(crate) fn take(&self, ring: &BufRing, bid: u16, cqe: &Cqe) -> Result<u32> {
        // A negative result (the request failed after the kernel took the buffer) names the
        // buffer with no bytes. Clamped here rather than on the cold path as in `take_or`: in
        // `BufRing::select` that keeps the function small enough to inline.
        let len = cqe.raw_result().max(0) as u32;
        // `|`, not `||`: one branch for both checks on the hot path.
        if (bid as u32 >= self.entries) | (len > self.buf_size) {
            return Err(ring.select_error(bid));
        }
        self.mark_held(bid)?;
        Ok(len)
    }

    /// Marks buffer `bid` (below `entries`) held, refused if it is held already.
    #[inline(always)]
    fn mark_held(&self, bid: u16) -> Result<()> {
        // SAFETY: `bid < entries` (the caller's check), and `info` has `entries + 1` cells.
        let cell = unsafe { self.info.get_unchecked(bid as usize) };
        let v = cell.get();
        if v & HELD != 0 {
            return Err(already_held());
        }
        cell.set(v | HELD);
        Ok(())
    }

    /// [`take`](Self::take) with the error of a refused id or length made by `refused` (on the
    /// cold path).
    #[inline(always)]
    pub(crate) fn take_or(&self, bid: u16, cqe: &Cqe, refused: impl FnOnce() -> Error) -> Result<u32> {
        let mut len = cqe.raw_result() as u32;
        // `|`, not `||`: one branch for both checks on the hot path. A negative result fails
        // the length check too (as a `u32` it is above `max_len`).
        if (bid as u32 >= self.entries) | (len > self.max_len) {
            len = self.empty_or_refused(bid, len, refused)?;
        }
        self.mark_held(bid)?;
        Ok(len)
    }

    /// [`take_or`](Self::take_or) off the hot path: a negative result `len` (read as a `u32`;
    /// the request failed after the kernel took buffer `bid`) names the buffer with no bytes,
    /// anything else is refused.
    #[cold]
    #[inline(never)]
    fn empty_or_refused(&self, bid: u16, len: u32, refused: impl FnOnce() -> Error) -> Result<u32> {
        if (bid as u32) < self.entries && (len as i32) < 0 {
            Ok(0)
        } else {
            Err(refused())
        }
    }

    /// This copy with no buffer id in range: [`take`](Self::take) then refuses every
    /// completion (the check a batch that may not lend folds into the id's range check).
    #[inline(always)]
    pub(crate) fn refusing_all(self) -> Self {
        Whole { entries: 0, ..self }
    }

    /// The first byte of buffer `bid` (below `entries`).
    #[inline(always)]
    pub(crate) fn buf_ptr(&self, bid: u16) -> *mut u8 {
        debug_assert!((bid as u32) < self.entries);
        // SAFETY: `bid < entries`, and the pool holds `entries * buf_size` bytes.
        unsafe { self.base.add(bid as usize * self.buf_size as usize) }
    }
}
