//! FUSE-over-io_uring commands (`uring::cmd::fuse`) against the real `/dev/fuse`, without
//! mounting anything: the kernel must refuse them with one of its documented errors, and the
//! crate must refuse to put them on a 64-byte-SQE ring before the kernel sees them.
//!
//! The module parameter `/sys/module/fuse/parameters/enable_uring` is only read by default. With
//! `URING_TEST_FUSE_ENABLE_URING=1` (as root) the test also runs the commands with the parameter
//! set to Y, restoring the previous value through a drop guard, even if the test panics. It is
//! off by default because the parameter is global and other tests on the machine may rely on
//! its value.

mod common;

use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use uring::cmd::fuse::{AddQueue, CommitAndFetch, EntryIovecs, Register};
use uring::cmd::SqeLayout;
use uring::op::{Target, UringCmd};
use uring::uapi::fuse::{fuse_uring_req_header, FUSE_IO_URING_CMD_REGISTER};
use uring::{Errno, Error, Ring, Sqe128};

const PARAM: &str = "/sys/module/fuse/parameters/enable_uring";

/// Restores the module parameter on drop.
struct ParamGuard {
    old: String,
}

impl Drop for ParamGuard {
    fn drop(&mut self) {
        if let Err(e) = std::fs::write(PARAM, &self.old) {
            common::note("fuse_cmd", format!("could not restore {PARAM} to {:?}: {e}", self.old));
        }
    }
}

/// Pushes `sqe` (fitted to the ring), submits it and waits up to 5 s for its completion.
fn run(ring: &mut Ring, sqe: &Sqe128, user_data: u64) -> Result<u32, Errno> {
    // SAFETY: the entries point at header/payload buffers and iovecs that the caller keeps alive
    // until the ring is dropped; the kernel only reads the iovecs during this call.
    unsafe { ring.sq().push128_raw(&sqe.user_data(user_data)) }.unwrap();
    ring.submit().unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        let _ = ring.submit_and_wait_timeout(1, Duration::from_millis(100));
        if let Some(c) = ring.cq().pop() {
            assert_eq!(c.user_data(), user_data);
            return c.result();
        }
    }
    panic!("the command was queued: the kernel accepted a FUSE command on an unmounted device");
}

/// The errors the kernel documents for a FUSE command before a connection is usable.
fn documented(e: Errno) -> &'static str {
    match e.raw_os_error() {
        libc::ENOTCONN => "ENOTCONN (no connection on this fd: not mounted, Linux 6.14-6.17)",
        libc::EPERM => "EPERM (no connection on this fd: not mounted, Linux 6.18+)",
        libc::EOPNOTSUPP => "EOPNOTSUPP (io_uring disabled: enable_uring=N)",
        libc::EAGAIN => "EAGAIN (INIT not done)",
        libc::EINVAL => "EINVAL",
        _ => "",
    }
}

/// REGISTER, COMMIT_AND_FETCH and ADD_QUEUE on an unmounted `/dev/fuse`, on a 128-byte ring:
/// one of the documented errors (recorded). On a 64-byte ring: refused with a typed error, while
/// a hand-made 64-byte FUSE command gets the kernel's EINVAL.
#[test]
fn fuse_commands_on_unmounted_device() {
    const TEST: &str = "fuse_commands_on_unmounted_device";
    if !Path::new("/dev/fuse").exists() {
        common::skip(TEST, "/dev/fuse is missing");
        return;
    }
    let dev = match OpenOptions::new().read(true).write(true).custom_flags(libc::O_CLOEXEC).open("/dev/fuse") {
        Ok(f) => f,
        Err(e) => {
            common::skip(TEST, format!("cannot open /dev/fuse: {e}"));
            return;
        }
    };
    let param = std::fs::read_to_string(PARAM).map(|s| s.trim().to_string());
    let param_note = match &param {
        Ok(v) => format!("enable_uring={v}"),
        Err(e) => format!("{PARAM} unreadable ({e}): kernel without CONFIG_FUSE_IO_URING"),
    };
    let mut ring = match Ring::builder().sqe128().build(8) {
        Ok(r) => r,
        Err(e) => {
            common::skip(TEST, format!("no SQE128 ring: {e}"));
            return;
        }
    };
    assert_eq!(SqeLayout::of(&ring), SqeLayout::Sqe128);

    // A ring entry's buffers: a 288-byte header and a 64 KiB payload.
    let mut header = Box::new(fuse_uring_req_header::default());
    let mut payload = vec![0u8; 64 << 10];
    let iov = EntryIovecs::new(&mut header, &mut payload).unwrap();
    let register = Register::new(&dev, 0, &iov).build();
    let commit = CommitAndFetch::new(&dev, 0, 1).build();
    let add_queue = AddQueue::new(&dev, 0).build();

    let results = run_all(&mut ring, &register, &commit, &add_queue);
    for (name, r) in &results {
        let e = r.expect_err(name);
        assert!(!documented(e).is_empty(), "{name}: undocumented error {e:?}");
    }
    common::note(
        TEST,
        format!(
            "{param_note}: REGISTER -> {}, COMMIT_AND_FETCH -> {}, ADD_QUEUE -> {}",
            documented(results[0].1.unwrap_err()),
            documented(results[1].1.unwrap_err()),
            documented(results[2].1.unwrap_err()),
        ),
    );

    // A 64-byte ring: the crate refuses before anything is queued...
    let mut small = Ring::new(4).unwrap();
    // SAFETY: refused before anything is written.
    let e = unsafe { small.sq().push128_raw(&register) }.map_err(uring::Error::from).unwrap_err();
    assert!(matches!(e, Error::WrongRingKind { .. }), "{e}");
    // SAFETY: refused before anything is written.
    let e = unsafe { small.sq().push128_raw(&add_queue) }.map_err(uring::Error::from);
    assert!(matches!(e, Err(Error::WrongRingKind { .. })));
    // SAFETY: refused before anything is written.
    let e = unsafe { small.sq().push128_raw(&register) }.unwrap_err();
    assert_eq!(e, uring::PushError128::RingTooSmall);
    assert_eq!(small.sq().ready(), 0);
    // ...where a 64-byte FUSE command, built by hand, gets the kernel's EINVAL (first check).
    let sqe64 = UringCmd::new(Target::from(&dev), FUSE_IO_URING_CMD_REGISTER).build();
    // SAFETY: points at no memory.
    unsafe { small.sq().push_raw(&sqe64) }.unwrap();
    small.submit_and_wait(1).unwrap();
    assert_eq!(small.wait_cqe().unwrap().result(), Err(Errno::INVAL), "64-byte FUSE command");

    // Optionally, the same with enable_uring=Y (restored by the guard).
    if std::env::var_os("URING_TEST_FUSE_ENABLE_URING").is_some_and(|v| v == "1") {
        match param.as_deref() {
            Ok("Y") => common::note(TEST, "enable_uring already Y: nothing to toggle"),
            Ok(old) => {
                let guard = ParamGuard { old: old.to_string() };
                match std::fs::write(PARAM, "Y") {
                    Ok(()) => {
                        let results = run_all(&mut ring, &register, &commit, &add_queue);
                        drop(guard);
                        let now = std::fs::read_to_string(PARAM).unwrap_or_default();
                        assert_eq!(now.trim(), old, "the parameter was restored");
                        for (name, r) in &results {
                            let e = r.expect_err(name);
                            assert!(!documented(e).is_empty(), "{name}: undocumented error {e:?}");
                        }
                        common::note(
                            TEST,
                            format!(
                                "with enable_uring=Y (restored to {old}): REGISTER -> {}",
                                documented(results[0].1.unwrap_err())
                            ),
                        );
                    }
                    Err(e) => common::note(TEST, format!("cannot set {PARAM}: {e}")),
                }
            }
            Err(_) => common::note(TEST, "no enable_uring parameter to toggle"),
        }
    }
    drop(dev);
    drop(ring);
    drop(header);
    drop(payload);
}

fn run_all(
    ring: &mut Ring,
    register: &Sqe128,
    commit: &Sqe128,
    add_queue: &Sqe128,
) -> [(&'static str, Result<u32, Errno>); 3] {
    [
        ("REGISTER", run(ring, register, 1)),
        ("COMMIT_AND_FETCH", run(ring, commit, 2)),
        ("ADD_QUEUE", run(ring, add_queue, 3)),
    ]
}
