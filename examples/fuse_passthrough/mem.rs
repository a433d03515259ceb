//! Page-aligned anonymous memory for request buffers: payloads the kernel fills, and that
//! backing reads and writes use directly (`O_DIRECT` files need aligned buffers).

use std::io;

/// An anonymous private mapping, unmapped on drop.
pub struct Mapping {
    ptr: *mut u8,
    len: usize,
}

// SAFETY: the mapping is plain memory owned by this value; nothing ties it to a thread.
unsafe impl Send for Mapping {}

impl Mapping {
    /// `len` bytes (rounded up to whole pages), zero-filled.
    pub fn new(len: usize) -> io::Result<Self> {
        let page = page_size();
        let len = len.div_ceil(page).max(1) * page;
        // SAFETY: a fresh anonymous mapping; no existing memory is affected.
        let ptr = unsafe {
            libc::mmap(
                core::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(Mapping { ptr: ptr.cast(), len })
    }

    /// The mapping's length.
    pub fn len(&self) -> usize {
        self.len
    }

    /// The start address.
    pub fn as_mut_ptr(&mut self) -> *mut u8 {
        self.ptr
    }

    /// `len` bytes at `off` (panics if out of range).
    pub fn slice_mut(&mut self, off: usize, len: usize) -> &mut [u8] {
        assert!(off.checked_add(len).is_some_and(|end| end <= self.len), "slice out of the mapping");
        // SAFETY: in range (checked above), and the borrow of `self` makes it exclusive.
        unsafe { core::slice::from_raw_parts_mut(self.ptr.add(off), len) }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: `ptr`/`len` describe the mapping made in `new`, unmapped only here.
        unsafe { libc::munmap(self.ptr.cast(), self.len) };
    }
}

/// The system page size.
pub fn page_size() -> usize {
    // SAFETY: sysconf has no memory-safety preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if n > 0 {
        n as usize
    } else {
        4096
    }
}
