#!/usr/bin/python3
"""Cross-check of gateway/cbor.c against Python's cbor2 and json.

    /usr/bin/python3 cbor_cross.py [./cbor_tool] [--count N] [--seed S]

Needs Debian's python3-cbor2 (apt-get install python3-cbor2; hence
/usr/bin/python3 rather than a python3 from elsewhere on PATH) and
cbor_tool, built from cbor_tool.c (make -C gateway/test cbor_tool).

For N random Kinesis-shaped documents (requests and responses with blobs
under "Data", tag 1 millisecond timestamps under the timestamp members,
integers of every width, floats, strings with escapes and non-ASCII text,
nesting):

  1. CBOR -> JSON: the document is encoded by cbor2 (definite lengths;
     sometimes canonical, i.e. half/single floats) or by the independent
     encoder below (indefinite maps and arrays, chunked strings,
     non-shortest integer heads, ignored tags); cbor_tool -c2j must give
     JSON whose value is the expected one (bytes as base64, timestamps as
     exact decimal seconds, compared as Decimal);
  2. JSON -> CBOR: the expected JSON, written here, goes through
     cbor_tool -j2c; cbor2 must decode it to the document (Data as bytes,
     timestamps as tag 1 holding integer ms), with indefinite-length maps;
  3. the JSON of step 1 must come back byte-identical through -j2c, -c2j;
  4. every proper prefix of the CBOR of step 1 must be refused (exit 1).

Prints one line per failure and "N passed, N failed" at the end; exits 1
if anything failed.
"""

import argparse
import base64
import io
import json
import math
import os
import random
import struct
import subprocess
import sys
from decimal import Decimal

import cbor2
import cbor2.decoder as pycbor  # the pure-Python decoder, whose semantic tags are a dict

# keep tag 1 a plain CBORTag(1, ms): cbor2 would turn it into a datetime in seconds
pycbor.semantic_decoders.pop(1, None)

TIMESTAMP_MEMBERS = {"ApproximateArrivalTimestamp", "StreamCreationTimestamp",
                     "ConsumerCreationTimestamp", "Timestamp"}
BLOB_MEMBERS = {"Data"}
MAX_TS_MS = 8640000000000000


class Ts:
    """A timestamp: tag 1 holding integer milliseconds."""

    def __init__(self, ms):
        self.ms = ms


# ---------------------------------------------------------------------------
# random documents
# ---------------------------------------------------------------------------

def rand_text(rng, n=None, key=False):
    if n is None:
        n = rng.choice([0, 1, 3, 8, 20, 60])
    out = []
    for _ in range(n):
        r = rng.random()
        if r < 0.6:
            c = chr(rng.randrange(0x20, 0x7f))
        elif r < 0.7:
            c = rng.choice('"\\/\n\r\t\b\f\x01\x1f\x7f')
            if key and c == "\x00":
                c = "x"
        elif r < 0.8:
            c = chr(rng.randrange(0x80, 0x800))
        elif r < 0.9:
            cp = rng.randrange(0x800, 0x10000)
            c = chr(cp) if not 0xD800 <= cp <= 0xDFFF else "\u20ac"
        elif r < 0.97:
            c = chr(rng.randrange(0x10000, 0x110000))
        else:
            c = "x" if key else "\x00"
        out.append(c)
    return "".join(out)


def rand_int(rng):
    return rng.choice([
        0, 1, 23, 24, 255, 256, 65535, 65536, 2**32 - 1, 2**32, 2**63 - 1,
        -1, -24, -25, -256, -257, -65537, -2**32, -2**63,
        rng.randrange(-2**63, 2**63), rng.randrange(0, 1000),
        rng.randrange(-2**31, 2**31)])


def rand_float(rng):
    f = rng.choice([
        0.0, -0.0, 1.0, 0.5, -2.5, 65504.0, 1e21, 1e20, 1e-7, 1.5e-8, 5e-324,
        1.7976931348623157e308, 2.0**-24, 3.140000104904175, 0.1,
        rng.uniform(-1e6, 1e6), rng.uniform(-1, 1) * 10.0**rng.randrange(-300, 300),
        float(rng.randrange(-1000, 1000)), struct.unpack(">d", rng.randbytes(8))[0]])
    if not math.isfinite(f):
        f = 1.25
    return f


def rand_ms(rng):
    return rng.choice([
        0, 1, -1, 999, 1000, 1700000000000, 1700000000123, 1700000000120,
        MAX_TS_MS, -MAX_TS_MS, rng.randrange(-MAX_TS_MS, MAX_TS_MS + 1),
        rng.randrange(1600000000000, 1800000000000)])


def rand_value(rng, depth):
    r = rng.random()
    if depth > 4:
        r = r * 0.6
    if r < 0.15:
        return rand_int(rng)
    if r < 0.25:
        return rand_float(rng)
    if r < 0.4:
        return rand_text(rng)
    if r < 0.45:
        return rng.choice([True, False, None])
    if r < 0.5:
        return rng.randbytes(rng.choice([0, 1, 2, 3, 4, 10]))  # a blob outside Data
    if r < 0.6:
        return Ts(rand_ms(rng))  # tag 1 outside a timestamp member
    if r < 0.8:
        return [rand_value(rng, depth + 1) for _ in range(rng.randrange(0, 5))]
    return {rand_text(rng, rng.randrange(0, 8), key=True): rand_value(rng, depth + 1)
            for _ in range(rng.randrange(0, 5))}


def seqnum(rng):
    return "".join(rng.choice("0123456789") for _ in range(56))


def rand_record(rng, response):
    d = {}
    if response:
        d["SequenceNumber"] = seqnum(rng)
        d["ApproximateArrivalTimestamp"] = Ts(rand_ms(rng))
    d["Data"] = rng.randbytes(rng.choice([0, 1, 2, 3, 5, 100, 1000]))
    d["PartitionKey"] = rand_text(rng, rng.randrange(1, 30))
    if not response and rng.random() < 0.3:
        d["ExplicitHashKey"] = str(rng.randrange(0, 2**128))
    if response and rng.random() < 0.5:
        d["EncryptionType"] = rng.choice(["NONE", "KMS"])
    return d


def rand_document(rng):
    kind = rng.randrange(7)
    if kind == 0:
        doc = {"StreamName": rand_text(rng, 10), "Data": rng.randbytes(rng.randrange(0, 50)),
               "PartitionKey": rand_text(rng, 5)}
    elif kind == 1:
        doc = {"Records": [rand_record(rng, False) for _ in range(rng.randrange(0, 6))],
               "StreamName": rand_text(rng, 5)}
    elif kind == 2:
        doc = {"StreamName": "s", "ShardId": "shardId-000000000000",
               "ShardIteratorType": "AT_TIMESTAMP", "Timestamp": Ts(rand_ms(rng))}
    elif kind == 3:
        doc = {"Records": [rand_record(rng, True) for _ in range(rng.randrange(0, 6))],
               "NextShardIterator": rand_text(rng, 40), "MillisBehindLatest": rand_int(rng),
               "ChildShards": [{"ShardId": "shardId-000000000001",
                                "ParentShards": ["shardId-000000000000"],
                                "HashKeyRange": {"StartingHashKey": "0",
                                                 "EndingHashKey": str(2**128 - 1)}}]}
    elif kind == 4:
        doc = {"StreamDescriptionSummary": {
            "StreamName": "s", "StreamCreationTimestamp": Ts(rand_ms(rng)),
            "RetentionPeriodHours": 24, "OpenShardCount": rand_int(rng),
            "EnhancedMonitoring": [{"ShardLevelMetrics": []}]}}
    elif kind == 5:
        doc = {"ConsumerARN": rand_text(rng, 20),
               "StartingPosition": {"Type": "AT_TIMESTAMP", "Timestamp": Ts(rand_ms(rng))},
               "Consumers": [{"ConsumerName": "c", "ConsumerCreationTimestamp": Ts(rand_ms(rng))}]}
    else:
        doc = {}
    # some extra members of any shape
    for _ in range(rng.randrange(0, 4)):
        k = rand_text(rng, rng.randrange(1, 10), key=True)
        if k not in TIMESTAMP_MEMBERS and k not in BLOB_MEMBERS and k not in doc:
            doc[k] = rand_value(rng, 1)
    return doc


# ---------------------------------------------------------------------------
# encoders
# ---------------------------------------------------------------------------

def to_cbor2(v):
    """The document with Ts as cbor2 tags."""
    if isinstance(v, Ts):
        return cbor2.CBORTag(1, v.ms)
    if isinstance(v, dict):
        return {k: to_cbor2(x) for k, x in v.items()}
    if isinstance(v, list):
        return [to_cbor2(x) for x in v]
    return v


def head(rng, major, n, shortest=True):
    widths = [w for w, lim in ((0, 24), (1, 2**8), (2, 2**16), (4, 2**32), (8, 2**64)) if n < lim]
    w = widths[0] if shortest else rng.choice(widths)
    if w == 0:
        return bytes([major << 5 | n])
    ai = {1: 24, 2: 25, 4: 26, 8: 27}[w]
    return bytes([major << 5 | ai]) + n.to_bytes(w, "big")


def chunks(rng, items):
    """items split into 0..4 runs (empty runs included)."""
    out, i = [], 0
    while i < len(items) and rng.random() < 0.8:
        j = rng.randrange(i, len(items) + 1)
        out.append(items[i:j])
        i = j
    out.append(items[i:])
    if rng.random() < 0.2:
        out.insert(rng.randrange(len(out) + 1), items[:0])
    return out


def own_encode(rng, v, key=False):
    """An independent encoder using the encodings AWS and others may send."""
    short = rng.random() < 0.7
    if isinstance(v, Ts):
        return b"\xc1" + own_encode(rng, v.ms)
    if isinstance(v, bool):
        return b"\xf5" if v else b"\xf4"
    if v is None:
        return rng.choice([b"\xf6", b"\xf7"])  # null or undefined
    if isinstance(v, int):
        return head(rng, 0, v, short) if v >= 0 else head(rng, 1, -1 - v, short)
    if isinstance(v, float):
        for fmt, ib in ((">e", 0xf9), (">f", 0xfa)):
            try:
                packed = struct.pack(fmt, v)
            except OverflowError:
                continue
            if struct.unpack(fmt, packed)[0] == v and (math.copysign(1, v) ==
                                                       math.copysign(1, struct.unpack(fmt, packed)[0])):
                if rng.random() < 0.7:
                    return bytes([ib]) + packed
        return b"\xfb" + struct.pack(">d", v)
    if isinstance(v, str):
        if not key and rng.random() < 0.1:
            return b"\xd8\x2a" + own_encode(rng, v)  # tag 42: ignored
        b = v.encode()
        if rng.random() < 0.3:
            parts = chunks(rng, v)
            return b"\x7f" + b"".join(head(rng, 3, len(p.encode())) + p.encode() for p in parts) + b"\xff"
        return head(rng, 3, len(b), short) + b
    if isinstance(v, bytes):
        if rng.random() < 0.3:
            return b"\x5f" + b"".join(head(rng, 2, len(p)) + p for p in chunks(rng, v)) + b"\xff"
        return head(rng, 2, len(v), short) + v
    if isinstance(v, list):
        body = b"".join(own_encode(rng, x) for x in v)
        if rng.random() < 0.6:
            return b"\x9f" + body + b"\xff"
        return head(rng, 4, len(v), short) + body
    if isinstance(v, dict):
        body = b"".join(own_encode(rng, k, key=True) + own_encode(rng, x) for k, x in v.items())
        if rng.random() < 0.6:
            return b"\xbf" + body + b"\xff"
        return head(rng, 5, len(v), short) + body
    raise TypeError(type(v))


# ---------------------------------------------------------------------------
# what the JSON must be
# ---------------------------------------------------------------------------

def expected_json_value(v):
    """The document as json.loads(parse_float=Decimal) must give it."""
    if isinstance(v, Ts):
        s = Decimal(v.ms) / 1000
        return s
    if isinstance(v, bytes):
        return base64.b64encode(v).decode()
    if isinstance(v, float):
        return v  # compared after float()
    if isinstance(v, dict):
        return {k: expected_json_value(x) for k, x in v.items()}
    if isinstance(v, list):
        return [expected_json_value(x) for x in v]
    return v


def same(got, want):
    if isinstance(want, float):
        return isinstance(got, Decimal) and float(got) == want and \
            math.copysign(1, float(got)) == math.copysign(1, want)
    if isinstance(want, Decimal):
        return isinstance(got, (Decimal, int)) and not isinstance(got, bool) and Decimal(got) == want
    if isinstance(want, bool) or want is None:
        return got is want
    if isinstance(want, int):
        return isinstance(got, int) and not isinstance(got, bool) and got == want
    if isinstance(want, str):
        return got == want
    if isinstance(want, list):
        return isinstance(got, list) and len(got) == len(want) and all(map(same, got, want))
    if isinstance(want, dict):
        return isinstance(got, dict) and got.keys() == want.keys() and \
            all(same(got[k], want[k]) for k in want)
    return False


def ms_text(ms):
    """Exact decimal seconds, as the database prints them."""
    sign = "-" if ms < 0 else ""
    s, f = divmod(abs(ms), 1000)
    return f"{sign}{s}" + (f".{f:03d}".rstrip("0") if f else "")


def json_text(rng, v):
    """The JSON text the database would send (seconds printed exactly)."""
    if isinstance(v, Ts):
        return ms_text(v.ms)
    if isinstance(v, bytes):
        return json.dumps(base64.b64encode(v).decode())
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, dict):
        return "{" + ",".join(json.dumps(k, ensure_ascii=rng.random() < 0.5) + ":" + json_text(rng, x)
                              for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ",".join(json_text(rng, x) for x in v) + "]"
    return json.dumps(v, ensure_ascii=rng.random() < 0.5)


def expected_cbor_value(v, member=None):
    """What cbor2 must decode from -j2c's output."""
    if isinstance(v, Ts):
        if member in TIMESTAMP_MEMBERS:
            return v
        return v.ms // 1000 if v.ms % 1000 == 0 else float(Decimal(v.ms) / 1000)
    if isinstance(v, bytes):
        return v if member in BLOB_MEMBERS else base64.b64encode(v).decode()
    if isinstance(v, str) and member in BLOB_MEMBERS:
        try:
            raw = base64.b64decode(v, validate=True)
            if base64.b64encode(raw).decode() == v:
                return raw
        except ValueError:
            pass
        return v
    if isinstance(v, dict):
        return {k: expected_cbor_value(x, k) for k, x in v.items()}
    if isinstance(v, list):
        return [expected_cbor_value(x) for x in v]
    return v


def same_cbor(got, want):
    if isinstance(want, float):
        return isinstance(got, float) and (got == want) and math.copysign(1, got) == math.copysign(1, want)
    if isinstance(want, Ts):
        # a tag (pure-Python cbor2's class, not the C one cbor2.CBORTag names)
        return type(got).__name__ == "CBORTag" and got.tag == 1 and \
            type(got.value) is int and got.value == want.ms
    if isinstance(want, bool) or want is None:
        return got is want
    if isinstance(want, int):
        return type(got) is int and got == want
    if isinstance(want, (str, bytes)):
        return type(got) is type(want) and got == want
    if isinstance(want, list):
        return isinstance(got, list) and len(got) == len(want) and all(map(same_cbor, got, want))
    if isinstance(want, dict):
        return isinstance(got, dict) and list(got.keys()) == list(want.keys()) and \
            all(same_cbor(got[k], want[k]) for k in want)
    return False


# ---------------------------------------------------------------------------
# driver
# ---------------------------------------------------------------------------

def run(tool, flag, data):
    p = subprocess.run([tool, flag], input=data, capture_output=True, timeout=60)
    return p.returncode, p.stdout, p.stderr.decode(errors="replace").strip()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tool", nargs="?", default=os.path.join(os.path.dirname(__file__) or ".", "cbor_tool"))
    ap.add_argument("--count", type=int, default=300)
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--prefixes", type=int, default=40,
                    help="documents whose every prefix is checked (they are slow)")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    passed = failed = 0

    def check(ok, what, i, detail=""):
        nonlocal passed, failed
        if ok:
            passed += 1
        else:
            failed += 1
            print(f"FAIL doc {i}: {what}" + (f"\n    {detail}" if detail else ""))

    for i in range(args.count):
        doc = rand_document(rng)
        if rng.random() < 0.5:
            cbor = cbor2.dumps(to_cbor2(doc), canonical=rng.random() < 0.3)
            how = "cbor2"
        else:
            cbor = own_encode(rng, doc)
            how = "own encoder"

        # 1. CBOR -> JSON
        rc, out, err = run(args.tool, "-c2j", cbor)
        ok = rc == 0
        if ok:
            try:
                got = json.loads(out.decode(), parse_float=Decimal)
                ok = same(got, expected_json_value(doc))
                err = "value differs: " + out.decode()[:300]
            except ValueError as e:
                ok, err = False, f"not JSON: {e}"
        check(ok, f"c2j ({how}) of {cbor.hex()[:200]}", i, err)
        json1 = out if rc == 0 else None

        # 2. JSON -> CBOR
        text = json_text(rng, doc).encode()
        rc, out, err = run(args.tool, "-j2c", text)
        ok = rc == 0
        if ok:
            try:
                fp = io.BytesIO(out)
                got = pycbor.CBORDecoder(fp).decode()
                if fp.tell() != len(out):
                    raise ValueError("trailing bytes")
                ok = same_cbor(got, expected_cbor_value(doc)) and out[:1] == b"\xbf"
                err = f"value differs: {out.hex()[:300]}"
            except Exception as e:  # noqa: BLE001 - any decode error is a failure
                ok, err = False, f"cbor2 cannot decode: {e}"
        check(ok, f"j2c of {text[:200]!r}", i, err)

        # 3. the JSON of step 1 round-trips byte-identically
        if json1 is not None:
            rc, c, err = run(args.tool, "-j2c", json1)
            if rc == 0:
                rc, back, err = run(args.tool, "-c2j", c)
            check(rc == 0 and back == json1, "JSON -> CBOR -> JSON round trip", i,
                  err if rc else f"{json1[:200]!r} -> {back[:200]!r}")

        # 4. proper prefixes are refused
        if i < args.prefixes:
            cuts = range(len(cbor)) if len(cbor) < 200 else sorted(rng.sample(range(len(cbor)), 100))
            bad = [n for n in cuts if run(args.tool, "-c2j", cbor[:n])[0] != 1]
            check(not bad, "prefixes refused", i, f"accepted or crashed at lengths {bad[:10]}")

    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
