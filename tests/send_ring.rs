//! Send rings: buffers the application fills and queues with their own lengths, sent by send
//! bundles, and handed back to the application (never resent) by the send's completion.

mod common;

use std::io::Read as _;
use std::os::unix::net::UnixStream;
use std::time::Duration;

use uring::buf::{BufRing, Selection};
use uring::owned::{OwnedRing, SendBundle};
use uring::{Errno, Error};

/// Rounds of "take free buffers, fill them with different lengths, queue, send as a bundle":
/// the peer gets exactly the queued bytes, the completion hands the sent buffers back with
/// their lengths, and they return to the free list (20 rounds over a ring of 4 buffers).
#[test]
fn send_bundles_with_chosen_lengths() {
    common::watchdog("send_bundles_with_chosen_lengths", 20, || {
        let test = "send_bundles_with_chosen_lengths";
        let mut ring = OwnedRing::new(8).unwrap();
        let br = ring.buf_ring(BufRing::builder(9, 4, 16).send()).unwrap();
        let (x, mut y) = UnixStream::pair().unwrap();
        y.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        for round in 0..20u8 {
            let lens = [1 + round as usize % 16, 7, 16, 2 + round as usize % 5];
            let mut want = Vec::new();
            for (k, &len) in lens.iter().enumerate() {
                let mut held = br.take_free().expect("a free buffer");
                let fill = round.wrapping_mul(4).wrapping_add(k as u8);
                br.held_data_mut(&mut held).unwrap()[..len].fill(fill);
                want.extend(std::iter::repeat_n(fill, len));
                br.queue(held, len as u32).unwrap();
            }
            assert!(br.take_free().is_none(), "all four queued");
            ring.push(SendBundle::new(x.try_clone().unwrap(), &br)).unwrap();
            let mut c = ring.wait().unwrap();
            if round == 0 && c.result() == Err(Errno::INVAL) {
                common::skip(test, "kernel lacks send bundles (6.10)");
                return;
            }
            assert_eq!(c.result(), Ok(want.len() as u32), "round {round}");
            let sel = c.select(&br).unwrap();
            let Selection::Bundle(b) = &sel else { panic!("a bundle, got {sel:?}") };
            assert_eq!(b.count(), 4);
            assert_eq!(b.slices().map(<[u8]>::len).collect::<Vec<_>>(), lens);
            assert_eq!(b.to_vec(), want);
            drop(sel);
            let mut got = vec![0u8; want.len()];
            y.read_exact(&mut got).unwrap();
            assert_eq!(got, want, "round {round}");
            // Back on the free list, not in the ring: a send with nothing queued fails.
            assert_eq!(br.held(), 4);
        }
        ring.push(SendBundle::new(x.try_clone().unwrap(), &br)).unwrap();
        let c = ring.wait().unwrap();
        assert_eq!(c.result(), Err(Errno::NOBUFS), "nothing queued: nothing sent");
    });
}

/// What a send ring refuses: lengths out of range, another ring's token; and a receive ring
/// refuses `queue`.
#[test]
fn queue_refuses_bad_input() {
    let mut ring = OwnedRing::new(4).unwrap();
    let send = ring.buf_ring(BufRing::builder(1, 2, 8).send()).unwrap();
    let recv = ring.buf_ring(BufRing::builder(2, 2, 8)).unwrap();
    let held = send.take_free().unwrap();
    let r = send.queue(held, 0).unwrap_err();
    assert!(matches!(r.error(), Error::InvalidArgument { what: "queue length", .. }));
    let r = send.queue(r.into_buf(), 9).unwrap_err();
    assert!(matches!(r.error(), Error::InvalidArgument { what: "queue length", .. }));
    let r = recv.queue(r.into_buf(), 4).unwrap_err();
    assert!(matches!(r.error(), Error::InvalidArgument { what: "queue", .. }));
    let mut held = r.into_buf();
    assert!(recv.held_data_mut(&mut held).is_err(), "another ring's token");
    send.queue(held, 8).unwrap();
    assert!(recv.take_free().is_none(), "a receive ring has no free list");
    assert!(BufRing::builder(3, 2, 8).send().incremental().validate().is_err());
}

/// A send bundle that fails (the peer is gone: `EPIPE`) may have taken every queued buffer
/// while its completion names only the first: all of them come back to the free list.
#[test]
fn a_failed_send_bundle_gives_back_every_buffer_it_took() {
    common::watchdog("a_failed_send_bundle_gives_back_every_buffer_it_took", 20, || {
        let test = "a_failed_send_bundle_gives_back_every_buffer_it_took";
        let mut ring = OwnedRing::new(8).unwrap();
        let br = ring.buf_ring(BufRing::builder(10, 4, 16).send()).unwrap();
        let (x, y) = UnixStream::pair().unwrap();
        drop(y);
        for _ in 0..3 {
            let mut held = br.take_free().unwrap();
            br.held_data_mut(&mut held).unwrap()[..5].fill(b'x');
            br.queue(held, 5).unwrap();
        }
        let mut op = SendBundle::new(x, &br);
        op.flags = rustix::net::SendFlags::NOSIGNAL;
        ring.push(op).unwrap();
        let mut c = ring.wait().unwrap();
        if c.result() == Err(Errno::INVAL) {
            common::skip(test, "kernel lacks send bundles (6.10)");
            return;
        }
        assert_eq!(c.result(), Err(Errno::PIPE));
        if br.head().is_err() {
            common::skip(test, "no IORING_REGISTER_PBUF_STATUS (6.8): the buffers a failed send took are not known");
            return;
        }
        let kernel_took = br.head().unwrap();
        let sel = c.select(&br).unwrap();
        assert_eq!(sel.len(), 0);
        drop(sel);
        common::note(test, format!("the kernel took {kernel_took} buffers"));
        assert_eq!(br.held(), 4, "every buffer the kernel took is back on the free list");
        let mut n = 0;
        while br.take_free().is_some() {
            n += 1;
        }
        assert_eq!(n as u16, 4 - (3 - kernel_took), "free: the untaken queued ones stay in the ring");
    });
}

/// A send ring's sent buffers pushed into a `RecycleBatch` or given to `recycle_and_advance` go
/// back to the free list, as when their selection is dropped: never into the ring, where the
/// next send bundle would send them again.
#[test]
fn batch_returns_sent_buffers_to_the_free_list() {
    common::watchdog("batch_returns_sent_buffers_to_the_free_list", 20, || {
        let test = "batch_returns_sent_buffers_to_the_free_list";
        let mut ring = OwnedRing::new(8).unwrap();
        let br = ring.buf_ring(BufRing::builder(9, 4, 16).send()).unwrap();
        let (x, mut y) = UnixStream::pair().unwrap();
        y.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        for round in 0..4u8 {
            let tail = br.tail();
            for _ in 0..4 {
                let mut held = br.take_free().expect("a free buffer");
                br.held_data_mut(&mut held).unwrap()[..8].fill(round);
                br.queue(held, 8).unwrap();
            }
            assert!(br.take_free().is_none(), "all four queued");
            ring.push(SendBundle::new(x.try_clone().unwrap(), &br)).unwrap();
            let mut c = ring.wait().unwrap();
            if round == 0 && c.result() == Err(Errno::INVAL) {
                common::skip(test, "kernel lacks send bundles (6.10)");
                return;
            }
            assert_eq!(c.result(), Ok(32), "round {round}");
            let sel = c.select(&br).unwrap();
            assert!(matches!(sel, Selection::Bundle(_)), "a bundle, got {sel:?}");
            if round % 2 == 0 {
                let mut back = br.recycle_batch();
                back.push(sel);
                back.finish();
            } else {
                // No CQ slot is released (0): any ring's queue does.
                let mut other = uring::Ring::new(2).unwrap();
                let (_, _, cq) = other.split();
                br.recycle_and_advance([sel], cq, 0).unwrap();
            }
            let mut got = [0u8; 32];
            y.read_exact(&mut got).unwrap();
            assert_eq!(got, [round; 32], "round {round}");
            assert_eq!(br.tail(), tail.wrapping_add(4), "round {round}: only the four queued were added");
            assert_eq!(br.held(), 4, "round {round}: the sent buffers are with the application");
        }
        ring.push(SendBundle::new(x.try_clone().unwrap(), &br)).unwrap();
        let c = ring.wait().unwrap();
        assert_eq!(c.result(), Err(Errno::NOBUFS), "nothing queued: nothing sent");
    });
}
