//! The classic transport: requests read from `/dev/fuse`, replies written back with
//! `writev(2)`.
//!
//! With io_uring this loop still runs on one thread: the kernel sends FORGET, BATCH_FORGET and
//! INTERRUPT through the device even when the ring carries everything else. Without io_uring
//! (`enable_uring` = N, or a kernel without FUSE-over-io_uring) it serves every request, on one
//! thread per CPU.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use uring::uapi::fuse::*;
use uring::Errno;

use crate::abi::{self, bytes_of, read};
use crate::backing::Backing;
use crate::fs::{Outcome, Passthrough};
use crate::mem::{page_size, Mapping};
use crate::Stats;

/// Offset of the request in its buffer: a READ or WRITE request's payload (after the 40-byte
/// `fuse_in_header` and the 40-byte `fuse_read_in`/`fuse_write_in`) then starts on a page
/// boundary, as `O_DIRECT` backing files need.
const RW_HEADERS: usize = 80;

/// A request buffer of at least `size` bytes.
pub struct RequestBuf {
    map: Mapping,
    start: usize,
    len: usize,
}

impl RequestBuf {
    /// Room for a request of `size` bytes (`max_write` plus headers).
    pub fn new(size: usize) -> std::io::Result<Self> {
        let page = page_size();
        let start = page - RW_HEADERS;
        let map = Mapping::new(start + size)?;
        let len = map.len() - start;
        Ok(RequestBuf { map, start, len })
    }

    /// The buffer.
    pub fn buf(&mut self) -> &mut [u8] {
        let (start, len) = (self.start, self.len);
        self.map.slice_mut(start, len)
    }
}

/// Reads one request into `buf`: `Ok(Some(len))`, `Ok(None)` once the connection is gone
/// (`ENODEV`), or the error.
pub fn read_request(dev: &File, buf: &mut [u8]) -> Result<Option<usize>, Errno> {
    loop {
        // SAFETY: the kernel writes at most `buf.len()` bytes into `buf`.
        let n = unsafe { libc::read(dev.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        if n >= 0 {
            return Ok(Some(n as usize));
        }
        let e = crate::backing::last_errno();
        match e.raw_os_error() {
            // Interrupted, or the request went away before it was read.
            libc::EINTR | libc::EAGAIN | libc::ENOENT => continue,
            libc::ENODEV => return Ok(None),
            _ => return Err(e),
        }
    }
}

/// Writes a reply: the header, then `args`. A reply the kernel no longer wants (`ENOENT`: the
/// request was interrupted) is dropped silently.
pub fn write_reply(dev: &File, unique: u64, error: i32, args: &[u8]) -> Result<(), Errno> {
    let oh = fuse_out_header { len: (16 + args.len()) as u32, error, unique };
    let head = bytes_of(&oh);
    let iov = [
        libc::iovec { iov_base: head.as_ptr() as *mut _, iov_len: head.len() },
        libc::iovec { iov_base: args.as_ptr() as *mut _, iov_len: args.len() },
    ];
    // SAFETY: both iovecs describe live buffers the kernel only reads.
    let n = unsafe { libc::writev(dev.as_raw_fd(), iov.as_ptr(), 2) };
    if n < 0 {
        let e = crate::backing::last_errno();
        if e.raw_os_error() != libc::ENOENT {
            return Err(e);
        }
    }
    Ok(())
}

/// Serves requests from `/dev/fuse` until the connection ends.
pub fn serve(dev: &Arc<File>, fs: &Passthrough, stats: &Stats, bufsize: usize) -> Result<(), String> {
    let mut io = Backing::new().map_err(|e| format!("backing ring: {e}"))?;
    let mut rbuf = RequestBuf::new(bufsize).map_err(|e| format!("request buffer: {e}"))?;
    let buf = rbuf.buf();
    let result = loop {
        let n = match read_request(dev, buf) {
            Ok(Some(n)) => n,
            Ok(None) => break Ok(()),
            Err(e) => break Err(format!("read /dev/fuse: {e:?}")),
        };
        let Some(h) = read::<fuse_in_header>(&buf[..n]) else {
            break Err(format!("short request ({n} bytes)"));
        };
        stats.devfuse_requests.fetch_add(1, Ordering::Relaxed);
        match h.opcode {
            FUSE_FORGET | FUSE_BATCH_FORGET => stats.devfuse_forgets.fetch_add(1, Ordering::Relaxed),
            FUSE_INIT | FUSE_INTERRUPT => 0,
            _ => stats.devfuse_other.fetch_add(1, Ordering::Relaxed),
        };
        let hs = abi::op_header_len(h.opcode);
        let outcome = if n < 40 + hs {
            Outcome::Error(Errno::IO)
        } else {
            let mut op = [0u8; 128];
            op[..hs].copy_from_slice(&buf[40..40 + hs]);
            fs.dispatch(&mut io, &h, &op[..hs], &mut buf[40 + hs..], n - 40 - hs)
        };
        let hs = hs.min(n.saturating_sub(40));
        let r = match outcome {
            Outcome::NoReply => Ok(()),
            Outcome::Reply(len) => write_reply(dev, h.unique, 0, &buf[40 + hs..40 + hs + len]),
            Outcome::Error(e) => write_reply(dev, h.unique, -e.raw_os_error(), &[]),
            Outcome::Wait(waiter) => {
                // The reply is written from the waiting thread: any thread may write a reply.
                let (late_dev, unique) = (dev.clone(), h.unique);
                let spawned = std::thread::Builder::new().name("fuse-wait".into()).spawn(move || {
                    let error = waiter.run();
                    if let Err(e) = write_reply(&late_dev, unique, error, &[]) {
                        if e.raw_os_error() != libc::ENODEV {
                            eprintln!("fuse_passthrough: late reply: {e:?}");
                        }
                    }
                });
                match spawned {
                    Ok(_) => Ok(()),
                    Err(_) => write_reply(dev, h.unique, -libc::EAGAIN, &[]),
                }
            }
        };
        match r {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == libc::ENODEV => break Ok(()),
            Err(e) => break Err(format!("write /dev/fuse: {e:?}")),
        }
    };
    stats.backing_ops.fetch_add(io.ops, Ordering::Relaxed);
    result
}
