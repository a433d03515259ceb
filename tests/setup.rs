//! Ring setup: flags, memory the caller provides, big entries, mixed rings, and bad input.

mod common;

use uring::{op, Builder, Error, Ring, RingMemory, SetupFlags};

#[test]
fn bad_input_gives_typed_errors() {
    assert!(matches!(Ring::new(0), Err(Error::ZeroEntries)));
    assert!(matches!(Ring::new(65536), Err(Error::TooManyEntries { queue: "SQ", requested: 65536, max: 32768 })));
    // CLAMP turns the same request into the maximum.
    let ring = Ring::builder().clamp().build(65536).unwrap();
    assert_eq!(ring.params().sq_entries, 32768);
    assert!(matches!(
        Ring::builder().cq_entries(4).build(8),
        Err(Error::InvalidCqSize { sq_entries: 8, cq_entries: 4 })
    ));
    assert!(matches!(Ring::builder().cq_entries(0).build(8), Err(Error::InvalidCqSize { .. })));
    assert!(matches!(Ring::builder().cq_entries(1 << 20).build(8), Err(Error::TooManyEntries { queue: "CQ", .. })));
    let conflicts: [(Builder, &str); 8] = [
        (Ring::builder().sqpoll(0).coop_taskrun(), "IORING_SETUP_SQPOLL"),
        (Ring::builder().taskrun_flag(), "IORING_SETUP_TASKRUN_FLAG"),
        (Ring::builder().flags(SetupFlags::DEFER_TASKRUN), "IORING_SETUP_DEFER_TASKRUN"),
        (Ring::builder().flags(SetupFlags::HYBRID_IOPOLL), "IORING_SETUP_HYBRID_IOPOLL"),
        (Ring::builder().sqe128().sqe_mixed(), "IORING_SETUP_SQE_MIXED"),
        (Ring::builder().cqe32().cqe_mixed(), "IORING_SETUP_CQE_MIXED"),
        (Ring::builder().registered_fd_only(), "IORING_SETUP_REGISTERED_FD_ONLY"),
        (Ring::builder().flags(SetupFlags::SQ_AFF), "IORING_SETUP_SQ_AFF"),
    ];
    for (b, flag) in conflicts {
        match b.build(4) {
            Err(Error::ConflictingFlags { flag: f, reason }) => {
                assert_eq!(f, flag);
                assert!(!reason.is_empty());
            }
            other => panic!("{flag}: expected ConflictingFlags, got {other:?}"),
        }
    }
    assert!(matches!(
        Ring::builder().sqpoll(0).sq_rewind().build(4),
        Err(Error::ConflictingFlags { flag: "IORING_SETUP_SQ_REWIND", .. })
    ));
    assert!(matches!(
        Ring::builder().flags(SetupFlags::NO_MMAP).build(4),
        Err(Error::ConflictingFlags { flag: "IORING_SETUP_NO_MMAP", .. })
    ));
    // Errors name the problem in their message, and convert to io::Error.
    let e = Ring::new(0).unwrap_err();
    assert!(e.to_string().contains("0"));
    let io: std::io::Error = Ring::new(65536).unwrap_err().into();
    assert_eq!(io.kind(), std::io::ErrorKind::InvalidInput);
}

#[test]
fn sizes_round_like_the_kernel() {
    let s = Ring::builder().sizes(100).unwrap();
    assert_eq!((s.sq_entries, s.cq_entries), (128, 256));
    let s = Ring::builder().cq_entries(100).sizes(100).unwrap();
    assert_eq!((s.sq_entries, s.cq_entries), (128, 128));
    let ring = Ring::builder().cq_entries(100).build(100).unwrap();
    assert_eq!(ring.params().sq_entries, 128);
    assert_eq!(ring.params().cq_entries, 128);
    // Memory sizes: SQEs and rings, each page-rounded.
    let m = Ring::builder().memory_size(8).unwrap();
    assert_eq!(m, 2 * 4096);
    assert!(Ring::builder().sqe128().cqe32().memory_size(4096).unwrap() > Ring::builder().memory_size(4096).unwrap());
    assert!(Ring::builder().mlock_size(8).unwrap() >= 4096);
}

fn nop_round_trip(ring: &mut Ring, n: u64) {
    for i in 0..n {
        ring.sq().push(&op::Nop::new().build().user_data(i)).unwrap();
    }
    assert_eq!(ring.submit_and_wait(n as u32).unwrap(), n as u32);
    let mut got: Vec<u64> = ring.cq().iter().map(|c| c.user_data()).collect();
    got.sort();
    assert_eq!(got, (0..n).collect::<Vec<_>>());
}

/// NO_MMAP with memory the caller provides: the ring works, the reported size is what the kernel
/// uses, and canary bytes right past it stay intact.
#[test]
fn no_mmap_caller_memory_with_canary() {
    let need = Ring::builder().memory_size(64).unwrap();
    let page = 4096;
    let total = need + page;
    let layout = std::alloc::Layout::from_size_align(total, page).unwrap();
    // SAFETY: non-zero size.
    let mem = unsafe { std::alloc::alloc_zeroed(layout) };
    assert!(!mem.is_null());
    // SAFETY: the canary region lies inside the allocation.
    unsafe { std::ptr::write_bytes(mem.add(need), 0xA5, page) };
    {
        // SAFETY: the allocation outlives the ring (dropped at the end of this block) and is
        // used by nothing else meanwhile.
        let memory = unsafe { RingMemory::caller(mem, total) };
        let mut ring = match Ring::builder().no_mmap(memory).build(64) {
            Ok(r) => r,
            Err(e) if common::is_einval(&e) => {
                common::skip("no_mmap_caller_memory_with_canary", "kernel lacks IORING_SETUP_NO_MMAP (6.5)");
                // SAFETY: allocated above with this layout.
                unsafe { std::alloc::dealloc(mem, layout) };
                return;
            }
            Err(e) => panic!("{e}"),
        };
        assert_eq!(ring.memory_used(), Some(need));
        for _ in 0..50 {
            nop_round_trip(&mut ring, 64);
        }
    }
    // SAFETY: inside the allocation.
    let canary = unsafe { std::slice::from_raw_parts(mem.add(need), page) };
    assert!(canary.iter().all(|&b| b == 0xA5), "ring wrote past the reported size");
    // SAFETY: allocated above with this layout.
    unsafe { std::alloc::dealloc(mem, layout) };
    // Too small or misaligned memory is refused before the kernel sees it.
    let mut small = vec![0u8; 4096 * 4];
    // SAFETY: not used: the build fails on validation.
    let m = unsafe { RingMemory::caller(small.as_mut_ptr(), 100) };
    assert!(matches!(
        Ring::builder().no_mmap(m).build(64),
        Err(Error::MemoryTooSmall { .. }) | Err(Error::Misaligned { .. })
    ));
}

#[test]
fn no_mmap_crate_memory() {
    let mut ring = match Ring::builder().no_mmap(RingMemory::Anonymous).build(128) {
        Ok(r) => r,
        Err(e) if common::is_einval(&e) => {
            common::skip("no_mmap_crate_memory", "kernel lacks IORING_SETUP_NO_MMAP (6.5)");
            return;
        }
        Err(e) => panic!("{e}"),
    };
    nop_round_trip(&mut ring, 128);
    match Ring::builder().no_mmap(RingMemory::HugePage).build(128) {
        Ok(mut r) => nop_round_trip(&mut r, 128),
        Err(e) => common::skip("no_mmap_crate_memory", format!("the huge-page part: no free 2 MiB huge page: {e}")),
    }
}

/// REGISTERED_FD_ONLY: the ring has no fd at all, only a registered index, and works.
#[test]
fn registered_fd_only() {
    let mut ring = match Ring::builder().no_mmap(RingMemory::Anonymous).registered_fd_only().build(16) {
        Ok(r) => r,
        Err(e) if common::is_einval(&e) => {
            common::skip("registered_fd_only", "kernel lacks IORING_SETUP_REGISTERED_FD_ONLY (6.5)");
            return;
        }
        Err(e) => panic!("{e}"),
    };
    assert!(ring.submitter().fd().is_none());
    assert!(ring.submitter().is_ring_fd_registered());
    nop_round_trip(&mut ring, 16);
    let probe = uring::Probe::of(&ring).unwrap();
    assert!(probe.is_supported(uring::uapi::IORING_OP_NOP));
}

/// SQE128 and CQE32 rings: NOPs round-trip; a NOP asking for a 32-byte completion echoes its
/// extra data.
#[test]
fn sqe128_cqe32() {
    let mut ring = Ring::builder().sqe128().cqe32().build(8).unwrap();
    nop_round_trip(&mut ring, 8);
    ring.sq().push128(&op::Nop::new().build().user_data(5).into128()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ring.wait_cqe().unwrap().user_data(), 5);
    ring.sq().push(&op::Nop::new().cqe32([0x1111, 0x2222]).build().user_data(9)).unwrap();
    ring.submit_and_wait(1).unwrap();
    let cqe = ring.cq().pop32().unwrap();
    if cqe.raw_result() == -libc::EINVAL {
        common::skip("sqe128_cqe32", "the 32-byte NOP result part: kernel lacks IORING_NOP_CQE32 (6.18)");
        return;
    }
    assert_eq!(cqe.user_data(), 9);
    assert_eq!(cqe.big_cqe(), [0x1111, 0x2222]);
    let v: u128 = cqe.big_cqe_as();
    assert_eq!(v, 0x2222u128 << 64 | 0x1111);
}

/// A 128-byte entry on a 64-byte ring is refused with a typed error.
#[test]
fn sqe128_on_small_ring_is_refused() {
    let mut ring = Ring::new(4).unwrap();
    let e = ring.sq().push128(&op::Nop128::new().build()).unwrap_err();
    assert_eq!(e, uring::PushError128::RingTooSmall);
    let e: Error = e.into();
    assert!(matches!(e, Error::WrongRingKind { .. }));
}

/// CQE_MIXED (Linux 6.18): 16- and 32-byte completions share the ring; a 32-byte one that would
/// straddle the wrap is preceded by a skip entry, which the crate hides.
#[test]
fn cqe_mixed() {
    let mut ring = match Ring::builder().cqe_mixed().cq_entries(8).build(8) {
        Ok(r) => r,
        Err(e) if common::is_einval(&e) => {
            common::skip("cqe_mixed", "kernel lacks IORING_SETUP_CQE_MIXED (6.18)");
            return;
        }
        Err(e) => panic!("{e}"),
    };
    assert!(ring.cq().is_mixed());
    // Round after round: one small, one big completion (3 slots). 8 slots do not divide by 3,
    // so big entries regularly hit the last slot and force a skip entry.
    for round in 0..40u64 {
        ring.sq().push(&op::Nop::new().build().user_data(round * 2)).unwrap();
        ring.sq().push(&op::Nop::new().cqe32([round, !round]).build().user_data(round * 2 + 1)).unwrap();
        ring.submit_and_wait(2).unwrap();
        let a = ring.cq().pop32().unwrap();
        if a.raw_result() == -libc::EINVAL {
            common::skip("cqe_mixed", "kernel lacks IORING_NOP_CQE32");
            return;
        }
        assert_eq!(a.user_data(), round * 2);
        assert!(!a.flags().contains(uring::CqeFlags::CQE_32));
        let b = ring.cq().pop32().unwrap();
        assert_eq!(b.user_data(), round * 2 + 1);
        assert!(b.flags().contains(uring::CqeFlags::CQE_32));
        assert_eq!(b.big_cqe(), [round, !round]);
        assert!(ring.cq().pop().is_none());
    }
}

/// SQE_MIXED (Linux 6.19+): 128-byte entries take two slots, padded at the wrap.
#[test]
fn sqe_mixed() {
    let mut ring = match Ring::builder().sqe_mixed().build(8) {
        Ok(r) => r,
        Err(e) if common::is_einval(&e) => {
            common::skip("sqe_mixed", "kernel lacks IORING_SETUP_SQE_MIXED");
            return;
        }
        Err(e) => panic!("{e}"),
    };
    let probe = uring::Probe::of(&ring).unwrap();
    if !probe.is_supported(uring::uapi::IORING_OP_NOP128) {
        common::skip("sqe_mixed", "kernel lacks IORING_OP_NOP128");
        return;
    }
    for round in 0..20u64 {
        // small + big = 3 slots: big entries regularly land on the last slot and get a pad.
        ring.sq().push(&op::Nop::new().build().user_data(round * 2)).unwrap();
        ring.sq().push128(&op::Nop128::new().build().user_data(round * 2 + 1)).unwrap();
        ring.submit_and_wait(2).unwrap();
        let mut got: Vec<u64> = ring
            .cq()
            .iter()
            .map(|c| {
                assert_eq!(c.result(), Ok(0));
                c.user_data()
            })
            .collect();
        got.sort();
        assert_eq!(got, vec![round * 2, round * 2 + 1], "the pad NOP must not post a completion");
    }
}

/// Every setup flag the builder can express reaches the kernel as the right bit.
#[test]
fn builder_expresses_every_flag() {
    let b = Ring::builder()
        .iopoll()
        .hybrid_iopoll()
        .sqpoll(10)
        .sq_thread_cpu(0)
        .cq_entries(64)
        .clamp()
        .r_disabled()
        .submit_all()
        .coop_taskrun()
        .taskrun_flag()
        .sqe128()
        .cqe32()
        .single_issuer()
        .defer_taskrun()
        .registered_fd_only()
        .sq_rewind()
        .cqe_mixed()
        .sqe_mixed()
        .no_mmap(RingMemory::Anonymous)
        .flags(SetupFlags::ATTACH_WQ);
    assert_eq!(b.setup_flags().bits().count_ones(), 21);
    assert_eq!(SetupFlags::all().bits(), (1 << 21) - 1);
}

#[test]
fn r_disabled_then_enable() {
    let mut ring = Ring::builder().r_disabled().build(4).unwrap();
    ring.sq().push(&op::Nop::new().build()).unwrap();
    let e = ring.submit().unwrap_err();
    assert_eq!(e.raw_os_error(), Some(libc::EBADFD));
    ring.enable_rings().unwrap();
    assert_eq!(ring.submit_and_wait(1).unwrap(), 1);
}

#[test]
fn attach_wq_and_sq_array_fallback_and_dontfork() {
    use std::os::fd::AsFd;
    let first = Ring::new(4).unwrap();
    let mut second = Ring::builder().attach_wq(first.submitter().fd().unwrap().as_fd()).dontfork().build(4).unwrap();
    assert!(second.setup_flags().contains(SetupFlags::ATTACH_WQ));
    nop_round_trip(&mut second, 4);
    let mut arr = Ring::builder().sq_array().build(4).unwrap();
    assert!(!arr.setup_flags().contains(SetupFlags::NO_SQARRAY));
    nop_round_trip(&mut arr, 4);
    let mut rw = match Ring::builder().sq_rewind().build(8) {
        Ok(r) => r,
        Err(e) if common::is_einval(&e) => {
            common::skip(
                "attach_wq_and_sq_array_fallback_and_dontfork",
                "the SQ_REWIND part: kernel lacks IORING_SETUP_SQ_REWIND (the other parts passed)",
            );
            return;
        }
        Err(e) => panic!("{e}"),
    };
    for _ in 0..10 {
        nop_round_trip(&mut rw, 8);
    }
}
