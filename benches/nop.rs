//! NOP round trip (prepare + push + submit + reap) in batches of 1, 32 and 128: this crate
//! beside the `io-uring` crate in the same groups. See benches/README.md.
#![allow(missing_docs)] // criterion_group! generates undocumented items

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use uring::{op, Ring};

fn uring_round(ring: &mut Ring, batch: u32) {
    {
        let mut sq = ring.sq().batch();
        for i in 0..batch {
            sq.push(&op::Nop::new().build().user_data(i as u64)).unwrap();
        }
    }
    ring.submit_and_wait(batch).unwrap();
    let mut n = 0;
    for cqe in ring.cq().iter() {
        black_box(cqe.user_data());
        n += 1;
    }
    assert_eq!(n, batch);
}

fn io_uring_round(ring: &mut io_uring::IoUring, batch: u32) {
    {
        let mut sq = ring.submission();
        for i in 0..batch {
            let e = io_uring::opcode::Nop::new().build().user_data(i as u64);
            // SAFETY: a NOP points at no memory.
            unsafe { sq.push(&e) }.unwrap();
        }
    }
    ring.submit_and_wait(batch as usize).unwrap();
    let mut n = 0;
    for cqe in ring.completion() {
        black_box(cqe.user_data());
        n += 1;
    }
    assert_eq!(n, batch);
}

fn benches(c: &mut Criterion) {
    for (label, defer) in [("nop", false), ("nop_defer_taskrun", true)] {
        let mut g = c.benchmark_group(label);
        for batch in [1u32, 32, 128] {
            g.throughput(Throughput::Elements(batch as u64));
            let mut ring = if defer { Ring::builder().defer_taskrun().build(256) } else { Ring::new(256) }.unwrap();
            g.bench_with_input(BenchmarkId::new("uring", batch), &batch, |b, &n| b.iter(|| uring_round(&mut ring, n)));
            // The same with the SQ index array kept (no `IORING_SETUP_NO_SQARRAY`), as the
            // io-uring crate sets rings up: shows what that flag is worth.
            let mut with_array = if defer {
                Ring::builder().defer_taskrun().sq_array().build(256)
            } else {
                Ring::builder().sq_array().build(256)
            }
            .unwrap();
            g.bench_with_input(BenchmarkId::new("uring-sqarray", batch), &batch, |b, &n| {
                b.iter(|| uring_round(&mut with_array, n))
            });
            let mut io = if defer {
                io_uring::IoUring::builder().setup_single_issuer().setup_defer_taskrun().build(256)
            } else {
                io_uring::IoUring::new(256)
            }
            .unwrap();
            g.bench_with_input(BenchmarkId::new("io-uring", batch), &batch, |b, &n| {
                b.iter(|| io_uring_round(&mut io, n))
            });
        }
        g.finish();
    }
}

criterion_group! {
    name = group;
    config = Criterion::default().warm_up_time(std::time::Duration::from_millis(300)).measurement_time(std::time::Duration::from_secs(2));
    targets = benches
}
criterion_main!(group);
