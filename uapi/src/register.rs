//! `io_uring_register(2)` opcodes and their argument structures.

use crate::__kernel_timespec;

// enum io_uring_register_op: the `opcode` argument of io_uring_register(2)

/// Register opcode: register fixed buffers (iovec array) (Linux 5.1).
pub const IORING_REGISTER_BUFFERS: u32 = 0;
/// Register opcode: unregister all fixed buffers (Linux 5.1).
pub const IORING_UNREGISTER_BUFFERS: u32 = 1;
/// Register opcode: register fixed files (fd array) (Linux 5.1).
pub const IORING_REGISTER_FILES: u32 = 2;
/// Register opcode: unregister all fixed files (Linux 5.1).
pub const IORING_UNREGISTER_FILES: u32 = 3;
/// Register opcode: signal an eventfd on completions (Linux 5.2).
pub const IORING_REGISTER_EVENTFD: u32 = 4;
/// Register opcode: remove the registered eventfd (Linux 5.2).
pub const IORING_UNREGISTER_EVENTFD: u32 = 5;
/// Register opcode: update fixed files ([`io_uring_files_update`]) (Linux 5.5).
pub const IORING_REGISTER_FILES_UPDATE: u32 = 6;
/// Register opcode: eventfd signalled only for asynchronous completions (Linux 5.6).
pub const IORING_REGISTER_EVENTFD_ASYNC: u32 = 7;
/// Register opcode: fill an [`io_uring_probe`] with supported opcodes (Linux 5.6).
pub const IORING_REGISTER_PROBE: u32 = 8;
/// Register opcode: register the current credentials, returns a personality id (Linux 5.6).
pub const IORING_REGISTER_PERSONALITY: u32 = 9;
/// Register opcode: unregister a personality id (Linux 5.6).
pub const IORING_UNREGISTER_PERSONALITY: u32 = 10;
/// Register opcode: install [`io_uring_restriction`]s on a disabled ring (Linux 5.10).
pub const IORING_REGISTER_RESTRICTIONS: u32 = 11;
/// Register opcode: enable a ring created with `IORING_SETUP_R_DISABLED` (Linux 5.10).
pub const IORING_REGISTER_ENABLE_RINGS: u32 = 12;
/// Register opcode: register fixed files with tags ([`io_uring_rsrc_register`]) (Linux 5.13).
pub const IORING_REGISTER_FILES2: u32 = 13;
/// Register opcode: update fixed files with tags ([`io_uring_rsrc_update2`]) (Linux 5.13).
pub const IORING_REGISTER_FILES_UPDATE2: u32 = 14;
/// Register opcode: register fixed buffers with tags ([`io_uring_rsrc_register`]) (Linux 5.13).
pub const IORING_REGISTER_BUFFERS2: u32 = 15;
/// Register opcode: update fixed buffers with tags ([`io_uring_rsrc_update2`]) (Linux 5.13).
pub const IORING_REGISTER_BUFFERS_UPDATE: u32 = 16;
/// Register opcode: set the io-wq CPU affinity (Linux 5.14).
pub const IORING_REGISTER_IOWQ_AFF: u32 = 17;
/// Register opcode: clear the io-wq CPU affinity (Linux 5.14).
pub const IORING_UNREGISTER_IOWQ_AFF: u32 = 18;
/// Register opcode: get/set the maximum io-wq workers (`u32[2]`, bound/unbound) (Linux 5.15).
pub const IORING_REGISTER_IOWQ_MAX_WORKERS: u32 = 19;
/// Register opcode: register ring fds for `IORING_ENTER_REGISTERED_RING` (Linux 5.18).
pub const IORING_REGISTER_RING_FDS: u32 = 20;
/// Register opcode: unregister ring fds (Linux 5.18).
pub const IORING_UNREGISTER_RING_FDS: u32 = 21;
/// Register opcode: register a provided-buffer ring ([`io_uring_buf_reg`](crate::io_uring_buf_reg)) (Linux 5.19).
pub const IORING_REGISTER_PBUF_RING: u32 = 22;
/// Register opcode: unregister a provided-buffer ring ([`io_uring_buf_reg`](crate::io_uring_buf_reg)) (Linux 5.19).
pub const IORING_UNREGISTER_PBUF_RING: u32 = 23;
/// Register opcode: synchronous cancelation ([`io_uring_sync_cancel_reg`]) (Linux 6.0).
pub const IORING_REGISTER_SYNC_CANCEL: u32 = 24;
/// Register opcode: restrict automatic direct-descriptor allocation to a range (Linux 6.0).
pub const IORING_REGISTER_FILE_ALLOC_RANGE: u32 = 25;
/// Register opcode: read a buffer ring's head ([`io_uring_buf_status`](crate::io_uring_buf_status)) (Linux 6.8).
pub const IORING_REGISTER_PBUF_STATUS: u32 = 26;
/// Register opcode: enable NAPI busy polling ([`io_uring_napi`]) (Linux 6.9).
pub const IORING_REGISTER_NAPI: u32 = 27;
/// Register opcode: disable NAPI busy polling (Linux 6.9).
pub const IORING_UNREGISTER_NAPI: u32 = 28;
/// Register opcode: choose the clock for waits ([`io_uring_clock_register`]) (Linux 6.12).
pub const IORING_REGISTER_CLOCK: u32 = 29;
/// Register opcode: copy registered buffers from another ring ([`io_uring_clone_buffers`]) (Linux 6.12).
pub const IORING_REGISTER_CLONE_BUFFERS: u32 = 30;
/// Register opcode: run an `IORING_OP_MSG_RING` SQE without a source ring (Linux 6.13).
pub const IORING_REGISTER_SEND_MSG_RING: u32 = 31;
/// Register opcode: register a zero-copy receive queue (`io_uring_zcrx_ifq_reg`) (Linux 6.15).
pub const IORING_REGISTER_ZCRX_IFQ: u32 = 32;
/// Register opcode: resize the rings (an [`io_uring_params`](crate::io_uring_params)) (Linux 6.13).
pub const IORING_REGISTER_RESIZE_RINGS: u32 = 33;
/// Register opcode: register a memory region ([`io_uring_mem_region_reg`]) (Linux 6.13).
pub const IORING_REGISTER_MEM_REGION: u32 = 34;
/// Register opcode: query capabilities (a chain of `io_uring_query_hdr`).
pub const IORING_REGISTER_QUERY: u32 = 35;
/// Register opcode: zcrx control operation (`zcrx_ctrl`).
pub const IORING_REGISTER_ZCRX_CTRL: u32 = 36;
/// Register opcode: register BPF filters (`io_uring_bpf`).
pub const IORING_REGISTER_BPF_FILTER: u32 = 37;
/// One past the highest register opcode known to these headers (Linux 7.3).
pub const IORING_REGISTER_LAST: u32 = 38;
/// Flag OR-ed into the register opcode: `fd` is a registered ring index (Linux 6.3).
pub const IORING_REGISTER_USE_REGISTERED_RING: u32 = 1 << 31;

// enum io_wq_type: indexes into the IORING_REGISTER_IOWQ_MAX_WORKERS array

/// io-wq worker category (index into the `IORING_REGISTER_IOWQ_MAX_WORKERS` array): bounded work.
pub const IO_WQ_BOUND: u32 = 0;
/// io-wq worker category (index into the `IORING_REGISTER_IOWQ_MAX_WORKERS` array): unbounded work.
pub const IO_WQ_UNBOUND: u32 = 1;

/// Argument of `IORING_REGISTER_FILES_UPDATE` (deprecated, see [`io_uring_rsrc_update`]).
#[repr(C, align(8))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct io_uring_files_update {
    /// First fixed-file slot to update.
    pub offset: u32,
    /// Reserved, must be zero.
    pub resv: u32,
    /// Pointer to the `i32` fd array (`__aligned_u64`).
    pub fds: u64,
}
layout!(io_uring_files_update: size 16, align 8; offset @ 0, resv @ 4, fds @ 8);

/// `io_uring_region_desc::flags`: the region is user memory at `user_addr`.
pub const IORING_MEM_REGION_TYPE_USER: u32 = 1;

/// Description of a memory region shared with the kernel (Linux 6.13).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct io_uring_region_desc {
    /// User address of the memory (with `IORING_MEM_REGION_TYPE_USER`).
    pub user_addr: u64,
    /// Size in bytes.
    pub size: u64,
    /// `IORING_MEM_REGION_TYPE_*` flags.
    pub flags: u32,
    /// Region id.
    pub id: u32,
    /// Output: mmap offset for a kernel-allocated region.
    pub mmap_offset: u64,
    /// Reserved, must be zero.
    pub __resv: [u64; 4],
}
layout!(io_uring_region_desc: size 64, align 8;
    user_addr @ 0, size @ 8, flags @ 16, id @ 20, mmap_offset @ 24, __resv @ 32);

/// `io_uring_mem_region_reg::flags`: use the region for registered wait arguments ([`io_uring_reg_wait`](crate::io_uring_reg_wait)).
pub const IORING_MEM_REGION_REG_WAIT_ARG: u64 = 1;

/// Argument of `IORING_REGISTER_MEM_REGION` (Linux 6.13).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct io_uring_mem_region_reg {
    /// Pointer to an [`io_uring_region_desc`].
    pub region_uptr: u64,
    /// `IORING_MEM_REGION_REG_*` flags.
    pub flags: u64,
    /// Reserved, must be zero.
    pub __resv: [u64; 2],
}
layout!(io_uring_mem_region_reg: size 32, align 8; region_uptr @ 0, flags @ 8, __resv @ 16);

/// `io_uring_rsrc_register::flags`: register an all-empty (sparse) table of `nr` slots.
pub const IORING_RSRC_REGISTER_SPARSE: u32 = 1 << 0;

/// Argument of `IORING_REGISTER_FILES2` / `IORING_REGISTER_BUFFERS2` (Linux 5.13).
#[repr(C, align(8))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct io_uring_rsrc_register {
    /// Number of entries.
    pub nr: u32,
    /// `IORING_RSRC_REGISTER_*` flags.
    pub flags: u32,
    /// Reserved, must be zero.
    pub resv2: u64,
    /// Pointer to the fd or iovec array (`__aligned_u64`).
    pub data: u64,
    /// Pointer to the `u64` tag array, or 0 (`__aligned_u64`).
    pub tags: u64,
}
layout!(io_uring_rsrc_register: size 32, align 8; nr @ 0, flags @ 4, resv2 @ 8, data @ 16, tags @ 24);

/// Argument of `IORING_REGISTER_FILES_UPDATE` (Linux 5.5).
#[repr(C, align(8))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct io_uring_rsrc_update {
    /// First slot to update.
    pub offset: u32,
    /// Reserved, must be zero.
    pub resv: u32,
    /// Pointer to the new fds (`__aligned_u64`).
    pub data: u64,
}
layout!(io_uring_rsrc_update: size 16, align 8; offset @ 0, resv @ 4, data @ 8);

/// Argument of `IORING_REGISTER_FILES_UPDATE2` / `IORING_REGISTER_BUFFERS_UPDATE` (Linux 5.13).
#[repr(C, align(8))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct io_uring_rsrc_update2 {
    /// First slot to update.
    pub offset: u32,
    /// Reserved, must be zero.
    pub resv: u32,
    /// Pointer to the new fds or iovecs (`__aligned_u64`).
    pub data: u64,
    /// Pointer to the `u64` tag array, or 0 (`__aligned_u64`).
    pub tags: u64,
    /// Number of entries.
    pub nr: u32,
    /// Reserved, must be zero.
    pub resv2: u32,
}
layout!(io_uring_rsrc_update2: size 32, align 8;
    offset @ 0, resv @ 4, data @ 8, tags @ 16, nr @ 24, resv2 @ 28);

/// fd-array value in a files update: leave this slot unchanged.
pub const IORING_REGISTER_FILES_SKIP: i32 = -2;

/// [`io_uring_probe_op::flags`] bit: the opcode is supported (typed `u32`; mask it with `flags as u32`).
pub const IO_URING_OP_SUPPORTED: u32 = 1 << 0;

/// One opcode entry of an [`io_uring_probe`].
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct io_uring_probe_op {
    /// The opcode (`IORING_OP_*`).
    pub op: u8,
    /// Reserved.
    pub resv: u8,
    /// `IO_URING_OP_*` flags.
    pub flags: u16,
    /// Reserved.
    pub resv2: u32,
}
layout!(io_uring_probe_op: size 8, align 4; op @ 0, resv @ 1, flags @ 2, resv2 @ 4);

/// Result of `IORING_REGISTER_PROBE`, followed by `ops_len` [`io_uring_probe_op`]s (Linux 5.6).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct io_uring_probe {
    /// Highest opcode the kernel knows.
    pub last_op: u8,
    /// Number of entries in `ops`.
    pub ops_len: u8,
    /// Reserved.
    pub resv: u16,
    /// Reserved.
    pub resv2: [u32; 3],
    /// Flexible array of per-opcode entries.
    pub ops: [io_uring_probe_op; 0],
}
layout!(io_uring_probe: size 16, align 4; last_op @ 0, ops_len @ 1, resv @ 2, resv2 @ 4, ops @ 16);

/// One ring restriction for `IORING_REGISTER_RESTRICTIONS` (Linux 5.10).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct io_uring_restriction {
    /// Restriction kind, an `IORING_RESTRICTION_*` value.
    pub opcode: u16,
    /// The allowed register opcode, SQE opcode or SQE flags.
    pub op: io_uring_restriction_op,
    /// Reserved.
    pub resv: u8,
    /// Reserved.
    pub resv2: [u32; 3],
}
layout!(io_uring_restriction: size 16, align 4; opcode @ 0, op @ 2, resv @ 3, resv2 @ 4);

/// The anonymous union of [`io_uring_restriction`] (byte 2).
#[repr(C)]
#[derive(Clone, Copy)]
pub union io_uring_restriction_op {
    /// Allowed `io_uring_register(2)` opcode (`IORING_RESTRICTION_REGISTER_OP`).
    pub register_op: u8,
    /// Allowed SQE opcode (`IORING_RESTRICTION_SQE_OP`).
    pub sqe_op: u8,
    /// Allowed or required `IOSQE_*` flags (`IORING_RESTRICTION_SQE_FLAGS_*`).
    pub sqe_flags: u8,
}
layout!(io_uring_restriction_op: size 1, align 1; register_op @ 0, sqe_op @ 0, sqe_flags @ 0);
union_default!(io_uring_restriction_op { register_op: 0 });
union_debug!(io_uring_restriction_op, register_op);

/// Header of a task-wide restriction set, followed by `nr_res` [`io_uring_restriction`]s.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct io_uring_task_restriction {
    /// Flags.
    pub flags: u16,
    /// Number of entries in `restrictions`.
    pub nr_res: u16,
    /// Reserved.
    pub resv: [u32; 3],
    /// Flexible array of restrictions.
    pub restrictions: [io_uring_restriction; 0],
}
layout!(io_uring_task_restriction: size 16, align 4;
    flags @ 0, nr_res @ 2, resv @ 4, restrictions @ 16);

/// Argument of `IORING_REGISTER_CLOCK` (Linux 6.12).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct io_uring_clock_register {
    /// Clock id: `CLOCK_MONOTONIC` or `CLOCK_BOOTTIME`.
    pub clockid: u32,
    /// Reserved, must be zero.
    pub __resv: [u32; 3],
}
layout!(io_uring_clock_register: size 16, align 4; clockid @ 0, __resv @ 4);

/// `io_uring_clone_buffers::flags`: `src_fd` is a registered ring index.
pub const IORING_REGISTER_SRC_REGISTERED: u32 = 1 << 0;
/// `io_uring_clone_buffers::flags`: replace existing buffers in the destination range.
pub const IORING_REGISTER_DST_REPLACE: u32 = 1 << 1;

/// Argument of `IORING_REGISTER_CLONE_BUFFERS` (Linux 6.12).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct io_uring_clone_buffers {
    /// Source ring fd (or registered index).
    pub src_fd: u32,
    /// `IORING_REGISTER_SRC_REGISTERED` / `IORING_REGISTER_DST_REPLACE`.
    pub flags: u32,
    /// First source buffer.
    pub src_off: u32,
    /// First destination slot.
    pub dst_off: u32,
    /// Number of buffers (0: all).
    pub nr: u32,
    /// Reserved, must be zero.
    pub pad: [u32; 3],
}
layout!(io_uring_clone_buffers: size 32, align 4;
    src_fd @ 0, flags @ 4, src_off @ 8, dst_off @ 12, nr @ 16, pad @ 20);

// enum io_uring_napi_op: values of io_uring_napi::opcode

/// `io_uring_napi::opcode`: register/unregister NAPI polling (`op_param` is the tracking strategy).
pub const IO_URING_NAPI_REGISTER_OP: u8 = 0;
/// `io_uring_napi::opcode`: add the NAPI id in `op_param` (static tracking).
pub const IO_URING_NAPI_STATIC_ADD_ID: u8 = 1;
/// `io_uring_napi::opcode`: remove the NAPI id in `op_param` (static tracking).
pub const IO_URING_NAPI_STATIC_DEL_ID: u8 = 2;

// enum io_uring_napi_tracking_strategy: values of io_uring_napi::op_param

/// `io_uring_napi::op_param`: track NAPI ids automatically from sockets used.
pub const IO_URING_NAPI_TRACKING_DYNAMIC: u32 = 0;
/// `io_uring_napi::op_param`: track only explicitly added NAPI ids.
pub const IO_URING_NAPI_TRACKING_STATIC: u32 = 1;
/// `io_uring_napi::op_param`: no tracking.
pub const IO_URING_NAPI_TRACKING_INACTIVE: u32 = 255;

/// Argument of `IORING_REGISTER_NAPI` / `IORING_UNREGISTER_NAPI` (Linux 6.9).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct io_uring_napi {
    /// Busy-poll timeout in microseconds.
    pub busy_poll_to: u32,
    /// Non-zero to prefer busy polling.
    pub prefer_busy_poll: u8,
    /// `IO_URING_NAPI_*` operation.
    pub opcode: u8,
    /// Reserved.
    pub pad: [u8; 2],
    /// Tracking strategy or NAPI id, depending on `opcode`.
    pub op_param: u32,
    /// Reserved.
    pub resv: u32,
}
layout!(io_uring_napi: size 16, align 4;
    busy_poll_to @ 0, prefer_busy_poll @ 4, opcode @ 5, pad @ 6, op_param @ 8, resv @ 12);

// enum io_uring_register_restriction_op: values of io_uring_restriction::opcode

/// `io_uring_restriction::opcode`: allow the register opcode in `register_op`.
pub const IORING_RESTRICTION_REGISTER_OP: u16 = 0;
/// `io_uring_restriction::opcode`: allow the SQE opcode in `sqe_op`.
pub const IORING_RESTRICTION_SQE_OP: u16 = 1;
/// `io_uring_restriction::opcode`: allow the SQE flags in `sqe_flags`.
pub const IORING_RESTRICTION_SQE_FLAGS_ALLOWED: u16 = 2;
/// `io_uring_restriction::opcode`: require the SQE flags in `sqe_flags` on every SQE.
pub const IORING_RESTRICTION_SQE_FLAGS_REQUIRED: u16 = 3;
/// One past the highest restriction kind.
pub const IORING_RESTRICTION_LAST: u16 = 4;

/// Argument of `IORING_REGISTER_SYNC_CANCEL` (Linux 6.0).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct io_uring_sync_cancel_reg {
    /// `user_data` to match.
    pub addr: u64,
    /// fd to match (with `IORING_ASYNC_CANCEL_FD`).
    pub fd: i32,
    /// `IORING_ASYNC_CANCEL_*` flags.
    pub flags: u32,
    /// How long to wait (`-1`/`-1` for forever).
    pub timeout: __kernel_timespec,
    /// Opcode to match (with `IORING_ASYNC_CANCEL_OP`).
    pub opcode: u8,
    /// Reserved.
    pub pad: [u8; 7],
    /// Reserved.
    pub pad2: [u64; 3],
}
layout!(io_uring_sync_cancel_reg: size 64, align 8;
    addr @ 0, fd @ 8, flags @ 12, timeout @ 16, opcode @ 32, pad @ 33, pad2 @ 40);

/// Argument of `IORING_REGISTER_FILE_ALLOC_RANGE`: slots `[off, off + len)` (Linux 6.0).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct io_uring_file_index_range {
    /// First slot.
    pub off: u32,
    /// Number of slots.
    pub len: u32,
    /// Reserved, must be zero.
    pub resv: u64,
}
layout!(io_uring_file_index_range: size 16, align 8; off @ 0, len @ 4, resv @ 8);
