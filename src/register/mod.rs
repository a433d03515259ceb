//! Registered resources: everything `io_uring_register(2)` (Linux 5.1) sets up on a ring.
//!
//! Registration hands the kernel a resource once, so that later requests can name it by a small
//! index instead of paying for a lookup (or a page pin) on every request:
//!
//! - **Fixed buffers** ([`Submitter::register_buffers`] and friends): memory the kernel pins
//!   once; `READ_FIXED`/`WRITE_FIXED` and the other `*_FIXED` operations name it by its index
//!   (`buf_index`). Tables can be sparse, updated slot by slot, and cloned from another ring
//!   ([`CloneBuffers`]).
//! - **Fixed files** ([`Submitter::register_files`] and friends): a per-ring file table
//!   ("direct descriptors"). Operations name a slot with
//!   [`Target::fixed`](crate::op::Target::fixed) (`IOSQE_FIXED_FILE`), and file-creating
//!   operations can put their file straight into a slot ([`DestSlot`](crate::op::DestSlot)),
//!   optionally inside a range reserved with [`Submitter::register_file_alloc_range`].
//! - **Tags**: buffers and files registered or updated "with tags" carry a non-zero `u64`. When
//!   a tagged resource leaves the table (replaced by an update, or unregistered) *and* no
//!   in-flight request still uses it, the kernel posts a completion whose `user_data` is the tag
//!   and whose result is 0: the signal that the memory or file may now be reused.
//! - **Notification and credentials**: an eventfd signalled on completions
//!   ([`Submitter::register_eventfd`]), and personalities — saved credentials that single
//!   requests can run with ([`Submitter::register_personality`], then
//!   [`Sqe::personality`](crate::Sqe::personality)).
//! - **Policy and tuning**: [`Restriction`]s for rings created disabled, per-task restrictions
//!   ([`register_task_restrictions`]), io-wq worker affinity and limits.
//! - **Raw provided-buffer ring calls** ([`Submitter::register_pbuf_ring_raw`],
//!   [`Submitter::unregister_pbuf_ring`], [`Submitter::pbuf_status`]), the building blocks under
//!   the typed buffer rings of [`crate::buf`].
//! - **Ring-less calls** (`fd = -1`): [`send_msg_ring`] posts a completion to a ring without
//!   owning one, [`register_task_restrictions`] restricts every ring the calling task creates.
//!
//! Every method lives on [`Submitter`] (reach it with [`Ring::submitter`](crate::Ring::submitter))
//! and goes through the registered ring index when the ring fd is registered and the kernel
//! allows it (`IORING_REGISTER_USE_REGISTERED_RING`), as liburing does. Arguments the kernel
//! would refuse (empty tables, counts that do not fit, buffers over the kernel's 1 GiB limit,
//! tag arrays of the wrong length) fail with a typed [`Error`] before any system call; what
//! only the kernel can decide fails with [`Error::Os`] carrying its errno.
//!
//! See [`io_uring_register(2)`](https://man7.org/linux/man-pages/man2/io_uring_register.2.html)
//! and the liburing man pages named on each method.
//!
//! [`Submitter`]: crate::Submitter
//! [`Submitter::register_buffers`]: crate::Submitter::register_buffers
//! [`Submitter::register_files`]: crate::Submitter::register_files
//! [`Submitter::register_file_alloc_range`]: crate::Submitter::register_file_alloc_range
//! [`Submitter::register_eventfd`]: crate::Submitter::register_eventfd
//! [`Submitter::register_personality`]: crate::Submitter::register_personality
//! [`Submitter::register_pbuf_ring_raw`]: crate::Submitter::register_pbuf_ring_raw
//! [`Submitter::unregister_pbuf_ring`]: crate::Submitter::unregister_pbuf_ring
//! [`Submitter::pbuf_status`]: crate::Submitter::pbuf_status
//! [`Error`]: crate::Error
//! [`Error::Os`]: crate::Error::Os

use core::ffi::c_void;

use crate::{Error, Result, Submitter};

mod buffers;
mod files;
mod misc;

pub use buffers::{CloneBuffers, IovecLike, MAX_BUFFER_LEN};
pub use files::{FdLike, SlotFd, EMPTY_SLOT, SKIP_SLOT};
pub use misc::{register_task_restrictions, send_msg_ring, Restriction};

/// The private supertrait that seals [`IovecLike`] and [`FdLike`].
mod sealed {
    pub trait Sealed {}
}

/// The number of elements of a table argument as the kernel's `u32`: refuses an empty table
/// and one longer than `u32::MAX`.
fn table_len(len: usize, what: &'static str) -> Result<u32> {
    if len == 0 {
        return Err(Error::InvalidArgument { what, reason: "empty: at least one entry is needed" });
    }
    u32::try_from(len).map_err(|_| Error::InvalidArgument { what, reason: "more than u32::MAX entries" })
}

/// Checks that a tag array has one tag per entry.
fn check_tags(entries: usize, tags: &[u64]) -> Result<()> {
    if tags.len() != entries {
        return Err(Error::InvalidArgument {
            what: "tags",
            reason: "the tag array must have exactly one tag (0 for none) per entry",
        });
    }
    Ok(())
}

impl Submitter {
    /// `io_uring_register(2)` with a typed error.
    ///
    /// # Safety
    /// As [`Submitter::register_raw`].
    #[inline]
    unsafe fn register_checked(&self, opcode: u32, arg: *const c_void, nr_args: u32) -> Result<u32> {
        // SAFETY: the caller's contract, passed on.
        unsafe { self.register_raw(opcode, arg, nr_args) }.map_err(Error::Os)
    }
}

/// `io_uring_register(2)` with `fd = -1`: the "blind" opcodes that act on the calling task
/// rather than on a ring (Linux 6.13).
///
/// # Safety
/// `arg` must be what `opcode` expects, readable (and writable where the kernel writes back).
unsafe fn register_blind(opcode: u32, arg: *const c_void, nr_args: u32) -> Result<u32> {
    // SAFETY: the caller's contract, passed on.
    unsafe { crate::sys::register(-1, opcode, arg, nr_args) }.map_err(Error::Os)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_len_limits() {
        assert!(matches!(table_len(0, "x"), Err(Error::InvalidArgument { what: "x", .. })));
        assert_eq!(table_len(3, "x").unwrap(), 3);
        assert_eq!(table_len(u32::MAX as usize, "x").unwrap(), u32::MAX);
        #[cfg(target_pointer_width = "64")]
        assert!(matches!(table_len(u32::MAX as usize + 1, "x"), Err(Error::InvalidArgument { .. })));
    }

    #[test]
    fn tags_must_match() {
        assert!(check_tags(2, &[1, 2]).is_ok());
        assert!(matches!(check_tags(2, &[1]), Err(Error::InvalidArgument { what: "tags", .. })));
        assert!(check_tags(1, &[1, 2]).is_err());
    }
}
