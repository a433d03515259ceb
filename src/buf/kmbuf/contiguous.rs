//! [`ContiguousRing`]: the kmbuf layout over an app-managed buffer ring, on every kernel since
//! 5.19 (re-exported from [`buf::kmbuf`](super)).

use crate::buf::BufRing;
use crate::op::BufferGroup;
use crate::{Result, Ring};

/// The kmbuf layout on every kernel since 5.19: an app-managed provided-buffer ring whose
/// buffers are one region, buffer `bid` at byte `bid * buf_size`, so code written against the
/// kmbuf layout runs without kmbuf. Here the application recycles buffers (through the inner
/// [`BufRing`]), and reads them safely through owned completions: on an
/// [`OwnedRing`](crate::owned::OwnedRing), an owned operation that selects from
/// [`ring`](Self::ring) completes, and
/// [`Completion::select`](crate::owned::Completion::select)`(cr.ring())` gives a guard for the
/// buffer it names (bytes at `bid * buf_size` of [`region`](Self::region)), once, which
/// returns the buffer to the ring when dropped.
/// Buffer rings: Linux 5.19; `IOU_PBUF_RING_MMAP` rings: Linux 6.4.
///
/// ```
/// # std::thread::spawn(|| { // a watchdog: a hang fails fast, naming the example
/// #     std::thread::sleep(std::time::Duration::from_secs(60));
/// #     eprintln!("HANG in the ContiguousRing example: no completion after 60 s");
/// #     std::process::abort();
/// # });
/// use std::io::Write;
/// use uring::buf::{kmbuf::ContiguousRing, BufRing};
/// use uring::owned::{OwnedRing, RecvMultishot};
///
/// let mut ring = OwnedRing::new(8)?;
/// let cr = ContiguousRing::new(ring.buf_ring(BufRing::builder(1, 4, 4096).kernel_mapped())?);
/// let (mut a, b) = std::os::unix::net::UnixStream::pair()?;
/// ring.push(RecvMultishot::new(b, cr.ring()))?;
/// a.write_all(b"hello")?;
/// let mut c = ring.wait()?;
/// let sel = c.select(cr.ring())?;
/// assert_eq!(sel.data(), Some(&b"hello"[..]));
/// let (base, _) = cr.region();
/// let at = base as usize + sel.bid().unwrap() as usize * cr.buf_size() as usize;
/// assert_eq!(sel.data().unwrap().as_ptr() as usize, at, "bid * buf_size");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct ContiguousRing {
    inner: BufRing,
}

impl ContiguousRing {
    /// Registers an `IOU_PBUF_RING_MMAP` (Linux 6.4) ring of `entries` buffers of `buf_size` bytes in one
    /// crate-allocated region on a raw ring (reading then goes through the raw layer: the
    /// `unsafe` [`BufRing::select`] or [`buffer`](Self::buffer); on an
    /// [`OwnedRing`](crate::owned::OwnedRing) use [`new`](Self::new)).
    pub fn register(ring: &mut Ring, bgid: u16, entries: u32, buf_size: u32) -> Result<Self> {
        let inner = BufRing::builder(bgid, entries, buf_size).kernel_mapped().build(ring)?;
        Ok(ContiguousRing { inner })
    }

    /// The kmbuf-layout view of a registered buffer ring: every [`BufRing`]'s buffers are one
    /// region, buffer `bid` at byte `bid * buf_size` (build it with
    /// [`kernel_mapped`](crate::buf::BufRingBuilder::kernel_mapped) for the kmbuf-like
    /// registration, `IOU_PBUF_RING_MMAP`). For rings of an
    /// [`OwnedRing`](crate::owned::OwnedRing)
    /// ([`buf_ring`](crate::owned::OwnedRing::buf_ring)), whose completions read it safely.
    /// Linux 5.19 (`IOU_PBUF_RING_MMAP`: Linux 6.4).
    pub fn new(ring: BufRing) -> Self {
        ContiguousRing { inner: ring }
    }

    /// The buffer ring (for owned operations, selection and recycling).
    pub fn ring(&self) -> &BufRing {
        &self.inner
    }

    /// The buffer size.
    pub fn buf_size(&self) -> u32 {
        self.inner.buf_size()
    }

    /// The number of buffers.
    pub fn entries(&self) -> u32 {
        self.inner.entries()
    }

    /// Buffer `bid` at byte `bid * buf_size` of the region (`None` if out of range, checked
    /// before anything is read). O(1).
    ///
    /// `unsafe` because the buffer may be the kernel's: a buffer in the ring can be selected
    /// and written by a request at any time. The safe way to read a buffer a completion named
    /// is an owned completion's [`select`](crate::owned::Completion::select) on
    /// [`ring`](Self::ring) (see the type's docs).
    /// Buffer rings: Linux 5.19.
    ///
    /// # Safety
    /// Nothing may write buffer `bid` while the returned slice lives, and no `&mut` to it may
    /// exist then (such as one from a selection guard's `data_mut`). The kernel writes a buffer
    /// of this app-managed ring from the moment a request selects it from the ring until the
    /// completion that names it. So for the whole life of the slice the buffer must be *yours*,
    /// which holds in either of these cases:
    /// - **A completion gave it to you and it has not gone back into the ring.** A genuine
    ///   completion, posted by the kernel on the ring this group is registered with for a
    ///   request that selected from this group, named `bid` (`IORING_CQE_F_BUFFER` with
    ///   `bid << 16`); a completion built with [`Cqe::new`](crate::Cqe::new) or posted by an
    ///   `IORING_OP_MSG_RING` message proves nothing. The buffer goes back into the ring when
    ///   the [`Buf`](crate::buf::Buf) guard for it is dropped or recycled, or when its
    ///   [`HeldBuf`](crate::buf::HeldBuf) is recycled
    ///   ([`recycle_held`](BufRing::recycle_held),
    ///   [`recycle_held_batch`](BufRing::recycle_held_batch)): none of this may happen before
    ///   the slice is dropped.
    /// - **No request can select at all.** No request that selects from this group is in
    ///   flight on the ring (a multishot request whose last completion carried
    ///   `IORING_CQE_F_MORE` still is), and none is submitted while the slice lives.
    ///
    /// ```
    /// fn f(cr: &uring::buf::kmbuf::ContiguousRing) {
    ///     // SAFETY: no request that selects from the group was ever submitted.
    ///     let _ = unsafe { cr.buffer(0) };
    /// }
    /// ```
    /// Without `unsafe` the call does not compile:
    /// ```compile_fail,E0133
    /// fn f(cr: &uring::buf::kmbuf::ContiguousRing) {
    ///     let _ = cr.buffer(0);
    /// }
    /// ```
    pub unsafe fn buffer(&self, bid: u16) -> Option<&[u8]> {
        if bid as u32 >= self.inner.entries() {
            return None;
        }
        // SAFETY: `buf_size` bytes in bounds of the pool (`bid < entries`), which lives as long
        // as the ring; that nothing writes them while the slice lives is the caller's contract.
        Some(unsafe { core::slice::from_raw_parts(self.inner.buf_ptr(bid), self.inner.buf_size() as usize) })
    }

    /// The base of the region.
    pub fn region(&self) -> (*const u8, usize) {
        self.inner.pool()
    }
}

impl BufferGroup for ContiguousRing {
    fn bgid(&self) -> u16 {
        self.inner.bgid()
    }
}
