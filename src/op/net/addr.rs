//! Socket addresses, in rustix's vocabulary: [`SocketAddrAny`] for the addresses an operation
//! reads (bind, connect, a send's destination), [`SockAddrBuf`] (or a [`SocketAddrStorage`]
//! and a [`SocketAddrLen`] placed apart) for the ones the kernel writes (accept's peer,
//! getsockname), and one decoder, [`decode_sockaddr`], for every address the kernel hands back
//! (those two, and the source address of a received message).

use core::mem::size_of;

use rustix::net::addr::{SocketAddrLen, SocketAddrStorage};
use rustix::net::{AddressFamily, SocketAddrAny};

/// The size of [`SocketAddrStorage`] (128 bytes): the room a written address gets.
const STORAGE_LEN: usize = size_of::<SocketAddrStorage>();

/// The bytes of a storage (all initialised: it is zeroed when made and the kernel writes
/// plain bytes).
#[inline]
fn storage_bytes(storage: &SocketAddrStorage) -> &[u8; STORAGE_LEN] {
    // SAFETY: `SocketAddrStorage` is `sockaddr_storage`, `STORAGE_LEN` bytes of plain data with
    // no padding-dependent invariant; every value the crate or the kernel gives it is fully
    // initialised (`SocketAddrStorage::zeroed`, then whole bytes written by the kernel).
    unsafe { &*(storage as *const SocketAddrStorage as *const [u8; STORAGE_LEN]) }
}

/// The shortest length at which an address of `family` is complete, as rustix's decoders
/// (and `Debug`) of [`SocketAddrAny`] expect it: shorter ones are refused, never handed over.
fn min_len(family: AddressFamily) -> usize {
    match family {
        AddressFamily::INET => size_of::<libc::sockaddr_in>(),
        AddressFamily::INET6 => size_of::<libc::sockaddr_in6>(),
        AddressFamily::NETLINK => size_of::<libc::sockaddr_nl>(),
        AddressFamily::XDP => size_of::<libc::sockaddr_xdp>(),
        _ => size_of::<libc::sa_family_t>(),
    }
}

/// A socket address the kernel wrote (`bytes`: its valid length, at most 128), as a
/// [`SocketAddrAny`]: `None` for an address too short for its family, longer than the storage,
/// or (for `AF_UNIX`) a path without its terminating NUL or longer than `sun_path`.
///
/// The one decoding of addresses the kernel hands back: [`SockAddrBuf::addr`],
/// [`decode_sockaddr_at`] and [`RecvMsgOut::source`](crate::buf::RecvMsgOut::source) go through
/// it. A `SocketAddrAny` then converts to `std::net::SocketAddr` (`try_into`), to rustix's
/// `SocketAddrUnix`, and so on.
///
/// ```
/// use rustix::net::SocketAddrAny;
/// use uring::op::decode_sockaddr;
/// let a = SocketAddrAny::from("127.0.0.1:80".parse::<std::net::SocketAddr>().unwrap());
/// // SAFETY: a `SocketAddrAny` holds `addr_len()` initialised bytes at `as_ptr()`.
/// let bytes = unsafe { std::slice::from_raw_parts(a.as_ptr().cast::<u8>(), a.addr_len() as usize) };
/// assert_eq!(decode_sockaddr(bytes), Some(a));
/// assert_eq!(decode_sockaddr(&bytes[..8]), None, "cut short");
/// ```
pub fn decode_sockaddr(bytes: &[u8]) -> Option<SocketAddrAny> {
    let len = bytes.len();
    if !(size_of::<libc::sa_family_t>()..=STORAGE_LEN).contains(&len) {
        return None;
    }
    let family = AddressFamily::from_raw(u16::from_ne_bytes([bytes[0], bytes[1]]));
    if len < min_len(family) {
        return None;
    }
    if family == AddressFamily::UNIX {
        let path = core::mem::offset_of!(libc::sockaddr_un, sun_path);
        if len > size_of::<libc::sockaddr_un>() {
            return None;
        }
        // A filesystem path (not unnamed, not abstract) ends with its NUL.
        if len > path && bytes[path] != 0 && bytes[len - 1] != 0 {
            return None;
        }
    }
    // SAFETY: `bytes` holds `len` initialised bytes (2 to 128) of an address whose length
    // fits its family, as checked above, which is what rustix reads (`read` copies the `len`
    // bytes into a storage of its own).
    Some(unsafe { SocketAddrAny::read(bytes.as_ptr().cast(), len as SocketAddrLen) })
}

/// [`decode_sockaddr`] of the first `len` bytes of `storage`, as the kernel left them (with
/// [`Accept::peer_addr`](super::Accept::peer_addr) and a storage and length placed apart). A
/// `len` beyond the storage (the kernel reports the full length of a name it cut) gives `None`.
pub fn decode_sockaddr_at(storage: &SocketAddrStorage, len: SocketAddrLen) -> Option<SocketAddrAny> {
    storage_bytes(storage).get(..len as usize).and_then(decode_sockaddr)
}

/// Room for any socket address and the length the kernel writes back: where the peer of an
/// [`Accept`](super::Accept) or the name of a
/// [`GetSockName`](crate::cmd::socket::GetSockName) goes (a `sockaddr_storage` followed by its
/// `socklen_t`, the layout `getsockname(2)` callers use).
#[derive(Clone, Copy)]
#[repr(C)]
pub struct SockAddrBuf {
    storage: SocketAddrStorage,
    len: SocketAddrLen,
}

impl SockAddrBuf {
    /// An empty buffer whose length says "128 bytes of room".
    pub fn new() -> Self {
        SockAddrBuf { storage: SocketAddrStorage::zeroed(), len: STORAGE_LEN as SocketAddrLen }
    }

    /// The address length the kernel wrote back (the full length of the name, which may exceed
    /// the room).
    pub const fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether the length is 0 (no address).
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The raw bytes of the address (at most 128).
    pub fn as_bytes(&self) -> &[u8] {
        &storage_bytes(&self.storage)[..self.len().min(STORAGE_LEN)]
    }

    /// The address family (`AF_INET`, `AF_INET6`, `AF_UNIX`, ...).
    pub fn family(&self) -> AddressFamily {
        self.storage.family()
    }

    /// The address ([`decode_sockaddr_at`]): `None` when it is incomplete, or was cut.
    pub fn addr(&self) -> Option<SocketAddrAny> {
        decode_sockaddr_at(&self.storage, self.len)
    }

    /// The address as an IPv4/IPv6 socket address, if it is one.
    pub fn socket_addr(&self) -> Option<std::net::SocketAddr> {
        self.addr()?.try_into().ok()
    }

    /// The storage and the length, for encoders that place them apart
    /// ([`Accept::peer_addr`](super::Accept::peer_addr)).
    pub fn parts_mut(&mut self) -> (&mut SocketAddrStorage, &mut SocketAddrLen) {
        (&mut self.storage, &mut self.len)
    }
}

impl Default for SockAddrBuf {
    fn default() -> Self {
        Self::new()
    }
}

impl core::fmt::Debug for SockAddrBuf {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SockAddrBuf").field("len", &self.len).field("addr", &self.addr()).finish()
    }
}

/// The address `sqe.addr` names and its length, for an operation that reads it.
#[inline]
pub(super) fn addr_parts(addr: &SocketAddrAny) -> (u64, SocketAddrLen) {
    (addr.as_ptr() as u64, addr.addr_len())
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use super::*;

    /// The bytes of an address.
    fn bytes(a: &SocketAddrAny) -> Vec<u8> {
        // SAFETY: a `SocketAddrAny` holds `addr_len()` initialised bytes at `as_ptr()`.
        unsafe { core::slice::from_raw_parts(a.as_ptr().cast::<u8>(), a.addr_len() as usize) }.to_vec()
    }

    #[test]
    fn decoding() {
        let v4: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let a = SocketAddrAny::from(v4);
        let b = bytes(&a);
        assert_eq!(b.len(), size_of::<libc::sockaddr_in>());
        // Port in network order at bytes 2..4, address at 4..8.
        assert_eq!(&b[2..8], &[0x1f, 0x90, 127, 0, 0, 1]);
        assert_eq!(decode_sockaddr(&b), Some(a.clone()));
        let v6: SocketAddr = "[::1]:443".parse().unwrap();
        let b6 = bytes(&SocketAddrAny::from(v6));
        assert_eq!(b6.len(), size_of::<libc::sockaddr_in6>());
        assert_eq!(decode_sockaddr(&b6).map(|a| SocketAddr::try_from(a).unwrap()), Some(v6));
        let u = SocketAddrAny::from(rustix::net::SocketAddrUnix::new("/tmp/x.sock").unwrap());
        let bu = bytes(&u);
        assert_eq!(&bu[2..], b"/tmp/x.sock\0");
        assert_eq!(decode_sockaddr(&bu), Some(u));
        let ab = SocketAddrAny::from(rustix::net::SocketAddrUnix::new_abstract_name(b"name").unwrap());
        assert_eq!(&bytes(&ab)[2..], b"\0name");
        assert_eq!(decode_sockaddr(&bytes(&ab)), Some(ab));
        // Incomplete, cut or oversized addresses are refused, never handed to rustix (whose
        // decoders assert on them).
        assert_eq!(decode_sockaddr(&b[..8]), None);
        assert_eq!(decode_sockaddr(&b6[..27]), None);
        assert_eq!(decode_sockaddr(&bu[..bu.len() - 1]), None, "a path without its NUL");
        assert_eq!(decode_sockaddr(&[1]), None);
        assert_eq!(decode_sockaddr(&[0; 129]), None);
        let mut long_unix = [0u8; 112];
        long_unix[..2].copy_from_slice(&(libc::AF_UNIX as u16).to_ne_bytes());
        assert_eq!(decode_sockaddr(&long_unix), None, "longer than sockaddr_un");
        // Any other family is kept as it is.
        let other = [42, 0, 1, 2, 3];
        assert_eq!(decode_sockaddr(&other).map(|a| bytes(&a)), Some(other.to_vec()));
        // Whatever the bytes, decoding and formatting never panic.
        for family in [libc::AF_INET, libc::AF_INET6, libc::AF_UNIX, libc::AF_NETLINK, libc::AF_XDP, 0, 99] {
            for len in 0..=130 {
                let mut raw = [0xffu8; 130];
                raw[..2].copy_from_slice(&(family as u16).to_ne_bytes());
                if let Some(a) = decode_sockaddr(&raw[..len]) {
                    let _ = format!("{a:?}");
                    let _ = SocketAddr::try_from(a.clone());
                    let _ = rustix::net::SocketAddrUnix::try_from(a);
                }
            }
        }
    }

    #[test]
    fn buffer() {
        let mut buf = SockAddrBuf::new();
        assert_eq!((buf.len(), buf.is_empty(), buf.family()), (128, false, AddressFamily::UNSPEC));
        let a = SocketAddrAny::from("127.0.0.1:1".parse::<SocketAddr>().unwrap());
        let b = bytes(&a);
        let (storage, len) = buf.parts_mut();
        // SAFETY: copying the address's bytes into the (larger) storage, as the kernel would.
        unsafe {
            core::ptr::copy_nonoverlapping(b.as_ptr(), (storage as *mut SocketAddrStorage).cast::<u8>(), b.len())
        };
        *len = b.len() as SocketAddrLen;
        assert_eq!(buf.addr(), Some(a));
        assert_eq!(buf.socket_addr(), Some("127.0.0.1:1".parse().unwrap()));
        assert_eq!(buf.as_bytes(), &b[..]);
        buf.len = 3;
        assert_eq!(buf.socket_addr(), None, "a truncated address is not decoded");
        buf.len = 200;
        assert_eq!((buf.addr(), buf.as_bytes().len()), (None, 128), "a name longer than the room was cut");
        assert!(format!("{buf:?}").contains("SockAddrBuf"));
    }
}
