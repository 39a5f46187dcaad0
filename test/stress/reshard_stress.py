#!/usr/bin/env python3
"""Stress test of resharding under load: SplitShard, MergeShards and
UpdateShardCount while producers put and consumers follow shard lineage.

Producers (one connection each) run transactions of random length that put
records with kinesis.put_record and kinesis.put_records (partition keys,
sometimes an explicit hash key), sleep a little between puts, sometimes put
inside a savepoint that is rolled back (and then linger: the rollback
released the stream lock the put took, not the transaction's in-flight
slot), and commit or roll back (about
20 %), occasionally by dropping the connection with the transaction open;
a few hold their transaction open longer than the maintenance lock
timeout, so that reshard tasks are skipped now and then and retried.
Every record's data starts with a unique id, so each record delivered can
be traced to the put that made it.  A put counts as committed only once
COMMIT has returned.

A controller reshards the stream while they run, waiting for ACTIVE after
each step: UpdateShardCount from the 2 shards the stream is created with
through 1, 2, 3 shards, then a SplitShard (the widest open shard, at its
middle) and a MergeShards (a random adjacent pair), then UpdateShardCount
through 5, 3, 6 shards; every step is within AWS's bounds (at most double,
at least half the open shards).  After every step it checks the lineage in
kinesis.shards (below), and after every UpdateShardCount that the open
shards are exactly uniform: boundaries floor(2^128/N)*i, the last ending at
2^128-1.  The large scale repeats the cycle (6 -> 3 -> 2 -> 1 -> 2 -> 3 ->
split -> merge -> 5 -> 3 -> 6) and runs longer.

Maintenance: when the database has a maintenance worker (detected with
kinesis.maintenance_worker_pid() IS NOT NULL) the worker carries the
transitions out; otherwise a dedicated connection calls
kinesis.run_maintenance() in a loop.  Either way the outcomes are counted
(a reshard is 'skipped' while puts hold the stream lock beyond
kinesis.maintenance_lock_timeout); an 'error' outcome is a violation.

Consumers (one connection each) walk the lineage as the KCL does: they
start at TRIM_HORIZON on the shards open at the start, follow
next_shard_iterator, and when a shard ends (next_shard_iterator NULL) they
take its child_shards and start a child at TRIM_HORIZON once every parent
of that child has ended.  Modes:

  * "plain": kinesis.get_records, each call in its own transaction;
  * "rows":  kinesis.read_records (one row per record, then a closing row with
             the next iterator and child_shards);
  * "rr":    kinesis.get_records, several calls per REPEATABLE READ
             transaction (get_records must work as of now, not as of the
             transaction snapshot; KINESIS_STRESS_RR=0 leaves it out).

Consumers read until the producers and the controller have finished,
nothing is in flight any more, and a read of every open shard that started
after that returned nothing.

Checks:
  * lost:        a committed record a consumer never got;
  * duplicated:  a record delivered twice to one consumer, or two committed
                 records with the same shard and sequence number;
  * rolled back: a record of a rolled-back transaction or savepoint, or of
                 no known put, delivered;
  * reordered:   sequence numbers not strictly increasing per shard
                 (compared as numbers), consumers disagreeing on a shard,
                 or the records of one producer and partition key (routed
                 by the key) delivered out of the order they were put in,
                 across shards and reshards;
  * content:     data, partition key, shard or sequence number of a
                 delivered record differing from what the put sent/returned;
  * routing:     a committed record in a shard whose hash key range does
                 not hold its hash key (MD5 of the key, or the explicit one);
  * ending:      a record (committed, or delivered) of a closed shard above
                 the shard's ending sequence number (compared as numbers),
                 or a closed shard without one;
  * lineage:     a closed shard whose children do not cover exactly its
                 range (a split: two adjacent children whose union is the
                 parent; a merge: one child, the union of two adjacent
                 parents), more than two parents, an open parent, open
                 shards that do not partition the hash space, a non-uniform
                 layout after UpdateShardCount, child_shards of get_records
                 missing or differing from kinesis.shards, or a consumer
                 that could not reach a shard;
  * iterator:    no next iterator on a shard that is still open;
  * maintenance: a task ending in 'error', or a step not reaching ACTIVE.
There are no timing assertions; a generous deadline only turns a hang into
a failure.

Environment: libpq's PGHOST, PGPORT, PGUSER, PGDATABASE (and friends);
KINESIS_STRESS_SCALE = small (default; about 60 s) or large (three
cycles, about 300 s); KINESIS_STRESS_SEED (default: random, printed);
KINESIS_STRESS_DURATION (seconds the producers run; default 60 small, 300
large); KINESIS_STRESS_DEADLINE (seconds; default 600 small, 1100 large);
KINESIS_STRESS_PRODUCERS (default 6); KINESIS_STRESS_RR (1 = run the
REPEATABLE READ consumer, the default; 0 = leave it out).

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

from stresslib import (GET_RECORDS_FROM, LEDGER, PUT_RECORDS_SQL, VIOLATIONS, MaintenanceMonitor,
                       TracingConsumer, TxnProducer, connect, delete_stream, env_num,
                       fetch_put_records, find_worker, payload, poll_until_active, read_or_expired,
                       report, scale_config, seed_knob, stream_name, wait_until_active,
                       wait_until_quiet)

SCALES = {
    "small": dict(producers=6, max_puts=8, cycles=1, duration=60, deadline=600),
    "large": dict(producers=8, max_puts=8, cycles=3, duration=300, deadline=1100),
}

HASH_MAX = 2 ** 128 - 1
INITIAL_SHARDS = 2
# The transaction mix (rollbacks, dropped connections, errors, batches,
# savepoints) is stresslib's, shared with ordering_stress.py.
EHK_SHARE = 0.10            # records routed by an explicit hash key
LONG_SHARE = 0.01           # transactions held open for 0.15-0.4 s before they
                            # end, beyond kinesis.maintenance_lock_timeout, so
                            # that reshard tasks are skipped and retried
STEP_TIMEOUT = 180          # seconds a reshard step may take to reach ACTIVE
PAYLOAD_REPEATS = (0, 4)    # digests after the id in a record's data
APP = "kinesis reshard stress"
LOST_SUMMARY = []           # per consumer and shard, for the report


def key_hash(pk):
    return int(hashlib.md5(pk.encode()).hexdigest(), 16)


# ---------------------------------------------------------------- shards

SHARDS_SQL = """
SELECT shard_id, shard_index, parent_shard_id, adjacent_parent_shard_id,
       starting_hash_key::text, ending_hash_key::text, ending_sequence_number, is_open
  FROM kinesis.shards WHERE stream_name = %s ORDER BY shard_index
"""


def load_shards(cur, stream):
    """shard_id -> dict(index, parents, lo, hi, ending, open)."""
    cur.execute(SHARDS_SQL, (stream,))
    shards = {}
    for sid, idx, parent, adjacent, lo, hi, ending, is_open in cur.fetchall():
        shards[sid] = dict(index=idx, parents=[p for p in (parent, adjacent) if p is not None],
                           lo=int(lo), hi=int(hi),
                           ending=int(ending) if ending is not None else None, open=is_open)
    return shards


def children_of(shards):
    kids = {sid: [] for sid in shards}
    for sid, s in shards.items():
        for p in s["parents"]:
            kids.setdefault(p, []).append(sid)
    return kids


def lineage_problems(shards):
    """Everything wrong with the lineage and layout of a shard table."""
    problems = []
    kids = children_of(shards)
    for sid, s in sorted(shards.items(), key=lambda kv: kv[1]["index"]):
        if s["lo"] > s["hi"] or s["lo"] < 0 or s["hi"] > HASH_MAX:
            problems.append("%s has the hash key range [%d, %d]" % (sid, s["lo"], s["hi"]))
        if len(s["parents"]) > 2 or len(set(s["parents"])) != len(s["parents"]):
            problems.append("%s has parents %s" % (sid, s["parents"]))
        for p in s["parents"]:
            if p not in shards:
                problems.append("%s has the unknown parent %s" % (sid, p))
            elif shards[p]["open"]:
                problems.append("%s has the open parent %s" % (sid, p))
        if len(s["parents"]) == 2 and all(p in shards for p in s["parents"]):
            a, b = sorted((shards[p] for p in s["parents"]), key=lambda x: x["lo"])
            if a["hi"] + 1 != b["lo"]:
                problems.append("%s merges the non-adjacent shards %s" % (sid, s["parents"]))
            if (s["lo"], s["hi"]) != (a["lo"], b["hi"]):
                problems.append("%s covers [%d, %d], its parents %s cover [%d, %d]"
                                % (sid, s["lo"], s["hi"], s["parents"], a["lo"], b["hi"]))
        if s["open"]:
            if s["ending"] is not None:
                problems.append("%s is open but has an ending sequence number" % sid)
            if kids.get(sid):
                problems.append("%s is open but has children %s" % (sid, kids[sid]))
            continue
        if s["ending"] is None:
            problems.append("%s is closed without an ending sequence number" % sid)
        ch = sorted((shards[c] | dict(id=c) for c in kids.get(sid, [])), key=lambda x: x["lo"])
        if not ch:
            problems.append("%s is closed but has no children" % sid)
            continue
        if len(ch) == 1 and len(ch[0]["parents"]) == 2:
            continue        # merged: the child was checked above
        if len(ch) != 2 or any(len(c["parents"]) != 1 for c in ch):
            problems.append("%s has children %s, neither one merge child nor two split children"
                            % (sid, [(c["id"], c["parents"]) for c in ch]))
            continue
        if not (ch[0]["lo"] == s["lo"] and ch[0]["hi"] + 1 == ch[1]["lo"] and ch[1]["hi"] == s["hi"]):
            problems.append("%s [%d, %d] split into %s [%d, %d] and %s [%d, %d]"
                            % (sid, s["lo"], s["hi"], ch[0]["id"], ch[0]["lo"], ch[0]["hi"],
                               ch[1]["id"], ch[1]["lo"], ch[1]["hi"]))
    opened = sorted((s["lo"], s["hi"], sid) for sid, s in shards.items() if s["open"])
    expect = 0
    for lo, hi, sid in opened:
        if lo != expect:
            problems.append("open shards leave a gap or overlap at %d (%s starts at %d)" % (expect, sid, lo))
        expect = hi + 1
    if expect != HASH_MAX + 1:
        problems.append("open shards end at %d, not 2^128-1" % (expect - 1))
    return problems


def uniform_problems(shards, n):
    opened = sorted((s["lo"], s["hi"], sid) for sid, s in shards.items() if s["open"])
    if len(opened) != n:
        return ["%d open shards, not %d" % (len(opened), n)]
    step = 2 ** 128 // n
    problems = []
    for i, (lo, hi, sid) in enumerate(opened):
        want_hi = HASH_MAX if i == n - 1 else step * (i + 1) - 1
        if (lo, hi) != (step * i, want_hi):
            problems.append("%s is [%d, %d], uniform %d shards want [%d, %d]"
                            % (sid, lo, hi, n, step * i, want_hi))
    return problems


# ---------------------------------------------------------------- producers

PUT_RECORD_SQL = """
SELECT shard_id, sequence_number
  FROM kinesis.put_record(stream_name => %s, data => %s, partition_key => %s,
                          explicit_hash_key => %s)
"""

CHILDREN_JSON = """(SELECT json_agg(json_build_object('id', c.shard_id, 'parents', c.parent_shards,
                                                 'lo', c.starting_hash_key, 'hi', c.ending_hash_key)
                                 ORDER BY c.shard_id)
            FROM unnest(%s) c)"""

GET_RECORDS_SQL = """
SELECT g.next_shard_iterator, g.millis_behind_latest, g.child_shards IS NOT NULL,
       """ + CHILDREN_JSON % "g.child_shards" + """,
       r.sequence_number, r.data, r.partition_key""" + GET_RECORDS_FROM

READ_RECORDS_SQL = """
SELECT x.next_shard_iterator, x.millis_behind_latest, x.child_shards IS NOT NULL,
       """ + CHILDREN_JSON % "x.child_shards" + """,
       x.sequence_number, x.data, x.partition_key
  FROM kinesis.read_records(shard_iterator => %s, "limit" => %s) WITH ORDINALITY AS x
 ORDER BY x.ordinality
"""


class Producer(TxnProducer):
    """Puts until stop is set; a savepoint rolled back is sometimes followed
    by a pause (the rollback released the stream lock the put took, not the
    transaction's in-flight slot), and a few transactions are held open
    beyond kinesis.maintenance_lock_timeout."""

    PAUSE_CUTS = (0.3, 0.33)

    def __init__(self, index, stream, max_puts, seed, stop, deadline):
        super().__init__(index, stream, max_puts, seed, deadline, APP)
        self.stop = stop
        self.keys = ["pk-%d-%d" % (index, k) for k in range(24)] + ["shared-%d" % k for k in range(8)]

    def more(self, txn):
        return not self.stop.is_set()

    def deadline_text(self, txn):
        return "%s still putting at the deadline" % self.name

    def after_savepoint_rollback(self):
        if self.rng.random() < 0.3:
            time.sleep(0.02 + self.rng.random() * 0.1)

    def before_end(self):
        if self.rng.random() < LONG_SHARE:
            time.sleep(0.15 + self.rng.random() * 0.25)

    def ehk(self):
        return str(self.rng.getrandbits(128)) if self.rng.random() < EHK_SHARE else None

    def log_put(self, rid, data, pk, ehk, sid, seq, txn, k):
        LEDGER.puts[rid] = dict(data=data, pk=pk, ehk=ehk, shard=sid, seq=int(seq),
                                producer=self.index, order=(txn, k))

    def put_one(self, cur, txn, k):
        rid = self.new_id(txn, k)
        pk = self.rng.choice(self.keys)
        ehk = self.ehk()
        data = payload(rid, self.rng, PAYLOAD_REPEATS)
        cur.execute(PUT_RECORD_SQL, (self.stream, psycopg2.Binary(data), pk, ehk))
        sid, seq = cur.fetchone()
        with LEDGER.lock:
            self.log_put(rid, data, pk, ehk, sid, seq, txn, k)
        return [rid]

    def put_batch(self, cur, txn, k, n):
        rids = [self.new_id(txn, k + j) for j in range(n)]
        raw, datas, ehks, pks = [], [], [], []
        for rid in rids:
            raw.append(payload(rid, self.rng, PAYLOAD_REPEATS))
            datas.append(psycopg2.Binary(raw[-1]))
            ehks.append(self.ehk())
            pks.append(self.rng.choice(self.keys))
        cur.execute(PUT_RECORDS_SQL, (datas, ehks, pks, self.stream))
        rows = fetch_put_records(cur, len(rids))
        with LEDGER.lock:
            for j, (rid, d, pk, ehk, (_, sid, seq, _)) in enumerate(zip(rids, raw, pks, ehks, rows)):
                self.log_put(rid, d, pk, ehk, sid, seq, txn, k + j)
        return rids


# ---------------------------------------------------------------- consumers

class Consumer(TracingConsumer):
    """Walks the shard lineage as the KCL does (see the module docstring);
    mode plain, rows (kinesis.read_records) or rr."""

    def __init__(self, name, mode, stream, seed, quiesced, ready, deadline):
        super().__init__(name, mode, stream, seed, deadline, APP)
        self.quiesced = quiesced
        self.ready = ready
        self.order = []             # ids in delivery order
        self.ended = set()          # shards read to their end
        self.started = set()        # shards read from TRIM_HORIZON
        self.reported = {}          # shard -> children as get_records named them
        self.parents = {}           # child -> its parents, from child_shards

    def run(self):
        try:
            super().run()
        finally:
            self.ready.set()

    def start_shard(self, cur, its, sid):
        self.started.add(sid)
        self.seen.setdefault(sid, [])
        its[sid] = self.get_iterator(cur, sid, "TRIM_HORIZON")

    def lookup_children(self, sid):
        """The children of sid as kinesis.shards lists them now (a fresh
        connection, outside any REPEATABLE READ transaction)."""
        conn = connect(True, name=APP + " lookup")
        try:
            shards = load_shards(conn.cursor(), self.stream)
        finally:
            conn.close()
        return [dict(id=c, parents=shards[c]["parents"], lo=str(shards[c]["lo"]), hi=str(shards[c]["hi"]))
                for c in sorted(children_of(shards).get(sid, []))]

    def consume(self):
        rng = self.rng
        conn = self.open_connection()
        cur = conn.cursor()
        its = {}
        cur.execute("SELECT shard_id FROM kinesis.shards WHERE stream_name = %s AND is_open "
                    "ORDER BY shard_index", (self.stream,))
        for (sid,) in cur.fetchall():
            self.start_shard(cur, its, sid)
        if self.mode == "rr":
            conn.commit()
        self.ready.set()
        drained = set()
        calls_in_txn = 0
        txn_len = rng.randint(1, 6)
        while True:
            if time.monotonic() > self.deadline:
                self.violation("deadline", "still reading; open iterators on %s, waiting children %s"
                               % (sorted(its), sorted(set(self.parents) - self.started)))
                return
            done_before = self.quiesced.is_set()
            got_any = False
            for sid in sorted(its):
                limit = rng.choice([10000, 10000, 1000, 50, 7, 1])
                sql = READ_RECORDS_SQL if self.mode == "rows" else GET_RECORDS_SQL
                rows = read_or_expired(conn, cur, sql, (its[sid], limit))
                if rows is None:
                    its[sid] = self.restart(cur, sid, sid)
                    continue
                self.calls += 1
                calls_in_txn += 1
                if self.mode == "rows":
                    last = rows[-1]
                    nxt, behind, has_children, children = last[0], last[1], last[2], last[3]
                else:
                    nxt, behind, has_children, children = rows[0][0], rows[0][1], rows[0][2], rows[0][3]
                recs = [r for r in rows if r[4] is not None]
                for r in recs:
                    seq = int(r[4])
                    self.order.append(self.check_record(sid, sid, sid, seq, bytes(r[5]), r[6],
                                                        "?%s-%d" % (sid, seq)))
                if recs:
                    got_any = True
                if nxt is not None:
                    its[sid] = nxt
                    if not recs and done_before and behind == 0:
                        drained.add(sid)
                    continue
                # the shard ended: move on to its children
                del its[sid]
                drained.discard(sid)
                self.ended.add(sid)
                if not children:
                    found = self.lookup_children(sid)
                    self.violation("lineage", "%s ended (no next_shard_iterator) with child_shards %s "
                                   "(%s call); kinesis.shards lists children %s"
                                   % (sid, "NULL" if not has_children else "empty",
                                      "REPEATABLE READ" if self.mode == "rr" else "autocommit",
                                      [c["id"] for c in found] or "none"))
                    children = found
                self.reported[sid] = children
                for c in children:
                    self.parents.setdefault(c["id"], set()).update(c["parents"])
                for c in children:
                    cid = c["id"]
                    if cid not in self.started and self.parents[cid] <= self.ended:
                        self.start_shard(cur, its, cid)
            if self.mode == "rr" and calls_in_txn >= txn_len:
                conn.commit()
                calls_in_txn = 0
                txn_len = rng.randint(1, 6)
            if done_before and not its.keys() - drained:
                break
            if not got_any:
                time.sleep(rng.random() * 0.01)
        if self.mode == "rr":
            conn.commit()
        conn.close()
        self.finished = True


# ---------------------------------------------------------------- controller

def plan_steps(cycles):
    steps = [("scale", 1), ("scale", 2), ("scale", 3), ("split", None), ("merge", None),
             ("scale", 5), ("scale", 3), ("scale", 6)]
    for _ in range(cycles - 1):
        steps += [("scale", 3), ("scale", 2), ("scale", 1), ("scale", 2), ("scale", 3),
                  ("split", None), ("merge", None), ("scale", 5), ("scale", 3), ("scale", 6)]
    # every UpdateShardCount within AWS's bounds, given the open shard counts
    n = INITIAL_SHARDS
    for kind, arg in steps:
        if kind == "scale":
            if not (arg <= 2 * n and 2 * arg >= n):
                raise AssertionError("step %d -> %d is outside AWS's bounds" % (n, arg))
            n = arg
        else:
            n += 1 if kind == "split" else -1
    return steps


class Controller(threading.Thread):
    def __init__(self, stream, steps, interval, seed, start, deadline):
        super().__init__(name="controller", daemon=True)
        self.stream = stream
        self.steps = steps
        self.interval = interval
        self.rng = random.Random("%s-controller" % seed)
        self.start_event = start
        self.deadline = deadline
        self.log = []               # (step text, seconds to ACTIVE, open shards)
        self.finished = False

    def run(self):
        try:
            self.control()
        except Exception:
            VIOLATIONS.add("controller error", traceback.format_exc().strip())

    def wait_active(self, cur, what):
        t0 = time.monotonic()
        status = poll_until_active(cur, self.stream, min(t0 + STEP_TIMEOUT, self.deadline), poll=0.02)
        if status == "ACTIVE":
            return time.monotonic() - t0
        cur.execute("SELECT task, outcome, detail FROM kinesis.maintenance "
                    " WHERE stream_name = %s ORDER BY task", (self.stream,))
        VIOLATIONS.add("maintenance", "%s: the stream is %s after %.0fs; maintenance: %s"
                       % (what, status or "gone", time.monotonic() - t0, cur.fetchall()))
        return None

    def control(self):
        conn = connect(True, name=APP + " controller")
        cur = conn.cursor()
        cur.execute("SET kinesis.max_scalings_per_day = 1000")
        self.start_event.wait()
        for i, (kind, arg) in enumerate(self.steps):
            time.sleep(self.interval)
            if time.monotonic() > self.deadline:
                VIOLATIONS.add("deadline", "controller stopped before step %d" % (i + 1))
                break
            shards = load_shards(cur, self.stream)
            opened = sorted((s["lo"], s["hi"], sid) for sid, s in shards.items() if s["open"])
            if kind == "scale":
                what = "UpdateShardCount %d -> %d" % (len(opened), arg)
                cur.execute("SELECT current_shard_count, target_shard_count "
                            "  FROM kinesis.update_shard_count(stream_name => %s, target_shard_count => %s)",
                            (self.stream, arg))
                cur.fetchall()
            elif kind == "split":
                lo, hi, sid = max(opened, key=lambda o: (o[1] - o[0], -o[0]))
                key = lo + (hi - lo + 1) // 2
                what = "SplitShard %s at %d" % (sid, key)
                cur.execute("SELECT kinesis.split_shard(stream_name => %s, shard_to_split => %s, "
                            "new_starting_hash_key => %s)", (self.stream, sid, str(key)))
            else:
                j = self.rng.randrange(len(opened) - 1)
                a, b = opened[j][2], opened[j + 1][2]
                what = "MergeShards %s + %s" % (a, b)
                cur.execute("SELECT kinesis.merge_shards(stream_name => %s, shard_to_merge => %s, "
                            "adjacent_shard_to_merge => %s)", (self.stream, a, b))
            took = self.wait_active(cur, what)
            if took is None:
                break
            shards = load_shards(cur, self.stream)
            problems = lineage_problems(shards)
            if kind == "scale":
                problems += uniform_problems(shards, arg)
            for p in problems:
                VIOLATIONS.add("lineage", "after %s: %s" % (what, p))
            nopen = sum(1 for s in shards.values() if s["open"])
            self.log.append((what, took, nopen))
            print("  step %d/%d: %s: ACTIVE after %.2fs, %d open shards, %d in all%s"
                  % (i + 1, len(self.steps), what, took, nopen, len(shards),
                     "" if not problems else ", %d lineage problems" % len(problems)), flush=True)
        conn.close()
        self.finished = True


# ---------------------------------------------------------------- checks

def check(consumers, shards):
    committed = LEDGER.committed
    puts = LEDGER.puts
    kids = children_of(shards)

    # lineage and layout of the final table
    for p in lineage_problems(shards):
        VIOLATIONS.add("lineage", "at the end: %s" % p)

    # the puts: unique numbers, routed into their shard's range, at or
    # below the ending number of a closed shard
    by_seq = {}
    for rid in committed:
        p = puts[rid]
        key = (p["shard"], p["seq"])
        if key in by_seq:
            VIOLATIONS.add("duplicated", "%s and %s were given the same sequence number %d in %s"
                           % (by_seq[key], rid, p["seq"], p["shard"]))
        by_seq[key] = rid
        s = shards.get(p["shard"])
        if s is None:
            VIOLATIONS.add("routing", "%s was put into %s, which kinesis.shards does not list"
                           % (rid, p["shard"]))
            continue
        h = int(p["ehk"]) if p["ehk"] is not None else key_hash(p["pk"])
        if not s["lo"] <= h <= s["hi"]:
            VIOLATIONS.add("routing", "%s (hash key %d) was put into %s [%d, %d]"
                           % (rid, h, p["shard"], s["lo"], s["hi"]))
        if not s["open"] and s["ending"] is not None and p["seq"] > s["ending"]:
            VIOLATIONS.add("ending", "%s has sequence number %d in %s, above its ending number %d"
                           % (rid, p["seq"], p["shard"], s["ending"]))

    ref = None
    for c in consumers:
        if not c.finished:
            continue
        c.check_delivered()
        lost_by_shard = {}
        for rid in c.check_lost():
            lost_by_shard.setdefault(puts[rid]["shard"], []).append(puts[rid]["seq"])
        for sid, seqs in sorted(lost_by_shard.items()):
            s = shards.get(sid, {})
            got = c.seen.get(sid, [])
            LOST_SUMMARY.append("%s: %d of %s (%s%s) never delivered; it delivered %d from it, the last "
                                "below %s of the lost ones"
                                % (c.name, len(seqs), sid, "closed" if not s.get("open", True) else "open",
                                   ", read to its end" if sid in c.ended else "",
                                   len(got), "all" if got and got[-1][0] < min(seqs) else "not all"))
        # every shard reached and read to its end (closed) or drained (open)
        for sid, s in sorted(shards.items(), key=lambda kv: kv[1]["index"]):
            if sid not in c.started:
                VIOLATIONS.add("lineage", "%s: never read %s" % (c.name, sid))
            elif not s["open"] and sid not in c.ended:
                VIOLATIONS.add("lineage", "%s: never reached the end of closed %s" % (c.name, sid))
            elif s["open"] and sid in c.ended:
                VIOLATIONS.add("iterator", "%s: open %s returned no next_shard_iterator" % (c.name, sid))
        # child_shards as get_records named them
        for sid, reported in sorted(c.reported.items()):
            want = sorted((k, tuple(sorted(shards[k]["parents"])), shards[k]["lo"], shards[k]["hi"])
                          for k in kids.get(sid, []))
            got = sorted((x["id"], tuple(sorted(x["parents"] or [])), int(x["lo"]), int(x["hi"]))
                         for x in reported)
            if got != want:
                VIOLATIONS.add("lineage", "%s: %s ended with child_shards %s, kinesis.shards has %s"
                               % (c.name, sid, got, want))
        # records of a closed shard at or below its ending number
        for sid, lst in c.seen.items():
            s = shards.get(sid)
            if s is not None and not s["open"] and s["ending"] is not None and lst and lst[-1][0] > s["ending"]:
                VIOLATIONS.add("ending", "%s: read seq %d from %s, above its ending number %d"
                               % (c.name, lst[-1][0], sid, s["ending"]))
        # the records of one producer and key, routed by the key, in put order
        last = {}
        for rid in c.order:
            p = puts.get(rid)
            if p is None or p["ehk"] is not None:
                continue
            k = (p["producer"], p["pk"])
            if k in last and puts[last[k]]["order"] >= p["order"]:
                VIOLATIONS.add("reordered", "%s: %s (%s) delivered after %s (%s), same producer and key %s"
                               % (c.name, rid, p["shard"], last[k], puts[last[k]]["shard"], p["pk"]))
            last[k] = rid
        if ref is None:
            ref = c
        else:
            for sid in sorted(set(c.seen) | set(ref.seen)):
                if c.seen.get(sid, []) != ref.seen.get(sid, []):
                    VIOLATIONS.add("reordered", "%s and %s disagree on %s (%d vs %d records)"
                                   % (c.name, ref.name, sid, len(c.seen.get(sid, [])),
                                      len(ref.seen.get(sid, []))))


def main():
    scale, cfg = scale_config(SCALES)
    if cfg is None:
        return 1
    cfg["producers"] = env_num("KINESIS_STRESS_PRODUCERS", cfg["producers"], int)
    duration = env_num("KINESIS_STRESS_DURATION", cfg["duration"])
    deadline_s = env_num("KINESIS_STRESS_DEADLINE", cfg["deadline"])
    with_rr = os.environ.get("KINESIS_STRESS_RR", "1") != "0"
    seed = seed_knob()
    steps = plan_steps(cfg["cycles"])
    interval = duration / (len(steps) + 1)
    stream = stream_name("reshard_stress")

    t0 = time.monotonic()
    deadline = t0 + deadline_s
    admin = connect(autocommit=True, name=APP + " admin")
    cur = admin.cursor()
    cur.execute("CREATE EXTENSION IF NOT EXISTS kinesis")
    worker = find_worker(cur) is not None
    print("reshard stress: scale=%s seed=%s producers=%d duration=%ds steps=%d (every %.1fs) "
          "deadline=%ds maintenance=%s consumers=%s stream=%s"
          % (scale, seed, cfg["producers"], duration, len(steps), interval, deadline_s,
             "worker" if worker else "run_maintenance() loop",
             "plain,rows" + (",rr" if with_rr else ""), stream), flush=True)
    cur.execute("SELECT kinesis.create_stream(stream_name => %s, shard_count => %s)",
                (stream, INITIAL_SHARDS))

    stop_maintenance = threading.Event()
    maint = MaintenanceMonitor(stream, not worker, stop_maintenance, 0.02, APP + " maintenance")
    maint.start()
    controller = None
    consumers = []
    producers = []
    shards = {}
    final_open = -1
    t_prod = -1.0
    try:
        # the worker, or maint's run_maintenance() loop, makes it ACTIVE
        wait_until_active(cur, stream, True)
        quiesced = threading.Event()
        modes = [("consumer-plain", "plain"), ("consumer-rows", "rows")]
        if with_rr:
            modes.append(("consumer-rr", "rr"))
        readies = []
        for name, mode in modes:
            ready = threading.Event()
            readies.append(ready)
            consumers.append(Consumer(name, mode, stream, seed, quiesced, ready, deadline))
        for c in consumers:
            c.start()
        for r in readies:
            r.wait(max(1.0, deadline - time.monotonic()))
        stop_producers = threading.Event()
        producers = [Producer(i, stream, cfg["max_puts"], seed, stop_producers, deadline)
                     for i in range(cfg["producers"])]
        for p in producers:
            p.start()
        start_controller = threading.Event()
        controller = Controller(stream, steps, interval, seed, start_controller, deadline)
        controller.start()
        start_controller.set()
        # producers run for the duration and until the controller is done
        while time.monotonic() < deadline:
            if time.monotonic() - t0 >= duration and not controller.is_alive():
                break
            time.sleep(0.05)
        stop_producers.set()
        for p in producers:
            p.join(max(1.0, deadline - time.monotonic()))
        controller.join(max(1.0, deadline - time.monotonic()))
        t_prod = time.monotonic() - t0
        wait_until_quiet(cur, stream, deadline,
                         "%(n)d transactions in flight, stream %(status)s, after every producer finished",
                         need_active=True)
        quiesced.set()
        for c in consumers:
            c.join(max(1.0, deadline + 30 - time.monotonic()))
        hung = [t.name for t in producers + consumers + [controller] if t.is_alive()]
        if hung:
            VIOLATIONS.add("deadline", "threads still running after the deadline: %s" % ", ".join(hung))
        if not controller.finished:
            VIOLATIONS.add("controller", "the controller did not carry out every step")
        shards = load_shards(cur, stream)
        check(consumers, shards)
        final_open = sum(1 for s in shards.values() if s["open"])
        if controller.finished:
            for p in uniform_problems(shards, steps[-1][1]):
                VIOLATIONS.add("lineage", "final layout: %s" % p)
    finally:
        stop_maintenance.set()
        maint.join(10)
        delete_stream(cur, stream, worker)
        admin.close()

    elapsed = time.monotonic() - t0
    per_consumer = ", ".join("%s %d records from %d shards in %d calls"
                             % (c.name, len(c.order), len(c.started), c.calls) for c in consumers)
    outcomes = ", ".join("%s %s %d" % (t, o, k) for (t, o), k in sorted(maint.outcomes.items()))
    slowest = max(controller.log, key=lambda x: x[1]) if controller and controller.log else None
    summary = ("transactions %d (committed %d, rolled back %d, in doubt %d); records put %d, "
               "committed %d, rolled back %d; %d steps done (slowest %s: %.2fs); shards %d "
               "(%d open); maintenance %s: %s; %s; producers %.1fs, total %.1fs"
               % (LEDGER.txns_done, LEDGER.txns_committed, LEDGER.txns_rolled_back,
                  LEDGER.txns_in_doubt, len(LEDGER.puts), len(LEDGER.committed),
                  len(LEDGER.rolled_back), len(controller.log) if controller else 0,
                  slowest[0] if slowest else "-", slowest[1] if slowest else 0.0,
                  len(shards), final_open,
                  "worker" if worker else "%d run_maintenance() calls" % maint.runs,
                  outcomes or "none", per_consumer, t_prod, elapsed))
    appendix = []
    if LOST_SUMMARY:
        appendix = ["lost records by consumer and shard:"] + ["  %s" % line for line in LOST_SUMMARY]
    return report("reshard stress", seed, summary, appendix)


if __name__ == "__main__":
    sys.exit(main())
