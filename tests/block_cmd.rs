//! Block device commands (`uring::cmd::block`) on a loop device backed by a file on tmpfs:
//! `BLOCK_URING_CMD_DISCARD` against `ioctl(BLKDISCARD)`, and zone reset all.
//!
//! Needs root and `/dev/loop-control`; skips with the reason otherwise. The loop device is set
//! up with `LO_FLAGS_AUTOCLEAR` and detached by a drop guard on every path (success, failure,
//! panic); the backing file is unlinked as soon as the device holds it.

mod common;

use std::fs::{File, OpenOptions};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::PathBuf;

use uring::cmd::block::{Discard, ZoneResetAll, BLOCK_URING_CMD_DISCARD};
use uring::op::UringCmd;
use uring::{Errno, Probe, Ring};

const LOOP_SET_FD: libc::c_ulong = 0x4C00;
const LOOP_CLR_FD: libc::c_ulong = 0x4C01;
const LOOP_CONFIGURE: libc::c_ulong = 0x4C0A;
const LOOP_CTL_GET_FREE: libc::c_ulong = 0x4C82;
const LO_FLAGS_AUTOCLEAR: u32 = 4;
const BLKGETSIZE64: libc::c_ulong = 0x8008_1272;
const BLKSSZGET: libc::c_ulong = 0x1268;
const BLKDISCARD: libc::c_ulong = 0x1277;

/// `struct loop_info64`.
#[repr(C)]
struct LoopInfo64 {
    lo_device: u64,
    lo_inode: u64,
    lo_rdevice: u64,
    lo_offset: u64,
    lo_sizelimit: u64,
    lo_number: u32,
    lo_encrypt_type: u32,
    lo_encrypt_key_size: u32,
    lo_flags: u32,
    lo_file_name: [u8; 64],
    lo_crypt_name: [u8; 64],
    lo_encrypt_key: [u8; 32],
    lo_init: [u64; 2],
}

/// `struct loop_config` (`LOOP_CONFIGURE`, Linux 5.8).
#[repr(C)]
struct LoopConfig {
    fd: u32,
    block_size: u32,
    info: LoopInfo64,
    reserved: [u64; 8],
}

const _: () = assert!(core::mem::size_of::<LoopInfo64>() == 232);
const _: () = assert!(core::mem::size_of::<LoopConfig>() == 304);

fn ioctl(fd: RawFd, req: libc::c_ulong, arg: libc::c_ulong) -> std::io::Result<i32> {
    // SAFETY: every caller passes the argument its request expects (an integer, or a pointer to
    // a live value of the right type).
    let r = unsafe { libc::ioctl(fd, req as _, arg) };
    if r < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// An attached loop device; detached (and its backing file removed) on drop.
struct LoopDev {
    ctl: File,
    path: PathBuf,
    backing: PathBuf,
}

impl LoopDev {
    /// Attaches a new `size`-byte file in /dev/shm to a free loop device.
    fn attach(size: u64) -> Result<LoopDev, String> {
        let backing = PathBuf::from(format!("/dev/shm/uring-block-cmd-{}", std::process::id()));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&backing)
            .map_err(|e| format!("create {}: {e}", backing.display()))?;
        let cleanup = |e: String| {
            let _ = std::fs::remove_file(&backing);
            e
        };
        file.set_len(size).map_err(|e| cleanup(format!("size the backing file: {e}")))?;
        let control = OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/loop-control")
            .map_err(|e| cleanup(format!("open /dev/loop-control: {e}")))?;
        let mut last = String::new();
        for _ in 0..16 {
            let n = ioctl(control.as_raw_fd(), LOOP_CTL_GET_FREE, 0)
                .map_err(|e| cleanup(format!("LOOP_CTL_GET_FREE: {e}")))?;
            let path = PathBuf::from(format!("/dev/loop{n}"));
            let ctl = match OpenOptions::new().read(true).write(true).open(&path) {
                Ok(f) => f,
                Err(e) => {
                    // The node may not exist in a minimal /dev: make it (block major 7).
                    if e.kind() == std::io::ErrorKind::NotFound && make_node(&path, n).is_ok() {
                        match OpenOptions::new().read(true).write(true).open(&path) {
                            Ok(f) => f,
                            Err(e) => return Err(cleanup(format!("open {}: {e}", path.display()))),
                        }
                    } else {
                        return Err(cleanup(format!("open {}: {e}", path.display())));
                    }
                }
            };
            // SAFETY: all-zero is a valid loop_config (plain integers and arrays).
            let mut cfg: LoopConfig = unsafe { core::mem::zeroed() };
            cfg.fd = file.as_raw_fd() as u32;
            cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR;
            let r = match ioctl(ctl.as_raw_fd(), LOOP_CONFIGURE, &cfg as *const LoopConfig as libc::c_ulong) {
                Err(e) if e.raw_os_error() == Some(libc::EINVAL) || e.raw_os_error() == Some(libc::ENOTTY) => {
                    ioctl(ctl.as_raw_fd(), LOOP_SET_FD, file.as_raw_fd() as libc::c_ulong)
                }
                r => r,
            };
            match r {
                Ok(_) => {
                    // The device holds the file now.
                    let _ = std::fs::remove_file(&backing);
                    return Ok(LoopDev { ctl, path, backing });
                }
                // Another process took this device between GET_FREE and CONFIGURE: retry.
                Err(e) if e.raw_os_error() == Some(libc::EBUSY) => last = format!("{}: {e}", path.display()),
                Err(e) => return Err(cleanup(format!("attach {}: {e}", path.display()))),
            }
        }
        Err(cleanup(format!("no free loop device after 16 tries ({last})")))
    }
}

fn make_node(path: &std::path::Path, n: i32) -> std::io::Result<()> {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).map_err(std::io::Error::other)?;
    // SAFETY: a valid NUL-terminated path; makedev of the loop major and minor `n`.
    let r = unsafe { libc::mknod(c.as_ptr(), libc::S_IFBLK | 0o600, libc::makedev(7, n as u32)) };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

impl Drop for LoopDev {
    fn drop(&mut self) {
        if let Err(e) = ioctl(self.ctl.as_raw_fd(), LOOP_CLR_FD, 0) {
            // ENXIO: already detached (autoclear after the last close).
            if e.raw_os_error() != Some(libc::ENXIO) {
                common::note("block_cmd", format!("LOOP_CLR_FD {}: {e}", self.path.display()));
            }
        }
        let _ = std::fs::remove_file(&self.backing);
    }
}

/// Page-aligned memory for O_DIRECT.
#[derive(Clone, Copy)]
#[repr(C, align(4096))]
struct Page([u8; 4096]);

fn pages(n: usize, fill: impl Fn(usize) -> u8) -> Vec<Page> {
    let mut v = vec![Page([0; 4096]); n];
    for (i, p) in v.iter_mut().enumerate() {
        for (j, b) in p.0.iter_mut().enumerate() {
            *b = fill(i * 4096 + j);
        }
    }
    v
}

fn as_bytes(p: &[Page]) -> &[u8] {
    // SAFETY: `Page` is a `repr(C)` byte array; the slice covers exactly the pages.
    unsafe { core::slice::from_raw_parts(p.as_ptr() as *const u8, p.len() * 4096) }
}

fn as_bytes_mut(p: &mut [Page]) -> &mut [u8] {
    // SAFETY: as above, mutably borrowed.
    unsafe { core::slice::from_raw_parts_mut(p.as_mut_ptr() as *mut u8, p.len() * 4096) }
}

fn pattern(off: usize) -> u8 {
    (off as u8) ^ 0xA7 | 1
}

fn discard_uring(ring: &mut Ring, fd: BorrowedFd<'_>, start: u64, len: u64) -> Result<u32, Errno> {
    // SAFETY: `fd` is borrowed until this returns, after the completion is reaped.
    unsafe { ring.sq().push_fd(&Discard::new(fd, start, len).build()) }.unwrap();
    ring.submit_and_wait(1).unwrap();
    ring.wait_cqe().unwrap().result()
}

fn discard_ioctl(fd: RawFd, start: u64, len: u64) -> Result<(), Errno> {
    let range = [start, len];
    ioctl(fd, BLKDISCARD, range.as_ptr() as libc::c_ulong)
        .map(|_| ())
        .map_err(|e| Errno::from_raw(e.raw_os_error().unwrap_or(0)))
}

/// `BLOCK_URING_CMD_DISCARD` on a loop device over tmpfs: the discarded ranges read back as
/// zeros, the rest keeps its pattern, and the kernel's errors equal `ioctl(BLKDISCARD)`'s.
#[test]
fn discard_on_loop_device() {
    const TEST: &str = "discard_on_loop_device";
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        common::skip(TEST, "needs root to attach a loop device");
        return;
    }
    if !std::path::Path::new("/dev/loop-control").exists() {
        common::skip(TEST, "/dev/loop-control is missing (no loop driver)");
        return;
    }
    let mut ring = Ring::new(16).unwrap();
    if !Probe::of(&ring).unwrap().is_supported(UringCmd::CODE) {
        common::skip(TEST, "kernel lacks IORING_OP_URING_CMD");
        return;
    }
    const SIZE: u64 = 4 << 20;
    let dev = match LoopDev::attach(SIZE) {
        Ok(d) => d,
        Err(e) => {
            common::skip(TEST, format!("cannot attach a loop device: {e}"));
            return;
        }
    };
    let bdev = match OpenOptions::new().read(true).write(true).custom_flags(libc::O_DIRECT).open(&dev.path) {
        Ok(f) => f,
        Err(e) => {
            common::skip(TEST, format!("open {} O_DIRECT: {e}", dev.path.display()));
            return;
        }
    };
    let fd = bdev.as_raw_fd();
    let mut size = 0u64;
    ioctl(fd, BLKGETSIZE64, &mut size as *mut u64 as libc::c_ulong).unwrap();
    let mut lba: libc::c_int = 0;
    ioctl(fd, BLKSSZGET, &mut lba as *mut libc::c_int as libc::c_ulong).unwrap();
    assert_eq!(size, SIZE);
    let lba = lba as u64;

    // Fill the first MiB with a pattern.
    let data = pages(256, pattern);
    bdev.write_all_at(as_bytes(&data), 0).unwrap();

    // Discard [64 KiB, 192 KiB) through io_uring.
    match discard_uring(&mut ring, bdev.as_fd(), 64 << 10, 128 << 10) {
        Ok(0) => {}
        Err(e) if e == Errno::OPNOTSUPP || e == Errno::INVAL => {
            common::skip(
                TEST,
                format!("BLOCK_URING_CMD_DISCARD unsupported here ({e}); Linux 6.12+ with a discarding device"),
            );
            return;
        }
        other => panic!("discard: {other:?}"),
    }
    // And [512 KiB, 576 KiB) with the ioctl, for comparison.
    discard_ioctl(fd, 512 << 10, 64 << 10).unwrap();
    // A batch of small discards in flight together, some forced async.
    for i in 0..8u64 {
        let sqe = Discard::new(&bdev, (768 << 10) + i * 8192, 4096).build().user_data(i);
        let sqe = if i % 2 == 1 { sqe.flags(uring::SqeFlags::ASYNC) } else { sqe };
        // SAFETY: `bdev` stays open until the eight completions are reaped below.
        unsafe { ring.sq().push_fd(&sqe) }.unwrap();
    }
    ring.submit_and_wait(8).unwrap();
    for _ in 0..8 {
        assert_eq!(ring.wait_cqe().unwrap().result(), Ok(0));
    }

    let mut back = pages(256, |_| 0xEE);
    bdev.read_exact_at(as_bytes_mut(&mut back), 0).unwrap();
    let back = as_bytes(&back);
    let zero = |o: usize| {
        (64 << 10..192 << 10).contains(&o)
            || (512 << 10..576 << 10).contains(&o)
            || ((768 << 10..(768 << 10) + 8 * 8192).contains(&o) && (o - (768 << 10)) % 8192 < 4096)
    };
    for (o, &b) in back.iter().enumerate() {
        let want = if zero(o) { 0 } else { pattern(o) };
        assert_eq!(b, want, "byte {o}");
    }

    // Errors: the same as the ioctl's.
    for (what, start, len) in [
        ("unaligned start", lba / 2, lba),
        ("unaligned length", 0, lba / 2),
        ("past the end", SIZE, lba),
        ("overlapping the end", SIZE - lba, 2 * lba),
        ("overflowing range", u64::MAX - lba + 1, 2 * lba),
    ] {
        let u = discard_uring(&mut ring, bdev.as_fd(), start, len);
        let i = discard_ioctl(fd, start, len);
        assert!(u.is_err(), "{what}: {u:?}");
        assert_eq!(u.map(|_| ()), i, "{what}: io_uring and ioctl disagree");
    }
    let ro = OpenOptions::new().read(true).custom_flags(libc::O_DIRECT).open(&dev.path).unwrap();
    let u = discard_uring(&mut ring, ro.as_fd(), 0, lba);
    assert_eq!(u.map(|_| ()), discard_ioctl(ro.as_raw_fd(), 0, lba), "read-only descriptor");
    assert_eq!(u, Err(Errno::BADF));
    // Fields the kernel requires to be zero: a uring_cmd with a non-zero `len` is EINVAL.
    let mut raw = UringCmd::new(&bdev, BLOCK_URING_CMD_DISCARD).build();
    raw.as_raw_mut().len = 1;
    // SAFETY: the entry points at no memory, and `bdev` stays open until the completion is
    // reaped below.
    unsafe { ring.sq().push_raw(&raw) }.unwrap();
    ring.submit_and_wait(1).unwrap();
    assert_eq!(ring.wait_cqe().unwrap().result(), Err(Errno::INVAL), "sqe.len must be 0");

    // Zone reset all: a non-zoned loop device. Kernels without the command say EINVAL (unknown
    // command number); kernels with it refuse a non-zoned device (EOPNOTSUPP).
    // SAFETY: `bdev` stays open until the completion is reaped below.
    unsafe { ring.sq().push_fd(&ZoneResetAll::new(&bdev).build()) }.unwrap();
    ring.submit_and_wait(1).unwrap();
    let z = ring.wait_cqe().unwrap().result();
    assert!(z.is_err(), "a loop device has no zones: {z:?}");
    common::note(
        TEST,
        format!(
            "{} (lba {lba}): uring discard = ioctl discard; errors EINVAL x5, EBADF; zone reset all answered {z:?}",
            dev.path.display()
        ),
    );
    drop(ro);
    drop(bdev);
}

// ---- NVMe passthrough (uring::cmd::nvme): only with a /dev/ng* device ----

use uring::cmd::nvme::{nvme_uring_cmd, NvmeCmd, NvmeCompletion, NVME_ID_CNS_CTRL};

/// `NVME_IOCTL_ID` = `_IO('N', 0x40)`: the namespace id of a namespace device.
const NVME_IOCTL_ID: libc::c_ulong = 0x4E40;
/// `NVME_IOCTL_ADMIN_CMD` = `_IOWR('N', 0x41, struct nvme_passthru_cmd)` (72 bytes, the same
/// layout as `nvme_uring_cmd` with `result` in place of `rsvd2`).
const NVME_IOCTL_ADMIN_CMD: libc::c_ulong = 0xC048_4E41;

/// The first NVMe generic namespace device, `/dev/ngXnY`, and its block device `/dev/nvmeXnY`.
fn nvme_generic_device() -> Option<(PathBuf, PathBuf)> {
    let mut names: Vec<String> = std::fs::read_dir("/dev")
        .ok()?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| {
            n.starts_with("ng") && n[2..].contains('n') && n[2..].chars().all(|c| c.is_ascii_digit() || c == 'n')
        })
        .collect();
    names.sort();
    let ng = names.into_iter().next()?;
    Some((PathBuf::from(format!("/dev/{ng}")), PathBuf::from(format!("/dev/nvme{}", &ng[2..]))))
}

fn nvme_run(ring: &mut Ring, sqe: &uring::Sqe128) -> NvmeCompletion {
    // SAFETY: the buffers the command points at outlive this call, which waits for the
    // completion.
    unsafe { ring.sq().push128_raw(sqe) }.unwrap();
    ring.submit().unwrap();
    NvmeCompletion::from_cqe(&ring.wait_cqe32().unwrap())
}

/// NVMe passthrough on a real device: Identify Controller through io_uring equals the same
/// command through `ioctl(NVME_IOCTL_ADMIN_CMD)`, and a read of LBA 0 equals `pread(2)` of the
/// block device. Without SQE128+CQE32 the driver refuses (EOPNOTSUPP), and a 64-byte ring is
/// refused by the crate first.
#[test]
fn nvme_passthrough() {
    const TEST: &str = "nvme_passthrough";
    let Some((ng, blk)) = nvme_generic_device() else {
        common::skip(TEST, "no /dev/ng*n* NVMe generic device");
        return;
    };
    let dev = match OpenOptions::new().read(true).open(&ng) {
        Ok(f) => f,
        Err(e) => {
            common::skip(TEST, format!("open {}: {e}", ng.display()));
            return;
        }
    };
    let mut ring = match Ring::builder().sqe128().cqe32().build(8) {
        Ok(r) => r,
        Err(e) => {
            common::skip(TEST, format!("no SQE128+CQE32 ring: {e}"));
            return;
        }
    };
    // Admin commands go to the controller node (/dev/nvmeX for /dev/ngXnY): namespace nodes
    // accept only I/O commands (ENOTTY for admin ones).
    let ctrl_path = ng
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_prefix("ng"))
        .and_then(|n| n.split('n').next())
        .map(|x| std::path::PathBuf::from(format!("/dev/nvme{x}")));
    let mut id = Box::new([0u8; 4096]);
    let c = nvme_uring_cmd::identify(0, NVME_ID_CNS_CTRL, &mut id);
    match ctrl_path.as_ref().and_then(|p| OpenOptions::new().read(true).open(p).ok()) {
        Some(ctrl) => {
            let done = nvme_run(&mut ring, &NvmeCmd::admin(&ctrl, &c).build());
            if done.status == -libc::EACCES || done.status == -libc::EPERM {
                common::skip(TEST, format!("identify refused ({}): needs CAP_SYS_ADMIN", done.status));
                return;
            }
            assert!(done.is_ok(), "identify: {done:?}");
            let mut id2 = Box::new([0u8; 4096]);
            let mut c2 = nvme_uring_cmd::identify(0, NVME_ID_CNS_CTRL, &mut id2);
            ioctl(ctrl.as_raw_fd(), NVME_IOCTL_ADMIN_CMD, &mut c2 as *mut nvme_uring_cmd as libc::c_ulong).unwrap();
            assert_eq!(id[..], id2[..], "identify controller: io_uring and ioctl agree");
        }
        None => common::note(TEST, "no controller node next to the namespace: identify not compared"),
    }

    // Read LBA 0 and compare with the block device.
    let nsid = ioctl(dev.as_raw_fd(), NVME_IOCTL_ID, 0).unwrap() as u32;
    if let Ok(b) = File::open(&blk) {
        let mut lba: libc::c_int = 0;
        ioctl(b.as_raw_fd(), BLKSSZGET, &mut lba as *mut libc::c_int as libc::c_ulong).unwrap();
        let mut buf = pages(1, |_| 0);
        let n = (4096 / lba as u32).max(1);
        let bytes = &mut as_bytes_mut(&mut buf)[..(n * lba as u32) as usize];
        let Some(read) = nvme_uring_cmd::read(nsid, 0, n, bytes) else { panic!("read command") };
        let done = nvme_run(&mut ring, &NvmeCmd::io(&dev, &read).build());
        assert!(done.is_ok(), "read: {done:?}");
        let mut want = vec![0u8; (n * lba as u32) as usize];
        b.read_exact_at(&mut want, 0).unwrap();
        assert_eq!(&as_bytes(&buf)[..want.len()], &want[..]);
    }

    // Without CQE32 the driver refuses; a 64-byte ring is refused by the crate.
    let mut no32 = Ring::builder().sqe128().build(4).unwrap();
    let sqe = NvmeCmd::admin(&dev, &c).build();
    // SAFETY: `id` outlives the command, which is waited for.
    unsafe { no32.sq().push128_raw(&sqe) }.unwrap();
    no32.submit_and_wait(1).unwrap();
    assert_eq!(no32.wait_cqe().unwrap().result(), Err(Errno::OPNOTSUPP), "NVMe passthrough without CQE32");
    let mut small = Ring::new(4).unwrap();
    // SAFETY: refused before anything is written.
    let e = unsafe { small.sq().push128_raw(&sqe) }.map_err(uring::Error::from).unwrap_err();
    assert!(matches!(e, uring::Error::WrongRingKind { .. }));
    common::note(TEST, format!("{}: identify and read LBA 0 match ioctl/pread", ng.display()));
}
