//! The passthrough file system: FUSE requests in, operations on the source tree out.
//!
//! Every inode the kernel knows is an `O_PATH` descriptor of the source file, keyed by its
//! (device, inode number) so hard links and repeated lookups share one node id; the kernel's
//! lookup count decides when it is closed (FORGET, BATCH_FORGET). File and directory handles
//! are plain descriptors, their numbers given to the kernel as `fh`.
//!
//! Handlers are transport-neutral: they get the request header, the per-opcode header and the
//! payload (names, write data), and write the reply's arguments into the same payload buffer
//! (a ring entry's payload buffer, or the part of the `/dev/fuse` read buffer after the
//! headers). Request data is consumed before the reply is written over it.

use std::collections::HashMap;
use std::ffi::{CStr, CString};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rustix::fs::{AtFlags, Mode, OFlags, RenameFlags};
use uring::uapi::fuse::*;
use uring::Errno;

use crate::abi::{self, align8, put, read};
use crate::backing::{last_errno, proc_path, Backing, IoResult};

/// What a handler produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Success, with this many bytes of reply arguments in the payload buffer.
    Reply(usize),
    /// Failure with this errno (no reply arguments).
    Error(Errno),
    /// No reply at all (FORGET, BATCH_FORGET, INTERRUPT).
    NoReply,
}

impl From<IoResult<usize>> for Outcome {
    fn from(r: IoResult<usize>) -> Self {
        match r {
            Ok(n) => Outcome::Reply(n),
            Err(e) => Outcome::Error(e),
        }
    }
}

struct Inode {
    /// `O_PATH | O_NOFOLLOW` descriptor of the source file.
    fd: OwnedFd,
}

struct Node {
    inode: Arc<Inode>,
    key: (u64, u64),
    nlookup: u64,
}

struct Table {
    nodes: HashMap<u64, Node>,
    by_key: HashMap<(u64, u64), u64>,
    next_id: u64,
}

/// The shared state of the file system.
pub struct Passthrough {
    table: Mutex<Table>,
    timeout: Duration,
    direct_io: bool,
    debug: bool,
    /// Set once DESTROY was answered.
    pub destroyed: AtomicBool,
}

/// `(dev, ino)` of a statx result.
fn key_of(st: &libc::statx) -> (u64, u64) {
    (((st.stx_dev_major as u64) << 32) | st.stx_dev_minor as u64, st.stx_ino)
}

/// The FUSE attributes of a statx result.
pub fn attr_of(st: &libc::statx) -> fuse_attr {
    fuse_attr {
        ino: st.stx_ino,
        size: st.stx_size,
        blocks: st.stx_blocks,
        atime: st.stx_atime.tv_sec as u64,
        mtime: st.stx_mtime.tv_sec as u64,
        ctime: st.stx_ctime.tv_sec as u64,
        atimensec: st.stx_atime.tv_nsec,
        mtimensec: st.stx_mtime.tv_nsec,
        ctimensec: st.stx_ctime.tv_nsec,
        mode: st.stx_mode as u32,
        nlink: st.stx_nlink,
        uid: st.stx_uid,
        gid: st.stx_gid,
        rdev: libc::makedev(st.stx_rdev_major, st.stx_rdev_minor) as u32,
        blksize: st.stx_blksize,
        flags: 0,
    }
}

/// The name at the start of `payload` (up to its NUL).
fn name_at(payload: &[u8]) -> IoResult<CString> {
    let end = payload.iter().position(|&b| b == 0).ok_or(Errno::INVAL)?;
    CString::new(&payload[..end]).map_err(|_| Errno::INVAL)
}

/// The two NUL-terminated names of a RENAME payload.
fn two_names(payload: &[u8]) -> IoResult<(CString, CString)> {
    let first = name_at(payload)?;
    let rest = &payload[first.as_bytes().len() + 1..];
    Ok((first, name_at(rest)?))
}

fn check(ret: libc::c_int) -> IoResult<()> {
    if ret < 0 {
        Err(last_errno())
    } else {
        Ok(())
    }
}

impl Passthrough {
    /// A file system mirroring the directory `root` (an `O_PATH` descriptor).
    pub fn new(root: OwnedFd, root_key: (u64, u64), timeout: Duration, direct_io: bool, debug: bool) -> Self {
        let mut nodes = HashMap::new();
        // The root is never forgotten: its count starts out of reach.
        nodes.insert(FUSE_ROOT_ID, Node { inode: Arc::new(Inode { fd: root }), key: root_key, nlookup: 1 << 62 });
        let mut by_key = HashMap::new();
        by_key.insert(root_key, FUSE_ROOT_ID);
        Passthrough {
            table: Mutex::new(Table { nodes, by_key, next_id: FUSE_ROOT_ID + 1 }),
            timeout,
            direct_io,
            debug,
            destroyed: AtomicBool::new(false),
        }
    }

    fn table(&self) -> MutexGuard<'_, Table> {
        // A panicking handler cannot leave the table half-updated (every update is one
        // statement), so a poisoned lock is still usable.
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn inode(&self, nodeid: u64) -> IoResult<Arc<Inode>> {
        self.table().nodes.get(&nodeid).map(|n| n.inode.clone()).ok_or(Errno::from_raw(libc::ESTALE))
    }

    /// Number of nodes the kernel holds (root included).
    pub fn node_count(&self) -> usize {
        self.table().nodes.len()
    }

    fn forget(&self, nodeid: u64, nlookup: u64) {
        if nodeid == FUSE_ROOT_ID {
            return;
        }
        let mut t = self.table();
        let Some(node) = t.nodes.get_mut(&nodeid) else { return };
        node.nlookup = node.nlookup.saturating_sub(nlookup);
        if node.nlookup == 0 {
            let key = node.key;
            t.nodes.remove(&nodeid);
            if t.by_key.get(&key) == Some(&nodeid) {
                t.by_key.remove(&key);
            }
        }
    }

    fn entry_out(&self, nodeid: u64, st: &libc::statx) -> fuse_entry_out {
        fuse_entry_out {
            nodeid,
            generation: 0,
            entry_valid: self.timeout.as_secs(),
            attr_valid: self.timeout.as_secs(),
            entry_valid_nsec: self.timeout.subsec_nanos(),
            attr_valid_nsec: self.timeout.subsec_nanos(),
            attr: attr_of(st),
        }
    }

    fn attr_out(&self, st: &libc::statx) -> fuse_attr_out {
        fuse_attr_out {
            attr_valid: self.timeout.as_secs(),
            attr_valid_nsec: self.timeout.subsec_nanos(),
            dummy: 0,
            attr: attr_of(st),
        }
    }

    /// Looks `name` up in `parent` and counts one lookup of the node.
    fn lookup_in(&self, io: &mut Backing, parent: BorrowedFd<'_>, name: &CStr) -> IoResult<fuse_entry_out> {
        let fd = io.open_at(parent, name, OFlags::PATH | OFlags::NOFOLLOW, Mode::empty())?;
        let st = match io.statx_fd(fd.as_fd()) {
            Ok(st) => st,
            Err(e) => {
                let _ = io.close(fd);
                return Err(e);
            }
        };
        let key = key_of(&st);
        let mut t = self.table();
        let id = match t.by_key.get(&key).copied() {
            Some(id) => {
                if let Some(node) = t.nodes.get_mut(&id) {
                    node.nlookup += 1;
                }
                drop(t);
                let _ = io.close(fd);
                id
            }
            None => {
                let id = t.next_id;
                t.next_id += 1;
                t.nodes.insert(id, Node { inode: Arc::new(Inode { fd }), key, nlookup: 1 });
                t.by_key.insert(key, id);
                id
            }
        };
        Ok(self.entry_out(id, &st))
    }

    /// Serves one request. `op` is the per-opcode header, `buf[..in_len]` the request payload;
    /// the reply arguments go to the start of `buf`.
    pub fn dispatch(&self, io: &mut Backing, h: &fuse_in_header, op: &[u8], buf: &mut [u8], in_len: usize) -> Outcome {
        let in_len = in_len.min(buf.len());
        let out = self.dispatch_inner(io, h, op, buf, in_len);
        if self.debug {
            eprintln!(
                "fuse_passthrough: {} unique={} nodeid={} -> {:?}",
                abi::opcode_name(h.opcode),
                h.unique,
                h.nodeid,
                out
            );
        }
        out
    }

    fn dispatch_inner(
        &self,
        io: &mut Backing,
        h: &fuse_in_header,
        op: &[u8],
        buf: &mut [u8],
        in_len: usize,
    ) -> Outcome {
        macro_rules! arg {
            ($t:ty) => {
                match read::<$t>(op) {
                    Some(v) => v,
                    None => return Outcome::Error(Errno::INVAL),
                }
            };
        }
        let payload_end = in_len;
        match h.opcode {
            FUSE_LOOKUP => self.lookup(io, h, buf, payload_end).into(),
            FUSE_FORGET => {
                self.forget(h.nodeid, arg!(fuse_forget_in).nlookup);
                Outcome::NoReply
            }
            FUSE_BATCH_FORGET => {
                let n = arg!(fuse_batch_forget_in).count as usize;
                for one in buf[..payload_end].chunks_exact(16).take(n) {
                    if let Some(f) = read::<fuse_forget_one>(one) {
                        self.forget(f.nodeid, f.nlookup);
                    }
                }
                Outcome::NoReply
            }
            FUSE_INTERRUPT => Outcome::NoReply,
            FUSE_GETATTR => self.getattr(io, h, buf).into(),
            FUSE_SETATTR => self.setattr(io, h, &arg!(fuse_setattr_in), buf).into(),
            FUSE_OPEN => self.open(io, h, &arg!(fuse_open_in), buf, false).into(),
            FUSE_OPENDIR => self.open(io, h, &arg!(fuse_open_in), buf, true).into(),
            FUSE_CREATE => self.create(io, h, &arg!(fuse_create_in), buf, payload_end).into(),
            FUSE_READ => {
                let r = arg!(fuse_read_in);
                let size = (r.size as usize).min(buf.len());
                // SAFETY: `fh` is a descriptor this server opened and handed to the kernel; it
                // stays open until its RELEASE, which the kernel sends only once no request uses
                // the handle.
                let fd = unsafe { BorrowedFd::borrow_raw(r.fh as RawFd) };
                io.read_at(fd, &mut buf[..size], r.offset).into()
            }
            FUSE_WRITE => {
                let w = arg!(fuse_write_in);
                let size = (w.size as usize).min(payload_end);
                // SAFETY: as for FUSE_READ.
                let fd = unsafe { BorrowedFd::borrow_raw(w.fh as RawFd) };
                match io.write_at(fd, &buf[..size], w.offset) {
                    Ok(n) => Outcome::Reply(put(buf, 0, &fuse_write_out { size: n as u32, padding: 0 })),
                    Err(e) => Outcome::Error(e),
                }
            }
            FUSE_FLUSH => {
                // close(dup(fh)): lets the backing file system see a close (as NFS needs),
                // without releasing the handle.
                let f = arg!(fuse_flush_in);
                // SAFETY: plain syscall on a descriptor number this server owns.
                let dup = unsafe { libc::fcntl(f.fh as RawFd, libc::F_DUPFD_CLOEXEC, 0) };
                if dup < 0 {
                    return Outcome::Error(last_errno());
                }
                // SAFETY: `fcntl` just created `dup`; nothing else owns it.
                io.close(unsafe { OwnedFd::from_raw_fd(dup) }).map(|()| 0).into()
            }
            FUSE_RELEASE | FUSE_RELEASEDIR => {
                // SAFETY: the handle's descriptor is this server's, and RELEASE is the kernel's
                // last word on it: the server gives it up here.
                let fd = unsafe { OwnedFd::from_raw_fd(arg!(fuse_release_in).fh as RawFd) };
                io.close(fd).map(|()| 0).into()
            }
            FUSE_FSYNC | FUSE_FSYNCDIR => {
                let f = arg!(fuse_fsync_in);
                // SAFETY: as for FUSE_READ.
                let fd = unsafe { BorrowedFd::borrow_raw(f.fh as RawFd) };
                io.fsync(fd, f.fsync_flags & FUSE_FSYNC_FDATASYNC != 0).map(|()| 0).into()
            }
            FUSE_READDIR => self.readdir(io, h, &arg!(fuse_read_in), buf, false).into(),
            FUSE_READDIRPLUS => self.readdir(io, h, &arg!(fuse_read_in), buf, true).into(),
            FUSE_MKDIR => self.mkdir(io, h, &arg!(fuse_mkdir_in), buf, payload_end).into(),
            FUSE_UNLINK | FUSE_RMDIR => {
                let flags = if h.opcode == FUSE_RMDIR { AtFlags::REMOVEDIR } else { AtFlags::empty() };
                let r = (|| {
                    let name = name_at(&buf[..payload_end])?;
                    let parent = self.inode(h.nodeid)?;
                    io.unlink_at(parent.fd.as_fd(), &name, flags)
                })();
                r.map(|()| 0).into()
            }
            FUSE_RENAME => self.rename(io, h, arg!(fuse_rename_in).newdir, 0, buf, payload_end).into(),
            FUSE_RENAME2 => {
                let r = arg!(fuse_rename2_in);
                self.rename(io, h, r.newdir, r.flags, buf, payload_end).into()
            }
            FUSE_STATFS => self.statfs(h, buf).into(),
            FUSE_ACCESS => {
                let mask = arg!(fuse_access_in).mask as libc::c_int;
                let r = self.inode(h.nodeid).and_then(|inode| {
                    let path = proc_path(&inode.fd);
                    // SAFETY: plain syscall with a NUL-terminated path.
                    check(unsafe { libc::faccessat(libc::AT_FDCWD, path.as_ptr(), mask, 0) })
                });
                r.map(|()| 0).into()
            }
            FUSE_DESTROY => {
                self.destroyed.store(true, Ordering::Release);
                Outcome::Reply(0)
            }
            // INIT is answered before serving starts; another one is a protocol error.
            FUSE_INIT => Outcome::Error(Errno::from_raw(libc::EPROTO)),
            _ => Outcome::Error(Errno::NOSYS),
        }
    }

    fn lookup(&self, io: &mut Backing, h: &fuse_in_header, buf: &mut [u8], end: usize) -> IoResult<usize> {
        let name = name_at(&buf[..end])?;
        let parent = self.inode(h.nodeid)?;
        let e = self.lookup_in(io, parent.fd.as_fd(), &name)?;
        Ok(put(buf, 0, &e))
    }

    fn getattr(&self, io: &mut Backing, h: &fuse_in_header, buf: &mut [u8]) -> IoResult<usize> {
        let inode = self.inode(h.nodeid)?;
        let st = io.statx_fd(inode.fd.as_fd())?;
        Ok(put(buf, 0, &self.attr_out(&st)))
    }

    fn setattr(&self, io: &mut Backing, h: &fuse_in_header, a: &fuse_setattr_in, buf: &mut [u8]) -> IoResult<usize> {
        let inode = self.inode(h.nodeid)?;
        let path = proc_path(&inode.fd);
        let fh = (a.valid & FATTR_FH != 0).then_some(a.fh as RawFd);
        if a.valid & FATTR_MODE != 0 {
            // No io_uring operation changes modes: chmod(2) through the magic link.
            // SAFETY: plain syscalls with a NUL-terminated path / owned descriptor.
            check(unsafe {
                match fh {
                    Some(fd) => libc::fchmod(fd, a.mode as libc::mode_t),
                    None => libc::chmod(path.as_ptr(), a.mode as libc::mode_t),
                }
            })?;
        }
        if a.valid & (FATTR_UID | FATTR_GID) != 0 {
            let uid = if a.valid & FATTR_UID != 0 { a.uid } else { u32::MAX };
            let gid = if a.valid & FATTR_GID != 0 { a.gid } else { u32::MAX };
            // SAFETY: plain syscall on an owned descriptor with an empty path.
            check(unsafe {
                libc::fchownat(
                    inode.fd.as_raw_fd(),
                    c"".as_ptr(),
                    uid,
                    gid,
                    libc::AT_EMPTY_PATH | libc::AT_SYMLINK_NOFOLLOW,
                )
            })?;
        }
        if a.valid & FATTR_SIZE != 0 {
            match fh {
                // SAFETY: as for FUSE_READ: a handle's descriptor stays open while a request
                // on it runs.
                Some(fd) => io.ftruncate(unsafe { BorrowedFd::borrow_raw(fd) }, a.size)?,
                None => {
                    let f = io.open_at(inode.fd.as_fd(), &path, OFlags::WRONLY, Mode::empty())?;
                    let r = io.ftruncate(f.as_fd(), a.size);
                    io.close(f)?;
                    r?;
                }
            }
        }
        if a.valid & (FATTR_ATIME | FATTR_MTIME) != 0 {
            let ts = |set: u32, now: u32, sec: u64, nsec: u32| {
                if a.valid & now != 0 {
                    libc::timespec { tv_sec: 0, tv_nsec: libc::UTIME_NOW }
                } else if a.valid & set != 0 {
                    libc::timespec { tv_sec: sec as libc::time_t, tv_nsec: nsec as libc::c_long }
                } else {
                    libc::timespec { tv_sec: 0, tv_nsec: libc::UTIME_OMIT }
                }
            };
            let times = [
                ts(FATTR_ATIME, FATTR_ATIME_NOW, a.atime, a.atimensec),
                ts(FATTR_MTIME, FATTR_MTIME_NOW, a.mtime, a.mtimensec),
            ];
            // SAFETY: plain syscalls; `times` is a two-element array, the path NUL-terminated.
            check(unsafe {
                match fh {
                    Some(fd) => libc::futimens(fd, times.as_ptr()),
                    None => libc::utimensat(libc::AT_FDCWD, path.as_ptr(), times.as_ptr(), 0),
                }
            })?;
        }
        let st = io.statx_fd(inode.fd.as_fd())?;
        Ok(put(buf, 0, &self.attr_out(&st)))
    }

    /// Flags of a file reopened for the kernel through `/proc/self/fd/N`: the caller's, minus
    /// what only matters to the kernel's own open, and minus `O_NOFOLLOW` (the magic link is
    /// itself a symlink; the inode was looked up without following already).
    fn open_flags(flags: u32) -> OFlags {
        let drop = OFlags::CREATE | OFlags::EXCL | OFlags::NOCTTY | OFlags::NOFOLLOW;
        OFlags::from_bits_retain(flags as _) & !drop | OFlags::CLOEXEC
    }

    fn open_out(&self, fh: RawFd, dir: bool) -> fuse_open_out {
        let open_flags = if self.direct_io && !dir { FOPEN_DIRECT_IO | FOPEN_PARALLEL_DIRECT_WRITES } else { 0 };
        fuse_open_out { fh: fh as u64, open_flags, backing_id: 0 }
    }

    fn open(
        &self,
        io: &mut Backing,
        h: &fuse_in_header,
        o: &fuse_open_in,
        buf: &mut [u8],
        dir: bool,
    ) -> IoResult<usize> {
        let inode = self.inode(h.nodeid)?;
        let path = proc_path(&inode.fd);
        let mut flags = Self::open_flags(o.flags);
        if dir {
            flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        }
        let fd = io.open_at(inode.fd.as_fd(), &path, flags, Mode::empty())?;
        let fh = std::os::fd::IntoRawFd::into_raw_fd(fd);
        Ok(put(buf, 0, &self.open_out(fh, dir)))
    }

    fn create(
        &self,
        io: &mut Backing,
        h: &fuse_in_header,
        c: &fuse_create_in,
        buf: &mut [u8],
        end: usize,
    ) -> IoResult<usize> {
        let name = name_at(&buf[..end])?;
        let parent = self.inode(h.nodeid)?;
        // By name this time: the caller's flags as they are (O_EXCL included).
        let flags = OFlags::from_bits_retain(c.flags as _) & !OFlags::NOCTTY | OFlags::CREATE | OFlags::CLOEXEC;
        let fd = io.open_at(parent.fd.as_fd(), &name, flags, Mode::from_bits_retain(c.mode as _))?;
        let entry = match self.lookup_in(io, parent.fd.as_fd(), &name) {
            Ok(e) => e,
            Err(e) => {
                let _ = io.close(fd);
                return Err(e);
            }
        };
        let fh = std::os::fd::IntoRawFd::into_raw_fd(fd);
        let at = put(buf, 0, &entry);
        Ok(put(buf, at, &self.open_out(fh, false)))
    }

    fn mkdir(
        &self,
        io: &mut Backing,
        h: &fuse_in_header,
        m: &fuse_mkdir_in,
        buf: &mut [u8],
        end: usize,
    ) -> IoResult<usize> {
        let name = name_at(&buf[..end])?;
        let parent = self.inode(h.nodeid)?;
        io.mkdir_at(parent.fd.as_fd(), &name, Mode::from_bits_retain(m.mode as _))?;
        let e = self.lookup_in(io, parent.fd.as_fd(), &name)?;
        Ok(put(buf, 0, &e))
    }

    fn rename(
        &self,
        io: &mut Backing,
        h: &fuse_in_header,
        newdir: u64,
        flags: u32,
        buf: &mut [u8],
        end: usize,
    ) -> IoResult<usize> {
        let (old, new) = two_names(&buf[..end])?;
        let from = self.inode(h.nodeid)?;
        let to = self.inode(newdir)?;
        io.rename_at(from.fd.as_fd(), &old, to.fd.as_fd(), &new, RenameFlags::from_bits_retain(flags))?;
        Ok(0)
    }

    fn statfs(&self, h: &fuse_in_header, buf: &mut [u8]) -> IoResult<usize> {
        let inode = self.inode(h.nodeid)?;
        // SAFETY: `statvfs` is plain integers; all zeroes is valid.
        let mut s: libc::statvfs = unsafe { core::mem::zeroed() };
        // No io_uring operation for statfs: fstatvfs(3) on the O_PATH descriptor.
        // SAFETY: plain syscall writing into `s`.
        check(unsafe { libc::fstatvfs(inode.fd.as_raw_fd(), &mut s) })?;
        let st = fuse_kstatfs {
            blocks: s.f_blocks,
            bfree: s.f_bfree,
            bavail: s.f_bavail,
            files: s.f_files,
            ffree: s.f_ffree,
            bsize: s.f_bsize as u32,
            namelen: s.f_namemax as u32,
            frsize: s.f_frsize as u32,
            padding: 0,
            spare: [0; 6],
        };
        Ok(put(buf, 0, &fuse_statfs_out { st }))
    }

    /// READDIR and READDIRPLUS: `getdents64(2)` (no io_uring operation reads directories)
    /// from the handle, positioned at the kernel's offset (the `d_off` of the last entry it
    /// took), packed into at most `r.size` bytes.
    fn readdir(
        &self,
        io: &mut Backing,
        h: &fuse_in_header,
        r: &fuse_read_in,
        buf: &mut [u8],
        plus: bool,
    ) -> IoResult<usize> {
        let fd = r.fh as RawFd;
        let size = (r.size as usize).min(buf.len());
        let dir = if plus { Some(self.inode(h.nodeid)?) } else { None };
        // SAFETY: plain syscall on a descriptor this server owns.
        if unsafe { libc::lseek(fd, r.offset as libc::off_t, libc::SEEK_SET) } < 0 {
            return Err(last_errno());
        }
        let mut dents = vec![0u8; 32 << 10];
        let mut used = 0;
        'fill: loop {
            // SAFETY: the kernel writes at most `dents.len()` bytes into `dents`.
            let n = unsafe { libc::syscall(libc::SYS_getdents64, fd, dents.as_mut_ptr(), dents.len()) };
            if n < 0 {
                if used > 0 {
                    break;
                }
                return Err(last_errno());
            }
            if n == 0 {
                break;
            }
            let mut at = 0;
            while at < n as usize {
                // linux_dirent64: d_ino u64, d_off i64, d_reclen u16, d_type u8, d_name.
                let d = &dents[at..];
                let ino = u64::from_ne_bytes(d[0..8].try_into().unwrap_or_default());
                let off = u64::from_ne_bytes(d[8..16].try_into().unwrap_or_default());
                let reclen = u16::from_ne_bytes(d[16..18].try_into().unwrap_or_default()) as usize;
                let dtype = d[18] as u32;
                let name = &d[19..reclen];
                let name = &name[..name.iter().position(|&b| b == 0).unwrap_or(name.len())];
                at += reclen;
                let dirent = fuse_dirent { ino, off, namelen: name.len() as u32, r#type: dtype, name: [] };
                let head = if plus { 152 } else { 24 };
                let len = align8(head + name.len());
                if used + len > size {
                    break 'fill;
                }
                let mut pos = used;
                if let Some(dir) = &dir {
                    let entry = if name == b"." || name == b".." {
                        // Node id 0: the kernel makes no dentry and takes no lookup count.
                        let mut e = fuse_entry_out::default();
                        e.attr.ino = ino;
                        e.attr.mode = dtype << 12;
                        e
                    } else {
                        let Ok(cname) = CString::new(name) else { continue };
                        match self.lookup_in(io, dir.fd.as_fd(), &cname) {
                            Ok(e) => e,
                            // Gone since getdents: leave it out.
                            Err(_) => continue,
                        }
                    };
                    pos = put(buf, pos, &entry);
                }
                pos = put(buf, pos, &dirent);
                buf[pos..pos + name.len()].copy_from_slice(name);
                buf[pos + name.len()..used + len].fill(0);
                used += len;
            }
        }
        Ok(used)
    }
}

/// Opens the source directory as an `O_PATH` descriptor and returns it with its key.
pub fn open_root(io: &mut Backing, path: &std::path::Path) -> Result<(OwnedFd, (u64, u64)), String> {
    let c = CString::new(path.as_os_str().as_encoded_bytes()).map_err(|_| "source path has a NUL byte".to_string())?;
    let cwd = rustix::fs::CWD;
    let fd = io
        .open_at(cwd, &c, OFlags::PATH | OFlags::DIRECTORY, Mode::empty())
        .map_err(|e| format!("cannot open {}: {e:?}", path.display()))?;
    let st = io.statx_fd(fd.as_fd()).map_err(|e| format!("cannot stat {}: {e:?}", path.display()))?;
    Ok((fd, key_of(&st)))
}
