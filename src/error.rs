//! The crate's error type.
//!
//! Two kinds of failure reach a caller:
//! - **kernel errors** keep their errno: system calls return [`std::io::Error`] (check
//!   [`std::io::Error::raw_os_error`]), completions carry an [`Errno`](crate::Errno);
//! - **client-side validation** catches arguments the kernel would reject (or that would be
//!   undefined behaviour to pass) before any system call, and names the problem with a variant of
//!   [`Error`].
//!
//! Calls that can fail both ways return [`Result`], whose [`Error::Os`] variant carries the
//! kernel's error unchanged. `Error` converts into `std::io::Error` (validation errors become
//! `InvalidInput`, `Unsupported` becomes `Unsupported`), so `?` works in functions returning
//! `io::Result`.

use std::fmt;
use std::io;

/// The result of an operation that validates its arguments and may call the kernel.
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// What went wrong: a kernel error with its errno, or a named client-side problem.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The kernel returned an error; the errno is kept.
    Os(io::Error),
    /// A ring was asked for with 0 entries.
    ZeroEntries,
    /// More entries than the kernel allows, without `IORING_SETUP_CLAMP` (Linux 5.6).
    TooManyEntries {
        /// Which queue: `"SQ"`, `"CQ"` or `"buffer ring"`.
        queue: &'static str,
        /// The number asked for.
        requested: u32,
        /// The largest number allowed.
        max: u32,
    },
    /// The CQ was asked to be smaller than the SQ (after rounding both up to powers of two), or
    /// `cq_entries` was 0 with `IORING_SETUP_CQSIZE`.
    InvalidCqSize {
        /// SQ entries after rounding.
        sq_entries: u32,
        /// CQ entries asked for.
        cq_entries: u32,
    },
    /// An entry count that must be a power of two is not.
    NotPowerOfTwo {
        /// What was counted.
        what: &'static str,
        /// The value given.
        value: u32,
    },
    /// Two setup flags that the kernel refuses together, or a flag without one it requires.
    ConflictingFlags {
        /// The flag at fault.
        flag: &'static str,
        /// Why it is refused.
        reason: &'static str,
    },
    /// Caller-provided memory is too small for what it must hold.
    MemoryTooSmall {
        /// Bytes needed.
        needed: usize,
        /// Bytes provided.
        provided: usize,
    },
    /// Caller-provided memory is not aligned as the kernel requires.
    Misaligned {
        /// What was misaligned.
        what: &'static str,
        /// The alignment required, in bytes.
        align: usize,
    },
    /// An argument is outside the range the kernel accepts.
    InvalidArgument {
        /// Which argument.
        what: &'static str,
        /// Why it is refused.
        reason: &'static str,
    },
    /// The running kernel does not support this feature (decided by probing, not by version).
    Unsupported {
        /// The feature.
        what: &'static str,
    },
    /// The operation needs a ring set up differently (for example 128-byte SQEs).
    WrongRingKind {
        /// What the operation needs.
        needs: &'static str,
    },
    /// The submission queue has no free slot.
    SubmissionQueueFull,
    /// Resizing the rings failed: the pending entries do not fit the new sizes (the kernel's
    /// `EOVERFLOW`).
    ResizeOverflow {
        /// Submissions pending at the time.
        sq_pending: u32,
        /// Completion slots pending at the time.
        cq_pending: u32,
    },
    /// The buffer group id is already used by another buffer ring, or by a legacy
    /// `PROVIDE_BUFFERS` group that still holds buffers (the kernel's `EEXIST`).
    BufGroupInUse {
        /// The group id.
        bgid: u16,
    },
    /// Every slot of an [`OwnedRing`](crate::owned::OwnedRing)'s in-flight table (one per CQ
    /// entry) holds an operation the kernel has not finished: reap completions first.
    InFlightTableFull,
    /// A method of a [`future::Handle`](crate::future::Handle) was called from inside the
    /// closure of its [`with_ring`](crate::future::Handle::with_ring), which has the ring
    /// (use the `&mut OwnedRing` the closure gets). Futures polled there wait instead: they go
    /// on once `with_ring` returns.
    RingLent,
    /// A kernel-managed buffer ring (kmbuf, experimental ABI) cannot be unregistered because a
    /// kernel consumer (a uring_cmd driver) has pinned it: the kernel's `EBUSY` from
    /// `IORING_UNREGISTER_PBUF_RING`. The ring stays registered, its buffers and their
    /// `RLIMIT_MEMLOCK` charge with it, until the consumer unpins it or the io_uring instance is
    /// torn down.
    BufRingPinned {
        /// The group id.
        bgid: u16,
    },
}

impl Error {
    /// The kernel's errno, if this is a kernel error.
    pub fn raw_os_error(&self) -> Option<i32> {
        match self {
            Error::Os(e) => e.raw_os_error(),
            Error::BufGroupInUse { .. } => Some(libc::EEXIST),
            Error::ResizeOverflow { .. } => Some(libc::EOVERFLOW),
            Error::BufRingPinned { .. } => Some(libc::EBUSY),
            _ => None,
        }
    }

    /// Whether this is a kernel error with errno `errno`.
    pub fn is_errno(&self, errno: i32) -> bool {
        self.raw_os_error() == Some(errno)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Os(e) => write!(f, "kernel error: {e}"),
            Error::ZeroEntries => f.write_str("a ring needs at least 1 entry, 0 given"),
            Error::TooManyEntries { queue, requested, max } => {
                write!(f, "{requested} {queue} entries requested, the kernel allows at most {max}")
            }
            Error::InvalidCqSize { sq_entries, cq_entries } => {
                write!(f, "invalid CQ size {cq_entries}: it must be non-zero and at least the SQ size ({sq_entries})")
            }
            Error::NotPowerOfTwo { what, value } => write!(f, "{what} must be a power of two, got {value}"),
            Error::ConflictingFlags { flag, reason } => write!(f, "setup flag {flag}: {reason}"),
            Error::MemoryTooSmall { needed, provided } => {
                write!(f, "memory too small: {needed} bytes needed, {provided} provided")
            }
            Error::Misaligned { what, align } => write!(f, "{what} must be aligned to {align} bytes"),
            Error::InvalidArgument { what, reason } => write!(f, "invalid {what}: {reason}"),
            Error::Unsupported { what } => write!(f, "not supported by the running kernel: {what}"),
            Error::WrongRingKind { needs } => write!(f, "this operation needs {needs}"),
            Error::SubmissionQueueFull => f.write_str("the submission queue is full"),
            Error::ResizeOverflow { sq_pending, cq_pending } => write!(
                f,
                "resizing failed: {sq_pending} pending submissions and {cq_pending} pending completions do not fit (EOVERFLOW)"
            ),
            Error::BufGroupInUse { bgid } => write!(
                f,
                "buffer group {bid} is already used by another buffer ring or a legacy group holding buffers (EEXIST)",
                bid = bgid
            ),
            Error::InFlightTableFull => f.write_str(
                "every slot of the owned ring's in-flight table is in use (one per CQ entry): reap completions first",
            ),
            Error::RingLent => f.write_str(
                "the handle's ring is lent to a `with_ring` closure: use the ring the closure was given",
            ),
            Error::BufRingPinned { bgid } => write!(
                f,
                "buffer ring {bgid} is pinned by a kernel consumer and stays registered (EBUSY)"
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Os(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error::Os(e)
    }
}

impl From<rustix::io::Errno> for Error {
    fn from(e: rustix::io::Errno) -> Self {
        Error::Os(e.into())
    }
}

impl From<Error> for io::Error {
    fn from(e: Error) -> Self {
        match e {
            Error::Os(e) => e,
            Error::Unsupported { .. } => io::Error::new(io::ErrorKind::Unsupported, e),
            Error::SubmissionQueueFull => io::Error::new(io::ErrorKind::WouldBlock, e),
            Error::RingLent => io::Error::new(io::ErrorKind::ResourceBusy, e),
            other => io::Error::new(io::ErrorKind::InvalidInput, other),
        }
    }
}

/// The submission queue has no free slot for this entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueFull;

impl fmt::Display for QueueFull {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the submission queue is full")
    }
}

impl std::error::Error for QueueFull {}

impl From<QueueFull> for Error {
    fn from(_: QueueFull) -> Self {
        Error::SubmissionQueueFull
    }
}

impl From<QueueFull> for io::Error {
    fn from(e: QueueFull) -> Self {
        io::Error::new(io::ErrorKind::WouldBlock, e)
    }
}

/// An errno value carried by a failed completion ([`Cqe::result`](crate::Cqe::result)).
///
/// The kernel fails an operation with a `res` of `-errno`, the errno in
/// `1..=`[`MAX_ERRNO`](Errno::MAX_ERRNO) (4095, the kernel's `MAX_ERRNO`). A negative `res`
/// below `-4095` is no errno: the kernel never fails an operation with one, but a completion
/// whose result someone else chose can carry it (an `IORING_OP_MSG_RING` data message posts any
/// `res` its sender picked, and [`Cqe::new`](crate::Cqe::new) builds any completion). Such a
/// result reads as [`Errno::NOT_AN_ERRNO`], which names no errno, so it is never mistaken for
/// a kernel error (see that constant).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Errno(i32);

macro_rules! errnos {
    ($($name:ident = $libc:ident),* $(,)?) => {
        impl Errno {
            $(
                #[doc = concat!("`", stringify!($libc), "` (`errno(3)`).")]
                pub const $name: Errno = Errno(libc::$libc);
            )*
        }
    };
}

errnos! {
    PERM = EPERM, NOENT = ENOENT, SRCH = ESRCH, INTR = EINTR, IO = EIO, NXIO = ENXIO,
    TOOBIG = E2BIG, BADF = EBADF, CHILD = ECHILD, AGAIN = EAGAIN, NOMEM = ENOMEM, ACCES = EACCES,
    FAULT = EFAULT, BUSY = EBUSY, EXIST = EEXIST, XDEV = EXDEV, NODEV = ENODEV, NOTDIR = ENOTDIR,
    ISDIR = EISDIR, INVAL = EINVAL, NFILE = ENFILE, MFILE = EMFILE, FBIG = EFBIG, NOSPC = ENOSPC,
    SPIPE = ESPIPE, ROFS = EROFS, PIPE = EPIPE, RANGE = ERANGE, NAMETOOLONG = ENAMETOOLONG,
    NOSYS = ENOSYS, NOTEMPTY = ENOTEMPTY, NODATA = ENODATA, TIME = ETIME, OVERFLOW = EOVERFLOW,
    BADFD = EBADFD, NOTSOCK = ENOTSOCK, MSGSIZE = EMSGSIZE, OPNOTSUPP = EOPNOTSUPP,
    AFNOSUPPORT = EAFNOSUPPORT, ADDRINUSE = EADDRINUSE, ADDRNOTAVAIL = EADDRNOTAVAIL,
    CONNABORTED = ECONNABORTED, CONNRESET = ECONNRESET, NOBUFS = ENOBUFS, ISCONN = EISCONN,
    NOTCONN = ENOTCONN, TIMEDOUT = ETIMEDOUT, CONNREFUSED = ECONNREFUSED, ALREADY = EALREADY,
    INPROGRESS = EINPROGRESS, CANCELED = ECANCELED, OWNERDEAD = EOWNERDEAD,
}

impl Errno {
    /// The largest errno the kernel reports (`MAX_ERRNO` in `include/linux/err.h`): a failed
    /// operation's `res` lies in `-MAX_ERRNO..=-1`.
    pub const MAX_ERRNO: i32 = 4095;

    /// Not an errno: what [`Cqe::result`](crate::Cqe::result) returns for a negative `res`
    /// below `-`[`MAX_ERRNO`](Self::MAX_ERRNO) (such as `-4096` or `i32::MIN`).
    ///
    /// The kernel never posts such a result for a failed operation, so it can only come from a
    /// completion whose result was chosen by someone else (an `IORING_OP_MSG_RING` data message,
    /// a made-up [`Cqe`](crate::Cqe)). Mapping it to a real errno such as `EINVAL` would pretend
    /// the kernel reported an error it did not; this value names none: its number is 0 ("no
    /// errno"), it prints as "not an errno", and it converts into an [`io::Error`] of kind
    /// [`InvalidData`](io::ErrorKind::InvalidData) with no OS error code. The completion's
    /// exact value stays readable with [`Cqe::raw_result`](crate::Cqe::raw_result).
    /// ([`from_raw(0)`](Self::from_raw) is this value too: 0 is not an errno either.)
    pub const NOT_AN_ERRNO: Errno = Errno(0);

    /// The errno with this number.
    #[inline]
    pub const fn from_raw(errno: i32) -> Self {
        Errno(errno)
    }

    /// The errno number (0 for [`NOT_AN_ERRNO`](Self::NOT_AN_ERRNO)).
    #[inline]
    pub const fn raw_os_error(self) -> i32 {
        self.0
    }

    /// Whether this is an errno the kernel can report: `1..=`[`MAX_ERRNO`](Self::MAX_ERRNO).
    /// `false` for [`NOT_AN_ERRNO`](Self::NOT_AN_ERRNO).
    #[inline]
    pub const fn is_kernel_errno(self) -> bool {
        self.0 >= 1 && self.0 <= Self::MAX_ERRNO
    }
}

/// What [`Errno::NOT_AN_ERRNO`] prints.
const NOT_AN_ERRNO_TEXT: &str = "not an errno (a completion result below -4095, which the kernel never reports)";

impl fmt::Debug for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == Errno::NOT_AN_ERRNO {
            return f.write_str("Errno(NOT_AN_ERRNO)");
        }
        write!(f, "Errno({}: {})", self.0, io::Error::from_raw_os_error(self.0))
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == Errno::NOT_AN_ERRNO {
            return f.write_str(NOT_AN_ERRNO_TEXT);
        }
        io::Error::from_raw_os_error(self.0).fmt(f)
    }
}

impl std::error::Error for Errno {}

/// An errno becomes the OS error with that code; [`Errno::NOT_AN_ERRNO`] becomes an error of
/// kind [`InvalidData`](io::ErrorKind::InvalidData) without an OS error code.
impl From<Errno> for io::Error {
    fn from(e: Errno) -> Self {
        if e == Errno::NOT_AN_ERRNO {
            return io::Error::new(io::ErrorKind::InvalidData, NOT_AN_ERRNO_TEXT);
        }
        io::Error::from_raw_os_error(e.0)
    }
}

impl From<Errno> for Error {
    fn from(e: Errno) -> Self {
        Error::Os(e.into())
    }
}
