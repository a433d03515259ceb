//! Encoders of the file-system family: syncing, space and cache management, opening and
//! closing, `statx`, the path operations (rename, unlink, mkdir, symlink, link), extended
//! attributes and truncation.
//!
//! Flags use the typed `rustix` flag sets, whose values are the kernel's: [`OFlags`],
//! [`Mode`], [`ResolveFlags`], [`AtFlags`], [`StatxFlags`], [`RenameFlags`],
//! [`XattrFlags`], [`FallocateFlags`], and the advice enums [`rustix::fs::Advice`] and
//! [`rustix::mm::Advice`].
//!
//! Directories: path operations resolve relative paths against the current directory unless a
//! directory is given (`.dir(..)`, `.old_dir(..)`, `.new_dir(..)`). The kernel refuses
//! registered (fixed) files as directories, so these take ordinary descriptors ([`AsFd`]). The
//! kernel looks the descriptor up when the operation runs, so keep it open until then.
//!
//! Paths, names and `open_how` structs are read by the kernel while the entry is submitted (with
//! `IORING_SETUP_SQPOLL`, whenever the SQ thread gets to it), so builders that take them return
//! an [`Sqe`], and the memory must stay alive until the operation completes (which is always
//! late enough).

use core::ffi::{c_void, CStr};
use core::marker::PhantomData;
use std::os::fd::{AsFd, AsRawFd, RawFd};

use bitflags::bitflags;
use rustix::fs::{AtFlags, FallocateFlags, Mode, OFlags, RenameFlags, ResolveFlags, StatxFlags, XattrFlags};
use uring_uapi::*;

use crate::op::{prep_rw, set_target, DestSlot, Fixed, Target};
use crate::sqe::{FdSqe, SafeSqe, Sqe};

/// `AT_FDCWD`: resolve relative paths against the current directory.
const AT_FDCWD: RawFd = libc::AT_FDCWD;

/// The raw descriptor of a directory argument.
#[inline]
fn dir_fd(dir: impl AsFd) -> RawFd {
    dir.as_fd().as_raw_fd()
}

/// A `CStr`'s address, for an SQE address field.
#[inline]
fn cstr_addr(s: &CStr) -> u64 {
    s.as_ptr() as u64
}

/// A length for `sqe.len` of a buffer the kernel writes a result into: lengths past `u32::MAX`
/// are encoded as `u32::MAX` (the kernel then simply has less room than the buffer offers).
#[inline]
const fn clamp_len(len: usize) -> u32 {
    if len > u32::MAX as usize {
        u32::MAX
    } else {
        len as u32
    }
}

bitflags! {
    /// The `SYNC_FILE_RANGE_*` flags of `sync_file_range(2)` (`sqe.sync_range_flags`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct SyncFileRangeFlags: u32 {
        /// `SYNC_FILE_RANGE_WAIT_BEFORE`: wait for write-out already under way.
        const WAIT_BEFORE = libc::SYNC_FILE_RANGE_WAIT_BEFORE;
        /// `SYNC_FILE_RANGE_WRITE`: start write-out of dirty pages.
        const WRITE = libc::SYNC_FILE_RANGE_WRITE;
        /// `SYNC_FILE_RANGE_WAIT_AFTER`: wait for the write-out to finish.
        const WAIT_AFTER = libc::SYNC_FILE_RANGE_WAIT_AFTER;
        // Newer flags pass through unchanged.
        const _ = !0;
    }
}

/// `IORING_OP_FSYNC`: flushes a file to storage, like `fsync(2)` or, with
/// [`Fsync::datasync`], `fdatasync(2)` (`io_uring_prep_fsync(3)`, Linux 5.1). With
/// [`Fsync::range`] only part of the file is synced (`vfs_fsync_range`; no liburing helper
/// sets the range). The result is 0.
///
/// Points at no memory, but names a file: an [`FdSqe`](crate::FdSqe), pushed with `unsafe`
/// [`push_fd`](crate::SubmissionQueue::push_fd) (the file stays open until the completion), or
/// safely once every file is a registered slot ([`FdSqe::into_safe`](crate::FdSqe::into_safe)).
#[derive(Debug, Clone, Copy)]
pub struct Fsync {
    pub(crate) target: Target,
    flags: u32,
    off: u64,
    len: u32,
}

impl Fsync {
    /// The operation code.
    pub const CODE: u8 = IORING_OP_FSYNC;

    /// Syncs all of `fd`, data and metadata.
    #[inline]
    pub fn new(fd: impl Into<Target>) -> Self {
        Fsync { target: fd.into(), flags: 0, off: 0, len: 0 }
    }

    /// `IORING_FSYNC_DATASYNC`: `fdatasync(2)` semantics, skipping metadata not needed to read
    /// the data back.
    #[inline]
    #[must_use]
    pub const fn datasync(mut self) -> Self {
        self.flags |= IORING_FSYNC_DATASYNC;
        self
    }

    /// Syncs only `len` bytes from `offset` (`sqe.off`, `sqe.len`); `len` 0 means to the end of
    /// the file.
    #[inline]
    #[must_use]
    pub const fn range(mut self, offset: u64, len: u32) -> Self {
        self.off = offset;
        self.len = len;
        self
    }

    /// The entry.
    #[inline]
    pub fn build(self) -> FdSqe {
        let mut sqe = prep_rw(Self::CODE, 0, 0, self.len, self.off);
        set_target(&mut sqe, self.target);
        sqe.0.op_flags.fsync_flags = self.flags;
        FdSqe::new(sqe)
    }
}

/// `IORING_OP_SYNC_FILE_RANGE`: `sync_file_range(2)` on part of a file
/// (`io_uring_prep_sync_file_range(3)`, Linux 5.2). The result is 0.
///
/// Points at no memory, but names a file: an [`FdSqe`](crate::FdSqe), pushed with `unsafe`
/// [`push_fd`](crate::SubmissionQueue::push_fd) (the file stays open until the completion), or
/// safely once every file is a registered slot ([`FdSqe::into_safe`](crate::FdSqe::into_safe)).
#[derive(Debug, Clone, Copy)]
pub struct SyncFileRange {
    pub(crate) target: Target,
    off: u64,
    len: u32,
    flags: SyncFileRangeFlags,
}

impl SyncFileRange {
    /// The operation code.
    pub const CODE: u8 = IORING_OP_SYNC_FILE_RANGE;

    /// Syncs `len` bytes of `fd` from `offset` (`len` 0: to the end of the file), with no
    /// flags (which does nothing until flags are set, as in `sync_file_range(2)`).
    #[inline]
    pub fn new(fd: impl Into<Target>, offset: u64, len: u32) -> Self {
        SyncFileRange { target: fd.into(), off: offset, len, flags: SyncFileRangeFlags::empty() }
    }

    /// The `SYNC_FILE_RANGE_*` flags.
    #[inline]
    #[must_use]
    pub const fn flags(mut self, flags: SyncFileRangeFlags) -> Self {
        self.flags = flags;
        self
    }

    /// The entry.
    #[inline]
    pub fn build(self) -> FdSqe {
        let mut sqe = prep_rw(Self::CODE, 0, 0, self.len, self.off);
        set_target(&mut sqe, self.target);
        sqe.0.op_flags.sync_range_flags = self.flags.bits();
        FdSqe::new(sqe)
    }
}

/// `IORING_OP_FALLOCATE`: allocates (or, by mode, punches, zeroes, collapses...) file space,
/// like `fallocate(2)` (`io_uring_prep_fallocate(3)`, Linux 5.6). The result is 0.
///
/// Points at no memory, but names a file: an [`FdSqe`](crate::FdSqe), pushed with `unsafe`
/// [`push_fd`](crate::SubmissionQueue::push_fd) (the file stays open until the completion), or
/// safely once every file is a registered slot ([`FdSqe::into_safe`](crate::FdSqe::into_safe)).
#[derive(Debug, Clone, Copy)]
pub struct Fallocate {
    pub(crate) target: Target,
    off: u64,
    len: u64,
    mode: FallocateFlags,
}

impl Fallocate {
    /// The operation code.
    pub const CODE: u8 = IORING_OP_FALLOCATE;

    /// Allocates `len` bytes of `fd` from `offset` (mode 0: the file grows if the range ends
    /// past its size).
    #[inline]
    pub fn new(fd: impl Into<Target>, offset: u64, len: u64) -> Self {
        Fallocate { target: fd.into(), off: offset, len, mode: FallocateFlags::empty() }
    }

    /// The `FALLOC_FL_*` mode.
    #[inline]
    #[must_use]
    pub const fn mode(mut self, mode: FallocateFlags) -> Self {
        self.mode = mode;
        self
    }

    /// The entry (`sqe.len` = mode, `sqe.off` = offset, `sqe.addr` = length).
    #[inline]
    pub fn build(self) -> FdSqe {
        let mut sqe = prep_rw(Self::CODE, 0, self.len, self.mode.bits(), self.off);
        set_target(&mut sqe, self.target);
        FdSqe::new(sqe)
    }
}

/// `IORING_OP_FADVISE`: `posix_fadvise(2)` on part of a file (`io_uring_prep_fadvise(3)`,
/// Linux 5.6; with a 64-bit length, `io_uring_prep_fadvise64(3)`, Linux 6.12). The result is 0.
///
/// Points at no memory, but names a file: an [`FdSqe`](crate::FdSqe), pushed with `unsafe`
/// [`push_fd`](crate::SubmissionQueue::push_fd) (the file stays open until the completion), or
/// safely once every file is a registered slot ([`FdSqe::into_safe`](crate::FdSqe::into_safe)).
#[derive(Debug, Clone, Copy)]
pub struct Fadvise {
    pub(crate) target: Target,
    off: u64,
    /// `sqe.len` (32-bit form) or 0.
    len32: u32,
    /// `sqe.addr` (64-bit form) or 0.
    len64: u64,
    advice: rustix::fs::Advice,
}

impl Fadvise {
    /// The operation code.
    pub const CODE: u8 = IORING_OP_FADVISE;

    /// Advises on `len` bytes of `fd` from `offset` (`len` 0: to the end of the file), with the
    /// 32-bit length in `sqe.len` that every kernel since 5.6 reads.
    #[inline]
    pub fn new(fd: impl Into<Target>, offset: u64, len: u32, advice: rustix::fs::Advice) -> Self {
        Fadvise { target: fd.into(), off: offset, len32: len, len64: 0, advice }
    }

    /// Advises on `len` bytes of `fd` from `offset`, with the 64-bit length in `sqe.addr`
    /// (Linux 6.12; older kernels refuse a non-zero `sqe.addr` with `EINVAL`).
    #[inline]
    pub fn new64(fd: impl Into<Target>, offset: u64, len: u64, advice: rustix::fs::Advice) -> Self {
        Fadvise { target: fd.into(), off: offset, len32: 0, len64: len, advice }
    }

    /// The entry.
    #[inline]
    pub fn build(self) -> FdSqe {
        let mut sqe = prep_rw(Self::CODE, 0, self.len64, self.len32, self.off);
        set_target(&mut sqe, self.target);
        sqe.0.op_flags.fadvise_advice = self.advice as u32;
        FdSqe::new(sqe)
    }
}

/// `IORING_OP_MADVISE`: `madvise(2)` on a range of the process's memory
/// (`io_uring_prep_madvise(3)`, Linux 5.6; with a 64-bit length, `io_uring_prep_madvise64(3)`,
/// Linux 6.12). The result is 0.
///
/// Memory: the advice acts on the mapping at `addr` when the operation runs. Some advice
/// changes memory contents (`MADV_DONTNEED` and `MADV_FREE` discard them, `MADV_REMOVE` frees
/// the backing store): the caller must own the range for such advice and must not rely on its
/// contents afterwards. Pushing is `unsafe` for that reason.
#[derive(Debug, Clone, Copy)]
pub struct Madvise {
    addr: u64,
    /// `sqe.len` (32-bit form) or 0.
    len32: u32,
    /// `sqe.off` (64-bit form) or 0.
    len64: u64,
    advice: rustix::mm::Advice,
}

impl Madvise {
    /// The operation code.
    pub const CODE: u8 = IORING_OP_MADVISE;

    /// Advises on `len` bytes at `addr` (page-aligned), with the 32-bit length in `sqe.len`.
    #[inline]
    pub fn new(addr: *mut c_void, len: u32, advice: rustix::mm::Advice) -> Self {
        Madvise { addr: addr as u64, len32: len, len64: 0, advice }
    }

    /// Advises on `len` bytes at `addr` (page-aligned), with the 64-bit length in `sqe.off`
    /// (Linux 6.12; older kernels refuse a non-zero `sqe.off` with `EINVAL`).
    #[inline]
    pub fn new64(addr: *mut c_void, len: u64, advice: rustix::mm::Advice) -> Self {
        Madvise { addr: addr as u64, len32: 0, len64: len, advice }
    }

    /// The entry.
    #[inline]
    pub fn build(self) -> Sqe {
        let mut sqe = prep_rw(Self::CODE, -1, self.addr, self.len32, self.len64);
        sqe.0.op_flags.fadvise_advice = self.advice as u32;
        sqe
    }
}

/// The `open_how` argument of `openat2(2)`: flags, mode and path-resolution restrictions
/// (`struct open_how`, 24 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(C)]
pub struct OpenHow {
    flags: u64,
    mode: u64,
    resolve: u64,
}

impl OpenHow {
    /// Open read-only, no mode, no resolution restrictions.
    #[inline]
    pub const fn new() -> Self {
        OpenHow { flags: 0, mode: 0, resolve: 0 }
    }

    /// The `O_*` flags.
    #[inline]
    #[must_use]
    pub const fn flags(mut self, flags: OFlags) -> Self {
        self.flags = flags.bits() as u64;
        self
    }

    /// The mode of a created file (with `O_CREAT` or `O_TMPFILE`; the kernel refuses a mode
    /// without them).
    #[inline]
    #[must_use]
    pub const fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode.bits() as u64;
        self
    }

    /// The `RESOLVE_*` restrictions.
    #[inline]
    #[must_use]
    pub const fn resolve(mut self, resolve: ResolveFlags) -> Self {
        self.resolve = resolve.bits();
        self
    }
}

/// The setters of the path and extended-attribute builders: one per entry listed, each with the
/// doc comment written before it (the builders word them for their own arguments).
/// - `dir;`, `old_dir;`, `new_dir;`: resolve a relative path against a directory (the fields
///   `dfd`, `old_dfd`, `new_dfd`);
/// - `name: Type;`: set field `name` as given (`flags`, `mode`, `mask`, `dest`).
macro_rules! fs_setters {
    () => {};
    ($(#[$doc:meta])* dir; $($rest:tt)*) => { fs_setters!(@dir $(#[$doc])* dir dfd; $($rest)*); };
    ($(#[$doc:meta])* old_dir; $($rest:tt)*) => { fs_setters!(@dir $(#[$doc])* old_dir old_dfd; $($rest)*); };
    ($(#[$doc:meta])* new_dir; $($rest:tt)*) => { fs_setters!(@dir $(#[$doc])* new_dir new_dfd; $($rest)*); };
    (@dir $(#[$doc:meta])* $name:ident $field:ident; $($rest:tt)*) => {
        $(#[$doc])*
        #[inline]
        #[must_use]
        pub fn $name(mut self, dir: impl AsFd) -> Self {
            self.$field = dir_fd(dir);
            self
        }
        fs_setters!($($rest)*);
    };
    ($(#[$doc:meta])* $name:ident: $ty:ty; $($rest:tt)*) => {
        $(#[$doc])*
        #[inline]
        #[must_use]
        pub const fn $name(mut self, $name: $ty) -> Self {
            self.$name = $name;
            self
        }
        fs_setters!($($rest)*);
    };
}

/// `IORING_OP_OPENAT`: opens a file, like `openat(2)` (`io_uring_prep_openat(3)`, and
/// `io_uring_prep_open(3)` without a directory; Linux 5.6). The result is the new fd, or with a
/// direct destination ([`OpenAt::dest`]) 0 for a given slot and the chosen slot for
/// [`DestSlot::Alloc`].
///
/// Memory: `path` is read while the entry is submitted; keep it alive until the completion.
#[derive(Debug, Clone, Copy)]
pub struct OpenAt<'a> {
    dfd: RawFd,
    path: u64,
    flags: OFlags,
    mode: Mode,
    dest: DestSlot,
    _path: PhantomData<&'a CStr>,
}

impl<'a> OpenAt<'a> {
    /// The operation code.
    pub const CODE: u8 = IORING_OP_OPENAT;

    /// Opens `path` read-only, relative to the current directory.
    #[inline]
    pub fn new(path: &'a CStr) -> Self {
        OpenAt {
            dfd: AT_FDCWD,
            path: cstr_addr(path),
            flags: OFlags::empty(),
            mode: Mode::empty(),
            dest: DestSlot::Fd,
            _path: PhantomData,
        }
    }

    fs_setters! {
        /// Resolves a relative `path` against directory `dir` instead.
        dir;
        /// The `O_*` flags (default `O_RDONLY`).
        flags: OFlags;
        /// The mode of a created file (with `O_CREAT` or `O_TMPFILE`).
        mode: Mode;
        /// Where the file goes: a normal fd (default), or a direct descriptor in the registered
        /// file table (`io_uring_prep_openat_direct(3)`, Linux 5.15; [`DestSlot::Alloc`], Linux
        /// 5.19). The kernel refuses `O_CLOEXEC` with a direct destination.
        dest: DestSlot;
    }

    /// The entry.
    #[inline]
    pub fn build(self) -> Sqe {
        let mut sqe = prep_rw(Self::CODE, self.dfd, self.path, self.mode.bits(), 0);
        sqe.0.op_flags.open_flags = self.flags.bits();
        sqe.0.file.file_index = self.dest.file_index();
        sqe
    }
}

/// `IORING_OP_OPENAT2`: opens a file with an [`OpenHow`], like `openat2(2)`
/// (`io_uring_prep_openat2(3)`, Linux 5.6). The result is as for [`OpenAt`].
///
/// Memory: `path` and `how` are read while the entry is submitted; keep them alive until the
/// completion.
#[derive(Debug, Clone, Copy)]
pub struct OpenAt2<'a> {
    dfd: RawFd,
    path: u64,
    how: u64,
    dest: DestSlot,
    _refs: PhantomData<(&'a CStr, &'a OpenHow)>,
}

impl<'a> OpenAt2<'a> {
    /// The operation code.
    pub const CODE: u8 = IORING_OP_OPENAT2;

    /// Opens `path` as `how` says, relative to the current directory.
    #[inline]
    pub fn new(path: &'a CStr, how: &'a OpenHow) -> Self {
        OpenAt2 {
            dfd: AT_FDCWD,
            path: cstr_addr(path),
            how: how as *const OpenHow as u64,
            dest: DestSlot::Fd,
            _refs: PhantomData,
        }
    }

    fs_setters! {
        /// Resolves a relative `path` against directory `dir` instead.
        dir;
        /// Where the file goes: a normal fd (default), or a direct descriptor
        /// (`io_uring_prep_openat2_direct(3)`, Linux 5.15; [`DestSlot::Alloc`], Linux 5.19). The
        /// kernel refuses `O_CLOEXEC` with a direct destination.
        dest: DestSlot;
    }

    /// The entry (`sqe.len` = `size_of::<OpenHow>()`, `sqe.off` = its address).
    #[inline]
    pub fn build(self) -> Sqe {
        let mut sqe = prep_rw(Self::CODE, self.dfd, self.path, core::mem::size_of::<OpenHow>() as u32, self.how);
        sqe.0.file.file_index = self.dest.file_index();
        sqe
    }
}

/// `IORING_OP_CLOSE`: closes a file descriptor, like `close(2)`, or removes a direct
/// descriptor from the registered file table (`io_uring_prep_close(3)`,
/// `io_uring_prep_close_direct(3)`; Linux 5.6, direct descriptors 5.15). The result is 0.
///
/// A registered slot ([`Target::fixed`]) is encoded as the kernel wants for closing slots
/// (`sqe.fd` 0 and `sqe.file_index = slot + 1`, without `IOSQE_FIXED_FILE`); [`Close::fixed`]
/// builds that entry as a [`SafeSqe`].
///
/// Points at no memory, but closes an fd: an [`FdSqe`], whose `unsafe` push
/// ([`push_fd`](crate::SubmissionQueue::push_fd)) requires the fd to be the caller's to give
/// up (`close(2)` releases the number even when it fails, so nothing may use or close it
/// afterwards). The owned layer's [`owned::Close`](crate::owned::Close) takes an `OwnedFd`.
#[derive(Debug, Clone, Copy)]
pub struct Close {
    target: Target,
}

impl Close {
    /// The operation code.
    pub const CODE: u8 = IORING_OP_CLOSE;

    /// Closes `fd`, or empties a registered slot.
    #[inline]
    pub fn new(fd: impl Into<Target>) -> Self {
        Close { target: fd.into() }
    }

    /// Empties registered slot `slot` (`io_uring_prep_close_direct(3)`, Linux 5.15).
    #[inline]
    pub const fn fixed(slot: Fixed) -> CloseFixed {
        CloseFixed { slot: slot.0 }
    }

    /// The entry.
    #[inline]
    pub fn build(self) -> FdSqe {
        match self.target.fixed_slot() {
            Some(slot) => FdSqe::from(Close::fixed(Fixed(slot)).build()),
            None => FdSqe::new(prep_rw(Self::CODE, self.target.sqe_fd(), 0, 0, 0)),
        }
    }
}

/// `IORING_OP_CLOSE` of a registered slot (`io_uring_prep_close_direct(3)`, Linux 5.15), from
/// [`Close::fixed`]: names no fd, so it pushes safely. The result is 0, or `-EBADF` for an
/// empty slot.
#[derive(Debug, Clone, Copy)]
pub struct CloseFixed {
    slot: u32,
}

impl CloseFixed {
    /// The entry (`sqe.fd` 0, `sqe.file_index = slot + 1`).
    #[inline]
    pub const fn build(self) -> SafeSqe {
        let mut sqe = prep_rw(Close::CODE, 0, 0, 0, 0);
        sqe.0.file.file_index = DestSlot::Fixed(self.slot).file_index();
        SafeSqe::new(sqe)
    }
}

/// `IORING_OP_STATX`: `statx(2)` (`io_uring_prep_statx(3)`, Linux 5.6). The result is 0, with
/// `buf` filled.
///
/// Memory: `path` is read while the entry is submitted, and the kernel writes `buf` when the
/// operation completes: keep both alive and unmoved, and `buf` otherwise unused, until then.
#[derive(Debug)]
pub struct Statx<'a> {
    dfd: RawFd,
    path: u64,
    flags: AtFlags,
    mask: StatxFlags,
    buf: u64,
    _refs: PhantomData<(&'a CStr, &'a mut libc::statx)>,
}

impl<'a> Statx<'a> {
    /// The operation code.
    pub const CODE: u8 = IORING_OP_STATX;

    /// Queries `path` (relative to the current directory) into `buf`, asking for
    /// `STATX_BASIC_STATS` with no `AT_*` flags.
    #[inline]
    pub fn new(path: &'a CStr, buf: &'a mut libc::statx) -> Self {
        Statx {
            dfd: AT_FDCWD,
            path: cstr_addr(path),
            flags: AtFlags::empty(),
            mask: StatxFlags::BASIC_STATS,
            buf: buf as *mut libc::statx as u64,
            _refs: PhantomData,
        }
    }

    fs_setters! {
        /// Resolves a relative `path` against directory `dir` instead (with an empty path and
        /// `AT_EMPTY_PATH`, queries `dir` itself).
        dir;
        /// The `AT_*` flags (`AT_SYMLINK_NOFOLLOW`, `AT_EMPTY_PATH`, `AT_STATX_*` sync modes...).
        flags: AtFlags;
        /// The `STATX_*` fields wanted (replacing the default `STATX_BASIC_STATS`).
        mask: StatxFlags;
    }

    /// The entry (`sqe.len` = mask, `sqe.off` = the `statx` buffer).
    #[inline]
    pub fn build(self) -> Sqe {
        let mut sqe = prep_rw(Self::CODE, self.dfd, self.path, self.mask.bits(), self.buf);
        sqe.0.op_flags.statx_flags = self.flags.bits();
        sqe
    }
}

/// `IORING_OP_RENAMEAT`: `renameat2(2)` (`io_uring_prep_renameat(3)`, and
/// `io_uring_prep_rename(3)` without directories; Linux 5.11). The result is 0.
///
/// Memory: both paths are read while the entry is submitted; keep them alive until the
/// completion.
#[derive(Debug, Clone, Copy)]
pub struct RenameAt<'a> {
    old_dfd: RawFd,
    old: u64,
    new_dfd: RawFd,
    new: u64,
    flags: RenameFlags,
    _paths: PhantomData<&'a CStr>,
}

impl<'a> RenameAt<'a> {
    /// The operation code.
    pub const CODE: u8 = IORING_OP_RENAMEAT;

    /// Renames `old` to `new`, both relative to the current directory.
    #[inline]
    pub fn new(old: &'a CStr, new: &'a CStr) -> Self {
        RenameAt {
            old_dfd: AT_FDCWD,
            old: cstr_addr(old),
            new_dfd: AT_FDCWD,
            new: cstr_addr(new),
            flags: RenameFlags::empty(),
            _paths: PhantomData,
        }
    }

    fs_setters! {
        /// Resolves a relative `old` against directory `dir`.
        old_dir;
        /// Resolves a relative `new` against directory `dir`.
        new_dir;
        /// The `RENAME_*` flags (`NOREPLACE`, `EXCHANGE`, `WHITEOUT`).
        flags: RenameFlags;
    }

    /// The entry (`sqe.fd`/`sqe.addr`: old dir and path, `sqe.len`/`sqe.off`: new ones).
    #[inline]
    pub fn build(self) -> Sqe {
        let mut sqe = prep_rw(Self::CODE, self.old_dfd, self.old, self.new_dfd as u32, self.new);
        sqe.0.op_flags.rename_flags = self.flags.bits();
        sqe
    }
}

/// `IORING_OP_UNLINKAT`: `unlinkat(2)`, removing a file or (with `AT_REMOVEDIR`) an empty
/// directory (`io_uring_prep_unlinkat(3)`, and `io_uring_prep_unlink(3)` without a directory;
/// Linux 5.11). The result is 0.
///
/// Memory: `path` is read while the entry is submitted; keep it alive until the completion.
#[derive(Debug, Clone, Copy)]
pub struct UnlinkAt<'a> {
    dfd: RawFd,
    path: u64,
    flags: AtFlags,
    _path: PhantomData<&'a CStr>,
}

impl<'a> UnlinkAt<'a> {
    /// The operation code.
    pub const CODE: u8 = IORING_OP_UNLINKAT;

    /// Removes the file `path`, relative to the current directory.
    #[inline]
    pub fn new(path: &'a CStr) -> Self {
        UnlinkAt { dfd: AT_FDCWD, path: cstr_addr(path), flags: AtFlags::empty(), _path: PhantomData }
    }

    fs_setters! {
        /// Resolves a relative `path` against directory `dir` instead.
        dir;
        /// The `AT_*` flags: `AT_REMOVEDIR` removes a directory.
        flags: AtFlags;
    }

    /// The entry.
    #[inline]
    pub fn build(self) -> Sqe {
        let mut sqe = prep_rw(Self::CODE, self.dfd, self.path, 0, 0);
        sqe.0.op_flags.unlink_flags = self.flags.bits();
        sqe
    }
}

/// `IORING_OP_MKDIRAT`: `mkdirat(2)` (`io_uring_prep_mkdirat(3)`, and `io_uring_prep_mkdir(3)`
/// without a directory; Linux 5.15). The result is 0.
///
/// Memory: `path` is read while the entry is submitted; keep it alive until the completion.
#[derive(Debug, Clone, Copy)]
pub struct MkdirAt<'a> {
    dfd: RawFd,
    path: u64,
    mode: Mode,
    _path: PhantomData<&'a CStr>,
}

impl<'a> MkdirAt<'a> {
    /// The operation code.
    pub const CODE: u8 = IORING_OP_MKDIRAT;

    /// Creates directory `path` (relative to the current directory) with `mode` (less the
    /// umask).
    #[inline]
    pub fn new(path: &'a CStr, mode: Mode) -> Self {
        MkdirAt { dfd: AT_FDCWD, path: cstr_addr(path), mode, _path: PhantomData }
    }

    fs_setters! {
        /// Resolves a relative `path` against directory `dir` instead.
        dir;
    }

    /// The entry.
    #[inline]
    pub fn build(self) -> Sqe {
        prep_rw(Self::CODE, self.dfd, self.path, self.mode.bits(), 0)
    }
}

/// `IORING_OP_SYMLINKAT`: `symlinkat(2)` (`io_uring_prep_symlinkat(3)`, and
/// `io_uring_prep_symlink(3)` without a directory; Linux 5.15). The result is 0.
///
/// Memory: both strings are read while the entry is submitted; keep them alive until the
/// completion.
#[derive(Debug, Clone, Copy)]
pub struct SymlinkAt<'a> {
    target: u64,
    dfd: RawFd,
    link: u64,
    _paths: PhantomData<&'a CStr>,
}

impl<'a> SymlinkAt<'a> {
    /// The operation code.
    pub const CODE: u8 = IORING_OP_SYMLINKAT;

    /// Creates the symbolic link `link` (relative to the current directory) pointing to
    /// `target` (stored as given, not resolved).
    #[inline]
    pub fn new(target: &'a CStr, link: &'a CStr) -> Self {
        SymlinkAt { target: cstr_addr(target), dfd: AT_FDCWD, link: cstr_addr(link), _paths: PhantomData }
    }

    fs_setters! {
        /// Resolves a relative `link` against directory `dir` instead.
        dir;
    }

    /// The entry (`sqe.addr` = target, `sqe.fd`/`sqe.off` = the link's directory and path).
    #[inline]
    pub fn build(self) -> Sqe {
        prep_rw(Self::CODE, self.dfd, self.target, 0, self.link)
    }
}

/// `IORING_OP_LINKAT`: `linkat(2)`, a new hard link (`io_uring_prep_linkat(3)`, and
/// `io_uring_prep_link(3)` without directories; Linux 5.15). The result is 0.
///
/// Memory: both paths are read while the entry is submitted; keep them alive until the
/// completion.
#[derive(Debug, Clone, Copy)]
pub struct LinkAt<'a> {
    old_dfd: RawFd,
    old: u64,
    new_dfd: RawFd,
    new: u64,
    flags: AtFlags,
    _paths: PhantomData<&'a CStr>,
}

impl<'a> LinkAt<'a> {
    /// The operation code.
    pub const CODE: u8 = IORING_OP_LINKAT;

    /// Links `new` to the file `old`, both relative to the current directory.
    #[inline]
    pub fn new(old: &'a CStr, new: &'a CStr) -> Self {
        LinkAt {
            old_dfd: AT_FDCWD,
            old: cstr_addr(old),
            new_dfd: AT_FDCWD,
            new: cstr_addr(new),
            flags: AtFlags::empty(),
            _paths: PhantomData,
        }
    }

    fs_setters! {
        /// Resolves a relative `old` against directory `dir`.
        old_dir;
        /// Resolves a relative `new` against directory `dir`.
        new_dir;
        /// The `AT_*` flags (`AT_SYMLINK_FOLLOW`, `AT_EMPTY_PATH`).
        flags: AtFlags;
    }

    /// The entry (`sqe.fd`/`sqe.addr`: old dir and path, `sqe.len`/`sqe.off`: new ones).
    #[inline]
    pub fn build(self) -> Sqe {
        let mut sqe = prep_rw(Self::CODE, self.old_dfd, self.old, self.new_dfd as u32, self.new);
        sqe.0.op_flags.hardlink_flags = self.flags.bits();
        sqe
    }
}

/// The length of an xattr value to set: it must fit `sqe.len`, or the value would be cut.
#[inline]
fn value_len(value: &[u8]) -> crate::Result<u32> {
    u32::try_from(value.len()).map_err(|_| crate::Error::InvalidArgument {
        what: "xattr value",
        reason: "longer than u32::MAX bytes (the kernel allows at most 64 KiB)",
    })
}

/// `IORING_OP_FSETXATTR`: sets an extended attribute of an open file, like `fsetxattr(2)`
/// (`io_uring_prep_fsetxattr(3)`, Linux 5.19). The result is 0.
///
/// Memory: `name` and `value` are read while the entry is submitted; keep them alive until the
/// completion.
#[derive(Debug, Clone, Copy)]
pub struct FsetXattr<'a> {
    target: Target,
    name: u64,
    value: u64,
    len: u32,
    flags: XattrFlags,
    _refs: PhantomData<(&'a CStr, &'a [u8])>,
}

impl<'a> FsetXattr<'a> {
    /// The operation code.
    pub const CODE: u8 = IORING_OP_FSETXATTR;

    /// Sets attribute `name` (with its namespace, e.g. `user.x`) of `fd` to `value`.
    ///
    /// Refuses a value longer than `u32::MAX` bytes with
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument).
    #[inline]
    pub fn new(fd: impl Into<Target>, name: &'a CStr, value: &'a [u8]) -> crate::Result<Self> {
        Ok(FsetXattr {
            target: fd.into(),
            name: cstr_addr(name),
            value: value.as_ptr() as u64,
            len: value_len(value)?,
            flags: XattrFlags::empty(),
            _refs: PhantomData,
        })
    }

    fs_setters! {
        /// `XATTR_CREATE` (fail if it exists) or `XATTR_REPLACE` (fail unless it exists).
        flags: XattrFlags;
    }

    /// The entry (`sqe.addr` = name, `sqe.off` = value, `sqe.len` = its length).
    #[inline]
    pub fn build(self) -> Sqe {
        let mut sqe = prep_rw(Self::CODE, 0, self.name, self.len, self.value);
        set_target(&mut sqe, self.target);
        sqe.0.op_flags.xattr_flags = self.flags.bits();
        sqe
    }
}

/// `IORING_OP_SETXATTR`: sets an extended attribute of a path, like `setxattr(2)`
/// (`io_uring_prep_setxattr(3)`, Linux 5.19). The result is 0.
///
/// Memory: `path`, `name` and `value` are read while the entry is submitted; keep them alive
/// until the completion.
#[derive(Debug, Clone, Copy)]
pub struct SetXattr<'a> {
    path: u64,
    name: u64,
    value: u64,
    len: u32,
    flags: XattrFlags,
    _refs: PhantomData<(&'a CStr, &'a [u8])>,
}

impl<'a> SetXattr<'a> {
    /// The operation code.
    pub const CODE: u8 = IORING_OP_SETXATTR;

    /// Sets attribute `name` of the file at `path` (following symbolic links) to `value`.
    ///
    /// Refuses a value longer than `u32::MAX` bytes with
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument).
    #[inline]
    pub fn new(path: &'a CStr, name: &'a CStr, value: &'a [u8]) -> crate::Result<Self> {
        Ok(SetXattr {
            path: cstr_addr(path),
            name: cstr_addr(name),
            value: value.as_ptr() as u64,
            len: value_len(value)?,
            flags: XattrFlags::empty(),
            _refs: PhantomData,
        })
    }

    fs_setters! {
        /// `XATTR_CREATE` (fail if it exists) or `XATTR_REPLACE` (fail unless it exists).
        flags: XattrFlags;
    }

    /// The entry (`sqe.addr` = name, `sqe.off` = value, `sqe.len` = its length,
    /// `sqe.addr3` = path).
    #[inline]
    pub fn build(self) -> Sqe {
        let mut sqe = prep_rw(Self::CODE, 0, self.name, self.len, self.value);
        sqe.0.addr3.addr3 = io_uring_sqe_addr3_pad { addr3: self.path, __pad2: [0] };
        sqe.0.op_flags.xattr_flags = self.flags.bits();
        sqe
    }
}

/// `IORING_OP_FGETXATTR`: reads an extended attribute of an open file, like `fgetxattr(2)`
/// (`io_uring_prep_fgetxattr(3)`, Linux 5.19). The result is the value's length; with an empty
/// `value` buffer, the length it needs.
///
/// Memory: `name` is read while the entry is submitted, and the kernel writes `value` until the
/// operation completes: keep both alive and unmoved, and `value` otherwise unused, until then.
#[derive(Debug)]
pub struct FgetXattr<'a> {
    target: Target,
    name: u64,
    value: u64,
    len: u32,
    _refs: PhantomData<(&'a CStr, &'a mut [u8])>,
}

impl<'a> FgetXattr<'a> {
    /// The operation code.
    pub const CODE: u8 = IORING_OP_FGETXATTR;

    /// Reads attribute `name` of `fd` into `value`.
    #[inline]
    pub fn new(fd: impl Into<Target>, name: &'a CStr, value: &'a mut [u8]) -> Self {
        FgetXattr {
            target: fd.into(),
            name: cstr_addr(name),
            value: value.as_mut_ptr() as u64,
            len: clamp_len(value.len()),
            _refs: PhantomData,
        }
    }

    /// The entry (`sqe.addr` = name, `sqe.off` = value buffer, `sqe.len` = its size).
    #[inline]
    pub fn build(self) -> Sqe {
        let mut sqe = prep_rw(Self::CODE, 0, self.name, self.len, self.value);
        set_target(&mut sqe, self.target);
        sqe
    }
}

/// `IORING_OP_GETXATTR`: reads an extended attribute of a path, like `getxattr(2)`
/// (`io_uring_prep_getxattr(3)`, Linux 5.19). The result is the value's length; with an empty
/// `value` buffer, the length it needs.
///
/// Memory: `path` and `name` are read while the entry is submitted, and the kernel writes
/// `value` until the operation completes: keep all alive and unmoved, and `value` otherwise
/// unused, until then.
#[derive(Debug)]
pub struct GetXattr<'a> {
    path: u64,
    name: u64,
    value: u64,
    len: u32,
    _refs: PhantomData<(&'a CStr, &'a mut [u8])>,
}

impl<'a> GetXattr<'a> {
    /// The operation code.
    pub const CODE: u8 = IORING_OP_GETXATTR;

    /// Reads attribute `name` of the file at `path` (following symbolic links) into `value`.
    #[inline]
    pub fn new(path: &'a CStr, name: &'a CStr, value: &'a mut [u8]) -> Self {
        GetXattr {
            path: cstr_addr(path),
            name: cstr_addr(name),
            value: value.as_mut_ptr() as u64,
            len: clamp_len(value.len()),
            _refs: PhantomData,
        }
    }

    /// The entry (`sqe.addr` = name, `sqe.off` = value buffer, `sqe.len` = its size,
    /// `sqe.addr3` = path).
    #[inline]
    pub fn build(self) -> Sqe {
        let mut sqe = prep_rw(Self::CODE, 0, self.name, self.len, self.value);
        sqe.0.addr3.addr3 = io_uring_sqe_addr3_pad { addr3: self.path, __pad2: [0] };
        sqe
    }
}

/// `IORING_OP_FTRUNCATE`: sets a file's size, like `ftruncate(2)`
/// (`io_uring_prep_ftruncate(3)`, Linux 6.9). The result is 0.
///
/// Points at no memory, but names a file: an [`FdSqe`](crate::FdSqe), pushed with `unsafe`
/// [`push_fd`](crate::SubmissionQueue::push_fd) (the file stays open until the completion), or
/// safely once every file is a registered slot ([`FdSqe::into_safe`](crate::FdSqe::into_safe)).
#[derive(Debug, Clone, Copy)]
pub struct Ftruncate {
    pub(crate) target: Target,
    len: u64,
}

impl Ftruncate {
    /// The operation code.
    pub const CODE: u8 = IORING_OP_FTRUNCATE;

    /// Truncates (or extends with zeros) `fd` to `len` bytes.
    #[inline]
    pub fn new(fd: impl Into<Target>, len: u64) -> Self {
        Ftruncate { target: fd.into(), len }
    }

    /// The entry (`sqe.off` = the new length).
    #[inline]
    pub fn build(self) -> FdSqe {
        let mut sqe = prep_rw(Self::CODE, 0, 0, 0, self.len);
        set_target(&mut sqe, self.target);
        FdSqe::new(sqe)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::op::test_util::{fields, Fields};
    use crate::op::Fixed;

    const FDCWD: i32 = libc::AT_FDCWD;

    /// A directory fd for the `.dir()` setters (never used by the kernel here).
    fn dir() -> std::fs::File {
        std::fs::File::open("/").unwrap()
    }

    #[test]
    fn open_how_layout() {
        assert_eq!(core::mem::size_of::<OpenHow>(), core::mem::size_of::<libc::open_how>());
        assert_eq!(core::mem::size_of::<OpenHow>(), 24);
        let how = OpenHow::new()
            .flags(OFlags::CREATE | OFlags::WRONLY)
            .mode(Mode::from_raw_mode(0o640))
            .resolve(ResolveFlags::BENEATH);
        assert_eq!(
            how,
            OpenHow { flags: (libc::O_CREAT | libc::O_WRONLY) as u64, mode: 0o640, resolve: libc::RESOLVE_BENEATH }
        );
    }

    #[test]
    fn sync_file_range_flag_values() {
        assert_eq!(SyncFileRangeFlags::WAIT_BEFORE.bits(), 1);
        assert_eq!(SyncFileRangeFlags::WRITE.bits(), 2);
        assert_eq!(SyncFileRangeFlags::WAIT_AFTER.bits(), 4);
    }

    #[test]
    fn fsync() {
        let sqe = Fsync::new(Target::raw(3)).build().user_data(1);
        assert_eq!(fields(sqe.sqe()), Fields { opcode: IORING_OP_FSYNC, fd: 3, user_data: 1, ..Default::default() });
        let sqe = Fsync::new(Fixed(2)).datasync().range(4096, 8192).build();
        assert_eq!(
            fields(sqe.sqe()),
            Fields {
                opcode: IORING_OP_FSYNC,
                flags: IOSQE_FIXED_FILE,
                fd: 2,
                off: 4096,
                len: 8192,
                op_flags: IORING_FSYNC_DATASYNC,
                ..Default::default()
            }
        );
    }

    #[test]
    fn sync_file_range() {
        let sqe = SyncFileRange::new(Target::raw(4), 100, 200)
            .flags(SyncFileRangeFlags::WRITE | SyncFileRangeFlags::WAIT_AFTER)
            .build();
        assert_eq!(
            fields(sqe.sqe()),
            Fields { opcode: IORING_OP_SYNC_FILE_RANGE, fd: 4, off: 100, len: 200, op_flags: 6, ..Default::default() }
        );
    }

    #[test]
    fn fallocate() {
        let sqe = Fallocate::new(Target::raw(5), 10, 1 << 40).mode(FallocateFlags::KEEP_SIZE).build();
        assert_eq!(
            fields(sqe.sqe()),
            Fields { opcode: IORING_OP_FALLOCATE, fd: 5, off: 10, addr: 1 << 40, len: 1, ..Default::default() }
        );
    }

    #[test]
    fn fadvise_and_fadvise64() {
        let sqe = Fadvise::new(Target::raw(6), 512, 4096, rustix::fs::Advice::DontNeed).build();
        assert_eq!(
            fields(sqe.sqe()),
            Fields {
                opcode: IORING_OP_FADVISE,
                fd: 6,
                off: 512,
                len: 4096,
                op_flags: libc::POSIX_FADV_DONTNEED as u32,
                ..Default::default()
            }
        );
        let sqe = Fadvise::new64(Fixed(1), 0, 1 << 33, rustix::fs::Advice::Sequential).build();
        assert_eq!(
            fields(sqe.sqe()),
            Fields {
                opcode: IORING_OP_FADVISE,
                flags: IOSQE_FIXED_FILE,
                fd: 1,
                addr: 1 << 33,
                op_flags: libc::POSIX_FADV_SEQUENTIAL as u32,
                ..Default::default()
            }
        );
    }

    #[test]
    fn madvise_and_madvise64() {
        let p = 0x7000_0000_0000usize as *mut c_void;
        let sqe = Madvise::new(p, 8192, rustix::mm::Advice::WillNeed).build();
        assert_eq!(
            fields(&sqe),
            Fields {
                opcode: IORING_OP_MADVISE,
                fd: -1,
                addr: 0x7000_0000_0000,
                len: 8192,
                op_flags: libc::MADV_WILLNEED as u32,
                ..Default::default()
            }
        );
        let sqe = Madvise::new64(p, 1 << 34, rustix::mm::Advice::LinuxDontNeed).build();
        assert_eq!(
            fields(&sqe),
            Fields {
                opcode: IORING_OP_MADVISE,
                fd: -1,
                addr: 0x7000_0000_0000,
                off: 1 << 34,
                op_flags: libc::MADV_DONTNEED as u32,
                ..Default::default()
            }
        );
    }

    #[test]
    fn openat() {
        let path = c"some/file";
        let sqe = OpenAt::new(path).build();
        assert_eq!(
            fields(&sqe),
            Fields { opcode: IORING_OP_OPENAT, fd: FDCWD, addr: path.as_ptr() as u64, ..Default::default() }
        );
        let d = dir();
        let sqe = OpenAt::new(path)
            .dir(&d)
            .flags(OFlags::CREATE | OFlags::RDWR | OFlags::CLOEXEC)
            .mode(Mode::from_raw_mode(0o600))
            .build();
        assert_eq!(
            fields(&sqe),
            Fields {
                opcode: IORING_OP_OPENAT,
                fd: d.as_raw_fd(),
                addr: path.as_ptr() as u64,
                len: 0o600,
                op_flags: (libc::O_CREAT | libc::O_RDWR | libc::O_CLOEXEC) as u32,
                ..Default::default()
            }
        );
    }

    #[test]
    fn openat_direct() {
        let path = c"f";
        let sqe = OpenAt::new(path).dest(DestSlot::Fixed(4)).build();
        assert_eq!(
            fields(&sqe),
            Fields { opcode: IORING_OP_OPENAT, fd: FDCWD, addr: path.as_ptr() as u64, file: 5, ..Default::default() }
        );
        let sqe = OpenAt::new(path).dest(DestSlot::Alloc).build();
        assert_eq!(
            fields(&sqe),
            Fields {
                opcode: IORING_OP_OPENAT,
                fd: FDCWD,
                addr: path.as_ptr() as u64,
                file: IORING_FILE_INDEX_ALLOC,
                ..Default::default()
            }
        );
    }

    #[test]
    fn openat2_and_direct() {
        let path = c"f";
        let how = OpenHow::new().flags(OFlags::RDONLY).resolve(ResolveFlags::NO_SYMLINKS);
        let how_addr = &how as *const OpenHow as u64;
        let sqe = OpenAt2::new(path, &how).build();
        assert_eq!(
            fields(&sqe),
            Fields {
                opcode: IORING_OP_OPENAT2,
                fd: FDCWD,
                addr: path.as_ptr() as u64,
                len: 24,
                off: how_addr,
                ..Default::default()
            }
        );
        let d = dir();
        let sqe = OpenAt2::new(path, &how).dir(&d).dest(DestSlot::Fixed(0)).build();
        assert_eq!(
            fields(&sqe),
            Fields {
                opcode: IORING_OP_OPENAT2,
                fd: d.as_raw_fd(),
                addr: path.as_ptr() as u64,
                len: 24,
                off: how_addr,
                file: 1,
                ..Default::default()
            }
        );
        let sqe = OpenAt2::new(path, &how).dest(DestSlot::Alloc).build();
        assert_eq!(fields(&sqe).file, IORING_FILE_INDEX_ALLOC);
    }

    #[test]
    fn close_and_close_direct() {
        let sqe = Close::new(Target::raw(9)).build();
        assert_eq!(fields(sqe.sqe()), Fields { opcode: IORING_OP_CLOSE, fd: 9, ..Default::default() });
        let sqe = Close::new(Fixed(3)).build();
        assert_eq!(fields(sqe.sqe()), Fields { opcode: IORING_OP_CLOSE, fd: 0, file: 4, ..Default::default() });
    }

    #[test]
    fn statx() {
        let path = c"/etc";
        // SAFETY: `statx` is plain integers; all-zero is valid.
        let mut st: libc::statx = unsafe { core::mem::zeroed() };
        let st_addr = &mut st as *mut libc::statx as u64;
        let sqe = Statx::new(path, &mut st).build();
        assert_eq!(
            fields(&sqe),
            Fields {
                opcode: IORING_OP_STATX,
                fd: FDCWD,
                addr: path.as_ptr() as u64,
                len: libc::STATX_BASIC_STATS,
                off: st_addr,
                ..Default::default()
            }
        );
        let d = dir();
        let sqe = Statx::new(c"", &mut st)
            .dir(&d)
            .flags(AtFlags::EMPTY_PATH | AtFlags::SYMLINK_NOFOLLOW)
            .mask(StatxFlags::SIZE | StatxFlags::MTIME)
            .build();
        let f = fields(&sqe);
        assert_eq!(
            f,
            Fields {
                opcode: IORING_OP_STATX,
                fd: d.as_raw_fd(),
                addr: f.addr,
                len: libc::STATX_SIZE | libc::STATX_MTIME,
                off: st_addr,
                op_flags: (libc::AT_EMPTY_PATH | libc::AT_SYMLINK_NOFOLLOW) as u32,
                ..Default::default()
            }
        );
    }

    #[test]
    fn renameat_and_rename() {
        let (old, new) = (c"a", c"b");
        let sqe = RenameAt::new(old, new).build();
        assert_eq!(
            fields(&sqe),
            Fields {
                opcode: IORING_OP_RENAMEAT,
                fd: FDCWD,
                addr: old.as_ptr() as u64,
                len: FDCWD as u32,
                off: new.as_ptr() as u64,
                ..Default::default()
            }
        );
        let (d1, d2) = (dir(), dir());
        let sqe = RenameAt::new(old, new).old_dir(&d1).new_dir(&d2).flags(RenameFlags::NOREPLACE).build();
        assert_eq!(
            fields(&sqe),
            Fields {
                opcode: IORING_OP_RENAMEAT,
                fd: d1.as_raw_fd(),
                addr: old.as_ptr() as u64,
                len: d2.as_raw_fd() as u32,
                off: new.as_ptr() as u64,
                op_flags: libc::RENAME_NOREPLACE,
                ..Default::default()
            }
        );
    }

    #[test]
    fn unlinkat_and_unlink() {
        let path = c"x";
        let sqe = UnlinkAt::new(path).build();
        assert_eq!(
            fields(&sqe),
            Fields { opcode: IORING_OP_UNLINKAT, fd: FDCWD, addr: path.as_ptr() as u64, ..Default::default() }
        );
        let d = dir();
        let sqe = UnlinkAt::new(path).dir(&d).flags(AtFlags::REMOVEDIR).build();
        assert_eq!(
            fields(&sqe),
            Fields {
                opcode: IORING_OP_UNLINKAT,
                fd: d.as_raw_fd(),
                addr: path.as_ptr() as u64,
                op_flags: libc::AT_REMOVEDIR as u32,
                ..Default::default()
            }
        );
    }

    #[test]
    fn mkdirat_and_mkdir() {
        let path = c"d";
        let sqe = MkdirAt::new(path, Mode::from_raw_mode(0o755)).build();
        assert_eq!(
            fields(&sqe),
            Fields {
                opcode: IORING_OP_MKDIRAT,
                fd: FDCWD,
                addr: path.as_ptr() as u64,
                len: 0o755,
                ..Default::default()
            }
        );
        let d = dir();
        let sqe = MkdirAt::new(path, Mode::from_raw_mode(0o700)).dir(&d).build();
        assert_eq!(
            fields(&sqe),
            Fields {
                opcode: IORING_OP_MKDIRAT,
                fd: d.as_raw_fd(),
                addr: path.as_ptr() as u64,
                len: 0o700,
                ..Default::default()
            }
        );
    }

    #[test]
    fn symlinkat_and_symlink() {
        let (target, link) = (c"/target", c"link");
        let sqe = SymlinkAt::new(target, link).build();
        assert_eq!(
            fields(&sqe),
            Fields {
                opcode: IORING_OP_SYMLINKAT,
                fd: FDCWD,
                addr: target.as_ptr() as u64,
                off: link.as_ptr() as u64,
                ..Default::default()
            }
        );
        let d = dir();
        let sqe = SymlinkAt::new(target, link).dir(&d).build();
        assert_eq!(fields(&sqe).fd, d.as_raw_fd());
    }

    #[test]
    fn linkat_and_link() {
        let (old, new) = (c"a", c"b");
        let sqe = LinkAt::new(old, new).build();
        assert_eq!(
            fields(&sqe),
            Fields {
                opcode: IORING_OP_LINKAT,
                fd: FDCWD,
                addr: old.as_ptr() as u64,
                len: FDCWD as u32,
                off: new.as_ptr() as u64,
                ..Default::default()
            }
        );
        let (d1, d2) = (dir(), dir());
        let sqe = LinkAt::new(old, new).old_dir(&d1).new_dir(&d2).flags(AtFlags::SYMLINK_FOLLOW).build();
        assert_eq!(
            fields(&sqe),
            Fields {
                opcode: IORING_OP_LINKAT,
                fd: d1.as_raw_fd(),
                addr: old.as_ptr() as u64,
                len: d2.as_raw_fd() as u32,
                off: new.as_ptr() as u64,
                op_flags: libc::AT_SYMLINK_FOLLOW as u32,
                ..Default::default()
            }
        );
    }

    #[test]
    fn fsetxattr() {
        let (name, value) = (c"user.k", b"value".as_slice());
        let sqe = FsetXattr::new(Target::raw(3), name, value).unwrap().flags(XattrFlags::CREATE).build();
        assert_eq!(
            fields(&sqe),
            Fields {
                opcode: IORING_OP_FSETXATTR,
                fd: 3,
                addr: name.as_ptr() as u64,
                len: 5,
                off: value.as_ptr() as u64,
                op_flags: libc::XATTR_CREATE as u32,
                ..Default::default()
            }
        );
        let sqe = FsetXattr::new(Fixed(1), name, value).unwrap().build();
        assert_eq!((fields(&sqe).flags, fields(&sqe).fd), (IOSQE_FIXED_FILE, 1));
    }

    #[test]
    fn setxattr() {
        let (path, name, value) = (c"/p", c"user.k", b"vv".as_slice());
        let sqe = SetXattr::new(path, name, value).unwrap().flags(XattrFlags::REPLACE).build();
        assert_eq!(
            fields(&sqe),
            Fields {
                opcode: IORING_OP_SETXATTR,
                fd: 0,
                addr: name.as_ptr() as u64,
                len: 2,
                off: value.as_ptr() as u64,
                op_flags: libc::XATTR_REPLACE as u32,
                addr3: path.as_ptr() as u64,
                ..Default::default()
            }
        );
    }

    #[test]
    fn fgetxattr() {
        let name = c"user.k";
        let mut value = [0u8; 32];
        let vaddr = value.as_ptr() as u64;
        let sqe = FgetXattr::new(Target::raw(4), name, &mut value).build();
        assert_eq!(
            fields(&sqe),
            Fields {
                opcode: IORING_OP_FGETXATTR,
                fd: 4,
                addr: name.as_ptr() as u64,
                len: 32,
                off: vaddr,
                ..Default::default()
            }
        );
    }

    #[test]
    fn getxattr() {
        let (path, name) = (c"/p", c"user.k");
        let mut value = [0u8; 16];
        let vaddr = value.as_ptr() as u64;
        let sqe = GetXattr::new(path, name, &mut value).build();
        assert_eq!(
            fields(&sqe),
            Fields {
                opcode: IORING_OP_GETXATTR,
                fd: 0,
                addr: name.as_ptr() as u64,
                len: 16,
                off: vaddr,
                addr3: path.as_ptr() as u64,
                ..Default::default()
            }
        );
    }

    #[test]
    fn ftruncate() {
        let sqe = Ftruncate::new(Target::raw(7), 12345).build();
        assert_eq!(fields(sqe.sqe()), Fields { opcode: IORING_OP_FTRUNCATE, fd: 7, off: 12345, ..Default::default() });
        let sqe = Ftruncate::new(Fixed(2), 0).build();
        assert_eq!(
            fields(sqe.sqe()),
            Fields { opcode: IORING_OP_FTRUNCATE, flags: IOSQE_FIXED_FILE, fd: 2, ..Default::default() }
        );
    }
}
