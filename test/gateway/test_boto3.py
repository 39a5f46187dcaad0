#!/usr/bin/python3
"""boto3 (Debian's python3-boto3) against kinesis-gateway: every Kinesis operation of the
boto3 client, its paginators and waiters, errors as botocore raises them, SigV4
authentication and the extension's privileges, SubscribeToShard over HTTP/1.1, and a few
raw HTTP checks.  Run with /usr/bin/python3; environment: see kgw_common.py.

    /usr/bin/python3 test/gateway/test_boto3.py [Class.test_name ...]
"""

import base64
import datetime
import hashlib
import http.client
import json
import os
import sys
import threading
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from botocore.auth import SigV4Auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402
from botocore.exceptions import ClientError, EventStreamError  # noqa: E402

import kgw_common as K  # noqa: E402
from kgw_common import ACCOUNT, GATEWAY, REGION, requires_gateway  # noqa: E402

MAX_HASH = 2 ** 128 - 1
SEQ_RE = r"^\d{56}$"


def not_found(name):
    return "Stream %s under account %s not found." % (name, ACCOUNT)


class Base(unittest.TestCase):
    """A test that makes streams gets them deleted at the end."""

    shards = 1

    @classmethod
    def setUpClass(cls):
        cls.admin = K.client("admin")

    def setUp(self):
        self._streams = []

    def tearDown(self):
        for name in self._streams:
            K.delete_quietly(self.admin, name)

    def new_stream(self, prefix, shards=None, wait=True, c=None):
        name = K.unique_name(prefix)
        self._streams.append(name)
        K.create_stream(c or self.admin, name, self.shards if shards is None else shards, wait)
        return name

    def assertClientError(self, code, fn, *args, message=None, message_prefix=None,
                          status=400, **kw):
        with self.assertRaises(ClientError) as cm:
            fn(*args, **kw)
        got_code, got_msg, got_status = K.error_of(cm.exception)
        self.assertEqual(got_code, code, "message: %r" % (got_msg,))
        if message is not None:
            self.assertEqual(got_msg, message)
        if message_prefix is not None:
            self.assertTrue((got_msg or "").startswith(message_prefix),
                            "%r does not start with %r" % (got_msg, message_prefix))
        if status is not None:
            self.assertEqual(got_status, status)
        self.assertTrue(cm.exception.response["ResponseMetadata"].get("RequestId"),
                        "error response without x-amzn-RequestId")
        return cm.exception

    def shard_ids(self, name):
        return [s["ShardId"] for s in self.admin.list_shards(StreamName=name)["Shards"]]


# ---------------------------------------------------------------------------
# Control plane
# ---------------------------------------------------------------------------
class TestStreams(Base):

    def test_create_describe_list_delete(self):
        c = self.admin
        name = K.unique_name("life")
        self._streams.append(name)
        r = c.create_stream(StreamName=name, ShardCount=2)
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 200)
        self.assertTrue(r["ResponseMetadata"]["RequestId"])
        K.wait_active(c, name)

        d = c.describe_stream(StreamName=name)["StreamDescription"]
        self.assertEqual(d["StreamName"], name)
        self.assertEqual(d["StreamARN"], K.arn(name))
        self.assertEqual(d["StreamStatus"], "ACTIVE")
        self.assertFalse(d["HasMoreShards"])
        self.assertEqual(d["RetentionPeriodHours"], 24)
        self.assertIsInstance(d["StreamCreationTimestamp"], datetime.datetime)
        age = abs(time.time() - d["StreamCreationTimestamp"].timestamp())
        self.assertLess(age, 600)
        shards = d["Shards"]
        self.assertEqual([s["ShardId"] for s in shards],
                         ["shardId-000000000000", "shardId-000000000001"])
        self.assertEqual(shards[0]["HashKeyRange"],
                         {"StartingHashKey": "0",
                          "EndingHashKey": "170141183460469231731687303715884105727"})
        self.assertEqual(shards[1]["HashKeyRange"],
                         {"StartingHashKey": "170141183460469231731687303715884105728",
                          "EndingHashKey": str(MAX_HASH)})
        for s in shards:
            self.assertRegex(s["SequenceNumberRange"]["StartingSequenceNumber"], SEQ_RE)
            self.assertNotIn("EndingSequenceNumber", s["SequenceNumberRange"])
        if GATEWAY:
            self.assertEqual(d["EncryptionType"], "NONE")
            self.assertEqual(d["EnhancedMonitoring"], [{"ShardLevelMetrics": []}])

        s = c.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        self.assertEqual(s["StreamName"], name)
        self.assertEqual(s["StreamARN"], K.arn(name))
        self.assertEqual(s["StreamStatus"], "ACTIVE")
        self.assertEqual(s["OpenShardCount"], 2)
        self.assertEqual(s["RetentionPeriodHours"], 24)
        self.assertEqual(s["StreamCreationTimestamp"], d["StreamCreationTimestamp"])
        if GATEWAY:
            self.assertEqual(s["ConsumerCount"], 0)
            self.assertEqual(s["EncryptionType"], "NONE")

        names = []
        for page in c.get_paginator("list_streams").paginate():
            names.extend(page["StreamNames"])
        self.assertIn(name, names)

        c.delete_stream(StreamName=name)
        K.wait_gone(c, name)
        self.assertClientError("ResourceNotFoundException", c.describe_stream, StreamName=name,
                               message=not_found(name))
        self.assertClientError("ResourceNotFoundException", c.describe_stream_summary,
                               StreamName=name, message=not_found(name))
        self.assertClientError("ResourceNotFoundException", c.delete_stream, StreamName=name,
                               message=not_found(name))

    @requires_gateway
    def test_create_without_shard_count_gives_4(self):
        name = K.unique_name("default4")
        self._streams.append(name)
        self.admin.create_stream(StreamName=name)
        K.wait_active(self.admin, name)
        s = self.admin.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        self.assertEqual(s["OpenShardCount"], 4)

    def test_waiters(self):
        c = self.admin
        name = K.unique_name("wait")
        self._streams.append(name)
        c.create_stream(StreamName=name, ShardCount=1)
        c.get_waiter("stream_exists").wait(StreamName=name,
                                           WaiterConfig={"Delay": 1, "MaxAttempts": 30})
        self.assertEqual(c.describe_stream(StreamName=name)["StreamDescription"]["StreamStatus"],
                         "ACTIVE")
        c.delete_stream(StreamName=name)
        c.get_waiter("stream_not_exists").wait(StreamName=name,
                                               WaiterConfig={"Delay": 1, "MaxAttempts": 30})
        names = c.list_streams(ExclusiveStartStreamName=name[:-1], Limit=100)["StreamNames"]
        self.assertNotIn(name, names)

    def test_list_streams_paginator(self):
        c = self.admin
        prefix = K.unique_name("lsp")
        made = []
        for i in range(3):
            name = "%s_%d" % (prefix, i)
            self._streams.append(name)
            c.create_stream(StreamName=name, ShardCount=1)
            made.append(name)
        # plain call with Limit and ExclusiveStartStreamName
        r = c.list_streams(ExclusiveStartStreamName=prefix, Limit=2)
        self.assertEqual(r["StreamNames"], made[:2])
        self.assertTrue(r["HasMoreStreams"])
        r = c.list_streams(ExclusiveStartStreamName=made[1], Limit=1)
        self.assertEqual(r["StreamNames"], made[2:3])
        # paginator: every stream once, in order, over several pages
        pages = 0
        names = []
        for page in c.get_paginator("list_streams").paginate(PaginationConfig={"PageSize": 2}):
            pages += 1
            names.extend(page["StreamNames"])
            self.assertLess(pages, 10000)
        self.assertEqual(len(names), len(set(names)), "duplicates across pages")
        self.assertEqual(names, sorted(names))
        for name in made:
            self.assertIn(name, names)
        self.assertGreaterEqual(pages, 2)
        for name in made:
            K.wait_active(c, name)

    def test_list_shards_and_describe_stream_paginators(self):
        c = self.admin
        name = self.new_stream("shp", shards=3)
        expected = ["shardId-%012d" % i for i in range(3)]

        if GATEWAY:  # kinesalite has no ListShards pagination
            r = c.list_shards(StreamName=name, MaxResults=1)
            self.assertEqual([s["ShardId"] for s in r["Shards"]], expected[:1])
            self.assertTrue(r.get("NextToken"))
            r2 = c.list_shards(NextToken=r["NextToken"], MaxResults=5)
            self.assertEqual([s["ShardId"] for s in r2["Shards"]], expected[1:])
            self.assertNotIn("NextToken", r2)
            # botocore's list_shards paginator sends StreamName again with NextToken, which
            # AWS refuses (boto/botocore#2009): it works only while one page suffices
            pages = list(c.get_paginator("list_shards").paginate(StreamName=name))
            self.assertEqual([s["ShardId"] for p in pages for s in p["Shards"]], expected)
            self.assertClientError(
                "InvalidArgumentException",
                lambda: list(c.get_paginator("list_shards").paginate(
                    StreamName=name, PaginationConfig={"PageSize": 1})),
                message="NextToken and StreamName cannot be provided together.")
        r = c.list_shards(StreamName=name, ExclusiveStartShardId="shardId-000000000000")
        self.assertEqual([s["ShardId"] for s in r["Shards"]], expected[1:])

        if GATEWAY:  # kinesalite ignores DescribeStream's Limit
            d = c.describe_stream(StreamName=name, Limit=1)["StreamDescription"]
            self.assertEqual([s["ShardId"] for s in d["Shards"]], expected[:1])
            self.assertTrue(d["HasMoreShards"])
            pages = list(c.get_paginator("describe_stream").paginate(
                StreamName=name, PaginationConfig={"PageSize": 1}))
            self.assertGreaterEqual(len(pages), 3)
            shards = [s["ShardId"] for p in pages for s in p["StreamDescription"]["Shards"]]
            self.assertEqual(shards, expected)
        full = c.get_paginator("describe_stream").paginate(StreamName=name).build_full_result()
        self.assertEqual([s["ShardId"] for s in full["StreamDescription"]["Shards"]], expected)
        self.assertEqual(full["StreamDescription"]["StreamName"], name)

    @requires_gateway
    def test_list_shards_filters_and_errors(self):
        c = self.admin
        name = self.new_stream("shf", shards=2)
        created = c.describe_stream_summary(StreamName=name)[
            "StreamDescriptionSummary"]["StreamCreationTimestamp"]
        r = c.list_shards(StreamName=name, StreamCreationTimestamp=created)
        self.assertEqual(len(r["Shards"]), 2)
        self.assertClientError("InvalidArgumentException", c.list_shards,
                               message="Either NextToken or StreamName should be provided.")
        tok = c.list_shards(StreamName=name, MaxResults=1)["NextToken"]
        self.assertClientError("InvalidArgumentException", c.list_shards, StreamName=name,
                               NextToken=tok,
                               message="NextToken and StreamName cannot be provided together.")
        self.assertClientError("InvalidArgumentException", c.list_shards,
                               NextToken="not-a-token", message="Invalid NextToken.")
        r = c.list_shards(StreamName=name, ShardFilter={"Type": "AT_LATEST"})
        self.assertEqual(len(r["Shards"]), 2)

    @requires_gateway
    def test_describe_limits(self):
        r = self.admin.describe_limits()
        self.assertIsInstance(r["ShardLimit"], int)
        self.assertIsInstance(r["OpenShardCount"], int)
        self.assertGreaterEqual(r["ShardLimit"], 1)
        name = self.new_stream("lim", shards=2)
        r2 = self.admin.describe_limits()
        self.assertGreaterEqual(r2["OpenShardCount"], 2)
        self.assertTrue(name)

    def test_retention(self):
        c = self.admin
        name = self.new_stream("ret")
        c.increase_stream_retention_period(StreamName=name, RetentionPeriodHours=48)
        d = c.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        self.assertEqual(d["RetentionPeriodHours"], 48)
        self.assertEqual(d["StreamStatus"], "ACTIVE")
        self.assertClientError(
            "InvalidArgumentException", c.increase_stream_retention_period, StreamName=name,
            RetentionPeriodHours=36,
            message="Requested retention period (36 hours) for stream %s can not be shorter "
                    "than existing retention period (48 hours). Use DecreaseRetentionPeriod API."
                    % name)
        self.assertClientError(
            "InvalidArgumentException", c.decrease_stream_retention_period, StreamName=name,
            RetentionPeriodHours=72,
            message="Requested retention period (72 hours) for stream %s can not be longer "
                    "than existing retention period (48 hours). Use IncreaseRetentionPeriod API."
                    % name)
        c.decrease_stream_retention_period(StreamName=name, RetentionPeriodHours=24)
        d = c.describe_stream(StreamName=name)["StreamDescription"]
        self.assertEqual(d["RetentionPeriodHours"], 24)
        self.assertClientError(
            "InvalidArgumentException", c.decrease_stream_retention_period, StreamName=name,
            RetentionPeriodHours=23,
            message="Minimum allowed retention period is 24 hours. Requested retention period "
                    "(23 hours) is too short.")
        if GATEWAY:  # kinesalite caps at 168
            c.increase_stream_retention_period(StreamName=name, RetentionPeriodHours=8760)
            self.assertClientError(
                "InvalidArgumentException", c.increase_stream_retention_period,
                StreamName=name, RetentionPeriodHours=8761,
                message="Maximum allowed retention period is 8760 hours. Requested retention "
                        "period (8761 hours) is too long.")

    def test_tags(self):
        c = self.admin
        name = self.new_stream("tag")
        self.assertEqual(c.list_tags_for_stream(StreamName=name)["Tags"], [])
        c.add_tags_to_stream(StreamName=name, Tags={"team": "data", "env": "test", "a": ""})
        r = c.list_tags_for_stream(StreamName=name)
        self.assertEqual(r["Tags"], [{"Key": "a", "Value": ""}, {"Key": "env", "Value": "test"},
                                     {"Key": "team", "Value": "data"}])
        self.assertFalse(r["HasMoreTags"])
        r = c.list_tags_for_stream(StreamName=name, Limit=1)
        self.assertEqual(r["Tags"], [{"Key": "a", "Value": ""}])
        self.assertTrue(r["HasMoreTags"])
        r = c.list_tags_for_stream(StreamName=name, ExclusiveStartTagKey="a")
        self.assertEqual([t["Key"] for t in r["Tags"]], ["env", "team"])
        c.add_tags_to_stream(StreamName=name, Tags={"team": "ops"})
        c.remove_tags_from_stream(StreamName=name, TagKeys=["env", "nonexistent"])
        r = c.list_tags_for_stream(StreamName=name)
        self.assertEqual(r["Tags"], [{"Key": "a", "Value": ""}, {"Key": "team", "Value": "ops"}])
        self.assertClientError("ResourceNotFoundException", c.add_tags_to_stream,
                               StreamName=name + "_nope", Tags={"k": "v"},
                               message=not_found(name + "_nope"))
        if GATEWAY:
            self.assertClientError(
                "InvalidArgumentException", c.add_tags_to_stream, StreamName=name,
                Tags={"bad%": "v"},
                message="Failed to add tags to stream %s under account %s because some tags "
                        "contained illegal characters. The allowed characters are Unicode "
                        "letters, white-spaces, '_',',','/','=','+','-','@'." % (name, ACCOUNT))

    @requires_gateway
    def test_enhanced_monitoring(self):
        c = self.admin
        name = self.new_stream("mon")
        r = c.enable_enhanced_monitoring(StreamName=name,
                                         ShardLevelMetrics=["IncomingBytes", "OutgoingRecords"])
        self.assertEqual(r["StreamName"], name)
        self.assertEqual(r["CurrentShardLevelMetrics"], [])
        self.assertEqual(sorted(r["DesiredShardLevelMetrics"]),
                         ["IncomingBytes", "OutgoingRecords"])
        d = c.describe_stream(StreamName=name)["StreamDescription"]
        self.assertEqual(sorted(d["EnhancedMonitoring"][0]["ShardLevelMetrics"]),
                         ["IncomingBytes", "OutgoingRecords"])
        r = c.disable_enhanced_monitoring(StreamName=name, ShardLevelMetrics=["IncomingBytes"])
        self.assertEqual(sorted(r["CurrentShardLevelMetrics"]),
                         ["IncomingBytes", "OutgoingRecords"])
        self.assertEqual(r["DesiredShardLevelMetrics"], ["OutgoingRecords"])
        r = c.enable_enhanced_monitoring(StreamName=name, ShardLevelMetrics=["ALL"])
        self.assertEqual(len(r["DesiredShardLevelMetrics"]), 7)
        r = c.disable_enhanced_monitoring(StreamName=name, ShardLevelMetrics=["ALL"])
        self.assertEqual(r["DesiredShardLevelMetrics"], [])
        s = c.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        self.assertEqual(s["EnhancedMonitoring"], [{"ShardLevelMetrics": []}])

    @requires_gateway
    def test_encryption(self):
        c = self.admin
        name = self.new_stream("enc")
        before = c.put_record(StreamName=name, Data=b"plain", PartitionKey="k")
        self.assertEqual(before.get("EncryptionType", "NONE"), "NONE")
        c.start_stream_encryption(StreamName=name, EncryptionType="KMS", KeyId="alias/aws/kinesis")
        K.wait_active(c, name)
        d = c.describe_stream(StreamName=name)["StreamDescription"]
        self.assertEqual(d["EncryptionType"], "KMS")
        self.assertEqual(d["KeyId"], "alias/aws/kinesis")
        s = c.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        self.assertEqual(s["EncryptionType"], "KMS")
        after = c.put_record(StreamName=name, Data=b"secret", PartitionKey="k")
        self.assertEqual(after["EncryptionType"], "KMS")
        pr = c.put_records(StreamName=name, Records=[{"Data": b"s2", "PartitionKey": "k"}])
        self.assertEqual(pr["EncryptionType"], "KMS")
        records, _ = K.read_shard(c, name, "shardId-000000000000")
        self.assertEqual([r["Data"] for r in records], [b"plain", b"secret", b"s2"])
        self.assertEqual([r.get("EncryptionType", "NONE") for r in records],
                         ["NONE", "KMS", "KMS"])
        self.assertClientError("KMSNotFoundException", c.start_stream_encryption,
                               StreamName=name, EncryptionType="KMS",
                               KeyId="alias/kgw-missing-key")
        c.stop_stream_encryption(StreamName=name, EncryptionType="KMS", KeyId="alias/aws/kinesis")
        K.wait_active(c, name)
        d = c.describe_stream(StreamName=name)["StreamDescription"]
        self.assertEqual(d["EncryptionType"], "NONE")
        last = c.put_record(StreamName=name, Data=b"plain again", PartitionKey="k")
        self.assertEqual(last.get("EncryptionType", "NONE"), "NONE")
        records, _ = K.read_shard(c, name, "shardId-000000000000")
        self.assertEqual([r["Data"] for r in records],
                         [b"plain", b"secret", b"s2", b"plain again"])


class TestResharding(Base):

    def test_split_and_merge(self):
        c = self.admin
        name = self.new_stream("split", shards=1)
        p0 = c.put_record(StreamName=name, Data=b"before split", PartitionKey="a")
        c.split_shard(StreamName=name, ShardToSplit="shardId-000000000000",
                      NewStartingHashKey=str(2 ** 127))
        if GATEWAY:
            st = c.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
            self.assertIn(st["StreamStatus"], ("UPDATING", "ACTIVE"))
        K.wait_active(c, name)
        shards = c.list_shards(StreamName=name)["Shards"]
        self.assertEqual([s["ShardId"] for s in shards],
                         ["shardId-000000000000", "shardId-000000000001",
                          "shardId-000000000002"])
        parent, a, b = shards
        self.assertRegex(parent["SequenceNumberRange"]["EndingSequenceNumber"], SEQ_RE)
        self.assertGreaterEqual(int(parent["SequenceNumberRange"]["EndingSequenceNumber"]),
                                int(p0["SequenceNumber"]))
        self.assertEqual(a["ParentShardId"], "shardId-000000000000")
        self.assertEqual(b["ParentShardId"], "shardId-000000000000")
        self.assertEqual(a["HashKeyRange"], {"StartingHashKey": "0",
                                             "EndingHashKey": str(2 ** 127 - 1)})
        self.assertEqual(b["HashKeyRange"], {"StartingHashKey": str(2 ** 127),
                                             "EndingHashKey": str(MAX_HASH)})
        # puts now go to the children
        r = c.put_record(StreamName=name, Data=b"low", PartitionKey="x", ExplicitHashKey="1")
        self.assertEqual(r["ShardId"], "shardId-000000000001")
        r = c.put_record(StreamName=name, Data=b"high", PartitionKey="x",
                         ExplicitHashKey=str(MAX_HASH))
        self.assertEqual(r["ShardId"], "shardId-000000000002")
        # the parent reads to its end: no next iterator (and ChildShards on AWS)
        records, last = K.read_shard(c, name, "shardId-000000000000")
        self.assertEqual([x["Data"] for x in records], [b"before split"])
        self.assertIsNone(last.get("NextShardIterator"))
        if GATEWAY:
            kids = sorted(last["ChildShards"], key=lambda x: x["ShardId"])
            self.assertEqual([k["ShardId"] for k in kids],
                             ["shardId-000000000001", "shardId-000000000002"])
            for k in kids:
                self.assertEqual(k["ParentShards"], ["shardId-000000000000"])
            self.assertEqual(kids[0]["HashKeyRange"], a["HashKeyRange"])
        if GATEWAY:  # kinesalite splits a closed shard again
            self.assertClientError(
                "InvalidArgumentException", c.split_shard, StreamName=name,
                ShardToSplit="shardId-000000000000", NewStartingHashKey=str(2 ** 126),
                message="Shard shardId-000000000000 in stream %s under account %s has already "
                        "been merged or split, and thus is not eligible for merging or "
                        "splitting." % (name, ACCOUNT))
        # merge the two children back
        c.merge_shards(StreamName=name, ShardToMerge="shardId-000000000001",
                       AdjacentShardToMerge="shardId-000000000002")
        K.wait_active(c, name)
        shards = c.list_shards(StreamName=name)["Shards"]
        self.assertEqual(len(shards), 4)
        m = shards[3]
        self.assertEqual(m["ShardId"], "shardId-000000000003")
        self.assertEqual(m["ParentShardId"], "shardId-000000000001")
        self.assertEqual(m["AdjacentParentShardId"], "shardId-000000000002")
        self.assertEqual(m["HashKeyRange"], {"StartingHashKey": "0",
                                             "EndingHashKey": str(MAX_HASH)})
        open_ = [s["ShardId"] for s in shards if "EndingSequenceNumber" not in
                 s["SequenceNumberRange"]]
        self.assertEqual(open_, ["shardId-000000000003"])
        self.assertClientError("ResourceNotFoundException", c.split_shard, StreamName=name,
                               ShardToSplit="shardId-000000000042", NewStartingHashKey="5",
                               message="Could not find shard shardId-000000000042 in stream %s "
                                       "under account %s." % (name, ACCOUNT))

    @requires_gateway
    def test_update_shard_count(self):
        c = self.admin
        name = self.new_stream("usc", shards=2)
        r = c.update_shard_count(StreamName=name, TargetShardCount=4,
                                 ScalingType="UNIFORM_SCALING")
        self.assertEqual(r["StreamName"], name)
        self.assertEqual(r["CurrentShardCount"], 2)
        self.assertEqual(r["TargetShardCount"], 4)
        K.wait_active(c, name)
        s = c.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        self.assertEqual(s["OpenShardCount"], 4)
        shards = c.list_shards(StreamName=name)["Shards"]
        open_ = [x for x in shards if "EndingSequenceNumber" not in x["SequenceNumberRange"]]
        step = 2 ** 128 // 4
        starts = sorted(int(x["HashKeyRange"]["StartingHashKey"]) for x in open_)
        self.assertEqual(starts, [i * step for i in range(4)])
        self.assertClientError(
            "LimitExceededException", c.update_shard_count, StreamName=name, TargetShardCount=9,
            ScalingType="UNIFORM_SCALING",
            message="UpdateShardCount cannot scale up over double your current open shard "
                    "count. Current open shard count: 4, Target shard count: 9")
        c.update_shard_count(StreamName=name, TargetShardCount=3, ScalingType="UNIFORM_SCALING")
        K.wait_active(c, name)
        s = c.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        self.assertEqual(s["OpenShardCount"], 3)


# ---------------------------------------------------------------------------
# Data plane
# ---------------------------------------------------------------------------
class TestData(Base):

    def test_put_record_and_get_records(self):
        c = self.admin
        name = self.new_stream("put", shards=2)
        payloads = [("alice", b"one"), ("bob", b"two"), ("alice", b"three"),
                    ("carol", bytes(range(256)))]
        acks = []
        for pk, data in payloads:
            r = c.put_record(StreamName=name, Data=data, PartitionKey=pk)
            self.assertRegex(r["SequenceNumber"], SEQ_RE)
            h = int(hashlib.md5(pk.encode()).hexdigest(), 16)
            self.assertEqual(r["ShardId"], "shardId-%012d" % (0 if h < 2 ** 127 else 1))
            if GATEWAY:
                self.assertEqual(r["EncryptionType"], "NONE")
            acks.append((r["ShardId"], r["SequenceNumber"], pk, data))
        got = {}
        for shard in ("shardId-000000000000", "shardId-000000000001"):
            records, last = K.read_shard(c, name, shard)
            self.assertIn("NextShardIterator", last)
            self.assertEqual(last["MillisBehindLatest"], 0)
            seqs = [int(x["SequenceNumber"]) for x in records]
            self.assertEqual(seqs, sorted(seqs))
            for x in records:
                self.assertIsInstance(x["ApproximateArrivalTimestamp"], datetime.datetime)
                self.assertLess(abs(x["ApproximateArrivalTimestamp"].timestamp() - time.time()),
                                600)
                got[x["SequenceNumber"]] = (shard, x["PartitionKey"], x["Data"])
        self.assertEqual(got, {seq: (sh, pk, d) for sh, seq, pk, d in acks})

    def test_explicit_hash_key_and_ordering(self):
        c = self.admin
        name = self.new_stream("ehk", shards=2)
        r = c.put_record(StreamName=name, Data=b"x", PartitionKey="k",
                         ExplicitHashKey=str(MAX_HASH))
        self.assertEqual(r["ShardId"], "shardId-000000000001")
        r0 = c.put_record(StreamName=name, Data=b"y", PartitionKey="k", ExplicitHashKey="0")
        self.assertEqual(r0["ShardId"], "shardId-000000000000")
        r1 = c.put_record(StreamName=name, Data=b"z", PartitionKey="k", ExplicitHashKey="0",
                          SequenceNumberForOrdering=r0["SequenceNumber"])
        self.assertGreater(int(r1["SequenceNumber"]), int(r0["SequenceNumber"]))
        self.assertClientError(
            "InvalidArgumentException", c.put_record, StreamName=name, Data=b"x",
            PartitionKey="k", ExplicitHashKey=str(MAX_HASH + 1),
            message="Invalid ExplicitHashKey. ExplicitHashKey must be in the range: "
                    "[0, 2^128-1]. Specified value was %d" % (MAX_HASH + 1))
        if GATEWAY:
            self.assertClientError(
                "InvalidArgumentException", c.put_record, StreamName=name, Data=b"x",
                PartitionKey="k", SequenceNumberForOrdering="12345",
                message="ExclusiveMinimumSequenceNumber 12345 used in PutRecord on stream %s "
                        "under account %s is invalid." % (name, ACCOUNT))

    def test_put_records(self):
        c = self.admin
        name = self.new_stream("puts", shards=2)
        entries = [{"Data": ("rec-%d" % i).encode(), "PartitionKey": "pk%d" % (i % 7)}
                   for i in range(100)]
        entries.append({"Data": b"low", "PartitionKey": "p", "ExplicitHashKey": "0"})
        entries.append({"Data": b"", "PartitionKey": "p", "ExplicitHashKey": str(MAX_HASH)})
        r = c.put_records(StreamName=name, Records=entries)
        self.assertEqual(r["FailedRecordCount"], 0)
        self.assertEqual(len(r["Records"]), len(entries))
        if GATEWAY:
            self.assertEqual(r["EncryptionType"], "NONE")
        for res in r["Records"]:
            self.assertRegex(res["SequenceNumber"], SEQ_RE)
            self.assertNotIn("ErrorCode", res)
        self.assertEqual(r["Records"][-2]["ShardId"], "shardId-000000000000")
        self.assertEqual(r["Records"][-1]["ShardId"], "shardId-000000000001")
        expected = {}
        for e, res in zip(entries, r["Records"]):
            expected.setdefault(res["ShardId"], []).append((res["SequenceNumber"], e["Data"]))
        for shard, want in expected.items():
            records, _ = K.read_shard(c, name, shard, limit=7)
            self.assertEqual([(x["SequenceNumber"], x["Data"]) for x in records], want)
        self.assertClientError("ResourceNotFoundException", c.put_records,
                               StreamName=name + "_nope",
                               Records=[{"Data": b"x", "PartitionKey": "p"}],
                               message=not_found(name + "_nope"))
        if GATEWAY:
            e = self.assertClientError(
                "ValidationException", c.put_records, StreamName=name,
                Records=[{"Data": b"x", "PartitionKey": "p"}] * 501,
                message_prefix="1 validation error detected: Value '[")
            self.assertTrue(K.error_of(e)[1].endswith(
                "]' at 'records' failed to satisfy constraint: Member must have length less "
                "than or equal to 500"), K.error_of(e)[1])

    def test_iterator_types(self):
        c = self.admin
        name = self.new_stream("its", shards=1)
        sh = "shardId-000000000000"
        seqs = []
        for i in range(5):
            seqs.append(c.put_record(StreamName=name, Data=b"r%d" % i,
                                     PartitionKey="k")["SequenceNumber"])
            time.sleep(0.01)

        def first(**kw):
            it = c.get_shard_iterator(StreamName=name, ShardId=sh, **kw)["ShardIterator"]
            self.assertIsInstance(it, str)
            self.assertLessEqual(len(it), 512)
            return c.get_records(ShardIterator=it, Limit=100)

        self.assertEqual(len(first(ShardIteratorType="TRIM_HORIZON")["Records"]), 5)
        r = first(ShardIteratorType="AT_SEQUENCE_NUMBER", StartingSequenceNumber=seqs[2])
        self.assertEqual([x["Data"] for x in r["Records"]], [b"r2", b"r3", b"r4"])
        r = first(ShardIteratorType="AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=seqs[2])
        self.assertEqual([x["Data"] for x in r["Records"]], [b"r3", b"r4"])
        # LATEST: nothing old, then what is put afterwards
        it = c.get_shard_iterator(StreamName=name, ShardId=sh,
                                  ShardIteratorType="LATEST")["ShardIterator"]
        r = c.get_records(ShardIterator=it)
        self.assertEqual(r["Records"], [])
        self.assertNotEqual(r["NextShardIterator"], it)
        c.put_record(StreamName=name, Data=b"late", PartitionKey="k")
        r = c.get_records(ShardIterator=r["NextShardIterator"])
        self.assertEqual([x["Data"] for x in r["Records"]], [b"late"])
        # AT_TIMESTAMP: a record's own arrival time starts at or before it
        recs = first(ShardIteratorType="TRIM_HORIZON")["Records"]
        ts = recs[3]["ApproximateArrivalTimestamp"]
        r = first(ShardIteratorType="AT_TIMESTAMP", Timestamp=ts)
        data = [x["Data"] for x in r["Records"]]
        self.assertIn(b"r3", data)
        self.assertEqual(data[-2:], [b"r4", b"late"])
        old = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)
        r = first(ShardIteratorType="AT_TIMESTAMP", Timestamp=old)
        self.assertEqual(len(r["Records"]), 6)
        r = first(ShardIteratorType="AT_TIMESTAMP", Timestamp=time.time() - 3600)
        self.assertEqual(len(r["Records"]), 6)
        # errors
        self.assertClientError(
            "InvalidArgumentException", c.get_shard_iterator, StreamName=name, ShardId=sh,
            ShardIteratorType="LATEST", StartingSequenceNumber=seqs[0],
            message="Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and "
                    "StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no "
                    "StartingSequenceNumber. Request specified LATEST and also a "
                    "StartingSequenceNumber.")
        self.assertClientError(
            "InvalidArgumentException", c.get_shard_iterator, StreamName=name, ShardId=sh,
            ShardIteratorType="AT_TIMESTAMP",
            message="Must specify timestampInMillis parameter for iterator of type "
                    "AT_TIMESTAMP. Current request has no timestamp parameter.")
        self.assertClientError(
            "ResourceNotFoundException", c.get_shard_iterator, StreamName=name,
            ShardId="shardId-000000000009", ShardIteratorType="TRIM_HORIZON",
            message="Shard shardId-000000000009 in stream %s under account %s does not exist"
                    % (name, ACCOUNT))
        self.assertClientError(
            "ResourceNotFoundException", c.get_shard_iterator, StreamName=name + "_nope",
            ShardId=sh, ShardIteratorType="TRIM_HORIZON",
            message="Shard %s in stream %s_nope under account %s does not exist"
                    % (sh, name, ACCOUNT))

    def test_get_records_follows_next_iterator(self):
        c = self.admin
        name = self.new_stream("follow", shards=1)
        n = 25
        c.put_records(StreamName=name, Records=[{"Data": b"%03d" % i, "PartitionKey": "k"}
                                                for i in range(n)])
        it = c.get_shard_iterator(StreamName=name, ShardId="shardId-000000000000",
                                  ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        got = []
        calls = 0
        while calls < 50:
            calls += 1
            r = c.get_records(ShardIterator=it, Limit=4)
            self.assertLessEqual(len(r["Records"]), 4)
            got.extend(x["Data"] for x in r["Records"])
            self.assertNotEqual(r["NextShardIterator"], it)
            it = r["NextShardIterator"]
            if len(got) < n and GATEWAY:
                self.assertGreater(r["MillisBehindLatest"], -1)
            if not r["Records"]:
                break
        self.assertEqual(got, [b"%03d" % i for i in range(n)])
        self.assertEqual(r["MillisBehindLatest"], 0)
        self.assertClientError("InvalidArgumentException", c.get_records,
                               ShardIterator="AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                               message="Invalid ShardIterator.")

    def test_large_record(self):
        c = self.admin
        name = self.new_stream("big", shards=1)
        data = os.urandom(1024 * 1024 - 1)
        r = c.put_record(StreamName=name, Data=data, PartitionKey="k")
        records, _ = K.read_shard(c, name, "shardId-000000000000")
        self.assertEqual(len(records), 1)
        self.assertEqual(records[0]["SequenceNumber"], r["SequenceNumber"])
        self.assertEqual(records[0]["Data"], data)


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------
class TestErrors(Base):

    def test_resource_not_found(self):
        c = self.admin
        name = K.unique_name("missing")
        self.assertClientError("ResourceNotFoundException", c.put_record, StreamName=name,
                               Data=b"x", PartitionKey="k", message=not_found(name))
        self.assertClientError("ResourceNotFoundException", c.list_tags_for_stream,
                               StreamName=name, message=not_found(name))
        self.assertClientError("ResourceNotFoundException", c.increase_stream_retention_period,
                               StreamName=name, RetentionPeriodHours=48,
                               message=not_found(name))

    def test_validation_exception(self):
        c = self.admin
        e = self.assertClientError("ValidationException", c.create_stream,
                                   StreamName="bad name!", ShardCount=1)
        self.assertEqual(
            K.error_of(e)[1],
            "1 validation error detected: Value 'bad name!' at 'streamName' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+")
        self.assertClientError(
            "ValidationException", c.describe_stream, StreamName="x" * 129,
            message="1 validation error detected: Value '%s' at 'streamName' failed to satisfy "
                    "constraint: Member must have length less than or equal to 128" % ("x" * 129))

    def test_resource_in_use(self):
        c = self.admin
        name = self.new_stream("inuse")
        self.assertClientError("ResourceInUseException", c.create_stream, StreamName=name,
                               ShardCount=1,
                               message="Stream %s under account %s already exists."
                                       % (name, ACCOUNT))

    def test_limit_exceeded(self):
        name = K.unique_name("toobig")
        self._streams.append(name)
        self.assertClientError(
            "LimitExceededException", self.admin.create_stream, StreamName=name,
            ShardCount=100000,
            message_prefix="This request would exceed the shard limit for the account %s in %s."
                           % (ACCOUNT, REGION))

    @requires_gateway
    def test_serialization_exception_from_client_side_types(self):
        # botocore validates types, so send a raw request with a wrongly typed member
        status, headers, body = raw_request(
            "POST", "ListStreams", json.dumps({"Limit": "1"}).encode())
        self.assertEqual(status, 400)
        doc = json.loads(body)
        self.assertEqual(doc["__type"], "SerializationException")


# ---------------------------------------------------------------------------
# Authentication and privileges
# ---------------------------------------------------------------------------
@requires_gateway
class TestAuth(Base):

    def test_bad_secret(self):
        key, _ = K.credentials("admin")
        c = K.client(key=key, secret="not-the-secret-0123456789")
        self.assertClientError(
            "InvalidSignatureException", c.list_streams,
            message="The request signature we calculated does not match the signature you "
                    "provided. Check your AWS Secret Access Key and signing method. Consult the "
                    "service documentation for details.")

    def test_unknown_key(self):
        c = K.client(key=K.UNKNOWN_KEY, secret="whatever-secret")
        self.assertClientError("UnrecognizedClientException", c.list_streams,
                               message="The security token included in the request is invalid.")

    def test_no_credentials(self):
        c = K.client(unsigned=True)
        self.assertClientError("MissingAuthenticationTokenException", c.list_streams,
                               message="Missing Authentication Token")
        self.assertClientError("MissingAuthenticationTokenException", c.describe_stream,
                               StreamName="whatever", message="Missing Authentication Token")

    def test_unsigned_gateway(self):
        if not K.ENDPOINT_NOAUTH:
            self.skipTest("KGW_ENDPOINT_NOAUTH not set")
        c = K.client(unsigned=True, endpoint=K.ENDPOINT_NOAUTH)
        name = K.unique_name("noauth")
        self._streams.append(name)
        c.create_stream(StreamName=name, ShardCount=1)
        K.wait_active(c, name)
        r = c.put_record(StreamName=name, Data=b"hello", PartitionKey="k")
        records, _ = K.read_shard(c, name, r["ShardId"])
        self.assertEqual([x["Data"] for x in records], [b"hello"])
        # a signed request with any key is fine there as well
        c2 = K.client(endpoint=K.ENDPOINT_NOAUTH, key=K.UNKNOWN_KEY, secret="x")
        self.assertIn(name, c2.list_streams(ExclusiveStartStreamName=name[:-1])["StreamNames"])
        # and the sigv4 gateway sees the same stream
        self.assertEqual(self.admin.describe_stream_summary(StreamName=name)[
            "StreamDescriptionSummary"]["StreamName"], name)

    def denied(self, role, action, stream):
        return ("User: arn:aws:iam::%s:user/%s is not authorized to perform: kinesis:%s on "
                "resource: %s because no identity-based policy allows the kinesis:%s action"
                % (ACCOUNT, role, action, K.arn(stream), action))

    def test_producer(self):
        name = self.new_stream("prod")
        p = K.client("producer")
        role = os.environ.get("KGW_PRODUCER_ROLE", "gw_producer")
        r = p.put_record(StreamName=name, Data=b"from producer", PartitionKey="k")
        self.assertRegex(r["SequenceNumber"], SEQ_RE)
        p.put_records(StreamName=name, Records=[{"Data": b"x", "PartitionKey": "k"}])
        self.assertEqual(p.describe_stream_summary(StreamName=name)[
            "StreamDescriptionSummary"]["StreamName"], name)
        self.assertIn(name, p.list_streams(ExclusiveStartStreamName=name[:-1])["StreamNames"])
        p.list_shards(StreamName=name)
        self.assertClientError("AccessDeniedException", p.delete_stream, StreamName=name,
                               message=self.denied(role, "DeleteStream", name))
        self.assertClientError("AccessDeniedException", p.get_shard_iterator, StreamName=name,
                               ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON",
                               message=self.denied(role, "GetShardIterator", name))
        self.assertClientError("AccessDeniedException", p.add_tags_to_stream, StreamName=name,
                               Tags={"a": "b"}, message=self.denied(role, "AddTagsToStream", name))
        # the denied delete changed nothing
        self.assertEqual(self.admin.describe_stream_summary(StreamName=name)[
            "StreamDescriptionSummary"]["StreamStatus"], "ACTIVE")

    def test_consumer(self):
        name = self.new_stream("cons")
        self.admin.put_record(StreamName=name, Data=b"for consumer", PartitionKey="k")
        cc = K.client("consumer")
        role = os.environ.get("KGW_CONSUMER_ROLE", "gw_consumer")
        records, _ = K.read_shard(cc, name, "shardId-000000000000")
        self.assertEqual([x["Data"] for x in records], [b"for consumer"])
        self.assertClientError("AccessDeniedException", cc.put_record, StreamName=name,
                               Data=b"x", PartitionKey="k",
                               message=self.denied(role, "PutRecord", name))
        # an iterator obtained by the consumer is no capability for the producer
        it = cc.get_shard_iterator(StreamName=name, ShardId="shardId-000000000000",
                                   ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        p = K.client("producer")
        prole = os.environ.get("KGW_PRODUCER_ROLE", "gw_producer")
        self.assertClientError("AccessDeniedException", p.get_records, ShardIterator=it,
                               message=self.denied(prole, "GetRecords", name))

    def test_nobody(self):
        n = K.client("nobody")
        self.assertClientError("AccessDeniedException", n.list_streams)
        name = self.new_stream("nob")
        self.assertClientError("AccessDeniedException", n.describe_stream, StreamName=name)
        self.assertClientError("AccessDeniedException", n.create_stream,
                               StreamName=K.unique_name("nobody_made"), ShardCount=1)

    def test_per_stream_grant(self):
        scoped = os.environ.get("KGW_SCOPED_STREAM")
        role = os.environ.get("KGW_SCOPED_ROLE", "gw_scoped")
        if not scoped:
            self.skipTest("KGW_SCOPED_STREAM not set")
        K.delete_quietly(self.admin, scoped)
        K.wait_gone(self.admin, scoped)
        self._streams.append(scoped)
        K.create_stream(self.admin, scoped, 1)
        other = self.new_stream("notscoped")
        s = K.client("scoped")
        s.put_record(StreamName=scoped, Data=b"granted", PartitionKey="k")
        s.put_records(StreamName=scoped, Records=[{"Data": b"granted2", "PartitionKey": "k"}])
        self.assertClientError("AccessDeniedException", s.put_record, StreamName=other,
                               Data=b"x", PartitionKey="k",
                               message=self.denied(role, "PutRecord", other))
        self.assertClientError("AccessDeniedException", s.get_shard_iterator, StreamName=scoped,
                               ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON",
                               message=self.denied(role, "GetShardIterator", scoped))
        records, _ = K.read_shard(self.admin, scoped, "shardId-000000000000")
        self.assertEqual([x["Data"] for x in records], [b"granted", b"granted2"])

    def test_presigned_style_date_skew(self):
        # a request signed 20 minutes ago is refused (SigV4's 15 minute window)
        key, secret = K.credentials("admin")
        body = b"{}"
        status, headers, resp = raw_request("POST", "ListStreams", body, key=key, secret=secret,
                                            when=time.time() - 1200)
        self.assertEqual(status, 400)
        doc = json.loads(resp)
        self.assertIn(doc["__type"], ("InvalidSignatureException", "SignatureDoesNotMatch"))


# ---------------------------------------------------------------------------
# Consumers and SubscribeToShard
# ---------------------------------------------------------------------------
def wait_consumer_active(c, consumer_arn, timeout=30):
    deadline = time.time() + timeout
    while True:
        d = c.describe_stream_consumer(ConsumerARN=consumer_arn)["ConsumerDescription"]
        if d["ConsumerStatus"] == "ACTIVE":
            return d
        if time.time() > deadline:
            raise AssertionError("consumer %s still %s" % (consumer_arn, d["ConsumerStatus"]))
        time.sleep(0.3)


@requires_gateway
class TestConsumers(Base):

    def test_register_describe_list_deregister(self):
        c = self.admin
        name = self.new_stream("reg")
        sarn = K.arn(name)
        r = c.register_stream_consumer(StreamARN=sarn, ConsumerName="app1")["Consumer"]
        self.assertEqual(r["ConsumerName"], "app1")
        self.assertRegex(r["ConsumerARN"], r"^%s/consumer/app1:\d+$" % sarn.replace(".", r"\."))
        self.assertIn(r["ConsumerStatus"], ("CREATING", "ACTIVE"))
        self.assertIsInstance(r["ConsumerCreationTimestamp"], datetime.datetime)
        d = wait_consumer_active(c, r["ConsumerARN"])
        self.assertEqual(d["StreamARN"], sarn)
        self.assertEqual(d["ConsumerARN"], r["ConsumerARN"])
        d2 = c.describe_stream_consumer(StreamARN=sarn, ConsumerName="app1")["ConsumerDescription"]
        self.assertEqual(d2["ConsumerARN"], r["ConsumerARN"])
        r2 = c.register_stream_consumer(StreamARN=sarn, ConsumerName="app2")["Consumer"]
        self.assertClientError(
            "ResourceInUseException", c.register_stream_consumer, StreamARN=sarn,
            ConsumerName="app1",
            message="Consumer app1 under stream %s already exists for account %s."
                    % (name, ACCOUNT))
        self.assertEqual(c.describe_stream_summary(StreamName=name)[
            "StreamDescriptionSummary"]["ConsumerCount"], 2)
        listed = c.list_stream_consumers(StreamARN=sarn)["Consumers"]
        self.assertEqual(sorted(x["ConsumerName"] for x in listed), ["app1", "app2"])
        page = c.list_stream_consumers(StreamARN=sarn, MaxResults=1)
        self.assertEqual(len(page["Consumers"]), 1)
        self.assertTrue(page.get("NextToken"))
        pages = list(c.get_paginator("list_stream_consumers").paginate(
            StreamARN=sarn, PaginationConfig={"PageSize": 1}))
        self.assertGreaterEqual(len(pages), 2)
        self.assertEqual(sorted(x["ConsumerName"] for p in pages for x in p["Consumers"]),
                         ["app1", "app2"])
        # the stream cannot go while consumers are registered
        self.assertClientError(
            "ResourceInUseException", c.delete_stream, StreamName=name,
            message="Stream %s under account %s has registered consumers; deregister them, or "
                    "set EnforceConsumerDeletion to delete them with the stream."
                    % (name, ACCOUNT))
        c.deregister_stream_consumer(ConsumerARN=r["ConsumerARN"])
        c.deregister_stream_consumer(StreamARN=sarn, ConsumerName="app2")
        deadline = time.time() + 30
        while True:
            left = c.list_stream_consumers(StreamARN=sarn)["Consumers"]
            if not left:
                break
            self.assertLess(time.time(), deadline, left)
            time.sleep(0.3)
        self.assertTrue(r2)
        self.assertClientError(
            "ResourceNotFoundException", c.describe_stream_consumer, StreamARN=sarn,
            ConsumerName="app1",
            message="Consumer app1 under stream %s not found." % name)
        self.assertClientError(
            "InvalidArgumentException", c.describe_stream_consumer, StreamARN=sarn,
            message="Either ConsumerARN or both ConsumerName and StreamARN must be provided.")
        c.delete_stream(StreamName=name)
        K.wait_gone(c, name)

    def test_delete_stream_enforce_consumer_deletion(self):
        c = self.admin
        name = self.new_stream("enf")
        c.register_stream_consumer(StreamARN=K.arn(name), ConsumerName="x")
        c.delete_stream(StreamName=name, EnforceConsumerDeletion=True)
        K.wait_gone(c, name)


def collect_events(stream, until, timeout=30):
    """Iterate a SubscribeToShard EventStream until until(events) is true or timeout.
    Returns the list of SubscribeToShardEvent payloads."""
    events = []
    deadline = time.time() + timeout
    for ev in stream:
        if "SubscribeToShardEvent" in ev:
            events.append(ev["SubscribeToShardEvent"])
        else:
            raise AssertionError("unexpected event %r" % (ev,))
        if until(events) or time.time() > deadline:
            break
    return events


@requires_gateway
class TestSubscribeToShard(Base):

    def setUp(self):
        super().setUp()
        self.consumer = K.client("consumer", read_timeout=20)

    def register(self, name, cname="sub"):
        r = self.consumer.register_stream_consumer(StreamARN=K.arn(name), ConsumerName=cname)
        wait_consumer_active(self.consumer, r["Consumer"]["ConsumerARN"])
        return r["Consumer"]["ConsumerARN"]

    def test_subscribe_trim_horizon(self):
        c = self.admin
        name = self.new_stream("sub1")
        carn = self.register(name)
        puts = c.put_records(StreamName=name, Records=[
            {"Data": b"ev-%d" % i, "PartitionKey": "k"} for i in range(10)])["Records"]
        resp = self.consumer.subscribe_to_shard(ConsumerARN=carn, ShardId="shardId-000000000000",
                                                StartingPosition={"Type": "TRIM_HORIZON"})
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 200)
        self.assertTrue(resp["ResponseMetadata"].get("RequestId"))
        es = resp["EventStream"]
        try:
            events = collect_events(es, lambda evs: sum(len(e["Records"]) for e in evs) >= 10)
        finally:
            es.close()
        records = [r for e in events for r in e["Records"]]
        self.assertEqual([r["Data"] for r in records], [b"ev-%d" % i for i in range(10)])
        self.assertEqual([r["SequenceNumber"] for r in records],
                         [p["SequenceNumber"] for p in puts])
        for r in records:
            self.assertEqual(r["PartitionKey"], "k")
            self.assertIsInstance(r["ApproximateArrivalTimestamp"], datetime.datetime)
        last_with_records = [e for e in events if e["Records"]][-1]
        self.assertEqual(last_with_records["ContinuationSequenceNumber"],
                         records[-1]["SequenceNumber"])
        for e in events:
            self.assertRegex(e["ContinuationSequenceNumber"], SEQ_RE)
            self.assertIsInstance(e["MillisBehindLatest"], int)
        self.assertEqual(events[-1]["MillisBehindLatest"], 0)

    def test_subscribe_live_and_continuation(self):
        c = self.admin
        name = self.new_stream("sub2")
        carn = self.register(name)
        first = c.put_record(StreamName=name, Data=b"old", PartitionKey="k")
        resp = self.consumer.subscribe_to_shard(
            ConsumerARN=carn, ShardId="shardId-000000000000",
            StartingPosition={"Type": "AFTER_SEQUENCE_NUMBER",
                              "SequenceNumber": first["SequenceNumber"]})
        es = resp["EventStream"]

        def producer():
            time.sleep(1.0)
            for i in range(3):
                c.put_record(StreamName=name, Data=b"live-%d" % i, PartitionKey="k")
                time.sleep(0.2)

        t = threading.Thread(target=producer)
        t.start()
        try:
            events = collect_events(es, lambda evs: sum(len(e["Records"]) for e in evs) >= 3,
                                    timeout=25)
        finally:
            t.join()
            es.close()
        records = [r["Data"] for e in events for r in e["Records"]]
        self.assertEqual(records, [b"live-0", b"live-1", b"live-2"])
        cont = events[-1]["ContinuationSequenceNumber"]
        # resume from the continuation number: only what comes after
        c.put_record(StreamName=name, Data=b"after", PartitionKey="k")
        resp = self.consumer.subscribe_to_shard(
            ConsumerARN=carn, ShardId="shardId-000000000000",
            StartingPosition={"Type": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": cont})
        es = resp["EventStream"]
        try:
            events = collect_events(es, lambda evs: any(e["Records"] for e in evs))
        finally:
            es.close()
        self.assertEqual([r["Data"] for e in events for r in e["Records"]], [b"after"])

    def test_subscribe_at_timestamp_and_latest(self):
        c = self.admin
        name = self.new_stream("sub3")
        carn = self.register(name)
        c.put_record(StreamName=name, Data=b"a", PartitionKey="k")
        time.sleep(1.1)
        mid = datetime.datetime.now(datetime.timezone.utc)
        time.sleep(0.1)
        c.put_record(StreamName=name, Data=b"b", PartitionKey="k")
        resp = self.consumer.subscribe_to_shard(
            ConsumerARN=carn, ShardId="shardId-000000000000",
            StartingPosition={"Type": "AT_TIMESTAMP", "Timestamp": mid})
        es = resp["EventStream"]
        try:
            events = collect_events(es, lambda evs: any(e["Records"] for e in evs))
        finally:
            es.close()
        self.assertEqual([r["Data"] for e in events for r in e["Records"]], [b"b"])
        # LATEST with nothing new: an event without records (AWS sends one at least every 5 s)
        resp = self.consumer.subscribe_to_shard(
            ConsumerARN=carn, ShardId="shardId-000000000000", StartingPosition={"Type": "LATEST"})
        es = resp["EventStream"]
        t0 = time.time()
        try:
            events = collect_events(es, lambda evs: len(evs) >= 1, timeout=15)
        finally:
            es.close()
        self.assertLess(time.time() - t0, 10)
        self.assertEqual(events[0]["Records"], [])
        self.assertRegex(events[0]["ContinuationSequenceNumber"], SEQ_RE)

    def test_subscribe_child_shards_after_split(self):
        c = self.admin
        name = self.new_stream("sub4")
        carn = self.register(name)
        c.put_records(StreamName=name, Records=[{"Data": b"p%d" % i, "PartitionKey": "k"}
                                                for i in range(3)])
        c.split_shard(StreamName=name, ShardToSplit="shardId-000000000000",
                      NewStartingHashKey=str(2 ** 127))
        K.wait_active(c, name)
        resp = self.consumer.subscribe_to_shard(
            ConsumerARN=carn, ShardId="shardId-000000000000",
            StartingPosition={"Type": "TRIM_HORIZON"})
        es = resp["EventStream"]
        try:
            events = collect_events(es, lambda evs: any(e.get("ChildShards") for e in evs))
            # after ChildShards the subscription ends
            rest = list(es)
        finally:
            es.close()
        self.assertEqual([r["Data"] for e in events for r in e["Records"]], [b"p0", b"p1", b"p2"])
        kids = [e for e in events if e.get("ChildShards")][-1]["ChildShards"]
        self.assertEqual(sorted(k["ShardId"] for k in kids),
                         ["shardId-000000000001", "shardId-000000000002"])
        for k in kids:
            self.assertEqual(k["ParentShards"], ["shardId-000000000000"])
            self.assertIn("HashKeyRange", k)
        self.assertEqual([e for e in rest if e.get("SubscribeToShardEvent", {}).get("Records")],
                         [])

    def test_subscribe_errors(self):
        name = self.new_stream("sub5")
        carn = self.register(name)
        fake = carn.rsplit(":", 1)[0] + "x:1"
        with self.assertRaises((ClientError, EventStreamError)) as cm:
            r = self.consumer.subscribe_to_shard(ConsumerARN=fake, ShardId="shardId-000000000000",
                                                 StartingPosition={"Type": "LATEST"})
            list(r["EventStream"])
        self.assertEqual(cm.exception.response["Error"]["Code"], "ResourceNotFoundException")
        with self.assertRaises((ClientError, EventStreamError)) as cm:
            r = self.consumer.subscribe_to_shard(ConsumerARN=carn, ShardId="shardId-000000000007",
                                                 StartingPosition={"Type": "LATEST"})
            list(r["EventStream"])
        self.assertEqual(cm.exception.response["Error"]["Code"], "ResourceNotFoundException")
        p = K.client("producer")
        with self.assertRaises((ClientError, EventStreamError)) as cm:
            r = p.subscribe_to_shard(ConsumerARN=carn, ShardId="shardId-000000000000",
                                     StartingPosition={"Type": "LATEST"})
            list(r["EventStream"])
        self.assertEqual(cm.exception.response["Error"]["Code"], "AccessDeniedException")


# ---------------------------------------------------------------------------
# Raw HTTP
# ---------------------------------------------------------------------------
def raw_request(method, target, body=b"", key=None, secret=None, sign=True, when=None,
                content_type="application/x-amz-json-1.1", endpoint=None, extra_headers=None):
    """One HTTP request with http.client, SigV4-signed with the admin key unless sign=False.
    Returns (status, headers dict with lower-case names, body bytes)."""
    url = urllib.parse.urlsplit(endpoint or K.ENDPOINT)
    headers = {"Content-Type": content_type}
    if target is not None:
        headers["X-Amz-Target"] = "Kinesis_20131202.%s" % target
    if extra_headers:
        headers.update(extra_headers)
    if sign:
        if key is None:
            key, secret = K.credentials("admin")
        req = AWSRequest(method=method, url=(endpoint or K.ENDPOINT) + "/", data=body,
                         headers=headers)
        auth = SigV4Auth(Credentials(key, secret), "kinesis", REGION)
        if when is not None:
            # sign as of another time
            import botocore.auth as ba
            real = ba.datetime.datetime

            class Fake(real):
                @classmethod
                def utcnow(cls):
                    return real.utcfromtimestamp(when)
            ba.datetime.datetime = Fake
            try:
                auth.add_auth(req)
            finally:
                ba.datetime.datetime = real
        else:
            auth.add_auth(req)
        headers = dict(req.headers.items())
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    try:
        conn.request(method, "/", body=body if method not in ("GET", "HEAD") or body else None,
                     headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
    finally:
        conn.close()


class TestRawHttp(unittest.TestCase):

    def assertAccessDenied403(self, status, headers, body):
        # AWS answers a non-POST with 403 and an XML AccessDeniedException
        # ("Unable to determine service/operation name to be authorized"); JSON is fine too
        self.assertEqual(status, 403)
        self.assertTrue(headers.get("x-amzn-requestid"))
        if not GATEWAY:
            return
        if body.lstrip().startswith(b"{"):
            self.assertEqual(json.loads(body)["__type"], "AccessDeniedException")
        else:
            self.assertIn(b"<AccessDeniedException>", body)
            self.assertEqual(headers.get("x-amzn-errortype"), "AccessDeniedException")

    def test_get_is_403(self):
        self.assertAccessDenied403(*raw_request("GET", "ListStreams", b""))

    def test_put_method_is_403(self):
        self.assertAccessDenied403(*raw_request("PUT", "ListStreams", b"{}"))

    def test_unknown_operation(self):
        status, headers, body = raw_request("POST", "NoSuchOperation", b"{}")
        self.assertEqual(status, 400)
        self.assertIn("x-amzn-requestid", headers)
        self.assertEqual(json.loads(body)["__type"], "UnknownOperationException")

    def test_request_id_and_content_type(self):
        status, headers, body = raw_request("POST", "ListStreams", b"{}")
        self.assertEqual(status, 200)
        self.assertTrue(headers.get("x-amzn-requestid"))
        self.assertTrue(headers.get("content-type", "").startswith("application/x-amz-json-1.1"))
        doc = json.loads(body)
        self.assertIsInstance(doc["StreamNames"], list)
        self.assertIsInstance(doc["HasMoreStreams"], bool)
        s2, h2, _ = raw_request("POST", "ListStreams", b"{}")
        self.assertNotEqual(headers["x-amzn-requestid"], h2["x-amzn-requestid"])

    def test_error_body_shape(self):
        status, headers, body = raw_request("POST", "DescribeStream",
                                            json.dumps({"StreamName": "kgw_no_such"}).encode())
        self.assertEqual(status, 400)
        self.assertTrue(headers.get("x-amzn-requestid"))
        doc = json.loads(body)
        self.assertEqual(doc, {"__type": "ResourceNotFoundException",
                               "message": not_found("kgw_no_such")})

    @requires_gateway
    def test_missing_auth_raw(self):
        status, headers, body = raw_request("POST", "ListStreams", b"{}", sign=False)
        self.assertEqual(status, 400)
        self.assertTrue(headers.get("x-amzn-requestid"))
        self.assertEqual(json.loads(body), {"__type": "MissingAuthenticationTokenException",
                                            "message": "Missing Authentication Token"})

    @requires_gateway
    def test_malformed_json(self):
        status, headers, body = raw_request("POST", "ListStreams", b"{not json")
        self.assertEqual(status, 400)
        self.assertEqual(json.loads(body)["__type"], "SerializationException")

    def test_keep_alive(self):
        # several requests on one connection, as SDKs pool them
        url = urllib.parse.urlsplit(K.ENDPOINT)
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        key, secret = K.credentials("admin")
        try:
            for _ in range(5):
                req = AWSRequest(method="POST", url=K.ENDPOINT + "/", data=b"{}", headers={
                    "Content-Type": "application/x-amz-json-1.1",
                    "X-Amz-Target": "Kinesis_20131202.ListStreams"})
                SigV4Auth(Credentials(key, secret), "kinesis", REGION).add_auth(req)
                conn.request("POST", "/", body=b"{}", headers=dict(req.headers.items()))
                resp = conn.getresponse()
                self.assertEqual(resp.status, 200)
                resp.read()
        finally:
            conn.close()


if __name__ == "__main__":
    K.run_tests()
