//! Kernel-managed buffer rings (kmbuf, an experimental ABI no mainline kernel carries) where the
//! kernel has them, and the same layout over an app-managed ring ([`ContiguousRing`]) where it
//! does not. Runs on every kernel:
//!
//! ```sh
//! cargo run --example kmbuf --features kmbuf
//! ```
//!
//! Both rings keep their buffers in one region, buffer `bid` at byte `bid * buf_size`, and a
//! completion names the buffer it used (`IORING_CQE_F_BUFFER | bid << 16`). The difference is
//! who selects and who gives buffers back: a kmbuf group's kernel consumer (a uring_cmd driver)
//! does both, so the application only reads what a consumer's completion names; a
//! `ContiguousRing` is filled by the kernel for the application's own reads and receives, and
//! the application gives each buffer back by dropping the guard its completion produced.

use std::error::Error;
use std::io::Write;
use std::os::unix::net::UnixStream;

use uring::buf::kmbuf::{ContiguousRing, KmBufRing};
use uring::buf::BufRing;
use uring::owned::{OwnedRing, RecvSelect};

const BGID: u16 = 1;
const ENTRIES: u32 = 4;
const BUF_SIZE: u32 = 4096;

fn main() -> Result<(), Box<dyn Error>> {
    let mut ring = OwnedRing::new(8)?;
    if KmBufRing::is_supported(ring.ring())? {
        println!("this kernel has kernel-managed buffer rings");
        kmbuf(&ring)?;
    } else {
        println!(
            "this kernel has no kernel-managed buffer rings (IOU_PBUF_RING_KERNEL_MANAGED is refused \
             with EINVAL: the proposal is not in mainline Linux); the same layout over ContiguousRing:"
        );
    }
    contiguous(&mut ring)
}

/// A kmbuf group: registered, mapped, refused as a buffer group for the application's own
/// entries, closed. No mainline driver consumes kmbuf buffers, so no completion names one here.
fn kmbuf(ring: &OwnedRing) -> Result<(), Box<dyn Error>> {
    let mut km = KmBufRing::register(ring.ring(), BGID, ENTRIES, BUF_SIZE)?;
    let region = km.region();
    println!(
        "  kmbuf group {}: {} buffers of {} bytes, mapped at {:p} ({} bytes); buffer b at byte b * {}",
        km.bgid(),
        km.entries(),
        km.buf_size(),
        region.as_ptr(),
        region.len(),
        km.buf_size()
    );
    println!("  head (buffers taken by consumers so far): {}", km.status()?);
    // Only the group's kernel consumer may select from it: an entry that did would fail with
    // EFAULT and burn a buffer, so the encoders refuse the group.
    let stdin = std::io::stdin();
    match uring::op::Read::selected(&stdin, 0, &km) {
        Err(e) => println!("  a read selecting from the group is refused: {e}"),
        Ok(_) => unreachable!("kmbuf groups are refused"),
    }
    // SAFETY: no command that selects from the group was ever submitted on this ring, so no
    // kernel consumer reads or writes its buffers; the slice is dropped at once.
    let first = unsafe { km.buffer(0) }.map(|b| b.iter().all(|&x| x == 0));
    println!("  buffer 0 starts zeroed: {first:?}");
    match km.close() {
        Ok(()) => println!("  unregistered"),
        // A consumer pinned the ring (`Error::BufRingPinned`): it stays registered.
        Err((_km, e)) => println!("  not unregistered: {e}"),
    }
    Ok(())
}

/// The same layout on any kernel since 5.19: receives select buffers from a `ContiguousRing`;
/// each completion hands its buffer out once, as a guard at `bid * buf_size`, and dropping the
/// guard gives the buffer back, so six messages pass through four buffers.
fn contiguous(ring: &mut OwnedRing) -> Result<(), Box<dyn Error>> {
    let cr = ContiguousRing::new(ring.buf_ring(BufRing::builder(BGID + 1, ENTRIES, BUF_SIZE).kernel_mapped())?);
    let (base, len) = cr.region();
    println!(
        "  contiguous group {}: {} buffers of {} bytes at {base:p} ({len} bytes); buffer b at byte b * {}",
        cr.ring().bgid(),
        cr.entries(),
        cr.buf_size(),
        cr.buf_size()
    );
    let (mut tx, rx) = UnixStream::pair()?;
    let rx = std::sync::Arc::new(rx);
    for i in 0..6 {
        let msg = format!("message {i}");
        tx.write_all(msg.as_bytes())?;
        ring.push(RecvSelect::new(uring::owned::Fd::shared(rx.clone()), cr.ring()))?;
        let mut c = ring.wait()?;
        // Safe: the owned ring vouches that this is the kernel's completion of a receive that
        // selects from this ring, and hands its buffer out once.
        let sel = c.select(cr.ring())?;
        let bid = sel.bid().ok_or("the receive used a buffer")?;
        let data = sel.data().ok_or("one buffer")?;
        let offset = data.as_ptr() as usize - base as usize;
        assert_eq!(offset, bid as usize * cr.buf_size() as usize);
        println!(
            "  completion: {} bytes in buffer {bid} (byte {offset}): {:?}",
            data.len(),
            String::from_utf8_lossy(data)
        );
        // Dropping `sel` gives the buffer back to the ring.
    }
    Ok(())
}
