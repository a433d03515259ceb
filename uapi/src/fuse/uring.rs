//! FUSE over io_uring: `IORING_OP_URING_CMD` commands on the `/dev/fuse` fd (Linux 6.14, protocol 7.42).
//!
//! The commands need 128-byte SQEs; [`fuse_uring_cmd_req`] lives in the 80-byte command area
//! (`io_uring_sqe::addr3.cmd`), the `cmd_op` is a `FUSE_IO_URING_CMD_*` value. Each ring entry
//! is a [`fuse_uring_req_header`] plus a payload buffer.

/// Size of the `in_out` area of [`fuse_uring_req_header`] (holds a `fuse_in_header`/`fuse_out_header`).
pub const FUSE_URING_IN_OUT_HEADER_SZ: usize = 128;
/// Size of the `op_in` area of [`fuse_uring_req_header`] (holds the per-opcode header).
pub const FUSE_URING_OP_IN_OUT_SZ: usize = 128;

/// `fuse_uring_ent_in_out::flags`: the entry's payload was zero-copied (Linux 7.3).
pub const FUSE_URING_ENT_ZERO_COPY: u64 = 1 << 0;

/// Ring-entry metadata at the end of a [`fuse_uring_req_header`].
///
/// `offset` (at byte 20) was the unused `padding` field in Linux 6.14 to 7.2.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_uring_ent_in_out {
    /// `FUSE_URING_ENT_*` flags.
    pub flags: u64,
    /// Commit id to put in the COMMIT_AND_FETCH reply for this request.
    pub commit_id: u64,
    /// Size of the request/reply payload in the payload buffer.
    pub payload_sz: u32,
    /// Offset of the payload in the buffer pool, with buffer pools (Linux 7.3; `padding` before).
    pub offset: u32,
    /// Reserved.
    pub reserved: u64,
}
layout!(fuse_uring_ent_in_out: size 32, align 8;
    flags @ 0, commit_id @ 8, payload_sz @ 16, offset @ 20, reserved @ 24);

/// Header area of a FUSE-over-io_uring ring entry (288 bytes); the payload buffer is separate.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct fuse_uring_req_header {
    /// `fuse_in_header` (request) or `fuse_out_header` (reply).
    pub in_out: [u8; FUSE_URING_IN_OUT_HEADER_SZ],
    /// Per-opcode request or reply header.
    pub op_in: [u8; FUSE_URING_OP_IN_OUT_SZ],
    /// Ring-entry metadata.
    pub ring_ent_in_out: fuse_uring_ent_in_out,
}
layout!(fuse_uring_req_header: size 288, align 8; in_out @ 0, op_in @ 128, ring_ent_in_out @ 256);

impl Default for fuse_uring_req_header {
    fn default() -> Self {
        fuse_uring_req_header {
            in_out: [0; FUSE_URING_IN_OUT_HEADER_SZ],
            op_in: [0; FUSE_URING_OP_IN_OUT_SZ],
            ring_ent_in_out: fuse_uring_ent_in_out::default(),
        }
    }
}

// enum fuse_uring_cmd: the io_uring_sqe::cmd_op of /dev/fuse uring_cmds

/// FUSE uring_cmd (`cmd_op`): invalid.
pub const FUSE_IO_URING_CMD_INVALID: u32 = 0;
/// FUSE uring_cmd (`cmd_op`): register a ring entry (`addr` points to two iovecs: header, payload) and fetch a request.
pub const FUSE_IO_URING_CMD_REGISTER: u32 = 1;
/// FUSE uring_cmd (`cmd_op`): commit the reply for `commit_id` and fetch the next request.
pub const FUSE_IO_URING_CMD_COMMIT_AND_FETCH: u32 = 2;
/// FUSE uring_cmd (`cmd_op`): add a queue (Linux 7.3).
pub const FUSE_IO_URING_CMD_ADD_QUEUE: u32 = 3;
/// FUSE uring_cmd (`cmd_op`): add a buffer pool to a queue (Linux 7.3).
pub const FUSE_IO_URING_CMD_ADD_BUFPOOL: u32 = 4;

/// `fuse_uring_cmd_req::flags` for `FUSE_IO_URING_CMD_ADD_QUEUE`: zero-copy queue (needs buffer pools, privileged).
pub const FUSE_URING_ZERO_COPY: u64 = 1 << 0;

/// Command payload in the SQE command area, Linux 7.3 layout (40 bytes).
///
/// Linux 6.14 to 7.2 read only the first 24 bytes; see [`fuse_uring_cmd_req_v1`].
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct fuse_uring_cmd_req {
    /// `FUSE_URING_*` flags.
    pub flags: u64,
    /// Entry to commit (COMMIT_AND_FETCH): the request's `commit_id`.
    pub commit_id: u64,
    /// Queue index.
    pub qid: u16,
    /// Padding.
    pub padding: [u8; 6],
    /// Buffer pool or zero-copy index (the anonymous union, named `u` here).
    pub u: fuse_uring_cmd_req_u,
}
layout!(fuse_uring_cmd_req: size 40, align 8; flags @ 0, commit_id @ 8, qid @ 16, padding @ 18, u @ 24);

/// The anonymous union of [`fuse_uring_cmd_req`] (bytes 24..40).
#[repr(C)]
#[derive(Clone, Copy)]
pub union fuse_uring_cmd_req_u {
    /// Buffer pool description (`FUSE_IO_URING_CMD_ADD_BUFPOOL`).
    pub bufpool: fuse_uring_cmd_req_bufpool,
    /// Registered-buffer slot where the kernel places the request pages for zero copy
    /// (REGISTER on `FUSE_URING_ZERO_COPY` queues only; 0 otherwise).
    pub ent_zero_copy_buf_index: u16,
}
layout!(fuse_uring_cmd_req_u: size 16, align 8; bufpool @ 0, ent_zero_copy_buf_index @ 0);
union_default!(fuse_uring_cmd_req_u { bufpool: fuse_uring_cmd_req_bufpool { uaddr: 0, len: 0, reserved: 0 } });
union_debug!(fuse_uring_cmd_req_u, bufpool);

/// `bufpool` member of [`fuse_uring_cmd_req_u`].
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_uring_cmd_req_bufpool {
    /// Base address of the buffer pool.
    pub uaddr: u64,
    /// Length of the buffer pool.
    pub len: u32,
    /// Reserved.
    pub reserved: u32,
}
layout!(fuse_uring_cmd_req_bufpool: size 16, align 8; uaddr @ 0, len @ 8, reserved @ 12);

/// Command payload in the SQE command area, Linux 6.14 to 7.2 layout (24 bytes).
///
/// Not a kernel name: the pre-7.3 `struct fuse_uring_cmd_req`, identical to the first 24 bytes
/// of the current [`fuse_uring_cmd_req`].
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct fuse_uring_cmd_req_v1 {
    /// Flags (none defined before 7.3).
    pub flags: u64,
    /// Entry to commit (COMMIT_AND_FETCH): the request's `commit_id`.
    pub commit_id: u64,
    /// Queue index.
    pub qid: u16,
    /// Padding.
    pub padding: [u8; 6],
}
layout!(fuse_uring_cmd_req_v1: size 24, align 8; flags @ 0, commit_id @ 8, qid @ 16, padding @ 18);
