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

/// A blocking wait run on a thread of its own; it polls its argument to learn whether the
/// request was interrupted.
type WaitJob = Box<dyn FnOnce(&dyn Fn() -> bool) -> Result<(), Errno> + Send>;

/// What a handler produced.
#[derive(Debug)]
pub enum Outcome {
    /// Success, with this many bytes of reply arguments in the payload buffer.
    Reply(usize),
    /// Failure with this errno (no reply arguments).
    Error(Errno),
    /// No reply at all (FORGET, BATCH_FORGET, INTERRUPT).
    NoReply,
    /// The answer needs a wait that must not hold up the thread (a blocking `flock`): the
    /// transport runs the job on a thread of its own and replies (with no arguments) when it
    /// returns, while it goes on serving other requests.
    Wait(Waiter),
}

impl From<IoResult<usize>> for Outcome {
    fn from(r: IoResult<usize>) -> Self {
        match r {
            Ok(n) => Outcome::Reply(n),
            Err(e) => Outcome::Error(e),
        }
    }
}

/// A job that blocks; its result becomes a reply without arguments. The job is given a
/// function that tells whether the kernel interrupted the request (INTERRUPT: the caller got a
/// signal); a signal then breaks the job's blocking call (`EINTR`), and the job gives up.
pub struct Waiter {
    job: WaitJob,
    unique: u64,
    waiting: Arc<Mutex<HashMap<u64, WaitSlot>>>,
}

/// A request waiting on a thread of its own.
struct WaitSlot {
    /// The waiting thread, once it runs.
    thread: Option<libc::pthread_t>,
    /// INTERRUPT came for the request.
    interrupted: bool,
}

impl core::fmt::Debug for Waiter {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Waiter(unique={})", self.unique)
    }
}

/// The signal that breaks a waiting job's call when its request is interrupted: a handler
/// that does nothing, installed without `SA_RESTART`, so the call fails with `EINTR`.
const WAKE_SIGNAL: libc::c_int = libc::SIGUSR1;

fn install_wake_signal() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    extern "C" fn nothing(_: libc::c_int) {}
    ONCE.call_once(|| {
        // SAFETY: `sigaction` is plain data, zeroes are valid; the handler is an
        // async-signal-safe function that does nothing.
        unsafe {
            let mut sa: libc::sigaction = core::mem::zeroed();
            sa.sa_sigaction = nothing as extern "C" fn(libc::c_int) as usize;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(WAKE_SIGNAL, &sa, core::ptr::null_mut());
        }
    });
}

impl Waiter {
    /// Runs the job on the calling thread (a thread of its own) and turns its result into the
    /// FUSE reply's error field.
    pub fn run(self) -> i32 {
        let Waiter { job, unique, waiting } = self;
        let lock = || waiting.lock().unwrap_or_else(|p| p.into_inner());
        {
            let mut w = lock();
            let Some(slot) = w.get_mut(&unique) else { return -libc::EINTR };
            if slot.interrupted {
                w.remove(&unique);
                return -libc::EINTR;
            }
            // SAFETY: no preconditions.
            slot.thread = Some(unsafe { libc::pthread_self() });
        }
        let interrupted = || lock().get(&unique).is_some_and(|s| s.interrupted);
        let r = job(&interrupted);
        // Removed before the thread ends: INTERRUPT signals only threads found here, under
        // the same lock.
        lock().remove(&unique);
        match r {
            Ok(()) => 0,
            Err(e) => -e.raw_os_error(),
        }
    }
}

struct Inode {
    /// `O_PATH | O_NOFOLLOW` descriptor of the source file.
    fd: OwnedFd,
    /// A symbolic link: its extended attributes are not reached through `/proc/self/fd` (the
    /// path would reach the link's target).
    symlink: bool,
    /// With `FUSE_PASSTHROUGH`: the backing id of the inode's open files and how many are
    /// open. The kernel passes every open file of an inode through to one backing file, so
    /// the first open registers one and the others share it; the last RELEASE closes it.
    backing: Mutex<(i32, u32)>,
}

impl Inode {
    fn new(fd: OwnedFd, symlink: bool) -> Arc<Inode> {
        Arc::new(Inode { fd, symlink, backing: Mutex::new((0, 0)) })
    }
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

/// Options of the file system, from the command line and the INIT negotiation.
#[derive(Debug, Clone, Copy, Default)]
pub struct FsOptions {
    /// Entry and attribute cache timeout.
    pub timeout: Duration,
    /// Open files with `FOPEN_DIRECT_IO`.
    pub direct_io: bool,
    /// `FUSE_WRITEBACK_CACHE` was negotiated: write-only opens become read-write (the kernel
    /// reads pages to fill them), `O_APPEND` is left to the kernel.
    pub writeback: bool,
    /// Log every request.
    pub debug: bool,
}

/// The shared state of the file system.
pub struct Passthrough {
    table: Mutex<Table>,
    opts: FsOptions,
    /// `FUSE_PASSTHROUGH` was negotiated: files are opened with `FOPEN_PASSTHROUGH` and a
    /// backing id registered on this device (`FUSE_DEV_IOC_BACKING_OPEN`), so the kernel reads
    /// and writes the backing file itself.
    passthrough: Option<Arc<std::fs::File>>,
    /// The inodes of handles opened in passthrough mode (`fh` -> inode), for RELEASE.
    passed: Mutex<HashMap<u64, Arc<Inode>>>,
    /// Requests waiting on threads of their own, by `unique`.
    waiting: Arc<Mutex<HashMap<u64, WaitSlot>>>,
    /// Opcodes answered with ENOSYS so far (each is named once on stderr).
    unhandled: Mutex<Vec<u32>>,
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
        rdev: encode_dev(st.stx_rdev_major, st.stx_rdev_minor),
        blksize: st.stx_blksize,
        flags: 0,
    }
}

/// A device number as FUSE carries it (the kernel's `new_encode_dev`).
fn encode_dev(major: u32, minor: u32) -> u32 {
    (minor & 0xff) | (major << 8) | ((minor & !0xff) << 12)
}

/// The kernel's `new_decode_dev`, as `dev_t`.
fn decode_dev(dev: u32) -> libc::dev_t {
    libc::makedev((dev & 0xfff00) >> 8, (dev & 0xff) | ((dev >> 12) & 0xfff00))
}

/// The result of a libc call that returns a length or -1.
fn len_of(ret: isize) -> IoResult<usize> {
    if ret < 0 {
        Err(last_errno())
    } else {
        Ok(ret as usize)
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
    /// `passthrough` is the FUSE device when `FUSE_PASSTHROUGH` was negotiated.
    pub fn new(root: OwnedFd, root_key: (u64, u64), opts: FsOptions, passthrough: Option<Arc<std::fs::File>>) -> Self {
        let mut nodes = HashMap::new();
        // The root is never forgotten: its count starts out of reach.
        let root = Inode::new(root, false);
        nodes.insert(FUSE_ROOT_ID, Node { inode: root, key: root_key, nlookup: 1 << 62 });
        let mut by_key = HashMap::new();
        by_key.insert(root_key, FUSE_ROOT_ID);
        Passthrough {
            table: Mutex::new(Table { nodes, by_key, next_id: FUSE_ROOT_ID + 1 }),
            opts,
            passthrough,
            passed: Mutex::new(HashMap::new()),
            waiting: Arc::new(Mutex::new(HashMap::new())),
            unhandled: Mutex::new(Vec::new()),
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
            entry_valid: self.opts.timeout.as_secs(),
            attr_valid: self.opts.timeout.as_secs(),
            entry_valid_nsec: self.opts.timeout.subsec_nanos(),
            attr_valid_nsec: self.opts.timeout.subsec_nanos(),
            attr: attr_of(st),
        }
    }

    fn attr_out(&self, st: &libc::statx) -> fuse_attr_out {
        fuse_attr_out {
            attr_valid: self.opts.timeout.as_secs(),
            attr_valid_nsec: self.opts.timeout.subsec_nanos(),
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
                let symlink = u32::from(st.stx_mode) & libc::S_IFMT == libc::S_IFLNK;
                t.nodes.insert(id, Node { inode: Inode::new(fd, symlink), key, nlookup: 1 });
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
        if matches!(out, Outcome::Error(e) if e == Errno::NOSYS) && !self.served(h.opcode) {
            let mut seen = self.unhandled.lock().unwrap_or_else(|p| p.into_inner());
            if !seen.contains(&h.opcode) {
                seen.push(h.opcode);
                eprintln!(
                    "fuse_passthrough: not implemented: {} (opcode {}), answered ENOSYS",
                    abi::opcode_name(h.opcode),
                    h.opcode
                );
            }
        }
        if self.opts.debug {
            eprintln!(
                "fuse_passthrough: {} ({}) unique={} nodeid={} -> {:?}",
                abi::opcode_name(h.opcode),
                h.opcode,
                h.unique,
                h.nodeid,
                out
            );
        }
        out
    }

    /// Whether `opcode` has a handler here (an ENOSYS from one of them is the backing file
    /// system's, not a missing operation).
    fn served(&self, opcode: u32) -> bool {
        !matches!(
            opcode,
            FUSE_BMAP
                | FUSE_IOCTL
                | FUSE_POLL
                | FUSE_NOTIFY_REPLY
                | FUSE_SETUPMAPPING
                | FUSE_REMOVEMAPPING
                | FUSE_SYNCFS
                | FUSE_TMPFILE
                | CUSE_INIT
        ) && abi::opcode_name(opcode) != "unknown"
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
            FUSE_INTERRUPT => {
                if let Some(unique) = op.get(..8) {
                    self.interrupt(u64::from_ne_bytes(unique.try_into().unwrap_or_default()));
                }
                Outcome::NoReply
            }
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
                let fh = arg!(fuse_release_in).fh;
                self.close_backing_id(fh);
                // SAFETY: the handle's descriptor is this server's, and RELEASE is the kernel's
                // last word on it: the server gives it up here.
                let fd = unsafe { OwnedFd::from_raw_fd(fh as RawFd) };
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
            FUSE_READLINK => self.readlink(h, buf).into(),
            FUSE_SYMLINK => self.symlink(io, h, buf, payload_end).into(),
            FUSE_MKNOD => self.mknod(io, h, &arg!(fuse_mknod_in), buf, payload_end).into(),
            FUSE_LINK => self.link(io, h, &arg!(fuse_link_in), buf, payload_end).into(),
            FUSE_GETXATTR => self.getxattr(io, h, &arg!(fuse_getxattr_in), buf, payload_end, false).into(),
            FUSE_LISTXATTR => self.getxattr(io, h, &arg!(fuse_getxattr_in), buf, payload_end, true).into(),
            FUSE_SETXATTR => {
                // The 8-byte compat header: `size` and `flags`.
                if op.len() < abi::SETXATTR_IN_COMPAT {
                    return Outcome::Error(Errno::INVAL);
                }
                let size = u32::from_ne_bytes([op[0], op[1], op[2], op[3]]) as usize;
                let flags = u32::from_ne_bytes([op[4], op[5], op[6], op[7]]);
                self.setxattr(io, h, size, flags, buf, payload_end).map(|()| 0).into()
            }
            FUSE_REMOVEXATTR => self.removexattr(h, buf, payload_end).map(|()| 0).into(),
            FUSE_FALLOCATE => {
                let f = arg!(fuse_fallocate_in);
                // SAFETY: as for FUSE_READ.
                let fd = unsafe { BorrowedFd::borrow_raw(f.fh as RawFd) };
                io.fallocate(fd, f.mode, f.offset, f.length).map(|()| 0).into()
            }
            FUSE_LSEEK => {
                let l = arg!(fuse_lseek_in);
                // No io_uring operation seeks. SAFETY: plain syscall on a handle's descriptor.
                let r = unsafe { libc::lseek(l.fh as RawFd, l.offset as libc::off_t, l.whence as libc::c_int) };
                match len_of(r as isize) {
                    Ok(off) => Outcome::Reply(put(buf, 0, &fuse_lseek_out { offset: off as u64 })),
                    Err(e) => Outcome::Error(e),
                }
            }
            FUSE_COPY_FILE_RANGE | FUSE_COPY_FILE_RANGE_64 => {
                let c = arg!(fuse_copy_file_range_in);
                let wide = h.opcode == FUSE_COPY_FILE_RANGE_64;
                // The 32-bit reply cannot say more than u32::MAX bytes.
                let len = if wide { c.len } else { c.len.min(u64::from(u32::MAX) & !0xfff) };
                let (mut off_in, mut off_out) = (c.off_in as libc::off_t, c.off_out as libc::off_t);
                // No io_uring operation copies ranges. SAFETY: plain syscall on two handles'
                // descriptors, with offsets in locals.
                let r = unsafe {
                    libc::copy_file_range(
                        c.fh_in as RawFd,
                        &mut off_in,
                        c.fh_out as RawFd,
                        &mut off_out,
                        len as usize,
                        c.flags as libc::c_uint,
                    )
                };
                match len_of(r) {
                    Ok(n) if wide => Outcome::Reply(put(buf, 0, &fuse_copy_file_range_out { bytes_copied: n as u64 })),
                    Ok(n) => Outcome::Reply(put(buf, 0, &fuse_write_out { size: n as u32, padding: 0 })),
                    Err(e) => Outcome::Error(e),
                }
            }
            FUSE_GETLK | FUSE_SETLK | FUSE_SETLKW => self.lock(h, &arg!(fuse_lk_in)),
            FUSE_STATX => self.statx(io, h, &arg!(fuse_statx_in), buf).into(),
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
    fn open_flags(&self, flags: u32) -> OFlags {
        let drop = OFlags::CREATE | OFlags::EXCL | OFlags::NOCTTY | OFlags::NOFOLLOW;
        self.writeback_flags(OFlags::from_bits_retain(flags as _) & !drop | OFlags::CLOEXEC)
    }

    /// With the writeback cache the kernel reads pages of files opened write-only (to fill
    /// partly written pages), and it appends by itself: such opens become read-write, and
    /// `O_APPEND` is dropped (the kernel sends the offsets).
    fn writeback_flags(&self, mut f: OFlags) -> OFlags {
        if self.opts.writeback {
            if f & OFlags::RWMODE == OFlags::WRONLY {
                f = f & !OFlags::RWMODE | OFlags::RDWR;
            }
            f &= !OFlags::APPEND;
        }
        f
    }

    /// The reply to OPEN, OPENDIR (`file` = `None`) and CREATE.
    fn open_out(&self, fh: RawFd, file: Option<&Arc<Inode>>) -> fuse_open_out {
        if let Some(inode) = file {
            if let Some(backing_id) = self.open_backing_id(fh, inode) {
                return fuse_open_out { fh: fh as u64, open_flags: FOPEN_PASSTHROUGH, backing_id };
            }
        }
        let dir = file.is_none();
        let open_flags = if self.opts.direct_io && !dir { FOPEN_DIRECT_IO | FOPEN_PARALLEL_DIRECT_WRITES } else { 0 };
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
        let mut flags = self.open_flags(o.flags);
        if dir {
            flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        }
        let fd = io.open_at(inode.fd.as_fd(), &path, flags, Mode::empty())?;
        let fh = std::os::fd::IntoRawFd::into_raw_fd(fd);
        Ok(put(buf, 0, &self.open_out(fh, (!dir).then_some(&inode))))
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
        let flags = self.writeback_flags(flags);
        let fd = io.open_at(parent.fd.as_fd(), &name, flags, Mode::from_bits_retain(c.mode as _))?;
        let entry = match self.lookup_in(io, parent.fd.as_fd(), &name) {
            Ok(e) => e,
            Err(e) => {
                let _ = io.close(fd);
                return Err(e);
            }
        };
        let inode = match self.inode(entry.nodeid) {
            Ok(i) => i,
            Err(e) => {
                let _ = io.close(fd);
                return Err(e);
            }
        };
        let fh = std::os::fd::IntoRawFd::into_raw_fd(fd);
        let at = put(buf, 0, &entry);
        Ok(put(buf, at, &self.open_out(fh, Some(&inode))))
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

    /// STATX (sent for `statx(2)` calls that want more than the basic attributes, such as
    /// the birth time): `statx(2)` of the source inode with the caller's mask.
    fn statx(&self, io: &mut Backing, h: &fuse_in_header, x: &fuse_statx_in, buf: &mut [u8]) -> IoResult<usize> {
        let inode = self.inode(h.nodeid)?;
        let mask = rustix::fs::StatxFlags::from_bits_retain(x.sx_mask) | rustix::fs::StatxFlags::BASIC_STATS;
        let st = io.statx_fd_mask(inode.fd.as_fd(), mask)?;
        let t = |t: libc::statx_timestamp| fuse_sx_time { tv_sec: t.tv_sec, tv_nsec: t.tv_nsec, __reserved: 0 };
        let stat = fuse_statx {
            mask: st.stx_mask,
            blksize: st.stx_blksize,
            attributes: st.stx_attributes,
            nlink: st.stx_nlink,
            uid: st.stx_uid,
            gid: st.stx_gid,
            mode: st.stx_mode,
            ino: st.stx_ino,
            size: st.stx_size,
            blocks: st.stx_blocks,
            attributes_mask: st.stx_attributes_mask,
            atime: t(st.stx_atime),
            btime: t(st.stx_btime),
            ctime: t(st.stx_ctime),
            mtime: t(st.stx_mtime),
            rdev_major: st.stx_rdev_major,
            rdev_minor: st.stx_rdev_minor,
            dev_major: st.stx_dev_major,
            dev_minor: st.stx_dev_minor,
            ..Default::default()
        };
        let out = fuse_statx_out {
            attr_valid: self.opts.timeout.as_secs(),
            attr_valid_nsec: self.opts.timeout.subsec_nanos(),
            stat,
            ..Default::default()
        };
        Ok(put(buf, 0, &out))
    }

    fn readlink(&self, h: &fuse_in_header, buf: &mut [u8]) -> IoResult<usize> {
        let inode = self.inode(h.nodeid)?;
        // No io_uring operation reads links: readlinkat(2) with an empty path reads the link
        // the O_PATH descriptor names.
        // SAFETY: the kernel writes at most `buf.len()` bytes into `buf`.
        len_of(unsafe { libc::readlinkat(inode.fd.as_raw_fd(), c"".as_ptr(), buf.as_mut_ptr().cast(), buf.len()) })
    }

    fn symlink(&self, io: &mut Backing, h: &fuse_in_header, buf: &mut [u8], end: usize) -> IoResult<usize> {
        // The link's name, then its target.
        let (name, target) = two_names(&buf[..end])?;
        let parent = self.inode(h.nodeid)?;
        io.symlink_at(&target, parent.fd.as_fd(), &name)?;
        let e = self.lookup_in(io, parent.fd.as_fd(), &name)?;
        Ok(put(buf, 0, &e))
    }

    fn mknod(
        &self,
        io: &mut Backing,
        h: &fuse_in_header,
        m: &fuse_mknod_in,
        buf: &mut [u8],
        end: usize,
    ) -> IoResult<usize> {
        let name = name_at(&buf[..end])?;
        let parent = self.inode(h.nodeid)?;
        // No io_uring operation makes nodes. The kernel applied the caller's umask already.
        // SAFETY: plain syscall with a NUL-terminated name.
        check(unsafe {
            libc::mknodat(parent.fd.as_raw_fd(), name.as_ptr(), m.mode as libc::mode_t, decode_dev(m.rdev))
        })?;
        let e = self.lookup_in(io, parent.fd.as_fd(), &name)?;
        Ok(put(buf, 0, &e))
    }

    fn link(
        &self,
        io: &mut Backing,
        h: &fuse_in_header,
        l: &fuse_link_in,
        buf: &mut [u8],
        end: usize,
    ) -> IoResult<usize> {
        let name = name_at(&buf[..end])?;
        let old = self.inode(l.oldnodeid)?;
        let parent = self.inode(h.nodeid)?;
        // linkat(2) through the magic link, followed: it names the inode itself (a symlink
        // too), with no need for CAP_DAC_READ_SEARCH as AT_EMPTY_PATH would have.
        io.link_at(&proc_path(&old.fd), parent.fd.as_fd(), &name, AtFlags::SYMLINK_FOLLOW)?;
        // The new name finds the existing node and counts one more lookup of it.
        let e = self.lookup_in(io, parent.fd.as_fd(), &name)?;
        Ok(put(buf, 0, &e))
    }

    /// Where the xattr calls reach the node's inode. They have no form for O_PATH
    /// descriptors (not even the `*xattrat(2)` calls of Linux 6.13 with an empty path: they
    /// refuse O_PATH descriptors with `EBADF`), so the inode is reached by the path
    /// `/proc/self/fd/N`, which the calls follow to the inode itself. From a symlink that
    /// would reach the link's target: a symlink's own attributes are out of reach, and its
    /// xattr requests are answered `EOPNOTSUPP`, as libfuse's passthrough_hp answers them.
    fn xattr_target(&self, nodeid: u64) -> IoResult<XattrTarget> {
        let inode = self.inode(nodeid)?;
        if inode.symlink {
            return Err(Errno::from_raw(libc::EOPNOTSUPP));
        }
        Ok(XattrTarget { path: proc_path(&inode.fd), _inode: inode })
    }

    /// GETXATTR (`list` = false, the payload is the name) and LISTXATTR: with `size` 0 the
    /// reply is the length only (`fuse_getxattr_out`), else the value or list itself.
    fn getxattr(
        &self,
        io: &mut Backing,
        h: &fuse_in_header,
        g: &fuse_getxattr_in,
        buf: &mut [u8],
        end: usize,
        list: bool,
    ) -> IoResult<usize> {
        let name = if list { None } else { Some(name_at(&buf[..end])?) };
        let target = self.xattr_target(h.nodeid)?;
        let size = (g.size as usize).min(buf.len());
        let out = &mut buf[..size];
        let n = match &name {
            Some(name) => io.getxattr(&target.path, name, out)?,
            // No io_uring operation lists attributes.
            // SAFETY: the kernel writes at most `out.len()` bytes into `out`.
            None => len_of(unsafe { libc::listxattr(target.path.as_ptr(), out.as_mut_ptr().cast(), out.len()) })?,
        };
        if g.size == 0 {
            return Ok(put(buf, 0, &fuse_getxattr_out { size: n as u32, padding: 0 }));
        }
        Ok(n)
    }

    fn setxattr(
        &self,
        io: &mut Backing,
        h: &fuse_in_header,
        size: usize,
        flags: u32,
        buf: &[u8],
        end: usize,
    ) -> IoResult<()> {
        let name = name_at(&buf[..end])?;
        let at = name.as_bytes().len() + 1;
        let value = buf.get(at..at + size).filter(|_| at + size <= end).ok_or(Errno::INVAL)?;
        io.setxattr(&self.xattr_target(h.nodeid)?.path, &name, value, flags)
    }

    fn removexattr(&self, h: &fuse_in_header, buf: &[u8], end: usize) -> IoResult<()> {
        let name = name_at(&buf[..end])?;
        let target = self.xattr_target(h.nodeid)?;
        // No io_uring operation removes attributes.
        // SAFETY: plain syscall with NUL-terminated strings.
        check(unsafe { libc::removexattr(target.path.as_ptr(), name.as_ptr()) })
    }

    /// GETLK, SETLK, SETLKW. Only `flock(2)` locks come here (`FUSE_FLOCK_LOCKS` with
    /// `--flock`, the default); POSIX locks stay in the kernel (`FUSE_POSIX_LOCKS` is not
    /// asked for), as with libfuse's passthrough_hp. A SETLKW that would block becomes a
    /// [`Outcome::Wait`]: the thread that serves it must go on serving, or the unlock that
    /// ends the wait could queue up behind it.
    fn lock(&self, h: &fuse_in_header, l: &fuse_lk_in) -> Outcome {
        let opcode = h.opcode;
        if l.lk_flags & FUSE_LK_FLOCK == 0 || opcode == FUSE_GETLK {
            return Outcome::Error(Errno::NOSYS);
        }
        let op = match l.lk.r#type as libc::c_int {
            libc::F_RDLCK => libc::LOCK_SH,
            libc::F_WRLCK => libc::LOCK_EX,
            libc::F_UNLCK => libc::LOCK_UN,
            _ => return Outcome::Error(Errno::INVAL),
        };
        // SAFETY: plain syscall on a handle's descriptor (open while a request uses it).
        match check(unsafe { libc::flock(l.fh as RawFd, op | libc::LOCK_NB) }) {
            Err(e) if e.raw_os_error() == libc::EWOULDBLOCK && opcode == FUSE_SETLKW => {
                // The waiter holds a duplicate: the lock belongs to the open file description,
                // which both descriptors share, and RELEASE may close the handle meanwhile.
                // SAFETY: plain syscall on a handle's descriptor.
                let dup = unsafe { libc::fcntl(l.fh as RawFd, libc::F_DUPFD_CLOEXEC, 0) };
                if dup < 0 {
                    return Outcome::Error(last_errno());
                }
                // SAFETY: `fcntl` just created `dup`; nothing else owns it.
                let dup = unsafe { OwnedFd::from_raw_fd(dup) };
                let job = move |interrupted: &dyn Fn() -> bool| loop {
                    // SAFETY: plain syscall on a descriptor this closure owns.
                    match check(unsafe { libc::flock(dup.as_raw_fd(), op) }) {
                        Err(e) if e.raw_os_error() == libc::EINTR && !interrupted() => continue,
                        r => return r,
                    }
                };
                self.waiter(h.unique, Box::new(job))
            }
            r => r.map(|()| 0).into(),
        }
    }

    /// A [`Waiter`] for request `unique`, known to INTERRUPT from now on.
    fn waiter(&self, unique: u64, job: WaitJob) -> Outcome {
        install_wake_signal();
        let waiting = self.waiting.clone();
        waiting.lock().unwrap_or_else(|p| p.into_inner()).insert(unique, WaitSlot { thread: None, interrupted: false });
        Outcome::Wait(Waiter { job, unique, waiting })
    }

    /// INTERRUPT of request `unique`: if it waits on a thread of its own, that thread's call
    /// is broken with a signal and the request answered `EINTR`. Other requests finish on
    /// their own (none of them blocks).
    fn interrupt(&self, unique: u64) {
        let mut w = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(slot) = w.get_mut(&unique) {
            slot.interrupted = true;
            if let Some(thread) = slot.thread {
                // SAFETY: the thread is alive: it removes its slot, under this lock, before
                // it ends.
                unsafe { libc::pthread_kill(thread, WAKE_SIGNAL) };
            }
        }
    }

    /// With `FUSE_PASSTHROUGH`: the backing id for a new open file `fd` of `inode`, the
    /// inode's own if one of its files is open already, else `fd` registered as its backing
    /// file (`FUSE_DEV_IOC_BACKING_OPEN`). `None` (the file is served by this server) if the
    /// kernel refuses.
    fn open_backing_id(&self, fd: RawFd, inode: &Arc<Inode>) -> Option<i32> {
        let dev = self.passthrough.as_ref()?;
        let mut backing = inode.backing.lock().unwrap_or_else(|p| p.into_inner());
        if backing.1 == 0 {
            let map = fuse_backing_map { fd, flags: 0, padding: 0 };
            // SAFETY: the ioctl reads one `fuse_backing_map`, which lives across the call.
            let id = unsafe { libc::ioctl(dev.as_raw_fd(), FUSE_DEV_IOC_BACKING_OPEN as _, &map) };
            if id < 0 {
                if self.opts.debug {
                    eprintln!("fuse_passthrough: FUSE_DEV_IOC_BACKING_OPEN: {:?}", last_errno());
                }
                return None;
            }
            backing.0 = id;
        }
        backing.1 += 1;
        self.passed.lock().unwrap_or_else(|p| p.into_inner()).insert(fd as u64, inode.clone());
        Some(backing.0)
    }

    /// At RELEASE of `fh`: closes its inode's backing id if it was the inode's last open file.
    fn close_backing_id(&self, fh: u64) {
        let Some(dev) = &self.passthrough else { return };
        let Some(inode) = self.passed.lock().unwrap_or_else(|p| p.into_inner()).remove(&fh) else { return };
        let mut backing = inode.backing.lock().unwrap_or_else(|p| p.into_inner());
        backing.1 -= 1;
        if backing.1 > 0 {
            return;
        }
        let id = std::mem::take(&mut backing.0) as u32;
        // SAFETY: the ioctl reads one `u32` backing id, which lives across the call.
        if unsafe { libc::ioctl(dev.as_raw_fd(), FUSE_DEV_IOC_BACKING_CLOSE as _, &id) } < 0 {
            eprintln!("fuse_passthrough: FUSE_DEV_IOC_BACKING_CLOSE {id}: {:?}", last_errno());
        }
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

/// How the xattr calls reach a node (see [`Passthrough::xattr_target`]).
struct XattrTarget {
    path: CString,
    /// The node whose descriptor the path names (kept open while the path is used).
    _inode: Arc<Inode>,
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
