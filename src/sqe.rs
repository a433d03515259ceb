//! Submission queue entries as values: [`Sqe`] (64 bytes, Linux 5.1), [`Sqe128`] (128 bytes,
//! `IORING_SETUP_SQE128`, Linux 5.19),
//! [`SafeSqe`], the entries that can be pushed without `unsafe`, and [`FdSqe`], the entries that
//! point at no memory but name file descriptors.
//!
//! An entry is built by an encoder in [`crate::op`] and copied into the ring by
//! [`SubmissionQueue::push`](crate::SubmissionQueue::push). Building is always safe. Pushing is
//! the `unsafe` boundary when the entry points at memory the kernel will read or write after the
//! call returns (a buffer, an iovec array, a path, a timespec): the caller must keep it alive and
//! unmoved until the completion arrives. Encoders whose entry points at no caller memory return a
//! [`SafeSqe`], which pushes safely, or, when the entry names a file descriptor, an [`FdSqe`]:
//! the kernel looks the number up when it issues the request (for linked requests,
//! `IOSQE_ASYNC` and poll-driven retries, long after the push), so the file must stay open until
//! the request's final completion, which the type system cannot see for a number; its push
//! ([`SubmissionQueue::push_fd`](crate::SubmissionQueue::push_fd)) is `unsafe` with that
//! contract. See `io_uring_enter(2)` for the fields.

use bitflags::bitflags;
use uring_uapi::io_uring_sqe;

bitflags! {
    /// The `IOSQE_*` flags of an entry (`sqe.flags`), see `io_uring_enter(2)`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct SqeFlags: u8 {
        /// `IOSQE_FIXED_FILE` (Linux 5.1): `fd` is an index into the registered file table.
        const FIXED_FILE = uring_uapi::IOSQE_FIXED_FILE;
        /// `IOSQE_IO_DRAIN` (Linux 5.2): start only after every earlier entry has completed.
        const IO_DRAIN = uring_uapi::IOSQE_IO_DRAIN;
        /// `IOSQE_IO_LINK` (Linux 5.3): the next entry starts only after this one succeeds.
        const IO_LINK = uring_uapi::IOSQE_IO_LINK;
        /// `IOSQE_IO_HARDLINK` (Linux 5.5): like `IO_LINK`, but the chain survives this entry's failure.
        const IO_HARDLINK = uring_uapi::IOSQE_IO_HARDLINK;
        /// `IOSQE_ASYNC` (Linux 5.6): go to the async worker pool straight away.
        const ASYNC = uring_uapi::IOSQE_ASYNC;
        /// `IOSQE_BUFFER_SELECT` (Linux 5.7): take a buffer from the provided-buffer group in `buf_group`.
        const BUFFER_SELECT = uring_uapi::IOSQE_BUFFER_SELECT;
        /// `IOSQE_CQE_SKIP_SUCCESS` (Linux 5.17): post no completion if the operation succeeds.
        const CQE_SKIP_SUCCESS = uring_uapi::IOSQE_CQE_SKIP_SUCCESS;
    }
}

/// A 64-byte submission queue entry (`struct io_uring_sqe`).
///
/// It may point at caller memory; pushing it is `unsafe`
/// ([`SubmissionQueue::push_raw`](crate::SubmissionQueue::push_raw)).
/// Linux 5.1.
#[derive(Clone, Copy)]
#[repr(transparent)]
pub struct Sqe(pub(crate) io_uring_sqe);

/// A 128-byte submission queue entry: a 64-byte entry followed by 64 more bytes of command
/// payload (the `cmd` area grows from 16 to 80 bytes). Used on `IORING_SETUP_SQE128` rings and,
/// as `IORING_OP_NOP128`/`IORING_OP_URING_CMD128`, on `IORING_SETUP_SQE_MIXED` rings.
/// 128-byte entries: `IORING_SETUP_SQE128` (Linux 5.19), `IORING_SETUP_SQE_MIXED` (Linux 6.19).
#[derive(Clone, Copy)]
#[repr(C)]
pub struct Sqe128 {
    pub(crate) sqe: io_uring_sqe,
    pub(crate) ext: [u8; 64],
}

/// An entry that points at no memory the caller must keep alive (or only at memory the crate
/// owns), so pushing it is safe. Only the crate's encoders create these.
/// (`struct io_uring_sqe`.)
#[derive(Clone, Copy)]
#[repr(transparent)]
pub struct SafeSqe(pub(crate) Sqe);

/// An entry that points at no memory, but names file descriptors (the file an fsync, poll,
/// splice, close... works on; the ring a `MSG_RING` posts to): pushing it is `unsafe`
/// ([`SubmissionQueue::push_fd`](crate::SubmissionQueue::push_fd)), whose contract is that every
/// fd it names stays open, naming the same file, until the request's final completion has been
/// reaped. Only the crate's encoders create these. An entry whose files are all registered
/// slots ([`Target::fixed`](crate::op::Target::fixed)) becomes a [`SafeSqe`] with
/// [`into_safe`](FdSqe::into_safe). The entry is a `struct io_uring_sqe`.
///
/// Pushing one without `unsafe` does not compile:
///
/// ```compile_fail,E0308
/// # use uring::{op, Ring};
/// let mut ring = Ring::new(8).unwrap();
/// let file = std::fs::File::open("/dev/null").unwrap();
/// ring.sq().push(&op::Fsync::new(&file).build()).unwrap();
/// ```
#[derive(Clone, Copy)]
#[repr(transparent)]
pub struct FdSqe(pub(crate) Sqe);

/// A 128-byte entry that is safe to push (see [`SafeSqe`]).
/// (`struct io_uring_sqe` of a 128-byte ring: `IORING_SETUP_SQE128`, Linux 5.19.)
#[derive(Clone, Copy)]
#[repr(transparent)]
pub struct SafeSqe128(pub(crate) Sqe128);

/// An all-zero kernel entry.
pub(crate) const ZERO_SQE: io_uring_sqe = crate::util::zeroed();

impl Default for Sqe {
    fn default() -> Self {
        Sqe(ZERO_SQE)
    }
}

impl Sqe {
    /// An entry with every field zero (an `IORING_OP_NOP` (Linux 5.1)).
    #[inline]
    pub const fn zeroed() -> Self {
        Sqe(ZERO_SQE)
    }

    /// Wraps a raw kernel entry.
    /// (`struct io_uring_sqe`.)
    #[inline]
    pub const fn from_raw(raw: io_uring_sqe) -> Self {
        Sqe(raw)
    }

    /// The raw kernel entry.
    #[inline]
    pub const fn as_raw(&self) -> &io_uring_sqe {
        &self.0
    }

    /// The raw kernel entry, mutably: any field can be set (an escape hatch; pushing stays
    /// `unsafe`).
    #[inline]
    pub fn as_raw_mut(&mut self) -> &mut io_uring_sqe {
        &mut self.0
    }

    /// The operation (`IORING_OP_*`).
    #[inline]
    pub const fn opcode(&self) -> u8 {
        self.0.opcode
    }

    /// This entry zero-extended to 128 bytes (for `IORING_SETUP_SQE128` (Linux 5.19) rings).
    #[inline]
    pub const fn into128(self) -> Sqe128 {
        Sqe128 { sqe: self.0, ext: [0; 64] }
    }

    /// The `user_data` the completion will carry.
    #[inline]
    pub const fn get_user_data(&self) -> u64 {
        self.0.user_data
    }

    /// The `IOSQE_*` flags.
    #[inline]
    pub const fn get_flags(&self) -> SqeFlags {
        SqeFlags::from_bits_retain(self.0.flags)
    }
}

/// The options every entry has, as chained setters. Implemented by [`Sqe`], [`SafeSqe`],
/// [`FdSqe`], [`Sqe128`] and [`SafeSqe128`]; none of them can make an entry point at memory or
/// name an fd (`IOSQE_FIXED_FILE` turns `sqe.fd` into a registered slot, never the reverse).
macro_rules! common_setters {
    ($t:ty, $($field:tt).+) => {
        impl $t {
            /// Sets the value the completion will carry in `user_data` (`sqe.user_data`,
            /// `io_uring_sqe_set_data64(3)`).
            #[inline]
            #[must_use]
            pub const fn user_data(mut self, user_data: u64) -> Self {
                self.$($field).+.user_data = user_data;
                self
            }

            /// Adds `IOSQE_*` flags (link, drain, async, skip-on-success, ...).
            #[inline]
            #[must_use]
            pub const fn flags(mut self, flags: SqeFlags) -> Self {
                self.$($field).+.flags |= flags.bits();
                self
            }

            /// Runs the operation with the credentials of a registered personality
            /// (`IORING_REGISTER_PERSONALITY`).
            #[inline]
            #[must_use]
            pub const fn personality(mut self, personality: u16) -> Self {
                self.$($field).+.personality = personality;
                self
            }
        }
    };
}

common_setters!(Sqe, 0);
common_setters!(SafeSqe, 0.0);
common_setters!(FdSqe, 0.0);
common_setters!(Sqe128, sqe);
common_setters!(SafeSqe128, 0.sqe);

impl Default for Sqe128 {
    fn default() -> Self {
        Sqe128 { sqe: ZERO_SQE, ext: [0; 64] }
    }
}

impl Sqe128 {
    /// Builds a 128-byte entry from its first 64 bytes and the 64 bytes that follow.
    /// (`IORING_SETUP_SQE128`, Linux 5.19.)
    #[inline]
    pub const fn from_parts(sqe: Sqe, ext: [u8; 64]) -> Self {
        Sqe128 { sqe: sqe.0, ext }
    }

    /// The first 64 bytes.
    #[inline]
    pub const fn head(&self) -> &Sqe {
        // SAFETY: `Sqe` is `repr(transparent)` over `io_uring_sqe`.
        unsafe { &*(&self.sqe as *const io_uring_sqe as *const Sqe) }
    }

    /// The 64 bytes past the first entry (bytes 16..80 of the 80-byte command area).
    #[inline]
    pub const fn ext(&self) -> &[u8; 64] {
        &self.ext
    }

    /// The operation (`IORING_OP_*`).
    #[inline]
    pub const fn opcode(&self) -> u8 {
        self.sqe.opcode
    }

    /// The `user_data` the completion will carry.
    #[inline]
    pub const fn get_user_data(&self) -> u64 {
        self.sqe.user_data
    }
}

impl SafeSqe {
    /// Declares an entry safe to push. Crate-internal: only encoders whose entry references no
    /// caller memory use it.
    #[inline]
    pub(crate) const fn new(sqe: Sqe) -> Self {
        SafeSqe(sqe)
    }

    /// The entry.
    #[inline]
    pub const fn sqe(&self) -> &Sqe {
        &self.0
    }

    /// This entry zero-extended to 128 bytes, still safe to push.
    /// (For `IORING_SETUP_SQE128` rings, Linux 5.19.)
    #[inline]
    pub const fn into128(self) -> SafeSqe128 {
        SafeSqe128(self.0.into128())
    }

    /// The entry, as an [`Sqe`] (always possible: a safe entry is also an entry).
    /// (`struct io_uring_sqe`.)
    #[inline]
    pub const fn into_sqe(self) -> Sqe {
        self.0
    }
}

impl FdSqe {
    /// Declares an entry that points at no caller memory but names fds (crate-internal: only
    /// encoders use it).
    #[inline]
    pub(crate) const fn new(sqe: Sqe) -> Self {
        FdSqe(sqe)
    }

    /// The entry.
    #[inline]
    pub const fn sqe(&self) -> &Sqe {
        &self.0
    }

    /// The entry, as an [`Sqe`] (for [`push_raw`](crate::SubmissionQueue::push_raw), whose
    /// contract covers fds too).
    /// (`struct io_uring_sqe`.)
    #[inline]
    pub const fn into_sqe(self) -> Sqe {
        self.0
    }

    /// Whether every file the entry names is a registered slot: `IOSQE_FIXED_FILE` (Linux 5.1) for
    /// `sqe.fd`, and for `SPLICE`/`TEE` also `SPLICE_F_FD_IN_FIXED` for the input; a close of a
    /// slot (`sqe.file_index`) and a cancel keyed by a slot (`IORING_ASYNC_CANCEL_FD_FIXED`)
    /// name none.
    #[inline]
    pub const fn names_only_registered_files(&self) -> bool {
        let s = &self.0 .0;
        let fixed = s.flags & uring_uapi::IOSQE_FIXED_FILE != 0;
        match s.opcode {
            uring_uapi::IORING_OP_SPLICE | uring_uapi::IORING_OP_TEE => {
                // SAFETY: `splice_flags` is a `u32` member of a union of plain integers.
                let in_fixed = unsafe { s.op_flags.splice_flags } & uring_uapi::SPLICE_F_FD_IN_FIXED != 0;
                fixed && in_fixed
            }
            // A close of a registered slot (`file_index`) names no fd.
            // SAFETY: `file_index` is a `u32` member of a union of plain integers.
            uring_uapi::IORING_OP_CLOSE => (unsafe { s.file.file_index }) != 0,
            uring_uapi::IORING_OP_ASYNC_CANCEL => {
                // SAFETY: `cancel_flags` is a `u32` member of a union of plain integers.
                let f = unsafe { s.op_flags.cancel_flags };
                f & uring_uapi::IORING_ASYNC_CANCEL_FD == 0 || f & uring_uapi::IORING_ASYNC_CANCEL_FD_FIXED != 0
            }
            _ => fixed,
        }
    }

    /// The entry as a [`SafeSqe`] when every file it names is a registered slot
    /// ([`names_only_registered_files`](Self::names_only_registered_files)): a slot holds the
    /// kernel's own reference to its file, so nothing the caller closes can change what it
    /// names. Otherwise the entry comes back unchanged, and so does an entry that selects a
    /// provided buffer (`IOSQE_BUFFER_SELECT`, as [`op::ReadMultishot`](crate::op::ReadMultishot)
    /// does): its group may be given as a bare id the crate cannot check (a kernel-managed
    /// group's would burn a buffer per attempt), so it is pushed with `unsafe`; the owned
    /// operations select safely from typed buffer rings.
    #[inline]
    pub const fn into_safe(self) -> Result<SafeSqe, FdSqe> {
        if self.names_only_registered_files() && self.0 .0.flags & uring_uapi::IOSQE_BUFFER_SELECT == 0 {
            Ok(SafeSqe(self.0))
        } else {
            Err(self)
        }
    }
}

impl From<SafeSqe> for FdSqe {
    /// A safe entry is also an fd entry (it names no fd), for pushing mixed runs with
    /// [`push_fd`](crate::SubmissionQueue::push_fd).
    fn from(s: SafeSqe) -> FdSqe {
        FdSqe(s.0)
    }
}

impl From<FdSqe> for Sqe {
    fn from(s: FdSqe) -> Sqe {
        s.0
    }
}

impl core::fmt::Debug for FdSqe {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.0.fmt(f)
    }
}

impl SafeSqe128 {
    /// Declares a 128-byte entry safe to push (crate-internal, as [`SafeSqe::new`]).
    #[inline]
    pub(crate) const fn new(sqe: Sqe128) -> Self {
        SafeSqe128(sqe)
    }

    /// The entry.
    #[inline]
    pub const fn sqe(&self) -> &Sqe128 {
        &self.0
    }
}

impl From<SafeSqe> for Sqe {
    fn from(s: SafeSqe) -> Sqe {
        s.0
    }
}

impl From<SafeSqe128> for Sqe128 {
    fn from(s: SafeSqe128) -> Sqe128 {
        s.0
    }
}

impl core::fmt::Debug for Sqe {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let s = &self.0;
        // SAFETY: every field of these unions is a plain integer of the full width read here;
        // any bit pattern is valid.
        let (off, addr, op_flags, buf, file, addr3) = unsafe {
            (s.off.off, s.addr.addr, s.op_flags.rw_flags, s.buf.buf_index, s.file.file_index, s.addr3.addr3.addr3)
        };
        f.debug_struct("Sqe")
            .field("opcode", &s.opcode)
            .field("flags", &self.get_flags())
            .field("ioprio", &s.ioprio)
            .field("fd", &s.fd)
            .field("off", &off)
            .field("addr", &addr)
            .field("len", &s.len)
            .field("op_flags", &op_flags)
            .field("user_data", &s.user_data)
            .field("buf_index", &buf)
            .field("personality", &s.personality)
            .field("file_index", &file)
            .field("addr3", &addr3)
            .finish()
    }
}

impl core::fmt::Debug for SafeSqe {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.0.fmt(f)
    }
}

impl core::fmt::Debug for Sqe128 {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Sqe128").field("sqe", self.head()).field("ext", &self.ext).finish()
    }
}

impl core::fmt::Debug for SafeSqe128 {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.0.fmt(f)
    }
}
