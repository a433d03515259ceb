//! The atomics shim: [`loom`](https://docs.rs/loom)'s model-checked atomics under `cfg(loom)`,
//! `core`'s otherwise.
//!
//! The ring index logic in [`crate::index`] is written once against these names, so the loom
//! model check (`RUSTFLAGS="--cfg loom" cargo test --release --lib index`) covers exactly the
//! code that ships.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{fence, AtomicU16, AtomicU32, Ordering};

#[cfg(not(loom))]
pub(crate) use core::sync::atomic::{fence, AtomicU16, AtomicU32, Ordering};
