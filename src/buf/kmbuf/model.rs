//! A model of the kernel side of kmbuf, written from the v3 proposal (the project's
//! `shared/kmbuf.md`), for testing the crate's kmbuf code on kernels without kmbuf.
//!
//! It reproduces registration with the kernel's checks in the kernel's order and errnos, the
//! buffer region (zero-filled, buffer `bid` at `bid * buf_size`, stable across re-mapping and
//! kept by a mapping after unregister, as the kernel's pages are), selection by a kernel
//! consumer with auto-commit, recycling by that consumer, status, pinning (unregistering a
//! pinned ring fails with `EBUSY` and leaves it registered), unregistering, memlock accounting,
//! legacy groups, and the behaviour observed on a kernel carrying the proposal:
//! - a consumer's command that completes asynchronously names the buffer it holds
//!   (`IORING_CQE_F_BUFFER | bid << 16`); one that completes synchronously posts `flags = 0`
//!   although it consumed a buffer ([`KmbufModel::consumer_command`]);
//! - entries that select from a kmbuf group through `IOSQE_BUFFER_SELECT`
//!   ([`KmbufModel::submit`]): reads and receives complete with `-EFAULT` and the buffer id,
//!   and the buffer is gone (burnt) until the consumer recycles it; a `IORING_OP_URING_CMD`
//!   with a buffer group but without `IORING_URING_CMD_MULTISHOT` (or the reverse) is refused
//!   with `EINVAL` at prep, and with both, the mainline driver that selects from buffer groups
//!   (ublk's batch fetch) burns a buffer with `EFAULT` as a read does.

use core::ptr::NonNull;
use std::cell::RefCell;
use std::collections::HashMap;
use std::io;
use std::rc::Rc;
use std::sync::Arc;

use uring_uapi::kmbuf::{io_uring_buf_reg as kmbuf_reg, IOU_PBUF_RING_KERNEL_MANAGED};
use uring_uapi::*;

use super::{KmbufBackend, Region, KMBUF_MAX_BGID};
use crate::cqe::Cqe;
use crate::sqe::Sqe;
use crate::sys::{self, Mmap};
use crate::Result;

fn err(errno: i32) -> io::Error {
    io::Error::from_raw_os_error(errno)
}

/// One kernel-managed group.
#[derive(Debug)]
struct KmGroup {
    entries: u32,
    buf_size: u32,
    /// The buffers; shared with the regions mapped from them, which keep them as a kernel
    /// mapping keeps its pages.
    region: Arc<Mmap>,
    /// Slot contents: (bid, len). The address of `bid` is `region + bid * buf_size`.
    slots: Vec<(u16, u32)>,
    head: u16,
    tail: u16,
    pinned: bool,
    charged: u64,
}

#[derive(Debug)]
enum Group {
    Km(KmGroup),
    /// An app-managed ring (only occupancy is modelled).
    Ring,
    /// A legacy `PROVIDE_BUFFERS` group holding `n` buffers.
    Legacy(u32),
}

/// The model's state: the groups of one ring.
#[derive(Debug)]
pub struct KmbufModel {
    groups: HashMap<u16, Group>,
    /// Whether the modelled kernel has kmbuf (without it, the flag is unknown: `EINVAL`).
    pub supports_kmbuf: bool,
    /// `RLIMIT_MEMLOCK` in bytes for a task without `CAP_IPC_LOCK`; `None`: unlimited.
    pub memlock_limit: Option<u64>,
    memlock_used: u64,
    /// Makes the next `map` fail with this errno (to test the unwinding path).
    pub fail_next_map: Option<i32>,
    /// Makes the next `register` fail with this errno before any check (a refusal the model
    /// does not otherwise produce, such as a genuine `EINVAL` of a kernel with kmbuf).
    pub fail_next_register: Option<i32>,
    /// The answer of [`ModelBackend`]'s support probe, once probed (the model is one ring).
    support_probed: Option<bool>,
    /// How many times [`ModelBackend`] probed for support (at most once while the answer is
    /// kept).
    pub probes: u32,
}

/// How a consumer's command completes ([`KmbufModel::consumer_command`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmdCompletion {
    /// Later, through `io_uring_cmd_done`: the completion names the buffer the command holds.
    Async,
    /// From the driver's `->uring_cmd()` handler itself: `flags = 0`, the buffer is not named.
    Sync,
}

impl Default for KmbufModel {
    fn default() -> Self {
        Self::new()
    }
}

impl KmbufModel {
    /// A kernel with kmbuf and no memlock limit.
    pub fn new() -> Self {
        KmbufModel {
            groups: HashMap::new(),
            supports_kmbuf: true,
            memlock_limit: None,
            memlock_used: 0,
            fail_next_map: None,
            fail_next_register: None,
            support_probed: None,
            probes: 0,
        }
    }

    /// `IORING_REGISTER_PBUF_RING` (Linux 5.19) with `nr_args` arguments at `reg` (`None`: a null pointer).
    pub fn register(&mut self, reg: Option<&kmbuf_reg>, nr_args: u32) -> io::Result<()> {
        if let Some(e) = self.fail_next_register.take() {
            return Err(err(e));
        }
        // 1. argument count and pointer
        let Some(reg) = reg else { return Err(err(libc::EINVAL)) };
        if nr_args != 1 {
            return Err(err(libc::EINVAL));
        }
        let km = reg.flags & IOU_PBUF_RING_KERNEL_MANAGED != 0;
        // 2. reserved bytes and unknown flags
        if reg.resv != [0; 5] || (km && reg.min_left != 0) {
            return Err(err(libc::EINVAL));
        }
        let mut known = IOU_PBUF_RING_MMAP | IOU_PBUF_RING_INC;
        if self.supports_kmbuf {
            known |= IOU_PBUF_RING_KERNEL_MANAGED;
        }
        if reg.flags & !known != 0 {
            return Err(err(libc::EINVAL));
        }
        // 3. entries
        let entries = reg.ring_entries;
        if entries == 0 || !entries.is_power_of_two() || entries >= 65536 {
            return Err(err(libc::EINVAL));
        }
        let page = sys::page_size() as u32;
        let mut buf_size = 0;
        if km {
            // 4. flag combinations
            if reg.flags & IOU_PBUF_RING_MMAP == 0 || reg.flags & IOU_PBUF_RING_INC != 0 {
                return Err(err(libc::EINVAL));
            }
            // 5. buffer size
            // SAFETY: plain-integer union; bytes 0..4 are `buf_size` for kmbuf registrations.
            buf_size = unsafe { reg.addr.buf_size };
            if buf_size == 0 || buf_size % page != 0 {
                return Err(err(libc::EINVAL));
            }
        }
        // 6. group in use
        match self.groups.get(&reg.bgid) {
            Some(Group::Km(_)) | Some(Group::Ring) | Some(Group::Legacy(1..)) => return Err(err(libc::EEXIST)),
            Some(Group::Legacy(0)) | None => {}
        }
        if !km {
            self.groups.insert(reg.bgid, Group::Ring);
            return Ok(());
        }
        // 7. page count
        let pages = (buf_size / page) as u64 * entries as u64;
        if pages > u32::MAX as u64 {
            return Err(err(libc::EINVAL));
        }
        // 8. memlock
        let bytes = pages * page as u64;
        if let Some(limit) = self.memlock_limit {
            if self.memlock_used + bytes > limit {
                return Err(err(libc::ENOMEM));
            }
        }
        let region =
            Arc::new(Mmap::anonymous(entries as usize * buf_size as usize, false).map_err(|_| err(libc::ENOMEM))?);
        self.memlock_used += bytes;
        let slots = (0..entries).map(|i| (i as u16, buf_size)).collect();
        self.groups.insert(
            reg.bgid,
            Group::Km(KmGroup {
                entries,
                buf_size,
                region,
                slots,
                head: 0,
                tail: entries as u16,
                pinned: false,
                charged: bytes,
            }),
        );
        Ok(())
    }

    fn km(&mut self, bgid: u16) -> io::Result<&mut KmGroup> {
        match self.groups.get_mut(&bgid) {
            Some(Group::Km(g)) => Ok(g),
            _ => Err(err(libc::ENOENT)),
        }
    }

    /// `mmap(2)` at the group's pbuf offset: the buffers, not the ring. The region keeps the
    /// buffers mapped until it is dropped, even after the group is unregistered.
    pub fn map(&mut self, bgid: u16, len: usize) -> io::Result<Region> {
        if let Some(e) = self.fail_next_map.take() {
            return Err(err(e));
        }
        if bgid > KMBUF_MAX_BGID {
            return Err(err(libc::EINVAL));
        }
        let g = self.km(bgid).map_err(|_| err(libc::EINVAL))?;
        let size = g.entries as usize * g.buf_size as usize;
        if len < size {
            return Err(err(libc::EFAULT));
        }
        // Longer mappings succeed in the kernel (touching past the region raises SIGBUS); the
        // model hands out the region's real length.
        Ok(Region::shared(g.region.clone(), size))
    }

    /// A kernel consumer selects the buffer at head, committing all of it.
    pub fn select(&mut self, bgid: u16) -> io::Result<(u16, NonNull<u8>, u32)> {
        let g = self.km(bgid)?;
        if g.head == g.tail {
            return Err(err(libc::ENOBUFS));
        }
        let (bid, len) = g.slots[(g.head as u32 & (g.entries - 1)) as usize];
        g.head = g.head.wrapping_add(1);
        // SAFETY: `bid < entries`: slots only ever hold the group's own bids.
        let p = unsafe { g.region.as_ptr().add(bid as usize * g.buf_size as usize) };
        Ok((bid, NonNull::new(p).ok_or_else(|| err(libc::EFAULT))?, len))
    }

    /// The kernel consumer returns buffer `bid` (`io_uring_kmbuf_recycle`).
    pub fn recycle(&mut self, bgid: u16, bid: u16) -> io::Result<()> {
        let g = self.km(bgid)?;
        if bid as u32 >= g.entries || g.tail.wrapping_sub(g.head) as u32 >= g.entries {
            return Err(err(libc::EINVAL));
        }
        let slot = (g.tail as u32 & (g.entries - 1)) as usize;
        g.slots[slot] = (bid, g.buf_size);
        g.tail = g.tail.wrapping_add(1);
        Ok(())
    }

    /// An ordinary operation with `IOSQE_BUFFER_SELECT` (Linux 5.7) on this group (a read or recv): the
    /// kernel selects a buffer, fails with `EFAULT`, and still names the buffer in the
    /// completion; the slot is gone until the consumer recycles it.
    pub fn user_select(&mut self, bgid: u16, user_data: u64) -> Cqe {
        match self.select(bgid) {
            Ok((bid, _, _)) => {
                Cqe::new(user_data, -libc::EFAULT, IORING_CQE_F_BUFFER | (bid as u32) << IORING_CQE_BUFFER_SHIFT)
            }
            Err(e) => Cqe::new(user_data, -e.raw_os_error().unwrap_or(libc::EIO), 0),
        }
    }

    /// A kernel consumer's command on group `bgid` (with `user_data`) selects a buffer and
    /// completes with `res` (the bytes it put there), `how`: asynchronously, the completion names
    /// the buffer; synchronously, it posts `flags = 0` although the buffer was consumed. Returns
    /// the buffer taken (which the test, playing the application, knows only from the model)
    /// and the completion; `ENOBUFS` when the ring is empty.
    pub fn consumer_command(
        &mut self,
        bgid: u16,
        user_data: u64,
        res: i32,
        how: CmdCompletion,
    ) -> io::Result<(u16, Cqe)> {
        let (bid, _, _) = self.select(bgid)?;
        Ok((bid, self.cmd_complete(user_data, res, Some(bid), how == CmdCompletion::Async)))
    }

    /// What the kernel does with `sqe` where it selects from a kmbuf group, or `None` where the
    /// model does not cover the entry (no buffer selection, or a group that is not kmbuf):
    /// - `IORING_OP_URING_CMD`/`URING_CMD128` with `IOSQE_BUFFER_SELECT` but without
    ///   `IORING_URING_CMD_MULTISHOT`, or the reverse: refused at prep, `-EINVAL`, nothing
    ///   selected (on any group);
    /// - a read (`READ`, `READV`, `READ_MULTISHOT`) or receive (`RECV`, `RECVMSG`) with
    ///   `IOSQE_BUFFER_SELECT` on a kmbuf group, or a multishot uring_cmd selecting from one
    ///   (the buffer-group driver of mainline, ublk's batch fetch, copies to the address as
    ///   user memory): [`user_select`](Self::user_select), `-EFAULT` naming the buffer it burnt.
    ///
    /// The completion carries `sqe`'s `user_data`.
    pub fn submit(&mut self, sqe: &Sqe) -> Option<Cqe> {
        let raw = sqe.as_raw();
        let selects = raw.flags & IOSQE_BUFFER_SELECT != 0;
        // SAFETY: plain-integer members of unions of plain integers.
        let (bgid, cmd_flags) = unsafe { (raw.buf.buf_group, raw.op_flags.uring_cmd_flags) };
        match raw.opcode {
            IORING_OP_URING_CMD | IORING_OP_URING_CMD128 => {
                let multishot = cmd_flags & IORING_URING_CMD_MULTISHOT != 0;
                if selects != multishot {
                    return Some(Cqe::new(raw.user_data, -libc::EINVAL, 0));
                }
            }
            IORING_OP_READ | IORING_OP_READV | IORING_OP_READ_MULTISHOT | IORING_OP_RECV | IORING_OP_RECVMSG => {}
            _ => return None,
        }
        if !selects || !matches!(self.groups.get(&bgid), Some(Group::Km(_))) {
            return None;
        }
        Some(self.user_select(bgid, raw.user_data))
    }

    /// The completion of a uring_cmd that holds buffer `bid` (if any): asynchronous completions
    /// name it, synchronous ones carry no flags.
    pub fn cmd_complete(&self, user_data: u64, res: i32, bid: Option<u16>, asynchronous: bool) -> Cqe {
        let flags = match (bid, asynchronous) {
            (Some(bid), true) => IORING_CQE_F_BUFFER | (bid as u32) << IORING_CQE_BUFFER_SHIFT,
            _ => 0,
        };
        Cqe::new(user_data, res, flags)
    }

    /// `IORING_REGISTER_PBUF_STATUS` (Linux 6.8).
    pub fn status(&mut self, bgid: u16) -> io::Result<u16> {
        match self.groups.get(&bgid) {
            Some(Group::Km(g)) => Ok(g.head),
            Some(Group::Legacy(_)) => Err(err(libc::EINVAL)),
            Some(Group::Ring) => Ok(0),
            None => Err(err(libc::ENOENT)),
        }
    }

    /// A kernel consumer pins (or unpins) the ring.
    pub fn set_pinned(&mut self, bgid: u16, pinned: bool) -> io::Result<()> {
        self.km(bgid)?.pinned = pinned;
        Ok(())
    }

    /// `IORING_UNREGISTER_PBUF_RING` (Linux 5.19) with `flags` in the argument.
    pub fn unregister(&mut self, bgid: u16, flags: u16) -> io::Result<()> {
        if flags != 0 {
            return Err(err(libc::EINVAL));
        }
        match self.groups.get(&bgid) {
            None => Err(err(libc::ENOENT)),
            Some(Group::Legacy(_)) => Err(err(libc::EINVAL)),
            Some(Group::Km(g)) if g.pinned => Err(err(libc::EBUSY)),
            Some(_) => {
                if let Some(Group::Km(g)) = self.groups.remove(&bgid) {
                    self.memlock_used -= g.charged;
                }
                Ok(())
            }
        }
    }

    /// `IORING_OP_PROVIDE_BUFFERS` (Linux 5.7) of `n` buffers into group `bgid`.
    pub fn provide_buffers(&mut self, bgid: u16, n: u32) -> io::Result<()> {
        match self.groups.entry(bgid).or_insert(Group::Legacy(0)) {
            Group::Legacy(have) => {
                *have += n;
                Ok(())
            }
            _ => Err(err(libc::EINVAL)),
        }
    }

    /// `IORING_OP_REMOVE_BUFFERS` (Linux 5.7) of up to `n` buffers; returns how many were removed.
    pub fn remove_buffers(&mut self, bgid: u16, n: u32) -> io::Result<u32> {
        match self.groups.get_mut(&bgid) {
            Some(Group::Legacy(have)) => {
                let k = n.min(*have);
                *have -= k;
                Ok(k)
            }
            Some(_) => Err(err(libc::EINVAL)),
            None => Err(err(libc::ENOENT)),
        }
    }

    /// Bytes charged to the memlock limit.
    pub fn memlock_used(&self) -> u64 {
        self.memlock_used
    }

    /// Whether `bgid` is registered (any kind).
    pub fn is_registered(&self, bgid: u16) -> bool {
        self.groups.contains_key(&bgid)
    }

    /// Buffers available to kernel consumers in a kmbuf group (tail - head).
    pub fn available(&self, bgid: u16) -> Option<u16> {
        match self.groups.get(&bgid) {
            Some(Group::Km(g)) => Some(g.tail.wrapping_sub(g.head)),
            _ => None,
        }
    }
}

/// The model as a [`KmbufBackend`], shared so tests can act as the kernel consumer while a
/// [`KmBufRing`](super::KmBufRing) uses it.
#[derive(Debug, Clone)]
pub struct ModelBackend(pub Rc<RefCell<KmbufModel>>);

impl ModelBackend {
    /// Wraps a model.
    pub fn new(model: KmbufModel) -> Self {
        ModelBackend(Rc::new(RefCell::new(model)))
    }
}

impl KmbufBackend for ModelBackend {
    fn register(&mut self, reg: &kmbuf_reg) -> io::Result<()> {
        self.0.borrow_mut().register(Some(reg), 1)
    }

    fn map(&mut self, bgid: u16, len: usize) -> io::Result<Region> {
        self.0.borrow_mut().map(bgid, len)
    }

    fn unregister(&mut self, bgid: u16) -> io::Result<()> {
        self.0.borrow_mut().unregister(bgid, 0)
    }

    fn status(&mut self, bgid: u16) -> io::Result<u16> {
        self.0.borrow_mut().status(bgid)
    }

    /// The probe, once: the model stands for one ring, and keeps the answer
    /// ([`KmbufModel::probes`] counts the probes).
    fn probe_support(&mut self) -> Result<bool> {
        if let Some(known) = self.0.borrow().support_probed {
            return Ok(known);
        }
        self.0.borrow_mut().probes += 1;
        let supported = super::probe(self)?;
        self.0.borrow_mut().support_probed = Some(supported);
        Ok(supported)
    }
}
