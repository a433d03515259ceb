//! A TCP echo server over io_uring's owned layer (no `unsafe`): one multishot accept, one
//! multishot receive per connection into a shared buffer ring, and sends.
//!
//! - The accept stays armed and posts a completion per connection, each with the new socket
//!   as an `OwnedFd`.
//! - Each receive stays armed too; the kernel picks a buffer of the ring for every chunk it
//!   receives, and the completion hands that buffer out once (`Completion::select`). The bytes
//!   are copied into the connection's output and the buffer goes straight back to the ring.
//! - One send per connection is in flight at a time (two sends on a stream socket may complete
//!   out of order); what arrives meanwhile waits in the connection's output.
//!
//! With `--client N M`, it also starts N client connections (threads with blocking sockets) that
//! each send M messages and wait for each echo, then prints the round trips per second and the
//! median and 99th-percentile latency. The run is bounded: at most `--seconds` (default 10).
//!
//! Run:
//! - `cargo run --release --example echo_server` serves 127.0.0.1:7878 until killed
//!   (`cargo run --release --example echo_server -- 127.0.0.1:9000` elsewhere)
//! - `cargo run --release --example echo_server -- --client 16 2000` runs a server on a free
//!   loopback port and drives it (add an address to drive a server that already runs)

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use uring::buf::BufRing;
use uring::owned::{
    self, AcceptMulti, BufPool, Completion, Fd, FdOp, OpId, Operation, OwnedRing, RecvMultishot, Rejected,
};
use uring::{op, Errno, Error};

/// Submission queue entries; the in-flight table has twice as many slots: one for the accept
/// and two per connection (its receive and a send), so at most `MAX_CONNS` connections.
const ENTRIES: u32 = 256;
const MAX_CONNS: usize = ENTRIES as usize - 1;
/// Buffer ring: group id, buffers, bytes per buffer.
const BGID: u16 = 0;
const BUFFERS: u32 = 256;
const BUF_SIZE: u32 = 4096;

type AnyError = Box<dyn std::error::Error + Send + Sync>;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("--client") => client_main(&args[1..]),
        Some("-h" | "--help") => Err(USAGE.into()),
        addr => TcpListener::bind(addr.unwrap_or("127.0.0.1:7878")).map_err(Into::into).and_then(|l| {
            eprintln!("echo_server: listening on {}", l.local_addr()?);
            serve(l)
        }),
    };
    if let Err(e) = result {
        eprintln!("echo_server: {e}");
        std::process::exit(1);
    }
}

const USAGE: &str = "usage: echo_server [ADDR] | echo_server --client N M [--size BYTES] [--seconds S] [ADDR]";

// ---- the server

/// What an operation in flight is for.
enum Task {
    Accept,
    Recv(u64),
    Send(u64),
}

/// One client connection.
struct Conn {
    sock: Arc<TcpStream>,
    /// Bytes received and not yet handed to a send.
    out: Vec<u8>,
    /// A send is in flight.
    sending: bool,
    /// The receive has ended (end of stream or an error): close once the output is sent.
    done: bool,
}

struct Server {
    ring: OwnedRing,
    br: BufRing,
    tasks: HashMap<OpId, Task>,
    conns: HashMap<u64, Conn>,
    next_conn: u64,
    pool: BufPool,
}

fn serve(listener: TcpListener) -> Result<(), AnyError> {
    let mut ring = OwnedRing::new(ENTRIES)?;
    let br = ring.buf_ring(BufRing::builder(BGID, BUFFERS, BUF_SIZE))?;
    let mut s =
        Server { ring, br, tasks: HashMap::new(), conns: HashMap::new(), next_conn: 0, pool: BufPool::new(64, 0) };
    let accept = FdOp::new(listener, |l| op::Accept::new(l).multishot().sock_flags(rustix::net::SocketFlags::CLOEXEC));
    s.push(accept, Task::Accept)?;
    loop {
        s.ring.submit_and_wait(1)?;
        while let Some(c) = s.ring.next() {
            let Some(task) = c.id().and_then(|id| s.tasks.get(&id)) else { continue };
            match *task {
                Task::Accept => s.accepted(c)?,
                Task::Recv(conn) => s.received(conn, c)?,
                Task::Send(conn) => s.sent(conn, c)?,
            }
        }
    }
}

impl Server {
    /// Pushes `op` for `task`, submitting first if the submission queue is full.
    fn push<O: Operation>(&mut self, op: O, task: Task) -> Result<(), Error> {
        let id = match self.ring.push(op) {
            Err(Rejected { op, error: Error::SubmissionQueueFull }) => {
                self.ring.submit()?;
                self.ring.push(op)?
            }
            r => r?,
        };
        self.tasks.insert(id, task);
        Ok(())
    }

    /// Forgets the operation of `c` once its last completion has come.
    fn finish(&mut self, c: &Completion) {
        if !c.more() {
            self.tasks.remove(&c.id().expect("an owned operation"));
        }
    }

    fn accepted(&mut self, mut c: Completion) -> Result<(), AnyError> {
        self.finish(&c);
        match c.take_fd() {
            Some(_) if self.conns.len() >= MAX_CONNS => eprintln!("echo_server: too many connections, closing one"),
            Some(fd) => {
                let sock = Arc::new(TcpStream::from(fd));
                sock.set_nodelay(true)?;
                let key = self.next_conn;
                self.next_conn += 1;
                self.push(RecvMultishot::new(Fd::shared(sock.clone()), &self.br), Task::Recv(key))?;
                self.conns.insert(key, Conn { sock, out: Vec::new(), sending: false, done: false });
            }
            None => eprintln!("echo_server: accept: {}", c.result().map_or_else(|e| e.to_string(), |_| "no fd".into())),
        }
        if !c.more() {
            // The multishot accept ended (an error, or the kernel ran out of room): arm it again.
            let accept: AcceptMulti = c.into_op().map_err(|_| "not an accept")?;
            self.push(accept, Task::Accept)?;
        }
        Ok(())
    }

    fn received(&mut self, key: u64, mut c: Completion) -> Result<(), AnyError> {
        self.finish(&c);
        let conn = self.conns.get_mut(&key).expect("a receive of a live connection");
        // The kernel's buffer, handed out once: copy the bytes, and the guard returns the buffer
        // to the ring when it goes out of scope.
        if let Some(bytes) = c.select(&self.br)?.data() {
            conn.out.extend_from_slice(bytes);
        }
        if !c.more() {
            match c.result() {
                // The buffer ring ran dry, or the receive stopped with data: receive again.
                Err(Errno::NOBUFS) | Ok(1..) => {
                    let recv: RecvMultishot = c.into_op().map_err(|_| "not a receive")?;
                    self.push(recv, Task::Recv(key))?;
                }
                // End of stream, or an error (a reset): close once everything is sent.
                Ok(0) | Err(_) => conn.done = true,
            }
        }
        self.flush(key)
    }

    fn sent(&mut self, key: u64, c: Completion) -> Result<(), AnyError> {
        self.finish(&c);
        let res = c.result();
        let send: owned::Send = c.into_op().map_err(|_| "not a send")?;
        let conn = self.conns.get_mut(&key).expect("a send of a live connection");
        conn.sending = false;
        match res {
            // A short send: the rest goes first next time.
            Ok(n) if (n as usize) < send.buf.len() => {
                conn.out.splice(0..0, send.buf[n as usize..].iter().copied());
            }
            Ok(_) => {}
            Err(_) => (conn.done, conn.out) = (true, Vec::new()), // the peer is gone
        }
        self.pool.put(send.buf);
        self.flush(key)
    }

    /// Starts a send of what waits in the connection's output, or closes a finished connection.
    fn flush(&mut self, key: u64) -> Result<(), AnyError> {
        let conn = self.conns.get_mut(&key).expect("a live connection");
        if conn.sending {
            return Ok(());
        }
        if conn.out.is_empty() {
            if conn.done {
                self.conns.remove(&key); // the last holder of the socket: it closes
            }
            return Ok(());
        }
        let mut buf = self.pool.get();
        buf.clear();
        std::mem::swap(&mut buf, &mut conn.out);
        let send = owned::Send::new(Fd::shared(conn.sock.clone()), buf);
        conn.sending = true;
        Ok(self.push(send, Task::Send(key))?)
    }
}

// ---- the client

fn client_main(args: &[String]) -> Result<(), AnyError> {
    let mut nums = Vec::new();
    let (mut size, mut seconds, mut addr) = (64usize, 10u64, None);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--size" => size = it.next().ok_or(USAGE)?.parse()?,
            "--seconds" => seconds = it.next().ok_or(USAGE)?.parse()?,
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
        None => {
            // A server of our own on a free loopback port, on its own thread; it ends with the
            // process.
            let listener = TcpListener::bind("127.0.0.1:0")?;
            let a = listener.local_addr()?;
            std::thread::spawn(move || {
                if let Err(e) = serve(listener) {
                    eprintln!("echo_server: server: {e}");
                    std::process::exit(1);
                }
            });
            a
        }
    };
    let start = Instant::now();
    let deadline = start + Duration::from_secs(seconds);
    let threads: Vec<_> =
        (0..conns).map(|i| std::thread::spawn(move || client(addr, i, msgs, size, deadline))).collect();
    let mut latencies = Vec::with_capacity(conns * msgs);
    for t in threads {
        latencies.extend(t.join().map_err(|_| "a client thread panicked")??);
    }
    let secs = start.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let pct = |p: usize| latencies.get((latencies.len() * p / 100).min(latencies.len().saturating_sub(1)));
    let (Some(p50), Some(p99)) = (pct(50), pct(99)) else { return Err("no round trip finished".into()) };
    println!(
        "{conns} connections x {msgs} messages of {size} bytes to {addr}: {} round trips in {secs:.2} s, \
         {:.0} msgs/s, latency p50 {p50:.1?}, p99 {p99:.1?}",
        latencies.len(),
        latencies.len() as f64 / secs,
    );
    if latencies.len() < conns * msgs {
        return Err(format!("stopped at the {seconds} s limit").into());
    }
    Ok(())
}

/// One connection: `msgs` messages of `size` bytes, each sent after the echo of the one
/// before; returns each round trip's time. Stops at `deadline`.
fn client(addr: SocketAddr, id: usize, msgs: usize, size: usize, deadline: Instant) -> Result<Vec<Duration>, AnyError> {
    let mut s = TcpStream::connect(addr)?;
    s.set_nodelay(true)?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    let (mut msg, mut echo) = (vec![0u8; size], vec![0u8; size]);
    let mut times = Vec::with_capacity(msgs);
    for n in 0..msgs {
        if Instant::now() >= deadline {
            break;
        }
        msg.iter_mut().enumerate().for_each(|(k, b)| *b = (id + n + k) as u8);
        let t = Instant::now();
        s.write_all(&msg)?;
        s.read_exact(&mut echo)?;
        times.push(t.elapsed());
        if echo != msg {
            return Err(format!("connection {id}: message {n} came back changed").into());
        }
    }
    Ok(times)
}
