//! epoll, waitid, futexes, pipes, file-table updates and legacy provided buffers, with owned
//! events, `siginfo_t`, futex words, fd arrays and buffer memory.

use std::os::fd::{AsFd, BorrowedFd, FromRawFd, OwnedFd};

use super::{Encode, Fd, OnComplete};
use crate::op::{self, DestSlot, PipeFlags, WaitId, WaitidOptions};
use crate::sqe::Sqe;
use crate::{Error, Result};

/// What an [`EpollCtl`] does.
/// (`IORING_OP_EPOLL_CTL`, Linux 5.6.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EpollCtlOp {
    /// `EPOLL_CTL_ADD`.
    Add,
    /// `EPOLL_CTL_MOD`.
    Modify,
    /// `EPOLL_CTL_DEL` (the event is ignored).
    Delete,
}

/// `IORING_OP_EPOLL_CTL` (Linux 5.6): `epoll_ctl(2)` with an owned event. The result is 0.
pub struct EpollCtl {
    /// The epoll instance (an ordinary fd).
    pub epfd: Fd,
    /// The watched file (an ordinary fd).
    pub fd: Fd,
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
    /// Pushed as `IORING_OP_EPOLL_CTL` (Linux 5.6).
    pub fn new(epfd: impl Into<Fd>, fd: impl Into<Fd>, op: EpollCtlOp, events: u32, data: u64) -> Self {
        EpollCtl { epfd: epfd.into(), fd: fd.into(), op, event: libc::epoll_event { events, u64: data } }
    }
}

impl Encode for EpollCtl {
    #[inline]
    fn sqe(&mut self) -> Result<Sqe> {
        let (epfd, fd) = (self.epfd.plain("epfd")?, self.fd.plain("fd")?);
        Ok(match self.op {
            EpollCtlOp::Add => op::EpollCtl::add(epfd, fd, &self.event),
            EpollCtlOp::Modify => op::EpollCtl::modify(epfd, fd, &self.event),
            EpollCtlOp::Delete => op::EpollCtl::delete(epfd, fd),
        }
        .build())
    }
}

/// `IORING_OP_EPOLL_WAIT`: `epoll_wait(2)` into the owned `events` (Linux 6.15). The result is
/// the number of events stored at the front.
pub struct EpollWait {
    /// The epoll instance.
    pub epfd: Fd,
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
    /// Pushed as `IORING_OP_EPOLL_WAIT` (Linux 6.15).
    pub fn new(epfd: impl Into<Fd>, max: usize) -> Self {
        EpollWait { epfd: epfd.into(), events: vec![libc::epoll_event { events: 0, u64: 0 }; max] }
    }
}

impl Encode for EpollWait {
    #[inline]
    fn sqe(&mut self) -> Result<Sqe> {
        Ok(op::EpollWait::new(self.epfd.target(), &mut self.events).build())
    }
}

/// `IORING_OP_WAITID`: `waitid(2)` into an owned `siginfo_t` (Linux 6.7). The result is 0;
/// [`pid`](Waitid::pid), [`code`](Waitid::code), [`status`](Waitid::status) and
/// [`info`](Waitid::info) read what the kernel wrote.
pub struct Waitid {
    /// Which children. [`WaitId::PidFd`] is refused here (it carries only a number): the
    /// operation holds its pidfd in [`pidfd`](Waitid::pidfd), set by [`Waitid::pidfd`].
    pub which: WaitId,
    /// The pidfd waited on (`P_PIDFD`), held until the completion; when set, `which` is
    /// ignored.
    pub pidfd: Option<Fd>,
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
            .field("pidfd", &self.pidfd)
            .field("options", &self.options)
            .field("pid", &self.pid())
            .field("code", &self.code())
            .field("status", &self.status())
            .finish()
    }
}

impl Waitid {
    /// Waits for `which` to change state as `options` ask.
    /// Pushed as `IORING_OP_WAITID` (Linux 6.7).
    pub fn new(which: WaitId, options: WaitidOptions) -> Self {
        let info: libc::siginfo_t = crate::util::zeroed();
        Waitid { which, pidfd: None, options, info: SigInfo(info) }
    }

    /// Waits for the child the pidfd `pidfd` refers to (`P_PIDFD`, an ordinary fd) to change
    /// state as `options` ask.
    /// `IORING_OP_WAITID`, Linux 6.7.
    pub fn pidfd(pidfd: impl Into<Fd>, options: WaitidOptions) -> Self {
        Waitid { pidfd: Some(pidfd.into()), ..Waitid::new(WaitId::All, options) }
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
        let which = match (&self.pidfd, self.which) {
            (Some(fd), _) => WaitId::PidFd(fd.plain("pidfd")?.into()),
            (None, WaitId::PidFd(_)) => {
                return Err(Error::InvalidArgument {
                    what: "which",
                    reason: "WaitId::PidFd names a bare fd number: use Waitid::pidfd, which holds the pidfd",
                })
            }
            (None, which) => which,
        };
        Ok(op::Waitid::new(which, &mut self.info.0, self.options).build())
    }
}

/// `IORING_OP_PIPE`: creates a pipe (Linux 6.16). The result is 0. The kernel writes both
/// ends into the operation; once its final completion reports success they are the
/// operation's: [`take_ends`](Pipe::take_ends) gives them as [`OwnedFd`]s (and dropping the
/// operation closes them). With a direct `dest`, the ends go into the registered file table
/// and [`slots`](Pipe::slots) names them.
#[derive(Debug)]
pub struct Pipe {
    /// `O_CLOEXEC`, `O_NONBLOCK`, `O_DIRECT`.
    pub flags: PipeFlags,
    /// Where the ends go.
    pub dest: DestSlot,
    /// Written by the kernel: read end, write end (fds or slots).
    raw: [i32; 2],
    /// The ends, once the final completion reported success (ordinary fds only).
    ends: Option<(OwnedFd, OwnedFd)>,
    /// Whether the final completion reported success.
    done: bool,
}

impl Pipe {
    /// A pipe with `flags`, as ordinary fds.
    /// Pushed as `IORING_OP_PIPE` (Linux 6.16).
    pub fn new(flags: PipeFlags) -> Self {
        Pipe { flags, dest: DestSlot::Fd, raw: [-1; 2], ends: None, done: false }
    }

    /// The read and write ends, after a successful completion (once; `None` before, after a
    /// failure, for a direct `dest`, or when already taken).
    pub fn take_ends(&mut self) -> Option<(OwnedFd, OwnedFd)> {
        self.ends.take()
    }

    /// The read and write ends, borrowed, after a successful completion (while not taken).
    pub fn ends(&self) -> Option<(BorrowedFd<'_>, BorrowedFd<'_>)> {
        self.ends.as_ref().map(|(r, w)| (r.as_fd(), w.as_fd()))
    }

    /// The registered slots of the read and write ends, after a successful completion with a
    /// direct `dest`.
    pub fn slots(&self) -> Option<[u32; 2]> {
        (self.done && self.dest != DestSlot::Fd).then_some([self.raw[0] as u32, self.raw[1] as u32])
    }
}

impl Encode for Pipe {
    #[inline]
    fn sqe(&mut self) -> Result<Sqe> {
        self.done = false;
        Ok(op::Pipe::new(&mut self.raw).flags(self.flags).dest(self.dest).build())
    }

    #[inline]
    fn on_complete(&self) -> OnComplete {
        OnComplete(OnComplete::HOOK)
    }

    fn complete(&mut self, res: i32) {
        if res < 0 {
            return;
        }
        self.done = true;
        if self.dest == DestSlot::Fd {
            // SAFETY: the kernel's final completion of this request reported success, so it
            // installed two new fds in the process's table and wrote their numbers into `raw`
            // (see `io_pipe`): nobody else owns them. The owned layer calls this once, on the
            // genuine final completion (see its safety model).
            self.ends = Some(unsafe { (OwnedFd::from_raw_fd(self.raw[0]), OwnedFd::from_raw_fd(self.raw[1])) });
        }
    }
}

/// `IORING_OP_FILES_UPDATE` (Linux 5.6): puts the owned or shared `files` into registered file slots
/// (`None` empties a slot). The kernel takes its own reference to each file when the request
/// runs, so the operation holds them until its completion. With `offset` `None` the files go
/// to free slots and [`slots`](FilesUpdate::slots) names the slots chosen. The result is the
/// number of slots updated.
#[derive(Debug)]
pub struct FilesUpdate {
    /// The files (ordinary fds), in slot order; `None` empties the slot.
    pub files: Vec<Option<Fd>>,
    /// The first slot, or `None` for free slots (`IORING_FILE_INDEX_ALLOC`, Linux 5.19).
    pub offset: Option<u32>,
    /// The fd array the kernel reads (and, allocating, writes the slots into).
    raw: Vec<i32>,
}

impl FilesUpdate {
    /// Puts `files` into the slots from `offset` on.
    /// Pushed as `IORING_OP_FILES_UPDATE` (Linux 5.6).
    pub fn new(files: Vec<Option<Fd>>, offset: u32) -> Self {
        FilesUpdate { files, offset: Some(offset), raw: Vec::new() }
    }

    /// Puts `files` into free slots.
    /// `IORING_FILE_INDEX_ALLOC`, Linux 5.19.
    pub fn alloc(files: Vec<Option<Fd>>) -> Self {
        FilesUpdate { files, offset: None, raw: Vec::new() }
    }

    /// After an allocating update, the slot each file went to, in order (only the first
    /// *result* entries are meaningful).
    pub fn slots(&self) -> &[i32] {
        &self.raw
    }
}

impl Encode for FilesUpdate {
    #[inline]
    fn sqe(&mut self) -> Result<Sqe> {
        self.raw.clear();
        for f in &self.files {
            self.raw.push(match f {
                Some(f) => std::os::fd::AsRawFd::as_raw_fd(&f.plain("files")?),
                None => -1,
            });
        }
        Ok(match self.offset {
            Some(off) => op::FilesUpdate::new(&self.raw, off)?,
            None => op::FilesUpdate::alloc(&mut self.raw)?,
        }
        .build())
    }
}

/// Memory handed to a legacy provided-buffer group: only the ring's keep-alive list holds it,
/// and it is freed once the kernel's teardown of the ring has finished (leaked if that cannot be
/// confirmed: see [`Ring`](crate::Ring)'s drop).
pub(crate) struct ProvidedMem(#[allow(dead_code)] pub(crate) Vec<u8>);

/// `IORING_OP_PROVIDE_BUFFERS` (Linux 5.7): hands `nr` buffers of `buf_len` bytes, carved from owned memory,
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
    /// Pushed as `IORING_OP_PROVIDE_BUFFERS` (Linux 5.7).
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
