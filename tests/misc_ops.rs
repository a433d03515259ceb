//! The miscellaneous operations on a real ring: waitid, epoll, fixed-fd install, files update,
//! legacy provided buffers, splice/tee/pipe, NOP result injection, and link/drain ordering.

mod common;

use std::io::{Read as _, Write as _};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

use uring::op::{
    self, DestSlot, EpollCtl, EpollWait, FilesUpdate, Fixed, FixedFdInstall, Pipe, PipeFlags, ProvideBuffers,
    RemoveBuffers, Splice, SpliceFlags, Target, Tee, WaitId, Waitid, WaitidOptions,
};
use uring::uapi::{
    io_uring_rsrc_register, IORING_OP_READ, IORING_OP_WRITE, IORING_REGISTER_FILES, IORING_REGISTER_FILES2,
    IORING_RSRC_REGISTER_SPARSE,
};
use uring::{Cqe, Errno, Probe, Ring, SqeFlags};

fn pipe() -> (OwnedFd, OwnedFd) {
    rustix::pipe::pipe().unwrap()
}

/// A ring, or `None` (after printing why) when the kernel lacks one of `ops`.
fn ring_for(test: &str, ops: &[(u8, &str)]) -> Option<Ring> {
    let ring = Ring::new(16).unwrap();
    let probe = Probe::of(&ring).unwrap();
    for (op, name) in ops {
        if !probe.is_supported(*op) {
            common::skip(test, format!("kernel lacks {name}"));
            return None;
        }
    }
    Some(ring)
}

/// Submits what is queued, waits for `n` completions and returns them sorted by user_data.
fn reap(ring: &mut Ring, n: u32) -> Vec<Cqe> {
    let mut v: Vec<Cqe> = Vec::new();
    ring.submit().unwrap();
    while (v.len() as u32) < n {
        v.push(ring.wait_cqe().unwrap());
    }
    v.sort_by_key(|c| c.user_data());
    v
}

fn results(cqes: &[Cqe]) -> Vec<(u64, Result<u32, Errno>)> {
    cqes.iter().map(|c| (c.user_data(), c.result())).collect()
}

/// A read of `buf` from `target` at the file position (raw: the typed read is another family's).
fn read_sqe(target: Target, buf: &mut [u8]) -> uring::Sqe {
    let sqe = op::prep_rw(IORING_OP_READ, target.sqe_fd(), buf.as_mut_ptr() as u64, buf.len() as u32, u64::MAX);
    if target.is_fixed() {
        sqe.flags(SqeFlags::FIXED_FILE)
    } else {
        sqe
    }
}

/// A write of `buf` to `target` at the file position.
fn write_sqe(target: Target, buf: &[u8]) -> uring::Sqe {
    let sqe = op::prep_rw(IORING_OP_WRITE, target.sqe_fd(), buf.as_ptr() as u64, buf.len() as u32, u64::MAX);
    if target.is_fixed() {
        sqe.flags(SqeFlags::FIXED_FILE)
    } else {
        sqe
    }
}

/// Registers an empty file table of `n` slots.
fn register_sparse(ring: &Ring, n: u32) {
    let reg = io_uring_rsrc_register { nr: n, flags: IORING_RSRC_REGISTER_SPARSE, ..Default::default() };
    // SAFETY: a valid `io_uring_rsrc_register` of its own size; the kernel copies it.
    unsafe {
        ring.submitter().register_raw(
            IORING_REGISTER_FILES2,
            (&reg as *const io_uring_rsrc_register).cast(),
            core::mem::size_of::<io_uring_rsrc_register>() as u32,
        )
    }
    .unwrap();
}

/// Registers `fds` as the file table.
fn register_files(ring: &Ring, fds: &[RawFd]) {
    // SAFETY: a valid array of `fds.len()` fds; the kernel copies it.
    unsafe { ring.submitter().register_raw(IORING_REGISTER_FILES, fds.as_ptr().cast(), fds.len() as u32) }.unwrap();
}

/// A temporary file path unique to this process and test.
fn temp_path(test: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("uring-misc-{}-{test}", std::process::id()))
}

#[test]
fn nop_inject_result() {
    let mut ring = Ring::new(4).unwrap();
    ring.sq().push(&op::Nop::new().inject_result(-libc::EBADF).build().user_data(1)).unwrap();
    let got = reap(&mut ring, 1);
    if got[0].result() == Ok(0) || got[0].result() == Err(Errno::INVAL) {
        common::skip("nop_inject_result", "kernel lacks IORING_NOP_INJECT_RESULT (6.12)");
        return;
    }
    assert_eq!(results(&got), vec![(1, Err(Errno::BADF))]);
}

#[test]
fn link_chain_runs_in_order() {
    let mut ring = Ring::new(8).unwrap();
    let (r, w) = pipe();
    let parts: [&[u8]; 3] = [b"one ", b"two ", b"three"];
    for (i, part) in parts.iter().enumerate() {
        let flags = if i < 2 { SqeFlags::IO_LINK } else { SqeFlags::empty() };
        // SAFETY: `parts` is static data.
        unsafe { ring.sq().push_raw(&write_sqe((&w).into(), part).user_data(i as u64 + 1).flags(flags)) }.unwrap();
    }
    ring.submit_and_wait(3).unwrap();
    let order: Vec<_> = ring.cq().iter().map(|c| (c.user_data(), c.result())).collect();
    assert_eq!(order, vec![(1, Ok(4)), (2, Ok(4)), (3, Ok(5))], "completions in chain order");
    let mut buf = [0u8; 32];
    let n = rustix::io::read(&r, &mut buf).unwrap();
    assert_eq!(&buf[..n], b"one two three", "the writes ran in order");
}

#[test]
fn failing_link_head_cancels_the_rest() {
    let mut ring = Ring::new(8).unwrap();
    // A head that fails: a read from a pipe's write end (EBADF).
    let (_r, w) = pipe();
    let mut buf = [0u8; 4];
    // SAFETY: `buf` lives until the completions are reaped below.
    unsafe { ring.sq().push_raw(&read_sqe((&w).into(), &mut buf).user_data(1).flags(SqeFlags::IO_LINK)) }.unwrap();
    ring.sq().push(&op::Nop::new().build().user_data(2).flags(SqeFlags::IO_LINK)).unwrap();
    ring.sq().push(&op::Nop::new().build().user_data(3)).unwrap();
    let got = reap(&mut ring, 3);
    assert_eq!(results(&got), vec![(1, Err(Errno::BADF)), (2, Err(Errno::CANCELED)), (3, Err(Errno::CANCELED))]);
    // A hard link keeps going.
    // SAFETY: as above.
    unsafe { ring.sq().push_raw(&read_sqe((&w).into(), &mut buf).user_data(4).flags(SqeFlags::IO_HARDLINK)) }.unwrap();
    ring.sq().push(&op::Nop::new().build().user_data(5)).unwrap();
    assert_eq!(results(&reap(&mut ring, 2)), vec![(4, Err(Errno::BADF)), (5, Ok(0))]);
}

#[test]
fn drain_waits_for_earlier_entries() {
    let mut ring = Ring::new(8).unwrap();
    let (r, w) = pipe();
    let mut buf = [0u8; 8];
    // SAFETY: `buf` lives until the read's completion is reaped below.
    unsafe { ring.sq().push_raw(&read_sqe((&r).into(), &mut buf).user_data(1)) }.unwrap();
    ring.sq().push(&op::Nop::new().build().user_data(2).flags(SqeFlags::IO_DRAIN)).unwrap();
    ring.submit().unwrap();
    std::thread::sleep(Duration::from_millis(30));
    assert!(ring.peek_cqe().unwrap().is_none(), "the drained NOP ran before the pending read");
    rustix::io::write(&w, b"go").unwrap();
    let first = ring.wait_cqe().unwrap();
    let second = ring.wait_cqe().unwrap();
    assert_eq!((first.user_data(), first.result()), (1, Ok(2)));
    assert_eq!((second.user_data(), second.result()), (2, Ok(0)));
}

#[test]
fn waitid_reaps_forked_child() {
    let Some(mut ring) = ring_for("waitid_reaps_forked_child", &[(Waitid::CODE, "IORING_OP_WAITID (6.7)")]) else {
        return;
    };
    // SAFETY: the child only calls the async-signal-safe `_exit`.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        // SAFETY: ends the child at once.
        unsafe { libc::_exit(7) };
    }
    // SAFETY: siginfo_t is plain data; all-zero is valid.
    let mut info: libc::siginfo_t = unsafe { core::mem::zeroed() };
    let sqe = Waitid::new(WaitId::Pid(pid), &mut info, WaitidOptions::EXITED).build().user_data(1);
    // SAFETY: `info` lives until the completion is reaped below.
    unsafe { ring.sq().push_raw(&sqe) }.unwrap();
    assert_eq!(results(&reap(&mut ring, 1)), vec![(1, Ok(0))]);
    // SAFETY: the kernel filled a SIGCHLD siginfo, whose pid and status fields these read.
    let (si_pid, status) = unsafe { (info.si_pid(), info.si_status()) };
    assert_eq!(info.si_signo, libc::SIGCHLD);
    assert_eq!(info.si_code, libc::CLD_EXITED);
    assert_eq!((si_pid, status), (pid, 7));
}

#[test]
fn epoll_ctl_then_wait() {
    let Some(mut ring) = ring_for(
        "epoll_ctl_then_wait",
        &[(EpollCtl::CODE, "IORING_OP_EPOLL_CTL"), (EpollWait::CODE, "IORING_OP_EPOLL_WAIT (6.15)")],
    ) else {
        return;
    };
    let ep = rustix::event::epoll::create(rustix::event::epoll::CreateFlags::CLOEXEC).unwrap();
    let (r, w) = pipe();
    let ev = libc::epoll_event { events: libc::EPOLLIN as u32, u64: 0x77 };
    // SAFETY: `ev` lives until the completion is reaped below.
    unsafe { ring.sq().push_raw(&EpollCtl::add(&ep, &r, &ev).build().user_data(1)) }.unwrap();
    assert_eq!(results(&reap(&mut ring, 1)), vec![(1, Ok(0))]);

    let mut events = [libc::epoll_event { events: 0, u64: 0 }; 4];
    // SAFETY: `events` lives until the completion is reaped below.
    unsafe { ring.sq().push_raw(&EpollWait::new(&ep, &mut events).build().user_data(2)) }.unwrap();
    ring.submit().unwrap();
    std::thread::sleep(Duration::from_millis(20));
    assert!(ring.peek_cqe().unwrap().is_none(), "epoll wait completed with nothing ready");
    rustix::io::write(&w, b"x").unwrap();
    assert_eq!(results(&reap(&mut ring, 1)), vec![(2, Ok(1))]);
    let (evs, data) = (events[0].events, events[0].u64);
    assert_eq!(data, 0x77);
    assert!(evs & libc::EPOLLIN as u32 != 0);

    // Modify to EPOLLOUT (never ready on a read end), then delete; a direct epoll_wait sees
    // nothing either way.
    let ev_out = libc::epoll_event { events: libc::EPOLLOUT as u32, u64: 0x78 };
    // SAFETY: `ev_out` lives until the completions are reaped below.
    unsafe {
        ring.sq().push_raw(&EpollCtl::modify(&ep, &r, &ev_out).build().user_data(3)).unwrap();
    }
    assert_eq!(results(&reap(&mut ring, 1)), vec![(3, Ok(0))]);
    // SAFETY: valid epoll fd and buffer.
    let n = unsafe { libc::epoll_wait(ep.as_raw_fd(), events.as_mut_ptr(), 4, 0) };
    assert_eq!(n, 0, "modified to EPOLLOUT: the readable pipe no longer reports");
    // SAFETY: EPOLL_CTL_DEL points at no memory.
    unsafe { ring.sq().push_raw(&EpollCtl::delete(&ep, &r).build().user_data(4)) }.unwrap();
    assert_eq!(results(&reap(&mut ring, 1)), vec![(4, Ok(0))]);
    // SAFETY: as above.
    unsafe { ring.sq().push_raw(&EpollCtl::delete(&ep, &r).build().user_data(5)) }.unwrap();
    assert_eq!(results(&reap(&mut ring, 1)), vec![(5, Err(Errno::NOENT))], "already deleted");
}

#[test]
fn fixed_fd_install_gives_a_real_fd() {
    let Some(mut ring) =
        ring_for("fixed_fd_install_gives_a_real_fd", &[(FixedFdInstall::CODE, "IORING_OP_FIXED_FD_INSTALL (6.8)")])
    else {
        return;
    };
    let (r, w) = pipe();
    register_files(&ring, &[r.as_raw_fd()]);
    drop(r);
    for (no_cloexec, ud) in [(false, 1u64), (true, 2)] {
        let sqe = if no_cloexec { FixedFdInstall::new(Fixed(0)).no_cloexec() } else { FixedFdInstall::new(Fixed(0)) };
        ring.sq().push(&sqe.build().user_data(ud)).unwrap();
        let got = reap(&mut ring, 1);
        let fd = got[0].result().expect("fixed fd install") as RawFd;
        // SAFETY: the kernel just created this fd for us; we own it.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let flags = rustix::io::fcntl_getfd(&fd).unwrap();
        assert_eq!(flags.contains(rustix::io::FdFlags::CLOEXEC), !no_cloexec);
        rustix::io::write(&w, b"via fd").unwrap();
        let mut buf = [0u8; 8];
        let n = rustix::io::read(&fd, &mut buf).unwrap();
        assert_eq!(&buf[..n], b"via fd", "the installed fd reads the registered pipe");
    }
}

#[test]
fn files_update_fills_slots() {
    let Some(mut ring) = ring_for("files_update_fills_slots", &[(FilesUpdate::CODE, "IORING_OP_FILES_UPDATE")]) else {
        return;
    };
    register_sparse(&ring, 8);
    let (r, w) = pipe();
    let fds = [r.as_raw_fd(), w.as_raw_fd()];
    // SAFETY: `fds` lives until the completion is reaped below.
    unsafe { ring.sq().push_raw(&FilesUpdate::new(&fds, 1).unwrap().build().user_data(1)) }.unwrap();
    assert_eq!(results(&reap(&mut ring, 1)), vec![(1, Ok(2))]);
    drop((r, w));
    // Slot 2 writes, slot 1 reads.
    let mut buf = [0u8; 8];
    // SAFETY: `buf` lives until the completions are reaped below.
    unsafe {
        ring.sq().push_raw(&write_sqe(Target::fixed(2), b"slots").user_data(2).flags(SqeFlags::IO_LINK)).unwrap();
        ring.sq().push_raw(&read_sqe(Target::fixed(1), &mut buf).user_data(3)).unwrap();
    }
    assert_eq!(results(&reap(&mut ring, 2)), vec![(2, Ok(5)), (3, Ok(5))]);
    assert_eq!(&buf[..5], b"slots");

    // Allocate: the kernel picks free slots and writes them back into the array.
    let (r2, w2) = pipe();
    let mut fds = [r2.as_raw_fd(), w2.as_raw_fd()];
    // SAFETY: `fds` lives until the completion is reaped below.
    unsafe { ring.sq().push_raw(&FilesUpdate::alloc(&mut fds).unwrap().build().user_data(4)) }.unwrap();
    let got = reap(&mut ring, 1);
    if got[0].result() == Err(Errno::INVAL) {
        common::skip("files_update_fills_slots", "kernel lacks IORING_FILE_INDEX_ALLOC for FILES_UPDATE (5.19)");
        return;
    }
    assert_eq!(results(&got), vec![(4, Ok(2))]);
    drop((r2, w2));
    let [rs, ws] = fds;
    assert!((0..8).contains(&rs) && (0..8).contains(&ws) && ![1, 2].contains(&rs) && ![1, 2].contains(&ws), "{fds:?}");
    let mut buf = [0u8; 8];
    // SAFETY: `buf` lives until the completions are reaped below.
    unsafe {
        ring.sq()
            .push_raw(&write_sqe(Target::fixed(ws as u32), b"alloc").user_data(5).flags(SqeFlags::IO_LINK))
            .unwrap();
        ring.sq().push_raw(&read_sqe(Target::fixed(rs as u32), &mut buf).user_data(6)).unwrap();
    }
    assert_eq!(results(&reap(&mut ring, 2)), vec![(5, Ok(5)), (6, Ok(5))]);
    assert_eq!(&buf[..5], b"alloc");
    // -1 empties a slot: reads through it then fail with EBADF.
    let clear = [-1];
    // SAFETY: `clear` lives until the completion is reaped below.
    unsafe { ring.sq().push_raw(&FilesUpdate::new(&clear, rs as u32).unwrap().build().user_data(7)) }.unwrap();
    assert_eq!(results(&reap(&mut ring, 1)), vec![(7, Ok(1))]);
    // SAFETY: `buf` lives until the completion is reaped below.
    unsafe { ring.sq().push_raw(&read_sqe(Target::fixed(rs as u32), &mut buf).user_data(8)) }.unwrap();
    assert_eq!(results(&reap(&mut ring, 1)), vec![(8, Err(Errno::BADF))]);
}

#[test]
fn legacy_provide_and_remove_buffers() {
    const BGID: u16 = 7;
    const LEN: usize = 64;
    // Declared before the ring, so it outlives every use the kernel makes of it.
    let mut mem = vec![0u8; 4 * LEN];
    let Some(mut ring) = ring_for(
        "legacy_provide_and_remove_buffers",
        &[(ProvideBuffers::CODE, "IORING_OP_PROVIDE_BUFFERS"), (RemoveBuffers::CODE, "IORING_OP_REMOVE_BUFFERS")],
    ) else {
        return;
    };
    let sqe = ProvideBuffers::new(&mut mem, LEN as u32, 4, BGID, 10).unwrap().build().user_data(1);
    // SAFETY: `mem` outlives the ring (declared before it), and is not otherwise written while
    // the kernel may fill its buffers.
    unsafe { ring.sq().push_raw(&sqe) }.unwrap();
    assert_eq!(results(&reap(&mut ring, 1)), vec![(1, Ok(0))]);

    let (r, w) = pipe();
    rustix::io::write(&w, b"hello buffers").unwrap();
    // A buffer-select read: no address, the kernel picks a buffer from the group.
    let read =
        op::prep_rw(IORING_OP_READ, r.as_raw_fd(), 0, LEN as u32, u64::MAX).flags(SqeFlags::BUFFER_SELECT).user_data(2);
    let mut read = read;
    read.as_raw_mut().buf.buf_group = BGID;
    // SAFETY: the read's buffer is one of the provided ones, inside `mem`, still alive.
    unsafe { ring.sq().push_raw(&read) }.unwrap();
    let got = reap(&mut ring, 1);
    assert_eq!(got[0].result(), Ok(13));
    assert!(got[0].flags().contains(uring::CqeFlags::BUFFER), "F_BUFFER set");
    let bid = got[0].buffer_id().expect("a buffer id");
    assert!((10..14).contains(&bid), "bid {bid}");
    let start = (bid as usize - 10) * LEN;
    assert_eq!(&mem[start..start + 13], b"hello buffers");

    // Three buffers are left: removing up to 10 returns 3; then the group is empty (a further
    // removal finds nothing) and a buffer-select read fails with ENOBUFS.
    ring.sq().push(&RemoveBuffers::new(10, BGID).build().user_data(3)).unwrap();
    assert_eq!(results(&reap(&mut ring, 1)), vec![(3, Ok(3))]);
    ring.sq().push(&RemoveBuffers::new(1, BGID).build().user_data(4)).unwrap();
    let got = reap(&mut ring, 1);
    assert!(matches!(got[0].result(), Ok(0) | Err(Errno::NOENT)), "{:?}", got[0].result());
    rustix::io::write(&w, b"more").unwrap();
    read = read.user_data(5);
    // SAFETY: the read selects from an empty group: it touches no memory.
    unsafe { ring.sq().push_raw(&read) }.unwrap();
    assert_eq!(results(&reap(&mut ring, 1)), vec![(5, Err(Errno::NOBUFS))]);
}

#[test]
fn splice_moves_bytes() {
    let Some(mut ring) = ring_for("splice_moves_bytes", &[(Splice::CODE, "IORING_OP_SPLICE")]) else { return };
    // Pipe to pipe.
    let (r1, w1) = pipe();
    let (r2, w2) = pipe();
    rustix::io::write(&w1, b"abcdef").unwrap();
    // SAFETY: `r1` and `w2` stay open until the request's final completion is reaped below.
    unsafe { ring.sq().push_fd(&Splice::new(&r1, &w2, 6).build().user_data(1)) }.unwrap();
    assert_eq!(results(&reap(&mut ring, 1)), vec![(1, Ok(6))]);
    let mut buf = [0u8; 16];
    assert_eq!(rustix::io::read(&r2, &mut buf).unwrap(), 6);
    assert_eq!(&buf[..6], b"abcdef");

    // File at an offset to pipe, with the file as a registered (fixed) input.
    let path = temp_path("splice");
    std::fs::File::create(&path).unwrap().write_all(b"0123456789").unwrap();
    let file = std::fs::File::open(&path).unwrap();
    // SAFETY: `file` and `w2` stay open until the request's final completion is reaped below.
    unsafe { ring.sq().push_fd(&Splice::new(&file, &w2, 4).off_in(2).flags(SpliceFlags::MOVE).build().user_data(2)) }
        .unwrap();
    assert_eq!(results(&reap(&mut ring, 1)), vec![(2, Ok(4))]);
    assert_eq!(rustix::io::read(&r2, &mut buf).unwrap(), 4);
    assert_eq!(&buf[..4], b"2345");
    register_files(&ring, &[file.as_raw_fd(), w2.as_raw_fd()]);
    let sqe = Splice::new(Fixed(0), Fixed(1), 3)
        .off_in(7)
        .build()
        .user_data(3)
        .into_safe()
        .expect("registered slots name no fd");
    ring.sq().push(&sqe).unwrap();
    assert_eq!(results(&reap(&mut ring, 1)), vec![(3, Ok(3))]);
    assert_eq!(rustix::io::read(&r2, &mut buf).unwrap(), 3);
    assert_eq!(&buf[..3], b"789");

    // Pipe to file at an offset.
    rustix::io::write(&w1, b"XY").unwrap();
    let out = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    // SAFETY: `r1` and `out` stay open until the request's final completion is reaped below.
    unsafe { ring.sq().push_fd(&Splice::new(&r1, &out, 2).off_out(4).build().user_data(4)) }.unwrap();
    assert_eq!(results(&reap(&mut ring, 1)), vec![(4, Ok(2))]);
    let mut content = String::new();
    std::fs::File::open(&path).unwrap().read_to_string(&mut content).unwrap();
    assert_eq!(content, "0123XY6789");
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn tee_duplicates_bytes() {
    let Some(mut ring) = ring_for("tee_duplicates_bytes", &[(Tee::CODE, "IORING_OP_TEE")]) else { return };
    let (r1, w1) = pipe();
    let (r2, w2) = pipe();
    rustix::io::write(&w1, b"xyz").unwrap();
    // SAFETY: `r1` and `w2` stay open until the request's final completion is reaped below.
    unsafe { ring.sq().push_fd(&Tee::new(&r1, &w2, 3).build().user_data(1)) }.unwrap();
    assert_eq!(results(&reap(&mut ring, 1)), vec![(1, Ok(3))]);
    let mut buf = [0u8; 8];
    assert_eq!(rustix::io::read(&r2, &mut buf).unwrap(), 3);
    assert_eq!(&buf[..3], b"xyz");
    assert_eq!(rustix::io::read(&r1, &mut buf).unwrap(), 3, "tee leaves the source untouched");
    assert_eq!(&buf[..3], b"xyz");
    // With a registered input pipe.
    register_files(&ring, &[r1.as_raw_fd()]);
    rustix::io::write(&w1, b"fix").unwrap();
    // SAFETY: `w2` stays open until the request's final completion is reaped below.
    unsafe { ring.sq().push_fd(&Tee::new(Fixed(0), &w2, 3).build().user_data(2)) }.unwrap();
    assert_eq!(results(&reap(&mut ring, 1)), vec![(2, Ok(3))]);
    assert_eq!(rustix::io::read(&r2, &mut buf).unwrap(), 3);
    assert_eq!(&buf[..3], b"fix");
}

#[test]
fn pipe_creates_fds() {
    let Some(mut ring) = ring_for("pipe_creates_fds", &[(Pipe::CODE, "IORING_OP_PIPE (6.16)")]) else { return };
    let mut fds = [-1i32; 2];
    // SAFETY: `fds` lives until the completion is reaped below.
    unsafe { ring.sq().push_raw(&Pipe::new(&mut fds).flags(PipeFlags::CLOEXEC).build().user_data(1)) }.unwrap();
    assert_eq!(results(&reap(&mut ring, 1)), vec![(1, Ok(0))]);
    // SAFETY: the kernel created these two fds for us; we own them.
    let (r, w) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    assert!(rustix::io::fcntl_getfd(&r).unwrap().contains(rustix::io::FdFlags::CLOEXEC));
    rustix::io::write(&w, b"piped").unwrap();
    let mut buf = [0u8; 8];
    assert_eq!(rustix::io::read(&r, &mut buf).unwrap(), 5);
    assert_eq!(&buf[..5], b"piped");
}

#[test]
fn pipe_direct_into_slots() {
    let Some(mut ring) = ring_for("pipe_direct_into_slots", &[(Pipe::CODE, "IORING_OP_PIPE (6.16)")]) else { return };
    register_sparse(&ring, 8);
    for (dest, ud) in [(DestSlot::Fixed(4), 1u64), (DestSlot::Alloc, 2)] {
        let mut fds = [-1i32; 2];
        // SAFETY: `fds` lives until the completion is reaped below.
        unsafe { ring.sq().push_raw(&Pipe::new(&mut fds).dest(dest).build().user_data(ud)) }.unwrap();
        assert_eq!(results(&reap(&mut ring, 1)), vec![(ud, Ok(0))], "{dest:?}");
        if let DestSlot::Fixed(n) = dest {
            assert_eq!(fds, [n as i32, n as i32 + 1], "the two slots are reported");
        }
        let (rs, ws) = (fds[0] as u32, fds[1] as u32);
        assert!(rs < 8 && ws < 8 && rs != ws, "{fds:?}");
        let mut buf = [0u8; 8];
        // SAFETY: `buf` lives until the completions are reaped below.
        unsafe {
            ring.sq()
                .push_raw(&write_sqe(Target::fixed(ws), b"direct").user_data(10).flags(SqeFlags::IO_LINK))
                .unwrap();
            ring.sq().push_raw(&read_sqe(Target::fixed(rs), &mut buf).user_data(11)).unwrap();
        }
        assert_eq!(results(&reap(&mut ring, 2)), vec![(10, Ok(6)), (11, Ok(6))]);
        assert_eq!(&buf[..6], b"direct");
    }
}
