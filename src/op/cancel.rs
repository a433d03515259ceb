//! Encoder of `IORING_OP_ASYNC_CANCEL`: cancel in-flight requests by `user_data`, file, opcode,
//! or all of them.

use core::marker::PhantomData;
use std::os::fd::{AsRawFd, BorrowedFd};

use uring_uapi::*;

use crate::op::{prep_rw, Fixed};
use crate::sqe::{FdSqe, SafeSqe, Sqe};

/// `IORING_OP_ASYNC_CANCEL`: cancels in-flight requests matching a key
/// (`io_uring_prep_cancel64(3)` and `io_uring_prep_cancel_fd(3)`; Linux 5.5, with the fd, any and
/// all keys from Linux 5.19 and the opcode key from Linux 6.6).
///
/// Start from a key ([`user_data`](AsyncCancel::user_data), [`fixed`](AsyncCancel::fixed),
/// [`fd`](AsyncCancel::fd), [`opcode`](AsyncCancel::opcode), or [`any`](AsyncCancel::any)); the
/// `and_*` setters add keys a request must also match, and [`all`](AsyncCancel::all) cancels every match rather than
/// the first. liburing's `io_uring_prep_cancel(3)`, which takes the `user_data` as a pointer, is
/// `AsyncCancel::user_data(ptr as u64)`.
///
/// The result is 0 (one request cancelled), the number cancelled with [`all`](AsyncCancel::all)
/// or [`any`](AsyncCancel::any), `-ENOENT` when nothing matched, or `-EALREADY` when the match
/// was already running and could not be interrupted. Cancelled requests complete with
/// `-ECANCELED` (or `-EINTR`).
///
/// Points at no memory: safe to push. A key naming an ordinary fd ([`fd`](AsyncCancel::fd),
/// [`and_fd`](AsyncCancel::and_fd)) makes an [`AsyncCancelFd`] instead, whose entry is an
/// [`FdSqe`]: the kernel looks the fd up when it issues the cancel, and a number closed and
/// reused by then would cancel requests on another file.
#[derive(Debug, Clone, Copy)]
pub struct AsyncCancel {
    flags: u32,
    user_data: u64,
    fd: i32,
    opcode: u8,
}

impl AsyncCancel {
    /// The operation code, `IORING_OP_ASYNC_CANCEL`.
    pub const CODE: u8 = IORING_OP_ASYNC_CANCEL;

    const NONE: AsyncCancel = AsyncCancel { flags: 0, user_data: 0, fd: -1, opcode: 0 };

    /// Cancels the request submitted with `user_data` (the default key).
    /// `IORING_OP_ASYNC_CANCEL` with `sqe.addr` = `user_data` (`io_uring_prep_cancel64(3)`, Linux
    /// 5.5).
    #[inline]
    pub const fn user_data(user_data: u64) -> Self {
        AsyncCancel { user_data, ..Self::NONE }
    }

    /// Cancels requests on the file `fd` (`IORING_ASYNC_CANCEL_FD`). Requests match by the file
    /// itself: a request made through a registered slot matches an fd of the same file, and the
    /// other way round. The borrow is for [`Submitter::sync_cancel`](crate::Submitter::sync_cancel),
    /// which uses the fd during the call only; the entry's push is `unsafe`
    /// ([`push_fd`](crate::SubmissionQueue::push_fd)).
    /// `io_uring_prep_cancel_fd(3)`, Linux 5.19.
    #[inline]
    pub fn fd(fd: BorrowedFd<'_>) -> AsyncCancelFd<'_> {
        Self::NONE.and_fd(fd)
    }

    /// Cancels requests on the file in registered slot `slot` (`IORING_ASYNC_CANCEL_FD` with
    /// `IORING_ASYNC_CANCEL_FD_FIXED`).
    /// See `io_uring_prep_cancel64(3)` (Linux 5.5).
    #[inline]
    pub const fn fixed(slot: Fixed) -> Self {
        Self::NONE.and_fixed(slot)
    }

    /// Cancels requests of the operation `opcode` (`IORING_ASYNC_CANCEL_OP`, Linux 6.6).
    #[inline]
    pub const fn opcode(opcode: u8) -> Self {
        Self::NONE.and_opcode(opcode)
    }

    /// Cancels every in-flight request (`IORING_ASYNC_CANCEL_ANY`, which the kernel treats as
    /// implying [`all`](AsyncCancel::all)); the result is the number cancelled, 0 when nothing
    /// was in flight. Cannot be combined with other keys.
    /// Linux 5.19.
    #[inline]
    pub const fn any() -> Self {
        AsyncCancel { flags: IORING_ASYNC_CANCEL_ANY, ..Self::NONE }
    }

    /// `IORING_ASYNC_CANCEL_ALL`: cancel every match, not only the first.
    #[inline]
    pub const fn all(mut self) -> Self {
        self.flags |= IORING_ASYNC_CANCEL_ALL;
        self
    }

    /// Also requires the request's `user_data` to be `user_data`
    /// (`IORING_ASYNC_CANCEL_USERDATA`, Linux 6.6).
    #[inline]
    pub const fn and_user_data(mut self, user_data: u64) -> Self {
        self.flags |= IORING_ASYNC_CANCEL_USERDATA;
        self.user_data = user_data;
        self
    }

    /// Also requires the request to work on the file `fd` (`IORING_ASYNC_CANCEL_FD`).
    #[inline]
    pub fn and_fd(mut self, fd: BorrowedFd<'_>) -> AsyncCancelFd<'_> {
        self.flags = (self.flags | IORING_ASYNC_CANCEL_FD) & !IORING_ASYNC_CANCEL_FD_FIXED;
        self.fd = fd.as_raw_fd();
        AsyncCancelFd { key: self, _fd: PhantomData }
    }

    /// Also requires the request to work on the file in registered slot `slot`
    /// (`IORING_ASYNC_CANCEL_FD` with `IORING_ASYNC_CANCEL_FD_FIXED`; the entry itself never
    /// takes `IOSQE_FIXED_FILE`).
    #[inline]
    pub const fn and_fixed(mut self, slot: Fixed) -> Self {
        self.flags |= IORING_ASYNC_CANCEL_FD | IORING_ASYNC_CANCEL_FD_FIXED;
        self.fd = slot.0 as i32;
        self
    }

    /// Also requires the request to be of operation `opcode` (`IORING_ASYNC_CANCEL_OP`,
    /// Linux 6.6).
    #[inline]
    pub const fn and_opcode(mut self, opcode: u8) -> Self {
        self.flags |= IORING_ASYNC_CANCEL_OP;
        self.opcode = opcode;
        self
    }

    #[inline]
    const fn sqe(self) -> Sqe {
        let mut sqe = prep_rw(Self::CODE, self.fd, self.user_data, self.opcode as u32, 0);
        sqe.0.op_flags.cancel_flags = self.flags;
        sqe
    }

    /// The entry.
    /// Encodes `IORING_OP_ASYNC_CANCEL`.
    #[inline]
    pub const fn build(self) -> SafeSqe {
        SafeSqe::new(self.sqe())
    }
}

/// An [`AsyncCancel`] whose key includes an ordinary fd ([`AsyncCancel::fd`],
/// [`AsyncCancel::and_fd`]). It borrows the fd, for
/// [`Submitter::sync_cancel`](crate::Submitter::sync_cancel); its entry is an [`FdSqe`], whose
/// push is `unsafe`: the fd must stay open until the cancel request completes.
/// The key `IORING_ASYNC_CANCEL_FD` (`io_uring_prep_cancel_fd(3)`, Linux 5.19).
#[derive(Debug, Clone, Copy)]
pub struct AsyncCancelFd<'fd> {
    key: AsyncCancel,
    _fd: PhantomData<BorrowedFd<'fd>>,
}

impl AsyncCancelFd<'_> {
    /// `IORING_ASYNC_CANCEL_ALL`: cancel every match, not only the first.
    #[inline]
    pub const fn all(mut self) -> Self {
        self.key = self.key.all();
        self
    }

    /// Also requires the request's `user_data` to be `user_data` (Linux 6.6).
    #[inline]
    pub const fn and_user_data(mut self, user_data: u64) -> Self {
        self.key = self.key.and_user_data(user_data);
        self
    }

    /// Also requires the request to be of operation `opcode` (Linux 6.6).
    #[inline]
    pub const fn and_opcode(mut self, opcode: u8) -> Self {
        self.key = self.key.and_opcode(opcode);
        self
    }

    /// Requires the request to work on the file `fd` instead (the last file key wins).
    /// (`IORING_ASYNC_CANCEL_FD`, Linux 5.19.)
    #[inline]
    pub fn and_fd(self, fd: BorrowedFd<'_>) -> AsyncCancelFd<'_> {
        self.key.and_fd(fd)
    }

    /// Requires the request to work on the file in registered slot `slot` instead (the last
    /// file key wins): the key then names no fd.
    /// (`IORING_ASYNC_CANCEL_FD_FIXED`.)
    #[inline]
    pub const fn and_fixed(self, slot: Fixed) -> AsyncCancel {
        self.key.and_fixed(slot)
    }

    /// The entry.
    #[inline]
    pub const fn build(self) -> FdSqe {
        FdSqe::new(self.key.sqe())
    }
}

/// A key for [`Submitter::sync_cancel`](crate::Submitter::sync_cancel): an [`AsyncCancel`], or
/// an [`AsyncCancelFd`] (whose fd is borrowed for the call). Sealed.
/// The call is `IORING_REGISTER_SYNC_CANCEL` (`io_uring_register_sync_cancel(3)`, Linux 6.0).
pub trait CancelKey: private::Sealed {}

mod private {
    /// The entry a cancel key encodes to (crate-internal).
    pub trait Sealed {
        fn key_sqe(&self) -> crate::sqe::Sqe;
    }
}

impl private::Sealed for AsyncCancel {
    fn key_sqe(&self) -> Sqe {
        self.sqe()
    }
}
impl CancelKey for AsyncCancel {}

impl private::Sealed for AsyncCancelFd<'_> {
    fn key_sqe(&self) -> Sqe {
        self.key.sqe()
    }
}
impl CancelKey for AsyncCancelFd<'_> {}

/// The entry of a cancel key (crate-internal, for the synchronous cancel).
#[inline]
pub(crate) fn key_sqe(key: &impl CancelKey) -> Sqe {
    key.key_sqe()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::op::test_util::{check, fields, Fields};
    use std::os::fd::AsFd;

    #[test]
    fn cancel_user_data() {
        check(&[
            (
                "cancel user data",
                AsyncCancel::user_data(0x1234).build().into(),
                Fields { opcode: IORING_OP_ASYNC_CANCEL, fd: -1, addr: 0x1234, ..Default::default() },
            ),
            (
                "cancel user data #2",
                AsyncCancel::user_data(5).all().build().into(),
                Fields {
                    opcode: IORING_OP_ASYNC_CANCEL,
                    fd: -1,
                    addr: 5,
                    op_flags: IORING_ASYNC_CANCEL_ALL,
                    ..Default::default()
                },
            ),
        ]);
    }

    #[test]
    fn cancel_fd() {
        let f = std::fs::File::open("/dev/null").unwrap();
        let fdn = f.as_raw_fd();
        let sqe = AsyncCancel::fd(f.as_fd()).build();
        assert!(sqe.into_safe().is_err(), "names an fd");
        assert_eq!(
            fields(sqe.sqe()),
            Fields { opcode: IORING_OP_ASYNC_CANCEL, fd: fdn, op_flags: IORING_ASYNC_CANCEL_FD, ..Default::default() }
        );
        check(&[(
            "cancel fd",
            AsyncCancel::fixed(Fixed(2)).all().build().into(),
            Fields {
                opcode: IORING_OP_ASYNC_CANCEL,
                fd: 2,
                op_flags: IORING_ASYNC_CANCEL_FD | IORING_ASYNC_CANCEL_FD_FIXED | IORING_ASYNC_CANCEL_ALL,
                ..Default::default()
            },
        )]);
    }

    #[test]
    fn cancel_opcode() {
        check(&[(
            "cancel opcode",
            AsyncCancel::opcode(IORING_OP_READ).all().build().into(),
            Fields {
                opcode: IORING_OP_ASYNC_CANCEL,
                fd: -1,
                len: IORING_OP_READ as u32,
                op_flags: IORING_ASYNC_CANCEL_OP | IORING_ASYNC_CANCEL_ALL,
                ..Default::default()
            },
        )]);
    }

    #[test]
    fn cancel_any() {
        check(&[(
            "cancel any",
            AsyncCancel::any().all().build().into(),
            Fields {
                opcode: IORING_OP_ASYNC_CANCEL,
                fd: -1,
                op_flags: IORING_ASYNC_CANCEL_ANY | IORING_ASYNC_CANCEL_ALL,
                ..Default::default()
            },
        )]);
    }

    #[test]
    fn cancel_combined_keys() {
        let f = std::fs::File::open("/dev/null").unwrap();
        check(&[(
            "cancel combined keys",
            AsyncCancel::fd(f.as_fd()).and_opcode(IORING_OP_READ).and_user_data(77).build().into(),
            Fields {
                opcode: IORING_OP_ASYNC_CANCEL,
                fd: f.as_raw_fd(),
                addr: 77,
                len: IORING_OP_READ as u32,
                op_flags: IORING_ASYNC_CANCEL_FD | IORING_ASYNC_CANCEL_OP | IORING_ASYNC_CANCEL_USERDATA,
                ..Default::default()
            },
        )]);
    }
}
