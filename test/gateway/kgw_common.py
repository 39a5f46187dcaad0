"""Shared helpers of the Python suites that drive kinesis-gateway with real clients.

Environment (exported by test/gateway/run.sh):
  KGW_ENDPOINT          http://127.0.0.1:PORT of the gateway with --auth sigv4
  KGW_ENDPOINT_NOAUTH   http://127.0.0.1:PORT of the gateway with --auth none
  KGW_REGION            region the gateway was started with (us-east-1)
  KGW_ACCOUNT           account id in ARNs and messages (000000000000)
  KGW_<ROLE>_KEY/SECRET access keys, ROLE in ADMIN PRODUCER CONSUMER NOBODY SCOPED
  KGW_SCOPED_ROLE       the role behind KGW_SCOPED_KEY (only per-stream grants)
  KGW_SCOPED_STREAM     the stream name KGW_SCOPED_ROLE may put to (kinesis:PutRecord*)
  KGW_PID               pid of the sigv4 gateway (memory checks)
  KGW_BACKEND           'gateway' (default) or 'kinesalite': against kinesalite
                        (development only) the tests of what it lacks are skipped
"""

import itertools
import os
import random
import string
import sys
import time
import unittest

import boto3
import botocore
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

ENDPOINT = os.environ.get("KGW_ENDPOINT", "http://127.0.0.1:4567")
ENDPOINT_NOAUTH = os.environ.get("KGW_ENDPOINT_NOAUTH", "")
REGION = os.environ.get("KGW_REGION", "us-east-1")
ACCOUNT = os.environ.get("KGW_ACCOUNT", "000000000000")
BACKEND = os.environ.get("KGW_BACKEND", "gateway")
GATEWAY = BACKEND == "gateway"
KGW_PID = os.environ.get("KGW_PID", "")

ROLES = ("admin", "producer", "consumer", "nobody", "scoped")

# a key that no role has, for the 'unknown key' checks
UNKNOWN_KEY = "AKIAKGWTESTUNKNOWN00"

requires_gateway = unittest.skipUnless(GATEWAY, "not supported by %s" % BACKEND)


def credentials(role="admin"):
    """(access key id, secret) of a test role; kinesalite accepts anything."""
    key = os.environ.get("KGW_%s_KEY" % role.upper())
    secret = os.environ.get("KGW_%s_SECRET" % role.upper())
    if not key or not secret:
        if GATEWAY:
            raise unittest.SkipTest("KGW_%s_KEY/SECRET not set" % role.upper())
        return ("AKIDKINESALITE%s" % role.upper(), "kinesalite-secret")
    return key, secret


def arn(stream):
    return "arn:aws:kinesis:%s:%s:stream/%s" % (REGION, ACCOUNT, stream)


def client_config(unsigned=False, retries=1, read_timeout=30, **extra):
    cfg = dict(
        region_name=REGION,
        retries={"total_max_attempts": retries, "mode": "standard"},
        connect_timeout=5,
        read_timeout=read_timeout,
        parameter_validation=True,
    )
    cfg.update(extra)
    if unsigned:
        cfg["signature_version"] = UNSIGNED
    return Config(**cfg)


def client(role="admin", endpoint=None, unsigned=False, key=None, secret=None,
           retries=1, read_timeout=30, **extra):
    """A boto3 Kinesis client of its own session (thread-safe to create one per thread
    only when created from one thread at a time: do that in the main thread)."""
    if unsigned:
        session = boto3.session.Session(region_name=REGION)
    else:
        if key is None or secret is None:
            k, s = credentials(role)
            key = key if key is not None else k
            secret = secret if secret is not None else s
        session = boto3.session.Session(aws_access_key_id=key, aws_secret_access_key=secret,
                                        region_name=REGION)
    return session.client("kinesis", endpoint_url=endpoint or ENDPOINT,
                          config=client_config(unsigned, retries, read_timeout, **extra))


_counter = itertools.count(1)


def unique_name(prefix):
    tag = "".join(random.choice(string.ascii_lowercase + string.digits) for _ in range(6))
    return "kgw_%s_%d_%d_%s" % (prefix, os.getpid(), next(_counter), tag)


def wait_active(c, name, delay=1, attempts=60):
    c.get_waiter("stream_exists").wait(StreamName=name,
                                       WaiterConfig={"Delay": delay, "MaxAttempts": attempts})


def wait_gone(c, name, delay=1, attempts=60):
    c.get_waiter("stream_not_exists").wait(StreamName=name,
                                           WaiterConfig={"Delay": delay, "MaxAttempts": attempts})


def create_stream(c, name, shards=1, wait=True):
    c.create_stream(StreamName=name, ShardCount=shards)
    if wait:
        wait_active(c, name)


def delete_quietly(c, name):
    """Best-effort cleanup of a stream a test made (with its consumers)."""
    try:
        if GATEWAY:
            c.delete_stream(StreamName=name, EnforceConsumerDeletion=True)
        else:
            c.delete_stream(StreamName=name)
    except ClientError:
        pass
    except Exception:  # connection trouble must not hide the test's own result
        pass


def error_of(exc):
    """(code, message, http status) of a ClientError."""
    err = exc.response.get("Error", {})
    return (err.get("Code"), err.get("Message"),
            exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode"))


def read_shard(c, stream, shard_id, iterator_type="TRIM_HORIZON", limit=10000,
               max_empty=3, max_calls=10000, **kw):
    """Every record of a shard from the given position: follows NextShardIterator until
    a closed shard ends (NextShardIterator absent) or, for an open shard, until a call
    returns nothing with MillisBehindLatest 0 (max_empty times in a row).
    Returns (records, last response)."""
    it = c.get_shard_iterator(StreamName=stream, ShardId=shard_id,
                              ShardIteratorType=iterator_type, **kw)["ShardIterator"]
    records = []
    empty = 0
    last = None
    for _ in range(max_calls):
        last = c.get_records(ShardIterator=it, Limit=limit)
        records.extend(last["Records"])
        nxt = last.get("NextShardIterator")
        if not nxt:
            break
        if not last["Records"] and last.get("MillisBehindLatest", 0) == 0:
            empty += 1
            if empty >= max_empty:
                break
        else:
            empty = 0
        it = nxt
    return records, last


def vm_status(pid, field):
    """A field of /proc/PID/status in kB (VmHWM, VmRSS), or None."""
    try:
        with open("/proc/%s/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


class Result(unittest.TextTestResult):
    pass


def run_tests(module=None):
    """Run the module's unittest cases verbosely and end with 'N passed, N failed, N skipped'.
    Arguments on the command line select tests as unittest does (Class.test_name)."""
    module = module or sys.modules["__main__"]
    loader = unittest.TestLoader()
    names = [a for a in sys.argv[1:] if not a.startswith("-")]
    if names:
        suite = loader.loadTestsFromNames(names, module)
    else:
        suite = loader.loadTestsFromModule(module)
    print("backend %s, endpoint %s, boto3 %s, botocore %s, python %s" % (
        BACKEND, ENDPOINT, boto3.__version__, botocore.__version__, sys.version.split()[0]),
        flush=True)
    start = time.time()
    runner = unittest.TextTestRunner(stream=sys.stdout, verbosity=2, resultclass=Result)
    res = runner.run(suite)
    failed = len(res.failures) + len(res.errors) + len(res.unexpectedSuccesses)
    skipped = len(res.skipped)
    passed = res.testsRun - len(res.failures) - len(res.errors) - len(res.unexpectedSuccesses) \
        - skipped
    # an error in setUpClass/tearDownClass is an error without a test: counted once
    passed = max(passed, 0)
    print("%.1f s" % (time.time() - start))
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped), flush=True)
    sys.exit(1 if failed or passed == 0 else 0)
