//! Syncing, space and cache management, truncation: fsync, sync_file_range, fallocate,
//! fadvise, madvise, ftruncate.

use core::ffi::c_void;

use bitflags::bitflags;
use rustix::fs::{Advice, FallocateFlags};
use uring_uapi::*;

use crate::op::{prep_rw, set_target, Target};
use crate::sqe::{FdSqe, Sqe};

bitflags! {
    /// The `SYNC_FILE_RANGE_*` flags of `sync_file_range(2)` (`sqe.sync_range_flags`).
    /// For `IORING_OP_SYNC_FILE_RANGE` (Linux 5.2).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct SyncFileRangeFlags: u32 {
        /// `SYNC_FILE_RANGE_WAIT_BEFORE`: wait for write-out already under way.
        const WAIT_BEFORE = libc::SYNC_FILE_RANGE_WAIT_BEFORE;
        /// `SYNC_FILE_RANGE_WRITE`: start write-out of dirty pages.
        const WRITE = libc::SYNC_FILE_RANGE_WRITE;
        /// `SYNC_FILE_RANGE_WAIT_AFTER`: wait for the write-out to finish.
        const WAIT_AFTER = libc::SYNC_FILE_RANGE_WAIT_AFTER;
        // Newer flags pass through unchanged.
        const _ = !0;
    }
}

value_op! {
    /// `IORING_OP_FSYNC`: flushes a file to storage, like `fsync(2)` or, with
    /// [`Fsync::datasync`], `fdatasync(2)` (`io_uring_prep_fsync(3)`, Linux 5.1). With
    /// [`Fsync::range`] only part of the file is synced (`vfs_fsync_range`; no liburing helper
    /// sets the range). The result is 0.
    ///
    /// `sqe.fsync_flags` takes `IORING_FSYNC_DATASYNC` only ([`Fsync::datasync`]): the kernel
    /// refuses any other bit of liburing's `fsync_flags` with `EINVAL`, so none is offered.
    pub struct Fsync(IORING_OP_FSYNC) -> FdSqe {
        /// Syncs all of `fd`, data and metadata.
        /// See `io_uring_prep_fsync(3)` (Linux 5.1).
        fn new(fd: Target);
        hold { flags: u32 = 0, off: u64 = 0, len: u32 = 0 }
        flags {
            /// `IORING_FSYNC_DATASYNC`: `fdatasync(2)` semantics, skipping metadata not needed to
            /// read the data back.
            datasync: flags |= IORING_FSYNC_DATASYNC,
        }
    }
    /// The entry.
    /// Encodes `IORING_OP_FSYNC`.
    fn build(self) {
        let mut sqe = prep_rw(Self::CODE, 0, 0, self.len, self.off);
        set_target(&mut sqe, self.fd);
        sqe.0.op_flags.fsync_flags = self.flags;
        sqe
    }
}

impl Fsync {
    /// Syncs only `len` bytes from `offset` (`sqe.off`, `sqe.len`); `len` 0 means to the end of
    /// the file.
    #[inline]
    #[must_use]
    pub const fn range(mut self, offset: u64, len: u32) -> Self {
        self.off = offset;
        self.len = len;
        self
    }
}

value_op! {
    /// `IORING_OP_SYNC_FILE_RANGE`: `sync_file_range(2)` on part of a file
    /// (`io_uring_prep_sync_file_range(3)`, Linux 5.2). The result is 0.
    pub struct SyncFileRange(IORING_OP_SYNC_FILE_RANGE) -> FdSqe {
        /// Syncs `len` bytes of `fd` from `offset` (`len` 0: to the end of the file), with no
        /// flags (which does nothing until flags are set, as in `sync_file_range(2)`).
        /// See `io_uring_prep_sync_file_range(3)` (Linux 5.2).
        fn new(fd: Target, offset: u64, len: u32);
        set {
            /// The `SYNC_FILE_RANGE_*` flags.
            flags: SyncFileRangeFlags = SyncFileRangeFlags::empty(),
        }
    }
    /// The entry.
    /// Encodes `IORING_OP_SYNC_FILE_RANGE`.
    fn build(self) {
        let mut sqe = prep_rw(Self::CODE, 0, 0, self.len, self.offset);
        set_target(&mut sqe, self.fd);
        sqe.0.op_flags.sync_range_flags = self.flags.bits();
        sqe
    }
}

value_op! {
    /// `IORING_OP_FALLOCATE`: allocates (or, by mode, punches, zeroes, collapses...) file space,
    /// like `fallocate(2)` (`io_uring_prep_fallocate(3)`, Linux 5.6). The result is 0.
    pub struct Fallocate(IORING_OP_FALLOCATE) -> FdSqe {
        /// Allocates `len` bytes of `fd` from `offset` (mode 0: the file grows if the range
        /// ends past its size).
        /// See `io_uring_prep_fallocate(3)` (Linux 5.6).
        fn new(fd: Target, offset: u64, len: u64);
        set {
            /// The `FALLOC_FL_*` mode.
            mode: FallocateFlags = FallocateFlags::empty(),
        }
    }
    /// The entry (`sqe.len` = mode, `sqe.off` = offset, `sqe.addr` = length).
    /// Encodes `IORING_OP_FALLOCATE`.
    fn build(self) {
        let mut sqe = prep_rw(Self::CODE, 0, self.len, self.mode.bits(), self.offset);
        set_target(&mut sqe, self.fd);
        sqe
    }
}

value_op! {
    /// `IORING_OP_FADVISE`: `posix_fadvise(2)` on part of a file (`io_uring_prep_fadvise(3)`,
    /// Linux 5.6; with a 64-bit length, [`Fadvise::new64`], `io_uring_prep_fadvise64(3)`,
    /// Linux 6.12). The result is 0.
    pub struct Fadvise(IORING_OP_FADVISE) -> FdSqe {
        /// Advises on `len` bytes of `fd` from `offset` (`len` 0: to the end of the file), with
        /// the 32-bit length in `sqe.len` that every kernel since 5.6 reads.
        /// See `io_uring_prep_fadvise(3)`.
        fn new(fd: Target, offset: u64, len: u32, advice: Advice);
        // The 64-bit form's length, in `sqe.addr` (`len` is 0 then).
        hold { len64: u64 = 0 }
    }
    /// The entry.
    /// Encodes `IORING_OP_FADVISE`.
    fn build(self) {
        let mut sqe = prep_rw(Self::CODE, 0, self.len64, self.len, self.offset);
        set_target(&mut sqe, self.fd);
        sqe.0.op_flags.fadvise_advice = self.advice as u32;
        sqe
    }
}

impl Fadvise {
    /// Advises on `len` bytes of `fd` from `offset`, with the 64-bit length in `sqe.addr`
    /// (Linux 6.12; older kernels refuse a non-zero `sqe.addr` with `EINVAL`).
    #[inline]
    pub fn new64(fd: impl Into<Target>, offset: u64, len: u64, advice: Advice) -> Self {
        Fadvise { len64: len, ..Fadvise::new(fd, offset, 0, advice) }
    }
}

/// `IORING_OP_MADVISE`: `madvise(2)` on a range of the process's memory
/// (`io_uring_prep_madvise(3)`, Linux 5.6; with a 64-bit length, `io_uring_prep_madvise64(3)`,
/// Linux 6.12). The result is 0.
///
/// Memory: the advice acts on the mapping at `addr` when the operation runs. Some advice
/// changes memory contents (`MADV_DONTNEED` and `MADV_FREE` discard them, `MADV_REMOVE` frees
/// the backing store): the caller must own the range for such advice and must not rely on its
/// contents afterwards. Pushing is `unsafe` for that reason.
#[derive(Debug, Clone, Copy)]
pub struct Madvise {
    addr: u64,
    /// `sqe.len` (32-bit form) or 0.
    len32: u32,
    /// `sqe.off` (64-bit form) or 0.
    len64: u64,
    advice: rustix::mm::Advice,
}

impl Madvise {
    /// The operation code, `IORING_OP_MADVISE`.
    pub const CODE: u8 = IORING_OP_MADVISE;

    /// Advises on `len` bytes at `addr` (page-aligned), with the 32-bit length in `sqe.len`.
    /// See `io_uring_prep_madvise(3)` (Linux 5.6).
    #[inline]
    pub fn new(addr: *mut c_void, len: u32, advice: rustix::mm::Advice) -> Self {
        Madvise { addr: addr as u64, len32: len, len64: 0, advice }
    }

    /// Advises on `len` bytes at `addr` (page-aligned), with the 64-bit length in `sqe.off`
    /// (Linux 6.12; older kernels refuse a non-zero `sqe.off` with `EINVAL`).
    #[inline]
    pub fn new64(addr: *mut c_void, len: u64, advice: rustix::mm::Advice) -> Self {
        Madvise { addr: addr as u64, len32: 0, len64: len, advice }
    }

    /// The entry.
    /// Encodes `IORING_OP_MADVISE`.
    #[inline]
    pub fn build(self) -> Sqe {
        let mut sqe = prep_rw(Self::CODE, -1, self.addr, self.len32, self.len64);
        sqe.0.op_flags.fadvise_advice = self.advice as u32;
        sqe
    }
}

value_op! {
    /// `IORING_OP_FTRUNCATE`: sets a file's size, like `ftruncate(2)`
    /// (`io_uring_prep_ftruncate(3)`, Linux 6.9). The result is 0.
    pub struct Ftruncate(IORING_OP_FTRUNCATE) -> FdSqe {
        /// Truncates (or extends with zeros) `fd` to `len` bytes.
        /// See `io_uring_prep_ftruncate(3)` (Linux 6.9).
        fn new(fd: Target, len: u64);
    }
    /// The entry (`sqe.off` = the new length).
    /// Encodes `IORING_OP_FTRUNCATE`.
    fn build(self) {
        let mut sqe = prep_rw(Self::CODE, 0, 0, 0, self.len);
        set_target(&mut sqe, self.fd);
        sqe
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::op::test_util::{check, Fields, FIXED};
    use crate::op::Fixed;

    #[test]
    fn sync_file_range_flag_values() {
        for (flag, bits) in
            [(SyncFileRangeFlags::WAIT_BEFORE, 1), (SyncFileRangeFlags::WRITE, 2), (SyncFileRangeFlags::WAIT_AFTER, 4)]
        {
            assert_eq!(flag.bits(), bits, "{flag:?}");
        }
    }

    #[test]
    fn encodings() {
        let p = 0x7000_0000_0000usize as *mut c_void;
        let write_wait = SyncFileRangeFlags::WRITE | SyncFileRangeFlags::WAIT_AFTER;
        check(&[
            (
                "fsync",
                Fsync::new(Target::raw(3)).build().user_data(1).into(),
                Fields { opcode: IORING_OP_FSYNC, fd: 3, user_data: 1, ..Default::default() },
            ),
            (
                "fsync datasync range, fixed",
                Fsync::new(Fixed(2)).datasync().range(4096, 8192).build().into(),
                Fields {
                    opcode: IORING_OP_FSYNC,
                    flags: FIXED,
                    fd: 2,
                    off: 4096,
                    len: 8192,
                    op_flags: IORING_FSYNC_DATASYNC,
                    ..Default::default()
                },
            ),
            (
                "sync_file_range",
                SyncFileRange::new(Target::raw(4), 100, 200).flags(write_wait).build().into(),
                Fields {
                    opcode: IORING_OP_SYNC_FILE_RANGE,
                    fd: 4,
                    off: 100,
                    len: 200,
                    op_flags: 6,
                    ..Default::default()
                },
            ),
            (
                "fallocate",
                Fallocate::new(Target::raw(5), 10, 1 << 40).mode(FallocateFlags::KEEP_SIZE).build().into(),
                Fields { opcode: IORING_OP_FALLOCATE, fd: 5, off: 10, addr: 1 << 40, len: 1, ..Default::default() },
            ),
            (
                "fadvise",
                Fadvise::new(Target::raw(6), 512, 4096, Advice::DontNeed).build().into(),
                Fields {
                    opcode: IORING_OP_FADVISE,
                    fd: 6,
                    off: 512,
                    len: 4096,
                    op_flags: libc::POSIX_FADV_DONTNEED as u32,
                    ..Default::default()
                },
            ),
            (
                "fadvise64, fixed",
                Fadvise::new64(Fixed(1), 0, 1 << 33, Advice::Sequential).build().into(),
                Fields {
                    opcode: IORING_OP_FADVISE,
                    flags: FIXED,
                    fd: 1,
                    addr: 1 << 33,
                    op_flags: libc::POSIX_FADV_SEQUENTIAL as u32,
                    ..Default::default()
                },
            ),
            (
                "madvise",
                Madvise::new(p, 8192, rustix::mm::Advice::WillNeed).build(),
                Fields {
                    opcode: IORING_OP_MADVISE,
                    fd: -1,
                    addr: 0x7000_0000_0000,
                    len: 8192,
                    op_flags: libc::MADV_WILLNEED as u32,
                    ..Default::default()
                },
            ),
            (
                "madvise64",
                Madvise::new64(p, 1 << 34, rustix::mm::Advice::LinuxDontNeed).build(),
                Fields {
                    opcode: IORING_OP_MADVISE,
                    fd: -1,
                    addr: 0x7000_0000_0000,
                    off: 1 << 34,
                    op_flags: libc::MADV_DONTNEED as u32,
                    ..Default::default()
                },
            ),
            (
                "ftruncate",
                Ftruncate::new(Target::raw(7), 12345).build().into(),
                Fields { opcode: IORING_OP_FTRUNCATE, fd: 7, off: 12345, ..Default::default() },
            ),
            (
                "ftruncate, fixed",
                Ftruncate::new(Fixed(2), 0).build().into(),
                Fields { opcode: IORING_OP_FTRUNCATE, flags: FIXED, fd: 2, ..Default::default() },
            ),
        ]);
    }
}
