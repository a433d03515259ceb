//! # uring: io_uring for Rust, everything liburing does, without C
//!
//! io_uring is Linux's asynchronous I/O interface: the application writes submission queue
//! entries (SQEs) into a ring shared with the kernel, and the kernel answers with completion
//! queue entries (CQEs) in a second ring (`io_uring(7)`). This crate is a pure-Rust equivalent of
//! liburing: ring setup with every `IORING_SETUP_*` flag, submission and completion handling with
//! all of liburing's submit and wait variants, typed encoders for operations, probes, and (in
//! progress) registered resources, provided buffer rings and kernel-managed buffer rings.
//!
//! ```no_run
//! use uring::{op, Ring};
//!
//! let mut ring = Ring::new(8)?;
//! ring.sq().push(&op::Nop::new().build().user_data(42))?;
//! ring.submit_and_wait(1)?;
//! let cqe = ring.cq().pop().expect("one completion");
//! assert_eq!(cqe.user_data(), 42);
//! assert_eq!(cqe.result(), Ok(0));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Layout
//! - [`Builder`] / [`Ring`]: setup and the submit/wait calls ([`setup`], [`ring`]).
//! - [`SubmissionQueue`], [`Sqe`], [`SafeSqe`], [`FdSqe`]: entries and how they are pushed ([`sq`],
//!   [`sqe`]).
//! - [`CompletionQueue`], [`Cqe`], [`Cqe32`]: completions ([`cq`], [`cqe`]).
//! - [`op`]: encoders, one per operation.
//! - [`probe`]: [`Features`] and [`Probe`].
//! - [`uapi`]: the kernel ABI (the `uring-uapi` crate), under the kernel's names.
//!
//! ## Safety
//! Encoding an entry is safe. Pushing an entry that points at caller memory is `unsafe`
//! ([`SubmissionQueue::push_raw`]): the memory must outlive the operation. Entries that point at
//! nothing the caller owns are [`SafeSqe`]s and push safely ([`SubmissionQueue::push`]).
//! Entries that point at no memory but name file descriptors are [`FdSqe`]s: the kernel looks
//! an fd up when it issues the request, which can be long after the push, so their push
//! ([`SubmissionQueue::push_fd`]) is `unsafe`, with the contract that every fd named stays open
//! until the request's final completion (Rust's I/O-safety rules: raw fd numbers enter only
//! through `unsafe`, [`op::Target::from_raw_fd`]). Entries that name only registered files
//! become [`SafeSqe`]s ([`FdSqe::into_safe`]). The [`owned`] layer's operations own or share
//! the files they use, so they push safely.
//!
//! ## Minimum supported Rust version
//! 1.85.

#![cfg_attr(loom, allow(dead_code, unused_imports))]

// The README's examples run as doctests, so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

pub use uring_uapi as uapi;

pub(crate) mod index;
mod sync;

#[cfg(not(loom))]
pub mod bpf_filter;
#[cfg(not(loom))]
pub mod buf;
#[cfg(not(loom))]
pub mod cmd;
#[cfg(not(loom))]
pub mod cq;
#[cfg(not(loom))]
pub mod cqe;
#[cfg(not(loom))]
mod error;
#[cfg(not(loom))]
pub mod napi;
#[cfg(not(loom))]
pub mod op;
#[cfg(not(loom))]
pub mod owned;
#[cfg(not(loom))]
pub mod probe;
#[cfg(not(loom))]
pub mod query;
#[cfg(not(loom))]
pub mod register;
#[cfg(not(loom))]
pub mod ring;
#[cfg(not(loom))]
pub mod setup;
#[cfg(not(loom))]
pub mod sq;
#[cfg(not(loom))]
pub mod sqe;
#[cfg(not(loom))]
mod sys;
#[cfg(not(loom))]
mod teardown;
#[cfg(not(loom))]
mod util;
#[cfg(not(loom))]
pub mod wait_region;
#[cfg(not(loom))]
pub mod zcrx;

#[cfg(not(loom))]
pub use {
    cq::CompletionQueue,
    cqe::{Cqe, Cqe32, CqeFlags},
    error::{Errno, Error, QueueFull, Result},
    probe::{Features, Probe},
    ring::{Ring, Submitter, Teardown, WaitArgs},
    setup::{Builder, RingMemory, RingSizes, SetupFlags},
    sq::{PushError128, SqBatch, SubmissionQueue},
    sqe::{FdSqe, SafeSqe, SafeSqe128, Sqe, Sqe128, SqeFlags},
    util::Pod,
};
