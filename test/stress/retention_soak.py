#!/usr/bin/env python3
"""Soak test of retention: time buckets, trimming and what readers return.

Virtual time runs fast: every KINESIS_SOAK_TICK seconds of real time (0.25)
the harness moves kinesis.test_clock_offset forward by KINESIS_SOAK_STEP
virtual seconds (1200, i.e. 20 minutes) with ALTER SYSTEM + pg_reload_conf(),
so a 24-hour retention period passes in about 18 s of real time.  Meanwhile:

  * producers (one connection each) put at a steady real-time rate with
    kinesis.put_record and kinesis.put_records, in transactions of which a
    few are rolled back; every record's data starts with a unique id, and
    the put time embedded in the returned sequence number bounds its
    arrival (kinesis.parse_sequence_number);
  * consumers follow next_shard_iterator from TRIM_HORIZON on every shard:
    two keep up, one ("laggard") stops reading for 1.5 retention periods
    and then resumes, so it has to skip records that expired (and buckets
    that were dropped) under its iterator;
  * maintenance runs: the worker if this database has one (detected with
    kinesis.maintenance_worker_pid()), otherwise the harness calls
    kinesis.run_maintenance() itself a few times a second;
  * at checkpoints (every KINESIS_SOAK_CHECK_EVERY s of real time) the
    producers are paused between transactions, and one statement reads
    every shard from a fresh TRIM_HORIZON iterator to its end.

The retention cutoff a get_records call applies is kinesis._now() minus the
retention period, in the session that calls it.  A session takes a new
kinesis.test_clock_offset only between statements, so every read here is a
single statement that also returns kinesis._now(): the cutoff of every
get_records call in it lies within the statement's (real) duration of that
value.  All checks use that bracket, so they hold however virtual time moves.

Checks (each failure is a violation; exit status 1 if there is any):
  (a) storage: the summed pg_total_relation_size of the stream's bucket
      tables plateaus: neither its final value nor its largest value after
      two retention periods exceeds MAX_GROWTH (1.6) times its value after
      the first retention period; the stream never has more than
      MAX_BUCKETS (11) buckets; stored records (expired but
      not yet trimmed included) stay within MAX_GROWTH of those retained;
  (b) nothing within retention lost: a checkpoint read returns every
      committed record whose arrival is at or after the read's cutoff, in
      sequence order per shard, each once; a consumer following iterators
      delivers every committed record that was still within retention when
      its reads passed it, in order, once;
  (c) nothing past retention: no read returns a record that arrived before
      its cutoff; nothing rolled back or unknown is ever returned; data,
      shard, sequence number and arrival match the put;
  (d) trimming happened: maintenance reported trim (and rotate) outcomes
      'done' and none 'error'; the oldest buckets are gone from
      kinesis.buckets and their tables from the catalog; bucket numbers stay
      contiguous; no bucket table outside kinesis.buckets is left over.
There are no assertions about speed; a generous deadline only turns a hang
into a failure.

Environment: libpq's PGHOST, PGPORT, PGUSER, PGDATABASE (and friends); the
user must be a superuser (ALTER SYSTEM).  KINESIS_STRESS_SCALE = small
(default: 4 virtual days, about 80 s) or large (20 virtual days, about
6 minutes); KINESIS_STRESS_SEED (default random, printed);
KINESIS_STRESS_DEADLINE (seconds; default 600 small, 1100 large);
KINESIS_SOAK_DAYS, KINESIS_SOAK_RATE (records per real second, all
producers), KINESIS_SOAK_SHARDS, KINESIS_SOAK_PRODUCERS, KINESIS_SOAK_TICK,
KINESIS_SOAK_STEP and KINESIS_SOAK_CHECK_EVERY override the scale.

The clock offset is set back to its starting value at the end.  Meant for a
throwaway cluster (test/run.sh starts a fresh one per stress script): the
clock jump affects every stream in the cluster.
"""

import bisect
import random
import sys
import threading
import time
import traceback

import psycopg2

from stresslib import (GET_RECORDS_FROM, VIOLATIONS, MaintenanceMonitor, ShardReader, close_quietly,
                       connect, delete_stream, env_num, fetch_put_records, find_worker, payload,
                       payload_id, read_or_expired, report, scale_config, seed_knob, shard_id,
                       shard_index, stream_name, wait_until_active, wait_until_quiet)

SCALES = {
    "small": dict(days=4, rate=150, shards=3, producers=3),
    "large": dict(days=20, rate=200, shards=4, producers=4),
}
DEFAULT_DEADLINE = {"small": 600, "large": 1100}

RETENTION_HOURS = 24
RETENTION_S = RETENTION_HOURS * 3600
BUCKET_WIDTH_S = RETENTION_S / 8       # kinesis._bucket_width()
# After a maintenance pass the buckets started within the last retention
# period (at most 9: they are at least a width apart) remain, plus the
# oldest one, whose successor started within it: 10.  A trim skipped on a
# contended lock (retried on the next pass) may leave one more for a while.
MAX_BUCKETS = 11
MAX_GROWTH = 1.6                       # storage after the first period may grow this much
ROLLBACK_SHARE = 0.05
BATCH_SHARE = 0.5
MAINTENANCE_EVERY_S = 0.4              # run_maintenance() / kinesis.maintenance polling
EPS_S = 0.01                           # float rounding of epoch seconds
PAYLOAD_REPEATS = (2, 10)              # digests after the id in a record's data
OFFSET_MAX_S = 400 * 24 * 3600         # kinesis.test_clock_offset's maximum


def hours(seconds):
    return seconds / 3600.0


# ---------------------------------------------------------------- ledger

class Put:
    __slots__ = ("rid", "shard", "seq", "data", "epoch", "arrival", "state")

    def __init__(self, rid, shard, seq, data, epoch):
        self.rid = rid
        self.shard = shard          # shard index
        self.seq = seq              # sequence number as an int
        self.data = data
        self.epoch = epoch          # put time in whole seconds, from the sequence number
        self.arrival = None         # exact, once a read returned it
        self.state = "open"         # open | committed | rolled back

    def arrival_lo(self):
        return self.arrival if self.arrival is not None else float(self.epoch)


class Ledger:
    def __init__(self):
        self.lock = threading.Lock()
        self.puts = {}              # rid -> Put
        self.committed = []         # Puts in commit order
        self.txns_committed = 0
        self.txns_rolled_back = 0

    def finish(self, puts, committed):
        with self.lock:
            for p in puts:
                p.state = "committed" if committed else "rolled back"
            if committed:
                self.committed.extend(puts)
                self.txns_committed += 1
            else:
                self.txns_rolled_back += 1

    def add(self, puts):
        with self.lock:
            for p in puts:
                self.puts[p.rid] = p

    def committed_snapshot(self):
        with self.lock:
            return list(self.committed)


LEDGER = Ledger()


def check_delivery(who, s, seq, data, arrival, cut_lo):
    """Common checks of one returned record; returns its Put or None."""
    rid, ok = payload_id(data)
    if rid is None:
        VIOLATIONS.add("content", "%s: shard %d seq %d: data without an id: %r" % (who, s, seq, data[:40]))
        return None
    if not ok:
        VIOLATIONS.add("content", "%s: %s: data corrupted" % (who, rid))
    if arrival < cut_lo:
        VIOLATIONS.add("past retention",
                       "%s: %s (shard %d, seq %d) returned although it arrived %.3f h before the "
                       "retention cutoff of the read" % (who, rid, s, seq, hours(cut_lo - arrival)))
    with LEDGER.lock:
        p = LEDGER.puts.get(rid)
        state = p.state if p is not None else None
        if p is not None and p.arrival is None:
            p.arrival = arrival
    if p is None:
        VIOLATIONS.add("unknown", "%s: %s returned but never put" % (who, rid))
        return None
    if state == "rolled back":
        VIOLATIONS.add("rolled back", "%s: %s returned, its transaction was rolled back" % (who, rid))
    if p.data != data:
        VIOLATIONS.add("content", "%s: %s: data differs from what was put" % (who, rid))
    if p.shard != s or p.seq != seq:
        VIOLATIONS.add("content", "%s: %s read from shard %d seq %d, put into shard %d seq %d"
                       % (who, rid, s, seq, p.shard, p.seq))
    if int(arrival) != p.epoch:
        VIOLATIONS.add("content", "%s: %s: arrival %.6f, but its sequence number embeds %d"
                       % (who, rid, arrival, p.epoch))
    return p


# ------------------------------------------------------------- producers

class Gate:
    """Producers pass it for each transaction; a checkpoint closes it and
    waits until no producer transaction is open."""

    def __init__(self):
        self.cv = threading.Condition()
        self.active = 0
        self.closed = False

    def enter(self, stop):
        with self.cv:
            while self.closed and not stop.is_set():
                self.cv.wait(0.1)
            self.active += 1

    def leave(self):
        with self.cv:
            self.active -= 1
            self.cv.notify_all()

    def close(self):
        with self.cv:
            self.closed = True
            while self.active > 0:
                self.cv.wait(0.1)

    def open(self):
        with self.cv:
            self.closed = False
            self.cv.notify_all()


PUT_RECORD_SQL = """
SELECT p.shard_id, p.sequence_number, (kinesis.parse_sequence_number(p.sequence_number)).seq_epoch
  FROM kinesis.put_record(stream_name => %s, data => %s, partition_key => %s) AS p
"""

PUT_RECORDS_SQL = """
SELECT o.failed_record_count, e.shard_id, e.sequence_number,
       (kinesis.parse_sequence_number(e.sequence_number)).seq_epoch, e.error_code
  FROM kinesis.put_records(
         records => ARRAY(SELECT ROW(u.d, NULL, u.k)::kinesis.put_records_request_entry
                            FROM unnest(%s::bytea[], %s::text[]) WITH ORDINALITY AS u(d, k, n)
                           ORDER BY u.n),
         stream_name => %s) AS o
 CROSS JOIN LATERAL unnest(o.records) WITH ORDINALITY AS e(sequence_number, shard_id, error_code,
                                                          error_message, n)
 ORDER BY e.n
"""


class Producer(threading.Thread):
    def __init__(self, num, stream, rate, seed, gate, stop):
        super().__init__(name="producer-%d" % num, daemon=True)
        self.num = num
        self.stream = stream
        self.rate = rate            # records per real second
        self.rng = random.Random("%s-producer-%d" % (seed, num))
        self.gate = gate
        self.stop = stop
        self.next_id = 0
        self.records = 0
        self.errors = 0

    def new_id(self):
        self.next_id += 1
        return "p%d-%d" % (self.num, self.next_id)

    def run(self):
        conn = None
        pace = time.monotonic()
        while not self.stop.is_set():
            if conn is None:
                conn = connect(autocommit=False, name="kinesis retention soak %s" % self.name)
            self.gate.enter(self.stop)
            try:
                n = self.transaction(conn)
            except Exception:
                self.errors += 1
                VIOLATIONS.add("producer error", "%s: %s" % (self.name, traceback.format_exc().strip()))
                close_quietly(conn)
                conn = None
                n = 0
                if self.errors >= 5:
                    return
            finally:
                self.gate.leave()
            pace = max(pace + n / self.rate, time.monotonic() - 1.0)
            delay = pace - time.monotonic()
            if delay > 0:
                self.stop.wait(delay)
        if conn is not None:
            conn.close()

    def transaction(self, conn):
        rng = self.rng
        cur = conn.cursor()
        puts = []
        try:
            for _ in range(rng.randint(1, 3)):
                if rng.random() < BATCH_SHARE:
                    rids = [self.new_id() for _ in range(rng.randint(2, 8))]
                    datas = [payload(r, rng, PAYLOAD_REPEATS) for r in rids]
                    pks = ["pk-%d" % rng.randrange(10 ** 6) for _ in rids]
                    cur.execute(PUT_RECORDS_SQL, ([psycopg2.Binary(d) for d in datas], pks, self.stream))
                    rows = fetch_put_records(cur, len(rids))
                    batch = [Put(rid, shard_index(sid), int(seq), d, int(epoch))
                             for rid, d, (_, sid, seq, epoch, _) in zip(rids, datas, rows)]
                    LEDGER.add(batch)
                    puts.extend(batch)
                else:
                    rid = self.new_id()
                    d = payload(rid, rng, PAYLOAD_REPEATS)
                    cur.execute(PUT_RECORD_SQL, (self.stream, psycopg2.Binary(d),
                                                 "pk-%d" % rng.randrange(10 ** 6)))
                    sid, seq, epoch = cur.fetchone()
                    p = Put(rid, shard_index(sid), int(seq), d, int(epoch))
                    LEDGER.add([p])
                    puts.append(p)
        except Exception:
            conn.rollback()
            LEDGER.finish(puts, False)
            raise
        if rng.random() < ROLLBACK_SHARE:
            conn.rollback()
            LEDGER.finish(puts, False)
            return len(puts)
        conn.commit()
        LEDGER.finish(puts, True)
        self.records += len(puts)
        return len(puts)


# ------------------------------------------------------------- consumers

FOLLOW_SQL = """
SELECT extract(epoch FROM kinesis._now())::float8, g.next_shard_iterator, g.millis_behind_latest,
       r.sequence_number, extract(epoch FROM r.approximate_arrival_timestamp)::float8, r.data""" \
    + GET_RECORDS_FROM


class Consumer(ShardReader):
    """Follows next_shard_iterator from TRIM_HORIZON on every shard."""

    def __init__(self, name, stream, nshards, seed, lag_pause, final, deadline, start_now):
        super().__init__(name, stream, seed, deadline, "kinesis retention soak %s" % name)
        self.nshards = nshards
        self.lag_pause = lag_pause      # None, or (virtual seconds after start, real seconds)
        self.final = final
        self.start_now = start_now
        self.seqs = {s: [] for s in range(nshards)}         # delivered sequence numbers
        self.cut_hi = {s: [] for s in range(nshards)}       # cutoff bound of the read that delivered each
        self.final_cut_hi = {s: None for s in range(nshards)}
        self.ids = set()
        self.paused_at = None

    def iterator(self, cur, s, kind, after=None):
        return self.get_iterator(cur, shard_id(s), kind, after)

    def consume(self):
        rng = self.rng
        conn = connect(name=self.app)
        cur = conn.cursor()
        its = {s: self.iterator(cur, s, "TRIM_HORIZON") for s in range(self.nshards)}
        drained = set()
        while len(drained) < self.nshards:
            if time.monotonic() > self.deadline:
                self.violation("deadline", "still reading; drained shards: %s" % sorted(drained))
                return
            final_before = self.final.is_set()
            got_any = False
            for s in range(self.nshards):
                if s in drained:
                    continue
                limit = rng.choice([10000, 1000, 100, 10]) if self.lag_pause is None else 50
                t0 = time.monotonic()
                rows = read_or_expired(conn, cur, FOLLOW_SQL, (its[s], limit))
                if rows is None:
                    its[s] = (self.iterator(cur, s, "AFTER_SEQUENCE_NUMBER", str(self.seqs[s][-1]))
                              if self.seqs[s] else self.iterator(cur, s, "TRIM_HORIZON"))
                    continue
                d = time.monotonic() - t0
                self.calls += 1
                now = rows[0][0]
                cut_lo = now - d - RETENTION_S - EPS_S
                cut_hi = now + d - RETENTION_S + EPS_S
                nxt, behind = rows[0][1], rows[0][2]
                for _, _, _, seq, arrival, data in rows:
                    if seq is None:
                        continue
                    self.deliver(s, int(seq), bytes(data), arrival, cut_lo, cut_hi)
                    got_any = True
                self.final_cut_hi[s] = cut_hi
                if nxt is None:
                    self.violation("iterator", "shard %d returned no next_shard_iterator (open shard)" % s)
                    drained.add(s)
                    continue
                its[s] = nxt
                if final_before and behind == 0 and all(r[3] is None for r in rows):
                    drained.add(s)
            if self.lag_pause is not None and self.paused_at is None:
                cur.execute("SELECT extract(epoch FROM kinesis._now())::float8")
                if cur.fetchone()[0] - self.start_now >= self.lag_pause[0]:
                    self.paused_at = time.monotonic()
                    self.final.wait(self.lag_pause[1])
            if not got_any and not self.final.is_set():
                time.sleep(0.02 + rng.random() * 0.03)
        conn.close()
        self.finished = True

    def deliver(self, s, seq, data, arrival, cut_lo, cut_hi):
        p = check_delivery(self.name, s, seq, data, arrival, cut_lo)
        lst = self.seqs[s]
        if lst and seq <= lst[-1]:
            self.violation("reordered", "shard %d: seq %d after seq %d" % (s, seq, lst[-1]))
        lst.append(seq)
        self.cut_hi[s].append(cut_hi)
        if p is not None:
            if p.rid in self.ids:
                self.violation("duplicated", "%s delivered more than once" % p.rid)
            self.ids.add(p.rid)

    def missing(self, committed):
        """Committed records not delivered: (lost, expired before reached)."""
        lost = []
        expired = 0
        for p in committed:
            if p.rid in self.ids:
                continue
            lst = self.seqs[p.shard]
            i = bisect.bisect_right(lst, p.seq)
            # the read that delivered the next record of the shard (or the
            # final read) went past this one; its cutoff is at least as late
            # as that of the read that passed it
            cut = self.cut_hi[p.shard][i] if i < len(lst) else self.final_cut_hi[p.shard]
            if cut is None or p.arrival_lo() >= cut:
                lost.append(p)
            else:
                expired += 1
        return lost, expired


# ------------------------------------------------------------ checkpoint

CHECKPOINT_SQL = """
WITH RECURSIVE r(shard_id, it, recs, n) AS (
    SELECT h.shard_id, g.next_shard_iterator, g.records, 1
      FROM kinesis.shards h,
           LATERAL kinesis.get_records(
               kinesis.get_shard_iterator(stream_name => h.stream_name, shard_id => h.shard_id,
                                          shard_iterator_type => 'TRIM_HORIZON')) AS g
     WHERE h.stream_name = %s
    UNION ALL
    SELECT r.shard_id, g.next_shard_iterator, g.records, r.n + 1
      FROM r, LATERAL kinesis.get_records(r.it) AS g
     WHERE r.it IS NOT NULL AND cardinality(r.recs) > 0 AND r.n < 100000
)
SELECT extract(epoch FROM kinesis._now())::float8, r.shard_id, r.n, x.o, x.sequence_number,
       extract(epoch FROM x.approximate_arrival_timestamp)::float8, x.data
  FROM r
  LEFT JOIN LATERAL unnest(r.recs) WITH ORDINALITY
       AS x(sequence_number, approximate_arrival_timestamp, data, partition_key, encryption_type, o)
       ON true
 ORDER BY r.shard_id, r.n, x.o
"""

STORAGE_SQL = """
SELECT count(*), min(b.bucket), max(b.bucket),
       coalesce(sum(pg_total_relation_size(to_regclass(kinesis._bucket_table(b.stream_id, b.bucket)))), 0),
       extract(epoch FROM kinesis._now())::float8,
       coalesce(array_agg(b.bucket ORDER BY b.bucket), '{}')
  FROM kinesis.buckets b
 WHERE b.stream_id = %s
"""


IN_FLIGHT_TEXT = ("%(n)d transactions of the stream still in flight with every producer "
                  "transaction finished")


class Sample:
    def __init__(self, vh, nbuckets, bmin, bmax, nbytes, retained, stored):
        self.vh = vh
        self.nbuckets = nbuckets
        self.bmin = bmin
        self.bmax = bmax
        self.bytes = nbytes
        self.retained = retained
        self.stored = stored


def storage(cur, sid, start_now):
    cur.execute(STORAGE_SQL, (sid,))
    n, bmin, bmax, nbytes, now, buckets = cur.fetchone()
    return n, bmin, bmax, int(nbytes), (now - start_now), list(buckets)


def checkpoint(cur, stream, sid, start_now, gate, deadline, label):
    """Pause the producers, read every shard from TRIM_HORIZON in one
    statement, check (b) and (c), and sample storage."""
    gate.close()
    try:
        wait_until_quiet(cur, stream, deadline, IN_FLIGHT_TEXT, poll=0.02)
        committed = LEDGER.committed_snapshot()
        t0 = time.monotonic()
        cur.execute(CHECKPOINT_SQL, (stream,))
        rows = cur.fetchall()
        d = time.monotonic() - t0
    finally:
        gate.open()
    who = "checkpoint %s" % label
    now = rows[0][0] if rows else None
    if now is None:
        VIOLATIONS.add("checkpoint", "%s: the read returned no row at all" % who)
        return None
    cut_lo = now - d - RETENTION_S - EPS_S
    cut_hi = now + d - RETENTION_S + EPS_S
    seen = set()
    last = {}
    for _, sid_text, _, _, seq, arrival, data in rows:
        if seq is None:
            continue
        s = shard_index(sid_text)
        seq = int(seq)
        p = check_delivery(who, s, seq, bytes(data), arrival, cut_lo)
        if s in last and seq <= last[s]:
            VIOLATIONS.add("reordered", "%s: shard %d: seq %d after seq %d" % (who, s, seq, last[s]))
        last[s] = seq
        if p is not None:
            if p.rid in seen:
                VIOLATIONS.add("duplicated", "%s: %s returned twice" % (who, p.rid))
            seen.add(p.rid)
            if p.state == "open":
                VIOLATIONS.add("uncommitted", "%s: %s returned while its transaction was open" % (who, p.rid))
    lost = [p for p in committed if p.rid not in seen and p.arrival_lo() >= cut_hi]
    for p in lost[:20]:
        VIOLATIONS.add("lost", "%s: committed %s (shard %d, seq %d, arrived %.3f h after the cutoff) "
                       "not returned by a TRIM_HORIZON read" % (who, p.rid, p.shard, p.seq,
                                                                 hours(p.arrival_lo() - cut_hi)))
    if len(lost) > 20:
        VIOLATIONS.add("lost", "%s: ... and %d more committed records within retention not returned"
                       % (who, len(lost) - 20))
    n, bmin, bmax, nbytes, v, buckets = storage(cur, sid, start_now)
    cur.execute("SELECT count(*) FROM kinesis.records WHERE stream_id = %s", (sid,))
    stored = cur.fetchone()[0]
    if n and bmax - bmin + 1 != n:
        VIOLATIONS.add("buckets", "%s: bucket numbers not contiguous: %s" % (who, buckets))
    return Sample(hours(now - start_now), n, bmin, bmax, nbytes, len(seen), stored)


# ----------------------------------------------------------- maintenance

class Maintenance(MaintenanceMonitor):
    """Without a worker (manual): calls kinesis.run_maintenance() every
    MAINTENANCE_EVERY_S.  With one: watches kinesis.maintenance and notes
    the worker's pid.  Either way counts the outcomes and keeps a few
    details of skipped tasks."""

    ERROR_KIND = "maintenance error"
    ERROR_TEXT = "%s: %s"

    def __init__(self, stream, manual, stop):
        super().__init__(stream, manual, stop, MAINTENANCE_EVERY_S, "kinesis retention soak maintenance")
        self.worker_pids = set()
        self.worker_missing = 0
        self.details = []

    def note(self, task, outcome, detail):
        super().note(task, outcome, detail)
        if len(self.details) < 5 and outcome == "skipped":
            self.details.append("%s skipped: %s" % (task, detail))

    def once(self, cur):
        super().once(cur)
        if not self.drive:
            cur.execute("SELECT kinesis.maintenance_worker_pid()")
            pid = cur.fetchone()[0]
            if pid is None:
                self.worker_missing += 1
            else:
                self.worker_pids.add(pid)


# ----------------------------------------------------------------- clock

class Clock(threading.Thread):
    """Moves kinesis.test_clock_offset forward by step every tick."""

    def __init__(self, start_offset, step, tick, total, stop):
        super().__init__(name="clock", daemon=True)
        self.offset = start_offset
        self.start_offset = start_offset
        self.step = step
        self.tick = tick
        self.total = total
        self.stop = stop
        self.done = threading.Event()
        self.ticks = 0

    def set(self, cur, value):
        cur.execute("ALTER SYSTEM SET kinesis.test_clock_offset = %s", (int(value),))
        cur.execute("SELECT pg_reload_conf()")

    def run(self):
        try:
            conn = connect(name="kinesis retention soak clock")
            cur = conn.cursor()
            t = time.monotonic()
            while not self.stop.is_set() and self.offset - self.start_offset < self.total:
                t += self.tick
                delay = t - time.monotonic()
                if delay > 0:
                    self.stop.wait(delay)
                else:
                    t = time.monotonic()
                self.offset += self.step
                self.set(cur, self.offset)
                self.ticks += 1
            conn.close()
        except Exception:
            VIOLATIONS.add("clock", traceback.format_exc().strip())
        finally:
            self.done.set()


# ------------------------------------------------------------------ main

def main():
    scale, cfg = scale_config(SCALES)
    if cfg is None:
        return 1
    days = env_num("KINESIS_SOAK_DAYS", cfg["days"])
    rate = env_num("KINESIS_SOAK_RATE", cfg["rate"])
    nshards = env_num("KINESIS_SOAK_SHARDS", cfg["shards"], int)
    nproducers = env_num("KINESIS_SOAK_PRODUCERS", cfg["producers"], int)
    tick = env_num("KINESIS_SOAK_TICK", 0.25)
    step = env_num("KINESIS_SOAK_STEP", 1200, int)
    check_every = env_num("KINESIS_SOAK_CHECK_EVERY", 1.5)
    seed = seed_knob()
    deadline_s = env_num("KINESIS_STRESS_DEADLINE", DEFAULT_DEADLINE[scale])
    total_virtual = int(days * 86400)
    retention_real = RETENTION_S / step * tick
    stream = stream_name("retention_soak")

    t_start = time.monotonic()
    deadline = t_start + deadline_s
    admin = connect(name="kinesis retention soak admin")
    cur = admin.cursor()
    cur.execute("CREATE EXTENSION IF NOT EXISTS kinesis")
    cur.execute("SELECT current_setting('kinesis.test_clock_offset')::integer")
    start_offset = cur.fetchone()[0]
    if start_offset + total_virtual > OFFSET_MAX_S:
        print("FAIL retention soak: kinesis.test_clock_offset is already %d s; %g more virtual days "
              "would pass its maximum" % (start_offset, days))
        return 1
    cur.execute("SELECT kinesis.create_stream(stream_name => %s, shard_count => %s)", (stream, nshards))

    # A worker, if this database gets one, is started by create_stream.
    pid = find_worker(cur, wait_when_off=1.0)
    manual = pid is None
    wait_until_active(cur, stream, not manual, timeout_s=30)
    cur.execute("SELECT stream_id FROM kinesis.stream_meta WHERE stream_name = %s", (stream,))
    sid = cur.fetchone()[0]
    cur.execute("SELECT extract(epoch FROM kinesis._now())::float8")
    start_now = cur.fetchone()[0]

    print("retention soak: scale=%s seed=%s maintenance=%s days=%g rate=%g/s shards=%d producers=%d "
          "tick=%gs step=%ds (one retention period = %.1f s real) deadline=%ds stream=%s"
          % (scale, seed, "run_maintenance() by the harness" if manual else "worker pid %s" % pid,
             days, rate, nshards, nproducers, tick, step, retention_real, deadline_s, stream),
          flush=True)

    stop_clock = threading.Event()
    stop_producers = threading.Event()
    stop_maintenance = threading.Event()
    final = threading.Event()
    gate = Gate()
    samples = []
    maint = Maintenance(stream, manual, stop_maintenance)
    clock = Clock(start_offset, step, tick, total_virtual, stop_clock)
    consumers = [
        Consumer("consumer-1", stream, nshards, seed, None, final, deadline, start_now),
        Consumer("consumer-2", stream, nshards, seed, None, final, deadline, start_now),
        Consumer("laggard", stream, nshards, seed, (0.75 * RETENTION_S, 1.5 * retention_real),
                 final, deadline, start_now),
    ]
    producers = [Producer(i, stream, rate / nproducers, seed, gate, stop_producers)
                 for i in range(nproducers)]
    committed_total = 0
    try:
        maint.start()
        for c in consumers:
            c.start()
        for p in producers:
            p.start()
        clock.start()
        k = 0
        next_check = time.monotonic() + check_every
        while not clock.done.is_set():
            clock.done.wait(max(0.0, next_check - time.monotonic()))
            next_check = time.monotonic() + check_every
            if clock.done.is_set() or time.monotonic() > deadline:
                break
            k += 1
            smp = checkpoint(cur, stream, sid, start_now, gate, deadline, "#%d" % k)
            if smp is not None:
                samples.append(smp)
        if not clock.done.is_set():
            VIOLATIONS.add("deadline", "the virtual clock had not run its course by the deadline")
        stop_clock.set()
        clock.join(10)
        # the end: no more puts, every read from here on sees everything
        stop_producers.set()
        gate.open()
        for p in producers:
            p.join(max(1.0, deadline - time.monotonic()))
        wait_until_quiet(cur, stream, deadline, IN_FLIGHT_TEXT, poll=0.02)
        final.set()
        for c in consumers:
            c.join(max(1.0, deadline + 30 - time.monotonic()))
        # let maintenance finish what is due at the final virtual time
        if manual:
            maint.once(cur)
        else:
            until = time.monotonic() + 15
            while time.monotonic() < until:
                cur.execute("SELECT count(*) FROM kinesis._due_tasks() WHERE stream_id = %s", (sid,))
                if cur.fetchone()[0] == 0:
                    break
                time.sleep(0.1)
            time.sleep(2 * MAINTENANCE_EVERY_S)
        stop_maintenance.set()
        maint.join(10)
        smp = checkpoint(cur, stream, sid, start_now, gate, deadline, "final")
        if smp is not None:
            samples.append(smp)
        hung = [t.name for t in producers + consumers + [maint, clock] if t.is_alive()]
        if hung:
            VIOLATIONS.add("deadline", "threads still running after the deadline: %s" % ", ".join(hung))

        committed = LEDGER.committed_snapshot()
        committed_total = len(committed)
        consumer_notes = []
        for c in consumers:
            if not c.finished:
                consumer_notes.append("%s did not finish" % c.name)
                continue
            lost, expired = c.missing(committed)
            for p in lost[:20]:
                VIOLATIONS.add("lost", "%s: committed %s (shard %d, seq %d) never delivered though "
                               "within retention when passed" % (c.name, p.rid, p.shard, p.seq))
            if len(lost) > 20:
                VIOLATIONS.add("lost", "%s: ... and %d more" % (c.name, len(lost) - 20))
            consumer_notes.append("%s delivered %d, skipped %d expired, %d calls"
                                  % (c.name, len(c.ids), expired, c.calls))

        structural_checks(cur, sid, samples, maint, manual, days)
        print_samples(samples)
        summary = ("committed %d records in %d transactions (%d rolled back); %s; maintenance: %s%s; "
                   "clock ticks %d; elapsed %.1f s"
                   % (committed_total, LEDGER.txns_committed, LEDGER.txns_rolled_back,
                      "; ".join(consumer_notes), outcome_text(maint),
                      "" if manual else ", worker pids %s%s" % (
                          sorted(maint.worker_pids),
                          ", no worker in %d polls" % maint.worker_missing if maint.worker_missing else ""),
                      clock.ticks, time.monotonic() - t_start))
    finally:
        stop_clock.set()
        stop_producers.set()
        stop_maintenance.set()
        final.set()
        gate.open()
        cleanup(cur, stream, manual, start_offset)
        admin.close()

    return report("retention soak", seed, summary)


def outcome_text(maint):
    with maint.lock:
        items = sorted(maint.outcomes.items())
    text = ", ".join("%s %s %d" % (t, o, c) for (t, o), c in items) or "nothing"
    if maint.details:
        text += " (e.g. %s)" % maint.details[0]
    return text


def structural_checks(cur, sid, samples, maint, manual, days):
    # (a) storage plateaus, buckets bounded
    after = [s for s in samples if s.vh >= RETENTION_HOURS]
    if not after:
        VIOLATIONS.add("storage", "no sample after the first retention period")
        return
    ref = after[0]
    final = samples[-1]
    too_many = [s for s in samples if s.nbuckets > MAX_BUCKETS]
    if too_many:
        worst = max(too_many, key=lambda s: s.nbuckets)
        VIOLATIONS.add("buckets", "%d buckets at %.1f virtual hours (at most %d expected)"
                       % (worst.nbuckets, worst.vh, MAX_BUCKETS))
    if final.bytes > MAX_GROWTH * ref.bytes:
        VIOLATIONS.add("storage", "final size %d bytes is %.2fx the %d bytes after the first retention "
                       "period (at %.1f h); at most %.1fx expected"
                       % (final.bytes, final.bytes / ref.bytes, ref.bytes, ref.vh, MAX_GROWTH))
    late = [s for s in samples if s.vh >= 2 * RETENTION_HOURS]
    if late:
        big = max(late, key=lambda s: s.bytes)
        if big.bytes > MAX_GROWTH * ref.bytes:
            VIOLATIONS.add("storage", "size %d bytes at %.1f h is %.2fx the %d bytes after the first "
                           "retention period" % (big.bytes, big.vh, big.bytes / ref.bytes, ref.bytes))
    for s in after:
        if s.retained and s.stored > MAX_GROWTH * s.retained:
            VIOLATIONS.add("storage", "%d records stored for %d within retention at %.1f h"
                           % (s.stored, s.retained, s.vh))
            break
    # (d) trimming happened and left nothing behind
    n, bmin, bmax, nbytes, v, buckets = storage(cur, sid, 0)
    if maint.count("trim", "done") == 0:
        VIOLATIONS.add("trim", "maintenance never reported a trim 'done'")
    if maint.count("rotate", "done") == 0:
        VIOLATIONS.add("rotate", "maintenance never reported a rotate 'done'")
    if days * 24 >= RETENTION_HOURS + 2 * BUCKET_WIDTH_S / 3600 and (bmin is None or bmin == 0):
        VIOLATIONS.add("trim", "bucket 0 is still there after %g virtual days (buckets %s)" % (days, buckets))
    cur.execute("""
        SELECT c.relname, c.oid::regclass::text
          FROM pg_inherits i
          JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = 'kinesis.records'::regclass
           AND c.relname LIKE %s
           AND NOT EXISTS (SELECT 1 FROM kinesis.buckets b
                            WHERE b.stream_id = %s
                              AND kinesis._bucket_table(b.stream_id, b.bucket) = c.oid::regclass::text)
        """, ("records\\_%d\\_%%" % sid, sid))
    for relname, qual in cur.fetchall():
        VIOLATIONS.add("trim", "table %s is left over: not in kinesis.buckets" % qual)
    cur.execute("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                " WHERE n.nspname = 'kinesis' AND c.relkind = 'r' AND c.relname LIKE %s",
                ("records\\_%d\\_%%" % sid,))
    ntables = cur.fetchone()[0]
    if ntables != n:
        VIOLATIONS.add("trim", "%d tables named records_%d_* for %d buckets" % (ntables, sid, n))
    if bmin is not None and bmax - bmin + 1 != n:
        VIOLATIONS.add("buckets", "bucket numbers not contiguous at the end: %s" % buckets)


def print_samples(samples):
    print("  virtual h  buckets (range)     bytes  retained  stored")
    mark = -1
    for i, s in enumerate(samples):
        if int(s.vh // 6) > mark or i == len(samples) - 1:
            mark = int(s.vh // 6)
            print("  %9.1f  %7d (%3s-%-3s) %10d  %8d  %6d"
                  % (s.vh, s.nbuckets, s.bmin, s.bmax, s.bytes, s.retained, s.stored))
    after = [s for s in samples if s.vh >= RETENTION_HOURS]
    if after:
        ref = after[0]
        print("  after the first retention period: %d bytes; final %d bytes (%.2fx); max buckets %d; "
              "stored/retained at most %.2f"
              % (ref.bytes, samples[-1].bytes, samples[-1].bytes / max(ref.bytes, 1),
                 max(s.nbuckets for s in after),
                 max((s.stored / s.retained) for s in after if s.retained) if any(s.retained for s in after) else 0))


def cleanup(cur, stream, manual, start_offset):
    delete_stream(cur, stream, not manual, wait_gone=True)
    try:
        if start_offset == 0:
            cur.execute("ALTER SYSTEM RESET kinesis.test_clock_offset")
        else:
            cur.execute("ALTER SYSTEM SET kinesis.test_clock_offset = %s", (start_offset,))
        cur.execute("SELECT pg_reload_conf()")
    except Exception as e:
        print("warning: could not set kinesis.test_clock_offset back: %s" % e)


if __name__ == "__main__":
    sys.exit(main())
