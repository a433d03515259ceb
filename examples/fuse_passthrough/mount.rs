//! Mounting with `mount(2)` on an open `/dev/fuse`, and unmounting.

use std::ffi::CString;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::Path;

use crate::backing::last_errno;

fn cpath(p: &Path) -> Result<CString, String> {
    CString::new(p.as_os_str().as_encoded_bytes()).map_err(|_| format!("{}: path has a NUL byte", p.display()))
}

/// Mounts the FUSE connection of `dev` at `mountpoint` (as root: `user_id=0,group_id=0`,
/// `default_permissions` so the kernel checks permissions, `allow_other`). Tries the subtype
/// `fuse.uring-passthrough` first, then plain `fuse`.
pub fn mount(dev: &File, mountpoint: &Path, fsname: &str) -> Result<&'static str, String> {
    let target = cpath(mountpoint)?;
    let source = CString::new(fsname).map_err(|_| "fsname has a NUL byte".to_string())?;
    let data = CString::new(format!(
        "fd={},rootmode=40000,user_id=0,group_id=0,default_permissions,allow_other",
        dev.as_raw_fd()
    ))
    .unwrap_or_default();
    let mut last = String::new();
    for fstype in ["fuse.uring-passthrough", "fuse"] {
        let ty = CString::new(fstype).unwrap_or_default();
        // SAFETY: all strings are NUL-terminated and live across the call.
        let r = unsafe {
            libc::mount(
                source.as_ptr(),
                target.as_ptr(),
                ty.as_ptr(),
                libc::MS_NOSUID | libc::MS_NODEV,
                data.as_ptr().cast(),
            )
        };
        if r == 0 {
            return Ok(fstype);
        }
        last = format!("mount {} ({fstype}): {:?}", mountpoint.display(), last_errno());
    }
    Err(last)
}

/// Unmounts `mountpoint`: a plain unmount, or a lazy one (`MNT_DETACH`) if it is busy.
pub fn unmount(mountpoint: &Path) -> Result<(), String> {
    let target = cpath(mountpoint)?;
    // SAFETY: NUL-terminated path.
    if unsafe { libc::umount2(target.as_ptr(), 0) } == 0 {
        return Ok(());
    }
    let e = last_errno();
    if e.raw_os_error() != libc::EBUSY {
        return Err(format!("umount {}: {e:?}", mountpoint.display()));
    }
    // SAFETY: NUL-terminated path.
    if unsafe { libc::umount2(target.as_ptr(), libc::MNT_DETACH) } == 0 {
        return Ok(());
    }
    Err(format!("umount -l {}: {:?}", mountpoint.display(), last_errno()))
}

/// Whether a FUSE file system is mounted at `mountpoint` (per `/proc/self/mounts`).
pub fn is_fuse_mounted(mountpoint: &Path) -> bool {
    let Ok(mounts) = std::fs::read_to_string("/proc/self/mounts") else { return false };
    let want = mountpoint.to_string_lossy().replace(' ', "\\040");
    mounts.lines().any(|l| {
        let mut f = l.split(' ');
        let (_, dir, ty) = (f.next(), f.next(), f.next());
        dir == Some(want.as_str()) && ty.is_some_and(|t| t == "fuse" || t.starts_with("fuse."))
    })
}
