//! Reading and writing FUSE structs as bytes, and the per-opcode header sizes.
//!
//! The `uring::uapi::fuse` structs are plain `repr(C)` integers; the crate's own `Pod` trait is
//! implemented only for the few it needs, and an example cannot add impls of a foreign trait to
//! foreign types, so this module has its own marker trait.

use core::mem::size_of;

use uring::uapi::fuse::*;

/// Types made of integers only, with no padding: every byte is initialized and every bit
/// pattern is a valid value.
///
/// # Safety
/// Implement only for `repr(C)` structs of integers (and arrays of them) whose size is the sum
/// of their fields' sizes (asserted below for every implementation).
pub unsafe trait Plain: Copy + Default + 'static {}

macro_rules! plain {
    ($($t:ty = $sum:expr;)*) => {$(
        // SAFETY: a `repr(C)` struct of integers whose size equals the sum of its fields' sizes
        // (asserted on the next line), so it has no padding and any bit pattern is valid.
        unsafe impl Plain for $t {}
        const _: () = assert!(size_of::<$t>() == $sum);
    )*};
}

plain! {
    fuse_in_header = 4 + 4 + 8 + 8 + 4 + 4 + 4 + 2 + 2;
    fuse_out_header = 4 + 4 + 8;
    fuse_init_in = 4 * 5 + 4 * 11;
    fuse_init_out = 4 * 4 + 2 + 2 + 4 + 4 + 2 + 2 + 4 + 4 + 2 + 2 * 11;
    fuse_attr = 8 * 6 + 4 * 10;
    fuse_entry_out = 8 * 4 + 4 * 2 + 88;
    fuse_attr_out = 8 + 4 + 4 + 88;
    fuse_getattr_in = 4 + 4 + 8;
    fuse_setattr_in = 4 + 4 + 8 * 6 + 4 * 8;
    fuse_open_in = 4 + 4;
    fuse_create_in = 4 * 4;
    fuse_open_out = 8 + 4 + 4;
    fuse_release_in = 8 + 4 + 4 + 8;
    fuse_flush_in = 8 + 4 + 4 + 8;
    fuse_read_in = 8 + 8 + 4 + 4 + 8 + 4 + 4;
    fuse_write_in = 8 + 8 + 4 + 4 + 8 + 4 + 4;
    fuse_write_out = 4 + 4;
    fuse_kstatfs = 8 * 5 + 4 * 4 + 4 * 6;
    fuse_statfs_out = 80;
    fuse_fsync_in = 8 + 4 + 4;
    fuse_mkdir_in = 4 + 4;
    fuse_rename_in = 8;
    fuse_rename2_in = 8 + 4 + 4;
    fuse_access_in = 4 + 4;
    fuse_forget_in = 8;
    fuse_batch_forget_in = 4 + 4;
    fuse_forget_one = 8 + 8;
    fuse_dirent = 8 + 8 + 4 + 4;
    fuse_direntplus = 128 + 24;
    fuse_mknod_in = 4 * 4;
    fuse_link_in = 8;
    fuse_setxattr_in = 4 * 4;
    fuse_getxattr_in = 4 + 4;
    fuse_getxattr_out = 4 + 4;
    fuse_fallocate_in = 8 * 3 + 4 + 4;
    fuse_lseek_in = 8 + 8 + 4 + 4;
    fuse_lseek_out = 8;
    fuse_copy_file_range_in = 8 * 7;
    fuse_copy_file_range_out = 8;
    fuse_file_lock = 8 + 8 + 4 + 4;
    fuse_lk_in = 8 + 8 + 24 + 4 + 4;
    fuse_lk_out = 24;
    fuse_backing_map = 4 + 4 + 8;
    fuse_sx_time = 8 + 4 + 4;
    fuse_statx = 4 + 4 + 8 + 4 * 3 + 2 + 2 + 8 * 4 + 16 * 4 + 4 * 4 + 8 * 14;
    fuse_statx_in = 4 + 4 + 8 + 4 + 4;
    fuse_statx_out = 8 + 4 + 4 + 8 * 2 + 256;
}

/// `fuse_setxattr_in` as the kernel sends it without `FUSE_SETXATTR_EXT` (which this server
/// does not ask for): `size` and `flags` only (`FUSE_COMPAT_SETXATTR_IN_SIZE`).
pub const SETXATTR_IN_COMPAT: usize = 8;

/// The bytes of `v`.
pub fn bytes_of<T: Plain>(v: &T) -> &[u8] {
    // SAFETY: `T: Plain` has no padding, so all `size_of::<T>()` bytes are initialized; the
    // slice borrows `v`.
    unsafe { core::slice::from_raw_parts((v as *const T).cast::<u8>(), size_of::<T>()) }
}

/// A `T` read from the start of `bytes` (unaligned), or `None` if `bytes` is too short.
pub fn read<T: Plain>(bytes: &[u8]) -> Option<T> {
    if bytes.len() < size_of::<T>() {
        return None;
    }
    // SAFETY: `bytes` holds at least `size_of::<T>()` bytes, the read is unaligned-safe, and
    // every bit pattern is a valid `T` (`Plain`).
    Some(unsafe { bytes.as_ptr().cast::<T>().read_unaligned() })
}

/// Copies `v` into `buf` at `at`; returns the offset past it. The caller checks the room.
pub fn put<T: Plain>(buf: &mut [u8], at: usize, v: &T) -> usize {
    let b = bytes_of(v);
    buf[at..at + b.len()].copy_from_slice(b);
    at + b.len()
}

/// The size of the per-opcode header (the request's first argument) of `opcode`: what the
/// kernel puts in the ring entry's `op_in` area, and what follows the `fuse_in_header` in a
/// request read from `/dev/fuse`. The rest of the request (names, write data) is the payload.
/// Opcodes without a per-opcode header (names only, or nothing) and opcodes this server does
/// not serve (answered with `ENOSYS`) have 0.
pub fn op_header_len(opcode: u32) -> usize {
    match opcode {
        FUSE_INIT => size_of::<fuse_init_in>(),
        FUSE_FORGET => size_of::<fuse_forget_in>(),
        FUSE_BATCH_FORGET => size_of::<fuse_batch_forget_in>(),
        FUSE_GETATTR => size_of::<fuse_getattr_in>(),
        FUSE_SETATTR => size_of::<fuse_setattr_in>(),
        FUSE_OPEN | FUSE_OPENDIR => size_of::<fuse_open_in>(),
        FUSE_CREATE => size_of::<fuse_create_in>(),
        FUSE_READ | FUSE_READDIR | FUSE_READDIRPLUS => size_of::<fuse_read_in>(),
        FUSE_WRITE => size_of::<fuse_write_in>(),
        FUSE_FLUSH => size_of::<fuse_flush_in>(),
        FUSE_RELEASE | FUSE_RELEASEDIR => size_of::<fuse_release_in>(),
        FUSE_FSYNC | FUSE_FSYNCDIR => size_of::<fuse_fsync_in>(),
        FUSE_MKDIR => size_of::<fuse_mkdir_in>(),
        FUSE_RENAME => size_of::<fuse_rename_in>(),
        FUSE_RENAME2 => size_of::<fuse_rename2_in>(),
        FUSE_ACCESS => size_of::<fuse_access_in>(),
        FUSE_INTERRUPT => 8,
        FUSE_MKNOD => size_of::<fuse_mknod_in>(),
        FUSE_LINK => size_of::<fuse_link_in>(),
        FUSE_SETXATTR => SETXATTR_IN_COMPAT,
        FUSE_GETXATTR | FUSE_LISTXATTR => size_of::<fuse_getxattr_in>(),
        FUSE_FALLOCATE => size_of::<fuse_fallocate_in>(),
        FUSE_LSEEK => size_of::<fuse_lseek_in>(),
        FUSE_COPY_FILE_RANGE | FUSE_COPY_FILE_RANGE_64 => size_of::<fuse_copy_file_range_in>(),
        FUSE_GETLK | FUSE_SETLK | FUSE_SETLKW => size_of::<fuse_lk_in>(),
        FUSE_STATX => size_of::<fuse_statx_in>(),
        // LOOKUP, UNLINK, RMDIR, SYMLINK, READLINK, REMOVEXATTR, STATFS, DESTROY: names only, or
        // nothing.
        _ => 0,
    }
}

/// `x` rounded up to a multiple of 8 (`FUSE_DIRENT_ALIGN`).
pub const fn align8(x: usize) -> usize {
    (x + 7) & !7
}

/// The opcode's name, for `--debug` output and the unhandled-request notice.
pub fn opcode_name(opcode: u32) -> &'static str {
    match opcode {
        FUSE_LOOKUP => "LOOKUP",
        FUSE_FORGET => "FORGET",
        FUSE_GETATTR => "GETATTR",
        FUSE_SETATTR => "SETATTR",
        FUSE_READLINK => "READLINK",
        FUSE_SYMLINK => "SYMLINK",
        FUSE_MKNOD => "MKNOD",
        FUSE_MKDIR => "MKDIR",
        FUSE_UNLINK => "UNLINK",
        FUSE_RMDIR => "RMDIR",
        FUSE_RENAME => "RENAME",
        FUSE_LINK => "LINK",
        FUSE_OPEN => "OPEN",
        FUSE_READ => "READ",
        FUSE_WRITE => "WRITE",
        FUSE_STATFS => "STATFS",
        FUSE_RELEASE => "RELEASE",
        FUSE_FSYNC => "FSYNC",
        FUSE_SETXATTR => "SETXATTR",
        FUSE_GETXATTR => "GETXATTR",
        FUSE_LISTXATTR => "LISTXATTR",
        FUSE_REMOVEXATTR => "REMOVEXATTR",
        FUSE_FLUSH => "FLUSH",
        FUSE_INIT => "INIT",
        FUSE_OPENDIR => "OPENDIR",
        FUSE_READDIR => "READDIR",
        FUSE_RELEASEDIR => "RELEASEDIR",
        FUSE_FSYNCDIR => "FSYNCDIR",
        FUSE_GETLK => "GETLK",
        FUSE_SETLK => "SETLK",
        FUSE_SETLKW => "SETLKW",
        FUSE_ACCESS => "ACCESS",
        FUSE_CREATE => "CREATE",
        FUSE_INTERRUPT => "INTERRUPT",
        FUSE_BMAP => "BMAP",
        FUSE_DESTROY => "DESTROY",
        FUSE_IOCTL => "IOCTL",
        FUSE_POLL => "POLL",
        FUSE_NOTIFY_REPLY => "NOTIFY_REPLY",
        FUSE_BATCH_FORGET => "BATCH_FORGET",
        FUSE_FALLOCATE => "FALLOCATE",
        FUSE_READDIRPLUS => "READDIRPLUS",
        FUSE_RENAME2 => "RENAME2",
        FUSE_LSEEK => "LSEEK",
        FUSE_COPY_FILE_RANGE => "COPY_FILE_RANGE",
        FUSE_SETUPMAPPING => "SETUPMAPPING",
        FUSE_REMOVEMAPPING => "REMOVEMAPPING",
        FUSE_SYNCFS => "SYNCFS",
        FUSE_TMPFILE => "TMPFILE",
        FUSE_STATX => "STATX",
        FUSE_COPY_FILE_RANGE_64 => "COPY_FILE_RANGE_64",
        CUSE_INIT => "CUSE_INIT",
        _ => "unknown",
    }
}
