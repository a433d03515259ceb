//! Shared helpers of the SQE encoder targets: a byte-level SQE reader that consumes the fields a
//! decoder reads (so whatever is left must be zero), arbitrary targets / destinations / buffer
//! groups, the common `user_data` / flags / personality options, and real memory for the
//! pointer arguments (a small pool, C strings, and one large lazily-reserved mapping for the
//! "longer than u32::MAX" branches).
#![allow(dead_code)]

use std::ffi::CString;
use std::io::{IoSlice, IoSliceMut};
use std::sync::OnceLock;

use arbitrary::Arbitrary;
use uring::op::{BufferGroup, DestSlot, Target};
use uring::uapi::*;
use uring::{SafeSqe, Sqe, SqeFlags};

/// A copy of the 64 bytes of an SQE. Every `take_*` returns a field, read at its kernel ABI
/// offset (not through the crate's unions), and zeroes it; [`RawSqe::finish`] then checks that
/// nothing else was set.
pub struct RawSqe {
    b: [u8; 64],
}

impl RawSqe {
    pub fn new(sqe: &io_uring_sqe) -> Self {
        const { assert!(core::mem::size_of::<io_uring_sqe>() == 64) };
        // SAFETY: `io_uring_sqe` is 64 bytes of plain integers (every union member is an
        // integer or integer array), and encoders start from an all-zero entry, so every byte
        // is initialised.
        let b = unsafe { core::ptr::read(sqe as *const io_uring_sqe as *const [u8; 64]) };
        RawSqe { b }
    }

    fn take<const N: usize>(&mut self, at: usize) -> [u8; N] {
        let mut out = [0u8; N];
        out.copy_from_slice(&self.b[at..at + N]);
        self.b[at..at + N].fill(0);
        out
    }

    pub fn opcode(&mut self) -> u8 {
        self.take::<1>(0)[0]
    }
    /// The `IOSQE_*` bits of `mask`, consumed.
    pub fn flag_bits(&mut self, mask: u8) -> u8 {
        let v = self.b[1] & mask;
        self.b[1] &= !mask;
        v
    }
    pub fn flag(&mut self, bit: u8) -> bool {
        self.flag_bits(bit) != 0
    }
    pub fn ioprio(&mut self) -> u16 {
        u16::from_ne_bytes(self.take(2))
    }
    pub fn fd(&mut self) -> i32 {
        i32::from_ne_bytes(self.take(4))
    }
    /// Bytes 8..16: `off` / `addr2`.
    pub fn off(&mut self) -> u64 {
        u64::from_ne_bytes(self.take(8))
    }
    /// Bytes 8..12: `cmd_op`.
    pub fn cmd_op(&mut self) -> u32 {
        u32::from_ne_bytes(self.take(8))
    }
    /// Bytes 16..24: `addr` / `splice_off_in`.
    pub fn addr(&mut self) -> u64 {
        u64::from_ne_bytes(self.take(16))
    }
    pub fn len(&mut self) -> u32 {
        u32::from_ne_bytes(self.take(24))
    }
    /// Bytes 28..32: the per-opcode flag word.
    pub fn op_flags(&mut self) -> u32 {
        u32::from_ne_bytes(self.take(28))
    }
    pub fn user_data(&mut self) -> u64 {
        u64::from_ne_bytes(self.take(32))
    }
    /// Bytes 40..42: `buf_index` / `buf_group`.
    pub fn buf(&mut self) -> u16 {
        u16::from_ne_bytes(self.take(40))
    }
    pub fn personality(&mut self) -> u16 {
        u16::from_ne_bytes(self.take(42))
    }
    /// Bytes 44..48: `file_index` / `splice_fd_in` / `optlen` / `zcrx_ifq_idx`.
    pub fn file(&mut self) -> u32 {
        u32::from_ne_bytes(self.take(44))
    }
    /// Bytes 44..46: `addr_len` (its padding must stay zero).
    pub fn addr_len(&mut self) -> u16 {
        u16::from_ne_bytes(self.take(44))
    }
    /// Byte 44: `write_stream` (its padding must stay zero).
    pub fn write_stream(&mut self) -> u8 {
        self.take::<1>(44)[0]
    }
    /// Bytes 48..56: `addr3` / `attr_ptr` / `optval`.
    pub fn addr3(&mut self) -> u64 {
        u64::from_ne_bytes(self.take(48))
    }
    /// Bytes 56..64: `__pad2` / `attr_type_mask`.
    pub fn pad2(&mut self) -> u64 {
        u64::from_ne_bytes(self.take(56))
    }
    /// Bytes 48..64: the 16-byte `cmd` area.
    pub fn cmd(&mut self) -> [u8; 16] {
        self.take(48)
    }

    /// Every field not consumed must be zero.
    #[track_caller]
    pub fn finish(self) {
        let stray: Vec<(usize, u8)> = self.b.iter().copied().enumerate().filter(|&(_, v)| v != 0).collect();
        assert!(stray.is_empty(), "SQE bytes set that the operation does not use: {stray:?} (offset, value)");
    }
}

/// The options every entry carries.
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Common {
    pub user_data: u64,
    /// `IOSQE_*` flags added by the caller; `FIXED_FILE` and `BUFFER_SELECT` are left to the
    /// encoders (they are what the decoder reads back as the target and the group).
    pub flags: u8,
    pub personality: u16,
}

pub const ENCODER_FLAGS: u8 = IOSQE_FIXED_FILE | IOSQE_BUFFER_SELECT;

impl Common {
    pub fn canon(mut self) -> Self {
        self.flags &= !ENCODER_FLAGS;
        self
    }
    pub fn apply(self, sqe: Sqe) -> Sqe {
        let c = self.canon();
        sqe.user_data(c.user_data).flags(SqeFlags::from_bits_retain(c.flags)).personality(c.personality)
    }
    pub fn apply_safe(self, sqe: SafeSqe) -> Sqe {
        let c = self.canon();
        sqe.user_data(c.user_data).flags(SqeFlags::from_bits_retain(c.flags)).personality(c.personality).into_sqe()
    }
    /// Reads the options back (after the decoder consumed the encoder's own flag bits).
    pub fn decode(r: &mut RawSqe) -> Self {
        Common { user_data: r.user_data(), flags: r.flag_bits(!ENCODER_FLAGS), personality: r.personality() }
    }
}

/// The file an operation targets.
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tgt {
    Fd(i32),
    Fixed(u32),
}

impl Tgt {
    pub fn target(self) -> Target {
        match self {
            // SAFETY: the targets that use this only encode entries and decode them again; none
            // is ever submitted, so the number is never looked up as a file.
            Tgt::Fd(fd) => unsafe { Target::from_raw_fd(fd) },
            Tgt::Fixed(s) => Target::fixed(s),
        }
    }
    /// From `sqe.fd` and `IOSQE_FIXED_FILE`.
    pub fn decode(r: &mut RawSqe) -> Self {
        let fixed = r.flag(IOSQE_FIXED_FILE);
        let fd = r.fd();
        if fixed {
            Tgt::Fixed(fd as u32)
        } else {
            Tgt::Fd(fd)
        }
    }
}

/// Where a created file goes.
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dest {
    Fd,
    Fixed(u32),
    Alloc,
}

impl Dest {
    pub fn slot(self) -> DestSlot {
        match self {
            Dest::Fd => DestSlot::Fd,
            Dest::Fixed(n) => DestSlot::Fixed(n),
            Dest::Alloc => DestSlot::Alloc,
        }
    }
    /// The kernel's reading of `sqe.file_index`: 0 a normal fd, `IORING_FILE_INDEX_ALLOC` any
    /// free slot, otherwise slot `file_index - 1`.
    pub fn from_file_index(v: u32) -> Self {
        match v {
            0 => Dest::Fd,
            IORING_FILE_INDEX_ALLOC => Dest::Alloc,
            n => Dest::Fixed(n - 1),
        }
    }
    /// What `Fixed(n)` encodes: `n + 1`, except that slots too large to exist (tables hold at
    /// most 2^20 files) are pinned below the special values, to `u32::MAX - 1`, which the kernel
    /// refuses (it once wrapped to 0, "a plain fd", and `IORING_FILE_INDEX_ALLOC`).
    pub fn canon(self) -> Self {
        match self {
            Dest::Fixed(n) if n >= u32::MAX - 1 => Dest::Fixed(u32::MAX - 2),
            d => d,
        }
    }
}

/// A buffer group given to an encoder: an arbitrary id, and whether it claims to be
/// kernel-managed (which every user-space encoder must refuse).
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Group {
    pub bgid: u16,
    pub kernel_managed: bool,
}

impl BufferGroup for Group {
    fn bgid(&self) -> u16 {
        self.bgid
    }
    fn is_kernel_managed(&self) -> bool {
        self.kernel_managed
    }
}

/// An encoder refused its arguments with a typed client-side error.
#[track_caller]
pub fn assert_invalid<T: core::fmt::Debug>(r: uring::Result<T>) {
    match r {
        Err(uring::Error::InvalidArgument { .. }) => {}
        other => panic!("expected Error::InvalidArgument, got {other:?}"),
    }
}

/// What an encoder that may refuse its arguments gave: `None` when the arguments must be
/// `refused` (after checking that they were, with a typed error), otherwise the result, which
/// must be `Ok` (`what` says what is accepted).
#[track_caller]
pub fn accepted<T: core::fmt::Debug>(r: uring::Result<T>, refused: bool, what: &str) -> Option<T> {
    if refused {
        assert_invalid(r);
        return None;
    }
    Some(r.expect(what))
}

/// The size of the small byte pool pointer arguments are cut from.
pub const POOL: usize = 4096;

/// A piece of the byte pool (or, with `huge`, of the large mapping, longer than `u32::MAX`).
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: u16,
    pub len: u16,
    pub huge: bool,
}

/// C strings for path and name arguments.
pub struct Paths(Vec<CString>);

impl Paths {
    pub fn new() -> Self {
        Paths(
            ["", "a", "/tmp/uring-fuzz", "dir/sub/file.txt", "user.name", "trusted.x"]
                .iter()
                .map(|s| CString::new(*s).unwrap())
                .collect(),
        )
    }

    pub fn get(&self, sel: u8) -> &std::ffi::CStr {
        &self.0[sel as usize % self.0.len()]
    }

    pub fn addr(&self, sel: u8) -> u64 {
        self.get(sel).as_ptr() as u64
    }
}

impl Default for Paths {
    fn default() -> Self {
        Self::new()
    }
}

/// The slice `span` names: inside `pool`, or (with `huge`, when the large mapping exists)
/// `u32::MAX + 1 + len` bytes of the large mapping.
pub fn span_mut(pool: &mut [u8], span: Span) -> &mut [u8] {
    if span.huge {
        // SAFETY: bytes are valid for all-zero; the length fits the mapping; targets keep one
        // slice of the mapping alive at a time.
        if let Some(s) = unsafe { huge_slice::<u8>(u32::MAX as usize + 1 + span.len as usize) } {
            return s;
        }
    }
    let start = span.start as usize % pool.len();
    let len = (span.len as usize).min(pool.len() - start);
    &mut pool[start..start + len]
}

/// Bytes of the large mapping: room for `u32::MAX + 1` 16-byte iovecs and a little more.
pub const HUGE_LEN: usize = (1usize << 32) * 16 + (1 << 20);

/// A large private, `MAP_NORESERVE` mapping that is never touched (so costs no memory), used
/// for slices longer than `u32::MAX` elements. `None` if the system refuses it.
pub fn huge() -> Option<usize> {
    static HUGE: OnceLock<Option<usize>> = OnceLock::new();
    *HUGE.get_or_init(|| {
        // SAFETY: a fresh anonymous mapping; nothing else refers to it.
        let p = unsafe {
            libc::mmap(
                core::ptr::null_mut(),
                HUGE_LEN,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        (p != libc::MAP_FAILED).then_some(p as usize)
    })
}

/// `n` elements of `T` over the large mapping (all-zero bytes must be a valid `T`).
///
/// # Safety
/// `T` must be valid for all-zero bytes; `n * size_of::<T>() <= HUGE_LEN`; no other slice of
/// the mapping may be alive.
pub unsafe fn huge_slice<'a, T>(n: usize) -> Option<&'a mut [T]> {
    let h = huge()?;
    assert!(n.checked_mul(core::mem::size_of::<T>()).is_some_and(|b| b <= HUGE_LEN));
    // SAFETY: the caller's contract; the mapping is page-aligned, so aligned for `T`.
    Some(unsafe { std::slice::from_raw_parts_mut(h as *mut T, n) })
}

/// A run of iovecs: `n` small ones over the pool, or (with `huge`) `u32::MAX + 1 + n` empty
/// ones over the large mapping.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub struct Iovs {
    pub n: u8,
    pub huge: bool,
}

pub fn iovecs<'a>(pool: &'a mut [u8], iovs: Iovs, store: &'a mut Vec<IoSlice<'a>>) -> &'a [IoSlice<'a>] {
    if iovs.huge {
        // SAFETY: an all-zero `IoSlice` is an empty iovec (null base, length 0); the count fits
        // the mapping; no other slice of it is alive.
        if let Some(s) = unsafe { huge_slice::<IoSlice<'a>>(u32::MAX as usize + 1 + iovs.n as usize) } {
            return s;
        }
    }
    let n = iovs.n as usize % 9;
    let chunk = pool.len() / 8;
    store.extend(pool.chunks(chunk).take(n).map(IoSlice::new));
    store
}

pub fn iovecs_mut<'a>(pool: &'a mut [u8], iovs: Iovs, store: &'a mut Vec<IoSliceMut<'a>>) -> &'a mut [IoSliceMut<'a>] {
    if iovs.huge {
        // SAFETY: as in `iovecs`.
        if let Some(s) = unsafe { huge_slice::<IoSliceMut<'a>>(u32::MAX as usize + 1 + iovs.n as usize) } {
            return s;
        }
    }
    let n = iovs.n as usize % 9;
    let chunk = pool.len() / 8;
    store.extend(pool.chunks_mut(chunk).take(n).map(IoSliceMut::new));
    store
}
