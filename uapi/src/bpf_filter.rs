//! `linux/io_uring/bpf_filter.h`: classic-BPF request filters (`IORING_REGISTER_BPF_FILTER`).

/// Context a filter program runs against: one request being issued.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct io_uring_bpf_ctx {
    /// The request's `user_data`.
    pub user_data: u64,
    /// The request's opcode (`IORING_OP_*`).
    pub opcode: u8,
    /// The request's `IOSQE_*` flags.
    pub sqe_flags: u8,
    /// Size of the opcode-specific data in `u`.
    pub pdu_size: u8,
    /// Padding.
    pub pad: [u8; 5],
    /// Opcode-specific data (the anonymous union, named `u` here).
    pub u: io_uring_bpf_ctx_u,
}
layout!(io_uring_bpf_ctx: size 40, align 8;
    user_data @ 0, opcode @ 8, sqe_flags @ 9, pdu_size @ 10, pad @ 11, u @ 16);

/// The anonymous opcode-specific union of [`io_uring_bpf_ctx`] (byte 16).
#[repr(C)]
#[derive(Clone, Copy)]
pub union io_uring_bpf_ctx_u {
    /// `IORING_OP_SOCKET` arguments.
    pub socket: io_uring_bpf_ctx_socket,
    /// `IORING_OP_OPENAT`/`IORING_OP_OPENAT2` arguments.
    pub open: io_uring_bpf_ctx_open,
    /// `IORING_OP_CONNECT` arguments.
    pub connect: io_uring_bpf_ctx_connect,
}
layout!(io_uring_bpf_ctx_u: size 24, align 8; socket @ 0, open @ 0, connect @ 0);
union_default!(io_uring_bpf_ctx_u { open: io_uring_bpf_ctx_open { flags: 0, mode: 0, resolve: 0 } });
union_debug!(io_uring_bpf_ctx_u, open);

/// `socket` member of [`io_uring_bpf_ctx_u`]: `socket(2)` arguments.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct io_uring_bpf_ctx_socket {
    /// Address family.
    pub family: u32,
    /// Socket type.
    pub r#type: u32,
    /// Protocol.
    pub protocol: u32,
}
layout!(io_uring_bpf_ctx_socket: size 12, align 4; family @ 0, r#type @ 4, protocol @ 8);

/// `open` member of [`io_uring_bpf_ctx_u`]: `open_how` fields.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct io_uring_bpf_ctx_open {
    /// Open flags (`O_*`).
    pub flags: u64,
    /// Creation mode.
    pub mode: u64,
    /// `RESOLVE_*` flags.
    pub resolve: u64,
}
layout!(io_uring_bpf_ctx_open: size 24, align 8; flags @ 0, mode @ 8, resolve @ 16);

/// `connect` member of [`io_uring_bpf_ctx_u`]: destination address, filled only as far as `addr_len` reaches.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct io_uring_bpf_ctx_connect {
    /// Address family (`sa_family_t`, zero-extended).
    pub family: u32,
    /// Port, network byte order (`__be16`).
    pub port: u16,
    /// Padding.
    pub pad: [u8; 2],
    /// IPv4 or IPv6 address (the anonymous union).
    pub v4_addr: io_uring_bpf_ctx_connect_v4_addr,
}
layout!(io_uring_bpf_ctx_connect: size 24, align 4; family @ 0, port @ 4, pad @ 6, v4_addr @ 8);

/// The anonymous address union of [`io_uring_bpf_ctx_connect`].
#[repr(C)]
#[derive(Clone, Copy)]
pub union io_uring_bpf_ctx_connect_v4_addr {
    /// IPv4 address, network byte order (`__be32`).
    pub v4_addr: u32,
    /// IPv6 address.
    pub v6_addr: [u8; 16],
}
layout!(io_uring_bpf_ctx_connect_v4_addr: size 16, align 4; v4_addr @ 0, v6_addr @ 0);
union_default!(io_uring_bpf_ctx_connect_v4_addr { v6_addr: [0; 16] });
union_debug!(io_uring_bpf_ctx_connect_v4_addr, v6_addr);

/// `io_uring_bpf_filter::flags`: deny every opcode that has no filter.
pub const IO_URING_BPF_FILTER_DENY_REST: u32 = 1;
/// `io_uring_bpf_filter::flags`: fail if kernel and application disagree on `pdu_size`.
pub const IO_URING_BPF_FILTER_SZ_STRICT: u32 = 2;

/// One filter: a classic-BPF program attached to an opcode.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct io_uring_bpf_filter {
    /// Opcode to filter (`IORING_OP_*`).
    pub opcode: u32,
    /// `IO_URING_BPF_FILTER_*` flags.
    pub flags: u32,
    /// Number of BPF instructions.
    pub filter_len: u32,
    /// Expected opcode-specific data size.
    pub pdu_size: u8,
    /// Reserved.
    pub resv: [u8; 3],
    /// Pointer to the `sock_filter` instructions.
    pub filter_ptr: u64,
    /// Reserved.
    pub resv2: [u64; 5],
}
layout!(io_uring_bpf_filter: size 64, align 8;
    opcode @ 0, flags @ 4, filter_len @ 8, pdu_size @ 12, resv @ 13, filter_ptr @ 16, resv2 @ 24);

/// `io_uring_bpf::cmd_type`: register a filter ([`io_uring_bpf_filter`]).
pub const IO_URING_BPF_CMD_FILTER: u16 = 1;

/// Argument of `IORING_REGISTER_BPF_FILTER`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct io_uring_bpf {
    /// Command, an `IO_URING_BPF_CMD_*` value.
    pub cmd_type: u16,
    /// Command flags (none defined).
    pub cmd_flags: u16,
    /// Reserved.
    pub resv: u32,
    /// Command arguments (the anonymous union, named `u` here).
    pub u: io_uring_bpf_u,
}
layout!(io_uring_bpf: size 72, align 8; cmd_type @ 0, cmd_flags @ 2, resv @ 4, u @ 8);

/// The anonymous union of [`io_uring_bpf`].
#[repr(C)]
#[derive(Clone, Copy)]
pub union io_uring_bpf_u {
    /// `IO_URING_BPF_CMD_FILTER` arguments.
    pub filter: io_uring_bpf_filter,
}
layout!(io_uring_bpf_u: size 64, align 8; filter @ 0);
union_default!(io_uring_bpf_u {
    filter: io_uring_bpf_filter {
        opcode: 0,
        flags: 0,
        filter_len: 0,
        pdu_size: 0,
        resv: [0; 3],
        filter_ptr: 0,
        resv2: [0; 5],
    }
});
union_debug!(io_uring_bpf_u, filter);
