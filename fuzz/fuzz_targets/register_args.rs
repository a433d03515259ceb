//! The register-argument builders and the calls that validate arguments client-side
//! (`uring::register`, buffer-ring options, wait regions, extended wait arguments), on a real
//! ring (optionally created disabled): arbitrary sequences of fixed-buffer and fixed-file
//! registration, updates with tags, sparse tables, alloc ranges, buffer clones, restrictions,
//! io-wq limits, personalities, provided-buffer-ring options and registration, wait regions,
//! timed waits, sync cancel, NAPI, query and `send_msg_ring`.
//!
//! An independent model of each documented client-side rule (empty tables, tag arrays of the
//! wrong length, tags on empty slots, bad iovecs, offsets that overflow, opcodes out of range,
//! rings of the wrong kind, ...) says whether a call must fail before the system call, and with
//! which typed error. Calls the model accepts must reach the kernel: `Ok`, or the kernel's
//! errno (`Error::Os`), never a client-side error. No input may panic.
#![no_main]

use std::time::Duration;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use std::os::fd::BorrowedFd;
use uring::buf::{BufRing, CallerBuffers};

use uring::op::{AsyncCancel, Fixed};
use uring::register::{CloneBuffers, Restriction, SlotFd, EMPTY_SLOT, MAX_BUFFER_LEN, SKIP_SLOT};
use uring::uapi::*;
use uring::wait_region::RegWait;
use uring::{Error, Ring, SqeFlags, WaitArgs};

/// One entry of a buffer table.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Iov {
    /// An empty slot (address 0, length 0).
    Null,
    /// Part of a real, small pool.
    Pool { start: u16, len: u16 },
    /// Arbitrary values: only used when they are refused client-side; otherwise turned into an
    /// address the process never maps (so nothing of ours is ever pinned).
    Raw { base: u64, len: u64 },
}

/// One entry of a file table.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Fd {
    /// stdin / stdout / stderr.
    Std(u8),
    Empty,
    Skip,
    Any(i32),
}

/// A descriptor number as a borrowed fd, for register calls that look it up during the call
/// only (`None` for negative numbers, which name no file).
fn borrow(fd: i32) -> Option<BorrowedFd<'static>> {
    // SAFETY: the register calls fuzzed here look the number up during the call only (the
    // kernel takes its own reference to a file it keeps); a number that is not open fails with
    // EBADF. Nothing is read from or written to the file.
    (fd >= 0).then(|| unsafe { BorrowedFd::borrow_raw(fd) })
}

impl Fd {
    fn slot(self) -> SlotFd<'static> {
        match self {
            Fd::Std(n) => borrow((n % 3) as i32).map_or(EMPTY_SLOT, SlotFd::File),
            Fd::Empty => EMPTY_SLOT,
            Fd::Skip => SKIP_SLOT,
            Fd::Any(v) => borrow(v).map_or(EMPTY_SLOT, SlotFd::File),
        }
    }
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Entries {
    Small(u8),
    Overflow(u64),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum RestrictionArg {
    RegisterOp(u32),
    SqeOp(u8),
    SqeFlagsAllowed(u8),
    SqeFlagsRequired(u8),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum CancelKey {
    UserData(u64),
    Fd(i32, bool),
    Opcode(u8),
    Any,
}

#[derive(Arbitrary, Debug)]
enum Call {
    Buffers {
        iovs: Vec<Iov>,
        tags: Option<Vec<u64>>,
        update: Option<u32>,
    },
    BuffersSparse(u16),
    UnregisterBuffers,
    Files {
        fds: Vec<Fd>,
        tags: Option<Vec<u64>>,
        update: Option<u32>,
    },
    FilesSparse(u16),
    UnregisterFiles,
    FileAllocRange(u32, u32),
    Clone {
        registered: Option<u32>,
        range: Option<(u32, u32, u32)>,
        replace: bool,
    },
    Restrictions(Vec<RestrictionArg>),
    TooManyTaskRestrictions(u8),
    IowqMaxWorkers([u32; 2]),
    Personality {
        unregister: Option<u16>,
    },
    BufRing {
        entries: u32,
        buf_size: u32,
        incremental: bool,
        min_left: u32,
        kernel_mapped: bool,
        caller_len: Option<u32>,
        build: bool,
        bgid: u16,
    },
    PbufStatus(u16),
    UnregisterPbuf(u16),
    WaitRegion {
        entries: Entries,
        kernel_memory: bool,
    },
    SetWaitArg {
        index: u16,
        timeout_us: Option<u32>,
        min_wait_us: Option<u64>,
    },
    WaitReg {
        index: u16,
    },
    GetEvents {
        timeout_us: u8,
        min_wait_us: Option<u64>,
        want: bool,
    },
    SyncCancel {
        key: CancelKey,
        all: bool,
        timeout_us: u8,
    },
    Napi {
        timeout_us: u32,
        prefer: bool,
        tracking: u8,
        id: Option<(u32, bool)>,
        unregister: bool,
    },
    Query,
    SendMsgRing {
        user_data: u64,
        res: i32,
        cqe_flags: u32,
    },
    EnableRings,
}

#[derive(Arbitrary, Debug)]
struct Input {
    disabled: bool,
    calls: Vec<Call>,
}

/// What the model says a call must do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    /// Reach the kernel: `Ok`, or `Error::Os`.
    Kernel,
    Invalid,
    WrongRingKind,
    ZeroEntries,
    NotPowerOfTwo,
    TooManyEntries,
    MemoryTooSmall,
}

#[track_caller]
fn check<T: core::fmt::Debug>(r: uring::Result<T>, want: Want) -> Option<T> {
    let ok = match (&r, want) {
        (Ok(_), Want::Kernel) => true,
        // What the kernel may answer, typed by the crate where it names a cause.
        (Err(Error::Os(_) | Error::BufGroupInUse { .. } | Error::Unsupported { .. }), Want::Kernel) => true,
        (Err(Error::InvalidArgument { .. }), Want::Invalid) => true,
        (Err(Error::WrongRingKind { .. }), Want::WrongRingKind) => true,
        (Err(Error::ZeroEntries), Want::ZeroEntries) => true,
        (Err(Error::NotPowerOfTwo { .. }), Want::NotPowerOfTwo) => true,
        (Err(Error::TooManyEntries { .. }), Want::TooManyEntries) => true,
        (Err(Error::MemoryTooSmall { .. }), Want::MemoryTooSmall) => true,
        _ => false,
    };
    assert!(ok, "model wants {want:?}, the crate returned {r:?}");
    r.ok()
}

const POOL: usize = 1 << 16;

/// The model of one buffer-table entry: its iovec (made safe to hand the kernel) and whether
/// the crate must refuse it.
fn iovec(i: Iov, tag: u64, pool: &mut [u8]) -> (libc::iovec, bool) {
    match i {
        Iov::Null => (libc::iovec { iov_base: core::ptr::null_mut(), iov_len: 0 }, tag != 0),
        Iov::Pool { start, len } => {
            let start = start as usize % POOL;
            let len = (len as usize).min(POOL - start);
            let p = pool[start..].as_mut_ptr().cast();
            (libc::iovec { iov_base: p, iov_len: len }, len == 0)
        }
        Iov::Raw { base, len } => {
            let (base, len) = (base as usize, len as usize);
            let page = 4096;
            let bad = if base == 0 {
                len != 0 || tag != 0
            } else {
                len == 0 || len > MAX_BUFFER_LEN || base.checked_add(len + page - 1).is_none()
            };
            if bad {
                (libc::iovec { iov_base: base as *mut libc::c_void, iov_len: len }, true)
            } else {
                // Below `mmap_min_addr`: never mapped, so the kernel answers EFAULT.
                (libc::iovec { iov_base: 0x1000 as *mut libc::c_void, iov_len: 1 + len % 0x8000 }, false)
            }
        }
    }
}

fn tags_bad(n: usize, tags: &Option<Vec<u64>>) -> bool {
    tags.as_ref().is_some_and(|t| t.len() != n)
}

fuzz_target!(|input: Input| {
    let mut b = Ring::builder();
    if input.disabled {
        b = b.r_disabled();
    }
    let Ok(mut ring) = b.build(4) else { return };
    let mut pool = vec![0u8; POOL];
    let mut bufrings: Vec<BufRing> = Vec::new();
    let mut wait_entries: Option<usize> = None;
    let page = 4096usize;

    for call in input.calls.iter().take(24) {
        let sub = ring.submitter();
        match call {
            Call::Buffers { iovs, tags, update } => {
                let iovs = &iovs[..iovs.len().min(32)];
                let tag_of = |i: usize| tags.as_ref().and_then(|t| t.get(i).copied()).unwrap_or(0);
                let mut table = Vec::new();
                let mut bad = iovs.is_empty() || tags_bad(iovs.len(), tags);
                for (i, &iv) in iovs.iter().enumerate() {
                    let (v, b) = iovec(iv, if tags.is_some() { tag_of(i) } else { 0 }, &mut pool);
                    table.push(v);
                    bad |= b;
                }
                let n = iovs.len() as u32;
                let want = if bad { Want::Invalid } else { Want::Kernel };
                // SAFETY: every iovec the crate may pass on names the pool (alive until the
                // ring is dropped, at the end of this input) or an address never mapped; no
                // operation ever uses the buffers.
                unsafe {
                    match (update, tags) {
                        (None, None) => drop(check(sub.register_buffers(&table), want)),
                        (None, Some(t)) => drop(check(sub.register_buffers_tags(&table, t), want)),
                        (Some(off), t) => {
                            let want = if !bad && off.checked_add(n).is_none() { Want::Invalid } else { want };
                            match t {
                                None => drop(check(sub.register_buffers_update(*off, &table), want)),
                                Some(t) => drop(check(sub.register_buffers_update_tag(*off, &table, t), want)),
                            }
                        }
                    }
                }
            }
            Call::BuffersSparse(nr) => {
                let nr = u32::from(*nr) % 2048;
                check(sub.register_buffers_sparse(nr), if nr == 0 { Want::Invalid } else { Want::Kernel });
            }
            Call::UnregisterBuffers => drop(check(sub.unregister_buffers(), Want::Kernel)),
            Call::Files { fds, tags, update } => {
                let fds: Vec<SlotFd<'static>> = fds.iter().take(32).map(|f| f.slot()).collect();
                let mut bad = fds.is_empty() || tags_bad(fds.len(), tags);
                for (i, &fd) in fds.iter().enumerate() {
                    let tag = tags.as_ref().and_then(|t| t.get(i).copied()).unwrap_or(0);
                    // Raw numbers below -1 cannot be expressed any more; a skip outside an
                    // update is refused, as is a tag on an empty or skipped slot.
                    let (special, refused) = match fd {
                        SlotFd::File(_) => (false, false),
                        SlotFd::Empty => (true, false),
                        SlotFd::Skip => (true, update.is_none()),
                    };
                    bad |= refused || (special && tags.is_some() && tag != 0);
                }
                let want = if bad { Want::Invalid } else { Want::Kernel };
                match (update, tags) {
                    (None, None) => drop(check(sub.register_files(&fds), want)),
                    (None, Some(t)) => drop(check(sub.register_files_tags(&fds, t), want)),
                    (Some(off), t) => {
                        let want =
                            if !bad && off.checked_add(fds.len() as u32).is_none() { Want::Invalid } else { want };
                        match t {
                            None => drop(check(sub.register_files_update(*off, &fds), want)),
                            Some(t) => drop(check(sub.register_files_update_tag(*off, &fds, t), want)),
                        }
                    }
                }
            }
            Call::FilesSparse(nr) => {
                let nr = u32::from(*nr) % 2048;
                check(sub.register_files_sparse(nr), if nr == 0 { Want::Invalid } else { Want::Kernel });
            }
            Call::UnregisterFiles => drop(check(sub.unregister_files(), Want::Kernel)),
            Call::FileAllocRange(off, len) => {
                let want = if off.checked_add(*len).is_none() { Want::Invalid } else { Want::Kernel };
                check(sub.register_file_alloc_range(*off, *len), want);
            }
            Call::Clone { registered, range, replace } => {
                let mut c = match registered {
                    Some(i) => CloneBuffers::from_registered_index(*i),
                    None => CloneBuffers::from_ring(&ring),
                };
                if let Some((s, d, n)) = range {
                    c = c.range(*s, *d, *n);
                }
                if *replace {
                    c = c.replace();
                }
                let raw = *c.as_raw();
                let (s, d, n) = range.unwrap_or((0, 0, 0));
                let mut flags = if registered.is_some() { IORING_REGISTER_SRC_REGISTERED } else { 0 };
                flags |= if *replace { IORING_REGISTER_DST_REPLACE } else { 0 };
                assert_eq!((raw.flags, raw.src_off, raw.dst_off, raw.nr, raw.pad), (flags, s, d, n, [0; 3]));
                if let Some(i) = registered {
                    assert_eq!(raw.src_fd, *i);
                }
                let bad = (n == 0 && (s != 0 || d != 0)) || s.checked_add(n).is_none() || d.checked_add(n).is_none();
                check(ring.submitter().clone_buffers_with(&c), if bad { Want::Invalid } else { Want::Kernel });
            }
            Call::Restrictions(args) => {
                let mut rules = Vec::new();
                for a in args.iter().take(16) {
                    let r = match *a {
                        RestrictionArg::RegisterOp(op) => {
                            let r = Restriction::allow_register_op(op);
                            if op >= IORING_REGISTER_LAST {
                                check(r, Want::Invalid);
                                continue;
                            }
                            let r = check(r, Want::Kernel).unwrap();
                            // SAFETY: plain-integer union.
                            let raw_op = unsafe { r.as_raw().op.register_op };
                            assert_eq!((r.as_raw().opcode, raw_op), (IORING_RESTRICTION_REGISTER_OP, op as u8));
                            r
                        }
                        RestrictionArg::SqeOp(op) => {
                            let r = Restriction::allow_sqe_op(op);
                            // SAFETY: plain-integer union.
                            assert_eq!(
                                (r.as_raw().opcode, unsafe { r.as_raw().op.sqe_op }),
                                (IORING_RESTRICTION_SQE_OP, op)
                            );
                            r
                        }
                        RestrictionArg::SqeFlagsAllowed(f) => {
                            let r = Restriction::allow_sqe_flags(SqeFlags::from_bits_retain(f));
                            // SAFETY: plain-integer union.
                            let v = unsafe { r.as_raw().op.sqe_flags };
                            assert_eq!((r.as_raw().opcode, v), (IORING_RESTRICTION_SQE_FLAGS_ALLOWED, f));
                            r
                        }
                        RestrictionArg::SqeFlagsRequired(f) => {
                            let r = Restriction::require_sqe_flags(SqeFlags::from_bits_retain(f));
                            // SAFETY: plain-integer union.
                            let v = unsafe { r.as_raw().op.sqe_flags };
                            assert_eq!((r.as_raw().opcode, v), (IORING_RESTRICTION_SQE_FLAGS_REQUIRED, f));
                            r
                        }
                    };
                    assert_eq!((r.as_raw().resv, r.as_raw().resv2), (0, [0; 3]));
                    rules.push(r);
                }
                let want = if ring.setup_flags().contains(uring::SetupFlags::R_DISABLED) {
                    Want::Kernel
                } else {
                    Want::WrongRingKind
                };
                check(ring.submitter().register_restrictions(&rules), want);
            }
            Call::TooManyTaskRestrictions(extra) => {
                // Only ever with more rules than the kernel's u16 count: a call that got through
                // would restrict every ring this process creates.
                let rules = vec![Restriction::allow_sqe_op(0); u16::MAX as usize + 1 + *extra as usize];
                check(uring::register::register_task_restrictions(&rules), Want::Invalid);
            }
            Call::IowqMaxWorkers(counts) => {
                let mut c = *counts;
                let want = if c.iter().any(|&v| v > i32::MAX as u32) { Want::Invalid } else { Want::Kernel };
                check(sub.register_iowq_max_workers(&mut c), want);
            }
            Call::Personality { unregister } => match unregister {
                Some(id) => drop(check(sub.unregister_personality(*id), Want::Kernel)),
                None => {
                    if let Some(id) = check(sub.register_personality(), Want::Kernel) {
                        check(sub.unregister_personality(id), Want::Kernel).expect("unregistering a new personality");
                    }
                }
            },
            Call::BufRing { entries, buf_size, incremental, min_left, kernel_mapped, caller_len, build, bgid } => {
                let mut b = BufRing::builder(*bgid, *entries, *buf_size);
                if *incremental {
                    b = b.incremental();
                }
                if *min_left != 0 {
                    b = b.min_left(*min_left);
                }
                if *kernel_mapped {
                    b = b.kernel_mapped();
                }
                if let Some(len) = caller_len {
                    // SAFETY: only validated, never registered (see below): the memory is not
                    // used.
                    b = b.memory(unsafe { CallerBuffers::new(core::ptr::NonNull::dangling().as_ptr(), *len as usize) });
                }
                let need = *entries as u64 * *buf_size as u64;
                let want = if *entries == 0 {
                    Want::ZeroEntries
                } else if !entries.is_power_of_two() {
                    Want::NotPowerOfTwo
                } else if *entries > uring::buf::MAX_BUF_RING_ENTRIES {
                    Want::TooManyEntries
                } else if *buf_size == 0 {
                    Want::Invalid
                } else if caller_len.is_some_and(|l| (l as u64) < need) {
                    Want::MemoryTooSmall
                } else if *min_left != 0 && !*incremental {
                    Want::Invalid
                } else {
                    Want::Kernel
                };
                check(b.validate(), want);
                if *build && caller_len.is_none() && (want != Want::Kernel || need <= 1 << 20) {
                    if let Some(r) = check(b.build(&mut ring), want) {
                        assert_eq!((r.bgid(), r.entries(), r.buf_size()), (*bgid, *entries, *buf_size));
                        bufrings.push(r);
                    }
                }
            }
            Call::PbufStatus(bgid) => drop(check(sub.pbuf_status(*bgid), Want::Kernel)),
            Call::UnregisterPbuf(bgid) => {
                // A live `BufRing`'s group may not be unregistered behind its back: drop that
                // ring instead (its `Drop` unregisters), then the raw call finds nothing.
                bufrings.retain(|r| r.bgid() != *bgid);
                // SAFETY: no live `BufRing` has group `bgid` (just dropped), and this input
                // registers pbuf groups only through `BufRing`: no crate-owned ring loses its
                // group; no request ever selects buffers here.
                let _ = check(unsafe { sub.unregister_pbuf_ring(*bgid) }, Want::Kernel);
            }
            Call::WaitRegion { entries, kernel_memory } => {
                let n = match *entries {
                    Entries::Small(v) => v as usize,
                    Entries::Overflow(v) => {
                        (usize::MAX / core::mem::size_of::<io_uring_reg_wait>()).saturating_add(1 + (v as usize % 1024))
                    }
                };
                let want = if !ring.setup_flags().contains(uring::SetupFlags::R_DISABLED) {
                    Want::WrongRingKind
                } else if n == 0 || wait_entries.is_some() || n.checked_mul(64).is_none() {
                    Want::Invalid
                } else {
                    Want::Kernel
                };
                let r = ring.register_wait_region(n, *kernel_memory);
                if check(r, want).is_some() {
                    wait_entries = Some((n * core::mem::size_of::<io_uring_reg_wait>()).div_ceil(page) * page / 64);
                }
            }
            Call::SetWaitArg { index, timeout_us, min_wait_us } => {
                let index = *index as usize;
                let arg = RegWait {
                    timeout: timeout_us.map(|t| Duration::from_micros(t.into())),
                    min_wait: min_wait_us.map(Duration::from_micros),
                };
                let bad_min = min_wait_us.is_some_and(|m| m > u32::MAX as u64);
                let want = match wait_entries {
                    Some(n) if index < n && !bad_min => Want::Kernel,
                    _ => Want::Invalid,
                };
                check(ring.set_wait_arg(index, arg), want);
                if want == Want::Kernel {
                    let w = ring.wait_args_mut().expect("a registered region")[index];
                    assert_eq!(w.flags, if timeout_us.is_some() { IORING_REG_WAIT_TS } else { 0 });
                    assert_eq!(w.min_wait_usec as u64, min_wait_us.unwrap_or(0));
                }
            }
            Call::WaitReg { index } => {
                let index = *index as usize;
                let want = match wait_entries {
                    Some(n) if index < n => Want::Kernel,
                    _ => Want::Invalid,
                };
                // Waits for nothing (`want` 0): returns at once.
                check(ring.submit_and_wait_reg(0, index), want);
            }
            Call::GetEvents { timeout_us, min_wait_us, want } => {
                let min = min_wait_us.map(|m| if m > u32::MAX as u64 { m } else { m % 1000 });
                let args = WaitArgs {
                    timeout: Some(Duration::from_micros(u64::from(*timeout_us) % 200)),
                    min_wait: min.map(Duration::from_micros),
                    ..WaitArgs::default()
                };
                let w = if min.is_some_and(|m| m > u32::MAX as u64) { Want::Invalid } else { Want::Kernel };
                check(ring.submit_and_wait_with(u32::from(*want), &args), w);
            }
            Call::SyncCancel { key, all, timeout_us } => {
                let timeout = Some(Duration::from_micros(u64::from(*timeout_us)));
                let mut k = match *key {
                    CancelKey::UserData(u) => AsyncCancel::user_data(u),
                    CancelKey::Fd(fd, true) => AsyncCancel::fixed(Fixed(fd as u32)),
                    CancelKey::Fd(fd, false) => {
                        // A key naming an fd borrows it for the call.
                        if let Some(fd) = borrow(fd) {
                            let k = AsyncCancel::fd(fd);
                            let _ = sub.sync_cancel(if *all { k.all() } else { k }, timeout);
                        }
                        continue;
                    }
                    CancelKey::Opcode(o) => AsyncCancel::opcode(o),
                    CancelKey::Any => AsyncCancel::any(),
                };
                if *all {
                    k = k.all();
                }
                let _ = sub.sync_cancel(k, timeout);
            }
            Call::Napi { timeout_us, prefer, tracking, id, unregister } => {
                use uring::napi::{Napi, NapiTracking};
                let tracking = match tracking % 4 {
                    0 => NapiTracking::Dynamic,
                    1 => NapiTracking::Static,
                    2 => NapiTracking::Inactive,
                    v => NapiTracking::Other(u32::from(v) << 8 | 0xff),
                };
                let _ = sub.register_napi(Napi {
                    busy_poll_timeout_us: timeout_us % 1000,
                    prefer_busy_poll: *prefer,
                    tracking,
                });
                if let Some((id, add)) = id {
                    let _ = if *add { sub.napi_add_id(*id) } else { sub.napi_del_id(*id) };
                }
                if *unregister {
                    let _ = sub.unregister_napi();
                }
            }
            Call::Query => {
                let _ = uring::query::query_all(Some(&ring));
                let _ = uring::query::query_all(None);
                let _ = uring::Probe::without_ring();
            }
            Call::SendMsgRing { user_data, res, cqe_flags } => {
                let fd = ring.submitter().fd().expect("ring fd");
                check(uring::register::send_msg_ring(fd, *user_data, *res, *cqe_flags), Want::Kernel);
            }
            Call::EnableRings => {
                let _ = ring.enable_rings();
            }
        }
    }
    drop(bufrings);
});
