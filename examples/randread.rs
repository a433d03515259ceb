//! Random 4 KiB reads of a file at a fixed queue depth, with a registered file and a registered
//! buffer (`IORING_OP_READ_FIXED` on a fixed file), opened with `O_DIRECT` where the filesystem
//! allows it. Prints the reads per second. `benches/randread.sh` runs it beside
//! `fio --ioengine=io_uring` with the same parameters.
//!
//! Usage: `randread FILE [--qd N] [--bs BYTES] [--seconds S] [--ios N] [--buffered] [--plain]
//! [--batch-submit]`
//! (defaults: queue depth 32, 4096-byte blocks, 5 seconds, at most 10 million reads). The ring
//! is set up as fio's io_uring engine sets up its own (`IORING_SETUP_COOP_TASKRUN`,
//! `SINGLE_ISSUER`, `DEFER_TASKRUN`, falling back to none where the kernel lacks them);
//! `--plain` asks for no setup flags. Each refill goes to the kernel as soon as it is queued (one
//! `io_uring_enter` per read, as fio submits with its default `iodepth_batch_submit=1`: the
//! device sees a steady stream), or with `--batch-submit` all of a reap's refills together with
//! the next wait (fewer system calls; 0.8-0.9x the IOPS at queue depth 32 on a virtio disk). The file
//! must exist and hold at least one block; reads go to block-aligned offsets drawn uniformly
//! (xorshift) over its whole size.

use std::fs::OpenOptions;
use std::os::fd::AsFd;
use std::os::unix::fs::OpenOptionsExt;
use std::time::{Duration, Instant};

use uring::op::{self, Fixed};
use uring::{Builder, Ring};

type AnyError = Box<dyn std::error::Error>;

const USAGE: &str =
    "usage: randread FILE [--qd N] [--bs BYTES] [--seconds S] [--ios N] [--buffered] [--plain] [--batch-submit]";

fn main() {
    if let Err(e) = run() {
        eprintln!("randread: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), AnyError> {
    let mut args = std::env::args().skip(1);
    let (mut path, mut qd, mut bs, mut seconds, mut max_ios, mut buffered, mut plain, mut each) =
        (None, 32u32, 4096usize, 5.0f64, 10_000_000u64, false, false, true);
    while let Some(a) = args.next() {
        let mut val = || args.next().ok_or(USAGE);
        match a.as_str() {
            "--qd" => qd = val()?.parse()?,
            "--bs" => bs = val()?.parse()?,
            "--seconds" => seconds = val()?.parse()?,
            "--ios" => max_ios = val()?.parse()?,
            "--buffered" => buffered = true,
            "--plain" => plain = true,
            "--batch-submit" => each = false,
            _ if path.is_none() => path = Some(a),
            _ => return Err(USAGE.into()),
        }
    }
    let path = path.ok_or(USAGE)?;
    if qd == 0 || qd > 4096 || bs == 0 || bs % 512 != 0 {
        return Err("--qd must be 1..=4096 and --bs a multiple of 512".into());
    }
    // O_DIRECT where the filesystem allows it (tmpfs, for one, refuses it with EINVAL).
    let open =
        |direct: bool| OpenOptions::new().read(true).custom_flags(if direct { libc::O_DIRECT } else { 0 }).open(&path);
    let (file, direct) = match buffered {
        true => (open(false)?, false),
        false => match open(true) {
            Ok(f) => (f, true),
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => (open(false)?, false),
            Err(e) => return Err(e.into()),
        },
    };
    let blocks = file.metadata()?.len() / bs as u64;
    if blocks == 0 {
        return Err(format!("{path} holds less than one block of {bs} bytes").into());
    }

    let entries = qd.next_power_of_two().max(2);
    let tuned =
        if plain { None } else { Builder::new().coop_taskrun().single_issuer().defer_taskrun().build(entries).ok() };
    let setup = if tuned.is_some() { "COOP_TASKRUN|SINGLE_ISSUER|DEFER_TASKRUN" } else { "no setup flags" };
    let mut ring = match tuned {
        Some(r) => r,
        None => Ring::new(entries)?,
    };
    ring.submitter().register_files(&[file.as_fd()])?;
    // One registered buffer, one block per slot of the queue; page-aligned (mmap) for O_DIRECT.
    let len = qd as usize * bs;
    // SAFETY: a fresh anonymous mapping, unmapped only after the ring is gone (end of `run`).
    let mem = unsafe {
        libc::mmap(
            core::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_POPULATE,
            -1,
            0,
        )
    };
    if mem == libc::MAP_FAILED {
        return Err(std::io::Error::last_os_error().into());
    }
    let base = mem.cast::<u8>();
    let iov = [libc::iovec { iov_base: mem, iov_len: len }];
    // SAFETY: the mapping stays until after the ring is dropped, which unregisters it.
    unsafe { ring.submitter().register_buffers(&iov) }?;

    let mut rng = 0x9e37_79b9_7f4a_7c15u64 ^ std::process::id() as u64;
    let mut next_off = move || {
        // xorshift64
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (rng % blocks) * bs as u64
    };
    // Queues a read into slot `slot` of the buffer at a random offset.
    let mut queue = |ring: &mut Ring, slot: u32| -> Result<(), AnyError> {
        // SAFETY: slot `slot` is a block of the registered mapping that only this read uses
        // until its completion (each slot has one read in flight at a time).
        let buf = unsafe { core::slice::from_raw_parts_mut(base.add(slot as usize * bs), bs) };
        let sqe = op::ReadFixed::new(Fixed(0), buf, 0)?.offset(next_off()).build().user_data(slot as u64);
        // SAFETY: the buffer is the registered mapping, alive until the ring is dropped.
        unsafe { ring.sq().push_raw(&sqe) }?;
        Ok(())
    };

    for slot in 0..qd {
        queue(&mut ring, slot)?;
    }
    let start = Instant::now();
    let limit = Duration::from_secs_f64(seconds);
    let mut done = 0u64;
    let mut slots = Vec::with_capacity(qd as usize);
    'run: loop {
        ring.submit_and_wait(1)?;
        slots.clear();
        for cqe in ring.cq().iter() {
            match cqe.result() {
                Ok(n) if n as usize == bs => {}
                Ok(n) => return Err(format!("short read: {n} of {bs} bytes").into()),
                Err(e) => return Err(format!("read: {e}").into()),
            }
            slots.push(cqe.user_data() as u32);
        }
        done += slots.len() as u64;
        if done >= max_ios || start.elapsed() >= limit {
            break 'run;
        }
        for &slot in &slots {
            queue(&mut ring, slot)?;
            if each {
                // As fio does with its default `iodepth_batch_submit=1`: each read goes to the
                // kernel as soon as it is queued.
                ring.submit()?;
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "randread: qd {qd}, bs {bs}, {}, {setup}: {done} reads in {secs:.2} s, {:.0} IOPS",
        if direct { "O_DIRECT" } else { "buffered" },
        done as f64 / secs
    );
    // Reap the reads still in flight before the buffer goes.
    let mut inflight = qd as usize - slots.len();
    while inflight > 0 {
        ring.submit_and_wait(1)?;
        inflight -= ring.cq().iter().count();
    }
    drop(ring);
    // SAFETY: every read has completed and the ring is gone, so nothing uses `mem`.
    unsafe { libc::munmap(mem, len) };
    Ok(())
}
