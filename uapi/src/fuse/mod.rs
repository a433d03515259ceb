//! `linux/fuse.h` (Linux 7.3, FUSE protocol 7.46): the FUSE device protocol, including
//! FUSE-over-io_uring.
//!
//! Not re-exported at the crate root. Kernel names are kept; C enums are typed constants. Flag
//! constants have the type of the field they go into; sizes (`FUSE_COMPAT_*_SIZE`, ...) are
//! `usize`. The INIT flags are all `u64`: bits 0..32 go into `fuse_init_in::flags` /
//! `fuse_init_out::flags` and bits 32..64, shifted down by 32, into `flags2`.
//!
//! The io_uring transport (`fuse_uring_*`, `FUSE_IO_URING_CMD_*`) is mainline since Linux 6.14
//! (protocol 7.42); buffer pools and zero copy arrive in Linux 7.3 (protocol 7.46).
//!
//! Omitted: the C helper macros `FUSE_REC_ALIGN`, `FUSE_DIRENT_ALIGN`, `FUSE_DIRENT_SIZE` and
//! `FUSE_DIRENTPLUS_SIZE` (functions, not constants) and `FUSE_REMOVEMAPPING_MAX_ENTRY` (depends
//! on the page size).

mod headers;
mod structs;
mod uring;

pub use headers::*;
pub use structs::*;
pub use uring::*;

/// Major version of the FUSE protocol (`fuse_init_in::major`).
pub const FUSE_KERNEL_VERSION: u32 = 7;
/// Minor version of the FUSE protocol described here (`fuse_init_in::minor`).
pub const FUSE_KERNEL_MINOR_VERSION: u32 = 46;
/// Node id of the root inode (`fuse_in_header::nodeid`).
pub const FUSE_ROOT_ID: u64 = 1;

// Bits of fuse_setattr_in::valid

/// `fuse_setattr_in::valid`: set `mode`.
pub const FATTR_MODE: u32 = 1 << 0;
/// `fuse_setattr_in::valid`: set `uid`.
pub const FATTR_UID: u32 = 1 << 1;
/// `fuse_setattr_in::valid`: set `gid`.
pub const FATTR_GID: u32 = 1 << 2;
/// `fuse_setattr_in::valid`: set `size` (truncate).
pub const FATTR_SIZE: u32 = 1 << 3;
/// `fuse_setattr_in::valid`: set `atime`.
pub const FATTR_ATIME: u32 = 1 << 4;
/// `fuse_setattr_in::valid`: set `mtime`.
pub const FATTR_MTIME: u32 = 1 << 5;
/// `fuse_setattr_in::valid`: `fh` is valid.
pub const FATTR_FH: u32 = 1 << 6;
/// `fuse_setattr_in::valid`: set atime to now.
pub const FATTR_ATIME_NOW: u32 = 1 << 7;
/// `fuse_setattr_in::valid`: set mtime to now.
pub const FATTR_MTIME_NOW: u32 = 1 << 8;
/// `fuse_setattr_in::valid`: `lock_owner` is valid.
pub const FATTR_LOCKOWNER: u32 = 1 << 9;
/// `fuse_setattr_in::valid`: set `ctime` (7.23).
pub const FATTR_CTIME: u32 = 1 << 10;
/// `fuse_setattr_in::valid`: clear suid/sgid (7.33).
pub const FATTR_KILL_SUIDGID: u32 = 1 << 11;

// Bits of fuse_open_out::open_flags

/// `fuse_open_out::open_flags`: bypass the page cache.
pub const FOPEN_DIRECT_IO: u32 = 1 << 0;
/// `fuse_open_out::open_flags`: keep cached data on open.
pub const FOPEN_KEEP_CACHE: u32 = 1 << 1;
/// `fuse_open_out::open_flags`: the file is not seekable.
pub const FOPEN_NONSEEKABLE: u32 = 1 << 2;
/// `fuse_open_out::open_flags`: allow caching this directory (7.28).
pub const FOPEN_CACHE_DIR: u32 = 1 << 3;
/// `fuse_open_out::open_flags`: stream-like file, no file position.
pub const FOPEN_STREAM: u32 = 1 << 4;
/// `fuse_open_out::open_flags`: do not flush the data cache on close (7.35).
pub const FOPEN_NOFLUSH: u32 = 1 << 5;
/// `fuse_open_out::open_flags`: allow parallel direct writes on the inode (7.38).
pub const FOPEN_PARALLEL_DIRECT_WRITES: u32 = 1 << 6;
/// `fuse_open_out::open_flags`: pass reads/writes through to the backing file `backing_id` (7.40).
pub const FOPEN_PASSTHROUGH: u32 = 1 << 7;
/// `fuse_open_out::open_flags`: zero-copy io_uring I/O, if the queue has `FUSE_URING_ZERO_COPY` (7.46).
pub const FOPEN_IO_URING_ZERO_COPY: u32 = 1 << 8;

// INIT flags (u64: bits 32..63 travel in flags2, shifted down by 32)

/// INIT flag: asynchronous read requests.
pub const FUSE_ASYNC_READ: u64 = 1 << 0;
/// INIT flag: remote POSIX file locks.
pub const FUSE_POSIX_LOCKS: u64 = 1 << 1;
/// INIT flag: kernel sends file handles for fstat etc. (never implemented).
pub const FUSE_FILE_OPS: u64 = 1 << 2;
/// INIT flag: the filesystem handles `O_TRUNC` in open.
pub const FUSE_ATOMIC_O_TRUNC: u64 = 1 << 3;
/// INIT flag: the filesystem handles lookups of "." and "..".
pub const FUSE_EXPORT_SUPPORT: u64 = 1 << 4;
/// INIT flag: writes larger than 4 KiB are allowed.
pub const FUSE_BIG_WRITES: u64 = 1 << 5;
/// INIT flag: do not apply the umask on create.
pub const FUSE_DONT_MASK: u64 = 1 << 6;
/// INIT flag: the kernel supports splice writes on the device.
pub const FUSE_SPLICE_WRITE: u64 = 1 << 7;
/// INIT flag: the kernel supports splice moves on the device.
pub const FUSE_SPLICE_MOVE: u64 = 1 << 8;
/// INIT flag: the kernel supports splice reads on the device.
pub const FUSE_SPLICE_READ: u64 = 1 << 9;
/// INIT flag: remote BSD (flock) locks.
pub const FUSE_FLOCK_LOCKS: u64 = 1 << 10;
/// INIT flag: ioctl on directories.
pub const FUSE_HAS_IOCTL_DIR: u64 = 1 << 11;
/// INIT flag: invalidate cached pages automatically.
pub const FUSE_AUTO_INVAL_DATA: u64 = 1 << 12;
/// INIT flag: use READDIRPLUS.
pub const FUSE_DO_READDIRPLUS: u64 = 1 << 13;
/// INIT flag: use READDIRPLUS adaptively.
pub const FUSE_READDIRPLUS_AUTO: u64 = 1 << 14;
/// INIT flag: asynchronous direct I/O.
pub const FUSE_ASYNC_DIO: u64 = 1 << 15;
/// INIT flag: writeback cache for buffered writes.
pub const FUSE_WRITEBACK_CACHE: u64 = 1 << 16;
/// INIT flag: opens may be handled without a message.
pub const FUSE_NO_OPEN_SUPPORT: u64 = 1 << 17;
/// INIT flag: parallel lookups and readdir.
pub const FUSE_PARALLEL_DIROPS: u64 = 1 << 18;
/// INIT flag: the filesystem clears suid/sgid/caps on write, chown and truncate.
pub const FUSE_HANDLE_KILLPRIV: u64 = 1 << 19;
/// INIT flag: POSIX ACLs.
pub const FUSE_POSIX_ACL: u64 = 1 << 20;
/// INIT flag: reading the device after abort gives `ECONNABORTED`.
pub const FUSE_ABORT_ERROR: u64 = 1 << 21;
/// INIT flag: `fuse_init_out::max_pages` is valid.
pub const FUSE_MAX_PAGES: u64 = 1 << 22;
/// INIT flag: cache READLINK replies.
pub const FUSE_CACHE_SYMLINKS: u64 = 1 << 23;
/// INIT flag: opendir may be handled without a message.
pub const FUSE_NO_OPENDIR_SUPPORT: u64 = 1 << 24;
/// INIT flag: invalidate cached pages only on explicit request.
pub const FUSE_EXPLICIT_INVAL_DATA: u64 = 1 << 25;
/// INIT flag: `fuse_init_out::map_alignment` is valid (DAX).
pub const FUSE_MAP_ALIGNMENT: u64 = 1 << 26;
/// INIT flag: automount submounts.
pub const FUSE_SUBMOUNTS: u64 = 1 << 27;
/// INIT flag: the filesystem clears suid/sgid like the VFS does (v2 semantics).
pub const FUSE_HANDLE_KILLPRIV_V2: u64 = 1 << 28;
/// INIT flag: extended `fuse_setxattr_in`.
pub const FUSE_SETXATTR_EXT: u64 = 1 << 29;
/// INIT flag: extended `fuse_init_in` (`flags2` is valid).
pub const FUSE_INIT_EXT: u64 = 1 << 30;
/// INIT flag: reserved.
pub const FUSE_INIT_RESERVED: u64 = 1 << 31;
/// INIT flag (flags2 bit 0): security context on create, mkdir, symlink and mknod.
pub const FUSE_SECURITY_CTX: u64 = 1 << 32;
/// INIT flag (flags2 bit 1): per-inode DAX.
pub const FUSE_HAS_INODE_DAX: u64 = 1 << 33;
/// INIT flag (flags2 bit 2): supplementary group on create, mkdir, symlink and mknod.
pub const FUSE_CREATE_SUPP_GROUP: u64 = 1 << 34;
/// INIT flag (flags2 bit 3): expire-only entry invalidation.
pub const FUSE_HAS_EXPIRE_ONLY: u64 = 1 << 35;
/// INIT flag (flags2 bit 4): shared mmap with `FOPEN_DIRECT_IO`.
pub const FUSE_DIRECT_IO_ALLOW_MMAP: u64 = 1 << 36;
/// INIT flag (flags2 bit 5): passthrough I/O.
pub const FUSE_PASSTHROUGH: u64 = 1 << 37;
/// INIT flag (flags2 bit 6): disable export support.
pub const FUSE_NO_EXPORT_SUPPORT: u64 = 1 << 38;
/// INIT flag (flags2 bit 7): pending requests may be resent (`FUSE_UNIQUE_RESEND`).
pub const FUSE_HAS_RESEND: u64 = 1 << 39;
/// Obsolete alias of [`FUSE_DIRECT_IO_ALLOW_MMAP`].
pub const FUSE_DIRECT_IO_RELAX: u64 = FUSE_DIRECT_IO_ALLOW_MMAP;
/// INIT flag (flags2 bit 8): idmapped mounts.
pub const FUSE_ALLOW_IDMAP: u64 = 1 << 40;
/// INIT flag (flags2 bit 9): FUSE over io_uring (Linux 6.14).
pub const FUSE_OVER_IO_URING: u64 = 1 << 41;
/// INIT flag (flags2 bit 10): request timeouts, `fuse_init_out::request_timeout` is valid.
pub const FUSE_REQUEST_TIMEOUT: u64 = 1 << 42;
/// INIT flag (flags2 bit 11): io_uring buffer pools (Linux 7.3).
pub const FUSE_HAS_IO_URING_BUFPOOL: u64 = 1 << 43;

/// `cuse_init_in::flags` / `cuse_init_out::flags`: unrestricted ioctl.
pub const CUSE_UNRESTRICTED_IOCTL: u32 = 1 << 0;

/// `fuse_release_in::release_flags`: flush before release.
pub const FUSE_RELEASE_FLUSH: u32 = 1 << 0;
/// `fuse_release_in::release_flags`: release flock locks.
pub const FUSE_RELEASE_FLOCK_UNLOCK: u32 = 1 << 1;

/// `fuse_getattr_in::getattr_flags`: `fh` is valid.
pub const FUSE_GETATTR_FH: u32 = 1 << 0;

/// `fuse_lk_in::lk_flags`: BSD-style (flock) lock.
pub const FUSE_LK_FLOCK: u32 = 1 << 0;

/// `fuse_write_in::write_flags`: delayed write from the page cache; `fh` is guessed.
pub const FUSE_WRITE_CACHE: u32 = 1 << 0;
/// `fuse_write_in::write_flags`: `lock_owner` is valid.
pub const FUSE_WRITE_LOCKOWNER: u32 = 1 << 1;
/// `fuse_write_in::write_flags`: clear suid and sgid.
pub const FUSE_WRITE_KILL_SUIDGID: u32 = 1 << 2;
/// Obsolete alias of [`FUSE_WRITE_KILL_SUIDGID`].
pub const FUSE_WRITE_KILL_PRIV: u32 = FUSE_WRITE_KILL_SUIDGID;

/// `fuse_read_in::read_flags`: `lock_owner` is valid.
pub const FUSE_READ_LOCKOWNER: u32 = 1 << 1;

/// `fuse_ioctl_in::flags`: 32-bit compat ioctl on a 64-bit kernel.
pub const FUSE_IOCTL_COMPAT: u32 = 1 << 0;
/// `fuse_ioctl_in::flags`: unrestricted ioctl; retry allowed.
pub const FUSE_IOCTL_UNRESTRICTED: u32 = 1 << 1;
/// `fuse_ioctl_out::flags`: retry with new iovecs.
pub const FUSE_IOCTL_RETRY: u32 = 1 << 2;
/// `fuse_ioctl_in::flags`: 32-bit ioctl.
pub const FUSE_IOCTL_32BIT: u32 = 1 << 3;
/// `fuse_ioctl_in::flags`: the target is a directory.
pub const FUSE_IOCTL_DIR: u32 = 1 << 4;
/// `fuse_ioctl_in::flags`: x32 compat ioctl (64-bit `time_t`).
pub const FUSE_IOCTL_COMPAT_X32: u32 = 1 << 5;
/// Maximum of `in_iovs + out_iovs` in an ioctl retry.
pub const FUSE_IOCTL_MAX_IOV: u32 = 256;

/// `fuse_poll_in::flags`: schedule a poll notification.
pub const FUSE_POLL_SCHEDULE_NOTIFY: u32 = 1 << 0;

/// `fuse_fsync_in::fsync_flags`: sync data only.
pub const FUSE_FSYNC_FDATASYNC: u32 = 1 << 0;

/// `fuse_attr::flags`: the object is a submount root.
pub const FUSE_ATTR_SUBMOUNT: u32 = 1 << 0;
/// `fuse_attr::flags`: enable DAX for this file (per-inode DAX mode).
pub const FUSE_ATTR_DAX: u32 = 1 << 1;

/// `fuse_open_in::open_flags` / `fuse_create_in::open_flags`: clear suid/sgid if executable.
pub const FUSE_OPEN_KILL_SUIDGID: u32 = 1 << 0;

/// `fuse_setxattr_in::setxattr_flags`: clear sgid when setting `system.posix_acl_access`.
pub const FUSE_SETXATTR_ACL_KILL_SGID: u32 = 1 << 0;

/// `fuse_notify_inval_entry_out::flags`: only expire the entry, do not drop it.
pub const FUSE_EXPIRE_ONLY: u32 = 1 << 0;

// enum fuse_ext_type: values of fuse_ext_header::type

/// Highest `fuse_secctx_header::nr_secctx` (extension types 0..=31 are security contexts).
pub const FUSE_MAX_NR_SECCTX: u32 = 31;
/// `fuse_ext_header::type`: supplementary groups ([`fuse_supp_groups`]).
pub const FUSE_EXT_GROUPS: u32 = 32;

// enum fuse_opcode: values of fuse_in_header::opcode

/// Opcode: look up a name in a directory.
pub const FUSE_LOOKUP: u32 = 1;
/// Opcode: drop lookup references (no reply).
pub const FUSE_FORGET: u32 = 2;
/// Opcode: get attributes.
pub const FUSE_GETATTR: u32 = 3;
/// Opcode: set attributes.
pub const FUSE_SETATTR: u32 = 4;
/// Opcode: read a symlink.
pub const FUSE_READLINK: u32 = 5;
/// Opcode: create a symlink.
pub const FUSE_SYMLINK: u32 = 6;
/// Opcode: create a node.
pub const FUSE_MKNOD: u32 = 8;
/// Opcode: create a directory.
pub const FUSE_MKDIR: u32 = 9;
/// Opcode: remove a file.
pub const FUSE_UNLINK: u32 = 10;
/// Opcode: remove a directory.
pub const FUSE_RMDIR: u32 = 11;
/// Opcode: rename.
pub const FUSE_RENAME: u32 = 12;
/// Opcode: create a hard link.
pub const FUSE_LINK: u32 = 13;
/// Opcode: open a file.
pub const FUSE_OPEN: u32 = 14;
/// Opcode: read.
pub const FUSE_READ: u32 = 15;
/// Opcode: write.
pub const FUSE_WRITE: u32 = 16;
/// Opcode: filesystem statistics.
pub const FUSE_STATFS: u32 = 17;
/// Opcode: release an open file.
pub const FUSE_RELEASE: u32 = 18;
/// Opcode: sync a file.
pub const FUSE_FSYNC: u32 = 20;
/// Opcode: set an extended attribute.
pub const FUSE_SETXATTR: u32 = 21;
/// Opcode: get an extended attribute.
pub const FUSE_GETXATTR: u32 = 22;
/// Opcode: list extended attributes.
pub const FUSE_LISTXATTR: u32 = 23;
/// Opcode: remove an extended attribute.
pub const FUSE_REMOVEXATTR: u32 = 24;
/// Opcode: flush on close.
pub const FUSE_FLUSH: u32 = 25;
/// Opcode: initialise the session.
pub const FUSE_INIT: u32 = 26;
/// Opcode: open a directory.
pub const FUSE_OPENDIR: u32 = 27;
/// Opcode: read a directory.
pub const FUSE_READDIR: u32 = 28;
/// Opcode: release an open directory.
pub const FUSE_RELEASEDIR: u32 = 29;
/// Opcode: sync a directory.
pub const FUSE_FSYNCDIR: u32 = 30;
/// Opcode: test for a POSIX lock.
pub const FUSE_GETLK: u32 = 31;
/// Opcode: acquire or release a POSIX lock.
pub const FUSE_SETLK: u32 = 32;
/// Opcode: acquire a POSIX lock, waiting.
pub const FUSE_SETLKW: u32 = 33;
/// Opcode: check access permissions.
pub const FUSE_ACCESS: u32 = 34;
/// Opcode: create and open a file.
pub const FUSE_CREATE: u32 = 35;
/// Opcode: interrupt a request.
pub const FUSE_INTERRUPT: u32 = 36;
/// Opcode: map a block (block-device filesystems).
pub const FUSE_BMAP: u32 = 37;
/// Opcode: clean up the session.
pub const FUSE_DESTROY: u32 = 38;
/// Opcode: ioctl.
pub const FUSE_IOCTL: u32 = 39;
/// Opcode: poll.
pub const FUSE_POLL: u32 = 40;
/// Opcode: reply to a retrieve notification.
pub const FUSE_NOTIFY_REPLY: u32 = 41;
/// Opcode: drop references of several inodes (no reply).
pub const FUSE_BATCH_FORGET: u32 = 42;
/// Opcode: `fallocate(2)`.
pub const FUSE_FALLOCATE: u32 = 43;
/// Opcode: read a directory with attributes.
pub const FUSE_READDIRPLUS: u32 = 44;
/// Opcode: rename with flags.
pub const FUSE_RENAME2: u32 = 45;
/// Opcode: `lseek(2)` (`SEEK_DATA`/`SEEK_HOLE`).
pub const FUSE_LSEEK: u32 = 46;
/// Opcode: `copy_file_range(2)`.
pub const FUSE_COPY_FILE_RANGE: u32 = 47;
/// Opcode: set up a DAX mapping.
pub const FUSE_SETUPMAPPING: u32 = 48;
/// Opcode: remove DAX mappings.
pub const FUSE_REMOVEMAPPING: u32 = 49;
/// Opcode: sync the filesystem.
pub const FUSE_SYNCFS: u32 = 50;
/// Opcode: create an unnamed temporary file.
pub const FUSE_TMPFILE: u32 = 51;
/// Opcode: `statx(2)`.
pub const FUSE_STATX: u32 = 52;
/// Opcode: `copy_file_range(2)` with a 64-bit result (7.45).
pub const FUSE_COPY_FILE_RANGE_64: u32 = 53;
/// Opcode: initialise a CUSE session.
pub const CUSE_INIT: u32 = 4096;
/// Reserved opcode: `CUSE_INIT` byte-swapped (endianness detection).
pub const CUSE_INIT_BSWAP_RESERVED: u32 = 1_048_576;
/// Reserved opcode: `FUSE_INIT` byte-swapped (endianness detection).
pub const FUSE_INIT_BSWAP_RESERVED: u32 = 436_207_616;

// enum fuse_notify_code: sent in fuse_out_header::error with unique == 0

/// Notification code (in `fuse_out_header::error`, with `unique` 0): poll wakeup.
pub const FUSE_NOTIFY_POLL: i32 = 1;
/// Notification code: invalidate an inode's cache.
pub const FUSE_NOTIFY_INVAL_INODE: i32 = 2;
/// Notification code: invalidate a directory entry.
pub const FUSE_NOTIFY_INVAL_ENTRY: i32 = 3;
/// Notification code: store data in the page cache.
pub const FUSE_NOTIFY_STORE: i32 = 4;
/// Notification code: retrieve data from the page cache.
pub const FUSE_NOTIFY_RETRIEVE: i32 = 5;
/// Notification code: a directory entry was deleted.
pub const FUSE_NOTIFY_DELETE: i32 = 6;
/// Notification code: resend all pending requests.
pub const FUSE_NOTIFY_RESEND: i32 = 7;
/// Notification code: increment the epoch, invalidating all dentries (7.44).
pub const FUSE_NOTIFY_INC_EPOCH: i32 = 8;
/// Notification code: ask the kernel to forget unused inodes (7.45).
pub const FUSE_NOTIFY_PRUNE: i32 = 9;

/// Minimum size of the buffer used to read requests from the device.
pub const FUSE_MIN_READ_BUFFER: usize = 8192;
/// Size of `fuse_entry_out` before protocol 7.9.
pub const FUSE_COMPAT_ENTRY_OUT_SIZE: usize = 120;
/// Size of `fuse_attr_out` before protocol 7.9.
pub const FUSE_COMPAT_ATTR_OUT_SIZE: usize = 96;
/// Size of `fuse_mknod_in` before protocol 7.12.
pub const FUSE_COMPAT_MKNOD_IN_SIZE: usize = 8;
/// Size of `fuse_write_in` before protocol 7.9.
pub const FUSE_COMPAT_WRITE_IN_SIZE: usize = 24;
/// Size of `fuse_statfs_out` before protocol 7.4.
pub const FUSE_COMPAT_STATFS_SIZE: usize = 48;
/// Size of `fuse_setxattr_in` without `FUSE_SETXATTR_EXT`.
pub const FUSE_COMPAT_SETXATTR_IN_SIZE: usize = 8;
/// Size of `fuse_init_out` before protocol 7.5.
pub const FUSE_COMPAT_INIT_OUT_SIZE: usize = 8;
/// Size of `fuse_init_out` before protocol 7.23.
pub const FUSE_COMPAT_22_INIT_OUT_SIZE: usize = 24;
/// Maximum size of the CUSE INIT device-info strings.
pub const CUSE_INIT_INFO_MAX: usize = 4096;

/// `fuse_in_header::unique` bit: this request is a resend.
pub const FUSE_UNIQUE_RESEND: u64 = 1 << 63;
/// `fuse_in_header::uid`/`gid` value when the id cannot be mapped (idmapped mounts).
pub const FUSE_INVALID_UIDGID: u32 = u32::MAX;

/// Offset of the name in a [`fuse_dirent`].
pub const FUSE_NAME_OFFSET: usize = core::mem::offset_of!(fuse_dirent, name);
/// Offset of the name in a [`fuse_direntplus`].
pub const FUSE_NAME_OFFSET_DIRENTPLUS: usize = core::mem::offset_of!(fuse_direntplus, dirent.name);
static_assertions::const_assert_eq!(FUSE_NAME_OFFSET, 24);
static_assertions::const_assert_eq!(FUSE_NAME_OFFSET_DIRENTPLUS, 152);

/// `fuse_setupmapping_in::flags`: map for writing.
pub const FUSE_SETUPMAPPING_FLAG_WRITE: u64 = 1 << 0;
/// `fuse_setupmapping_in::flags`: map for reading.
pub const FUSE_SETUPMAPPING_FLAG_READ: u64 = 1 << 1;

// Device ioctls. The _IOC encoding differs on powerpc, mips and sparc.

#[cfg(any(
    target_arch = "powerpc",
    target_arch = "powerpc64",
    target_arch = "mips",
    target_arch = "mips64",
    target_arch = "mips32r6",
    target_arch = "mips64r6",
    target_arch = "sparc",
    target_arch = "sparc64"
))]
mod ioc {
    pub const NONE: u32 = 1;
    pub const READ: u32 = 2;
    pub const WRITE: u32 = 4;
    pub const DIRSHIFT: u32 = 29;
}
#[cfg(not(any(
    target_arch = "powerpc",
    target_arch = "powerpc64",
    target_arch = "mips",
    target_arch = "mips64",
    target_arch = "mips32r6",
    target_arch = "mips64r6",
    target_arch = "sparc",
    target_arch = "sparc64"
)))]
mod ioc {
    pub const NONE: u32 = 0;
    pub const READ: u32 = 2;
    pub const WRITE: u32 = 1;
    pub const DIRSHIFT: u32 = 30;
}

/// ioctl type ("magic") byte of the `/dev/fuse` ioctls.
pub const FUSE_DEV_IOC_MAGIC: u32 = 229;
/// `/dev/fuse` ioctl `_IOR(229, 0, uint32_t)`: attach this fd to the session of another fd (`0x8004e500` on x86).
pub const FUSE_DEV_IOC_CLONE: u32 = (ioc::READ << ioc::DIRSHIFT) | (4 << 16) | (FUSE_DEV_IOC_MAGIC << 8);
/// `/dev/fuse` ioctl `_IOW(229, 1, struct fuse_backing_map)`: open a passthrough backing file, returns its id.
pub const FUSE_DEV_IOC_BACKING_OPEN: u32 = (ioc::WRITE << ioc::DIRSHIFT) | (16 << 16) | (FUSE_DEV_IOC_MAGIC << 8) | 1;
/// `/dev/fuse` ioctl `_IOW(229, 2, uint32_t)`: close a passthrough backing id.
pub const FUSE_DEV_IOC_BACKING_CLOSE: u32 = (ioc::WRITE << ioc::DIRSHIFT) | (4 << 16) | (FUSE_DEV_IOC_MAGIC << 8) | 2;
/// `/dev/fuse` ioctl `_IO(229, 3)`: have INIT processed synchronously, during mount.
pub const FUSE_DEV_IOC_SYNC_INIT: u32 = (ioc::NONE << ioc::DIRSHIFT) | (FUSE_DEV_IOC_MAGIC << 8) | 3;
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64", target_arch = "riscv64"))]
static_assertions::const_assert_eq!(FUSE_DEV_IOC_CLONE, 0x8004_e500);
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64", target_arch = "riscv64"))]
static_assertions::const_assert_eq!(FUSE_DEV_IOC_BACKING_OPEN, 0x4010_e501);
