//! Generic uring_cmd encoders on a real target: socket commands on TCP sockets.

mod common;

use std::io::Write;
use std::net::{TcpListener, TcpStream};

use uring::op::{Target, UringCmd, UringCmd128};
use uring::uapi::*;
use uring::{Probe, Ring};

/// `SOCKET_URING_OP_SIOCINQ` / `SIOCOUTQ` through `IORING_OP_URING_CMD`: the queued byte counts,
/// compared with what was sent.
#[test]
fn socket_siocinq_siocoutq() {
    let mut ring = Ring::new(4).unwrap();
    if !Probe::of(&ring).unwrap().is_supported(UringCmd::CODE) {
        common::skip("socket_siocinq_siocoutq", "kernel lacks IORING_OP_URING_CMD");
        return;
    }
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut client = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    let (server, _) = l.accept().unwrap();
    client.write_all(b"hello").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(10));
    let sqe = UringCmd::new(&server, SOCKET_URING_OP_SIOCINQ).build().user_data(1);
    // SAFETY: the command points at no memory.
    unsafe { ring.sq().push_raw(&sqe) }.unwrap();
    let cqe = ring.wait_cqe().unwrap();
    match cqe.result() {
        Ok(n) => assert_eq!(n, 5, "five bytes wait in the receive queue"),
        Err(e) if e == uring::Errno::OPNOTSUPP || e == uring::Errno::INVAL => {
            common::skip("socket_siocinq_siocoutq", format!("socket uring_cmd unsupported: {e}"));
            return;
        }
        Err(e) => panic!("{e}"),
    }
    let sqe = UringCmd::new(Target::from(&client), SOCKET_URING_OP_SIOCOUTQ).build();
    // SAFETY: as above.
    unsafe { ring.sq().push_raw(&sqe) }.unwrap();
    assert_eq!(ring.wait_cqe().unwrap().result(), Ok(0), "sent bytes were acknowledged on loopback");
}

/// A 128-byte command on an SQE128 ring reaches the socket too (its extra payload is unused).
#[test]
fn uring_cmd_128_on_sqe128_ring() {
    let mut ring = Ring::builder().sqe128().build(4).unwrap();
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut client = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    let (server, _) = l.accept().unwrap();
    client.write_all(b"abc").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(10));
    let sqe = UringCmd128::new(&server, SOCKET_URING_OP_SIOCINQ).payload(&[0xAAu8; 80]).unwrap().build();
    // SAFETY: the command points at no memory.
    unsafe { ring.sq().push128_raw(&sqe) }.unwrap();
    let cqe = ring.wait_cqe().unwrap();
    if cqe.result().is_err() {
        common::skip("uring_cmd_128_on_sqe128_ring", format!("socket uring_cmd unsupported: {:?}", cqe.result()));
        return;
    }
    assert_eq!(cqe.result(), Ok(3));
    // On a 64-byte ring the 128-byte command is refused before the kernel sees it.
    let mut small = Ring::new(4).unwrap();
    let sqe = UringCmd128::new(&server, SOCKET_URING_OP_SIOCINQ).build();
    // SAFETY: refused before anything is written.
    let e = unsafe { small.sq().push128_raw(&sqe) }.unwrap_err();
    assert_eq!(e, uring::PushError128::RingTooSmall);
}
