//! The async layer (`uring::future`) on the real kernel: every owned operation awaited,
//! futures and streams dropped at every await point (before the first poll, in flight, after
//! the completion arrived but before it was polled), buffer rings whole again after a stream
//! is dropped mid-stream, loops of ten times the ring size with CQ overflow, the handle dropped
//! with futures alive, the ring's drop waiting for a pending read; on the default ring and on
//! COOP_TASKRUN, DEFER_TASKRUN + SINGLE_ISSUER and SQPOLL rings. Each test has a watchdog.

mod common;

use std::future::Future;
use std::io::Write;
use std::os::unix::net::UnixStream;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use common::{skip, watchdog};
use uring::buf::BufRing;
use uring::future::{block_on, Handle, Op};
use uring::op::TimeoutFlags;
use uring::owned::{Accept, Fd, Nop, Recv, RecvMultishot, Timeout};
use uring::{Builder, Error};

/// The ring setups of the matrix: name and builder.
fn setups() -> Vec<(&'static str, Builder)> {
    vec![
        ("default", Builder::new()),
        ("coop_taskrun", Builder::new().coop_taskrun().taskrun_flag()),
        ("defer_taskrun", Builder::new().defer_taskrun()),
        ("sqpoll", Builder::new().sqpoll(50)),
    ]
}

/// Runs `body` with a handle of each setup the kernel accepts (others are skipped, with the
/// reason).
fn each_setup(test: &'static str, entries: u32, body: impl Fn(&str, Handle)) {
    for (name, b) in setups() {
        match Handle::with_builder(b, entries) {
            Ok(h) => body(name, h),
            Err(e) => skip(&format!("{test} [{name}]"), format!("setup refused: {e}")),
        }
    }
}

/// Polls `f` once with a waker that does nothing.
fn poll_once<F: Future + Unpin>(f: &mut F) -> Poll<F::Output> {
    Pin::new(f).poll(&mut Context::from_waker(Waker::noop()))
}

/// Drives `h` until nothing is in flight (bounded: fails after 5 s).
fn settle(h: &Handle, what: &str) {
    let t0 = Instant::now();
    while h.in_flight().unwrap() > 0 {
        assert!(t0.elapsed() < Duration::from_secs(5), "{what}: still {} in flight after 5 s", h.in_flight().unwrap());
        h.wait().expect("wait");
    }
    h.drive().expect("drive");
}

/// A socket pair; reads of `.1` wait until `.0` writes.
fn pair() -> (UnixStream, Arc<UnixStream>) {
    let (a, b) = UnixStream::pair().unwrap();
    (a, Arc::new(b))
}

#[test]
fn awaits_owned_operations() {
    watchdog("awaits_owned_operations", 30, || {
        each_setup("awaits_owned_operations", 8, |name, h| {
            // Read/write through the conveniences and `run`.
            let path = std::env::temp_dir().join(format!("uring-async-rw-{}-{name}", std::process::id()));
            let f = Arc::new(
                std::fs::OpenOptions::new().create(true).truncate(true).read(true).write(true).open(&path).unwrap(),
            );
            std::fs::remove_file(&path).unwrap();
            let out = block_on(&h, async {
                let (res, _w) = h.write(Fd::shared(f.clone()), b"hello async".to_vec(), 0).await;
                assert_eq!(res.unwrap(), 11);
                let (res, r) = h.read(Fd::shared(f.clone()), vec![0; 32], 0).await;
                let n = res.unwrap() as usize;
                r.buf[..n].to_vec()
            })
            .unwrap();
            assert_eq!(out, b"hello async", "[{name}]");
            assert_eq!(Arc::strong_count(&f), 1, "[{name}] the operations dropped their shares");

            // An fd-creating operation hands the fd back.
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = l.local_addr().unwrap();
            let client = std::thread::spawn(move || std::net::TcpStream::connect(addr).unwrap());
            let (fd, _accept) = block_on(&h, h.run(Accept::new(l)).fd()).unwrap();
            let mut fd = std::net::TcpStream::from(fd.unwrap());
            let mut c = client.join().unwrap();
            c.write_all(b"x").unwrap();
            let (res, recv) = block_on(&h, h.recv(fd.try_clone().unwrap(), vec![0; 4])).unwrap();
            assert_eq!((res.unwrap(), recv.buf[0]), (1, b'x'), "[{name}]");
            fd.write_all(b"y").unwrap();

            // A refused operation comes back with the error.
            let br = h.buf_ring(BufRing::builder(3, 4, 64)).unwrap();
            let (a, b) = UnixStream::pair().unwrap();
            let (res, _op) = block_on(&h, h.run(RecvMultishot::new(b, &br))).unwrap();
            assert!(matches!(res, Err(Error::InvalidArgument { .. })), "[{name}] a selecting op needs run_select");
            drop(a);
            assert_eq!(h.in_flight().unwrap(), 0);
        });
    });
}

#[test]
fn futures_dropped_at_every_await_point() {
    watchdog("futures_dropped_at_every_await_point", 30, || {
        each_setup("futures_dropped_at_every_await_point", 4, |name, h| {
            let (w, r) = pair();
            // 1. Before the first poll: nothing pushed.
            let fut = h.recv(Fd::shared(r.clone()), vec![0; 16]);
            assert_eq!(Arc::strong_count(&r), 2);
            drop(fut);
            assert_eq!((Arc::strong_count(&r), h.in_flight().unwrap()), (1, 0), "[{name}] before the first poll");

            // 2. After one poll, in flight: cancelled; the ring keeps the operation until its
            // final completion, then drops it.
            let mut fut = h.recv(Fd::shared(r.clone()), vec![0; 16]);
            assert!(poll_once(&mut fut).is_pending());
            h.drive().unwrap();
            assert_eq!(h.in_flight().unwrap(), 1);
            drop(fut);
            assert_eq!(Arc::strong_count(&r), 2, "[{name}] the ring still holds the in-flight receive");
            settle(&h, name);
            assert_eq!(Arc::strong_count(&r), 1, "[{name}] dropped at its final completion");
            // The cancelled receive took nothing: the bytes are still there for the next one.
            (&w).write_all(b"after").unwrap();
            let (res, recv) = block_on(&h, h.recv(Fd::shared(r.clone()), vec![0; 16])).unwrap();
            assert_eq!(&recv.buf[..res.unwrap() as usize], b"after", "[{name}]");
            drop(recv);

            // 3. After the completion arrived, before it was polled.
            (&w).write_all(b"queued").unwrap();
            let mut fut = h.recv(Fd::shared(r.clone()), vec![0; 16]);
            assert!(poll_once(&mut fut).is_pending());
            settle(&h, name);
            assert_eq!(Arc::strong_count(&r), 2, "[{name}] the completion waits in the task");
            drop(fut);
            assert_eq!(Arc::strong_count(&r), 1, "[{name}] dropped with the future");

            // 4. In flight, with the cancel racing a completion: data arrives right after the drop.
            for i in 0..20 {
                let mut fut = h.recv(Fd::shared(r.clone()), vec![0; 16]);
                assert!(poll_once(&mut fut).is_pending());
                h.drive().unwrap();
                drop(fut);
                (&w).write_all(&[i]).unwrap();
                settle(&h, name);
                // Whatever the race's outcome, drain the byte if the receive did not take it.
                let mut buf = [0u8; 16];
                r.set_nonblocking(true).unwrap();
                let _ = std::io::Read::read(&mut &*r, &mut buf);
                r.set_nonblocking(false).unwrap();
            }
            assert_eq!((Arc::strong_count(&r), h.in_flight().unwrap()), (1, 0), "[{name}] race loop");
        });
    });
}

/// Counts its wakes.
struct CountWake(std::sync::atomic::AtomicUsize);
impl std::task::Wake for CountWake {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Inside `with_ring`, the handle's own methods fail with `Error::RingLent` (they panicked
/// once: the ring's `RefCell` was borrowed), a future polled there waits and goes on afterwards,
/// and a future dropped there is cancelled afterwards, its memory held until the final
/// completion.
#[test]
fn with_ring_reentry_is_a_typed_error() {
    watchdog("with_ring_reentry_is_a_typed_error", 30, || {
        each_setup("with_ring_reentry_is_a_typed_error", 4, |name, h| {
            let (_w, r) = pair();
            let waker = Arc::new(CountWake(Default::default()));
            let wakes = || waker.0.load(std::sync::atomic::Ordering::SeqCst);
            let mut later = h.run(Nop);
            let mut in_flight = h.recv(Fd::shared(r.clone()), vec![0; 16]);
            assert!(poll_once(&mut in_flight).is_pending());
            h.drive().unwrap();
            assert_eq!(Arc::strong_count(&r), 2);
            let lent = |e: Error| matches!(e, Error::RingLent);
            let n = h
                .with_ring(|ring| {
                    assert!(lent(h.drive().unwrap_err()), "[{name}] drive");
                    assert!(lent(h.wait().unwrap_err()), "[{name}] wait");
                    assert!(lent(h.in_flight().unwrap_err()), "[{name}] in_flight");
                    assert!(lent(h.with_ring(|_| ()).unwrap_err()), "[{name}] with_ring");
                    assert!(lent(h.buf_ring(BufRing::builder(7, 4, 64)).unwrap_err()), "[{name}] buf_ring");
                    assert!(lent(h.notifier().unwrap_err()), "[{name}] notifier");
                    let mut cx = Context::from_waker(Waker::noop());
                    assert!(matches!(h.poll_drive(&mut cx), Poll::Ready(Err(Error::RingLent))), "[{name}]");
                    assert!(lent(block_on(&h, h.run(Nop)).unwrap_err()), "[{name}] block_on");
                    // Polled here: waits, woken when `with_ring` returns.
                    let w = Waker::from(waker.clone());
                    assert!(Pin::new(&mut later).poll(&mut Context::from_waker(&w)).is_pending(), "[{name}]");
                    assert_eq!(wakes(), 0);
                    // Dropped here: cancelled when `with_ring` returns.
                    drop(in_flight);
                    ring.in_flight()
                })
                .unwrap();
            assert_eq!(n, 1, "[{name}] the receive is in flight");
            assert_eq!(wakes(), 1, "[{name}] the future polled inside was woken afterwards");
            assert_eq!(Arc::strong_count(&r), 2, "[{name}] the ring still holds the cancelled receive");
            let (res, Nop) = block_on(&h, later).unwrap();
            res.unwrap();
            settle(&h, name);
            assert_eq!((Arc::strong_count(&r), h.in_flight().unwrap()), (1, 0), "[{name}] cancelled and dropped");

            // A closure that panics after dropping an in-flight future: the next drive cancels it.
            let mut fut = h.recv(Fd::shared(r.clone()), vec![0; 16]);
            assert!(poll_once(&mut fut).is_pending());
            h.drive().unwrap();
            let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let _ = h.with_ring(|_| {
                    drop(fut);
                    std::panic::resume_unwind(Box::new("inside with_ring")); // no panic message
                });
            }));
            assert!(panicked.is_err());
            assert_eq!(Arc::strong_count(&r), 2, "[{name}] the ring still holds the receive");
            settle(&h, name);
            assert_eq!((Arc::strong_count(&r), h.in_flight().unwrap()), (1, 0), "[{name}] cancelled at the next drive");
        });
    });
}

#[test]
fn streams_dropped_mid_stream_give_every_buffer_back() {
    watchdog("streams_dropped_mid_stream_give_every_buffer_back", 30, || {
        each_setup("streams_dropped_mid_stream_give_every_buffer_back", 8, |name, h| {
            const N: u32 = 16;
            let br: Rc<BufRing> = h.buf_ring(BufRing::builder(1, N, 64)).unwrap();
            for round in 0..4 {
                let (mut w, r) = UnixStream::pair().unwrap();
                let mut s = h.multishot_select(RecvMultishot::new(r, &br), &br);
                assert!(poll_once_stream(&mut s));
                w.write_all(b"first").unwrap();
                let mut c = block_on(&h, s.next()).unwrap().expect("an item").expect("no error");
                assert!(c.more(), "[{name}] multishot stays armed");
                {
                    let sel = c.select(&br).unwrap();
                    assert_eq!(sel.data(), Some(&b"first"[..]));
                }
                // More data: completions queued in the stream (round 1, 3) or still to arrive
                // after the drop (round 0, 2).
                for k in 0..6u8 {
                    w.write_all(&[k; 10]).unwrap();
                    std::thread::sleep(Duration::from_millis(1));
                }
                if round % 2 == 1 {
                    h.drive().unwrap();
                    h.drive().unwrap();
                }
                drop(s);
                settle(&h, name);
                assert_eq!(br.held(), 0, "[{name}] round {round}: no buffer held");
                assert_eq!(br.available().unwrap() as u32, N, "[{name}] round {round}: every buffer back in the ring");
            }
        });
    });
}

/// Polls a stream once with a waker that does nothing; whether it is pending.
fn poll_once_stream<O: uring::owned::Operation>(s: &mut uring::future::Multishot<O>) -> bool {
    s.poll_next(&mut Context::from_waker(Waker::noop())).is_pending()
}

/// Joins futures (a minimal join-all: polls each pending one whenever the task is woken).
struct JoinAll<F: Future + Unpin> {
    futs: Vec<Option<F>>,
    out: Vec<Option<F::Output>>,
}

impl<F: Future + Unpin> JoinAll<F> {
    fn new(futs: impl IntoIterator<Item = F>) -> Self {
        let futs: Vec<Option<F>> = futs.into_iter().map(Some).collect();
        let out = futs.iter().map(|_| None).collect();
        JoinAll { futs, out }
    }
}

impl<F: Future + Unpin> Future for JoinAll<F>
where
    F::Output: Unpin,
{
    type Output = Vec<F::Output>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let mut pending = false;
        for (f, o) in this.futs.iter_mut().zip(this.out.iter_mut()) {
            if let Some(fut) = f {
                match Pin::new(fut).poll(cx) {
                    Poll::Ready(v) => {
                        *o = Some(v);
                        *f = None;
                    }
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            return Poll::Pending;
        }
        Poll::Ready(this.out.iter_mut().map(|o| o.take().unwrap()).collect())
    }
}

#[test]
fn loops_of_ten_times_the_ring_with_overflow() {
    watchdog("loops_of_ten_times_the_ring_with_overflow", 60, || {
        each_setup("loops_of_ten_times_the_ring_with_overflow", 4, |name, h| {
            let cq = h.with_ring(|r| r.ring().params().cq_entries).unwrap() as usize;
            // Ten times the CQ size at once: futures wait for room and go when slots free.
            let n = 10 * cq;
            let outs = block_on(&h, JoinAll::new((0..n).map(|_| h.run(Nop)))).unwrap();
            assert_eq!(outs.len(), n);
            assert!(outs.iter().all(|(r, _)| r.is_ok()), "[{name}]");
            // Sequentially, 10x more.
            block_on(&h, async {
                for _ in 0..10 * n {
                    let (r, Nop) = h.run(Nop).await;
                    r.unwrap();
                }
            })
            .unwrap();

            // CQ overflow: a multishot timeout posts 5x the CQ size while nobody reaps.
            let reps = 5 * cq as u32;
            let t = Timeout { ts: Duration::from_micros(200).into(), count: reps, flags: TimeoutFlags::MULTISHOT };
            let mut s = h.multishot(t);
            assert!(poll_once_stream(&mut s));
            h.drive().unwrap();
            std::thread::sleep(Duration::from_millis(20) + Duration::from_micros(200) * reps);
            let mut items = 0;
            let mut last = None;
            block_on(&h, async {
                while let Some(c) = s.next().await {
                    let c = c.unwrap();
                    items += 1;
                    if !c.more() {
                        last = Some(c);
                    }
                }
            })
            .unwrap();
            // The stream ends with the operation: after all repeats, or early when the kernel
            // ended the multishot request because its CQ overflowed (a multishot request whose
            // completion finds the CQ full is terminated; Linux 6.x).
            let c = last.expect("a final completion");
            if items == reps as usize {
                common::note(
                    "loops_of_ten_times_the_ring_with_overflow",
                    format!("[{name}] {items} ticks, no overflow (completions deferred until reaped)"),
                );
            } else {
                common::note(
                    "loops_of_ten_times_the_ring_with_overflow",
                    format!("[{name}] CQ overflow ended the multishot timeout after {items} ticks: {:?}", c.result()),
                );
            }
            assert!(c.into_op::<Timeout>().is_ok(), "[{name}] the operation comes back with the last completion");
            assert_eq!(h.in_flight().unwrap(), 0, "[{name}]");
        });
    });
}

#[test]
fn handle_dropped_with_futures_alive() {
    watchdog("handle_dropped_with_futures_alive", 30, || {
        each_setup("handle_dropped_with_futures_alive", 4, |name, h| {
            let (_w, r) = pair();
            let mut futs: Vec<Op<Recv>> = (0..3).map(|_| h.recv(Fd::shared(r.clone()), vec![0; 8])).collect();
            for f in &mut futs {
                assert!(poll_once(f).is_pending());
            }
            h.drive().unwrap();
            drop(h);
            assert_eq!(Arc::strong_count(&r), 4, "[{name}] alive in the ring");
            // The last future holds the last clone: its drop drops the ring, which cancels and
            // reaps everything before freeing anything.
            drop(futs);
            assert_eq!(Arc::strong_count(&r), 1, "[{name}] every operation dropped after its final completion");
        });
    });
}

#[test]
fn ring_drop_waits_for_a_pending_read() {
    watchdog("ring_drop_waits_for_a_pending_read", 30, || {
        each_setup("ring_drop_waits_for_a_pending_read", 4, |name, h| {
            let (rx, tx) = rustix::pipe::pipe().unwrap();
            let (rx, tx) = (Arc::new(std::fs::File::from(rx)), std::fs::File::from(tx));
            let mut fut = h.read(Fd::shared(rx.clone()), vec![0; 64], u64::MAX);
            assert!(poll_once(&mut fut).is_pending());
            h.drive().unwrap();
            // Both gone at once: the future's cancel is not even submitted; the ring's drop
            // submits, cancels synchronously and reaps the read's final completion.
            let t0 = Instant::now();
            drop(fut);
            drop(h);
            assert_eq!(Arc::strong_count(&rx), 1, "[{name}] the read was dropped only after its completion");
            assert!(t0.elapsed() < Duration::from_secs(3), "[{name}]");
            // The cancelled read consumed nothing.
            (&tx).write_all(b"later").unwrap();
            let mut buf = [0u8; 8];
            let n = std::io::Read::read(&mut &*rx, &mut buf).unwrap();
            assert_eq!(&buf[..n], b"later");
        });
    });
}

#[test]
fn iopoll_rings_are_refused() {
    match Handle::with_builder(Builder::new().flags(uring::SetupFlags::IOPOLL), 4) {
        Err(Error::Unsupported { .. }) => {}
        Err(e) if e.is_errno(libc::EINVAL) => skip("iopoll_rings_are_refused", "IOPOLL setup refused by the kernel"),
        other => panic!("IOPOLL must be refused with Unsupported: {other:?}"),
    }
}

/// `block_on` without anything in flight parks (no spinning) until the waker is called from
/// another thread.
#[test]
fn block_on_parks_without_spinning() {
    watchdog("block_on_parks_without_spinning", 30, || {
        let h = Handle::new(4).unwrap();
        let flag = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let f2 = flag.clone();
        let cpu0 = cpu_time();
        let fut = std::future::poll_fn(move |cx| {
            if f2.load(std::sync::atomic::Ordering::Acquire) {
                return Poll::Ready(());
            }
            let (w, f3) = (cx.waker().clone(), f2.clone());
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(200));
                f3.store(true, std::sync::atomic::Ordering::Release);
                w.wake();
            });
            Poll::Pending
        });
        block_on(&h, fut).unwrap();
        assert!(flag.load(std::sync::atomic::Ordering::Acquire));
        let used = cpu_time() - cpu0;
        assert!(used < Duration::from_millis(100), "block_on burned {used:?} of CPU waiting 200 ms");
        // Waiting in the kernel for a timeout burns no CPU either.
        let cpu0 = cpu_time();
        let (res, _) = block_on(&h, h.run(Timeout::new(Duration::from_millis(200)))).unwrap();
        assert!(res.is_err());
        let used = cpu_time() - cpu0;
        assert!(used < Duration::from_millis(100), "block_on burned {used:?} of CPU waiting for a 200 ms timeout");
    });
}

/// This thread's CPU time.
fn cpu_time() -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: a valid, writable timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// A single-shot receive that selects a provided buffer: its completion hands the buffer out
/// through `Op::completion`; dropped after the completion arrived (not polled) or in flight,
/// the buffer goes back to the ring.
#[test]
fn selecting_futures_give_their_buffer_back() {
    use uring::owned::RecvSelect;
    watchdog("selecting_futures_give_their_buffer_back", 30, || {
        each_setup("selecting_futures_give_their_buffer_back", 4, |name, h| {
            const N: u32 = 8;
            let br = h.buf_ring(BufRing::builder(2, N, 64)).unwrap();
            let (mut w, r) = UnixStream::pair().unwrap();
            let r = Arc::new(r);
            // Awaited: the buffer comes out of the completion.
            w.write_all(b"one").unwrap();
            let mut c = block_on(&h, h.run_select(RecvSelect::new(Fd::shared(r.clone()), &br), &br).completion())
                .unwrap()
                .expect("pushed");
            {
                let sel = c.select(&br).unwrap();
                assert_eq!(sel.data(), Some(&b"one"[..]), "[{name}]");
            }
            drop(c);
            // Completed, never polled again, dropped: the buffer goes back.
            let mut fut = h.run_select(RecvSelect::new(Fd::shared(r.clone()), &br), &br);
            assert!(poll_once(&mut fut).is_pending());
            w.write_all(b"two").unwrap();
            settle(&h, name);
            assert_eq!(br.held(), 0);
            drop(fut);
            assert_eq!(br.available().unwrap() as u32, N, "[{name}] the unpolled completion's buffer is back");
            // In flight, dropped, then data: whatever the cancel's race, the buffer comes back.
            let mut fut = h.run_select(RecvSelect::new(Fd::shared(r.clone()), &br), &br);
            assert!(poll_once(&mut fut).is_pending());
            h.drive().unwrap();
            drop(fut);
            w.write_all(b"three").unwrap();
            settle(&h, name);
            assert_eq!((br.held(), br.available().unwrap() as u32), (0, N), "[{name}] after the in-flight drop");
            assert_eq!(Arc::strong_count(&r), 1, "[{name}]");
        });
    });
}
