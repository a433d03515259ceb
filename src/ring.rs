//! [`Ring`]: an io_uring instance, its mappings, and the ways to submit and wait.
//!
//! The submit and wait calls follow liburing's rules for when `io_uring_enter(2)` is needed:
//! never for a plain submit under SQPOLL unless the thread sleeps (`IORING_SQ_NEED_WAKEUP`), always
//! with `IORING_ENTER_GETEVENTS` under IOPOLL, and whenever completions wait in the kernel
//! (`IORING_SQ_CQ_OVERFLOW`, `IORING_SQ_TASKRUN`). See `io_uring_submit(3)`,
//! `io_uring_submit_and_wait(3)`, `io_uring_submit_and_wait_timeout(3)`,
//! `io_uring_submit_and_get_events(3)`, `io_uring_get_events(3)`, `io_uring_wait_cqe(3)`,
//! `io_uring_wait_cqes(3)`, `io_uring_wait_cqe_timeout(3)`, `io_uring_wait_cqes_min_timeout(3)`,
//! `io_uring_peek_cqe(3)`, `io_uring_register_ring_fd(3)`, `io_uring_close_ring_fd(3)`,
//! `io_uring_set_iowait(3)`, `io_uring_enable_rings(3)`, `io_uring_sqring_wait(3)`.

use core::ffi::c_void;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

use uring_uapi::*;

use crate::cq::CompletionQueue;
use crate::cqe::{Cqe, Cqe32};
use crate::index::full_fence;
use crate::setup::{Builder, SetupFlags};
use crate::sq::SubmissionQueue;
use crate::sys::{self, Mmap};
use crate::{Error, Features, Result};

/// Memory of an `IORING_SETUP_NO_MMAP` ring.
#[derive(Debug)]
pub(crate) struct AppMemory {
    /// The mapping, when the crate allocated it.
    pub(crate) map: Option<Mmap>,
    pub(crate) base: *mut u8,
    pub(crate) len: usize,
    pub(crate) used: usize,
    pub(crate) sqes_len: usize,
}

/// How the ring's memory is held.
#[derive(Debug)]
pub(crate) enum Memory {
    Kernel { rings: Mmap, cq: Option<Mmap>, sqes: Mmap },
    App(AppMemory),
}

/// Maps the SQ/CQ rings and SQE array of ring `fd` as `p` lays them out.
pub(crate) fn map_kernel_rings(fd: i32, p: &io_uring_params, flags: SetupFlags, features: Features) -> Result<Memory> {
    let sqe_size = if flags.contains(SetupFlags::SQE128) { 128 } else { 64 };
    let cqe_size = if flags.contains(SetupFlags::CQE32) { 32 } else { 16 };
    let sq_len = if flags.contains(SetupFlags::NO_SQARRAY) {
        p.sq_off.flags as usize + 4
    } else {
        p.sq_off.array as usize + p.sq_entries as usize * 4
    };
    let cq_len = p.cq_off.cqes as usize + p.cq_entries as usize * cqe_size;
    let single = features.contains(Features::SINGLE_MMAP);
    let rings_len = if single { sq_len.max(cq_len) } else { sq_len };
    let rings = Mmap::ring(fd, IORING_OFF_SQ_RING, rings_len)?;
    let cq = if single { None } else { Some(Mmap::ring(fd, IORING_OFF_CQ_RING, cq_len)?) };
    let sqes = Mmap::ring(fd, IORING_OFF_SQES, p.sq_entries as usize * sqe_size)?;
    Ok(Memory::Kernel { rings, cq, sqes })
}

impl Memory {
    /// `madvise(MADV_DONTFORK)` on every mapping the crate made.
    fn dontfork(&self) -> io::Result<()> {
        match self {
            Memory::Kernel { rings, cq, sqes } => {
                rings.dontfork()?;
                sqes.dontfork()?;
                if let Some(cq) = cq {
                    cq.dontfork()?;
                }
            }
            Memory::App(a) => {
                if let Some(m) = &a.map {
                    m.dontfork()?;
                }
            }
        }
        Ok(())
    }

    /// The queues over this memory, laid out by `p`.
    fn queues(&self, p: &io_uring_params) -> (SubmissionQueue, CompletionQueue) {
        let (ring_ptr, cq_ptr, sqes_ptr) = match self {
            Memory::Kernel { rings, cq, sqes } => {
                (rings.as_ptr(), cq.as_ref().map_or(rings.as_ptr(), |m| m.as_ptr()), sqes.as_ptr())
            }
            // SAFETY: the rings region starts `sqes_len` bytes into the app memory.
            Memory::App(a) => (unsafe { a.base.add(a.sqes_len) }, unsafe { a.base.add(a.sqes_len) }, a.base),
        };
        // SAFETY: the pointers are live mappings laid out by `p`, owned by the `Ring` that will
        // own the queues together with this memory.
        unsafe { (SubmissionQueue::new(ring_ptr, sqes_ptr.cast(), p), CompletionQueue::new(cq_ptr, p)) }
    }
}

/// An io_uring instance: its submission and completion queues, the memory they live in, and
/// its file descriptor (or registered index).
///
/// Dropping the ring unmaps the queues and closes the fd; the kernel cancels whatever is still
/// in flight. Memory that in-flight operations point at must outlive the ring's teardown of
/// them: with raw (`unsafe`) submissions that is the caller's responsibility.
#[derive(Debug)]
pub struct Ring {
    sq: SubmissionQueue,
    cq: CompletionQueue,
    sub: Submitter,
    /// Memory the kernel may write through requests of this ring (provided-buffer pools):
    /// released only after in-flight requests are cancelled at drop.
    keep_alive: Vec<std::sync::Arc<dyn core::any::Any + Send + Sync>>,
    /// Whether the mappings are kept out of forked children (re-applied after a resize).
    dontfork: bool,
    /// The registered wait-argument region, if any.
    pub(crate) wait_region: Option<crate::wait_region::WaitRegion>,
    // Declared last: unmapped after the queues that point into it are gone.
    _mem: Memory,
}

/// The system-call side of a ring: the fd used for `io_uring_enter(2)` and
/// `io_uring_register(2)`, the setup flags and features, and the bits that decide when to enter.
#[derive(Debug)]
pub struct Submitter {
    /// The real fd, unless closed (`close_ring_fd`) or never had (`REGISTERED_FD_ONLY`).
    fd: Option<OwnedFd>,
    /// The fd or registered index passed to `io_uring_enter(2)`.
    enter_fd: i32,
    /// `IORING_ENTER_REGISTERED_RING` when `enter_fd` is a registered index, plus
    /// `IORING_ENTER_NO_IOWAIT` when iowait accounting is off.
    enter_flags: u32,
    /// Whether register calls may use the registered index (`IORING_FEAT_REG_REG_RING`).
    reg_reg_ring: bool,
    flags: SetupFlags,
    features: Features,
    params: io_uring_params,
}

/// Arguments of an extended wait (`IORING_ENTER_EXT_ARG`).
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

/// `d` for the kernel, saturating at `i64::MAX` seconds (see [`crate::op::Timespec`]).
fn timespec(d: Duration) -> __kernel_timespec {
    crate::op::duration_timespec(d)
}

impl Ring {
    /// A ring with room for `entries` submissions (rounded up to a power of two) and default
    /// settings (`io_uring_queue_init(3)`).
    pub fn new(entries: u32) -> Result<Ring> {
        Builder::new().build(entries)
    }

    /// A builder for any other setup (`io_uring_queue_init_params(3)`).
    pub fn builder() -> Builder {
        Builder::new()
    }

    /// Maps the rings of a freshly set-up instance.
    ///
    /// # Safety
    /// `fd` is the value `io_uring_setup(2)` returned with parameters `p` (written back by the
    /// kernel); `app` is the memory given to the kernel for `IORING_SETUP_NO_MMAP`.
    pub(crate) unsafe fn from_setup(
        fd: i32,
        p: io_uring_params,
        app: Option<AppMemory>,
        dontfork: bool,
    ) -> Result<Ring> {
        let flags = SetupFlags::from_bits_retain(p.flags);
        let registered_only = flags.contains(SetupFlags::REGISTERED_FD_ONLY);
        let owned = if registered_only {
            None
        } else {
            // SAFETY: the kernel just returned this fd to us.
            Some(unsafe { OwnedFd::from_raw_fd(fd) })
        };
        let features = Features::from_bits_retain(p.features);
        let mut sub = Submitter {
            fd: owned,
            enter_fd: fd,
            enter_flags: if registered_only { IORING_ENTER_REGISTERED_RING } else { 0 },
            reg_reg_ring: registered_only,
            flags,
            features,
            params: p,
        };
        let memory = match app {
            Some(app) => Memory::App(app),
            None => map_kernel_rings(fd, &p, flags, features)?,
        };
        if dontfork {
            memory.dontfork()?;
        }
        let (sq, cq) = memory.queues(&p);
        if registered_only {
            sub.reg_reg_ring = true;
        }
        Ok(Ring { sq, cq, sub, keep_alive: Vec::new(), dontfork, wait_region: None, _mem: memory })
    }

    /// The submission queue.
    #[inline]
    pub fn sq(&mut self) -> &mut SubmissionQueue {
        &mut self.sq
    }

    /// The completion queue.
    #[inline]
    pub fn cq(&mut self) -> &mut CompletionQueue {
        &mut self.cq
    }

    /// The system-call side (enter and register).
    #[inline]
    pub fn submitter(&self) -> &Submitter {
        &self.sub
    }

    /// All three parts at once, for code that fills, submits and reaps in one loop.
    #[inline]
    pub fn split(&mut self) -> (&mut Submitter, &mut SubmissionQueue, &mut CompletionQueue) {
        (&mut self.sub, &mut self.sq, &mut self.cq)
    }

    /// The setup flags the kernel accepted.
    pub fn setup_flags(&self) -> SetupFlags {
        self.sub.flags
    }

    /// The `IORING_FEAT_*` features the kernel reported.
    pub fn features(&self) -> Features {
        self.sub.features
    }

    /// The parameters the kernel wrote back at setup.
    pub fn params(&self) -> &io_uring_params {
        &self.sub.params
    }

    /// Resizes the SQ and CQ of a live ring (`io_uring_resize_rings(3)`,
    /// `IORING_REGISTER_RESIZE_RINGS`, Linux 6.13), keeping every pending submission and
    /// completion: the kernel copies them into the new rings, which are then mapped in place of
    /// the old ones. `cq_entries` of `None` keeps the kernel default (twice the SQ).
    ///
    /// The kernel allows this only on `IORING_SETUP_DEFER_TASKRUN` rings
    /// ([`Error::WrongRingKind`]); rings in caller memory (`NO_MMAP`) cannot be resized here
    /// ([`Error::Unsupported`]); if the pending entries do not fit the new sizes the kernel
    /// answers `EOVERFLOW` ([`Error::ResizeOverflow`]) and the ring is unchanged.
    pub fn resize_rings(&mut self, sq_entries: u32, cq_entries: Option<u32>) -> Result<()> {
        if !self.sub.flags.contains(SetupFlags::DEFER_TASKRUN) {
            return Err(Error::WrongRingKind { needs: "IORING_SETUP_DEFER_TASKRUN (for resizing)" });
        }
        if matches!(self._mem, Memory::App(_)) {
            return Err(Error::Unsupported { what: "resizing a ring in caller memory (IORING_SETUP_NO_MMAP)" });
        }
        let Some(fd) = self.sub.fd.as_ref().map(|f| f.as_raw_fd()) else {
            return Err(Error::Unsupported { what: "resizing a ring without an fd" });
        };
        // Check the sizes like the kernel, before it sees them.
        let mut b = Builder::new();
        if let Some(cq) = cq_entries {
            b = b.cq_entries(cq);
        }
        b.sizes(sq_entries)?;
        // Publish pushed entries and release reaped completions: the kernel copies exactly what
        // is between the shared heads and tails.
        self.sq.flush();
        self.cq.sync();
        let mut p = io_uring_params { sq_entries, ..Default::default() };
        if let Some(cq) = cq_entries {
            p.cq_entries = cq;
            p.flags = IORING_SETUP_CQSIZE;
        }
        // SAFETY: one valid, writable `io_uring_params`.
        let r = unsafe {
            self.sub.register_raw(IORING_REGISTER_RESIZE_RINGS, &mut p as *mut io_uring_params as *const c_void, 1)
        };
        match r {
            Ok(_) => {}
            Err(e) if e.raw_os_error() == Some(libc::EOVERFLOW) => {
                return Err(Error::ResizeOverflow { sq_pending: self.sq.ready(), cq_pending: self.cq.ready() });
            }
            Err(e) => return Err(Error::Os(e)),
        }
        if p.cq_off.cqes == 0 {
            // The sizes were already these: the kernel changed nothing and wrote nothing back.
            return Ok(());
        }
        p.flags = self.sub.params.flags;
        p.features = self.sub.params.features;
        let memory = map_kernel_rings(fd, &p, self.sub.flags, self.sub.features)?;
        if self.dontfork {
            memory.dontfork()?;
        }
        let (sq, cq) = memory.queues(&p);
        // The new queues replace the old before the old memory is unmapped.
        self.sq = sq;
        self.cq = cq;
        self._mem = memory;
        self.sub.params = p;
        Ok(())
    }

    /// For `IORING_SETUP_NO_MMAP` rings: how many bytes of the ring memory the kernel uses.
    pub fn memory_used(&self) -> Option<usize> {
        match &self._mem {
            Memory::App(a) => Some(a.used),
            Memory::Kernel { .. } => None,
        }
    }

    /// For `IORING_SETUP_NO_MMAP` rings: the ring memory region (start, length).
    pub fn memory_region(&self) -> Option<(*const u8, usize)> {
        match &self._mem {
            Memory::App(a) => Some((a.base, a.len)),
            Memory::Kernel { .. } => None,
        }
    }

    // ---- submission ----

    /// Flushes pushed entries and tells the kernel to consume them (`io_uring_submit(3)`).
    /// Returns how many entries were submitted.
    #[inline]
    pub fn submit(&mut self) -> io::Result<u32> {
        self.submit_and_wait(0)
    }

    /// Submits, then waits until at least `want` completions are ready
    /// (`io_uring_submit_and_wait(3)`).
    #[inline]
    pub fn submit_and_wait(&mut self, want: u32) -> io::Result<u32> {
        let pending = self.sq.flush();
        let mut flags = self.sub.enter_flags;
        let mut enter = want > 0;
        if self.sub.flags.contains(SetupFlags::SQPOLL) {
            // Order the tail store before reading NEED_WAKEUP; the kernel has the other fence.
            full_fence();
            if self.sq.need_wakeup() {
                flags |= IORING_ENTER_SQ_WAKEUP;
                enter = true;
            }
        } else {
            enter = true;
        }
        if want > 0 || self.sub.flags.contains(SetupFlags::IOPOLL) {
            flags |= IORING_ENTER_GETEVENTS;
        }
        if !enter {
            return Ok(pending);
        }
        // SAFETY: no extended argument; the entries' memory is the pushers' contract.
        let submitted = unsafe { sys::enter(self.sub.enter_fd, pending, want, flags, core::ptr::null(), 0) }?;
        if self.sq.is_rewind() {
            self.sq.rewind_after_submit(pending, submitted);
        }
        Ok(submitted)
    }

    /// Submits and runs pending task work so completions become visible, without waiting
    /// (`io_uring_submit_and_get_events(3)`).
    pub fn submit_and_get_events(&mut self) -> io::Result<u32> {
        let pending = self.sq.flush();
        let mut flags = self.sub.enter_flags | IORING_ENTER_GETEVENTS;
        if self.sub.flags.contains(SetupFlags::SQPOLL) {
            full_fence();
            if self.sq.need_wakeup() {
                flags |= IORING_ENTER_SQ_WAKEUP;
            }
        }
        // SAFETY: no extended argument.
        let submitted = unsafe { sys::enter(self.sub.enter_fd, pending, 0, flags, core::ptr::null(), 0) }?;
        self.sq.rewind_after_submit(pending, submitted);
        Ok(submitted)
    }

    /// Runs pending task work and flushes overflowed completions into the CQ, without
    /// submitting or waiting (`io_uring_get_events(3)`): on `IORING_SETUP_DEFER_TASKRUN` rings
    /// nothing completes until this or a wait is called.
    pub fn get_events(&mut self) -> io::Result<()> {
        self.sub.enter(0, 0, IORING_ENTER_GETEVENTS)?;
        Ok(())
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

    /// Whether completions wait inside the kernel (overflow or pending task work), so an
    /// `io_uring_enter(2)` with `GETEVENTS` is needed to see them.
    #[inline]
    fn cq_needs_flush(&self) -> bool {
        self.sq.kernel_flags() & (IORING_SQ_CQ_OVERFLOW | IORING_SQ_TASKRUN) != 0
    }

    #[inline]
    fn cq_needs_enter(&self) -> bool {
        self.sub.flags.contains(SetupFlags::IOPOLL) || self.cq_needs_flush()
    }

    /// The next completion, consumed, if one is ready; enters the kernel once to flush
    /// overflowed completions or run task work if the CQ looks empty
    /// (`io_uring_peek_cqe(3)` + `io_uring_cqe_seen(3)`).
    #[inline]
    pub fn peek_cqe(&mut self) -> io::Result<Option<Cqe>> {
        if let Some(cqe) = self.cq.pop() {
            return Ok(Some(cqe));
        }
        if self.cq_needs_enter() {
            self.sub.enter(0, 0, IORING_ENTER_GETEVENTS)?;
            return Ok(self.cq.pop());
        }
        Ok(None)
    }

    /// Waits for a completion and consumes it (`io_uring_wait_cqe(3)` + `io_uring_cqe_seen(3)`).
    pub fn wait_cqe(&mut self) -> io::Result<Cqe> {
        loop {
            if let Some(cqe) = self.cq.pop() {
                return Ok(cqe);
            }
            let pending = self.sq.flush();
            let submitted = self.sub.enter(pending, 1, IORING_ENTER_GETEVENTS)?;
            self.sq.rewind_after_submit(pending, submitted);
        }
    }

    /// Waits for a completion and consumes it with its 32-byte extension.
    pub fn wait_cqe32(&mut self) -> io::Result<Cqe32> {
        loop {
            if let Some(cqe) = self.cq.pop32() {
                return Ok(cqe);
            }
            let pending = self.sq.flush();
            let submitted = self.sub.enter(pending, 1, IORING_ENTER_GETEVENTS)?;
            self.sq.rewind_after_submit(pending, submitted);
        }
    }

    /// Waits until at least `want` completions are ready, without consuming them
    /// (`io_uring_wait_cqe_nr(3)`). Entries pushed but not submitted are submitted.
    pub fn wait_cqes(&mut self, want: u32) -> io::Result<()> {
        loop {
            if self.cq.ready() >= want && !self.cq_needs_flush() {
                return Ok(());
            }
            let pending = self.sq.flush();
            let submitted = self.sub.enter(pending, want, IORING_ENTER_GETEVENTS)?;
            self.sq.rewind_after_submit(pending, submitted);
            if self.cq.ready() >= want {
                return Ok(());
            }
        }
    }

    /// Waits up to `timeout` for a completion and consumes it (`io_uring_wait_cqe_timeout(3)`):
    /// `ETIME` when none arrives in time. Does not submit (as liburing on kernels with
    /// `IORING_FEAT_EXT_ARG`).
    pub fn wait_cqe_timeout(&mut self, timeout: Duration) -> Result<Cqe> {
        self.wait_cqe_with(&WaitArgs { timeout: Some(timeout), ..Default::default() })
    }

    /// Waits for a completion with extended arguments and consumes it.
    pub fn wait_cqe_with(&mut self, args: &WaitArgs<'_>) -> Result<Cqe> {
        if let Some(cqe) = self.cq.pop() {
            return Ok(cqe);
        }
        self.wait_ext(0, 1, args)?;
        self.cq.pop().ok_or_else(|| Error::Os(io::Error::from_raw_os_error(libc::ETIME)))
    }

    /// Waits up to `args.timeout` until `want` completions are ready, without consuming them
    /// (`io_uring_wait_cqes(3)`, `io_uring_wait_cqes_min_timeout(3)`). `ETIME` if the time ran
    /// out before any completion.
    pub fn wait_cqes_with(&mut self, want: u32, args: &WaitArgs<'_>) -> Result<()> {
        if self.cq.ready() >= want && !self.cq_needs_flush() {
            return Ok(());
        }
        self.wait_ext(0, want, args)?;
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
        let ts = args.timeout.map(timespec);
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
        let mut flags = self.sub.enter_flags | IORING_ENTER_EXT_ARG;
        if args.absolute {
            flags |= IORING_ENTER_ABS_TIMER;
        }
        let mut submitted = 0;
        let mut flushed = false;
        loop {
            let ready = self.cq.ready();
            let mut f = flags;
            let mut need_enter = false;
            if want > ready || (ready == 0 && want == 0 && pending == 0 && !flushed && self.cq_needs_enter()) {
                f |= IORING_ENTER_GETEVENTS;
                need_enter = true;
            }
            if pending > 0 {
                if self.sub.flags.contains(SetupFlags::SQPOLL) {
                    full_fence();
                    if self.sq.need_wakeup() {
                        f |= IORING_ENTER_SQ_WAKEUP;
                        need_enter = true;
                    }
                } else {
                    need_enter = true;
                }
            }
            if !need_enter {
                return Ok((submitted, ready));
            }
            // SAFETY: `arg` and the timespec it points at live on this stack frame for the call.
            let ret = unsafe {
                sys::enter(
                    self.sub.enter_fd,
                    pending,
                    want,
                    f,
                    &arg as *const io_uring_getevents_arg as *const c_void,
                    core::mem::size_of::<io_uring_getevents_arg>(),
                )
            };
            match ret {
                Ok(n) => {
                    self.sq.rewind_after_submit(pending, n);
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
            if f & IORING_ENTER_GETEVENTS == 0 || flushed || !self.cq_needs_flush() {
                return Ok((submitted, self.cq.ready()));
            }
            flushed = true;
        }
    }

    // ---- ring fd ----

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
        Ok(())
    }

    /// Enables a ring created with `IORING_SETUP_R_DISABLED` (`io_uring_enable_rings(3)`).
    pub fn enable_rings(&mut self) -> io::Result<()> {
        // SAFETY: no argument.
        unsafe { self.sub.register_raw(IORING_REGISTER_ENABLE_RINGS, core::ptr::null(), 0) }?;
        Ok(())
    }
}

impl Submitter {
    /// `io_uring_enter(2)` without an extended argument, using the registered index when there
    /// is one.
    #[inline]
    pub fn enter(&self, to_submit: u32, min_complete: u32, flags: u32) -> io::Result<u32> {
        // SAFETY: no argument pointer; entries' memory is the pushers' contract.
        unsafe { sys::enter(self.enter_fd, to_submit, min_complete, flags | self.enter_flags, core::ptr::null(), 0) }
    }

    /// `io_uring_enter(2)` with an argument.
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
    pub fn sync_cancel(&self, key: crate::op::AsyncCancel, timeout: Option<Duration>) -> io::Result<u32> {
        let sqe = key.build();
        let raw = sqe.sqe().as_raw();
        // SAFETY: plain-integer unions written by the cancel encoder.
        let (addr, flags) = unsafe { (raw.addr.addr, raw.op_flags.cancel_flags) };
        let mut reg = io_uring_sync_cancel_reg {
            addr,
            fd: raw.fd,
            flags,
            timeout: timeout.map_or(__kernel_timespec { tv_sec: -1, tv_nsec: -1 }, timespec),
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

    /// The ring's fd, unless it has none (`REGISTERED_FD_ONLY`) or it was closed.
    pub fn fd(&self) -> Option<BorrowedFd<'_>> {
        self.fd.as_ref().map(|f| f.as_fd())
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

impl Ring {
    /// Keeps `obj` (memory that requests of this ring may write to) alive until the ring is
    /// dropped and its in-flight requests are cancelled.
    pub(crate) fn keep_alive(&mut self, obj: std::sync::Arc<dyn core::any::Any + Send + Sync>) {
        self.keep_alive.push(obj);
    }

    /// A duplicate of the ring's fd (for objects that must unregister themselves later), or
    /// `None` for a ring without an fd.
    pub(crate) fn dup_fd(&self) -> io::Result<Option<OwnedFd>> {
        match &self.sub.fd {
            Some(fd) => Ok(Some(fd.try_clone()?)),
            None => Ok(None),
        }
    }

    /// Cancels every in-flight request synchronously (`IORING_REGISTER_SYNC_CANCEL` with
    /// `ANY | ALL`, Linux 6.0), waiting up to `timeout`.
    pub(crate) fn cancel_all_sync(&self, timeout: Duration) -> io::Result<()> {
        match self.sub.sync_cancel(crate::op::AsyncCancel::any().all(), Some(timeout)) {
            Ok(_) => Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        if !self.keep_alive.is_empty() && self.cancel_all_sync(Duration::from_secs(1)).is_err() {
            // Requests that could not be cancelled may still write into this memory: leak it
            // rather than free it under the kernel.
            for obj in self.keep_alive.drain(..) {
                core::mem::forget(obj);
            }
        }
        // A ring without an fd (REGISTERED_FD_ONLY, or fd closed) lives until its registered
        // index is released.
        if self.sub.fd.is_none() && self.sub.enter_flags & IORING_ENTER_REGISTERED_RING != 0 {
            let mut up = io_uring_rsrc_update { offset: self.sub.enter_fd as u32, resv: 0, data: 0 };
            // SAFETY: one valid `io_uring_rsrc_update`.
            let _ = unsafe {
                sys::register(
                    self.sub.enter_fd,
                    IORING_UNREGISTER_RING_FDS | IORING_REGISTER_USE_REGISTERED_RING,
                    &mut up as *mut io_uring_rsrc_update as *const c_void,
                    1,
                )
            };
        }
    }
}

// SAFETY: the ring exclusively owns its mappings and fd; the raw pointers in its queues point
// into those mappings. (A registered ring index is per-thread: documented on `register_ring_fd`.)
unsafe impl Send for Ring {}
// SAFETY: `Submitter` holds only an fd and plain data.
unsafe impl Send for Submitter {}
// SAFETY: as above; its methods take `&self` and only issue system calls.
unsafe impl Sync for Submitter {}
