//! NOP round trips in batches, for instruction counting (`benches/callgrind.sh`):
//! `nop_loop <uring|owned|owned-single|io-uring> <rounds> [batch]`.

use std::hint::black_box;

fn main() {
    let mut args = std::env::args().skip(1);
    let which = args.next().unwrap_or_else(|| "uring".into());
    let rounds: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(1000);
    let batch: u32 = args.next().and_then(|s| s.parse().ok()).unwrap_or(32);
    match which.as_str() {
        "uring" => uring(rounds, batch),
        "owned" => owned(rounds, batch),
        "owned-single" => owned_single(rounds, batch),
        "io-uring" => io_uring(rounds, batch),
        other => {
            eprintln!("unknown variant {other}: use uring, owned, owned-single or io-uring");
            std::process::exit(2);
        }
    }
}

// One function per variant, never inlined into `main`, so that each loop is compiled on its own
// and the instruction count of one does not move with changes to another.

/// The raw layer: `SubmissionQueue::batch` and `CompletionQueue::iter`.
#[inline(never)]
fn uring(rounds: u64, batch: u32) {
    let mut ring = uring::Ring::new(256).expect("ring");
    for _ in 0..rounds {
        {
            let mut sq = ring.sq().batch();
            for i in 0..batch {
                sq.push(&uring::op::Nop::new().build().user_data(i as u64)).expect("push");
            }
        }
        ring.submit_and_wait(batch).expect("submit");
        for cqe in ring.cq().iter() {
            black_box(cqe.user_data());
        }
    }
}

/// The owned layer's batch paths: `OwnedRing::batch` and `for_each_completion`.
#[inline(never)]
fn owned(rounds: u64, batch: u32) {
    let mut ring = uring::owned::OwnedRing::new(256).expect("ring");
    for _ in 0..rounds {
        {
            let mut sq = ring.batch();
            for _ in 0..batch {
                sq.push(uring::owned::Nop).expect("push");
            }
        }
        ring.submit_and_wait(batch).expect("submit");
        ring.for_each_completion(|c| {
            black_box(c.into_op::<uring::owned::Nop>().is_ok());
        });
    }
}

/// The owned layer one operation at a time: `OwnedRing::push` and `next`.
#[inline(never)]
fn owned_single(rounds: u64, batch: u32) {
    let mut ring = uring::owned::OwnedRing::new(256).expect("ring");
    for _ in 0..rounds {
        for _ in 0..batch {
            ring.push(uring::owned::Nop).expect("push");
        }
        ring.submit_and_wait(batch).expect("submit");
        while let Some(c) = ring.next() {
            black_box(c.into_op::<uring::owned::Nop>().is_ok());
        }
    }
}

/// The `io-uring` crate: `submission()` and `completion()`.
#[inline(never)]
fn io_uring(rounds: u64, batch: u32) {
    let mut ring = io_uring::IoUring::new(256).expect("ring");
    for _ in 0..rounds {
        {
            let mut sq = ring.submission();
            for i in 0..batch {
                let e = io_uring::opcode::Nop::new().build().user_data(i as u64);
                // SAFETY: a NOP points at no memory.
                unsafe { sq.push(&e) }.expect("push");
            }
        }
        ring.submit_and_wait(batch as usize).expect("submit");
        for cqe in ring.completion() {
            black_box(cqe.user_data());
        }
    }
}
