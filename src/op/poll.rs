//! Encoders of the poll family: arm a readiness poll on a file, remove it, update it.

use bitflags::bitflags;
use uring_uapi::*;

use crate::op::{prep_rw, set_target, Target};
use crate::sqe::{FdSqe, SafeSqe};

bitflags! {
    /// The readiness events a poll waits for and reports (`poll(2)`'s `POLL*`, plus
    /// `EPOLLEXCLUSIVE`). The completion's result is the mask of events that fired.
    /// For `IORING_OP_POLL_ADD` (Linux 5.1; the full 32-bit mask with `IORING_FEAT_POLL_32BITS`,
    /// Linux 5.9).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct PollEvents: u32 {
        /// `POLLIN`: there is data to read.
        const IN = libc::POLLIN as u16 as u32;
        /// `POLLPRI`: there is an exceptional condition (out-of-band data, ...).
        const PRI = libc::POLLPRI as u16 as u32;
        /// `POLLOUT`: writing will not block.
        const OUT = libc::POLLOUT as u16 as u32;
        /// `POLLERR`: an error condition (always reported).
        const ERR = libc::POLLERR as u16 as u32;
        /// `POLLHUP`: hang up (always reported).
        const HUP = libc::POLLHUP as u16 as u32;
        /// `POLLNVAL`: invalid request.
        const NVAL = libc::POLLNVAL as u16 as u32;
        /// `POLLRDNORM`: normal data to read.
        const RDNORM = libc::POLLRDNORM as u16 as u32;
        /// `POLLRDBAND`: priority-band data to read.
        const RDBAND = libc::POLLRDBAND as u16 as u32;
        /// `POLLWRNORM`: normal data can be written.
        const WRNORM = libc::POLLWRNORM as u16 as u32;
        /// `POLLWRBAND`: priority-band data can be written.
        const WRBAND = libc::POLLWRBAND as u16 as u32;
        /// `POLLMSG`.
        const MSG = libc::EPOLLMSG as u32;
        /// `POLLRDHUP`: the peer closed its writing side of a stream socket.
        const RDHUP = libc::POLLRDHUP as u16 as u32;
        /// `EPOLLEXCLUSIVE`: wake only one of several exclusive waiters (one-shot polls only).
        const EXCLUSIVE = libc::EPOLLEXCLUSIVE as u32;
    }
}

/// The value for `sqe.poll32_events`: the kernel reads the 32-bit mask with its 16-bit halves
/// swapped on big-endian machines (liburing's `__io_uring_prep_poll_mask`).
#[inline]
const fn poll_mask(events: PollEvents) -> u32 {
    let bits = events.bits();
    if cfg!(target_endian = "big") {
        bits.rotate_left(16)
    } else {
        bits
    }
}

value_op! {
    /// `IORING_OP_POLL_ADD`: completes when `fd` is ready for one of `events`, with the mask of
    /// ready events as the result (`io_uring_prep_poll_add(3)`, Linux 5.1).
    ///
    /// [`multishot`](PollAdd::multishot) keeps it armed, posting a completion with
    /// `IORING_CQE_F_MORE` each time (`io_uring_prep_poll_multishot(3)`, Linux 5.13). Polls are
    /// edge-triggered. Remove with [`PollRemove`], change with [`PollUpdate`] (both find the poll
    /// by its `user_data`).
    pub struct PollAdd(IORING_OP_POLL_ADD) -> FdSqe {
        /// Polls `fd` for `events`.
        /// See `io_uring_prep_poll_add(3)` (Linux 5.1).
        fn new(fd: Target, events: PollEvents);
        hold { flags: u32 = 0 }
        flags {
            /// `IORING_POLL_ADD_MULTI`: stay armed and post a completion (with
            /// `IORING_CQE_F_MORE`) on every readiness edge, until removed or failed (Linux 5.13).
            multishot: flags |= IORING_POLL_ADD_MULTI,
            /// `IORING_POLL_ADD_LEVEL`: level-triggered rather than edge-triggered. The flag is in
            /// the kernel headers, but `POLL_ADD` refuses it with `-EINVAL` (still so in Linux
            /// 6.18): the kernel uses level triggering internally only.
            level: flags |= IORING_POLL_ADD_LEVEL,
        }
    }
    /// The entry.
    /// Encodes `IORING_OP_POLL_ADD`.
    fn build(self) {
        let mut sqe = prep_rw(Self::CODE, 0, 0, self.flags, 0);
        set_target(&mut sqe, self.fd);
        sqe.0.op_flags.poll32_events = poll_mask(self.events);
        sqe
    }
}

value_op! {
    /// `IORING_OP_POLL_REMOVE`: cancels the poll whose `user_data` is given
    /// (`io_uring_prep_poll_remove(3)`, Linux 5.1). Its own result is 0, or `-ENOENT` when no
    /// such poll is armed; the removed poll completes with `-ECANCELED`.
    pub struct PollRemove(IORING_OP_POLL_REMOVE) -> SafeSqe {
        /// Removes the poll submitted with `user_data`.
        /// See `io_uring_prep_poll_remove(3)` (Linux 5.1).
        [const] fn new(user_data: u64);
    }
    /// The entry.
    /// Encodes `IORING_OP_POLL_REMOVE`.
    fn build(self) {
        prep_rw(Self::CODE, -1, self.user_data, 0, 0)
    }
}

value_op! {
    /// `IORING_OP_POLL_REMOVE` with `IORING_POLL_UPDATE_*`: changes the event mask and/or the
    /// `user_data` of an armed poll, found by its current `user_data`
    /// (`io_uring_prep_poll_update(3)`, Linux 5.13). The result is 0, or `-ENOENT` when no such
    /// poll is armed.
    ///
    /// liburing's `flags` argument lands in `sqe.len`, where the kernel accepts only
    /// `IORING_POLL_UPDATE_EVENTS`, `IORING_POLL_UPDATE_USER_DATA` and `IORING_POLL_ADD_MULTI`
    /// (anything else, `IORING_POLL_ADD_LEVEL` included, is refused with `EINVAL`): the first two
    /// come with [`events`](PollUpdate::events) and [`new_user_data`](PollUpdate::new_user_data),
    /// the third is [`multishot`](PollUpdate::multishot), and no other is offered.
    pub struct PollUpdate(IORING_OP_POLL_REMOVE) -> SafeSqe {
        /// Updates the poll submitted with `old_user_data`. Set at least one of
        /// [`events`](PollUpdate::events) and [`new_user_data`](PollUpdate::new_user_data); the
        /// kernel refuses an update that changes nothing.
        /// See `io_uring_prep_poll_update(3)` (Linux 5.13).
        [const] fn new(old_user_data: u64);
        hold { new_user_data: u64 = 0, events: PollEvents = PollEvents::empty(), flags: u32 = 0 }
        flags {
            /// `IORING_POLL_ADD_MULTI`: with [`events`](PollUpdate::events), makes the updated poll
            /// multishot.
            multishot: flags |= IORING_POLL_ADD_MULTI,
        }
    }
    /// The entry.
    /// Encodes `IORING_OP_POLL_REMOVE`.
    fn build(self) {
        let mut sqe = prep_rw(Self::CODE, -1, self.old_user_data, self.flags, self.new_user_data);
        sqe.0.op_flags.poll32_events = poll_mask(self.events);
        sqe
    }
}

impl PollUpdate {
    /// `IORING_POLL_UPDATE_EVENTS`: replaces the event mask with `events`.
    #[inline]
    #[must_use]
    pub const fn events(mut self, events: PollEvents) -> Self {
        self.flags |= IORING_POLL_UPDATE_EVENTS;
        self.events = events;
        self
    }

    /// `IORING_POLL_UPDATE_USER_DATA`: later completions of the poll carry `user_data`.
    #[inline]
    #[must_use]
    pub const fn new_user_data(mut self, user_data: u64) -> Self {
        self.flags |= IORING_POLL_UPDATE_USER_DATA;
        self.new_user_data = user_data;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::op::test_util::{check, Fields};

    #[test]
    fn poll_events_match_libc() {
        for (flag, bits) in [(PollEvents::IN, 0x1), (PollEvents::OUT, 0x4), (PollEvents::EXCLUSIVE, 1 << 28)] {
            assert_eq!(flag.bits(), bits, "{flag:?}");
        }
    }

    #[test]
    fn encodings() {
        let in_rdhup = if cfg!(target_endian = "big") { 0x2001u32.rotate_left(16) } else { 0x2001 };
        let update_all = IORING_POLL_UPDATE_EVENTS | IORING_POLL_UPDATE_USER_DATA | IORING_POLL_ADD_MULTI;
        check(&[
            (
                "poll_add",
                PollAdd::new(Target::raw(5), PollEvents::IN | PollEvents::RDHUP).build().into(),
                Fields { opcode: IORING_OP_POLL_ADD, fd: 5, op_flags: in_rdhup, ..Default::default() },
            ),
            (
                "poll_multishot, level, fixed",
                PollAdd::new(Target::fixed(3), PollEvents::OUT).multishot().level().build().into(),
                Fields {
                    opcode: IORING_OP_POLL_ADD,
                    flags: IOSQE_FIXED_FILE,
                    fd: 3,
                    len: IORING_POLL_ADD_MULTI | IORING_POLL_ADD_LEVEL,
                    op_flags: poll_mask(PollEvents::OUT),
                    ..Default::default()
                },
            ),
            (
                "poll_remove",
                PollRemove::new(0xdead_beef).build().into(),
                Fields { opcode: IORING_OP_POLL_REMOVE, fd: -1, addr: 0xdead_beef, ..Default::default() },
            ),
            (
                "poll_update of everything",
                PollUpdate::new(7).events(PollEvents::IN).new_user_data(8).multishot().build().into(),
                Fields {
                    opcode: IORING_OP_POLL_REMOVE,
                    fd: -1,
                    addr: 7,
                    off: 8,
                    len: update_all,
                    op_flags: poll_mask(PollEvents::IN),
                    ..Default::default()
                },
            ),
            (
                "poll_update of the user_data",
                PollUpdate::new(7).new_user_data(9).build().into(),
                Fields {
                    opcode: IORING_OP_POLL_REMOVE,
                    fd: -1,
                    addr: 7,
                    off: 9,
                    len: IORING_POLL_UPDATE_USER_DATA,
                    ..Default::default()
                },
            ),
        ]);
    }
}
