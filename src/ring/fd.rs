//! The ring's own fd: registering it with itself, closing it, and the flags every enter call
//! carries (`IORING_ENTER_REGISTERED_RING`, `IORING_ENTER_NO_IOWAIT`).

use core::ffi::c_void;
use std::io;
use std::os::fd::AsRawFd;

use uring_uapi::*;

use super::Ring;
use crate::{Error, Features, Result};

impl Ring {
    /// Registers the ring's fd with itself (`io_uring_register_ring_fd(3)`): every later
    /// `io_uring_enter(2)` (and, with `IORING_FEAT_REG_REG_RING`, every `io_uring_register(2)`)
    /// passes the registered index instead of the fd, skipping the fd table lookup. The index is
    /// per-thread: use the ring from the thread that registered it. Returns the index.
    pub fn register_ring_fd(&mut self) -> Result<u32> {
        if self.sub.enter_flags & IORING_ENTER_REGISTERED_RING != 0 {
            return Err(Error::InvalidArgument { what: "ring fd", reason: "already registered" });
        }
        let fd = self
            .sub
            .fd
            .as_ref()
            .map(|f| f.as_raw_fd())
            .ok_or(Error::InvalidArgument { what: "ring fd", reason: "the ring has no fd to register" })?;
        let mut up = io_uring_rsrc_update { offset: u32::MAX, resv: 0, data: fd as u64 };
        // SAFETY: one valid, writable `io_uring_rsrc_update`.
        let n = unsafe {
            self.sub.register_raw(IORING_REGISTER_RING_FDS, &mut up as *mut io_uring_rsrc_update as *const c_void, 1)
        }?;
        if n != 1 {
            return Err(Error::Os(io::Error::from_raw_os_error(libc::EINVAL)));
        }
        self.sub.enter_fd = up.offset as i32;
        self.sub.enter_flags |= IORING_ENTER_REGISTERED_RING;
        self.sub.reg_reg_ring = self.sub.features.contains(Features::REG_REG_RING);
        self.cq.set_enter(self.sub.enter_fd, self.sub.enter_flags);
        Ok(up.offset)
    }

    /// Unregisters the ring fd registered by [`register_ring_fd`](Self::register_ring_fd)
    /// (`io_uring_unregister_ring_fd(3)`); calls go back to the plain fd.
    pub fn unregister_ring_fd(&mut self) -> Result<()> {
        if self.sub.enter_flags & IORING_ENTER_REGISTERED_RING == 0 {
            return Err(Error::InvalidArgument { what: "ring fd", reason: "not registered" });
        }
        let Some(fd) = self.sub.fd.as_ref().map(|f| f.as_raw_fd()) else {
            return Err(Error::InvalidArgument {
                what: "ring fd",
                reason: "the ring has no other fd (REGISTERED_FD_ONLY or closed); drop the ring instead",
            });
        };
        let mut up = io_uring_rsrc_update { offset: self.sub.enter_fd as u32, resv: 0, data: 0 };
        // SAFETY: one valid `io_uring_rsrc_update`.
        unsafe {
            self.sub.register_raw(IORING_UNREGISTER_RING_FDS, &mut up as *mut io_uring_rsrc_update as *const c_void, 1)
        }?;
        self.sub.enter_fd = fd;
        self.sub.enter_flags &= !IORING_ENTER_REGISTERED_RING;
        self.sub.reg_reg_ring = false;
        self.cq.set_enter(self.sub.enter_fd, self.sub.enter_flags);
        Ok(())
    }

    /// Closes the ring's fd once it is registered (`io_uring_close_ring_fd(3)`): the ring keeps
    /// working through its registered index. Needs `IORING_FEAT_REG_REG_RING` (Linux 6.3), so
    /// register calls can use the index too.
    pub fn close_ring_fd(&mut self) -> Result<()> {
        if !self.sub.features.contains(Features::REG_REG_RING) {
            return Err(Error::Unsupported { what: "IORING_FEAT_REG_REG_RING (Linux 6.3)" });
        }
        if self.sub.enter_flags & IORING_ENTER_REGISTERED_RING == 0 {
            return Err(Error::InvalidArgument { what: "ring fd", reason: "register it first" });
        }
        if self.sub.fd.take().is_none() {
            return Err(Error::InvalidArgument { what: "ring fd", reason: "already closed" });
        }
        Ok(())
    }

    /// Turns iowait accounting of waits on or off (`io_uring_set_iowait(3)`,
    /// `IORING_ENTER_NO_IOWAIT`, Linux 6.15).
    pub fn set_iowait(&mut self, enabled: bool) -> Result<()> {
        if !self.sub.features.contains(Features::NO_IOWAIT) {
            return Err(Error::Unsupported { what: "IORING_FEAT_NO_IOWAIT (Linux 6.15)" });
        }
        if enabled {
            self.sub.enter_flags &= !IORING_ENTER_NO_IOWAIT;
        } else {
            self.sub.enter_flags |= IORING_ENTER_NO_IOWAIT;
        }
        self.cq.set_enter(self.sub.enter_fd, self.sub.enter_flags);
        Ok(())
    }

    /// Enables a ring created with `IORING_SETUP_R_DISABLED` (Linux 5.10) (`io_uring_enable_rings(3)`).
    pub fn enable_rings(&mut self) -> io::Result<()> {
        // SAFETY: no argument.
        unsafe { self.sub.register_raw(IORING_REGISTER_ENABLE_RINGS, core::ptr::null(), 0) }?;
        Ok(())
    }
}
