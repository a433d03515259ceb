//! Provided-buffer rings (`IORING_REGISTER_PBUF_RING`).

/// One buffer of a provided-buffer ring.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct io_uring_buf {
    /// Buffer address.
    pub addr: u64,
    /// Buffer length.
    pub len: u32,
    /// Buffer id, reported in `io_uring_cqe::flags >> IORING_CQE_BUFFER_SHIFT`.
    pub bid: u16,
    /// Reserved (in entry 0 it is the ring tail, see [`io_uring_buf_ring`]).
    pub resv: u16,
}
layout!(io_uring_buf: size 16, align 8; addr @ 0, len @ 8, bid @ 12, resv @ 14);

/// Provided-buffer ring: `ring_entries` [`io_uring_buf`]s whose first entry's `resv` is the tail.
///
/// In C this is a union of the 16-byte header and the flexible array `bufs[]`, both at offset 0.
/// Here `bufs` is a zero-length array declared first, so it too sits at offset 0: entry `i` is
/// `bufs.as_ptr().add(i)` (derive the pointer from the raw ring pointer, e.g. with
/// `addr_of_mut!((*ring).bufs)`, not from a `&io_uring_buf_ring`), and `tail` overlays
/// `bufs[0].resv`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct io_uring_buf_ring {
    /// The ring entries, starting at offset 0 (overlaying the header fields below).
    pub bufs: [io_uring_buf; 0],
    /// Overlays `bufs[0].addr`.
    pub resv1: u64,
    /// Overlays `bufs[0].len`.
    pub resv2: u32,
    /// Overlays `bufs[0].bid`.
    pub resv3: u16,
    /// Producer index, written by the application (overlays `bufs[0].resv`).
    pub tail: u16,
}
layout!(io_uring_buf_ring: size 16, align 8;
    bufs @ 0, resv1 @ 0, resv2 @ 8, resv3 @ 12, tail @ 14);

// enum io_uring_register_pbuf_ring_flags: values of io_uring_buf_reg::flags

/// `io_uring_buf_reg::flags`: the kernel allocates the ring; mmap it at `IORING_OFF_PBUF_RING` (Linux 6.4).
pub const IOU_PBUF_RING_MMAP: u16 = 1;
/// `io_uring_buf_reg::flags`: buffers may be consumed incrementally (Linux 6.12).
pub const IOU_PBUF_RING_INC: u16 = 2;

/// Argument of `IORING_REGISTER_PBUF_RING` / `IORING_UNREGISTER_PBUF_RING` (Linux 5.19).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct io_uring_buf_reg {
    /// Address of the ring memory (0 with `IOU_PBUF_RING_MMAP`).
    pub ring_addr: u64,
    /// Number of entries, a power of two up to 32768.
    pub ring_entries: u32,
    /// Buffer group id.
    pub bgid: u16,
    /// `IOU_PBUF_RING_*` flags.
    pub flags: u16,
    /// Low-water mark of available buffers (Linux 7.1).
    pub min_left: u32,
    /// Reserved, must be zero.
    pub resv: [u32; 5],
}
layout!(io_uring_buf_reg: size 40, align 8;
    ring_addr @ 0, ring_entries @ 8, bgid @ 12, flags @ 14, min_left @ 16, resv @ 20);

/// Argument of `IORING_REGISTER_PBUF_STATUS` (Linux 6.8).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct io_uring_buf_status {
    /// Input: buffer group id.
    pub buf_group: u32,
    /// Output: the kernel's head (consumer) index.
    pub head: u32,
    /// Reserved, must be zero.
    pub resv: [u32; 8],
}
layout!(io_uring_buf_status: size 40, align 4; buf_group @ 0, head @ 4, resv @ 8);
