//! The network encoders (`op::net`) and socket addresses (`op::decode_sockaddr`): an arbitrary
//! operation with arbitrary arguments is encoded, then a decoder that knows only the kernel ABI
//! reconstructs it from the raw entry (reading socket addresses back through the entry's
//! pointers, as the kernel does). The reconstruction must equal what was asked, every unused
//! byte must be zero, and nothing may panic. `Result`-returning encoders and address
//! constructors are driven into both branches (kernel-managed groups, lengths and iovec counts
//! past `u32::MAX`, over-long or NUL-containing unix paths, oversized raw addresses).
#![no_main]

mod common;

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::unix::ffi::OsStrExt;

use arbitrary::Arbitrary;
use common::*;
use libfuzzer_sys::fuzz_target;
use rustix::net::addr::SocketAddrStorage;
use rustix::net::{RecvFlags, SendFlags, SocketAddrAny, SocketAddrUnix, SocketFlags};
use uring::op::{self, SockAddrBuf};
use uring::uapi::*;
use uring::Sqe;

/// A socket address, built through one of the crate's constructors.
#[derive(Arbitrary, Debug, Clone)]
enum Addr {
    V4(u32, u16),
    V6([u8; 16], u16, u32, u32),
    Unix(Vec<u8>),
    Abstract(Vec<u8>),
    Bytes(Vec<u8>),
    Raw { len: u32, fill: u8 },
    Empty,
}

const STORAGE: usize = core::mem::size_of::<SocketAddrStorage>();

/// The bytes of an address (`addr_len()` of them).
fn bytes_of(a: &SocketAddrAny) -> Vec<u8> {
    // SAFETY: a `SocketAddrAny` holds `addr_len()` initialised bytes at `as_ptr()`.
    unsafe { std::slice::from_raw_parts(a.as_ptr().cast::<u8>(), a.addr_len() as usize) }.to_vec()
}

/// Checks that decoding `a`'s bytes gives `a` back, and that formatting and converting it never
/// panic (rustix's decoders assert on malformed addresses: the crate's decoder must not let one
/// through).
fn round_trip(a: &SocketAddrAny) {
    // No `assert_eq!`: formatting an address the decoder refused could be rustix's panic.
    assert!(op::decode_sockaddr(&bytes_of(a)).as_ref() == Some(a), "decoding gives the address back");
    let _ = format!("{a:?}");
    let _ = SocketAddr::try_from(a.clone());
    let _ = SocketAddrUnix::try_from(a.clone());
}

/// Builds the address (rustix's constructors, or the crate's decoder from arbitrary bytes);
/// checks what each documents (length, family, bytes, round trip), or that it refused.
fn sockaddr(a: &Addr) -> Option<SocketAddrAny> {
    match a {
        Addr::V4(ip, port) => {
            let std = SocketAddrV4::new(Ipv4Addr::from(*ip), *port);
            let s = SocketAddrAny::from(std);
            let b = bytes_of(&s);
            assert_eq!(b.len(), core::mem::size_of::<libc::sockaddr_in>());
            assert_eq!(&b[..2], &(libc::AF_INET as libc::sa_family_t).to_ne_bytes());
            assert_eq!(&b[2..4], &port.to_be_bytes());
            assert_eq!(&b[4..8], &std.ip().octets());
            assert_eq!(SocketAddr::try_from(s.clone()), Ok(SocketAddr::V4(std)));
            round_trip(&s);
            Some(s)
        }
        Addr::V6(ip, port, flow, scope) => {
            let std = SocketAddrV6::new(Ipv6Addr::from(*ip), *port, *flow, *scope);
            let s = SocketAddrAny::from(SocketAddr::V6(std));
            let b = bytes_of(&s);
            assert_eq!(b.len(), core::mem::size_of::<libc::sockaddr_in6>());
            assert_eq!(&b[8..24], ip);
            assert_eq!(SocketAddr::try_from(s.clone()), Ok(SocketAddr::V6(std)));
            round_trip(&s);
            Some(s)
        }
        Addr::Unix(path) => {
            // rustix refuses NUL bytes and paths too long for `sun_path`.
            let s = SocketAddrAny::from(SocketAddrUnix::new(std::ffi::OsStr::from_bytes(path)).ok()?);
            if path.len() == 108 {
                // rustix keeps a path that fills `sun_path` without its NUL, which its own
                // decoders (and `Debug`) assert against: the crate's decoder refuses it.
                assert!(op::decode_sockaddr(&bytes_of(&s)).is_none(), "a path without its NUL is refused");
            } else {
                round_trip(&s);
            }
            Some(s)
        }
        Addr::Abstract(name) => {
            let s = SocketAddrAny::from(SocketAddrUnix::new_abstract_name(name).ok()?);
            let mut want = (libc::AF_UNIX as libc::sa_family_t).to_ne_bytes().to_vec();
            want.push(0);
            want.extend_from_slice(name);
            assert_eq!(bytes_of(&s), want);
            round_trip(&s);
            Some(s)
        }
        Addr::Bytes(b) => {
            let s = op::decode_sockaddr(b)?;
            assert!((2..=STORAGE).contains(&b.len()), "decoded {} bytes", b.len());
            assert_eq!(bytes_of(&s), *b);
            round_trip(&s);
            Some(s)
        }
        Addr::Raw { len, fill } => {
            let mut buf = SockAddrBuf::new();
            let (st, l) = buf.parts_mut();
            // SAFETY: a storage is plain bytes; any value is valid.
            unsafe { core::ptr::write_bytes((st as *mut SocketAddrStorage).cast::<u8>(), *fill, STORAGE) };
            *l = *len;
            let s = buf.addr();
            assert_eq!(s, op::decode_sockaddr_at(buf.parts_mut().0, *len));
            let _ = format!("{buf:?}");
            let s = s?;
            assert!(*len as usize <= STORAGE);
            assert_eq!(bytes_of(&s), vec![*fill; *len as usize]);
            round_trip(&s);
            Some(s)
        }
        Addr::Empty => {
            // An unwritten buffer: 128 zero bytes, family AF_UNSPEC.
            let buf = SockAddrBuf::new();
            assert_eq!(buf.len(), STORAGE);
            let s = buf.addr().expect("an all-zero storage decodes");
            assert_eq!(bytes_of(&s), vec![0; STORAGE]);
            Some(s)
        }
    }
}

/// The `MSG_*` flag type of a builder's `msg_flags` (sends and receives take their own).
trait MsgBits {
    fn retain(bits: u32) -> Self;
}

impl MsgBits for SendFlags {
    fn retain(bits: u32) -> Self {
        SendFlags::from_bits_retain(bits)
    }
}

impl MsgBits for RecvFlags {
    fn retain(bits: u32) -> Self {
        RecvFlags::from_bits_retain(bits)
    }
}

/// Options every send / receive builder shares.
#[derive(Arbitrary, Debug, Clone, Copy)]
struct Opts {
    msg_flags: Option<u32>,
    poll_first: bool,
}

#[derive(Arbitrary, Debug)]
enum Input {
    Socket {
        domain: i32,
        ty: i32,
        protocol: i32,
        flags: Option<u32>,
        dest: Option<Dest>,
    },
    Bind {
        t: Tgt,
        addr: Addr,
    },
    Connect {
        t: Tgt,
        addr: Addr,
    },
    Listen {
        t: Tgt,
        backlog: u32,
    },
    Accept {
        t: Tgt,
        flags: Option<u32>,
        dest: Option<Dest>,
        multishot: bool,
        dontwait: bool,
        poll_first: bool,
        peer: bool,
    },
    Shutdown {
        t: Tgt,
        how: u8,
    },
    Send {
        t: Tgt,
        buf: Span,
        o: Opts,
        to: Option<Addr>,
        fixed: Option<u16>,
    },
    SendVectored {
        t: Tgt,
        iovs: Iovs,
        o: Opts,
        to: Option<Addr>,
    },
    SendBundle {
        t: Tgt,
        group: Group,
        len: Option<u32>,
        o: Opts,
    },
    SendZc {
        t: Tgt,
        buf: Span,
        o: Opts,
        to: Option<Addr>,
        report: bool,
        fixed: Option<u16>,
    },
    SendZcVectored {
        t: Tgt,
        iovs: Iovs,
        o: Opts,
        to: Option<Addr>,
        report: bool,
        fixed: Option<u16>,
    },
    SendMsg {
        t: Tgt,
        o: Opts,
    },
    SendMsgZc {
        t: Tgt,
        o: Opts,
        report: bool,
        fixed: Option<u16>,
    },
    Recv {
        t: Tgt,
        buf: Span,
        o: Opts,
        fixed: Option<u16>,
    },
    RecvSelect {
        t: Tgt,
        group: Group,
        len: Option<u32>,
        o: Opts,
        bundle: bool,
    },
    RecvMultishot {
        t: Tgt,
        group: Group,
        len: Option<u32>,
        limit: Option<u32>,
        o: Opts,
        bundle: bool,
    },
    RecvMsg {
        t: Tgt,
        o: Opts,
        group: Option<Group>,
    },
    RecvMsgMultishot {
        t: Tgt,
        group: Group,
        o: Opts,
    },
    RecvZc {
        t: Tgt,
        ifq: u32,
        len: Option<u32>,
        poll_first: bool,
    },
}

/// The operation as the kernel reads it back (fields an opcode does not read stay default).
#[derive(Debug, PartialEq, Eq, Default)]
struct Net {
    code: u8,
    t: Option<Tgt>,
    /// `socket`: domain, type, protocol.
    socket: Option<(i32, u32, u32)>,
    dest: Option<Dest>,
    addr: u64,
    len: u32,
    off: u64,
    op_flags: u32,
    ioprio: u16,
    buf_index: Option<u16>,
    group: Option<u16>,
    /// The socket address the entry points at (bind/connect: `addr`/`off`; sends: `addr2` and
    /// `addr_len`), read through the pointer.
    sockaddr: Option<Vec<u8>>,
    limit: u32,
    ifq: u32,
}

fn prio(o: &Opts, extra: u16) -> u16 {
    extra | if o.poll_first { IORING_RECVSEND_POLL_FIRST } else { 0 }
}

/// Applies `Opts` to a builder with `msg_flags` and `poll_first`; after `$want`, also the optional
/// setters named (those the builder has: `to`, `report_usage`, `fixed_buf`, `bundle`), recording
/// in `$want` what the entry must then hold.
macro_rules! opts {
    ($b:expr, $o:expr) => {{
        let o: Opts = $o;
        let mut b = $b;
        if let Some(f) = o.msg_flags {
            b = b.msg_flags(MsgBits::retain(f));
        }
        if o.poll_first {
            b = b.poll_first();
        }
        b
    }};
    ($b:expr, $o:expr, $want:ident $(, to: $to:expr)? $(, report: $report:expr)? $(, fixed: $fixed:expr)?
     $(, bundle: $bundle:expr)?) => {{
        let mut b = opts!($b, $o);
        $(if let Some(a) = $to {
            b = b.to(a);
            $want.sockaddr = Some(bytes_of(a));
        })?
        $(if $report {
            b = b.report_usage();
            $want.ioprio |= IORING_SEND_ZC_REPORT_USAGE;
        })?
        $(if let Some(i) = $fixed {
            b = b.fixed_buf(i);
            $want.ioprio |= IORING_RECVSEND_FIXED_BUF;
            $want.buf_index = Some(i);
        })?
        $(if $bundle {
            b = b.bundle();
            $want.ioprio |= IORING_RECVSEND_BUNDLE;
        })?
        b
    }};
}

/// The destination of a send, kept in `keep` while the entry points at it: `Some(None)` without
/// one, `None` when the address constructor (correctly) refused it.
fn send_to<'k>(keep: &'k mut Option<SocketAddrAny>, to: Option<&Addr>) -> Option<Option<&'k SocketAddrAny>> {
    Some(match to {
        Some(a) => Some(&*keep.insert(sockaddr(a)?)),
        None => None,
    })
}

const ONE_BUF: &str = "a buffer of at most u32::MAX bytes is accepted";
const IOVECS: &str = "at most u32::MAX iovecs are accepted";
const USER_GROUP: &str = "a user group is accepted";

fn sends(code: u8, t: Tgt, addr: u64, len: u32, o: &Opts, ioprio: u16) -> Net {
    Net { code, t: Some(t), addr, len, op_flags: o.msg_flags.unwrap_or(0), ioprio, ..Net::default() }
}

fn encode(input: &Input, pool: &mut [u8], keep: &mut Keep) -> Option<(Sqe, Net)> {
    Some(match input {
        Input::Socket { domain, ty, protocol, flags, dest } => {
            let mut b = op::Socket::new(*domain, *ty, *protocol);
            let f = SocketFlags::from_bits_retain(flags.unwrap_or(0));
            if flags.is_some() {
                b = b.sock_flags(f);
            }
            if let Some(d) = dest {
                b = b.dest(d.slot());
            }
            let want = Net {
                code: IORING_OP_SOCKET,
                socket: Some((*domain, (*ty | f.bits() as i32) as u32, *protocol as u32)),
                dest: Some(dest.unwrap_or(Dest::Fd).canon()),
                ..Net::default()
            };
            (b.build().into_sqe(), want)
        }
        Input::Bind { t, addr } | Input::Connect { t, addr } => {
            let a = keep.addr.insert(sockaddr(addr)?);
            let bytes = bytes_of(a);
            let (sqe, code) = match input {
                Input::Bind { .. } => (op::Bind::new(t.target(), a).build(), IORING_OP_BIND),
                _ => (op::Connect::new(t.target(), a).build(), IORING_OP_CONNECT),
            };
            (sqe, Net { code, t: Some(*t), sockaddr: Some(bytes), ..Net::default() })
        }
        Input::Listen { t, backlog } => (
            op::Listen::new(t.target(), *backlog).build().into_sqe(),
            Net { code: IORING_OP_LISTEN, t: Some(*t), len: *backlog, ..Net::default() },
        ),
        Input::Accept { t, flags, dest, multishot, dontwait, poll_first, peer } => {
            let mut b = op::Accept::new(t.target());
            if let Some(f) = flags {
                b = b.sock_flags(SocketFlags::from_bits_retain(*f));
            }
            if let Some(d) = dest {
                b = b.dest(d.slot());
            }
            let mut ioprio = 0;
            if *multishot {
                b = b.multishot();
                ioprio |= IORING_ACCEPT_MULTISHOT;
            }
            if *dontwait {
                b = b.dontwait();
                ioprio |= IORING_ACCEPT_DONTWAIT;
            }
            if *poll_first {
                b = b.poll_first();
                ioprio |= IORING_ACCEPT_POLL_FIRST;
            }
            let mut want = Net {
                code: IORING_OP_ACCEPT,
                t: Some(*t),
                op_flags: flags.unwrap_or(0),
                ioprio,
                dest: Some(dest.unwrap_or(Dest::Fd).canon()),
                ..Net::default()
            };
            let sqe = if *peer {
                // Start from a short length: the encoder must reset it to the whole storage.
                let out = keep.peer.insert(SockAddrBuf::new());
                let (addr, addrlen) = out.parts_mut();
                *addrlen = 3;
                let sqe = b.peer_addr(addr, addrlen).build();
                // The kernel writes up to the length the entry's length pointer says: all of it.
                assert_eq!(out.len(), STORAGE, "peer address length reset to the storage size");
                // The decoder checks that the entry's length pointer names a word holding it.
                want.addr = out.parts_mut().0 as *mut SocketAddrStorage as u64;
                sqe
            } else {
                b.build().into_sqe()
            };
            (sqe, want)
        }
        Input::Shutdown { t, how } => {
            let (h, raw) = match how % 3 {
                0 => (std::net::Shutdown::Read, libc::SHUT_RD),
                1 => (std::net::Shutdown::Write, libc::SHUT_WR),
                _ => (std::net::Shutdown::Both, libc::SHUT_RDWR),
            };
            (
                op::Shutdown::new(t.target(), h).build().into_sqe(),
                Net { code: IORING_OP_SHUTDOWN, t: Some(*t), len: raw as u32, ..Net::default() },
            )
        }
        Input::Send { t, buf, o, to, fixed } => {
            let to = send_to(&mut keep.to, to.as_ref())?;
            let v = span_mut(pool, *buf);
            let (addr, n) = (v.as_ptr() as u64, v.len());
            let mut want = sends(IORING_OP_SEND, *t, addr, n as u32, o, prio(o, 0));
            let b = accepted(op::Send::new(t.target(), v), n > u32::MAX as usize, ONE_BUF)?;
            (opts!(b, *o, want, to: to, fixed: *fixed).build(), want)
        }
        Input::SendVectored { t, iovs, o, to } => {
            let to = send_to(&mut keep.to, to.as_ref())?;
            let mut store = Vec::new();
            let list = iovecs(pool, *iovs, &mut store);
            let (addr, n) = (list.as_ptr() as u64, list.len());
            let mut want = sends(IORING_OP_SEND, *t, addr, n as u32, o, prio(o, IORING_SEND_VECTORIZED));
            let b = accepted(op::SendVectored::new(t.target(), list), n > u32::MAX as usize, IOVECS)?;
            (opts!(b, *o, want, to: to).build(), want)
        }
        Input::SendBundle { t, group, len, o } => {
            let mut b = accepted(op::SendBundle::new(t.target(), group), group.kernel_managed, USER_GROUP)?;
            if let Some(l) = len {
                b = b.len(*l);
            }
            let mut want = sends(IORING_OP_SEND, *t, 0, len.unwrap_or(0), o, prio(o, IORING_RECVSEND_BUNDLE));
            want.group = Some(group.bgid);
            (opts!(b, *o).build(), want)
        }
        Input::SendZc { t, buf, o, to, report, fixed } => {
            let to = send_to(&mut keep.to, to.as_ref())?;
            let v = span_mut(pool, *buf);
            let (addr, n) = (v.as_ptr() as u64, v.len());
            let mut want = sends(IORING_OP_SEND_ZC, *t, addr, n as u32, o, prio(o, 0));
            let b = accepted(op::SendZc::new(t.target(), v), n > u32::MAX as usize, ONE_BUF)?;
            (opts!(b, *o, want, to: to, report: *report, fixed: *fixed).build(), want)
        }
        Input::SendZcVectored { t, iovs, o, to, report, fixed } => {
            let to = send_to(&mut keep.to, to.as_ref())?;
            let mut store = Vec::new();
            let list = iovecs(pool, *iovs, &mut store);
            let (addr, n) = (list.as_ptr() as u64, list.len());
            let mut want = sends(IORING_OP_SEND_ZC, *t, addr, n as u32, o, prio(o, IORING_SEND_VECTORIZED));
            let b = accepted(op::SendZcVectored::new(t.target(), list), n > u32::MAX as usize, IOVECS)?;
            (opts!(b, *o, want, to: to, report: *report, fixed: *fixed).build(), want)
        }
        Input::SendMsg { t, o } => {
            let msg = &keep.msg;
            let want = sends(IORING_OP_SENDMSG, *t, msg as *const libc::msghdr as u64, 1, o, prio(o, 0));
            (opts!(op::SendMsg::new(t.target(), msg), *o).build(), want)
        }
        Input::SendMsgZc { t, o, report, fixed } => {
            let msg = &keep.msg;
            let mut want = sends(IORING_OP_SENDMSG_ZC, *t, msg as *const libc::msghdr as u64, 1, o, prio(o, 0));
            let b = op::SendMsgZc::new(t.target(), msg);
            (opts!(b, *o, want, report: *report, fixed: *fixed).build(), want)
        }
        Input::Recv { t, buf, o, fixed } => {
            let v = span_mut(pool, *buf);
            let (addr, n) = (v.as_mut_ptr() as u64, v.len());
            let mut want = sends(IORING_OP_RECV, *t, addr, n as u32, o, prio(o, 0));
            let b = accepted(op::Recv::new(t.target(), v), n > u32::MAX as usize, ONE_BUF)?;
            (opts!(b, *o, want, fixed: *fixed).build(), want)
        }
        Input::RecvSelect { t, group, len, o, bundle } => {
            let mut b = accepted(op::RecvSelect::new(t.target(), group), group.kernel_managed, USER_GROUP)?;
            if let Some(l) = len {
                b = b.len(*l);
            }
            let mut want = sends(IORING_OP_RECV, *t, 0, len.unwrap_or(0), o, prio(o, 0));
            want.group = Some(group.bgid);
            (opts!(b, *o, want, bundle: *bundle).build(), want)
        }
        Input::RecvMultishot { t, group, len, limit, o, bundle } => {
            let mut b = accepted(op::RecvMultishot::new(t.target(), group), group.kernel_managed, USER_GROUP)?;
            if let Some(l) = len {
                b = b.len(*l);
            }
            if let Some(l) = limit {
                b = b.limit(*l);
            }
            let mut want = sends(IORING_OP_RECV, *t, 0, len.unwrap_or(0), o, prio(o, IORING_RECV_MULTISHOT));
            want.group = Some(group.bgid);
            want.limit = limit.unwrap_or(0);
            (opts!(b, *o, want, bundle: *bundle).build(), want)
        }
        Input::RecvMsg { t, o, group } => {
            let msg = &mut keep.msg;
            let addr = msg as *mut libc::msghdr as u64;
            let mut b = opts!(op::RecvMsg::new(t.target(), msg), *o);
            let mut want = sends(IORING_OP_RECVMSG, *t, addr, 1, o, prio(o, 0));
            if let Some(g) = group {
                b = accepted(b.buf_group(g), g.kernel_managed, USER_GROUP)?;
                want.group = Some(g.bgid);
            }
            (b.build(), want)
        }
        Input::RecvMsgMultishot { t, group, o } => {
            let msg = &keep.msg;
            let b = accepted(op::RecvMsgMultishot::new(t.target(), msg, group), group.kernel_managed, USER_GROUP)?;
            let mut want =
                sends(IORING_OP_RECVMSG, *t, msg as *const libc::msghdr as u64, 1, o, prio(o, IORING_RECV_MULTISHOT));
            want.group = Some(group.bgid);
            (opts!(b, *o).build(), want)
        }
        Input::RecvZc { t, ifq, len, poll_first } => {
            let mut b = op::RecvZc::new(t.target(), *ifq);
            if let Some(l) = len {
                b = b.len(*l);
            }
            let mut ioprio = IORING_RECV_MULTISHOT;
            if *poll_first {
                b = b.poll_first();
                ioprio |= IORING_RECVSEND_POLL_FIRST;
            }
            let want = Net {
                code: IORING_OP_RECV_ZC,
                t: Some(*t),
                len: len.unwrap_or(0),
                ioprio,
                ifq: *ifq,
                ..Net::default()
            };
            (b.build(), want)
        }
    })
}

/// Memory the entries point at, alive until the entry is decoded.
struct Keep {
    addr: Option<SocketAddrAny>,
    to: Option<SocketAddrAny>,
    peer: Option<SockAddrBuf>,
    msg: libc::msghdr,
}

/// The bytes of the socket address at `ptr` (`len` of them), as the kernel copies it in.
fn read_sockaddr(ptr: u64, len: u64) -> Vec<u8> {
    assert!(len as usize <= STORAGE, "socket address length {len} past sockaddr_storage");
    assert!(ptr != 0 || len == 0, "null socket address with a length");
    if len == 0 {
        return Vec::new();
    }
    // SAFETY: the decoder only sees entries whose address points at a live address of the
    // fuzz input, at least `len <= 128` bytes long.
    unsafe { std::slice::from_raw_parts(ptr as usize as *const u8, len as usize) }.to_vec()
}

fn decode(r: &mut RawSqe) -> Net {
    let code = r.opcode();
    let mut n = Net { code, ..Net::default() };
    match code {
        IORING_OP_SOCKET => {
            n.socket = Some((r.fd(), r.off() as u32, r.len()));
            n.dest = Some(Dest::from_file_index(r.file()));
        }
        IORING_OP_BIND | IORING_OP_CONNECT => {
            n.t = Some(Tgt::decode(r));
            let (p, l) = (r.addr(), r.off());
            n.sockaddr = Some(read_sockaddr(p, l));
        }
        IORING_OP_LISTEN => {
            n.t = Some(Tgt::decode(r));
            n.len = r.len();
        }
        IORING_OP_ACCEPT => {
            n.t = Some(Tgt::decode(r));
            n.addr = r.addr();
            let lenp = r.off();
            if n.addr != 0 {
                assert_ne!(lenp, 0, "accept with an address needs its length pointer");
                // SAFETY: points at the live `SockAddrBuf`'s length word (checked by value).
                let v = unsafe { core::ptr::read(lenp as usize as *const libc::socklen_t) };
                assert_eq!(v as usize, STORAGE, "accept address length word");
            } else {
                assert_eq!(lenp, 0, "accept length pointer without an address");
            }
            n.op_flags = r.op_flags();
            n.ioprio = r.ioprio();
            n.dest = Some(Dest::from_file_index(r.file()));
        }
        IORING_OP_SHUTDOWN => {
            n.t = Some(Tgt::decode(r));
            n.len = r.len();
        }
        IORING_OP_SEND | IORING_OP_SEND_ZC | IORING_OP_RECV | IORING_OP_SENDMSG | IORING_OP_SENDMSG_ZC
        | IORING_OP_RECVMSG => {
            n.t = Some(Tgt::decode(r));
            n.addr = r.addr();
            n.len = r.len();
            n.op_flags = r.op_flags();
            n.ioprio = r.ioprio();
            let known = IORING_RECVSEND_POLL_FIRST
                | IORING_RECV_MULTISHOT
                | IORING_RECVSEND_FIXED_BUF
                | IORING_SEND_ZC_REPORT_USAGE
                | IORING_RECVSEND_BUNDLE
                | IORING_SEND_VECTORIZED;
            assert_eq!(n.ioprio & !known, 0, "unknown send/recv ioprio flags");
            if n.ioprio & IORING_RECVSEND_FIXED_BUF != 0 {
                n.buf_index = Some(r.buf());
            }
            if r.flag(IOSQE_BUFFER_SELECT) {
                n.group = Some(r.buf());
            }
            if matches!(code, IORING_OP_SEND | IORING_OP_SEND_ZC) {
                let to = r.off();
                let len = r.addr_len();
                if to != 0 {
                    n.sockaddr = Some(read_sockaddr(to, len.into()));
                } else {
                    assert_eq!(len, 0, "address length without an address");
                }
            }
            if code == IORING_OP_RECV && n.ioprio & IORING_RECV_MULTISHOT != 0 {
                n.limit = r.file();
            }
        }
        IORING_OP_RECV_ZC => {
            n.t = Some(Tgt::decode(r));
            n.len = r.len();
            n.ioprio = r.ioprio();
            n.ifq = r.file();
        }
        other => panic!("unexpected opcode {other}"),
    }
    n
}

fuzz_target!(|input: (Input, Common)| {
    let (input, common) = input;
    let mut pool = vec![0u8; POOL];
    // SAFETY: `msghdr` is plain integers and pointers; all-zero is valid.
    let mut keep = Keep { addr: None, to: None, peer: None, msg: unsafe { core::mem::zeroed() } };
    let Some((sqe, want)) = encode(&input, &mut pool, &mut keep) else { return };
    let sqe = common.apply(sqe);
    let mut r = RawSqe::new(sqe.as_raw());
    let got = decode(&mut r);
    assert_eq!(got, want, "decoded operation differs from the one encoded ({input:?})");
    assert_eq!(Common::decode(&mut r), common.canon(), "common options");
    r.finish();
});
