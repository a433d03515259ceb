//! `value_op!`: the one declarative macro behind the value-only encoders; `setter!`, the setter
//! every setter-generating macro of `op` expands to; and the entry-class paragraphs the
//! encoders' docs share.

/// One `const fn` setter that replaces field `$name` of `self` with the argument of the same
/// name.
macro_rules! setter {
    ($(#[$doc:meta])* $name:ident: $ty:ty) => {
        $(#[$doc])*
        #[inline]
        #[must_use]
        pub const fn $name(mut self, $name: $ty) -> Self {
            self.$name = $name;
            self
        }
    };
}

/// The paragraph that ends the docs of an encoder whose entry is an [`FdSqe`](crate::FdSqe):
/// how it is pushed.
macro_rules! fd_entry_doc {
    () => {
        "Points at no memory, but names a file: an [`FdSqe`](crate::FdSqe), pushed with `unsafe` \
         [`push_fd`](crate::SubmissionQueue::push_fd) (the file stays open until the completion), \
         or safely once every file is a registered slot \
         ([`FdSqe::into_safe`](crate::FdSqe::into_safe))."
    };
}

/// The paragraph that ends the docs of an encoder whose entry is a [`SafeSqe`](crate::SafeSqe).
macro_rules! safe_entry_doc {
    () => {
        "Points at no memory: safe to push."
    };
}

/// Declares a *value-only* encoder: an operation whose entry points at no caller memory, so its
/// builder holds plain values and carries no lifetime (fsync, listen, poll removal, ...). One
/// declaration per operation, as io-uring's `opcode!` does:
///
/// ```text
/// value_op! {
///     /// The type's docs.
///     pub struct Fallocate(IORING_OP_FALLOCATE) -> FdSqe {
///         /// `new`'s docs.
///         fn new(fd: Target, off: u64, len: u64);     // required, in order
///         set {                                        // optional, with a setter each
///             /// The setter's docs.
///             mode: FallocateFlags = FallocateFlags::empty(),
///         }
///         hold { flags: u32 = 0, }                     // state without a setter
///         flags {                                      // setters that or in a constant
///             /// The setter's docs.
///             multishot: flags |= IORING_POLL_ADD_MULTI,
///         }
///     }
///     /// `build`'s docs.
///     fn build(self) { /* an expression of type `Sqe` */ }
/// }
/// ```
///
/// It generates the struct (`Debug`, `Clone`, `Copy`; every field `pub(crate)`, for the owned
/// layer), `CODE`, `new` (a [`Target`](crate::op::Target) argument is taken as
/// `impl Into<Target>`; `[const] fn new` makes a `const fn` of a `new` without one), one
/// `const fn` setter per `set` field (replacing the default) and per `flags` entry, and a
/// `const fn build` that wraps the entry the body encodes in the declared class ([`SafeSqe`] or
/// [`FdSqe`]); the type's docs end with the class's paragraph on how it is pushed
/// (`fd_entry_doc!`, `safe_entry_doc!`). Sections are optional but keep this order. Setters that do more (set a flag and a
/// value, or clear bits) are written by hand in an `impl` block of their own.
///
/// Encoders whose entries point at memory stay hand-written: their lifetimes are the contract
/// the `unsafe` push relies on, and each says which memory must outlive the request.
///
/// [`SafeSqe`]: crate::SafeSqe
/// [`FdSqe`]: crate::FdSqe
macro_rules! value_op {
    (
        $(#[$meta:meta])*
        pub struct $name:ident($code:ident) -> $entry:ident {
            $(#[$new_meta:meta])*
            $([$const:tt])? fn new($($arg:ident: $aty:ident),* $(,)?);
            $(set {
                $(
                    $(#[$set_meta:meta])*
                    $set:ident: $sty:ty = $sdefault:expr
                ),* $(,)?
            })?
            $(hold {
                $($hold:ident: $hty:ty = $hdefault:expr),* $(,)?
            })?
            $(flags {
                $(
                    $(#[$flag_meta:meta])*
                    $flag:ident: $ffield:ident |= $fbits:expr
                ),* $(,)?
            })?
        }
        $(#[$build_meta:meta])*
        fn build($self:ident) $body:block
    ) => {
        $(#[$meta])*
        ///
        #[doc = value_op!(@entry_doc $entry)]
        #[derive(Debug, Clone, Copy)]
        pub struct $name {
            $(pub(crate) $arg: $aty,)*
            $($(pub(crate) $set: $sty,)*)?
            $($(pub(crate) $hold: $hty,)*)?
        }

        impl $name {
            #[doc = concat!("The operation code, `", stringify!($code), "`.")]
            pub const CODE: u8 = $code;

            $(#[$new_meta])*
            #[inline]
            pub $($const)? fn new($($arg: value_op!(@param $aty)),*) -> Self {
                $name {
                    $($arg: value_op!(@arg $aty $arg),)*
                    $($($set: $sdefault,)*)?
                    $($($hold: $hdefault,)*)?
                }
            }

            $($(
                setter!($(#[$set_meta])* $set: $sty);
            )*)?

            $($(
                $(#[$flag_meta])*
                #[inline]
                #[must_use]
                pub const fn $flag(mut self) -> Self {
                    self.$ffield |= $fbits;
                    self
                }
            )*)?

            $(#[$build_meta])*
            #[inline]
            pub const fn build($self) -> $entry {
                $entry::new($body)
            }
        }
    };
    (@entry_doc FdSqe) => { fd_entry_doc!() };
    (@entry_doc SafeSqe) => { safe_entry_doc!() };
    // A file argument: any borrowed file, a registered slot, or (unsafe) a raw number.
    (@param Target) => { impl Into<Target> };
    (@param $ty:ident) => { $ty };
    (@arg Target $arg:ident) => { $arg.into() };
    (@arg $ty:ident $arg:ident) => { $arg };
}
