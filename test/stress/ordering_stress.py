#!/usr/bin/env python3
"""Stress test of the per-shard ordering guarantee of kinesis.get_records.

Producers (one connection each) run transactions of random length that put
records with kinesis.put_record and kinesis.put_records, sleep a little
between puts, sometimes put inside a savepoint that is rolled back, and
commit or roll back (about 20 %), occasionally by dropping the connection
with the transaction open.  Every record's data starts with a unique id, so
each record delivered can be traced to the put that made it.  A put counts
as committed only once COMMIT has returned.

Consumers (one connection each) follow next_shard_iterator on every shard:

  * "plain": TRIM_HORIZON, each get_records in its own transaction;
  * "rr":    TRIM_HORIZON, several get_records per REPEATABLE READ
             transaction (get_records must scan with a fresh snapshot);
  * "latest": LATEST iterators taken once a share of the producer
             transactions is done.

Consumers read with random limits until the producers have finished, then
until a read that started after the producers finished returns nothing.

Checks:
  * lost:        a committed record a TRIM_HORIZON consumer never got;
  * duplicated:  a record delivered twice to one consumer;
  * reordered:   sequence numbers not strictly increasing per shard
                 (compared as numbers), or consumers disagreeing on the
                 sequence of a shard (the LATEST consumer must get a suffix
                 of it);
  * rolled back: a record of a rolled-back transaction or savepoint, or
                 of no known put, delivered;
  * content:     data, partition key, shard or sequence number of a
                 delivered record differing from what the put sent/returned;
  * LATEST:      a record whose COMMIT started after the LATEST iterator of
                 its shard was returned, not delivered to that consumer;
  * ordering:    a put with sequence_number_for_ordering not getting a
                 larger sequence number in the same shard.
There are no timing assertions; a generous deadline only turns a hang into
a failure.

The stream is CREATING until maintenance makes it ACTIVE: the maintenance
worker if the database has one (kinesis.maintenance_worker_pid() IS NOT
NULL), else this script calls kinesis.run_maintenance() itself.

Environment: libpq's PGHOST, PGPORT, PGUSER, PGDATABASE (and friends);
KINESIS_STRESS_SCALE = small (default; a few thousand transactions) or
large (ten times as many); KINESIS_STRESS_SEED (default: random, printed);
KINESIS_STRESS_DEADLINE (seconds; default 300 small, 1100 large);
KINESIS_STRESS_SHARDS and KINESIS_STRESS_PRODUCERS override the scale's
shard count (2) and number of producers.

Exit status 0 when every check passes, 1 otherwise (at most 50 violations
are printed, with their total count).
"""

import hashlib
import os
import random
import sys
import threading
import time
import traceback

import psycopg2
import psycopg2.extensions

SCALES = {
    # producers, producer transactions in total, puts per transaction (max)
    "small": dict(producers=6, transactions=5000, max_puts=8, shards=2),
    "large": dict(producers=8, transactions=50000, max_puts=8, shards=2),
}
DEFAULT_DEADLINE = {"small": 300, "large": 1100}

ROLLBACK_SHARE = 0.20       # transactions that end in ROLLBACK (or worse)
DISCONNECT_SHARE = 0.01     # ... of which some by closing the connection
ERROR_SHARE = 0.02          # ... and some by an error
BATCH_SHARE = 0.20          # puts that are put_records batches
SAVEPOINT_SHARE = 0.05      # puts wrapped in a savepoint
ORDERING_SHARE = 0.10       # single puts with sequence_number_for_ordering
LATEST_AFTER = 0.35         # share of producer transactions done before LATEST
MAX_VIOLATIONS_SHOWN = 50

STATEMENT_TIMEOUT_MS = 120000   # a hang surfaces as an error, not a timeout


class Violations:
    """Thread-safe collection of failures."""

    def __init__(self):
        self.lock = threading.Lock()
        self.items = []

    def add(self, kind, text):
        with self.lock:
            self.items.append((kind, text))

    def count(self):
        with self.lock:
            return len(self.items)


VIOLATIONS = Violations()


def connect(autocommit, isolation_level=None):
    conn = psycopg2.connect("")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SET statement_timeout = %s", (STATEMENT_TIMEOUT_MS,))
        cur.execute("SET application_name = 'kinesis ordering stress'")
    conn.autocommit = autocommit
    if isolation_level is not None:
        conn.set_session(isolation_level=isolation_level)
    return conn


def shard_id(index):
    return "shardId-%012d" % index


def shard_index(sid):
    return int(sid.rsplit("-", 1)[1])


def payload(rid, rng):
    """The data of record rid: its id, a NUL, then bytes derived from it."""
    digest = hashlib.sha256(rid.encode()).digest()
    return rid.encode() + b"\x00" + digest * rng.randint(0, 8)


def expected_payload_ok(data):
    rid, sep, rest = data.partition(b"\x00")
    if not sep:
        return None, False
    digest = hashlib.sha256(rid).digest()
    ok = len(rest) % len(digest) == 0 and rest == digest * (len(rest) // len(digest))
    return rid.decode(errors="replace"), ok


class Ledger:
    """What the producers did: every put, and how its transaction ended."""

    def __init__(self):
        self.lock = threading.Lock()
        self.puts = {}          # id -> dict(data, pk, shard, seq)
        self.committed = set()
        self.rolled_back = set()
        self.in_doubt = set()   # COMMIT raised: outcome unknown
        self.commit_start = {}  # id -> monotonic time COMMIT was sent
        self.commit_end = {}    # id -> monotonic time COMMIT returned
        self.txns_done = 0
        self.txns_committed = 0
        self.txns_rolled_back = 0
        self.txns_in_doubt = 0
        self.producer_errors = 0

    def finish(self, ids, outcome, commit_start=None, commit_end=None):
        with self.lock:
            self.txns_done += 1
            if outcome == "commit":
                self.txns_committed += 1
                self.committed.update(ids)
                for i in ids:
                    self.commit_start[i] = commit_start
                    self.commit_end[i] = commit_end
            elif outcome == "rollback":
                self.txns_rolled_back += 1
                self.rolled_back.update(ids)
            else:
                self.txns_in_doubt += 1
                self.in_doubt.update(ids)

    def rollback_savepoint(self, ids):
        with self.lock:
            self.rolled_back.update(ids)


LEDGER = Ledger()

PUT_RECORD_SQL = """
SELECT shard_id, sequence_number
  FROM kinesis.put_record(stream_name => %s, data => %s, partition_key => %s,
                          explicit_hash_key => %s, sequence_number_for_ordering => %s)
"""

PUT_RECORDS_SQL = """
SELECT o.failed_record_count, e.shard_id, e.sequence_number, e.error_code
  FROM kinesis.put_records(
         records => ARRAY(SELECT ROW(u.d, u.h, u.k)::kinesis.put_records_request_entry
                            FROM unnest(%s::bytea[], %s::text[], %s::text[])
                                 WITH ORDINALITY AS u(d, h, k, n)
                           ORDER BY u.n),
         stream_name => %s) AS o
 CROSS JOIN LATERAL unnest(o.records) WITH ORDINALITY
       AS e(sequence_number, shard_id, error_code, error_message, n)
 ORDER BY e.n
"""

GET_RECORDS_SQL = """
SELECT g.next_shard_iterator, g.millis_behind_latest,
       r.sequence_number, r.data, r.partition_key
  FROM kinesis.get_records(shard_iterator => %s, "limit" => %s) AS g
  LEFT JOIN LATERAL unnest(g.records) WITH ORDINALITY
       AS r(sequence_number, approximate_arrival_timestamp, data, partition_key,
            encryption_type, n) ON true
 ORDER BY r.n
"""


class Producer(threading.Thread):
    def __init__(self, index, stream, quota, max_puts, seed, deadline):
        super().__init__(name="producer-%d" % index, daemon=True)
        self.index = index
        self.stream = stream
        self.quota = quota
        self.max_puts = max_puts
        self.rng = random.Random("%s-producer-%d" % (seed, index))
        self.deadline = deadline
        self.keys = ["pk-%d-%d" % (index, k) for k in range(20)] + ["shared-%d" % k for k in range(10)]
        self.last_seq = {}      # shard -> a sequence number this producer got
        self.puts = 0

    def new_id(self, txn, k):
        return "p%d-t%d-r%d" % (self.index, txn, k)

    def put_one(self, cur, rid):
        rng = self.rng
        pk = rng.choice(self.keys)
        ehk = str(rng.getrandbits(128)) if rng.random() < 0.1 else None
        data = payload(rid, rng)
        ordering = None
        if self.last_seq and rng.random() < ORDERING_SHARE:
            osid, ordering = rng.choice(sorted(self.last_seq.items()))
        cur.execute(PUT_RECORD_SQL, (self.stream, psycopg2.Binary(data), pk, ehk, ordering))
        sid, seq = cur.fetchone()
        with LEDGER.lock:
            LEDGER.puts[rid] = dict(data=data, pk=pk, shard=sid, seq=int(seq))
        if ordering is not None and sid == osid and int(seq) <= int(ordering):
            VIOLATIONS.add("ordering", "%s got %s, not above sequence_number_for_ordering %s"
                           % (rid, seq, ordering))
        self.last_seq[sid] = seq
        return [rid]

    def put_batch(self, cur, rids):
        rng = self.rng
        raw, datas, ehks, pks = [], [], [], []
        for rid in rids:
            raw.append(payload(rid, rng))
            datas.append(psycopg2.Binary(raw[-1]))
            ehks.append(str(rng.getrandbits(128)) if rng.random() < 0.1 else None)
            pks.append(rng.choice(self.keys))
        cur.execute(PUT_RECORDS_SQL, (datas, ehks, pks, self.stream))
        rows = cur.fetchall()
        if len(rows) != len(rids):
            raise RuntimeError("put_records returned %d entries for %d records" % (len(rows), len(rids)))
        with LEDGER.lock:
            for rid, d, pk, (failed, sid, seq, err) in zip(rids, raw, pks, rows):
                if failed != 0 or err is not None or seq is None:
                    raise RuntimeError("put_records entry failed: %r" % ((failed, sid, seq, err),))
                LEDGER.puts[rid] = dict(data=d, pk=pk, shard=sid, seq=int(seq))
        for rid, (failed, sid, seq, err) in zip(rids, rows):
            self.last_seq[sid] = seq
        return list(rids)

    def run(self):
        rng = self.rng
        conn = None
        try:
            for txn in range(self.quota):
                if time.monotonic() > self.deadline:
                    VIOLATIONS.add("deadline", "%s stopped at transaction %d of %d"
                                   % (self.name, txn, self.quota))
                    return
                if conn is None:
                    conn = connect(autocommit=False)
                conn, _ = self.transaction(conn, txn)
        except Exception:
            LEDGER.producer_errors += 1
            VIOLATIONS.add("producer error", "%s: %s" % (self.name, traceback.format_exc().strip()))
        finally:
            if conn is not None:
                try:
                    conn.close()
                except Exception:
                    pass

    def transaction(self, conn, txn):
        rng = self.rng
        ids = []
        nputs = rng.randint(1, self.max_puts)
        k = 0
        cur = conn.cursor()
        for _ in range(nputs):
            if rng.random() < SAVEPOINT_SHARE:
                cur.execute("SAVEPOINT sp")
                sp_ids = self.put_one(cur, self.new_id(txn, k))
                k += 1
                if rng.random() < 0.5:
                    cur.execute("ROLLBACK TO SAVEPOINT sp")
                    LEDGER.rollback_savepoint(sp_ids)
                else:
                    cur.execute("RELEASE SAVEPOINT sp")
                    ids += sp_ids
            elif rng.random() < BATCH_SHARE:
                n = rng.randint(2, 12)
                ids += self.put_batch(cur, [self.new_id(txn, k + j) for j in range(n)])
                k += n
            else:
                ids += self.put_one(cur, self.new_id(txn, k))
                k += 1
            r = rng.random()
            if r < 0.3:
                time.sleep(rng.random() * 0.004)
            elif r < 0.35:
                time.sleep(rng.random() * 0.03)
        self.puts += k
        r = rng.random()
        if r < DISCONNECT_SHARE:
            # the backend aborts the open transaction when it sees the client go
            conn.close()
            LEDGER.finish(ids, "rollback")
            return None, ids
        if r < DISCONNECT_SHARE + ERROR_SHARE:
            try:
                cur.execute("SELECT 1 / 0")
            except psycopg2.DataError:
                pass
            conn.rollback()
            LEDGER.finish(ids, "rollback")
            return conn, ids
        if r < ROLLBACK_SHARE:
            conn.rollback()
            LEDGER.finish(ids, "rollback")
            return conn, ids
        start = time.monotonic()
        try:
            conn.commit()
        except Exception:
            LEDGER.finish(ids, "in doubt")
            VIOLATIONS.add("producer error", "%s: COMMIT failed: %s"
                           % (self.name, traceback.format_exc().strip()))
            try:
                conn.close()
            except Exception:
                pass
            return None, ids
        LEDGER.finish(ids, "commit", start, time.monotonic())
        return conn, ids


class Consumer(threading.Thread):
    def __init__(self, name, mode, stream, nshards, seed, producers_done, latest_ready, deadline):
        super().__init__(name=name, daemon=True)
        self.mode = mode            # plain | rr | latest
        self.stream = stream
        self.nshards = nshards
        self.rng = random.Random("%s-%s" % (seed, name))
        self.producers_done = producers_done
        self.latest_ready = latest_ready
        self.deadline = deadline
        self.seen = {s: [] for s in range(nshards)}     # shard -> [(seq, id)]
        self.ids = {}                                   # id -> times seen
        self.latest_at = {}                             # shard -> monotonic time
        self.calls = 0
        self.finished = False

    def violation(self, kind, text):
        VIOLATIONS.add(kind, "%s: %s" % (self.name, text))

    def get_iterator(self, cur, shard, kind, after=None):
        cur.execute("SELECT kinesis.get_shard_iterator(stream_name => %s, shard_id => %s, "
                    "shard_iterator_type => %s, starting_sequence_number => %s)",
                    (self.stream, shard_id(shard), kind, after))
        return cur.fetchone()[0]

    def run(self):
        try:
            self.consume()
        except Exception:
            self.violation("consumer error", traceback.format_exc().strip())

    def consume(self):
        rng = self.rng
        if self.mode == "rr":
            conn = connect(False, psycopg2.extensions.ISOLATION_LEVEL_REPEATABLE_READ)
        else:
            conn = connect(True)
        cur = conn.cursor()
        if self.mode == "latest":
            while not self.latest_ready.wait(0.05):
                if time.monotonic() > self.deadline:
                    self.violation("deadline", "LATEST iterators never taken")
                    return
        its = {}
        for s in range(self.nshards):
            if self.mode == "latest":
                its[s] = self.get_iterator(cur, s, "LATEST")
                self.latest_at[s] = time.monotonic()
            else:
                its[s] = self.get_iterator(cur, s, "TRIM_HORIZON")
        if self.mode == "rr":
            conn.commit()
        drained = set()
        calls_in_txn = 0
        txn_len = rng.randint(1, 6)
        while len(drained) < self.nshards:
            if time.monotonic() > self.deadline:
                self.violation("deadline", "still reading; drained shards: %s" % sorted(drained))
                return
            done_before = self.producers_done.is_set()
            got_any = False
            for s in range(self.nshards):
                if s in drained:
                    continue
                limit = rng.choice([10000, 10000, 1000, 50, 7, 1])
                it = its[s]
                try:
                    cur.execute(GET_RECORDS_SQL, (it, limit))
                    rows = cur.fetchall()
                except psycopg2.Error as e:
                    if e.pgcode != "KN006":     # ExpiredIteratorException
                        raise
                    conn.rollback()
                    its[s] = self.refresh(cur, s)
                    continue
                self.calls += 1
                calls_in_txn += 1
                nxt, behind = rows[0][0], rows[0][1]
                recs = [r for r in rows if r[2] is not None]
                for _, _, seq, data, pk in recs:
                    self.deliver(s, int(seq), bytes(data), pk)
                if nxt is None:
                    self.violation("iterator", "shard %d returned no next_shard_iterator (open shard)" % s)
                    drained.add(s)
                    continue
                its[s] = nxt
                if recs:
                    got_any = True
                elif done_before and behind == 0:
                    drained.add(s)
            if self.mode == "rr" and calls_in_txn >= txn_len:
                conn.commit()
                calls_in_txn = 0
                txn_len = rng.randint(1, 6)
            if not got_any and not self.producers_done.is_set():
                time.sleep(rng.random() * 0.01)
        if self.mode == "rr":
            conn.commit()
        conn.close()
        self.finished = True

    def refresh(self, cur, s):
        if self.seen[s]:
            return self.get_iterator(cur, s, "AFTER_SEQUENCE_NUMBER", str(self.seen[s][-1][0]))
        if self.mode == "latest":
            raise RuntimeError("LATEST iterator expired before any record was read")
        return self.get_iterator(cur, s, "TRIM_HORIZON")

    def deliver(self, s, seq, data, pk):
        rid, ok = expected_payload_ok(data)
        if rid is None:
            self.violation("content", "shard %d seq %d: data without an id: %r" % (s, seq, data[:40]))
            rid = "?seq-%d" % seq
        elif not ok:
            self.violation("content", "%s: data corrupted" % rid)
        lst = self.seen[s]
        if lst and seq <= lst[-1][0]:
            self.violation("reordered", "shard %d: %s (seq %d) after %s (seq %d)"
                           % (s, rid, seq, lst[-1][1], lst[-1][0]))
        lst.append((seq, rid))
        n = self.ids.get(rid, 0) + 1
        self.ids[rid] = n
        if n == 2:
            self.violation("duplicated", "%s delivered more than once" % rid)
        with LEDGER.lock:
            put = LEDGER.puts.get(rid)
            committed = rid in LEDGER.committed
            in_doubt = rid in LEDGER.in_doubt
        if put is None:
            self.violation("rolled back", "%s delivered but never put" % rid)
            return
        if put["data"] != data:
            self.violation("content", "%s: data differs from what was put" % rid)
        if put["pk"] != pk:
            self.violation("content", "%s: partition key %r, put with %r" % (rid, pk, put["pk"]))
        if shard_index(put["shard"]) != s:
            self.violation("content", "%s: read from shard %d, put into %s" % (rid, s, put["shard"]))
        if put["seq"] != seq:
            self.violation("content", "%s: sequence number %d, put returned %d" % (rid, seq, put["seq"]))
        if not committed and not in_doubt:
            # the COMMIT may be under way; decide at the end
            pass


def check(consumers, nshards):
    committed = LEDGER.committed
    rolled_back = LEDGER.rolled_back
    in_doubt = LEDGER.in_doubt
    ref = None
    for c in consumers:
        if not c.finished:
            continue
        seen_ids = set(c.ids)
        for rid in sorted(seen_ids & rolled_back):
            VIOLATIONS.add("rolled back", "%s: delivered %s, which was rolled back" % (c.name, rid))
        for rid in sorted(seen_ids - committed - rolled_back - in_doubt):
            if not rid.startswith("?"):
                VIOLATIONS.add("rolled back", "%s: delivered %s, of no finished transaction" % (c.name, rid))
        if c.mode in ("plain", "rr"):
            for rid in sorted(committed - seen_ids):
                VIOLATIONS.add("lost", "%s: committed %s (%s, seq %d) never delivered"
                               % (c.name, rid, LEDGER.puts[rid]["shard"], LEDGER.puts[rid]["seq"]))
            if ref is None:
                ref = c
            else:
                for s in range(nshards):
                    if c.seen[s] != ref.seen[s]:
                        VIOLATIONS.add("reordered", "%s and %s disagree on shard %d (%d vs %d records)"
                                       % (c.name, ref.name, s, len(c.seen[s]), len(ref.seen[s])))
        else:
            must = set()
            for rid in committed:
                s = shard_index(LEDGER.puts[rid]["shard"])
                if s in c.latest_at and LEDGER.commit_start[rid] > c.latest_at[s]:
                    must.add(rid)
            c.must_see = len(must)
            for rid in sorted(must - seen_ids):
                VIOLATIONS.add("lost", "%s: %s committed after the LATEST iterator, never delivered"
                               % (c.name, rid))
    if ref is not None:
        for c in consumers:
            if c.mode == "latest" and c.finished:
                for s in range(nshards):
                    n = len(c.seen[s])
                    if n and ref.seen[s][-n:] != c.seen[s]:
                        VIOLATIONS.add("reordered", "%s: shard %d is not a suffix of what %s read"
                                       % (c.name, s, ref.name))
    # the puts' own sequence numbers: unique and per-shard ordered like the reads
    by_seq = {}
    for rid in committed:
        p = LEDGER.puts[rid]
        key = (p["shard"], p["seq"])
        if key in by_seq:
            VIOLATIONS.add("duplicated", "%s and %s were given the same sequence number %d"
                           % (by_seq[key], rid, p["seq"]))
        by_seq[key] = rid


def wait_for_nothing_in_flight(cur, stream, deadline):
    while True:
        cur.execute("SELECT coalesce(sum(f.inflight_transactions), 0) "
                    "  FROM kinesis.inflight() f JOIN kinesis.stream_meta m USING (stream_id) "
                    " WHERE m.stream_name = %s", (stream,))
        n = cur.fetchone()[0]
        if n == 0:
            return
        if time.monotonic() > deadline:
            VIOLATIONS.add("in flight", "%d transactions still in flight after every producer "
                           "finished" % n)
            return
        time.sleep(0.05)


def worker_running(cur):
    """A maintenance worker serves this database (it starts shortly after
    CREATE EXTENSION when kinesis.worker is on)."""
    cur.execute("SELECT current_setting('kinesis.worker')::boolean")
    if not cur.fetchone()[0]:
        return False
    until = time.monotonic() + 10
    while True:
        cur.execute("SELECT kinesis.maintenance_worker_pid() IS NOT NULL")
        if cur.fetchone()[0]:
            return True
        if time.monotonic() > until:
            return False
        time.sleep(0.1)


def wait_until_active(cur, stream, worker):
    """create_stream leaves the stream CREATING until maintenance makes it
    ACTIVE: the worker if there is one, else kinesis.run_maintenance() here."""
    if worker:
        cur.execute("SELECT kinesis.wait_for_stream(stream_name => %s, timeout => '120 seconds')", (stream,))
        return
    until = time.monotonic() + 120
    while True:
        cur.execute("SELECT count(*) FROM kinesis.run_maintenance()")
        cur.execute("SELECT stream_status FROM kinesis.streams WHERE stream_name = %s", (stream,))
        if cur.fetchone()[0] == "ACTIVE":
            return
        if time.monotonic() > until:
            raise RuntimeError("stream %s did not become ACTIVE" % stream)
        time.sleep(0.05)


def out_of_order_commits():
    """Committed records whose COMMIT started after a record of the same
    shard with a larger sequence number had finished committing: the cases
    in which a reader could have skipped them."""
    by_shard = {}
    for rid in LEDGER.committed:
        p = LEDGER.puts[rid]
        by_shard.setdefault(p["shard"], []).append((p["seq"], rid))
    n = 0
    for recs in by_shard.values():
        recs.sort(reverse=True)
        earliest_end_above = float("inf")
        for _, rid in recs:
            if LEDGER.commit_start[rid] > earliest_end_above:
                n += 1
            earliest_end_above = min(earliest_end_above, LEDGER.commit_end[rid])
    return n


def main():
    scale = os.environ.get("KINESIS_STRESS_SCALE", "small")
    if scale not in SCALES:
        print("KINESIS_STRESS_SCALE must be one of %s" % ", ".join(SCALES))
        return 1
    cfg = dict(SCALES[scale])
    cfg["shards"] = int(os.environ.get("KINESIS_STRESS_SHARDS", cfg["shards"]))
    cfg["producers"] = int(os.environ.get("KINESIS_STRESS_PRODUCERS", cfg["producers"]))
    seed = os.environ.get("KINESIS_STRESS_SEED") or str(random.SystemRandom().randrange(10 ** 9))
    deadline_s = float(os.environ.get("KINESIS_STRESS_DEADLINE", DEFAULT_DEADLINE[scale]))
    nshards = cfg["shards"]
    stream = "ordering_stress_%d_%d" % (os.getpid(), int(time.time() * 1000) % 10 ** 9)
    print("ordering stress: scale=%s seed=%s producers=%d transactions=%d max_puts=%d shards=%d "
          "deadline=%ds stream=%s" % (scale, seed, cfg["producers"], cfg["transactions"],
                                      cfg["max_puts"], nshards, deadline_s, stream), flush=True)

    t0 = time.monotonic()
    deadline = t0 + deadline_s
    admin = connect(autocommit=True)
    cur = admin.cursor()
    cur.execute("CREATE EXTENSION IF NOT EXISTS kinesis")
    worker = worker_running(cur)
    cur.execute("SELECT kinesis.create_stream(stream_name => %s, shard_count => %s)", (stream, nshards))
    wait_until_active(cur, stream, worker)

    try:
        producers_done = threading.Event()
        latest_ready = threading.Event()
        consumers = [
            Consumer("consumer-plain", "plain", stream, nshards, seed, producers_done, latest_ready, deadline),
            Consumer("consumer-rr", "rr", stream, nshards, seed, producers_done, latest_ready, deadline),
            Consumer("consumer-latest", "latest", stream, nshards, seed, producers_done, latest_ready, deadline),
        ]
        for c in consumers:
            c.start()
        quota = cfg["transactions"] // cfg["producers"]
        producers = [Producer(i, stream, quota, cfg["max_puts"], seed, deadline)
                     for i in range(cfg["producers"])]
        for p in producers:
            p.start()
        total = quota * cfg["producers"]
        while any(p.is_alive() for p in producers):
            if not latest_ready.is_set() and LEDGER.txns_done >= LATEST_AFTER * total:
                latest_ready.set()
            time.sleep(0.02)
            if time.monotonic() > deadline + 30:
                break
        latest_ready.set()
        t_prod = time.monotonic() - t0
        # A transaction ended by closing its connection is aborted by its
        # backend asynchronously: wait until the server has nothing of this
        # stream in flight, so that "a read returned nothing" means drained.
        wait_for_nothing_in_flight(cur, stream, deadline)
        producers_done.set()
        for c in consumers:
            c.join(max(1.0, deadline + 30 - time.monotonic()))
        hung = [t.name for t in producers + consumers if t.is_alive()]
        if hung:
            VIOLATIONS.add("deadline", "threads still running after the deadline: %s" % ", ".join(hung))
        check(consumers, nshards)
    finally:
        try:
            cur.execute("SET lock_timeout = '60s'")
            cur.execute("SELECT kinesis.delete_stream(stream_name => %s)", (stream,))
            if not worker:
                # DeleteStream only marks the stream DELETING; without a
                # worker, maintenance has to run here to remove it
                cur.execute("SELECT count(*) FROM kinesis.run_maintenance()")
        except Exception as e:
            print("warning: could not delete stream %s: %s" % (stream, e))
        admin.close()

    elapsed = time.monotonic() - t0
    n = VIOLATIONS.count()
    per_consumer = ", ".join("%s %d records in %d calls" % (c.name, sum(len(v) for v in c.seen.values()), c.calls)
                             for c in consumers)
    latest = [c for c in consumers if c.mode == "latest"]
    summary = ("transactions %d (committed %d, rolled back %d, in doubt %d); records put %d, "
               "committed %d (%d of them committed after a later record of their shard), "
               "rolled back %d; %s; LATEST consumer had to get %d; "
               "producers %.1fs, total %.1fs"
               % (LEDGER.txns_done, LEDGER.txns_committed, LEDGER.txns_rolled_back,
                  LEDGER.txns_in_doubt, len(LEDGER.puts), len(LEDGER.committed),
                  out_of_order_commits(), len(LEDGER.rolled_back), per_consumer,
                  getattr(latest[0], "must_see", -1) if latest else -1, t_prod, elapsed))
    if n == 0:
        print("PASS ordering stress (seed %s): %s" % (seed, summary))
        return 0
    kinds = {}
    for kind, _ in VIOLATIONS.items:
        kinds[kind] = kinds.get(kind, 0) + 1
    print("FAIL ordering stress (seed %s): %d violations (%s)"
          % (seed, n, ", ".join("%s %d" % kv for kv in sorted(kinds.items()))))
    for kind, text in VIOLATIONS.items[:MAX_VIOLATIONS_SHOWN]:
        print("  [%s] %s" % (kind, text))
    if n > MAX_VIOLATIONS_SHOWN:
        print("  ... and %d more" % (n - MAX_VIOLATIONS_SHOWN))
    print("summary: %s" % summary)
    return 1


if __name__ == "__main__":
    sys.exit(main())
