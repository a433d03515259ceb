#!/usr/bin/env python3
"""Writes the hand-made seeds of the `safe_api` target into corpus/safe_api/.

Each seed is encoded the way `arbitrary` 1.x decodes `Input` (see fuzz_targets/safe_api.rs):
integers little-endian, `bool` one byte (bit 0), `Option` a bool then the value, an enum a u32
`x` selecting variant `(x * count) >> 32`, and the action list (the last field) one
continue-byte (1) before each element. Keep the variant lists below in the order of the enums.

    python3 seeds/safe_api.py        # from fuzz/
"""
import hashlib
import os
import struct

MODE = ["Default", "DeferTaskrun", "CoopTaskrun"]
SHARE = ["Shared", "Owned", "OwnedThenReplace"]
AIM = ["Seen", "Guess", "Raw"]
REAP = ["Next", "WaitTimeout", "Completions", "ForEach"]
# (name, [(field, type)]) in declaration order.
ACTIONS = [
    ("Send", [("ch", "u8"), ("len", "u8"), ("count", "u8")]),
    ("Drain", [("ch", "u8")]),
    ("Read", [("ch", "u8"), ("len", "u8"), ("share", "share")]),
    ("Recv", [("ch", "u8"), ("len", "u8"), ("share", "share")]),
    ("RecvSelect", [("ch", "u8"), ("ring", "u8"), ("len", "u8"), ("bundle", "bool"), ("share", "share")]),
    ("RecvMultishot", [("ch", "u8"), ("ring", "u8"), ("len", "u8"), ("limit", "u16"), ("share", "share")]),
    ("Write", [("ch", "u8"), ("len", "u8"), ("share", "share")]),
    ("SendBundle", [("ch", "u8"), ("share", "share")]),
    ("PollAdd", [("ch", "u8"), ("multishot", "bool"), ("share", "share")]),
    ("MsgRing", [("ud", "u64"), ("res", "i32"), ("shared", "bool")]),
    ("Socket", []),
    ("OwnedNop", []),
    ("Nop", [("ud", "u64")]),
    ("PollUpdate", [("aim", "aim"), ("new_ud", "opt_u64"), ("events", "bool"), ("multishot", "bool")]),
    ("PollRemove", [("aim", "aim")]),
    ("CancelRaw", [("aim", "aim")]),
    ("Cancel", [("pick", "u8"), ("stale", "bool")]),
    ("SendMsgRing", [("ud", "u64"), ("res", "i32"), ("flags", "u32")]),
    ("AimAtOwned", [("ud", "u64")]),
    ("Submit", []),
    ("Reap", [("how", "reap"), ("mode", "u8")]),
    ("DropGuard", [("pick", "u8")]),
    ("Keep", [("pick", "u8")]),
    ("Scribble", [("pick", "u8"), ("byte", "u8")]),
    ("ScribbleKept", [("pick", "u8"), ("byte", "u8")]),
    ("RecycleHeld", [("pick", "u8"), ("ring", "u8")]),
    ("RecycleBatch", [("ring", "u8"), ("picks", "u8x4"), ("n", "u8")]),
    ("TakeFree", [("ring", "u8"), ("n", "u8")]),
    ("Queue", [("pick", "u8"), ("ring", "u8"), ("len", "u8")]),
    ("DropBufRing", [("ring", "u8")]),
    ("NewBufRing", [("ring", "u8")]),
    ("DropOwnedRing", [("mode", "mode")]),
    ("ReplaceChannel", [("ch", "u8")]),
    ("ReplacePlain", []),
    ("PlainAdvance", [("n", "u16")]),
    ("PlainPop", [("n", "u8")]),
    ("ReadSelect", [("ch", "u8"), ("ring", "u8"), ("len", "u8"), ("multishot", "bool"), ("share", "share")]),
    ("SelectLater", [("pick", "u8"), ("mode", "u8")]),
]


def tag(i, n):
    x = ((i << 32) + n - 1) // n
    assert (x * n) >> 32 == i
    return struct.pack("<I", x)


def enc(ty, v):
    if ty == "u8":
        return struct.pack("<B", v)
    if ty == "u16":
        return struct.pack("<H", v)
    if ty == "u32":
        return struct.pack("<I", v)
    if ty == "u64":
        return struct.pack("<Q", v)
    if ty == "i32":
        return struct.pack("<i", v)
    if ty == "bool":
        return bytes([1 if v else 0])
    if ty == "u8x4":
        return bytes(v)
    if ty == "opt_u64":
        return b"\x00" if v is None else b"\x01" + struct.pack("<Q", v)
    if ty == "share":
        return tag(SHARE.index(v), len(SHARE))
    if ty == "mode":
        return tag(MODE.index(v), len(MODE))
    if ty == "reap":
        name, *arg = v if isinstance(v, tuple) else (v,)
        return tag(REAP.index(name), len(REAP)) + (enc("u8", arg[0]) if name == "Next" else b"")
    if ty == "aim":
        name, *arg = v
        out = tag(AIM.index(name), len(AIM))
        if name == "Seen":
            out += enc("u8", arg[0])
        elif name == "Guess":
            out += enc("u8", arg[0]) + enc("u8", arg[1])
        else:
            out += enc("u64", arg[0])
        return out
    raise ValueError(ty)


def action(name, **kw):
    names = [a[0] for a in ACTIONS]
    i = names.index(name)
    out = tag(i, len(ACTIONS))
    for field, ty in ACTIONS[i][1]:
        out += enc(ty, kw.get(field, 0 if ty not in ("share", "bool", "opt_u64", "u8x4") else
                           {"share": "Shared", "bool": False, "opt_u64": None, "u8x4": [0, 0, 0, 0]}[ty]))
    return out


def buf(present=False, entries_log2=3, size=7, incremental=False, kernel_mapped=False):
    return enc("bool", present) + enc("u8", entries_log2) + enc("u8", size) + enc("bool", incremental) + enc(
        "bool", kernel_mapped)


def seed(actions, entries_log2=2, mode="Default", bufs=(), ring_first=False):
    bufs = list(bufs) + [buf()] * (3 - len(bufs))
    out = enc("u8", entries_log2) + enc("mode", mode) + b"".join(bufs) + enc("bool", ring_first)
    for a in actions:
        out += b"\x01" + a
    return out


SEEDS = {
    # A multishot receive of three messages on the seqpacket channel, selected, kept, recycled.
    "multishot-recv-3-select": seed(
        [
            action("RecvMultishot", ch=0, ring=0, limit=1),
            action("Submit"),
            action("Send", ch=0, len=20, count=2),
            action("Reap", how="ForEach", mode=3),
            action("Keep", pick=0),
            action("Reap", how="WaitTimeout", mode=0),
            action("DropGuard", pick=1),
            action("RecycleHeld", pick=0, ring=1),
            action("RecycleHeld", pick=0, ring=0),
            action("Send", ch=0, len=50, count=0),
            action("Reap", how="Completions", mode=2),
            action("Cancel", pick=0),
            action("Reap", how="WaitTimeout"),
            action("Reap", how=("Next", 4)),
        ],
        bufs=[buf(True, 2, 7)],
    ),
    # Poll updates on an owned poll: a new user_data with bit 63 (refused) and a raw one.
    "poll-update-bit63": seed(
        [
            action("PollAdd", ch=1, multishot=False),
            action("Submit"),
            action("PollUpdate", aim=("Guess", 0, 0), new_ud=(1 << 63) | 5, events=True),
            action("PollUpdate", aim=("Guess", 0, 0), new_ud=77),
            action("Submit"),
            action("Send", ch=1, len=3),
            action("Reap", how="WaitTimeout"),
            action("Reap", how="WaitTimeout"),
            action("Reap", how="WaitTimeout"),
        ],
    ),
    # Reads and receives in flight when the owned ring is dropped; a new ring reads on.
    "drop-ring-mid-read": seed(
        [
            action("Read", ch=2, len=100, share="Owned"),
            action("Recv", ch=1, len=100, share="Shared"),
            action("RecvSelect", ch=0, ring=0),
            action("Submit"),
            action("Send", ch=2, len=30, count=1),
            action("DropOwnedRing", mode="DeferTaskrun"),
            action("Read", ch=2, len=200),
            action("RecvSelect", ch=0, ring=0),
            action("NewBufRing", ring=0),
            action("RecvSelect", ch=0, ring=0),
            action("Send", ch=0, len=40, count=1),
            action("Reap", how="WaitTimeout", mode=1),
            action("Reap", how="WaitTimeout"),
            action("Reap", how="WaitTimeout"),
        ],
        bufs=[buf(True, 2, 7)],
    ),
    # A send ring: take free buffers, fill and queue them, send a bundle, read it back.
    "send-bundle": seed(
        [
            action("TakeFree", ring=2, n=3),
            action("Queue", pick=0, ring=2, len=20),
            action("Queue", pick=0, ring=2, len=0),
            action("Queue", pick=0, ring=2, len=30),
            action("Queue", pick=0, ring=0, len=30),
            action("SendBundle", ch=0),
            action("Reap", how="WaitTimeout"),
            action("Drain", ch=0),
            action("DropGuard", pick=0),
            action("Write", ch=0, len=50),
            action("Reap", how="WaitTimeout"),
            action("Drain", ch=0),
        ],
        bufs=[buf(True, 2, 7), buf(), buf(True, 2, 7)],
    ),
    # Completions posted to the plain ring (owned MsgRing, send_msg_ring), popped, advanced;
    # the owned ring cannot be aimed at.
    "msg-ring-plain": seed(
        [
            action("MsgRing", ud=(1 << 63) | 1, res=5, shared=True),
            action("MsgRing", ud=9, res=-1),
            action("SendMsgRing", ud=1 << 63, res=0, flags=1),
            action("AimAtOwned", ud=0),
            action("Submit"),
            action("PlainPop", n=1),
            action("Reap", how="Completions"),
            action("PlainAdvance", n=100),
            action("PlainAdvance", n=1),
            action("PlainPop", n=5),
            action("ReplacePlain"),
            action("Nop", ud=1 << 63),
            action("Nop", ud=3),
            action("Socket"),
            action("OwnedNop"),
            action("Reap", how="ForEach", mode=0x40),
        ],
    ),
    # Incremental ring on the stream channel: pieces of one buffer, kept across steps.
    "incremental-stream": seed(
        [
            action("RecvMultishot", ch=1, ring=1, limit=1),
            action("Submit"),
            action("Send", ch=1, len=10, count=0),
            action("Reap", how="WaitTimeout"),
            action("Send", ch=1, len=30, count=0),
            action("Reap", how="WaitTimeout"),
            action("Scribble", pick=0, byte=7),
            action("DropGuard", pick=1),
            action("Send", ch=1, len=200, count=3),
            action("Reap", how="Completions"),
            action("DropGuard", pick=0),
            action("DropGuard", pick=0),
            action("Cancel", pick=0),
            action("Reap", how="WaitTimeout"),
        ],
        bufs=[buf(), buf(True, 1, 3, incremental=True)],
    ),
    # The harness drops its ends right after the push: the numbers are reused by the new
    # channel, whose messages must not reach the old operation.
    "fd-reuse-after-push": seed(
        [
            action("Read", ch=0, len=100, share="OwnedThenReplace"),
            action("Send", ch=0, len=10, count=1),
            action("ReadSelect", ch=2, ring=0, multishot=True, share="OwnedThenReplace"),
            action("Send", ch=2, len=10, count=1),
            action("PollAdd", ch=2, multishot=True, share="OwnedThenReplace"),
            action("Send", ch=2, len=10, count=1),
            action("Submit"),
            action("Reap", how="WaitTimeout"),
            action("Read", ch=0, len=100),
            action("Reap", how="WaitTimeout"),
            action("Reap", how="WaitTimeout"),
            action("Cancel", pick=0),
            action("Reap", how="WaitTimeout"),
        ],
        bufs=[buf(True, 2, 7)],
    ),
    # A bundle receive on the stream channel over small buffers, and a buffer ring dropped
    # while a multishot receive selects from it.
    "bundle-stream-drop-bufring": seed(
        [
            action("Send", ch=1, len=200, count=1),
            action("RecvSelect", ch=1, ring=0, bundle=True),
            action("Reap", how="WaitTimeout", mode=3),
            action("Keep", pick=0),
            action("RecvMultishot", ch=0, ring=0, limit=1),
            action("Submit"),
            action("DropBufRing", ring=0),
            action("Send", ch=0, len=20, count=1),
            action("Reap", how="WaitTimeout", mode=1),
            action("NewBufRing", ring=0),
            action("RecycleBatch", ring=0, picks=[0, 0, 0, 0], n=3),
            action("Send", ch=0, len=20, count=1),
            action("Reap", how="WaitTimeout"),
        ],
        bufs=[buf(True, 3, 1)],
    ),
    # Completions kept unselected across steps (they own their data): selected out of order,
    # after more reaping, after the owned ring is dropped; incremental pieces kept and selected
    # later.
    "later-after-ring-drop": seed(
        [
            action("RecvMultishot", ch=0, ring=0, limit=1),
            action("RecvMultishot", ch=1, ring=1, limit=1),
            action("Submit"),
            action("Send", ch=0, len=20, count=2),
            action("Send", ch=1, len=10, count=0),
            action("Reap", how="ForEach", mode=0x80),
            action("Send", ch=1, len=20, count=0),
            action("Reap", how="ForEach", mode=0x80),
            action("SelectLater", pick=2, mode=3),
            action("SelectLater", pick=4, mode=0),
            action("DropOwnedRing", mode="CoopTaskrun"),
            action("SelectLater", pick=0, mode=2),
            action("SelectLater", pick=0, mode=0),
            action("SelectLater", pick=0, mode=1),
            action("Keep", pick=0),
            action("DropGuard", pick=1),
        ],
        bufs=[buf(True, 2, 7), buf(True, 1, 3, incremental=True)],
    ),
    # Incremental pieces kept and selected late: out of order (each at its own offset), and one
    # whose buffer went back to the ring since (refused).
    "incremental-late-stale": seed(
        [
            action("RecvMultishot", ch=1, ring=1, limit=1),
            action("Submit"),
            action("Send", ch=1, len=9, count=0),
            action("Reap", how="WaitTimeout", mode=0x80),
            action("Send", ch=1, len=19, count=0),
            action("Reap", how="WaitTimeout", mode=0x80),
            action("Send", ch=1, len=41, count=0),
            action("Reap", how="WaitTimeout", mode=0x80),
            action("SelectLater", pick=2),
            action("SelectLater", pick=0),
            action("SelectLater", pick=0),
            action("DropGuard", pick=1),
            action("DropGuard", pick=0),
            action("DropGuard", pick=0),
            action("Send", ch=1, len=9, count=0),
            action("Reap", how="WaitTimeout", mode=0x80),
            action("Send", ch=1, len=61, count=0),
            action("Reap", how="WaitTimeout"),
            action("DropGuard", pick=0),
            action("SelectLater", pick=0),
            action("Send", ch=1, len=30, count=0),
            action("Reap", how="WaitTimeout"),
        ],
        bufs=[buf(), buf(True, 0, 0, incremental=True)],
    ),
}

if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    out = os.path.join(here, "..", "corpus", "safe_api")
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        path = os.path.join(out, name)
        with open(path, "wb") as f:
            f.write(data)
        print(name, len(data), hashlib.sha1(data).hexdigest()[:8])
