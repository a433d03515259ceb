//! Completion queue entries as typed values: [`Cqe`] (16 bytes, Linux 5.1) and [`Cqe32`] (32
//! bytes, on `IORING_SETUP_CQE32` rings, Linux 5.19, or for `IORING_CQE_F_32` entries of
//! `IORING_SETUP_CQE_MIXED` rings, Linux 6.18). See `io_uring_enter(2)`, "Completion queue entries".

use crate::error::Errno;
use bitflags::bitflags;
use uring_uapi::{io_uring_cqe, IORING_CQE_BUFFER_SHIFT, IORING_CQE_F_BUFFER};

bitflags! {
    /// The `IORING_CQE_F_*` flags of a completion (`cqe.flags`).
    ///
    /// Bits 16..32 are not flags: they carry the buffer id when [`CqeFlags::BUFFER`] is set
    /// ([`Cqe::buffer_id`]), or the timestamp type of a `SOCKET_URING_OP_TX_TIMESTAMP`
    /// completion. They are kept, so [`CqeFlags::bits`] returns the whole word.
    ///
    /// `Debug` reads the word as the kernel means it: with `BUFFER` set, bits 16..32 are the
    /// buffer id, printed as `bid=<n>` after the names of the flags below bit 16
    /// (`CqeFlags(BUFFER | MORE, bid=1)`), so bit 16 of an id is never shown as `TSTAMP_HW`;
    /// without `BUFFER`, every named flag is printed, `TSTAMP_HW` included, and the bits no
    /// name covers follow in hex (`CqeFlags(MORE | TSTAMP_HW | 0x60000)`). No bits print as
    /// `CqeFlags(empty)`.
    /// `cqe.flags` exists since Linux 5.1; each flag's doc gives its first version.
    #[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct CqeFlags: u32 {
        /// `IORING_CQE_F_BUFFER` (Linux 5.7): a provided buffer was used; its id is in the upper 16 bits.
        const BUFFER = uring_uapi::IORING_CQE_F_BUFFER;
        /// `IORING_CQE_F_MORE` (Linux 5.13): the request (multishot, or a send with a notification to come)
        /// will post more completions.
        const MORE = uring_uapi::IORING_CQE_F_MORE;
        /// `IORING_CQE_F_SOCK_NONEMPTY` (Linux 5.19): the socket had more data after this receive.
        const SOCK_NONEMPTY = uring_uapi::IORING_CQE_F_SOCK_NONEMPTY;
        /// `IORING_CQE_F_NOTIF` (Linux 6.0): a zero-copy send's notification (the buffer is free again).
        const NOTIF = uring_uapi::IORING_CQE_F_NOTIF;
        /// `IORING_CQE_F_BUF_MORE` (Linux 6.12): an incrementally consumed buffer stays with the kernel.
        const BUF_MORE = uring_uapi::IORING_CQE_F_BUF_MORE;
        /// `IORING_CQE_F_SKIP`: a padding entry of a mixed-size CQ; the crate skips these.
        /// (Linux 6.18, with `IORING_SETUP_CQE_MIXED`.)
        const SKIP = uring_uapi::IORING_CQE_F_SKIP;
        /// `IORING_CQE_F_32` (Linux 6.18): a 32-byte entry on a mixed-size CQ.
        const CQE_32 = uring_uapi::IORING_CQE_F_32;
        /// `IORING_CQE_F_TSTAMP_HW`: a TX timestamp completion carries a hardware timestamp.
        /// (Linux 6.16, with `SOCKET_URING_OP_TX_TIMESTAMP`.)
        const TSTAMP_HW = uring_uapi::IORING_CQE_F_TSTAMP_HW;
        // Bits 16..32 carry a buffer id or timestamp type.
        const _ = !0;
    }
}

impl core::fmt::Debug for CqeFlags {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let bits = self.bits();
        let has_bid = bits & IORING_CQE_F_BUFFER != 0;
        // With a buffer id, only bits below it are flags.
        let mut rest = if has_bid { bits & ((1 << IORING_CQE_BUFFER_SHIFT) - 1) } else { bits };
        f.write_str("CqeFlags(")?;
        let mut first = true;
        let mut sep = |f: &mut core::fmt::Formatter<'_>| {
            let s = if first { "" } else { " | " };
            first = false;
            f.write_str(s)
        };
        for flag in <Self as bitflags::Flags>::FLAGS {
            let b = flag.value().bits();
            // `const _` has no name; a named flag is printed when all its bits are set.
            if flag.name().is_empty() || b == 0 || rest & b != b {
                continue;
            }
            sep(f)?;
            f.write_str(flag.name())?;
            rest &= !b;
        }
        if rest != 0 {
            sep(f)?;
            write!(f, "{rest:#x}")?;
        }
        if has_bid {
            f.write_str(", ")?;
            write!(f, "bid={}", bits >> IORING_CQE_BUFFER_SHIFT)?;
        } else if first {
            f.write_str("empty")?;
        }
        f.write_str(")")
    }
}

/// A completion: the `user_data` of the entry it answers, its result, and flags.
/// The kernel's `struct io_uring_cqe` (Linux 5.1).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
#[repr(C)]
pub struct Cqe {
    user_data: u64,
    res: i32,
    flags: u32,
}

impl Cqe {
    /// Builds a completion from its fields (for tests and models of the kernel side).
    /// The fields of `struct io_uring_cqe`.
    #[inline]
    pub const fn new(user_data: u64, res: i32, flags: u32) -> Self {
        Cqe { user_data, res, flags }
    }

    /// Copies a kernel completion.
    /// (`struct io_uring_cqe`.)
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
    ///
    /// Only `res` in `-4095..=-1` is an errno (the kernel's `MAX_ERRNO` is 4095). A `res` below
    /// `-4095` (such as `-4096` or `i32::MIN`) is never posted by the kernel for a failed
    /// operation; it can only be a result someone chose (an `IORING_OP_MSG_RING` data message, a
    /// completion made with [`Cqe::new`]). It gives `Err(`[`Errno::NOT_AN_ERRNO`]`)`, which is
    /// no errno and so is not mistaken for one the kernel reported; [`raw_result`](Self::raw_result)
    /// still has the value. Never panics.
    ///
    /// ```
    /// use uring::{Cqe, Errno};
    /// assert_eq!(Cqe::new(0, 5, 0).result(), Ok(5));
    /// assert_eq!(Cqe::new(0, -libc::EAGAIN, 0).result(), Err(Errno::AGAIN));
    /// assert_eq!(Cqe::new(0, -4096, 0).result(), Err(Errno::NOT_AN_ERRNO));
    /// ```
    #[inline]
    pub fn result(&self) -> Result<u32, Errno> {
        if self.res >= 0 {
            Ok(self.res as u32)
        } else if self.res >= -Errno::MAX_ERRNO {
            Err(Errno::from_raw(-self.res))
        } else {
            Err(Errno::NOT_AN_ERRNO)
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

    /// The provided buffer the operation used, if `IORING_CQE_F_BUFFER` (Linux 5.7) is set.
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

    /// `IORING_CQE_F_MORE` (Linux 5.13): more completions will follow for the same request.
    #[inline]
    pub const fn more(&self) -> bool {
        self.flags & uring_uapi::IORING_CQE_F_MORE != 0
    }

    /// `IORING_CQE_F_NOTIF` (Linux 6.0): a zero-copy send notification. Its `res` is not a result: with
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
/// On `IORING_SETUP_CQE32` rings (Linux 5.19), and for entries with `IORING_CQE_F_32` on
/// `IORING_SETUP_CQE_MIXED` rings (Linux 6.18).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[repr(C)]
pub struct Cqe32 {
    cqe: Cqe,
    big: [u64; 2],
}

impl Cqe32 {
    /// Builds a big completion from its parts.
    /// (`struct io_uring_cqe` with `big_cqe`.)
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

#[cfg(test)]
mod tests {
    use super::*;
    use uring_uapi::*;

    #[test]
    fn result_maps_only_kernel_errnos() {
        let r = |res| Cqe::new(0, res, 0).result();
        assert_eq!(r(0), Ok(0));
        assert_eq!(r(i32::MAX), Ok(i32::MAX as u32));
        assert_eq!(r(-1), Err(Errno::PERM));
        assert_eq!(r(-4095), Err(Errno::from_raw(4095)));
        assert!(r(-4095).unwrap_err().is_kernel_errno());
        for res in [-4096, -4097, -100_000, i32::MIN + 1, i32::MIN] {
            let e = r(res).unwrap_err();
            assert_eq!(e, Errno::NOT_AN_ERRNO, "{res}");
            assert!(!e.is_kernel_errno());
            assert_eq!(e.to_string(), "not an errno (a completion result below -4095, which the kernel never reports)");
            assert_eq!(format!("{e:?}"), "Errno(NOT_AN_ERRNO)");
            let io: std::io::Error = e.into();
            assert_eq!((io.kind(), io.raw_os_error()), (std::io::ErrorKind::InvalidData, None), "{res}");
            assert_eq!(Cqe::new(0, res, 0).raw_result(), res, "the raw value is kept");
        }
        // Errnos still convert as before.
        let io: std::io::Error = r(-libc::EAGAIN).unwrap_err().into();
        assert_eq!(io.raw_os_error(), Some(libc::EAGAIN));
        assert!(!r(-4095).unwrap_err().to_string().contains("not an errno"));
    }

    #[test]
    fn flags_debug_reads_buffer_ids_as_ids() {
        let d = |bits: u32| format!("{:?}", CqeFlags::from_bits_retain(bits));
        let buf = IORING_CQE_F_BUFFER;
        // Buffer id 1 sets bit 16, the bit TSTAMP_HW shares.
        assert_eq!(d(buf | (1 << IORING_CQE_BUFFER_SHIFT)), "CqeFlags(BUFFER, bid=1)");
        assert_eq!(d(buf | IORING_CQE_F_MORE | (5 << IORING_CQE_BUFFER_SHIFT)), "CqeFlags(BUFFER | MORE, bid=5)");
        assert_eq!(d(buf | (0xffff << IORING_CQE_BUFFER_SHIFT)), "CqeFlags(BUFFER, bid=65535)");
        assert_eq!(d(buf), "CqeFlags(BUFFER, bid=0)");
        assert_eq!(
            d(buf | IORING_CQE_F_SOCK_NONEMPTY | IORING_CQE_F_BUF_MORE | (3 << IORING_CQE_BUFFER_SHIFT)),
            "CqeFlags(BUFFER | SOCK_NONEMPTY | BUF_MORE, bid=3)"
        );
        assert_eq!(
            d(buf | 0x4000 | (2 << IORING_CQE_BUFFER_SHIFT)),
            "CqeFlags(BUFFER | 0x4000, bid=2)",
            "unnamed low bit"
        );
        // Without BUFFER, bit 16 is TSTAMP_HW and higher bits (a timestamp type) print in hex.
        assert_eq!(d(IORING_CQE_F_TSTAMP_HW), "CqeFlags(TSTAMP_HW)");
        assert_eq!(
            d(IORING_CQE_F_MORE | IORING_CQE_F_TSTAMP_HW | (3 << IORING_TIMESTAMP_TYPE_SHIFT)),
            "CqeFlags(MORE | TSTAMP_HW | 0x60000)"
        );
        assert_eq!(d(IORING_CQE_F_NOTIF), "CqeFlags(NOTIF)");
        assert_eq!(d(IORING_CQE_F_SKIP | IORING_CQE_F_32), "CqeFlags(SKIP | CQE_32)");
        assert_eq!(d(0), "CqeFlags(empty)");
        assert_eq!(d(1 << 20), "CqeFlags(0x100000)");
        // Cqe's Debug uses it.
        let c = Cqe::new(7, 3, buf | (1 << IORING_CQE_BUFFER_SHIFT));
        assert_eq!(format!("{c:?}"), "Cqe { user_data: 7, res: 3, flags: CqeFlags(BUFFER, bid=1) }");
        let c32 = Cqe32::new(c, [1, 2]);
        assert!(format!("{c32:?}").contains("CqeFlags(BUFFER, bid=1)"));
    }
}
