//! The futures: [`Op`] (one operation, awaited) and [`Multishot`] (a stream of completions),
//! and what a task hands back when it finishes.

#![allow(clippy::wildcard_imports)]
use super::*;

/// A finished task's completions: the last (with the operation) and the first's result.
pub(super) struct Done {
    pub(super) last: Option<Completion>,
    pub(super) first: Option<core::result::Result<u32, crate::Errno>>,
    pub(super) br: Option<Rc<BufRing>>,
}

pub(super) enum OpState<O> {
    /// Not pushed yet (never polled, or waiting for room).
    New(O, Option<Rc<BufRing>>),
    /// Refused before the push; handed back at the first poll.
    Failed(Rejected<O>),
    /// In task `.0`.
    Pushed(u32),
    /// Resolved (or moved out).
    Gone,
}

/// The future of one owned operation, from [`Handle::run`] / [`Handle::run_select`]. Awaited
/// directly, it resolves to `(result, operation)`; [`completion`](Op::completion) gives the
/// whole [`Completion`] (new fd, provided buffer), [`fd`](Op::fd) the new fd. Dropping it is
/// safe at any point (see the [module docs](super#cancel-safety)).
#[must_use = "futures do nothing unless awaited"]
pub struct Op<O: Operation> {
    pub(super) h: Handle,
    pub(super) st: OpState<O>,
}

impl<O: Operation> core::fmt::Debug for Op<O> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let st = match self.st {
            OpState::New(..) => "new",
            OpState::Failed(_) => "refused",
            OpState::Pushed(_) => "in flight",
            OpState::Gone => "done",
        };
        f.debug_struct("Op").field("state", &st).finish()
    }
}

// No field is structurally pinned: the operation moves into the ring when pushed.
impl<O: Operation> Unpin for Op<O> {}

impl<O: Operation> Op<O> {
    /// Polls for the final completion: `Ready(Ok(completion))` once it arrived (the
    /// operation in it: [`Completion::into_op`]), `Ready(Err(rejected))` if the ring refused
    /// the operation. Polling again after `Ready` panics (as the `Future` contract allows).
    pub fn poll_completion(&mut self, cx: &mut Context<'_>) -> Poll<core::result::Result<Completion, Rejected<O>>> {
        match self.poll_done(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(r)) => Poll::Ready(Err(r)),
            Poll::Ready(Ok(done)) => Poll::Ready(Ok(done.last.expect("a finished task has its final completion"))),
        }
    }

    /// The operation's task, pushing the operation first if it is not yet (the state is then
    /// `Pushed`): `Ready(Ok(Some(t)))`, `Ready(Ok(None))` once it is gone, `Ready(Err(r))` if
    /// the ring refused it, `Pending` while it waits for room (the waker is queued).
    fn task(&mut self, w: &Waker) -> Poll<core::result::Result<Option<u32>, Rejected<O>>> {
        match core::mem::replace(&mut self.st, OpState::Gone) {
            OpState::New(op, br) => match self.h.start(op, br.clone(), w) {
                Ok(t) => {
                    self.st = OpState::Pushed(t);
                    Poll::Ready(Ok(Some(t)))
                }
                Err(Start::Wait(op)) => {
                    self.st = OpState::New(op, br);
                    Poll::Pending
                }
                Err(Start::Fail(r)) => Poll::Ready(Err(r)),
            },
            OpState::Failed(r) => Poll::Ready(Err(r)),
            OpState::Pushed(t) => {
                self.st = OpState::Pushed(t);
                Poll::Ready(Ok(Some(t)))
            }
            OpState::Gone => Poll::Ready(Ok(None)),
        }
    }

    fn poll_done(&mut self, cx: &mut Context<'_>) -> Poll<core::result::Result<Done, Rejected<O>>> {
        let t = match self.task(cx.waker()) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Err(r)) => return Poll::Ready(Err(r)),
            Poll::Ready(Ok(Some(t))) => t,
            Poll::Ready(Ok(None)) => panic!("an `Op` polled after it completed"),
        };
        let done = core::task::ready!(self.h.poll_task(t, cx.waker()));
        // The task was released with its completions.
        self.st = OpState::Gone;
        Poll::Ready(Ok(done))
    }

    /// The whole final completion (see [`poll_completion`](Self::poll_completion)).
    pub async fn completion(mut self) -> core::result::Result<Completion, Rejected<O>> {
        std::future::poll_fn(|cx| self.poll_completion(cx)).await
    }

    /// For an operation that creates an fd (accept, open, socket): the new fd, and the
    /// operation. (Taken from the kernel's own completion: [`Completion::take_fd`].)
    pub async fn fd(self) -> (Result<OwnedFd>, O) {
        match self.completion().await {
            Err(Rejected { op, error }) => (Err(error), op),
            Ok(mut c) => {
                let fd = c.take_fd();
                let res = c.result();
                let op = c.into_op::<O>().expect("the final completion carries the operation");
                match (res, fd) {
                    (Err(e), _) => (Err(e.into()), op),
                    (Ok(_), Some(fd)) => (Ok(fd), op),
                    (Ok(_), None) => (
                        Err(Error::InvalidArgument {
                            what: "operation",
                            reason: "creates no fd in the process's table",
                        }),
                        op,
                    ),
                }
            }
        }
    }
}

impl<O: Operation> Future for Op<O> {
    type Output = (Result<u32>, O);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        match this.poll_done(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(Rejected { op, error })) => Poll::Ready((Err(error), op)),
            Poll::Ready(Ok(done)) => {
                let last = done.last.expect("a finished task has its final completion");
                let res = done.first.unwrap_or_else(|| last.result());
                let op = match last.into_op::<O>() {
                    Ok(op) => op,
                    Err(_) => panic!("the final completion carries the operation"),
                };
                drop(done.br);
                Poll::Ready((res.map_err(Error::from), op))
            }
        }
    }
}

impl<O: Operation> Drop for Op<O> {
    fn drop(&mut self) {
        if let OpState::Pushed(t) = self.st {
            self.h.abandon(t);
        }
    }
}

/// The stream of a multishot operation's completions, from [`Handle::multishot`] /
/// [`Handle::multishot_select`]: each item is a [`Completion`] (select its buffer, take its
/// fd); the last one (`more() == false`) carries the operation back; then `None`. Dropping it
/// is safe at any point: the operation is cancelled, and completions nobody takes give their
/// buffers back (see the [module docs](super#cancel-safety)).
#[must_use = "streams do nothing unless polled"]
#[derive(Debug)]
pub struct Multishot<O: Operation>(pub(super) Op<O>);

impl<O: Operation> Multishot<O> {
    /// The next completion: `Ready(Some(Ok(c)))`, `Ready(Some(Err(e)))` once if the ring
    /// refused the operation (dropped), `Ready(None)` after the last completion.
    pub fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Completion>>> {
        let op = &mut self.0;
        let t = match op.task(cx.waker()) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Err(r)) => return Poll::Ready(Some(Err(r.error))),
            Poll::Ready(Ok(Some(t))) => t,
            Poll::Ready(Ok(None)) => return Poll::Ready(None),
        };
        match core::task::ready!(op.h.poll_stream(t, cx.waker())) {
            Some(c) => Poll::Ready(Some(Ok(c))),
            None => {
                // The task was released.
                op.st = OpState::Gone;
                Poll::Ready(None)
            }
        }
    }

    /// The next completion (see [`poll_next`](Self::poll_next)).
    pub async fn next(&mut self) -> Option<Result<Completion>> {
        std::future::poll_fn(|cx| self.poll_next(cx)).await
    }

    /// Asks the kernel to stop the operation (`IORING_OP_ASYNC_CANCEL`): the stream goes on
    /// until the final completion (`ECANCELED`, with the operation). Nothing happens if it is
    /// not in flight. [`Error::RingLent`] inside [`Handle::with_ring`].
    pub fn cancel(&mut self) -> Result<()> {
        if let OpState::Pushed(t) = self.0.st {
            let driver = {
                let mut i = self.0.h.state()?;
                let Some(id) = i.tasks.tasks[t as usize].id else { return Ok(()) };
                match i.ring.cancel(id) {
                    Ok(()) => i.pushed(),
                    Err(Error::SubmissionQueueFull) => {
                        i.cancels.push(id);
                        i.pushed()
                    }
                    Err(_) => None,
                }
            };
            if let Some(d) = driver {
                d.wake();
            }
        }
        Ok(())
    }
}
