//! # uring: io_uring for Rust, everything liburing does, without C
//!
//! io_uring is Linux's asynchronous I/O interface: the application writes submission queue
//! entries (SQEs) into a ring shared with the kernel, and the kernel answers with completion
//! queue entries (CQEs) in a second ring (`io_uring(7)`). This crate is a pure-Rust equivalent of
//! liburing: ring setup with every `IORING_SETUP_*` flag, submission and completion handling with
//! all of liburing's submit and wait variants, typed encoders for every operation, register
//! calls, probes, provided buffer rings, kernel-managed buffer rings (feature `kmbuf`) and
//! `uring_cmd` helpers, plus a safe layer whose operations own their memory.
//!
//! ```
//! use uring::{op, Ring};
//!
//! let mut ring = Ring::new(8)?;
//! for i in 0..32 {
//!     ring.sq().push(&op::Nop::new().build().user_data(i))?;
//!     let cqe = ring.wait_cqe()?; // submits what was pushed, then waits
//!     assert_eq!((cqe.user_data(), cqe.result()), (i, Ok(0)));
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Layers: which to pick
//! - **Raw layer** — [`Builder`] / [`Ring`] (setup, submit and wait: [`setup`], [`ring`]),
//!   [`SubmissionQueue`] and the entry classes [`Sqe`], [`SafeSqe`], [`FdSqe`] ([`sq`], [`sqe`]),
//!   [`CompletionQueue`] with [`Cqe`]/[`Cqe32`] ([`cq`], [`cqe`]), and [`op`], one encoder per
//!   operation. liburing's model: you choose `user_data`, you keep memory alive; pushing an entry
//!   that points at memory or names an fd is `unsafe`. Pick it for the last instruction of
//!   speed or for operations the safe layer does not cover.
//! - **Owned layer** — [`owned::OwnedRing`]: operations own their buffers, paths, addresses and
//!   files, move into the ring when pushed and come back with their final completion. No
//!   `unsafe`; the default for applications.
//! - **Async layer** — [`future::Handle`]: a per-thread ring on which every owned operation is a
//!   future (`let (res, buf) = h.read(file, buf, 0).await;`) and every multishot operation a
//!   stream, executor-agnostic (driven from tokio through an eventfd, by [`future::block_on`]
//!   without a runtime, or one ring per thread), cancel-safe: a future dropped at any point
//!   leaves its memory to the ring until the kernel's final completion.
//! - **Buffer rings** — [`buf::BufRing`]: provided buffers the kernel selects when data
//!   arrives (multishot receives, bundles, incremental consumption, send rings); with the owned
//!   layer, each completion hands its buffer out once ([`owned::Completion::select`]).
//! - **kmbuf** (feature `kmbuf`) — [`buf::kmbuf`]: kernel-managed buffer rings, detected at run
//!   time, `Unsupported` on mainline kernels.
//! - **uring_cmd** — [`cmd`]: typed socket, block, NVMe and FUSE commands.
//! - **Registered resources** — [`register`]: files, buffers, eventfds, restrictions, NAPI,
//!   wait regions ([`wait_region`]), zero-copy receive ([`zcrx`]); [`probe`] for [`Features`] and
//!   [`Probe`]; [`uapi`] for the kernel ABI under the kernel's names.
//!
//! ## Examples by concept
//! Each runs as a test of the documentation, on the kernel at hand (features a kernel lacks are
//! detected and reported):
//! - ring setup with flags, and the fallback: [`Builder`]; checking for an operation:
//!   [`Probe`];
//! - raw push and reap: [`SubmissionQueue::push_raw`] (reads with buffers the caller keeps
//!   alive), [`CompletionQueue::iter`] (reaping in batches);
//! - owned operations: [`owned::OwnedRing`] (reads in flight, results with their buffers),
//!   [`owned::Completion`] (the reap-then-push loop), [`owned::FdOp`];
//! - cancellation: [`owned::OwnedRing::cancel`]; linked timeouts: [`owned::LinkTimeout`],
//!   chains: [`owned::OwnedRing::push_chain`];
//! - registered resources: [`Submitter::register_files`],
//!   [`owned::OwnedRing::register_fixed_buffers`];
//! - buffer rings and multishot receives: [`buf::BufRing`], [`owned::RecvMultishot`] (running
//!   dry and re-arming), [`owned::Completion::select`]; incremental consumption:
//!   [`buf::BufRingBuilder::incremental`]; bundles: [`owned::RecvSelect::bundle`];
//! - uring_cmd: [`op::UringCmd`], [`cmd::socket`];
//! - kmbuf, with the model of the kernel side where the kernel lacks it: `buf::kmbuf` (feature
//!   `kmbuf`).
//!
//! ## Safety model
//! No sequence of safe calls lets the kernel read or write memory Rust has given back, or hands
//! out a reference to memory the kernel may write. The invariants, the type that upholds each,
//! and why safe code cannot break it:
//!
//! 1. **Entries point only at memory that outlives the request.** Encoding is safe (an entry is
//!    plain data). Pushing is where the kernel starts using what the entry names, so the push
//!    decides: [`SafeSqe`]s name no caller memory and no fd ([`SubmissionQueue::push`] is
//!    safe); [`Sqe`]s may point at memory ([`SubmissionQueue::push_raw`] is `unsafe`: the memory
//!    must stay valid and unmoved until the request's final completion); [`FdSqe`]s name file
//!    descriptors ([`SubmissionQueue::push_fd`] is `unsafe`: every fd stays open, naming the same
//!    file, until the final completion, since the kernel may look it up long after the push).
//!    Only the crate's encoders make `SafeSqe`s and `FdSqe`s; the setters on them cannot make
//!    an entry point at memory.
//! 2. **Raw fd numbers enter only through `unsafe`** (Rust's I/O-safety rules):
//!    [`op::Target`] comes from a borrowed fd, a registered slot, or
//!    [`op::Target::from_raw_fd`]; owned operations hold their files as [`owned::Fd`] (owned,
//!    shared or a registered slot) until their final completion; fds the kernel creates come
//!    back as `OwnedFd` ([`owned::Completion::take_fd`]) or are closed.
//! 3. **The owned layer hands memory back only on the kernel's genuine final completion.** See
//!    the [owned layer's safety model](owned#safety-model): the in-flight table acts on each
//!    completion once; no safe code can post a completion with an owned `user_data` into its
//!    ring (raw entries and poll updates are checked; the ring's fd is never lent, so
//!    `IORING_OP_MSG_RING` cannot name it; wrapping an existing ring is `unsafe`).
//! 4. **A provided buffer is handed out once per kernel selection, and only while the kernel
//!    leaves it alone.** A [`Cqe`] is a copyable value anyone can make or have posted into a
//!    ring, so the raw [`buf::BufRing::select`] is `unsafe`; [`owned::Completion::select`]
//!    selects once per genuine completion of an operation that selects from that buffer ring.
//!    Guards (`Buf`, `IncSlice`, `Bundle`) borrow the buffer ring and return their buffers when
//!    dropped; a kept buffer is a non-copyable token ([`buf::HeldBuf`]) consumed when it goes
//!    back. The completion queue's head never passes the kernel's tail
//!    ([`CompletionQueue::advance`] refuses), so no stale completion is read twice. Readers that
//!    cannot track ownership are `unsafe` with a contract: [`zcrx::Zcrx::data`], and kmbuf
//!    buffers, which no completion the crate can vouch for names (see [`buf::kmbuf`] for why;
//!    the same layout over an app-managed ring, `ContiguousRing`, reads through
//!    [`owned::Completion::select`]). No safe code pushes an entry that selects from a group
//!    given as a bare id ([`FdSqe::into_safe`] refuses buffer-selecting entries).
//! 5. **Memory the kernel may still write is never returned to the system.** Buffer pools,
//!    registered and provided buffers and zcrx areas belong to the [`Ring`]; when it is dropped,
//!    the memory is released only after the kernel's teardown of the ring is proven (every
//!    request finished), and otherwise kept out of reach (`PROT_NONE` reservations, or leaked):
//!    see [`Ring`]'s drop and [`Ring::shutdown`]. Cancellation is not such a proof: a request
//!    running in io-wq is only signalled.
//! 6. **Bad input is a typed [`Error`]**, kernel errors keep their errno ([`Errno`]); results
//!    below -4095 are not errnos ([`Errno::NOT_AN_ERRNO`]).
//!
//! Out of scope, as for Rust's memory safety in general: other processes, and facilities that
//! reach any resource of the process (`/proc/self/mem`, `ptrace`, `pidfd_getfd`).
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
pub mod future;
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
pub use ring::wait_region;
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
