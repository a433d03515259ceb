//! Socket commands (`SOCKET_URING_OP_*`, kernel `io_uring/cmd_net.c`): queue sizes, socket
//! options, transmit timestamps and socket names, on any socket whose protocol has an ioctl
//! handler (TCP, UDP, raw, unix, ...).
//!
//! | command | encoder | liburing | first kernel |
//! |---|---|---|---|
//! | `SOCKET_URING_OP_SIOCINQ` | [`SiocInq`] | `io_uring_prep_cmd_sock(3)` | 6.7 |
//! | `SOCKET_URING_OP_SIOCOUTQ` | [`SiocOutq`] | `io_uring_prep_cmd_sock(3)` | 6.7 |
//! | `SOCKET_URING_OP_GETSOCKOPT` | [`GetSockOpt`] | `io_uring_prep_cmd_sock(3)` | 6.7 |
//! | `SOCKET_URING_OP_SETSOCKOPT` | [`SetSockOpt`] | `io_uring_prep_cmd_sock(3)` | 6.7 |
//! | `SOCKET_URING_OP_TX_TIMESTAMP` | [`TxTimestamp`] | (raw `io_uring_prep_uring_cmd`) | 6.16 |
//! | `SOCKET_URING_OP_GETSOCKNAME` | [`GetSockName`] | `io_uring_prep_cmd_getsockname(3)` | 6.19 |
//!
//! All of them are 64-byte entries and run on every ring layout. The fields the kernel reads:
//! `sqe.level` / `sqe.optname` (the `addr` union), the option value pointer in `sqe.optval`
//! (the `addr3` union) and its length in `sqe.optlen` (the `file_index` union).
//!
//! Errors (in the completion): `EOPNOTSUPP` for a protocol without an ioctl handler, an unknown
//! command (so a kernel older than the command), or a `GETSOCKOPT` whose level is not
//! `SOL_SOCKET` (the kernel only reads `SOL_SOCKET` options this way; setting works at every
//! level); otherwise the errno the matching syscall would return. A file that is not a socket
//! answers through its own driver (`EOPNOTSUPP` for a file without uring_cmd support).
//!
//! Asking how many bytes wait in a socket, and reading and setting its receive buffer size,
//! with a fallback for kernels older than 6.7:
//!
//! ```
//! use std::io::Write;
//! use std::os::unix::net::UnixStream;
//! use uring::cmd::socket::{opt, GetSockOpt, SetSockOpt, SiocInq};
//! use uring::{Errno, Ring};
//!
//! let mut ring = Ring::new(4)?;
//! let (mut tx, rx) = UnixStream::pair()?;
//! for n in 1..=8usize {
//!     tx.write_all(&vec![0; n])?;
//!     // SAFETY: `rx` stays open until the completion is reaped just below.
//!     unsafe { ring.sq().push_fd(&SiocInq::new(&rx).build().user_data(1)) }?;
//!     match ring.wait_cqe()?.result() {
//!         Ok(queued) => assert_eq!(queued as usize, n * (n + 1) / 2),
//!         Err(Errno::OPNOTSUPP) => {
//!             println!("this kernel lacks socket commands (Linux 6.7)");
//!             return Ok(());
//!         }
//!         Err(e) => return Err(e.into()),
//!     }
//! }
//!
//! let want: i32 = 64 * 1024;
//! let set = SetSockOpt::new(&rx, opt::RCVBUF, &want).build();
//! // SAFETY: `want` and `rx` outlive the completion, reaped before either is dropped.
//! unsafe { ring.sq().push_raw(&set) }?;
//! assert_eq!(ring.wait_cqe()?.result(), Ok(0));
//! let mut size: i32 = 0;
//! let get = GetSockOpt::new(&rx, opt::RCVBUF, &mut size).build();
//! // SAFETY: `size` is neither read nor moved, and `rx` stays open, until the completion is
//! // reaped on the next line.
//! unsafe { ring.sq().push_raw(&get) }?;
//! assert_eq!(ring.wait_cqe()?.result(), Ok(4)); // the value's length
//! assert!(size >= want, "Linux doubles the value it is given: {size}");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use core::marker::PhantomData;
use core::mem::size_of;

use uring_uapi::*;

use super::{fd_entry, pod_bytes, UringCmd};
use crate::cqe::Cqe32;
use rustix::net::addr::SocketAddrStorage;

use crate::op::Target;
use crate::sqe::{FdSqe, Sqe};
use crate::util::Pod;

/// The buffer [`GetSockName`] has the kernel write the name into (defined in [`op`](crate::op),
/// shared with [`Accept::peer_addr`](crate::op::Accept::peer_addr)).
pub use crate::op::SockAddrBuf;

/// A socket option and the type of its value: `level`, `optname` and `T`.
///
/// [`opt`] has the common ones; any other is `SockOpt::<T>::new(level, name)`.
/// For `SOCKET_URING_OP_GETSOCKOPT` and `SOCKET_URING_OP_SETSOCKOPT` (Linux 6.7).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SockOpt<T> {
    level: i32,
    name: i32,
    _value: PhantomData<fn() -> T>,
}

impl<T> Clone for SockOpt<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for SockOpt<T> {}

impl<T: Pod> SockOpt<T> {
    /// The option `name` at `level` (`SOL_SOCKET`, `IPPROTO_TCP`, ...), with a value of type `T`.
    /// For the socket commands of Linux 6.7.
    pub const fn new(level: i32, name: i32) -> Self {
        SockOpt { level, name, _value: PhantomData }
    }

    /// The level (`SOL_*` / `IPPROTO_*`).
    pub const fn level(self) -> i32 {
        self.level
    }

    /// The option name.
    pub const fn name(self) -> i32 {
        self.name
    }
}

crate::pod_struct! {
    /// `struct linger` (`SO_LINGER`).
    /// For `SOCKET_URING_OP_GETSOCKOPT`/`SETSOCKOPT` (Linux 6.7).
    #[derive(Debug, Default, PartialEq, Eq, Hash)]
    pub struct Linger {
        /// Non-zero: linger on close.
        pub l_onoff: i32,
        /// Linger time, in seconds.
        pub l_linger: i32,
    }
}

/// Common socket options with their value types (`socket(7)`, `tcp(7)`, `ip(7)`, `ipv6(7)`).
///
/// Boolean options are `i32` (0 or 1), as the kernel reads and writes them. Only the
/// `SOL_SOCKET` ones can be read with [`GetSockOpt`] (the kernel's rule); all can be set with
/// [`SetSockOpt`].
pub mod opt {
    use super::{Linger, SockOpt};

    /// `SO_RCVBUF`: receive buffer size (the kernel doubles what is set).
    pub const RCVBUF: SockOpt<i32> = SockOpt::new(libc::SOL_SOCKET, libc::SO_RCVBUF);
    /// `SO_SNDBUF`: send buffer size (the kernel doubles what is set).
    pub const SNDBUF: SockOpt<i32> = SockOpt::new(libc::SOL_SOCKET, libc::SO_SNDBUF);
    /// `SO_REUSEADDR` (boolean).
    pub const REUSEADDR: SockOpt<i32> = SockOpt::new(libc::SOL_SOCKET, libc::SO_REUSEADDR);
    /// `SO_REUSEPORT` (boolean).
    pub const REUSEPORT: SockOpt<i32> = SockOpt::new(libc::SOL_SOCKET, libc::SO_REUSEPORT);
    /// `SO_KEEPALIVE` (boolean).
    pub const KEEPALIVE: SockOpt<i32> = SockOpt::new(libc::SOL_SOCKET, libc::SO_KEEPALIVE);
    /// `SO_BROADCAST` (boolean).
    pub const BROADCAST: SockOpt<i32> = SockOpt::new(libc::SOL_SOCKET, libc::SO_BROADCAST);
    /// `SO_OOBINLINE` (boolean).
    pub const OOBINLINE: SockOpt<i32> = SockOpt::new(libc::SOL_SOCKET, libc::SO_OOBINLINE);
    /// `SO_RCVLOWAT`: minimum bytes for a receive to return.
    pub const RCVLOWAT: SockOpt<i32> = SockOpt::new(libc::SOL_SOCKET, libc::SO_RCVLOWAT);
    /// `SO_PRIORITY`: protocol-defined priority of sent packets.
    pub const PRIORITY: SockOpt<i32> = SockOpt::new(libc::SOL_SOCKET, libc::SO_PRIORITY);
    /// `SO_MARK`: the packet mark (needs `CAP_NET_ADMIN` to set).
    pub const MARK: SockOpt<u32> = SockOpt::new(libc::SOL_SOCKET, libc::SO_MARK);
    /// `SO_LINGER`.
    pub const LINGER: SockOpt<Linger> = SockOpt::new(libc::SOL_SOCKET, libc::SO_LINGER);
    /// `SO_TIMESTAMPING`: `SOF_TIMESTAMPING_*` flags (enables the transmit timestamps that
    /// [`TxTimestamp`](super::TxTimestamp) collects).
    pub const TIMESTAMPING: SockOpt<u32> = SockOpt::new(libc::SOL_SOCKET, libc::SO_TIMESTAMPING);
    /// `SO_TYPE` (read only): `SOCK_STREAM`, `SOCK_DGRAM`, ...
    pub const TYPE: SockOpt<i32> = SockOpt::new(libc::SOL_SOCKET, libc::SO_TYPE);
    /// `SO_PROTOCOL` (read only).
    pub const PROTOCOL: SockOpt<i32> = SockOpt::new(libc::SOL_SOCKET, libc::SO_PROTOCOL);
    /// `SO_DOMAIN` (read only).
    pub const DOMAIN: SockOpt<i32> = SockOpt::new(libc::SOL_SOCKET, libc::SO_DOMAIN);
    /// `SO_ERROR` (read only; reading clears it).
    pub const ERROR: SockOpt<i32> = SockOpt::new(libc::SOL_SOCKET, libc::SO_ERROR);
    /// `SO_ACCEPTCONN` (read only, boolean).
    pub const ACCEPTCONN: SockOpt<i32> = SockOpt::new(libc::SOL_SOCKET, libc::SO_ACCEPTCONN);
    /// `TCP_NODELAY` (boolean; `IPPROTO_TCP`, so settable only through io_uring).
    pub const TCP_NODELAY: SockOpt<i32> = SockOpt::new(libc::IPPROTO_TCP, libc::TCP_NODELAY);
    /// `TCP_KEEPIDLE`: seconds of idleness before keepalive probes.
    pub const TCP_KEEPIDLE: SockOpt<i32> = SockOpt::new(libc::IPPROTO_TCP, libc::TCP_KEEPIDLE);
    /// `TCP_KEEPINTVL`: seconds between keepalive probes.
    pub const TCP_KEEPINTVL: SockOpt<i32> = SockOpt::new(libc::IPPROTO_TCP, libc::TCP_KEEPINTVL);
    /// `TCP_KEEPCNT`: keepalive probes before dropping the connection.
    pub const TCP_KEEPCNT: SockOpt<i32> = SockOpt::new(libc::IPPROTO_TCP, libc::TCP_KEEPCNT);
    /// `IP_TTL`.
    pub const IP_TTL: SockOpt<i32> = SockOpt::new(libc::IPPROTO_IP, libc::IP_TTL);
    /// `IPV6_V6ONLY` (boolean).
    pub const IPV6_V6ONLY: SockOpt<i32> = SockOpt::new(libc::IPPROTO_IPV6, libc::IPV6_V6ONLY);
}

/// A socket command with `level`, `optname`, `optval`, `optlen` as `io_uring_prep_cmd_sock(3)`
/// writes them.
fn cmd_sock(cmd_op: u32, fd: Target, level: i32, optname: i32, optval: u64, optlen: u32) -> Sqe {
    let mut sqe = UringCmd::new(fd, cmd_op).build();
    sqe.0.addr.sockopt = io_uring_sqe_sockopt { level: level as u32, optname: optname as u32 };
    sqe.0.addr3.optval = optval;
    sqe.0.file.optlen = optlen;
    sqe
}

/// `SOCKET_URING_OP_SIOCINQ`: the bytes waiting in the receive queue, as `ioctl(SIOCINQ)`
/// (`io_uring_prep_cmd_sock(3)`, Linux 6.7). The result is the count.
#[derive(Debug, Clone, Copy)]
pub struct SiocInq {
    fd: Target,
}

impl SiocInq {
    /// The command number, `SOCKET_URING_OP_SIOCINQ`.
    pub const CMD_OP: u32 = SOCKET_URING_OP_SIOCINQ;

    /// The query for socket `fd`.
    /// See `io_uring_prep_cmd_sock(3)` (Linux 6.7).
    pub fn new(fd: impl Into<Target>) -> Self {
        SiocInq { fd: fd.into() }
    }

    /// The entry: points at nothing, but names the file (see [`FdSqe`]).
    /// Encodes `SOCKET_URING_OP_SIOCINQ`.
    pub fn build(self) -> FdSqe {
        fd_entry(cmd_sock(Self::CMD_OP, self.fd, 0, 0, 0, 0))
    }
}

/// `SOCKET_URING_OP_SIOCOUTQ`: the bytes not yet acknowledged (TCP) or not yet sent (UDP) in the
/// send queue, as `ioctl(SIOCOUTQ)` (`io_uring_prep_cmd_sock(3)`, Linux 6.7). The result is the
/// count.
#[derive(Debug, Clone, Copy)]
pub struct SiocOutq {
    fd: Target,
}

impl SiocOutq {
    /// The command number, `SOCKET_URING_OP_SIOCOUTQ`.
    pub const CMD_OP: u32 = SOCKET_URING_OP_SIOCOUTQ;

    /// The query for socket `fd`.
    /// See `io_uring_prep_cmd_sock(3)` (Linux 6.7).
    pub fn new(fd: impl Into<Target>) -> Self {
        SiocOutq { fd: fd.into() }
    }

    /// The entry: points at nothing, but names the file (see [`FdSqe`]).
    /// Encodes `SOCKET_URING_OP_SIOCOUTQ`.
    pub fn build(self) -> FdSqe {
        fd_entry(cmd_sock(Self::CMD_OP, self.fd, 0, 0, 0, 0))
    }
}

/// `SOCKET_URING_OP_GETSOCKOPT`: `getsockopt(2)` (`io_uring_prep_cmd_sock(3)`, Linux 6.7).
///
/// The kernel writes the value to `optval` and completes with the value's length (the
/// `optlen` that `getsockopt(2)` would write back). Only `SOL_SOCKET` options are supported by
/// the kernel; other levels complete with `EOPNOTSUPP`.
///
/// The entry points at the value: keep it alive and unmoved until the completion (pushing is
/// `unsafe`).
#[derive(Debug, Clone, Copy)]
pub struct GetSockOpt {
    sqe: Sqe,
}

impl GetSockOpt {
    /// The command number, `SOCKET_URING_OP_GETSOCKOPT`.
    pub const CMD_OP: u32 = SOCKET_URING_OP_GETSOCKOPT;

    /// Reads option `opt` of socket `fd` into `value`.
    /// See `io_uring_prep_cmd_sock(3)` (Linux 6.7).
    pub fn new<T: Pod>(fd: impl Into<Target>, opt: SockOpt<T>, value: &mut T) -> Self {
        let ptr = value as *mut T as u64;
        GetSockOpt { sqe: cmd_sock(Self::CMD_OP, fd.into(), opt.level, opt.name, ptr, size_of::<T>() as u32) }
    }

    /// Reads option `optname` at `level` into the `optlen` bytes at `optval`.
    /// See `io_uring_prep_cmd_sock(3)` (Linux 6.7).
    pub fn raw(fd: impl Into<Target>, level: i32, optname: i32, optval: *mut u8, optlen: u32) -> Self {
        GetSockOpt { sqe: cmd_sock(Self::CMD_OP, fd.into(), level, optname, optval as u64, optlen) }
    }

    /// The entry.
    /// Encodes `SOCKET_URING_OP_GETSOCKOPT`.
    pub fn build(self) -> Sqe {
        self.sqe
    }
}

/// `SOCKET_URING_OP_SETSOCKOPT`: `setsockopt(2)` at any level (`io_uring_prep_cmd_sock(3)`,
/// Linux 6.7). Completes with 0.
///
/// The entry points at the value: keep it alive and unmoved until the completion (pushing is
/// `unsafe`).
#[derive(Debug, Clone, Copy)]
pub struct SetSockOpt {
    sqe: Sqe,
}

impl SetSockOpt {
    /// The command number, `SOCKET_URING_OP_SETSOCKOPT`.
    pub const CMD_OP: u32 = SOCKET_URING_OP_SETSOCKOPT;

    /// Sets option `opt` of socket `fd` to `value`.
    /// See `io_uring_prep_cmd_sock(3)` (Linux 6.7).
    pub fn new<T: Pod>(fd: impl Into<Target>, opt: SockOpt<T>, value: &T) -> Self {
        let ptr = pod_bytes(value).as_ptr() as u64;
        SetSockOpt { sqe: cmd_sock(Self::CMD_OP, fd.into(), opt.level, opt.name, ptr, size_of::<T>() as u32) }
    }

    /// Sets option `optname` at `level` to the `optlen` bytes at `optval`.
    /// See `io_uring_prep_cmd_sock(3)` (Linux 6.7).
    pub fn raw(fd: impl Into<Target>, level: i32, optname: i32, optval: *const u8, optlen: u32) -> Self {
        SetSockOpt { sqe: cmd_sock(Self::CMD_OP, fd.into(), level, optname, optval as u64, optlen) }
    }

    /// The entry.
    /// Encodes `SOCKET_URING_OP_SETSOCKOPT`.
    pub fn build(self) -> Sqe {
        self.sqe
    }
}

/// `SCM_TSTAMP_SND`: the packet left the device (`SOF_TIMESTAMPING_TX_SOFTWARE` /
/// `_TX_HARDWARE`).
pub const SCM_TSTAMP_SND: u32 = 0;
/// `SCM_TSTAMP_SCHED`: the packet entered the packet scheduler (`SOF_TIMESTAMPING_TX_SCHED`).
pub const SCM_TSTAMP_SCHED: u32 = 1;
/// `SCM_TSTAMP_ACK`: the data was acknowledged (TCP, `SOF_TIMESTAMPING_TX_ACK`).
pub const SCM_TSTAMP_ACK: u32 = 2;
/// `SCM_TSTAMP_COMPLETION`: the device reported the transmission complete (Linux 6.14).
pub const SCM_TSTAMP_COMPLETION: u32 = 3;

/// `SOCKET_URING_OP_TX_TIMESTAMP`: collects the socket's transmit timestamps from its error
/// queue as 32-byte completions (Linux 6.16; no liburing helper, liburing's test encodes it as a
/// bare uring_cmd).
///
/// The ring must post 32-byte completions (`IORING_SETUP_CQE32` or `IORING_SETUP_CQE_MIXED`;
/// check with [`require_cqe32`](super::require_cqe32)), otherwise the command fails with
/// `EINVAL`. Timestamps must be enabled on the socket (`SO_TIMESTAMPING` with
/// `SOF_TIMESTAMPING_OPT_TSONLY`, since timestamps carrying payload are skipped, plus a
/// reporting flag such as `SOF_TIMESTAMPING_TX_SOFTWARE` or `_TX_SCHED`).
///
/// The command is multishot: it stays armed (polling for `EPOLLERR`) and posts one completion
/// per timestamp with `IORING_CQE_F_MORE`, read with [`TxTimestamp::parse`]; cancel it to stop
/// (its final completion has no `MORE`).
#[derive(Debug, Clone, Copy)]
pub struct TxTimestamp {
    fd: Target,
}

/// One transmit timestamp, read from a [`TxTimestamp`] completion.
/// (`SOCKET_URING_OP_TX_TIMESTAMP`, Linux 6.16.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TxTimestampEvent {
    /// The timestamp key (`ee_data`): with `SOF_TIMESTAMPING_OPT_ID`, the sequence number of the
    /// packet (UDP) or the byte offset (TCP). The completion's `res`.
    pub key: u32,
    /// What was timestamped: [`SCM_TSTAMP_SND`], [`SCM_TSTAMP_SCHED`], [`SCM_TSTAMP_ACK`], ...
    /// (`cqe.flags >> IORING_TIMESTAMP_TYPE_SHIFT`).
    pub kind: u32,
    /// `IORING_CQE_F_TSTAMP_HW`: a hardware timestamp.
    pub hardware: bool,
    /// The time (`struct io_timespec` in the extra 16 bytes): seconds.
    pub sec: u64,
    /// Nanoseconds.
    pub nsec: u64,
}

impl TxTimestamp {
    /// The command number, `SOCKET_URING_OP_TX_TIMESTAMP`.
    pub const CMD_OP: u32 = SOCKET_URING_OP_TX_TIMESTAMP;

    /// The collector for socket `fd`.
    /// Encodes `SOCKET_URING_OP_TX_TIMESTAMP`.
    /// Linux 6.16.
    pub fn new(fd: impl Into<Target>) -> Self {
        TxTimestamp { fd: fd.into() }
    }

    /// The entry: points at nothing, but names the file (see [`FdSqe`]).
    /// Encodes `SOCKET_URING_OP_TX_TIMESTAMP`.
    pub fn build(self) -> FdSqe {
        fd_entry(UringCmd::new(self.fd, Self::CMD_OP).build())
    }

    /// Reads a timestamp completion; `None` for the command's final completion (no
    /// `IORING_CQE_F_MORE`: cancelled, or failed with the errno in `res`).
    /// Linux 6.16.
    pub fn parse(cqe: &Cqe32) -> Option<TxTimestampEvent> {
        let flags = cqe.raw_flags();
        if flags & IORING_CQE_F_MORE == 0 {
            return None;
        }
        let ts: io_timespec_pod = cqe.big_cqe_as();
        Some(TxTimestampEvent {
            key: cqe.raw_result() as u32,
            kind: flags >> IORING_TIMESTAMP_TYPE_SHIFT,
            hardware: flags & IORING_CQE_F_TSTAMP_HW != 0,
            sec: ts.tv_sec,
            nsec: ts.tv_nsec,
        })
    }
}

crate::pod_struct! {
    /// `struct io_timespec` as plain data.
    #[allow(non_camel_case_types)]
    struct io_timespec_pod {
        tv_sec: u64,
        tv_nsec: u64,
    }
}
const _: () = assert!(size_of::<io_timespec_pod>() == size_of::<io_timespec>());

/// `SOCKET_URING_OP_GETSOCKNAME`: `getsockname(2)`, or `getpeername(2)` with
/// [`peer`](Self::peer) (`io_uring_prep_cmd_getsockname(3)`, Linux 6.19; older kernels complete
/// with `EOPNOTSUPP`). Completes with 0; the address and its length are in the
/// [`SockAddrBuf`] ([`SockAddrBuf::addr`] decodes it).
///
/// Fields: `sqe.addr` = the `sockaddr`, `sqe.addr3` = the `socklen_t` (in: room, out: length),
/// `sqe.optlen` = 0 (own name) or 1 (peer name). The entry points at the buffer: keep it alive
/// and unmoved until the completion (pushing is `unsafe`).
#[derive(Debug, Clone, Copy)]
pub struct GetSockName {
    sqe: Sqe,
}

impl GetSockName {
    /// The command number, `SOCKET_URING_OP_GETSOCKNAME`.
    pub const CMD_OP: u32 = SOCKET_URING_OP_GETSOCKNAME;

    /// The local address of socket `fd`, written to `buf`.
    /// See `io_uring_prep_cmd_getsockname(3)` (Linux 6.19).
    pub fn new(fd: impl Into<Target>, buf: &mut SockAddrBuf) -> Self {
        let (storage, len) = buf.parts_mut();
        Self::raw(fd, (storage as *mut SocketAddrStorage).cast(), len)
    }

    /// The local address written to `addr`, whose room `*len` gives (written back).
    /// See `io_uring_prep_cmd_getsockname(3)` (Linux 6.19).
    pub fn raw(fd: impl Into<Target>, addr: *mut libc::sockaddr, len: *mut libc::socklen_t) -> Self {
        let mut sqe = UringCmd::new(fd, Self::CMD_OP).build();
        sqe.0.addr.addr = addr as u64;
        sqe.0.addr3.addr3 = io_uring_sqe_addr3_pad { addr3: len as u64, __pad2: [0] };
        GetSockName { sqe }
    }

    /// The peer's address instead (`getpeername(2)`).
    pub fn peer(mut self) -> Self {
        self.sqe.0.file.optlen = 1;
        self
    }

    /// The entry.
    /// Encodes `SOCKET_URING_OP_GETSOCKNAME`.
    pub fn build(self) -> Sqe {
        self.sqe
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::test_fields::{fields, Fields};
    use crate::cqe::Cqe;

    #[test]
    fn queue_sizes() {
        for (sqe, op) in [(SiocInq::new(Target::raw(5)).build(), 0), (SiocOutq::new(Target::raw(5)).build(), 1)] {
            assert_eq!(fields(sqe.sqe()), Fields { opcode: IORING_OP_URING_CMD, fd: 5, off: op, ..Default::default() });
        }
        let sqe = SiocInq::new(Target::fixed(2)).build();
        assert_eq!(fields(sqe.sqe()).flags, IOSQE_FIXED_FILE);
    }

    #[test]
    fn sockopts() {
        let mut v = 0i32;
        let sqe = GetSockOpt::new(Target::raw(7), opt::RCVBUF, &mut v).build();
        let level_name = (libc::SO_RCVBUF as u64) << 32 | libc::SOL_SOCKET as u64;
        assert_eq!(
            fields(&sqe),
            Fields {
                opcode: IORING_OP_URING_CMD,
                fd: 7,
                off: SOCKET_URING_OP_GETSOCKOPT as u64,
                addr: level_name,
                file: 4,
                addr3: &mut v as *mut i32 as u64,
                ..Default::default()
            }
        );
        let linger = Linger { l_onoff: 1, l_linger: 5 };
        let sqe = SetSockOpt::new(Target::raw(7), opt::LINGER, &linger).build();
        let f = fields(&sqe);
        assert_eq!(f.off, SOCKET_URING_OP_SETSOCKOPT as u64);
        assert_eq!(f.addr, (libc::SO_LINGER as u64) << 32 | libc::SOL_SOCKET as u64);
        assert_eq!(f.file, 8);
        assert_eq!(f.addr3, &linger as *const Linger as u64);
        let sqe = SetSockOpt::raw(Target::raw(7), libc::IPPROTO_TCP, libc::TCP_NODELAY, 0x1000 as *const u8, 4).build();
        let f = fields(&sqe);
        assert_eq!(f.addr, (libc::TCP_NODELAY as u64) << 32 | libc::IPPROTO_TCP as u64);
        assert_eq!((f.addr3, f.file, f.len, f.op_flags), (0x1000, 4, 0, 0));
    }

    #[test]
    fn getsockname() {
        let mut buf = SockAddrBuf::new();
        assert_eq!(buf.len(), 128);
        let sqe = GetSockName::new(Target::raw(3), &mut buf).build();
        let f = fields(&sqe);
        assert_eq!(f.off, SOCKET_URING_OP_GETSOCKNAME as u64);
        assert_eq!(f.addr, &buf as *const SockAddrBuf as u64, "the sockaddr is at the start of the buffer");
        assert_eq!(f.addr3, f.addr + 128, "the length follows the 128-byte sockaddr_storage");
        assert_eq!((f.file, f.len, f.op_flags, f.ioprio, f.pad2), (0, 0, 0, 0, 0));
        assert_eq!(fields(&GetSockName::new(Target::raw(3), &mut buf).peer().build()).file, 1);
    }

    #[test]
    fn tx_timestamp() {
        let sqe = TxTimestamp::new(Target::raw(4)).build();
        assert_eq!(
            fields(sqe.sqe()),
            Fields {
                opcode: IORING_OP_URING_CMD,
                fd: 4,
                off: SOCKET_URING_OP_TX_TIMESTAMP as u64,
                ..Default::default()
            }
        );
        let flags = IORING_CQE_F_MORE | IORING_CQE_F_TSTAMP_HW | (SCM_TSTAMP_SCHED << IORING_TIMESTAMP_TYPE_SHIFT);
        let cqe = Cqe32::new(Cqe::new(0, 7, flags), [12, 345]);
        assert_eq!(
            TxTimestamp::parse(&cqe),
            Some(TxTimestampEvent { key: 7, kind: SCM_TSTAMP_SCHED, hardware: true, sec: 12, nsec: 345 })
        );
        assert_eq!(TxTimestamp::parse(&Cqe32::new(Cqe::new(0, -125, 0), [0, 0])), None);
    }
}
