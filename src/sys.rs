//! The three io_uring system calls and the memory mappings the rings live in.
//!
//! `io_uring_setup(2)`, `io_uring_enter(2)` (with the `IORING_ENTER_EXT_ARG` argument form) and
//! `io_uring_register(2)` have no wrappers in libc; they are issued here with `syscall(2)`.
//! Errors keep their errno as [`std::io::Error`]. Mappings go through `rustix::mm`.

use core::ffi::c_void;
use core::ptr::NonNull;
use std::io;

use rustix::mm::{MapFlags, ProtFlags};
use uring_uapi::io_uring_params;

/// `io_uring_setup(2)`: returns the new ring's fd (or, with `IORING_SETUP_REGISTERED_FD_ONLY`,
/// its registered-ring index).
pub(crate) fn setup(entries: u32, params: &mut io_uring_params) -> io::Result<i32> {
    // SAFETY: `params` is a valid, writable `io_uring_params` for the duration of the call.
    let ret =
        unsafe { libc::syscall(libc::SYS_io_uring_setup, entries as libc::c_long, params as *mut io_uring_params) };
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret as i32)
    }
}

/// `io_uring_enter(2)`.
///
/// # Safety
/// `arg` must be null or point to `argsz` readable bytes of the argument form `flags` selects
/// (a `sigset_t`, an `io_uring_getevents_arg`, or an offset into a registered wait region), valid
/// for the duration of the call. Every SQE published to the kernel must reference memory that
/// stays valid until its completion.
#[inline]
pub(crate) unsafe fn enter(
    fd: i32,
    to_submit: u32,
    min_complete: u32,
    flags: u32,
    arg: *const c_void,
    argsz: usize,
) -> io::Result<u32> {
    // SAFETY: the caller upholds the argument contract above; the other arguments are plain
    // integers.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_io_uring_enter,
            fd as libc::c_long,
            to_submit as libc::c_long,
            min_complete as libc::c_long,
            flags as libc::c_long,
            arg,
            argsz,
        )
    };
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret as u32)
    }
}

/// `io_uring_register(2)`.
///
/// # Safety
/// `arg` must be null or point to the argument `opcode` expects (`nr_args` elements of it, by
/// the kernel's per-opcode convention), readable and, where the kernel writes results back,
/// writable, for the duration of the call. Resources registered by address (buffers, rings,
/// regions) must stay valid for as long as the kernel may use them.
pub(crate) unsafe fn register(fd: i32, opcode: u32, arg: *const c_void, nr_args: u32) -> io::Result<u32> {
    // SAFETY: the caller upholds the argument contract above.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_io_uring_register,
            fd as libc::c_long,
            opcode as libc::c_long,
            arg,
            nr_args as libc::c_long,
        )
    };
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret as u32)
    }
}

/// One memory mapping, unmapped on drop.
#[derive(Debug)]
pub(crate) struct Mmap {
    ptr: NonNull<c_void>,
    len: usize,
}

// SAFETY: the mapping is plain memory; access to its contents is governed by the ring types that
// hold it, which use atomics for shared counters.
unsafe impl Send for Mmap {}
// SAFETY: as above; `Mmap` itself offers no interior mutability.
unsafe impl Sync for Mmap {}

impl Mmap {
    /// Maps `len` bytes of the io_uring fd `fd` at `offset` (`IORING_OFF_*`), shared,
    /// read/write, populated.
    pub(crate) fn ring(fd: i32, offset: u64, len: usize) -> io::Result<Self> {
        // SAFETY: the fd is borrowed only for the duration of the call and is an open io_uring
        // fd owned by the caller.
        let fd = unsafe { rustix::fd::BorrowedFd::borrow_raw(fd) };
        // SAFETY: a fresh mapping at an address the kernel picks aliases no Rust object.
        let ptr = unsafe {
            rustix::mm::mmap(
                core::ptr::null_mut(),
                len,
                ProtFlags::READ | ProtFlags::WRITE,
                MapFlags::SHARED | MapFlags::POPULATE,
                fd,
                offset,
            )
        }?;
        Ok(Self { ptr: NonNull::new(ptr).expect("mmap returned null"), len })
    }

    /// Maps `len` bytes of zeroed anonymous memory, on 2 MiB huge pages if `huge` (the length
    /// then rounded up to whole huge pages, as the kernel maps them: unmapping or
    /// [retiring](Self::retire) part of a huge page fails with `EINVAL`).
    pub(crate) fn anonymous(len: usize, huge: bool) -> io::Result<Self> {
        Self::anonymous_with(len, huge, true)
    }

    /// [`anonymous`](Self::anonymous), pre-faulted (`MAP_POPULATE`) only if `populate`:
    /// otherwise each page is allocated when it is first touched.
    pub(crate) fn anonymous_with(len: usize, huge: bool, populate: bool) -> io::Result<Self> {
        let mut flags = MapFlags::PRIVATE;
        if populate {
            flags |= MapFlags::POPULATE;
        }
        let mut len = len;
        if huge {
            flags |= MapFlags::HUGETLB | MapFlags::HUGE_2MB;
            len = len
                .checked_next_multiple_of(crate::setup::HUGE_PAGE_SIZE)
                .ok_or_else(|| io::Error::from_raw_os_error(libc::ENOMEM))?;
        }
        Self::map_anonymous(len, flags)
    }

    /// Maps `len` bytes of private read/write anonymous memory with `flags`.
    fn map_anonymous(len: usize, flags: MapFlags) -> io::Result<Self> {
        // SAFETY: a fresh anonymous mapping aliases no Rust object.
        let ptr = unsafe {
            rustix::mm::mmap_anonymous(core::ptr::null_mut(), len, ProtFlags::READ | ProtFlags::WRITE, flags)
        }?;
        Ok(Self { ptr: NonNull::new(ptr).expect("mmap returned null"), len })
    }

    /// Reserves `len` bytes of private read/write address space without backing it
    /// (`MAP_NORESERVE`, not populated): pages are allocated only if touched. For tests that
    /// need a valid slice longer than any memory they would touch.
    #[cfg(test)]
    pub(crate) fn reserve(len: usize) -> io::Result<Self> {
        Self::map_anonymous(len, MapFlags::PRIVATE | MapFlags::NORESERVE)
    }

    /// The start of the mapping.
    #[inline]
    pub(crate) fn as_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr().cast()
    }

    /// The mapped length in bytes.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// `madvise(MADV_DONTFORK)`: keep the mapping out of forked children.
    pub(crate) fn dontfork(&self) -> io::Result<()> {
        // SAFETY: the range is exactly this mapping.
        unsafe { rustix::mm::madvise(self.ptr.as_ptr(), self.len, rustix::mm::Advice::LinuxDontFork) }?;
        Ok(())
    }

    /// Gives the memory up without giving the address range back: replaces the mapping with an
    /// inaccessible reservation of exactly the same range (`mmap(2)` with `PROT_NONE` and
    /// `MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE`) that is never unmapped.
    ///
    /// For memory the kernel may still write after the crate is done with it (a request of a
    /// ring whose teardown could not be confirmed): a late write faults (the request fails with
    /// `EFAULT`) instead of landing in whatever a later `mmap(2)` or allocator would have put at
    /// the freed address. The pages themselves are freed (the replacement discards them); only
    /// the address range and one mapping entry stay in use. If the reservation cannot be made
    /// (`ENOMEM`: the process's mapping count limit), the mapping is leaked as it is, which is
    /// just as safe.
    pub(crate) fn retire(self) {
        let this = core::mem::ManuallyDrop::new(self);
        // SAFETY: the range is exactly this mapping, which the crate owns and which no Rust
        // reference points into any more (the caller gives it up by value). `MAP_FIXED` replaces
        // it atomically: at no moment is the range unmapped, so no other mapping can take it.
        // Whether this succeeds or not, the range is never unmapped (`this` is not dropped).
        let _ = unsafe {
            rustix::mm::mmap_anonymous(
                this.ptr.as_ptr(),
                this.len,
                ProtFlags::empty(),
                MapFlags::PRIVATE | MapFlags::FIXED | MapFlags::NORESERVE,
            )
        };
    }
}

impl Drop for Mmap {
    fn drop(&mut self) {
        // SAFETY: the range is exactly this mapping, and every pointer into it is owned by the
        // object that owns `self`, which is being dropped.
        let _ = unsafe { rustix::mm::munmap(self.ptr.as_ptr(), self.len) };
    }
}

/// The system page size.
pub(crate) fn page_size() -> usize {
    rustix::param::page_size()
}
