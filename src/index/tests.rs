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
fn sq_run_full_refresh_and_wrap() {
    let head = AtomicU32::new(u32::MAX - 1);
    let tail = AtomicU32::new(u32::MAX - 1);
    let mut sq = SqProducer::new(u32::MAX - 1, 4);
    let mut run = sq.begin_run();
    let idx: Vec<u32> = (0..4).map(|_| run.reserve(&head).unwrap()).collect();
    assert_eq!(idx, vec![2, 3, 0, 1]);
    assert_eq!(run.reserve(&head), None);
    assert_eq!(run.space_left(&head), 0);
    // The kernel frees two slots while the run is open: the next reservation sees them.
    head.store(0, Ordering::Relaxed);
    assert_eq!(run.space_left(&head), 2);
    assert_eq!(run.reserve(&head), Some(2));
    sq.end_run(&run);
    assert_eq!(sq.unpublished(), 5);
    assert_eq!(sq.space_left(&head), 1);
    assert_eq!(sq.publish(&tail, &head), 3);
    assert_eq!(tail.load(Ordering::Relaxed), 3);
    // The refreshed head was handed back: a new run has room for the one free slot only.
    let mut run = sq.begin_run();
    assert_eq!(run.reserve(&head), Some(3));
    assert_eq!(run.reserve(&head), None);
    sq.end_run(&run);
    assert_eq!(sq.reserve(&head), None);
    assert_eq!(sq.tail(), 4);
}

#[test]
fn sq_run_after_rewind() {
    let head = AtomicU32::new(0);
    let mut sq = SqProducer::new(0, 4);
    let mut run = sq.begin_run();
    for i in 0..4 {
        assert_eq!(run.reserve(&head), Some(i));
    }
    assert_eq!(run.reserve(&head), None);
    sq.end_run(&run);
    assert_eq!(sq.rewind_take(), 4);
    let mut run = sq.begin_run();
    assert_eq!(run.reserve(&head), Some(0));
    sq.end_run(&run);
    sq.rewind_keep(3);
    let mut run = sq.begin_run();
    assert_eq!(run.reserve(&head), Some(3));
    assert_eq!(run.reserve(&head), None);
}

#[test]
fn cq_ready_runs() {
    let mut cq = CqConsumer::new(u32::MAX - 1, 8); // slot 6
    assert_eq!(cq.ready_runs(0), (6, 0, 0));
    assert_eq!(cq.ready_runs(2), (6, 2, 0));
    assert_eq!(cq.ready_runs(5), (6, 2, 3));
    assert_eq!(cq.ready_runs(8), (6, 2, 6));
    cq.consume(2); // slot 0, counter wrapped
    assert_eq!(cq.ready_runs(8), (0, 8, 0));
    cq.consume(3);
    assert_eq!(cq.ready_runs(4), (3, 4, 0));
    assert_eq!(cq.ready_runs(7), (3, 5, 2));
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
