#!/usr/bin/python3
"""Load test of kinesis-gateway with boto3: KGW_LOAD_CLIENTS concurrent clients (threads,
each with its own boto3 clients and connections, putting as the producer role and reading
as the consumer role, no retries) put_records and get_records
for KGW_LOAD_SECONDS seconds (or KGW_LOAD_REQUESTS requests each), then every shard is
read from TRIM_HORIZON and checked: every acknowledged record is there exactly once with
its data and shard, nothing else is there, sequence numbers increase; no 5xx; the gateway
is still alive and answering; its peak RSS (VmHWM of KGW_PID) stays below
KGW_LOAD_RSS_LIMIT_MIB.

    /usr/bin/python3 test/gateway/load.py

Knobs (environment): KGW_LOAD_CLIENTS (64), KGW_LOAD_SECONDS (20), KGW_LOAD_REQUESTS (400
per client), KGW_LOAD_SHARDS (4), KGW_LOAD_BATCH (10 records per PutRecords),
KGW_LOAD_RSS_LIMIT_MIB (256).  Prints ok/not ok lines and "N passed, N failed".
"""

import hashlib
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from botocore.exceptions import ClientError  # noqa: E402

import kgw_common as K  # noqa: E402

CLIENTS = int(os.environ.get("KGW_LOAD_CLIENTS", "64"))
SECONDS = float(os.environ.get("KGW_LOAD_SECONDS", "20"))
REQUESTS = int(os.environ.get("KGW_LOAD_REQUESTS", "400"))
SHARDS = int(os.environ.get("KGW_LOAD_SHARDS", "4"))
BATCH = int(os.environ.get("KGW_LOAD_BATCH", "10"))
RSS_LIMIT_MIB = float(os.environ.get("KGW_LOAD_RSS_LIMIT_MIB", "256"))


def payload(key):
    """The data of the record named key: the key, '|', then 20..419 bytes derived from it,
    so that the check needs to keep only the key."""
    h = hashlib.sha1(key.encode()).hexdigest()
    n = 20 + int(h[:4], 16) % 400
    return (key + "|" + (h * (n // 40 + 1))[:n]).encode()


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.acked = {}          # key -> (shard, seq)
        self.unknown = set()     # keys whose put's outcome is unknown (transport error)
        self.entry_errors = {}   # ErrorCode -> count (PutRecords per-entry failures)
        self.errors = {}         # (kind, code, status) -> count
        self.first_errors = []
        self.status_5xx = 0
        self.requests = 0
        self.latencies = []
        self.read_records = 0
        self.read_order_violations = 0

    def error(self, kind, code, status, text):
        with self.lock:
            self.errors[(kind, code, status)] = self.errors.get((kind, code, status), 0) + 1
            if status is not None and status >= 500:
                self.status_5xx += 1
            if len(self.first_errors) < 10:
                self.first_errors.append("%s %s %s: %s" % (kind, code, status, text[:300]))


def worker(cid, cs, stream, shard_ids, deadline, stats, start_barrier):
    c, reader = cs
    start_barrier.wait()
    n = 0
    iterators = {}
    last_seq = {}
    lat = []
    while time.time() < deadline and n < REQUESTS:
        n += 1
        # a PutRecords of BATCH records
        keys = ["c%d-%d-%d" % (cid, n, i) for i in range(BATCH)]
        entries = [{"Data": payload(k), "PartitionKey": "pk-%d-%d" % (cid, (n * BATCH + i) % 97)}
                   for i, k in enumerate(keys)]
        t0 = time.time()
        try:
            r = c.put_records(StreamName=stream, Records=entries)
            lat.append(time.time() - t0)
            with stats.lock:
                stats.requests += 1
                for k, res in zip(keys, r["Records"]):
                    if "ErrorCode" in res:
                        stats.entry_errors[res["ErrorCode"]] = \
                            stats.entry_errors.get(res["ErrorCode"], 0) + 1
                    else:
                        stats.acked[k] = (res["ShardId"], res["SequenceNumber"])
        except ClientError as e:
            code, msg, status = K.error_of(e)
            stats.error("PutRecords", code, status, msg or "")
            if status is None or status >= 500:
                with stats.lock:
                    stats.unknown.update(keys)
        except Exception as e:  # transport: the outcome of the put is unknown
            stats.error("PutRecords", type(e).__name__, None, str(e))
            with stats.lock:
                stats.unknown.update(keys)
        # every other round, a GetRecords on one shard, following its iterator
        if n % 2 == 0 and time.time() < deadline:
            shard = shard_ids[(cid + n // 2) % len(shard_ids)]
            t0 = time.time()
            try:
                it = iterators.get(shard)
                if it is None:
                    it = reader.get_shard_iterator(StreamName=stream, ShardId=shard,
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
                    with stats.lock:
                        stats.requests += 1
                g = reader.get_records(ShardIterator=it, Limit=100)
                lat.append(time.time() - t0)
                iterators[shard] = g.get("NextShardIterator")
                prev = last_seq.get(shard, -1)
                bad = 0
                for rec in g["Records"]:
                    s = int(rec["SequenceNumber"])
                    if s <= prev:
                        bad += 1
                    prev = s
                last_seq[shard] = prev
                with stats.lock:
                    stats.requests += 1
                    stats.read_records += len(g["Records"])
                    stats.read_order_violations += bad
            except ClientError as e:
                code, msg, status = K.error_of(e)
                stats.error("GetRecords", code, status, msg or "")
                iterators.pop(shard, None)
            except Exception as e:
                stats.error("GetRecords", type(e).__name__, None, str(e))
                iterators.pop(shard, None)
    with stats.lock:
        stats.latencies.extend(lat)


def main():
    results = []

    def check(name, good, detail=""):
        results.append(good)
        print("%s %d - %s%s" % ("ok" if good else "not ok", len(results), name,
                                (": " + detail) if detail else ""), flush=True)

    pid = K.KGW_PID
    print("# %d clients, %.0f s or %d requests each, %d shards, batches of %d; gateway pid %s"
          % (CLIENTS, SECONDS, REQUESTS, SHARDS, BATCH, pid or "unknown"), flush=True)
    admin = K.client("admin", retries=3, read_timeout=60)
    stream = K.unique_name("load")
    try:
        K.create_stream(admin, stream, SHARDS)
    except Exception as e:
        check("create the load stream", False, repr(e))
        print("0 passed, %d failed" % len(results))
        return 1
    shard_ids = [s["ShardId"] for s in admin.list_shards(StreamName=stream)["Shards"]]
    hwm_before = K.vm_status(pid, "VmHWM") if pid else None
    rss_before = K.vm_status(pid, "VmRSS") if pid else None

    # each client puts as the producer role and reads as the consumer role (two boto3
    # clients, two connections), so the privilege checks run on every request
    clients = [(K.client("producer", retries=1, read_timeout=60, max_pool_connections=1),
                K.client("consumer", retries=1, read_timeout=60, max_pool_connections=1))
               for _ in range(CLIENTS)]
    stats = Stats()
    barrier = threading.Barrier(CLIENTS + 1)
    deadline = time.time() + SECONDS + 1
    threads = [threading.Thread(target=worker, args=(i, clients[i], stream, shard_ids,
                                                     deadline, stats, barrier), daemon=True)
               for i in range(CLIENTS)]
    for t in threads:
        t.start()
    barrier.wait()
    t_start = time.time()
    peak_sampled = 0
    while any(t.is_alive() for t in threads):
        if pid:
            rss = K.vm_status(pid, "VmRSS")
            if rss:
                peak_sampled = max(peak_sampled, rss)
        time.sleep(0.5)
        if time.time() > deadline + 120:
            break
    elapsed = time.time() - t_start
    hung = sum(1 for t in threads if t.is_alive())
    check("every client finished", hung == 0, "%d threads still running" % hung if hung else "")

    lat = sorted(stats.latencies)

    def pct(p):
        return lat[min(len(lat) - 1, int(len(lat) * p))] * 1000 if lat else 0.0
    print("# %d requests in %.1f s (%.0f/s), %d records acknowledged (%.0f/s), %d read "
          "concurrently; latency p50 %.1f ms, p99 %.1f ms, max %.1f ms"
          % (stats.requests, elapsed, stats.requests / max(elapsed, 0.001), len(stats.acked),
             len(stats.acked) / max(elapsed, 0.001), stats.read_records, pct(0.5), pct(0.99),
             lat[-1] * 1000 if lat else 0.0), flush=True)
    if stats.errors:
        print("# errors: %s" % ", ".join("%s %s %s x%d" % (k[0], k[1], k[2], v)
                                         for k, v in sorted(stats.errors.items(), key=str)))
        for line in stats.first_errors:
            print("#   " + line)
    if stats.entry_errors:
        print("# PutRecords entry errors: %r" % stats.entry_errors)

    check("requests were made", stats.requests >= CLIENTS, "%d requests" % stats.requests)
    check("no 5xx response", stats.status_5xx == 0, "%d" % stats.status_5xx)
    check("no error response or transport error", not stats.errors,
          "; ".join(stats.first_errors[:3]))
    check("no failed PutRecords entry other than throttling",
          all(k == "ProvisionedThroughputExceededException" for k in stats.entry_errors),
          repr(stats.entry_errors))
    check("concurrent readers saw increasing sequence numbers",
          stats.read_order_violations == 0, "%d violations" % stats.read_order_violations)

    # the gateway is alive and answers
    alive = True
    if pid:
        try:
            os.kill(int(pid), 0)
        except OSError:
            alive = False
    try:
        admin.describe_stream_summary(StreamName=stream)
        answers = True
    except Exception as e:
        answers = False
        print("# after the load: %r" % e)
    check("gateway alive and answering after the load", alive and answers,
          "pid %s alive=%s answers=%s" % (pid, alive, answers))

    # read everything back
    found = {}
    dup = 0
    phantom = 0
    bad_data = 0
    order_bad = 0
    reader = K.client("admin", retries=3, read_timeout=120)
    total_read = 0
    try:
        for shard in shard_ids:
            records, _ = K.read_shard(reader, stream, shard, limit=10000, max_empty=2)
            prev = -1
            for rec in records:
                total_read += 1
                s = int(rec["SequenceNumber"])
                if s <= prev:
                    order_bad += 1
                prev = s
                data = rec["Data"]
                key = data.split(b"|", 1)[0].decode(errors="replace")
                if payload(key) != data:
                    bad_data += 1
                    continue
                if key in found:
                    dup += 1
                    continue
                found[key] = (shard, rec["SequenceNumber"])
                if key not in stats.acked and key not in stats.unknown:
                    phantom += 1
        read_ok = True
    except Exception as e:
        read_ok = False
        print("# reading back failed: %r" % e)
    check("read every shard back from TRIM_HORIZON", read_ok, "%d records" % total_read)
    missing = [k for k in stats.acked if k not in found]
    moved = [k for k, v in stats.acked.items() if k in found and found[k] != v]
    check("every acknowledged record is there (nothing lost)", read_ok and not missing,
          "%d of %d missing, e.g. %s" % (len(missing), len(stats.acked), missing[:3])
          if missing else "%d records" % len(stats.acked))
    check("each record once, with its shard, sequence number and data",
          read_ok and dup == 0 and bad_data == 0 and not moved,
          "%d duplicates, %d with wrong data, %d at another shard/sequence number"
          % (dup, bad_data, len(moved)))
    check("no record that was not put", read_ok and phantom == 0, "%d" % phantom)
    check("sequence numbers increase within each shard", read_ok and order_bad == 0,
          "%d" % order_bad)

    # memory
    if pid:
        hwm = K.vm_status(pid, "VmHWM")
        rss = K.vm_status(pid, "VmRSS")
        print("# gateway memory: VmHWM %s kB (before the load %s kB), VmRSS %s kB (before %s "
              "kB, peak sampled %s kB)" % (hwm, hwm_before, rss, rss_before, peak_sampled),
              flush=True)
        if hwm is None:
            check("gateway peak RSS readable", False, "/proc/%s/status" % pid)
        else:
            check("gateway peak RSS (VmHWM) below %.0f MiB" % RSS_LIMIT_MIB,
                  hwm < RSS_LIMIT_MIB * 1024, "%.1f MiB" % (hwm / 1024.0))
    else:
        print("# KGW_PID not set: no memory check")

    K.delete_quietly(admin, stream)
    passed = sum(1 for r in results if r)
    failed = len(results) - passed
    print("%d passed, %d failed" % (passed, failed), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
