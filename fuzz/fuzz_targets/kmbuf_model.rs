//! The crate's kmbuf code against the kernel model: arbitrary sequences of register, kernel
//! consumer select / recycle, user-space selects that burn a slot, status, pin, close and drop.
//! Invariants: no panic; a buffer is never handed out twice while held; ids and views stay in
//! range; status counts every selection.
#![no_main]

use std::collections::HashSet;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use uring::buf::kmbuf::model::{KmbufModel, ModelBackend};
use uring::buf::kmbuf::KmBufRing;

#[derive(Arbitrary, Debug)]
enum Op {
    Register { g: u8, entries_log2: u8, pages: u8 },
    Select { g: u8 },
    Recycle { g: u8, pick: u16 },
    UserSelect { g: u8 },
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
}

fuzz_target!(|ops: Vec<Op>| {
    let model = ModelBackend::new(KmbufModel::new());
    let mut groups: Vec<Option<Group>> = (0..4).map(|_| None).collect();
    for op in ops.into_iter().take(256) {
        match op {
            Op::Register { g, entries_log2, pages } => {
                let g = (g % 4) as usize;
                if groups[g].is_some() {
                    continue;
                }
                let entries = 1u32 << (entries_log2 % 7);
                let size = 4096 * (1 + pages as u32 % 3);
                if let Ok(ring) = KmBufRing::register_with(model.clone(), g as u16, entries, size) {
                    assert_eq!(ring.region().len(), entries as usize * size as usize);
                    groups[g] = Some(Group { ring, held: HashSet::new(), selected: 0 });
                }
            }
            Op::Select { g } => {
                let g = (g % 4) as usize;
                let Some(gr) = groups[g].as_mut() else { continue };
                match model.0.borrow_mut().select(g as u16) {
                    Ok((bid, ptr, len)) => {
                        assert!((bid as u32) < gr.ring.entries());
                        assert!(gr.held.insert(bid), "buffer {bid} handed out twice");
                        assert_eq!(len, gr.ring.buf_size());
                        // SAFETY: the backend is the model, which never reads or writes a
                        // buffer; `ptr` is only compared, never dereferenced.
                        let view = unsafe { gr.ring.buffer(bid) }.unwrap().as_ptr();
                        assert_eq!(ptr.as_ptr() as *const u8, view);
                        gr.selected = gr.selected.wrapping_add(1);
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
                    assert!(gr.held.insert(bid), "burned buffer {bid} was already out");
                    gr.selected = gr.selected.wrapping_add(1);
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
                let _ = model.0.borrow_mut().set_pinned((g % 4) as u16, on);
            }
            Op::Close { g } => {
                let g = (g % 4) as usize;
                let Some(gr) = groups[g].take() else { continue };
                match gr.ring.close() {
                    Ok(()) => assert!(!model.0.borrow().is_registered(g as u16)),
                    Err((ring, e)) => {
                        assert!(e.is_errno(libc::EBUSY));
                        groups[g] = Some(Group { ring, held: gr.held, selected: gr.selected });
                    }
                }
            }
            Op::Drop { g } => {
                let g = (g % 4) as usize;
                if groups[g].take().is_some() {
                    let _ = model.0.borrow_mut().set_pinned(g as u16, false);
                }
            }
        }
    }
});
