//! Parsing the buffers a multishot `IORING_OP_RECVMSG` fills
//! ([`RecvMsgMultishot`](crate::op::RecvMsgMultishot)): a decoder of what the kernel wrote into a
//! selected buffer, so it lives with buffer selection (the encoders are in [`op`](crate::op)).
//!
//! Each buffer holds, in order: a `struct io_uring_recvmsg_out` header (16 bytes), the space
//! reserved for the source address (`msg_namelen` bytes of the `msghdr` the operation was given),
//! the space reserved for control messages (its `msg_controllen` bytes), then the payload.
//! [`RecvMsgOut::parse`] checks every length against the buffer, so no input can make it read out
//! of bounds or panic; it mirrors liburing's `io_uring_recvmsg_validate`, `io_uring_recvmsg_name`,
//! `io_uring_recvmsg_cmsg_firsthdr`/`nexthdr`, `io_uring_recvmsg_payload` and
//! `io_uring_recvmsg_payload_length` (`io_uring_recvmsg_out(3)`, Linux 6.0).

use std::net::SocketAddr;

use rustix::net::{ReturnFlags, SocketAddrAny};
use uring_uapi::io_uring_recvmsg_out;

use crate::op::decode_sockaddr;

/// The size of the `io_uring_recvmsg_out` header.
const HEADER_LEN: usize = core::mem::size_of::<io_uring_recvmsg_out>();

/// Reads a native-endian `u32` at `at` (the caller checked the bounds).
fn u32_at(buf: &[u8], at: usize) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&buf[at..at + 4]);
    u32::from_ne_bytes(b)
}

/// One filled buffer of a multishot `recvmsg`, split into its parts.
/// Its layout is the kernel's `struct io_uring_recvmsg_out` (multishot `IORING_OP_RECVMSG`, Linux
/// 6.0; liburing's `io_uring_recvmsg_validate(3)` and companions).
#[derive(Debug, Clone, Copy)]
pub struct RecvMsgOut<'a> {
    header: io_uring_recvmsg_out,
    name_reserved: u32,
    name: &'a [u8],
    control: &'a [u8],
    payload: &'a [u8],
}

impl<'a> RecvMsgOut<'a> {
    /// Splits `buf`, the buffer the completion names, into header, address, control data and
    /// payload. `msghdr_namelen` and `msghdr_controllen` are the `msg_namelen` and
    /// `msg_controllen` of the `msghdr` the operation was submitted with (the space the kernel
    /// reserved in every buffer).
    ///
    /// Pass the buffer cut to the completion's result (`&buf[..res]`); the whole buffer also
    /// works, as the payload is bounded by the header's `payloadlen`.
    ///
    /// Refuses ([`Error::MemoryTooSmall`](crate::Error::MemoryTooSmall)) a buffer shorter than
    /// the header plus the reserved address and control space, as
    /// `io_uring_recvmsg_validate` does.
    /// Multishot `recvmsg` arrived in Linux 6.0.
    pub fn parse(buf: &'a [u8], msghdr_namelen: u32, msghdr_controllen: u32) -> crate::Result<Self> {
        let needed = HEADER_LEN as u64 + u64::from(msghdr_namelen) + u64::from(msghdr_controllen);
        if needed > buf.len() as u64 {
            return Err(crate::Error::MemoryTooSmall {
                needed: usize::try_from(needed).unwrap_or(usize::MAX),
                provided: buf.len(),
            });
        }
        // In bounds from here: `needed <= buf.len()`, so every offset below fits `usize`.
        let header = io_uring_recvmsg_out {
            namelen: u32_at(buf, 0),
            controllen: u32_at(buf, 4),
            payloadlen: u32_at(buf, 8),
            flags: u32_at(buf, 12),
        };
        let name_start = HEADER_LEN;
        let control_start = name_start + msghdr_namelen as usize;
        let payload_start = control_start + msghdr_controllen as usize;

        let name_written = header.namelen.min(msghdr_namelen) as usize;
        let control_written = header.controllen.min(msghdr_controllen) as usize;
        let rest = &buf[payload_start..];
        let payload_len = rest.len().min(usize::try_from(header.payloadlen).unwrap_or(usize::MAX));

        Ok(RecvMsgOut {
            header,
            name_reserved: msghdr_namelen,
            name: &buf[name_start..name_start + name_written],
            control: &buf[control_start..control_start + control_written],
            payload: &rest[..payload_len],
        })
    }

    /// The header as the kernel wrote it.
    pub const fn header(&self) -> io_uring_recvmsg_out {
        self.header
    }

    /// The source address bytes the kernel wrote: the address, cut to the reserved space
    /// (`io_uring_recvmsg_name`).
    pub const fn name(&self) -> &'a [u8] {
        self.name
    }

    /// The source address's full length (the header's `namelen`), which exceeds
    /// [`name`](Self::name)`.len()` when the reserved space was too small.
    pub const fn name_len(&self) -> u32 {
        self.header.namelen
    }

    /// Whether the source address did not fit the reserved space.
    pub const fn name_truncated(&self) -> bool {
        self.header.namelen > self.name_reserved
    }

    /// The source address, if it is complete (not truncated; decoded by
    /// [`decode_sockaddr`]).
    pub fn source(&self) -> Option<SocketAddrAny> {
        if self.name_truncated() {
            return None;
        }
        decode_sockaddr(self.name)
    }

    /// The source address as a std address, if it is a complete IPv4 or IPv6 one.
    pub fn source_addr(&self) -> Option<SocketAddr> {
        self.source()?.try_into().ok()
    }

    /// The control data the kernel wrote (the header's `controllen` bytes, within the reserved
    /// space).
    pub const fn control(&self) -> &'a [u8] {
        self.control
    }

    /// Whether control data was dropped for lack of space (`MSG_CTRUNC`).
    pub fn control_truncated(&self) -> bool {
        self.flags().contains(ReturnFlags::CTRUNC)
    }

    /// The control messages, bounds-checked (`io_uring_recvmsg_cmsg_firsthdr` /
    /// `io_uring_recvmsg_cmsg_nexthdr`). Iteration stops at the first malformed header.
    pub const fn cmsgs(&self) -> CmsgIter<'a> {
        CmsgIter { rest: self.control }
    }

    /// The payload bytes in the buffer (`io_uring_recvmsg_payload`, with the length of
    /// `io_uring_recvmsg_payload_length` bounded by the header's `payloadlen`).
    pub const fn payload(&self) -> &'a [u8] {
        self.payload
    }

    /// The header's `payloadlen`: the bytes received, or with `MSG_TRUNC` requested, the
    /// datagram's full length (which can exceed [`payload`](Self::payload)`.len()`).
    pub const fn payload_len(&self) -> u32 {
        self.header.payloadlen
    }

    /// Whether the payload was cut short: `MSG_TRUNC` is reported, or the header announces more
    /// than the buffer holds.
    pub fn payload_truncated(&self) -> bool {
        self.flags().contains(ReturnFlags::TRUNC) || self.header.payloadlen as usize > self.payload.len()
    }

    /// The message's `msg_flags`.
    pub const fn flags(&self) -> ReturnFlags {
        ReturnFlags::from_bits_retain(self.header.flags)
    }
}

/// One control message (`struct cmsghdr` and its data).
/// The walk of `cmsg(3)` (`CMSG_FIRSTHDR`, `CMSG_NXTHDR`, `CMSG_DATA`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cmsg<'a> {
    level: i32,
    ty: i32,
    data: &'a [u8],
}

impl<'a> Cmsg<'a> {
    /// `cmsg_level` (`SOL_SOCKET`, `IPPROTO_IP`, ...).
    pub const fn level(&self) -> i32 {
        self.level
    }

    /// `cmsg_type` (`SCM_RIGHTS`, `IP_PKTINFO`, ...).
    pub const fn cmsg_type(&self) -> i32 {
        self.ty
    }

    /// The data after the header (`cmsg_len` minus the header; `CMSG_DATA`).
    pub const fn data(&self) -> &'a [u8] {
        self.data
    }
}

/// The kernel's `struct cmsghdr`: `size_t cmsg_len; int cmsg_level; int cmsg_type;`.
const CMSG_LEN_SIZE: usize = core::mem::size_of::<usize>();
const CMSG_HDR: usize = CMSG_LEN_SIZE + 8;
/// `CMSG_ALIGN`: control messages are aligned to `sizeof(long)`.
const CMSG_ALIGN: usize = core::mem::size_of::<usize>();

/// Iterator over the control messages of a [`RecvMsgOut`].
///
/// Every length is checked against the control data: a header shorter than `cmsghdr`, or one
/// claiming more bytes than remain, ends the iteration.
/// The walk of `cmsg(3)` (`CMSG_NXTHDR`), with lengths checked.
#[derive(Debug, Clone)]
pub struct CmsgIter<'a> {
    rest: &'a [u8],
}

impl<'a> CmsgIter<'a> {
    /// Iterates over raw control data (a `msg_control` buffer as the kernel filled it, starting
    /// at the first `cmsghdr`).
    /// As `cmsg(3)`'s `CMSG_FIRSTHDR` over `msg_control`.
    pub const fn new(control: &'a [u8]) -> Self {
        CmsgIter { rest: control }
    }
}

impl<'a> Iterator for CmsgIter<'a> {
    type Item = Cmsg<'a>;

    fn next(&mut self) -> Option<Cmsg<'a>> {
        let rest = core::mem::take(&mut self.rest);
        if rest.len() < CMSG_HDR {
            return None;
        }
        let mut len_bytes = [0u8; CMSG_LEN_SIZE];
        len_bytes.copy_from_slice(&rest[..CMSG_LEN_SIZE]);
        let cmsg_len = usize::from_ne_bytes(len_bytes);
        if cmsg_len < CMSG_HDR || cmsg_len > rest.len() {
            return None;
        }
        let level = u32_at(rest, CMSG_LEN_SIZE) as i32;
        let ty = u32_at(rest, CMSG_LEN_SIZE + 4) as i32;
        let data = &rest[CMSG_HDR..cmsg_len];
        // The next header starts at the aligned end (CMSG_NXTHDR); past the data, nothing.
        let advance = cmsg_len.checked_next_multiple_of(CMSG_ALIGN).unwrap_or(usize::MAX);
        self.rest = rest.get(advance..).unwrap_or(&[]);
        Some(Cmsg { level, ty, data })
    }
}

impl core::iter::FusedIterator for CmsgIter<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    /// Appends a kernel-layout cmsghdr with `data`, padded to the alignment.
    fn push_cmsg(out: &mut Vec<u8>, cmsg_len: usize, level: i32, ty: i32, data: &[u8]) {
        out.extend_from_slice(&cmsg_len.to_ne_bytes());
        out.extend_from_slice(&level.to_ne_bytes());
        out.extend_from_slice(&ty.to_ne_bytes());
        out.extend_from_slice(data);
        while out.len() % CMSG_ALIGN != 0 {
            out.push(0);
        }
    }

    fn header(namelen: u32, controllen: u32, payloadlen: u32, flags: u32) -> Vec<u8> {
        let mut v = Vec::new();
        for x in [namelen, controllen, payloadlen, flags] {
            v.extend_from_slice(&x.to_ne_bytes());
        }
        v
    }

    fn sockaddr_in_bytes(port: u16) -> Vec<u8> {
        let a = SocketAddrAny::from(std::net::SocketAddrV4::new(std::net::Ipv4Addr::LOCALHOST, port));
        // SAFETY: a `SocketAddrAny` holds `addr_len()` initialised bytes at `as_ptr()`.
        unsafe { core::slice::from_raw_parts(a.as_ptr().cast::<u8>(), a.addr_len() as usize) }.to_vec()
    }

    /// A buffer as the kernel lays it out: header, name area, control area, payload.
    fn build(
        hdr: Vec<u8>,
        name: &[u8],
        name_res: usize,
        control: &[u8],
        control_res: usize,
        payload: &[u8],
    ) -> Vec<u8> {
        let mut v = hdr;
        let mut n = name.to_vec();
        n.resize(name_res, 0xAA);
        v.extend_from_slice(&n);
        let mut c = control.to_vec();
        c.resize(control_res, 0xBB);
        v.extend_from_slice(&c);
        v.extend_from_slice(payload);
        v
    }

    #[test]
    fn well_formed() {
        let name = sockaddr_in_bytes(4242);
        let mut control = Vec::new();
        push_cmsg(&mut control, CMSG_HDR + 12, libc::IPPROTO_IP, libc::IP_PKTINFO, &[1; 12]);
        push_cmsg(&mut control, CMSG_HDR + 4, libc::SOL_SOCKET, libc::SCM_RIGHTS, &7i32.to_ne_bytes());
        let buf = build(header(16, control.len() as u32, 5, 0), &name, 16, &control, 64, b"hello");
        let out = RecvMsgOut::parse(&buf, 16, 64).unwrap();
        assert_eq!(out.name(), &name[..]);
        assert!(!out.name_truncated());
        assert_eq!(out.source_addr(), Some("127.0.0.1:4242".parse().unwrap()));
        assert_eq!(out.control(), &control[..]);
        let cmsgs: Vec<_> = out.cmsgs().collect();
        assert_eq!(cmsgs.len(), 2);
        assert_eq!(
            (cmsgs[0].level(), cmsgs[0].cmsg_type(), cmsgs[0].data()),
            (libc::IPPROTO_IP, libc::IP_PKTINFO, &[1u8; 12][..])
        );
        assert_eq!((cmsgs[1].level(), cmsgs[1].cmsg_type()), (libc::SOL_SOCKET, libc::SCM_RIGHTS));
        assert_eq!(cmsgs[1].data(), &7i32.to_ne_bytes());
        assert_eq!(out.payload(), b"hello");
        assert_eq!(out.payload_len(), 5);
        assert!(!out.payload_truncated());
        assert!(!out.control_truncated());
        assert_eq!(out.flags(), ReturnFlags::empty());
        // The whole buffer (longer than the result) gives the same payload.
        let mut long = buf.clone();
        long.extend_from_slice(&[0xCC; 32]);
        assert_eq!(RecvMsgOut::parse(&long, 16, 64).unwrap().payload(), b"hello");
    }

    #[test]
    fn no_name_no_control() {
        let buf = build(header(16, 0, 3, 0), &[], 0, &[], 0, b"abc");
        let out = RecvMsgOut::parse(&buf, 0, 0).unwrap();
        assert!(out.name().is_empty());
        assert!(out.name_truncated(), "a 16-byte address did not fit 0 reserved bytes");
        assert_eq!(out.source_addr(), None);
        assert_eq!(out.cmsgs().count(), 0);
        assert_eq!(out.payload(), b"abc");
    }

    #[test]
    fn truncated_name_control_payload() {
        // IPv6 source (28 bytes) into 16 reserved bytes; control truncated; datagram of 100
        // bytes of which 10 fit.
        let name = [0x11u8; 16];
        let flags = (libc::MSG_TRUNC | libc::MSG_CTRUNC) as u32;
        let buf = build(header(28, 0, 100, flags), &name, 16, &[], 8, &[9; 10]);
        let out = RecvMsgOut::parse(&buf, 16, 8).unwrap();
        assert_eq!(out.name(), &name[..]);
        assert_eq!(out.name_len(), 28);
        assert!(out.name_truncated());
        assert_eq!(out.source_addr(), None);
        assert!(out.control_truncated());
        assert!(out.control().is_empty());
        assert_eq!(out.payload(), &[9; 10]);
        assert_eq!(out.payload_len(), 100);
        assert!(out.payload_truncated());
        assert!(out.flags().contains(ReturnFlags::TRUNC | ReturnFlags::CTRUNC));
    }

    #[test]
    fn payloadlen_beyond_buffer_without_flag() {
        let buf = build(header(0, 0, 50, 0), &[], 0, &[], 0, &[1; 4]);
        let out = RecvMsgOut::parse(&buf, 0, 0).unwrap();
        assert_eq!(out.payload(), &[1; 4]);
        assert!(out.payload_truncated());
    }

    #[test]
    fn too_short_buffers_are_refused() {
        assert!(matches!(
            RecvMsgOut::parse(&[0u8; 15], 0, 0),
            Err(crate::Error::MemoryTooSmall { needed: 16, provided: 15 })
        ));
        assert!(RecvMsgOut::parse(&[], 0, 0).is_err());
        let buf = header(0, 0, 0, 0);
        assert!(matches!(
            RecvMsgOut::parse(&buf, 1, 0),
            Err(crate::Error::MemoryTooSmall { needed: 17, provided: 16 })
        ));
        // Reserved lengths whose sum overflows 32 bits.
        assert!(RecvMsgOut::parse(&buf, u32::MAX, u32::MAX).is_err());
        assert!(RecvMsgOut::parse(&buf, 0, u32::MAX).is_err());
        // Exactly the header is fine, with an empty payload.
        let out = RecvMsgOut::parse(&buf, 0, 0).unwrap();
        assert!(out.payload().is_empty());
    }

    #[test]
    fn header_lengths_larger_than_reserved_are_clamped() {
        // The header claims a huge name and control area; only the reserved space is used.
        let buf = build(header(u32::MAX, u32::MAX, u32::MAX, 0), &[], 4, &[], 4, b"xy");
        let out = RecvMsgOut::parse(&buf, 4, 4).unwrap();
        assert_eq!(out.name().len(), 4);
        assert_eq!(out.control().len(), 4);
        assert_eq!(out.cmsgs().count(), 0, "4 bytes cannot hold a cmsghdr");
        assert_eq!(out.payload(), b"xy");
    }

    #[test]
    fn malformed_cmsgs_stop_iteration() {
        // cmsg_len smaller than the header.
        let mut c = Vec::new();
        push_cmsg(&mut c, 3, 1, 2, &[]);
        assert_eq!(CmsgIter::new(&c).count(), 0);
        // cmsg_len larger than the data.
        let mut c = Vec::new();
        push_cmsg(&mut c, CMSG_HDR + 100, 1, 2, &[0; 4]);
        assert_eq!(CmsgIter::new(&c).count(), 0);
        // cmsg_len = usize::MAX.
        let mut c = Vec::new();
        push_cmsg(&mut c, usize::MAX, 1, 2, &[0; 4]);
        assert_eq!(CmsgIter::new(&c).count(), 0);
        // A good one then a bad one: only the good one.
        let mut c = Vec::new();
        push_cmsg(&mut c, CMSG_HDR + 1, 1, 2, &[5]);
        push_cmsg(&mut c, 0, 1, 2, &[]);
        let v: Vec<_> = CmsgIter::new(&c).collect();
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].data(), &[5]);
        // A last message without its trailing padding is still complete.
        let mut c = Vec::new();
        push_cmsg(&mut c, CMSG_HDR + 1, 1, 2, &[6]);
        c.truncate(CMSG_HDR + 1);
        let v: Vec<_> = CmsgIter::new(&c).collect();
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].data(), &[6]);
        // The iterator is fused.
        let mut it = CmsgIter::new(&c);
        assert!(it.next().is_some());
        assert!(it.next().is_none());
        assert!(it.next().is_none());
    }

    /// Arbitrary bytes and reserved lengths never panic.
    #[test]
    fn arbitrary_input_never_panics() {
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut rand = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..20_000 {
            let len = (rand() % 160) as usize;
            let mut buf: Vec<u8> = (0..len).map(|_| rand() as u8).collect();
            // Often plant small, plausible lengths so the deeper paths run.
            if len >= 16 && rand() % 2 == 0 {
                let small = |x: u64| (x % 80) as u32;
                buf[..16].copy_from_slice(&header(small(rand()), small(rand()), small(rand()), rand() as u32));
            }
            let pick = |x: u64| match x % 4 {
                0 => 0,
                1 => (x >> 8) as u32 % 64,
                2 => u32::MAX - (x >> 8) as u32 % 4,
                _ => (x >> 8) as u32,
            };
            let (nl, cl) = (pick(rand()), pick(rand()));
            if let Ok(out) = RecvMsgOut::parse(&buf, nl, cl) {
                assert!(out.name().len() <= nl as usize);
                assert!(out.control().len() <= cl as usize);
                let total = 16 + nl as usize + cl as usize + out.payload().len();
                assert!(total <= buf.len());
                for c in out.cmsgs() {
                    assert!(c.data().len() <= out.control().len());
                }
                let _ = (out.source_addr(), out.payload_truncated(), out.name_truncated());
            }
            for c in CmsgIter::new(&buf) {
                assert!(c.data().len() <= buf.len());
            }
        }
    }
}
