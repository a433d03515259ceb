//! Time types used by io_uring arguments.

/// The kernel's 64-bit `struct __kernel_timespec` (from `linux/time_types.h`), used for timeouts.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct __kernel_timespec {
    /// Seconds.
    pub tv_sec: i64,
    /// Nanoseconds.
    pub tv_nsec: i64,
}
layout!(__kernel_timespec: size 16, align 8; tv_sec @ 0, tv_nsec @ 8);

/// Unsigned timespec declared by `linux/io_uring.h` (Linux 6.14).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct io_timespec {
    /// Seconds.
    pub tv_sec: u64,
    /// Nanoseconds.
    pub tv_nsec: u64,
}
layout!(io_timespec: size 16, align 8; tv_sec @ 0, tv_nsec @ 8);
