//! Network operations with owned addresses, buffers and messages, and receives and sends that
//! use a crate-owned [`BufRing`].
//!
//! Buffer groups: [`RecvSelect`], [`RecvMultishot`], [`RecvMsgMultishot`] and [`SendBundle`]
//! take a [`BufRing`], whose buffer memory belongs to the crate and is kept alive by the ring it
//! was built on. The operation names the buffer ring (it must be registered on the ring the
//! operation is pushed to); each completion names the buffer it filled, which
//! [`Completion::select`](crate::owned::Completion::select) turns into the bytes, once. A bare
//! [`BufGroupId`](crate::op::BufGroupId) (a legacy group of caller memory) is not accepted
//! here: nothing would keep that memory alive.

use std::ptr;

use super::Fd;
use super::{Encode, Iovecs, OnComplete, SelectsFrom};
use crate::buf::BufRing;
use rustix::net::{RecvFlags, ReturnFlags, SendFlags, SocketFlags};

use rustix::net::addr::SocketAddrStorage;
use rustix::net::SocketAddrAny;

use crate::op::{self, DestSlot, SockAddrBuf};
use crate::sqe::Sqe;
use crate::Result;

/// `IORING_OP_CONNECT` (Linux 5.5): `connect(2)` to an owned address. The result is 0.
#[derive(Debug)]
pub struct Connect {
    /// The socket.
    pub fd: Fd,
    /// The address.
    pub addr: SocketAddrAny,
}

impl Connect {
    /// Connects `fd` to `addr`.
    /// Pushed as `IORING_OP_CONNECT` (Linux 5.5).
    pub fn new(fd: impl Into<Fd>, addr: impl Into<SocketAddrAny>) -> Self {
        Connect { fd: fd.into(), addr: addr.into() }
    }
}

impl Encode for Connect {
    #[inline]
    fn sqe(&mut self) -> Result<Sqe> {
        Ok(op::Connect::new(self.fd.target(), &self.addr).build())
    }
}

/// `IORING_OP_BIND`: `bind(2)` to an owned address (Linux 6.11). The result is 0.
#[derive(Debug)]
pub struct Bind {
    /// The socket.
    pub fd: Fd,
    /// The address.
    pub addr: SocketAddrAny,
}

impl Bind {
    /// Binds `fd` to `addr`.
    /// Pushed as `IORING_OP_BIND` (Linux 6.11).
    pub fn new(fd: impl Into<Fd>, addr: impl Into<SocketAddrAny>) -> Self {
        Bind { fd: fd.into(), addr: addr.into() }
    }
}

impl Encode for Bind {
    #[inline]
    fn sqe(&mut self) -> Result<Sqe> {
        Ok(op::Bind::new(self.fd.target(), &self.addr).build())
    }
}

/// `IORING_OP_ACCEPT` (Linux 5.5) with the peer's address: `accept4(2)`, the kernel writing the address
/// into the owned [`peer`](Accept::peer). The result is the new fd, handed out as an `OwnedFd`
/// by [`Completion::take_fd`](crate::owned::Completion::take_fd) (or, with a direct `dest`, 0
/// or the slot chosen). Without the address, single or multishot: [`AcceptMulti`](super::AcceptMulti).
#[derive(Debug)]
pub struct Accept {
    /// The listening socket.
    pub fd: Fd,
    /// `SOCK_NONBLOCK` / `SOCK_CLOEXEC` for the new socket.
    pub flags: SocketFlags,
    /// Where the new socket goes.
    pub dest: DestSlot,
    /// The peer's address, filled by the kernel ([`SockAddrBuf::addr`] decodes it).
    pub peer: SockAddrBuf,
}

impl Accept {
    /// Accepts one connection on `fd`.
    /// Pushed as `IORING_OP_ACCEPT` (Linux 5.5).
    pub fn new(fd: impl Into<Fd>) -> Self {
        Accept { fd: fd.into(), flags: SocketFlags::empty(), dest: DestSlot::Fd, peer: SockAddrBuf::new() }
    }
}

impl Encode for Accept {
    #[inline]
    fn on_complete(&self) -> OnComplete {
        OnComplete::new_fd_if(self.dest)
    }

    #[inline]
    fn sqe(&mut self) -> Result<Sqe> {
        let (addr, addrlen) = self.peer.parts_mut();
        Ok(op::Accept::new(self.fd.target()).sock_flags(self.flags).dest(self.dest).peer_addr(addr, addrlen).build())
    }
}

/// `IORING_OP_SEND` (Linux 5.6) of an owned buffer: `send(2)`, or with a destination `sendto(2)`. The
/// result is the number of bytes sent.
#[derive(Debug)]
pub struct Send {
    /// The socket.
    pub fd: Fd,
    /// The bytes.
    pub buf: Vec<u8>,
    /// `MSG_*` flags.
    pub flags: SendFlags,
    /// The destination (`sendto`), boxed to keep the operation small.
    pub to: Option<Box<SocketAddrAny>>,
}

impl Send {
    /// Sends `buf` on `fd`.
    /// Pushed as `IORING_OP_SEND` (Linux 5.6).
    pub fn new(fd: impl Into<Fd>, buf: Vec<u8>) -> Self {
        Send { fd: fd.into(), buf, flags: SendFlags::empty(), to: None }
    }

    /// Sends to `addr` (`sendto(2)`, Linux 6.1).
    pub fn to(mut self, addr: impl Into<SocketAddrAny>) -> Self {
        self.to = Some(Box::new(addr.into()));
        self
    }
}

impl Encode for Send {
    #[inline]
    fn sqe(&mut self) -> Result<Sqe> {
        let mut b = op::Send::new(self.fd.target(), &self.buf)?.msg_flags(self.flags);
        if let Some(a) = &self.to {
            b = b.to(a);
        }
        Ok(b.build())
    }
}

/// `IORING_OP_SEND_ZC`: a zero-copy send of an owned buffer (Linux 6.0).
///
/// Usually two completions: the result (bytes sent) with `IORING_CQE_F_MORE`, then the
/// notification (`IORING_CQE_F_NOTIF`) once the kernel no longer reads the buffer; the
/// operation, with its buffer, comes back with the notification (with the first completion
/// if the send failed without one).
#[derive(Debug)]
pub struct SendZc {
    /// The socket.
    pub fd: Fd,
    /// The bytes.
    pub buf: Vec<u8>,
    /// `MSG_*` flags.
    pub flags: SendFlags,
    /// The destination (`sendto`), boxed to keep the operation small.
    pub to: Option<Box<SocketAddrAny>>,
    /// `IORING_SEND_ZC_REPORT_USAGE`: the notification's result says whether the data was
    /// copied after all.
    pub report_usage: bool,
}

impl SendZc {
    /// Sends `buf` on `fd` without copying.
    /// Pushed as `IORING_OP_SEND_ZC` (Linux 6.0).
    pub fn new(fd: impl Into<Fd>, buf: Vec<u8>) -> Self {
        SendZc { fd: fd.into(), buf, flags: SendFlags::empty(), to: None, report_usage: false }
    }

    /// Sends to `addr`.
    pub fn to(mut self, addr: impl Into<SocketAddrAny>) -> Self {
        self.to = Some(Box::new(addr.into()));
        self
    }
}

impl Encode for SendZc {
    #[inline]
    fn sqe(&mut self) -> Result<Sqe> {
        let mut b = op::SendZc::new(self.fd.target(), &self.buf)?.msg_flags(self.flags);
        if let Some(a) = &self.to {
            b = b.to(a);
        }
        if self.report_usage {
            b = b.report_usage();
        }
        Ok(b.build())
    }
}

/// A `msghdr` pointing into memory owned by the same operation.
pub(crate) struct MsgHdr(libc::msghdr);

// SAFETY: the header holds only addresses of memory owned by the same operation (name, iovec
// array, control buffer); Rust code never dereferences them, so moving or sharing the header
// between threads is as safe as moving that memory.
unsafe impl core::marker::Send for MsgHdr {}
// SAFETY: as above; `&MsgHdr` only exposes integer fields.
unsafe impl Sync for MsgHdr {}

impl core::fmt::Debug for MsgHdr {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("MsgHdr")
            .field("namelen", &self.0.msg_namelen)
            .field("iovlen", &self.0.msg_iovlen)
            .field("controllen", &self.0.msg_controllen)
            .field("flags", &self.0.msg_flags)
            .finish()
    }
}

impl MsgHdr {
    fn new() -> Self {
        // Null pointers, zero lengths.
        MsgHdr(crate::util::zeroed())
    }

    /// Fills the header: `name` (address, length), the iovec array, and `control`.
    fn set(&mut self, name: (*mut libc::c_void, u32), iov: &mut Iovecs, control: &mut [u8]) {
        let h = &mut self.0;
        h.msg_name = name.0;
        h.msg_namelen = name.1 as _;
        h.msg_iov = if iov.len() == 0 { ptr::null_mut() } else { iov.as_mut_ptr() };
        h.msg_iovlen = iov.len() as _;
        h.msg_control = if control.is_empty() { ptr::null_mut() } else { control.as_mut_ptr().cast() };
        h.msg_controllen = control.len() as _;
        h.msg_flags = 0;
    }
}

/// The fields [`SendMsg`] and [`SendMsgZc`] share, and the header built from them.
macro_rules! send_msg {
    ($name:ident, $raw:ident, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug)]
        pub struct $name {
            /// The socket.
            pub fd: Fd,
            /// The data, sent in order.
            pub bufs: Vec<Vec<u8>>,
            /// The destination (unconnected sockets).
            pub name: Option<SocketAddrAny>,
            /// Control data (`cmsg`s, e.g. `SCM_RIGHTS`), or empty.
            pub control: Vec<u8>,
            /// `MSG_*` flags.
            pub flags: SendFlags,
            iov: Iovecs,
            hdr: MsgHdr,
        }

        impl $name {
            /// Sends `bufs` as one message on `fd`.
            pub fn new(fd: impl Into<Fd>, bufs: Vec<Vec<u8>>) -> Self {
                $name {
                    fd: fd.into(),
                    bufs,
                    name: None,
                    control: Vec::new(),
                    flags: SendFlags::empty(),
                    iov: Iovecs::default(),
                    hdr: MsgHdr::new(),
                }
            }
        }

        impl Encode for $name {
            fn sqe(&mut self) -> Result<Sqe> {
                self.iov.over(self.bufs.iter().map(|b| &b[..]));
                let name = match &self.name {
                    // The kernel only reads the destination.
                    Some(a) => (a.as_ptr() as *mut libc::c_void, a.addr_len()),
                    None => (ptr::null_mut(), 0),
                };
                self.hdr.set(name, &mut self.iov, &mut self.control);
                Ok(op::$raw::new(self.fd.target(), &self.hdr.0).msg_flags(self.flags).build())
            }
        }
    };
}

send_msg!(
    SendMsg,
    SendMsg,
    "`IORING_OP_SENDMSG`: `sendmsg(2)` of an owned message (data buffers, optional destination, \
     control data). The header and iovec array are built from the fields when the operation is \
     pushed. The result is the number of bytes sent."
);
send_msg!(
    SendMsgZc,
    SendMsgZc,
    "`IORING_OP_SENDMSG_ZC`: a zero-copy `sendmsg(2)` of an owned message (Linux 6.1). \
     Completions as for [`SendZc`]: the memory comes back with the notification."
);

/// `IORING_OP_RECV` (Linux 5.6) into an owned buffer. The result is the number of bytes received into the
/// front of `buf` (0 at end of stream).
#[derive(Debug)]
pub struct Recv {
    /// The socket.
    pub fd: Fd,
    /// The buffer (its length is the most received).
    pub buf: Vec<u8>,
    /// `MSG_*` flags.
    pub flags: RecvFlags,
}

impl Recv {
    /// Receives into `buf` from `fd`.
    /// Pushed as `IORING_OP_RECV` (Linux 5.6).
    pub fn new(fd: impl Into<Fd>, buf: Vec<u8>) -> Self {
        Recv { fd: fd.into(), buf, flags: RecvFlags::empty() }
    }
}

impl Encode for Recv {
    #[inline]
    fn sqe(&mut self) -> Result<Sqe> {
        Ok(op::Recv::new(self.fd.target(), &mut self.buf)?.msg_flags(self.flags).build())
    }
}

/// `IORING_OP_RECVMSG` (Linux 5.3): `recvmsg(2)` into owned buffers, source-address storage and control
/// buffer. The result is the number of bytes received, filling `bufs` in order; then
/// [`source`](RecvMsg::source), [`control_len`](RecvMsg::control_len) and
/// [`msg_flags`](RecvMsg::msg_flags) report what the kernel wrote back.
#[derive(Debug)]
pub struct RecvMsg {
    /// The socket.
    pub fd: Fd,
    /// The data buffers.
    pub bufs: Vec<Vec<u8>>,
    /// Room for control data (`cmsg`s), or empty.
    pub control: Vec<u8>,
    /// `MSG_*` flags of the receive.
    pub flags: RecvFlags,
    name: NameBuf,
    iov: Iovecs,
    hdr: MsgHdr,
}

/// Storage the kernel writes a source address into.
struct NameBuf(SocketAddrStorage);

impl core::fmt::Debug for NameBuf {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("NameBuf")
    }
}

impl NameBuf {
    fn new() -> Self {
        NameBuf(SocketAddrStorage::zeroed())
    }
}

impl RecvMsg {
    /// Receives one message from `fd` into `bufs`, with `control_room` bytes for control data.
    /// Pushed as `IORING_OP_RECVMSG` (Linux 5.3).
    pub fn new(fd: impl Into<Fd>, bufs: Vec<Vec<u8>>, control_room: usize) -> Self {
        RecvMsg {
            fd: fd.into(),
            bufs,
            control: vec![0; control_room],
            flags: RecvFlags::empty(),
            name: NameBuf::new(),
            iov: Iovecs::default(),
            hdr: MsgHdr::new(),
        }
    }

    /// The sender's address, as the kernel reported it (after the completion; `None` if it
    /// reported none, as on a connected stream socket).
    pub fn source(&self) -> Option<SocketAddrAny> {
        op::decode_sockaddr_at(&self.name.0, self.hdr.0.msg_namelen)
    }

    /// Bytes of control data the kernel wrote into the front of `control`.
    #[allow(clippy::unnecessary_cast)] // `size_t` on glibc, `socklen_t` on musl
    pub fn control_len(&self) -> usize {
        (self.hdr.0.msg_controllen as usize).min(self.control.len())
    }

    /// The flags the kernel reported (`MSG_TRUNC`, `MSG_CTRUNC`, ...).
    pub fn msg_flags(&self) -> ReturnFlags {
        ReturnFlags::from_bits_retain(self.hdr.0.msg_flags as u32)
    }
}

impl Encode for RecvMsg {
    #[inline]
    fn sqe(&mut self) -> Result<Sqe> {
        self.iov.over_mut(self.bufs.iter_mut().map(|b| &mut b[..]));
        self.name = NameBuf::new();
        let room = core::mem::size_of::<SocketAddrStorage>() as u32;
        let storage = (&mut self.name.0 as *mut SocketAddrStorage).cast();
        self.hdr.set((storage, room), &mut self.iov, &mut self.control);
        Ok(op::RecvMsg::new(self.fd.target(), &mut self.hdr.0).msg_flags(self.flags).build())
    }
}

/// `IORING_OP_RECV` (Linux 5.6) into a buffer of a crate-owned [`BufRing`] (`IOSQE_BUFFER_SELECT`). The
/// result is the number of bytes received; [`Completion::select`](crate::owned::Completion::select)
/// gives them.
#[derive(Debug)]
pub struct RecvSelect {
    /// The socket.
    pub fd: Fd,
    /// Receive at most this many bytes (0: up to the selected buffer's size).
    pub len: u32,
    /// `MSG_*` flags.
    pub flags: RecvFlags,
    bundle: bool,
    bgid: u16,
    from: SelectsFrom,
}

impl RecvSelect {
    /// Receives from `fd` into a buffer of `group`.
    /// Pushed as `IORING_OP_RECV` with `IOSQE_BUFFER_SELECT` (Linux 5.7).
    pub fn new(fd: impl Into<Fd>, group: &BufRing) -> Self {
        RecvSelect {
            fd: fd.into(),
            len: 0,
            flags: RecvFlags::empty(),
            bundle: false,
            bgid: group.bgid(),
            from: SelectsFrom::new(group, false),
        }
    }

    /// `IORING_RECVSEND_BUNDLE` (Linux 6.10): fill several buffers in one receive; the
    /// completion's [`select`](crate::owned::Completion::select) gives a
    /// [`Bundle`](crate::buf::Bundle). A kernel without bundles fails the receive with
    /// `EINVAL` (`io_uring_prep_recv(3)` with `IORING_RECVSEND_BUNDLE` in `ioprio`).
    ///
    /// Three messages of 32 bytes wait in the socket; one bundle receive takes all of them,
    /// in three buffers of 32 bytes, contiguous in ring order:
    ///
    /// ```
    /// # std::thread::spawn(|| { // a watchdog: a hang fails fast, naming the example
    /// #     std::thread::sleep(std::time::Duration::from_secs(60));
    /// #     eprintln!("HANG in the RecvSelect::bundle example: no completion after 60 s");
    /// #     std::process::abort();
    /// # });
    /// use std::io::Write;
    /// use std::os::unix::net::UnixStream;
    /// use uring::buf::{BufRing, Selection};
    /// use uring::owned::{OwnedRing, RecvSelect};
    /// use uring::Errno;
    ///
    /// let mut ring = OwnedRing::new(8)?;
    /// let br = ring.buf_ring(BufRing::builder(1, 8, 32))?;
    /// let (mut tx, rx) = UnixStream::pair()?;
    /// let rx = std::sync::Arc::new(rx);
    /// for round in 0..4u8 {
    ///     for i in 0..3 {
    ///         tx.write_all(&[round * 3 + i; 32])?;
    ///     }
    ///     ring.push(RecvSelect::new(uring::owned::Fd::shared(rx.clone()), &br).bundle())?;
    ///     let mut c = ring.wait()?;
    ///     if c.result() == Err(Errno::INVAL) {
    ///         println!("this kernel lacks receive bundles (Linux 6.10)");
    ///         return Ok(());
    ///     }
    ///     assert_eq!(c.result(), Ok(96));
    ///     match c.select(&br)? {
    ///         Selection::Bundle(b) => {
    ///             assert_eq!(b.count(), 3);
    ///             let pieces: Vec<&[u8]> = b.slices().collect();
    ///             assert_eq!(pieces[2], &[round * 3 + 2; 32][..]);
    ///         }
    ///         other => panic!("expected a bundle, got {other:?}"),
    ///     } // the three buffers go back to the ring here
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn bundle(mut self) -> Self {
        self.bundle = true;
        self.from.sel |= 1;
        self
    }

    /// The buffer group.
    pub fn bgid(&self) -> u16 {
        self.bgid
    }
}

impl Encode for RecvSelect {
    #[inline]
    fn selects(&self) -> Option<SelectsFrom> {
        Some(self.from)
    }

    #[inline]
    fn sqe(&mut self) -> Result<Sqe> {
        let mut b =
            op::RecvSelect::new(self.fd.target(), &op::BufGroupId(self.bgid))?.len(self.len).msg_flags(self.flags);
        if self.bundle {
            b = b.bundle();
        }
        Ok(b.build())
    }
}

/// `IORING_OP_RECV` multishot into buffers of a crate-owned [`BufRing`]: one completion per
/// receive, each with `IORING_CQE_F_MORE` and a buffer
/// ([`Completion::select`](crate::owned::Completion::select)); the operation
/// comes back with the final completion (end of stream, an error such as `ENOBUFS`, the
/// `limit`, or cancellation). `io_uring_prep_recv_multishot(3)`, Linux 6.0 (with provided
/// buffers, which it requires).
///
/// When the application keeps buffers, the ring can run dry: the receive then ends with
/// `ENOBUFS`, the data stays in the socket, and giving the buffers back and pushing the
/// operation again resumes it. Six messages through two buffers that are each kept until
/// the ring is empty:
///
/// ```
/// # std::thread::spawn(|| { // a watchdog: a hang fails fast, naming the example
/// #     std::thread::sleep(std::time::Duration::from_secs(60));
/// #     eprintln!("HANG in the RecvMultishot example: no completion after 60 s");
/// #     std::process::abort();
/// # });
/// use std::io::Write;
/// use std::os::unix::net::UnixStream;
/// use uring::buf::{BufRing, Selection};
/// use uring::owned::{OwnedRing, RecvMultishot};
/// use uring::Errno;
///
/// let mut ring = OwnedRing::new(8)?;
/// let br = ring.buf_ring(BufRing::builder(1, 2, 64))?;
/// let (mut tx, rx) = UnixStream::pair()?;
/// let mut idle = Some(RecvMultishot::new(rx, &br)); // the receive, when not in flight
/// let (mut kept, mut rearmed) = (Vec::new(), 0);
/// for i in 0..6u8 {
///     tx.write_all(&[i; 8])?;
///     loop {
///         if let Some(op) = idle.take() {
///             ring.push(op)?;
///         }
///         let mut c = ring.wait()?;
///         if c.result() == Err(Errno::NOBUFS) {
///             // Both buffers are kept, so the receive ended: return them and push it again.
///             idle = Some(c.into_op().expect("the receive comes back with its final completion"));
///             for held in kept.drain(..) {
///                 br.recycle_held(held)?;
///             }
///             rearmed += 1;
///             continue;
///         }
///         assert!(c.more(), "still armed");
///         let Selection::Buffer(b) = c.select(&br)? else { panic!("one buffer per message") };
///         assert_eq!(b.data(), &[i; 8][..]);
///         kept.push(b.keep()); // hold the buffer past this completion
///         break;
///     }
/// }
/// assert_eq!(rearmed, 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct RecvMultishot {
    /// The socket.
    pub fd: Fd,
    /// At most this many bytes per completion (0: each buffer's size).
    pub len: u32,
    /// Stop after this many bytes in all (0: no limit; Linux 6.17).
    pub limit: u32,
    /// `MSG_*` flags (`MSG_WAITALL` is refused by the kernel).
    pub flags: RecvFlags,
    bgid: u16,
    from: SelectsFrom,
}

impl RecvMultishot {
    /// Receives repeatedly from `fd` into buffers of `group`.
    /// Pushed as `IORING_OP_RECV` with `IORING_RECV_MULTISHOT` (Linux 6.0).
    pub fn new(fd: impl Into<Fd>, group: &BufRing) -> Self {
        RecvMultishot {
            fd: fd.into(),
            len: 0,
            limit: 0,
            flags: RecvFlags::empty(),
            bgid: group.bgid(),
            from: SelectsFrom::new(group, false),
        }
    }

    /// The buffer group.
    pub fn bgid(&self) -> u16 {
        self.bgid
    }
}

impl Encode for RecvMultishot {
    #[inline]
    fn selects(&self) -> Option<SelectsFrom> {
        Some(self.from)
    }

    #[inline]
    fn sqe(&mut self) -> Result<Sqe> {
        Ok(op::RecvMultishot::new(self.fd.target(), &op::BufGroupId(self.bgid))?
            .len(self.len)
            .limit(self.limit)
            .msg_flags(self.flags)
            .build())
    }
}

/// `IORING_OP_RECVMSG` (Linux 5.3) multishot into buffers of a crate-owned [`BufRing`]: each buffer holds
/// an `io_uring_recvmsg_out` header, `name_len` bytes of source address, `control_len` bytes of
/// control data, then the payload; parse it with
/// [`RecvMsgOut::parse`](crate::buf::RecvMsgOut::parse). Completions as for [`RecvMultishot`].
#[derive(Debug)]
pub struct RecvMsgMultishot {
    /// The socket.
    pub fd: Fd,
    /// Room reserved in each buffer for the source address.
    pub name_len: u32,
    /// Room reserved in each buffer for control data.
    pub control_len: u32,
    /// `MSG_*` flags.
    pub flags: RecvFlags,
    bgid: u16,
    from: SelectsFrom,
    /// Boxed (allocated once, with the operation) to keep the operation in an inline slot.
    hdr: Box<MsgHdr>,
}

impl RecvMsgMultishot {
    /// Receives messages from `fd` into buffers of `group`, reserving room for a source
    /// address of any family and no control data.
    /// Pushed as `IORING_OP_RECVMSG` with `IORING_RECV_MULTISHOT` (Linux 6.0).
    pub fn new(fd: impl Into<Fd>, group: &BufRing) -> Self {
        RecvMsgMultishot {
            fd: fd.into(),
            name_len: core::mem::size_of::<SocketAddrStorage>() as u32,
            control_len: 0,
            flags: RecvFlags::empty(),
            bgid: group.bgid(),
            from: SelectsFrom::new(group, false),
            hdr: Box::new(MsgHdr::new()),
        }
    }

    /// The buffer group.
    pub fn bgid(&self) -> u16 {
        self.bgid
    }
}

impl Encode for RecvMsgMultishot {
    #[inline]
    fn selects(&self) -> Option<SelectsFrom> {
        Some(self.from)
    }

    #[inline]
    fn sqe(&mut self) -> Result<Sqe> {
        // Only the lengths matter: the kernel lays out each buffer from them.
        let h = &mut self.hdr.0;
        *h = MsgHdr::new().0;
        h.msg_namelen = self.name_len as _;
        h.msg_controllen = self.control_len as _;
        Ok(op::RecvMsgMultishot::new(self.fd.target(), &self.hdr.0, &op::BufGroupId(self.bgid))?
            .msg_flags(self.flags)
            .build())
    }
}

/// `IORING_OP_SEND` bundle from a crate-owned [`BufRing`] (Linux 6.10): sends the buffers queued
/// in the group, up to `len` bytes (0: all). The result is the number of bytes sent.
#[derive(Debug)]
pub struct SendBundle {
    /// The socket.
    pub fd: Fd,
    /// At most this many bytes (0: all queued).
    pub len: u32,
    /// `MSG_*` flags.
    pub flags: SendFlags,
    bgid: u16,
    from: SelectsFrom,
}

impl SendBundle {
    /// Sends the buffers queued in `group` on `fd`.
    /// Pushed as `IORING_OP_SEND` with `IORING_RECVSEND_BUNDLE` (Linux 6.10).
    pub fn new(fd: impl Into<Fd>, group: &BufRing) -> Self {
        SendBundle {
            fd: fd.into(),
            len: 0,
            flags: SendFlags::empty(),
            bgid: group.bgid(),
            from: SelectsFrom::new(group, true),
        }
    }

    /// The buffer group.
    pub fn bgid(&self) -> u16 {
        self.bgid
    }
}

impl Encode for SendBundle {
    #[inline]
    fn selects(&self) -> Option<SelectsFrom> {
        Some(self.from)
    }

    #[inline]
    fn sqe(&mut self) -> Result<Sqe> {
        Ok(op::SendBundle::new(self.fd.target(), &op::BufGroupId(self.bgid))?
            .len(self.len)
            .msg_flags(self.flags)
            .build())
    }
}
