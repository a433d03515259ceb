//! Thread per core on the async layer: one ring per thread, nothing shared. Each thread binds
//! the same loopback address with `SO_REUSEPORT` (the kernel spreads connections over the
//! listeners) and runs `examples/async_echo.rs`'s echo server on its own handle and its own
//! tokio current-thread runtime. Then one load generator drives them, bounded.
//!
//! Run: `cargo run --release --example async_tpc -- [THREADS] [CONNECTIONS] [MESSAGES]`
//! (defaults: 2 threads, 32 connections, 500 messages of 64 bytes each).

#[path = "async_echo.rs"]
#[allow(dead_code)]
mod echo;

use std::net::{SocketAddr, TcpListener};
use std::time::{Duration, Instant};

use rustix::net::{sockopt, AddressFamily, SocketType};

type AnyError = Box<dyn std::error::Error + Send + Sync>;

/// A listener on `addr` with `SO_REUSEPORT`.
fn reuseport_listener(addr: SocketAddr) -> Result<TcpListener, AnyError> {
    let s = rustix::net::socket(AddressFamily::INET, SocketType::STREAM, None)?;
    sockopt::set_socket_reuseport(&s, true)?;
    rustix::net::bind(&s, &addr)?;
    rustix::net::listen(&s, 1024)?;
    Ok(TcpListener::from(s))
}

fn main() -> Result<(), AnyError> {
    let args: Vec<usize> = std::env::args().skip(1).map(|a| a.parse()).collect::<Result<_, _>>()?;
    let threads = args.first().copied().unwrap_or(2).max(1);
    let conns = args.get(1).copied().unwrap_or(32);
    let msgs = args.get(2).copied().unwrap_or(500);
    // The first listener picks a free port; the others join it.
    let first = reuseport_listener("127.0.0.1:0".parse()?)?;
    let addr = first.local_addr()?;
    let mut listeners = vec![first];
    for _ in 1..threads {
        listeners.push(reuseport_listener(addr)?);
    }
    for (i, l) in listeners.into_iter().enumerate() {
        // One ring, one runtime per thread: the handle never leaves it (it is `!Send`).
        std::thread::Builder::new().name(format!("ring-{i}")).spawn(move || {
            if let Err(e) = echo::serve_uring(l) {
                eprintln!("async_tpc: thread {i}: {e}");
                std::process::exit(1);
            }
        })?;
    }
    let l = echo::load(addr, conns, msgs, 64, Instant::now() + Duration::from_secs(10))?;
    println!(
        "async_tpc: {threads} threads, one ring each; {conns} connections x {msgs} messages: {} round trips in {:.2} s, \
         {:.0} msgs/s, p50 {:.1?}, p99 {:.1?}",
        l.msgs,
        l.secs,
        l.msgs as f64 / l.secs,
        l.p50,
        l.p99
    );
    if l.msgs < conns * msgs {
        return Err("stopped at the 10 s limit".into());
    }
    Ok(())
}
