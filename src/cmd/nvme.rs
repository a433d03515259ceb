//! NVMe passthrough (`NVME_URING_CMD_*`, `linux/nvme_ioctl.h`; kernel
//! `drivers/nvme/host/ioctl.c`): raw NVMe admin and I/O commands on the NVMe generic character
//! devices (`/dev/ngXnY` for a namespace, `/dev/nvmeX` for admin commands on the controller),
//! Linux 5.19.
//!
//! The command is a [`nvme_uring_cmd`] (72 bytes) in the 80-byte command area, so it needs a
//! **128-byte entry**: the encoders build [`Sqe128`]s only, which
//! [`SubmissionQueue::push128_raw`](crate::SubmissionQueue::push128_raw) puts on an
//! `IORING_SETUP_SQE128` ring (or a mixed ring, as `IORING_OP_URING_CMD128`) and refuses for a
//! 64-byte ring. The driver also needs **32-byte
//! completions** (`IORING_SETUP_CQE32`, or `IORING_SETUP_CQE_MIXED`;
//! [`require_cqe32`](super::require_cqe32)): without both, the command fails with `EOPNOTSUPP`.
//! The completion's `res` is the NVMe status (0, a positive NVMe status code, or a negated errno)
//! and its first extra word the 64-bit command result (completion dword 0 and 1): read both with
//! [`NvmeCompletion::from_cqe`].
//!
//! The command numbers are `_IOWR('N', 0x80..=0x83, struct nvme_uring_cmd)`, computed here from
//! the asserted struct size. There is no `nvme_uring_cmd64` in the kernel: the uring_cmd path
//! always reports the 64-bit result in the big completion, which is what
//! [`nvme_passthru_cmd64`] (the `NVME_IOCTL_*64_CMD` ioctl argument, 80 bytes) carries in its
//! `result` field; [`nvme_uring_cmd::from_passthru64`] converts one to the other.
//!
//! Errors: `EOPNOTSUPP` without SQE128+CQE32 (or for `IOPOLL` on the controller device);
//! `EINVAL` for non-zero `flags` or an `nsid` that does not match the namespace; `EACCES` for a
//! command the opener may not send (most admin commands and writes need `CAP_SYS_ADMIN` or a
//! file opened for writing); `ENOTTY` for an I/O command on the controller device.

use core::mem::size_of;

use super::{io_rw, pod_bytes, set_cmd_area128, UringCmd128, CMD_PAYLOAD_128};
use crate::cqe::Cqe32;
use crate::op::Target;
use crate::sqe::Sqe128;

crate::pod_struct! {
    /// `struct nvme_uring_cmd`: an NVMe command for `IORING_OP_URING_CMD` (72 bytes, the first 72
    /// bytes of the 80-byte command area). The NVMe-defined fields (opcode, nsid, command dwords
    /// 2, 3 and 10..15) go to the device as given; `addr`/`data_len` describe the data buffer
    /// (or, for the `_VEC` commands, an iovec array and its length), `metadata`/`metadata_len` the
    /// metadata buffer.
    /// NVMe passthrough over io_uring: Linux 5.19.
    #[allow(non_camel_case_types)]
    #[derive(Debug, Default, PartialEq, Eq, Hash)]
    pub struct nvme_uring_cmd {
        /// NVMe opcode (e.g. 0x02 read, 0x01 write, 0x06 identify).
        pub opcode: u8,
        /// Must be 0 (the kernel rejects fused/PRP-SGL flags with `EINVAL`).
        pub flags: u8,
        /// Reserved.
        pub rsvd1: u16,
        /// Namespace id.
        pub nsid: u32,
        /// Command dword 2.
        pub cdw2: u32,
        /// Command dword 3.
        pub cdw3: u32,
        /// Metadata buffer address.
        pub metadata: u64,
        /// Data buffer address (or iovec array for the `_VEC` commands, or a registered buffer
        /// address with `IORING_URING_CMD_FIXED`).
        pub addr: u64,
        /// Metadata buffer length.
        pub metadata_len: u32,
        /// Data length in bytes (or the iovec count for the `_VEC` commands).
        pub data_len: u32,
        /// Command dword 10.
        pub cdw10: u32,
        /// Command dword 11.
        pub cdw11: u32,
        /// Command dword 12.
        pub cdw12: u32,
        /// Command dword 13.
        pub cdw13: u32,
        /// Command dword 14.
        pub cdw14: u32,
        /// Command dword 15.
        pub cdw15: u32,
        /// Timeout in milliseconds (0: the driver's default).
        pub timeout_ms: u32,
        /// Reserved.
        pub rsvd2: u32,
    }
}

crate::pod_struct! {
    /// `struct nvme_passthru_cmd64`: the argument of the `NVME_IOCTL_ADMIN64_CMD` /
    /// `NVME_IOCTL_IO64_CMD` ioctls (80 bytes): the fields of [`nvme_uring_cmd`] plus the 64-bit
    /// `result` the ioctl writes back (`data_len` is `vec_cnt` for the vectored ioctl). io_uring
    /// does not read this layout; convert it with [`nvme_uring_cmd::from_passthru64`].
    #[allow(non_camel_case_types)]
    #[derive(Debug, Default, PartialEq, Eq, Hash)]
    pub struct nvme_passthru_cmd64 {
        /// NVMe opcode.
        pub opcode: u8,
        /// Flags (must be 0).
        pub flags: u8,
        /// Reserved.
        pub rsvd1: u16,
        /// Namespace id.
        pub nsid: u32,
        /// Command dword 2.
        pub cdw2: u32,
        /// Command dword 3.
        pub cdw3: u32,
        /// Metadata buffer address.
        pub metadata: u64,
        /// Data buffer address.
        pub addr: u64,
        /// Metadata buffer length.
        pub metadata_len: u32,
        /// Data length (or `vec_cnt`, the iovec count, for `NVME_IOCTL_IO64_CMD_VEC`).
        pub data_len: u32,
        /// Command dword 10.
        pub cdw10: u32,
        /// Command dword 11.
        pub cdw11: u32,
        /// Command dword 12.
        pub cdw12: u32,
        /// Command dword 13.
        pub cdw13: u32,
        /// Command dword 14.
        pub cdw14: u32,
        /// Command dword 15.
        pub cdw15: u32,
        /// Timeout in milliseconds.
        pub timeout_ms: u32,
        /// Reserved.
        pub rsvd2: u32,
        /// The command's 64-bit result (written back by the ioctl).
        pub result: u64,
    }
}

const _: () = assert!(size_of::<nvme_uring_cmd>() == 72);
const _: () = assert!(core::mem::align_of::<nvme_uring_cmd>() == 8 || cfg!(target_arch = "x86"));
const _: () = assert!(core::mem::offset_of!(nvme_uring_cmd, metadata) == 16);
const _: () = assert!(core::mem::offset_of!(nvme_uring_cmd, addr) == 24);
const _: () = assert!(core::mem::offset_of!(nvme_uring_cmd, metadata_len) == 32);
const _: () = assert!(core::mem::offset_of!(nvme_uring_cmd, data_len) == 36);
const _: () = assert!(core::mem::offset_of!(nvme_uring_cmd, cdw10) == 40);
const _: () = assert!(core::mem::offset_of!(nvme_uring_cmd, cdw15) == 60);
const _: () = assert!(core::mem::offset_of!(nvme_uring_cmd, timeout_ms) == 64);
const _: () = assert!(core::mem::offset_of!(nvme_uring_cmd, rsvd2) == 68);
const _: () = assert!(size_of::<nvme_passthru_cmd64>() == 80);
const _: () = assert!(core::mem::offset_of!(nvme_passthru_cmd64, result) == 72);
const _: () = assert!(size_of::<nvme_uring_cmd>() <= CMD_PAYLOAD_128);

/// `NVME_URING_CMD_IO` = `_IOWR('N', 0x80, struct nvme_uring_cmd)`: an I/O command on a
/// namespace (Linux 5.19).
pub const NVME_URING_CMD_IO: u32 = io_rw(b'N', 0x80, size_of::<nvme_uring_cmd>());
/// `NVME_URING_CMD_IO_VEC` = `_IOWR('N', 0x81, ...)`: an I/O command whose `addr`/`data_len` are
/// an iovec array and its length (Linux 5.19).
pub const NVME_URING_CMD_IO_VEC: u32 = io_rw(b'N', 0x81, size_of::<nvme_uring_cmd>());
/// `NVME_URING_CMD_ADMIN` = `_IOWR('N', 0x82, ...)`: an admin command (Linux 5.19).
pub const NVME_URING_CMD_ADMIN: u32 = io_rw(b'N', 0x82, size_of::<nvme_uring_cmd>());
/// `NVME_URING_CMD_ADMIN_VEC` = `_IOWR('N', 0x83, ...)`: a vectored admin command (Linux 5.19).
pub const NVME_URING_CMD_ADMIN_VEC: u32 = io_rw(b'N', 0x83, size_of::<nvme_uring_cmd>());

/// NVMe I/O opcode: write.
pub const NVME_CMD_WRITE: u8 = 0x01;
/// NVMe I/O opcode: read.
pub const NVME_CMD_READ: u8 = 0x02;
/// NVMe admin opcode: identify.
pub const NVME_ADMIN_IDENTIFY: u8 = 0x06;
/// Identify CNS value: the namespace data structure.
pub const NVME_ID_CNS_NS: u32 = 0x00;
/// Identify CNS value: the controller data structure.
pub const NVME_ID_CNS_CTRL: u32 = 0x01;

impl nvme_uring_cmd {
    /// The same command from the ioctl layout (drops `result`, which io_uring reports in the big
    /// completion instead).
    /// (`NVME_URING_CMD_IO`/`NVME_URING_CMD_ADMIN`, Linux 5.19.)
    pub const fn from_passthru64(c: &nvme_passthru_cmd64) -> Self {
        nvme_uring_cmd {
            opcode: c.opcode,
            flags: c.flags,
            rsvd1: c.rsvd1,
            nsid: c.nsid,
            cdw2: c.cdw2,
            cdw3: c.cdw3,
            metadata: c.metadata,
            addr: c.addr,
            metadata_len: c.metadata_len,
            data_len: c.data_len,
            cdw10: c.cdw10,
            cdw11: c.cdw11,
            cdw12: c.cdw12,
            cdw13: c.cdw13,
            cdw14: c.cdw14,
            cdw15: c.cdw15,
            timeout_ms: c.timeout_ms,
            rsvd2: c.rsvd2,
        }
    }

    /// An NVM read of `nblocks` logical blocks (1..=65536) at `slba` of namespace `nsid` into
    /// `buf` (whose length must be `nblocks` times the LBA size). `None` for a block count out
    /// of range or a buffer larger than 4 GiB.
    /// For `NVME_URING_CMD_IO` (Linux 5.19).
    pub fn read(nsid: u32, slba: u64, nblocks: u32, buf: &mut [u8]) -> Option<Self> {
        Self::rw(NVME_CMD_READ, nsid, slba, nblocks, buf.as_mut_ptr() as u64, buf.len())
    }

    /// An NVM write of `nblocks` logical blocks at `slba` of namespace `nsid` from `buf`.
    /// For `NVME_URING_CMD_IO` (Linux 5.19).
    pub fn write(nsid: u32, slba: u64, nblocks: u32, buf: &[u8]) -> Option<Self> {
        Self::rw(NVME_CMD_WRITE, nsid, slba, nblocks, buf.as_ptr() as u64, buf.len())
    }

    fn rw(opcode: u8, nsid: u32, slba: u64, nblocks: u32, addr: u64, len: usize) -> Option<Self> {
        if nblocks == 0 || nblocks > 65536 {
            return None;
        }
        Some(nvme_uring_cmd {
            opcode,
            nsid,
            addr,
            data_len: u32::try_from(len).ok()?,
            cdw10: slba as u32,
            cdw11: (slba >> 32) as u32,
            cdw12: nblocks - 1,
            ..Default::default()
        })
    }

    /// An Identify admin command (`cns` [`NVME_ID_CNS_CTRL`], [`NVME_ID_CNS_NS`], ...) into the
    /// 4096-byte `buf`.
    /// For `NVME_URING_CMD_ADMIN` (Linux 5.19).
    pub fn identify(nsid: u32, cns: u32, buf: &mut [u8; 4096]) -> Self {
        nvme_uring_cmd {
            opcode: NVME_ADMIN_IDENTIFY,
            nsid,
            addr: buf.as_mut_ptr() as u64,
            data_len: 4096,
            cdw10: cns,
            ..Default::default()
        }
    }
}

/// An NVMe passthrough command on a generic NVMe character device (`/dev/ngXnY`, `/dev/nvmeX`):
/// `IORING_OP_URING_CMD` with a [`nvme_uring_cmd`] payload in a 128-byte entry (Linux 5.19; no
/// liburing helper, liburing's `io_uring-passthrough` test fills the entry the same way).
///
/// The entry points at the command's data and metadata buffers (or iovec arrays): they must stay
/// valid until the completion, so pushing is `unsafe`.
#[derive(Debug, Clone, Copy)]
pub struct NvmeCmd {
    inner: UringCmd128,
    cmd: nvme_uring_cmd,
}

impl NvmeCmd {
    fn with(fd: impl Into<Target>, cmd_op: u32, cmd: &nvme_uring_cmd) -> Self {
        NvmeCmd { inner: UringCmd128::new(fd, cmd_op), cmd: *cmd }
    }

    /// `NVME_URING_CMD_IO`: an I/O command on namespace device `fd`.
    /// Linux 5.19.
    pub fn io(fd: impl Into<Target>, cmd: &nvme_uring_cmd) -> Self {
        Self::with(fd, NVME_URING_CMD_IO, cmd)
    }

    /// `NVME_URING_CMD_IO_VEC`: an I/O command whose `addr` is an iovec array of `data_len`
    /// entries.
    pub fn io_vec(fd: impl Into<Target>, cmd: &nvme_uring_cmd) -> Self {
        Self::with(fd, NVME_URING_CMD_IO_VEC, cmd)
    }

    /// `NVME_URING_CMD_ADMIN`: an admin command (on the controller or a namespace device).
    /// Linux 5.19.
    pub fn admin(fd: impl Into<Target>, cmd: &nvme_uring_cmd) -> Self {
        Self::with(fd, NVME_URING_CMD_ADMIN, cmd)
    }

    /// `NVME_URING_CMD_ADMIN_VEC`: a vectored admin command.
    pub fn admin_vec(fd: impl Into<Target>, cmd: &nvme_uring_cmd) -> Self {
        Self::with(fd, NVME_URING_CMD_ADMIN_VEC, cmd)
    }

    /// `IORING_URING_CMD_FIXED`: `addr` lies in registered buffer `index` (Linux 6.1; vectored
    /// commands with registered buffers need Linux 6.15).
    pub fn fixed_buf(mut self, index: u16) -> Self {
        self.inner = self.inner.fixed_buf(index);
        self
    }

    /// The entry: a 128-byte `IORING_OP_URING_CMD` (Linux 5.19) (which
    /// [`SubmissionQueue::push128_raw`](crate::SubmissionQueue::push128_raw) fits to mixed rings).
    pub fn build(self) -> Sqe128 {
        let mut sqe = self.inner.build();
        let mut area = [0u8; CMD_PAYLOAD_128];
        area[..size_of::<nvme_uring_cmd>()].copy_from_slice(pod_bytes(&self.cmd));
        set_cmd_area128(&mut sqe, &area);
        sqe
    }
}

/// What an NVMe passthrough completion reports.
/// It arrives in a 32-byte completion (`IORING_SETUP_CQE32`, Linux 5.19).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NvmeCompletion {
    /// `res`: 0 on success, a positive NVMe status (status code and type, as the driver reports
    /// them), or a negated errno when the command never reached the device.
    pub status: i32,
    /// The command's 64-bit result (completion dwords 0-1), from the big completion's first
    /// extra word.
    pub result: u64,
}

impl NvmeCompletion {
    /// Reads a 32-byte NVMe completion.
    /// (`IORING_SETUP_CQE32`, Linux 5.19.)
    pub fn from_cqe(cqe: &Cqe32) -> Self {
        NvmeCompletion { status: cqe.raw_result(), result: cqe.big_cqe()[0] }
    }

    /// Whether the command succeeded.
    pub fn is_ok(&self) -> bool {
        self.status == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::cmd_area128;
    use crate::cmd::test_fields::fields;
    use crate::cqe::Cqe;
    use uring_uapi::*;

    #[test]
    fn numbers() {
        if super::super::ioc_arch::SIZEBITS == 14 {
            assert_eq!(NVME_URING_CMD_IO, 0xC048_4E80);
            assert_eq!(NVME_URING_CMD_IO_VEC, 0xC048_4E81);
            assert_eq!(NVME_URING_CMD_ADMIN, 0xC048_4E82);
            assert_eq!(NVME_URING_CMD_ADMIN_VEC, 0xC048_4E83);
        }
    }

    fn sample() -> nvme_uring_cmd {
        nvme_uring_cmd {
            opcode: 0x02,
            flags: 0,
            rsvd1: 0,
            nsid: 1,
            cdw2: 0x0202_0202,
            cdw3: 0x0303_0303,
            metadata: 0x1111_2222_3333_4444,
            addr: 0x5555_6666_7777_8888,
            metadata_len: 64,
            data_len: 4096,
            cdw10: 10,
            cdw11: 11,
            cdw12: 12,
            cdw13: 13,
            cdw14: 14,
            cdw15: 15,
            timeout_ms: 1000,
            rsvd2: 0,
        }
    }

    #[test]
    fn encoded_bytes() {
        let c = sample();
        let sqe = NvmeCmd::io(Target::raw(9), &c).build();
        assert_eq!(sqe.opcode(), IORING_OP_URING_CMD);
        let f = fields(sqe.head());
        assert_eq!((f.fd, f.off, f.addr, f.len, f.op_flags, f.flags), (9, NVME_URING_CMD_IO as u64, 0, 0, 0, 0));
        let mut expect = [0u8; 80];
        expect[0] = 0x02;
        expect[4..8].copy_from_slice(&1u32.to_ne_bytes());
        expect[8..12].copy_from_slice(&0x0202_0202u32.to_ne_bytes());
        expect[12..16].copy_from_slice(&0x0303_0303u32.to_ne_bytes());
        expect[16..24].copy_from_slice(&0x1111_2222_3333_4444u64.to_ne_bytes());
        expect[24..32].copy_from_slice(&0x5555_6666_7777_8888u64.to_ne_bytes());
        expect[32..36].copy_from_slice(&64u32.to_ne_bytes());
        expect[36..40].copy_from_slice(&4096u32.to_ne_bytes());
        for (i, dw) in (10u32..=15).enumerate() {
            expect[40 + 4 * i..44 + 4 * i].copy_from_slice(&dw.to_ne_bytes());
        }
        expect[64..68].copy_from_slice(&1000u32.to_ne_bytes());
        assert_eq!(cmd_area128(&sqe), expect, "72 command bytes, then zeros");

        let sqe = NvmeCmd::admin_vec(Target::fixed(2), &c).fixed_buf(3).build();
        let f = fields(sqe.head());
        assert_eq!(f.off, NVME_URING_CMD_ADMIN_VEC as u64);
        assert_eq!(f.flags, IOSQE_FIXED_FILE);
        assert_eq!(f.op_flags, IORING_URING_CMD_FIXED);
        assert_eq!(f.buf, 3);
        assert_eq!(fields(NvmeCmd::io_vec(Target::raw(1), &c).build().head()).off, NVME_URING_CMD_IO_VEC as u64);
        assert_eq!(fields(NvmeCmd::admin(Target::raw(1), &c).build().head()).off, NVME_URING_CMD_ADMIN as u64);
    }

    #[test]
    fn helpers() {
        let mut buf = vec![0u8; 8192];
        let r = nvme_uring_cmd::read(1, 0x1_0000_0002, 2, &mut buf).unwrap();
        assert_eq!((r.opcode, r.nsid, r.cdw10, r.cdw11, r.cdw12, r.data_len), (0x02, 1, 2, 1, 1, 8192));
        assert_eq!(r.addr, buf.as_ptr() as u64);
        assert!(nvme_uring_cmd::read(1, 0, 0, &mut buf).is_none());
        assert!(nvme_uring_cmd::write(1, 0, 65537, &buf).is_none());
        let mut id = [0u8; 4096];
        let c = nvme_uring_cmd::identify(0, NVME_ID_CNS_CTRL, &mut id);
        assert_eq!((c.opcode, c.cdw10, c.data_len), (0x06, 1, 4096));
        let p = nvme_passthru_cmd64 { opcode: 2, nsid: 3, cdw15: 9, result: 77, ..Default::default() };
        let u = nvme_uring_cmd::from_passthru64(&p);
        assert_eq!((u.opcode, u.nsid, u.cdw15), (2, 3, 9));
        assert_eq!(pod_bytes(&u), &pod_bytes(&p)[..72], "the first 72 bytes are the same layout");
        let done = NvmeCompletion::from_cqe(&Cqe32::new(Cqe::new(0, 0, 0), [0xABCD, 0]));
        assert!(done.is_ok());
        assert_eq!(done.result, 0xABCD);
    }
}
