//! Sends: send, sendto, vectored send, send bundle, zero-copy send, sendmsg, zero-copy sendmsg.

use core::marker::PhantomData;
use std::io::IoSlice;

use uring_uapi::*;

use rustix::net::SendFlags;

use rustix::net::SocketAddrAny;

use super::MsgArgs;
use crate::op::{len32, BufferGroup, Target};
use crate::sqe::Sqe;

/// `IORING_OP_SEND`: sends a buffer on a socket, as `send(2)` (`io_uring_prep_send(3)`, Linux
/// 5.6); with [`Send::to`], as `sendto(2)` (`io_uring_prep_sendto(3)`, Linux 6.1).
///
/// The result is the number of bytes sent.
///
/// Memory: the kernel reads `buf` (and the destination address, copied at submission) until
/// the operation completes; they must stay valid and unmoved until then.
#[derive(Debug, Clone, Copy)]
pub struct Send<'a> {
    m: MsgArgs,
    _mem: PhantomData<(&'a [u8], &'a SocketAddrAny)>,
}

impl<'a> Send<'a> {
    /// The operation code, `IORING_OP_SEND`.
    pub const CODE: u8 = IORING_OP_SEND;

    /// Sends `buf` on `fd`. Refuses a buffer longer than `u32::MAX` bytes.
    /// See `io_uring_prep_send(3)` (Linux 5.6).
    #[inline]
    pub fn new(fd: impl Into<Target>, buf: &'a [u8]) -> crate::Result<Self> {
        let len = len32(buf.len(), "send buffer")?;
        Ok(Send { m: MsgArgs::new(fd.into(), buf.as_ptr() as u64, len, 0), _mem: PhantomData })
    }

    msg_setters! {
        /// `MSG_*` flags of the send.
        msg_flags: SendFlags;
        /// Sends to `addr` (an unconnected datagram socket's destination), as `sendto(2)`
        /// (Linux 6.1).
        to;
        /// `IORING_RECVSEND_POLL_FIRST`: wait for the socket to be writable before the first
        /// attempt (Linux 5.19).
        poll_first;
        /// `IORING_RECVSEND_FIXED_BUF`: `buf` lies within registered buffer `buf_index`
        /// (`sqe.buf_index`). No liburing helper. Plain `SEND` accepts registered buffers only on
        /// kernels newer than 6.18 (which answers `EINVAL`); [`SendZc::fixed_buf`] works since 6.0.
        fixed_buf;
    }

    /// The entry. See the type's docs for the memory it points at.
    /// Encodes `IORING_OP_SEND`.
    #[inline]
    pub const fn build(self) -> Sqe {
        self.m.sqe(Self::CODE)
    }
}

/// `IORING_OP_SEND` with `IORING_SEND_VECTORIZED`: sends the buffers of an iovec array without
/// a `msghdr`, as `writev(2)` on a socket (no liburing helper, Linux 6.17).
///
/// The result is the number of bytes sent.
///
/// Memory: the kernel reads the iovec array and every buffer it names (and the destination
/// address) until the operation completes; they must stay valid and unmoved until then.
#[derive(Debug, Clone, Copy)]
pub struct SendVectored<'a> {
    m: MsgArgs,
    _mem: PhantomData<(&'a [IoSlice<'a>], &'a SocketAddrAny)>,
}

impl<'a> SendVectored<'a> {
    /// The operation code, `IORING_OP_SEND`.
    pub const CODE: u8 = IORING_OP_SEND;

    /// Sends `bufs` in order on `fd` (`IoSlice` has the layout of `struct iovec`). Refuses more
    /// than `u32::MAX` iovecs.
    /// Encodes `IORING_OP_SEND` (Linux 5.6).
    #[inline]
    pub fn new(fd: impl Into<Target>, bufs: &'a [IoSlice<'a>]) -> crate::Result<Self> {
        let nr = len32(bufs.len(), "iovecs")?;
        let m = MsgArgs::new(fd.into(), bufs.as_ptr() as u64, nr, IORING_SEND_VECTORIZED);
        Ok(SendVectored { m, _mem: PhantomData })
    }

    msg_setters! {
        /// `MSG_*` flags of the send.
        msg_flags: SendFlags;
        /// Sends to `addr`, as `sendto(2)`.
        to;
        /// `IORING_RECVSEND_POLL_FIRST`: wait for the socket to be writable before the first
        /// attempt.
        poll_first;
    }

    /// The entry. See the type's docs for the memory it points at.
    /// Encodes `IORING_OP_SEND`.
    #[inline]
    pub const fn build(self) -> Sqe {
        self.m.sqe(Self::CODE)
    }
}

/// `IORING_OP_SEND` with `IORING_RECVSEND_BUNDLE`: sends as many buffers of a provided-buffer
/// ring as are queued (up to `len` bytes, 0 for no limit) in one operation
/// (`io_uring_prep_send_bundle(3)`, Linux 6.10).
///
/// The result is the number of bytes sent; the completion names the first buffer id used, and
/// the buffers used are contiguous from it. The group must be a buffer ring
/// (`IORING_REGISTER_PBUF_RING`) holding the data to send.
///
/// Memory: the entry points at no caller memory itself, but the kernel reads the group's
/// buffers until the operation completes; they must stay valid until then.
#[derive(Debug, Clone, Copy)]
pub struct SendBundle {
    m: MsgArgs,
}

impl SendBundle {
    /// The operation code, `IORING_OP_SEND`.
    pub const CODE: u8 = IORING_OP_SEND;

    /// Sends the buffers queued in `group` on `fd`. Refuses kernel-managed groups.
    /// See `io_uring_prep_send_bundle(3)` (Linux 6.10).
    pub fn new(fd: impl Into<Target>, group: &impl BufferGroup) -> crate::Result<Self> {
        Ok(SendBundle { m: MsgArgs::selecting(fd.into(), group, IORING_RECVSEND_BUNDLE)? })
    }

    msg_setters! {
        /// Sends at most `len` bytes (0, the default: as much as the queued buffers hold).
        len;
        /// `MSG_*` flags of the send.
        msg_flags: SendFlags;
        /// `IORING_RECVSEND_POLL_FIRST`: wait for the socket to be writable before the first
        /// attempt.
        poll_first;
    }

    /// The entry. See the type's docs for the memory the kernel uses.
    /// Encodes `IORING_OP_SEND`.
    #[inline]
    pub const fn build(self) -> Sqe {
        self.m.sqe(Self::CODE)
    }
}

/// `IORING_OP_SEND_ZC`: sends a buffer without copying it (`io_uring_prep_send_zc(3)`, Linux
/// 6.0); with [`SendZc::fixed_buf`], from a registered buffer
/// (`io_uring_prep_send_zc_fixed(3)`).
///
/// It usually posts two completions: the result (bytes sent) with `IORING_CQE_F_MORE`, then a
/// notification with `IORING_CQE_F_NOTIF` once the kernel no longer uses the buffer. A failed
/// send may post only the first, without `F_MORE`. The notification carries the entry's
/// `user_data`, or the one given to [`SendZc::notif_user_data`] (Linux 7.2).
///
/// Memory: the kernel reads `buf` (and the destination address) until the **notification**
/// completion, not just the first one; they must stay valid and unmoved until then.
#[derive(Debug, Clone, Copy)]
pub struct SendZc<'a> {
    m: MsgArgs,
    _mem: PhantomData<(&'a [u8], &'a SocketAddrAny)>,
}

impl<'a> SendZc<'a> {
    /// The operation code, `IORING_OP_SEND_ZC`.
    pub const CODE: u8 = IORING_OP_SEND_ZC;

    /// Sends `buf` on `fd` without copying. Refuses a buffer longer than `u32::MAX` bytes.
    /// See `io_uring_prep_send_zc(3)` (Linux 6.0).
    #[inline]
    pub fn new(fd: impl Into<Target>, buf: &'a [u8]) -> crate::Result<Self> {
        let len = len32(buf.len(), "send buffer")?;
        Ok(SendZc { m: MsgArgs::new(fd.into(), buf.as_ptr() as u64, len, 0), _mem: PhantomData })
    }

    msg_setters! {
        /// `MSG_*` flags of the send.
        msg_flags: SendFlags;
        /// Sends to `addr`, as `sendto(2)`.
        to;
        /// `IORING_RECVSEND_POLL_FIRST`: wait for the socket to be writable before the first
        /// attempt.
        poll_first;
        /// `IORING_SEND_ZC_REPORT_USAGE`: the notification's result tells whether the data was
        /// copied after all (`IORING_NOTIF_USAGE_ZC_COPIED`) or sent without copying (0) (Linux
        /// 6.2).
        report_usage;
        /// `IORING_RECVSEND_FIXED_BUF`: `buf` lies within registered buffer `buf_index`
        /// (`io_uring_prep_send_zc_fixed(3)`).
        fixed_buf;
        /// `sqe.addr3`: the notification completion carries `user_data` instead of the entry's
        /// own (0, the default, keeps the entry's), so buffer release can be told from the send's
        /// result by `user_data` alone (Linux 7.2; there is no flag: older kernels refuse a
        /// non-zero `addr3` with `EINVAL`). No liburing helper sets it.
        notif_user_data;
    }

    /// The entry. See the type's docs for the memory it points at.
    /// Encodes `IORING_OP_SEND_ZC`.
    #[inline]
    pub const fn build(self) -> Sqe {
        self.m.sqe(Self::CODE)
    }
}

/// `IORING_OP_SEND_ZC` with `IORING_SEND_VECTORIZED`: a zero-copy send of the buffers of an
/// iovec array (no liburing helper, Linux 6.17). With [`SendZcVectored::fixed_buf`] the
/// iovecs lie within one registered buffer.
///
/// Completions as for [`SendZc`].
///
/// Memory: the kernel reads the iovec array and every buffer it names (and the destination
/// address) until the **notification** completion; they must stay valid and unmoved until then.
#[derive(Debug, Clone, Copy)]
pub struct SendZcVectored<'a> {
    m: MsgArgs,
    _mem: PhantomData<(&'a [IoSlice<'a>], &'a SocketAddrAny)>,
}

impl<'a> SendZcVectored<'a> {
    /// The operation code, `IORING_OP_SEND_ZC`.
    pub const CODE: u8 = IORING_OP_SEND_ZC;

    /// Sends `bufs` in order on `fd` without copying. Refuses more than `u32::MAX` iovecs.
    /// Encodes `IORING_OP_SEND_ZC` (Linux 6.0).
    #[inline]
    pub fn new(fd: impl Into<Target>, bufs: &'a [IoSlice<'a>]) -> crate::Result<Self> {
        let nr = len32(bufs.len(), "iovecs")?;
        let m = MsgArgs::new(fd.into(), bufs.as_ptr() as u64, nr, IORING_SEND_VECTORIZED);
        Ok(SendZcVectored { m, _mem: PhantomData })
    }

    msg_setters! {
        /// `MSG_*` flags of the send.
        msg_flags: SendFlags;
        /// Sends to `addr`, as `sendto(2)`.
        to;
        /// `IORING_RECVSEND_POLL_FIRST`: wait for the socket to be writable first.
        poll_first;
        /// `IORING_SEND_ZC_REPORT_USAGE`: the notification reports whether the data was copied.
        report_usage;
        /// `IORING_RECVSEND_FIXED_BUF`: every iovec lies within registered buffer `buf_index`.
        fixed_buf;
        /// `sqe.addr3`: the notification completion carries `user_data` instead of the entry's
        /// own (0, the default, keeps the entry's), so buffer release can be told from the send's
        /// result by `user_data` alone (Linux 7.2; there is no flag: older kernels refuse a
        /// non-zero `addr3` with `EINVAL`). No liburing helper sets it.
        notif_user_data;
    }

    /// The entry. See the type's docs for the memory it points at.
    /// Encodes `IORING_OP_SEND_ZC`.
    #[inline]
    pub const fn build(self) -> Sqe {
        self.m.sqe(Self::CODE)
    }
}

/// `IORING_OP_SENDMSG`: sends a message, as `sendmsg(2)` (`io_uring_prep_sendmsg(3)`, Linux
/// 5.3). The result is the number of bytes sent.
///
/// Memory: the kernel reads the `msghdr` and everything it points at (name, iovec array and its
/// buffers, control data) until the operation completes; all must stay valid and unmoved until
/// then.
#[derive(Debug, Clone, Copy)]
pub struct SendMsg<'a> {
    m: MsgArgs,
    _msg: PhantomData<&'a libc::msghdr>,
}

impl<'a> SendMsg<'a> {
    /// The operation code, `IORING_OP_SENDMSG`.
    pub const CODE: u8 = IORING_OP_SENDMSG;

    /// Sends the message `msg` on `fd`.
    /// See `io_uring_prep_sendmsg(3)` (Linux 5.3).
    #[inline]
    pub fn new(fd: impl Into<Target>, msg: &'a libc::msghdr) -> Self {
        SendMsg { m: MsgArgs::new(fd.into(), msg as *const libc::msghdr as u64, 1, 0), _msg: PhantomData }
    }

    msg_setters! {
        /// `MSG_*` flags of the send.
        msg_flags: SendFlags;
        /// `IORING_RECVSEND_POLL_FIRST`: wait for the socket to be writable first.
        poll_first;
    }

    /// The entry. See the type's docs for the memory it points at.
    /// Encodes `IORING_OP_SENDMSG`.
    #[inline]
    pub const fn build(self) -> Sqe {
        self.m.sqe(Self::CODE)
    }
}

/// `IORING_OP_SENDMSG_ZC`: a zero-copy `sendmsg` (`io_uring_prep_sendmsg_zc(3)`, Linux 6.1);
/// with [`SendMsgZc::fixed_buf`], from a registered buffer
/// (`io_uring_prep_sendmsg_zc_fixed(3)`, Linux 6.15).
///
/// Completions as for [`SendZc`]: the result with `IORING_CQE_F_MORE`, then a notification.
///
/// Memory: the kernel reads the `msghdr` and everything it points at until the
/// **notification** completion; all must stay valid and unmoved until then.
#[derive(Debug, Clone, Copy)]
pub struct SendMsgZc<'a> {
    m: MsgArgs,
    _msg: PhantomData<&'a libc::msghdr>,
}

impl<'a> SendMsgZc<'a> {
    /// The operation code, `IORING_OP_SENDMSG_ZC`.
    pub const CODE: u8 = IORING_OP_SENDMSG_ZC;

    /// Sends the message `msg` on `fd` without copying its data.
    /// See `io_uring_prep_sendmsg_zc(3)` (Linux 6.1).
    #[inline]
    pub fn new(fd: impl Into<Target>, msg: &'a libc::msghdr) -> Self {
        SendMsgZc { m: MsgArgs::new(fd.into(), msg as *const libc::msghdr as u64, 1, 0), _msg: PhantomData }
    }

    msg_setters! {
        /// `MSG_*` flags of the send.
        msg_flags: SendFlags;
        /// `IORING_RECVSEND_POLL_FIRST`: wait for the socket to be writable first.
        poll_first;
        /// `IORING_SEND_ZC_REPORT_USAGE`: the notification reports whether the data was copied.
        report_usage;
        /// `IORING_RECVSEND_FIXED_BUF`: the message's iovecs lie within registered buffer
        /// `buf_index`.
        fixed_buf;
        /// `sqe.addr3`: the notification completion carries `user_data` instead of the entry's
        /// own (0, the default, keeps the entry's), so buffer release can be told from the send's
        /// result by `user_data` alone (Linux 7.2; there is no flag: older kernels refuse a
        /// non-zero `addr3` with `EINVAL`). No liburing helper sets it.
        notif_user_data;
    }

    /// The entry. See the type's docs for the memory it points at.
    /// Encodes `IORING_OP_SENDMSG_ZC`.
    #[inline]
    pub const fn build(self) -> Sqe {
        self.m.sqe(Self::CODE)
    }
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, SocketAddrV4};

    use super::*;
    use crate::op::test_util::{check, Fields, FIXED, SELECT};
    use crate::op::{BufGroupId, Fixed};

    #[test]
    fn encodings() {
        let buf = [0u8; 64];
        let addr = buf.as_ptr() as u64;
        let to = SocketAddrAny::from(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 9));
        let (a, b) = ([1u8; 3], [2u8; 4]);
        let iov = [IoSlice::new(&a), IoSlice::new(&b)];
        let iov_addr = iov.as_ptr() as u64;
        let msg: libc::msghdr = crate::util::zeroed();
        let msg_addr = &msg as *const libc::msghdr as u64;
        let nosig_more = SendFlags::NOSIGNAL | SendFlags::MORE;
        check(&[
            (
                "send",
                Send::new(Target::raw(3), &buf[..10]).unwrap().build(),
                Fields { opcode: IORING_OP_SEND, fd: 3, addr, len: 10, ..Default::default() },
            ),
            (
                "send with flags, polling first, fixed",
                Send::new(Fixed(2), &buf[..10]).unwrap().msg_flags(nosig_more).poll_first().build().user_data(1),
                Fields {
                    opcode: IORING_OP_SEND,
                    fd: 2,
                    flags: FIXED,
                    ioprio: IORING_RECVSEND_POLL_FIRST,
                    addr,
                    len: 10,
                    op_flags: nosig_more.bits(),
                    user_data: 1,
                    ..Default::default()
                },
            ),
            (
                "sendto: addr2 and the 16-bit addr_len",
                Send::new(Target::raw(3), &buf[..10]).unwrap().to(&to).build(),
                Fields {
                    opcode: IORING_OP_SEND,
                    fd: 3,
                    addr,
                    len: 10,
                    off: to.as_ptr() as u64,
                    file: 16,
                    ..Default::default()
                },
            ),
            (
                "send from a registered buffer",
                Send::new(Target::raw(3), &buf[..10]).unwrap().fixed_buf(4).build(),
                Fields {
                    opcode: IORING_OP_SEND,
                    fd: 3,
                    addr,
                    len: 10,
                    ioprio: IORING_RECVSEND_FIXED_BUF,
                    buf: 4,
                    ..Default::default()
                },
            ),
            (
                "vectored send",
                SendVectored::new(Target::raw(3), &iov)
                    .unwrap()
                    .to(&to)
                    .poll_first()
                    .msg_flags(SendFlags::DONTWAIT)
                    .build(),
                Fields {
                    opcode: IORING_OP_SEND,
                    fd: 3,
                    ioprio: IORING_SEND_VECTORIZED | IORING_RECVSEND_POLL_FIRST,
                    addr: iov_addr,
                    len: 2,
                    op_flags: libc::MSG_DONTWAIT as u32,
                    off: to.as_ptr() as u64,
                    file: 16,
                    ..Default::default()
                },
            ),
            (
                "send_bundle",
                SendBundle::new(Target::raw(3), &BufGroupId(7)).unwrap().len(100).msg_flags(SendFlags::MORE).build(),
                Fields {
                    opcode: IORING_OP_SEND,
                    fd: 3,
                    flags: SELECT,
                    ioprio: IORING_RECVSEND_BUNDLE,
                    len: 100,
                    op_flags: libc::MSG_MORE as u32,
                    buf: 7,
                    ..Default::default()
                },
            ),
            (
                "send_bundle, polling first, fixed",
                SendBundle::new(Fixed(0), &BufGroupId(1)).unwrap().poll_first().build(),
                Fields {
                    opcode: IORING_OP_SEND,
                    fd: 0,
                    flags: SELECT | FIXED,
                    ioprio: IORING_RECVSEND_BUNDLE | IORING_RECVSEND_POLL_FIRST,
                    buf: 1,
                    ..Default::default()
                },
            ),
            (
                "send_zc",
                SendZc::new(Target::raw(3), &buf).unwrap().build(),
                Fields { opcode: IORING_OP_SEND_ZC, fd: 3, addr, len: 64, ..Default::default() },
            ),
            (
                "send_zc_fixed with REPORT_USAGE and a destination",
                SendZc::new(Target::raw(3), &buf)
                    .unwrap()
                    .report_usage()
                    .fixed_buf(9)
                    .to(&to)
                    .msg_flags(SendFlags::NOSIGNAL)
                    .build(),
                Fields {
                    opcode: IORING_OP_SEND_ZC,
                    fd: 3,
                    ioprio: IORING_SEND_ZC_REPORT_USAGE | IORING_RECVSEND_FIXED_BUF,
                    addr,
                    len: 64,
                    buf: 9,
                    off: to.as_ptr() as u64,
                    file: 16,
                    op_flags: libc::MSG_NOSIGNAL as u32,
                    ..Default::default()
                },
            ),
            (
                "send_zc with a notification user_data (addr3)",
                SendZc::new(Target::raw(3), &buf).unwrap().notif_user_data(0xfeed).build().user_data(7),
                Fields {
                    opcode: IORING_OP_SEND_ZC,
                    fd: 3,
                    addr,
                    len: 64,
                    user_data: 7,
                    addr3: 0xfeed,
                    ..Default::default()
                },
            ),
            (
                "vectored send_zc and sendmsg_zc take it too",
                SendZcVectored::new(Target::raw(3), &iov[..1]).unwrap().notif_user_data(1).build(),
                Fields {
                    opcode: IORING_OP_SEND_ZC,
                    fd: 3,
                    ioprio: IORING_SEND_VECTORIZED,
                    addr: iov_addr,
                    len: 1,
                    addr3: 1,
                    ..Default::default()
                },
            ),
            (
                "sendmsg_zc with a notification user_data",
                SendMsgZc::new(Target::raw(3), &msg).notif_user_data(u64::MAX).build(),
                Fields {
                    opcode: IORING_OP_SENDMSG_ZC,
                    fd: 3,
                    addr: msg_addr,
                    len: 1,
                    addr3: u64::MAX,
                    ..Default::default()
                },
            ),
            (
                "send_zc, polling first",
                SendZc::new(Target::raw(3), &buf).unwrap().poll_first().build(),
                Fields {
                    opcode: IORING_OP_SEND_ZC,
                    fd: 3,
                    ioprio: IORING_RECVSEND_POLL_FIRST,
                    addr,
                    len: 64,
                    ..Default::default()
                },
            ),
            (
                "vectored send_zc from a registered buffer, fixed",
                SendZcVectored::new(Fixed(4), &iov[..1]).unwrap().fixed_buf(2).report_usage().poll_first().build(),
                Fields {
                    opcode: IORING_OP_SEND_ZC,
                    fd: 4,
                    flags: FIXED,
                    ioprio: IORING_SEND_VECTORIZED
                        | IORING_RECVSEND_FIXED_BUF
                        | IORING_SEND_ZC_REPORT_USAGE
                        | IORING_RECVSEND_POLL_FIRST,
                    addr: iov_addr,
                    len: 1,
                    buf: 2,
                    ..Default::default()
                },
            ),
            (
                "vectored send_zc to an address",
                SendZcVectored::new(Target::raw(1), &iov[..1]).unwrap().to(&to).msg_flags(SendFlags::MORE).build(),
                Fields {
                    opcode: IORING_OP_SEND_ZC,
                    fd: 1,
                    ioprio: IORING_SEND_VECTORIZED,
                    addr: iov_addr,
                    len: 1,
                    off: to.as_ptr() as u64,
                    file: 16,
                    op_flags: libc::MSG_MORE as u32,
                    ..Default::default()
                },
            ),
            (
                "sendmsg",
                SendMsg::new(Target::raw(3), &msg).build(),
                Fields { opcode: IORING_OP_SENDMSG, fd: 3, addr: msg_addr, len: 1, ..Default::default() },
            ),
            (
                "sendmsg with flags, polling first, fixed",
                SendMsg::new(Fixed(1), &msg).msg_flags(SendFlags::EOR).poll_first().build(),
                Fields {
                    opcode: IORING_OP_SENDMSG,
                    fd: 1,
                    flags: FIXED,
                    ioprio: IORING_RECVSEND_POLL_FIRST,
                    addr: msg_addr,
                    len: 1,
                    op_flags: libc::MSG_EOR as u32,
                    ..Default::default()
                },
            ),
            (
                "sendmsg_zc",
                SendMsgZc::new(Target::raw(3), &msg).build(),
                Fields { opcode: IORING_OP_SENDMSG_ZC, fd: 3, addr: msg_addr, len: 1, ..Default::default() },
            ),
            (
                "sendmsg_zc_fixed",
                SendMsgZc::new(Target::raw(3), &msg)
                    .fixed_buf(5)
                    .report_usage()
                    .poll_first()
                    .msg_flags(SendFlags::NOSIGNAL)
                    .build(),
                Fields {
                    opcode: IORING_OP_SENDMSG_ZC,
                    fd: 3,
                    ioprio: IORING_RECVSEND_FIXED_BUF | IORING_SEND_ZC_REPORT_USAGE | IORING_RECVSEND_POLL_FIRST,
                    addr: msg_addr,
                    len: 1,
                    buf: 5,
                    op_flags: libc::MSG_NOSIGNAL as u32,
                    ..Default::default()
                },
            ),
        ]);
        // IoSlice is laid out as struct iovec.
        assert_eq!(core::mem::size_of::<IoSlice<'_>>(), core::mem::size_of::<libc::iovec>());
    }

    /// A kernel-managed group is refused by the bundle send.
    #[test]
    fn kernel_managed_groups_refused() {
        assert!(matches!(
            SendBundle::new(Target::raw(0), &crate::op::test_util::KernelGroup),
            Err(crate::Error::InvalidArgument { .. })
        ));
    }

    /// Buffers past `u32::MAX` bytes are refused, never cut to fit (the op module's rule).
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn oversized_buffers_refused() {
        let mut huge = crate::op::test_util::TooLong::new();
        assert!(matches!(Send::new(Target::raw(0), huge.bytes()), Err(crate::Error::InvalidArgument { .. })));
        assert!(SendZc::new(Target::raw(0), huge.bytes()).is_err());
    }
}
