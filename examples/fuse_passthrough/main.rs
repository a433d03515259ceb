//! A FUSE passthrough file system served over io_uring, in pure Rust: mirrors a source
//! directory at a mount point, like libfuse's `passthrough_hp`.
//!
//! Run (as root):
//!
//! ```sh
//! echo Y > /sys/module/fuse/parameters/enable_uring
//! cargo run --release --example fuse_passthrough -- /srv/data /mnt/pt
//! # Ctrl-C (or SIGTERM) unmounts and exits
//! ```
//!
//! How it works:
//! 1. `mount(2)` with `fd=` of an open `/dev/fuse` (`main.rs`, `mount.rs`).
//! 2. The kernel's INIT request is read from `/dev/fuse` and answered there, with
//!    `FUSE_INIT_EXT | FUSE_OVER_IO_URING` when the kernel offers io_uring (module parameter
//!    `enable_uring` = Y), `max_write` and `max_pages` matching the payload buffers, and
//!    `FUSE_HAS_IO_URING_BUFPOOL` when the kernel offers buffer pools (Linux 7.3).
//! 3. One queue per possible CPU, each with its own SQE128 ring and thread (pinned to that CPU
//!    unless `--no-pin`), registers `--queue-depth` entries and serves requests with
//!    COMMIT_AND_FETCH (`queue.rs`). The main thread keeps reading `/dev/fuse`, which still
//!    carries FORGET and INTERRUPT.
//! 4. Without io_uring the server says so on stderr and serves `/dev/fuse` with read/write on
//!    one thread per CPU (`devfuse.rs`).
//! 5. Every operation on the source tree that io_uring has (openat, statx, read, fsync,
//!    ftruncate, fallocate, close, mkdirat, symlinkat, linkat, unlinkat, renameat, getxattr,
//!    setxattr) goes through a per-thread io_uring ring (`backing.rs`), except writes: a
//!    buffered write that may block is handed by io_uring to a worker thread, so they are
//!    plain `pwrite(2)` calls. The others (chmod/chown/utimensat, mknodat, readlinkat,
//!    listxattr/removexattr, statfs, access, lseek, copy_file_range, flock, getdents64) are
//!    plain syscalls too (`fs.rs`).
//! 6. The operations of libfuse's `passthrough_hp` are served (lookup, attributes, create,
//!    open, read, write, flush, fsync, release, mkdir, mknod, symlink, readlink, link, unlink,
//!    rmdir, rename with flags, readdir and readdirplus, statfs, xattrs, fallocate, flock),
//!    and also statx, lseek (`SEEK_DATA`/`SEEK_HOLE`), copy_file_range and access. POSIX
//!    locks stay in the kernel (`FUSE_POSIX_LOCKS` is not asked for), as with passthrough_hp.
//!    A blocking `flock` waits on a thread of its own, so the queue that received it goes on
//!    serving. Options: `--writeback` (writeback cache), `--passthrough` (the kernel does the
//!    reads and writes of open files on the backing file itself: `FUSE_PASSTHROUGH`, one
//!    backing id per inode), `--direct-io`. A request it does not serve is answered `ENOSYS`
//!    and named once on stderr (every request is named with `--debug`).
//! 7. A mount point that already holds a FUSE mount (a live one, or a dead one whose server
//!    is gone) is refused instead of mounted over.
//!
//! Output: `READY mode=<uring|devfuse> ...` on stdout once requests can be served, and
//! `STATS ...` (requests per transport, COMMIT_AND_FETCH completions) on exit.
//!
//! `README.md` beside this file has the options, the test suites run against the mount
//! (`fs_suite.sh`) and their results.

mod abi;
mod backing;
mod devfuse;
mod fs;
mod mem;
mod mount;
mod queue;

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use uring::uapi::fuse::*;

use crate::abi::{bytes_of, read};
use crate::fs::Passthrough;

/// Counters printed on exit.
#[derive(Default)]
pub struct Stats {
    /// Requests served from ring entries.
    pub uring_requests: AtomicU64,
    /// Completions of COMMIT_AND_FETCH commands (each one delivered the next request).
    pub commit_completions: AtomicU64,
    /// Requests read from `/dev/fuse` by the serving loops (INIT, read and answered before
    /// they start, is not counted).
    pub devfuse_requests: AtomicU64,
    /// FORGET and BATCH_FORGET read from `/dev/fuse`.
    pub devfuse_forgets: AtomicU64,
    /// Requests read from `/dev/fuse` other than INIT, FORGET, BATCH_FORGET, INTERRUPT.
    pub devfuse_other: AtomicU64,
    /// Operations on the backing rings.
    pub backing_ops: AtomicU64,
    /// Requests served per io_uring queue: `(qid, requests)`.
    pub per_queue: std::sync::Mutex<Vec<(u16, u64)>>,
}

struct Options {
    source: PathBuf,
    mountpoint: PathBuf,
    queue_depth: usize,
    max_pages: usize,
    timeout: Duration,
    direct_io: bool,
    no_uring: bool,
    pin: bool,
    pin_offset: usize,
    spin: Option<Duration>,
    ring_setup: queue::RingSetup,
    threads: usize,
    writeback: bool,
    passthrough: bool,
    flock: bool,
    debug: bool,
}

const USAGE: &str = "usage: fuse_passthrough [OPTIONS] SOURCE MOUNTPOINT

Mirrors SOURCE at MOUNTPOINT through FUSE over io_uring (root only).

  --queue-depth N   ring entries per queue (default 8)
  --max-pages N     payload buffer and max_write, in pages (default 256 = 1 MiB)
  --timeout SECS    entry and attribute cache timeout (default 1)
  --direct-io       open files with FOPEN_DIRECT_IO (bypass the FUSE page cache)
  --no-uring        serve /dev/fuse with read/write even if io_uring is available
  --no-pin          do not pin queue thread q to CPU q (pinned by default, as libfuse does)
  --pin-offset N    pin queue thread q to CPU (q + N) mod CPUs instead (default 0)
  --spin-us N       busy-poll a queue's ring for N microseconds before sleeping (default 50;
                    0 sleeps at once, better when other work keeps every CPU busy)
  --ring-setup S    queue ring setup: defer (SINGLE_ISSUER|DEFER_TASKRUN, default), coop
                    (SINGLE_ISSUER|COOP_TASKRUN) or plain (no flags)
  --threads N       /dev/fuse threads without io_uring (default: number of CPUs)
  --writeback       ask for the writeback cache (FUSE_WRITEBACK_CACHE): buffered writes
                    gather in the kernel's page cache
  --passthrough     ask for FUSE passthrough (FUSE_PASSTHROUGH, Linux 6.9+): the kernel reads
                    and writes each open file's backing file itself (backing ids); not with
                    --writeback, replaces --direct-io for regular files
  --no-flock        leave flock(2) locks to the kernel instead of the backing file
  --debug           log every request to stderr (unhandled ones are named even without it)";

impl Options {
    fn parse() -> Result<Options, String> {
        let mut args = std::env::args().skip(1);
        let mut pos = Vec::new();
        let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        let mut o = Options {
            source: PathBuf::new(),
            mountpoint: PathBuf::new(),
            queue_depth: 8,
            max_pages: 256,
            timeout: Duration::from_secs(1),
            direct_io: false,
            no_uring: false,
            pin: true,
            pin_offset: 0,
            spin: Some(Duration::from_micros(50)),
            ring_setup: queue::RingSetup::Defer,
            threads: cpus,
            writeback: false,
            passthrough: false,
            flock: true,
            debug: false,
        };
        fn num<T: std::str::FromStr>(flag: &str, v: Option<String>) -> Result<T, String> {
            v.and_then(|v| v.parse().ok()).ok_or_else(|| format!("{flag} needs a number\n\n{USAGE}"))
        }
        while let Some(a) = args.next() {
            match a.as_str() {
                "--queue-depth" => o.queue_depth = num::<usize>(&a, args.next())?.clamp(1, 1024),
                "--max-pages" => o.max_pages = num::<usize>(&a, args.next())?.clamp(2, 1024),
                "--timeout" => o.timeout = Duration::from_secs_f64(num::<f64>(&a, args.next())?.max(0.0)),
                "--threads" => o.threads = num::<usize>(&a, args.next())?.max(1),
                "--direct-io" => o.direct_io = true,
                "--no-uring" => o.no_uring = true,
                "--no-pin" => o.pin = false,
                "--pin-offset" => o.pin_offset = num::<usize>(&a, args.next())?,
                "--spin-us" => {
                    let us = num::<u64>(&a, args.next())?;
                    o.spin = (us > 0).then(|| Duration::from_micros(us));
                }
                "--ring-setup" => {
                    o.ring_setup = args
                        .next()
                        .as_deref()
                        .and_then(queue::RingSetup::parse)
                        .ok_or_else(|| format!("--ring-setup needs defer, coop or plain\n\n{USAGE}"))?
                }
                "--writeback" => o.writeback = true,
                "--passthrough" => o.passthrough = true,
                "--no-flock" => o.flock = false,
                "--debug" => o.debug = true,
                "-h" | "--help" => return Err(USAGE.to_string()),
                s if s.starts_with('-') => return Err(format!("unknown option {s}\n\n{USAGE}")),
                _ => pos.push(PathBuf::from(a)),
            }
        }
        if o.writeback && o.passthrough {
            return Err(format!(
                "--writeback and --passthrough exclude each other (the kernel refuses both)\n\n{USAGE}"
            ));
        }
        let [source, mountpoint] = <[PathBuf; 2]>::try_from(pos).map_err(|_| USAGE.to_string())?;
        o.source = source.canonicalize().map_err(|e| format!("{}: {e}", source.display()))?;
        o.mountpoint = mountpoint.canonicalize().map_err(|e| {
            if e.raw_os_error() == Some(libc::ENOTCONN) {
                dead_mount_message(&mountpoint)
            } else {
                format!("{}: {e}", mountpoint.display())
            }
        })?;
        Ok(o)
    }
}

fn main() -> ExitCode {
    let opts = match Options::parse() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match run(opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fuse_passthrough: {e}");
            ExitCode::FAILURE
        }
    }
}

fn dead_mount_message(mountpoint: &std::path::Path) -> String {
    format!(
        "{0}: a FUSE mount whose server is gone is still there (ENOTCONN); mounting over it would \
         hide it, and unmounting at exit would leave it behind: remove it first \
         (`fusermount3 -u {0}` or `umount -l {0}`)",
        mountpoint.display()
    )
}

/// Refuses a mount point that already holds a FUSE mount: a dead one (its server gone) or a
/// live one. Mounting on top would work, but the server's unmount at exit could then remove
/// the mount underneath, which it did not make.
fn check_mountpoint(mountpoint: &std::path::Path) -> Result<(), String> {
    if !mount::is_fuse_mounted(mountpoint) {
        return Ok(());
    }
    // statfs(2) always asks the server (a stat may be answered from cached attributes).
    let path = std::ffi::CString::new(mountpoint.as_os_str().as_encoded_bytes()).unwrap_or_default();
    // SAFETY: `statfs` is plain integers; all zeroes is valid.
    let mut st: libc::statfs = unsafe { core::mem::zeroed() };
    // SAFETY: plain syscall with a NUL-terminated path, writing into `st`.
    let r = unsafe { libc::statfs(path.as_ptr(), &mut st) };
    let err = (r < 0).then(std::io::Error::last_os_error);
    match err.as_ref().and_then(std::io::Error::raw_os_error) {
        // ECANCELED: the dead server's io_uring queues are still being torn down.
        Some(libc::ENOTCONN | libc::ECONNABORTED | libc::ECANCELED) => Err(dead_mount_message(mountpoint)),
        _ => Err(format!(
            "{0}: a FUSE file system is already mounted there{1}; unmount it first (`fusermount3 -u {0}`)",
            mountpoint.display(),
            err.map(|e| format!(" (statfs: {e})")).unwrap_or_default()
        )),
    }
}

/// The signals that end the server.
fn stop_signals() -> libc::sigset_t {
    // SAFETY: sigemptyset/sigaddset initialize and fill the local set.
    unsafe {
        let mut set: libc::sigset_t = core::mem::zeroed();
        libc::sigemptyset(&mut set);
        for s in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            libc::sigaddset(&mut set, s);
        }
        set
    }
}

/// Blocks the stop signals in this thread (and the threads it spawns from now on), and starts
/// a thread that waits for them: the first one unmounts (lazily if busy), which ends the
/// connection and so the server; a second one exits at once.
fn handle_signals(mountpoint: PathBuf) {
    let set = stop_signals();
    // SAFETY: `set` is initialized; the old mask is not wanted.
    unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, core::ptr::null_mut()) };
    std::thread::spawn(move || {
        let mut first = true;
        loop {
            let mut sig = 0;
            // SAFETY: `set` is initialized and `sig` is written by the call.
            if unsafe { libc::sigwait(&set, &mut sig) } != 0 {
                return;
            }
            if !first {
                eprintln!("fuse_passthrough: signal {sig} again: exiting now");
                std::process::exit(1);
            }
            first = false;
            eprintln!("fuse_passthrough: signal {sig}: unmounting {}", mountpoint.display());
            if let Err(e) = mount::unmount(&mountpoint) {
                eprintln!("fuse_passthrough: {e}");
            }
        }
    });
}

/// Unmounts on drop if still mounted: no mount outlives the server, whatever ends it.
struct MountGuard(PathBuf);

impl Drop for MountGuard {
    fn drop(&mut self) {
        if mount::is_fuse_mounted(&self.0) {
            if let Err(e) = mount::unmount(&self.0) {
                eprintln!("fuse_passthrough: {e}");
            }
        }
    }
}

/// The INIT negotiation's outcome.
struct Negotiated {
    reply: fuse_init_out,
    uring: bool,
    bufpool: bool,
    uring_offered: bool,
}

fn negotiate(init: &fuse_init_in, opts: &Options, payload: usize, page: usize) -> Negotiated {
    let mut offered = init.flags as u64;
    if offered & FUSE_INIT_EXT != 0 {
        offered |= (init.flags2 as u64) << 32;
    }
    let uring_offered = offered & FUSE_OVER_IO_URING != 0;
    let mut want = FUSE_ASYNC_READ
        | FUSE_DIRECT_IO_ALLOW_MMAP
        | FUSE_ATOMIC_O_TRUNC
        | FUSE_BIG_WRITES
        | FUSE_AUTO_INVAL_DATA
        | FUSE_DO_READDIRPLUS
        | FUSE_READDIRPLUS_AUTO
        | FUSE_ASYNC_DIO
        | FUSE_PARALLEL_DIROPS
        | FUSE_MAX_PAGES
        | FUSE_INIT_EXT;
    if uring_offered && !opts.no_uring {
        want |= FUSE_OVER_IO_URING | FUSE_HAS_IO_URING_BUFPOOL;
    }
    if opts.flock {
        want |= FUSE_FLOCK_LOCKS;
    }
    if opts.writeback {
        want |= FUSE_WRITEBACK_CACHE;
    }
    if opts.passthrough {
        want |= FUSE_PASSTHROUGH;
    }
    let flags = want & offered;
    let reply = fuse_init_out {
        major: FUSE_KERNEL_VERSION,
        minor: init.minor.min(FUSE_KERNEL_MINOR_VERSION),
        max_readahead: init.max_readahead,
        flags: flags as u32,
        max_background: 64,
        congestion_threshold: 48,
        max_write: payload as u32,
        time_gran: 1,
        max_pages: (payload / page).min(u16::MAX as usize) as u16,
        flags2: (flags >> 32) as u32,
        // Backing files may be on a file system that stacks on nothing (depth 0): one level.
        max_stack_depth: if flags & FUSE_PASSTHROUGH != 0 { 1 } else { 0 },
        ..Default::default()
    };
    Negotiated {
        reply,
        uring: flags & FUSE_OVER_IO_URING != 0,
        bufpool: flags & FUSE_HAS_IO_URING_BUFPOOL != 0,
        uring_offered,
    }
}

fn enable_uring_param() -> String {
    std::fs::read_to_string("/sys/module/fuse/parameters/enable_uring")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "absent: no CONFIG_FUSE_IO_URING".to_string())
}

fn run(opts: Options) -> Result<(), String> {
    // Modes come from the callers (the kernel already applied their umask).
    // SAFETY: umask has no memory-safety preconditions.
    unsafe { libc::umask(0) };
    let page = mem::page_size();
    let payload = opts.max_pages * page;
    let mut io = backing::Backing::new().map_err(|e| format!("io_uring setup: {e}"))?;
    let (root, root_key) = fs::open_root(&mut io, &opts.source)?;
    let dev = File::options()
        .read(true)
        .write(true)
        .custom_flags(libc::O_CLOEXEC)
        .open("/dev/fuse")
        .map_err(|e| format!("/dev/fuse: {e}"))?;
    let dev = Arc::new(dev);

    check_mountpoint(&opts.mountpoint)?;
    handle_signals(opts.mountpoint.clone());
    let fstype = mount::mount(&dev, &opts.mountpoint, "uring-passthrough")?;
    let _guard = MountGuard(opts.mountpoint.clone());

    // INIT, over /dev/fuse.
    let mut rbuf = devfuse::RequestBuf::new(payload + page).map_err(|e| format!("request buffer: {e}"))?;
    let buf = rbuf.buf();
    let n = devfuse::read_request(&dev, buf)
        .map_err(|e| format!("reading INIT: {e:?}"))?
        .ok_or("connection ended before INIT")?;
    let h = read::<fuse_in_header>(&buf[..n]).ok_or("short INIT request")?;
    let init = read::<fuse_init_in>(buf.get(40..n).unwrap_or_default()).unwrap_or_default();
    if h.opcode != FUSE_INIT || init.major != FUSE_KERNEL_VERSION {
        let _ = devfuse::write_reply(&dev, h.unique, -libc::EPROTO, &[]);
        return Err(format!("expected INIT 7.x, got opcode {} version {}.{}", h.opcode, init.major, init.minor));
    }
    let neg = negotiate(&init, &opts, payload, page);
    devfuse::write_reply(&dev, h.unique, 0, bytes_of(&neg.reply)).map_err(|e| format!("INIT reply: {e:?}"))?;
    drop(rbuf);
    eprintln!(
        "fuse_passthrough: {} on {} ({fstype}), protocol 7.{}, max_write {} KiB, max_pages {}",
        opts.source.display(),
        opts.mountpoint.display(),
        neg.reply.minor,
        neg.reply.max_write >> 10,
        neg.reply.max_pages
    );

    let got = |f: u64| (neg.reply.flags as u64 | (neg.reply.flags2 as u64) << 32) & f != 0;
    for (asked, flag, name) in [
        (opts.writeback, FUSE_WRITEBACK_CACHE, "--writeback: FUSE_WRITEBACK_CACHE"),
        (opts.passthrough, FUSE_PASSTHROUGH, "--passthrough: FUSE_PASSTHROUGH (CONFIG_FUSE_PASSTHROUGH, Linux 6.9)"),
        (opts.flock, FUSE_FLOCK_LOCKS, "FUSE_FLOCK_LOCKS"),
    ] {
        if asked && !got(flag) {
            eprintln!("fuse_passthrough: the kernel does not offer {name}: going on without it");
        }
    }
    let fs_opts = fs::FsOptions {
        timeout: opts.timeout,
        // Files opened in passthrough mode go without it (their I/O bypasses the server).
        direct_io: opts.direct_io,
        writeback: got(FUSE_WRITEBACK_CACHE),
        debug: opts.debug,
    };
    let backing_dev = got(FUSE_PASSTHROUGH).then(|| dev.clone());
    let fs = Arc::new(Passthrough::new(root, root_key, fs_opts, backing_dev));
    let stats = Arc::new(Stats::default());
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let bufsize = payload + page;
    let mut queue_threads = Vec::new();
    let mut mode = "devfuse";
    let nq = queue::possible_cpus();

    if neg.uring {
        let (tx, rx) = mpsc::channel();
        for qid in 0..nq {
            let spec = queue::QueueSpec {
                qid: qid as u16,
                depth: opts.queue_depth,
                payload,
                bufpool: neg.bufpool,
                pin: opts.pin,
                pin_offset: opts.pin_offset,
                spin: opts.spin,
                setup: opts.ring_setup,
            };
            let (dev, fs, stats, tx, done) = (dev.clone(), fs.clone(), stats.clone(), tx.clone(), done_tx.clone());
            let t = std::thread::Builder::new()
                .name(format!("fuse-q{qid}"))
                .spawn(move || {
                    queue::run(dev, fs, stats, spec, tx);
                    let _ = done.send(());
                })
                .map_err(|e| format!("spawning queue thread: {e}"))?;
            queue_threads.push(t);
        }
        drop(tx);
        let mut failures = Vec::new();
        for _ in 0..nq {
            match rx.recv_timeout(Duration::from_secs(10)) {
                Ok((_, Ok(()))) => {}
                Ok((_, Err(e))) => failures.push(e),
                Err(_) => failures.push("a queue thread did not report".to_string()),
            }
        }
        if failures.is_empty() {
            mode = "uring";
            eprintln!(
                "fuse_passthrough: serving over io_uring: {nq} queues x {} entries, {} payload ({})",
                opts.queue_depth,
                if neg.bufpool { "buffer-pool" } else { "per-entry" },
                if neg.bufpool { "Linux 7.3 ABI" } else { "Linux 6.14 ABI" }
            );
        } else {
            // A failed REGISTER makes the kernel give up io_uring on this connection: requests
            // come through /dev/fuse again.
            for f in &failures {
                eprintln!("fuse_passthrough: {f}");
            }
            eprintln!("fuse_passthrough: io_uring setup failed: falling back to /dev/fuse read/write");
        }
    } else if neg.uring_offered {
        eprintln!("fuse_passthrough: --no-uring: serving /dev/fuse with read/write");
    } else {
        eprintln!(
            "fuse_passthrough: the kernel did not offer FUSE_OVER_IO_URING (enable_uring = {}): \
             falling back to /dev/fuse read/write",
            enable_uring_param()
        );
    }

    let mut dev_threads = Vec::new();
    if mode == "devfuse" {
        for i in 1..opts.threads {
            let (dev, fs, stats) = (dev.clone(), fs.clone(), stats.clone());
            let t = std::thread::Builder::new()
                .name(format!("fuse-dev{i}"))
                .spawn(move || {
                    if let Err(e) = devfuse::serve(&dev, &fs, &stats, bufsize) {
                        eprintln!("fuse_passthrough: {e}");
                    }
                })
                .map_err(|e| format!("spawning /dev/fuse thread: {e}"))?;
            dev_threads.push(t);
        }
    }
    let (queues, depth) = if mode == "uring" { (nq, opts.queue_depth) } else { (0, 0) };
    println!(
        "READY mode={mode} queues={queues} depth={depth} payload={payload} ring_setup={} spin_us={} bufpool={} \
         writeback={} passthrough={} flock={}",
        if mode == "uring" { opts.ring_setup.name() } else { "-" },
        opts.spin.map_or(0, |d| d.as_micros()),
        neg.bufpool,
        got(FUSE_WRITEBACK_CACHE),
        got(FUSE_PASSTHROUGH),
        got(FUSE_FLOCK_LOCKS)
    );
    let _ = std::io::stdout().flush();

    // This thread reads /dev/fuse until the connection ends (FORGET and INTERRUPT only, with
    // io_uring).
    let served = devfuse::serve(&dev, &fs, &stats, bufsize);
    drop(done_tx);
    for t in dev_threads {
        let _ = t.join();
    }
    // The kernel ends every queue's commands when the connection goes; should a queue thread
    // still wait after a grace period, exiting the process tears its ring down.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let mut finished = 0;
    while finished < queue_threads.len() {
        match done_rx.recv_timeout(deadline.saturating_duration_since(std::time::Instant::now())) {
            Ok(()) => finished += 1,
            Err(_) => break,
        }
    }
    if finished < queue_threads.len() {
        eprintln!("fuse_passthrough: {} queue thread(s) still waiting at exit", queue_threads.len() - finished);
    } else {
        for t in queue_threads {
            let _ = t.join();
        }
    }
    stats.backing_ops.fetch_add(io.ops, Ordering::Relaxed);
    let s = |c: &AtomicU64| c.load(Ordering::Relaxed);
    let mut queues = stats.per_queue.lock().unwrap_or_else(|p| p.into_inner()).clone();
    queues.sort_unstable();
    let per_queue = queues.iter().map(|(q, n)| format!("{q}:{n}")).collect::<Vec<_>>().join(",");
    let per_queue = if per_queue.is_empty() { "-".to_string() } else { per_queue };
    println!(
        "STATS mode={mode} uring_requests={} commit_completions={} devfuse_requests={} devfuse_forgets={} \
         devfuse_other={} backing_ops={} nodes_left={} per_queue={}",
        s(&stats.uring_requests),
        s(&stats.commit_completions),
        s(&stats.devfuse_requests),
        s(&stats.devfuse_forgets),
        s(&stats.devfuse_other),
        s(&stats.backing_ops),
        fs.node_count(),
        per_queue,
    );
    let _ = std::io::stdout().flush();
    served
}
