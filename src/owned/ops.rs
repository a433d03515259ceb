//! The owned operations: each owns the memory its entry points at, and comes back from
//! [`Completion::into_op`](super::Completion::into_op) with it.
//!
//! Every type here is a plain struct with public fields: build it, push it, and read the
//! fields (the buffer the kernel filled, the stat buffer, the peer address...) when it returns.

use std::time::Duration;

use crate::op::{self, Target, TimeoutFlags, Timespec};
use crate::sqe::Sqe;
use crate::Result;

mod private {
    pub trait Sealed {}
}

/// An operation the owned layer can carry: converts to and from [`OwnedOp`].
pub trait Operation: Sized + private::Sealed {
    /// Wraps the operation.
    fn into_op(self) -> OwnedOp;
    /// Unwraps it, or hands the value back if it is another operation.
    fn from_op(op: OwnedOp) -> core::result::Result<Self, OwnedOp>;
}

/// Builds the entry of an operation that sits at its final address (crate-internal).
pub(crate) trait Encode {
    /// The entry, pointing into `self`.
    fn sqe(&mut self) -> Result<Sqe>;
}

macro_rules! owned_ops {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {
        /// Every owned operation, as stored in the in-flight table.
        #[derive(Debug)]
        #[non_exhaustive]
        pub enum OwnedOp {
            $($(#[$doc])* $name($name),)*
        }

        impl OwnedOp {
            pub(crate) fn sqe(&mut self) -> Result<Sqe> {
                match self {
                    $(OwnedOp::$name(o) => o.sqe(),)*
                }
            }
        }

        $(
            impl private::Sealed for $name {}
            impl Operation for $name {
                fn into_op(self) -> OwnedOp {
                    OwnedOp::$name(self)
                }
                fn from_op(op: OwnedOp) -> core::result::Result<Self, OwnedOp> {
                    match op {
                        OwnedOp::$name(o) => Ok(o),
                        #[allow(unreachable_patterns)]
                        other => Err(other),
                    }
                }
            }
        )*
    };
}

owned_ops! {
    /// A no-op (for measuring the layer itself).
    Nop,
    /// A read into an owned buffer.
    Read,
    /// A write from an owned buffer.
    Write,
    /// A timeout with an owned timespec.
    Timeout,
}

/// `IORING_OP_NOP` through the owned layer.
#[derive(Debug, Clone, Copy, Default)]
pub struct Nop;

impl Encode for Nop {
    fn sqe(&mut self) -> Result<Sqe> {
        Ok(op::Nop::new().build().into_sqe())
    }
}

/// `IORING_OP_READ` into `buf[..buf.len()]` at `offset` (`u64::MAX`: the file position).
/// The result is the number of bytes read into the front of `buf`.
#[derive(Debug)]
pub struct Read {
    /// The file.
    pub fd: Target,
    /// The buffer (its length is the most that is read).
    pub buf: Vec<u8>,
    /// The file offset.
    pub offset: u64,
}

impl Read {
    /// A read of up to `buf.len()` bytes from `fd` at `offset`.
    pub fn new(fd: impl Into<Target>, buf: Vec<u8>, offset: u64) -> Self {
        Read { fd: fd.into(), buf, offset }
    }
}

impl Encode for Read {
    fn sqe(&mut self) -> Result<Sqe> {
        Ok(op::Read::new(self.fd, &mut self.buf[..]).offset(self.offset).build())
    }
}

/// `IORING_OP_WRITE` of `buf` at `offset` (`u64::MAX`: the file position).
#[derive(Debug)]
pub struct Write {
    /// The file.
    pub fd: Target,
    /// The bytes to write.
    pub buf: Vec<u8>,
    /// The file offset.
    pub offset: u64,
}

impl Write {
    /// A write of `buf` to `fd` at `offset`.
    pub fn new(fd: impl Into<Target>, buf: Vec<u8>, offset: u64) -> Self {
        Write { fd: fd.into(), buf, offset }
    }
}

impl Encode for Write {
    fn sqe(&mut self) -> Result<Sqe> {
        Ok(op::Write::new(self.fd, &self.buf[..]).offset(self.offset).build())
    }
}

/// `IORING_OP_TIMEOUT` with an owned timespec: completes with `ETIME` when the time passes, or
/// with 0 after `count` other completions.
#[derive(Debug)]
pub struct Timeout {
    /// The time.
    pub ts: Timespec,
    /// Completions to wait for (0: time only).
    pub count: u32,
    /// `IORING_TIMEOUT_*` options.
    pub flags: TimeoutFlags,
}

impl Timeout {
    /// A relative timeout of `d`.
    pub fn new(d: Duration) -> Self {
        Timeout { ts: d.into(), count: 0, flags: TimeoutFlags::empty() }
    }
}

impl Encode for Timeout {
    fn sqe(&mut self) -> Result<Sqe> {
        Ok(op::Timeout::new(&self.ts).count(self.count).flags(self.flags).build())
    }
}
