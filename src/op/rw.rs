//! Encoders of the read/write family: plain, vectored, registered-buffer and multishot reads and
//! writes, with their `RWF_*` flags, protection-information attributes and write streams.
//!
//! Every builder here that points at caller buffers returns an [`Sqe`] from `build`: pushing it
//! is `unsafe` ([`SubmissionQueue::push_raw`](crate::SubmissionQueue::push_raw)), and each
//! builder's doc says which memory must outlive the operation.
//!
//! Offsets: every builder starts at offset 0. For a seekable file the offset is where the
//! transfer happens; [`Read::current_position`] (and the same setter on the other builders)
//! writes `-1` instead, which means "the file position, advanced by the transfer", as `read(2)`
//! and `write(2)` do (`IORING_FEAT_RW_CUR_POS`, Linux 5.6). On a pipe, socket or other
//! non-seekable file the offset must be 0 or `-1`.
//!
//! Lengths: a buffer longer than `u32::MAX` bytes (or more than `u32::MAX` iovecs) is refused
//! with [`Error::InvalidArgument`](crate::Error::InvalidArgument), as everywhere in
//! [`op`](crate::op) (see its "Lengths"): the constructors that take a buffer return a
//! `Result`. (The kernel moves at most `MAX_RW_COUNT`, just under 2 GiB, per operation; a
//! shorter transfer is reported in the result, as for `read(2)`.)

use core::marker::PhantomData;
use std::io::{IoSlice, IoSliceMut};

use bitflags::bitflags;
use uring_uapi::*;

use crate::op::{len32, prep_rw, set_buffer_select, target_flags, BufferGroup, Target};
use crate::sqe::{FdSqe, Sqe};

bitflags! {
    /// The `RWF_*` flags of a read or write (`sqe.rw_flags`), as `preadv2(2)`/`pwritev2(2)` take
    /// them. Values are the kernel's (`include/uapi/linux/fs.h`); unknown bits are kept, for flags
    /// newer than this crate.
    ///
    /// The crate's own type rather than rustix's `ReadWriteFlags` (same width, also keeps
    /// unknown bits), which names only the five flags up to Linux 4.16: the ones io_uring
    /// writes are used for (`NOAPPEND`, `ATOMIC`, `DONTCACHE`) would be anonymous bits there.
    /// Either converts into the other without loss (`From`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct RwFlags: u32 {
        /// `RWF_HIPRI` (0x01): high-priority request, polled on `IORING_SETUP_IOPOLL` rings
        /// (Linux 4.6).
        const HIPRI = libc::RWF_HIPRI as u32;
        /// `RWF_DSYNC` (0x02): per-write `O_DSYNC` (Linux 4.7).
        const DSYNC = libc::RWF_DSYNC as u32;
        /// `RWF_SYNC` (0x04): per-write `O_SYNC` (Linux 4.7).
        const SYNC = libc::RWF_SYNC as u32;
        /// `RWF_NOWAIT` (0x08): fail with `EAGAIN` rather than block (Linux 4.14).
        const NOWAIT = libc::RWF_NOWAIT as u32;
        /// `RWF_APPEND` (0x10): per-write `O_APPEND` (Linux 4.16).
        const APPEND = libc::RWF_APPEND as u32;
        /// `RWF_NOAPPEND` (0x20): ignore `O_APPEND` for this write, honouring the offset
        /// (Linux 6.9).
        const NOAPPEND = libc::RWF_NOAPPEND as u32;
        /// `RWF_ATOMIC` (0x40): write all or nothing, untorn (Linux 6.11).
        const ATOMIC = libc::RWF_ATOMIC as u32;
        /// `RWF_DONTCACHE` (0x80): buffered I/O that drops the pages from the page cache once
        /// done (Linux 6.14).
        const DONTCACHE = libc::RWF_DONTCACHE as u32;
        // Newer flags pass through unchanged.
        const _ = !0;
    }
}

impl From<rustix::io::ReadWriteFlags> for RwFlags {
    #[inline]
    fn from(f: rustix::io::ReadWriteFlags) -> Self {
        RwFlags::from_bits_retain(f.bits())
    }
}

impl From<RwFlags> for rustix::io::ReadWriteFlags {
    #[inline]
    fn from(f: RwFlags) -> Self {
        rustix::io::ReadWriteFlags::from_bits_retain(f.bits())
    }
}

/// Validates `group` for buffer selection (through `set_buffer_select`, which refuses
/// kernel-managed groups) and returns its id; the builders apply it in `build`.
#[inline]
fn selectable(group: &impl BufferGroup) -> crate::Result<u16> {
    let mut scratch = Sqe::zeroed();
    set_buffer_select(&mut scratch, group)?;
    // SAFETY: `buf_group` is a plain-integer member of the union.
    Ok(unsafe { scratch.0.buf.buf_group })
}

/// The arguments every read/write opcode shares.
#[derive(Debug, Clone, Copy)]
struct RwArgs {
    target: Target,
    addr: u64,
    len: u32,
    off: u64,
    rw_flags: u32,
    ioprio: u16,
    buf_index: u16,
    /// Address of an `io_uring_attr_pi`, or 0.
    attr_pi: u64,
    write_stream: u8,
}

impl RwArgs {
    #[inline]
    const fn new(target: Target, addr: u64, len: u32) -> Self {
        RwArgs { target, addr, len, off: 0, rw_flags: 0, ioprio: 0, buf_index: 0, attr_pi: 0, write_stream: 0 }
    }

    /// The entry for `opcode`: `prep_rw` plus the target, flags, priority, buffer index,
    /// attributes and write stream.
    #[inline]
    fn sqe(&self, opcode: u8) -> Sqe {
        self.sqe_selecting(opcode, None)
    }

    /// As [`RwArgs::sqe`], selecting from `group` (validated by [`selectable`]) if one is given:
    /// `IOSQE_BUFFER_SELECT`, with `sqe.buf_group` in place of the buffer index.
    ///
    /// The fd goes straight into `prep_rw` and every field is written with its full width, so
    /// the compiler stores the entry as a few wide stores (see `prep_rw`).
    #[inline]
    fn sqe_selecting(&self, opcode: u8, group: Option<u16>) -> Sqe {
        let mut sqe = prep_rw(opcode, self.target.sqe_fd(), self.addr, self.len, self.off);
        sqe.0.flags = target_flags(self.target);
        sqe.0.ioprio = self.ioprio;
        sqe.0.op_flags.rw_flags = self.rw_flags;
        match group {
            Some(bgid) => {
                sqe.0.flags |= IOSQE_BUFFER_SELECT;
                sqe.0.buf.buf_group = bgid;
            }
            None => sqe.0.buf.buf_index = self.buf_index,
        }
        if self.attr_pi != 0 {
            sqe.0.addr3.attr = io_uring_sqe_attr { attr_ptr: self.attr_pi, attr_type_mask: IORING_RW_ATTR_FLAG_PI };
        }
        if self.write_stream != 0 {
            // `write_stream` is byte 0 of the union, padding the rest. Written as the 32-bit
            // member: the 1+3-byte struct made the compiler split the zero stores around it.
            sqe.0.file.file_index = u32::from_ne_bytes([self.write_stream, 0, 0, 0]);
        }
        sqe
    }
}

/// The offset, flags and priority setters of every read/write builder (a `rw: RwArgs` field).
macro_rules! rw_setters {
    () => {
        /// The file offset to transfer at (default 0). Must be 0 or `u64::MAX` (`-1`) on a
        /// non-seekable file.
        #[inline]
        #[must_use]
        pub const fn offset(mut self, off: u64) -> Self {
            self.rw.off = off;
            self
        }

        /// Transfers at the file position and advances it, as `read(2)`/`write(2)` do: encodes
        /// the offset `-1` (`u64::MAX`). Needs `IORING_FEAT_RW_CUR_POS` (Linux 5.6).
        #[inline]
        #[must_use]
        pub const fn current_position(mut self) -> Self {
            self.rw.off = u64::MAX;
            self
        }

        /// The `RWF_*` flags (`preadv2(2)`/`pwritev2(2)` semantics), replacing any set before.
        #[inline]
        #[must_use]
        pub const fn rw_flags(mut self, flags: RwFlags) -> Self {
            self.rw.rw_flags = flags.bits();
            self
        }

        /// The I/O priority (`sqe.ioprio`), as `ioprio_set(2)` encodes it:
        /// `(class << 13) | level` (classes: 1 real-time, 2 best-effort, 3 idle). The default 0
        /// uses the task's priority.
        #[inline]
        #[must_use]
        pub const fn ioprio(mut self, ioprio: u16) -> Self {
            self.rw.ioprio = ioprio;
            self
        }
    };
}

/// The protection-information attribute setter (Linux 6.14, no liburing helper).
macro_rules! attr_pi_setter {
    () => {
        /// Attaches protection information (integrity metadata) to the transfer:
        /// `sqe.attr_ptr = pi`, `sqe.attr_type_mask = IORING_RW_ATTR_FLAG_PI` (Linux 6.14, no
        /// liburing helper; the file must be opened `O_DIRECT` on a device with integrity
        /// support). The kernel reads `pi` while the entry is submitted, and reads or writes the
        /// integrity buffer at `pi.addr`/`pi.len` until the operation completes: keep that
        /// buffer alive and unmoved until then.
        #[inline]
        #[must_use]
        pub fn attr_pi(mut self, pi: &'a io_uring_attr_pi) -> Self {
            self.rw.attr_pi = pi as *const io_uring_attr_pi as u64;
            self
        }
    };
}

/// The write-stream setter (Linux 6.16, no liburing helper).
macro_rules! write_stream_setter {
    () => {
        /// Sends the data to write stream `stream` of the device (`sqe.write_stream`, Linux 6.16,
        /// no liburing helper). 0, the default, is no stream; devices report how many they have
        /// in `statx(2)`.
        #[inline]
        #[must_use]
        pub const fn write_stream(mut self, stream: u8) -> Self {
            self.rw.write_stream = stream;
            self
        }
    };
}

/// `IORING_OP_READ`: reads into one buffer, like `pread(2)` (`io_uring_prep_read(3)`,
/// Linux 5.6). The result is the number of bytes read.
///
/// Memory: the kernel writes into `buf` until the operation completes; it must stay alive,
/// unmoved and otherwise unused until then (with [`Read::attr_pi`], the integrity buffer too).
/// With [`Read::buf_group`] the entry points at no caller buffer: the kernel picks one from the
/// group and reports its id in the completion ([`Cqe::buffer_id`](crate::Cqe::buffer_id)).
#[derive(Debug)]
pub struct Read<'a> {
    rw: RwArgs,
    group: Option<u16>,
    _buf: PhantomData<&'a mut [u8]>,
}

impl<'a> Read<'a> {
    /// The operation code, `IORING_OP_READ`.
    pub const CODE: u8 = IORING_OP_READ;

    /// Reads from `fd` into `buf`, at offset 0 unless set otherwise. Refuses a buffer longer
    /// than `u32::MAX` bytes.
    /// See `io_uring_prep_read(3)` (Linux 5.6).
    #[inline]
    pub fn new(fd: impl Into<Target>, buf: &'a mut [u8]) -> crate::Result<Self> {
        let len = len32(buf.len(), "read buffer")?;
        Ok(Read { rw: RwArgs::new(fd.into(), buf.as_mut_ptr() as u64, len), group: None, _buf: PhantomData })
    }

    rw_setters!();
    attr_pi_setter!();

    /// Reads into a buffer the kernel selects from `group` instead of the one given to
    /// [`Read::new`] (`IOSQE_BUFFER_SELECT` and `sqe.buf_group`, Linux 5.7). The entry then
    /// carries no buffer address; the length stays that of the buffer given to `new`, and a
    /// length of 0 (an empty buffer, as liburing's callers pass) reads up to the whole selected
    /// buffer. See also [`Read::selected`].
    ///
    /// Refuses a kernel-managed group with [`Error::InvalidArgument`](crate::Error::InvalidArgument).
    pub fn buf_group(mut self, group: &impl BufferGroup) -> crate::Result<Self> {
        self.group = Some(selectable(group)?);
        self.rw.addr = 0;
        Ok(self)
    }

    /// The entry.
    /// Encodes `IORING_OP_READ`.
    #[inline]
    pub fn build(self) -> Sqe {
        self.rw.sqe_selecting(Self::CODE, self.group)
    }
}

impl Read<'static> {
    /// Reads up to `len` bytes from `fd` into a buffer the kernel selects from `group`
    /// (`io_uring_prep_read(3)` with a `NULL` buffer and `IOSQE_BUFFER_SELECT`, Linux 5.7).
    /// `len` 0 reads up to the size of the selected buffer.
    ///
    /// Refuses a kernel-managed group with [`Error::InvalidArgument`](crate::Error::InvalidArgument).
    pub fn selected(fd: impl Into<Target>, len: u32, group: &impl BufferGroup) -> crate::Result<Self> {
        Read { rw: RwArgs::new(fd.into(), 0, len), group: None, _buf: PhantomData }.buf_group(group)
    }
}

/// `IORING_OP_WRITE`: writes one buffer, like `pwrite(2)` (`io_uring_prep_write(3)`,
/// Linux 5.6). The result is the number of bytes written.
///
/// Memory: the kernel reads `buf` until the operation completes; it must stay alive, unmoved
/// and unmodified until then (with [`Write::attr_pi`], the integrity buffer too). Writes cannot
/// select provided buffers: the kernel accepts `IOSQE_BUFFER_SELECT` on reads only.
#[derive(Debug, Clone, Copy)]
pub struct Write<'a> {
    rw: RwArgs,
    _buf: PhantomData<&'a [u8]>,
}

impl<'a> Write<'a> {
    /// The operation code, `IORING_OP_WRITE`.
    pub const CODE: u8 = IORING_OP_WRITE;

    /// Writes `buf` to `fd`, at offset 0 unless set otherwise. Refuses a buffer longer than
    /// `u32::MAX` bytes.
    /// See `io_uring_prep_write(3)` (Linux 5.6).
    #[inline]
    pub fn new(fd: impl Into<Target>, buf: &'a [u8]) -> crate::Result<Self> {
        let len = len32(buf.len(), "write buffer")?;
        Ok(Write { rw: RwArgs::new(fd.into(), buf.as_ptr() as u64, len), _buf: PhantomData })
    }

    rw_setters!();
    attr_pi_setter!();
    write_stream_setter!();

    /// The entry.
    /// Encodes `IORING_OP_WRITE`.
    #[inline]
    pub fn build(self) -> Sqe {
        self.rw.sqe(Self::CODE)
    }
}

/// `IORING_OP_READV`: reads into several buffers, like `preadv2(2)` (`io_uring_prep_readv(3)`;
/// with [`Readv::rw_flags`], `io_uring_prep_readv2(3)`; Linux 5.1). The result is the number of
/// bytes read.
///
/// Memory: the kernel reads the iovec array while the entry is submitted (possibly later on
/// kernels before 5.5, which lack `IORING_FEAT_SUBMIT_STABLE`) and writes into the buffers until
/// the operation completes: both must stay alive and unmoved, and the buffers otherwise unused,
/// until then.
#[derive(Debug)]
pub struct Readv<'a> {
    rw: RwArgs,
    group: Option<u16>,
    _bufs: PhantomData<&'a mut [u8]>,
}

impl<'a> Readv<'a> {
    /// The operation code, `IORING_OP_READV`.
    pub const CODE: u8 = IORING_OP_READV;

    /// Reads from `fd` into `iovecs` in order, at offset 0 unless set otherwise.
    /// (`IoSliceMut` has the layout of `struct iovec`.) Refuses more than `u32::MAX` iovecs.
    /// See `io_uring_prep_readv(3)` (Linux 5.1).
    #[inline]
    pub fn new(fd: impl Into<Target>, iovecs: &'a mut [IoSliceMut<'_>]) -> crate::Result<Self> {
        let nr = len32(iovecs.len(), "iovecs")?;
        Ok(Readv { rw: RwArgs::new(fd.into(), iovecs.as_mut_ptr() as u64, nr), group: None, _bufs: PhantomData })
    }

    rw_setters!();
    attr_pi_setter!();

    /// Reads into a buffer the kernel selects from `group` (`IOSQE_BUFFER_SELECT`, Linux 5.7).
    /// The kernel then takes only the length of the single iovec given (0: the whole selected
    /// buffer) and ignores its base.
    ///
    /// Refuses a kernel-managed group, and anything but exactly one iovec, with
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument).
    pub fn buf_group(mut self, group: &impl BufferGroup) -> crate::Result<Self> {
        if self.rw.len != 1 {
            return Err(crate::Error::InvalidArgument {
                what: "iovecs",
                reason: "a vectored read with buffer selection takes exactly one iovec",
            });
        }
        self.group = Some(selectable(group)?);
        Ok(self)
    }

    /// The entry.
    /// Encodes `IORING_OP_READV`.
    #[inline]
    pub fn build(self) -> Sqe {
        self.rw.sqe_selecting(Self::CODE, self.group)
    }
}

/// `IORING_OP_WRITEV`: writes several buffers, like `pwritev2(2)` (`io_uring_prep_writev(3)`;
/// with [`Writev::rw_flags`], `io_uring_prep_writev2(3)`; Linux 5.1). The result is the number
/// of bytes written.
///
/// Memory: the kernel reads the iovec array while the entry is submitted (possibly later on
/// kernels before 5.5) and the buffers until the operation completes: both must stay alive, unmoved and
/// unmodified until then.
#[derive(Debug, Clone, Copy)]
pub struct Writev<'a> {
    rw: RwArgs,
    _bufs: PhantomData<&'a [u8]>,
}

impl<'a> Writev<'a> {
    /// The operation code, `IORING_OP_WRITEV`.
    pub const CODE: u8 = IORING_OP_WRITEV;

    /// Writes `iovecs` in order to `fd`, at offset 0 unless set otherwise.
    /// (`IoSlice` has the layout of `struct iovec`.) Refuses more than `u32::MAX` iovecs.
    /// See `io_uring_prep_writev(3)` (Linux 5.1).
    #[inline]
    pub fn new(fd: impl Into<Target>, iovecs: &'a [IoSlice<'_>]) -> crate::Result<Self> {
        let nr = len32(iovecs.len(), "iovecs")?;
        Ok(Writev { rw: RwArgs::new(fd.into(), iovecs.as_ptr() as u64, nr), _bufs: PhantomData })
    }

    rw_setters!();
    attr_pi_setter!();
    write_stream_setter!();

    /// The entry.
    /// Encodes `IORING_OP_WRITEV`.
    #[inline]
    pub fn build(self) -> Sqe {
        self.rw.sqe(Self::CODE)
    }
}

/// `IORING_OP_READ_FIXED`: reads into part of a registered buffer (`io_uring_prep_read_fixed(3)`,
/// Linux 5.1). The result is the number of bytes read.
///
/// `buf` must lie inside the buffer registered at index `buf_index`
/// (`IORING_REGISTER_BUFFERS`); the kernel refuses it with `EFAULT` otherwise.
///
/// Memory: the kernel writes into `buf` until the operation completes; it must stay alive,
/// unmoved and otherwise unused until then (and registered buffers stay pinned while
/// registered).
#[derive(Debug)]
pub struct ReadFixed<'a> {
    rw: RwArgs,
    _buf: PhantomData<&'a mut [u8]>,
}

impl<'a> ReadFixed<'a> {
    /// The operation code, `IORING_OP_READ_FIXED`.
    pub const CODE: u8 = IORING_OP_READ_FIXED;

    /// Reads from `fd` into `buf`, a part of registered buffer `buf_index`.
    /// See `io_uring_prep_read_fixed(3)` (Linux 5.1).
    #[inline]
    pub fn new(fd: impl Into<Target>, buf: &'a mut [u8], buf_index: u16) -> crate::Result<Self> {
        let mut rw = RwArgs::new(fd.into(), buf.as_mut_ptr() as u64, len32(buf.len(), "read buffer")?);
        rw.buf_index = buf_index;
        Ok(ReadFixed { rw, _buf: PhantomData })
    }

    rw_setters!();
    attr_pi_setter!();

    /// The entry.
    /// Encodes `IORING_OP_READ_FIXED`.
    #[inline]
    pub fn build(self) -> Sqe {
        self.rw.sqe(Self::CODE)
    }
}

/// `IORING_OP_WRITE_FIXED`: writes part of a registered buffer
/// (`io_uring_prep_write_fixed(3)`, Linux 5.1). The result is the number of bytes written.
///
/// `buf` must lie inside the buffer registered at index `buf_index`.
///
/// Memory: the kernel reads `buf` until the operation completes; it must stay alive, unmoved
/// and unmodified until then.
#[derive(Debug, Clone, Copy)]
pub struct WriteFixed<'a> {
    rw: RwArgs,
    _buf: PhantomData<&'a [u8]>,
}

impl<'a> WriteFixed<'a> {
    /// The operation code, `IORING_OP_WRITE_FIXED`.
    pub const CODE: u8 = IORING_OP_WRITE_FIXED;

    /// Writes `buf`, a part of registered buffer `buf_index`, to `fd`.
    /// See `io_uring_prep_write_fixed(3)` (Linux 5.1).
    #[inline]
    pub fn new(fd: impl Into<Target>, buf: &'a [u8], buf_index: u16) -> crate::Result<Self> {
        let mut rw = RwArgs::new(fd.into(), buf.as_ptr() as u64, len32(buf.len(), "write buffer")?);
        rw.buf_index = buf_index;
        Ok(WriteFixed { rw, _buf: PhantomData })
    }

    rw_setters!();
    attr_pi_setter!();
    write_stream_setter!();

    /// The entry.
    /// Encodes `IORING_OP_WRITE_FIXED`.
    #[inline]
    pub fn build(self) -> Sqe {
        self.rw.sqe(Self::CODE)
    }
}

/// `IORING_OP_READV_FIXED`: a vectored read into parts of one registered buffer
/// (`io_uring_prep_readv_fixed(3)`, Linux 6.15). The result is the number of bytes read.
///
/// Every iovec must lie inside the buffer registered at index `buf_index`.
///
/// Memory: the kernel reads the iovec array while the entry is submitted and writes into the
/// buffers until the operation completes: both must stay alive and unmoved, and the buffers
/// otherwise unused, until then.
#[derive(Debug)]
pub struct ReadvFixed<'a> {
    rw: RwArgs,
    _bufs: PhantomData<&'a mut [u8]>,
}

impl<'a> ReadvFixed<'a> {
    /// The operation code, `IORING_OP_READV_FIXED`.
    pub const CODE: u8 = IORING_OP_READV_FIXED;

    /// Reads from `fd` into `iovecs`, all parts of registered buffer `buf_index`.
    /// See `io_uring_prep_readv_fixed(3)` (Linux 6.15).
    #[inline]
    pub fn new(fd: impl Into<Target>, iovecs: &'a mut [IoSliceMut<'_>], buf_index: u16) -> crate::Result<Self> {
        let mut rw = RwArgs::new(fd.into(), iovecs.as_mut_ptr() as u64, len32(iovecs.len(), "iovecs")?);
        rw.buf_index = buf_index;
        Ok(ReadvFixed { rw, _bufs: PhantomData })
    }

    rw_setters!();
    attr_pi_setter!();

    /// The entry.
    /// Encodes `IORING_OP_READV_FIXED`.
    #[inline]
    pub fn build(self) -> Sqe {
        self.rw.sqe(Self::CODE)
    }
}

/// `IORING_OP_WRITEV_FIXED`: a vectored write from parts of one registered buffer
/// (`io_uring_prep_writev_fixed(3)`, Linux 6.15). The result is the number of bytes written.
///
/// Every iovec must lie inside the buffer registered at index `buf_index`.
///
/// Memory: the kernel reads the iovec array while the entry is submitted and the buffers until
/// the operation completes: both must stay alive, unmoved and unmodified until then.
#[derive(Debug, Clone, Copy)]
pub struct WritevFixed<'a> {
    rw: RwArgs,
    _bufs: PhantomData<&'a [u8]>,
}

impl<'a> WritevFixed<'a> {
    /// The operation code, `IORING_OP_WRITEV_FIXED`.
    pub const CODE: u8 = IORING_OP_WRITEV_FIXED;

    /// Writes `iovecs`, all parts of registered buffer `buf_index`, to `fd`.
    /// See `io_uring_prep_writev_fixed(3)` (Linux 6.15).
    #[inline]
    pub fn new(fd: impl Into<Target>, iovecs: &'a [IoSlice<'_>], buf_index: u16) -> crate::Result<Self> {
        let mut rw = RwArgs::new(fd.into(), iovecs.as_ptr() as u64, len32(iovecs.len(), "iovecs")?);
        rw.buf_index = buf_index;
        Ok(WritevFixed { rw, _bufs: PhantomData })
    }

    rw_setters!();
    attr_pi_setter!();
    write_stream_setter!();

    /// The entry.
    /// Encodes `IORING_OP_WRITEV_FIXED`.
    #[inline]
    pub fn build(self) -> Sqe {
        self.rw.sqe(Self::CODE)
    }
}

/// `IORING_OP_READ_MULTISHOT`: reads repeatedly from a pollable file (pipe, tun, eventfd...)
/// into buffers selected from a provided-buffer group, posting a completion per read
/// (`io_uring_prep_read_multishot(3)`, Linux 6.7).
///
/// Each completion carries the bytes read and the buffer id
/// ([`Cqe::buffer_id`](crate::Cqe::buffer_id)); `IORING_CQE_F_MORE` says more will follow.
/// A regular file fails with `EBADFD`.
///
/// Points at no caller memory (the buffers belong to the group, whose provider already
/// promised they stay valid while provided), but names the file and a buffer group: an
/// [`FdSqe`](crate::FdSqe), pushed with `unsafe` [`push_fd`](crate::SubmissionQueue::push_fd)
/// (which [`FdSqe::into_safe`](crate::FdSqe::into_safe) does not lift, since a bare
/// [`BufGroupId`](crate::op::BufGroupId) could name a kernel-managed group). The safe form is
/// the owned [`ReadMultishot`](crate::owned::ReadMultishot).
#[derive(Debug, Clone, Copy)]
pub struct ReadMultishot {
    rw: RwArgs,
    bgid: u16,
}

impl ReadMultishot {
    /// The operation code, `IORING_OP_READ_MULTISHOT`.
    pub const CODE: u8 = IORING_OP_READ_MULTISHOT;

    /// Reads from `fd` into buffers of `group`, at offset 0 unless set otherwise.
    ///
    /// Refuses a kernel-managed group with [`Error::InvalidArgument`](crate::Error::InvalidArgument).
    /// See `io_uring_prep_read_multishot(3)` (Linux 6.7).
    pub fn new(fd: impl Into<Target>, group: &impl BufferGroup) -> crate::Result<Self> {
        Ok(ReadMultishot { rw: RwArgs::new(fd.into(), 0, 0), bgid: selectable(group)? })
    }

    /// Caps each read at `len` bytes (`sqe.len`); 0, the default, or a length past the
    /// selected buffer's size reads up to the buffer's size. liburing documents only 0.
    #[inline]
    #[must_use]
    pub const fn len(mut self, len: u32) -> Self {
        self.rw.len = len;
        self
    }

    rw_setters!();

    /// The entry.
    /// Encodes `IORING_OP_READ_MULTISHOT`.
    #[inline]
    pub fn build(self) -> FdSqe {
        FdSqe::new(self.rw.sqe_selecting(Self::CODE, Some(self.bgid)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::op::test_util::{check, Fields, KernelGroup, FIXED, SELECT};
    use crate::op::{BufGroupId, Fixed};

    #[test]
    fn rw_flag_values() {
        for (flag, bits) in [
            (RwFlags::HIPRI, 0x01),
            (RwFlags::DSYNC, 0x02),
            (RwFlags::SYNC, 0x04),
            (RwFlags::NOWAIT, 0x08),
            (RwFlags::APPEND, 0x10),
            (RwFlags::NOAPPEND, 0x20),
            (RwFlags::ATOMIC, 0x40),
            (RwFlags::DONTCACHE, 0x80),
        ] {
            assert_eq!(flag.bits(), bits, "{flag:?}");
        }
        assert_eq!(RwFlags::from_bits_retain(0x100).bits(), 0x100);
        // rustix's type converts both ways without loss.
        let all = RwFlags::from_bits_retain(0x1ff);
        assert_eq!(RwFlags::from(rustix::io::ReadWriteFlags::from(all)), all);
        assert_eq!(rustix::io::ReadWriteFlags::from(RwFlags::DSYNC), rustix::io::ReadWriteFlags::DSYNC);
    }

    #[test]
    fn encodings() {
        let mut buf = vec![0u8; 4096];
        let addr = buf.as_ptr() as u64;
        let pi = io_uring_attr_pi { flags: 1, app_tag: 2, len: 8, addr: 0x1000, seed: 3, rsvd: 0 };
        let pi_addr = &pi as *const io_uring_attr_pi as u64;
        let (mut a, mut b) = ([0u8; 4], [0u8; 8]);
        let mut iov = [IoSliceMut::new(&mut a), IoSliceMut::new(&mut b)];
        let iov_addr = iov.as_ptr() as u64;
        let (c, d, e) = ([1u8; 2], [2u8; 3], [3u8; 4]);
        let wiov = [IoSlice::new(&c), IoSlice::new(&d), IoSlice::new(&e)];
        let wiov_addr = wiov.as_ptr() as u64;
        let mut one = [0u8; 4];
        let mut iov1 = [IoSliceMut::new(&mut one)];
        let iov1_addr = iov1.as_ptr() as u64;
        check(&[
            (
                "read",
                Read::new(Target::raw(5), &mut buf[..64]).unwrap().offset(4096).build().user_data(9).personality(2),
                Fields {
                    opcode: IORING_OP_READ,
                    fd: 5,
                    addr,
                    len: 64,
                    off: 4096,
                    user_data: 9,
                    personality: 2,
                    ..Default::default()
                },
            ),
            (
                "read at the file position, with flags and priority, fixed file",
                Read::new(Fixed(3), &mut buf[..16])
                    .unwrap()
                    .current_position()
                    .rw_flags(RwFlags::NOWAIT | RwFlags::HIPRI)
                    .ioprio((2 << 13) | 4)
                    .build(),
                Fields {
                    opcode: IORING_OP_READ,
                    flags: FIXED,
                    ioprio: (2 << 13) | 4,
                    fd: 3,
                    addr,
                    len: 16,
                    off: u64::MAX,
                    op_flags: 0x09,
                    ..Default::default()
                },
            ),
            (
                "read with protection information",
                Read::new(Target::raw(4), &mut buf[..512]).unwrap().attr_pi(&pi).build(),
                Fields {
                    opcode: IORING_OP_READ,
                    fd: 4,
                    addr,
                    len: 512,
                    addr3: pi_addr,
                    pad2: IORING_RW_ATTR_FLAG_PI,
                    ..Default::default()
                },
            ),
            (
                "read, selected buffer",
                Read::selected(Target::raw(6), 0, &BufGroupId(12)).unwrap().offset(8).build(),
                Fields { opcode: IORING_OP_READ, flags: SELECT, fd: 6, off: 8, buf: 12, ..Default::default() },
            ),
            (
                "read, buffer swapped for a group",
                Read::new(Target::raw(6), &mut buf[..100]).unwrap().buf_group(&BufGroupId(1)).unwrap().build(),
                Fields { opcode: IORING_OP_READ, flags: SELECT, fd: 6, len: 100, buf: 1, ..Default::default() },
            ),
            (
                "write with flags and a write stream",
                Write::new(Target::raw(7), &buf[..32])
                    .unwrap()
                    .offset(12)
                    .rw_flags(RwFlags::DSYNC | RwFlags::DONTCACHE)
                    .write_stream(3)
                    .build(),
                Fields {
                    opcode: IORING_OP_WRITE,
                    fd: 7,
                    addr,
                    len: 32,
                    off: 12,
                    op_flags: 0x82,
                    file: 3,
                    ..Default::default()
                },
            ),
            (
                "write with protection information, fixed file",
                Write::new(Fixed(0), &buf[..8]).unwrap().current_position().attr_pi(&pi).build(),
                Fields {
                    opcode: IORING_OP_WRITE,
                    flags: FIXED,
                    fd: 0,
                    addr,
                    len: 8,
                    off: u64::MAX,
                    addr3: pi_addr,
                    pad2: IORING_RW_ATTR_FLAG_PI,
                    ..Default::default()
                },
            ),
            (
                "readv",
                Readv::new(Target::raw(3), &mut iov).unwrap().offset(100).build(),
                Fields { opcode: IORING_OP_READV, fd: 3, addr: iov_addr, len: 2, off: 100, ..Default::default() },
            ),
            (
                "readv2",
                Readv::new(Target::raw(3), &mut iov1).unwrap().rw_flags(RwFlags::NOWAIT).build(),
                Fields {
                    opcode: IORING_OP_READV,
                    fd: 3,
                    addr: iov1_addr,
                    len: 1,
                    op_flags: libc::RWF_NOWAIT as u32,
                    ..Default::default()
                },
            ),
            (
                "readv, selected buffer",
                Readv::new(Target::raw(3), &mut iov1).unwrap().buf_group(&BufGroupId(5)).unwrap().build(),
                Fields {
                    opcode: IORING_OP_READV,
                    flags: SELECT,
                    fd: 3,
                    addr: iov1_addr,
                    len: 1,
                    buf: 5,
                    ..Default::default()
                },
            ),
            (
                "writev",
                Writev::new(Target::raw(8), &wiov).unwrap().offset(1).build(),
                Fields { opcode: IORING_OP_WRITEV, fd: 8, addr: wiov_addr, len: 3, off: 1, ..Default::default() },
            ),
            (
                "writev2 with a write stream",
                Writev::new(Target::raw(8), &wiov).unwrap().rw_flags(RwFlags::APPEND).write_stream(1).build(),
                Fields {
                    opcode: IORING_OP_WRITEV,
                    fd: 8,
                    addr: wiov_addr,
                    len: 3,
                    op_flags: 0x10,
                    file: 1,
                    ..Default::default()
                },
            ),
            (
                "read_fixed",
                ReadFixed::new(Target::raw(4), &mut buf[128..256], 7).unwrap().offset(64).build(),
                Fields {
                    opcode: IORING_OP_READ_FIXED,
                    fd: 4,
                    addr: addr + 128,
                    len: 128,
                    off: 64,
                    buf: 7,
                    ..Default::default()
                },
            ),
            (
                "write_fixed",
                WriteFixed::new(Fixed(2), &buf, 1).unwrap().rw_flags(RwFlags::SYNC).write_stream(9).build(),
                Fields {
                    opcode: IORING_OP_WRITE_FIXED,
                    flags: FIXED,
                    fd: 2,
                    addr,
                    len: 4096,
                    op_flags: 0x04,
                    buf: 1,
                    file: 9,
                    ..Default::default()
                },
            ),
            (
                "readv_fixed",
                ReadvFixed::new(Target::raw(3), &mut iov, 4).unwrap().offset(10).rw_flags(RwFlags::HIPRI).build(),
                Fields {
                    opcode: IORING_OP_READV_FIXED,
                    fd: 3,
                    addr: iov_addr,
                    len: 2,
                    off: 10,
                    op_flags: 1,
                    buf: 4,
                    ..Default::default()
                },
            ),
            (
                "writev_fixed",
                WritevFixed::new(Target::raw(3), &wiov, 65535).unwrap().current_position().build(),
                Fields {
                    opcode: IORING_OP_WRITEV_FIXED,
                    fd: 3,
                    addr: wiov_addr,
                    len: 3,
                    off: u64::MAX,
                    buf: 65535,
                    ..Default::default()
                },
            ),
            (
                "read_multishot",
                ReadMultishot::new(Target::raw(9), &BufGroupId(3)).unwrap().build().into(),
                Fields { opcode: IORING_OP_READ_MULTISHOT, flags: SELECT, fd: 9, buf: 3, ..Default::default() },
            ),
            (
                "read_multishot, capped, at the file position, fixed file",
                ReadMultishot::new(Fixed(1), &BufGroupId(4))
                    .unwrap()
                    .len(100)
                    .current_position()
                    .build()
                    .user_data(5)
                    .into(),
                Fields {
                    opcode: IORING_OP_READ_MULTISHOT,
                    flags: SELECT | FIXED,
                    fd: 1,
                    len: 100,
                    off: u64::MAX,
                    user_data: 5,
                    buf: 4,
                    ..Default::default()
                },
            ),
        ]);
        // The attribute is the (pointer, mask) pair of `addr3`.
        let sqe = Read::new(Target::raw(4), &mut buf[..512]).unwrap().attr_pi(&pi).build();
        // SAFETY: `attr` is a plain-integer member of the union.
        let attr = unsafe { sqe.as_raw().addr3.attr };
        assert_eq!(attr, io_uring_sqe_attr { attr_ptr: pi_addr, attr_type_mask: IORING_RW_ATTR_FLAG_PI });
        // The write stream is byte 0 of its union.
        let sqe = Write::new(Target::raw(7), &buf[..32]).unwrap().write_stream(3).build();
        // SAFETY: `write_stream` is a plain-integer member of the union.
        assert_eq!(unsafe { sqe.as_raw().file.write_stream.write_stream }, 3);
    }

    #[test]
    fn refused_groups() {
        let mut buf = [0u8; 4];
        assert!(matches!(
            Read::new(Target::raw(1), &mut buf).unwrap().buf_group(&KernelGroup),
            Err(crate::Error::InvalidArgument { .. })
        ));
        assert!(Read::selected(Target::raw(1), 0, &KernelGroup).is_err());
        assert!(ReadMultishot::new(Target::raw(1), &KernelGroup).is_err());
        let mut b = [0u8; 4];
        let mut iov = [IoSliceMut::new(&mut b)];
        assert!(Readv::new(Target::raw(1), &mut iov).unwrap().buf_group(&KernelGroup).is_err());
        // Buffer selection in a vectored read takes exactly one iovec.
        let (mut a, mut b) = ([0u8; 4], [0u8; 4]);
        let mut two = [IoSliceMut::new(&mut a), IoSliceMut::new(&mut b)];
        assert!(matches!(
            Readv::new(Target::raw(3), &mut two).unwrap().buf_group(&BufGroupId(5)),
            Err(crate::Error::InvalidArgument { what: "iovecs", .. })
        ));
    }

    /// Buffers past `u32::MAX` bytes are refused, never cut to fit (the op module's rule).
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn oversized_buffers_refused() {
        let mut huge = crate::op::test_util::TooLong::new();
        let refused = |r: crate::Result<()>| matches!(r, Err(crate::Error::InvalidArgument { .. }));
        assert!(refused(Read::new(Target::raw(0), huge.bytes()).map(drop)));
        assert!(refused(Write::new(Target::raw(0), huge.bytes()).map(drop)));
        assert!(refused(ReadFixed::new(Target::raw(0), huge.bytes(), 0).map(drop)));
        assert!(refused(WriteFixed::new(Target::raw(0), huge.bytes(), 0).map(drop)));
        let full = &mut huge.bytes()[..u32::MAX as usize];
        assert_eq!(Read::new(Target::raw(0), full).unwrap().rw.len, u32::MAX, "u32::MAX itself fits");
        assert!(len32(u32::MAX as usize + 1, "iovecs").is_err(), "iovec counts follow the same rule");
    }
}
