//! Encoding NOPs with arbitrary options: the SQE fields decode back to what was asked, and no
//! other field is set.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use uring::{op, SqeFlags};

#[derive(Arbitrary, Debug)]
struct Input {
    user_data: u64,
    flags: u8,
    personality: u16,
    inject: Option<i32>,
    task_work: bool,
    cqe32: Option<[u64; 2]>,
}

fuzz_target!(|i: Input| {
    let mut nop = op::Nop::new();
    if let Some(r) = i.inject {
        nop = nop.inject_result(r);
    }
    if i.task_work {
        nop = nop.task_work();
    }
    if let Some(x) = i.cqe32 {
        nop = nop.cqe32(x);
    }
    let flags = SqeFlags::from_bits_retain(i.flags);
    let sqe = nop.build().user_data(i.user_data).flags(flags).personality(i.personality).into_sqe();
    let raw = sqe.as_raw();
    assert_eq!(raw.opcode, uring::uapi::IORING_OP_NOP);
    assert_eq!(raw.user_data, i.user_data);
    assert_eq!(raw.flags, i.flags);
    assert_eq!(raw.personality, i.personality);
    assert_eq!(raw.fd, -1);
    assert_eq!(raw.ioprio, 0);
    // SAFETY: plain-integer unions; any bit pattern is valid.
    let (nop_flags, off, addr, buf, file, addr3) = unsafe {
        (
            raw.op_flags.nop_flags,
            raw.off.off,
            raw.addr.addr,
            raw.buf.buf_index,
            raw.file.file_index,
            raw.addr3.addr3.addr3,
        )
    };
    let mut want = 0;
    if i.inject.is_some() {
        want |= uring::uapi::IORING_NOP_INJECT_RESULT;
    }
    if i.task_work {
        want |= uring::uapi::IORING_NOP_TW;
    }
    if i.cqe32.is_some() {
        want |= uring::uapi::IORING_NOP_CQE32;
    }
    assert_eq!(nop_flags, want);
    assert_eq!(raw.len, i.inject.unwrap_or(0) as u32);
    assert_eq!([off, addr], i.cqe32.unwrap_or([0, 0]));
    assert_eq!((buf, file, addr3), (0, 0, 0));
});
