#!/usr/bin/env python3
"""Write the seed corpora of the fuzz targets into test/fuzz/seeds/<target>/.

Each seed is a small input in the byte format its harness reads (first
byte: mode; integers big-endian; see the LLVMFuzzerTestOneInput of each
fuzz_*.c).  Valid sequence numbers and genuine tokens are computed here from
the layouts described in src/seqnum.c and src/iterator.c, with the keys the
harnesses install as kinesis.secrets.  Deterministic: running it again
rewrites the same files.

    python3 test/fuzz/gen_seeds.py [outdir]
"""

import base64
import hashlib
import hmac
import os
import shutil
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "seeds")

MASK36 = (1 << 36) - 1
TTL = 300_000 * 1000            # iterator lifetime, microseconds
PG_EPOCH_UNIX = 946_684_800     # 2000-01-01 in Unix seconds


def u8(v):
    return struct.pack(">B", v & 0xFF)


def u16(v):
    return struct.pack(">H", v & 0xFFFF)


def u32(v):
    return struct.pack(">I", v & 0xFFFFFFFF)


def u64(v):
    return struct.pack(">Q", v & 0xFFFFFFFFFFFFFFFF)


def seqnum(shard_epoch, shard_index, counter, seq_epoch):
    """The decimal sequence number of the 47-hex-digit layout."""
    digits = ("2" + "%09x" % (shard_epoch & MASK36) + "%x" % (shard_index & 0xF)
              + "%016x" % (counter & 0xFFFFFFFFFFFFFFFF) + "00"
              + "%09x" % (seq_epoch & MASK36) + "%08x" % (shard_index & 0xFFFFFFFF) + "2")
    assert len(digits) == 47
    return str(int(digits, 16))


def token(key, kind, payload):
    raw = bytes([kind]) + payload
    return base64.b64encode(raw + hmac.new(key, raw, hashlib.sha256).digest()[:16]).decode()


ITERATOR_KEY = bytes((0x9E + 37 * i) & 0xFF for i in range(32))   # fuzz_iterator.c
TOKEN_KEY = bytes((0x3C ^ (29 * i)) & 0xFF for i in range(32))     # fuzz_token.c


def iterator_payload(stream_id, shard_index, position, min_arrival, created, nonce,
                     bucket_hint, name):
    return (u32(stream_id) + u32(shard_index) + u64(position) + u64(min_arrival)
            + u64(created) + u32(nonce) + u32(bucket_hint) + name)


def seeds():
    s = {}

    # ---- fuzz_seqnum: mode = byte % 5 ----
    e, t = 1_700_000_000, 1_700_000_123
    valid = [seqnum(e, 0, 0, t), seqnum(e, 3, 1, t), seqnum(e, 17, (1 << 63) - 1, t),
             seqnum(0, 0, 0, 0), seqnum(MASK36, 0x7FFFFFFF, 12345, MASK36)]
    s["fuzz_seqnum"] = (
        [u8(0) + v.encode() for v in valid]
        + [u8(0) + b"0", u8(0) + b"000" + valid[1].encode(), u8(0) + b"9" * 129,
           u8(0) + valid[0][:-1].encode() + b"x", u8(0) + seqnum(e, -1, 5, t).encode()]
        + [u8(1) + u64(e) + u32(7) + u64(42) + u64(t) + u8(0),
           u8(1) + u64(e) + u32(7) + u64(42) + u64(t) + u8(3) + b"\x00\x05\x07\x02\x00\x00\x03\x00\x40"]
        + [u8(2) + u64(e) + u32(2) + u64(99) + u64(t),
           u8(2) + u64(-1) + u32(-1) + u64(-1) + u64(-1),
           u8(3) + u64(e) + u32(1) + u64(5) + u64(t) + u64(6) + u64(0),
           u8(4) + u64(e) + u32(1) + u64(0) + u64(t) + b"\x00" * 16 + b"\x06\x05" + b"\x00" * 8,
           u8(4) + u64(e) + u32(1) + u64((1 << 63) - 3) + u64(t) + b"\x00\x01\x02\x03\x04"]
    )

    # ---- fuzz_hashkey: mode = byte % 4 ----
    max128 = str((1 << 128) - 1)
    s["fuzz_hashkey"] = (
        [u8(0) + x.encode() for x in
         ["0", "1", max128, str(1 << 128), "0" * 39, "0" * 40, "0" + max128, "12a"]]
        + [u8(1) + bytes(16), u8(1) + b"\xff" * 16, u8(1) + (10 ** 38).to_bytes(16, "big")]
        + [u8(2) + b"k" * n for n in (0, 1, 55, 56, 63, 64, 65, 119, 128)]
        + [u8(2) + "ключ-🔑".encode(), u8(3) + u8(38) + u8(0), u8(3) + u8(0x80 | 127) + u8(1)]
    )

    # ---- fuzz_shardid: mode = byte % 3 ----
    s["fuzz_shardid"] = (
        [u8(0) + x.encode() for x in
         ["shardId-000000000000", "shardId-0", "shard-0", "x-000000000000", "shardId-2147483647",
          "shardId-2147483648", "shardId-" + "0" * 19 + "1", "shardId-" + "0" * 20 + "1",
          "shardId-12-34", "-7", "shardId-", "shardId--1", "shardId000000000001"]]
        + [u8(1) + u32(0), u8(1) + u32(0x7FFFFFFF), u8(1) + u32(-1), u8(1) + u32(-(1 << 31))]
        + [u8(2) + b"shardId\x00" + u8(12) + u64(42) + b"rest\x00" + u8(3)]
    )

    # ---- fuzz_validate: mode = byte % 3 ----
    s["fuzz_validate"] = (
        [u8(0) + u8(38) + x.encode() for x in
         ["orders", "a.b-c_d", "", "bad name", "0", "01", "1" + "0" * 38, "1" + "0" * 39, "%s%n"]]
        # two string checks, an int and a blob
        + [u8(1) + u8(4)
           + u8(0) + u8(0) + u8(0) + u8(1) + u8(2) + u8(129) + b"bad name!\x00"
           + u8(0) + u8(3) + u8(1) + u8(2) + u8(1) + u8(40) + b"0123\x00"
           + u8(1) + u8(5) + u8(0) + u64(10001) + u32(1) + u32(10000)
           + u8(2) + u8(6) + u8(0) + u32(1025) + u32(1024)]
        # eleven failures: only ten are reported
        + [u8(1) + u8(11) + (u8(0) + u8(7) + u8(1) + u8(1) + u8(1) + u8(0) + b"%d %s\x00") * 11]
        + [u8(2) + u8(i) + u8(1) + b"message with 100% literal %s\x00tail" for i in range(18)]
        + [u8(2) + u8(5) + u8(200) + b"x" * 3000]
    )

    # ---- fuzz_iterator: mode = byte % 4, then a random seed byte and the clock ----
    now_raw = 757_382_400 * 10 ** 6                 # 2024-01-01 as microseconds since 2000
    now = now_raw % (1 << 54) + TTL                 # what the harness sets shim_now to
    head = lambda mode: u8(mode) + u8(1) + u64(now_raw)
    genuine = token(ITERATOR_KEY, ord("I"),
                    iterator_payload(7, 3, 100, 0, now - 1_000_000, 1234, 5, b"orders"))
    expired = token(ITERATOR_KEY, ord("I"),
                    iterator_payload(7, 3, 100, 0, now - TTL - 1, 1234, 5, b"orders"))
    s["fuzz_iterator"] = (
        [head(0) + genuine.encode(), head(0) + b'"' + genuine.encode() + b'"',
         head(0) + expired.encode(), head(0) + genuine[:-4].encode(), head(0) + b"AAAA"]
        # forged: flags, name length, fields, created selector...
        + [head(1) + u8(f) + u8(n) + u32(1) + u32(2) + u64(3) + u64(0) + u8(sel) + u64(77)
           + u32(9) + u32(10) + b"\x01" * n + b"\x05\x09\x00\x00\x00\x00\x00\x00\x00\x00"
           for f, n, sel in [(0, 6, 0), (0, 128, 1), (0, 129, 2), (0, 0, 3), (16, 6, 4), (4, 6, 0),
                             (8, 6, 0), (32, 6, 0), (1, 6, 5), (64, 6, 6)]]
        + [head(2) + u8(f) + u8(5) + u32(1) + u32(2) + u64(3) + u64(4) + u64(5) + u32(6) + b"orders"
           + u8(4) + b"\x00\x10\x01\x20\x02\x05\x01\x00" for f in (0, 1)]
        + [head(3) + u8(0) + u32(1) + bytes(range(32)), head(3) + u8(1) + u32(1),
           head(3) + u8(3) + u32(1), head(3) + u8(5) + u32(1) + u8(16)]
    )

    # ---- fuzz_token: mode = byte % 3 ----
    page = b'{"o":"ListShards","i":1,"n":"orders","a":3,"t":1704067200000}'
    s["fuzz_token"] = (
        [u8(0) + b"L" + token(TOKEN_KEY, ord("L"), page).encode(),
         u8(0) + b"C" + token(TOKEN_KEY, ord("C"), b'{"o":"ListStreamConsumers"}').encode(),
         u8(0) + b"L" + b'"' + token(TOKEN_KEY, ord("L"), page).encode() + b'"',
         u8(0) + b"C" + token(TOKEN_KEY, ord("L"), page).encode(),
         u8(0) + b"I" + b"AAAA", u8(0) + b"L" + b"A" * 1028]
        + [u8(1) + u8(f) + b"L" + (b"C" if f & 1 else b"") + (u16(n) if f & 2 else u8(n)) + b"p" * n
           + b"\x03\x07\x00\x05\x41"
           for f, n in [(0, 10), (1, 10), (2, 751), (2, 752), (4, 10), (8, 10), (16, 10), (0, 0)]]
        + [u8(2) + b"L" + u8(0) + u8(len(page)) + page + b"C" + u8(3) + b"\x00\x00\x07\x41"
           + b"\x01\x00\x03\x00" + b"\x02\x00\x00\x3d",
           u8(2) + b"C" + u8(1) + u16(900) + b"z" * 900 + b"L" + u8(0),
           u8(2) + b"I" + u8(0) + u8(1) + b"x"]
    )
    return s


def main():
    for target, inputs in seeds().items():
        d = os.path.join(OUT, target)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        for i, data in enumerate(inputs):
            with open(os.path.join(d, "seed-%02d" % i), "wb") as f:
                f.write(data)
        print("%-14s %2d seeds" % (target, len(inputs)))


if __name__ == "__main__":
    main()
