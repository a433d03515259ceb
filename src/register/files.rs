//! Fixed (registered) files: register, update, unregister, and the allocation range.

use core::mem::size_of;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};

use rustix::process::{Resource, Rlimit};
use uring_uapi::*;

use super::{check_tags, sealed, table_len};
use crate::{Error, Result, Submitter};

/// One entry of a file table being registered or updated: a borrowed file, an empty slot (in
/// an update: clear the slot), or, in updates only, a slot left unchanged
/// (`IORING_REGISTER_FILES_SKIP`). The kernel takes its own reference to each file during the
/// call, so a borrow for the call is enough.
/// (`IORING_REGISTER_FILES`, Linux 5.1; updates `IORING_REGISTER_FILES_UPDATE`, Linux 5.5.)
#[derive(Debug, Clone, Copy)]
pub enum SlotFd<'fd> {
    /// The file.
    File(BorrowedFd<'fd>),
    /// An empty slot (-1): left empty when registering, cleared when updating.
    Empty,
    /// Leave the slot unchanged (`IORING_REGISTER_FILES_SKIP`, -2; updates only).
    Skip,
}

/// An empty slot when registering, or a slot to clear when updating.
/// (-1 in the `IORING_REGISTER_FILES` table.)
pub const EMPTY_SLOT: SlotFd<'static> = SlotFd::Empty;

/// A slot an update leaves unchanged (`IORING_REGISTER_FILES_SKIP`).
pub const SKIP_SLOT: SlotFd<'static> = SlotFd::Skip;

impl<'fd> From<BorrowedFd<'fd>> for SlotFd<'fd> {
    fn from(fd: BorrowedFd<'fd>) -> Self {
        SlotFd::File(fd)
    }
}

impl<'fd> From<Option<BorrowedFd<'fd>>> for SlotFd<'fd> {
    /// `None` is an empty slot.
    fn from(fd: Option<BorrowedFd<'fd>>) -> Self {
        fd.map_or(SlotFd::Empty, SlotFd::File)
    }
}

/// An element of a file table: a [`BorrowedFd`], an `Option<BorrowedFd>` (`None`: an empty
/// slot) or a [`SlotFd`]. Raw fd numbers are not accepted (I/O safety: a number does not say
/// that the file is open); borrow one with `BorrowedFd::borrow_raw` (`unsafe`).
///
/// Sealed: implemented for exactly these three types.
/// (`IORING_REGISTER_FILES`, Linux 5.1.)
pub trait FdLike: sealed::Sealed {
    /// The entry.
    fn slot_fd(&self) -> SlotFd<'_>;
}

impl sealed::Sealed for BorrowedFd<'_> {}
impl FdLike for BorrowedFd<'_> {
    #[inline]
    fn slot_fd(&self) -> SlotFd<'_> {
        SlotFd::File(*self)
    }
}

impl sealed::Sealed for Option<BorrowedFd<'_>> {}
impl FdLike for Option<BorrowedFd<'_>> {
    #[inline]
    fn slot_fd(&self) -> SlotFd<'_> {
        SlotFd::from(*self)
    }
}

impl sealed::Sealed for SlotFd<'_> {}
impl FdLike for SlotFd<'_> {
    #[inline]
    fn slot_fd(&self) -> SlotFd<'_> {
        *self
    }
}

/// Validates a table for registration (`update = false`) or an update, with its tags, and
/// lays it out as the kernel's `int` array.
fn check_fds<F: FdLike>(fds: &[F], tags: Option<&[u64]>, update: bool) -> Result<(u32, Vec<RawFd>)> {
    let n = table_len(fds.len(), "files")?;
    if let Some(tags) = tags {
        check_tags(fds.len(), tags)?;
    }
    let mut raw = Vec::with_capacity(fds.len());
    for (i, f) in fds.iter().enumerate() {
        let tag = tags.map_or(0, |t| t[i]);
        let (fd, special) = match f.slot_fd() {
            SlotFd::File(fd) => (fd.as_raw_fd(), false),
            SlotFd::Empty => (-1, true),
            SlotFd::Skip if update => (IORING_REGISTER_FILES_SKIP, true),
            SlotFd::Skip => {
                return Err(Error::InvalidArgument {
                    what: "fd",
                    reason: "SKIP_SLOT (IORING_REGISTER_FILES_SKIP) is for updates only",
                })
            }
        };
        if special && tag != 0 {
            return Err(Error::InvalidArgument { what: "tags", reason: "an empty or skipped slot cannot carry a tag" });
        }
        raw.push(fd);
    }
    Ok((n, raw))
}

/// The new soft `RLIMIT_NOFILE` that lets a table of `needed` files register, given the
/// current soft and hard limits (`None` = unlimited): `needed`, capped at the hard limit.
/// `None` when raising would not change anything.
pub(crate) fn nofile_target(soft: Option<u64>, hard: Option<u64>, needed: u64) -> Option<u64> {
    let soft = soft?;
    if soft >= needed {
        return None;
    }
    let target = hard.map_or(needed, |h| needed.min(h));
    (target > soft).then_some(target)
}

/// Raises the soft `RLIMIT_NOFILE` so that `needed` files fit (liburing's
/// `increase_rlimit_nofile`). Returns whether the limit changed.
pub(crate) fn raise_nofile(needed: u64) -> io::Result<bool> {
    let cur = rustix::process::getrlimit(Resource::Nofile);
    let Some(target) = nofile_target(cur.current, cur.maximum, needed) else {
        return Ok(false);
    };
    rustix::process::setrlimit(Resource::Nofile, Rlimit { current: Some(target), maximum: cur.maximum })?;
    Ok(true)
}

/// Runs a file registration; on `EMFILE` (a table larger than the soft `RLIMIT_NOFILE`) raises
/// the limit once and retries, as liburing does.
fn with_nofile_retry(needed: u32, mut call: impl FnMut() -> Result<u32>) -> Result<u32> {
    match call() {
        Err(e) if e.is_errno(libc::EMFILE) => match raise_nofile(needed as u64) {
            Ok(true) => call(),
            _ => Err(e),
        },
        r => r,
    }
}

impl Submitter {
    /// Registers a file table (`io_uring_register_files(3)`, `IORING_REGISTER_FILES`,
    /// Linux 5.1). Slot `i` holds `fds[i]`; [`EMPTY_SLOT`] (or `None`) leaves a slot empty. The kernel
    /// takes its own reference to each file: closing the fd afterwards does not affect the slot.
    /// Operations then name the slot with [`Target::fixed`](crate::op::Target::fixed).
    ///
    /// A table larger than the soft `RLIMIT_NOFILE` fails with `EMFILE`; like liburing, this
    /// raises the soft limit once (to the table size, at most the hard limit) and retries.
    /// Refused before the system call: an empty table, more than `u32::MAX` entries,
    /// [`SKIP_SLOT`]. The kernel refuses a second table (`EBUSY`), closed fds and io_uring
    /// fds (`EBADF`).
    ///
    /// Registering a file once and reading it through its slot (`IOSQE_FIXED_FILE`), which
    /// spares the kernel the fd lookup of each request; on the owned layer the slot is
    /// [`Fd::fixed`](crate::owned::Fd::fixed):
    ///
    /// ```
    /// use std::os::fd::AsFd;
    /// use uring::owned::{Fd, OwnedRing, Read};
    ///
    /// let path = std::env::temp_dir().join(format!("uring-doc-files-{}", std::process::id()));
    /// std::fs::write(&path, b"0123456789")?;
    /// let file = std::fs::File::open(&path)?;
    /// std::fs::remove_file(&path)?;
    ///
    /// let mut ring = OwnedRing::new(4)?;
    /// ring.ring().submitter().register_files(&[file.as_fd()])?;
    /// drop(file); // the table holds its own reference
    /// for i in 0..10u64 {
    ///     ring.push(Read::new(Fd::fixed(0), vec![0; 1], i))?;
    ///     let c = ring.wait()?;
    ///     assert_eq!(c.result(), Ok(1));
    ///     let read: Read = c.into_op().expect("the read");
    ///     assert_eq!(read.buf[0], b'0' + i as u8);
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn register_files<F: FdLike>(&self, fds: &[F]) -> Result<()> {
        let (n, fds) = check_fds(fds, None, false)?;
        with_nofile_retry(n, || {
            // SAFETY: `n` ints that live for the call.
            unsafe { self.register_checked(IORING_REGISTER_FILES, fds.as_ptr().cast(), n) }
        })?;
        Ok(())
    }

    /// Registers a file table with a tag each (`io_uring_register_files_tags(3)`,
    /// `IORING_REGISTER_FILES2`, Linux 5.13). A non-zero tag makes the kernel post a completion
    /// with `user_data = tag` once the file has left the table and no request uses it; empty
    /// slots must have tag 0. `tags` must have one entry per fd. Retries once on `EMFILE` as
    /// [`register_files`](Self::register_files) does.
    pub fn register_files_tags<F: FdLike>(&self, fds: &[F], tags: &[u64]) -> Result<()> {
        let (n, fds) = check_fds(fds, Some(tags), false)?;
        let reg =
            io_uring_rsrc_register { nr: n, flags: 0, resv2: 0, data: fds.as_ptr() as u64, tags: tags.as_ptr() as u64 };
        with_nofile_retry(n, || {
            // SAFETY: one `io_uring_rsrc_register` of its own size, pointing at `n` ints and `n`
            // tags that live for the call.
            unsafe {
                self.register_checked(
                    IORING_REGISTER_FILES2,
                    (&reg as *const io_uring_rsrc_register).cast(),
                    size_of::<io_uring_rsrc_register>() as u32,
                )
            }
        })?;
        Ok(())
    }

    /// Registers a table of `nr` empty file slots (`io_uring_register_files_sparse(3)`,
    /// `IORING_REGISTER_FILES2` with `IORING_RSRC_REGISTER_SPARSE`, Linux 5.19), to be filled
    /// by updates or by operations with a [`DestSlot`](crate::op::DestSlot). Retries once on
    /// `EMFILE` as [`register_files`](Self::register_files) does.
    pub fn register_files_sparse(&self, nr: u32) -> Result<()> {
        if nr == 0 {
            return Err(Error::InvalidArgument { what: "files", reason: "a sparse table needs at least one slot" });
        }
        let reg = io_uring_rsrc_register { nr, flags: IORING_RSRC_REGISTER_SPARSE, ..Default::default() };
        with_nofile_retry(nr, || {
            // SAFETY: one `io_uring_rsrc_register` of its own size, pointing at nothing.
            unsafe {
                self.register_checked(
                    IORING_REGISTER_FILES2,
                    (&reg as *const io_uring_rsrc_register).cast(),
                    size_of::<io_uring_rsrc_register>() as u32,
                )
            }
        })?;
        Ok(())
    }

    /// Replaces the files in slots `offset..offset + fds.len()` (`io_uring_register_files_update(3)`,
    /// `IORING_REGISTER_FILES_UPDATE`, Linux 5.5). [`EMPTY_SLOT`] (or `None`) clears a slot,
    /// [`SKIP_SLOT`] (`IORING_REGISTER_FILES_SKIP`) leaves it unchanged. Returns how many
    /// slots were processed (the kernel stops at the first failure and reports it only if
    /// nothing was done). `ENXIO` without a table, `EINVAL` past its end.
    pub fn register_files_update<F: FdLike>(&self, offset: u32, fds: &[F]) -> Result<u32> {
        let (n, fds) = check_fds(fds, None, true)?;
        if offset.checked_add(n).is_none() {
            return Err(Error::InvalidArgument { what: "offset", reason: "offset + count overflows u32" });
        }
        let up = io_uring_files_update { offset, resv: 0, fds: fds.as_ptr() as u64 };
        // SAFETY: one `io_uring_files_update` pointing at `n` ints that live for the call.
        unsafe { self.register_checked(IORING_REGISTER_FILES_UPDATE, (&up as *const io_uring_files_update).cast(), n) }
    }

    /// Replaces files like [`register_files_update`](Self::register_files_update), giving each
    /// new file a tag (`io_uring_register_files_update_tag(3)`, `IORING_REGISTER_FILES_UPDATE2`,
    /// Linux 5.13). `tags` must have one entry per fd; cleared and skipped slots take tag 0.
    pub fn register_files_update_tag<F: FdLike>(&self, offset: u32, fds: &[F], tags: &[u64]) -> Result<u32> {
        let (n, fds) = check_fds(fds, Some(tags), true)?;
        if offset.checked_add(n).is_none() {
            return Err(Error::InvalidArgument { what: "offset", reason: "offset + count overflows u32" });
        }
        let up = io_uring_rsrc_update2 {
            offset,
            resv: 0,
            data: fds.as_ptr() as u64,
            tags: tags.as_ptr() as u64,
            nr: n,
            resv2: 0,
        };
        // SAFETY: one `io_uring_rsrc_update2` of its own size, pointing at `n` ints and `n` tags
        // that live for the call.
        unsafe {
            self.register_checked(
                IORING_REGISTER_FILES_UPDATE2,
                (&up as *const io_uring_rsrc_update2).cast(),
                size_of::<io_uring_rsrc_update2>() as u32,
            )
        }
    }

    /// Unregisters the whole file table (`io_uring_unregister_files(3)`,
    /// `IORING_UNREGISTER_FILES`, Linux 5.1); tagged files post their tag completions once no
    /// request uses them. `ENXIO` without a table.
    pub fn unregister_files(&self) -> Result<()> {
        // SAFETY: no argument.
        unsafe { self.register_checked(IORING_UNREGISTER_FILES, core::ptr::null(), 0) }?;
        Ok(())
    }

    /// Restricts the slots the kernel picks for [`DestSlot::Alloc`](crate::op::DestSlot::Alloc)
    /// to `off..off + len` (`io_uring_register_file_alloc_range(3)`,
    /// `IORING_REGISTER_FILE_ALLOC_RANGE`, Linux 6.0), leaving the others for explicit use.
    /// The range must lie inside the registered table (`EINVAL`); `ENXIO` without a table.
    /// Registering or unregistering the table resets the range to the whole table.
    pub fn register_file_alloc_range(&self, off: u32, len: u32) -> Result<()> {
        if off.checked_add(len).is_none() {
            return Err(Error::InvalidArgument { what: "file alloc range", reason: "off + len overflows u32" });
        }
        let range = io_uring_file_index_range { off, len, resv: 0 };
        // SAFETY: one valid `io_uring_file_index_range` (the kernel wants `nr_args = 0`).
        unsafe {
            self.register_checked(
                IORING_REGISTER_FILE_ALLOC_RANGE,
                (&range as *const io_uring_file_index_range).cast(),
                0,
            )
        }?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nofile_targets() {
        // Enough already, or unlimited: nothing to do.
        assert_eq!(nofile_target(Some(1024), Some(4096), 100), None);
        assert_eq!(nofile_target(Some(100), Some(4096), 100), None);
        assert_eq!(nofile_target(None, None, 1 << 20), None);
        // Raised to what is needed.
        assert_eq!(nofile_target(Some(16), Some(4096), 64), Some(64));
        assert_eq!(nofile_target(Some(16), None, 64), Some(64));
        // Capped at the hard limit, or nothing when already there.
        assert_eq!(nofile_target(Some(16), Some(32), 64), Some(32));
        assert_eq!(nofile_target(Some(32), Some(32), 64), None);
    }

    #[test]
    fn fd_checks() {
        use std::os::fd::AsFd;
        let stdin = std::io::stdin();
        let f = SlotFd::File(stdin.as_fd());
        assert_eq!(check_fds(&[f, EMPTY_SLOT], None, false).unwrap(), (2, vec![0, -1]));
        assert!(check_fds(&[f, SKIP_SLOT], None, false).is_err(), "skip only in updates");
        assert_eq!(check_fds(&[f, SKIP_SLOT, EMPTY_SLOT], None, true).unwrap().1, vec![0, -2, -1]);
        assert_eq!(check_fds(&[Some(stdin.as_fd()), None], None, true).unwrap().1, vec![0, -1]);
        let empty: [BorrowedFd<'_>; 0] = [];
        assert!(matches!(check_fds(&empty, None, false), Err(Error::InvalidArgument { what: "files", .. })));
        let two = [stdin.as_fd(), stdin.as_fd()];
        assert!(matches!(check_fds(&two, Some(&[1]), false), Err(Error::InvalidArgument { what: "tags", .. })));
        assert!(check_fds(&[f, EMPTY_SLOT], Some(&[1, 2]), false).is_err(), "tag on an empty slot");
        assert!(check_fds(&[SKIP_SLOT], Some(&[1]), true).is_err(), "tag on a skipped slot");
        assert_eq!(check_fds(&[f, EMPTY_SLOT], Some(&[1, 0]), false).unwrap().0, 2);
    }
}
