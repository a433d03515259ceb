//! `io_uring_setup(2)` parameters, ring layout offsets, ring flags and `io_uring_enter(2)` arguments.

use crate::__kernel_timespec;

/// `io_uring_params::flags`: busy-poll for I/O completions instead of using interrupts.
pub const IORING_SETUP_IOPOLL: u32 = 1 << 0;
/// `io_uring_params::flags`: a kernel thread polls the SQ.
pub const IORING_SETUP_SQPOLL: u32 = 1 << 1;
/// `io_uring_params::flags`: pin the SQ poll thread to `sq_thread_cpu`.
pub const IORING_SETUP_SQ_AFF: u32 = 1 << 2;
/// `io_uring_params::flags`: `cq_entries` gives the CQ size (Linux 5.5).
pub const IORING_SETUP_CQSIZE: u32 = 1 << 3;
/// `io_uring_params::flags`: clamp too-large ring sizes instead of failing (Linux 5.6).
pub const IORING_SETUP_CLAMP: u32 = 1 << 4;
/// `io_uring_params::flags`: share the io-wq backend of the ring `wq_fd` (Linux 5.6).
pub const IORING_SETUP_ATTACH_WQ: u32 = 1 << 5;
/// `io_uring_params::flags`: start disabled, enable with `IORING_REGISTER_ENABLE_RINGS` (Linux 5.10).
pub const IORING_SETUP_R_DISABLED: u32 = 1 << 6;
/// `io_uring_params::flags`: keep submitting the batch after a request fails early (Linux 5.18).
pub const IORING_SETUP_SUBMIT_ALL: u32 = 1 << 7;
/// `io_uring_params::flags`: run completion task work cooperatively, without IPIs (Linux 5.19).
pub const IORING_SETUP_COOP_TASKRUN: u32 = 1 << 8;
/// `io_uring_params::flags`: set `IORING_SQ_TASKRUN` when task work is pending (Linux 5.19).
pub const IORING_SETUP_TASKRUN_FLAG: u32 = 1 << 9;
/// `io_uring_params::flags`: 128-byte SQEs (Linux 5.19).
pub const IORING_SETUP_SQE128: u32 = 1 << 10;
/// `io_uring_params::flags`: 32-byte CQEs (Linux 5.19).
pub const IORING_SETUP_CQE32: u32 = 1 << 11;
/// `io_uring_params::flags`: a single task submits requests (Linux 6.0).
pub const IORING_SETUP_SINGLE_ISSUER: u32 = 1 << 12;
/// `io_uring_params::flags`: defer task work until the task waits for events (Linux 6.1).
pub const IORING_SETUP_DEFER_TASKRUN: u32 = 1 << 13;
/// `io_uring_params::flags`: the application provides the ring memory in `user_addr` (Linux 6.5).
pub const IORING_SETUP_NO_MMAP: u32 = 1 << 14;
/// `io_uring_params::flags`: return a registered ring index instead of an fd (Linux 6.5).
pub const IORING_SETUP_REGISTERED_FD_ONLY: u32 = 1 << 15;
/// `io_uring_params::flags`: no SQ index array; SQEs are consumed in ring order (Linux 6.6).
pub const IORING_SETUP_NO_SQARRAY: u32 = 1 << 16;
/// `io_uring_params::flags`: hybrid (sleep then poll) IOPOLL (Linux 6.13).
pub const IORING_SETUP_HYBRID_IOPOLL: u32 = 1 << 17;
/// `io_uring_params::flags`: allow both 16- and 32-byte CQEs (`IORING_CQE_F_32`) (Linux 6.18).
pub const IORING_SETUP_CQE_MIXED: u32 = 1 << 18;
/// `io_uring_params::flags`: allow both 64- and 128-byte SQEs (128-byte opcodes) (Linux 6.18).
pub const IORING_SETUP_SQE_MIXED: u32 = 1 << 19;
/// `io_uring_params::flags`: ignore SQ head/tail, always fetch SQEs from index 0 (needs `NO_SQARRAY`, not `SQPOLL`).
pub const IORING_SETUP_SQ_REWIND: u32 = 1 << 20;

/// mmap offset of the SQ ring (head, tail, flags, index array).
pub const IORING_OFF_SQ_RING: u64 = 0;
/// mmap offset of the CQ ring (unless `IORING_FEAT_SINGLE_MMAP`).
pub const IORING_OFF_CQ_RING: u64 = 0x800_0000;
/// mmap offset of the SQE array.
pub const IORING_OFF_SQES: u64 = 0x1000_0000;
/// mmap offset of a kernel-allocated buffer ring: OR in `bgid << IORING_OFF_PBUF_SHIFT`.
pub const IORING_OFF_PBUF_RING: u64 = 0x8000_0000;
/// Shift of the buffer group id within an `IORING_OFF_PBUF_RING` mmap offset.
pub const IORING_OFF_PBUF_SHIFT: u32 = 16;
/// Mask selecting the region part of an mmap offset.
pub const IORING_OFF_MMAP_MASK: u64 = 0xf800_0000;

/// Byte offsets of the SQ ring fields within its mapping (filled in by `io_uring_setup(2)`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct io_sqring_offsets {
    /// Offset of the consumer index (`u32`).
    pub head: u32,
    /// Offset of the producer index (`u32`).
    pub tail: u32,
    /// Offset of the ring mask (`u32`).
    pub ring_mask: u32,
    /// Offset of the entry count (`u32`).
    pub ring_entries: u32,
    /// Offset of the `IORING_SQ_*` flags (`u32`).
    pub flags: u32,
    /// Offset of the dropped-SQE counter (`u32`).
    pub dropped: u32,
    /// Offset of the SQE index array (`u32` entries).
    pub array: u32,
    /// Reserved.
    pub resv1: u32,
    /// With `IORING_SETUP_NO_MMAP`: user address of the SQE array.
    pub user_addr: u64,
}
layout!(io_sqring_offsets: size 40, align 8;
    head @ 0, tail @ 4, ring_mask @ 8, ring_entries @ 12, flags @ 16, dropped @ 20, array @ 24,
    resv1 @ 28, user_addr @ 32);

/// SQ ring flags word: the SQ poll thread sleeps; wake it with `IORING_ENTER_SQ_WAKEUP`.
pub const IORING_SQ_NEED_WAKEUP: u32 = 1 << 0;
/// SQ ring flags word: the CQ ring has overflowed.
pub const IORING_SQ_CQ_OVERFLOW: u32 = 1 << 1;
/// SQ ring flags word: task work is pending; enter the kernel to run it.
pub const IORING_SQ_TASKRUN: u32 = 1 << 2;

/// Byte offsets of the CQ ring fields within its mapping (filled in by `io_uring_setup(2)`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct io_cqring_offsets {
    /// Offset of the consumer index (`u32`).
    pub head: u32,
    /// Offset of the producer index (`u32`).
    pub tail: u32,
    /// Offset of the ring mask (`u32`).
    pub ring_mask: u32,
    /// Offset of the entry count (`u32`).
    pub ring_entries: u32,
    /// Offset of the overflow counter (`u32`).
    pub overflow: u32,
    /// Offset of the CQE array.
    pub cqes: u32,
    /// Offset of the `IORING_CQ_*` flags (`u32`).
    pub flags: u32,
    /// Reserved.
    pub resv1: u32,
    /// With `IORING_SETUP_NO_MMAP`: user address of the rings.
    pub user_addr: u64,
}
layout!(io_cqring_offsets: size 40, align 8;
    head @ 0, tail @ 4, ring_mask @ 8, ring_entries @ 12, overflow @ 16, cqes @ 20, flags @ 24,
    resv1 @ 28, user_addr @ 32);

/// CQ ring flags word: do not signal the registered eventfd.
pub const IORING_CQ_EVENTFD_DISABLED: u32 = 1 << 0;

/// `io_uring_enter(2)` flag: wait for `min_complete` completions.
pub const IORING_ENTER_GETEVENTS: u32 = 1 << 0;
/// `io_uring_enter(2)` flag: wake the SQ poll thread.
pub const IORING_ENTER_SQ_WAKEUP: u32 = 1 << 1;
/// `io_uring_enter(2)` flag: wait until the SQ has free space (SQPOLL).
pub const IORING_ENTER_SQ_WAIT: u32 = 1 << 2;
/// `io_uring_enter(2)` flag: `arg` is an [`io_uring_getevents_arg`] (Linux 5.11).
pub const IORING_ENTER_EXT_ARG: u32 = 1 << 3;
/// `io_uring_enter(2)` flag: `fd` is a registered ring index (Linux 5.18).
pub const IORING_ENTER_REGISTERED_RING: u32 = 1 << 4;
/// `io_uring_enter(2)` flag: the wait timeout is absolute (Linux 6.12).
pub const IORING_ENTER_ABS_TIMER: u32 = 1 << 5;
/// `io_uring_enter(2)` flag: `arg` is an offset into the registered [`io_uring_reg_wait`] region (Linux 6.13).
pub const IORING_ENTER_EXT_ARG_REG: u32 = 1 << 6;
/// `io_uring_enter(2)` flag: do not account the wait as iowait (Linux 6.15).
pub const IORING_ENTER_NO_IOWAIT: u32 = 1 << 7;

/// Argument of `io_uring_setup(2)`; the kernel fills in the output fields.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct io_uring_params {
    /// Output: number of SQ entries.
    pub sq_entries: u32,
    /// Input with `IORING_SETUP_CQSIZE`, output: number of CQ entries.
    pub cq_entries: u32,
    /// Input: `IORING_SETUP_*` flags.
    pub flags: u32,
    /// Input with `IORING_SETUP_SQ_AFF`: CPU of the SQ poll thread.
    pub sq_thread_cpu: u32,
    /// Input with `IORING_SETUP_SQPOLL`: idle time in milliseconds before the poll thread sleeps.
    pub sq_thread_idle: u32,
    /// Output: `IORING_FEAT_*` flags.
    pub features: u32,
    /// Input with `IORING_SETUP_ATTACH_WQ`: ring fd whose io-wq to share.
    pub wq_fd: u32,
    /// Reserved, must be zero.
    pub resv: [u32; 3],
    /// Output: SQ ring offsets.
    pub sq_off: io_sqring_offsets,
    /// Output: CQ ring offsets.
    pub cq_off: io_cqring_offsets,
}
layout!(io_uring_params: size 120, align 8;
    sq_entries @ 0, cq_entries @ 4, flags @ 8, sq_thread_cpu @ 12, sq_thread_idle @ 16,
    features @ 20, wq_fd @ 24, resv @ 28, sq_off @ 40, cq_off @ 80);

/// `io_uring_params::features`: SQ and CQ rings share one mmap (Linux 5.4).
pub const IORING_FEAT_SINGLE_MMAP: u32 = 1 << 0;
/// `io_uring_params::features`: completions are never dropped on CQ overflow (Linux 5.5).
pub const IORING_FEAT_NODROP: u32 = 1 << 1;
/// `io_uring_params::features`: submission data is consumed at submit time (Linux 5.5).
pub const IORING_FEAT_SUBMIT_STABLE: u32 = 1 << 2;
/// `io_uring_params::features`: offset -1 means the current file position (Linux 5.6).
pub const IORING_FEAT_RW_CUR_POS: u32 = 1 << 3;
/// `io_uring_params::features`: requests run with the submitter's credentials (Linux 5.6).
pub const IORING_FEAT_CUR_PERSONALITY: u32 = 1 << 4;
/// `io_uring_params::features`: internal poll-driven retry instead of threads (Linux 5.7).
pub const IORING_FEAT_FAST_POLL: u32 = 1 << 5;
/// `io_uring_params::features`: 32-bit poll masks (`poll32_events`) (Linux 5.9).
pub const IORING_FEAT_POLL_32BITS: u32 = 1 << 6;
/// `io_uring_params::features`: SQPOLL works with non-registered files (Linux 5.11).
pub const IORING_FEAT_SQPOLL_NONFIXED: u32 = 1 << 7;
/// `io_uring_params::features`: `IORING_ENTER_EXT_ARG` is supported (Linux 5.11).
pub const IORING_FEAT_EXT_ARG: u32 = 1 << 8;
/// `io_uring_params::features`: io-wq workers are native threads (Linux 5.12).
pub const IORING_FEAT_NATIVE_WORKERS: u32 = 1 << 9;
/// `io_uring_params::features`: registered resources can carry tags (Linux 5.13).
pub const IORING_FEAT_RSRC_TAGS: u32 = 1 << 10;
/// `io_uring_params::features`: `IOSQE_CQE_SKIP_SUCCESS` is supported (Linux 5.17).
pub const IORING_FEAT_CQE_SKIP: u32 = 1 << 11;
/// `io_uring_params::features`: linked requests resolve their files lazily (Linux 5.17).
pub const IORING_FEAT_LINKED_FILE: u32 = 1 << 12;
/// `io_uring_params::features`: `io_uring_register(2)` accepts a registered ring index (Linux 6.3).
pub const IORING_FEAT_REG_REG_RING: u32 = 1 << 13;
/// `io_uring_params::features`: `IORING_RECVSEND_BUNDLE` is supported (Linux 6.10).
pub const IORING_FEAT_RECVSEND_BUNDLE: u32 = 1 << 14;
/// `io_uring_params::features`: `io_uring_getevents_arg::min_wait_usec` is supported (Linux 6.12).
pub const IORING_FEAT_MIN_TIMEOUT: u32 = 1 << 15;
/// `io_uring_params::features`: read/write attributes (`attr_ptr`) are supported (Linux 6.14).
pub const IORING_FEAT_RW_ATTR: u32 = 1 << 16;
/// `io_uring_params::features`: `IORING_ENTER_NO_IOWAIT` is supported (Linux 6.15).
pub const IORING_FEAT_NO_IOWAIT: u32 = 1 << 17;

/// `io_uring_reg_wait::flags`: `ts` holds a timeout.
pub const IORING_REG_WAIT_TS: u32 = 1 << 0;

/// Wait argument stored in a registered region, selected with `IORING_ENTER_EXT_ARG_REG` (Linux 6.13).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct io_uring_reg_wait {
    /// Timeout (with `IORING_REG_WAIT_TS`).
    pub ts: __kernel_timespec,
    /// Minimum wait in microseconds before returning with fewer events.
    pub min_wait_usec: u32,
    /// `IORING_REG_WAIT_*` flags.
    pub flags: u32,
    /// Pointer to a signal mask to apply while waiting.
    pub sigmask: u64,
    /// Size of the signal mask.
    pub sigmask_sz: u32,
    /// Reserved.
    pub pad: [u32; 3],
    /// Reserved.
    pub pad2: [u64; 2],
}
layout!(io_uring_reg_wait: size 64, align 8;
    ts @ 0, min_wait_usec @ 16, flags @ 20, sigmask @ 24, sigmask_sz @ 32, pad @ 36, pad2 @ 48);

/// `io_uring_enter(2)` argument with `IORING_ENTER_EXT_ARG` (Linux 5.11).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct io_uring_getevents_arg {
    /// Pointer to a signal mask to apply while waiting.
    pub sigmask: u64,
    /// Size of the signal mask.
    pub sigmask_sz: u32,
    /// Minimum wait in microseconds before returning with fewer events (Linux 6.12).
    pub min_wait_usec: u32,
    /// Pointer to a [`__kernel_timespec`] timeout.
    pub ts: u64,
}
layout!(io_uring_getevents_arg: size 24, align 8;
    sigmask @ 0, sigmask_sz @ 8, min_wait_usec @ 12, ts @ 16);
