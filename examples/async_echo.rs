//! A TCP echo server on the async layer (`uring::future`), on tokio's current-thread runtime:
//! one multishot accept, one multishot receive per connection into a shared buffer ring, and
//! sends, each connection a task of a `LocalSet`. No `unsafe` but the one line that registers
//! the ring's notifier with tokio.
//!
//! - `drive` is the whole tokio integration: it waits for the handle's notifier (an eventfd
//!   registered with the ring) to turn readable and calls `Handle::poll_drive`, which submits
//!   what the tasks pushed, reaps completions and wakes the tasks.
//! - Each receive stays armed; each completion is an item of the connection's stream, whose
//!   buffer (`Completion::select`) is copied into the connection's output and goes straight
//!   back to the ring; the output is sent (one send in flight per connection) and comes back
//!   with the send's completion, to be reused.
//! - A dropped stream or future (a connection that ends, a task that is aborted) cancels its
//!   operation; the ring keeps the memory until the kernel's final completion.
//!
//! With `--client N M`, it also starts a server on a free loopback port and a load generator:
//! N connections, each sending M messages of `--size` bytes (default 64) and waiting for each
//! echo, all driven round-robin from one thread; it prints the round trips per second and the
//! median and 99th-percentile latency. Bounded: at most `--seconds` (default 10). `--epoll`
//! serves with tokio's own epoll-based `TcpListener` instead (the benchmark's baseline:
//! `benches/async_echo.rs`). `--ring-client` generates the load with this crate's owned layer
//! instead of blocking sockets: each round's sends and receives in one submission (see
//! [`load_ring`]), so that the client, not only the server, spends little per message.
//!
//! Run:
//! - `cargo run --release --example async_echo` serves 127.0.0.1:7879 until killed
//! - `cargo run --release --example async_echo -- --client 64 1000` drives a server of its own
//! - `cargo run --release --example async_echo -- --client 64 1000 --epoll` the same, tokio's epoll

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::OwnedFd;
use std::rc::Rc;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use tokio::io::unix::AsyncFd;
use tokio::io::Interest;
use uring::buf::BufRing;
use uring::future::Handle;
use uring::owned::{AcceptMulti, Fd, FdOp, RecvMultishot};
use uring::{op, Builder, Errno};

type AnyError = Box<dyn std::error::Error + Send + Sync>;

const USAGE: &str =
    "usage: async_echo [ADDR] | async_echo --client N M [--size BYTES] [--seconds S] [--epoll] [--ring-client] [ADDR]";

/// SQ entries (the in-flight table has twice as many slots: an accept, and per connection a
/// receive and a send).
const ENTRIES: u32 = 256;
/// Buffer ring: group id, buffers, bytes per buffer.
const BGID: u16 = 0;
const BUFFERS: u32 = 512;
const BUF_SIZE: u32 = 4096;

#[allow(dead_code)]
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("--client") => client_main(&args[1..]),
        Some("-h" | "--help") => Err(USAGE.into()),
        addr => TcpListener::bind(addr.unwrap_or("127.0.0.1:7879")).map_err(Into::into).and_then(|l| {
            eprintln!("async_echo: listening on {}", l.local_addr()?);
            serve_uring(l)
        }),
    };
    if let Err(e) = result {
        eprintln!("async_echo: {e}");
        std::process::exit(1);
    }
}

/// Drives `h` from tokio: waits for its notifier to turn readable, then drives; woken also when
/// a task pushes an operation (to submit it). Runs until the runtime stops.
pub async fn drive(h: Handle) -> std::io::Result<()> {
    // SAFETY: the notifier holds a clone of the handle, which keeps its eventfd open; the
    // number it returns never changes.
    let afd =
        unsafe { AsyncFd::register_with_interest(h.notifier()?, Interest::READABLE) }.map_err(|e| e.into_parts().1)?;
    std::future::poll_fn(|cx| loop {
        // Submit what the tasks pushed, reap, wake the tasks (they run after this one).
        if let Poll::Ready(Err(e)) = h.poll_drive(cx) {
            return Poll::Ready(Err(e.into()));
        }
        match afd.poll_read_ready(cx) {
            Poll::Ready(Ok(mut ready)) => ready.clear_ready(),
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Pending => return Poll::Pending,
        }
    })
    .await
}

/// A handle for the server: COOP_TASKRUN + TASKRUN_FLAG (no interrupt of the thread for each
/// completion; the driver runs the task work when it enters the kernel) and SINGLE_ISSUER, or
/// the default setup where the kernel refuses it. `ASYNC_ECHO_SETUP=default|coop|defer`
/// chooses (DEFER_TASKRUN works but the kernel signals its notifier late: ~15 ms on 6.18, see
/// `uring::future`'s docs).
pub fn handle() -> Result<Handle, AnyError> {
    let b = match std::env::var("ASYNC_ECHO_SETUP").as_deref() {
        Ok("defer") => Builder::new().defer_taskrun(),
        Ok("default") => Builder::new(),
        _ => Builder::new().coop_taskrun().taskrun_flag().single_issuer(),
    };
    Ok(Handle::with_builder(b, ENTRIES).or_else(|_| Handle::new(ENTRIES))?)
}

/// Serves `listener` on this thread with the async layer, until the process ends.
pub fn serve_uring(listener: TcpListener) -> Result<(), AnyError> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_io().build()?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, async move {
        let h = handle()?;
        let br = h.buf_ring(BufRing::builder(BGID, BUFFERS, BUF_SIZE))?;
        let driver = tokio::task::spawn_local(drive(h.clone()));
        let accept =
            FdOp::new(listener, |l| op::Accept::new(l).multishot().sock_flags(rustix::net::SocketFlags::CLOEXEC));
        let mut conns = h.multishot(accept);
        while let Some(c) = conns.next().await {
            let mut c = c?;
            if let Some(sock) = c.take_fd() {
                tokio::task::spawn_local(connection(h.clone(), br.clone(), sock));
            } else if !c.more() {
                // The accept ended (an error): report it.
                let _: AcceptMulti = c.into_op().map_err(|_| "not the accept")?;
                return Err("the multishot accept ended".into());
            }
        }
        driver.abort();
        Ok(())
    })
}

/// One connection: echoes what arrives until the peer closes.
async fn connection(h: Handle, br: Rc<BufRing>, sock: OwnedFd) {
    let sock = TcpStream::from(sock);
    // As the epoll server's (and the load generator's) sockets: small echoes go out at once.
    if sock.set_nodelay(true).is_err() {
        return;
    }
    let sock = Arc::new(sock);
    let mut out: Vec<u8> = Vec::with_capacity(BUF_SIZE as usize);
    loop {
        let mut rx = h.multishot_select(RecvMultishot::new(Fd::shared(sock.clone()), &br), &br);
        while let Some(item) = rx.next().await {
            let Ok(mut c) = item else { return };
            match c.result() {
                Ok(0) => return,
                Ok(_) => {}
                // The buffer ring ran dry: the stream ends here; arm again.
                Err(Errno::NOBUFS) => continue,
                Err(_) => return,
            }
            if let Ok(sel) = c.select(&br) {
                out.extend_from_slice(sel.data().unwrap_or_default());
            } // the buffer is back in the ring
            while !out.is_empty() {
                let (r, send) = h.send(Fd::shared(sock.clone()), out).await;
                out = send.buf;
                match r {
                    Ok(n) => {
                        out.drain(..n as usize);
                    }
                    Err(_) => return,
                }
            }
        }
        // The stream ended without an end of file: re-arm (the multishot receive stops when
        // the ring runs dry or the CQ overflows).
    }
}

/// Serves `listener` with tokio's own epoll-based `TcpListener` (the baseline), until the
/// process ends.
pub fn serve_epoll(listener: TcpListener) -> Result<(), AnyError> {
    listener.set_nonblocking(true)?;
    let rt = tokio::runtime::Builder::new_current_thread().enable_io().build()?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, async move {
        let listener = tokio::net::TcpListener::from_std(listener)?;
        loop {
            let (s, _) = listener.accept().await?;
            s.set_nodelay(true)?;
            tokio::task::spawn_local(async move {
                let mut buf = vec![0u8; BUF_SIZE as usize];
                loop {
                    if s.readable().await.is_err() {
                        return;
                    }
                    let n = match s.try_read(&mut buf) {
                        Ok(0) => return,
                        Ok(n) => n,
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                        Err(_) => return,
                    };
                    let mut sent = 0;
                    while sent < n {
                        if s.writable().await.is_err() {
                            return;
                        }
                        match s.try_write(&buf[sent..n]) {
                            Ok(k) => sent += k,
                            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                            Err(_) => return,
                        }
                    }
                }
            });
        }
    })
}

/// One load run's outcome.
pub struct Load {
    /// Round trips finished.
    pub msgs: usize,
    /// Wall time.
    pub secs: f64,
    /// Median round-trip time.
    pub p50: Duration,
    /// 99th-percentile round-trip time.
    pub p99: Duration,
}

/// The load generator: `conns` connections to `addr`, each sending `msgs` messages of `size`
/// bytes and waiting for each echo; all driven round-robin from this thread (write on every
/// connection, then read every echo), so the client takes one core at most. Stops at
/// `deadline`.
pub fn load(addr: SocketAddr, conns: usize, msgs: usize, size: usize, deadline: Instant) -> Result<Load, AnyError> {
    let mut socks = Vec::with_capacity(conns);
    for _ in 0..conns {
        let s = TcpStream::connect(addr)?;
        s.set_nodelay(true)?;
        s.set_read_timeout(Some(Duration::from_secs(5)))?;
        socks.push(s);
    }
    let mut msg = vec![0u8; size];
    let mut echo = vec![0u8; size];
    let mut times = Vec::with_capacity(conns * msgs);
    let mut sent_at = vec![Instant::now(); conns];
    let start = Instant::now();
    for n in 0..msgs {
        if Instant::now() >= deadline {
            break;
        }
        for (i, s) in socks.iter_mut().enumerate() {
            msg.iter_mut().enumerate().for_each(|(k, b)| *b = (i + n + k) as u8);
            sent_at[i] = Instant::now();
            s.write_all(&msg)?;
        }
        for (i, s) in socks.iter_mut().enumerate() {
            s.read_exact(&mut echo)?;
            times.push(sent_at[i].elapsed());
            if echo.iter().enumerate().any(|(k, &b)| b != (i + n + k) as u8) {
                return Err(format!("connection {i}: message {n} came back changed").into());
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    times.sort_unstable();
    let pct = |p: usize| times.get((times.len() * p / 100).min(times.len().saturating_sub(1))).copied();
    let (Some(p50), Some(p99)) = (pct(50), pct(99)) else { return Err("no round trip finished".into()) };
    Ok(Load { msgs: times.len(), secs, p50, p99 })
}

/// The load generator on this crate's owned layer (`--ring-client`): the same work as [`load`]
/// (`conns` connections, each sending `msgs` messages of `size` bytes, one at a time, and
/// waiting for each echo), with each connection going on as soon as its echo is back (not in
/// rounds), a message's send and the receive of its echo (`MSG_WAITALL`, so the kernel
/// delivers whole messages) pushed together, and everything that is ready submitted and reaped
/// together: the client spends far less time per message than the blocking one, whose system
/// calls and sleeps per message can make the client, not the server, the bottleneck on a
/// small machine. A message's latency runs from its push to the reaping of its echo. Stops at
/// `deadline` (the messages in flight then finish).
pub fn load_ring(
    addr: SocketAddr,
    conns: usize,
    msgs: usize,
    size: usize,
    deadline: Instant,
) -> Result<Load, AnyError> {
    use std::os::fd::{AsRawFd, OwnedFd};
    use uring::owned::{OwnedRing, Recv, Send};
    let mut socks = Vec::with_capacity(conns);
    // Connection of each fd number (the operations come back with their fd).
    let mut conn_of = Vec::new();
    for i in 0..conns {
        let s = TcpStream::connect(addr)?;
        s.set_nodelay(true)?;
        let fd = s.as_raw_fd() as usize;
        if conn_of.len() <= fd {
            conn_of.resize(fd + 1, usize::MAX);
        }
        conn_of[fd] = i;
        socks.push(Arc::new(OwnedFd::from(s)));
    }
    let entries = (2 * conns).next_power_of_two() as u32;
    let b = Builder::new().single_issuer().defer_taskrun();
    let mut ring = OwnedRing::with_builder(b, entries).or_else(|_| OwnedRing::new(entries))?;
    let mut out: Vec<Option<Vec<u8>>> = (0..conns).map(|_| Some(vec![0u8; size])).collect();
    let mut echo: Vec<Option<Vec<u8>>> = (0..conns).map(|_| Some(vec![0u8; size])).collect();
    let mut times = Vec::with_capacity(conns * msgs);
    // Per connection: messages echoed, and when the one in flight was sent.
    let mut done = vec![0usize; conns];
    let mut sent_at = vec![Instant::now(); conns];
    // Pushes connection `i`'s next message (its send and the receive of its echo).
    let push = |ring: &mut OwnedRing,
                i: usize,
                out: &mut [Option<Vec<u8>>],
                echo: &mut [Option<Vec<u8>>],
                n: usize|
     -> Result<(), AnyError> {
        let mut msg = out[i].take().ok_or("a send still in flight")?;
        msg.iter_mut().enumerate().for_each(|(k, b)| *b = (i + n + k) as u8);
        let mut send = Send::new(Fd::shared(socks[i].clone()), msg);
        send.flags = rustix::net::SendFlags::NOSIGNAL;
        ring.push(send)?;
        let mut recv = Recv::new(Fd::shared(socks[i].clone()), echo[i].take().ok_or("a receive still in flight")?);
        recv.flags = rustix::net::RecvFlags::WAITALL;
        ring.push(recv)?;
        Ok(())
    };
    let start = Instant::now();
    for (i, at) in sent_at.iter_mut().enumerate() {
        push(&mut ring, i, &mut out, &mut echo, 0)?;
        *at = Instant::now();
    }
    // Connections whose message is in flight.
    let mut busy = conns;
    // Connections whose send and echo are both back, to go on with.
    let mut ready = Vec::with_capacity(conns);
    while busy > 0 {
        ring.submit_and_wait(1)?;
        let mut failed = None;
        ring.for_each_completion(|c| {
            let r = c.result();
            let c = match c.into_op::<Send>() {
                Ok(send) => {
                    let i = conn_of[send.fd.as_fd().map_or(0, |f| f.as_raw_fd() as usize)];
                    if r != Ok(size as u32) {
                        failed = Some(format!("connection {i}: send: {r:?}"));
                    }
                    out[i] = Some(send.buf);
                    if echo[i].is_some() {
                        ready.push(i);
                    }
                    return;
                }
                Err(c) => c,
            };
            let Ok(recv) = c.into_op::<Recv>() else { return };
            let i = conn_of[recv.fd.as_fd().map_or(0, |f| f.as_raw_fd() as usize)];
            times.push(sent_at[i].elapsed());
            if r != Ok(size as u32) {
                failed = Some(format!("connection {i}: receive: {r:?}"));
            } else if recv.buf.iter().enumerate().any(|(k, &b)| b != (i + done[i] + k) as u8) {
                failed = Some(format!("connection {i}: message {} came back changed", done[i]));
            }
            echo[i] = Some(recv.buf);
            done[i] += 1;
            if out[i].is_some() {
                ready.push(i);
            }
        });
        if let Some(e) = failed {
            return Err(e.into());
        }
        let late = Instant::now() >= deadline;
        for i in ready.drain(..) {
            if done[i] == msgs || late {
                busy -= 1;
                continue;
            }
            push(&mut ring, i, &mut out, &mut echo, done[i])?;
            sent_at[i] = Instant::now();
        }
    }
    let secs = start.elapsed().as_secs_f64();
    times.sort_unstable();
    let pct = |p: usize| times.get((times.len() * p / 100).min(times.len().saturating_sub(1))).copied();
    let (Some(p50), Some(p99)) = (pct(50), pct(99)) else { return Err("no round trip finished".into()) };
    Ok(Load { msgs: times.len(), secs, p50, p99 })
}

/// Starts a server (`epoll`: tokio's, else this layer) on a free loopback port, on its own
/// thread (it ends with the process); returns its address and the thread's id (for its CPU
/// time: [`thread_cpu`]).
pub fn spawn_server(epoll: bool) -> Result<(SocketAddr, i32), AnyError> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let a = listener.local_addr()?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        // SAFETY: gettid(2) has no preconditions.
        let _ = tx.send(unsafe { libc::gettid() });
        let r = if epoll { serve_epoll(listener) } else { serve_uring(listener) };
        if let Err(e) = r {
            eprintln!("async_echo: server: {e}");
            std::process::exit(1);
        }
    });
    Ok((a, rx.recv()?))
}

/// The CPU time a thread of this process has used so far (`/proc/self/task/TID/schedstat`).
pub fn thread_cpu(tid: i32) -> Duration {
    std::fs::read_to_string(format!("/proc/self/task/{tid}/schedstat"))
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|n| n.parse().ok()))
        .map(Duration::from_nanos)
        .unwrap_or_default()
}

fn client_main(args: &[String]) -> Result<(), AnyError> {
    let mut nums = Vec::new();
    let (mut size, mut seconds, mut addr, mut epoll, mut ring_client) = (64usize, 10u64, None, false, false);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--size" => size = it.next().ok_or(USAGE)?.parse()?,
            "--seconds" => seconds = it.next().ok_or(USAGE)?.parse()?,
            "--epoll" => epoll = true,
            "--ring-client" => ring_client = true,
            _ if nums.len() < 2 => nums.push(a.parse::<usize>()?),
            _ => addr = Some(a.parse::<SocketAddr>()?),
        }
    }
    let [conns, msgs] = nums[..] else { return Err(USAGE.into()) };
    if size == 0 {
        return Err("--size must be at least 1".into());
    }
    let addr = match addr {
        Some(a) => a,
        None => spawn_server(epoll)?.0,
    };
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let l = if ring_client {
        load_ring(addr, conns, msgs, size, deadline)?
    } else {
        load(addr, conns, msgs, size, deadline)?
    };
    println!(
        "{conns} connections x {msgs} messages of {size} bytes to {addr} ({}): {} round trips in {:.2} s, \
         {:.0} msgs/s, latency p50 {:.1?}, p99 {:.1?}",
        if epoll { "tokio epoll" } else { "uring::future" },
        l.msgs,
        l.secs,
        l.msgs as f64 / l.secs,
        l.p50,
        l.p99,
    );
    if l.msgs < conns * msgs {
        return Err(format!("stopped at the {seconds} s limit").into());
    }
    Ok(())
}
