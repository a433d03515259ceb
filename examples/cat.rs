//! `cat` over io_uring: prints files to stdout, with several reads of each file in flight at
//! once, through the owned layer (no `unsafe`).
//!
//! Each read owns its buffer (from a [`BufPool`]) and holds the file (an `Arc` shared by all
//! reads of that file); the buffer comes back with the read's completion. Reads complete in any
//! order, so finished chunks wait in a map until the bytes before them are written.
//!
//! Run: `cargo run --release --example cat -- FILE...`

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::sync::Arc;

use uring::owned::{BufPool, Fd, OwnedRing, Read};

/// Reads in flight per file, and the size of each.
const IN_FLIGHT: usize = 8;
const CHUNK: usize = 128 * 1024;

fn main() {
    let paths: Vec<String> = std::env::args().skip(1).collect();
    if paths.is_empty() {
        eprintln!("usage: cat FILE...");
        std::process::exit(2);
    }
    if let Err(e) = run(&paths) {
        eprintln!("cat: {e}");
        std::process::exit(1);
    }
}

fn run(paths: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let mut ring = OwnedRing::new(IN_FLIGHT as u32)?;
    let mut pool = BufPool::new(IN_FLIGHT, CHUNK);
    let mut out = std::io::stdout().lock();
    for path in paths {
        let file = Arc::new(File::open(path).map_err(|e| format!("{path}: {e}"))?);
        cat(&mut ring, &mut pool, &file, &mut out).map_err(|e| format!("{path}: {e}"))?;
    }
    Ok(())
}

/// Writes `file` to `out`, reading up to IN_FLIGHT chunks ahead.
fn cat(
    ring: &mut OwnedRing,
    pool: &mut BufPool,
    file: &Arc<File>,
    out: &mut impl Write,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut next = 0u64; // where the next new read starts
    let mut written = 0u64; // everything before this is on `out`
    let mut eof = u64::MAX; // lowered by the first read that finds the end
    let mut done = BTreeMap::new(); // finished reads waiting for the bytes before them
    let mut in_flight = 0;
    while written < eof {
        while in_flight < IN_FLIGHT && next < eof {
            ring.push(Read::new(Fd::shared(file.clone()), pool.get(), next))?;
            next += CHUNK as u64;
            in_flight += 1;
        }
        // One completion: a read comes back with its buffer, the result beside it.
        let c = ring.wait()?;
        in_flight -= 1;
        let res = c.result();
        let Read { offset, mut buf, .. } = c.into_op().expect("only reads are in flight");
        let n = res? as usize;
        if n == 0 {
            eof = eof.min(offset);
            pool.put(buf);
            continue;
        }
        if n < buf.len() {
            // Short: the rest of the chunk gets a read of its own (at the end of the file,
            // that read finds the end).
            let mut rest = pool.get();
            rest.truncate(buf.len() - n);
            ring.push(Read::new(Fd::shared(file.clone()), rest, offset + n as u64))?;
            in_flight += 1;
        }
        buf.truncate(n);
        done.insert(offset, buf);
        // Write out what is now contiguous.
        while let Some(buf) = done.remove(&written) {
            out.write_all(&buf)?;
            written += buf.len() as u64;
            pool.put(buf);
        }
    }
    // Reads past the end are still in flight: wait for them, so that their buffers come back.
    for _ in 0..in_flight {
        if let Ok(read) = ring.wait()?.into_op::<Read>() {
            pool.put(read.buf);
        }
    }
    Ok(out.flush()?)
}
