//! Test support shared by the encoder unit tests: every SQE field in one comparable struct.

use crate::sqe::Sqe;

/// Every field of an entry, read out of the kernel struct (unused fields read 0).
#[derive(Debug, Default, PartialEq, Eq, Clone, Copy)]
pub(crate) struct Fields {
    pub opcode: u8,
    pub flags: u8,
    pub ioprio: u16,
    pub fd: i32,
    pub off: u64,
    pub addr: u64,
    pub len: u32,
    pub op_flags: u32,
    pub user_data: u64,
    pub buf: u16,
    pub personality: u16,
    pub file: u32,
    pub addr3: u64,
    pub pad2: u64,
}

/// Reads out every field of `sqe`.
pub(crate) fn fields(sqe: &Sqe) -> Fields {
    let s = sqe.as_raw();
    // SAFETY: every member of these unions is a plain integer (or an array or struct of
    // them) covering the width read; any bit pattern is valid.
    unsafe {
        Fields {
            opcode: s.opcode,
            flags: s.flags,
            ioprio: s.ioprio,
            fd: s.fd,
            off: s.off.off,
            addr: s.addr.addr,
            len: s.len,
            op_flags: s.op_flags.rw_flags,
            user_data: s.user_data,
            buf: s.buf.buf_index,
            personality: s.personality,
            file: s.file.file_index,
            addr3: s.addr3.addr3.addr3,
            pad2: s.addr3.addr3.__pad2[0],
        }
    }
}

/// `IOSQE_FIXED_FILE`, as the tables spell it.
pub(crate) const FIXED: u8 = uring_uapi::IOSQE_FIXED_FILE;
/// `IOSQE_BUFFER_SELECT`, as the tables spell it.
pub(crate) const SELECT: u8 = uring_uapi::IOSQE_BUFFER_SELECT;

/// One row of an encoding table: what is encoded, the entry, and every field it must have.
pub(crate) type Case = (&'static str, Sqe, Fields);

/// Checks every row of an encoding table, naming the row that differs.
#[track_caller]
pub(crate) fn check(cases: &[Case]) {
    for (name, sqe, want) in cases {
        assert_eq!(fields(sqe), *want, "{name}");
    }
}

/// `u32::MAX + 1` bytes of reserved memory, never touched: a buffer one byte too long for an
/// entry's 32-bit length field, for the tests of the length rule (mapped `MAP_NORESERVE`, so it
/// costs no memory).
#[cfg(target_pointer_width = "64")]
pub(crate) struct TooLong(crate::sys::Mmap);

#[cfg(target_pointer_width = "64")]
impl TooLong {
    pub(crate) fn new() -> Self {
        TooLong(crate::sys::Mmap::reserve(u32::MAX as usize + 1).expect("reserving 4 GiB of address space"))
    }

    /// The whole range as bytes.
    pub(crate) fn bytes(&mut self) -> &mut [u8] {
        // SAFETY: a private read/write mapping of `len()` bytes that only this value owns (the
        // pages read as zeros until written).
        unsafe { core::slice::from_raw_parts_mut(self.0.as_ptr(), self.0.len()) }
    }
}

/// A group the kernel manages (kmbuf), which user-space reads and receives must refuse.
pub(crate) struct KernelGroup;

impl crate::op::BufferGroup for KernelGroup {
    fn bgid(&self) -> u16 {
        1
    }

    fn is_kernel_managed(&self) -> bool {
        true
    }
}
