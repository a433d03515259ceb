//! Regression tests for the soundness holes of issue #14: forged or replayed completions must not
//! hand memory or buffers to safe code while the kernel may still write them.
//!
//! Routes that the fix makes impossible to write in safe code are shown by `compile_fail`
//! doctests instead (src/owned/ring.rs: `OwnedRing::with_ring`; src/buf/ring.rs:
//! `BufRing::select`).

mod common;

use std::io::Write as _;
use std::os::unix::net::UnixStream;

use uring::buf::{BufRing, Selection};
use uring::op::{PollAdd, PollEvents, PollUpdate};
use uring::owned::{OwnedRing, Read, RecvMultishot, RecvSelect};
use uring::{Cqe, Error};

/// Route 1a: a poll update that relabels a live poll with an owned operation's `user_data`
/// (the first owned push gets `1 << 63`) would make the kernel post a completion the layer
/// takes for the read's final one, handing its buffer back while the read is pending. The
/// layer refuses the update; the read stays in flight and completes into its own buffer.
#[test]
fn poll_update_cannot_forge_an_owned_completion() {
    common::watchdog("poll_update_cannot_forge_an_owned_completion", 10, || {
        let mut ring = OwnedRing::new(8).unwrap();
        let (mut victim_w, victim_r) = UnixStream::pair().unwrap();
        let (mut decoy_w, decoy_r) = UnixStream::pair().unwrap();
        let id = ring.push(Read::new(victim_r.try_clone().unwrap(), vec![0u8; 4096], 0)).unwrap();
        ring.submit().unwrap();
        // SAFETY: `decoy_r` stays open until the poll's completion is reaped below.
        unsafe { ring.push_fd(&PollAdd::new(&decoy_r, PollEvents::IN).build().user_data(1)) }.unwrap();
        ring.submit().unwrap();
        for guess in [1u64 << 63, (1 << 63) | 1, u64::MAX] {
            let e = ring.push_safe(&PollUpdate::new(1).new_user_data(guess).build().user_data(2)).unwrap_err();
            assert!(matches!(e, Error::InvalidArgument { what: "poll update user_data", .. }), "{e:?}");
        }
        // An entry with an owned `user_data` of its own is refused too.
        let e = ring.push_safe(&uring::op::Nop::new().build().user_data(1 << 63)).unwrap_err();
        assert!(matches!(e, Error::InvalidArgument { what: "user_data", .. }), "{e:?}");
        decoy_w.write_all(b"x").unwrap();
        let c = ring.wait().unwrap();
        assert_eq!((c.id(), c.cqe().user_data()), (None, 1), "the poll's own completion, raw");
        drop(c);
        assert_eq!(ring.in_flight(), 1, "the read is still in flight");
        victim_w.write_all(&[0x41; 64]).unwrap();
        let c = ring.wait().unwrap();
        assert_eq!((c.id(), c.result()), (Some(id), Ok(64)));
        let read: Read = c.into_op().unwrap();
        assert!(read.buf[..64].iter().all(|&b| b == 0x41));
    });
}

/// Route 1b: the ring of the owned layer lends no fd to safe code, so no `MsgRing` (or
/// `register::send_msg_ring`) can name it as a target.
#[test]
fn owned_ring_fd_is_not_lent() {
    let ring = OwnedRing::new(4).unwrap();
    assert!(ring.ring().submitter().fd().is_none());
    // The number is there for readiness polling only.
    assert!(ring.ring().submitter().raw_fd().is_some());
}

/// Route 2: a completion selects its provided buffer once; a second call, a call with another
/// buffer ring, and a completion of an operation that selects nothing are refused.
#[test]
fn a_completion_selects_once() {
    common::watchdog("a_completion_selects_once", 10, || {
        let mut ring = OwnedRing::new(8).unwrap();
        let br = ring.buf_ring(BufRing::builder(3, 4, 64)).unwrap();
        let other = ring.buf_ring(BufRing::builder(4, 4, 64)).unwrap();
        let (mut w, r) = UnixStream::pair().unwrap();
        ring.push(RecvMultishot::new(r.try_clone().unwrap(), &br)).unwrap();
        ring.submit().unwrap();
        for round in 0..12u8 {
            // Past the ring's 4 buffers: each is returned before the next arrives.
            w.write_all(&[round; 8]).unwrap();
            let mut c = ring.wait().unwrap();
            assert!(c.more());
            assert!(matches!(c.select(&other), Err(Error::InvalidArgument { what: "buffer ring", .. })));
            let sel = c.select(&br).unwrap();
            assert_eq!(sel.data(), Some(&[round; 8][..]));
            assert_eq!(br.held(), 1);
            assert!(matches!(c.select(&br), Err(Error::InvalidArgument { what: "completion", .. })));
            drop(sel);
            assert_eq!(br.held(), 0);
        }
        drop(w);
        let mut c = ring.wait().unwrap();
        assert!(!c.more());
        assert!(matches!(c.select(&br), Ok(Selection::None)), "end of stream names no buffer");
        drop(c);

        // A NOP's completion has nothing to select; a raw completion neither.
        ring.push(uring::owned::Nop).unwrap();
        let mut c = ring.wait().unwrap();
        assert!(matches!(c.select(&br), Ok(Selection::None)));
    });
}

/// Route 2 with bundles: a bundle completion gives its buffers once.
#[test]
fn a_bundle_completion_selects_once() {
    common::watchdog("a_bundle_completion_selects_once", 10, || {
        let test = "a_bundle_completion_selects_once";
        let mut ring = OwnedRing::new(8).unwrap();
        let br = ring.buf_ring(BufRing::builder(5, 8, 16)).unwrap();
        let (mut w, r) = UnixStream::pair().unwrap();
        w.write_all(&[7u8; 40]).unwrap();
        ring.push(RecvSelect::new(r.try_clone().unwrap(), &br).bundle()).unwrap();
        let mut c = ring.wait().unwrap();
        if c.result() == Err(uring::Errno::INVAL) {
            common::skip(test, "kernel lacks receive bundles (6.10)");
            return;
        }
        let n = c.result().unwrap() as usize;
        let sel = c.select(&br).unwrap();
        assert_eq!(sel.len(), n);
        let Selection::Bundle(b) = &sel else { panic!("a bundle, got {sel:?}") };
        assert_eq!(b.slices().map(|s| s.len()).sum::<usize>(), n);
        assert!(matches!(c.select(&br), Err(Error::InvalidArgument { .. })));
        drop(sel);
        assert_eq!(br.held(), 0);
    });
}

/// Route 2 with incremental buffer rings: each piece is handed out once, at its own offset.
#[test]
fn incremental_pieces_select_once() {
    common::watchdog("incremental_pieces_select_once", 10, || {
        let test = "incremental_pieces_select_once";
        let mut ring = OwnedRing::new(8).unwrap();
        let br = match ring.buf_ring(BufRing::builder(6, 2, 64).incremental()) {
            Ok(br) => br,
            Err(e) => {
                common::skip(test, format!("incremental buffer rings (6.12): {e}"));
                return;
            }
        };
        let (mut w, r) = UnixStream::pair().unwrap();
        ring.push(RecvMultishot::new(r.try_clone().unwrap(), &br)).unwrap();
        ring.submit().unwrap();
        let mut offsets = Vec::new();
        for round in 0..6u8 {
            w.write_all(&[round; 10]).unwrap();
            let mut c = ring.wait().unwrap();
            let sel = c.select(&br).unwrap();
            let Selection::Incremental(s) = &sel else { panic!("a piece, got {sel:?}") };
            assert_eq!(s.data(), &[round; 10][..]);
            offsets.push((s.bid(), s.offset()));
            assert!(matches!(c.select(&br), Err(Error::InvalidArgument { .. })));
        }
        // No two pieces of one buffer overlap.
        for (i, a) in offsets.iter().enumerate() {
            for b in &offsets[i + 1..] {
                assert!(a.0 != b.0 || a.1.abs_diff(b.1) >= 10, "{offsets:?}");
            }
        }
    });
}

/// The CQ cannot be advanced past the kernel's tail: an empty queue refuses `advance(100)` and
/// stays empty (before the fix, `ready()` became 4294967196 and stale completions came back).
#[test]
fn advance_past_the_tail_is_refused() {
    let mut ring = uring::Ring::new(4).unwrap();
    let e = ring.cq().advance(100).unwrap_err();
    assert!(matches!(e, Error::InvalidArgument { what: "completion queue advance", .. }), "{e:?}");
    assert_eq!(ring.cq().ready(), 0);
    assert!(ring.cq().consume_peeked(&Cqe::new(0, 0, 0)).is_err());
    ring.sq().push(&uring::op::Nop::new().build().user_data(9)).unwrap();
    ring.submit_and_wait(1).unwrap();
    assert!(ring.cq().advance(2).is_err());
    assert_eq!(ring.cq().ready(), 1);
    ring.cq().advance(1).unwrap();
    assert_eq!(ring.cq().ready(), 0);
    assert!(ring.cq().pop().is_none(), "nothing stale comes back");
}

/// Owned completions can be kept and selected later, in any order: an incremental buffer's
/// pieces keep the offsets the kernel wrote them at (stamped when reaped), and a piece whose
/// buffer went back to the ring since (its last piece was selected and dropped) is refused,
/// never shown over bytes the kernel may write again.
#[test]
fn incremental_pieces_selected_late_or_stale() {
    common::watchdog("incremental_pieces_selected_late_or_stale", 10, || {
        let test = "incremental_pieces_selected_late_or_stale";
        let mut ring = OwnedRing::new(8).unwrap();
        let br = match ring.buf_ring(BufRing::builder(8, 1, 64).incremental()) {
            Ok(br) => br,
            Err(e) => {
                common::skip(test, format!("incremental buffer rings (6.12): {e}"));
                return;
            }
        };
        let (mut w, r) = UnixStream::pair().unwrap();
        ring.push(RecvMultishot::new(r, &br)).unwrap();
        ring.submit().unwrap();
        let mut pieces = Vec::new();
        for (byte, n) in [(b'A', 10usize), (b'B', 20), (b'C', 34)] {
            w.write_all(&vec![byte; n]).unwrap();
            pieces.push(ring.wait().unwrap());
        }
        // Selected backwards: each piece at its own place.
        let mut views = Vec::new();
        for (c, (byte, off, n)) in pieces.iter_mut().rev().zip([(b'C', 30, 34), (b'B', 10, 20), (b'A', 0, 10)]) {
            let sel = c.select(&br).unwrap();
            let Selection::Incremental(s) = &sel else { panic!("a piece, got {sel:?}") };
            assert_eq!((s.offset(), s.len()), (off, n as usize));
            assert!(s.data().iter().all(|&b| b == byte), "{:?}", s.data());
            views.push(sel);
        }
        drop(views); // the buffer goes back once every view is gone
        assert_eq!(br.held(), 0);

        // Keep the first piece of the next round unselected; select and drop the last piece:
        // the buffer goes back, so the kept piece is stale.
        w.write_all(&[b'D'; 10]).unwrap();
        let mut first = ring.wait().unwrap();
        w.write_all(&[b'E'; 54]).unwrap();
        let mut last = ring.wait().unwrap();
        drop(last.select(&br).unwrap());
        let e = first.select(&br).unwrap_err();
        assert!(matches!(e, Error::InvalidArgument { what: "completion", .. }), "{e:?}");
    });
}

/// Found by the `safe_api` fuzz target (fuzz/README.md): a poll update aimed at an owned poll
/// (`user_data` bit 63 set, predictable: `1 << 63` for the first push) that gave it a raw
/// `user_data` took the poll's completions away from the owned layer. The poll's completion came
/// back as a raw one (user_data 77), the operation stayed in flight for good, and the ring's drop
/// waited two seconds for it and then leaked it with its fd. A relabel of an owned poll is now
/// refused; updating only its events, or removing it, stays allowed (its completions keep its
/// `user_data`).
#[test]
fn poll_update_cannot_relabel_an_owned_poll() {
    common::watchdog("poll_update_cannot_relabel_an_owned_poll", 10, || {
        let mut ring = OwnedRing::new(8).unwrap();
        let (mut w, r) = UnixStream::pair().unwrap();
        let id =
            ring.push(uring::owned::PollAdd::new(r.try_clone().unwrap(), |t| PollAdd::new(t, PollEvents::IN))).unwrap();
        ring.submit().unwrap();
        // The first push of a ring gets slot 0, generation 0.
        for raw in [77u64, 0, (1 << 63) - 1] {
            let e = ring.push_safe(&PollUpdate::new(1 << 63).new_user_data(raw).build().user_data(5)).unwrap_err();
            assert!(matches!(e, Error::InvalidArgument { what: "poll update", .. }), "{e:?}");
            let e = ring
                .push_safe(&PollUpdate::new(1 << 63).events(PollEvents::IN).new_user_data(raw).build().user_data(5))
                .unwrap_err();
            assert!(matches!(e, Error::InvalidArgument { what: "poll update", .. }), "{e:?}");
        }
        // Changing the events only is fine.
        ring.push_safe(&PollUpdate::new(1 << 63).events(PollEvents::IN).build().user_data(6)).unwrap();
        let c = ring.wait().unwrap();
        assert_eq!((c.id(), c.cqe().user_data(), c.result()), (None, 6, Ok(0)));
        drop(c);
        w.write_all(b"x").unwrap();
        let c = ring.wait().unwrap();
        assert_eq!(c.id(), Some(id), "the poll's completion is the owned operation's: {:?}", c.cqe());
        assert!(!c.more());
        drop(c);
        assert_eq!(ring.in_flight(), 0);
        let t = std::time::Instant::now();
        drop(ring);
        assert!(t.elapsed() < std::time::Duration::from_millis(500), "the drop waited {:?}", t.elapsed());
    });
}

/// A bundle receive on an incremental buffer ring is refused at push (its selection would span
/// buffers the stamps cannot place).
#[test]
fn bundle_on_an_incremental_ring_is_refused() {
    let test = "bundle_on_an_incremental_ring_is_refused";
    let mut ring = OwnedRing::new(8).unwrap();
    let br = match ring.buf_ring(BufRing::builder(9, 2, 64).incremental()) {
        Ok(br) => br,
        Err(e) => {
            common::skip(test, format!("incremental buffer rings (6.12): {e}"));
            return;
        }
    };
    let (_w, r) = UnixStream::pair().unwrap();
    let e = ring.push(RecvSelect::new(r, &br).bundle()).unwrap_err();
    assert!(matches!(e.error, Error::Unsupported { .. }), "{:?}", e.error);
    assert_eq!(ring.in_flight(), 0);
}
