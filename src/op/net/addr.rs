//! Socket addresses in the kernel's form.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// A socket address in the kernel's form: a `sockaddr_storage` and the length that is valid.
///
/// Built from [`std::net::SocketAddr`] (and its V4/V6 forms), a Unix path, an abstract Unix
/// name, or raw bytes. Operations that take an address ([`Connect`](super::Connect), [`Bind`](super::Bind), [`Send::to`](super::Send::to))
/// point at it; [`Accept::peer_addr`](super::Accept::peer_addr) has the kernel write the peer's address into one.
#[derive(Clone, Copy)]
pub struct SockAddr {
    pub(super) storage: libc::sockaddr_storage,
    pub(super) len: libc::socklen_t,
}

/// The size of `sockaddr_storage` (128 bytes).
pub(super) const STORAGE_LEN: usize = core::mem::size_of::<libc::sockaddr_storage>();

impl SockAddr {
    /// An empty address with room for any family (length = capacity), to be filled in by the
    /// kernel, e.g. with [`Accept::peer_addr`](super::Accept::peer_addr).
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

    /// The valid length in bytes (after [`Accept::peer_addr`](super::Accept::peer_addr) completes: the peer address's
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
    pub(super) fn addr(&self) -> u64 {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sockaddr_forms() {
        let a = SockAddr::from(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 8080));
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
}
