//! The task slab: one preallocated entry per future or stream of a [`Handle`](super::Handle),
//! holding its waker and the completions that arrived for it, keyed from the in-flight
//! table's slot index. The state machine of the layer's cancel safety lives here, apart from
//! the ring, so that the model tests (below) can drive it with synthetic steps.

use std::collections::VecDeque;
use std::rc::Rc;
use std::task::Waker;

use crate::buf::BufRing;
use crate::owned::{Completion, OpId};

/// End of the free list; "no task" in `by_slot`.
pub(crate) const NIL: u32 = u32::MAX;

/// One future's or stream's entry.
#[derive(Debug, Default)]
pub(crate) struct Task {
    /// Allocated (not on the free list).
    pub(crate) used: bool,
    /// A future or stream still owns it (`false` on an allocated task: orphaned, waiting for
    /// its operation's final completion).
    pub(crate) live: bool,
    /// The operation is in the ring: its final completion has not been reaped yet.
    pub(crate) in_flight: bool,
    /// The operation's id while it is in flight.
    pub(crate) id: Option<OpId>,
    /// The waker of the future or stream's last pending poll.
    pub(crate) waker: Option<Waker>,
    /// Completions reaped for it and not yet handed out (kept, with its capacity, across uses
    /// of the entry: no allocation per operation once warm).
    pub(crate) queue: VecDeque<Completion>,
    /// The buffer ring its completions select from, to give their buffers back if nobody
    /// takes them.
    pub(crate) br: Option<Rc<BufRing>>,
    /// Next free task.
    next: u32,
}

/// What reaping one completion did: a waker to call and garbage to drop, both after the
/// handle's state is released.
#[derive(Debug, Default)]
pub(crate) struct Delivered {
    /// The waker of the future or stream the completion was queued for.
    pub(crate) wake: Option<Waker>,
    /// A completion nobody will take (an orphan's, or of no task), with the buffer ring to give
    /// its buffer back to.
    pub(crate) garbage: Option<Garbage>,
    /// A final completion: a slot of the in-flight table went free (wake futures waiting for
    /// room).
    pub(crate) freed: bool,
}

/// A completion to drop, and the buffer ring its buffer (if it names one) goes back to.
#[derive(Debug)]
pub(crate) struct Garbage(pub(crate) Completion, pub(crate) Option<Rc<BufRing>>);

impl Garbage {
    /// Selects the buffer the completion names (so that it goes back to its ring when the
    /// guard drops) and drops the completion with its operation.
    pub(crate) fn dispose(self) {
        let Garbage(mut c, br) = self;
        if let Some(br) = br {
            // The completion is the kernel's own (it came out of the table's step): selecting
            // hands the buffer out once; the guard returns it at once. An error means it names
            // no buffer of that ring.
            let _ = c.select(&br);
        }
    }
}

/// The slab.
#[derive(Debug)]
pub(crate) struct Tasks {
    pub(crate) tasks: Box<[Task]>,
    free: u32,
    /// The task of each slot of the in-flight table (`NIL`: none).
    by_slot: Box<[u32]>,
    /// Futures waiting for room (a free task, a free slot of the in-flight table, a free SQ
    /// entry): woken when something frees. Grows only while futures wait for room.
    pub(crate) room: Vec<Waker>,
}

impl Tasks {
    /// A slab of `n` tasks for an in-flight table of `slots` slots.
    pub(crate) fn new(n: u32, slots: u32) -> Tasks {
        let tasks = (0..n).map(|i| Task { next: if i + 1 < n { i + 1 } else { NIL }, ..Task::default() }).collect();
        Tasks {
            tasks,
            free: if n > 0 { 0 } else { NIL },
            by_slot: vec![NIL; slots as usize].into_boxed_slice(),
            room: Vec::new(),
        }
    }

    /// Takes a free task for a live future (`None`: all taken).
    pub(crate) fn claim(&mut self) -> Option<u32> {
        let t = self.free;
        if t == NIL {
            return None;
        }
        let task = &mut self.tasks[t as usize];
        self.free = task.next;
        task.used = true;
        task.live = true;
        task.in_flight = false;
        task.id = None;
        Some(t)
    }

    /// Puts task `t` back on the free list (its queue emptied, its capacity kept).
    pub(crate) fn release(&mut self, t: u32) {
        let task = &mut self.tasks[t as usize];
        debug_assert!(task.used && !task.in_flight);
        task.used = false;
        task.live = false;
        task.id = None;
        task.waker = None;
        task.br = None;
        task.queue.clear();
        task.next = self.free;
        self.free = t;
    }

    /// Records that task `t`'s operation was pushed as `id`.
    pub(crate) fn attach(&mut self, t: u32, id: OpId, br: Option<Rc<BufRing>>, waker: &Waker) {
        self.by_slot[id.index() as usize] = t;
        let task = &mut self.tasks[t as usize];
        task.in_flight = true;
        task.id = Some(id);
        task.br = br;
        set_waker(&mut task.waker, waker);
    }

    /// Routes a completion the ring reaped (through the in-flight table's step: a genuine
    /// completion) to its task.
    pub(crate) fn deliver(&mut self, c: Completion) -> Delivered {
        let last = !c.more();
        let Some(id) = c.id() else {
            // A raw-layer entry's completion: nobody here waits for it.
            return Delivered { garbage: Some(Garbage(c, None)), ..Delivered::default() };
        };
        let slot = id.index() as usize;
        let t = self.by_slot.get(slot).copied().unwrap_or(NIL);
        let task = match self.tasks.get_mut(t as usize) {
            Some(task) if task.used && task.in_flight && task.id == Some(id) => task,
            // An owned operation pushed around this layer (`Handle::with_ring`): dropped here.
            _ => return Delivered { garbage: Some(Garbage(c, None)), freed: last, ..Delivered::default() },
        };
        if last {
            task.in_flight = false;
            task.id = None;
            self.by_slot[slot] = NIL;
        }
        if task.live {
            task.queue.push_back(c);
            return Delivered { wake: task.waker.take(), garbage: None, freed: last };
        }
        // Orphaned: nobody takes it; its buffer goes back; the task is done at the final one.
        let garbage = Garbage(c, task.br.clone());
        if last {
            self.release(t);
        }
        Delivered { wake: None, garbage: Some(garbage), freed: last }
    }

    /// The future or stream owning task `t` is dropped. Returns the operation to cancel (still
    /// in flight) and what it had queued, to dispose of after the state is released. The task
    /// stays allocated (orphaned) until the final completion if the operation is in flight.
    pub(crate) fn abandon(&mut self, t: u32) -> (Option<OpId>, VecDeque<Completion>, Option<Rc<BufRing>>) {
        let task = &mut self.tasks[t as usize];
        debug_assert!(task.used && task.live);
        task.live = false;
        task.waker = None;
        let queued = core::mem::take(&mut task.queue);
        if task.in_flight {
            (task.id, queued, task.br.clone())
        } else {
            let br = task.br.take();
            self.release(t);
            (None, queued, br)
        }
    }

    /// Gives an emptied queue back to task `t` (keeps its capacity), if the task is still
    /// allocated with an empty queue of no capacity.
    pub(crate) fn restore_queue(&mut self, t: u32, q: VecDeque<Completion>) {
        if let Some(task) = self.tasks.get_mut(t as usize) {
            if task.queue.capacity() == 0 && q.is_empty() {
                task.queue = q;
            }
        }
    }
}

/// Stores `w` in `slot` unless it already holds a waker that wakes the same task (no clone,
/// so no reference count traffic, on the common re-poll).
#[inline]
pub(crate) fn set_waker(slot: &mut Option<Waker>, w: &Waker) {
    match slot {
        Some(old) if old.will_wake(w) => {}
        _ => *slot = Some(w.clone()),
    }
}

/// Model tests of the cancel-safety state machine: a real in-flight table stepped with
/// synthetic completions (the step is the same one the ring uses), driven through every order
/// of the events a future's life can see, including the ones the kernel tests cannot force:
/// a completion arriving while the future's drop is cancelling, a multishot completion after
/// the drop, a final completion queued and never polled.
#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    use super::*;
    use crate::cqe::Cqe;
    use crate::owned::table::Table;
    use crate::owned::{Fd, OwnedOp, Read};

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// One model run: the events, in order.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Ev {
        /// The future polls (registers its waker, takes what is queued).
        Poll,
        /// A completion with `IORING_CQE_F_MORE` arrives and is reaped.
        More,
        /// The final completion arrives and is reaped.
        Last,
        /// The future is dropped.
        Drop,
    }

    /// Runs `evs` (each a valid order: `Last` once, nothing after `Last` but `Poll`/`Drop`)
    /// against a table slot holding a read that shares `file`, and checks the invariants.
    fn run(evs: &[Ev], multishot: bool) {
        let file = Arc::new(std::fs::File::open("/dev/null").unwrap());
        let mut table = Table::new(4);
        let mut tasks = Tasks::new(2, 4);
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());

        // Push: a task, a slot with the operation (holding a share of `file`).
        let t = tasks.claim().unwrap();
        let (i, ud) = table.claim().unwrap();
        table.slots[i as usize].op = Some(OwnedOp::from(Read::new(Fd::shared(file.clone()), vec![0; 8], 0)));
        let id = OpId::from_user_data(ud).unwrap();
        tasks.attach(t, id, None, &waker);
        assert_eq!(Arc::strong_count(&file), 2);

        let (mut live, mut last_seen, mut got_last, mut cancels, mut handed) = (true, false, false, 0, 0);
        let mut wakes_expected = 0;
        let mut waker_registered = true;
        for &ev in evs {
            match ev {
                Ev::Poll if live => {
                    let task = &mut tasks.tasks[t as usize];
                    while let Some(c) = task.queue.pop_front() {
                        handed += 1;
                        got_last |= !c.more();
                    }
                    if task.in_flight {
                        set_waker(&mut task.waker, &waker);
                        waker_registered = true;
                    }
                }
                Ev::More | Ev::Last => {
                    assert!(!last_seen, "no completion after the final one");
                    let flags = if ev == Ev::More { uring_uapi::IORING_CQE_F_MORE } else { 0 };
                    let cqe = Cqe::new(ud, 0, flags);
                    let step = table.step(&cqe);
                    let c = Completion::from_step(&mut table, cqe, step);
                    last_seen |= ev == Ev::Last;
                    let d = tasks.deliver(c);
                    if let Some(w) = d.wake {
                        assert!(live && waker_registered, "a waker of a live, pending future only");
                        wakes_expected += 1;
                        waker_registered = false;
                        w.wake();
                    }
                    assert_eq!(d.freed, ev == Ev::Last);
                    if !live {
                        assert!(d.garbage.is_some(), "an orphan's completion is disposed of");
                    }
                    if let Some(g) = d.garbage {
                        g.dispose();
                    }
                }
                Ev::Drop if live => {
                    live = false;
                    let (cancel, queued, _br) = tasks.abandon(t);
                    cancels += cancel.is_some() as u32;
                    assert_eq!(cancel.is_some(), !last_seen, "cancel exactly while in flight");
                    drop(queued);
                    if let Some(id) = cancel {
                        assert!(table.is_in_flight(id));
                    }
                }
                _ => {}
            }
            // The operation (and its file share) lives exactly as long as the kernel may use
            // it or a live future may still take it.
            let task = &tasks.tasks[t as usize];
            let held = !last_seen || (live && task.queue.iter().any(|c| !c.more()));
            assert_eq!(Arc::strong_count(&file), 1 + held as usize, "after {ev:?} in {evs:?}");
        }
        assert_eq!(count.0.load(Ordering::Relaxed), wakes_expected);
        assert!(cancels <= 1);
        if !live && last_seen {
            assert!(!tasks.tasks[t as usize].used, "the task is freed after drop + final completion");
        }
        if got_last {
            assert!(last_seen);
        }
        let _ = (handed, multishot);
    }

    /// Every order of poll, completions and drop, for single-shot and multishot operations.
    #[test]
    fn every_interleaving_of_poll_complete_and_drop() {
        let mut n = 0;
        for mores in 0..3usize {
            // Events: `mores` More, then one Last (or none: dropped while in flight), with
            // Polls and one Drop placed anywhere.
            for with_last in [true, false] {
                let mut base: Vec<Ev> = vec![Ev::More; mores];
                if with_last {
                    base.push(Ev::Last);
                }
                let len = base.len();
                // Insert two polls and a drop at every position (positions may repeat).
                for p1 in 0..=len {
                    for p2 in p1..=len {
                        for d in 0..=len {
                            let mut evs = Vec::new();
                            for (k, ev) in base.iter().map(Some).chain([None]).enumerate() {
                                if k == p1 {
                                    evs.push(Ev::Poll);
                                }
                                if k == p2 {
                                    evs.push(Ev::Poll);
                                }
                                if k == d {
                                    evs.push(Ev::Drop);
                                }
                                if let Some(&ev) = ev {
                                    evs.push(ev);
                                }
                            }
                            run(&evs, mores > 0);
                            n += 1;
                        }
                    }
                }
            }
        }
        assert!(n > 50);
    }

    /// A completion for a slot whose task was recycled (a stale id) is not delivered to the
    /// new owner.
    #[test]
    fn a_stale_completion_reaches_no_new_task() {
        let mut table = Table::new(2);
        let mut tasks = Tasks::new(2, 2);
        let w = Waker::from(Arc::new(Count(AtomicUsize::new(0))));
        let t = tasks.claim().unwrap();
        let (i, ud) = table.claim().unwrap();
        table.slots[i as usize].op = Some(OwnedOp::Nop(crate::owned::Nop));
        tasks.attach(t, OpId::from_user_data(ud).unwrap(), None, &w);
        let cqe = Cqe::new(ud, 0, 0);
        let step = table.step(&cqe);
        let d = tasks.deliver(Completion::from_step(&mut table, cqe, step));
        assert!(d.freed && d.garbage.is_none());
        // The same slot, a new operation, a new task.
        let t2 = tasks.claim().unwrap();
        let (i2, ud2) = table.claim().unwrap();
        assert_eq!(i2, i);
        assert_ne!(ud2, ud);
        table.slots[i2 as usize].op = Some(OwnedOp::Nop(crate::owned::Nop));
        tasks.attach(t2, OpId::from_user_data(ud2).unwrap(), None, &w);
        // The old completion replayed: the table's step refuses it (raw), so nobody gets it.
        let step = table.step(&cqe);
        let d = tasks.deliver(Completion::from_step(&mut table, cqe, step));
        assert!(d.garbage.is_some() && d.wake.is_none());
        assert!(tasks.tasks[t2 as usize].queue.is_empty());
    }
}
