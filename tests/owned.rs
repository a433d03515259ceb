//! The owned-operation layer: memory moves into the ring and comes back with the completion.

mod common;

use std::os::fd::{AsFd, OwnedFd};
use std::time::Duration;

use uring::owned::{BufPool, OwnedOp, OwnedRing, Read, Timeout, Write};

/// A duplicate of `f` for an operation to own (the same open file: offsets and flags shared).
fn dup(f: &impl AsFd) -> OwnedFd {
    f.as_fd().try_clone_to_owned().unwrap()
}

/// The caller's handles are gone right after submit; the kernel's write lands in the buffer the
/// ring owns, which comes back with the completion.
#[test]
fn read_lands_in_owned_memory_after_the_caller_let_go() {
    let mut ring = OwnedRing::new(8).unwrap();
    let (r, w) = rustix::pipe::pipe().unwrap();
    let id = {
        let buf = vec![0u8; 16];
        ring.push(Read::new(dup(&r), buf, u64::MAX)).unwrap()
        // `buf` moved: nothing of the caller points at it any more
    };
    ring.submit().unwrap();
    assert_eq!(ring.in_flight(), 1);
    rustix::io::write(&w, b"owned!").unwrap();
    let c = ring.wait().unwrap();
    assert_eq!(c.id(), Some(id));
    assert_eq!(c.result(), Ok(6));
    let read: Read = c.into_op().unwrap();
    assert_eq!(&read.buf[..6], b"owned!");
    assert_eq!(ring.in_flight(), 0);
}

#[test]
fn write_then_read_a_file_with_a_pool() {
    let path = std::env::temp_dir().join(format!("uring-owned-{}", std::process::id()));
    let f = std::fs::OpenOptions::new().create(true).truncate(true).read(true).write(true).open(&path).unwrap();
    let mut ring = OwnedRing::new(8).unwrap();
    let mut pool = BufPool::new(2, 4096);
    let mut data = pool.get();
    data.fill(7);
    ring.push(Write::new(dup(&f), data, 0)).unwrap();
    let c = ring.wait().unwrap();
    assert_eq!(c.result(), Ok(4096));
    let w: Write = c.into_op().unwrap();
    pool.put(w.buf);
    ring.push(Read::new(dup(&f), pool.get(), 0)).unwrap();
    let c = ring.wait().unwrap();
    assert_eq!(c.result(), Ok(4096));
    let r: Read = c.into_op().unwrap();
    assert!(r.buf.iter().all(|&b| b == 7));
    pool.put(r.buf);
    assert_eq!(pool.available(), 2);
    std::fs::remove_file(&path).unwrap();
}

/// Cancelling returns the memory only with the kernel's final completion.
#[test]
fn cancel_before_complete() {
    let mut ring = OwnedRing::new(8).unwrap();
    let (r, _w) = rustix::pipe::pipe().unwrap();
    let id = ring.push(Read::new(dup(&r), vec![0; 8], u64::MAX)).unwrap();
    ring.submit().unwrap();
    ring.cancel(id).unwrap();
    let c = ring.wait().unwrap();
    assert_eq!(c.id(), Some(id));
    assert_eq!(c.result(), Err(uring::Errno::CANCELED));
    let read: Read = c.into_op().unwrap();
    assert_eq!(read.buf.len(), 8);
    assert!(ring.cancel(id).is_err(), "a finished id is not in flight");
}

/// Dropping the ring with reads in flight cancels them and waits; nothing is freed under the
/// kernel (run under AddressSanitizer: tests/asan.sh).
#[test]
fn drop_ring_with_in_flight_operations() {
    let pipes: Vec<_> = (0..4).map(|_| rustix::pipe::pipe().unwrap()).collect();
    {
        let mut ring = OwnedRing::new(8).unwrap();
        for (r, _) in &pipes {
            ring.push(Read::new(dup(&r), vec![0; 64], u64::MAX)).unwrap();
        }
        ring.submit().unwrap();
        assert_eq!(ring.in_flight(), 4);
    }
    // The pipes' write ends still work: nothing was left reading into freed memory.
    for (_, w) in &pipes {
        rustix::io::write(w, b"late").unwrap();
    }
}

#[test]
fn timeout_returns_its_timespec() {
    let mut ring = OwnedRing::new(4).unwrap();
    ring.push(Timeout::new(Duration::from_millis(5))).unwrap();
    let c = ring.wait().unwrap();
    assert_eq!(c.result(), Err(uring::Errno::TIME));
    let t: Timeout = c.into_op().unwrap();
    assert_eq!(t.ts.as_raw().tv_nsec, 5_000_000);
}

/// A chain whose first link skips its success completion: both come back with the last one.
#[test]
fn chain_with_skip_success() {
    let path = std::env::temp_dir().join(format!("uring-owned-chain-{}", std::process::id()));
    let f = std::fs::OpenOptions::new().create(true).truncate(true).read(true).write(true).open(&path).unwrap();
    let mut ring = OwnedRing::new(8).unwrap();
    let chain = vec![
        OwnedOp::Write(Write::new(dup(&f), b"chained".to_vec(), 0)),
        OwnedOp::Read(Read::new(dup(&f), vec![0; 7], 0)),
    ];
    let ids = ring.push_chain(chain, true).unwrap();
    assert_eq!(ring.in_flight(), 2);
    let c = ring.wait().unwrap();
    assert_eq!(c.id(), Some(ids[1]), "the skipped link posts nothing on success");
    assert_eq!(c.result(), Ok(7));
    let r: Read = c.into_op().unwrap();
    assert_eq!(&r.buf, b"chained");
    assert_eq!(ring.in_flight(), 1, "the skipped link is handed back next");
    let c = ring.next().expect("the skipped link comes back after the chain's end");
    assert_eq!(c.id(), Some(ids[0]));
    assert_eq!(c.result(), Ok(0));
    let w: Write = c.into_op().unwrap();
    assert_eq!(&w.buf, b"chained");
    assert_eq!(ring.in_flight(), 0);
    assert!(ring.next().is_none());
    std::fs::remove_file(&path).unwrap();
}

/// A skipped link that fails posts the chain's only completion: the links before it come back
/// with 0, the links after it (cancelled by the kernel without completions) with ECANCELED, and
/// their slots are free for reuse.
#[test]
fn failed_skip_link_hands_back_the_whole_chain() {
    let path = std::env::temp_dir().join(format!("uring-owned-chain-fail-{}", std::process::id()));
    let f = std::fs::OpenOptions::new().create(true).truncate(true).read(true).write(true).open(&path).unwrap();
    let mut ring = OwnedRing::new(8).unwrap();
    let chain = vec![
        OwnedOp::Write(Write::new(dup(&f), b"ok".to_vec(), 0)),
        // Not a file of the (empty) registered table: fails with EBADF... or ENXIO without a
        // table, which is what this ring has.
        OwnedOp::Read(Read::new(uring::owned::Fd::fixed(9999), vec![0; 4], 0)),
        OwnedOp::Write(Write::new(dup(&f), b"never".to_vec(), 0)),
        OwnedOp::Nop(uring::owned::Nop),
    ];
    let ids = ring.push_chain(chain, true).unwrap();
    let c = ring.wait().unwrap();
    assert_eq!(c.id(), Some(ids[1]));
    assert_eq!(c.result(), Err(uring::Errno::BADF));
    let _: Read = c.into_op().unwrap();
    let c = ring.next().unwrap();
    assert_eq!((c.id(), c.result()), (Some(ids[0]), Ok(0)), "the link before the failure succeeded");
    assert_eq!(c.into_op::<Write>().unwrap().buf, b"ok");
    let c = ring.next().unwrap();
    assert_eq!((c.id(), c.result()), (Some(ids[2]), Err(uring::Errno::CANCELED)));
    assert_eq!(c.into_op::<Write>().unwrap().buf, b"never");
    let c = ring.next().unwrap();
    assert_eq!((c.id(), c.result()), (Some(ids[3]), Err(uring::Errno::CANCELED)));
    drop(c);
    assert_eq!(ring.in_flight(), 0);
    assert!(ring.next().is_none());
    // The kernel posts nothing more for the chain; the freed slots serve new operations.
    for _ in 0..4 {
        ring.push(uring::owned::Nop).unwrap();
    }
    ring.submit_and_wait(4).unwrap();
    let mut n = 0;
    while let Some(c) = ring.next() {
        assert_eq!(c.result(), Ok(0));
        assert!(c.into_op::<uring::owned::Nop>().is_ok());
        n += 1;
    }
    assert_eq!(n, 4);
    assert_eq!(std::fs::read(&path).unwrap(), b"ok");
    std::fs::remove_file(&path).unwrap();
}

/// A linked timeout cannot be part of a chain that skips success completions.
#[test]
fn skip_chain_refuses_linked_timeouts() {
    let mut ring = OwnedRing::new(4).unwrap();
    let chain = vec![
        OwnedOp::Nop(uring::owned::Nop),
        OwnedOp::LinkTimeout(uring::owned::LinkTimeout::new(Duration::from_secs(1))),
    ];
    let r = ring.push_chain(chain, true).unwrap_err();
    assert_eq!(r.op.len(), 2);
    assert_eq!(ring.in_flight(), 0);
}

/// Owned and raw entries share the ring; a lone skip-success owned op is refused.
#[test]
fn raw_and_owned_side_by_side() {
    let mut ring = OwnedRing::new(4).unwrap();
    ring.push_safe(&uring::op::Nop::new().build().user_data(5)).unwrap();
    assert!(ring.push_safe(&uring::op::Nop::new().build().user_data(1 << 63)).is_err());
    let id = ring.push(uring::owned::Nop).unwrap();
    ring.submit_and_wait(2).unwrap();
    let mut raw = 0;
    let mut owned = 0;
    while let Some(c) = ring.next() {
        match c.id() {
            None => {
                assert_eq!(c.cqe().user_data(), 5);
                raw += 1;
            }
            Some(i) => {
                assert_eq!(i, id);
                owned += 1;
            }
        }
    }
    assert_eq!((raw, owned), (1, 1));
    let r = ring.push_with(uring::owned::Nop, uring::SqeFlags::CQE_SKIP_SUCCESS);
    assert!(r.is_err());
}

/// One or more tests per operation family of the owned layer. Each moves its operations into
/// the ring and keeps no handle to their memory, then checks that the kernel's writes landed in
/// the memory that comes back with the final completion.
/// The batch handle and `for_each_completion`: reads pushed in one batch come back with their
/// buffers filled, the in-flight count follows, and the freed slots serve the next batch.
#[test]
fn batch_push_and_for_each_completion() {
    let path = std::env::temp_dir().join(format!("uring-owned-batch-{}", std::process::id()));
    std::fs::write(&path, (0..64u8).collect::<Vec<_>>()).unwrap();
    let f = std::fs::File::open(&path).unwrap();
    let mut ring = OwnedRing::new(16).unwrap();
    for round in 0..3 {
        {
            let mut sq = ring.batch();
            for i in 0..8u64 {
                sq.push(Read::new(dup(&f), vec![0; 8], i * 8)).unwrap();
            }
        }
        assert_eq!(ring.in_flight(), 8, "round {round}");
        ring.submit_and_wait(8).unwrap();
        let mut seen = Vec::new();
        let n = ring.for_each_completion(|c| {
            assert_eq!(c.result(), Ok(8));
            assert!(!c.more());
            let r: Read = c.into_op().unwrap();
            seen.push(r.buf[0]);
            assert_eq!(r.buf, (r.buf[0]..r.buf[0] + 8).collect::<Vec<_>>());
        });
        assert_eq!(n, 8);
        seen.sort();
        assert_eq!(seen, vec![0, 8, 16, 24, 32, 40, 48, 56]);
        assert_eq!(ring.in_flight(), 0);
    }
    std::fs::remove_file(&path).unwrap();
}

/// A batch handle stops at a full SQ and hands the operation back; what it pushed stays.
#[test]
fn batch_push_on_a_full_queue_hands_the_operation_back() {
    let mut ring = OwnedRing::new(4).unwrap();
    {
        let mut sq = ring.batch();
        for _ in 0..4 {
            sq.push(Timeout::new(Duration::from_millis(1))).unwrap();
        }
        let r = sq.push(Timeout::new(Duration::from_secs(7))).unwrap_err();
        assert!(matches!(r.error, uring::Error::SubmissionQueueFull), "{:?}", r.error);
        assert_eq!(r.op.ts.as_raw().tv_sec, 7);
        let r = sq.push_with(uring::owned::Nop, uring::sqe::SqeFlags::CQE_SKIP_SUCCESS).unwrap_err();
        assert!(matches!(r.error, uring::Error::InvalidArgument { .. }));
    }
    assert_eq!(ring.in_flight(), 4);
    let mut back = 0;
    while back < 4 {
        ring.submit_and_wait(1).unwrap();
        back += ring.for_each_completion(|c| {
            assert_eq!(c.result(), Err(uring::Errno::TIME));
            assert!(c.into_op::<Timeout>().is_ok());
        });
    }
    assert_eq!(ring.in_flight(), 0);
}

/// Raw entries, cancel requests (internal, never surfaced), a skip-success chain and operations
/// not taken back, through both `completions()` and `for_each_completion`.
#[test]
fn completion_handles_sort_raw_internal_and_chain_entries() {
    let path = std::env::temp_dir().join(format!("uring-owned-handles-{}", std::process::id()));
    let f = std::fs::OpenOptions::new().create(true).truncate(true).read(true).write(true).open(&path).unwrap();
    for use_for_each in [false, true] {
        let mut ring = OwnedRing::new(16).unwrap();
        ring.push_safe(&uring::op::Nop::new().build().user_data(77)).unwrap();
        let t = ring.push(Timeout::new(Duration::from_secs(30))).unwrap();
        ring.submit().unwrap();
        ring.cancel(t).unwrap();
        let chain = vec![
            OwnedOp::Write(Write::new(dup(&f), b"ab".to_vec(), 0)),
            OwnedOp::Read(Read::new(dup(&f), vec![0; 2], 0)),
        ];
        let ids = ring.push_chain(chain, true).unwrap();
        // Dropped without being taken: its memory goes with the completion.
        ring.push(Write::new(dup(&f), b"x".to_vec(), 8)).unwrap();
        let mut got: Vec<(Option<uring::owned::OpId>, i32, Option<&'static str>)> = Vec::new();
        while got.len() < 5 {
            ring.submit_and_wait(1).unwrap();
            let kind = |op: Option<&OwnedOp>| match op {
                Some(OwnedOp::Read(_)) => Some("read"),
                Some(OwnedOp::Write(_)) => Some("write"),
                Some(OwnedOp::Timeout(_)) => Some("timeout"),
                _ => None,
            };
            if use_for_each {
                ring.for_each_completion(|c| got.push((c.id(), c.cqe().raw_result(), kind(c.op()))));
            } else {
                for c in ring.completions() {
                    got.push((c.id(), c.cqe().raw_result(), kind(c.op())));
                }
            }
        }
        assert_eq!(got.len(), 5, "{got:?}");
        assert!(got.contains(&(None, 0, None)), "the raw NOP: {got:?}");
        assert!(got.contains(&(Some(t), -libc::ECANCELED, Some("timeout"))), "{got:?}");
        let r = got.iter().position(|g| g.0 == Some(ids[1])).unwrap();
        assert_eq!(got[r], (Some(ids[1]), 2, Some("read")));
        assert_eq!(got[r + 1], (Some(ids[0]), 0, Some("write")), "the skipped link follows the chain's end");
        assert_eq!(ring.in_flight(), 0, "{got:?}");
        assert!(ring.next().is_none());
    }
    std::fs::remove_file(&path).unwrap();
}

/// Leaking a batch handle or a completion handle with `mem::forget` loses entries or slots,
/// never hands out a slot still in use (so nothing is freed under the kernel).
#[test]
fn forgotten_handles_leak_but_stay_sound() {
    let mut ring = OwnedRing::new(8).unwrap();
    let mut sq = ring.batch();
    let a = sq.push(uring::owned::Nop).unwrap();
    let b = sq.push(uring::owned::Nop).unwrap();
    std::mem::forget(sq);
    // The table knows both slots are taken even though the handle never ran its drop.
    assert_eq!(ring.in_flight(), 2);
    let c = ring.push(uring::owned::Nop).unwrap();
    assert_ne!(c, a);
    assert_ne!(c, b);
    let d = ring.push(uring::owned::Nop).unwrap();
    ring.submit_and_wait(2).unwrap();
    let mut done = ring.completions();
    let first = done.next().unwrap();
    let first_id = first.id().unwrap();
    assert!(first.into_op::<uring::owned::Nop>().is_ok());
    std::mem::forget(done);
    // The CQ head was not released: the entry shows up again, now stale (its slot's generation
    // moved on), so it is surfaced raw instead of handing anything back twice.
    let mut owned = Vec::new();
    let mut stale = 0;
    ring.for_each_completion(|c| match c.id() {
        Some(id) => owned.push((id, c.into_op::<uring::owned::Nop>().is_ok())),
        None => stale += 1,
    });
    assert_eq!(stale, 1);
    let other = if first_id == c { d } else { c };
    assert_eq!(owned, vec![(other, true)]);
    // Dropping the ring now waits briefly for the never-submitted entries, then leaks them.
}

mod families {
    use std::fs::File;
    use std::io::{Read as _, Write as _};
    use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::os::unix::net::UnixStream;
    use std::path::PathBuf;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use rustix::fs::{AtFlags, Mode, OFlags};
    use uring::buf::RecvMsgOut;
    use uring::buf::{BufRing, Selection};
    use uring::op::{BufGroupId, OpenHow, PipeFlags, WaitId, WaitidOptions};
    use uring::owned::{
        Accept, Bind, Connect, EpollCtl, EpollCtlOp, EpollWait, Fd, FgetXattr, FilesUpdate, FsetXattr, FutexWait,
        FutexWaitv, FutexWake, GetXattr, LinkAt, LinkTimeout, MkdirAt, OpenAt, OpenAt2, Operation, OwnedOp, OwnedRing,
        Pipe, ProvideBuffers, Read, ReadFixed, Readv, ReadvFixed, Recv, RecvMsg, RecvMsgMultishot, RecvMultishot,
        RecvSelect, RenameAt, SendBundle, SendMsg, SendMsgZc, SendZc, SetXattr, Statx, SymlinkAt, Timeout,
        TimeoutUpdate, UnlinkAt, Waitid, Write, WriteFixed, Writev, WritevFixed,
    };
    use uring::uapi::*;
    use uring::{Cqe, Errno, Error, Probe};

    use super::{common, dup};

    /// Whether the kernel has `op`; prints why the test is skipped otherwise.
    fn has(ring: &mut OwnedRing, test: &str, op: u8, name: &str) -> bool {
        let ok = Probe::of(ring.ring()).unwrap().is_supported(op);
        if !ok {
            common::skip(test, format!("kernel lacks {name}"));
        }
        ok
    }

    /// Waits for the next final completion and takes its operation back as `O`.
    fn finish<O: Operation>(ring: &mut OwnedRing) -> (Result<u32, Errno>, Cqe, O) {
        let c = ring.wait().unwrap();
        assert!(c.id().is_some() && !c.more(), "expected a final owned completion: {c:?}");
        let (res, cqe) = (c.result(), *c.cqe());
        (res, cqe, c.into_op::<O>().unwrap())
    }

    /// The final completion of an operation that creates an fd: the fd (which the completion
    /// hands over as an `OwnedFd`) and the operation.
    fn finish_fd<O: Operation>(ring: &mut OwnedRing) -> (OwnedFd, O) {
        let mut c = ring.wait().unwrap();
        assert!(c.id().is_some() && !c.more(), "expected a final owned completion: {c:?}");
        let fd = c.take_fd().unwrap_or_else(|| panic!("a new fd: {c:?}"));
        assert!(c.take_fd().is_none(), "taken once");
        (fd, c.into_op::<O>().unwrap())
    }

    /// A fresh directory for one test.
    fn tmp(test: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("uring-owned-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn tcp_pair() -> (TcpStream, TcpStream) {
        let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let c = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (s, _) = l.accept().unwrap();
        (c, s)
    }

    fn udp() -> UdpSocket {
        UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap()
    }

    /// Takes ownership of an fd a completion returned.
    fn own(fd: u32) -> OwnedFd {
        // SAFETY: the kernel just created this descriptor for us; nothing else owns it.
        unsafe { OwnedFd::from_raw_fd(fd as i32) }
    }

    #[test]
    fn readv_writev_rebuild_their_iovecs() {
        let d = tmp("rwv");
        let f = File::options().create(true).truncate(true).read(true).write(true).open(d.join("f")).unwrap();
        let mut ring = OwnedRing::new(8).unwrap();
        // Moved around before the push: the iovec array is built at the final address.
        let ops = vec![Writev::new(dup(&f), vec![b"hello ".to_vec(), b"vectored".to_vec()], 0)];
        ring.push(ops.into_iter().next().unwrap()).unwrap();
        let (res, _, w) = finish::<Writev>(&mut ring);
        assert_eq!(res, Ok(14));
        assert_eq!(w.bufs[1], b"vectored");
        ring.push(Readv::new(dup(&f), vec![vec![0; 5], vec![0; 9]], 0)).unwrap();
        let (res, _, r) = finish::<Readv>(&mut ring);
        assert_eq!(res, Ok(14));
        assert_eq!((&r.bufs[0][..], &r.bufs[1][..]), (&b"hello"[..], &b" vectored"[..]));
        std::fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn fixed_buffers_travel_with_their_operations() {
        let test = "fixed_buffers_travel_with_their_operations";
        let d = tmp("fixed");
        let f = File::options().create(true).truncate(true).read(true).write(true).open(d.join("f")).unwrap();
        let mut ring = OwnedRing::new(8).unwrap();
        let mut bufs = ring.register_fixed_buffers(vec![vec![0u8; 64], vec![0u8; 64]]).unwrap();
        assert!(ring.register_fixed_buffers(vec![vec![0; 8]]).is_err(), "one table per ring (EBUSY)");
        assert!(matches!(ring.register_fixed_buffers(vec![Vec::new()]), Err(Error::InvalidArgument { .. })));
        let mut b1 = bufs.pop().unwrap();
        let b0 = bufs.pop().unwrap();
        assert_eq!((b0.index(), b1.index(), b1.len()), (0, 1, 64));
        b1.as_mut_slice()[..5].copy_from_slice(b"fixed");
        ring.push(WriteFixed::new(dup(&f), b1, 0..5, 0)).unwrap();
        let (res, _, w) = finish::<WriteFixed>(&mut ring);
        assert_eq!(res, Ok(5));
        ring.push(ReadFixed::new(dup(&f), b0, 0)).unwrap();
        let (res, _, r) = finish::<ReadFixed>(&mut ring);
        assert_eq!(res, Ok(5));
        assert_eq!(&r.buf.as_slice()[..5], b"fixed");
        // A range outside the buffer is refused at the push; the operation comes back.
        let mut bad = ReadFixed::new(dup(&f), r.buf, 0);
        bad.range = 60..70;
        let rejected = ring.push(bad).unwrap_err();
        assert!(matches!(rejected.error, Error::InvalidArgument { what: "fixed buffer range", .. }));
        assert_eq!(ring.in_flight(), 0);
        let b0 = rejected.op.buf;
        let b1 = w.buf;
        let (b0, b1) = if has(&mut ring, test, IORING_OP_READV_FIXED, "IORING_OP_READV_FIXED (6.15)") {
            ring.push(WritevFixed::new(dup(&f), b1, vec![0..2, 3..5], 10)).unwrap();
            let (res, _, w) = finish::<WritevFixed>(&mut ring);
            assert_eq!(res, Ok(4));
            ring.push(ReadvFixed::new(dup(&f), b0, vec![20..22, 30..32], 10)).unwrap();
            let (res, _, r) = finish::<ReadvFixed>(&mut ring);
            assert_eq!(res, Ok(4));
            assert_eq!((&r.buf.as_slice()[20..22], &r.buf.as_slice()[30..32]), (&b"fi"[..], &b"ed"[..]));
            (r.buf, w.buf)
        } else {
            (b0, b1)
        };
        // The handles outlive the ring: the memory stays valid.
        drop(ring);
        assert_eq!(&b0.as_slice()[..5], b"fixed");
        assert_eq!(&b1.as_slice()[..5], b"fixed");
        std::fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn path_operations_own_their_paths() {
        let d = tmp("paths");
        let mut ring = OwnedRing::new(8).unwrap();
        let dir = Arc::new(File::open(&d).unwrap());
        let mut mkdir = MkdirAt::new("sub", Mode::from_bits_truncate(0o755)).unwrap();
        mkdir.dir = Some(Fd::shared(dir.clone()));
        ring.push(mkdir).unwrap();
        assert_eq!(finish::<MkdirAt>(&mut ring).0, Ok(0));
        assert!(d.join("sub").is_dir());

        let path = d.join("sub/file");
        let open =
            OpenAt::new(&path, OFlags::CREATE | OFlags::WRONLY | OFlags::CLOEXEC, Mode::from_bits_truncate(0o644));
        ring.push(open.unwrap()).unwrap();
        let mut file = File::from(finish_fd::<OpenAt>(&mut ring).0);
        file.write_all(b"0123456789").unwrap();
        drop(file);

        ring.push(Statx::new(&path).unwrap()).unwrap();
        let (res, _, st) = finish::<Statx>(&mut ring);
        assert_eq!(res, Ok(0));
        assert_eq!(st.statx.stx_size, 10, "the kernel filled the owned statx");
        assert_eq!(u32::from(st.statx.stx_mode) & libc::S_IFMT, libc::S_IFREG);

        ring.push(SymlinkAt::new("sub/file", d.join("sym")).unwrap()).unwrap();
        assert_eq!(finish::<SymlinkAt>(&mut ring).0, Ok(0));
        assert_eq!(std::fs::read_link(d.join("sym")).unwrap(), PathBuf::from("sub/file"));
        ring.push(LinkAt::new(&path, d.join("hard")).unwrap()).unwrap();
        assert_eq!(finish::<LinkAt>(&mut ring).0, Ok(0));
        let mut rename = RenameAt::new("hard", "hard2").unwrap();
        rename.old_dir = Some(Fd::shared(dir.clone()));
        rename.new_dir = Some(Fd::shared(dir.clone()));
        ring.push(rename).unwrap();
        assert_eq!(finish::<RenameAt>(&mut ring).0, Ok(0));
        assert_eq!(std::fs::read(d.join("hard2")).unwrap(), b"0123456789");

        let how = OpenHow::new().flags(OFlags::RDONLY | OFlags::CLOEXEC);
        ring.push(OpenAt2::new(d.join("sym"), how).unwrap()).unwrap();
        let mut f = File::from(finish_fd::<OpenAt2>(&mut ring).0);
        let mut s = String::new();
        f.read_to_string(&mut s).unwrap();
        assert_eq!(s, "0123456789");

        for p in ["hard2", "sym", "sub/file"] {
            ring.push(UnlinkAt::new(d.join(p)).unwrap()).unwrap();
            assert_eq!(finish::<UnlinkAt>(&mut ring).0, Ok(0), "{p}");
        }
        let mut rmdir = UnlinkAt::new("sub").unwrap();
        rmdir.dir = Some(Fd::shared(dir));
        rmdir.flags = AtFlags::REMOVEDIR;
        ring.push(rmdir).unwrap();
        assert_eq!(finish::<UnlinkAt>(&mut ring).0, Ok(0));
        assert!(!d.join("sub").exists());
        // Bad input is a typed error, not a panic.
        assert!(matches!(OpenAt::new("a\0b", OFlags::RDONLY, Mode::empty()), Err(Error::InvalidArgument { .. })));
        assert!(FsetXattr::new(dup(&std::io::stdin()), "user.\0", Vec::new()).is_err());
        std::fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn xattrs_own_names_and_values() {
        let test = "xattrs_own_names_and_values";
        let mut ring = OwnedRing::new(8).unwrap();
        if !has(&mut ring, test, IORING_OP_FSETXATTR, "IORING_OP_FSETXATTR (5.19)") {
            return;
        }
        let d = tmp("xattr");
        let path = d.join("f");
        let f = File::create(&path).unwrap();
        ring.push(FsetXattr::new(dup(&f), "user.owned", b"value".to_vec()).unwrap()).unwrap();
        let (res, _, _) = finish::<FsetXattr>(&mut ring);
        if res == Err(Errno::OPNOTSUPP) {
            common::skip(test, "the temporary directory's file system has no user xattrs");
            return;
        }
        assert_eq!(res, Ok(0));
        ring.push(FgetXattr::new(dup(&f), "user.owned", 32).unwrap()).unwrap();
        let (res, _, g) = finish::<FgetXattr>(&mut ring);
        assert_eq!(res, Ok(5));
        assert_eq!(&g.value[..5], b"value");
        ring.push(SetXattr::new(&path, "user.other", b"v2".to_vec()).unwrap()).unwrap();
        assert_eq!(finish::<SetXattr>(&mut ring).0, Ok(0));
        ring.push(GetXattr::new(&path, "user.other", 16).unwrap()).unwrap();
        let (res, _, g) = finish::<GetXattr>(&mut ring);
        assert_eq!((res, &g.value[..2]), (Ok(2), &b"v2"[..]));
        std::fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn accept_returns_the_peer_address() {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let mut ring = OwnedRing::new(8).unwrap();
        ring.push(Accept::new(dup(&listener))).unwrap();
        ring.submit().unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (fd, acc) = finish_fd::<Accept>(&mut ring);
        let mut server = TcpStream::from(fd);
        assert_eq!(acc.peer.socket_addr(), Some(client.local_addr().unwrap()), "the kernel wrote the owned address");
        server.write_all(b"hi").unwrap();
        let mut b = [0u8; 2];
        (&client).read_exact(&mut b).unwrap();
        assert_eq!(&b, b"hi");
    }

    #[test]
    fn connect_bind_send_recv() {
        let test = "connect_bind_send_recv";
        let mut ring = OwnedRing::new(8).unwrap();
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let sock =
            rustix::net::socket(rustix::net::AddressFamily::INET, rustix::net::SocketType::STREAM, None).unwrap();
        if has(&mut ring, test, IORING_OP_BIND, "IORING_OP_BIND (6.11)") {
            ring.push(Bind::new(dup(&sock), SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))).unwrap();
            assert_eq!(finish::<Bind>(&mut ring).0, Ok(0));
        }
        ring.push(Connect::new(dup(&sock), listener.local_addr().unwrap())).unwrap();
        assert_eq!(finish::<Connect>(&mut ring).0, Ok(0));
        let (mut peer, from) = listener.accept().unwrap();
        assert_eq!(from.ip(), Ipv4Addr::LOCALHOST);

        ring.push(uring::owned::Send::new(dup(&sock), b"ping".to_vec())).unwrap();
        assert_eq!(finish::<uring::owned::Send>(&mut ring).0, Ok(4));
        let mut b = [0u8; 4];
        peer.read_exact(&mut b).unwrap();
        assert_eq!(&b, b"ping");

        ring.push(Recv::new(dup(&sock), vec![0; 16])).unwrap();
        ring.submit().unwrap();
        peer.write_all(b"pong").unwrap();
        let (res, _, r) = finish::<Recv>(&mut ring);
        assert_eq!((res, &r.buf[..4]), (Ok(4), &b"pong"[..]));

        // sendto on an unconnected datagram socket.
        let (a, b) = (udp(), udp());
        ring.push(uring::owned::Send::new(dup(&a), b"dgram".to_vec()).to(b.local_addr().unwrap())).unwrap();
        assert_eq!(finish::<uring::owned::Send>(&mut ring).0, Ok(5));
        let mut buf = [0u8; 8];
        let (n, src) = b.recv_from(&mut buf).unwrap();
        assert_eq!((&buf[..n], src), (&b"dgram"[..], a.local_addr().unwrap()));
    }

    #[test]
    fn send_zc_returns_its_buffer_with_the_notification() {
        let test = "send_zc_returns_its_buffer_with_the_notification";
        let mut ring = OwnedRing::new(8).unwrap();
        if !has(&mut ring, test, IORING_OP_SEND_ZC, "IORING_OP_SEND_ZC (6.0)") {
            return;
        }
        let (client, mut server) = tcp_pair();
        let id = ring.push(SendZc::new(dup(&client), vec![7u8; 1000])).unwrap();
        ring.submit().unwrap();
        {
            let first = ring.wait().unwrap();
            assert_eq!((first.id(), first.result()), (Some(id), Ok(1000)));
            assert!(first.more() && first.op().is_none(), "the buffer stays in the ring until the notification");
        }
        assert_eq!(ring.in_flight(), 1);
        let second = ring.wait().unwrap();
        assert_eq!(second.id(), Some(id));
        assert!(second.cqe().is_notification());
        let op: SendZc = second.into_op().unwrap();
        assert_eq!(op.buf, vec![7u8; 1000]);
        assert_eq!(ring.in_flight(), 0);
        let mut got = vec![0u8; 1000];
        server.read_exact(&mut got).unwrap();
        assert!(got.iter().all(|&b| b == 7));
    }

    #[test]
    fn sendmsg_recvmsg_own_their_messages() {
        let mut ring = OwnedRing::new(8).unwrap();
        let (a, b) = (udp(), udp());
        let rid = ring.push(RecvMsg::new(dup(&b), vec![vec![0; 3], vec![0; 10]], 0)).unwrap();
        ring.submit().unwrap();
        let mut m = SendMsg::new(dup(&a), vec![b"abc".to_vec(), b"defg".to_vec()]);
        m.name = Some(b.local_addr().unwrap().into());
        ring.push(m).unwrap();
        let mut seen = 0;
        while seen < 2 {
            let c = ring.wait().unwrap();
            seen += 1;
            if c.id() == Some(rid) {
                assert_eq!(c.result(), Ok(7));
                let r: RecvMsg = c.into_op().unwrap();
                assert_eq!((&r.bufs[0][..], &r.bufs[1][..4]), (&b"abc"[..], &b"defg"[..]));
                assert_eq!(
                    r.source().and_then(|s| std::net::SocketAddr::try_from(s).ok()),
                    Some(a.local_addr().unwrap())
                );
            } else {
                assert_eq!(c.result(), Ok(7));
                let s: SendMsg = c.into_op().unwrap();
                assert_eq!(s.bufs.len(), 2);
            }
        }

        // Control data: pass a pipe's write end with SCM_RIGHTS over a Unix socket pair.
        let (x, y) = UnixStream::pair().unwrap();
        let (pr, pw) = rustix::pipe::pipe().unwrap();
        let mut control = Vec::with_capacity(24);
        control.extend_from_slice(&(20usize).to_ne_bytes()); // CMSG_LEN(4)
        control.extend_from_slice(&libc::SOL_SOCKET.to_ne_bytes());
        control.extend_from_slice(&libc::SCM_RIGHTS.to_ne_bytes());
        control.extend_from_slice(&pw.as_raw_fd().to_ne_bytes());
        control.extend_from_slice(&[0; 4]); // CMSG_SPACE(4) = 24
        let mut m = SendMsg::new(dup(&x), vec![b"fd".to_vec()]);
        m.control = control;
        ring.push(m).unwrap();
        assert_eq!(finish::<SendMsg>(&mut ring).0, Ok(2));
        drop(pw);
        ring.push(RecvMsg::new(dup(&y), vec![vec![0; 8]], 64)).unwrap();
        let (res, _, r) = finish::<RecvMsg>(&mut ring);
        assert_eq!(res, Ok(2));
        assert_eq!(r.control_len(), 24, "one SCM_RIGHTS message with one fd: CMSG_SPACE(4)");
        let c = &r.control;
        assert_eq!(usize::from_ne_bytes(c[..8].try_into().unwrap()), 20, "CMSG_LEN(4)");
        assert_eq!(i32::from_ne_bytes(c[8..12].try_into().unwrap()), libc::SOL_SOCKET);
        assert_eq!(i32::from_ne_bytes(c[12..16].try_into().unwrap()), libc::SCM_RIGHTS);
        let got = own(i32::from_ne_bytes(c[16..20].try_into().unwrap()) as u32);
        rustix::io::write(&got, b"!").unwrap();
        let mut one = [0u8; 1];
        rustix::io::read(&pr, &mut one).unwrap();
        assert_eq!(&one, b"!");
        assert!(!r.msg_flags().contains(rustix::net::ReturnFlags::CTRUNC));
    }

    #[test]
    fn sendmsg_zc_returns_its_message_with_the_notification() {
        let test = "sendmsg_zc_returns_its_message_with_the_notification";
        let mut ring = OwnedRing::new(8).unwrap();
        if !has(&mut ring, test, IORING_OP_SENDMSG_ZC, "IORING_OP_SENDMSG_ZC (6.1)") {
            return;
        }
        let (a, b) = (udp(), udp());
        let mut m = SendMsgZc::new(dup(&a), vec![b"zero".to_vec(), b"copy".to_vec()]);
        m.name = Some(b.local_addr().unwrap().into());
        ring.push(m).unwrap();
        {
            let first = ring.wait().unwrap();
            assert_eq!(first.result(), Ok(8));
            assert!(first.more());
        }
        let (res, cqe, back) = finish::<SendMsgZc>(&mut ring);
        assert!(cqe.is_notification());
        assert_eq!(res, Ok(0));
        assert_eq!(back.bufs, vec![b"zero".to_vec(), b"copy".to_vec()]);
        let mut buf = [0u8; 16];
        assert_eq!(b.recv(&mut buf).unwrap(), 8);
        assert_eq!(&buf[..8], b"zerocopy");
    }

    #[test]
    fn multishot_recv_with_a_buf_ring() {
        let mut ring = OwnedRing::new(8).unwrap();
        let br = ring.buf_ring(BufRing::builder(5, 8, 64)).unwrap();
        let (mut w, r) = UnixStream::pair().unwrap();
        let id = ring.push(RecvMultishot::new(dup(&r), &br)).unwrap();
        ring.submit().unwrap();
        let mut got = Vec::new();
        for chunk in [b"one", b"two", b"six"] {
            w.write_all(chunk).unwrap();
            let mut c = ring.wait().unwrap();
            assert_eq!(c.id(), Some(id));
            assert!(c.more(), "a multishot receive keeps its slot");
            match c.select(&br).unwrap() {
                Selection::Buffer(b) => got.extend_from_slice(b.data()),
                other => panic!("expected one buffer, got {other:?}"),
            }
            // A completion selects once.
            assert!(matches!(c.select(&br), Err(uring::Error::InvalidArgument { .. })));
            drop(c);
            assert_eq!(ring.in_flight(), 1);
        }
        drop(w);
        let c = ring.wait().unwrap();
        assert!(!c.more());
        assert_eq!(c.result(), Ok(0), "end of stream ends the receive");
        let op: RecvMultishot = c.into_op().unwrap();
        assert_eq!(op.bgid(), 5);
        assert_eq!(got, b"onetwosix");
        assert_eq!((ring.in_flight(), br.held()), (0, 0));
    }

    #[test]
    fn buf_ring_receive_select_recvmsg_multishot_and_bundle_send() {
        let test = "buf_ring_receive_select_recvmsg_multishot_and_bundle_send";
        let mut ring = OwnedRing::new(8).unwrap();
        let br = ring.buf_ring(BufRing::builder(6, 4, 32)).unwrap();
        let (mut w, r) = UnixStream::pair().unwrap();
        ring.push(RecvSelect::new(dup(&r), &br)).unwrap();
        ring.submit().unwrap();
        w.write_all(b"selected").unwrap();
        let mut c = ring.wait().unwrap();
        assert_eq!(c.result(), Ok(8));
        let sel = c.select(&br).unwrap();
        assert_eq!(sel.data(), Some(&b"selected"[..]));
        drop(sel);
        let op: RecvSelect = c.into_op().unwrap();
        assert_eq!(op.bgid(), 6);

        // Multishot recvmsg: each buffer carries header, source address and payload.
        let br2 = ring.buf_ring(BufRing::builder(7, 4, 256)).unwrap();
        let (a, b) = (udp(), udp());
        let m = RecvMsgMultishot::new(dup(&b), &br2);
        let (name_len, control_len) = (m.name_len, m.control_len);
        let id = ring.push(m).unwrap();
        ring.submit().unwrap();
        a.send_to(b"datagram", b.local_addr().unwrap()).unwrap();
        {
            let mut c = ring.wait().unwrap();
            assert!(c.more());
            // Another buffer ring than the operation's is refused.
            assert!(matches!(c.select(&br), Err(uring::Error::InvalidArgument { what: "buffer ring", .. })));
            let sel = c.select(&br2).unwrap();
            let out = RecvMsgOut::parse(sel.data().unwrap(), name_len, control_len).unwrap();
            assert_eq!(out.payload(), b"datagram");
            assert_eq!(out.source_addr(), Some(a.local_addr().unwrap()));
        }
        // Cancelled: the operation comes back with the final completion.
        ring.cancel(id).unwrap();
        let c = ring.wait().unwrap();
        assert_eq!((c.id(), c.result()), (Some(id), Err(Errno::CANCELED)));
        let _: RecvMsgMultishot = c.into_op().unwrap();

        if has(&mut ring, test, IORING_OP_SEND, "IORING_OP_SEND") {
            // A bundle send of every queued buffer of a fresh ring (2 x 16 zero bytes).
            let br3 = ring.buf_ring(BufRing::builder(8, 2, 16)).unwrap();
            let (x, mut y) = UnixStream::pair().unwrap();
            ring.push(SendBundle::new(dup(&x), &br3)).unwrap();
            let mut c = ring.wait().unwrap();
            if c.result() == Err(Errno::INVAL) {
                common::skip(test, "kernel lacks send bundles (6.10)");
                return;
            }
            assert_eq!(c.result(), Ok(32));
            drop(c.select(&br3).unwrap());
            let _: SendBundle = c.into_op().unwrap();
            let mut got = [1u8; 32];
            y.read_exact(&mut got).unwrap();
            assert_eq!(got, [0u8; 32]);
        }
    }

    #[test]
    fn link_timeout_cancels_a_linked_read() {
        let mut ring = OwnedRing::new(8).unwrap();
        let (r, _w) = rustix::pipe::pipe().unwrap();
        let chain: Vec<OwnedOp> =
            vec![Read::new(dup(&r), vec![0; 8], u64::MAX).into(), LinkTimeout::new(Duration::from_millis(10)).into()];
        let ids = ring.push_chain(chain, false).unwrap();
        let mut seen = 0;
        while seen < 2 {
            let c = ring.wait().unwrap();
            seen += 1;
            match c.id() {
                Some(id) if id == ids[0] => {
                    assert_eq!(c.result(), Err(Errno::CANCELED));
                    assert_eq!(c.into_op::<Read>().unwrap().buf.len(), 8);
                }
                Some(id) if id == ids[1] => {
                    assert_eq!(c.result(), Err(Errno::TIME));
                    let t: LinkTimeout = c.into_op().unwrap();
                    assert_eq!(t.ts.as_raw().tv_nsec, 10_000_000);
                }
                other => panic!("unexpected completion {other:?}"),
            }
        }
        assert_eq!(ring.in_flight(), 0);
    }

    #[test]
    fn timeout_update_rearms_an_owned_timeout() {
        let mut ring = OwnedRing::new(8).unwrap();
        let start = Instant::now();
        let id = ring.push(Timeout::new(Duration::from_secs(30))).unwrap();
        ring.submit().unwrap();
        let uid = ring.push(TimeoutUpdate::new(id, Duration::from_millis(1))).unwrap();
        let mut seen = 0;
        while seen < 2 {
            let c = ring.wait().unwrap();
            seen += 1;
            if c.id() == Some(uid) {
                assert_eq!(c.result(), Ok(0));
                let _: TimeoutUpdate = c.into_op().unwrap();
            } else {
                assert_eq!((c.id(), c.result()), (Some(id), Err(Errno::TIME)));
                let _: Timeout = c.into_op().unwrap();
            }
        }
        assert!(start.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn epoll_ctl_and_wait_own_their_events() {
        let test = "epoll_ctl_and_wait_own_their_events";
        let mut ring = OwnedRing::new(8).unwrap();
        if !has(&mut ring, test, IORING_OP_EPOLL_CTL, "IORING_OP_EPOLL_CTL") {
            return;
        }
        let ep = rustix::event::epoll::create(rustix::event::epoll::CreateFlags::CLOEXEC).unwrap();
        let (r, w) = rustix::pipe::pipe().unwrap();
        // Shared, not duplicated: epoll keys its entries by file and fd number, so the delete
        // below must name the same numbers.
        let (ep, r) = (Arc::new(ep), Arc::new(r));
        ring.push(EpollCtl::new(
            Fd::shared(ep.clone()),
            Fd::shared(r.clone()),
            EpollCtlOp::Add,
            libc::EPOLLIN as u32,
            0x77,
        ))
        .unwrap();
        assert_eq!(finish::<EpollCtl>(&mut ring).0, Ok(0));
        if !has(&mut ring, test, IORING_OP_EPOLL_WAIT, "IORING_OP_EPOLL_WAIT (6.15)") {
            return;
        }
        ring.push(EpollWait::new(dup(&ep), 4)).unwrap();
        ring.submit().unwrap();
        rustix::io::write(&w, b"x").unwrap();
        let (res, _, wait) = finish::<EpollWait>(&mut ring);
        assert_eq!(res, Ok(1));
        let ev = wait.events[0];
        let (events, data) = (ev.events, ev.u64);
        assert_eq!(data, 0x77);
        assert!(events & libc::EPOLLIN as u32 != 0);
        ring.push(EpollCtl::new(Fd::shared(ep), Fd::shared(r), EpollCtlOp::Delete, 0, 0)).unwrap();
        assert_eq!(finish::<EpollCtl>(&mut ring).0, Ok(0));
    }

    #[test]
    fn waitid_fills_the_owned_siginfo() {
        let test = "waitid_fills_the_owned_siginfo";
        let mut ring = OwnedRing::new(8).unwrap();
        if !has(&mut ring, test, IORING_OP_WAITID, "IORING_OP_WAITID (6.7)") {
            return;
        }
        // SAFETY: the child only calls the async-signal-safe `_exit`.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork failed");
        if pid == 0 {
            // SAFETY: ends the child at once.
            unsafe { libc::_exit(7) };
        }
        ring.push(Waitid::new(WaitId::Pid(pid), WaitidOptions::EXITED)).unwrap();
        let (res, _, w) = finish::<Waitid>(&mut ring);
        assert_eq!(res, Ok(0));
        assert_eq!(w.info().si_signo, libc::SIGCHLD);
        assert_eq!((w.pid(), w.code(), w.status()), (pid, libc::CLD_EXITED, 7));
    }

    #[test]
    fn futexes_are_kept_alive_by_their_operations() {
        let test = "futexes_are_kept_alive_by_their_operations";
        let mut ring = OwnedRing::new(8).unwrap();
        if !has(&mut ring, test, IORING_OP_FUTEX_WAIT, "IORING_OP_FUTEX_WAIT (6.7)") {
            return;
        }
        let word = Arc::new(AtomicU32::new(0));
        let wait = ring.push(FutexWait::new(word.clone(), 0)).unwrap();
        ring.submit().unwrap();
        let wake = FutexWake::new(word.clone(), 1);
        drop(word); // only the operations hold the word now
        ring.push(wake).unwrap();
        let mut seen = 0;
        while seen < 2 {
            let c = ring.wait().unwrap();
            seen += 1;
            if c.id() == Some(wait) {
                assert_eq!(c.result(), Ok(0), "woken");
                let w: FutexWait = c.into_op().unwrap();
                assert_eq!(w.futex.load(Ordering::Relaxed), 0);
            } else {
                assert_eq!(c.result(), Ok(1), "one waiter woken");
                let _: FutexWake = c.into_op().unwrap();
            }
        }

        let (a, b) = (Arc::new(AtomicU32::new(0)), Arc::new(AtomicU32::new(0)));
        let waitv = ring.push(FutexWaitv::new(vec![(a.clone(), 0), (b.clone(), 0)]).unwrap()).unwrap();
        ring.submit().unwrap();
        b.store(1, Ordering::Release);
        ring.push(FutexWake::new(b.clone(), 1)).unwrap();
        drop((a, b));
        let mut seen = 0;
        while seen < 2 {
            let c = ring.wait().unwrap();
            seen += 1;
            if c.id() == Some(waitv) {
                assert_eq!(c.result(), Ok(1), "the second word was woken");
                let v: FutexWaitv = c.into_op().unwrap();
                assert_eq!(v.futexes.len(), 2);
            } else {
                let _: FutexWake = c.into_op().unwrap();
            }
        }
        assert!(FutexWaitv::new(Vec::new()).is_err());
    }

    #[test]
    fn pipe_returns_its_fds() {
        let test = "pipe_returns_its_fds";
        let mut ring = OwnedRing::new(8).unwrap();
        if !has(&mut ring, test, IORING_OP_PIPE, "IORING_OP_PIPE (6.16)") {
            return;
        }
        ring.push(Pipe::new(PipeFlags::CLOEXEC)).unwrap();
        let (res, _, mut p) = finish::<Pipe>(&mut ring);
        assert_eq!(res, Ok(0));
        let (r, w) = p.take_ends().expect("both ends, as OwnedFds");
        assert!(p.take_ends().is_none(), "taken once");
        rustix::io::write(&w, b"piped").unwrap();
        let mut buf = [0u8; 5];
        rustix::io::read(&r, &mut buf).unwrap();
        assert_eq!(&buf, b"piped");
    }

    #[test]
    fn files_update_from_an_owned_array() {
        let mut ring = OwnedRing::new(8).unwrap();
        let reg = io_uring_rsrc_register { nr: 4, flags: IORING_RSRC_REGISTER_SPARSE, ..Default::default() };
        // SAFETY: a valid `io_uring_rsrc_register` of its own size; the kernel copies it.
        unsafe {
            ring.ring().submitter().register_raw(
                IORING_REGISTER_FILES2,
                (&reg as *const io_uring_rsrc_register).cast(),
                core::mem::size_of::<io_uring_rsrc_register>() as u32,
            )
        }
        .unwrap();
        let (r, w) = rustix::pipe::pipe().unwrap();
        ring.push(FilesUpdate::new(vec![Some(dup(&r).into()), Some(dup(&w).into())], 0)).unwrap();
        assert_eq!(finish::<FilesUpdate>(&mut ring).0, Ok(2));
        ring.push(FilesUpdate::alloc(vec![Some(dup(&r).into())])).unwrap();
        let (res, _, up) = finish::<FilesUpdate>(&mut ring);
        assert_eq!(res, Ok(1));
        assert!((2..4).contains(&up.slots()[0]), "the kernel wrote the chosen slot back: {:?}", up.slots());
        drop((r, w));
        ring.push(Write::new(Fd::fixed(1), b"slot".to_vec(), u64::MAX)).unwrap();
        assert_eq!(finish::<Write>(&mut ring).0, Ok(4));
        ring.push(Read::new(Fd::fixed(up.slots()[0] as u32), vec![0; 8], u64::MAX)).unwrap();
        let (res, _, rd) = finish::<Read>(&mut ring);
        assert_eq!((res, &rd.buf[..4]), (Ok(4), &b"slot"[..]));
    }

    #[test]
    fn provided_buffers_stay_with_the_ring() {
        let test = "provided_buffers_stay_with_the_ring";
        let mut ring = OwnedRing::new(8).unwrap();
        if !has(&mut ring, test, IORING_OP_PROVIDE_BUFFERS, "IORING_OP_PROVIDE_BUFFERS") {
            return;
        }
        let pb = ProvideBuffers::new(vec![0u8; 4 * 64], 64, 4, 9, 0).unwrap();
        assert!(ProvideBuffers::new(vec![0u8; 10], 64, 4, 9, 0).is_err(), "memory too small");
        // A plain push cannot hand the memory to the ring: refused, the operation comes back.
        let rejected = ring.push(pb).unwrap_err();
        assert!(rejected.op.holds_memory());
        assert_eq!(ring.in_flight(), 0);
        ring.provide_buffers(rejected.op).unwrap();
        let (res, _, back) = finish::<ProvideBuffers>(&mut ring);
        assert_eq!(res, Ok(0));
        assert!(!back.holds_memory(), "the memory stays with the ring: the kernel still uses it");
        assert!(ring.provide_buffers(back).is_err(), "nothing left to provide");
        // The kernel writes a provided buffer after that completion.
        let (r, w) = rustix::pipe::pipe().unwrap();
        rustix::io::write(&w, b"late").unwrap();
        let sqe = uring::op::Read::selected(&r, 0, &BufGroupId(9)).unwrap().build();
        // SAFETY: the entry points at no caller memory (the buffer comes from group 9, whose
        // memory the ring keeps until it is dropped), `r` stays open until the completion is
        // reaped just below, and its `user_data` has bit 63 clear.
        unsafe { ring.ring_mut().sq().push_raw(&sqe.user_data(1)) }.unwrap();
        let c = ring.wait().unwrap();
        assert_eq!((c.id(), c.result()), (None, Ok(4)));
        assert!(c.cqe().buffer_id().is_some());
    }

    /// Cancelling hands the memory back only with the kernel's final completion, for a receive,
    /// an accept with an address, and a futex wait.
    #[test]
    fn cancel_before_complete_network_and_futex() {
        let mut ring = OwnedRing::new(8).unwrap();
        let (_x, y) = UnixStream::pair().unwrap();
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let word = Arc::new(AtomicU32::new(0));
        let recv = ring.push(Recv::new(dup(&y), vec![0; 32])).unwrap();
        let accept = Accept::new(dup(&listener));
        let accept_fd = accept.fd.as_fd().unwrap().as_raw_fd();
        let acc = ring.push(accept).unwrap();
        let futex = if Probe::of(ring.ring()).unwrap().is_supported(IORING_OP_FUTEX_WAIT) {
            Some(ring.push(FutexWait::new(word.clone(), 0)).unwrap())
        } else {
            None
        };
        ring.submit().unwrap();
        let n = ring.in_flight();
        for id in [Some(recv), Some(acc), futex].into_iter().flatten() {
            ring.cancel(id).unwrap();
        }
        for _ in 0..n {
            let c = ring.wait().unwrap();
            assert_eq!(c.result(), Err(Errno::CANCELED));
            match c.op().unwrap() {
                OwnedOp::Recv(r) => assert_eq!(r.buf.len(), 32),
                OwnedOp::Accept(a) => assert_eq!(a.fd.as_fd().map(|f| f.as_raw_fd()), Some(accept_fd)),
                OwnedOp::FutexWait(f) => assert!(Arc::ptr_eq(&f.futex, &word)),
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(ring.in_flight(), 0);
    }

    /// Dropping the ring with operations of several families in flight cancels them and waits;
    /// nothing is freed under the kernel (run under AddressSanitizer: tests/asan.sh).
    #[test]
    fn drop_ring_with_in_flight_operations_of_every_family() {
        let (_x, y) = UnixStream::pair().unwrap();
        let (a, b) = (udp(), udp());
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let (pr, pw) = rustix::pipe::pipe().unwrap();
        let word = Arc::new(AtomicU32::new(0));
        {
            let mut ring = OwnedRing::new(16).unwrap();
            let br = ring.buf_ring(BufRing::builder(3, 4, 64)).unwrap();
            let fixed = ring.register_fixed_buffers(vec![vec![0u8; 128]]).unwrap().pop().unwrap();
            ring.push(Recv::new(dup(&y), vec![0; 64])).unwrap();
            ring.push(RecvMsg::new(dup(&b), vec![vec![0; 64]], 32)).unwrap();
            ring.push(Accept::new(dup(&listener))).unwrap();
            ring.push(RecvMultishot::new(dup(&y), &br)).unwrap();
            ring.push(ReadFixed::new(dup(&pr), fixed, u64::MAX)).unwrap();
            ring.push(Readv::new(dup(&pr), vec![vec![0; 8], vec![0; 8]], u64::MAX)).unwrap();
            ring.push(Timeout::new(Duration::from_secs(60))).unwrap();
            if Probe::of(ring.ring()).unwrap().is_supported(IORING_OP_FUTEX_WAIT) {
                ring.push(FutexWait::new(word.clone(), 0)).unwrap();
            }
            ring.submit().unwrap();
            assert!(ring.in_flight() >= 7);
        }
        // Late data finds nothing reading into freed memory.
        a.send_to(b"late", b.local_addr().unwrap()).unwrap();
        rustix::io::write(&pw, b"late").unwrap();
        assert_eq!(Arc::strong_count(&word), 1, "the cancelled wait gave its word back");
    }
}
