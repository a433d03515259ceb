//! Driving the async layer from a reactor: the ring fd's readiness under each setup (what
//! `uring::future`'s docs state for Linux 6.18 is measured here), and a tokio current-thread
//! runtime driving a handle through `AsyncFd` with many tasks at once.

mod common;

use std::future::Future;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use common::{note, skip, watchdog};
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;
use uring::future::Handle;
use uring::owned::{Fd, Nop};
use uring::Builder;

fn setups() -> Vec<(&'static str, Builder)> {
    vec![
        ("default", Builder::new()),
        ("coop_taskrun", Builder::new().coop_taskrun().taskrun_flag()),
        ("coop_taskrun_noflag", Builder::new().coop_taskrun()),
        ("defer_taskrun", Builder::new().defer_taskrun()),
        ("defer_taskrun_flag", Builder::new().defer_taskrun().taskrun_flag()),
        ("sqpoll", Builder::new().sqpoll(50)),
    ]
}

/// For each setup: a receive in flight, data written from another thread 50 ms later; `poll(2)`
/// on the handle's notifier (an eventfd) must report POLLIN well before its 4 s timeout (3.5 s: the machine may be loaded), and a
/// drive then completes the receive. The ring fd is measured too: readable in time on every
/// setup but DEFER_TASKRUN, where pending task work does not wake its waiters (noted; the
/// layer drives through the notifier).
#[test]
fn ring_fd_poll_modes() {
    watchdog("ring_fd_poll_modes", 90, || {
        for (name, b) in setups() {
            let defer = name.starts_with("defer");
            let h = match Handle::with_builder(b, 4) {
                Ok(h) => h,
                Err(e) => {
                    skip(&format!("ring_fd_poll_modes [{name}]"), format!("setup refused: {e}"));
                    continue;
                }
            };
            let efd = h.notifier().unwrap().as_raw_fd();
            let ring_fd = h.with_ring(|r| r.ring().submitter().raw_fd()).unwrap().unwrap();
            for (what, fd) in [("notifier", efd), ("ring fd", ring_fd)] {
                let (mut w, r) = UnixStream::pair().unwrap();
                let mut fut = h.recv(Fd::from(r), vec![0; 8]);
                assert!(Pin::new(&mut fut).poll(&mut Context::from_waker(Waker::noop())).is_pending());
                // Submit, and reset the notifier (poll(2) is level-triggered).
                h.notifier().unwrap().reset();
                while h.poll_drive(&mut Context::from_waker(Waker::noop())).is_ready() {}
                let writer = std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_millis(50));
                    w.write_all(b"ping").unwrap();
                    w
                });
                let t0 = Instant::now();
                let mut pfd = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
                // SAFETY: one valid pollfd.
                let n = unsafe { libc::poll(&mut pfd, 1, 4000) };
                let waited = t0.elapsed();
                let _w = writer.join().unwrap();
                let in_time = n == 1 && waited < Duration::from_millis(3500);
                note("ring_fd_poll_modes", format!("[{name}] {what}: poll returned {n} after {waited:?}"));
                if what == "notifier" || !defer {
                    assert!(in_time, "[{name}] the {what} became readable in time (poll {n} after {waited:?})");
                }
                let t1 = Instant::now();
                let mut reaped = 0;
                while reaped == 0 && t1.elapsed() < Duration::from_secs(2) {
                    reaped += h.drive().unwrap();
                }
                assert_eq!(reaped, 1, "[{name}] a drive reaps the completion");
                let Poll::Ready((res, recv)) = Pin::new(&mut fut).poll(&mut Context::from_waker(Waker::noop())) else {
                    panic!("[{name}] ready after the drive");
                };
                assert_eq!(&recv.buf[..res.unwrap() as usize], b"ping");
            }
        }
    });
}

/// The driver of the tokio examples: waits for the ring fd to turn readable and drives; woken
/// also when a task pushes (to submit).
async fn drive(h: Handle) -> std::io::Result<()> {
    // SAFETY: the notifier holds a clone of the handle, which keeps its eventfd open; its
    // number never changes.
    let afd =
        unsafe { AsyncFd::register_with_interest(h.notifier()?, Interest::READABLE) }.map_err(|e| e.into_parts().1)?;
    std::future::poll_fn(|cx| loop {
        // Submit what the tasks pushed, reap, wake the tasks (they run after this one).
        if let Poll::Ready(Err(e)) = h.poll_drive(cx) {
            return Poll::Ready(Err(e.into()));
        }
        match afd.poll_read_ready(cx) {
            Poll::Ready(Ok(mut g)) => g.clear_ready(),
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Pending => return Poll::Pending,
        }
    })
    .await
}

/// Many tasks on a `LocalSet`, each awaiting NOPs and socket round trips, driven by a task
/// over `AsyncFd`; on the default and DEFER_TASKRUN rings.
#[test]
fn tokio_local_set_drives_many_tasks() {
    watchdog("tokio_local_set_drives_many_tasks", 60, || {
        for (name, b) in [("default", Builder::new()), ("defer_taskrun", Builder::new().defer_taskrun())] {
            let rt = tokio::runtime::Builder::new_current_thread().enable_io().build().unwrap();
            let local = tokio::task::LocalSet::new();
            let h = match Handle::with_builder(b, 8) {
                Ok(h) => h,
                Err(e) => {
                    skip(&format!("tokio_local_set_drives_many_tasks [{name}]"), format!("setup refused: {e}"));
                    continue;
                }
            };
            let done = Arc::new(std::sync::atomic::AtomicUsize::new(0));
            local.block_on(&rt, async {
                let driver = tokio::task::spawn_local(drive(h.clone()));
                let mut tasks = Vec::new();
                for _ in 0..32 {
                    let (h, done) = (h.clone(), done.clone());
                    tasks.push(tokio::task::spawn_local(async move {
                        for _ in 0..50 {
                            let (r, Nop) = h.run(Nop).await;
                            r.unwrap();
                        }
                        let (a, b) = UnixStream::pair().unwrap();
                        let a = Arc::new(a);
                        for i in 0..20u8 {
                            let (r, _) = h.send(Fd::shared(a.clone()), vec![i; 3]).await;
                            assert_eq!(r.unwrap(), 3);
                            let (r, recv) = h.recv(b.try_clone().unwrap(), vec![0; 8]).await;
                            assert_eq!(&recv.buf[..r.unwrap() as usize], &[i; 3]);
                        }
                        done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }));
                }
                for t in tasks {
                    t.await.unwrap();
                }
                driver.abort();
            });
            assert_eq!(done.load(std::sync::atomic::Ordering::Relaxed), 32, "[{name}]");
            assert_eq!(h.in_flight().unwrap(), 0, "[{name}]");
        }
    });
}
