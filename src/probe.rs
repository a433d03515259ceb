//! What the running kernel supports: [`Features`] (the `IORING_FEAT_*` bits reported at setup)
//! and [`Probe`] (supported opcodes, from `IORING_REGISTER_PROBE`).
//!
//! See `io_uring_get_probe(3)`, `io_uring_opcode_supported(3)` and `io_uring_setup(2)`
//! ("features").

use core::ffi::c_void;

use bitflags::bitflags;
use uring_uapi::*;

use crate::{Builder, Error, Result, Ring, RingMemory, SetupFlags};

bitflags! {
    /// The `IORING_FEAT_*` bits the kernel reports in `io_uring_params.features`.
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

impl Features {
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

/// The opcodes the running kernel supports (`IORING_REGISTER_PROBE`, Linux 5.6).
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

impl Probe {
    /// Probes with a temporary ring (`io_uring_get_probe(3)`).
    pub fn new() -> Result<Probe> {
        let ring = Ring::new(2)?;
        Probe::of(&ring)
    }

    /// Probes the kernel through `ring` (`io_uring_get_probe_ring(3)`).
    pub fn of(ring: &Ring) -> Result<Probe> {
        // SAFETY: all-zero is a valid `ProbeBuf` (plain integers).
        let mut buf: Box<ProbeBuf> = Box::new(unsafe { core::mem::zeroed() });
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
