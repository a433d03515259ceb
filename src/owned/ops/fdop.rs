//! Operations that point at no memory but name files: the raw encoder, with the files it
//! names held by the operation ([`FdOp`]), and the two that need more: [`Close`] (gives up an
//! owned fd) and [`CancelFd`] (cancels by file).
//!
//! The raw layer's encoders of these operations return [`FdSqe`](crate::FdSqe)s, whose push is
//! `unsafe`: nothing there keeps the fd open until the kernel issues the request. Here the
//! operation holds each file as an [`Fd`] until its final completion, so pushing is safe.

use std::os::fd::OwnedFd;

use super::{Encode, Fd, OnComplete};
use crate::op::{self, Target};
use crate::sqe::Sqe;
use crate::{Error, Result};

/// A raw encoder of an operation that points at no memory ([`op::Fsync`], [`op::PollAdd`],
/// [`op::Splice`]...), with the files its entry names held by the operation, as [`Fd`]s: the
/// owned form of every fd-only operation, one generic type rather than a copy per operation.
///
/// The entry is built from `args` with its files replaced by the ones `fd` holds (whatever
/// files `args` was built with), so it names only files the operation keeps open. Build it with
/// [`new`](FdOp::new) (one file), [`new2`](FdOp::new2) (splice and tee: input, output) or
/// [`of`](FdOp::of) (no file: socket, fd install), giving the raw builder with its setters:
///
/// ```
/// use uring::op;
/// use uring::owned::{FdOp, OwnedRing};
///
/// let mut ring = OwnedRing::new(8)?;
/// let path = std::env::temp_dir().join(format!("uring-doc-fdop-{}", std::process::id()));
/// let file = std::fs::File::create(&path)?;
/// # std::fs::remove_file(&path)?;
/// ring.push(FdOp::new(file, |f| op::Fsync::new(f).datasync()))?;
/// let c = ring.wait()?;
/// assert_eq!(c.result(), Ok(0));
/// let file = c.into_op::<FdOp<op::Fsync>>().unwrap().fd.into_owned().unwrap(); // back
/// # drop(file);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct FdOp<B: FdArgs> {
    /// The files the entry names: one [`Fd`], `(input, output)` for splice and tee, `()` for
    /// operations that name none.
    pub fd: B::Files,
    /// The raw encoder, with its setters applied.
    pub args: B,
}

/// A raw encoder [`FdOp`] can carry (implemented by the crate for its fd-only encoders).
pub trait FdArgs: Copy + core::fmt::Debug + Send + Sync + 'static + sealed::Sealed {
    /// The files the entry names.
    type Files: core::fmt::Debug + Send + Sync;

    /// The entry, naming `files` (crate-internal in effect: the result is a plain [`Sqe`]).
    #[doc(hidden)]
    fn encode(self, files: &Self::Files) -> Result<Sqe>;

    /// Whether a non-negative result is a new fd (accept, socket, fd install).
    #[doc(hidden)]
    fn creates_fd(&self) -> bool {
        false
    }
}

mod sealed {
    pub trait Sealed {}
}

impl<B: FdArgs<Files = Fd>> FdOp<B> {
    /// The operation `build` makes, on the file `fd` (held until the final completion).
    /// `build` gets the file as a [`Target`] for the raw builder's constructor.
    pub fn new(fd: impl Into<Fd>, build: impl FnOnce(Target) -> B) -> Self {
        let fd = fd.into();
        let args = build(fd.target());
        FdOp { fd, args }
    }
}

impl<B: FdArgs<Files = (Fd, Fd)>> FdOp<B> {
    /// The operation `build` makes, from the file `fd_in` to the file `fd_out` (splice, tee).
    pub fn new2(fd_in: impl Into<Fd>, fd_out: impl Into<Fd>, build: impl FnOnce(Target, Target) -> B) -> Self {
        let fd = (fd_in.into(), fd_out.into());
        let args = build(fd.0.target(), fd.1.target());
        FdOp { fd, args }
    }
}

impl<B: FdArgs<Files = ()>> FdOp<B> {
    /// An operation that names no file but creates one (socket, fd install): its completion
    /// gives the new fd ([`Completion::take_fd`](crate::owned::Completion::take_fd)).
    pub fn of(args: B) -> Self {
        FdOp { fd: (), args }
    }
}

impl<B: FdArgs> Encode for FdOp<B> {
    #[inline]
    fn sqe(&mut self) -> Result<Sqe> {
        self.args.encode(&self.fd)
    }

    #[inline]
    fn on_complete(&self) -> OnComplete {
        OnComplete(if self.args.creates_fd() { OnComplete::NEW_FD } else { 0 })
    }
}

/// Implements [`FdArgs`] for raw encoders: `Type { field }` (one file), `Type { in, out }` (two),
/// `Type {}` (none); `creates_fd: expr` (over `self`) when a result can be a new fd.
macro_rules! fd_args {
    ($($ty:ident { $($field:ident),* } $(creates_fd: |$s:ident| $new_fd:expr)?;)*) => {
        $(
            impl sealed::Sealed for op::$ty {}
            impl FdArgs for op::$ty {
                type Files = fd_args!(@files $($field),*);

                #[inline]
                #[allow(unused_mut)]
                fn encode(mut self, files: &Self::Files) -> Result<Sqe> {
                    fd_args!(@set self files $($field),*);
                    Ok(Sqe::from(self.build()))
                }

                $(
                    #[inline]
                    fn creates_fd(&self) -> bool {
                        let $s = self;
                        $new_fd
                    }
                )?
            }
        )*
    };
    (@files $one:ident) => { Fd };
    (@files $a:ident, $b:ident) => { (Fd, Fd) };
    (@files) => { () };
    (@set $self:ident $files:ident $one:ident) => { $self.$one = $files.target(); };
    (@set $self:ident $files:ident $a:ident, $b:ident) => {
        $self.$a = $files.0.target();
        $self.$b = $files.1.target();
    };
    (@set $self:ident $files:ident) => { let () = $files; };
}

fd_args! {
    Fsync { fd };
    SyncFileRange { fd };
    Fallocate { fd };
    Fadvise { fd };
    Ftruncate { fd };
    PollAdd { fd };
    Splice { fd_in, fd_out };
    Tee { fd_in, fd_out };
    Shutdown { fd };
    Listen { fd };
    MsgRing { ring };
    MsgRingFd { ring };
    Accept { fd } creates_fd: |s| s.dest == op::DestSlot::Fd;
    Socket {} creates_fd: |s| s.dest == op::DestSlot::Fd;
    FixedFdInstall {} creates_fd: |_s| true;
}

/// `IORING_OP_CLOSE` of an fd the operation owns (`io_uring_prep_close(3)`, Linux 5.6). The
/// result is 0, or the errno of `close(2)`.
///
/// `close(2)` releases the number even when it fails, so after the final completion the fd is
/// gone, whatever the result, and [`fd`](Close::fd) is `None`. One result is ambiguous:
/// `ECANCELED` comes both from a close cancelled before it ran (a link after a failed request,
/// an `ASYNC_CANCEL`), whose fd is still open, and from a file whose `flush` failed with
/// `ECANCELED` (a FUSE server may answer so), whose fd is closed and whose number another
/// thread may already have again. The crate cannot tell them apart, so the fd is forgotten
/// then: never closed twice, possibly leaked. (So do not link a close behind a request that
/// may fail, if the fd must not leak.) Registered slots are closed by the raw
/// [`op::Close::fixed`], a safe entry.
#[derive(Debug)]
pub struct Close {
    /// The fd to close; `None` after the final completion.
    pub fd: Option<OwnedFd>,
}

impl Close {
    /// Closes `fd`.
    /// Pushed as `IORING_OP_CLOSE` (Linux 5.6).
    pub fn new(fd: impl Into<OwnedFd>) -> Self {
        Close { fd: Some(fd.into()) }
    }
}

impl Encode for Close {
    #[inline]
    fn sqe(&mut self) -> Result<Sqe> {
        let fd = self.fd.as_ref().ok_or(Error::InvalidArgument { what: "Close", reason: "holds no fd" })?;
        Ok(op::Close::new(fd).build().into_sqe())
    }

    #[inline]
    fn on_complete(&self) -> OnComplete {
        OnComplete(OnComplete::HOOK)
    }

    fn complete(&mut self, _res: i32) {
        // Closed by the kernel, or (`ECANCELED`) maybe not: either way no longer this
        // `OwnedFd`'s to close (see the type's docs).
        if let Some(fd) = self.fd.take() {
            core::mem::forget(fd);
        }
    }
}

/// `IORING_OP_ASYNC_CANCEL` of the requests on a file (`IORING_ASYNC_CANCEL_FD`,
/// `io_uring_prep_cancel_fd(3)`, Linux 5.19), which the operation holds so that the number
/// names that file when the kernel looks it up. The result is as for [`op::AsyncCancel`]: 0 or
/// the number cancelled, `-ENOENT` when nothing matched.
#[derive(Debug)]
pub struct CancelFd {
    /// The file whose requests are cancelled (a registered slot adds
    /// `IORING_ASYNC_CANCEL_FD_FIXED`).
    pub fd: Fd,
    /// `IORING_ASYNC_CANCEL_ALL`: every match, not only the first.
    pub all: bool,
}

impl CancelFd {
    /// Cancels the first request on `fd` (set [`all`](CancelFd::all) for every one).
    /// Pushed as `IORING_OP_ASYNC_CANCEL` (Linux 5.19).
    pub fn new(fd: impl Into<Fd>) -> Self {
        CancelFd { fd: fd.into(), all: false }
    }
}

impl Encode for CancelFd {
    #[inline]
    fn sqe(&mut self) -> Result<Sqe> {
        Ok(match self.fd.borrow() {
            Ok(fd) => {
                let key = op::AsyncCancel::fd(fd);
                if self.all { key.all() } else { key }.build().into_sqe()
            }
            Err(slot) => {
                let key = op::AsyncCancel::fixed(op::Fixed(slot));
                if self.all { key.all() } else { key }.build().into_sqe()
            }
        })
    }
}

/// `IORING_OP_FSYNC` (Linux 5.1) on a held file ([`op::Fsync`]).
pub type Fsync = FdOp<op::Fsync>;
/// `IORING_OP_SYNC_FILE_RANGE` (Linux 5.2) on a held file ([`op::SyncFileRange`]).
pub type SyncFileRange = FdOp<op::SyncFileRange>;
/// `IORING_OP_FALLOCATE` (Linux 5.6) on a held file ([`op::Fallocate`]).
pub type Fallocate = FdOp<op::Fallocate>;
/// `IORING_OP_FADVISE` (Linux 5.6) on a held file ([`op::Fadvise`]).
pub type Fadvise = FdOp<op::Fadvise>;
/// `IORING_OP_FTRUNCATE` (Linux 6.9) on a held file ([`op::Ftruncate`]).
pub type Ftruncate = FdOp<op::Ftruncate>;
/// `IORING_OP_POLL_ADD` (Linux 5.1), single or multishot, on a held file ([`op::PollAdd`]).
pub type PollAdd = FdOp<op::PollAdd>;
/// `IORING_OP_SPLICE` (Linux 5.7) between two held files ([`op::Splice`]).
pub type Splice = FdOp<op::Splice>;
/// `IORING_OP_TEE` (Linux 5.8) between two held pipes ([`op::Tee`]).
pub type Tee = FdOp<op::Tee>;
/// `IORING_OP_SHUTDOWN` (Linux 5.11) of a held socket ([`op::Shutdown`]).
pub type Shutdown = FdOp<op::Shutdown>;
/// `IORING_OP_LISTEN` (Linux 6.11) on a held socket ([`op::Listen`]).
pub type Listen = FdOp<op::Listen>;
/// `IORING_OP_MSG_RING` (Linux 5.18) posting to a held ring fd ([`op::MsgRing`]).
pub type MsgRing = FdOp<op::MsgRing>;
/// `IORING_OP_MSG_RING` (Linux 5.18) passing a registered file to a held ring fd ([`op::MsgRingFd`]).
pub type MsgRingFd = FdOp<op::MsgRingFd>;
/// `IORING_OP_ACCEPT` (Linux 5.5) without the peer's address on a held listening socket ([`op::Accept`]),
/// single or multishot (`.multishot()`): each completion with a non-negative result carries the
/// new socket ([`Completion::take_fd`](crate::owned::Completion::take_fd)).
pub type AcceptMulti = FdOp<op::Accept>;
/// `IORING_OP_SOCKET` (Linux 5.19) ([`op::Socket`]): the completion carries the new socket
/// ([`Completion::take_fd`](crate::owned::Completion::take_fd)).
pub type Socket = FdOp<op::Socket>;
/// `IORING_OP_FIXED_FD_INSTALL` (Linux 6.8) ([`op::FixedFdInstall`]): the completion carries the new fd
/// ([`Completion::take_fd`](crate::owned::Completion::take_fd)).
pub type FixedFdInstall = FdOp<op::FixedFdInstall>;
