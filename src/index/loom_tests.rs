//! loom models: the application side runs the shipped index code, a second thread plays the
//! kernel with the protocol of `io_uring(7)` (acquire the producer's counter, read the slot,
//! release the consumer's counter). Slot contents live in `loom::cell::UnsafeCell`, so loom
//! reports any read of a slot that is not ordered after its write (a torn or stale entry).
//!
//! Run: `RUSTFLAGS="--cfg loom" cargo test --release --lib index`.

use super::*;
use loom::cell::UnsafeCell;
use loom::sync::{Arc, Condvar, Mutex};
use loom::thread;

/// Shared memory of a ring with `N` slots: the two counters and the slot payloads.
struct Shared<const N: usize> {
    head: AtomicU32,
    tail: AtomicU32,
    slots: [UnsafeCell<u64>; N],
}

impl<const N: usize> Shared<N> {
    fn new(start: u32) -> Self {
        Self {
            head: AtomicU32::new(start),
            tail: AtomicU32::new(start),
            slots: core::array::from_fn(|_| UnsafeCell::new(0)),
        }
    }
    fn write(&self, slot: u32, v: u64) {
        // SAFETY: `p` points at the cell's live `u64`; loom itself reports a write that races
        // with another access, which is what the models check.
        self.slots[slot as usize].with_mut(|p| unsafe { *p = v });
    }
    fn read(&self, slot: u32) -> u64 {
        // SAFETY: as in `write`: loom reports a read not ordered after the slot's last write.
        self.slots[slot as usize].with(|p| unsafe { *p })
    }
}

/// SQ: the application pushes `TOTAL` entries through a 2-slot ring whose counters start just
/// below `u32::MAX`, publishing after every push or every second push; the simulated kernel
/// consumes them in order. Covers wraparound of the counters, the full ring (the application
/// spins until the kernel frees a slot) and the empty ring (the kernel spins).
#[test]
fn sq_publish_consume_wraps() {
    for batch in [1u32, 2] {
        loom::model(move || {
            const TOTAL: u64 = 4;
            let start = u32::MAX - 1;
            let shared = Arc::new(Shared::<2>::new(start));

            let kernel = {
                let shared = shared.clone();
                thread::spawn(move || {
                    let mut head = start;
                    let mut seen = 0u64;
                    while seen < TOTAL {
                        let tail = shared.tail.load(Ordering::Acquire);
                        if tail == head {
                            thread::yield_now();
                            continue;
                        }
                        while head != tail {
                            let v = shared.read(head & 1);
                            assert_eq!(v, seen + 1, "kernel saw a stale or torn SQE");
                            seen += 1;
                            head = head.wrapping_add(1);
                            shared.head.store(head, Ordering::Release);
                        }
                    }
                })
            };

            let mut sq = SqProducer::new(start, 2);
            let mut next = 1u64;
            while next <= TOTAL {
                match sq.reserve(&shared.head) {
                    Some(slot) => {
                        shared.write(slot, next);
                        next += 1;
                        if sq.unpublished() >= batch || next > TOTAL {
                            sq.publish(&shared.tail, &shared.head);
                        }
                    }
                    None => {
                        // Full: what's reserved must be published for the kernel to drain it.
                        sq.publish(&shared.tail, &shared.head);
                        thread::yield_now();
                    }
                }
            }
            kernel.join().unwrap();
            assert_eq!(sq.used(&shared.head), 0);
        });
    }
}

/// SQ through runs (the batch handle's producer state, [`SqRun`]): the application reserves up
/// to two slots per run, which re-reads the kernel's head only when the ring looks full against
/// the head cached at the start of the run, hands the state back and publishes; the simulated
/// kernel consumes as above. Covers the cached limit going stale while the kernel frees slots,
/// the full ring inside a run, and the counters' wraparound.
#[test]
fn sq_run_publish_consume_wraps() {
    loom::model(|| {
        const TOTAL: u64 = 4;
        let start = u32::MAX - 1;
        let shared = Arc::new(Shared::<2>::new(start));

        let kernel = {
            let shared = shared.clone();
            thread::spawn(move || {
                let mut head = start;
                let mut seen = 0u64;
                while seen < TOTAL {
                    let tail = shared.tail.load(Ordering::Acquire);
                    if tail == head {
                        thread::yield_now();
                        continue;
                    }
                    while head != tail {
                        let v = shared.read(head & 1);
                        assert_eq!(v, seen + 1, "kernel saw a stale or torn SQE");
                        seen += 1;
                        head = head.wrapping_add(1);
                        shared.head.store(head, Ordering::Release);
                    }
                }
            })
        };

        let mut sq = SqProducer::new(start, 2);
        let mut next = 1u64;
        while next <= TOTAL {
            let mut run = sq.begin_run();
            let mut full = false;
            for _ in 0..2 {
                if next > TOTAL {
                    break;
                }
                match run.reserve(&shared.head) {
                    Some(slot) => {
                        shared.write(slot, next);
                        next += 1;
                    }
                    None => {
                        full = true;
                        break;
                    }
                }
            }
            sq.end_run(&run);
            sq.publish(&shared.tail, &shared.head);
            if full {
                thread::yield_now();
            }
        }
        kernel.join().unwrap();
        assert_eq!(sq.used(&shared.head), 0);
    });
}

/// SQ with 128-byte entries on a mixed ring (4 slots): a two-slot reservation at the last slot
/// takes a pad slot first; the kernel consumes pad (1 slot) and big entries (2 slots, marked by
/// their payload) and never sees a big entry split across the wrap.
#[test]
fn sq_mixed_two_slot_entries() {
    loom::model(|| {
        const PAD: u64 = 1 << 32;
        const BIG: u64 = 1 << 33;
        let start = u32::MAX - 2; // slot 1 of 4
        let shared = Arc::new(Shared::<4>::new(start));
        // small, big, big: the second big entry lands on the last slot and needs a pad.
        let plan = [(false, 1u64), (true, 2), (true, 3)];

        let kernel = {
            let shared = shared.clone();
            thread::spawn(move || {
                let mut head = start;
                let mut got = Vec::new();
                while got.len() < 3 {
                    let tail = shared.tail.load(Ordering::Acquire);
                    if tail == head {
                        thread::yield_now();
                        continue;
                    }
                    let v = shared.read(head & 3);
                    let n = if v & BIG != 0 {
                        assert_ne!(head & 3, 3, "big SQE split across the wrap");
                        assert_eq!(shared.read((head + 1) & 3), v, "second half torn");
                        2
                    } else {
                        1
                    };
                    if v & PAD == 0 {
                        got.push(v & 0xff);
                    }
                    head = head.wrapping_add(n);
                    shared.head.store(head, Ordering::Release);
                }
                assert_eq!(got, vec![1, 2, 3]);
            })
        };

        let mut sq = SqProducer::new(start, 4);
        for (big, v) in plan {
            loop {
                if big {
                    if let Some(r) = sq.reserve2(&shared.head) {
                        if let Some(pad) = r.pad {
                            shared.write(pad, PAD);
                        }
                        shared.write(r.index, BIG | v);
                        shared.write((r.index + 1) & 3, BIG | v);
                        break;
                    }
                } else if let Some(slot) = sq.reserve(&shared.head) {
                    shared.write(slot, v);
                    break;
                }
                sq.publish(&shared.tail, &shared.head);
                thread::yield_now();
            }
            sq.publish(&shared.tail, &shared.head);
        }
        kernel.join().unwrap();
    });
}

/// CQ: the simulated kernel posts `TOTAL` completions into a 2-slot ring (waiting while it is
/// full), the application reaps them with the shipped consumer code, releasing one at a time or
/// in batches, across u32 wraparound.
#[test]
fn cq_post_reap_wraps() {
    for batch in [1u32, 2] {
        loom::model(move || {
            const TOTAL: u64 = 4;
            let start = u32::MAX - 1;
            let shared = Arc::new(Shared::<2>::new(start));

            let kernel = {
                let shared = shared.clone();
                thread::spawn(move || {
                    let mut tail = start;
                    let mut v = 1u64;
                    while v <= TOTAL {
                        let head = shared.head.load(Ordering::Acquire);
                        if tail.wrapping_sub(head) == 2 {
                            thread::yield_now();
                            continue;
                        }
                        shared.write(tail & 1, v);
                        v += 1;
                        tail = tail.wrapping_add(1);
                        shared.tail.store(tail, Ordering::Release);
                    }
                })
            };

            let mut cq = CqConsumer::new(start, 2);
            let mut expect = 1u64;
            let mut unreleased = 0;
            while expect <= TOTAL {
                if cq.ready(&shared.tail) == 0 {
                    cq.release(&shared.head);
                    unreleased = 0;
                    thread::yield_now();
                    continue;
                }
                let v = shared.read(cq.next_slot());
                assert_eq!(v, expect, "application saw a stale or torn CQE");
                expect += 1;
                cq.consume(1);
                unreleased += 1;
                if unreleased >= batch {
                    cq.release(&shared.head);
                    unreleased = 0;
                }
            }
            cq.release(&shared.head);
            kernel.join().unwrap();
        });
    }
}

/// CQ reaped the way the completion iterator does it: the tail is read once, the ready slots
/// are walked as the (at most two) contiguous runs `ready_runs` gives, and released with one
/// store. Across the ring's end and the counters' wraparound.
#[test]
fn cq_runs_reap_wraps() {
    loom::model(|| {
        const TOTAL: u64 = 5;
        let start = u32::MAX - 1;
        let shared = Arc::new(Shared::<2>::new(start));

        let kernel = {
            let shared = shared.clone();
            thread::spawn(move || {
                let mut tail = start;
                let mut v = 1u64;
                while v <= TOTAL {
                    let head = shared.head.load(Ordering::Acquire);
                    if tail.wrapping_sub(head) == 2 {
                        thread::yield_now();
                        continue;
                    }
                    shared.write(tail & 1, v);
                    v += 1;
                    tail = tail.wrapping_add(1);
                    shared.tail.store(tail, Ordering::Release);
                }
            })
        };

        let mut cq = CqConsumer::new(start, 2);
        let mut expect = 1u64;
        while expect <= TOTAL {
            let ready = cq.ready(&shared.tail);
            if ready == 0 {
                thread::yield_now();
                continue;
            }
            let (first_slot, first, second) = cq.ready_runs(ready);
            assert_eq!(first + second, ready);
            for slot in (first_slot..first_slot + first).chain(0..second) {
                assert_eq!(shared.read(slot), expect, "application saw a stale or torn CQE");
                expect += 1;
            }
            cq.consume(ready);
            cq.release(&shared.head);
        }
        kernel.join().unwrap();
    });
}

/// CQ with mixed 16/32-byte entries (4 slots): a 32-byte completion that would straddle the wrap
/// is preceded by a skip entry; the application advances by slots, ignores skips and reads both
/// halves of every big entry.
#[test]
fn cq_mixed_skip_and_big() {
    loom::model(|| {
        let f32 = uring_uapi::IORING_CQE_F_32 as u64;
        let skip = uring_uapi::IORING_CQE_F_SKIP as u64;
        let start = 1u32; // slot 1 of 4
        let shared = Arc::new(Shared::<4>::new(start));
        // values: low byte = id, upper bits = flags. small 1, big 2 (slots 2-3), big 3 (at slot 0
        // after wrap), small 4.
        let posts = [(false, 1u64), (true, 2), (true, 3), (false, 4)];

        let kernel = {
            let shared = shared.clone();
            thread::spawn(move || {
                let mut tail = start;
                for (big, id) in posts {
                    loop {
                        let head = shared.head.load(Ordering::Acquire);
                        let free = 4 - tail.wrapping_sub(head);
                        let at_end = tail & 3 == 3;
                        let need = if big {
                            if at_end {
                                3
                            } else {
                                2
                            }
                        } else {
                            1
                        };
                        if need > free {
                            thread::yield_now();
                            continue;
                        }
                        if big && at_end {
                            shared.write(tail & 3, skip << 8);
                            tail = tail.wrapping_add(1);
                        }
                        if big {
                            shared.write(tail & 3, (f32 << 8) | id);
                            shared.write((tail + 1) & 3, 0xB16 << 40 | id);
                            tail = tail.wrapping_add(2);
                        } else {
                            shared.write(tail & 3, id);
                            tail = tail.wrapping_add(1);
                        }
                        shared.tail.store(tail, Ordering::Release);
                        break;
                    }
                }
            })
        };

        let mut cq = CqConsumer::new(start, 4);
        let mut got = Vec::new();
        while got.len() < 4 {
            if cq.ready(&shared.tail) == 0 {
                cq.release(&shared.head);
                thread::yield_now();
                continue;
            }
            let v = shared.read(cq.next_slot());
            let flags = (v >> 8) as u32;
            if flags & uring_uapi::IORING_CQE_F_SKIP != 0 {
                cq.consume(1);
                continue;
            }
            let n = mixed_cqe_slots(flags);
            if n == 2 {
                assert_ne!(cq.next_slot(), 3, "big CQE split across the wrap");
                let extra = shared.read(cq.slot_at(1));
                assert_eq!(extra, 0xB16 << 40 | (v & 0xff), "second half torn");
            }
            got.push(v & 0xff);
            cq.consume(n);
            cq.release(&shared.head);
        }
        assert_eq!(got, vec![1, 2, 3, 4]);
        kernel.join().unwrap();
    });
}

/// Buffer ring: the application adds buffer ids at `tail + offset` and publishes with one
/// release store per batch, across u16 wraparound; a simulated kernel consumer takes them from
/// its head (plain mode: whole buffers; incremental mode: the same buffer several times until
/// it is used up). Every id is handed out exactly once (plain) and never half-written.
#[test]
fn buf_ring_publish_consume() {
    for incremental in [false, true] {
        loom::model(move || {
            const ENTRIES: u32 = 2;
            let start = u16::MAX; // tail wraps on the first advance
            let tail = Arc::new(AtomicU16::new(start));
            let slots: Arc<[UnsafeCell<u64>; 2]> = Arc::new(core::array::from_fn(|_| UnsafeCell::new(0)));
            let head = Arc::new(AtomicU16::new(start));

            let kernel = {
                let (tail, slots, head) = (tail.clone(), slots.clone(), head.clone());
                thread::spawn(move || {
                    let mut h = start;
                    let mut got = Vec::new();
                    let mut left_in_buf = 2u32; // incremental: each buffer serves 2 reads
                    while got.len() < 3 {
                        let t = tail.load(Ordering::Acquire);
                        if t == h {
                            thread::yield_now();
                            continue;
                        }
                        // SAFETY: as in `Shared::read`.
                        let v = slots[(h & 1) as usize].with(|p| unsafe { *p });
                        assert!((1..=3).contains(&v), "torn buffer entry");
                        if incremental && left_in_buf > 1 {
                            left_in_buf -= 1; // partial use: the buffer stays at head
                            continue;
                        }
                        left_in_buf = 2;
                        got.push(v);
                        h = h.wrapping_add(1);
                        head.store(h, Ordering::Release);
                    }
                    assert_eq!(got, vec![1, 2, 3]);
                })
            };

            let mut br = BufRingProducer::new(start, ENTRIES);
            let mut next = 1u64;
            while next <= 3 {
                let kh = head.load(Ordering::Acquire);
                let free = ENTRIES as u16 - br.available(kh);
                if free == 0 {
                    thread::yield_now();
                    continue;
                }
                // add up to `free` buffers, then one tail store for the batch
                let n = (free as u64).min(4 - next) as u16;
                for off in 0..n {
                    let slot = br.slot(off);
                    let id = next + off as u64;
                    // SAFETY: as in `Shared::write`.
                    slots[slot as usize].with_mut(|p| unsafe { *p = id });
                }
                next += n as u64;
                br.advance(&tail, n);
            }
            kernel.join().unwrap();
            assert_eq!(br.tail(), start.wrapping_add(3));
        });
    }
}

// ---- SQPOLL wake-up ----

const NEED_WAKEUP: u32 = uring_uapi::IORING_SQ_NEED_WAKEUP;

/// The kernel's check before the SQ poll thread sleeps (`io_sq_thread()` in io_uring/sqpoll.c):
/// set `IORING_SQ_NEED_WAKEUP` (an `atomic_or`, no ordering of its own), a full barrier
/// (`smp_mb__after_atomic()`, dropped when `kernel_fence` is false), then re-read the SQ tail
/// (acquire). Returns true when the thread goes to sleep (no entries past `head`); when it sees
/// entries it clears the flag and keeps running.
fn sqpoll_idle_check(flags: &AtomicU32, tail: &AtomicU32, head: u32, kernel_fence: bool) -> bool {
    flags.fetch_or(NEED_WAKEUP, Ordering::Relaxed);
    if kernel_fence {
        full_fence();
    }
    if tail.load(Ordering::Acquire) != head {
        flags.fetch_and(!NEED_WAKEUP, Ordering::Relaxed);
        return false;
    }
    true
}

/// The application's check with its fence removed: what the negative models run to show the
/// SQPOLL models notice a missing fence.
fn needs_wakeup_unfenced(kflags: &AtomicU32) -> bool {
    kflags.load(Ordering::Relaxed) & NEED_WAKEUP != 0
}

/// One SQPOLL decision, both sides racing: the thread finds the ring empty and runs its idle
/// check while the application pushes an entry, publishes it ([`SqProducer::publish`]) and asks
/// `app_check` whether to wake the thread. Property: never "the thread sleeps although an entry
/// is published, and the application decided not to wake it" (a lost wake-up).
fn sqpoll_decision_model(app_check: fn(&AtomicU32) -> bool, kernel_fence: bool) {
    loom::model(move || {
        let start = u32::MAX; // the publish wraps the tail
        let shared = Arc::new(Shared::<2>::new(start));
        let flags = Arc::new(AtomicU32::new(0));

        let kernel = {
            let (shared, flags) = (shared.clone(), flags.clone());
            thread::spawn(move || {
                let sleeps = sqpoll_idle_check(&flags, &shared.tail, start, kernel_fence);
                if !sleeps {
                    assert_eq!(shared.read(start & 1), 1, "SQPOLL thread saw a stale SQE");
                }
                sleeps
            })
        };

        let mut sq = SqProducer::new(start, 2);
        let slot = sq.reserve(&shared.head).unwrap();
        shared.write(slot, 1);
        sq.publish(&shared.tail, &shared.head);
        let wakes = app_check(&flags);

        let sleeps = kernel.join().unwrap();
        assert!(
            !sleeps || wakes,
            "lost wake-up: the SQPOLL thread sleeps with an entry published and the application did not wake it"
        );
    });
}

/// The shipped check ([`sqpoll_needs_wakeup`]) against the kernel's idle check: no lost wake-up.
#[test]
fn sqpoll_wakeup_decision() {
    sqpoll_decision_model(sqpoll_needs_wakeup, true);
}

/// Negative check: without the application's full fence the decision model finds a lost
/// wake-up (both loads read the old values: store buffering).
#[test]
#[should_panic(expected = "lost wake-up")]
fn sqpoll_wakeup_decision_fails_without_app_fence() {
    sqpoll_decision_model(needs_wakeup_unfenced, true);
}

/// Negative check: the kernel's barrier is needed too (the pair is symmetric).
#[test]
#[should_panic(expected = "lost wake-up")]
fn sqpoll_wakeup_decision_fails_without_kernel_fence() {
    sqpoll_decision_model(sqpoll_needs_wakeup, false);
}

/// The SQ poll thread's wait queue in the rounds model: `woken` is a wake-up given after the
/// thread's `prepare_to_wait()`; `closed` is the ring's teardown, which wakes the thread for good.
struct SqWaitQueue {
    woken: bool,
    closed: bool,
}

/// SQPOLL over several rounds with a thread that really sleeps: it consumes what is published,
/// runs its idle check when the ring is empty and then blocks on its wait queue until the
/// application wakes it (`io_uring_enter(2)` with `IORING_ENTER_SQ_WAKEUP`), then clears the
/// flag. The application publishes `TOTAL` entries one at a time, checking after each publish,
/// then tears the ring down (which wakes the thread too). The wait queue keeps a wake-up given
/// after the thread's `prepare_to_wait()` and drops one given before, as the kernel's does.
/// Property: a thread woken only by the teardown finds the ring empty; entries left in it were
/// published while it slept and nobody woke it (a lost wake-up).
fn sqpoll_rounds_model(app_check: fn(&AtomicU32) -> bool) {
    loom::model(move || {
        const TOTAL: u64 = 2;
        let start = u32::MAX;
        let shared = Arc::new(Shared::<2>::new(start));
        let flags = Arc::new(AtomicU32::new(0));
        let wq = Arc::new((Mutex::new(SqWaitQueue { woken: false, closed: false }), Condvar::new()));

        let kernel = {
            let (shared, flags, wq) = (shared.clone(), flags.clone(), wq.clone());
            thread::spawn(move || {
                let mut head = start;
                let mut seen = 0u64;
                while seen < TOTAL {
                    let tail = shared.tail.load(Ordering::Acquire);
                    if tail != head {
                        while head != tail {
                            seen += 1;
                            assert_eq!(shared.read(head & 1), seen, "SQPOLL thread saw a stale SQE");
                            head = head.wrapping_add(1);
                            shared.head.store(head, Ordering::Release);
                        }
                        continue;
                    }
                    // prepare_to_wait(): from here on a wake-up is kept.
                    wq.0.lock().unwrap().woken = false;
                    if !sqpoll_idle_check(&flags, &shared.tail, head, true) {
                        continue;
                    }
                    let mut w = wq.0.lock().unwrap();
                    while !w.woken && !w.closed {
                        w = wq.1.wait(w).unwrap();
                    }
                    let by_wakeup = w.woken;
                    drop(w);
                    if !by_wakeup {
                        assert_eq!(
                            shared.tail.load(Ordering::Acquire),
                            head,
                            "lost wake-up: the SQPOLL thread slept with entries published and the application did \
                             not wake it"
                        );
                    }
                    flags.fetch_and(!NEED_WAKEUP, Ordering::Relaxed);
                }
            })
        };

        let mut sq = SqProducer::new(start, 2);
        for v in 1..=TOTAL {
            let slot = sq.reserve(&shared.head).expect("TOTAL entries fit the ring");
            shared.write(slot, v);
            sq.publish(&shared.tail, &shared.head);
            if app_check(&flags) {
                wq.0.lock().unwrap().woken = true;
                wq.1.notify_one();
            }
        }
        wq.0.lock().unwrap().closed = true;
        wq.1.notify_one();
        kernel.join().unwrap();
        assert_eq!(sq.used(&shared.head), 0);
    });
}

/// The shipped check ([`sqpoll_needs_wakeup`]) against a sleeping SQPOLL thread: every entry is
/// consumed without relying on the teardown.
#[test]
fn sqpoll_sleep_wake_rounds() {
    sqpoll_rounds_model(sqpoll_needs_wakeup);
}

/// Negative check: without the application's fence the thread can sleep through a publish.
#[test]
#[should_panic(expected = "lost wake-up")]
fn sqpoll_sleep_wake_rounds_fails_without_app_fence() {
    sqpoll_rounds_model(needs_wakeup_unfenced);
}

// ---- CQ release before waiting ----

/// The kernel's private CQ state (under its `completion_lock`): its tail and the completions
/// waiting in the overflow list, oldest first.
struct KernelCq {
    tail: u32,
    overflow: std::collections::VecDeque<u64>,
}

/// A 2-slot CQ, the kernel's side of it, and the CQ wait queue.
struct CqWaitShared {
    ring: Shared<2>,
    kernel: Mutex<KernelCq>,
    posted: Condvar,
}

impl CqWaitShared {
    /// Room in the CQ as the kernel sees it: against the head the consumer *released*.
    fn has_room(&self, k: &KernelCq) -> bool {
        k.tail.wrapping_sub(self.ring.head.load(Ordering::Acquire)) < 2
    }

    fn post_to_cq(&self, k: &mut KernelCq, v: u64) {
        self.ring.write(k.tail & 1, v);
        k.tail = k.tail.wrapping_add(1);
        self.ring.tail.store(k.tail, Ordering::Release);
    }

    /// A completion (`io_cqring_event_overflow()` when it does not fit): into the CQ when there
    /// is room and nothing is overflowed already (the kernel keeps completions in order), else
    /// onto the overflow list. Wakes the waiter either way.
    fn complete(&self, v: u64) {
        let mut k = self.kernel.lock().unwrap();
        if k.overflow.is_empty() && self.has_room(&k) {
            self.post_to_cq(&mut k, v);
        } else {
            k.overflow.push_back(v);
        }
        drop(k);
        self.posted.notify_one();
    }

    /// `io_uring_enter(2)` with `IORING_ENTER_GETEVENTS` and `min_complete` 1, as the kernel
    /// runs it (`io_cqring_wait()`): flush the overflow list into the room the consumer has
    /// released, return at once when the CQ holds a completion *by the kernel's count* (its
    /// tail minus the released head), else sleep until a completion is posted. A consumer
    /// holding read-but-unreleased slots therefore gets an immediate return while it sees
    /// nothing to reap, and the overflow is never flushed: the bug this model guards against.
    fn wait(&self) {
        let mut k = self.kernel.lock().unwrap();
        loop {
            while !k.overflow.is_empty() && self.has_room(&k) {
                let v = k.overflow.pop_front().unwrap();
                self.post_to_cq(&mut k, v);
            }
            if k.tail != self.ring.head.load(Ordering::Acquire) {
                return;
            }
            k = self.posted.wait(k).unwrap();
        }
    }
}

/// A consumer that waits in the kernel ([`CqConsumer`] as the owned layer drives it): it takes
/// one completion at a time (or, with `reap_all`, every ready one as the completion iterator
/// does, through [`CqConsumer::ready_runs`]) and releases the slots only when it runs dry, just
/// before it waits (`release_before_wait`; false is the bug). The kernel completes `TOTAL` > 2 entries,
/// faster than they are reaped, so the CQ fills and completions overflow. Properties: every
/// completion is delivered exactly once and in order; the consumer never waits holding
/// consumed-but-unreleased slots (checked when `assert_released`); a wait never returns with
/// nothing to reap (the field symptom: the wait returned at once, forever); nobody blocks
/// forever (loom's deadlock check).
fn cq_wait_model(release_before_wait: bool, assert_released: bool, reap_all: bool) {
    loom::model(move || {
        const TOTAL: u64 = 5;
        let start = u32::MAX - 1;
        let shared = Arc::new(CqWaitShared {
            ring: Shared::new(start),
            kernel: Mutex::new(KernelCq { tail: start, overflow: Default::default() }),
            posted: Condvar::new(),
        });

        let kernel = {
            let shared = shared.clone();
            thread::spawn(move || {
                for v in 1..=TOTAL {
                    shared.complete(v);
                }
            })
        };

        let mut cq = CqConsumer::new(start, 2);
        let mut expect = 1u64;
        while expect <= TOTAL {
            if cq.ready(&shared.ring.tail) == 0 {
                if release_before_wait {
                    cq.release(&shared.ring.head);
                }
                if assert_released {
                    assert_eq!(cq.released, cq.head, "the consumer waits holding consumed-but-unreleased CQ slots");
                }
                shared.wait();
                assert!(
                    cq.ready(&shared.ring.tail) > 0,
                    "the wait returned at once with nothing to reap (the CQ looked full to the kernel)"
                );
                continue;
            }
            if reap_all {
                let ready = cq.ready(&shared.ring.tail);
                let (first_slot, first, second) = cq.ready_runs(ready);
                for slot in (first_slot..first_slot + first).chain(0..second) {
                    assert_eq!(shared.ring.read(slot), expect, "completion lost, repeated, reordered or torn");
                    expect += 1;
                }
                cq.consume(ready);
            } else {
                let v = shared.ring.read(cq.next_slot());
                assert_eq!(v, expect, "completion lost, repeated, reordered or torn");
                expect += 1;
                cq.consume(1);
            }
        }
        cq.release(&shared.ring.head);
        kernel.join().unwrap();
        let k = shared.kernel.lock().unwrap();
        assert!(k.overflow.is_empty(), "completions left on the overflow list");
        assert_eq!(k.tail, start.wrapping_add(TOTAL as u32));
        assert_eq!(cq.ready(&shared.ring.tail), 0, "completions left in the CQ");
    });
}

/// The fix: release before waiting. Every completion arrives once, in order, through the
/// overflow list and across the counters' wraparound, reaped one at a time or in runs.
#[test]
fn cq_release_before_wait() {
    for reap_all in [false, true] {
        cq_wait_model(true, true, reap_all);
    }
}

/// Negative check: a consumer that waits without releasing trips the model's invariant.
#[test]
#[should_panic(expected = "waits holding consumed-but-unreleased")]
fn cq_wait_holding_slots_trips_invariant() {
    cq_wait_model(false, true, false);
}

/// Negative check with the invariant off: the model still catches the bug by its symptom.
#[test]
#[should_panic(expected = "the wait returned at once")]
fn cq_wait_holding_slots_returns_at_once() {
    cq_wait_model(false, false, false);
}
