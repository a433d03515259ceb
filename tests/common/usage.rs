//! Shared machinery of the usage-pattern tests (`tests/usage_*.rs`): the loops users write, run
//! on every setup mode, past the rings' sizes.
//!
//! Include it with `mod common;` and `#[macro_use] #[path = "common/usage.rs"] mod usage;`.
//!
//! - [`MODES`]: the setup modes, one table: how each ring is built and what it needs.
//! - [`watchdog`]: runs a test body in its own thread; a body that does not finish in time
//!   aborts the process with `HANG in <test>: stuck in <label> after <n> completions`, naming the
//!   ring call it was in ([`Watch::at`]).
//! - [`Book`]: every `user_data` pushed, checked off exactly once with the expected result.
//! - [`Rounds`] and [`drive`]: the same rounds for every reap path: one operation at a time
//!   (past twice the CQ), a full SQ, a burst of more than the CQ holds (CQ overflow), all NOPs
//!   until ten times the CQ has completed; then reads on pipes whose completions arrive later,
//!   through task work, in full-SQ rounds and in bursts that overflow the CQ.
//! - [`thread_cpu`]: CPU time of the calling thread (`getrusage(RUSAGE_THREAD)`).
//! - [`usage_matrix!`]: one `#[test]` per (mode, path): `mod <mode> { fn <path>() }`.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::Write as _;
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use uring::{op, Cqe, CqeFlags, Error, Ring, RingMemory, SafeSqe, SafeSqe128};

use crate::common::{note, skip};

/// SQ entries of every ring in the layer.
pub const SQ: u32 = 4;
/// CQ entries of every ring in the layer (slots, on a mixed ring).
pub const CQ: u32 = 8;
/// NOP completions each test reaps in its full-SQ and burst rounds: ten times the CQ.
pub const VOLUME: u64 = 10 * CQ as u64;
/// Operations a burst pushes and submits before reaping any: more than the CQ holds.
pub const BURST: u32 = CQ + SQ;
/// Rounds of one operation pushed and reaped at a time (the README's loop): past twice the CQ.
pub const SINGLES: u32 = 2 * CQ + SQ;
/// Pairs of rounds (a full SQ, then a burst) of reads on pipes.
pub const TASK_WORK_ROUNDS: u32 = 3;
/// Bytes of each read buffer (a payload is at most 8).
pub const READ_LEN: usize = 16;
/// How long a blocking-wait test waits with nothing to complete.
pub const IDLE_WAIT: Duration = Duration::from_millis(200);
/// The most CPU time such a wait may use.
pub const IDLE_WAIT_CPU: Duration = Duration::from_millis(20);

// ---- watchdog ----

/// How long a test body may run: `USAGE_WATCHDOG_SECS`, 5 s by default. Every body does a few
/// hundred operations and sleeps well under a second in all.
pub fn watchdog_limit() -> Duration {
    let secs = std::env::var("USAGE_WATCHDOG_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(5);
    Duration::from_secs(secs)
}

/// What a test body is doing, for the watchdog's report.
#[derive(Clone, Default)]
pub struct Watch(Arc<WatchState>);

#[derive(Default)]
struct WatchState {
    label: Mutex<&'static str>,
    completions: AtomicU64,
    /// Calls recorded since the last completion (a spinning loop shows as a large number).
    calls: AtomicU64,
}

impl Watch {
    /// Records that the body is about to call `label` (e.g. `"Ring::wait_cqe"`).
    #[inline]
    pub fn at(&self, label: &'static str) {
        *self.0.label.lock().unwrap_or_else(|e| e.into_inner()) = label;
        self.0.calls.fetch_add(1, Relaxed);
    }

    /// Records one completion.
    #[inline]
    pub fn completed(&self) {
        self.0.completions.fetch_add(1, Relaxed);
        self.0.calls.store(0, Relaxed);
    }

    /// Completions recorded so far.
    pub fn completions(&self) -> u64 {
        self.0.completions.load(Relaxed)
    }

    fn label(&self) -> &'static str {
        *self.0.label.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Runs `body` in a thread of its own (which builds and uses the ring: single-issuer rings and
/// registered ring fds belong to it). If it does not finish within [`watchdog_limit`], prints
/// `HANG in <test>: stuck in <label> after <n> completions` straight to stderr and aborts the
/// process, so a hang fails in seconds, naming the call. A panic in the body fails the test.
pub fn watchdog(test: &'static str, body: impl FnOnce(&Watch) + Send + 'static) {
    let watch = Watch::default();
    watch.at("(setup)");
    let w = watch.clone();
    let (tx, rx) = mpsc::channel::<()>();
    let handle = std::thread::Builder::new()
        .name(test.to_string())
        .spawn(move || {
            body(&w);
            let _ = tx.send(());
        })
        .expect("spawn the test body");
    let limit = watchdog_limit();
    match rx.recv_timeout(limit) {
        // Disconnected: the body panicked; join hands the panic on.
        Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => {
            if let Err(p) = handle.join() {
                std::panic::resume_unwind(p);
            }
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            let _ = writeln!(
                std::io::stderr().lock(),
                "\nHANG in {test}: stuck in {} after {} completions ({} calls since the last completion; \
                 watchdog {limit:?})",
                watch.label(),
                watch.completions(),
                watch.0.calls.load(Relaxed),
            );
            std::process::abort();
        }
    }
}

// ---- setup modes ----

/// The SQPOLL variants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sqpoll {
    /// No SQ thread.
    No,
    /// 1 ms idle: before every round the test waits until the thread sleeps
    /// (`IORING_SQ_NEED_WAKEUP`), so every submission has to wake it.
    Asleep,
    /// A long idle time: the thread polls through the whole test.
    Awake,
}

/// 128-byte submissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BigSqe {
    No,
    /// `IORING_SETUP_SQE128`: every third NOP is pushed as a 128-byte entry.
    Sqe128,
    /// `IORING_SETUP_SQE_MIXED`: every third entry is a two-slot `IORING_OP_NOP128`.
    Mixed,
}

/// One setup mode: how its ring is built and what the tests must know about it.
pub struct Mode {
    /// The name of the test module (`<mode>::<path>`).
    pub name: &'static str,
    /// The setup, with its kernel names and first kernel version, for skip messages.
    pub what: &'static str,
    /// Builds the ring: [`SQ`] entries, a CQ of [`CQ`].
    pub build: fn() -> uring::Result<Ring>,
    /// Registers the ring fd after setup (`Ring::register_ring_fd`).
    pub register_fd: bool,
    pub sqpoll: Sqpoll,
    /// Task work is deferred and not flagged to user space (`DEFER_TASKRUN` without
    /// `TASKRUN_FLAG`): a loop that does not wait must ask for it with `get_events`, as with
    /// liburing (whose `io_uring_submit` cannot see it either).
    pub unflagged_task_work: bool,
    /// Reads on pipes are allowed (not on IOPOLL rings, which take only pollable files).
    pub pipes: bool,
    /// `IORING_SETUP_IOPOLL`: waits poll, never sleep.
    pub iopoll: bool,
    pub big_sqe: BigSqe,
    /// Every third NOP asks for a 32-byte completion (`IORING_NOP_CQE32`, Linux 6.18).
    pub big_cqe: bool,
    /// The CQ mixes 16- and 32-byte completions (`IORING_SETUP_CQE_MIXED`).
    pub mixed_cqe: bool,
}

const fn mode(name: &'static str, what: &'static str, build: fn() -> uring::Result<Ring>) -> Mode {
    Mode {
        name,
        what,
        build,
        register_fd: false,
        sqpoll: Sqpoll::No,
        unflagged_task_work: false,
        pipes: true,
        iopoll: false,
        big_sqe: BigSqe::No,
        big_cqe: false,
        mixed_cqe: false,
    }
}

/// Every setup mode of the layer. `usage_matrix!` lists the same names.
pub static MODES: &[Mode] = &[
    mode("default", "default setup", || Ring::builder().cq_entries(CQ).build(SQ)),
    Mode {
        sqpoll: Sqpoll::Asleep,
        ..mode("sqpoll_asleep", "IORING_SETUP_SQPOLL, 1 ms idle (5.1; unprivileged 5.11)", || {
            Ring::builder().sqpoll(1).cq_entries(CQ).build(SQ)
        })
    },
    Mode {
        sqpoll: Sqpoll::Awake,
        ..mode("sqpoll_awake", "IORING_SETUP_SQPOLL, 10 s idle (5.1; unprivileged 5.11)", || {
            Ring::builder().sqpoll(10_000).cq_entries(CQ).build(SQ)
        })
    },
    Mode {
        unflagged_task_work: true,
        ..mode("defer_taskrun", "IORING_SETUP_DEFER_TASKRUN + IORING_SETUP_SINGLE_ISSUER (6.1)", || {
            Ring::builder().single_issuer().defer_taskrun().cq_entries(CQ).build(SQ)
        })
    },
    mode(
        "defer_taskrun_flag",
        "IORING_SETUP_DEFER_TASKRUN + IORING_SETUP_SINGLE_ISSUER + IORING_SETUP_TASKRUN_FLAG (6.1)",
        || Ring::builder().single_issuer().defer_taskrun().taskrun_flag().cq_entries(CQ).build(SQ),
    ),
    mode("coop_taskrun_flag", "IORING_SETUP_COOP_TASKRUN + IORING_SETUP_TASKRUN_FLAG (5.19)", || {
        Ring::builder().coop_taskrun().taskrun_flag().cq_entries(CQ).build(SQ)
    }),
    Mode {
        pipes: false,
        iopoll: true,
        ..mode("iopoll", "IORING_SETUP_IOPOLL (5.1) with NOPs", || Ring::builder().iopoll().cq_entries(CQ).build(SQ))
    },
    Mode {
        register_fd: true,
        ..mode("registered_fd", "a registered ring fd (IORING_REGISTER_RING_FDS, 5.18)", || {
            Ring::builder().cq_entries(CQ).build(SQ)
        })
    },
    mode("no_mmap", "IORING_SETUP_NO_MMAP in memory the crate maps (6.5)", || {
        Ring::builder().no_mmap(RingMemory::Anonymous).cq_entries(CQ).build(SQ)
    }),
    Mode {
        big_sqe: BigSqe::Sqe128,
        big_cqe: true,
        ..mode("sqe128_cqe32", "IORING_SETUP_SQE128 + IORING_SETUP_CQE32 (5.19)", || {
            Ring::builder().sqe128().cqe32().cq_entries(CQ).build(SQ)
        })
    },
    Mode {
        big_cqe: true,
        mixed_cqe: true,
        ..mode("cqe_mixed", "IORING_SETUP_CQE_MIXED with IORING_NOP_CQE32", || {
            Ring::builder().cqe_mixed().cq_entries(CQ).build(SQ)
        })
    },
    Mode {
        big_sqe: BigSqe::Mixed,
        ..mode("sqe_mixed", "IORING_SETUP_SQE_MIXED with IORING_OP_NOP128", || {
            Ring::builder().sqe_mixed().cq_entries(CQ).build(SQ)
        })
    },
];

/// The mode called `name`.
pub fn mode_named(name: &str) -> &'static Mode {
    MODES.iter().find(|m| m.name == name).unwrap_or_else(|| panic!("no setup mode {name:?} in MODES"))
}

/// Whether a setup error means "this kernel or machine does not offer it".
fn refused(e: &Error) -> bool {
    matches!(e, Error::Unsupported { .. })
        || [libc::EINVAL, libc::EPERM, libc::EOPNOTSUPP, libc::ENOSYS].iter().any(|&n| e.is_errno(n))
}

/// Builds the ring of `mode` and checks that it takes this mode's entries (a NOP of each shape
/// round-trips); on a kernel or machine that lacks something, prints `SKIPPED <test>: <why>`
/// and returns `None`. Big completions that `sqe128_cqe32` cannot ask for are turned off with
/// a note (the ring is still tested with 32-byte slots).
pub fn open(mode: &'static Mode, test: &str, w: &Watch) -> Option<(Ring, Shape)> {
    w.at("Builder::build");
    let mut ring = match (mode.build)() {
        Ok(r) => r,
        Err(e) if refused(&e) => {
            skip(test, format!("{} refused: {e}", mode.what));
            return None;
        }
        Err(e) => panic!("{test}: {} failed: {e}", mode.what),
    };
    if mode.register_fd {
        w.at("Ring::register_ring_fd");
        match ring.register_ring_fd() {
            Ok(_) => {}
            Err(e) if refused(&e) => {
                skip(test, format!("{} refused: {e}", mode.what));
                return None;
            }
            Err(e) => panic!("{test}: register_ring_fd: {e}"),
        }
    }
    assert_eq!((ring.sq().capacity(), ring.cq().capacity()), (SQ, CQ), "{test}: ring sizes");
    let mut shape =
        Shape { big_sqe: mode.big_sqe, big_cqe: mode.big_cqe, big_cqe_bursts: true, mixed_cqe: mode.mixed_cqe };
    if mode.big_sqe == BigSqe::Mixed {
        w.at("Probe::of");
        let probe = uring::Probe::of(&ring).expect("probe");
        if !probe.is_supported(uring::uapi::IORING_OP_NOP128) {
            skip(test, "kernel lacks IORING_OP_NOP128 (6.18)");
            return None;
        }
    }
    // A NOP round trip: the plain one (refused on some IOPOLL setups), then a big completion.
    let plain = probe_nop(&mut ring, op::Nop::new().build().user_data(1), w);
    if plain != 0 {
        skip(test, format!("{}: a NOP completes with {}", mode.what, errno_name(plain)));
        return None;
    }
    if shape.big_cqe {
        let big = probe_nop(&mut ring, op::Nop::new().cqe32([1, 2]).build().user_data(2), w);
        if big != 0 {
            if shape.mixed_cqe {
                skip(test, format!("kernel lacks IORING_NOP_CQE32 (6.18): {}", errno_name(big)));
                return None;
            }
            note(test, "kernel lacks IORING_NOP_CQE32 (6.18): only 16-byte NOP results in 32-byte slots");
            shape.big_cqe = false;
        }
    }
    if shape.mixed_cqe && shape.big_cqe && !mixed_overflow_sound(mode, w) {
        note(
            test,
            "KERNEL BUG: on this kernel a 32-byte completion that meets the end of a full CQE_MIXED ring \
             overflows, yet the next 16-byte completion overwrites the padding entry and the tail counts a \
             slot never written (a stale completion is posted, the 32-byte one comes later): bursts ask for \
             16-byte completions only",
        );
        shape.big_cqe_bursts = false;
    }
    Some((ring, shape))
}

/// Whether the kernel keeps a `CQE_MIXED` ring consistent when a 32-byte completion meets the
/// ring's end with the CQ nearly full: on a fresh ring of `mode`, 7 NOPs fill slots 0-6, then a
/// 32-byte NOP (the padding entry takes slot 7, the completion no room: overflow) and a 16-byte
/// one. Linux 6.18 posts the 16-byte completion over the padding entry and advances the tail
/// past slot 0, which it never wrote: more slots "ready" than the ring has.
pub fn mixed_overflow_sound(mode: &Mode, w: &Watch) -> bool {
    w.at("(probing CQE_MIXED overflow)");
    let mut ring = (mode.build)().expect("a second ring of the mode");
    let mut ud = 0;
    while ud < 7 {
        if ring.sq().push(&op::Nop::new().build().user_data(ud)).is_ok() {
            ud += 1;
        } else {
            ring.submit().expect("submit");
        }
    }
    ring.submit().expect("submit");
    ring.sq().push(&op::Nop::new().cqe32([7, 7]).build().user_data(7)).expect("push");
    ring.sq().push(&op::Nop::new().build().user_data(8)).expect("push");
    ring.submit().expect("submit");
    ring.cq().ready() <= CQ
}

fn probe_nop(ring: &mut Ring, sqe: SafeSqe, w: &Watch) -> i32 {
    ring.sq().push(&sqe).expect("an empty SQ takes a NOP");
    w.at("Ring::submit_and_wait (probe)");
    ring.submit_and_wait(1).expect("probe submit");
    w.at("CompletionQueue::pop (probe)");
    ring.cq().pop().expect("probe completion").raw_result()
}

fn errno_name(res: i32) -> String {
    format!("{res} ({})", std::io::Error::from_raw_os_error(-res))
}

/// The entry shapes a ring of a mode is tested with (after probing).
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub big_sqe: BigSqe,
    pub big_cqe: bool,
    /// Whether bursts (which overflow the CQ) may ask for 32-byte completions: not on a mixed
    /// CQ whose kernel mishandles them ([`mixed_overflow_sound`]).
    pub big_cqe_bursts: bool,
    pub mixed_cqe: bool,
}

/// A NOP entry, 64- or 128-byte.
pub enum Entry {
    Small(SafeSqe),
    Big(SafeSqe128),
}

impl Shape {
    /// The NOP with `user_data` `ud`, and whether it asks for a 32-byte completion. Every third
    /// one (by `ud`) is a 128-byte entry where the ring takes them, and another third asks for
    /// a 32-byte completion where the ring has room for them.
    /// `bursting`: the NOP is part of a burst past the CQ.
    pub fn nop(&self, ud: u64, bursting: bool) -> (Entry, bool) {
        let (small, big_cqe) = self.small_nop(ud, bursting);
        let entry = match self.big_sqe {
            BigSqe::Sqe128 if ud % 3 == 1 => Entry::Big(small.into128()),
            BigSqe::Mixed if ud % 3 == 1 => Entry::Big(op::Nop128::new().build().user_data(ud)),
            _ => Entry::Small(small),
        };
        (entry, big_cqe)
    }

    /// The NOP with `user_data` `ud` as a 64-byte entry, and whether it asks for a 32-byte
    /// completion (every third one, where the ring has room for them).
    pub fn small_nop(&self, ud: u64, bursting: bool) -> (SafeSqe, bool) {
        let big_cqe = self.big_cqe && (self.big_cqe_bursts || !bursting) && ud % 3 == 2;
        let nop = if big_cqe { op::Nop::new().cqe32([ud, !ud]) } else { op::Nop::new() };
        (nop.build().user_data(ud), big_cqe)
    }
}

/// Pushes `entry`; `false` when the SQ has no room for it.
pub fn try_push(sq: &mut uring::SubmissionQueue, entry: &Entry) -> bool {
    match entry {
        Entry::Small(sqe) => sq.push(sqe).is_ok(),
        Entry::Big(sqe) => match sq.push128(sqe) {
            Ok(()) => true,
            Err(uring::PushError128::Full) => false,
            Err(e) => panic!("push128: {e}"),
        },
    }
}

// ---- the book of user_data ----

/// `USAGE_TRACE=1`: print every push and completion (to find where a sequence goes wrong).
fn tracing() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("USAGE_TRACE").is_some())
}

/// What a pushed operation must complete with.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// A NOP: result 0; on a mixed CQ, a 32-byte completion exactly when asked for.
    Nop { big_cqe: bool },
    /// A raw read into read buffer `idx` of `len` bytes of `byte`.
    RawRead { idx: usize, len: usize, byte: u8 },
    /// An owned NOP (`uring::owned::Nop`), handed back on its completion.
    OwnedNop,
    /// An owned read of `len` bytes of `byte`, whose buffer comes back with the completion.
    OwnedRead { len: usize, byte: u8 },
}

/// What identifies an operation in flight: its raw `user_data`, or the owned layer's id (which
/// carries a generation: no two pushes share one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Key {
    Raw(u64),
    Owned(uring::owned::OpId),
}

/// Every operation in flight, with what it must complete with; each is checked off exactly
/// once.
pub struct Book {
    pub watch: Watch,
    expect: HashMap<Key, Kind>,
    /// Completions checked off.
    pub done: u64,
    next_ud: u64,
    /// Whether the current round's completions arrive through task work.
    pub task_work: bool,
    /// Whether the current round is a burst (more than the CQ holds).
    pub bursting: bool,
    /// Rounds that began with the SQPOLL thread asleep.
    pub asleep_rounds: u32,
    pub rounds: u32,
    /// Buffers of raw reads (one per pipe), each its own allocation, so that a reference to one
    /// never covers another the kernel may be writing; leaked, not freed, if the book is
    /// dropped with reads in flight (a failed test).
    #[allow(clippy::vec_box)] // one allocation per buffer, on purpose
    bufs: Vec<Box<[u8; READ_LEN]>>,
}

impl Book {
    pub fn new(watch: &Watch) -> Book {
        Book {
            watch: watch.clone(),
            expect: HashMap::new(),
            done: 0,
            next_ud: 0x100,
            task_work: false,
            bursting: false,
            asleep_rounds: 0,
            rounds: 0,
            bufs: (0..BURST).map(|_| Box::new([0; READ_LEN])).collect(),
        }
    }

    /// A fresh raw `user_data` (below 2^63).
    pub fn next_ud(&mut self) -> u64 {
        self.next_ud += 1;
        self.next_ud
    }

    /// Records the operation `key`, just pushed.
    pub fn expect(&mut self, key: Key, kind: Kind) {
        if tracing() {
            eprintln!("PUSH {key:x?} {kind:?}");
        }
        assert!(self.expect.insert(key, kind).is_none(), "{key:x?} pushed twice");
    }

    /// Operations pushed and not yet completed.
    pub fn outstanding(&self) -> u32 {
        self.expect.len() as u32
    }

    /// Checks off the completion `cqe` of operation `key`: it must be outstanding (so never
    /// seen twice) and carry the expected result. Returns what it was.
    pub fn check(&mut self, key: Key, cqe: &Cqe) -> Kind {
        if tracing() {
            eprintln!("REAP {key:x?} {cqe:?}");
        }
        let Some(kind) = self.expect.remove(&key) else {
            panic!("completion {cqe:?} is not outstanding: seen twice, or never pushed ({} completed)", self.done);
        };
        let want = match kind {
            Kind::Nop { .. } | Kind::OwnedNop => 0,
            Kind::RawRead { len, .. } | Kind::OwnedRead { len, .. } => len as i32,
        };
        assert_eq!(cqe.raw_result(), want, "result of {kind:?} ({cqe:?})");
        self.done += 1;
        self.watch.completed();
        kind
    }

    /// Checks off a completion of the raw layer, and the bytes a read brought.
    pub fn reap(&mut self, cqe: &Cqe, shape: &Shape) {
        match self.check(Key::Raw(cqe.user_data()), cqe) {
            Kind::Nop { big_cqe } => {
                if shape.mixed_cqe {
                    assert_eq!(cqe.flags().contains(CqeFlags::CQE_32), big_cqe, "CQE size of {cqe:?}");
                }
            }
            Kind::RawRead { idx, len, byte } => {
                // The read completed: the kernel is done with this buffer.
                let buf = &mut *self.bufs[idx];
                assert!(buf[..len].iter().all(|&b| b == byte), "read {idx}: {:?}, want {len} x {byte}", &buf[..len]);
                buf.fill(0);
            }
            k => panic!("an owned completion {k:?} on the raw path"),
        }
    }

    /// Read buffer `idx`, for a raw read (no read of it may be in flight).
    pub fn buf(&mut self, idx: usize) -> &mut [u8; READ_LEN] {
        assert!(
            !self.expect.values().any(|k| matches!(k, Kind::RawRead { idx: i, .. } if *i == idx)),
            "read buffer {idx} is in use"
        );
        &mut self.bufs[idx]
    }

    /// The checks at the end of a test: nothing outstanding, the volume reached, and (SQPOLL
    /// asleep) the thread was found asleep.
    pub fn finish(&self, test: &str, mode: &Mode) {
        assert_eq!(self.outstanding(), 0, "{test}: operations never completed");
        assert!(self.done >= VOLUME, "{test}: only {} completions", self.done);
        if mode.sqpoll == Sqpoll::Asleep {
            assert!(self.asleep_rounds > 0, "{test}: the SQPOLL thread never went to sleep");
            if self.asleep_rounds < self.rounds {
                note(test, format!("SQPOLL thread asleep in {} of {} rounds", self.asleep_rounds, self.rounds));
            }
        }
    }
}

impl Drop for Book {
    fn drop(&mut self) {
        if self.expect.values().any(|k| matches!(k, Kind::RawRead { .. })) {
            // Reads may still be in flight into these buffers: never free them under the kernel.
            std::mem::forget(std::mem::take(&mut self.bufs));
        }
    }
}

/// Before a round on an SQPOLL ring with a short idle time: waits until the SQ thread sleeps
/// (`need_wakeup` reads `IORING_SQ_NEED_WAKEUP`), at most a second, and counts the rounds in
/// [`Book::asleep_rounds`].
pub fn settle(mode: &Mode, book: &mut Book, mut need_wakeup: impl FnMut() -> bool) {
    book.rounds += 1;
    if mode.sqpoll != Sqpoll::Asleep {
        return;
    }
    book.watch.at("(waiting for the SQPOLL thread to sleep)");
    let deadline = Instant::now() + Duration::from_secs(1);
    while !need_wakeup() {
        if Instant::now() > deadline {
            return;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    book.asleep_rounds += 1;
}

// ---- pipes: completions through task work ----

/// [`BURST`] pipes: reads on their read ends complete when another thread writes.
pub struct Pipes {
    pub r: Vec<OwnedFd>,
    pub w: Arc<Vec<OwnedFd>>,
}

impl Pipes {
    pub fn new() -> Pipes {
        let (r, w): (Vec<_>, Vec<_>) = (0..BURST).map(|_| rustix::pipe::pipe().expect("pipe")).unzip();
        Pipes { r, w: Arc::new(w) }
    }
}

/// The payload written to pipe `idx` in round `round`: 1 to 8 bytes, all one value.
pub fn payload(idx: usize, round: u32) -> (usize, u8) {
    (1 + (idx + round as usize) % 8, (round as usize * 31 + idx) as u8 | 1)
}

/// A thread that writes the payloads of `round` into pipes `0..n` after 1 ms, from outside
/// the ring's thread: the reads complete through task work of the ring's thread.
pub fn write_later(pipes: &Pipes, n: usize, round: u32) -> JoinHandle<()> {
    let w = pipes.w.clone();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1));
        for (idx, fd) in w.iter().enumerate().take(n) {
            let (len, byte) = payload(idx, round);
            let n = rustix::io::write(fd, &[byte; 8][..len]).expect("write to a pipe");
            assert_eq!(n, len);
        }
    })
}

// ---- the rounds ----

/// The operations of one test's rounds, for a ring of the raw or the owned layer. A path
/// (`fn(&mut C)`) then gets every outstanding completion back, submitting what is pushed its
/// own way.
pub trait Rounds {
    fn book(&mut self) -> &mut Book;
    fn mode(&self) -> &'static Mode;
    /// Waits for the SQPOLL thread to sleep, where the mode wants that.
    fn settle(&mut self);
    /// Pushes up to `max` NOPs, fewer when the SQ (or the owned layer's table) fills; returns
    /// how many. `raw`: on an owned ring, raw-layer NOPs (`OwnedRing::push_safe`), which the
    /// table does not limit, so a burst can push more than the CQ holds.
    fn push_nops(&mut self, max: u32, raw: bool) -> u32;
    /// Pushes a read of pipe `idx` for round `round` (`false`: the SQ is full).
    fn push_read(&mut self, idx: usize, round: u32) -> bool;
    /// The most reads a burst may have in flight ([`BURST`]; the owned layer's table holds
    /// [`CQ`]: raw NOPs make up the rest of its bursts).
    fn burst_reads(&self) -> u32 {
        BURST
    }
    /// `submit()` (bursts only: the lockstep rounds leave submitting to the path).
    fn submit(&mut self);
    fn pipes(&self) -> &Pipes;
    fn finish(&mut self, test: &str);
}

/// One test: the NOP rounds (one at a time, a full SQ, a burst past the CQ) until ten times the
/// CQ completed, then the task-work rounds, each reaped by `path`.
pub fn drive<C: Rounds>(c: &mut C, test: &str, path: fn(&mut C)) {
    // 1. One operation at a time, past twice the CQ (README: `push; wait` in a loop).
    for i in 0..SINGLES {
        // (An SQPOLL thread takes about 8 ms to fall asleep: every fourth round is enough.)
        if i % 4 == 0 {
            c.settle();
        }
        assert_eq!(c.push_nops(1, false), 1, "an empty SQ takes a NOP");
        path(c);
    }
    // 2. A full SQ, then a burst of more than the CQ holds, until ten times the CQ completed.
    let start = c.book().done;
    let mut burst = false;
    while c.book().done - start < VOLUME {
        // A burst is submitted with `submit` before the path runs; a full SQ is left for the
        // path to submit: that is the round that must find the SQPOLL thread asleep.
        if !burst {
            c.settle();
        }
        if burst {
            c.book().bursting = true;
            let mut pushed = 0;
            while pushed < BURST {
                let n = if pushed < CQ { c.push_nops(CQ - pushed, false) } else { c.push_nops(BURST - pushed, true) };
                pushed += n;
                if n == 0 {
                    c.submit();
                }
            }
            c.submit();
            c.book().bursting = false;
        } else {
            assert!(c.push_nops(2 * SQ, false) > 0, "an empty SQ takes NOPs");
        }
        path(c);
        burst = !burst;
    }
    // 3. Reads on pipes, written from another thread: completions through task work.
    if !c.mode().pipes {
        note(test, format!("{}: no reads on pipes (not a pollable file for this ring)", c.mode().what));
    } else {
        c.book().task_work = true;
        for round in 0..2 * TASK_WORK_ROUNDS {
            let burst = round % 2 == 1;
            if !burst {
                c.settle();
            }
            let n = if burst { c.burst_reads() } else { SQ } as usize;
            let mut idx = 0;
            while idx < n {
                if c.push_read(idx, round) {
                    idx += 1;
                } else {
                    assert!(burst, "an empty SQ takes {SQ} reads");
                    c.submit();
                }
            }
            if burst {
                // Raw NOPs, if the reads alone do not fill more than the CQ.
                let mut extra = BURST - n as u32;
                while extra > 0 {
                    let k = c.push_nops(extra, true);
                    extra -= k;
                    if k == 0 {
                        c.submit();
                    }
                }
                // Submitted before the writes: every read waits, then completes through task
                // work, more than the CQ holds.
                c.submit();
            }
            let writer = write_later(c.pipes(), n, round);
            path(c);
            writer.join().expect("writer");
        }
        c.book().task_work = false;
    }
    c.finish(test);
}

// ---- the raw layer ----

/// A raw ring under test.
pub struct Cell {
    // Declared first: dropped (its requests cancelled) before the pipes and the book's buffers.
    pub ring: Ring,
    pub book: Book,
    pub mode: &'static Mode,
    pub shape: Shape,
    pub pipes: Pipes,
}

impl Cell {
    /// The ring of `mode`, or `None` (skipped with the reason printed).
    pub fn open(mode: &'static Mode, test: &'static str, w: &Watch) -> Option<Cell> {
        let (ring, shape) = open(mode, test, w)?;
        Some(Cell { ring, book: Book::new(w), mode, shape, pipes: Pipes::new() })
    }

    /// Records the call about to be made.
    #[inline]
    pub fn at(&self, label: &'static str) {
        self.book.watch.at(label);
    }

    /// Checks off every completion ready in the CQ (`CompletionQueue::iter`).
    pub fn drain_iter(&mut self, label: &'static str) {
        self.at(label);
        for cqe in self.ring.cq().iter() {
            self.book.reap(&cqe, &self.shape);
        }
    }

    /// The end of a pass of a loop that does not wait, which reaped nothing if
    /// [`Book::done`] is still `done_before`: then asks for the task work the kernel does not
    /// flag (`DEFER_TASKRUN` without `TASKRUN_FLAG`: `get_events`, as with liburing) and
    /// yields the CPU (to an SQPOLL thread, or the writer of the pipes).
    pub fn idle_pass(&mut self, done_before: u64) {
        if self.book.done != done_before {
            return;
        }
        if self.book.task_work && self.mode.unflagged_task_work {
            self.at("Ring::get_events (unflagged task work)");
            self.ring.get_events().expect("get_events");
        }
        std::thread::yield_now();
    }
}

impl Rounds for Cell {
    fn book(&mut self) -> &mut Book {
        &mut self.book
    }

    fn mode(&self) -> &'static Mode {
        self.mode
    }

    fn settle(&mut self) {
        let Cell { ring, book, mode, .. } = self;
        settle(mode, book, || ring.sq().need_wakeup());
    }

    fn push_nops(&mut self, max: u32, _raw: bool) -> u32 {
        let mut n = 0;
        while n < max {
            let ud = self.book.next_ud();
            let (entry, big_cqe) = self.shape.nop(ud, self.book.bursting);
            self.at("SubmissionQueue::push");
            if !try_push(self.ring.sq(), &entry) {
                break;
            }
            self.book.expect(Key::Raw(ud), Kind::Nop { big_cqe });
            n += 1;
        }
        n
    }

    fn push_read(&mut self, idx: usize, round: u32) -> bool {
        let ud = self.book.next_ud();
        let (len, byte) = payload(idx, round);
        let buf = self.book.buf(idx);
        let sqe = op::Read::new(&self.pipes.r[idx], &mut buf[..]).unwrap().offset(u64::MAX).build().user_data(ud);
        self.at("SubmissionQueue::push_raw");
        // SAFETY: the buffer is the book's, its own allocation that never moves; nothing refers
        // to it until the read's completion is checked off (`Book::buf` refuses a buffer in
        // use), and the book leaks rather than frees it if the test fails with the read in
        // flight. The pipe is closed only after the ring (declared after it in `Cell`).
        if unsafe { self.ring.sq().push_raw(&sqe) }.is_err() {
            return false;
        }
        self.book.expect(Key::Raw(ud), Kind::RawRead { idx, len, byte });
        true
    }

    fn submit(&mut self) {
        self.at("Ring::submit (pushing a burst)");
        self.ring.submit().expect("submit");
    }

    fn pipes(&self) -> &Pipes {
        &self.pipes
    }

    fn finish(&mut self, test: &str) {
        self.book.finish(test, self.mode);
    }
}

/// A test of raw reap path `path`: a ring of the mode, then [`drive`]. For [`usage_matrix!`].
pub fn raw(path: fn(&mut Cell)) -> impl FnOnce(&'static Mode, &'static str, &Watch) + Send + 'static {
    move |mode, test, w| {
        let Some(mut c) = Cell::open(mode, test, w) else { return };
        drive(&mut c, test, path);
    }
}

// ---- CPU time ----

/// CPU time (user + system) the calling thread has used (`getrusage(RUSAGE_THREAD)`).
pub fn thread_cpu() -> Duration {
    let mut ru = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `ru` is valid for writes of one `rusage`.
    let r = unsafe { libc::getrusage(libc::RUSAGE_THREAD, ru.as_mut_ptr()) };
    assert_eq!(r, 0, "getrusage: {}", std::io::Error::last_os_error());
    // SAFETY: zero-initialised, then filled by the kernel.
    let ru = unsafe { ru.assume_init() };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// Runs `wait` (a blocking call that should sleep about [`IDLE_WAIT`]) and checks that it
/// waited at least ~that long and used less than [`IDLE_WAIT_CPU`] of CPU time. Returns its
/// result.
pub fn measure_idle_wait<T>(test: &str, what: &str, wait: impl FnOnce() -> T) -> T {
    let cpu0 = thread_cpu();
    let t0 = Instant::now();
    let r = wait();
    let wall = t0.elapsed();
    let cpu = thread_cpu() - cpu0;
    assert!(wall >= IDLE_WAIT * 9 / 10, "{test}: {what} returned after {wall:?}, before the {IDLE_WAIT:?} it waits");
    assert!(
        cpu < IDLE_WAIT_CPU,
        "{test}: {what} used {cpu:?} of CPU time in a {wall:?} wait (at most {IDLE_WAIT_CPU:?}): it spins"
    );
    r
}

/// `r`, the result of `what` with nothing in flight, must be `ETIME`.
pub fn expect_etime<T: std::fmt::Debug>(test: &str, what: &str, r: uring::Result<T>) {
    match r {
        Err(e) if e.is_errno(libc::ETIME) => {}
        other => panic!("{test}: {what} with nothing in flight: {other:?}, want ETIME"),
    }
}

/// Whether waits on rings of `mode` sleep; if not (IOPOLL), prints why the test is skipped.
pub fn waits_sleep(mode: &Mode, test: &str) -> bool {
    if mode.iopoll {
        skip(
            test,
            "IOPOLL: io_uring_enter(2) polls for completions instead of sleeping and ignores the wait's \
             timeout (io_iopoll_check), so no wait can block on these rings (liburing's neither)",
        );
        return false;
    }
    true
}

// ---- the test matrix ----

/// Runs `body` on the mode called `mode` under the [`watchdog`]: the body of every test of
/// [`usage_matrix!`].
pub fn run(
    mode: &'static str,
    test: &'static str,
    body: impl FnOnce(&'static Mode, &'static str, &Watch) + Send + 'static,
) {
    let mode = mode_named(mode);
    watchdog(test, move |w| body(mode, test, w));
}

/// `usage_matrix!([name => body, ...])`: for every mode of [`MODES`], a module `<mode>` with one
/// `#[test] fn <name>()` per entry, running `body` (a closure of the mode, the test's name
/// `"<mode>::<name>"` and the [`Watch`], e.g. [`raw`]`(reap::pop)`) through [`run`]. The bodies
/// are resolved in the including file's root (`use super::*`).
#[allow(unused_macros)] // not every including file has a matrix
macro_rules! usage_matrix {
    ([$($name:ident => $body:expr),* $(,)?]) => {
        usage_matrix!(@modes [$($name => $body),*]; default, sqpoll_asleep, sqpoll_awake, defer_taskrun,
            defer_taskrun_flag, coop_taskrun_flag, iopoll, registered_fd, no_mmap, sqe128_cqe32, cqe_mixed,
            sqe_mixed);
    };
    (@modes $tests:tt; $($mode:ident),*) => {
        $( usage_matrix!(@mode $mode; $tests); )*
    };
    (@mode $mode:ident; [$($name:ident => $body:expr),*]) => {
        mod $mode {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[test]
                fn $name() {
                    $crate::usage::run(stringify!($mode), concat!(stringify!($mode), "::", stringify!($name)), $body);
                }
            )*
        }
    };
}
