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
        common::skip(
            "uring_cmd_128_on_sqe128_ring",
            format!("kernel refused a socket uring_cmd (SIOCINQ): {}", cqe.result().unwrap_err()),
        );
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

// ---- typed socket commands (uring::cmd::socket), each compared with the matching syscall ----

use std::net::UdpSocket;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::time::{Duration, Instant};

use uring::cmd::socket::{
    opt, GetSockName, GetSockOpt, Linger, SetSockOpt, SiocInq, SiocOutq, SockAddrBuf, SockOpt, TxTimestamp,
    SCM_TSTAMP_SCHED, SCM_TSTAMP_SND,
};
use uring::cmd::{self, SqeLayout};
use uring::{Errno, Error, Sqe};

/// Submits one entry that points at memory kept alive by the caller until this returns, and
/// waits for its completion.
fn run(ring: &mut Ring, sqe: &Sqe) -> Result<u32, Errno> {
    // SAFETY: every caller keeps the memory the entry points at alive across this call, which
    // waits for the completion.
    unsafe { ring.sq().push_raw(sqe) }.unwrap();
    ring.submit_and_wait(1).unwrap();
    ring.wait_cqe().unwrap().result()
}

/// Whether the socket uring_cmd family works at all (Linux 6.7); skips the caller otherwise.
fn socket_cmds(test: &str, ring: &mut Ring) -> bool {
    if !Probe::of(ring).unwrap().is_supported(UringCmd::CODE) {
        common::skip(test, "kernel lacks IORING_OP_URING_CMD");
        return false;
    }
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    // SAFETY: `s` stays open until the request's final completion is reaped below.
    unsafe { ring.sq().push_fd(&SiocInq::new(&s).build()) }.unwrap();
    ring.submit_and_wait(1).unwrap();
    match ring.wait_cqe().unwrap().result() {
        Ok(_) => true,
        Err(e) => {
            common::skip(test, format!("socket uring_cmd unsupported (Linux 6.7+): {e}"));
            false
        }
    }
}

/// `getsockopt(2)` through libc: the value and the length written back.
fn sys_getsockopt<T: uring::Pod + Default>(fd: impl AsRawFd, o: SockOpt<T>) -> (T, u32) {
    let mut v = T::default();
    let mut len = core::mem::size_of::<T>() as libc::socklen_t;
    // SAFETY: `v` has room for `len` bytes; `len` is a valid in/out length.
    let r = unsafe {
        libc::getsockopt(fd.as_raw_fd(), o.level(), o.name(), &mut v as *mut T as *mut libc::c_void, &mut len)
    };
    assert_eq!(r, 0, "getsockopt: {}", std::io::Error::last_os_error());
    (v, len)
}

/// `setsockopt(2)` through libc.
fn sys_setsockopt<T: uring::Pod>(fd: impl AsRawFd, o: SockOpt<T>, v: &T) {
    // SAFETY: `v` is `size_of::<T>()` readable bytes.
    let r = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            o.level(),
            o.name(),
            v as *const T as *const libc::c_void,
            core::mem::size_of::<T>() as u32,
        )
    };
    assert_eq!(r, 0, "setsockopt: {}", std::io::Error::last_os_error());
}

fn uring_getsockopt<T: uring::Pod + Default>(
    ring: &mut Ring,
    fd: BorrowedFd<'_>,
    o: SockOpt<T>,
) -> Result<(T, u32), Errno> {
    let mut v = T::default();
    let sqe = GetSockOpt::new(fd, o, &mut v).build();
    let len = run(ring, &sqe)?;
    Ok((v, len))
}

fn uring_setsockopt<T: uring::Pod>(ring: &mut Ring, fd: BorrowedFd<'_>, o: SockOpt<T>, v: &T) -> Result<u32, Errno> {
    run(ring, &SetSockOpt::new(fd, o, v).build())
}

/// `SOCKET_URING_OP_GETSOCKOPT` / `SETSOCKOPT` on TCP and UDP sockets: every value and length
/// read through io_uring equals what `getsockopt(2)` reports, and every value set through
/// io_uring is what `getsockopt(2)` then reads (and the other way round).
#[test]
fn sockopt_matches_syscalls() {
    let mut ring = Ring::new(8).unwrap();
    if !socket_cmds("sockopt_matches_syscalls", &mut ring) {
        return;
    }
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let tcp = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    for (name, fd) in [("tcp", tcp.as_fd()), ("udp", udp.as_fd()), ("listener", l.as_fd())] {
        for o in [
            opt::RCVBUF,
            opt::SNDBUF,
            opt::REUSEADDR,
            opt::KEEPALIVE,
            opt::TYPE,
            opt::PROTOCOL,
            opt::DOMAIN,
            opt::ERROR,
            opt::ACCEPTCONN,
            opt::RCVLOWAT,
            opt::PRIORITY,
        ] {
            let via_uring = uring_getsockopt(&mut ring, fd, o).unwrap();
            assert_eq!(via_uring, sys_getsockopt(fd, o), "{name}: option {}", o.name());
        }
        let lin = uring_getsockopt(&mut ring, fd, opt::LINGER).unwrap();
        assert_eq!(lin, sys_getsockopt(fd, opt::LINGER), "{name}: SO_LINGER");
        assert_eq!(lin.1, 8);

        // Set through io_uring, read back through the syscall.
        assert_eq!(uring_setsockopt(&mut ring, fd, opt::RCVBUF, &65536), Ok(0));
        assert_eq!(sys_getsockopt(fd, opt::RCVBUF).0, 2 * 65536, "{name}: the kernel doubles SO_RCVBUF");
        assert_eq!(uring_setsockopt(&mut ring, fd, opt::SNDBUF, &32768), Ok(0));
        assert_eq!(sys_getsockopt(fd, opt::SNDBUF).0, 2 * 32768);
        for v in [1, 0] {
            assert_eq!(uring_setsockopt(&mut ring, fd, opt::REUSEADDR, &v), Ok(0));
            assert_eq!(sys_getsockopt(fd, opt::REUSEADDR).0, v);
            assert_eq!(uring_setsockopt(&mut ring, fd, opt::KEEPALIVE, &v), Ok(0));
            assert_eq!(sys_getsockopt(fd, opt::KEEPALIVE).0, v);
        }
        let lin = Linger { l_onoff: 1, l_linger: 7 };
        assert_eq!(uring_setsockopt(&mut ring, fd, opt::LINGER, &lin), Ok(0));
        assert_eq!(sys_getsockopt(fd, opt::LINGER).0, lin);
        // Set through the syscall, read through io_uring.
        sys_setsockopt(fd, opt::RCVLOWAT, &3);
        assert_eq!(uring_getsockopt(&mut ring, fd, opt::RCVLOWAT).unwrap(), (3, 4));
        // The kernel's errors match too: an option value that is too short.
        let two = [0u8; 2];
        let short = SetSockOpt::raw(fd, libc::SOL_SOCKET, libc::SO_RCVBUF, two.as_ptr(), 2).build();
        assert_eq!(run(&mut ring, &short), Err(Errno::INVAL), "{name}: optlen < sizeof(int)");
    }

    // TCP_NODELAY (level IPPROTO_TCP): settable through io_uring; the kernel reads only
    // SOL_SOCKET options this way, so getting it fails with EOPNOTSUPP (recorded).
    let fd = tcp.as_fd();
    for v in [1, 0, 1] {
        assert_eq!(uring_setsockopt(&mut ring, fd, opt::TCP_NODELAY, &v), Ok(0));
        assert_eq!(sys_getsockopt(fd, opt::TCP_NODELAY).0, v);
    }
    assert_eq!(uring_setsockopt(&mut ring, fd, opt::TCP_KEEPIDLE, &77), Ok(0));
    assert_eq!(sys_getsockopt(fd, opt::TCP_KEEPIDLE).0, 77);
    match uring_getsockopt(&mut ring, fd, opt::TCP_NODELAY) {
        Err(e) => {
            assert_eq!(e, Errno::OPNOTSUPP);
            common::note("sockopt_matches_syscalls", "GETSOCKOPT at level IPPROTO_TCP: EOPNOTSUPP (SOL_SOCKET only)");
        }
        Ok(v) => {
            assert_eq!(v, sys_getsockopt(fd, opt::TCP_NODELAY));
            common::note("sockopt_matches_syscalls", "GETSOCKOPT at level IPPROTO_TCP is supported by this kernel");
        }
    }
    // An unknown option: the same errno as the syscall (ENOPROTOOPT).
    let mut v = 0i32;
    let sqe = GetSockOpt::new(&udp, SockOpt::<i32>::new(libc::SOL_SOCKET, 9999), &mut v).build();
    assert_eq!(run(&mut ring, &sqe), Err(Errno::from_raw(libc::ENOPROTOOPT)));
}

fn ioctl_int(fd: impl AsRawFd, req: libc::c_ulong) -> i32 {
    let mut v: libc::c_int = -1;
    // SAFETY: both requests write one int.
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), req as _, &mut v) };
    assert_eq!(r, 0, "ioctl: {}", std::io::Error::last_os_error());
    v
}

/// `SOCKET_URING_OP_SIOCINQ` / `SIOCOUTQ` through the typed encoders on UDP and TCP, compared
/// with `ioctl(SIOCINQ)` / `ioctl(SIOCOUTQ)`.
#[test]
fn siocinq_siocoutq_match_ioctl() {
    let mut ring = Ring::new(8).unwrap();
    if !socket_cmds("siocinq_siocoutq_match_ioctl", &mut ring) {
        return;
    }
    let query = |ring: &mut Ring, fd: BorrowedFd<'_>| {
        // SAFETY: `fd` is borrowed until both completions are reaped below.
        unsafe { ring.sq().push_fd(&SiocInq::new(fd).build().user_data(1)) }.unwrap();
        // SAFETY: as above.
        unsafe { ring.sq().push_fd(&SiocOutq::new(fd).build().user_data(2)) }.unwrap();
        ring.submit_and_wait(2).unwrap();
        let mut out = [0i32; 2];
        for _ in 0..2 {
            let c = ring.wait_cqe().unwrap();
            out[c.user_data() as usize - 1] = c.result().unwrap() as i32;
        }
        (out[0], out[1])
    };
    // UDP: SIOCINQ is the size of the first queued datagram.
    let a = UdpSocket::bind("127.0.0.1:0").unwrap();
    let b = UdpSocket::bind("127.0.0.1:0").unwrap();
    assert_eq!(query(&mut ring, b.as_fd()), (0, 0));
    a.send_to(&[1u8; 100], b.local_addr().unwrap()).unwrap();
    a.send_to(&[2u8; 33], b.local_addr().unwrap()).unwrap();
    std::thread::sleep(Duration::from_millis(20));
    let (inq, outq) = query(&mut ring, b.as_fd());
    assert_eq!(inq, 100);
    assert_eq!(
        (inq, outq),
        (ioctl_int(b.as_raw_fd(), libc::FIONREAD as _), ioctl_int(b.as_raw_fd(), libc::TIOCOUTQ as _))
    );
    // TCP: bytes in the receive queue.
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut client = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    let (server, _) = l.accept().unwrap();
    client.write_all(&[7u8; 1234]).unwrap();
    std::thread::sleep(Duration::from_millis(20));
    let (inq, outq) = query(&mut ring, server.as_fd());
    assert_eq!(inq, 1234);
    assert_eq!(
        (inq, outq),
        (ioctl_int(server.as_raw_fd(), libc::FIONREAD as _), ioctl_int(server.as_raw_fd(), libc::TIOCOUTQ as _))
    );
    let (_, outq) = query(&mut ring, client.as_fd());
    assert_eq!(outq, ioctl_int(client.as_raw_fd(), libc::TIOCOUTQ as _));
}

/// `SOCKET_URING_OP_GETSOCKNAME` (Linux 6.19): own and peer names of TCP and UDP sockets equal
/// `getsockname(2)` / `getpeername(2)`.
#[test]
fn getsockname_matches_syscalls() {
    let mut ring = Ring::new(8).unwrap();
    if !socket_cmds("getsockname_matches_syscalls", &mut ring) {
        return;
    }
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    let mut buf = SockAddrBuf::new();
    let sqe = GetSockName::new(&client, &mut buf).build();
    match run(&mut ring, &sqe) {
        Ok(0) => {}
        Err(e) if e == Errno::OPNOTSUPP || e == Errno::INVAL => {
            common::skip(
                "getsockname_matches_syscalls",
                format!("kernel lacks SOCKET_URING_OP_GETSOCKNAME (Linux 6.19): {e}"),
            );
            return;
        }
        other => panic!("getsockname: {other:?}"),
    }
    assert_eq!(buf.socket_addr(), Some(client.local_addr().unwrap()));
    assert_eq!(buf.len(), core::mem::size_of::<libc::sockaddr_in>());
    let mut peer = SockAddrBuf::new();
    assert_eq!(run(&mut ring, &GetSockName::new(&client, &mut peer).peer().build()), Ok(0));
    assert_eq!(peer.socket_addr(), Some(client.peer_addr().unwrap()));
    let mut lname = SockAddrBuf::new();
    assert_eq!(run(&mut ring, &GetSockName::new(&l, &mut lname).build()), Ok(0));
    assert_eq!(lname.socket_addr(), Some(l.local_addr().unwrap()));
    // IPv6 UDP, and the peer of an unconnected socket: ENOTCONN, like getpeername(2).
    if let Ok(u6) = UdpSocket::bind("[::1]:0") {
        let mut n = SockAddrBuf::new();
        assert_eq!(run(&mut ring, &GetSockName::new(&u6, &mut n).build()), Ok(0));
        assert_eq!(n.socket_addr(), Some(u6.local_addr().unwrap()));
        let mut p = SockAddrBuf::new();
        assert_eq!(run(&mut ring, &GetSockName::new(&u6, &mut p).peer().build()), Err(Errno::NOTCONN));
    }
}

fn realtime_ns() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
}

/// `SOCKET_URING_OP_TX_TIMESTAMP` (Linux 6.16): software transmit timestamps of UDP datagrams
/// arrive as 32-byte completions with the packet keys in order and times between the send and
/// the collection; the command needs a CQE32 ring (checked by `require_cqe32`, and refused by
/// the kernel with EINVAL otherwise).
#[test]
fn tx_timestamp_udp() {
    const TEST: &str = "tx_timestamp_udp";
    let mut small = Ring::new(8).unwrap();
    if !socket_cmds(TEST, &mut small) {
        return;
    }
    let mut ring = match Ring::builder().cqe32().build(16) {
        Ok(r) => r,
        Err(e) => {
            common::skip(TEST, format!("no CQE32 ring: {e}"));
            return;
        }
    };
    assert!(matches!(cmd::require_cqe32(&small), Err(Error::WrongRingKind { .. })));
    cmd::require_cqe32(&ring).unwrap();

    let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    tx.connect(rx.local_addr().unwrap()).unwrap();
    let flags = libc::SOF_TIMESTAMPING_SOFTWARE
        | libc::SOF_TIMESTAMPING_OPT_ID
        | libc::SOF_TIMESTAMPING_OPT_TSONLY
        | libc::SOF_TIMESTAMPING_TX_SOFTWARE
        | libc::SOF_TIMESTAMPING_TX_SCHED;
    assert_eq!(uring_setsockopt(&mut small, tx.as_fd(), opt::TIMESTAMPING, &flags), Ok(0));
    assert_eq!(sys_getsockopt(tx.as_raw_fd(), opt::TIMESTAMPING).0, flags);

    // On a ring with 16-byte completions the kernel refuses the command.
    // SAFETY: `tx` stays open until the request's final completion is reaped below.
    unsafe { small.sq().push_fd(&TxTimestamp::new(&tx).build().user_data(9)) }.unwrap();
    small.submit_and_wait(1).unwrap();
    let c = small.wait_cqe().unwrap();
    assert_eq!(c.result(), Err(Errno::INVAL), "TX_TIMESTAMP without CQE32");
    let first = c.result();

    let before = realtime_ns();
    for i in 0..3u8 {
        tx.send(&[i; 10]).unwrap();
    }
    std::thread::sleep(Duration::from_millis(50));
    // SAFETY: `tx` stays open until the request's final completion is reaped below.
    unsafe { ring.sq().push_fd(&TxTimestamp::new(&tx).build().user_data(43)) }.unwrap();
    ring.submit().unwrap();
    let mut events = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    while events.len() < 6 && Instant::now() < deadline {
        let _ = ring.submit_and_wait_timeout(1, Duration::from_millis(100));
        while let Some(c) = ring.cq().pop32() {
            assert_eq!(c.user_data(), 43);
            match TxTimestamp::parse(&c) {
                Some(ev) => events.push(ev),
                None => match c.result() {
                    Err(e) if e == Errno::INVAL || e == Errno::OPNOTSUPP => {
                        common::skip(TEST, format!("SOCKET_URING_OP_TX_TIMESTAMP unsupported ({e}); Linux 6.16+"));
                        return;
                    }
                    r => panic!("the timestamp command ended early: {r:?}"),
                },
            }
        }
    }
    let after = realtime_ns();
    assert_eq!(events.len(), 6, "SCHED and SND for each of 3 datagrams: {events:?}");
    for kind in [SCM_TSTAMP_SCHED, SCM_TSTAMP_SND] {
        let keys: Vec<u32> = events.iter().filter(|e| e.kind == kind).map(|e| e.key).collect();
        assert_eq!(keys, [0, 1, 2], "OPT_ID keys count datagrams (kind {kind})");
    }
    for e in &events {
        assert!(!e.hardware);
        let t = e.sec as u128 * 1_000_000_000 + e.nsec as u128;
        assert!(before <= t && t <= after, "timestamp {t} outside [{before}, {after}]");
        assert!(e.nsec < 1_000_000_000);
    }
    // It stays armed: one more datagram, two more timestamps.
    tx.send(b"again").unwrap();
    let mut more = 0;
    let deadline = Instant::now() + Duration::from_secs(5);
    while more < 2 && Instant::now() < deadline {
        let _ = ring.submit_and_wait_timeout(1, Duration::from_millis(100));
        while let Some(c) = ring.cq().pop32() {
            let ev = TxTimestamp::parse(&c).expect("still armed");
            assert_eq!(ev.key, 3);
            more += 1;
        }
    }
    assert_eq!(more, 2);
    // Cancel it: the final completion has no MORE flag.
    ring.sq().push(&uring::op::AsyncCancel::user_data(43).build().user_data(44)).unwrap();
    ring.submit().unwrap();
    let mut done = false;
    let deadline = Instant::now() + Duration::from_secs(5);
    while !done && Instant::now() < deadline {
        let _ = ring.submit_and_wait_timeout(1, Duration::from_millis(100));
        while let Some(c) = ring.cq().pop32() {
            if c.user_data() == 43 {
                assert!(TxTimestamp::parse(&c).is_none());
                assert_eq!(c.result(), Err(Errno::CANCELED));
                done = true;
            }
        }
    }
    assert!(done, "the cancelled command posted its final completion");
    common::note(TEST, format!("16-byte CQ ring answer: {first:?}; 6 + 2 timestamps read from CQE32 completions"));
}

/// A uring_cmd on files without a `->uring_cmd` handler (a regular file, a pipe) fails with the
/// kernel's EOPNOTSUPP, as a typed `Errno`.
#[test]
fn uring_cmd_on_unsupported_file() {
    let mut ring = Ring::new(4).unwrap();
    if !Probe::of(&ring).unwrap().is_supported(UringCmd::CODE) {
        common::skip("uring_cmd_on_unsupported_file", "kernel lacks IORING_OP_URING_CMD");
        return;
    }
    let path = std::env::temp_dir().join(format!("uring-cmd-{}", std::process::id()));
    let file = std::fs::File::create(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    let (r, w) = rustix::pipe::pipe().unwrap();
    for (what, fd) in [("regular file", file.as_fd()), ("pipe", r.as_fd()), ("pipe", w.as_fd())] {
        // SAFETY: `fd` is borrowed until the completion is reaped below.
        unsafe { ring.sq().push_fd(&SiocInq::new(fd).build()) }.unwrap();
        ring.submit_and_wait(1).unwrap();
        let res = ring.wait_cqe().unwrap().result();
        assert_eq!(res, Err(Errno::OPNOTSUPP), "{what}");
    }
    // A socket with an unknown socket command number: EOPNOTSUPP as well.
    let u = UdpSocket::bind("127.0.0.1:0").unwrap();
    assert_eq!(run(&mut ring, &cmd::uring_cmd(&u, 99, &0u64)), Err(Errno::OPNOTSUPP), "unknown socket command");
    common::note("uring_cmd_on_unsupported_file", "regular file, pipe, unknown socket command: EOPNOTSUPP");
}

/// 16/80-byte payload boundaries against real rings: a 16-byte payload goes everywhere, more is
/// refused for a 64-byte ring before the kernel sees it, and a 128-byte command is fitted to
/// SQE128 and mixed rings.
#[test]
fn payload_boundaries_on_rings() {
    const TEST: &str = "payload_boundaries_on_rings";
    let mut ring = Ring::new(4).unwrap();
    if !socket_cmds(TEST, &mut ring) {
        return;
    }
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut client = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    let (server, _) = l.accept().unwrap();
    client.write_all(b"0123456789").unwrap();
    std::thread::sleep(Duration::from_millis(20));

    // 64-byte ring: 16 bytes fine, 17 and 80 refused with a typed error, 128-byte push refused.
    let layout = SqeLayout::of(&ring);
    assert_eq!(layout, SqeLayout::Sqe64);
    let e = cmd::uring_cmd_for(layout, &server, SOCKET_URING_OP_SIOCINQ, &[0u8; 16]).unwrap();
    // SAFETY: the payload is plain data the socket ignores.
    unsafe { e.push_raw(ring.sq()) }.unwrap();
    ring.submit_and_wait(1).unwrap();
    assert_eq!(ring.wait_cqe().unwrap().result(), Ok(10));
    for err in [
        cmd::uring_cmd_for(layout, &server, SOCKET_URING_OP_SIOCINQ, &[0u8; 17]).unwrap_err(),
        cmd::uring_cmd_for(layout, &server, SOCKET_URING_OP_SIOCINQ, &[0u64; 10]).unwrap_err(),
    ] {
        assert!(matches!(err, Error::WrongRingKind { .. }), "{err}");
    }
    let big = cmd::uring_cmd128(&server, SOCKET_URING_OP_SIOCINQ, &[0u64; 10]);
    // SAFETY: refused before anything is written.
    let err = unsafe { ring.sq().push128_raw(&big) }.map_err(uring::Error::from).unwrap_err();
    assert!(matches!(err, Error::WrongRingKind { .. }), "{err}");
    assert_eq!(ring.sq().ready(), 0, "nothing was queued");

    // SQE128 ring: 80 bytes accepted.
    let mut r128 = Ring::builder().sqe128().build(4).unwrap();
    let e = cmd::uring_cmd_for(SqeLayout::of(&r128), &server, SOCKET_URING_OP_SIOCINQ, &[0u64; 10]).unwrap();
    assert!(e.is_big());
    // SAFETY: plain payload.
    unsafe { e.push_raw(r128.sq()) }.unwrap();
    // SAFETY: plain payload.
    unsafe { r128.sq().push128_raw(&big) }.unwrap();
    r128.submit_and_wait(2).unwrap();
    for _ in 0..2 {
        assert_eq!(r128.wait_cqe().unwrap().result(), Ok(10));
    }

    // Mixed ring (Linux 6.19): fitted to IORING_OP_URING_CMD128.
    match Ring::builder().sqe_mixed().build(4) {
        Ok(mut mixed) => {
            // SAFETY: plain payload.
            unsafe { mixed.sq().push128_raw(&big) }.unwrap();
            // SAFETY: `server` stays open until the request's final completion is reaped below.
            unsafe { mixed.sq().push_fd(&SiocInq::new(&server).build()) }.unwrap();
            mixed.submit_and_wait(2).unwrap();
            for _ in 0..2 {
                assert_eq!(mixed.wait_cqe().unwrap().result(), Ok(10));
            }
        }
        Err(e) => common::skip(TEST, format!("kernel lacks IORING_SETUP_SQE_MIXED (Linux 6.19): {e}")),
    }
}
