//! Files and paths: open, statx, the path operations and extended attributes, with owned
//! paths (`CString`), `open_how`, `statx` buffers and attribute values.
//!
//! Directories: a relative path resolves against the current directory, or against `dir`
//! when set. `dir` is an [`Fd`] (owned, or shared through an `Arc`), so the descriptor stays
//! open while the operation holds it; the kernel takes no registered file as a directory, so a
//! registered slot is refused ([`Error::InvalidArgument`](crate::Error::InvalidArgument)).

use std::ffi::CString;
use std::os::fd::BorrowedFd;
use std::path::Path;

use rustix::fs::{AtFlags, Mode, OFlags, RenameFlags, StatxFlags, XattrFlags};

use super::fd::dir_fd;
use super::{c_path, c_string, Encode, Fd, OnComplete};
use crate::op::{self, DestSlot, OpenHow};
use crate::sqe::Sqe;
use crate::Result;

/// `b` with `set` applied to the directory in `dir`, if there is one: how every owned path
/// operation hands its optional directory to the builder.
#[inline]
fn with_dir<B>(b: B, dir: &Option<Fd>, set: impl FnOnce(B, BorrowedFd<'_>) -> B) -> Result<B> {
    Ok(match dir_fd(dir)? {
        Some(d) => set(b, d),
        None => b,
    })
}

/// An extended attribute's name as a C string, refusing interior NUL bytes.
fn xattr_name(name: impl Into<Vec<u8>>) -> Result<CString> {
    c_string(name, "xattr name")
}

/// `IORING_OP_OPENAT` (Linux 5.6): `openat(2)`. The result is the new fd, handed out as an `OwnedFd` by
/// [`Completion::take_fd`](crate::owned::Completion::take_fd) (or, with a direct `dest`, 0 or
/// the slot chosen).
#[derive(Debug)]
pub struct OpenAt {
    /// The path.
    pub path: CString,
    /// The directory a relative path resolves against (`None`: the current directory).
    pub dir: Option<Fd>,
    /// The `O_*` flags.
    pub flags: OFlags,
    /// The mode of a created file.
    pub mode: Mode,
    /// Where the file goes: an fd, or a registered slot.
    pub dest: DestSlot,
}

impl OpenAt {
    /// Opens `path` with `flags` (and `mode` for a created file). Refuses a path with a NUL
    /// byte.
    /// Pushed as `IORING_OP_OPENAT` (Linux 5.6).
    pub fn new(path: impl AsRef<Path>, flags: OFlags, mode: Mode) -> Result<Self> {
        Ok(OpenAt { path: c_path(path)?, dir: None, flags, mode, dest: DestSlot::Fd })
    }
}

impl Encode for OpenAt {
    #[inline]
    fn on_complete(&self) -> OnComplete {
        OnComplete::new_fd_if(self.dest)
    }

    #[inline]
    fn sqe(&mut self) -> Result<Sqe> {
        let b = op::OpenAt::new(&self.path).flags(self.flags).mode(self.mode).dest(self.dest);
        Ok(with_dir(b, &self.dir, |b, d| b.dir(d))?.build())
    }
}

/// `IORING_OP_OPENAT2` (Linux 5.6): `openat2(2)` with an owned [`OpenHow`]. The result is as for
/// [`OpenAt`].
#[derive(Debug)]
pub struct OpenAt2 {
    /// The path.
    pub path: CString,
    /// Flags, mode and resolution restrictions.
    pub how: OpenHow,
    /// The directory a relative path resolves against (`None`: the current directory).
    pub dir: Option<Fd>,
    /// Where the file goes: an fd, or a registered slot.
    pub dest: DestSlot,
}

impl OpenAt2 {
    /// Opens `path` as `how` says. Refuses a path with a NUL byte.
    /// Pushed as `IORING_OP_OPENAT2` (Linux 5.6).
    pub fn new(path: impl AsRef<Path>, how: OpenHow) -> Result<Self> {
        Ok(OpenAt2 { path: c_path(path)?, how, dir: None, dest: DestSlot::Fd })
    }
}

impl Encode for OpenAt2 {
    #[inline]
    fn on_complete(&self) -> OnComplete {
        OnComplete::new_fd_if(self.dest)
    }

    #[inline]
    fn sqe(&mut self) -> Result<Sqe> {
        let b = op::OpenAt2::new(&self.path, &self.how).dest(self.dest);
        Ok(with_dir(b, &self.dir, |b, d| b.dir(d))?.build())
    }
}

/// `IORING_OP_STATX` (Linux 5.6): `statx(2)` into the owned [`statx`](Statx::statx) buffer. The result is
/// 0, with the buffer filled.
pub struct Statx {
    /// The path (empty with `AT_EMPTY_PATH` and `dir`: `dir` itself).
    pub path: CString,
    /// The directory a relative path resolves against (`None`: the current directory).
    pub dir: Option<Fd>,
    /// The `AT_*` flags.
    pub flags: AtFlags,
    /// The `STATX_*` fields wanted.
    pub mask: StatxFlags,
    /// The result, filled by the kernel.
    pub statx: libc::statx,
}

impl core::fmt::Debug for Statx {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Statx")
            .field("path", &self.path)
            .field("dir", &self.dir)
            .field("flags", &self.flags)
            .field("mask", &self.mask)
            .field("stx_mask", &self.statx.stx_mask)
            .field("stx_size", &self.statx.stx_size)
            .field("stx_mode", &self.statx.stx_mode)
            .finish()
    }
}

impl Statx {
    /// Queries `path` for `STATX_BASIC_STATS`. Refuses a path with a NUL byte.
    /// Pushed as `IORING_OP_STATX` (Linux 5.6).
    pub fn new(path: impl AsRef<Path>) -> Result<Self> {
        let statx: libc::statx = crate::util::zeroed();
        Ok(Statx { path: c_path(path)?, dir: None, flags: AtFlags::empty(), mask: StatxFlags::BASIC_STATS, statx })
    }
}

impl Encode for Statx {
    #[inline]
    fn sqe(&mut self) -> Result<Sqe> {
        let b = op::Statx::new(&self.path, &mut self.statx).flags(self.flags).mask(self.mask);
        Ok(with_dir(b, &self.dir, |b, d| b.dir(d))?.build())
    }
}

/// `IORING_OP_RENAMEAT` (Linux 5.11): `renameat2(2)`. The result is 0.
#[derive(Debug)]
pub struct RenameAt {
    /// The old path.
    pub old: CString,
    /// The new path.
    pub new: CString,
    /// The directory a relative old path resolves against.
    pub old_dir: Option<Fd>,
    /// The directory a relative new path resolves against.
    pub new_dir: Option<Fd>,
    /// `RENAME_*` flags.
    pub flags: RenameFlags,
}

impl RenameAt {
    /// Renames `old` to `new`. Refuses paths with a NUL byte.
    /// Pushed as `IORING_OP_RENAMEAT` (Linux 5.11).
    pub fn new(old: impl AsRef<Path>, new: impl AsRef<Path>) -> Result<Self> {
        Ok(RenameAt { old: c_path(old)?, new: c_path(new)?, old_dir: None, new_dir: None, flags: RenameFlags::empty() })
    }
}

impl Encode for RenameAt {
    #[inline]
    fn sqe(&mut self) -> Result<Sqe> {
        let b = op::RenameAt::new(&self.old, &self.new).flags(self.flags);
        let b = with_dir(b, &self.old_dir, |b, d| b.old_dir(d))?;
        Ok(with_dir(b, &self.new_dir, |b, d| b.new_dir(d))?.build())
    }
}

/// `IORING_OP_UNLINKAT` (Linux 5.11): `unlinkat(2)` (with `AT_REMOVEDIR`: `rmdir`). The result is 0.
#[derive(Debug)]
pub struct UnlinkAt {
    /// The path.
    pub path: CString,
    /// The directory a relative path resolves against.
    pub dir: Option<Fd>,
    /// `AT_*` flags.
    pub flags: AtFlags,
}

impl UnlinkAt {
    /// Removes `path`. Refuses a path with a NUL byte.
    /// Pushed as `IORING_OP_UNLINKAT` (Linux 5.11).
    pub fn new(path: impl AsRef<Path>) -> Result<Self> {
        Ok(UnlinkAt { path: c_path(path)?, dir: None, flags: AtFlags::empty() })
    }
}

impl Encode for UnlinkAt {
    #[inline]
    fn sqe(&mut self) -> Result<Sqe> {
        let b = op::UnlinkAt::new(&self.path).flags(self.flags);
        Ok(with_dir(b, &self.dir, |b, d| b.dir(d))?.build())
    }
}

/// `IORING_OP_MKDIRAT` (Linux 5.15): `mkdirat(2)`. The result is 0.
#[derive(Debug)]
pub struct MkdirAt {
    /// The path.
    pub path: CString,
    /// The directory a relative path resolves against.
    pub dir: Option<Fd>,
    /// The mode (less the umask).
    pub mode: Mode,
}

impl MkdirAt {
    /// Creates directory `path` with `mode`. Refuses a path with a NUL byte.
    /// Pushed as `IORING_OP_MKDIRAT` (Linux 5.15).
    pub fn new(path: impl AsRef<Path>, mode: Mode) -> Result<Self> {
        Ok(MkdirAt { path: c_path(path)?, dir: None, mode })
    }
}

impl Encode for MkdirAt {
    #[inline]
    fn sqe(&mut self) -> Result<Sqe> {
        let b = op::MkdirAt::new(&self.path, self.mode);
        Ok(with_dir(b, &self.dir, |b, d| b.dir(d))?.build())
    }
}

/// `IORING_OP_SYMLINKAT` (Linux 5.15): `symlinkat(2)`. The result is 0.
#[derive(Debug)]
pub struct SymlinkAt {
    /// What the link points to (stored as given).
    pub target: CString,
    /// The link's path.
    pub link: CString,
    /// The directory a relative link path resolves against.
    pub dir: Option<Fd>,
}

impl SymlinkAt {
    /// Creates `link` pointing to `target`. Refuses strings with a NUL byte.
    /// Pushed as `IORING_OP_SYMLINKAT` (Linux 5.15).
    pub fn new(target: impl AsRef<Path>, link: impl AsRef<Path>) -> Result<Self> {
        Ok(SymlinkAt { target: c_path(target)?, link: c_path(link)?, dir: None })
    }
}

impl Encode for SymlinkAt {
    #[inline]
    fn sqe(&mut self) -> Result<Sqe> {
        let b = op::SymlinkAt::new(&self.target, &self.link);
        Ok(with_dir(b, &self.dir, |b, d| b.dir(d))?.build())
    }
}

/// `IORING_OP_LINKAT` (Linux 5.15): `linkat(2)`. The result is 0.
#[derive(Debug)]
pub struct LinkAt {
    /// The existing path.
    pub old: CString,
    /// The new link.
    pub new: CString,
    /// The directory a relative old path resolves against.
    pub old_dir: Option<Fd>,
    /// The directory a relative new path resolves against.
    pub new_dir: Option<Fd>,
    /// `AT_*` flags (`AT_SYMLINK_FOLLOW`, `AT_EMPTY_PATH`).
    pub flags: AtFlags,
}

impl LinkAt {
    /// Links `new` to the file at `old`. Refuses paths with a NUL byte.
    /// Pushed as `IORING_OP_LINKAT` (Linux 5.15).
    pub fn new(old: impl AsRef<Path>, new: impl AsRef<Path>) -> Result<Self> {
        Ok(LinkAt { old: c_path(old)?, new: c_path(new)?, old_dir: None, new_dir: None, flags: AtFlags::empty() })
    }
}

impl Encode for LinkAt {
    #[inline]
    fn sqe(&mut self) -> Result<Sqe> {
        let b = op::LinkAt::new(&self.old, &self.new).flags(self.flags);
        let b = with_dir(b, &self.old_dir, |b, d| b.old_dir(d))?;
        Ok(with_dir(b, &self.new_dir, |b, d| b.new_dir(d))?.build())
    }
}

/// `IORING_OP_FSETXATTR` (Linux 5.19): `fsetxattr(2)`. The result is 0.
#[derive(Debug)]
pub struct FsetXattr {
    /// The file.
    pub fd: Fd,
    /// The attribute's name, with its namespace (`user.x`).
    pub name: CString,
    /// The value.
    pub value: Vec<u8>,
    /// `XATTR_CREATE` / `XATTR_REPLACE`.
    pub flags: XattrFlags,
}

impl FsetXattr {
    /// Sets `name` of `fd` to `value`. Refuses a name with a NUL byte.
    /// Pushed as `IORING_OP_FSETXATTR` (Linux 5.19).
    pub fn new(fd: impl Into<Fd>, name: impl Into<Vec<u8>>, value: Vec<u8>) -> Result<Self> {
        Ok(FsetXattr { fd: fd.into(), name: xattr_name(name)?, value, flags: XattrFlags::empty() })
    }
}

impl Encode for FsetXattr {
    #[inline]
    fn sqe(&mut self) -> Result<Sqe> {
        Ok(op::FsetXattr::new(self.fd.target(), &self.name, &self.value)?.flags(self.flags).build())
    }
}

/// `IORING_OP_SETXATTR` (Linux 5.19): `setxattr(2)` (follows symbolic links). The result is 0.
#[derive(Debug)]
pub struct SetXattr {
    /// The file's path.
    pub path: CString,
    /// The attribute's name, with its namespace.
    pub name: CString,
    /// The value.
    pub value: Vec<u8>,
    /// `XATTR_CREATE` / `XATTR_REPLACE`.
    pub flags: XattrFlags,
}

impl SetXattr {
    /// Sets `name` of the file at `path` to `value`. Refuses strings with a NUL byte.
    /// Pushed as `IORING_OP_SETXATTR` (Linux 5.19).
    pub fn new(path: impl AsRef<Path>, name: impl Into<Vec<u8>>, value: Vec<u8>) -> Result<Self> {
        Ok(SetXattr { path: c_path(path)?, name: xattr_name(name)?, value, flags: XattrFlags::empty() })
    }
}

impl Encode for SetXattr {
    #[inline]
    fn sqe(&mut self) -> Result<Sqe> {
        Ok(op::SetXattr::new(&self.path, &self.name, &self.value)?.flags(self.flags).build())
    }
}

/// `IORING_OP_FGETXATTR` (Linux 5.19): `fgetxattr(2)` into the owned `value` buffer. The result is the
/// value's length (with an empty buffer: the length it needs).
#[derive(Debug)]
pub struct FgetXattr {
    /// The file.
    pub fd: Fd,
    /// The attribute's name, with its namespace.
    pub name: CString,
    /// The buffer the value is written into (its length is the room offered).
    pub value: Vec<u8>,
}

impl FgetXattr {
    /// Reads `name` of `fd` into a buffer of `room` bytes. Refuses a name with a NUL byte.
    /// Pushed as `IORING_OP_FGETXATTR` (Linux 5.19).
    pub fn new(fd: impl Into<Fd>, name: impl Into<Vec<u8>>, room: usize) -> Result<Self> {
        Ok(FgetXattr { fd: fd.into(), name: xattr_name(name)?, value: vec![0; room] })
    }
}

impl Encode for FgetXattr {
    #[inline]
    fn sqe(&mut self) -> Result<Sqe> {
        Ok(op::FgetXattr::new(self.fd.target(), &self.name, &mut self.value)?.build())
    }
}

/// `IORING_OP_GETXATTR` (Linux 5.19): `getxattr(2)` (follows symbolic links) into the owned `value`
/// buffer. The result is the value's length.
#[derive(Debug)]
pub struct GetXattr {
    /// The file's path.
    pub path: CString,
    /// The attribute's name, with its namespace.
    pub name: CString,
    /// The buffer the value is written into.
    pub value: Vec<u8>,
}

impl GetXattr {
    /// Reads `name` of the file at `path` into a buffer of `room` bytes. Refuses strings with
    /// a NUL byte.
    /// Pushed as `IORING_OP_GETXATTR` (Linux 5.19).
    pub fn new(path: impl AsRef<Path>, name: impl Into<Vec<u8>>, room: usize) -> Result<Self> {
        Ok(GetXattr { path: c_path(path)?, name: xattr_name(name)?, value: vec![0; room] })
    }
}

impl Encode for GetXattr {
    #[inline]
    fn sqe(&mut self) -> Result<Sqe> {
        Ok(op::GetXattr::new(&self.path, &self.name, &mut self.value)?.build())
    }
}
