//! The other registrations: eventfd, personalities, restrictions, io-wq tuning, raw
//! provided-buffer ring calls, and the ring-less message.

use core::ffi::c_void;
use core::mem::size_of;
use std::os::fd::{AsFd, AsRawFd};

use uring_uapi::*;

use super::register_blind;
use crate::op::{MsgRing, Target};
use crate::{Error, Probe, Result, SetupFlags, SqeFlags, Submitter};

/// One rule of a ring's (or a task's) restriction set (`struct io_uring_restriction`).
///
/// A ring with restrictions accepts only the SQE opcodes, `IOSQE_*` flags and register opcodes
/// its rules allow. Rules of one kind are cumulative: several [`allow_sqe_op`](Self::allow_sqe_op)
/// rules allow several opcodes. A refused submission completes with `-EACCES` (and, without
/// `IORING_SETUP_SUBMIT_ALL`, ends that submission batch); a refused register call fails with
/// `EACCES`.
///
/// Which kinds a set restricts depends on the kernel: up to at least Linux 6.18 a ring with any
/// restriction is limited in both submissions *and* register calls, so a set with only SQE
/// rules refuses every `io_uring_register(2)` call once the ring is enabled (allow the ones
/// needed, e.g. [`IORING_REGISTER_FILES`](uring_uapi::IORING_REGISTER_FILES)); newer kernels
/// restrict register calls only when the set has a register rule, and submissions only when it
/// has an SQE or flags rule. An empty set denies everything on both.
#[derive(Debug, Clone, Copy)]
#[repr(transparent)]
pub struct Restriction(io_uring_restriction);

impl Restriction {
    const fn new(kind: u16, op: io_uring_restriction_op) -> Self {
        Restriction(io_uring_restriction { opcode: kind, op, resv: 0, resv2: [0; 3] })
    }

    /// `IORING_RESTRICTION_REGISTER_OP`: allows the `io_uring_register(2)` opcode `op` (an
    /// `IORING_REGISTER_*` value, without `IORING_REGISTER_USE_REGISTERED_RING`). Values the
    /// kernel cannot know (at or past `IORING_REGISTER_LAST`) are refused.
    /// `IORING_REGISTER_RESTRICTIONS`, Linux 5.10.
    pub fn allow_register_op(op: u32) -> Result<Self> {
        if op >= IORING_REGISTER_LAST {
            return Err(Error::InvalidArgument { what: "register opcode", reason: "not an IORING_REGISTER_* opcode" });
        }
        Ok(Self::new(IORING_RESTRICTION_REGISTER_OP, io_uring_restriction_op { register_op: op as u8 }))
    }

    /// `IORING_RESTRICTION_SQE_OP`: allows the SQE opcode `op` (an `IORING_OP_*` value, such as
    /// [`op::Nop::CODE`](crate::op::Nop::CODE)).
    /// `IORING_REGISTER_RESTRICTIONS`, Linux 5.10.
    pub const fn allow_sqe_op(op: u8) -> Self {
        Self::new(IORING_RESTRICTION_SQE_OP, io_uring_restriction_op { sqe_op: op })
    }

    /// `IORING_RESTRICTION_SQE_FLAGS_ALLOWED`: the `IOSQE_*` flags entries may carry (beyond
    /// the required ones). Without this rule, no flag is allowed once any SQE rule exists. The
    /// last rule of this kind wins.
    /// `IORING_REGISTER_RESTRICTIONS`, Linux 5.10.
    pub const fn allow_sqe_flags(flags: SqeFlags) -> Self {
        Self::new(IORING_RESTRICTION_SQE_FLAGS_ALLOWED, io_uring_restriction_op { sqe_flags: flags.bits() })
    }

    /// `IORING_RESTRICTION_SQE_FLAGS_REQUIRED`: the `IOSQE_*` flags every entry must carry.
    /// The last rule of this kind wins.
    /// `IORING_REGISTER_RESTRICTIONS`, Linux 5.10.
    pub const fn require_sqe_flags(flags: SqeFlags) -> Self {
        Self::new(IORING_RESTRICTION_SQE_FLAGS_REQUIRED, io_uring_restriction_op { sqe_flags: flags.bits() })
    }

    /// The kernel struct.
    pub const fn as_raw(&self) -> &io_uring_restriction {
        &self.0
    }
}

/// Registers restrictions for the calling task (`io_uring_register(2)` with `fd = -1` and
/// `IORING_REGISTER_RESTRICTIONS`, a `struct io_uring_task_restriction`; Linux 7.x, after
/// 6.19). Every ring the task creates afterwards carries these restrictions, and children
/// created by `fork(2)` inherit them; they cannot be removed, and a second registration fails
/// with `EPERM`.
///
/// Like seccomp, this needs `PR_SET_NO_NEW_PRIVS` or `CAP_SYS_ADMIN` (`EACCES` otherwise).
/// Kernels without per-task restrictions answer `EINVAL`. At most `u16::MAX` rules.
pub fn register_task_restrictions(rules: &[Restriction]) -> Result<()> {
    let nr = u16::try_from(rules.len())
        .map_err(|_| Error::InvalidArgument { what: "restrictions", reason: "more than u16::MAX rules" })?;
    // Header and rules are both 16 bytes with 4-byte alignment: lay them out as one array of
    // rules whose first element holds the header.
    let mut buf = vec![Restriction::allow_sqe_op(0).0; rules.len() + 1];
    let header = io_uring_task_restriction { flags: 0, nr_res: nr, resv: [0; 3], restrictions: [] };
    // SAFETY: element 0 is 16 writable bytes aligned to 4, the size and alignment of the header
    // (checked by the layout assertions of `uring-uapi`).
    unsafe { core::ptr::write(buf.as_mut_ptr().cast::<io_uring_task_restriction>(), header) };
    for (dst, r) in buf[1..].iter_mut().zip(rules) {
        *dst = r.0;
    }
    // SAFETY: a header followed by `nr` restrictions, living for the call; `nr_args` is 1.
    unsafe { register_blind(IORING_REGISTER_RESTRICTIONS, buf.as_ptr().cast(), 1) }?;
    Ok(())
}

/// Posts a completion with `user_data`, result `res` and flags `cqe_flags` to the ring whose fd
/// is `target`, without a ring of one's own (`io_uring_register_sync_msg(3)`,
/// `IORING_REGISTER_SEND_MSG_RING` with `fd = -1`, Linux 6.13). This is the synchronous form of
/// [`MsgRing`]: non-zero `cqe_flags` are passed with `IORING_MSG_RING_FLAGS_PASS`.
///
/// `EBADFD` when `target` is not a ring, `EOVERFLOW` when its CQ is full; kernels before 6.13
/// answer `EINVAL`.
pub fn send_msg_ring(target: impl AsFd, user_data: u64, res: i32, cqe_flags: u32) -> Result<()> {
    let mut msg = MsgRing::new(Target::raw(target.as_fd().as_raw_fd()), res, user_data);
    if cqe_flags != 0 {
        msg = msg.cqe_flags(cqe_flags);
    }
    let sqe = msg.build();
    // SAFETY: one complete `io_uring_sqe` living for the call; the kernel copies it.
    unsafe { register_blind(IORING_REGISTER_SEND_MSG_RING, (sqe.sqe().as_raw() as *const io_uring_sqe).cast(), 1) }?;
    Ok(())
}

impl Submitter {
    /// Makes the kernel signal `eventfd` whenever a completion is posted
    /// (`io_uring_register_eventfd(3)`, `IORING_REGISTER_EVENTFD`, Linux 5.2). The kernel keeps
    /// its own reference: closing the fd afterwards does not unregister it. `EBUSY` if one is
    /// already registered.
    pub fn register_eventfd(&self, eventfd: impl AsFd) -> Result<()> {
        self.eventfd(IORING_REGISTER_EVENTFD, eventfd.as_fd().as_raw_fd())
    }

    /// Like [`register_eventfd`](Self::register_eventfd), but signals only completions that
    /// were posted asynchronously, by an io-wq worker, not those that completed inline during
    /// submission (`io_uring_register_eventfd_async(3)`, `IORING_REGISTER_EVENTFD_ASYNC`,
    /// Linux 5.6).
    pub fn register_eventfd_async(&self, eventfd: impl AsFd) -> Result<()> {
        self.eventfd(IORING_REGISTER_EVENTFD_ASYNC, eventfd.as_fd().as_raw_fd())
    }

    fn eventfd(&self, opcode: u32, fd: i32) -> Result<()> {
        // SAFETY: one `int` living for the call, as `nr_args = 1` says.
        unsafe { self.register_checked(opcode, (&fd as *const i32).cast(), 1) }?;
        Ok(())
    }

    /// Removes the registered eventfd (`io_uring_unregister_eventfd(3)`,
    /// `IORING_UNREGISTER_EVENTFD`, Linux 5.2). `ENXIO` if none is registered.
    pub fn unregister_eventfd(&self) -> Result<()> {
        // SAFETY: no argument.
        unsafe { self.register_checked(IORING_UNREGISTER_EVENTFD, core::ptr::null(), 0) }?;
        Ok(())
    }

    /// Saves the calling thread's current credentials in the ring and returns their id
    /// (`io_uring_register_personality(3)`, `IORING_REGISTER_PERSONALITY`, Linux 5.6). An entry
    /// with [`personality(id)`](crate::Sqe::personality) runs with those credentials instead of
    /// the submitter's.
    pub fn register_personality(&self) -> Result<u16> {
        // SAFETY: no argument.
        let id = unsafe { self.register_checked(IORING_REGISTER_PERSONALITY, core::ptr::null(), 0) }?;
        // The kernel allocates ids in 0..=u16::MAX.
        u16::try_from(id).map_err(|_| Error::Os(std::io::Error::from_raw_os_error(libc::ERANGE)))
    }

    /// Forgets the credentials saved as `id` (`io_uring_unregister_personality(3)`,
    /// `IORING_UNREGISTER_PERSONALITY`, Linux 5.6). `EINVAL` for an unknown id.
    pub fn unregister_personality(&self, id: u16) -> Result<()> {
        // SAFETY: no argument; the id travels in `nr_args`.
        unsafe { self.register_checked(IORING_UNREGISTER_PERSONALITY, core::ptr::null(), id as u32) }?;
        Ok(())
    }

    /// Installs `rules` on a ring created disabled (`io_uring_register_restrictions(3)`,
    /// `IORING_REGISTER_RESTRICTIONS`, Linux 5.10); they apply once the ring is enabled
    /// ([`Ring::enable_rings`](crate::Ring::enable_rings)). Only one set can be registered
    /// (`EBUSY`), only before enabling (`EBADFD`). An empty set denies every opcode and every
    /// register call.
    ///
    /// A ring not created with `IORING_SETUP_R_DISABLED` is refused with
    /// [`Error::WrongRingKind`] before the system call.
    pub fn register_restrictions(&self, rules: &[Restriction]) -> Result<()> {
        if !self.setup_flags().contains(SetupFlags::R_DISABLED) {
            return Err(Error::WrongRingKind {
                needs: "a ring created with IORING_SETUP_R_DISABLED (Builder::r_disabled)",
            });
        }
        let nr = u32::try_from(rules.len())
            .map_err(|_| Error::InvalidArgument { what: "restrictions", reason: "more than u32::MAX rules" })?;
        // The kernel wants a non-null pointer even for an empty set.
        let empty = [Restriction::allow_sqe_op(0)];
        let ptr = if rules.is_empty() { empty.as_ptr() } else { rules.as_ptr() };
        // SAFETY: `nr` restrictions (`Restriction` is `repr(transparent)`) living for the call.
        unsafe { self.register_checked(IORING_REGISTER_RESTRICTIONS, ptr.cast(), nr) }?;
        Ok(())
    }

    /// Sets the CPU affinity of the io-wq workers serving this ring: those of the calling
    /// thread, or of the SQPOLL thread for an SQPOLL ring (`io_uring_register_iowq_aff(3)`,
    /// `IORING_REGISTER_IOWQ_AFF`, Linux 5.14).
    pub fn register_iowq_aff(&self, cpus: &libc::cpu_set_t) -> Result<()> {
        // SAFETY: a `cpu_set_t` of `nr_args` bytes living for the call; the kernel copies it.
        unsafe {
            self.register_checked(
                IORING_REGISTER_IOWQ_AFF,
                (cpus as *const libc::cpu_set_t).cast(),
                size_of::<libc::cpu_set_t>() as u32,
            )
        }?;
        Ok(())
    }

    /// Restores the default io-wq worker affinity (`io_uring_unregister_iowq_aff(3)`,
    /// `IORING_UNREGISTER_IOWQ_AFF`, Linux 5.14).
    pub fn unregister_iowq_aff(&self) -> Result<()> {
        // SAFETY: no argument.
        unsafe { self.register_checked(IORING_UNREGISTER_IOWQ_AFF, core::ptr::null(), 0) }?;
        Ok(())
    }

    /// Sets the maximum number of io-wq workers, `counts[0]` for bounded work (regular files,
    /// block devices) and `counts[1]` for unbounded work (sockets, pipes) — see `IO_WQ_BOUND` /
    /// `IO_WQ_UNBOUND` — and writes the previous limits back into `counts`
    /// (`io_uring_register_iowq_max_workers(3)`, `IORING_REGISTER_IOWQ_MAX_WORKERS`,
    /// Linux 5.15). A 0 leaves that limit unchanged, so `[0, 0]` just reads the limits. Values
    /// over `i32::MAX` are refused before the system call.
    pub fn register_iowq_max_workers(&self, counts: &mut [u32; 2]) -> Result<()> {
        if counts.iter().any(|&c| c > i32::MAX as u32) {
            return Err(Error::InvalidArgument { what: "io-wq max workers", reason: "over i32::MAX" });
        }
        // SAFETY: two writable `u32`s living for the call, as `nr_args = 2` says.
        unsafe {
            self.register_checked(IORING_REGISTER_IOWQ_MAX_WORKERS, (counts as *mut [u32; 2]).cast::<c_void>(), 2)
        }?;
        Ok(())
    }

    /// Registers a provided-buffer ring as described by `reg` (`io_uring_register_buf_ring(3)`,
    /// `IORING_REGISTER_PBUF_RING`, Linux 5.19; `IOU_PBUF_RING_MMAP` Linux 6.4,
    /// `IOU_PBUF_RING_INC` Linux 6.12). This is the raw call; [`crate::buf`] has the typed
    /// buffer rings. A group id already in use gives [`Error::BufGroupInUse`].
    ///
    /// # Safety
    /// Unless `reg.flags` has `IOU_PBUF_RING_MMAP`, `reg.ring_addr` must point to
    /// `reg.ring_entries` page-aligned `io_uring_buf` entries that stay valid until the ring is
    /// unregistered. Every buffer published in the ring must stay valid for kernel writes until
    /// the kernel hands it back in a completion, or until the ring is unregistered if no request
    /// selected it; a buffer a request has selected stays in the kernel's use until that
    /// request's completion, even if the ring is unregistered first.
    pub unsafe fn register_pbuf_ring_raw(&self, reg: &io_uring_buf_reg) -> Result<()> {
        // SAFETY: one `io_uring_buf_reg` living for the call; the ring memory is the caller's
        // contract.
        let r = unsafe { self.register_checked(IORING_REGISTER_PBUF_RING, (reg as *const io_uring_buf_reg).cast(), 1) };
        match r {
            Err(e) if e.is_errno(libc::EEXIST) => Err(Error::BufGroupInUse { bgid: reg.bgid }),
            r => r.map(drop),
        }
    }

    /// Unregisters the provided-buffer ring of group `bgid` (`io_uring_unregister_buf_ring(3)`,
    /// `IORING_UNREGISTER_PBUF_RING`, Linux 5.19). `ENOENT` if there is none (`EINVAL` on
    /// some kernels). This is the raw counterpart of
    /// [`register_pbuf_ring_raw`](Self::register_pbuf_ring_raw); the typed buffer rings of
    /// [`crate::buf`] unregister their group themselves when dropped.
    ///
    /// # Safety
    /// `bgid` must not be the group of a buffer ring this crate registered on this ring that is
    /// still alive: a [`BufRing`](crate::buf::BufRing) (also the one inside a
    /// `buf::kmbuf::ContiguousRing`) or a `buf::kmbuf::KmBufRing` (feature `kmbuf`). Such a
    /// ring relies, for as long as it lives, on the group id naming *its* ring in the kernel:
    /// - it hands the buffer a completion names (`IORING_CQE_F_BUFFER`, the id in the upper
    ///   16 bits; a completion names no group) to safe code as `&[u8]`/`&mut [u8]`, which is
    ///   sound only because the kernel selects that id from its ring and nothing else's. Once the
    ///   group is unregistered behind its back the id is free, another ring can be registered
    ///   under it, and that ring's completions name ids the first ring takes for its own
    ///   buffers, while a request that selected one of those before the unregistration may still
    ///   be writing it;
    /// - its `Drop` (or `close`) unregisters `bgid`, which by then may name the other ring,
    ///   so that ring in turn loses its group under the same reliance.
    ///
    /// Unregister only groups registered through [`register_pbuf_ring_raw`](Self::register_pbuf_ring_raw)
    /// (or another raw route), after which the buffers of requests still in flight stay in the
    /// kernel's use until those complete (see its contract). Wrong ids otherwise only fail
    /// (`ENOENT`/`EINVAL`).
    ///
    /// ```
    /// fn f(ring: &uring::Ring) {
    ///     // SAFETY: group 7 was registered with `register_pbuf_ring_raw`; no crate ring owns it.
    ///     let _ = unsafe { ring.submitter().unregister_pbuf_ring(7) };
    /// }
    /// ```
    /// The same call without `unsafe` does not compile:
    /// ```compile_fail,E0133
    /// fn f(ring: &uring::Ring) {
    ///     let _ = ring.submitter().unregister_pbuf_ring(7);
    /// }
    /// ```
    pub unsafe fn unregister_pbuf_ring(&self, bgid: u16) -> Result<()> {
        let reg = io_uring_buf_reg { bgid, ..Default::default() };
        // SAFETY: one `io_uring_buf_reg` living for the call; that no crate-owned ring loses its
        // group is the caller's contract.
        unsafe { self.register_checked(IORING_UNREGISTER_PBUF_RING, (&reg as *const io_uring_buf_reg).cast(), 1) }?;
        Ok(())
    }

    /// The kernel's head (consume) index of the provided-buffer ring of group `bgid`
    /// (`io_uring_buf_ring_head(3)`, `IORING_REGISTER_PBUF_STATUS`, Linux 6.8). `ENOENT` if
    /// there is no such group, `EINVAL` if it is a legacy (`PROVIDE_BUFFERS`) group.
    pub fn pbuf_status(&self, bgid: u16) -> Result<u16> {
        let mut st = io_uring_buf_status { buf_group: bgid as u32, ..Default::default() };
        // SAFETY: one writable `io_uring_buf_status` living for the call.
        unsafe {
            self.register_checked(
                IORING_REGISTER_PBUF_STATUS,
                (&mut st as *mut io_uring_buf_status).cast::<c_void>(),
                1,
            )
        }?;
        // The kernel's head is 16 bits wide.
        Ok(st.head as u16)
    }
}

impl Probe {
    /// Probes the kernel without an existing ring (`io_uring_get_probe(3)`): the same as
    /// [`Probe::new`], which sets up a temporary two-entry ring for the call.
    /// Linux 5.6.
    pub fn without_ring() -> Result<Probe> {
        Probe::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restriction_encoding() {
        fn fields(r: Restriction) -> (u16, u8) {
            // SAFETY: every member of the union is a `u8`.
            (r.as_raw().opcode, unsafe { r.as_raw().op.register_op })
        }
        assert_eq!(
            fields(Restriction::allow_register_op(IORING_REGISTER_FILES).unwrap()),
            (IORING_RESTRICTION_REGISTER_OP, 2)
        );
        assert_eq!(fields(Restriction::allow_sqe_op(IORING_OP_READ)), (IORING_RESTRICTION_SQE_OP, IORING_OP_READ));
        assert_eq!(
            fields(Restriction::allow_sqe_flags(SqeFlags::IO_LINK | SqeFlags::ASYNC)),
            (IORING_RESTRICTION_SQE_FLAGS_ALLOWED, IOSQE_IO_LINK | IOSQE_ASYNC)
        );
        assert_eq!(
            fields(Restriction::require_sqe_flags(SqeFlags::FIXED_FILE)),
            (IORING_RESTRICTION_SQE_FLAGS_REQUIRED, IOSQE_FIXED_FILE)
        );
        assert!(Restriction::allow_register_op(IORING_REGISTER_LAST).is_err());
        assert!(Restriction::allow_register_op(IORING_REGISTER_FILES | IORING_REGISTER_USE_REGISTERED_RING).is_err());
        assert_eq!(size_of::<Restriction>(), size_of::<io_uring_restriction>());
    }
}
