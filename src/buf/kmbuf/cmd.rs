//! What uring_cmd completions say about a kmbuf group's buffers: [`CmdBuf`] and
//! [`CmdBufTracker`] (re-exported from [`buf::kmbuf`](super)).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::cqe::Cqe;

/// What a uring_cmd completion says about the kmbuf buffer of its command
/// ([`CmdBufTracker::observe`]).
/// (`IORING_CQE_F_BUFFER` of a uring_cmd completion: `IORING_OP_URING_CMD`, Linux 5.19.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum CmdBuf {
    /// The completion names buffer `bid` (`IORING_CQE_F_BUFFER | bid << 16`): the command held
    /// it when it completed asynchronously.
    Named(u16),
    /// The completion names no buffer. The crate cannot tell which of these it is: the command
    /// used no buffer; the driver still holds the buffer an earlier completion of the command
    /// named (`last_named`), which it reports only once; or the driver completed synchronously
    /// and consumed a buffer it does not name (`flags = 0`), which may be another one. Only the
    /// driver's rules decide; [`KmBufRing::status`](super::KmBufRing::status) (the head counts every selection) tells
    /// whether a buffer was taken meanwhile.
    /// (No `IORING_CQE_F_BUFFER`.)
    Unnamed {
        /// The last buffer a completion of this command named, if any.
        last_named: Option<u16>,
    },
}

impl CmdBuf {
    /// The buffer this completion names, if it names one.
    pub fn named(self) -> Option<u16> {
        match self {
            CmdBuf::Named(bid) => Some(bid),
            CmdBuf::Unnamed { .. } => None,
        }
    }
}

/// Remembers, per in-flight command (by `user_data`), the last buffer id its completions named.
///
/// A uring_cmd driver reports a buffer it holds in a completion's flags
/// (`IORING_CQE_F_BUFFER | bid << 16`) only once, and a driver completing synchronously reports
/// none although it consumed one: consumers must remember the last bid of each command, and
/// must not take a completion without a bid for one that names the last bid again
/// ([`CmdBuf::Unnamed`]).
/// uring_cmd: Linux 5.19.
#[derive(Debug, Default)]
pub struct CmdBufTracker {
    last: HashMap<u64, u16, BuildHasherDefault<UserDataHasher>>,
}

/// Hashes a `user_data` with one multiplication (Fibonacci hashing): the keys are the
/// application's own numbers, so a keyed hash (the standard library's default, about 15 ns a
/// lookup here) buys nothing.
#[derive(Debug, Default, Clone, Copy)]
struct UserDataHasher(u64);

impl Hasher for UserDataHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(b as u64);
        }
    }

    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0 ^ v).wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(26);
    }
}

impl CmdBufTracker {
    /// A tracker with room for `commands` in-flight commands (no allocation until exceeded).
    /// (For `IORING_OP_URING_CMD` completions, Linux 5.19.)
    pub fn with_capacity(commands: usize) -> Self {
        CmdBufTracker { last: HashMap::with_capacity_and_hasher(commands, Default::default()) }
    }

    /// Records `cqe`: [`CmdBuf::Named`] with the buffer it names (remembered for its command),
    /// or [`CmdBuf::Unnamed`] with the last buffer remembered for its command.
    /// (`IORING_CQE_F_BUFFER`, the bid in `cqe.flags >> 16`.)
    pub fn observe(&mut self, cqe: &Cqe) -> CmdBuf {
        match cqe.buffer_id() {
            Some(bid) => {
                match self.last.get_mut(&cqe.user_data()) {
                    Some(last) => *last = bid,
                    None => {
                        self.last.insert(cqe.user_data(), bid);
                    }
                }
                CmdBuf::Named(bid)
            }
            None => CmdBuf::Unnamed { last_named: self.last.get(&cqe.user_data()).copied() },
        }
    }

    /// The last buffer a completion of command `user_data` named.
    /// (By `cqe.user_data`.)
    pub fn last(&self, user_data: u64) -> Option<u16> {
        self.last.get(&user_data).copied()
    }

    /// Forgets a command (it finished for good).
    /// (By `cqe.user_data`.)
    pub fn forget(&mut self, user_data: u64) -> Option<u16> {
        self.last.remove(&user_data)
    }
}
