//! FUSE message headers, directory entries, notifications, device ioctl arguments and
//! request extensions, plus the bodies of the newer operations.

use super::fuse_entry_out;

/// Header of every request read from the device (or the io_uring header area).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_in_header {
    /// Total request length, header included.
    pub len: u32,
    /// `FUSE_*` opcode.
    pub opcode: u32,
    /// Request id, echoed in the reply.
    pub unique: u64,
    /// Inode id the request is about.
    pub nodeid: u64,
    /// Caller's user id.
    pub uid: u32,
    /// Caller's group id.
    pub gid: u32,
    /// Caller's process id.
    pub pid: u32,
    /// Length of the extensions, in 8-byte units (7.38).
    pub total_extlen: u16,
    /// Padding.
    pub padding: u16,
}
layout!(fuse_in_header: size 40, align 8;
    len @ 0, opcode @ 4, unique @ 8, nodeid @ 16, uid @ 24, gid @ 28, pid @ 32, total_extlen @ 36,
    padding @ 38);

/// Header of every reply (and notification) written to the device.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_out_header {
    /// Total reply length, header included.
    pub len: u32,
    /// 0 or a negated errno; the `FUSE_NOTIFY_*` code for notifications.
    pub error: i32,
    /// `unique` of the request answered; 0 for notifications.
    pub unique: u64,
}
layout!(fuse_out_header: size 16, align 8; len @ 0, error @ 4, unique @ 8);

/// Directory entry in a READDIR reply, followed by the name, padded to 8 bytes.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_dirent {
    /// Inode number.
    pub ino: u64,
    /// Offset of the next entry.
    pub off: u64,
    /// Length of the name.
    pub namelen: u32,
    /// File type (`DT_*`).
    pub r#type: u32,
    /// The name (flexible array).
    pub name: [u8; 0],
}
layout!(fuse_dirent: size 24, align 8; ino @ 0, off @ 8, namelen @ 16, r#type @ 20, name @ 24);

/// Directory entry with lookup result in a READDIRPLUS reply.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_direntplus {
    /// The lookup result.
    pub entry_out: fuse_entry_out,
    /// The entry.
    pub dirent: fuse_dirent,
}
layout!(fuse_direntplus: size 152, align 8; entry_out @ 0, dirent @ 128);

/// `FUSE_NOTIFY_INVAL_INODE` notification.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_notify_inval_inode_out {
    /// Inode id.
    pub ino: u64,
    /// Start of the range to invalidate.
    pub off: i64,
    /// Length of the range (negative: to the end, 0: attributes only).
    pub len: i64,
}
layout!(fuse_notify_inval_inode_out: size 24, align 8; ino @ 0, off @ 8, len @ 16);

/// `FUSE_NOTIFY_INVAL_ENTRY` notification, followed by the name.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_notify_inval_entry_out {
    /// Inode id of the parent directory.
    pub parent: u64,
    /// Length of the name.
    pub namelen: u32,
    /// `FUSE_EXPIRE_ONLY` or 0.
    pub flags: u32,
}
layout!(fuse_notify_inval_entry_out: size 16, align 8; parent @ 0, namelen @ 8, flags @ 12);

/// `FUSE_NOTIFY_DELETE` notification, followed by the name.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_notify_delete_out {
    /// Inode id of the parent directory.
    pub parent: u64,
    /// Inode id of the deleted entry.
    pub child: u64,
    /// Length of the name.
    pub namelen: u32,
    /// Padding.
    pub padding: u32,
}
layout!(fuse_notify_delete_out: size 24, align 8;
    parent @ 0, child @ 8, namelen @ 16, padding @ 20);

/// `FUSE_NOTIFY_STORE` notification, followed by the data.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_notify_store_out {
    /// Inode id.
    pub nodeid: u64,
    /// File offset.
    pub offset: u64,
    /// Number of bytes.
    pub size: u32,
    /// Padding.
    pub padding: u32,
}
layout!(fuse_notify_store_out: size 24, align 8; nodeid @ 0, offset @ 8, size @ 16, padding @ 20);

/// `FUSE_NOTIFY_RETRIEVE` notification.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_notify_retrieve_out {
    /// Id echoed in the NOTIFY_REPLY.
    pub notify_unique: u64,
    /// Inode id.
    pub nodeid: u64,
    /// File offset.
    pub offset: u64,
    /// Number of bytes.
    pub size: u32,
    /// Padding.
    pub padding: u32,
}
layout!(fuse_notify_retrieve_out: size 32, align 8;
    notify_unique @ 0, nodeid @ 8, offset @ 16, size @ 24, padding @ 28);

/// NOTIFY_REPLY request (same size as [`fuse_write_in`](super::fuse_write_in)), followed by the data.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_notify_retrieve_in {
    /// Unused.
    pub dummy1: u64,
    /// File offset.
    pub offset: u64,
    /// Number of bytes.
    pub size: u32,
    /// Unused.
    pub dummy2: u32,
    /// Unused.
    pub dummy3: u64,
    /// Unused.
    pub dummy4: u64,
}
layout!(fuse_notify_retrieve_in: size 40, align 8;
    dummy1 @ 0, offset @ 8, size @ 16, dummy2 @ 20, dummy3 @ 24, dummy4 @ 32);

/// `FUSE_NOTIFY_PRUNE` notification, followed by `count` inode ids (7.45).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_notify_prune_out {
    /// Number of inode ids.
    pub count: u32,
    /// Padding.
    pub padding: u32,
    /// Reserved.
    pub spare: u64,
}
layout!(fuse_notify_prune_out: size 16, align 8; count @ 0, padding @ 4, spare @ 8);

/// Argument of `FUSE_DEV_IOC_BACKING_OPEN`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_backing_map {
    /// Backing file descriptor.
    pub fd: i32,
    /// Flags (none defined).
    pub flags: u32,
    /// Reserved.
    pub padding: u64,
}
layout!(fuse_backing_map: size 16, align 8; fd @ 0, flags @ 4, padding @ 8);

/// LSEEK request.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_lseek_in {
    /// File handle.
    pub fh: u64,
    /// Offset.
    pub offset: u64,
    /// `SEEK_*` value.
    pub whence: u32,
    /// Padding.
    pub padding: u32,
}
layout!(fuse_lseek_in: size 24, align 8; fh @ 0, offset @ 8, whence @ 16, padding @ 20);

/// Reply to LSEEK.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_lseek_out {
    /// Resulting offset.
    pub offset: u64,
}
layout!(fuse_lseek_out: size 8, align 8; offset @ 0);

/// COPY_FILE_RANGE and COPY_FILE_RANGE_64 request.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_copy_file_range_in {
    /// Source file handle.
    pub fh_in: u64,
    /// Source offset.
    pub off_in: u64,
    /// Destination inode id.
    pub nodeid_out: u64,
    /// Destination file handle.
    pub fh_out: u64,
    /// Destination offset.
    pub off_out: u64,
    /// Number of bytes.
    pub len: u64,
    /// `copy_file_range(2)` flags.
    pub flags: u64,
}
layout!(fuse_copy_file_range_in: size 56, align 8;
    fh_in @ 0, off_in @ 8, nodeid_out @ 16, fh_out @ 24, off_out @ 32, len @ 40, flags @ 48);

/// Reply to COPY_FILE_RANGE_64 (7.45).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_copy_file_range_out {
    /// Number of bytes copied.
    pub bytes_copied: u64,
}
layout!(fuse_copy_file_range_out: size 8, align 8; bytes_copied @ 0);

/// SETUPMAPPING request (DAX).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_setupmapping_in {
    /// An open file handle.
    pub fh: u64,
    /// File offset of the mapping.
    pub foffset: u64,
    /// Length of the mapping.
    pub len: u64,
    /// `FUSE_SETUPMAPPING_FLAG_*` flags.
    pub flags: u64,
    /// Offset in the DAX window.
    pub moffset: u64,
}
layout!(fuse_setupmapping_in: size 40, align 8;
    fh @ 0, foffset @ 8, len @ 16, flags @ 24, moffset @ 32);

/// REMOVEMAPPING request, followed by `count` [`fuse_removemapping_one`]s.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_removemapping_in {
    /// Number of entries.
    pub count: u32,
}
layout!(fuse_removemapping_in: size 4, align 4; count @ 0);

/// One mapping to remove.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_removemapping_one {
    /// Offset in the DAX window.
    pub moffset: u64,
    /// Length.
    pub len: u64,
}
layout!(fuse_removemapping_one: size 16, align 8; moffset @ 0, len @ 8);

/// SYNCFS request.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_syncfs_in {
    /// Reserved.
    pub padding: u64,
}
layout!(fuse_syncfs_in: size 8, align 8; padding @ 0);

/// One security context, followed by its name and label.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_secctx {
    /// Size of the context label.
    pub size: u32,
    /// Padding.
    pub padding: u32,
}
layout!(fuse_secctx: size 8, align 4; size @ 0, padding @ 4);

/// Header of the security context extension.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_secctx_header {
    /// Total size of all contexts, this header included.
    pub size: u32,
    /// Number of contexts.
    pub nr_secctx: u32,
}
layout!(fuse_secctx_header: size 8, align 4; size @ 0, nr_secctx @ 4);

/// Header of a request extension (7.38).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_ext_header {
    /// Total size of the extension, this header included.
    pub size: u32,
    /// Extension type (`FUSE_EXT_*`; at most `FUSE_MAX_NR_SECCTX` means a security context header).
    pub r#type: u32,
}
layout!(fuse_ext_header: size 8, align 4; size @ 0, r#type @ 4);

/// Supplementary groups extension (`FUSE_EXT_GROUPS`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_supp_groups {
    /// Number of groups.
    pub nr_groups: u32,
    /// Group ids (flexible array).
    pub groups: [u32; 0],
}
layout!(fuse_supp_groups: size 4, align 4; nr_groups @ 0, groups @ 4);
