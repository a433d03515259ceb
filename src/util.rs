//! Small helpers shared by modules: plain-old-data reads and writes of kernel payloads.

/// A plain value type: `Copy`, no padding-dependent invariants, every bit pattern valid, no
/// pointers the kernel could be asked to follow without the caller's knowledge.
///
/// Used to read the extra data of 32-byte completions and to write typed command payloads.
///
/// # Safety
/// Implementors must be `#[repr(C)]` (or primitive) types for which every bit pattern of
/// `size_of::<Self>()` bytes is a valid value.
pub unsafe trait Pod: Copy + 'static {}

macro_rules! pod {
    ($($t:ty),*) => { $(
        // SAFETY: primitive integers accept every bit pattern.
        unsafe impl Pod for $t {}
    )* };
}
pod!(u8, u16, u32, u64, u128, i8, i16, i32, i64, i128, usize, isize);
// SAFETY: an array of `Pod` values is `Pod`.
unsafe impl<T: Pod, const N: usize> Pod for [T; N] {}

/// Reads a `T` from the start of `src` (which must be at least as large; checked at compile
/// time).
#[inline]
pub(crate) fn read_pod<T: Pod, S: Pod>(src: &S) -> T {
    const { assert!(core::mem::size_of::<T>() <= core::mem::size_of::<S>()) };
    // SAFETY: `S` is at least `size_of::<T>()` bytes (asserted above), `T` accepts any bit
    // pattern (`Pod`), and the read is unaligned-safe.
    unsafe { core::ptr::read_unaligned(src as *const S as *const T) }
}

/// A type whose all-zero bytes are a valid value: every [`Pod`] type, and the kernel and libc
/// structs the crate zero-fills before the kernel writes them (crate-internal).
///
/// # Safety
/// All-zero bytes (`size_of::<Self>()` of them) must be a valid `Self`.
pub(crate) unsafe trait Zeroable: Sized {}

// SAFETY: every bit pattern of a `Pod` type is valid, all-zero included.
unsafe impl<T: Pod> Zeroable for T {}

macro_rules! zeroable {
    ($($t:ty),* $(,)?) => { $(
        // SAFETY: a C struct (or union) of integers, arrays of them and raw pointers: all-zero
        // bytes are a valid value (zero integers, null pointers).
        unsafe impl Zeroable for $t {}
    )* };
}
zeroable!(libc::statx, libc::siginfo_t, libc::msghdr, uring_uapi::io_uring_sqe,);

/// The all-zero value of `T`: the one place the crate zero-fills a struct (`mem::zeroed`),
/// for the types [`Zeroable`] vouches for.
#[inline]
pub(crate) const fn zeroed<T: Zeroable>() -> T {
    // SAFETY: `T: Zeroable` promises that all-zero bytes are a valid `T`.
    unsafe { core::mem::zeroed() }
}
