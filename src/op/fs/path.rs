//! The path operations: renameat, unlinkat, mkdirat, symlinkat, linkat.

use core::ffi::CStr;
use core::marker::PhantomData;
use std::os::fd::{AsFd, RawFd};

use rustix::fs::{AtFlags, Mode, RenameFlags};
use uring_uapi::*;

use super::{cstr_addr, AT_FDCWD};
use crate::op::prep_rw;
use crate::sqe::Sqe;

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
    /// The operation code, `IORING_OP_RENAMEAT`.
    pub const CODE: u8 = IORING_OP_RENAMEAT;

    /// Renames `old` to `new`, both relative to the current directory.
    /// See `io_uring_prep_renameat(3)` (Linux 5.11).
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
    /// Encodes `IORING_OP_RENAMEAT`.
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
    /// The operation code, `IORING_OP_UNLINKAT`.
    pub const CODE: u8 = IORING_OP_UNLINKAT;

    /// Removes the file `path`, relative to the current directory.
    /// See `io_uring_prep_unlinkat(3)` (Linux 5.11).
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
    /// Encodes `IORING_OP_UNLINKAT`.
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
    /// The operation code, `IORING_OP_MKDIRAT`.
    pub const CODE: u8 = IORING_OP_MKDIRAT;

    /// Creates directory `path` (relative to the current directory) with `mode` (less the
    /// umask).
    /// See `io_uring_prep_mkdirat(3)` (Linux 5.15).
    #[inline]
    pub fn new(path: &'a CStr, mode: Mode) -> Self {
        MkdirAt { dfd: AT_FDCWD, path: cstr_addr(path), mode, _path: PhantomData }
    }

    fs_setters! {
        /// Resolves a relative `path` against directory `dir` instead.
        dir;
    }

    /// The entry.
    /// Encodes `IORING_OP_MKDIRAT`.
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
    /// The operation code, `IORING_OP_SYMLINKAT`.
    pub const CODE: u8 = IORING_OP_SYMLINKAT;

    /// Creates the symbolic link `link` (relative to the current directory) pointing to
    /// `target` (stored as given, not resolved).
    /// See `io_uring_prep_symlinkat(3)` (Linux 5.15).
    #[inline]
    pub fn new(target: &'a CStr, link: &'a CStr) -> Self {
        SymlinkAt { target: cstr_addr(target), dfd: AT_FDCWD, link: cstr_addr(link), _paths: PhantomData }
    }

    fs_setters! {
        /// Resolves a relative `link` against directory `dir` instead.
        dir;
    }

    /// The entry (`sqe.addr` = target, `sqe.fd`/`sqe.off` = the link's directory and path).
    /// Encodes `IORING_OP_SYMLINKAT`.
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
    /// The operation code, `IORING_OP_LINKAT`.
    pub const CODE: u8 = IORING_OP_LINKAT;

    /// Links `new` to the file `old`, both relative to the current directory.
    /// See `io_uring_prep_linkat(3)` (Linux 5.15).
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
    /// Encodes `IORING_OP_LINKAT`.
    #[inline]
    pub fn build(self) -> Sqe {
        let mut sqe = prep_rw(Self::CODE, self.old_dfd, self.old, self.new_dfd as u32, self.new);
        sqe.0.op_flags.hardlink_flags = self.flags.bits();
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
    fn encodings() {
        let (a, b) = (c"a", c"b");
        let (pa, pb) = (a.as_ptr() as u64, b.as_ptr() as u64);
        let (d1, d2) = (dir(), dir());
        let (fd1, fd2) = (d1.as_raw_fd(), d2.as_raw_fd());
        check(&[
            (
                "rename",
                RenameAt::new(a, b).build(),
                Fields {
                    opcode: IORING_OP_RENAMEAT,
                    fd: FDCWD,
                    addr: pa,
                    len: FDCWD as u32,
                    off: pb,
                    ..Default::default()
                },
            ),
            (
                "renameat",
                RenameAt::new(a, b).old_dir(&d1).new_dir(&d2).flags(RenameFlags::NOREPLACE).build(),
                Fields {
                    opcode: IORING_OP_RENAMEAT,
                    fd: fd1,
                    addr: pa,
                    len: fd2 as u32,
                    off: pb,
                    op_flags: libc::RENAME_NOREPLACE,
                    ..Default::default()
                },
            ),
            (
                "unlink",
                UnlinkAt::new(a).build(),
                Fields { opcode: IORING_OP_UNLINKAT, fd: FDCWD, addr: pa, ..Default::default() },
            ),
            (
                "unlinkat, rmdir",
                UnlinkAt::new(a).dir(&d1).flags(AtFlags::REMOVEDIR).build(),
                Fields {
                    opcode: IORING_OP_UNLINKAT,
                    fd: fd1,
                    addr: pa,
                    op_flags: libc::AT_REMOVEDIR as u32,
                    ..Default::default()
                },
            ),
            (
                "mkdir",
                MkdirAt::new(a, Mode::from_raw_mode(0o755)).build(),
                Fields { opcode: IORING_OP_MKDIRAT, fd: FDCWD, addr: pa, len: 0o755, ..Default::default() },
            ),
            (
                "mkdirat",
                MkdirAt::new(a, Mode::from_raw_mode(0o700)).dir(&d1).build(),
                Fields { opcode: IORING_OP_MKDIRAT, fd: fd1, addr: pa, len: 0o700, ..Default::default() },
            ),
            (
                "symlink",
                SymlinkAt::new(a, b).build(),
                Fields { opcode: IORING_OP_SYMLINKAT, fd: FDCWD, addr: pa, off: pb, ..Default::default() },
            ),
            (
                "symlinkat",
                SymlinkAt::new(a, b).dir(&d1).build(),
                Fields { opcode: IORING_OP_SYMLINKAT, fd: fd1, addr: pa, off: pb, ..Default::default() },
            ),
            (
                "link",
                LinkAt::new(a, b).build(),
                Fields {
                    opcode: IORING_OP_LINKAT,
                    fd: FDCWD,
                    addr: pa,
                    len: FDCWD as u32,
                    off: pb,
                    ..Default::default()
                },
            ),
            (
                "linkat",
                LinkAt::new(a, b).old_dir(&d1).new_dir(&d2).flags(AtFlags::SYMLINK_FOLLOW).build(),
                Fields {
                    opcode: IORING_OP_LINKAT,
                    fd: fd1,
                    addr: pa,
                    len: fd2 as u32,
                    off: pb,
                    op_flags: libc::AT_SYMLINK_FOLLOW as u32,
                    ..Default::default()
                },
            ),
        ]);
    }
}
