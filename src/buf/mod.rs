//! Provided buffers: buffer rings the application fills and the kernel selects from, and typed,
//! safe views of what a completion selected.
//!
//! An operation with `IOSQE_BUFFER_SELECT` (a read, recv, recvmsg, or a uring_cmd) does not
//! name a buffer: the kernel takes one from a *buffer group* when data arrives and reports its
//! id in the completion (`IORING_CQE_F_BUFFER`, id in the upper 16 bits of `cqe.flags`). This
//! saves memory for many idle sockets and lets multishot operations keep receiving.
//!
//! - [`BufRing`]: a provided-buffer ring (`IORING_REGISTER_PBUF_RING`, Linux 5.19) whose ring
//!   memory the crate allocates or the kernel allocates (`IOU_PBUF_RING_MMAP`, 6.4), with one
//!   contiguous buffer pool (optionally on 2 MiB huge pages) or caller memory; incremental
//!   consumption (`IOU_PBUF_RING_INC`, 6.12) and bundles (`IORING_RECVSEND_BUNDLE`, 6.10).
//! - [`Selection`]: what [`BufRing::select`] makes of a completion: no buffer, one [`Buf`], an
//!   [`IncSlice`] of an incremental buffer, or a [`Bundle`]. Each is a guard: the bytes are
//!   borrowed from the ring, and dropping the guard returns the buffer (in any order). A buffer
//!   is handed out at most once until it is returned, so two guards never alias.
//! - Returning buffers in batches, with one tail store: [`RecycleBatch`] (guards, or bytes lent
//!   per completion while the CQ is iterated), [`HeldBuf`] tokens ([`Buf::keep`], for buffers
//!   kept past the ring's borrow) with [`BufRing::recycle_held_batch`], and [`KeptBufs`] (tokens
//!   of one ring checked once, returned with liburing's loop).
//!
//! - [`RecvMsgOut`]: what a multishot `recvmsg` wrote into a selected buffer (header, source
//!   address, control messages, payload), read back without `unsafe`.
//!
//! - [`kmbuf`] (cargo feature `kmbuf`, experimental): kernel-managed buffer rings and
//!   [`kmbuf::ContiguousRing`], the same read API on any kernel (the kernel model that tests them
//!   is test machinery, hidden from the API).
//!
//! Man pages: `io_uring_register_buf_ring(3)`, `io_uring_setup_buf_ring(3)`,
//! `io_uring_buf_ring_add(3)`, `io_uring_buf_ring_advance(3)`, `io_uring_buf_ring_cq_advance(3)`,
//! `io_uring_buf_ring_head(3)`, `io_uring_buf_ring_available(3)`, `io_uring_prep_provide_buffers(3)`.
//!
//! ## Buffer memory and dropping
//!
//! A request that selected a buffer writes into it until the request finishes, and neither
//! dropping the buffer ring nor dropping the [`Ring`](crate::Ring) stops a request already
//! running in an io-wq worker (a blocking file read, say): the kernel only signals it.
//!
//! - A pool the crate allocates belongs to the ring's keep-alive list, shared by the `Ring` and
//!   its buffer rings. It is freed only after the kernel has freed the ring, which happens after
//!   the ring's last request: the last of the `Ring` and its buffer rings to be dropped waits
//!   for that up to [`DROP_WAIT`](crate::ring::DROP_WAIT) (250 ms). If it cannot be confirmed,
//!   the pool is never given back: its range becomes an inaccessible `PROT_NONE` reservation, so
//!   a late write by the kernel fails with `EFAULT` and never lands in other memory.
//! - Caller memory ([`CallerBuffers`]) is the caller's to keep valid until the kernel is done
//!   with it: [`CallerBuffers::new`] says when that is.

#[cfg(feature = "kmbuf")]
pub mod kmbuf;
mod recvmsg_out;
mod recycle;
pub(crate) mod ring;
mod select;

pub use recvmsg_out::{Cmsg, CmsgIter, RecvMsgOut};
pub use recycle::{KeptBufs, RecycleBatch};
pub use ring::{BufRing, BufRingBuilder, CallerBuffers, MAX_BUF_RING_ENTRIES};
pub use select::{Buf, Bundle, HeldBuf, IncSlice, Rejected, Selection};
