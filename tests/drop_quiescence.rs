//! Dropping a ring while a request still runs in an io-wq worker (issue #14, section 4).
//!
//! Most tests start a long read that selects a provided buffer (a sparse tmpfs file read with
//! `IOSQE_ASYNC`, so it runs in io-wq and copies zeros into a buffer filled with `0xAA`), waits
//! until the kernel is writing, and lets the ring go mid-read. Then it checks the memory:
//! - a crate pool is either unmapped after the kernel's teardown finished (the proof) or
//!   replaced by an inaccessible reservation (`---p` in `/proc/self/maps`), never freed while
//!   the kernel writes; a fresh mapping placed at a freed pool's address receives no late write;
//! - caller memory does not change after a finished teardown was reported.
//!
//! Every test prints (`NOTE`) which path it took and how long the teardown took, and has a
//! watchdog that aborts the process, naming the step it was stuck in, if it hangs.

mod common;

use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{note, skip};
use uring::buf::{BufRing, CallerBuffers};
use uring::op::Read;
use uring::ring::DROP_WAIT;
use uring::{Error, Ring, SqeFlags, Teardown};

/// The long read: 1 GiB where memory allows (it took 0.3 to 1 s on the 2-core test host, mostly
/// past the drop's 250 ms wait), a sixteenth of the memory otherwise (the 2 GiB guests of the
/// kernel matrix, where it is slower anyway). Each test maps at most two buffers of this size.
fn long() -> usize {
    let total = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines().find_map(|l| l.strip_prefix("MemTotal:")?.trim().strip_suffix("kB")?.trim().parse::<usize>().ok())
        })
        .map_or(1 << 30, |kb| kb << 10);
    (total / 16).clamp(32 << 20, 1 << 30) & !0xfffff
}

/// A read that should finish within the drop's wait (it may also finish before the drop: the
/// test then says so).
const SHORT: usize = 32 << 20;
/// How long the tests watch memory for a late write after a drop.
const WATCH: Duration = Duration::from_millis(500);
const FILL: u8 = 0xAA;

/// One test at a time: each moves up to 1 GiB through io-wq on a 2-core machine, and the timings
/// they check (a drop that must not wait) mean something only without the others' load.
static SERIAL: Mutex<()> = Mutex::new(());

/// Aborts the process if the test is still running after `limit`, naming the current step.
/// Also holds the [`SERIAL`] lock for the test.
struct Watchdog {
    step: Arc<Mutex<&'static str>>,
    stop: Option<mpsc::Sender<()>>,
    _serial: std::sync::MutexGuard<'static, ()>,
}

impl Watchdog {
    fn new(test: &'static str, limit: Duration) -> Watchdog {
        let serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
        let step = Arc::new(Mutex::new("start"));
        let (tx, rx) = mpsc::channel::<()>();
        let s = step.clone();
        std::thread::spawn(move || {
            if let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(limit) {
                let at = *s.lock().unwrap_or_else(|p| p.into_inner());
                let _ = writeln!(std::io::stderr(), "watchdog: {test} stuck in `{at}` after {limit:?}; aborting");
                std::process::abort();
            }
        });
        Watchdog { step, stop: Some(tx), _serial: serial }
    }

    fn step(&self, what: &'static str) {
        *self.step.lock().unwrap_or_else(|p| p.into_inner()) = what;
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// A sparse tmpfs file of `len` bytes (reads return zeros without using memory).
fn sparse_file(len: usize) -> OwnedFd {
    // SAFETY: a static C string; the call returns a new fd or -1.
    let fd = unsafe { libc::memfd_create(c"drop-quiescence".as_ptr(), libc::MFD_CLOEXEC) };
    assert!(fd >= 0, "memfd_create: {}", std::io::Error::last_os_error());
    // SAFETY: `fd` was just returned to us.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: plain syscall on our fd.
    assert_eq!(unsafe { libc::ftruncate(fd.as_raw_fd(), len as libc::off_t) }, 0);
    fd
}

/// Anonymous memory the test owns (for caller buffers), filled with `FILL`.
struct Anon {
    ptr: *mut u8,
    len: usize,
}

impl Anon {
    fn new(len: usize) -> Anon {
        // SAFETY: a fresh private anonymous mapping.
        let p = unsafe {
            libc::mmap(
                core::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_POPULATE,
                -1,
                0,
            )
        };
        assert_ne!(p, libc::MAP_FAILED);
        // SAFETY: the mapping is ours, `len` bytes.
        unsafe { core::ptr::write_bytes(p.cast::<u8>(), FILL, len) };
        Anon { ptr: p.cast(), len }
    }

    /// Replaces the memory by an inaccessible reservation and leaks it: for when the kernel may
    /// still write into it.
    fn retire(self) {
        // SAFETY: the range is our mapping; MAP_FIXED replaces it in one step.
        unsafe {
            libc::mmap(
                self.ptr.cast(),
                self.len,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        core::mem::forget(self);
    }
}

impl Drop for Anon {
    fn drop(&mut self) {
        // SAFETY: our mapping, no longer used by the kernel (the callers make sure).
        unsafe { libc::munmap(self.ptr.cast(), self.len) };
    }
}

/// The byte at `ptr + off`, read without assuming anything about concurrent kernel writes.
fn byte(ptr: *const u8, off: usize) -> u8 {
    // SAFETY: the callers pass offsets inside memory that is mapped readable.
    unsafe { ptr.add(off).read_volatile() }
}

/// How many bytes of `len` at `ptr` the read has overwritten (no longer `FILL`); the read
/// writes zeros from the front.
fn written(ptr: *const u8, len: usize) -> usize {
    // Binary search on the boundary: the kernel copies in order.
    let (mut lo, mut hi) = (0usize, len);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if byte(ptr, mid) == FILL {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo
}

/// Waits until the kernel has started writing at `ptr` (the read runs); returns false if it
/// did not start within 5 s.
fn wait_started(ptr: *const u8) -> bool {
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(5) {
        if byte(ptr, 0) != FILL {
            return true;
        }
        // Sleep rather than spin: entering the kernel runs this task's task work, which is how
        // io-wq creates a worker for the next request.
        std::thread::sleep(Duration::from_micros(100));
    }
    false
}

/// The `/proc/self/maps` entry containing `addr`: (start, end, permissions).
fn mapping_at(addr: usize) -> Option<(usize, usize, String)> {
    let maps = std::fs::read_to_string("/proc/self/maps").expect("read /proc/self/maps");
    maps.lines().find_map(|l| {
        let mut it = l.split_whitespace();
        let range = it.next()?;
        let perms = it.next()?.to_string();
        let (a, b) = range.split_once('-')?;
        let (a, b) = (usize::from_str_radix(a, 16).ok()?, usize::from_str_radix(b, 16).ok()?);
        (a <= addr && addr < b).then_some((a, b, perms))
    })
}

/// What became of a crate pool at `base..base + len` after the ring let it go.
#[derive(Debug, PartialEq)]
enum PoolFate {
    /// An inaccessible reservation of exactly the pool's range: the no-proof path.
    Reserved,
    /// Unmapped (or reused by some other mapping since): the proof path.
    Released,
}

fn pool_fate(base: usize, len: usize) -> PoolFate {
    match mapping_at(base) {
        Some((a, b, perms)) if a == base && b == base + len && perms.starts_with("---") => PoolFate::Reserved,
        Some((a, b, perms)) if perms.starts_with("---") && a <= base && base + len <= b => PoolFate::Reserved,
        _ => PoolFate::Released,
    }
}

/// Checks the pool range after the ring let it go: reserved (and it stays reserved, so no
/// mapping can take it), or released, in which case a fresh mapping placed there receives no
/// late write from the read. Returns the fate.
fn check_pool(test: &str, base: usize, len: usize) -> PoolFate {
    let fate = pool_fate(base, len);
    match fate {
        PoolFate::Reserved => {
            // Nothing else may be mapped into the range.
            // SAFETY: MAP_FIXED_NOREPLACE never replaces an existing mapping.
            let p = unsafe {
                libc::mmap(
                    base as *mut libc::c_void,
                    4096,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED_NOREPLACE,
                    -1,
                    0,
                )
            };
            assert_eq!(p, libc::MAP_FAILED, "{test}: a new mapping landed in the reserved pool range");
            assert_eq!(std::io::Error::last_os_error().raw_os_error(), Some(libc::EEXIST));
            // Give the read time to end (it faults with EFAULT now); the range stays reserved.
            std::thread::sleep(WATCH);
            assert_eq!(pool_fate(base, len), PoolFate::Reserved, "{test}: the reservation went away");
        }
        PoolFate::Released => {
            // Map fresh memory over the old pool address and watch for a late write.
            // SAFETY: MAP_FIXED_NOREPLACE never replaces an existing mapping.
            let p = unsafe {
                libc::mmap(
                    base as *mut libc::c_void,
                    len,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED_NOREPLACE | libc::MAP_POPULATE,
                    -1,
                    0,
                )
            };
            if p == libc::MAP_FAILED {
                note(test, "the freed pool range was taken by another mapping already; no late-write check");
                return fate;
            }
            // SAFETY: our fresh mapping.
            unsafe { core::ptr::write_bytes(p.cast::<u8>(), FILL, len) };
            std::thread::sleep(WATCH);
            let changed = (0..len).step_by(4096).filter(|&o| byte(p.cast(), o) != FILL).count();
            // SAFETY: our mapping.
            unsafe { libc::munmap(p, len) };
            assert_eq!(changed, 0, "{test}: {changed} pages of a new mapping at the freed pool were written");
        }
    }
    fate
}

/// Pushes (without submitting) a read of the whole `file` into a buffer selected from `br`,
/// to run in io-wq. Every caller declares `file` before the ring and waits for the read to
/// start (when the kernel looks the fd up) before it drops anything.
fn push_selected_read(ring: &mut Ring, file: &OwnedFd, br: &BufRing) {
    let sqe = Read::selected(file, 0, br).unwrap().build().flags(SqeFlags::ASYNC).user_data(1);
    // SAFETY: the entry points at no caller memory: the kernel selects a buffer of `br`, whose
    // memory the ring's keep-alive list (or, for caller buffers, the test) keeps valid; `file`
    // outlives the ring in every caller, so it is open when the kernel issues the read.
    unsafe { ring.sq().push_raw(&sqe).unwrap() };
}

/// Fills a crate pool with `FILL` through its raw pointer (before the kernel selects it).
fn fill_pool(br: &BufRing) -> (usize, usize) {
    let (p, len) = br.pool();
    // SAFETY: the pool is mapped and writable; no request selected from it yet.
    unsafe { core::ptr::write_bytes(p as *mut u8, FILL, len) };
    (p as usize, len)
}

/// (a) A crate pool, the ring (and its buffer ring) dropped mid-read.
///
/// A second read of the same length into caller memory runs alongside as a witness: the pool's
/// range alone cannot tell "unmapped after the teardown finished" from "unmapped while the
/// kernel still wrote" (the running read then fails with `EFAULT`, unless a new mapping took
/// the range first), but if the pool was unmapped, the witness must not change any more.
fn pool_dropped_mid_read(test: &'static str, read_len: usize, ring_first: bool) {
    let wd = Watchdog::new(test, Duration::from_secs(60));
    let file = sparse_file(read_len);
    let witness_file = sparse_file(read_len);
    let mem = Anon::new(read_len);
    let mut ring = Ring::new(4).unwrap();
    let br = BufRing::builder(1, 1, read_len as u32).build(&mut ring).unwrap();
    // SAFETY: the test keeps `mem` mapped until the kernel is done with it (it retires the
    // mapping instead of unmapping it when that is not confirmed) and touches it only with
    // volatile reads.
    let witness = BufRing::builder(2, 1, read_len as u32)
        .memory(unsafe { CallerBuffers::new(mem.ptr, mem.len) })
        .build(&mut ring)
        .unwrap();
    let (base, len) = fill_pool(&br);
    // One after the other: a request queued while the only io-wq worker is still idle goes to
    // that worker after the first one, not to a new worker.
    wd.step("pushing the read");
    push_selected_read(&mut ring, &file, &br);
    assert_eq!(ring.submit().unwrap(), 1);
    wd.step("waiting for the read to start");
    assert!(wait_started(base as *const u8), "{test}: the read never started");
    wd.step("pushing the witness read");
    push_selected_read(&mut ring, &witness_file, &witness);
    assert_eq!(ring.submit().unwrap(), 1);
    wd.step("waiting for the witness read to start");
    assert!(wait_started(mem.ptr), "{test}: the witness read never started");
    let at_drop = written(base as *const u8, len);
    wd.step("dropping the ring");
    let t = Instant::now();
    let (first, second) = if ring_first {
        drop(ring);
        let a = t.elapsed();
        drop(br);
        drop(witness);
        (a, t.elapsed())
    } else {
        drop(br);
        drop(witness);
        let a = t.elapsed();
        drop(ring);
        (a, t.elapsed())
    };
    let witness_at_drop = written(mem.ptr, mem.len);
    wd.step("checking the pool");
    let fate = check_pool(test, base, len);
    let witness_later = written(mem.ptr, mem.len);
    note(
        test,
        format!(
            "{} MiB read, {} MiB written when dropped, {} first: {first:?}, all: {second:?}; path: {}; witness: {} MiB after the drop, {} MiB later",
            read_len >> 20,
            at_drop >> 20,
            if ring_first { "ring" } else { "buffer rings" },
            match fate {
                PoolFate::Released => "teardown proven, pool unmapped",
                PoolFate::Reserved => "teardown not confirmed, pool replaced by a PROT_NONE reservation",
            },
            witness_at_drop >> 20,
            witness_later >> 20,
        ),
    );
    match fate {
        PoolFate::Released => {
            assert_eq!(witness_later, witness_at_drop, "{test}: the pool was unmapped while the kernel still wrote");
            drop(mem);
        }
        PoolFate::Reserved => mem.retire(),
    }
    if read_len > SHORT {
        assert!(at_drop < len, "{test}: the read had finished before the drop; nothing was tested");
    } else if at_drop == len {
        note(test, "the short read had finished before the drop");
    }
    if ring_first {
        // The buffer rings hold the ring open: the ring's drop must not wait for the teardown.
        assert!(first < DROP_WAIT / 2, "{test}: the ring's drop waited ({first:?}) though its buffer rings are alive");
    }
}

#[test]
fn crate_pool_long_read_dropped() {
    pool_dropped_mid_read("crate_pool_long_read_dropped", long(), false);
}

#[test]
fn crate_pool_short_read_dropped() {
    pool_dropped_mid_read("crate_pool_short_read_dropped", SHORT, false);
}

#[test]
fn crate_pool_ring_dropped_before_buffer_ring() {
    pool_dropped_mid_read("crate_pool_ring_dropped_before_buffer_ring", long(), true);
}

/// (b) Caller memory, ring dropped mid-read; a crate pool in the same ring shows which path
/// the drop took. After the proof path, the caller memory no longer changes.
fn caller_dropped_mid_read(test: &'static str, read_len: usize) {
    let wd = Watchdog::new(test, Duration::from_secs(60));
    let file = sparse_file(read_len);
    let mem = Anon::new(read_len);
    let mut ring = Ring::new(4).unwrap();
    // SAFETY: the test keeps `mem` mapped until the kernel is done with it (it retires the
    // mapping instead of unmapping it when that is not confirmed) and touches it only with
    // volatile reads.
    let caller = BufRing::builder(1, 1, read_len as u32)
        .memory(unsafe { CallerBuffers::new(mem.ptr, mem.len) })
        .build(&mut ring)
        .unwrap();
    let witness = BufRing::builder(2, 1, 4096).build(&mut ring).unwrap();
    let (wbase, wlen) = witness.pool();
    let (wbase, wlen) = (wbase as usize, wlen);
    wd.step("pushing the read");
    push_selected_read(&mut ring, &file, &caller);
    assert_eq!(ring.submit().unwrap(), 1);
    wd.step("waiting for the read to start");
    assert!(wait_started(mem.ptr), "{test}: the read never started");
    let before = written(mem.ptr, mem.len);
    wd.step("dropping the ring");
    let t = Instant::now();
    drop(caller);
    drop(witness);
    drop(ring);
    let took = t.elapsed();
    let after_drop = written(mem.ptr, mem.len);
    wd.step("checking the caller memory");
    if read_len > SHORT {
        assert!(before < read_len, "{test}: the read had finished before the drop; nothing was tested");
    }
    let fate = pool_fate(wbase, wlen);
    match fate {
        PoolFate::Released => {
            std::thread::sleep(WATCH);
            let later = written(mem.ptr, mem.len);
            note(
                test,
                format!(
                    "drop took {took:?}; path: teardown proven; caller memory written: {} MiB before the drop, {} MiB after, {} MiB {WATCH:?} later",
                    before >> 20,
                    after_drop >> 20,
                    later >> 20
                ),
            );
            assert_eq!(later, after_drop, "{test}: the kernel wrote caller memory after a proven teardown");
            drop(mem);
        }
        PoolFate::Reserved => {
            note(
                test,
                format!(
                    "drop took {took:?}; path: teardown not confirmed (crate pool reserved); caller memory written: {} MiB before the drop, {} of {} MiB after; test retires it",
                    before >> 20,
                    after_drop >> 20,
                    read_len >> 20
                ),
            );
            mem.retire();
        }
    }
}

#[test]
fn caller_memory_long_read_dropped() {
    caller_dropped_mid_read("caller_memory_long_read_dropped", long());
}

#[test]
fn caller_memory_short_read_dropped() {
    caller_dropped_mid_read("caller_memory_short_read_dropped", SHORT);
}

/// (b) with `Ring::shutdown`: the teardown is reported finished only after the read ended,
/// and the caller memory does not change afterwards.
#[test]
fn caller_memory_shutdown_waits_for_io_wq() {
    let test = "caller_memory_shutdown_waits_for_io_wq";
    let wd = Watchdog::new(test, Duration::from_secs(60));
    let long = long();
    let file = sparse_file(long);
    let mem = Anon::new(long);
    let mut ring = Ring::new(4).unwrap();
    // SAFETY: `mem` stays mapped until the shutdown reports the teardown finished (or is
    // retired), and is only read with volatile reads.
    let caller = BufRing::builder(1, 1, long as u32)
        .memory(unsafe { CallerBuffers::new(mem.ptr, mem.len) })
        .build(&mut ring)
        .unwrap();
    wd.step("pushing the read");
    push_selected_read(&mut ring, &file, &caller);
    assert_eq!(ring.submit().unwrap(), 1);
    wd.step("waiting for the read to start");
    assert!(wait_started(mem.ptr), "{test}: the read never started");
    drop(caller);
    let before = written(mem.ptr, mem.len);
    wd.step("shutting the ring down");
    let outcome = ring.shutdown(Duration::from_secs(20));
    let at_end = written(mem.ptr, mem.len);
    note(
        test,
        format!("{outcome:?}; caller memory written: {} MiB before, {} MiB when finished", before >> 20, at_end >> 20),
    );
    let Teardown::Finished(_) = outcome else {
        mem.retire();
        panic!("{test}: expected a finished teardown, got {outcome:?}");
    };
    assert!(before < long, "{test}: the read had finished before the shutdown; nothing was tested");
    assert_eq!(at_end, long, "{test}: the teardown finished before the read did");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(written(mem.ptr, mem.len), at_end);
}

/// The application registered a file table: no proof is possible, so the pool is reserved
/// (`PROT_NONE`), never unmapped, and `shutdown` says why.
#[test]
fn user_file_table_means_no_proof() {
    let test = "user_file_table_means_no_proof";
    let wd = Watchdog::new(test, Duration::from_secs(60));
    let long = long();
    let file = sparse_file(long);
    let mut ring = Ring::new(4).unwrap();
    ring.submitter().register_files(&[file.as_fd()]).unwrap();
    let br = BufRing::builder(1, 1, long as u32).build(&mut ring).unwrap();
    let (base, len) = fill_pool(&br);
    wd.step("pushing the read");
    push_selected_read(&mut ring, &file, &br);
    assert_eq!(ring.submit().unwrap(), 1);
    wd.step("waiting for the read to start");
    assert!(wait_started(base as *const u8), "{test}: the read never started");
    drop(br);
    wd.step("dropping the ring");
    let t = Instant::now();
    drop(ring);
    let took = t.elapsed();
    wd.step("checking the pool");
    assert_eq!(pool_fate(base, len), PoolFate::Reserved, "{test}: the pool was not reserved");
    let fate = check_pool(test, base, len);
    // The drop does not wait (no proof is possible); its time is the replacement of the pool's pages.
    note(test, format!("drop took {took:?}; path: no proof possible (EBUSY), pool reserved: {fate:?}"));

    // The same through `shutdown`, which reports it.
    let mut ring = Ring::new(4).unwrap();
    ring.submitter().register_files(&[file.as_fd()]).unwrap();
    let br = BufRing::builder(1, 1, 4096).build(&mut ring).unwrap();
    let (base, len) = (br.pool().0 as usize, br.pool().1);
    drop(br);
    wd.step("shutting the second ring down");
    let t = Instant::now();
    let outcome = ring.shutdown(Duration::from_secs(1));
    assert_eq!(outcome, Teardown::Unprovable(Some(uring::Errno::BUSY)));
    assert!(t.elapsed() < DROP_WAIT / 2, "{test}: shutdown waited ({:?}) without a proof", t.elapsed());
    assert_eq!(pool_fate(base, len), PoolFate::Reserved);
}

/// A ring whose fd was lent out (`Submitter::fd`) does not trust the proof: the fd's holder
/// could replace the probe in the ring's file table (`IORING_OP_MSG_RING` sending a file) and
/// fake the teardown. The pool is reserved instead, and `shutdown` says so without waiting.
#[test]
fn lent_fd_means_no_proof() {
    let test = "lent_fd_means_no_proof";
    let _wd = Watchdog::new(test, Duration::from_secs(30));
    let mut ring = Ring::new(4).unwrap();
    let br = BufRing::builder(1, 1, 4096).build(&mut ring).unwrap();
    let (base, len) = (br.pool().0 as usize, br.pool().1);
    let dup = ring.submitter().fd().unwrap().try_clone_to_owned().unwrap();
    drop(dup);
    drop(br);
    let t = Instant::now();
    let outcome = ring.shutdown(Duration::from_secs(1));
    assert_eq!(outcome, Teardown::Unprovable(None));
    assert!(t.elapsed() < DROP_WAIT / 2, "{test}: shutdown waited ({:?}) without a proof", t.elapsed());
    assert_eq!(pool_fate(base, len), PoolFate::Reserved);
}

/// Buffer rings still alive hold the ring open: `shutdown` reports it without waiting, and
/// the last buffer ring dropped settles the pool after the proof.
#[test]
fn shutdown_with_live_buffer_ring_is_held() {
    let test = "shutdown_with_live_buffer_ring_is_held";
    let wd = Watchdog::new(test, Duration::from_secs(30));
    let mut ring = Ring::new(4).unwrap();
    let br = BufRing::builder(1, 4, 4096).build(&mut ring).unwrap();
    let (base, len) = (br.pool().0 as usize, br.pool().1);
    wd.step("shutting down");
    let t = Instant::now();
    assert_eq!(ring.shutdown(Duration::from_secs(5)), Teardown::Held);
    assert!(
        t.elapsed() < DROP_WAIT / 2,
        "{test}: shutdown waited ({:?}) though buffer rings hold the ring",
        t.elapsed()
    );
    assert_eq!(
        mapping_at(base).map(|m| m.2.starts_with("rw")),
        Some(true),
        "the pool went away under a live buffer ring"
    );
    wd.step("dropping the buffer ring");
    let t = Instant::now();
    drop(br);
    let took = t.elapsed();
    let fate = pool_fate(base, len);
    note(test, format!("last buffer ring's drop took {took:?}: {fate:?}"));
}

/// The kernel facts the proof rests on, on this kernel, for several kinds of ring: an idle
/// ring's teardown is observed (and how long it takes), also when the ring is shut down on
/// another thread than the one that submitted.
#[test]
fn idle_teardown_is_observed() {
    let test = "idle_teardown_is_observed";
    let wd = Watchdog::new(test, Duration::from_secs(60));
    type Make = fn() -> uring::Result<Ring>;
    let kinds: [(&str, Make); 4] = [
        ("default", || Ring::new(4)),
        ("COOP_TASKRUN", || Ring::builder().flags(uring::SetupFlags::COOP_TASKRUN).build(4)),
        ("DEFER_TASKRUN", || Ring::builder().single_issuer().defer_taskrun().build(4)),
        ("SQPOLL", || Ring::builder().sqpoll(10).build(4)),
    ];
    for (name, make) in kinds {
        let mut ring = match make() {
            Ok(r) => r,
            Err(e) => {
                skip(test, format!("{name} ring refused: {e}"));
                continue;
            }
        };
        // One request first, so the ring has a task context to tear down.
        ring.sq().push(&uring::op::Nop::new().build().user_data(1)).unwrap();
        ring.submit_and_wait(1).unwrap();
        ring.cq().pop().unwrap();
        wd.step("shutting an idle ring down");
        let outcome = ring.shutdown(Duration::from_secs(5));
        note(test, format!("{name}: {outcome:?}"));
        assert!(outcome.is_finished(), "{name}: {outcome:?}");
    }
    // Submitted on this thread, shut down on another one while this one waits in `join`.
    let mut ring = Ring::new(4).unwrap();
    ring.sq().push(&uring::op::Nop::new().build().user_data(1)).unwrap();
    ring.submit_and_wait(1).unwrap();
    wd.step("shutting down on another thread");
    let outcome = std::thread::spawn(move || ring.shutdown(Duration::from_secs(5))).join().unwrap();
    note(test, format!("other thread: {outcome:?}"));
    assert!(outcome.is_finished(), "other thread: {outcome:?}");
    // A single-issuer ring takes register calls only from its submitter: no proof elsewhere.
    match Ring::builder().single_issuer().build(4) {
        Ok(mut ring) => {
            ring.sq().push(&uring::op::Nop::new().build().user_data(1)).unwrap();
            ring.submit_and_wait(1).unwrap();
            wd.step("shutting a single-issuer ring down on another thread");
            let outcome = std::thread::spawn(move || ring.shutdown(Duration::from_secs(5))).join().unwrap();
            note(test, format!("SINGLE_ISSUER, other thread: {outcome:?}"));
            assert_eq!(outcome, Teardown::Unprovable(Some(uring::Errno::EXIST)));
        }
        Err(e) => skip(test, format!("SINGLE_ISSUER ring refused: {e}")),
    }
}

/// `CallerBuffers` that no kernel accepts are refused with a typed error.
#[test]
fn caller_buffers_refuse_bad_memory() {
    let _wd = Watchdog::new("caller_buffers_refuse_bad_memory", Duration::from_secs(30));
    let mut ring = Ring::new(4).unwrap();
    let cases: [(*mut u8, usize, &str); 3] = [
        (core::ptr::null_mut(), 4096, "null"),
        (core::ptr::NonNull::<u8>::dangling().as_ptr(), 0, "zero length"),
        (usize::MAX as *mut u8, 4096, "wrapping"),
    ];
    for (ptr, len, what) in cases {
        // SAFETY: refused before the kernel sees it (what this test checks).
        let b = BufRing::builder(1, 1, 16).memory(unsafe { CallerBuffers::new(ptr, len) });
        let e = b.validate().unwrap_err();
        if len == 0 {
            assert!(matches!(e, Error::MemoryTooSmall { needed: 16, provided: 0 }), "{what}: {e:?}");
        } else {
            assert!(matches!(e, Error::InvalidArgument { what: "caller buffer memory", .. }), "{what}: {e:?}");
        }
        assert!(BufRing::builder(1, 1, 16)
            // SAFETY: as above.
            .memory(unsafe { CallerBuffers::new(ptr, len) })
            .build(&mut ring)
            .is_err());
    }
}

/// A ring whose fd is registered with itself (`io_uring_register_ring_fd(3)`): the thread's
/// registered-ring table holds the ring open, so the drop releases that index first, or the
/// teardown could not finish before the thread exits.
#[test]
fn registered_ring_fd_is_released_at_drop() {
    let test = "registered_ring_fd_is_released_at_drop";
    let wd = Watchdog::new(test, Duration::from_secs(30));
    let mut ring = Ring::new(4).unwrap();
    if let Err(e) = ring.register_ring_fd() {
        skip(test, format!("register_ring_fd: {e}"));
        return;
    }
    ring.sq().push(&uring::op::Nop::new().build().user_data(1)).unwrap();
    ring.submit_and_wait(1).unwrap();
    wd.step("shutting down");
    let outcome = ring.shutdown(Duration::from_secs(2));
    note(test, format!("{outcome:?}"));
    assert!(outcome.is_finished(), "{test}: {outcome:?}");
}

/// The kernel facts the proof rests on, checked by hand with the public API: the ring's file
/// table is released only when the kernel frees the ring, and a mapping of the ring fd keeps
/// the ring from being freed (so the crate unmaps every mapping before it waits).
#[test]
fn ring_mapping_delays_teardown() {
    let test = "ring_mapping_delays_teardown";
    let wd = Watchdog::new(test, Duration::from_secs(30));
    let ring = Ring::new(4).unwrap();
    let (r, w) = pipe();
    ring.submitter().register_files(&[w.as_fd()]).unwrap();
    drop(w);
    let Some(fd) = ring.submitter().fd().map(|f| f.as_raw_fd()) else {
        skip(test, "the ring has no fd to map");
        return;
    };
    // SAFETY: a fresh shared mapping of the SQ ring (offset 0), which nothing else uses.
    let map = unsafe { libc::mmap(core::ptr::null_mut(), 4096, libc::PROT_READ, libc::MAP_SHARED, fd, 0) };
    assert_ne!(map, libc::MAP_FAILED, "mmap of the ring fd: {}", std::io::Error::last_os_error());
    drop(ring);
    wd.step("polling while the mapping lives");
    assert!(!hangs_up(&r, Duration::from_millis(500)), "{test}: the ring was freed while a mapping of it lived");
    // SAFETY: our mapping.
    unsafe { libc::munmap(map, 4096) };
    wd.step("polling after munmap");
    let t = Instant::now();
    assert!(hangs_up(&r, Duration::from_secs(5)), "{test}: the ring was not freed after the last mapping went");
    note(test, format!("freed {:?} after the last mapping went", t.elapsed()));
}

fn pipe() -> (OwnedFd, OwnedFd) {
    let mut p = [0i32; 2];
    // SAFETY: `p` has room for the two fds.
    assert_eq!(unsafe { libc::pipe2(p.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: both were just returned to us.
    unsafe { (OwnedFd::from_raw_fd(p[0]), OwnedFd::from_raw_fd(p[1])) }
}

/// Whether `read`'s pipe reports `POLLHUP` within `limit`.
fn hangs_up(read: &OwnedFd, limit: Duration) -> bool {
    let t = Instant::now();
    loop {
        let left = limit.saturating_sub(t.elapsed());
        let mut pfd = libc::pollfd { fd: read.as_raw_fd(), events: libc::POLLIN, revents: 0 };
        // SAFETY: one valid pollfd.
        let n = unsafe { libc::poll(&mut pfd, 1, left.as_millis() as i32) };
        if n > 0 && pfd.revents & libc::POLLHUP != 0 {
            return true;
        }
        if n == 0 || left.is_zero() {
            return false;
        }
    }
}

/// `OwnedRing::shutdown`: operations in flight are cancelled and reaped, the ring's teardown is
/// observed, and their memory comes back to the allocator (not leaked) once it finished. Run
/// with several reads pending on pipes that never get data, past the ring's size in total.
#[test]
fn owned_shutdown_cancels_and_proves_the_teardown() {
    common::watchdog("owned_shutdown_cancels_and_proves_the_teardown", 30, || {
        for round in 0..3 {
            let mut ring = uring::owned::OwnedRing::new(4).unwrap();
            let mut writers = Vec::new();
            for _ in 0..6 {
                let (r, w) = rustix::pipe::pipe().unwrap();
                // 6 reads on a ring of 4 SQ entries: each is submitted as it is pushed.
                ring.push(uring::owned::Read::new(r, vec![0u8; 4096], 0)).map_err(|r| r.error).unwrap();
                ring.submit().unwrap();
                writers.push(w);
            }
            assert_eq!(ring.in_flight(), 6);
            let started = Instant::now();
            let t = ring.shutdown(Duration::from_secs(5));
            note(
                "owned_shutdown_cancels_and_proves_the_teardown",
                format!("round {round}: {t:?} after {:?}", started.elapsed()),
            );
            assert!(t.is_finished(), "round {round}: {t:?}");
            drop(writers);
        }
    });
}
