//! Block device commands (`BLOCK_URING_CMD_*`, `linux/blkdev.h`; kernel `block/ioctl.c`,
//! `blkdev_uring_cmd`), on a block device opened for writing.
//!
//! | command | encoder | liburing | first kernel |
//! |---|---|---|---|
//! | `BLOCK_URING_CMD_DISCARD` | [`Discard`] | `io_uring_prep_cmd_discard(3)` | 6.12 |
//! | `BLOCK_URING_CMD_ZONE_RESET_ALL` | [`ZoneResetAll`] | `io_uring_prep_cmd_zone_reset_all(3)` | after 7.3 (see below) |
//!
//! The command numbers live in their own number space, reusing the block ioctl type 0x12:
//! `_IO(0x12, 0)` and `_IO(0x12, 1)`. They are not in `linux/io_uring.h`, so they are defined
//! here under the kernel's names.
//!
//! The kernel reads the byte range from `sqe.addr` (start) and `sqe.addr3` (length, the first 8
//! bytes of the command area) and requires `ioprio`, `__pad1`, `len`, `rw_flags` and
//! `file_index` to be zero (`EINVAL` otherwise). Both commands point at no memory but name the
//! device: the entries are [`FdSqe`]s, 64 bytes, for every ring layout.
//!
//! Discard errors: `EOPNOTSUPP` if the device cannot discard; `EBADF` if the file is not open
//! for writing; `EPERM` on a read-only device; `EINVAL` if start or length is not a multiple of
//! the logical block size, the length is 0, or the range overflows or passes the end of the
//! device; `EAGAIN` is retried by the kernel in a blocking context, never returned for a
//! non-blocking attempt. Unlike `ioctl(BLKDISCARD)` the page cache is invalidated best-effort
//! only: the caller must keep other I/O off the range.
//!
//! Zone reset all: resets every sequential-write-required zone of a zoned device. It was added
//! to liburing (2.16) with the kernel side announced as "Linux 7.TBD"; no released kernel up to
//! 7.3 handles it, and those kernels fail it with `EINVAL` (`blkdev_uring_cmd` rejects unknown
//! command numbers with `EINVAL`); a non-zoned device will fail it with `EOPNOTSUPP`.

use uring_uapi::*;

use super::{fd_entry, io_none, UringCmd};
use crate::op::Target;
use crate::sqe::FdSqe;

/// `BLOCK_URING_CMD_DISCARD` = `_IO(0x12, 0)`: discard a byte range (Linux 6.12).
pub const BLOCK_URING_CMD_DISCARD: u32 = io_none(0x12, 0);
/// `BLOCK_URING_CMD_ZONE_RESET_ALL` = `_IO(0x12, 1)`: reset all zones (liburing 2.16; no
/// kernel up to 7.3).
pub const BLOCK_URING_CMD_ZONE_RESET_ALL: u32 = io_none(0x12, 1);

/// `BLOCK_URING_CMD_DISCARD`: discards `len` bytes starting at byte `start` of the block device
/// (`io_uring_prep_cmd_discard(3)`, Linux 6.12). Completes with 0.
///
/// Like `ioctl(BLKDISCARD)` with `{start, len}`, asynchronously; the range must be aligned to the
/// logical block size. Reads of a discarded range return zeros only on devices that guarantee it
/// (a loop device over a file punches a hole, so it does).
#[derive(Debug, Clone, Copy)]
pub struct Discard {
    fd: Target,
    start: u64,
    len: u64,
}

impl Discard {
    /// The command number, `BLOCK_URING_CMD_DISCARD`.
    pub const CMD_OP: u32 = BLOCK_URING_CMD_DISCARD;

    /// Discard `len` bytes at byte offset `start` of block device `fd`.
    /// See `io_uring_prep_cmd_discard(3)` (Linux 6.12).
    pub fn new(fd: impl Into<Target>, start: u64, len: u64) -> Self {
        Discard { fd: fd.into(), start, len }
    }

    /// The entry: points at nothing, but names the file (see [`FdSqe`]).
    /// Encodes `BLOCK_URING_CMD_DISCARD`.
    pub fn build(self) -> FdSqe {
        let mut sqe = UringCmd::new(self.fd, Self::CMD_OP).build();
        sqe.0.addr.addr = self.start;
        sqe.0.addr3.addr3 = io_uring_sqe_addr3_pad { addr3: self.len, __pad2: [0] };
        fd_entry(sqe)
    }
}

/// `BLOCK_URING_CMD_ZONE_RESET_ALL`: resets the write pointer of every sequential zone of a
/// zoned block device (`io_uring_prep_cmd_zone_reset_all(3)`; the kernel side is not in any
/// kernel up to 7.3, which fail it with `EINVAL`). Completes with 0.
#[derive(Debug, Clone, Copy)]
pub struct ZoneResetAll {
    fd: Target,
}

impl ZoneResetAll {
    /// The command number, `BLOCK_URING_CMD_ZONE_RESET_ALL`.
    pub const CMD_OP: u32 = BLOCK_URING_CMD_ZONE_RESET_ALL;

    /// Reset all zones of block device `fd`.
    /// See `io_uring_prep_cmd_zone_reset_all(3)`.
    pub fn new(fd: impl Into<Target>) -> Self {
        ZoneResetAll { fd: fd.into() }
    }

    /// The entry: points at nothing, but names the file (see [`FdSqe`]).
    /// Encodes `BLOCK_URING_CMD_ZONE_RESET_ALL`.
    pub fn build(self) -> FdSqe {
        fd_entry(UringCmd::new(self.fd, Self::CMD_OP).build())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::test_fields::{fields, Fields};

    #[test]
    fn numbers() {
        if super::super::ioc_arch::SIZEBITS == 14 {
            assert_eq!(BLOCK_URING_CMD_DISCARD, 0x1200);
            assert_eq!(BLOCK_URING_CMD_ZONE_RESET_ALL, 0x1201);
        } else {
            assert_eq!(BLOCK_URING_CMD_DISCARD, 0x2000_1200);
        }
    }

    #[test]
    fn discard() {
        let sqe = Discard::new(Target::raw(6), 4096, 8192).build();
        assert_eq!(
            fields(sqe.sqe()),
            Fields {
                opcode: IORING_OP_URING_CMD,
                fd: 6,
                off: BLOCK_URING_CMD_DISCARD as u64,
                addr: 4096,
                addr3: 8192,
                ..Default::default()
            }
        );
        assert_eq!(super::super::cmd_area(sqe.sqe())[..8], 8192u64.to_ne_bytes(), "the length is the payload");
        let sqe = Discard::new(Target::fixed(1), u64::MAX - 511, 1024).build();
        let f = fields(sqe.sqe());
        assert_eq!((f.flags, f.fd, f.addr, f.addr3), (IOSQE_FIXED_FILE, 1, u64::MAX - 511, 1024));
    }

    #[test]
    fn zone_reset_all() {
        let sqe = ZoneResetAll::new(Target::raw(6)).build();
        assert_eq!(
            fields(sqe.sqe()),
            Fields {
                opcode: IORING_OP_URING_CMD,
                fd: 6,
                off: BLOCK_URING_CMD_ZONE_RESET_ALL as u64,
                ..Default::default()
            }
        );
    }
}
