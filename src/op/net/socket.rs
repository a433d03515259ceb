//! Socket creation and setup: socket, bind, listen, accept, connect, shutdown.

use uring_uapi::*;

use rustix::net::SocketFlags;

use rustix::net::addr::{SocketAddrLen, SocketAddrStorage};
use rustix::net::SocketAddrAny;

use super::addr_parts;
use crate::op::{prep_rw, set_target, DestSlot, Target};
use crate::sqe::{FdSqe, SafeSqe, Sqe};

value_op! {
    /// `IORING_OP_SOCKET`: creates a socket, as `socket(2)` (`io_uring_prep_socket(3)`, Linux
    /// 5.19).
    ///
    /// The result is the new file descriptor, or with [`Socket::dest`] a direct descriptor:
    /// [`DestSlot::Fixed`] mirrors `io_uring_prep_socket_direct(3)` (result 0),
    /// [`DestSlot::Alloc`] mirrors `io_uring_prep_socket_direct_alloc(3)` (result: the slot
    /// chosen). liburing's `flags` argument lands in `sqe.rw_flags`, which the kernel refuses
    /// unless 0 (`EINVAL`): it is not offered (the socket's own flags are
    /// [`sock_flags`](Socket::sock_flags)).
    pub struct Socket(IORING_OP_SOCKET) -> SafeSqe {
        /// A socket of `domain` (`AF_*`), `ty` (`SOCK_STREAM`, `SOCK_DGRAM`, ...) and
        /// `protocol` (0 for the default), as ordinary file descriptor.
        /// See `io_uring_prep_socket(3)` (Linux 5.19).
        [const] fn new(domain: i32, ty: i32, protocol: i32);
        set {
            /// Where the socket goes: an ordinary fd (the default), or a direct descriptor.
            dest: DestSlot = DestSlot::Fd,
        }
    }
    /// The entry.
    /// Encodes `IORING_OP_SOCKET`.
    fn build(self) {
        let mut sqe = prep_rw(Self::CODE, self.domain, 0, self.protocol as u32, self.ty as u32 as u64);
        sqe.0.file.file_index = self.dest.file_index();
        sqe
    }
}

impl Socket {
    /// Adds `SOCK_NONBLOCK` / `SOCK_CLOEXEC` to the type (`CLOEXEC` is refused for direct
    /// descriptors).
    #[inline]
    #[must_use]
    pub const fn sock_flags(mut self, flags: SocketFlags) -> Self {
        self.ty |= flags.bits() as i32;
        self
    }
}

/// `IORING_OP_BIND`: binds a socket to an address, as `bind(2)` (`io_uring_prep_bind(3)`,
/// Linux 6.11).
///
/// Memory: the kernel copies `addr` while the entry is submitted; it must stay valid until
/// then (keeping it until the completion is always enough).
#[derive(Debug, Clone, Copy)]
pub struct Bind<'a> {
    fd: Target,
    addr: &'a SocketAddrAny,
}

impl<'a> Bind<'a> {
    /// The operation code, `IORING_OP_BIND`.
    pub const CODE: u8 = IORING_OP_BIND;

    /// Binds `fd` to `addr`.
    /// See `io_uring_prep_bind(3)` (Linux 6.11).
    #[inline]
    pub fn new(fd: impl Into<Target>, addr: &'a SocketAddrAny) -> Self {
        Bind { fd: fd.into(), addr }
    }

    /// The entry. See the type's docs for the memory it points at.
    /// Encodes `IORING_OP_BIND`.
    #[inline]
    pub fn build(self) -> Sqe {
        addr_sqe(Self::CODE, self.fd, self.addr)
    }
}

value_op! {
    /// `IORING_OP_LISTEN`: marks a bound socket as accepting connections, as `listen(2)`
    /// (`io_uring_prep_listen(3)`, Linux 6.11).
    pub struct Listen(IORING_OP_LISTEN) -> FdSqe {
        /// Listens on `fd` with a queue of `backlog` pending connections (capped by the kernel
        /// at `net.core.somaxconn`).
        /// See `io_uring_prep_listen(3)` (Linux 6.11).
        fn new(fd: Target, backlog: u32);
    }
    /// The entry.
    /// Encodes `IORING_OP_LISTEN`.
    fn build(self) {
        let mut sqe = prep_rw(Self::CODE, 0, 0, self.backlog, 0);
        set_target(&mut sqe, self.fd);
        sqe
    }
}

value_op! {
    /// `IORING_OP_ACCEPT`: accepts a connection, as `accept4(2)` (`io_uring_prep_accept(3)`,
    /// Linux 5.5). The result is the new file descriptor (or direct-descriptor slot).
    ///
    /// The liburing variants are setters:
    /// - [`Accept::dest`] with [`DestSlot::Fixed`] or [`DestSlot::Alloc`]:
    ///   `io_uring_prep_accept_direct(3)` (Linux 5.15; result 0 for a fixed slot, the slot chosen
    ///   for `Alloc`);
    /// - [`Accept::multishot`]: `io_uring_prep_multishot_accept(3)` (Linux 5.19), one completion
    ///   with `IORING_CQE_F_MORE` per connection;
    /// - both, with [`DestSlot::Alloc`]: `io_uring_prep_multishot_accept_direct(3)` (multishot
    ///   accepts into a fixed slot are refused by the kernel with `EINVAL`).
    ///
    /// This entry asks for no peer address; to learn it, use [`Accept::peer_addr`], whose entry
    /// points at memory.
    pub struct Accept(IORING_OP_ACCEPT) -> FdSqe {
        /// Accepts one connection on the listening socket `fd`, as an ordinary fd.
        /// See `io_uring_prep_accept(3)` (Linux 5.5).
        fn new(fd: Target);
        set {
            /// `accept4(2)` flags of the new socket (`SOCK_NONBLOCK`, `SOCK_CLOEXEC`; `CLOEXEC`
            /// is refused for direct descriptors).
            sock_flags: SocketFlags = SocketFlags::empty(),
            /// Where the accepted socket goes: an ordinary fd (the default), or a direct
            /// descriptor.
            dest: DestSlot = DestSlot::Fd,
        }
        hold { ioprio: u16 = 0 }
        flags {
            /// `IORING_ACCEPT_MULTISHOT`: keep accepting, one completion per connection (Linux
            /// 5.19).
            multishot: ioprio |= IORING_ACCEPT_MULTISHOT,
            /// `IORING_ACCEPT_DONTWAIT`: fail with `EAGAIN` rather than wait when no connection is
            /// pending (Linux 6.10).
            dontwait: ioprio |= IORING_ACCEPT_DONTWAIT,
            /// `IORING_ACCEPT_POLL_FIRST`: arm a poll first instead of trying to accept straight
            /// away (Linux 6.10).
            poll_first: ioprio |= IORING_ACCEPT_POLL_FIRST,
        }
    }
    /// The entry.
    /// Encodes `IORING_OP_ACCEPT`.
    fn build(self) {
        self.encode(0, 0)
    }
}

impl Accept {
    /// Has the kernel write the peer's address into `addr` and its length into `addrlen`
    /// (`addr` and `addrlen` of `io_uring_prep_accept(3)`, which the kernel reads as two
    /// separate pointers, so they may lie apart); the entry then points at both and must be
    /// pushed with `unsafe`. [`SockAddrBuf::parts_mut`](super::SockAddrBuf::parts_mut) gives
    /// the two in one value; decode the result with
    /// [`SockAddrBuf::addr`](super::SockAddrBuf::addr) or
    /// [`decode_sockaddr_at`](super::decode_sockaddr_at).
    #[inline]
    pub fn peer_addr<'a>(self, addr: &'a mut SocketAddrStorage, addrlen: &'a mut SocketAddrLen) -> AcceptWithAddr<'a> {
        AcceptWithAddr { accept: self, addr, addrlen }
    }

    /// The entry with the peer address's `addr` and `addrlen` pointers (0 for none).
    const fn encode(self, addr: u64, addrlen: u64) -> Sqe {
        let mut sqe = prep_rw(Self::CODE, 0, addr, 0, addrlen);
        set_target(&mut sqe, self.fd);
        sqe.0.ioprio = self.ioprio;
        sqe.0.op_flags.accept_flags = self.sock_flags.bits();
        sqe.0.file.file_index = self.dest.file_index();
        sqe
    }
}

/// An [`Accept`] that reports the peer's address (`addr` and `addrlen` of
/// `io_uring_prep_accept(3)`).
///
/// Memory: the kernel writes the address into the storage and its length into the length word
/// when a connection is accepted; both must stay valid until the completion (for a multishot
/// accept, until the final completion; every connection overwrites them).
/// Linux 5.5.
pub struct AcceptWithAddr<'a> {
    accept: Accept,
    addr: &'a mut SocketAddrStorage,
    addrlen: &'a mut SocketAddrLen,
}

impl core::fmt::Debug for AcceptWithAddr<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AcceptWithAddr")
            .field("accept", &self.accept)
            .field("addr", &(self.addr as *const SocketAddrStorage))
            .field("addrlen", &self.addrlen)
            .finish()
    }
}

impl AcceptWithAddr<'_> {
    /// The entry (the length word is set to the storage's full size, the room the kernel may
    /// fill). See the type's docs for the memory it points at.
    #[inline]
    pub fn build(self) -> Sqe {
        *self.addrlen = core::mem::size_of::<SocketAddrStorage>() as SocketAddrLen;
        let addr = self.addr as *mut SocketAddrStorage as u64;
        self.accept.encode(addr, self.addrlen as *mut SocketAddrLen as u64)
    }
}

/// `IORING_OP_CONNECT`: connects a socket, as `connect(2)` (`io_uring_prep_connect(3)`, Linux
/// 5.5).
///
/// Memory: the kernel copies `addr` while the entry is submitted; it must stay valid until
/// then (keeping it until the completion is always enough).
#[derive(Debug, Clone, Copy)]
pub struct Connect<'a> {
    fd: Target,
    addr: &'a SocketAddrAny,
}

impl<'a> Connect<'a> {
    /// The operation code, `IORING_OP_CONNECT`.
    pub const CODE: u8 = IORING_OP_CONNECT;

    /// Connects `fd` to `addr`.
    /// See `io_uring_prep_connect(3)` (Linux 5.5).
    #[inline]
    pub fn new(fd: impl Into<Target>, addr: &'a SocketAddrAny) -> Self {
        Connect { fd: fd.into(), addr }
    }

    /// The entry. See the type's docs for the memory it points at.
    /// Encodes `IORING_OP_CONNECT`.
    #[inline]
    pub fn build(self) -> Sqe {
        addr_sqe(Self::CODE, self.fd, self.addr)
    }
}

/// The entry of an operation on `fd` and the address `addr` (bind, connect): `sqe.addr` and
/// its length in `sqe.addr2`.
#[inline]
fn addr_sqe(opcode: u8, fd: Target, addr: &SocketAddrAny) -> Sqe {
    let (addr, len) = addr_parts(addr);
    let mut sqe = prep_rw(opcode, 0, addr, 0, u64::from(len));
    set_target(&mut sqe, fd);
    sqe
}

/// `IORING_OP_SHUTDOWN`: shuts down part of a full-duplex connection, as `shutdown(2)`
/// (`io_uring_prep_shutdown(3)`, Linux 5.11).
///
#[doc = fd_entry_doc!()]
#[derive(Debug, Clone, Copy)]
pub struct Shutdown {
    pub(crate) fd: Target,
    how: u32,
}

impl Shutdown {
    /// The operation code, `IORING_OP_SHUTDOWN`.
    pub const CODE: u8 = IORING_OP_SHUTDOWN;

    /// Shuts down the reading half, the writing half, or both (`SHUT_RD`, `SHUT_WR`,
    /// `SHUT_RDWR`).
    /// See `io_uring_prep_shutdown(3)` (Linux 5.11).
    #[inline]
    pub fn new(fd: impl Into<Target>, how: std::net::Shutdown) -> Self {
        let how = match how {
            std::net::Shutdown::Read => libc::SHUT_RD,
            std::net::Shutdown::Write => libc::SHUT_WR,
            std::net::Shutdown::Both => libc::SHUT_RDWR,
        };
        Shutdown { fd: fd.into(), how: how as u32 }
    }

    /// The entry.
    /// Encodes `IORING_OP_SHUTDOWN`.
    #[inline]
    pub const fn build(self) -> FdSqe {
        let mut sqe = prep_rw(Self::CODE, 0, 0, self.how, 0);
        set_target(&mut sqe, self.fd);
        FdSqe::new(sqe)
    }
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};

    use super::*;
    use crate::op::test_util::{check, Fields, FIXED};
    use crate::op::Fixed;
    use crate::op::SockAddrBuf;

    #[test]
    fn encodings() {
        let a = SocketAddrAny::from(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 80));
        let a6 = SocketAddrAny::from(SocketAddrV6::new(Ipv6Addr::LOCALHOST, 1, 0, 0));
        let accept_all = IORING_ACCEPT_MULTISHOT | IORING_ACCEPT_DONTWAIT | IORING_ACCEPT_POLL_FIRST;
        check(&[
            (
                "socket",
                Socket::new(libc::AF_INET, libc::SOCK_STREAM, 6).build().into(),
                Fields {
                    opcode: IORING_OP_SOCKET,
                    fd: libc::AF_INET,
                    off: libc::SOCK_STREAM as u64,
                    len: 6,
                    ..Default::default()
                },
            ),
            (
                "socket_direct: flags or-ed into the type, slot n encoded n + 1",
                Socket::new(libc::AF_INET6, libc::SOCK_DGRAM, 0)
                    .sock_flags(SocketFlags::NONBLOCK)
                    .dest(DestSlot::Fixed(4))
                    .build()
                    .user_data(9)
                    .personality(2)
                    .into(),
                Fields {
                    opcode: IORING_OP_SOCKET,
                    fd: libc::AF_INET6,
                    off: (libc::SOCK_DGRAM | libc::SOCK_NONBLOCK) as u64,
                    file: 5,
                    user_data: 9,
                    personality: 2,
                    ..Default::default()
                },
            ),
            (
                "socket_direct_alloc",
                Socket::new(libc::AF_UNIX, libc::SOCK_STREAM, 0).dest(DestSlot::Alloc).build().into(),
                Fields {
                    opcode: IORING_OP_SOCKET,
                    fd: libc::AF_UNIX,
                    off: libc::SOCK_STREAM as u64,
                    file: IORING_FILE_INDEX_ALLOC,
                    ..Default::default()
                },
            ),
            (
                "bind",
                Bind::new(Target::raw(3), &a).build(),
                Fields { opcode: IORING_OP_BIND, fd: 3, addr: a.as_ptr() as u64, off: 16, ..Default::default() },
            ),
            (
                "connect, fixed",
                Connect::new(Target::fixed(7), &a).build(),
                Fields {
                    opcode: IORING_OP_CONNECT,
                    fd: 7,
                    flags: FIXED,
                    addr: a.as_ptr() as u64,
                    off: 16,
                    ..Default::default()
                },
            ),
            (
                "connect, IPv6",
                Connect::new(Target::raw(1), &a6).build(),
                Fields { opcode: IORING_OP_CONNECT, fd: 1, addr: a6.as_ptr() as u64, off: 28, ..Default::default() },
            ),
            (
                "listen",
                Listen::new(Target::raw(4), 128).build().into(),
                Fields { opcode: IORING_OP_LISTEN, fd: 4, len: 128, ..Default::default() },
            ),
            (
                "listen, fixed",
                Listen::new(Fixed(2), 1).build().into(),
                Fields { opcode: IORING_OP_LISTEN, fd: 2, flags: FIXED, len: 1, ..Default::default() },
            ),
            (
                "accept",
                Accept::new(Target::raw(5)).build().into(),
                Fields { opcode: IORING_OP_ACCEPT, fd: 5, ..Default::default() },
            ),
            (
                "accept with flags",
                Accept::new(Target::raw(5)).sock_flags(SocketFlags::CLOEXEC).build().into(),
                Fields { opcode: IORING_OP_ACCEPT, fd: 5, op_flags: libc::SOCK_CLOEXEC as u32, ..Default::default() },
            ),
            (
                "accept_direct",
                Accept::new(Target::raw(5)).dest(DestSlot::Fixed(0)).build().into(),
                Fields { opcode: IORING_OP_ACCEPT, fd: 5, file: 1, ..Default::default() },
            ),
            (
                "multishot_accept",
                Accept::new(Target::raw(5)).multishot().build().into(),
                Fields { opcode: IORING_OP_ACCEPT, fd: 5, ioprio: IORING_ACCEPT_MULTISHOT, ..Default::default() },
            ),
            (
                "multishot_accept_direct, fixed listener, every ioprio flag",
                Accept::new(Fixed(1))
                    .multishot()
                    .dest(DestSlot::Alloc)
                    .dontwait()
                    .poll_first()
                    .sock_flags(SocketFlags::NONBLOCK)
                    .build()
                    .into(),
                Fields {
                    opcode: IORING_OP_ACCEPT,
                    fd: 1,
                    flags: FIXED,
                    ioprio: accept_all,
                    op_flags: libc::SOCK_NONBLOCK as u32,
                    file: IORING_FILE_INDEX_ALLOC,
                    ..Default::default()
                },
            ),
            (
                "shutdown",
                Shutdown::new(Target::raw(6), std::net::Shutdown::Write).build().into(),
                Fields { opcode: IORING_OP_SHUTDOWN, fd: 6, len: libc::SHUT_WR as u32, ..Default::default() },
            ),
            (
                "shutdown, reading half",
                Shutdown::new(Target::raw(6), std::net::Shutdown::Read).build().into(),
                Fields { opcode: IORING_OP_SHUTDOWN, fd: 6, len: libc::SHUT_RD as u32, ..Default::default() },
            ),
            (
                "shutdown, both, fixed",
                Shutdown::new(Fixed(3), std::net::Shutdown::Both).build().into(),
                Fields {
                    opcode: IORING_OP_SHUTDOWN,
                    fd: 3,
                    flags: FIXED,
                    len: libc::SHUT_RDWR as u32,
                    ..Default::default()
                },
            ),
        ]);
    }

    /// With the peer address: `addr` and the `addrlen` pointer (`off`), the length preset to the
    /// storage's capacity.
    #[test]
    fn accept_peer_addr() {
        // Together in a `SockAddrBuf`, or apart: the kernel reads two pointers.
        let mut buf = SockAddrBuf::new();
        let (storage, len) = buf.parts_mut();
        *len = 2;
        let (addr, addrlen) = (storage as *mut SocketAddrStorage as u64, len as *mut SocketAddrLen as u64);
        let sqe = Accept::new(Target::raw(5)).peer_addr(storage, len).build();
        assert_eq!(buf.len(), 128, "the length word says the storage's size");
        let mut apart = (SocketAddrStorage::zeroed(), [0u8; 3], 0 as SocketAddrLen);
        let (a2, l2) = (&mut apart.0 as *mut SocketAddrStorage as u64, &mut apart.2 as *mut SocketAddrLen as u64);
        let sqe2 = Accept::new(Target::raw(5)).multishot().peer_addr(&mut apart.0, &mut apart.2).build();
        assert_eq!(apart.2, 128);
        check(&[
            (
                "accept with the peer address",
                sqe,
                Fields { opcode: IORING_OP_ACCEPT, fd: 5, addr, off: addrlen, ..Default::default() },
            ),
            (
                "multishot accept, address and length apart",
                sqe2,
                Fields {
                    opcode: IORING_OP_ACCEPT,
                    fd: 5,
                    ioprio: IORING_ACCEPT_MULTISHOT,
                    addr: a2,
                    off: l2,
                    ..Default::default()
                },
            ),
        ]);
    }
}
