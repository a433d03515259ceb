//! Fixed (registered) buffers: register, update, unregister, and clone from another ring.

use core::ffi::c_void;
use core::marker::PhantomData;
use core::mem::size_of;
use std::io::IoSliceMut;
use std::os::fd::{AsRawFd, BorrowedFd};

use uring_uapi::*;

use super::{check_tags, sealed, table_len};
use crate::{Error, Result, Ring, Submitter};

/// The kernel's limit on the length of one registered buffer: 1 GiB (`SZ_1G` in
/// `io_buffer_validate`). Longer buffers are refused before the system call.
/// (`IORING_REGISTER_BUFFERS`, Linux 5.1.)
pub const MAX_BUFFER_LEN: usize = 1 << 30;

/// An element of a buffer table: [`libc::iovec`] or [`IoSliceMut`], both laid out as the
/// kernel's `struct iovec` (the standard library guarantees this of `IoSliceMut` on Unix).
///
/// A null address with length 0 is an empty slot (only expressible with `libc::iovec`).
/// Sealed: implemented for exactly these two types.
/// (`IORING_REGISTER_BUFFERS`, Linux 5.1.)
pub trait IovecLike: sealed::Sealed {
    /// The element as a `struct iovec`.
    fn to_iovec(&self) -> libc::iovec;
}

impl sealed::Sealed for libc::iovec {}
impl IovecLike for libc::iovec {
    #[inline]
    fn to_iovec(&self) -> libc::iovec {
        *self
    }
}

impl sealed::Sealed for IoSliceMut<'_> {}
impl IovecLike for IoSliceMut<'_> {
    #[inline]
    fn to_iovec(&self) -> libc::iovec {
        libc::iovec { iov_base: self.as_ptr() as *mut c_void, iov_len: self.len() }
    }
}

// The slices are handed to the kernel as `struct iovec` arrays without copying.
const _: () = {
    assert!(size_of::<IoSliceMut<'static>>() == size_of::<libc::iovec>());
    assert!(core::mem::align_of::<IoSliceMut<'static>>() == core::mem::align_of::<libc::iovec>());
};

/// Checks one table entry the way `io_buffer_validate` will, plus the kernel's rule that an
/// empty slot carries no tag.
fn check_iovec(iov: &libc::iovec, tag: u64) -> Result<()> {
    let base = iov.iov_base as usize;
    let len = iov.iov_len;
    if base == 0 {
        if len != 0 {
            return Err(Error::InvalidArgument { what: "buffer", reason: "null address with a non-zero length" });
        }
        if tag != 0 {
            return Err(Error::InvalidArgument {
                what: "tags",
                reason: "an empty slot (null iovec) cannot carry a tag",
            });
        }
        return Ok(());
    }
    if len == 0 {
        return Err(Error::InvalidArgument {
            what: "buffer",
            reason: "zero length (an empty slot is a null iovec: address 0, length 0)",
        });
    }
    if len > MAX_BUFFER_LEN {
        return Err(Error::InvalidArgument {
            what: "buffer",
            reason: "longer than 1 GiB, the kernel's per-buffer limit",
        });
    }
    if base.checked_add(len + crate::sys::page_size() - 1).is_none() {
        return Err(Error::InvalidArgument { what: "buffer", reason: "wraps around the end of the address space" });
    }
    Ok(())
}

/// Validates a table (and its tags) and returns its length.
fn check_table<T: IovecLike>(bufs: &[T], tags: Option<&[u64]>) -> Result<u32> {
    let n = table_len(bufs.len(), "buffers")?;
    if let Some(tags) = tags {
        check_tags(bufs.len(), tags)?;
    }
    for (i, b) in bufs.iter().enumerate() {
        check_iovec(&b.to_iovec(), tags.map_or(0, |t| t[i]))?;
    }
    Ok(n)
}

/// Which buffers [`Submitter::clone_buffers_with`] copies, from which ring
/// (`struct io_uring_clone_buffers`).
///
/// By default the whole table of the source is cloned into an empty destination table. With
/// [`range`](Self::range) only `nr` buffers starting at `src_off` are cloned, to slots starting
/// at `dst_off` (a new destination table has `dst_off + nr` slots, the others empty). With
/// [`replace`](Self::replace) a destination that already has a table gets the cloned buffers
/// in the range's slots; its buffers below `dst_off` are kept, and on Linux 6.18 those past the
/// range too (some earlier kernels dropped those).
#[derive(Debug, Clone, Copy)]
pub struct CloneBuffers<'a> {
    arg: io_uring_clone_buffers,
    _src: PhantomData<BorrowedFd<'a>>,
}

impl<'a> CloneBuffers<'a> {
    /// Clones from `src`, named by its fd when it has one, else by its registered index.
    /// (`IORING_REGISTER_CLONE_BUFFERS`, Linux 6.12.)
    pub fn from_ring(src: &'a Ring) -> Self {
        Self::from_submitter(src.submitter())
    }

    /// Clones from the ring `src` belongs to, named by its fd when it has one (valid on any
    /// thread), else by its registered index (`IORING_REGISTER_SRC_REGISTERED`).
    /// Linux 6.12.
    pub fn from_submitter(src: &'a Submitter) -> Self {
        match src.raw_fd() {
            // The fd is used for the clone call only, while `src` is borrowed.
            Some(fd) => CloneBuffers {
                arg: io_uring_clone_buffers { src_fd: fd as u32, ..Default::default() },
                _src: PhantomData,
            },
            None => Self::from_registered_index(src.enter_fd() as u32),
        }
    }

    /// Clones from the ring whose fd is `fd`.
    /// (`IORING_REGISTER_CLONE_BUFFERS`, Linux 6.12.)
    pub fn from_fd(fd: BorrowedFd<'a>) -> Self {
        CloneBuffers {
            arg: io_uring_clone_buffers { src_fd: fd.as_raw_fd() as u32, ..Default::default() },
            _src: PhantomData,
        }
    }

    /// Clones from the ring registered at `index` of the calling thread's registered ring
    /// table ([`Ring::register_ring_fd`](crate::Ring::register_ring_fd)), with
    /// `IORING_REGISTER_SRC_REGISTERED`. The index is per-thread: call from the thread that
    /// registered it.
    /// Linux 6.12.
    pub const fn from_registered_index(index: u32) -> Self {
        CloneBuffers {
            arg: io_uring_clone_buffers {
                src_fd: index,
                flags: IORING_REGISTER_SRC_REGISTERED,
                src_off: 0,
                dst_off: 0,
                nr: 0,
                pad: [0; 3],
            },
            _src: PhantomData,
        }
    }

    /// Clones only the `nr` buffers starting at `src_off` of the source into slots starting at
    /// `dst_off` (Linux 6.13). `nr = 0` with both offsets 0 means the whole table.
    #[must_use]
    pub const fn range(mut self, src_off: u32, dst_off: u32, nr: u32) -> Self {
        self.arg.src_off = src_off;
        self.arg.dst_off = dst_off;
        self.arg.nr = nr;
        self
    }

    /// `IORING_REGISTER_DST_REPLACE`: replace the destination's existing table (otherwise a
    /// destination that already has buffers fails with `EBUSY`) (Linux 6.13).
    #[must_use]
    pub const fn replace(mut self) -> Self {
        self.arg.flags |= IORING_REGISTER_DST_REPLACE;
        self
    }

    /// The kernel argument.
    pub const fn as_raw(&self) -> &io_uring_clone_buffers {
        &self.arg
    }
}

impl Submitter {
    /// Registers a table of fixed buffers (`io_uring_register_buffers(3)`,
    /// `IORING_REGISTER_BUFFERS`, Linux 5.1). Slot `i` holds `bufs[i]`; a null `iovec` (address
    /// 0, length 0) is an empty slot.
    ///
    /// Refused before the system call: an empty table, more than `u32::MAX` entries, a buffer
    /// of length 0 or over [`MAX_BUFFER_LEN`], a null address with a length. The kernel refuses
    /// a second table (`EBUSY`), more than 16384 buffers (`EINVAL`), and pinning beyond
    /// `RLIMIT_MEMLOCK` (`ENOMEM`).
    ///
    /// # Safety
    /// The kernel pins the pages and fixed-buffer operations read and write them directly,
    /// without a Rust borrow. Every buffer must stay allocated and must not be freed, unmapped
    /// or reused for anything else while it is registered: until it is unregistered
    /// ([`unregister_buffers`](Self::unregister_buffers)) or replaced by an update, and until
    /// every request that used it has completed.
    pub unsafe fn register_buffers<T: IovecLike>(&self, bufs: &[T]) -> Result<()> {
        let n = check_table(bufs, None)?;
        // SAFETY: `n` iovecs laid out as `struct iovec` (checked above); the memory they
        // describe is the caller's contract.
        unsafe { self.register_checked(IORING_REGISTER_BUFFERS, bufs.as_ptr().cast(), n) }?;
        Ok(())
    }

    /// Registers a table of fixed buffers with a tag each (`io_uring_register_buffers_tags(3)`,
    /// `IORING_REGISTER_BUFFERS2`, Linux 5.13). A non-zero tag makes the kernel post a
    /// completion with `user_data = tag` once the buffer has left the table and no request uses
    /// it any more; 0 means no tag. Empty slots must have tag 0.
    ///
    /// `tags` must have one entry per buffer ([`Error::InvalidArgument`] otherwise).
    ///
    /// # Safety
    /// As [`register_buffers`](Self::register_buffers); for a tagged buffer, "no longer used"
    /// is signalled by its tag completion.
    pub unsafe fn register_buffers_tags<T: IovecLike>(&self, bufs: &[T], tags: &[u64]) -> Result<()> {
        let n = check_table(bufs, Some(tags))?;
        let reg = io_uring_rsrc_register {
            nr: n,
            flags: 0,
            resv2: 0,
            data: bufs.as_ptr() as u64,
            tags: tags.as_ptr() as u64,
        };
        // SAFETY: one `io_uring_rsrc_register` of its own size, pointing at `n` iovecs and `n`
        // tags that live for the call; the buffers are the caller's contract.
        unsafe {
            self.register_checked(
                IORING_REGISTER_BUFFERS2,
                (&reg as *const io_uring_rsrc_register).cast(),
                size_of::<io_uring_rsrc_register>() as u32,
            )
        }?;
        Ok(())
    }

    /// Registers a table of `nr` empty buffer slots, to fill later with
    /// [`register_buffers_update`](Self::register_buffers_update) or by cloning
    /// (`io_uring_register_buffers_sparse(3)`, `IORING_REGISTER_BUFFERS2` with
    /// `IORING_RSRC_REGISTER_SPARSE`, Linux 5.19).
    pub fn register_buffers_sparse(&self, nr: u32) -> Result<()> {
        if nr == 0 {
            return Err(Error::InvalidArgument { what: "buffers", reason: "a sparse table needs at least one slot" });
        }
        let reg = io_uring_rsrc_register { nr, flags: IORING_RSRC_REGISTER_SPARSE, ..Default::default() };
        // SAFETY: one `io_uring_rsrc_register` of its own size, pointing at nothing.
        unsafe {
            self.register_checked(
                IORING_REGISTER_BUFFERS2,
                (&reg as *const io_uring_rsrc_register).cast(),
                size_of::<io_uring_rsrc_register>() as u32,
            )
        }?;
        Ok(())
    }

    /// Replaces the buffers in slots `offset..offset + bufs.len()` of the table
    /// (`io_uring_register_buffers_update_tag(3)` without tags, `IORING_REGISTER_BUFFERS_UPDATE`,
    /// Linux 5.13). A null `iovec` empties its slot. Returns how many slots were updated (the
    /// kernel stops at the first failure and reports it only if nothing was updated).
    ///
    /// The old buffers are released once no request uses them (posting their tags, if any).
    /// `ENXIO` without a table, `EINVAL` past its end.
    ///
    /// # Safety
    /// As [`register_buffers`](Self::register_buffers), for the new buffers.
    pub unsafe fn register_buffers_update<T: IovecLike>(&self, offset: u32, bufs: &[T]) -> Result<u32> {
        // SAFETY: the caller's contract, passed on.
        unsafe { self.buffers_update(offset, bufs, None) }
    }

    /// Replaces buffers like [`register_buffers_update`](Self::register_buffers_update), giving
    /// each new buffer a tag (`io_uring_register_buffers_update_tag(3)`,
    /// `IORING_REGISTER_BUFFERS_UPDATE`, Linux 5.13). `tags` must have one entry per buffer.
    ///
    /// # Safety
    /// As [`register_buffers_tags`](Self::register_buffers_tags), for the new buffers.
    pub unsafe fn register_buffers_update_tag<T: IovecLike>(
        &self,
        offset: u32,
        bufs: &[T],
        tags: &[u64],
    ) -> Result<u32> {
        // SAFETY: the caller's contract, passed on.
        unsafe { self.buffers_update(offset, bufs, Some(tags)) }
    }

    /// # Safety
    /// As [`register_buffers`](Self::register_buffers).
    unsafe fn buffers_update<T: IovecLike>(&self, offset: u32, bufs: &[T], tags: Option<&[u64]>) -> Result<u32> {
        let n = check_table(bufs, tags)?;
        if offset.checked_add(n).is_none() {
            return Err(Error::InvalidArgument { what: "offset", reason: "offset + count overflows u32" });
        }
        let up = io_uring_rsrc_update2 {
            offset,
            resv: 0,
            data: bufs.as_ptr() as u64,
            tags: tags.map_or(0, |t| t.as_ptr() as u64),
            nr: n,
            resv2: 0,
        };
        // SAFETY: one `io_uring_rsrc_update2` of its own size, pointing at `n` iovecs (and tags)
        // that live for the call; the buffers are the caller's contract.
        unsafe {
            self.register_checked(
                IORING_REGISTER_BUFFERS_UPDATE,
                (&up as *const io_uring_rsrc_update2).cast(),
                size_of::<io_uring_rsrc_update2>() as u32,
            )
        }
    }

    /// Unregisters the whole buffer table (`io_uring_unregister_buffers(3)`,
    /// `IORING_UNREGISTER_BUFFERS`, Linux 5.1). Buffers still used by in-flight requests are
    /// released when those complete; tagged ones then post their tag completions. `ENXIO`
    /// without a table.
    pub fn unregister_buffers(&self) -> Result<()> {
        // SAFETY: no argument.
        unsafe { self.register_checked(IORING_UNREGISTER_BUFFERS, core::ptr::null(), 0) }?;
        Ok(())
    }

    /// Gives this ring the registered buffers of `src` (`io_uring_clone_buffers(3)`,
    /// `IORING_REGISTER_CLONE_BUFFERS`, Linux 6.12): both rings then share the same pinned
    /// pages, without pinning or accounting them again. This ring must have no buffer table
    /// (`EBUSY`), `src` must have one (`ENXIO`).
    pub fn clone_buffers(&self, src: &Ring) -> Result<()> {
        self.clone_buffers_with(&CloneBuffers::from_ring(src))
    }

    /// Clones registered buffers from another ring as `args` describes: whole table or a
    /// range, source by fd or registered index, replacing or not
    /// (`io_uring_clone_buffers_offset(3)`, `IORING_REGISTER_CLONE_BUFFERS`; Linux 6.12, ranges
    /// and `IORING_REGISTER_DST_REPLACE` Linux 6.13).
    ///
    /// Refused before the system call: offsets without a count, and ranges whose end overflows
    /// `u32`. The kernel answers `EINVAL` for a range past the end of the source table and
    /// `EOPNOTSUPP` when the source is not an io_uring.
    pub fn clone_buffers_with(&self, args: &CloneBuffers<'_>) -> Result<()> {
        let a = args.arg;
        if a.nr == 0 && (a.src_off != 0 || a.dst_off != 0) {
            return Err(Error::InvalidArgument {
                what: "clone range",
                reason: "offsets need an explicit count (a count of 0 means the whole table)",
            });
        }
        if a.src_off.checked_add(a.nr).is_none() || a.dst_off.checked_add(a.nr).is_none() {
            return Err(Error::InvalidArgument { what: "clone range", reason: "offset + count overflows u32" });
        }
        // SAFETY: one valid `io_uring_clone_buffers`; the kernel copies it.
        unsafe {
            self.register_checked(IORING_REGISTER_CLONE_BUFFERS, (&a as *const io_uring_clone_buffers).cast(), 1)
        }?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iov(base: usize, len: usize) -> libc::iovec {
        libc::iovec { iov_base: base as *mut c_void, iov_len: len }
    }

    #[test]
    fn iovec_checks() {
        assert!(check_iovec(&iov(0, 0), 0).is_ok(), "empty slot");
        assert!(check_iovec(&iov(0x1000, 4096), 7).is_ok());
        assert!(check_iovec(&iov(0x1000, MAX_BUFFER_LEN), 0).is_ok());
        assert!(check_iovec(&iov(0, 0), 7).is_err(), "tagged empty slot");
        assert!(check_iovec(&iov(0, 16), 0).is_err(), "null with length");
        assert!(check_iovec(&iov(0x1000, 0), 0).is_err(), "zero length");
        assert!(check_iovec(&iov(0x1000, MAX_BUFFER_LEN + 1), 0).is_err(), "over 1 GiB");
        assert!(check_iovec(&iov(usize::MAX - 100, 50), 0).is_err(), "wraps");
    }

    #[test]
    fn io_slice_mut_is_an_iovec() {
        let mut a = [0u8; 8];
        let s = [IoSliceMut::new(&mut a)];
        let v = s[0].to_iovec();
        // SAFETY: `IoSliceMut` is ABI-compatible with `iovec` (asserted at compile time).
        let raw = unsafe { &*(s.as_ptr() as *const libc::iovec) };
        assert_eq!((raw.iov_base, raw.iov_len), (v.iov_base, v.iov_len));
        assert_eq!(v.iov_len, 8);
    }

    #[test]
    fn table_checks() {
        let empty: [libc::iovec; 0] = [];
        assert!(matches!(check_table(&empty, None), Err(Error::InvalidArgument { what: "buffers", .. })));
        let t = [iov(0x1000, 16), iov(0, 0)];
        assert_eq!(check_table(&t, None).unwrap(), 2);
        assert_eq!(check_table(&t, Some(&[1, 0])).unwrap(), 2);
        assert!(matches!(check_table(&t, Some(&[1])), Err(Error::InvalidArgument { what: "tags", .. })));
        assert!(check_table(&t, Some(&[1, 2])).is_err(), "tag on the empty slot");
    }

    #[test]
    fn clone_args() {
        let c = CloneBuffers::from_registered_index(3).range(1, 2, 4).replace();
        let a = c.as_raw();
        assert_eq!(
            (a.src_fd, a.flags, a.src_off, a.dst_off, a.nr),
            (3, IORING_REGISTER_SRC_REGISTERED | IORING_REGISTER_DST_REPLACE, 1, 2, 4)
        );
    }
}
