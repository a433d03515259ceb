//! Driving without a runtime ([`block_on`]) and with one ([`Notifier`], the eventfd a
//! reactor waits on).

#![allow(clippy::wildcard_imports)]
use super::*;

/// A handle's eventfd, readable when the ring has completions to reap (from
/// [`Handle::notifier`]): register it with a reactor (tokio:
/// `AsyncFd::register_with_interest(notifier, Interest::READABLE)`), and call
/// [`Handle::poll_drive`] when it is readable. It holds a clone of the handle, which keeps the
/// eventfd open: its number never changes while it lives.
#[derive(Debug, Clone)]
pub struct Notifier {
    pub(super) h: Handle,
}

impl Notifier {
    fn efd(&self) -> &OwnedFd {
        self.h.sh.efd.get().expect("a notifier exists only once the eventfd is set")
    }

    /// Clears the eventfd's count (a non-blocking `read(2)`), for level-triggered pollers: call
    /// it before driving, so that a completion posted during the drive makes it readable again.
    pub fn reset(&self) {
        let mut buf = [0u8; 8];
        let _ = rustix::io::read(self.efd(), &mut buf);
    }
}

impl AsFd for Notifier {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.efd().as_fd()
    }
}

impl AsRawFd for Notifier {
    fn as_raw_fd(&self) -> RawFd {
        self.efd().as_raw_fd()
    }
}

/// Wakes the thread blocked in [`block_on`].
struct Signal {
    woken: AtomicBool,
    thread: std::thread::Thread,
}

impl Wake for Signal {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        if !self.woken.swap(true, Ordering::AcqRel) {
            self.thread.unpark();
        }
    }
}

/// Runs `fut` to completion on this thread, driving `h`: polls it, submits what it pushed,
/// and when it is pending waits in `io_uring_enter(2)` for a completion
/// ([`Handle::wait`], `io_uring_submit_and_wait(3)`) or, with nothing in flight, parks the
/// thread until the future's waker is called. No busy loop.
///
/// A waker called from another thread while this one waits in the kernel for completions is
/// seen when the next completion arrives (the kernel wait is not interrupted).
///
/// Fails only if the ring does (`io_uring_enter(2)` errors other than `EINTR`), or with
/// [`Error::RingLent`](crate::Error::RingLent) inside [`Handle::with_ring`].
///
/// ```
/// use std::time::Duration;
/// use uring::future::{block_on, Handle};
/// use uring::owned::Timeout;
///
/// let h = Handle::new(4)?;
/// let t0 = std::time::Instant::now();
/// let (res, _t) = block_on(&h, h.run(Timeout::new(Duration::from_millis(20))))?;
/// assert!(res.is_err(), "a timeout that expires completes with ETIME");
/// assert!(t0.elapsed() >= Duration::from_millis(20));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn block_on<F: Future>(h: &Handle, fut: F) -> Result<F::Output> {
    let sig = Arc::new(Signal { woken: AtomicBool::new(true), thread: std::thread::current() });
    let waker = Waker::from(sig.clone());
    let mut cx = Context::from_waker(&waker);
    let mut fut = core::pin::pin!(fut);
    // Inside `with_ring` nothing could drive the ring: the future would never finish.
    drop(h.state()?);
    loop {
        if sig.woken.swap(false, Ordering::AcqRel) {
            if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
                return Ok(v);
            }
        }
        // What is ready already (no system call), then a wait in the kernel.
        h.reap();
        if sig.woken.load(Ordering::Acquire) {
            continue;
        }
        if h.in_flight()? > 0 {
            h.wait()?;
        } else {
            std::thread::park();
        }
    }
}
