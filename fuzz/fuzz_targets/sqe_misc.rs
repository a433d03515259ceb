//! The remaining encoders (`op::misc`, `op::poll`, `op::time`, `op::cancel`, `op::msg`,
//! `op::futex`, `op::uring_cmd`): an arbitrary operation with arbitrary arguments is encoded,
//! then a decoder that knows only the kernel ABI reconstructs it from the raw entry (reading
//! timespecs, futex vectors and epoll events back through the entry's pointers). The
//! reconstruction must equal what was asked, every unused byte must be zero (for 128-byte
//! entries, the second half too), and nothing may panic. `Result`-returning encoders are driven
//! into both branches.
#![no_main]

mod common;

use std::os::fd::BorrowedFd;
use std::sync::atomic::AtomicU32;
use std::time::Duration;

use arbitrary::Arbitrary;
use common::*;
use libfuzzer_sys::fuzz_target;
use uring::op::{
    self, BufGroupId, Fixed, FutexWaitvEntry, PipeFlags, PollEvents, SpliceFlags, Target, TimeoutClock, TimeoutFlags,
    Timespec, WaitId, WaitidOptions,
};
use uring::uapi::*;
use uring::Sqe;

const FUTEX2_SIZE_U32: u32 = 0x02;
const FUTEX2_PRIVATE: u32 = 128;
const EP_MAX_EVENTS: usize = i32::MAX as usize / core::mem::size_of::<libc::epoll_event>();

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Clock {
    Default,
    Monotonic,
    Boottime,
    Realtime,
}

impl Clock {
    fn get(self) -> Option<(TimeoutClock, u32)> {
        match self {
            Clock::Default => None,
            Clock::Monotonic => Some((TimeoutClock::Monotonic, 0)),
            Clock::Boottime => Some((TimeoutClock::Boottime, IORING_TIMEOUT_BOOTTIME)),
            Clock::Realtime => Some((TimeoutClock::Realtime, IORING_TIMEOUT_REALTIME)),
        }
    }
}

/// A time: seconds and nanoseconds (taken modulo 10^9).
#[derive(Arbitrary, Debug, Clone, Copy)]
struct Time {
    secs: u64,
    nanos: u32,
}

impl Time {
    fn duration(self) -> Duration {
        Duration::new(self.secs, self.nanos % 1_000_000_000)
    }
    fn timespec(self) -> Timespec {
        Timespec::new(self.secs, self.nanos % 1_000_000_000)
    }
    /// What an immediate (in-entry) time must hold, if representable.
    fn ns(self) -> Option<u64> {
        u64::try_from(self.duration().as_nanos()).ok().filter(|&n| n <= i64::MAX as u64)
    }
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum CancelBase {
    UserData(u64),
    Fd(Tgt),
    Opcode(u8),
    Any,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum CancelMod {
    All,
    UserData(u64),
    Fd(Tgt),
    Opcode(u8),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Which {
    All,
    Pid(i32),
    Pgid(i32),
    PidFd(i32),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Epoll {
    Add,
    Modify,
    Delete,
}

#[derive(Arbitrary, Debug)]
enum Input {
    ProvideBuffers {
        mem: Span,
        buf_len: u32,
        nr: u32,
        bgid: u16,
        bid: u16,
    },
    RemoveBuffers {
        nr: u32,
        bgid: u16,
    },
    Splice {
        fd_in: Tgt,
        fd_out: Tgt,
        len: u32,
        off_in: Option<u64>,
        off_out: Option<u64>,
        flags: Option<u32>,
    },
    Tee {
        fd_in: Tgt,
        fd_out: Tgt,
        len: u32,
        flags: Option<u32>,
    },
    Pipe {
        flags: Option<u32>,
        dest: Option<Dest>,
    },
    FilesUpdate {
        n: u8,
        huge: bool,
        offset: Option<u32>,
    },
    FixedFdInstall {
        slot: u32,
        no_cloexec: bool,
    },
    EpollCtl {
        epfd: i32,
        fd: i32,
        op: Epoll,
        events: u32,
        data: u64,
    },
    EpollWait {
        epfd: Tgt,
        n: u8,
        huge: bool,
    },
    Waitid {
        which: Which,
        options: u32,
    },
    PollAdd {
        t: Tgt,
        events: u32,
        multishot: bool,
        level: bool,
    },
    PollRemove {
        user_data: u64,
    },
    PollUpdate {
        old: u64,
        events: Option<u32>,
        new_user_data: Option<u64>,
        multishot: bool,
    },
    Timeout {
        ts: Time,
        count: Option<u32>,
        flags: Option<u32>,
        abs: bool,
        etime: bool,
        multishot: Option<u32>,
        clock: Clock,
    },
    TimeoutImmediate {
        ts: Time,
        count: Option<u32>,
        flags: Option<u32>,
        abs: bool,
        etime: bool,
        multishot: Option<u32>,
        clock: Clock,
    },
    TimeoutRemove {
        user_data: u64,
    },
    TimeoutUpdate {
        ts: Time,
        user_data: u64,
        abs: bool,
        link: bool,
        immediate: bool,
    },
    LinkTimeout {
        ts: Time,
        abs: bool,
        clock: Clock,
        immediate: bool,
    },
    AsyncCancel {
        base: CancelBase,
        mods: Vec<CancelMod>,
    },
    MsgRing {
        ring: Tgt,
        res: i32,
        user_data: u64,
        cqe_flags: Option<u32>,
    },
    MsgRingFd {
        ring: Tgt,
        source: u32,
        dest: Dest,
        user_data: u64,
        skip: bool,
    },
    FutexWait {
        val: u32,
        raw: Option<u64>,
        mask: Option<u32>,
        private: bool,
        wake: bool,
    },
    FutexWaitv {
        entries: Vec<(u32, bool)>,
    },
    UringCmd {
        t: Tgt,
        cmd_op: u32,
        payload: Option<(u8, [u8; 96])>,
        fixed: Option<u16>,
        group: Option<u16>,
        multishot: bool,
        big: Option<bool>,
    },
    Nop128,
}

/// The operation as the kernel reads it back.
#[derive(Debug, PartialEq, Eq)]
enum Op {
    ProvideBuffers { nr: i32, addr: u64, buf_len: u32, bid: u64, bgid: u16 },
    RemoveBuffers { nr: i32, bgid: u16 },
    Splice { fd_in: Tgt, off_in: u64, fd_out: Tgt, off_out: u64, len: u32, flags: u32 },
    Tee { fd_in: Tgt, fd_out: Tgt, len: u32, flags: u32 },
    Pipe { fds: u64, flags: u32, dest: Dest },
    FilesUpdate { fds: u64, nr: u32, offset: u64 },
    FixedFdInstall { slot: u32, flags: u32 },
    EpollCtl { epfd: i32, fd: i32, op: i32, event: Option<(u32, u64)> },
    EpollWait { epfd: Tgt, events: u64, max: u32 },
    Waitid { idtype: u32, id: i32, info: u64, options: u32 },
    PollAdd { t: Tgt, flags: u32, events: u32 },
    PollRemove { user_data: u64, flags: u32, events: u32, new_user_data: u64 },
    Timeout { ts: Option<(i64, i64)>, ns: Option<u64>, count: u64, flags: u32 },
    TimeoutRemove { user_data: u64, flags: u32, ts: Option<(i64, i64)>, ns: Option<u64> },
    LinkTimeout { ts: Option<(i64, i64)>, ns: Option<u64>, flags: u32 },
    AsyncCancel { fd: i32, user_data: u64, opcode: u32, flags: u32 },
    MsgRing { ring: Tgt, cmd: u64, len: u32, user_data: u64, flags: u32, file_index: u32, source: u64 },
    Futex { code: u8, flags: i32, addr: u64, val: u64, mask: u64 },
    FutexWaitv { entries: Vec<(u64, u64, u32)> },
    UringCmd { code: u8, t: Tgt, cmd_op: u32, flags: u32, buf_index: Option<u16>, group: Option<u16>, payload: Vec<u8> },
    Nop128,
}

/// Calls `f` with `bytes` as a `[u8; N]` payload for a size picked by `sel`.
macro_rules! with_payload {
    ($sel:expr, $bytes:expr, |$p:ident| $body:expr) => {
        with_payload!(@sizes $sel, $bytes, $p, $body; 0 => 0, 1 => 1, 2 => 8, 3 => 16, 4 => 17, 5 => 40, 6 => 79,
                      7 => 80, 8 => 81, _ => 96)
    };
    (@sizes $sel:expr, $bytes:expr, $p:ident, $body:expr; $($i:pat => $n:literal),*) => {{
        let b: &[u8; 96] = $bytes;
        match $sel % 10 {
            $($i => {
                let $p: [u8; $n] = b[..$n].try_into().unwrap();
                $body
            })*
        }
    }};
}

/// Memory the entries point at, alive until they are decoded.
struct Keep {
    fds: [i32; 2],
    files: Vec<i32>,
    event: libc::epoll_event,
    events: Vec<libc::epoll_event>,
    info: libc::siginfo_t,
    ts: Timespec,
    futex: AtomicU32,
    futexes: Vec<FutexWaitvEntry>,
}

/// The `__kernel_timespec` a [`Timespec`] of `t` must hold: past `i64::MAX` seconds it
/// saturates at `i64::MAX` s and 999 999 999 ns (never a negative time).
fn ts_pair(t: Time) -> (i64, i64) {
    match i64::try_from(t.secs) {
        Ok(secs) => (secs, i64::from(t.nanos % 1_000_000_000)),
        Err(_) => (i64::MAX, 999_999_999),
    }
}

/// An `*Immediate` timeout builder made from `ts`, and the nanoseconds its entry must carry; `None`
/// (after checking the refusal) for a time past `i64::MAX` nanoseconds.
fn immediate_time<T: core::fmt::Debug>(r: uring::Result<T>, ts: Time) -> Option<(T, u64)> {
    let ns = ts.ns();
    Some((accepted(r, ns.is_none(), "a time of at most i64::MAX ns is accepted")?, ns?))
}

/// Encodes `input`; returns the entry (and, for 128-byte entries, the second half) and the
/// operation it must decode to, or `None` when the encoder correctly refused the arguments.
fn encode(input: &Input, pool: &mut [u8], k: &mut Keep) -> Option<(Sqe, Option<[u8; 64]>, Op)> {
    let one = |s: Sqe, o: Op| Some((s, None, o));
    match input {
        Input::ProvideBuffers { mem, buf_len, nr, bgid, bid } => {
            let m = span_mut(pool, *mem);
            let (addr, have) = (m.as_mut_ptr() as u64, m.len());
            let r = op::ProvideBuffers::new(m, *buf_len, *nr, *bgid, *bid);
            let need = *buf_len as u64 * *nr as u64;
            if *buf_len == 0 || *nr == 0 || *nr > 65536 || u32::from(*bid) + nr > 65536 {
                assert_invalid(r);
                return None;
            }
            if need > have as u64 {
                match r {
                    Err(uring::Error::MemoryTooSmall { needed, provided }) => {
                        assert_eq!((needed as u64, provided), (need, have));
                    }
                    other => panic!("expected MemoryTooSmall, got {other:?}"),
                }
                return None;
            }
            let b = r.expect("valid provide_buffers arguments are accepted");
            one(
                b.build(),
                Op::ProvideBuffers { nr: *nr as i32, addr, buf_len: *buf_len, bid: u64::from(*bid), bgid: *bgid },
            )
        }
        Input::RemoveBuffers { nr, bgid } => one(
            op::RemoveBuffers::new(*nr, *bgid).build().into_sqe(),
            Op::RemoveBuffers { nr: *nr as i32, bgid: *bgid },
        ),
        Input::Splice { fd_in, fd_out, len, off_in, off_out, flags } => {
            let mut b = op::Splice::new(fd_in.target(), fd_out.target(), *len);
            if let Some(o) = off_in {
                b = b.off_in(*o);
            }
            if let Some(o) = off_out {
                b = b.off_out(*o);
            }
            let f = flags.map_or(0, splice_flags);
            if let Some(raw) = flags {
                b = b.flags(SpliceFlags::from_bits_retain(*raw));
            }
            let want = Op::Splice {
                fd_in: *fd_in,
                off_in: off_in.unwrap_or(u64::MAX),
                fd_out: *fd_out,
                off_out: off_out.unwrap_or(u64::MAX),
                len: *len,
                flags: f,
            };
            one(b.build().into_sqe(), want)
        }
        Input::Tee { fd_in, fd_out, len, flags } => {
            let mut b = op::Tee::new(fd_in.target(), fd_out.target(), *len);
            let f = flags.map_or(0, splice_flags);
            if let Some(raw) = flags {
                b = b.flags(SpliceFlags::from_bits_retain(*raw));
            }
            one(b.build().into_sqe(), Op::Tee { fd_in: *fd_in, fd_out: *fd_out, len: *len, flags: f })
        }
        Input::Pipe { flags, dest } => {
            let fds = k.fds.as_mut_ptr() as u64;
            let mut b = op::Pipe::new(&mut k.fds);
            if let Some(f) = flags {
                b = b.flags(PipeFlags::from_bits_retain(*f));
            }
            if let Some(d) = dest {
                b = b.dest(d.slot());
            }
            let want = Op::Pipe { fds, flags: flags.unwrap_or(0), dest: dest.unwrap_or(Dest::Fd).canon() };
            one(b.build(), want)
        }
        Input::FilesUpdate { n, huge, offset } => {
            let list: &mut [i32] = if *huge {
                // SAFETY: all-zero is a valid `i32`; the count fits the mapping; nothing else of
                // the mapping is alive.
                match unsafe { huge_slice::<i32>(u32::MAX as usize + 1 + *n as usize) } {
                    Some(s) => s,
                    None => {
                        k.files.resize(*n as usize % 16, -1);
                        &mut k.files
                    }
                }
            } else {
                k.files.resize(*n as usize % 16, -1);
                &mut k.files
            };
            let (addr, len) = (list.as_ptr() as u64, list.len());
            let r = match offset {
                Some(o) => op::FilesUpdate::new(list, *o),
                None => op::FilesUpdate::alloc(list),
            };
            let b = accepted(r, len > u32::MAX as usize, "at most u32::MAX descriptors are accepted")?;
            let offset = u64::from(offset.unwrap_or(IORING_FILE_INDEX_ALLOC));
            one(b.build(), Op::FilesUpdate { fds: addr, nr: len as u32, offset })
        }
        Input::FixedFdInstall { slot, no_cloexec } => {
            let mut b = op::FixedFdInstall::new(Fixed(*slot));
            if *no_cloexec {
                b = b.no_cloexec();
            }
            let flags = if *no_cloexec { IORING_FIXED_FD_NO_CLOEXEC } else { 0 };
            one(b.build().into_sqe(), Op::FixedFdInstall { slot: *slot, flags })
        }
        Input::EpollCtl { epfd, fd, op, events, data } => {
            k.event = libc::epoll_event { events: *events, u64: *data };
            let ev = &k.event;
            let (epfd_b, fd_b) = (borrowed(*epfd)?, borrowed(*fd)?);
            let (b, raw, event) = match op {
                Epoll::Add => (op::EpollCtl::add(epfd_b, fd_b, ev), libc::EPOLL_CTL_ADD, Some((*events, *data))),
                Epoll::Modify => (op::EpollCtl::modify(epfd_b, fd_b, ev), libc::EPOLL_CTL_MOD, Some((*events, *data))),
                Epoll::Delete => (op::EpollCtl::delete(epfd_b, fd_b), libc::EPOLL_CTL_DEL, None),
            };
            one(b.build(), Op::EpollCtl { epfd: *epfd, fd: *fd, op: raw, event })
        }
        Input::EpollWait { epfd, n, huge } => {
            let list: &mut [libc::epoll_event] = if *huge {
                // SAFETY: all-zero is a valid `epoll_event`; `EP_MAX_EVENTS + 1 + n` 12-byte
                // events fit the mapping; nothing else of it is alive.
                match unsafe { huge_slice::<libc::epoll_event>(EP_MAX_EVENTS + 1 + *n as usize) } {
                    Some(s) => s,
                    None => {
                        k.events.resize(*n as usize % 16, libc::epoll_event { events: 0, u64: 0 });
                        &mut k.events
                    }
                }
            } else {
                k.events.resize(*n as usize % 16, libc::epoll_event { events: 0, u64: 0 });
                &mut k.events
            };
            let (addr, len) = (list.as_mut_ptr() as u64, list.len());
            let b = op::EpollWait::new(epfd.target(), list);
            one(b.build(), Op::EpollWait { epfd: *epfd, events: addr, max: len.min(EP_MAX_EVENTS) as u32 })
        }
        Input::Waitid { which, options } => {
            let (w, idtype, id) = match *which {
                Which::All => (WaitId::All, libc::P_ALL, 0),
                Which::Pid(p) => (WaitId::Pid(p), libc::P_PID, p),
                Which::Pgid(p) => (WaitId::Pgid(p), libc::P_PGID, p),
                Which::PidFd(p) => (WaitId::PidFd(Tgt::Fd(p).target()), libc::P_PIDFD, p),
            };
            let info = &mut k.info as *mut libc::siginfo_t as u64;
            let b = op::Waitid::new(w, &mut k.info, WaitidOptions::from_bits_retain(*options));
            one(b.build(), Op::Waitid { idtype, id, info, options: *options })
        }
        Input::PollAdd { t, events, multishot, level } => {
            let mut b = op::PollAdd::new(t.target(), PollEvents::from_bits_retain(*events));
            let mut flags = 0;
            if *multishot {
                b = b.multishot();
                flags |= IORING_POLL_ADD_MULTI;
            }
            if *level {
                b = b.level();
                flags |= IORING_POLL_ADD_LEVEL;
            }
            one(b.build().into_sqe(), Op::PollAdd { t: *t, flags, events: *events })
        }
        Input::PollRemove { user_data } => one(
            op::PollRemove::new(*user_data).build().into_sqe(),
            Op::PollRemove { user_data: *user_data, flags: 0, events: 0, new_user_data: 0 },
        ),
        Input::PollUpdate { old, events, new_user_data, multishot } => {
            let mut b = op::PollUpdate::new(*old);
            let mut flags = 0;
            if let Some(e) = events {
                b = b.events(PollEvents::from_bits_retain(*e));
                flags |= IORING_POLL_UPDATE_EVENTS;
            }
            if let Some(u) = new_user_data {
                b = b.new_user_data(*u);
                flags |= IORING_POLL_UPDATE_USER_DATA;
            }
            if *multishot {
                b = b.multishot();
                flags |= IORING_POLL_ADD_MULTI;
            }
            let want = Op::PollRemove {
                user_data: *old,
                flags,
                events: events.unwrap_or(0),
                new_user_data: new_user_data.unwrap_or(0),
            };
            one(b.build().into_sqe(), want)
        }
        Input::Timeout { ts, count, flags, abs, etime, multishot, clock }
        | Input::TimeoutImmediate { ts, count, flags, abs, etime, multishot, clock } => {
            let immediate = matches!(input, Input::TimeoutImmediate { .. });
            // The setters keep only the named options: the clock, update and immediate-argument
            // bits belong to the encoder (raw bits are passed to check that).
            let mut want_flags = flags.map_or(0, |f| TimeoutFlags::from_bits_truncate(f).bits());
            want_flags |= if *abs { IORING_TIMEOUT_ABS } else { 0 };
            want_flags |= if *etime { IORING_TIMEOUT_ETIME_SUCCESS } else { 0 };
            want_flags |= if multishot.is_some() { IORING_TIMEOUT_MULTISHOT } else { 0 };
            want_flags |= clock.get().map_or(0, |c| c.1);
            let want_count = u64::from(multishot.or(*count).unwrap_or(0));
            macro_rules! timeout_opts {
                ($b:expr) => {{
                    let mut b = $b;
                    if let Some(c) = count {
                        b = b.count(*c);
                    }
                    if let Some(f) = flags {
                        b = b.flags(TimeoutFlags::from_bits_retain(*f));
                    }
                    if *abs {
                        b = b.absolute();
                    }
                    if *etime {
                        b = b.etime_success();
                    }
                    if let Some(n) = multishot {
                        b = b.multishot(*n);
                    }
                    if let Some((c, _)) = clock.get() {
                        b = b.clock(c);
                    }
                    b
                }};
            }
            if immediate {
                let (b, ns) = immediate_time(op::TimeoutImmediate::new(ts.duration()), *ts)?;
                let b = timeout_opts!(b);
                let want = Op::Timeout {
                    ts: None,
                    ns: Some(ns),
                    count: want_count,
                    flags: want_flags | IORING_TIMEOUT_IMMEDIATE_ARG,
                };
                one(b.build().into_sqe(), want)
            } else {
                k.ts = ts.timespec();
                let b = timeout_opts!(op::Timeout::new(&k.ts));
                one(b.build(), Op::Timeout { ts: Some(ts_pair(*ts)), ns: None, count: want_count, flags: want_flags })
            }
        }
        Input::TimeoutRemove { user_data } => one(
            op::TimeoutRemove::new(*user_data).build().into_sqe(),
            Op::TimeoutRemove { user_data: *user_data, flags: 0, ts: None, ns: None },
        ),
        Input::TimeoutUpdate { ts, user_data, abs, link, immediate } => {
            let mut flags = IORING_TIMEOUT_UPDATE;
            flags |= if *abs { IORING_TIMEOUT_ABS } else { 0 };
            flags |= if *link { IORING_LINK_TIMEOUT_UPDATE } else { 0 };
            macro_rules! update_opts {
                ($b:expr) => {{
                    let mut b = $b;
                    if *abs {
                        b = b.absolute();
                    }
                    if *link {
                        b = b.link();
                    }
                    b
                }};
            }
            if *immediate {
                let (b, ns) = immediate_time(op::TimeoutUpdateImmediate::new(ts.duration(), *user_data), *ts)?;
                let b = update_opts!(b);
                let want = Op::TimeoutRemove {
                    user_data: *user_data,
                    flags: flags | IORING_TIMEOUT_IMMEDIATE_ARG,
                    ts: None,
                    ns: Some(ns),
                };
                one(b.build().into_sqe(), want)
            } else {
                k.ts = ts.timespec();
                let b = update_opts!(op::TimeoutUpdate::new(&k.ts, *user_data));
                one(b.build(), Op::TimeoutRemove { user_data: *user_data, flags, ts: Some(ts_pair(*ts)), ns: None })
            }
        }
        Input::LinkTimeout { ts, abs, clock, immediate } => {
            let mut flags = if *abs { IORING_TIMEOUT_ABS } else { 0 };
            flags |= clock.get().map_or(0, |c| c.1);
            macro_rules! link_opts {
                ($b:expr) => {{
                    let mut b = $b;
                    if *abs {
                        b = b.absolute();
                    }
                    if let Some((c, _)) = clock.get() {
                        b = b.clock(c);
                    }
                    b
                }};
            }
            if *immediate {
                let (b, ns) = immediate_time(op::LinkTimeoutImmediate::new(ts.duration()), *ts)?;
                let b = link_opts!(b);
                let want = Op::LinkTimeout { ts: None, ns: Some(ns), flags: flags | IORING_TIMEOUT_IMMEDIATE_ARG };
                one(b.build().into_sqe(), want)
            } else {
                k.ts = ts.timespec();
                let b = link_opts!(op::LinkTimeout::new(&k.ts));
                one(b.build(), Op::LinkTimeout { ts: Some(ts_pair(*ts)), ns: None, flags })
            }
        }
        Input::AsyncCancel { base, mods } => {
            // The model: what the kernel's cancel key must end up as.
            let (mut fd, mut user_data, mut opcode, mut flags) = (-1i32, 0u64, 0u32, 0u32);
            let set_fd = |t: Tgt, fd: &mut i32, flags: &mut u32| {
                *flags |= IORING_ASYNC_CANCEL_FD;
                match t {
                    Tgt::Fd(f) => {
                        *fd = f;
                        *flags &= !IORING_ASYNC_CANCEL_FD_FIXED;
                    }
                    Tgt::Fixed(s) => {
                        *fd = s as i32;
                        *flags |= IORING_ASYNC_CANCEL_FD_FIXED;
                    }
                }
            };
            let mut b = match *base {
                CancelBase::UserData(u) => {
                    user_data = u;
                    Cancel::Plain(op::AsyncCancel::user_data(u))
                }
                CancelBase::Fd(t) => {
                    set_fd(t, &mut fd, &mut flags);
                    Cancel::key(t)?
                }
                CancelBase::Opcode(o) => {
                    opcode = o.into();
                    flags |= IORING_ASYNC_CANCEL_OP;
                    Cancel::Plain(op::AsyncCancel::opcode(o))
                }
                CancelBase::Any => {
                    flags |= IORING_ASYNC_CANCEL_ANY;
                    Cancel::Plain(op::AsyncCancel::any())
                }
            };
            for m in mods.iter().take(6) {
                b = match *m {
                    CancelMod::All => {
                        flags |= IORING_ASYNC_CANCEL_ALL;
                        b.all()
                    }
                    CancelMod::UserData(u) => {
                        user_data = u;
                        flags |= IORING_ASYNC_CANCEL_USERDATA;
                        b.and_user_data(u)
                    }
                    CancelMod::Fd(t) => {
                        set_fd(t, &mut fd, &mut flags);
                        b.with_fd(t)?
                    }
                    CancelMod::Opcode(o) => {
                        opcode = o.into();
                        flags |= IORING_ASYNC_CANCEL_OP;
                        b.and_opcode(o)
                    }
                };
            }
            one(b.build(), Op::AsyncCancel { fd, user_data, opcode, flags })
        }
        Input::MsgRing { ring, res, user_data, cqe_flags } => {
            let mut b = op::MsgRing::new(ring.target(), *res, *user_data);
            if let Some(f) = cqe_flags {
                b = b.cqe_flags(*f);
            }
            let want = Op::MsgRing {
                ring: *ring,
                cmd: IORING_MSG_DATA,
                len: *res as u32,
                user_data: *user_data,
                flags: if cqe_flags.is_some() { IORING_MSG_RING_FLAGS_PASS } else { 0 },
                file_index: cqe_flags.unwrap_or(0),
                source: 0,
            };
            one(b.build().into_sqe(), want)
        }
        Input::MsgRingFd { ring, source, dest, user_data, skip } => {
            let r = op::MsgRingFd::new(ring.target(), Fixed(*source), dest.slot(), *user_data);
            let mut b = accepted(r, *dest == Dest::Fd, "a fixed or allocated destination is accepted")?;
            if *skip {
                b = b.skip_cqe();
            }
            let file_index = match dest.canon() {
                Dest::Fd => 0,
                Dest::Alloc => IORING_FILE_INDEX_ALLOC,
                Dest::Fixed(n) => n + 1,
            };
            let want = Op::MsgRing {
                ring: *ring,
                cmd: IORING_MSG_SEND_FD,
                len: 0,
                user_data: *user_data,
                flags: if *skip { IORING_MSG_RING_CQE_SKIP } else { 0 },
                file_index,
                source: u64::from(*source),
            };
            one(b.build().into_sqe(), want)
        }
        Input::FutexWait { val, raw, mask, private, wake } => {
            let addr = raw.unwrap_or(k.futex.as_ptr() as u64);
            let flags = FUTEX2_SIZE_U32 | if *private { FUTEX2_PRIVATE } else { 0 };
            macro_rules! futex_opts {
                ($b:expr) => {{
                    let mut b = $b;
                    if let Some(m) = mask {
                        b = b.mask(*m);
                    }
                    if *private {
                        b = b.private();
                    }
                    b.build()
                }};
            }
            let (sqe, code) = match (raw, wake) {
                (None, false) => (futex_opts!(op::FutexWait::new(&k.futex, *val)), IORING_OP_FUTEX_WAIT),
                (Some(p), false) => {
                    (futex_opts!(op::FutexWait::from_ptr(*p as usize as *const u32, *val)), IORING_OP_FUTEX_WAIT)
                }
                (None, true) => (futex_opts!(op::FutexWake::new(&k.futex, *val)), IORING_OP_FUTEX_WAKE),
                (Some(p), true) => {
                    (futex_opts!(op::FutexWake::from_ptr(*p as usize as *const u32, *val)), IORING_OP_FUTEX_WAKE)
                }
            };
            let want = Op::Futex {
                code,
                flags: flags as i32,
                addr,
                val: u64::from(*val),
                mask: u64::from(mask.unwrap_or(u32::MAX)),
            };
            one(sqe, want)
        }
        Input::FutexWaitv { entries } => {
            let futex = &k.futex;
            k.futexes = entries
                .iter()
                .take(130)
                .map(|&(v, p)| {
                    let e = FutexWaitvEntry::new(futex, v);
                    if p {
                        e.private()
                    } else {
                        e
                    }
                })
                .collect();
            let n = k.futexes.len();
            let r = op::FutexWaitv::new(&k.futexes);
            let b = accepted(r, n == 0 || n > op::FUTEX_WAITV_MAX, "1 to 128 futexes are accepted")?;
            let want = entries
                .iter()
                .take(n)
                .map(|&(v, p)| {
                    (u64::from(v), futex.as_ptr() as u64, FUTEX2_SIZE_U32 | if p { FUTEX2_PRIVATE } else { 0 })
                })
                .collect();
            one(b.build(), Op::FutexWaitv { entries: want })
        }
        Input::UringCmd { t, cmd_op, payload, fixed, group, multishot, big } => {
            let area = if big.is_some() { 80 } else { 16 };
            let mut flags = 0;
            flags |= if fixed.is_some() { IORING_URING_CMD_FIXED } else { 0 };
            flags |= if *multishot { IORING_URING_CMD_MULTISHOT } else { 0 };
            let code = match big {
                Some(true) => IORING_OP_URING_CMD128,
                _ => IORING_OP_URING_CMD,
            };
            let mut want_payload = vec![0u8; area];
            let mut want = |n: usize, bytes: &[u8]| want_payload[..n].copy_from_slice(&bytes[..n]);
            macro_rules! cmd_opts {
                ($b:expr) => {{
                    let mut b = $b;
                    if let Some((sel, bytes)) = payload {
                        let r = with_payload!(*sel, bytes, |p| {
                            let n = core::mem::size_of_val(&p);
                            let r = b.payload(&p);
                            if n > area {
                                assert_invalid(r);
                                return None;
                            }
                            want(n, &bytes[..]);
                            r
                        });
                        b = r.expect("a payload that fits the command area is accepted");
                    }
                    if let Some(i) = fixed {
                        b = b.fixed_buf(*i);
                    }
                    if *multishot {
                        b = b.multishot();
                    }
                    if let Some(g) = group {
                        // The kernel takes a buffer group only on a multishot command.
                        b = accepted(b.buf_group(&BufGroupId(*g)), !*multishot, "a group on a multishot command")?;
                    }
                    b
                }};
            }
            let target: Target = t.target();
            let (sqe, ext) = match big {
                None => (cmd_opts!(op::UringCmd::new(target, *cmd_op)).build(), None),
                Some(mixed) => {
                    let b = if *mixed {
                        op::UringCmd128::mixed(target, *cmd_op)
                    } else {
                        op::UringCmd128::new(target, *cmd_op)
                    };
                    let b = cmd_opts!(b);
                    assert_eq!(&b.payload_bytes()[..], &want_payload[..], "payload_bytes round trip");
                    let s = b.build();
                    (*s.head(), Some(*s.ext()))
                }
            };
            // `buf_index` and `buf_group` share a field: the later setter wins.
            let want = Op::UringCmd {
                code,
                t: *t,
                cmd_op: *cmd_op,
                flags,
                buf_index: if group.is_none() { *fixed } else { None },
                group: *group,
                payload: want_payload,
            };
            Some((sqe, ext, want))
        }
        Input::Nop128 => {
            let s = op::Nop128::new().build();
            let s = s.sqe();
            Some((*s.head(), Some(*s.ext()), Op::Nop128))
        }
    }
}

/// The `SPLICE_F_*` flags a splice or tee entry carries for raw flags `f`: the encoder owns
/// `SPLICE_F_FD_IN_FIXED` (set from the input target, decoded separately), so a caller's bit 31
/// never reaches the entry.
fn splice_flags(f: u32) -> u32 {
    f & !SPLICE_F_FD_IN_FIXED
}

fn read_ts(p: u64) -> (i64, i64) {
    assert_ne!(p, 0, "null timespec");
    // SAFETY: the decoder only sees entries pointing at the input's live `Timespec`.
    let ts = unsafe { core::ptr::read(p as usize as *const __kernel_timespec) };
    (ts.tv_sec, ts.tv_nsec)
}

/// The time a timeout entry carries in `v`: nanoseconds with `IORING_TIMEOUT_IMMEDIATE_ARG` in
/// `flags`, otherwise the address of a timespec (read back through it).
fn time_arg(flags: u32, v: u64) -> (Option<(i64, i64)>, Option<u64>) {
    if flags & IORING_TIMEOUT_IMMEDIATE_ARG != 0 {
        (None, Some(v))
    } else {
        (Some(read_ts(v)), None)
    }
}

fn decode(r: &mut RawSqe, ext: Option<[u8; 64]>) -> Op {
    let code = r.opcode();
    if !matches!(code, IORING_OP_URING_CMD | IORING_OP_URING_CMD128 | IORING_OP_NOP128) {
        assert!(ext.is_none());
    }
    match code {
        IORING_OP_PROVIDE_BUFFERS => {
            Op::ProvideBuffers { nr: r.fd(), addr: r.addr(), buf_len: r.len(), bid: r.off(), bgid: r.buf() }
        }
        IORING_OP_REMOVE_BUFFERS => Op::RemoveBuffers { nr: r.fd(), bgid: r.buf() },
        IORING_OP_SPLICE | IORING_OP_TEE => {
            let fd_out = Tgt::decode(r);
            let flags = r.op_flags();
            let raw_in = r.file() as i32;
            let fd_in = if flags & SPLICE_F_FD_IN_FIXED != 0 { Tgt::Fixed(raw_in as u32) } else { Tgt::Fd(raw_in) };
            let flags = flags & !SPLICE_F_FD_IN_FIXED;
            let len = r.len();
            if code == IORING_OP_SPLICE {
                Op::Splice { fd_in, off_in: r.addr(), fd_out, off_out: r.off(), len, flags }
            } else {
                Op::Tee { fd_in, fd_out, len, flags }
            }
        }
        IORING_OP_PIPE => {
            assert_eq!(r.fd(), 0);
            Op::Pipe { fds: r.addr(), flags: r.op_flags(), dest: Dest::from_file_index(r.file()) }
        }
        IORING_OP_FILES_UPDATE => {
            assert_eq!(r.fd(), -1);
            Op::FilesUpdate { fds: r.addr(), nr: r.len(), offset: r.off() }
        }
        IORING_OP_FIXED_FD_INSTALL => {
            assert!(r.flag(IOSQE_FIXED_FILE), "fixed_fd_install works on a fixed file");
            Op::FixedFdInstall { slot: r.fd() as u32, flags: r.op_flags() }
        }
        IORING_OP_EPOLL_CTL => {
            let (epfd, p, op, fd) = (r.fd(), r.addr(), r.len() as i32, r.off() as i32);
            let event = (p != 0).then(|| {
                // SAFETY: points at the input's live `epoll_event`.
                let e = unsafe { core::ptr::read_unaligned(p as usize as *const libc::epoll_event) };
                (e.events, e.u64)
            });
            Op::EpollCtl { epfd, fd, op, event }
        }
        IORING_OP_EPOLL_WAIT => Op::EpollWait { epfd: Tgt::decode(r), events: r.addr(), max: r.len() },
        IORING_OP_WAITID => Op::Waitid { id: r.fd(), idtype: r.len(), info: r.off(), options: r.file() },
        IORING_OP_POLL_ADD => Op::PollAdd { t: Tgt::decode(r), flags: r.len(), events: r.op_flags() },
        IORING_OP_POLL_REMOVE => {
            assert_eq!(r.fd(), -1);
            Op::PollRemove { user_data: r.addr(), flags: r.len(), events: r.op_flags(), new_user_data: r.off() }
        }
        IORING_OP_TIMEOUT => {
            assert_eq!(r.fd(), -1);
            assert_eq!(r.len(), 1, "timeout takes one timespec");
            let flags = r.op_flags();
            let (ts, ns) = time_arg(flags, r.addr());
            Op::Timeout { ts, ns, count: r.off(), flags }
        }
        IORING_OP_TIMEOUT_REMOVE => {
            assert_eq!(r.fd(), -1);
            let flags = r.op_flags();
            let user_data = r.addr();
            let (ts, ns) =
                if flags & IORING_TIMEOUT_UPDATE_MASK == 0 { (None, None) } else { time_arg(flags, r.off()) };
            Op::TimeoutRemove { user_data, flags, ts, ns }
        }
        IORING_OP_LINK_TIMEOUT => {
            assert_eq!(r.fd(), -1);
            assert_eq!(r.len(), 1, "link timeout takes one timespec");
            let flags = r.op_flags();
            let (ts, ns) = time_arg(flags, r.addr());
            Op::LinkTimeout { ts, ns, flags }
        }
        IORING_OP_ASYNC_CANCEL => {
            Op::AsyncCancel { fd: r.fd(), user_data: r.addr(), opcode: r.len(), flags: r.op_flags() }
        }
        IORING_OP_MSG_RING => {
            let ring = Tgt::decode(r);
            let cmd = r.addr();
            let source = if cmd == IORING_MSG_SEND_FD { r.addr3() } else { 0 };
            Op::MsgRing {
                ring,
                cmd,
                len: r.len(),
                user_data: r.off(),
                flags: r.op_flags(),
                file_index: r.file(),
                source,
            }
        }
        IORING_OP_FUTEX_WAIT | IORING_OP_FUTEX_WAKE => {
            Op::Futex { code, flags: r.fd(), addr: r.addr(), val: r.off(), mask: r.addr3() }
        }
        IORING_OP_FUTEX_WAITV => {
            let (p, n) = (r.addr(), r.len() as usize);
            assert!((1..=op::FUTEX_WAITV_MAX).contains(&n));
            // SAFETY: points at the input's live vector of `n` entries.
            let v = unsafe { std::slice::from_raw_parts(p as usize as *const FutexWaitvEntry, n) };
            for e in v {
                assert_eq!(e.__reserved, 0);
            }
            Op::FutexWaitv { entries: v.iter().map(|e| (e.val, e.uaddr, e.flags)).collect() }
        }
        IORING_OP_URING_CMD | IORING_OP_URING_CMD128 => {
            let t = Tgt::decode(r);
            let cmd_op = r.cmd_op();
            let flags = r.op_flags();
            assert_eq!(flags & !IORING_URING_CMD_MASK, 0, "unknown uring_cmd flags");
            let group = r.flag(IOSQE_BUFFER_SELECT).then(|| r.buf());
            let buf_index = (group.is_none() && flags & IORING_URING_CMD_FIXED != 0).then(|| r.buf());
            let mut payload = r.cmd().to_vec();
            if let Some(e) = ext {
                // The 80-byte command area: 16 bytes here, 64 in the second half.
                payload.extend_from_slice(&e);
            }
            Op::UringCmd { code, t, cmd_op, flags, buf_index, group, payload }
        }
        IORING_OP_NOP128 => {
            assert_eq!(r.fd(), -1);
            assert_eq!(ext, Some([0u8; 64]), "NOP128 second half");
            Op::Nop128
        }
        other => panic!("unexpected opcode {other}"),
    }
}

/// A borrowed fd for an entry that is only encoded (`None` for -1, which no `BorrowedFd` holds).
fn borrowed(fd: i32) -> Option<BorrowedFd<'static>> {
    // SAFETY: the entries built from it are encoded and decoded, never submitted: the number is
    // never looked up as a file.
    (fd != -1).then(|| unsafe { BorrowedFd::borrow_raw(fd) })
}

/// An `ASYNC_CANCEL` key being built: it names an ordinary fd (`AsyncCancelFd`) or not.
enum Cancel {
    Plain(op::AsyncCancel),
    Fd(op::AsyncCancelFd<'static>),
}

impl Cancel {
    /// A key of the file `t`.
    fn key(t: Tgt) -> Option<Cancel> {
        Some(match t {
            Tgt::Fd(f) => Cancel::Fd(op::AsyncCancel::fd(borrowed(f)?)),
            Tgt::Fixed(s) => Cancel::Plain(op::AsyncCancel::fixed(Fixed(s))),
        })
    }
    fn with_fd(self, t: Tgt) -> Option<Cancel> {
        Some(match (self, t) {
            (Cancel::Plain(b), Tgt::Fd(f)) => Cancel::Fd(b.and_fd(borrowed(f)?)),
            (Cancel::Fd(b), Tgt::Fd(f)) => Cancel::Fd(b.and_fd(borrowed(f)?)),
            (Cancel::Plain(b), Tgt::Fixed(s)) => Cancel::Plain(b.and_fixed(Fixed(s))),
            (Cancel::Fd(b), Tgt::Fixed(s)) => Cancel::Plain(b.and_fixed(Fixed(s))),
        })
    }
    fn all(self) -> Cancel {
        match self {
            Cancel::Plain(b) => Cancel::Plain(b.all()),
            Cancel::Fd(b) => Cancel::Fd(b.all()),
        }
    }
    fn and_user_data(self, u: u64) -> Cancel {
        match self {
            Cancel::Plain(b) => Cancel::Plain(b.and_user_data(u)),
            Cancel::Fd(b) => Cancel::Fd(b.and_user_data(u)),
        }
    }
    fn and_opcode(self, o: u8) -> Cancel {
        match self {
            Cancel::Plain(b) => Cancel::Plain(b.and_opcode(o)),
            Cancel::Fd(b) => Cancel::Fd(b.and_opcode(o)),
        }
    }
    fn build(self) -> Sqe {
        match self {
            Cancel::Plain(b) => b.build().into_sqe(),
            Cancel::Fd(b) => b.build().into_sqe(),
        }
    }
}

fuzz_target!(|input: (Input, Common)| {
    let (input, common) = input;
    let mut pool = vec![0u8; POOL];
    let mut k = Keep {
        fds: [-1; 2],
        files: Vec::new(),
        event: libc::epoll_event { events: 0, u64: 0 },
        events: Vec::new(),
        // SAFETY: `siginfo_t` is plain integers; all-zero is valid.
        info: unsafe { core::mem::zeroed() },
        ts: Timespec::default(),
        futex: AtomicU32::new(0),
        futexes: Vec::new(),
    };
    let Some((sqe, ext, want)) = encode(&input, &mut pool, &mut k) else { return };
    let sqe = common.apply(sqe);
    let mut r = RawSqe::new(sqe.as_raw());
    let got = decode(&mut r, ext);
    assert_eq!(got, want, "decoded operation differs from the one encoded ({input:?})");
    assert_eq!(Common::decode(&mut r), common.canon(), "common options");
    r.finish();
});
