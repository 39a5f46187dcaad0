#!/usr/bin/python3
"""CBOR (application/x-amz-cbor-1.1) against kinesis-gateway, as the AWS Java SDK speaks
it: requests built by hand with python3-cbor2 (indefinite-length maps as Jackson writes
them, or definite ones), blobs as CBOR byte strings, timestamps as tag 1 holding integer
epoch MILLISECONDS, SigV4-signed with botocore; responses decoded with cbor2.

    /usr/bin/python3 test/gateway/test_cbor.py [Class.test_name ...]
"""

import http.client
import json
import os
import sys
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cbor2  # noqa: E402
import cbor2.decoder  # noqa: E402
from botocore.auth import SigV4Auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402

import kgw_common as K  # noqa: E402
from kgw_common import ACCOUNT, GATEWAY, REGION, requires_gateway  # noqa: E402

CBOR = "application/x-amz-cbor-1.1"


class RawTagDecoder(cbor2.decoder.CBORDecoder):
    """cbor2's decoder, except that every tag comes back as CBORTag(number, raw value):
    cbor2 would read tag 1 as epoch SECONDS, and the check here is that it holds integer
    milliseconds."""

    def _decode(self, immutable=False, unshared=False):
        initial = self.read(1)[0]
        major, sub = initial >> 5, initial & 31
        if major == 6:
            tagnum = self._decode_length(sub)
            return cbor2.CBORTag(tagnum, self._decode())
        return cbor2.decoder.major_decoders[major](self, sub)


def cbor_loads(data):
    import io
    return RawTagDecoder(io.BytesIO(data)).decode()


def indefinite_map(pairs):
    """A CBOR map of indefinite length (0xbf ... 0xff), as the Java SDK's Jackson writes."""
    out = b"\xbf"
    for k, v in pairs:
        out += cbor2.dumps(k) + (v if isinstance(v, RawCbor) else cbor2.dumps(v))
    return out + b"\xff"


class RawCbor(bytes):
    """Already encoded CBOR, to nest an indefinite map or list."""


def indefinite_list(items):
    return RawCbor(b"\x9f" + b"".join(i if isinstance(i, RawCbor) else cbor2.dumps(i)
                                      for i in items) + b"\xff")


def ms_tag(ms):
    return cbor2.CBORTag(1, int(ms))


def post(target, body, content_type=CBOR, role="admin", sign=True):
    """POST one request; returns (status, headers, decoded body or raw bytes)."""
    url = urllib.parse.urlsplit(K.ENDPOINT)
    headers = {"Content-Type": content_type, "X-Amz-Target": "Kinesis_20131202." + target,
               "Accept": content_type}
    if sign:
        key, secret = K.credentials(role)
        req = AWSRequest(method="POST", url=K.ENDPOINT + "/", data=body, headers=headers)
        SigV4Auth(Credentials(key, secret), "kinesis", REGION).add_auth(req)
        headers = dict(req.headers.items())
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    try:
        conn.request("POST", "/", body=body, headers=headers)
        resp = conn.getresponse()
        raw = resp.read()
        hdrs = {k.lower(): v for k, v in resp.getheaders()}
    finally:
        conn.close()
    ctype = hdrs.get("content-type", "")
    if raw and "cbor" in ctype:
        doc = cbor_loads(raw)
    elif raw and "json" in ctype:
        doc = json.loads(raw)
    else:
        doc = raw
    return resp.status, hdrs, doc


def call(target, obj, **kw):
    body = obj if isinstance(obj, (bytes, bytearray)) else cbor2.dumps(obj)
    status, hdrs, doc = post(target, body, **kw)
    if status != 200:
        raise AssertionError("%s: HTTP %d %r" % (target, status, doc))
    return hdrs, doc


class TestCbor(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.admin = K.client("admin")
        cls.stream = K.unique_name("cbor")
        K.create_stream(cls.admin, cls.stream, 1)

    @classmethod
    def tearDownClass(cls):
        K.delete_quietly(cls.admin, cls.stream)

    def assertMsNear(self, tag, seconds=None, slack_s=600):
        self.assertIsInstance(tag, cbor2.CBORTag, "not a CBOR tag: %r" % (tag,))
        self.assertEqual(tag.tag, 1)
        self.assertIsInstance(tag.value, int, "tag 1 must hold integer milliseconds, got %r"
                              % (tag.value,))
        ref = time.time() if seconds is None else seconds
        self.assertLess(abs(tag.value / 1000.0 - ref), slack_s,
                        "tag 1 value %r is not epoch milliseconds near %r" % (tag.value, ref))

    def test_01_put_record_indefinite_map(self):
        data = bytes([0, 255, 1, 254]) + "héllo".encode()
        body = indefinite_map([("StreamName", self.stream), ("Data", data),
                               ("PartitionKey", "pk-cbor")])
        hdrs, doc = call("PutRecord", body)
        self.assertTrue(hdrs.get("x-amzn-requestid"))
        self.assertTrue(hdrs.get("content-type", "").startswith(CBOR), hdrs.get("content-type"))
        self.assertIsInstance(doc, dict)
        self.assertEqual(doc["ShardId"], "shardId-000000000000")
        self.assertRegex(doc["SequenceNumber"], r"^\d{56}$")
        if not GATEWAY:  # kinesalite stores CBOR blobs mangled
            return
        records, _ = K.read_shard(self.admin, self.stream, "shardId-000000000000",
                                  iterator_type="AT_SEQUENCE_NUMBER",
                                  StartingSequenceNumber=doc["SequenceNumber"])
        self.assertEqual(records[0]["Data"], data)
        self.assertEqual(records[0]["PartitionKey"], "pk-cbor")

    def test_02_put_records_and_get_records(self):
        t_before_ms = int(time.time() * 1000) - 1000
        entries = []
        for i in range(5):
            entries.append(RawCbor(indefinite_map([("Data", b"rec\x00%d" % i),
                                                   ("PartitionKey", "k%d" % i)])))
        body = indefinite_map([("Records", indefinite_list(entries)),
                               ("StreamName", self.stream)])
        _, doc = call("PutRecords", body)
        self.assertEqual(doc["FailedRecordCount"], 0)
        self.assertEqual(len(doc["Records"]), 5)
        seqs = [r["SequenceNumber"] for r in doc["Records"]]
        for r in doc["Records"]:
            self.assertEqual(r["ShardId"], "shardId-000000000000")

        # GetShardIterator AT_TIMESTAMP, Timestamp = tag 1 integer milliseconds
        if GATEWAY:
            req = {"StreamName": self.stream, "ShardId": "shardId-000000000000",
                   "ShardIteratorType": "AT_TIMESTAMP", "Timestamp": ms_tag(t_before_ms)}
        else:  # kinesalite cannot read tag 1
            req = {"StreamName": self.stream, "ShardId": "shardId-000000000000",
                   "ShardIteratorType": "TRIM_HORIZON"}
        _, it = call("GetShardIterator", req)
        self.assertIsInstance(it["ShardIterator"], str)
        _, got = call("GetRecords", {"ShardIterator": it["ShardIterator"], "Limit": 1000})
        self.assertIsInstance(got["Records"], list)
        mine = [r for r in got["Records"] if r["SequenceNumber"] in seqs]
        self.assertEqual(len(mine), 5)
        for r in mine:
            if not GATEWAY:  # kinesalite stores CBOR blobs mangled
                continue
            self.assertIsInstance(r["Data"], bytes)
            if GATEWAY:
                self.assertMsNear(r["ApproximateArrivalTimestamp"])
                self.assertGreaterEqual(r["ApproximateArrivalTimestamp"].value, t_before_ms)
        if GATEWAY:
            self.assertEqual([r["Data"] for r in mine], [b"rec\x00%d" % i for i in range(5)])
        self.assertIsInstance(got["MillisBehindLatest"], int)
        self.assertIsInstance(got["NextShardIterator"], str)

    @requires_gateway
    def test_03_at_timestamp_is_milliseconds(self):
        # two records some 300 ms apart: an AT_TIMESTAMP between them (in ms) splits them
        _, a = call("PutRecord", {"StreamName": self.stream, "Data": b"first",
                                  "PartitionKey": "ts"})
        time.sleep(0.3)
        _, b = call("PutRecord", {"StreamName": self.stream, "Data": b"second",
                                  "PartitionKey": "ts"})
        _, it = call("GetShardIterator", {"StreamName": self.stream,
                                          "ShardId": "shardId-000000000000",
                                          "ShardIteratorType": "AT_SEQUENCE_NUMBER",
                                          "StartingSequenceNumber": a["SequenceNumber"]})
        _, got = call("GetRecords", {"ShardIterator": it["ShardIterator"]})
        self.assertEqual([r["Data"] for r in got["Records"]], [b"first", b"second"])
        ta = got["Records"][0]["ApproximateArrivalTimestamp"].value
        tb = got["Records"][1]["ApproximateArrivalTimestamp"].value
        self.assertGreaterEqual(tb - ta, 200, (ta, tb))
        self.assertLess(tb - ta, 5000, (ta, tb))
        # the same arrival time through JSON is seconds with a fraction, same instant
        j = self.admin.get_records(ShardIterator=self.admin.get_shard_iterator(
            StreamName=self.stream, ShardId="shardId-000000000000",
            ShardIteratorType="AT_SEQUENCE_NUMBER",
            StartingSequenceNumber=a["SequenceNumber"])["ShardIterator"], Limit=1)["Records"][0]
        self.assertLess(abs(j["ApproximateArrivalTimestamp"].timestamp() * 1000 - ta), 1.5)
        mid = (ta + tb) // 2
        _, it = call("GetShardIterator", {"StreamName": self.stream,
                                          "ShardId": "shardId-000000000000",
                                          "ShardIteratorType": "AT_TIMESTAMP",
                                          "Timestamp": ms_tag(mid)})
        _, got = call("GetRecords", {"ShardIterator": it["ShardIterator"]})
        self.assertEqual([r["Data"] for r in got["Records"]], [b"second"])
        # a timestamp in the future (ms) is refused with AWS's text
        future = int(time.time() * 1000) + 3600 * 1000
        status, _, err = post("GetShardIterator", cbor2.dumps({
            "StreamName": self.stream, "ShardId": "shardId-000000000000",
            "ShardIteratorType": "AT_TIMESTAMP", "Timestamp": ms_tag(future)}))
        self.assertEqual(status, 400)
        self.assertEqual(err["__type"], "InvalidArgumentException")
        self.assertTrue(err["message"].startswith(
            "The timestampInMillis parameter cannot be greater than the "
            "currentTimestampInMillis. timestampInMillis: %d, currentTimestampInMillis: "
            % future), err["message"])

    def test_04_describe_stream_summary_timestamp(self):
        _, doc = call("DescribeStreamSummary", {"StreamName": self.stream})
        s = doc["StreamDescriptionSummary"]
        self.assertEqual(s["StreamName"], self.stream)
        self.assertEqual(s["StreamStatus"], "ACTIVE")
        self.assertEqual(s["OpenShardCount"], 1)
        self.assertIsInstance(s["RetentionPeriodHours"], int)
        if GATEWAY:
            self.assertMsNear(s["StreamCreationTimestamp"])
            j = self.admin.describe_stream_summary(StreamName=self.stream)[
                "StreamDescriptionSummary"]["StreamCreationTimestamp"]
            self.assertLess(abs(j.timestamp() * 1000 - s["StreamCreationTimestamp"].value), 1.5)

    def test_05_describe_stream_and_list_shards(self):
        _, doc = call("DescribeStream", indefinite_map([("StreamName", self.stream)]))
        d = doc["StreamDescription"]
        self.assertEqual(d["Shards"][0]["HashKeyRange"]["EndingHashKey"], str(2 ** 128 - 1))
        self.assertIs(d["HasMoreShards"], False)
        if GATEWAY:
            self.assertMsNear(d["StreamCreationTimestamp"])
        _, doc = call("ListShards", {"StreamName": self.stream})
        self.assertEqual([s["ShardId"] for s in doc["Shards"]], ["shardId-000000000000"])

    def test_06_error_body_is_cbor(self):
        missing = K.unique_name("nope")
        status, hdrs, doc = post("DescribeStreamSummary", cbor2.dumps({"StreamName": missing}))
        self.assertEqual(status, 400)
        self.assertTrue(hdrs.get("x-amzn-requestid"))
        self.assertIn("cbor", hdrs.get("content-type", ""))
        self.assertEqual(doc["__type"], "ResourceNotFoundException")
        self.assertEqual(doc["message"], "Stream %s under account %s not found."
                         % (missing, ACCOUNT))

    def test_07_validation_error_in_cbor(self):
        status, hdrs, doc = post("PutRecord", cbor2.dumps({"StreamName": self.stream,
                                                            "Data": b"x",
                                                            "PartitionKey": ""}))
        self.assertEqual(status, 400)
        self.assertEqual(doc["__type"], "ValidationException")
        self.assertIn("at 'partitionKey' failed to satisfy constraint: Member must have "
                      "length greater than or equal to 1", doc["message"])

    def test_08_malformed_cbor(self):
        # a map announcing 5 pairs and ending after one; then plain garbage
        for body in (b"\xa5\x6aStreamName\x61x", b"\xff\xff\xff", b"\x1c"):
            status, hdrs, doc = post("DescribeStreamSummary", body)
            self.assertEqual(status, 400, body)
            self.assertTrue(hdrs.get("x-amzn-requestid"))
            self.assertIsInstance(doc, dict, "error body not decodable: %r" % (doc,))
            self.assertEqual(doc["__type"], "SerializationException", body)

    @requires_gateway
    def test_09_wrong_type_in_cbor(self):
        # Data must be a byte string; a text string is a SerializationException as in JSON
        # a number where a string is expected, too
        status, _, doc = post("DescribeStreamSummary", cbor2.dumps({"StreamName": 12}))
        self.assertEqual(status, 400)
        self.assertEqual(doc["__type"], "SerializationException")

    def test_10_empty_get_records(self):
        name = K.unique_name("cbor_empty")
        K.create_stream(self.admin, name, 1)
        try:
            _, it = call("GetShardIterator", {"StreamName": name,
                                              "ShardId": "shardId-000000000000",
                                              "ShardIteratorType": "LATEST"})
            _, got = call("GetRecords", {"ShardIterator": it["ShardIterator"]})
            self.assertEqual(got["Records"], [])
            self.assertEqual(got["MillisBehindLatest"], 0)
        finally:
            K.delete_quietly(self.admin, name)


if __name__ == "__main__":
    K.run_tests()
