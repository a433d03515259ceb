//! What does this kernel's io_uring support? Prints the kernel release, the `IORING_FEAT_*`
//! features, the supported opcodes by name, which setup flags the kernel accepts, whether
//! kernel-managed buffer rings (kmbuf) are available, then runs a live NOP round trip.
//!
//! Run: `cargo run --release --example probe`

use std::time::Instant;

use uring::probe::{self, opcode_name, Probe};
use uring::query::QueryAll;
use uring::{op, Error, Ring};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let uts = rustix::system::uname();
    println!("kernel: {} {}", uts.sysname().to_string_lossy(), uts.release().to_string_lossy());

    let mut ring = Ring::new(256)?;
    println!("\nfeatures ({}):", ring.features().bits().count_ones());
    for name in ring.features().names() {
        println!("  IORING_FEAT_{name}");
    }

    let probe = Probe::of(&ring)?;
    let ops: Vec<u8> = probe.supported_ops().collect();
    println!("\nopcodes: {} supported, last_op {}", ops.len(), probe.last_op());
    for chunk in ops.chunks(6) {
        let names: Vec<String> =
            chunk.iter().map(|&op| format!("{op:>2} {}", opcode_name(op).unwrap_or("?"))).collect();
        println!("  {}", names.join("  "));
    }
    let missing: Vec<&str> =
        (0..uring::uapi::IORING_OP_LAST).filter(|&op| !probe.is_supported(op)).filter_map(opcode_name).collect();
    if !missing.is_empty() {
        println!("  not supported (Linux 7.3 has them): {}", missing.join(", "));
    }

    let caps = probe::Capabilities::detect()?;
    println!("\nregister operations (from IORING_REGISTER_QUERY, else detected by harmless calls):");
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for (op, name, support) in &caps.register_ops {
        match support {
            probe::RegisterSupport::Yes(_) => known.push(format!("{op} {name}")),
            probe::RegisterSupport::No => unknown.push(format!("{op} {name}")),
        }
    }
    for chunk in known.chunks(5) {
        println!("  {}", chunk.join("  "));
    }
    if !unknown.is_empty() {
        println!("  not supported: {}", unknown.join(", "));
    }
    print_query(&caps.query);

    println!("\nsetup flags:");
    for (name, res) in &caps.setup_flags {
        match res {
            Ok(()) => println!("  IORING_SETUP_{name:<20} yes"),
            Err(e) => println!("  IORING_SETUP_{name:<20} no ({e})"),
        }
    }

    match &caps.kmbuf {
        Ok(true) => println!("\nkmbuf (kernel-managed buffer rings): available"),
        Ok(false) => println!(
            "\nkmbuf (kernel-managed buffer rings): not available (the kernel rejects \
             IOU_PBUF_RING_KERNEL_MANAGED with EINVAL; the proposal is not in mainline Linux)"
        ),
        Err(e) => println!("\nkmbuf (kernel-managed buffer rings): could not tell ({e})"),
    }

    // Live demo: NOPs in batches of 32.
    const TOTAL: u64 = 1_000_000;
    const BATCH: u64 = 32;
    let start = Instant::now();
    let mut done = 0u64;
    let mut next = 0u64;
    while done < TOTAL {
        for _ in 0..BATCH {
            ring.sq().push(&op::Nop::new().build().user_data(next))?;
            next += 1;
        }
        ring.submit_and_wait(BATCH as u32)?;
        for cqe in ring.cq().iter() {
            cqe.result()?;
            done += 1;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "\nlive NOP round trip: {TOTAL} NOPs in batches of {BATCH}: {:.3} s, {:.2} M ops/s, {:.0} ns/op",
        secs,
        TOTAL as f64 / secs / 1e6,
        secs * 1e9 / TOTAL as f64
    );
    Ok(())
}

/// The answers of `IORING_REGISTER_QUERY` (Linux 7.0), one line each.
fn print_query(query: &uring::Result<QueryAll>) {
    print!("\nquery (IORING_REGISTER_QUERY): ");
    let q = match query {
        Ok(q) => q,
        Err(Error::Unsupported { .. }) => return println!("not supported by this kernel (it needs Linux 7.0)"),
        Err(e) => return println!("failed: {e}"),
    };
    println!("answered");
    line("opcodes", &q.opcodes, |o| {
        format!(
            "{} request, {} register and {} query opcodes; flag words: features {:#x}, setup {:#x}, enter {:#x}, SQE {:#x}",
            o.nr_request_opcodes,
            o.nr_register_opcodes,
            o.nr_query_opcodes,
            o.feature_flags,
            o.ring_setup_flags,
            o.enter_flags,
            o.sqe_flags
        )
    });
    line("zero-copy receive", &q.zcrx, |z| {
        format!(
            "{} control opcodes; flag words: register {:#x}, area {:#x}, features {:#x}; refill ring header {} bytes, aligned to {}",
            z.nr_ctrl_opcodes, z.register_flags, z.area_flags, z.features, z.rq_hdr_size, z.rq_hdr_alignment
        )
    });
    line("ring header", &q.scq, |h| format!("{} bytes, aligned to {}", h.hdr_size, h.hdr_alignment));
    line("zero-copy receive events", &q.zcrx_event, |e| {
        format!(
            "event flags {:#x}; statistics {} bytes, aligned to {}",
            e.event_flags, e.stats_size, e.stats_off_alignment
        )
    });
}

/// One answer of the query: what `show` makes of it, or why the kernel gave none.
fn line<T>(what: &str, answer: &uring::Result<T>, show: impl Fn(&T) -> String) {
    match answer {
        Ok(a) => println!("  {what}: {}", show(a)),
        Err(e) => match e.raw_os_error() {
            Some(libc::EOPNOTSUPP) => println!("  {what}: not answered (this kernel does not know the question)"),
            _ => println!("  {what}: not answered ({e})"),
        },
    }
}
