//! The submission queue entry, its flags, the opcodes and the per-opcode flags.

/// Submission queue entry: one I/O request (64 bytes; 128 on `IORING_SETUP_SQE128` rings).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct io_uring_sqe {
    /// Operation, an `IORING_OP_*` value.
    pub opcode: u8,
    /// `IOSQE_*` flags.
    pub flags: u8,
    /// I/O priority; for some opcodes a flag word (`IORING_RECVSEND_*`, `IORING_ACCEPT_*`).
    pub ioprio: u16,
    /// File descriptor (or fixed-file index with `IOSQE_FIXED_FILE`) to operate on.
    pub fd: i32,
    /// File offset, second address, or uring_cmd opcode.
    pub off: io_uring_sqe_off,
    /// Buffer or iovec address, splice input offset, or socket option level/name.
    pub addr: io_uring_sqe_addr,
    /// Buffer length or iovec count.
    pub len: u32,
    /// Opcode-specific flag word.
    pub op_flags: io_uring_sqe_op_flags,
    /// Opaque value copied back into the completion's `user_data`.
    pub user_data: u64,
    /// Fixed buffer index or provided-buffer group (packed union).
    pub buf: io_uring_sqe_buf,
    /// Registered credentials (personality id) to run the request with; 0 for none.
    pub personality: u16,
    /// Splice input fd, direct-descriptor slot, zcrx queue, option length, address length or write stream.
    pub file: io_uring_sqe_file,
    /// Third address, attribute pointer/mask, option value, or start of the uring_cmd payload.
    pub addr3: io_uring_sqe_addr3,
}
layout!(io_uring_sqe: size 64, align 8;
    opcode @ 0, flags @ 1, ioprio @ 2, fd @ 4, off @ 8, addr @ 16, len @ 24, op_flags @ 28,
    user_data @ 32, buf @ 40, personality @ 42, file @ 44, addr3 @ 48);

/// `io_uring_sqe` bytes 8..16: the first anonymous union.
#[repr(C)]
#[derive(Clone, Copy)]
pub union io_uring_sqe_off {
    /// Offset into the file.
    pub off: u64,
    /// Second address (e.g. the `sockaddr` length pointer of accept, the old path of rename).
    pub addr2: u64,
    /// uring_cmd opcode (`IORING_OP_URING_CMD`) and padding.
    pub cmd_op: io_uring_sqe_cmd_op,
}
layout!(io_uring_sqe_off: size 8, align 8; off @ 0, addr2 @ 0, cmd_op @ 0);
union_default!(io_uring_sqe_off { off: 0 });
union_debug!(io_uring_sqe_off, off);

/// uring_cmd opcode member of [`io_uring_sqe_off`].
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct io_uring_sqe_cmd_op {
    /// Command opcode interpreted by the target file (e.g. `SOCKET_URING_OP_*`).
    pub cmd_op: u32,
    /// Padding.
    pub __pad1: u32,
}
layout!(io_uring_sqe_cmd_op: size 8, align 4; cmd_op @ 0, __pad1 @ 4);

/// `io_uring_sqe` bytes 16..24: the second anonymous union.
#[repr(C)]
#[derive(Clone, Copy)]
pub union io_uring_sqe_addr {
    /// Pointer to the buffer or iovec array.
    pub addr: u64,
    /// Input offset for `IORING_OP_SPLICE`.
    pub splice_off_in: u64,
    /// Socket option level and name for socket uring_cmds.
    pub sockopt: io_uring_sqe_sockopt,
}
layout!(io_uring_sqe_addr: size 8, align 8; addr @ 0, splice_off_in @ 0, sockopt @ 0);
union_default!(io_uring_sqe_addr { addr: 0 });
union_debug!(io_uring_sqe_addr, addr);

/// Socket option member of [`io_uring_sqe_addr`] (`SOCKET_URING_OP_[GS]ETSOCKOPT`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct io_uring_sqe_sockopt {
    /// Option level (`SOL_*`).
    pub level: u32,
    /// Option name (`SO_*`, ...).
    pub optname: u32,
}
layout!(io_uring_sqe_sockopt: size 8, align 4; level @ 0, optname @ 4);

/// `io_uring_sqe` bytes 28..32: the per-opcode flag word.
///
/// Write `poll32_events` rather than the 16-bit `poll_events`, which leaves bytes uninitialised.
#[repr(C)]
#[derive(Clone, Copy)]
pub union io_uring_sqe_op_flags {
    /// `RWF_*` flags for read/write opcodes.
    pub rw_flags: u32,
    /// `IORING_FSYNC_*` flags.
    pub fsync_flags: u32,
    /// 16-bit poll mask (compatibility; prefer `poll32_events`).
    pub poll_events: u16,
    /// 32-bit poll mask (word-reversed on big-endian).
    pub poll32_events: u32,
    /// `sync_file_range(2)` flags.
    pub sync_range_flags: u32,
    /// `MSG_*` flags for send/recv.
    pub msg_flags: u32,
    /// `IORING_TIMEOUT_*` flags.
    pub timeout_flags: u32,
    /// `accept4(2)` flags (`SOCK_*`).
    pub accept_flags: u32,
    /// `IORING_ASYNC_CANCEL_*` flags.
    pub cancel_flags: u32,
    /// `open(2)` flags (`O_*`).
    pub open_flags: u32,
    /// `statx(2)` flags (`AT_*`).
    pub statx_flags: u32,
    /// `posix_fadvise(2)`/`madvise(2)` advice.
    pub fadvise_advice: u32,
    /// `SPLICE_F_*` flags (plus `SPLICE_F_FD_IN_FIXED`).
    pub splice_flags: u32,
    /// `renameat2(2)` flags.
    pub rename_flags: u32,
    /// `unlinkat(2)` flags.
    pub unlink_flags: u32,
    /// `linkat(2)` flags.
    pub hardlink_flags: u32,
    /// `setxattr(2)` flags.
    pub xattr_flags: u32,
    /// `IORING_MSG_RING_*` flags.
    pub msg_ring_flags: u32,
    /// `IORING_URING_CMD_*` flags.
    pub uring_cmd_flags: u32,
    /// `waitid(2)` options.
    pub waitid_flags: u32,
    /// `FUTEX2_*` flags.
    pub futex_flags: u32,
    /// `IORING_FIXED_FD_*` flags.
    pub install_fd_flags: u32,
    /// `IORING_NOP_*` flags.
    pub nop_flags: u32,
    /// `pipe2(2)` flags.
    pub pipe_flags: u32,
}
layout!(io_uring_sqe_op_flags: size 4, align 4;
    rw_flags @ 0, fsync_flags @ 0, poll_events @ 0, poll32_events @ 0, sync_range_flags @ 0,
    msg_flags @ 0, timeout_flags @ 0, accept_flags @ 0, cancel_flags @ 0, open_flags @ 0,
    statx_flags @ 0, fadvise_advice @ 0, splice_flags @ 0, rename_flags @ 0, unlink_flags @ 0,
    hardlink_flags @ 0, xattr_flags @ 0, msg_ring_flags @ 0, uring_cmd_flags @ 0,
    waitid_flags @ 0, futex_flags @ 0, install_fd_flags @ 0, nop_flags @ 0, pipe_flags @ 0);
union_default!(io_uring_sqe_op_flags { rw_flags: 0 });
union_debug!(io_uring_sqe_op_flags, rw_flags);

/// `io_uring_sqe` bytes 40..42: buffer index or group (packed, as in C).
#[repr(C, packed)]
#[derive(Clone, Copy)]
pub union io_uring_sqe_buf {
    /// Index into the registered (fixed) buffers.
    pub buf_index: u16,
    /// Provided-buffer group id, with `IOSQE_BUFFER_SELECT`.
    pub buf_group: u16,
}
layout!(io_uring_sqe_buf: size 2, align 1; buf_index @ 0, buf_group @ 0);
union_default!(io_uring_sqe_buf { buf_index: 0 });
union_debug!(io_uring_sqe_buf, buf_index);

/// `io_uring_sqe` bytes 44..48: the file-related anonymous union.
#[repr(C)]
#[derive(Clone, Copy)]
pub union io_uring_sqe_file {
    /// Input fd for splice/tee (fixed-file index with `SPLICE_F_FD_IN_FIXED`).
    pub splice_fd_in: i32,
    /// Direct-descriptor slot + 1 for opcodes creating a file, or `IORING_FILE_INDEX_ALLOC`.
    pub file_index: u32,
    /// Zero-copy receive interface queue index (`IORING_OP_RECV_ZC`).
    pub zcrx_ifq_idx: u32,
    /// Socket option length (`SOCKET_URING_OP_SETSOCKOPT`).
    pub optlen: u32,
    /// Address length for send_zc with a destination address.
    pub addr_len: io_uring_sqe_addr_len,
    /// Write stream (write lifetime hint) index.
    pub write_stream: io_uring_sqe_write_stream,
}
layout!(io_uring_sqe_file: size 4, align 4;
    splice_fd_in @ 0, file_index @ 0, zcrx_ifq_idx @ 0, optlen @ 0, addr_len @ 0, write_stream @ 0);
union_default!(io_uring_sqe_file { file_index: 0 });
union_debug!(io_uring_sqe_file, file_index);

/// Address-length member of [`io_uring_sqe_file`].
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct io_uring_sqe_addr_len {
    /// Length of the `sockaddr` at `addr2`.
    pub addr_len: u16,
    /// Padding.
    pub __pad3: [u16; 1],
}
layout!(io_uring_sqe_addr_len: size 4, align 2; addr_len @ 0, __pad3 @ 2);

/// Write-stream member of [`io_uring_sqe_file`].
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct io_uring_sqe_write_stream {
    /// Write stream index.
    pub write_stream: u8,
    /// Padding.
    pub __pad4: [u8; 3],
}
layout!(io_uring_sqe_write_stream: size 4, align 1; write_stream @ 0, __pad4 @ 1);

/// `io_uring_sqe` bytes 48..64: the last anonymous union.
#[repr(C)]
#[derive(Clone, Copy)]
pub union io_uring_sqe_addr3 {
    /// Third address and padding.
    pub addr3: io_uring_sqe_addr3_pad,
    /// Read/write attributes (`IORING_RW_ATTR_FLAG_*`).
    pub attr: io_uring_sqe_attr,
    /// Socket option value pointer (`SOCKET_URING_OP_SETSOCKOPT`).
    pub optval: u64,
    /// uring_cmd payload: 16 bytes here; on `IORING_SETUP_SQE128` rings (or 128-byte opcodes of
    /// `IORING_SETUP_SQE_MIXED` rings) it continues 64 more bytes into the next SQE slot, 80 in all.
    pub cmd: [u8; 16],
}
layout!(io_uring_sqe_addr3: size 16, align 8; addr3 @ 0, attr @ 0, optval @ 0, cmd @ 0);
union_default!(io_uring_sqe_addr3 { cmd: [0; 16] });
union_debug!(io_uring_sqe_addr3, cmd);

/// Third-address member of [`io_uring_sqe_addr3`].
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct io_uring_sqe_addr3_pad {
    /// Third address (e.g. the xattr value, the futex waitv, a msg_ring destination).
    pub addr3: u64,
    /// Padding.
    pub __pad2: [u64; 1],
}
layout!(io_uring_sqe_addr3_pad: size 16, align 8; addr3 @ 0, __pad2 @ 8);

/// Attribute member of [`io_uring_sqe_addr3`] (Linux 6.14).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct io_uring_sqe_attr {
    /// Pointer to the attribute data (e.g. [`io_uring_attr_pi`]).
    pub attr_ptr: u64,
    /// Bit mask of the attributes present, `IORING_RW_ATTR_FLAG_*`.
    pub attr_type_mask: u64,
}
layout!(io_uring_sqe_attr: size 16, align 8; attr_ptr @ 0, attr_type_mask @ 8);

/// `io_uring_sqe::attr_type_mask` bit: a protection-information attribute is attached.
pub const IORING_RW_ATTR_FLAG_PI: u64 = 1 << 0;

/// Protection information (integrity metadata) attribute for reads and writes (Linux 6.14).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct io_uring_attr_pi {
    /// PI flags.
    pub flags: u16,
    /// Application tag.
    pub app_tag: u16,
    /// Length of the integrity buffer.
    pub len: u32,
    /// Address of the integrity buffer.
    pub addr: u64,
    /// Seed for the reference tag.
    pub seed: u64,
    /// Reserved, must be zero.
    pub rsvd: u64,
}
layout!(io_uring_attr_pi: size 32, align 8;
    flags @ 0, app_tag @ 2, len @ 4, addr @ 8, seed @ 16, rsvd @ 24);

/// `io_uring_sqe::file_index` value asking the kernel to pick a free direct-descriptor slot.
pub const IORING_FILE_INDEX_ALLOC: u32 = !0;

// enum io_uring_sqe_flags_bit

/// Bit number of `IOSQE_FIXED_FILE`.
pub const IOSQE_FIXED_FILE_BIT: u8 = 0;
/// Bit number of `IOSQE_IO_DRAIN`.
pub const IOSQE_IO_DRAIN_BIT: u8 = 1;
/// Bit number of `IOSQE_IO_LINK`.
pub const IOSQE_IO_LINK_BIT: u8 = 2;
/// Bit number of `IOSQE_IO_HARDLINK`.
pub const IOSQE_IO_HARDLINK_BIT: u8 = 3;
/// Bit number of `IOSQE_ASYNC`.
pub const IOSQE_ASYNC_BIT: u8 = 4;
/// Bit number of `IOSQE_BUFFER_SELECT`.
pub const IOSQE_BUFFER_SELECT_BIT: u8 = 5;
/// Bit number of `IOSQE_CQE_SKIP_SUCCESS`.
pub const IOSQE_CQE_SKIP_SUCCESS_BIT: u8 = 6;

/// `io_uring_sqe::flags`: `fd` is an index into the registered files.
pub const IOSQE_FIXED_FILE: u8 = 1 << IOSQE_FIXED_FILE_BIT;
/// `io_uring_sqe::flags`: start only after all earlier requests have completed.
pub const IOSQE_IO_DRAIN: u8 = 1 << IOSQE_IO_DRAIN_BIT;
/// `io_uring_sqe::flags`: link the next SQE to this one (it runs after this one succeeds).
pub const IOSQE_IO_LINK: u8 = 1 << IOSQE_IO_LINK_BIT;
/// `io_uring_sqe::flags`: like `IOSQE_IO_LINK`, but the chain continues even if this one fails.
pub const IOSQE_IO_HARDLINK: u8 = 1 << IOSQE_IO_HARDLINK_BIT;
/// `io_uring_sqe::flags`: always punt to an io-wq worker instead of trying inline first.
pub const IOSQE_ASYNC: u8 = 1 << IOSQE_ASYNC_BIT;
/// `io_uring_sqe::flags`: pick a buffer from the provided-buffer group `buf_group` (Linux 5.7).
pub const IOSQE_BUFFER_SELECT: u8 = 1 << IOSQE_BUFFER_SELECT_BIT;
/// `io_uring_sqe::flags`: post no CQE if the request succeeds (Linux 5.17).
pub const IOSQE_CQE_SKIP_SUCCESS: u8 = 1 << IOSQE_CQE_SKIP_SUCCESS_BIT;

// enum io_uring_op: values for io_uring_sqe::opcode

/// Opcode: do nothing (Linux 5.1).
pub const IORING_OP_NOP: u8 = 0;
/// Opcode: `preadv2(2)` (Linux 5.1).
pub const IORING_OP_READV: u8 = 1;
/// Opcode: `pwritev2(2)` (Linux 5.1).
pub const IORING_OP_WRITEV: u8 = 2;
/// Opcode: `fsync(2)`/`fdatasync(2)` (Linux 5.1).
pub const IORING_OP_FSYNC: u8 = 3;
/// Opcode: read into a registered buffer (Linux 5.1).
pub const IORING_OP_READ_FIXED: u8 = 4;
/// Opcode: write from a registered buffer (Linux 5.1).
pub const IORING_OP_WRITE_FIXED: u8 = 5;
/// Opcode: poll a file for readiness (Linux 5.1).
pub const IORING_OP_POLL_ADD: u8 = 6;
/// Opcode: remove or update a poll request (Linux 5.1).
pub const IORING_OP_POLL_REMOVE: u8 = 7;
/// Opcode: `sync_file_range(2)` (Linux 5.2).
pub const IORING_OP_SYNC_FILE_RANGE: u8 = 8;
/// Opcode: `sendmsg(2)` (Linux 5.3).
pub const IORING_OP_SENDMSG: u8 = 9;
/// Opcode: `recvmsg(2)` (Linux 5.3).
pub const IORING_OP_RECVMSG: u8 = 10;
/// Opcode: timeout (Linux 5.4).
pub const IORING_OP_TIMEOUT: u8 = 11;
/// Opcode: remove or update a timeout (Linux 5.5).
pub const IORING_OP_TIMEOUT_REMOVE: u8 = 12;
/// Opcode: `accept4(2)` (Linux 5.5).
pub const IORING_OP_ACCEPT: u8 = 13;
/// Opcode: cancel an in-flight request (Linux 5.5).
pub const IORING_OP_ASYNC_CANCEL: u8 = 14;
/// Opcode: timeout for the previous linked request (Linux 5.5).
pub const IORING_OP_LINK_TIMEOUT: u8 = 15;
/// Opcode: `connect(2)` (Linux 5.5).
pub const IORING_OP_CONNECT: u8 = 16;
/// Opcode: `fallocate(2)` (Linux 5.6).
pub const IORING_OP_FALLOCATE: u8 = 17;
/// Opcode: `openat(2)` (Linux 5.6).
pub const IORING_OP_OPENAT: u8 = 18;
/// Opcode: `close(2)` (Linux 5.6).
pub const IORING_OP_CLOSE: u8 = 19;
/// Opcode: update registered files from within the ring (Linux 5.6).
pub const IORING_OP_FILES_UPDATE: u8 = 20;
/// Opcode: `statx(2)` (Linux 5.6).
pub const IORING_OP_STATX: u8 = 21;
/// Opcode: `pread(2)` (Linux 5.6).
pub const IORING_OP_READ: u8 = 22;
/// Opcode: `pwrite(2)` (Linux 5.6).
pub const IORING_OP_WRITE: u8 = 23;
/// Opcode: `posix_fadvise(2)` (Linux 5.6).
pub const IORING_OP_FADVISE: u8 = 24;
/// Opcode: `madvise(2)` (Linux 5.6).
pub const IORING_OP_MADVISE: u8 = 25;
/// Opcode: `send(2)` (Linux 5.6).
pub const IORING_OP_SEND: u8 = 26;
/// Opcode: `recv(2)` (Linux 5.6).
pub const IORING_OP_RECV: u8 = 27;
/// Opcode: `openat2(2)` (Linux 5.6).
pub const IORING_OP_OPENAT2: u8 = 28;
/// Opcode: `epoll_ctl(2)` (Linux 5.6).
pub const IORING_OP_EPOLL_CTL: u8 = 29;
/// Opcode: `splice(2)` (Linux 5.7).
pub const IORING_OP_SPLICE: u8 = 30;
/// Opcode: hand buffers to a legacy provided-buffer group (Linux 5.7).
pub const IORING_OP_PROVIDE_BUFFERS: u8 = 31;
/// Opcode: take buffers back from a legacy provided-buffer group (Linux 5.7).
pub const IORING_OP_REMOVE_BUFFERS: u8 = 32;
/// Opcode: `tee(2)` (Linux 5.8).
pub const IORING_OP_TEE: u8 = 33;
/// Opcode: `shutdown(2)` (Linux 5.11).
pub const IORING_OP_SHUTDOWN: u8 = 34;
/// Opcode: `renameat2(2)` (Linux 5.11).
pub const IORING_OP_RENAMEAT: u8 = 35;
/// Opcode: `unlinkat(2)` (Linux 5.11).
pub const IORING_OP_UNLINKAT: u8 = 36;
/// Opcode: `mkdirat(2)` (Linux 5.15).
pub const IORING_OP_MKDIRAT: u8 = 37;
/// Opcode: `symlinkat(2)` (Linux 5.15).
pub const IORING_OP_SYMLINKAT: u8 = 38;
/// Opcode: `linkat(2)` (Linux 5.15).
pub const IORING_OP_LINKAT: u8 = 39;
/// Opcode: post a CQE to (or pass a file to) another ring (Linux 5.18).
pub const IORING_OP_MSG_RING: u8 = 40;
/// Opcode: `fsetxattr(2)` (Linux 5.19).
pub const IORING_OP_FSETXATTR: u8 = 41;
/// Opcode: `setxattr(2)` (Linux 5.19).
pub const IORING_OP_SETXATTR: u8 = 42;
/// Opcode: `fgetxattr(2)` (Linux 5.19).
pub const IORING_OP_FGETXATTR: u8 = 43;
/// Opcode: `getxattr(2)` (Linux 5.19).
pub const IORING_OP_GETXATTR: u8 = 44;
/// Opcode: `socket(2)` (Linux 5.19).
pub const IORING_OP_SOCKET: u8 = 45;
/// Opcode: file-specific passthrough command (Linux 5.19).
pub const IORING_OP_URING_CMD: u8 = 46;
/// Opcode: zero-copy `send(2)` (Linux 6.0).
pub const IORING_OP_SEND_ZC: u8 = 47;
/// Opcode: zero-copy `sendmsg(2)` (Linux 6.1).
pub const IORING_OP_SENDMSG_ZC: u8 = 48;
/// Opcode: multishot read with provided buffers (Linux 6.7).
pub const IORING_OP_READ_MULTISHOT: u8 = 49;
/// Opcode: `waitid(2)` (Linux 6.7).
pub const IORING_OP_WAITID: u8 = 50;
/// Opcode: futex wait (Linux 6.7).
pub const IORING_OP_FUTEX_WAIT: u8 = 51;
/// Opcode: futex wake (Linux 6.7).
pub const IORING_OP_FUTEX_WAKE: u8 = 52;
/// Opcode: wait on a vector of futexes (Linux 6.7).
pub const IORING_OP_FUTEX_WAITV: u8 = 53;
/// Opcode: install a direct descriptor into the normal fd table (Linux 6.8).
pub const IORING_OP_FIXED_FD_INSTALL: u8 = 54;
/// Opcode: `ftruncate(2)` (Linux 6.9).
pub const IORING_OP_FTRUNCATE: u8 = 55;
/// Opcode: `bind(2)` (Linux 6.11).
pub const IORING_OP_BIND: u8 = 56;
/// Opcode: `listen(2)` (Linux 6.11).
pub const IORING_OP_LISTEN: u8 = 57;
/// Opcode: zero-copy receive into a zcrx area (Linux 6.15).
pub const IORING_OP_RECV_ZC: u8 = 58;
/// Opcode: `epoll_wait(2)` (Linux 6.15).
pub const IORING_OP_EPOLL_WAIT: u8 = 59;
/// Opcode: vectored read with registered buffers (Linux 6.15).
pub const IORING_OP_READV_FIXED: u8 = 60;
/// Opcode: vectored write with registered buffers (Linux 6.15).
pub const IORING_OP_WRITEV_FIXED: u8 = 61;
/// Opcode: `pipe2(2)` (Linux 6.16).
pub const IORING_OP_PIPE: u8 = 62;
/// Opcode: 128-byte NOP for `IORING_SETUP_SQE_MIXED` rings (Linux 6.19).
pub const IORING_OP_NOP128: u8 = 63;
/// Opcode: 128-byte uring_cmd for `IORING_SETUP_SQE_MIXED` rings (Linux 6.19).
pub const IORING_OP_URING_CMD128: u8 = 64;
/// One past the highest opcode known to these headers (Linux 7.3).
pub const IORING_OP_LAST: u8 = 65;

/// `io_uring_sqe::uring_cmd_flags`: use the registered buffer `buf_index`.
pub const IORING_URING_CMD_FIXED: u32 = 1 << 0;
/// `io_uring_sqe::uring_cmd_flags`: multishot command, needs buffer select.
pub const IORING_URING_CMD_MULTISHOT: u32 = 1 << 1;
/// All `IORING_URING_CMD_*` flags user space may set.
pub const IORING_URING_CMD_MASK: u32 = IORING_URING_CMD_FIXED | IORING_URING_CMD_MULTISHOT;

/// `io_uring_sqe::fsync_flags`: `fdatasync(2)` semantics.
pub const IORING_FSYNC_DATASYNC: u32 = 1 << 0;

/// `io_uring_sqe::timeout_flags`: the timespec is absolute.
pub const IORING_TIMEOUT_ABS: u32 = 1 << 0;
/// `io_uring_sqe::timeout_flags` (TIMEOUT_REMOVE): update an existing timeout.
pub const IORING_TIMEOUT_UPDATE: u32 = 1 << 1;
/// `io_uring_sqe::timeout_flags`: measure against `CLOCK_BOOTTIME`.
pub const IORING_TIMEOUT_BOOTTIME: u32 = 1 << 2;
/// `io_uring_sqe::timeout_flags`: measure against `CLOCK_REALTIME`.
pub const IORING_TIMEOUT_REALTIME: u32 = 1 << 3;
/// `io_uring_sqe::timeout_flags` (TIMEOUT_REMOVE): update an existing linked timeout.
pub const IORING_LINK_TIMEOUT_UPDATE: u32 = 1 << 4;
/// `io_uring_sqe::timeout_flags`: complete an expired timeout with 0 instead of `-ETIME`.
pub const IORING_TIMEOUT_ETIME_SUCCESS: u32 = 1 << 5;
/// `io_uring_sqe::timeout_flags`: multishot timeout (Linux 6.4).
pub const IORING_TIMEOUT_MULTISHOT: u32 = 1 << 6;
/// `io_uring_sqe::timeout_flags`: `addr` holds the timeout in nanoseconds, not a timespec pointer.
pub const IORING_TIMEOUT_IMMEDIATE_ARG: u32 = 1 << 7;
/// Mask of the clock-selection bits of `io_uring_sqe::timeout_flags`.
pub const IORING_TIMEOUT_CLOCK_MASK: u32 = IORING_TIMEOUT_BOOTTIME | IORING_TIMEOUT_REALTIME;
/// Mask of the update bits of `io_uring_sqe::timeout_flags`.
pub const IORING_TIMEOUT_UPDATE_MASK: u32 = IORING_TIMEOUT_UPDATE | IORING_LINK_TIMEOUT_UPDATE;

/// `io_uring_sqe::splice_flags`: `splice_fd_in` is a registered-file index.
pub const SPLICE_F_FD_IN_FIXED: u32 = 1 << 31;

/// POLL_ADD flag (in `io_uring_sqe::len`): multishot poll.
pub const IORING_POLL_ADD_MULTI: u32 = 1 << 0;
/// POLL_REMOVE flag (in `io_uring_sqe::len`): update the event mask of an existing poll.
pub const IORING_POLL_UPDATE_EVENTS: u32 = 1 << 1;
/// POLL_REMOVE flag (in `io_uring_sqe::len`): update the user_data of an existing poll.
pub const IORING_POLL_UPDATE_USER_DATA: u32 = 1 << 2;
/// POLL_ADD flag (in `io_uring_sqe::len`): level-triggered poll.
pub const IORING_POLL_ADD_LEVEL: u32 = 1 << 3;

/// `io_uring_sqe::cancel_flags`: cancel every matching request, not just the first.
pub const IORING_ASYNC_CANCEL_ALL: u32 = 1 << 0;
/// `io_uring_sqe::cancel_flags`: match on `fd` instead of `user_data`.
pub const IORING_ASYNC_CANCEL_FD: u32 = 1 << 1;
/// `io_uring_sqe::cancel_flags`: match any request.
pub const IORING_ASYNC_CANCEL_ANY: u32 = 1 << 2;
/// `io_uring_sqe::cancel_flags`: `fd` is a registered-file index.
pub const IORING_ASYNC_CANCEL_FD_FIXED: u32 = 1 << 3;
/// `io_uring_sqe::cancel_flags`: match on `user_data` (the default without other keys).
pub const IORING_ASYNC_CANCEL_USERDATA: u32 = 1 << 4;
/// `io_uring_sqe::cancel_flags`: match on the opcode in `len`.
pub const IORING_ASYNC_CANCEL_OP: u32 = 1 << 5;

/// `io_uring_sqe::ioprio` for send/recv: arm poll first instead of trying the transfer.
pub const IORING_RECVSEND_POLL_FIRST: u16 = 1 << 0;
/// `io_uring_sqe::ioprio` for recv/recvmsg: multishot receive.
pub const IORING_RECV_MULTISHOT: u16 = 1 << 1;
/// `io_uring_sqe::ioprio` for send/recv: use the registered buffer `buf_index`.
pub const IORING_RECVSEND_FIXED_BUF: u16 = 1 << 2;
/// `io_uring_sqe::ioprio` for `SEND[MSG]_ZC`: report in the notification whether data was copied.
pub const IORING_SEND_ZC_REPORT_USAGE: u16 = 1 << 3;
/// `io_uring_sqe::ioprio` for send/recv with buffer select: use several buffers at once (Linux 6.10).
pub const IORING_RECVSEND_BUNDLE: u16 = 1 << 4;
/// `io_uring_sqe::ioprio` for `SEND[_ZC]`: `addr` points to an iovec array.
pub const IORING_SEND_VECTORIZED: u16 = 1 << 5;

/// `io_uring_sqe::ioprio` for accept: multishot accept.
pub const IORING_ACCEPT_MULTISHOT: u16 = 1 << 0;
/// `io_uring_sqe::ioprio` for accept: fail with `-EAGAIN` instead of waiting.
pub const IORING_ACCEPT_DONTWAIT: u16 = 1 << 1;
/// `io_uring_sqe::ioprio` for accept: arm poll first.
pub const IORING_ACCEPT_POLL_FIRST: u16 = 1 << 2;

// enum io_uring_msg_ring_flags: command types stored in io_uring_sqe::addr

/// `IORING_OP_MSG_RING` command (in `io_uring_sqe::addr`): post `len` as res and `off` as user_data.
pub const IORING_MSG_DATA: u64 = 0;
/// `IORING_OP_MSG_RING` command (in `io_uring_sqe::addr`): pass a registered file to the target ring.
pub const IORING_MSG_SEND_FD: u64 = 1;

/// `io_uring_sqe::msg_ring_flags`: post no CQE to the target ring.
pub const IORING_MSG_RING_CQE_SKIP: u32 = 1 << 0;
/// `io_uring_sqe::msg_ring_flags`: use `file_index` as the target CQE's flags.
pub const IORING_MSG_RING_FLAGS_PASS: u32 = 1 << 1;

/// `io_uring_sqe::install_fd_flags`: do not set `O_CLOEXEC` on the installed fd.
pub const IORING_FIXED_FD_NO_CLOEXEC: u32 = 1 << 0;

/// `io_uring_sqe::nop_flags`: complete with the result given in `len`.
pub const IORING_NOP_INJECT_RESULT: u32 = 1 << 0;
/// `io_uring_sqe::nop_flags`: look up the file in `fd`.
pub const IORING_NOP_FILE: u32 = 1 << 1;
/// `io_uring_sqe::nop_flags`: `fd` is a registered-file index.
pub const IORING_NOP_FIXED_FILE: u32 = 1 << 2;
/// `io_uring_sqe::nop_flags`: look up the registered buffer `buf_index`.
pub const IORING_NOP_FIXED_BUFFER: u32 = 1 << 3;
/// `io_uring_sqe::nop_flags`: complete through task work.
pub const IORING_NOP_TW: u32 = 1 << 4;
/// `io_uring_sqe::nop_flags`: post a 32-byte CQE (on `IORING_SETUP_CQE_MIXED` rings).
pub const IORING_NOP_CQE32: u32 = 1 << 5;

// enum io_uring_socket_op: io_uring_sqe::cmd_op values for sockets

/// Socket uring_cmd (`cmd_op`): bytes in the receive queue, like `SIOCINQ`.
pub const SOCKET_URING_OP_SIOCINQ: u32 = 0;
/// Socket uring_cmd (`cmd_op`): bytes in the send queue, like `SIOCOUTQ`.
pub const SOCKET_URING_OP_SIOCOUTQ: u32 = 1;
/// Socket uring_cmd (`cmd_op`): `getsockopt(2)`.
pub const SOCKET_URING_OP_GETSOCKOPT: u32 = 2;
/// Socket uring_cmd (`cmd_op`): `setsockopt(2)`.
pub const SOCKET_URING_OP_SETSOCKOPT: u32 = 3;
/// Socket uring_cmd (`cmd_op`): collect transmit timestamps as CQEs.
pub const SOCKET_URING_OP_TX_TIMESTAMP: u32 = 4;
/// Socket uring_cmd (`cmd_op`): `getsockname(2)` / `getpeername(2)`.
pub const SOCKET_URING_OP_GETSOCKNAME: u32 = 5;
