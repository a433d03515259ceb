//! Encoders of the file-system family, one file per kind:
//!
//! | file | operations |
//! |---|---|
//! | `sync.rs` | fsync, sync_file_range, fallocate, fadvise, madvise, ftruncate |
//! | `open.rs` | openat, openat2 ([`OpenHow`]), close, statx |
//! | `path.rs` | renameat, unlinkat, mkdirat, symlinkat, linkat |
//! | `xattr.rs` | fsetxattr, setxattr, fgetxattr, getxattr |
//!
//! Flags use the typed `rustix` flag sets, whose values are the kernel's: [`OFlags`],
//! [`Mode`], [`ResolveFlags`], [`AtFlags`], [`StatxFlags`], [`RenameFlags`],
//! [`XattrFlags`], [`FallocateFlags`], and the advice enums [`rustix::fs::Advice`] and
//! [`rustix::mm::Advice`].
//!
//! Directories: path operations resolve relative paths against the current directory unless a
//! directory is given (`.dir(..)`, `.old_dir(..)`, `.new_dir(..)`). The kernel refuses
//! registered (fixed) files as directories, so these take ordinary descriptors ([`AsFd`]). The
//! kernel looks the descriptor up when the operation runs, so keep it open until then.
//!
//! Paths, names and `open_how` structs are read by the kernel while the entry is submitted (with
//! `IORING_SETUP_SQPOLL`, whenever the SQ thread gets to it), so builders that take them return
//! an [`Sqe`](crate::Sqe), and the memory must stay alive until the operation completes (which
//! is always late enough).
//!
//! [`OFlags`]: rustix::fs::OFlags
//! [`Mode`]: rustix::fs::Mode
//! [`ResolveFlags`]: rustix::fs::ResolveFlags
//! [`AtFlags`]: rustix::fs::AtFlags
//! [`StatxFlags`]: rustix::fs::StatxFlags
//! [`RenameFlags`]: rustix::fs::RenameFlags
//! [`XattrFlags`]: rustix::fs::XattrFlags
//! [`FallocateFlags`]: rustix::fs::FallocateFlags

use core::ffi::CStr;
use std::os::fd::{AsFd, AsRawFd, RawFd};

/// `AT_FDCWD`: resolve relative paths against the current directory.
const AT_FDCWD: RawFd = libc::AT_FDCWD;

/// The raw descriptor of a directory argument.
#[inline]
fn dir_fd(dir: impl AsFd) -> RawFd {
    dir.as_fd().as_raw_fd()
}

/// A `CStr`'s address, for an SQE address field.
#[inline]
fn cstr_addr(s: &CStr) -> u64 {
    s.as_ptr() as u64
}

/// The setters of the path and extended-attribute builders: one per entry listed, each with the
/// doc comment written before it (the builders word them for their own arguments).
/// - `dir;`, `old_dir;`, `new_dir;`: resolve a relative path against a directory (the fields
///   `dfd`, `old_dfd`, `new_dfd`);
/// - `name: Type;`: set field `name` as given (`flags`, `mode`, `mask`, `dest`).
macro_rules! fs_setters {
    () => {};
    ($(#[$doc:meta])* dir; $($rest:tt)*) => { fs_setters!(@dir $(#[$doc])* dir dfd; $($rest)*); };
    ($(#[$doc:meta])* old_dir; $($rest:tt)*) => { fs_setters!(@dir $(#[$doc])* old_dir old_dfd; $($rest)*); };
    ($(#[$doc:meta])* new_dir; $($rest:tt)*) => { fs_setters!(@dir $(#[$doc])* new_dir new_dfd; $($rest)*); };
    (@dir $(#[$doc:meta])* $name:ident $field:ident; $($rest:tt)*) => {
        $(#[$doc])*
        #[inline]
        #[must_use]
        pub fn $name(mut self, dir: impl AsFd) -> Self {
            self.$field = super::dir_fd(dir);
            self
        }
        fs_setters!($($rest)*);
    };
    ($(#[$doc:meta])* $name:ident: $ty:ty; $($rest:tt)*) => {
        setter!($(#[$doc])* $name: $ty);
        fs_setters!($($rest)*);
    };
}

mod open;
mod path;
mod sync;
mod xattr;

pub use open::*;
pub use path::*;
pub use sync::*;
pub use xattr::*;

#[cfg(test)]
mod test_dir {
    /// A directory fd for the `.dir()` setters (never used by the kernel here).
    pub(super) fn dir() -> std::fs::File {
        std::fs::File::open("/").unwrap()
    }
}
