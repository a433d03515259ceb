//! The completion queue entry and its flags.

/// Completion queue entry: the result of one request (16 bytes; 32 on `IORING_SETUP_CQE32` rings).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct io_uring_cqe {
    /// The `user_data` of the submission this completes.
    pub user_data: u64,
    /// Result: what the matching syscall would return, or a negated errno.
    pub res: i32,
    /// `IORING_CQE_F_*` flags; the upper 16 bits hold a buffer id with `IORING_CQE_F_BUFFER`.
    pub flags: u32,
    /// 16 extra bytes on `IORING_SETUP_CQE32` rings (and for `IORING_CQE_F_32` CQEs on mixed rings).
    pub big_cqe: [u64; 0],
}
layout!(io_uring_cqe: size 16, align 8; user_data @ 0, res @ 8, flags @ 12, big_cqe @ 16);

/// `io_uring_cqe::flags`: the upper 16 bits are the id of the provided buffer used.
pub const IORING_CQE_F_BUFFER: u32 = 1 << 0;
/// `io_uring_cqe::flags`: the request stays armed and will post more CQEs (multishot).
pub const IORING_CQE_F_MORE: u32 = 1 << 1;
/// `io_uring_cqe::flags`: the socket still had data after this receive.
pub const IORING_CQE_F_SOCK_NONEMPTY: u32 = 1 << 2;
/// `io_uring_cqe::flags`: zero-copy send notification (buffer released), not a send result.
pub const IORING_CQE_F_NOTIF: u32 = 1 << 3;
/// `io_uring_cqe::flags`: the (incrementally consumed) buffer will be used for more completions (Linux 6.12).
pub const IORING_CQE_F_BUF_MORE: u32 = 1 << 4;
/// `io_uring_cqe::flags`: padding CQE filling the ring end before a big CQE; ignore it (Linux 6.18).
pub const IORING_CQE_F_SKIP: u32 = 1 << 5;
/// `io_uring_cqe::flags`: this is a 32-byte CQE on an `IORING_SETUP_CQE_MIXED` ring (Linux 6.18).
pub const IORING_CQE_F_32: u32 = 1 << 15;

/// Shift of the buffer id in `io_uring_cqe::flags` (with `IORING_CQE_F_BUFFER`).
pub const IORING_CQE_BUFFER_SHIFT: u32 = 16;

/// `io_uring_cqe::res` bit of a zero-copy notification: data was (at least partly) copied.
///
/// Only with `IORING_SEND_ZC_REPORT_USAGE`; the other bits of `res` are reserved.
pub const IORING_NOTIF_USAGE_ZC_COPIED: u32 = 1 << 31;

/// Shift of the hardware-timestamp bit in `io_uring_cqe::flags` (`SOCKET_URING_OP_TX_TIMESTAMP`).
pub const IORING_TIMESTAMP_HW_SHIFT: u32 = 16;
/// First bit of the timestamp type in `io_uring_cqe::flags` (`SOCKET_URING_OP_TX_TIMESTAMP`).
pub const IORING_TIMESTAMP_TYPE_SHIFT: u32 = IORING_TIMESTAMP_HW_SHIFT + 1;
/// `io_uring_cqe::flags`: the transmit timestamp comes from hardware.
pub const IORING_CQE_F_TSTAMP_HW: u32 = 1 << IORING_TIMESTAMP_HW_SHIFT;

/// Header at the start of each buffer filled by a multishot `IORING_OP_RECVMSG`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct io_uring_recvmsg_out {
    /// Length of the source address that follows (may exceed the space reserved for it).
    pub namelen: u32,
    /// Length of the control data that follows.
    pub controllen: u32,
    /// Length of the payload that follows.
    pub payloadlen: u32,
    /// `msg_flags` of the received message.
    pub flags: u32,
}
layout!(io_uring_recvmsg_out: size 16, align 4;
    namelen @ 0, controllen @ 4, payloadlen @ 8, flags @ 12);
