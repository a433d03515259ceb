//! The io_uring transport: one ring and one thread per queue, one queue per possible CPU.
//!
//! Each queue registers `depth` ring entries with `FUSE_IO_URING_CMD_REGISTER` (128-byte SQEs,
//! `IORING_SETUP_SQE128`). An entry is a 288-byte `fuse_uring_req_header` plus a payload
//! buffer; its REGISTER completes when the kernel has written a request into it. The thread
//! serves the request, writes the reply into the same header and payload, and sends
//! `FUSE_IO_URING_CMD_COMMIT_AND_FETCH`, which hands the reply over and waits for the next
//! request in the same entry. One `io_uring_enter` submits the commits and waits for more;
//! when several requests arrived together, each reply is submitted before the next request
//! is served (`Queue::drain`).
//!
//! Two payload layouts:
//! - Linux 6.14+ (protocol 7.42): every entry has its own payload buffer, the second iovec of
//!   its REGISTER.
//! - Linux 7.3+ (protocol 7.46), when INIT negotiated `FUSE_HAS_IO_URING_BUFPOOL`: the queue is
//!   created with `FUSE_IO_URING_CMD_ADD_QUEUE` and given one buffer pool with
//!   `FUSE_IO_URING_CMD_ADD_BUFPOOL` (`depth` buffers of the connection's maximum payload); the
//!   REGISTER payload iovec is empty and each request names its buffer by
//!   `ring_ent_in_out.offset` in the pool, where the reply goes too. Not exercised on Linux
//!   6.18 (the kernel does not offer the flag): written from the protocol description.
//!
//! A request whose answer must wait (a blocking `flock`, [`Outcome::Wait`]) keeps its entry
//! while a thread of its own waits; the queue goes on serving the other entries. The waiting
//! thread sends the result back on a channel and writes to the queue's eventfd, whose read
//! (armed on the queue's ring while an entry waits) wakes the queue thread to commit it.
//!
//! Teardown: when the connection ends (unmount or abort) the kernel completes every pending
//! command with `ENOTCONN` (a commit sent after that fails the same way); the thread stops once
//! all its entries are accounted for.

use std::fs::File;
use std::mem::ManuallyDrop;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;

use uring::cmd::fuse::{
    AddBufpool, AddQueue, CommitAndFetch, EntryIovecs, HeaderMut, HeaderView, Register, FUSE_URING_REQ_HEADER_SZ,
};
use uring::op::{self, Target};
use uring::uapi::fuse::*;
use uring::{Cqe, Errno, Ring, Sqe128};

use crate::abi;
use crate::backing::Backing;
use crate::fs::{Outcome, Passthrough};
use crate::mem::Mapping;
use crate::Stats;

/// `user_data` of control commands (ADD_QUEUE, ADD_BUFPOOL); entries use their index.
const CONTROL: u64 = u64::MAX;
/// `user_data` of the eventfd read that wakes the thread for answers that waited.
const WAKE: u64 = u64::MAX - 1;

/// What one queue thread is asked to do.
#[derive(Debug, Clone, Copy)]
pub struct QueueSpec {
    /// Queue id (a CPU number).
    pub qid: u16,
    /// Ring entries to register.
    pub depth: usize,
    /// Bytes of payload per entry (the connection's maximum payload).
    pub payload: usize,
    /// Use a Linux 7.3 buffer pool instead of per-entry payload buffers.
    pub bufpool: bool,
    /// Pin the thread to CPU `(qid + pin_offset) % cpus`.
    pub pin: bool,
    /// Added to the queue id to pick the CPU the thread is pinned to (0: the queue's own CPU,
    /// where the kernel queues the requests of tasks running on it).
    pub pin_offset: usize,
    /// Busy-poll for this long before blocking for the next completion.
    pub spin: Option<std::time::Duration>,
    /// How the queue's ring runs the kernel's task work.
    pub setup: RingSetup,
}

/// The setup flags of a queue's ring (`--ring-setup`): how the kernel's task work (which
/// copies a request into an entry and posts its completion) reaches the queue thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RingSetup {
    /// `IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN` (Linux 6.1): task work waits
    /// for the thread's next `io_uring_enter`, which the thread is always blocked in.
    Defer,
    /// `IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN` (Linux 5.19/6.0): task work
    /// runs at the thread's next kernel entry, without an interrupt.
    Coop,
    /// No flags: task work interrupts the thread (`TWA_SIGNAL`).
    Plain,
}

impl RingSetup {
    /// Parses `defer`, `coop` or `plain`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "defer" => Some(RingSetup::Defer),
            "coop" => Some(RingSetup::Coop),
            "plain" => Some(RingSetup::Plain),
            _ => None,
        }
    }

    /// The name `parse` takes.
    pub fn name(self) -> &'static str {
        match self {
            RingSetup::Defer => "defer",
            RingSetup::Coop => "coop",
            RingSetup::Plain => "plain",
        }
    }
}

/// The memory of a queue's entries. The kernel writes into an entry's header and payload
/// while it holds the entry (from REGISTER or COMMIT_AND_FETCH until the completion), so the
/// thread only ever touches the entry whose completion it is handling, through raw pointers.
///
/// Never freed: the kernel may still write into entries it holds until the ring is torn down,
/// which can finish after the thread is gone (the process is about to exit by then anyway).
struct Entries {
    headers: *mut fuse_uring_req_header,
    payload: ManuallyDrop<Mapping>,
    /// The REGISTER iovecs: read by the kernel when a REGISTER is issued.
    iovecs: ManuallyDrop<Vec<EntryIovecs>>,
}

impl Entries {
    fn new(spec: &QueueSpec) -> std::io::Result<Self> {
        let headers = Box::into_raw(vec![fuse_uring_req_header::default(); spec.depth].into_boxed_slice());
        let headers = headers as *mut fuse_uring_req_header;
        let mut payload = Mapping::new(spec.depth * spec.payload)?;
        let base = payload.as_mut_ptr();
        let iovecs = (0..spec.depth)
            .map(|i| {
                // SAFETY: `i < depth`: inside the header array.
                let h = unsafe { headers.add(i) } as *mut u8;
                if spec.bufpool {
                    // Payloads live in the pool; the entry carries only its header.
                    EntryIovecs::from_raw(h, FUSE_URING_REQ_HEADER_SZ, core::ptr::null_mut(), 0)
                } else {
                    // SAFETY: `i * payload + payload <= depth * payload <= mapping length`.
                    let p = unsafe { base.add(i * spec.payload) };
                    EntryIovecs::from_raw(h, FUSE_URING_REQ_HEADER_SZ, p, spec.payload)
                }
            })
            .collect();
        Ok(Entries { headers, payload: ManuallyDrop::new(payload), iovecs: ManuallyDrop::new(iovecs) })
    }
}

const fn uring_cmd_sqe(sqe: Sqe128, user_data: u64) -> Sqe128 {
    sqe.user_data(user_data)
}

/// Sets up queue `spec.qid`, reports the result on `ready`, then serves requests until the
/// connection ends.
pub fn run(
    dev: Arc<File>,
    fs: Arc<Passthrough>,
    stats: Arc<Stats>,
    spec: QueueSpec,
    ready: Sender<(u16, Result<(), String>)>,
) {
    if spec.pin {
        pin_to_cpu((spec.qid as usize + spec.pin_offset) % possible_cpus());
    }
    let mut q = match Queue::new(&dev, spec) {
        Ok(q) => q,
        Err(e) => {
            let _ = ready.send((spec.qid, Err(e)));
            return;
        }
    };
    let _ = ready.send((spec.qid, Ok(())));
    q.serve(&fs);
    stats.backing_ops.fetch_add(q.io.ops, Ordering::Relaxed);
    stats.uring_requests.fetch_add(q.served, Ordering::Relaxed);
    stats.commit_completions.fetch_add(q.commit_completions, Ordering::Relaxed);
    stats.per_queue.lock().unwrap_or_else(|p| p.into_inner()).push((spec.qid, q.served));
}

struct Queue {
    ring: Ring,
    entries: Entries,
    io: Backing,
    dev: Target,
    spec: QueueSpec,
    /// Completions that arrived while setting up.
    early: Vec<Cqe>,
    /// Whether entry `i` was last sent with COMMIT_AND_FETCH (not REGISTER).
    committed: Vec<bool>,
    /// Entries the kernel still holds or this thread is serving.
    live: usize,
    /// Requests served (counted locally, added to the shared stats at the end).
    served: u64,
    /// Completions of COMMIT_AND_FETCH commands.
    commit_completions: u64,
    /// Answers that waited on threads of their own: `(entry, error)`.
    waited_tx: Sender<(usize, i32)>,
    waited_rx: Receiver<(usize, i32)>,
    /// Written by a waiting thread when its answer is on the channel.
    wake: Arc<OwnedFd>,
    /// The 8 bytes the eventfd read fills; never freed (a read may be in flight when the
    /// thread ends).
    wake_buf: *mut [u8; 8],
    /// Whether the eventfd read is in flight.
    wake_armed: bool,
    /// `(commit id, unique)` of each entry whose answer is waiting (`None` otherwise).
    parked: Vec<Option<(u64, u64)>>,
}

impl Queue {
    fn new(dev: &File, spec: QueueSpec) -> Result<Self, String> {
        let sq = (spec.depth as u32 + 2).next_power_of_two();
        // The thread is the ring's only submitter, and it only waits in io_uring_enter.
        let b = Ring::builder().sqe128();
        let b = match spec.setup {
            RingSetup::Defer => b.single_issuer().defer_taskrun(),
            RingSetup::Coop => b.single_issuer().coop_taskrun(),
            RingSetup::Plain => b,
        };
        let ring = b
            .build(sq)
            .or_else(|e| {
                if spec.setup != RingSetup::Plain {
                    eprintln!(
                        "fuse_passthrough: queue {}: ring with --ring-setup {}: {e}; using no setup flags",
                        spec.qid,
                        spec.setup.name()
                    );
                }
                Ring::builder().sqe128().build(sq)
            })
            .map_err(|e| format!("queue {}: SQE128 ring: {e}", spec.qid))?;
        let entries = Entries::new(&spec).map_err(|e| format!("queue {}: entry memory: {e}", spec.qid))?;
        let io = Backing::new().map_err(|e| format!("queue {}: backing ring: {e}", spec.qid))?;
        // SAFETY: plain syscall; a new descriptor is owned below.
        let efd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC) };
        if efd < 0 {
            return Err(format!("queue {}: eventfd: {}", spec.qid, std::io::Error::last_os_error()));
        }
        // SAFETY: `eventfd` just returned this descriptor; nothing else owns it.
        let wake = Arc::new(unsafe { OwnedFd::from_raw_fd(efd) });
        let (waited_tx, waited_rx) = mpsc::channel();
        let mut q = Queue {
            ring,
            entries,
            io,
            dev: Target::from(dev),
            spec,
            early: Vec::new(),
            committed: vec![false; spec.depth],
            live: 0,
            served: 0,
            commit_completions: 0,
            waited_tx,
            waited_rx,
            wake,
            wake_buf: Box::into_raw(Box::new([0u8; 8])),
            wake_armed: false,
            parked: vec![None; spec.depth],
        };
        if spec.bufpool {
            q.control(AddQueue::new(q.dev, spec.qid).build(), "ADD_QUEUE")?;
            let pool = q.entries.payload.as_mut_ptr();
            let len = u32::try_from(spec.depth * spec.payload).map_err(|_| "buffer pool over 4 GiB".to_string())?;
            // SAFETY (of the push in `control`): the pool is the entries' mapping, which is
            // never unmapped.
            q.control(AddBufpool::from_raw(q.dev, spec.qid, pool, len).build(), "ADD_BUFPOOL")?;
        }
        for i in 0..spec.depth {
            let sqe = uring_cmd_sqe(Register::new(q.dev, spec.qid, &q.entries.iovecs[i]).build(), i as u64);
            // SAFETY: the iovecs and the buffers they name are never freed (`Entries`).
            unsafe { q.ring.sq().push128_raw(&sqe) }.map_err(|e| format!("queue {}: push REGISTER: {e}", spec.qid))?;
        }
        q.live = spec.depth;
        q.ring.submit_and_get_events().map_err(|e| format!("queue {}: submit REGISTER: {e}", spec.qid))?;
        // A REGISTER the kernel refuses completes at once; one that was accepted completes only
        // when a request arrives.
        while let Some(cqe) = q.ring.cq().pop() {
            if let Err(e) = cqe.result() {
                return Err(format!("queue {}: REGISTER failed: {}", spec.qid, describe(e)));
            }
            q.early.push(cqe);
        }
        Ok(q)
    }

    /// Runs a control command (ADD_QUEUE, ADD_BUFPOOL) to completion.
    fn control(&mut self, sqe: Sqe128, name: &str) -> Result<(), String> {
        // SAFETY: ADD_QUEUE points at no memory; ADD_BUFPOOL at the pool, which is never freed.
        unsafe { self.ring.sq().push128_raw(&uring_cmd_sqe(sqe, CONTROL)) }
            .map_err(|e| format!("queue {}: push {name}: {e}", self.spec.qid))?;
        self.ring.submit_and_wait(1).map_err(|e| format!("queue {}: submit {name}: {e}", self.spec.qid))?;
        let cqe = self.ring.cq().pop().ok_or_else(|| format!("queue {}: {name}: no completion", self.spec.qid))?;
        cqe.result().map(drop).map_err(|e| format!("queue {}: {name} failed: {}", self.spec.qid, describe(e)))
    }

    fn serve(&mut self, fs: &Passthrough) {
        for cqe in std::mem::take(&mut self.early) {
            self.complete(cqe, fs);
        }
        // No timeout on the wait: when the connection ends the kernel completes every command
        // it holds with ENOTCONN (and fails later commits the same way), which ends the loop.
        while self.live > 0 {
            if self.spec.spin.is_some() && self.spin() {
                self.drain(fs);
                continue;
            }
            match self.ring.submit_and_wait(1) {
                Ok(_) => {}
                Err(e) if e.raw_os_error() == Some(libc::EINTR) => {}
                Err(e) => {
                    eprintln!("fuse_passthrough: queue {}: io_uring_enter: {e}", self.spec.qid);
                    break;
                }
            }
            self.drain(fs);
        }
    }

    /// Serves every completion in the CQ. Replies are handed to the kernel together at the
    /// next `io_uring_enter`, except when another request waits behind the one just answered:
    /// then the replies so far are submitted first, so that their readers do not wait for the
    /// next request's service too (with two 1 MiB reads on one queue, the first reply would
    /// otherwise be held back by the second's copy).
    fn drain(&mut self, fs: &Passthrough) {
        while let Some(cqe) = self.ring.cq().pop() {
            self.complete(cqe, fs);
            if !self.ring.cq().is_empty() {
                match self.ring.submit() {
                    Ok(_) => {}
                    Err(e) if e.raw_os_error() == Some(libc::EINTR) => {}
                    // The commits stay queued; the wait in `serve` submits them again.
                    Err(e) => eprintln!("fuse_passthrough: queue {}: io_uring_enter: {e}", self.spec.qid),
                }
            }
        }
    }

    /// Busy polling (`--spin-us`): submits what is queued, then enters the kernel without
    /// waiting (which runs the task work that copies requests into entries, deferred to such
    /// calls on a `DEFER_TASKRUN` ring) until a completion arrives or the time is up. Returns
    /// whether completions are there; if not, the caller blocks as usual.
    fn spin(&mut self) -> bool {
        let Some(limit) = self.spec.spin else { return false };
        let start = std::time::Instant::now();
        loop {
            if self.ring.submit_and_get_events().is_err() {
                return false;
            }
            if !self.ring.cq().is_empty() {
                return true;
            }
            if start.elapsed() >= limit {
                return false;
            }
            std::hint::spin_loop();
        }
    }

    /// One completion of entry `cqe.user_data()`: a request to serve, or the end of the entry.
    fn complete(&mut self, cqe: Cqe, fs: &Passthrough) {
        if cqe.user_data() == WAKE {
            self.wake_armed = false;
            self.commit_waited();
            return;
        }
        let i = cqe.user_data() as usize;
        if i >= self.spec.depth {
            return;
        }
        if let Err(e) = cqe.result() {
            self.live -= 1;
            if !matches!(e.raw_os_error(), libc::ENOTCONN | libc::ECONNABORTED | libc::ECANCELED) {
                eprintln!("fuse_passthrough: queue {} entry {i}: {}", self.spec.qid, describe(e));
            }
            return;
        }
        if self.committed[i] {
            self.commit_completions += 1;
        }
        self.served += 1;
        if let Some(commit_id) = self.answer(i, fs) {
            self.commit(i, commit_id);
        }
    }

    /// Commits the answers that waited, and re-arms the wake-up read while others still wait.
    fn commit_waited(&mut self) {
        // The read that completed consumed the eventfd's count. A waiting thread sends its
        // answer before it writes the eventfd: an answer sent after this drain finds the read
        // armed again below (at worst it completes once with nothing new to take).
        while let Ok((i, error)) = self.waited_rx.try_recv() {
            let Some((commit_id, unique)) = self.parked.get_mut(i).and_then(Option::take) else { continue };
            // SAFETY: entry `i` is held by this thread (its request was delivered and not yet
            // committed), so nothing else reads or writes its header.
            let header = unsafe { &mut *self.entries.headers.add(i) };
            let mut m = HeaderMut::of(header);
            m.set_out_header(&fuse_out_header { len: 16, error, unique });
            m.set_payload_sz(0);
            self.commit(i, commit_id);
        }
        if self.parked.iter().any(Option::is_some) {
            self.arm_wake();
        }
    }

    /// Arms the eventfd read that wakes this thread when a waiting answer is ready.
    fn arm_wake(&mut self) {
        if self.wake_armed {
            return;
        }
        // SAFETY: `wake_buf` is a leaked 8-byte box, never freed.
        let buf = unsafe { &mut *self.wake_buf };
        let Ok(read) = op::Read::new(self.wake.as_fd(), buf) else { return }; // 8 bytes always fit
        let sqe = read.build().user_data(WAKE);
        // SAFETY: the buffer is never freed, and the eventfd is closed only when the queue
        // (and with it the ring) is dropped. The SQ has room for it: `depth + 2` slots at least.
        if unsafe { self.ring.sq().push_raw(&sqe) }.is_ok() {
            self.wake_armed = true;
        }
    }

    /// Sends COMMIT_AND_FETCH for entry `i`: the reply in its header and payload, and the
    /// entry back to the kernel for the next request.
    fn commit(&mut self, i: usize, commit_id: u64) {
        let sqe = uring_cmd_sqe(CommitAndFetch::new(self.dev, self.spec.qid, commit_id).build(), i as u64);
        // SAFETY: the entry's header and payload are never freed (`Entries`). The SQ has
        // room: it holds at least `depth` entries and each entry has at most one command queued.
        if let Err(e) = unsafe { self.ring.sq().push128_raw(&sqe) } {
            eprintln!("fuse_passthrough: queue {}: push COMMIT_AND_FETCH: {e}", self.spec.qid);
            self.live -= 1;
            return;
        }
        self.committed[i] = true;
    }

    /// Serves the request in entry `i` and writes the reply in place; returns its commit id,
    /// or `None` when the answer waits on a thread of its own (committed later).
    fn answer(&mut self, i: usize, fs: &Passthrough) -> Option<u64> {
        // SAFETY: `i < depth`, and the kernel handed entry `i` to user space (its command
        // completed): nothing else reads or writes the header until the commit is pushed.
        let header = unsafe { &mut *self.entries.headers.add(i) };
        let view = HeaderView::of(header);
        let h = view.in_header();
        let ent = view.ent_in_out();
        let hs = abi::op_header_len(h.opcode).min(FUSE_URING_OP_IN_OUT_SZ);
        let mut op = [0u8; FUSE_URING_OP_IN_OUT_SZ];
        op[..hs].copy_from_slice(&view.op_in()[..hs]);
        let payload_len = self.spec.payload;
        let at = if self.spec.bufpool { ent.offset as usize } else { i * payload_len };
        let outcome = if at + payload_len > self.entries.payload.len() {
            Outcome::Error(Errno::IO)
        } else {
            let payload = self.entries.payload.slice_mut(at, payload_len);
            fs.dispatch(&mut self.io, &h, &op[..hs], payload, ent.payload_sz as usize)
        };
        let (error, len) = match outcome {
            Outcome::Reply(n) => (0, n),
            Outcome::Error(e) => (-e.raw_os_error(), 0),
            // Requests without a reply never come through the ring.
            Outcome::NoReply => (-libc::ENOSYS, 0),
            Outcome::Wait(waiter) => {
                let (tx, wake) = (self.waited_tx.clone(), self.wake.clone());
                let spawned = std::thread::Builder::new().name("fuse-wait".into()).spawn(move || {
                    let error = waiter.run();
                    if tx.send((i, error)).is_ok() {
                        let one = 1u64.to_ne_bytes();
                        // SAFETY: the eventfd reads exactly 8 bytes from a live local.
                        unsafe { libc::write(wake.as_raw_fd(), one.as_ptr().cast(), 8) };
                    }
                });
                if spawned.is_ok() {
                    self.parked[i] = Some((ent.commit_id, h.unique));
                    self.arm_wake();
                    return None;
                }
                (-libc::EAGAIN, 0)
            }
        };
        let mut m = HeaderMut::of(header);
        m.set_out_header(&fuse_out_header { len: (16 + len) as u32, error, unique: h.unique });
        m.set_payload_sz(len as u32);
        Some(ent.commit_id)
    }
}

fn describe(e: Errno) -> String {
    let what = match e.raw_os_error() {
        libc::EOPNOTSUPP => " (io_uring not enabled on this connection)",
        libc::EINVAL => " (bad queue id, entry size or SQE size)",
        libc::EAGAIN => " (INIT not answered yet)",
        libc::ENOTCONN => " (connection gone)",
        _ => "",
    };
    format!("{}{what}", std::io::Error::from_raw_os_error(e.raw_os_error()))
}

fn pin_to_cpu(cpu: usize) {
    // SAFETY: `cpu_set_t` is plain integers; zero is an empty set, filled by CPU_SET and read
    // by sched_setaffinity for the calling thread.
    unsafe {
        let mut set: libc::cpu_set_t = core::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        if libc::sched_setaffinity(0, core::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            eprintln!("fuse_passthrough: cannot pin queue thread to CPU {cpu}: {}", std::io::Error::last_os_error());
        }
    }
}

/// The number of possible CPUs (`/sys/devices/system/cpu/possible`, e.g. `0-3` or `0,2-5`):
/// the kernel makes one queue per possible CPU and waits for all of them.
pub fn possible_cpus() -> usize {
    let Ok(s) = std::fs::read_to_string("/sys/devices/system/cpu/possible") else {
        return std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    };
    s.trim()
        .split(',')
        .filter(|r| !r.is_empty())
        .map(|r| match r.split_once('-') {
            Some((a, b)) => b.parse::<usize>().unwrap_or(0).saturating_sub(a.parse().unwrap_or(0)) + 1,
            None => 1,
        })
        .sum::<usize>()
        .max(1)
}
