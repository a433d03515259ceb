//! Typed `IORING_OP_URING_CMD` commands: sockets, block devices, NVMe passthrough and
//! FUSE-over-io_uring.
//!
//! A *uring_cmd* hands a file-specific command to the driver behind a file descriptor, the way
//! `ioctl(2)` does, but asynchronously (`io_uring_prep_uring_cmd(3)`, Linux 5.19). The entry
//! carries a command number (`sqe.cmd_op`, defined by the driver) and an inline payload in the
//! entry's command area: 16 bytes in a 64-byte entry, 80 bytes in a 128-byte entry (an
//! `IORING_SETUP_SQE128` ring, or `IORING_OP_URING_CMD128` on an `IORING_SETUP_SQE_MIXED` ring,
//! Linux 6.19). Some drivers also read ordinary entry fields (`addr`, `len`, `addr3`, ...), and
//! some post 32-byte completions whose extra 16 bytes carry a second result
//! ([`Cqe32::big_cqe_as`](crate::Cqe32::big_cqe_as); needs `IORING_SETUP_CQE32` or
//! `IORING_SETUP_CQE_MIXED`).
//!
//! ## Layers
//! - Generic encoders: [`UringCmd`] (64-byte entry) and [`UringCmd128`] (128-byte entry) with
//!   `cmd_op`, a typed payload, `IORING_URING_CMD_FIXED` (registered buffer, Linux 6.1),
//!   `IORING_URING_CMD_MULTISHOT` with buffer selection (Linux 6.18; a buffer group only on a
//!   multishot command, as the kernel requires, and never a kernel-managed kmbuf group: see
//!   [`UringCmd::buf_group`]). [`uring_cmd`] and [`uring_cmd128`] do
//!   the same with the payload size checked at compile time.
//! - Payload types: any [`Pod`] value; [`pod_struct!`](crate::pod_struct) declares a
//!   `#[repr(C)]` struct and proves it is `Pod` (no padding, plain fields) without `unsafe` in the
//!   caller's code. The same types read a big completion's extra data.
//! - Ring fit: encoders never see the ring, so the checks that depend on it happen where an entry
//!   meets a ring. [`SqeLayout`] says what a ring takes; [`uring_cmd_for`] refuses an 80-byte
//!   payload for a 64-byte-SQE ring with [`Error::WrongRingKind`] instead of letting the kernel
//!   fail it later; [`SubmissionQueue::push128_raw`] / [`push128`](SubmissionQueue::push128)
//!   put a 128-byte command on an `SQE128` ring or, as `IORING_OP_URING_CMD128`, on a mixed
//!   ring, and refuse a 64-byte ring ([`PushError128::RingTooSmall`](crate::PushError128),
//!   which converts into [`Error::WrongRingKind`]); the rule is
//!   [`sq::fit128_opcode`](crate::sq::fit128_opcode). [`require_cqe32`] checks the completion
//!   side.
//! - Typed commands, one module per driver: [`socket`] (`SOCKET_URING_OP_*`), [`block`]
//!   (`BLOCK_URING_CMD_*`), [`nvme`] (`NVME_URING_CMD_*`) and [`fuse`]
//!   (`FUSE_IO_URING_CMD_*`). Commands whose driver needs a 128-byte entry (NVMe, FUSE) build
//!   [`Sqe128`]s only, so they cannot be pushed onto a 64-byte ring.
//!
//! ## Safety
//! A 64-byte command that points at no caller memory still names its file: it is an
//! [`FdSqe`], pushed with `unsafe` [`push_fd`](crate::SubmissionQueue::push_fd) (the file stays
//! open until the completion), or safely on a registered file ([`FdSqe::into_safe`]). Commands
//! whose payload or
//! fields hold addresses (socket option values, NVMe data buffers, FUSE ring buffers) are plain
//! entries: pushing them is `unsafe`, and each encoder documents what must stay alive. 128-byte
//! commands are plain [`Sqe128`]s even when they point at nothing, because pushing one onto a
//! mixed ring without fitting its opcode would make the kernel read its second half as an entry
//! of its own; [`SubmissionQueue::push128_raw`] fits it.
//!
//! ## Errors
//! Completions carry the driver's errno: a file without a `->uring_cmd` handler fails with
//! `EOPNOTSUPP`, an unknown `cmd_op` usually with `EINVAL` or `EOPNOTSUPP` (each module lists
//! its driver's errors).

use core::mem::size_of;

use crate::op::Target;
use crate::setup::SetupFlags;
use crate::sq::{fit128_opcode, SubmissionQueue};
use crate::sqe::{FdSqe, Sqe, Sqe128};
use crate::util::Pod;
use crate::{Error, Result, Ring};

pub use crate::op::{UringCmd, UringCmd128, CMD_PAYLOAD_128, CMD_PAYLOAD_64};

pub mod block;
pub mod fuse;
pub mod nvme;
pub mod socket;

/// Declares a `#[repr(C)]` struct of plain fields and implements [`Pod`](crate::Pod) for it,
/// checked at compile time: every field type must be `Pod`, and the struct must have no padding
/// (its size equals the sum of its fields' sizes; add explicit padding fields where C has them).
/// The caller writes no `unsafe`.
///
/// Such a struct can be a uring_cmd payload ([`UringCmd::payload`], [`uring_cmd128`]) or the
/// type a 32-byte completion's extra data is read as
/// ([`Cqe32::big_cqe_as`](crate::Cqe32::big_cqe_as)). `Clone` and `Copy` are derived; add other
/// derives as attributes.
///
/// ```
/// uring::pod_struct! {
///     /// A driver's 24-byte command.
///     #[derive(Debug, Default, PartialEq, Eq)]
///     pub struct MyCmd {
///         pub tag: u64,
///         pub offset: u64,
///         pub len: u32,
///         pub flags: u32,
///     }
/// }
/// let sqe = uring::cmd::uring_cmd128(uring::op::Target::fixed(3), 7, &MyCmd { tag: 1, ..Default::default() });
/// assert_eq!(uring::cmd::cmd_area128(&sqe)[0], 1);
/// ```
///
/// A struct with padding is refused at compile time:
///
/// ```compile_fail
/// uring::pod_struct! {
///     pub struct Padded { pub a: u8, pub b: u64 }
/// }
/// ```
#[macro_export]
macro_rules! pod_struct {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $($(#[$fmeta:meta])* $fvis:vis $field:ident : $fty:ty),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[repr(C)]
        #[derive(Clone, Copy)]
        $vis struct $name {
            $($(#[$fmeta])* $fvis $field: $fty),*
        }

        const _: () = {
            const fn field_is_pod<T: $crate::Pod>() {}
            $(field_is_pod::<$fty>();)*
            assert!(
                ::core::mem::size_of::<$name>() == 0 $(+ ::core::mem::size_of::<$fty>())*,
                concat!(stringify!($name), " has padding: add explicit padding fields"),
            );
        };

        // SAFETY: `repr(C)`, every field is `Pod` (checked above), and the size equals the sum of
        // the field sizes, so there is no padding: every byte is a field byte, and every bit
        // pattern of the struct is a valid value.
        unsafe impl $crate::Pod for $name {}
    };
}

// ---- ioctl-style command numbers ----

#[cfg(any(
    target_arch = "powerpc",
    target_arch = "powerpc64",
    target_arch = "mips",
    target_arch = "mips32r6",
    target_arch = "mips64",
    target_arch = "mips64r6",
    target_arch = "sparc",
    target_arch = "sparc64"
))]
mod ioc_arch {
    pub const SIZEBITS: u32 = 13;
    pub const NONE: u32 = 1;
    pub const READ: u32 = 2;
    pub const WRITE: u32 = 4;
}

#[cfg(not(any(
    target_arch = "powerpc",
    target_arch = "powerpc64",
    target_arch = "mips",
    target_arch = "mips32r6",
    target_arch = "mips64",
    target_arch = "mips64r6",
    target_arch = "sparc",
    target_arch = "sparc64"
)))]
mod ioc_arch {
    pub const SIZEBITS: u32 = 14;
    pub const NONE: u32 = 0;
    pub const READ: u32 = 2;
    pub const WRITE: u32 = 1;
}

/// The kernel's `_IOC(dir, type, nr, size)` (`asm-generic/ioctl.h`, and the powerpc/mips/sparc
/// variant with 13 size bits).
const fn ioc(dir: u32, ty: u8, nr: u8, size: usize) -> u32 {
    const NRSHIFT: u32 = 0;
    const TYPESHIFT: u32 = 8;
    const SIZESHIFT: u32 = 16;
    let dirshift = SIZESHIFT + ioc_arch::SIZEBITS;
    (dir << dirshift) | ((size as u32) << SIZESHIFT) | ((ty as u32) << TYPESHIFT) | ((nr as u32) << NRSHIFT)
}

/// `_IO(type, nr)`: a command number with no argument.
pub(crate) const fn io_none(ty: u8, nr: u8) -> u32 {
    ioc(ioc_arch::NONE, ty, nr, 0)
}

/// `_IOWR(type, nr, size)`: a command number whose argument is read and written.
pub(crate) const fn io_rw(ty: u8, nr: u8, size: usize) -> u32 {
    ioc(ioc_arch::READ | ioc_arch::WRITE, ty, nr, size)
}

// ---- payload bytes ----

/// The bytes of a plain value.
#[inline]
pub(crate) fn pod_bytes<T: Pod>(v: &T) -> &[u8] {
    // SAFETY: `T: Pod` is plain data whose bytes are all initialised (see `Pod`); the slice covers
    // exactly the value and borrows it.
    unsafe { core::slice::from_raw_parts(v as *const T as *const u8, size_of::<T>()) }
}

/// Reads a plain value from the start of `bytes`, if they are long enough.
#[inline]
pub(crate) fn pod_read<T: Pod>(bytes: &[u8]) -> Option<T> {
    if bytes.len() < size_of::<T>() {
        return None;
    }
    // SAFETY: at least `size_of::<T>()` readable bytes (checked), any bit pattern is a valid `T`
    // (`Pod`), and the read is unaligned.
    Some(unsafe { core::ptr::read_unaligned(bytes.as_ptr() as *const T) })
}

/// Writes the 80-byte command area of a 128-byte entry.
#[inline]
pub(crate) fn set_cmd_area128(sqe: &mut Sqe128, area: &[u8; CMD_PAYLOAD_128]) {
    sqe.sqe.addr3.cmd = [0; 16];
    // SAFETY: `cmd` is 16 plain bytes, just written as a whole.
    unsafe { sqe.sqe.addr3.cmd.copy_from_slice(&area[..16]) };
    sqe.ext.copy_from_slice(&area[16..]);
}

/// The 16-byte command area of a 64-byte entry (`sqe.cmd`, bytes 48..64).
/// (`IORING_OP_URING_CMD`, Linux 5.19.)
#[inline]
pub fn cmd_area(sqe: &Sqe) -> [u8; CMD_PAYLOAD_64] {
    // SAFETY: every member of the `addr3` union is plain bytes covering the 16 bytes read.
    unsafe { sqe.0.addr3.cmd }
}

/// The 80-byte command area of a 128-byte entry (bytes 48..128).
/// (`IORING_SETUP_SQE128`, Linux 5.19.)
#[inline]
pub fn cmd_area128(sqe: &Sqe128) -> [u8; CMD_PAYLOAD_128] {
    let mut area = [0u8; CMD_PAYLOAD_128];
    area[..16].copy_from_slice(&cmd_area(sqe.head()));
    area[16..].copy_from_slice(sqe.ext());
    area
}

/// `IORING_OP_URING_CMD` in a 64-byte entry with a typed payload of at most 16 bytes, checked at
/// compile time (`io_uring_prep_uring_cmd(3)`, Linux 5.19). Works on every ring. Use
/// [`UringCmd`] for the options (fixed buffer, buffer group, multishot).
///
/// The payload is the driver's; if it holds addresses the kernel will use, they must stay valid
/// until the completion, which is why this returns an [`Sqe`] (pushed with `unsafe`).
pub fn uring_cmd<T: Pod>(fd: impl Into<Target>, cmd_op: u32, payload: &T) -> Sqe {
    const { assert!(size_of::<T>() <= CMD_PAYLOAD_64, "a 64-byte entry carries at most 16 payload bytes") };
    let mut sqe = UringCmd::new(fd, cmd_op).build();
    let mut area = [0u8; CMD_PAYLOAD_64];
    area[..size_of::<T>()].copy_from_slice(pod_bytes(payload));
    sqe.0.addr3.cmd = area;
    sqe
}

/// `IORING_OP_URING_CMD` (Linux 5.19) in a 128-byte entry with a typed payload of at most 80 bytes, checked at
/// compile time (`io_uring_prep_uring_cmd128(3)`). The opcode is the `IORING_SETUP_SQE128`
/// form; [`SubmissionQueue::push128_raw`] switches it to `IORING_OP_URING_CMD128` on a mixed
/// ring and refuses a 64-byte ring with a typed error. Use [`UringCmd128`] for the options.
pub fn uring_cmd128<T: Pod>(fd: impl Into<Target>, cmd_op: u32, payload: &T) -> Sqe128 {
    const { assert!(size_of::<T>() <= CMD_PAYLOAD_128, "a 128-byte entry carries at most 80 payload bytes") };
    let mut sqe = UringCmd128::new(fd, cmd_op).build();
    let mut area = [0u8; CMD_PAYLOAD_128];
    area[..size_of::<T>()].copy_from_slice(pod_bytes(payload));
    set_cmd_area128(&mut sqe, &area);
    sqe
}

// ---- ring fit ----

/// The submission-entry layout of a ring, as far as uring_cmd is concerned.
/// 128-byte entries: `IORING_SETUP_SQE128` (Linux 5.19), `IORING_SETUP_SQE_MIXED` (Linux 6.19).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SqeLayout {
    /// 64-byte entries only: commands carry at most 16 payload bytes.
    Sqe64,
    /// `IORING_SETUP_SQE128` (Linux 5.19): every entry is 128 bytes; commands carry 80 payload bytes with
    /// opcode `IORING_OP_URING_CMD`.
    Sqe128,
    /// `IORING_SETUP_SQE_MIXED` (Linux 6.19): 64-byte entries, and 128-byte ones in two slots for
    /// the 128-byte opcodes (`IORING_OP_URING_CMD128`).
    Mixed,
}

impl SqeLayout {
    /// The layout of `ring`.
    pub fn of(ring: &Ring) -> Self {
        Self::from_flags(ring.setup_flags())
    }

    /// The layout a ring set up with `flags` has.
    pub fn from_flags(flags: SetupFlags) -> Self {
        if flags.contains(SetupFlags::SQE128) {
            SqeLayout::Sqe128
        } else if flags.contains(SetupFlags::SQE_MIXED) {
            SqeLayout::Mixed
        } else {
            SqeLayout::Sqe64
        }
    }

    /// Whether 128-byte commands fit.
    pub const fn supports_128(self) -> bool {
        !matches!(self, SqeLayout::Sqe64)
    }

    /// The most payload bytes a uring_cmd can carry on this ring: 16 or 80.
    pub const fn payload_capacity(self) -> usize {
        if self.supports_128() {
            CMD_PAYLOAD_128
        } else {
            CMD_PAYLOAD_64
        }
    }
}

const NEEDS_128: &str =
    "IORING_SETUP_SQE128 or IORING_SETUP_SQE_MIXED (a uring_cmd with more than 16 payload bytes, or a driver that needs 128-byte entries)";

/// A uring_cmd entry of either size, as [`uring_cmd_for`] chose it for a ring.
/// (`IORING_OP_URING_CMD`, Linux 5.19, or `IORING_OP_URING_CMD128`, Linux 6.19.)
#[derive(Debug, Clone, Copy)]
pub enum CmdEntry {
    /// A 64-byte entry (fits every ring).
    Small(Sqe),
    /// A 128-byte entry, with the opcode the ring needs.
    Big(Sqe128),
}

impl CmdEntry {
    /// Sets the value the completion will carry in `user_data`.
    /// (`sqe.user_data`.)
    #[must_use]
    pub fn user_data(self, user_data: u64) -> Self {
        match self {
            CmdEntry::Small(s) => CmdEntry::Small(s.user_data(user_data)),
            CmdEntry::Big(s) => CmdEntry::Big(s.user_data(user_data)),
        }
    }

    /// Whether this is a 128-byte entry.
    pub fn is_big(&self) -> bool {
        matches!(self, CmdEntry::Big(_))
    }

    /// Copies the entry into `sq`: one slot, or a 128-byte entry fitted to the ring by
    /// [`SubmissionQueue::push128_raw`].
    /// As `io_uring_get_sqe(3)` or `io_uring_get_sqe128(3)`.
    ///
    /// # Safety
    /// As [`SubmissionQueue::push_raw`]: whatever the payload points at must stay valid until the
    /// completion.
    pub unsafe fn push_raw(&self, sq: &mut SubmissionQueue) -> Result<()> {
        match self {
            // SAFETY: the caller's contract.
            CmdEntry::Small(s) => unsafe { sq.push_raw(s) }.map_err(Error::from),
            // SAFETY: the caller's contract.
            CmdEntry::Big(s) => unsafe { sq.push128_raw(s) }.map_err(Error::from),
        }
    }
}

/// `IORING_OP_URING_CMD` (Linux 5.19) with `payload`, sized for a ring of `layout`: a 64-byte entry when the
/// payload fits 16 bytes, otherwise a 128-byte entry (`IORING_OP_URING_CMD128` on a mixed ring).
/// More than 16 bytes for a 64-byte ring is refused with [`Error::WrongRingKind`]: the kernel
/// would silently see only the first 16 (more than 80 does not compile).
pub fn uring_cmd_for<T: Pod>(layout: SqeLayout, fd: impl Into<Target>, cmd_op: u32, payload: &T) -> Result<CmdEntry> {
    const { assert!(size_of::<T>() <= CMD_PAYLOAD_128, "a uring_cmd carries at most 80 payload bytes") };
    let fd = fd.into();
    if size_of::<T>() <= CMD_PAYLOAD_64 {
        let mut sqe = UringCmd::new(fd, cmd_op).build();
        let mut area = [0u8; CMD_PAYLOAD_64];
        area[..size_of::<T>()].copy_from_slice(pod_bytes(payload));
        sqe.0.addr3.cmd = area;
        return Ok(CmdEntry::Small(sqe));
    }
    if !layout.supports_128() {
        return Err(Error::WrongRingKind { needs: NEEDS_128 });
    }
    let mut sqe = uring_cmd128(fd, cmd_op, payload);
    let (sqe128, mixed) = (layout == SqeLayout::Sqe128, layout == SqeLayout::Mixed);
    sqe.sqe.opcode = fit128_opcode(sqe.sqe.opcode, sqe128, mixed)?;
    Ok(CmdEntry::Big(sqe))
}

/// Checks that `ring` posts 32-byte completions (`IORING_SETUP_CQE32` or
/// `IORING_SETUP_CQE_MIXED`), which NVMe passthrough and `SOCKET_URING_OP_TX_TIMESTAMP` need:
/// [`Error::WrongRingKind`] otherwise (the kernel would fail the command with `EINVAL` or
/// `EOPNOTSUPP`).
/// Linux 5.19 (`CQE32`) or 6.18 (`CQE_MIXED`).
pub fn require_cqe32(ring: &Ring) -> Result<()> {
    if ring.setup_flags().intersects(SetupFlags::CQE32 | SetupFlags::CQE_MIXED) {
        Ok(())
    } else {
        Err(Error::WrongRingKind { needs: "IORING_SETUP_CQE32 or IORING_SETUP_CQE_MIXED (32-byte completions)" })
    }
}

/// Marks a 64-byte command that points at no caller memory, but names its file, as an
/// [`FdSqe`] (safe to push once its file is a registered slot: [`FdSqe::into_safe`]).
#[inline]
pub(crate) fn fd_entry(sqe: Sqe) -> FdSqe {
    FdSqe::new(sqe)
}

/// Test support: the SQE field reader shared with the `op` tests.
#[cfg(test)]
pub(crate) use crate::op::test_util as test_fields;

#[cfg(test)]
mod tests {
    use uring_uapi::*;

    use super::*;
    use crate::cmd::test_fields::{fields, Fields};

    crate::pod_struct! {
        #[derive(Debug, Default, PartialEq, Eq)]
        struct Sixteen {
            a: u64,
            b: u32,
            c: u16,
            d: u8,
            e: u8,
        }
    }

    crate::pod_struct! {
        #[derive(Debug, PartialEq, Eq)]
        struct Eighty {
            words: [u64; 10],
        }
    }

    #[test]
    fn ioc_numbers() {
        // `_IO(0x12, 0)` and `_IOWR('N', 0x80, 72 bytes)` on the asm-generic layout.
        if ioc_arch::SIZEBITS == 14 {
            assert_eq!(io_none(0x12, 0), 0x1200);
            assert_eq!(io_none(0x12, 1), 0x1201);
            assert_eq!(io_rw(b'N', 0x80, 72), 0xC048_4E80);
            // A known value: BLKGETSIZE64 = _IOR(0x12, 114, size_t) has READ only.
            assert_eq!(ioc(ioc_arch::READ, 0x12, 114, 8), 0x8008_1272);
        }
    }

    #[test]
    fn typed_payload_16() {
        let p = Sixteen { a: 0x0102_0304_0506_0708, b: 0x1122_3344, c: 0x5566, d: 0x77, e: 0x88 };
        let sqe = uring_cmd(Target::raw(9), 0xDEAD, &p);
        let f = fields(&sqe);
        assert_eq!(
            f,
            Fields {
                opcode: IORING_OP_URING_CMD,
                fd: 9,
                off: 0xDEAD,
                addr3: 0x0102_0304_0506_0708,
                pad2: 0x8877_5566_1122_3344,
                ..Default::default()
            }
        );
        assert_eq!(cmd_area(&sqe)[..8], 0x0102_0304_0506_0708u64.to_ne_bytes());
        // Smaller payloads leave the rest zero.
        let sqe = uring_cmd(Target::raw(1), 2, &0xABu8);
        assert_eq!(cmd_area(&sqe), [0xAB, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn typed_payload_80() {
        let mut words = [0u64; 10];
        for (i, w) in words.iter_mut().enumerate() {
            *w = 0x100 + i as u64;
        }
        let sqe = uring_cmd128(Target::fixed(4), 0x77, &Eighty { words });
        assert_eq!(sqe.opcode(), IORING_OP_URING_CMD);
        let area = cmd_area128(&sqe);
        for i in 0..10 {
            assert_eq!(area[i * 8..i * 8 + 8], (0x100 + i as u64).to_ne_bytes());
        }
        let f = fields(sqe.head());
        assert_eq!(f.flags, IOSQE_FIXED_FILE);
        assert_eq!(f.fd, 4);
        assert_eq!(f.off, 0x77);
        // The 16-byte type fits a 128-byte entry too.
        let sqe = uring_cmd128(Target::raw(1), 1, &Sixteen { a: 5, ..Default::default() });
        assert_eq!(cmd_area128(&sqe)[0], 5);
        assert!(cmd_area128(&sqe)[16..].iter().all(|&b| b == 0));
    }

    #[test]
    fn payload_boundaries_per_ring() {
        // 16 bytes: a 64-byte entry on every layout.
        for layout in [SqeLayout::Sqe64, SqeLayout::Sqe128, SqeLayout::Mixed] {
            let e = uring_cmd_for(layout, Target::raw(3), 1, &[7u8; 16]).unwrap();
            let CmdEntry::Small(s) = e else { panic!("{layout:?}: 16 bytes fit a 64-byte entry") };
            assert!(!e.is_big());
            assert_eq!(cmd_area(&s), [7u8; 16]);
        }
        // 17 and 80 bytes: refused for a 64-byte ring, 128-byte entries otherwise.
        let e = uring_cmd_for(SqeLayout::Sqe64, Target::raw(3), 1, &[7u8; 17]).unwrap_err();
        assert!(matches!(e, Error::WrongRingKind { .. }), "{e}");
        let e = uring_cmd_for(SqeLayout::Sqe64, Target::raw(3), 1, &Eighty { words: [1; 10] }).unwrap_err();
        assert!(matches!(e, Error::WrongRingKind { .. }), "{e}");
        let CmdEntry::Big(s) = uring_cmd_for(SqeLayout::Sqe128, Target::raw(3), 1, &[7u8; 17]).unwrap() else {
            panic!("17 bytes need a 128-byte entry")
        };
        assert_eq!(s.opcode(), IORING_OP_URING_CMD);
        assert_eq!(cmd_area128(&s)[..17], [7u8; 17]);
        assert_eq!(cmd_area128(&s)[17], 0);
        let CmdEntry::Big(s) = uring_cmd_for(SqeLayout::Mixed, Target::raw(3), 1, &Eighty { words: [9; 10] }).unwrap()
        else {
            panic!("80 bytes need a 128-byte entry")
        };
        assert_eq!(s.opcode(), IORING_OP_URING_CMD128);
        assert_eq!(cmd_area128(&s), Eighty { words: [9; 10] }.to_bytes());
        // The runtime encoders refuse oversize payloads with a typed error too.
        assert!(UringCmd::new(Target::raw(3), 1).payload(&[0u8; 17]).is_err());
        assert!(UringCmd128::new(Target::raw(3), 1).payload(&[0u8; 81]).is_err());
    }

    impl Eighty {
        fn to_bytes(self) -> [u8; 80] {
            let mut b = [0u8; 80];
            b.copy_from_slice(pod_bytes(&self));
            b
        }
    }

    /// A kernel-managed (kmbuf) group: ordinary reads and uring_cmds refuse it.
    struct KernelManaged(u16);

    impl crate::op::BufferGroup for KernelManaged {
        fn bgid(&self) -> u16 {
            self.0
        }
        fn is_kernel_managed(&self) -> bool {
            true
        }
    }

    #[test]
    fn options() {
        let sqe = UringCmd::new(Target::raw(3), 5).multishot().buf_group(&crate::op::BufGroupId(9)).unwrap().build();
        let f = fields(&sqe);
        assert_eq!(f.flags, IOSQE_BUFFER_SELECT);
        assert_eq!(f.buf, 9);
        assert_eq!(f.op_flags, IORING_URING_CMD_MULTISHOT);
        let sqe = UringCmd128::new(Target::raw(3), 5).multishot().buf_group(&crate::op::BufGroupId(4)).unwrap().build();
        let f = fields(sqe.head());
        assert_eq!((f.flags, f.buf, f.op_flags), (IOSQE_BUFFER_SELECT, 4, IORING_URING_CMD_MULTISHOT));
        // A kmbuf group is refused by uring_cmd too, multishot or not.
        assert!(UringCmd::new(Target::raw(3), 5).multishot().buf_group(&KernelManaged(9)).is_err());
        assert!(UringCmd128::new(Target::raw(3), 5).multishot().buf_group(&KernelManaged(4)).is_err());
        let sqe = UringCmd128::new(Target::raw(3), 5).fixed_buf(12).payload(&[1u8; 80]).unwrap().build();
        let f = fields(sqe.head());
        assert_eq!((f.flags, f.buf, f.op_flags), (0, 12, IORING_URING_CMD_FIXED));
        assert_eq!(cmd_area128(&sqe), [1u8; 80]);
        // An ordinary read refuses the kmbuf group.
        assert!(crate::op::Read::new(Target::raw(3), &mut []).unwrap().buf_group(&KernelManaged(9)).is_err());
    }

    #[test]
    fn layouts() {
        assert_eq!(SqeLayout::from_flags(SetupFlags::SQE128).payload_capacity(), 80);
        assert_eq!(SqeLayout::from_flags(SetupFlags::SQE_MIXED), SqeLayout::Mixed);
        assert_eq!(SqeLayout::from_flags(SetupFlags::empty()).payload_capacity(), 16);
    }

    #[test]
    fn big_cqe_typed() {
        crate::pod_struct! {
            #[derive(Debug, PartialEq, Eq)]
            struct Extra {
                result: u64,
                tag: u32,
                more: u32,
            }
        }
        let c = crate::Cqe32::new(crate::Cqe::new(1, 0, 0), [0xAABB, 0x0000_0002_0000_0001]);
        assert_eq!(c.big_cqe_as::<Extra>(), Extra { result: 0xAABB, tag: 1, more: 2 });
        assert_eq!(pod_read::<u32>(&[1, 0, 0, 0, 9]), Some(1));
        assert_eq!(pod_read::<u64>(&[1, 0, 0]), None);
    }
}
