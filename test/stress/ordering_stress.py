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

import sys
import threading
import time

import psycopg2

from stresslib import (GET_RECORDS_FROM, LEDGER, PUT_RECORDS_SQL, VIOLATIONS, TracingConsumer,
                       TxnProducer, connect, delete_stream, env_num, fetch_put_records, find_worker,
                       payload, read_or_expired, report, scale_config, seed_knob, shard_id,
                       shard_index, stream_name, wait_until_active, wait_until_quiet)

SCALES = {
    # producers, producer transactions in total, puts per transaction (max)
    "small": dict(producers=6, transactions=5000, max_puts=8, shards=2),
    "large": dict(producers=8, transactions=50000, max_puts=8, shards=2),
}
DEFAULT_DEADLINE = {"small": 300, "large": 1100}

# The transaction mix (rollbacks, dropped connections, errors, batches,
# savepoints) is stresslib's, shared with reshard_stress.py.
ORDERING_SHARE = 0.10       # single puts with sequence_number_for_ordering
LATEST_AFTER = 0.35         # share of producer transactions done before LATEST
PAYLOAD_REPEATS = (0, 8)    # digests after the id in a record's data
APP = "kinesis ordering stress"

PUT_RECORD_SQL = """
SELECT shard_id, sequence_number
  FROM kinesis.put_record(stream_name => %s, data => %s, partition_key => %s,
                          explicit_hash_key => %s, sequence_number_for_ordering => %s)
"""

GET_RECORDS_SQL = """
SELECT g.next_shard_iterator, g.millis_behind_latest,
       r.sequence_number, r.data, r.partition_key""" + GET_RECORDS_FROM


class Producer(TxnProducer):
    """Runs quota transactions; some single puts pass
    sequence_number_for_ordering and must get a larger sequence number."""

    def __init__(self, index, stream, quota, max_puts, seed, deadline):
        super().__init__(index, stream, max_puts, seed, deadline, APP)
        self.quota = quota
        self.keys = ["pk-%d-%d" % (index, k) for k in range(20)] + ["shared-%d" % k for k in range(10)]
        self.last_seq = {}      # shard -> a sequence number this producer got

    def more(self, txn):
        return txn < self.quota

    def deadline_text(self, txn):
        return "%s stopped at transaction %d of %d" % (self.name, txn, self.quota)

    def put_one(self, cur, txn, k):
        rng = self.rng
        rid = self.new_id(txn, k)
        pk = rng.choice(self.keys)
        ehk = str(rng.getrandbits(128)) if rng.random() < 0.1 else None
        data = payload(rid, rng, PAYLOAD_REPEATS)
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

    def put_batch(self, cur, txn, k, n):
        rng = self.rng
        rids = [self.new_id(txn, k + j) for j in range(n)]
        raw, datas, ehks, pks = [], [], [], []
        for rid in rids:
            raw.append(payload(rid, rng, PAYLOAD_REPEATS))
            datas.append(psycopg2.Binary(raw[-1]))
            ehks.append(str(rng.getrandbits(128)) if rng.random() < 0.1 else None)
            pks.append(rng.choice(self.keys))
        cur.execute(PUT_RECORDS_SQL, (datas, ehks, pks, self.stream))
        rows = fetch_put_records(cur, len(rids))
        with LEDGER.lock:
            for rid, d, pk, (_, sid, seq, _) in zip(rids, raw, pks, rows):
                LEDGER.puts[rid] = dict(data=d, pk=pk, shard=sid, seq=int(seq))
        for _, sid, seq, _ in rows:
            self.last_seq[sid] = seq
        return rids


class Consumer(TracingConsumer):
    """Follows next_shard_iterator on every shard from TRIM_HORIZON (modes
    plain and rr) or, once latest_ready is set, from LATEST (mode latest)."""

    def __init__(self, name, mode, stream, nshards, seed, producers_done, latest_ready, deadline):
        super().__init__(name, mode, stream, seed, deadline, APP)
        self.nshards = nshards
        self.producers_done = producers_done
        self.latest_ready = latest_ready
        self.seen = {s: [] for s in range(nshards)}     # shard -> [(seq, id)]
        self.latest_at = {}                             # shard -> monotonic time

    def consume(self):
        rng = self.rng
        conn = self.open_connection()
        cur = conn.cursor()
        if self.mode == "latest":
            while not self.latest_ready.wait(0.05):
                if time.monotonic() > self.deadline:
                    self.violation("deadline", "LATEST iterators never taken")
                    return
        its = {}
        for s in range(self.nshards):
            if self.mode == "latest":
                its[s] = self.get_iterator(cur, shard_id(s), "LATEST")
                self.latest_at[s] = time.monotonic()
            else:
                its[s] = self.get_iterator(cur, shard_id(s), "TRIM_HORIZON")
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
                rows = read_or_expired(conn, cur, GET_RECORDS_SQL, (its[s], limit))
                if rows is None:
                    its[s] = self.refresh(cur, s)
                    continue
                self.calls += 1
                calls_in_txn += 1
                nxt, behind = rows[0][0], rows[0][1]
                recs = [r for r in rows if r[2] is not None]
                for _, _, seq, data, pk in recs:
                    self.check_record(s, "shard %d" % s, shard_id(s), int(seq), bytes(data), pk,
                                      "?seq-%d" % int(seq))
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
        if self.mode == "latest" and not self.seen[s]:
            raise RuntimeError("LATEST iterator expired before any record was read")
        return self.restart(cur, s, shard_id(s))


def check(consumers, nshards):
    committed = LEDGER.committed
    ref = None
    for c in consumers:
        if not c.finished:
            continue
        c.check_delivered()
        if c.mode in ("plain", "rr"):
            c.check_lost()
            if ref is None:
                ref = c
            else:
                for s in range(nshards):
                    if c.seen[s] != ref.seen[s]:
                        VIOLATIONS.add("reordered", "%s and %s disagree on shard %d (%d vs %d records)"
                                       % (c.name, ref.name, s, len(c.seen[s]), len(ref.seen[s])))
        else:
            seen_ids = set(c.ids)
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
    scale, cfg = scale_config(SCALES)
    if cfg is None:
        return 1
    cfg["shards"] = env_num("KINESIS_STRESS_SHARDS", cfg["shards"], int)
    cfg["producers"] = env_num("KINESIS_STRESS_PRODUCERS", cfg["producers"], int)
    seed = seed_knob()
    deadline_s = env_num("KINESIS_STRESS_DEADLINE", DEFAULT_DEADLINE[scale])
    nshards = cfg["shards"]
    stream = stream_name("ordering_stress")
    print("ordering stress: scale=%s seed=%s producers=%d transactions=%d max_puts=%d shards=%d "
          "deadline=%ds stream=%s" % (scale, seed, cfg["producers"], cfg["transactions"],
                                      cfg["max_puts"], nshards, deadline_s, stream), flush=True)

    t0 = time.monotonic()
    deadline = t0 + deadline_s
    admin = connect(autocommit=True, name=APP)
    cur = admin.cursor()
    cur.execute("CREATE EXTENSION IF NOT EXISTS kinesis")
    worker = find_worker(cur) is not None
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
        wait_until_quiet(cur, stream, deadline,
                         "%(n)d transactions still in flight after every producer finished")
        producers_done.set()
        for c in consumers:
            c.join(max(1.0, deadline + 30 - time.monotonic()))
        hung = [t.name for t in producers + consumers if t.is_alive()]
        if hung:
            VIOLATIONS.add("deadline", "threads still running after the deadline: %s" % ", ".join(hung))
        check(consumers, nshards)
    finally:
        delete_stream(cur, stream, worker)
        admin.close()

    elapsed = time.monotonic() - t0
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
    return report("ordering stress", seed, summary)


if __name__ == "__main__":
    sys.exit(main())
