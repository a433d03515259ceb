//! Random sequences of *safe* calls of the owned layer and the buffer rings against the real
//! kernel (issue #14): owned reads, receives (plain, selecting, bundles, multishot, incremental
//! rings), writes, send bundles from a send ring, polls, `MSG_RING`s and sockets pushed on an
//! `OwnedRing` over socketpairs and pipes the harness owns (each file handed over as an
//! `owned::Fd`: shared through an `Arc`, or a duplicate the operation owns, sometimes with the
//! harness's own ends dropped and replaced right after the push, so fd numbers get reused);
//! raw safe entries (`push_safe`: NOPs, poll updates and removes aimed at owned operations with
//! any new `user_data`, cancels); completions reaped through every owned path (`next`,
//! `wait_timeout`, `completions`, `for_each_completion`) and selected with `Completion::select`
//! (also twice, with the wrong buffer ring, or not at all), or kept unselected across steps and
//! ring drops and selected later, in any order (a kept incremental piece whose buffer went back
//! to the ring since must be refused); guards kept across steps
//! (`Buf::keep`), scribbled on, dropped in any order, recycled one by one or in batches (also to
//! the wrong ring); send-ring buffers taken, filled and queued; buffer rings, the owned ring, the
//! channels and the plain ring dropped mid-flight and rebuilt; completions posted to a second,
//! plain `Ring` (`register::send_msg_ring` and owned `MsgRing`s) and its CQ advanced by any
//! amount; attempts to aim a `MSG_RING` at the owned ring.
//!
//! The action interpreter calls safe API only. Checked after every step (a panic is a crash):
//! - every byte a guard, a kept buffer or a returned owned buffer shows is what was sent for it:
//!   messages carry their id, length and a pattern derived from the id; stream bytes a pattern
//!   derived from their offset; each message is received at most once, and only on the channel
//!   (incarnation) the operation named — so a buffer the kernel still writes, a buffer handed out
//!   twice, or a read landing in a reused fd number shows up;
//! - the bytes a guard or kept buffer shows do not change while it lives (apart from the
//!   harness's own scribbles);
//! - no two live guards or kept tokens hold the same buffer of a ring (incremental pieces: no
//!   two overlap), and `BufRing::held()` equals the harness's count (guards + kept tokens, plus
//!   the free list of a send ring);
//! - `OwnedRing::in_flight()` equals the number of owned operations pushed and not finally
//!   completed; every completion names an operation in flight (or a raw entry the harness
//!   pushed), each final completion arrives once, and the operation comes back with its memory
//!   intact (unread bytes untouched, written bytes unchanged) and its file the same file;
//! - refused calls return the typed error the API documents, never panic;
//! - dropping an owned ring does not stall (every operation's final completion arrives);
//! - the plain ring's CQ holds exactly what was posted to it, and `advance` never passes its
//!   tail.
//!
//! The process has as many fds after each input as before it (ring drops included).
//!
//! The interpreter holds no `unsafe`: the harness's own plumbing (socketpairs, pipes, sends,
//! `fstat`) goes through rustix's safe functions. `SAFE_API_TRACE=1` prints each action.
#![no_main]

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::os::fd::{AsFd, OwnedFd};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use rustix::net::{AddressFamily, RecvFlags, SendFlags, SocketFlags, SocketType};
use uring::buf::{BufRing, HeldBuf, KeptBufs, Selection};
use uring::op::{self, PollEvents};
use uring::owned::{self, Completion, Fd, OpId, OwnedRing};
use uring::{Builder, Cqe, Error, Ring};

const OWNED: u64 = 1 << 63;
const MAX_ACTIONS: usize = 64;
/// What an owned read's buffer holds where the kernel wrote nothing.
const FILL: u8 = 0xa5;

// ---------------------------------------------------------------------------------------------
// Input

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Mode {
    Default,
    DeferTaskrun,
    CoopTaskrun,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
struct BufCfg {
    present: bool,
    entries_log2: u8,
    size: u8,
    incremental: bool,
    kernel_mapped: bool,
}

#[derive(Arbitrary, Debug)]
struct Config {
    entries_log2: u8,
    mode: Mode,
    /// Slots 0 and 1: receive rings (groups 0 and 1); slot 2: a send ring (group 2).
    bufs: [BufCfg; 3],
    /// Drop the owned ring before the buffer rings at the end (else after).
    ring_first: bool,
}

/// How an operation gets its file.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Share {
    /// `Fd::shared` of the harness's `Arc`.
    Shared,
    /// A duplicate the operation owns.
    Owned,
    /// A duplicate the operation owns, and the harness drops its own ends of the channel right
    /// after the push (a new channel takes their place, likely at the same fd numbers).
    OwnedThenReplace,
}

/// A `user_data` a raw entry aims at.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Aim {
    /// One seen on an owned completion.
    Seen(u8),
    /// An owned one predicted from slot and generation.
    Guess { slot: u8, gen: u8 },
    /// Any value.
    Raw(u64),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Reap {
    Next(u8),
    WaitTimeout,
    Completions,
    ForEach,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Action {
    /// The harness sends `count` messages (or stream bytes) into channel `ch`.
    Send {
        ch: u8,
        len: u8,
        count: u8,
    },
    /// The harness reads what the ring wrote into channel `ch`.
    Drain {
        ch: u8,
    },
    Read {
        ch: u8,
        len: u8,
        share: Share,
    },
    Recv {
        ch: u8,
        len: u8,
        share: Share,
    },
    RecvSelect {
        ch: u8,
        ring: u8,
        len: u8,
        bundle: bool,
        share: Share,
    },
    RecvMultishot {
        ch: u8,
        ring: u8,
        len: u8,
        limit: u16,
        share: Share,
    },
    Write {
        ch: u8,
        len: u8,
        share: Share,
    },
    SendBundle {
        ch: u8,
        share: Share,
    },
    PollAdd {
        ch: u8,
        multishot: bool,
        share: Share,
    },
    /// An owned `MsgRing` to the plain ring.
    MsgRing {
        ud: u64,
        res: i32,
        shared: bool,
    },
    Socket,
    OwnedNop,
    /// `push_safe` of a NOP with any `user_data`.
    Nop {
        ud: u64,
    },
    PollUpdate {
        aim: Aim,
        new_ud: Option<u64>,
        events: bool,
        multishot: bool,
    },
    PollRemove {
        aim: Aim,
    },
    CancelRaw {
        aim: Aim,
    },
    /// `OwnedRing::cancel` of an operation in flight, or of one already done.
    Cancel {
        pick: u8,
        stale: bool,
    },
    /// `register::send_msg_ring` to the plain ring.
    SendMsgRing {
        ud: u64,
        res: i32,
        flags: u32,
    },
    /// Try to post into the owned ring.
    AimAtOwned {
        ud: u64,
    },
    Submit,
    Reap {
        how: Reap,
        mode: u8,
    },
    DropGuard {
        pick: u8,
    },
    Keep {
        pick: u8,
    },
    Scribble {
        pick: u8,
        byte: u8,
    },
    ScribbleKept {
        pick: u8,
        byte: u8,
    },
    RecycleHeld {
        pick: u8,
        ring: u8,
    },
    RecycleBatch {
        ring: u8,
        picks: [u8; 4],
        n: u8,
    },
    /// Kept buffers pushed into a `KeptBufs` of ring `ring` (others' refused and kept), offered
    /// to ring `other` first (refused unless it is the same ring), then returned.
    RecycleKept {
        ring: u8,
        other: u8,
        picks: [u8; 4],
        n: u8,
    },
    TakeFree {
        ring: u8,
        n: u8,
    },
    Queue {
        pick: u8,
        ring: u8,
        len: u8,
    },
    DropBufRing {
        ring: u8,
    },
    NewBufRing {
        ring: u8,
    },
    DropOwnedRing {
        mode: Mode,
    },
    ReplaceChannel {
        ch: u8,
    },
    ReplacePlain,
    PlainAdvance {
        n: u16,
    },
    PlainPop {
        n: u8,
    },
    /// A `ReadSelect` (or `ReadMultishot`) into a receive ring.
    ReadSelect {
        ch: u8,
        ring: u8,
        len: u8,
        multishot: bool,
        share: Share,
    },
    /// Select a completion kept for later (in any order).
    SelectLater {
        pick: u8,
        mode: u8,
    },
}

#[derive(Arbitrary, Debug)]
struct Input {
    cfg: Config,
    actions: Vec<Action>,
}

// ---------------------------------------------------------------------------------------------
// Data patterns

fn pat(id: u32, i: usize) -> u8 {
    let x = id.wrapping_mul(0x9e37_79b1) ^ (i as u32).wrapping_mul(0x85eb_ca6b);
    (x ^ (x >> 13) ^ (x >> 24)) as u8
}

/// A message: its id, its length, then `pat(id, i)`.
fn message(id: u32, len: usize) -> Vec<u8> {
    assert!((6..=u16::MAX as usize).contains(&len));
    let mut v = Vec::with_capacity(len);
    v.extend_from_slice(&id.to_le_bytes());
    v.extend_from_slice(&(len as u16).to_le_bytes());
    v.extend((6..len).map(|i| pat(id, i)));
    v
}

/// Byte `off` of stream incarnation `inc`.
fn spat(inc: u32, off: u64) -> u8 {
    let x = (off as u32).wrapping_mul(0x2545_f491) ^ inc.wrapping_mul(0x9e37_79b1) ^ ((off >> 32) as u32);
    (x ^ (x >> 11) ^ (x >> 23)) as u8
}

// ---------------------------------------------------------------------------------------------
// Channels

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A `SOCK_SEQPACKET` socketpair: messages both ways.
    Seqpacket,
    /// A `SOCK_STREAM` socketpair: the harness writes bytes, the ring reads them.
    Stream,
    /// A packet-mode pipe (`O_DIRECT`): the harness writes packets, the ring reads them.
    Pipe,
}

const KINDS: [Kind; 3] = [Kind::Seqpacket, Kind::Stream, Kind::Pipe];

struct Channel {
    kind: Kind,
    /// Unique per channel ever made in this input.
    inc: u32,
    /// The end the ring uses.
    ring_end: Arc<OwnedFd>,
    /// The end the harness uses (non-blocking).
    peer: OwnedFd,
    /// Inode of `ring_end`.
    ino: u64,
}

fn ino(fd: impl AsFd) -> u64 {
    rustix::fs::fstat(fd).expect("fstat").st_ino
}

impl Channel {
    fn new(kind: Kind, inc: u32) -> Channel {
        let (ring_end, peer) = match kind {
            Kind::Seqpacket | Kind::Stream => {
                let ty = if kind == Kind::Stream { SocketType::STREAM } else { SocketType::SEQPACKET };
                rustix::net::socketpair(AddressFamily::UNIX, ty, SocketFlags::CLOEXEC, None).expect("socketpair")
            }
            Kind::Pipe => {
                let (r, w) =
                    rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC | rustix::pipe::PipeFlags::DIRECT)
                        .expect("pipe");
                // F_SETFL replaces the flags: keep O_DIRECT (packets are made by the writer's flag).
                let fl = rustix::fs::fcntl_getfl(&w).expect("F_GETFL");
                rustix::fs::fcntl_setfl(&w, fl | rustix::fs::OFlags::NONBLOCK).expect("O_NONBLOCK");
                assert!(rustix::fs::fcntl_getfl(&w).unwrap().contains(rustix::fs::OFlags::DIRECT));
                (r, w)
            }
        };
        let ino = ino(&ring_end);
        Channel { kind, inc, ring_end: Arc::new(ring_end), peer, ino }
    }

    fn fd(&self, share: Share) -> Fd {
        match share {
            Share::Shared => Fd::shared(self.ring_end.clone()),
            Share::Owned | Share::OwnedThenReplace => Fd::from(self.ring_end.try_clone().expect("dup")),
        }
    }
}

/// What the ring has read of a stream incarnation.
#[derive(Default)]
struct Stream {
    sent: u64,
    off: u64,
    /// Receives in flight (at most one: completions of one receiver arrive in stream order).
    busy: u32,
    /// A receive's bytes were lost to the harness (reaped by a ring drop): offsets unknown.
    desync: bool,
}

/// Who may receive a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dir {
    /// Sent by the harness into channel incarnation `inc`, for the ring.
    In(u32),
    /// Written by the ring into incarnation `inc`, for the harness.
    Out(u32),
    /// A chunk queued in a send ring (sent by whatever bundle takes it).
    Chunk,
}

struct Msg {
    dir: Dir,
    len: u16,
    received: bool,
}

// ---------------------------------------------------------------------------------------------
// Model

#[derive(Debug, Clone)]
enum OpKind {
    Nop,
    Read { len: usize },
    Recv { len: usize },
    RecvSelect,
    RecvMultishot,
    ReadSelect,
    ReadMultishot,
    Write { bytes: Vec<u8> },
    SendBundle,
    Poll,
    MsgRing { plain_gen: u32, key: (u64, i32, u32) },
    Socket,
}

#[derive(Debug, Clone)]
struct OpRec {
    kind: OpKind,
    /// The channel kind and incarnation the operation works on.
    chan: Option<(Kind, u32)>,
    ino: Option<u64>,
    /// The buffer ring it selects from: slot and generation.
    buf: Option<(usize, u32)>,
    bundle: bool,
    /// Counts as the stream receiver of its incarnation.
    stream_rx: bool,
}

struct BufModel {
    alive: bool,
    gen: u32,
    /// The owned ring generation it is registered on.
    ring_gen: u32,
    entries: u32,
    size: u32,
    incremental: bool,
    send: bool,
    /// Incremental: buffers whose last piece was selected and that are still viewed.
    inc_done: BTreeSet<u16>,
    /// Incremental: how often each buffer went back to the ring (a piece reaped before its
    /// buffer went back is stale).
    inc_back: BTreeMap<u16, u32>,
    /// Incremental: a completion of this ring's group could not be selected (a bundle, or an
    /// operation of an earlier ring of the group), so the ring's offsets no longer follow the
    /// kernel's: the bytes of later pieces are not checked (their stability still is).
    misaligned: bool,
    /// Send ring: buffers on the free list.
    free: u32,
    /// Send ring: queued buffers in ring order, with their bytes.
    queue: VecDeque<(u16, Vec<u8>)>,
}

impl BufModel {
    fn dead() -> Self {
        BufModel {
            alive: false,
            gen: 0,
            ring_gen: 0,
            entries: 0,
            size: 0,
            incremental: false,
            send: false,
            inc_done: BTreeSet::new(),
            inc_back: BTreeMap::new(),
            misaligned: false,
            free: 0,
            queue: VecDeque::new(),
        }
    }
}

/// A kept buffer token (`Buf::keep`, or a send ring's `take_free`) and the bytes it shows.
struct Kept {
    slot: usize,
    gen: u32,
    h: HeldBuf,
    snap: Vec<u8>,
}

struct Plain {
    ring: Ring,
    gen: u32,
    /// A duplicate of its fd, shared by `MsgRing` operations.
    fd: Arc<OwnedFd>,
    /// (user_data, res, flags) posted or possibly posted and not yet popped.
    posted: BTreeMap<(u64, i32, u32), u32>,
    confirmed: u64,
    consumed: u64,
    /// Owned `MsgRing`s in flight to this ring.
    pending: u64,
    /// `MsgRing`s whose completion was lost (reaped by an owned ring's drop).
    uncertain: u64,
}

impl Plain {
    fn new(gen: u32) -> Plain {
        let ring = Builder::new().cq_entries(1024).build(8).expect("plain ring");
        let fd = Arc::new(ring.submitter().fd().expect("the plain ring's fd").try_clone_to_owned().expect("dup"));
        Plain { ring, gen, fd, posted: BTreeMap::new(), confirmed: 0, consumed: 0, pending: 0, uncertain: 0 }
    }
}

struct Model {
    ops: Vec<(OpId, OpRec)>,
    raw: BTreeMap<u64, u32>,
    next_raw: u64,
    msgs: HashMap<u32, Msg>,
    next_msg: u32,
    streams: HashMap<u32, Stream>,
    seen_ud: Vec<u64>,
    done_ids: Vec<OpId>,
    bm: [BufModel; 3],
    kept: Vec<Kept>,
    /// Completions kept unselected.
    later: Vec<Later>,
    ring_gen: u32,
}

struct World {
    owned: OwnedRing,
    plain: Plain,
    chans: [Channel; 3],
    next_inc: u32,
    m: Model,
}

type Bufs = [Option<BufRing>; 3];

/// A live selection, and the bytes it showed when selected (or last scribbled).
struct Guard<'b> {
    slot: usize,
    gen: u32,
    sel: Selection<'b>,
    snap: Vec<u8>,
}

fn sel_bytes(sel: &Selection<'_>) -> Vec<u8> {
    match sel {
        Selection::None => Vec::new(),
        Selection::Buffer(b) => b.data().to_vec(),
        Selection::Incremental(s) => s.data().to_vec(),
        Selection::Bundle(b) => b.to_vec(),
    }
}

/// How long dropping `x` takes.
fn timed_drop<T>(x: T) -> Duration {
    let t = Instant::now();
    drop(x);
    t.elapsed()
}

fn build_ring(mode: Mode, entries_log2: u8) -> OwnedRing {
    let entries = 1u32 << (1 + entries_log2 % 4);
    let b = match mode {
        Mode::Default => Builder::new(),
        Mode::DeferTaskrun => Builder::new().single_issuer().defer_taskrun(),
        Mode::CoopTaskrun => Builder::new().coop_taskrun().taskrun_flag(),
    };
    OwnedRing::with_builder(b, entries).expect("an owned ring")
}

impl World {
    fn new(cfg: &Config) -> World {
        let owned = build_ring(cfg.mode, cfg.entries_log2);
        let chans = [Channel::new(KINDS[0], 0), Channel::new(KINDS[1], 1), Channel::new(KINDS[2], 2)];
        let mut streams = HashMap::new();
        for c in &chans {
            streams.insert(c.inc, Stream::default());
        }
        World {
            owned,
            plain: Plain::new(0),
            chans,
            next_inc: 3,
            m: Model {
                ops: Vec::new(),
                raw: BTreeMap::new(),
                next_raw: 1,
                msgs: HashMap::new(),
                next_msg: 1,
                streams,
                seen_ud: Vec::new(),
                done_ids: Vec::new(),
                bm: [BufModel::dead(), BufModel::dead(), BufModel::dead()],
                kept: Vec::new(),
                later: Vec::new(),
                ring_gen: 0,
            },
        }
    }

    fn replace_channel(&mut self, ch: usize) {
        let inc = self.next_inc;
        self.next_inc += 1;
        self.chans[ch] = Channel::new(KINDS[ch], inc);
        self.m.streams.insert(inc, Stream::default());
    }

    fn build_buf(&mut self, bufs: &mut Bufs, slot: usize, c: &BufCfg) {
        bufs[slot] = None;
        let bm = &mut self.m.bm[slot];
        bm.alive = false;
        let entries = 1u32 << (c.entries_log2 % 5);
        let send = slot == 2;
        let incremental = !send && c.incremental;
        // At least 8 bytes; incremental rings get room for several pieces.
        let size = 8 * (1 + c.size as u32 % 32) + if incremental { 64 } else { 0 };
        let mut b = BufRing::builder(slot as u16, entries, size);
        if send {
            b = b.send();
        }
        if incremental {
            b = b.incremental();
        }
        if c.kernel_mapped {
            b = b.kernel_mapped();
        }
        let br = self.owned.buf_ring(b).expect("registering a buffer ring");
        assert_eq!(
            (br.entries(), br.buf_size(), br.is_incremental(), br.bgid()),
            (entries, size, incremental, slot as u16)
        );
        assert_eq!(br.held(), if send { entries } else { 0 });
        bm.alive = true;
        bm.gen += 1;
        bm.ring_gen = self.m.ring_gen;
        bm.entries = entries;
        bm.size = size;
        bm.incremental = incremental;
        bm.send = send;
        bm.inc_done.clear();
        bm.inc_back.clear();
        bm.misaligned = false;
        bm.free = if send { entries } else { 0 };
        bm.queue.clear();
        bufs[slot] = Some(br);
    }

    /// Drops the owned ring (timing it) and makes a new one.
    fn drop_owned(&mut self, mode: Mode, entries_log2: u8) {
        let new = build_ring(mode, entries_log2);
        let old = std::mem::replace(&mut self.owned, new);
        let took = timed_drop(old);
        assert!(
            took < Duration::from_millis(1500),
            "dropping the owned ring took {took:?}: an operation never completed (in flight: {:?})",
            self.m.ops.iter().map(|(_, r)| (&r.kind, r.chan)).collect::<Vec<_>>()
        );
        self.after_ring_gone();
        self.m.ring_gen += 1;
    }

    /// The old ring's drop reaped what was in flight: the harness never sees those completions.
    fn after_ring_gone(&mut self) {
        let m = &mut self.m;
        for (_, rec) in m.ops.drain(..) {
            if rec.stream_rx {
                let (_, inc) = rec.chan.unwrap();
                let st = m.streams.get_mut(&inc).unwrap();
                st.busy -= 1;
                st.desync = true;
            }
            if let OpKind::MsgRing { plain_gen, .. } = rec.kind {
                if plain_gen == self.plain.gen {
                    self.plain.pending -= 1;
                    self.plain.uncertain += 1;
                }
            }
        }
        m.raw.clear();
        m.seen_ud.clear();
        // A stream whose bytes went to a completion nobody saw: start over on a new channel.
        for ch in 0..3 {
            if self.m.streams[&self.chans[ch].inc].desync {
                self.replace_channel(ch);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Checks

/// Where a received run of bytes may hold a further message.
#[derive(Clone, Copy, Debug)]
enum Next {
    /// Nowhere: one receive of a packet channel gets one message (or its head).
    None,
    /// At a buffer boundary of a bundle (a receive that filled its buffers may go on with the
    /// next message in new buffers; a message cut short there is followed by the next).
    Boundary(usize),
    /// Right after the previous one (the chunks of a send bundle, in one datagram).
    Any,
}

/// Checks received bytes against the messages sent: each message whole or cut short (at the
/// end, or before a buffer boundary where the next one starts), with its pattern, received
/// once, for `ok`.
#[track_caller]
fn parse_msgs(msgs: &mut HashMap<u32, Msg>, ok: &dyn Fn(Dir) -> bool, data: &[u8], next: Next, whole: bool) {
    let mut p = 0;
    while p < data.len() {
        let rest = &data[p..];
        if rest.len() < 6 {
            // A piece cut short by the end of its buffer: too short to name its message.
            assert!(!whole, "a fragment of {} bytes where whole messages were expected: {rest:?}", rest.len());
            return;
        }
        let id = u32::from_le_bytes(rest[..4].try_into().unwrap());
        let len = u16::from_le_bytes(rest[4..6].try_into().unwrap()) as usize;
        let Some(msg) = msgs.get_mut(&id) else {
            panic!("bytes nobody sent (id {id:#x}) at offset {p} of {} received bytes: {data:?}", data.len())
        };
        assert!(ok(msg.dir), "message {id} ({:?}) arrived on the wrong channel", msg.dir);
        assert_eq!(msg.len as usize, len, "message {id}: length field");
        assert!(!msg.received, "message {id} received twice");
        msg.received = true;
        let end = (p + len).min(data.len());
        assert!(!whole || end == p + len, "message {id} cut short: {} of {len} bytes", end - p);
        let mut q = p + 6;
        while q < end && data[q] == pat(id, q - p) {
            q += 1;
        }
        if q < end {
            assert!(
                matches!(next, Next::Boundary(b) if q % b == 0),
                "message {id}: byte {} of {len} is {:#x}, sent {:#x} ({} received bytes, {next:?})",
                q - p,
                data[q],
                pat(id, q - p),
                data.len()
            );
            p = q;
            continue;
        }
        p = end;
        if p < data.len() {
            let at_boundary = match next {
                Next::None => false,
                Next::Boundary(b) => p % b == 0,
                Next::Any => true,
            };
            assert!(at_boundary, "a further message at byte {p} of {} received bytes ({next:?})", data.len());
        }
    }
}

/// Where the bytes of a receive on a stream start (taken when its completion is reaped, in CQ
/// order, which is stream order for the one receiver in flight); `None` when unknown.
fn stream_pos(m: &mut Model, rec: &OpRec, res: i32) -> Option<u64> {
    if !rec.stream_rx || res <= 0 {
        return None;
    }
    let st = m.streams.get_mut(&rec.chan.unwrap().1).unwrap();
    if st.desync {
        return None;
    }
    let at = st.off;
    st.off += res as u64;
    assert!(st.off <= st.sent, "received {} stream bytes, {} sent", st.off, st.sent);
    Some(at)
}

/// Checks bytes the ring received on channel `(kind, inc)`; on a stream they start at `pos`.
#[track_caller]
fn rx_check(m: &mut Model, chan: (Kind, u32), data: &[u8], pos: Option<u64>, boundary: Option<usize>) {
    match chan.0 {
        Kind::Stream => {
            if let Some(at) = pos {
                for (k, &b) in data.iter().enumerate() {
                    let off = at + k as u64;
                    assert_eq!(b, spat(chan.1, off), "stream {} byte {off}: {data:?}", chan.1);
                }
            }
        }
        Kind::Seqpacket | Kind::Pipe => {
            let inc = chan.1;
            parse_msgs(
                &mut m.msgs,
                &|dir| dir == Dir::In(inc),
                data,
                boundary.map_or(Next::None, Next::Boundary),
                false,
            );
        }
    }
}

fn check(w: &mut World, bufs: &Bufs, guards: &[Guard<'_>]) {
    let m = &w.m;
    assert_eq!(w.owned.in_flight(), m.ops.len(), "in_flight()");
    for g in guards {
        assert_eq!(
            sel_bytes(&g.sel),
            g.snap,
            "a guard's bytes changed while it was held (slot {}, {:?})",
            g.slot,
            g.sel
        );
    }
    for (slot, br) in bufs.iter().enumerate() {
        let Some(br) = br else { continue };
        let bm = &m.bm[slot];
        let mine = |gen: u32| gen == bm.gen;
        let mut bids: Vec<u16> = Vec::new();
        let mut pieces: Vec<(u16, u32, u32)> = Vec::new();
        let mut bundle_bids = 0u32;
        for g in guards.iter().filter(|g| g.slot == slot && mine(g.gen)) {
            match &g.sel {
                Selection::None => {}
                Selection::Buffer(b) => bids.push(b.bid()),
                Selection::Bundle(b) => {
                    assert_eq!(b.bids().count(), b.count());
                    bundle_bids += b.count() as u32;
                    bids.extend(b.bids());
                }
                Selection::Incremental(s) => pieces.push((s.bid(), s.offset(), s.len() as u32)),
            }
        }
        let kept: Vec<&Kept> = m.kept.iter().filter(|k| k.slot == slot && mine(k.gen)).collect();
        for k in &kept {
            bids.push(k.h.bid());
            let data = br.held_data(&k.h).expect("a kept buffer's bytes");
            assert_eq!(data, &k.snap[..], "kept buffer {} of slot {slot} changed", k.h.bid());
        }
        let mut sorted = bids.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), bids.len(), "a buffer of slot {slot} held twice: {bids:?}");
        assert!(bids.iter().all(|&b| (b as u32) < bm.entries), "buffer id out of range: {bids:?}");
        pieces.sort_unstable();
        for p in pieces.windows(2) {
            assert!(p[0].0 != p[1].0 || p[0].1 + p[0].2 <= p[1].1, "incremental pieces overlap: {pieces:?}");
        }
        for p in &pieces {
            assert!(p.1 + p.2 <= bm.size, "piece past its buffer: {p:?}");
        }
        let held = if bm.send {
            bm.free + kept.len() as u32 + bundle_bids
        } else if bm.incremental {
            bm.inc_done.len() as u32
        } else {
            bids.len() as u32
        };
        assert_eq!(br.held(), held, "held() of slot {slot}");
    }
    let p = &mut w.plain;
    let ready = p.ring.cq().ready();
    let seen = ready as u64 + p.consumed;
    assert!(
        p.confirmed <= seen && seen <= p.confirmed + p.pending + p.uncertain,
        "plain ring: {} ready + {} consumed, {} posted (+{} maybe)",
        ready,
        p.consumed,
        p.confirmed,
        p.pending + p.uncertain
    );
}

/// The model's part of dropping a guard (after it left `guards`).
fn release(m: &mut Model, guards: &[Guard<'_>], g: Guard<'_>) {
    let bm = &mut m.bm[g.slot];
    if bm.gen == g.gen {
        match &g.sel {
            Selection::Bundle(b) if bm.send => bm.free += b.count() as u32,
            Selection::Incremental(s) => {
                let bid = s.bid();
                let viewed = guards.iter().any(|o| {
                    o.slot == g.slot && o.gen == g.gen && matches!(&o.sel, Selection::Incremental(x) if x.bid() == bid)
                });
                if !viewed && bm.inc_done.remove(&bid) {
                    *bm.inc_back.entry(bid).or_default() += 1;
                }
            }
            _ => {}
        }
    }
    drop(g);
}

#[track_caller]
fn invalid<T: core::fmt::Debug>(r: Result<T, Error>, what: &str) {
    match r {
        Err(Error::InvalidArgument { what: w, .. }) if w == what => {}
        other => panic!("expected InvalidArgument {{ what: {what:?} }}, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Completions

#[derive(Clone, Copy)]
struct Mode8(u8);

impl Mode8 {
    /// Try the wrong buffer ring first.
    fn wrong_first(self) -> bool {
        self.0 & 1 != 0
    }
    /// Select a second time.
    fn twice(self) -> bool {
        self.0 & 2 != 0
    }
    /// Leave a whole-buffer completion unselected (its buffer is lost to the ring).
    fn skip(self) -> bool {
        self.0 & 0x1c == 0x1c
    }
    /// Take a new fd.
    fn take_fd(self) -> bool {
        self.0 & 0x20 == 0
    }
    /// Try to take the operation as the wrong type first.
    fn wrong_type(self) -> bool {
        self.0 & 0x40 != 0
    }
    /// Keep a completion that selects buffers for later.
    fn later(self) -> bool {
        self.0 & 0x80 != 0
    }
}

/// A completion of an operation that selects buffers, kept unselected across steps (owned
/// completions do not borrow the ring), with what was known when it was reaped.
struct Later {
    c: Completion,
    rec: OpRec,
    pos: Option<u64>,
    more: bool,
    /// For a piece of an incremental ring: its buffer, and how often the buffer had gone back
    /// to the ring when the piece was reaped.
    back: Option<(u16, u32)>,
}

impl Later {
    /// Whether its buffer went back to the ring since it was reaped (the piece is stale).
    fn stale(&self, m: &Model) -> bool {
        let (Some((slot, gen)), Some((bid, n))) = (self.rec.buf, self.back) else { return false };
        let bm = &m.bm[slot];
        bm.gen == gen && bm.inc_back.get(&bid).copied().unwrap_or(0) != n
    }
}

fn handle<'b>(
    m: &mut Model,
    plain: &mut Plain,
    bufs: &'b Bufs,
    guards: &mut Vec<Guard<'b>>,
    mut c: Completion,
    mode: Mode8,
) {
    let cqe: Cqe = *c.cqe();
    let ud = cqe.user_data();
    let Some(id) = c.id() else {
        assert!(ud & OWNED == 0, "a completion with an owned user_data surfaced as raw: {cqe:?}");
        match m.raw.get_mut(&ud) {
            Some(n) if *n > 0 => *n -= 1,
            _ => panic!("a raw completion the harness did not push: {cqe:?}"),
        }
        assert!(!c.more() && c.op().is_none() && c.take_fd().is_none());
        if let Some(r) = bufs.iter().flatten().next() {
            assert!(matches!(c.select(r), Ok(Selection::None)), "a raw completion selected a buffer");
        }
        assert!(c.into_op::<owned::Nop>().is_err());
        return;
    };
    let Some(pos) = m.ops.iter().position(|(i, _)| *i == id) else {
        panic!("a completion of an operation not in flight (or completed twice): {cqe:?}")
    };
    let rec = m.ops[pos].1.clone();
    let more = c.more();
    if m.seen_ud.len() < 32 {
        m.seen_ud.push(ud);
    }
    if more {
        assert!(
            matches!(rec.kind, OpKind::RecvMultishot | OpKind::ReadMultishot | OpKind::Poll),
            "IORING_CQE_F_MORE on a single-shot operation: {rec:?} {cqe:?}"
        );
        assert!(c.op().is_none());
    } else {
        // The operation left the ring's table with this completion.
        assert!(c.op().is_some(), "a final completion without its operation: {rec:?}");
        m.ops.remove(pos);
        m.done_ids.push(id);
        if m.done_ids.len() > 16 {
            m.done_ids.remove(0);
        }
        if rec.stream_rx {
            m.streams.get_mut(&rec.chan.unwrap().1).unwrap().busy -= 1;
        }
    }
    let spos = stream_pos(m, &rec, cqe.raw_result());
    if let Some((slot, gen)) = rec.buf {
        if mode.later() && m.later.len() < 8 {
            let bm = &m.bm[slot];
            let back = match cqe.buffer_id() {
                Some(bid) if bm.incremental && bm.gen == gen => {
                    Some((bid, bm.inc_back.get(&bid).copied().unwrap_or(0)))
                }
                _ => None,
            };
            m.later.push(Later { c, rec, pos: spos, more, back });
            return;
        }
    }
    finish(m, plain, bufs, guards, c, &rec, spos, more, false, mode);
}

/// What is left to do with a completion after its bookkeeping: select its buffers, take its
/// fd, take its operation back.
#[allow(clippy::too_many_arguments)]
fn finish<'b>(
    m: &mut Model,
    plain: &mut Plain,
    bufs: &'b Bufs,
    guards: &mut Vec<Guard<'b>>,
    mut c: Completion,
    rec: &OpRec,
    spos: Option<u64>,
    more: bool,
    stale: bool,
    mode: Mode8,
) {
    let cqe: Cqe = *c.cqe();
    let res = cqe.raw_result();
    let any_ring = bufs.iter().flatten().next();
    // The provided buffer(s).
    if let Some((slot, gen)) = rec.buf {
        let alive = bufs[slot].is_some() && m.bm[slot].gen == gen;
        let other = bufs
            .iter()
            .enumerate()
            .find(|(s, b)| b.is_some() && !(alive && *s == slot))
            .map(|(_, b)| b.as_ref().unwrap());
        if mode.wrong_first() || !alive {
            if let Some(o) = other {
                invalid(c.select(o), "buffer ring");
            }
        }
        if !alive {
            // Its ring is gone: the buffer (if any) is lost. A new ring of the same group on the
            // same owned ring may have lent it.
            if cqe.buffer_id().is_some() && bufs[slot].is_some() && m.bm[slot].incremental {
                m.bm[slot].misaligned = true;
            }
        } else {
            let br = bufs[slot].as_ref().unwrap();
            let bm = &m.bm[slot];
            let must = bm.incremental || bm.send;
            if stale {
                // A piece reaped before its buffer went back to the ring: refused, never shown
                // over bytes the kernel may write again.
                invalid(c.select(br), "completion");
            } else if must || !mode.skip() {
                match c.select(br) {
                    Ok(sel) => {
                        take_selection(m, guards, slot, gen, sel, rec, res, &cqe, spos);
                        if mode.twice() {
                            let again = c.select(br);
                            if cqe.buffer_id().is_some() {
                                invalid(again, "completion");
                            } else {
                                assert!(matches!(again, Ok(Selection::None)), "{again:?}");
                            }
                        }
                    }
                    // A bundle on an incremental ring that spanned buffers (it does not fit
                    // a piece): refused, and the ring's offsets no longer follow the kernel's.
                    Err(Error::InvalidArgument { .. }) if bm.incremental && rec.bundle => m.bm[slot].misaligned = true,
                    // The ring's offsets no longer follow the kernel's (see `misaligned`): a piece
                    // may look past its buffer's end, or its buffer held.
                    Err(Error::InvalidArgument { .. }) if bm.incremental && bm.misaligned => {}
                    Err(e) => panic!("selecting a genuine completion failed: {e:?} {cqe:?} {rec:?}"),
                }
            }
        }
    } else if let Some(r) = any_ring {
        assert!(matches!(c.select(r), Ok(Selection::None)));
    }

    // New fds.
    if matches!(rec.kind, OpKind::Socket) {
        if res >= 0 {
            if mode.take_fd() {
                let fd = c.take_fd().expect("a socket's completion carries the new fd");
                let st = rustix::fs::fstat(&fd).expect("fstat of the new socket");
                assert_eq!(rustix::fs::FileType::from_raw_mode(st.st_mode), rustix::fs::FileType::Socket);
                assert!(c.take_fd().is_none(), "the new fd taken twice");
            }
        } else {
            assert!(c.take_fd().is_none());
        }
    } else {
        assert!(c.take_fd().is_none(), "an fd on a completion that creates none");
    }

    if more {
        assert!(c.into_op::<owned::RecvMultishot>().is_err());
        return;
    }
    if mode.wrong_type() {
        c = match c.into_op::<owned::Socket>() {
            Ok(_) if matches!(rec.kind, OpKind::Socket) => return,
            Ok(op) => panic!("took {op:?} as a Socket"),
            Err(c) => c,
        };
    }
    let same_file = |fd: &Fd| {
        if let Some(i) = rec.ino {
            assert_eq!(ino(fd.as_fd().expect("an ordinary fd")), i, "the operation came back with another file");
        }
    };
    match &rec.kind {
        OpKind::Nop => {
            assert_eq!(res, 0);
            let _: owned::Nop = c.into_op().expect("the Nop back");
        }
        OpKind::Read { len } | OpKind::Recv { len } => {
            let (fd, buf) = match rec.kind {
                OpKind::Read { .. } => {
                    let op: owned::Read = c.into_op().expect("the Read back");
                    (op.fd, op.buf)
                }
                _ => {
                    let op: owned::Recv = c.into_op().expect("the Recv back");
                    (op.fd, op.buf)
                }
            };
            same_file(&fd);
            assert_eq!(buf.len(), *len, "the buffer came back resized");
            let n = res.max(0) as usize;
            assert!(n <= *len);
            if res > 0 {
                rx_check(m, rec.chan.unwrap(), &buf[..n], spos, None);
            }
            assert!(buf[n..].iter().all(|&b| b == FILL), "bytes past the result were written: {buf:?}");
        }
        OpKind::RecvSelect => same_file(&c.into_op::<owned::RecvSelect>().expect("the RecvSelect back").fd),
        OpKind::RecvMultishot => same_file(&c.into_op::<owned::RecvMultishot>().expect("the RecvMultishot back").fd),
        OpKind::ReadSelect => same_file(&c.into_op::<owned::ReadSelect>().expect("the ReadSelect back").fd),
        OpKind::ReadMultishot => same_file(&c.into_op::<owned::ReadMultishot>().expect("the ReadMultishot back").fd),
        OpKind::Write { bytes } => {
            let op: owned::Write = c.into_op().expect("the Write back");
            same_file(&op.fd);
            assert_eq!(&op.buf, bytes, "a write's buffer changed");
            if res >= 0 {
                assert_eq!(res as usize, bytes.len(), "a message written in part");
            }
        }
        OpKind::SendBundle => same_file(&c.into_op::<owned::SendBundle>().expect("the SendBundle back").fd),
        OpKind::Poll => same_file(&c.into_op::<owned::PollAdd>().expect("the PollAdd back").fd),
        OpKind::MsgRing { plain_gen, key } => {
            let _: owned::MsgRing = c.into_op().expect("the MsgRing back");
            if *plain_gen == plain.gen {
                plain.pending -= 1;
                if res == 0 {
                    plain.confirmed += 1;
                } else {
                    let n = plain.posted.get_mut(key).unwrap();
                    *n -= 1;
                }
            }
        }
        OpKind::Socket => {
            let _: owned::Socket = c.into_op().expect("the Socket back");
        }
    }
}

/// A selection of a genuine completion: check it against what was sent, keep it as a guard.
#[allow(clippy::too_many_arguments)]
fn take_selection<'b>(
    m: &mut Model,
    guards: &mut Vec<Guard<'b>>,
    slot: usize,
    gen: u32,
    sel: Selection<'b>,
    rec: &OpRec,
    res: i32,
    cqe: &Cqe,
    spos: Option<u64>,
) {
    let bm = &mut m.bm[slot];
    if cqe.buffer_id().is_none() {
        assert!(matches!(sel, Selection::None), "a selection without a buffer flag: {sel:?}");
    }
    // A failed send bundle still names its first buffer (6.18: the kernel consumed every buffer
    // it had selected, the completion names one): the selection has no bytes.
    let n = res.max(0) as usize;
    match &sel {
        Selection::None => {
            assert!(res <= 0, "{res} bytes and no buffer: {cqe:?}");
            return;
        }
        Selection::Buffer(b) => {
            assert!(!bm.incremental && !bm.send && !rec.bundle, "{sel:?} {rec:?}");
            assert_eq!(b.len(), n);
        }
        Selection::Incremental(s) => {
            // A bundle on an incremental ring that stayed in one buffer is a piece too.
            assert!(bm.incremental);
            assert_eq!(s.len(), n);
            if !s.more() {
                assert!(bm.inc_done.insert(s.bid()), "last piece of buffer {} twice", s.bid());
            }
        }
        Selection::Bundle(b) => {
            assert!(rec.bundle);
            assert_eq!(b.len(), n);
            assert_eq!(b.slices().map(<[u8]>::len).sum::<usize>(), b.len());
            if bm.send {
                // The buffers queued, in ring order, with the bytes they were queued with.
                let bids: Vec<u16> = b.bids().collect();
                let start =
                    bm.queue.iter().position(|(q, _)| *q == bids[0]).expect("a sent buffer that was not queued");
                for (k, (bid, s)) in bids.iter().zip(b.slices()).enumerate() {
                    let (q, bytes) = &bm.queue[start + k];
                    assert_eq!(q, bid, "a bundle's buffers out of ring order");
                    // The last buffer may have gone out in part (a failed send: none of it).
                    assert_eq!(s, &bytes[..s.len()], "a queued buffer changed before it was sent");
                }
                bm.queue.drain(start..start + bids.len());
            }
        }
    }
    let snap = sel_bytes(&sel);
    if !bm.send && !(bm.incremental && bm.misaligned) {
        let boundary = matches!(sel, Selection::Bundle(_)).then_some(bm.size as usize);
        rx_check(m, rec.chan.unwrap(), &snap, spos, boundary);
    }
    guards.push(Guard { slot, gen, sel, snap });
}

// ---------------------------------------------------------------------------------------------
// The interpreter

enum Exit {
    End,
    DropBuf(usize),
    NewBuf(usize),
    DropOwned(Mode),
}

fn fresh_raw(m: &mut Model) -> u64 {
    m.next_raw += 1;
    0x5afe_0000_0000 + m.next_raw
}

fn aim(m: &Model, a: Aim) -> u64 {
    match a {
        Aim::Seen(i) if !m.seen_ud.is_empty() => m.seen_ud[i as usize % m.seen_ud.len()],
        Aim::Seen(i) | Aim::Guess { slot: i, gen: 0 } => OWNED | (i as u64 % 4),
        Aim::Guess { slot, gen } => OWNED | ((gen as u64 % 4) << 32) | (slot as u64 % 8),
        Aim::Raw(x) => x,
    }
}

/// A safe raw entry: `Ok` means its completion is owed.
fn push_raw(w: &mut World, sqe: &uring::SafeSqe, ud: u64) {
    match w.owned.push_safe(sqe) {
        Ok(()) => *w.m.raw.entry(ud).or_default() += 1,
        Err(Error::SubmissionQueueFull) => {}
        Err(e) => panic!("push_safe refused a valid entry: {e:?}"),
    }
}

/// Pushes an owned operation; on refusal checks the error and that the operation came back.
fn push_op<O: owned::Operation + core::fmt::Debug>(w: &mut World, op: O, rec: OpRec, back: impl FnOnce(&O)) -> bool {
    match w.owned.push(op) {
        Ok(id) => {
            assert!(!w.m.ops.iter().any(|(i, _)| *i == id), "an id in use handed out again");
            if rec.stream_rx {
                w.m.streams.get_mut(&rec.chan.unwrap().1).unwrap().busy += 1;
            }
            if let OpKind::MsgRing { key, .. } = rec.kind {
                w.plain.pending += 1;
                *w.plain.posted.entry(key).or_default() += 1;
            }
            w.m.ops.push((id, rec));
            true
        }
        Err(r) => {
            match &r.error {
                Error::SubmissionQueueFull => {}
                Error::InFlightTableFull => {}
                Error::InvalidArgument { what: "buffer ring", .. } if rec.buf.is_some() => {}
                // A bundle receive on an incremental ring is refused at push.
                Error::Unsupported { what } if rec.buf.is_some() && what.contains("incremental") => {}
                e => panic!("push refused: {e:?} for {rec:?}"),
            }
            back(&r.op);
            false
        }
    }
}

/// The receive ring slot `ring` names (0 or 1), if it exists.
fn rx_ring(bufs: &Bufs, ring: u8) -> Option<(usize, &BufRing)> {
    let slot = ring as usize % 2;
    bufs[slot].as_ref().map(|b| (slot, b))
}

/// The operations that select from a receive ring.
#[derive(Clone, Copy)]
enum Sel {
    Recv { bundle: bool },
    RecvMultishot { limit: u16 },
    Read { multishot: bool },
}

/// Pushes a `RecvSelect`, `RecvMultishot`, `ReadSelect` or `ReadMultishot`.
fn recv_select(w: &mut World, bufs: &Bufs, ch: u8, ring: u8, len: u8, sel: Sel, share: Share) {
    let ch = ch as usize % 3;
    let Some((slot, br)) = rx_ring(bufs, ring) else { return };
    let c = &w.chans[ch];
    let stream_rx = c.kind == Kind::Stream;
    if stream_rx && w.m.streams[&c.inc].busy > 0 {
        return;
    }
    let len = if len < 8 { 0 } else { len as u32 };
    let rec = OpRec {
        kind: match sel {
            Sel::Recv { .. } => OpKind::RecvSelect,
            Sel::RecvMultishot { .. } => OpKind::RecvMultishot,
            Sel::Read { multishot: false } => OpKind::ReadSelect,
            Sel::Read { multishot: true } => OpKind::ReadMultishot,
        },
        chan: Some((c.kind, c.inc)),
        ino: Some(c.ino),
        buf: Some((slot, w.m.bm[slot].gen)),
        bundle: matches!(sel, Sel::Recv { bundle: true }),
        stream_rx,
    };
    let fd = c.fd(share);
    let pushed = match sel {
        Sel::RecvMultishot { limit } => {
            let mut op = owned::RecvMultishot::new(fd, br);
            op.len = len;
            op.limit = if limit % 4 == 0 { limit as u32 / 4 } else { 0 };
            push_op(w, op, rec, |_| {})
        }
        Sel::Recv { bundle } => {
            let mut op = owned::RecvSelect::new(fd, br);
            if bundle {
                op = op.bundle();
            }
            op.len = len;
            push_op(w, op, rec, |_| {})
        }
        Sel::Read { multishot: false } => {
            let mut op = owned::ReadSelect::new(fd, br, u64::MAX);
            op.len = len;
            push_op(w, op, rec, |_| {})
        }
        Sel::Read { multishot: true } => {
            let mut op = owned::ReadMultishot::new(fd, br);
            op.len = len;
            push_op(w, op, rec, |_| {})
        }
    };
    if pushed && matches!(share, Share::OwnedThenReplace) {
        w.replace_channel(ch);
    }
}

fn step<'b>(w: &mut World, bufs: &'b Bufs, guards: &mut Vec<Guard<'b>>, a: &Action) -> Option<Exit> {
    match *a {
        Action::Send { ch, len, count } => {
            let ch = ch as usize % 3;
            let c = &w.chans[ch];
            for _ in 0..1 + count % 4 {
                match c.kind {
                    Kind::Stream => {
                        let st = w.m.streams.get_mut(&c.inc).unwrap();
                        let n = 1 + len as u64;
                        let bytes: Vec<u8> = (st.sent..st.sent + n).map(|o| spat(c.inc, o)).collect();
                        match rustix::net::send(&c.peer, &bytes, SendFlags::DONTWAIT | SendFlags::NOSIGNAL) {
                            Ok(k) => st.sent += k as u64,
                            Err(_) => break,
                        }
                    }
                    Kind::Seqpacket | Kind::Pipe => {
                        let id = w.m.next_msg;
                        let bytes = message(id, 8 + len as usize % 160);
                        let r = if c.kind == Kind::Pipe {
                            rustix::io::write(&c.peer, &bytes)
                        } else {
                            rustix::net::send(&c.peer, &bytes, SendFlags::DONTWAIT | SendFlags::NOSIGNAL)
                        };
                        match r {
                            Ok(k) => {
                                assert_eq!(k, bytes.len(), "a packet written in part");
                                w.m.next_msg += 1;
                                w.m.msgs
                                    .insert(id, Msg { dir: Dir::In(c.inc), len: bytes.len() as u16, received: false });
                            }
                            Err(_) => break,
                        }
                    }
                }
            }
        }
        Action::Drain { ch } => {
            let c = &w.chans[ch as usize % 3];
            if c.kind == Kind::Seqpacket {
                let mut buf = vec![0u8; 1 << 16];
                for _ in 0..16 {
                    match rustix::net::recv(&c.peer, &mut buf[..], RecvFlags::DONTWAIT) {
                        Ok((n, full)) => {
                            assert_eq!(n, full, "a message longer than 64 KiB");
                            if n == 0 {
                                break;
                            }
                            let inc = c.inc;
                            parse_msgs(
                                &mut w.m.msgs,
                                &|d| d == Dir::Out(inc) || d == Dir::Chunk,
                                &buf[..n],
                                Next::Any,
                                true,
                            );
                        }
                        Err(_) => break,
                    }
                }
            }
        }
        Action::Read { ch, len, share } | Action::Recv { ch, len, share } => {
            let ch = ch as usize % 3;
            let c = &w.chans[ch];
            let stream_rx = c.kind == Kind::Stream;
            if stream_rx && w.m.streams[&c.inc].busy > 0 {
                return None;
            }
            let len = 1 + len as usize;
            let is_read = matches!(a, Action::Read { .. });
            let rec = OpRec {
                kind: if is_read { OpKind::Read { len } } else { OpKind::Recv { len } },
                chan: Some((c.kind, c.inc)),
                ino: Some(c.ino),
                buf: None,
                bundle: false,
                stream_rx,
            };
            let fd = c.fd(share);
            let pushed = if is_read {
                push_op(w, owned::Read::new(fd, vec![FILL; len], 0), rec, |op| assert_eq!(op.buf, vec![FILL; len]))
            } else {
                push_op(w, owned::Recv::new(fd, vec![FILL; len]), rec, |op| assert_eq!(op.buf, vec![FILL; len]))
            };
            if pushed && matches!(share, Share::OwnedThenReplace) {
                w.replace_channel(ch);
            }
        }
        Action::RecvSelect { ch, ring, len, bundle, share } => {
            recv_select(w, bufs, ch, ring, len, Sel::Recv { bundle }, share)
        }
        Action::RecvMultishot { ch, ring, len, limit, share } => {
            recv_select(w, bufs, ch, ring, len, Sel::RecvMultishot { limit }, share)
        }
        Action::ReadSelect { ch, ring, len, multishot, share } => {
            recv_select(w, bufs, ch, ring, len, Sel::Read { multishot }, share)
        }
        Action::Write { ch, len, share } => {
            // Not on the stream channel: a write cut short would leave half a message there.
            let ch = if ch % 2 == 0 { 0 } else { 2 };
            let c = &w.chans[ch];
            let id = w.m.next_msg;
            w.m.next_msg += 1;
            let bytes = message(id, 8 + len as usize % 200);
            w.m.msgs.insert(id, Msg { dir: Dir::Out(c.inc), len: bytes.len() as u16, received: false });
            let rec = OpRec {
                kind: OpKind::Write { bytes: bytes.clone() },
                chan: Some((c.kind, c.inc)),
                ino: Some(c.ino),
                buf: None,
                bundle: false,
                stream_rx: false,
            };
            let fd = c.fd(share);
            let pushed = push_op(w, owned::Write::new(fd, bytes.clone(), 0), rec, |op| assert_eq!(op.buf, bytes));
            if pushed && matches!(share, Share::OwnedThenReplace) {
                w.replace_channel(ch);
            }
        }
        Action::SendBundle { ch, share } => {
            let Some(br) = &bufs[2] else { return None };
            let ch = if ch % 2 == 0 { 0 } else { 2 };
            let c = &w.chans[ch];
            let rec = OpRec {
                kind: OpKind::SendBundle,
                chan: Some((c.kind, c.inc)),
                ino: Some(c.ino),
                buf: Some((2, w.m.bm[2].gen)),
                bundle: true,
                stream_rx: false,
            };
            let fd = c.fd(share);
            let pushed = push_op(w, owned::SendBundle::new(fd, br), rec, |_| {});
            if pushed && matches!(share, Share::OwnedThenReplace) {
                w.replace_channel(ch);
            }
        }
        Action::PollAdd { ch, multishot, share } => {
            let ch = ch as usize % 3;
            let c = &w.chans[ch];
            let rec = OpRec {
                kind: OpKind::Poll,
                chan: Some((c.kind, c.inc)),
                ino: Some(c.ino),
                buf: None,
                bundle: false,
                stream_rx: false,
            };
            let fd = c.fd(share);
            let op = owned::PollAdd::new(fd, |t| {
                let p = op::PollAdd::new(t, PollEvents::IN);
                if multishot {
                    p.multishot()
                } else {
                    p
                }
            });
            let pushed = push_op(w, op, rec, |_| {});
            if pushed && matches!(share, Share::OwnedThenReplace) {
                w.replace_channel(ch);
            }
        }
        Action::MsgRing { ud, res, shared } => {
            let fd =
                if shared { Fd::shared(w.plain.fd.clone()) } else { Fd::from(w.plain.fd.try_clone().expect("dup")) };
            let rec = OpRec {
                kind: OpKind::MsgRing { plain_gen: w.plain.gen, key: (ud, res, 0) },
                chan: None,
                ino: None,
                buf: None,
                bundle: false,
                stream_rx: false,
            };
            push_op(w, owned::MsgRing::new(fd, |t| op::MsgRing::new(t, res, ud)), rec, |_| {});
        }
        Action::Socket => {
            let rec = OpRec { kind: OpKind::Socket, chan: None, ino: None, buf: None, bundle: false, stream_rx: false };
            push_op(w, owned::Socket::of(op::Socket::new(libc::AF_UNIX, libc::SOCK_STREAM, 0)), rec, |_| {});
        }
        Action::OwnedNop => {
            let rec = OpRec { kind: OpKind::Nop, chan: None, ino: None, buf: None, bundle: false, stream_rx: false };
            push_op(w, owned::Nop, rec, |_| {});
        }
        Action::Nop { ud } => {
            let sqe = op::Nop::new().build().user_data(ud);
            if ud & OWNED != 0 {
                invalid(w.owned.push_safe(&sqe), "user_data");
            } else {
                push_raw(w, &sqe, ud);
            }
        }
        Action::PollUpdate { aim: t, new_ud, events, multishot } => {
            let target = aim(&w.m, t);
            let mut u = op::PollUpdate::new(target);
            if events {
                u = u.events(PollEvents::IN);
            }
            if multishot {
                u = u.multishot();
            }
            if let Some(n) = new_ud {
                u = u.new_user_data(n);
            }
            let ud = fresh_raw(&mut w.m);
            let sqe = u.build().user_data(ud);
            match new_ud {
                Some(n) if n & OWNED != 0 => invalid(w.owned.push_safe(&sqe), "poll update user_data"),
                // Relabelling an owned poll with a raw user_data would take its completions away
                // from the layer (the operation would never complete): refused.
                Some(_) if target & OWNED != 0 => invalid(w.owned.push_safe(&sqe), "poll update"),
                _ => push_raw(w, &sqe, ud),
            }
        }
        Action::PollRemove { aim: t } => {
            let target = aim(&w.m, t);
            let ud = fresh_raw(&mut w.m);
            push_raw(w, &op::PollRemove::new(target).build().user_data(ud), ud);
        }
        Action::CancelRaw { aim: t } => {
            let target = aim(&w.m, t);
            let ud = fresh_raw(&mut w.m);
            push_raw(w, &op::AsyncCancel::user_data(target).build().user_data(ud), ud);
        }
        Action::Cancel { pick, stale } => {
            if stale && !w.m.done_ids.is_empty() {
                let id = w.m.done_ids[pick as usize % w.m.done_ids.len()];
                invalid(w.owned.cancel(id), "operation id");
            } else if !w.m.ops.is_empty() {
                let id = w.m.ops[pick as usize % w.m.ops.len()].0;
                match w.owned.cancel(id) {
                    Ok(()) | Err(Error::SubmissionQueueFull) => {}
                    Err(e) => panic!("cancel of an operation in flight: {e:?}"),
                }
            }
        }
        Action::SendMsgRing { ud, res, flags } => {
            let p = &mut w.plain;
            let flags = if flags & 1 == 0 { 0 } else { flags };
            if uring::register::send_msg_ring(p.fd.as_fd(), ud, res, flags).is_ok() {
                *p.posted.entry((ud, res, flags)).or_default() += 1;
                p.confirmed += 1;
            }
        }
        Action::AimAtOwned { ud } => {
            let s = w.owned.ring().submitter();
            assert!(s.fd().is_none(), "the owned ring lent its fd");
            let raw = s.raw_fd().expect("the owned ring's fd number");
            // Reopening the ring through /proc gives no ring (anonymous inodes refuse `open`);
            // if it ever did, posting into it must fail.
            if let Ok(f) = std::fs::File::open(format!("/proc/self/fd/{raw}")) {
                assert!(uring::register::send_msg_ring(&f, ud | OWNED, 0, 0).is_err(), "posted into the owned ring");
            }
        }
        Action::Submit => match w.owned.submit() {
            Ok(_) => {}
            Err(e) if matches!(e.raw_os_error(), Some(libc::EBUSY | libc::EAGAIN | libc::EINTR)) => {}
            Err(e) => panic!("submit: {e}"),
        },
        Action::Reap { how, mode } => {
            let mode = Mode8(mode);
            let World { owned, plain, m, .. } = w;
            match how {
                Reap::Next(n) => {
                    for _ in 0..1 + n % 8 {
                        let Some(c) = owned.next() else { break };
                        handle(m, plain, bufs, guards, c, mode);
                    }
                }
                Reap::WaitTimeout => match owned.wait_timeout(Duration::from_millis(1)) {
                    Ok(c) => handle(m, plain, bufs, guards, c, mode),
                    Err(e) if e.is_errno(libc::ETIME) || e.is_errno(libc::EINTR) => {}
                    Err(e) if e.is_errno(libc::EBUSY) => {}
                    Err(e) => panic!("wait_timeout: {e:?}"),
                },
                Reap::Completions => {
                    for c in owned.completions() {
                        handle(m, plain, bufs, guards, c, mode);
                    }
                }
                Reap::ForEach => {
                    // The lent completion made owned: `into_completion` carries its stamp, fd and
                    // unselected buffer over, which is what this path checks.
                    owned.for_each_completion(|c| handle(m, plain, bufs, guards, c.into_completion(), mode));
                }
            }
        }
        Action::DropGuard { pick } => {
            if !guards.is_empty() {
                let g = guards.remove(pick as usize % guards.len());
                release(&mut w.m, guards, g);
            }
        }
        Action::Keep { pick } => {
            if !guards.is_empty() {
                let i = pick as usize % guards.len();
                if matches!(guards[i].sel, Selection::Buffer(_)) {
                    let g = guards.remove(i);
                    let Selection::Buffer(b) = g.sel else { unreachable!() };
                    let (bid, len) = (b.bid(), b.len());
                    let h = b.keep();
                    assert_eq!((h.bid(), h.bgid(), h.len()), (bid, g.slot as u16, len));
                    w.m.kept.push(Kept { slot: g.slot, gen: g.gen, h, snap: g.snap });
                }
            }
        }
        Action::Scribble { pick, byte } => {
            if !guards.is_empty() {
                let i = pick as usize % guards.len();
                let g = &mut guards[i];
                match &mut g.sel {
                    Selection::Buffer(b) => {
                        b.whole_mut().fill(byte);
                        b.data_mut().fill(byte ^ 1);
                    }
                    Selection::Incremental(s) => s.data_mut().fill(byte),
                    _ => {}
                }
                g.snap = sel_bytes(&g.sel);
            }
        }
        Action::ScribbleKept { pick, byte } => {
            if !w.m.kept.is_empty() {
                let i = pick as usize % w.m.kept.len();
                let k = &mut w.m.kept[i];
                match &bufs[k.slot] {
                    Some(br) if w.m.bm[k.slot].gen == k.gen => {
                        br.held_data_mut(&mut k.h).expect("a kept buffer of this ring").fill(byte);
                        k.snap = br.held_data(&k.h).unwrap().to_vec();
                    }
                    Some(br) => invalid(br.held_data_mut(&mut k.h).map(|_| ()), "held buffer"),
                    None => {}
                }
            }
        }
        Action::RecycleHeld { pick, ring } => {
            let t = ring as usize % 3;
            if !w.m.kept.is_empty() && bufs[t].is_some() {
                let k = w.m.kept.remove(pick as usize % w.m.kept.len());
                let br = bufs[t].as_ref().unwrap();
                let mine = k.slot == t && k.gen == w.m.bm[t].gen;
                match br.recycle_held(k.h) {
                    Ok(()) => {
                        assert!(mine, "a ring took back another ring's buffer");
                        if w.m.bm[t].send {
                            w.m.bm[t].free += 1;
                        }
                    }
                    Err(r) => {
                        assert!(!mine, "a ring refused its own kept buffer: {r}");
                        assert!(matches!(r.error(), Error::InvalidArgument { what: "held buffer", .. }));
                        w.m.kept.push(Kept { h: r.into_buf(), ..k });
                    }
                }
            }
        }
        Action::RecycleKept { ring, other, picks, n } => {
            let t = ring as usize % 3;
            if let Some(br) = &bufs[t] {
                let gen = w.m.bm[t].gen;
                let mut kept: KeptBufs = br.kept_bufs(4);
                let mut mine = 0u32;
                for &p in picks.iter().take(1 + n as usize % 4) {
                    if w.m.kept.is_empty() {
                        break;
                    }
                    let k = w.m.kept.remove(p as usize % w.m.kept.len());
                    let is_mine = k.slot == t && k.gen == gen;
                    match kept.push(k.h) {
                        Ok(()) => {
                            assert!(is_mine, "a list took another ring's buffer");
                            mine += 1;
                        }
                        Err(r) => {
                            assert!(!is_mine, "a list refused its own ring's buffer: {r}");
                            assert!(matches!(r.error(), Error::InvalidArgument { what: "kept buffer", .. }));
                            w.m.kept.push(Kept { h: r.into_buf(), ..k });
                        }
                    }
                }
                assert_eq!(kept.len(), mine as usize);
                let u = other as usize % 3;
                if u != t {
                    if let Some(ob) = &bufs[u] {
                        let e = ob.recycle_kept(&mut kept).unwrap_err();
                        assert!(matches!(e, Error::InvalidArgument { what: "kept buffers", .. }));
                        assert_eq!(kept.len(), mine as usize, "a refused list is untouched");
                    }
                }
                assert_eq!(br.recycle_kept(&mut kept).unwrap(), mine as usize);
                assert!(kept.is_empty());
                if w.m.bm[t].send {
                    w.m.bm[t].free += mine;
                }
            }
        }
        Action::RecycleBatch { ring, picks, n } => {
            let t = ring as usize % 3;
            if let Some(br) = &bufs[t] {
                let mut batch = Vec::new();
                let mut meta = Vec::new();
                for &p in picks.iter().take(1 + n as usize % 4) {
                    if w.m.kept.is_empty() {
                        break;
                    }
                    let k = w.m.kept.remove(p as usize % w.m.kept.len());
                    batch.push(k.h);
                    meta.push((k.slot, k.gen, k.snap));
                }
                let gen = w.m.bm[t].gen;
                let mine = meta.iter().filter(|(s, g, _)| *s == t && *g == gen).count();
                assert_eq!(br.recycle_held_batch(&mut batch), mine, "buffers of this ring recycled");
                if w.m.bm[t].send {
                    w.m.bm[t].free += mine as u32;
                }
                let rest: Vec<_> = meta.into_iter().filter(|(s, g, _)| !(*s == t && *g == gen)).collect();
                assert_eq!(batch.len(), rest.len(), "the other rings' buffers stay");
                for (h, (slot, g, snap)) in batch.into_iter().zip(rest) {
                    assert_eq!(h.bgid(), slot as u16, "the rest stay in order");
                    w.m.kept.push(Kept { slot, gen: g, h, snap });
                }
            }
        }
        Action::TakeFree { ring, n } => {
            let t = ring as usize % 3;
            if let Some(br) = &bufs[t] {
                for _ in 0..1 + n % 4 {
                    let bm = &mut w.m.bm[t];
                    match br.take_free() {
                        Some(h) => {
                            assert!(bm.send && bm.free > 0, "take_free on a ring with no free buffer");
                            bm.free -= 1;
                            assert_eq!(h.len(), 0);
                            w.m.kept.push(Kept { slot: t, gen: bm.gen, h, snap: Vec::new() });
                        }
                        None => {
                            assert!(!bm.send || bm.free == 0, "take_free found nothing, {} free", bm.free);
                            break;
                        }
                    }
                }
            }
        }
        Action::Queue { pick, ring, len } => {
            let t = ring as usize % 3;
            if !w.m.kept.is_empty() && bufs[t].is_some() {
                let br = bufs[t].as_ref().unwrap();
                let mut k = w.m.kept.remove(pick as usize % w.m.kept.len());
                let gen = w.m.bm[t].gen;
                let mine = k.slot == t && k.gen == gen;
                let size = br.buf_size();
                let qlen = match len {
                    0 => 0,
                    255 => size + 1,
                    l => 8 + l as u32 % (size - 7),
                };
                let id = w.m.next_msg;
                if mine && (8..=size).contains(&qlen) {
                    let bytes = message(id, qlen as usize);
                    br.held_data_mut(&mut k.h).expect("a held token of this ring")[..qlen as usize]
                        .copy_from_slice(&bytes);
                    let bid = k.h.bid();
                    let r = br.queue(k.h, qlen);
                    if w.m.bm[t].send {
                        r.expect("queueing a held buffer of a send ring");
                        w.m.next_msg += 1;
                        w.m.msgs.insert(id, Msg { dir: Dir::Chunk, len: qlen as u16, received: false });
                        w.m.bm[t].queue.push_back((bid, bytes));
                    } else {
                        let r = r.unwrap_err();
                        assert!(matches!(r.error(), Error::InvalidArgument { what: "queue", .. }), "{r}");
                        let h = r.into_buf();
                        // The scribble is the kept buffer's new content.
                        let snap = br.held_data(&h).unwrap().to_vec();
                        w.m.kept.push(Kept { h, snap, ..k });
                    }
                } else {
                    let r = br.queue(k.h, qlen).expect_err("an invalid queue");
                    assert!(matches!(r.error(), Error::InvalidArgument { .. }), "{r}");
                    w.m.kept.push(Kept { h: r.into_buf(), ..k });
                }
            }
        }
        Action::SelectLater { pick, mode } => {
            if !w.m.later.is_empty() {
                let World { plain, m, .. } = w;
                let l = m.later.remove(pick as usize % m.later.len());
                let stale = l.stale(m);
                finish(m, plain, bufs, guards, l.c, &l.rec, l.pos, l.more, stale, Mode8(mode & 0x7f));
            }
        }
        Action::DropBufRing { ring } => return Some(Exit::DropBuf(ring as usize % 3)),
        Action::NewBufRing { ring } => return Some(Exit::NewBuf(ring as usize % 3)),
        Action::DropOwnedRing { mode } => return Some(Exit::DropOwned(mode)),
        Action::ReplaceChannel { ch } => w.replace_channel(ch as usize % 3),
        Action::ReplacePlain => {
            let gen = w.plain.gen + 1;
            w.plain = Plain::new(gen);
        }
        Action::PlainAdvance { n } => {
            let n = n as u32;
            let cq = w.plain.ring.cq();
            let ready = cq.ready();
            let r = cq.advance(n);
            if n > ready {
                invalid(r, "completion queue advance");
                assert_eq!(cq.ready(), ready);
            } else {
                r.expect("advancing over ready completions");
                assert_eq!(cq.ready(), ready - n);
                w.plain.consumed += n as u64;
            }
        }
        Action::PlainPop { n } => {
            for _ in 0..n % 8 {
                let Some(c) = w.plain.ring.cq().pop() else { break };
                let key = (c.user_data(), c.raw_result(), c.raw_flags());
                match w.plain.posted.get_mut(&key) {
                    Some(k) if *k > 0 => *k -= 1,
                    _ => {
                        panic!("the plain ring returned a completion nobody posted (or one it returned before): {c:?}")
                    }
                }
                w.plain.consumed += 1;
            }
        }
    }
    None
}

/// One stretch of actions with a fixed set of buffer rings (guards borrow them); ends at the end
/// of the input or at an action that drops or replaces a buffer ring or the owned ring. Every
/// guard is dropped or kept before it returns.
fn epoch<'a>(w: &mut World, bufs: &Bufs, it: &mut impl Iterator<Item = &'a Action>) -> Exit {
    let mut guards: Vec<Guard<'_>> = Vec::new();
    check(w, bufs, &guards);
    let exit = loop {
        let Some(a) = it.next() else { break Exit::End };
        if trace() {
            eprintln!("{a:?}");
        }
        let exit = step(w, bufs, &mut guards, a);
        if trace() {
            eprintln!(
                "  -> in flight {}, guards {:?}, kept {:?}",
                w.m.ops.len(),
                guards.iter().map(|g| (g.slot, g.sel.bid(), g.sel.len())).collect::<Vec<_>>(),
                w.m.kept.iter().map(|k| (k.slot, k.h.bid())).collect::<Vec<_>>()
            );
        }
        check(w, bufs, &guards);
        if let Some(e) = exit {
            break e;
        }
    };
    // Keep every other whole buffer past the epoch; drop the rest in reverse order.
    let mut k = 0;
    while let Some(g) = guards.pop() {
        k += 1;
        if k % 2 == 0 && matches!(g.sel, Selection::Buffer(_)) {
            let Selection::Buffer(b) = g.sel else { unreachable!() };
            w.m.kept.push(Kept { slot: g.slot, gen: g.gen, h: b.keep(), snap: g.snap });
        } else {
            release(&mut w.m, &guards, g);
        }
        check(w, bufs, &guards);
    }
    exit
}

/// `SAFE_API_TRACE=1`: print each action and the harness's view after it.
fn trace() -> bool {
    static T: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *T.get_or_init(|| std::env::var_os("SAFE_API_TRACE").is_some())
}

fn run(input: &Input) {
    let cfg = &input.cfg;
    if trace() {
        eprintln!("{cfg:?}");
    }
    let mut w = World::new(cfg);
    let mut bufs: Bufs = [None, None, None];
    for slot in 0..3 {
        if cfg.bufs[slot].present {
            w.build_buf(&mut bufs, slot, &cfg.bufs[slot]);
        }
    }
    let mut it = input.actions.iter().take(MAX_ACTIONS);
    loop {
        match epoch(&mut w, &bufs, &mut it) {
            Exit::End => break,
            Exit::DropBuf(slot) => {
                bufs[slot] = None;
                w.m.bm[slot].alive = false;
            }
            Exit::NewBuf(slot) => w.build_buf(&mut bufs, slot, &cfg.bufs[slot]),
            Exit::DropOwned(mode) => w.drop_owned(mode, cfg.entries_log2),
        }
    }
    // Kept buffers are dropped (lost to their rings), then the rings in the chosen order.
    w.m.kept.clear();
    let in_flight: Vec<_> = w.m.ops.iter().map(|(_, r)| (r.kind.clone(), r.chan)).collect();
    let World { owned, plain, chans, .. } = w;
    let (ring, pools) = if cfg.ring_first {
        (timed_drop(owned), timed_drop(bufs))
    } else {
        let pools = timed_drop(bufs);
        (timed_drop(owned), pools)
    };
    assert!(
        ring + pools < Duration::from_millis(1500),
        "dropping the owned ring took {ring:?}, its buffer rings {pools:?}: an operation never completed \
         (in flight: {in_flight:?})"
    );
    drop(plain);
    drop(chans);
}

fn fds() -> Vec<(std::ffi::OsString, std::path::PathBuf)> {
    let mut v: Vec<_> = std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd")
        .map(|e| {
            let e = e.unwrap();
            (e.file_name(), std::fs::read_link(e.path()).unwrap_or_default())
        })
        .collect();
    v.sort();
    v
}

fuzz_target!(|input: Input| {
    // Every fd an input opens is closed by its end (also those of operations in flight when a
    // ring was dropped): long runs must not run out of fds.
    let before = fds();
    run(&input);
    let after = fds();
    assert!(after.len() <= before.len(), "fds leaked by this input: before {before:?}, after {after:?}");
});
