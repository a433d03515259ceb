//! [`Ring`]: an io_uring instance (`io_uring_setup(2)`, Linux 5.1), its mappings, and the ways to
//! submit and wait (`io_uring_enter(2)`).
//!
//! ## Where `Ring`'s methods live
//!
//! | concept | methods | file |
//! |---|---|---|
//! | the instance: setup, parts, memory, resizing, teardown | [`Ring::new`], [`Ring::builder`], [`Ring::sq`], [`Ring::cq`], [`Ring::submitter`], [`Ring::split`], [`Ring::resize_rings`], [`Ring::shutdown`], drop | `ring/mod.rs` (setup options: [`setup`](crate::setup)) |
//! | submitting and waiting: the one rule for entering the kernel | [`Ring::submit`], [`Ring::submit_and_wait`], [`Ring::submit_and_wait_with`], [`Ring::get_events`], [`Ring::peek_cqe`], [`Ring::wait_cqe`], [`Ring::wait_cqes_with`], [`WaitArgs`], ... | `ring/enter.rs` |
//! | the ring fd: registering it, closing it, enter flags | [`Ring::register_ring_fd`], [`Ring::unregister_ring_fd`], [`Ring::close_ring_fd`], [`Ring::set_iowait`], [`Ring::enable_rings`] | `ring/fd.rs` |
//! | registered wait arguments | [`Ring::register_wait_region`], [`Ring::set_wait_arg`], [`Ring::submit_and_wait_reg`] | `ring/wait_region.rs` ([`wait_region`]) |
//! | the system calls: enter, register, sync cancel, the fd | [`Submitter`] | `ring/submitter.rs` |
//! | registered resources (files, buffers, eventfd, personalities, restrictions, io-wq, buffer rings) | `Submitter::register_*` | [`register`](crate::register) |
//! | NAPI busy polling, the wait clock | [`Submitter::register_napi`], [`Submitter::register_clock`] | [`napi`](crate::napi) |
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
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

use uring_uapi::*;

use crate::cq::CompletionQueue;
use crate::setup::{Builder, SetupFlags};
use crate::sq::SubmissionQueue;
use crate::sys::{self, Mmap};
use crate::teardown::{KeepAlive, Share};
use crate::{Error, Features, Result};

mod enter;
mod fd;
mod submitter;
pub mod wait_region;

pub use crate::teardown::{Teardown, DROP_WAIT};
pub use enter::WaitArgs;
pub use submitter::Submitter;

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
/// Set up with `io_uring_setup(2)` (Linux 5.1).
///
/// # Methods by concept
///
/// - Setup and parts: [`new`](Ring::new), [`builder`](Ring::builder) (options in
///   [`Builder`]), [`sq`](Ring::sq), [`cq`](Ring::cq), [`submitter`](Ring::submitter),
///   [`split`](Ring::split), [`setup_flags`](Ring::setup_flags), [`features`](Ring::features),
///   [`params`](Ring::params), [`resize_rings`](Ring::resize_rings),
///   [`shutdown`](Ring::shutdown).
/// - Submitting and waiting, under one rule for entering the kernel: [`submit`](Ring::submit),
///   [`submit_and_wait`](Ring::submit_and_wait), [`submit_and_wait_with`](Ring::submit_and_wait_with),
///   [`submit_and_get_events`](Ring::submit_and_get_events), [`get_events`](Ring::get_events),
///   [`peek_cqe`](Ring::peek_cqe), [`wait_cqe`](Ring::wait_cqe), [`wait_cqes`](Ring::wait_cqes),
///   [`wait_cqe_with`](Ring::wait_cqe_with), [`wait_cqes_with`](Ring::wait_cqes_with),
///   [`sqring_wait`](Ring::sqring_wait).
/// - The ring fd: [`register_ring_fd`](Ring::register_ring_fd),
///   [`close_ring_fd`](Ring::close_ring_fd), [`set_iowait`](Ring::set_iowait),
///   [`enable_rings`](Ring::enable_rings).
/// - Registered wait arguments: [`register_wait_region`](Ring::register_wait_region),
///   [`submit_and_wait_reg`](Ring::submit_and_wait_reg).
/// - Everything `io_uring_register(2)` does (files, buffers, eventfds, personalities,
///   restrictions, NAPI, ...): on [`Submitter`], reached with [`submitter`](Ring::submitter)
///   (see [`register`](crate::register) and [`napi`](crate::napi)).
///
/// The [module docs](self) map each concept to its file.
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
    wait_region: Option<wait_region::WaitRegion>,
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

impl Ring {
    /// A ring with room for `entries` submissions (rounded up to a power of two) and default
    /// settings (`io_uring_queue_init(3)`).
    /// Linux 5.1.
    pub fn new(entries: u32) -> Result<Ring> {
        Builder::new().build(entries)
    }

    /// A builder for any other setup (`io_uring_queue_init_params(3)`).
    /// Linux 5.1.
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

    /// For `IORING_SETUP_NO_MMAP` (Linux 6.5) rings: how many bytes of the ring memory the kernel uses.
    pub fn memory_used(&self) -> Option<usize> {
        match &self._mem {
            Memory::App(a) => Some(a.used),
            Memory::Kernel { .. } => None,
        }
    }

    /// For `IORING_SETUP_NO_MMAP` (Linux 6.5) rings: the ring memory region (start, length).
    pub fn memory_region(&self) -> Option<(*const u8, usize)> {
        match &self._mem {
            Memory::App(a) => Some((a.base, a.len)),
            Memory::Kernel { .. } => None,
        }
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
