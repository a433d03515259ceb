//! App-managed provided-buffer rings (`IORING_REGISTER_PBUF_RING`, Linux 5.19).

use core::cell::Cell;
use core::ffi::c_void;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;

use uring_uapi::*;

use crate::buf::select::{Buf, Bundle, IncSlice, Selection};
use crate::cq::CompletionQueue;
use crate::cqe::Cqe;
use crate::index::BufRingProducer;
use crate::op::BufferGroup;
use crate::sync::AtomicU16;
use crate::sys::{self, Mmap};
use crate::{Error, Result, Ring};

/// Most entries a buffer ring may have.
pub const MAX_BUF_RING_ENTRIES: u32 = 32768;

/// Buffer memory shared with the ring's keep-alive list: freed only once no request can still
/// write into it.
pub(crate) struct PoolMem {
    _map: Option<Mmap>,
    base: *mut u8,
    len: usize,
}

// SAFETY: plain memory; access is governed by the buffer ring's ownership tracking.
unsafe impl Send for PoolMem {}
// SAFETY: as above.
unsafe impl Sync for PoolMem {}

/// Buffer memory the caller provides for a [`BufRing`].
#[derive(Debug)]
pub struct CallerBuffers {
    ptr: *mut u8,
    len: usize,
}

impl CallerBuffers {
    /// Describes `len` bytes at `ptr`, to be split into `entries` equal buffers.
    ///
    /// # Safety
    /// The memory must be writable, stay valid until the [`Ring`] the buffer ring is registered
    /// with has been dropped (the kernel may write into it until then), and not be accessed
    /// through any other path meanwhile.
    pub unsafe fn new(ptr: *mut u8, len: usize) -> Self {
        CallerBuffers { ptr, len }
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
}

/// `bid_info` bit: the buffer is held by the application (handed out by a completion and not
/// yet returned). Clear: it is in the ring, or selected by the kernel and not yet reported.
const HELD: u32 = 1 << 31;

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
    /// Unique per buffer ring (kept buffers are checked against it).
    id: u64,
    bgid: u16,
    entries: u32,
    buf_size: u32,
    incremental: bool,
    /// Slot 0 of the shared ring; the tail overlays `bufs[0].resv` (offset 14).
    slots: *mut io_uring_buf,
    prod: Cell<BufRingProducer>,
    /// Per bid: the slot it was last added to (low 16 bits) and [`HELD`].
    bid_info: Box<[Cell<u32>]>,
    /// Per bid: the bid added to the ring right after it (the next slot). A bundle's buffers
    /// are contiguous in ring order, so they are found by following these links from the
    /// completion's bid; the links of held buffers never change.
    succ: Box<[Cell<u16>]>,
    /// The bid added most recently (the one in the slot before the tail), if any.
    last_added: Cell<Option<u16>>,
    /// Per bid, incremental rings only: bytes already consumed.
    inc_off: Box<[Cell<u32>]>,
    /// Per bid, incremental rings only: live `IncSlice` views of the buffer, and whether its last
    /// piece has arrived (so the buffer returns to the ring once no view remains).
    inc_views: Box<[Cell<u32>]>,
    inc_done: Box<[Cell<bool>]>,
    pool: Arc<PoolMem>,
    ring_fd: OwnedFd,
    _ring_mem: Mmap,
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
            if m.len < need {
                return Err(Error::MemoryTooSmall { needed: need, provided: m.len });
            }
        }
        if self.min_left != 0 && !self.incremental {
            return Err(Error::InvalidArgument { what: "min_left", reason: "only applies to incremental rings" });
        }
        Ok(())
    }

    /// Registers the ring with `ring` and fills it with every buffer.
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
        let pool = match self.memory {
            Some(m) => PoolMem { _map: None, base: m.ptr, len: m.len },
            None => match Mmap::anonymous(need, self.huge_pages) {
                Ok(m) => PoolMem { base: m.as_ptr(), len: m.len(), _map: Some(m) },
                Err(e) => {
                    unregister(&ring_fd);
                    return Err(e.into());
                }
            },
        };
        let pool = Arc::new(pool);
        ring.keep_alive(pool.clone());
        static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let br = BufRing {
            id: NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            bgid: self.bgid,
            entries,
            buf_size: self.buf_size,
            incremental: self.incremental,
            slots: ring_mem.as_ptr().cast(),
            prod: Cell::new(BufRingProducer::new(0, entries)),
            bid_info: (0..entries).map(|_| Cell::new(HELD)).collect(),
            succ: (0..entries).map(|_| Cell::new(0)).collect(),
            last_added: Cell::new(None),
            inc_off: (0..if self.incremental { entries } else { 0 }).map(|_| Cell::new(0)).collect(),
            inc_views: (0..if self.incremental { entries } else { 0 }).map(|_| Cell::new(0)).collect(),
            inc_done: (0..if self.incremental { entries } else { 0 }).map(|_| Cell::new(false)).collect(),
            pool,
            ring_fd,
            _ring_mem: ring_mem,
        };
        for bid in 0..entries as u16 {
            br.add(bid, bid);
        }
        br.publish(entries as u16);
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
    pub fn bgid(&self) -> u16 {
        self.bgid
    }

    /// The ring's unique id (kept buffers name it).
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// Whether `bid` (below `entries`) is held by the application.
    pub(crate) fn is_held(&self, bid: u16) -> bool {
        (bid as u32) < self.entries && self.info(bid).get() & HELD != 0
    }

    /// The number of buffers (and ring slots).
    pub fn entries(&self) -> u32 {
        self.entries
    }

    /// The size of each buffer.
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

    /// The address and length of buffer `bid` in the pool.
    #[inline]
    pub(crate) fn buf_ptr(&self, bid: u16) -> *mut u8 {
        // SAFETY: `bid < entries`, and the pool holds `entries * buf_size` bytes.
        unsafe { self.pool.base.add(bid as usize * self.buf_size as usize) }
    }

    /// Per-bid bookkeeping cell.
    #[inline]
    fn info(&self, bid: u16) -> &Cell<u32> {
        debug_assert!((bid as u32) < self.entries);
        // SAFETY: every caller passes a bid below `entries` (checked at selection, or a bid
        // the ring handed out), and `bid_info` has `entries` cells.
        unsafe { self.bid_info.get_unchecked(bid as usize) }
    }

    /// Writes buffer `bid` into the slot `offset` places past the tail (not yet published).
    /// Never writes `resv`, which for slot 0 is the shared tail.
    #[inline]
    fn add(&self, bid: u16, offset: u16) {
        let slot = self.prod.get().slot(offset);
        let e = self.slots.wrapping_add(slot as usize);
        // SAFETY: `slot < entries`; the slot is free (the kernel consumed it: every buffer not
        // held by the application is in the ring, and there are exactly `entries` buffers), and
        // the kernel does not read it before the tail store that publishes it.
        unsafe {
            core::ptr::addr_of_mut!((*e).addr).write(self.buf_ptr(bid) as u64);
            core::ptr::addr_of_mut!((*e).len).write(self.buf_size);
            core::ptr::addr_of_mut!((*e).bid).write(bid);
        }
        self.info(bid).set(slot as u32);
        if let Some(prev) = self.last_added.get() {
            // SAFETY: `prev` is a bid below `entries` (it was added before).
            unsafe { self.succ.get_unchecked(prev as usize) }.set(bid);
        }
        self.last_added.set(Some(bid));
        if self.incremental {
            self.inc_off[bid as usize].set(0);
        }
    }

    /// Publishes `n` added buffers with one release store of the tail.
    #[inline]
    fn publish(&self, n: u16) {
        let mut prod = self.prod.get();
        prod.advance(self.tail_atomic(), n);
        self.prod.set(prod);
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

    /// Returns buffer `bid` to the kernel (one slot write and one tail store).
    #[inline]
    pub(crate) fn recycle_bid(&self, bid: u16) {
        debug_assert!(self.info(bid).get() & HELD != 0);
        self.add(bid, 0);
        self.publish(1);
    }

    /// Returns several buffers with a single tail store.
    pub(crate) fn recycle_bids(&self, bids: impl Iterator<Item = u16>) {
        let mut n = 0u16;
        for bid in bids {
            debug_assert!(self.info(bid).get() & HELD != 0);
            self.add(bid, n);
            n += 1;
        }
        if n > 0 {
            self.publish(n);
        }
    }

    /// Marks `bid` (below `entries`) as handed to the application by a completion.
    #[inline]
    fn take(&self, bid: u16) -> Result<()> {
        let cell = self.info(bid);
        let v = cell.get();
        if v & HELD != 0 {
            return Err(Error::InvalidArgument {
                what: "buffer id",
                reason: "already handed out (a completion was selected twice)",
            });
        }
        cell.set(v | HELD);
        Ok(())
    }

    /// Turns a completion into a typed buffer selection: no buffer, one buffer, or an
    /// incremental slice. Use [`select_bundle`](Self::select_bundle) for completions of bundle
    /// operations. Every completion that names a buffer must be selected exactly once, or its
    /// buffer is lost to the ring.
    #[inline]
    pub fn select(&self, cqe: &Cqe) -> Result<Selection<'_>> {
        let Some(bid) = cqe.buffer_id() else {
            return Ok(Selection::None);
        };
        if bid as u32 >= self.entries {
            return Err(Error::InvalidArgument { what: "buffer id", reason: "larger than the ring" });
        }
        let len = cqe.raw_result().max(0) as u32;
        if self.incremental {
            let off = self.inc_off[bid as usize].get();
            if off.checked_add(len).is_none_or(|end| end > self.buf_size) {
                return Err(Error::InvalidArgument { what: "completion length", reason: "past the end of the buffer" });
            }
            let more = cqe.raw_flags() & IORING_CQE_F_BUF_MORE != 0;
            if more {
                if self.info(bid).get() & HELD != 0 {
                    return Err(Error::InvalidArgument {
                        what: "buffer id",
                        reason: "already handed out (a completion was selected twice)",
                    });
                }
                self.inc_off[bid as usize].set(off + len);
            } else {
                self.take(bid)?;
            }
            return Ok(Selection::Incremental(IncSlice::new(self, bid, off, len, more)));
        }
        if len > self.buf_size {
            return Err(Error::InvalidArgument { what: "completion length", reason: "larger than a buffer" });
        }
        self.take(bid)?;
        Ok(Selection::Buffer(Buf::new(self, bid, len)))
    }

    /// Turns the completion of a bundle operation (`IORING_RECVSEND_BUNDLE`) into its buffers:
    /// contiguous in ring order from the completion's buffer id, their lengths adding up to the
    /// result.
    pub fn select_bundle(&self, cqe: &Cqe) -> Result<Selection<'_>> {
        let Some(bid) = cqe.buffer_id() else {
            return Ok(Selection::None);
        };
        if self.incremental {
            return Err(Error::Unsupported { what: "bundles on incremental buffer rings (not yet in this crate)" });
        }
        if bid as u32 >= self.entries {
            return Err(Error::InvalidArgument { what: "buffer id", reason: "larger than the ring" });
        }
        let res = cqe.raw_result().max(0) as u64;
        let count = res.div_ceil(self.buf_size as u64).max(1);
        if count > self.entries as u64 {
            return Err(Error::InvalidArgument { what: "bundle length", reason: "more than the ring holds" });
        }
        // Check, then take, so a bad completion leaves the ring untouched.
        let mut b = bid;
        for k in 0..count {
            if self.info(b).get() & HELD != 0 {
                return Err(Error::InvalidArgument { what: "bundle", reason: "names a buffer already handed out" });
            }
            if k + 1 < count {
                b = self.succ_of(b);
            }
        }
        let mut b = bid;
        for _ in 0..count {
            self.info(b).set(self.info(b).get() | HELD);
            b = self.succ_of(b);
        }
        Ok(Selection::Bundle(Bundle::new(self, bid, count as u16, res as u32)))
    }

    /// The bid added right after `bid`.
    #[inline]
    pub(crate) fn succ_of(&self, bid: u16) -> u16 {
        debug_assert!((bid as u32) < self.entries);
        // SAFETY: `bid` is below `entries`, and `succ` has `entries` cells.
        unsafe { self.succ.get_unchecked(bid as usize) }.get()
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

    /// Recycles every buffer of `sels` with one tail store, then releases `cq_slots` CQ slots
    /// (`io_uring_buf_ring_cq_advance(3)`): the batch path for bundles and 32-byte CQEs.
    pub fn recycle_and_advance<'a>(
        &'a self,
        sels: impl IntoIterator<Item = Selection<'a>>,
        cq: &mut CompletionQueue,
        cq_slots: u32,
    ) {
        let mut n = 0u16;
        for sel in sels {
            sel.release_into(|bid| {
                self.add(bid, n);
                n += 1;
            });
        }
        if n > 0 {
            self.publish(n);
        }
        cq.advance(cq_slots);
    }

    /// A raw pointer to the pool and its length (for code that builds iovecs over it).
    pub fn pool(&self) -> (*const u8, usize) {
        (self.pool.base, self.pool.len)
    }
}

impl BufferGroup for BufRing {
    fn bgid(&self) -> u16 {
        self.bgid
    }
}

impl Drop for BufRing {
    fn drop(&mut self) {
        // Unregister before the ring memory is unmapped. The buffer pool itself stays alive in
        // the ring's keep-alive list until the ring is dropped (requests may still write to it).
        let _ = unregister_fd(&self.ring_fd, self.bgid);
    }
}
