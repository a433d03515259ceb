//! Single-threaded checks of the index arithmetic (the concurrent protocol is checked by loom).

use super::*;

#[test]
fn sq_full_and_wrap() {
    let head = AtomicU32::new(u32::MAX - 1);
    let tail = AtomicU32::new(u32::MAX - 1);
    let mut sq = SqProducer::new(u32::MAX - 1, 4);
    assert_eq!(sq.space_left(&head), 4);
    let idx: Vec<u32> = (0..4).map(|_| sq.reserve(&head).unwrap()).collect();
    assert_eq!(idx, vec![2, 3, 0, 1]);
    assert_eq!(sq.reserve(&head), None);
    assert_eq!(sq.space_left(&head), 0);
    assert_eq!(sq.publish(&tail, &head), 4);
    assert_eq!(tail.load(Ordering::Relaxed), 2);
    head.store(1, Ordering::Relaxed); // kernel consumed 3
    assert_eq!(sq.space_left(&head), 3);
    assert_eq!(sq.unpublished(), 0);
}

#[test]
fn sq_reserve2_pads_at_the_end() {
    let head = AtomicU32::new(3);
    let mut sq = SqProducer::new(3, 4);
    // tail at slot 3 (last): needs a pad, then slots 0-1
    assert_eq!(sq.reserve2(&head), Some(Reserved2 { pad: Some(3), index: 0 }));
    assert_eq!(sq.used(&head), 3);
    // one slot left: no room for two
    assert_eq!(sq.reserve2(&head), None);
    let head = AtomicU32::new(0);
    let mut sq = SqProducer::new(0, 4);
    assert_eq!(sq.reserve2(&head), Some(Reserved2 { pad: None, index: 0 }));
    assert_eq!(sq.reserve2(&head), Some(Reserved2 { pad: None, index: 2 }));
    assert_eq!(sq.reserve2(&head), None);
}

#[test]
fn sq_rewind() {
    let head = AtomicU32::new(0);
    let mut sq = SqProducer::new(0, 8);
    for i in 0..3 {
        assert_eq!(sq.reserve(&head), Some(i));
    }
    assert_eq!(sq.rewind_take(), 3);
    assert_eq!(sq.reserve(&head), Some(0));
    sq.rewind_keep(2);
    assert_eq!(sq.reserve(&head), Some(2));
}

#[test]
fn cq_batch_release() {
    let head = AtomicU32::new(u32::MAX);
    let tail = AtomicU32::new(u32::MAX);
    let mut cq = CqConsumer::new(u32::MAX, 8);
    assert_eq!(cq.ready(&tail), 0);
    tail.store(2, Ordering::Relaxed); // three posted, across the wrap
    assert_eq!(cq.ready(&tail), 3);
    assert_eq!(cq.next_slot(), 7);
    assert_eq!(cq.slot_at(1), 0);
    cq.consume(2);
    assert_eq!(head.load(Ordering::Relaxed), u32::MAX, "not released yet");
    cq.release(&head);
    assert_eq!(head.load(Ordering::Relaxed), 1);
    assert_eq!(cq.ready(&tail), 1);
    assert_eq!(mixed_cqe_slots(uring_uapi::IORING_CQE_F_32), 2);
    assert_eq!(mixed_cqe_slots(0), 1);
}

#[test]
fn buf_ring_slots_wrap() {
    let ktail = AtomicU16::new(0);
    let mut br = BufRingProducer::new(u16::MAX, 4);
    assert_eq!(br.slot(0), 3);
    assert_eq!(br.slot(1), 0);
    br.advance(&ktail, 2);
    assert_eq!(ktail.load(Ordering::Relaxed), 1);
    assert_eq!(br.available(u16::MAX), 2);
}
