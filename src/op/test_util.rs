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
