//! Encoder of `IORING_OP_ASYNC_CANCEL`: cancel in-flight requests by `user_data`, file, opcode,
//! or all of them.

use uring_uapi::*;

use crate::op::{prep_rw, Target};
use crate::sqe::SafeSqe;

/// `IORING_OP_ASYNC_CANCEL`: cancels in-flight requests matching a key
/// (`io_uring_prep_cancel64(3)` and `io_uring_prep_cancel_fd(3)`; Linux 5.5, with the fd, any and
/// all keys from Linux 5.19 and the opcode key from Linux 6.6).
///
/// Start from a key ([`user_data`](AsyncCancel::user_data), [`fd`](AsyncCancel::fd),
/// [`opcode`](AsyncCancel::opcode), or [`any`](AsyncCancel::any)); the `and_*` setters add
/// keys a request must also match, and [`all`](AsyncCancel::all) cancels every match rather than
/// the first. liburing's `io_uring_prep_cancel(3)`, which takes the `user_data` as a pointer, is
/// `AsyncCancel::user_data(ptr as u64)`.
///
/// The result is 0 (one request cancelled), the number cancelled with [`all`](AsyncCancel::all)
/// or [`any`](AsyncCancel::any), `-ENOENT` when nothing matched, or `-EALREADY` when the match
/// was already running and could not be interrupted. Cancelled requests complete with
/// `-ECANCELED` (or `-EINTR`).
///
/// Points at no memory: safe to push.
#[derive(Debug, Clone, Copy)]
pub struct AsyncCancel {
    flags: u32,
    user_data: u64,
    fd: i32,
    opcode: u8,
}

impl AsyncCancel {
    /// The operation code.
    pub const CODE: u8 = IORING_OP_ASYNC_CANCEL;

    const NONE: AsyncCancel = AsyncCancel { flags: 0, user_data: 0, fd: -1, opcode: 0 };

    /// Cancels the request submitted with `user_data` (the default key).
    #[inline]
    pub const fn user_data(user_data: u64) -> Self {
        AsyncCancel { user_data, ..Self::NONE }
    }

    /// Cancels requests on the file `fd` (`IORING_ASYNC_CANCEL_FD`; a registered slot adds
    /// `IORING_ASYNC_CANCEL_FD_FIXED`). Requests match by the file itself: a request made through
    /// a registered slot matches an fd of the same file, and the other way round.
    #[inline]
    pub fn fd(fd: impl Into<Target>) -> Self {
        Self::NONE.and_fd(fd)
    }

    /// Cancels requests of the operation `opcode` (`IORING_ASYNC_CANCEL_OP`, Linux 6.6).
    #[inline]
    pub const fn opcode(opcode: u8) -> Self {
        Self::NONE.and_opcode(opcode)
    }

    /// Cancels every in-flight request (`IORING_ASYNC_CANCEL_ANY`, which the kernel treats as
    /// implying [`all`](AsyncCancel::all)); the result is the number cancelled, 0 when nothing
    /// was in flight. Cannot be combined with other keys.
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

    /// Also requires the request to work on `fd` (`IORING_ASYNC_CANCEL_FD`, plus
    /// `IORING_ASYNC_CANCEL_FD_FIXED` for a registered slot; the entry itself never takes
    /// `IOSQE_FIXED_FILE`).
    #[inline]
    pub fn and_fd(mut self, fd: impl Into<Target>) -> Self {
        let fd = fd.into();
        self.flags |= IORING_ASYNC_CANCEL_FD;
        if fd.is_fixed() {
            self.flags |= IORING_ASYNC_CANCEL_FD_FIXED;
        } else {
            self.flags &= !IORING_ASYNC_CANCEL_FD_FIXED;
        }
        self.fd = fd.sqe_fd();
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

    /// The entry.
    #[inline]
    pub const fn build(self) -> SafeSqe {
        let mut sqe = prep_rw(Self::CODE, self.fd, self.user_data, self.opcode as u32, 0);
        sqe.0.op_flags.cancel_flags = self.flags;
        SafeSqe::new(sqe)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::op::test_util::{fields, Fields};

    #[test]
    fn cancel_user_data() {
        let sqe = AsyncCancel::user_data(0x1234).build();
        assert_eq!(
            fields(sqe.sqe()),
            Fields { opcode: IORING_OP_ASYNC_CANCEL, fd: -1, addr: 0x1234, ..Default::default() }
        );
        let sqe = AsyncCancel::user_data(5).all().build();
        assert_eq!(
            fields(sqe.sqe()),
            Fields {
                opcode: IORING_OP_ASYNC_CANCEL,
                fd: -1,
                addr: 5,
                op_flags: IORING_ASYNC_CANCEL_ALL,
                ..Default::default()
            }
        );
    }

    #[test]
    fn cancel_fd() {
        let sqe = AsyncCancel::fd(Target::Fd(9)).build();
        assert_eq!(
            fields(sqe.sqe()),
            Fields { opcode: IORING_OP_ASYNC_CANCEL, fd: 9, op_flags: IORING_ASYNC_CANCEL_FD, ..Default::default() }
        );
        let sqe = AsyncCancel::fd(crate::op::Fixed(2)).all().build();
        assert_eq!(
            fields(sqe.sqe()),
            Fields {
                opcode: IORING_OP_ASYNC_CANCEL,
                fd: 2,
                op_flags: IORING_ASYNC_CANCEL_FD | IORING_ASYNC_CANCEL_FD_FIXED | IORING_ASYNC_CANCEL_ALL,
                ..Default::default()
            }
        );
    }

    #[test]
    fn cancel_opcode() {
        let sqe = AsyncCancel::opcode(IORING_OP_READ).all().build();
        assert_eq!(
            fields(sqe.sqe()),
            Fields {
                opcode: IORING_OP_ASYNC_CANCEL,
                fd: -1,
                len: IORING_OP_READ as u32,
                op_flags: IORING_ASYNC_CANCEL_OP | IORING_ASYNC_CANCEL_ALL,
                ..Default::default()
            }
        );
    }

    #[test]
    fn cancel_any() {
        let sqe = AsyncCancel::any().all().build();
        assert_eq!(
            fields(sqe.sqe()),
            Fields {
                opcode: IORING_OP_ASYNC_CANCEL,
                fd: -1,
                op_flags: IORING_ASYNC_CANCEL_ANY | IORING_ASYNC_CANCEL_ALL,
                ..Default::default()
            }
        );
    }

    #[test]
    fn cancel_combined_keys() {
        let sqe = AsyncCancel::fd(Target::Fd(4)).and_opcode(IORING_OP_READ).and_user_data(77).build();
        assert_eq!(
            fields(sqe.sqe()),
            Fields {
                opcode: IORING_OP_ASYNC_CANCEL,
                fd: 4,
                addr: 77,
                len: IORING_OP_READ as u32,
                op_flags: IORING_ASYNC_CANCEL_FD | IORING_ASYNC_CANCEL_OP | IORING_ASYNC_CANCEL_USERDATA,
                ..Default::default()
            }
        );
    }
}
