//! I/O safety (issue #14, section 5): owned operations keep their files open until their final
//! completion, fds the kernel creates come back as `OwnedFd`s (closed when not taken), and an
//! owned close hands its fd back when it never ran.
//!
//! The compile-time half lives in doc tests: a `Target` cannot be made from a raw number
//! without `unsafe` (`op::Target`), an `owned::Fd` cannot be made from one at all
//! (`owned::Fd`), and an `FdSqe` does not push without `unsafe` (`FdSqe`).
//!
//! Every test runs under a watchdog that aborts the process, naming the test and the step, if
//! it hangs.

mod common;

use std::fs::File;
use std::io::{Read as _, Seek, SeekFrom, Write as _};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use rustix::fs::{Mode, OFlags};
use uring::op::{self, Fixed};
use uring::owned::{
    AcceptMulti, Close, Completion, Fd, FdOp, FilesUpdate, FixedFdInstall, OpenAt, OwnedOp, OwnedRing, Pipe, Read,
    Socket, Write,
};
use uring::uapi::{IORING_OP_FIXED_FD_INSTALL, IORING_OP_PIPE, IORING_OP_SOCKET};
use uring::{Errno, Probe, SqeFlags};

/// Aborts the process if the test it guards runs longer than `limit`, naming the step it was
/// stuck in (set with [`Watchdog::step`]).
struct Watchdog {
    stop: Option<mpsc::Sender<()>>,
    step: Arc<Mutex<&'static str>>,
}

impl Watchdog {
    fn new(test: &'static str, limit: Duration) -> Watchdog {
        let (tx, rx) = mpsc::channel::<()>();
        let step = Arc::new(Mutex::new("start"));
        let seen = step.clone();
        std::thread::spawn(move || {
            if let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(limit) {
                let at = *seen.lock().unwrap_or_else(|e| e.into_inner());
                eprintln!("watchdog: {test} hung for {limit:?} in step `{at}`; aborting");
                std::process::abort();
            }
        });
        Watchdog { stop: Some(tx), step }
    }

    fn step(&self, what: &'static str) {
        *self.step.lock().unwrap_or_else(|e| e.into_inner()) = what;
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// A fresh path under the temp dir, removed when dropped.
struct TempPath(PathBuf);

impl TempPath {
    fn new(name: &str) -> TempPath {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        TempPath(std::env::temp_dir().join(format!("uring-io-safety-{}-{name}-{n}", std::process::id())))
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The identity of the open file an fd number names now (`None`: the number is not open).
fn identity(fd: RawFd) -> Option<(u64, u64)> {
    // SAFETY: the number is only passed to `fstat`, which reads the file's metadata; a number
    // that is not open fails with EBADF.
    let fd = unsafe { BorrowedFd::borrow_raw(fd) };
    rustix::fs::fstat(fd).ok().map(|st| (st.st_dev, st.st_ino))
}

/// Waits for the next completion (the watchdog covers a hang).
fn wait(ring: &mut OwnedRing) -> Completion {
    ring.wait().expect("wait for a completion")
}

/// The issue's scenario, safe code only: a write is pushed behind a request that blocks, the
/// caller lets go of its file, and a new file is opened. The kernel looks the fd up only when it
/// issues the write (after the blocking request completes): the owned operation still holds the
/// file, so the number still names it, the new file gets another number, and the data lands in
/// the file meant.
#[test]
fn an_owned_write_keeps_its_file_until_the_kernel_issues_it() {
    let dog = Watchdog::new("an_owned_write_keeps_its_file_until_the_kernel_issues_it", Duration::from_secs(20));
    let (pa, pb) = (TempPath::new("a"), TempPath::new("b"));
    let mut ring = OwnedRing::new(8).unwrap();
    let (r, w) = rustix::pipe::pipe().unwrap();

    for shared in [false, true] {
        let a = File::create(&pa.0).unwrap();
        let a_fd = a.as_raw_fd();
        let a_id = identity(a_fd);
        // A read on an empty pipe holds the chain; the write is issued only after it.
        ring.push_with(
            Read::new(Fd::shared(Arc::new(r.try_clone().unwrap())), vec![0; 1], u64::MAX),
            SqeFlags::IO_LINK,
        )
        .unwrap();
        let fd = if shared {
            // The caller keeps a clone of the `Arc` for a while, then drops it.
            let a = Arc::new(a);
            let op_fd = Fd::shared(a.clone());
            drop(a);
            op_fd
        } else {
            Fd::from(a)
        };
        ring.push(Write::new(fd, b"meant for A".to_vec(), 0)).unwrap();
        ring.submit().unwrap();
        // Nothing of the caller names file A any more; a new file is opened.
        let b = File::create(&pb.0).unwrap();
        assert_ne!(b.as_raw_fd(), a_fd, "A's number is still taken: the write holds A open");
        assert_eq!(identity(a_fd), a_id, "the number still names A");
        dog.step("waiting for the linked read and write");
        rustix::io::write(&w, b"x").unwrap();
        let mut wrote = None;
        for _ in 0..2 {
            let c = wait(&mut ring);
            match c.op() {
                Some(OwnedOp::Write(_)) => {
                    assert_eq!(c.result(), Ok(11));
                    let op: Write = c.into_op().unwrap();
                    wrote = Some(op);
                }
                Some(OwnedOp::Read(_)) => assert_eq!(c.result(), Ok(1)),
                other => panic!("unexpected {other:?}"),
            }
        }
        // The file comes back with the operation; dropping it closes A now.
        let op = wrote.expect("the write completed");
        assert!(op.fd.as_fd().is_some());
        drop(op);
        assert_eq!(std::fs::read(&pa.0).unwrap(), b"meant for A", "shared: {shared}");
        assert_eq!(std::fs::read(&pb.0).unwrap(), b"", "nothing landed in B (shared: {shared})");
        drop(b);
    }
}

/// `OpenAt` creates an fd: the completion hands it out once as an `OwnedFd`; a completion
/// dropped without taking it closes the fd.
#[test]
fn an_opened_fd_comes_back_as_owned_fd_or_is_closed() {
    let _dog = Watchdog::new("an_opened_fd_comes_back_as_owned_fd_or_is_closed", Duration::from_secs(20));
    let p = TempPath::new("open");
    std::fs::write(&p.0, b"opened through the ring").unwrap();
    let mut ring = OwnedRing::new(8).unwrap();

    ring.push(OpenAt::new(&p.0, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty()).unwrap()).unwrap();
    let mut c = wait(&mut ring);
    let fd: OwnedFd = c.take_fd().expect("a new fd");
    assert!(c.take_fd().is_none(), "handed out once");
    let raw = c.result().unwrap() as RawFd;
    assert_eq!(fd.as_raw_fd(), raw);
    let _: OpenAt = c.into_op().unwrap();
    let mut s = String::new();
    File::from(fd).read_to_string(&mut s).unwrap();
    assert_eq!(s, "opened through the ring");

    // Not taken: closed with the completion. The number may be reused by another test's file
    // at once, so "closed" is checked by identity: it no longer names the opened file.
    ring.push(OpenAt::new(&p.0, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty()).unwrap()).unwrap();
    let c = wait(&mut ring);
    let raw = c.result().unwrap() as RawFd;
    let opened = identity(raw).expect("open while the completion holds it");
    assert_eq!(opened, identity(File::open(&p.0).unwrap().as_raw_fd()).unwrap());
    drop(c);
    assert_ne!(identity(raw), Some(opened), "the completion closed the fd it was not asked for");

    // A direct destination's result is a slot, not an fd.
    ring.ring().submitter().register_files_sparse(2).unwrap();
    let mut open = OpenAt::new(&p.0, OFlags::RDONLY, Mode::empty()).unwrap();
    open.dest = op::DestSlot::Fixed(1);
    ring.push(open).unwrap();
    let mut c = wait(&mut ring);
    assert_eq!(c.result(), Ok(0));
    assert!(c.take_fd().is_none(), "a slot is not an fd");
}

/// `Socket` and a multishot accept: every new socket is an `OwnedFd` from its completion.
#[test]
fn sockets_and_accepted_connections_come_back_as_owned_fds() {
    let test = "sockets_and_accepted_connections_come_back_as_owned_fds";
    let dog = Watchdog::new(test, Duration::from_secs(20));
    let mut ring = OwnedRing::new(8).unwrap();
    if !Probe::of(ring.ring()).unwrap().is_supported(IORING_OP_SOCKET) {
        common::skip(test, "kernel lacks IORING_OP_SOCKET (5.19)");
        return;
    }
    ring.push(FdOp::of(
        op::Socket::new(libc::AF_INET, libc::SOCK_STREAM, 0).sock_flags(rustix::net::SocketFlags::CLOEXEC),
    ))
    .unwrap();
    let mut c = wait(&mut ring);
    let sock = c.take_fd().expect("a new socket");
    let _: Socket = c.into_op().unwrap();
    let st = rustix::fs::fstat(&sock).unwrap();
    assert_eq!(st.st_mode & libc::S_IFMT, libc::S_IFSOCK);

    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let addr = listener.local_addr().unwrap();
    let id = ring
        .push(FdOp::new(listener, |l| op::Accept::new(l).multishot().sock_flags(rustix::net::SocketFlags::CLOEXEC)))
        .unwrap();
    ring.submit().unwrap();
    let clients: Vec<TcpStream> = (0..2).map(|_| TcpStream::connect(addr).unwrap()).collect();
    let mut peers = Vec::new();
    dog.step("waiting for two accepts");
    for i in 0..2 {
        let mut c = wait(&mut ring);
        if i == 0 && c.result() == Err(Errno::INVAL) {
            common::skip(test, "kernel lacks IORING_ACCEPT_MULTISHOT (5.19)");
            return;
        }
        assert!(c.more(), "the multishot accept stays armed");
        let s = TcpStream::from(c.take_fd().expect("an accepted socket"));
        peers.push(s.peer_addr().unwrap());
    }
    let mut want: Vec<_> = clients.iter().map(|c| c.local_addr().unwrap()).collect();
    peers.sort();
    want.sort();
    assert_eq!(peers, want);
    dog.step("cancelling the accept");
    ring.cancel(id).unwrap();
    let c = wait(&mut ring);
    assert_eq!(c.result(), Err(Errno::CANCELED));
    let acc: AcceptMulti = c.into_op().unwrap();
    // The listener comes back with the operation.
    let listener = TcpListener::from(acc.fd.into_owned().unwrap());
    assert_eq!(listener.local_addr().unwrap(), addr);
}

/// `FixedFdInstall` gives a registered file an ordinary fd: an `OwnedFd` from the completion.
#[test]
fn an_installed_fd_comes_back_as_owned_fd() {
    let test = "an_installed_fd_comes_back_as_owned_fd";
    let _dog = Watchdog::new(test, Duration::from_secs(20));
    let mut ring = OwnedRing::new(8).unwrap();
    if !Probe::of(ring.ring()).unwrap().is_supported(IORING_OP_FIXED_FD_INSTALL) {
        common::skip(test, "kernel lacks IORING_OP_FIXED_FD_INSTALL (6.8)");
        return;
    }
    let p = TempPath::new("install");
    std::fs::write(&p.0, b"installed").unwrap();
    ring.ring().submitter().register_files_sparse(2).unwrap();
    // The update holds the file until the kernel has taken its own reference.
    ring.push(FilesUpdate::new(vec![Some(File::open(&p.0).unwrap().into())], 1)).unwrap();
    assert_eq!(wait(&mut ring).result(), Ok(1));
    ring.push(FdOp::of(op::FixedFdInstall::new(Fixed(1)))).unwrap();
    let mut c = wait(&mut ring);
    let fd = c.take_fd().expect("the installed fd");
    let _: FixedFdInstall = c.into_op().unwrap();
    let mut f = File::from(fd);
    let mut s = String::new();
    f.read_to_string(&mut s).unwrap();
    assert_eq!(s, "installed");
}

/// `Pipe` writes both ends into the operation: they are the operation's only after its final
/// completion, as `OwnedFd`s, and dropping the operation closes them.
#[test]
fn pipe_ends_come_back_as_owned_fds() {
    let test = "pipe_ends_come_back_as_owned_fds";
    let _dog = Watchdog::new(test, Duration::from_secs(20));
    let mut ring = OwnedRing::new(8).unwrap();
    if !Probe::of(ring.ring()).unwrap().is_supported(IORING_OP_PIPE) {
        common::skip(test, "kernel lacks IORING_OP_PIPE (6.16)");
        return;
    }
    ring.push(Pipe::new(op::PipeFlags::CLOEXEC)).unwrap();
    let c = wait(&mut ring);
    assert_eq!(c.result(), Ok(0));
    let mut p: Pipe = c.into_op().unwrap();
    let (r, w) = p.take_ends().expect("both ends");
    assert!(p.take_ends().is_none());
    rustix::io::write(&w, b"end").unwrap();
    let mut buf = [0u8; 3];
    rustix::io::read(&r, &mut buf).unwrap();
    assert_eq!(&buf, b"end");

    // Not taken: dropping the operation closes both ends (checked by identity: the numbers may
    // be reused by another test's files at once).
    ring.push(Pipe::new(op::PipeFlags::CLOEXEC)).unwrap();
    let c = wait(&mut ring);
    assert_eq!(c.result(), Ok(0));
    let p: Pipe = c.into_op().unwrap();
    let (r, w) = p.ends().expect("both ends, borrowed");
    let ends = [(r.as_raw_fd(), identity(r.as_raw_fd()).unwrap()), (w.as_raw_fd(), identity(w.as_raw_fd()).unwrap())];
    drop(p);
    for (n, id) in ends {
        assert_ne!(identity(n), Some(id), "fd {n} was closed with the operation");
    }
    // A completion dropped without taking the operation closes them too.
    ring.push(Pipe::new(op::PipeFlags::CLOEXEC)).unwrap();
    let c = wait(&mut ring);
    let Some(OwnedOp::Pipe(p)) = c.op() else { panic!("the pipe's final completion") };
    let (r, w) = p.ends().expect("both ends, borrowed");
    let ends = [(r.as_raw_fd(), identity(r.as_raw_fd()).unwrap()), (w.as_raw_fd(), identity(w.as_raw_fd()).unwrap())];
    drop(c);
    for (n, id) in ends {
        assert_ne!(identity(n), Some(id), "fd {n} was closed with the completion");
    }
}

/// An owned close: the fd is gone after it ran (whatever its result). A close cancelled before
/// it ran (linked after a failing request) completes with `ECANCELED`, which a file's flush can
/// also return after the number was released: the fd is forgotten then, never handed back
/// (another thread may own the number again), so it leaks but is never closed twice.
#[test]
fn close_never_hands_back_an_fd_it_may_have_closed() {
    let _dog = Watchdog::new("close_never_hands_back_an_fd_it_may_have_closed", Duration::from_secs(20));
    let mut ring = OwnedRing::new(8).unwrap();
    let p = TempPath::new("close");
    let f = File::create(&p.0).unwrap();
    let (raw, id) = (f.as_raw_fd(), identity(f.as_raw_fd()).unwrap());

    // Linked after a read of an empty registered slot (fails: no table), the close is cancelled
    // before it runs.
    let chain = vec![OwnedOp::Read(Read::new(Fd::fixed(5), vec![0; 1], 0)), OwnedOp::Close(Close::new(f))];
    ring.push_chain(chain, false).unwrap();
    for _ in 0..2 {
        let c = wait(&mut ring);
        match c.op() {
            Some(OwnedOp::Read(_)) => assert!(c.result().is_err()),
            Some(OwnedOp::Close(_)) => {
                assert_eq!(c.result(), Err(Errno::CANCELED));
                assert!(c.into_op::<Close>().unwrap().fd.is_none(), "ECANCELED is ambiguous: forgotten");
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    // It never ran: the number still names the file (leaked, not closed).
    assert_eq!(identity(raw), Some(id));
    // SAFETY: the number is ours again (the leaked fd of the cancelled close, still open).
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };

    // Run for real: the fd is gone, and the operation holds nothing.
    ring.push(Close::new(fd)).unwrap();
    let c = wait(&mut ring);
    assert_eq!(c.result(), Ok(0));
    let close: Close = c.into_op().unwrap();
    assert!(close.fd.is_none());
    assert_ne!(identity(raw), Some(id), "closed");
}

/// The fd-only operations in their owned form hold their files: an fsync, a poll and a splice
/// between a file and a pipe, all after the caller gave the files up; the raw form of an entry
/// that names only registered files pushes safely.
#[test]
fn fd_only_operations_hold_their_files() {
    let dog = Watchdog::new("fd_only_operations_hold_their_files", Duration::from_secs(20));
    let mut ring = OwnedRing::new(8).unwrap();
    let p = TempPath::new("fdop");
    let mut f = File::options().create(true).truncate(true).read(true).write(true).open(&p.0).unwrap();
    f.write_all(b"spliced").unwrap();
    f.seek(SeekFrom::Start(0)).unwrap();
    ring.push(FdOp::new(f.try_clone().unwrap(), |t| op::Fsync::new(t).datasync())).unwrap();
    assert_eq!(wait(&mut ring).result(), Ok(0));

    let (r, w) = rustix::pipe::pipe().unwrap();
    let r = Arc::new(r);
    ring.push(FdOp::new(Fd::shared(r.clone()), |t| op::PollAdd::new(t, op::PollEvents::IN))).unwrap();
    ring.push(FdOp::new2(f, w, |i, o| op::Splice::new(i, o, 7).off_in(0))).unwrap();
    dog.step("waiting for the splice and the poll");
    let (mut polled, mut spliced) = (false, false);
    for _ in 0..2 {
        let c = wait(&mut ring);
        match c.op() {
            Some(OwnedOp::PollAdd(_)) => polled = c.result().is_ok(),
            Some(OwnedOp::Splice(_)) => spliced = c.result() == Ok(7),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(polled && spliced);
    let mut buf = [0u8; 7];
    rustix::io::read(&*r, &mut buf).unwrap();
    assert_eq!(&buf, b"spliced");

    // A raw entry naming only registered files becomes a `SafeSqe`; one naming an fd does not.
    let sqe = op::Fsync::new(Fixed(0)).build();
    assert!(sqe.into_safe().is_ok());
    assert!(op::Fsync::new(r.as_fd()).build().into_safe().is_err());
    assert!(op::Splice::new(Fixed(0), r.as_fd(), 1).build().into_safe().is_err());
    assert!(op::Splice::new(r.as_fd(), Fixed(1), 1).build().into_safe().is_err(), "the input names an fd");
    assert!(op::Splice::new(Fixed(0), Fixed(1), 1).build().into_safe().is_ok());
    assert!(op::Close::new(r.as_fd()).build().into_safe().is_err());
    assert!(op::Close::new(Fixed(3)).build().into_safe().is_ok());
}
