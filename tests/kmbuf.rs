//! Kernel-managed buffer rings: on the real kernel where it has kmbuf (and a check that it says
//! `Unsupported` where it does not), and against the model of the kernel side everywhere.
#![cfg(feature = "kmbuf")]

mod common;

use std::os::fd::AsRawFd;
use std::time::Duration;

use uring::buf::kmbuf::model::{CmdCompletion, KmbufModel, ModelBackend};
use uring::buf::kmbuf::{
    kmbuf_registration, pinned_at_drop, CmdBuf, CmdBufTracker, ContiguousRing, KmBufRing, KmbufBackend,
};
use uring::buf::{BufRing, Selection};
use uring::op::{BufGroupId, Fixed};
use uring::owned::{OwnedRing, ReadSelect};
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
        // The group is taken: the kernel's EEXIST, typed, not Unsupported.
        assert!(matches!(KmBufRing::register(&ring, 1, 4, PAGE), Err(Error::BufGroupInUse { bgid: 1 })));
        assert!(KmBufRing::is_supported(&ring).unwrap(), "the answer is kept");
        km.close().map_err(|(_, e)| e).unwrap();
        common::note("real_kernel_kmbuf", "ran against a kernel with kmbuf");
    } else {
        // Unsupported, every time (the probe runs once per ring; the model test counts it).
        for _ in 0..2 {
            match KmBufRing::register(&ring, 1, 4, 2 * PAGE) {
                Err(Error::Unsupported { .. }) => {}
                other => panic!("expected Unsupported, got {other:?}"),
            }
        }
        assert!(!KmBufRing::is_supported(&ring).unwrap());
        // Another ring probes for itself and gets the same answer.
        let other = Ring::new(2).unwrap();
        assert!(matches!(KmBufRing::register(&other, 1, 4, PAGE), Err(Error::Unsupported { .. })));
        common::skip(
            "real_kernel_kmbuf",
            "kernel lacks kmbuf (IOU_PBUF_RING_KERNEL_MANAGED: EINVAL); checked that the crate reports Unsupported, \
             the model tests cover the rest",
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

/// Issue #16, point 4: `EINVAL` is `Unsupported` only when the kernel has no kmbuf, decided by
/// a probe that runs once per ring; a kernel with kmbuf that refuses a registration keeps its
/// errno.
#[test]
fn model_support_probed_once_per_ring_and_genuine_einval_is_os() {
    let mut old = KmbufModel::new();
    old.supports_kmbuf = false;
    let old = ModelBackend::new(old);
    for _ in 0..3 {
        let r = KmBufRing::register_with(old.clone(), 1, 4, PAGE);
        assert!(matches!(r, Err(Error::Unsupported { .. })), "{r:?}");
    }
    assert_eq!(old.0.borrow().probes, 1, "probed once, then the answer is kept");
    assert!(!old.clone().probe_support().unwrap());
    assert_eq!(old.0.borrow().probes, 1);

    // A kernel with kmbuf that answers EINVAL (a reason the client checks do not cover).
    let m = model();
    m.0.borrow_mut().fail_next_register = Some(libc::EINVAL);
    let e = KmBufRing::register_with(m.clone(), 1, 4, PAGE).unwrap_err();
    assert!(matches!(e, Error::Os(_)) && e.is_errno(libc::EINVAL), "the kernel's EINVAL, not Unsupported: {e:?}");
    assert_eq!(m.0.borrow().probes, 1);
    assert!(!m.0.borrow().is_registered(KMBUF_PROBE_BGID), "the probe's ring was unregistered");
    m.0.borrow_mut().fail_next_register = Some(libc::EINVAL);
    let e = KmBufRing::register_with(m.clone(), 1, 4, PAGE).unwrap_err();
    assert!(matches!(e, Error::Os(_)) && e.is_errno(libc::EINVAL));
    assert_eq!(m.0.borrow().probes, 1, "cached");
    // Other errnos keep their meaning without a probe.
    let m = model();
    m.0.borrow_mut().fail_next_register = Some(libc::ENOMEM);
    assert!(KmBufRing::register_with(m.clone(), 1, 4, PAGE).unwrap_err().is_errno(libc::ENOMEM));
    let _held = KmBufRing::register_with(m.clone(), 1, 4, PAGE).unwrap();
    assert!(matches!(KmBufRing::register_with(m.clone(), 1, 4, PAGE), Err(Error::BufGroupInUse { bgid: 1 })));
    assert_eq!(m.0.borrow().probes, 0);
}

/// The probe registers on the highest spare group id.
const KMBUF_PROBE_BGID: u16 = 2047;

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

/// Issue #16, point 3: unregistering a pinned ring fails with `EBUSY` and leaves it
/// registered; `close` says so with its own variant and hands the ring back, and a drop counts
/// it, freeing nothing the kernel side holds.
#[test]
fn model_close_reports_pinned() {
    let m = model();
    let km = KmBufRing::register_with(m.clone(), 8, 2, PAGE).unwrap();
    m.0.borrow_mut().set_pinned(8, true).unwrap();
    assert_eq!(errno(m.0.borrow_mut().unregister(8, 0)), libc::EBUSY, "the model: EBUSY while pinned");
    let (km, e) = km.close().unwrap_err();
    assert!(matches!(e, Error::BufRingPinned { bgid: 8 }), "{e:?}");
    assert!(e.is_errno(libc::EBUSY), "the errno is kept");
    assert!(e.to_string().contains("pinned"), "{e}");
    assert!(m.0.borrow().is_registered(8));
    m.0.borrow_mut().set_pinned(8, false).unwrap();
    km.close().map_err(|(_, e)| e).unwrap();
    assert!(!m.0.borrow().is_registered(8));
    assert_eq!(m.0.borrow().memlock_used(), 0);

    // Dropped while pinned: the group stays registered with its memory and its charge, and the
    // drop is counted (other tests may drop pinned rings at the same time: at least one more).
    m.0.borrow_mut().memlock_limit = Some(1 << 30);
    let mut km = KmBufRing::register_with(m.clone(), 11, 2, PAGE).unwrap();
    // SAFETY: the model never writes a buffer; nothing else touches the region.
    unsafe { km.buffer_mut(1) }.unwrap().fill(0xC3);
    m.0.borrow_mut().set_pinned(11, true).unwrap();
    let before = pinned_at_drop();
    drop(km);
    assert!(pinned_at_drop() > before, "counted");
    assert!(m.0.borrow().is_registered(11), "still registered");
    assert_eq!(m.0.borrow().memlock_used(), 2 * PAGE as u64, "still charged");
    // The consumer (the model) still has its buffers, intact.
    {
        let mut k = m.0.borrow_mut();
        assert_eq!(k.select(11).unwrap().0, 0);
        let (bid, p, len) = k.select(11).unwrap();
        assert_eq!(bid, 1);
        // SAFETY: the model's region is alive while the group is registered; nothing else
        // touches it now.
        assert!(unsafe { core::slice::from_raw_parts(p.as_ptr(), len as usize) }.iter().all(|&b| b == 0xC3));
        k.set_pinned(11, false).unwrap();
        k.unregister(11, 0).unwrap();
        assert_eq!(k.memlock_used(), 0, "released once unpinned and unregistered");
    }
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
    let r = op::Read::new(&std::io::stdin(), &mut []).unwrap().buf_group(&km);
    assert!(matches!(r, Err(Error::InvalidArgument { what: "buffer group", .. })));
    // uring_cmd completions: asynchronous ones name the held buffer, synchronous ones do not.
    let mut t = CmdBufTracker::with_capacity(4);
    let k = m.0.borrow();
    assert_eq!(t.observe(&k.cmd_complete(1, 0, Some(2), true)), CmdBuf::Named(2));
    assert_eq!(
        t.observe(&k.cmd_complete(1, 0, Some(2), false)),
        CmdBuf::Unnamed { last_named: Some(2) },
        "named once; the next completion names none, and says so"
    );
    assert_eq!(t.last(1), Some(2));
    assert_eq!(t.observe(&k.cmd_complete(2, 0, None, false)), CmdBuf::Unnamed { last_named: None });
    assert_eq!(t.forget(1), Some(2));
}

/// Issue #16, point 5: a consumer that completes synchronously consumes a buffer and posts
/// `flags = 0`. The tracker must not report the command's previous bid as this completion's
/// buffer; the head shows that a buffer was taken.
#[test]
fn model_sync_completion_names_no_buffer() {
    let m = model();
    let mut km = KmBufRing::register_with(m.clone(), 6, 4, PAGE).unwrap();
    let mut t = CmdBufTracker::default();
    let (bid0, cqe) = m.0.borrow_mut().consumer_command(6, 9, 100, CmdCompletion::Async).unwrap();
    assert_eq!((cqe.raw_result(), cqe.buffer_id()), (100, Some(bid0)));
    assert_eq!(t.observe(&cqe), CmdBuf::Named(bid0));
    assert_eq!(km.status().unwrap(), 1);

    let (bid1, cqe) = m.0.borrow_mut().consumer_command(6, 9, 200, CmdCompletion::Sync).unwrap();
    assert_ne!(bid1, bid0, "a new buffer was consumed");
    assert_eq!((cqe.raw_result(), cqe.raw_flags()), (200, 0), "synchronous: flags = 0");
    let seen = t.observe(&cqe);
    assert_eq!(seen, CmdBuf::Unnamed { last_named: Some(bid0) });
    assert_eq!(seen.named(), None, "never the last bid as this completion's buffer");
    assert_eq!(km.status().unwrap(), 2, "the head counts the unnamed selection");
    assert_eq!(m.0.borrow().available(6), Some(2));
}

/// Issue #16, points 1 and 2, against the model fed with the crate's own entries: every route
/// by which an entry selects from a kmbuf group burns a buffer (`EFAULT` naming it), a
/// buffer-group uring_cmd without multishot is `EINVAL`; the typed encoders refuse both, and a
/// bare id never becomes a safe entry.
#[test]
fn model_entries_selecting_from_kmbuf_groups() {
    let m = model();
    let km = KmBufRing::register_with(m.clone(), 5, 4, PAGE).unwrap();
    let stdin = std::io::stdin();
    let bare = BufGroupId(km.bgid());
    // Reads and receives through a bare id reach the kernel (unsafe push) and burn a buffer.
    let entries = [
        op::Read::selected(&stdin, 0, &bare).unwrap().build().user_data(1),
        op::ReadMultishot::new(&stdin, &bare).unwrap().build().into_sqe().user_data(2),
    ];
    for (i, sqe) in entries.iter().enumerate() {
        let before = m.0.borrow().available(5).unwrap();
        let cqe = m.0.borrow_mut().submit(sqe).expect("modelled");
        assert_eq!(cqe.result(), Err(uring::Errno::FAULT));
        assert_eq!(cqe.buffer_id(), Some(i as u16), "names the buffer it burnt");
        assert_eq!(m.0.borrow().available(5), Some(before - 1), "gone until the consumer recycles it");
    }
    // The typed handle is refused by every encoder.
    assert!(matches!(op::Read::selected(&stdin, 0, &km), Err(Error::InvalidArgument { what: "buffer group", .. })));
    assert!(matches!(op::ReadMultishot::new(&stdin, &km), Err(Error::InvalidArgument { what: "buffer group", .. })));
    // Point 2: a buffer-selecting entry never becomes a safe one, even on a registered file.
    let sqe = op::ReadMultishot::new(Fixed(0), &bare).unwrap().build();
    assert!(sqe.names_only_registered_files());
    assert!(sqe.into_safe().is_err(), "a bare id could name a kmbuf group: only an unsafe push takes it");
    let plain = op::Fsync::new(Fixed(0)).build();
    assert!(plain.into_safe().is_ok(), "entries that select nothing still become safe");

    // Point 1: uring_cmd. The kernel's rule, as the model (and this host's kernel) applies it.
    let no_multishot = {
        let mut s = op::UringCmd::new(&stdin, 1).build().user_data(3);
        s.as_raw_mut().flags |= IOSQE_BUFFER_SELECT;
        s.as_raw_mut().buf.buf_group = 5;
        s
    };
    let before = m.0.borrow().available(5);
    let cqe = m.0.borrow_mut().submit(&no_multishot).unwrap();
    assert_eq!((cqe.result(), cqe.buffer_id()), (Err(uring::Errno::INVAL), None));
    assert_eq!(m.0.borrow().available(5), before, "refused at prep: nothing selected");
    let multishot_alone = op::UringCmd::new(&stdin, 1).multishot().build();
    assert_eq!(m.0.borrow_mut().submit(&multishot_alone).unwrap().result(), Err(uring::Errno::INVAL));
    // ... and the encoder's typed error for it.
    let e = op::UringCmd::new(&stdin, 1).buf_group(&bare).unwrap_err();
    assert!(matches!(e, Error::InvalidArgument { what: "uring_cmd buffer group", .. }), "{e}");
    let e = op::UringCmd128::new(&stdin, 1).buf_group(&bare).unwrap_err();
    assert!(matches!(e, Error::InvalidArgument { what: "uring_cmd buffer group", .. }), "{e}");
    // With multishot, a buffer-group driver (ublk's batch fetch) burns a kmbuf buffer too.
    let cmd = op::UringCmd::new(&stdin, 1).multishot().buf_group(&bare).unwrap().build().user_data(4);
    let cqe = m.0.borrow_mut().submit(&cmd).unwrap();
    assert_eq!((cqe.result(), cqe.buffer_id()), (Err(uring::Errno::FAULT), Some(2)));
    // So the typed handle is refused there as well.
    let e = op::UringCmd::new(&stdin, 1).multishot().buf_group(&km).unwrap_err();
    assert!(matches!(e, Error::InvalidArgument { what: "buffer group", .. }), "{e}");
    // Entries on other groups, or selecting nothing, are not the model's business.
    assert!(m.0.borrow_mut().submit(&op::Read::selected(&stdin, 0, &BufGroupId(77)).unwrap().build()).is_none());
    assert!(m.0.borrow_mut().submit(&op::Nop::new().build().into_sqe()).is_none());
    assert_eq!(km.bgid(), 5);
}

/// The model's buffers outlive an unregister behind the ring's back while a `KmBufRing` maps
/// them, as a kernel mapping keeps its pages: reading stays in bounds of live memory.
#[test]
fn model_mapping_outlives_unregister() {
    let m = model();
    let mut km = KmBufRing::register_with(m.clone(), 2, 2, PAGE).unwrap();
    // SAFETY: the model never writes a buffer; nothing else touches the region.
    unsafe { km.buffer_mut(0) }.unwrap().fill(0x42);
    m.0.borrow_mut().unregister(2, 0).unwrap();
    assert!(!m.0.borrow().is_registered(2));
    // SAFETY: as above.
    assert!(unsafe { km.buffer(0) }.unwrap().iter().all(|&b| b == 0x42), "still mapped, data intact");
    let (km, e) = km.close().unwrap_err();
    assert!(e.is_errno(libc::ENOENT), "{e:?}");
    drop(km);
}

/// Issue #16, point 1 on this host's kernel: a uring_cmd with a buffer group and without
/// `IORING_URING_CMD_MULTISHOT` is refused at submission with `EINVAL` (and multishot without a
/// group too), which the encoder now reports as a typed error before the kernel sees it. The
/// entries are built by hand: the encoder refuses to build them.
#[test]
fn real_kernel_uring_cmd_buffer_group_needs_multishot() {
    use std::net::{TcpListener, TcpStream};
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let _c = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    let (server, _) = l.accept().unwrap();
    let mut ring = Ring::new(4).unwrap();
    // A buffer ring to name (never selected from: the prep refuses first).
    let _ = BufRing::builder(3, 2, 64).build(&mut ring).unwrap();
    let plain = op::UringCmd::new(&server, SOCKET_URING_OP_SIOCINQ).build().user_data(1);
    // SAFETY: the command points at no memory; `server` outlives the completion.
    unsafe { ring.sq().push_raw(&plain) }.unwrap();
    let c = ring.wait_cqe_timeout(Duration::from_secs(5)).expect("SIOCINQ completes");
    if c.result().is_err() {
        common::skip(
            "real_kernel_uring_cmd_buffer_group_needs_multishot",
            format!("kernel refused a socket uring_cmd (SIOCINQ): {}", c.result().unwrap_err()),
        );
        return;
    }
    let mut group_only = op::UringCmd::new(&server, SOCKET_URING_OP_SIOCINQ).build().user_data(2);
    group_only.as_raw_mut().flags |= IOSQE_BUFFER_SELECT;
    group_only.as_raw_mut().buf.buf_group = 3;
    let multishot_only = op::UringCmd::new(&server, SOCKET_URING_OP_SIOCINQ).multishot().build().user_data(3);
    for sqe in [group_only, multishot_only] {
        // SAFETY: as above.
        unsafe { ring.sq().push_raw(&sqe) }.unwrap();
        let c = ring.wait_cqe_timeout(Duration::from_secs(5)).expect("refused at once, no hang");
        if c.result() == Err(uring::Errno::OPNOTSUPP) {
            // Before Linux 6.18 uring_cmd takes no IOSQE_BUFFER_SELECT at all.
            common::skip(
                "real_kernel_uring_cmd_buffer_group_needs_multishot",
                "this kernel's uring_cmd predates buffer selection (EOPNOTSUPP)",
            );
            return;
        }
        assert_eq!((c.user_data(), c.result()), (sqe.get_user_data(), Err(uring::Errno::INVAL)));
    }
    assert!(matches!(
        op::UringCmd::new(&server, SOCKET_URING_OP_SIOCINQ).buf_group(&BufGroupId(3)),
        Err(Error::InvalidArgument { what: "uring_cmd buffer group", .. })
    ));
}

/// Issue #16, point 2 on this host's kernel: the one route left to safe code for an entry that
/// selects a buffer is adding `IOSQE_BUFFER_SELECT` to a safe entry with the `flags` setter
/// (its group is then `sqe.buf_group` = 0, the setters cannot change it). None of the safe
/// entries' opcodes takes buffer selection: the kernel refuses them before selecting, and the
/// group's head does not move. (Should a kernel start honouring it for one of them, this test
/// fails.)
#[test]
fn real_kernel_safe_entries_do_not_select() {
    use std::net::{TcpListener, TcpStream};
    use std::os::fd::AsFd;
    use uring::SqeFlags;
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let _c = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    let (server, _) = l.accept().unwrap();
    let mut ring = Ring::new(8).unwrap();
    let group0 = BufRing::builder(0, 4, 256).build(&mut ring).unwrap();
    ring.submitter().register_files(&[server.as_fd()]).unwrap();
    let entries = [
        ("NOP", op::Nop::new().build().flags(SqeFlags::BUFFER_SELECT)),
        (
            "socket uring_cmd on a registered file",
            uring::cmd::socket::SiocInq::new(Fixed(0)).build().into_safe().unwrap().flags(SqeFlags::BUFFER_SELECT),
        ),
        (
            "fsync on a registered file",
            op::Fsync::new(Fixed(0)).build().into_safe().unwrap().flags(SqeFlags::BUFFER_SELECT),
        ),
    ];
    for (what, sqe) in entries {
        ring.sq().push(&sqe.user_data(1)).unwrap();
        let c = ring.wait_cqe_timeout(Duration::from_secs(5)).expect("refused at once, no hang");
        assert!(matches!(c.result(), Err(uring::Errno::OPNOTSUPP | uring::Errno::INVAL)), "{what}: {:?}", c.result());
        assert_eq!(c.buffer_id(), None, "{what}: no buffer taken");
    }
    assert_eq!(group0.head().unwrap(), 0, "nothing selected from group 0");
}

/// The fallback with the kmbuf layout on any kernel: bid i at i * buf_size of one region, read
/// through the raw layer (unsafe, with the contract).
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
    let cqe = ring.wait_cqe_timeout(Duration::from_secs(5)).expect("a read of /dev/urandom completes");
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

/// Issue #16, point 6 for `ContiguousRing`: the safe path. Owned reads select from it; each
/// owned completion hands its buffer out once, as a guard at `bid * buf_size` of the region,
/// and the buffer goes back to the ring when the guard is dropped (the ring serves more reads
/// than it has buffers).
#[test]
fn contiguous_ring_safe_path_through_owned_completions() {
    let mut ring = OwnedRing::new(8).unwrap();
    let cr = ContiguousRing::new(ring.buf_ring(BufRing::builder(13, 2, 256).kernel_mapped()).unwrap());
    let (base, _) = cr.region();
    let (r, w) = {
        let mut fds = [0; 2];
        // SAFETY: `fds` is a valid two-int array.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        use std::os::fd::FromRawFd;
        // SAFETY: pipe(2) just created both fds, owned by nobody else.
        unsafe { (std::fs::File::from_raw_fd(fds[0]), std::fs::File::from_raw_fd(fds[1])) }
    };
    let r = std::sync::Arc::new(r);
    for round in 0..5u8 {
        use std::io::Write;
        (&w).write_all(&[round; 100]).unwrap();
        ring.push(ReadSelect::new(uring::owned::Fd::shared(r.clone()), cr.ring(), u64::MAX)).unwrap();
        let mut c = ring.wait_timeout(Duration::from_secs(5)).expect("the pipe read completes");
        assert_eq!(c.result(), Ok(100));
        let sel = c.select(cr.ring()).unwrap();
        let bid = sel.bid().unwrap();
        assert_eq!(sel.data(), Some(&[round; 100][..]));
        assert_eq!(sel.data().unwrap().as_ptr() as usize, base as usize + bid as usize * 256, "bid * buf_size");
        assert!(matches!(c.select(cr.ring()), Err(Error::InvalidArgument { .. })), "once per completion");
        drop(sel); // back into the ring
    }
}

/// The model's kernel-side registration errnos for flags the crate never sends.
#[test]
fn model_rejects_kernel_managed_without_mmap() {
    let mut k = KmbufModel::new();
    let mut r = kmbuf_registration(1, 4, PAGE);
    r.flags = IOU_PBUF_RING_KERNEL_MANAGED;
    assert_eq!(errno(k.register(Some(&r), 1)), libc::EINVAL);
}
