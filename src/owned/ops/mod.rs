//! The owned operations: each owns the memory its entry points at, and comes back from
//! [`Completion::into_op`](super::Completion::into_op) with it.
//!
//! Every type here is a plain struct with public fields: build it, push it, and read the
//! fields (the buffer the kernel filled, the stat buffer, the peer address...) when it returns.
//! Each builds its entry with the raw encoder of [`crate::op`] over its own fields, at the
//! address where the ring keeps it while it is in flight; pointers into the operation (iovec
//! arrays, `msghdr`s) are rebuilt then, so moving the operation before the push is harmless.
//!
//! Families:
//! - read/write: [`Read`], [`Write`], [`Readv`], [`Writev`]; with a crate-owned
//!   [`BufRing`](crate::buf::BufRing): [`ReadSelect`], [`ReadMultishot`]; registered buffers
//!   ([`FixedBuf`], from [`OwnedRing::register_fixed_buffers`](super::OwnedRing::register_fixed_buffers)):
//!   [`ReadFixed`], [`WriteFixed`], [`ReadvFixed`], [`WritevFixed`];
//! - files and paths: [`OpenAt`], [`OpenAt2`], [`Statx`], [`RenameAt`], [`UnlinkAt`],
//!   [`MkdirAt`], [`SymlinkAt`], [`LinkAt`], [`FsetXattr`], [`SetXattr`], [`FgetXattr`],
//!   [`GetXattr`];
//! - network: [`Connect`], [`Bind`], [`Accept`] (with the peer address), [`Send`] (and
//!   `sendto`), [`SendZc`], [`SendMsg`], [`SendMsgZc`], [`Recv`], [`RecvMsg`], and with a
//!   crate-owned [`BufRing`](crate::buf::BufRing): [`RecvSelect`], [`RecvMultishot`],
//!   [`RecvMsgMultishot`], [`SendBundle`];
//! - time: [`Timeout`], [`LinkTimeout`], [`TimeoutUpdate`];
//! - misc: [`EpollCtl`], [`EpollWait`], [`Waitid`], [`FutexWait`], [`FutexWake`],
//!   [`FutexWaitv`], [`Pipe`], [`FilesUpdate`], [`ProvideBuffers`] (pushed with
//!   [`OwnedRing::provide_buffers`](super::OwnedRing::provide_buffers)), [`Nop`];
//! - operations that point at no memory but name files: [`FdOp`], the raw encoder with its
//!   files held ([`Fsync`], [`SyncFileRange`], [`Fallocate`], [`Fadvise`], [`Ftruncate`],
//!   [`PollAdd`], [`Splice`], [`Tee`], [`Shutdown`], [`Listen`], [`MsgRing`], [`MsgRingFd`],
//!   [`AcceptMulti`], [`Socket`], [`FixedFdInstall`]), [`Close`] and [`CancelFd`].
//!
//! Files: every file an operation names is an [`Fd`] field (owned, shared through an `Arc`, or
//! a registered slot), held until the final completion and handed back with the operation.
//!
//! Operations up to 88 bytes sit in the preallocated in-flight slots (128 bytes each). The
//! large ones, which carry a `statx` buffer, a `sockaddr_storage`, a `msghdr` with its address
//! or a `siginfo_t` (128-288 bytes: [`Statx`], [`Connect`], [`Bind`], [`Accept`], [`SendMsg`],
//! [`SendMsgZc`], [`RecvMsg`], [`Waitid`]), are boxed inside [`OwnedOp`]: pushing one of those
//! allocates its box.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::op;
use crate::sqe::Sqe;
use crate::{Error, Result};

mod fd;
mod fdop;
mod fs;
mod futex;
mod misc;
mod net;
mod rw;
mod time;

pub use fd::Fd;
pub use fdop::*;
pub use fs::*;
pub use futex::*;
pub use misc::*;
pub use net::*;
pub use rw::*;
pub use time::*;

pub(crate) use misc::ProvidedMem;
pub(crate) use private::{OnComplete, SelectsFrom};
pub(crate) use rw::FixedMem;

pub(crate) mod private {
    use super::OwnedOp;
    use crate::sqe::Sqe;
    use crate::Result;

    /// The buffer ring an owned operation selects provided buffers from (crate-internal): the
    /// [`Ring`](crate::Ring) it is registered on, and its selection word
    /// ([`BufRing::sel_word`](crate::buf::BufRing)), which [`Completion::select`]
    /// (super::Completion::select) checks.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct SelectsFrom {
        /// The id of the ring the buffer ring is registered on.
        pub(crate) ring: u64,
        /// The buffer ring's selection word (its id, and whether completions name bundles).
        pub(crate) sel: u64,
    }

    impl SelectsFrom {
        /// Selections from `ring`, as bundles or single buffers.
        pub(crate) fn new(ring: &crate::buf::BufRing, bundle: bool) -> Self {
            SelectsFrom { ring: ring.ring_id(), sel: ring.sel_word(bundle) }
        }
    }

    /// What the in-flight table does with an operation's completions beyond handing them out
    /// (crate-internal; kept in the slot as a byte, set at push).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct OnComplete(pub(crate) u8);

    impl OnComplete {
        /// Nothing.
        pub(crate) const NONE: OnComplete = OnComplete(0);
        /// A non-negative result is a new fd in the process's table, which the completion owns
        /// ([`Completion::take_fd`](super::Completion::take_fd)): accept, open, socket, fd install
        /// to an ordinary fd.
        pub(crate) const NEW_FD: u8 = 1;
        /// The final completion runs the operation's [`Encode::complete`] hook (pipe ends, close).
        pub(crate) const HOOK: u8 = 2;
        /// Set by the in-flight table, not by operations: the operation selects from an
        /// incremental buffer ring, so each completion is stamped when it is reaped.
        pub(crate) const INC: u8 = 4;
        /// The operation creates a new fd ([`NEW_FD`](Self::NEW_FD)) when `dest` is an ordinary fd.
        #[inline]
        pub(crate) fn new_fd_if(dest: crate::op::DestSlot) -> OnComplete {
            OnComplete(if dest == crate::op::DestSlot::Fd { Self::NEW_FD } else { 0 })
        }
    }

    /// The in-flight table's access to a stored operation of a known type (not nameable
    /// outside the crate).
    pub trait Sealed: Sized {
        /// The buffer ring the operation selects provided buffers from, if any.
        fn selects(&self) -> Option<SelectsFrom>;
        /// What its completions carry besides the result.
        fn on_complete(&self) -> OnComplete;
        /// Builds the entry of the operation stored in `op` (which the caller just stored as
        /// this type, so the match folds away).
        fn encode_stored(op: &mut Option<OwnedOp>) -> Result<Sqe>;
        /// Takes the stored operation out if it is of this type.
        fn take_stored(op: &mut Option<OwnedOp>) -> Option<Self>;
    }
}

/// An operation the owned layer can carry: converts to and from [`OwnedOp`].
pub trait Operation: Sized + private::Sealed {
    /// Wraps the operation.
    fn into_owned_op(self) -> OwnedOp;
    /// Unwraps it, or hands the value back if it is another operation.
    fn from_owned_op(op: OwnedOp) -> core::result::Result<Self, OwnedOp>;
}

/// Builds the entry of an operation that sits at its final address (crate-internal).
pub(crate) trait Encode {
    /// The entry, pointing into `self`.
    fn sqe(&mut self) -> Result<Sqe>;

    /// The buffer ring the operation selects provided buffers from, if any.
    #[inline(always)]
    fn selects(&self) -> Option<SelectsFrom> {
        None
    }

    /// What its completions carry besides the result (read at push).
    #[inline(always)]
    fn on_complete(&self) -> OnComplete {
        OnComplete::NONE
    }

    /// Called once with the result of the operation's final completion, before anyone can
    /// reach the operation (only for operations whose [`on_complete`](Self::on_complete) has
    /// [`OnComplete::HOOK`]).
    #[inline(always)]
    fn complete(&mut self, _res: i32) {}
}

macro_rules! owned_ops {
    (
        inline { $($(#[$doc:meta])* $name:ident),* $(,)? }
        boxed { $($(#[$bdoc:meta])* $bname:ident),* $(,)? }
    ) => {
        /// Each operation's name and size, and whether it is boxed (for the size checks).
        #[cfg(test)]
        const SIZES: &[(&str, usize, bool)] = &[
            $((stringify!($name), core::mem::size_of::<$name>(), false),)*
            $((stringify!($bname), core::mem::size_of::<$bname>(), true),)*
        ];

        /// Every owned operation, as stored in the in-flight table (large ones boxed, so that
        /// every slot stays small).
        #[derive(Debug)]
        #[non_exhaustive]
        pub enum OwnedOp {
            $($(#[$doc])* $name($name),)*
            $($(#[$bdoc])* $bname(Box<$bname>),)*
        }

        impl OwnedOp {
            #[inline]
            pub(crate) fn sqe(&mut self) -> Result<Sqe> {
                match self {
                    $(OwnedOp::$name(o) => o.sqe(),)*
                    $(OwnedOp::$bname(o) => o.sqe(),)*
                }
            }

            /// The buffer ring the operation selects provided buffers from, if any.
            #[inline]
            pub(crate) fn selects(&self) -> Option<SelectsFrom> {
                match self {
                    $(OwnedOp::$name(o) => Encode::selects(o),)*
                    $(OwnedOp::$bname(o) => Encode::selects(&**o),)*
                }
            }

            /// What its completions carry besides the result.
            #[inline]
            pub(crate) fn on_complete(&self) -> OnComplete {
                match self {
                    $(OwnedOp::$name(o) => Encode::on_complete(o),)*
                    $(OwnedOp::$bname(o) => Encode::on_complete(&**o),)*
                }
            }

            /// Runs the final-completion hook with the result (crate-internal: the in-flight
            /// table calls it once, on the kernel's final completion).
            #[cold]
            pub(crate) fn complete(&mut self, res: i32) {
                match self {
                    $(OwnedOp::$name(o) => Encode::complete(o, res),)*
                    $(OwnedOp::$bname(o) => Encode::complete(&mut **o, res),)*
                }
            }
        }

        impl private::Sealed for OwnedOp {
            #[inline]
            fn selects(&self) -> Option<SelectsFrom> {
                OwnedOp::selects(self)
            }
            #[inline]
            fn on_complete(&self) -> OnComplete {
                OwnedOp::on_complete(self)
            }
            #[inline]
            fn encode_stored(op: &mut Option<OwnedOp>) -> Result<Sqe> {
                match op {
                    Some(o) => o.sqe(),
                    None => Err(Error::InvalidArgument { what: "owned ring", reason: "empty slot" }),
                }
            }
            #[inline]
            fn take_stored(op: &mut Option<OwnedOp>) -> Option<Self> {
                op.take()
            }
        }

        /// Any operation, as stored.
        impl Operation for OwnedOp {
            #[inline]
            fn into_owned_op(self) -> OwnedOp {
                self
            }
            #[inline]
            fn from_owned_op(op: OwnedOp) -> core::result::Result<Self, OwnedOp> {
                Ok(op)
            }
        }

        $(
            impl private::Sealed for $name {
                #[inline(always)]
                fn selects(&self) -> Option<SelectsFrom> {
                    Encode::selects(self)
                }
                #[inline(always)]
                fn on_complete(&self) -> OnComplete {
                    Encode::on_complete(self)
                }
                #[inline(always)]
                fn encode_stored(op: &mut Option<OwnedOp>) -> Result<Sqe> {
                    match op {
                        Some(OwnedOp::$name(o)) => o.sqe(),
                        #[allow(unreachable_patterns)]
                        Some(other) => other.sqe(),
                        None => Err(Error::InvalidArgument { what: "owned ring", reason: "empty slot" }),
                    }
                }
                #[inline(always)]
                fn take_stored(op: &mut Option<OwnedOp>) -> Option<Self> {
                    let Some(OwnedOp::$name(o)) = op else { return None };
                    // SAFETY: the value is read out exactly once, and its place is then
                    // overwritten with `None` without being dropped, so it is neither dropped
                    // twice nor used again (this also spares the drop glue of the other types).
                    let v = unsafe { core::ptr::read(o) };
                    // SAFETY: `op` is a valid place; its old value was moved out just above.
                    unsafe { core::ptr::write(op, None) };
                    Some(v)
                }
            }
            impl From<$name> for OwnedOp {
                #[inline]
                fn from(op: $name) -> OwnedOp {
                    OwnedOp::$name(op)
                }
            }
            impl Operation for $name {
                #[inline]
                fn into_owned_op(self) -> OwnedOp {
                    OwnedOp::$name(self)
                }
                #[inline]
                fn from_owned_op(op: OwnedOp) -> core::result::Result<Self, OwnedOp> {
                    match op {
                        OwnedOp::$name(o) => Ok(o),
                        #[allow(unreachable_patterns)]
                        other => Err(other),
                    }
                }
            }
        )*
        $(
            impl private::Sealed for $bname {
                #[inline(always)]
                fn selects(&self) -> Option<SelectsFrom> {
                    Encode::selects(self)
                }
                #[inline(always)]
                fn on_complete(&self) -> OnComplete {
                    Encode::on_complete(self)
                }
                #[inline(always)]
                fn encode_stored(op: &mut Option<OwnedOp>) -> Result<Sqe> {
                    match op {
                        Some(OwnedOp::$bname(o)) => o.sqe(),
                        #[allow(unreachable_patterns)]
                        Some(other) => other.sqe(),
                        None => Err(Error::InvalidArgument { what: "owned ring", reason: "empty slot" }),
                    }
                }
                #[inline(always)]
                fn take_stored(op: &mut Option<OwnedOp>) -> Option<Self> {
                    let Some(OwnedOp::$bname(o)) = op else { return None };
                    // SAFETY: the value is read out exactly once, and its place is then
                    // overwritten with `None` without being dropped, so it is neither dropped
                    // twice nor used again (this also spares the drop glue of the other types).
                    let v = unsafe { core::ptr::read(o) };
                    // SAFETY: `op` is a valid place; its old value was moved out just above.
                    unsafe { core::ptr::write(op, None) };
                    Some(*v)
                }
            }
            impl From<$bname> for OwnedOp {
                #[inline]
                fn from(op: $bname) -> OwnedOp {
                    OwnedOp::$bname(Box::new(op))
                }
            }
            impl Operation for $bname {
                #[inline]
                fn into_owned_op(self) -> OwnedOp {
                    OwnedOp::$bname(Box::new(self))
                }
                #[inline]
                fn from_owned_op(op: OwnedOp) -> core::result::Result<Self, OwnedOp> {
                    match op {
                        OwnedOp::$bname(o) => Ok(*o),
                        #[allow(unreachable_patterns)]
                        other => Err(other),
                    }
                }
            }
        )*
    };
}

owned_ops! {
    inline {
        /// A no-op (for measuring the layer itself) (`IORING_OP_NOP`, Linux 5.1).
        Nop,
        /// A read into an owned buffer (`IORING_OP_READ`, Linux 5.6).
        Read,
        /// A write from an owned buffer (`IORING_OP_WRITE`, Linux 5.6).
        Write,
        /// A timeout with an owned timespec (`IORING_OP_TIMEOUT`, Linux 5.4).
        Timeout,
        /// A read into part of a registered buffer (`IORING_OP_READ_FIXED`, Linux 5.1).
        ReadFixed,
        /// A write from part of a registered buffer (`IORING_OP_WRITE_FIXED`, Linux 5.1).
        WriteFixed,
        /// `openat(2)` with an owned path (`IORING_OP_OPENAT`, Linux 5.6).
        OpenAt,
        /// `openat2(2)` with an owned path and `open_how` (`IORING_OP_OPENAT2`, Linux 5.6).
        OpenAt2,
        /// `unlinkat(2)` with an owned path (`IORING_OP_UNLINKAT`, Linux 5.11).
        UnlinkAt,
        /// `mkdirat(2)` with an owned path (`IORING_OP_MKDIRAT`, Linux 5.15).
        MkdirAt,
        /// `symlinkat(2)` with owned strings (`IORING_OP_SYMLINKAT`, Linux 5.15).
        SymlinkAt,
        /// `fsetxattr(2)` with an owned name and value (`IORING_OP_FSETXATTR`, Linux 5.19).
        FsetXattr,
        /// `fgetxattr(2)` into an owned value buffer (`IORING_OP_FGETXATTR`, Linux 5.19).
        FgetXattr,
        /// `getxattr(2)` into an owned value buffer (`IORING_OP_GETXATTR`, Linux 5.19).
        GetXattr,
        /// A send of an owned buffer (optionally `sendto`) (`IORING_OP_SEND`, Linux 5.6).
        Send,
        /// A zero-copy send of an owned buffer (`IORING_OP_SEND_ZC`, Linux 6.0).
        SendZc,
        /// A receive into an owned buffer (`IORING_OP_RECV`, Linux 5.6).
        Recv,
        /// A receive into a buffer of a crate-owned buffer ring (`IORING_OP_RECV` with
        /// `IOSQE_BUFFER_SELECT`, Linux 5.7).
        RecvSelect,
        /// A multishot receive into buffers of a crate-owned buffer ring (`IORING_OP_RECV` with
        /// `IORING_RECV_MULTISHOT`, Linux 6.0).
        RecvMultishot,
        /// A bundle send from a crate-owned buffer ring (`IORING_OP_SEND` with
        /// `IORING_RECVSEND_BUNDLE`, Linux 6.10).
        SendBundle,
        /// A linked timeout with an owned timespec (`IORING_OP_LINK_TIMEOUT`, Linux 5.5).
        LinkTimeout,
        /// A timeout update with an owned timespec (`IORING_OP_TIMEOUT_REMOVE` with
        /// `IORING_TIMEOUT_UPDATE`, Linux 5.11).
        TimeoutUpdate,
        /// `epoll_ctl(2)` with an owned event (`IORING_OP_EPOLL_CTL`, Linux 5.6).
        EpollCtl,
        /// `epoll_wait(2)` into an owned event array (`IORING_OP_EPOLL_WAIT`, Linux 6.15).
        EpollWait,
        /// A futex wait on a shared futex word (`IORING_OP_FUTEX_WAIT`, Linux 6.7).
        FutexWait,
        /// A futex wake on a shared futex word (`IORING_OP_FUTEX_WAKE`, Linux 6.7).
        FutexWake,
        /// A wait on several shared futex words (`IORING_OP_FUTEX_WAITV`, Linux 6.7).
        FutexWaitv,
        /// `pipe2(2)` into an owned fd pair (`IORING_OP_PIPE`, Linux 6.16).
        Pipe,
        /// A registered-file-table update from an owned fd array (`IORING_OP_FILES_UPDATE`, Linux
        /// 5.6).
        FilesUpdate,
        /// A vectored read into owned buffers (`IORING_OP_READV`, Linux 5.1).
        Readv,
        /// A vectored write from owned buffers (`IORING_OP_WRITEV`, Linux 5.1).
        Writev,
        /// `setxattr(2)` with an owned path, name and value (`IORING_OP_SETXATTR`, Linux 5.19).
        SetXattr,
        /// A multishot `recvmsg(2)` into a crate-owned buffer ring (`IORING_OP_RECVMSG` with
        /// `IORING_RECV_MULTISHOT`, Linux 6.0).
        RecvMsgMultishot,
        /// A read into a buffer of a crate-owned buffer ring (`IORING_OP_READ` with
        /// `IOSQE_BUFFER_SELECT`, Linux 5.7).
        ReadSelect,
        /// A multishot read into buffers of a crate-owned buffer ring (`IORING_OP_READ_MULTISHOT`,
        /// Linux 6.7).
        ReadMultishot,
        /// Buffers handed to a legacy provided-buffer group, memory kept by the ring
        /// (`IORING_OP_PROVIDE_BUFFERS`, Linux 5.7).
        ProvideBuffers,
        /// `fsync(2)` of a held file (`IORING_OP_FSYNC`, Linux 5.1).
        Fsync,
        /// `sync_file_range(2)` of a held file (`IORING_OP_SYNC_FILE_RANGE`, Linux 5.2).
        SyncFileRange,
        /// `fallocate(2)` on a held file (`IORING_OP_FALLOCATE`, Linux 5.6).
        Fallocate,
        /// `posix_fadvise(2)` on a held file (`IORING_OP_FADVISE`, Linux 5.6).
        Fadvise,
        /// `ftruncate(2)` of a held file (`IORING_OP_FTRUNCATE`, Linux 6.9).
        Ftruncate,
        /// A poll (single or multishot) of a held file (`IORING_OP_POLL_ADD`, Linux 5.1; multishot
        /// 5.13).
        PollAdd,
        /// `splice(2)` between held files (`IORING_OP_SPLICE`, Linux 5.7).
        Splice,
        /// `tee(2)` between held pipes (`IORING_OP_TEE`, Linux 5.8).
        Tee,
        /// `shutdown(2)` of a held socket (`IORING_OP_SHUTDOWN`, Linux 5.11).
        Shutdown,
        /// `listen(2)` on a held socket (`IORING_OP_LISTEN`, Linux 6.11).
        Listen,
        /// A completion posted to a held ring (`IORING_OP_MSG_RING`, Linux 5.18).
        MsgRing,
        /// A registered file passed to a held ring (`IORING_OP_MSG_RING` with `IORING_MSG_SEND_FD`,
        /// Linux 6.0).
        MsgRingFd,
        /// `accept4(2)` (single or multishot) without the peer's address (`IORING_OP_ACCEPT`, Linux
        /// 5.5;
        /// multishot 5.19).
        AcceptMulti,
        /// `socket(2)` (`IORING_OP_SOCKET`, Linux 5.19).
        Socket,
        /// A registered file installed as an ordinary fd (`IORING_OP_FIXED_FD_INSTALL`, Linux 6.8).
        FixedFdInstall,
        /// `close(2)` of an owned fd (`IORING_OP_CLOSE`, Linux 5.6).
        Close,
        /// A cancel of the requests on a held file (`IORING_OP_ASYNC_CANCEL`, Linux 5.19).
        CancelFd,
    }
    boxed {
        /// `renameat2(2)` with owned paths (`IORING_OP_RENAMEAT`, Linux 5.11).
        RenameAt,
        /// `linkat(2)` with owned paths (`IORING_OP_LINKAT`, Linux 5.15).
        LinkAt,
        /// A vectored read into parts of a registered buffer (`IORING_OP_READV_FIXED`, Linux 6.15).
        ReadvFixed,
        /// A vectored write from parts of a registered buffer (`IORING_OP_WRITEV_FIXED`, Linux
        /// 6.15).
        WritevFixed,
        /// `statx(2)` into an owned `statx` buffer (`IORING_OP_STATX`, Linux 5.6).
        Statx,
        /// `connect(2)` to an owned address (`IORING_OP_CONNECT`, Linux 5.5).
        Connect,
        /// `bind(2)` to an owned address (`IORING_OP_BIND`, Linux 6.11).
        Bind,
        /// `accept4(2)` with an owned peer-address buffer (`IORING_OP_ACCEPT`, Linux 5.5).
        Accept,
        /// `sendmsg(2)` with an owned message (`IORING_OP_SENDMSG`, Linux 5.3).
        SendMsg,
        /// A zero-copy `sendmsg(2)` with an owned message (`IORING_OP_SENDMSG_ZC`, Linux 6.1).
        SendMsgZc,
        /// `recvmsg(2)` into an owned message (`IORING_OP_RECVMSG`, Linux 5.3).
        RecvMsg,
        /// `waitid(2)` into an owned `siginfo_t` (`IORING_OP_WAITID`, Linux 6.7).
        Waitid,
    }
}

// The in-flight table moves operations between threads with the ring.
const _: fn() = || {
    fn send<T: core::marker::Send>() {}
    send::<OwnedOp>();
};

/// A C string from `bytes`, refusing interior NUL bytes.
pub(crate) fn c_string(bytes: impl Into<Vec<u8>>, what: &'static str) -> Result<CString> {
    CString::new(bytes).map_err(|_| Error::InvalidArgument { what, reason: "contains a NUL byte" })
}

/// A path as a C string, refusing interior NUL bytes.
pub(crate) fn c_path(path: impl AsRef<Path>) -> Result<CString> {
    c_string(path.as_ref().as_os_str().as_bytes(), "path")
}

/// An iovec array pointing into buffers owned by the same operation, rebuilt each time the
/// entry is built (the buffers' heap memory does not move with the operation).
#[derive(Default)]
pub(crate) struct Iovecs(Vec<libc::iovec>);

// SAFETY: the iovecs hold only addresses of buffers owned by the same operation; Rust code never
// dereferences them (only the kernel does, while the operation is in flight), so sharing or
// moving them between threads is as safe as moving the buffers themselves.
unsafe impl core::marker::Send for Iovecs {}
// SAFETY: as above; `&Iovecs` only exposes the addresses as integers.
unsafe impl Sync for Iovecs {}

impl core::fmt::Debug for Iovecs {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Iovecs").field("len", &self.0.len()).finish()
    }
}

impl Iovecs {
    /// Rebuilds the array over `bufs`, which the kernel may write into.
    pub(crate) fn over_mut<'a>(&mut self, bufs: impl Iterator<Item = &'a mut [u8]>) {
        self.0.clear();
        self.0.extend(bufs.map(|b| libc::iovec { iov_base: b.as_mut_ptr().cast(), iov_len: b.len() }));
    }

    /// Rebuilds the array over `bufs`, which the kernel only reads.
    pub(crate) fn over<'a>(&mut self, bufs: impl Iterator<Item = &'a [u8]>) {
        self.0.clear();
        self.0.extend(bufs.map(|b| libc::iovec { iov_base: b.as_ptr() as *mut libc::c_void, iov_len: b.len() }));
    }

    /// Rebuilds the array over raw (address, length) parts.
    pub(crate) fn over_raw(&mut self, parts: impl Iterator<Item = (*mut u8, usize)>) {
        self.0.clear();
        self.0.extend(parts.map(|(p, n)| libc::iovec { iov_base: p.cast(), iov_len: n }));
    }

    /// Points an entry built over an empty iovec list at this array (`sqe.addr`, `sqe.len`).
    pub(crate) fn point(&mut self, sqe: &mut Sqe) -> Result<()> {
        let n = u32::try_from(self.0.len())
            .map_err(|_| Error::InvalidArgument { what: "buffers", reason: "more than u32::MAX buffers" })?;
        let raw = sqe.as_raw_mut();
        raw.addr.addr = self.0.as_mut_ptr() as u64;
        raw.len = n;
        Ok(())
    }

    /// The array, for a `msghdr`.
    pub(crate) fn as_mut_ptr(&mut self) -> *mut libc::iovec {
        self.0.as_mut_ptr()
    }

    /// Entries in the array.
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }
}

/// `IORING_OP_NOP` (Linux 5.1) through the owned layer.
#[derive(Debug, Clone, Copy, Default)]
pub struct Nop;

impl Encode for Nop {
    #[inline]
    fn sqe(&mut self) -> Result<Sqe> {
        Ok(op::Nop::new().build().into_sqe())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Prints every operation's size (`cargo test --lib op_sizes -- --nocapture`); the inline
    /// ones must fit a slot's 96 bytes with the enum's tag.
    #[test]
    fn op_sizes() {
        for &(name, size, boxed) in SIZES {
            println!("{name:>20} {size:>4}{}", if boxed { " (boxed)" } else { "" });
            assert!(boxed || size <= 80, "{name} ({size} bytes) must be boxed");
        }
    }

    #[test]
    fn slots_stay_small() {
        // A slot is 128 bytes: the operation, its `user_data`, list links and chain links; and
        // a completion, which carries the operation, stays within 128 bytes (moved without a
        // call to `memcpy`).
        assert!(core::mem::size_of::<OwnedOp>() <= 88, "{}", core::mem::size_of::<OwnedOp>());
        assert!(core::mem::size_of::<crate::owned::Completion>() <= 128);
    }

    #[test]
    fn nul_bytes_are_refused() {
        assert!(matches!(c_path("a\0b"), Err(Error::InvalidArgument { what: "path", .. })));
        assert_eq!(c_path("/tmp/x").unwrap().as_bytes(), b"/tmp/x");
    }
}
