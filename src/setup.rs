//! Ring setup: [`Builder`] expresses every `IORING_SETUP_*` flag with its parameters, checks the
//! combination the way the kernel will, then calls `io_uring_setup(2)` and maps the rings.
//!
//! See `io_uring_setup(2)`, `io_uring_queue_init_params(3)`, `io_uring_queue_init_mem(3)`,
//! `io_uring_memory_size(3)` and `io_uring_mlock_size(3)`.
//!
//! Like liburing, the builder asks for `IORING_SETUP_NO_SQARRAY` by default and silently retries
//! without it on kernels older than 6.6 (the index array is then filled once as the identity,
//! so it costs nothing per submission). [`Builder::sq_array`] opts out.

use std::os::fd::{AsRawFd, BorrowedFd};

use bitflags::bitflags;
use uring_uapi::*;

use crate::sys::{self, Mmap};
use crate::{Error, Result, Ring};

/// The kernel's maximum SQ size (`IORING_MAX_ENTRIES`).
pub const MAX_SQ_ENTRIES: u32 = 32768;
/// The kernel's maximum CQ size (`IORING_MAX_CQ_ENTRIES`).
pub const MAX_CQ_ENTRIES: u32 = 2 * MAX_SQ_ENTRIES;
/// The size of a 2 MiB huge page.
/// (For `IORING_SETUP_NO_MMAP` rings, Linux 6.5.)
pub const HUGE_PAGE_SIZE: usize = 2 * 1024 * 1024;
/// Bytes of the shared ring header before the CQE array (`struct io_rings`, cacheline-aligned).
const RINGS_HEADER: usize = 64;

bitflags! {
    /// The `IORING_SETUP_*` flags (`io_uring_setup(2)`).
    /// Each flag's doc gives its first Linux version.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct SetupFlags: u32 {
        /// `IORING_SETUP_IOPOLL` (Linux 5.1): busy-poll for completions (O_DIRECT files on polled block devices).
        const IOPOLL = IORING_SETUP_IOPOLL;
        /// `IORING_SETUP_SQPOLL` (Linux 5.1): a kernel thread polls the SQ.
        const SQPOLL = IORING_SETUP_SQPOLL;
        /// `IORING_SETUP_SQ_AFF` (Linux 5.1): pin the SQPOLL thread to `sq_thread_cpu`.
        const SQ_AFF = IORING_SETUP_SQ_AFF;
        /// `IORING_SETUP_CQSIZE` (Linux 5.5): `cq_entries` sets the CQ size.
        const CQSIZE = IORING_SETUP_CQSIZE;
        /// `IORING_SETUP_CLAMP` (Linux 5.6): clamp oversized entry counts instead of failing.
        const CLAMP = IORING_SETUP_CLAMP;
        /// `IORING_SETUP_ATTACH_WQ` (Linux 5.6): share the async worker pool of the ring `wq_fd`.
        const ATTACH_WQ = IORING_SETUP_ATTACH_WQ;
        /// `IORING_SETUP_R_DISABLED` (Linux 5.10): start disabled until `IORING_REGISTER_ENABLE_RINGS`.
        const R_DISABLED = IORING_SETUP_R_DISABLED;
        /// `IORING_SETUP_SUBMIT_ALL` (Linux 5.18): keep submitting after an entry fails to submit.
        const SUBMIT_ALL = IORING_SETUP_SUBMIT_ALL;
        /// `IORING_SETUP_COOP_TASKRUN` (Linux 5.19): no interrupting IPIs for task work.
        const COOP_TASKRUN = IORING_SETUP_COOP_TASKRUN;
        /// `IORING_SETUP_TASKRUN_FLAG` (Linux 5.19): flag pending task work in `IORING_SQ_TASKRUN`.
        const TASKRUN_FLAG = IORING_SETUP_TASKRUN_FLAG;
        /// `IORING_SETUP_SQE128` (Linux 5.19): every SQE is 128 bytes.
        const SQE128 = IORING_SETUP_SQE128;
        /// `IORING_SETUP_CQE32` (Linux 5.19): every CQE is 32 bytes.
        const CQE32 = IORING_SETUP_CQE32;
        /// `IORING_SETUP_SINGLE_ISSUER` (Linux 6.0): only one task submits.
        const SINGLE_ISSUER = IORING_SETUP_SINGLE_ISSUER;
        /// `IORING_SETUP_DEFER_TASKRUN` (Linux 6.1): run task work only when completions are asked for.
        const DEFER_TASKRUN = IORING_SETUP_DEFER_TASKRUN;
        /// `IORING_SETUP_NO_MMAP` (Linux 6.5): the rings live in memory the application provides.
        const NO_MMAP = IORING_SETUP_NO_MMAP;
        /// `IORING_SETUP_REGISTERED_FD_ONLY` (Linux 6.5): return a registered ring index, not an fd.
        const REGISTERED_FD_ONLY = IORING_SETUP_REGISTERED_FD_ONLY;
        /// `IORING_SETUP_NO_SQARRAY` (Linux 6.6): no SQ index array.
        const NO_SQARRAY = IORING_SETUP_NO_SQARRAY;
        /// `IORING_SETUP_HYBRID_IOPOLL` (Linux 6.13): sleep before polling (with `IOPOLL`).
        const HYBRID_IOPOLL = IORING_SETUP_HYBRID_IOPOLL;
        /// `IORING_SETUP_CQE_MIXED` (Linux 6.18): 16- and 32-byte CQEs in one ring.
        const CQE_MIXED = IORING_SETUP_CQE_MIXED;
        /// `IORING_SETUP_SQE_MIXED` (Linux 6.19): 64- and 128-byte SQEs in one ring.
        const SQE_MIXED = IORING_SETUP_SQE_MIXED;
        /// `IORING_SETUP_SQ_REWIND`: the kernel reads SQEs from slot 0 on every submit.
        const SQ_REWIND = IORING_SETUP_SQ_REWIND;
    }
}

/// Memory for an `IORING_SETUP_NO_MMAP` (Linux 6.5) ring.
#[derive(Debug)]
pub enum RingMemory {
    /// The crate maps anonymous memory of exactly the size needed (page-rounded).
    /// (`IORING_SETUP_NO_MMAP`, Linux 6.5.)
    Anonymous,
    /// The crate maps one 2 MiB huge page (fails if the rings do not fit, or no huge page is
    /// available).
    /// (`IORING_SETUP_NO_MMAP`, Linux 6.5.)
    HugePage,
    /// Memory the caller provides: page-aligned, at least [`Builder::memory_size`] bytes, and
    /// alive and unused by anything else for the life of the ring. Build with
    /// [`RingMemory::caller`].
    /// (`IORING_SETUP_NO_MMAP`, Linux 6.5.)
    Caller {
        /// Start of the region.
        ptr: *mut u8,
        /// Length of the region in bytes.
        len: usize,
    },
}

impl RingMemory {
    /// Describes caller-provided memory.
    /// (`IORING_SETUP_NO_MMAP`, Linux 6.5.)
    ///
    /// # Safety
    /// `ptr..ptr + len` must be writable memory that stays valid, and is not read or written
    /// through any other path, until the ring built with it is dropped.
    pub unsafe fn caller(ptr: *mut u8, len: usize) -> Self {
        RingMemory::Caller { ptr, len }
    }
}

/// Builds a [`Ring`] with any combination of setup flags and parameters: the
/// `io_uring_setup(2)` system call with an `io_uring_params` (`io_uring_queue_init_params(3)`;
/// each flag's first Linux version is on its setter).
///
/// A ring for one thread that reaps its own completions, with room for twice as many
/// completions as submissions; flags a kernel lacks make `build` fail with `EINVAL`, so a
/// program that wants them on older kernels falls back:
///
/// ```
/// use uring::{op, Builder, Ring};
///
/// let ring = Builder::new()
///     .single_issuer() // IORING_SETUP_SINGLE_ISSUER, Linux 6.0
///     .defer_taskrun() // IORING_SETUP_DEFER_TASKRUN, Linux 6.1
///     .cq_entries(64) // IORING_SETUP_CQSIZE, Linux 5.5
///     .build(32);
/// let mut ring = match ring {
///     Ok(ring) => ring,
///     Err(e) => {
///         println!("falling back to a default ring: {e}");
///         Ring::new(32)?
///     }
/// };
/// assert!(ring.sq().capacity() >= 32);
/// // Sizes are rounded up to powers of two, as the kernel does.
/// assert_eq!(Builder::new().sizes(20)?.sq_entries, 32);
/// for i in 0..100 {
///     // More entries than the ring holds: each loop pushes one and reaps one.
///     ring.sq().push(&op::Nop::new().build().user_data(i))?;
///     assert_eq!(ring.wait_cqe()?.user_data(), i);
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Builder {
    flags: SetupFlags,
    cq_entries: u32,
    sq_thread_cpu: u32,
    sq_thread_idle: u32,
    wq_fd: i32,
    memory: Option<RingMemory>,
    dontfork: bool,
    sq_array: bool,
}

impl Default for Builder {
    fn default() -> Self {
        Self::new()
    }
}

/// Sizes of a ring's shared memory, computed like the kernel does.
/// (`io_uring_setup(2)`'s arithmetic, as `io_uring_memory_size(3)` does it.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RingSizes {
    /// SQ entries after rounding up to a power of two (and clamping).
    pub sq_entries: u32,
    /// CQ entries after rounding (and clamping).
    pub cq_entries: u32,
    /// Bytes of the SQE array.
    pub sqes_bytes: usize,
    /// Bytes of the shared rings region (header, CQEs, SQ index array).
    pub rings_bytes: usize,
}

impl RingSizes {
    /// Bytes an `IORING_SETUP_NO_MMAP` (Linux 6.5) ring uses: the SQE array and the rings region, each
    /// rounded up to whole pages (`io_uring_memory_size(3)`).
    pub fn memory_size(&self) -> usize {
        let page = sys::page_size();
        round_up(self.sqes_bytes, page) + round_up(self.rings_bytes, page)
    }
}

fn round_up(n: usize, to: usize) -> usize {
    n.div_ceil(to) * to
}

impl Builder {
    /// A builder with no flags (and, unless disabled, `IORING_SETUP_NO_SQARRAY` (Linux 6.6) where the kernel
    /// has it).
    pub fn new() -> Self {
        Builder {
            flags: SetupFlags::empty(),
            cq_entries: 0,
            sq_thread_cpu: 0,
            sq_thread_idle: 0,
            wq_fd: -1,
            memory: None,
            dontfork: false,
            sq_array: false,
        }
    }

    /// Adds raw setup flags (for flags whose parameters are set elsewhere or none).
    pub fn flags(mut self, flags: SetupFlags) -> Self {
        self.flags |= flags;
        self
    }

    /// `IORING_SETUP_IOPOLL` (Linux 5.1).
    pub fn iopoll(self) -> Self {
        self.flags(SetupFlags::IOPOLL)
    }

    /// `IORING_SETUP_HYBRID_IOPOLL` (Linux 6.13) (implies `IOPOLL`).
    pub fn hybrid_iopoll(self) -> Self {
        self.flags(SetupFlags::IOPOLL | SetupFlags::HYBRID_IOPOLL)
    }

    /// `IORING_SETUP_SQPOLL` (Linux 5.1) with the thread's idle time in milliseconds before it sleeps
    /// (0: the kernel default, one second).
    pub fn sqpoll(mut self, idle_ms: u32) -> Self {
        self.sq_thread_idle = idle_ms;
        self.flags(SetupFlags::SQPOLL)
    }

    /// `IORING_SETUP_SQ_AFF` (Linux 5.1): pins the SQPOLL thread to `cpu`.
    pub fn sq_thread_cpu(mut self, cpu: u32) -> Self {
        self.sq_thread_cpu = cpu;
        self.flags(SetupFlags::SQ_AFF)
    }

    /// `IORING_SETUP_CQSIZE` (Linux 5.5): the CQ gets `entries` slots (rounded up to a power of two; at
    /// least the SQ size).
    pub fn cq_entries(mut self, entries: u32) -> Self {
        self.cq_entries = entries;
        self.flags(SetupFlags::CQSIZE)
    }

    /// `IORING_SETUP_CLAMP` (Linux 5.6).
    pub fn clamp(self) -> Self {
        self.flags(SetupFlags::CLAMP)
    }

    /// `IORING_SETUP_ATTACH_WQ` (Linux 5.6): share the async worker pool of `ring`.
    pub fn attach_wq(mut self, ring: BorrowedFd<'_>) -> Self {
        self.wq_fd = ring.as_raw_fd();
        self.flags(SetupFlags::ATTACH_WQ)
    }

    /// `IORING_SETUP_R_DISABLED` (Linux 5.10): the ring starts disabled ([`Ring::enable_rings`]).
    pub fn r_disabled(self) -> Self {
        self.flags(SetupFlags::R_DISABLED)
    }

    /// `IORING_SETUP_SUBMIT_ALL` (Linux 5.18).
    pub fn submit_all(self) -> Self {
        self.flags(SetupFlags::SUBMIT_ALL)
    }

    /// `IORING_SETUP_COOP_TASKRUN` (Linux 5.19).
    pub fn coop_taskrun(self) -> Self {
        self.flags(SetupFlags::COOP_TASKRUN)
    }

    /// `IORING_SETUP_TASKRUN_FLAG` (Linux 5.19) (needs `COOP_TASKRUN` or `DEFER_TASKRUN`).
    pub fn taskrun_flag(self) -> Self {
        self.flags(SetupFlags::TASKRUN_FLAG)
    }

    /// `IORING_SETUP_SQE128` (Linux 5.19).
    pub fn sqe128(self) -> Self {
        self.flags(SetupFlags::SQE128)
    }

    /// `IORING_SETUP_CQE32` (Linux 5.19).
    pub fn cqe32(self) -> Self {
        self.flags(SetupFlags::CQE32)
    }

    /// `IORING_SETUP_SQE_MIXED` (Linux 6.19).
    pub fn sqe_mixed(self) -> Self {
        self.flags(SetupFlags::SQE_MIXED)
    }

    /// `IORING_SETUP_CQE_MIXED` (Linux 6.18).
    pub fn cqe_mixed(self) -> Self {
        self.flags(SetupFlags::CQE_MIXED)
    }

    /// `IORING_SETUP_SINGLE_ISSUER` (Linux 6.0).
    pub fn single_issuer(self) -> Self {
        self.flags(SetupFlags::SINGLE_ISSUER)
    }

    /// `IORING_SETUP_DEFER_TASKRUN` (Linux 6.1) (adds `SINGLE_ISSUER`, which it requires).
    pub fn defer_taskrun(self) -> Self {
        self.flags(SetupFlags::DEFER_TASKRUN | SetupFlags::SINGLE_ISSUER)
    }

    /// `IORING_SETUP_NO_MMAP` (Linux 6.5): the rings live in `memory`.
    pub fn no_mmap(mut self, memory: RingMemory) -> Self {
        self.memory = Some(memory);
        self.flags(SetupFlags::NO_MMAP)
    }

    /// `IORING_SETUP_REGISTERED_FD_ONLY` (Linux 6.5) (needs `NO_MMAP`): the ring has no file descriptor,
    /// only a registered index used by every call.
    pub fn registered_fd_only(self) -> Self {
        self.flags(SetupFlags::REGISTERED_FD_ONLY)
    }

    /// `IORING_SETUP_SQ_REWIND` (adds `NO_SQARRAY`, which it requires).
    pub fn sq_rewind(self) -> Self {
        self.flags(SetupFlags::SQ_REWIND | SetupFlags::NO_SQARRAY)
    }

    /// Keeps the SQ index array: do not ask for `IORING_SETUP_NO_SQARRAY` (Linux 6.6).
    pub fn sq_array(mut self) -> Self {
        self.sq_array = true;
        self
    }

    /// `madvise(MADV_DONTFORK)` on the ring memory, so a forked child does not share it
    /// (`io_uring_ring_dontfork(3)`).
    pub fn dontfork(mut self) -> Self {
        self.dontfork = true;
        self
    }

    /// The flags as they will be passed to the kernel (before the `NO_SQARRAY` fallback).
    pub fn setup_flags(&self) -> SetupFlags {
        let mut f = self.flags;
        if !self.sq_array {
            f |= SetupFlags::NO_SQARRAY;
        }
        f
    }

    /// Checks the flag combination as `io_uring_setup(2)` does, without a system call.
    pub fn validate(&self) -> Result<()> {
        let f = self.flags;
        let need = |cond: bool, flag: &'static str, reason: &'static str| {
            if cond {
                Ok(())
            } else {
                Err(Error::ConflictingFlags { flag, reason })
            }
        };
        need(
            !f.contains(SetupFlags::SQ_REWIND) || !f.contains(SetupFlags::SQPOLL),
            "IORING_SETUP_SQ_REWIND",
            "cannot be combined with IORING_SETUP_SQPOLL",
        )?;
        need(
            !f.contains(SetupFlags::SQ_REWIND) || (!self.sq_array || f.contains(SetupFlags::NO_SQARRAY)),
            "IORING_SETUP_SQ_REWIND",
            "requires IORING_SETUP_NO_SQARRAY",
        )?;
        need(
            !f.contains(SetupFlags::REGISTERED_FD_ONLY) || f.contains(SetupFlags::NO_MMAP),
            "IORING_SETUP_REGISTERED_FD_ONLY",
            "requires IORING_SETUP_NO_MMAP (rings cannot be mapped without an fd)",
        )?;
        need(
            !f.contains(SetupFlags::SQPOLL)
                || !f.intersects(SetupFlags::COOP_TASKRUN | SetupFlags::TASKRUN_FLAG | SetupFlags::DEFER_TASKRUN),
            "IORING_SETUP_SQPOLL",
            "cannot be combined with COOP_TASKRUN, TASKRUN_FLAG or DEFER_TASKRUN",
        )?;
        need(
            !f.contains(SetupFlags::TASKRUN_FLAG) || f.intersects(SetupFlags::COOP_TASKRUN | SetupFlags::DEFER_TASKRUN),
            "IORING_SETUP_TASKRUN_FLAG",
            "requires IORING_SETUP_COOP_TASKRUN or IORING_SETUP_DEFER_TASKRUN",
        )?;
        need(
            !f.contains(SetupFlags::HYBRID_IOPOLL) || f.contains(SetupFlags::IOPOLL),
            "IORING_SETUP_HYBRID_IOPOLL",
            "requires IORING_SETUP_IOPOLL",
        )?;
        need(
            !f.contains(SetupFlags::DEFER_TASKRUN) || f.contains(SetupFlags::SINGLE_ISSUER),
            "IORING_SETUP_DEFER_TASKRUN",
            "requires IORING_SETUP_SINGLE_ISSUER",
        )?;
        need(
            !f.contains(SetupFlags::SQE128 | SetupFlags::SQE_MIXED),
            "IORING_SETUP_SQE_MIXED",
            "cannot be combined with IORING_SETUP_SQE128",
        )?;
        need(
            !f.contains(SetupFlags::CQE32 | SetupFlags::CQE_MIXED),
            "IORING_SETUP_CQE_MIXED",
            "cannot be combined with IORING_SETUP_CQE32",
        )?;
        need(
            !f.contains(SetupFlags::SQ_AFF) || f.contains(SetupFlags::SQPOLL),
            "IORING_SETUP_SQ_AFF",
            "requires IORING_SETUP_SQPOLL",
        )?;
        need(
            !f.contains(SetupFlags::ATTACH_WQ) || self.wq_fd >= 0,
            "IORING_SETUP_ATTACH_WQ",
            "requires a ring to attach to (Builder::attach_wq)",
        )?;
        need(
            !f.contains(SetupFlags::NO_MMAP) || self.memory.is_some(),
            "IORING_SETUP_NO_MMAP",
            "requires ring memory (Builder::no_mmap)",
        )?;
        Ok(())
    }

    /// The ring sizes the kernel will use for `entries` SQ entries with these flags, checking
    /// the counts as the kernel does (`io_uring_setup(2)`: 1..=32768 SQ entries, CQ no smaller
    /// than the SQ and at most 65536, unless `IORING_SETUP_CLAMP`).
    /// Linux 5.1.
    pub fn sizes(&self, entries: u32) -> Result<RingSizes> {
        let clamp = self.flags.contains(SetupFlags::CLAMP);
        if entries == 0 {
            return Err(Error::ZeroEntries);
        }
        let entries = if entries > MAX_SQ_ENTRIES {
            if !clamp {
                return Err(Error::TooManyEntries { queue: "SQ", requested: entries, max: MAX_SQ_ENTRIES });
            }
            MAX_SQ_ENTRIES
        } else {
            entries
        };
        let sq_entries = entries.next_power_of_two();
        let cq_entries = if self.flags.contains(SetupFlags::CQSIZE) {
            if self.cq_entries == 0 {
                return Err(Error::InvalidCqSize { sq_entries, cq_entries: 0 });
            }
            let cq = if self.cq_entries > MAX_CQ_ENTRIES {
                if !clamp {
                    return Err(Error::TooManyEntries { queue: "CQ", requested: self.cq_entries, max: MAX_CQ_ENTRIES });
                }
                MAX_CQ_ENTRIES
            } else {
                self.cq_entries
            };
            let cq = cq.next_power_of_two();
            if cq < sq_entries {
                return Err(Error::InvalidCqSize { sq_entries, cq_entries: self.cq_entries });
            }
            cq
        } else {
            2 * sq_entries
        };
        let sqe_size = if self.flags.contains(SetupFlags::SQE128) { 128 } else { 64 };
        let cqe_size = if self.flags.contains(SetupFlags::CQE32) { 32 } else { 16 };
        let mut rings = RINGS_HEADER + cq_entries as usize * cqe_size;
        if !self.setup_flags().contains(SetupFlags::NO_SQARRAY) {
            rings = round_up(rings, 64) + sq_entries as usize * 4;
        }
        Ok(RingSizes { sq_entries, cq_entries, sqes_bytes: sq_entries as usize * sqe_size, rings_bytes: rings })
    }

    /// Bytes an `IORING_SETUP_NO_MMAP` (Linux 6.5) ring of `entries` needs (`io_uring_memory_size(3)`);
    /// what [`Builder::build`] uses of caller memory.
    pub fn memory_size(&self, entries: u32) -> Result<usize> {
        Ok(self.sizes(entries)?.memory_size())
    }

    /// Bytes of locked memory the rings take, which kernels before 5.12 charge against
    /// `RLIMIT_MEMLOCK` (`io_uring_mlock_size(3)`).
    pub fn mlock_size(&self, entries: u32) -> Result<usize> {
        let s = self.sizes(entries)?;
        let page = sys::page_size();
        // The kernel charged whole pages of the rings region and of the SQE array.
        Ok(round_up(s.rings_bytes, page) + round_up(s.sqes_bytes, page))
    }

    /// Sets up the ring with room for `entries` submissions (rounded up to a power of two).
    pub fn build(self, entries: u32) -> Result<Ring> {
        self.validate()?;
        let sizes = self.sizes(entries)?;
        let mut flags = self.setup_flags();
        let added_no_sqarray = !self.flags.contains(SetupFlags::NO_SQARRAY) && flags.contains(SetupFlags::NO_SQARRAY);
        loop {
            match self.try_build(entries, flags, &sizes) {
                Err(Error::Os(e))
                    if added_no_sqarray
                        && flags.contains(SetupFlags::NO_SQARRAY)
                        && e.raw_os_error() == Some(libc::EINVAL) =>
                {
                    // Kernels before 6.6 do not know NO_SQARRAY: retry with the array.
                    flags.remove(SetupFlags::NO_SQARRAY);
                }
                other => return other,
            }
        }
    }

    fn try_build(&self, entries: u32, flags: SetupFlags, sizes: &RingSizes) -> Result<Ring> {
        let mut p = io_uring_params {
            flags: flags.bits(),
            sq_thread_cpu: self.sq_thread_cpu,
            sq_thread_idle: self.sq_thread_idle,
            cq_entries: self.cq_entries,
            wq_fd: if self.wq_fd >= 0 { self.wq_fd as u32 } else { 0 },
            ..Default::default()
        };
        // NO_MMAP: lay out the memory first (recomputed for the flags of this attempt).
        let mut app_mem = None;
        if flags.contains(SetupFlags::NO_MMAP) {
            let b = Builder { flags, sq_array: !flags.contains(SetupFlags::NO_SQARRAY), memory: None, ..*self };
            let s = b.sizes(entries).unwrap_or(*sizes);
            let page = sys::page_size();
            let sqes_len = round_up(s.sqes_bytes, page);
            let need = s.memory_size();
            let (base, len, map) = match self.memory.as_ref() {
                Some(RingMemory::Anonymous) => {
                    let m = Mmap::anonymous(need, false)?;
                    (m.as_ptr(), m.len(), Some(m))
                }
                Some(RingMemory::HugePage) => {
                    if need > HUGE_PAGE_SIZE {
                        return Err(Error::MemoryTooSmall { needed: need, provided: HUGE_PAGE_SIZE });
                    }
                    let m = Mmap::anonymous(HUGE_PAGE_SIZE, true)?;
                    (m.as_ptr(), m.len(), Some(m))
                }
                Some(RingMemory::Caller { ptr, len }) => {
                    if (*ptr as usize) % page != 0 {
                        return Err(Error::Misaligned { what: "NO_MMAP ring memory", align: page });
                    }
                    if *len < need {
                        return Err(Error::MemoryTooSmall { needed: need, provided: *len });
                    }
                    (*ptr, *len, None)
                }
                None => unreachable!("validated"),
            };
            p.sq_off.user_addr = base as u64;
            // SAFETY: `sqes_len < need <= len`.
            p.cq_off.user_addr = unsafe { base.add(sqes_len) } as u64;
            app_mem = Some(crate::ring::AppMemory { map, base, len, used: need, sqes_len });
        }
        let fd = sys::setup(entries, &mut p)?;
        // SAFETY: `fd` is the ring the kernel just created, `p` its parameters, `app_mem` the
        // memory the kernel now uses for it.
        unsafe { Ring::from_setup(fd, p, app_mem, self.dontfork) }
    }
}
