//! FUSE attribute types and the request/reply bodies of the FUSE operations.

/// Inode attributes, as in `stat(2)`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_attr {
    /// Inode number.
    pub ino: u64,
    /// Size in bytes.
    pub size: u64,
    /// Number of 512-byte blocks.
    pub blocks: u64,
    /// Access time, seconds.
    pub atime: u64,
    /// Modification time, seconds.
    pub mtime: u64,
    /// Status change time, seconds.
    pub ctime: u64,
    /// Access time, nanoseconds.
    pub atimensec: u32,
    /// Modification time, nanoseconds.
    pub mtimensec: u32,
    /// Status change time, nanoseconds.
    pub ctimensec: u32,
    /// File type and permissions.
    pub mode: u32,
    /// Number of hard links.
    pub nlink: u32,
    /// Owner user id.
    pub uid: u32,
    /// Owner group id.
    pub gid: u32,
    /// Device number (device files).
    pub rdev: u32,
    /// Preferred I/O block size (7.9).
    pub blksize: u32,
    /// `FUSE_ATTR_*` flags (7.32).
    pub flags: u32,
}
layout!(fuse_attr: size 88, align 8;
    ino @ 0, size @ 8, blocks @ 16, atime @ 24, mtime @ 32, ctime @ 40, atimensec @ 48,
    mtimensec @ 52, ctimensec @ 56, mode @ 60, nlink @ 64, uid @ 68, gid @ 72, rdev @ 76,
    blksize @ 80, flags @ 84);

/// Timestamp of a [`fuse_statx`] (as `struct statx_timestamp`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_sx_time {
    /// Seconds.
    pub tv_sec: i64,
    /// Nanoseconds.
    pub tv_nsec: u32,
    /// Reserved.
    pub __reserved: i32,
}
layout!(fuse_sx_time: size 16, align 8; tv_sec @ 0, tv_nsec @ 8, __reserved @ 12);

/// Extended attributes, bit-compatible with `struct statx` (7.39).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_statx {
    /// `STATX_*` mask of valid fields.
    pub mask: u32,
    /// Preferred I/O block size.
    pub blksize: u32,
    /// `STATX_ATTR_*` attributes.
    pub attributes: u64,
    /// Number of hard links.
    pub nlink: u32,
    /// Owner user id.
    pub uid: u32,
    /// Owner group id.
    pub gid: u32,
    /// File type and permissions.
    pub mode: u16,
    /// Reserved.
    pub __spare0: [u16; 1],
    /// Inode number.
    pub ino: u64,
    /// Size in bytes.
    pub size: u64,
    /// Number of 512-byte blocks.
    pub blocks: u64,
    /// Supported `STATX_ATTR_*` attributes.
    pub attributes_mask: u64,
    /// Access time.
    pub atime: fuse_sx_time,
    /// Creation time.
    pub btime: fuse_sx_time,
    /// Status change time.
    pub ctime: fuse_sx_time,
    /// Modification time.
    pub mtime: fuse_sx_time,
    /// Device major (device files).
    pub rdev_major: u32,
    /// Device minor (device files).
    pub rdev_minor: u32,
    /// Major of the containing device.
    pub dev_major: u32,
    /// Minor of the containing device.
    pub dev_minor: u32,
    /// Reserved.
    pub __spare2: [u64; 14],
}
layout!(fuse_statx: size 256, align 8;
    mask @ 0, blksize @ 4, attributes @ 8, nlink @ 16, uid @ 20, gid @ 24, mode @ 28,
    __spare0 @ 30, ino @ 32, size @ 40, blocks @ 48, attributes_mask @ 56, atime @ 64, btime @ 80,
    ctime @ 96, mtime @ 112, rdev_major @ 128, rdev_minor @ 132, dev_major @ 136, dev_minor @ 140,
    __spare2 @ 144);

/// Filesystem statistics, as in `statfs(2)`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_kstatfs {
    /// Total blocks.
    pub blocks: u64,
    /// Free blocks.
    pub bfree: u64,
    /// Free blocks for unprivileged users.
    pub bavail: u64,
    /// Total inodes.
    pub files: u64,
    /// Free inodes.
    pub ffree: u64,
    /// Block size.
    pub bsize: u32,
    /// Maximum name length.
    pub namelen: u32,
    /// Fragment size (7.4).
    pub frsize: u32,
    /// Padding.
    pub padding: u32,
    /// Reserved.
    pub spare: [u32; 6],
}
layout!(fuse_kstatfs: size 80, align 8;
    blocks @ 0, bfree @ 8, bavail @ 16, files @ 24, ffree @ 32, bsize @ 40, namelen @ 44,
    frsize @ 48, padding @ 52, spare @ 56);

/// A POSIX file lock.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_file_lock {
    /// First byte.
    pub start: u64,
    /// Last byte.
    pub end: u64,
    /// Lock type (`F_RDLCK`, `F_WRLCK`, `F_UNLCK`).
    pub r#type: u32,
    /// Owning process (tgid).
    pub pid: u32,
}
layout!(fuse_file_lock: size 24, align 8; start @ 0, end @ 8, r#type @ 16, pid @ 20);

/// Reply to LOOKUP, MKNOD, MKDIR, SYMLINK, LINK (and part of CREATE).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_entry_out {
    /// Inode id.
    pub nodeid: u64,
    /// Inode generation; `nodeid`/`generation` is unique for the filesystem's lifetime.
    pub generation: u64,
    /// Name cache timeout, seconds.
    pub entry_valid: u64,
    /// Attribute cache timeout, seconds.
    pub attr_valid: u64,
    /// Name cache timeout, nanoseconds.
    pub entry_valid_nsec: u32,
    /// Attribute cache timeout, nanoseconds.
    pub attr_valid_nsec: u32,
    /// The attributes.
    pub attr: fuse_attr,
}
layout!(fuse_entry_out: size 128, align 8;
    nodeid @ 0, generation @ 8, entry_valid @ 16, attr_valid @ 24, entry_valid_nsec @ 32,
    attr_valid_nsec @ 36, attr @ 40);

/// FORGET request.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_forget_in {
    /// Number of lookups to drop.
    pub nlookup: u64,
}
layout!(fuse_forget_in: size 8, align 8; nlookup @ 0);

/// One entry of a BATCH_FORGET request.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_forget_one {
    /// Inode id.
    pub nodeid: u64,
    /// Number of lookups to drop.
    pub nlookup: u64,
}
layout!(fuse_forget_one: size 16, align 8; nodeid @ 0, nlookup @ 8);

/// BATCH_FORGET request, followed by `count` [`fuse_forget_one`]s.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_batch_forget_in {
    /// Number of entries.
    pub count: u32,
    /// Padding.
    pub dummy: u32,
}
layout!(fuse_batch_forget_in: size 8, align 4; count @ 0, dummy @ 4);

/// GETATTR request (7.9).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_getattr_in {
    /// `FUSE_GETATTR_*` flags.
    pub getattr_flags: u32,
    /// Padding.
    pub dummy: u32,
    /// File handle (with `FUSE_GETATTR_FH`).
    pub fh: u64,
}
layout!(fuse_getattr_in: size 16, align 8; getattr_flags @ 0, dummy @ 4, fh @ 8);

/// Reply to GETATTR and SETATTR.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_attr_out {
    /// Attribute cache timeout, seconds.
    pub attr_valid: u64,
    /// Attribute cache timeout, nanoseconds.
    pub attr_valid_nsec: u32,
    /// Padding.
    pub dummy: u32,
    /// The attributes.
    pub attr: fuse_attr,
}
layout!(fuse_attr_out: size 104, align 8;
    attr_valid @ 0, attr_valid_nsec @ 8, dummy @ 12, attr @ 16);

/// STATX request (7.39).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_statx_in {
    /// `FUSE_GETATTR_*` flags.
    pub getattr_flags: u32,
    /// Reserved.
    pub reserved: u32,
    /// File handle (with `FUSE_GETATTR_FH`).
    pub fh: u64,
    /// `statx(2)` flags (`AT_*`).
    pub sx_flags: u32,
    /// Requested `STATX_*` mask.
    pub sx_mask: u32,
}
layout!(fuse_statx_in: size 24, align 8;
    getattr_flags @ 0, reserved @ 4, fh @ 8, sx_flags @ 16, sx_mask @ 20);

/// Reply to STATX (7.39).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_statx_out {
    /// Attribute cache timeout, seconds.
    pub attr_valid: u64,
    /// Attribute cache timeout, nanoseconds.
    pub attr_valid_nsec: u32,
    /// Flags.
    pub flags: u32,
    /// Reserved.
    pub spare: [u64; 2],
    /// The attributes.
    pub stat: fuse_statx,
}
layout!(fuse_statx_out: size 288, align 8;
    attr_valid @ 0, attr_valid_nsec @ 8, flags @ 12, spare @ 16, stat @ 32);

/// MKNOD request, followed by the name.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_mknod_in {
    /// File type and permissions.
    pub mode: u32,
    /// Device number.
    pub rdev: u32,
    /// Caller's umask (7.12).
    pub umask: u32,
    /// Padding.
    pub padding: u32,
}
layout!(fuse_mknod_in: size 16, align 4; mode @ 0, rdev @ 4, umask @ 8, padding @ 12);

/// MKDIR request, followed by the name.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_mkdir_in {
    /// Permissions.
    pub mode: u32,
    /// Caller's umask.
    pub umask: u32,
}
layout!(fuse_mkdir_in: size 8, align 4; mode @ 0, umask @ 4);

/// RENAME request, followed by the old and new names.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_rename_in {
    /// Inode id of the new parent directory.
    pub newdir: u64,
}
layout!(fuse_rename_in: size 8, align 8; newdir @ 0);

/// RENAME2 request, followed by the old and new names (7.23).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_rename2_in {
    /// Inode id of the new parent directory.
    pub newdir: u64,
    /// `RENAME_*` flags.
    pub flags: u32,
    /// Padding.
    pub padding: u32,
}
layout!(fuse_rename2_in: size 16, align 8; newdir @ 0, flags @ 8, padding @ 12);

/// LINK request, followed by the new name.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_link_in {
    /// Inode id of the existing file.
    pub oldnodeid: u64,
}
layout!(fuse_link_in: size 8, align 8; oldnodeid @ 0);

/// SETATTR request.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_setattr_in {
    /// `FATTR_*` mask of the fields to set.
    pub valid: u32,
    /// Padding.
    pub padding: u32,
    /// File handle (with `FATTR_FH`).
    pub fh: u64,
    /// New size.
    pub size: u64,
    /// Lock owner (with `FATTR_LOCKOWNER`).
    pub lock_owner: u64,
    /// Access time, seconds.
    pub atime: u64,
    /// Modification time, seconds.
    pub mtime: u64,
    /// Status change time, seconds.
    pub ctime: u64,
    /// Access time, nanoseconds.
    pub atimensec: u32,
    /// Modification time, nanoseconds.
    pub mtimensec: u32,
    /// Status change time, nanoseconds.
    pub ctimensec: u32,
    /// New mode.
    pub mode: u32,
    /// Unused.
    pub unused4: u32,
    /// New owner.
    pub uid: u32,
    /// New group.
    pub gid: u32,
    /// Unused.
    pub unused5: u32,
}
layout!(fuse_setattr_in: size 88, align 8;
    valid @ 0, padding @ 4, fh @ 8, size @ 16, lock_owner @ 24, atime @ 32, mtime @ 40,
    ctime @ 48, atimensec @ 56, mtimensec @ 60, ctimensec @ 64, mode @ 68, unused4 @ 72, uid @ 76,
    gid @ 80, unused5 @ 84);

/// OPEN and OPENDIR request.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_open_in {
    /// `open(2)` flags.
    pub flags: u32,
    /// `FUSE_OPEN_*` flags.
    pub open_flags: u32,
}
layout!(fuse_open_in: size 8, align 4; flags @ 0, open_flags @ 4);

/// CREATE request, followed by the name.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_create_in {
    /// `open(2)` flags.
    pub flags: u32,
    /// Permissions.
    pub mode: u32,
    /// Caller's umask.
    pub umask: u32,
    /// `FUSE_OPEN_*` flags.
    pub open_flags: u32,
}
layout!(fuse_create_in: size 16, align 4; flags @ 0, mode @ 4, umask @ 8, open_flags @ 12);

/// Reply to OPEN and OPENDIR (and part of CREATE).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_open_out {
    /// File handle.
    pub fh: u64,
    /// `FOPEN_*` flags.
    pub open_flags: u32,
    /// Passthrough backing id (with `FOPEN_PASSTHROUGH`, 7.40).
    pub backing_id: i32,
}
layout!(fuse_open_out: size 16, align 8; fh @ 0, open_flags @ 8, backing_id @ 12);

/// RELEASE and RELEASEDIR request.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_release_in {
    /// File handle.
    pub fh: u64,
    /// `open(2)` flags.
    pub flags: u32,
    /// `FUSE_RELEASE_*` flags.
    pub release_flags: u32,
    /// Lock owner.
    pub lock_owner: u64,
}
layout!(fuse_release_in: size 24, align 8; fh @ 0, flags @ 8, release_flags @ 12, lock_owner @ 16);

/// FLUSH request.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_flush_in {
    /// File handle.
    pub fh: u64,
    /// Unused.
    pub unused: u32,
    /// Padding.
    pub padding: u32,
    /// Lock owner.
    pub lock_owner: u64,
}
layout!(fuse_flush_in: size 24, align 8; fh @ 0, unused @ 8, padding @ 12, lock_owner @ 16);

/// READ and READDIR request.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_read_in {
    /// File handle.
    pub fh: u64,
    /// File offset.
    pub offset: u64,
    /// Number of bytes.
    pub size: u32,
    /// `FUSE_READ_*` flags.
    pub read_flags: u32,
    /// Lock owner (with `FUSE_READ_LOCKOWNER`).
    pub lock_owner: u64,
    /// `open(2)` flags.
    pub flags: u32,
    /// Padding.
    pub padding: u32,
}
layout!(fuse_read_in: size 40, align 8;
    fh @ 0, offset @ 8, size @ 16, read_flags @ 20, lock_owner @ 24, flags @ 32, padding @ 36);

/// WRITE request, followed by the data.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_write_in {
    /// File handle.
    pub fh: u64,
    /// File offset.
    pub offset: u64,
    /// Number of bytes.
    pub size: u32,
    /// `FUSE_WRITE_*` flags.
    pub write_flags: u32,
    /// Lock owner (with `FUSE_WRITE_LOCKOWNER`).
    pub lock_owner: u64,
    /// `open(2)` flags.
    pub flags: u32,
    /// Padding.
    pub padding: u32,
}
layout!(fuse_write_in: size 40, align 8;
    fh @ 0, offset @ 8, size @ 16, write_flags @ 20, lock_owner @ 24, flags @ 32, padding @ 36);

/// Reply to WRITE.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_write_out {
    /// Number of bytes written.
    pub size: u32,
    /// Padding.
    pub padding: u32,
}
layout!(fuse_write_out: size 8, align 4; size @ 0, padding @ 4);

/// Reply to STATFS.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_statfs_out {
    /// The statistics.
    pub st: fuse_kstatfs,
}
layout!(fuse_statfs_out: size 80, align 8; st @ 0);

/// FSYNC and FSYNCDIR request.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_fsync_in {
    /// File handle.
    pub fh: u64,
    /// `FUSE_FSYNC_*` flags.
    pub fsync_flags: u32,
    /// Padding.
    pub padding: u32,
}
layout!(fuse_fsync_in: size 16, align 8; fh @ 0, fsync_flags @ 8, padding @ 12);

/// SETXATTR request, followed by the name and value.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_setxattr_in {
    /// Size of the value.
    pub size: u32,
    /// `setxattr(2)` flags.
    pub flags: u32,
    /// `FUSE_SETXATTR_*` flags (with `FUSE_SETXATTR_EXT`).
    pub setxattr_flags: u32,
    /// Padding.
    pub padding: u32,
}
layout!(fuse_setxattr_in: size 16, align 4; size @ 0, flags @ 4, setxattr_flags @ 8, padding @ 12);

/// GETXATTR and LISTXATTR request.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_getxattr_in {
    /// Size of the caller's buffer (0: query the size).
    pub size: u32,
    /// Padding.
    pub padding: u32,
}
layout!(fuse_getxattr_in: size 8, align 4; size @ 0, padding @ 4);

/// Reply to GETXATTR and LISTXATTR when the requested size is 0.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_getxattr_out {
    /// Size of the value.
    pub size: u32,
    /// Padding.
    pub padding: u32,
}
layout!(fuse_getxattr_out: size 8, align 4; size @ 0, padding @ 4);

/// GETLK, SETLK and SETLKW request.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_lk_in {
    /// File handle.
    pub fh: u64,
    /// Lock owner.
    pub owner: u64,
    /// The lock.
    pub lk: fuse_file_lock,
    /// `FUSE_LK_*` flags.
    pub lk_flags: u32,
    /// Padding.
    pub padding: u32,
}
layout!(fuse_lk_in: size 48, align 8; fh @ 0, owner @ 8, lk @ 16, lk_flags @ 40, padding @ 44);

/// Reply to GETLK.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_lk_out {
    /// The conflicting lock, or `F_UNLCK`.
    pub lk: fuse_file_lock,
}
layout!(fuse_lk_out: size 24, align 8; lk @ 0);

/// ACCESS request.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_access_in {
    /// `access(2)` mask.
    pub mask: u32,
    /// Padding.
    pub padding: u32,
}
layout!(fuse_access_in: size 8, align 4; mask @ 0, padding @ 4);

/// INIT request.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_init_in {
    /// Kernel's major protocol version.
    pub major: u32,
    /// Kernel's minor protocol version.
    pub minor: u32,
    /// Maximum readahead.
    pub max_readahead: u32,
    /// INIT flags, bits 0..32.
    pub flags: u32,
    /// INIT flags, bits 32..64 shifted down (with `FUSE_INIT_EXT`).
    pub flags2: u32,
    /// Reserved.
    pub unused: [u32; 11],
}
layout!(fuse_init_in: size 64, align 4;
    major @ 0, minor @ 4, max_readahead @ 8, flags @ 12, flags2 @ 16, unused @ 20);

/// Reply to INIT.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_init_out {
    /// Server's major protocol version.
    pub major: u32,
    /// Server's minor protocol version.
    pub minor: u32,
    /// Maximum readahead.
    pub max_readahead: u32,
    /// INIT flags, bits 0..32.
    pub flags: u32,
    /// Maximum background requests.
    pub max_background: u16,
    /// Background requests at which the filesystem counts as congested.
    pub congestion_threshold: u16,
    /// Maximum write size.
    pub max_write: u32,
    /// Timestamp granularity in nanoseconds.
    pub time_gran: u32,
    /// Maximum pages per request (with `FUSE_MAX_PAGES`).
    pub max_pages: u16,
    /// log2 of the DAX mapping alignment (with `FUSE_MAP_ALIGNMENT`).
    pub map_alignment: u16,
    /// INIT flags, bits 32..64 shifted down.
    pub flags2: u32,
    /// Maximum passthrough stacking depth (7.40).
    pub max_stack_depth: u32,
    /// Request timeout in seconds (with `FUSE_REQUEST_TIMEOUT`, 7.43).
    pub request_timeout: u16,
    /// Reserved.
    pub unused: [u16; 11],
}
layout!(fuse_init_out: size 64, align 4;
    major @ 0, minor @ 4, max_readahead @ 8, flags @ 12, max_background @ 16,
    congestion_threshold @ 18, max_write @ 20, time_gran @ 24, max_pages @ 28, map_alignment @ 30,
    flags2 @ 32, max_stack_depth @ 36, request_timeout @ 40, unused @ 42);

/// CUSE_INIT request.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct cuse_init_in {
    /// Major protocol version.
    pub major: u32,
    /// Minor protocol version.
    pub minor: u32,
    /// Unused.
    pub unused: u32,
    /// `CUSE_*` flags.
    pub flags: u32,
}
layout!(cuse_init_in: size 16, align 4; major @ 0, minor @ 4, unused @ 8, flags @ 12);

/// Reply to CUSE_INIT, followed by the device info strings.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct cuse_init_out {
    /// Major protocol version.
    pub major: u32,
    /// Minor protocol version.
    pub minor: u32,
    /// Unused.
    pub unused: u32,
    /// `CUSE_*` flags.
    pub flags: u32,
    /// Maximum read size.
    pub max_read: u32,
    /// Maximum write size.
    pub max_write: u32,
    /// Character device major.
    pub dev_major: u32,
    /// Character device minor.
    pub dev_minor: u32,
    /// Reserved.
    pub spare: [u32; 10],
}
layout!(cuse_init_out: size 72, align 4;
    major @ 0, minor @ 4, unused @ 8, flags @ 12, max_read @ 16, max_write @ 20, dev_major @ 24,
    dev_minor @ 28, spare @ 32);

/// INTERRUPT request.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_interrupt_in {
    /// `unique` of the request to interrupt.
    pub unique: u64,
}
layout!(fuse_interrupt_in: size 8, align 8; unique @ 0);

/// BMAP request.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_bmap_in {
    /// Logical block.
    pub block: u64,
    /// Block size.
    pub blocksize: u32,
    /// Padding.
    pub padding: u32,
}
layout!(fuse_bmap_in: size 16, align 8; block @ 0, blocksize @ 8, padding @ 12);

/// Reply to BMAP.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_bmap_out {
    /// Device block.
    pub block: u64,
}
layout!(fuse_bmap_out: size 8, align 8; block @ 0);

/// IOCTL request.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_ioctl_in {
    /// File handle.
    pub fh: u64,
    /// `FUSE_IOCTL_*` flags.
    pub flags: u32,
    /// ioctl command.
    pub cmd: u32,
    /// ioctl argument.
    pub arg: u64,
    /// Size of the input data that follows.
    pub in_size: u32,
    /// Maximum size of the output data.
    pub out_size: u32,
}
layout!(fuse_ioctl_in: size 32, align 8;
    fh @ 0, flags @ 8, cmd @ 12, arg @ 16, in_size @ 24, out_size @ 28);

/// An iovec in an ioctl retry reply.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_ioctl_iovec {
    /// Address.
    pub base: u64,
    /// Length.
    pub len: u64,
}
layout!(fuse_ioctl_iovec: size 16, align 8; base @ 0, len @ 8);

/// Reply to IOCTL.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_ioctl_out {
    /// ioctl return value.
    pub result: i32,
    /// `FUSE_IOCTL_*` flags.
    pub flags: u32,
    /// Number of input iovecs (retry).
    pub in_iovs: u32,
    /// Number of output iovecs (retry).
    pub out_iovs: u32,
}
layout!(fuse_ioctl_out: size 16, align 4; result @ 0, flags @ 4, in_iovs @ 8, out_iovs @ 12);

/// POLL request.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_poll_in {
    /// File handle.
    pub fh: u64,
    /// Kernel handle for wakeup notifications.
    pub kh: u64,
    /// `FUSE_POLL_*` flags.
    pub flags: u32,
    /// Requested poll events (7.21).
    pub events: u32,
}
layout!(fuse_poll_in: size 24, align 8; fh @ 0, kh @ 8, flags @ 16, events @ 20);

/// Reply to POLL.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_poll_out {
    /// Ready events.
    pub revents: u32,
    /// Padding.
    pub padding: u32,
}
layout!(fuse_poll_out: size 8, align 4; revents @ 0, padding @ 4);

/// `FUSE_NOTIFY_POLL` notification.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_notify_poll_wakeup_out {
    /// Kernel handle from [`fuse_poll_in`].
    pub kh: u64,
}
layout!(fuse_notify_poll_wakeup_out: size 8, align 8; kh @ 0);

/// FALLOCATE request.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_fallocate_in {
    /// File handle.
    pub fh: u64,
    /// Start offset.
    pub offset: u64,
    /// Length.
    pub length: u64,
    /// `fallocate(2)` mode.
    pub mode: u32,
    /// Padding.
    pub padding: u32,
}
layout!(fuse_fallocate_in: size 32, align 8;
    fh @ 0, offset @ 8, length @ 16, mode @ 24, padding @ 28);
