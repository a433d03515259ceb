//! The echo server of `examples/echo_server.rs` without io_uring, for the comparison in
//! `benches/echo.sh`: the standard library's blocking sockets, one thread per connection that
//! reads what arrives and writes it back.
//!
//! Run: `cargo run --release --example echo_std -- 127.0.0.1:7880` serves until killed (drive
//! it with `cargo run --release --example echo_server -- --client 16 2000 127.0.0.1:7880`).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

fn main() {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:7880".into());
    let listener = TcpListener::bind(&addr).unwrap_or_else(|e| panic!("bind {addr}: {e}"));
    eprintln!("echo_std: listening on {}", listener.local_addr().unwrap());
    for sock in listener.incoming() {
        match sock {
            Ok(s) => {
                std::thread::spawn(move || echo(s));
            }
            Err(e) => eprintln!("echo_std: accept: {e}"),
        }
    }
}

/// Echoes until end of stream or an error (a reset).
fn echo(mut s: TcpStream) {
    let _ = s.set_nodelay(true);
    let mut buf = vec![0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if s.write_all(&buf[..n]).is_err() {
                    return;
                }
            }
        }
    }
}
