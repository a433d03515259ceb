//! Zero-copy receive queue registration and BPF request filters: exercised where the kernel
//! has them, otherwise the typed error is checked and the skip printed.

mod common;

use uring::bpf_filter::{register_ring_filter, BpfFilter, SockFilter};
use uring::zcrx::ZcrxBuilder;
use uring::{op, Error, Ring};

fn zcrx_ring() -> Ring {
    Ring::builder().defer_taskrun().cqe32().build(8).unwrap()
}

#[test]
fn zcrx_registration() {
    let mut ring = zcrx_ring();
    // Bad arguments are refused before the kernel.
    assert!(matches!(ZcrxBuilder::new(1, 0, 3, 4096).build(&mut ring), Err(Error::NotPowerOfTwo { .. })));
    assert!(matches!(ZcrxBuilder::new(1, 0, 4, 0).build(&mut ring), Err(Error::InvalidArgument { .. })));
    // No device: supported from Linux 7.x.
    match ZcrxBuilder::new(0, 0, 64, 1 << 20).no_device().build(&mut ring) {
        Ok(mut z) => {
            assert!(z.id() < 1024);
            let token = z.area_token();
            let refill = z.refill();
            assert!(refill.push(0, 4096));
            refill.publish();
            let _ = token;
            z.flush_refill(&ring).unwrap();
            common::note("zcrx_registration", "registered a ZCRX_REG_NODEV queue");
        }
        Err(e) => {
            // The errno is kept (EINVAL for an unknown flag, EOPNOTSUPP/ENODEV otherwise).
            assert!(e.raw_os_error().is_some(), "{e}");
            common::skip("zcrx_registration", format!("kernel refused a ZCRX_REG_NODEV queue (Linux 7.x): {e}"));
        }
    }
}

#[test]
fn bpf_filter_denies_an_opcode() {
    let mut ring = Ring::new(4).unwrap();
    // BPF_RET | BPF_K with k = 0: deny.
    let deny = [SockFilter { code: 0x06, jt: 0, jf: 0, k: 0 }];
    let f = BpfFilter { opcode: uring::uapi::IORING_OP_NOP, flags: 0, program: &deny };
    match register_ring_filter(&ring, &f) {
        Ok(()) => {
            ring.sq().push(&op::Nop::new().build().user_data(1)).unwrap();
            let cqe = ring.wait_cqe().unwrap();
            assert!(cqe.result().is_err(), "the filter denied the NOP: {:?}", cqe.result());
        }
        // The crate reports EINVAL as Unsupported: here it can only mean a kernel without the
        // interface, as the filter is valid.
        Err(Error::Unsupported { .. }) => common::skip(
            "bpf_filter_denies_an_opcode",
            "kernel lacks IORING_REGISTER_BPF_FILTER (EINVAL; Linux 7.x has it)",
        ),
        Err(e) => panic!("{e}"),
    }
    let empty = BpfFilter { opcode: 0, flags: 0, program: &[] };
    assert!(matches!(register_ring_filter(&ring, &empty), Err(Error::InvalidArgument { .. })));
}
