//! App-managed provided-buffer rings (`IORING_REGISTER_PBUF_RING`, Linux 5.19).

use core::cell::Cell;
use core::ffi::c_void;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};

use uring_uapi::*;

use crate::buf::select::{Buf, Bundle, HeldBuf, IncSlice, Selection};
use crate::cq::CompletionQueue;
use crate::cqe::Cqe;
use crate::index::BufRingProducer;
use crate::op::BufferGroup;
use crate::sync::AtomicU16;
use crate::sys::{self, Mmap};
use crate::teardown::Share;
use crate::{Error, Result, Ring};

/// Most entries a buffer ring may have.
pub const MAX_BUF_RING_ENTRIES: u32 = 32768;

/// Marks the path that calls it as unlikely (the error paths), without moving the error
/// values out of line: built inline, a `Result` stays in registers.
#[cold]
#[inline(never)]
pub(crate) fn cold() {}

/// A completion names a buffer id the ring does not have.
#[inline(always)]
fn bid_out_of_range() -> Error {
    cold();
    Error::InvalidArgument { what: "buffer id", reason: "larger than the ring" }
}

/// A completion names a buffer the application already holds.
#[inline(always)]
fn already_held() -> Error {
    cold();
    Error::InvalidArgument { what: "buffer id", reason: "already handed out (a completion was selected twice)" }
}

/// Buffer memory the caller provides for a [`BufRing`] ([`BufRingBuilder::memory`]).
#[derive(Debug)]
pub struct CallerBuffers {
    ptr: *mut u8,
    len: usize,
}

impl CallerBuffers {
    /// Describes `len` bytes at `ptr`, to be split into the ring's equal buffers. Checked when
    /// the ring is built ([`BufRingBuilder::validate`]): a null `ptr` is refused with
    /// [`Error::InvalidArgument`], a `len` smaller than `entries * buf_size` (zero among them)
    /// with [`Error::MemoryTooSmall`], a range that wraps around the address space with
    /// [`Error::InvalidArgument`]. The kernel needs no alignment for buffer addresses.
    ///
    /// # Safety
    ///
    /// Once the buffer ring is built, the kernel may write into any byte of the range whenever a
    /// request selects a buffer of the group. Until the kernel is done with the memory, it must
    /// stay allocated, writable and unmoved, and must not be read or written other than through
    /// the buffers the [`BufRing`] hands out. The kernel is done with it once either:
    ///
    /// - every request that may select from the group (pushed with `IOSQE_BUFFER_SELECT` and
    ///   this group id) has posted its final completion (for a multishot request, the one
    ///   without `IORING_CQE_F_MORE`), that completion has been reaped, and no such request is
    ///   pushed afterwards; or
    /// - [`Ring::shutdown`] returned [`Teardown::Finished`](crate::ring::Teardown::Finished):
    ///   the kernel freed the ring, which it does only after the ring's last request.
    ///
    /// Dropping the [`BufRing`] or the [`Ring`] is not enough by itself: neither stops a request
    /// that already runs in an io-wq worker (a blocking file read goes on writing until it has
    /// finished). Dropping the ring waits up to [`DROP_WAIT`](crate::ring::DROP_WAIT) (250 ms)
    /// for the kernel to free it, but does not report whether it did.
    pub unsafe fn new(ptr: *mut u8, len: usize) -> Self {
        CallerBuffers { ptr, len }
    }

    /// Refuses a null pointer, memory smaller than the `need >= 1` bytes the ring's buffers
    /// take (a zero length among them), and a range that wraps around the address space.
    fn check(&self, need: usize) -> Result<()> {
        if self.ptr.is_null() {
            return Err(Error::InvalidArgument { what: "caller buffer memory", reason: "null pointer" });
        }
        if self.len < need {
            return Err(Error::MemoryTooSmall { needed: need, provided: self.len });
        }
        if (self.ptr as usize).checked_add(self.len).is_none() {
            return Err(Error::InvalidArgument {
                what: "caller buffer memory",
                reason: "the range wraps around the address space",
            });
        }
        Ok(())
    }
}

/// Options of a provided-buffer ring: built with [`BufRing::builder`], registered with
/// [`BufRingBuilder::build`].
#[derive(Debug)]
pub struct BufRingBuilder {
    bgid: u16,
    entries: u32,
    buf_size: u32,
    kernel_mapped: bool,
    incremental: bool,
    min_left: u32,
    huge_pages: bool,
    memory: Option<CallerBuffers>,
    send: bool,
}

/// `bid_info` bit: the buffer is held by the application (handed out by a completion and not
/// yet returned). Clear: it is in the ring, or selected by the kernel and not yet reported.
const HELD: u32 = 1 << 31;

/// `bid_info` bits: the bid added to the ring right after this one (its ring-order successor).
const SUCC: u32 = 0xffff;

/// A provided-buffer ring whose buffers the crate owns: the kernel picks a buffer for each
/// operation that selects from the group, the completion names it, and [`BufRing::select`]
/// turns the completion into a typed [`Selection`] that gives the bytes and returns the buffer
/// to the ring when dropped.
///
/// See `io_uring_register_buf_ring(3)`, `io_uring_setup_buf_ring(3)`, `io_uring_buf_ring_add(3)`,
/// `io_uring_buf_ring_advance(3)`, `io_uring_buf_ring_cq_advance(3)`,
/// `io_uring_buf_ring_head(3)`, `io_uring_buf_ring_available(3)`.
///
/// Not `Sync`: the ring is driven from one thread (guards recycle through shared `Cell`s).
pub struct BufRing {
    /// Unique per buffer ring (kept buffers are checked against it, and so are owned
    /// completions: [`Completion::select`](crate::owned::Completion::select)).
    id: u64,
    /// The id of the [`Ring`] it is registered on.
    ring_id: u64,
    bgid: u16,
    entries: u32,
    buf_size: u32,
    incremental: bool,
    /// `log2(buf_size)` when `buf_size` is a power of two (a bundle's buffer count is then a
    /// shift, not a division), else `u32::MAX`.
    size_shift: u32,
    /// The pool's first byte.
    base: *mut u8,
    /// The pool's length in bytes.
    pool_len: usize,
    /// Slot 0 of the shared ring; the tail overlays `bufs[0].resv` (offset 14).
    slots: *mut io_uring_buf,
    prod: Cell<BufRingProducer>,
    /// Per bid: [`HELD`], and in [`SUCC`] the bid added to the ring right after it (the next
    /// slot). A bundle's buffers are contiguous in ring order, so they are found by following
    /// these links from the completion's bid; the link of a buffer is written when its successor
    /// is added and never changes while the buffer is held, except for the most recently added
    /// buffer, whose link no bundle follows (a bundle cannot extend past the tail). One word per
    /// buffer, so returning a buffer in a batch costs one bookkeeping store. One more word at
    /// index `entries`, never held, is scratch for [`Refill`].
    bid_info: Box<[Cell<u32>]>,
    /// The bid added most recently (the one in the slot before the tail; 0 before the first).
    last_added: Cell<u16>,
    /// Per bid, incremental rings only: bytes already consumed.
    inc_off: Box<[Cell<u32>]>,
    /// Per bid, incremental rings only: live `IncSlice` views of the buffer, and whether its last
    /// piece has arrived (so the buffer returns to the ring once no view remains).
    inc_views: Box<[Cell<u32>]>,
    inc_done: Box<[Cell<bool>]>,
    /// Whether this is a ring the application fills for sends ([`BufRingBuilder::send`]).
    send: bool,
    /// Send rings only, per bid: the length it was queued with ([`BufRing::queue`]).
    lens: Box<[Cell<u32>]>,
    /// Send rings only: the buffers with the application and not in use (a stack of bids), and
    /// how many.
    free: Box<[Cell<u16>]>,
    free_n: Cell<u32>,
    ring_fd: OwnedFd,
    _ring_mem: Mmap,
    /// The ring's keep-alive list, which holds the pool (see [`crate::Ring`]'s drop). Declared
    /// after the fd and the ring mapping: if this buffer ring outlives the ring, it is the last
    /// holder of the list, and dropping this share waits for the kernel's teardown (which needs
    /// the fd closed and the mapping gone) before releasing the pool.
    keep_alive: Share,
}

impl core::fmt::Debug for BufRing {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("BufRing")
            .field("bgid", &self.bgid)
            .field("entries", &self.entries)
            .field("buf_size", &self.buf_size)
            .field("incremental", &self.incremental)
            .field("tail", &self.prod.get().tail())
            .finish()
    }
}

impl BufRing {
    /// Options for a ring of `entries` buffers of `buf_size` bytes in group `bgid`.
    pub fn builder(bgid: u16, entries: u32, buf_size: u32) -> BufRingBuilder {
        BufRingBuilder {
            bgid,
            entries,
            buf_size,
            kernel_mapped: false,
            incremental: false,
            min_left: 0,
            huge_pages: false,
            memory: None,
            send: false,
        }
    }
}

/// Checks the entry count of a buffer ring: a power of two in `1..=32768`.
pub(crate) fn check_entries(entries: u32) -> Result<()> {
    if entries == 0 {
        return Err(Error::ZeroEntries);
    }
    if !entries.is_power_of_two() {
        return Err(Error::NotPowerOfTwo { what: "buffer ring entries", value: entries });
    }
    if entries > MAX_BUF_RING_ENTRIES {
        return Err(Error::TooManyEntries { queue: "buffer ring", requested: entries, max: MAX_BUF_RING_ENTRIES });
    }
    Ok(())
}

/// Turns a registration errno into a typed error naming the cause.
pub(crate) fn registration_error(e: io::Error, bgid: u16) -> Error {
    match e.raw_os_error() {
        Some(libc::EEXIST) => Error::BufGroupInUse { bgid },
        _ => Error::Os(e),
    }
}

impl BufRingBuilder {
    /// `IOU_PBUF_RING_MMAP` (Linux 6.4): the kernel allocates the ring; the crate maps it.
    pub fn kernel_mapped(mut self) -> Self {
        self.kernel_mapped = true;
        self
    }

    /// `IOU_PBUF_RING_INC` (Linux 6.12): buffers are consumed incrementally; a completion with
    /// `IORING_CQE_F_BUF_MORE` leaves its buffer with the kernel.
    pub fn incremental(mut self) -> Self {
        self.incremental = true;
        self
    }

    /// `min_left` of `io_uring_buf_reg` (Linux 7.1): with incremental consumption, a buffer
    /// with fewer bytes left than this is retired instead of being reused.
    pub fn min_left(mut self, bytes: u32) -> Self {
        self.min_left = bytes;
        self
    }

    /// Allocates the buffer pool on 2 MiB huge pages.
    pub fn huge_pages(mut self) -> Self {
        self.huge_pages = true;
        self
    }

    /// A ring for sends (`IORING_RECVSEND_BUNDLE` on `IORING_OP_SEND`, Linux 6.10): it starts
    /// empty, with every buffer on the application's side. Take a buffer with
    /// [`BufRing::take_free`], fill it ([`BufRing::held_data_mut`]), and queue it with the
    /// length to send ([`BufRing::queue`]); a send bundle
    /// ([`SendBundle`](crate::owned::SendBundle)) sends the queued buffers in order, and its
    /// completion ([`Completion::select`](crate::owned::Completion::select)) hands the sent
    /// buffers back as a [`Bundle`] whose drop returns them to the free list (never to the
    /// ring: a sent buffer is not resent). Not with [`incremental`](Self::incremental).
    pub fn send(mut self) -> Self {
        self.send = true;
        self
    }

    /// Uses caller memory for the buffers instead of a crate-allocated pool.
    pub fn memory(mut self, mem: CallerBuffers) -> Self {
        self.memory = Some(mem);
        self
    }

    /// Checks the options without a system call.
    pub fn validate(&self) -> Result<()> {
        check_entries(self.entries)?;
        if self.buf_size == 0 {
            return Err(Error::InvalidArgument { what: "buf_size", reason: "must be non-zero" });
        }
        let need = self.entries as usize * self.buf_size as usize;
        if let Some(m) = &self.memory {
            m.check(need)?;
        }
        if self.min_left != 0 && !self.incremental {
            return Err(Error::InvalidArgument { what: "min_left", reason: "only applies to incremental rings" });
        }
        if self.send && self.incremental {
            return Err(Error::InvalidArgument { what: "send", reason: "a send ring cannot be incremental" });
        }
        Ok(())
    }

    /// Registers the ring with `ring` and fills it with every buffer (a [`send`](Self::send)
    /// ring starts empty, its buffers on the free list).
    pub fn build(self, ring: &mut Ring) -> Result<BufRing> {
        self.validate()?;
        // The buffer ring keeps a duplicate of the ring fd to unregister itself when dropped.
        let ring_fd = ring.dup_fd()?.ok_or(Error::Unsupported {
            what: "buffer rings on a ring without an fd (REGISTERED_FD_ONLY or closed)",
        })?;
        let entries = self.entries;
        let page = sys::page_size();
        let ring_bytes = (entries as usize * core::mem::size_of::<io_uring_buf>()).div_ceil(page) * page;
        let app_ring = if self.kernel_mapped { None } else { Some(Mmap::anonymous(ring_bytes, false)?) };
        let mut flags = 0u16;
        if self.kernel_mapped {
            flags |= IOU_PBUF_RING_MMAP;
        }
        if self.incremental {
            flags |= IOU_PBUF_RING_INC;
        }
        let mut reg = io_uring_buf_reg {
            ring_addr: app_ring.as_ref().map_or(0, |m| m.as_ptr() as u64),
            ring_entries: entries,
            bgid: self.bgid,
            flags,
            min_left: self.min_left,
            ..Default::default()
        };
        // SAFETY: one valid `io_uring_buf_reg`; the ring memory it names lives in the returned
        // `BufRing`, which unregisters before unmapping it.
        unsafe {
            ring.submitter().register_raw(
                IORING_REGISTER_PBUF_RING,
                &mut reg as *mut io_uring_buf_reg as *const c_void,
                1,
            )
        }
        .map_err(|e| registration_error(e, self.bgid))?;
        let unregister = |fd: &OwnedFd| {
            let _ = unregister_fd(fd, self.bgid);
        };
        let ring_mem = match app_ring {
            Some(m) => m,
            None => {
                let off = IORING_OFF_PBUF_RING | ((self.bgid as u64) << IORING_OFF_PBUF_SHIFT);
                match Mmap::ring(ring_fd.as_raw_fd(), off, entries as usize * core::mem::size_of::<io_uring_buf>()) {
                    Ok(m) => m,
                    Err(e) => {
                        unregister(&ring_fd);
                        return Err(e.into());
                    }
                }
            }
        };
        let need = entries as usize * self.buf_size as usize;
        // The pool goes to the ring's keep-alive list: requests may write into it until the
        // kernel is done with the ring, whatever happens to this buffer ring.
        let (base, pool_len) = match self.memory {
            Some(m) => {
                ring.keep_alive_caller();
                (m.ptr, m.len)
            }
            None => match Mmap::anonymous(need, self.huge_pages) {
                Ok(m) => {
                    let base = (m.as_ptr(), m.len());
                    ring.keep_alive_map(m);
                    base
                }
                Err(e) => {
                    unregister(&ring_fd);
                    return Err(e.into());
                }
            },
        };
        let keep_alive = ring.keep_alive_share();
        static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let br = BufRing {
            id: NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            ring_id: ring.id(),
            bgid: self.bgid,
            entries,
            buf_size: self.buf_size,
            incremental: self.incremental,
            size_shift: if self.buf_size.is_power_of_two() { self.buf_size.trailing_zeros() } else { u32::MAX },
            base,
            pool_len,
            slots: ring_mem.as_ptr().cast(),
            prod: Cell::new(BufRingProducer::new(0, entries)),
            bid_info: (0..=entries).map(|bid| Cell::new(if bid < entries { HELD } else { 0 })).collect(),
            last_added: Cell::new(0),
            inc_off: (0..if self.incremental { entries } else { 0 }).map(|_| Cell::new(0)).collect(),
            inc_views: (0..if self.incremental { entries } else { 0 }).map(|_| Cell::new(0)).collect(),
            inc_done: (0..if self.incremental { entries } else { 0 }).map(|_| Cell::new(false)).collect(),
            send: self.send,
            lens: (0..if self.send { entries } else { 0 }).map(|_| Cell::new(0)).collect(),
            // Reversed, so that `take_free` hands out bid 0 first.
            free: (0..if self.send { entries } else { 0 }).rev().map(|b| Cell::new(b as u16)).collect(),
            free_n: Cell::new(if self.send { entries } else { 0 }),
            ring_fd,
            _ring_mem: ring_mem,
            keep_alive,
        };
        if !br.send {
            let mut refill = Refill::new(&br);
            for bid in 0..entries as u16 {
                refill.push(bid);
            }
        }
        Ok(br)
    }
}

/// `IORING_UNREGISTER_PBUF_RING` for `bgid` through `fd`.
pub(crate) fn unregister_fd(fd: &OwnedFd, bgid: u16) -> io::Result<()> {
    let mut reg = io_uring_buf_reg { bgid, ..Default::default() };
    // SAFETY: one valid `io_uring_buf_reg`.
    unsafe {
        sys::register(
            fd.as_raw_fd(),
            IORING_UNREGISTER_PBUF_RING,
            &mut reg as *mut io_uring_buf_reg as *const c_void,
            1,
        )
    }?;
    Ok(())
}

impl BufRing {
    /// The buffer group id.
    #[inline]
    pub fn bgid(&self) -> u16 {
        self.bgid
    }

    /// The ring's unique id (kept buffers name it).
    #[inline]
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// The id of the [`Ring`] this buffer ring is registered on.
    #[inline]
    pub(crate) fn ring_id(&self) -> u64 {
        self.ring_id
    }

    /// The word that names this buffer ring in an owned operation's slot (its unique id, and
    /// whether completions of that operation name bundles), never 0.
    #[inline]
    pub(crate) fn sel_word(&self, bundle: bool) -> u64 {
        (self.id << 1) | bundle as u64
    }

    /// The number of buffers (and ring slots).
    pub fn entries(&self) -> u32 {
        self.entries
    }

    /// The size of each buffer.
    #[inline]
    pub fn buf_size(&self) -> u32 {
        self.buf_size
    }

    /// Whether buffers are consumed incrementally (`IOU_PBUF_RING_INC`).
    pub fn is_incremental(&self) -> bool {
        self.incremental
    }

    /// The tail of the ring as the application last published it.
    pub fn tail(&self) -> u16 {
        self.prod.get().tail()
    }

    #[inline]
    fn tail_atomic(&self) -> &AtomicU16 {
        // SAFETY: the tail overlays `bufs[0].resv` at byte 14 of the live, 8-aligned ring
        // mapping; the kernel reads it, only we write it.
        unsafe { &*((self.slots as *mut u8).add(14) as *const AtomicU16) }
    }

    /// The pool's first byte.
    #[inline(always)]
    pub(crate) fn base(&self) -> *mut u8 {
        self.base
    }

    /// The address and length of buffer `bid` in the pool.
    #[inline]
    pub(crate) fn buf_ptr(&self, bid: u16) -> *mut u8 {
        // SAFETY: `bid < entries`, and the pool holds `entries * buf_size` bytes.
        unsafe { self.base.add(bid as usize * self.buf_size as usize) }
    }

    /// Per-bid bookkeeping cell.
    #[inline]
    fn info(&self, bid: u16) -> &Cell<u32> {
        debug_assert!((bid as u32) < self.entries);
        // SAFETY: every caller passes a bid below `entries` (checked at selection, or a bid
        // the ring handed out), and `bid_info` has `entries + 1` cells.
        unsafe { self.bid_info.get_unchecked(bid as usize) }
    }

    /// Records a new live view of incremental buffer `bid`.
    #[inline]
    pub(crate) fn inc_view_opened(&self, bid: u16) {
        let c = &self.inc_views[bid as usize];
        c.set(c.get() + 1);
    }

    /// A view of incremental buffer `bid` ends (`last`: it was the buffer's final piece).
    /// Returns whether the buffer is now free to go back to the ring: its last piece arrived and
    /// no view of it remains, so the kernel may reuse it without anyone reading it.
    #[inline]
    pub(crate) fn inc_view_closed(&self, bid: u16, last: bool) -> bool {
        let views = &self.inc_views[bid as usize];
        views.set(views.get() - 1);
        let done = &self.inc_done[bid as usize];
        if last {
            done.set(true);
        }
        if views.get() == 0 && done.get() {
            done.set(false);
            true
        } else {
            false
        }
    }

    /// Returns buffer `bid`, held by the application, to the kernel: one slot write, two
    /// bookkeeping stores and one tail store (`io_uring_buf_ring_add(3)` then
    /// `io_uring_buf_ring_advance(3)` by one). What a [`Refill`] of one buffer does, without its
    /// batch state, for the drop of a single guard.
    #[inline]
    pub(crate) fn recycle_bid(&self, bid: u16) {
        if self.send {
            return self.release_free(bid);
        }
        self.add_one(bid, self.buf_size);
    }

    /// Adds buffer `bid`, held by the application, to the ring with length `size` (at most
    /// `buf_size`), with one tail store.
    #[inline]
    fn add_one(&self, bid: u16, size: u32) {
        debug_assert!(self.info(bid).get() & HELD != 0, "recycling buffer {bid}, which is not held");
        debug_assert!(size <= self.buf_size);
        let mut prod = self.prod.get();
        // The pool holds `entries * buf_size` bytes and `bid < entries`: no overflow.
        let addr = self.base as u64 + bid as u64 * self.buf_size as u64;
        // SAFETY: `slot(0) < entries`, so the entry is in the live ring mapping; it is free and
        // unread by the kernel until the tail store below, as in `Refill::write_slot`.
        unsafe { Refill::write(self.slots.add(prod.slot(0) as usize), addr, size, bid) };
        if self.incremental {
            self.inc_off[bid as usize].set(0);
        }
        // The previous last buffer (which may be held: its bit stays) is now followed by `bid`;
        // then `bid` itself: back in the ring, its successor not yet known. In this order, so
        // that `bid` ends up clear when it was the last added buffer itself.
        let last = self.info(self.last_added.get());
        last.set((last.get() & !SUCC) | bid as u32);
        self.info(bid).set(0);
        self.last_added.set(bid);
        prod.advance(self.tail_atomic(), 1);
        self.prod.set(prod);
    }

    /// Returns the `count` buffers of a bundle, from `first` along the ring-order links, with
    /// a single tail store.
    #[inline]
    pub(crate) fn recycle_chain(&self, first: u16, count: u16) {
        if self.send {
            let mut bid = first;
            for _ in 0..count {
                let next = self.succ_of(bid);
                self.release_free(bid);
                bid = next;
            }
            return;
        }
        let mut refill = Refill::new(self);
        refill.push_chain(first, count);
    }

    /// Send rings: buffer `bid` (held) goes back on the free list, not into the ring.
    #[cold]
    fn release_free(&self, bid: u16) {
        debug_assert!(self.send && self.info(bid).get() & HELD != 0);
        let n = self.free_n.get();
        // At most `entries` buffers are held, and each is on the free list at most once (a
        // held buffer has one owner, which gives it back once).
        self.free[n as usize].set(bid);
        self.free_n.set(n + 1);
    }

    /// Send rings ([`BufRingBuilder::send`]): a free buffer, to fill and
    /// [`queue`](Self::queue); `None` when every buffer is queued or in use (or on a receive
    /// ring). The token is the application's proof that it holds the buffer, as the ones
    /// [`Buf::keep`] makes.
    pub fn take_free(&self) -> Option<HeldBuf> {
        let n = self.free_n.get().checked_sub(1)?;
        self.free_n.set(n);
        let bid = self.free[n as usize].get();
        Some(HeldBuf::new(self.id, self.bgid, bid, 0))
    }

    /// The whole buffer of a held token (`buf_size` bytes), writable: to fill a buffer of a
    /// send ring before [`queue`](Self::queue), or to reuse a received one. A token of another
    /// ring is refused. The slice borrows the token mutably, so there is one at a time:
    ///
    /// ```compile_fail,E0499
    /// # let mut ring = uring::Ring::new(8).unwrap();
    /// let br = uring::buf::BufRing::builder(1, 2, 64).send().build(&mut ring).unwrap();
    /// let mut held = br.take_free().unwrap();
    /// let a = br.held_data_mut(&mut held).unwrap();
    /// let b = br.held_data_mut(&mut held).unwrap(); // error: `held` is borrowed by `a`
    /// a[0] = b[0];
    /// ```
    pub fn held_data_mut<'a>(&'a self, held: &'a mut HeldBuf) -> Result<&'a mut [u8]> {
        if !self.owns(held) {
            return Err(Error::InvalidArgument { what: "held buffer", reason: "a buffer of another ring" });
        }
        // SAFETY: a token of this ring whose buffer is held (checked) names a buffer that is
        // out of the ring, `bid < entries`; the token is unique and borrowed mutably for the
        // slice's life, so no other reference to the buffer exists.
        Ok(unsafe { core::slice::from_raw_parts_mut(self.buf_ptr(held.bid()), self.buf_size as usize) })
    }

    /// Send rings: queues a held buffer, to be sent with its first `len` bytes (1 to
    /// `buf_size`), by the next send bundles on this group (`io_uring_buf_ring_add(3)` with the
    /// length, then `io_uring_buf_ring_advance(3)`). Refused (the token handed back): another
    /// ring's token, a receive ring, a length out of range.
    pub fn queue(&self, held: HeldBuf, len: u32) -> core::result::Result<(), crate::buf::Rejected> {
        let error = if !self.send {
            Error::InvalidArgument { what: "queue", reason: "only for send rings (BufRingBuilder::send)" }
        } else if !self.owns(&held) {
            Error::InvalidArgument { what: "held buffer", reason: "a buffer of another ring" }
        } else if len == 0 || len > self.buf_size {
            Error::InvalidArgument { what: "queue length", reason: "must be 1 to buf_size bytes" }
        } else {
            self.lens[held.bid() as usize].set(len);
            self.add_one(held.bid(), len);
            return Ok(());
        };
        Err(crate::buf::Rejected::new(held, error))
    }

    /// The bytes buffer `bid` holds when full: its queued length on a send ring, else the
    /// buffer size.
    #[inline]
    pub(crate) fn len_of(&self, bid: u16) -> u32 {
        if self.send {
            self.lens[bid as usize].get()
        } else {
            self.buf_size
        }
    }

    /// Whether `held` is a buffer of this ring held by the application: the check that lets a
    /// kept buffer go back to the ring. A few instructions: the ring id, then the [`HELD`] bit.
    #[inline(always)]
    pub(crate) fn owns(&self, held: &HeldBuf) -> bool {
        // A `HeldBuf` is made only by `Buf::keep` from a buffer this ring handed out, so with a
        // matching ring id its bid is below `entries` (checked at selection) and `info` is in
        // bounds; `&&` skips the lookup for another ring's buffers.
        held.ring_id() == self.id && self.info(held.bid()).get() & HELD != 0
    }

    /// Returns every kept buffer of `held` that belongs to this ring, with one tail store for
    /// the whole batch (`io_uring_buf_ring_add(3)` per buffer, then
    /// `io_uring_buf_ring_advance(3)`), and removes them from `held`. Buffers of other rings stay
    /// in `held`, in their order, for the caller to return to their own rings. Returns how many
    /// were recycled.
    ///
    /// Safe because a [`HeldBuf`] is the proof that the application holds its buffer (it is
    /// made once per selection, cannot be copied, and is consumed here), so the per-buffer check
    /// is that the token names this ring: one compare. Then the slot write (address computed
    /// from the pool geometry, length, bid) and one bookkeeping store (the held bit and the
    /// ring-order link share a word). No allocation: `held` only shrinks, and keeps its capacity
    /// for the next batch.
    ///
    /// ```no_run
    /// # use uring::{buf::{BufRing, Selection}, Ring};
    /// # let mut ring = Ring::new(8)?;
    /// # let br = BufRing::builder(1, 64, 4096).build(&mut ring)?;
    /// let mut done = Vec::with_capacity(32); // reused: recycling allocates nothing
    /// for cqe in ring.cq().iter() {
    ///     // SAFETY: completions of this ring's CQ, each of a read that selected from `br`
    ///     // (the only requests this ring runs), selected once.
    ///     if let Selection::Buffer(buf) = unsafe { br.select(&cqe) }? {
    ///         done.push(buf.keep()); // processed later, past the borrow of `br`
    ///     }
    /// }
    /// let n = br.recycle_held_batch(&mut done);
    /// assert!(done.is_empty(), "{n} recycled, none of another ring");
    /// # Ok::<(), uring::Error>(())
    /// ```
    pub fn recycle_held_batch(&self, held: &mut Vec<HeldBuf>) -> usize {
        let id = self.id;
        let Some(first) = held.first() else { return 0 };
        let mut refill = Refill::new(self);
        // Kept buffers come from whole-buffer selections, which incremental rings never make;
        // a send ring's buffers go to its free list.
        if first.ring_id() != id || self.incremental || self.send {
            return self.recycle_held_mixed(held, 0, refill);
        }
        // A token of this ring is proof that the application holds the buffer (see `HeldBuf`),
        // so the fast path checks the ring id only; the held bit agrees (checked in debug).
        refill.link_last(first.bid());
        let pushed = refill.push_held(held, id);
        if pushed < held.len() {
            return self.recycle_held_mixed(held, pushed, refill);
        }
        drop(refill);
        let n = held.len();
        // `HeldBuf` has no drop glue: the recycled tokens are consumed without a trace.
        held.clear();
        n
    }

    /// [`recycle_held_batch`](Self::recycle_held_batch) from `held[start]` on, which belongs to
    /// another ring (the tokens before it went into `refill`): the buffers of other rings move
    /// to the front of `held`, in order, and stay.
    #[cold]
    #[inline(never)]
    fn recycle_held_mixed(&self, held: &mut Vec<HeldBuf>, start: usize, mut refill: Refill<'_>) -> usize {
        let mut kept = 0;
        for i in start..held.len() {
            if self.owns(&held[i]) {
                if self.send {
                    self.release_free(held[i].bid());
                } else {
                    refill.push(held[i].bid());
                }
            } else {
                held.swap(kept, i);
                kept += 1;
            }
        }
        drop(refill);
        let n = held.len() - kept;
        // The first `kept` are the refused tokens; the rest were recycled (no drop glue).
        held.truncate(kept);
        n
    }

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
        let len = cqe.raw_result().max(0) as u32;
        // `|`, not `||`: one branch for both checks on the hot path.
        if (bid as u32 >= self.entries) | (len > self.buf_size) {
            return Err(self.select_error(bid));
        }
        let cell = self.info(bid);
        let v = cell.get();
        if v & HELD != 0 {
            return Err(already_held());
        }
        cell.set(v | HELD);
        Ok(Selection::Buffer(Buf::new(self, bid, len)))
    }

    /// Why a whole-buffer completion was refused: the buffer id or the length.
    #[inline(always)]
    fn select_error(&self, bid: u16) -> Error {
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
        let len = cqe.raw_result().max(0) as u32;
        let off = self.inc_off[bid as usize].get();
        if off.checked_add(len).is_none_or(|end| end > self.buf_size) {
            return Err(Error::InvalidArgument { what: "completion length", reason: "past the end of the buffer" });
        }
        let more = cqe.raw_flags() & IORING_CQE_F_BUF_MORE != 0;
        let cell = self.info(bid);
        let v = cell.get();
        if v & HELD != 0 {
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

    /// Turns the completion of a bundle operation (`IORING_RECVSEND_BUNDLE`) into its buffers:
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
        let res = cqe.raw_result().max(0) as u32;
        if self.send {
            return self.select_sent(bid, res);
        }
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
    /// `res` bytes, counted by their queued lengths (the last may have gone out in part).
    #[cold]
    fn select_sent(&self, bid: u16, res: u32) -> Result<Selection<'_>> {
        if bid as u32 >= self.entries {
            return Err(bid_out_of_range());
        }
        let last = self.last_added.get();
        let (mut b, mut sum, mut count) = (bid, 0u64, 0u32);
        loop {
            count += 1;
            sum += self.lens[b as usize].get() as u64;
            if sum >= res as u64 || b == last || count >= self.entries {
                break;
            }
            b = self.succ_of(b);
        }
        if sum < res as u64 {
            return Err(Error::InvalidArgument { what: "bundle length", reason: "more than the queued buffers hold" });
        }
        self.take_bundle(bid, count, res)
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

    /// The bid added right after `bid`.
    #[inline]
    pub(crate) fn succ_of(&self, bid: u16) -> u16 {
        (self.info(bid).get() & SUCC) as u16
    }

    /// The kernel's head (`IORING_REGISTER_PBUF_STATUS`, Linux 6.8; `io_uring_buf_ring_head(3)`).
    pub fn head(&self) -> Result<u16> {
        let fd = &self.ring_fd;
        let mut st = io_uring_buf_status { buf_group: self.bgid as u32, ..Default::default() };
        // SAFETY: one valid, writable `io_uring_buf_status`.
        unsafe {
            sys::register(
                fd.as_raw_fd(),
                IORING_REGISTER_PBUF_STATUS,
                &mut st as *mut io_uring_buf_status as *const c_void,
                1,
            )
        }?;
        Ok(st.head as u16)
    }

    /// Buffers the kernel can still select (`io_uring_buf_ring_available(3)`): tail minus head.
    pub fn available(&self) -> Result<u16> {
        Ok(self.prod.get().available(self.head()?))
    }

    /// Buffers currently held by the application (selected and not yet recycled).
    pub fn held(&self) -> u32 {
        self.bid_info.iter().filter(|s| s.get() & HELD != 0).count() as u32
    }

    /// Recycles every buffer of `sels` with one tail store (one per 64 buffers), then releases
    /// `cq_slots` CQ slots (`io_uring_buf_ring_cq_advance(3)`): the batch path for bundles and
    /// 32-byte CQEs.
    pub fn recycle_and_advance<'a>(
        &'a self,
        sels: impl IntoIterator<Item = Selection<'a>>,
        cq: &mut CompletionQueue,
        cq_slots: u32,
    ) -> Result<()> {
        // The bids are gathered first and written to the ring after the caller's iterator is
        // done: its `next` is caller code, which may itself return buffers of this ring, and
        // that must not happen while a batch is open (both would write the same slots).
        let mut gather = Gather { ring: self, bids: [0; RECYCLE_CHUNK], n: 0 };
        for sel in sels {
            sel.release_into(|bid| gather.push(bid));
        }
        drop(gather); // one tail store, before the CQ slots are released
        cq.advance(cq_slots)
    }

    /// A raw pointer to the pool and its length (for code that builds iovecs over it).
    pub fn pool(&self) -> (*const u8, usize) {
        (self.base, self.pool_len)
    }
}

/// Buffers [`BufRing::recycle_and_advance`] gathers before one tail store.
const RECYCLE_CHUNK: usize = 64;

/// Bids gathered for one batch while caller code may run; written to the ring when full and
/// when dropped (also when the caller's iterator panics: the buffers are not lost).
struct Gather<'r> {
    ring: &'r BufRing,
    bids: [u16; RECYCLE_CHUNK],
    n: usize,
}

impl Gather<'_> {
    #[inline(always)]
    fn push(&mut self, bid: u16) {
        if self.n == RECYCLE_CHUNK {
            self.flush();
        }
        // `n < RECYCLE_CHUNK` here: the compiler drops the bounds check.
        self.bids[self.n] = bid;
        self.n += 1;
    }

    /// Inline, so that `n` stays in a register (only the array's address reaches the call).
    #[inline(always)]
    fn flush(&mut self) {
        write_bids(self.ring, &self.bids[..self.n.min(RECYCLE_CHUNK)]);
        self.n = 0;
    }
}

/// Returns the held buffers `bids` with one tail store.
#[inline(never)]
fn write_bids(ring: &BufRing, bids: &[u16]) {
    let mut refill = Refill::new(ring);
    for &bid in bids {
        refill.push(bid);
    }
}

impl Drop for Gather<'_> {
    fn drop(&mut self) {
        self.flush();
    }
}

/// A batch of buffers going back to a ring: each [`push`](Refill::push) writes one slot past the
/// tail (`io_uring_buf_ring_add(3)`), and dropping the batch publishes them all with one release
/// store of the tail (`io_uring_buf_ring_advance(3)`), also if a caller's iterator panics midway.
///
/// Per buffer: three stores for the slot (address, length, bid; never `resv`, which for slot 0
/// is the shared tail) and one for the bookkeeping, which writes the word of the buffer pushed
/// before (its link to this one, with [`HELD`] clear); the last buffer's word is written when
/// the batch ends. Until then a pushed buffer still reads as held, which no one can observe:
/// no other code runs while the batch is open (below), and the kernel sees none of the buffers
/// before the tail store.
///
/// No code outside this module may run while a batch is open: a buffer returned meanwhile
/// (a guard dropped by caller code) would be written into a slot of this batch and published
/// before it. Every user of `Refill` pushes from crate code only.
struct Refill<'r> {
    ring: &'r BufRing,
    /// The ring's fields the loop needs, copied out: the slot writes go through a raw pointer
    /// and the bookkeeping through `Cell`s, either of which could alias the ring's fields as far
    /// as the compiler knows, so reading them through `ring` would reload them per buffer.
    info: &'r [Cell<u32>],
    /// Slot 0, one past the last slot, and the slot the next push writes.
    slots: *mut io_uring_buf,
    end: *mut io_uring_buf,
    next: *mut io_uring_buf,
    base: u64,
    buf_size: u32,
    incremental: bool,
    /// Buffers pushed so far.
    n: u16,
    /// The bid pushed last; before the first push, the scratch word (index `entries`), so that
    /// the first push needs no branch.
    prev: u32,
}

impl<'r> Refill<'r> {
    #[inline(always)]
    fn new(ring: &'r BufRing) -> Self {
        let slots = ring.slots;
        Refill {
            ring,
            info: &ring.bid_info,
            slots,
            end: slots.wrapping_add(ring.entries as usize),
            next: slots.wrapping_add(ring.prod.get().slot(0) as usize),
            base: ring.base as u64,
            buf_size: ring.buf_size,
            incremental: ring.incremental,
            n: 0,
            prev: ring.entries,
        }
    }

    /// Bookkeeping word of `bid` (or the scratch word, `entries`).
    #[inline(always)]
    fn info(&self, bid: u32) -> &'r Cell<u32> {
        debug_assert!((bid as usize) < self.info.len());
        // SAFETY: callers pass bids below `entries` (a bid of a buffer the ring handed out,
        // checked at selection, or the ring's last added bid) or the scratch index `entries`;
        // `bid_info` has `entries + 1` words.
        unsafe { self.info.get_unchecked(bid as usize) }
    }

    /// Whether the application holds `bid` (below `entries`).
    #[inline(always)]
    fn is_held(&self, bid: u16) -> bool {
        self.info(bid as u32).get() & HELD != 0
    }

    /// Writes buffer `bid`, held by the application until now, into the next slot past the
    /// tail (not yet published).
    #[inline(always)]
    fn write_slot(&mut self, bid: u16) {
        debug_assert!(self.is_held(bid), "recycling buffer {bid}, which is not held");
        let e = self.next;
        // The pool holds `entries * buf_size` bytes and `bid < entries`: in bounds, no overflow.
        let addr = self.base + bid as u64 * self.buf_size as u64;
        // SAFETY: `e` is a slot of the live ring mapping (`slots <= e < end`). The slot is free:
        // every buffer not held by the application is in the ring (published or earlier in this
        // batch), there are exactly `entries` buffers and `bid` is held, so at most
        // `entries - 1` slots are in use; and the kernel does not read the slot before the tail
        // store that publishes it.
        unsafe { Self::write(e, addr, self.buf_size, bid) };
        let next = e.wrapping_add(1);
        self.next = if next == self.end { self.slots } else { next };
        if self.incremental {
            self.ring.inc_off[bid as usize].set(0);
        }
    }

    /// Links the ring's last added buffer (which may be held: its bit stays) to `bid`, the first
    /// buffer of the batch. Once per batch, before the first push.
    #[inline(always)]
    fn link_last(&self, bid: u16) {
        debug_assert_eq!(self.n, 0);
        let last = self.info(self.ring.last_added.get() as u32);
        last.set((last.get() & !SUCC) | bid as u32);
    }

    /// Writes one ring entry: address, length and bid, never `resv` (in slot 0, the shared
    /// tail).
    ///
    /// # Safety
    /// `e` must be a slot of the ring mapping that the kernel does not read (past the tail).
    #[inline(always)]
    unsafe fn write(e: *mut io_uring_buf, addr: u64, len: u32, bid: u16) {
        // SAFETY: the caller's promise; the three fields are plain data.
        unsafe {
            core::ptr::addr_of_mut!((*e).addr).write(addr);
            core::ptr::addr_of_mut!((*e).len).write(len);
            core::ptr::addr_of_mut!((*e).bid).write(bid);
        }
    }

    /// Pushes the buffers of `toks` in order up to the first whose ring id is not `id`; returns
    /// how many it pushed. The caller has linked the ring's last buffer to the first
    /// ([`link_last`](Self::link_last)). The fast path of [`BufRing::recycle_held_batch`]: the
    /// slots up to the end of the ring are filled in one run, then the rest from slot 0, so the
    /// loop has no wrap check. Not for incremental rings (no offsets are reset).
    #[inline(always)]
    fn push_held(&mut self, toks: &[HeldBuf], id: u64) -> usize {
        debug_assert!(!self.incremental);
        // `slots <= next < end`: at least one slot before the end of the ring.
        let room = (self.end as usize - self.next as usize) / core::mem::size_of::<io_uring_buf>();
        let (first, rest) = toks.split_at(room.min(toks.len()));
        let k = self.push_run(first, id);
        if k < first.len() || rest.is_empty() {
            return k;
        }
        // Wrapped to slot 0. This ring's tokens fit in the free slots, so a longer rest would
        // hold another ring's token: the caller's slow path sorts that out.
        let room = self.ring.entries as usize - first.len();
        k + self.push_run(&rest[..rest.len().min(room)], id)
    }

    /// Pushes the buffers of `run` (at most the slots left before the end of the ring) from
    /// `next` on, up to the first whose ring id is not `id`; returns how many.
    #[inline(always)]
    fn push_run(&mut self, run: &[HeldBuf], id: u64) -> usize {
        let (e, info, base, size) = (self.next, self.info, self.base, self.buf_size);
        // One buffer's slot at `slot`; returns its bid.
        let put = |slot: *mut io_uring_buf, h: &HeldBuf| -> usize {
            let bid = h.bid();
            debug_assert!(info[bid as usize].get() & HELD != 0, "recycling buffer {bid}, which is not held");
            // A token of this ring has `bid < entries`: the address is in the pool.
            let addr = base + bid as u64 * size as u64;
            // SAFETY: the caller passes at most as many tokens as there are slots from `next` to
            // the end of the ring, so `slot` is inside it; the slot is free and unread by the
            // kernel, as in `write_slot`.
            unsafe { Self::write(slot, addr, size, bid) };
            bid as usize
        };
        // The word of `prev`: back in the ring, followed by `bid`.
        let link = |prev: usize, bid: usize| {
            // SAFETY: `prev` is a bid below `entries` (pushed before) or the scratch index
            // `entries`; `info` has `entries + 1` words.
            unsafe { info.get_unchecked(prev) }.set(bid as u32);
        };
        let mut prev = self.prev as usize;
        let mut slot = e;
        // Two at a time (fewer loop instructions per buffer, and the stores to the ring and to
        // the bookkeeping each come in pairs), then one at a time for the rest and from a token
        // of another ring on.
        let mut pairs = run.chunks_exact(2);
        for pair in &mut pairs {
            if pair[0].ring_id() != id || pair[1].ring_id() != id {
                break;
            }
            let b0 = put(slot, &pair[0]);
            let b1 = put(slot.wrapping_add(1), &pair[1]);
            link(prev, b0);
            link(b0, b1);
            prev = b1;
            slot = slot.wrapping_add(2);
        }
        // SAFETY: both in the ring mapping, `slot` derived from `e` by whole slots.
        let done = unsafe { slot.offset_from(e) } as usize;
        for h in &run[done..] {
            if h.ring_id() != id {
                break;
            }
            let bid = put(slot, h);
            link(prev, bid);
            prev = bid;
            slot = slot.wrapping_add(1);
        }
        // SAFETY: as above.
        let k = unsafe { slot.offset_from(e) } as usize;
        self.prev = prev as u32;
        // At most `entries` (<= 32768) buffers are held, so the count fits.
        self.n += k as u16;
        self.next = if slot == self.end { self.slots } else { slot };
        k
    }

    /// Adds `count` buffers following the ring-order links from `first` (a bundle's, all
    /// held). Each link is read before its buffer is added (adding rewrites links), the first
    /// also before the ring's last buffer is linked to it.
    #[inline(always)]
    fn push_chain(&mut self, first: u16, count: u16) {
        let mut bid = first;
        for _ in 0..count {
            let next = (self.info(bid as u32).get() & SUCC) as u16;
            self.push(bid);
            bid = next;
        }
    }

    /// Adds `bid` to the batch (see [`write_slot`](Self::write_slot)).
    #[inline(always)]
    fn push(&mut self, bid: u16) {
        if self.n == 0 {
            self.link_last(bid);
        }
        self.write_slot(bid);
        // The previous buffer of this batch (or the scratch word): back in the ring, followed
        // by `bid`.
        self.info(self.prev).set(bid as u32);
        self.prev = bid as u32;
        self.n += 1;
    }
}

impl Drop for Refill<'_> {
    #[inline(always)]
    fn drop(&mut self) {
        if self.n == 0 {
            return;
        }
        // The last buffer: back in the ring, its successor not yet known.
        self.info(self.prev).set(0);
        self.ring.last_added.set(self.prev as u16);
        let mut prod = self.ring.prod.get();
        prod.advance(self.ring.tail_atomic(), self.n);
        self.ring.prod.set(prod);
    }
}

impl BufferGroup for BufRing {
    fn bgid(&self) -> u16 {
        self.bgid
    }
}

impl Drop for BufRing {
    fn drop(&mut self) {
        // Unregister before the ring memory is unmapped. The buffer pool itself stays in the
        // ring's keep-alive list (requests may still write into it).
        let _ = unregister_fd(&self.ring_fd, self.bgid);
        // If the ring is gone already, this is the last holder of its keep-alive list: arm the
        // teardown proof through this fd, which closes right after (then the ring mapping goes,
        // then `keep_alive` waits and settles).
        let fd = self.ring_fd.as_raw_fd();
        self.keep_alive.prepare(|probe| {
            // SAFETY: one fd, living for the call; the kernel takes its own reference.
            unsafe { sys::register(fd, IORING_REGISTER_FILES, (&probe as *const i32).cast(), 1) }
        });
    }
}
