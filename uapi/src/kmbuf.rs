//! Kernel-managed buffer rings ("kmbuf"): the **unmerged** v3 proposal. Experimental.
//!
//! Status: posted as "io_uring: add kernel-managed buffer rings" (v3, March 2026), briefly applied
//! to the io_uring staging tree for 7.1, then dropped at the author's request. No mainline kernel
//! up to 7.3 has it, and the ABI may never be merged in this form.
//!
//! A kmbuf ring is registered with `IORING_REGISTER_PBUF_RING` using this module's
//! [`io_uring_buf_reg`] and `flags = IOU_PBUF_RING_MMAP | IOU_PBUF_RING_KERNEL_MANAGED`. The kernel
//! allocates `ring_entries` buffers of `buf_size` bytes each; mmap at
//! `IORING_OFF_PBUF_RING | (bgid << IORING_OFF_PBUF_SHIFT)` maps the buffers (not the ring).
//! Only kernel consumers (uring_cmd drivers) select and recycle the buffers. A kernel without
//! kmbuf rejects the flag with `EINVAL`, which is how support is detected.
//!
//! The crate-root [`io_uring_buf_reg`](crate::io_uring_buf_reg) (the mainline layout) is
//! unchanged by this feature; this module declares its own, layout-compatible variant.

/// `io_uring_buf_reg::flags`: kernel-managed buffer ring; requires `IOU_PBUF_RING_MMAP`, excludes `IOU_PBUF_RING_INC`.
pub const IOU_PBUF_RING_KERNEL_MANAGED: u16 = 4;

/// Argument of `IORING_REGISTER_PBUF_RING` as extended by the kmbuf proposal (40 bytes, as mainline).
///
/// For kmbuf rings, bytes 16..40 (`min_left` and `resv`) must be zero: the proposal predates
/// `min_left` and rejects any non-zero byte there.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct io_uring_buf_reg {
    /// Ring address (ordinary rings) or buffer size (kmbuf rings).
    pub addr: io_uring_buf_reg_addr,
    /// Number of entries (buffers), a power of two up to 32768.
    pub ring_entries: u32,
    /// Buffer group id.
    pub bgid: u16,
    /// `IOU_PBUF_RING_*` flags, including [`IOU_PBUF_RING_KERNEL_MANAGED`].
    pub flags: u16,
    /// Mainline's low-water mark (Linux 7.1); must be zero for kmbuf rings.
    pub min_left: u32,
    /// Reserved, must be zero.
    pub resv: [u32; 5],
}
layout!(io_uring_buf_reg: size 40, align 8;
    addr @ 0, ring_entries @ 8, bgid @ 12, flags @ 14, min_left @ 16, resv @ 20);
static_assertions::assert_eq_size!(io_uring_buf_reg, crate::io_uring_buf_reg);
static_assertions::const_assert_eq!(
    core::mem::align_of::<io_uring_buf_reg>(),
    core::mem::align_of::<crate::io_uring_buf_reg>()
);

/// Bytes 0..8 of the kmbuf [`io_uring_buf_reg`].
///
/// For a kmbuf ring, bytes 4..8 must be written as zero: start from `ring_addr: 0` (or
/// `Default`) and then assign `buf_size`, never construct the union from `buf_size` alone (that
/// leaves bytes 4..8 uninitialised).
#[repr(C)]
#[derive(Clone, Copy)]
pub union io_uring_buf_reg_addr {
    /// Address of the ring memory (ordinary rings).
    pub ring_addr: u64,
    /// Size of each buffer in bytes, a non-zero multiple of the page size (kmbuf rings; bytes 0..4).
    pub buf_size: u32,
}
layout!(io_uring_buf_reg_addr: size 8, align 8; ring_addr @ 0, buf_size @ 0);
union_default!(io_uring_buf_reg_addr { ring_addr: 0 });
union_debug!(io_uring_buf_reg_addr, ring_addr);
