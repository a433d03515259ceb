//! What the running kernel supports: [`Features`] (the `IORING_FEAT_*` bits reported at setup)
//! and [`Probe`] (supported opcodes, from `IORING_REGISTER_PROBE`, Linux 5.6).
//!
//! See `io_uring_get_probe(3)`, `io_uring_opcode_supported(3)` and `io_uring_setup(2)`
//! ("features").

use core::ffi::c_void;

use bitflags::bitflags;
use uring_uapi::*;

use crate::{Builder, Error, Result, Ring, RingMemory, SetupFlags};

bitflags! {
    /// The `IORING_FEAT_*` bits the kernel reports in `io_uring_params.features`.
    /// Each bit's doc gives its first Linux version; the field exists since Linux 5.4.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct Features: u32 {
        /// `IORING_FEAT_SINGLE_MMAP` (5.4): SQ and CQ rings share one mapping.
        const SINGLE_MMAP = IORING_FEAT_SINGLE_MMAP;
        /// `IORING_FEAT_NODROP` (5.5): completions are never dropped; overflow is kept in the kernel.
        const NODROP = IORING_FEAT_NODROP;
        /// `IORING_FEAT_SUBMIT_STABLE` (5.5): data for async offload is consumed at submit time.
        const SUBMIT_STABLE = IORING_FEAT_SUBMIT_STABLE;
        /// `IORING_FEAT_RW_CUR_POS` (5.6): offset -1 means the current file position.
        const RW_CUR_POS = IORING_FEAT_RW_CUR_POS;
        /// `IORING_FEAT_CUR_PERSONALITY` (5.6): requests use the submitter's credentials.
        const CUR_PERSONALITY = IORING_FEAT_CUR_PERSONALITY;
        /// `IORING_FEAT_FAST_POLL` (5.7): internal poll instead of async workers for sockets.
        const FAST_POLL = IORING_FEAT_FAST_POLL;
        /// `IORING_FEAT_POLL_32BITS` (5.9): 32-bit poll event masks.
        const POLL_32BITS = IORING_FEAT_POLL_32BITS;
        /// `IORING_FEAT_SQPOLL_NONFIXED` (5.11): SQPOLL works without registered files.
        const SQPOLL_NONFIXED = IORING_FEAT_SQPOLL_NONFIXED;
        /// `IORING_FEAT_EXT_ARG` (5.11): `io_uring_enter(2)` takes `io_uring_getevents_arg`.
        const EXT_ARG = IORING_FEAT_EXT_ARG;
        /// `IORING_FEAT_NATIVE_WORKERS` (5.12): async workers are threads of the submitter.
        const NATIVE_WORKERS = IORING_FEAT_NATIVE_WORKERS;
        /// `IORING_FEAT_RSRC_TAGS` (5.13): registered resources can carry tags.
        const RSRC_TAGS = IORING_FEAT_RSRC_TAGS;
        /// `IORING_FEAT_CQE_SKIP` (5.17): `IOSQE_CQE_SKIP_SUCCESS` is supported.
        const CQE_SKIP = IORING_FEAT_CQE_SKIP;
        /// `IORING_FEAT_LINKED_FILE` (5.17): linked requests open files when they run.
        const LINKED_FILE = IORING_FEAT_LINKED_FILE;
        /// `IORING_FEAT_REG_REG_RING` (6.3): register calls accept a registered ring index.
        const REG_REG_RING = IORING_FEAT_REG_REG_RING;
        /// `IORING_FEAT_RECVSEND_BUNDLE` (6.10): bundled send/recv with provided buffers.
        const RECVSEND_BUNDLE = IORING_FEAT_RECVSEND_BUNDLE;
        /// `IORING_FEAT_MIN_TIMEOUT` (6.12): min-wait timeouts and absolute wait timers.
        const MIN_TIMEOUT = IORING_FEAT_MIN_TIMEOUT;
        /// `IORING_FEAT_RW_ATTR` (6.14): read/write attributes (`attr_ptr`, e.g. PI).
        const RW_ATTR = IORING_FEAT_RW_ATTR;
        /// `IORING_FEAT_NO_IOWAIT` (6.15): `IORING_ENTER_NO_IOWAIT`.
        const NO_IOWAIT = IORING_FEAT_NO_IOWAIT;
    }
}

macro_rules! feature_getters {
    ($($fn:ident => $flag:ident),* $(,)?) => {
        impl Features {
            $(
                #[doc = concat!("Whether `IORING_FEAT_", stringify!($flag), "` is set.")]
                #[inline]
                pub const fn $fn(&self) -> bool {
                    self.contains(Features::$flag)
                }
            )*
        }
    };
}

feature_getters! {
    single_mmap => SINGLE_MMAP, nodrop => NODROP, submit_stable => SUBMIT_STABLE,
    rw_cur_pos => RW_CUR_POS, cur_personality => CUR_PERSONALITY, fast_poll => FAST_POLL,
    poll_32bits => POLL_32BITS, sqpoll_nonfixed => SQPOLL_NONFIXED, ext_arg => EXT_ARG,
    native_workers => NATIVE_WORKERS, rsrc_tags => RSRC_TAGS, cqe_skip => CQE_SKIP,
    linked_file => LINKED_FILE, reg_reg_ring => REG_REG_RING, recvsend_bundle => RECVSEND_BUNDLE,
    min_timeout => MIN_TIMEOUT, rw_attr => RW_ATTR, no_iowait => NO_IOWAIT,
}

impl Features {
    /// The raw `IORING_FEAT_*` word.
    #[inline]
    pub const fn raw(&self) -> u32 {
        self.bits()
    }

    /// The kernel names (`IORING_FEAT_...`) of the set bits.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.iter_names().map(|(n, _)| n)
    }
}

/// The kernel names of the `IORING_OP_*` opcodes of Linux 7.3, indexed by opcode.
pub const OPCODE_NAMES: [&str; IORING_OP_LAST as usize] = [
    "NOP",
    "READV",
    "WRITEV",
    "FSYNC",
    "READ_FIXED",
    "WRITE_FIXED",
    "POLL_ADD",
    "POLL_REMOVE",
    "SYNC_FILE_RANGE",
    "SENDMSG",
    "RECVMSG",
    "TIMEOUT",
    "TIMEOUT_REMOVE",
    "ACCEPT",
    "ASYNC_CANCEL",
    "LINK_TIMEOUT",
    "CONNECT",
    "FALLOCATE",
    "OPENAT",
    "CLOSE",
    "FILES_UPDATE",
    "STATX",
    "READ",
    "WRITE",
    "FADVISE",
    "MADVISE",
    "SEND",
    "RECV",
    "OPENAT2",
    "EPOLL_CTL",
    "SPLICE",
    "PROVIDE_BUFFERS",
    "REMOVE_BUFFERS",
    "TEE",
    "SHUTDOWN",
    "RENAMEAT",
    "UNLINKAT",
    "MKDIRAT",
    "SYMLINKAT",
    "LINKAT",
    "MSG_RING",
    "FSETXATTR",
    "SETXATTR",
    "FGETXATTR",
    "GETXATTR",
    "SOCKET",
    "URING_CMD",
    "SEND_ZC",
    "SENDMSG_ZC",
    "READ_MULTISHOT",
    "WAITID",
    "FUTEX_WAIT",
    "FUTEX_WAKE",
    "FUTEX_WAITV",
    "FIXED_FD_INSTALL",
    "FTRUNCATE",
    "BIND",
    "LISTEN",
    "RECV_ZC",
    "EPOLL_WAIT",
    "READV_FIXED",
    "WRITEV_FIXED",
    "PIPE",
    "NOP128",
    "URING_CMD128",
];

/// The kernel name of opcode `op` (without the `IORING_OP_` prefix), if it is one of Linux 7.3's.
pub fn opcode_name(op: u8) -> Option<&'static str> {
    OPCODE_NAMES.get(op as usize).copied()
}

/// The opcodes the running kernel supports (`IORING_REGISTER_PROBE`, `io_uring_get_probe(3)`,
/// Linux 5.6).
///
/// Checking for an operation before using it, with a fallback:
///
/// ```
/// use uring::{op, Probe};
///
/// let probe = Probe::new()?;
/// assert!(probe.is_supported(op::Nop::CODE));
/// if probe.is_supported(op::ReadMultishot::CODE) {
///     println!("multishot reads (Linux 6.7) are available");
/// } else {
///     println!("falling back to single reads");
/// }
/// println!("{} opcodes, up to {}", probe.supported_ops().count(), probe.last_op());
/// # Ok::<(), uring::Error>(())
/// ```
#[derive(Clone)]
pub struct Probe {
    last_op: u8,
    supported: [bool; 256],
}

impl core::fmt::Debug for Probe {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Probe")
            .field("last_op", &self.last_op)
            .field("supported", &self.supported_ops().collect::<Vec<_>>())
            .finish()
    }
}

#[repr(C)]
struct ProbeBuf {
    hdr: io_uring_probe,
    ops: [io_uring_probe_op; 256],
}

// SAFETY: the probe header and entries are plain integers; all-zero is a valid value.
unsafe impl crate::util::Zeroable for ProbeBuf {}

impl Probe {
    /// Probes with a temporary ring (`io_uring_get_probe(3)`).
    /// Linux 5.6.
    pub fn new() -> Result<Probe> {
        let ring = Ring::new(2)?;
        Probe::of(&ring)
    }

    /// Probes the kernel through `ring` (`io_uring_get_probe_ring(3)`).
    /// Linux 5.6.
    pub fn of(ring: &Ring) -> Result<Probe> {
        let mut buf: Box<ProbeBuf> = Box::new(crate::util::zeroed());
        // SAFETY: the buffer holds the header and 256 op entries, as `nr_args` says.
        unsafe {
            ring.submitter().register_raw(IORING_REGISTER_PROBE, &mut *buf as *mut ProbeBuf as *const c_void, 256)
        }?;
        let mut supported = [false; 256];
        let n = (buf.hdr.ops_len as usize).min(256);
        for op in &buf.ops[..n] {
            if op.flags as u32 & IO_URING_OP_SUPPORTED != 0 {
                supported[op.op as usize] = true;
            }
        }
        Ok(Probe { last_op: buf.hdr.last_op, supported })
    }

    /// The highest opcode the kernel knows.
    pub fn last_op(&self) -> u8 {
        self.last_op
    }

    /// Whether opcode `op` is supported (`io_uring_opcode_supported(3)`).
    /// Linux 5.6.
    pub fn is_supported(&self, op: u8) -> bool {
        self.supported[op as usize]
    }

    /// The supported opcodes, in order.
    pub fn supported_ops(&self) -> impl Iterator<Item = u8> + '_ {
        (0..=255u8).filter(|&op| self.supported[op as usize])
    }
}

/// Setup flags one by one, each with the companions the kernel requires, as tried by
/// [`setup_flag_support`].
fn builder_for(flag: SetupFlags, other: &Ring) -> Option<Builder> {
    use std::os::fd::AsFd;
    let b = Builder::new().sq_array();
    Some(match flag {
        SetupFlags::SQPOLL => b.sqpoll(10),
        SetupFlags::SQ_AFF => b.sqpoll(10).sq_thread_cpu(0),
        SetupFlags::CQSIZE => b.cq_entries(8),
        SetupFlags::ATTACH_WQ => b.attach_wq(other.submitter().fd()?.as_fd()),
        SetupFlags::TASKRUN_FLAG => b.coop_taskrun().taskrun_flag(),
        SetupFlags::DEFER_TASKRUN => b.defer_taskrun(),
        SetupFlags::NO_MMAP => b.no_mmap(RingMemory::Anonymous),
        SetupFlags::REGISTERED_FD_ONLY => b.no_mmap(RingMemory::Anonymous).registered_fd_only(),
        SetupFlags::HYBRID_IOPOLL => b.hybrid_iopoll(),
        SetupFlags::SQ_REWIND => b.sq_rewind(),
        f => b.flags(f),
    })
}

/// Tries every `IORING_SETUP_*` flag on a small ring (with the companion flags it requires)
/// and reports whether the running kernel accepts it, with the error where it does not.
pub fn setup_flag_support() -> Result<Vec<(&'static str, Result<()>)>> {
    let other = Ring::new(2)?;
    let mut out = Vec::new();
    for (name, flag) in SetupFlags::all().iter_names() {
        let res = match builder_for(flag, &other) {
            Some(b) => b.build(2).map(|_| ()),
            None => Err(Error::Unsupported { what: "no ring fd to attach to" }),
        };
        out.push((name, res));
    }
    Ok(out)
}

/// Whether the running kernel supports kernel-managed buffer rings (the unmerged kmbuf
/// proposal, see the `kmbuf` cargo feature): registers a one-entry ring with
/// `IOU_PBUF_RING_MMAP | IOU_PBUF_RING_KERNEL_MANAGED` on a temporary ring and unregisters it.
/// Kernels without kmbuf reject the unknown flag with `EINVAL`: that answers `false`.
/// No mainline kernel up to Linux 7.3 has it.
pub fn kmbuf_supported() -> Result<bool> {
    let ring = Ring::new(2)?;
    // IOU_PBUF_RING_KERNEL_MANAGED of the proposal (uapi::kmbuf, behind the `kmbuf` feature).
    const KERNEL_MANAGED: u16 = 4;
    let buf_size = crate::sys::page_size() as u32;
    let mut reg = io_uring_buf_reg {
        // bytes 0..4 of the ring_addr/buf_size union hold buf_size, bytes 4..8 stay zero
        ring_addr: if cfg!(target_endian = "little") { buf_size as u64 } else { (buf_size as u64) << 32 },
        ring_entries: 1,
        bgid: 0,
        flags: IOU_PBUF_RING_MMAP | KERNEL_MANAGED,
        ..Default::default()
    };
    // SAFETY: one valid `io_uring_buf_reg`, as `nr_args` says.
    let r = unsafe {
        ring.submitter().register_raw(IORING_REGISTER_PBUF_RING, &mut reg as *mut io_uring_buf_reg as *const c_void, 1)
    };
    match r {
        Ok(_) => {
            let mut un = io_uring_buf_reg { bgid: 0, ..Default::default() };
            // SAFETY: as above.
            unsafe {
                ring.submitter().register_raw(
                    IORING_UNREGISTER_PBUF_RING,
                    &mut un as *mut io_uring_buf_reg as *const c_void,
                    1,
                )
            }?;
            Ok(true)
        }
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// The kernel names of the `IORING_REGISTER_*` operations of Linux 7.3, indexed by opcode.
pub const REGISTER_OP_NAMES: [&str; IORING_REGISTER_LAST as usize] = [
    "BUFFERS",
    "UNREGISTER_BUFFERS",
    "FILES",
    "UNREGISTER_FILES",
    "EVENTFD",
    "UNREGISTER_EVENTFD",
    "FILES_UPDATE",
    "EVENTFD_ASYNC",
    "PROBE",
    "PERSONALITY",
    "UNREGISTER_PERSONALITY",
    "RESTRICTIONS",
    "ENABLE_RINGS",
    "FILES2",
    "FILES_UPDATE2",
    "BUFFERS2",
    "BUFFERS_UPDATE",
    "IOWQ_AFF",
    "UNREGISTER_IOWQ_AFF",
    "IOWQ_MAX_WORKERS",
    "RING_FDS",
    "UNREGISTER_RING_FDS",
    "PBUF_RING",
    "UNREGISTER_PBUF_RING",
    "SYNC_CANCEL",
    "FILE_ALLOC_RANGE",
    "PBUF_STATUS",
    "NAPI",
    "UNREGISTER_NAPI",
    "CLOCK",
    "CLONE_BUFFERS",
    "SEND_MSG_RING",
    "ZCRX_IFQ",
    "RESIZE_RINGS",
    "MEM_REGION",
    "QUERY",
    "ZCRX_CTRL",
    "BPF_FILTER",
];

/// Whether the kernel knows a register operation, as found by [`register_op_support`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegisterSupport {
    /// Known: the harmless call succeeded or failed with this errno (not `EINVAL`).
    Yes(Option<i32>),
    /// `EINVAL` for both empty-argument forms: unknown to this kernel (or indistinguishable).
    No,
}

/// Detects every `IORING_REGISTER_*` operation by a harmless call on a temporary ring: first
/// with no argument and a count of 0, then with a null argument and a count of 1. A kernel that
/// knows the operation answers with something other than `EINVAL` (typically `EFAULT` for the
/// null pointer, `ENXIO` for nothing to unregister, or success); an unknown one answers `EINVAL`.
/// Where `IORING_REGISTER_QUERY` is available its opcode count settles the answer instead.
pub fn register_op_support() -> Result<Vec<(u32, &'static str, RegisterSupport)>> {
    let ring = Builder::new().defer_taskrun().cqe32().build(2).or_else(|_| Ring::new(2))?;
    let counted = crate::query::query::<io_uring_query_opcode>(None).ok().map(|q| q.nr_register_opcodes);
    let mut out = Vec::new();
    for op in 0..IORING_REGISTER_LAST {
        let support = if let Some(n) = counted {
            if op < n {
                RegisterSupport::Yes(None)
            } else {
                RegisterSupport::No
            }
        } else {
            // Blind operations take fd -1; everything else the ring.
            let blind = op == IORING_REGISTER_SEND_MSG_RING || op == IORING_REGISTER_QUERY;
            let call = |nr: u32| {
                if blind {
                    // SAFETY: a null argument: the kernel fails with EFAULT or EINVAL at most.
                    unsafe { crate::sys::register(-1, op, core::ptr::null(), nr) }
                } else {
                    // SAFETY: as above.
                    unsafe { ring.submitter().register_raw(op, core::ptr::null(), nr) }
                }
            };
            let classify = |r: std::io::Result<u32>| match r {
                Ok(_) => Some(RegisterSupport::Yes(None)),
                Err(e) if e.raw_os_error() == Some(libc::EINVAL) => None,
                Err(e) => Some(RegisterSupport::Yes(e.raw_os_error())),
            };
            classify(call(0)).or_else(|| classify(call(1))).unwrap_or(RegisterSupport::No)
        };
        out.push((op, REGISTER_OP_NAMES[op as usize], support));
    }
    Ok(out)
}

/// One report of what the running kernel's io_uring supports: features, every opcode, every
/// register operation, every setup flag, kmbuf, and the query interface's answers.
#[derive(Debug)]
pub struct Capabilities {
    /// The kernel release (`uname -r`).
    pub kernel_release: String,
    /// `IORING_FEAT_*` of a default ring.
    pub features: Features,
    /// Supported opcodes.
    pub probe: Probe,
    /// Every register operation.
    pub register_ops: Vec<(u32, &'static str, RegisterSupport)>,
    /// Every setup flag, with the error where refused.
    pub setup_flags: Vec<(&'static str, Result<()>)>,
    /// Kernel-managed buffer rings.
    pub kmbuf: Result<bool>,
    /// `IORING_REGISTER_QUERY` answers (`Unsupported` before Linux 6.18).
    pub query: Result<crate::query::QueryAll>,
}

impl Capabilities {
    /// Probes everything (a few dozen short system calls and temporary rings).
    pub fn detect() -> Result<Capabilities> {
        let ring = Ring::new(2)?;
        Ok(Capabilities {
            kernel_release: rustix::system::uname().release().to_string_lossy().into_owned(),
            features: ring.features(),
            probe: Probe::of(&ring)?,
            register_ops: register_op_support()?,
            setup_flags: setup_flag_support()?,
            kmbuf: kmbuf_supported(),
            query: crate::query::query_all(None),
        })
    }
}
