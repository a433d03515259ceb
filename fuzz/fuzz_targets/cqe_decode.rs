//! Decoding arbitrary completions: flags, buffer id, result and the 32-byte extension never
//! panic and agree with the raw fields; results below -4095 are no errno; `Debug` of the flags
//! names a buffer id as `bid=`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use uring::{Cqe, Cqe32, CqeFlags, Errno};

fuzz_target!(|input: (u64, i32, u32, [u64; 2])| {
    let (user_data, res, flags, big) = input;
    let cqe = Cqe::new(user_data, res, flags);
    assert_eq!(cqe.user_data(), user_data);
    assert_eq!(cqe.raw_flags(), flags);
    assert_eq!(cqe.flags().bits(), flags);
    match cqe.result() {
        Ok(v) => assert_eq!(v as i64, res as i64),
        // Only -4095..=-1 are errnos; below that, no errno is made up.
        Err(e) if res >= -Errno::MAX_ERRNO => {
            assert!(res < 0 && e.is_kernel_errno());
            assert_eq!(e.raw_os_error(), -res);
        }
        Err(e) => {
            assert!(res < -Errno::MAX_ERRNO);
            assert_eq!(e, Errno::NOT_AN_ERRNO);
            let io: std::io::Error = e.into();
            assert_eq!(io.raw_os_error(), None);
        }
    }
    // Debug never shows a buffer id's bit 16 as TSTAMP_HW, and names the id.
    let dbg = format!("{:?}", cqe.flags());
    if let Some(bid) = cqe.buffer_id() {
        assert!(!dbg.contains("TSTAMP_HW"), "{dbg}");
        assert!(dbg.ends_with(&format!(", bid={bid})")), "{dbg}");
    }
    assert_eq!(cqe.buffer_id().is_some(), cqe.flags().contains(CqeFlags::BUFFER));
    if let Some(bid) = cqe.buffer_id() {
        assert_eq!(bid as u32, flags >> 16);
    }
    assert_eq!(cqe.more(), flags & 2 != 0);
    let big_cqe = Cqe32::new(cqe, big);
    assert_eq!(big_cqe.big_cqe(), big);
    let as_u128: u128 = big_cqe.big_cqe_as();
    assert_eq!(as_u128, (big[1] as u128) << 64 | big[0] as u128);
});
