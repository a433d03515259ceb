//! `IORING_REGISTER_QUERY` (Linux 6.18): ask the kernel what io_uring supports, without a ring,
//! several questions in one system call (a chain of `io_uring_query_hdr`).
//!
//! Each answer is one of the kernel's query structs ([`io_uring_query_opcode`],
//! [`io_uring_query_zcrx`], [`io_uring_query_scq`], [`io_uring_query_zcrx_event`]). A kernel
//! without the query interface answers `EINVAL`, reported as [`Error::Unsupported`]; a kernel
//! that knows the interface but not one question answers that question alone with an error.

use core::ffi::c_void;

use uring_uapi::*;

use crate::{Error, Result, Ring};

/// A query answer type and the question that fills it.
/// For `IORING_REGISTER_QUERY` (Linux 6.18).
pub trait QueryData: Copy + Default {
    /// The `IO_URING_QUERY_*` operation.
    const OP: u32;
}

impl QueryData for io_uring_query_opcode {
    const OP: u32 = IO_URING_QUERY_OPCODES;
}
impl QueryData for io_uring_query_zcrx {
    const OP: u32 = IO_URING_QUERY_ZCRX;
}
impl QueryData for io_uring_query_scq {
    const OP: u32 = IO_URING_QUERY_SCQ;
}
impl QueryData for io_uring_query_zcrx_event {
    const OP: u32 = IO_URING_QUERY_ZCRX_EVENT;
}

fn run(ring: Option<&Ring>, first: &mut io_uring_query_hdr) -> Result<()> {
    let arg = first as *mut io_uring_query_hdr as *const c_void;
    // SAFETY: `first` heads a chain of valid headers whose `query_data` point at live answer
    // structs of the sizes given, all on the caller's stack for the duration of the call.
    let r = match ring {
        // SAFETY: see above: valid argument for the call.
        Some(ring) => unsafe { ring.submitter().register_raw(IORING_REGISTER_QUERY, arg, 0) },
        // SAFETY: as above.
        None => unsafe { crate::sys::register(-1, IORING_REGISTER_QUERY, arg, 0) },
    };
    match r {
        Ok(_) => Ok(()),
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
            Err(Error::Unsupported { what: "IORING_REGISTER_QUERY (Linux 6.18)" })
        }
        Err(e) => Err(Error::Os(e)),
    }
}

fn header<T: QueryData>(data: &mut T) -> io_uring_query_hdr {
    io_uring_query_hdr {
        query_data: data as *mut T as u64,
        query_op: T::OP,
        size: core::mem::size_of::<T>() as u32,
        ..Default::default()
    }
}

fn answer(h: &io_uring_query_hdr) -> Result<()> {
    if h.result < 0 {
        Err(Error::Os(std::io::Error::from_raw_os_error(-h.result)))
    } else {
        Ok(())
    }
}

/// Asks one question (`ring` may be `None`: most queries need no ring).
/// `IORING_REGISTER_QUERY`, Linux 6.18.
pub fn query<T: QueryData>(ring: Option<&Ring>) -> Result<T> {
    let mut data = T::default();
    let mut h = header(&mut data);
    run(ring, &mut h)?;
    answer(&h)?;
    Ok(data)
}

/// The answers of [`query_all`]: each question's answer, or the error the kernel gave it.
/// (`IORING_REGISTER_QUERY`, Linux 6.18.)
#[derive(Debug)]
pub struct QueryAll {
    /// Opcode counts and supported flag words.
    pub opcodes: Result<io_uring_query_opcode>,
    /// Zero-copy receive capabilities.
    pub zcrx: Result<io_uring_query_zcrx>,
    /// SQ/CQ ring header layout.
    pub scq: Result<io_uring_query_scq>,
    /// Zero-copy receive event support.
    pub zcrx_event: Result<io_uring_query_zcrx_event>,
}

/// Asks every question the crate knows in one chained call.
/// `IORING_REGISTER_QUERY`, Linux 6.18.
pub fn query_all(ring: Option<&Ring>) -> Result<QueryAll> {
    let mut op = io_uring_query_opcode::default();
    let mut zc = io_uring_query_zcrx::default();
    let mut scq = io_uring_query_scq::default();
    let mut ev = io_uring_query_zcrx_event::default();
    let mut h3 = header(&mut ev);
    let mut h2 = header(&mut scq);
    h2.next_entry = &mut h3 as *mut io_uring_query_hdr as u64;
    let mut h1 = header(&mut zc);
    h1.next_entry = &mut h2 as *mut io_uring_query_hdr as u64;
    let mut h0 = header(&mut op);
    h0.next_entry = &mut h1 as *mut io_uring_query_hdr as u64;
    run(ring, &mut h0)?;
    Ok(QueryAll {
        opcodes: answer(&h0).map(|_| op),
        zcrx: answer(&h1).map(|_| zc),
        scq: answer(&h2).map(|_| scq),
        zcrx_event: answer(&h3).map(|_| ev),
    })
}
