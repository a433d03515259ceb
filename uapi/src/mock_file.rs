//! `linux/io_uring/mock_file.h`: the io_uring mock-file test driver (`/dev/io_uring_mock`).

/// Mock feature (numbered; `io_uring_mock_probe::features` reports the count): uring_cmd copy.
pub const IORING_MOCK_FEAT_CMD_COPY: u64 = 0;
/// Mock feature: reads and writes of zeroes.
pub const IORING_MOCK_FEAT_RW_ZERO: u64 = 1;
/// Mock feature: non-blocking reads and writes.
pub const IORING_MOCK_FEAT_RW_NOWAIT: u64 = 2;
/// Mock feature: asynchronous reads and writes.
pub const IORING_MOCK_FEAT_RW_ASYNC: u64 = 3;
/// Mock feature: poll support.
pub const IORING_MOCK_FEAT_POLL: u64 = 4;
/// One past the highest mock feature.
pub const IORING_MOCK_FEAT_END: u64 = 5;

/// Result of `IORING_MOCK_MGR_CMD_PROBE`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct io_uring_mock_probe {
    /// Supported features (`IORING_MOCK_FEAT_*`).
    pub features: u64,
    /// Reserved.
    pub __resv: [u64; 9],
}
layout!(io_uring_mock_probe: size 80, align 8; features @ 0, __resv @ 8);

/// `io_uring_mock_create::flags`: the mock file supports non-blocking I/O.
pub const IORING_MOCK_CREATE_F_SUPPORT_NOWAIT: u32 = 1;
/// `io_uring_mock_create::flags`: the mock file supports poll.
pub const IORING_MOCK_CREATE_F_POLL: u32 = 2;

/// Argument of `IORING_MOCK_MGR_CMD_CREATE`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct io_uring_mock_create {
    /// Output: fd of the new mock file.
    pub out_fd: u32,
    /// `IORING_MOCK_CREATE_F_*` flags.
    pub flags: u32,
    /// Size of the mock file.
    pub file_size: u64,
    /// Delay of each read/write in nanoseconds.
    pub rw_delay_ns: u64,
    /// Reserved, must be zero.
    pub __resv: [u64; 13],
}
layout!(io_uring_mock_create: size 128, align 8;
    out_fd @ 0, flags @ 4, file_size @ 8, rw_delay_ns @ 16, __resv @ 24);

/// Mock manager uring_cmd (`cmd_op`): probe features.
pub const IORING_MOCK_MGR_CMD_PROBE: u32 = 0;
/// Mock manager uring_cmd (`cmd_op`): create a mock file.
pub const IORING_MOCK_MGR_CMD_CREATE: u32 = 1;

/// Mock file uring_cmd (`cmd_op`): copy between a registered buffer and user memory.
pub const IORING_MOCK_CMD_COPY_REGBUF: u32 = 0;

/// `IORING_MOCK_CMD_COPY_REGBUF` flag (in `io_uring_sqe::file_index`): copy from the registered buffer.
pub const IORING_MOCK_COPY_FROM: u32 = 1;
