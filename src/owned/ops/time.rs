//! Timeouts, linked timeouts and timeout updates with owned timespecs.

use std::time::Duration;

use super::Encode;
use crate::op::{self, TimeoutClock, TimeoutFlags, Timespec};
use crate::owned::OpId;
use crate::sqe::Sqe;
use crate::Result;

/// `IORING_OP_TIMEOUT` (Linux 5.4) with an owned timespec: completes with `ETIME` when the time passes, or
/// with 0 after `count` other completions. [`TimeoutUpdate`] changes it, given its
/// [`OpId`].
#[derive(Debug)]
pub struct Timeout {
    /// The time.
    pub ts: Timespec,
    /// Completions to wait for (0: time only).
    pub count: u32,
    /// `IORING_TIMEOUT_*` options.
    pub flags: TimeoutFlags,
}

impl Timeout {
    /// A relative timeout of `d`.
    /// Pushed as `IORING_OP_TIMEOUT` (Linux 5.4).
    pub fn new(d: Duration) -> Self {
        Timeout { ts: d.into(), count: 0, flags: TimeoutFlags::empty() }
    }
}

impl Encode for Timeout {
    #[inline]
    fn sqe(&mut self) -> Result<Sqe> {
        Ok(op::Timeout::new(&self.ts).count(self.count).flags(self.flags).build())
    }
}

/// `IORING_OP_LINK_TIMEOUT`: bounds the time of the operation linked before it. Push it as the
/// last link of a chain ([`OwnedRing::push_chain`](crate::owned::OwnedRing::push_chain)). If
/// the time passes first, the linked operation is cancelled and this completes with `ETIME`;
/// otherwise this completes with `ECANCELED`. `io_uring_prep_link_timeout(3)`, Linux 5.5.
///
/// A read that gives up after 20 ms when nothing arrives: in even rounds the data is there,
/// the read completes and the timeout is cancelled; in odd rounds the timeout fires and
/// cancels the read. Either way both links come back, with their memory.
///
/// ```
/// # std::thread::spawn(|| { // a watchdog: a hang fails fast, naming the example
/// #     std::thread::sleep(std::time::Duration::from_secs(60));
/// #     eprintln!("HANG in the LinkTimeout example: no completion after 60 s");
/// #     std::process::abort();
/// # });
/// use std::io::Write;
/// use std::os::unix::net::UnixStream;
/// use std::sync::Arc;
/// use std::time::Duration;
/// use uring::owned::{Fd, LinkTimeout, OwnedOp, OwnedRing, Read};
/// use uring::Errno;
///
/// let mut ring = OwnedRing::new(4)?;
/// let (mut tx, rx) = UnixStream::pair()?;
/// let rx = Arc::new(rx);
/// for round in 0..6 {
///     if round % 2 == 0 {
///         tx.write_all(b"ping")?;
///     }
///     let read = Read::new(Fd::shared(rx.clone()), vec![0; 16], u64::MAX);
///     let chain = [OwnedOp::from(read), LinkTimeout::new(Duration::from_millis(20)).into()];
///     let ids = ring.push_chain(chain, false)?;
///     for _ in 0..2 {
///         let c = ring.wait()?;
///         if c.id() == Some(ids[0]) {
///             let expect = if round % 2 == 0 { Ok(4) } else { Err(Errno::CANCELED) };
///             assert_eq!(c.result(), expect);
///             let read: Read = c.into_op().expect("the read");
///             assert_eq!(read.buf.len(), 16);
///         } else {
///             let expect = if round % 2 == 0 { Err(Errno::CANCELED) } else { Err(Errno::TIME) };
///             assert_eq!(c.result(), expect);
///         }
///     }
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct LinkTimeout {
    /// The time.
    pub ts: Timespec,
    /// `IORING_TIMEOUT_ABS` (Linux 5.5): `ts` is an absolute time on the clock.
    pub absolute: bool,
    /// The clock.
    pub clock: TimeoutClock,
}

impl LinkTimeout {
    /// A limit of `d`.
    /// Pushed as `IORING_OP_LINK_TIMEOUT` (Linux 5.5).
    pub fn new(d: Duration) -> Self {
        LinkTimeout { ts: d.into(), absolute: false, clock: TimeoutClock::Monotonic }
    }
}

impl Encode for LinkTimeout {
    #[inline]
    fn sqe(&mut self) -> Result<Sqe> {
        let mut b = op::LinkTimeout::new(&self.ts).clock(self.clock);
        if self.absolute {
            b = b.absolute();
        }
        Ok(b.build())
    }
}

/// `IORING_OP_TIMEOUT_REMOVE` with `IORING_TIMEOUT_UPDATE` (Linux 5.11): re-arms the timeout submitted with
/// `user_data` to expire after `ts`. The result is 0, or `ENOENT` when no such timeout is
/// armed.
#[derive(Debug)]
pub struct TimeoutUpdate {
    /// The new time.
    pub ts: Timespec,
    /// The `user_data` of the timeout to update.
    pub user_data: u64,
    /// `IORING_TIMEOUT_ABS` (Linux 5.5): `ts` is an absolute time.
    pub absolute: bool,
    /// `IORING_LINK_TIMEOUT_UPDATE` (Linux 5.15): the target is a linked timeout.
    pub link: bool,
}

impl TimeoutUpdate {
    /// Re-arms the owned [`Timeout`](super::Timeout) (or [`LinkTimeout`], with `link` set)
    /// in flight as `target` to expire after `d`.
    /// Pushed as `IORING_OP_TIMEOUT_REMOVE` with `IORING_TIMEOUT_UPDATE` (Linux 5.11).
    pub fn new(target: OpId, d: Duration) -> Self {
        TimeoutUpdate::for_user_data(target.user_data(), d)
    }

    /// Re-arms the timeout submitted with `user_data` (a raw-layer timeout).
    /// Pushed as `IORING_OP_TIMEOUT_REMOVE` with `IORING_TIMEOUT_UPDATE` (Linux 5.11).
    pub fn for_user_data(user_data: u64, d: Duration) -> Self {
        TimeoutUpdate { ts: d.into(), user_data, absolute: false, link: false }
    }
}

impl Encode for TimeoutUpdate {
    #[inline]
    fn sqe(&mut self) -> Result<Sqe> {
        let mut b = op::TimeoutUpdate::new(&self.ts, self.user_data);
        if self.absolute {
            b = b.absolute();
        }
        if self.link {
            b = b.link();
        }
        Ok(b.build())
    }
}
