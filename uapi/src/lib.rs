//! Linux io_uring (and FUSE-over-io_uring) kernel ABI: types and constants, nothing else.
//!
//! This crate is a hand-written transcription of the Linux 7.3 user-space API headers
//! `linux/io_uring.h`, `linux/io_uring/query.h`, `linux/io_uring/zcrx.h`,
//! `linux/io_uring/bpf_filter.h`, `linux/io_uring/mock_file.h` and (in [`fuse`]) `linux/fuse.h`
//! (FUSE protocol 7.46). It contains no logic: only `#[repr(C)]` structs and unions, `pub const`s,
//! and trivial `Default`/`Debug` impls.
//!
//! # Conventions
//! - **Kernel names verbatim.** Every struct, field and constant keeps the exact C spelling
//!   (`io_uring_sqe`, `IORING_OP_READV`, `__IO_URING_QUERY_MAX`, ...), so the kernel headers and
//!   man pages can be read side by side with this crate. Hence `non_camel_case_types`.
//! - **C enums become typed `pub const`s**, never Rust enums: the kernel may hand back values this
//!   crate does not know. Each constant has the Rust type of the field it is written into (for
//!   example `IORING_OP_*` are `u8` because `io_uring_sqe::opcode` is `u8`, and the
//!   `IORING_RECVSEND_*` flags are `u16` because they go into `io_uring_sqe::ioprio`); each
//!   constant's doc names that field.
//! - **Anonymous unions and structs** get a field and a type named after their first member:
//!   `io_uring_sqe::off` has type [`io_uring_sqe_off`], whose members are `off`, `addr2` and
//!   `cmd_op`. Where that name is already taken the union is called `u` (`<parent>_u`:
//!   `io_uring_bpf_ctx::u`, `io_uring_bpf::u`, `fuse::fuse_uring_cmd_req::u`), and named members
//!   of anonymous struct type get `<parent>_<member>` (`io_uring_bpf_ctx_socket`). Exceptions:
//!   the union of [`io_uring_restriction`] is the field `op`, and [`io_uring_buf_ring`] is a plain
//!   struct whose `bufs` member comes first so that it sits at offset 0, as in C.
//! - Fields named after Rust keywords use raw identifiers (`r#type`).
//! - **Flexible array members** (`big_cqe[]`, `ops[]`, `bufs[]`, ...) are zero-length arrays, so
//!   `size_of` and `align_of` equal C's `sizeof` and `_Alignof`.
//! - Unions (and structs holding them) have a `Default` that zero-fills through the widest member
//!   and a `Debug` that prints the widest member. Initialise a union through a full-width member
//!   before reading it back: writing only a narrower member leaves the other bytes uninitialised.
//!
//! # Layouts are asserted
//! Next to every struct and union, compile-time assertions (via `static_assertions`) check its
//! size, its alignment and the offset of every field against literal numbers taken from the C
//! headers: those numbers *are* the ABI. On 32-bit x86, where C and Rust align 64-bit integers to
//! 4 inside structs, an asserted alignment of 8 is allowed to be 4 (unless the C type uses
//! `__aligned_u64`, which is reproduced with `align(8)`).
//!
//! # Modules
//! Everything from `linux/io_uring.h` is at the crate root. The sub-headers are the modules
//! [`query`], [`zcrx`], [`bpf_filter`] and [`mock_file`], whose items are also re-exported at the
//! root. [`fuse`] (the FUSE protocol, including FUSE-over-io_uring) stays a module.
//!
//! # Omitted
//! Only C-only helpers: the function-like macros `FUSE_REC_ALIGN`, `FUSE_DIRENT_ALIGN`,
//! `FUSE_DIRENT_SIZE` and `FUSE_DIRENTPLUS_SIZE`, and `FUSE_REMOVEMAPPING_MAX_ENTRY` (which
//! depends on the page size). Everything else in the six headers is here under its C name; the
//! one addition is `fuse::fuse_uring_cmd_req_v1`, the 24-byte command layout of Linux 6.14–7.2.
//!
//! # Features
//! - `kmbuf`: the `kmbuf` module, kernel-managed buffer rings. This is the **unmerged** v3
//!   proposal ("io_uring: add kernel-managed buffer rings", March 2026), which was dropped from the
//!   io_uring staging tree and is in no mainline kernel up to 7.3. Treat it as experimental: a
//!   kernel without it rejects the flag with `EINVAL`.

#![no_std]
#![deny(missing_docs)]
#![allow(non_camel_case_types)]

/// Asserts the size, alignment and field offsets of a `#[repr(C)]` type against literal numbers.
///
/// `layout!(T: size 16, align 8; a @ 0, b @ 8);`
macro_rules! layout {
    ($t:ty: size $size:literal, align $align:literal $(; $($f:ident @ $off:literal),* $(,)?)?) => {
        static_assertions::assert_eq_size!($t, [u8; $size]);
        static_assertions::const_assert!(
            core::mem::align_of::<$t>() == $align
                || ($align == 8 && cfg!(target_arch = "x86") && core::mem::align_of::<$t>() == 4)
        );
        $($(static_assertions::const_assert_eq!(core::mem::offset_of!($t, $f), $off);)*)?
    };
}

/// Implements `Default` for a union by zero-filling its widest member.
macro_rules! union_default {
    ($t:ident { $f:ident: $zero:expr }) => {
        impl Default for $t {
            fn default() -> Self {
                $t { $f: $zero }
            }
        }
    };
}

/// Implements `Debug` for a union by printing (a copy of) its widest member.
macro_rules! union_debug {
    ($t:ident, $f:ident) => {
        impl core::fmt::Debug for $t {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                // SAFETY: every member of this union is plain old data for which any bit pattern
                // is valid, and the widest member spans the whole union; a `Default` or
                // full-width initialisation leaves no byte uninitialised.
                let v = unsafe { self.$f };
                f.debug_struct(stringify!($t)).field(stringify!($f), &v).finish_non_exhaustive()
            }
        }
    };
}

mod buf_ring;
mod cqe;
mod register;
mod setup;
mod sqe;
mod time;

pub mod bpf_filter;
pub mod fuse;
pub mod mock_file;
pub mod query;
pub mod zcrx;

#[cfg(feature = "kmbuf")]
pub mod kmbuf;

pub use buf_ring::*;
pub use cqe::*;
pub use register::*;
pub use setup::*;
pub use sqe::*;
pub use time::*;

pub use bpf_filter::*;
pub use mock_file::*;
pub use query::*;
pub use zcrx::*;
