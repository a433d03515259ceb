//! Encoders of the miscellaneous operations: legacy provided buffers, splice/tee/pipe, file
//! table updates, fixed-fd install, epoll, waitid.

use core::marker::PhantomData;
use std::os::fd::{AsFd, AsRawFd, RawFd};

use bitflags::bitflags;
use uring_uapi::*;

use crate::op::{len32, prep_rw, set_target, DestSlot, Fixed, Target};
use crate::sqe::{FdSqe, SafeSqe, Sqe};

/// The most buffers one legacy group can hold, and the bound on `bid + nr` (`MAX_BIDS_PER_BGID`).
const MAX_BIDS_PER_BGID: u32 = 1 << 16;

/// `IORING_OP_PROVIDE_BUFFERS`: hands `nr` buffers of `buf_len` bytes each, carved in order out
/// of a caller memory area, to the legacy buffer group `bgid`, numbering them from `bid`
/// (`io_uring_prep_provide_buffers(3)`, Linux 5.7).
///
/// Reads and receives with `IOSQE_BUFFER_SELECT` on that group (select it with
/// [`BufGroupId`](crate::op::BufGroupId)) then take one buffer each and report its id in the
/// completion flags. The completion's result is 0 on success.
///
/// Memory: the whole area stays registered with the kernel, which writes into it whenever an
/// operation consumes one of the buffers, so it must stay alive and unmoved until every buffer
/// has been consumed by a completed operation or removed with [`RemoveBuffers`].
#[derive(Debug, Clone, Copy)]
pub struct ProvideBuffers<'a> {
    addr: u64,
    buf_len: u32,
    nr: u32,
    bgid: u16,
    bid: u16,
    _mem: PhantomData<&'a mut [u8]>,
}

impl<'a> ProvideBuffers<'a> {
    /// The operation code, `IORING_OP_PROVIDE_BUFFERS`.
    pub const CODE: u8 = IORING_OP_PROVIDE_BUFFERS;

    /// Provides `nr` buffers of `buf_len` bytes from the start of `mem` to group `bgid`, with
    /// ids `bid`, `bid + 1`, ...
    ///
    /// Refuses (with [`Error::MemoryTooSmall`](crate::Error::MemoryTooSmall) or
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument)) an area smaller than
    /// `buf_len * nr`, a zero `buf_len` or `nr`, and more than 65536 buffers (`bid + nr` too).
    /// See `io_uring_prep_provide_buffers(3)` (Linux 5.7).
    pub fn new(mem: &'a mut [u8], buf_len: u32, nr: u32, bgid: u16, bid: u16) -> crate::Result<Self> {
        if buf_len == 0 {
            return Err(crate::Error::InvalidArgument { what: "buf_len", reason: "buffers must not be empty" });
        }
        if nr == 0 || nr > MAX_BIDS_PER_BGID {
            return Err(crate::Error::InvalidArgument { what: "nr", reason: "must be between 1 and 65536" });
        }
        if u32::from(bid) + nr > MAX_BIDS_PER_BGID {
            return Err(crate::Error::InvalidArgument { what: "bid", reason: "bid + nr must not exceed 65536" });
        }
        let needed = (buf_len as usize).checked_mul(nr as usize).ok_or(crate::Error::InvalidArgument {
            what: "buf_len",
            reason: "buf_len * nr overflows the address space",
        })?;
        if needed > mem.len() {
            return Err(crate::Error::MemoryTooSmall { needed, provided: mem.len() });
        }
        Ok(ProvideBuffers { addr: mem.as_mut_ptr() as u64, buf_len, nr, bgid, bid, _mem: PhantomData })
    }

    /// The entry. See the type's docs for the memory that must outlive the buffers.
    /// Encodes `IORING_OP_PROVIDE_BUFFERS`.
    #[inline]
    pub const fn build(self) -> Sqe {
        let mut sqe = prep_rw(Self::CODE, self.nr as i32, self.addr, self.buf_len, self.bid as u64);
        sqe.0.buf.buf_group = self.bgid;
        sqe
    }
}

value_op! {
    /// `IORING_OP_REMOVE_BUFFERS`: takes back up to `nr` unused buffers from the legacy group
    /// `bgid` (`io_uring_prep_remove_buffers(3)`, Linux 5.7). The result is the number removed.
    pub struct RemoveBuffers(IORING_OP_REMOVE_BUFFERS) -> SafeSqe {
        /// Removes up to `nr` buffers of group `bgid`. The kernel refuses (`-EINVAL`) `nr` of 0
        /// or more than 65536.
        /// See `io_uring_prep_remove_buffers(3)` (Linux 5.7).
        [const] fn new(nr: u32, bgid: u16);
    }
    /// The entry.
    /// Encodes `IORING_OP_REMOVE_BUFFERS`.
    fn build(self) {
        // `nr` above i32::MAX reaches the kernel as a negative count, which it refuses.
        let mut sqe = prep_rw(Self::CODE, self.nr as i32, 0, 0, 0);
        sqe.0.buf.buf_group = self.bgid;
        sqe
    }
}

bitflags! {
    /// `splice(2)` flags (`SPLICE_F_*`) for [`Splice`] and [`Tee`].
    /// For `IORING_OP_SPLICE` (Linux 5.7) and `IORING_OP_TEE` (Linux 5.8).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct SpliceFlags: u32 {
        /// `SPLICE_F_MOVE`: move pages instead of copying (a hint).
        const MOVE = libc::SPLICE_F_MOVE;
        /// `SPLICE_F_NONBLOCK`: do not block on the pipes.
        const NONBLOCK = libc::SPLICE_F_NONBLOCK;
        /// `SPLICE_F_MORE`: more data will follow.
        const MORE = libc::SPLICE_F_MORE;
        /// `SPLICE_F_GIFT`: unused for splice.
        const GIFT = libc::SPLICE_F_GIFT;
    }
}

value_op! {
    /// `IORING_OP_SPLICE`: moves up to `len` bytes from one file to another, one of them a pipe,
    /// without copying through user space (`io_uring_prep_splice(3)`, `splice(2)`, Linux 5.7).
    /// The result is the number of bytes moved.
    ///
    /// A registered input file ([`Target::fixed`]) sets `SPLICE_F_FD_IN_FIXED`; a registered
    /// output file sets `IOSQE_FIXED_FILE`. Offsets default to "none" (-1): the file position is
    /// used and advanced, as pipes require.
    pub struct Splice(IORING_OP_SPLICE) -> FdSqe {
        /// Moves up to `len` bytes from `fd_in` to `fd_out`.
        /// See `io_uring_prep_splice(3)` (Linux 5.7).
        fn new(fd_in: Target, fd_out: Target, len: u32);
        set {
            /// Reads `fd_in` at offset `off_in` (not a pipe) instead of at its file position.
            off_in: u64 = u64::MAX,
            /// Writes `fd_out` at offset `off_out` (not a pipe) instead of at its file position.
            off_out: u64 = u64::MAX,
        }
        hold { flags: SpliceFlags = SpliceFlags::empty() }
    }
    /// The entry.
    /// Encodes `IORING_OP_SPLICE`.
    fn build(self) {
        let mut sqe = prep_rw(Self::CODE, 0, 0, self.len, self.off_out);
        set_target(&mut sqe, self.fd_out);
        sqe.0.addr.splice_off_in = self.off_in;
        sqe.0.file.splice_fd_in = self.fd_in.sqe_fd();
        sqe.0.op_flags.splice_flags = splice_flags(self.flags, self.fd_in);
        sqe
    }
}

impl Splice {
    /// Adds `SPLICE_F_*` flags (`SPLICE_F_FD_IN_FIXED` is left out: the encoder sets it from
    /// the input [`Target`]).
    #[inline]
    #[must_use]
    pub const fn flags(mut self, flags: SpliceFlags) -> Self {
        self.flags = add_splice_flags(self.flags, flags);
        self
    }
}

/// `flags` added to `to`, without `SPLICE_F_FD_IN_FIXED`, which belongs to the encoder.
#[inline]
const fn add_splice_flags(to: SpliceFlags, flags: SpliceFlags) -> SpliceFlags {
    to.union(SpliceFlags::from_bits_retain(flags.bits() & !SPLICE_F_FD_IN_FIXED))
}

/// `sqe.splice_flags`: the flags, plus `SPLICE_F_FD_IN_FIXED` for a registered input file.
#[inline]
const fn splice_flags(flags: SpliceFlags, fd_in: Target) -> u32 {
    flags.bits() | if fd_in.is_fixed() { SPLICE_F_FD_IN_FIXED } else { 0 }
}

value_op! {
    /// `IORING_OP_TEE`: duplicates up to `len` bytes from one pipe into another without
    /// consuming them (`io_uring_prep_tee(3)`, `tee(2)`, Linux 5.8). The result is the number of
    /// bytes duplicated.
    ///
    /// A registered input pipe sets `SPLICE_F_FD_IN_FIXED`; a registered output pipe sets
    /// `IOSQE_FIXED_FILE`.
    pub struct Tee(IORING_OP_TEE) -> FdSqe {
        /// Duplicates up to `len` bytes from the pipe `fd_in` into the pipe `fd_out`.
        /// See `io_uring_prep_tee(3)` (Linux 5.8).
        fn new(fd_in: Target, fd_out: Target, len: u32);
        hold { flags: SpliceFlags = SpliceFlags::empty() }
    }
    /// The entry.
    /// Encodes `IORING_OP_TEE`.
    fn build(self) {
        let mut sqe = prep_rw(Self::CODE, 0, 0, self.len, 0);
        set_target(&mut sqe, self.fd_out);
        sqe.0.file.splice_fd_in = self.fd_in.sqe_fd();
        sqe.0.op_flags.splice_flags = splice_flags(self.flags, self.fd_in);
        sqe
    }
}

impl Tee {
    /// Adds `SPLICE_F_*` flags (`SPLICE_F_FD_IN_FIXED` is left out: the encoder sets it from
    /// the input [`Target`]).
    #[inline]
    #[must_use]
    pub const fn flags(mut self, flags: SpliceFlags) -> Self {
        self.flags = add_splice_flags(self.flags, flags);
        self
    }
}

bitflags! {
    /// `pipe2(2)` flags for [`Pipe`].
    /// For `IORING_OP_PIPE` (Linux 6.16).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct PipeFlags: u32 {
        /// `O_CLOEXEC`: close both ends on `execve(2)`.
        const CLOEXEC = libc::O_CLOEXEC as u32;
        /// `O_NONBLOCK`: both ends non-blocking.
        const NONBLOCK = libc::O_NONBLOCK as u32;
        /// `O_DIRECT`: packet mode.
        const DIRECT = libc::O_DIRECT as u32;
    }
}

/// `IORING_OP_PIPE`: creates a pipe and writes its read and write ends into `fds`
/// (`io_uring_prep_pipe(3)`, `pipe2(2)`, Linux 6.16); with [`dest`](Pipe::dest), into the
/// registered file table instead (`io_uring_prep_pipe_direct(3)`): `fds` then receives the two
/// slots. The result is 0.
///
/// Memory: `fds` must stay alive until the operation completes (the kernel writes it).
#[derive(Debug)]
pub struct Pipe<'a> {
    fds: &'a mut [i32; 2],
    flags: PipeFlags,
    dest: DestSlot,
}

impl<'a> Pipe<'a> {
    /// The operation code, `IORING_OP_PIPE`.
    pub const CODE: u8 = IORING_OP_PIPE;

    /// Creates a pipe whose two fds (read end, write end) are written into `fds`.
    /// See `io_uring_prep_pipe(3)` (Linux 6.16).
    #[inline]
    pub fn new(fds: &'a mut [i32; 2]) -> Self {
        Pipe { fds, flags: PipeFlags::empty(), dest: DestSlot::Fd }
    }

    /// Adds `pipe2(2)` flags.
    #[inline]
    pub fn flags(mut self, flags: PipeFlags) -> Self {
        self.flags = self.flags.union(flags);
        self
    }

    /// Installs both ends as direct descriptors: [`DestSlot::Fixed`]`(n)` puts them in slots `n`
    /// and `n + 1`, [`DestSlot::Alloc`] in two free slots. The slots are written into `fds`.
    #[inline]
    pub fn dest(mut self, dest: DestSlot) -> Self {
        self.dest = dest;
        self
    }

    /// The entry. See the type's docs for the memory that must outlive it.
    /// Encodes `IORING_OP_PIPE`.
    #[inline]
    pub fn build(self) -> Sqe {
        let mut sqe = prep_rw(Self::CODE, 0, self.fds.as_mut_ptr() as u64, 0, 0);
        sqe.0.op_flags.pipe_flags = self.flags.bits();
        sqe.0.file.file_index = self.dest.file_index();
        sqe
    }
}

/// `IORING_OP_FILES_UPDATE`: replaces a run of the ring's registered file table with `fds`
/// (`io_uring_prep_files_update(3)`, Linux 5.6). Entries of -1 empty a slot,
/// `IORING_REGISTER_FILES_SKIP` (-2) leaves it as it is. The result is the number of slots
/// updated.
///
/// With [`alloc`](FilesUpdate::alloc), the files go to free slots and the kernel writes the
/// slot chosen for each back into the array (Linux 5.19).
///
/// Memory: the array must stay alive until the operation completes.
#[derive(Debug)]
pub struct FilesUpdate<'a> {
    fds: *const i32,
    nr: u32,
    offset: u32,
    _mem: PhantomData<&'a mut [i32]>,
}

impl<'a> FilesUpdate<'a> {
    /// The operation code, `IORING_OP_FILES_UPDATE`.
    pub const CODE: u8 = IORING_OP_FILES_UPDATE;

    /// Puts `fds` into the slots starting at `offset`. Refuses more than `u32::MAX` fds.
    /// See `io_uring_prep_files_update(3)` (Linux 5.6).
    #[inline]
    pub fn new(fds: &'a [i32], offset: u32) -> crate::Result<Self> {
        Ok(FilesUpdate { fds: fds.as_ptr(), nr: len32(fds.len(), "fds")?, offset, _mem: PhantomData })
    }

    /// Puts `fds` into free slots (`IORING_FILE_INDEX_ALLOC`); the kernel replaces each fd in the
    /// array with its slot. Refuses more than `u32::MAX` fds.
    /// Linux 5.19.
    #[inline]
    pub fn alloc(fds: &'a mut [i32]) -> crate::Result<Self> {
        Ok(FilesUpdate {
            fds: fds.as_mut_ptr(),
            nr: len32(fds.len(), "fds")?,
            offset: IORING_FILE_INDEX_ALLOC,
            _mem: PhantomData,
        })
    }

    /// The entry. See the type's docs for the memory that must outlive it.
    /// Encodes `IORING_OP_FILES_UPDATE`.
    #[inline]
    pub fn build(self) -> Sqe {
        prep_rw(Self::CODE, -1, self.fds as u64, self.nr, self.offset as u64)
    }
}

value_op! {
    /// `IORING_OP_FIXED_FD_INSTALL`: gives a registered file (direct descriptor) an ordinary fd
    /// in the process's table (`io_uring_prep_fixed_fd_install(3)`, Linux 6.8). The result is
    /// the new fd, `O_CLOEXEC` unless [`no_cloexec`](FixedFdInstall::no_cloexec).
    pub struct FixedFdInstall(IORING_OP_FIXED_FD_INSTALL) -> SafeSqe {
        /// Installs the file in registered slot `slot`.
        /// See `io_uring_prep_fixed_fd_install(3)` (Linux 6.8).
        [const] fn new(slot: Fixed);
        hold { flags: u32 = 0 }
        flags {
            /// `IORING_FIXED_FD_NO_CLOEXEC`: the new fd stays open across `execve(2)`.
            no_cloexec: flags |= IORING_FIXED_FD_NO_CLOEXEC,
        }
    }
    /// The entry.
    /// Encodes `IORING_OP_FIXED_FD_INSTALL`.
    fn build(self) {
        let mut sqe = prep_rw(Self::CODE, 0, 0, 0, 0);
        set_target(&mut sqe, Target::fixed(self.slot.0));
        sqe.0.op_flags.install_fd_flags = self.flags;
        sqe
    }
}

/// `IORING_OP_EPOLL_CTL`: adds, changes or removes a file of an epoll instance
/// (`io_uring_prep_epoll_ctl(3)`, `epoll_ctl(2)`, Linux 5.6). The result is 0.
///
/// Both fds are plain descriptors (the operation takes no registered files), borrowed here
/// and named by the entry: they must stay open until the completion (the push is `unsafe`
/// anyway, for the event).
///
/// Memory: the event (for add and modify) must stay alive until the operation completes (the
/// kernel copies it when it consumes the entry).
#[derive(Debug, Clone, Copy)]
pub struct EpollCtl<'a> {
    epfd: RawFd,
    fd: RawFd,
    op: i32,
    event: Option<&'a libc::epoll_event>,
}

impl<'a> EpollCtl<'a> {
    /// The operation code, `IORING_OP_EPOLL_CTL`.
    pub const CODE: u8 = IORING_OP_EPOLL_CTL;

    /// `EPOLL_CTL_ADD`: watches `fd` in `epfd` for `event`.
    /// `IORING_OP_EPOLL_CTL`, Linux 5.6.
    #[inline]
    pub fn add(epfd: impl AsFd, fd: impl AsFd, event: &'a libc::epoll_event) -> Self {
        EpollCtl { epfd: raw(epfd), fd: raw(fd), op: libc::EPOLL_CTL_ADD, event: Some(event) }
    }

    /// `EPOLL_CTL_MOD`: changes what `epfd` watches `fd` for.
    /// `IORING_OP_EPOLL_CTL`, Linux 5.6.
    #[inline]
    pub fn modify(epfd: impl AsFd, fd: impl AsFd, event: &'a libc::epoll_event) -> Self {
        EpollCtl { epfd: raw(epfd), fd: raw(fd), op: libc::EPOLL_CTL_MOD, event: Some(event) }
    }

    /// `EPOLL_CTL_DEL`: stops watching `fd` in `epfd`.
    /// `IORING_OP_EPOLL_CTL`, Linux 5.6.
    #[inline]
    pub fn delete(epfd: impl AsFd, fd: impl AsFd) -> Self {
        EpollCtl { epfd: raw(epfd), fd: raw(fd), op: libc::EPOLL_CTL_DEL, event: None }
    }

    /// The entry. See the type's docs for the memory that must outlive it.
    /// Encodes `IORING_OP_EPOLL_CTL`.
    #[inline]
    pub fn build(self) -> Sqe {
        let ev = match self.event {
            Some(ev) => ev as *const libc::epoll_event as u64,
            None => 0,
        };
        prep_rw(Self::CODE, self.epfd, ev, self.op as u32, self.fd as u32 as u64)
    }
}

/// The number of a borrowed fd, for an entry.
#[inline]
fn raw(fd: impl AsFd) -> RawFd {
    fd.as_fd().as_raw_fd()
}

/// The most events one epoll wait can return (the kernel's `EP_MAX_EVENTS`).
const EP_MAX_EVENTS: usize = i32::MAX as usize / core::mem::size_of::<libc::epoll_event>();

/// `IORING_OP_EPOLL_WAIT`: waits for events on an epoll instance and stores them in `events`
/// (`io_uring_prep_epoll_wait(3)`, `epoll_wait(2)`, Linux 6.15). The result is the number of
/// events stored.
///
/// liburing's `flags` argument lands in `sqe.rw_flags`, which the kernel refuses unless 0
/// (`EINVAL`): it is not offered.
///
/// Memory: `events` must stay alive until the operation completes (the kernel writes it).
#[derive(Debug)]
pub struct EpollWait<'a> {
    epfd: Target,
    events: &'a mut [libc::epoll_event],
}

impl<'a> EpollWait<'a> {
    /// The operation code, `IORING_OP_EPOLL_WAIT`.
    pub const CODE: u8 = IORING_OP_EPOLL_WAIT;

    /// Waits on `epfd`, storing up to `events.len()` events (capped at the kernel's
    /// `EP_MAX_EVENTS`; the kernel refuses an empty array with `-EINVAL`).
    /// See `io_uring_prep_epoll_wait(3)` (Linux 6.15).
    #[inline]
    pub fn new(epfd: impl Into<Target>, events: &'a mut [libc::epoll_event]) -> Self {
        EpollWait { epfd: epfd.into(), events }
    }

    /// The entry. See the type's docs for the memory that must outlive it.
    /// Encodes `IORING_OP_EPOLL_WAIT`.
    #[inline]
    pub fn build(self) -> Sqe {
        let max = self.events.len().min(EP_MAX_EVENTS) as u32;
        let mut sqe = prep_rw(Self::CODE, 0, self.events.as_mut_ptr() as u64, max, 0);
        set_target(&mut sqe, self.epfd);
        sqe
    }
}

/// Which children a [`Waitid`] waits for (`waitid(2)`'s `idtype` and `id`).
/// (`IORING_OP_WAITID`, Linux 6.7.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WaitId {
    /// `P_ALL`: any child.
    All,
    /// `P_PID`: the child with this process id.
    Pid(libc::pid_t),
    /// `P_PGID`: any child in this process group (0: the caller's group).
    Pgid(libc::pid_t),
    /// `P_PIDFD`: the child this pidfd refers to (Linux 5.4 for `waitid(2)`). The kernel takes
    /// ordinary fds only: a registered slot is encoded as fd -1, which it refuses (`EBADF`).
    PidFd(Target),
}

impl WaitId {
    const fn parts(self) -> (u32, i32) {
        match self {
            WaitId::All => (libc::P_ALL, 0),
            WaitId::Pid(pid) => (libc::P_PID, pid),
            WaitId::Pgid(pgid) => (libc::P_PGID, pgid),
            WaitId::PidFd(fd) => (libc::P_PIDFD, if fd.is_fixed() { -1 } else { fd.sqe_fd() }),
        }
    }
}

bitflags! {
    /// `waitid(2)` options: which state changes to wait for.
    /// For `IORING_OP_WAITID` (Linux 6.7).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct WaitidOptions: u32 {
        /// `WEXITED`: children that terminated.
        const EXITED = libc::WEXITED as u32;
        /// `WSTOPPED`: children stopped by a signal.
        const STOPPED = libc::WSTOPPED as u32;
        /// `WCONTINUED`: stopped children resumed by `SIGCONT`.
        const CONTINUED = libc::WCONTINUED as u32;
        /// `WNOHANG`: complete at once if no child has changed state.
        const NOHANG = libc::WNOHANG as u32;
        /// `WNOWAIT`: leave the child waitable.
        const NOWAIT = libc::WNOWAIT as u32;
        /// `__WALL`: wait for all children, clone or not.
        const ALL = libc::__WALL as u32;
        /// `__WCLONE`: wait for clone children only.
        const CLONE = libc::__WCLONE as u32;
        /// `__WNOTHREAD`: do not wait for children of other threads of the group.
        const NOTHREAD = libc::__WNOTHREAD as u32;
    }
}

/// `IORING_OP_WAITID`: waits for a child process to change state and fills `info`
/// (`io_uring_prep_waitid(3)`, `waitid(2)`, Linux 6.7). The result is 0.
///
/// liburing's `flags` argument lands in `sqe.waitid_flags`, which the kernel refuses unless 0
/// (`EINVAL`): it is not offered.
///
/// Memory: `info` must stay alive until the operation completes (the kernel writes it).
#[derive(Debug)]
pub struct Waitid<'a> {
    which: WaitId,
    info: &'a mut libc::siginfo_t,
    options: WaitidOptions,
}

impl<'a> Waitid<'a> {
    /// The operation code, `IORING_OP_WAITID`.
    pub const CODE: u8 = IORING_OP_WAITID;

    /// Waits for `which` to change state as `options` ask (e.g. [`WaitidOptions::EXITED`]),
    /// filling `info`.
    /// See `io_uring_prep_waitid(3)` (Linux 6.7).
    #[inline]
    pub fn new(which: WaitId, info: &'a mut libc::siginfo_t, options: WaitidOptions) -> Self {
        Waitid { which, info, options }
    }

    /// The entry. See the type's docs for the memory that must outlive it.
    /// Encodes `IORING_OP_WAITID`.
    #[inline]
    pub fn build(self) -> Sqe {
        let (idtype, id) = self.which.parts();
        let mut sqe = prep_rw(Self::CODE, id, 0, idtype, 0);
        sqe.0.off.addr2 = self.info as *mut libc::siginfo_t as u64;
        sqe.0.file.file_index = self.options.bits();
        sqe
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::op::test_util::{check, Fields};

    /// A borrowed fd number, for encodings that are only inspected.
    fn fd(n: RawFd) -> std::os::fd::BorrowedFd<'static> {
        // SAFETY: the entries built from it are compared field by field, never submitted, so
        // the number is never used as a file.
        unsafe { std::os::fd::BorrowedFd::borrow_raw(n) }
    }

    #[test]
    fn encodings() {
        let mut mem = vec![0u8; 4096];
        let mem_addr = mem.as_ptr() as u64;
        let mut pipe_fds = [-1i32; 2];
        let pipe_addr = pipe_fds.as_ptr() as u64;
        let update = [3, -1, -2];
        let mut alloc = [3, 4];
        let alloc_addr = alloc.as_ptr() as u64;
        let ev = libc::epoll_event { events: libc::EPOLLIN as u32, u64: 5 };
        let ev_addr = &ev as *const libc::epoll_event as u64;
        let mut evs = [libc::epoll_event { events: 0, u64: 0 }; 4];
        let evs_addr = evs.as_ptr() as u64;
        let mut info: libc::siginfo_t = crate::util::zeroed();
        let info_addr = &info as *const libc::siginfo_t as u64;
        let cloexec_nonblock = PipeFlags::CLOEXEC | PipeFlags::NONBLOCK;
        check(&[
            (
                "provide_buffers",
                ProvideBuffers::new(&mut mem, 512, 8, 7, 3).unwrap().build(),
                Fields {
                    opcode: IORING_OP_PROVIDE_BUFFERS,
                    fd: 8,
                    addr: mem_addr,
                    len: 512,
                    off: 3,
                    buf: 7,
                    ..Default::default()
                },
            ),
            (
                "remove_buffers",
                RemoveBuffers::new(5, 9).build().into(),
                Fields { opcode: IORING_OP_REMOVE_BUFFERS, fd: 5, buf: 9, ..Default::default() },
            ),
            (
                "splice",
                Splice::new(Target::raw(3), Target::raw(4), 100).build().into(),
                Fields {
                    opcode: IORING_OP_SPLICE,
                    fd: 4,
                    addr: u64::MAX,
                    off: u64::MAX,
                    len: 100,
                    file: 3,
                    ..Default::default()
                },
            ),
            (
                "splice at offsets, fixed files",
                Splice::new(Fixed(1), Fixed(2), 7).off_in(10).off_out(20).flags(SpliceFlags::MOVE).build().into(),
                Fields {
                    opcode: IORING_OP_SPLICE,
                    flags: IOSQE_FIXED_FILE,
                    fd: 2,
                    addr: 10,
                    off: 20,
                    len: 7,
                    op_flags: SPLICE_F_FD_IN_FIXED | libc::SPLICE_F_MOVE,
                    file: 1,
                    ..Default::default()
                },
            ),
            (
                "splice: FD_IN_FIXED comes from the target, not from flags",
                Splice::new(Target::raw(1), Target::raw(2), 7)
                    .flags(SpliceFlags::from_bits_retain(SPLICE_F_FD_IN_FIXED))
                    .build()
                    .into(),
                Fields {
                    opcode: IORING_OP_SPLICE,
                    fd: 2,
                    addr: u64::MAX,
                    off: u64::MAX,
                    len: 7,
                    file: 1,
                    ..Default::default()
                },
            ),
            (
                "tee",
                Tee::new(Target::raw(3), Target::raw(4), 9).flags(SpliceFlags::NONBLOCK).build().into(),
                Fields {
                    opcode: IORING_OP_TEE,
                    fd: 4,
                    len: 9,
                    op_flags: libc::SPLICE_F_NONBLOCK,
                    file: 3,
                    ..Default::default()
                },
            ),
            (
                "tee from a fixed pipe",
                Tee::new(Fixed(5), Target::raw(4), 9).build().into(),
                Fields {
                    opcode: IORING_OP_TEE,
                    fd: 4,
                    len: 9,
                    op_flags: SPLICE_F_FD_IN_FIXED,
                    file: 5,
                    ..Default::default()
                },
            ),
            (
                "pipe",
                Pipe::new(&mut pipe_fds).flags(cloexec_nonblock).build(),
                Fields {
                    opcode: IORING_OP_PIPE,
                    addr: pipe_addr,
                    op_flags: (libc::O_CLOEXEC | libc::O_NONBLOCK) as u32,
                    ..Default::default()
                },
            ),
            (
                "pipe_direct",
                Pipe::new(&mut pipe_fds).dest(DestSlot::Fixed(4)).build(),
                Fields { opcode: IORING_OP_PIPE, addr: pipe_addr, file: 5, ..Default::default() },
            ),
            (
                "pipe_direct, allocated slots",
                Pipe::new(&mut pipe_fds).dest(DestSlot::Alloc).build(),
                Fields { opcode: IORING_OP_PIPE, addr: pipe_addr, file: IORING_FILE_INDEX_ALLOC, ..Default::default() },
            ),
            (
                "files_update",
                FilesUpdate::new(&update, 7).unwrap().build(),
                Fields {
                    opcode: IORING_OP_FILES_UPDATE,
                    fd: -1,
                    addr: update.as_ptr() as u64,
                    len: 3,
                    off: 7,
                    ..Default::default()
                },
            ),
            (
                "files_update into allocated slots",
                FilesUpdate::alloc(&mut alloc).unwrap().build(),
                Fields {
                    opcode: IORING_OP_FILES_UPDATE,
                    fd: -1,
                    addr: alloc_addr,
                    len: 2,
                    off: IORING_FILE_INDEX_ALLOC as u64,
                    ..Default::default()
                },
            ),
            (
                "fixed_fd_install",
                FixedFdInstall::new(Fixed(6)).build().into(),
                Fields { opcode: IORING_OP_FIXED_FD_INSTALL, flags: IOSQE_FIXED_FILE, fd: 6, ..Default::default() },
            ),
            (
                "fixed_fd_install without O_CLOEXEC",
                FixedFdInstall::new(Fixed(6)).no_cloexec().build().into(),
                Fields {
                    opcode: IORING_OP_FIXED_FD_INSTALL,
                    flags: IOSQE_FIXED_FILE,
                    fd: 6,
                    op_flags: IORING_FIXED_FD_NO_CLOEXEC,
                    ..Default::default()
                },
            ),
            (
                "epoll_ctl add",
                EpollCtl::add(fd(10), fd(11), &ev).build(),
                Fields {
                    opcode: IORING_OP_EPOLL_CTL,
                    fd: 10,
                    addr: ev_addr,
                    len: libc::EPOLL_CTL_ADD as u32,
                    off: 11,
                    ..Default::default()
                },
            ),
            (
                "epoll_ctl mod",
                EpollCtl::modify(fd(10), fd(11), &ev).build(),
                Fields {
                    opcode: IORING_OP_EPOLL_CTL,
                    fd: 10,
                    addr: ev_addr,
                    len: libc::EPOLL_CTL_MOD as u32,
                    off: 11,
                    ..Default::default()
                },
            ),
            (
                "epoll_ctl del",
                EpollCtl::delete(fd(10), fd(11)).build(),
                Fields {
                    opcode: IORING_OP_EPOLL_CTL,
                    fd: 10,
                    len: libc::EPOLL_CTL_DEL as u32,
                    off: 11,
                    ..Default::default()
                },
            ),
            (
                "epoll_wait",
                EpollWait::new(Target::raw(12), &mut evs).build(),
                Fields { opcode: IORING_OP_EPOLL_WAIT, fd: 12, addr: evs_addr, len: 4, ..Default::default() },
            ),
            (
                "epoll_wait, fixed",
                EpollWait::new(Fixed(1), &mut evs).build(),
                Fields {
                    opcode: IORING_OP_EPOLL_WAIT,
                    flags: IOSQE_FIXED_FILE,
                    fd: 1,
                    addr: evs_addr,
                    len: 4,
                    ..Default::default()
                },
            ),
            (
                "waitid for a pid",
                Waitid::new(WaitId::Pid(1234), &mut info, WaitidOptions::EXITED | WaitidOptions::NOHANG).build(),
                Fields {
                    opcode: IORING_OP_WAITID,
                    fd: 1234,
                    len: libc::P_PID,
                    off: info_addr,
                    file: (libc::WEXITED | libc::WNOHANG) as u32,
                    ..Default::default()
                },
            ),
            (
                "waitid for any child",
                Waitid::new(WaitId::All, &mut info, WaitidOptions::EXITED).build(),
                Fields {
                    opcode: IORING_OP_WAITID,
                    len: libc::P_ALL,
                    off: info_addr,
                    file: libc::WEXITED as u32,
                    ..Default::default()
                },
            ),
            (
                "waitid for a pidfd",
                Waitid::new(WaitId::PidFd(Target::raw(9)), &mut info, WaitidOptions::EXITED).build(),
                Fields {
                    opcode: IORING_OP_WAITID,
                    fd: 9,
                    len: libc::P_PIDFD,
                    off: info_addr,
                    file: libc::WEXITED as u32,
                    ..Default::default()
                },
            ),
        ]);
    }

    #[test]
    fn provide_buffers_refuses_bad_input() {
        let mut mem = vec![0u8; 4096];
        assert!(matches!(
            ProvideBuffers::new(&mut mem, 512, 9, 1, 0),
            Err(crate::Error::MemoryTooSmall { needed: 4608, provided: 4096 })
        ));
        assert!(ProvideBuffers::new(&mut mem, 0, 1, 1, 0).is_err());
        assert!(ProvideBuffers::new(&mut mem, 1, 0, 1, 0).is_err());
        assert!(ProvideBuffers::new(&mut mem, 1, 65537, 1, 0).is_err());
        assert!(ProvideBuffers::new(&mut mem, 1, 2, 1, u16::MAX).is_err());
        assert!(ProvideBuffers::new(&mut mem, 1, 1, 1, u16::MAX).is_ok());
    }
}
