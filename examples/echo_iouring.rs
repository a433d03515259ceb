//! The echo server of `examples/echo_server.rs`, written with the `io-uring` crate (a
//! dev-dependency) instead of this crate, for the comparison in `benches/echo.sh`: one
//! multishot accept, one multishot receive per connection into a shared buffer ring
//! (`BufRingEntry`, recycled by hand), and at most one send per connection in flight; what
//! arrives meanwhile waits in the connection's output.
//!
//! Run: `cargo run --release --example echo_iouring -- 127.0.0.1:7879` serves until killed
//! (drive it with `cargo run --release --example echo_server -- --client 16 2000 127.0.0.1:7879`).

use std::net::TcpListener;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicU16, Ordering};

use io_uring::{cqueue, opcode, squeue, types, IoUring};

const ENTRIES: u32 = 256;
const BGID: u16 = 0;
const BUFFERS: u16 = 256;
const BUF_SIZE: u32 = 4096;

const ACCEPT: u64 = 0;
const RECV: u64 = 1;
const SEND: u64 = 2;

fn ud(kind: u64, conn: usize) -> u64 {
    (conn as u64) << 2 | kind
}

struct Conn {
    sock: OwnedFd,
    out: Vec<u8>,
    /// The bytes of the send in flight (kept alive until its completion).
    inflight: Vec<u8>,
    sending: bool,
    done: bool,
}

/// A provided-buffer ring in page-aligned memory, recycled by hand.
struct BufRing {
    ring: *mut types::BufRingEntry,
    pool: Vec<u8>,
    tail: u16,
}

impl BufRing {
    fn add(&mut self, bid: u16, off: u16) {
        // SAFETY: the slot index is masked to the ring, which lives as long as the server.
        let e = unsafe { &mut *self.ring.add((self.tail.wrapping_add(off) & (BUFFERS - 1)) as usize) };
        e.set_addr(self.pool.as_ptr() as u64 + bid as u64 * BUF_SIZE as u64);
        e.set_len(BUF_SIZE);
        e.set_bid(bid);
    }

    fn advance(&mut self, n: u16) {
        self.tail = self.tail.wrapping_add(n);
        // SAFETY: the tail overlays slot 0's `resv` in the live ring.
        let t = unsafe { &*(types::BufRingEntry::tail(self.ring) as *const AtomicU16) };
        t.store(self.tail, Ordering::Release);
    }
}

fn main() {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:7879".into());
    let listener = TcpListener::bind(&addr).unwrap_or_else(|e| panic!("bind {addr}: {e}"));
    eprintln!("echo_iouring: listening on {}", listener.local_addr().unwrap());
    if let Err(e) = serve(listener) {
        eprintln!("echo_iouring: {e}");
        std::process::exit(1);
    }
}

fn push(ring: &mut IoUring, e: &squeue::Entry) -> std::io::Result<()> {
    // SAFETY: every entry's memory (sockets, send buffers in `Conn::inflight`) outlives it.
    while unsafe { ring.submission().push(e) }.is_err() {
        ring.submit()?;
    }
    Ok(())
}

fn serve(listener: TcpListener) -> std::io::Result<()> {
    let mut ring = IoUring::new(ENTRIES)?;
    let bytes = BUFFERS as usize * 16;
    // SAFETY: a fresh anonymous mapping, never unmapped (the server runs until killed).
    let mem = unsafe {
        libc::mmap(
            core::ptr::null_mut(),
            bytes,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    assert_ne!(mem, libc::MAP_FAILED);
    // SAFETY: the ring memory lives as long as the process.
    unsafe { ring.submitter().register_buf_ring_with_flags(mem as u64, BUFFERS, BGID, 0) }?;
    let mut br = BufRing { ring: mem.cast(), pool: vec![0; BUFFERS as usize * BUF_SIZE as usize], tail: 0 };
    for bid in 0..BUFFERS {
        br.add(bid, bid);
    }
    br.advance(BUFFERS);
    let lfd = types::Fd(listener.as_raw_fd());
    push(&mut ring, &opcode::AcceptMulti::new(lfd).build().user_data(ud(ACCEPT, 0)))?;
    let mut conns: Vec<Option<Conn>> = Vec::new();
    let mut free: Vec<usize> = Vec::new();
    let mut cqes: Vec<cqueue::Entry> = Vec::with_capacity(ENTRIES as usize * 2);
    loop {
        ring.submit_and_wait(1)?;
        cqes.clear();
        cqes.extend(ring.completion());
        let mut recycled = 0u16;
        for cqe in &cqes {
            let (kind, key) = (cqe.user_data() & 3, (cqe.user_data() >> 2) as usize);
            let more = cqueue::more(cqe.flags());
            match kind {
                ACCEPT => {
                    if cqe.result() >= 0 {
                        // SAFETY: a new socket the kernel gave this process.
                        let sock = unsafe { OwnedFd::from_raw_fd(cqe.result()) };
                        let one: libc::c_int = 1;
                        // SAFETY: a valid option value for TCP_NODELAY.
                        unsafe {
                            libc::setsockopt(
                                sock.as_raw_fd(),
                                libc::IPPROTO_TCP,
                                libc::TCP_NODELAY,
                                (&one as *const libc::c_int).cast(),
                                4,
                            )
                        };
                        let key = free.pop().unwrap_or_else(|| {
                            conns.push(None);
                            conns.len() - 1
                        });
                        let fd = types::Fd(sock.as_raw_fd());
                        conns[key] =
                            Some(Conn { sock, out: Vec::new(), inflight: Vec::new(), sending: false, done: false });
                        push(&mut ring, &opcode::RecvMulti::new(fd, BGID).build().user_data(ud(RECV, key)))?;
                    }
                    if !more {
                        push(&mut ring, &opcode::AcceptMulti::new(lfd).build().user_data(ud(ACCEPT, 0)))?;
                    }
                }
                RECV => {
                    let conn = conns[key].as_mut().expect("a receive of a live connection");
                    if let Some(bid) = cqueue::buffer_select(cqe.flags()) {
                        let n = cqe.result().max(0) as usize;
                        let at = bid as usize * BUF_SIZE as usize;
                        conn.out.extend_from_slice(&br.pool[at..at + n]);
                        br.add(bid, recycled);
                        recycled += 1;
                    }
                    if !more {
                        if cqe.result() == -libc::ENOBUFS || cqe.result() > 0 {
                            let fd = types::Fd(conn.sock.as_raw_fd());
                            push(&mut ring, &opcode::RecvMulti::new(fd, BGID).build().user_data(ud(RECV, key)))?;
                        } else {
                            conn.done = true;
                        }
                    }
                    flush(&mut ring, &mut conns, &mut free, key)?;
                }
                _ => {
                    let conn = conns[key].as_mut().expect("a send of a live connection");
                    conn.sending = false;
                    let res = cqe.result();
                    if res < 0 {
                        conn.done = true;
                        conn.out.clear();
                    } else if (res as usize) < conn.inflight.len() {
                        let rest = conn.inflight[res as usize..].to_vec();
                        conn.out.splice(0..0, rest);
                    }
                    conn.inflight.clear();
                    flush(&mut ring, &mut conns, &mut free, key)?;
                }
            }
        }
        if recycled > 0 {
            br.advance(recycled);
        }
    }
}

/// Starts a send of what waits in the connection's output, or closes a finished connection.
fn flush(ring: &mut IoUring, conns: &mut [Option<Conn>], free: &mut Vec<usize>, key: usize) -> std::io::Result<()> {
    let conn = conns[key].as_mut().expect("a live connection");
    if conn.sending {
        return Ok(());
    }
    if conn.out.is_empty() {
        if conn.done {
            conns[key] = None;
            free.push(key);
        }
        return Ok(());
    }
    std::mem::swap(&mut conn.inflight, &mut conn.out);
    conn.sending = true;
    let e = opcode::Send::new(types::Fd(conn.sock.as_raw_fd()), conn.inflight.as_ptr(), conn.inflight.len() as u32)
        .build()
        .user_data(ud(SEND, key));
    push(ring, &e)
}
