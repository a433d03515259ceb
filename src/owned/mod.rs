//! Safe submission: operations that own their memory until the kernel is done with it.
//!
//! Pushing an entry that points at caller memory is `unsafe` in the raw layer
//! ([`SubmissionQueue::push_raw`](crate::SubmissionQueue::push_raw)): the kernel may write that
//! memory long after the call returns. [`OwnedRing`] closes the gap. An operation value *owns*
//! everything the kernel will read or write (a `Vec<u8>`, a path, a timespec, a sockaddr...).
//! [`OwnedRing::push`] moves it into a preallocated in-flight table; the entry is built from the
//! operation at its final, stable address; the operation comes back only with its final
//! completion ([`Completion::into_op`]), together with the result. So the caller cannot touch
//! or free the memory while the kernel may use it — in safe code that does not compile:
//!
//! ```compile_fail,E0382
//! # use uring::owned::{OwnedRing, Read};
//! let mut ring = OwnedRing::new(8).unwrap();
//! let file = std::fs::File::open("/dev/zero").unwrap();
//! let mut buf = vec![0u8; 4096];
//! ring.push(Read::new(file, buf, 0)).unwrap();
//! buf[0] = 1; // error: `buf` was moved into the ring
//! ```
//!
//! Files too: an operation holds each file it names as an [`Fd`] (owned, shared through an
//! `Arc`, or a registered slot) until its final completion, so the number the kernel looks up
//! when it issues the request still names that file (Rust's I/O-safety rules), and fds the
//! kernel creates come back as `OwnedFd`s ([`Completion::take_fd`], [`Pipe::take_ends`]).
//!
//! ## In-flight table and `user_data`
//! The table has one slot per CQ entry, allocated once, with a free list through the slots:
//! pushing and completing allocate nothing. Owned operations use `user_data` values with bit 63
//! set, a generation (bits 32-62, bumped each time the slot is freed, so a stale [`OpId`] or a
//! replayed completion never matches a later operation) and the slot index.
//!
//! Raw-layer entries may share the ring, with `user_data` values below 2^63: push them with
//! [`OwnedRing::push_safe`] (entries that point at no memory and name no fd), or through
//! [`OwnedRing::ring_mut`], which is `unsafe`. Their completions come back as [`Completion`]s
//! without an id. [`OwnedRing::ring`] gives shared access (settings, probes, register calls)
//! and [`OwnedRing::buf_ring`] registers buffer rings.
//!
//! ## Safety model
//! The layer hands memory back to safe code on the strength of completions: an operation's
//! memory on its final completion ([`Completion::into_op`]), a provided buffer on a completion
//! that names it ([`Completion::select`]). That is sound only if every completion the layer
//! acts on is the kernel's own completion of the request it names. These are the invariants,
//! the type that upholds each, and why safe code cannot break them.
//!
//! 1. **An operation's memory stays put until the kernel is done.** [`OwnedRing::push`] moves
//!    the operation into a slot of the in-flight table and builds the entry from it there; the
//!    slot's address is stable and nothing reaches the operation until a final completion
//!    frees the slot ([`Completion`] borrows the ring, so nothing is pushed into the slot while
//!    the operation is being taken out). The kernel is done with a request's memory when it
//!    posts the request's final completion (for multishot requests, the one without
//!    `IORING_CQE_F_MORE`; for zero-copy sends, the notification). Cancellation
//!    (`ASYNC_CANCEL`, `IORING_REGISTER_SYNC_CANCEL`) does not prove it: a request running in
//!    io-wq is only signalled. Dropping the ring cancels and then reaps final completions; if
//!    some never arrive, their memory is leaked, never freed.
//! 2. **Only the kernel posts completions with owned `user_data` into the ring, and each
//!    once.** Every `user_data` the layer gives the kernel is unique to one operation in flight
//!    (slot + generation), and each completion is acted on once: the one step that classifies
//!    completions (`Table::step`) frees the slot and moves its `user_data` on, so the
//!    same completion seen again matches nothing. The routes by which code in the process could
//!    post a completion with a chosen `user_data` are closed for safe code:
//!    - *A raw entry with an owned `user_data`*: [`OwnedRing::push_safe`] refuses bit 63 on the
//!      entry, and on the `user_data` a poll update installs (`IORING_POLL_UPDATE_USER_DATA`);
//!      [`OwnedRing::ring_mut`] is `unsafe` with that contract.
//!    - *`IORING_OP_MSG_RING` and `IORING_REGISTER_SEND_MSG_RING`* post a chosen `user_data`,
//!      result and flags into the ring named by an fd. The ring's fd is never lent to safe code
//!      ([`Submitter::fd`](crate::Submitter::fd) returns `None` for a ring of this layer; the
//!      number is available for polling, and turning a number into a borrowed fd is `unsafe`
//!      and, for an fd the caller does not own, a breach of Rust's I/O-safety rules). Rings are
//!      created for the layer ([`OwnedRing::new`], [`OwnedRing::with_builder`]) or handed to it
//!      with `unsafe` ([`OwnedRing::with_ring`]: no earlier duplicate of the fd, no request in
//!      flight with an owned `user_data`).
//!    - *A `Cqe` value made up or replayed*: the layer reads completions only from its own CQ,
//!      never from a [`Cqe`](crate::Cqe) the caller hands in; [`Completion`] is not `Clone` and cannot be
//!      built outside the crate.
//!
//!    Other processes are out of scope (as for Rust's memory safety in general: `ptrace`,
//!    `/proc/self/mem`, `pidfd_getfd`).
//! 3. **A provided buffer is handed out once per kernel selection.** [`Completion::select`]
//!    works only on a completion of an owned operation that selects from that very
//!    [`BufRing`](crate::buf::BufRing) (checked by the buffer ring's unique id, and the buffer
//!    ring must be registered on this ring: checked at push), and only once per completion. By
//!    2, such a completion is the kernel's report that it took that buffer out of the ring, so
//!    the buffer is the application's until the guard returns it. The raw layer's
//!    [`BufRing::select`](crate::buf::BufRing::select) cannot know any of this and is
//!    `unsafe`.
//! 4. **Memory the kernel may still write is never returned to the system.** Buffer pools,
//!    fixed buffers and provided buffers are kept by the [`Ring`](crate::Ring) until it is dropped; see
//!    `Ring`'s drop for what it does when it cannot prove that the kernel is done.
//! 5. **Files stay open while the kernel uses them, and fds are owned.** The kernel looks an
//!    fd up when it issues a request, which can be long after the push (linked requests,
//!    `IOSQE_ASYNC`, poll-driven retries). Every file an owned operation names (its target,
//!    directories, epoll fds, a pidfd, the files of a table update, the ring a `MSG_RING`
//!    posts to) is an [`Fd`] the operation holds until its final completion: an `OwnedFd`, an
//!    `Arc` of a file shared with the caller, or a registered slot; a raw number cannot become
//!    one. Fds the kernel creates for an operation (accept, open, socket, fd install; pipe
//!    ends) are handed out as `OwnedFd`s only on the kernel's own completion (by 2), once, and
//!    closed if nobody takes them ([`Completion::take_fd`], [`Pipe::take_ends`]). [`Close`]
//!    takes an `OwnedFd` and gives it back only when the close never ran (`ECANCELED`).
//!
//! ## Fast paths
//! [`OwnedRing::push`] and [`OwnedRing::next`] work one operation at a time. For many at once,
//! [`OwnedRing::batch`] pushes with the submission queue's state held locally and
//! [`OwnedRing::for_each_completion`] hands every ready completion to a closure with the
//! completion queue's and the table's state in registers ([`OwnedRing::completions`] is the
//! same as a lending iterator). Measured beside the raw layer's `SubmissionQueue::batch` and
//! `CompletionQueue::iter` in `benches/owned.rs`: see `benches/README.md`.
//!
//! ## Multishot, zero-copy sends, chains, skip-on-success
//! An operation stays in its slot until a completion without `IORING_CQE_F_MORE`: multishot
//! receives yield each completion (with [`Completion::cqe`] naming the provided buffer) and the
//! operation on the last; a zero-copy send's memory comes back with its notification. In a chain
//! pushed with [`OwnedRing::push_chain`], the links before the last may carry
//! `IOSQE_CQE_SKIP_SUCCESS`; then the kernel posts a single completion for the chain (the last
//! link's, or the failing link's, after which it cancels the rest without completions), and the
//! layer hands every other link back right after it, as a completion of its own (result 0 for
//! the links that ran, `ECANCELED` for the ones cancelled). A single operation with
//! `IOSQE_CQE_SKIP_SUCCESS` outside a chain is refused (its memory could never be handed back
//! safely).
//!
//! ## Cancellation and drop
//! [`OwnedRing::cancel`] asks the kernel to cancel; the memory comes back with the operation's
//! final completion (`ECANCELED` or its normal result), never earlier. Dropping an `OwnedRing`
//! with operations in flight cancels them synchronously (`IORING_REGISTER_SYNC_CANCEL`, Linux
//! 6.0) and reaps their completions; if that cannot finish (an older kernel, an uncancellable
//! request), the in-flight memory is **leaked**, never freed under the kernel.
//!
//! ## Coverage
//! Of the 65 operations (`IORING_OP_NOP` = 0 to `IORING_OP_URING_CMD128` = 64), **61** are
//! usable from safe code (93.8%); 4 are not.
//!
//! Safe in the raw layer ([`SafeSqe`](crate::SafeSqe)), because they point at no caller memory
//! and name no fd (or only registered files); [`OwnedRing::push_safe`] takes them (9): NOP,
//! POLL_REMOVE (and poll update), TIMEOUT_REMOVE, ASYNC_CANCEL (by `user_data`, opcode, any,
//! or registered file), CLOSE of a registered slot, REMOVE_BUFFERS, SOCKET, FIXED_FD_INSTALL, NOP128. The
//! others that point at no memory but name an fd are [`FdSqe`](crate::FdSqe)s in the raw
//! layer (`unsafe` push: [`OwnedRing::push_fd`]), safe there only on registered files
//! ([`FdSqe::into_safe`](crate::FdSqe::into_safe)).
//!
//! Owned operations of [`ops`], which own what the kernel reads or writes and hold the files they
//! name (52 more): READ, WRITE ([`Read`], [`Write`]), READV, WRITEV ([`Readv`], [`Writev`]),
//! READ_FIXED, WRITE_FIXED, READV_FIXED, WRITEV_FIXED ([`ReadFixed`], [`WriteFixed`],
//! [`ReadvFixed`], [`WritevFixed`], over [`FixedBuf`] handles from
//! [`OwnedRing::register_fixed_buffers`], whose memory the ring keeps), OPENAT, OPENAT2, STATX,
//! RENAMEAT, UNLINKAT, MKDIRAT, SYMLINKAT, LINKAT, FSETXATTR, SETXATTR, FGETXATTR, GETXATTR
//! ([`OpenAt`], [`OpenAt2`], [`Statx`], [`RenameAt`], [`UnlinkAt`], [`MkdirAt`], [`SymlinkAt`],
//! [`LinkAt`], [`FsetXattr`], [`SetXattr`], [`FgetXattr`], [`GetXattr`]), CONNECT, BIND, ACCEPT
//! with the peer address ([`Connect`], [`Bind`], [`Accept`]), SEND (send, sendto, and
//! [`SendBundle`]), SEND_ZC, SENDMSG, SENDMSG_ZC ([`Send`], [`SendZc`], [`SendMsg`], [`SendMsgZc`]:
//! zero-copy memory comes back with the notification), RECV ([`Recv`], and [`RecvSelect`],
//! [`RecvMultishot`] over a crate-owned [`BufRing`](crate::buf::BufRing)), RECVMSG ([`RecvMsg`],
//! [`RecvMsgMultishot`]), TIMEOUT, LINK_TIMEOUT, TIMEOUT_REMOVE's update form ([`Timeout`],
//! [`LinkTimeout`], [`TimeoutUpdate`]), EPOLL_CTL, EPOLL_WAIT ([`EpollCtl`], [`EpollWait`]), WAITID
//! ([`Waitid`]), FUTEX_WAIT, FUTEX_WAKE, FUTEX_WAITV (futex words as `Arc<AtomicU32>`:
//! [`FutexWait`], [`FutexWake`], [`FutexWaitv`]), PIPE ([`Pipe`]), FILES_UPDATE ([`FilesUpdate`]),
//! PROVIDE_BUFFERS ([`ProvideBuffers`] through [`OwnedRing::provide_buffers`]: the kernel writes
//! provided buffers after the completion, so the memory moves to the ring's keep-alive list and is
//! freed only once the kernel's teardown of the ring has finished); and the fd-only operations, as
//! the raw encoder carried by [`FdOp`] with its files held: FSYNC, SYNC_FILE_RANGE, FALLOCATE,
//! FADVISE, FTRUNCATE, POLL_ADD (single and multishot), SPLICE, TEE, SHUTDOWN, LISTEN, MSG_RING
//! (data, and registered-file passing; the target ring's fd held), READ_MULTISHOT
//! ([`ReadMultishot`]), ACCEPT without an address, single or multishot ([`Fsync`],
//! [`SyncFileRange`], [`Fallocate`], [`Fadvise`], [`Ftruncate`], [`PollAdd`], [`Splice`], [`Tee`],
//! [`Shutdown`], [`Listen`], [`MsgRing`], [`MsgRingFd`], [`AcceptMulti`]), CLOSE of an owned fd
//! ([`Close`]) and ASYNC_CANCEL by file ([`CancelFd`]). SOCKET and FIXED_FD_INSTALL are also owned
//! operations ([`Socket`], [`FixedFdInstall`]), whose completions hand the new fd out as an
//! `OwnedFd`.
//!
//! Not usable from safe code (4):
//! - MADVISE: advises on any range of the address space, and some advice (`MADV_DONTNEED`,
//!   `MADV_FREE`, `MADV_REMOVE`) discards the contents of memory Rust may hold references to.
//!   No owned value can vouch for an arbitrary range; an owned mapping type could later.
//! - URING_CMD, URING_CMD128: the payload is defined by the file's driver and may hold
//!   addresses the kernel reads or writes (NVMe passthrough, ublk, socket options), which a
//!   generic command cannot check; typed commands that own their memory can be added per
//!   driver.
//! - RECV_ZC: the entry points at no caller memory and the ring keeps the zero-copy area
//!   alive, but its completions are 32-byte CQEs whose second half locates the data, and a
//!   [`Completion`] carries the 16-byte [`Cqe`](crate::Cqe). Until it carries the extension,
//!   RECV_ZC needs the raw layer's `unsafe` push and [`Zcrx::data`](crate::zcrx::Zcrx::data).
//!
//! Some variants stay raw-only: buffer groups given as a bare
//! [`BufGroupId`](crate::op::BufGroupId) (legacy caller memory the crate cannot see), sends and
//! receives naming a registered buffer by index (`fixed_buf`), protection-information
//! attributes (`attr_pi`), `IORING_SEND_VECTORIZED`, and multishot accept with an address.

mod completion;
pub mod ops;
mod pool;
mod push;
mod ring;
pub(crate) mod table;

pub use completion::{Completion, CompletionRef, Completions};
pub use ops::*;
pub use pool::BufPool;
pub use push::{OwnedBatch, Rejected};
pub use ring::OwnedRing;
pub use table::OpId;
