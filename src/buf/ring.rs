//! App-managed provided-buffer rings (`IORING_REGISTER_PBUF_RING`, Linux 5.19).

use core::cell::Cell;
use core::ffi::c_void;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::AtomicU32;
use std::sync::Arc;

use uring_uapi::*;

use crate::buf::recycle::Refill;
use crate::index::BufRingProducer;
use crate::op::BufferGroup;
use crate::sync::AtomicU16;
use crate::sys::{self, Mmap};
use crate::teardown::Share;
use crate::{Error, Result, Ring};

/// [`BufRing::sel_word`] bit: completions of the operation name bundles.
pub(crate) const SEL_BUNDLE: u64 = 1;
/// [`BufRing::sel_word`] bit: the buffer ring is incremental.
pub(crate) const SEL_INC: u64 = 2;

/// An incremental ring's per-buffer state that the owned layer reads when it *reaps* a
/// completion (in the CQ's order, which is the kernel's order of consumption), so that a piece
/// keeps its true offset and its buffer's generation whenever it is selected, even after
/// completions reaped later:
/// - `delivered[bid]`: bytes of the buffer the kernel has reported so far (the offset of the
///   next piece), reset when its last piece is reaped;
/// - `gen[bid]`: bumped each time the buffer goes back to the ring, so a piece reaped before
///   that is stale and refused (its bytes may be the kernel's again).
///
/// Atomics only because the in-flight table may move to another thread with its ring; one
/// thread uses a ring at a time.
#[derive(Debug)]
pub(crate) struct IncShared {
    pub(crate) gen: Box<[AtomicU32]>,
    pub(crate) delivered: Box<[AtomicU32]>,
}

impl IncShared {
    fn new(entries: u32) -> Self {
        IncShared {
            gen: (0..entries).map(|_| AtomicU32::new(0)).collect(),
            delivered: (0..entries).map(|_| AtomicU32::new(0)).collect(),
        }
    }

    /// The piece `len` bytes long of buffer `bid` that a completion just reaped names: its
    /// offset and the buffer's generation (`None` for a bid out of range).
    pub(crate) fn stamp(&self, bid: u16, len: u32, more: bool) -> Option<(u32, u32)> {
        let (gen, delivered) = (self.gen.get(bid as usize)?, self.delivered.get(bid as usize)?);
        let off = delivered.load(core::sync::atomic::Ordering::Relaxed);
        delivered.store(if more { off.saturating_add(len) } else { 0 }, core::sync::atomic::Ordering::Relaxed);
        Some((off, gen.load(core::sync::atomic::Ordering::Relaxed)))
    }
}

/// Most entries a buffer ring may have.
/// The kernel's limit for `IORING_REGISTER_PBUF_RING` (a power of two below 65536), Linux 5.19.
pub const MAX_BUF_RING_ENTRIES: u32 = 32768;

/// Marks the path that calls it as unlikely (the error paths), without moving the error
/// values out of line: built inline, a `Result` stays in registers.
#[cold]
#[inline(never)]
pub(crate) fn cold() {}

/// A completion names a buffer id the ring does not have.
#[inline(always)]
pub(super) fn bid_out_of_range() -> Error {
    cold();
    Error::InvalidArgument { what: "buffer id", reason: "larger than the ring" }
}

/// A completion names a buffer the application already holds.
#[inline(always)]
pub(super) fn already_held() -> Error {
    cold();
    Error::InvalidArgument { what: "buffer id", reason: "already handed out (a completion was selected twice)" }
}

/// Buffer memory the caller provides for a [`BufRing`] ([`BufRingBuilder::memory`]).
/// Each buffer's address goes into its ring entry (`struct io_uring_buf`,
/// `io_uring_buf_ring_add(3)`), Linux 5.19.
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
    /// Buffer rings: Linux 5.19.
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
/// The registration is `IORING_REGISTER_PBUF_RING` (`io_uring_setup_buf_ring(3)`, Linux 5.19).
#[derive(Debug)]
pub struct BufRingBuilder {
    bgid: u16,
    entries: u32,
    buf_size: u32,
    kernel_mapped: bool,
    incremental: bool,
    min_left: u32,
    huge_pages: bool,
    lazy_pool: bool,
    memory: Option<CallerBuffers>,
    send: bool,
}

/// `bid_info` bit: the buffer is held by the application (handed out by a completion and not
/// yet returned). Clear: it is in the ring, or selected by the kernel and not yet reported.
pub(super) const HELD: u32 = 1 << 31;

/// `bid_info` bits: the bid added to the ring right after this one (its ring-order successor).
pub(super) const SUCC: u32 = 0xffff;

/// A provided-buffer ring whose buffers the crate owns: the kernel picks a buffer for each
/// operation that selects from the group, the completion names it, and [`BufRing::select`]
/// turns the completion into a typed [`Selection`](crate::buf::Selection) that gives the bytes and returns the buffer
/// to the ring when dropped.
///
/// See `io_uring_register_buf_ring(3)`, `io_uring_setup_buf_ring(3)`, `io_uring_buf_ring_add(3)`,
/// `io_uring_buf_ring_advance(3)`, `io_uring_buf_ring_cq_advance(3)`,
/// `io_uring_buf_ring_head(3)`, `io_uring_buf_ring_available(3)`.
///
/// Not `Sync`: the ring is driven from one thread (guards recycle through shared `Cell`s).
///
/// Registered with `IORING_REGISTER_PBUF_RING` (Linux 5.19); buffer selection by operations
/// (`IOSQE_BUFFER_SELECT`) dates from Linux 5.7 with the older `IORING_OP_PROVIDE_BUFFERS`.
///
/// A multishot receive on the owned layer: twenty messages pass through four buffers, because
/// each buffer goes back to the kernel when its [`Selection`](crate::buf::Selection) is dropped.
///
/// ```
/// # std::thread::spawn(|| { // a watchdog: a hang fails fast, naming the example
/// #     std::thread::sleep(std::time::Duration::from_secs(60));
/// #     eprintln!("HANG in the BufRing example: no completion after 60 s");
/// #     std::process::abort();
/// # });
/// use std::io::Write;
/// use std::os::unix::net::UnixStream;
/// use uring::buf::BufRing;
/// use uring::owned::{OwnedRing, RecvMultishot};
///
/// let mut ring = OwnedRing::new(8)?;
/// // Group 1: four buffers of 64 bytes, registered with the ring.
/// let br = ring.buf_ring(BufRing::builder(1, 4, 64))?;
/// let (mut tx, rx) = UnixStream::pair()?;
/// ring.push(RecvMultishot::new(rx, &br))?;
/// for i in 0..20u8 {
///     tx.write_all(&[i; 10])?;
///     let mut c = ring.wait()?; // submits the receive the first time
///     assert!(c.more(), "the receive stays armed");
///     let sel = c.select(&br)?;
///     assert_eq!(sel.data(), Some(&[i; 10][..]));
/// } // `sel` dropped: its buffer is back in the ring
/// drop(tx);
/// let c = ring.wait()?; // end of stream: the final completion, with the operation
/// assert_eq!((c.more(), c.result()), (false, Ok(0)));
/// let _op: RecvMultishot = c.into_op().expect("the receive");
/// assert_eq!(br.held(), 0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct BufRing {
    /// Unique per buffer ring (kept buffers are checked against it, and so are owned
    /// completions: [`Completion::select`](crate::owned::Completion::select)).
    pub(super) id: u64,
    /// The id of the [`Ring`] it is registered on.
    pub(super) ring_id: u64,
    pub(super) bgid: u16,
    pub(super) entries: u32,
    pub(super) buf_size: u32,
    pub(super) incremental: bool,
    /// `log2(buf_size)` when `buf_size` is a power of two (a bundle's buffer count is then a
    /// shift, not a division), else `u32::MAX`.
    pub(super) size_shift: u32,
    /// The pool's first byte.
    pub(super) base: *mut u8,
    /// The pool's length in bytes.
    pub(super) pool_len: usize,
    /// Slot 0 of the shared ring; the tail overlays `bufs[0].resv` (offset 14).
    pub(super) slots: *mut io_uring_buf,
    pub(super) prod: Cell<BufRingProducer>,
    /// Per bid: [`HELD`], and in [`SUCC`] the bid added to the ring right after it (the next
    /// slot). A bundle's buffers are contiguous in ring order, so they are found by following
    /// these links from the completion's bid; the link of a buffer is written when its successor
    /// is added and never changes while the buffer is held, except for the most recently added
    /// buffer, whose link no bundle follows (a bundle cannot extend past the tail). One word per
    /// buffer, so returning a buffer in a batch costs one bookkeeping store. One more word at
    /// index `entries`, never held, is scratch for [`Refill`].
    pub(super) bid_info: Box<[Cell<u32>]>,
    /// The bid added most recently (the one in the slot before the tail; 0 before the first).
    pub(super) last_added: Cell<u16>,
    /// Per bid, incremental rings only: bytes already consumed.
    pub(super) inc_off: Box<[Cell<u32>]>,
    /// Per bid, incremental rings only: live `IncSlice` views of the buffer, and whether its last
    /// piece has arrived (so the buffer returns to the ring once no view remains).
    pub(super) inc_views: Box<[Cell<u32>]>,
    pub(super) inc_done: Box<[Cell<bool>]>,
    /// Incremental rings only: what the owned layer reads when it reaps a completion naming a
    /// buffer of this ring (shared with the in-flight table; see [`IncShared`]).
    pub(super) inc_shared: Option<Arc<IncShared>>,
    /// Whether this is a ring the application fills for sends ([`BufRingBuilder::send`]).
    pub(super) send: bool,
    /// Send rings only, per bid: the length it was queued with ([`BufRing::queue`]).
    pub(super) lens: Box<[Cell<u32>]>,
    /// Send rings only: the buffers with the application and not in use (a stack of bids), and
    /// how many.
    pub(super) free: Box<[Cell<u16>]>,
    pub(super) free_n: Cell<u32>,
    /// Send rings only: buffers the kernel took that were handed back so far (follows the
    /// kernel's head while one send bundle is in flight).
    pub(super) sent_head: Cell<u16>,
    pub(super) ring_fd: OwnedFd,
    pub(super) _ring_mem: Mmap,
    /// The ring's keep-alive list, which holds the pool (see [`crate::Ring`]'s drop). Declared
    /// after the fd and the ring mapping: if this buffer ring outlives the ring, it is the last
    /// holder of the list, and dropping this share waits for the kernel's teardown (which needs
    /// the fd closed and the mapping gone) before releasing the pool.
    pub(super) keep_alive: Share,
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
    /// Registered with `IORING_REGISTER_PBUF_RING` (`io_uring_setup_buf_ring(3)`, Linux 5.19).
    pub fn builder(bgid: u16, entries: u32, buf_size: u32) -> BufRingBuilder {
        BufRingBuilder {
            bgid,
            entries,
            buf_size,
            kernel_mapped: false,
            incremental: false,
            min_left: 0,
            huge_pages: false,
            lazy_pool: false,
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
    ///
    /// Small messages then share a buffer instead of taking one each: ten 128-byte messages fit
    /// in three buffers of 512 bytes (on a stream socket, a message that does not fit in what is
    /// left of a buffer arrives in two pieces). Each completion's selection is a piece
    /// ([`IncSlice`](crate::buf::IncSlice)) at an offset in its buffer; the buffer returns to
    /// the ring once the kernel has used it up and no piece of it is alive.
    ///
    /// ```
    /// # std::thread::spawn(|| { // a watchdog: a hang fails fast, naming the example
    /// #     std::thread::sleep(std::time::Duration::from_secs(60));
    /// #     eprintln!("HANG in the BufRingBuilder::incremental example: no completion after 60 s");
    /// #     std::process::abort();
    /// # });
    /// use std::io::Write;
    /// use std::os::unix::net::UnixStream;
    /// use uring::buf::{BufRing, Selection};
    /// use uring::owned::{OwnedRing, RecvMultishot};
    /// use uring::Error;
    ///
    /// let mut ring = OwnedRing::new(8)?;
    /// let br = match ring.buf_ring(BufRing::builder(1, 4, 512).incremental()) {
    ///     Ok(br) => br,
    ///     Err(Error::Os(e)) if e.raw_os_error() == Some(libc::EINVAL) => {
    ///         println!("this kernel lacks incremental buffer rings (Linux 6.12)");
    ///         return Ok(());
    ///     }
    ///     Err(e) => return Err(e.into()),
    /// };
    /// let (mut tx, rx) = UnixStream::pair()?;
    /// ring.push(RecvMultishot::new(rx, &br))?;
    /// let mut at = Vec::new();
    /// for i in 0..10u8 {
    ///     tx.write_all(&[i; 128])?;
    ///     let mut c = ring.wait()?;
    ///     match c.select(&br)? {
    ///         Selection::Incremental(piece) => {
    ///             assert_eq!(piece.data(), &[i; 128][..]);
    ///             at.push((piece.bid(), piece.offset()));
    ///         }
    ///         other => panic!("expected a piece, got {other:?}"),
    ///     }
    /// }
    /// // Four pieces per buffer, 128 bytes apart.
    /// assert_eq!(at[..5], [(0, 0), (0, 128), (0, 256), (0, 384), (1, 0)]);
    /// assert_eq!(at[9], (2, 128));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
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

    /// Maps the crate-allocated buffer pool without pre-faulting it (no `MAP_POPULATE`, see
    /// `mmap(2)`): each page is allocated when the kernel or the application first writes it,
    /// instead of all of them when the ring is built. Building a large ring is then quick and
    /// takes no memory for buffers that are never used, at the cost of a page fault on the
    /// first use of each page (taken by the kernel inside the request that selected the
    /// buffer). Not with [`memory`](Self::memory) (caller memory is the caller's to fault in):
    /// refused with [`Error::InvalidArgument`]. Buffer rings: Linux 5.19.
    ///
    /// ```
    /// # let mut ring = uring::Ring::new(8)?;
    /// // 4096 buffers of 64 KiB: 256 MiB of address space, none of it touched yet.
    /// let br = uring::buf::BufRing::builder(1, 4096, 64 * 1024).lazy_pool().build(&mut ring)?;
    /// assert_eq!(br.pool().1, 256 << 20);
    /// # Ok::<(), uring::Error>(())
    /// ```
    pub fn lazy_pool(mut self) -> Self {
        self.lazy_pool = true;
        self
    }

    /// A ring for sends (`IORING_RECVSEND_BUNDLE` on `IORING_OP_SEND`, Linux 6.10): it starts
    /// empty, with every buffer on the application's side. Take a buffer with
    /// [`BufRing::take_free`], fill it ([`BufRing::held_data_mut`]), and queue it with the
    /// length to send ([`BufRing::queue`]); a send bundle
    /// ([`SendBundle`](crate::owned::SendBundle)) sends the queued buffers in order, and its
    /// completion ([`Completion::select`](crate::owned::Completion::select)) hands the sent
    /// buffers back as a [`Bundle`](crate::buf::Bundle) whose drop returns them to the free list (never to the
    /// ring: a sent buffer is not resent). Not with [`incremental`](Self::incremental).
    pub fn send(mut self) -> Self {
        self.send = true;
        self
    }

    /// Uses caller memory for the buffers instead of a crate-allocated pool.
    /// The addresses go into the ring entries (`struct io_uring_buf`).
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
        if self.lazy_pool && self.memory.is_some() {
            return Err(Error::InvalidArgument {
                what: "lazy_pool",
                reason: "only applies to the crate-allocated pool, not to caller memory",
            });
        }
        if self.send && self.incremental {
            return Err(Error::InvalidArgument { what: "send", reason: "a send ring cannot be incremental" });
        }
        Ok(())
    }

    /// Registers the ring with `ring` and fills it with every buffer (a [`send`](Self::send)
    /// ring starts empty, its buffers on the free list).
    /// `IORING_REGISTER_PBUF_RING` (`io_uring_register_buf_ring(3)`, Linux 5.19), then
    /// `io_uring_buf_ring_add(3)` per buffer.
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
            None => match Mmap::anonymous_with(need, self.huge_pages, !self.lazy_pool) {
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
            inc_shared: self.incremental.then(|| Arc::new(IncShared::new(entries))),
            send: self.send,
            lens: (0..if self.send { entries } else { 0 }).map(|_| Cell::new(0)).collect(),
            // Reversed, so that `take_free` hands out bid 0 first.
            free: (0..if self.send { entries } else { 0 }).rev().map(|b| Cell::new(b as u16)).collect(),
            free_n: Cell::new(if self.send { entries } else { 0 }),
            sent_head: Cell::new(0),
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

    /// The word that names this buffer ring in an owned operation's slot (its unique id,
    /// whether it is incremental, [`SEL_INC`], and whether completions of that operation name
    /// bundles, [`SEL_BUNDLE`]), never 0.
    #[inline]
    pub(crate) fn sel_word(&self, bundle: bool) -> u64 {
        (self.id << 2) | (self.incremental as u64) << 1 | bundle as u64
    }

    /// Incremental rings: the state the owned layer stamps completions with.
    pub(crate) fn inc_shared(&self) -> Option<&Arc<IncShared>> {
        self.inc_shared.as_ref()
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

    /// Whether buffers are consumed incrementally (`IOU_PBUF_RING_INC`, Linux 6.12).
    pub fn is_incremental(&self) -> bool {
        self.incremental
    }

    /// The tail of the ring as the application last published it.
    pub fn tail(&self) -> u16 {
        self.prod.get().tail()
    }

    #[inline]
    pub(super) fn tail_atomic(&self) -> &AtomicU16 {
        // SAFETY: the tail overlays `bufs[0].resv` at byte 14 of the live, 8-aligned ring
        // mapping; the kernel reads it, only we write it.
        unsafe { &*((self.slots as *mut u8).add(14) as *const AtomicU16) }
    }

    /// The pool's first byte.
    #[inline(always)]
    pub(crate) fn base(&self) -> *mut u8 {
        self.base
    }

    /// The first byte of buffer `bid` (below `entries`) in the pool.
    #[inline]
    pub(crate) fn buf_ptr(&self, bid: u16) -> *mut u8 {
        self.whole().buf_ptr(bid)
    }

    /// Per-bid bookkeeping cell.
    #[inline]
    pub(super) fn info(&self, bid: u16) -> &Cell<u32> {
        debug_assert!((bid as u32) < self.entries);
        // SAFETY: every caller passes a bid below `entries` (checked at selection, or a bid
        // the ring handed out), and `bid_info` has `entries + 1` cells.
        unsafe { self.bid_info.get_unchecked(bid as usize) }
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

    /// A raw pointer to the pool and its length (for code that builds iovecs over it).
    pub fn pool(&self) -> (*const u8, usize) {
        (self.base, self.pool_len)
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
