//! Typed buffer selections: what a completion says about the provided buffer it used, as a
//! guard that gives the bytes and returns the buffer to its ring when dropped.

use core::mem::ManuallyDrop;

use crate::buf::ring::BufRing;

/// The provided buffer(s) a completion used, from [`BufRing::select`] or
/// [`BufRing::select_bundle`].
///
/// Dropping a selection returns its buffers to the ring (a partially consumed incremental buffer
/// stays with the kernel). Buffers can be returned in any order.
// An explicit tag byte: matching (in `data`, in the drop glue) is one compare instead of
// decoding a niche in `IncSlice::more`.
#[derive(Debug)]
#[repr(u8)]
pub enum Selection<'a> {
    /// The completion used no provided buffer (`IORING_CQE_F_BUFFER` clear).
    None,
    /// One whole buffer.
    Buffer(Buf<'a>),
    /// A piece of an incrementally consumed buffer (`IOU_PBUF_RING_INC`).
    Incremental(IncSlice<'a>),
    /// Several buffers of a bundle operation, contiguous in ring order.
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
    /// (for batch recycling), consuming the selection.
    #[inline]
    pub(crate) fn release_into(self, mut f: impl FnMut(u16)) {
        match self {
            Selection::None => {}
            Selection::Buffer(b) => f(ManuallyDrop::new(b).bid),
            Selection::Incremental(s) => {
                let s = ManuallyDrop::new(s);
                if s.ring.inc_view_closed(s.bid, !s.more) {
                    f(s.bid);
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

/// One whole provided buffer, owned by the application until dropped or recycled.
#[derive(Debug)]
pub struct Buf<'a> {
    ring: &'a BufRing,
    bid: u16,
    len: u32,
}

impl<'a> Buf<'a> {
    #[inline]
    pub(crate) fn new(ring: &'a BufRing, bid: u16, len: u32) -> Self {
        Buf { ring, bid, len }
    }

    /// The buffer id.
    #[inline]
    pub fn bid(&self) -> u16 {
        self.bid
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
        unsafe { core::slice::from_raw_parts(self.ring.buf_ptr(self.bid), self.len as usize) }
    }

    /// The bytes the kernel wrote, mutably.
    #[inline]
    pub fn data_mut(&mut self) -> &mut [u8] {
        // SAFETY: as for `data`, and `&mut self` makes this the only view.
        unsafe { core::slice::from_raw_parts_mut(self.ring.buf_ptr(self.bid), self.len as usize) }
    }

    /// The whole buffer (`buf_size` bytes), for reuse as scratch space before recycling.
    #[inline]
    pub fn whole_mut(&mut self) -> &mut [u8] {
        // SAFETY: as for `data_mut`; the pool holds `buf_size` bytes for this bid.
        unsafe { core::slice::from_raw_parts_mut(self.ring.buf_ptr(self.bid), self.ring.buf_size() as usize) }
    }

    /// Returns the buffer to the ring now (the same as dropping it).
    #[inline]
    pub fn recycle(self) {}

    /// Keeps the buffer past the borrow of the ring; return it later with
    /// [`BufRing::recycle_held`] or, many at once, [`BufRing::recycle_held_batch`]. A
    /// [`HeldBuf`] that is dropped leaks its buffer (the ring has one fewer), it never frees
    /// memory the kernel could use.
    #[inline]
    pub fn keep(self) -> HeldBuf {
        let me = ManuallyDrop::new(self);
        HeldBuf { ring: me.ring.id(), bgid: me.ring.bgid(), bid: me.bid, len: me.len }
    }
}

impl Drop for Buf<'_> {
    #[inline]
    fn drop(&mut self) {
        self.ring.recycle_bid(self.bid);
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
#[derive(Debug)]
pub struct IncSlice<'a> {
    ring: &'a BufRing,
    bid: u16,
    offset: u32,
    len: u32,
    more: bool,
}

impl<'a> IncSlice<'a> {
    #[inline]
    pub(crate) fn opened(ring: &'a BufRing, bid: u16, offset: u32, len: u32, more: bool) -> Self {
        // The ring counted this view (`inc_view_opened`) when it selected the piece.
        IncSlice { ring, bid, offset, len, more }
    }

    /// The buffer id.
    #[inline]
    pub fn bid(&self) -> u16 {
        self.bid
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

    /// `IORING_CQE_F_BUF_MORE`: the buffer stays with the kernel for more completions.
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
        unsafe { core::slice::from_raw_parts(self.ring.buf_ptr(self.bid).add(self.offset as usize), self.len as usize) }
    }

    /// The bytes of this piece, mutably.
    #[inline]
    pub fn data_mut(&mut self) -> &mut [u8] {
        // SAFETY: as for `data`; `&mut self` makes this the only view of the range.
        unsafe {
            core::slice::from_raw_parts_mut(self.ring.buf_ptr(self.bid).add(self.offset as usize), self.len as usize)
        }
    }
}

impl Drop for IncSlice<'_> {
    // Out of line: keeps the drop of a `Selection` small enough to inline for whole buffers.
    #[inline(never)]
    fn drop(&mut self) {
        // The buffer goes back only once its last piece has arrived and no piece is still
        // viewed: earlier pieces may outlive the last one.
        if self.ring.inc_view_closed(self.bid, !self.more) {
            self.ring.recycle_bid(self.bid);
        }
    }
}

/// The buffers of a bundle completion, contiguous in ring order; their lengths add up to the
/// completion's result. Dropping the bundle returns every buffer with one tail store.
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
