//! Receives: recv, recv from a buffer group, multishot recv, recvmsg, multishot recvmsg,
//! zero-copy receive.

use core::marker::PhantomData;

use uring_uapi::*;

use rustix::net::RecvFlags;

use super::{selectable, MsgArgs};
use crate::op::{len32, BufferGroup, Target};
use crate::sqe::Sqe;

/// `IORING_OP_RECV`: receives into a buffer, as `recv(2)` (`io_uring_prep_recv(3)`, Linux 5.6).
///
/// The result is the number of bytes received (0 at end of stream). To take the buffer from a
/// provided-buffer group instead, use [`RecvSelect`] or [`RecvMultishot`].
///
/// Memory: the kernel writes into `buf` until the operation completes; it must stay valid and
/// unmoved until then.
#[derive(Debug, Clone, Copy)]
pub struct Recv<'a> {
    m: MsgArgs,
    _buf: PhantomData<&'a mut [u8]>,
}

impl<'a> Recv<'a> {
    /// The operation code, `IORING_OP_RECV`.
    pub const CODE: u8 = IORING_OP_RECV;

    /// Receives into `buf` from `fd`. Refuses a buffer longer than `u32::MAX` bytes.
    /// See `io_uring_prep_recv(3)` (Linux 5.6).
    #[inline]
    pub fn new(fd: impl Into<Target>, buf: &'a mut [u8]) -> crate::Result<Self> {
        let len = len32(buf.len(), "receive buffer")?;
        Ok(Recv { m: MsgArgs::new(fd.into(), buf.as_mut_ptr() as u64, len, 0), _buf: PhantomData })
    }

    msg_setters! {
        /// `MSG_*` flags of the receive.
        msg_flags: RecvFlags;
        /// `IORING_RECVSEND_POLL_FIRST`: wait for data before the first attempt (Linux 5.19).
        poll_first;
        /// `IORING_RECVSEND_FIXED_BUF`: `buf` lies within registered buffer `buf_index`. No liburing
        /// helper; plain `RECV` accepts registered buffers only on kernels newer than 6.18 (which
        /// answers `EINVAL`).
        fixed_buf;
    }

    /// The entry. See the type's docs for the memory it points at.
    /// Encodes `IORING_OP_RECV`.
    #[inline]
    pub const fn build(self) -> Sqe {
        self.m.sqe(Self::CODE)
    }
}

/// `IORING_OP_RECV` with `IOSQE_BUFFER_SELECT`: receives once into a buffer taken from a
/// provided-buffer group (`io_uring_prep_recv(3)` with a NULL buffer and the group set, Linux
/// 5.7). With [`RecvSelect::bundle`], fills as many buffers as there is data (Linux 6.10).
///
/// The result is the number of bytes received; the completion names the buffer id used
/// ([`Cqe::buffer_id`](crate::Cqe::buffer_id)).
///
/// Memory: the entry points at no caller memory itself, but the kernel writes into one of the
/// group's buffers; the group's buffers must stay valid until the operation completes.
#[derive(Debug, Clone, Copy)]
pub struct RecvSelect {
    m: MsgArgs,
}

impl RecvSelect {
    /// The operation code, `IORING_OP_RECV`.
    pub const CODE: u8 = IORING_OP_RECV;

    /// Receives from `fd` into a buffer of `group`. Refuses kernel-managed groups.
    /// See `io_uring_prep_recv(3)` (Linux 5.7).
    pub fn new(fd: impl Into<Target>, group: &impl BufferGroup) -> crate::Result<Self> {
        Ok(RecvSelect { m: MsgArgs::selecting(fd.into(), group, 0)? })
    }

    msg_setters! {
        /// Receives at most `len` bytes (0, the default: up to the selected buffer's size).
        len;
        /// `MSG_*` flags of the receive.
        msg_flags: RecvFlags;
        /// `IORING_RECVSEND_POLL_FIRST`: wait for data before the first attempt.
        poll_first;
        /// `IORING_RECVSEND_BUNDLE`: fill several contiguous buffers of the group in one receive
        /// (Linux 6.10; no liburing helper).
        bundle;
    }

    /// The entry. See the type's docs for the memory the kernel uses.
    /// Encodes `IORING_OP_RECV`.
    #[inline]
    pub const fn build(self) -> Sqe {
        self.m.sqe(Self::CODE)
    }
}

/// `IORING_OP_RECV` with `IORING_RECV_MULTISHOT`: keeps receiving, one completion per receive,
/// each into a buffer taken from a provided-buffer group (`io_uring_prep_recv_multishot(3)`,
/// Linux 6.0).
///
/// Every completion but the last carries `IORING_CQE_F_MORE` and a buffer id. The operation
/// ends (a completion without `F_MORE`) at end of stream (result 0), on an error — `ENOBUFS`
/// when the group runs out of buffers — or when the [`RecvMultishot::limit`] is reached.
///
/// Memory: the entry points at no caller memory itself, but the kernel writes into the group's
/// buffers until the final completion; they must stay valid until then.
#[derive(Debug, Clone, Copy)]
pub struct RecvMultishot {
    m: MsgArgs,
}

impl RecvMultishot {
    /// The operation code, `IORING_OP_RECV`.
    pub const CODE: u8 = IORING_OP_RECV;

    /// Receives repeatedly from `fd` into buffers of `group`. Refuses kernel-managed groups.
    /// See `io_uring_prep_recv_multishot(3)` (Linux 6.0).
    pub fn new(fd: impl Into<Target>, group: &impl BufferGroup) -> crate::Result<Self> {
        Ok(RecvMultishot { m: MsgArgs::selecting(fd.into(), group, IORING_RECV_MULTISHOT)? })
    }

    msg_setters! {
        /// Receives at most `len` bytes per completion (`sqe.len`; 0, the default: up to each
        /// selected buffer's size).
        len;
    }

    /// Stops after `total` bytes have been received in all (`sqe.optlen`; 0, the default: no
    /// limit): the completion that reaches the limit comes without `IORING_CQE_F_MORE` and the
    /// receive must be re-armed (no liburing helper, Linux 6.17; older kernels answer `EINVAL`).
    #[inline]
    #[must_use]
    pub const fn limit(mut self, total: u32) -> Self {
        self.m.limit = total;
        self
    }

    msg_setters! {
        /// `MSG_*` flags of the receives (`MSG_WAITALL` is refused for multishot receives).
        msg_flags: RecvFlags;
        /// `IORING_RECVSEND_POLL_FIRST`: wait for data before the first attempt.
        poll_first;
        /// `IORING_RECVSEND_BUNDLE`: each completion may fill several contiguous buffers (Linux
        /// 6.10; no liburing helper).
        bundle;
    }

    /// The entry. See the type's docs for the memory the kernel uses.
    /// Encodes `IORING_OP_RECV`.
    #[inline]
    pub const fn build(self) -> Sqe {
        self.m.sqe(Self::CODE)
    }
}

/// `IORING_OP_RECVMSG`: receives a message, as `recvmsg(2)` (`io_uring_prep_recvmsg(3)`, Linux
/// 5.3). The result is the number of bytes received; the kernel updates `msg_namelen`,
/// `msg_controllen` and `msg_flags` in the `msghdr`.
///
/// With [`RecvMsg::buf_group`] the data goes into a buffer of a provided-buffer group instead
/// of the message's iovec (which must then have at most one entry, whose length bounds the
/// receive).
///
/// Memory: the kernel reads and writes the `msghdr` and everything it points at (name, iovec
/// array and its buffers, control buffer) until the operation completes; all must stay valid and
/// unmoved until then, as must the group's buffers if one is selected.
#[derive(Debug, Clone, Copy)]
pub struct RecvMsg<'a> {
    m: MsgArgs,
    _msg: PhantomData<&'a mut libc::msghdr>,
}

impl<'a> RecvMsg<'a> {
    /// The operation code, `IORING_OP_RECVMSG`.
    pub const CODE: u8 = IORING_OP_RECVMSG;

    /// Receives a message from `fd` as described by `msg`.
    /// See `io_uring_prep_recvmsg(3)` (Linux 5.3).
    #[inline]
    pub fn new(fd: impl Into<Target>, msg: &'a mut libc::msghdr) -> Self {
        RecvMsg { m: MsgArgs::new(fd.into(), msg as *mut libc::msghdr as u64, 1, 0), _msg: PhantomData }
    }

    msg_setters! {
        /// `MSG_*` flags of the receive.
        msg_flags: RecvFlags;
        /// `IORING_RECVSEND_POLL_FIRST`: wait for data before the first attempt.
        poll_first;
    }

    /// Takes the data buffer from `group` (`IOSQE_BUFFER_SELECT`). Refuses kernel-managed
    /// groups.
    pub fn buf_group(mut self, group: &impl BufferGroup) -> crate::Result<Self> {
        self.m.group = Some(selectable(group)?);
        Ok(self)
    }

    /// The entry. See the type's docs for the memory it points at.
    /// Encodes `IORING_OP_RECVMSG`.
    #[inline]
    pub const fn build(self) -> Sqe {
        self.m.sqe(Self::CODE)
    }
}

/// `IORING_OP_RECVMSG` with `IORING_RECV_MULTISHOT`: keeps receiving messages, each into a
/// buffer of a provided-buffer group (`io_uring_prep_recvmsg_multishot(3)`, Linux 6.0).
///
/// Each buffer holds an `io_uring_recvmsg_out` header, then `msg_namelen` bytes reserved for the
/// source address, `msg_controllen` bytes reserved for control data, then the payload; parse it
/// with [`RecvMsgOut::parse`](crate::buf::RecvMsgOut::parse), passing the `msghdr`'s
/// `msg_namelen` and `msg_controllen`. The `msghdr`'s iovec must be empty. Completions as for
/// [`RecvMultishot`].
///
/// Memory: the kernel reads the `msghdr` (its `msg_namelen` and `msg_controllen` describe every
/// buffer's layout) and writes into the group's buffers until the final completion; both must
/// stay valid until then.
#[derive(Debug, Clone, Copy)]
pub struct RecvMsgMultishot<'a> {
    m: MsgArgs,
    _msg: PhantomData<&'a libc::msghdr>,
}

impl<'a> RecvMsgMultishot<'a> {
    /// The operation code, `IORING_OP_RECVMSG`.
    pub const CODE: u8 = IORING_OP_RECVMSG;

    /// Receives messages from `fd` into buffers of `group`, laid out as `msg` says. Refuses
    /// kernel-managed groups.
    /// See `io_uring_prep_recvmsg_multishot(3)` (Linux 6.0).
    pub fn new(fd: impl Into<Target>, msg: &'a libc::msghdr, group: &impl BufferGroup) -> crate::Result<Self> {
        let m = MsgArgs::selecting(fd.into(), group, IORING_RECV_MULTISHOT)?;
        Ok(RecvMsgMultishot { m: MsgArgs { addr: msg as *const libc::msghdr as u64, len: 1, ..m }, _msg: PhantomData })
    }

    msg_setters! {
        /// `MSG_*` flags of the receives (`MSG_TRUNC` makes each header's `payloadlen` the full
        /// datagram length; `MSG_WAITALL` is refused).
        msg_flags: RecvFlags;
        /// `IORING_RECVSEND_POLL_FIRST`: wait for data before the first attempt.
        poll_first;
    }

    /// The entry. See the type's docs for the memory it points at.
    /// Encodes `IORING_OP_RECVMSG`.
    #[inline]
    pub const fn build(self) -> Sqe {
        self.m.sqe(Self::CODE)
    }
}

/// `IORING_OP_RECV_ZC`: zero-copy receive into the area of a registered zero-copy receive
/// interface queue (`IORING_REGISTER_ZCRX_IFQ`) (no liburing helper, Linux 6.15).
///
/// Always multishot: each completion is a 32-byte CQE whose extra half
/// (`io_uring_zcrx_cqe`) locates the data in the area; it needs an `IORING_SETUP_CQE32` (or
/// `CQE_MIXED`) ring and a socket whose traffic is steered to the queue.
///
/// Memory: the entry points at no caller memory itself, but the kernel writes into the
/// interface queue's registered area and refill ring, which must stay valid until the final
/// completion.
#[derive(Debug, Clone, Copy)]
pub struct RecvZc {
    m: MsgArgs,
    ifq_idx: u32,
}

impl RecvZc {
    /// The operation code, `IORING_OP_RECV_ZC`.
    pub const CODE: u8 = IORING_OP_RECV_ZC;

    /// Receives from `fd` through the zero-copy receive queue `ifq_idx` (the id the kernel
    /// returned when it was registered).
    /// Encodes `IORING_OP_RECV_ZC` (Linux 6.15).
    #[inline]
    pub fn new(fd: impl Into<Target>, ifq_idx: u32) -> Self {
        RecvZc { m: MsgArgs::new(fd.into(), 0, 0, IORING_RECV_MULTISHOT), ifq_idx }
    }

    msg_setters! {
        /// Stops after `len` bytes in all (0, the default: no limit).
        len;
        /// `IORING_RECVSEND_POLL_FIRST`: wait for data before the first attempt.
        poll_first;
    }

    /// The entry. See the type's docs for the memory the kernel uses.
    /// Encodes `IORING_OP_RECV_ZC`.
    #[inline]
    pub const fn build(self) -> Sqe {
        let mut sqe = self.m.sqe(Self::CODE);
        sqe.0.file.zcrx_ifq_idx = self.ifq_idx;
        sqe
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::op::test_util::{check, Fields, KernelGroup, FIXED, SELECT};
    use crate::op::{BufGroupId, Fixed};

    #[test]
    fn encodings() {
        let mut buf = [0u8; 32];
        let addr = buf.as_mut_ptr() as u64;
        let mut msg: libc::msghdr = crate::util::zeroed();
        let msg_addr = &mut msg as *mut libc::msghdr as u64;
        let multishot_all = IORING_RECV_MULTISHOT | IORING_RECVSEND_BUNDLE | IORING_RECVSEND_POLL_FIRST;
        check(&[
            (
                "recv",
                Recv::new(Target::raw(3), &mut buf).unwrap().build(),
                Fields { opcode: IORING_OP_RECV, fd: 3, addr, len: 32, ..Default::default() },
            ),
            (
                "recv with flags, polling first, fixed",
                Recv::new(Fixed(2), &mut buf).unwrap().msg_flags(RecvFlags::WAITALL).poll_first().build(),
                Fields {
                    opcode: IORING_OP_RECV,
                    fd: 2,
                    flags: FIXED,
                    ioprio: IORING_RECVSEND_POLL_FIRST,
                    addr,
                    len: 32,
                    op_flags: libc::MSG_WAITALL as u32,
                    ..Default::default()
                },
            ),
            (
                "recv into a registered buffer",
                Recv::new(Target::raw(3), &mut buf).unwrap().fixed_buf(3).build(),
                Fields {
                    opcode: IORING_OP_RECV,
                    fd: 3,
                    ioprio: IORING_RECVSEND_FIXED_BUF,
                    addr,
                    len: 32,
                    buf: 3,
                    ..Default::default()
                },
            ),
            (
                "recv, selected buffer",
                RecvSelect::new(Target::raw(3), &BufGroupId(4)).unwrap().build(),
                Fields { opcode: IORING_OP_RECV, fd: 3, flags: SELECT, buf: 4, ..Default::default() },
            ),
            (
                "recv bundle",
                RecvSelect::new(Target::raw(3), &BufGroupId(4))
                    .unwrap()
                    .len(512)
                    .bundle()
                    .poll_first()
                    .msg_flags(RecvFlags::PEEK)
                    .build(),
                Fields {
                    opcode: IORING_OP_RECV,
                    fd: 3,
                    flags: SELECT,
                    ioprio: IORING_RECVSEND_BUNDLE | IORING_RECVSEND_POLL_FIRST,
                    len: 512,
                    buf: 4,
                    op_flags: libc::MSG_PEEK as u32,
                    ..Default::default()
                },
            ),
            (
                "recv_multishot",
                RecvMultishot::new(Target::raw(3), &BufGroupId(2)).unwrap().build(),
                Fields {
                    opcode: IORING_OP_RECV,
                    fd: 3,
                    flags: SELECT,
                    ioprio: IORING_RECV_MULTISHOT,
                    buf: 2,
                    ..Default::default()
                },
            ),
            (
                "recv_multishot: per-completion cap in len, total limit in optlen",
                RecvMultishot::new(Fixed(1), &BufGroupId(2))
                    .unwrap()
                    .len(64)
                    .limit(1000)
                    .bundle()
                    .poll_first()
                    .msg_flags(RecvFlags::DONTWAIT)
                    .build(),
                Fields {
                    opcode: IORING_OP_RECV,
                    fd: 1,
                    flags: SELECT | FIXED,
                    ioprio: multishot_all,
                    len: 64,
                    file: 1000,
                    buf: 2,
                    op_flags: libc::MSG_DONTWAIT as u32,
                    ..Default::default()
                },
            ),
            (
                "recvmsg",
                RecvMsg::new(Target::raw(3), &mut msg).build(),
                Fields { opcode: IORING_OP_RECVMSG, fd: 3, addr: msg_addr, len: 1, ..Default::default() },
            ),
            (
                "recvmsg, selected buffer, fixed",
                RecvMsg::new(Fixed(0), &mut msg)
                    .msg_flags(RecvFlags::CMSG_CLOEXEC)
                    .poll_first()
                    .buf_group(&BufGroupId(6))
                    .unwrap()
                    .build(),
                Fields {
                    opcode: IORING_OP_RECVMSG,
                    fd: 0,
                    flags: FIXED | SELECT,
                    ioprio: IORING_RECVSEND_POLL_FIRST,
                    addr: msg_addr,
                    len: 1,
                    buf: 6,
                    op_flags: libc::MSG_CMSG_CLOEXEC as u32,
                    ..Default::default()
                },
            ),
            (
                "recvmsg_multishot",
                RecvMsgMultishot::new(Target::raw(3), &msg, &BufGroupId(8)).unwrap().build(),
                Fields {
                    opcode: IORING_OP_RECVMSG,
                    fd: 3,
                    flags: SELECT,
                    ioprio: IORING_RECV_MULTISHOT,
                    addr: msg_addr,
                    len: 1,
                    buf: 8,
                    ..Default::default()
                },
            ),
            (
                "recvmsg_multishot with flags, polling first",
                RecvMsgMultishot::new(Target::raw(3), &msg, &BufGroupId(8))
                    .unwrap()
                    .poll_first()
                    .msg_flags(RecvFlags::TRUNC)
                    .build(),
                Fields {
                    opcode: IORING_OP_RECVMSG,
                    fd: 3,
                    flags: SELECT,
                    ioprio: IORING_RECV_MULTISHOT | IORING_RECVSEND_POLL_FIRST,
                    addr: msg_addr,
                    len: 1,
                    buf: 8,
                    op_flags: libc::MSG_TRUNC as u32,
                    ..Default::default()
                },
            ),
            (
                "recv_zc",
                RecvZc::new(Target::raw(3), 2).build(),
                Fields {
                    opcode: IORING_OP_RECV_ZC,
                    fd: 3,
                    ioprio: IORING_RECV_MULTISHOT,
                    file: 2,
                    ..Default::default()
                },
            ),
            (
                "recv_zc with a limit, polling first, fixed",
                RecvZc::new(Fixed(1), 0).len(4096).poll_first().build(),
                Fields {
                    opcode: IORING_OP_RECV_ZC,
                    fd: 1,
                    flags: FIXED,
                    ioprio: IORING_RECV_MULTISHOT | IORING_RECVSEND_POLL_FIRST,
                    len: 4096,
                    ..Default::default()
                },
            ),
        ]);
    }

    /// A kernel-managed group is refused by every selecting receive.
    #[test]
    fn kernel_managed_groups_refused() {
        let (msg, mut msg2): (libc::msghdr, libc::msghdr) = (crate::util::zeroed(), crate::util::zeroed());
        assert!(matches!(RecvSelect::new(Target::raw(0), &KernelGroup), Err(crate::Error::InvalidArgument { .. })));
        assert!(RecvMultishot::new(Target::raw(0), &KernelGroup).is_err());
        assert!(RecvMsgMultishot::new(Target::raw(0), &msg, &KernelGroup).is_err());
        assert!(RecvMsg::new(Target::raw(0), &mut msg2).buf_group(&KernelGroup).is_err());
    }

    /// Buffers past `u32::MAX` bytes are refused, never cut to fit (the op module's rule).
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn oversized_buffers_refused() {
        let mut huge = crate::op::test_util::TooLong::new();
        assert!(matches!(Recv::new(Target::raw(0), huge.bytes()), Err(crate::Error::InvalidArgument { .. })));
    }
}
