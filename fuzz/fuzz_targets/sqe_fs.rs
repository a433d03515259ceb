//! The file encoders (`op::fs` and `op::rw`): an arbitrary operation with arbitrary arguments is
//! encoded, then a decoder that knows only the kernel ABI (field offsets and what each opcode's
//! kernel `prep` reads) reconstructs the operation from the raw 64 bytes. The reconstruction must
//! equal what was asked, every byte the operation does not use must be zero, and no input may
//! panic. Encoders that return `Result` are driven into both branches (kernel-managed groups,
//! wrong iovec counts, lengths past `u32::MAX` over a large untouched mapping).
#![no_main]

mod common;

use std::os::fd::BorrowedFd;

use arbitrary::Arbitrary;
use common::*;
use libfuzzer_sys::fuzz_target;
use rustix::fs::{AtFlags, FallocateFlags, Mode, OFlags, RenameFlags, ResolveFlags, StatxFlags, XattrFlags};
use uring::op::{self, RwFlags, SyncFileRangeFlags};
use uring::uapi::*;
use uring::Sqe;

const FADVICE: [(rustix::fs::Advice, i32); 6] = [
    (rustix::fs::Advice::Normal, libc::POSIX_FADV_NORMAL),
    (rustix::fs::Advice::Sequential, libc::POSIX_FADV_SEQUENTIAL),
    (rustix::fs::Advice::Random, libc::POSIX_FADV_RANDOM),
    (rustix::fs::Advice::NoReuse, libc::POSIX_FADV_NOREUSE),
    (rustix::fs::Advice::WillNeed, libc::POSIX_FADV_WILLNEED),
    (rustix::fs::Advice::DontNeed, libc::POSIX_FADV_DONTNEED),
];

const MADVICE: [(rustix::mm::Advice, i32); 8] = [
    (rustix::mm::Advice::Normal, libc::MADV_NORMAL),
    (rustix::mm::Advice::Sequential, libc::MADV_SEQUENTIAL),
    (rustix::mm::Advice::Random, libc::MADV_RANDOM),
    (rustix::mm::Advice::WillNeed, libc::MADV_WILLNEED),
    (rustix::mm::Advice::LinuxDontNeed, libc::MADV_DONTNEED),
    (rustix::mm::Advice::LinuxFree, libc::MADV_FREE),
    (rustix::mm::Advice::LinuxHugepage, libc::MADV_HUGEPAGE),
    (rustix::mm::Advice::LinuxCold, libc::MADV_COLD),
];

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Len {
    L32(u32),
    L64(u64),
}

/// Where a read or write happens.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Off {
    Default,
    At(u64),
    Current,
}

/// The options every read/write builder shares.
#[derive(Arbitrary, Debug, Clone, Copy)]
struct RwOpts {
    off: Off,
    rw_flags: Option<u32>,
    ioprio: Option<u16>,
    pi: bool,
}

impl RwOpts {
    fn off(&self) -> u64 {
        match self.off {
            Off::Default => 0,
            Off::At(o) => o,
            Off::Current => u64::MAX,
        }
    }
}

/// Applies `RwOpts` (and optionally a write stream) to any read/write builder.
macro_rules! rw_opts {
    ($b:expr, $o:expr, $pi:expr) => {{
        let o: RwOpts = $o;
        let mut b = $b;
        b = match o.off {
            Off::Default => b,
            Off::At(x) => b.offset(x),
            Off::Current => b.current_position(),
        };
        if let Some(f) = o.rw_flags {
            b = b.rw_flags(RwFlags::from_bits_retain(f));
        }
        if let Some(p) = o.ioprio {
            b = b.ioprio(p);
        }
        if o.pi {
            b = b.attr_pi($pi);
        }
        b
    }};
}

#[derive(Arbitrary, Debug)]
enum Input {
    Fsync { t: Tgt, datasync: bool, range: Option<(u64, u32)> },
    SyncFileRange { t: Tgt, off: u64, len: u32, flags: Option<u32> },
    Fallocate { t: Tgt, off: u64, len: u64, mode: Option<u32> },
    Fadvise { t: Tgt, off: u64, len: Len, advice: u8 },
    Madvise { addr: u64, len: Len, advice: u8 },
    OpenAt { path: u8, dir: Option<u16>, flags: Option<u32>, mode: Option<u32>, dest: Option<Dest> },
    OpenAt2 { path: u8, dir: Option<u16>, flags: u32, mode: u32, resolve: u64, dest: Option<Dest> },
    Close { t: Tgt },
    Statx { path: u8, dir: Option<u16>, flags: Option<u32>, mask: Option<u32> },
    RenameAt { old: u8, new: u8, old_dir: Option<u16>, new_dir: Option<u16>, flags: Option<u32> },
    UnlinkAt { path: u8, dir: Option<u16>, flags: Option<u32> },
    MkdirAt { path: u8, dir: Option<u16>, mode: u32 },
    SymlinkAt { target: u8, link: u8, dir: Option<u16> },
    LinkAt { old: u8, new: u8, old_dir: Option<u16>, new_dir: Option<u16>, flags: Option<u32> },
    FsetXattr { t: Tgt, name: u8, value: Span, flags: Option<u32> },
    SetXattr { path: u8, name: u8, value: Span, flags: Option<u32> },
    FgetXattr { t: Tgt, name: u8, value: Span },
    GetXattr { path: u8, name: u8, value: Span },
    Ftruncate { t: Tgt, len: u64 },
    Read { t: Tgt, buf: Span, o: RwOpts, group: Option<Group> },
    ReadSelected { t: Tgt, len: u32, o: RwOpts, group: Group },
    Write { t: Tgt, buf: Span, o: RwOpts, stream: Option<u8> },
    Readv { t: Tgt, iovs: Iovs, o: RwOpts, group: Option<Group> },
    Writev { t: Tgt, iovs: Iovs, o: RwOpts, stream: Option<u8> },
    ReadFixed { t: Tgt, buf: Span, index: u16, o: RwOpts },
    WriteFixed { t: Tgt, buf: Span, index: u16, o: RwOpts, stream: Option<u8> },
    ReadvFixed { t: Tgt, iovs: Iovs, index: u16, o: RwOpts },
    WritevFixed { t: Tgt, iovs: Iovs, index: u16, o: RwOpts, stream: Option<u8> },
    ReadMultishot { t: Tgt, group: Group, len: Option<u32>, o: RwOpts },
}

/// The operation as the kernel reads it back from the entry.
#[derive(Debug, PartialEq, Eq)]
enum Op {
    Fsync { t: Tgt, flags: u32, off: u64, len: u32 },
    SyncFileRange { t: Tgt, off: u64, len: u32, flags: u32 },
    Fallocate { t: Tgt, off: u64, len: u64, mode: u32 },
    Fadvise { t: Tgt, off: u64, len32: u32, len64: u64, advice: u32 },
    Madvise { addr: u64, len32: u32, len64: u64, advice: u32 },
    OpenAt { dfd: i32, path: u64, flags: u32, mode: u32, dest: Dest },
    OpenAt2 { dfd: i32, path: u64, how: u64, how_val: [u64; 3], dest: Dest },
    Close { t: Tgt },
    Statx { dfd: i32, path: u64, flags: u32, mask: u32, buf: u64 },
    RenameAt { old_dfd: i32, old: u64, new_dfd: i32, new: u64, flags: u32 },
    UnlinkAt { dfd: i32, path: u64, flags: u32 },
    MkdirAt { dfd: i32, path: u64, mode: u32 },
    SymlinkAt { target: u64, dfd: i32, link: u64 },
    LinkAt { old_dfd: i32, old: u64, new_dfd: i32, new: u64, flags: u32 },
    FsetXattr { t: Tgt, name: u64, value: u64, len: u32, flags: u32 },
    SetXattr { path: u64, name: u64, value: u64, len: u32, flags: u32 },
    FgetXattr { t: Tgt, name: u64, value: u64, len: u32 },
    GetXattr { path: u64, name: u64, value: u64, len: u32 },
    Ftruncate { t: Tgt, len: u64 },
    Rw(Rw),
}

#[derive(Debug, PartialEq, Eq, Default)]
struct Rw {
    code: u8,
    t: Option<Tgt>,
    addr: u64,
    len: u32,
    off: u64,
    rw_flags: u32,
    ioprio: u16,
    buf_index: u16,
    group: Option<u16>,
    pi: u64,
    stream: u8,
}

fn dfd(dir: Option<u16>) -> i32 {
    dir.map_or(libc::AT_FDCWD, i32::from)
}

fn borrowed(fd: u16) -> BorrowedFd<'static> {
    // SAFETY: only the number is used (the encoder stores it in `sqe.fd`); never -1.
    unsafe { BorrowedFd::borrow_raw(i32::from(fd)) }
}

/// What a length-checked constructor made of `n` bytes or elements: refused past `u32::MAX`
/// (`None`, after checking the error), accepted otherwise (the `op` module's length rule).
fn fits<T: core::fmt::Debug>(r: uring::Result<T>, n: usize) -> Option<T> {
    if n > u32::MAX as usize {
        assert_invalid(r);
        return None;
    }
    Some(r.expect("at most u32::MAX bytes or elements are accepted"))
}

/// Encodes `input`; returns the entry and the operation it must decode to, or `None` when the
/// encoder (correctly) refused the arguments.
fn encode(input: &Input, pool: &mut [u8], paths: &Paths) -> Option<(Sqe, Op)> {
    let pi_struct = io_uring_attr_pi::default();
    let pi = &pi_struct;
    let pi_addr = pi as *const io_uring_attr_pi as u64;
    let pi_of = |o: &RwOpts| if o.pi { pi_addr } else { 0 };
    Some(match *input {
        Input::Fsync { t, datasync, range } => {
            let mut b = op::Fsync::new(t.target());
            if datasync {
                b = b.datasync();
            }
            if let Some((off, len)) = range {
                b = b.range(off, len);
            }
            let (off, len) = range.unwrap_or((0, 0));
            let flags = if datasync { IORING_FSYNC_DATASYNC } else { 0 };
            (b.build().into_sqe(), Op::Fsync { t, flags, off, len })
        }
        Input::SyncFileRange { t, off, len, flags } => {
            let mut b = op::SyncFileRange::new(t.target(), off, len);
            if let Some(f) = flags {
                b = b.flags(SyncFileRangeFlags::from_bits_retain(f));
            }
            (b.build().into_sqe(), Op::SyncFileRange { t, off, len, flags: flags.unwrap_or(0) })
        }
        Input::Fallocate { t, off, len, mode } => {
            let mut b = op::Fallocate::new(t.target(), off, len);
            if let Some(m) = mode {
                b = b.mode(FallocateFlags::from_bits_retain(m));
            }
            (b.build().into_sqe(), Op::Fallocate { t, off, len, mode: mode.unwrap_or(0) })
        }
        Input::Fadvise { t, off, len, advice } => {
            let (a, raw) = FADVICE[advice as usize % FADVICE.len()];
            let (b, len32, len64) = match len {
                Len::L32(l) => (op::Fadvise::new(t.target(), off, l, a), l, 0),
                Len::L64(l) => (op::Fadvise::new64(t.target(), off, l, a), 0, l),
            };
            (b.build().into_sqe(), Op::Fadvise { t, off, len32, len64, advice: raw as u32 })
        }
        Input::Madvise { addr, len, advice } => {
            let (a, raw) = MADVICE[advice as usize % MADVICE.len()];
            let p = addr as usize as *mut core::ffi::c_void;
            let (b, len32, len64) = match len {
                Len::L32(l) => (op::Madvise::new(p, l, a), l, 0),
                Len::L64(l) => (op::Madvise::new64(p, l, a), 0, l),
            };
            (b.build(), Op::Madvise { addr, len32, len64, advice: raw as u32 })
        }
        Input::OpenAt { path, dir, flags, mode, dest } => {
            let mut b = op::OpenAt::new(paths.get(path));
            if let Some(d) = dir {
                b = b.dir(borrowed(d));
            }
            if let Some(f) = flags {
                b = b.flags(OFlags::from_bits_retain(f));
            }
            if let Some(m) = mode {
                b = b.mode(Mode::from_bits_retain(m));
            }
            if let Some(d) = dest {
                b = b.dest(d.slot());
            }
            let want = Op::OpenAt {
                dfd: dfd(dir),
                path: paths.addr(path),
                flags: flags.unwrap_or(0),
                mode: mode.unwrap_or(0),
                dest: dest.unwrap_or(Dest::Fd).canon(),
            };
            (b.build(), want)
        }
        Input::OpenAt2 { path, dir, flags, mode, resolve, dest } => {
            // `how` must outlive the decoder, which reads the struct back through the entry's
            // pointer: keep it in a thread-local slot.
            let how = HOW.with(|h| {
                let v = op::OpenHow::new()
                    .flags(OFlags::from_bits_retain(flags))
                    .mode(Mode::from_bits_retain(mode))
                    .resolve(ResolveFlags::from_bits_retain(resolve));
                h.set(v);
                h.as_ptr() as *const op::OpenHow
            });
            // SAFETY: the thread-local lives as long as the thread, and nothing else writes it
            // while this entry is checked.
            let how_ref: &op::OpenHow = unsafe { &*how };
            let mut b = op::OpenAt2::new(paths.get(path), how_ref);
            if let Some(d) = dir {
                b = b.dir(borrowed(d));
            }
            if let Some(d) = dest {
                b = b.dest(d.slot());
            }
            let want = Op::OpenAt2 {
                dfd: dfd(dir),
                path: paths.addr(path),
                how: how as u64,
                how_val: [u64::from(flags), u64::from(mode), resolve],
                dest: dest.unwrap_or(Dest::Fd).canon(),
            };
            (b.build(), want)
        }
        Input::Close { t } => {
            // A slot is written as `DestSlot::Fixed(slot)` is (see `Dest::canon`).
            let want = match t {
                Tgt::Fixed(s) if s >= u32::MAX - 1 => Tgt::Fixed(u32::MAX - 2),
                t => t,
            };
            (op::Close::new(t.target()).build().into_sqe(), Op::Close { t: want })
        }
        Input::Statx { path, dir, flags, mask } => {
            let stx = STATX.with(|s| s.get());
            // SAFETY: a thread-local `statx`, used by nothing else meanwhile.
            let stx_ref: &mut libc::statx = unsafe { &mut *stx };
            let mut b = op::Statx::new(paths.get(path), stx_ref);
            if let Some(d) = dir {
                b = b.dir(borrowed(d));
            }
            if let Some(f) = flags {
                b = b.flags(AtFlags::from_bits_retain(f));
            }
            if let Some(m) = mask {
                b = b.mask(StatxFlags::from_bits_retain(m));
            }
            let want = Op::Statx {
                dfd: dfd(dir),
                path: paths.addr(path),
                flags: flags.unwrap_or(0),
                mask: mask.unwrap_or(libc::STATX_BASIC_STATS),
                buf: stx as u64,
            };
            (b.build(), want)
        }
        Input::RenameAt { old, new, old_dir, new_dir, flags } => {
            let mut b = op::RenameAt::new(paths.get(old), paths.get(new));
            if let Some(d) = old_dir {
                b = b.old_dir(borrowed(d));
            }
            if let Some(d) = new_dir {
                b = b.new_dir(borrowed(d));
            }
            if let Some(f) = flags {
                b = b.flags(RenameFlags::from_bits_retain(f));
            }
            let want = Op::RenameAt {
                old_dfd: dfd(old_dir),
                old: paths.addr(old),
                new_dfd: dfd(new_dir),
                new: paths.addr(new),
                flags: flags.unwrap_or(0),
            };
            (b.build(), want)
        }
        Input::UnlinkAt { path, dir, flags } => {
            let mut b = op::UnlinkAt::new(paths.get(path));
            if let Some(d) = dir {
                b = b.dir(borrowed(d));
            }
            if let Some(f) = flags {
                b = b.flags(AtFlags::from_bits_retain(f));
            }
            (b.build(), Op::UnlinkAt { dfd: dfd(dir), path: paths.addr(path), flags: flags.unwrap_or(0) })
        }
        Input::MkdirAt { path, dir, mode } => {
            let mut b = op::MkdirAt::new(paths.get(path), Mode::from_bits_retain(mode));
            if let Some(d) = dir {
                b = b.dir(borrowed(d));
            }
            (b.build(), Op::MkdirAt { dfd: dfd(dir), path: paths.addr(path), mode })
        }
        Input::SymlinkAt { target, link, dir } => {
            let mut b = op::SymlinkAt::new(paths.get(target), paths.get(link));
            if let Some(d) = dir {
                b = b.dir(borrowed(d));
            }
            (b.build(), Op::SymlinkAt { target: paths.addr(target), dfd: dfd(dir), link: paths.addr(link) })
        }
        Input::LinkAt { old, new, old_dir, new_dir, flags } => {
            let mut b = op::LinkAt::new(paths.get(old), paths.get(new));
            if let Some(d) = old_dir {
                b = b.old_dir(borrowed(d));
            }
            if let Some(d) = new_dir {
                b = b.new_dir(borrowed(d));
            }
            if let Some(f) = flags {
                b = b.flags(AtFlags::from_bits_retain(f));
            }
            let want = Op::LinkAt {
                old_dfd: dfd(old_dir),
                old: paths.addr(old),
                new_dfd: dfd(new_dir),
                new: paths.addr(new),
                flags: flags.unwrap_or(0),
            };
            (b.build(), want)
        }
        Input::FsetXattr { t, name, value, flags } => {
            let v = span_mut(pool, value);
            let (addr, n) = (v.as_ptr() as u64, v.len());
            let r = op::FsetXattr::new(t.target(), paths.get(name), v);
            if n > u32::MAX as usize {
                assert_invalid(r);
                return None;
            }
            let mut b = r.expect("a value of at most u32::MAX bytes is accepted");
            if let Some(f) = flags {
                b = b.flags(XattrFlags::from_bits_retain(f));
            }
            let want =
                Op::FsetXattr { t, name: paths.addr(name), value: addr, len: n as u32, flags: flags.unwrap_or(0) };
            (b.build(), want)
        }
        Input::SetXattr { path, name, value, flags } => {
            let v = span_mut(pool, value);
            let (addr, n) = (v.as_ptr() as u64, v.len());
            let r = op::SetXattr::new(paths.get(path), paths.get(name), v);
            if n > u32::MAX as usize {
                assert_invalid(r);
                return None;
            }
            let mut b = r.expect("a value of at most u32::MAX bytes is accepted");
            if let Some(f) = flags {
                b = b.flags(XattrFlags::from_bits_retain(f));
            }
            let want = Op::SetXattr {
                path: paths.addr(path),
                name: paths.addr(name),
                value: addr,
                len: n as u32,
                flags: flags.unwrap_or(0),
            };
            (b.build(), want)
        }
        Input::FgetXattr { t, name, value } => {
            let v = span_mut(pool, value);
            let (addr, n) = (v.as_ptr() as u64, v.len());
            let b = fits(op::FgetXattr::new(t.target(), paths.get(name), v), n)?;
            (b.build(), Op::FgetXattr { t, name: paths.addr(name), value: addr, len: n as u32 })
        }
        Input::GetXattr { path, name, value } => {
            let v = span_mut(pool, value);
            let (addr, n) = (v.as_ptr() as u64, v.len());
            let b = fits(op::GetXattr::new(paths.get(path), paths.get(name), v), n)?;
            (b.build(), Op::GetXattr { path: paths.addr(path), name: paths.addr(name), value: addr, len: n as u32 })
        }
        Input::Ftruncate { t, len } => {
            (op::Ftruncate::new(t.target(), len).build().into_sqe(), Op::Ftruncate { t, len })
        }

        Input::Read { t, buf, o, group } => {
            let v = span_mut(pool, buf);
            let (addr, n) = (v.as_mut_ptr() as u64, v.len());
            let mut b = rw_opts!(fits(op::Read::new(t.target(), v), n)?, o, pi);
            let mut want = rw(IORING_OP_READ, t, addr, n as u32, &o, pi_of(&o));
            if let Some(g) = group {
                let r = b.buf_group(&g);
                if g.kernel_managed {
                    assert_invalid(r);
                    return None;
                }
                b = r.expect("a user group is accepted");
                want.addr = 0;
                want.group = Some(g.bgid);
            }
            (b.build(), Op::Rw(want))
        }
        Input::ReadSelected { t, len, o, group } => {
            let r = op::Read::selected(t.target(), len, &group);
            if group.kernel_managed {
                assert_invalid(r);
                return None;
            }
            let b = rw_opts!(r.expect("a user group is accepted"), o, pi);
            let mut want = rw(IORING_OP_READ, t, 0, len, &o, pi_of(&o));
            want.group = Some(group.bgid);
            (b.build(), Op::Rw(want))
        }
        Input::Write { t, buf, o, stream } => {
            let v = span_mut(pool, buf);
            let (addr, n) = (v.as_ptr() as u64, v.len());
            let mut b = rw_opts!(fits(op::Write::new(t.target(), v), n)?, o, pi);
            let mut want = rw(IORING_OP_WRITE, t, addr, n as u32, &o, pi_of(&o));
            if let Some(s) = stream {
                b = b.write_stream(s);
                want.stream = s;
            }
            (b.build(), Op::Rw(want))
        }
        Input::Readv { t, iovs, o, group } => {
            let mut store = Vec::new();
            let list = iovecs_mut(pool, iovs, &mut store);
            let (addr, n) = (list.as_mut_ptr() as u64, list.len());
            let mut b = rw_opts!(fits(op::Readv::new(t.target(), list), n)?, o, pi);
            let mut want = rw(IORING_OP_READV, t, addr, n as u32, &o, pi_of(&o));
            if let Some(g) = group {
                let r = b.buf_group(&g);
                if g.kernel_managed || n != 1 {
                    assert_invalid(r);
                    return None;
                }
                b = r.expect("one iovec and a user group are accepted");
                want.group = Some(g.bgid);
            }
            (b.build(), Op::Rw(want))
        }
        Input::Writev { t, iovs, o, stream } => {
            let mut store = Vec::new();
            let list = iovecs(pool, iovs, &mut store);
            let (addr, n) = (list.as_ptr() as u64, list.len());
            let mut b = rw_opts!(fits(op::Writev::new(t.target(), list), n)?, o, pi);
            let mut want = rw(IORING_OP_WRITEV, t, addr, n as u32, &o, pi_of(&o));
            if let Some(s) = stream {
                b = b.write_stream(s);
                want.stream = s;
            }
            (b.build(), Op::Rw(want))
        }
        Input::ReadFixed { t, buf, index, o } => {
            let v = span_mut(pool, buf);
            let (addr, n) = (v.as_mut_ptr() as u64, v.len());
            let b = rw_opts!(fits(op::ReadFixed::new(t.target(), v, index), n)?, o, pi);
            let mut want = rw(IORING_OP_READ_FIXED, t, addr, n as u32, &o, pi_of(&o));
            want.buf_index = index;
            (b.build(), Op::Rw(want))
        }
        Input::WriteFixed { t, buf, index, o, stream } => {
            let v = span_mut(pool, buf);
            let (addr, n) = (v.as_ptr() as u64, v.len());
            let mut b = rw_opts!(fits(op::WriteFixed::new(t.target(), v, index), n)?, o, pi);
            let mut want = rw(IORING_OP_WRITE_FIXED, t, addr, n as u32, &o, pi_of(&o));
            want.buf_index = index;
            if let Some(s) = stream {
                b = b.write_stream(s);
                want.stream = s;
            }
            (b.build(), Op::Rw(want))
        }
        Input::ReadvFixed { t, iovs, index, o } => {
            let mut store = Vec::new();
            let list = iovecs_mut(pool, iovs, &mut store);
            let (addr, n) = (list.as_mut_ptr() as u64, list.len());
            let b = rw_opts!(fits(op::ReadvFixed::new(t.target(), list, index), n)?, o, pi);
            let mut want = rw(IORING_OP_READV_FIXED, t, addr, n as u32, &o, pi_of(&o));
            want.buf_index = index;
            (b.build(), Op::Rw(want))
        }
        Input::WritevFixed { t, iovs, index, o, stream } => {
            let mut store = Vec::new();
            let list = iovecs(pool, iovs, &mut store);
            let (addr, n) = (list.as_ptr() as u64, list.len());
            let mut b = rw_opts!(fits(op::WritevFixed::new(t.target(), list, index), n)?, o, pi);
            let mut want = rw(IORING_OP_WRITEV_FIXED, t, addr, n as u32, &o, pi_of(&o));
            want.buf_index = index;
            if let Some(s) = stream {
                b = b.write_stream(s);
                want.stream = s;
            }
            (b.build(), Op::Rw(want))
        }
        Input::ReadMultishot { t, group, len, o } => {
            let r = op::ReadMultishot::new(t.target(), &group);
            if group.kernel_managed {
                assert_invalid(r);
                return None;
            }
            let mut b = r.expect("a user group is accepted");
            b = match o.off {
                Off::Default => b,
                Off::At(x) => b.offset(x),
                Off::Current => b.current_position(),
            };
            if let Some(f) = o.rw_flags {
                b = b.rw_flags(RwFlags::from_bits_retain(f));
            }
            if let Some(p) = o.ioprio {
                b = b.ioprio(p);
            }
            if let Some(l) = len {
                b = b.len(l);
            }
            let mut want = rw(IORING_OP_READ_MULTISHOT, t, 0, len.unwrap_or(0), &o, 0);
            want.group = Some(group.bgid);
            (b.build().into_sqe(), Op::Rw(want))
        }
    })
}

thread_local! {
    static HOW: core::cell::Cell<op::OpenHow> = const { core::cell::Cell::new(op::OpenHow::new()) };
    // SAFETY (of the zeroed value): `statx` is plain integers.
    static STATX: core::cell::UnsafeCell<libc::statx> =
        const { core::cell::UnsafeCell::new(unsafe { core::mem::zeroed() }) };
}

fn rw(code: u8, t: Tgt, addr: u64, len: u32, o: &RwOpts, pi: u64) -> Rw {
    Rw {
        code,
        t: Some(t),
        addr,
        len,
        off: o.off(),
        rw_flags: o.rw_flags.unwrap_or(0),
        ioprio: o.ioprio.unwrap_or(0),
        pi,
        ..Rw::default()
    }
}

/// Reconstructs the operation from the raw entry, reading only what the kernel reads for its
/// opcode.
fn decode(r: &mut RawSqe) -> Op {
    let code = r.opcode();
    match code {
        IORING_OP_FSYNC => Op::Fsync { t: Tgt::decode(r), flags: r.op_flags(), off: r.off(), len: r.len() },
        IORING_OP_SYNC_FILE_RANGE => {
            Op::SyncFileRange { t: Tgt::decode(r), off: r.off(), len: r.len(), flags: r.op_flags() }
        }
        IORING_OP_FALLOCATE => Op::Fallocate { t: Tgt::decode(r), off: r.off(), len: r.addr(), mode: r.len() },
        IORING_OP_FADVISE => {
            Op::Fadvise { t: Tgt::decode(r), off: r.off(), len32: r.len(), len64: r.addr(), advice: r.op_flags() }
        }
        IORING_OP_MADVISE => {
            assert_eq!(r.fd(), -1, "madvise takes no file");
            Op::Madvise { addr: r.addr(), len32: r.len(), len64: r.off(), advice: r.op_flags() }
        }
        IORING_OP_OPENAT => Op::OpenAt {
            dfd: r.fd(),
            path: r.addr(),
            flags: r.op_flags(),
            mode: r.len(),
            dest: Dest::from_file_index(r.file()),
        },
        IORING_OP_OPENAT2 => {
            let (dfd, path, how) = (r.fd(), r.addr(), r.off());
            assert_eq!(r.len() as usize, core::mem::size_of::<op::OpenHow>(), "open_how size");
            assert_eq!(core::mem::size_of::<op::OpenHow>(), 24);
            // SAFETY: the decoder is given entries whose `how` is the thread-local it points at.
            let how_val = unsafe { core::ptr::read(how as usize as *const [u64; 3]) };
            Op::OpenAt2 { dfd, path, how, how_val, dest: Dest::from_file_index(r.file()) }
        }
        IORING_OP_CLOSE => {
            let slot = r.file();
            let fd = r.fd();
            if slot != 0 {
                assert_eq!(fd, 0, "closing a slot takes fd 0");
                Op::Close { t: Tgt::Fixed(slot - 1) }
            } else {
                assert!(!r.flag(IOSQE_FIXED_FILE), "close never takes IOSQE_FIXED_FILE");
                Op::Close { t: Tgt::Fd(fd) }
            }
        }
        IORING_OP_STATX => Op::Statx { dfd: r.fd(), path: r.addr(), flags: r.op_flags(), mask: r.len(), buf: r.off() },
        IORING_OP_RENAMEAT => {
            Op::RenameAt { old_dfd: r.fd(), old: r.addr(), new_dfd: r.len() as i32, new: r.off(), flags: r.op_flags() }
        }
        IORING_OP_UNLINKAT => Op::UnlinkAt { dfd: r.fd(), path: r.addr(), flags: r.op_flags() },
        IORING_OP_MKDIRAT => Op::MkdirAt { dfd: r.fd(), path: r.addr(), mode: r.len() },
        IORING_OP_SYMLINKAT => Op::SymlinkAt { target: r.addr(), dfd: r.fd(), link: r.off() },
        IORING_OP_LINKAT => {
            Op::LinkAt { old_dfd: r.fd(), old: r.addr(), new_dfd: r.len() as i32, new: r.off(), flags: r.op_flags() }
        }
        IORING_OP_FSETXATTR => {
            Op::FsetXattr { t: Tgt::decode(r), name: r.addr(), value: r.off(), len: r.len(), flags: r.op_flags() }
        }
        IORING_OP_SETXATTR => {
            Op::SetXattr { path: r.addr3(), name: r.addr(), value: r.off(), len: r.len(), flags: r.op_flags() }
        }
        IORING_OP_FGETXATTR => Op::FgetXattr { t: Tgt::decode(r), name: r.addr(), value: r.off(), len: r.len() },
        IORING_OP_GETXATTR => Op::GetXattr { path: r.addr3(), name: r.addr(), value: r.off(), len: r.len() },
        IORING_OP_FTRUNCATE => Op::Ftruncate { t: Tgt::decode(r), len: r.off() },
        IORING_OP_READ
        | IORING_OP_WRITE
        | IORING_OP_READV
        | IORING_OP_WRITEV
        | IORING_OP_READ_FIXED
        | IORING_OP_WRITE_FIXED
        | IORING_OP_READV_FIXED
        | IORING_OP_WRITEV_FIXED
        | IORING_OP_READ_MULTISHOT => {
            let fixed_buf = matches!(
                code,
                IORING_OP_READ_FIXED | IORING_OP_WRITE_FIXED | IORING_OP_READV_FIXED | IORING_OP_WRITEV_FIXED
            );
            let selects = matches!(code, IORING_OP_READ | IORING_OP_READV | IORING_OP_READ_MULTISHOT);
            let writes =
                matches!(code, IORING_OP_WRITE | IORING_OP_WRITEV | IORING_OP_WRITE_FIXED | IORING_OP_WRITEV_FIXED);
            let mut w = Rw {
                code,
                t: Some(Tgt::decode(r)),
                addr: r.addr(),
                len: r.len(),
                off: r.off(),
                rw_flags: r.op_flags(),
                ioprio: r.ioprio(),
                ..Rw::default()
            };
            if fixed_buf {
                w.buf_index = r.buf();
            }
            if selects && r.flag(IOSQE_BUFFER_SELECT) {
                w.group = Some(r.buf());
            }
            if code != IORING_OP_READ_MULTISHOT {
                w.pi = r.addr3();
                if w.pi != 0 {
                    assert_eq!(r.pad2(), IORING_RW_ATTR_FLAG_PI, "attr_type_mask");
                }
            }
            if writes {
                w.stream = r.write_stream();
            }
            Op::Rw(w)
        }
        other => panic!("unexpected opcode {other}"),
    }
}

fuzz_target!(|input: (Input, Common)| {
    let (input, common) = input;
    let paths = Paths::new();
    let mut pool = vec![0u8; POOL];
    let Some((sqe, want)) = encode(&input, &mut pool, &paths) else { return };
    let sqe = common.apply(sqe);
    let mut r = RawSqe::new(sqe.as_raw());
    let got = decode(&mut r);
    assert_eq!(got, want, "decoded operation differs from the one encoded ({input:?})");
    assert_eq!(Common::decode(&mut r), common.canon(), "common options");
    r.finish();
});
