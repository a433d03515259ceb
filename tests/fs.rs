//! File operations on the real kernel: reads and writes (plain, vectored, fixed, multishot),
//! syncs, space and cache advice, open/close (incl. direct descriptors), statx, path operations,
//! xattrs and ftruncate. Each test probes its opcodes first and skips with a reason if missing.

mod common;

use std::ffi::{c_void, CString};
use std::fs::File;
use std::io::{IoSlice, IoSliceMut, Read as _, Seek, SeekFrom, Write as _};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, FallocateFlags, Mode, OFlags, RenameFlags, ResolveFlags, StatxFlags, XattrFlags};
use uring::op::{self, BufGroupId, DestSlot, Fixed, RwFlags, SyncFileRangeFlags, Target};
use uring::{uapi, Errno, FdSqe, Features, Probe, Ring, SafeSqe, Sqe};

/// A path under the temp dir, unique to this process and test, removed (file or directory
/// tree) when dropped.
struct TempPath(PathBuf);

impl TempPath {
    fn new(test: &str) -> Self {
        Self::under(&std::env::temp_dir(), test)
    }

    fn under(dir: &Path, test: &str) -> Self {
        let p = dir.join(format!("uring-fs-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        let _ = std::fs::remove_file(&p);
        TempPath(p)
    }

    fn c(&self) -> CString {
        cstring(&self.0)
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
        let _ = std::fs::remove_file(&self.0);
    }
}

fn cstring(p: &Path) -> CString {
    CString::new(p.as_os_str().as_bytes()).unwrap()
}

/// Whether the ring's kernel supports every opcode in `ops`; if not, reports the skip.
fn supported(ring: &Ring, test: &str, ops: &[(u8, &str)]) -> bool {
    let probe = Probe::of(ring).unwrap();
    for &(op, name) in ops {
        if !probe.is_supported(op) {
            common::skip(test, format!("kernel lacks IORING_OP_{name}"));
            return false;
        }
    }
    true
}

/// Submits `sqe` alone and returns its result.
fn run(ring: &mut Ring, sqe: Sqe) -> Result<u32, Errno> {
    // SAFETY: every caller builds `sqe` from memory borrowed in its own frame, which outlives
    // this call; the call returns only after the completion is reaped.
    unsafe { ring.sq().push_raw(&sqe.user_data(0x5eed)) }.unwrap();
    ring.submit_and_wait(1).unwrap();
    let cqe = ring.cq().pop().expect("a completion");
    assert_eq!(cqe.user_data(), 0x5eed);
    cqe.result()
}

/// Submits an entry that names fds alone and returns its result.
///
/// # Safety
/// Every fd `sqe` names stays open until this returns (it reaps the completion first).
unsafe fn run_fd(ring: &mut Ring, sqe: FdSqe) -> Result<u32, Errno> {
    // SAFETY: the caller keeps the fds open until the completion, reaped below.
    unsafe { ring.sq().push_fd(&sqe.user_data(0x5afe)) }.unwrap();
    ring.submit_and_wait(1).unwrap();
    let cqe = ring.cq().pop().expect("a completion");
    assert_eq!(cqe.user_data(), 0x5afe);
    cqe.result()
}

/// Submits a safe entry alone and returns its result.
fn run_safe(ring: &mut Ring, sqe: SafeSqe) -> Result<u32, Errno> {
    ring.sq().push(&sqe.user_data(0x5afe)).unwrap();
    ring.submit_and_wait(1).unwrap();
    let cqe = ring.cq().pop().expect("a completion");
    assert_eq!(cqe.user_data(), 0x5afe);
    cqe.result()
}

fn rw_file(path: &Path) -> File {
    std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(true).open(path).unwrap()
}

fn pipe() -> (OwnedFd, OwnedFd) {
    rustix::pipe::pipe().unwrap()
}

/// Registers a sparse table of `n` file slots (raw `IORING_REGISTER_FILES2`).
fn register_sparse_files(ring: &Ring, n: u32) -> std::io::Result<u32> {
    let reg = uapi::io_uring_rsrc_register { nr: n, flags: uapi::IORING_RSRC_REGISTER_SPARSE, ..Default::default() };
    // SAFETY: `reg` is a valid `io_uring_rsrc_register` (no data or tag arrays for a sparse
    // table), and `nr_args` is its size, as IORING_REGISTER_FILES2 expects.
    unsafe {
        ring.submitter().register_raw(
            uapi::IORING_REGISTER_FILES2,
            &reg as *const uapi::io_uring_rsrc_register as *const c_void,
            core::mem::size_of::<uapi::io_uring_rsrc_register>() as u32,
        )
    }
}

#[test]
fn read_write_offsets() {
    let mut ring = Ring::new(8).unwrap();
    if !supported(&ring, "read_write_offsets", &[(op::Read::CODE, "READ"), (op::Write::CODE, "WRITE")]) {
        return;
    }
    let path = TempPath::new("read_write_offsets");
    let f = rw_file(&path.0);
    assert_eq!(run(&mut ring, op::Write::new(&f, b"hello world").unwrap().build()), Ok(11));
    assert_eq!(run(&mut ring, op::Write::new(&f, b"W").unwrap().offset(6).build()), Ok(1));
    assert_eq!(std::fs::read(&path.0).unwrap(), b"hello World");
    let mut buf = [0u8; 5];
    assert_eq!(run(&mut ring, op::Read::new(&f, &mut buf).unwrap().offset(6).build()), Ok(5));
    assert_eq!(&buf, b"World");
    // Past the end: a short read, then 0.
    let mut buf = [0u8; 8];
    assert_eq!(run(&mut ring, op::Read::new(&f, &mut buf).unwrap().offset(9).build()), Ok(2));
    assert_eq!(&buf[..2], b"ld");
    assert_eq!(run(&mut ring, op::Read::new(&f, &mut buf).unwrap().offset(11).build()), Ok(0));
    // RWF_APPEND reaches the kernel: the write lands at the end whatever the offset.
    assert_eq!(run(&mut ring, op::Write::new(&f, b"!").unwrap().offset(0).rw_flags(RwFlags::APPEND).build()), Ok(1));
    assert_eq!(std::fs::read(&path.0).unwrap(), b"hello World!");
}

#[test]
fn read_write_current_position() {
    let mut ring = Ring::new(8).unwrap();
    if !supported(&ring, "read_write_current_position", &[(op::Read::CODE, "READ"), (op::Write::CODE, "WRITE")]) {
        return;
    }
    if !ring.features().contains(Features::RW_CUR_POS) {
        common::skip("read_write_current_position", "kernel lacks IORING_FEAT_RW_CUR_POS (5.6)");
        return;
    }
    let path = TempPath::new("read_write_current_position");
    let mut f = rw_file(&path.0);
    assert_eq!(run(&mut ring, op::Write::new(&f, b"abc").unwrap().current_position().build()), Ok(3));
    assert_eq!(run(&mut ring, op::Write::new(&f, b"def").unwrap().current_position().build()), Ok(3));
    assert_eq!(f.stream_position().unwrap(), 6, "the writes advanced the file position");
    assert_eq!(std::fs::read(&path.0).unwrap(), b"abcdef");
    f.seek(SeekFrom::Start(1)).unwrap();
    let mut buf = [0u8; 2];
    assert_eq!(run(&mut ring, op::Read::new(&f, &mut buf).unwrap().current_position().build()), Ok(2));
    assert_eq!(&buf, b"bc");
    assert_eq!(run(&mut ring, op::Read::new(&f, &mut buf).unwrap().current_position().build()), Ok(2));
    assert_eq!(&buf, b"de");
    assert_eq!(f.stream_position().unwrap(), 5);
}

#[test]
fn readv_writev() {
    let mut ring = Ring::new(8).unwrap();
    if !supported(&ring, "readv_writev", &[(op::Readv::CODE, "READV"), (op::Writev::CODE, "WRITEV")]) {
        return;
    }
    let path = TempPath::new("readv_writev");
    let f = rw_file(&path.0);
    let (a, b, c) = (b"one-".as_slice(), b"two-".as_slice(), b"three".as_slice());
    let iov = [IoSlice::new(a), IoSlice::new(b), IoSlice::new(c)];
    // writev2 with RWF_DSYNC, at offset 2 (the hole reads back as zeros).
    assert_eq!(run(&mut ring, op::Writev::new(&f, &iov).unwrap().offset(2).rw_flags(RwFlags::DSYNC).build()), Ok(13));
    assert_eq!(std::fs::read(&path.0).unwrap(), b"\0\0one-two-three");
    let (mut x, mut y) = ([0u8; 6], [0u8; 20]);
    let mut iov = [IoSliceMut::new(&mut x), IoSliceMut::new(&mut y)];
    assert_eq!(run(&mut ring, op::Readv::new(&f, &mut iov).unwrap().offset(2).build()), Ok(13));
    assert_eq!(&x, b"one-tw");
    assert_eq!(&y[..7], b"o-three");
    // readv2 with RWF_NOWAIT: the data is in the page cache, so it succeeds (file systems
    // without non-blocking reads, such as tmpfs on some kernels, refuse the flag instead).
    let mut z = [0u8; 3];
    let mut iov = [IoSliceMut::new(&mut z)];
    match run(&mut ring, op::Readv::new(&f, &mut iov).unwrap().offset(6).rw_flags(RwFlags::NOWAIT).build()) {
        Ok(n) => {
            assert_eq!(n, 3);
            assert_eq!(&z, b"two");
        }
        Err(e) if e == uring::Errno::OPNOTSUPP => {
            common::note("readv_writev", "this file system refuses RWF_NOWAIT (EOPNOTSUPP)")
        }
        Err(e) => panic!("readv2 RWF_NOWAIT: {e}"),
    }
    // Unknown RWF bits are refused by the kernel: the flags word really is encoded.
    let mut iov = [IoSliceMut::new(&mut z)];
    assert_eq!(
        run(&mut ring, op::Readv::new(&f, &mut iov).unwrap().rw_flags(RwFlags::from_bits_retain(1 << 30)).build()),
        Err(Errno::OPNOTSUPP)
    );
}

#[test]
fn fixed_buffers() {
    // The registered memory outlives the ring (dropped first), which unregisters it.
    let mut region = vec![0u8; 8192];
    let mut ring = Ring::new(8).unwrap();
    if !supported(&ring, "fixed_buffers", &[(op::ReadFixed::CODE, "READ_FIXED"), (op::WriteFixed::CODE, "WRITE_FIXED")])
    {
        return;
    }
    let iov = libc::iovec { iov_base: region.as_mut_ptr() as *mut c_void, iov_len: region.len() };
    // SAFETY: one valid iovec; `region` stays alive and unmoved while registered (it is dropped
    // after `ring`, whose teardown unregisters it).
    unsafe {
        ring.submitter().register_raw(uapi::IORING_REGISTER_BUFFERS, &iov as *const libc::iovec as *const c_void, 1)
    }
    .unwrap();
    let path = TempPath::new("fixed_buffers");
    let f = rw_file(&path.0);
    region[100..110].copy_from_slice(b"fixed-data");
    assert_eq!(run(&mut ring, op::WriteFixed::new(&f, &region[100..110], 0).unwrap().offset(3).build()), Ok(10));
    assert_eq!(std::fs::read(&path.0).unwrap(), b"\0\0\0fixed-data");
    assert_eq!(run(&mut ring, op::ReadFixed::new(&f, &mut region[4000..4005], 0).unwrap().offset(8).build()), Ok(5));
    assert_eq!(&region[4000..4005], b"-data");
    // Memory outside the registered buffer is refused.
    let mut outside = [0u8; 4];
    assert_eq!(run(&mut ring, op::ReadFixed::new(&f, &mut outside, 0).unwrap().build()), Err(Errno::FAULT));

    if !supported(
        &ring,
        "fixed_buffers (vectored)",
        &[(op::ReadvFixed::CODE, "READV_FIXED"), (op::WritevFixed::CODE, "WRITEV_FIXED")],
    ) {
        return;
    }
    region[0..3].copy_from_slice(b"abc");
    region[5000..5003].copy_from_slice(b"xyz");
    {
        let iov = [IoSlice::new(&region[0..3]), IoSlice::new(&region[5000..5003])];
        assert_eq!(run(&mut ring, op::WritevFixed::new(&f, &iov, 0).unwrap().offset(20).build()), Ok(6));
    }
    let content = std::fs::read(&path.0).unwrap();
    assert_eq!(&content[20..], b"abcxyz");
    {
        let (lo, hi) = region.split_at_mut(6000);
        let mut iov = [IoSliceMut::new(&mut lo[1000..1002]), IoSliceMut::new(&mut hi[..4])];
        assert_eq!(run(&mut ring, op::ReadvFixed::new(&f, &mut iov, 0).unwrap().offset(20).build()), Ok(6));
    }
    assert_eq!(&region[1000..1002], b"ab");
    assert_eq!(&region[6000..6004], b"cxyz");
}

#[test]
fn read_multishot_pipe() {
    let test = "read_multishot_pipe";
    let mut mem = vec![0u8; 4 * 64];
    let mut ring = Ring::new(8).unwrap();
    if !supported(
        &ring,
        test,
        &[(op::ReadMultishot::CODE, "READ_MULTISHOT"), (op::ProvideBuffers::CODE, "PROVIDE_BUFFERS")],
    ) {
        return;
    }
    const BGID: u16 = 7;
    // Legacy provided buffers: 4 buffers of 64 bytes, ids 0..4.
    assert_eq!(run(&mut ring, op::ProvideBuffers::new(&mut mem, 64, 4, BGID, 0).unwrap().build()), Ok(0));

    let (r, w) = pipe();
    // SAFETY: `r` stays open until the final completion is reaped below.
    unsafe { ring.sq().push_fd(&op::ReadMultishot::new(&r, &BufGroupId(BGID)).unwrap().build().user_data(77)) }
        .unwrap();
    ring.submit().unwrap();
    let mut seen = Vec::new();
    for msg in [b"first".as_slice(), b"second!"] {
        rustix::io::write(&w, msg).unwrap();
        let cqe = ring.wait_cqe().unwrap();
        assert_eq!(cqe.user_data(), 77);
        if cqe.result() == Err(Errno::INVAL) && seen.is_empty() {
            common::skip(test, "kernel refuses multishot reads from legacy provided buffers (EINVAL)");
            return;
        }
        assert_eq!(cqe.result(), Ok(msg.len() as u32), "{cqe:?}");
        assert!(cqe.more(), "the request stays armed: {cqe:?}");
        let bid = cqe.buffer_id().expect("a selected buffer") as usize;
        assert!(bid < 4 && !seen.contains(&bid));
        assert_eq!(&mem[bid * 64..bid * 64 + msg.len()], msg);
        seen.push(bid);
    }
    // EOF ends the request: result 0 without IORING_CQE_F_MORE.
    drop(w);
    let cqe = ring.wait_cqe().unwrap();
    assert_eq!((cqe.user_data(), cqe.result(), cqe.more()), (77, Ok(0), false), "{cqe:?}");
}

#[test]
fn read_buffer_select() {
    let test = "read_buffer_select";
    let mut mem = vec![0u8; 2 * 32];
    let mut ring = Ring::new(8).unwrap();
    if !supported(&ring, test, &[(op::Read::CODE, "READ"), (op::ProvideBuffers::CODE, "PROVIDE_BUFFERS")]) {
        return;
    }
    const BGID: u16 = 3;
    // Legacy provided buffers: 2 buffers of 32 bytes, ids 10 and 11.
    assert_eq!(run(&mut ring, op::ProvideBuffers::new(&mut mem, 32, 2, BGID, 10).unwrap().build()), Ok(0));
    let path = TempPath::new(test);
    let f = rw_file(&path.0);
    std::fs::write(&path.0, b"selected buffer read").unwrap();
    // Length 0: up to the whole selected buffer.
    let sqe = op::Read::selected(&f, 0, &BufGroupId(BGID)).unwrap().build().user_data(1);
    // SAFETY: the entry points at no caller memory; the provided buffers in `mem` outlive it.
    unsafe { ring.sq().push_raw(&sqe) }.unwrap();
    ring.submit_and_wait(1).unwrap();
    let cqe = ring.cq().pop().unwrap();
    assert_eq!(cqe.result(), Ok(20));
    let bid = cqe.buffer_id().unwrap() as usize;
    assert!(bid == 10 || bid == 11);
    assert_eq!(&mem[(bid - 10) * 32..(bid - 10) * 32 + 20], b"selected buffer read");
}

#[test]
fn fsync_and_ranges() {
    let test = "fsync_and_ranges";
    let mut ring = Ring::new(8).unwrap();
    if !supported(&ring, test, &[(op::Fsync::CODE, "FSYNC"), (op::SyncFileRange::CODE, "SYNC_FILE_RANGE")]) {
        return;
    }
    let path = TempPath::new(test);
    let mut f = rw_file(&path.0);
    f.write_all(&[7u8; 10000]).unwrap();
    let (r, _w) = pipe();
    let flags = SyncFileRangeFlags::WAIT_BEFORE | SyncFileRangeFlags::WRITE | SyncFileRangeFlags::WAIT_AFTER;
    // SAFETY: `f` and `r` stay open until `run_fd` has reaped each completion.
    unsafe {
        assert_eq!(run_fd(&mut ring, op::Fsync::new(&f).build()), Ok(0));
        f.write_all(b"more").unwrap();
        assert_eq!(run_fd(&mut ring, op::Fsync::new(&f).datasync().build()), Ok(0));
        assert_eq!(run_fd(&mut ring, op::Fsync::new(&f).range(4096, 4096).build()), Ok(0));
        assert_eq!(run_fd(&mut ring, op::Fsync::new(&f).datasync().range(0, 0).build()), Ok(0));
        assert_eq!(run_fd(&mut ring, op::SyncFileRange::new(&f, 0, 10004).flags(flags).build()), Ok(0));
        assert_eq!(std::fs::metadata(&path.0).unwrap().len(), 10004);
        // The operations really reach fsync/sync_file_range: both refuse a pipe.
        assert_eq!(run_fd(&mut ring, op::Fsync::new(&r).build()), Err(Errno::INVAL));
        assert_eq!(run_fd(&mut ring, op::SyncFileRange::new(&r, 0, 1).flags(flags).build()), Err(Errno::SPIPE));
        // Unknown sync_file_range flags are refused: the flags word is encoded.
        let unknown = SyncFileRangeFlags::from_bits_retain(8);
        assert_eq!(run_fd(&mut ring, op::SyncFileRange::new(&f, 0, 1).flags(unknown).build()), Err(Errno::INVAL));
    }
}

#[test]
fn fallocate_grows() {
    let test = "fallocate_grows";
    let mut ring = Ring::new(8).unwrap();
    if !supported(&ring, test, &[(op::Fallocate::CODE, "FALLOCATE")]) {
        return;
    }
    let path = TempPath::new(test);
    let f = rw_file(&path.0);
    // SAFETY: `f` stays open until `run_fd` has reaped the completion (here and below).
    match unsafe { run_fd(&mut ring, op::Fallocate::new(&f, 0, 65536).build()) } {
        Err(e) if e == Errno::OPNOTSUPP => {
            common::skip(test, "the temp dir's file system lacks fallocate");
            return;
        }
        r => assert_eq!(r, Ok(0)),
    }
    let md = std::fs::metadata(&path.0).unwrap();
    assert_eq!(md.len(), 65536);
    // KEEP_SIZE allocates past the end without growing the size.
    assert_eq!(
        // SAFETY: as above.
        unsafe { run_fd(&mut ring, op::Fallocate::new(&f, 65536, 65536).mode(FallocateFlags::KEEP_SIZE).build()) },
        Ok(0)
    );
    let md2 = std::fs::metadata(&path.0).unwrap();
    assert_eq!(md2.len(), 65536);
    assert!(md2.blocks() > md.blocks(), "blocks {} -> {}", md.blocks(), md2.blocks());
}

#[test]
fn fadvise_madvise() {
    let test = "fadvise_madvise";
    let mut ring = Ring::new(8).unwrap();
    if !supported(&ring, test, &[(op::Fadvise::CODE, "FADVISE"), (op::Madvise::CODE, "MADVISE")]) {
        return;
    }
    let path = TempPath::new(test);
    let mut f = rw_file(&path.0);
    f.write_all(&[1u8; 8192]).unwrap();
    let (r, _w) = pipe();
    // SAFETY: `f` and `r` stay open until `run_fd` has reaped each completion.
    unsafe {
        assert_eq!(run_fd(&mut ring, op::Fadvise::new(&f, 0, 8192, rustix::fs::Advice::WillNeed).build()), Ok(0));
        assert_eq!(run_fd(&mut ring, op::Fadvise::new(&f, 0, 0, rustix::fs::Advice::Sequential).build()), Ok(0));
        // fadvise really runs: a pipe is refused with ESPIPE.
        assert_eq!(
            run_fd(&mut ring, op::Fadvise::new(&r, 0, 0, rustix::fs::Advice::Normal).build()),
            Err(Errno::SPIPE)
        );
    }

    // madvise(MADV_DONTNEED) on a private anonymous page zeroes it.
    let page = rustix::param::page_size();
    // SAFETY: a fresh anonymous mapping, unmapped below.
    let map = unsafe {
        rustix::mm::mmap_anonymous(
            core::ptr::null_mut(),
            2 * page,
            rustix::mm::ProtFlags::READ | rustix::mm::ProtFlags::WRITE,
            rustix::mm::MapFlags::PRIVATE,
        )
    }
    .unwrap();
    // SAFETY: the mapping is 2 pages, readable and writable, and used only here.
    let mem = unsafe { core::slice::from_raw_parts_mut(map as *mut u8, 2 * page) };
    mem.fill(0xab);
    let sqe = op::Madvise::new(map, page as u32, rustix::mm::Advice::LinuxDontNeed).build();
    assert_eq!(run(&mut ring, sqe), Ok(0));
    // SAFETY: the operation completed; reading the mapping through a volatile read sees what the
    // kernel left there.
    let first = unsafe { core::ptr::read_volatile(map as *const u8) };
    assert_eq!(first, 0, "MADV_DONTNEED discarded the first page");
    // SAFETY: within the mapping.
    let second = unsafe { core::ptr::read_volatile((map as *const u8).add(page)) };
    assert_eq!(second, 0xab, "the second page is untouched");

    // The 64-bit forms (Linux 6.12): a kernel that ignores them would not zero the page.
    let major_minor = rustix::system::uname().release().to_string_lossy().into_owned();
    let mut it = major_minor.split(['.', '-']).map(|s| s.parse::<u32>().unwrap_or(0));
    let (maj, min) = (it.next().unwrap_or(0), it.next().unwrap_or(0));
    if (maj, min) < (6, 12) {
        common::skip("fadvise_madvise", format!("64-bit lengths not checked: kernel {major_minor} predates 6.12"));
    } else {
        let sqe = op::Fadvise::new64(&f, 0, 1 << 33, rustix::fs::Advice::Random).build();
        // SAFETY: `f` stays open until `run_fd` has reaped the completion.
        assert_eq!(unsafe { run_fd(&mut ring, sqe) }, Ok(0));
        mem.fill(0xcd);
        let sqe = op::Madvise::new64(map, 2 * page as u64, rustix::mm::Advice::LinuxDontNeed).build();
        assert_eq!(run(&mut ring, sqe), Ok(0));
        // SAFETY: within the mapping, after the operation completed.
        let (a, b) = unsafe {
            (core::ptr::read_volatile(map as *const u8), core::ptr::read_volatile((map as *const u8).add(page)))
        };
        assert_eq!((a, b), (0, 0), "both pages discarded");
    }
    // SAFETY: the mapping made above, no longer used.
    unsafe { rustix::mm::munmap(map, 2 * page) }.unwrap();
}

#[test]
fn openat_openat2_close() {
    let test = "openat_openat2_close";
    let mut ring = Ring::new(8).unwrap();
    if !supported(
        &ring,
        test,
        &[(op::OpenAt::CODE, "OPENAT"), (op::OpenAt2::CODE, "OPENAT2"), (op::Close::CODE, "CLOSE")],
    ) {
        return;
    }
    let path = TempPath::new(test);
    let cpath = path.c();
    let fd = run(
        &mut ring,
        op::OpenAt::new(&cpath)
            .flags(OFlags::CREATE | OFlags::EXCL | OFlags::WRONLY | OFlags::CLOEXEC)
            .mode(Mode::from_raw_mode(0o600))
            .build(),
    )
    .unwrap();
    // SAFETY: the kernel just opened `fd` for us; nothing else owns it.
    let mut file = unsafe { File::from_raw_fd(fd as i32) };
    file.write_all(b"opened by io_uring").unwrap();
    drop(file);
    let md = std::fs::metadata(&path.0).unwrap();
    assert_eq!(md.permissions().mode() & 0o777, 0o600);
    // O_EXCL: a second create fails.
    assert_eq!(
        run(&mut ring, op::OpenAt::new(&cpath).flags(OFlags::CREATE | OFlags::EXCL | OFlags::WRONLY).build()),
        Err(Errno::EXIST)
    );
    // Relative to a directory fd.
    let dir = File::open(std::env::temp_dir()).unwrap();
    let name = CString::new(path.0.file_name().unwrap().as_bytes()).unwrap();
    let fd = run(&mut ring, op::OpenAt::new(&name).dir(&dir).flags(OFlags::RDONLY | OFlags::CLOEXEC).build()).unwrap();
    let mut s = String::new();
    // SAFETY: a new fd from the kernel, owned here.
    unsafe { File::from_raw_fd(fd as i32) }.read_to_string(&mut s).unwrap();
    assert_eq!(s, "opened by io_uring");

    // openat2: plain, then RESOLVE_NO_SYMLINKS refusing a symlink.
    let how = op::OpenHow::new().flags(OFlags::RDONLY | OFlags::CLOEXEC);
    let fd = run(&mut ring, op::OpenAt2::new(&cpath, &how).build()).unwrap();
    let mut s = String::new();
    // SAFETY: a new fd from the kernel, owned here.
    unsafe { File::from_raw_fd(fd as i32) }.read_to_string(&mut s).unwrap();
    assert_eq!(s, "opened by io_uring");
    let link = TempPath::new("openat_openat2_close-link");
    std::os::unix::fs::symlink(&path.0, &link.0).unwrap();
    let clink = link.c();
    let how = how.resolve(ResolveFlags::NO_SYMLINKS);
    assert_eq!(run(&mut ring, op::OpenAt2::new(&clink, &how).build()), Err(Errno::from_raw(libc::ELOOP)));
    // A mode without O_CREAT is refused by openat2: the how struct is read.
    let bad = op::OpenHow::new().mode(Mode::from_raw_mode(0o644));
    assert_eq!(run(&mut ring, op::OpenAt2::new(&cpath, &bad).build()), Err(Errno::INVAL));

    // close: closing the only write end of a pipe makes the read end see EOF.
    let (r, w) = pipe();
    let wfd = std::os::fd::IntoRawFd::into_raw_fd(w);
    // SAFETY: `wfd` left its `OwnedFd` (`into_raw_fd`): this close is its only owner, and
    // nothing uses the number afterwards.
    assert_eq!(unsafe { run_fd(&mut ring, op::Close::new(Target::from_raw_fd(wfd)).build()) }, Ok(0));
    let mut buf = [0u8; 1];
    assert_eq!(rustix::io::read(&r, &mut buf).unwrap(), 0, "EOF: the write end is closed");
}

#[test]
fn direct_descriptors() {
    let test = "direct_descriptors";
    let mut ring = Ring::new(8).unwrap();
    if !supported(
        &ring,
        test,
        &[
            (op::OpenAt::CODE, "OPENAT"),
            (op::OpenAt2::CODE, "OPENAT2"),
            (op::Close::CODE, "CLOSE"),
            (op::Read::CODE, "READ"),
        ],
    ) {
        return;
    }
    if let Err(e) = register_sparse_files(&ring, 4) {
        common::skip(test, format!("sparse file table refused: {e}"));
        return;
    }
    let path = TempPath::new(test);
    std::fs::write(&path.0, b"direct descriptor data").unwrap();
    let cpath = path.c();

    // openat_direct into slot 2: the result is 0, and the file is readable through the slot.
    assert_eq!(run(&mut ring, op::OpenAt::new(&cpath).dest(DestSlot::Fixed(2)).build()), Ok(0));
    let mut buf = [0u8; 6];
    assert_eq!(run(&mut ring, op::Read::new(Fixed(2), &mut buf).unwrap().offset(0).build()), Ok(6));
    assert_eq!(&buf, b"direct");

    // openat2_direct with allocation: the result is the slot picked.
    let how = op::OpenHow::new().flags(OFlags::RDONLY);
    let slot = run(&mut ring, op::OpenAt2::new(&cpath, &how).dest(DestSlot::Alloc).build()).unwrap();
    assert!(slot < 4 && slot != 2, "allocated slot {slot}");
    assert_eq!(run(&mut ring, op::Read::new(Fixed(slot), &mut buf).unwrap().offset(7).build()), Ok(6));
    assert_eq!(&buf, b"descri");
    // openat direct with allocation too.
    let slot2 = run(&mut ring, op::OpenAt::new(&cpath).dest(DestSlot::Alloc).build()).unwrap();
    assert!(slot2 < 4 && slot2 != 2 && slot2 != slot);

    // close_direct empties the slot: reads through it then fail with EBADF.
    assert_eq!(run_safe(&mut ring, op::Close::fixed(Fixed(2)).build()), Ok(0));
    assert_eq!(run(&mut ring, op::Read::new(Fixed(2), &mut buf).unwrap().build()), Err(Errno::BADF));
    assert_eq!(run_safe(&mut ring, op::Close::fixed(Fixed(slot)).build()), Ok(0));
    assert_eq!(run_safe(&mut ring, op::Close::fixed(Fixed(slot)).build()), Err(Errno::BADF), "already empty");
}

#[test]
fn statx_matches_metadata() {
    let test = "statx_matches_metadata";
    let mut ring = Ring::new(8).unwrap();
    if !supported(&ring, test, &[(op::Statx::CODE, "STATX")]) {
        return;
    }
    let path = TempPath::new(test);
    std::fs::write(&path.0, vec![5u8; 12345]).unwrap();
    let md = std::fs::metadata(&path.0).unwrap();
    let cpath = path.c();
    // SAFETY: `statx` is plain integers; all-zero is valid.
    let mut st: libc::statx = unsafe { core::mem::zeroed() };
    assert_eq!(run(&mut ring, op::Statx::new(&cpath, &mut st).build()), Ok(0));
    assert_eq!(st.stx_size, md.len());
    assert_eq!(st.stx_ino, md.ino());
    assert_eq!(st.stx_mode as u32, md.mode());
    assert_eq!(st.stx_mask & libc::STATX_BASIC_STATS, libc::STATX_BASIC_STATS);
    // Through a directory fd, and with AT_EMPTY_PATH on an open file.
    let dir = File::open(std::env::temp_dir()).unwrap();
    let name = CString::new(path.0.file_name().unwrap().as_bytes()).unwrap();
    // SAFETY: as above.
    let mut st2: libc::statx = unsafe { core::mem::zeroed() };
    assert_eq!(run(&mut ring, op::Statx::new(&name, &mut st2).dir(&dir).mask(StatxFlags::SIZE).build()), Ok(0));
    assert_eq!(st2.stx_size, 12345);
    let f = File::open(&path.0).unwrap();
    // SAFETY: as above.
    let mut st3: libc::statx = unsafe { core::mem::zeroed() };
    assert_eq!(
        run(&mut ring, op::Statx::new(c"", &mut st3).dir(&f).flags(AtFlags::EMPTY_PATH).mask(StatxFlags::INO).build()),
        Ok(0)
    );
    assert_eq!(st3.stx_ino, md.ino());
    // SAFETY: as above.
    let mut st4: libc::statx = unsafe { core::mem::zeroed() };
    let missing = CString::new(format!("{}-missing", path.0.display())).unwrap();
    assert_eq!(run(&mut ring, op::Statx::new(&missing, &mut st4).build()), Err(Errno::NOENT));
}

#[test]
fn path_operations() {
    let test = "path_operations";
    let mut ring = Ring::new(8).unwrap();
    if !supported(
        &ring,
        test,
        &[
            (op::MkdirAt::CODE, "MKDIRAT"),
            (op::RenameAt::CODE, "RENAMEAT"),
            (op::UnlinkAt::CODE, "UNLINKAT"),
            (op::SymlinkAt::CODE, "SYMLINKAT"),
            (op::LinkAt::CODE, "LINKAT"),
        ],
    ) {
        return;
    }
    let root = TempPath::new(test);
    let croot = root.c();
    // mkdir
    assert_eq!(run(&mut ring, op::MkdirAt::new(&croot, Mode::from_raw_mode(0o750)).build()), Ok(0));
    let md = std::fs::metadata(&root.0).unwrap();
    assert!(md.is_dir());
    // The mode asked for, less the umask (which leaves the owner's bits alone in practice).
    let mode = md.permissions().mode() & 0o777;
    assert_eq!((mode & !0o750, mode & 0o700), (0, 0o700), "mode {mode:o}");
    let dir = File::open(&root.0).unwrap();
    // mkdirat relative to the directory
    assert_eq!(run(&mut ring, op::MkdirAt::new(c"sub", Mode::from_raw_mode(0o700)).dir(&dir).build()), Ok(0));
    assert!(root.0.join("sub").is_dir());
    assert_eq!(
        run(&mut ring, op::MkdirAt::new(c"sub", Mode::from_raw_mode(0o700)).dir(&dir).build()),
        Err(Errno::EXIST)
    );

    // rename (absolute paths), then renameat relative to the directory with NOREPLACE.
    std::fs::write(root.0.join("a"), b"A").unwrap();
    let (a, b) = (cstring(&root.0.join("a")), cstring(&root.0.join("b")));
    assert_eq!(run(&mut ring, op::RenameAt::new(&a, &b).build()), Ok(0));
    assert!(!root.0.join("a").exists());
    assert_eq!(std::fs::read(root.0.join("b")).unwrap(), b"A");
    std::fs::write(root.0.join("c"), b"C").unwrap();
    assert_eq!(
        run(&mut ring, op::RenameAt::new(c"c", c"b").old_dir(&dir).new_dir(&dir).flags(RenameFlags::NOREPLACE).build()),
        Err(Errno::EXIST)
    );
    assert_eq!(run(&mut ring, op::RenameAt::new(c"c", c"sub/c").old_dir(&dir).new_dir(&dir).build()), Ok(0));
    assert_eq!(std::fs::read(root.0.join("sub/c")).unwrap(), b"C");

    // symlink (absolute link path), symlinkat relative to the directory
    let l1 = cstring(&root.0.join("l1"));
    assert_eq!(run(&mut ring, op::SymlinkAt::new(c"b", &l1).build()), Ok(0));
    assert_eq!(std::fs::read_link(root.0.join("l1")).unwrap(), Path::new("b"));
    assert_eq!(std::fs::read(root.0.join("l1")).unwrap(), b"A");
    assert_eq!(run(&mut ring, op::SymlinkAt::new(c"sub/c", c"l2").dir(&dir).build()), Ok(0));
    assert_eq!(std::fs::read(root.0.join("l2")).unwrap(), b"C");

    // link (absolute), then linkat with AT_SYMLINK_FOLLOW through a symlink
    let h1 = cstring(&root.0.join("h1"));
    assert_eq!(run(&mut ring, op::LinkAt::new(&b, &h1).build()), Ok(0));
    let (mb, mh) = (std::fs::metadata(root.0.join("b")).unwrap(), std::fs::metadata(root.0.join("h1")).unwrap());
    assert_eq!(mb.ino(), mh.ino());
    assert_eq!(mb.nlink(), 2);
    assert_eq!(
        run(
            &mut ring,
            op::LinkAt::new(c"l2", c"h2").old_dir(&dir).new_dir(&dir).flags(AtFlags::SYMLINK_FOLLOW).build()
        ),
        Ok(0)
    );
    let h2 = std::fs::symlink_metadata(root.0.join("h2")).unwrap();
    assert!(h2.is_file(), "followed the symlink: a hard link to the file itself");
    assert_eq!(h2.ino(), std::fs::metadata(root.0.join("sub/c")).unwrap().ino());

    // unlink (absolute), unlinkat relative, and AT_REMOVEDIR
    assert_eq!(run(&mut ring, op::UnlinkAt::new(&h1).build()), Ok(0));
    assert!(!root.0.join("h1").exists());
    assert_eq!(std::fs::metadata(root.0.join("b")).unwrap().nlink(), 1);
    assert_eq!(run(&mut ring, op::UnlinkAt::new(c"sub").dir(&dir).build()), Err(Errno::ISDIR));
    for name in [c"h2", c"l2", c"sub/c"] {
        assert_eq!(run(&mut ring, op::UnlinkAt::new(name).dir(&dir).build()), Ok(0), "{name:?}");
    }
    assert_eq!(run(&mut ring, op::UnlinkAt::new(c"sub").dir(&dir).flags(AtFlags::REMOVEDIR).build()), Ok(0));
    assert!(!root.0.join("sub").exists());
}

#[test]
fn xattrs_on_tmpfs() {
    let test = "xattrs_on_tmpfs";
    let mut ring = Ring::new(8).unwrap();
    if !supported(
        &ring,
        test,
        &[
            (op::FsetXattr::CODE, "FSETXATTR"),
            (op::SetXattr::CODE, "SETXATTR"),
            (op::FgetXattr::CODE, "FGETXATTR"),
            (op::GetXattr::CODE, "GETXATTR"),
        ],
    ) {
        return;
    }
    let shm = Path::new("/dev/shm");
    match rustix::fs::statfs(shm) {
        Ok(sfs) if (sfs.f_type as u64 & 0xffff_ffff) == libc::TMPFS_MAGIC as u64 => {}
        Ok(_) => {
            common::skip(test, "/dev/shm is not a tmpfs");
            return;
        }
        Err(e) => {
            common::skip(test, format!("/dev/shm unavailable: {e}"));
            return;
        }
    }
    let path = TempPath::under(shm, test);
    let f = rw_file(&path.0);
    let cpath = path.c();

    // fsetxattr, read back with getxattr (by path)
    match run(&mut ring, op::FsetXattr::new(&f, c"user.uring", b"first").unwrap().flags(XattrFlags::CREATE).build()) {
        Err(e) if e == Errno::OPNOTSUPP => {
            common::skip(test, "tmpfs refuses user.* xattrs (ENOTSUP; needs Linux 6.6)");
            return;
        }
        r => assert_eq!(r, Ok(0)),
    }
    let mut value = [0u8; 32];
    assert_eq!(run(&mut ring, op::GetXattr::new(&cpath, c"user.uring", &mut value).unwrap().build()), Ok(5));
    assert_eq!(&value[..5], b"first");
    // An empty buffer asks for the size.
    assert_eq!(run(&mut ring, op::GetXattr::new(&cpath, c"user.uring", &mut []).unwrap().build()), Ok(5));
    // XATTR_CREATE on an existing attribute fails.
    assert_eq!(
        run(&mut ring, op::SetXattr::new(&cpath, c"user.uring", b"x").unwrap().flags(XattrFlags::CREATE).build()),
        Err(Errno::EXIST)
    );
    // setxattr by path with REPLACE, read back with fgetxattr
    assert_eq!(
        run(
            &mut ring,
            op::SetXattr::new(&cpath, c"user.uring", b"second value").unwrap().flags(XattrFlags::REPLACE).build()
        ),
        Ok(0)
    );
    let mut value = [0u8; 32];
    assert_eq!(run(&mut ring, op::FgetXattr::new(&f, c"user.uring", &mut value).unwrap().build()), Ok(12));
    assert_eq!(&value[..12], b"second value");
    // A too-small buffer: ERANGE. A missing attribute: ENODATA.
    let mut small = [0u8; 3];
    assert_eq!(run(&mut ring, op::FgetXattr::new(&f, c"user.uring", &mut small).unwrap().build()), Err(Errno::RANGE));
    assert_eq!(run(&mut ring, op::FgetXattr::new(&f, c"user.none", &mut value).unwrap().build()), Err(Errno::NODATA));
    // Cross-check with the xattr system call.
    let mut check = [0u8; 32];
    let n = rustix::fs::getxattr(&path.0, "user.uring", &mut check).unwrap();
    assert_eq!(&check[..n], b"second value");
}

#[test]
fn ftruncate_changes_size() {
    let test = "ftruncate_changes_size";
    let mut ring = Ring::new(8).unwrap();
    if !supported(&ring, test, &[(op::Ftruncate::CODE, "FTRUNCATE")]) {
        return;
    }
    let path = TempPath::new(test);
    let f = rw_file(&path.0);
    std::fs::write(&path.0, vec![9u8; 100]).unwrap();
    // SAFETY: `f` stays open until `run_fd` has reaped the completion.
    assert_eq!(unsafe { run_fd(&mut ring, op::Ftruncate::new(&f, 10).build()) }, Ok(0));
    assert_eq!(std::fs::read(&path.0).unwrap(), vec![9u8; 10]);
    // SAFETY: as above.
    assert_eq!(unsafe { run_fd(&mut ring, op::Ftruncate::new(&f, 5000).build()) }, Ok(0));
    let data = std::fs::read(&path.0).unwrap();
    assert_eq!(data.len(), 5000);
    assert!(data[10..].iter().all(|&b| b == 0));
    // Through a registered slot as well.
    let fd = f.as_raw_fd();
    // SAFETY: one valid fd for a one-slot table (IORING_REGISTER_FILES takes an fd array).
    let reg =
        unsafe { ring.submitter().register_raw(uapi::IORING_REGISTER_FILES, &fd as *const i32 as *const c_void, 1) };
    if reg.is_ok() {
        let sqe = op::Ftruncate::new(Fixed(0), 7).build().into_safe().expect("a registered slot names no fd");
        assert_eq!(run_safe(&mut ring, sqe), Ok(0));
        assert_eq!(std::fs::metadata(&path.0).unwrap().len(), 7);
    } else {
        common::note(test, format!("fixed-slot variant not run: {reg:?}"));
    }
}
