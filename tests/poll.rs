//! Poll operations on a real ring: one-shot and multishot polls on pipes, update, remove.

mod common;

use std::os::fd::OwnedFd;
use std::time::Duration;

use uring::op::{PollAdd, PollEvents, PollRemove, PollUpdate};
use uring::{Errno, Probe, Ring};

fn pipe() -> (OwnedFd, OwnedFd) {
    rustix::pipe::pipe().unwrap()
}

/// A ring, or `None` (after printing why) when the kernel lacks `op`.
fn ring_for(test: &str, op: u8, name: &str) -> Option<Ring> {
    let ring = Ring::new(16).unwrap();
    if !Probe::of(&ring).unwrap().is_supported(op) {
        common::skip(test, format!("kernel lacks {name}"));
        return None;
    }
    Some(ring)
}

/// Waits briefly and asserts that no completion arrived.
fn assert_idle(ring: &mut Ring, what: &str) {
    std::thread::sleep(Duration::from_millis(20));
    ring.submit().unwrap();
    assert!(ring.peek_cqe().unwrap().is_none(), "{what}: completion before the event");
}

#[test]
fn poll_add_fires_on_write() {
    let Some(mut ring) = ring_for("poll_add_fires_on_write", PollAdd::CODE, "IORING_OP_POLL_ADD") else { return };
    let (r, w) = pipe();
    // SAFETY: `r` stays open until the request's final completion is reaped below.
    unsafe { ring.sq().push_fd(&PollAdd::new(&r, PollEvents::IN).build().user_data(1)) }.unwrap();
    ring.submit().unwrap();
    assert_idle(&mut ring, "poll on an empty pipe");
    rustix::io::write(&w, b"x").unwrap();
    let cqe = ring.wait_cqe().unwrap();
    assert_eq!(cqe.user_data(), 1);
    let mask = cqe.result().unwrap();
    assert!(PollEvents::from_bits_retain(mask).contains(PollEvents::IN), "mask {mask:#x}");
    assert!(!cqe.more(), "a one-shot poll has no F_MORE");
}

#[test]
fn poll_multishot_fires_repeatedly() {
    let Some(mut ring) = ring_for("poll_multishot_fires_repeatedly", PollAdd::CODE, "IORING_OP_POLL_ADD") else {
        return;
    };
    let (r, w) = pipe();
    // SAFETY: `r` stays open until the request's final completion is reaped below.
    unsafe { ring.sq().push_fd(&PollAdd::new(&r, PollEvents::IN).multishot().build().user_data(7)) }.unwrap();
    ring.submit().unwrap();
    assert_idle(&mut ring, "multishot poll on an empty pipe");
    let mut buf = [0u8; 8];
    for i in 0..3 {
        rustix::io::write(&w, b"y").unwrap();
        let cqe = ring.wait_cqe().unwrap();
        assert_eq!(cqe.user_data(), 7);
        if cqe.result() == Err(Errno::INVAL) && i == 0 {
            common::skip("poll_multishot_fires_repeatedly", "kernel lacks IORING_POLL_ADD_MULTI (5.13)");
            return;
        }
        assert!(PollEvents::from_bits_retain(cqe.result().unwrap()).contains(PollEvents::IN));
        assert!(cqe.more(), "shot {i}: multishot poll keeps F_MORE");
        assert_eq!(rustix::io::read(&r, &mut buf).unwrap(), 1);
    }
    // Removing it ends the series: the poll completes with -ECANCELED and no F_MORE.
    ring.sq().push(&PollRemove::new(7).build().user_data(8)).unwrap();
    ring.submit_and_wait(2).unwrap();
    let mut seen = 0;
    for cqe in ring.cq().iter() {
        match cqe.user_data() {
            7 => {
                assert_eq!(cqe.result(), Err(Errno::CANCELED));
                assert!(!cqe.more());
            }
            8 => assert_eq!(cqe.result(), Ok(0)),
            other => panic!("unexpected completion {other}"),
        }
        seen += 1;
    }
    assert_eq!(seen, 2);
}

#[test]
fn poll_level_triggered_multishot() {
    let Some(mut ring) = ring_for("poll_level_triggered_multishot", PollAdd::CODE, "IORING_OP_POLL_ADD") else {
        return;
    };
    let (r, w) = pipe();
    rustix::io::write(&w, b"z").unwrap();
    // Data stays unread: a level-triggered multishot poll keeps reporting it.
    // SAFETY: `r` stays open until the request's final completion is reaped below.
    unsafe { ring.sq().push_fd(&PollAdd::new(&r, PollEvents::IN).multishot().level().build().user_data(3)) }.unwrap();
    ring.submit().unwrap();
    let first = ring.wait_cqe().unwrap();
    if first.result() == Err(Errno::INVAL) {
        common::skip(
            "poll_level_triggered_multishot",
            "kernel refuses IORING_POLL_ADD_LEVEL on POLL_ADD (EINVAL on every kernel up to 7.3)",
        );
        return;
    }
    assert!(first.more());
    ring.sq().push(&PollRemove::new(3).build().user_data(4)).unwrap();
    ring.submit().unwrap();
    let (mut removed, mut ended) = (false, false);
    for _ in 0..1000 {
        let cqe = ring.wait_cqe().unwrap();
        match cqe.user_data() {
            4 => {
                assert_eq!(cqe.result(), Ok(0));
                removed = true;
            }
            3 if !cqe.more() => {
                assert_eq!(cqe.result(), Err(Errno::CANCELED));
                ended = true;
            }
            3 => assert!(PollEvents::from_bits_retain(cqe.result().unwrap()).contains(PollEvents::IN)),
            other => panic!("unexpected completion {other}"),
        }
        if removed && ended {
            return;
        }
    }
    panic!("poll not removed");
}

#[test]
fn poll_update_changes_mask_and_user_data() {
    let Some(mut ring) = ring_for("poll_update_changes_mask_and_user_data", PollAdd::CODE, "IORING_OP_POLL_ADD") else {
        return;
    };
    let (r, w) = pipe();
    // The read end of a pipe never becomes writable: this poll waits forever.
    // SAFETY: `r` stays open until the request's final completion is reaped below.
    unsafe { ring.sq().push_fd(&PollAdd::new(&r, PollEvents::OUT).build().user_data(10)) }.unwrap();
    ring.submit().unwrap();
    assert_idle(&mut ring, "POLLOUT on a pipe's read end");
    ring.sq().push(&PollUpdate::new(10).events(PollEvents::IN).new_user_data(11).build().user_data(12)).unwrap();
    let cqe = {
        ring.submit_and_wait(1).unwrap();
        ring.cq().pop().unwrap()
    };
    if cqe.result() == Err(Errno::INVAL) {
        common::skip("poll_update_changes_mask_and_user_data", "kernel lacks IORING_POLL_UPDATE_* (5.13)");
        return;
    }
    assert_eq!((cqe.user_data(), cqe.result()), (12, Ok(0)));
    assert_idle(&mut ring, "updated poll before a write");
    rustix::io::write(&w, b"x").unwrap();
    let cqe = ring.wait_cqe().unwrap();
    assert_eq!(cqe.user_data(), 11, "the poll completes with its new user_data");
    assert!(PollEvents::from_bits_retain(cqe.result().unwrap()).contains(PollEvents::IN));
    // Updating a poll that is gone fails with ENOENT.
    ring.sq().push(&PollUpdate::new(11).new_user_data(1).build().user_data(13)).unwrap();
    ring.submit_and_wait(1).unwrap();
    let cqe = ring.cq().pop().unwrap();
    assert_eq!((cqe.user_data(), cqe.result()), (13, Err(Errno::NOENT)));
}

#[test]
fn poll_remove_cancels() {
    let Some(mut ring) = ring_for("poll_remove_cancels", PollAdd::CODE, "IORING_OP_POLL_ADD") else { return };
    let (r, _w) = pipe();
    // SAFETY: `r` stays open until the request's final completion is reaped below.
    unsafe { ring.sq().push_fd(&PollAdd::new(&r, PollEvents::IN).build().user_data(20)) }.unwrap();
    ring.submit().unwrap();
    ring.sq().push(&PollRemove::new(20).build().user_data(21)).unwrap();
    ring.submit_and_wait(2).unwrap();
    let mut got: Vec<_> = ring.cq().iter().map(|c| (c.user_data(), c.result())).collect();
    got.sort_by_key(|c| c.0);
    assert_eq!(got, vec![(20, Err(Errno::CANCELED)), (21, Ok(0))]);
    // Nothing left to remove.
    ring.sq().push(&PollRemove::new(20).build().user_data(22)).unwrap();
    ring.submit_and_wait(1).unwrap();
    let cqe = ring.cq().pop().unwrap();
    assert_eq!((cqe.user_data(), cqe.result()), (22, Err(Errno::NOENT)));
}
