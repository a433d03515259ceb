//! NAPI busy polling for network receives (`IORING_REGISTER_NAPI`, Linux 6.9; static tracking
//! Linux 6.13) and the clock used for wait timeouts (`IORING_REGISTER_CLOCK`, Linux 6.12).
//! See `io_uring_register_napi(3)`, `io_uring_unregister_napi(3)`, `io_uring_register_clock(3)`.

use core::ffi::c_void;
use std::io;

use uring_uapi::*;

use crate::ring::Submitter;

/// How the ring learns which NAPI instances to poll.
/// Set through `io_uring_napi.op_param` with `IO_URING_NAPI_REGISTER_OP` (Linux 6.13); before 6.13
/// tracking is always dynamic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NapiTracking {
    /// From the sockets its requests use (`IO_URING_NAPI_TRACKING_DYNAMIC`).
    /// The only mode of Linux 6.9 to 6.12.
    Dynamic,
    /// Only the ids added with [`Submitter::napi_add_id`] (`IO_URING_NAPI_TRACKING_STATIC`).
    /// Linux 6.13.
    Static,
    /// Not polling (`IO_URING_NAPI_TRACKING_INACTIVE`).
    /// Linux 6.13.
    Inactive,
    /// A value this crate does not know.
    Other(u32),
}

impl NapiTracking {
    fn raw(self) -> u32 {
        match self {
            NapiTracking::Dynamic => IO_URING_NAPI_TRACKING_DYNAMIC,
            NapiTracking::Static => IO_URING_NAPI_TRACKING_STATIC,
            NapiTracking::Inactive => IO_URING_NAPI_TRACKING_INACTIVE,
            NapiTracking::Other(v) => v,
        }
    }

    fn from_raw(v: u32) -> Self {
        match v {
            IO_URING_NAPI_TRACKING_DYNAMIC => NapiTracking::Dynamic,
            IO_URING_NAPI_TRACKING_STATIC => NapiTracking::Static,
            IO_URING_NAPI_TRACKING_INACTIVE => NapiTracking::Inactive,
            v => NapiTracking::Other(v),
        }
    }
}

/// NAPI busy-poll settings.
/// The kernel's `struct io_uring_napi` (`IORING_REGISTER_NAPI`, Linux 6.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Napi {
    /// Busy-poll timeout in microseconds.
    pub busy_poll_timeout_us: u32,
    /// Prefer busy polling over interrupts.
    pub prefer_busy_poll: bool,
    /// How NAPI ids are tracked.
    pub tracking: NapiTracking,
}

/// The clock wait timeouts are measured on.
/// `IORING_REGISTER_CLOCK` (`io_uring_register_clock(3)`), Linux 6.12.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// `CLOCK_MONOTONIC` (the default).
    /// (`IORING_REGISTER_CLOCK`, Linux 6.12.)
    Monotonic,
    /// `CLOCK_BOOTTIME` (counts suspended time).
    /// (`IORING_REGISTER_CLOCK`, Linux 6.12.)
    Boottime,
}

impl Submitter {
    fn napi_call(&self, op: u32, napi: &mut io_uring_napi) -> io::Result<()> {
        // SAFETY: one valid, writable `io_uring_napi` (the kernel writes the previous settings
        // back into it).
        unsafe { self.register_raw(op, napi as *mut io_uring_napi as *const c_void, 1) }?;
        Ok(())
    }

    /// Enables NAPI busy polling (`io_uring_register_napi(3)`). Returns the previous settings,
    /// which the kernel writes back.
    /// `IORING_REGISTER_NAPI`, Linux 6.9.
    pub fn register_napi(&self, settings: Napi) -> io::Result<Napi> {
        let mut n = io_uring_napi {
            busy_poll_to: settings.busy_poll_timeout_us,
            prefer_busy_poll: settings.prefer_busy_poll as u8,
            opcode: IO_URING_NAPI_REGISTER_OP,
            op_param: settings.tracking.raw(),
            ..Default::default()
        };
        self.napi_call(IORING_REGISTER_NAPI, &mut n)?;
        Ok(Napi {
            busy_poll_timeout_us: n.busy_poll_to,
            prefer_busy_poll: n.prefer_busy_poll != 0,
            tracking: NapiTracking::from_raw(n.op_param),
        })
    }

    /// Disables NAPI busy polling (`io_uring_unregister_napi(3)`); returns the settings that were
    /// in force.
    pub fn unregister_napi(&self) -> io::Result<Napi> {
        let mut n = io_uring_napi::default();
        self.napi_call(IORING_UNREGISTER_NAPI, &mut n)?;
        Ok(Napi {
            busy_poll_timeout_us: n.busy_poll_to,
            prefer_busy_poll: n.prefer_busy_poll != 0,
            tracking: NapiTracking::from_raw(n.op_param),
        })
    }

    /// Adds NAPI id `id` to the polled set (static tracking, `IO_URING_NAPI_STATIC_ADD_ID`).
    /// Linux 6.13.
    pub fn napi_add_id(&self, id: u32) -> io::Result<()> {
        let mut n = io_uring_napi { opcode: IO_URING_NAPI_STATIC_ADD_ID, op_param: id, ..Default::default() };
        self.napi_call(IORING_REGISTER_NAPI, &mut n)
    }

    /// Removes NAPI id `id` from the polled set (`IO_URING_NAPI_STATIC_DEL_ID`).
    /// Linux 6.13.
    pub fn napi_del_id(&self, id: u32) -> io::Result<()> {
        let mut n = io_uring_napi { opcode: IO_URING_NAPI_STATIC_DEL_ID, op_param: id, ..Default::default() };
        self.napi_call(IORING_REGISTER_NAPI, &mut n)
    }

    /// Chooses the clock for wait timeouts (`io_uring_register_clock(3)`).
    /// `IORING_REGISTER_CLOCK`, Linux 6.12.
    pub fn register_clock(&self, clock: Clock) -> io::Result<()> {
        let mut c = io_uring_clock_register {
            clockid: match clock {
                Clock::Monotonic => libc::CLOCK_MONOTONIC as u32,
                Clock::Boottime => libc::CLOCK_BOOTTIME as u32,
            },
            ..Default::default()
        };
        // SAFETY: one valid `io_uring_clock_register`.
        unsafe {
            self.register_raw(IORING_REGISTER_CLOCK, &mut c as *mut io_uring_clock_register as *const c_void, 0)
        }?;
        Ok(())
    }
}
