//! `cp` over io_uring's raw layer: registered buffers and linked read→write pairs.
//!
//! The copy buffers are registered once (`IORING_REGISTER_BUFFERS`), so the kernel does not pin
//! and unpin pages for every request. Each chunk of the file is a pair of entries: a
//! `READ_FIXED` into a buffer, linked (`IOSQE_IO_LINK`) to a `WRITE_FIXED` of the same buffer,
//! so the kernel starts the write when the read is done, without a round trip through user
//! space. Several pairs are in flight at once.
//!
//! This is the raw layer: both entries point at the same memory, which the owned layer's
//! one-owner rule cannot express, so they are pushed with `unsafe` and the program keeps the
//! memory alive and untouched until both have completed. A short read fails the link (the
//! write is cancelled with `ECANCELED`), and the pair is simply queued again.
//!
//! Run: `cargo run --release --example cp -- SRC DST`

use std::fs::{File, OpenOptions};
use std::io::IoSliceMut;
use std::time::Duration;

use uring::{op, Errno, Ring, SqeFlags};

/// Pairs in flight, and the size of each chunk (and registered buffer).
const PAIRS: usize = 8;
const CHUNK: usize = 128 * 1024;

/// One chunk being copied with buffer `i`: where it is, and what its two entries returned.
#[derive(Clone, Copy)]
struct Pair {
    offset: u64,
    len: usize,
    read: Option<Result<u32, Errno>>,
    write: Option<Result<u32, Errno>>,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [src, dst] = &args[..] else {
        eprintln!("usage: cp SRC DST");
        std::process::exit(2);
    };
    match copy(src, dst) {
        Ok(n) => eprintln!("cp: {n} bytes"),
        Err(e) => {
            eprintln!("cp: {e}");
            std::process::exit(1);
        }
    }
}

fn copy(src: &str, dst: &str) -> Result<u64, Box<dyn std::error::Error>> {
    let input = File::open(src).map_err(|e| format!("{src}: {e}"))?;
    let output =
        OpenOptions::new().write(true).create(true).truncate(true).open(dst).map_err(|e| format!("{dst}: {e}"))?;
    let size = input.metadata()?.len();

    let mut ring = Ring::new(2 * PAIRS as u32)?;
    let mut mem = vec![0u8; PAIRS * CHUNK];
    let iovecs: Vec<IoSliceMut<'_>> = mem.chunks_mut(CHUNK).map(IoSliceMut::new).collect();
    // SAFETY: `mem` is freed only after the ring's teardown has proven that the kernel is done
    // with every request (below), and is not touched by this program in between except through
    // the entries of `pump`.
    unsafe { ring.submitter().register_buffers(&iovecs)? };
    drop(iovecs);

    let result = pump(&mut ring, &input, &output, mem.as_mut_ptr(), size);
    // `pump` returns with requests in flight only on an error. Either way the kernel may use
    // `mem` until the ring is torn down: wait for the proof, and never free it without one.
    if !ring.shutdown(Duration::from_secs(10)).is_finished() {
        mem.leak();
    }
    result.map_err(|e| format!("{src} -> {dst}: {e}").into())
}

/// Copies `size` bytes from `input` to `output` with `PAIRS` buffers of `CHUNK` bytes from
/// `mem`, registered as fixed buffers `0..PAIRS`.
fn pump(ring: &mut Ring, input: &File, output: &File, mem: *mut u8, size: u64) -> std::io::Result<u64> {
    let mut pairs: [Option<Pair>; PAIRS] = [None; PAIRS];
    let mut redo: Vec<(u64, usize)> = Vec::new(); // chunks to copy again
    let (mut next, mut copied) = (0u64, 0u64);
    let mut in_flight = 0;
    loop {
        // A pair on every free buffer, while there is something to copy.
        for (i, slot) in pairs.iter_mut().enumerate().filter(|(_, p)| p.is_none()) {
            let (offset, len) = match redo.pop() {
                Some(chunk) => chunk,
                None if next < size => (next, (size - next).min(CHUNK as u64) as usize),
                None => break,
            };
            if offset == next {
                next += len as u64;
            }
            // SAFETY: buffer `i` lies inside `mem` and nothing uses it: its slot is free. Both
            // entries name it, so it is left alone until both have completed (the slot stays
            // taken until then, or the ring's teardown in `copy` proves them done); the files
            // stay open until then too.
            unsafe {
                let buf = std::slice::from_raw_parts_mut(mem.add(i * CHUNK), len);
                let read = op::ReadFixed::new(input, buf, i as u16)
                    .expect("CHUNK fits the kernel's u32 length")
                    .offset(offset)
                    .build();
                let write = op::WriteFixed::new(output, buf, i as u16)
                    .expect("CHUNK fits the kernel's u32 length")
                    .offset(offset)
                    .build();
                ring.sq().push_raw(&read.flags(SqeFlags::IO_LINK).user_data(2 * i as u64))?;
                ring.sq().push_raw(&write.user_data(2 * i as u64 + 1))?;
            }
            *slot = Some(Pair { offset, len, read: None, write: None });
            in_flight += 2;
        }
        if in_flight == 0 {
            return Ok(copied);
        }
        ring.submit_and_wait(1)?;
        for cqe in ring.cq().iter() {
            in_flight -= 1;
            let i = (cqe.user_data() / 2) as usize;
            let pair = pairs[i].as_mut().expect("a completion of a queued pair");
            if cqe.user_data() % 2 == 0 {
                pair.read = Some(cqe.result());
            } else {
                pair.write = Some(cqe.result());
            }
            let (Some(read), Some(write)) = (pair.read, pair.write) else { continue };
            // Both entries are done: buffer `i` is free again.
            let Pair { offset, len, .. } = pairs[i].take().expect("checked above");
            match (read, write) {
                (Ok(r), Ok(w)) if r as usize == len && w as usize == len => copied += len as u64,
                (Ok(0), _) => return Err(std::io::Error::other("the source shrank while being copied")),
                (Err(e), _) => return Err(e.into()),
                (_, Err(e)) if e != Errno::CANCELED => return Err(e.into()),
                // A short read (the write was cancelled) or a short write: copy it again.
                _ => redo.push((offset, len)),
            }
        }
    }
}
