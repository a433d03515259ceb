//! Opening and closing files, and `statx`: openat, openat2 (with [`OpenHow`]), close,
//! close of a registered slot, statx.

use core::ffi::CStr;
use core::marker::PhantomData;
use std::os::fd::{AsFd, RawFd};

use rustix::fs::{AtFlags, Mode, OFlags, ResolveFlags, StatxFlags};
use uring_uapi::*;

use super::{cstr_addr, AT_FDCWD};
use crate::op::{prep_rw, DestSlot, Fixed, Target};
use crate::sqe::{FdSqe, SafeSqe, Sqe};

/// The `open_how` argument of `openat2(2)`: flags, mode and path-resolution restrictions
/// (`struct open_how`, 24 bytes).
/// For `IORING_OP_OPENAT2` (Linux 5.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(C)]
pub struct OpenHow {
    flags: u64,
    mode: u64,
    resolve: u64,
}

impl OpenHow {
    /// Open read-only, no mode, no resolution restrictions.
    /// (`struct open_how`, `IORING_OP_OPENAT2`, Linux 5.6.)
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
    /// The operation code, `IORING_OP_OPENAT`.
    pub const CODE: u8 = IORING_OP_OPENAT;

    /// Opens `path` read-only, relative to the current directory.
    /// See `io_uring_prep_openat(3)` (Linux 5.6).
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
    /// Encodes `IORING_OP_OPENAT`.
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
    /// The operation code, `IORING_OP_OPENAT2`.
    pub const CODE: u8 = IORING_OP_OPENAT2;

    /// Opens `path` as `how` says, relative to the current directory.
    /// See `io_uring_prep_openat2(3)` (Linux 5.6).
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
    /// Encodes `IORING_OP_OPENAT2`.
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
    /// The operation code, `IORING_OP_CLOSE`.
    pub const CODE: u8 = IORING_OP_CLOSE;

    /// Closes `fd`, or empties a registered slot.
    /// See `io_uring_prep_close(3)` (Linux 5.6).
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
    /// Encodes `IORING_OP_CLOSE`.
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
    /// Encodes `IORING_OP_CLOSE`.
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
    /// The operation code, `IORING_OP_STATX`.
    pub const CODE: u8 = IORING_OP_STATX;

    /// Queries `path` (relative to the current directory) into `buf`, asking for
    /// `STATX_BASIC_STATS` with no `AT_*` flags.
    /// See `io_uring_prep_statx(3)` (Linux 5.6).
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
    /// Encodes `IORING_OP_STATX`.
    #[inline]
    pub fn build(self) -> Sqe {
        let mut sqe = prep_rw(Self::CODE, self.dfd, self.path, self.mask.bits(), self.buf);
        sqe.0.op_flags.statx_flags = self.flags.bits();
        sqe
    }
}

#[cfg(test)]
mod tests {
    use std::os::fd::AsRawFd;

    use super::*;
    use crate::op::fs::test_dir::dir;
    use crate::op::test_util::{check, Fields};

    const FDCWD: i32 = libc::AT_FDCWD;

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
    fn encodings() {
        let path = c"some/file";
        let p = path.as_ptr() as u64;
        let d = dir();
        let how = OpenHow::new().flags(OFlags::RDONLY).resolve(ResolveFlags::NO_SYMLINKS);
        let how_addr = &how as *const OpenHow as u64;
        let mut st: libc::statx = crate::util::zeroed();
        let st_addr = &mut st as *mut libc::statx as u64;
        let empty = c"";
        let create = OFlags::CREATE | OFlags::RDWR | OFlags::CLOEXEC;
        check(&[
            (
                "openat",
                OpenAt::new(path).build(),
                Fields { opcode: IORING_OP_OPENAT, fd: FDCWD, addr: p, ..Default::default() },
            ),
            (
                "openat in a directory, flags and mode",
                OpenAt::new(path).dir(&d).flags(create).mode(Mode::from_raw_mode(0o600)).build(),
                Fields {
                    opcode: IORING_OP_OPENAT,
                    fd: d.as_raw_fd(),
                    addr: p,
                    len: 0o600,
                    op_flags: (libc::O_CREAT | libc::O_RDWR | libc::O_CLOEXEC) as u32,
                    ..Default::default()
                },
            ),
            (
                "openat_direct",
                OpenAt::new(path).dest(DestSlot::Fixed(4)).build(),
                Fields { opcode: IORING_OP_OPENAT, fd: FDCWD, addr: p, file: 5, ..Default::default() },
            ),
            (
                "openat_direct_alloc",
                OpenAt::new(path).dest(DestSlot::Alloc).build(),
                Fields {
                    opcode: IORING_OP_OPENAT,
                    fd: FDCWD,
                    addr: p,
                    file: IORING_FILE_INDEX_ALLOC,
                    ..Default::default()
                },
            ),
            (
                "openat2",
                OpenAt2::new(path, &how).build(),
                Fields { opcode: IORING_OP_OPENAT2, fd: FDCWD, addr: p, len: 24, off: how_addr, ..Default::default() },
            ),
            (
                "openat2_direct in a directory",
                OpenAt2::new(path, &how).dir(&d).dest(DestSlot::Fixed(0)).build(),
                Fields {
                    opcode: IORING_OP_OPENAT2,
                    fd: d.as_raw_fd(),
                    addr: p,
                    len: 24,
                    off: how_addr,
                    file: 1,
                    ..Default::default()
                },
            ),
            (
                "openat2_direct_alloc",
                OpenAt2::new(path, &how).dest(DestSlot::Alloc).build(),
                Fields {
                    opcode: IORING_OP_OPENAT2,
                    fd: FDCWD,
                    addr: p,
                    len: 24,
                    off: how_addr,
                    file: IORING_FILE_INDEX_ALLOC,
                    ..Default::default()
                },
            ),
            (
                "close",
                Close::new(Target::raw(9)).build().into(),
                Fields { opcode: IORING_OP_CLOSE, fd: 9, ..Default::default() },
            ),
            (
                "close_direct",
                Close::new(Fixed(3)).build().into(),
                Fields { opcode: IORING_OP_CLOSE, fd: 0, file: 4, ..Default::default() },
            ),
            (
                "close_direct, safe form",
                Close::fixed(Fixed(3)).build().into(),
                Fields { opcode: IORING_OP_CLOSE, fd: 0, file: 4, ..Default::default() },
            ),
            (
                "statx",
                Statx::new(path, &mut st).build(),
                Fields {
                    opcode: IORING_OP_STATX,
                    fd: FDCWD,
                    addr: p,
                    len: libc::STATX_BASIC_STATS,
                    off: st_addr,
                    ..Default::default()
                },
            ),
            (
                "statx of a directory fd",
                Statx::new(empty, &mut st)
                    .dir(&d)
                    .flags(AtFlags::EMPTY_PATH | AtFlags::SYMLINK_NOFOLLOW)
                    .mask(StatxFlags::SIZE | StatxFlags::MTIME)
                    .build(),
                Fields {
                    opcode: IORING_OP_STATX,
                    fd: d.as_raw_fd(),
                    addr: empty.as_ptr() as u64,
                    len: libc::STATX_SIZE | libc::STATX_MTIME,
                    off: st_addr,
                    op_flags: (libc::AT_EMPTY_PATH | libc::AT_SYMLINK_NOFOLLOW) as u32,
                    ..Default::default()
                },
            ),
        ]);
    }
}
