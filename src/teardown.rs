//! Memory that requests of a ring may write into, released only once the kernel is done with
//! the ring.
//!
//! # Why dropping a ring is not enough
//!
//! Closing a ring's fd starts the kernel's teardown (`io_uring_release` queues
//! `io_ring_exit_work`), which cancels what it can and then waits until every request is freed.
//! A request already running in an io-wq worker (a blocking file read, say) is only signalled:
//! it goes on writing into the buffer it selected until it finishes, long after the fd is
//! closed. `IORING_REGISTER_SYNC_CANCEL` does not wait for such a request either (the kernel
//! answers as soon as it has signalled it). So the crate cannot free a buffer pool, provided
//! buffers or registered buffers at drop time without knowing that the teardown has finished.
//!
//! # The proof
//!
//! The kernel frees a ring (`io_ring_ctx_free`) only after every one of its requests is freed:
//! each request holds a reference to the ring (`ctx->refs`), and `io_ring_exit_work` waits
//! for all of them (`ctx->ref_comp`). `io_ring_ctx_free` unregisters the registered buffer
//! table and then the file table (`io_sqe_buffers_unregister`, `io_sqe_files_unregister`),
//! dropping the table's reference to each file. So at teardown the crate creates a pipe,
//! registers its write end as the ring's file table (`IORING_REGISTER_FILES`, one fd), closes
//! its own copy of the write end, lets the ring go (closes every fd of it and unmaps every
//! mapping of it: a mapping of the ring fd holds a reference to its file, and the release does
//! not start before the last one is gone), and waits on the read end for `POLLHUP`: it comes
//! when the last writer is gone, that is, when the kernel has freed the ring, after the last
//! request. (The last `fput` of the write end runs from a kworker, so it is deferred by one
//! jiffy; with the RCU grace period of the reference kill before it, an idle ring's teardown
//! took 16 to 30 ms on the quiet 6.18 test host, and up to 210 ms when it was loaded.)
//!
//! The proof is impossible when the application registered a file table of its own (`EBUSY`)
//! or when a single-issuer ring is let go on another thread than its submitter (`EEXIST`: the
//! kernel refuses register calls from other threads). It does not arrive in time while
//! something else keeps the ring alive: another fd of the ring (a `dup`, a forked child, a
//! kernel-managed buffer ring, which is not part of this scheme), a ring index registered by
//! another thread, or a request that runs longer than the wait. It assumes that nothing
//! replaces the table's slot 0 during the wait: only an `IORING_OP_MSG_RING` that sends a file
//! into this ring's table (`IORING_MSG_SEND_FD`) or a file-table update through another fd of
//! the ring could, and both need this ring's fd.
//!
//! # Without the proof
//!
//! Memory is never given back while the kernel may write it:
//! - anonymous mappings the crate made are replaced by an inaccessible reservation of the same
//!   range ([`Mmap::retire`]): a late write fails with `EFAULT`, no later mapping can take the
//!   range, and the pages are freed;
//! - heap memory (provided buffers, registered buffers) is leaked;
//! - caller memory is the caller's: its contract
//!   ([`CallerBuffers::new`](crate::buf::CallerBuffers::new)) says what suffices.
//!
//! # Who settles
//!
//! The list is shared by the [`Ring`](crate::Ring) and every [`BufRing`](crate::buf::BufRing)
//! registered with it (each holds an fd of the ring, and maybe a mapping of it, so none of them
//! alone can let the ring go). The last one dropped runs the proof through its own fd, so
//! dropping a ring before its buffer rings neither waits nor leaks.

use std::any::Any;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::sys::Mmap;
use crate::Errno;

/// How long dropping a [`Ring`](crate::Ring) (or the last [`BufRing`](crate::buf::BufRing) of
/// one) waits for the kernel's teardown when there is memory to release: 250 ms.
///
/// A drop cannot report anything and blocks its thread, so the wait is bounded; it lasts only
/// as long as the teardown does, the bound matters only when something keeps the ring alive.
/// The bound is set by what an idle ring's teardown costs (an RCU grace period and a deferred
/// `fput`): over 300 rings on a 2-core Linux 6.18 host shared with other builds, median 40 ms,
/// 90th percentile 61 ms, 99th 106 ms, maximum 210 ms. A shorter bound would send a few idle
/// drops down the path below for nothing. A request that really runs longer (an io-wq read of
/// hundreds of MiB, a slow device) is not waited for: the crate's mappings become `PROT_NONE`
/// reservations (only the address range stays in use) and heap memory leaks.
/// [`Ring::shutdown`](crate::Ring::shutdown) takes its own bound and reports the outcome.
pub const DROP_WAIT: Duration = Duration::from_millis(250);

/// What [`Ring::shutdown`](crate::Ring::shutdown) found out about the kernel's teardown of the
/// ring (`io_ring_ctx_free`, observed through a file the teardown releases).
/// (`io_uring_setup(2)`'s ring, freed when its last reference goes.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Teardown {
    /// The kernel freed the ring this long after the wait began: every request of the ring had
    /// finished. Memory the ring's requests may have written (buffer pools, provided and
    /// registered buffers, caller memory) is no longer used by the kernel.
    Finished(Duration),
    /// The ring was not freed within the time given: a request still runs, or something else
    /// keeps the ring alive (another fd or mapping of it, a ring index registered by another
    /// thread).
    TimedOut,
    /// No proof was possible, and nothing was waited for: the ring's fd was lent out
    /// ([`Submitter::fd`](crate::Submitter::fd): its holder could tamper with the probe; no
    /// errno), or the registration of the probe failed with this errno (`EBUSY`: the application registered a file table of its own; `EEXIST`:
    /// an `IORING_SETUP_SINGLE_ISSUER` ring let go on another thread than the one that submits,
    /// as the kernel takes register calls only from that thread), or the pipe could not be
    /// created.
    Unprovable(Option<Errno>),
    /// Buffer rings registered with this ring are still alive: they hold the ring open, and the
    /// last of them to be dropped waits for the teardown (up to [`DROP_WAIT`]) and releases the
    /// memory. Nothing was waited for.
    Held,
}

impl Teardown {
    /// Whether the teardown was observed to finish.
    pub fn is_finished(&self) -> bool {
        matches!(self, Teardown::Finished(_))
    }
}

/// One piece of memory that requests of a ring may write into, with the way to give it up.
pub(crate) enum KeepAlive {
    /// An anonymous mapping the crate made (a buffer pool, a zcrx area): unmapped after the
    /// proof, otherwise replaced by a `PROT_NONE` reservation ([`Mmap::retire`]).
    Map(Mmap),
    /// Heap memory (provided buffers, registered buffers, possibly shared with a handle): this
    /// reference is dropped after the proof, otherwise leaked (heap pages cannot be fenced off;
    /// the allocator would hand them out again).
    Heap(Arc<dyn Any + Send + Sync>),
    /// Caller memory: nothing to release, but the drop waits for the teardown all the same
    /// (up to [`DROP_WAIT`]), so that a drop returns after the kernel's last write in the usual
    /// case. Only the caller's contract makes it sound: the drop cannot report the outcome.
    Caller,
}

impl KeepAlive {
    /// The kernel is done with the ring: give the memory back.
    fn release(self) {
        drop(self);
    }

    /// The kernel may still write: never give the range back.
    fn retire(self) {
        match self {
            KeepAlive::Map(m) => m.retire(),
            KeepAlive::Heap(h) => core::mem::forget(h),
            KeepAlive::Caller => {}
        }
    }
}

/// The memory a ring's requests may write into, shared by the ring and its buffer rings.
pub(crate) struct List {
    items: Mutex<Vec<KeepAlive>>,
}

impl List {
    fn new() -> List {
        List { items: Mutex::new(Vec::new()) }
    }

    /// Releases every item after a finished teardown, retires them otherwise.
    fn settle(mut self, finished: bool) {
        let items = core::mem::take(self.items.get_mut().unwrap_or_else(|p| p.into_inner()));
        for item in items {
            if finished {
                item.release();
            } else {
                item.retire();
            }
        }
    }
}

impl Drop for List {
    /// A list dropped without [`settle`](List::settle) (a holder that never armed the proof):
    /// nothing proves the kernel is done, so everything is retired.
    fn drop(&mut self) {
        for item in core::mem::take(self.items.get_mut().unwrap_or_else(|p| p.into_inner())) {
            item.retire();
        }
    }
}

/// One holder's share of a ring's keep-alive list (the ring's, or a buffer ring's).
///
/// The proof rests on slot 0 of the ring's file table holding the probe until the kernel
/// frees the ring. Whoever holds an fd of the ring could replace that slot (an
/// `IORING_OP_MSG_RING` that sends a file into the ring's table) and fake the proof; so once
/// the ring's fd was lent to code outside the crate ([`Submitter::fd`](crate::Submitter::fd)
/// sets `lent`), no proof is attempted and the memory is retired.
///
/// A holder declares its share after every fd and mapping of the ring it owns, and calls
/// [`prepare`](Share::prepare) from its `Drop` while its fd is still open: if it is the last
/// holder, that arms the proof; the fd and mappings are then dropped (the ring can go), and
/// dropping the share waits for the teardown and settles the memory.
pub(crate) struct Share {
    list: Option<Arc<List>>,
    /// Set by `prepare` in the last holder: the whole list, and the probe's read end (or why
    /// there is none).
    last: Option<(List, ProbeEnd)>,
    /// Whether the ring's fd was lent outside the crate (shared with the ring's `Submitter`).
    lent: Arc<AtomicBool>,
}

impl core::fmt::Debug for Share {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Share").field("shared", &self.list.is_some()).finish()
    }
}

impl Share {
    /// An empty share of a ring whose `Submitter` records in `lent` whether it lent the fd.
    pub(crate) fn new(lent: Arc<AtomicBool>) -> Share {
        Share { list: None, last: None, lent }
    }

    /// The list, created on first use.
    fn list(&mut self) -> &Arc<List> {
        self.list.get_or_insert_with(|| Arc::new(List::new()))
    }

    /// Adds memory that the ring's requests may write into.
    pub(crate) fn push(&mut self, item: KeepAlive) {
        self.list().items.lock().unwrap_or_else(|p| p.into_inner()).push(item);
    }

    /// A share for another holder of the ring (a buffer ring).
    pub(crate) fn another(&mut self) -> Share {
        Share { list: Some(self.list().clone()), last: None, lent: self.lent.clone() }
    }

    /// Called from the holder's `Drop` while its fd of the ring is still open (see the type).
    /// Leaves the list; if this was the last holder, arms the proof: `register` registers the
    /// given fd as the ring's one-file table (`IORING_REGISTER_FILES`) through an open fd of
    /// the ring. No system call unless this is the last holder of a list.
    pub(crate) fn prepare(&mut self, register: impl FnOnce(RawFd) -> io::Result<u32>) {
        if let Some(list) = self.list.take().and_then(Arc::into_inner) {
            self.last = Some((list, arm(&self.lent, register)));
        }
    }

    /// [`Ring::shutdown`](crate::Ring::shutdown)'s [`prepare`](Self::prepare): arms the proof
    /// even without memory to release, unless other holders remain.
    pub(crate) fn prepare_shutdown(&mut self, register: impl FnOnce(RawFd) -> io::Result<u32>) -> Pending {
        match self.list.take().map(Arc::into_inner) {
            None => Pending::Armed(List::new(), arm(&self.lent, register)),
            Some(Some(list)) => Pending::Armed(list, arm(&self.lent, register)),
            Some(None) => Pending::Held,
        }
    }
}

impl Drop for Share {
    fn drop(&mut self) {
        if let Some((list, probe)) = self.last.take() {
            let outcome = wait(&probe, DROP_WAIT);
            list.settle(outcome.is_finished());
        }
    }
}

/// What [`Share::prepare_shutdown`] leaves for after the ring's fds and mappings are gone.
pub(crate) enum Pending {
    /// The last holder: the list, and the probe.
    Armed(List, ProbeEnd),
    /// Other holders remain; they settle.
    Held,
}

impl Pending {
    /// Waits up to `limit` for the teardown, settles the memory, and reports.
    pub(crate) fn finish(self, limit: Duration) -> Teardown {
        match self {
            Pending::Held => Teardown::Held,
            Pending::Armed(list, probe) => {
                let outcome = wait(&probe, limit);
                list.settle(outcome.is_finished());
                outcome
            }
        }
    }
}

/// The probe's read end, or the errno of why there is none (`None`: no errno).
type ProbeEnd = core::result::Result<OwnedFd, Option<Errno>>;

/// Creates the probe pipe and registers its write end as the ring's file table; returns the
/// read end. The write end is closed here: from then on only the ring's table holds it. No
/// proof (`Err(None)`) when the ring's fd was lent (see [`Share`]).
fn arm(lent: &AtomicBool, register: impl FnOnce(RawFd) -> io::Result<u32>) -> ProbeEnd {
    if lent.load(Ordering::Acquire) {
        return Err(None);
    }
    let (read, write) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)
        .map_err(|e| Some(Errno::from_raw(e.raw_os_error())))?;
    register(write.as_raw_fd()).map_err(|e| e.raw_os_error().map(Errno::from_raw))?;
    drop(write);
    Ok(read)
}

/// Waits up to `limit` for `POLLHUP` on the probe's read end.
///
/// The thread that waits may have to run task work for the teardown (the kernel asks every
/// task that used the ring to drop its reference, `io_tctx_exit_cb`): `poll(2)` is
/// interrupted for that and restarted here.
fn wait(probe: &ProbeEnd, limit: Duration) -> Teardown {
    let read = match probe {
        Ok(fd) => fd,
        Err(errno) => return Teardown::Unprovable(*errno),
    };
    use rustix::event::{PollFd, PollFlags, Timespec};
    let start = Instant::now();
    loop {
        let left = limit.saturating_sub(start.elapsed());
        let ts = Timespec { tv_sec: left.as_secs().min(i64::MAX as u64) as i64, tv_nsec: left.subsec_nanos() as _ };
        let mut fds = [PollFd::new(read, PollFlags::IN)];
        match rustix::event::poll(&mut fds, Some(&ts)) {
            // Nobody writes into the pipe: the only event is the hang-up.
            Ok(n) if n > 0 && fds[0].revents().contains(PollFlags::HUP) => {
                return Teardown::Finished(start.elapsed());
            }
            Ok(_) | Err(rustix::io::Errno::INTR) if !left.is_zero() => continue,
            Ok(_) | Err(rustix::io::Errno::INTR) => return Teardown::TimedOut,
            Err(_) => return Teardown::TimedOut,
        }
    }
}
