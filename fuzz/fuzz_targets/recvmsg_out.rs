//! `RecvMsgOut::parse` (the buffers of a multishot recvmsg) on arbitrary bytes with arbitrary
//! reserved name / control lengths: never panics; refuses exactly the buffers shorter than the
//! header plus the reserved space, with the sizes in the error; every slice it returns lies
//! inside the input and equals what the layout (header, name space, control space, payload)
//! says; truncation flags agree with the header; control-message iteration terminates, stays
//! inside the control data, and matches an independent `CMSG_FIRSTHDR`/`CMSG_NXTHDR` walk.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use rustix::net::ReturnFlags;
use uring::buf::{CmsgIter, RecvMsgOut};
use uring::op;

/// A reserved length: usually small (so parses succeed), sometimes anything.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Len {
    Small(u8),
    Any(u32),
}

impl Len {
    fn get(self) -> u32 {
        match self {
            Len::Small(v) => v as u32,
            Len::Any(v) => v,
        }
    }
}

#[derive(Arbitrary, Debug)]
struct Input {
    namelen: Len,
    controllen: Len,
    /// Optionally overwrite the header with these values (so lengths near the reserved sizes
    /// are common), then the buffer's raw bytes.
    header: Option<[u32; 4]>,
    /// Control messages to lay out in the control space (level, type, data length, declared
    /// length adjustment), so well-formed and slightly malformed chains both occur.
    cmsgs: Vec<(i32, i32, u8, i8)>,
    bytes: Vec<u8>,
}

const HDR: usize = 16;
const CMSG_HDR: usize = core::mem::size_of::<usize>() + 8;
const ALIGN: usize = core::mem::size_of::<usize>();

#[track_caller]
fn inside(part: &[u8], whole: &[u8]) {
    let (p, w) = (part.as_ptr() as usize, whole.as_ptr() as usize);
    assert!(p >= w && p + part.len() <= w + whole.len(), "slice outside the input");
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes(b[at..at + 4].try_into().unwrap())
}

/// The reference walk: `CMSG_FIRSTHDR` / `CMSG_NXTHDR` over `control`, stopping at the first
/// header that does not fit.
fn reference_cmsgs(control: &[u8]) -> Vec<(i32, i32, usize, usize)> {
    let mut out = Vec::new();
    let mut at = 0usize;
    while control.len() - at >= CMSG_HDR {
        let len = usize::from_ne_bytes(control[at..at + ALIGN].try_into().unwrap());
        if len < CMSG_HDR || len > control.len() - at {
            break;
        }
        let level = u32_at(control, at + ALIGN) as i32;
        let ty = u32_at(control, at + ALIGN + 4) as i32;
        out.push((level, ty, at + CMSG_HDR, len - CMSG_HDR));
        // CMSG_ALIGN(len); past the end of the data: stop.
        match len.checked_next_multiple_of(ALIGN) {
            Some(step) if step <= control.len() - at => at += step,
            _ => break,
        }
    }
    out
}

fn check_cmsgs(iter: CmsgIter<'_>, control: &[u8]) {
    let want = reference_cmsgs(control);
    let mut got = Vec::new();
    // Every message consumes at least a header, so a terminating iterator yields at most this.
    let bound = control.len() / CMSG_HDR + 1;
    for (i, c) in iter.enumerate() {
        assert!(i < bound, "cmsg iteration does not terminate");
        inside(c.data(), control);
        let off = c.data().as_ptr() as usize - control.as_ptr() as usize;
        got.push((c.level(), c.cmsg_type(), off, c.data().len()));
    }
    assert_eq!(got, want, "control messages differ from the CMSG_NXTHDR walk");
}

fuzz_target!(|input: Input| {
    let nl = input.namelen.get();
    let cl = input.controllen.get();
    let mut buf = input.bytes;
    if let Some(h) = input.header {
        if buf.len() < HDR {
            buf.resize(HDR, 0);
        }
        for (i, v) in h.iter().enumerate() {
            buf[i * 4..i * 4 + 4].copy_from_slice(&v.to_ne_bytes());
        }
    }
    // Lay out control messages in the control space when it fits in the buffer.
    let ctl_start = HDR as u64 + nl as u64;
    if !input.cmsgs.is_empty() && ctl_start + cl as u64 <= buf.len() as u64 {
        let (s, e) = (ctl_start as usize, ctl_start as usize + cl as usize);
        let mut at = s;
        for &(level, ty, dlen, adj) in input.cmsgs.iter().take(8) {
            let len = (CMSG_HDR + dlen as usize) as i64 + adj as i64;
            if at + CMSG_HDR > e {
                break;
            }
            buf[at..at + ALIGN].copy_from_slice(&(len.max(0) as usize).to_ne_bytes());
            buf[at + ALIGN..at + ALIGN + 4].copy_from_slice(&level.to_ne_bytes());
            buf[at + ALIGN + 4..at + CMSG_HDR].copy_from_slice(&ty.to_ne_bytes());
            at = (at + (CMSG_HDR + dlen as usize).next_multiple_of(ALIGN)).min(e);
        }
    }
    let buf = &buf[..];

    // Any bytes are a control-message chain too.
    check_cmsgs(CmsgIter::new(buf), buf);

    let needed = HDR as u64 + nl as u64 + cl as u64;
    let out = match RecvMsgOut::parse(buf, nl, cl) {
        Err(uring::Error::MemoryTooSmall { needed: n, provided }) => {
            assert!(needed > buf.len() as u64, "refused a buffer that holds the reserved space");
            assert_eq!((n as u64, provided), (needed, buf.len()));
            return;
        }
        Err(e) => panic!("unexpected error {e:?}"),
        Ok(out) => out,
    };
    assert!(needed <= buf.len() as u64, "accepted a buffer shorter than the reserved space");
    let (nl, cl) = (nl as usize, cl as usize);
    let h = out.header();
    assert_eq!(
        [h.namelen, h.controllen, h.payloadlen, h.flags],
        [u32_at(buf, 0), u32_at(buf, 4), u32_at(buf, 8), u32_at(buf, 12)]
    );

    let name = out.name();
    inside(name, buf);
    assert_eq!(name, &buf[HDR..HDR + (h.namelen as usize).min(nl)]);
    assert_eq!(out.name_len(), h.namelen);
    assert_eq!(out.name_truncated(), h.namelen as usize > nl);

    let control = out.control();
    inside(control, buf);
    let cs = HDR + nl;
    assert_eq!(control, &buf[cs..cs + (h.controllen as usize).min(cl)]);
    assert_eq!(out.control_truncated(), h.flags & libc::MSG_CTRUNC as u32 != 0);

    let payload = out.payload();
    inside(payload, buf);
    let rest = &buf[cs + cl..];
    assert_eq!(payload, &rest[..rest.len().min(h.payloadlen as usize)]);
    assert_eq!(out.payload_len(), h.payloadlen);
    assert_eq!(out.payload_truncated(), h.flags & libc::MSG_TRUNC as u32 != 0 || h.payloadlen as usize > payload.len());
    assert_eq!(out.flags(), ReturnFlags::from_bits_retain(h.flags));

    match out.source() {
        Some(a) => {
            assert!(!out.name_truncated() && !name.is_empty());
            // SAFETY: a `SocketAddrAny` holds `addr_len()` initialised bytes at `as_ptr()`.
            let bytes = unsafe { std::slice::from_raw_parts(a.as_ptr().cast::<u8>(), a.addr_len() as usize) };
            assert_eq!(bytes, name);
            assert_eq!(Some(a), op::decode_sockaddr(name));
        }
        None => assert!(out.name_truncated() || op::decode_sockaddr(name).is_none()),
    }
    let _ = out.source_addr();
    let _ = format!("{out:?}");

    check_cmsgs(out.cmsgs(), control);
});
