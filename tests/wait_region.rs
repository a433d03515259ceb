//! Registered wait arguments (IORING_REGISTER_MEM_REGION + IORING_ENTER_EXT_ARG_REG, 6.13).

mod common;

use std::time::{Duration, Instant};

use uring::wait_region::RegWait;
use uring::{op, Error, Ring};

fn region_ring(test: &str, kernel_memory: bool) -> Option<Ring> {
    let mut ring = Ring::builder().r_disabled().build(8).unwrap();
    match ring.register_wait_region(4, kernel_memory) {
        Ok(()) => {}
        Err(e) if e.is_errno(libc::EINVAL) => {
            common::skip(test, "kernel lacks IORING_MEM_REGION_REG_WAIT_ARG (6.13)");
            return None;
        }
        Err(e) => panic!("{e}"),
    }
    ring.enable_rings().unwrap();
    Some(ring)
}

#[test]
fn registered_wait_times_out_and_rejects_bad_index() {
    for kernel_memory in [false, true] {
        let Some(mut ring) = region_ring("registered_wait_times_out_and_rejects_bad_index", kernel_memory) else {
            return;
        };
        ring.set_wait_arg(1, RegWait { timeout: Some(Duration::from_millis(20)), min_wait: None }).unwrap();
        let start = Instant::now();
        let e = ring.submit_and_wait_reg(1, 1).unwrap_err();
        assert!(e.is_errno(libc::ETIME), "{e}");
        assert!(start.elapsed() >= Duration::from_millis(15));
        // With a completion to wait for, the same entry returns it.
        ring.sq().push(&op::Nop::new().build().user_data(5)).unwrap();
        assert_eq!(ring.submit_and_wait_reg(1, 1).unwrap(), 1);
        assert_eq!(ring.cq().pop().unwrap().user_data(), 5);
        // A bad index is refused before the kernel sees it.
        let entries = ring.wait_args_mut().unwrap().len();
        assert!(matches!(ring.submit_and_wait_reg(1, entries), Err(Error::InvalidArgument { .. })));
        assert!(matches!(ring.set_wait_arg(entries, RegWait::default()), Err(Error::InvalidArgument { .. })));
    }
}

#[test]
fn region_needs_a_disabled_ring() {
    let mut ring = Ring::new(4).unwrap();
    assert!(matches!(ring.register_wait_region(4, false), Err(Error::WrongRingKind { .. })));
    assert!(matches!(ring.submit_and_wait_reg(1, 0), Err(Error::InvalidArgument { .. })));
}
