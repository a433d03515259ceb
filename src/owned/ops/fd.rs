//! [`Fd`]: the file an owned operation works on, held by the operation until its final
//! completion.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::sync::Arc;

use crate::op::{Fixed, Target};
use crate::{Error, Result};

/// The file an owned operation works on, held by the operation: an fd it owns, an fd it shares
/// (`Arc`), or a slot of the ring's registered file table.
///
/// The kernel looks an fd up when it issues a request, which can be long after the push
/// (linked requests, `IOSQE_ASYNC`, poll-driven retries): an operation that only knew the fd's
/// number could find it closed, or reused by another file, by then. An owned operation holds
/// its files as `Fd`s, so each stays open until the operation's final completion, and comes
/// back with the operation ([`Completion::into_op`](crate::owned::Completion::into_op)).
///
/// - **Owned**: `From` anything that converts into an [`OwnedFd`] (`File`, `TcpStream`,
///   `UnixStream`, `OwnedFd`...); take it back with [`into_owned`](Fd::into_owned).
/// - **Shared**: [`Fd::shared`] takes an `Arc` of any file (`Arc<File>`...), so the caller keeps
///   using the file (through its own clone of the `Arc`) while operations are in flight.
/// - **Registered**: `From<Fixed>` names a slot of the registered file table
///   (`IOSQE_FIXED_FILE`); the table holds the kernel's own reference to the file.
///
/// A raw fd number is not an `Fd`: that would need the caller to promise, with `unsafe`, that
/// the number stays open; wrap it in an `OwnedFd` (`OwnedFd::from_raw_fd`) instead.
/// Registered slots (`IOSQE_FIXED_FILE`) date from Linux 5.1.
///
/// ```compile_fail,E0277
/// let fd: uring::owned::Fd = 3.into();
/// ```
pub struct Fd(Repr);

// Two variants, the larger holding a fat pointer (whose null niche tags the other): 16 bytes.
enum Repr {
    Shared(Arc<dyn AsFd + Send + Sync>),
    Local(Local),
}

#[derive(Debug)]
enum Local {
    Owned(OwnedFd),
    Fixed(u32),
}

impl Fd {
    /// A file shared with the caller: the operation holds a clone of the `Arc`, so the file
    /// stays open until the operation is done with it, and the caller can keep using it.
    pub fn shared<T: AsFd + Send + Sync + 'static>(file: Arc<T>) -> Fd {
        Fd(Repr::Shared(file))
    }

    /// The registered file slot `slot`.
    /// (`IOSQE_FIXED_FILE`, Linux 5.1.)
    pub const fn fixed(slot: u32) -> Fd {
        Fd(Repr::Local(Local::Fixed(slot)))
    }

    /// The file, as an ordinary fd (`None` for a registered slot).
    pub fn as_fd(&self) -> Option<BorrowedFd<'_>> {
        self.borrow().ok()
    }

    /// The registered slot, if this is one.
    pub fn fixed_slot(&self) -> Option<u32> {
        self.borrow().err()
    }

    /// The owned fd back (`Err(self)` for a shared file or a registered slot).
    pub fn into_owned(self) -> core::result::Result<OwnedFd, Fd> {
        match self.0 {
            Repr::Local(Local::Owned(f)) => Ok(f),
            other => Err(Fd(other)),
        }
    }

    /// The shared file back (`Err(self)` for an owned fd or a registered slot).
    pub fn into_shared(self) -> core::result::Result<Arc<dyn AsFd + Send + Sync>, Fd> {
        match self.0 {
            Repr::Shared(f) => Ok(f),
            other => Err(Fd(other)),
        }
    }

    /// What an entry names: the fd (the file stays open while this `Fd` lives), or the slot.
    #[inline]
    pub(crate) fn target(&self) -> Target {
        match self.borrow() {
            Ok(fd) => Target::from(fd),
            Err(slot) => Target::fixed(slot),
        }
    }

    /// The file: an ordinary fd, or (`Err`) the registered slot.
    #[inline]
    pub(crate) fn borrow(&self) -> core::result::Result<BorrowedFd<'_>, u32> {
        match &self.0 {
            Repr::Shared(f) => Ok(f.as_fd()),
            Repr::Local(Local::Owned(f)) => Ok(f.as_fd()),
            Repr::Local(Local::Fixed(slot)) => Err(*slot),
        }
    }

    /// The file as an ordinary fd, for arguments the kernel takes only as fds (directories,
    /// epoll fds, pidfds, files put into the registered table): a registered slot is refused.
    pub(crate) fn plain(&self, what: &'static str) -> Result<BorrowedFd<'_>> {
        self.as_fd()
            .ok_or(Error::InvalidArgument { what, reason: "must be an ordinary fd, not a registered file slot" })
    }
}

impl<T: Into<OwnedFd>> From<T> for Fd {
    /// Owns the file (`File`, `TcpStream`, `UnixStream`, `OwnedFd`...).
    #[inline]
    fn from(file: T) -> Fd {
        Fd(Repr::Local(Local::Owned(file.into())))
    }
}

impl From<Fixed> for Fd {
    #[inline]
    fn from(slot: Fixed) -> Fd {
        Fd::fixed(slot.0)
    }
}

impl core::fmt::Debug for Fd {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match &self.0 {
            Repr::Shared(file) => f.debug_tuple("Fd::Shared").field(&file.as_fd().as_raw_fd()).finish(),
            Repr::Local(Local::Owned(file)) => f.debug_tuple("Fd::Owned").field(&file.as_raw_fd()).finish(),
            Repr::Local(Local::Fixed(slot)) => f.debug_tuple("Fd::Fixed").field(slot).finish(),
        }
    }
}

/// The directory of a path operation (`None`: the current directory), as an fd.
#[inline]
pub(crate) fn dir_fd(dir: &Option<Fd>) -> Result<Option<BorrowedFd<'_>>> {
    dir.as_ref().map(|d| d.plain("dir")).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_targets() {
        assert_eq!(core::mem::size_of::<Fd>(), 16);
        let f = std::fs::File::open("/dev/null").unwrap();
        let n = f.as_raw_fd();
        let fd = Fd::from(f);
        assert_eq!((fd.target().sqe_fd(), fd.target().is_fixed()), (n, false));
        let fd = Fd::shared(Arc::new(fd.into_owned().unwrap()));
        assert_eq!(fd.target().sqe_fd(), n);
        assert!(fd.plain("dir").is_ok());
        let slot = Fd::from(Fixed(4));
        assert_eq!((slot.target().sqe_fd(), slot.target().is_fixed(), slot.fixed_slot()), (4, true, Some(4)));
        assert!(matches!(slot.plain("dir"), Err(Error::InvalidArgument { what: "dir", .. })));
    }
}
