#!/usr/bin/python3
"""The client side of the gateway workloads of test/bench/run.sh (group "gateway").

The same boto3 code drives kinesis-gateway and kinesalite; the SQL-level figures of
the same workload come from psycopg2 in the same processes.  Every command prints, as
its last line, "name=value" pairs separated by spaces (as test/bench/benchdrv does),
which run.sh records.

    gateway.py create  --endpoint URL --stream NAME --shards N
    gateway.py put     --target gateway|kinesalite|sql|api ...  (--procs P --seconds S
                       --batch 500 --size 100): put_records from P processes for S s
    gateway.py load    --endpoint URL --stream NAME --records N --procs P --max-seconds S:
                       put_records of 500 x 100 B until N records or S seconds
    gateway.py drain   --endpoint URL --stream NAME --consumers C: get_records (Limit
                       10,000) from TRIM_HORIZON, following NextShardIterator, one
                       process per shard (C = the stream's shard count)
    gateway.py mixed   --endpoint URL --stream NAME --procs P --threads T --seconds S:
                       P x T clients, each its own boto3 client and connection,
                       alternating put_record (100 B) and get_records (Limit 100)

Connection options: --endpoint (http://127.0.0.1:PORT), --key/--secret (SigV4
credentials, by default $GWB_KEY/$GWB_SECRET; kinesalite accepts any), --dsn (libpq
conninfo, for --target sql|api).

Where the time goes: --server-pid (the gateway's or kinesalite's process) and --pg-pid
(the postmaster of the cluster behind the gateway): their CPU time (utime + stime from
/proc, the postmaster's children summed) is read before and after the timed part, and
each client process reports its own os.times(); printed as cpu_client_s, cpu_server_s,
cpu_pg_s next to wall_s, and cpu_machine_s (every process of the machine, from
/proc/stat: what is not ours is someone else's).  Memory: server_rss_kb and
server_hwm_kb (VmHWM) at the end; for mixed, server_hwm_kb_before/after too.

put and drain take --client lean: the same requests without boto3 (botocore's SigV4
signer, http.client, json.loads; Data left in base64), to show what is left of the
time when the client costs next to nothing.  The figures the group reports as the
comparison are boto3's.
"""

import argparse
import base64
import json
import multiprocessing as mp
import os
import queue
import random
import sys
import threading
import time

os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
os.environ["AWS_CONFIG_FILE"] = "/dev/null"
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = "/dev/null"
for _v in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
           "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
    os.environ.pop(_v, None)

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402

REGION = "us-east-1"
TICK = os.sysconf("SC_CLK_TCK")


# ------------------------------------------------------------------ helpers

def client(a):
    """A boto3 Kinesis client of its own session: no retries (an error is counted,
    not hidden), one connection per client."""
    session = boto3.session.Session(aws_access_key_id=a.key, aws_secret_access_key=a.secret,
                                    region_name=REGION)
    return session.client("kinesis", endpoint_url=a.endpoint, config=Config(
        retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=10,
        read_timeout=120, max_pool_connections=1, tcp_keepalive=True))


class LeanClient:
    """The same requests as boto3's, signed with botocore's SigV4 signer, sent on one
    http.client connection, the response parsed with json.loads and nothing more
    (Data stays base64): what a client costs at least, so that what remains is the
    server's.  Raises RuntimeError on an error response."""

    def __init__(self, a):
        from urllib.parse import urlparse
        import http.client
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials
        u = urlparse(a.endpoint)
        self.url = a.endpoint.rstrip("/") + "/"
        self.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
        self.auth = SigV4Auth(Credentials(a.key, a.secret), "kinesis", REGION)
        self.AWSRequest = AWSRequest

    def call(self, op, body):
        req = self.AWSRequest(method="POST", url=self.url, data=body.encode(), headers={
            "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "Kinesis_20131202." + op})
        self.auth.add_auth(req)
        self.conn.request("POST", "/", body=req.body, headers=dict(req.headers.items()))
        r = self.conn.getresponse()
        data = r.read()
        if r.status != 200:
            raise RuntimeError("HTTP %d %s" % (r.status, data[:120].decode(errors="replace")))
        return json.loads(data)


def cpu_of(pid):
    """utime + stime of a process, in seconds (None if it is gone)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK
    except (OSError, IndexError, ValueError):
        return None


def pg_cpu(postmaster):
    """{pid: cpu seconds} of the postmaster and its children (the backends, the
    gateway's pooled connections among them)."""
    out = {}
    if not postmaster:
        return out
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(d) == postmaster or int(fields[1]) == postmaster:
            out[int(d)] = (int(fields[11]) + int(fields[12])) / TICK
    return out


def status_kb(pid, field):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def machine_busy():
    """CPU seconds the whole machine spent busy (all CPUs), from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal ...
    return (v[0] + v[1] + v[2] + v[5] + v[6] + (v[7] if len(v) > 7 else 0)) / TICK


class Meter:
    """CPU of the server process, of the cluster and of the whole machine between
    start() and stop(); the server's memory at stop()."""

    def __init__(self, a):
        self.server_pid, self.pg_pid = a.server_pid, a.pg_pid

    def start(self):
        self.s0 = cpu_of(self.server_pid) if self.server_pid else None
        self.p0 = pg_cpu(self.pg_pid)
        self.m0 = machine_busy()
        self.t0 = time.monotonic()

    def stop(self):
        self.wall = time.monotonic() - self.t0
        self.machine = machine_busy() - self.m0
        s1 = cpu_of(self.server_pid) if self.server_pid else None
        p1 = pg_cpu(self.pg_pid)
        self.server = (s1 - self.s0) if s1 is not None and self.s0 is not None else 0.0
        # processes gone since start() are lost (the connections of the timed part
        # stay open until after stop())
        self.pg = sum(v - self.p0.get(pid, 0.0) for pid, v in p1.items())
        self.rss = status_kb(self.server_pid, "VmRSS") if self.server_pid else None
        self.hwm = status_kb(self.server_pid, "VmHWM") if self.server_pid else None

    def fields(self, client_cpu):
        out = {"wall_s": "%.3f" % self.wall, "cpu_client_s": "%.3f" % client_cpu,
               "cpu_server_s": "%.3f" % self.server, "cpu_pg_s": "%.3f" % self.pg,
               "cpu_machine_s": "%.3f" % self.machine, "ncpu": os.cpu_count()}
        if self.rss is not None:
            out.update({"server_rss_kb": self.rss, "server_hwm_kb": self.hwm})
        return out


def emit(d):
    print(" ".join("%s=%s" % (k, v) for k, v in d.items()), flush=True)


def first_error(errs):
    return next(iter(errs), "")


def run_workers(a, target, n, args_of):
    """Start n processes running target(a, i, start_event, done_event, queue, *args);
    each gets ready (clients made, a warm-up call), then waits for start.  Returns
    (results, meter) with the meter spanning start to the last result."""
    ready = mp.Queue()
    start, done = mp.Event(), mp.Event()
    q = mp.Queue()
    procs = [mp.Process(target=target, args=(a, i, ready, start, done, q) + tuple(args_of(i)))
             for i in range(n)]
    for p in procs:
        p.start()
    waiting, limit = n, time.monotonic() + 300
    while waiting:
        try:
            ready.get(timeout=1)
            waiting -= 1
        except queue.Empty:
            if time.monotonic() > limit or any(p.exitcode is not None for p in procs):
                for p in procs:
                    p.terminate()
                sys.exit("the client processes did not get ready (see above)")
    meter = Meter(a)
    meter.start()
    start.set()
    results = []
    while len(results) < n:
        try:
            results.append(q.get(timeout=1))
        except queue.Empty:
            if all(p.exitcode is not None for p in procs):
                sys.exit("the client processes ended without their results (see above)")
            if any(p.exitcode not in (None, 0) for p in procs):
                for p in procs:
                    p.terminate()
                sys.exit("a client process failed (see above)")
    meter.stop()
    done.set()
    for p in procs:
        p.join()
    return results, meter


def merge_errors(results):
    errs = {}
    for r in results:
        for k, v in r["errors"].items():
            errs[k] = errs.get(k, 0) + v
    return errs


def err_key(e):
    code = getattr(e, "response", {}).get("Error", {}).get("Code") if hasattr(e, "response") else None
    return "%s:%s" % (type(e).__name__, code or str(e)[:120].replace(" ", "_"))


# ------------------------------------------------------------------ create

def cmd_create(a):
    c = client(a)
    try:
        c.create_stream(StreamName=a.stream, ShardCount=a.shards)
    except c.exceptions.ResourceInUseException:
        c.delete_stream(StreamName=a.stream)
        for _ in range(600):
            try:
                c.describe_stream_summary(StreamName=a.stream)
            except c.exceptions.ResourceNotFoundException:
                break
            time.sleep(0.1)
        c.create_stream(StreamName=a.stream, ShardCount=a.shards)
    for _ in range(600):
        s = c.describe_stream_summary(StreamName=a.stream)["StreamDescriptionSummary"]
        if s["StreamStatus"] == "ACTIVE":
            break
        time.sleep(0.1)
    else:
        sys.exit("stream %s did not become ACTIVE" % a.stream)
    emit({"stream": a.stream, "shards": s["OpenShardCount"], "status": s["StreamStatus"]})


# ------------------------------------------------------------------ put

PUT_SQL = ("SELECT failed_record_count FROM kinesis.put_records(records => ARRAY("
           "SELECT ROW(%s::bytea, NULL, (random() * 1e9)::int::text)::kinesis.put_records_request_entry "
           "FROM generate_series(1, {n})), stream_name => %s)")


def put_worker(a, i, ready, start, done, q, deadline_s):
    rnd = random.Random(os.getpid())
    data = os.urandom(a.size)
    errors = {}
    calls = records = 0
    if a.target in ("sql", "api"):
        import psycopg2
        conn = psycopg2.connect(a.dsn)
        conn.autocommit = True
        cur = conn.cursor()
        if a.target == "sql":
            stmt = PUT_SQL.format(n=a.batch)

            def call():
                cur.execute(stmt, (psycopg2.Binary(data), a.stream))
                return cur.fetchone()[0]
        else:
            b64 = base64.b64encode(data).decode()

            def call():
                body = json.dumps({"StreamName": a.stream, "Records": [
                    {"Data": b64, "PartitionKey": str(rnd.randrange(10 ** 9))} for _ in range(a.batch)]})
                cur.execute("SELECT kinesis.api('PutRecords', %s::jsonb)", (body,))
                doc = cur.fetchone()[0]
                if "__type" in doc:
                    raise RuntimeError(doc["__type"])
                return doc.get("FailedRecordCount", 0)
    elif a.client == "lean":
        c = LeanClient(a)
        b64 = base64.b64encode(data).decode()

        def call():
            r = c.call("PutRecords", json.dumps({"StreamName": a.stream, "Records": [
                {"Data": b64, "PartitionKey": str(rnd.randrange(10 ** 9))} for _ in range(a.batch)]}))
            return r.get("FailedRecordCount", 0)
    else:
        c = client(a)

        def call():
            r = c.put_records(StreamName=a.stream, Records=[
                {"Data": data, "PartitionKey": str(rnd.randrange(10 ** 9))} for _ in range(a.batch)])
            return r.get("FailedRecordCount", 0)
    call()  # warm-up: connection, credentials, plan
    ready.put(i)
    start.wait()
    t0 = os.times()
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        try:
            failed = call()
            calls += 1
            records += a.batch - failed
            if failed:
                errors["FailedRecord"] = errors.get("FailedRecord", 0) + failed
        except Exception as e:  # noqa: BLE001 (counted, reported)
            errors[err_key(e)] = errors.get(err_key(e), 0) + 1
    t1 = os.times()
    q.put({"calls": calls, "records": records, "errors": errors,
           "cpu": (t1.user - t0.user) + (t1.system - t0.system)})
    done.wait()


def emit_records(results, m, records, extra=None):
    """Print the figures of a records workload: counts, rate, errors, CPU."""
    errs = merge_errors(results)
    out = {"records": records, "calls": sum(r["calls"] for r in results),
           "records_per_sec": "%.1f" % (records / m.wall), "errors": sum(errs.values())}
    out.update(extra or {})
    out.update(m.fields(sum(r["cpu"] for r in results)))
    if errs:
        print("errors: %s" % errs, file=sys.stderr)
        out["first_error"] = first_error(errs)
    emit(out)


def cmd_put(a):
    results, m = run_workers(a, put_worker, a.procs, lambda i: (a.seconds,))
    records = sum(r["records"] for r in results)
    emit_records(results, m, records)


# ------------------------------------------------------------------ load

def load_worker(a, i, ready, start, done, q, quota):
    rnd = random.Random(os.getpid())
    data = os.urandom(a.size)
    c = client(a)
    ready.put(i)
    start.wait()
    end = time.monotonic() + a.max_seconds
    loaded, errors = 0, {}
    while loaded < quota and time.monotonic() < end:
        n = min(a.batch, quota - loaded)
        try:
            r = c.put_records(StreamName=a.stream, Records=[
                {"Data": data, "PartitionKey": str(rnd.randrange(10 ** 9))} for _ in range(n)])
            loaded += n - r.get("FailedRecordCount", 0)
            if r.get("FailedRecordCount"):
                errors["FailedRecord"] = errors.get("FailedRecord", 0) + r["FailedRecordCount"]
        except Exception as e:  # noqa: BLE001
            errors[err_key(e)] = errors.get(err_key(e), 0) + 1
            if sum(errors.values()) > 20:
                break
    q.put({"records": loaded, "errors": errors, "cpu": 0.0})
    done.wait()


def cmd_load(a):
    per = [a.records // a.procs + (1 if i < a.records % a.procs else 0) for i in range(a.procs)]
    results, m = run_workers(a, load_worker, a.procs, lambda i: (per[i],))
    errs = merge_errors(results)
    records = sum(r["records"] for r in results)
    out = {"records": records, "seconds": "%.1f" % m.wall,
           "records_per_sec": "%.1f" % (records / m.wall), "errors": sum(errs.values()),
           "complete": int(records == a.records)}
    if errs:
        print("errors: %s" % errs, file=sys.stderr)
    emit(out)


# ------------------------------------------------------------------ drain

def drain_worker(a, i, ready, start, done, q, shard_ids):
    c = client(a)
    its = [c.get_shard_iterator(StreamName=a.stream, ShardId=s,
                                ShardIteratorType="TRIM_HORIZON")["ShardIterator"] for s in shard_ids]
    if a.client == "lean":
        lean = LeanClient(a)
        size = len(base64.b64encode(b"x" * a.size))

        def get(it):
            return lean.call("GetRecords", json.dumps({"ShardIterator": it, "Limit": a.limit}))
    else:
        size = a.size

        def get(it):
            return c.get_records(ShardIterator=it, Limit=a.limit)
    ready.put(i)
    start.wait()
    t0 = os.times()
    got = calls = bad = 0
    errors = {}
    last_seq = None
    for it in its:
        last_seq = None
        while it:
            try:
                r = get(it)
            except Exception as e:  # noqa: BLE001
                errors[err_key(e)] = errors.get(err_key(e), 0) + 1
                break
            calls += 1
            recs = r["Records"]
            for rec in recs:
                if len(rec["Data"]) != size:
                    bad += 1
            if recs:
                # sequence numbers increase within a shard
                s0 = int(recs[0]["SequenceNumber"])
                if last_seq is not None and s0 <= last_seq:
                    bad += 1
                last_seq = int(recs[-1]["SequenceNumber"])
            got += len(recs)
            it = r.get("NextShardIterator")
            if not recs and r.get("MillisBehindLatest", 0) == 0:
                break
    t1 = os.times()
    if bad:
        errors["BadRecord"] = bad
    q.put({"records": got, "calls": calls, "errors": errors,
           "cpu": (t1.user - t0.user) + (t1.system - t0.system)})
    done.wait()


def cmd_drain(a):
    c = client(a)
    shards = [s["ShardId"] for s in c.list_shards(StreamName=a.stream)["Shards"]]
    del c
    groups = [shards[i::a.consumers] for i in range(a.consumers)]
    results, m = run_workers(a, drain_worker, a.consumers, lambda i: (groups[i],))
    records = sum(r["records"] for r in results)
    emit_records(results, m, records,
                 {"missing": a.expect - records} if a.expect and records != a.expect else {})


# ------------------------------------------------------------------ mixed

def mixed_worker(a, i, ready, start, done, q, shard_ids):
    rnd = random.Random(os.getpid())
    data = os.urandom(a.size)
    # the clients are made here, one after the other (boto3 sessions are not made
    # concurrently), each with its shard's LATEST iterator
    clients = []
    for t in range(a.threads):
        c = client(a)
        sid = shard_ids[(i * a.threads + t) % len(shard_ids)]
        it = c.get_shard_iterator(StreamName=a.stream, ShardId=sid, ShardIteratorType="LATEST")["ShardIterator"]
        clients.append((c, it))
    lock = threading.Lock()
    tot = {"puts": 0, "gets": 0, "read": 0, "errors": {}, "lat": []}
    go = threading.Event()

    def run(c, it):
        puts = gets = read = 0
        errors, lat = {}, []
        end = time.monotonic() + a.seconds
        put = True
        while time.monotonic() < end:
            t = time.monotonic()
            try:
                if put:
                    c.put_record(StreamName=a.stream, Data=data, PartitionKey=str(rnd.randrange(10 ** 9)))
                    puts += 1
                else:
                    r = c.get_records(ShardIterator=it, Limit=100)
                    it = r.get("NextShardIterator") or it
                    read += len(r["Records"])
                    gets += 1
                lat.append(time.monotonic() - t)
            except Exception as e:  # noqa: BLE001
                errors[err_key(e)] = errors.get(err_key(e), 0) + 1
            put = not put
        with lock:
            tot["puts"] += puts
            tot["gets"] += gets
            tot["read"] += read
            tot["lat"].extend(lat)
            for k, v in errors.items():
                tot["errors"][k] = tot["errors"].get(k, 0) + v

    threads = [threading.Thread(target=lambda c=c, it=it: (go.wait(), run(c, it))) for c, it in clients]
    for th in threads:
        th.start()
    ready.put(i)
    start.wait()
    t0 = os.times()
    go.set()
    for th in threads:
        th.join()
    t1 = os.times()
    tot["cpu"] = (t1.user - t0.user) + (t1.system - t0.system)
    q.put(tot)
    done.wait()


def cmd_mixed(a):
    c = client(a)
    shards = [s["ShardId"] for s in c.list_shards(StreamName=a.stream)["Shards"]]
    del c
    hwm0 = status_kb(a.server_pid, "VmHWM") if a.server_pid else None
    rss0 = status_kb(a.server_pid, "VmRSS") if a.server_pid else None
    peak = [rss0 or 0]
    stop = threading.Event()

    def sample():
        # VmRSS every 100 ms (VmHWM has the peak; this is the RSS curve's top)
        while not stop.wait(0.1):
            v = status_kb(a.server_pid, "VmRSS")
            if v:
                peak[0] = max(peak[0], v)

    sampler = threading.Thread(target=sample)
    if a.server_pid:
        sampler.start()
    results, m = run_workers(a, mixed_worker, a.procs, lambda i: (shards,))
    stop.set()
    if a.server_pid:
        sampler.join()
    puts = sum(r["puts"] for r in results)
    gets = sum(r["gets"] for r in results)
    lat = sorted(x for r in results for x in r["lat"])
    errs = merge_errors(results)
    out = {"clients": a.procs * a.threads, "requests": puts + gets, "puts": puts, "gets": gets,
           "records_read": sum(r["read"] for r in results),
           "requests_per_sec": "%.1f" % ((puts + gets) / m.wall), "errors": sum(errs.values()),
           "p50_ms": "%.2f" % (1000 * lat[len(lat) // 2]) if lat else "nan",
           "p99_ms": "%.2f" % (1000 * lat[min(len(lat) - 1, len(lat) * 99 // 100)]) if lat else "nan"}
    out.update(m.fields(sum(r["cpu"] for r in results)))
    if a.server_pid:
        out.update({"server_hwm_kb_before": hwm0, "server_rss_kb_before": rss0,
                    "server_hwm_kb_after": status_kb(a.server_pid, "VmHWM"),
                    "server_rss_kb_after": status_kb(a.server_pid, "VmRSS"),
                    "server_rss_kb_peak_sampled": peak[0]})
    if errs:
        print("errors: %s" % errs, file=sys.stderr)
        out["first_error"] = first_error(errs)
    emit(out)


# ------------------------------------------------------------------ main

def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("command", choices=["create", "put", "load", "drain", "mixed"])
    p.add_argument("--target", default="gateway", choices=["gateway", "kinesalite", "sql", "api"])
    p.add_argument("--client", default="boto3", choices=["boto3", "lean"])
    p.add_argument("--endpoint")
    p.add_argument("--key", default=os.environ.get("GWB_KEY", "AKIDBENCHKINESALITE0"))
    p.add_argument("--secret", default=os.environ.get("GWB_SECRET", "kinesalite-accepts-any-secret"))
    p.add_argument("--dsn")
    p.add_argument("--stream", required=True)
    p.add_argument("--shards", type=int, default=4)
    p.add_argument("--procs", type=int, default=4)
    p.add_argument("--threads", type=int, default=8)
    p.add_argument("--consumers", type=int, default=1)
    p.add_argument("--seconds", type=float, default=15)
    p.add_argument("--max-seconds", type=float, default=180)
    p.add_argument("--records", type=int, default=0)
    p.add_argument("--expect", type=int, default=0)
    p.add_argument("--batch", type=int, default=500)
    p.add_argument("--size", type=int, default=100)
    p.add_argument("--limit", type=int, default=10000)
    p.add_argument("--server-pid", type=int, default=0)
    p.add_argument("--pg-pid", type=int, default=0)
    a = p.parse_args()
    if a.command != "put" or a.target in ("gateway", "kinesalite"):
        if not a.endpoint:
            p.error("--endpoint is needed")
    elif not a.dsn:
        p.error("--dsn is needed")
    {"create": cmd_create, "put": cmd_put, "load": cmd_load, "drain": cmd_drain,
     "mixed": cmd_mixed}[a.command](a)


if __name__ == "__main__":
    main()
