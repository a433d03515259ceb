//! The crate's kmbuf code against the kernel model: arbitrary sequences of register, kernel
//! consumer select / recycle, consumer commands completing asynchronously or synchronously,
//! entries that select from a kmbuf group (built by the crate's encoders with a bare id: reads,
//! uring_cmds with and without multishot), status, pin, close and drop.
//! Invariants: no panic; a buffer is never handed out twice while held; ids and views stay in
//! range; status counts every selection; a completion that names no buffer is never reported as
//! naming one; the typed handle is refused by every encoder; a pinned ring is reported as such
//! by `close` and stays registered after a drop.
#![no_main]

use std::collections::HashSet;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use uring::buf::kmbuf::model::{CmdCompletion, KmbufModel, ModelBackend};
use uring::buf::kmbuf::{pinned_at_drop, CmdBuf, CmdBufTracker, KmBufRing};
use uring::op::{self, BufGroupId, Fixed};
use uring::uapi::*;

#[derive(Arbitrary, Debug)]
enum Op {
    Register { g: u8, entries_log2: u8, pages: u8 },
    Select { g: u8 },
    Recycle { g: u8, pick: u16 },
    UserSelect { g: u8 },
    Command { g: u8, user: u8, sync: bool },
    Submit { g: u8, kind: u8 },
    Write { g: u8, bid: u16, byte: u8 },
    Status { g: u8 },
    Pin { g: u8, on: bool },
    Close { g: u8 },
    Drop { g: u8 },
}

struct Group {
    ring: KmBufRing<ModelBackend>,
    held: HashSet<u16>,
    selected: u16,
    pinned: bool,
}

impl Group {
    /// Records a buffer the kernel side took from the ring.
    fn took(&mut self, bid: u16) {
        assert!((bid as u32) < self.ring.entries());
        assert!(self.held.insert(bid), "buffer {bid} handed out twice");
        self.selected = self.selected.wrapping_add(1);
    }
}

fuzz_target!(|ops: Vec<Op>| {
    let model = ModelBackend::new(KmbufModel::new());
    let mut groups: Vec<Option<Group>> = (0..4).map(|_| None).collect();
    let mut tracker = CmdBufTracker::with_capacity(8);
    for op in ops.into_iter().take(256) {
        match op {
            Op::Register { g, entries_log2, pages } => {
                let g = (g % 4) as usize;
                if groups[g].is_some() {
                    continue;
                }
                let entries = 1u32 << (entries_log2 % 7);
                let size = 4096 * (1 + pages as u32 % 3);
                match KmBufRing::register_with(model.clone(), g as u16, entries, size) {
                    Ok(ring) => {
                        assert_eq!(ring.region().len(), entries as usize * size as usize);
                        groups[g] = Some(Group { ring, held: HashSet::new(), selected: 0, pinned: false });
                    }
                    // Only a group a pinned ring was dropped from is still taken.
                    Err(e) => assert!(
                        matches!(e, uring::Error::BufGroupInUse { .. }) && model.0.borrow().is_registered(g as u16),
                        "{e:?}"
                    ),
                }
            }
            Op::Select { g } => {
                let g = (g % 4) as usize;
                let Some(gr) = groups[g].as_mut() else { continue };
                match model.0.borrow_mut().select(g as u16) {
                    Ok((bid, ptr, len)) => {
                        gr.took(bid);
                        assert_eq!(len, gr.ring.buf_size());
                        // SAFETY: the backend is the model, which never reads or writes a
                        // buffer; `ptr` is only compared, never dereferenced.
                        let view = unsafe { gr.ring.buffer(bid) }.unwrap().as_ptr();
                        assert_eq!(ptr.as_ptr() as *const u8, view);
                    }
                    Err(e) => {
                        assert_eq!(e.raw_os_error(), Some(libc::ENOBUFS));
                        assert_eq!(gr.held.len() as u32, gr.ring.entries());
                    }
                }
            }
            Op::UserSelect { g } => {
                let g = (g % 4) as usize;
                let Some(gr) = groups[g].as_mut() else { continue };
                let cqe = model.0.borrow_mut().user_select(g as u16, 1);
                if let Some(bid) = cqe.buffer_id() {
                    assert_eq!(cqe.raw_result(), -libc::EFAULT);
                    gr.took(bid);
                }
            }
            Op::Command { g, user, sync } => {
                let g = (g % 4) as usize;
                let Some(gr) = groups[g].as_mut() else { continue };
                let user_data = (user % 8) as u64;
                let how = if sync { CmdCompletion::Sync } else { CmdCompletion::Async };
                let before = tracker.last(user_data);
                match model.0.borrow_mut().consumer_command(g as u16, user_data, 64, how) {
                    Ok((bid, cqe)) => {
                        gr.took(bid);
                        let seen = tracker.observe(&cqe);
                        if sync {
                            assert_eq!(cqe.raw_flags(), 0);
                            // Never the previous bid as this completion's buffer.
                            assert_eq!(seen, CmdBuf::Unnamed { last_named: before });
                            assert_eq!(tracker.last(user_data), before);
                        } else {
                            assert_eq!(seen, CmdBuf::Named(bid));
                            assert_eq!(tracker.last(user_data), Some(bid));
                        }
                    }
                    Err(e) => assert_eq!(e.raw_os_error(), Some(libc::ENOBUFS)),
                }
            }
            Op::Submit { g, kind } => {
                let g = (g % 4) as usize;
                let Some(gr) = groups[g].as_mut() else { continue };
                let bare = BufGroupId(g as u16);
                // The typed handle never gets this far.
                assert!(op::Read::selected(Fixed(0), 0, &gr.ring).is_err());
                assert!(op::UringCmd::new(Fixed(0), 1).multishot().buf_group(&gr.ring).is_err());
                assert!(op::UringCmd::new(Fixed(0), 1).buf_group(&bare).is_err(), "a group needs multishot");
                let (sqe, refused_at_prep) = match kind % 4 {
                    0 => (op::Read::selected(Fixed(0), 0, &bare).unwrap().build(), false),
                    1 => {
                        let e = op::ReadMultishot::new(Fixed(0), &bare).unwrap().build();
                        assert!(e.into_safe().is_err(), "a buffer-selecting entry is never safe");
                        (e.into_sqe(), false)
                    }
                    2 => (op::UringCmd::new(Fixed(0), 1).multishot().buf_group(&bare).unwrap().build(), false),
                    _ => {
                        let mut s = op::UringCmd::new(Fixed(0), 1).build();
                        s.as_raw_mut().flags |= IOSQE_BUFFER_SELECT;
                        s.as_raw_mut().buf.buf_group = g as u16;
                        (s, true)
                    }
                };
                let before = model.0.borrow().available(g as u16);
                let cqe = model.0.borrow_mut().submit(&sqe).expect("an entry selecting from a kmbuf group");
                if refused_at_prep {
                    assert_eq!((cqe.raw_result(), cqe.buffer_id()), (-libc::EINVAL, None));
                    assert_eq!(model.0.borrow().available(g as u16), before, "nothing selected");
                } else if let Some(bid) = cqe.buffer_id() {
                    assert_eq!(cqe.raw_result(), -libc::EFAULT);
                    gr.took(bid);
                } else {
                    assert_eq!(cqe.raw_result(), -libc::ENOBUFS);
                }
            }
            Op::Recycle { g, pick } => {
                let g = (g % 4) as usize;
                let Some(gr) = groups[g].as_mut() else { continue };
                if gr.held.is_empty() {
                    continue;
                }
                let mut v: Vec<u16> = gr.held.iter().copied().collect();
                v.sort();
                let bid = v[pick as usize % v.len()];
                model.0.borrow_mut().recycle(g as u16, bid).unwrap();
                gr.held.remove(&bid);
            }
            Op::Write { g, bid, byte } => {
                let g = (g % 4) as usize;
                let Some(gr) = groups[g].as_mut() else { continue };
                let n = gr.ring.entries();
                // SAFETY: the model never reads or writes a buffer and nothing here touches
                // the region through a pointer; the `&mut` slice ends before `buffer` is called.
                match unsafe { gr.ring.buffer_mut(bid) } {
                    Some(b) => {
                        assert!((bid as u32) < n);
                        b[0] = byte;
                        // SAFETY: as above.
                        assert_eq!(unsafe { gr.ring.buffer(bid) }.unwrap()[0], byte);
                    }
                    None => assert!(bid as u32 >= n),
                }
            }
            Op::Status { g } => {
                let g = (g % 4) as usize;
                let Some(gr) = groups[g].as_mut() else { continue };
                assert_eq!(gr.ring.status().unwrap(), gr.selected);
            }
            Op::Pin { g, on } => {
                let g = (g % 4) as usize;
                if let Some(gr) = groups[g].as_mut() {
                    model.0.borrow_mut().set_pinned(g as u16, on).unwrap();
                    gr.pinned = on;
                }
            }
            Op::Close { g } => {
                let g = (g % 4) as usize;
                let Some(gr) = groups[g].take() else { continue };
                match gr.ring.close() {
                    Ok(()) => {
                        assert!(!gr.pinned);
                        assert!(!model.0.borrow().is_registered(g as u16));
                    }
                    Err((ring, e)) => {
                        assert!(gr.pinned);
                        assert!(matches!(e, uring::Error::BufRingPinned { bgid } if bgid == g as u16), "{e:?}");
                        assert!(e.is_errno(libc::EBUSY));
                        groups[g] = Some(Group { ring, ..gr });
                    }
                }
            }
            Op::Drop { g } => {
                let g = (g % 4) as usize;
                let Some(gr) = groups[g].take() else { continue };
                let before = pinned_at_drop();
                let pinned = gr.pinned;
                drop(gr);
                // A pinned ring stays registered, its buffers the kernel side's.
                assert_eq!(model.0.borrow().is_registered(g as u16), pinned);
                if pinned {
                    assert!(pinned_at_drop() > before);
                }
            }
        }
    }
});
