//! The owned-operation layer beside the raw layer, same work in one group: NOP round trips and
//! 4 KiB reads from a file, in batches of 32. See benches/README.md.
#![allow(missing_docs)] // criterion_group! generates undocumented items

use std::hint::black_box;
use std::os::fd::AsFd;

use criterion::{criterion_group, criterion_main, Criterion};
use uring::op;
use uring::owned::{self, BufPool, OwnedRing};
use uring::Ring;

const BATCH: u32 = 32;

fn benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("nop_x32");
    let mut raw = Ring::new(64).unwrap();
    g.bench_function("raw", |b| {
        b.iter(|| {
            {
                let mut sq = raw.sq().batch();
                for i in 0..BATCH {
                    sq.push(&op::Nop::new().build().user_data(i as u64)).unwrap();
                }
            }
            raw.submit_and_wait(BATCH).unwrap();
            for cqe in raw.cq().iter() {
                black_box(cqe.user_data());
            }
        })
    });
    let mut ow = OwnedRing::new(64).unwrap();
    g.bench_function("owned", |b| {
        b.iter(|| {
            {
                let mut sq = ow.batch();
                for _ in 0..BATCH {
                    sq.push(owned::Nop).unwrap();
                }
            }
            ow.submit_and_wait(BATCH).unwrap();
            ow.for_each_completion(|c| {
                black_box(c.into_op::<owned::Nop>().unwrap());
            });
        })
    });
    g.bench_function("owned_single", |b| {
        b.iter(|| {
            for _ in 0..BATCH {
                ow.push(owned::Nop).unwrap();
            }
            ow.submit_and_wait(BATCH).unwrap();
            while let Some(c) = ow.next() {
                black_box(c.into_op::<owned::Nop>().unwrap());
            }
        })
    });
    g.finish();

    let path = std::env::temp_dir().join(format!("uring-bench-owned-{}", std::process::id()));
    std::fs::write(&path, vec![1u8; 4096]).unwrap();
    // Shared with the owned reads (each holds a clone of the `Arc` until its completion).
    let f = std::sync::Arc::new(std::fs::File::open(&path).unwrap());
    let mut g = c.benchmark_group("read4k_x32");
    let mut bufs: Vec<Vec<u8>> = (0..BATCH).map(|_| vec![0u8; 4096]).collect();
    g.bench_function("raw", |b| {
        b.iter(|| {
            for (i, buf) in bufs.iter_mut().enumerate() {
                let sqe = op::Read::new(&*f, &mut buf[..]).unwrap().build().user_data(i as u64);
                // SAFETY: `bufs` and `f` outlive the reads, all reaped below before the next round.
                unsafe { raw.sq().push_raw(&sqe) }.unwrap();
            }
            raw.submit_and_wait(BATCH).unwrap();
            for cqe in raw.cq().iter() {
                black_box(cqe.result().unwrap());
            }
        })
    });
    let mut pool = BufPool::new(BATCH as usize, 4096);
    g.bench_function("owned", |b| {
        b.iter(|| {
            {
                let mut sq = ow.batch();
                for _ in 0..BATCH {
                    sq.push(owned::Read::new(owned::Fd::shared(f.clone()), pool.get(), 0)).unwrap();
                }
            }
            ow.submit_and_wait(BATCH).unwrap();
            ow.for_each_completion(|c| {
                black_box(c.result().unwrap());
                pool.put(c.into_op::<owned::Read>().unwrap().buf);
            });
        })
    });
    // The same reads on the file registered in each ring's file table (slot 0): no reference
    // count per operation on either side (an owned `Fd::shared` clones an `Arc`).
    raw.submitter().register_files(&[f.as_fd()]).unwrap();
    ow.ring().submitter().register_files(&[f.as_fd()]).unwrap();
    g.bench_function("raw_fixed_file", |b| {
        b.iter(|| {
            for (i, buf) in bufs.iter_mut().enumerate() {
                let sqe = op::Read::new(op::Fixed(0), &mut buf[..]).unwrap().build().user_data(i as u64);
                // SAFETY: `bufs` outlive the reads, all reaped below before the next round.
                unsafe { raw.sq().push_raw(&sqe) }.unwrap();
            }
            raw.submit_and_wait(BATCH).unwrap();
            for cqe in raw.cq().iter() {
                black_box(cqe.result().unwrap());
            }
        })
    });
    g.bench_function("owned_fixed_file", |b| {
        b.iter(|| {
            {
                let mut sq = ow.batch();
                for _ in 0..BATCH {
                    sq.push(owned::Read::new(owned::Fd::fixed(0), pool.get(), 0)).unwrap();
                }
            }
            ow.submit_and_wait(BATCH).unwrap();
            ow.for_each_completion(|c| {
                black_box(c.result().unwrap());
                pool.put(c.into_op::<owned::Read>().unwrap().buf);
            });
        })
    });
    g.finish();
    let _ = std::fs::remove_file(&path);
}

criterion_group! {
    name = group;
    config = Criterion::default().warm_up_time(std::time::Duration::from_millis(300)).measurement_time(std::time::Duration::from_secs(2));
    targets = benches
}
criterion_main!(group);
