"""Code shared by the stress harnesses in test/stress/.

ordering_stress.py, reshard_stress.py, retention_soak.py and throttle_load.py
import this module; python3 puts a script's own directory first on sys.path,
so a plain "import stresslib" finds it.  It is no test itself: test/run.sh
runs every *executable* test/stress/*.py, so this file stays mode 644.

What it owns:

  * knobs: the scale (KINESIS_STRESS_SCALE), the seed (KINESIS_STRESS_SEED),
    numbers from the environment (KINESIS_STRESS_DEADLINE and the others),
    and a unique stream name per run;
  * connections: connect() gives every harness connection the same
    statement timeout and an application_name;
  * results: the run's collection of violations (VIOLATIONS) and the final
    PASS/FAIL report with its exit status (report);
  * maintenance: whether a maintenance worker serves the database
    (find_worker), waiting for a stream to become ACTIVE with
    kinesis.run_maintenance() run here when nothing else runs maintenance
    (wait_until_active, poll_until_active), waiting until nothing is in
    flight (wait_until_quiet), deleting the stream at the end
    (delete_stream), and a thread that drives or watches maintenance and
    counts its outcomes (MaintenanceMonitor);
  * records: data that carries the id of its put (payload, payload_id),
    shard ids, shard iterators, get_records with its records unnested
    (GET_RECORDS_FROM), and reads that survive an expired iterator
    (read_or_expired);
  * what ordering_stress.py and reshard_stress.py share beyond that: the
    ledger of their puts (LEDGER), the put_records statement and its result
    checks, the producers' transaction mix (TxnProducer) and the consumers'
    checks of each delivered record (TracingConsumer).  retention_soak.py
    keeps a ledger of its own.
"""

import hashlib
import os
import random
import threading
import time
import traceback

import psycopg2
import psycopg2.extensions

STATEMENT_TIMEOUT_MS = 120000   # a hang surfaces as an error, not a timeout
MAX_VIOLATIONS_SHOWN = 50
EXPIRED_ITERATOR = "KN006"      # SQLSTATE of ExpiredIteratorException


# ----------------------------------------------------------------- knobs

def env_num(name, default, kind=float):
    """The environment variable name converted with kind, or default when
    it is unset or empty."""
    v = os.environ.get(name)
    return kind(v) if v not in (None, "") else default


def scale_config(scales):
    """KINESIS_STRESS_SCALE (default "small") and a copy of its entry in
    scales.  When it names no scale, prints which it may be and returns
    (scale, None): the caller then exits with status 1."""
    scale = os.environ.get("KINESIS_STRESS_SCALE", "small")
    if scale not in scales:
        print("KINESIS_STRESS_SCALE must be one of %s" % ", ".join(scales))
        return scale, None
    return scale, dict(scales[scale])


def seed_knob():
    """KINESIS_STRESS_SEED, or a fresh random seed (the caller prints it,
    so that a failing run can be repeated)."""
    return os.environ.get("KINESIS_STRESS_SEED") or str(random.SystemRandom().randrange(10 ** 9))


def stream_name(prefix):
    """A stream name of its own for this run: prefix, pid and time."""
    return "%s_%d_%d" % (prefix, os.getpid(), int(time.time() * 1000) % 10 ** 9)


# ----------------------------------------------------------- connections

def connect(autocommit=True, isolation_level=None, name="kinesis stress"):
    """A connection from libpq's PG* environment with STATEMENT_TIMEOUT_MS
    and application_name set, in autocommit mode or not and, if given, at
    isolation_level."""
    conn = psycopg2.connect("")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SET statement_timeout = %s", (STATEMENT_TIMEOUT_MS,))
        cur.execute("SET application_name = %s", (name,))
    conn.autocommit = autocommit
    if isolation_level is not None:
        conn.set_session(isolation_level=isolation_level)
    return conn


def close_quietly(conn):
    """Closes conn (None is allowed), ignoring any error."""
    if conn is None:
        return
    try:
        conn.close()
    except Exception:
        pass


# --------------------------------------------------------------- results

class Violations:
    """Thread-safe collection of failures: (kind, text) pairs."""

    def __init__(self):
        """An empty collection."""
        self.lock = threading.Lock()
        self.items = []

    def add(self, kind, text):
        """Records one failure of the given kind."""
        with self.lock:
            self.items.append((kind, text))

    def count(self):
        """How many failures there are so far."""
        with self.lock:
            return len(self.items)


VIOLATIONS = Violations()       # the one collection of the running harness


def report(title, seed, summary, appendix=()):
    """Prints the verdict and returns the exit status: "PASS <title> (seed
    S): <summary>" and 0 without violations; else "FAIL <title> ...", the
    count per kind, the first MAX_VIOLATIONS_SHOWN violations, the lines of
    appendix, "summary: <summary>", and 1."""
    n = VIOLATIONS.count()
    if n == 0:
        print("PASS %s (seed %s): %s" % (title, seed, summary))
        return 0
    kinds = {}
    for kind, _ in VIOLATIONS.items:
        kinds[kind] = kinds.get(kind, 0) + 1
    print("FAIL %s (seed %s): %d violations (%s)"
          % (title, seed, n, ", ".join("%s %d" % kv for kv in sorted(kinds.items()))))
    for kind, text in VIOLATIONS.items[:MAX_VIOLATIONS_SHOWN]:
        print("  [%s] %s" % (kind, text))
    if n > MAX_VIOLATIONS_SHOWN:
        print("  ... and %d more" % (n - MAX_VIOLATIONS_SHOWN))
    for line in appendix:
        print(line)
    print("summary: %s" % summary)
    return 1


# ----------------------------------------------------------- maintenance

def find_worker(cur, wait_when_off=0.0):
    """The pid of the maintenance worker serving this database
    (kinesis.maintenance_worker_pid() IS NOT NULL), or None.  It starts
    shortly after CREATE EXTENSION / create_stream when kinesis.worker is
    on, so then this waits up to 10 s for it; with kinesis.worker off it
    waits wait_when_off seconds (by default not at all)."""
    cur.execute("SELECT current_setting('kinesis.worker')::boolean")
    on = cur.fetchone()[0]
    if not on and wait_when_off <= 0:
        return None
    until = time.monotonic() + (10.0 if on else wait_when_off)
    while True:
        cur.execute("SELECT kinesis.maintenance_worker_pid()")
        pid = cur.fetchone()[0]
        if pid is not None or time.monotonic() > until:
            return pid
        time.sleep(0.05)


def poll_until_active(cur, stream, until, run_maintenance=False, poll=0.05):
    """Polls kinesis.streams until stream is ACTIVE or time.monotonic()
    passes until, first calling kinesis.run_maintenance() each round if
    run_maintenance; returns the last status (None: the stream is gone)."""
    while True:
        if run_maintenance:
            cur.execute("SELECT count(*) FROM kinesis.run_maintenance()")
        cur.execute("SELECT stream_status FROM kinesis.streams WHERE stream_name = %s", (stream,))
        row = cur.fetchone()
        status = row[0] if row is not None else None
        if status == "ACTIVE" or time.monotonic() > until:
            return status
        time.sleep(poll)


def wait_until_active(cur, stream, maintained, timeout_s=120):
    """Waits until stream is ACTIVE (create_stream and the reshard calls
    leave it to maintenance): with kinesis.wait_for_stream when something
    else runs maintenance (maintained: the worker, or a maintenance thread),
    else calling kinesis.run_maintenance() here.  Raises after timeout_s."""
    if maintained:
        cur.execute("SELECT kinesis.wait_for_stream(stream_name => %s, timeout => %s::interval)",
                    (stream, "%d seconds" % timeout_s))
        return
    if poll_until_active(cur, stream, time.monotonic() + timeout_s, run_maintenance=True) != "ACTIVE":
        raise RuntimeError("stream %s did not become ACTIVE" % stream)


INFLIGHT_SQL = """
SELECT coalesce(sum(f.inflight_transactions), 0),
       (SELECT stream_status FROM kinesis.streams WHERE stream_name = %(stream)s)
  FROM kinesis.inflight() f JOIN kinesis.stream_meta m USING (stream_id)
 WHERE m.stream_name = %(stream)s
"""


def wait_until_quiet(cur, stream, deadline, message, need_active=False, poll=0.05):
    """Waits until no transaction of stream is in flight (a connection
    closed with an open transaction is aborted by its backend
    asynchronously) and, with need_active, the stream is ACTIVE.  At the
    deadline adds an "in flight" violation, message % dict(n=<transactions
    in flight>, status=<stream status>), and returns False; else True."""
    while True:
        cur.execute(INFLIGHT_SQL, dict(stream=stream))
        n, status = cur.fetchone()
        if n == 0 and (status == "ACTIVE" or not need_active):
            return True
        if time.monotonic() > deadline:
            VIOLATIONS.add("in flight", message % dict(n=n, status=status))
            return False
        time.sleep(poll)


def delete_stream(cur, stream, worker, wait_gone=False):
    """Deletes stream at the end of a run.  DeleteStream only marks it
    DELETING: without a worker, maintenance runs here once to remove it;
    with wait_gone, waits (kinesis.wait_for_stream) until it is gone.  A
    failure is printed as a warning, not counted as a violation."""
    try:
        cur.execute("SET lock_timeout = '60s'")
        cur.execute("SELECT kinesis.delete_stream(stream_name => %s)", (stream,))
        if not worker:
            cur.execute("SELECT count(*) FROM kinesis.run_maintenance()")
        if wait_gone:
            cur.execute("SELECT kinesis.wait_for_stream(%s, NULL)", (stream,))
    except Exception as e:
        print("warning: could not delete stream %s: %s" % (stream, e))


class MaintenanceMonitor(threading.Thread):
    """Maintenance of one stream while a harness runs.  With drive (no
    worker) it calls kinesis.run_maintenance() every interval seconds; else
    it watches kinesis.maintenance for the worker's new runs.  Either way it
    counts the outcomes of the stream's tasks; an outcome 'error' is a
    violation of kind ERROR_KIND, text ERROR_TEXT % (task, detail)."""

    ERROR_KIND = "maintenance"
    ERROR_TEXT = "task %s failed: %s"

    def __init__(self, stream, drive, stop, interval, app):
        """app: the application_name of its connection."""
        super().__init__(name="maintenance", daemon=True)
        self.stream = stream
        self.drive = drive
        self.stop = stop
        self.interval = interval
        self.app = app
        self.lock = threading.Lock()
        self.outcomes = {}          # (task, outcome) -> count
        self.seen_runs = set()      # (task, last_run) of the worker's runs counted
        self.runs = 0               # run_maintenance() calls

    def note(self, task, outcome, detail):
        """Counts one outcome of a task of the stream."""
        with self.lock:
            self.outcomes[(task, outcome)] = self.outcomes.get((task, outcome), 0) + 1
        if outcome == "error":
            VIOLATIONS.add(self.ERROR_KIND, self.ERROR_TEXT % (task, detail))

    def count(self, task, outcome):
        """How many times task ended with outcome so far."""
        with self.lock:
            return self.outcomes.get((task, outcome), 0)

    def once(self, cur):
        """One round: run maintenance (drive) or look at the worker's runs."""
        if self.drive:
            cur.execute("SELECT task, outcome, detail FROM kinesis.run_maintenance() "
                        " WHERE stream_name = %s", (self.stream,))
            self.runs += 1
            for task, outcome, detail in cur.fetchall():
                self.note(task, outcome, detail)
        else:
            cur.execute("SELECT task, last_run, outcome, detail FROM kinesis.maintenance "
                        " WHERE stream_name = %s", (self.stream,))
            for task, last_run, outcome, detail in cur.fetchall():
                if (task, last_run) not in self.seen_runs:
                    self.seen_runs.add((task, last_run))
                    self.note(task, outcome, detail)

    def run(self):
        """Rounds until stop is set; an exception is a violation."""
        try:
            conn = connect(name=self.app)
            cur = conn.cursor()
            while not self.stop.is_set():
                self.once(cur)
                self.stop.wait(self.interval)
            conn.close()
        except Exception:
            VIOLATIONS.add("maintenance", traceback.format_exc().strip())


# --------------------------------------------------------------- records

def shard_id(index):
    """The shard id of the shard with that index."""
    return "shardId-%012d" % index


def shard_index(sid):
    """The index in a shard id."""
    return int(sid.rsplit("-", 1)[1])


def payload(rid, rng, repeats):
    """The data of record rid: its id, a NUL, then its SHA-256 digest
    repeated rng.randint(*repeats) times."""
    digest = hashlib.sha256(rid.encode()).digest()
    return rid.encode() + b"\x00" + digest * rng.randint(*repeats)


def payload_id(data):
    """(id, intact) of data made by payload(); (None, False) when it
    carries no id."""
    rid, sep, rest = data.partition(b"\x00")
    if not sep:
        return None, False
    digest = hashlib.sha256(rid).digest()
    ok = len(rest) % len(digest) == 0 and rest == digest * (len(rest) // len(digest))
    return rid.decode(errors="replace"), ok


def get_shard_iterator(cur, stream, sid, kind, after=None):
    """kinesis.get_shard_iterator of shard sid of stream."""
    cur.execute("SELECT kinesis.get_shard_iterator(stream_name => %s, shard_id => %s, "
                "shard_iterator_type => %s, starting_sequence_number => %s)",
                (stream, sid, kind, after))
    return cur.fetchone()[0]


# The FROM clause of a get_records call with two parameters (iterator,
# limit) as g, its records unnested in order as r; one row with r's columns
# NULL when there are none.
GET_RECORDS_FROM = """
  FROM kinesis.get_records(shard_iterator => %s, "limit" => %s) AS g
  LEFT JOIN LATERAL unnest(g.records) WITH ORDINALITY
       AS r(sequence_number, approximate_arrival_timestamp, data, partition_key,
            encryption_type, n) ON true
 ORDER BY r.n
"""


def read_or_expired(conn, cur, sql, params):
    """Executes a read of a shard iterator and returns its rows, or None
    when the iterator has expired (after rolling back, so that the caller
    can take a new one)."""
    try:
        cur.execute(sql, params)
        return cur.fetchall()
    except psycopg2.Error as e:
        if e.pgcode != EXPIRED_ITERATOR:
            raise
        conn.rollback()
        return None


# ---------------------------------- transactional producers and consumers
# (ordering_stress.py, reshard_stress.py)

ROLLBACK_SHARE = 0.20       # transactions that end in ROLLBACK (or worse)
DISCONNECT_SHARE = 0.01     # ... of which some by closing the connection
ERROR_SHARE = 0.02          # ... and some by an error
BATCH_SHARE = 0.20          # puts that are put_records batches
SAVEPOINT_SHARE = 0.05      # puts wrapped in a savepoint (half rolled back)

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


def fetch_put_records(cur, n):
    """The rows of the put_records call just executed, one per record:
    failed_record_count, shard_id, sequence_number first and error_code
    last.  Raises RuntimeError unless there are n rows and each succeeded."""
    rows = cur.fetchall()
    if len(rows) != n:
        raise RuntimeError("put_records returned %d entries for %d records" % (len(rows), n))
    for row in rows:
        failed, sid, seq, err = row[0], row[1], row[2], row[-1]
        if failed != 0 or err is not None or seq is None:
            raise RuntimeError("put_records entry failed: %r" % ((failed, sid, seq, err),))
    return rows


class Ledger:
    """What the producers did: every put, and how its transaction ended."""

    def __init__(self):
        """An empty ledger."""
        self.lock = threading.Lock()
        self.puts = {}          # id -> dict(data, pk, shard, seq, ...)
        self.committed = set()
        self.rolled_back = set()
        self.in_doubt = set()   # COMMIT raised: outcome unknown
        self.commit_start = {}  # id -> monotonic time COMMIT was sent
        self.commit_end = {}    # id -> monotonic time COMMIT returned
        self.txns_done = 0
        self.txns_committed = 0
        self.txns_rolled_back = 0
        self.txns_in_doubt = 0

    def finish(self, ids, outcome, commit_start=None, commit_end=None):
        """Records how the transaction that put ids ended: "commit" (between
        the monotonic times commit_start and commit_end), "rollback" or
        "in doubt"."""
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
        """Records that ids were put in a savepoint that was rolled back."""
        with self.lock:
            self.rolled_back.update(ids)


LEDGER = Ledger()


class TxnProducer(threading.Thread):
    """A producer on a connection of its own: transactions of 1..max_puts
    puts (single puts, put_records batches, puts in a savepoint that is
    rolled back half the time) with short random pauses, ending in COMMIT
    or, about ROLLBACK_SHARE of them, ROLLBACK: some after an error, some
    by closing the connection with the transaction open.  Every outcome
    goes into LEDGER.

    Subclasses provide put_one(cur, txn, k) and put_batch(cur, txn, k, n)
    (each puts records k.. of transaction txn and returns their ids),
    more(txn) (whether to run transaction txn) and deadline_text(txn); they
    may override after_savepoint_rollback() and before_end().  Only
    PAUSE_CUTS varies between them: a random r below its first value pauses
    up to 4 ms after a put, below its second up to 30 ms."""

    PAUSE_CUTS = (0.3, 0.35)

    def __init__(self, index, stream, max_puts, seed, deadline, app):
        """Producer index of stream; its random numbers come from seed and
        index; app: the application_name of its connections."""
        super().__init__(name="producer-%d" % index, daemon=True)
        self.index = index
        self.stream = stream
        self.max_puts = max_puts
        self.rng = random.Random("%s-producer-%d" % (seed, index))
        self.deadline = deadline
        self.app = app
        self.puts = 0

    def new_id(self, txn, k):
        """The id of record k of transaction txn of this producer."""
        return "p%d-t%d-r%d" % (self.index, txn, k)

    def after_savepoint_rollback(self):
        """Called after ROLLBACK TO SAVEPOINT; nothing by default."""

    def before_end(self):
        """Called after the last put of a transaction; nothing by default."""

    def run(self):
        """Transactions while more(); a deadline or an error stops it with
        a violation."""
        conn = None
        txn = 0
        try:
            while self.more(txn):
                if time.monotonic() > self.deadline:
                    VIOLATIONS.add("deadline", self.deadline_text(txn))
                    return
                if conn is None:
                    conn = connect(False, name=self.app)
                conn = self.transaction(conn, txn)
                txn += 1
        except Exception:
            VIOLATIONS.add("producer error", "%s: %s" % (self.name, traceback.format_exc().strip()))
        finally:
            close_quietly(conn)

    def transaction(self, conn, txn):
        """Runs transaction txn on conn; returns the connection to go on
        with (None when it was closed)."""
        rng = self.rng
        ids = []
        k = 0
        cur = conn.cursor()
        for _ in range(rng.randint(1, self.max_puts)):
            if rng.random() < SAVEPOINT_SHARE:
                cur.execute("SAVEPOINT sp")
                sp_ids = self.put_one(cur, txn, k)
                k += 1
                if rng.random() < 0.5:
                    cur.execute("ROLLBACK TO SAVEPOINT sp")
                    LEDGER.rollback_savepoint(sp_ids)
                    self.after_savepoint_rollback()
                else:
                    cur.execute("RELEASE SAVEPOINT sp")
                    ids += sp_ids
            elif rng.random() < BATCH_SHARE:
                n = rng.randint(2, 12)
                ids += self.put_batch(cur, txn, k, n)
                k += n
            else:
                ids += self.put_one(cur, txn, k)
                k += 1
            r = rng.random()
            if r < self.PAUSE_CUTS[0]:
                time.sleep(rng.random() * 0.004)
            elif r < self.PAUSE_CUTS[1]:
                time.sleep(rng.random() * 0.03)
        self.puts += k
        self.before_end()
        return self.end_transaction(conn, cur, ids)

    def end_transaction(self, conn, cur, ids):
        """Ends the transaction that put ids: closes the connection, fails
        and rolls back, rolls back, or commits; records the outcome."""
        r = self.rng.random()
        if r < DISCONNECT_SHARE:
            # the backend aborts the open transaction when it sees the client go
            conn.close()
            LEDGER.finish(ids, "rollback")
            return None
        if r < DISCONNECT_SHARE + ERROR_SHARE:
            try:
                cur.execute("SELECT 1 / 0")
            except psycopg2.DataError:
                pass
            conn.rollback()
            LEDGER.finish(ids, "rollback")
            return conn
        if r < ROLLBACK_SHARE:
            conn.rollback()
            LEDGER.finish(ids, "rollback")
            return conn
        start = time.monotonic()
        try:
            conn.commit()
        except Exception:
            LEDGER.finish(ids, "in doubt")
            VIOLATIONS.add("producer error", "%s: COMMIT failed: %s"
                           % (self.name, traceback.format_exc().strip()))
            close_quietly(conn)
            return None
        LEDGER.finish(ids, "commit", start, time.monotonic())
        return conn


class ShardReader(threading.Thread):
    """A consumer thread of stream: subclasses implement consume(); an
    exception in it is a "consumer error" violation."""

    def __init__(self, name, stream, seed, deadline, app):
        """Consumer name of stream; its random numbers come from seed and
        name; app: the application_name of its connections."""
        super().__init__(name=name, daemon=True)
        self.stream = stream
        self.rng = random.Random("%s-%s" % (seed, name))
        self.deadline = deadline
        self.app = app
        self.calls = 0
        self.finished = False

    def violation(self, kind, text):
        """Records a violation, prefixed with this consumer's name."""
        VIOLATIONS.add(kind, "%s: %s" % (self.name, text))

    def get_iterator(self, cur, sid, kind, after=None):
        """An iterator of shard sid of this consumer's stream."""
        return get_shard_iterator(cur, self.stream, sid, kind, after)

    def run(self):
        """consume(), with an exception turned into a violation."""
        try:
            self.consume()
        except Exception:
            self.violation("consumer error", traceback.format_exc().strip())


class TracingConsumer(ShardReader):
    """A consumer that traces every record it gets to its put in LEDGER.
    mode "rr" reads in REPEATABLE READ transactions; other modes read in
    autocommit.  seen: shard key -> [(sequence number, id)] in delivery
    order; ids: id -> times delivered."""

    def __init__(self, name, mode, stream, seed, deadline, app):
        """As ShardReader, reading in mode."""
        super().__init__(name, stream, seed, deadline, app)
        self.mode = mode
        self.seen = {}
        self.ids = {}

    def open_connection(self):
        """This consumer's connection: REPEATABLE READ for mode "rr"."""
        if self.mode == "rr":
            return connect(False, psycopg2.extensions.ISOLATION_LEVEL_REPEATABLE_READ, name=self.app)
        return connect(True, name=self.app)

    def restart(self, cur, key, sid):
        """A new iterator for shard sid (key in seen) after the last record
        delivered from it, or at TRIM_HORIZON before there is one."""
        if self.seen[key]:
            return self.get_iterator(cur, sid, "AFTER_SEQUENCE_NUMBER", str(self.seen[key][-1][0]))
        return self.get_iterator(cur, sid, "TRIM_HORIZON")

    def check_record(self, key, label, sid, seq, data, pk, unknown):
        """Checks a record read from shard sid (key in seen, label in
        messages): its data, the shard's order, no second delivery, and
        data, partition key, shard and sequence number as put.  Returns the
        record's id (unknown when its data carries none)."""
        rid, ok = payload_id(data)
        if rid is None:
            self.violation("content", "%s seq %d: data without an id: %r" % (label, seq, data[:40]))
            rid = unknown
        elif not ok:
            self.violation("content", "%s: data corrupted" % rid)
        lst = self.seen[key]
        if lst and seq <= lst[-1][0]:
            self.violation("reordered", "%s: %s (seq %d) after %s (seq %d)"
                           % (label, rid, seq, lst[-1][1], lst[-1][0]))
        lst.append((seq, rid))
        n = self.ids.get(rid, 0) + 1
        self.ids[rid] = n
        if n == 2:
            self.violation("duplicated", "%s delivered more than once" % rid)
        with LEDGER.lock:
            put = LEDGER.puts.get(rid)
        if put is None:
            self.violation("rolled back", "%s delivered but never put" % rid)
            return rid
        if put["data"] != data:
            self.violation("content", "%s: data differs from what was put" % rid)
        if put["pk"] != pk:
            self.violation("content", "%s: partition key %r, put with %r" % (rid, pk, put["pk"]))
        if put["shard"] != sid:
            self.violation("content", "%s: read from %s, put into %s" % (rid, label, put["shard"]))
        if put["seq"] != seq:
            self.violation("content", "%s: sequence number %d, put returned %d" % (rid, seq, put["seq"]))
        return rid

    def check_delivered(self):
        """Once it has finished: a violation for each record it delivered
        that was rolled back or of no finished transaction."""
        seen_ids = set(self.ids)
        for rid in sorted(seen_ids & LEDGER.rolled_back):
            VIOLATIONS.add("rolled back", "%s: delivered %s, which was rolled back" % (self.name, rid))
        for rid in sorted(seen_ids - LEDGER.committed - LEDGER.rolled_back - LEDGER.in_doubt):
            if not rid.startswith("?"):
                VIOLATIONS.add("rolled back", "%s: delivered %s, of no finished transaction"
                               % (self.name, rid))

    def check_lost(self):
        """Once it has finished: a "lost" violation for each committed
        record it did not deliver; returns their ids, sorted."""
        lost = sorted(LEDGER.committed - set(self.ids))
        for rid in lost:
            VIOLATIONS.add("lost", "%s: committed %s (%s, seq %d) never delivered"
                           % (self.name, rid, LEDGER.puts[rid]["shard"], LEDGER.puts[rid]["seq"]))
        return lost
