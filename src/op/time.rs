//! Encoders of the timeout family: timeouts, linked timeouts, and their removal and update.
//!
//! The kernel copies a [`Timespec`] when it consumes the entry (at submission, or later with
//! `IORING_SETUP_SQPOLL`), so the `Sqe`-returning encoders ask that the timespec stay alive until
//! the operation completes, which covers both. The `*Immediate` variants carry the time in the
//! entry itself (`IORING_TIMEOUT_IMMEDIATE_ARG`) and push safely.

use core::time::Duration;

use bitflags::bitflags;
use uring_uapi::*;

use crate::op::{prep_rw, Timespec};
use crate::sqe::{SafeSqe, Sqe};

bitflags! {
    /// Options of a timeout (`IORING_TIMEOUT_*` in `sqe.timeout_flags`); the clock is chosen
    /// with [`TimeoutClock`].
    /// For `IORING_OP_TIMEOUT` (Linux 5.4); each flag's doc gives its first version.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct TimeoutFlags: u32 {
        /// `IORING_TIMEOUT_ABS` (Linux 5.5): the time is an absolute point on the clock, not a delay.
        const ABS = IORING_TIMEOUT_ABS;
        /// `IORING_TIMEOUT_ETIME_SUCCESS`: an expiry does not count as a failure (Linux 5.16):
        /// the result is still `-ETIME`, but entries linked after the timeout run rather than
        /// being cancelled.
        const ETIME_SUCCESS = IORING_TIMEOUT_ETIME_SUCCESS;
        /// `IORING_TIMEOUT_MULTISHOT`: fire repeatedly (Linux 6.4); see [`Timeout::multishot`].
        const MULTISHOT = IORING_TIMEOUT_MULTISHOT;
    }
}

/// The clock a timeout is measured against (`IORING_TIMEOUT_BOOTTIME` /
/// `IORING_TIMEOUT_REALTIME`, Linux 5.15; monotonic otherwise).
/// (`IORING_TIMEOUT_BOOTTIME` and `IORING_TIMEOUT_REALTIME`: Linux 5.15.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TimeoutClock {
    /// `CLOCK_MONOTONIC` (the default).
    #[default]
    Monotonic,
    /// `CLOCK_BOOTTIME`: like monotonic, but counts time suspended.
    /// (`IORING_TIMEOUT_BOOTTIME`, Linux 5.15.)
    Boottime,
    /// `CLOCK_REALTIME`: wall-clock time (follows clock changes with [`TimeoutFlags::ABS`]).
    /// (`IORING_TIMEOUT_REALTIME`, Linux 5.15.)
    Realtime,
}

impl TimeoutClock {
    /// The `IORING_TIMEOUT_*` clock bits.
    #[inline]
    pub const fn bits(self) -> u32 {
        match self {
            TimeoutClock::Monotonic => 0,
            TimeoutClock::Boottime => IORING_TIMEOUT_BOOTTIME,
            TimeoutClock::Realtime => IORING_TIMEOUT_REALTIME,
        }
    }
}

/// Converts `d` to nanoseconds for `IORING_TIMEOUT_IMMEDIATE_ARG`, which the kernel reads as a
/// signed 64-bit time.
fn immediate_ns(d: Duration) -> crate::Result<u64> {
    match u64::try_from(d.as_nanos()) {
        Ok(ns) if ns <= i64::MAX as u64 => Ok(ns),
        _ => Err(crate::Error::InvalidArgument {
            what: "timeout",
            reason: "an immediate timeout holds at most i64::MAX nanoseconds (about 292 years)",
        }),
    }
}

/// The setters [`Timeout`] and [`TimeoutImmediate`] share (fields `count`, `flags` and `clock`).
/// `timeout_setters!()` documents them in full (for `Timeout`); `timeout_setters!(as Timeout)`
/// points four of them back to `Timeout`'s docs.
macro_rules! timeout_setters {
    () => {
        timeout_setters!(@docs
            [
                /// Also complete (with 0) once `count` other completions have been posted. 0, the default,
                /// means time only.
            ]
            [
                /// `IORING_TIMEOUT_ABS`: `ts` is an absolute time on the clock.
            ]
            [
                /// `IORING_TIMEOUT_ETIME_SUCCESS`: expiry (still `-ETIME`) does not fail the entry, so a link
                /// chain continues past it.
            ]
            [
                /// `IORING_TIMEOUT_MULTISHOT` (Linux 6.4): fire every `ts` (a relative time), posting a
                /// completion with `IORING_CQE_F_MORE` each time, `repeats` times (0: until removed). This
                /// replaces [`count`](Timeout::count), which shares the field.
            ]
        );
    };
    (as Timeout) => {
        timeout_setters!(@docs
            [
                /// As [`Timeout::count`].
            ]
            [
                /// As [`Timeout::absolute`].
            ]
            [
                /// As [`Timeout::etime_success`].
            ]
            [
                /// As [`Timeout::multishot`].
            ]
        );
    };
    (@docs [$(#[$count:meta])*] [$(#[$absolute:meta])*] [$(#[$etime:meta])*] [$(#[$multishot:meta])*]) => {
        $(#[$count])*
        #[inline]
        pub const fn count(mut self, count: u32) -> Self {
            self.count = count;
            self
        }

        /// Adds `IORING_TIMEOUT_*` options.
        #[inline]
        pub const fn flags(mut self, flags: TimeoutFlags) -> Self {
            // Only the named options: the clock, update and immediate-argument bits belong to the
            // encoder and would change what the entry means.
            self.flags = self.flags.union(TimeoutFlags::from_bits_truncate(flags.bits()));
            self
        }

        $(#[$absolute])*
        #[inline]
        pub const fn absolute(self) -> Self {
            self.flags(TimeoutFlags::ABS)
        }

        $(#[$etime])*
        #[inline]
        pub const fn etime_success(self) -> Self {
            self.flags(TimeoutFlags::ETIME_SUCCESS)
        }

        $(#[$multishot])*
        #[inline]
        pub const fn multishot(mut self, repeats: u32) -> Self {
            self.count = repeats;
            self.flags(TimeoutFlags::MULTISHOT)
        }

        /// Measures against `clock`.
        #[inline]
        pub const fn clock(mut self, clock: TimeoutClock) -> Self {
            self.clock = clock;
            self
        }
    };
}

/// `IORING_OP_TIMEOUT`: completes after a time has passed, or once `count` other completions
/// have been posted, whichever comes first (`io_uring_prep_timeout(3)`, Linux 5.4).
///
/// The result is `-ETIME` when the time expired, 0 when the count was reached, `-ECANCELED`
/// when removed. Remove it with [`TimeoutRemove`], change it with [`TimeoutUpdate`].
///
/// Of liburing's `flags`, the named options ([`TimeoutFlags`]) and the clock
/// ([`TimeoutClock`]) are offered; the update bits (`IORING_TIMEOUT_UPDATE`,
/// `IORING_LINK_TIMEOUT_UPDATE`) belong to `TIMEOUT_REMOVE` and the kernel refuses them here
/// (`EINVAL`), and `IORING_TIMEOUT_IMMEDIATE_ARG` is [`TimeoutImmediate`]'s.
///
/// Memory: `ts` must stay alive until the operation completes (the kernel copies it when it
/// consumes the entry).
#[derive(Debug, Clone, Copy)]
pub struct Timeout<'a> {
    ts: &'a Timespec,
    count: u32,
    flags: TimeoutFlags,
    clock: TimeoutClock,
}

impl<'a> Timeout<'a> {
    /// The operation code, `IORING_OP_TIMEOUT`.
    pub const CODE: u8 = IORING_OP_TIMEOUT;

    /// A timeout of `ts` (a delay, unless [`TimeoutFlags::ABS`] is set).
    /// See `io_uring_prep_timeout(3)` (Linux 5.4).
    #[inline]
    pub const fn new(ts: &'a Timespec) -> Self {
        Timeout { ts, count: 0, flags: TimeoutFlags::empty(), clock: TimeoutClock::Monotonic }
    }

    timeout_setters!();

    /// The entry. See the type's docs for the memory that must outlive it.
    /// Encodes `IORING_OP_TIMEOUT`.
    #[inline]
    pub fn build(self) -> Sqe {
        let mut sqe = prep_rw(Self::CODE, -1, self.ts.addr(), 1, self.count as u64);
        sqe.0.op_flags.timeout_flags = self.flags.bits() | self.clock.bits();
        sqe
    }
}

/// `IORING_OP_TIMEOUT` with `IORING_TIMEOUT_IMMEDIATE_ARG`: a [`Timeout`] whose time travels in
/// the entry itself (nanoseconds in `sqe.addr`) rather than through a timespec pointer (no
/// liburing helper; Linux 7.1, refused with `-EINVAL` before).
///
#[doc = safe_entry_doc!()]
#[derive(Debug, Clone, Copy)]
pub struct TimeoutImmediate {
    ns: u64,
    count: u32,
    flags: TimeoutFlags,
    clock: TimeoutClock,
}

impl TimeoutImmediate {
    /// The operation code, `IORING_OP_TIMEOUT`.
    pub const CODE: u8 = IORING_OP_TIMEOUT;

    /// A timeout of `time` (a delay, unless [`TimeoutFlags::ABS`] is set: then nanoseconds since
    /// the clock's epoch). Refuses a time beyond `i64::MAX` nanoseconds.
    /// Encodes `IORING_OP_TIMEOUT` (Linux 5.4).
    #[inline]
    pub fn new(time: Duration) -> crate::Result<Self> {
        Ok(TimeoutImmediate {
            ns: immediate_ns(time)?,
            count: 0,
            flags: TimeoutFlags::empty(),
            clock: TimeoutClock::Monotonic,
        })
    }

    timeout_setters!(as Timeout);

    /// The entry.
    /// Encodes `IORING_OP_TIMEOUT`.
    #[inline]
    pub const fn build(self) -> SafeSqe {
        let mut sqe = prep_rw(Self::CODE, -1, self.ns, 1, self.count as u64);
        sqe.0.op_flags.timeout_flags = self.flags.bits() | self.clock.bits() | IORING_TIMEOUT_IMMEDIATE_ARG;
        SafeSqe::new(sqe)
    }
}

/// The setters of the builders that keep raw `IORING_TIMEOUT_*` bits in `flags: u32` (timeout
/// updates and link timeouts): one per name listed, each with the doc comment written before it.
macro_rules! flag_setters {
    () => {};
    ($(#[$doc:meta])* clock; $($rest:tt)*) => {
        $(#[$doc])*
        #[inline]
        pub const fn clock(mut self, clock: TimeoutClock) -> Self {
            self.flags = (self.flags & !IORING_TIMEOUT_CLOCK_MASK) | clock.bits();
            self
        }
        flag_setters!($($rest)*);
    };
    // The others each add one flag: `absolute`, `link`.
    ($(#[$doc:meta])* $name:ident; $($rest:tt)*) => {
        $(#[$doc])*
        #[inline]
        pub const fn $name(mut self) -> Self {
            self.flags |= timeout_flag!($name);
            self
        }
        flag_setters!($($rest)*);
    };
}

/// The flag each flag setter of `flag_setters!` adds.
macro_rules! timeout_flag {
    (absolute) => {
        IORING_TIMEOUT_ABS
    };
    (link) => {
        IORING_LINK_TIMEOUT_UPDATE
    };
}

value_op! {
    /// `IORING_OP_TIMEOUT_REMOVE`: cancels the timeout submitted with `user_data`
    /// (`io_uring_prep_timeout_remove(3)`, Linux 5.5). The result is 0, `-ENOENT` when no such
    /// timeout is armed, or `-EALREADY` when it is already firing; the removed timeout completes
    /// with `-ECANCELED`.
    ///
    /// liburing's `flags` argument is not offered: the kernel refuses any flag on a plain
    /// removal (`EINVAL`); updates are [`TimeoutUpdate`].
    pub struct TimeoutRemove(IORING_OP_TIMEOUT_REMOVE) -> SafeSqe {
        /// Removes the timeout submitted with `user_data`.
        /// See `io_uring_prep_timeout_remove(3)` (Linux 5.5).
        [const] fn new(user_data: u64);
    }
    /// The entry.
    /// Encodes `IORING_OP_TIMEOUT_REMOVE`.
    fn build(self) {
        prep_rw(Self::CODE, -1, self.user_data, 0, 0)
    }
}

/// `IORING_OP_TIMEOUT_REMOVE` with `IORING_TIMEOUT_UPDATE`: re-arms the timeout submitted with
/// `user_data` with a new time (`io_uring_prep_timeout_update(3)`, Linux 5.11).
/// [`link`](TimeoutUpdate::link) targets a linked timeout instead (`IORING_LINK_TIMEOUT_UPDATE`,
/// Linux 5.15). The result is 0, or `-ENOENT` when no such timeout is armed. The clock stays the
/// one the timeout was armed with: besides the update bits the kernel accepts only
/// `IORING_TIMEOUT_ABS`, and refuses a clock, `ETIME_SUCCESS` or `MULTISHOT` in liburing's
/// `flags` (`EINVAL`), so none of those is offered.
///
/// Memory: `ts` must stay alive until the operation completes.
#[derive(Debug, Clone, Copy)]
pub struct TimeoutUpdate<'a> {
    ts: &'a Timespec,
    user_data: u64,
    flags: u32,
}

impl<'a> TimeoutUpdate<'a> {
    /// The operation code, `IORING_OP_TIMEOUT_REMOVE`.
    pub const CODE: u8 = IORING_OP_TIMEOUT_REMOVE;

    /// Sets the timeout submitted with `user_data` to expire after `ts`.
    /// See `io_uring_prep_timeout_update(3)` (Linux 5.11).
    #[inline]
    pub const fn new(ts: &'a Timespec, user_data: u64) -> Self {
        TimeoutUpdate { ts, user_data, flags: IORING_TIMEOUT_UPDATE }
    }

    flag_setters! {
        /// `IORING_TIMEOUT_ABS`: `ts` is an absolute time.
        absolute;
        /// `IORING_LINK_TIMEOUT_UPDATE`: update a [`LinkTimeout`] (as liburing does, the flag is
        /// added to `IORING_TIMEOUT_UPDATE`).
        link;
    }

    /// The entry. See the type's docs for the memory that must outlive it.
    /// Encodes `IORING_OP_TIMEOUT_REMOVE`.
    #[inline]
    pub fn build(self) -> Sqe {
        let mut sqe = prep_rw(Self::CODE, -1, self.user_data, 0, self.ts.addr());
        sqe.0.op_flags.timeout_flags = self.flags;
        sqe
    }
}

/// [`TimeoutUpdate`] with `IORING_TIMEOUT_IMMEDIATE_ARG`: the new time travels in the entry
/// (nanoseconds in `sqe.addr2`) (no liburing helper; Linux 7.1, refused with `-EINVAL` before).
///
#[doc = safe_entry_doc!()]
#[derive(Debug, Clone, Copy)]
pub struct TimeoutUpdateImmediate {
    ns: u64,
    user_data: u64,
    flags: u32,
}

impl TimeoutUpdateImmediate {
    /// The operation code, `IORING_OP_TIMEOUT_REMOVE`.
    pub const CODE: u8 = IORING_OP_TIMEOUT_REMOVE;

    /// Sets the timeout submitted with `user_data` to expire after `time`. Refuses a time beyond
    /// `i64::MAX` nanoseconds.
    /// (`IORING_OP_TIMEOUT_REMOVE` with `IORING_TIMEOUT_UPDATE` and
    /// `IORING_TIMEOUT_IMMEDIATE_ARG`.)
    #[inline]
    pub fn new(time: Duration, user_data: u64) -> crate::Result<Self> {
        Ok(TimeoutUpdateImmediate { ns: immediate_ns(time)?, user_data, flags: IORING_TIMEOUT_UPDATE })
    }

    flag_setters! {
        /// As [`TimeoutUpdate::absolute`].
        absolute;
        /// As [`TimeoutUpdate::link`].
        link;
    }

    /// The entry.
    #[inline]
    pub const fn build(self) -> SafeSqe {
        let mut sqe = prep_rw(Self::CODE, -1, self.user_data, 0, self.ns);
        sqe.0.op_flags.timeout_flags = self.flags | IORING_TIMEOUT_IMMEDIATE_ARG;
        SafeSqe::new(sqe)
    }
}

/// `IORING_OP_LINK_TIMEOUT`: bounds the time of the entry before it, which must carry
/// `IOSQE_IO_LINK` (`io_uring_prep_link_timeout(3)`, Linux 5.5).
///
/// If the time expires first, the linked entry is cancelled (it completes with `-ECANCELED`, or
/// `-EINTR` when it could not be interrupted) and this one completes with `-ETIME`; otherwise
/// this one completes with `-ECANCELED`.
///
/// Memory: `ts` must stay alive until the operation completes.
#[derive(Debug, Clone, Copy)]
pub struct LinkTimeout<'a> {
    ts: &'a Timespec,
    flags: u32,
}

impl<'a> LinkTimeout<'a> {
    /// The operation code, `IORING_OP_LINK_TIMEOUT`.
    pub const CODE: u8 = IORING_OP_LINK_TIMEOUT;

    /// A limit of `ts` (a delay, unless [`absolute`](LinkTimeout::absolute)).
    /// See `io_uring_prep_link_timeout(3)` (Linux 5.5).
    #[inline]
    pub const fn new(ts: &'a Timespec) -> Self {
        LinkTimeout { ts, flags: 0 }
    }

    flag_setters! {
        /// `IORING_TIMEOUT_ABS`: `ts` is an absolute time.
        absolute;
        /// Measures against `clock`.
        clock;
    }

    /// The entry. See the type's docs for the memory that must outlive it.
    /// Encodes `IORING_OP_LINK_TIMEOUT`.
    #[inline]
    pub fn build(self) -> Sqe {
        let mut sqe = prep_rw(Self::CODE, -1, self.ts.addr(), 1, 0);
        sqe.0.op_flags.timeout_flags = self.flags;
        sqe
    }
}

/// [`LinkTimeout`] with `IORING_TIMEOUT_IMMEDIATE_ARG`: the time travels in the entry
/// (nanoseconds in `sqe.addr`) (no liburing helper; Linux 7.1, refused with `-EINVAL` before).
///
#[doc = safe_entry_doc!()]
#[derive(Debug, Clone, Copy)]
pub struct LinkTimeoutImmediate {
    ns: u64,
    flags: u32,
}

impl LinkTimeoutImmediate {
    /// The operation code, `IORING_OP_LINK_TIMEOUT`.
    pub const CODE: u8 = IORING_OP_LINK_TIMEOUT;

    /// A limit of `time`. Refuses a time beyond `i64::MAX` nanoseconds.
    /// (`IORING_OP_LINK_TIMEOUT` with `IORING_TIMEOUT_IMMEDIATE_ARG`.)
    #[inline]
    pub fn new(time: Duration) -> crate::Result<Self> {
        Ok(LinkTimeoutImmediate { ns: immediate_ns(time)?, flags: 0 })
    }

    flag_setters! {
        /// As [`LinkTimeout::absolute`].
        absolute;
        /// Measures against `clock`.
        clock;
    }

    /// The entry.
    #[inline]
    pub const fn build(self) -> SafeSqe {
        let mut sqe = prep_rw(Self::CODE, -1, self.ns, 1, 0);
        sqe.0.op_flags.timeout_flags = self.flags | IORING_TIMEOUT_IMMEDIATE_ARG;
        SafeSqe::new(sqe)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::op::test_util::{check, Fields};

    #[test]
    fn timeout() {
        let ts = Timespec::new(1, 5);
        check(&[(
            "timeout",
            Timeout::new(&ts).count(3).build(),
            Fields { opcode: IORING_OP_TIMEOUT, fd: -1, addr: ts.addr(), len: 1, off: 3, ..Default::default() },
        )]);
    }

    #[test]
    fn timeout_flags_and_clock() {
        let ts = Timespec::new(1, 5);
        check(&[
            (
                "timeout flags and clock",
                Timeout::new(&ts).absolute().etime_success().clock(TimeoutClock::Realtime).build(),
                Fields {
                    opcode: IORING_OP_TIMEOUT,
                    fd: -1,
                    addr: ts.addr(),
                    len: 1,
                    op_flags: IORING_TIMEOUT_ABS | IORING_TIMEOUT_ETIME_SUCCESS | IORING_TIMEOUT_REALTIME,
                    ..Default::default()
                },
            ),
            (
                "timeout flags and clock #2",
                Timeout::new(&ts).multishot(4).clock(TimeoutClock::Boottime).build(),
                Fields {
                    opcode: IORING_OP_TIMEOUT,
                    fd: -1,
                    addr: ts.addr(),
                    len: 1,
                    off: 4,
                    op_flags: IORING_TIMEOUT_MULTISHOT | IORING_TIMEOUT_BOOTTIME,
                    ..Default::default()
                },
            ),
        ]);
    }

    #[test]
    fn timeout_immediate() {
        assert!(TimeoutImmediate::new(Duration::from_nanos(i64::MAX as u64)).is_ok());
        assert!(TimeoutImmediate::new(Duration::from_nanos(i64::MAX as u64 + 1)).is_err());
        assert!(TimeoutImmediate::new(Duration::MAX).is_err());
        check(&[
            (
                "timeout immediate",
                TimeoutImmediate::new(Duration::new(2, 7)).unwrap().count(1).etime_success().build().into(),
                Fields {
                    opcode: IORING_OP_TIMEOUT,
                    fd: -1,
                    addr: 2_000_000_007,
                    len: 1,
                    off: 1,
                    op_flags: IORING_TIMEOUT_IMMEDIATE_ARG | IORING_TIMEOUT_ETIME_SUCCESS,
                    ..Default::default()
                },
            ),
            (
                "timeout immediate #2",
                TimeoutImmediate::new(Duration::from_nanos(9)).unwrap().absolute().multishot(0).build().into(),
                Fields {
                    opcode: IORING_OP_TIMEOUT,
                    fd: -1,
                    addr: 9,
                    len: 1,
                    op_flags: IORING_TIMEOUT_IMMEDIATE_ARG | IORING_TIMEOUT_ABS | IORING_TIMEOUT_MULTISHOT,
                    ..Default::default()
                },
            ),
        ]);
    }

    #[test]
    fn timeout_remove() {
        check(&[(
            "timeout remove",
            TimeoutRemove::new(42).build().into(),
            Fields { opcode: IORING_OP_TIMEOUT_REMOVE, fd: -1, addr: 42, ..Default::default() },
        )]);
    }

    #[test]
    fn timeout_update() {
        let ts = Timespec::new(3, 0);
        check(&[
            (
                "timeout update",
                TimeoutUpdate::new(&ts, 42).absolute().build(),
                Fields {
                    opcode: IORING_OP_TIMEOUT_REMOVE,
                    fd: -1,
                    addr: 42,
                    off: ts.addr(),
                    op_flags: IORING_TIMEOUT_UPDATE | IORING_TIMEOUT_ABS,
                    ..Default::default()
                },
            ),
            (
                "timeout update #2",
                TimeoutUpdate::new(&ts, 43).link().build(),
                Fields {
                    opcode: IORING_OP_TIMEOUT_REMOVE,
                    fd: -1,
                    addr: 43,
                    off: ts.addr(),
                    op_flags: IORING_TIMEOUT_UPDATE | IORING_LINK_TIMEOUT_UPDATE,
                    ..Default::default()
                },
            ),
        ]);
    }

    #[test]
    fn timeout_update_immediate() {
        assert!(TimeoutUpdateImmediate::new(Duration::MAX, 1).is_err());
        check(&[(
            "timeout update immediate",
            TimeoutUpdateImmediate::new(Duration::from_millis(5), 42).unwrap().link().build().into(),
            Fields {
                opcode: IORING_OP_TIMEOUT_REMOVE,
                fd: -1,
                addr: 42,
                off: 5_000_000,
                op_flags: IORING_TIMEOUT_UPDATE | IORING_LINK_TIMEOUT_UPDATE | IORING_TIMEOUT_IMMEDIATE_ARG,
                ..Default::default()
            },
        )]);
    }

    #[test]
    fn link_timeout() {
        let ts = Timespec::new(0, 1000);
        check(&[
            (
                "link timeout",
                LinkTimeout::new(&ts).build(),
                Fields { opcode: IORING_OP_LINK_TIMEOUT, fd: -1, addr: ts.addr(), len: 1, ..Default::default() },
            ),
            (
                "link timeout #2",
                LinkTimeout::new(&ts).absolute().clock(TimeoutClock::Realtime).clock(TimeoutClock::Boottime).build(),
                Fields {
                    opcode: IORING_OP_LINK_TIMEOUT,
                    fd: -1,
                    addr: ts.addr(),
                    len: 1,
                    op_flags: IORING_TIMEOUT_ABS | IORING_TIMEOUT_BOOTTIME,
                    ..Default::default()
                },
            ),
        ]);
    }

    #[test]
    fn link_timeout_immediate() {
        check(&[(
            "link timeout immediate",
            LinkTimeoutImmediate::new(Duration::from_micros(3)).unwrap().clock(TimeoutClock::Boottime).build().into(),
            Fields {
                opcode: IORING_OP_LINK_TIMEOUT,
                fd: -1,
                addr: 3000,
                len: 1,
                op_flags: IORING_TIMEOUT_IMMEDIATE_ARG | IORING_TIMEOUT_BOOTTIME,
                ..Default::default()
            },
        )]);
    }
}
