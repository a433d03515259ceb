//! `linux/io_uring/zcrx.h`: zero-copy receive (`IORING_REGISTER_ZCRX_IFQ`, `IORING_OP_RECV_ZC`).

/// Refill queue entry: hands a received buffer back to the kernel.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct io_uring_zcrx_rqe {
    /// Offset of the buffer (area id in the bits from `IORING_ZCRX_AREA_SHIFT` up).
    pub off: u64,
    /// Length of the buffer.
    pub len: u32,
    /// Padding.
    pub __pad: u32,
}
layout!(io_uring_zcrx_rqe: size 16, align 8; off @ 0, len @ 8, __pad @ 12);

/// Extra CQE data of an `IORING_OP_RECV_ZC` completion (the second half of a 32-byte CQE).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct io_uring_zcrx_cqe {
    /// Offset of the received data (area id in the bits from `IORING_ZCRX_AREA_SHIFT` up).
    pub off: u64,
    /// Padding.
    pub __pad: u64,
}
layout!(io_uring_zcrx_cqe: size 16, align 8; off @ 0, __pad @ 8);

/// First bit of the area id encoded into zcrx offsets.
pub const IORING_ZCRX_AREA_SHIFT: u32 = 48;
/// Mask of the area-id bits of a zcrx offset.
pub const IORING_ZCRX_AREA_MASK: u64 = !((1u64 << IORING_ZCRX_AREA_SHIFT) - 1);

/// Byte offsets of the refill ring fields within its region (filled in by the kernel).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct io_uring_zcrx_offsets {
    /// Offset of the head index.
    pub head: u32,
    /// Offset of the tail index.
    pub tail: u32,
    /// Offset of the [`io_uring_zcrx_rqe`] array.
    pub rqes: u32,
    /// Reserved.
    pub __resv2: u32,
    /// Reserved.
    pub __resv: [u64; 2],
}
layout!(io_uring_zcrx_offsets: size 32, align 8;
    head @ 0, tail @ 4, rqes @ 8, __resv2 @ 12, __resv @ 16);

// enum io_uring_zcrx_area_flags: values of io_uring_zcrx_area_reg::flags

/// `io_uring_zcrx_area_reg::flags`: the area is a dma-buf given by `dmabuf_fd`.
pub const IORING_ZCRX_AREA_DMABUF: u32 = 1;

/// Description of a zcrx memory area.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct io_uring_zcrx_area_reg {
    /// User address of the area.
    pub addr: u64,
    /// Length of the area.
    pub len: u64,
    /// Output: token to put into offsets referring to this area.
    pub rq_area_token: u64,
    /// `IORING_ZCRX_AREA_*` flags.
    pub flags: u32,
    /// dma-buf fd (with `IORING_ZCRX_AREA_DMABUF`).
    pub dmabuf_fd: u32,
    /// Reserved, must be zero.
    pub __resv2: [u64; 2],
}
layout!(io_uring_zcrx_area_reg: size 48, align 8;
    addr @ 0, len @ 8, rq_area_token @ 16, flags @ 24, dmabuf_fd @ 28, __resv2 @ 32);

// enum zcrx_reg_flags: values of io_uring_zcrx_ifq_reg::flags

/// `io_uring_zcrx_ifq_reg::flags`: import a zcrx instance exported with `ZCRX_CTRL_EXPORT`.
pub const ZCRX_REG_IMPORT: u32 = 1;
/// `io_uring_zcrx_ifq_reg::flags`: no net device; all data is copied (flush with `ZCRX_CTRL_FLUSH_RQ`).
pub const ZCRX_REG_NODEV: u32 = 2;

// enum zcrx_features: bits of io_uring_query_zcrx::features

/// `io_uring_query_zcrx::features`: `rx_buf_len` may request an rx page size.
pub const ZCRX_FEATURE_RX_PAGE_SIZE: u32 = 1 << 0;
/// `io_uring_query_zcrx::features`: events (`zcrx_event_desc`) are supported.
pub const ZCRX_FEATURE_EVENT: u32 = 1 << 1;

// enum zcrx_event_type

/// zcrx event type (`zcrx_ctrl_arm_event::event_type`): buffer allocation failed.
pub const ZCRX_EVENT_ALLOC_FAIL: u32 = 0;
/// zcrx event type (`zcrx_ctrl_arm_event::event_type`): data was copied instead of zero-copied.
pub const ZCRX_EVENT_COPY: u32 = 1;
/// One past the highest zcrx event type.
pub const __ZCRX_EVENT_TYPE_LAST: u32 = 2;

// enum zcrx_event_desc_flags

/// `zcrx_event_desc::flags`: `stats_offset` holds a valid offset to a [`zcrx_stats`].
pub const ZCRX_EVENT_DESC_FLAG_STATS: u32 = 1 << 0;

/// zcrx statistics, placed in the refill ring region.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct zcrx_stats {
    /// Cumulative number of copy-fallback CQEs.
    pub copy_count: u64,
    /// Cumulative number of bytes copied.
    pub copy_bytes: u64,
}
layout!(zcrx_stats: size 16, align 8; copy_count @ 0, copy_bytes @ 8);

/// Event configuration, pointed to by `io_uring_zcrx_ifq_reg::event_desc`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct zcrx_event_desc {
    /// `user_data` of the event CQEs.
    pub user_data: u64,
    /// Bit mask of the `ZCRX_EVENT_*` types to report.
    pub type_mask: u32,
    /// `ZCRX_EVENT_DESC_FLAG_*` flags.
    pub flags: u32,
    /// Offset of a [`zcrx_stats`] from the start of the refill ring region.
    pub stats_offset: u64,
    /// Reserved, must be zero.
    pub __resv2: [u64; 9],
}
layout!(zcrx_event_desc: size 96, align 8;
    user_data @ 0, type_mask @ 8, flags @ 12, stats_offset @ 16, __resv2 @ 24);

/// Argument of `IORING_REGISTER_ZCRX_IFQ` (Linux 6.15).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct io_uring_zcrx_ifq_reg {
    /// Network interface index.
    pub if_idx: u32,
    /// Hardware receive queue index.
    pub if_rxq: u32,
    /// Number of refill queue entries.
    pub rq_entries: u32,
    /// `ZCRX_REG_*` flags.
    pub flags: u32,
    /// Pointer to an [`io_uring_zcrx_area_reg`].
    pub area_ptr: u64,
    /// Pointer to an `io_uring_region_desc` for the refill ring.
    pub region_ptr: u64,
    /// Output: refill ring offsets.
    pub offsets: io_uring_zcrx_offsets,
    /// Output: id of the zcrx instance (for `IORING_OP_RECV_ZC` and `zcrx_ctrl`).
    pub zcrx_id: u32,
    /// Requested rx buffer length (with `ZCRX_FEATURE_RX_PAGE_SIZE`), 0 for the default.
    pub rx_buf_len: u32,
    /// Pointer to a [`zcrx_event_desc`], or 0.
    pub event_desc: u64,
    /// Reserved, must be zero.
    pub __resv: [u64; 2],
}
layout!(io_uring_zcrx_ifq_reg: size 96, align 8;
    if_idx @ 0, if_rxq @ 4, rq_entries @ 8, flags @ 12, area_ptr @ 16, region_ptr @ 24,
    offsets @ 32, zcrx_id @ 64, rx_buf_len @ 68, event_desc @ 72, __resv @ 80);

// enum zcrx_ctrl_op: values of zcrx_ctrl::op

/// `zcrx_ctrl::op`: flush the refill queue.
pub const ZCRX_CTRL_FLUSH_RQ: u32 = 0;
/// `zcrx_ctrl::op`: export the zcrx instance as a file descriptor.
pub const ZCRX_CTRL_EXPORT: u32 = 1;
/// `zcrx_ctrl::op`: arm an event.
pub const ZCRX_CTRL_ARM_EVENT: u32 = 2;
/// `zcrx_ctrl::op`: add another memory area.
pub const ZCRX_CTRL_ADD_AREA: u32 = 3;
/// One past the highest `ZCRX_CTRL_*` operation.
pub const __ZCRX_CTRL_LAST: u32 = 4;

/// `ZCRX_CTRL_FLUSH_RQ` arguments (none yet).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct zcrx_ctrl_flush_rq {
    /// Reserved, must be zero.
    pub __resv: [u64; 6],
}
layout!(zcrx_ctrl_flush_rq: size 48, align 8; __resv @ 0);

/// `ZCRX_CTRL_EXPORT` arguments.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct zcrx_ctrl_export {
    /// Output: the exported fd.
    pub zcrx_fd: u32,
    /// Reserved, must be zero.
    pub __resv1: [u32; 11],
}
layout!(zcrx_ctrl_export: size 48, align 4; zcrx_fd @ 0, __resv1 @ 4);

/// `ZCRX_CTRL_ARM_EVENT` arguments.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct zcrx_ctrl_arm_event {
    /// Event type, a `ZCRX_EVENT_*` value.
    pub event_type: u32,
    /// Reserved, must be zero.
    pub __resv: [u32; 11],
}
layout!(zcrx_ctrl_arm_event: size 48, align 4; event_type @ 0, __resv @ 4);

/// `ZCRX_CTRL_ADD_AREA` arguments.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct zcrx_ctrl_add_area {
    /// Pointer to an [`io_uring_zcrx_area_reg`].
    pub area_ptr: u64,
    /// Reserved, must be zero.
    pub __resv: [u64; 5],
}
layout!(zcrx_ctrl_add_area: size 48, align 8; area_ptr @ 0, __resv @ 8);

/// Argument of `IORING_REGISTER_ZCRX_CTRL`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct zcrx_ctrl {
    /// Id of the zcrx instance.
    pub zcrx_id: u32,
    /// Operation, a `ZCRX_CTRL_*` value.
    pub op: u32,
    /// Reserved, must be zero.
    pub __resv: [u64; 2],
    /// Per-operation arguments.
    pub zc_export: zcrx_ctrl_zc_export,
}
layout!(zcrx_ctrl: size 72, align 8; zcrx_id @ 0, op @ 4, __resv @ 8, zc_export @ 24);

/// The anonymous per-operation union of [`zcrx_ctrl`].
#[repr(C)]
#[derive(Clone, Copy)]
pub union zcrx_ctrl_zc_export {
    /// `ZCRX_CTRL_EXPORT` arguments.
    pub zc_export: zcrx_ctrl_export,
    /// `ZCRX_CTRL_FLUSH_RQ` arguments.
    pub zc_flush: zcrx_ctrl_flush_rq,
    /// `ZCRX_CTRL_ARM_EVENT` arguments.
    pub zc_arm_event: zcrx_ctrl_arm_event,
    /// `ZCRX_CTRL_ADD_AREA` arguments.
    pub zc_area: zcrx_ctrl_add_area,
}
layout!(zcrx_ctrl_zc_export: size 48, align 8;
    zc_export @ 0, zc_flush @ 0, zc_arm_event @ 0, zc_area @ 0);
union_default!(zcrx_ctrl_zc_export { zc_flush: zcrx_ctrl_flush_rq { __resv: [0; 6] } });
union_debug!(zcrx_ctrl_zc_export, zc_flush);
