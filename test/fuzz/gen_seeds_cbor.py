#!/usr/bin/env python3
"""Writes test/fuzz/seeds/fuzz_cbor/: starting inputs for fuzz_cbor.

fuzz_cbor reads each input both as a CBOR request body and as JSON text,
so the seeds are Kinesis requests as the AWS Java SDK encodes them in CBOR
(indefinite-length maps, byte strings under "Data", tag 1 timestamps in
milliseconds), CBOR edge cases (chunked strings, every integer width, half
floats, ignored tags), and database-style JSON responses.  Only the
standard library is needed: the CBOR is written by hand below.

    python3 test/fuzz/gen_seeds_cbor.py
"""

import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seeds", "fuzz_cbor")


def head(major, n):
    if n < 24:
        return bytes([major << 5 | n])
    for ai, w in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if n < 1 << (8 * w):
            return bytes([major << 5 | ai]) + n.to_bytes(w, "big")
    raise ValueError(n)


def t(s):
    b = s.encode()
    return head(3, len(b)) + b


def by(b):
    return head(2, len(b)) + b


def imap(*pairs):
    return b"\xbf" + b"".join(pairs) + b"\xff"


def ts(ms):
    return b"\xc1" + (head(0, ms) if ms >= 0 else head(1, -1 - ms))


SEEDS = {
    "put-record-java-sdk.cbor": imap(t("StreamName"), t("mystream"), t("Data"), by(b"hello"),
                                     t("PartitionKey"), t("pk1")),
    "put-records.cbor": imap(t("Records"), b"\x9f",
                             imap(t("Data"), by(b""), t("PartitionKey"), t("a")),
                             imap(t("Data"), by(bytes(range(7))), t("PartitionKey"), t("b"),
                                  t("ExplicitHashKey"), t("340282366920938463463374607431768211455")),
                             b"\xff", t("StreamName"), t("s")),
    "get-shard-iterator.cbor": imap(t("StreamName"), t("s"), t("ShardId"), t("shardId-000000000000"),
                                    t("ShardIteratorType"), t("AT_TIMESTAMP"),
                                    t("Timestamp"), ts(1700000000123)),
    "subscribe-to-shard.cbor": imap(t("ConsumerARN"), t("arn:aws:kinesis:us-east-1:1:stream/s/consumer/c:1"),
                                    t("ShardId"), t("shardId-000000000000"), t("StartingPosition"),
                                    imap(t("Type"), t("AT_TIMESTAMP"), t("Timestamp"), ts(-1500))),
    "get-records-response.cbor": imap(
        t("Records"), b"\x9f",
        imap(t("SequenceNumber"), t("49590338271490256608559692538361571095921575989136588898"),
             t("ApproximateArrivalTimestamp"), ts(1700000000120), t("Data"), by(b"\x00\xff"),
             t("PartitionKey"), t("pk"), t("EncryptionType"), t("NONE")),
        b"\xff", t("NextShardIterator"), t("AAAA"), t("MillisBehindLatest"), head(0, 0)),
    "definite-map.cbor": b"\xa3" + t("StreamName") + t("s") + t("Limit") + head(0, 10000)
    + t("ExclusiveStartShardId") + t("shardId-000000000001"),
    "chunked.cbor": imap(t("k"), b"\x7f" + t("ab") + t("") + t("\u20ac") + b"\xff",
                         b"\x7f" + t("c") + t("d") + b"\xff", b"\x5f" + by(b"\x01\x02") + by(b"\x03") + b"\xff"),
    "numbers.cbor": b"\x9f" + b"".join([
        head(0, 23), head(0, 24), head(0, 256), head(0, 65536), head(0, 2**32), head(0, 2**63 - 1),
        head(1, 0), head(1, 2**63 - 1), b"\x1b" + (5).to_bytes(8, "big"),
        b"\xf9\x3c\x00", b"\xf9\x00\x01", b"\xf9\x80\x00", b"\xfa" + struct.pack(">f", 3.14),
        b"\xfb" + struct.pack(">d", 1e21), b"\xfb" + struct.pack(">d", 1.5e-8),
        b"\xf4", b"\xf5", b"\xf6", b"\xf7"]) + b"\xff",
    "tags.cbor": b"\xd9\xd9\xf7" + imap(t("a"), b"\xc2" + by(b"\x01\x02"), t("Timestamp"),
                                        b"\xd8\x2a" + ts(1000), t("b"), b"\xc1\xfb" + struct.pack(">d", 1.5),
                                        t("StreamCreationTimestamp"), head(0, 1700000000)),
    "nested.cbor": b"\x81" * 30 + imap(t("x"), b"\x9f\x80\xa0\xff"),
    "get-records-response.json": (
        b'{"Records":[{"SequenceNumber":"49590338271490256608559692538361571095921575989136588898",'
        b'"ApproximateArrivalTimestamp":1700000000.123,"Data":"aGVsbG8=","PartitionKey":"pk1",'
        b'"EncryptionType":"NONE"}],"NextShardIterator":"AAAA","MillisBehindLatest":0,'
        b'"ChildShards":[{"ShardId":"shardId-000000000001","ParentShards":["shardId-000000000000"],'
        b'"HashKeyRange":{"StartingHashKey":"0","EndingHashKey":"340282366920938463463374607431768211455"}}]}'),
    "describe-stream-summary.json": (
        b'{"StreamDescriptionSummary": {"StreamName": "s", "StreamCreationTimestamp": 1699999999.5, '
        b'"RetentionPeriodHours": 24, "EnhancedMonitoring": [{"ShardLevelMetrics": []}], '
        b'"OpenShardCount": 4, "ConsumerCount": 0, "Ratio": -1.25e-7, "Flag": true, "None": null}}'),
    "error.json": b'{"__type":"ValidationException","message":"1 validation error: \\"x\\"\\u0001\\u00e9"}',
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
    print(f"wrote {len(SEEDS)} seeds to {OUT}")


if __name__ == "__main__":
    main()
