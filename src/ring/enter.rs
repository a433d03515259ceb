//! Submitting and waiting: the one rule for entering the kernel, and every submit and wait
//! call built on it (see the module docs of [`ring`](super)).

use core::ffi::c_void;
use std::io;
use std::time::Duration;

use uring_uapi::*;

use super::Ring;
use crate::cqe::{Cqe, Cqe32};
use crate::setup::SetupFlags;
use crate::sys;
use crate::{Error, Features, Result};

/// Arguments of an extended wait (`IORING_ENTER_EXT_ARG`, Linux 5.11).
#[derive(Debug, Clone, Copy, Default)]
pub struct WaitArgs<'a> {
    /// Give up after this long (relative, or absolute with `absolute`).
    pub timeout: Option<Duration>,
    /// Wait at most this long for `wait_nr` completions, then return once at least one is there
    /// (`IORING_FEAT_MIN_TIMEOUT`, Linux 6.12).
    pub min_wait: Option<Duration>,
    /// The timeout is an absolute time on the ring's clock (`IORING_ENTER_ABS_TIMER`, Linux 6.12).
    pub absolute: bool,
    /// Signals to block while waiting.
    pub sigmask: Option<&'a libc::sigset_t>,
}

impl Ring {
    // ---- submission ----
    //
    // Every call below that may enter the kernel goes through `enter_flags` (whether to enter,
    // and with which flags) and `enter` (which releases consumed CQ slots before a wait). The
    // rule is liburing's (`sq_ring_needs_enter` + `cq_ring_needs_enter`):
    // - entries to submit need an enter, except under SQPOLL, where they need one only when the
    //   thread sleeps (`IORING_SQ_NEED_WAKEUP`, read after a full fence that orders it after the
    //   tail store), and then with `IORING_ENTER_SQ_WAKEUP`;
    // - `IORING_ENTER_GETEVENTS` whenever the caller waits or asks for events, on IOPOLL rings
    //   always, and whenever completions wait in the kernel (`IORING_SQ_CQ_OVERFLOW`,
    //   `IORING_SQ_TASKRUN`), so a plain submit also flushes them.

    /// Whether to enter the kernel to submit `to_submit` entries (and get events if
    /// `getevents`), and with which flags (`None`: no system call is needed).
    #[inline]
    pub(crate) fn enter_flags(&self, to_submit: u32, getevents: bool) -> Option<u32> {
        let mut flags = self.sub.enter_flags;
        let mut enter = false;
        if to_submit > 0 {
            if self.sub.flags.contains(SetupFlags::SQPOLL) {
                if self.sq.sqpoll_needs_wakeup() {
                    flags |= IORING_ENTER_SQ_WAKEUP;
                    enter = true;
                }
            } else {
                enter = true;
            }
        }
        if getevents || self.cq_needs_enter() {
            flags |= IORING_ENTER_GETEVENTS;
            enter = true;
        }
        enter.then_some(flags)
    }

    /// `io_uring_enter(2)` for the submit and wait calls: releases the CQ slots consumed so far
    /// first when it gets events (a wait must never see its own consumed entries as a full CQ),
    /// and does the `IORING_SETUP_SQ_REWIND` bookkeeping after.
    ///
    /// # Safety
    /// `arg` and `size` as for [`sys::enter`].
    #[inline]
    pub(crate) unsafe fn enter(
        &mut self,
        to_submit: u32,
        want: u32,
        flags: u32,
        arg: *const c_void,
        size: usize,
    ) -> io::Result<u32> {
        if flags & IORING_ENTER_GETEVENTS != 0 {
            self.cq.sync();
        }
        // SAFETY: the caller's contract for `arg`; the entries' memory is the pushers' contract.
        let submitted = unsafe { sys::enter(self.sub.enter_fd, to_submit, want, flags, arg, size) }?;
        if self.sq.is_rewind() {
            self.sq.rewind_after_submit(to_submit, submitted);
        }
        Ok(submitted)
    }

    /// Flushes pushed entries and tells the kernel to consume them (`io_uring_submit(3)`), and
    /// flushes completions that wait in the kernel (overflow, task work) into the CQ. Returns
    /// how many entries were submitted. Makes no system call when nothing needs one (nothing
    /// to submit, or an awake SQPOLL thread takes the entries, and no completion waits in the
    /// kernel).
    #[inline]
    pub fn submit(&mut self) -> io::Result<u32> {
        self.submit_and_wait(0)
    }

    /// Submits, then waits until at least `want` completions are ready
    /// (`io_uring_submit_and_wait(3)`).
    ///
    /// On an `IORING_SETUP_CQE_MIXED` ring `want` counts CQ slots, as the kernel does (a
    /// 32-byte completion fills two, a padding entry one), and a 32-byte completion waiting in
    /// the overflow list needs up to three free slots: there, ask for at most half the CQ size,
    /// or the kernel may wait for slots that can never be filled (as with liburing).
    /// Linux 5.1.
    #[inline]
    pub fn submit_and_wait(&mut self, want: u32) -> io::Result<u32> {
        let pending = self.sq.flush();
        match self.enter_flags(pending, want > 0) {
            // SAFETY: no extended argument.
            Some(flags) => unsafe { self.enter(pending, want, flags, core::ptr::null(), 0) },
            None => Ok(pending),
        }
    }

    /// Submits and runs pending task work so completions become visible, without waiting
    /// (`io_uring_submit_and_get_events(3)`).
    pub fn submit_and_get_events(&mut self) -> io::Result<u32> {
        let pending = self.sq.flush();
        let flags = self.enter_flags(pending, true).expect("getevents always enters");
        // SAFETY: no extended argument.
        unsafe { self.enter(pending, 0, flags, core::ptr::null(), 0) }
    }

    /// Runs pending task work and flushes overflowed completions into the CQ, without
    /// submitting or waiting (`io_uring_get_events(3)`): on `IORING_SETUP_DEFER_TASKRUN` rings
    /// nothing completes until this or a wait is called.
    pub fn get_events(&mut self) -> io::Result<()> {
        self.cq.flush()
    }

    /// Submits, then waits for `want` completions or until `args.timeout` expires
    /// (`io_uring_submit_and_wait_timeout(3)`, `io_uring_submit_and_wait_min_timeout(3)`).
    /// Returns the number of entries submitted, even when the wait timed out; fails with
    /// `ETIME` only when nothing was submitted and no completion arrived in time. Needs
    /// `IORING_FEAT_EXT_ARG` (Linux 5.11).
    pub fn submit_and_wait_with(&mut self, want: u32, args: &WaitArgs<'_>) -> Result<u32> {
        let pending = self.sq.flush();
        let (submitted, _) = self.wait_ext(pending, want, args)?;
        Ok(submitted)
    }

    /// [`submit_and_wait_with`](Self::submit_and_wait_with) with just a timeout.
    /// (`io_uring_submit_and_wait_timeout(3)`: `IORING_FEAT_EXT_ARG`, Linux 5.11.)
    pub fn submit_and_wait_timeout(&mut self, want: u32, timeout: Duration) -> Result<u32> {
        self.submit_and_wait_with(want, &WaitArgs { timeout: Some(timeout), ..Default::default() })
    }

    /// Waits for the SQPOLL thread to free a slot in a full SQ (`io_uring_sqring_wait(3)`).
    pub fn sqring_wait(&mut self) -> io::Result<()> {
        if !self.sub.flags.contains(SetupFlags::SQPOLL) || self.sq.space_left() > 0 {
            return Ok(());
        }
        self.sub.enter(0, 0, IORING_ENTER_SQ_WAIT)?;
        Ok(())
    }

    // ---- completion ----
    //
    // The waits below submit what is pushed and not yet submitted, through the same rule as
    // `submit` (waking a sleeping SQPOLL thread). liburing's wait calls do not submit; here a
    // wait never leaves pushed entries behind, so "push, then wait" cannot hang.

    /// Whether completions wait inside the kernel (overflow or pending task work), so an
    /// `io_uring_enter(2)` with `GETEVENTS` is needed to see them.
    #[inline]
    fn cq_needs_flush(&self) -> bool {
        self.cq.needs_flush()
    }

    /// Whether reading completions needs `io_uring_enter(2)` (IOPOLL, or completions waiting in
    /// the kernel).
    #[inline]
    pub(crate) fn cq_needs_enter(&self) -> bool {
        self.sub.flags.contains(SetupFlags::IOPOLL) || self.cq_needs_flush()
    }

    /// The next completion, consumed, if one is ready; enters the kernel once to flush
    /// overflowed completions or run task work if the CQ looks empty
    /// (`io_uring_peek_cqe(3)` + `io_uring_cqe_seen(3)`). Submits nothing.
    #[inline]
    pub fn peek_cqe(&mut self) -> io::Result<Option<Cqe>> {
        if let Some(cqe) = self.cq.pop() {
            return Ok(Some(cqe));
        }
        if self.cq_needs_enter() {
            self.cq.flush()?;
            return Ok(self.cq.pop());
        }
        Ok(None)
    }

    /// Waits for a completion and consumes it (`io_uring_wait_cqe(3)` + `io_uring_cqe_seen(3)`),
    /// submitting what is pushed first.
    pub fn wait_cqe(&mut self) -> io::Result<Cqe> {
        loop {
            if let Some(cqe) = self.cq.pop() {
                return Ok(cqe);
            }
            self.submit_and_wait(1)?;
        }
    }

    /// Waits for a completion and consumes it with its 32-byte extension, submitting what is
    /// pushed first.
    pub fn wait_cqe32(&mut self) -> io::Result<Cqe32> {
        loop {
            if let Some(cqe) = self.cq.pop32() {
                return Ok(cqe);
            }
            self.submit_and_wait(1)?;
        }
    }

    /// Waits until at least `want` completions are ready, without consuming them
    /// (`io_uring_wait_cqe_nr(3)`), submitting what is pushed first. On a mixed-size CQ `want`
    /// counts slots: see [`submit_and_wait`](Self::submit_and_wait).
    /// Linux 5.1.
    pub fn wait_cqes(&mut self, want: u32) -> io::Result<()> {
        loop {
            if self.cq.ready() >= want && !self.cq_needs_flush() && self.sq.unflushed() == 0 {
                return Ok(());
            }
            self.submit_and_wait(want)?;
            if self.cq.ready() >= want {
                return Ok(());
            }
        }
    }

    /// Waits up to `timeout` for a completion and consumes it (`io_uring_wait_cqe_timeout(3)`),
    /// submitting what is pushed first: `ETIME` when none arrives in time.
    /// Needs `IORING_FEAT_EXT_ARG` (Linux 5.11).
    pub fn wait_cqe_timeout(&mut self, timeout: Duration) -> Result<Cqe> {
        self.wait_cqe_with(&WaitArgs { timeout: Some(timeout), ..Default::default() })
    }

    /// Waits for a completion with extended arguments and consumes it, submitting what is
    /// pushed first.
    /// (`io_uring_wait_cqes(3)` with one completion: `IORING_FEAT_EXT_ARG`, Linux 5.11.)
    pub fn wait_cqe_with(&mut self, args: &WaitArgs<'_>) -> Result<Cqe> {
        if let Some(cqe) = self.cq.pop() {
            return Ok(cqe);
        }
        let pending = self.sq.flush();
        self.wait_ext(pending, 1, args)?;
        self.cq.pop().ok_or_else(|| Error::Os(io::Error::from_raw_os_error(libc::ETIME)))
    }

    /// Waits up to `args.timeout` until `want` completions are ready, without consuming them
    /// (`io_uring_wait_cqes(3)`, `io_uring_wait_cqes_min_timeout(3)`), submitting what is
    /// pushed first. `ETIME` if the time ran out before any completion.
    /// Needs `IORING_FEAT_EXT_ARG` (Linux 5.11).
    pub fn wait_cqes_with(&mut self, want: u32, args: &WaitArgs<'_>) -> Result<()> {
        let pending = self.sq.flush();
        if pending == 0 && self.cq.ready() >= want && !self.cq_needs_flush() {
            return Ok(());
        }
        self.wait_ext(pending, want, args)?;
        Ok(())
    }

    /// The extended-argument wait loop (liburing's `_io_uring_get_cqe` with `EXT_ARG`).
    /// Returns (submitted, completions ready).
    fn wait_ext(&mut self, mut pending: u32, want: u32, args: &WaitArgs<'_>) -> Result<(u32, u32)> {
        if !self.sub.features.contains(Features::EXT_ARG) {
            return Err(Error::Unsupported { what: "IORING_FEAT_EXT_ARG (timed waits, Linux 5.11)" });
        }
        if args.min_wait.is_some() && !self.sub.features.contains(Features::MIN_TIMEOUT) {
            return Err(Error::Unsupported { what: "IORING_FEAT_MIN_TIMEOUT (min-wait timeouts, Linux 6.12)" });
        }
        let ts = args.timeout.map(crate::op::duration_timespec);
        let min_usec = match args.min_wait {
            Some(d) => u32::try_from(d.as_micros()).map_err(|_| Error::InvalidArgument {
                what: "min_wait",
                reason: "longer than u32::MAX microseconds",
            })?,
            None => 0,
        };
        let arg = io_uring_getevents_arg {
            sigmask: args.sigmask.map_or(0, |s| s as *const libc::sigset_t as u64),
            // _NSIG / 8: the kernel's sigset size on Linux.
            sigmask_sz: 8,
            min_wait_usec: min_usec,
            ts: ts.as_ref().map_or(0, |t| t as *const __kernel_timespec as u64),
        };
        let mut ext = IORING_ENTER_EXT_ARG;
        if args.absolute {
            ext |= IORING_ENTER_ABS_TIMER;
        }
        let mut submitted = 0;
        let mut flushed = false;
        loop {
            let ready = self.cq.ready();
            let Some(flags) = self.enter_flags(pending, want > ready) else {
                return Ok((submitted, ready));
            };
            // SAFETY: `arg` and the timespec it points at live on this stack frame for the call.
            let ret = unsafe {
                self.enter(
                    pending,
                    want,
                    flags | ext,
                    &arg as *const io_uring_getevents_arg as *const c_void,
                    core::mem::size_of::<io_uring_getevents_arg>(),
                )
            };
            match ret {
                Ok(n) => {
                    submitted += n;
                    pending = pending.saturating_sub(n);
                }
                // The kernel reports a timed-out wait as ETIME only when it submitted nothing.
                Err(e) if e.raw_os_error() == Some(libc::ETIME) && submitted > 0 => {
                    return Ok((submitted, self.cq.ready()));
                }
                Err(e) => return Err(Error::Os(e)),
            }
            // One wait per call: the kernel returned because enough completions arrived or the
            // time ran out. Only an overflow flush is worth a second pass.
            if flags & IORING_ENTER_GETEVENTS == 0 || flushed || !self.cq_needs_flush() {
                return Ok((submitted, self.cq.ready()));
            }
            flushed = true;
        }
    }
}
