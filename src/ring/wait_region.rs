//! Registered wait arguments: wait parameters (timeout, min-wait, signal mask) stored in a
//! memory region registered with the ring, so each wait passes an offset instead of copying an
//! argument struct (`IORING_REGISTER_MEM_REGION` with `IORING_MEM_REGION_REG_WAIT_ARG`, and
//! `IORING_ENTER_EXT_ARG_REG`, Linux 6.13).
//!
//! liburing's `io_uring_register_wait_reg(3)` is a stub; this is the working path: register the
//! region while the ring is still disabled (`IORING_SETUP_R_DISABLED`), enable the ring, fill
//! entries through [`Ring::wait_args_mut`], and wait with [`Ring::submit_and_wait_reg`].

use core::ffi::c_void;
use std::time::Duration;

use uring_uapi::*;

use super::Ring;
use crate::setup::SetupFlags;
use crate::sys::{self, Mmap};
use crate::{Error, Result};

/// The memory of a registered wait region.
#[derive(Debug)]
pub(crate) struct WaitRegion {
    map: Mmap,
    entries: usize,
}

/// One registered wait argument (`struct io_uring_reg_wait`), as the application fills it.
/// `IORING_ENTER_EXT_ARG_REG`, Linux 6.13.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RegWait {
    /// Give up after this long (sets `IORING_REG_WAIT_TS`).
    pub timeout: Option<Duration>,
    /// Minimum wait before returning with fewer completions than asked.
    pub min_wait: Option<Duration>,
}

impl Ring {
    /// Registers a region of `entries` wait arguments (`io_uring_reg_wait`, 64 bytes each) in
    /// memory the crate maps (`kernel_memory == false`) or the kernel allocates and the crate then
    /// maps (`kernel_memory == true`). The ring must still be disabled
    /// (`IORING_SETUP_R_DISABLED`); enable it afterwards with [`Ring::enable_rings`].
    /// `IORING_REGISTER_MEM_REGION`, Linux 6.13.
    pub fn register_wait_region(&mut self, entries: usize, kernel_memory: bool) -> Result<()> {
        if !self.setup_flags().contains(SetupFlags::R_DISABLED) {
            return Err(Error::WrongRingKind {
                needs: "IORING_SETUP_R_DISABLED (register the region before enabling)",
            });
        }
        if entries == 0 {
            return Err(Error::InvalidArgument { what: "wait region", reason: "needs at least one entry" });
        }
        if self.wait_region.is_some() {
            return Err(Error::InvalidArgument { what: "wait region", reason: "already registered" });
        }
        let page = sys::page_size();
        let size = (entries
            .checked_mul(core::mem::size_of::<io_uring_reg_wait>())
            .ok_or(Error::InvalidArgument { what: "wait region", reason: "too many entries" })?)
        .div_ceil(page)
            * page;
        let user = if kernel_memory { None } else { Some(Mmap::anonymous(size, false)?) };
        let mut desc = io_uring_region_desc {
            user_addr: user.as_ref().map_or(0, |m| m.as_ptr() as u64),
            size: size as u64,
            flags: if kernel_memory { 0 } else { IORING_MEM_REGION_TYPE_USER },
            ..Default::default()
        };
        let mut reg = io_uring_mem_region_reg {
            region_uptr: &mut desc as *mut io_uring_region_desc as u64,
            flags: IORING_MEM_REGION_REG_WAIT_ARG,
            ..Default::default()
        };
        // SAFETY: `reg` points at `desc`, both valid for the call; the user memory it names is
        // kept in the ring until the ring is dropped.
        unsafe {
            self.submitter().register_raw(
                IORING_REGISTER_MEM_REGION,
                &mut reg as *mut io_uring_mem_region_reg as *const c_void,
                1,
            )
        }?;
        let map = match user {
            Some(m) => m,
            None => {
                let fd = self
                    .submitter()
                    .raw_fd()
                    .ok_or(Error::Unsupported { what: "mapping a kernel region without a ring fd" })?;
                Mmap::ring(fd, desc.mmap_offset, size)?
            }
        };
        let entries = size / core::mem::size_of::<io_uring_reg_wait>();
        self.wait_region = Some(WaitRegion { map, entries });
        Ok(())
    }

    /// The registered wait arguments, to fill before waiting (`None` without a region).
    pub fn wait_args_mut(&mut self) -> Option<&mut [io_uring_reg_wait]> {
        let r = self.wait_region.as_mut()?;
        // SAFETY: the region maps `entries` whole `io_uring_reg_wait`s, page-aligned; the kernel
        // reads an entry only during a wait that names it, which needs `&mut self` too.
        Some(unsafe { core::slice::from_raw_parts_mut(r.map.as_ptr().cast(), r.entries) })
    }

    /// Writes a wait argument into entry `index` of the region.
    /// (`struct io_uring_reg_wait`, Linux 6.13.)
    pub fn set_wait_arg(&mut self, index: usize, arg: RegWait) -> Result<()> {
        let slot = self
            .wait_args_mut()
            .ok_or(Error::InvalidArgument { what: "wait region", reason: "not registered" })?
            .get_mut(index)
            .ok_or(Error::InvalidArgument { what: "wait region index", reason: "past the end of the region" })?;
        let mut w = io_uring_reg_wait::default();
        if let Some(t) = arg.timeout {
            w.ts = crate::op::duration_timespec(t);
            w.flags = IORING_REG_WAIT_TS;
        }
        if let Some(m) = arg.min_wait {
            w.min_wait_usec = u32::try_from(m.as_micros()).map_err(|_| Error::InvalidArgument {
                what: "min_wait",
                reason: "longer than u32::MAX microseconds",
            })?;
        }
        *slot = w;
        Ok(())
    }

    /// Submits, then waits for `want` completions with the arguments in entry `index` of the
    /// registered region (`io_uring_submit_and_wait_reg(3)`): `ETIME` if its timeout expires
    /// first. An index past the region is refused before the kernel sees it (the kernel itself
    /// answers `EFAULT`). Returns the number submitted.
    /// `IORING_ENTER_EXT_ARG_REG`, Linux 6.13.
    pub fn submit_and_wait_reg(&mut self, want: u32, index: usize) -> Result<u32> {
        let entries = match &self.wait_region {
            Some(r) => r.entries,
            None => return Err(Error::InvalidArgument { what: "wait region", reason: "not registered" }),
        };
        if index >= entries {
            return Err(Error::InvalidArgument { what: "wait region index", reason: "past the end of the region" });
        }
        let offset = index * core::mem::size_of::<io_uring_reg_wait>();
        let pending = self.sq().flush();
        // The ring's one enter rule (SQPOLL wake-up, GETEVENTS), plus the region argument.
        let flags = self.enter_flags(pending, true).expect("getevents always enters")
            | IORING_ENTER_EXT_ARG
            | IORING_ENTER_EXT_ARG_REG;
        // SAFETY: with EXT_ARG_REG the argument is an offset into the registered region, not a
        // pointer; the kernel bounds-checks it.
        let r = unsafe {
            self.enter(pending, want, flags, offset as *const c_void, core::mem::size_of::<io_uring_reg_wait>())
        };
        match r {
            Ok(n) => Ok(n),
            Err(e) if e.raw_os_error() == Some(libc::ETIME) && pending > 0 => Ok(pending),
            Err(e) => Err(Error::Os(e)),
        }
    }
}
