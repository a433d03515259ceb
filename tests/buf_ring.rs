//! Provided buffer rings on the real kernel: registration, selection, recycling, status,
//! incremental consumption, multishot receives and bundles.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsRawFd, RawFd};

use uring::buf::{BufRing, Selection};
use uring::uapi::*;
use uring::{op, Error, Ring, Sqe};

/// A read of up to `len` bytes (0: the buffer's size) into a buffer selected from `bgid`.
fn read_select(fd: RawFd, bgid: u16, len: u32, off: u64) -> Sqe {
    let mut sqe = op::prep_rw(IORING_OP_READ, fd, 0, len, off);
    sqe.as_raw_mut().flags |= IOSQE_BUFFER_SELECT;
    sqe.as_raw_mut().buf.buf_group = bgid;
    sqe
}

/// A recv into a buffer selected from `bgid`, with `ioprio` flags (multishot, bundle).
fn recv_select(fd: RawFd, bgid: u16, ioprio: u16) -> Sqe {
    let mut sqe = op::prep_rw(IORING_OP_RECV, fd, 0, 0, 0);
    sqe.as_raw_mut().flags |= IOSQE_BUFFER_SELECT;
    sqe.as_raw_mut().buf.buf_group = bgid;
    sqe.as_raw_mut().ioprio = ioprio;
    sqe
}

fn push(ring: &mut Ring, sqe: Sqe) {
    // SAFETY: these entries point at no caller memory (the buffer comes from the group).
    unsafe { ring.sq().push_raw(&sqe) }.unwrap();
}

#[test]
fn bad_arguments_are_typed_errors() {
    let mut ring = Ring::new(4).unwrap();
    assert!(matches!(BufRing::builder(0, 0, 64).build(&mut ring), Err(Error::ZeroEntries)));
    assert!(matches!(
        BufRing::builder(0, 3, 64).build(&mut ring),
        Err(Error::NotPowerOfTwo { what: "buffer ring entries", value: 3 })
    ));
    assert!(matches!(
        BufRing::builder(0, 65536, 64).build(&mut ring),
        Err(Error::TooManyEntries { queue: "buffer ring", .. })
    ));
    assert!(matches!(BufRing::builder(0, 4, 0).build(&mut ring), Err(Error::InvalidArgument { what: "buf_size", .. })));
    let mut small = vec![0u8; 100];
    // SAFETY: validation fails before the memory is used.
    let mem = unsafe { uring::buf::CallerBuffers::new(small.as_mut_ptr(), small.len()) };
    assert!(matches!(BufRing::builder(0, 4, 64).memory(mem).build(&mut ring), Err(Error::MemoryTooSmall { .. })));
}

#[test]
fn register_unregister_and_duplicate_bgid() {
    let mut ring = Ring::new(4).unwrap();
    let br = BufRing::builder(3, 8, 64).build(&mut ring).unwrap();
    let dup = BufRing::builder(3, 8, 64).build(&mut ring);
    match dup {
        Err(e @ Error::BufGroupInUse { bgid: 3 }) => assert!(e.is_errno(libc::EEXIST)),
        other => panic!("expected BufGroupInUse, got {other:?}"),
    }
    drop(br);
    // After drop the group id is free again.
    let br = BufRing::builder(3, 8, 64).kernel_mapped().build(&mut ring).unwrap();
    assert_eq!(br.entries(), 8);
}

/// Each of `entries` buffers is selected exactly once, then the group is empty (ENOBUFS);
/// recycling makes every buffer available again. Both ring memory kinds.
fn exhaust_and_recycle(entries: u32, kernel_mapped: bool) {
    let mut ring = Ring::builder().cq_entries(entries.max(2) * 2).build(entries.clamp(1, 4096)).unwrap();
    let mut b = BufRing::builder(1, entries, 16);
    if kernel_mapped {
        b = b.kernel_mapped();
    }
    let br = b.build(&mut ring).unwrap();
    let zero = std::fs::File::open("/dev/zero").unwrap();
    let mut held = Vec::with_capacity(entries as usize);
    let mut seen = vec![false; entries as usize];
    let mut issued = 0u32;
    while issued < entries {
        let batch = (entries - issued).min(ring.sq().capacity());
        for _ in 0..batch {
            push(&mut ring, read_select(zero.as_raw_fd(), 1, 0, 0));
        }
        ring.submit_and_wait(batch).unwrap();
        issued += batch;
        let cqes: Vec<_> = ring.cq().iter().collect();
        for cqe in cqes {
            assert_eq!(cqe.result(), Ok(16), "read into a selected buffer");
            // SAFETY: the kernel posted this completion into the CQ for a request selecting from this
            // buffer ring; it is selected once.
            let sel = unsafe { br.select(&cqe) }.unwrap();
            let Selection::Buffer(buf) = sel else { panic!("expected one buffer") };
            assert!(!std::mem::replace(&mut seen[buf.bid() as usize], true), "bid handed out twice");
            assert_eq!(buf.data(), &[0u8; 16]);
            held.push(buf.keep());
        }
    }
    assert!(seen.iter().all(|&s| s));
    assert_eq!(br.available().unwrap(), 0);
    push(&mut ring, read_select(zero.as_raw_fd(), 1, 0, 0));
    let cqe = ring.wait_cqe().unwrap();
    assert_eq!(cqe.result(), Err(uring::Errno::NOBUFS), "empty group");
    // SAFETY: the kernel posted this completion into the CQ for a request selecting from this
    // buffer ring; it is selected once.
    assert!(matches!(unsafe { br.select(&cqe) }.unwrap(), Selection::None));
    // Recycle in reverse order: out-of-order return works.
    for h in held.into_iter().rev() {
        br.recycle_held(h).unwrap();
    }
    assert_eq!(br.available().unwrap() as u32 % 65536, entries % 65536);
    push(&mut ring, read_select(zero.as_raw_fd(), 1, 4, 0));
    let cqe = ring.wait_cqe().unwrap();
    assert_eq!(cqe.result(), Ok(4));
    // SAFETY: the kernel posted this completion into the CQ for a request selecting from this
    // buffer ring; it is selected once.
    assert_eq!(unsafe { br.select(&cqe) }.unwrap().len(), 4);
}

#[test]
fn every_bid_once_then_enobufs() {
    for entries in [1, 4096, 32768] {
        exhaust_and_recycle(entries, false);
    }
}

#[test]
fn every_bid_once_then_enobufs_kernel_mapped() {
    for entries in [1, 4096, 32768] {
        exhaust_and_recycle(entries, true);
    }
}

#[test]
fn status_available_and_double_select() {
    let mut ring = Ring::new(8).unwrap();
    let br = BufRing::builder(2, 8, 32).build(&mut ring).unwrap();
    assert_eq!(br.available().unwrap(), 8);
    let zero = std::fs::File::open("/dev/zero").unwrap();
    for _ in 0..3 {
        push(&mut ring, read_select(zero.as_raw_fd(), 2, 0, 0));
    }
    ring.submit_and_wait(3).unwrap();
    let cqes: Vec<_> = ring.cq().iter().collect();
    assert_eq!(br.head().unwrap(), 3);
    assert_eq!(br.available().unwrap(), 5);
    // SAFETY: the kernel posted this completion into the CQ for a request selecting from this
    // buffer ring; it is selected once.
    let first = unsafe { br.select(&cqes[0]) }.unwrap();
    // The same completion cannot be selected twice: no second guard over the same bytes.
    // SAFETY: the kernel posted this completion into the CQ for a request selecting from this
    // buffer ring; it is selected once.
    assert!(matches!(unsafe { br.select(&cqes[0]) }, Err(Error::InvalidArgument { what: "buffer id", .. })));
    // SAFETY: the kernel posted this completion into the CQ for a request selecting from this
    // buffer ring; it is selected once.
    let mut rest: Vec<_> = cqes[1..].iter().map(|c| unsafe { br.select(c) }.unwrap()).collect();
    assert_eq!(br.held(), 3);
    drop(first);
    assert_eq!(br.available().unwrap(), 6);
    rest.pop();
    assert_eq!(br.held(), 1);
    // recycle several and advance the CQ in one go
    push(&mut ring, read_select(zero.as_raw_fd(), 2, 0, 0));
    ring.submit_and_wait(1).unwrap();
    let cqe = ring.cq().peek().unwrap();
    // SAFETY: the kernel posted this completion into the CQ for a request selecting from this
    // buffer ring; it is selected once.
    let sel = unsafe { br.select(&cqe) }.unwrap();
    let (_sub, _sq, cq) = ring.split();
    br.recycle_and_advance(rest.into_iter().chain([sel]), cq, 1).unwrap();
    assert_eq!(br.held(), 0);
    assert!(ring.cq().peek().is_none());
    assert_eq!(br.available().unwrap(), 8);
}

/// Incremental consumption from a file: pieces of one buffer arrive with BUF_MORE, at
/// increasing offsets, with no skipped bytes; the last piece of a buffer returns it.
#[test]
fn incremental_reads_from_a_file() {
    let mut ring = Ring::new(8).unwrap();
    let br = match BufRing::builder(4, 2, 4096).incremental().build(&mut ring) {
        Ok(b) => b,
        Err(e) if e.is_errno(libc::EINVAL) => {
            common::skip("incremental_reads_from_a_file", "kernel lacks IOU_PBUF_RING_INC (6.12)");
            return;
        }
        Err(e) => panic!("{e}"),
    };
    let path = std::env::temp_dir().join(format!("uring-inc-{}", std::process::id()));
    let data: Vec<u8> = (0..10_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&path, &data).unwrap();
    let f = std::fs::File::open(&path).unwrap();
    let mut got = Vec::new();
    let mut pieces = Vec::new();
    let mut off = 0u64;
    loop {
        push(&mut ring, read_select(f.as_raw_fd(), 4, 1000, off));
        let cqe = ring.wait_cqe().unwrap();
        let n = cqe.result().unwrap();
        if n == 0 {
            // EOF: nothing consumed.
            // SAFETY: the kernel posted this completion into the CQ for a request selecting from this
            // buffer ring; it is selected once.
            drop(unsafe { br.select(&cqe) }.unwrap());
            break;
        }
        off += n as u64;
        // SAFETY: the kernel posted this completion into the CQ for a request selecting from this
        // buffer ring; it is selected once.
        match unsafe { br.select(&cqe) }.unwrap() {
            Selection::Incremental(s) => {
                pieces.push((s.bid(), s.offset(), s.len(), s.more()));
                got.extend_from_slice(s.data());
            }
            other => panic!("expected an incremental slice, got {other:?}"),
        }
    }
    std::fs::remove_file(&path).unwrap();
    assert_eq!(got, data, "no skipped or repeated bytes");
    // The first buffer was filled 1000 bytes at a time: offsets 0, 1000, 2000, 3000, then 4000
    // (96 bytes to its end) without BUF_MORE.
    assert_eq!(pieces[0], (pieces[0].0, 0, 1000, true));
    assert_eq!(pieces[1].1, 1000);
    assert!(pieces.iter().any(|p| !p.3), "a buffer was used up");
}

/// Multishot recv over TCP: F_MORE on every completion but the last, ENOBUFS ends it when the
/// group runs dry, and data arrives in order.
#[test]
fn multishot_recv_tcp_until_enobufs() {
    let mut ring = Ring::new(16).unwrap();
    let br = BufRing::builder(5, 4, 64).build(&mut ring).unwrap();
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut client = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    let (server, _) = l.accept().unwrap();
    push(&mut ring, recv_select(server.as_raw_fd(), 5, IORING_RECV_MULTISHOT));
    ring.submit().unwrap();
    let mut held = Vec::new();
    let mut seen = Vec::new();
    for i in 0..6u8 {
        client.write_all(&[i; 10]).unwrap();
        let cqe = ring.wait_cqe().unwrap();
        match cqe.result() {
            Ok(n) => {
                assert!(cqe.more(), "multishot continues");
                // SAFETY: the kernel posted this completion into the CQ for a request selecting from this
                // buffer ring; it is selected once.
                let sel = unsafe { br.select(&cqe) }.unwrap();
                assert_eq!(sel.len(), n as usize);
                seen.extend_from_slice(sel.data().unwrap());
                held.push(sel); // keep: the group drains
            }
            Err(e) => {
                assert_eq!(e, uring::Errno::NOBUFS);
                assert!(!cqe.more(), "ENOBUFS ends the multishot");
                break;
            }
        }
    }
    assert_eq!(held.len(), 4, "four buffers, then ENOBUFS");
    assert_eq!(&seen[..10], &[0u8; 10]);
    drop(held);
    drop(client);
}

#[test]
fn multishot_recv_udp() {
    let mut ring = Ring::new(16).unwrap();
    let br = BufRing::builder(6, 8, 256).build(&mut ring).unwrap();
    let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    tx.connect(rx.local_addr().unwrap()).unwrap();
    push(&mut ring, recv_select(rx.as_raw_fd(), 6, IORING_RECV_MULTISHOT));
    ring.submit().unwrap();
    for i in 0..20u8 {
        tx.send(&[i; 33]).unwrap();
        let cqe = ring.wait_cqe().unwrap();
        assert!(cqe.more());
        // SAFETY: the kernel posted this completion into the CQ for a request selecting from this
        // buffer ring; it is selected once.
        let sel = unsafe { br.select(&cqe) }.unwrap();
        assert_eq!(sel.data().unwrap(), &[i; 33]); // one datagram per buffer, recycled on drop
    }
}

#[test]
fn read_multishot_on_a_pipe() {
    let mut ring = Ring::new(8).unwrap();
    if !uring::Probe::of(&ring).unwrap().is_supported(IORING_OP_READ_MULTISHOT) {
        common::skip("read_multishot_on_a_pipe", "kernel lacks IORING_OP_READ_MULTISHOT (6.7)");
        return;
    }
    let br = BufRing::builder(7, 4, 128).build(&mut ring).unwrap();
    let (r, w) = rustix::pipe::pipe().unwrap();
    let mut sqe = op::prep_rw(IORING_OP_READ_MULTISHOT, r.as_raw_fd(), 0, 0, 0);
    sqe.as_raw_mut().flags |= IOSQE_BUFFER_SELECT;
    sqe.as_raw_mut().buf.buf_group = 7;
    push(&mut ring, sqe);
    ring.submit().unwrap();
    for i in 0..10u8 {
        rustix::io::write(&w, &[i; 5]).unwrap();
        let cqe = ring.wait_cqe().unwrap();
        assert!(cqe.more());
        // SAFETY: the kernel posted this completion into the CQ for a request selecting from this
        // buffer ring; it is selected once.
        assert_eq!(unsafe { br.select(&cqe) }.unwrap().data().unwrap(), &[i; 5]);
    }
}

/// Recv bundles over TCP: one completion covers several buffers, contiguous in ring order, whose
/// bytes add up to the result and arrive in order.
#[test]
fn recv_bundle_tcp() {
    let mut ring = Ring::new(8).unwrap();
    if !ring.features().contains(uring::Features::RECVSEND_BUNDLE) {
        common::skip("recv_bundle_tcp", "kernel lacks IORING_FEAT_RECVSEND_BUNDLE (6.10)");
        return;
    }
    let br = BufRing::builder(8, 16, 100).build(&mut ring).unwrap();
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut client = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    let (server, _) = l.accept().unwrap();
    let data: Vec<u8> = (0..350u32).map(|i| i as u8).collect();
    for round in 0..5 {
        client.write_all(&data).unwrap();
        // Let all bytes arrive so one recv can take them.
        std::thread::sleep(std::time::Duration::from_millis(5));
        // One or more bundles take the round's bytes (the kernel may stop at fewer buffers).
        let mut got = Vec::new();
        let mut multi_buffer = false;
        while got.len() < data.len() {
            push(&mut ring, recv_select(server.as_raw_fd(), 8, IORING_RECVSEND_BUNDLE));
            let cqe = ring.wait_cqe().unwrap();
            let n = cqe.result().unwrap() as usize;
            // SAFETY: the kernel posted this completion into the CQ for a request selecting from this
            // buffer ring; it is selected once.
            let Selection::Bundle(b) = unsafe { br.select_bundle(&cqe) }.unwrap() else { panic!("expected a bundle") };
            assert_eq!(b.count(), n.div_ceil(100), "round {round}: buffers for {n} bytes");
            assert_eq!(b.slices().map(|s| s.len()).sum::<usize>(), n);
            multi_buffer |= b.count() > 1;
            // Contiguous in ring order: consecutive bids here, since buffers were added in order
            // and recycled in order.
            let bids: Vec<u16> = b.bids().collect();
            for w in bids.windows(2) {
                assert_eq!(w[1], (w[0] + 1) % 16);
            }
            got.extend_from_slice(&b.to_vec());
        }
        assert_eq!(got, data, "round {round}: bytes in order");
        assert!(multi_buffer, "round {round}: a bundle spanned several buffers");
    }
    let mut server = server;
    client.write_all(b"x").unwrap();
    let mut one = [0u8; 1];
    server.read_exact(&mut one).unwrap();
}

/// Legacy PROVIDE_BUFFERS groups keep working beside rings; a ring cannot take a legacy group's
/// id while it holds buffers.
#[test]
fn legacy_groups_beside_rings() {
    let mut ring = Ring::new(8).unwrap();
    let mut pool = vec![0u8; 4 * 64];
    let mut sqe = op::prep_rw(IORING_OP_PROVIDE_BUFFERS, 4, pool.as_mut_ptr() as u64, 64, 0);
    sqe.as_raw_mut().buf.buf_group = 9;
    // SAFETY: `pool` outlives the ring's use of it (the ring is dropped first below).
    unsafe { ring.sq().push_raw(&sqe) }.unwrap();
    assert_eq!(ring.wait_cqe().unwrap().result(), Ok(0));
    let br = BufRing::builder(10, 4, 64).build(&mut ring).unwrap();
    assert!(matches!(BufRing::builder(9, 4, 64).build(&mut ring), Err(Error::BufGroupInUse { bgid: 9 })));
    let zero = std::fs::File::open("/dev/zero").unwrap();
    push(&mut ring, read_select(zero.as_raw_fd(), 9, 8, 0));
    let legacy = ring.wait_cqe().unwrap();
    assert_eq!(legacy.result(), Ok(8));
    assert!(legacy.buffer_id().unwrap() < 4);
    push(&mut ring, read_select(zero.as_raw_fd(), 10, 8, 0));
    let c = ring.wait_cqe().unwrap();
    // SAFETY: the kernel posted this completion into the CQ for a request selecting from this
    // buffer ring; it is selected once.
    assert_eq!(unsafe { br.select(&c) }.unwrap().len(), 8);
    drop(br);
    drop(ring);
    drop(pool);
}

/// Incremental consumption from a socket: several sends land in one buffer at increasing
/// offsets (BUF_MORE), bytes arrive in order without gaps.
#[test]
fn incremental_recv_from_a_socket() {
    let mut ring = Ring::new(8).unwrap();
    let br = match BufRing::builder(11, 2, 1024).incremental().build(&mut ring) {
        Ok(b) => b,
        Err(e) if e.is_errno(libc::EINVAL) => {
            common::skip("incremental_recv_from_a_socket", "kernel lacks IOU_PBUF_RING_INC (6.12)");
            return;
        }
        Err(e) => panic!("{e}"),
    };
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut client = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    let (server, _) = l.accept().unwrap();
    let mut sent = Vec::new();
    let mut got = Vec::new();
    let mut offsets = Vec::new();
    for i in 0..30u32 {
        let msg: Vec<u8> = (0..100).map(|k| (i * 100 + k) as u8).collect();
        client.write_all(&msg).unwrap();
        sent.extend_from_slice(&msg);
        // A piece is cut short where a buffer runs out (24 bytes are left after ten pieces).
        while got.len() < sent.len() {
            push(&mut ring, recv_select(server.as_raw_fd(), 11, 0));
            let cqe = ring.wait_cqe().unwrap();
            let n = cqe.result().unwrap() as usize;
            // SAFETY: the kernel posted this completion into the CQ for a request selecting from this
            // buffer ring; it is selected once.
            let Selection::Incremental(s) = unsafe { br.select(&cqe) }.unwrap() else { panic!("incremental") };
            assert_eq!(s.len(), n);
            offsets.push((s.bid(), s.offset(), s.more()));
            got.extend_from_slice(s.data());
        }
    }
    assert_eq!(got, sent);
    // Ten 100-byte pieces fit a 1024-byte buffer: offsets 0, 100, ... 900 in the first buffer.
    assert_eq!(offsets[0].1, 0);
    assert_eq!(offsets[9].1, 900);
    assert_eq!(offsets[1].0, offsets[0].0);
    assert!(offsets[0].2, "first piece leaves the buffer with the kernel");
    assert_eq!((offsets[10].1, offsets[10].2), (1000, false), "the last 24 bytes use the buffer up");
    assert_ne!(offsets[11].0, offsets[10].0, "then the next buffer");
}

/// A registration the kernel refuses keeps its errno (here a ring address that is not mapped).
#[test]
fn bad_ring_address_keeps_errno() {
    let ring = Ring::new(4).unwrap();
    let mut reg = io_uring_buf_reg { ring_addr: 0x1000, ring_entries: 8, bgid: 1, ..Default::default() };
    // SAFETY: the kernel validates the address; nothing else is passed.
    let r = unsafe {
        ring.submitter().register_raw(IORING_REGISTER_PBUF_RING, &mut reg as *mut io_uring_buf_reg as *const _, 1)
    };
    let e = r.unwrap_err().raw_os_error().unwrap();
    assert!(e == libc::EFAULT || e == libc::EINVAL, "errno {e}");
}

#[test]
fn huge_page_pool() {
    let mut ring = Ring::new(4).unwrap();
    match BufRing::builder(13, 16, 4096).huge_pages().build(&mut ring) {
        Ok(br) => {
            let zero = std::fs::File::open("/dev/zero").unwrap();
            push(&mut ring, read_select(zero.as_raw_fd(), 13, 0, 0));
            let cqe = ring.wait_cqe().unwrap();
            // SAFETY: the kernel posted this completion into the CQ for a request selecting from this
            // buffer ring; it is selected once.
            assert_eq!(unsafe { br.select(&cqe) }.unwrap().len(), 4096);
        }
        Err(e) if e.is_errno(libc::ENOMEM) => {
            common::skip("huge_page_pool", "no free 2 MiB huge page (vm.nr_hugepages is 0)");
        }
        Err(e) => panic!("{e}"),
    }
}

/// recvmsg multishot on an incremental ring: each datagram's io_uring_recvmsg_out, name and
/// payload land as one piece of a buffer, pieces follow each other without gaps (BUF_MORE), and
/// the parser reads each piece.
#[test]
fn recvmsg_multishot_incremental() {
    let mut ring = Ring::new(16).unwrap();
    let br = match BufRing::builder(14, 4, 4096).incremental().build(&mut ring) {
        Ok(b) => b,
        Err(e) if e.is_errno(libc::EINVAL) => {
            common::skip("recvmsg_multishot_incremental", "kernel lacks IOU_PBUF_RING_INC (6.12)");
            return;
        }
        Err(e) => panic!("{e}"),
    };
    let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    // The msghdr tells the kernel how much room to reserve for the name (and no control data).
    // SAFETY: an all-zero msghdr is a valid value.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_namelen = std::mem::size_of::<libc::sockaddr_in>() as u32;
    let sqe = op::RecvMsgMultishot::new(&rx, &msg, &br).unwrap().build();
    // SAFETY: `msg` lives until the multishot request ends (the ring is dropped first).
    unsafe { ring.sq().push_raw(&sqe) }.unwrap();
    ring.submit().unwrap();
    let mut last_end: Option<(u16, u32)> = None;
    for i in 0..6u8 {
        tx.send_to(&[i; 50], rx.local_addr().unwrap()).unwrap();
        let cqe = ring.wait_cqe().unwrap();
        assert!(cqe.more(), "multishot continues");
        // SAFETY: the kernel posted this completion into the CQ for a request selecting from this
        // buffer ring; it is selected once.
        let Selection::Incremental(s) = unsafe { br.select(&cqe) }.unwrap() else { panic!("incremental piece") };
        let out = uring::buf::RecvMsgOut::parse(s.data(), msg.msg_namelen, 0).unwrap();
        assert_eq!(out.payload(), &[i; 50]);
        assert_eq!(out.source_addr().unwrap(), tx.local_addr().unwrap());
        if let Some((bid, end)) = last_end {
            if bid == s.bid() {
                assert_eq!(s.offset(), end, "pieces follow each other without gaps");
            }
        }
        last_end = Some((s.bid(), s.offset() + s.len() as u32));
    }
    drop(ring);
}

/// An earlier piece of an incremental buffer may outlive its last piece: the buffer returns to
/// the ring only when every piece has been dropped, so the kernel never refills bytes a live
/// slice still shows.
#[test]
fn incremental_pieces_keep_the_buffer_until_all_are_dropped() {
    let mut ring = Ring::new(8).unwrap();
    let br = match BufRing::builder(15, 2, 4096).incremental().build(&mut ring) {
        Ok(b) => b,
        Err(e) if e.is_errno(libc::EINVAL) => {
            common::skip(
                "incremental_pieces_keep_the_buffer_until_all_are_dropped",
                "kernel lacks IOU_PBUF_RING_INC (6.12)",
            );
            return;
        }
        Err(e) => panic!("{e}"),
    };
    let path = std::env::temp_dir().join(format!("uring-incv-{}", std::process::id()));
    std::fs::write(&path, vec![9u8; 8192]).unwrap();
    let f = std::fs::File::open(&path).unwrap();
    push(&mut ring, read_select(f.as_raw_fd(), 15, 3000, 0));
    let c1 = ring.wait_cqe().unwrap();
    push(&mut ring, read_select(f.as_raw_fd(), 15, 3000, 3000));
    let c2 = ring.wait_cqe().unwrap();
    // SAFETY: the kernel posted this completion into the CQ for a request selecting from this
    // buffer ring; it is selected once.
    let Selection::Incremental(a) = unsafe { br.select(&c1) }.unwrap() else { panic!("piece") };
    assert!(a.more());
    // SAFETY: the kernel posted this completion into the CQ for a request selecting from this
    // buffer ring; it is selected once.
    let Selection::Incremental(b) = unsafe { br.select(&c2) }.unwrap() else { panic!("piece") };
    assert_eq!((a.bid(), b.bid()), (a.bid(), a.bid()), "both pieces of one buffer");
    assert!(!b.more(), "the second read used the buffer up");
    drop(b);
    assert_eq!(br.held(), 1, "the first piece is still viewed: the buffer stays out of the ring");
    assert!(a.data().iter().all(|&x| x == 9));
    drop(a);
    assert_eq!(br.held(), 0, "returned once no piece remains");
    std::fs::remove_file(&path).unwrap();
}

/// A bundle's buffers stay the ones the kernel took even when other buffers are recycled into
/// the ring slots the bundle came from before the bundle is dropped (found by the
/// buf_ring_model fuzz target). Synthetic completions: only the crate's bookkeeping is checked.
#[test]
fn bundle_survives_recycling_into_its_old_slots() {
    let mut ring = Ring::new(4).unwrap();
    let br = BufRing::builder(16, 4, 64).build(&mut ring).unwrap();
    let cqe = |bid: u16, res: i32| uring::Cqe::new(0, res, IORING_CQE_F_BUFFER | (bid as u32) << 16);
    // The kernel took slots 0-1 (bids 0, 1) as one bundle, then slot 2 (bid 2) alone.
    // SAFETY: the kernel posted this completion into the CQ for a request selecting from this
    // buffer ring; it is selected once.
    let bundle = unsafe { br.select_bundle(&cqe(0, 128)) }.unwrap();
    // SAFETY: the kernel posted this completion into the CQ for a request selecting from this
    // buffer ring; it is selected once.
    let single = unsafe { br.select(&cqe(2, 10)) }.unwrap();
    // Recycling bid 2 writes it into the next tail slot, which is slot 0 again.
    drop(single);
    let Selection::Bundle(b) = &bundle else { panic!("bundle") };
    assert_eq!(b.bids().collect::<Vec<_>>(), vec![0, 1], "the bundle still names its own buffers");
    drop(bundle);
    assert_eq!(br.held(), 0);
    // Every buffer is handed out exactly once more.
    for bid in [3u16, 2, 0, 1] {
        // SAFETY: the kernel posted this completion into the CQ for a request selecting from this
        // buffer ring; it is selected once.
        let s = unsafe { br.select(&cqe(bid, 1)) }.unwrap();
        assert_eq!(s.bid(), Some(bid));
        std::mem::forget(s);
    }
    assert_eq!(br.held(), 4);
}

/// A bundle completion that would walk past the buffer added last (into links that are not yet
/// known, here back to a buffer of the same bundle) or into a buffer already handed out is
/// refused with a typed error, and the ring is left as it was. Synthetic completions.
#[test]
fn bad_bundle_is_refused_and_leaves_the_ring_untouched() {
    let mut ring = Ring::new(4).unwrap();
    let br = BufRing::builder(17, 4, 64).build(&mut ring).unwrap();
    let cqe = |bid: u16, res: i32| uring::Cqe::new(0, res, IORING_CQE_F_BUFFER | (bid as u32) << 16);
    // Ring order 0, 1, 2, 3; take 0 and 1, return 1 then 0: the order is 2, 3, 1, 0, and 0 is
    // the buffer added last.
    // SAFETY: the kernel posted this completion into the CQ for a request selecting from this
    // buffer ring; it is selected once.
    let (s0, s1) = (unsafe { br.select(&cqe(0, 1)) }.unwrap(), unsafe { br.select(&cqe(1, 1)) }.unwrap());
    drop(s1);
    drop(s0);
    // Three buffers from 1 would run past 0 (the tail).
    // SAFETY: the kernel posted this completion into the CQ for a request selecting from this
    // buffer ring; it is selected once.
    let e = unsafe { br.select_bundle(&cqe(1, 3 * 64)) }.unwrap_err();
    assert!(matches!(e, Error::InvalidArgument { what: "bundle", .. }), "{e}");
    assert_eq!(br.held(), 0, "nothing taken");
    // Two buffers from 1 end at the tail: fine.
    // SAFETY: the kernel posted this completion into the CQ for a request selecting from this
    // buffer ring; it is selected once.
    let Selection::Bundle(b) = unsafe { br.select_bundle(&cqe(1, 2 * 64)) }.unwrap() else { panic!("bundle") };
    assert_eq!(b.bids().collect::<Vec<_>>(), vec![1, 0]);
    // A bundle from 3 (followed by 1, held by `b`) is refused; 3 is not left taken.
    // SAFETY: the kernel posted this completion into the CQ for a request selecting from this
    // buffer ring; it is selected once.
    let e = unsafe { br.select_bundle(&cqe(3, 2 * 64)) }.unwrap_err();
    assert!(matches!(e, Error::InvalidArgument { what: "bundle", .. }), "{e}");
    assert_eq!(br.held(), 2, "only the bundle's buffers");
    drop(b);
    assert_eq!(br.held(), 0);
    // Every buffer is handed out exactly once more.
    for bid in [2u16, 3, 1, 0] {
        // SAFETY: the kernel posted this completion into the CQ for a request selecting from this
        // buffer ring; it is selected once.
        let s = unsafe { br.select(&cqe(bid, 1)) }.unwrap();
        std::mem::forget(s);
    }
    // SAFETY: the kernel posted this completion into the CQ for a request selecting from this
    // buffer ring; it is selected once.
    assert!(unsafe { br.select(&cqe(2, 1)) }.is_err(), "held: a second selection is an error");
    assert_eq!(br.held(), 4);
}

/// Soundness regression (#14): a batch recycle into one ring must not take a selection of
/// another. Both rings are borrowed for the same lifetime, so the types allowed it; the bid was
/// written into the wrong ring, and the kernel could fill a buffer the other ring still lent
/// out. The selection now goes back to its own ring, and the batch's ring is untouched.
#[test]
fn recycle_batch_refuses_another_rings_selection() {
    let mut ring = Ring::new(8).unwrap();
    let br = BufRing::builder(5, 4, 32).build(&mut ring).unwrap();
    let other = BufRing::builder(6, 4, 32).build(&mut ring).unwrap();
    let zero = std::fs::File::open("/dev/zero").unwrap();
    // Take all of `other`'s buffers and one of `br`'s.
    for _ in 0..4 {
        push(&mut ring, read_select(zero.as_raw_fd(), 6, 0, 0).user_data(6));
    }
    push(&mut ring, read_select(zero.as_raw_fd(), 5, 0, 0).user_data(5));
    ring.submit_and_wait(5).unwrap();
    let cqes: Vec<_> = ring.cq().iter().collect();
    let mut held_other = Vec::new();
    let mut sel_br = None;
    for cqe in &cqes {
        if cqe.user_data() == 6 {
            // SAFETY: the kernel posted this completion for a read selecting from `other`; once.
            held_other.push(unsafe { other.select(cqe) }.unwrap());
        } else {
            // SAFETY: the kernel posted this completion for a read selecting from `br`; once.
            sel_br = Some(unsafe { br.select(cqe) }.unwrap());
        }
    }
    assert_eq!(other.available().unwrap(), 0);
    assert_eq!(br.held(), 1);
    // `other` lends all its buffers; recycling `br`'s selection into it must not give one back.
    let (_sub, _sq, cq) = ring.split();
    other.recycle_and_advance([sel_br.unwrap()], cq, 0).unwrap();
    assert_eq!(other.available().unwrap(), 0, "a bid of br was written into other");
    assert_eq!(br.held(), 0, "br's buffer went back to br");
    assert_eq!(br.available().unwrap(), 4);
    // The same through a recycle batch.
    push(&mut ring, read_select(zero.as_raw_fd(), 5, 0, 0));
    ring.submit_and_wait(1).unwrap();
    let cqe = ring.cq().pop().unwrap();
    // SAFETY: the kernel posted this completion for a read selecting from `br`; once.
    let sel = unsafe { br.select(&cqe) }.unwrap();
    let mut batch = other.recycle_batch();
    batch.push(sel);
    batch.finish();
    assert_eq!(other.available().unwrap(), 0, "a bid of br was written into other");
    assert_eq!(br.available().unwrap(), 4);
    drop(held_other);
    assert_eq!(other.available().unwrap(), 4);
}

/// Resident pages of `len` bytes at `ptr` (page-aligned), by `mincore(2)`.
fn resident_pages(ptr: *const u8, len: usize) -> usize {
    let page = 4096;
    let mut vec = vec![0u8; len.div_ceil(page)];
    // SAFETY: `ptr..ptr + len` is one live mapping (the pool); `vec` has a byte per page.
    let r = unsafe { libc::mincore(ptr as *mut libc::c_void, len, vec.as_mut_ptr()) };
    assert_eq!(r, 0, "mincore: {}", std::io::Error::last_os_error());
    vec.iter().filter(|&&b| b & 1 != 0).count()
}

/// `lazy_pool`: the pool is not pre-faulted (no page resident after build, where the default
/// pool is all resident), a read still lands in a selected buffer (the kernel faults the page
/// in), and only that buffer's page becomes resident. With caller memory it is refused.
#[test]
fn lazy_pool_is_not_prefaulted() {
    common::watchdog("lazy_pool_is_not_prefaulted", 30, || {
        let mut ring = Ring::new(4).unwrap();
        let eager = BufRing::builder(15, 16, 4096).build(&mut ring).unwrap();
        let (p, len) = eager.pool();
        assert_eq!(resident_pages(p, len), 16, "the default pool is pre-faulted");
        let br = BufRing::builder(16, 16, 4096).lazy_pool().build(&mut ring).unwrap();
        let (p, len) = br.pool();
        assert_eq!(resident_pages(p, len), 0, "a lazy pool has no page resident after build");
        let mut tmp = std::env::temp_dir();
        tmp.push(format!("uring-lazy-pool-{}", std::process::id()));
        std::fs::write(&tmp, [0x5au8; 100]).unwrap();
        let f = std::fs::File::open(&tmp).unwrap();
        std::fs::remove_file(&tmp).unwrap();
        push(&mut ring, read_select(f.as_raw_fd(), 16, 0, 0));
        let cqe = ring.wait_cqe().unwrap();
        // SAFETY: the kernel posted this completion for a request selecting from this buffer ring;
        // it is selected once.
        let sel = unsafe { br.select(&cqe) }.unwrap();
        assert_eq!(sel.data(), Some(&[0x5au8; 100][..]));
        drop(sel);
        assert_eq!(resident_pages(p, len), 1, "only the selected buffer's page was faulted in");
        let mut mem = vec![0u8; 16 * 4096];
        // SAFETY: refused before registration, so the kernel never sees the memory.
        let caller = unsafe { uring::buf::CallerBuffers::new(mem.as_mut_ptr(), mem.len()) };
        let e = BufRing::builder(17, 16, 4096).lazy_pool().memory(caller).build(&mut ring).unwrap_err();
        assert!(matches!(e, Error::InvalidArgument { what: "lazy_pool", .. }), "{e}");
    });
}
