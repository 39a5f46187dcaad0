#!/usr/bin/env python3
"""Load generator for the per-shard throughput limits
(kinesis.enforce_throughput_limits): the limits hold under concurrency, and
throttling never breaks the ordering guarantee.

Phases, each timed with time.monotonic() from just before the threads are
let go until every one of them has returned:

  1. writes, limits on: PRODUCERS threads (one connection each, autocommit,
     SET kinesis.enforce_throughput_limits = on) hammer a 1-shard stream as
     fast as they can with kinesis.put_record and kinesis.put_records
     (BATCH entries), each record 100 bytes of data that start with a
     unique id (stresslib.payload).  Every call is recorded: accepted,
     refused (SQLSTATE KN008) or, for put_records, which entries were
     refused, and the sequence numbers of those accepted.  Then the shard
     is drained with get_records in a session with the limits off.
  2. reads, limits on: READERS threads call get_records on shard 0 of a
     2-shard stream in a tight loop while one more thread calls it on
     shard 1 at most QUIET_READS_PER_S times a second.
  3. writes, limits off (the default): the producer load of phase 1 again,
     on the same stream, then the new records are drained.

Checks (each failure is a violation):
  (a) phase 1 refused some calls (the load exceeds 1,000 records/s);
  (b) accepted records <= 1000 * elapsed + 1000 (a full bucket) + slack;
      accepted get_records calls on shard 0 <= 5 * elapsed + 5 + slack.
      The server takes every token between the client's start and end
      times, and a bucket never holds more than one second's worth, so the
      limiter cannot admit more; saturated, it comes within a few records
      of that, so the margin is the argument, not a measured gap.  The
      slack, 1 + 0.1 % of the bound, covers rounding in the float buckets'
      ">= 1 token" test and any rate difference between the server's wall
      clock (gettimeofday, which the buckets refill by) and the client's
      monotonic clock; NTP slews both alike, so that is far below 0.1 %.
      (A step of the wall clock during a run would break any bound.)
      This is a correctness bound of the limiter: no lower bound on
      throughput is asserted anywhere;
  (c) every accepted record, and no refused one, is read back exactly once
      (same data, partition key and sequence number as the put returned),
      in strictly increasing sequence-number order; within one put_records
      call the accepted entries keep their request order; one producer's
      accepted records (sequential autocommit calls) get increasing numbers;
  (d) a refused put_record raises KN008 with the message
      "ProvisionedThroughputExceededException: Rate exceeded for shard
      <id> in stream <name> under account <acct>."; a refused put_records
      entry has error_code ProvisionedThroughputExceededException,
      error_message "Rate exceeded for shard ...", NULL sequence_number and
      shard_id, and failed_record_count counts exactly those entries;
  (e) reads: some get_records calls on shard 0 were refused (KN008, same
      message for that shard); the paced reader of shard 1 is never refused
      (the shards' buckets are independent).  Its pace leaves room: with
      calls started at least 0.25 s apart, and a bucket of five calls that
      refills five a second, a call is refused only if one of the calls
      reached the server more than about 1 s after it was sent; the
      summary shows the largest call latency;
  (f) kinesis.shard_metrics agrees: IncomingRecords grew by the records
      accepted, WriteProvisionedThroughputExceeded by the records refused,
      ReadProvisionedThroughputExceeded by the reads refused on shard 0 and
      not at all on shard 1;
  (g) phase 3 (limits off) refuses nothing, and its records too are read
      back exactly once and in order.

Environment: libpq's PGHOST, PGPORT, PGUSER, PGDATABASE (and friends); the
user must be a superuser (the setting is PGC_SUSET).
KINESIS_STRESS_SCALE = small (default: 4 s per phase) or large (15 s);
KINESIS_STRESS_SEED (default random, printed); KINESIS_THROTTLE_SECONDS
overrides the length of each phase.  Exit status 0 when every check
passes, 1 otherwise.
"""

import random
import sys
import threading
import time
import traceback

import psycopg2

from stresslib import (GET_RECORDS_FROM, VIOLATIONS, close_quietly, connect, delete_stream,
                       env_num, find_worker, get_shard_iterator, payload, payload_id, report,
                       scale_config, seed_knob, shard_id, stream_name, wait_until_active,
                       wait_until_quiet)

SCALES = {
    "small": dict(seconds=4.0),
    "large": dict(seconds=15.0),
}
PRODUCERS = 8
READERS = 6
BATCH = 50                  # entries of a put_records call
BATCH_SHARE = 0.5           # calls that are put_records (the others put_record)
QUIET_READS_PER_S = 4       # the paced reader of the other shard
READ_LIMIT = 5              # records per get_records call of the read phase
WRITE_RECORDS_PER_S = 1000  # AWS's limits, as src/throttle.c enforces them
READ_CALLS_PER_S = 5
DATA_BYTES = 100            # id padded to ID_WIDTH, a NUL, two SHA-256 digests
ID_WIDTH = DATA_BYTES - 1 - 2 * 32
PK = "k"
THROTTLED = "KN008"
EXCEPTION = "ProvisionedThroughputExceededException"
APP = "kinesis throttle load"

PUT_RECORD_SQL = """
SELECT shard_id, sequence_number
  FROM kinesis.put_record(stream_name => %s, data => %s, partition_key => %s)
"""

# one row per entry, in request order, with failed_record_count repeated
PUT_RECORDS_SQL = """
SELECT o.failed_record_count, e.sequence_number, e.shard_id, e.error_code, e.error_message
  FROM kinesis.put_records(
         records => ARRAY(SELECT ROW(u.d, NULL, %s)::kinesis.put_records_request_entry
                            FROM unnest(%s::bytea[]) WITH ORDINALITY AS u(d, n)
                           ORDER BY u.n),
         stream_name => %s) AS o
 CROSS JOIN LATERAL unnest(o.records) WITH ORDINALITY
       AS e(sequence_number, shard_id, error_code, error_message, n)
 ORDER BY e.n
"""

HAMMER_READ_SQL = "SELECT cardinality(records) FROM kinesis.get_records(%s, %s)"

DRAIN_SQL = """
SELECT g.next_shard_iterator, g.millis_behind_latest,
       r.sequence_number, r.data, r.partition_key""" + GET_RECORDS_FROM

METRICS_SQL = """
SELECT shard_id, incoming_records, write_provisioned_throughput_exceeded,
       read_provisioned_throughput_exceeded
  FROM kinesis.shard_metrics WHERE stream_name = %s
"""


def rate_bound(rate, elapsed):
    """The most a token bucket of rate tokens a second, holding at most one
    second's worth, can hand out in elapsed seconds, and the slack allowed
    on top (see the module docstring, check (b))."""
    bound = rate * elapsed + rate
    return bound, 1 + 0.001 * bound


def set_limits(conn, on):
    """SET kinesis.enforce_throughput_limits in conn's session (autocommit)
    and make sure it took."""
    with conn.cursor() as cur:
        cur.execute("SET kinesis.enforce_throughput_limits = %s", ("on" if on else "off",))
        cur.execute("SELECT current_setting('kinesis.enforce_throughput_limits')")
        got = cur.fetchone()[0]
    if got != ("on" if on else "off"):
        raise RuntimeError("kinesis.enforce_throughput_limits is %s, wanted %s" % (got, on))


class Messages:
    """The exact texts a refusal on a shard of a stream must carry."""

    def __init__(self, stream, account):
        self.stream = stream
        self.account = account

    def entry(self, sid):
        """error_message of a refused put_records entry."""
        return "Rate exceeded for shard %s in stream %s under account %s." % (sid, self.stream, self.account)

    def error(self, sid):
        """The message of the KN008 error of put_record or get_records."""
        return "%s: %s" % (EXCEPTION, self.entry(sid))


def refusal(e, msgs, sid, who):
    """Whether the psycopg2 error e is the refusal of shard sid; a KN008
    with a different message is a violation (and still a refusal)."""
    if e.pgcode != THROTTLED:
        return False
    got = e.diag.message_primary
    if got != msgs.error(sid):
        VIOLATIONS.add("message", "%s: KN008 message %r, expected %r" % (who, got, msgs.error(sid)))
    return True


# ------------------------------------------------------------ writes

class Producer(threading.Thread):
    """Puts into the first shard of stream as fast as it can until the
    phase ends.  calls: one dict per call, in call order: kind, ids (in
    request order), accepted ({id: sequence number}), refused (ids)."""

    def __init__(self, phase, index, stream, limits, msgs, seed, timing):
        super().__init__(name="%s-producer-%d" % (phase, index), daemon=True)
        self.phase = phase
        self.index = index
        self.stream = stream
        self.limits = limits
        self.msgs = msgs
        self.rng = random.Random("%s-%s-%d" % (seed, phase, index))
        self.timing = timing
        self.calls = []
        self.data = {}          # id -> data
        self.sid = shard_id(0)

    def new_record(self, call, entry):
        rid = ("%s-p%d-c%d-e%d" % (self.phase, self.index, call, entry)).ljust(ID_WIDTH, ".")
        data = payload(rid, self.rng, (2, 2))
        assert len(data) == DATA_BYTES
        self.data[rid] = data
        return rid, data

    def violation(self, kind, text):
        VIOLATIONS.add(kind, "%s: %s" % (self.name, text))

    def put_one(self, cur, n):
        rid, data = self.new_record(n, 0)
        rec = dict(kind="put_record", ids=[rid], accepted={}, refused=[])
        try:
            cur.execute(PUT_RECORD_SQL, (self.stream, psycopg2.Binary(data), PK))
        except psycopg2.Error as e:
            if not refusal(e, self.msgs, self.sid, self.name):
                raise
            rec["refused"].append(rid)
            return rec
        sid, seq = cur.fetchone()
        if sid != self.sid:
            self.violation("content", "%s put into %s, the stream has one shard" % (rid, sid))
        rec["accepted"][rid] = int(seq)
        return rec

    def put_batch(self, cur, n):
        recs = [self.new_record(n, j) for j in range(BATCH)]
        rec = dict(kind="put_records", ids=[r for r, _ in recs], accepted={}, refused=[])
        cur.execute(PUT_RECORDS_SQL, (PK, [psycopg2.Binary(d) for _, d in recs], self.stream))
        rows = cur.fetchall()
        if len(rows) != BATCH:
            self.violation("put_records", "call %d: %d entries for %d records" % (n, len(rows), BATCH))
            return None
        failed = rows[0][0]
        last = None
        for (rid, _), (_, seq, sid, code, message) in zip(recs, rows):
            if code is None:
                if seq is None or sid != self.sid or message is not None:
                    self.violation("put_records", "%s: accepted entry (%r, %r, %r)"
                                   % (rid, seq, sid, message))
                    continue
                seq = int(seq)
                if last is not None and seq <= last:
                    self.violation("reordered", "call %d: %s got %d, after an earlier entry got %d"
                                   % (n, rid, seq, last))
                last = seq
                rec["accepted"][rid] = seq
            else:
                rec["refused"].append(rid)
                if code != EXCEPTION or message != self.msgs.entry(self.sid):
                    self.violation("message", "%s: entry error %r / %r, expected %r / %r"
                                   % (rid, code, message, EXCEPTION, self.msgs.entry(self.sid)))
                if seq is not None or sid is not None:
                    self.violation("put_records", "%s: refused entry has sequence number %r, shard %r"
                                   % (rid, seq, sid))
        if any(row[0] != failed for row in rows) or failed != len(rec["refused"]):
            self.violation("put_records", "call %d: failed_record_count %r, %d entries refused"
                           % (n, failed, len(rec["refused"])))
        return rec

    def run(self):
        conn = None
        try:
            conn = connect(True, name=APP)
            set_limits(conn, self.limits)
            cur = conn.cursor()
            self.timing.ready.wait()
            self.timing.go.wait()
            end = self.timing.t0 + self.timing.seconds
            n = 0
            last = None
            while time.monotonic() < end:
                if self.rng.random() < BATCH_SHARE:
                    rec = self.put_batch(cur, n)
                else:
                    rec = self.put_one(cur, n)
                n += 1
                if rec is None:
                    continue
                self.calls.append(rec)
                for rid in rec["ids"]:
                    seq = rec["accepted"].get(rid)
                    if seq is None:
                        continue
                    if last is not None and seq <= last:
                        self.violation("reordered", "%s got %d after this producer's earlier call got %d"
                                       % (rid, seq, last))
                    last = seq
        except Exception:
            self.violation("producer error", traceback.format_exc().strip())
        finally:
            close_quietly(conn)


class Timing:
    """Lets a phase's threads go together and times the phase."""

    def __init__(self, nthreads, seconds):
        self.ready = threading.Barrier(nthreads + 1)
        self.go = threading.Event()
        self.seconds = seconds
        self.t0 = None
        self.elapsed = None

    def run(self, threads):
        """Starts threads, lets them go once all are connected, and returns
        when they have all returned (or a generous deadline has passed)."""
        for t in threads:
            t.start()
        try:
            self.ready.wait(120)
        except threading.BrokenBarrierError:
            VIOLATIONS.add("deadline", "threads not ready in 120 s")
        self.t0 = time.monotonic()
        self.go.set()
        for t in threads:
            t.join(max(1.0, self.t0 + self.seconds + 180 - time.monotonic()))
        self.elapsed = time.monotonic() - self.t0
        hung = [t.name for t in threads if t.is_alive()]
        if hung:
            VIOLATIONS.add("deadline", "threads still running: %s" % ", ".join(hung))


def drain(cur, stream, sid, after=None):
    """Every record of shard sid (after sequence number after), read with
    the limits off in cur's session: [(sequence number, data, partition
    key)] in delivery order."""
    if after is None:
        it = get_shard_iterator(cur, stream, sid, "TRIM_HORIZON")
    else:
        it = get_shard_iterator(cur, stream, sid, "AFTER_SEQUENCE_NUMBER", str(after))
    out = []
    while True:
        cur.execute(DRAIN_SQL, (it, 10000))
        rows = cur.fetchall()
        recs = [(int(r[2]), bytes(r[3]), r[4]) for r in rows if r[2] is not None]
        out.extend(recs)
        nxt, behind = rows[0][0], rows[0][1]
        if nxt is None:
            VIOLATIONS.add("iterator", "%s returned no next_shard_iterator (open shard)" % sid)
            return out
        it = nxt
        if not recs and behind == 0:
            return out


def accepted_after_refused(call):
    """Whether an entry of a put_records call was accepted after an earlier
    one was refused (the bucket refilled while the call ran, or another
    call's entries went first): allowed, and counted for the summary."""
    if not call["refused"] or not call["accepted"]:
        return False
    ids = call["ids"]
    return max(ids.index(r) for r in call["accepted"]) > ids.index(call["refused"][0])


def check_writes(label, producers, records, limits):
    """Checks (c), (d) and (g) of a write phase against the records it
    drained.  Returns a dict of counts."""
    calls = [c for p in producers for c in p.calls]
    data = {}
    for p in producers:
        data.update(p.data)
    accepted = {}
    refused = set()
    for c in calls:
        accepted.update(c["accepted"])
        refused.update(c["refused"])
    refused_calls = sum(1 for c in calls if c["refused"])
    interleaved = sum(1 for c in calls if accepted_after_refused(c))
    if not limits and refused:
        VIOLATIONS.add("refused", "%s: %d records refused with the limits off" % (label, len(refused)))

    # the drain: order, exactly once, nothing refused, content as put
    pos = {}
    last = None
    for i, (seq, d, pk) in enumerate(records):
        if last is not None and seq <= last:
            VIOLATIONS.add("reordered", "%s: sequence number %d read after %d" % (label, seq, last))
        last = seq
        rid, ok = payload_id(d)
        if rid is None or not ok:
            VIOLATIONS.add("content", "%s: seq %d: data without an intact id: %r" % (label, seq, d[:40]))
            continue
        if rid in pos:
            VIOLATIONS.add("duplicated", "%s: %s read twice" % (label, rid))
            continue
        pos[rid] = i
        if rid in refused:
            VIOLATIONS.add("refused stored", "%s: %s was refused but is stored (seq %d)" % (label, rid, seq))
        elif rid not in accepted:
            VIOLATIONS.add("unknown", "%s: %s read but never accepted" % (label, rid))
        else:
            if accepted[rid] != seq:
                VIOLATIONS.add("content", "%s: %s read with seq %d, put returned %d"
                               % (label, rid, seq, accepted[rid]))
            if data[rid] != d or pk != PK:
                VIOLATIONS.add("content", "%s: %s differs from what was put" % (label, rid))
    lost = sorted(set(accepted) - set(pos))
    for rid in lost[:20]:
        VIOLATIONS.add("lost", "%s: %s accepted (seq %d), never read" % (label, rid, accepted[rid]))
    if len(lost) > 20:
        VIOLATIONS.add("lost", "%s: ... %d accepted records never read in all" % (label, len(lost)))
    # one put_records call's accepted entries: request order in the shard
    for c in calls:
        got = [pos[r] for r in c["ids"] if r in c["accepted"] and r in pos]
        if got != sorted(got):
            VIOLATIONS.add("reordered", "%s: %s's accepted entries read out of request order"
                           % (label, c["ids"][0]))
    return dict(calls=len(calls), refused_calls=refused_calls, accepted=len(accepted),
                refused=len(refused), read=len(records), interleaved=interleaved,
                last=last)


def metrics(cur, stream):
    """shard id -> (incoming records, writes refused, reads refused) of
    stream from kinesis.shard_metrics (zeros for a shard not tracked)."""
    cur.execute(METRICS_SQL, (stream,))
    return {r[0]: tuple(int(x) for x in r[1:]) for r in cur.fetchall()}


def metric_delta(before, after, sid, k):
    """How much metric k of shard sid grew; None if the shard's entry was
    recycled in between (its counters went down)."""
    b = before.get(sid, (0, 0, 0))[k]
    a = after.get(sid, (0, 0, 0))[k]
    return None if a < b else a - b


def check_metric(label, before, after, sid, k, name, expected):
    d = metric_delta(before, after, sid, k)
    if d is None:
        print("note: %s: the shared entry of %s was recycled; %s not checked" % (label, sid, name))
    elif d != expected:
        VIOLATIONS.add("metrics", "%s: %s of %s grew by %d, expected %d" % (label, name, sid, d, expected))


def write_phase(label, cur, stream, msgs, seed, seconds, limits, after=None):
    """Runs a write phase on the 1-shard stream and checks it; returns
    (counts, elapsed)."""
    before = metrics(cur, stream)
    timing = Timing(PRODUCERS, seconds)
    producers = [Producer(label, i, stream, limits, msgs, seed, timing) for i in range(PRODUCERS)]
    timing.run(producers)
    wait_until_quiet(cur, stream, time.monotonic() + 60,
                     label + ": %(n)d transactions still in flight after the producers finished")
    after_m = metrics(cur, stream)
    records = drain(cur, stream, shard_id(0), after)
    counts = check_writes(label, producers, records, limits)
    sid = shard_id(0)
    check_metric(label, before, after_m, sid, 0, "IncomingRecords", counts["accepted"])
    check_metric(label, before, after_m, sid, 1, "WriteProvisionedThroughputExceeded", counts["refused"])
    return counts, timing.elapsed


# ------------------------------------------------------------- reads

class Reader(threading.Thread):
    """Calls get_records on one shard with the limits on until the phase
    ends: in a tight loop, or at most pace calls a second."""

    def __init__(self, name, stream, sid, msgs, timing, pace=None):
        super().__init__(name=name, daemon=True)
        self.stream = stream
        self.sid = sid
        self.msgs = msgs
        self.timing = timing
        self.pace = pace
        self.accepted = 0
        self.refused = 0
        self.max_latency = 0.0

    def run(self):
        conn = None
        try:
            conn = connect(True, name=APP)
            cur = conn.cursor()
            it = get_shard_iterator(cur, self.stream, self.sid, "TRIM_HORIZON")
            set_limits(conn, True)
            self.timing.ready.wait()
            self.timing.go.wait()
            end = self.timing.t0 + self.timing.seconds
            next_start = self.timing.t0
            while True:
                now = time.monotonic()
                if self.pace is not None:
                    # start-to-start at least 1/pace s; a late call is not made up for
                    if next_start > now:
                        time.sleep(next_start - now)
                        now = time.monotonic()
                    next_start = now + 1.0 / self.pace
                if now >= end:
                    break
                try:
                    cur.execute(HAMMER_READ_SQL, (it, READ_LIMIT))
                    cur.fetchall()
                    self.accepted += 1
                except psycopg2.Error as e:
                    if not refusal(e, self.msgs, self.sid, self.name):
                        raise
                    self.refused += 1
                self.max_latency = max(self.max_latency, time.monotonic() - now)
        except Exception:
            VIOLATIONS.add("reader error", "%s: %s" % (self.name, traceback.format_exc().strip()))
        finally:
            close_quietly(conn)


def read_phase(cur, stream, msgs, seconds):
    """Runs the read phase on the 2-shard stream and checks it; returns
    (hammer readers, paced reader, elapsed)."""
    hot, other = shard_id(0), shard_id(1)
    before = metrics(cur, stream)
    timing = Timing(READERS + 1, seconds)
    readers = [Reader("reader-%d" % i, stream, hot, msgs, timing) for i in range(READERS)]
    quiet = Reader("paced-reader", stream, other, msgs, timing, pace=QUIET_READS_PER_S)
    timing.run(readers + [quiet])
    after = metrics(cur, stream)
    accepted = sum(r.accepted for r in readers)
    refused = sum(r.refused for r in readers)
    bound, slack = rate_bound(READ_CALLS_PER_S, timing.elapsed)
    if accepted > bound + slack:
        VIOLATIONS.add("read limit", "%d get_records calls on %s accepted in %.3f s: more than %.1f + %.1f"
                       % (accepted, hot, timing.elapsed, bound, slack))
    if refused == 0:
        VIOLATIONS.add("not throttled", "%d readers in a tight loop on %s: no call refused (%d accepted)"
                       % (READERS, hot, accepted))
    if quiet.refused:
        VIOLATIONS.add("shards not independent",
                       "%s refused %d of %d calls at %d a second (largest latency %.3f s)"
                       % (other, quiet.refused, quiet.refused + quiet.accepted, QUIET_READS_PER_S,
                          quiet.max_latency))
    if quiet.accepted == 0:
        VIOLATIONS.add("paced reader", "the paced reader of %s made no call" % other)
    check_metric("reads", before, after, hot, 2, "ReadProvisionedThroughputExceeded", refused)
    check_metric("reads", before, after, other, 2, "ReadProvisionedThroughputExceeded", quiet.refused)
    return readers, quiet, timing.elapsed, bound, slack


def main():
    scale, cfg = scale_config(SCALES)
    if cfg is None:
        return 1
    seconds = env_num("KINESIS_THROTTLE_SECONDS", cfg["seconds"])
    seed = seed_knob()
    s1 = stream_name("throttle_w")
    s2 = stream_name("throttle_r")
    print("throttle load: scale=%s seed=%s seconds=%.1f producers=%d batch=%d readers=%d streams=%s, %s"
          % (scale, seed, seconds, PRODUCERS, BATCH, READERS, s1, s2), flush=True)

    admin = connect(True, name=APP)
    cur = admin.cursor()
    cur.execute("CREATE EXTENSION IF NOT EXISTS kinesis")
    set_limits(admin, False)    # the drains and set-up are never throttled
    cur.execute("SELECT current_setting('kinesis.account_id')")
    account = cur.fetchone()[0]
    worker = find_worker(cur) is not None
    created = []
    lines = []
    try:
        cur.execute("SELECT kinesis.create_stream(stream_name => %s, shard_count => 1)", (s1,))
        created.append(s1)
        cur.execute("SELECT kinesis.create_stream(stream_name => %s, shard_count => 2)", (s2,))
        created.append(s2)
        wait_until_active(cur, s1, worker)
        wait_until_active(cur, s2, worker)

        # 1. writes with the limits on
        w, elapsed = write_phase("on", cur, s1, Messages(s1, account), seed, seconds, True)
        bound, slack = rate_bound(WRITE_RECORDS_PER_S, elapsed)
        if w["refused_calls"] == 0:
            VIOLATIONS.add("not throttled", "no call refused: %d records accepted in %.3f s"
                           % (w["accepted"], elapsed))
        if w["accepted"] > bound + slack:
            VIOLATIONS.add("write limit", "%d records accepted in %.3f s: more than %.1f + %.1f"
                           % (w["accepted"], elapsed, bound, slack))
        lines.append("writes, limits on: %.3f s, %d calls (%d refused in whole or part), records "
                     "accepted %d (%.0f/s; bound %.0f + slack %.1f), refused %d, read back %d; "
                     "put_records calls with an entry accepted after a refused one: %d"
                     % (elapsed, w["calls"], w["refused_calls"], w["accepted"], w["accepted"] / elapsed,
                        bound, slack, w["refused"], w["read"], w["interleaved"]))
        print(lines[-1], flush=True)

        # 2. reads with the limits on
        cur.execute("""SELECT failed_record_count FROM kinesis.put_records(
                         ARRAY(SELECT ROW(convert_to(lpad(i::text, 100, '0'), 'UTF8'),
                                          CASE WHEN i %% 2 = 0 THEN '0'
                                               ELSE '340282366920938463463374607431768211455' END,
                                          'k')::kinesis.put_records_request_entry
                                 FROM generate_series(1, 40) i), %s)""", (s2,))
        readers, quiet, relapsed, rbound, rslack = read_phase(cur, s2, Messages(s2, account), seconds)
        acc = sum(r.accepted for r in readers)
        lines.append("reads, limits on: %.3f s, %d readers on %s: calls accepted %d (bound %.1f + "
                     "slack %.1f), refused %d; paced reader on %s: %d accepted, %d refused, largest "
                     "latency %.3f s" % (relapsed, READERS, shard_id(0), acc, rbound, rslack,
                                         sum(r.refused for r in readers), shard_id(1), quiet.accepted,
                                         quiet.refused, quiet.max_latency))
        print(lines[-1], flush=True)

        # 3. writes with the limits off
        w3, e3 = write_phase("off", cur, s1, Messages(s1, account), seed, seconds, False,
                             after=w["last"])
        lines.append("writes, limits off: %.3f s, %d calls, records accepted %d (%.0f/s, %s the "
                     "limit's %.0f), refused %d, read back %d"
                     % (e3, w3["calls"], w3["accepted"], w3["accepted"] / e3,
                        "above" if w3["accepted"] > rate_bound(WRITE_RECORDS_PER_S, e3)[0] else "within",
                        rate_bound(WRITE_RECORDS_PER_S, e3)[0], w3["refused"], w3["read"]))
        print(lines[-1], flush=True)
    except Exception:
        VIOLATIONS.add("harness error", traceback.format_exc().strip())
    finally:
        for s in created:
            delete_stream(cur, s, worker)
        admin.close()

    return report("throttle load", seed, "; ".join(lines) or "did not get to run")


if __name__ == "__main__":
    sys.exit(main())
