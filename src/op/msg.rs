//! Encoders of `IORING_OP_MSG_RING`: post a completion to another ring, or pass it a registered
//! file.

use uring_uapi::*;

use crate::op::{prep_rw, set_target, DestSlot, Fixed, Target};
use crate::sqe::FdSqe;

value_op! {
    /// `IORING_OP_MSG_RING` (`IORING_MSG_DATA`): posts a completion carrying `res` and
    /// `user_data` to another ring (`io_uring_prep_msg_ring(3)`, Linux 5.18), and with
    /// [`cqe_flags`](MsgRing::cqe_flags) chosen flags too (`io_uring_prep_msg_ring_cqe_flags(3)`,
    /// Linux 6.3).
    ///
    /// The target ring is given as [`Target`]: its fd, or a registered file slot holding it
    /// (`IOSQE_FIXED_FILE`; note that kernels up to at least 6.18 refuse to put an io_uring fd in
    /// a registered file table, so in practice the target is the ring's fd). This entry's own
    /// result is 0, or `-EOVERFLOW` when the target CQ is full, or `-EBADFD` when the target is
    /// not a ring.
    ///
    /// `IORING_MSG_RING_CQE_SKIP` (in liburing's `flags`) is refused for data messages
    /// (`EINVAL`): it is offered for passing files ([`MsgRingFd::skip_cqe`]).
    pub struct MsgRing(IORING_OP_MSG_RING) -> FdSqe {
        /// Posts a completion with result `res` and `user_data` to the ring `ring`.
        /// See `io_uring_prep_msg_ring(3)` (Linux 5.18).
        fn new(ring: Target, res: i32, user_data: u64);
        hold { flags: u32 = 0, cqe_flags: u32 = 0 }
    }
    /// The entry.
    /// Encodes `IORING_OP_MSG_RING`.
    fn build(self) {
        let mut sqe = prep_rw(Self::CODE, 0, IORING_MSG_DATA, self.res as u32, self.user_data);
        set_target(&mut sqe, self.ring);
        sqe.0.op_flags.msg_ring_flags = self.flags;
        sqe.0.file.file_index = self.cqe_flags;
        sqe
    }
}

impl MsgRing {
    /// `IORING_MSG_RING_FLAGS_PASS`: the posted completion's flags are `flags` (Linux 6.3).
    #[inline]
    #[must_use]
    pub const fn cqe_flags(mut self, flags: u32) -> Self {
        self.flags |= IORING_MSG_RING_FLAGS_PASS;
        self.cqe_flags = flags;
        self
    }
}

/// `IORING_OP_MSG_RING` (`IORING_MSG_SEND_FD`): installs a file of this ring's registered table
/// into another ring's registered table (`io_uring_prep_msg_ring_fd(3)` and
/// `io_uring_prep_msg_ring_fd_alloc(3)`, Linux 6.0).
///
/// The target ring receives a completion with `user_data` (unless
/// [`skip_cqe`](MsgRingFd::skip_cqe) is set). Its result, and this entry's own, is 0 for a given
/// slot, or the slot the kernel chose for [`DestSlot::Alloc`]; this entry fails with a negative
/// errno (e.g. `-EBADF` for an empty source slot, `-ENFILE` when the target table is full).
///
#[doc = fd_entry_doc!()]
#[derive(Debug, Clone, Copy)]
pub struct MsgRingFd {
    pub(crate) ring: Target,
    source: u32,
    dest: u32,
    user_data: u64,
    flags: u32,
}

impl MsgRingFd {
    /// The operation code, `IORING_OP_MSG_RING`.
    pub const CODE: u8 = IORING_OP_MSG_RING;

    /// Sends this ring's registered file `source` to the ring `ring`, into `dest` of its
    /// registered table: [`DestSlot::Fixed`] for a given slot, [`DestSlot::Alloc`] for a free
    /// one. [`DestSlot::Fd`] is refused: the file can only land in a registered table.
    /// See `io_uring_prep_msg_ring_fd(3)` (Linux 6.0).
    #[inline]
    pub fn new(ring: impl Into<Target>, source: Fixed, dest: DestSlot, user_data: u64) -> crate::Result<Self> {
        if matches!(dest, DestSlot::Fd) {
            return Err(crate::Error::InvalidArgument {
                what: "dest",
                reason: "a file sent to another ring goes into its registered table (DestSlot::Fixed or Alloc)",
            });
        }
        Ok(MsgRingFd { ring: ring.into(), source: source.0, dest: dest.file_index(), user_data, flags: 0 })
    }

    /// `IORING_MSG_RING_CQE_SKIP`: post no completion to the target ring (Linux 6.0).
    #[inline]
    pub const fn skip_cqe(mut self) -> Self {
        self.flags |= IORING_MSG_RING_CQE_SKIP;
        self
    }

    /// The entry.
    /// Encodes `IORING_OP_MSG_RING`.
    #[inline]
    pub const fn build(self) -> FdSqe {
        let mut sqe = prep_rw(Self::CODE, 0, IORING_MSG_SEND_FD, 0, self.user_data);
        set_target(&mut sqe, self.ring);
        sqe.0.addr3.addr3.addr3 = self.source as u64;
        sqe.0.file.file_index = self.dest;
        sqe.0.op_flags.msg_ring_flags = self.flags;
        FdSqe::new(sqe)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::op::test_util::{check, Fields};

    #[test]
    fn msg_ring() {
        check(&[(
            "msg ring",
            MsgRing::new(Target::raw(8), 17, 0xabc).build().into(),
            Fields {
                opcode: IORING_OP_MSG_RING,
                fd: 8,
                addr: IORING_MSG_DATA,
                len: 17,
                off: 0xabc,
                ..Default::default()
            },
        )]);
    }

    #[test]
    fn msg_ring_cqe_flags_fixed() {
        check(&[(
            "msg ring cqe flags fixed",
            MsgRing::new(Fixed(1), -5, 2).cqe_flags(0x8000_0001).build().into(),
            Fields {
                opcode: IORING_OP_MSG_RING,
                flags: IOSQE_FIXED_FILE,
                fd: 1,
                len: -5i32 as u32,
                off: 2,
                op_flags: IORING_MSG_RING_FLAGS_PASS,
                file: 0x8000_0001,
                ..Default::default()
            },
        )]);
    }

    #[test]
    fn msg_ring_fd() {
        check(&[(
            "msg ring fd",
            MsgRingFd::new(Target::raw(8), Fixed(3), DestSlot::Fixed(5), 99).unwrap().build().into(),
            Fields {
                opcode: IORING_OP_MSG_RING,
                fd: 8,
                addr: IORING_MSG_SEND_FD,
                off: 99,
                file: 6,
                addr3: 3,
                ..Default::default()
            },
        )]);
    }

    #[test]
    fn msg_ring_fd_alloc_skip() {
        assert!(MsgRingFd::new(Target::raw(8), Fixed(3), DestSlot::Fd, 1).is_err());
        check(&[(
            "msg ring fd alloc skip",
            MsgRingFd::new(Fixed(0), Fixed(3), DestSlot::Alloc, 1).unwrap().skip_cqe().build().into(),
            Fields {
                opcode: IORING_OP_MSG_RING,
                flags: IOSQE_FIXED_FILE,
                fd: 0,
                addr: IORING_MSG_SEND_FD,
                off: 1,
                op_flags: IORING_MSG_RING_CQE_SKIP,
                file: IORING_FILE_INDEX_ALLOC,
                addr3: 3,
                ..Default::default()
            },
        )]);
    }
}
