//! Kernel-managed buffer rings: on the real kernel where it has kmbuf (and a check that it says
//! `Unsupported` where it does not), and against the model of the kernel side everywhere.
#![cfg(feature = "kmbuf")]

mod common;

use std::os::fd::AsRawFd;

use uring::buf::kmbuf::model::{KmbufModel, ModelBackend};
use uring::buf::kmbuf::{kmbuf_registration, CmdBufTracker, ContiguousRing, KmBufRing};
use uring::buf::Selection;
use uring::uapi::kmbuf::IOU_PBUF_RING_KERNEL_MANAGED;
use uring::uapi::*;
use uring::{op, Error, Ring};

const PAGE: u32 = 4096;

fn model() -> ModelBackend {
    ModelBackend::new(KmbufModel::new())
}

fn errno(r: std::io::Result<()>) -> i32 {
    r.unwrap_err().raw_os_error().unwrap()
}

#[test]
fn real_kernel_kmbuf() {
    let ring = Ring::new(4).unwrap();
    if KmBufRing::is_supported(&ring).unwrap() {
        let mut km = KmBufRing::register(&ring, 1, 4, 2 * PAGE).unwrap();
        assert_eq!(km.region().len(), 4 * 2 * PAGE as usize);
        assert_eq!(km.status().unwrap(), 0);
        // SAFETY: no command that selects from group 1 is ever submitted on `ring`, so no
        // kernel consumer reads or writes its buffers; each slice is dropped at once.
        unsafe {
            km.buffer_mut(3).unwrap().fill(0x5A);
            assert!(km.buffer(3).unwrap().iter().all(|&b| b == 0x5A));
            assert!(km.buffer(4).is_none());
        }
        km.close().map_err(|(_, e)| e).unwrap();
        common::note("real_kernel_kmbuf", "ran against a kernel with kmbuf");
    } else {
        match KmBufRing::register(&ring, 1, 4, 2 * PAGE) {
            Err(Error::Unsupported { .. }) => {}
            other => panic!("expected Unsupported, got {other:?}"),
        }
        common::skip(
            "real_kernel_kmbuf (kernel part)",
            "this kernel has no kmbuf (IOU_PBUF_RING_KERNEL_MANAGED answers EINVAL); checked that the crate reports Unsupported, model tests cover the rest",
        );
    }
}

#[test]
fn client_side_validation() {
    let m = model();
    for (bgid, entries, size, what) in [
        (0u16, 0u32, PAGE, "zero entries"),
        (0, 3, PAGE, "not a power of two"),
        (0, 65536, PAGE, "too many entries"),
        (0, 4, 0, "zero size"),
        (0, 4, 100, "size not a page multiple"),
        (2048, 4, PAGE, "bgid not mappable"),
    ] {
        let r = KmBufRing::register_with(m.clone(), bgid, entries, size);
        assert!(
            matches!(
                r,
                Err(Error::ZeroEntries
                    | Error::NotPowerOfTwo { .. }
                    | Error::TooManyEntries { .. }
                    | Error::InvalidArgument { .. })
            ),
            "{what}: {r:?}"
        );
    }
    assert!(!m.0.borrow().is_registered(0), "nothing reached the kernel side");
}

#[test]
fn model_registration_errnos_in_kernel_order() {
    let mut k = KmbufModel::new();
    let good = kmbuf_registration(1, 4, PAGE);
    assert_eq!(errno(k.register(None, 1)), libc::EINVAL, "null argument");
    assert_eq!(errno(k.register(Some(&good), 2)), libc::EINVAL, "nr_args != 1");
    let mut r = good;
    r.resv[2] = 1;
    assert_eq!(errno(k.register(Some(&r), 1)), libc::EINVAL, "reserved bytes");
    let mut r = good;
    r.min_left = 1;
    assert_eq!(errno(k.register(Some(&r), 1)), libc::EINVAL, "min_left on kmbuf");
    let mut r = good;
    r.flags |= 0x80;
    assert_eq!(errno(k.register(Some(&r), 1)), libc::EINVAL, "unknown flag");
    for entries in [0, 3, 65536] {
        let r = kmbuf_registration(1, entries, PAGE);
        assert_eq!(errno(k.register(Some(&r), 1)), libc::EINVAL, "entries {entries}");
    }
    let mut r = good;
    r.flags = IOU_PBUF_RING_KERNEL_MANAGED;
    assert_eq!(errno(k.register(Some(&r), 1)), libc::EINVAL, "KERNEL_MANAGED without MMAP");
    let mut r = good;
    r.flags |= IOU_PBUF_RING_INC;
    assert_eq!(errno(k.register(Some(&r), 1)), libc::EINVAL, "KERNEL_MANAGED with INC");
    for size in [0, 1000] {
        let r = kmbuf_registration(1, 4, size);
        assert_eq!(errno(k.register(Some(&r), 1)), libc::EINVAL, "buf_size {size}");
    }
    // Group in use: a kmbuf ring, or a legacy group holding buffers; an empty legacy group is
    // replaced.
    k.register(Some(&good), 1).unwrap();
    assert_eq!(errno(k.register(Some(&good), 1)), libc::EEXIST);
    k.provide_buffers(7, 2).unwrap();
    assert_eq!(errno(k.register(Some(&kmbuf_registration(7, 4, PAGE)), 1)), libc::EEXIST);
    assert_eq!(k.remove_buffers(7, 2).unwrap(), 2);
    k.register(Some(&kmbuf_registration(7, 4, PAGE)), 1).unwrap();
    // PROVIDE_BUFFERS on a ring group fails.
    assert_eq!(k.provide_buffers(7, 1).unwrap_err().raw_os_error(), Some(libc::EINVAL));
    // Page-count overflow.
    let r = kmbuf_registration(9, 32768, 1 << 30);
    assert_eq!(errno(k.register(Some(&r), 1)), libc::EINVAL, "page count overflows u32");
    // Memlock.
    let mut k = KmbufModel::new();
    k.memlock_limit = Some(8 * PAGE as u64);
    k.register(Some(&kmbuf_registration(1, 4, PAGE)), 1).unwrap();
    assert_eq!(errno(k.register(Some(&kmbuf_registration(2, 8, PAGE)), 1)), libc::ENOMEM);
    assert_eq!(k.memlock_used(), 4 * PAGE as u64);
    k.unregister(1, 0).unwrap();
    assert_eq!(k.memlock_used(), 0, "charge released on unregister");
    // A kernel without kmbuf rejects the flag as unknown; the crate calls that Unsupported.
    let mut old = KmbufModel::new();
    old.supports_kmbuf = false;
    assert_eq!(errno(old.register(Some(&good), 1)), libc::EINVAL);
    let r = KmBufRing::register_with(ModelBackend::new(old), 1, 4, PAGE);
    assert!(matches!(r, Err(Error::Unsupported { .. })));
}

#[test]
fn model_region_layout_selection_and_status() {
    let m = model();
    let mut km = KmBufRing::register_with(m.clone(), 3, 4, 2 * PAGE).unwrap();
    let size = 2 * PAGE as usize;
    assert_eq!(km.region().len(), 4 * size);
    // The region starts zeroed; buffer bid sits at bid * buf_size.
    // Every `buffer`/`buffer_mut` call of this test is sound for one reason: the backend is
    // the model, which never reads or writes a buffer, and the test never dereferences the
    // pointers the model hands out; each slice is dropped before the next call.
    // SAFETY: as just said.
    assert!(unsafe { km.buffer(0) }.unwrap().iter().all(|&b| b == 0));
    for bid in 0..4u16 {
        // SAFETY: as above.
        unsafe { km.buffer_mut(bid) }.unwrap().fill(bid as u8 + 1);
    }
    // SAFETY: as above.
    assert!(unsafe { km.buffer(4).is_none() && km.buffer_mut(4).is_none() }, "bounds-checked");
    let base = km.region().as_ptr() as usize;
    // The kernel consumer selects in ring order with auto-commit; the same bytes are visible.
    for want in 0..4u16 {
        let (bid, p, len) = m.0.borrow_mut().select(3).unwrap();
        assert_eq!(bid, want);
        assert_eq!(p.as_ptr() as usize, base + bid as usize * size);
        assert_eq!(len as usize, size, "whole buffer committed");
        // SAFETY: as above.
        assert_eq!(unsafe { km.buffer(bid) }.unwrap()[0], bid as u8 + 1);
    }
    assert_eq!(m.0.borrow_mut().select(3).unwrap_err().raw_os_error(), Some(libc::ENOBUFS));
    assert_eq!(km.status().unwrap(), 4);
    m.0.borrow_mut().recycle(3, 2).unwrap();
    assert_eq!(m.0.borrow_mut().select(3).unwrap().0, 2);
    assert_eq!(km.status().unwrap(), 5);
    drop(km);
    assert!(!m.0.borrow().is_registered(3), "drop unregisters");
    // Re-registered groups start zeroed at head 0.
    let mut km = KmBufRing::register_with(m.clone(), 3, 4, 2 * PAGE).unwrap();
    // SAFETY: as above.
    assert!(unsafe { km.buffer(1) }.unwrap().iter().all(|&b| b == 0));
    assert_eq!(km.status().unwrap(), 0);
}

#[test]
fn model_map_failure_unregisters() {
    let m = model();
    m.0.borrow_mut().fail_next_map = Some(libc::ENOMEM);
    let r = KmBufRing::register_with(m.clone(), 5, 4, PAGE);
    assert!(r.unwrap_err().is_errno(libc::ENOMEM));
    assert!(!m.0.borrow().is_registered(5), "unregistered after the mmap failed");
    // mmap errors themselves
    let mut k = m.0.borrow_mut();
    k.register(Some(&kmbuf_registration(5, 4, PAGE)), 1).unwrap();
    assert_eq!(k.map(5, 4 * PAGE as usize - 1).unwrap_err().raw_os_error(), Some(libc::EFAULT), "short map");
    assert_eq!(k.map(6, 4 * PAGE as usize).unwrap_err().raw_os_error(), Some(libc::EINVAL), "unknown bgid");
    k.register(Some(&kmbuf_registration(3000, 4, PAGE)), 1).unwrap();
    assert_eq!(k.map(3000, 4 * PAGE as usize).unwrap_err().raw_os_error(), Some(libc::EINVAL), "bgid >= 2048");
    k.unregister(5, 0).unwrap();
    assert_eq!(k.map(5, 4 * PAGE as usize).unwrap_err().raw_os_error(), Some(libc::EINVAL), "after unregister");
}

#[test]
fn model_close_reports_ebusy() {
    let m = model();
    let km = KmBufRing::register_with(m.clone(), 8, 2, PAGE).unwrap();
    m.0.borrow_mut().set_pinned(8, true).unwrap();
    let (km, e) = km.close().unwrap_err();
    assert!(e.is_errno(libc::EBUSY));
    assert!(m.0.borrow().is_registered(8));
    m.0.borrow_mut().set_pinned(8, false).unwrap();
    km.close().map_err(|(_, e)| e).unwrap();
    assert!(!m.0.borrow().is_registered(8));
    // unregister details
    let mut k = m.0.borrow_mut();
    assert_eq!(k.unregister(8, 0).unwrap_err().raw_os_error(), Some(libc::ENOENT));
    k.provide_buffers(9, 1).unwrap();
    assert_eq!(k.unregister(9, 0).unwrap_err().raw_os_error(), Some(libc::EINVAL), "legacy group");
    k.register(Some(&kmbuf_registration(10, 2, PAGE)), 1).unwrap();
    assert_eq!(k.unregister(10, 1).unwrap_err().raw_os_error(), Some(libc::EINVAL), "flags must be 0");
}

#[test]
fn model_user_select_burns_a_slot_and_commands_report_bids() {
    let m = model();
    let km = KmBufRing::register_with(m.clone(), 4, 4, PAGE).unwrap();
    // An ordinary read on a kmbuf group: EFAULT, yet it names a buffer, which is gone.
    let cqe = m.0.borrow_mut().user_select(4, 77);
    assert_eq!(cqe.result(), Err(uring::Errno::FAULT));
    assert_eq!(cqe.buffer_id(), Some(0));
    assert_eq!(m.0.borrow().available(4), Some(3));
    // The crate refuses to encode such a read in the first place.
    let r = op::Read::new(&std::io::stdin(), &mut []).buf_group(&km);
    assert!(matches!(r, Err(Error::InvalidArgument { what: "buffer group", .. })));
    // uring_cmd completions: asynchronous ones name the held buffer, synchronous ones do not;
    // the tracker remembers the last bid per command.
    let mut t = CmdBufTracker::with_capacity(4);
    let k = m.0.borrow();
    assert_eq!(t.observe(&k.cmd_complete(1, 0, Some(2), true)), Some(2));
    assert_eq!(t.observe(&k.cmd_complete(1, 0, Some(2), false)), Some(2), "reported once, remembered");
    assert_eq!(t.observe(&k.cmd_complete(2, 0, None, false)), None);
    assert_eq!(t.forget(1), Some(2));
}

/// The fallback with the kmbuf read API on any kernel: bid i at i * buf_size of one region.
#[test]
fn contiguous_ring_fallback() {
    let mut ring = Ring::new(4).unwrap();
    let cr = ContiguousRing::register(&mut ring, 12, 4, 512).unwrap();
    let (base, len) = cr.region();
    assert_eq!(len, 4 * 512);
    let zero = std::fs::File::open("/dev/urandom").unwrap();
    let mut sqe = op::prep_rw(IORING_OP_READ, zero.as_raw_fd(), 0, 0, 0);
    sqe.as_raw_mut().flags |= IOSQE_BUFFER_SELECT;
    sqe.as_raw_mut().buf.buf_group = 12;
    // SAFETY: points at no caller memory (the buffer comes from the group).
    unsafe { ring.sq().push_raw(&sqe) }.unwrap();
    let cqe = ring.wait_cqe().unwrap();
    assert_eq!(cqe.result(), Ok(512));
    let bid = cqe.buffer_id().unwrap();
    // SAFETY: the kernel posted this completion into the CQ for a request selecting from this
    // buffer ring; it is selected once.
    let sel = unsafe { cr.ring().select(&cqe) }.unwrap();
    let Selection::Buffer(b) = &sel else { panic!() };
    // SAFETY: `cqe` is the kernel's completion of the only request ever submitted on `ring`,
    // which selected `bid` from this group; the guard `sel` for it lives to the end of the test,
    // so `bid` is not back in the ring while these slices live, and no `&mut` to it exists.
    // Buffer 4 is out of range: nothing is read.
    unsafe {
        assert_eq!(b.data(), cr.buffer(bid).unwrap());
        assert_eq!(cr.buffer(bid).unwrap().as_ptr() as usize, base as usize + bid as usize * 512);
        assert!(cr.buffer(4).is_none());
    }
}
