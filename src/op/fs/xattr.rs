//! Extended attributes: fsetxattr, setxattr, fgetxattr, getxattr.

use core::ffi::CStr;
use core::marker::PhantomData;

use rustix::fs::XattrFlags;
use uring_uapi::*;

use super::cstr_addr;
use crate::op::{len32, prep_rw, set_target, Target};
use crate::sqe::Sqe;

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
    /// The operation code, `IORING_OP_FSETXATTR`.
    pub const CODE: u8 = IORING_OP_FSETXATTR;

    /// Sets attribute `name` (with its namespace, e.g. `user.x`) of `fd` to `value`.
    ///
    /// Refuses a value longer than `u32::MAX` bytes with
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument).
    /// See `io_uring_prep_fsetxattr(3)` (Linux 5.19).
    #[inline]
    pub fn new(fd: impl Into<Target>, name: &'a CStr, value: &'a [u8]) -> crate::Result<Self> {
        Ok(FsetXattr {
            target: fd.into(),
            name: cstr_addr(name),
            value: value.as_ptr() as u64,
            len: len32(value.len(), "xattr value")?,
            flags: XattrFlags::empty(),
            _refs: PhantomData,
        })
    }

    fs_setters! {
        /// `XATTR_CREATE` (fail if it exists) or `XATTR_REPLACE` (fail unless it exists).
        flags: XattrFlags;
    }

    /// The entry (`sqe.addr` = name, `sqe.off` = value, `sqe.len` = its length).
    /// Encodes `IORING_OP_FSETXATTR`.
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
    /// The operation code, `IORING_OP_SETXATTR`.
    pub const CODE: u8 = IORING_OP_SETXATTR;

    /// Sets attribute `name` of the file at `path` (following symbolic links) to `value`.
    ///
    /// Refuses a value longer than `u32::MAX` bytes with
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument).
    /// See `io_uring_prep_setxattr(3)` (Linux 5.19).
    #[inline]
    pub fn new(path: &'a CStr, name: &'a CStr, value: &'a [u8]) -> crate::Result<Self> {
        Ok(SetXattr {
            path: cstr_addr(path),
            name: cstr_addr(name),
            value: value.as_ptr() as u64,
            len: len32(value.len(), "xattr value")?,
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
    /// Encodes `IORING_OP_SETXATTR`.
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
    /// The operation code, `IORING_OP_FGETXATTR`.
    pub const CODE: u8 = IORING_OP_FGETXATTR;

    /// Reads attribute `name` of `fd` into `value`.
    ///
    /// Refuses a buffer longer than `u32::MAX` bytes with
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument).
    /// See `io_uring_prep_fgetxattr(3)` (Linux 5.19).
    #[inline]
    pub fn new(fd: impl Into<Target>, name: &'a CStr, value: &'a mut [u8]) -> crate::Result<Self> {
        Ok(FgetXattr {
            target: fd.into(),
            name: cstr_addr(name),
            value: value.as_mut_ptr() as u64,
            len: len32(value.len(), "xattr value buffer")?,
            _refs: PhantomData,
        })
    }

    /// The entry (`sqe.addr` = name, `sqe.off` = value buffer, `sqe.len` = its size).
    /// Encodes `IORING_OP_FGETXATTR`.
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
    /// The operation code, `IORING_OP_GETXATTR`.
    pub const CODE: u8 = IORING_OP_GETXATTR;

    /// Reads attribute `name` of the file at `path` (following symbolic links) into `value`.
    ///
    /// Refuses a buffer longer than `u32::MAX` bytes with
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument).
    /// See `io_uring_prep_getxattr(3)` (Linux 5.19).
    #[inline]
    pub fn new(path: &'a CStr, name: &'a CStr, value: &'a mut [u8]) -> crate::Result<Self> {
        Ok(GetXattr {
            path: cstr_addr(path),
            name: cstr_addr(name),
            value: value.as_mut_ptr() as u64,
            len: len32(value.len(), "xattr value buffer")?,
            _refs: PhantomData,
        })
    }

    /// The entry (`sqe.addr` = name, `sqe.off` = value buffer, `sqe.len` = its size,
    /// `sqe.addr3` = path).
    /// Encodes `IORING_OP_GETXATTR`.
    #[inline]
    pub fn build(self) -> Sqe {
        let mut sqe = prep_rw(Self::CODE, 0, self.name, self.len, self.value);
        sqe.0.addr3.addr3 = io_uring_sqe_addr3_pad { addr3: self.path, __pad2: [0] };
        sqe
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::op::test_util::{check, Fields};
    use crate::op::Fixed;

    #[test]
    fn encodings() {
        let (path, name, value) = (c"/p", c"user.k", b"value".as_slice());
        let (pp, pn, pv) = (path.as_ptr() as u64, name.as_ptr() as u64, value.as_ptr() as u64);
        let mut out = [0u8; 32];
        let po = out.as_ptr() as u64;
        check(&[
            (
                "fsetxattr",
                FsetXattr::new(Target::raw(3), name, value).unwrap().flags(XattrFlags::CREATE).build(),
                Fields {
                    opcode: IORING_OP_FSETXATTR,
                    fd: 3,
                    addr: pn,
                    len: 5,
                    off: pv,
                    op_flags: libc::XATTR_CREATE as u32,
                    ..Default::default()
                },
            ),
            (
                "fsetxattr, fixed",
                FsetXattr::new(Fixed(1), name, value).unwrap().build(),
                Fields {
                    opcode: IORING_OP_FSETXATTR,
                    flags: IOSQE_FIXED_FILE,
                    fd: 1,
                    addr: pn,
                    len: 5,
                    off: pv,
                    ..Default::default()
                },
            ),
            (
                "setxattr",
                SetXattr::new(path, name, value).unwrap().flags(XattrFlags::REPLACE).build(),
                Fields {
                    opcode: IORING_OP_SETXATTR,
                    addr: pn,
                    len: 5,
                    off: pv,
                    op_flags: libc::XATTR_REPLACE as u32,
                    addr3: pp,
                    ..Default::default()
                },
            ),
            (
                "fgetxattr",
                FgetXattr::new(Target::raw(4), name, &mut out).unwrap().build(),
                Fields { opcode: IORING_OP_FGETXATTR, fd: 4, addr: pn, len: 32, off: po, ..Default::default() },
            ),
            (
                "getxattr",
                GetXattr::new(path, name, &mut out[..16]).unwrap().build(),
                Fields { opcode: IORING_OP_GETXATTR, addr: pn, len: 16, off: po, addr3: pp, ..Default::default() },
            ),
        ]);
    }

    /// Values and buffers past `u32::MAX` bytes are refused, never cut to fit.
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn oversized_values_refused() {
        let mut huge = crate::op::test_util::TooLong::new();
        let refused = |r: crate::Result<()>| matches!(r, Err(crate::Error::InvalidArgument { .. }));
        assert!(refused(FsetXattr::new(Target::raw(3), c"user.k", huge.bytes()).map(drop)));
        assert!(refused(SetXattr::new(c"/", c"user.k", huge.bytes()).map(drop)));
        assert!(refused(GetXattr::new(c"/", c"user.k", huge.bytes()).map(drop)));
        assert!(refused(FgetXattr::new(Target::raw(3), c"user.k", huge.bytes()).map(drop)));
    }
}
