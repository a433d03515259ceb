//! Probing the kernel: register operations, query, NAPI, the wait clock, and the full report.

mod common;

use std::time::Duration;

use uring::napi::{Clock, Napi, NapiTracking};
use uring::probe::{Capabilities, RegisterSupport};
use uring::uapi::*;
use uring::{Error, Features, Ring};

#[test]
fn capabilities_report() {
    let caps = Capabilities::detect().unwrap();
    assert!(caps.probe.is_supported(IORING_OP_NOP));
    assert_eq!(caps.register_ops.len(), IORING_REGISTER_LAST as usize);
    // Operations every kernel this suite runs on has (5.19+ for PBUF_RING).
    for op in [IORING_REGISTER_PROBE, IORING_UNREGISTER_BUFFERS, IORING_UNREGISTER_FILES, IORING_REGISTER_PBUF_RING] {
        let (_, name, s) = caps.register_ops[op as usize];
        assert!(matches!(s, RegisterSupport::Yes(_)), "{name}: {s:?}");
    }
    assert!(caps.features.nodrop() && caps.features.ext_arg());
    assert_eq!(caps.features.raw(), caps.features.bits());
    assert_eq!(caps.setup_flags.len(), 21);
    assert!(caps.kmbuf.is_ok());
}

#[test]
fn query_chain() {
    match uring::query::query_all(None) {
        Ok(all) => {
            let op = all.opcodes.expect("opcode query");
            assert!(op.nr_request_opcodes > IORING_OP_NOP128 as u32 || op.nr_request_opcodes > 60);
            assert!(op.nr_register_opcodes > IORING_REGISTER_QUERY);
            let ring = Ring::new(2).unwrap();
            assert_eq!(op.feature_flags & ring.features().bits() as u64, ring.features().bits() as u64);
            let single: io_uring_query_opcode = uring::query::query(Some(&ring)).unwrap();
            assert_eq!(single.nr_request_opcodes, op.nr_request_opcodes);
        }
        Err(Error::Unsupported { what }) => common::skip("query_chain", what),
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn napi_round_trip() {
    let ring = Ring::new(2).unwrap();
    let want = Napi { busy_poll_timeout_us: 50, prefer_busy_poll: true, tracking: NapiTracking::Dynamic };
    match ring.submitter().register_napi(want) {
        Ok(_) => {
            let got = ring.submitter().unregister_napi().unwrap();
            assert_eq!(got.busy_poll_timeout_us, 50);
            assert!(got.prefer_busy_poll);
            // Static tracking (6.13): add and remove an id.
            let stat = Napi { tracking: NapiTracking::Static, ..want };
            if ring.submitter().register_napi(stat).is_ok() {
                match ring.submitter().napi_add_id(12345) {
                    Ok(()) => ring.submitter().napi_del_id(12345).unwrap(),
                    Err(e) => common::note("napi_round_trip", format!("static id add refused: {e}")),
                }
                ring.submitter().unregister_napi().unwrap();
            }
        }
        Err(e) if matches!(e.raw_os_error(), Some(libc::EINVAL | libc::EOPNOTSUPP)) => {
            common::skip("napi_round_trip", format!("NAPI busy poll unavailable: {e}"))
        }
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn wait_clock() {
    let mut ring = Ring::new(2).unwrap();
    if !ring.features().contains(Features::MIN_TIMEOUT) {
        common::skip("wait_clock", "kernel lacks IORING_REGISTER_CLOCK (6.12)");
        return;
    }
    ring.submitter().register_clock(Clock::Boottime).unwrap();
    let e = ring.wait_cqe_timeout(Duration::from_millis(10)).unwrap_err();
    assert!(e.is_errno(libc::ETIME));
    ring.submitter().register_clock(Clock::Monotonic).unwrap();
}
