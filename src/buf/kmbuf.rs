//! Kernel-managed buffer rings (kmbuf): the kernel allocates and owns a group's buffers; the
//! application maps them read/write as one contiguous region.
//!
//! **Experimental, not in mainline Linux.** This follows the v3 proposal ("io_uring: add
//! kernel-managed buffer rings", March 2026), which no kernel up to 7.3 carries. Support is
//! detected at run time ([`KmBufRing::is_supported`]); on kernels without it every call returns
//! [`Error::Unsupported`].
//!
//! The ABI: `IORING_REGISTER_PBUF_RING` with `IOU_PBUF_RING_MMAP | IOU_PBUF_RING_KERNEL_MANAGED`
//! and a per-buffer size instead of a ring address; then an `mmap(2)` of `entries * buf_size`
//! bytes at `IORING_OFF_PBUF_RING | (bgid << 16)`, where buffer `bid` starts at byte
//! `bid * buf_size`. Only kernel consumers (uring_cmd drivers such as FUSE) select buffers, with
//! auto-commit, and only they recycle them: the application reads what a completion's buffer id
//! names. Ordinary reads and receives cannot select from such a group, and the encoders refuse to
//! try (each attempt would burn a buffer only the kernel can return).
//!
//! Reading a buffer ([`KmBufRing::buffer`], [`KmBufRing::buffer_mut`],
//! [`ContiguousRing::buffer`]) is `unsafe` for now: the caller vouches that the buffer is its
//! own (a genuine completion named it and it has not been handed back). A safe form, where a
//! token from a genuine completion is what makes a buffer readable, is planned.
//!
//! [`KmBufRing`] runs over a [`KmbufBackend`]: [`KernelBackend`] for the real kernel, or
//! [`model::ModelBackend`], a model of the kernel side written from the proposal, which tests and
//! fuzz targets use on kernels without kmbuf. [`ContiguousRing`] gives the same read API on every
//! kernel since 5.19 by laying an app-managed `IOU_PBUF_RING_MMAP` ring over one region.

use core::ptr::NonNull;
use std::collections::HashMap;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};

use uring_uapi::kmbuf::{io_uring_buf_reg as kmbuf_reg, IOU_PBUF_RING_KERNEL_MANAGED};
use uring_uapi::*;

use crate::buf::ring::{check_entries, registration_error};
use crate::cqe::Cqe;
use crate::op::BufferGroup;
use crate::sys::{self, Mmap};
use crate::{Error, Result, Ring};

pub mod model;

/// Highest bgid whose buffers can be mapped: the mmap offset keeps 11 bits of bgid.
pub const KMBUF_MAX_BGID: u16 = 2047;

/// A mapping of a kmbuf group's buffers.
#[derive(Debug)]
pub struct Region {
    ptr: NonNull<u8>,
    len: usize,
    _map: Option<Mmap>,
}

impl Region {
    /// A region backed by a real mapping (unmapped on drop).
    pub(crate) fn mapped(map: Mmap) -> Self {
        Region { ptr: NonNull::new(map.as_ptr()).expect("mapping is non-null"), len: map.len(), _map: Some(map) }
    }

    /// A region the backend keeps alive itself (the model).
    ///
    /// # Safety
    /// `ptr..ptr + len` must stay valid and writable for as long as the region is used.
    pub unsafe fn borrowed(ptr: NonNull<u8>, len: usize) -> Self {
        Region { ptr, len, _map: None }
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
/// ([`model::ModelBackend`]). Methods return the kernel's errno unchanged.
pub trait KmbufBackend {
    /// `IORING_REGISTER_PBUF_RING` with a kmbuf registration.
    fn register(&mut self, reg: &kmbuf_reg) -> io::Result<()>;
    /// `mmap(2)` of `len` bytes at the group's pbuf offset.
    fn map(&mut self, bgid: u16, len: usize) -> io::Result<Region>;
    /// `IORING_UNREGISTER_PBUF_RING`.
    fn unregister(&mut self, bgid: u16) -> io::Result<()>;
    /// `IORING_REGISTER_PBUF_STATUS`: the group's head.
    fn status(&mut self, bgid: u16) -> io::Result<u16>;
}

/// The real kernel, through a duplicate of a ring's fd.
#[derive(Debug)]
pub struct KernelBackend {
    fd: OwnedFd,
}

impl KernelBackend {
    /// Talks to the kernel through `ring` (which must have an fd).
    pub fn new(ring: &Ring) -> Result<Self> {
        let fd = ring.dup_fd()?.ok_or(Error::Unsupported { what: "kmbuf on a ring without an fd" })?;
        Ok(KernelBackend { fd })
    }

    fn reg(&self, op: u32, arg: *const core::ffi::c_void) -> io::Result<u32> {
        // SAFETY: every caller passes one valid argument of the type `op` expects.
        unsafe { sys::register(self.fd.as_raw_fd(), op, arg, 1) }
    }
}

impl KmbufBackend for KernelBackend {
    fn register(&mut self, reg: &kmbuf_reg) -> io::Result<()> {
        let mut r = *reg;
        self.reg(IORING_REGISTER_PBUF_RING, &mut r as *mut kmbuf_reg as *const _).map(|_| ())
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
}

/// Builds the kmbuf registration: `buf_size` in bytes 0..4, zeros in 4..8 and 16..40.
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

/// A kernel-managed buffer ring and the mapping of its buffers.
///
/// Dropping it unmaps the buffers, then unregisters the group (errors ignored); use
/// [`close`](KmBufRing::close) to see them (`EBUSY` while a kernel consumer pins the ring).
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
    /// proposal's liburing branch). [`Error::Unsupported`] on kernels without kmbuf.
    pub fn register(ring: &Ring, bgid: u16, entries: u32, buf_size: u32) -> Result<Self> {
        Self::register_with(KernelBackend::new(ring)?, bgid, entries, buf_size)
    }

    /// Whether the running kernel supports kmbuf: registers a one-entry ring on a spare group id
    /// of `ring` and unregisters it. Kernels without kmbuf answer `EINVAL`: `Ok(false)`.
    pub fn is_supported(ring: &Ring) -> Result<bool> {
        let mut backend = KernelBackend::new(ring)?;
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
        Err(Error::InvalidArgument { what: "bgid", reason: "no spare buffer group id below 2048" })
    }
}

impl<B: KmbufBackend> KmBufRing<B> {
    /// Registers through `backend`: validates client-side, registers, maps exactly
    /// `entries * buf_size` bytes, and unregisters again if the mapping fails.
    pub fn register_with(mut backend: B, bgid: u16, entries: u32, buf_size: u32) -> Result<Self> {
        validate(bgid, entries, buf_size)?;
        backend.register(&kmbuf_registration(bgid, entries, buf_size)).map_err(|e| match e.raw_os_error() {
            Some(libc::EINVAL) => {
                Error::Unsupported { what: "kernel-managed buffer rings (IOU_PBUF_RING_KERNEL_MANAGED)" }
            }
            _ => registration_error(e, bgid),
        })?;
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
    /// it does not see which buffers the kernel consumers hold. A safe path, where a buffer is
    /// readable only through a token that a genuine completion produced and stops being
    /// readable once handed back, is planned.
    ///
    /// # Safety
    /// Nothing may write buffer `bid` while the returned slice lives: no kernel consumer and no
    /// other code of this process (through [`region`](Self::region)'s pointer or pointers a
    /// backend handed out). A kernel consumer writes a buffer from the moment a command selects
    /// it until that command's completion hands it to the application, and again once the
    /// application hands it back. So for the whole life of the slice the buffer must be
    /// *yours*, which holds in either of these cases:
    /// - **A completion gave it to you.** A genuine completion, posted by the kernel on the
    ///   ring this group is registered with for a command that selects from this group, named
    ///   `bid` (`IORING_CQE_F_BUFFER` with `bid << 16`; or, for a driver that reports a held
    ///   buffer only once, an earlier completion of the same still-running command named it, as
    ///   [`CmdBufTracker`] records). A completion built with [`Cqe::new`] or posted by an
    ///   `IORING_OP_MSG_RING` message proves nothing: those carry any flags their sender chose.
    ///   And you have not handed it back: the call that returns the buffer to its consumer (for
    ///   FUSE over io_uring, the `COMMIT_AND_FETCH` command of that request; in general what
    ///   the driver defines, including ending or cancelling the command) is not submitted
    ///   before the slice is dropped.
    /// - **No consumer can touch a buffer at all.** No command that can select from this
    ///   group is in flight on the ring (a multishot command whose last completion carried
    ///   `IORING_CQE_F_MORE` still is), and none is submitted while the slice lives, for
    ///   example right after [`register`](Self::register): kernel consumers touch buffers only
    ///   on behalf of such commands.
    ///
    /// With [`model::ModelBackend`] no kernel exists: the model never writes a buffer, so only
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
    /// O(1). `unsafe` for the reason [`buffer`](Self::buffer) is; a token-based safe path is
    /// planned.
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

    /// The group's head (`IORING_REGISTER_PBUF_STATUS`): how many buffers kernel consumers have
    /// taken, wrapping at 2^16.
    pub fn status(&mut self) -> Result<u16> {
        Ok(self.backend.status(self.bgid)?)
    }

    /// The backend (the model, in tests).
    pub fn backend(&mut self) -> &mut B {
        &mut self.backend
    }

    /// Unregisters the group, then unmaps the buffers. On failure (`EBUSY` while a kernel
    /// consumer pins the ring) nothing is released and the ring is handed back with the error.
    pub fn close(mut self) -> core::result::Result<(), (Self, Error)> {
        if let Err(e) = self.backend.unregister(self.bgid) {
            return Err((self, Error::Os(e)));
        }
        self.registered = false;
        self.region = None;
        Ok(())
    }
}

impl<B: KmbufBackend> Drop for KmBufRing<B> {
    fn drop(&mut self) {
        // Unmap first: nothing of ours points into the region afterwards; the kernel keeps its
        // pages until the unregister frees them.
        self.region = None;
        if self.registered {
            let _ = self.backend.unregister(self.bgid);
        }
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

/// Remembers, per in-flight command (by `user_data`), the last buffer id its completions named.
///
/// A uring_cmd driver reports a buffer it holds in a completion's flags
/// (`IORING_CQE_F_BUFFER | bid << 16`) only once, and a driver completing synchronously reports
/// none: consumers must remember the last bid of each command.
#[derive(Debug, Default)]
pub struct CmdBufTracker {
    last: HashMap<u64, u16>,
}

impl CmdBufTracker {
    /// A tracker with room for `commands` in-flight commands (no allocation until exceeded).
    pub fn with_capacity(commands: usize) -> Self {
        CmdBufTracker { last: HashMap::with_capacity(commands) }
    }

    /// Records `cqe`: returns the buffer it names, or else the last one recorded for its
    /// command.
    pub fn observe(&mut self, cqe: &Cqe) -> Option<u16> {
        match cqe.buffer_id() {
            Some(bid) => {
                self.last.insert(cqe.user_data(), bid);
                Some(bid)
            }
            None => self.last.get(&cqe.user_data()).copied(),
        }
    }

    /// The last buffer recorded for command `user_data`.
    pub fn last(&self, user_data: u64) -> Option<u16> {
        self.last.get(&user_data).copied()
    }

    /// Forgets a command (it finished for good).
    pub fn forget(&mut self, user_data: u64) -> Option<u16> {
        self.last.remove(&user_data)
    }
}

/// The kmbuf read API on every kernel since 5.19: an app-managed provided-buffer ring whose
/// buffers are one region, buffer `bid` at byte `bid * buf_size`, so code written against the
/// kmbuf layout runs without kmbuf. Here the application recycles buffers (through the inner
/// [`BufRing`](crate::buf::BufRing)).
#[derive(Debug)]
pub struct ContiguousRing {
    inner: crate::buf::BufRing,
}

impl ContiguousRing {
    /// Registers an `IOU_PBUF_RING_MMAP` ring of `entries` buffers of `buf_size` bytes in one
    /// crate-allocated region.
    pub fn register(ring: &mut Ring, bgid: u16, entries: u32, buf_size: u32) -> Result<Self> {
        let inner = crate::buf::BufRing::builder(bgid, entries, buf_size).kernel_mapped().build(ring)?;
        Ok(ContiguousRing { inner })
    }

    /// The buffer ring (for selection and recycling).
    pub fn ring(&self) -> &crate::buf::BufRing {
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
    /// is the guard [`ring().select`](crate::buf::BufRing::select) returns; a token-based safe
    /// form of this call is planned.
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
    ///   `bid << 16`); a completion built with [`Cqe::new`] or posted by an
    ///   `IORING_OP_MSG_RING` message proves nothing. The buffer goes back into the ring when
    ///   the [`Buf`](crate::buf::Buf) guard `ring().select` returned for it is dropped or
    ///   recycled, or when its [`HeldBuf`](crate::buf::HeldBuf) is recycled
    ///   ([`recycle_held`](crate::buf::BufRing::recycle_held),
    ///   [`recycle_held_batch`](crate::buf::BufRing::recycle_held_batch)): none of this may
    ///   happen before the slice is dropped.
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
}
