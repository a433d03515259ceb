//! [`OwnedRing`]: pushing owned operations (one by one, in batches, in chains), submitting,
//! waiting and reaping.

use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use uring_uapi::IORING_REGISTER_BUFFERS;

use crate::buf::{BufRing, BufRingBuilder};
use crate::op::AsyncCancel;
use crate::owned::completion::{self, Completion, CompletionRef, Completions};
use crate::owned::ops::{FixedBuf, FixedMem, OnComplete, Operation, OwnedOp, ProvideBuffers, ProvidedMem};
use crate::owned::push::{
    check_safe, flags_refused, push_into, rejected, OwnedBatch, Rejected, NO_FREE_SLOT, PUSH_FLAGS,
};
use crate::owned::table::{OpId, Table, INTERNAL};
use crate::sqe::{SafeSqe, SqeFlags};
use crate::{Builder, Error, Result, Ring};

/// A ring whose operations own their memory (see the [module docs](super)): the safe way to
/// drive `io_uring(7)` (setup as `io_uring_queue_init(3)`, Linux 5.1; each operation's doc
/// names its opcode and first kernel).
///
/// Reading a file in 4 KiB pieces with up to eight reads in flight on a ring of four entries:
/// each read owns its buffer and shares the file; the buffer comes back, filled, with the
/// read's completion.
///
/// ```
/// use std::sync::Arc;
/// use uring::owned::{Fd, OwnedRing, Read};
///
/// let path = std::env::temp_dir().join(format!("uring-doc-owned-{}", std::process::id()));
/// std::fs::write(&path, (0..64 * 1024u32).map(|i| i as u8).collect::<Vec<u8>>())?;
/// let file = Arc::new(std::fs::File::open(&path)?);
/// std::fs::remove_file(&path)?;
///
/// let mut ring = OwnedRing::new(4)?; // 4 SQ entries, 8 CQ entries: up to 8 in flight
/// let mut data = vec![0u8; 64 * 1024];
/// let (mut next, mut done) = (0u64, 0);
/// while done < 16 {
///     // Push while there is room in the SQ; a refused read comes back in the error.
///     while next < 16 && ring.in_flight() < 8 {
///         match ring.push(Read::new(Fd::shared(file.clone()), vec![0; 4096], next * 4096)) {
///             Ok(_) => next += 1,
///             Err(_full) => break,
///         }
///     }
///     ring.submit_and_wait(1)?;
///     while let Some(c) = ring.next() {
///         let n = c.result()? as usize;
///         let read: Read = c.into_op().expect("a read");
///         let at = read.offset as usize;
///         data[at..at + n].copy_from_slice(&read.buf[..n]);
///         done += 1;
///     }
/// }
/// assert!(data.iter().enumerate().all(|(i, &b)| b == i as u8));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct OwnedRing {
    ring: Ring,
    t: Table,
}

impl OwnedRing {
    /// A ring with room for `entries` submissions and up to twice as many operations in flight
    /// (`io_uring_queue_init(3)`).
    /// Linux 5.1.
    pub fn new(entries: u32) -> Result<OwnedRing> {
        Self::with_builder(Builder::new(), entries)
    }

    /// A ring built by `builder` (any setup flags: SQPOLL, DEFER_TASKRUN, ...) with room for
    /// `entries` submissions; the in-flight table gets one slot per CQ entry.
    /// (`io_uring_queue_init_params(3)`, Linux 5.1.)
    pub fn with_builder(builder: Builder, entries: u32) -> Result<OwnedRing> {
        let ring = builder.build(entries)?;
        // SAFETY: the ring was created just now; nothing has been submitted on it and no fd
        // of it has been handed out.
        Ok(unsafe { Self::with_ring(ring) })
    }

    /// Wraps an existing ring; the in-flight table gets one slot per CQ entry. From here on the
    /// ring's fd is kept from safe code ([`Submitter::fd`](crate::Submitter::fd) returns
    /// `None`).
    ///
    /// # Safety
    /// The layer hands an operation's memory back on the completion that carries its
    /// `user_data`, so no completion with an owned `user_data` (bit 63 set) may reach this ring
    /// except the kernel's completions of the layer's own entries:
    /// - no request already submitted on `ring` has a `user_data` with bit 63 set;
    /// - no duplicate of the ring's fd (and no registration of it in another ring's file table,
    ///   no copy sent to another process) outlives this call, since whoever holds one can post
    ///   completions into the ring with `IORING_OP_MSG_RING`.
    ///
    /// [`new`](Self::new) and [`with_builder`](Self::with_builder) meet this by construction.
    /// Safe code cannot wrap a ring it may have shared (issue #14, forged completions):
    ///
    /// ```compile_fail,E0133
    /// let ring = uring::Ring::new(8).unwrap();
    /// let _dup = ring.submitter().fd().unwrap().try_clone_to_owned().unwrap();
    /// let owned = uring::owned::OwnedRing::with_ring(ring); // error: unsafe
    /// ```
    pub unsafe fn with_ring(mut ring: Ring) -> OwnedRing {
        ring.seal();
        let n = ring.params().cq_entries;
        OwnedRing { ring, t: Table::new(n) }
    }

    /// The raw ring, for its settings, [`Probe::of`](crate::probe::Probe::of) and register
    /// calls ([`Ring::submitter`]). Its fd is not reachable from safe code (see
    /// [`with_ring`](Self::with_ring)).
    pub fn ring(&self) -> &Ring {
        &self.ring
    }

    /// The raw ring, to push raw-layer entries or reap completions directly.
    ///
    /// # Safety
    /// Entries pushed through it must not carry, nor make the kernel post, a `user_data` with
    /// bit 63 set (an owned `user_data`): a completion carrying an owned operation's
    /// `user_data` would hand that operation's memory back while the kernel may still use it.
    /// ([`push_safe`](Self::push_safe) checks this for safe entries.) Completions of owned
    /// operations reaped through it are lost to this layer: their memory stays in the table
    /// until the ring is dropped.
    pub unsafe fn ring_mut(&mut self) -> &mut Ring {
        &mut self.ring
    }

    /// Registers a buffer ring on this ring (for [`RecvSelect`](super::RecvSelect),
    /// [`RecvMultishot`](super::RecvMultishot), [`RecvMsgMultishot`](super::RecvMsgMultishot),
    /// [`SendBundle`](super::SendBundle), [`ReadSelect`](super::ReadSelect),
    /// [`ReadMultishot`](super::ReadMultishot)); their completions give the buffers with
    /// [`Completion::select`].
    /// `IORING_REGISTER_PBUF_RING`, Linux 5.19.
    pub fn buf_ring(&mut self, builder: BufRingBuilder) -> Result<BufRing> {
        let br = builder.build(&mut self.ring)?;
        if let Some(shared) = br.inc_shared() {
            self.t.register_inc(br.id(), shared);
        }
        Ok(br)
    }

    /// Operations in flight.
    pub fn in_flight(&self) -> usize {
        self.t.in_flight as usize
    }

    /// Places `op` in a free slot and pushes its entry. On failure (no free slot, a full SQ,
    /// an operation that cannot be encoded) the operation comes back unchanged.
    /// As `io_uring_get_sqe(3)` plus the operation's `io_uring_prep_*(3)`.
    #[inline]
    pub fn push<O: Operation>(&mut self, op: O) -> core::result::Result<OpId, Rejected<O>> {
        let id = self.ring.id();
        push_into(&mut self.t, id, op, SqeFlags::empty(), self.ring.sq())
    }

    /// As [`push`](Self::push), with `IOSQE_*` flags on the entry: `IO_LINK`, `IO_HARDLINK`,
    /// `IO_DRAIN`, `ASYNC`. Others are refused (`CQE_SKIP_SUCCESS`: use
    /// [`push_chain`](Self::push_chain)).
    #[inline]
    pub fn push_with<O: Operation>(&mut self, op: O, flags: SqeFlags) -> core::result::Result<OpId, Rejected<O>> {
        if !PUSH_FLAGS.contains(flags) {
            return Err(rejected(op, flags_refused(flags)));
        }
        let id = self.ring.id();
        push_into(&mut self.t, id, op, flags, self.ring.sq())
    }

    /// A handle that pushes several operations with the submission queue's state held locally
    /// (as [`SubmissionQueue::batch`](crate::SubmissionQueue::batch) does for raw entries): the
    /// fastest way to push many. The entries are submitted with the next submit call.
    #[inline]
    pub fn batch(&mut self) -> OwnedBatch<'_> {
        OwnedBatch { ring_id: self.ring.id(), sq: self.ring.sq().batch(), t: &mut self.t }
    }

    /// Pushes a chain: every operation but the last is linked to the next (`IOSQE_IO_LINK`, Linux 5.3).
    ///
    /// With `skip_success`, the links before the last carry `IOSQE_CQE_SKIP_SUCCESS`: the
    /// kernel posts one completion for the whole chain, the last link's, or on failure the
    /// failing link's (the links after it are cancelled without completions, see
    /// `io_uring_enter(2)`). Every link still comes back as a [`Completion`] of its own: the
    /// links before the one that posted, with result 0 (they succeeded), and the links after a
    /// failed one with `ECANCELED`, in chain order, right after the posted completion. A
    /// [`LinkTimeout`](super::LinkTimeout) cannot be part of such a chain (its own completion
    /// does not end the chain, so the links after it could not be accounted for), nor can an
    /// operation that selects provided buffers or creates an fd (the buffer or fd a silent link
    /// got would never be named).
    ///
    /// All or nothing: on failure every operation comes back, in order.
    ///
    /// The links are any operations, each turned into an [`OwnedOp`] (`From` is implemented
    /// for every operation):
    ///
    /// ```
    /// use std::time::Duration;
    /// use uring::owned::{LinkTimeout, Nop, OwnedOp, OwnedRing};
    ///
    /// let mut ring = OwnedRing::new(8)?;
    /// let chain = [OwnedOp::from(Nop), LinkTimeout::new(Duration::from_secs(1)).into()];
    /// let ids = ring.push_chain(chain, false)?;
    /// for _ in 0..ids.len() {
    ///     let c = ring.wait()?;
    ///     assert!(ids.contains(&c.id().unwrap()));
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn push_chain<I>(
        &mut self,
        ops: I,
        skip_success: bool,
    ) -> core::result::Result<Vec<OpId>, Rejected<Vec<OwnedOp>>>
    where
        I: IntoIterator,
        I::Item: Into<OwnedOp>,
    {
        let ops: Vec<OwnedOp> = ops.into_iter().map(Into::into).collect();
        let n = ops.len();
        let silent_refused = |o: &OwnedOp| {
            matches!(o, OwnedOp::LinkTimeout(_)) || o.selects().is_some() || o.on_complete().0 & OnComplete::NEW_FD != 0
        };
        if skip_success && ops.iter().any(silent_refused) {
            return Err(Rejected {
                op: ops,
                error: Error::InvalidArgument {
                    what: "chain",
                    reason: "a linked timeout, a buffer-selecting or an fd-creating operation cannot be part of a chain that skips success completions",
                },
            });
        }
        if n == 0 || n > self.t.free_slots() || n as u32 > self.ring.sq().space_left() {
            return Err(Rejected {
                op: ops,
                error: Error::InvalidArgument {
                    what: "chain",
                    reason: "empty, or more links than free slots or free submission entries",
                },
            });
        }
        let ring_id = self.ring.id();
        let mut ids: Vec<OpId> = Vec::with_capacity(n);
        let mut prev_skipped = 0u64;
        let mut ops = ops.into_iter();
        let mut k = 0;
        while let Some(op) = ops.next() {
            k += 1;
            let last = k == n;
            let mut flags = if last { SqeFlags::empty() } else { SqeFlags::IO_LINK };
            if skip_success && !last {
                flags |= SqeFlags::CQE_SKIP_SUCCESS;
            }
            match push_into(&mut self.t, ring_id, op, flags, self.ring.sq()) {
                Ok(id) => {
                    if skip_success {
                        // Each link knows its neighbours, to account for the links that post
                        // nothing.
                        self.t.link(id.index(), prev_skipped);
                        prev_skipped = id.user_data();
                    }
                    ids.push(id);
                }
                Err(Rejected { op, error }) => {
                    // Nothing of this chain was published yet: pull the earlier links back.
                    self.ring.sq().unpush(ids.len() as u32);
                    let mut back = Vec::with_capacity(n);
                    for id in &ids {
                        let slot = &mut self.t.slots[id.index() as usize];
                        back.push(slot.op.take().expect("an unpublished link is in its slot"));
                        self.t.unclaim(id.index());
                    }
                    back.push(op);
                    back.extend(ops);
                    return Err(Rejected { op: back, error });
                }
            }
        }
        Ok(ids)
    }

    /// Pushes an entry that points at no caller memory (a raw-layer [`SafeSqe`]) with the
    /// caller's `user_data`, which must be below 2^63, as must any `user_data` the entry makes
    /// the kernel post (a poll update that relabels a poll: `IORING_POLL_UPDATE_USER_DATA`).
    /// A poll update may not relabel an owned operation's poll either (its completions would
    /// no longer reach the layer, so the operation would never complete): refused with
    /// [`Error::InvalidArgument`]. Its completion comes back as a [`Completion`] without an id.
    pub fn push_safe(&mut self, sqe: &SafeSqe) -> Result<()> {
        check_safe(sqe.sqe().as_raw())?;
        self.ring.sq().push(sqe)?;
        Ok(())
    }

    /// Pushes a raw-layer entry that points at no memory but names fds (an
    /// [`FdSqe`](crate::FdSqe)), with the checks of [`push_safe`](Self::push_safe) on its
    /// `user_data`. The owned operations of [`ops`](super::ops) hold their files and push
    /// safely; this is for raw entries sharing the ring.
    ///
    /// # Safety
    /// As [`SubmissionQueue::push_fd`](crate::SubmissionQueue::push_fd): every fd the entry
    /// names stays open, naming the same file, until the request's final completion has been
    /// reaped.
    pub unsafe fn push_fd(&mut self, sqe: &crate::FdSqe) -> Result<()> {
        check_safe(sqe.sqe().as_raw())?;
        // SAFETY: the caller's contract.
        unsafe { self.ring.sq().push_fd(sqe) }?;
        Ok(())
    }

    /// Asks the kernel to cancel `id` (`IORING_OP_ASYNC_CANCEL` by `user_data`,
    /// `io_uring_prep_cancel64(3)`, Linux 5.5). Its memory comes back with its final
    /// completion, whose result is `ECANCELED` if the cancel caught it (or the operation's own
    /// result if it finished first). The cancel's own completion is internal: it is not handed
    /// out. `Err` if `id` is not in flight, or the SQ is full.
    ///
    /// A read of a socket nobody writes to waits forever, until it is cancelled; here each of
    /// ten reads, more than the ring's four entries, is pushed, cancelled and reaped:
    ///
    /// ```
    /// # std::thread::spawn(|| { // a watchdog: a hang fails fast, naming the example
    /// #     std::thread::sleep(std::time::Duration::from_secs(60));
    /// #     eprintln!("HANG in the OwnedRing::cancel example: no completion after 60 s");
    /// #     std::process::abort();
    /// # });
    /// use std::os::unix::net::UnixStream;
    /// use std::sync::Arc;
    /// use uring::owned::{Fd, OwnedRing, Read};
    /// use uring::Errno;
    ///
    /// let (r, _w) = UnixStream::pair()?;
    /// let r = Arc::new(r);
    /// let mut ring = OwnedRing::new(4)?;
    /// for _ in 0..10 {
    ///     let id = ring.push(Read::new(Fd::shared(r.clone()), vec![0; 64], u64::MAX))?;
    ///     ring.submit()?;
    ///     ring.cancel(id)?;
    ///     let c = ring.wait()?;
    ///     assert_eq!((c.id(), c.result()), (Some(id), Err(Errno::CANCELED)));
    ///     let read: Read = c.into_op().expect("the read, with its buffer");
    ///     assert_eq!(read.buf.len(), 64);
    ///     assert!(ring.cancel(id).is_err(), "no longer in flight");
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn cancel(&mut self, id: OpId) -> Result<()> {
        if !self.t.is_in_flight(id) {
            return Err(Error::InvalidArgument { what: "operation id", reason: "not in flight" });
        }
        let sqe = AsyncCancel::user_data(id.user_data()).build().user_data(INTERNAL);
        self.ring.sq().push(&sqe)?;
        Ok(())
    }

    /// Submits pushed entries, and flushes completions that wait in the kernel into the CQ
    /// ([`Ring::submit`]).
    pub fn submit(&mut self) -> io::Result<u32> {
        self.ring.submit()
    }

    /// Submits and waits until `want` completions are ready ([`Ring::submit_and_wait`]).
    /// (`io_uring_submit_and_wait(3)`, Linux 5.1.)
    pub fn submit_and_wait(&mut self, want: u32) -> io::Result<u32> {
        self.ring.submit_and_wait(want)
    }

    /// Submits and waits until `want` completions are ready or `timeout` has passed
    /// ([`Ring::submit_and_wait_timeout`]; `ETIME` when nothing was submitted and nothing
    /// arrived in time).
    /// (`io_uring_submit_and_wait_timeout(3)`: `IORING_FEAT_EXT_ARG`, Linux 5.11.)
    pub fn submit_and_wait_timeout(&mut self, want: u32, timeout: Duration) -> Result<u32> {
        self.ring.submit_and_wait_timeout(want, timeout)
    }

    /// Runs pending task work and flushes overflowed completions into the CQ, without
    /// submitting or waiting ([`Ring::get_events`], `io_uring_get_events(3)`).
    pub fn get_events(&mut self) -> io::Result<()> {
        self.ring.get_events()
    }

    /// The next completion, if one is ready (`io_uring_peek_cqe(3)` + `io_uring_cqe_seen(3)`):
    /// no system call unless the CQ is empty while completions wait in the kernel (overflow,
    /// task work) or the ring polls (IOPOLL), as liburing's peek.
    // Not `Iterator::next`: each completion borrows the ring (a lending iterator).
    #[allow(clippy::should_implement_trait)]
    #[inline]
    pub fn next(&mut self) -> Option<Completion> {
        if let Some(c) = self.ready() {
            return Some(c);
        }
        self.next_after_flush()
    }

    /// The next completion the CQ holds now (a finished chain link first), or `None`; no
    /// system call.
    #[inline(always)]
    fn ready(&mut self) -> Option<Completion> {
        let cq = &mut self.ring;
        completion::next(&mut self.t, || cq.cq().pop())
    }

    /// [`next`](Self::next) when the CQ was empty: flush what waits in the kernel, read again.
    #[cold]
    fn next_after_flush(&mut self) -> Option<Completion> {
        if !self.ring.cq_needs_enter() || self.ring.cq().flush().is_err() {
            return None;
        }
        self.ready()
    }

    /// Waits for the next completion, submitting what is pushed first. Blocks in the kernel
    /// (no spinning) until a completion arrives; see [`wait_timeout`](Self::wait_timeout) for
    /// a bounded wait.
    pub fn wait(&mut self) -> io::Result<Completion> {
        loop {
            if let Some(c) = self.ready() {
                return Ok(c);
            }
            self.ring.submit_and_wait(1)?;
        }
    }

    /// Waits up to `timeout` for the next completion, submitting what is pushed first; fails
    /// with `ETIME` ([`Error::is_errno`]) when none arrives in time. Needs
    /// `IORING_FEAT_EXT_ARG` (Linux 5.11).
    pub fn wait_timeout(&mut self, timeout: Duration) -> Result<Completion> {
        let deadline = Instant::now().checked_add(timeout);
        loop {
            if let Some(c) = self.ready() {
                return Ok(c);
            }
            let left = match deadline {
                Some(d) => d.saturating_duration_since(Instant::now()),
                None => timeout,
            };
            if left.is_zero() && self.ring.sq().unflushed() == 0 {
                return Err(Error::Os(io::Error::from_raw_os_error(libc::ETIME)));
            }
            match self.ring.submit_and_wait_timeout(1, left) {
                Ok(_) => {}
                // Time is up: one more look at the CQ, then `ETIME` above.
                Err(e) if e.is_errno(libc::ETIME) => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Hands every completion ready now to `f`, in order, and returns how many it handed out:
    /// the fastest way to reap (the CQ slots are released in one store at the end). Like
    /// `io_uring_for_each_cqe`, it reads only what the CQ holds: completions that overflowed
    /// or wait for task work appear after a submit or wait call.
    ///
    /// Each completion is a [`CompletionRef`], borrowed for the call: the operation is read out
    /// of its slot only by [`CompletionRef::into_op`] (nothing is moved to hand a completion
    /// over); [`CompletionRef::into_completion`] makes an owned [`Completion`] to keep.
    ///
    /// ```
    /// use uring::owned::{Nop, OwnedRing};
    ///
    /// let mut ring = OwnedRing::new(32)?;
    /// {
    ///     let mut sq = ring.batch();
    ///     for _ in 0..32 {
    ///         sq.push(Nop)?;
    ///     }
    /// }
    /// ring.submit_and_wait(32)?;
    /// let mut kept = Vec::new();
    /// let n = ring.for_each_completion(|c| {
    ///     assert_eq!(c.result(), Ok(0));
    ///     match c.into_op::<Nop>() {
    ///         Ok(Nop) => {}
    ///         Err(other) => kept.push(other.into_completion()),
    ///     }
    /// });
    /// assert_eq!((n, kept.len(), ring.in_flight()), (32, 0, 0));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn for_each_completion(&mut self, mut f: impl FnMut(CompletionRef<'_>)) -> u32 {
        completion::for_each(&mut self.t, self.ring.cq().iter(), &mut f)
    }

    /// The completions ready now, handed out one by one with the completion queue's state held
    /// locally (as [`CompletionQueue::iter`](crate::CompletionQueue::iter) does for raw
    /// entries); the CQ slots are released in one store when the handle is dropped. Reads only
    /// what the CQ holds, as [`for_each_completion`](Self::for_each_completion).
    #[inline]
    pub fn completions(&mut self) -> Completions<'_> {
        Completions { drain: self.ring.cq().iter(), t: &mut self.t }
    }

    /// Registers `bufs` as the ring's fixed-buffer table (`IORING_REGISTER_BUFFERS`,
    /// `io_uring_register_buffers(3)`, Linux 5.1): buffer `i` goes to slot `i`, and comes back
    /// as the [`FixedBuf`] with index `i`.
    ///
    /// The memory moves into the ring (its keep-alive list), so it stays allocated while the
    /// kernel may use it; the handles give exclusive access to it between operations.
    ///
    /// Refused before the system call: no buffers, more than 16384, an empty buffer or one over
    /// 1 GiB. The kernel refuses a ring that already has a table (`EBUSY`) and pinning beyond
    /// `RLIMIT_MEMLOCK` (`ENOMEM`).
    ///
    /// Copying a file through two registered buffers, in more rounds than the ring has entries:
    /// each handle moves into a read, comes back filled with its completion, moves into a
    /// write, and comes back again.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use uring::owned::{Fd, OwnedRing, ReadFixed, WriteFixed};
    ///
    /// let dir = std::env::temp_dir();
    /// let src = dir.join(format!("uring-doc-fixed-src-{}", std::process::id()));
    /// let dst = dir.join(format!("uring-doc-fixed-dst-{}", std::process::id()));
    /// std::fs::write(&src, (0..10 * 1024u32).map(|i| (i / 1024) as u8).collect::<Vec<u8>>())?;
    /// let input = Arc::new(std::fs::File::open(&src)?);
    /// let output = Arc::new(std::fs::File::create(&dst)?);
    ///
    /// let mut ring = OwnedRing::new(2)?;
    /// let mut bufs = ring.register_fixed_buffers(vec![vec![0; 1024], vec![0; 1024]])?;
    /// for round in 0..5u64 {
    ///     for (k, b) in bufs.drain(..).enumerate() {
    ///         let off = (round * 2 + k as u64) * 1024;
    ///         ring.push(ReadFixed::new(Fd::shared(input.clone()), b, off))?;
    ///     }
    ///     for _ in 0..2 {
    ///         let c = ring.wait()?;
    ///         assert_eq!(c.result()?, 1024);
    ///         let r: ReadFixed = c.into_op().expect("a read");
    ///         ring.push(WriteFixed::new(Fd::shared(output.clone()), r.buf, 0..1024, r.offset))?;
    ///     }
    ///     for _ in 0..2 {
    ///         let c = ring.wait()?;
    ///         assert_eq!(c.result()?, 1024);
    ///         bufs.push(c.into_op::<WriteFixed>().expect("a write").buf);
    ///     }
    /// }
    /// assert_eq!(std::fs::read(&dst)?, std::fs::read(&src)?);
    /// std::fs::remove_file(&src)?;
    /// std::fs::remove_file(&dst)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn register_fixed_buffers(&mut self, bufs: Vec<Vec<u8>>) -> Result<Vec<FixedBuf>> {
        let mems = FixedMem::check_and_take(bufs)?;
        let iovecs: Vec<libc::iovec> = mems.iter().map(|m| m.iovec()).collect();
        // SAFETY: `iovecs` is an array of `iovecs.len()` (at most 16384) valid iovecs, live for
        // the call. The memory they describe moves into the ring's keep-alive list below, so it
        // stays allocated until the kernel's teardown of the ring has finished (or forever), as
        // the registration requires; only the `FixedBuf` handles reach it from Rust.
        unsafe {
            self.ring.submitter().register_raw(IORING_REGISTER_BUFFERS, iovecs.as_ptr().cast(), iovecs.len() as u32)
        }
        .map_err(Error::Os)?;
        let mut out = Vec::with_capacity(mems.len());
        for (i, mem) in mems.into_iter().enumerate() {
            self.ring.keep_alive_heap(mem.clone());
            out.push(FixedBuf::new(mem, i as u16));
        }
        Ok(out)
    }

    /// Pushes a [`ProvideBuffers`]: its memory moves into the ring's keep-alive list (freed once
    /// the kernel's teardown of the ring has finished, leaked if that cannot be confirmed),
    /// since the kernel writes provided buffers after the completion. The operation comes back, without the memory, with its
    /// completion. On failure (no free slot, a full SQ, already provided) the operation comes
    /// back unchanged.
    /// `IORING_OP_PROVIDE_BUFFERS`, Linux 5.7.
    pub fn provide_buffers(&mut self, mut op: ProvideBuffers) -> core::result::Result<OpId, Rejected<ProvideBuffers>> {
        if self.ring.sq().space_left() == 0 {
            return Err(Rejected { op, error: Error::SubmissionQueueFull });
        }
        if !self.t.has_free_slot() {
            return Err(Rejected { op, error: NO_FREE_SLOT });
        }
        let mem = match op.prepare() {
            Ok(mem) => mem,
            Err(error) => return Err(Rejected { op, error }),
        };
        // The entry points at the heap memory, which does not move with the `Vec`; from here
        // on only the ring holds it.
        self.ring.keep_alive_heap(Arc::new(ProvidedMem(mem)));
        self.push(op).map_err(|mut r| {
            r.op.unprepare();
            r
        })
    }
}

impl OwnedRing {
    /// Cancels every operation in flight and reaps until their final completions arrived or
    /// `deadline` passed; returns whether none is left in flight.
    fn cancel_and_reap(ring: &mut Ring, t: &mut Table, deadline: Instant) -> bool {
        t.drop_pending();
        if t.in_flight == 0 {
            return true;
        }
        // Cancel everything and reap until every operation's final completion arrived: that
        // completion is the only proof that the kernel is done with the operation's memory.
        // Entries pushed and not yet submitted go to the kernel first (the waits below would
        // submit them anyway, after the cancel: a request submitted then would run on).
        let _ = ring.submit();
        let first = deadline.saturating_duration_since(Instant::now()).min(Duration::from_secs(1));
        let _ = ring.submitter().sync_cancel(AsyncCancel::any().all(), Some(first));
        while t.in_flight > 0 {
            while let Some(c) = ring.cq().pop() {
                t.reap_and_drop(&c);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if t.in_flight == 0 || left.is_zero() {
                break;
            }
            match ring.wait_cqe_timeout(left.min(Duration::from_millis(50))) {
                Ok(c) => t.reap_and_drop(&c),
                Err(e) if e.is_errno(libc::ETIME) || e.is_errno(libc::EINTR) => {
                    // Still in flight: ask again (cancel requests may have raced with
                    // submission).
                    let _ = ring.submitter().sync_cancel(AsyncCancel::any().all(), Some(Duration::from_millis(10)));
                }
                Err(_) => break,
            }
        }
        t.in_flight == 0
    }

    /// Cancels every operation in flight, reaps their final completions, then shuts the ring
    /// down as [`Ring::shutdown`] does and reports what the kernel's teardown showed, all
    /// within about `limit`. Where dropping the ring can only wait for final completions and
    /// leaks the memory of operations whose completion did not come, a
    /// [`Teardown::Finished`](crate::Teardown::Finished) proves that no request of the ring
    /// runs any more: the memory of operations still in flight is then freed too. (An
    /// operation with a completion hook, such as an owned close or pipe, is leaked instead:
    /// without its completion the crate cannot know what the kernel did with its fds.)
    /// (`io_uring_queue_exit(3)` after `io_uring_register_sync_cancel(3)`; Linux 6.0 for the
    /// cancel, 5.1 for the rest.)
    ///
    /// ```
    /// use uring::owned::{Nop, OwnedRing};
    ///
    /// let mut ring = OwnedRing::new(8)?;
    /// ring.push(Nop)?;
    /// let teardown = ring.shutdown(std::time::Duration::from_secs(2));
    /// println!("{teardown:?}"); // Finished(..) on an idle machine
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn shutdown(self, limit: Duration) -> crate::Teardown {
        let deadline = Instant::now() + limit;
        let this = core::mem::ManuallyDrop::new(self);
        // SAFETY: `this` is never used or dropped again after the two fields are moved out.
        let (mut ring, mut t) = unsafe { (core::ptr::read(&this.ring), core::ptr::read(&this.t)) };
        let done = OwnedRing::cancel_and_reap(&mut ring, &mut t, deadline);
        let teardown = ring.shutdown(deadline.saturating_duration_since(Instant::now()));
        if !done {
            if teardown.is_finished() {
                // The kernel freed the ring: no request runs, so no operation's memory is in
                // use. Those with a completion hook are leaked (see above); the rest drop with
                // the table.
                for slot in t.slots.iter_mut() {
                    if slot.on_complete & OnComplete::HOOK != 0 {
                        core::mem::forget(slot.op.take());
                    }
                }
            } else {
                t.leak();
            }
        }
        teardown
    }
}

impl Drop for OwnedRing {
    fn drop(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(2);
        if !OwnedRing::cancel_and_reap(&mut self.ring, &mut self.t, deadline) {
            // Could not confirm the kernel is done: leak the in-flight memory.
            self.t.leak();
        }
    }
}
