//! epoll, waitid, futexes, pipes, file-table updates and legacy provided buffers, with owned
//! events, `siginfo_t`, futex words, fd arrays and buffer memory.

use std::os::fd::RawFd;

use super::Encode;
use crate::op::{self, DestSlot, PipeFlags, Target, WaitId, WaitidOptions};
use crate::sqe::Sqe;
use crate::{Error, Result};

/// What an [`EpollCtl`] does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EpollCtlOp {
    /// `EPOLL_CTL_ADD`.
    Add,
    /// `EPOLL_CTL_MOD`.
    Modify,
    /// `EPOLL_CTL_DEL` (the event is ignored).
    Delete,
}

/// `IORING_OP_EPOLL_CTL`: `epoll_ctl(2)` with an owned event. The result is 0.
pub struct EpollCtl {
    /// The epoll instance.
    pub epfd: RawFd,
    /// The watched file.
    pub fd: RawFd,
    /// Add, modify or delete.
    pub op: EpollCtlOp,
    /// The events and data (for add and modify).
    pub event: libc::epoll_event,
}

impl core::fmt::Debug for EpollCtl {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let ev = self.event;
        let (events, data) = (ev.events, ev.u64);
        f.debug_struct("EpollCtl")
            .field("epfd", &self.epfd)
            .field("fd", &self.fd)
            .field("op", &self.op)
            .field("events", &events)
            .field("data", &data)
            .finish()
    }
}

impl EpollCtl {
    /// `op` on `fd` in `epfd`, for `events` (`EPOLLIN`...) with `data` reported back.
    pub fn new(epfd: RawFd, fd: RawFd, op: EpollCtlOp, events: u32, data: u64) -> Self {
        EpollCtl { epfd, fd, op, event: libc::epoll_event { events, u64: data } }
    }
}

impl Encode for EpollCtl {
    #[inline]
    fn sqe(&mut self) -> Result<Sqe> {
        Ok(match self.op {
            EpollCtlOp::Add => op::EpollCtl::add(self.epfd, self.fd, &self.event),
            EpollCtlOp::Modify => op::EpollCtl::modify(self.epfd, self.fd, &self.event),
            EpollCtlOp::Delete => op::EpollCtl::delete(self.epfd, self.fd),
        }
        .build())
    }
}

/// `IORING_OP_EPOLL_WAIT`: `epoll_wait(2)` into the owned `events` (Linux 6.15). The result is
/// the number of events stored at the front.
pub struct EpollWait {
    /// The epoll instance.
    pub epfd: Target,
    /// Room for the events (the kernel refuses an empty array).
    pub events: Vec<libc::epoll_event>,
}

impl core::fmt::Debug for EpollWait {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("EpollWait").field("epfd", &self.epfd).field("events", &self.events.len()).finish()
    }
}

impl EpollWait {
    /// Waits on `epfd` for up to `max` events.
    pub fn new(epfd: impl Into<Target>, max: usize) -> Self {
        EpollWait { epfd: epfd.into(), events: vec![libc::epoll_event { events: 0, u64: 0 }; max] }
    }
}

impl Encode for EpollWait {
    #[inline]
    fn sqe(&mut self) -> Result<Sqe> {
        Ok(op::EpollWait::new(self.epfd, &mut self.events).build())
    }
}

/// `IORING_OP_WAITID`: `waitid(2)` into an owned `siginfo_t` (Linux 6.7). The result is 0;
/// [`pid`](Waitid::pid), [`code`](Waitid::code), [`status`](Waitid::status) and
/// [`info`](Waitid::info) read what the kernel wrote.
pub struct Waitid {
    /// Which children.
    pub which: WaitId,
    /// Which state changes.
    pub options: WaitidOptions,
    info: SigInfo,
}

/// A `siginfo_t` the kernel fills.
struct SigInfo(libc::siginfo_t);

// SAFETY: `siginfo_t` is plain data; its pointer-typed members (`si_addr`...) are values the
// kernel reports, never dereferenced by this crate, so moving or sharing it is harmless.
unsafe impl core::marker::Send for SigInfo {}
// SAFETY: as above.
unsafe impl Sync for SigInfo {}

impl core::fmt::Debug for Waitid {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Waitid")
            .field("which", &self.which)
            .field("options", &self.options)
            .field("pid", &self.pid())
            .field("code", &self.code())
            .field("status", &self.status())
            .finish()
    }
}

impl Waitid {
    /// Waits for `which` to change state as `options` ask.
    pub fn new(which: WaitId, options: WaitidOptions) -> Self {
        // SAFETY: `siginfo_t` is plain integers; all-zero is a valid value.
        let info: libc::siginfo_t = unsafe { core::mem::zeroed() };
        Waitid { which, options, info: SigInfo(info) }
    }

    /// The `siginfo_t` the kernel filled.
    pub fn info(&self) -> &libc::siginfo_t {
        &self.info.0
    }

    /// The child's process id (`si_pid`).
    pub fn pid(&self) -> libc::pid_t {
        // SAFETY: reads an integer of the plain-data `siginfo_t`; any bit pattern is valid.
        unsafe { self.info.0.si_pid() }
    }

    /// How the child changed state (`si_code`: `CLD_EXITED`, `CLD_KILLED`, ...).
    pub fn code(&self) -> i32 {
        self.info.0.si_code
    }

    /// The exit status or signal (`si_status`).
    pub fn status(&self) -> i32 {
        // SAFETY: as in `pid`.
        unsafe { self.info.0.si_status() }
    }
}

impl Encode for Waitid {
    #[inline]
    fn sqe(&mut self) -> Result<Sqe> {
        Ok(op::Waitid::new(self.which, &mut self.info.0, self.options).build())
    }
}

/// `IORING_OP_PIPE`: creates a pipe, the kernel writing both ends into the owned `fds` (read
/// end, write end; Linux 6.16). The result is 0. With a direct `dest`, `fds` receives the two
/// registered slots. The fds are the caller's to close (e.g. `OwnedFd::from_raw_fd`).
#[derive(Debug)]
pub struct Pipe {
    /// Filled by the kernel: read end, write end.
    pub fds: [i32; 2],
    /// `O_CLOEXEC`, `O_NONBLOCK`, `O_DIRECT`.
    pub flags: PipeFlags,
    /// Where the ends go.
    pub dest: DestSlot,
}

impl Pipe {
    /// A pipe with `flags`, as ordinary fds.
    pub fn new(flags: PipeFlags) -> Self {
        Pipe { fds: [-1; 2], flags, dest: DestSlot::Fd }
    }
}

impl Encode for Pipe {
    #[inline]
    fn sqe(&mut self) -> Result<Sqe> {
        Ok(op::Pipe::new(&mut self.fds).flags(self.flags).dest(self.dest).build())
    }
}

/// `IORING_OP_FILES_UPDATE`: replaces registered file slots with the owned `fds` (-1 empties a
/// slot, -2 skips it). With `offset` `None` the files go to free slots and the kernel writes
/// each chosen slot back into `fds`. The result is the number of slots updated.
#[derive(Debug)]
pub struct FilesUpdate {
    /// The files (or, after an allocating update, their slots).
    pub fds: Vec<i32>,
    /// The first slot, or `None` for free slots (`IORING_FILE_INDEX_ALLOC`, Linux 5.19).
    pub offset: Option<u32>,
}

impl FilesUpdate {
    /// Puts `fds` into the slots from `offset` on.
    pub fn new(fds: Vec<i32>, offset: u32) -> Self {
        FilesUpdate { fds, offset: Some(offset) }
    }

    /// Puts `fds` into free slots.
    pub fn alloc(fds: Vec<i32>) -> Self {
        FilesUpdate { fds, offset: None }
    }
}

impl Encode for FilesUpdate {
    #[inline]
    fn sqe(&mut self) -> Result<Sqe> {
        Ok(match self.offset {
            Some(off) => op::FilesUpdate::new(&self.fds, off)?,
            None => op::FilesUpdate::alloc(&mut self.fds)?,
        }
        .build())
    }
}

/// Memory handed to a legacy provided-buffer group: only the ring's keep-alive list holds it,
/// and it is freed once the kernel's teardown of the ring has finished (leaked if that cannot be
/// confirmed: see [`Ring`](crate::Ring)'s drop).
pub(crate) struct ProvidedMem(#[allow(dead_code)] pub(crate) Vec<u8>);

/// `IORING_OP_PROVIDE_BUFFERS`: hands `nr` buffers of `buf_len` bytes, carved from owned memory,
/// to the legacy buffer group `bgid` as ids `bid..bid + nr`. The result is 0.
///
/// The kernel keeps writing provided buffers after this completes (whenever an operation
/// selects one), so the memory cannot come back with the completion: push with
/// [`OwnedRing::provide_buffers`](crate::owned::OwnedRing::provide_buffers), which moves it into the ring's keep-alive list (freed once
/// the kernel is done with the ring); the returned operation no longer holds it. [`OwnedRing::push`](crate::owned::OwnedRing::push) refuses
/// it. Operations that select from a legacy group are raw-layer (`unsafe`) ones; prefer a
/// [`BufRing`](crate::buf::BufRing), which the safe receives take.
pub struct ProvideBuffers {
    /// The buffer group.
    pub bgid: u16,
    /// The id of the first buffer.
    pub bid: u16,
    /// Bytes per buffer.
    pub buf_len: u32,
    /// Number of buffers.
    pub nr: u32,
    mem: Option<Vec<u8>>,
    prepared: Option<Box<Sqe>>,
}

impl core::fmt::Debug for ProvideBuffers {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ProvideBuffers")
            .field("bgid", &self.bgid)
            .field("bid", &self.bid)
            .field("buf_len", &self.buf_len)
            .field("nr", &self.nr)
            .field("mem", &self.mem.as_ref().map(Vec::len))
            .finish()
    }
}

impl ProvideBuffers {
    /// Provides `nr` buffers of `buf_len` bytes from the front of `mem` to group `bgid`, ids
    /// from `bid`. Refuses what [`op::ProvideBuffers::new`] refuses (memory too small, zero
    /// sizes, more than 65536 ids).
    pub fn new(mut mem: Vec<u8>, buf_len: u32, nr: u32, bgid: u16, bid: u16) -> Result<Self> {
        op::ProvideBuffers::new(&mut mem, buf_len, nr, bgid, bid)?;
        Ok(ProvideBuffers { bgid, bid, buf_len, nr, mem: Some(mem), prepared: None })
    }

    /// Whether the operation still holds its memory (not yet provided).
    pub fn holds_memory(&self) -> bool {
        self.mem.is_some()
    }

    /// Builds the entry over the operation's memory and hands the memory over, for the ring to
    /// keep (crate-internal: [`OwnedRing::provide_buffers`](crate::owned::OwnedRing::provide_buffers)).
    /// On failure the operation is unchanged.
    pub(crate) fn prepare(&mut self) -> Result<Vec<u8>> {
        let Some(mut mem) = self.mem.take() else {
            return Err(Error::InvalidArgument { what: "ProvideBuffers", reason: "its memory was already provided" });
        };
        match op::ProvideBuffers::new(&mut mem, self.buf_len, self.nr, self.bgid, self.bid) {
            Ok(b) => {
                self.prepared = Some(Box::new(b.build()));
                Ok(mem)
            }
            Err(error) => {
                self.mem = Some(mem);
                Err(error)
            }
        }
    }

    /// Forgets the entry [`prepare`](Self::prepare) built (its push failed; the memory stays
    /// with the ring).
    pub(crate) fn unprepare(&mut self) {
        self.prepared = None;
    }
}

impl Encode for ProvideBuffers {
    #[inline]
    fn sqe(&mut self) -> Result<Sqe> {
        self.prepared.take().map(|s| *s).ok_or(Error::InvalidArgument {
            what: "ProvideBuffers",
            reason: "push it with OwnedRing::provide_buffers (its memory must move to the ring)",
        })
    }
}
