//! Encoders of the network operations, one file per family:
//!
//! | file | operations |
//! |---|---|
//! | `addr.rs` | socket addresses: [`SocketAddrAny`] (rustix's) read by operations, [`SockAddrBuf`] written by the kernel, [`decode_sockaddr`] |
//! | `socket.rs` | socket, bind, listen, accept, connect, shutdown |
//! | `send.rs` | send, sendto, vectored send, send bundle, zero-copy send, sendmsg, zero-copy sendmsg |
//! | `recv.rs` | recv, recv from a buffer group, multishot recv, recvmsg, multishot recvmsg, zero-copy receive |
//!
//! Flags are rustix's, which keep every bit they are given (`from_bits_retain`) and have the
//! kernel's widths: [`SendFlags`] for sends, [`RecvFlags`] for receives, [`ReturnFlags`] for
//! what a received message reports, [`SocketFlags`] for the sockets the kernel creates.
//!
//! [`SendFlags`]: rustix::net::SendFlags
//! [`RecvFlags`]: rustix::net::RecvFlags
//! [`ReturnFlags`]: rustix::net::ReturnFlags
//! [`SocketFlags`]: rustix::net::SocketFlags
//!
//! Entries that point at caller memory (a data buffer, an iovec array, a `msghdr`, a socket
//! address) are returned as [`Sqe`] and pushed with `unsafe`; each builder's documentation says
//! which memory must outlive the operation. Entries that select a buffer from a provided-buffer
//! group are also returned as [`Sqe`]: the kernel reads or writes the group's memory on their
//! behalf, so the group's buffers must stay valid until the operation completes.

use uring_uapi::*;

use crate::op::{prep_rw, set_buffer_select, set_target, BufferGroup, Target};
use crate::sqe::Sqe;

/// The arguments every send and receive shares, and their one encoding ([`MsgArgs::sqe`]).
///
/// Builders keep the memory their entry points at in their lifetime (a `PhantomData` of the
/// borrowed buffer, iovec array or `msghdr`); here it is only an address.
#[derive(Debug, Clone, Copy)]
struct MsgArgs {
    fd: Target,
    /// `sqe.addr`: the buffer, iovec array or `msghdr`; 0 when the kernel selects a buffer.
    addr: u64,
    /// `sqe.len`: bytes, iovecs, or 1 for a `msghdr`.
    len: u32,
    /// `sqe.msg_flags`: the `MSG_*` flags (of a [`SendFlags`](rustix::net::SendFlags) or
    /// [`RecvFlags`](rustix::net::RecvFlags)).
    msg_flags: u32,
    ioprio: u16,
    /// `sqe.buf_index` of a registered buffer (with `IORING_RECVSEND_FIXED_BUF`).
    buf_index: u16,
    /// The provided-buffer group to select from, validated when it was set.
    group: Option<u16>,
    /// The destination of a send (`sqe.addr2`) and its length (the 16-bit `sqe.addr_len`), or 0.
    to: u64,
    to_len: u16,
    /// `sqe.optlen`: the total limit of a multishot receive, or 0.
    limit: u32,
    /// `sqe.addr3`: the `user_data` of a zero-copy send's notification, or 0 (the entry's).
    notif: u64,
}

impl MsgArgs {
    /// A send or receive on `fd` of `len` units at `addr`, with the `ioprio` flags given.
    #[inline]
    const fn new(fd: Target, addr: u64, len: u32, ioprio: u16) -> Self {
        MsgArgs { fd, addr, len, msg_flags: 0, ioprio, buf_index: 0, group: None, to: 0, to_len: 0, limit: 0, notif: 0 }
    }

    /// A send or receive on `fd` selecting its buffer from `group` (refusing kernel-managed
    /// groups, as [`set_buffer_select`] does).
    #[inline]
    fn selecting(fd: Target, group: &impl BufferGroup, ioprio: u16) -> crate::Result<Self> {
        Ok(MsgArgs { group: Some(selectable(group)?), ..MsgArgs::new(fd, 0, 0, ioprio) })
    }

    /// The entry: `prep_rw` at `addr` and `len`, then the target, `sqe.ioprio`, the `MSG_*`
    /// flags, the registered buffer or the group, the destination, the limit and the
    /// notification's `user_data`.
    #[inline]
    const fn sqe(&self, opcode: u8) -> Sqe {
        let mut sqe = prep_rw(opcode, 0, self.addr, self.len, 0);
        set_target(&mut sqe, self.fd);
        sqe.0.ioprio = self.ioprio;
        sqe.0.op_flags.msg_flags = self.msg_flags;
        match self.group {
            Some(bgid) => {
                sqe.0.flags |= IOSQE_BUFFER_SELECT;
                sqe.0.buf.buf_group = bgid;
            }
            None => sqe.0.buf.buf_index = self.buf_index,
        }
        if self.to != 0 {
            // As `io_uring_prep_send_set_addr`.
            sqe.0.off.addr2 = self.to;
            sqe.0.file.addr_len = io_uring_sqe_addr_len { addr_len: self.to_len, __pad3: [0] };
        }
        if self.limit != 0 {
            sqe.0.file.optlen = self.limit;
        }
        if self.notif != 0 {
            sqe.0.addr3.addr3 = io_uring_sqe_addr3_pad { addr3: self.notif, __pad2: [0] };
        }
        sqe
    }
}

/// The id of `group`, refused (with [`Error::InvalidArgument`](crate::Error::InvalidArgument))
/// when it is kernel-managed, as [`set_buffer_select`] does.
#[inline]
fn selectable(group: &impl BufferGroup) -> crate::Result<u16> {
    set_buffer_select(&mut Sqe::zeroed(), group)?;
    Ok(group.bgid())
}

/// The setters the send and receive builders share: one per name listed, each with the doc
/// comment written before its name (the builders word them for their own operation). They
/// write the builder's `m: MsgArgs`.
macro_rules! msg_setters {
    () => {};
    ($(#[$doc:meta])* msg_flags: $ty:ty; $($rest:tt)*) => {
        $(#[$doc])*
        #[inline]
        #[must_use]
        pub const fn msg_flags(mut self, flags: $ty) -> Self {
            self.m.msg_flags = flags.bits();
            self
        }
        msg_setters!($($rest)*);
    };
    ($(#[$doc:meta])* len; $($rest:tt)*) => {
        $(#[$doc])*
        #[inline]
        #[must_use]
        pub const fn len(mut self, len: u32) -> Self {
            self.m.len = len;
            self
        }
        msg_setters!($($rest)*);
    };
    ($(#[$doc:meta])* to; $($rest:tt)*) => {
        $(#[$doc])*
        #[inline]
        #[must_use]
        pub fn to(mut self, addr: &'a rustix::net::SocketAddrAny) -> Self {
            let (to, len) = super::addr::addr_parts(addr);
            self.m.to = to;
            // A `SocketAddrAny` is at most 128 bytes long, so its length fits the 16-bit field.
            self.m.to_len = len as u16;
            self
        }
        msg_setters!($($rest)*);
    };
    ($(#[$doc:meta])* fixed_buf; $($rest:tt)*) => {
        $(#[$doc])*
        #[inline]
        #[must_use]
        pub const fn fixed_buf(mut self, buf_index: u16) -> Self {
            self.m.ioprio |= IORING_RECVSEND_FIXED_BUF;
            self.m.buf_index = buf_index;
            self
        }
        msg_setters!($($rest)*);
    };
    ($(#[$doc:meta])* notif_user_data; $($rest:tt)*) => {
        $(#[$doc])*
        #[inline]
        #[must_use]
        pub const fn notif_user_data(mut self, user_data: u64) -> Self {
            self.m.notif = user_data;
            self
        }
        msg_setters!($($rest)*);
    };
    // The others each add one `sqe.ioprio` flag: `poll_first`, `report_usage`, `bundle`.
    ($(#[$doc:meta])* $name:ident; $($rest:tt)*) => {
        $(#[$doc])*
        #[inline]
        #[must_use]
        pub const fn $name(mut self) -> Self {
            self.m.ioprio |= ioprio_flag!($name);
            self
        }
        msg_setters!($($rest)*);
    };
}

/// The `sqe.ioprio` flag each flag setter of `msg_setters!` adds.
macro_rules! ioprio_flag {
    (poll_first) => {
        IORING_RECVSEND_POLL_FIRST
    };
    (report_usage) => {
        IORING_SEND_ZC_REPORT_USAGE
    };
    (bundle) => {
        IORING_RECVSEND_BUNDLE
    };
}

mod addr;
mod recv;
mod send;
mod socket;

pub use addr::*;
pub use recv::*;
pub use send::*;
pub use socket::*;
