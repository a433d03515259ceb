//! FUSE over io_uring: the `FUSE_IO_URING_CMD_*` commands on a `/dev/fuse` file descriptor and
//! typed access to the ring entry header (`linux/fuse.h`, protocol 7.42, Linux 6.14; buffer
//! pools, protocol 7.46, Linux 7.3). The types are in [`uring_uapi::fuse`].
//!
//! A FUSE server that negotiated `FUSE_OVER_IO_URING` in its INIT reply registers *ring entries*
//! per queue (one queue per possible CPU): each entry is a 288-byte [`fuse_uring_req_header`] plus
//! a payload buffer. A [`Register`] command completes (with 0) when a request has been written
//! into the entry; the server answers it in place and sends [`CommitAndFetch`], which commits
//! the reply and waits for the next request. Linux 7.3 adds [`AddQueue`] and [`AddBufpool`]
//! (payloads in a per-queue buffer pool, optionally zero-copy).
//!
//! | command | encoder | first kernel |
//! |---|---|---|
//! | `FUSE_IO_URING_CMD_REGISTER` | [`Register`] | 6.14 |
//! | `FUSE_IO_URING_CMD_COMMIT_AND_FETCH` | [`CommitAndFetch`] | 6.14 |
//! | `FUSE_IO_URING_CMD_ADD_QUEUE` | [`AddQueue`] | 7.3 |
//! | `FUSE_IO_URING_CMD_ADD_BUFPOOL` | [`AddBufpool`] | 7.3 |
//!
//! (libfuse fills the entries by hand; liburing has no helper.) The command payload is a
//! `fuse_uring_cmd_req` in the 80-byte command area: 24 bytes up to Linux 7.2
//! ([`fuse_uring_cmd_req_v1`]), 40 bytes since 7.3 ([`fuse_uring_cmd_req`], whose last 16 bytes
//! are zero except for `ADD_BUFPOOL` and zero-copy `REGISTER`, so the same bytes serve both
//! kernels). The driver **requires 128-byte entries**, so every encoder builds an [`Sqe128`]:
//! pushed with [`SubmissionQueue::push128_raw`](crate::SubmissionQueue::push128_raw) it goes on
//! an `IORING_SETUP_SQE128` ring (or a mixed one as `IORING_OP_URING_CMD128`), and a 64-byte
//! ring is refused ([`PushError128::RingTooSmall`](crate::PushError128::RingTooSmall), which
//! converts into [`Error::WrongRingKind`]) instead of the kernel's `EINVAL`.
//!
//! Errors, in the kernel's order of checks: `EINVAL` for a 64-byte entry; no FUSE connection on
//! the file (not mounted yet): `ENOTCONN` (Linux 6.14 to 6.17) or `EPERM` (6.18, which waits for
//! a synchronous INIT first); `EOPNOTSUPP` when io_uring is disabled
//! (`/sys/module/fuse/parameters/enable_uring` = N, or, since 7.3, not negotiated on the
//! connection); `ECONNABORTED` after an abort; `ENOTCONN` after disconnect; `EAGAIN` before the
//! INIT reply; then per command: `EINVAL` for a bad qid, a header iovec shorter than 288 bytes,
//! a payload shorter than the connection's maximum (at least 8 KiB) or `len != 2`; `ENOENT`
//! for an unknown commit id. Teardown completes the pending commands with `ENOTCONN`.

use core::mem::size_of;

use uring_uapi::fuse::*;

use super::{pod_bytes, pod_read, set_cmd_area128, UringCmd128, CMD_PAYLOAD_128};
use crate::op::Target;
use crate::sqe::Sqe128;
use crate::util::Pod;
use crate::{Error, Result};

/// Size of a ring entry's header (`struct fuse_uring_req_header`).
/// FUSE over io_uring, Linux 6.14.
pub const FUSE_URING_REQ_HEADER_SZ: usize = size_of::<fuse_uring_req_header>();
/// Number of iovecs a `REGISTER` command points at (`FUSE_URING_IOV_SEGS`): header, payload.
/// FUSE over io_uring, Linux 6.14.
pub const FUSE_URING_IOV_SEGS: u32 = 2;
/// The smallest payload buffer any connection accepts (`FUSE_MIN_READ_BUFFER`); the real minimum
/// is the larger of this, `max_write` and `max_pages` pages, as negotiated at INIT.
/// FUSE over io_uring, Linux 6.14.
pub const FUSE_MIN_READ_BUFFER: usize = 8192;

const _: () = assert!(FUSE_URING_REQ_HEADER_SZ == 288);
const _: () = assert!(size_of::<fuse_uring_cmd_req_v1>() == 24);
const _: () = assert!(size_of::<fuse_uring_cmd_req>() == 40);

// The five impls below: `repr(C)` structs of integers (and byte arrays) whose sizes equal the
// sums of their fields' sizes (asserted below; the uapi crate asserts every offset), so they have
// no padding and every bit pattern is valid.
// SAFETY: see above.
unsafe impl Pod for fuse_in_header {}
// SAFETY: see above.
unsafe impl Pod for fuse_out_header {}
// SAFETY: see above.
unsafe impl Pod for fuse_uring_ent_in_out {}
// SAFETY: see above.
unsafe impl Pod for fuse_uring_req_header {}
// SAFETY: see above.
unsafe impl Pod for fuse_uring_cmd_req_v1 {}
const _: () = assert!(size_of::<fuse_in_header>() == 4 + 4 + 8 + 8 + 4 + 4 + 4 + 2 + 2);
const _: () = assert!(size_of::<fuse_out_header>() == 4 + 4 + 8);
const _: () = assert!(size_of::<fuse_uring_ent_in_out>() == 8 + 8 + 4 + 4 + 8);
const _: () = assert!(FUSE_URING_REQ_HEADER_SZ == FUSE_URING_IN_OUT_HEADER_SZ + FUSE_URING_OP_IN_OUT_SZ + 32);
const _: () = assert!(size_of::<fuse_uring_cmd_req_v1>() == 8 + 8 + 2 + 6);

/// The `fuse_uring_cmd_req` bytes: the 24-byte head (`flags`, `commit_id`, `qid`, padding) and
/// the 16-byte tail of the Linux 7.3 union, in an 80-byte command area.
fn req_area(flags: u64, commit_id: u64, qid: u16, tail: [u8; 16]) -> [u8; CMD_PAYLOAD_128] {
    let head = fuse_uring_cmd_req_v1 { flags, commit_id, qid, padding: [0; 6] };
    let mut area = [0u8; CMD_PAYLOAD_128];
    area[..24].copy_from_slice(pod_bytes(&head));
    area[24..40].copy_from_slice(&tail);
    area
}

fn build(inner: UringCmd128, area: &[u8; CMD_PAYLOAD_128]) -> Sqe128 {
    let mut sqe = inner.build();
    set_cmd_area128(&mut sqe, area);
    sqe
}

/// The two iovecs a [`Register`] command points at: the entry's 288-byte header and its payload
/// buffer (`sqe.addr` -> `struct iovec[2]`, `sqe.len` = 2).
///
/// The kernel reads the iovecs when it issues the command, and writes requests into both
/// buffers for as long as the entry is registered (until the connection ends and the pending
/// command completes with `ENOTCONN`): keep this array alive until the `REGISTER` command was
/// issued, and the buffers for the life of the entry.
/// `FUSE_IO_URING_CMD_REGISTER`, Linux 6.14.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct EntryIovecs {
    iov: [libc::iovec; 2],
}

impl EntryIovecs {
    /// The iovecs of `header` and `payload`. A payload shorter than
    /// [`FUSE_MIN_READ_BUFFER`] is refused with [`Error::MemoryTooSmall`] (no connection accepts
    /// it; the kernel would fail `REGISTER` with `EINVAL`).
    /// For `FUSE_IO_URING_CMD_REGISTER` (Linux 6.14).
    pub fn new(header: &mut fuse_uring_req_header, payload: &mut [u8]) -> Result<Self> {
        if payload.len() < FUSE_MIN_READ_BUFFER {
            return Err(Error::MemoryTooSmall { needed: FUSE_MIN_READ_BUFFER, provided: payload.len() });
        }
        Ok(Self::from_raw(
            header as *mut fuse_uring_req_header as *mut u8,
            FUSE_URING_REQ_HEADER_SZ,
            payload.as_mut_ptr(),
            payload.len(),
        ))
    }

    /// The iovecs of raw buffers (unchecked: the kernel validates the lengths).
    /// For `FUSE_IO_URING_CMD_REGISTER` (Linux 6.14).
    pub fn from_raw(header: *mut u8, header_len: usize, payload: *mut u8, payload_len: usize) -> Self {
        EntryIovecs {
            iov: [
                libc::iovec { iov_base: header.cast(), iov_len: header_len },
                libc::iovec { iov_base: payload.cast(), iov_len: payload_len },
            ],
        }
    }

    /// The array's address (`sqe.addr`).
    pub fn as_ptr(&self) -> *const libc::iovec {
        self.iov.as_ptr()
    }

    /// The two iovecs.
    pub fn iovecs(&self) -> &[libc::iovec; 2] {
        &self.iov
    }
}

/// `FUSE_IO_URING_CMD_REGISTER`: registers a ring entry of queue `qid` (a CPU number below the
/// number of possible CPUs) and waits for a request (Linux 6.14). Completes with 0 once a
/// request has been written into the entry's header and payload.
///
/// Fields: `sqe.addr` = the [`EntryIovecs`], `sqe.len` = 2, payload `qid` (and, on Linux 7.3
/// zero-copy queues, `ent_zero_copy_buf_index`). The entry points at the iovecs and, through
/// them, at buffers the kernel writes until the connection ends: pushing is `unsafe` (see
/// [`EntryIovecs`]).
#[derive(Debug, Clone, Copy)]
pub struct Register {
    inner: UringCmd128,
    qid: u16,
    iov: u64,
    zero_copy_index: u16,
}

impl Register {
    /// The command number, `FUSE_IO_URING_CMD_REGISTER`.
    pub const CMD_OP: u32 = FUSE_IO_URING_CMD_REGISTER;

    /// Registers the entry `iov` describes on queue `qid` of the connection `fuse_fd`.
    /// Encodes `FUSE_IO_URING_CMD_REGISTER`.
    /// Linux 6.14.
    pub fn new(fuse_fd: impl Into<Target>, qid: u16, iov: &EntryIovecs) -> Self {
        Register { inner: UringCmd128::new(fuse_fd, Self::CMD_OP), qid, iov: iov.as_ptr() as u64, zero_copy_index: 0 }
    }

    /// Linux 7.3, on a queue added with [`AddQueue::zero_copy`]: the slot of the ring's
    /// registered-buffer table where the kernel registers each request's pages
    /// (`ent_zero_copy_buf_index`, written as the 40-byte request). Must stay 0 otherwise.
    pub fn zero_copy_buf_index(mut self, index: u16) -> Self {
        self.zero_copy_index = index;
        self
    }

    /// The entry (128 bytes).
    /// Encodes `FUSE_IO_URING_CMD_REGISTER`.
    pub fn build(self) -> Sqe128 {
        let mut tail = [0u8; 16];
        tail[..2].copy_from_slice(&self.zero_copy_index.to_ne_bytes());
        let mut sqe = build(self.inner, &req_area(0, 0, self.qid, tail));
        sqe.sqe.addr.addr = self.iov;
        sqe.sqe.len = FUSE_URING_IOV_SEGS;
        sqe
    }
}

/// `FUSE_IO_URING_CMD_COMMIT_AND_FETCH`: commits the reply written into an entry's header and
/// payload for the request `commit_id` (the `ring_ent_in_out.commit_id` the request came with)
/// on queue `qid`, and waits for the next request in the same entry (Linux 6.14). Completes
/// with 0 when the next request is there; `ENOENT` for an unknown commit id.
///
/// The payload holds no address, but the command hands the entry's registered buffers back to
/// the kernel, which writes the next request into them: pushing is `unsafe` (they must still be
/// alive).
#[derive(Debug, Clone, Copy)]
pub struct CommitAndFetch {
    inner: UringCmd128,
    qid: u16,
    commit_id: u64,
}

impl CommitAndFetch {
    /// The command number, `FUSE_IO_URING_CMD_COMMIT_AND_FETCH`.
    pub const CMD_OP: u32 = FUSE_IO_URING_CMD_COMMIT_AND_FETCH;

    /// Commit request `commit_id` of queue `qid` on the connection `fuse_fd`.
    /// Encodes `FUSE_IO_URING_CMD_COMMIT_AND_FETCH`.
    /// Linux 6.14.
    pub fn new(fuse_fd: impl Into<Target>, qid: u16, commit_id: u64) -> Self {
        CommitAndFetch { inner: UringCmd128::new(fuse_fd, Self::CMD_OP), qid, commit_id }
    }

    /// The entry (128 bytes).
    /// Encodes `FUSE_IO_URING_CMD_COMMIT_AND_FETCH`.
    pub fn build(self) -> Sqe128 {
        build(self.inner, &req_area(0, self.commit_id, self.qid, [0; 16]))
    }
}

/// `FUSE_IO_URING_CMD_ADD_QUEUE`: creates queue `qid` before its entries are registered, with
/// flags (Linux 7.3, protocol 7.46; older kernels fail it with `EINVAL`). Completes with 0.
///
/// The command points at no memory, but names the FUSE device, and 128-byte entries have no
/// fd-only class: the entry is a plain [`Sqe128`], pushed with `unsafe`
/// [`SubmissionQueue::push128_raw`](crate::SubmissionQueue::push128_raw) (which fits the opcode
/// to the ring); the device stays open until the completion.
#[derive(Debug, Clone, Copy)]
pub struct AddQueue {
    inner: UringCmd128,
    qid: u16,
    flags: u64,
}

impl AddQueue {
    /// The command number, `FUSE_IO_URING_CMD_ADD_QUEUE`.
    pub const CMD_OP: u32 = FUSE_IO_URING_CMD_ADD_QUEUE;

    /// Add queue `qid` to the connection `fuse_fd`.
    /// Encodes `FUSE_IO_URING_CMD_ADD_QUEUE` (Linux 7.3).
    pub fn new(fuse_fd: impl Into<Target>, qid: u16) -> Self {
        AddQueue { inner: UringCmd128::new(fuse_fd, Self::CMD_OP), qid, flags: 0 }
    }

    /// `FUSE_URING_ZERO_COPY`: payloads are zero-copied through registered buffers (needs a
    /// buffer pool and a privileged server).
    pub fn zero_copy(mut self) -> Self {
        self.flags |= FUSE_URING_ZERO_COPY;
        self
    }

    /// The entry (128 bytes).
    /// Encodes `FUSE_IO_URING_CMD_ADD_QUEUE`.
    pub fn build(self) -> Sqe128 {
        build(self.inner, &req_area(self.flags, 0, self.qid, [0; 16]))
    }
}

/// `FUSE_IO_URING_CMD_ADD_BUFPOOL`: gives queue `qid` a buffer pool for request payloads (Linux
/// 7.3, protocol 7.46; with `FUSE_HAS_IO_URING_BUFPOOL` negotiated). Entries then find their
/// payload at `ring_ent_in_out.offset` in the pool. Completes with 0.
///
/// The pool is the 40-byte request's `bufpool { uaddr, len }`; libfuse also passes it as a
/// registered buffer ([`fixed_buf`](Self::fixed_buf)). The kernel writes into the pool for the
/// life of the queue: pushing is `unsafe`.
#[derive(Debug, Clone, Copy)]
pub struct AddBufpool {
    inner: UringCmd128,
    qid: u16,
    uaddr: u64,
    len: u32,
}

impl AddBufpool {
    /// The command number, `FUSE_IO_URING_CMD_ADD_BUFPOOL`.
    pub const CMD_OP: u32 = FUSE_IO_URING_CMD_ADD_BUFPOOL;

    /// Add the pool `pool` to queue `qid` of the connection `fuse_fd`. A pool of 4 GiB or more is
    /// refused (`len` is 32 bits).
    /// Encodes `FUSE_IO_URING_CMD_ADD_BUFPOOL` (Linux 7.3).
    pub fn new(fuse_fd: impl Into<Target>, qid: u16, pool: &mut [u8]) -> Result<Self> {
        let len = u32::try_from(pool.len())
            .map_err(|_| Error::InvalidArgument { what: "FUSE buffer pool", reason: "larger than 4 GiB - 1" })?;
        Ok(Self::from_raw(fuse_fd, qid, pool.as_mut_ptr(), len))
    }

    /// Add the pool of `len` bytes at `uaddr`.
    /// `FUSE_IO_URING_CMD_ADD_BUFPOOL`, Linux 7.3.
    pub fn from_raw(fuse_fd: impl Into<Target>, qid: u16, uaddr: *mut u8, len: u32) -> Self {
        AddBufpool { inner: UringCmd128::new(fuse_fd, Self::CMD_OP), qid, uaddr: uaddr as u64, len }
    }

    /// `IORING_URING_CMD_FIXED` (Linux 6.1): the pool is registered buffer `index`.
    pub fn fixed_buf(mut self, index: u16) -> Self {
        self.inner = self.inner.fixed_buf(index);
        self
    }

    /// The entry (128 bytes).
    /// Encodes `FUSE_IO_URING_CMD_ADD_BUFPOOL`.
    pub fn build(self) -> Sqe128 {
        let pool = fuse_uring_cmd_req_bufpool { uaddr: self.uaddr, len: self.len, reserved: 0 };
        let mut tail = [0u8; 16];
        tail[..8].copy_from_slice(&pool.uaddr.to_ne_bytes());
        tail[8..12].copy_from_slice(&pool.len.to_ne_bytes());
        tail[12..].copy_from_slice(&pool.reserved.to_ne_bytes());
        build(self.inner, &req_area(0, 0, self.qid, tail))
    }
}

/// Reads the `fuse_uring_cmd_req` fields of a FUSE command entry: `(flags, commit_id, qid)` and
/// the 16 union bytes of the Linux 7.3 layout.
pub fn decode_req(sqe: &Sqe128) -> (fuse_uring_cmd_req_v1, [u8; 16]) {
    let area = super::cmd_area128(sqe);
    let head = pod_read::<fuse_uring_cmd_req_v1>(&area).unwrap_or_default();
    let mut tail = [0u8; 16];
    tail.copy_from_slice(&area[24..40]);
    (head, tail)
}

/// A read-only typed view of a ring entry's header (`struct fuse_uring_req_header`, 288 bytes):
/// `in_out` (a `fuse_in_header` in a request, a `fuse_out_header` in a reply), `op_in` (the
/// per-opcode header) and `ring_ent_in_out`.
/// FUSE over io_uring, Linux 6.14.
#[derive(Debug, Clone, Copy)]
pub struct HeaderView<'a> {
    bytes: &'a [u8; FUSE_URING_REQ_HEADER_SZ],
}

impl<'a> HeaderView<'a> {
    /// A view of the 288 header bytes.
    /// (`struct fuse_uring_req_header`.)
    pub fn new(bytes: &'a [u8; FUSE_URING_REQ_HEADER_SZ]) -> Self {
        HeaderView { bytes }
    }

    /// A view of a header struct.
    /// (`struct fuse_uring_req_header`.)
    pub fn of(header: &'a fuse_uring_req_header) -> Self {
        // SAFETY: `fuse_uring_req_header` is `Pod`: 288 plain bytes (size asserted above), no
        // padding; the borrow is carried over.
        let bytes = unsafe { &*(header as *const fuse_uring_req_header as *const [u8; FUSE_URING_REQ_HEADER_SZ]) };
        HeaderView { bytes }
    }

    /// The raw 128-byte `in_out` area.
    pub fn in_out(&self) -> &'a [u8; FUSE_URING_IN_OUT_HEADER_SZ] {
        let b: &'a [u8; FUSE_URING_REQ_HEADER_SZ] = self.bytes;
        b[..FUSE_URING_IN_OUT_HEADER_SZ].try_into().unwrap_or(&[0; FUSE_URING_IN_OUT_HEADER_SZ])
    }

    /// `in_out` as the request header the kernel wrote.
    pub fn in_header(&self) -> fuse_in_header {
        pod_read(self.in_out()).unwrap_or_default()
    }

    /// `in_out` as a reply header.
    pub fn out_header(&self) -> fuse_out_header {
        pod_read(self.in_out()).unwrap_or_default()
    }

    /// The raw 128-byte per-opcode area.
    pub fn op_in(&self) -> &'a [u8; FUSE_URING_OP_IN_OUT_SZ] {
        let b: &'a [u8; FUSE_URING_REQ_HEADER_SZ] = self.bytes;
        b[FUSE_URING_IN_OUT_HEADER_SZ..FUSE_URING_IN_OUT_HEADER_SZ + FUSE_URING_OP_IN_OUT_SZ]
            .try_into()
            .unwrap_or(&[0; FUSE_URING_OP_IN_OUT_SZ])
    }

    /// The per-opcode header read as a `T` (`fuse_read_in`, `fuse_write_in`, ...); `None` if `T`
    /// is larger than 128 bytes.
    pub fn op_in_as<T: Pod>(&self) -> Option<T> {
        pod_read(self.op_in())
    }

    /// `ring_ent_in_out`: commit id, payload size, flags and (Linux 7.3) pool offset.
    pub fn ent_in_out(&self) -> fuse_uring_ent_in_out {
        pod_read(&self.bytes[FUSE_URING_IN_OUT_HEADER_SZ + FUSE_URING_OP_IN_OUT_SZ..]).unwrap_or_default()
    }

    /// The commit id to answer this request with ([`CommitAndFetch`]).
    pub fn commit_id(&self) -> u64 {
        self.ent_in_out().commit_id
    }

    /// The bytes of payload the request carries.
    pub fn payload_sz(&self) -> u32 {
        self.ent_in_out().payload_sz
    }
}

/// A writable typed view of a ring entry's header, for building replies in place.
/// (`struct fuse_uring_req_header`, FUSE over io_uring, Linux 6.14.)
#[derive(Debug)]
pub struct HeaderMut<'a> {
    bytes: &'a mut [u8; FUSE_URING_REQ_HEADER_SZ],
}

impl<'a> HeaderMut<'a> {
    /// A view of the 288 header bytes.
    /// (`struct fuse_uring_req_header`.)
    pub fn new(bytes: &'a mut [u8; FUSE_URING_REQ_HEADER_SZ]) -> Self {
        HeaderMut { bytes }
    }

    /// A view of a header struct.
    /// (`struct fuse_uring_req_header`.)
    pub fn of(header: &'a mut fuse_uring_req_header) -> Self {
        // SAFETY: `fuse_uring_req_header` is `Pod` (288 plain bytes, no padding, any bit pattern
        // valid), so viewing it as a byte array for reading and writing is sound; the borrow is
        // carried over.
        let bytes = unsafe { &mut *(header as *mut fuse_uring_req_header as *mut [u8; FUSE_URING_REQ_HEADER_SZ]) };
        HeaderMut { bytes }
    }

    /// Read access.
    pub fn view(&self) -> HeaderView<'_> {
        HeaderView { bytes: self.bytes }
    }

    fn put<T: Pod>(&mut self, at: usize, room: usize, v: &T) -> Result<()> {
        let b = pod_bytes(v);
        if b.len() > room {
            return Err(Error::InvalidArgument { what: "FUSE header value", reason: "larger than its 128-byte area" });
        }
        self.bytes[at..at + b.len()].copy_from_slice(b);
        Ok(())
    }

    /// Writes a request header into `in_out` (for tests and models of the kernel side).
    pub fn set_in_header(&mut self, h: &fuse_in_header) {
        // 40 bytes fit the 128-byte area.
        let _ = self.put(0, FUSE_URING_IN_OUT_HEADER_SZ, h);
    }

    /// Writes the reply header into `in_out`.
    pub fn set_out_header(&mut self, h: &fuse_out_header) {
        // 16 bytes fit the 128-byte area.
        let _ = self.put(0, FUSE_URING_IN_OUT_HEADER_SZ, h);
    }

    /// Writes a per-opcode header (reply struct) into `op_in`; more than 128 bytes is refused.
    pub fn set_op<T: Pod>(&mut self, v: &T) -> Result<()> {
        self.put(FUSE_URING_IN_OUT_HEADER_SZ, FUSE_URING_OP_IN_OUT_SZ, v)
    }

    /// The raw per-opcode area.
    pub fn op_mut(&mut self) -> &mut [u8] {
        &mut self.bytes[FUSE_URING_IN_OUT_HEADER_SZ..FUSE_URING_IN_OUT_HEADER_SZ + FUSE_URING_OP_IN_OUT_SZ]
    }

    /// Writes `ring_ent_in_out`.
    pub fn set_ent_in_out(&mut self, e: &fuse_uring_ent_in_out) {
        let at = FUSE_URING_IN_OUT_HEADER_SZ + FUSE_URING_OP_IN_OUT_SZ;
        self.bytes[at..].copy_from_slice(pod_bytes(e));
    }

    /// Sets `ring_ent_in_out.payload_sz`: the bytes of reply payload written.
    pub fn set_payload_sz(&mut self, n: u32) {
        let mut e = self.view().ent_in_out();
        e.payload_sz = n;
        self.set_ent_in_out(&e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::cmd_area128;
    use crate::cmd::test_fields::{fields, Fields};
    use uring_uapi::*;

    #[test]
    fn register_bytes() {
        let mut header = fuse_uring_req_header::default();
        let mut payload = vec![0u8; 1 << 16];
        let iov = EntryIovecs::new(&mut header, &mut payload).unwrap();
        assert_eq!(iov.iovecs()[0].iov_len, 288);
        assert_eq!(iov.iovecs()[0].iov_base as usize, &header as *const _ as usize);
        assert_eq!(iov.iovecs()[1].iov_len, 1 << 16);
        let sqe = Register::new(Target::raw(5), 3, &iov).build();
        assert_eq!(sqe.opcode(), IORING_OP_URING_CMD);
        let f = fields(sqe.head());
        assert_eq!(
            Fields { addr3: 0, pad2: 0, ..f },
            Fields {
                opcode: IORING_OP_URING_CMD,
                fd: 5,
                off: FUSE_IO_URING_CMD_REGISTER as u64,
                addr: iov.as_ptr() as u64,
                len: 2,
                ..Default::default()
            }
        );
        let mut expect = [0u8; 80];
        expect[16..18].copy_from_slice(&3u16.to_ne_bytes());
        assert_eq!(cmd_area128(&sqe), expect, "flags 0, commit_id 0, qid 3, the rest zero");
        let (head, tail) = decode_req(&sqe);
        assert_eq!(head, fuse_uring_cmd_req_v1 { qid: 3, ..Default::default() });
        assert_eq!(tail, [0; 16]);
        // Linux 7.3 zero-copy index at byte 24.
        let sqe = Register::new(Target::fixed(0), 1, &iov).zero_copy_buf_index(0x1234).build();
        let area = cmd_area128(&sqe);
        assert_eq!(area[24..26], 0x1234u16.to_ne_bytes());
        assert_eq!(fields(sqe.head()).flags, IOSQE_FIXED_FILE);
        // Too small a payload buffer is refused.
        let mut small = [0u8; 4096];
        assert!(matches!(
            EntryIovecs::new(&mut header, &mut small),
            Err(Error::MemoryTooSmall { needed: 8192, provided: 4096 })
        ));
    }

    #[test]
    fn commit_and_queue_bytes() {
        let sqe = CommitAndFetch::new(Target::raw(5), 7, 0xAABB_CCDD_0011_2233).build();
        let f = fields(sqe.head());
        assert_eq!((f.off, f.addr, f.len), (FUSE_IO_URING_CMD_COMMIT_AND_FETCH as u64, 0, 0));
        let mut expect = [0u8; 80];
        expect[8..16].copy_from_slice(&0xAABB_CCDD_0011_2233u64.to_ne_bytes());
        expect[16..18].copy_from_slice(&7u16.to_ne_bytes());
        assert_eq!(cmd_area128(&sqe), expect);
        // The 24-byte (6.14) layout is the head of the 40-byte (7.3) one.
        let v1 = fuse_uring_cmd_req_v1 { flags: 0, commit_id: 0xAABB_CCDD_0011_2233, qid: 7, padding: [0; 6] };
        assert_eq!(&cmd_area128(&sqe)[..24], pod_bytes(&v1));

        let sqe = AddQueue::new(Target::raw(5), 2).zero_copy().build();
        let area = cmd_area128(&sqe);
        assert_eq!(area[..8], FUSE_URING_ZERO_COPY.to_ne_bytes());
        assert_eq!(area[16..18], 2u16.to_ne_bytes());
        assert_eq!(area[18..], [0u8; 62]);
        assert_eq!(fields(sqe.head()).off, FUSE_IO_URING_CMD_ADD_QUEUE as u64);

        let mut pool = vec![0u8; 1 << 20];
        let sqe = AddBufpool::new(Target::raw(5), 4, &mut pool).unwrap().fixed_buf(9).build();
        let f = fields(sqe.head());
        assert_eq!((f.off, f.op_flags, f.buf), (FUSE_IO_URING_CMD_ADD_BUFPOOL as u64, IORING_URING_CMD_FIXED, 9));
        let area = cmd_area128(&sqe);
        assert_eq!(area[16..18], 4u16.to_ne_bytes());
        assert_eq!(area[24..32], (pool.as_ptr() as u64).to_ne_bytes());
        assert_eq!(area[32..36], (1u32 << 20).to_ne_bytes());
        assert_eq!(area[36..80], [0u8; 44]);
        // Offsets of the 7.3 struct, as the kernel reads them.
        assert_eq!(core::mem::offset_of!(fuse_uring_cmd_req, u), 24);
        assert_eq!(core::mem::offset_of!(fuse_uring_cmd_req_bufpool, len), 8);
    }

    #[test]
    fn header_views() {
        let mut h = fuse_uring_req_header::default();
        {
            let mut m = HeaderMut::of(&mut h);
            m.set_in_header(&fuse_in_header {
                len: 80,
                opcode: FUSE_READ,
                unique: 42,
                nodeid: 7,
                uid: 1,
                gid: 2,
                pid: 3,
                total_extlen: 0,
                padding: 0,
            });
            m.set_op(&[0x11u8; 40]).unwrap();
            assert!(m.set_op(&[0u8; 129]).is_err());
            m.set_ent_in_out(&fuse_uring_ent_in_out { flags: 0, commit_id: 42, payload_sz: 0, offset: 0, reserved: 0 });
            m.set_payload_sz(4096);
        }
        assert_eq!(h.in_out[4..8], FUSE_READ.to_ne_bytes());
        assert_eq!(h.op_in[..40], [0x11; 40]);
        assert_eq!(h.ring_ent_in_out.commit_id, 42);
        assert_eq!(h.ring_ent_in_out.payload_sz, 4096);
        let v = HeaderView::of(&h);
        assert_eq!(v.in_header().unique, 42);
        assert_eq!(v.in_header().opcode, FUSE_READ);
        assert_eq!(v.commit_id(), 42);
        assert_eq!(v.payload_sz(), 4096);
        assert_eq!(v.op_in_as::<[u8; 40]>(), Some([0x11; 40]));
        assert_eq!(v.op_in_as::<[u8; 129]>(), None);
        // Byte-array views see the same thing.
        let mut raw = [0u8; 288];
        raw.copy_from_slice(pod_bytes(&h));
        let v = HeaderView::new(&raw);
        assert_eq!(v.ent_in_out(), h.ring_ent_in_out);
        let mut m = HeaderMut::new(&mut raw);
        m.set_out_header(&fuse_out_header { len: 16, error: -2, unique: 42 });
        assert_eq!(m.view().out_header(), fuse_out_header { len: 16, error: -2, unique: 42 });
        m.op_mut()[0] = 9;
        assert_eq!(raw[128], 9);
    }
}
