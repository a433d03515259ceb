//! Encoders: one per kernel operation (`IORING_OP_*`, from Linux 5.1 on), each turning typed
//! arguments into an [`Sqe`].
//!
//! Encoders never touch a ring. Every one is built on [`prep_rw`], the single primitive that
//! fills the fields common to all operations (opcode, fd, address, length, offset), the way
//! liburing's `io_uring_prep_rw` does; each encoder's doc names the liburing helper and man page
//! it mirrors (`io_uring_prep_*(3)`) and the first kernel that supports the operation.
//!
//! Entries that point at no caller memory are returned as [`SafeSqe`] and push without `unsafe`;
//! those that point at no memory but name a file descriptor are [`FdSqe`](crate::FdSqe)s, whose
//! push is `unsafe` ([`push_fd`](crate::SubmissionQueue::push_fd): the fd stays open until the
//! completion). Files are named by [`Target`]: a borrowed file, a registered slot, or (with
//! `unsafe`) a raw number.
//!
//! ## Layout
//!
//! | file | operations |
//! |---|---|
//! | `mod.rs` | [`prep_rw`], [`Nop`], [`Nop128`] |
//! | `types.rs` | [`Target`], [`Fixed`], [`DestSlot`], [`BufferGroup`], [`Timespec`] |
//! | `macros.rs` | `value_op!`, the one declaration behind the value-only encoders |
//! | `rw.rs` | read, write, vectored, registered-buffer and multishot reads and writes |
//! | `fs/` | sync and space (`sync.rs`), open/close/statx (`open.rs`), path operations (`path.rs`), extended attributes (`xattr.rs`) |
//! | `net/` | addresses (`addr.rs`), socket setup (`socket.rs`), sends (`send.rs`), receives (`recv.rs`) |
//! | `poll.rs`, `time.rs`, `cancel.rs`, `msg.rs`, `futex.rs` | polls, timeouts, cancellation, `MSG_RING`, futexes |
//! | `misc.rs` | legacy provided buffers, splice/tee/pipe, file table updates, epoll, waitid |
//! | `uring_cmd.rs` | the generic `IORING_OP_URING_CMD` encoders (typed commands are in [`cmd`](crate::cmd)) |
//!
//! Value-only encoders (their builder holds plain values: fsync, listen, poll removal, ...) are
//! declared with one macro, `value_op!`, as io-uring's `opcode!` does; encoders whose entries
//! point at memory are written by hand, because their lifetimes carry the contract.
//!
//! ## Lengths
//!
//! An entry holds buffer lengths and element counts in 32-bit fields (`sqe.len`,
//! `sqe.optlen`). A slice longer than `u32::MAX` bytes (or elements) is refused with
//! [`Error::InvalidArgument`](crate::Error::InvalidArgument) naming the argument, never cut to
//! fit: a cut length is another request (a write of fewer bytes than given, an xattr value
//! truncated, a vectored transfer over fewer buffers), so every constructor that takes such a
//! slice returns `Result<Self>`, like any other constructor that can refuse its input. Lengths
//! given as `u32` (a `len(u32)` setter, [`Read::selected`]) are passed as they are.
//!
//! ## Bits the kernel refuses
//!
//! Builders offer only the flags the kernel accepts for their operation; where a field has
//! bits that the kernel defines but refuses for this operation (reserved `rw_flags`, update
//! flags of another form, clock bits on an update), the builder leaves them out and its docs
//! say so: fsync, poll update, timeout, timeout removal and update, socket, `MSG_RING` data
//! messages, the futex operations, epoll wait and waitid (each refusal is checked against the
//! running kernel by `tests/refused_bits.rs`). Raw values still reach any field through
//! [`Sqe::as_raw_mut`].

use crate::sqe::{SafeSqe, SafeSqe128, Sqe, Sqe128};
use uring_uapi::*;

#[macro_use]
mod macros;
mod types;
pub use types::*;

// Operation families (each file owns its encoders, their unit tests and docs).
mod cancel;
mod fs;
mod futex;
mod misc;
mod msg;
mod net;
mod poll;
mod rw;
#[cfg(test)]
pub(crate) mod test_util;
mod time;
mod uring_cmd;
pub use cancel::*;
pub use fs::*;
pub use futex::*;
pub use misc::*;
pub use msg::*;
pub use net::*;
pub use poll::*;
pub use rw::*;
pub use time::*;
pub use uring_cmd::*;

/// A buffer length or element count for a 32-bit entry field, refused past `u32::MAX` (see
/// "Lengths" in the module docs): `what` names the argument in the error.
#[inline]
pub(crate) fn len32(len: usize, what: &'static str) -> crate::Result<u32> {
    u32::try_from(len).map_err(|_| crate::Error::InvalidArgument {
        what,
        reason: "longer than u32::MAX bytes or elements: an entry's length field is 32 bits",
    })
}

/// Fills the fields every operation shares: `opcode`, `fd`, `addr`, `len` and `off`; everything
/// else is zero (liburing's `io_uring_prep_rw`).
/// Linux 5.1.
#[inline]
pub const fn prep_rw(opcode: u8, fd: i32, addr: u64, len: u32, off: u64) -> Sqe {
    // Every field spelled out (as `Nop::build` does) instead of a copy of `ZERO_SQE` patched
    // afterwards: the compiler then stores the entry as a few wide stores, and the encoders'
    // patches replace stores rather than landing on a split-up copy of the zero constant. The last
    // 16 bytes are zeroed through `cmd`, the byte-array member the uring_cmd payload is copied
    // into: through any other member, that encoder built the entry on the stack first.
    Sqe(io_uring_sqe {
        opcode,
        flags: 0,
        ioprio: 0,
        fd,
        off: io_uring_sqe_off { off },
        addr: io_uring_sqe_addr { addr },
        len,
        op_flags: io_uring_sqe_op_flags { rw_flags: 0 },
        user_data: 0,
        buf: io_uring_sqe_buf { buf_index: 0 },
        personality: 0,
        file: io_uring_sqe_file { file_index: 0 },
        addr3: io_uring_sqe_addr3 { cmd: [0; 16] },
    })
}

/// The `IOSQE_*` flag `target` needs: `IOSQE_FIXED_FILE` for a registered slot, else none.
#[inline]
pub(crate) const fn target_flags(target: Target) -> u8 {
    if target.is_fixed() {
        IOSQE_FIXED_FILE
    } else {
        0
    }
}

/// Points `sqe` at `target`: `sqe.fd`, plus `IOSQE_FIXED_FILE` for a registered slot.
#[inline]
pub(crate) const fn set_target(sqe: &mut Sqe, target: Target) {
    sqe.0.fd = target.sqe_fd();
    sqe.0.flags |= target_flags(target);
}

/// Selects a buffer from `group` (`IOSQE_BUFFER_SELECT` + `sqe.buf_group`), refusing
/// kernel-managed groups: only their kernel consumer selects from them, and an entry that
/// selects from one (a read, a receive, a uring_cmd) burns a buffer with `EFAULT`.
#[inline]
pub(crate) fn set_buffer_select(sqe: &mut Sqe, group: &impl BufferGroup) -> crate::Result<()> {
    if group.is_kernel_managed() {
        return Err(crate::Error::InvalidArgument {
            what: "buffer group",
            reason: "a kernel-managed (kmbuf) group serves only its kernel consumer; an entry selecting from it fails with EFAULT and burns a buffer",
        });
    }
    sqe.0.flags |= IOSQE_BUFFER_SELECT;
    sqe.0.buf.buf_group = group.bgid();
    Ok(())
}

/// `IORING_OP_NOP`: completes with result 0 and does nothing else (`io_uring_prep_nop(3)`,
/// Linux 5.1). The `IORING_NOP_*` options (Linux 6.12+) shape the completion, for testing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Nop {
    nop_flags: u32,
    res: i32,
    extra: [u64; 2],
}

impl Nop {
    /// The operation code, `IORING_OP_NOP`.
    pub const CODE: u8 = IORING_OP_NOP;

    /// A no-op.
    /// See `io_uring_prep_nop(3)` (Linux 5.1).
    #[inline]
    pub const fn new() -> Self {
        Nop { nop_flags: 0, res: 0, extra: [0; 2] }
    }

    /// `IORING_NOP_INJECT_RESULT`: complete with `res` (a negative value is an errno).
    #[inline]
    pub const fn inject_result(mut self, res: i32) -> Self {
        self.nop_flags |= IORING_NOP_INJECT_RESULT;
        self.res = res;
        self
    }

    /// `IORING_NOP_TW`: complete through task work rather than inline.
    #[inline]
    pub const fn task_work(mut self) -> Self {
        self.nop_flags |= IORING_NOP_TW;
        self
    }

    /// `IORING_NOP_CQE32`: post a 32-byte completion whose extra data is `extra` (needs a
    /// `CQE32` or `CQE_MIXED` ring; Linux 6.18).
    #[inline]
    pub const fn cqe32(mut self, extra: [u64; 2]) -> Self {
        self.nop_flags |= IORING_NOP_CQE32;
        self.extra = extra;
        self
    }

    /// The entry.
    /// Encodes `IORING_OP_NOP`.
    #[inline]
    pub const fn build(self) -> SafeSqe {
        // What `prep_rw(IORING_OP_NOP, -1, extra[1], res, extra[0])` gives, spelled out field by
        // field rather than copied from a zero entry: the entry then reaches the ring as a few
        // wide constant stores instead of a copy of the zero constant's pieces.
        SafeSqe::new(Sqe(io_uring_sqe {
            opcode: IORING_OP_NOP,
            flags: 0,
            ioprio: 0,
            fd: -1,
            off: io_uring_sqe_off { off: self.extra[0] },
            addr: io_uring_sqe_addr { addr: self.extra[1] },
            len: self.res as u32,
            op_flags: io_uring_sqe_op_flags { nop_flags: self.nop_flags },
            user_data: 0,
            buf: io_uring_sqe_buf { buf_index: 0 },
            personality: 0,
            file: io_uring_sqe_file { file_index: 0 },
            addr3: io_uring_sqe_addr3 { addr3: io_uring_sqe_addr3_pad { addr3: 0, __pad2: [0] } },
        }))
    }
}

/// `IORING_OP_NOP128`: a no-op in a 128-byte entry, for `IORING_SETUP_SQE_MIXED` rings
/// (`io_uring_prep_nop128(3)`, Linux 6.19).
#[derive(Debug, Clone, Copy, Default)]
pub struct Nop128;

impl Nop128 {
    /// The operation code, `IORING_OP_NOP128`.
    pub const CODE: u8 = IORING_OP_NOP128;

    /// A 128-byte no-op.
    /// See `io_uring_prep_nop128(3)` (Linux 6.19).
    #[inline]
    pub const fn new() -> Self {
        Nop128
    }

    /// The entry.
    /// Encodes `IORING_OP_NOP128`.
    #[inline]
    pub const fn build(self) -> SafeSqe128 {
        SafeSqe128::new(Sqe128::from_parts(prep_rw(IORING_OP_NOP128, -1, 0, 0, 0), [0; 64]))
    }
}

#[cfg(test)]
mod nop_tests {
    use super::*;

    fn bytes(sqe: &Sqe) -> [u8; 64] {
        // SAFETY: an entry is 64 plain bytes, all initialised by the encoders.
        unsafe { core::mem::transmute::<io_uring_sqe, [u8; 64]>(sqe.0) }
    }

    /// The field-by-field NOP entry is byte for byte the `prep_rw` one.
    #[test]
    fn nop_matches_prep_rw() {
        for nop in [Nop::new(), Nop::new().inject_result(-5), Nop::new().task_work().cqe32([1, u64::MAX])] {
            let mut want = prep_rw(IORING_OP_NOP, -1, nop.extra[1], nop.res as u32, nop.extra[0]);
            want.0.op_flags.nop_flags = nop.nop_flags;
            assert_eq!(bytes(nop.build().sqe()), bytes(&want));
        }
        assert_eq!(
            bytes(Nop::new().build().user_data(7).sqe()),
            bytes(&prep_rw(IORING_OP_NOP, -1, 0, 0, 0).user_data(7))
        );
    }
}

#[cfg(test)]
mod prep_rw_tests {
    use super::*;
    use crate::op::test_util::fields;

    /// The field-by-field `prep_rw` entry is the zero entry with its five fields set (`fields`
    /// reads all 64 bytes).
    #[test]
    fn prep_rw_matches_patched_zero_entry() {
        let cases = [
            (0, 0, 0, 0, 0),
            (IORING_OP_READ, -1, u64::MAX, u32::MAX, u64::MAX),
            (IORING_OP_URING_CMD, 7, 0x1000, 3, 1 << 40),
        ];
        for (opcode, fd, addr, len, off) in cases {
            let mut want = Sqe::zeroed();
            want.0.opcode = opcode;
            want.0.fd = fd;
            want.0.addr.addr = addr;
            want.0.len = len;
            want.0.off.off = off;
            assert_eq!(fields(&prep_rw(opcode, fd, addr, len, off)), fields(&want));
        }
    }
}
