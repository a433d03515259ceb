//! Encoders of `IORING_OP_URING_CMD` and `IORING_OP_URING_CMD128`: file-specific commands
//! (sockets, block devices, NVMe, ublk, FUSE) with an inline payload.
//!
//! A command carries `cmd_op` (the file's command number) and a payload in the SQE's `cmd`
//! area: 16 bytes in a 64-byte entry, 80 bytes in a 128-byte entry (an `IORING_SETUP_SQE128`
//! ring, or `IORING_OP_URING_CMD128` on an `IORING_SETUP_SQE_MIXED` ring). Typed commands for
//! particular files build on these.

use uring_uapi::*;

use crate::op::{prep_rw, BufferGroup, Target};
use crate::sqe::{Sqe, Sqe128};
use crate::util::Pod;
use crate::{Error, Result};

/// Payload bytes of a command in a 64-byte entry.
/// (`sqe.cmd` of `IORING_OP_URING_CMD`, Linux 5.19.)
pub const CMD_PAYLOAD_64: usize = 16;
/// Payload bytes of a command in a 128-byte entry.
/// (`IORING_SETUP_SQE128`, Linux 5.19.)
pub const CMD_PAYLOAD_128: usize = 80;

/// A buffer group on a command that is not multishot.
const NOT_MULTISHOT: Error = Error::InvalidArgument {
    what: "uring_cmd buffer group",
    reason: "needs IORING_URING_CMD_MULTISHOT first (the kernel refuses a buffer group on a single-shot command with EINVAL)",
};

fn copy_payload<T: Pod>(payload: &T, into: &mut [u8]) -> Result<()> {
    let n = core::mem::size_of::<T>();
    if n > into.len() {
        return Err(Error::InvalidArgument {
            what: "uring_cmd payload",
            reason: "larger than the entry's command area",
        });
    }
    // SAFETY: `T: Pod` is plain bytes; `n <= into.len()`, and the regions cannot overlap (`into`
    // is a fresh entry).
    unsafe { core::ptr::copy_nonoverlapping(payload as *const T as *const u8, into.as_mut_ptr(), n) };
    Ok(())
}

/// `IORING_OP_URING_CMD` in a 64-byte entry: command `cmd_op` on `fd` with up to 16 payload
/// bytes (`io_uring_prep_uring_cmd(3)`, Linux 5.19).
///
/// The payload is copied into the entry; what it means (and whether it holds addresses the
/// kernel will use) is defined by the file's driver, so [`build`](UringCmd::build) returns an
/// [`Sqe`] and pushing is `unsafe`. Typed commands that point at nothing return safe entries.
///
/// The typed commands in [`cmd`](crate::cmd) build on this; a command they lack is encoded
/// here from its number and payload. For instance `SOCKET_URING_OP_SIOCINQ` (Linux 6.7),
/// which has no payload:
///
/// ```
/// use std::io::Write;
/// use std::os::unix::net::UnixStream;
/// use uring::op::UringCmd;
/// use uring::uapi::SOCKET_URING_OP_SIOCINQ;
/// use uring::{Errno, Ring};
///
/// let mut ring = Ring::new(4)?;
/// let (mut tx, rx) = UnixStream::pair()?;
/// tx.write_all(b"12345")?;
/// let sqe = UringCmd::new(&rx, SOCKET_URING_OP_SIOCINQ).build().user_data(7);
/// // SAFETY: the command has no payload, so it points at no memory; `rx` stays open until
/// // its completion is reaped below.
/// unsafe { ring.sq().push_raw(&sqe) }?;
/// let cqe = ring.wait_cqe()?;
/// match cqe.result() {
///     Ok(n) => assert_eq!(n, 5),
///     Err(Errno::OPNOTSUPP) => println!("no socket commands before Linux 6.7"),
///     Err(e) => return Err(e.into()),
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct UringCmd {
    sqe: Sqe,
}

impl UringCmd {
    /// The operation code, `IORING_OP_URING_CMD`.
    pub const CODE: u8 = IORING_OP_URING_CMD;

    /// Command `cmd_op` on `fd`, with an empty payload.
    /// See `io_uring_prep_uring_cmd(3)` (Linux 5.19).
    pub fn new(fd: impl Into<Target>, cmd_op: u32) -> Self {
        let mut sqe = prep_rw(Self::CODE, 0, 0, 0, 0);
        crate::op::set_target(&mut sqe, fd.into());
        sqe.0.off.cmd_op.cmd_op = cmd_op;
        UringCmd { sqe }
    }

    /// Copies `payload` (a plain value of at most 16 bytes) into the command area.
    pub fn payload<T: Pod>(mut self, payload: &T) -> Result<Self> {
        // SAFETY: `cmd` is the 16-byte tail of the entry; all its bits are plain data.
        let area = unsafe { &mut self.sqe.0.addr3.cmd };
        copy_payload(payload, area)?;
        Ok(self)
    }

    /// `IORING_URING_CMD_FIXED`: the command uses registered buffer `index` (Linux 6.1).
    pub fn fixed_buf(mut self, index: u16) -> Self {
        // SAFETY: writing plain integers into the union.
        unsafe { self.sqe.0.op_flags.uring_cmd_flags |= IORING_URING_CMD_FIXED };
        self.sqe.0.buf.buf_index = index;
        self
    }

    /// Lets the driver select buffers from `group` (`IOSQE_BUFFER_SELECT` with
    /// `sqe.buf_group`, Linux 6.18), on a multishot command: call
    /// [`multishot`](Self::multishot) first. Replaces a [`fixed_buf`](Self::fixed_buf) index
    /// (the kernel reads one field).
    ///
    /// Refused with [`Error::InvalidArgument`]:
    /// - without `multishot` (`what: "uring_cmd buffer group"`): the kernel takes a buffer
    ///   group only on a multishot command and refuses it otherwise with `EINVAL` at
    ///   submission (and a multishot command without a buffer group too);
    /// - a kernel-managed (kmbuf) group (`what: "buffer group"`), as every encoder refuses it.
    ///   No driver selects kmbuf buffers through the entry: kmbuf's proposed consumer (FUSE over
    ///   io_uring) selects through the kernel API after pinning the ring, and the only mainline
    ///   driver that selects from buffer groups this way (ublk's batch fetch) copies to the
    ///   buffer's address as user memory, so a kmbuf group completes with `EFAULT` and loses a
    ///   buffer until its consumer recycles it. An out-of-tree driver that does select kmbuf
    ///   buffers through the entry can be given the bare id ([`BufGroupId`](crate::op::BufGroupId));
    ///   the entry is pushed with `unsafe` anyway.
    pub fn buf_group(mut self, group: &impl BufferGroup) -> Result<Self> {
        // SAFETY: reading a plain integer of the union.
        if unsafe { self.sqe.0.op_flags.uring_cmd_flags } & IORING_URING_CMD_MULTISHOT == 0 {
            return Err(NOT_MULTISHOT);
        }
        crate::op::set_buffer_select(&mut self.sqe, group)?;
        Ok(self)
    }

    /// `IORING_URING_CMD_MULTISHOT` (Linux 6.18): the command posts completions, each with a
    /// buffer selected from its group, until told to stop. Needs a buffer group
    /// ([`buf_group`](Self::buf_group), after this call): the kernel refuses a multishot
    /// command without one with `EINVAL` at submission.
    pub fn multishot(mut self) -> Self {
        // SAFETY: writing plain integers into the union.
        unsafe { self.sqe.0.op_flags.uring_cmd_flags |= IORING_URING_CMD_MULTISHOT };
        self
    }

    /// The entry.
    /// Encodes `IORING_OP_URING_CMD`.
    pub fn build(self) -> Sqe {
        self.sqe
    }
}

/// `IORING_OP_URING_CMD` or `IORING_OP_URING_CMD128` in a 128-byte entry with up to 80 payload
/// bytes (`io_uring_prep_uring_cmd128(3)`). On an `IORING_SETUP_SQE128` ring use
/// [`UringCmd128::new`] (opcode `URING_CMD`); on an `IORING_SETUP_SQE_MIXED` ring use
/// [`UringCmd128::mixed`] (opcode `URING_CMD128`, Linux 6.19).
#[derive(Debug, Clone, Copy)]
pub struct UringCmd128 {
    sqe: Sqe128,
}

impl UringCmd128 {
    /// The operation code on mixed rings, `IORING_OP_URING_CMD`.
    pub const CODE: u8 = IORING_OP_URING_CMD128;

    /// A 128-byte command for an `IORING_SETUP_SQE128` (Linux 5.19) ring.
    /// See `io_uring_prep_uring_cmd128(3)`.
    pub fn new(fd: impl Into<Target>, cmd_op: u32) -> Self {
        let head = UringCmd::new(fd, cmd_op).sqe;
        UringCmd128 { sqe: head.into128() }
    }

    /// A 128-byte command for an `IORING_SETUP_SQE_MIXED` (Linux 6.19) ring (`IORING_OP_URING_CMD128`).
    pub fn mixed(fd: impl Into<Target>, cmd_op: u32) -> Self {
        let mut c = Self::new(fd, cmd_op);
        c.sqe.sqe.opcode = Self::CODE;
        c
    }

    /// Copies `payload` (a plain value of at most 80 bytes) into the command area.
    pub fn payload<T: Pod>(mut self, payload: &T) -> Result<Self> {
        let mut area = [0u8; CMD_PAYLOAD_128];
        copy_payload(payload, &mut area)?;
        // SAFETY: the first 16 bytes of the command area are the `cmd` member.
        unsafe { self.sqe.sqe.addr3.cmd.copy_from_slice(&area[..16]) };
        self.sqe.ext.copy_from_slice(&area[16..]);
        Ok(self)
    }

    /// The 80-byte command area as written so far.
    pub fn payload_bytes(&self) -> [u8; CMD_PAYLOAD_128] {
        let mut area = [0u8; CMD_PAYLOAD_128];
        // SAFETY: the `cmd` member is 16 plain bytes.
        area[..16].copy_from_slice(unsafe { &self.sqe.sqe.addr3.cmd });
        area[16..].copy_from_slice(&self.sqe.ext);
        area
    }

    /// `IORING_URING_CMD_FIXED` (Linux 6.1) with registered buffer `index`.
    pub fn fixed_buf(mut self, index: u16) -> Self {
        // SAFETY: writing plain integers into the union.
        unsafe { self.sqe.sqe.op_flags.uring_cmd_flags |= IORING_URING_CMD_FIXED };
        self.sqe.sqe.buf.buf_index = index;
        self
    }

    /// Lets the driver select buffers from `group`, on a multishot command (call
    /// [`multishot`](Self::multishot) first); refused as [`UringCmd::buf_group`] refuses
    /// (without multishot, or a kernel-managed group).
    pub fn buf_group(mut self, group: &impl BufferGroup) -> Result<Self> {
        // SAFETY: reading a plain integer of the union.
        if unsafe { self.sqe.sqe.op_flags.uring_cmd_flags } & IORING_URING_CMD_MULTISHOT == 0 {
            return Err(NOT_MULTISHOT);
        }
        let mut head = Sqe(self.sqe.sqe);
        crate::op::set_buffer_select(&mut head, group)?;
        self.sqe.sqe = head.0;
        Ok(self)
    }

    /// `IORING_URING_CMD_MULTISHOT` (Linux 6.18) (needs a buffer group, as for [`UringCmd::multishot`]).
    pub fn multishot(mut self) -> Self {
        // SAFETY: writing plain integers into the union.
        unsafe { self.sqe.sqe.op_flags.uring_cmd_flags |= IORING_URING_CMD_MULTISHOT };
        self
    }

    /// The entry.
    /// Encodes `IORING_OP_URING_CMD`.
    pub fn build(self) -> Sqe128 {
        self.sqe
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::op::test_util::{check, fields, Fields};
    use crate::op::BufGroupId;

    #[test]
    fn uring_cmd_64() {
        check(&[(
            "uring_cmd with a payload",
            UringCmd::new(Target::raw(7), 0xAB).payload(&[1u64, 2u64]).unwrap().build(),
            Fields { opcode: IORING_OP_URING_CMD, fd: 7, off: 0xAB, addr3: 1, pad2: 2, ..Default::default() },
        )]);
        assert!(UringCmd::new(Target::raw(7), 1).payload(&[0u8; 17]).is_err(), "17 bytes do not fit");
        let sqe =
            UringCmd::new(Target::fixed(3), 9).fixed_buf(4).multishot().buf_group(&BufGroupId(5)).unwrap().build();
        let f = fields(&sqe);
        assert_eq!(f.flags, IOSQE_FIXED_FILE | IOSQE_BUFFER_SELECT);
        assert_eq!(f.op_flags, IORING_URING_CMD_FIXED | IORING_URING_CMD_MULTISHOT);
        assert_eq!(f.buf, 5, "buf_group overwrote buf_index (the kernel reads one field)");
    }

    #[test]
    fn uring_cmd_128() {
        let mut payload = [0u8; 80];
        for (i, b) in payload.iter_mut().enumerate() {
            *b = i as u8;
        }
        let c = UringCmd128::new(Target::raw(3), 5).payload(&payload).unwrap();
        assert_eq!(c.payload_bytes(), payload);
        let sqe = c.build();
        assert_eq!(sqe.opcode(), IORING_OP_URING_CMD);
        assert_eq!(sqe.ext()[0], 16);
        assert_eq!(UringCmd128::mixed(Target::raw(3), 5).build().opcode(), IORING_OP_URING_CMD128);
        assert!(UringCmd128::new(Target::raw(3), 5).payload(&[0u8; 81]).is_err());
    }

    /// The kernel's rule (a buffer group only on a multishot command) as a typed error, and
    /// kmbuf groups refused; nothing is encoded by a refused call.
    #[test]
    fn buf_group_needs_multishot() {
        let e = UringCmd::new(Target::raw(3), 1).buf_group(&BufGroupId(2)).unwrap_err();
        assert!(matches!(e, Error::InvalidArgument { what: "uring_cmd buffer group", .. }), "{e}");
        let e = UringCmd128::new(Target::raw(3), 1).buf_group(&BufGroupId(2)).unwrap_err();
        assert!(matches!(e, Error::InvalidArgument { what: "uring_cmd buffer group", .. }), "{e}");
        struct Km;
        impl BufferGroup for Km {
            fn bgid(&self) -> u16 {
                6
            }
            fn is_kernel_managed(&self) -> bool {
                true
            }
        }
        let e = UringCmd::new(Target::raw(3), 1).multishot().buf_group(&Km).unwrap_err();
        assert!(matches!(e, Error::InvalidArgument { what: "buffer group", .. }), "{e}");
        let e = UringCmd128::new(Target::raw(3), 1).multishot().buf_group(&Km).unwrap_err();
        assert!(matches!(e, Error::InvalidArgument { what: "buffer group", .. }), "{e}");
        let f =
            fields(UringCmd128::new(Target::raw(3), 1).multishot().buf_group(&BufGroupId(7)).unwrap().build().head());
        assert_eq!((f.flags, f.buf, f.op_flags), (IOSQE_BUFFER_SELECT, 7, IORING_URING_CMD_MULTISHOT));
    }
}
