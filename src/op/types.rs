//! Typed arguments shared by the encoders: the file an operation targets, direct-descriptor
//! slots, buffer groups, and kernel time values.

use std::fs::File;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::time::Duration;

use uring_uapi::{__kernel_timespec, IORING_FILE_INDEX_ALLOC};

/// A slot of the ring's registered file table (`IORING_REGISTER_FILES`), used instead of an fd
/// by setting `IOSQE_FIXED_FILE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fixed(pub u32);

/// The file an operation works on: an ordinary file descriptor, or a registered file slot.
///
/// Encoders turn a [`Target::Fixed`] into `sqe.fd = slot` plus `IOSQE_FIXED_FILE`, so callers
/// never set that flag by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// A file descriptor number. It must stay open until the operation is submitted.
    Fd(RawFd),
    /// A registered file slot.
    Fixed(u32),
}

impl Target {
    /// A raw file descriptor number (I/O safety is the caller's concern: it must name the file
    /// meant when the operation is submitted).
    #[inline]
    pub const fn raw(fd: RawFd) -> Self {
        Target::Fd(fd)
    }

    /// The value for `sqe.fd`.
    #[inline]
    pub const fn sqe_fd(self) -> i32 {
        match self {
            Target::Fd(fd) => fd,
            Target::Fixed(slot) => slot as i32,
        }
    }

    /// Whether `IOSQE_FIXED_FILE` must be set.
    #[inline]
    pub const fn is_fixed(self) -> bool {
        matches!(self, Target::Fixed(_))
    }
}

impl From<Fixed> for Target {
    #[inline]
    fn from(f: Fixed) -> Self {
        Target::Fixed(f.0)
    }
}

impl From<BorrowedFd<'_>> for Target {
    #[inline]
    fn from(fd: BorrowedFd<'_>) -> Self {
        Target::Fd(fd.as_raw_fd())
    }
}

impl From<&OwnedFd> for Target {
    #[inline]
    fn from(fd: &OwnedFd) -> Self {
        Target::Fd(fd.as_raw_fd())
    }
}

impl From<&File> for Target {
    #[inline]
    fn from(f: &File) -> Self {
        Target::Fd(f.as_raw_fd())
    }
}

impl From<&std::net::TcpStream> for Target {
    #[inline]
    fn from(s: &std::net::TcpStream) -> Self {
        Target::Fd(s.as_raw_fd())
    }
}

impl From<&std::net::TcpListener> for Target {
    #[inline]
    fn from(s: &std::net::TcpListener) -> Self {
        Target::Fd(s.as_raw_fd())
    }
}

impl From<&std::net::UdpSocket> for Target {
    #[inline]
    fn from(s: &std::net::UdpSocket) -> Self {
        Target::Fd(s.as_raw_fd())
    }
}

impl From<&std::os::unix::net::UnixStream> for Target {
    #[inline]
    fn from(s: &std::os::unix::net::UnixStream) -> Self {
        Target::Fd(s.as_raw_fd())
    }
}

/// Where an operation that creates a file (openat, accept, socket, pipe) puts it.
///
/// The kernel encodes this in `sqe.file_index` as 0 (a normal fd), `slot + 1` (a direct
/// descriptor at `slot`), or `IORING_FILE_INDEX_ALLOC` (a free direct slot the kernel picks and
/// returns in the result). Encoders write the encoding; callers never add 1 by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum DestSlot {
    /// An ordinary file descriptor, returned in the result.
    #[default]
    Fd,
    /// The registered file slot `n` (replacing what is there).
    Fixed(u32),
    /// Any free registered slot; its index is the result (`IORING_FILE_INDEX_ALLOC`).
    Alloc,
}

impl DestSlot {
    /// The value for `sqe.file_index`.
    #[inline]
    pub const fn file_index(self) -> u32 {
        match self {
            DestSlot::Fd => 0,
            // `n + 1`, kept below IORING_FILE_INDEX_ALLOC: a slot that large cannot exist (tables
            // hold at most 2^20 files), so the kernel refuses it instead of reading the value
            // as "allocate" or "plain fd".
            DestSlot::Fixed(n) => {
                if n >= u32::MAX - 1 {
                    u32::MAX - 1
                } else {
                    n + 1
                }
            }
            DestSlot::Alloc => IORING_FILE_INDEX_ALLOC,
        }
    }
}

/// A provided-buffer group an operation selects its buffer from (`IOSQE_BUFFER_SELECT` with
/// `sqe.buf_group`).
///
/// Implemented by the crate's buffer-ring handles and by [`BufGroupId`] (a bare group id, for
/// groups the crate does not manage, such as legacy `PROVIDE_BUFFERS` groups).
pub trait BufferGroup {
    /// The buffer group id (bgid).
    fn bgid(&self) -> u16;

    /// Whether the group is a kernel-managed buffer ring (kmbuf), which ordinary reads and
    /// receives cannot select from: each attempt would burn a buffer only the kernel can return.
    /// Encoders refuse such groups with [`Error::InvalidArgument`](crate::Error::InvalidArgument).
    fn is_kernel_managed(&self) -> bool {
        false
    }
}

/// A bare buffer group id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BufGroupId(pub u16);

impl BufferGroup for BufGroupId {
    #[inline]
    fn bgid(&self) -> u16 {
        self.0
    }
}

/// A kernel time value (`struct __kernel_timespec`) an operation points at: timeouts, link
/// timeouts, waits. Keep it alive until the operation completes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(transparent)]
pub struct Timespec(pub(crate) __kernel_timespec);

impl Timespec {
    /// A time of `secs` seconds and `nsecs` nanoseconds.
    #[inline]
    pub const fn new(secs: u64, nsecs: u32) -> Self {
        Timespec(__kernel_timespec { tv_sec: secs as i64, tv_nsec: nsecs as i64 })
    }

    /// The kernel struct.
    #[inline]
    pub const fn as_raw(&self) -> &__kernel_timespec {
        &self.0
    }

    /// Its address, for `sqe.addr`.
    #[inline]
    pub fn addr(&self) -> u64 {
        &self.0 as *const __kernel_timespec as u64
    }
}

impl From<Duration> for Timespec {
    #[inline]
    fn from(d: Duration) -> Self {
        Timespec::new(d.as_secs(), d.subsec_nanos())
    }
}
