//! Typed arguments shared by the encoders: the file an operation targets, direct-descriptor
//! slots, buffer groups, and kernel time values.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::time::Duration;

use uring_uapi::{__kernel_timespec, IORING_FILE_INDEX_ALLOC};

/// A slot of the ring's registered file table (`IORING_REGISTER_FILES`, Linux 5.1), used instead of an fd
/// by setting `IOSQE_FIXED_FILE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fixed(pub u32);

/// The file an operation works on: a file descriptor, or a registered file slot.
///
/// Encoders turn a registered slot into `sqe.fd = slot` plus `IOSQE_FIXED_FILE`, so callers
/// never set that flag by hand.
///
/// A `Target` is a value the kernel resolves when it *issues* the request, which for linked
/// requests, `IOSQE_ASYNC` and poll-driven retries can be long after the submission: a plain
/// number cannot say whether the file it names is still the one meant. So a `Target` is made
/// from a borrowed file (`From<&T: AsFd>`, `From<BorrowedFd>`), from a registered slot
/// ([`Target::fixed`], `From<Fixed>`), or with `unsafe` from a raw number
/// ([`Target::from_raw_fd`]); it carries no lifetime, and goes only into entries whose push is
/// `unsafe` ([`SubmissionQueue::push_fd`](crate::SubmissionQueue::push_fd),
/// [`push_raw`](crate::SubmissionQueue::push_raw)), whose contract keeps the file open until
/// the request's final completion. An entry whose targets are all registered slots turns into a
/// [`SafeSqe`](crate::SafeSqe) with [`FdSqe::into_safe`](crate::FdSqe::into_safe). Registered
/// slots (`IOSQE_FIXED_FILE`) date from Linux 5.1.
///
/// A raw number does not convert without `unsafe`:
///
/// ```compile_fail,E0277
/// let t: uring::op::Target = 3.into();
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Target {
    /// The fd, or the slot (as `sqe.fd` holds it).
    fd: i32,
    fixed: bool,
}

impl Target {
    /// The registered file slot `slot`.
    /// (`IOSQE_FIXED_FILE`, Linux 5.1.)
    #[inline]
    pub const fn fixed(slot: u32) -> Self {
        Target { fd: slot as i32, fixed: true }
    }

    /// The file descriptor number `fd`.
    /// It goes into `sqe.fd`.
    ///
    /// # Safety
    /// `fd` must be open, and name the file meant, for as long as any entry built from this
    /// `Target` may be issued by the kernel: until the final completion of every such request
    /// has been reaped (the push of such entries is `unsafe` with that contract; this
    /// constructor is where the number enters, as with `BorrowedFd::borrow_raw`).
    #[inline]
    pub const unsafe fn from_raw_fd(fd: RawFd) -> Self {
        Target { fd, fixed: false }
    }

    /// A raw fd number as a target (crate-internal: callers hold the file, or test encodings).
    #[inline]
    pub(crate) const fn raw(fd: RawFd) -> Self {
        Target { fd, fixed: false }
    }

    /// The value for `sqe.fd`.
    #[inline]
    pub const fn sqe_fd(self) -> i32 {
        self.fd
    }

    /// Whether `IOSQE_FIXED_FILE` (Linux 5.1) must be set.
    #[inline]
    pub const fn is_fixed(self) -> bool {
        self.fixed
    }

    /// The registered slot, if this is one.
    #[inline]
    pub const fn fixed_slot(self) -> Option<u32> {
        if self.fixed {
            Some(self.fd as u32)
        } else {
            None
        }
    }
}

impl From<Fixed> for Target {
    #[inline]
    fn from(f: Fixed) -> Self {
        Target::fixed(f.0)
    }
}

impl From<BorrowedFd<'_>> for Target {
    #[inline]
    fn from(fd: BorrowedFd<'_>) -> Self {
        Target::raw(fd.as_raw_fd())
    }
}

/// Any borrowed file: `&File`, `&OwnedFd`, `&TcpStream`, `&UnixStream`, `&Arc<File>`...
impl<T: AsFd + ?Sized> From<&T> for Target {
    #[inline]
    fn from(f: &T) -> Self {
        Target::raw(f.as_fd().as_raw_fd())
    }
}

/// Where an operation that creates a file (openat, accept, socket, pipe) puts it.
///
/// The kernel encodes this in `sqe.file_index` as 0 (a normal fd), `slot + 1` (a direct
/// descriptor at `slot`), or `IORING_FILE_INDEX_ALLOC` (a free direct slot the kernel picks and
/// returns in the result). Encoders write the encoding; callers never add 1 by hand.
/// Direct descriptors: Linux 5.15; `IORING_FILE_INDEX_ALLOC`: Linux 5.19.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum DestSlot {
    /// An ordinary file descriptor, returned in the result.
    /// (`sqe.file_index` = 0.)
    #[default]
    Fd,
    /// The registered file slot `n` (replacing what is there).
    /// (`sqe.file_index` = `n + 1`, Linux 5.15.)
    Fixed(u32),
    /// Any free registered slot; its index is the result (`IORING_FILE_INDEX_ALLOC`, Linux 5.19).
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

/// A provided-buffer group an operation selects its buffer from (`IOSQE_BUFFER_SELECT`, Linux 5.7 with
/// `sqe.buf_group`).
///
/// Implemented by the crate's buffer-ring handles and by [`BufGroupId`] (a bare group id, for
/// groups the crate does not manage, such as legacy `PROVIDE_BUFFERS` groups).
pub trait BufferGroup {
    /// The buffer group id (bgid).
    fn bgid(&self) -> u16;

    /// Whether the group is a kernel-managed buffer ring (kmbuf), which no entry may select
    /// from (reads, receives and uring_cmds alike): each attempt fails with `EFAULT` and burns
    /// a buffer only the group's kernel consumer can return. Encoders refuse such groups with
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument).
    fn is_kernel_managed(&self) -> bool {
        false
    }
}

/// A bare buffer group id.
///
/// The crate cannot tell what group it names: a kernel-managed (kmbuf) group's id passes the
/// encoders' check, and the kernel then burns a buffer of that group per attempt (`EFAULT`).
/// Entries that select through a bare id are pushed only with `unsafe`
/// ([`FdSqe::into_safe`](crate::FdSqe::into_safe) refuses buffer-selecting entries), so check
/// the id there; safe code selects through typed handles (the owned operations over a
/// [`BufRing`](crate::buf::BufRing)).
/// It goes into `sqe.buf_group` with `IOSQE_BUFFER_SELECT` (Linux 5.7).
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
///
/// Every constructor gives a value the kernel accepts: `tv_sec` in `0..=i64::MAX` and
/// `tv_nsec` in `0..1_000_000_000` (the kernel refuses anything else with `EINVAL`).
/// Nanoseconds past a second carry into the seconds, and times the kernel's signed 64-bit
/// seconds cannot hold *saturate* at the longest time it can: `i64::MAX` seconds and
/// 999 999 999 nanoseconds (about 292 billion years; the kernel itself clamps a relative
/// timeout to its own limit of about 292 years, so this waits "forever").
/// Timeouts arrived with `IORING_OP_TIMEOUT` (Linux 5.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(transparent)]
pub struct Timespec(pub(crate) __kernel_timespec);

/// Nanoseconds in a second: the kernel's `NSEC_PER_SEC`.
const NSEC_PER_SEC: u32 = 1_000_000_000;

/// The longest time a `__kernel_timespec` holds with a valid `tv_nsec`.
const TIMESPEC_MAX: __kernel_timespec = __kernel_timespec { tv_sec: i64::MAX, tv_nsec: NSEC_PER_SEC as i64 - 1 };

/// `secs` seconds plus `nsecs` nanoseconds as a valid `__kernel_timespec`: nanoseconds past a
/// second carry into the seconds, and anything longer than `i64::MAX` seconds saturates at
/// [`TIMESPEC_MAX`].
#[inline]
pub(crate) const fn kernel_timespec(secs: u64, nsecs: u32) -> __kernel_timespec {
    // Both fit: `nsecs / NSEC_PER_SEC` is at most 4.
    let secs = secs.saturating_add((nsecs / NSEC_PER_SEC) as u64);
    let nsecs = nsecs % NSEC_PER_SEC;
    if secs > i64::MAX as u64 {
        return TIMESPEC_MAX;
    }
    __kernel_timespec { tv_sec: secs as i64, tv_nsec: nsecs as i64 }
}

/// `d` as a valid `__kernel_timespec`, saturating as [`kernel_timespec`] does
/// (`Duration::MAX` gives `i64::MAX` seconds, never a negative time). The one conversion of a
/// [`Duration`] used by the encoders ([`Timespec::from`]) and the ring's waits.
#[inline]
pub(crate) const fn duration_timespec(d: Duration) -> __kernel_timespec {
    kernel_timespec(d.as_secs(), d.subsec_nanos())
}

impl Timespec {
    /// A time of `secs` seconds and `nsecs` nanoseconds.
    ///
    /// `nsecs` may exceed a second: the whole seconds in it are added to `secs`, so the kernel
    /// never sees a `tv_nsec` of 10^9 or more (which it refuses with `EINVAL`). A total beyond
    /// `i64::MAX` seconds saturates at `i64::MAX` seconds and 999 999 999 nanoseconds.
    /// (`tv_sec` and `tv_nsec` of `struct __kernel_timespec`.)
    ///
    /// ```
    /// use uring::op::Timespec;
    /// assert_eq!(Timespec::new(1, 2_500_000_000), Timespec::new(3, 500_000_000));
    /// assert_eq!(Timespec::new(u64::MAX, 0).as_raw().tv_sec, i64::MAX);
    /// ```
    #[inline]
    pub const fn new(secs: u64, nsecs: u32) -> Self {
        Timespec(kernel_timespec(secs, nsecs))
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

/// Saturating: a duration longer than `i64::MAX` seconds (such as [`Duration::MAX`]) becomes
/// `i64::MAX` seconds and 999 999 999 nanoseconds, the longest time the kernel accepts, never
/// a negative time (which the kernel would refuse with `EINVAL`).
impl From<Duration> for Timespec {
    #[inline]
    fn from(d: Duration) -> Self {
        Timespec(duration_timespec(d))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(t: Timespec) -> (i64, i64) {
        (t.as_raw().tv_sec, t.as_raw().tv_nsec)
    }

    #[test]
    fn timespec_from_duration_saturates() {
        assert_eq!(raw(Timespec::from(Duration::MAX)), (i64::MAX, 999_999_999));
        assert_eq!(raw(Timespec::from(Duration::from_secs(u64::MAX))), (i64::MAX, 999_999_999));
        assert_eq!(raw(Timespec::from(Duration::from_secs(i64::MAX as u64 + 1))), (i64::MAX, 999_999_999));
        assert_eq!(raw(Timespec::from(Duration::new(i64::MAX as u64, 999_999_999))), (i64::MAX, 999_999_999));
        assert_eq!(raw(Timespec::from(Duration::new(i64::MAX as u64, 7))), (i64::MAX, 7), "exact fit kept");
        assert_eq!(raw(Timespec::from(Duration::new(5, 123))), (5, 123));
        assert_eq!(raw(Timespec::from(Duration::ZERO)), (0, 0));
        let d = duration_timespec(Duration::MAX);
        assert_eq!((d.tv_sec, d.tv_nsec), (i64::MAX, 999_999_999), "the ring's conversion too");
    }

    #[test]
    fn timespec_new_normalises_and_saturates() {
        assert_eq!(raw(Timespec::new(1, 5)), (1, 5));
        assert_eq!(raw(Timespec::new(0, 999_999_999)), (0, 999_999_999));
        assert_eq!(raw(Timespec::new(0, 1_000_000_000)), (1, 0));
        assert_eq!(raw(Timespec::new(1, 2_500_000_000)), (3, 500_000_000));
        assert_eq!(raw(Timespec::new(0, u32::MAX)), (4, 294_967_295));
        assert_eq!(raw(Timespec::new(i64::MAX as u64, 0)), (i64::MAX, 0));
        assert_eq!(raw(Timespec::new(i64::MAX as u64, 1_000_000_000)), (i64::MAX, 999_999_999), "carry saturates");
        assert_eq!(raw(Timespec::new(i64::MAX as u64 + 1, 0)), (i64::MAX, 999_999_999));
        assert_eq!(raw(Timespec::new(u64::MAX, u32::MAX)), (i64::MAX, 999_999_999));
        // Whatever the input, the kernel's validity rule holds.
        for (s, n) in [(0, 0), (u64::MAX, 0), (u64::MAX - 3, u32::MAX), (12, u32::MAX), (i64::MAX as u64 - 4, u32::MAX)]
        {
            let (sec, nsec) = raw(Timespec::new(s, n));
            assert!(sec >= 0 && (0..1_000_000_000).contains(&nsec), "{s} {n}: {sec} {nsec}");
        }
    }
}
