//! The owned layer's side of the usage-pattern tests: an `OwnedRing` wrapping the ring of any
//! setup mode, its rounds, and the checks of what comes back with each completion.
//!
//! Include it after `usage` (`#[path = "common/usage_owned.rs"] mod usage_owned;`).
#![allow(dead_code)]

use uring::owned::{Completion, CompletionRef, Nop, OpId, OwnedRing, Read};

use crate::usage::{drive, open, payload, settle, Book, Key, Kind, Mode, Pipes, Rounds, Shape, Watch, CQ, READ_LEN};

/// How operations are pushed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Push {
    /// `OwnedRing::push`, one at a time.
    One,
    /// `OwnedRing::batch`: one handle for all the NOPs pushed at once.
    Batch,
}

/// An owned ring under test.
pub struct OwnedCell {
    // Declared first: dropped (its operations cancelled and reaped) before the pipes.
    pub ring: OwnedRing,
    pub book: Book,
    pub mode: &'static Mode,
    pub pipes: Pipes,
    pub push: Push,
    pub shape: Shape,
}

impl OwnedCell {
    /// The ring of `mode` wrapped with `OwnedRing::with_ring`, or `None` (skipped with the
    /// reason printed).
    pub fn open(mode: &'static Mode, test: &str, w: &Watch, push: Push) -> Option<OwnedCell> {
        let (ring, shape) = open(mode, test, w)?;
        w.at("OwnedRing::with_ring");
        // SAFETY: the ring was built just now by `open`, which submitted only NOPs with
        // `user_data` 1 and 2 (bit 63 clear) and never lent or duplicated its fd.
        let ring = unsafe { OwnedRing::with_ring(ring) };
        Some(OwnedCell { ring, book: Book::new(w), mode, pipes: Pipes::new(), push, shape })
    }

    /// Records the call about to be made.
    #[inline]
    pub fn at(&self, label: &'static str) {
        self.book.watch.at(label);
    }

    /// Whether a loop that does not wait must ask for task work the kernel does not flag
    /// (`DEFER_TASKRUN` without `TASKRUN_FLAG`).
    pub fn needs_kick(&self) -> bool {
        self.book.task_work && self.mode.unflagged_task_work
    }

    /// Checks off every completion `OwnedRing::next` hands out now.
    pub fn drain_next(&mut self, label: &'static str) -> u32 {
        let mut n = 0;
        loop {
            self.at(label);
            let Some(c) = self.ring.next() else { return n };
            reap(&mut self.book, &self.shape, c);
            n += 1;
        }
    }

    /// Checks off every completion of one `OwnedRing::completions` handle.
    pub fn drain_completions(&mut self, label: &'static str) -> u32 {
        self.at(label);
        let mut n = 0;
        for c in self.ring.completions() {
            reap(&mut self.book, &self.shape, c);
            n += 1;
        }
        n
    }

    /// Checks off every completion `OwnedRing::for_each_completion` hands out now.
    pub fn drain_for_each(&mut self, label: &'static str) -> u32 {
        self.at(label);
        let OwnedCell { ring, book, shape, .. } = self;
        ring.for_each_completion(|c| reap(book, shape, c))
    }
}

/// What `reap` reads of a completion: the same methods on an owned `Completion` and on the
/// `CompletionRef` that `for_each_completion` lends.
pub trait Reaped: Sized + std::fmt::Debug {
    fn cqe(&self) -> &uring::Cqe;
    fn id(&self) -> Option<OpId>;
    fn more(&self) -> bool;
    fn into_op<O: uring::owned::Operation>(self) -> Result<O, Self>;
}

macro_rules! reaped {
    ($($t:ty),*) => {$(
        impl Reaped for $t {
            fn cqe(&self) -> &uring::Cqe {
                <$t>::cqe(self)
            }
            fn id(&self) -> Option<OpId> {
                <$t>::id(self)
            }
            fn more(&self) -> bool {
                <$t>::more(self)
            }
            fn into_op<O: uring::owned::Operation>(self) -> Result<O, Self> {
                <$t>::into_op(self)
            }
        }
    )*};
}
reaped!(Completion, CompletionRef<'_>);

/// Checks off an owned ring's completion: the `user_data` exactly once, the result, and the
/// operation handed back on its final completion (a read's buffer with the bytes written).
pub fn reap(book: &mut Book, shape: &Shape, c: impl Reaped) {
    let cqe = *c.cqe();
    let key = match c.id() {
        Some(id) => Key::Owned(id),
        None => Key::Raw(cqe.user_data()),
    };
    match book.check(key, &cqe) {
        Kind::OwnedNop => {
            assert!(c.id().is_some() && !c.more(), "{cqe:?}: an owned NOP's only completion");
            let _: Nop = c.into_op().expect("the NOP comes back with its completion");
        }
        Kind::OwnedRead { len, byte } => {
            let read: Read = c.into_op().expect("the read comes back with its completion");
            assert_eq!(read.buf.len(), READ_LEN);
            assert!(read.buf[..len].iter().all(|&b| b == byte), "read {:?}, want {len} x {byte}", &read.buf[..len]);
        }
        Kind::Nop { big_cqe } => {
            assert!(c.id().is_none(), "{cqe:?}: a raw entry's completion has no id");
            if shape.mixed_cqe {
                assert_eq!(cqe.flags().contains(uring::CqeFlags::CQE_32), big_cqe, "CQE size of {cqe:?}");
            }
        }
        k => panic!("a raw-layer read {k:?} on an owned ring"),
    }
}

impl Rounds for OwnedCell {
    fn book(&mut self) -> &mut Book {
        &mut self.book
    }

    fn mode(&self) -> &'static Mode {
        self.mode
    }

    fn settle(&mut self) {
        let OwnedCell { ring, book, mode, .. } = self;
        settle(mode, book, || {
            // SAFETY: only reads the SQ flags; nothing is pushed through the raw ring.
            unsafe { ring.ring_mut() }.sq().need_wakeup()
        });
    }

    fn push_nops(&mut self, max: u32, raw: bool) -> u32 {
        let mut n = 0;
        if raw {
            while n < max {
                let ud = self.book.next_ud();
                let (sqe, big_cqe) = self.shape.small_nop(ud, self.book.bursting);
                self.at("OwnedRing::push_safe");
                if self.ring.push_safe(&sqe).is_err() {
                    break;
                }
                self.book.expect(Key::Raw(ud), Kind::Nop { big_cqe });
                n += 1;
            }
            return n;
        }
        match self.push {
            Push::One => {
                while n < max {
                    self.at("OwnedRing::push");
                    let Ok(id) = self.ring.push(Nop) else { break };
                    self.book.expect(Key::Owned(id), Kind::OwnedNop);
                    n += 1;
                }
            }
            Push::Batch => {
                self.at("OwnedRing::batch + OwnedBatch::push");
                let mut ids = Vec::new();
                {
                    let mut b = self.ring.batch();
                    while (ids.len() as u32) < max {
                        let Ok(id) = b.push(Nop) else { break };
                        ids.push(id);
                    }
                }
                for id in ids {
                    self.book.expect(Key::Owned(id), Kind::OwnedNop);
                    n += 1;
                }
            }
        }
        n
    }

    fn push_read(&mut self, idx: usize, round: u32) -> bool {
        let (len, byte) = payload(idx, round);
        // The read holds its own handle on the pipe (a duplicate) until its final completion.
        let read = Read::new(self.pipes.r[idx].try_clone().expect("dup the pipe"), vec![0; READ_LEN], u64::MAX);
        let id = match self.push {
            Push::One => {
                self.at("OwnedRing::push");
                self.ring.push(read)
            }
            Push::Batch => {
                self.at("OwnedRing::batch + OwnedBatch::push");
                self.ring.batch().push(read)
            }
        };
        let Ok(id) = id else { return false };
        self.book.expect(Key::Owned(id), Kind::OwnedRead { len, byte });
        true
    }

    fn burst_reads(&self) -> u32 {
        CQ
    }

    fn submit(&mut self) {
        self.at("OwnedRing::submit (pushing a burst)");
        self.ring.submit().expect("submit");
    }

    fn pipes(&self) -> &Pipes {
        &self.pipes
    }

    fn finish(&mut self, test: &str) {
        self.book.finish(test, self.mode);
        assert_eq!(self.ring.in_flight(), 0, "{test}: owned operations still in flight");
    }
}

/// A test of owned reap path `path`, pushing with `push`: an owned ring of the mode, then
/// [`drive`]. For `usage_matrix!`.
pub fn owned(
    push: Push,
    path: fn(&mut OwnedCell),
) -> impl FnOnce(&'static Mode, &'static str, &Watch) + Send + 'static {
    move |mode, test, w| {
        let Some(mut c) = OwnedCell::open(mode, test, w, push) else { return };
        drive(&mut c, test, path);
    }
}
