//! SQE encode cost for a representative set (read, recv multishot, send_zc, timeout,
//! uring_cmd): this crate's encoders beside the io-uring crate's builders, same arguments.
#![allow(missing_docs)] // criterion_group! generates undocumented items

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use uring::op::{self, BufGroupId, Target, Timespec};

/// A file descriptor number for entries that are only encoded, never submitted.
fn fd(n: i32) -> Target {
    // SAFETY: the entries built from it are measured and dropped: no request is ever issued,
    // so the number is never looked up.
    unsafe { Target::from_raw_fd(n) }
}

fn benches(c: &mut Criterion) {
    let mut buf = [0u8; 4096];
    let ts = Timespec::new(1, 0);
    let its = io_uring::types::Timespec::new().sec(1);

    let mut g = c.benchmark_group("encode_read");
    g.bench_function("uring", |b| {
        b.iter(|| op::Read::new(fd(black_box(3)), &mut buf[..]).unwrap().offset(black_box(4096)).build().user_data(1))
    });
    g.bench_function("io-uring", |b| {
        b.iter(|| {
            io_uring::opcode::Read::new(io_uring::types::Fd(black_box(3)), buf.as_mut_ptr(), 4096)
                .offset(black_box(4096))
                .build()
                .user_data(1)
        })
    });
    g.finish();

    let mut g = c.benchmark_group("encode_recv_multishot");
    g.bench_function("uring", |b| {
        b.iter(|| op::RecvMultishot::new(fd(black_box(3)), &BufGroupId(black_box(7))).unwrap().build())
    });
    g.bench_function("io-uring", |b| {
        b.iter(|| io_uring::opcode::RecvMulti::new(io_uring::types::Fd(black_box(3)), black_box(7)).build())
    });
    g.finish();

    let mut g = c.benchmark_group("encode_send_zc");
    g.bench_function("uring", |b| b.iter(|| op::SendZc::new(fd(black_box(3)), &buf[..]).unwrap().build()));
    g.bench_function("io-uring", |b| {
        b.iter(|| io_uring::opcode::SendZc::new(io_uring::types::Fd(black_box(3)), buf.as_ptr(), 4096).build())
    });
    g.finish();

    let mut g = c.benchmark_group("encode_timeout");
    g.bench_function("uring", |b| b.iter(|| op::Timeout::new(black_box(&ts)).count(black_box(1)).build()));
    g.bench_function("io-uring", |b| {
        b.iter(|| io_uring::opcode::Timeout::new(black_box(&its)).count(black_box(1)).build())
    });
    g.finish();

    let mut g = c.benchmark_group("encode_uring_cmd");
    g.bench_function("uring", |b| {
        b.iter(|| op::UringCmd::new(fd(black_box(3)), black_box(5)).payload(&[1u64, 2]).unwrap().build())
    });
    g.bench_function("io-uring", |b| {
        b.iter(|| {
            let mut cmd = [0u8; 16];
            cmd[..8].copy_from_slice(&1u64.to_ne_bytes());
            cmd[8..].copy_from_slice(&2u64.to_ne_bytes());
            io_uring::opcode::UringCmd16::new(io_uring::types::Fd(black_box(3)), black_box(5)).cmd(cmd).build()
        })
    });
    g.finish();
}

criterion_group! {
    name = group;
    config = Criterion::default().warm_up_time(std::time::Duration::from_millis(200)).measurement_time(std::time::Duration::from_secs(1));
    targets = benches
}
criterion_main!(group);
