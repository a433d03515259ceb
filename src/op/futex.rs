//! Encoders of the futex family: wait on a futex word, wake its waiters, wait on several words.
//!
//! These are the futex2 interfaces (`futex_wait(2)`, `futex_wake(2)`, `futex_waitv(2)`), for
//! 32-bit futex words, here always given as [`AtomicU32`]s.
//!
//! liburing's helpers take two flag words: the futex2 flags, which the builders put in `sqe.fd`
//! (`FUTEX2_SIZE_U32`, and `FUTEX2_PRIVATE` with `private()`), and `flags`, for
//! `sqe.futex_flags`, which the kernel refuses unless 0 (`EINVAL`) and the builders leave out.

use core::marker::PhantomData;
use core::sync::atomic::AtomicU32;

use uring_uapi::*;

use crate::op::prep_rw;
use crate::sqe::Sqe;

/// `FUTEX2_SIZE_U32`: the futex word is 32 bits.
const FUTEX2_SIZE_U32: u32 = 0x02;
/// `FUTEX2_PRIVATE`: the futex is private to this process (`FUTEX_PRIVATE_FLAG`).
const FUTEX2_PRIVATE: u32 = 128;
/// `FUTEX_BITSET_MATCH_ANY`: a mask matching every waiter.
pub const FUTEX_BITSET_MATCH_ANY: u32 = u32::MAX;
/// `FUTEX_WAITV_MAX`: the most futexes one waitv can wait on.
pub const FUTEX_WAITV_MAX: usize = 128;

/// `IORING_OP_FUTEX_WAIT`: waits until the futex word is woken, if it still holds `val`
/// (`io_uring_prep_futex_wait(3)`, Linux 6.7).
///
/// The result is 0 when woken, `-EAGAIN` when the word did not hold `val` at the start.
/// Waiters and wakers match when their masks share a bit (default
/// [`FUTEX_BITSET_MATCH_ANY`]).
///
/// liburing's `flags` argument (`sqe.futex_flags`) is refused by the kernel unless 0 and is
/// not offered (the futex2 flags, size and `private()`, go in `sqe.fd`).
///
/// Memory: the futex word must stay alive until the operation completes (the kernel reads it
/// and keys the wait on its address).
#[derive(Debug, Clone, Copy)]
pub struct FutexWait<'a> {
    addr: u64,
    val: u32,
    mask: u32,
    futex2_flags: u32,
    _word: PhantomData<&'a AtomicU32>,
}

impl<'a> FutexWait<'a> {
    /// The operation code, `IORING_OP_FUTEX_WAIT`.
    pub const CODE: u8 = IORING_OP_FUTEX_WAIT;

    /// Waits on `futex` while it holds `val`.
    /// See `io_uring_prep_futex_wait(3)` (Linux 6.7).
    #[inline]
    pub fn new(futex: &'a AtomicU32, val: u32) -> Self {
        FutexWait {
            addr: futex.as_ptr() as u64,
            val,
            mask: FUTEX_BITSET_MATCH_ANY,
            futex2_flags: FUTEX2_SIZE_U32,
            _word: PhantomData,
        }
    }

    /// Waits on the 32-bit futex word at `addr` (which must stay valid until the operation
    /// completes; pushing the entry is `unsafe` and relies on it).
    /// See `io_uring_prep_futex_wait(3)` (Linux 6.7).
    #[inline]
    pub fn from_ptr(addr: *const u32, val: u32) -> Self {
        FutexWait {
            addr: addr as u64,
            val,
            mask: FUTEX_BITSET_MATCH_ANY,
            futex2_flags: FUTEX2_SIZE_U32,
            _word: PhantomData,
        }
    }

    /// Matches only wakers whose mask shares a bit with `mask` (must not be 0).
    #[inline]
    pub const fn mask(mut self, mask: u32) -> Self {
        self.mask = mask;
        self
    }

    /// `FUTEX2_PRIVATE`: the futex is private to this process (faster; wakers must say so too).
    #[inline]
    pub const fn private(mut self) -> Self {
        self.futex2_flags |= FUTEX2_PRIVATE;
        self
    }

    /// The entry. See the type's docs for the memory that must outlive it.
    /// Encodes `IORING_OP_FUTEX_WAIT`.
    #[inline]
    pub const fn build(self) -> Sqe {
        let mut sqe = prep_rw(Self::CODE, self.futex2_flags as i32, self.addr, 0, self.val as u64);
        sqe.0.addr3.addr3.addr3 = self.mask as u64;
        sqe
    }
}

/// `IORING_OP_FUTEX_WAKE`: wakes up to `nr` waiters of the futex word
/// (`io_uring_prep_futex_wake(3)`, Linux 6.7). The result is the number woken.
///
/// liburing's `flags` argument (`sqe.futex_flags`) is refused by the kernel unless 0 and is
/// not offered (the futex2 flags, size and `private()`, go in `sqe.fd`).
///
/// Memory: the futex word must stay alive until the operation completes (the kernel keys the
/// wake on its address).
#[derive(Debug, Clone, Copy)]
pub struct FutexWake<'a> {
    addr: u64,
    nr: u32,
    mask: u32,
    futex2_flags: u32,
    _word: PhantomData<&'a AtomicU32>,
}

impl<'a> FutexWake<'a> {
    /// The operation code, `IORING_OP_FUTEX_WAKE`.
    pub const CODE: u8 = IORING_OP_FUTEX_WAKE;

    /// Wakes up to `nr` waiters of `futex`.
    /// See `io_uring_prep_futex_wake(3)` (Linux 6.7).
    #[inline]
    pub fn new(futex: &'a AtomicU32, nr: u32) -> Self {
        FutexWake {
            addr: futex.as_ptr() as u64,
            nr,
            mask: FUTEX_BITSET_MATCH_ANY,
            futex2_flags: FUTEX2_SIZE_U32,
            _word: PhantomData,
        }
    }

    /// Wakes waiters of the 32-bit futex word at `addr`.
    /// See `io_uring_prep_futex_wake(3)` (Linux 6.7).
    #[inline]
    pub fn from_ptr(addr: *const u32, nr: u32) -> Self {
        FutexWake {
            addr: addr as u64,
            nr,
            mask: FUTEX_BITSET_MATCH_ANY,
            futex2_flags: FUTEX2_SIZE_U32,
            _word: PhantomData,
        }
    }

    /// Wakes only waiters whose mask shares a bit with `mask` (must not be 0).
    #[inline]
    pub const fn mask(mut self, mask: u32) -> Self {
        self.mask = mask;
        self
    }

    /// `FUTEX2_PRIVATE`: the futex is private to this process.
    #[inline]
    pub const fn private(mut self) -> Self {
        self.futex2_flags |= FUTEX2_PRIVATE;
        self
    }

    /// The entry. See the type's docs for the memory that must outlive it.
    /// Encodes `IORING_OP_FUTEX_WAKE`.
    #[inline]
    pub const fn build(self) -> Sqe {
        let mut sqe = prep_rw(Self::CODE, self.futex2_flags as i32, self.addr, 0, self.nr as u64);
        sqe.0.addr3.addr3.addr3 = self.mask as u64;
        sqe
    }
}

/// One futex of a [`FutexWaitv`] (the kernel's `struct futex_waitv`).
/// For `IORING_OP_FUTEX_WAITV` (Linux 6.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(C)]
pub struct FutexWaitvEntry {
    /// The value to wait on.
    pub val: u64,
    /// The address of the futex word.
    pub uaddr: u64,
    /// `FUTEX2_*` flags (size and private).
    pub flags: u32,
    /// Reserved, must be 0.
    pub __reserved: u32,
}

impl FutexWaitvEntry {
    /// Waits on `futex` while it holds `val`. The word must stay alive until the operation using
    /// this entry completes.
    /// For `IORING_OP_FUTEX_WAITV` (Linux 6.7).
    #[inline]
    pub fn new(futex: &AtomicU32, val: u32) -> Self {
        FutexWaitvEntry { val: val as u64, uaddr: futex.as_ptr() as u64, flags: FUTEX2_SIZE_U32, __reserved: 0 }
    }

    /// `FUTEX2_PRIVATE`: the futex is private to this process.
    #[inline]
    pub const fn private(mut self) -> Self {
        self.flags |= FUTEX2_PRIVATE;
        self
    }
}

/// `IORING_OP_FUTEX_WAITV`: waits until any of several futex words is woken
/// (`io_uring_prep_futex_waitv(3)`, Linux 6.7). The result is the index of the woken futex, or
/// `-EAGAIN` when one of the words did not hold its value at the start.
///
/// liburing's `flags` argument (`sqe.futex_flags`) is refused by the kernel unless 0 and is
/// not offered (the futex2 flags, size and `private()`, go in `sqe.fd`).
///
/// Memory: the entries and every futex word they name must stay alive until the operation
/// completes.
#[derive(Debug, Clone, Copy)]
pub struct FutexWaitv<'a> {
    futexes: &'a [FutexWaitvEntry],
}

impl<'a> FutexWaitv<'a> {
    /// The operation code, `IORING_OP_FUTEX_WAITV`.
    pub const CODE: u8 = IORING_OP_FUTEX_WAITV;

    /// Waits on `futexes` (1 to [`FUTEX_WAITV_MAX`] entries, refused otherwise).
    /// See `io_uring_prep_futex_waitv(3)` (Linux 6.7).
    #[inline]
    pub fn new(futexes: &'a [FutexWaitvEntry]) -> crate::Result<Self> {
        if futexes.is_empty() || futexes.len() > FUTEX_WAITV_MAX {
            return Err(crate::Error::InvalidArgument { what: "futexes", reason: "a waitv takes 1 to 128 futexes" });
        }
        Ok(FutexWaitv { futexes })
    }

    /// The entry. See the type's docs for the memory that must outlive it.
    /// Encodes `IORING_OP_FUTEX_WAITV`.
    #[inline]
    pub fn build(self) -> Sqe {
        prep_rw(Self::CODE, 0, self.futexes.as_ptr() as u64, self.futexes.len() as u32, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::op::test_util::{check, Fields};

    #[test]
    fn futex_wait() {
        let word = AtomicU32::new(3);
        let addr = word.as_ptr() as u64;
        check(&[
            (
                "futex wait",
                FutexWait::new(&word, 3).build(),
                Fields { opcode: IORING_OP_FUTEX_WAIT, fd: 2, addr, off: 3, addr3: 0xffff_ffff, ..Default::default() },
            ),
            (
                "futex wait #2",
                FutexWait::from_ptr(word.as_ptr(), 7).mask(0x10).private().build(),
                Fields { opcode: IORING_OP_FUTEX_WAIT, fd: 130, addr, off: 7, addr3: 0x10, ..Default::default() },
            ),
        ]);
    }

    #[test]
    fn futex_wake() {
        let word = AtomicU32::new(0);
        let addr = word.as_ptr() as u64;
        check(&[
            (
                "futex wake",
                FutexWake::new(&word, 1).private().build(),
                Fields {
                    opcode: IORING_OP_FUTEX_WAKE,
                    fd: 130,
                    addr,
                    off: 1,
                    addr3: 0xffff_ffff,
                    ..Default::default()
                },
            ),
            (
                "futex wake #2",
                FutexWake::from_ptr(word.as_ptr(), u32::MAX).mask(3).build(),
                Fields {
                    opcode: IORING_OP_FUTEX_WAKE,
                    fd: 2,
                    addr,
                    off: u32::MAX as u64,
                    addr3: 3,
                    ..Default::default()
                },
            ),
        ]);
    }

    #[test]
    fn futex_waitv() {
        assert_eq!(core::mem::size_of::<FutexWaitvEntry>(), 24);
        let a = AtomicU32::new(0);
        let b = AtomicU32::new(1);
        let v = [FutexWaitvEntry::new(&a, 0).private(), FutexWaitvEntry::new(&b, 1)];
        assert_eq!(v[0], FutexWaitvEntry { val: 0, uaddr: a.as_ptr() as u64, flags: 130, __reserved: 0 });
        assert_eq!(v[1].flags, 2);
        assert!(FutexWaitv::new(&[]).is_err());
        assert!(FutexWaitv::new(&[FutexWaitvEntry::default(); 129]).is_err());
        check(&[(
            "futex waitv",
            FutexWaitv::new(&v).unwrap().build(),
            Fields { opcode: IORING_OP_FUTEX_WAITV, addr: v.as_ptr() as u64, len: 2, ..Default::default() },
        )]);
    }
}
