//! `linux/io_uring/query.h`: the `IORING_REGISTER_QUERY` interface.
//!
//! The argument of `IORING_REGISTER_QUERY` is a chain of [`io_uring_query_hdr`]s, each pointing
//! to an opcode-specific result buffer.

/// One query in an `IORING_REGISTER_QUERY` chain.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct io_uring_query_hdr {
    /// Pointer to the next header, or 0 to end the chain.
    pub next_entry: u64,
    /// Pointer to the result buffer for `query_op`.
    pub query_data: u64,
    /// What to query, an `IO_URING_QUERY_*` value.
    pub query_op: u32,
    /// Input: size of the result buffer; output: bytes the kernel filled in.
    pub size: u32,
    /// Output: 0 or a negated errno for this query.
    pub result: i32,
    /// Reserved, must be zero.
    pub __resv: [u32; 3],
}
layout!(io_uring_query_hdr: size 40, align 8;
    next_entry @ 0, query_data @ 8, query_op @ 16, size @ 20, result @ 24, __resv @ 28);

/// `io_uring_query_hdr::query_op`: supported opcodes and flags ([`io_uring_query_opcode`]); needs no ring.
pub const IO_URING_QUERY_OPCODES: u32 = 0;
/// `io_uring_query_hdr::query_op`: zero-copy receive capabilities ([`io_uring_query_zcrx`]).
pub const IO_URING_QUERY_ZCRX: u32 = 1;
/// `io_uring_query_hdr::query_op`: SQ/CQ ring header layout ([`io_uring_query_scq`]).
pub const IO_URING_QUERY_SCQ: u32 = 2;
/// `io_uring_query_hdr::query_op`: zcrx event capabilities ([`io_uring_query_zcrx_event`]).
pub const IO_URING_QUERY_ZCRX_EVENT: u32 = 3;
/// One past the highest `IO_URING_QUERY_*` value known to these headers.
pub const __IO_URING_QUERY_MAX: u32 = 4;

/// Result of `IO_URING_QUERY_OPCODES`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct io_uring_query_opcode {
    /// Number of supported `IORING_OP_*` opcodes.
    pub nr_request_opcodes: u32,
    /// Number of supported `IORING_[UN]REGISTER_*` opcodes.
    pub nr_register_opcodes: u32,
    /// Supported `IORING_FEAT_*` flags.
    pub feature_flags: u64,
    /// Supported `IORING_SETUP_*` flags.
    pub ring_setup_flags: u64,
    /// Supported `IORING_ENTER_*` flags.
    pub enter_flags: u64,
    /// Supported `IOSQE_*` flags.
    pub sqe_flags: u64,
    /// Number of supported `IO_URING_QUERY_*` opcodes.
    pub nr_query_opcodes: u32,
    /// Padding.
    pub __pad: u32,
}
layout!(io_uring_query_opcode: size 48, align 8;
    nr_request_opcodes @ 0, nr_register_opcodes @ 4, feature_flags @ 8, ring_setup_flags @ 16,
    enter_flags @ 24, sqe_flags @ 32, nr_query_opcodes @ 40, __pad @ 44);

/// Result of `IO_URING_QUERY_ZCRX`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct io_uring_query_zcrx {
    /// Supported `ZCRX_REG_*` flags.
    pub register_flags: u64,
    /// Supported `IORING_ZCRX_AREA_*` flags.
    pub area_flags: u64,
    /// Number of supported `ZCRX_CTRL_*` opcodes.
    pub nr_ctrl_opcodes: u32,
    /// Available `ZCRX_FEATURE_*` features.
    pub features: u32,
    /// Size of the refill ring header.
    pub rq_hdr_size: u32,
    /// Required alignment of the refill ring header.
    pub rq_hdr_alignment: u32,
    /// Reserved.
    pub __resv2: u64,
}
layout!(io_uring_query_zcrx: size 40, align 8;
    register_flags @ 0, area_flags @ 8, nr_ctrl_opcodes @ 16, features @ 20, rq_hdr_size @ 24,
    rq_hdr_alignment @ 28, __resv2 @ 32);

/// Result of `IO_URING_QUERY_ZCRX_EVENT`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct io_uring_query_zcrx_event {
    /// Supported `ZCRX_EVENT_*` event flags.
    pub event_flags: u32,
    /// Size of `zcrx_stats`.
    pub stats_size: u32,
    /// Required alignment of the stats offset within the region.
    pub stats_off_alignment: u32,
    /// Reserved.
    pub __resv1: u32,
    /// Reserved.
    pub __resv2: [u64; 4],
}
layout!(io_uring_query_zcrx_event: size 48, align 8;
    event_flags @ 0, stats_size @ 4, stats_off_alignment @ 8, __resv1 @ 12, __resv2 @ 16);

/// Result of `IO_URING_QUERY_SCQ`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct io_uring_query_scq {
    /// Size of the SQ/CQ rings header.
    pub hdr_size: u64,
    /// Required alignment of the header.
    pub hdr_alignment: u64,
}
layout!(io_uring_query_scq: size 16, align 8; hdr_size @ 0, hdr_alignment @ 8);
