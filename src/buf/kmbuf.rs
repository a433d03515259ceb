//! Kernel-managed buffer rings (kmbuf): the kernel allocates and owns a group's buffers; the
//! application maps them read/write as one contiguous region.
//!
//! **Experimental, not in mainline Linux.** This follows the v3 proposal ("io_uring: add
//! kernel-managed buffer rings", March 2026), which no kernel up to 7.3 carries. Support is
//! probed at run time, once per ring ([`KmBufRing::is_supported`]); on kernels without it
//! registration returns [`Error::Unsupported`], and a kernel with kmbuf that refuses a
//! registration as invalid (`EINVAL`) gets [`Error::Os`] with that errno.
//!
//! The ABI: `IORING_REGISTER_PBUF_RING` with `IOU_PBUF_RING_MMAP | IOU_PBUF_RING_KERNEL_MANAGED`
//! and a per-buffer size instead of a ring address; then an `mmap(2)` of `entries * buf_size`
//! bytes at `IORING_OFF_PBUF_RING | (bgid << 16)`, where buffer `bid` starts at byte
//! `bid * buf_size`. Only kernel consumers select buffers, with auto-commit, and only they
//! recycle them: the application reads what a completion's buffer id names.
//!
//! ## Who may select from a kmbuf group
//! Only the group's kernel consumer, a uring_cmd driver that selects through the kernel API
//! after pinning the ring (FUSE over io_uring in the proposal). No mainline driver is one.
//! Selecting through an entry (`IOSQE_BUFFER_SELECT` with the group's id) always goes wrong:
//! - ordinary reads and receives (read, readv, recv, recvmsg, read multishot) complete with
//!   `-EFAULT` **and** `IORING_CQE_F_BUFFER | bid << 16`: the kernel took the buffer at the
//!   head, could not copy into it, and the buffer is gone until the consumer recycles it;
//! - a `IORING_OP_URING_CMD` with a buffer group but without `IORING_URING_CMD_MULTISHOT` is
//!   refused at submission (`EINVAL`); with it, the one mainline driver that selects from
//!   buffer groups (ublk's batch fetch, Linux 6.18) uses the address as user memory: `EFAULT`,
//!   and the buffer is burnt the same way.
//!
//! So every encoder refuses a [`KmBufRing`] as a buffer group with
//! [`Error::InvalidArgument`] (`what: "buffer group"`), `op::UringCmd::buf_group` too. A bare
//! [`BufGroupId`](crate::op::BufGroupId) is not checked (the crate cannot tell what it names):
//! entries carrying one are pushed only with `unsafe`, and
//! [`FdSqe::into_safe`](crate::FdSqe::into_safe) refuses every buffer-selecting entry, so
//! no safe code can make the kernel burn a kmbuf buffer.
//!
//! ## Completions of a consumer's commands
//! A command that holds a selected buffer when it completes asynchronously
//! (`io_uring_cmd_done`) posts `res` = bytes and `IORING_CQE_F_BUFFER | bid << 16`. A driver
//! that returns its result synchronously from its `->uring_cmd()` handler posts `flags = 0`
//! even though it consumed a buffer: that bid never reaches user space. A driver may also keep
//! a buffer across completions of one command and name it only once. [`CmdBufTracker`]
//! records the last bid named per command and reports a completion without a bid as a state of
//! its own ([`CmdBuf::Unnamed`]), never as the last bid.
//!
//! ## Reading buffers: why it is `unsafe` here, and safe over [`ContiguousRing`]
//! The crate hands a buffer to safe code only through a token that a genuine completion
//! produced, once (the crate's safety model): for app-managed rings that is
//! [`Completion::select`](crate::owned::Completion::select), which works because an owned
//! operation that selects from the ring was recorded at push and the kernel's completion of it
//! names the buffer the kernel took out of the ring. A [`ContiguousRing`] is an app-managed
//! ring, so that path reads it safely: register it on an
//! [`OwnedRing`](crate::owned::OwnedRing) ([`ContiguousRing::new`] over
//! [`OwnedRing::buf_ring`](crate::owned::OwnedRing::buf_ring)), push owned operations that
//! select from [`ContiguousRing::ring`], and select with `completion.select(cr.ring())`. For
//! [`KmBufRing`] the crate cannot vouch for any buffer yet, for three reasons of the ABI:
//! 1. **No operation the crate can vouch for selects from a kmbuf group.** Reads and receives
//!    must not (see above); the consumers are uring_cmd drivers, whose entries are raw (a
//!    driver-defined payload may hold addresses, so pushing one is `unsafe` and the owned layer
//!    has no uring_cmd operation). No owned completion can say "the kernel selected this
//!    buffer for you".
//! 2. **Completions do not name every selection.** A synchronous completion consumes a buffer
//!    and names none; a held buffer is named once. A token made once per completion has no
//!    completion to come from for those buffers, and a bid remembered from an earlier
//!    completion proves nothing about the next.
//! 3. **User space cannot give a buffer back.** The ring array is not mapped and only the
//!    consumer recycles, through a driver-defined step (for FUSE in the proposal, the
//!    `COMMIT_AND_FETCH` of the request). A guard cannot return its buffer when dropped, and
//!    nothing ties the command that gives it back to the guard's life.
//!
//! A driver whose commands the crate can type (an owned operation that owns its payload and is
//! recorded as selecting from the group, whose completions always name the buffer, and whose
//! give-back is an owned operation that consumes the guard) would close all three; until one
//! exists, [`KmBufRing::buffer`] and [`KmBufRing::buffer_mut`] are `unsafe` with the contract
//! they document, as is the raw [`ContiguousRing::buffer`].
//!
//! ## Unregistering and pinning
//! A consumer can pin a ring; unregistering it then fails with `EBUSY` and the ring stays
//! registered. [`KmBufRing::close`] reports that as [`Error::BufRingPinned`] and hands the ring
//! back. Dropping a pinned ring cannot report it: the group stays registered (its buffers and
//! their memlock charge are the kernel's until the consumer unpins it or the io_uring instance
//! is torn down), only this process's mapping of them goes, and [`pinned_at_drop`] counts it.
//! Nothing here frees memory the kernel owns: the kernel allocated the buffers and frees them
//! itself.
//!
//! [`KmBufRing`] runs over a [`KmbufBackend`]: [`KernelBackend`] for the real kernel, or
//! `model::ModelBackend`, a model of the kernel side written from the proposal and the
//! behaviour observed on a kernel carrying it, which the crate's tests, benches and fuzz targets
//! use on kernels without kmbuf (test machinery: hidden from the documentation and outside the
//! API's stability promise). [`ContiguousRing`] gives the same layout on every kernel since 5.19 by laying
//! an app-managed `IOU_PBUF_RING_MMAP` ring over one region.
//!
//! ## Example
//! On a kernel with kmbuf, the group is registered and mapped; a kernel consumer selects its
//! buffers, and each completion of the consumer's command that names a buffer lets the
//! application read it. On kernels without kmbuf (every mainline kernel up to 7.3) the
//! example runs the same steps against the crate's model of the kernel side, which plays the
//! consumer: ten commands through four buffers, each named by a completion, read, and handed
//! back.
//!
//! ```
//! use uring::buf::kmbuf::{CmdBuf, CmdBufTracker, KmBufRing};
//! use uring::Ring;
//!
//! let ring = Ring::new(8)?;
//! if KmBufRing::is_supported(&ring)? {
//!     let km = KmBufRing::register(&ring, 1, 4, 4096)?;
//!     assert_eq!(km.region().len(), 4 * 4096); // buffer b at byte b * 4096
//!     return Ok(()); // the consumer is a uring_cmd driver: see its documentation
//! }
//! println!("no kmbuf in this kernel: running against the model of the kernel side");
//! // Test machinery, hidden from these docs and outside the API's stability promise.
//! use uring::buf::kmbuf::model::{CmdCompletion, KmbufModel, ModelBackend};
//! let backend = ModelBackend::new(KmbufModel::new());
//! let kernel = backend.0.clone();
//! let mut km = KmBufRing::register_with(backend, 1, 4, 4096)?;
//! let mut tracker = CmdBufTracker::with_capacity(1);
//! for _ in 0..10 {
//!     // The consumer's command (user_data 42) selects a buffer, fills 100 bytes and
//!     // completes asynchronously: the completion names the buffer.
//!     let (taken, cqe) = kernel.borrow_mut().consumer_command(1, 42, 100, CmdCompletion::Async)?;
//!     let CmdBuf::Named(bid) = tracker.observe(&cqe) else { unreachable!("async completions name it") };
//!     assert_eq!(bid, taken);
//!     let n = cqe.result()? as usize;
//!     // SAFETY: a completion of the consumer's command named `bid`, and the buffer is handed
//!     // back only after the slice is gone (the model never writes buffers anyway).
//!     let data = unsafe { km.buffer(bid) }.expect("bid in range");
//!     assert_eq!(data[..n].len(), 100);
//!     // Handing it back is the driver's step (for FUSE, the request's COMMIT_AND_FETCH).
//!     kernel.borrow_mut().recycle(1, bid)?;
//! }
//! assert_eq!(km.status()?, 10, "the head counts every selection");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use core::ptr::NonNull;
use core::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;

use uring_uapi::kmbuf::{io_uring_buf_reg as kmbuf_reg, IOU_PBUF_RING_KERNEL_MANAGED};
use uring_uapi::*;

use crate::buf::ring::{check_entries, registration_error};
use crate::op::BufferGroup;
use crate::sys::{self, Mmap};
use crate::{Error, Result, Ring};

// Test machinery, not API: a model of the kernel side of kmbuf for the crate's own tests,
// benches and fuzz targets. Public only so that those can reach it; hidden from the
// documentation, and it may change in any release.
mod cmd;
mod contiguous;
#[doc(hidden)]
pub mod model;

pub use cmd::{CmdBuf, CmdBufTracker};
pub use contiguous::ContiguousRing;

/// Highest bgid whose buffers can be mapped: the mmap offset keeps 11 bits of bgid.
/// (`IORING_OFF_PBUF_RING`; the kmbuf proposal, in no mainline kernel up to Linux 7.3.)
pub const KMBUF_MAX_BGID: u16 = 2047;

/// What keeps a [`Region`]'s memory mapped.
#[derive(Debug)]
enum Keep {
    /// The region's own mapping, unmapped with it.
    Map(#[allow(dead_code)] Mmap),
    /// A mapping shared with its owner (the model's group), as a kernel mapping holds its
    /// pages: the memory stays while either holds it.
    Shared(#[allow(dead_code)] Arc<Mmap>),
    /// Nothing: the creator promised the memory outlives the region ([`Region::borrowed`]).
    Borrowed,
}

/// A mapping of a kmbuf group's buffers.
/// (`IORING_OFF_PBUF_RING` mapping; the kmbuf proposal, in no mainline kernel up to Linux 7.3.)
#[derive(Debug)]
pub struct Region {
    ptr: NonNull<u8>,
    len: usize,
    _keep: Keep,
}

impl Region {
    /// A region backed by a real mapping (unmapped on drop).
    pub(crate) fn mapped(map: Mmap) -> Self {
        Region { ptr: NonNull::new(map.as_ptr()).expect("mapping is non-null"), len: map.len(), _keep: Keep::Map(map) }
    }

    /// The first `len` bytes of a mapping shared with its owner (at most the mapping's length).
    pub(crate) fn shared(map: Arc<Mmap>, len: usize) -> Self {
        let len = len.min(map.len());
        Region { ptr: NonNull::new(map.as_ptr()).expect("mapping is non-null"), len, _keep: Keep::Shared(map) }
    }

    /// A region whose memory someone else keeps alive.
    ///
    /// # Safety
    /// `ptr..ptr + len` must stay valid and writable for as long as the region is used.
    pub unsafe fn borrowed(ptr: NonNull<u8>, len: usize) -> Self {
        Region { ptr, len, _keep: Keep::Borrowed }
    }

    /// Start of the region.
    pub fn as_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the region is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// The kernel side of kmbuf rings: the real kernel ([`KernelBackend`]) or the model
/// (`model::ModelBackend`, test machinery). Methods return the kernel's errno unchanged.
/// (the kmbuf proposal, in no mainline kernel up to Linux 7.3.)
pub trait KmbufBackend {
    /// `IORING_REGISTER_PBUF_RING` with a kmbuf registration.
    fn register(&mut self, reg: &kmbuf_reg) -> io::Result<()>;
    /// `mmap(2)` of `len` bytes at the group's pbuf offset.
    fn map(&mut self, bgid: u16, len: usize) -> io::Result<Region>;
    /// `IORING_UNREGISTER_PBUF_RING`.
    fn unregister(&mut self, bgid: u16) -> io::Result<()>;
    /// `IORING_REGISTER_PBUF_STATUS`: the group's head.
    fn status(&mut self, bgid: u16) -> io::Result<u16>;

    /// Whether the kernel side takes kmbuf registrations: registers a one-entry ring on a spare
    /// group id (from 2047 down) and unregisters it; a kernel without kmbuf refuses the unknown
    /// flag with `EINVAL` (`Ok(false)`). Backends cache the answer per ring
    /// ([`KernelBackend`] in the [`Ring`], the model in itself); this default probes every
    /// time.
    fn probe_support(&mut self) -> Result<bool> {
        probe(self)
    }
}

/// The probe of [`KmbufBackend::probe_support`], uncached.
fn probe<B: KmbufBackend + ?Sized>(backend: &mut B) -> Result<bool> {
    let page = sys::page_size() as u32;
    for bgid in (0..=KMBUF_MAX_BGID).rev() {
        match backend.register(&kmbuf_registration(bgid, 1, page)) {
            Ok(()) => {
                backend.unregister(bgid)?;
                return Ok(true);
            }
            Err(e) if e.raw_os_error() == Some(libc::EEXIST) => continue,
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => return Ok(false),
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::InvalidArgument { what: "bgid", reason: "no spare buffer group id below 2048 to probe kmbuf with" })
}

/// A ring's answer to the kmbuf probe, once known (shared by the [`Ring`] and its
/// [`KernelBackend`]s): 0 while unknown, then [`YES`](Self::YES) or [`NO`](Self::NO).
#[derive(Debug, Default)]
pub(crate) struct SupportCache(AtomicU8);

impl SupportCache {
    const YES: u8 = 1;
    const NO: u8 = 2;

    fn get(&self) -> Option<bool> {
        match self.0.load(Ordering::Relaxed) {
            Self::YES => Some(true),
            Self::NO => Some(false),
            _ => None,
        }
    }

    fn set(&self, supported: bool) {
        self.0.store(if supported { Self::YES } else { Self::NO }, Ordering::Relaxed);
    }
}

/// The real kernel, through a duplicate of a ring's fd.
/// (`IORING_REGISTER_PBUF_RING` with `IOU_PBUF_RING_KERNEL_MANAGED`: the kmbuf proposal, in no
/// mainline kernel up to Linux 7.3.)
#[derive(Debug)]
pub struct KernelBackend {
    fd: OwnedFd,
    /// The ring's probe answer.
    support: Arc<SupportCache>,
}

impl KernelBackend {
    /// Talks to the kernel through `ring` (which must have an fd).
    /// (the kmbuf proposal, in no mainline kernel up to Linux 7.3.)
    pub fn new(ring: &Ring) -> Result<Self> {
        let fd = ring.dup_fd()?.ok_or(Error::Unsupported { what: "kmbuf on a ring without an fd" })?;
        Ok(KernelBackend { fd, support: ring.kmbuf_support.clone() })
    }

    fn reg(&self, op: u32, arg: *const core::ffi::c_void) -> io::Result<u32> {
        // SAFETY: every caller passes one valid argument of the type `op` expects.
        unsafe { sys::register(self.fd.as_raw_fd(), op, arg, 1) }
    }
}

impl KmbufBackend for KernelBackend {
    /// Registers `reg`, which must be a kmbuf registration: `flags` exactly
    /// `IOU_PBUF_RING_MMAP | IOU_PBUF_RING_KERNEL_MANAGED` (as [`kmbuf_registration`] makes),
    /// else `EINVAL` before the kernel sees it. Any other registration would hand the kernel a
    /// ring address (`ring_addr`) it then reads buffer addresses from, which safe code must not
    /// choose.
    fn register(&mut self, reg: &kmbuf_reg) -> io::Result<()> {
        if reg.flags != IOU_PBUF_RING_MMAP | IOU_PBUF_RING_KERNEL_MANAGED {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a kmbuf registration (flags must be IOU_PBUF_RING_MMAP | IOU_PBUF_RING_KERNEL_MANAGED)",
            ));
        }
        let mut r = *reg;
        self.reg(IORING_REGISTER_PBUF_RING, &mut r as *mut kmbuf_reg as *const _)?;
        // Only a kernel with kmbuf takes the flag.
        self.support.set(true);
        Ok(())
    }

    fn map(&mut self, bgid: u16, len: usize) -> io::Result<Region> {
        let off = IORING_OFF_PBUF_RING | ((bgid as u64) << IORING_OFF_PBUF_SHIFT);
        Ok(Region::mapped(Mmap::ring(self.fd.as_raw_fd(), off, len)?))
    }

    fn unregister(&mut self, bgid: u16) -> io::Result<()> {
        let mut r = io_uring_buf_reg { bgid, ..Default::default() };
        self.reg(IORING_UNREGISTER_PBUF_RING, &mut r as *mut io_uring_buf_reg as *const _).map(|_| ())
    }

    fn status(&mut self, bgid: u16) -> io::Result<u16> {
        let mut st = io_uring_buf_status { buf_group: bgid as u32, ..Default::default() };
        self.reg(IORING_REGISTER_PBUF_STATUS, &mut st as *mut io_uring_buf_status as *const _)?;
        Ok(st.head as u16)
    }

    /// The probe, once per ring: the answer is kept in the [`Ring`] (and set by every
    /// successful kmbuf registration).
    fn probe_support(&mut self) -> Result<bool> {
        if let Some(known) = self.support.get() {
            return Ok(known);
        }
        let supported = probe(self)?;
        self.support.set(supported);
        Ok(supported)
    }
}

/// Builds the kmbuf registration: `buf_size` in bytes 0..4, zeros in 4..8 and 16..40.
/// (`IOU_PBUF_RING_KERNEL_MANAGED`: the kmbuf proposal, in no mainline kernel up to Linux 7.3.)
pub fn kmbuf_registration(bgid: u16, entries: u32, buf_size: u32) -> kmbuf_reg {
    let mut reg = kmbuf_reg {
        ring_entries: entries,
        bgid,
        flags: IOU_PBUF_RING_MMAP | IOU_PBUF_RING_KERNEL_MANAGED,
        ..Default::default()
    };
    // Default zeroed all 8 bytes of the union through `ring_addr`; this sets bytes 0..4 only.
    reg.addr.buf_size = buf_size;
    reg
}

/// Client-side checks of a kmbuf registration, before the kernel sees it.
/// (`IORING_REGISTER_PBUF_RING` with `IOU_PBUF_RING_KERNEL_MANAGED`: the kmbuf proposal, in no
/// mainline kernel up to Linux 7.3.)
pub fn validate(bgid: u16, entries: u32, buf_size: u32) -> Result<()> {
    check_entries(entries)?;
    let page = sys::page_size() as u32;
    if buf_size == 0 || buf_size % page != 0 {
        return Err(Error::InvalidArgument {
            what: "kmbuf buf_size",
            reason: "must be a non-zero multiple of the page size",
        });
    }
    if bgid > KMBUF_MAX_BGID {
        return Err(Error::InvalidArgument {
            what: "kmbuf bgid",
            reason: "must be below 2048: the mmap offset keeps only 11 bits of the group id",
        });
    }
    if (entries as u64) * (buf_size as u64 / page as u64) > u32::MAX as u64 {
        return Err(Error::InvalidArgument { what: "kmbuf size", reason: "the page count overflows u32" });
    }
    Ok(())
}

/// How many [`KmBufRing`]s were dropped while pinned (the unregister failed with `EBUSY`), in
/// this process. Each stays registered until its consumer unpins it or its io_uring instance
/// is torn down; use [`KmBufRing::close`] to see the error instead.
/// (the kmbuf proposal, in no mainline kernel up to Linux 7.3.)
pub fn pinned_at_drop() -> u64 {
    PINNED_AT_DROP.load(Ordering::Relaxed)
}

static PINNED_AT_DROP: AtomicU64 = AtomicU64::new(0);

/// A kernel-managed buffer ring and the mapping of its buffers.
///
/// Dropping it unregisters the group, then unmaps the buffers. If a kernel consumer pins the
/// ring, the unregister fails with `EBUSY` and the group stays registered; the drop counts it
/// ([`pinned_at_drop`]). [`close`](KmBufRing::close) reports it instead
/// ([`Error::BufRingPinned`]) and hands the ring back.
/// `IORING_REGISTER_PBUF_RING` with `IOU_PBUF_RING_KERNEL_MANAGED`: the kmbuf proposal, in no
/// mainline kernel up to Linux 7.3.
#[derive(Debug)]
pub struct KmBufRing<B: KmbufBackend = KernelBackend> {
    backend: B,
    bgid: u16,
    entries: u32,
    buf_size: u32,
    region: Option<Region>,
    registered: bool,
}

impl KmBufRing<KernelBackend> {
    /// Registers a kernel-managed ring of `entries` buffers of `buf_size` bytes in group `bgid`
    /// with `ring` and maps its buffers (`io_uring_setup_buf_ring_kernel_managed` of the
    /// proposal's liburing branch). [`Error::Unsupported`] on kernels without kmbuf (probed
    /// once per ring); the kernel's other refusals as [`Error::Os`] (`EINVAL` too, on a kernel
    /// with kmbuf) or [`Error::BufGroupInUse`].
    /// (`IORING_REGISTER_PBUF_RING`; the kmbuf proposal, in no mainline kernel up to Linux 7.3.)
    pub fn register(ring: &Ring, bgid: u16, entries: u32, buf_size: u32) -> Result<Self> {
        Self::register_with(KernelBackend::new(ring)?, bgid, entries, buf_size)
    }

    /// Whether the running kernel supports kmbuf: registers a one-entry ring on a spare group id
    /// of `ring` and unregisters it (once per ring: the answer is kept). Kernels without kmbuf
    /// answer `EINVAL`: `Ok(false)`.
    /// (`IOU_PBUF_RING_KERNEL_MANAGED`: the kmbuf proposal, in no mainline kernel up to Linux 7.3.)
    pub fn is_supported(ring: &Ring) -> Result<bool> {
        KernelBackend::new(ring)?.probe_support()
    }
}

impl<B: KmbufBackend> KmBufRing<B> {
    /// Registers through `backend`: validates client-side, registers, maps exactly
    /// `entries * buf_size` bytes, and unregisters again if the mapping fails.
    ///
    /// A registration refused with `EINVAL` is [`Error::Unsupported`] only if the backend's
    /// probe ([`KmbufBackend::probe_support`], cached per ring) says the kernel has no kmbuf;
    /// otherwise the kernel's `EINVAL` comes back as [`Error::Os`].
    /// (`IORING_REGISTER_PBUF_RING`; the kmbuf proposal, in no mainline kernel up to Linux 7.3.)
    pub fn register_with(mut backend: B, bgid: u16, entries: u32, buf_size: u32) -> Result<Self> {
        validate(bgid, entries, buf_size)?;
        if let Err(e) = backend.register(&kmbuf_registration(bgid, entries, buf_size)) {
            return Err(match e.raw_os_error() {
                Some(libc::EINVAL) => match backend.probe_support() {
                    Ok(false) => {
                        Error::Unsupported { what: "kernel-managed buffer rings (IOU_PBUF_RING_KERNEL_MANAGED)" }
                    }
                    // Supported, or the probe could not tell: the kernel's answer stands.
                    _ => Error::Os(e),
                },
                _ => registration_error(e, bgid),
            });
        }
        let len = entries as usize * buf_size as usize;
        let region = match backend.map(bgid, len) {
            Ok(r) => r,
            Err(e) => {
                let _ = backend.unregister(bgid);
                return Err(e.into());
            }
        };
        Ok(KmBufRing { backend, bgid, entries, buf_size, region: Some(region), registered: true })
    }

    /// The group id.
    pub fn bgid(&self) -> u16 {
        self.bgid
    }

    /// The number of buffers.
    pub fn entries(&self) -> u32 {
        self.entries
    }

    /// The size of each buffer.
    pub fn buf_size(&self) -> u32 {
        self.buf_size
    }

    /// The whole mapped region (`entries * buf_size` bytes).
    pub fn region(&self) -> &Region {
        self.region.as_ref().expect("mapped while the ring exists")
    }

    fn range(&self, bid: u16) -> Option<(*mut u8, usize)> {
        if bid as u32 >= self.entries {
            return None;
        }
        let r = self.region.as_ref()?;
        // SAFETY: `bid < entries`, and the region holds `entries * buf_size` bytes.
        Some((unsafe { r.as_ptr().add(bid as usize * self.buf_size as usize) }, self.buf_size as usize))
    }

    /// Buffer `bid` (`None` if out of range, checked before anything is read). O(1).
    ///
    /// This is `unsafe` because the crate cannot tell whether the kernel is using the buffer:
    /// no completion it can vouch for names kmbuf buffers (see the [module
    /// docs](self#reading-buffers-why-it-is-unsafe-here-and-safe-over-contiguousring) for why a
    /// safe, token-based path is not possible yet).
    /// (the kmbuf proposal, in no mainline kernel up to Linux 7.3.)
    ///
    /// # Safety
    /// Nothing may write buffer `bid` while the returned slice lives: no kernel consumer and no
    /// other code of this process (through [`region`](Self::region)'s pointer or pointers a
    /// backend handed out). A kernel consumer writes a buffer from the moment a command selects
    /// it until that command's completion hands it to the application, and again once the
    /// application hands it back. So for the whole life of the slice the buffer must be
    /// *yours*, which holds in either of these cases:
    /// - **A completion gave it to you.** A genuine completion, posted by the kernel on the
    ///   ring this group is registered with for a command whose driver selects from this group,
    ///   named `bid` (`IORING_CQE_F_BUFFER` with `bid << 16`; or, for a driver that reports a
    ///   held buffer only once, an earlier completion of the same still-running command named
    ///   it and the driver's rules say it still holds that buffer: a completion that names no
    ///   buffer ([`CmdBuf::Unnamed`]) may also have consumed a new one it does not name). A
    ///   completion built with [`Cqe::new`](crate::Cqe::new), posted by an `IORING_OP_MSG_RING` message, or of
    ///   an ordinary read or receive (which burns a kmbuf buffer it names but never wrote)
    ///   proves nothing. And you have not handed it back: the call that returns the buffer to
    ///   its consumer (for FUSE over io_uring, the `COMMIT_AND_FETCH` command of that request;
    ///   in general what the driver defines, including ending or cancelling the command) is not
    ///   submitted before the slice is dropped.
    /// - **No consumer can touch a buffer at all.** No command that can select from this
    ///   group is in flight on the ring (a multishot command whose last completion carried
    ///   `IORING_CQE_F_MORE` still is), and none is submitted while the slice lives, for
    ///   example right after [`register`](Self::register): kernel consumers touch buffers only
    ///   on behalf of such commands.
    ///
    /// With the model (`model::ModelBackend`, test machinery) no kernel exists: the model never writes a buffer, so only
    /// writes of the caller's own code count.
    ///
    /// ```
    /// fn f(km: &uring::buf::kmbuf::KmBufRing) {
    ///     // SAFETY: no command that selects from the group was ever submitted.
    ///     let _ = unsafe { km.buffer(0) };
    /// }
    /// ```
    /// Without `unsafe` the call does not compile:
    /// ```compile_fail,E0133
    /// fn f(km: &uring::buf::kmbuf::KmBufRing) {
    ///     let _ = km.buffer(0);
    /// }
    /// ```
    pub unsafe fn buffer(&self, bid: u16) -> Option<&[u8]> {
        let (p, n) = self.range(bid)?;
        // SAFETY: `n` bytes in bounds of the live mapping (`range`), which lives as long as
        // `self`; that nothing writes them while the slice lives is the caller's contract.
        Some(unsafe { core::slice::from_raw_parts(p, n) })
    }

    /// Buffer `bid`, mutably (`None` if out of range, checked before anything is touched).
    /// O(1). `unsafe` for the reason [`buffer`](Self::buffer) is.
    /// (`IORING_CQE_F_BUFFER` names it; the kmbuf proposal, in no mainline kernel up to Linux 7.3.)
    ///
    /// # Safety
    /// Nothing else may read or write buffer `bid` while the returned slice lives: no kernel
    /// consumer and no other code of this process through raw pointers (the region's, or a
    /// backend's). `&mut self` already rules out other slices from this ring. The buffer must
    /// be *yours* for the slice's whole life, in the sense of [`buffer`](Self::buffer)'s first
    /// or second case: a consumer reads what the application wrote into a buffer (a reply) only
    /// after the application hands the buffer back, and writes a buffer only while it holds it.
    ///
    /// ```
    /// fn f(km: &mut uring::buf::kmbuf::KmBufRing) {
    ///     // SAFETY: no command that selects from the group was ever submitted.
    ///     let _ = unsafe { km.buffer_mut(0) };
    /// }
    /// ```
    /// Without `unsafe` the call does not compile:
    /// ```compile_fail,E0133
    /// fn f(km: &mut uring::buf::kmbuf::KmBufRing) {
    ///     let _ = km.buffer_mut(0);
    /// }
    /// ```
    pub unsafe fn buffer_mut(&mut self, bid: u16) -> Option<&mut [u8]> {
        let (p, n) = self.range(bid)?;
        // SAFETY: `n` bytes in bounds of the live mapping; `&mut self` makes this the only slice
        // from this ring; that nothing else touches them is the caller's contract.
        Some(unsafe { core::slice::from_raw_parts_mut(p, n) })
    }

    /// The group's head (`IORING_REGISTER_PBUF_STATUS`, Linux 6.8): how many buffers kernel consumers have
    /// taken, wrapping at 2^16. It counts every selection, including those no completion names
    /// (a synchronous command completion, a burnt buffer).
    pub fn status(&mut self) -> Result<u16> {
        Ok(self.backend.status(self.bgid)?)
    }

    /// The backend (the model, in tests).
    pub fn backend(&mut self) -> &mut B {
        &mut self.backend
    }

    /// Unregisters the group, then unmaps the buffers. On failure nothing is released and the
    /// ring is handed back with the error: [`Error::BufRingPinned`] while a kernel consumer
    /// pins the ring (`EBUSY`), [`Error::Os`] otherwise.
    /// (`IORING_UNREGISTER_PBUF_RING`.)
    pub fn close(mut self) -> core::result::Result<(), (Self, Error)> {
        if let Err(e) = self.backend.unregister(self.bgid) {
            let e = match e.raw_os_error() {
                Some(libc::EBUSY) => Error::BufRingPinned { bgid: self.bgid },
                _ => Error::Os(e),
            };
            return Err((self, e));
        }
        self.registered = false;
        self.region = None;
        Ok(())
    }
}

impl<B: KmbufBackend> Drop for KmBufRing<B> {
    fn drop(&mut self) {
        if self.registered {
            if let Err(e) = self.backend.unregister(self.bgid) {
                if e.raw_os_error() == Some(libc::EBUSY) {
                    // Pinned: the group stays registered. Its buffers are the kernel's
                    // allocation, freed by the kernel (on unregister or at the ring's teardown),
                    // never by us; our mapping below only stops being ours to read.
                    PINNED_AT_DROP.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        // Unmap: nothing of ours points into the region afterwards. A kernel mapping keeps its
        // pages referenced until now, so this never frees memory the kernel still uses.
        self.region = None;
    }
}

impl<B: KmbufBackend> BufferGroup for KmBufRing<B> {
    fn bgid(&self) -> u16 {
        self.bgid
    }

    fn is_kernel_managed(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_bytes() {
        let reg = kmbuf_registration(5, 8, 8192);
        // SAFETY: plain-integer union, fully initialised through `ring_addr` by `Default`.
        assert_eq!(unsafe { reg.addr.ring_addr }, 8192, "buf_size in bytes 0..4, zeros in 4..8 (LE)");
        assert_eq!((reg.ring_entries, reg.bgid, reg.min_left, reg.resv), (8, 5, 0, [0; 5]));
        assert_eq!(reg.flags, IOU_PBUF_RING_MMAP | IOU_PBUF_RING_KERNEL_MANAGED);
    }

    #[test]
    fn encoders_refuse_kmbuf_groups() {
        let model = model::ModelBackend::new(model::KmbufModel::new());
        let ring = KmBufRing::register_with(model, 3, 4, 4096).unwrap();
        let mut sqe = crate::op::prep_rw(IORING_OP_READ, 0, 0, 0, 0);
        let e = crate::op::set_buffer_select(&mut sqe, &ring).unwrap_err();
        assert!(matches!(e, Error::InvalidArgument { what: "buffer group", .. }));
        assert_eq!(sqe.as_raw().flags, 0, "nothing encoded");
    }

    #[test]
    fn kernel_backend_takes_only_kmbuf_registrations() {
        let ring = Ring::new(2).unwrap();
        let mut b = KernelBackend::new(&ring).unwrap();
        let mut reg = kmbuf_registration(9, 1, sys::page_size() as u32);
        for flags in [0, IOU_PBUF_RING_MMAP, IOU_PBUF_RING_KERNEL_MANAGED, IOU_PBUF_RING_INC] {
            reg.flags = flags;
            // An app-managed registration would make the kernel read buffer addresses from
            // `ring_addr`: refused before any system call.
            reg.addr.ring_addr = 0x1000;
            let e = b.register(&reg).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidInput, "flags {flags:#x}");
            assert_eq!(e.raw_os_error(), None, "not the kernel's answer");
        }
    }

    #[test]
    fn support_cache_states() {
        let c = SupportCache::default();
        assert_eq!(c.get(), None);
        c.set(false);
        assert_eq!(c.get(), Some(false));
        c.set(true);
        assert_eq!(c.get(), Some(true));
    }
}
