//! Network operations on the real kernel, over 127.0.0.1 and socketpairs: socket, bind, listen,
//! accept (plain, multishot, direct), connect, send/recv, sendto, sendmsg/recvmsg (incl.
//! multishot with a provided-buffer group), multishot recv, zero-copy sends and shutdown.

mod common;

use std::collections::BTreeSet;
use std::io::{IoSlice, Read, Write};
use std::net::{Shutdown as StdShutdown, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::time::Duration;

use rustix::net::{RecvFlags, ReturnFlags, SendFlags, SocketAddrAny, SocketFlags};
use uring::buf::RecvMsgOut;
use uring::op::{self, BufGroupId, DestSlot, Fixed, SockAddrBuf};
use uring::uapi;
use uring::{Cqe, Errno, FdSqe, Probe, Ring, SafeSqe};

/// Whether every opcode in `ops` is supported; otherwise reports the test skipped.
fn supported(ring: &Ring, test: &str, ops: &[(u8, &str)]) -> bool {
    let probe = Probe::of(ring).expect("probe");
    for &(code, what) in ops {
        if !probe.is_supported(code) {
            common::skip(test, format!("kernel lacks {what}"));
            return false;
        }
    }
    true
}

/// Submits what is queued and reaps the next completion (failing after 5 s).
fn next(ring: &mut Ring) -> Cqe {
    ring.submit().expect("submit");
    ring.wait_cqe_timeout(Duration::from_secs(5)).expect("a completion within 5 s")
}

/// Pushes an entry that points at no caller memory.
fn push(ring: &mut Ring, sqe: SafeSqe) {
    ring.sq().push(&sqe).expect("SQ space");
}

/// Pushes an entry that points at caller memory.
///
/// # Safety
/// What the entry points at must stay valid until its (final) completion is reaped.
unsafe fn push_raw(ring: &mut Ring, sqe: uring::Sqe) {
    // SAFETY: the caller's contract.
    unsafe { ring.sq().push_raw(&sqe) }.expect("SQ space");
}

/// Runs one entry that points at no memory and returns its completion.
fn run(ring: &mut Ring, sqe: SafeSqe) -> Cqe {
    push(ring, sqe);
    next(ring)
}

/// Pushes an entry that names fds.
///
/// # Safety
/// The fds it names must stay open until its (final) completion is reaped.
unsafe fn push_fd(ring: &mut Ring, sqe: FdSqe) {
    // SAFETY: the caller's contract.
    unsafe { ring.sq().push_fd(&sqe) }.expect("SQ space");
}

/// Cancels the request with `user_data` and reaps completions until its final one.
fn cancel_and_reap(ring: &mut Ring, user_data: u64) {
    push(ring, op::AsyncCancel::user_data(user_data).build().user_data(u64::MAX));
    loop {
        let cqe = next(ring);
        if cqe.user_data() == user_data && !cqe.more() {
            return;
        }
    }
}

fn tcp_pair() -> (TcpStream, TcpStream) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let c = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    let (s, _) = l.accept().unwrap();
    (c, s)
}

/// Registers a sparse table of `nr` fixed files (`IORING_REGISTER_FILES2` with
/// `IORING_RSRC_REGISTER_SPARSE`).
fn register_sparse_files(ring: &Ring, nr: u32) -> std::io::Result<u32> {
    let reg = uapi::io_uring_rsrc_register { nr, flags: uapi::IORING_RSRC_REGISTER_SPARSE, ..Default::default() };
    // SAFETY: `reg` is a valid io_uring_rsrc_register of the size passed; a sparse table
    // references no memory.
    unsafe {
        ring.submitter().register_raw(
            uapi::IORING_REGISTER_FILES2,
            &reg as *const uapi::io_uring_rsrc_register as *const libc::c_void,
            core::mem::size_of::<uapi::io_uring_rsrc_register>() as u32,
        )
    }
}

/// Registers one fixed buffer (`IORING_REGISTER_BUFFERS`).
///
/// # Safety
/// `buf` must stay valid and unmoved while registered (until the ring is dropped).
unsafe fn register_buffer(ring: &Ring, buf: &mut [u8]) -> std::io::Result<u32> {
    let iov = libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: buf.len() };
    // SAFETY: one valid iovec; the caller keeps the buffer alive while registered.
    unsafe {
        ring.submitter().register_raw(
            uapi::IORING_REGISTER_BUFFERS,
            &iov as *const libc::iovec as *const libc::c_void,
            1,
        )
    }
}

/// Provides `nr` buffers of `len` bytes from `mem` to legacy group `bgid` (ids from 0).
fn provide(ring: &mut Ring, mem: &mut [u8], len: u32, nr: u32, bgid: u16) {
    let sqe = op::ProvideBuffers::new(mem, len, nr, bgid, 0).unwrap().build().user_data(0xB0F);
    // SAFETY: every caller keeps `mem` alive until the ring is dropped, which is after every
    // operation that can consume the buffers.
    unsafe { push_raw(ring, sqe) };
    let cqe = next(ring);
    assert_eq!((cqe.user_data(), cqe.result()), (0xB0F, Ok(0)), "PROVIDE_BUFFERS");
}

fn zeroed_msghdr() -> libc::msghdr {
    // SAFETY: `msghdr` is integers and raw pointers; all-zero (null pointers) is valid.
    unsafe { core::mem::zeroed() }
}

/// socket + bind + listen through the ring; a client then connects and is accepted.
#[test]
fn socket_bind_listen() {
    let mut ring = Ring::new(8).unwrap();
    let ops = [
        (op::Socket::CODE, "IORING_OP_SOCKET (5.19)"),
        (op::Bind::CODE, "IORING_OP_BIND (6.11)"),
        (op::Listen::CODE, "IORING_OP_LISTEN (6.11)"),
    ];
    if !supported(&ring, "socket_bind_listen", &ops) {
        return;
    }
    let cqe =
        run(&mut ring, op::Socket::new(libc::AF_INET, libc::SOCK_STREAM, 0).sock_flags(SocketFlags::CLOEXEC).build());
    let raw = cqe.result().expect("socket") as i32;
    // SAFETY: the kernel just created this descriptor for us; nothing else owns it.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    let flags = rustix::io::fcntl_getfd(&fd).unwrap();
    assert!(flags.contains(rustix::io::FdFlags::CLOEXEC), "SOCK_CLOEXEC applied");

    let addr = SocketAddrAny::from("127.0.0.1:0".parse::<SocketAddr>().unwrap());
    let sqe = op::Bind::new(&fd, &addr).build().user_data(2);
    // SAFETY: `addr` outlives the completion reaped just below.
    unsafe { push_raw(&mut ring, sqe) };
    assert_eq!(next(&mut ring).result(), Ok(0), "bind");
    // SAFETY: `fd` stays open until the completion is reaped just below.
    unsafe { push_fd(&mut ring, op::Listen::new(&fd, 8).build()) };
    assert_eq!(next(&mut ring).result(), Ok(0), "listen");

    let listener = TcpListener::from(fd);
    let local = listener.local_addr().unwrap();
    assert_eq!(local.ip().to_string(), "127.0.0.1");
    assert_ne!(local.port(), 0, "bound to an ephemeral port");
    let mut client = TcpStream::connect(local).expect("the socket listens");
    let (mut server, peer) = listener.accept().unwrap();
    assert_eq!(peer, client.local_addr().unwrap());
    client.write_all(b"ping").unwrap();
    let mut got = [0u8; 4];
    server.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"ping");
}

/// socket into direct descriptors: a chosen slot and an allocated one; the slots work as
/// sockets (connect through them).
#[test]
fn socket_direct() {
    let mut ring = Ring::new(8).unwrap();
    let ops = [(op::Socket::CODE, "IORING_OP_SOCKET (5.19)"), (op::Connect::CODE, "IORING_OP_CONNECT")];
    if !supported(&ring, "socket_direct", &ops) {
        return;
    }
    register_sparse_files(&ring, 4).expect("sparse file table");
    let sock = op::Socket::new(libc::AF_INET, libc::SOCK_STREAM, 0);
    assert_eq!(run(&mut ring, sock.dest(DestSlot::Fixed(3)).build()).result(), Ok(0), "socket_direct");
    let alloc = run(&mut ring, sock.dest(DestSlot::Alloc).build()).result().expect("socket_direct_alloc");
    assert!(alloc < 3, "allocated slot {alloc} is a free one");

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let to = SocketAddrAny::from(listener.local_addr().unwrap());
    for slot in [3, alloc] {
        let sqe = op::Connect::new(Fixed(slot), &to).build();
        // SAFETY: `to` outlives the completion reaped just below.
        unsafe { push_raw(&mut ring, sqe) };
        assert_eq!(next(&mut ring).result(), Ok(0), "connect through slot {slot}");
        listener.accept().expect("a connection from the direct socket");
    }
}

/// connect + accept (with the peer address) through the ring, then send and receive bytes both
/// ways (recv with POLL_FIRST, send with MSG_NOSIGNAL).
#[test]
fn connect_accept_send_recv() {
    let mut ring = Ring::new(8).unwrap();
    let ops = [
        (op::Accept::CODE, "IORING_OP_ACCEPT"),
        (op::Connect::CODE, "IORING_OP_CONNECT"),
        (op::Send::CODE, "IORING_OP_SEND"),
        (op::Recv::CODE, "IORING_OP_RECV"),
    ];
    if !supported(&ring, "connect_accept_send_recv", &ops) {
        return;
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client_fd =
        rustix::net::socket(rustix::net::AddressFamily::INET, rustix::net::SocketType::STREAM, None).unwrap();
    let to = SocketAddrAny::from(listener.local_addr().unwrap());
    let mut peer = SockAddrBuf::new();

    let (peer_storage, peer_len) = peer.parts_mut();
    let accept = op::Accept::new(&listener).peer_addr(peer_storage, peer_len).build().user_data(1);
    let connect = op::Connect::new(&client_fd, &to).build().user_data(2);
    // SAFETY: `peer` and `to` outlive both completions, reaped in this function.
    unsafe {
        push_raw(&mut ring, accept);
        push_raw(&mut ring, connect);
    }
    let mut accepted = None;
    for _ in 0..2 {
        let cqe = next(&mut ring);
        match cqe.user_data() {
            1 => accepted = Some(cqe.result().expect("accept")),
            2 => assert_eq!(cqe.result(), Ok(0), "connect"),
            u => panic!("unexpected completion {u}"),
        }
    }
    // SAFETY: the accept just created this descriptor; nothing else owns it.
    let server = unsafe { OwnedFd::from_raw_fd(accepted.unwrap() as i32) };
    let client = TcpStream::from(client_fd);
    assert_eq!(peer.socket_addr(), Some(client.local_addr().unwrap()), "accept reported the peer address");
    assert_eq!(peer.len(), core::mem::size_of::<libc::sockaddr_in>());

    // client -> server
    let msg = b"hello over io_uring";
    let send = op::Send::new(&client, msg).unwrap().msg_flags(SendFlags::NOSIGNAL).build().user_data(3);
    let mut buf = [0u8; 64];
    let recv = op::Recv::new(&server, &mut buf).unwrap().poll_first().build().user_data(4);
    // SAFETY: `msg` and `buf` outlive both completions, reaped below.
    unsafe {
        push_raw(&mut ring, recv);
        push_raw(&mut ring, send);
    }
    let mut got = 0;
    for _ in 0..2 {
        let cqe = next(&mut ring);
        match cqe.user_data() {
            3 => assert_eq!(cqe.result(), Ok(msg.len() as u32), "send"),
            4 => got = cqe.result().expect("recv") as usize,
            u => panic!("unexpected completion {u}"),
        }
    }
    assert_eq!(&buf[..got], msg);

    // server -> client, WAITALL across two writes.
    let mut buf2 = [0u8; 6];
    let recv = op::Recv::new(&client, &mut buf2).unwrap().msg_flags(RecvFlags::WAITALL).build().user_data(5);
    // SAFETY: `buf2` outlives the completion reaped below.
    unsafe { push_raw(&mut ring, recv) };
    ring.submit().unwrap();
    let mut s = TcpStream::from(server);
    s.write_all(b"abc").unwrap();
    std::thread::sleep(Duration::from_millis(10));
    s.write_all(b"def").unwrap();
    let cqe = next(&mut ring);
    assert_eq!((cqe.user_data(), cqe.result()), (5, Ok(6)));
    assert_eq!(&buf2, b"abcdef");
}

/// Multishot accept: three clients, three completions, each with F_MORE and a socket connected
/// to one of the clients.
#[test]
fn accept_multishot() {
    let mut ring = Ring::new(8).unwrap();
    if !supported(&ring, "accept_multishot", &[(op::Accept::CODE, "IORING_OP_ACCEPT")]) {
        return;
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    // SAFETY: `listener` stays open until the accept's final completion is reaped (by
    // `cancel_and_reap` at the end, or on the skip path its first completion was the last).
    unsafe {
        push_fd(&mut ring, op::Accept::new(&listener).multishot().sock_flags(SocketFlags::CLOEXEC).build().user_data(7))
    };
    ring.submit().unwrap();
    let clients: Vec<TcpStream> = (0..3).map(|_| TcpStream::connect(listener.local_addr().unwrap()).unwrap()).collect();
    let mut peers = BTreeSet::new();
    for i in 0..3 {
        let cqe = next(&mut ring);
        if i == 0 && cqe.result() == Err(Errno::INVAL) {
            common::skip("accept_multishot", "kernel lacks IORING_ACCEPT_MULTISHOT (5.19)");
            return;
        }
        assert_eq!(cqe.user_data(), 7);
        assert!(cqe.more(), "completion {i} keeps the accept armed (F_MORE)");
        // SAFETY: the accept just created this descriptor; nothing else owns it.
        let s = TcpStream::from(unsafe { OwnedFd::from_raw_fd(cqe.result().expect("accept") as i32) });
        peers.insert(s.peer_addr().unwrap());
    }
    let expected: BTreeSet<_> = clients.iter().map(|c| c.local_addr().unwrap()).collect();
    assert_eq!(peers, expected, "one accepted socket per client");
    cancel_and_reap(&mut ring, 7);
}

/// Accept into direct descriptors of a sparse fixed-file table: a chosen slot, then multishot
/// with allocated slots; data flows through the slots.
#[test]
fn accept_direct() {
    let mut ring = Ring::new(8).unwrap();
    let ops = [
        (op::Accept::CODE, "IORING_OP_ACCEPT"),
        (op::Recv::CODE, "IORING_OP_RECV"),
        (op::Send::CODE, "IORING_OP_SEND"),
    ];
    if !supported(&ring, "accept_direct", &ops) {
        return;
    }
    if let Err(e) = register_sparse_files(&ring, 8) {
        common::skip("accept_direct", format!("sparse file table refused: {e}"));
        return;
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();

    // accept_direct into slot 2.
    // SAFETY: `listener` stays open until the completion is reaped just below.
    unsafe { push_fd(&mut ring, op::Accept::new(&listener).dest(DestSlot::Fixed(2)).build()) };
    ring.submit().unwrap();
    let mut c0 = TcpStream::connect(addr).unwrap();
    assert_eq!(next(&mut ring).result(), Ok(0), "accept_direct into slot 2");
    c0.write_all(b"direct").unwrap();
    let mut buf = [0u8; 16];
    let recv = op::Recv::new(Fixed(2), &mut buf).unwrap().build();
    // SAFETY: `buf` outlives the completion reaped below.
    unsafe { push_raw(&mut ring, recv) };
    let n = next(&mut ring).result().expect("recv through slot 2") as usize;
    assert_eq!(&buf[..n], b"direct");

    // multishot_accept_direct: allocated slots.
    // SAFETY: `listener` stays open until the accept's final completion is reaped by
    // `cancel_and_reap` at the end.
    unsafe { push_fd(&mut ring, op::Accept::new(&listener).multishot().dest(DestSlot::Alloc).build().user_data(9)) };
    ring.submit().unwrap();
    let mut clients: Vec<TcpStream> = (0..2).map(|_| TcpStream::connect(addr).unwrap()).collect();
    let mut slots = BTreeSet::new();
    for _ in 0..2 {
        let cqe = next(&mut ring);
        assert_eq!(cqe.user_data(), 9);
        assert!(cqe.more(), "multishot direct accept stays armed");
        let slot = cqe.result().expect("multishot accept direct");
        assert!(slot < 8 && slot != 2, "slot {slot} is a free slot of the table");
        slots.insert(slot);
    }
    assert_eq!(slots.len(), 2);
    // Each slot sends its number; the clients together receive both.
    let msgs: Vec<[u8; 1]> = slots.iter().map(|&s| [b'0' + s as u8]).collect();
    for (slot, m) in slots.iter().zip(&msgs) {
        let send = op::Send::new(Fixed(*slot), m).unwrap().build();
        // SAFETY: `msgs` outlives the completion reaped below.
        unsafe { push_raw(&mut ring, send) };
        assert_eq!(next(&mut ring).result(), Ok(1));
    }
    let mut got = BTreeSet::new();
    for c in &mut clients {
        let mut b = [0u8; 1];
        c.read_exact(&mut b).unwrap();
        got.insert(b[0]);
    }
    assert_eq!(got, msgs.iter().map(|m| m[0]).collect::<BTreeSet<_>>());
    cancel_and_reap(&mut ring, 9);
}

/// sendto on an unconnected UDP socket: the datagram arrives from the sender's address.
#[test]
fn sendto_udp() {
    let mut ring = Ring::new(4).unwrap();
    if !supported(&ring, "sendto_udp", &[(op::Send::CODE, "IORING_OP_SEND")]) {
        return;
    }
    let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let to = SocketAddrAny::from(rx.local_addr().unwrap());
    let sqe = op::Send::new(&tx, b"datagram").unwrap().to(&to).build();
    // SAFETY: the buffer is static and `to` outlives the completion reaped below.
    unsafe { push_raw(&mut ring, sqe) };
    let cqe = next(&mut ring);
    if cqe.result() == Err(Errno::INVAL) || cqe.result() == Err(Errno::from_raw(libc::EDESTADDRREQ)) {
        common::skip("sendto_udp", "kernel lacks a destination address on IORING_OP_SEND (6.1)");
        return;
    }
    assert_eq!(cqe.result(), Ok(8));
    rx.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = [0u8; 32];
    let (n, from) = rx.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"datagram");
    assert_eq!(from, tx.local_addr().unwrap());
}

/// A vectorized send (IORING_SEND_VECTORIZED) to a UDP destination: one datagram, the buffers
/// concatenated.
#[test]
fn send_vectored() {
    let mut ring = Ring::new(4).unwrap();
    if !supported(&ring, "send_vectored", &[(op::SendVectored::CODE, "IORING_OP_SEND")]) {
        return;
    }
    let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let to = SocketAddrAny::from(rx.local_addr().unwrap());
    let (a, b) = (*b"vec", *b"tored");
    let iov = [IoSlice::new(&a), IoSlice::new(&b)];
    let sqe = op::SendVectored::new(&tx, &iov).unwrap().to(&to).build();
    // SAFETY: `iov`, its buffers and `to` outlive the completion reaped below.
    unsafe { push_raw(&mut ring, sqe) };
    let cqe = next(&mut ring);
    if cqe.result() == Err(Errno::INVAL) {
        common::skip("send_vectored", "kernel lacks IORING_SEND_VECTORIZED (6.17)");
        return;
    }
    assert_eq!(cqe.result(), Ok(8));
    rx.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = [0u8; 32];
    let (n, from) = rx.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"vectored");
    assert_eq!(from, tx.local_addr().unwrap());
}

/// sendmsg with a destination and two iovecs; recvmsg fills the name, the data and the flags.
#[test]
fn sendmsg_recvmsg() {
    let mut ring = Ring::new(4).unwrap();
    let ops = [(op::SendMsg::CODE, "IORING_OP_SENDMSG"), (op::RecvMsg::CODE, "IORING_OP_RECVMSG")];
    if !supported(&ring, "sendmsg_recvmsg", &ops) {
        return;
    }
    let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let to = SocketAddrAny::from(rx.local_addr().unwrap());

    let (a, b) = (*b"two ", *b"parts");
    let mut iov_out = [
        libc::iovec { iov_base: a.as_ptr() as *mut libc::c_void, iov_len: a.len() },
        libc::iovec { iov_base: b.as_ptr() as *mut libc::c_void, iov_len: b.len() },
    ];
    let mut out = zeroed_msghdr();
    out.msg_name = to.as_ptr() as *mut libc::c_void;
    out.msg_namelen = to.addr_len();
    out.msg_iov = iov_out.as_mut_ptr();
    out.msg_iovlen = 2;

    let mut name = rustix::net::addr::SocketAddrStorage::zeroed();
    let mut data = [0u8; 8];
    let mut iov_in = [libc::iovec { iov_base: data.as_mut_ptr().cast(), iov_len: data.len() }];
    let mut inp = zeroed_msghdr();
    inp.msg_name = (&mut name as *mut rustix::net::addr::SocketAddrStorage).cast();
    inp.msg_namelen = core::mem::size_of::<rustix::net::addr::SocketAddrStorage>() as libc::socklen_t;
    inp.msg_iov = iov_in.as_mut_ptr();
    inp.msg_iovlen = 1;

    let recv = op::RecvMsg::new(&rx, &mut inp).build().user_data(1);
    let send = op::SendMsg::new(&tx, &out).build().user_data(2);
    // SAFETY: both msghdrs and everything they point at (names, iovecs, buffers) live until
    // both completions are reaped below.
    unsafe {
        push_raw(&mut ring, recv);
        push_raw(&mut ring, send);
    }
    let mut received = 0;
    for _ in 0..2 {
        let cqe = next(&mut ring);
        match cqe.user_data() {
            1 => received = cqe.result().expect("recvmsg"),
            2 => assert_eq!(cqe.result(), Ok(9), "sendmsg"),
            u => panic!("unexpected completion {u}"),
        }
    }
    // The 9-byte datagram did not fit the 8-byte buffer.
    assert_eq!(received, 8);
    assert_eq!(&data, b"two part");
    assert_ne!(inp.msg_flags & libc::MSG_TRUNC, 0, "MSG_TRUNC reported in the msghdr");
    assert_eq!(inp.msg_namelen as usize, core::mem::size_of::<libc::sockaddr_in>());
    let got = op::decode_sockaddr_at(&name, inp.msg_namelen).and_then(|a| std::net::SocketAddr::try_from(a).ok());
    assert_eq!(got, Some(tx.local_addr().unwrap()), "recvmsg wrote the source address");
}

/// Multishot recvmsg on UDP with a legacy provided-buffer group and IP_PKTINFO: each
/// datagram's buffer parses into source address, control message and payload; a long datagram
/// is reported truncated; running out of buffers ends the operation with ENOBUFS.
#[test]
fn recvmsg_multishot() {
    const BUF: usize = 256;
    const NR: usize = 4;
    // Declared before the ring, so it is freed after it.
    let mut mem = vec![0u8; BUF * NR];
    let mut ring = Ring::new(16).unwrap();
    let ops =
        [(op::RecvMsgMultishot::CODE, "IORING_OP_RECVMSG"), (op::ProvideBuffers::CODE, "IORING_OP_PROVIDE_BUFFERS")];
    if !supported(&ring, "recvmsg_multishot", &ops) {
        return;
    }
    let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let one: libc::c_int = 1;
    // SAFETY: a valid fd and a c_int option value of the size passed.
    let rc = unsafe {
        libc::setsockopt(
            rx.as_raw_fd(),
            libc::IPPROTO_IP,
            libc::IP_PKTINFO,
            &one as *const libc::c_int as *const libc::c_void,
            core::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0, "IP_PKTINFO");

    provide(&mut ring, &mut mem, BUF as u32, NR as u32, 5);

    let namelen = core::mem::size_of::<libc::sockaddr_in>() as u32;
    // SAFETY: CMSG_SPACE only computes a size.
    let controllen = unsafe { libc::CMSG_SPACE(core::mem::size_of::<libc::in_pktinfo>() as u32) };
    let mut msg = zeroed_msghdr();
    msg.msg_namelen = namelen;
    msg.msg_controllen = controllen as _;
    let sqe = op::RecvMsgMultishot::new(&rx, &msg, &BufGroupId(5)).unwrap().build().user_data(77);
    // SAFETY: `msg` and the group's memory `mem` live until the ring is dropped at the end of
    // this function, after the final completion.
    unsafe { push_raw(&mut ring, sqe) };
    ring.submit().unwrap();

    let payload_room = BUF - 16 - namelen as usize - controllen as usize;
    let long = vec![b'L'; payload_room + 50];
    let datagrams: [&[u8]; 4] = [b"one", b"two", b"three", &long];
    let mut bids = BTreeSet::new();
    for (i, d) in datagrams.iter().enumerate() {
        tx.send_to(d, rx.local_addr().unwrap()).unwrap();
        let cqe = next(&mut ring);
        assert_eq!(cqe.user_data(), 77);
        let res = cqe.result().unwrap_or_else(|e| panic!("datagram {i}: {e:?}")) as usize;
        assert!(cqe.more(), "datagram {i}: the receive stays armed (F_MORE)");
        let bid = cqe.buffer_id().expect("a provided buffer") as usize;
        assert!(bids.insert(bid), "buffer {bid} used once");
        let buf = &mem[bid * BUF..bid * BUF + res];
        let out = RecvMsgOut::parse(buf, namelen, controllen).expect("a well-formed buffer");
        assert_eq!(out.source_addr(), Some(tx.local_addr().unwrap()), "datagram {i}: source");
        assert!(!out.name_truncated());
        let pktinfo: Vec<_> =
            out.cmsgs().filter(|c| c.level() == libc::IPPROTO_IP && c.cmsg_type() == libc::IP_PKTINFO).collect();
        assert_eq!(pktinfo.len(), 1, "datagram {i}: one IP_PKTINFO control message");
        let data = pktinfo[0].data();
        assert!(data.len() >= core::mem::size_of::<libc::in_pktinfo>());
        assert_eq!(&data[8..12], &[127, 0, 0, 1], "ipi_addr is the destination 127.0.0.1");
        if d.len() <= payload_room {
            assert_eq!(out.payload(), *d);
            assert!(!out.payload_truncated());
        } else {
            assert_eq!(out.payload().len(), payload_room);
            assert!(out.payload().iter().all(|&b| b == b'L'));
            assert!(out.payload_truncated(), "MSG_TRUNC on the long datagram");
            assert!(out.flags().contains(ReturnFlags::TRUNC));
            assert_eq!(res, BUF, "the buffer is full");
        }
    }
    // All four buffers are used: the next datagram ends the operation with ENOBUFS.
    tx.send_to(b"no room", rx.local_addr().unwrap()).unwrap();
    let cqe = next(&mut ring);
    assert_eq!((cqe.user_data(), cqe.result()), (77, Err(Errno::NOBUFS)));
    assert!(!cqe.more(), "ENOBUFS ends the multishot receive");
}

/// Multishot recv on a datagram socketpair with a legacy group: F_MORE on every completion but
/// the last, which is ENOBUFS once the group is empty.
#[test]
fn recv_multishot() {
    const BUF: usize = 64;
    // Declared before the ring, so it is freed after it.
    let mut mem = vec![0u8; BUF * 3];
    let mut ring = Ring::new(16).unwrap();
    let ops = [(op::RecvMultishot::CODE, "IORING_OP_RECV"), (op::ProvideBuffers::CODE, "IORING_OP_PROVIDE_BUFFERS")];
    if !supported(&ring, "recv_multishot", &ops) {
        return;
    }
    let (a, b) = UnixDatagram::pair().unwrap();
    provide(&mut ring, &mut mem, BUF as u32, 3, 9);
    let msgs: [&[u8]; 3] = [b"first", b"second", b"third one"];
    for m in msgs {
        b.send(m).unwrap();
    }
    let sqe = op::RecvMultishot::new(&a, &BufGroupId(9)).unwrap().build().user_data(5);
    // SAFETY: the group's memory `mem` lives until the ring is dropped, after the final
    // completion.
    unsafe { push_raw(&mut ring, sqe) };
    let mut got = Vec::new();
    for i in 0..3 {
        let cqe = next(&mut ring);
        if i == 0 && cqe.result() == Err(Errno::INVAL) {
            common::skip("recv_multishot", "kernel lacks IORING_RECV_MULTISHOT (6.0)");
            return;
        }
        assert!(cqe.more(), "completion {i} has F_MORE");
        let n = cqe.result().expect("recv") as usize;
        let bid = cqe.buffer_id().expect("buffer id") as usize;
        got.push(mem[bid * BUF..bid * BUF + n].to_vec());
    }
    assert_eq!(got, msgs.iter().map(|m| m.to_vec()).collect::<Vec<_>>());
    b.send(b"fourth").unwrap();
    let cqe = next(&mut ring);
    assert_eq!((cqe.user_data(), cqe.result()), (5, Err(Errno::NOBUFS)));
    assert!(!cqe.more(), "the last completion has no F_MORE");
}

/// A single recv taking its buffer from a legacy group, and a recvmsg doing the same: the data
/// lands in the buffer the completion names.
#[test]
fn recv_select() {
    const BUF: usize = 32;
    // Declared before the ring, so it is freed after it.
    let mut mem = vec![0u8; BUF * 2];
    let mut ring = Ring::new(8).unwrap();
    let ops = [
        (op::RecvSelect::CODE, "IORING_OP_RECV"),
        (op::RecvMsg::CODE, "IORING_OP_RECVMSG"),
        (op::ProvideBuffers::CODE, "IORING_OP_PROVIDE_BUFFERS"),
    ];
    if !supported(&ring, "recv_select", &ops) {
        return;
    }
    provide(&mut ring, &mut mem, BUF as u32, 2, 4);
    let (a, mut b) = UnixStream::pair().unwrap();
    b.write_all(b"selected").unwrap();
    let sqe = op::RecvSelect::new(&a, &BufGroupId(4)).unwrap().build().user_data(1);
    // SAFETY: the group's memory `mem` lives until the ring is dropped.
    unsafe { push_raw(&mut ring, sqe) };
    let cqe = next(&mut ring);
    let n = cqe.result().expect("recv") as usize;
    let bid = cqe.buffer_id().expect("a buffer id") as usize;
    assert_eq!(&mem[bid * BUF..bid * BUF + n], b"selected");

    // recvmsg with a selected buffer: an empty iovec, so the buffer size bounds the receive.
    b.write_all(b"via recvmsg").unwrap();
    let mut msg = zeroed_msghdr();
    let sqe = op::RecvMsg::new(&a, &mut msg).buf_group(&BufGroupId(4)).unwrap().build().user_data(2);
    // SAFETY: `msg` and the group's memory live until the completion is reaped below.
    unsafe { push_raw(&mut ring, sqe) };
    let cqe = next(&mut ring);
    let n = cqe.result().expect("recvmsg") as usize;
    let bid2 = cqe.buffer_id().expect("a buffer id") as usize;
    assert_ne!(bid, bid2, "the other buffer");
    assert_eq!(&mem[bid2 * BUF..bid2 * BUF + n], b"via recvmsg");
}

/// Multishot recv with a total byte limit (`optlen`): the completion reaching the limit ends the
/// operation.
#[test]
fn recv_multishot_limit() {
    const BUF: usize = 64;
    // Declared before the ring, so it is freed after it.
    let mut mem = vec![0u8; BUF * 4];
    let mut ring = Ring::new(16).unwrap();
    let ops = [(op::RecvMultishot::CODE, "IORING_OP_RECV"), (op::ProvideBuffers::CODE, "IORING_OP_PROVIDE_BUFFERS")];
    if !supported(&ring, "recv_multishot_limit", &ops) {
        return;
    }
    let (a, mut b) = UnixStream::pair().unwrap();
    provide(&mut ring, &mut mem, BUF as u32, 4, 3);
    let sqe = op::RecvMultishot::new(&a, &BufGroupId(3)).unwrap().limit(10).build().user_data(6);
    // SAFETY: the group's memory `mem` lives until the ring is dropped, after the final
    // completion.
    unsafe { push_raw(&mut ring, sqe) };
    ring.submit().unwrap();
    b.write_all(b"123456").unwrap();
    let cqe = next(&mut ring);
    if cqe.result() == Err(Errno::INVAL) {
        common::skip("recv_multishot_limit", "kernel lacks the multishot recv byte limit (sqe.optlen, 6.17)");
        return;
    }
    assert_eq!(cqe.result(), Ok(6));
    assert!(cqe.more(), "6 of 10 bytes: still armed");
    b.write_all(b"abcdef").unwrap();
    let cqe = next(&mut ring);
    let n = cqe.result().expect("second recv");
    assert!(n == 4 || n == 6, "the second receive got {n} bytes");
    assert!(!cqe.more(), "the limit was reached: no F_MORE");
    common::note("recv_multishot_limit", format!("the completion reaching the limit carried {n} bytes"));
}

/// send_zc: the result with F_MORE, then the F_NOTIF notification (with REPORT_USAGE); the peer
/// receives the data. Also from a registered buffer (send_zc_fixed).
#[test]
fn send_zc() {
    // Registered below; declared before the ring, so it is freed after it.
    let mut reg = vec![0u8; 8192];
    let mut ring = Ring::new(8).unwrap();
    if !supported(&ring, "send_zc", &[(op::SendZc::CODE, "IORING_OP_SEND_ZC (6.0)")]) {
        return;
    }
    let (client, mut server) = tcp_pair();
    let data: Vec<u8> = (0..4096u32).map(|i| i as u8).collect();
    let sqe = op::SendZc::new(&client, &data).unwrap().report_usage().build().user_data(11);
    // SAFETY: `data` lives until the notification completion is reaped below.
    unsafe { push_raw(&mut ring, sqe) };
    let first = next(&mut ring);
    assert_eq!((first.user_data(), first.result()), (11, Ok(4096)));
    assert!(first.more(), "a notification follows (F_MORE)");
    assert!(!first.is_notification());
    let notif = next(&mut ring);
    assert_eq!(notif.user_data(), 11);
    assert!(notif.is_notification(), "the second completion is the F_NOTIF notification");
    assert!(!notif.more());
    // The usage report is a flag word in `res` (bit 31 set means copied), not a count or an
    // errno, so it is read raw.
    let usage = notif.raw_result() as u32;
    assert!(usage == 0 || usage == uapi::IORING_NOTIF_USAGE_ZC_COPIED, "usage report {usage:#x}");
    common::note("send_zc", format!("loopback data {}", if usage == 0 { "sent without copy" } else { "copied" }));
    let mut got = vec![0u8; 4096];
    server.read_exact(&mut got).unwrap();
    assert_eq!(got, data);

    // send_zc_fixed: a slice of a registered buffer.
    reg[100..110].copy_from_slice(b"registered");
    // SAFETY: `reg` is neither moved nor freed before the ring is dropped.
    if let Err(e) = unsafe { register_buffer(&ring, &mut reg) } {
        common::skip("send_zc", format!("the fixed-buffer part: buffer registration refused: {e}"));
        return;
    }
    let sqe = op::SendZc::new(&client, &reg[100..110]).unwrap().fixed_buf(0).build().user_data(12);
    // SAFETY: `reg` stays registered and alive until the ring is dropped.
    unsafe { push_raw(&mut ring, sqe) };
    let first = next(&mut ring);
    assert_eq!((first.user_data(), first.result()), (12, Ok(10)));
    assert!(first.more());
    assert!(next(&mut ring).is_notification());
    let mut got = [0u8; 10];
    server.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"registered");
}

/// send_zc with a notification `user_data` (`sqe.addr3`, Linux 7.2): the send's result comes
/// with the entry's `user_data`, the notification with the one given. Older kernels refuse a
/// non-zero `addr3` with EINVAL (reported as skipped).
#[test]
fn send_zc_notification_user_data() {
    const TEST: &str = "send_zc_notification_user_data";
    let mut ring = Ring::new(8).unwrap();
    if !supported(&ring, TEST, &[(op::SendZc::CODE, "IORING_OP_SEND_ZC (6.0)")]) {
        return;
    }
    let (client, mut server) = tcp_pair();
    let data = *b"notified apart";
    let sqe = op::SendZc::new(&client, &data).unwrap().notif_user_data(0x6e6f_7469).build().user_data(31);
    // SAFETY: `data` and `client` live until the notification (or the lone failure) is reaped.
    unsafe { push_raw(&mut ring, sqe) };
    let first = next(&mut ring);
    assert_eq!(first.user_data(), 31, "the send's own completion keeps the entry's user_data");
    if first.result() == Err(Errno::INVAL) {
        assert!(!first.more(), "a refused send posts no notification");
        common::skip(TEST, "kernel refuses a notification user_data in sqe->addr3 (Linux 7.2)");
        return;
    }
    assert_eq!(first.result(), Ok(data.len() as u32));
    assert!(first.more(), "a notification follows");
    let notif = next(&mut ring);
    assert!(notif.is_notification());
    assert_eq!(notif.user_data(), 0x6e6f_7469, "the notification carries the user_data given");
    let mut got = [0u8; 14];
    server.read_exact(&mut got).unwrap();
    assert_eq!(&got, &data);
}

/// sendmsg_zc: result with F_MORE, then the notification; the peer receives the iovecs.
#[test]
fn sendmsg_zc() {
    let mut ring = Ring::new(8).unwrap();
    if !supported(&ring, "sendmsg_zc", &[(op::SendMsgZc::CODE, "IORING_OP_SENDMSG_ZC (6.1)")]) {
        return;
    }
    let (client, mut server) = tcp_pair();
    let (a, b) = (*b"zero-", *b"copy msg");
    let mut iov = [
        libc::iovec { iov_base: a.as_ptr() as *mut libc::c_void, iov_len: a.len() },
        libc::iovec { iov_base: b.as_ptr() as *mut libc::c_void, iov_len: b.len() },
    ];
    let mut msg = zeroed_msghdr();
    msg.msg_iov = iov.as_mut_ptr();
    msg.msg_iovlen = 2;
    let sqe = op::SendMsgZc::new(&client, &msg).build().user_data(21);
    // SAFETY: `msg`, `iov` and the buffers live until the notification is reaped below.
    unsafe { push_raw(&mut ring, sqe) };
    let first = next(&mut ring);
    assert_eq!((first.user_data(), first.result()), (21, Ok(13)));
    assert!(first.more());
    let notif = next(&mut ring);
    assert!(notif.is_notification() && !notif.more());
    let mut got = [0u8; 13];
    server.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"zero-copy msg");
}

/// Plain SEND from a registered buffer (IORING_RECVSEND_FIXED_BUF): only newer kernels.
#[test]
fn send_fixed_buf() {
    // Registered below; declared before the ring, so it is freed after it.
    let mut reg = *b"fixed-buffer-send";
    let mut ring = Ring::new(4).unwrap();
    if !supported(&ring, "send_fixed_buf", &[(op::Send::CODE, "IORING_OP_SEND")]) {
        return;
    }
    let (a, mut b) = UnixStream::pair().unwrap();
    // SAFETY: `reg` is neither moved nor freed before the ring is dropped.
    if let Err(e) = unsafe { register_buffer(&ring, &mut reg) } {
        common::skip("send_fixed_buf", format!("buffer registration refused: {e}"));
        return;
    }
    let sqe = op::Send::new(&a, &reg[..5]).unwrap().fixed_buf(0).build();
    // SAFETY: `reg` stays alive until the ring is dropped at the end of this function.
    unsafe { push_raw(&mut ring, sqe) };
    let cqe = next(&mut ring);
    if cqe.result() == Err(Errno::INVAL) {
        common::skip(
            "send_fixed_buf",
            "kernel rejects IORING_RECVSEND_FIXED_BUF on plain IORING_OP_SEND (added after 6.18)",
        );
        return;
    }
    assert_eq!(cqe.result(), Ok(5));
    let mut got = [0u8; 5];
    b.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"fixed");
}

/// shutdown(SHUT_WR) through the ring: the peer reads end of file; the other direction still
/// works.
#[test]
fn shutdown() {
    let mut ring = Ring::new(4).unwrap();
    if !supported(&ring, "shutdown", &[(op::Shutdown::CODE, "IORING_OP_SHUTDOWN (5.11)")]) {
        return;
    }
    let (mut a, mut b) = UnixStream::pair().unwrap();
    a.write_all(b"last words").unwrap();
    // SAFETY: `a` stays open until the completion is reaped just below.
    unsafe { push_fd(&mut ring, op::Shutdown::new(&a, StdShutdown::Write).build()) };
    assert_eq!(next(&mut ring).result(), Ok(0));
    let mut rest = Vec::new();
    b.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    b.read_to_end(&mut rest).expect("the peer reads to EOF");
    assert_eq!(rest, b"last words");
    assert_eq!(b.read(&mut [0u8; 4]).unwrap(), 0, "EOF");
    assert!(a.write_all(b"x").is_err(), "writes fail after SHUT_WR");
    b.write_all(b"back").unwrap();
    let mut got = [0u8; 4];
    a.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"back");
}
