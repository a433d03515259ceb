//! Futures over the owned layer: await any owned operation, stream multishot completions, drop
//! either at any point without leaking or freeing memory the kernel may still use.
//!
//! A [`Handle`] is a per-thread ring (`!Send`, a cheap `Clone`: an `Rc` over an
//! [`OwnedRing`] and the futures' state). [`Handle::run`] turns any owned
//! [`Operation`] into a future that resolves to its result and the operation, memory and all
//! (the "BufResult" pattern); [`Handle::multishot`] turns a multishot operation into a
//! [`Multishot`] stream of [`Completion`]s, with an inherent `async fn next()` and a
//! [`poll_next`](Multishot::poll_next). Nothing here depends on an executor or on the `futures`
//! crate: something has to *drive* the ring (submit what futures pushed, reap completions, wake
//! the futures), and there are three ways, below.
//!
//! ```
//! use uring::future::{block_on, Handle};
//! use uring::owned::{Fd, Read};
//!
//! let h = Handle::new(8)?;
//! let file = std::fs::File::open("/dev/zero")?;
//! let (res, read) = block_on(&h, h.run(Read::new(Fd::from(file), vec![1; 16], 0)))?;
//! assert_eq!(res?, 16);
//! assert_eq!(read.buf, vec![0; 16]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Driving the ring
//! - **(a) Inside tokio** (or any reactor): [`Handle::notifier`] registers an eventfd with the
//!   ring, readable when completions are ready; a driver task waits for it to be readable
//!   (`tokio::io::unix::AsyncFd`, edge-triggered) and calls [`Handle::poll_drive`], which submits
//!   what the futures pushed, reaps every completion and wakes their tasks. Pushing an
//!   operation wakes the driver (the waker `poll_drive` registered), so entries pushed by many
//!   tasks in one scheduler round go to the kernel in one `io_uring_enter(2)`. Use a
//!   current-thread runtime or a `LocalSet` (the handle is `!Send`). The driver, about twenty
//!   lines, is `drive` in `examples/async_echo.rs`.
//! - **(b) No runtime**: [`block_on`] polls one future on the calling thread and, when it is
//!   pending, blocks in `io_uring_enter(2)` until a completion arrives
//!   ([`OwnedRing::submit_and_wait`]): no busy loop. With nothing in flight it parks the thread
//!   until the future's waker is called. See `examples/async_cat.rs`.
//! - **(c) Thread per core**: one handle per thread, each driven by its own [`block_on`] (or
//!   its own current-thread runtime); handles share nothing. See `examples/async_tpc.rs`.
//!
//! Inside tokio, in full (tokio with its `rt` and `net` features):
//!
//! ```
//! # std::thread::spawn(|| { // a watchdog: a hang fails fast, naming the example
//! #     std::thread::sleep(std::time::Duration::from_secs(60));
//! #     eprintln!("HANG in the uring::future tokio example");
//! #     std::process::abort();
//! # });
//! use std::task::Poll;
//! use tokio::io::{unix::AsyncFd, Interest};
//! use uring::future::Handle;
//! use uring::owned::{Fd, Nop, Read};
//!
//! /// The driver task: drives whenever the notifier is readable or a task pushed.
//! async fn drive(h: Handle) -> std::io::Result<()> {
//!     // SAFETY: the notifier keeps its eventfd open (it holds the handle); its number never
//!     // changes.
//!     let afd = unsafe { AsyncFd::register_with_interest(h.notifier()?, Interest::READABLE) }
//!         .map_err(|e| e.into_parts().1)?;
//!     std::future::poll_fn(|cx| loop {
//!         if let Poll::Ready(Err(e)) = h.poll_drive(cx) {
//!             return Poll::Ready(Err(e.into()));
//!         }
//!         match afd.poll_read_ready(cx) {
//!             Poll::Ready(Ok(mut ready)) => ready.clear_ready(),
//!             Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
//!             Poll::Pending => return Poll::Pending,
//!         }
//!     })
//!     .await
//! }
//!
//! let rt = tokio::runtime::Builder::new_current_thread().enable_io().build()?;
//! tokio::task::LocalSet::new().block_on(&rt, async {
//!     let h = Handle::new(64)?;
//!     let driver = tokio::task::spawn_local(drive(h.clone()));
//!     let tasks: Vec<_> = (0..8)
//!         .map(|_| {
//!             let h = h.clone();
//!             tokio::task::spawn_local(async move {
//!                 let file = std::fs::File::open("/dev/zero").unwrap();
//!                 let (res, read) = h.run(Read::new(Fd::from(file), vec![1; 100], 0)).await;
//!                 assert_eq!((res.unwrap(), read.buf), (100, vec![0; 100]));
//!                 let (res, Nop) = h.run(Nop).await;
//!                 res.unwrap();
//!             })
//!         })
//!         .collect();
//!     for t in tasks {
//!         t.await.unwrap();
//!     }
//!     driver.abort();
//!     Ok::<(), Box<dyn std::error::Error>>(())
//! })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ### Which rings can be driven
//! Any setup but `IORING_SETUP_IOPOLL` (its completions appear only when `io_uring_enter(2)`
//! polls for them, which neither a reactor nor the notifier sees: refused with
//! [`Error::Unsupported`]). Measured on Linux 6.18 (`tests/async_driver.rs`,
//! `ring_fd_poll_modes`: a receive completing 50 ms after the wait starts):
//! - default, `IORING_SETUP_COOP_TASKRUN` (with or without `TASKRUN_FLAG`) and
//!   `IORING_SETUP_SQPOLL` rings: both the ring fd and the notifier turn readable when the
//!   completion is posted.
//! - `IORING_SETUP_DEFER_TASKRUN` (+ `SINGLE_ISSUER`): the completion waits as task work of the
//!   submitting thread, which runs only inside `io_uring_enter(2)` with `GETEVENTS`. The ring
//!   fd does not wake a `poll(2)` waiter for it (its readiness shows only on the next poll
//!   call), so the layer drives through the notifier, never the ring fd; the registered
//!   eventfd is signalled for such work, but late: about 15 ms after the completion
//!   (`ring_fd_poll_modes`; and `examples/async_echo.rs` with `ASYNC_ECHO_SETUP=defer`: ~15 ms
//!   per round trip). Its drive enters the kernel with `GETEVENTS` each time; the handle being
//!   `!Send`, that is always the creating thread, as the kernel requires. So: DEFER_TASKRUN
//!   rings suit [`block_on`] and thread-per-core loops (they wait inside `io_uring_enter(2)`,
//!   which wakes at once), not a reactor.
//!
//! The tokio examples use `COOP_TASKRUN` + `TASKRUN_FLAG` + `SINGLE_ISSUER`: the thread is not
//! interrupted for each completion, the flag tells the driver when task work waits, and the
//! notifier is signalled at once.
//!
//! ## Cancel safety
//! Dropping a future or stream is always safe, at any point:
//! - **before its first poll**: nothing was pushed; the operation is dropped with the future.
//! - **while the operation is in flight**: the drop asks the kernel to cancel it
//!   (`IORING_OP_ASYNC_CANCEL` by `user_data`, through [`OwnedRing::cancel`]) and marks its
//!   task *orphaned*. The operation stays in the ring's in-flight table, memory and files with
//!   it, until the kernel posts its final completion (`ECANCELED`, or its own result if it
//!   finished first: cancellation only asks, a request running in io-wq may still write); the
//!   driver then drops it. Each completion an orphaned multishot receive gets in the meantime
//!   that names a provided buffer has that buffer selected (once: the completion is the
//!   kernel's own, see the [owned layer's safety model](crate::owned#safety-model)) and given
//!   straight back to its [`BufRing`]; that is why operations that select buffers go through
//!   [`Handle::run_select`] / [`Handle::multishot_select`], which keep an `Rc` of the buffer
//!   ring with the task.
//! - **after its completion arrived, before it was polled**: the completion waits in the
//!   task; the drop disposes of it (its buffer back to the ring, its operation and any new fd
//!   dropped) and frees the task.
//!
//! If the SQ has no room for the cancel, it is queued and pushed by the next drive. Dropping
//! the last [`Handle`] clone (futures and streams hold one each) drops the [`OwnedRing`],
//! whose drop cancels everything in flight and waits for the final completions (see
//! [`OwnedRing`]'s drop): with futures alive or not, no memory is freed under the kernel.
//! `mem::forget` of a future leaks its handle clone, so the ring (and the operation) are
//! leaked too, never freed.
//!
//! **Soundness.** A future's result, its operation, a new fd and a provided buffer come only
//! from a [`Completion`] that the owned layer made from the kernel's CQ through the in-flight
//! table's step (via [`OwnedRing::next`]); this module never reads or trusts a [`Cqe`](crate::Cqe)
//! value of its own. Completions are routed to tasks by the slot index and checked against
//! the full `user_data` (slot and generation) the task recorded at push.
//!
//! **Allocation.** Tasks (a waker, a queue of completions, the buffer ring) live in a slab
//! allocated with the handle (two per slot of the in-flight table, so finished-but-unpolled
//! futures do not hold the table up); a queue keeps its capacity across uses. Awaiting an
//! operation allocates nothing once warm (`tests/zero_alloc.rs`). When every task, table slot
//! or SQ entry is taken, a future waits (its waker in a list that grows only then) until the
//! driver frees one.
//!
//! **Re-entrancy.** Wakers are called, and reaped completions dropped, after the handle's
//! state is released, so a waker may poll futures of the same handle. The one place user code
//! runs with the state borrowed is [`Handle::with_ring`]'s closure: there the handle's methods
//! fail with [`Error::RingLent`] (never a panic), and futures polled or dropped there are
//! served once it returns.
//!
//! Kernel: the owned layer's (`io_uring_setup(2)`, Linux 5.1; `IORING_OP_ASYNC_CANCEL`, Linux
//! 5.5; multishot operations, Linux 5.19 to 6.0).

mod drive;
mod op;
mod tasks;

pub use drive::{block_on, Notifier};
use op::{Done, OpState};
pub use op::{Multishot, Op};

use std::cell::{Cell, RefCell, RefMut};
use std::future::Future;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use crate::buf::{BufRing, BufRingBuilder};
use crate::owned::{Completion, Fd, OpId, Operation, OwnedRing, Read, Recv, Rejected, Send as SendOp, Write};
use crate::setup::SetupFlags;
use crate::{Builder, Error, Result};

use tasks::{set_waker, Garbage, Tasks};

/// A per-thread ring that owned operations can be awaited on (see the [module docs](self)).
/// `!Send`; cloning is an `Rc` clone. Every future and stream holds a clone, so the ring lives
/// until the last of them is dropped.
#[derive(Clone)]
pub struct Handle {
    sh: Rc<Shared>,
}

impl core::fmt::Debug for Handle {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Handle").field("fd", &self.sh.fd).finish_non_exhaustive()
    }
}

struct Shared {
    fd: RawFd,
    inner: RefCell<Inner>,
    /// The eventfd registered with the ring by [`Handle::notifier`] (once).
    efd: std::cell::OnceCell<OwnedFd>,
    /// What futures asked for while the ring was lent to [`Handle::with_ring`]'s closure (the
    /// only time user code runs with `inner` borrowed): done when it returns (or, if it
    /// panicked, at the next drive).
    deferred: RefCell<Deferred>,
    /// `deferred` is not empty (one load on the drive path).
    has_deferred: Cell<bool>,
}

/// See [`Shared::deferred`].
#[derive(Default)]
struct Deferred {
    /// Futures polled meanwhile: woken (polled again) afterwards.
    wakers: Vec<Waker>,
    /// Tasks of futures dropped meanwhile: abandoned (cancelled) afterwards.
    abandoned: Vec<u32>,
}

struct Inner {
    // Declared first: dropped (cancelling and reaping what is in flight) before the tasks and
    // the buffer rings they hold.
    ring: OwnedRing,
    tasks: Tasks,
    /// Cancels of dropped futures that found the SQ full (at most one per task).
    cancels: Vec<OpId>,
    /// The waker of the driver's last `poll_drive`: woken when entries are pushed.
    driver: Option<Waker>,
    /// Entries pushed since the last submit.
    unsubmitted: bool,
    /// `IORING_SETUP_DEFER_TASKRUN` without `TASKRUN_FLAG`: every drive enters the kernel with
    /// `GETEVENTS` (nothing completes otherwise).
    defer: bool,
}

impl Inner {
    /// Marks entries as pushed; returns the driver's waker to call if this is the first since
    /// the last submit.
    fn pushed(&mut self) -> Option<Waker> {
        if self.unsubmitted {
            return None;
        }
        self.unsubmitted = true;
        self.driver.clone()
    }

    /// Submits (and, on a DEFER_TASKRUN ring, runs the completions' task work).
    fn submit(&mut self) -> Result<()> {
        self.flush_cancels();
        self.unsubmitted = false;
        let r = if self.defer {
            // SAFETY: nothing is pushed through the raw ring; `submit_and_get_events` only
            // submits what the owned layer pushed and runs task work.
            unsafe { self.ring.ring_mut() }.submit_and_get_events()
        } else {
            self.ring.submit()
        };
        self.entered(r)
    }

    /// Submits and waits for one completion (unless nothing is in flight).
    fn submit_and_wait(&mut self) -> Result<()> {
        self.flush_cancels();
        if self.ring.in_flight() == 0 {
            return self.submit();
        }
        self.unsubmitted = false;
        let r = self.ring.submit_and_wait(1);
        self.entered(r)
    }

    /// The outcome of an `io_uring_enter(2)` call.
    fn entered(&mut self, r: std::io::Result<u32>) -> Result<()> {
        match r {
            Ok(_) => Ok(()),
            // Interrupted, or the kernel wants the CQ drained first: reap, then try again.
            Err(e) if matches!(e.raw_os_error(), Some(libc::EINTR | libc::EBUSY | libc::EAGAIN)) => {
                self.unsubmitted = true;
                Ok(())
            }
            Err(e) => {
                self.unsubmitted = true;
                Err(Error::Os(e))
            }
        }
    }

    /// Pushes the cancels that found the SQ full.
    fn flush_cancels(&mut self) {
        while let Some(&id) = self.cancels.last() {
            match self.ring.cancel(id) {
                Ok(()) => {
                    self.cancels.pop();
                }
                // Finished since (not in flight any more): nothing to cancel.
                Err(Error::InvalidArgument { .. }) => {
                    self.cancels.pop();
                }
                Err(_) => break,
            }
        }
    }
}

/// Why a push did not happen now.
enum Start<O> {
    /// No room: the future's waker was queued; try again when woken.
    Wait(O),
    /// Refused for good.
    Fail(Rejected<O>),
}

impl Handle {
    /// A handle over a new ring of `entries` SQ entries (twice as many in flight), default
    /// setup (`io_uring_queue_init(3)`, Linux 5.1).
    pub fn new(entries: u32) -> Result<Handle> {
        Handle::from_ring(OwnedRing::new(entries)?)
    }

    /// A handle over a ring built by `builder` (`io_uring_queue_init_params(3)`, Linux 5.1).
    /// Refused with [`Error::Unsupported`]: `IORING_SETUP_IOPOLL` (see the
    /// [module docs](self#which-rings-can-be-driven)).
    pub fn with_builder(builder: Builder, entries: u32) -> Result<Handle> {
        Handle::from_ring(OwnedRing::with_builder(builder, entries)?)
    }

    /// A handle over an existing owned ring. Completions of operations already in flight on
    /// it are dropped when reaped (their memory with them). Refused as
    /// [`with_builder`](Self::with_builder) refuses.
    pub fn from_ring(ring: OwnedRing) -> Result<Handle> {
        let flags = ring.ring().params().flags;
        let flags = SetupFlags::from_bits_retain(flags);
        if flags.contains(SetupFlags::IOPOLL) {
            return Err(Error::Unsupported {
                what:
                    "IORING_SETUP_IOPOLL rings in the async layer (their completions need polling io_uring_enter calls)",
            });
        }
        let fd = ring.ring().submitter().raw_fd().unwrap_or(-1);
        let defer = flags.contains(SetupFlags::DEFER_TASKRUN) && !flags.contains(SetupFlags::TASKRUN_FLAG);
        let slots = ring.ring().params().cq_entries;
        let inner = Inner {
            tasks: Tasks::new(slots.saturating_mul(2), slots),
            cancels: Vec::with_capacity(slots as usize * 2),
            ring,
            driver: None,
            unsubmitted: false,
            defer,
        };
        Ok(Handle {
            sh: Rc::new(Shared {
                fd,
                inner: RefCell::new(inner),
                efd: std::cell::OnceCell::new(),
                deferred: RefCell::default(),
                has_deferred: Cell::new(false),
            }),
        })
    }

    /// The future of `op`: resolves to its result and the operation, with its memory
    /// (`(Err(_), op)` if the ring refused it: the error says why). Nothing happens until it is
    /// polled. For an operation that creates an fd use [`Op::fd`] (the fd is closed otherwise);
    /// for one that selects provided buffers, [`run_select`](Self::run_select).
    /// For an operation with more than one completion (a zero-copy send), the result is the
    /// first completion's and the operation comes back with the last (the notification).
    pub fn run<O: Operation>(&self, op: O) -> Op<O> {
        let st = if op.selects().is_some() {
            OpState::Failed(Rejected {
                op,
                error: Error::InvalidArgument {
                    what: "operation",
                    reason: "selects provided buffers: use run_select or multishot_select with its buffer ring",
                },
            })
        } else {
            OpState::New(op, None)
        };
        Op { h: self.clone(), st }
    }

    /// As [`run`](Self::run), for an operation that selects provided buffers from `br` (which
    /// must be the ring it selects from): the task keeps `br`, so the buffer of a completion
    /// nobody takes (the future dropped) goes back to it. Await [`Op::completion`] to get the
    /// buffer ([`Completion::select`]).
    pub fn run_select<O: Operation>(&self, op: O, br: &Rc<BufRing>) -> Op<O> {
        let st = match check_selects(&op, br) {
            Ok(()) => OpState::New(op, Some(br.clone())),
            Err(error) => OpState::Failed(Rejected { op, error }),
        };
        Op { h: self.clone(), st }
    }

    /// The stream of a multishot operation's completions (accept, poll, multishot timeout, ...;
    /// any operation works, a single-shot one yields one completion). The operation comes
    /// back with the last completion ([`Completion::into_op`]). One that selects provided
    /// buffers goes through [`multishot_select`](Self::multishot_select).
    pub fn multishot<O: Operation>(&self, op: O) -> Multishot<O> {
        Multishot(self.run(op))
    }

    /// As [`multishot`](Self::multishot), for an operation that selects provided buffers from
    /// `br` (a multishot receive): completions of a dropped stream give their buffers back to
    /// `br`.
    pub fn multishot_select<O: Operation>(&self, op: O, br: &Rc<BufRing>) -> Multishot<O> {
        Multishot(self.run_select(op, br))
    }

    /// Registers a buffer ring on this ring ([`OwnedRing::buf_ring`],
    /// `IORING_REGISTER_PBUF_RING`, Linux 5.19), shared with the futures that select from it.
    pub fn buf_ring(&self, builder: BufRingBuilder) -> Result<Rc<BufRing>> {
        Ok(Rc::new(self.state()?.ring.buf_ring(builder)?))
    }

    /// Runs `f` with the owned ring (register calls, probes, settings).
    ///
    /// Completions reaped through it (`next`, `wait`, ...) are lost to the futures waiting for
    /// them, which then never finish (their memory is safe: it comes out with the
    /// completion). Owned operations pushed through it are dropped when their completion is
    /// reaped. While `f` runs, the handle's own methods called from it (`with_ring`, `drive`,
    /// `wait`, ...) fail with [`Error::RingLent`], futures polled there wait and futures
    /// dropped there are cancelled, both once `f` returns.
    ///
    /// ```
    /// # use uring::future::Handle;
    /// let h = Handle::new(8)?;
    /// let n = h.with_ring(|ring| {
    ///     assert!(matches!(h.drive(), Err(uring::Error::RingLent)));
    ///     ring.ring().params().cq_entries
    /// })?;
    /// assert_eq!(n, 16);
    /// # Ok::<(), uring::Error>(())
    /// ```
    pub fn with_ring<R>(&self, f: impl FnOnce(&mut OwnedRing) -> R) -> Result<R> {
        let r = f(&mut self.state()?.ring);
        self.run_deferred();
        Ok(r)
    }

    /// Operations in the ring (including those of dropped futures waiting for their final
    /// completion). [`Error::RingLent`] inside [`with_ring`](Self::with_ring).
    pub fn in_flight(&self) -> Result<usize> {
        Ok(self.state()?.ring.in_flight())
    }

    /// The futures' state, unless the ring is lent to [`with_ring`](Self::with_ring)'s
    /// closure.
    #[inline]
    fn state(&self) -> Result<RefMut<'_, Inner>> {
        self.sh.inner.try_borrow_mut().map_err(|_| lent())
    }

    /// Defers `w` (a future polled while the ring is lent): woken when `with_ring` returns.
    #[cold]
    fn defer_wake(&self, w: &Waker) {
        self.sh.deferred.borrow_mut().wakers.push(w.clone());
        self.sh.has_deferred.set(true);
    }

    /// Does what futures asked for while the ring was lent: when `with_ring` returns, and at
    /// the next drive if its closure panicked. Not while the ring is lent (a drive called from
    /// the closure).
    #[inline]
    fn run_deferred(&self) {
        if self.sh.has_deferred.get() && self.sh.inner.try_borrow_mut().is_ok() {
            self.run_deferred_now();
        }
    }

    #[cold]
    #[inline(never)]
    fn run_deferred_now(&self) {
        self.sh.has_deferred.set(false);
        let Deferred { wakers, abandoned } = core::mem::take(&mut *self.sh.deferred.borrow_mut());
        for t in abandoned {
            self.abandon(t);
        }
        for w in wakers {
            w.wake();
        }
    }

    /// The handle's notifier: an eventfd registered with the ring (`IORING_REGISTER_EVENTFD`,
    /// `io_uring_register_eventfd(3)`, Linux 5.2; created on the first call), readable when
    /// completions were posted or, on a `DEFER_TASKRUN` ring, when completions wait as task
    /// work: what a reactor polls to know when to call [`poll_drive`](Self::poll_drive). Each
    /// signal wakes its pollers, so an edge-triggered reactor (tokio, epoll with `EPOLLET`)
    /// needs nothing more; a level-triggered poller calls [`Notifier::reset`] before each drive
    /// (the layer does not: one system call per drive saved). Fails if the ring already has an
    /// eventfd (`EBUSY`).
    ///
    /// Why not the ring fd: on a `DEFER_TASKRUN` ring, pending completions do not wake
    /// `poll(2)` waiters of the ring fd (measured on Linux 6.18: `tests/async_driver.rs`),
    /// and a reactor that needs the fd as a `BorrowedFd` (tokio's `AsyncFd` implements
    /// `AsFd`) would lend the ring fd, whose duplicates can post forged completions
    /// (`IORING_OP_MSG_RING`; see the [owned layer's safety model](crate::owned#safety-model)).
    /// An eventfd can be lent freely: a duplicate can only cause a spurious wake-up.
    pub fn notifier(&self) -> Result<Notifier> {
        if self.sh.efd.get().is_none() {
            let efd = rustix::event::eventfd(
                0,
                rustix::event::EventfdFlags::CLOEXEC | rustix::event::EventfdFlags::NONBLOCK,
            )?;
            self.state()?.ring.ring().submitter().register_eventfd(&efd)?;
            let _ = self.sh.efd.set(efd);
        }
        Ok(Notifier { h: self.clone() })
    }

    /// Submits what futures pushed, reaps every completion ready now and wakes the futures
    /// they are for; returns how many completions it reaped. Never blocks.
    pub fn drive(&self) -> Result<u32> {
        self.run_deferred();
        self.state()?.submit()?;
        Ok(self.reap())
    }

    /// [`drive`](Self::drive) for a driver future: also registers `cx`'s waker, which is woken
    /// when a future pushes an operation (so that it gets submitted). `Ready(Ok(n))` when it
    /// reaped `n > 0` completions (their tasks are woken), `Pending` when there was nothing to
    /// reap. Either way, the next completions are signalled by the
    /// [`notifier`](Self::notifier): a driver calls this each time the notifier is readable or
    /// its task is woken (see `examples/async_echo.rs`, `drive`).
    pub fn poll_drive(&self, cx: &mut Context<'_>) -> Poll<Result<u32>> {
        self.run_deferred();
        {
            let mut i = match self.state() {
                Ok(i) => i,
                Err(e) => return Poll::Ready(Err(e)),
            };
            set_waker(&mut i.driver, cx.waker());
            if let Err(e) = i.submit() {
                return Poll::Ready(Err(e));
            }
        }
        match self.reap() {
            0 => Poll::Pending,
            n => Poll::Ready(Ok(n)),
        }
    }

    /// Submits, then blocks in `io_uring_enter(2)` until at least one completion is ready
    /// (unless nothing is in flight), and reaps as [`drive`](Self::drive) does.
    /// (`io_uring_submit_and_wait(3)`, Linux 5.1.)
    pub fn wait(&self) -> Result<u32> {
        self.run_deferred();
        self.state()?.submit_and_wait()?;
        Ok(self.reap())
    }

    /// Reaps every completion ready now, one at a time with the state released in between
    /// (wakers called, garbage dropped outside the borrow).
    fn reap(&self) -> u32 {
        let mut n = 0;
        loop {
            let d = {
                // Lent only if a waker or a drop below ran `with_ring`, which has returned.
                let Ok(mut i) = self.state() else { break };
                let Some(c) = i.ring.next() else { break };
                i.tasks.deliver(c)
            };
            n += 1;
            if let Some(g) = d.garbage {
                g.dispose();
            }
            if let Some(w) = d.wake {
                w.wake();
            }
            if d.freed {
                self.wake_room();
            }
        }
        n
    }

    /// Wakes the futures waiting for room.
    fn wake_room(&self) {
        let mut waiting = {
            let Ok(mut i) = self.state() else { return };
            if i.tasks.room.is_empty() {
                return;
            }
            core::mem::take(&mut i.tasks.room)
        };
        for w in waiting.drain(..) {
            w.wake();
        }
        if let Ok(mut i) = self.state() {
            if i.tasks.room.is_empty() {
                i.tasks.room = waiting;
            }
        }
    }

    /// Pushes `op` for a new task, or says why not.
    fn start<O: Operation>(&self, op: O, br: Option<Rc<BufRing>>, w: &Waker) -> core::result::Result<u32, Start<O>> {
        let (r, driver) = {
            let Ok(mut i) = self.state() else {
                self.defer_wake(w);
                return Err(Start::Wait(op));
            };
            let i = &mut *i;
            let Some(t) = i.tasks.claim() else {
                i.tasks.room.push(w.clone());
                return Err(Start::Wait(op));
            };
            let mut pushed = i.ring.push(op);
            if let Err(Rejected { error: Error::SubmissionQueueFull, .. }) = &pushed {
                // Make room by submitting, then try once more.
                let _ = i.submit();
                pushed = i.ring.push(pushed.expect_err("refused").op);
            }
            match pushed {
                Ok(id) => {
                    i.tasks.attach(t, id, br, w);
                    (Ok(t), i.pushed())
                }
                Err(Rejected { op, error: Error::SubmissionQueueFull | Error::InFlightTableFull }) => {
                    i.tasks.release(t);
                    i.tasks.room.push(w.clone());
                    // With SQPOLL a full SQ drains without a completion: try again soon.
                    if i.ring.in_flight() == 0 {
                        w.wake_by_ref();
                    }
                    (Err(Start::Wait(op)), None)
                }
                Err(r) => {
                    i.tasks.release(t);
                    (Err(Start::Fail(r)), None)
                }
            }
        };
        if let Some(d) = driver {
            d.wake();
        }
        r
    }

    /// Polls task `t`: `Ready` with its completions once the final one arrived (the task is
    /// freed), else registers `w`.
    fn poll_task(&self, t: u32, w: &Waker) -> Poll<Done> {
        let Ok(mut i) = self.state() else {
            self.defer_wake(w);
            return Poll::Pending;
        };
        let task = &mut i.tasks.tasks[t as usize];
        if task.in_flight {
            set_waker(&mut task.waker, w);
            return Poll::Pending;
        }
        let mut q = core::mem::take(&mut task.queue);
        let br = task.br.take();
        i.tasks.release(t);
        let last = q.pop_back();
        let first = q.front().map(|c| c.result());
        drop(i);
        // Completions before the last (a zero-copy send's result): nobody takes them.
        for c in q.drain(..) {
            Garbage(c, br.clone()).dispose();
        }
        if let Ok(mut i) = self.state() {
            i.tasks.restore_queue(t, q);
        }
        // A task went free.
        self.wake_room();
        Poll::Ready(Done { last, first, br })
    }

    /// Polls task `t` of a stream: the next completion queued, or `None` at the end.
    fn poll_stream(&self, t: u32, w: &Waker) -> Poll<Option<Completion>> {
        let Ok(mut i) = self.state() else {
            self.defer_wake(w);
            return Poll::Pending;
        };
        let task = &mut i.tasks.tasks[t as usize];
        if let Some(c) = task.queue.pop_front() {
            return Poll::Ready(Some(c));
        }
        if task.in_flight {
            set_waker(&mut task.waker, w);
            return Poll::Pending;
        }
        i.tasks.release(t);
        drop(i);
        self.wake_room();
        Poll::Ready(None)
    }

    /// The future or stream of task `t` is dropped (see "Cancel safety").
    fn abandon(&self, t: u32) {
        let (cancel, mut queued, br, driver) = {
            let Ok(mut i) = self.state() else {
                // Dropped inside `with_ring`: the task (and the operation in the ring) waits.
                self.sh.deferred.borrow_mut().abandoned.push(t);
                self.sh.has_deferred.set(true);
                return;
            };
            let (cancel, queued, br) = i.tasks.abandon(t);
            let mut driver = None;
            if let Some(id) = cancel {
                match i.ring.cancel(id) {
                    Ok(()) => driver = i.pushed(),
                    Err(Error::SubmissionQueueFull) => {
                        i.cancels.push(id);
                        driver = i.pushed();
                    }
                    // Not in flight any more: its final completion is in the CQ, and the
                    // reaping drops it.
                    Err(_) => {}
                }
            }
            (cancel, queued, br, driver)
        };
        for c in queued.drain(..) {
            Garbage(c, br.clone()).dispose();
        }
        if let Ok(mut i) = self.state() {
            i.tasks.restore_queue(t, queued);
        }
        if cancel.is_none() {
            self.wake_room();
        }
        if let Some(d) = driver {
            d.wake();
        }
    }

    // Thin conveniences over `run`.

    /// Reads up to `buf.len()` bytes at `offset` (`u64::MAX`: the file position) into `buf`
    /// ([`Read`], `IORING_OP_READ`, Linux 5.6). Returns the byte count and the buffer.
    pub fn read(&self, fd: impl Into<Fd>, buf: Vec<u8>, offset: u64) -> Op<Read> {
        self.run(Read::new(fd, buf, offset))
    }

    /// Writes `buf` at `offset` ([`Write`], `IORING_OP_WRITE`, Linux 5.6).
    pub fn write(&self, fd: impl Into<Fd>, buf: Vec<u8>, offset: u64) -> Op<Write> {
        self.run(Write::new(fd, buf, offset))
    }

    /// Receives into `buf` ([`Recv`], `IORING_OP_RECV`, Linux 5.6).
    pub fn recv(&self, fd: impl Into<Fd>, buf: Vec<u8>) -> Op<Recv> {
        self.run(Recv::new(fd, buf))
    }

    /// Sends `buf` ([`Send`](crate::owned::Send), `IORING_OP_SEND`, Linux 5.6).
    pub fn send(&self, fd: impl Into<Fd>, buf: Vec<u8>) -> Op<SendOp> {
        self.run(SendOp::new(fd, buf))
    }
}

/// Checks that `op` selects from `br`.
fn check_selects<O: Operation>(op: &O, br: &BufRing) -> Result<()> {
    match op.selects() {
        Some(s) if s.sel >> 2 == br.id() => Ok(()),
        Some(_) => Err(Error::InvalidArgument {
            what: "buffer ring",
            reason: "not the buffer ring the operation selects from",
        }),
        None => Err(Error::InvalidArgument { what: "operation", reason: "selects no provided buffers" }),
    }
}

/// [`Error::RingLent`], out of line.
#[cold]
fn lent() -> Error {
    Error::RingLent
}
