//! BPF filters over io_uring requests (`IORING_REGISTER_BPF_FILTER`, Linux 7.x): a classic-BPF
//! program per opcode decides whether a request may run, for a ring or for every ring of the
//! calling task. See the kernel's `linux/io_uring/bpf_filter.h`.

use core::ffi::c_void;
use std::io;

use uring_uapi::*;

use crate::{Error, Result, Ring};

/// One classic-BPF instruction (`struct sock_filter`).
/// For `IORING_REGISTER_BPF_FILTER`, which Linux 6.18 does not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(C)]
pub struct SockFilter {
    /// Operation code.
    pub code: u16,
    /// Jump offset if true.
    pub jt: u8,
    /// Jump offset if false.
    pub jf: u8,
    /// Generic field.
    pub k: u32,
}

const _: () = assert!(core::mem::size_of::<SockFilter>() == 8);

/// A filter for one opcode.
/// For `IORING_REGISTER_BPF_FILTER`, which Linux 6.18 does not have.
#[derive(Debug, Clone, Copy)]
pub struct BpfFilter<'a> {
    /// The `IORING_OP_*` it applies to.
    pub opcode: u8,
    /// `IO_URING_BPF_FILTER_*` flags (`DENY_REST`, `SZ_STRICT`).
    pub flags: u32,
    /// The program.
    pub program: &'a [SockFilter],
}

impl BpfFilter<'_> {
    fn encode(&self) -> Result<io_uring_bpf> {
        let len = u32::try_from(self.program.len())
            .ok()
            .filter(|&n| n > 0 && n <= 4096)
            .ok_or(Error::InvalidArgument { what: "BPF program", reason: "needs 1 to 4096 instructions" })?;
        let mut b = io_uring_bpf { cmd_type: IO_URING_BPF_CMD_FILTER, ..Default::default() };
        b.u.filter = io_uring_bpf_filter {
            opcode: self.opcode as u32,
            flags: self.flags,
            filter_len: len,
            filter_ptr: self.program.as_ptr() as u64,
            ..Default::default()
        };
        Ok(b)
    }
}

fn register(fd: i32, filter: &BpfFilter<'_>, ring: Option<&Ring>) -> Result<()> {
    let mut b = filter.encode()?;
    let arg = &mut b as *mut io_uring_bpf as *const c_void;
    // SAFETY: `b` and the program it points at are valid for the call; the kernel copies the
    // program.
    let r: io::Result<u32> = match ring {
        // SAFETY: see above: valid argument for the call.
        Some(ring) => unsafe { ring.submitter().register_raw(IORING_REGISTER_BPF_FILTER, arg, 1) },
        // SAFETY: as above.
        None => unsafe { crate::sys::register(fd, IORING_REGISTER_BPF_FILTER, arg, 1) },
    };
    match r {
        Ok(_) => Ok(()),
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
            Err(Error::Unsupported { what: "IORING_REGISTER_BPF_FILTER (or the filter was refused: EINVAL)" })
        }
        Err(e) => Err(Error::Os(e)),
    }
}

/// Installs `filter` on `ring`.
/// `IORING_REGISTER_BPF_FILTER`, which Linux 6.18 does not have.
pub fn register_ring_filter(ring: &Ring, filter: &BpfFilter<'_>) -> Result<()> {
    register(-1, filter, Some(ring))
}

/// Installs `filter` for every ring of the calling task (`fd = -1`).
/// `IORING_REGISTER_BPF_FILTER`, which Linux 6.18 does not have.
pub fn register_task_filter(filter: &BpfFilter<'_>) -> Result<()> {
    register(-1, filter, None)
}
