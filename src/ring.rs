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
use crate::setup::{Builder, SetupFlags};
use crate::sq::SubmissionQueue;
use crate::sys::{self, Mmap};
use crate::teardown::{KeepAlive, Share};
use crate::{Error, Features, Result};

pub use crate::teardown::{Teardown, DROP_WAIT};

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
        let sq = unsafe { SubmissionQueue::new(ring_ptr, sqes_ptr.cast(), p) };
        // SAFETY: as above; the SQ flags word lives in the same mappings.
        let cq = unsafe { CompletionQueue::new(cq_ptr, sq.kflags_ptr(), p) };
        (sq, cq)
    }
}

/// An io_uring instance: its submission and completion queues, the memory they live in, and
/// its file descriptor (or registered index).
///
/// # Dropping
///
/// Dropping the ring closes its fd and unmaps the queues, which starts the kernel's teardown:
/// it cancels what it can, but a request already running in an io-wq worker (a blocking file
/// read, say) is only signalled and goes on writing into its buffer until it finishes. The
/// kernel frees the ring only after its last request.
///
/// When the ring holds memory that its requests may write (buffer pools of
/// [`BufRing`](crate::buf::BufRing)s, provided and registered buffers of the
/// [`owned`](crate::owned) layer, zcrx areas), the drop waits up to [`DROP_WAIT`] (250 ms) for
/// that teardown to finish, observed through a pipe registered as the ring's file table
/// (see [`Ring::shutdown`]). If it finishes, the memory is freed. If not (the wait ran out, the
/// application registered a file table of its own, a single-issuer ring is dropped on another
/// thread than its submitter, or another fd of the ring is still open),
/// the memory is never given back: the crate's mappings are replaced by inaccessible
/// `PROT_NONE` reservations of the same range (a late kernel write fails with `EFAULT`; the
/// pages are freed, the address range stays reserved) and heap memory is leaked. A ring that
/// holds no such memory drops without waiting.
///
/// Buffer rings registered with the ring share that memory: if they outlive the ring, the ring
/// drops without waiting and the last of them does the waiting instead.
///
/// Memory that raw (`unsafe`) submissions point at, and caller memory given to a buffer ring
/// ([`CallerBuffers`](crate::buf::CallerBuffers)), is the caller's to keep valid until the
/// kernel is done with it: dropping the ring does not say when that is;
/// [`Ring::shutdown`] does.
#[derive(Debug)]
pub struct Ring {
    sq: SubmissionQueue,
    cq: CompletionQueue,
    sub: Submitter,
    /// Unique in the process: buffer rings and owned operations name the ring they belong to.
    id: u64,
    /// Whether the mappings are kept out of forked children (re-applied after a resize).
    dontfork: bool,
    /// The registered wait-argument region, if any.
    pub(crate) wait_region: Option<crate::wait_region::WaitRegion>,
    /// Whether this ring's kernel takes kernel-managed buffer rings, once probed (shared with
    /// the ring's kmbuf backends: see `buf::kmbuf::KernelBackend`).
    #[cfg(feature = "kmbuf")]
    pub(crate) kmbuf_support: std::sync::Arc<crate::buf::kmbuf::SupportCache>,
    // Declared after the queues: unmapped after the queues that point into it are gone.
    _mem: Memory,
    /// Memory the kernel may write through requests of this ring (buffer pools, provided and
    /// registered buffers, zcrx areas), shared with the ring's buffer rings. Declared last:
    /// dropped after the fd is closed and the mappings are gone, it waits for the kernel's
    /// teardown before releasing the memory (see the type's docs).
    keep_alive: Share,
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
    /// Whether the fd is kept from safe code ([`Submitter::fd`] returns `None`): set for rings
    /// whose completions the crate trusts (the owned layer's), so that no safe code can name
    /// the ring as the target of `IORING_OP_MSG_RING` and post made-up completions into it.
    sealed: bool,
    /// Whether [`fd`](Submitter::fd) lent the fd to code outside the crate (shared with the
    /// keep-alive list: the teardown proof is not attempted then).
    fd_lent: std::sync::Arc<std::sync::atomic::AtomicBool>,
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
            sealed: false,
            fd_lent: Default::default(),
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
        let (sq, mut cq) = memory.queues(&p);
        if registered_only {
            sub.reg_reg_ring = true;
        }
        cq.set_enter(sub.enter_fd, sub.enter_flags);
        static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let id = NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let keep_alive = Share::new(sub.fd_lent.clone());
        Ok(Ring {
            sq,
            cq,
            sub,
            id,
            dontfork,
            wait_region: None,
            #[cfg(feature = "kmbuf")]
            kmbuf_support: Default::default(),
            _mem: memory,
            keep_alive,
        })
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
        let (sq, mut cq) = memory.queues(&p);
        cq.set_enter(self.sub.enter_fd, self.sub.enter_flags);
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
    pub fn wait_cqe_timeout(&mut self, timeout: Duration) -> Result<Cqe> {
        self.wait_cqe_with(&WaitArgs { timeout: Some(timeout), ..Default::default() })
    }

    /// Waits for a completion with extended arguments and consumes it, submitting what is
    /// pushed first.
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
    pub fn sync_cancel(&self, key: impl crate::op::CancelKey, timeout: Option<Duration>) -> io::Result<u32> {
        let sqe = crate::op::key_sqe(&key);
        let raw = sqe.as_raw();
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

    /// The ring's fd, unless it has none (`REGISTERED_FD_ONLY`), it was closed, or the ring
    /// belongs to an [`OwnedRing`](crate::owned::OwnedRing), which keeps its fd to itself: any
    /// holder of a ring's fd can post completions into it (`IORING_OP_MSG_RING`), and the owned
    /// layer's completions must come from the kernel alone (see the crate's safety model).
    ///
    /// Lending the fd has a cost at drop: its holder could tamper with the proof that the
    /// kernel is done with the ring's memory, so a ring whose fd was lent does not wait for
    /// that proof and retires its buffer memory instead (see [`Ring`]'s drop).
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

impl Ring {
    /// The ring's process-unique id.
    #[inline]
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// Keeps the ring's fd from safe code from now on ([`Submitter::fd`] returns `None`).
    pub(crate) fn seal(&mut self) {
        self.sub.sealed = true;
    }

    /// Keeps a mapping the crate made (a buffer pool, a zcrx area), which requests of this ring
    /// may write into, until the kernel is done with the ring (see the type's docs).
    pub(crate) fn keep_alive_map(&mut self, map: Mmap) {
        self.keep_alive.push(KeepAlive::Map(map));
    }

    /// Keeps heap memory (provided or registered buffers), which requests of this ring may
    /// write into, until the kernel is done with the ring; leaked if that cannot be confirmed.
    pub(crate) fn keep_alive_heap(&mut self, obj: std::sync::Arc<dyn core::any::Any + Send + Sync>) {
        self.keep_alive.push(KeepAlive::Heap(obj));
    }

    /// Notes that requests of this ring may write into caller memory: the drop then waits for
    /// the kernel's teardown (up to [`DROP_WAIT`]), though it cannot report the outcome.
    pub(crate) fn keep_alive_caller(&mut self) {
        self.keep_alive.push(KeepAlive::Caller);
    }

    /// A share of the keep-alive list for an object that holds an fd of the ring (a buffer
    /// ring): the last holder dropped waits for the teardown.
    pub(crate) fn keep_alive_share(&mut self) -> Share {
        self.keep_alive.another()
    }

    /// A duplicate of the ring's fd (for objects that must unregister themselves later), or
    /// `None` for a ring without an fd.
    pub(crate) fn dup_fd(&self) -> io::Result<Option<OwnedFd>> {
        match &self.sub.fd {
            Some(fd) => Ok(Some(fd.try_clone()?)),
            None => Ok(None),
        }
    }

    /// Registers `fd` as the ring's one-file table (`IORING_REGISTER_FILES`): the probe of the
    /// teardown proof. `EBUSY` when the application registered a table.
    ///
    /// Through the ring's own fd when it has one, never a registered index then: an index is
    /// per thread, and on another thread the same index may name another ring.
    fn register_probe(sub: &Submitter, fd: RawFd) -> io::Result<u32> {
        let arg = (&fd as *const RawFd).cast();
        match &sub.fd {
            // SAFETY: one fd, living for the call; the kernel takes its own reference to the file.
            Some(ring) => unsafe { sys::register(ring.as_raw_fd(), IORING_REGISTER_FILES, arg, 1) },
            // SAFETY: as above.
            None => unsafe { sub.register_raw(IORING_REGISTER_FILES, arg, 1) },
        }
    }

    /// Drops the ring and waits up to `limit` for the kernel to free it, then reports whether it
    /// did ([`Teardown`]).
    ///
    /// The kernel frees a ring (`io_ring_ctx_free`) only after every one of its requests has
    /// finished, including requests still running in io-wq workers, which closing the ring does
    /// not stop. [`Teardown::Finished`] therefore means that no request of this ring uses any
    /// memory any more: caller memory given to its buffer rings
    /// ([`CallerBuffers`](crate::buf::CallerBuffers)) or to raw submissions may be reused. The
    /// crate's own memory is settled as on drop (freed after a finished teardown, never given
    /// back otherwise).
    ///
    /// How: a pipe's write end is registered as the ring's file table
    /// (`IORING_REGISTER_FILES`, Linux 5.1), the ring's fd is closed and its mappings are
    /// unmapped, and the pipe's read end reports `POLLHUP` once the kernel's teardown has
    /// unregistered the table. No proof is possible when the application registered a file
    /// table of its own ([`Teardown::Unprovable`] with `EBUSY`, without waiting) or for an
    /// `IORING_SETUP_SINGLE_ISSUER` ring shut down on another thread than its submitter
    /// (`EEXIST`: the kernel takes register calls only from that thread); the teardown
    /// cannot finish while buffer rings of this ring are alive ([`Teardown::Held`], without
    /// waiting: drop them first), nor while another fd or mapping of the ring is open or a ring
    /// index registered by another thread holds it ([`Teardown::TimedOut`] after `limit`). An
    /// idle ring's teardown took 19 to 210 ms (median 40 ms) on a loaded 2-core Linux 6.18
    /// host.
    pub fn shutdown(mut self, limit: Duration) -> Teardown {
        let sub = &self.sub;
        let pending = self.keep_alive.prepare_shutdown(|fd| Ring::register_probe(sub, fd));
        // Closes the fd and unmaps the queues; the share is empty now, so this does not wait.
        drop(self);
        pending.finish(limit)
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        // The last holder of memory to release arms the teardown proof while the ring is still
        // reachable. Nothing happens here for a ring without such memory.
        let sub = &self.sub;
        self.keep_alive.prepare(|fd| Ring::register_probe(sub, fd));
        // A registered index holds a reference to the ring (in the registering thread's table):
        // the ring lives until it is released, also when the ring still has its fd.
        if self.sub.enter_flags & IORING_ENTER_REGISTERED_RING != 0 {
            let mut up = io_uring_rsrc_update { offset: self.sub.enter_fd as u32, resv: 0, data: 0 };
            let (fd, op) = match &self.sub.fd {
                Some(fd) => (fd.as_raw_fd(), IORING_UNREGISTER_RING_FDS),
                None => (self.sub.enter_fd, IORING_UNREGISTER_RING_FDS | IORING_REGISTER_USE_REGISTERED_RING),
            };
            // SAFETY: one valid `io_uring_rsrc_update`.
            let _ = unsafe { sys::register(fd, op, &mut up as *mut io_uring_rsrc_update as *const c_void, 1) };
        }
        // Then the fields drop in order: the fd closes (`sub`), the wait region and the queues
        // are unmapped (`wait_region`, `_mem`; a mapping of the ring fd holds the ring open),
        // and last `keep_alive` waits for the teardown and settles the memory.
    }
}

// SAFETY: the ring exclusively owns its mappings and fd; the raw pointers in its queues point
// into those mappings. (A registered ring index is per-thread: documented on `register_ring_fd`.)
unsafe impl Send for Ring {}
// SAFETY: `Submitter` holds only an fd and plain data.
unsafe impl Send for Submitter {}
// SAFETY: as above; its methods take `&self` and only issue system calls.
unsafe impl Sync for Submitter {}
