//! Futex operations over shared futex words (`Arc<AtomicU32>`), which the operation keeps
//! alive until its completion.

use std::sync::atomic::AtomicU32;
use std::sync::Arc;

use super::Encode;
use crate::op::{self, FutexWaitvEntry, FUTEX_BITSET_MATCH_ANY};
use crate::sqe::Sqe;
use crate::{Error, Result};

/// `IORING_OP_FUTEX_WAIT` on a shared futex word (Linux 6.7): the operation holds a clone of
/// the `Arc`, so the word outlives the wait. The result is 0 when woken, `EAGAIN` if the word
/// did not hold `val`.
#[derive(Debug)]
pub struct FutexWait {
    /// The futex word.
    pub futex: Arc<AtomicU32>,
    /// The value to wait on.
    pub val: u32,
    /// Wakers must share a bit of this mask (must not be 0).
    pub mask: u32,
    /// `FUTEX2_PRIVATE` (wakers must agree).
    pub private: bool,
}

impl FutexWait {
    /// Waits on `futex` while it holds `val`.
    /// Pushed as `IORING_OP_FUTEX_WAIT` (Linux 6.7).
    pub fn new(futex: Arc<AtomicU32>, val: u32) -> Self {
        FutexWait { futex, val, mask: FUTEX_BITSET_MATCH_ANY, private: false }
    }
}

impl Encode for FutexWait {
    #[inline]
    fn sqe(&mut self) -> Result<Sqe> {
        let mut b = op::FutexWait::new(&self.futex, self.val).mask(self.mask);
        if self.private {
            b = b.private();
        }
        Ok(b.build())
    }
}

/// `IORING_OP_FUTEX_WAKE` on a shared futex word (Linux 6.7). The result is the number woken.
#[derive(Debug)]
pub struct FutexWake {
    /// The futex word.
    pub futex: Arc<AtomicU32>,
    /// How many waiters to wake at most.
    pub nr: u32,
    /// Wake only waiters sharing a bit of this mask.
    pub mask: u32,
    /// `FUTEX2_PRIVATE`.
    pub private: bool,
}

impl FutexWake {
    /// Wakes up to `nr` waiters of `futex`.
    /// Pushed as `IORING_OP_FUTEX_WAKE` (Linux 6.7).
    pub fn new(futex: Arc<AtomicU32>, nr: u32) -> Self {
        FutexWake { futex, nr, mask: FUTEX_BITSET_MATCH_ANY, private: false }
    }
}

impl Encode for FutexWake {
    #[inline]
    fn sqe(&mut self) -> Result<Sqe> {
        let mut b = op::FutexWake::new(&self.futex, self.nr).mask(self.mask);
        if self.private {
            b = b.private();
        }
        Ok(b.build())
    }
}

/// `IORING_OP_FUTEX_WAITV`: waits until any of several shared futex words is woken (Linux
/// 6.7). The result is the index of the woken futex.
#[derive(Debug)]
pub struct FutexWaitv {
    /// The words and the value each must hold (1 to 128).
    pub futexes: Vec<(Arc<AtomicU32>, u32)>,
    /// `FUTEX2_PRIVATE` for every word.
    pub private: bool,
    entries: Vec<FutexWaitvEntry>,
}

impl FutexWaitv {
    /// Waits on `futexes`. Refuses an empty list or more than 128 words.
    /// Pushed as `IORING_OP_FUTEX_WAITV` (Linux 6.7).
    pub fn new(futexes: Vec<(Arc<AtomicU32>, u32)>) -> Result<Self> {
        if futexes.is_empty() || futexes.len() > op::FUTEX_WAITV_MAX {
            return Err(Error::InvalidArgument { what: "futexes", reason: "a waitv takes 1 to 128 futexes" });
        }
        Ok(FutexWaitv { futexes, private: false, entries: Vec::new() })
    }
}

impl Encode for FutexWaitv {
    #[inline]
    fn sqe(&mut self) -> Result<Sqe> {
        let private = self.private;
        self.entries.clear();
        self.entries.extend(self.futexes.iter().map(|(w, v)| {
            let e = FutexWaitvEntry::new(w, *v);
            if private {
                e.private()
            } else {
                e
            }
        }));
        Ok(op::FutexWaitv::new(&self.entries)?.build())
    }
}
