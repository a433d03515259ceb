//! Reads and writes: into and from owned buffers ([`Read`], [`Write`], [`Readv`], [`Writev`]),
//! into buffers of a crate-owned [`BufRing`](crate::buf::BufRing) ([`ReadSelect`],
//! [`ReadMultishot`]), and over registered (fixed) buffers owned by the ring ([`FixedBuf`]
//! handles and [`ReadFixed`], [`WriteFixed`], [`ReadvFixed`], [`WritevFixed`]).

use core::ops::Range;
use std::io::{IoSlice, IoSliceMut};
use std::sync::Arc;

use super::Fd;
use super::{Encode, Iovecs, SelectsFrom};
use crate::buf::BufRing;
use crate::op::{self, RwFlags};
use crate::sqe::Sqe;
use crate::{Error, Result};

/// `IORING_OP_READ` (Linux 5.6) into `buf[..buf.len()]` at `offset` (`u64::MAX`: the file position).
/// The result is the number of bytes read into the front of `buf`.
#[derive(Debug)]
pub struct Read {
    /// The file.
    pub fd: Fd,
    /// The buffer (its length is the most that is read).
    pub buf: Vec<u8>,
    /// The file offset.
    pub offset: u64,
}

impl Read {
    /// A read of up to `buf.len()` bytes from `fd` at `offset`.
    /// Pushed as `IORING_OP_READ` (Linux 5.6).
    pub fn new(fd: impl Into<Fd>, buf: Vec<u8>, offset: u64) -> Self {
        Read { fd: fd.into(), buf, offset }
    }
}

impl Encode for Read {
    #[inline]
    fn sqe(&mut self) -> Result<Sqe> {
        Ok(op::Read::new(self.fd.target(), &mut self.buf[..])?.offset(self.offset).build())
    }
}

/// `IORING_OP_WRITE` (Linux 5.6) of `buf` at `offset` (`u64::MAX`: the file position).
#[derive(Debug)]
pub struct Write {
    /// The file.
    pub fd: Fd,
    /// The bytes to write.
    pub buf: Vec<u8>,
    /// The file offset.
    pub offset: u64,
}

impl Write {
    /// A write of `buf` to `fd` at `offset`.
    /// Pushed as `IORING_OP_WRITE` (Linux 5.6).
    pub fn new(fd: impl Into<Fd>, buf: Vec<u8>, offset: u64) -> Self {
        Write { fd: fd.into(), buf, offset }
    }
}

impl Encode for Write {
    #[inline]
    fn sqe(&mut self) -> Result<Sqe> {
        Ok(op::Write::new(self.fd.target(), &self.buf[..])?.offset(self.offset).build())
    }
}

/// `IORING_OP_READ` into a buffer of a crate-owned [`BufRing`] (`IOSQE_BUFFER_SELECT`,
/// `io_uring_prep_read(3)` with a `NULL` buffer, Linux 5.7): reads up to `len` bytes (0: the
/// selected buffer's size) at `offset` (`u64::MAX`: the file position). The result is the
/// number of bytes read; [`Completion::select`](crate::owned::Completion::select) gives them.
#[derive(Debug)]
pub struct ReadSelect {
    /// The file.
    pub fd: Fd,
    /// At most this many bytes (0: up to the selected buffer's size).
    pub len: u32,
    /// The file offset.
    pub offset: u64,
    bgid: u16,
    from: SelectsFrom,
}

impl ReadSelect {
    /// A read from `fd` at `offset` into a buffer of `group`.
    /// Pushed as `IORING_OP_READ` (Linux 5.7).
    pub fn new(fd: impl Into<Fd>, group: &BufRing, offset: u64) -> Self {
        ReadSelect { fd: fd.into(), len: 0, offset, bgid: group.bgid(), from: SelectsFrom::new(group, false) }
    }

    /// The buffer group.
    pub fn bgid(&self) -> u16 {
        self.bgid
    }
}

impl Encode for ReadSelect {
    #[inline]
    fn selects(&self) -> Option<SelectsFrom> {
        Some(self.from)
    }

    #[inline]
    fn sqe(&mut self) -> Result<Sqe> {
        Ok(op::Read::selected(self.fd.target(), self.len, &op::BufGroupId(self.bgid))?.offset(self.offset).build())
    }
}

/// `IORING_OP_READ_MULTISHOT` into buffers of a crate-owned [`BufRing`]
/// (`io_uring_prep_read_multishot(3)`, Linux 6.7): reads repeatedly while data is available
/// (pipes, sockets, eventfds: files that can be polled), one completion per read, each with
/// `IORING_CQE_F_MORE` and a buffer ([`Completion::select`](crate::owned::Completion::select));
/// the operation comes back with the final completion.
#[derive(Debug)]
pub struct ReadMultishot {
    /// The file.
    pub fd: Fd,
    /// At most this many bytes per read (0: each buffer's size).
    pub len: u32,
    bgid: u16,
    from: SelectsFrom,
}

impl ReadMultishot {
    /// Reads repeatedly from `fd` into buffers of `group`.
    /// Pushed as `IORING_OP_READ_MULTISHOT` (Linux 6.7).
    pub fn new(fd: impl Into<Fd>, group: &BufRing) -> Self {
        ReadMultishot { fd: fd.into(), len: 0, bgid: group.bgid(), from: SelectsFrom::new(group, false) }
    }

    /// The buffer group.
    pub fn bgid(&self) -> u16 {
        self.bgid
    }
}

impl Encode for ReadMultishot {
    #[inline]
    fn selects(&self) -> Option<SelectsFrom> {
        Some(self.from)
    }

    #[inline]
    fn sqe(&mut self) -> Result<Sqe> {
        Ok(op::ReadMultishot::new(self.fd.target(), &op::BufGroupId(self.bgid))?.len(self.len).build().into_sqe())
    }
}

/// `IORING_OP_READV` (Linux 5.1): reads into `bufs` in order (`preadv2(2)`), at `offset` (`u64::MAX`: the
/// file position). The result is the number of bytes read, filling the buffers front to back.
#[derive(Debug)]
pub struct Readv {
    /// The file.
    pub fd: Fd,
    /// The buffers (each one's length is what it can take).
    pub bufs: Vec<Vec<u8>>,
    /// The file offset.
    pub offset: u64,
    /// `RWF_*` flags.
    pub flags: RwFlags,
    iov: Iovecs,
}

impl Readv {
    /// A read from `fd` at `offset` into `bufs`.
    /// Pushed as `IORING_OP_READV` (Linux 5.1).
    pub fn new(fd: impl Into<Fd>, bufs: Vec<Vec<u8>>, offset: u64) -> Self {
        Readv { fd: fd.into(), bufs, offset, flags: RwFlags::empty(), iov: Iovecs::default() }
    }
}

impl Encode for Readv {
    #[inline]
    fn sqe(&mut self) -> Result<Sqe> {
        self.iov.over_mut(self.bufs.iter_mut().map(|b| &mut b[..]));
        let mut none: [IoSliceMut<'_>; 0] = [];
        let mut sqe = op::Readv::new(self.fd.target(), &mut none)?.offset(self.offset).rw_flags(self.flags).build();
        self.iov.point(&mut sqe)?;
        Ok(sqe)
    }
}

/// `IORING_OP_WRITEV` (Linux 5.1): writes `bufs` in order (`pwritev2(2)`), at `offset` (`u64::MAX`: the
/// file position). The result is the number of bytes written.
#[derive(Debug)]
pub struct Writev {
    /// The file.
    pub fd: Fd,
    /// The buffers.
    pub bufs: Vec<Vec<u8>>,
    /// The file offset.
    pub offset: u64,
    /// `RWF_*` flags.
    pub flags: RwFlags,
    iov: Iovecs,
}

impl Writev {
    /// A write of `bufs` to `fd` at `offset`.
    /// Pushed as `IORING_OP_WRITEV` (Linux 5.1).
    pub fn new(fd: impl Into<Fd>, bufs: Vec<Vec<u8>>, offset: u64) -> Self {
        Writev { fd: fd.into(), bufs, offset, flags: RwFlags::empty(), iov: Iovecs::default() }
    }
}

impl Encode for Writev {
    #[inline]
    fn sqe(&mut self) -> Result<Sqe> {
        self.iov.over(self.bufs.iter().map(|b| &b[..]));
        let none: [IoSlice<'_>; 0] = [];
        let mut sqe = op::Writev::new(self.fd.target(), &none)?.offset(self.offset).rw_flags(self.flags).build();
        self.iov.point(&mut sqe)?;
        Ok(sqe)
    }
}

/// The kernel's limit on one registered buffer (1 GiB) and on the table (16384 buffers).
const MAX_FIXED_LEN: usize = 1 << 30;
const MAX_FIXED_BUFS: usize = 1 << 14;

/// The memory of one registered buffer. The ring's keep-alive list holds a reference, so the
/// memory outlives every request of the ring even if the [`FixedBuf`] is dropped.
pub(crate) struct FixedMem {
    ptr: *mut u8,
    len: usize,
}

impl FixedMem {
    /// Checks buffers for registration as a fixed-buffer table (1 to 16384 buffers of 1 byte
    /// to 1 GiB each) and takes their memory.
    pub(crate) fn check_and_take(bufs: Vec<Vec<u8>>) -> Result<Vec<Arc<FixedMem>>> {
        if bufs.is_empty() || bufs.len() > MAX_FIXED_BUFS {
            return Err(Error::InvalidArgument { what: "fixed buffers", reason: "between 1 and 16384 buffers" });
        }
        if bufs.iter().any(|b| b.is_empty() || b.len() > MAX_FIXED_LEN) {
            return Err(Error::InvalidArgument {
                what: "fixed buffer",
                reason: "each buffer must hold 1 byte to 1 GiB",
            });
        }
        Ok(bufs
            .into_iter()
            .map(|b| {
                let len = b.len();
                let ptr = Box::into_raw(b.into_boxed_slice()).cast::<u8>();
                Arc::new(FixedMem { ptr, len })
            })
            .collect())
    }

    /// The iovec that registers this memory.
    pub(crate) fn iovec(&self) -> libc::iovec {
        libc::iovec { iov_base: self.ptr.cast(), iov_len: self.len }
    }
}

// SAFETY: plain heap memory; Rust code reaches it only through the unique `FixedBuf` handle
// (the keep-alive reference never dereferences it), so it may move and be shared across threads.
unsafe impl Send for FixedMem {}
// SAFETY: as above.
unsafe impl Sync for FixedMem {}

impl Drop for FixedMem {
    fn drop(&mut self) {
        // SAFETY: `ptr`/`len` came from `Box::into_raw` of a `Box<[u8]>` in `register`, and
        // this is the last reference (the `Arc` is dropping it).
        drop(unsafe { Box::from_raw(core::ptr::slice_from_raw_parts_mut(self.ptr, self.len)) });
    }
}

/// One buffer of the ring's registered buffer table (`IORING_REGISTER_BUFFERS`, Linux 5.1), created by
/// [`OwnedRing::register_fixed_buffers`](crate::owned::OwnedRing::register_fixed_buffers): the only handle to that memory.
///
/// The fixed-buffer operations ([`ReadFixed`], [`WriteFixed`], [`ReadvFixed`], [`WritevFixed`])
/// take the handle by value and give it back with their completion, so the buffer cannot be
/// read or written while the kernel uses it. The kernel checks that every address an entry
/// names lies inside the buffer registered at its index, so an operation can only reach the
/// memory of the handle it owns.
///
/// The memory stays allocated until both this handle and the ring are gone, so dropping the
/// handle while the buffer is registered is harmless. Raw-layer entries that name the same
/// table slot (pushed with `unsafe`) are outside this guarantee: their contract requires not
/// racing with this handle.
///
/// ```compile_fail,E0382
/// # use uring::owned::{OwnedRing, ReadFixed};
/// let mut ring = OwnedRing::new(8).unwrap();
/// let buf = ring.register_fixed_buffers(vec![vec![0u8; 4096]]).unwrap().pop().unwrap();
/// let file = std::fs::File::open("/dev/zero").unwrap();
/// ring.push(ReadFixed::new(file, buf, 0)).unwrap();
/// let first = buf.as_slice()[0]; // error: `buf` moved into the ring with the read
/// ```
pub struct FixedBuf {
    mem: Arc<FixedMem>,
    index: u16,
}

impl core::fmt::Debug for FixedBuf {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("FixedBuf").field("index", &self.index).field("len", &self.mem.len).finish()
    }
}

impl FixedBuf {
    /// The handle of registered memory `mem` at table slot `index`.
    pub(crate) fn new(mem: Arc<FixedMem>, index: u16) -> Self {
        FixedBuf { mem, index }
    }

    /// The slot of the registered buffer table (`sqe.buf_index`).
    pub fn index(&self) -> u16 {
        self.index
    }

    /// The buffer's length.
    pub fn len(&self) -> usize {
        self.mem.len
    }

    /// Whether the buffer is empty (never: registration refuses empty buffers).
    pub fn is_empty(&self) -> bool {
        self.mem.len == 0
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: `ptr`/`len` describe a live allocation (kept by `mem`). Only this unique
        // handle hands out references, and no owned operation uses the memory while the
        // handle is outside one (the kernel refuses addresses outside the buffer it names).
        unsafe { core::slice::from_raw_parts(self.mem.ptr, self.mem.len) }
    }

    /// The bytes, writable.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: as in `as_slice`, and `&mut self` makes this the only reference.
        unsafe { core::slice::from_raw_parts_mut(self.mem.ptr, self.mem.len) }
    }

    /// The part `range` of the buffer, checked.
    fn part(&mut self, range: &Range<usize>) -> Result<&mut [u8]> {
        self.as_mut_slice()
            .get_mut(range.clone())
            .ok_or(Error::InvalidArgument { what: "fixed buffer range", reason: "outside the registered buffer" })
    }
}

/// `IORING_OP_READ_FIXED` (Linux 5.1): reads into `buf[range]` of a registered buffer, at `offset`
/// (`u64::MAX`: the file position). The result is the number of bytes read into the front of
/// the range.
#[derive(Debug)]
pub struct ReadFixed {
    /// The file.
    pub fd: Fd,
    /// The registered buffer.
    pub buf: FixedBuf,
    /// The part of the buffer to read into (checked when pushed).
    pub range: Range<usize>,
    /// The file offset.
    pub offset: u64,
}

impl ReadFixed {
    /// A read from `fd` at `offset` into the whole of `buf`.
    /// Pushed as `IORING_OP_READ_FIXED` (Linux 5.1).
    pub fn new(fd: impl Into<Fd>, buf: FixedBuf, offset: u64) -> Self {
        let range = 0..buf.len();
        ReadFixed { fd: fd.into(), buf, range, offset }
    }
}

impl Encode for ReadFixed {
    #[inline]
    fn sqe(&mut self) -> Result<Sqe> {
        let index = self.buf.index;
        let part = self.buf.part(&self.range)?;
        Ok(op::ReadFixed::new(self.fd.target(), part, index)?.offset(self.offset).build())
    }
}

/// `IORING_OP_WRITE_FIXED` (Linux 5.1): writes `buf[range]` of a registered buffer at `offset`
/// (`u64::MAX`: the file position). The result is the number of bytes written.
#[derive(Debug)]
pub struct WriteFixed {
    /// The file.
    pub fd: Fd,
    /// The registered buffer.
    pub buf: FixedBuf,
    /// The part of the buffer to write (checked when pushed).
    pub range: Range<usize>,
    /// The file offset.
    pub offset: u64,
}

impl WriteFixed {
    /// A write of `buf[range]` to `fd` at `offset`.
    /// Pushed as `IORING_OP_WRITE_FIXED` (Linux 5.1).
    pub fn new(fd: impl Into<Fd>, buf: FixedBuf, range: Range<usize>, offset: u64) -> Self {
        WriteFixed { fd: fd.into(), buf, range, offset }
    }
}

impl Encode for WriteFixed {
    #[inline]
    fn sqe(&mut self) -> Result<Sqe> {
        let index = self.buf.index;
        let part = self.buf.part(&self.range)?;
        Ok(op::WriteFixed::new(self.fd.target(), part, index)?.offset(self.offset).build())
    }
}

/// Rebuilds `iov` over the parts `ranges` of `buf`, checking each (parts may overlap: they
/// are addresses for the kernel, never Rust references).
fn fixed_iovecs(iov: &mut Iovecs, buf: &mut FixedBuf, ranges: &[Range<usize>]) -> Result<()> {
    let len = buf.len();
    if ranges.iter().any(|r| r.start > r.end || r.end > len) {
        return Err(Error::InvalidArgument { what: "fixed buffer range", reason: "outside the registered buffer" });
    }
    let base = buf.as_mut_slice().as_mut_ptr();
    iov.over_raw(ranges.iter().map(|r| (base.wrapping_add(r.start), r.end - r.start)));
    Ok(())
}

/// `IORING_OP_READV_FIXED`: a vectored read into the parts `ranges` of one registered buffer,
/// in order, at `offset` (`u64::MAX`: the file position; Linux 6.15). The result is the number
/// of bytes read.
#[derive(Debug)]
pub struct ReadvFixed {
    /// The file.
    pub fd: Fd,
    /// The registered buffer.
    pub buf: FixedBuf,
    /// The parts of the buffer, in order (checked when pushed).
    pub ranges: Vec<Range<usize>>,
    /// The file offset.
    pub offset: u64,
    iov: Iovecs,
}

impl ReadvFixed {
    /// A read from `fd` at `offset` into `ranges` of `buf`.
    /// Pushed as `IORING_OP_READV_FIXED` (Linux 6.15).
    pub fn new(fd: impl Into<Fd>, buf: FixedBuf, ranges: Vec<Range<usize>>, offset: u64) -> Self {
        ReadvFixed { fd: fd.into(), buf, ranges, offset, iov: Iovecs::default() }
    }
}

impl Encode for ReadvFixed {
    #[inline]
    fn sqe(&mut self) -> Result<Sqe> {
        fixed_iovecs(&mut self.iov, &mut self.buf, &self.ranges)?;
        let mut none: [IoSliceMut<'_>; 0] = [];
        let mut sqe = op::ReadvFixed::new(self.fd.target(), &mut none, self.buf.index)?.offset(self.offset).build();
        self.iov.point(&mut sqe)?;
        Ok(sqe)
    }
}

/// `IORING_OP_WRITEV_FIXED`: a vectored write of the parts `ranges` of one registered buffer,
/// in order, at `offset` (`u64::MAX`: the file position; Linux 6.15). The result is the number
/// of bytes written.
#[derive(Debug)]
pub struct WritevFixed {
    /// The file.
    pub fd: Fd,
    /// The registered buffer.
    pub buf: FixedBuf,
    /// The parts of the buffer, in order (checked when pushed).
    pub ranges: Vec<Range<usize>>,
    /// The file offset.
    pub offset: u64,
    iov: Iovecs,
}

impl WritevFixed {
    /// A write of `ranges` of `buf` to `fd` at `offset`.
    /// Pushed as `IORING_OP_WRITEV_FIXED` (Linux 6.15).
    pub fn new(fd: impl Into<Fd>, buf: FixedBuf, ranges: Vec<Range<usize>>, offset: u64) -> Self {
        WritevFixed { fd: fd.into(), buf, ranges, offset, iov: Iovecs::default() }
    }
}

impl Encode for WritevFixed {
    #[inline]
    fn sqe(&mut self) -> Result<Sqe> {
        fixed_iovecs(&mut self.iov, &mut self.buf, &self.ranges)?;
        let none: [IoSlice<'_>; 0] = [];
        let mut sqe = op::WritevFixed::new(self.fd.target(), &none, self.buf.index)?.offset(self.offset).build();
        self.iov.point(&mut sqe)?;
        Ok(sqe)
    }
}
