//! Task-work and polling modes: DEFER_TASKRUN, COOP_TASKRUN with TASKRUN_FLAG, SQPOLL, IOPOLL.

mod common;

use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

use uring::{op, Ring};

fn pipe() -> (OwnedFd, OwnedFd) {
    rustix::pipe::pipe().unwrap()
}

/// Pushes a read of `buf` from `fd` (raw encoder: the typed ones arrive with the operations).
fn push_read(ring: &mut Ring, fd: &OwnedFd, buf: &mut [u8], user_data: u64) {
    let sqe =
        op::prep_rw(uring::uapi::IORING_OP_READ, fd.as_raw_fd(), buf.as_mut_ptr() as u64, buf.len() as u32, u64::MAX)
            .user_data(user_data);
    // SAFETY: every caller keeps `buf` alive and unmoved until it reaps the completion.
    unsafe { ring.sq().push_raw(&sqe) }.unwrap();
}

/// DEFER_TASKRUN: a read that completes later stays invisible until the application asks for
/// events (get_events or a wait).
#[test]
fn defer_taskrun_visibility() {
    let mut ring = match Ring::builder().defer_taskrun().build(4) {
        Ok(r) => r,
        Err(e) if common::is_einval(&e) => {
            common::skip("defer_taskrun_visibility", "kernel lacks IORING_SETUP_DEFER_TASKRUN (6.1)");
            return;
        }
        Err(e) => panic!("{e}"),
    };
    let (r, w) = pipe();
    let mut buf = [0u8; 8];
    push_read(&mut ring, &r, &mut buf, 1);
    assert_eq!(ring.submit().unwrap(), 1);
    rustix::io::write(&w, b"hi").unwrap();
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(ring.cq().ready(), 0, "completion visible before get_events");
    assert!(ring.cq().pop().is_none());
    ring.get_events().unwrap();
    let cqe = ring.cq().pop().expect("completion after get_events");
    assert_eq!((cqe.user_data(), cqe.result()), (1, Ok(2)));
    assert_eq!(&buf[..2], b"hi");
    // And a wait runs the task work too.
    push_read(&mut ring, &r, &mut buf, 2);
    ring.submit().unwrap();
    rustix::io::write(&w, b"abc").unwrap();
    let cqe = ring.wait_cqe().unwrap();
    assert_eq!((cqe.user_data(), cqe.result()), (2, Ok(3)));
}

/// COOP_TASKRUN + TASKRUN_FLAG: pending task work is flagged in IORING_SQ_TASKRUN, and
/// peek_cqe enters the kernel to run it.
#[test]
fn taskrun_flag() {
    let mut ring = match Ring::builder().coop_taskrun().taskrun_flag().build(4) {
        Ok(r) => r,
        Err(e) if common::is_einval(&e) => {
            common::skip("taskrun_flag", "kernel lacks IORING_SETUP_TASKRUN_FLAG (5.19)");
            return;
        }
        Err(e) => panic!("{e}"),
    };
    // Another thread makes a read complete; under COOP_TASKRUN the completion is queued as task
    // work for this task without interrupting it, and flagged in IORING_SQ_TASKRUN. This thread
    // spins without system calls until the flag shows. Any return to user space (a timer
    // interrupt, say) also runs task work, so an attempt can see the completion arrive without
    // the flag; retry until the flag is observed.
    let (r, w) = pipe();
    let w = std::sync::Arc::new(w);
    let mut buf = [0u8; 8];
    for attempt in 0..50u64 {
        push_read(&mut ring, &r, &mut buf, attempt);
        ring.submit().unwrap();
        let w2 = w.clone();
        let writer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(5));
            rustix::io::write(&*w2, b"x").unwrap();
        });
        let deadline = Instant::now() + Duration::from_secs(2);
        let flagged = loop {
            if ring.sq().taskrun() {
                break true;
            }
            if ring.cq().ready() > 0 {
                break false;
            }
            assert!(Instant::now() < deadline, "neither IORING_SQ_TASKRUN nor a completion");
            std::hint::spin_loop();
        };
        writer.join().unwrap();
        // The kernel sets the flag just before it hands the task work to this task
        // (`io_req_normal_work_add`: the flag, then `task_work_add`), so a peek in between
        // enters the kernel and finds nothing to run yet (seen under qemu on 7.3); the flag
        // stays set and a later peek runs it.
        let deadline = Instant::now() + Duration::from_secs(2);
        let cqe = loop {
            if let Some(cqe) = ring.peek_cqe().unwrap() {
                break cqe;
            }
            assert!(Instant::now() < deadline, "peek_cqe never ran the task work");
            std::thread::sleep(Duration::from_millis(1));
        };
        assert_eq!((cqe.user_data(), cqe.result()), (attempt, Ok(1)));
        if flagged {
            assert!(!ring.sq().taskrun(), "flag cleared once the task work ran");
            return;
        }
    }
    panic!("IORING_SQ_TASKRUN was never observed in 50 attempts");
}

/// SQPOLL: submission needs no syscall while the thread is awake; once idle it sleeps, sets
/// NEED_WAKEUP, and submit wakes it.
#[test]
fn sqpoll_sleep_and_wakeup() {
    let mut ring = match Ring::builder().sqpoll(10).build(8) {
        Ok(r) => r,
        Err(e) => {
            common::skip("sqpoll_sleep_and_wakeup", format!("SQPOLL ring refused: {e}"));
            return;
        }
    };
    ring.sq().push(&op::Nop::new().build().user_data(1)).unwrap();
    assert_eq!(ring.submit().unwrap(), 1);
    assert_eq!(ring.wait_cqe().unwrap().user_data(), 1);
    // Idle past the 10 ms idle time: the thread sleeps and asks for a wakeup.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !ring.sq().need_wakeup() {
        assert!(Instant::now() < deadline, "SQPOLL thread never went to sleep");
        std::thread::sleep(Duration::from_millis(5));
    }
    for i in 0..8 {
        ring.sq().push(&op::Nop::new().build().user_data(100 + i)).unwrap();
    }
    ring.submit().unwrap();
    ring.wait_cqes(8).unwrap();
    let mut got: Vec<u64> = ring.cq().iter().map(|c| c.user_data()).collect();
    got.sort();
    assert_eq!(got, (100..108).collect::<Vec<_>>());
    // A full SQ: sqring_wait returns once the thread consumed entries.
    for i in 0..8 {
        ring.sq().push(&op::Nop::new().build().user_data(i)).unwrap();
    }
    ring.submit().unwrap();
    ring.sqring_wait().unwrap();
    ring.wait_cqes(8).unwrap();
    assert_eq!(ring.cq().iter().count(), 8);
}

/// IOPOLL rings set up, and a NOP round-trips (NOP needs no pollable file).
#[test]
fn iopoll_nop() {
    let mut ring = match Ring::builder().iopoll().build(4) {
        Ok(r) => r,
        Err(e) => {
            common::skip("iopoll_nop", format!("IOPOLL ring refused: {e}"));
            return;
        }
    };
    ring.sq().push(&op::Nop::new().build().user_data(3)).unwrap();
    ring.submit().unwrap();
    assert_eq!(ring.wait_cqe().unwrap().user_data(), 3);
}
