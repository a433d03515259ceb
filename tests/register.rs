//! Registered resources on a real kernel: fixed buffers and files (plain, tagged, sparse,
//! updates and their tag completions, cloning), the file allocation range, eventfd,
//! personalities, restrictions (ring and task), io-wq tuning, raw buffer-ring calls, the
//! ring-less MSG_RING, and the typed errors for bad arguments.

mod common;

use std::ffi::CString;
use std::io::IoSliceMut;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd, RawFd};
use std::time::Duration;

use uring::op::{self, DestSlot, Target};
use uring::register::{self, CloneBuffers, Restriction, EMPTY_SLOT, SKIP_SLOT};
use uring::uapi::{io_uring_buf_reg, IORING_REGISTER_FILES, IOU_PBUF_RING_MMAP};
use uring::{Builder, Cqe, Errno, Error, Features, Probe, Ring, SqeFlags};

// ---- helpers ----

fn pipe() -> (OwnedFd, OwnedFd) {
    rustix::pipe::pipe().unwrap()
}

fn iovec(buf: &mut [u8]) -> libc::iovec {
    libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: buf.len() }
}

/// Pushes one entry, submits it and returns its completion.
///
/// # Safety
/// Whatever `sqe` points at must live until this returns (it waits for the completion).
unsafe fn run(ring: &mut Ring, sqe: &uring::Sqe) -> Cqe {
    // SAFETY: the caller's contract; the completion is reaped before returning.
    unsafe { ring.sq().push_raw(sqe) }.unwrap();
    ring.submit_and_wait(1).unwrap();
    ring.cq().pop().expect("a completion")
}

/// The next completion, waiting up to a second for it.
fn next_cqe(ring: &mut Ring) -> Option<Cqe> {
    if let Some(c) = ring.cq().pop() {
        return Some(c);
    }
    match ring.submit_and_wait_timeout(1, Duration::from_secs(1)) {
        Ok(_) => {}
        Err(e) if e.is_errno(libc::ETIME) => {}
        Err(e) => panic!("wait: {e}"),
    }
    ring.cq().pop()
}

/// Every completion that arrives within a short wait, as (user_data, result) pairs, sorted.
fn drain(ring: &mut Ring) -> Vec<(u64, i32)> {
    let mut out = Vec::new();
    loop {
        while let Some(c) = ring.cq().pop() {
            out.push((c.user_data(), c.raw_result()));
        }
        // Give late completions (tag CQEs of released resources) a short chance.
        match ring.submit_and_wait_timeout(1, Duration::from_millis(100)) {
            Ok(_) if ring.cq().ready() > 0 => {}
            Ok(_) => break,
            Err(e) if e.is_errno(libc::ETIME) => break,
            Err(e) => panic!("wait: {e}"),
        }
    }
    out.sort();
    out
}

fn assert_errno<T: std::fmt::Debug>(r: uring::Result<T>, errno: i32) {
    match r {
        Err(e) if e.is_errno(errno) => {}
        other => panic!("expected errno {errno}, got {other:?}"),
    }
}

fn assert_invalid<T: std::fmt::Debug>(r: uring::Result<T>, what_expected: &str) {
    match r {
        Err(Error::InvalidArgument { what, .. }) if what == what_expected => {}
        other => panic!("expected InvalidArgument({what_expected}), got {other:?}"),
    }
}

/// Runs `body` in a forked child (for process-wide or irreversible changes: credentials, rlimits,
/// task restrictions) and returns its exit code. The child never returns into the test harness
/// and reports through its exit code only (0 success, 77 unsupported, other codes a failed step).
fn in_child(body: impl FnOnce() -> Result<(), i32>) -> i32 {
    // SAFETY: the child only makes system calls and allocations (glibc keeps malloc usable
    // after fork), never prints, and leaves with `_exit`.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let code = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)) {
            Ok(Ok(())) => 0,
            Ok(Err(code)) => code,
            Err(_) => 101,
        };
        // SAFETY: ends the child without running the parent's destructors.
        unsafe { libc::_exit(code) };
    }
    let mut status = 0;
    // SAFETY: waits for our own child.
    let r = unsafe { libc::waitpid(pid, &mut status, 0) };
    assert_eq!(r, pid, "waitpid");
    assert!(libc::WIFEXITED(status), "child did not exit normally (status {status:#x})");
    libc::WEXITSTATUS(status)
}

/// `Err(code)` unless `ok`: one numbered step of a forked child.
fn step(ok: bool, code: i32) -> Result<(), i32> {
    if ok {
        Ok(())
    } else {
        Err(code)
    }
}

const CHILD_UNSUPPORTED: i32 = 77;

/// A private temporary directory, removed on drop.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
        let p = std::env::temp_dir().join(format!("uring-register-{tag}-{}-{nanos}", std::process::id()));
        std::fs::create_dir(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

// ---- fixed buffers ----

#[test]
fn tagged_buffers_post_tag_cqes_when_released() {
    // The buffers are declared before the ring, so they outlive its registrations.
    let (mut a, mut b, mut c) = (vec![0u8; 4096], vec![0u8; 4096], vec![0u8; 8192]);
    let mut ring = Ring::new(8).unwrap();
    if !ring.features().contains(Features::RSRC_TAGS) {
        common::skip("tagged_buffers_post_tag_cqes_when_released", "kernel lacks IORING_FEAT_RSRC_TAGS (5.13)");
        return;
    }
    let table = [iovec(&mut a), iovec(&mut b), libc::iovec { iov_base: core::ptr::null_mut(), iov_len: 0 }];
    // SAFETY: `a` and `b` outlive the registration (see above).
    unsafe { ring.submitter().register_buffers_tags(&table, &[11, 22, 0]) }.unwrap();
    assert!(drain(&mut ring).is_empty(), "registration posts nothing");

    // Replacing slot 0 releases buffer `a`: its tag arrives. Filling the empty slot 2 posts
    // nothing.
    // SAFETY: `c` outlives the registration.
    let n = unsafe { ring.submitter().register_buffers_update_tag(0, &[iovec(&mut c)], &[33]) }.unwrap();
    assert_eq!(n, 1);
    // SAFETY: as above.
    let n = unsafe { ring.submitter().register_buffers_update(2, &[iovec(&mut a)]) }.unwrap();
    assert_eq!(n, 1);
    assert_eq!(drain(&mut ring), vec![(11, 0)]);

    // Unregistering releases the rest: tags 22 and 33 (slot 2 is untagged).
    ring.submitter().unregister_buffers().unwrap();
    assert_eq!(drain(&mut ring), vec![(22, 0), (33, 0)]);
    assert_errno(ring.submitter().unregister_buffers(), libc::ENXIO);
}

#[test]
fn sparse_buffers_then_read_fixed() {
    let mut buf = vec![0u8; 4096];
    let mut ring = Ring::new(8).unwrap();
    ring.submitter().register_buffers_sparse(4).unwrap();
    let (r, w) = pipe();
    rustix::io::write(&w, b"hello").unwrap();

    // An empty slot cannot be read into.
    // SAFETY: `buf` lives until the completion is reaped.
    let cqe = unsafe { run(&mut ring, &op::ReadFixed::new(&r, &mut buf[..16], 1).unwrap().build().user_data(1)) };
    assert_eq!(cqe.result(), Err(Errno::FAULT));

    // SAFETY: `buf` outlives the registration (the ring is dropped first).
    assert_eq!(unsafe { ring.submitter().register_buffers_update(1, &[IoSliceMut::new(&mut buf)]) }.unwrap(), 1);
    let dst = &mut buf[100..200];
    // SAFETY: `dst` lives until the completion is reaped.
    let cqe = unsafe { run(&mut ring, &op::ReadFixed::new(&r, dst, 1).unwrap().build().user_data(2)) };
    assert_eq!(cqe.result(), Ok(5));
    assert_eq!(&buf[100..105], b"hello");
    drop(ring);
}

#[test]
fn plain_buffers_read_and_write_fixed() {
    let mut bufs = [vec![0u8; 4096], vec![0u8; 4096]];
    let mut ring = Ring::new(8).unwrap();
    let (first, second) = bufs.split_at_mut(1);
    let slices = [IoSliceMut::new(&mut first[0]), IoSliceMut::new(&mut second[0])];
    // SAFETY: `bufs` outlives the ring's registration (unregistered below).
    unsafe { ring.submitter().register_buffers(&slices) }.unwrap();
    // SAFETY: refused (a table exists), nothing more is registered.
    let again = unsafe { ring.submitter().register_buffers(&slices) };
    assert_errno(again, libc::EBUSY);
    bufs[1][..4].copy_from_slice(b"ping");
    let (r, w) = pipe();
    // SAFETY: the buffers live until the completions are reaped.
    let cqe = unsafe { run(&mut ring, &op::WriteFixed::new(&w, &bufs[1][..4], 1).unwrap().build()) };
    assert_eq!(cqe.result(), Ok(4));
    // SAFETY: as above.
    let cqe = unsafe { run(&mut ring, &op::ReadFixed::new(&r, &mut bufs[0][..4], 0).unwrap().build()) };
    assert_eq!(cqe.result(), Ok(4));
    assert_eq!(&bufs[0][..4], b"ping");
    ring.submitter().unregister_buffers().unwrap();
}

#[test]
fn clone_buffers_between_rings() {
    let mut bufs = [vec![0u8; 4096], vec![0u8; 4096], vec![0u8; 4096]];
    let mut src = Ring::new(8).unwrap();
    let mut dst = Ring::new(8).unwrap();
    let table: Vec<libc::iovec> = bufs.iter_mut().map(|b| iovec(b)).collect();
    // SAFETY: `bufs` outlives both rings (declared first, dropped last).
    unsafe { src.submitter().register_buffers(&table) }.unwrap();

    match dst.submitter().clone_buffers(&src) {
        Ok(()) => {}
        Err(e) if e.is_errno(libc::EINVAL) => {
            common::skip("clone_buffers_between_rings", "kernel lacks IORING_REGISTER_CLONE_BUFFERS (6.12)");
            return;
        }
        Err(e) => panic!("clone: {e}"),
    }
    let (r, w) = pipe();
    // READ_FIXED through the clone lands in the source's buffer 1.
    rustix::io::write(&w, b"cloned").unwrap();
    // SAFETY: the buffer lives until the completion is reaped.
    let cqe = unsafe { run(&mut dst, &op::ReadFixed::new(&r, &mut bufs[1][..64], 1).unwrap().build()) };
    assert_eq!(cqe.result(), Ok(6));
    assert_eq!(&bufs[1][..6], b"cloned");

    // A second clone needs REPLACE.
    assert_errno(dst.submitter().clone_buffers(&src), libc::EBUSY);

    // A range: source buffer 2 into destination slot 1, replacing the table. Slot 0 of the
    // destination is kept (it is below dst_off).
    match dst.submitter().clone_buffers_with(&CloneBuffers::from_ring(&src).range(2, 1, 1).replace()) {
        Ok(()) => {}
        Err(e) if e.is_errno(libc::EINVAL) => {
            common::skip(
                "clone_buffers_between_rings",
                "the range part: kernel lacks clone ranges and DST_REPLACE (6.13)",
            );
            return;
        }
        Err(e) => panic!("clone range: {e}"),
    }
    rustix::io::write(&w, b"ranged").unwrap();
    // SAFETY: as above.
    let cqe = unsafe { run(&mut dst, &op::ReadFixed::new(&r, &mut bufs[2][..64], 1).unwrap().build()) };
    assert_eq!(cqe.result(), Ok(6));
    assert_eq!(&bufs[2][..6], b"ranged");
    rustix::io::write(&w, b"kept").unwrap();
    // SAFETY: as above.
    let cqe = unsafe { run(&mut dst, &op::ReadFixed::new(&r, &mut bufs[0][..64], 0).unwrap().build()) };
    assert_eq!(cqe.result(), Ok(4), "slot 0 below dst_off is kept");
    rustix::io::write(&w, b"tail").unwrap();
    // SAFETY: as above.
    let cqe = unsafe { run(&mut dst, &op::ReadFixed::new(&r, &mut bufs[2][..64], 2).unwrap().build()) };
    // Slots outside the cloned range: kept on 6.18; some earlier kernels kept only those below
    // dst_off (then the slot is empty: EFAULT).
    assert!(matches!(cqe.result(), Ok(4) | Err(Errno::FAULT)), "slot 2: {:?}", cqe.result());
    if cqe.result().is_err() {
        // The data is still in the pipe: consume it so later reads see their own.
        let mut sink = [0u8; 4];
        rustix::io::read(&r, &mut sink).unwrap();
        common::note("clone_buffers_between_rings", "this kernel drops destination slots past the cloned range");
    }

    // By registered ring index (IORING_REGISTER_SRC_REGISTERED), into a third ring.
    let third = Ring::new(8).unwrap();
    let index = src.register_ring_fd().unwrap();
    third.submitter().clone_buffers_with(&CloneBuffers::from_registered_index(index)).unwrap();
    // The source ring fd is registered now: cloning from the Ring still names it by fd.
    let fourth = Ring::new(8).unwrap();
    fourth.submitter().clone_buffers(&src).unwrap();
    // A source that is not a ring.
    let fifth = Ring::new(8).unwrap();
    assert_errno(fifth.submitter().clone_buffers_with(&CloneBuffers::from_fd(r.as_fd())), libc::EOPNOTSUPP);
    drop((dst, third, fourth, fifth, src));
}

// ---- fixed files ----

#[test]
fn tagged_files_post_tag_cqes_when_released() {
    let mut ring = Ring::new(8).unwrap();
    if !ring.features().contains(Features::RSRC_TAGS) {
        common::skip("tagged_files_post_tag_cqes_when_released", "kernel lacks IORING_FEAT_RSRC_TAGS (5.13)");
        return;
    }
    let (r1, w1) = pipe();
    let (r2, _w2) = pipe();
    ring.submitter().register_files_tags(&[r1.as_fd(), w1.as_fd()], &[10, 20]).unwrap();
    assert_errno(ring.submitter().register_files_sparse(2), libc::EBUSY);

    // Replace slot 1 (tag 20 comes back), with a tagged file.
    assert_eq!(ring.submitter().register_files_update_tag(1, &[r2.as_fd()], &[30]).unwrap(), 1);
    assert_eq!(drain(&mut ring), vec![(20, 0)]);

    // Skip slot 0, clear slot 1 (tag 30 comes back).
    assert_eq!(ring.submitter().register_files_update(0, &[SKIP_SLOT, EMPTY_SLOT]).unwrap(), 2);
    assert_eq!(drain(&mut ring), vec![(30, 0)]);

    // Unregistering releases slot 0: tag 10.
    ring.submitter().unregister_files().unwrap();
    assert_eq!(drain(&mut ring), vec![(10, 0)]);
    assert_errno(ring.submitter().unregister_files(), libc::ENXIO);
}

#[test]
fn tag_waits_for_the_request_using_the_file() {
    let mut ring = Ring::new(8).unwrap();
    if !ring.features().contains(Features::RSRC_TAGS) {
        common::skip("tag_waits_for_the_request_using_the_file", "kernel lacks IORING_FEAT_RSRC_TAGS (5.13)");
        return;
    }
    let (r, w) = pipe();
    ring.submitter().register_files_tags(&[r.as_fd()], &[0x7a6]).unwrap();
    let mut buf = [0u8; 16];
    // A read through slot 0 waits for data.
    // SAFETY: `buf` lives until the read's completion is reaped below.
    unsafe { ring.sq().push_raw(&op::Read::new(Target::fixed(0), &mut buf).unwrap().build().user_data(1)) }.unwrap();
    ring.submit().unwrap();
    // Clearing the slot while the read is in flight: the file is still in use, no tag yet.
    assert_eq!(ring.submitter().register_files_update(0, &[EMPTY_SLOT]).unwrap(), 1);
    assert!(drain(&mut ring).is_empty(), "the in-flight read still holds the file");
    // Completing the read releases the file: the read's completion, then the tag's.
    rustix::io::write(&w, b"done").unwrap();
    assert_eq!(drain(&mut ring), vec![(1, 4), (0x7a6, 0)]);
    assert_eq!(&buf[..4], b"done");
}

#[test]
fn registered_files_read_through_fixed_slot() {
    let mut ring = Ring::new(8).unwrap();
    let (r, w) = pipe();
    ring.submitter().register_files(&[r.as_fd(), w.as_fd()]).unwrap();
    // The table holds its own references: the fds can go.
    drop((r, w));
    // SAFETY: the buffers live until the completions are reaped.
    let cqe = unsafe { run(&mut ring, &op::Write::new(Target::fixed(1), b"fixed").unwrap().build()) };
    assert_eq!(cqe.result(), Ok(5));
    let mut buf = [0u8; 16];
    // SAFETY: as above.
    let cqe = unsafe { run(&mut ring, &op::Read::new(Target::fixed(0), &mut buf).unwrap().build()) };
    assert_eq!(cqe.result(), Ok(5));
    assert_eq!(&buf[..5], b"fixed");
    // An io_uring fd cannot be registered.
    let other = Ring::new(2).unwrap();
    let ring2 = Ring::new(2).unwrap();
    assert_errno(ring2.submitter().register_files(&[other.submitter().fd().unwrap()]), libc::EBADF);
}

#[test]
fn sparse_files_then_update_and_read() {
    let mut ring = Ring::new(8).unwrap();
    ring.submitter().register_files_sparse(4).unwrap();
    let mut buf = [0u8; 16];
    // SAFETY: `buf` lives until the completion is reaped.
    let cqe = unsafe { run(&mut ring, &op::Read::new(Target::fixed(3), &mut buf).unwrap().build()) };
    assert_eq!(cqe.result(), Err(Errno::BADF), "empty slot");
    let (r, w) = pipe();
    assert_eq!(ring.submitter().register_files_update(3, &[r.as_fd()]).unwrap(), 1);
    rustix::io::write(&w, b"sparse").unwrap();
    // SAFETY: as above.
    let cqe = unsafe { run(&mut ring, &op::Read::new(Target::fixed(3), &mut buf).unwrap().build()) };
    assert_eq!(cqe.result(), Ok(6));
    assert_eq!(&buf[..6], b"sparse");
    // Past the end of the table.
    assert_errno(ring.submitter().register_files_update(4, &[r.as_fd()]), libc::EINVAL);
    // Without a table.
    let bare = Ring::new(2).unwrap();
    assert_errno(bare.submitter().register_files_update(0, &[r.as_fd()]), libc::ENXIO);
}

#[test]
fn file_alloc_range_directs_alloc() {
    let mut ring = Ring::new(8).unwrap();
    ring.submitter().register_files_sparse(8).unwrap();
    match ring.submitter().register_file_alloc_range(4, 2) {
        Ok(()) => {}
        Err(e) if e.is_errno(libc::EINVAL) => {
            common::skip("file_alloc_range_directs_alloc", "kernel lacks IORING_REGISTER_FILE_ALLOC_RANGE (6.0)");
            return;
        }
        Err(e) => panic!("{e}"),
    }
    let path = c"/dev/null";
    let mut got = Vec::new();
    for i in 0..3 {
        // SAFETY: `path` is a static string.
        let cqe = unsafe { run(&mut ring, &op::OpenAt::new(path).dest(DestSlot::Alloc).build().user_data(i)) };
        got.push(cqe.raw_result());
    }
    got[..2].sort();
    assert_eq!(got, vec![4, 5, -libc::ENFILE], "allocations stay in 4..6");
    // A range outside the table.
    assert_errno(ring.submitter().register_file_alloc_range(6, 4), libc::EINVAL);
}

#[test]
fn emfile_raises_rlimit_nofile_once() {
    // RLIMIT_NOFILE is process-wide: lower it in a child only.
    let code = in_child(|| {
        let a = Ring::new(2).map_err(|_| 1)?;
        let b = Ring::new(2).map_err(|_| 2)?;
        let (r, _w) = pipe();
        let lim = rustix::process::getrlimit(rustix::process::Resource::Nofile);
        let hard = lim.maximum;
        step(hard.is_none_or(|h| h >= 200), CHILD_UNSUPPORTED)?;
        let lower = |soft| {
            rustix::process::setrlimit(
                rustix::process::Resource::Nofile,
                rustix::process::Rlimit { current: Some(soft), maximum: hard },
            )
        };
        // A sparse table larger than the soft limit: EMFILE, raise, retry.
        lower(32).map_err(|_| 3)?;
        a.submitter().register_files_sparse(100).map_err(|_| 4)?;
        let now = rustix::process::getrlimit(rustix::process::Resource::Nofile).current;
        step(now == Some(100), 5)?;
        // A plain table of 150 copies of one fd, same story.
        lower(32).map_err(|_| 6)?;
        let fds = vec![r.as_fd(); 150];
        b.submitter().register_files(&fds).map_err(|_| 7)?;
        let now = rustix::process::getrlimit(rustix::process::Resource::Nofile).current;
        step(now == Some(150), 8)?;
        Ok(())
    });
    match code {
        0 => {}
        CHILD_UNSUPPORTED => common::skip("emfile_raises_rlimit_nofile_once", "hard RLIMIT_NOFILE below 200"),
        c => panic!("child failed at step {c}"),
    }
}

// ---- eventfd ----

fn eventfd_count(fd: &OwnedFd) -> Option<u64> {
    let mut v = [0u8; 8];
    match rustix::io::read(fd, &mut v) {
        Ok(8) => Some(u64::from_ne_bytes(v)),
        Err(rustix::io::Errno::AGAIN) => None,
        other => panic!("eventfd read: {other:?}"),
    }
}

fn eventfd() -> OwnedFd {
    use rustix::event::EventfdFlags;
    rustix::event::eventfd(0, EventfdFlags::NONBLOCK | EventfdFlags::CLOEXEC).unwrap()
}

#[test]
fn eventfd_fires_on_completion() {
    let mut ring = Ring::new(8).unwrap();
    let efd = eventfd();
    ring.submitter().register_eventfd(&efd).unwrap();
    assert_errno(ring.submitter().register_eventfd(&efd), libc::EBUSY);
    ring.sq().push(&op::Nop::new().build()).unwrap();
    ring.submit_and_wait(1).unwrap();
    ring.cq().pop().unwrap();
    assert!(eventfd_count(&efd).is_some_and(|n| n >= 1), "signalled");

    ring.submitter().unregister_eventfd().unwrap();
    ring.sq().push(&op::Nop::new().build()).unwrap();
    ring.submit_and_wait(1).unwrap();
    ring.cq().pop().unwrap();
    assert_eq!(eventfd_count(&efd), None, "not signalled once unregistered");
    assert_errno(ring.submitter().unregister_eventfd(), libc::ENXIO);
}

#[test]
fn eventfd_async_fires_only_for_async_completions() {
    let mut ring = Ring::new(8).unwrap();
    let efd = eventfd();
    ring.submitter().register_eventfd_async(&efd).unwrap();
    // Inline completion: no signal.
    ring.sq().push(&op::Nop::new().build()).unwrap();
    ring.submit_and_wait(1).unwrap();
    ring.cq().pop().unwrap();
    assert_eq!(eventfd_count(&efd), None, "inline completion does not signal");
    // Forced to an io-wq worker: signalled.
    ring.sq().push(&op::Nop::new().build().flags(SqeFlags::ASYNC)).unwrap();
    ring.submit_and_wait(1).unwrap();
    ring.cq().pop().unwrap();
    // The kernel may signal the eventfd a moment after posting the completion.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    let mut signalled = eventfd_count(&efd).is_some_and(|n| n >= 1);
    while !signalled && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(5));
        signalled = eventfd_count(&efd).is_some_and(|n| n >= 1);
    }
    assert!(signalled, "async completion signals");
}

// ---- personality ----

#[test]
fn personality_ids_register_and_unregister() {
    let ring = Ring::new(2).unwrap();
    let a = ring.submitter().register_personality().unwrap();
    let b = ring.submitter().register_personality().unwrap();
    assert!(a != 0 && b != 0 && a != b, "ids {a} {b}");
    ring.submitter().unregister_personality(a).unwrap();
    assert_errno(ring.submitter().unregister_personality(a), libc::EINVAL);
    ring.submitter().unregister_personality(b).unwrap();
}

#[test]
fn personality_runs_with_registered_credentials() {
    const NAME: &str = "personality_runs_with_registered_credentials";
    if !rustix::process::geteuid().is_root() {
        common::skip(NAME, "needs root to switch credentials");
        return;
    }
    // A root-only file in a directory anyone may search.
    let dir = TempDir::new("personality");
    std::fs::set_permissions(&dir.0, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let file = dir.0.join("secret");
    std::fs::write(&file, b"root only").unwrap();
    std::fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let path = CString::new(file.into_os_string().into_encoded_bytes()).unwrap();

    // Credentials are per-thread state shared by the test threads' process: switch them in a
    // child only.
    let code = in_child(|| {
        let mut ring = Ring::new(4).map_err(|_| 1)?;
        // setresuid(2) as a raw system call changes only this thread (the child has one).
        let setresuid = |r: libc::uid_t, e: libc::uid_t, s: libc::uid_t| {
            // SAFETY: plain integer arguments.
            unsafe { libc::syscall(libc::SYS_setresuid, r, e, s) == 0 }
        };
        let keep = libc::uid_t::MAX; // -1: unchanged
        step(setresuid(keep, 65534, keep), 2)?;
        let id = ring.submitter().register_personality().map_err(|_| 3)?;
        step(setresuid(keep, 0, keep), 4)?;

        // With the registered (uid 65534) credentials: refused.
        // SAFETY: `path` lives until the completion is reaped.
        let cqe = unsafe { run(&mut ring, &op::OpenAt::new(&path).build().personality(id)) };
        step(cqe.result() == Err(Errno::ACCES), 5)?;
        // With the submitter's own (root) credentials: opened.
        // SAFETY: as above.
        let cqe = unsafe { run(&mut ring, &op::OpenAt::new(&path).build()) };
        let fd = cqe.result().map_err(|_| 6)?;
        // SAFETY: the fd the open returned, ours to close.
        unsafe { libc::close(fd as RawFd) };
        ring.submitter().unregister_personality(id).map_err(|_| 7)?;
        // An unregistered personality is refused.
        // SAFETY: as above.
        let cqe = unsafe { run(&mut ring, &op::OpenAt::new(&path).build().personality(id)) };
        step(cqe.result() == Err(Errno::INVAL), 8)?;
        Ok(())
    });
    assert_eq!(code, 0, "child failed at step {code}");
}

// ---- restrictions ----

#[test]
fn restrictions_refuse_disallowed_opcode() {
    let mut ring = Builder::new().r_disabled().build(8).unwrap();
    ring.submitter().register_restrictions(&[Restriction::allow_sqe_op(op::Nop::CODE)]).unwrap();
    assert_errno(ring.submitter().register_restrictions(&[Restriction::allow_sqe_op(op::Nop::CODE)]), libc::EBUSY);
    ring.enable_rings().unwrap();
    // Too late once enabled: EBADFD, or EACCES from kernels that restrict every register call
    // of a restricted ring (up to at least 6.18).
    let late = ring.submitter().register_restrictions(&[]);
    assert!(late.as_ref().is_err_and(|e| e.is_errno(libc::EBADFD) || e.is_errno(libc::EACCES)), "{late:?}");

    let (r, _w) = pipe();
    let mut buf = [0u8; 8];
    ring.sq().push(&op::Nop::new().build().user_data(1)).unwrap();
    // SAFETY: `buf` lives until the completions are reaped.
    unsafe { ring.sq().push_raw(&op::Read::new(&r, &mut buf).unwrap().build().user_data(2)) }.unwrap();
    ring.submit_and_wait(2).unwrap();
    let mut got: Vec<_> = (0..2).map(|_| ring.cq().pop().unwrap()).map(|c| (c.user_data(), c.raw_result())).collect();
    got.sort();
    assert_eq!(got, vec![(1, 0), (2, -libc::EACCES)]);
    // No register rule: kernels up to at least 6.18 then refuse every register call; newer ones
    // leave register calls unrestricted.
    match ring.submitter().register_files_sparse(2) {
        Ok(()) => {
            common::note("restrictions_refuse_disallowed_opcode", "register calls unrestricted without a register rule")
        }
        Err(e) if e.is_errno(libc::EACCES) => {}
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn restrictions_on_register_ops_and_flags() {
    let mut ring = Builder::new().r_disabled().build(8).unwrap();
    ring.submitter()
        .register_restrictions(&[
            Restriction::allow_register_op(IORING_REGISTER_FILES).unwrap(),
            Restriction::allow_sqe_op(op::Nop::CODE),
            Restriction::require_sqe_flags(SqeFlags::IO_DRAIN),
        ])
        .unwrap();
    ring.enable_rings().unwrap();
    let (r, _w) = pipe();
    ring.submitter().register_files(&[r.as_fd()]).unwrap();
    assert_errno(ring.submitter().register_buffers_sparse(1), libc::EACCES);
    // The refused entry goes last: submission stops at a refused entry (without SUBMIT_ALL).
    ring.sq().push(&op::Nop::new().build().user_data(1).flags(SqeFlags::IO_DRAIN)).unwrap();
    ring.sq().push(&op::Nop::new().build().user_data(2)).unwrap();
    ring.submit_and_wait(2).unwrap();
    let mut got: Vec<_> = (0..2).map(|_| ring.cq().pop().unwrap()).map(|c| (c.user_data(), c.raw_result())).collect();
    got.sort();
    assert_eq!(got, vec![(1, 0), (2, -libc::EACCES)], "IO_DRAIN is required");
}

#[test]
fn task_restrictions_apply_to_new_rings() {
    const NAME: &str = "task_restrictions_apply_to_new_rings";
    // Task restrictions cannot be removed: register them in a child only.
    let code = in_child(|| {
        // SAFETY: plain integer arguments.
        step(unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } == 0, 1)?;
        match register::register_task_restrictions(&[Restriction::allow_sqe_op(op::Nop::CODE)]) {
            Ok(()) => {}
            Err(e) if e.is_errno(libc::EINVAL) => return Err(CHILD_UNSUPPORTED),
            Err(_) => return Err(2),
        }
        let mut ring = Ring::new(4).map_err(|_| 3)?;
        let (r, _w) = pipe();
        let mut buf = [0u8; 8];
        ring.sq().push(&op::Nop::new().build().user_data(1)).map_err(|_| 4)?;
        // SAFETY: `buf` lives until the completions are reaped.
        unsafe { ring.sq().push_raw(&op::Read::new(&r, &mut buf).unwrap().build().user_data(2)) }.map_err(|_| 4)?;
        ring.submit_and_wait(2).map_err(|_| 5)?;
        for _ in 0..2 {
            let c = ring.cq().pop().ok_or(6)?;
            let want = if c.user_data() == 1 { Ok(0) } else { Err(Errno::ACCES) };
            step(c.result() == want, 7)?;
        }
        let again = register::register_task_restrictions(&[Restriction::allow_sqe_op(op::Nop::CODE)]);
        step(again.is_err_and(|e| e.is_errno(libc::EPERM)), 8)?;
        Ok(())
    });
    match code {
        0 => {}
        CHILD_UNSUPPORTED => common::skip(NAME, "kernel lacks per-task restrictions (fd = -1, Linux 7.x): EINVAL"),
        c => panic!("child failed at step {c}"),
    }
}

// ---- io-wq ----

#[test]
fn iowq_max_workers_round_trip() {
    let mut ring = Ring::new(4).unwrap();
    // Make sure this thread has its io-wq (the limits are per task).
    ring.sq().push(&op::Nop::new().build().flags(SqeFlags::ASYNC)).unwrap();
    ring.submit_and_wait(1).unwrap();
    ring.cq().pop().unwrap();

    let mut vals = [3, 5];
    ring.submitter().register_iowq_max_workers(&mut vals).unwrap();
    let old = vals;
    let mut read = [0, 0];
    ring.submitter().register_iowq_max_workers(&mut read).unwrap();
    assert_eq!(read, [3, 5], "a [0, 0] call reads back the limits just set");
    let mut restore = old;
    ring.submitter().register_iowq_max_workers(&mut restore).unwrap();
    assert_eq!(restore, [3, 5]);
}

#[test]
fn iowq_affinity_set_and_cleared() {
    let ring = Ring::new(4).unwrap();
    // SAFETY: all-zero is an empty cpu_set_t; the libc macros only set bits.
    let mut set: libc::cpu_set_t = unsafe { core::mem::zeroed() };
    // SAFETY: reads this thread's allowed CPUs into `set`.
    let r = unsafe { libc::sched_getaffinity(0, core::mem::size_of::<libc::cpu_set_t>(), &mut set) };
    assert_eq!(r, 0);
    ring.submitter().register_iowq_aff(&set).unwrap();
    ring.submitter().unregister_iowq_aff().unwrap();
}

// ---- raw buffer-ring calls ----

#[test]
fn pbuf_ring_raw_calls() {
    let ring = Ring::new(4).unwrap();
    let bgid = 0x3a;
    let reg = io_uring_buf_reg { ring_entries: 8, bgid, flags: IOU_PBUF_RING_MMAP, ..Default::default() };
    // SAFETY: a kernel-allocated (IOU_PBUF_RING_MMAP) ring with no buffers published.
    match unsafe { ring.submitter().register_pbuf_ring_raw(&reg) } {
        Ok(()) => {}
        Err(e) if e.is_errno(libc::EINVAL) => {
            common::skip("pbuf_ring_raw_calls", "kernel lacks IOU_PBUF_RING_MMAP (6.4)");
            return;
        }
        Err(e) => panic!("{e}"),
    }
    // SAFETY: as above.
    let again = unsafe { ring.submitter().register_pbuf_ring_raw(&reg) };
    assert!(matches!(again, Err(Error::BufGroupInUse { bgid: 0x3a })), "{again:?}");
    match ring.submitter().pbuf_status(bgid) {
        Ok(head) => assert_eq!(head, 0),
        Err(e) if e.is_errno(libc::EINVAL) => {
            common::note("pbuf_ring_raw_calls", "no IORING_REGISTER_PBUF_STATUS (6.8)")
        }
        Err(e) => panic!("{e}"),
    }
    // SAFETY: the group was registered raw above; no `BufRing` or `KmBufRing` of the crate
    // owns it, and no request ever selected from it.
    unsafe { ring.submitter().unregister_pbuf_ring(bgid) }.unwrap();
    // SAFETY: as above (the group is gone; the call only fails).
    assert!(unsafe { ring.submitter().unregister_pbuf_ring(bgid) }.is_err());
    assert_errno(ring.submitter().pbuf_status(bgid), libc::ENOENT);
}

// ---- ring-less MSG_RING ----

#[test]
fn send_msg_ring_without_a_ring() {
    let mut target = Ring::new(4).unwrap();
    let fd = target.submitter().fd().unwrap().try_clone_to_owned().unwrap();
    match register::send_msg_ring(&fd, 0x55, 7, 0) {
        Ok(()) => {}
        Err(e) if e.is_errno(libc::EINVAL) => {
            common::skip("send_msg_ring_without_a_ring", "kernel lacks IORING_REGISTER_SEND_MSG_RING (6.13)");
            return;
        }
        Err(e) => panic!("{e}"),
    }
    let c = next_cqe(&mut target).expect("the message");
    assert_eq!((c.user_data(), c.raw_result(), c.raw_flags()), (0x55, 7, 0));
    register::send_msg_ring(&fd, 0x56, -3, 0x00ab_0000).unwrap();
    let c = next_cqe(&mut target).expect("the message");
    assert_eq!((c.user_data(), c.raw_result(), c.raw_flags()), (0x56, -3, 0x00ab_0000));
    let (r, _w) = pipe();
    assert_errno(register::send_msg_ring(&r, 1, 1, 0), libc::EBADFD);
}

// ---- probe ----

#[test]
fn probe_without_ring() {
    let p = Probe::without_ring().unwrap();
    assert!(p.is_supported(op::Nop::CODE));
}

// ---- bad arguments ----

#[test]
fn bad_arguments_are_typed_errors() {
    let ring = Ring::new(4).unwrap();
    let sub = ring.submitter();
    let mut a = vec![0u8; 64];
    let none: [libc::iovec; 0] = [];
    // SAFETY: refused before any system call (nothing is registered).
    unsafe {
        assert_invalid(sub.register_buffers(&none), "buffers");
        assert_invalid(sub.register_buffers_tags(&[iovec(&mut a)], &[1, 2]), "tags");
        let huge = libc::iovec { iov_base: a.as_mut_ptr().cast(), iov_len: register::MAX_BUFFER_LEN + 1 };
        assert_invalid(sub.register_buffers(&[huge]), "buffer");
        let empty = libc::iovec { iov_base: a.as_mut_ptr().cast(), iov_len: 0 };
        assert_invalid(sub.register_buffers(&[empty]), "buffer");
        let null = libc::iovec { iov_base: core::ptr::null_mut(), iov_len: 0 };
        assert_invalid(sub.register_buffers_tags(&[null], &[5]), "tags");
        assert_invalid(sub.register_buffers_update(u32::MAX, &[iovec(&mut a)]), "offset");
    }
    assert_invalid(sub.register_buffers_sparse(0), "buffers");
    let no_fds: [BorrowedFd<'_>; 0] = [];
    assert_invalid(sub.register_files(&no_fds), "files");
    assert_invalid(sub.register_files(&[SKIP_SLOT]), "fd");
    let stdin = std::io::stdin();
    assert_invalid(sub.register_files_tags(&[stdin.as_fd(), stdin.as_fd()], &[1]), "tags");
    assert_invalid(sub.register_files_tags(&[EMPTY_SLOT], &[1]), "tags");
    assert_invalid(sub.register_files_sparse(0), "files");
    assert_invalid(sub.register_files_update_tag(0, &[SKIP_SLOT], &[9]), "tags");
    assert_invalid(sub.register_file_alloc_range(u32::MAX, 2), "file alloc range");
    assert_invalid(sub.clone_buffers_with(&CloneBuffers::from_registered_index(0).range(1, 0, 0)), "clone range");
    assert_invalid(
        sub.clone_buffers_with(&CloneBuffers::from_registered_index(0).range(0, u32::MAX, 2)),
        "clone range",
    );
    assert_invalid(sub.register_iowq_max_workers(&mut [u32::MAX, 0]), "io-wq max workers");
    assert!(matches!(sub.register_restrictions(&[Restriction::allow_sqe_op(0)]), Err(Error::WrongRingKind { .. })));
    assert_invalid(Restriction::allow_register_op(1000), "register opcode");
    // Nothing reached the kernel: a real registration still works.
    sub.register_files_sparse(2).unwrap();
    // SAFETY: `a` outlives the ring.
    unsafe { sub.register_buffers(&[iovec(&mut a)]) }.unwrap();
    drop(ring);
}
