//! [`Submitter`]: the system-call side of a ring (`io_uring_enter(2)`, `io_uring_register(2)`),
//! shared by every `Submitter` method of the crate (registration in [`register`](crate::register),
//! NAPI in [`napi`](crate::napi)).

use core::ffi::c_void;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::time::Duration;

use uring_uapi::*;

use crate::setup::SetupFlags;
use crate::sys;
use crate::Features;

/// The system-call side of a ring: the fd used for `io_uring_enter(2)` and
/// `io_uring_register(2)`, the setup flags and features, and the bits that decide when to enter.
/// Linux 5.1.
#[derive(Debug)]
pub struct Submitter {
    /// The real fd, unless closed (`close_ring_fd`) or never had (`REGISTERED_FD_ONLY`).
    pub(super) fd: Option<OwnedFd>,
    /// The fd or registered index passed to `io_uring_enter(2)`.
    pub(super) enter_fd: i32,
    /// `IORING_ENTER_REGISTERED_RING` when `enter_fd` is a registered index, plus
    /// `IORING_ENTER_NO_IOWAIT` when iowait accounting is off.
    pub(super) enter_flags: u32,
    /// Whether register calls may use the registered index (`IORING_FEAT_REG_REG_RING`).
    pub(super) reg_reg_ring: bool,
    /// Whether the fd is kept from safe code ([`Submitter::fd`] returns `None`): set for rings
    /// whose completions the crate trusts (the owned layer's), so that no safe code can name
    /// the ring as the target of `IORING_OP_MSG_RING` and post made-up completions into it.
    pub(super) sealed: bool,
    /// Whether [`fd`](Submitter::fd) lent the fd to code outside the crate (shared with the
    /// keep-alive list: the teardown proof is not attempted then).
    pub(super) fd_lent: std::sync::Arc<std::sync::atomic::AtomicBool>,
    pub(super) flags: SetupFlags,
    pub(super) features: Features,
    pub(super) params: io_uring_params,
}

impl Submitter {
    /// `io_uring_enter(2)` without an extended argument, using the registered index when there
    /// is one.
    /// Linux 5.1; the registered index: `IORING_ENTER_REGISTERED_RING`, Linux 5.18.
    #[inline]
    pub fn enter(&self, to_submit: u32, min_complete: u32, flags: u32) -> io::Result<u32> {
        // SAFETY: no argument pointer; entries' memory is the pushers' contract.
        unsafe { sys::enter(self.enter_fd, to_submit, min_complete, flags | self.enter_flags, core::ptr::null(), 0) }
    }

    /// `io_uring_enter(2)` with an argument.
    /// `IORING_ENTER_EXT_ARG`, Linux 5.11.
    ///
    /// # Safety
    /// `arg` must point to `size` readable bytes of the argument form `flags` selects, valid for
    /// the call.
    pub unsafe fn enter_with_arg(
        &self,
        to_submit: u32,
        min_complete: u32,
        flags: u32,
        arg: *const c_void,
        size: usize,
    ) -> io::Result<u32> {
        // SAFETY: the caller's contract.
        unsafe { sys::enter(self.enter_fd, to_submit, min_complete, flags | self.enter_flags, arg, size) }
    }

    /// `io_uring_register(2)` on this ring, through the registered ring index when the kernel
    /// allows it (`IORING_REGISTER_USE_REGISTERED_RING`).
    /// Linux 5.1; through the registered index: Linux 6.3 (`IORING_FEAT_REG_REG_RING`).
    ///
    /// # Safety
    /// `arg` must be what `opcode` expects (`nr_args` elements, readable, and writable where the
    /// kernel writes back), and anything registered by address must stay valid while registered.
    pub unsafe fn register_raw(&self, opcode: u32, arg: *const c_void, nr_args: u32) -> io::Result<u32> {
        let (fd, op) = if self.reg_reg_ring {
            (self.enter_fd, opcode | IORING_REGISTER_USE_REGISTERED_RING)
        } else {
            match &self.fd {
                Some(fd) => (fd.as_raw_fd(), opcode),
                None => (self.enter_fd, opcode | IORING_REGISTER_USE_REGISTERED_RING),
            }
        };
        // SAFETY: the caller's contract.
        unsafe { sys::register(fd, op, arg, nr_args) }
    }

    /// Cancels the requests `key` matches and waits for them to finish, up to `timeout`
    /// (`None`: without limit) (`io_uring_register_sync_cancel(3)`, `IORING_REGISTER_SYNC_CANCEL`,
    /// Linux 6.0). Unlike an `IORING_OP_ASYNC_CANCEL` entry, this returns only once the matched
    /// requests have completed. Returns the number cancelled (with `all`/`any`; otherwise 0 for
    /// the one match); `ENOENT` when nothing matched, `ETIME` when the wait timed out.
    pub fn sync_cancel(&self, key: impl crate::op::CancelKey, timeout: Option<Duration>) -> io::Result<u32> {
        let sqe = crate::op::key_sqe(&key);
        let raw = sqe.as_raw();
        // SAFETY: plain-integer unions written by the cancel encoder.
        let (addr, flags) = unsafe { (raw.addr.addr, raw.op_flags.cancel_flags) };
        let mut reg = io_uring_sync_cancel_reg {
            addr,
            fd: raw.fd,
            flags,
            timeout: timeout.map_or(__kernel_timespec { tv_sec: -1, tv_nsec: -1 }, crate::op::duration_timespec),
            opcode: raw.len as u8,
            ..Default::default()
        };
        // SAFETY: one valid `io_uring_sync_cancel_reg`.
        unsafe {
            self.register_raw(
                IORING_REGISTER_SYNC_CANCEL,
                &mut reg as *mut io_uring_sync_cancel_reg as *const c_void,
                1,
            )
        }
    }

    /// The ring's fd, unless it has none (`REGISTERED_FD_ONLY`), it was closed, or the ring
    /// belongs to an [`OwnedRing`](crate::owned::OwnedRing), which keeps its fd to itself: any
    /// holder of a ring's fd can post completions into it (`IORING_OP_MSG_RING`), and the owned
    /// layer's completions must come from the kernel alone (see the crate's safety model).
    ///
    /// Lending the fd has a cost at drop: its holder could tamper with the proof that the
    /// kernel is done with the ring's memory, so a ring whose fd was lent does not wait for
    /// that proof and retires its buffer memory instead (see [`Ring`](super::Ring)'s drop).
    pub fn fd(&self) -> Option<BorrowedFd<'_>> {
        if self.sealed {
            return None;
        }
        let fd = self.fd.as_ref()?;
        self.fd_lent.store(true, std::sync::atomic::Ordering::Release);
        Some(fd.as_fd())
    }

    /// The ring's fd as a number (also for a ring of the owned layer), for readiness polling:
    /// the fd is readable when completions are ready. Using the number for anything else (such
    /// as a `BorrowedFd` made with `unsafe`, to post messages into the ring) breaks Rust's
    /// I/O-safety rules: the ring owns its fd. `None` for a ring without an fd.
    pub fn raw_fd(&self) -> Option<RawFd> {
        self.fd.as_ref().map(|f| f.as_raw_fd())
    }

    /// The value `io_uring_enter(2)` is called with: the fd, or the registered ring index.
    pub fn enter_fd(&self) -> RawFd {
        self.enter_fd
    }

    /// Whether calls go through a registered ring index.
    pub fn is_ring_fd_registered(&self) -> bool {
        self.enter_flags & IORING_ENTER_REGISTERED_RING != 0
    }

    /// The setup flags the kernel accepted.
    pub fn setup_flags(&self) -> SetupFlags {
        self.flags
    }

    /// The `IORING_FEAT_*` features of the kernel.
    pub fn features(&self) -> Features {
        self.features
    }
}

// SAFETY: `Submitter` holds only an fd and plain data.
unsafe impl Send for Submitter {}
// SAFETY: as above; its methods take `&self` and only issue system calls.
unsafe impl Sync for Submitter {}
