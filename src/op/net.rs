//! Encoders of the network operations: socket creation and setup (socket, bind, listen, accept,
//! connect, shutdown), sends (send, sendto, vectored send, send bundle, zero-copy send, sendmsg,
//! zero-copy sendmsg) and receives (recv, recv from a buffer group, multishot recv, recvmsg,
//! multishot recvmsg, zero-copy receive).
//!
//! Entries that point at caller memory (a data buffer, an iovec array, a `msghdr`, a socket
//! address) are returned as [`Sqe`] and pushed with `unsafe`; each builder's documentation says
//! which memory must outlive the operation. Entries that select a buffer from a provided-buffer
//! group are also returned as [`Sqe`]: the kernel reads or writes the group's memory on their
//! behalf, so the group's buffers must stay valid until the operation completes.

use core::marker::PhantomData;
use std::io::IoSlice;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

use bitflags::bitflags;
use uring_uapi::*;

use crate::op::{prep_rw, set_buffer_select, set_target, BufferGroup, DestSlot, Target};
use crate::sqe::{FdSqe, SafeSqe, Sqe};

bitflags! {
    /// The `MSG_*` flags of a send or receive (`sqe.msg_flags`), as for `send(2)`/`recv(2)`;
    /// also the flags a received message reports ([`RecvMsgOut::flags`](crate::op::RecvMsgOut::flags)).
    ///
    /// Unknown bits are kept, so any kernel flag can be passed with
    /// [`MsgFlags::from_bits_retain`].
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct MsgFlags: u32 {
        /// `MSG_OOB`: out-of-band data.
        const OOB = libc::MSG_OOB as u32;
        /// `MSG_PEEK`: receive without removing the data from the queue.
        const PEEK = libc::MSG_PEEK as u32;
        /// `MSG_DONTROUTE`: send only to directly connected hosts.
        const DONTROUTE = libc::MSG_DONTROUTE as u32;
        /// `MSG_CTRUNC` (reported): control data was truncated for lack of space.
        const CTRUNC = libc::MSG_CTRUNC as u32;
        /// `MSG_TRUNC`: on a datagram receive, return the real length; reported when the
        /// datagram was longer than the buffer.
        const TRUNC = libc::MSG_TRUNC as u32;
        /// `MSG_DONTWAIT`: do not wait; fail with `EAGAIN` instead of arming a poll.
        const DONTWAIT = libc::MSG_DONTWAIT as u32;
        /// `MSG_EOR`: end of record (SOCK_SEQPACKET).
        const EOR = libc::MSG_EOR as u32;
        /// `MSG_WAITALL`: receive the full length (not allowed on multishot receives).
        const WAITALL = libc::MSG_WAITALL as u32;
        /// `MSG_CONFIRM`: the link layer made progress (neighbour confirmation).
        const CONFIRM = libc::MSG_CONFIRM as u32;
        /// `MSG_ERRQUEUE`: receive from the socket's error queue.
        const ERRQUEUE = libc::MSG_ERRQUEUE as u32;
        /// `MSG_NOSIGNAL`: no `SIGPIPE` on a broken stream (io_uring sends always add it).
        const NOSIGNAL = libc::MSG_NOSIGNAL as u32;
        /// `MSG_MORE`: more data follows; the kernel may cork.
        const MORE = libc::MSG_MORE as u32;
        /// `MSG_WAITFORONE`: for batched receives, wait for one message only.
        const WAITFORONE = libc::MSG_WAITFORONE as u32;
        /// `MSG_ZEROCOPY`: the socket-level zero-copy send (io_uring has its own, `SEND_ZC`).
        const ZEROCOPY = libc::MSG_ZEROCOPY as u32;
        /// `MSG_FASTOPEN`: TCP fast open with the first send.
        const FASTOPEN = libc::MSG_FASTOPEN as u32;
        /// `MSG_CMSG_CLOEXEC`: received file descriptors (`SCM_RIGHTS`) get `O_CLOEXEC`.
        const CMSG_CLOEXEC = libc::MSG_CMSG_CLOEXEC as u32;
        // Keep every other bit the kernel defines or reports.
        const _ = !0;
    }
}

bitflags! {
    /// The flags of a socket the kernel creates: `SOCK_NONBLOCK` and `SOCK_CLOEXEC`
    /// (`accept4(2)` flags, or or-ed into the type of `socket(2)`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct SockFlags: u32 {
        /// `SOCK_NONBLOCK`: the new file is non-blocking.
        const NONBLOCK = libc::SOCK_NONBLOCK as u32;
        /// `SOCK_CLOEXEC`: the new descriptor is closed on `exec`. Not allowed for direct
        /// descriptors (the kernel answers `EINVAL`).
        const CLOEXEC = libc::SOCK_CLOEXEC as u32;
    }
}

/// A socket address in the kernel's form: a `sockaddr_storage` and the length that is valid.
///
/// Built from [`std::net::SocketAddr`] (and its V4/V6 forms), a Unix path, an abstract Unix
/// name, or raw bytes. Operations that take an address ([`Connect`], [`Bind`], [`Send::to`])
/// point at it; [`Accept::peer_addr`] has the kernel write the peer's address into one.
#[derive(Clone, Copy)]
pub struct SockAddr {
    storage: libc::sockaddr_storage,
    len: libc::socklen_t,
}

/// The size of `sockaddr_storage` (128 bytes).
const STORAGE_LEN: usize = core::mem::size_of::<libc::sockaddr_storage>();

impl SockAddr {
    /// An empty address with room for any family (length = capacity), to be filled in by the
    /// kernel, e.g. with [`Accept::peer_addr`].
    pub fn empty() -> Self {
        // SAFETY: `sockaddr_storage` is plain integers; all-zero is a valid value.
        let storage: libc::sockaddr_storage = unsafe { core::mem::zeroed() };
        SockAddr { storage, len: STORAGE_LEN as libc::socklen_t }
    }

    /// An address from a raw `sockaddr_storage` of which the first `len` bytes are valid.
    ///
    /// Refuses a `len` larger than the storage (128 bytes).
    pub fn from_raw(storage: libc::sockaddr_storage, len: libc::socklen_t) -> crate::Result<Self> {
        if len as usize > STORAGE_LEN {
            return Err(crate::Error::InvalidArgument {
                what: "socket address length",
                reason: "larger than sockaddr_storage (128 bytes)",
            });
        }
        Ok(SockAddr { storage, len })
    }

    /// An address from its bytes (a `sockaddr_*` structure as the kernel lays it out).
    ///
    /// Refuses more than 128 bytes.
    pub fn from_bytes(bytes: &[u8]) -> crate::Result<Self> {
        if bytes.len() > STORAGE_LEN {
            return Err(crate::Error::InvalidArgument {
                what: "socket address length",
                reason: "larger than sockaddr_storage (128 bytes)",
            });
        }
        let mut a = SockAddr::empty();
        a.storage_bytes_mut()[..bytes.len()].copy_from_slice(bytes);
        a.len = bytes.len() as libc::socklen_t;
        Ok(a)
    }

    /// A Unix-domain address naming the filesystem path `path` (`AF_UNIX`).
    ///
    /// Refuses a path containing a NUL byte or longer than 107 bytes.
    pub fn unix(path: &std::path::Path) -> crate::Result<Self> {
        use std::os::unix::ffi::OsStrExt;
        let bytes = path.as_os_str().as_bytes();
        if bytes.contains(&0) {
            return Err(crate::Error::InvalidArgument { what: "unix socket path", reason: "contains a NUL byte" });
        }
        Self::unix_raw(bytes, true)
    }

    /// A Unix-domain address in the abstract namespace (`AF_UNIX`, `sun_path[0] == 0`, then
    /// `name`; Linux only). Refuses a name longer than 107 bytes.
    pub fn unix_abstract(name: &[u8]) -> crate::Result<Self> {
        let mut with_nul = [0u8; 108];
        if name.len() > 107 {
            return Err(crate::Error::InvalidArgument {
                what: "abstract unix socket name",
                reason: "longer than 107 bytes",
            });
        }
        with_nul[1..=name.len()].copy_from_slice(name);
        Self::unix_raw(&with_nul[..=name.len()], false)
    }

    fn unix_raw(path: &[u8], nul_terminate: bool) -> crate::Result<Self> {
        // SAFETY: `sockaddr_un` is plain integers; all-zero is a valid value.
        let mut un: libc::sockaddr_un = unsafe { core::mem::zeroed() };
        let room = un.sun_path.len() - usize::from(nul_terminate);
        if path.len() > room {
            return Err(crate::Error::InvalidArgument {
                what: "unix socket path",
                reason: "longer than sun_path allows (107 bytes plus the terminating NUL)",
            });
        }
        un.sun_family = libc::AF_UNIX as libc::sa_family_t;
        for (d, s) in un.sun_path.iter_mut().zip(path) {
            *d = *s as libc::c_char;
        }
        let base = core::mem::offset_of!(libc::sockaddr_un, sun_path);
        let len = base + path.len() + usize::from(nul_terminate);
        let mut a = SockAddr::empty();
        a.write_struct(&un);
        a.len = len as libc::socklen_t;
        Ok(a)
    }

    /// Copies a `sockaddr_*` structure into the storage.
    fn write_struct<T: Copy>(&mut self, value: &T) {
        const { assert!(core::mem::size_of::<T>() <= STORAGE_LEN) };
        const { assert!(core::mem::align_of::<T>() <= core::mem::align_of::<libc::sockaddr_storage>()) };
        // SAFETY: `T` fits in the storage and needs no stricter alignment (checked above); the
        // storage is plain bytes and every `T` used here is a plain-integer sockaddr struct.
        unsafe { core::ptr::write(&mut self.storage as *mut libc::sockaddr_storage as *mut T, *value) };
    }

    /// Reads a `sockaddr_*` structure from the storage.
    fn read_struct<T: Copy>(&self) -> T {
        const { assert!(core::mem::size_of::<T>() <= STORAGE_LEN) };
        const { assert!(core::mem::align_of::<T>() <= core::mem::align_of::<libc::sockaddr_storage>()) };
        // SAFETY: as in `write_struct`; the sockaddr structs read here are plain integers, valid
        // for every bit pattern.
        unsafe { core::ptr::read(&self.storage as *const libc::sockaddr_storage as *const T) }
    }

    fn storage_bytes_mut(&mut self) -> &mut [u8; STORAGE_LEN] {
        // SAFETY: `sockaddr_storage` is exactly `STORAGE_LEN` bytes of plain data, so viewing it
        // as a byte array is valid for reads and writes of any value.
        unsafe { &mut *(&mut self.storage as *mut libc::sockaddr_storage as *mut [u8; STORAGE_LEN]) }
    }

    /// The valid bytes of the address.
    pub fn as_bytes(&self) -> &[u8] {
        // SAFETY: as in `storage_bytes_mut`, read-only.
        let all = unsafe { &*(&self.storage as *const libc::sockaddr_storage as *const [u8; STORAGE_LEN]) };
        &all[..(self.len as usize).min(STORAGE_LEN)]
    }

    /// The address family (`AF_*`), or `AF_UNSPEC` for an address too short to hold one.
    pub fn family(&self) -> libc::sa_family_t {
        if (self.len as usize) < core::mem::size_of::<libc::sa_family_t>() {
            return libc::AF_UNSPEC as libc::sa_family_t;
        }
        self.storage.ss_family
    }

    /// The valid length in bytes (after [`Accept::peer_addr`] completes: the peer address's
    /// length as the kernel reported it).
    pub const fn len(&self) -> libc::socklen_t {
        self.len
    }

    /// Whether the valid length is 0.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The raw storage.
    pub const fn as_storage(&self) -> &libc::sockaddr_storage {
        &self.storage
    }

    /// The address as a `sockaddr` pointer, for system calls.
    pub fn as_ptr(&self) -> *const libc::sockaddr {
        &self.storage as *const libc::sockaddr_storage as *const libc::sockaddr
    }

    /// The address as a std socket address, if it is a complete `AF_INET` or `AF_INET6` one.
    pub fn to_std(&self) -> Option<SocketAddr> {
        match i32::from(self.family()) {
            libc::AF_INET if self.len as usize >= core::mem::size_of::<libc::sockaddr_in>() => {
                let sin: libc::sockaddr_in = self.read_struct();
                let ip = Ipv4Addr::from(sin.sin_addr.s_addr.to_ne_bytes());
                Some(SocketAddr::V4(SocketAddrV4::new(ip, u16::from_be(sin.sin_port))))
            }
            libc::AF_INET6 if self.len as usize >= core::mem::size_of::<libc::sockaddr_in6>() => {
                let sin6: libc::sockaddr_in6 = self.read_struct();
                let ip = Ipv6Addr::from(sin6.sin6_addr.s6_addr);
                Some(SocketAddr::V6(SocketAddrV6::new(
                    ip,
                    u16::from_be(sin6.sin6_port),
                    sin6.sin6_flowinfo,
                    sin6.sin6_scope_id,
                )))
            }
            _ => None,
        }
    }

    /// The address of the storage, for `sqe.addr`/`sqe.addr2`.
    fn addr(&self) -> u64 {
        self.as_ptr() as u64
    }
}

impl Default for SockAddr {
    fn default() -> Self {
        SockAddr::empty()
    }
}

impl PartialEq for SockAddr {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for SockAddr {}

impl core::fmt::Debug for SockAddr {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let mut d = f.debug_struct("SockAddr");
        d.field("family", &self.family()).field("len", &self.len);
        match self.to_std() {
            Some(a) => d.field("addr", &a),
            None => d.field("bytes", &self.as_bytes()),
        };
        d.finish()
    }
}

impl From<SocketAddrV4> for SockAddr {
    fn from(a: SocketAddrV4) -> Self {
        // SAFETY: `sockaddr_in` is plain integers; all-zero is a valid value.
        let mut sin: libc::sockaddr_in = unsafe { core::mem::zeroed() };
        sin.sin_family = libc::AF_INET as libc::sa_family_t;
        sin.sin_port = a.port().to_be();
        sin.sin_addr.s_addr = u32::from_ne_bytes(a.ip().octets());
        let mut s = SockAddr::empty();
        s.write_struct(&sin);
        s.len = core::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        s
    }
}

impl From<SocketAddrV6> for SockAddr {
    fn from(a: SocketAddrV6) -> Self {
        // SAFETY: `sockaddr_in6` is plain integers; all-zero is a valid value.
        let mut sin6: libc::sockaddr_in6 = unsafe { core::mem::zeroed() };
        sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
        sin6.sin6_port = a.port().to_be();
        sin6.sin6_flowinfo = a.flowinfo();
        sin6.sin6_addr.s6_addr = a.ip().octets();
        sin6.sin6_scope_id = a.scope_id();
        let mut s = SockAddr::empty();
        s.write_struct(&sin6);
        s.len = core::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t;
        s
    }
}

impl From<SocketAddr> for SockAddr {
    fn from(a: SocketAddr) -> Self {
        match a {
            SocketAddr::V4(v4) => v4.into(),
            SocketAddr::V6(v6) => v6.into(),
        }
    }
}

/// A buffer length as the kernel's 32-bit `len`, refusing what does not fit.
fn len_u32(len: usize, what: &'static str) -> crate::Result<u32> {
    u32::try_from(len).map_err(|_| crate::Error::InvalidArgument { what, reason: "longer than u32::MAX bytes" })
}

/// An iovec count as the kernel's 32-bit `len`, refusing what does not fit.
fn count_u32(len: usize) -> crate::Result<u32> {
    u32::try_from(len)
        .map_err(|_| crate::Error::InvalidArgument { what: "iovec count", reason: "more than u32::MAX entries" })
}

// ---------------------------------------------------------------------------------------------
// Socket setup
// ---------------------------------------------------------------------------------------------

/// `IORING_OP_SOCKET`: creates a socket, as `socket(2)` (`io_uring_prep_socket(3)`, Linux 5.19).
///
/// The result is the new file descriptor, or with [`Socket::dest`] a direct descriptor:
/// [`DestSlot::Fixed`] mirrors `io_uring_prep_socket_direct(3)` (result 0),
/// [`DestSlot::Alloc`] mirrors `io_uring_prep_socket_direct_alloc(3)` (result: the slot
/// chosen). liburing's `flags` argument is reserved (always 0) and is not offered.
///
/// Points at no memory: safe to push.
#[derive(Debug, Clone, Copy)]
pub struct Socket {
    domain: i32,
    ty: i32,
    protocol: i32,
    pub(crate) dest: DestSlot,
}

impl Socket {
    /// The operation code.
    pub const CODE: u8 = IORING_OP_SOCKET;

    /// A socket of `domain` (`AF_*`), `ty` (`SOCK_STREAM`, `SOCK_DGRAM`, ...) and `protocol`
    /// (0 for the default), as ordinary file descriptor.
    #[inline]
    pub const fn new(domain: i32, ty: i32, protocol: i32) -> Self {
        Socket { domain, ty, protocol, dest: DestSlot::Fd }
    }

    /// Adds `SOCK_NONBLOCK` / `SOCK_CLOEXEC` to the type (`CLOEXEC` is refused for direct
    /// descriptors).
    #[inline]
    pub const fn sock_flags(mut self, flags: SockFlags) -> Self {
        self.ty |= flags.bits() as i32;
        self
    }

    /// Where the socket goes: an ordinary fd (the default), or a direct descriptor.
    #[inline]
    pub const fn dest(mut self, dest: DestSlot) -> Self {
        self.dest = dest;
        self
    }

    /// The entry.
    #[inline]
    pub const fn build(self) -> SafeSqe {
        let mut sqe = prep_rw(Self::CODE, self.domain, 0, self.protocol as u32, self.ty as u32 as u64);
        sqe.0.file.file_index = self.dest.file_index();
        SafeSqe::new(sqe)
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
    addr: &'a SockAddr,
}

impl<'a> Bind<'a> {
    /// The operation code.
    pub const CODE: u8 = IORING_OP_BIND;

    /// Binds `fd` to `addr`.
    #[inline]
    pub fn new(fd: impl Into<Target>, addr: &'a SockAddr) -> Self {
        Bind { fd: fd.into(), addr }
    }

    /// The entry. See the type's docs for the memory it points at.
    #[inline]
    pub fn build(self) -> Sqe {
        let mut sqe = prep_rw(Self::CODE, 0, self.addr.addr(), 0, u64::from(self.addr.len()));
        set_target(&mut sqe, self.fd);
        sqe
    }
}

/// `IORING_OP_LISTEN`: marks a bound socket as accepting connections, as `listen(2)`
/// (`io_uring_prep_listen(3)`, Linux 6.11).
///
/// Points at no memory, but names a file: an [`FdSqe`](crate::FdSqe), pushed with `unsafe`
/// [`push_fd`](crate::SubmissionQueue::push_fd) (the file stays open until the completion), or
/// safely once every file is a registered slot ([`FdSqe::into_safe`](crate::FdSqe::into_safe)).
#[derive(Debug, Clone, Copy)]
pub struct Listen {
    pub(crate) fd: Target,
    backlog: u32,
}

impl Listen {
    /// The operation code.
    pub const CODE: u8 = IORING_OP_LISTEN;

    /// Listens on `fd` with a queue of `backlog` pending connections (capped by the kernel at
    /// `net.core.somaxconn`).
    #[inline]
    pub fn new(fd: impl Into<Target>, backlog: u32) -> Self {
        Listen { fd: fd.into(), backlog }
    }

    /// The entry.
    #[inline]
    pub const fn build(self) -> FdSqe {
        let mut sqe = prep_rw(Self::CODE, 0, 0, self.backlog, 0);
        set_target(&mut sqe, self.fd);
        FdSqe::new(sqe)
    }
}

/// `IORING_OP_ACCEPT`: accepts a connection, as `accept4(2)` (`io_uring_prep_accept(3)`, Linux
/// 5.5). The result is the new file descriptor (or direct-descriptor slot).
///
/// The liburing variants are setters:
/// - [`Accept::dest`] with [`DestSlot::Fixed`] or [`DestSlot::Alloc`]:
///   `io_uring_prep_accept_direct(3)` (Linux 5.15; result 0 for a fixed slot, the slot chosen for
///   `Alloc`);
/// - [`Accept::multishot`]: `io_uring_prep_multishot_accept(3)` (Linux 5.19), one completion
///   with `IORING_CQE_F_MORE` per connection;
/// - both, with [`DestSlot::Alloc`]: `io_uring_prep_multishot_accept_direct(3)` (multishot
///   accepts into a fixed slot are refused by the kernel with `EINVAL`).
///
/// Without an address this entry points at no memory but names the listening socket: an
/// [`FdSqe`](crate::FdSqe) (see [`push_fd`](crate::SubmissionQueue::push_fd)); to learn the
/// peer's address, use [`Accept::peer_addr`].
#[derive(Debug, Clone, Copy)]
pub struct Accept {
    pub(crate) fd: Target,
    flags: SockFlags,
    ioprio: u16,
    pub(crate) dest: DestSlot,
}

impl Accept {
    /// The operation code.
    pub const CODE: u8 = IORING_OP_ACCEPT;

    /// Accepts one connection on the listening socket `fd`, as an ordinary fd.
    #[inline]
    pub fn new(fd: impl Into<Target>) -> Self {
        Accept { fd: fd.into(), flags: SockFlags::empty(), ioprio: 0, dest: DestSlot::Fd }
    }

    /// `accept4(2)` flags of the new socket (`SOCK_NONBLOCK`, `SOCK_CLOEXEC`; `CLOEXEC` is
    /// refused for direct descriptors).
    #[inline]
    pub const fn sock_flags(mut self, flags: SockFlags) -> Self {
        self.flags = flags;
        self
    }

    /// Where the accepted socket goes: an ordinary fd (the default), or a direct descriptor.
    #[inline]
    pub const fn dest(mut self, dest: DestSlot) -> Self {
        self.dest = dest;
        self
    }

    /// `IORING_ACCEPT_MULTISHOT`: keep accepting, one completion per connection (Linux 5.19).
    #[inline]
    pub const fn multishot(mut self) -> Self {
        self.ioprio |= IORING_ACCEPT_MULTISHOT;
        self
    }

    /// `IORING_ACCEPT_DONTWAIT`: fail with `EAGAIN` rather than wait when no connection is
    /// pending (Linux 6.10).
    #[inline]
    pub const fn dontwait(mut self) -> Self {
        self.ioprio |= IORING_ACCEPT_DONTWAIT;
        self
    }

    /// `IORING_ACCEPT_POLL_FIRST`: arm a poll first instead of trying to accept straight away
    /// (Linux 6.10).
    #[inline]
    pub const fn poll_first(mut self) -> Self {
        self.ioprio |= IORING_ACCEPT_POLL_FIRST;
        self
    }

    /// Has the kernel write the peer's address (and its length) into `out`; the entry then
    /// points at `out` and must be pushed with `unsafe`.
    #[inline]
    pub fn peer_addr(self, out: &mut SockAddr) -> AcceptWithAddr<'_> {
        AcceptWithAddr { accept: self, out }
    }

    const fn encode(self, addr: u64, addrlen: u64) -> Sqe {
        let mut sqe = prep_rw(Self::CODE, 0, addr, 0, addrlen);
        set_target(&mut sqe, self.fd);
        sqe.0.ioprio = self.ioprio;
        sqe.0.op_flags.accept_flags = self.flags.bits();
        sqe.0.file.file_index = self.dest.file_index();
        sqe
    }

    /// The entry.
    #[inline]
    pub const fn build(self) -> FdSqe {
        FdSqe::new(self.encode(0, 0))
    }
}

/// An [`Accept`] that reports the peer's address (`addr` and `addrlen` of
/// `io_uring_prep_accept(3)`).
///
/// Memory: the kernel writes the address and its length into the [`SockAddr`] when a connection
/// is accepted; it must stay valid until the completion (for a multishot accept, until the final
/// completion; every connection overwrites it).
#[derive(Debug)]
pub struct AcceptWithAddr<'a> {
    accept: Accept,
    out: &'a mut SockAddr,
}

impl AcceptWithAddr<'_> {
    /// The entry (its length field is set to the storage's full capacity). See the type's docs
    /// for the memory it points at.
    #[inline]
    pub fn build(self) -> Sqe {
        self.out.len = STORAGE_LEN as libc::socklen_t;
        let addr = &mut self.out.storage as *mut libc::sockaddr_storage as u64;
        let addrlen = &mut self.out.len as *mut libc::socklen_t as u64;
        self.accept.encode(addr, addrlen)
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
    addr: &'a SockAddr,
}

impl<'a> Connect<'a> {
    /// The operation code.
    pub const CODE: u8 = IORING_OP_CONNECT;

    /// Connects `fd` to `addr`.
    #[inline]
    pub fn new(fd: impl Into<Target>, addr: &'a SockAddr) -> Self {
        Connect { fd: fd.into(), addr }
    }

    /// The entry. See the type's docs for the memory it points at.
    #[inline]
    pub fn build(self) -> Sqe {
        let mut sqe = prep_rw(Self::CODE, 0, self.addr.addr(), 0, u64::from(self.addr.len()));
        set_target(&mut sqe, self.fd);
        sqe
    }
}

/// `IORING_OP_SHUTDOWN`: shuts down part of a full-duplex connection, as `shutdown(2)`
/// (`io_uring_prep_shutdown(3)`, Linux 5.11).
///
/// Points at no memory, but names a file: an [`FdSqe`](crate::FdSqe), pushed with `unsafe`
/// [`push_fd`](crate::SubmissionQueue::push_fd) (the file stays open until the completion), or
/// safely once every file is a registered slot ([`FdSqe::into_safe`](crate::FdSqe::into_safe)).
#[derive(Debug, Clone, Copy)]
pub struct Shutdown {
    pub(crate) fd: Target,
    how: u32,
}

impl Shutdown {
    /// The operation code.
    pub const CODE: u8 = IORING_OP_SHUTDOWN;

    /// Shuts down the reading half, the writing half, or both (`SHUT_RD`, `SHUT_WR`,
    /// `SHUT_RDWR`).
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
    #[inline]
    pub const fn build(self) -> FdSqe {
        let mut sqe = prep_rw(Self::CODE, 0, 0, self.how, 0);
        set_target(&mut sqe, self.fd);
        FdSqe::new(sqe)
    }
}

// ---------------------------------------------------------------------------------------------
// Sends
// ---------------------------------------------------------------------------------------------

/// Sets the destination of a send (`sqe.addr2` and the 16-bit `sqe.addr_len`), as
/// `io_uring_prep_send_set_addr`.
fn set_dest_addr(sqe: &mut Sqe, to: Option<&SockAddr>) {
    if let Some(a) = to {
        sqe.0.off.addr2 = a.addr();
        // A `SockAddr` is at most 128 bytes long, so its length fits the 16-bit field.
        sqe.0.file.addr_len = io_uring_sqe_addr_len { addr_len: a.len() as u16, __pad3: [0] };
    }
}

/// The entry of a send or receive: `prep_rw` at `addr` and `len`, then the target, `sqe.ioprio`
/// and the `MSG_*` flags.
#[inline]
const fn msg_sqe(opcode: u8, fd: Target, addr: u64, len: u32, msg_flags: MsgFlags, ioprio: u16) -> Sqe {
    let mut sqe = prep_rw(opcode, 0, addr, len, 0);
    set_target(&mut sqe, fd);
    sqe.0.ioprio = ioprio;
    sqe.0.op_flags.msg_flags = msg_flags.bits();
    sqe
}

/// Selects the buffer from group `bgid` (`IOSQE_BUFFER_SELECT` and `sqe.buf_group`), a group the
/// builder validated with `set_buffer_select` when it was made.
#[inline]
const fn select_group(sqe: &mut Sqe, bgid: u16) {
    sqe.0.flags |= IOSQE_BUFFER_SELECT;
    sqe.0.buf.buf_group = bgid;
}

/// The setters the send and receive builders share: one per name listed, each with the doc
/// comment written before its name (the builders word them for their own operation). A builder
/// has the fields its setters write: `msg_flags: MsgFlags`, `ioprio: u16`, `len: u32`,
/// `to: Option<&'a SockAddr>`, `buf_index: u16`.
macro_rules! msg_setters {
    () => {};
    ($(#[$doc:meta])* msg_flags; $($rest:tt)*) => {
        $(#[$doc])*
        #[inline]
        pub const fn msg_flags(mut self, flags: MsgFlags) -> Self {
            self.msg_flags = flags;
            self
        }
        msg_setters!($($rest)*);
    };
    ($(#[$doc:meta])* len; $($rest:tt)*) => {
        $(#[$doc])*
        #[inline]
        pub const fn len(mut self, len: u32) -> Self {
            self.len = len;
            self
        }
        msg_setters!($($rest)*);
    };
    ($(#[$doc:meta])* to; $($rest:tt)*) => {
        $(#[$doc])*
        #[inline]
        pub const fn to(mut self, addr: &'a SockAddr) -> Self {
            self.to = Some(addr);
            self
        }
        msg_setters!($($rest)*);
    };
    ($(#[$doc:meta])* fixed_buf; $($rest:tt)*) => {
        $(#[$doc])*
        #[inline]
        pub const fn fixed_buf(mut self, buf_index: u16) -> Self {
            self.ioprio |= IORING_RECVSEND_FIXED_BUF;
            self.buf_index = buf_index;
            self
        }
        msg_setters!($($rest)*);
    };
    // The others each add one `sqe.ioprio` flag: `poll_first`, `report_usage`, `bundle`.
    ($(#[$doc:meta])* $name:ident; $($rest:tt)*) => {
        $(#[$doc])*
        #[inline]
        pub const fn $name(mut self) -> Self {
            self.ioprio |= ioprio_flag!($name);
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

/// `IORING_OP_SEND`: sends a buffer on a socket, as `send(2)` (`io_uring_prep_send(3)`, Linux
/// 5.6); with [`Send::to`], as `sendto(2)` (`io_uring_prep_sendto(3)`, Linux 6.1).
///
/// The result is the number of bytes sent.
///
/// Memory: the kernel reads `buf` (and the destination address, copied at submission) until
/// the operation completes; they must stay valid and unmoved until then.
#[derive(Debug, Clone, Copy)]
pub struct Send<'a> {
    fd: Target,
    buf: &'a [u8],
    len: u32,
    msg_flags: MsgFlags,
    ioprio: u16,
    buf_index: u16,
    to: Option<&'a SockAddr>,
}

impl<'a> Send<'a> {
    /// The operation code.
    pub const CODE: u8 = IORING_OP_SEND;

    /// Sends `buf` on `fd`. Refuses a buffer longer than `u32::MAX` bytes.
    #[inline]
    pub fn new(fd: impl Into<Target>, buf: &'a [u8]) -> crate::Result<Self> {
        let len = len_u32(buf.len(), "send buffer")?;
        Ok(Send { fd: fd.into(), buf, len, msg_flags: MsgFlags::empty(), ioprio: 0, buf_index: 0, to: None })
    }

    msg_setters! {
        /// `MSG_*` flags of the send.
        msg_flags;
        /// Sends to `addr` (an unconnected datagram socket's destination), as `sendto(2)`
        /// (Linux 6.1).
        to;
        /// `IORING_RECVSEND_POLL_FIRST`: wait for the socket to be writable before the first
        /// attempt (Linux 5.19).
        poll_first;
        /// `IORING_RECVSEND_FIXED_BUF`: `buf` lies within registered buffer `buf_index`
        /// (`sqe.buf_index`). No liburing helper. Plain `SEND` accepts registered buffers only on
        /// kernels newer than 6.18 (which answers `EINVAL`); [`SendZc::fixed_buf`] works since 6.0.
        fixed_buf;
    }

    /// The entry. See the type's docs for the memory it points at.
    #[inline]
    pub fn build(self) -> Sqe {
        let mut sqe = msg_sqe(Self::CODE, self.fd, self.buf.as_ptr() as u64, self.len, self.msg_flags, self.ioprio);
        sqe.0.buf.buf_index = self.buf_index;
        set_dest_addr(&mut sqe, self.to);
        sqe
    }
}

/// `IORING_OP_SEND` with `IORING_SEND_VECTORIZED`: sends the buffers of an iovec array without
/// a `msghdr`, as `writev(2)` on a socket (no liburing helper, Linux 6.17).
///
/// The result is the number of bytes sent.
///
/// Memory: the kernel reads the iovec array and every buffer it names (and the destination
/// address) until the operation completes; they must stay valid and unmoved until then.
#[derive(Debug, Clone, Copy)]
pub struct SendVectored<'a> {
    fd: Target,
    bufs: &'a [IoSlice<'a>],
    nr: u32,
    msg_flags: MsgFlags,
    ioprio: u16,
    to: Option<&'a SockAddr>,
}

impl<'a> SendVectored<'a> {
    /// The operation code.
    pub const CODE: u8 = IORING_OP_SEND;

    /// Sends `bufs` in order on `fd` (`IoSlice` has the layout of `struct iovec`).
    #[inline]
    pub fn new(fd: impl Into<Target>, bufs: &'a [IoSlice<'a>]) -> crate::Result<Self> {
        let nr = count_u32(bufs.len())?;
        Ok(SendVectored {
            fd: fd.into(),
            bufs,
            nr,
            msg_flags: MsgFlags::empty(),
            ioprio: IORING_SEND_VECTORIZED,
            to: None,
        })
    }

    msg_setters! {
        /// `MSG_*` flags of the send.
        msg_flags;
        /// Sends to `addr`, as `sendto(2)`.
        to;
        /// `IORING_RECVSEND_POLL_FIRST`: wait for the socket to be writable before the first
        /// attempt.
        poll_first;
    }

    /// The entry. See the type's docs for the memory it points at.
    #[inline]
    pub fn build(self) -> Sqe {
        let mut sqe = msg_sqe(Self::CODE, self.fd, self.bufs.as_ptr() as u64, self.nr, self.msg_flags, self.ioprio);
        set_dest_addr(&mut sqe, self.to);
        sqe
    }
}

/// `IORING_OP_SEND` with `IORING_RECVSEND_BUNDLE`: sends as many buffers of a provided-buffer
/// ring as are queued (up to `len` bytes, 0 for no limit) in one operation
/// (`io_uring_prep_send_bundle(3)`, Linux 6.10).
///
/// The result is the number of bytes sent; the completion names the first buffer id used, and
/// the buffers used are contiguous from it. The group must be a buffer ring
/// (`IORING_REGISTER_PBUF_RING`) holding the data to send.
///
/// Memory: the entry points at no caller memory itself, but the kernel reads the group's
/// buffers until the operation completes; they must stay valid until then.
#[derive(Debug, Clone, Copy)]
pub struct SendBundle {
    fd: Target,
    bgid: u16,
    len: u32,
    msg_flags: MsgFlags,
    ioprio: u16,
}

impl SendBundle {
    /// The operation code.
    pub const CODE: u8 = IORING_OP_SEND;

    /// Sends the buffers queued in `group` on `fd`. Refuses kernel-managed groups.
    pub fn new(fd: impl Into<Target>, group: &impl BufferGroup) -> crate::Result<Self> {
        // Validate the group once, the same way the entry will use it.
        set_buffer_select(&mut Sqe::zeroed(), group)?;
        Ok(SendBundle {
            fd: fd.into(),
            bgid: group.bgid(),
            len: 0,
            msg_flags: MsgFlags::empty(),
            ioprio: IORING_RECVSEND_BUNDLE,
        })
    }

    msg_setters! {
        /// Sends at most `len` bytes (0, the default: as much as the queued buffers hold).
        len;
        /// `MSG_*` flags of the send.
        msg_flags;
        /// `IORING_RECVSEND_POLL_FIRST`: wait for the socket to be writable before the first
        /// attempt.
        poll_first;
    }

    /// The entry. See the type's docs for the memory the kernel uses.
    #[inline]
    pub const fn build(self) -> Sqe {
        let mut sqe = msg_sqe(Self::CODE, self.fd, 0, self.len, self.msg_flags, self.ioprio);
        select_group(&mut sqe, self.bgid);
        sqe
    }
}

/// `IORING_OP_SEND_ZC`: sends a buffer without copying it (`io_uring_prep_send_zc(3)`, Linux
/// 6.0); with [`SendZc::fixed_buf`], from a registered buffer
/// (`io_uring_prep_send_zc_fixed(3)`).
///
/// It usually posts two completions: the result (bytes sent) with `IORING_CQE_F_MORE`, then a
/// notification with `IORING_CQE_F_NOTIF` once the kernel no longer uses the buffer. A failed
/// send may post only the first, without `F_MORE`.
///
/// Memory: the kernel reads `buf` (and the destination address) until the **notification**
/// completion, not just the first one; they must stay valid and unmoved until then.
#[derive(Debug, Clone, Copy)]
pub struct SendZc<'a> {
    fd: Target,
    buf: &'a [u8],
    len: u32,
    msg_flags: MsgFlags,
    ioprio: u16,
    buf_index: u16,
    to: Option<&'a SockAddr>,
}

impl<'a> SendZc<'a> {
    /// The operation code.
    pub const CODE: u8 = IORING_OP_SEND_ZC;

    /// Sends `buf` on `fd` without copying. Refuses a buffer longer than `u32::MAX` bytes.
    #[inline]
    pub fn new(fd: impl Into<Target>, buf: &'a [u8]) -> crate::Result<Self> {
        let len = len_u32(buf.len(), "send buffer")?;
        Ok(SendZc { fd: fd.into(), buf, len, msg_flags: MsgFlags::empty(), ioprio: 0, buf_index: 0, to: None })
    }

    msg_setters! {
        /// `MSG_*` flags of the send.
        msg_flags;
        /// Sends to `addr`, as `sendto(2)`.
        to;
        /// `IORING_RECVSEND_POLL_FIRST`: wait for the socket to be writable before the first
        /// attempt.
        poll_first;
        /// `IORING_SEND_ZC_REPORT_USAGE`: the notification's result tells whether the data was
        /// copied after all (`IORING_NOTIF_USAGE_ZC_COPIED`) or sent without copying (0) (Linux
        /// 6.2).
        report_usage;
        /// `IORING_RECVSEND_FIXED_BUF`: `buf` lies within registered buffer `buf_index`
        /// (`io_uring_prep_send_zc_fixed(3)`).
        fixed_buf;
    }

    /// The entry. See the type's docs for the memory it points at.
    #[inline]
    pub fn build(self) -> Sqe {
        let mut sqe = msg_sqe(Self::CODE, self.fd, self.buf.as_ptr() as u64, self.len, self.msg_flags, self.ioprio);
        sqe.0.buf.buf_index = self.buf_index;
        set_dest_addr(&mut sqe, self.to);
        sqe
    }
}

/// `IORING_OP_SEND_ZC` with `IORING_SEND_VECTORIZED`: a zero-copy send of the buffers of an
/// iovec array (no liburing helper, Linux 6.17). With [`SendZcVectored::fixed_buf`] the
/// iovecs lie within one registered buffer.
///
/// Completions as for [`SendZc`].
///
/// Memory: the kernel reads the iovec array and every buffer it names (and the destination
/// address) until the **notification** completion; they must stay valid and unmoved until then.
#[derive(Debug, Clone, Copy)]
pub struct SendZcVectored<'a> {
    fd: Target,
    bufs: &'a [IoSlice<'a>],
    nr: u32,
    msg_flags: MsgFlags,
    ioprio: u16,
    buf_index: u16,
    to: Option<&'a SockAddr>,
}

impl<'a> SendZcVectored<'a> {
    /// The operation code.
    pub const CODE: u8 = IORING_OP_SEND_ZC;

    /// Sends `bufs` in order on `fd` without copying.
    #[inline]
    pub fn new(fd: impl Into<Target>, bufs: &'a [IoSlice<'a>]) -> crate::Result<Self> {
        let nr = count_u32(bufs.len())?;
        Ok(SendZcVectored {
            fd: fd.into(),
            bufs,
            nr,
            msg_flags: MsgFlags::empty(),
            ioprio: IORING_SEND_VECTORIZED,
            buf_index: 0,
            to: None,
        })
    }

    msg_setters! {
        /// `MSG_*` flags of the send.
        msg_flags;
        /// Sends to `addr`, as `sendto(2)`.
        to;
        /// `IORING_RECVSEND_POLL_FIRST`: wait for the socket to be writable first.
        poll_first;
        /// `IORING_SEND_ZC_REPORT_USAGE`: the notification reports whether the data was copied.
        report_usage;
        /// `IORING_RECVSEND_FIXED_BUF`: every iovec lies within registered buffer `buf_index`.
        fixed_buf;
    }

    /// The entry. See the type's docs for the memory it points at.
    #[inline]
    pub fn build(self) -> Sqe {
        let mut sqe = msg_sqe(Self::CODE, self.fd, self.bufs.as_ptr() as u64, self.nr, self.msg_flags, self.ioprio);
        sqe.0.buf.buf_index = self.buf_index;
        set_dest_addr(&mut sqe, self.to);
        sqe
    }
}

/// `IORING_OP_SENDMSG`: sends a message, as `sendmsg(2)` (`io_uring_prep_sendmsg(3)`, Linux
/// 5.3). The result is the number of bytes sent.
///
/// Memory: the kernel reads the `msghdr` and everything it points at (name, iovec array and its
/// buffers, control data) until the operation completes; all must stay valid and unmoved until
/// then.
#[derive(Debug, Clone, Copy)]
pub struct SendMsg<'a> {
    fd: Target,
    msg: u64,
    msg_flags: MsgFlags,
    ioprio: u16,
    _msg: PhantomData<&'a libc::msghdr>,
}

impl<'a> SendMsg<'a> {
    /// The operation code.
    pub const CODE: u8 = IORING_OP_SENDMSG;

    /// Sends the message `msg` on `fd`.
    #[inline]
    pub fn new(fd: impl Into<Target>, msg: &'a libc::msghdr) -> Self {
        SendMsg {
            fd: fd.into(),
            msg: msg as *const libc::msghdr as u64,
            msg_flags: MsgFlags::empty(),
            ioprio: 0,
            _msg: PhantomData,
        }
    }

    msg_setters! {
        /// `MSG_*` flags of the send.
        msg_flags;
        /// `IORING_RECVSEND_POLL_FIRST`: wait for the socket to be writable first.
        poll_first;
    }

    /// The entry. See the type's docs for the memory it points at.
    #[inline]
    pub const fn build(self) -> Sqe {
        msg_sqe(Self::CODE, self.fd, self.msg, 1, self.msg_flags, self.ioprio)
    }
}

/// `IORING_OP_SENDMSG_ZC`: a zero-copy `sendmsg` (`io_uring_prep_sendmsg_zc(3)`, Linux 6.1);
/// with [`SendMsgZc::fixed_buf`], from a registered buffer
/// (`io_uring_prep_sendmsg_zc_fixed(3)`, Linux 6.15).
///
/// Completions as for [`SendZc`]: the result with `IORING_CQE_F_MORE`, then a notification.
///
/// Memory: the kernel reads the `msghdr` and everything it points at until the
/// **notification** completion; all must stay valid and unmoved until then.
#[derive(Debug, Clone, Copy)]
pub struct SendMsgZc<'a> {
    fd: Target,
    msg: u64,
    msg_flags: MsgFlags,
    ioprio: u16,
    buf_index: u16,
    _msg: PhantomData<&'a libc::msghdr>,
}

impl<'a> SendMsgZc<'a> {
    /// The operation code.
    pub const CODE: u8 = IORING_OP_SENDMSG_ZC;

    /// Sends the message `msg` on `fd` without copying its data.
    #[inline]
    pub fn new(fd: impl Into<Target>, msg: &'a libc::msghdr) -> Self {
        SendMsgZc {
            fd: fd.into(),
            msg: msg as *const libc::msghdr as u64,
            msg_flags: MsgFlags::empty(),
            ioprio: 0,
            buf_index: 0,
            _msg: PhantomData,
        }
    }

    msg_setters! {
        /// `MSG_*` flags of the send.
        msg_flags;
        /// `IORING_RECVSEND_POLL_FIRST`: wait for the socket to be writable first.
        poll_first;
        /// `IORING_SEND_ZC_REPORT_USAGE`: the notification reports whether the data was copied.
        report_usage;
        /// `IORING_RECVSEND_FIXED_BUF`: the message's iovecs lie within registered buffer
        /// `buf_index`.
        fixed_buf;
    }

    /// The entry. See the type's docs for the memory it points at.
    #[inline]
    pub const fn build(self) -> Sqe {
        let mut sqe = msg_sqe(Self::CODE, self.fd, self.msg, 1, self.msg_flags, self.ioprio);
        sqe.0.buf.buf_index = self.buf_index;
        sqe
    }
}

// ---------------------------------------------------------------------------------------------
// Receives
// ---------------------------------------------------------------------------------------------

/// `IORING_OP_RECV`: receives into a buffer, as `recv(2)` (`io_uring_prep_recv(3)`, Linux 5.6).
///
/// The result is the number of bytes received (0 at end of stream). To take the buffer from a
/// provided-buffer group instead, use [`RecvSelect`] or [`RecvMultishot`].
///
/// Memory: the kernel writes into `buf` until the operation completes; it must stay valid and
/// unmoved until then.
#[derive(Debug, Clone, Copy)]
pub struct Recv<'a> {
    fd: Target,
    addr: u64,
    len: u32,
    msg_flags: MsgFlags,
    ioprio: u16,
    buf_index: u16,
    _buf: PhantomData<&'a mut [u8]>,
}

impl<'a> Recv<'a> {
    /// The operation code.
    pub const CODE: u8 = IORING_OP_RECV;

    /// Receives into `buf` from `fd`. Refuses a buffer longer than `u32::MAX` bytes.
    #[inline]
    pub fn new(fd: impl Into<Target>, buf: &'a mut [u8]) -> crate::Result<Self> {
        let len = len_u32(buf.len(), "receive buffer")?;
        Ok(Recv {
            fd: fd.into(),
            addr: buf.as_mut_ptr() as u64,
            len,
            msg_flags: MsgFlags::empty(),
            ioprio: 0,
            buf_index: 0,
            _buf: PhantomData,
        })
    }

    msg_setters! {
        /// `MSG_*` flags of the receive.
        msg_flags;
        /// `IORING_RECVSEND_POLL_FIRST`: wait for data before the first attempt (Linux 5.19).
        poll_first;
        /// `IORING_RECVSEND_FIXED_BUF`: `buf` lies within registered buffer `buf_index`. No liburing
        /// helper; plain `RECV` accepts registered buffers only on kernels newer than 6.18 (which
        /// answers `EINVAL`).
        fixed_buf;
    }

    /// The entry. See the type's docs for the memory it points at.
    #[inline]
    pub const fn build(self) -> Sqe {
        let mut sqe = msg_sqe(Self::CODE, self.fd, self.addr, self.len, self.msg_flags, self.ioprio);
        sqe.0.buf.buf_index = self.buf_index;
        sqe
    }
}

/// `IORING_OP_RECV` with `IOSQE_BUFFER_SELECT`: receives once into a buffer taken from a
/// provided-buffer group (`io_uring_prep_recv(3)` with a NULL buffer and the group set, Linux
/// 5.7). With [`RecvSelect::bundle`], fills as many buffers as there is data (Linux 6.10).
///
/// The result is the number of bytes received; the completion names the buffer id used
/// ([`Cqe::buffer_id`](crate::Cqe::buffer_id)).
///
/// Memory: the entry points at no caller memory itself, but the kernel writes into one of the
/// group's buffers; the group's buffers must stay valid until the operation completes.
#[derive(Debug, Clone, Copy)]
pub struct RecvSelect {
    fd: Target,
    bgid: u16,
    len: u32,
    msg_flags: MsgFlags,
    ioprio: u16,
}

impl RecvSelect {
    /// The operation code.
    pub const CODE: u8 = IORING_OP_RECV;

    /// Receives from `fd` into a buffer of `group`. Refuses kernel-managed groups.
    pub fn new(fd: impl Into<Target>, group: &impl BufferGroup) -> crate::Result<Self> {
        set_buffer_select(&mut Sqe::zeroed(), group)?;
        Ok(RecvSelect { fd: fd.into(), bgid: group.bgid(), len: 0, msg_flags: MsgFlags::empty(), ioprio: 0 })
    }

    msg_setters! {
        /// Receives at most `len` bytes (0, the default: up to the selected buffer's size).
        len;
        /// `MSG_*` flags of the receive.
        msg_flags;
        /// `IORING_RECVSEND_POLL_FIRST`: wait for data before the first attempt.
        poll_first;
        /// `IORING_RECVSEND_BUNDLE`: fill several contiguous buffers of the group in one receive
        /// (Linux 6.10; no liburing helper).
        bundle;
    }

    /// The entry. See the type's docs for the memory the kernel uses.
    #[inline]
    pub const fn build(self) -> Sqe {
        let mut sqe = msg_sqe(Self::CODE, self.fd, 0, self.len, self.msg_flags, self.ioprio);
        select_group(&mut sqe, self.bgid);
        sqe
    }
}

/// `IORING_OP_RECV` with `IORING_RECV_MULTISHOT`: keeps receiving, one completion per receive,
/// each into a buffer taken from a provided-buffer group (`io_uring_prep_recv_multishot(3)`,
/// Linux 6.0).
///
/// Every completion but the last carries `IORING_CQE_F_MORE` and a buffer id. The operation
/// ends (a completion without `F_MORE`) at end of stream (result 0), on an error — `ENOBUFS`
/// when the group runs out of buffers — or when the [`RecvMultishot::limit`] is reached.
///
/// Memory: the entry points at no caller memory itself, but the kernel writes into the group's
/// buffers until the final completion; they must stay valid until then.
#[derive(Debug, Clone, Copy)]
pub struct RecvMultishot {
    fd: Target,
    bgid: u16,
    len: u32,
    limit: u32,
    msg_flags: MsgFlags,
    ioprio: u16,
}

impl RecvMultishot {
    /// The operation code.
    pub const CODE: u8 = IORING_OP_RECV;

    /// Receives repeatedly from `fd` into buffers of `group`. Refuses kernel-managed groups.
    pub fn new(fd: impl Into<Target>, group: &impl BufferGroup) -> crate::Result<Self> {
        set_buffer_select(&mut Sqe::zeroed(), group)?;
        Ok(RecvMultishot {
            fd: fd.into(),
            bgid: group.bgid(),
            len: 0,
            limit: 0,
            msg_flags: MsgFlags::empty(),
            ioprio: IORING_RECV_MULTISHOT,
        })
    }

    msg_setters! {
        /// Receives at most `len` bytes per completion (`sqe.len`; 0, the default: up to each
        /// selected buffer's size).
        len;
    }

    /// Stops after `total` bytes have been received in all (`sqe.optlen`; 0, the default: no
    /// limit): the completion that reaches the limit comes without `IORING_CQE_F_MORE` and the
    /// receive must be re-armed (no liburing helper, Linux 6.17; older kernels answer `EINVAL`).
    #[inline]
    pub const fn limit(mut self, total: u32) -> Self {
        self.limit = total;
        self
    }

    msg_setters! {
        /// `MSG_*` flags of the receives (`MSG_WAITALL` is refused for multishot receives).
        msg_flags;
        /// `IORING_RECVSEND_POLL_FIRST`: wait for data before the first attempt.
        poll_first;
        /// `IORING_RECVSEND_BUNDLE`: each completion may fill several contiguous buffers (Linux
        /// 6.10; no liburing helper).
        bundle;
    }

    /// The entry. See the type's docs for the memory the kernel uses.
    #[inline]
    pub const fn build(self) -> Sqe {
        let mut sqe = msg_sqe(Self::CODE, self.fd, 0, self.len, self.msg_flags, self.ioprio);
        select_group(&mut sqe, self.bgid);
        sqe.0.file.optlen = self.limit;
        sqe
    }
}

/// `IORING_OP_RECVMSG`: receives a message, as `recvmsg(2)` (`io_uring_prep_recvmsg(3)`, Linux
/// 5.3). The result is the number of bytes received; the kernel updates `msg_namelen`,
/// `msg_controllen` and `msg_flags` in the `msghdr`.
///
/// With [`RecvMsg::buf_group`] the data goes into a buffer of a provided-buffer group instead
/// of the message's iovec (which must then have at most one entry, whose length bounds the
/// receive).
///
/// Memory: the kernel reads and writes the `msghdr` and everything it points at (name, iovec
/// array and its buffers, control buffer) until the operation completes; all must stay valid and
/// unmoved until then, as must the group's buffers if one is selected.
#[derive(Debug, Clone, Copy)]
pub struct RecvMsg<'a> {
    fd: Target,
    msg: u64,
    msg_flags: MsgFlags,
    ioprio: u16,
    bgid: Option<u16>,
    _msg: PhantomData<&'a mut libc::msghdr>,
}

impl<'a> RecvMsg<'a> {
    /// The operation code.
    pub const CODE: u8 = IORING_OP_RECVMSG;

    /// Receives a message from `fd` as described by `msg`.
    #[inline]
    pub fn new(fd: impl Into<Target>, msg: &'a mut libc::msghdr) -> Self {
        RecvMsg {
            fd: fd.into(),
            msg: msg as *mut libc::msghdr as u64,
            msg_flags: MsgFlags::empty(),
            ioprio: 0,
            bgid: None,
            _msg: PhantomData,
        }
    }

    msg_setters! {
        /// `MSG_*` flags of the receive.
        msg_flags;
        /// `IORING_RECVSEND_POLL_FIRST`: wait for data before the first attempt.
        poll_first;
    }

    /// Takes the data buffer from `group` (`IOSQE_BUFFER_SELECT`). Refuses kernel-managed
    /// groups.
    pub fn buf_group(mut self, group: &impl BufferGroup) -> crate::Result<Self> {
        set_buffer_select(&mut Sqe::zeroed(), group)?;
        self.bgid = Some(group.bgid());
        Ok(self)
    }

    /// The entry. See the type's docs for the memory it points at.
    #[inline]
    pub const fn build(self) -> Sqe {
        let mut sqe = msg_sqe(Self::CODE, self.fd, self.msg, 1, self.msg_flags, self.ioprio);
        if let Some(bgid) = self.bgid {
            select_group(&mut sqe, bgid);
        }
        sqe
    }
}

/// `IORING_OP_RECVMSG` with `IORING_RECV_MULTISHOT`: keeps receiving messages, each into a
/// buffer of a provided-buffer group (`io_uring_prep_recvmsg_multishot(3)`, Linux 6.0).
///
/// Each buffer holds an `io_uring_recvmsg_out` header, then `msg_namelen` bytes reserved for the
/// source address, `msg_controllen` bytes reserved for control data, then the payload; parse it
/// with [`RecvMsgOut::parse`](crate::op::RecvMsgOut::parse), passing the `msghdr`'s
/// `msg_namelen` and `msg_controllen`. The `msghdr`'s iovec must be empty. Completions as for
/// [`RecvMultishot`].
///
/// Memory: the kernel reads the `msghdr` (its `msg_namelen` and `msg_controllen` describe every
/// buffer's layout) and writes into the group's buffers until the final completion; both must
/// stay valid until then.
#[derive(Debug, Clone, Copy)]
pub struct RecvMsgMultishot<'a> {
    fd: Target,
    msg: u64,
    bgid: u16,
    msg_flags: MsgFlags,
    ioprio: u16,
    _msg: PhantomData<&'a libc::msghdr>,
}

impl<'a> RecvMsgMultishot<'a> {
    /// The operation code.
    pub const CODE: u8 = IORING_OP_RECVMSG;

    /// Receives messages from `fd` into buffers of `group`, laid out as `msg` says. Refuses
    /// kernel-managed groups.
    pub fn new(fd: impl Into<Target>, msg: &'a libc::msghdr, group: &impl BufferGroup) -> crate::Result<Self> {
        set_buffer_select(&mut Sqe::zeroed(), group)?;
        Ok(RecvMsgMultishot {
            fd: fd.into(),
            msg: msg as *const libc::msghdr as u64,
            bgid: group.bgid(),
            msg_flags: MsgFlags::empty(),
            ioprio: IORING_RECV_MULTISHOT,
            _msg: PhantomData,
        })
    }

    msg_setters! {
        /// `MSG_*` flags of the receives (`MSG_TRUNC` makes each header's `payloadlen` the full
        /// datagram length; `MSG_WAITALL` is refused).
        msg_flags;
        /// `IORING_RECVSEND_POLL_FIRST`: wait for data before the first attempt.
        poll_first;
    }

    /// The entry. See the type's docs for the memory it points at.
    #[inline]
    pub const fn build(self) -> Sqe {
        let mut sqe = msg_sqe(Self::CODE, self.fd, self.msg, 1, self.msg_flags, self.ioprio);
        select_group(&mut sqe, self.bgid);
        sqe
    }
}

/// `IORING_OP_RECV_ZC`: zero-copy receive into the area of a registered zero-copy receive
/// interface queue (`IORING_REGISTER_ZCRX_IFQ`) (no liburing helper, Linux 6.15).
///
/// Always multishot: each completion is a 32-byte CQE whose extra half
/// (`io_uring_zcrx_cqe`) locates the data in the area; it needs an `IORING_SETUP_CQE32` (or
/// `CQE_MIXED`) ring and a socket whose traffic is steered to the queue.
///
/// Memory: the entry points at no caller memory itself, but the kernel writes into the
/// interface queue's registered area and refill ring, which must stay valid until the final
/// completion.
#[derive(Debug, Clone, Copy)]
pub struct RecvZc {
    fd: Target,
    ifq_idx: u32,
    len: u32,
    ioprio: u16,
}

impl RecvZc {
    /// The operation code.
    pub const CODE: u8 = IORING_OP_RECV_ZC;

    /// Receives from `fd` through the zero-copy receive queue `ifq_idx` (the id the kernel
    /// returned when it was registered).
    #[inline]
    pub fn new(fd: impl Into<Target>, ifq_idx: u32) -> Self {
        RecvZc { fd: fd.into(), ifq_idx, len: 0, ioprio: IORING_RECV_MULTISHOT }
    }

    msg_setters! {
        /// Stops after `len` bytes in all (0, the default: no limit).
        len;
        /// `IORING_RECVSEND_POLL_FIRST`: wait for data before the first attempt.
        poll_first;
    }

    /// The entry. See the type's docs for the memory the kernel uses.
    #[inline]
    pub const fn build(self) -> Sqe {
        let mut sqe = prep_rw(Self::CODE, 0, 0, self.len, 0);
        set_target(&mut sqe, self.fd);
        sqe.0.ioprio = self.ioprio;
        sqe.0.file.zcrx_ifq_idx = self.ifq_idx;
        sqe
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::op::test_util::{fields, Fields};
    use crate::op::{BufGroupId, Fixed};

    fn v4(port: u16) -> SockAddr {
        SockAddr::from(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port))
    }

    const FIXED: u8 = IOSQE_FIXED_FILE;
    const SELECT: u8 = IOSQE_BUFFER_SELECT;

    #[test]
    fn socket() {
        let f = fields(Socket::new(libc::AF_INET, libc::SOCK_STREAM, 6).build().sqe());
        assert_eq!(
            f,
            Fields {
                opcode: IORING_OP_SOCKET,
                fd: libc::AF_INET,
                off: libc::SOCK_STREAM as u64,
                len: 6,
                ..Default::default()
            }
        );
        // Flags are or-ed into the type; direct slot n is encoded n + 1.
        let s =
            Socket::new(libc::AF_INET6, libc::SOCK_DGRAM, 0).sock_flags(SockFlags::NONBLOCK).dest(DestSlot::Fixed(4));
        let f = fields(s.build().user_data(9).personality(2).sqe());
        let ty = (libc::SOCK_DGRAM | libc::SOCK_NONBLOCK) as u64;
        assert_eq!(
            f,
            Fields {
                opcode: IORING_OP_SOCKET,
                fd: libc::AF_INET6,
                off: ty,
                file: 5,
                user_data: 9,
                personality: 2,
                ..Default::default()
            }
        );
        let f = fields(Socket::new(libc::AF_UNIX, libc::SOCK_STREAM, 0).dest(DestSlot::Alloc).build().sqe());
        assert_eq!(
            f,
            Fields {
                opcode: IORING_OP_SOCKET,
                fd: libc::AF_UNIX,
                off: libc::SOCK_STREAM as u64,
                file: IORING_FILE_INDEX_ALLOC,
                ..Default::default()
            }
        );
    }

    #[test]
    fn bind_connect() {
        let a = v4(80);
        let f = fields(&Bind::new(Target::raw(3), &a).build());
        assert_eq!(f, Fields { opcode: IORING_OP_BIND, fd: 3, addr: a.addr(), off: 16, ..Default::default() });
        let f = fields(&Connect::new(Target::fixed(7), &a).build());
        assert_eq!(
            f,
            Fields { opcode: IORING_OP_CONNECT, fd: 7, flags: FIXED, addr: a.addr(), off: 16, ..Default::default() }
        );
        let a6 = SockAddr::from(SocketAddrV6::new(Ipv6Addr::LOCALHOST, 1, 0, 0));
        assert_eq!(fields(&Connect::new(Target::raw(1), &a6).build()).off, 28);
    }

    #[test]
    fn listen() {
        let f = fields(Listen::new(Target::raw(4), 128).build().sqe());
        assert_eq!(f, Fields { opcode: IORING_OP_LISTEN, fd: 4, len: 128, ..Default::default() });
        let f = fields(Listen::new(Fixed(2), 1).build().sqe());
        assert_eq!(f, Fields { opcode: IORING_OP_LISTEN, fd: 2, flags: FIXED, len: 1, ..Default::default() });
    }

    #[test]
    fn accept() {
        let f = fields(Accept::new(Target::raw(5)).build().sqe());
        assert_eq!(f, Fields { opcode: IORING_OP_ACCEPT, fd: 5, ..Default::default() });
        let cloexec = libc::SOCK_CLOEXEC as u32;
        let f = fields(Accept::new(Target::raw(5)).sock_flags(SockFlags::CLOEXEC).build().sqe());
        assert_eq!(f, Fields { opcode: IORING_OP_ACCEPT, fd: 5, op_flags: cloexec, ..Default::default() });
        // accept_direct
        let f = fields(Accept::new(Target::raw(5)).dest(DestSlot::Fixed(0)).build().sqe());
        assert_eq!(f, Fields { opcode: IORING_OP_ACCEPT, fd: 5, file: 1, ..Default::default() });
        // multishot_accept
        let f = fields(Accept::new(Target::raw(5)).multishot().build().sqe());
        assert_eq!(
            f,
            Fields { opcode: IORING_OP_ACCEPT, fd: 5, ioprio: IORING_ACCEPT_MULTISHOT, ..Default::default() }
        );
        // multishot_accept_direct, on a fixed listener, with every ioprio flag.
        let a = Accept::new(Fixed(1))
            .multishot()
            .dest(DestSlot::Alloc)
            .dontwait()
            .poll_first()
            .sock_flags(SockFlags::NONBLOCK);
        let f = fields(a.build().sqe());
        let ioprio = IORING_ACCEPT_MULTISHOT | IORING_ACCEPT_DONTWAIT | IORING_ACCEPT_POLL_FIRST;
        let nb = libc::SOCK_NONBLOCK as u32;
        assert_eq!(
            f,
            Fields {
                opcode: IORING_OP_ACCEPT,
                fd: 1,
                flags: FIXED,
                ioprio,
                op_flags: nb,
                file: IORING_FILE_INDEX_ALLOC,
                ..Default::default()
            }
        );
        // With the peer address: addr and the addrlen pointer (off), length preset to capacity.
        let mut out = SockAddr::from_bytes(&[1, 2]).unwrap();
        let sqe = Accept::new(Target::raw(5)).peer_addr(&mut out).build();
        let f = fields(&sqe);
        assert_eq!(out.len(), 128);
        let addr = out.as_storage() as *const libc::sockaddr_storage as u64;
        let addrlen = &out.len as *const libc::socklen_t as u64;
        assert_eq!(f, Fields { opcode: IORING_OP_ACCEPT, fd: 5, addr, off: addrlen, ..Default::default() });
    }

    #[test]
    fn shutdown() {
        let f = fields(Shutdown::new(Target::raw(6), std::net::Shutdown::Write).build().sqe());
        assert_eq!(f, Fields { opcode: IORING_OP_SHUTDOWN, fd: 6, len: libc::SHUT_WR as u32, ..Default::default() });
        assert_eq!(
            fields(Shutdown::new(Target::raw(6), std::net::Shutdown::Read).build().sqe()).len,
            libc::SHUT_RD as u32
        );
        let f = fields(Shutdown::new(Fixed(3), std::net::Shutdown::Both).build().sqe());
        assert_eq!(
            f,
            Fields {
                opcode: IORING_OP_SHUTDOWN,
                fd: 3,
                flags: FIXED,
                len: libc::SHUT_RDWR as u32,
                ..Default::default()
            }
        );
    }

    #[test]
    fn send() {
        let buf = [0u8; 10];
        let addr = buf.as_ptr() as u64;
        let f = fields(&Send::new(Target::raw(3), &buf).unwrap().build());
        assert_eq!(f, Fields { opcode: IORING_OP_SEND, fd: 3, addr, len: 10, ..Default::default() });
        let nosig = MsgFlags::NOSIGNAL | MsgFlags::MORE;
        let f = fields(&Send::new(Fixed(2), &buf).unwrap().msg_flags(nosig).poll_first().build().user_data(1));
        assert_eq!(
            f,
            Fields {
                opcode: IORING_OP_SEND,
                fd: 2,
                flags: FIXED,
                ioprio: IORING_RECVSEND_POLL_FIRST,
                addr,
                len: 10,
                op_flags: nosig.bits(),
                user_data: 1,
                ..Default::default()
            }
        );
        // sendto: addr2 and the 16-bit addr_len.
        let to = v4(9);
        let f = fields(&Send::new(Target::raw(3), &buf).unwrap().to(&to).build());
        assert_eq!(
            f,
            Fields { opcode: IORING_OP_SEND, fd: 3, addr, len: 10, off: to.addr(), file: 16, ..Default::default() }
        );
        // Registered buffer.
        let f = fields(&Send::new(Target::raw(3), &buf).unwrap().fixed_buf(4).build());
        assert_eq!(
            f,
            Fields {
                opcode: IORING_OP_SEND,
                fd: 3,
                addr,
                len: 10,
                ioprio: IORING_RECVSEND_FIXED_BUF,
                buf: 4,
                ..Default::default()
            }
        );
    }

    #[test]
    fn send_vectored() {
        let (a, b) = ([1u8; 3], [2u8; 4]);
        let iov = [IoSlice::new(&a), IoSlice::new(&b)];
        let to = v4(1);
        let f = fields(
            &SendVectored::new(Target::raw(3), &iov)
                .unwrap()
                .to(&to)
                .poll_first()
                .msg_flags(MsgFlags::DONTWAIT)
                .build(),
        );
        let ioprio = IORING_SEND_VECTORIZED | IORING_RECVSEND_POLL_FIRST;
        assert_eq!(
            f,
            Fields {
                opcode: IORING_OP_SEND,
                fd: 3,
                ioprio,
                addr: iov.as_ptr() as u64,
                len: 2,
                op_flags: libc::MSG_DONTWAIT as u32,
                off: to.addr(),
                file: 16,
                ..Default::default()
            }
        );
        // IoSlice is laid out as struct iovec.
        assert_eq!(core::mem::size_of::<IoSlice<'_>>(), core::mem::size_of::<libc::iovec>());
    }

    #[test]
    fn send_bundle() {
        let f = fields(
            &SendBundle::new(Target::raw(3), &BufGroupId(7)).unwrap().len(100).msg_flags(MsgFlags::WAITALL).build(),
        );
        assert_eq!(
            f,
            Fields {
                opcode: IORING_OP_SEND,
                fd: 3,
                flags: SELECT,
                ioprio: IORING_RECVSEND_BUNDLE,
                len: 100,
                op_flags: libc::MSG_WAITALL as u32,
                buf: 7,
                ..Default::default()
            }
        );
        let f = fields(&SendBundle::new(Fixed(0), &BufGroupId(1)).unwrap().poll_first().build());
        assert_eq!(
            f,
            Fields {
                opcode: IORING_OP_SEND,
                fd: 0,
                flags: SELECT | FIXED,
                ioprio: IORING_RECVSEND_BUNDLE | IORING_RECVSEND_POLL_FIRST,
                buf: 1,
                ..Default::default()
            }
        );
    }

    #[test]
    fn send_zc() {
        let buf = [0u8; 64];
        let addr = buf.as_ptr() as u64;
        let f = fields(&SendZc::new(Target::raw(3), &buf).unwrap().build());
        assert_eq!(f, Fields { opcode: IORING_OP_SEND_ZC, fd: 3, addr, len: 64, ..Default::default() });
        // send_zc_fixed with REPORT_USAGE and a destination.
        let to = v4(2);
        let z = SendZc::new(Target::raw(3), &buf)
            .unwrap()
            .report_usage()
            .fixed_buf(9)
            .to(&to)
            .msg_flags(MsgFlags::NOSIGNAL);
        let ioprio = IORING_SEND_ZC_REPORT_USAGE | IORING_RECVSEND_FIXED_BUF;
        assert_eq!(
            fields(&z.build()),
            Fields {
                opcode: IORING_OP_SEND_ZC,
                fd: 3,
                ioprio,
                addr,
                len: 64,
                buf: 9,
                off: to.addr(),
                file: 16,
                op_flags: libc::MSG_NOSIGNAL as u32,
                ..Default::default()
            }
        );
        assert_eq!(
            fields(&SendZc::new(Target::raw(3), &buf).unwrap().poll_first().build()).ioprio,
            IORING_RECVSEND_POLL_FIRST
        );
    }

    #[test]
    fn send_zc_vectored() {
        let a = [1u8; 3];
        let iov = [IoSlice::new(&a)];
        let z = SendZcVectored::new(Fixed(4), &iov).unwrap().fixed_buf(2).report_usage().poll_first();
        let ioprio = IORING_SEND_VECTORIZED
            | IORING_RECVSEND_FIXED_BUF
            | IORING_SEND_ZC_REPORT_USAGE
            | IORING_RECVSEND_POLL_FIRST;
        assert_eq!(
            fields(&z.build()),
            Fields {
                opcode: IORING_OP_SEND_ZC,
                fd: 4,
                flags: FIXED,
                ioprio,
                addr: iov.as_ptr() as u64,
                len: 1,
                buf: 2,
                ..Default::default()
            }
        );
        let to = v4(3);
        let z = SendZcVectored::new(Target::raw(1), &iov).unwrap().to(&to).msg_flags(MsgFlags::MORE);
        assert_eq!(
            fields(&z.build()),
            Fields {
                opcode: IORING_OP_SEND_ZC,
                fd: 1,
                ioprio: IORING_SEND_VECTORIZED,
                addr: iov.as_ptr() as u64,
                len: 1,
                off: to.addr(),
                file: 16,
                op_flags: libc::MSG_MORE as u32,
                ..Default::default()
            }
        );
    }

    fn zeroed_msghdr() -> libc::msghdr {
        // SAFETY: `msghdr` is integers and raw pointers; all-zero (null pointers) is valid.
        unsafe { core::mem::zeroed() }
    }

    #[test]
    fn sendmsg() {
        let msg = zeroed_msghdr();
        let addr = &msg as *const libc::msghdr as u64;
        assert_eq!(
            fields(&SendMsg::new(Target::raw(3), &msg).build()),
            Fields { opcode: IORING_OP_SENDMSG, fd: 3, addr, len: 1, ..Default::default() }
        );
        let f = fields(&SendMsg::new(Fixed(1), &msg).msg_flags(MsgFlags::EOR).poll_first().build());
        assert_eq!(
            f,
            Fields {
                opcode: IORING_OP_SENDMSG,
                fd: 1,
                flags: FIXED,
                ioprio: IORING_RECVSEND_POLL_FIRST,
                addr,
                len: 1,
                op_flags: libc::MSG_EOR as u32,
                ..Default::default()
            }
        );
    }

    #[test]
    fn sendmsg_zc() {
        let msg = zeroed_msghdr();
        let addr = &msg as *const libc::msghdr as u64;
        assert_eq!(
            fields(&SendMsgZc::new(Target::raw(3), &msg).build()),
            Fields { opcode: IORING_OP_SENDMSG_ZC, fd: 3, addr, len: 1, ..Default::default() }
        );
        // sendmsg_zc_fixed
        let f = fields(
            &SendMsgZc::new(Target::raw(3), &msg)
                .fixed_buf(5)
                .report_usage()
                .poll_first()
                .msg_flags(MsgFlags::NOSIGNAL)
                .build(),
        );
        let ioprio = IORING_RECVSEND_FIXED_BUF | IORING_SEND_ZC_REPORT_USAGE | IORING_RECVSEND_POLL_FIRST;
        assert_eq!(
            f,
            Fields {
                opcode: IORING_OP_SENDMSG_ZC,
                fd: 3,
                ioprio,
                addr,
                len: 1,
                buf: 5,
                op_flags: libc::MSG_NOSIGNAL as u32,
                ..Default::default()
            }
        );
    }

    #[test]
    fn recv() {
        let mut buf = [0u8; 32];
        let addr = buf.as_mut_ptr() as u64;
        assert_eq!(
            fields(&Recv::new(Target::raw(3), &mut buf).unwrap().build()),
            Fields { opcode: IORING_OP_RECV, fd: 3, addr, len: 32, ..Default::default() }
        );
        let f = fields(&Recv::new(Fixed(2), &mut buf).unwrap().msg_flags(MsgFlags::WAITALL).poll_first().build());
        assert_eq!(
            f,
            Fields {
                opcode: IORING_OP_RECV,
                fd: 2,
                flags: FIXED,
                ioprio: IORING_RECVSEND_POLL_FIRST,
                addr,
                len: 32,
                op_flags: libc::MSG_WAITALL as u32,
                ..Default::default()
            }
        );
        let f = fields(&Recv::new(Target::raw(3), &mut buf).unwrap().fixed_buf(3).build());
        assert_eq!(
            f,
            Fields {
                opcode: IORING_OP_RECV,
                fd: 3,
                ioprio: IORING_RECVSEND_FIXED_BUF,
                addr,
                len: 32,
                buf: 3,
                ..Default::default()
            }
        );
    }

    #[test]
    fn recv_select() {
        let f = fields(&RecvSelect::new(Target::raw(3), &BufGroupId(4)).unwrap().build());
        assert_eq!(f, Fields { opcode: IORING_OP_RECV, fd: 3, flags: SELECT, buf: 4, ..Default::default() });
        // recv bundle
        let f = fields(
            &RecvSelect::new(Target::raw(3), &BufGroupId(4))
                .unwrap()
                .len(512)
                .bundle()
                .poll_first()
                .msg_flags(MsgFlags::PEEK)
                .build(),
        );
        let ioprio = IORING_RECVSEND_BUNDLE | IORING_RECVSEND_POLL_FIRST;
        assert_eq!(
            f,
            Fields {
                opcode: IORING_OP_RECV,
                fd: 3,
                flags: SELECT,
                ioprio,
                len: 512,
                buf: 4,
                op_flags: libc::MSG_PEEK as u32,
                ..Default::default()
            }
        );
    }

    #[test]
    fn recv_multishot() {
        let f = fields(&RecvMultishot::new(Target::raw(3), &BufGroupId(2)).unwrap().build());
        assert_eq!(
            f,
            Fields {
                opcode: IORING_OP_RECV,
                fd: 3,
                flags: SELECT,
                ioprio: IORING_RECV_MULTISHOT,
                buf: 2,
                ..Default::default()
            }
        );
        // Per-completion cap in len, total limit in optlen, bundle, poll first.
        let r = RecvMultishot::new(Fixed(1), &BufGroupId(2))
            .unwrap()
            .len(64)
            .limit(1000)
            .bundle()
            .poll_first()
            .msg_flags(MsgFlags::DONTWAIT);
        let ioprio = IORING_RECV_MULTISHOT | IORING_RECVSEND_BUNDLE | IORING_RECVSEND_POLL_FIRST;
        assert_eq!(
            fields(&r.build()),
            Fields {
                opcode: IORING_OP_RECV,
                fd: 1,
                flags: SELECT | FIXED,
                ioprio,
                len: 64,
                file: 1000,
                buf: 2,
                op_flags: libc::MSG_DONTWAIT as u32,
                ..Default::default()
            }
        );
    }

    #[test]
    fn recvmsg() {
        let mut msg = zeroed_msghdr();
        let addr = &mut msg as *mut libc::msghdr as u64;
        assert_eq!(
            fields(&RecvMsg::new(Target::raw(3), &mut msg).build()),
            Fields { opcode: IORING_OP_RECVMSG, fd: 3, addr, len: 1, ..Default::default() }
        );
        let r = RecvMsg::new(Fixed(0), &mut msg)
            .msg_flags(MsgFlags::CMSG_CLOEXEC)
            .poll_first()
            .buf_group(&BufGroupId(6))
            .unwrap();
        assert_eq!(
            fields(&r.build()),
            Fields {
                opcode: IORING_OP_RECVMSG,
                fd: 0,
                flags: FIXED | SELECT,
                ioprio: IORING_RECVSEND_POLL_FIRST,
                addr,
                len: 1,
                buf: 6,
                op_flags: libc::MSG_CMSG_CLOEXEC as u32,
                ..Default::default()
            }
        );
    }

    #[test]
    fn recvmsg_multishot() {
        let msg = zeroed_msghdr();
        let addr = &msg as *const libc::msghdr as u64;
        let f = fields(&RecvMsgMultishot::new(Target::raw(3), &msg, &BufGroupId(8)).unwrap().build());
        assert_eq!(
            f,
            Fields {
                opcode: IORING_OP_RECVMSG,
                fd: 3,
                flags: SELECT,
                ioprio: IORING_RECV_MULTISHOT,
                addr,
                len: 1,
                buf: 8,
                ..Default::default()
            }
        );
        let f = fields(
            &RecvMsgMultishot::new(Target::raw(3), &msg, &BufGroupId(8))
                .unwrap()
                .poll_first()
                .msg_flags(MsgFlags::TRUNC)
                .build(),
        );
        assert_eq!(
            f,
            Fields {
                opcode: IORING_OP_RECVMSG,
                fd: 3,
                flags: SELECT,
                ioprio: IORING_RECV_MULTISHOT | IORING_RECVSEND_POLL_FIRST,
                addr,
                len: 1,
                buf: 8,
                op_flags: libc::MSG_TRUNC as u32,
                ..Default::default()
            }
        );
    }

    #[test]
    fn recv_zc() {
        let f = fields(&RecvZc::new(Target::raw(3), 2).build());
        assert_eq!(
            f,
            Fields { opcode: IORING_OP_RECV_ZC, fd: 3, ioprio: IORING_RECV_MULTISHOT, file: 2, ..Default::default() }
        );
        let f = fields(&RecvZc::new(Fixed(1), 0).len(4096).poll_first().build());
        assert_eq!(
            f,
            Fields {
                opcode: IORING_OP_RECV_ZC,
                fd: 1,
                flags: FIXED,
                ioprio: IORING_RECV_MULTISHOT | IORING_RECVSEND_POLL_FIRST,
                len: 4096,
                ..Default::default()
            }
        );
    }

    /// A kernel-managed group is refused by every selecting encoder.
    #[test]
    fn kernel_managed_groups_refused() {
        struct Km;
        impl BufferGroup for Km {
            fn bgid(&self) -> u16 {
                1
            }
            fn is_kernel_managed(&self) -> bool {
                true
            }
        }
        let msg = zeroed_msghdr();
        let mut msg2 = zeroed_msghdr();
        assert!(matches!(RecvSelect::new(Target::raw(0), &Km), Err(crate::Error::InvalidArgument { .. })));
        assert!(RecvMultishot::new(Target::raw(0), &Km).is_err());
        assert!(SendBundle::new(Target::raw(0), &Km).is_err());
        assert!(RecvMsgMultishot::new(Target::raw(0), &msg, &Km).is_err());
        assert!(RecvMsg::new(Target::raw(0), &mut msg2).buf_group(&Km).is_err());
    }

    #[test]
    fn sockaddr_forms() {
        let a = v4(8080);
        assert_eq!(a.len() as usize, core::mem::size_of::<libc::sockaddr_in>());
        assert_eq!(i32::from(a.family()), libc::AF_INET);
        assert_eq!(a.to_std(), Some("127.0.0.1:8080".parse().unwrap()));
        // Port in network order at bytes 2..4, address at 4..8.
        assert_eq!(&a.as_bytes()[2..8], &[0x1f, 0x90, 127, 0, 0, 1]);
        let s6: SocketAddr = "[::1]:443".parse().unwrap();
        let a6 = SockAddr::from(s6);
        assert_eq!(a6.len() as usize, core::mem::size_of::<libc::sockaddr_in6>());
        assert_eq!(a6.to_std(), Some(s6));
        let u = SockAddr::unix(std::path::Path::new("/tmp/x.sock")).unwrap();
        assert_eq!(i32::from(u.family()), libc::AF_UNIX);
        assert_eq!(u.len() as usize, 2 + 11 + 1);
        assert_eq!(&u.as_bytes()[2..], b"/tmp/x.sock\0");
        assert_eq!(u.to_std(), None);
        let ab = SockAddr::unix_abstract(b"name").unwrap();
        assert_eq!(&ab.as_bytes()[2..], b"\0name");
        assert!(SockAddr::unix(std::path::Path::new(&"a".repeat(108))).is_err());
        assert!(SockAddr::unix(std::path::Path::new(&"a".repeat(107))).is_ok());
        assert!(SockAddr::unix_abstract(&[b'a'; 108]).is_err());
        assert!(SockAddr::unix_abstract(&[b'a'; 107]).is_ok());
        assert!(SockAddr::unix(std::path::Path::new("a\0b")).is_err());
        assert!(SockAddr::from_bytes(&[0; 129]).is_err());
        assert!(SockAddr::from_raw(*a.as_storage(), 129).is_err());
        assert_eq!(SockAddr::from_raw(*a.as_storage(), a.len()).unwrap(), a);
        // Short or foreign addresses do not convert.
        assert_eq!(SockAddr::from_bytes(&a.as_bytes()[..8]).unwrap().to_std(), None);
        assert_eq!(i32::from(SockAddr::from_bytes(&[2]).unwrap().family()), libc::AF_UNSPEC);
        assert!(format!("{a:?}").contains("127.0.0.1:8080"));
    }

    #[test]
    fn oversized_buffers_refused() {
        // Only checkable where usize is wider than u32: fake a huge slice without touching it.
        #[cfg(target_pointer_width = "64")]
        {
            let byte = [0u8; 1];
            // SAFETY: the slice is never read; only its length is inspected by `new`, which
            // refuses it before building anything that could point at it.
            let huge = unsafe { core::slice::from_raw_parts(byte.as_ptr(), u32::MAX as usize + 1) };
            assert!(matches!(Send::new(Target::raw(0), huge), Err(crate::Error::InvalidArgument { .. })));
            assert!(SendZc::new(Target::raw(0), huge).is_err());
        }
    }
}
