//! Completion queue entries as typed values: [`Cqe`] (16 bytes) and [`Cqe32`] (32 bytes, on
//! `IORING_SETUP_CQE32` rings or for `IORING_CQE_F_32` entries of `IORING_SETUP_CQE_MIXED`
//! rings). See `io_uring_enter(2)`, "Completion queue entries".

use crate::error::Errno;
use bitflags::bitflags;
use uring_uapi::{io_uring_cqe, IORING_CQE_BUFFER_SHIFT, IORING_CQE_F_BUFFER};

bitflags! {
    /// The `IORING_CQE_F_*` flags of a completion (`cqe.flags`).
    ///
    /// Bits 16..32 are not flags: they carry the buffer id when [`CqeFlags::BUFFER`] is set
    /// ([`Cqe::buffer_id`]), or the timestamp type of a `SOCKET_URING_OP_TX_TIMESTAMP`
    /// completion. They are kept, so [`CqeFlags::bits`] returns the whole word.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct CqeFlags: u32 {
        /// `IORING_CQE_F_BUFFER`: a provided buffer was used; its id is in the upper 16 bits.
        const BUFFER = uring_uapi::IORING_CQE_F_BUFFER;
        /// `IORING_CQE_F_MORE`: the request (multishot, or a send with a notification to come)
        /// will post more completions.
        const MORE = uring_uapi::IORING_CQE_F_MORE;
        /// `IORING_CQE_F_SOCK_NONEMPTY`: the socket had more data after this receive.
        const SOCK_NONEMPTY = uring_uapi::IORING_CQE_F_SOCK_NONEMPTY;
        /// `IORING_CQE_F_NOTIF`: a zero-copy send's notification (the buffer is free again).
        const NOTIF = uring_uapi::IORING_CQE_F_NOTIF;
        /// `IORING_CQE_F_BUF_MORE`: an incrementally consumed buffer stays with the kernel.
        const BUF_MORE = uring_uapi::IORING_CQE_F_BUF_MORE;
        /// `IORING_CQE_F_SKIP`: a padding entry of a mixed-size CQ; the crate skips these.
        const SKIP = uring_uapi::IORING_CQE_F_SKIP;
        /// `IORING_CQE_F_32`: a 32-byte entry on a mixed-size CQ.
        const CQE_32 = uring_uapi::IORING_CQE_F_32;
        /// `IORING_CQE_F_TSTAMP_HW`: a TX timestamp completion carries a hardware timestamp.
        const TSTAMP_HW = uring_uapi::IORING_CQE_F_TSTAMP_HW;
        // Bits 16..32 carry a buffer id or timestamp type.
        const _ = !0;
    }
}

/// A completion: the `user_data` of the entry it answers, its result, and flags.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
#[repr(C)]
pub struct Cqe {
    user_data: u64,
    res: i32,
    flags: u32,
}

impl Cqe {
    /// Builds a completion from its fields (for tests and models of the kernel side).
    #[inline]
    pub const fn new(user_data: u64, res: i32, flags: u32) -> Self {
        Cqe { user_data, res, flags }
    }

    /// Copies a kernel completion.
    #[inline]
    pub const fn from_raw(raw: &io_uring_cqe) -> Self {
        Cqe { user_data: raw.user_data, res: raw.res, flags: raw.flags }
    }

    /// The `user_data` of the submission this completes.
    #[inline]
    pub const fn user_data(&self) -> u64 {
        self.user_data
    }

    /// The result: a non-negative value on success (bytes transferred, a new fd, ...), or the
    /// operation's errno.
    #[inline]
    pub fn result(&self) -> Result<u32, Errno> {
        if self.res >= 0 {
            Ok(self.res as u32)
        } else {
            Err(Errno::from_raw(self.res.wrapping_neg()))
        }
    }

    /// The raw `res` field: the result or a negated errno.
    #[inline]
    pub const fn raw_result(&self) -> i32 {
        self.res
    }

    /// The flags.
    #[inline]
    pub const fn flags(&self) -> CqeFlags {
        CqeFlags::from_bits_retain(self.flags)
    }

    /// The raw `flags` word.
    #[inline]
    pub const fn raw_flags(&self) -> u32 {
        self.flags
    }

    /// The provided buffer the operation used, if `IORING_CQE_F_BUFFER` is set.
    ///
    /// Note that a failed operation can still name a buffer (it was consumed all the same).
    #[inline]
    pub const fn buffer_id(&self) -> Option<u16> {
        if self.flags & IORING_CQE_F_BUFFER != 0 {
            Some((self.flags >> IORING_CQE_BUFFER_SHIFT) as u16)
        } else {
            None
        }
    }

    /// `IORING_CQE_F_MORE`: more completions will follow for the same request.
    #[inline]
    pub const fn more(&self) -> bool {
        self.flags & uring_uapi::IORING_CQE_F_MORE != 0
    }

    /// `IORING_CQE_F_NOTIF`: a zero-copy send notification. Its `res` is not a result: with
    /// `IORING_SEND_ZC_REPORT_USAGE` it reports whether the data was copied
    /// ([`zc_copied`](Self::zc_copied)); do not read it through [`result`](Self::result).
    #[inline]
    pub const fn is_notification(&self) -> bool {
        self.flags & uring_uapi::IORING_CQE_F_NOTIF != 0
    }

    /// For a zero-copy notification with usage reporting: whether the kernel had to copy the
    /// data after all (`IORING_NOTIF_USAGE_ZC_COPIED` in `res`).
    #[inline]
    pub const fn zc_copied(&self) -> bool {
        self.is_notification() && (self.res as u32) & uring_uapi::IORING_NOTIF_USAGE_ZC_COPIED != 0
    }
}

impl core::fmt::Debug for Cqe {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Cqe")
            .field("user_data", &self.user_data)
            .field("res", &self.res)
            .field("flags", &self.flags())
            .finish()
    }
}

/// A 32-byte completion: a [`Cqe`] and 16 bytes of extra data (`big_cqe`), for example a
/// uring_cmd's second result or a NOP's echoed values.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[repr(C)]
pub struct Cqe32 {
    cqe: Cqe,
    big: [u64; 2],
}

impl Cqe32 {
    /// Builds a big completion from its parts.
    #[inline]
    pub const fn new(cqe: Cqe, big: [u64; 2]) -> Self {
        Cqe32 { cqe, big }
    }

    /// The 16-byte part.
    #[inline]
    pub const fn cqe(&self) -> &Cqe {
        &self.cqe
    }

    /// The extra 16 bytes (`big_cqe[0..2]`); zero for a 16-byte entry of a mixed ring.
    #[inline]
    pub const fn big_cqe(&self) -> [u64; 2] {
        self.big
    }

    /// The extra 16 bytes read as a `T` (any plain 16-byte-or-smaller value type).
    #[inline]
    pub fn big_cqe_as<T: crate::util::Pod>(&self) -> T {
        crate::util::read_pod(&self.big)
    }
}

impl core::ops::Deref for Cqe32 {
    type Target = Cqe;
    fn deref(&self) -> &Cqe {
        &self.cqe
    }
}
