//! `cat` on the async layer without a runtime: `uring::future::block_on` drives the ring, and
//! each file is copied to standard output with a read of the next chunk in flight while the
//! current one is written (two buffers, handed back and forth by the operations).
//!
//! Run: `cargo run --example async_cat -- FILE...` (no file: a short demonstration on a
//! temporary file, checked).

use std::fs::File;
use std::future::Future;
use std::io::Write as _;
use std::os::fd::{AsFd, OwnedFd};
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;

use uring::future::{block_on, Handle};
use uring::owned::{Fd, Write};

type AnyError = Box<dyn std::error::Error + Send + Sync>;

const CHUNK: usize = 64 * 1024;

/// Polls two futures together until both are done (the examples need no `futures` crate).
async fn join2<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let (mut a, mut b) = (pin!(a), pin!(b));
    let (mut ra, mut rb) = (None, None);
    std::future::poll_fn(|cx| {
        if ra.is_none() {
            if let Poll::Ready(v) = a.as_mut().poll(cx) {
                ra = Some(v);
            }
        }
        if rb.is_none() {
            if let Poll::Ready(v) = b.as_mut().poll(cx) {
                rb = Some(v);
            }
        }
        if ra.is_some() && rb.is_some() {
            Poll::Ready((ra.take().unwrap(), rb.take().unwrap()))
        } else {
            Poll::Pending
        }
    })
    .await
}

/// Writes all of `buf` at the output's position; returns the buffer.
async fn write_all(h: &Handle, out: &Arc<OwnedFd>, mut buf: Vec<u8>) -> Result<Vec<u8>, AnyError> {
    let mut done = 0;
    while done < buf.len() {
        let rest = buf.split_off(done);
        let (r, w) = h.run(Write::new(Fd::shared(out.clone()), rest, u64::MAX)).await;
        let n = r? as usize;
        if n == 0 {
            return Err("the output accepts no more bytes".into());
        }
        buf.extend_from_slice(&w.buf);
        done += n;
    }
    Ok(buf)
}

/// Copies `file` to `out`; returns the byte count.
async fn cat(h: &Handle, file: File, out: &Arc<OwnedFd>) -> Result<u64, AnyError> {
    let file = Arc::new(file);
    let (r, mut read) = h.read(Fd::shared(file.clone()), vec![0; CHUNK], 0).await;
    let mut n = r? as usize;
    let mut spare = vec![0; CHUNK];
    let mut off = 0u64;
    while n > 0 {
        let mut data = std::mem::take(&mut read.buf);
        data.truncate(n);
        off += n as u64;
        // The next read and this chunk's write, both in flight.
        spare.resize(CHUNK, 0);
        let next = h.read(Fd::shared(file.clone()), spare, off);
        let ((r, next_read), written) = join2(next, write_all(h, out, data)).await;
        spare = written?;
        n = r? as usize;
        read = next_read;
    }
    Ok(off)
}

fn main() -> Result<(), AnyError> {
    let h = Handle::new(8)?;
    let out = Arc::new(std::io::stdout().as_fd().try_clone_to_owned()?);
    let paths: Vec<String> = std::env::args().skip(1).collect();
    if paths.is_empty() {
        // A demonstration: a file of 300 KiB through a pipe read back by a thread.
        let path = std::env::temp_dir().join(format!("uring-async-cat-{}", std::process::id()));
        let data: Vec<u8> = (0..300 * 1024u32).map(|i| (i % 251) as u8).collect();
        std::fs::File::create(&path)?.write_all(&data)?;
        let (rx, tx) = rustix::pipe::pipe()?;
        let reader = std::thread::spawn(move || {
            let mut got = Vec::new();
            std::io::Read::read_to_end(&mut File::from(rx), &mut got).map(|_| got)
        });
        let tx = Arc::new(tx);
        let n = block_on(&h, cat(&h, File::open(&path)?, &tx))??;
        drop(tx);
        std::fs::remove_file(&path)?;
        let got = reader.join().map_err(|_| "the reader panicked")??;
        assert_eq!(got, data);
        println!("async_cat: copied {n} bytes through a pipe, checked");
        return Ok(());
    }
    for p in paths {
        block_on(&h, cat(&h, File::open(&p)?, &out))??;
    }
    Ok(())
}
