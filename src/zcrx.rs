//! Zero-copy receive (zcrx): a network receive queue delivers packets straight into an area of
//! application memory; `IORING_OP_RECV_ZC` completions name where (32-byte CQEs), and the
//! application hands consumed pieces back through a *refill ring* (`IORING_REGISTER_ZCRX_IFQ`,
//! Linux 6.15; `IORING_REGISTER_ZCRX_CTRL`, Linux 7.0; `ZCRX_REG_NODEV` without a device, 7.x).
//!
//! [`ZcrxBuilder::build`] registers an interface queue with an area and a refill-ring region the
//! crate allocates; the kernel writes the queue id, the area token and the ring offsets back
//! into the registration, which the crate takes by `&mut` (the `io-uring` crate's `&` is
//! unsound there). The area stays alive until the [`Ring`] it is registered with is dropped.
//! Needs a ring with `IORING_SETUP_DEFER_TASKRUN` and 32-byte CQEs, and `CAP_NET_ADMIN`.

use core::ffi::c_void;
use std::io;

use uring_uapi::*;

use crate::cqe::Cqe32;
use crate::sync::{AtomicU32, Ordering};
use crate::sys::{self, Mmap};
use crate::{Error, Result, Ring};

/// Options of a zero-copy receive interface queue.
/// `IORING_REGISTER_ZCRX_IFQ`, Linux 6.15.
#[derive(Debug, Clone, Copy)]
pub struct ZcrxBuilder {
    if_idx: u32,
    if_rxq: u32,
    rq_entries: u32,
    area_len: usize,
    flags: u32,
    rx_buf_len: u32,
}

/// A registered zero-copy receive queue: its id, area and refill ring.
/// `IORING_REGISTER_ZCRX_IFQ`, Linux 6.15.
#[derive(Debug)]
pub struct Zcrx {
    zcrx_id: u32,
    area_token: u64,
    area_base: *mut u8,
    area_len: usize,
    refill: RefillRing,
    _region: Mmap,
}

/// The refill ring: the application returns consumed area pieces to the kernel here.
/// (`struct io_uring_zcrx_rqe` entries, Linux 6.15.)
#[derive(Debug)]
pub struct RefillRing {
    khead: *const AtomicU32,
    ktail: *const AtomicU32,
    rqes: *mut io_uring_zcrx_rqe,
    mask: u32,
    entries: u32,
    tail: u32,
    area_token: u64,
}

impl ZcrxBuilder {
    /// Receive queue `if_rxq` of network interface `if_idx`, with a refill ring of `rq_entries`
    /// (a power of two) and an area of `area_len` bytes (rounded up to pages).
    /// `IORING_REGISTER_ZCRX_IFQ`, Linux 6.15.
    pub fn new(if_idx: u32, if_rxq: u32, rq_entries: u32, area_len: usize) -> Self {
        ZcrxBuilder { if_idx, if_rxq, rq_entries, area_len, flags: 0, rx_buf_len: 0 }
    }

    /// `ZCRX_REG_NODEV`: no network device; data is copied into the area (for testing and
    /// software paths, Linux 7.x).
    pub fn no_device(mut self) -> Self {
        self.flags |= ZCRX_REG_NODEV;
        self
    }

    /// Desired receive page size (`rx_buf_len`, with `ZCRX_FEATURE_RX_PAGE_SIZE`).
    pub fn rx_buf_len(mut self, len: u32) -> Self {
        self.rx_buf_len = len;
        self
    }

    /// Registers the queue with `ring`.
    pub fn build(self, ring: &mut Ring) -> Result<Zcrx> {
        if self.rq_entries == 0 || !self.rq_entries.is_power_of_two() {
            return Err(Error::NotPowerOfTwo { what: "zcrx refill ring entries", value: self.rq_entries });
        }
        if self.area_len == 0 {
            return Err(Error::InvalidArgument { what: "zcrx area", reason: "must be non-empty" });
        }
        let page = sys::page_size();
        let area = Mmap::anonymous(self.area_len.div_ceil(page) * page, false)?;
        // The refill ring: the kernel's header, then the entries.
        let hdr = match crate::query::query::<io_uring_query_zcrx>(None) {
            Ok(q) if q.rq_hdr_size > 0 => {
                (q.rq_hdr_size as usize).div_ceil(q.rq_hdr_alignment.max(1) as usize)
                    * q.rq_hdr_alignment.max(1) as usize
            }
            _ => page,
        };
        let region_len =
            (hdr + self.rq_entries as usize * core::mem::size_of::<io_uring_zcrx_rqe>()).div_ceil(page) * page;
        let region = Mmap::anonymous(region_len, false)?;
        let mut area_reg =
            io_uring_zcrx_area_reg { addr: area.as_ptr() as u64, len: area.len() as u64, ..Default::default() };
        let mut region_desc = io_uring_region_desc {
            user_addr: region.as_ptr() as u64,
            size: region_len as u64,
            flags: IORING_MEM_REGION_TYPE_USER,
            ..Default::default()
        };
        let mut reg = io_uring_zcrx_ifq_reg {
            if_idx: self.if_idx,
            if_rxq: self.if_rxq,
            rq_entries: self.rq_entries,
            flags: self.flags,
            area_ptr: &mut area_reg as *mut io_uring_zcrx_area_reg as u64,
            region_ptr: &mut region_desc as *mut io_uring_region_desc as u64,
            rx_buf_len: self.rx_buf_len,
            ..Default::default()
        };
        register_ifq(ring, &mut reg)?;
        let area_base = area.as_ptr();
        let area_len = area.len();
        // The device may write into the area until the ring is gone.
        ring.keep_alive_map(area);
        let base = region.as_ptr();
        let entries = reg.rq_entries;
        // SAFETY: the kernel wrote the offsets of the head, tail and entries inside the region.
        let refill = unsafe {
            RefillRing {
                khead: base.add(reg.offsets.head as usize) as *const AtomicU32,
                ktail: base.add(reg.offsets.tail as usize) as *const AtomicU32,
                rqes: base.add(reg.offsets.rqes as usize) as *mut io_uring_zcrx_rqe,
                mask: entries - 1,
                entries,
                tail: (*(base.add(reg.offsets.tail as usize) as *const AtomicU32)).load(Ordering::Acquire),
                area_token: area_reg.rq_area_token,
            }
        };
        Ok(Zcrx {
            zcrx_id: reg.zcrx_id,
            area_token: area_reg.rq_area_token,
            area_base,
            area_len,
            refill,
            _region: region,
        })
    }
}

/// `IORING_REGISTER_ZCRX_IFQ` (Linux 6.15): the kernel writes the queue id and ring offsets back into `reg`
/// (and the area token into the area it points at), hence `&mut`.
pub fn register_ifq(ring: &Ring, reg: &mut io_uring_zcrx_ifq_reg) -> Result<()> {
    // SAFETY: `reg` and what it points at are valid and writable for the call.
    unsafe {
        ring.submitter().register_raw(IORING_REGISTER_ZCRX_IFQ, reg as *mut io_uring_zcrx_ifq_reg as *const c_void, 1)
    }?;
    Ok(())
}

/// `IORING_REGISTER_ZCRX_CTRL`: the kernel may write results back into `ctrl` (an exported fd),
/// hence `&mut`.
/// Not in Linux 6.18.
pub fn zcrx_ctrl(ring: &Ring, ctrl: &mut zcrx_ctrl) -> io::Result<u32> {
    // SAFETY: one valid, writable `zcrx_ctrl`.
    // (The kernel takes `nr_args` 0 for this call and answers EINVAL otherwise.)
    unsafe { ring.submitter().register_raw(IORING_REGISTER_ZCRX_CTRL, ctrl as *mut zcrx_ctrl as *const c_void, 0) }
}

impl Zcrx {
    /// The queue id (for `IORING_OP_RECV_ZC` (Linux 6.15)'s `zcrx_ifq_idx` and control calls).
    pub fn id(&self) -> u32 {
        self.zcrx_id
    }

    /// The area token the kernel assigned (the upper bits of every area offset).
    pub fn area_token(&self) -> u64 {
        self.area_token
    }

    /// The refill ring.
    pub fn refill(&mut self) -> &mut RefillRing {
        &mut self.refill
    }

    /// The bytes a `RECV_ZC` completion names: `res` bytes at the area offset in its big CQE
    /// (`struct io_uring_zcrx_cqe`, Linux 6.15). `None` if the range is outside the area
    /// (checked before anything is read); a completion with `res <= 0` names no bytes.
    ///
    /// `unsafe` because the crate does not track which pieces of the area are the
    /// application's: a `Cqe32` can be made up, and a range stays readable only until it is
    /// handed back. A safe form, readable only through a token a genuine completion produced,
    /// is planned.
    ///
    /// # Safety
    /// Nothing may write the named range while the returned slice lives. The device (or, with
    /// `ZCRX_REG_NODEV`, the kernel's copy) writes only area memory the kernel owns; a
    /// `RECV_ZC` completion hands a range to the application, and the kernel may write it
    /// again once the application returns it through the refill ring. So:
    /// - The [`Ring`] this queue is registered with is still alive, and stays so while the
    ///   slice lives: it keeps the area mapped, and a `Zcrx` does not borrow it (dropping the
    ///   ring unmaps the area).
    /// - `cqe` is a genuine completion, posted by the kernel on the ring this queue is
    ///   registered with, of an `IORING_OP_RECV_ZC` request that reads from this queue
    ///   (`zcrx_ifq_idx` = [`id`](Self::id)). A completion built with
    ///   [`Cqe32::new`](crate::Cqe32::new) or posted by an `IORING_OP_MSG_RING` message proves
    ///   nothing: its sender chose the offset.
    /// - Since that completion, no part of the range has been handed back to the kernel, and
    ///   none is while the slice lives: no refill entry covering any of it was pushed
    ///   ([`RefillRing::push`]) and published ([`RefillRing::publish`]), on this queue or
    ///   through any other ring or process that shares it ([`export`](Self::export)).
    ///   (`refill` takes `&mut self`, so this `Zcrx` cannot return pieces while the slice
    ///   borrows it; once the slice is gone, a returned range must not be read again with the
    ///   same completion.)
    ///
    /// ```
    /// fn f(z: &uring::zcrx::Zcrx, cqe: &uring::Cqe32) {
    ///     // SAFETY: `cqe` is a RECV_ZC completion of this queue; its range was not returned.
    ///     let _ = unsafe { z.data(cqe) };
    /// }
    /// ```
    /// Without `unsafe` the call does not compile:
    /// ```compile_fail,E0133
    /// fn f(z: &uring::zcrx::Zcrx, cqe: &uring::Cqe32) {
    ///     let _ = z.data(cqe);
    /// }
    /// ```
    pub unsafe fn data(&self, cqe: &Cqe32) -> Option<&[u8]> {
        let off = cqe.big_cqe()[0] & !IORING_ZCRX_AREA_MASK;
        let len = cqe.raw_result().max(0) as u64;
        if off.checked_add(len)? > self.area_len as u64 {
            return None;
        }
        // SAFETY: `len` bytes in bounds of the area (checked above), which stays mapped while
        // the ring lives; that the ring lives and nothing writes the bytes while the slice
        // lives is the caller's contract.
        Some(unsafe { core::slice::from_raw_parts(self.area_base.add(off as usize), len as usize) })
    }

    /// Asks the kernel to consume the refill ring now (`ZCRX_CTRL_FLUSH_RQ`).
    /// `IORING_REGISTER_ZCRX_CTRL`, not in Linux 6.18.
    pub fn flush_refill(&self, ring: &Ring) -> io::Result<()> {
        let mut c = zcrx_ctrl { zcrx_id: self.zcrx_id, op: ZCRX_CTRL_FLUSH_RQ, ..Default::default() };
        zcrx_ctrl(ring, &mut c).map(|_| ())
    }

    /// Exports the queue as a file descriptor (`ZCRX_CTRL_EXPORT`), written back by the kernel.
    /// `IORING_REGISTER_ZCRX_CTRL`, not in Linux 6.18.
    pub fn export(&self, ring: &Ring) -> io::Result<u32> {
        let mut c = zcrx_ctrl { zcrx_id: self.zcrx_id, op: ZCRX_CTRL_EXPORT, ..Default::default() };
        zcrx_ctrl(ring, &mut c)?;
        // SAFETY: the kernel filled the export member.
        Ok(unsafe { c.zc_export.zc_export.zcrx_fd })
    }
}

impl RefillRing {
    /// Queues `len` bytes at area offset `off` for return to the kernel; `false` when the ring is
    /// full. Returned pieces become visible with [`publish`](Self::publish).
    /// (`struct io_uring_zcrx_rqe`.)
    pub fn push(&mut self, off: u64, len: u32) -> bool {
        // SAFETY: points into the live region; the kernel releases entries by advancing head.
        let head = unsafe { (*self.khead).load(Ordering::Acquire) };
        if self.tail.wrapping_sub(head) >= self.entries {
            return false;
        }
        let e = self.rqes.wrapping_add((self.tail & self.mask) as usize);
        // SAFETY: the slot is free (checked against head) and inside the region.
        unsafe { e.write(io_uring_zcrx_rqe { off: (off & !IORING_ZCRX_AREA_MASK) | self.area_token, len, __pad: 0 }) };
        self.tail = self.tail.wrapping_add(1);
        true
    }

    /// Publishes queued entries with one release store of the tail.
    /// (The refill ring's tail, `io_uring_zcrx_rq`.)
    pub fn publish(&mut self) {
        // SAFETY: points into the live region; only the application writes the tail.
        unsafe { (*self.ktail).store(self.tail, Ordering::Release) };
    }

    /// Entries queued and not yet consumed by the kernel.
    pub fn pending(&self) -> u32 {
        // SAFETY: as in `push`.
        self.tail.wrapping_sub(unsafe { (*self.khead).load(Ordering::Acquire) })
    }
}

// SAFETY: the pointers are into memory this value owns (the region) or keeps alive through the
// ring (the area); moving it moves exclusive use.
unsafe impl Send for Zcrx {}
// SAFETY: as above.
unsafe impl Send for RefillRing {}
