#!/usr/bin/env python3
"""Turn the raw figures of test/bench/run.sh into one table.

    report.py RAW.tsv OUT.md OUT.csv

RAW.tsv has one "key<TAB>value" line per figure (see run.sh).  The table is
printed to stdout as aligned text and written as Markdown and CSV.  Ratios
are kinesis / baseline, measured in the same run (for the encryption rows:
kinesis on an encrypted stream / kinesis on an unencrypted one; for the
gateway rows: kinesis-gateway / kinesalite, or / the SQL-level call, as the
row says).

A run of some workload groups only (BENCH_ONLY, recorded as note.groups)
gives the rows of those groups only; a row whose figures are missing (a run
that failed or stopped early) shows "–".
"""
import csv
import sys


def load(path):
    raw = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if "\t" in line:
                k, v = line.split("\t", 1)
                raw[k] = v
    return raw


FAILED = []

# the workload groups of run.sh, in the order they run
ALL_GROUPS = ["put_record", "put_records", "long", "trigger", "drain", "latency", "encryption", "gateway"]
# those that compare with PgQ and pgmq
PEER_GROUPS = ["put_record", "put_records", "long", "drain", "latency"]


def num(raw, key, scale=1.0, agg="mean"):
    """The figure KEY, or the mean (or max) of its runs KEY#1, KEY#2, ...

    KEY may name a field of a driver run: "drain.kinesis.1.rows_per_sec"
    matches "drain.kinesis.1#1.rows_per_sec" too.
    """
    base, _, field = key.rpartition(".") if key.count(".") else (key, "", "")
    candidates = []
    for k, v in raw.items():
        if k == key:
            candidates.append((k, v))
            continue
        if "#" not in k:
            continue
        b, _, rest = k.partition("#")
        n, _, f = rest.partition(".")
        if not n.isdigit():
            continue
        if (b == key and f == "") or (b == base and f == field):
            candidates.append((k, v))
    values = []
    for k, v in candidates:
        try:
            values.append(float(v) * scale)
        except ValueError:
            FAILED.append(k)
    if not values:
        return None
    return max(values) if agg == "max" else sum(values) / len(values)


def fmt(v, unit):
    if v is None:
        return "–"
    if unit in ("ms",):
        return f"{v:.2f}"
    if unit in ("MiB", "B/record", "µs/record"):
        return f"{v:.1f}"
    return f"{v:,.0f}"


class Row:
    def __init__(self, group, workload, clients, variant, unit, k, b, pgq, pgmq,
                 target=None, higher=True, peers=True):
        self.group = group            # the workload group of run.sh
        self.workload, self.clients, self.variant, self.unit = workload, clients, variant, unit
        self.k, self.b, self.pgq, self.pgmq = k, b, pgq, pgmq
        self.target = target          # ratio bound, or None
        self.higher = higher          # higher is better
        self.peers = peers            # "ahead of the peers" applies
        self.ratio = k / b if k is not None and b else None

    def target_text(self):
        parts = []
        if self.target is not None:
            parts.append(("≥ " if self.higher else "≤ ") + f"{self.target:g}x")
        if self.peers and (self.pgq is not None or self.pgmq is not None):
            parts.append("beat peers")
        return ", ".join(parts) if parts else "–"

    def met(self):
        if self.target is None and not (self.peers and (self.pgq is not None or self.pgmq is not None)):
            return "–"
        if self.k is None:
            return "no data"
        misses = []
        if self.target is not None:
            if self.ratio is None:
                misses.append("no baseline")
            elif self.higher and self.ratio < self.target:
                misses.append(f"{self.ratio:.2f}x")
            elif not self.higher and self.ratio > self.target:
                misses.append(f"{self.ratio:.2f}x")
        if self.peers:
            for name, v in (("PgQ", self.pgq), ("pgmq", self.pgmq)):
                if v is None:
                    continue
                if (self.higher and v >= self.k) or (not self.higher and v <= self.k):
                    misses.append(f"{name} ahead")
        return "yes" if not misses else "NO (" + "; ".join(misses) + ")"

    def cells(self):
        return [self.workload, str(self.clients), f"{self.variant} [{self.unit}]",
                fmt(self.k, self.unit), fmt(self.b, self.unit),
                "–" if self.ratio is None else f"{self.ratio:.2f}x",
                fmt(self.pgq, self.unit), fmt(self.pgmq, self.unit),
                self.target_text(), self.met()]


def build(raw):
    clients = [int(c) for c in raw.get("note.clients", "1 4 16").split()]
    rows = []
    for size, label in (("100", "100 B"), ("1k", "1 KiB")):
        for shards in (1, 16):
            for c in clients:
                rows.append(Row("put_record", "put_record", c, f"{label}, {shards} shard{'s' if shards > 1 else ''}", "tx/s",
                                num(raw, f"put.kinesis.{size}.{shards}.{c}"),
                                num(raw, f"put.base.{size}.{shards}.{c}"),
                                num(raw, f"put.pgq.{size}.{c}"), num(raw, f"put.pgmq.{size}.{c}"),
                                target=0.8))
    for shards in (1, 16):
        for c in clients:
            rows.append(Row("put_records", "put_records (500/call)", c, f"100 B, {shards} shard{'s' if shards > 1 else ''}",
                            "records/s",
                            num(raw, f"batch.kinesis.{shards}.{c}", 500), num(raw, f"batch.base.{shards}.{c}", 500),
                            num(raw, f"batch.pgq.{c}", 500), num(raw, f"batch.pgmq.{c}", 500),
                            target=0.7))
    rows.append(Row("long", "long producer tx (5 ms)", 16, "100 B, 1 shard", "tx/s",
                    num(raw, "long.kinesis.16"), num(raw, "long.base.16"),
                    num(raw, "long.pgq.16"), num(raw, "long.pgmq.16"), target=0.8,
                    peers=False))  # bound by the sleep: the peers are there for reference
    for c in clients:
        rows.append(Row("trigger", "trigger-produced event", c, "INSERT + row trigger, 16 shards", "tx/s",
                        num(raw, f"trig.kinesis.{c}"), num(raw, f"trig.base.{c}"), None, None,
                        target=None, peers=False))
    n = raw.get("note.drain_records", "?")
    for c in (1, 4):
        rows.append(Row("drain", "get_records drain", c, f"{int(n):,} records, 4 shards, limit 10,000" if n.isdigit() else "drain",
                        "records/s",
                        num(raw, f"drain.kinesis.{c}.rows_per_sec"), num(raw, f"drain.base.{c}.rows_per_sec"),
                        num(raw, f"drain.pgq.{c}.rows_per_sec"), num(raw, f"drain.pgmq.{c}.rows_per_sec"),
                        target=0.7))
    for c in (1, 4):
        rows.append(Row("drain", "read_records drain (rows)", c, f"{int(n):,} records, 4 shards, limit 10,000" if n.isdigit() else "drain",
                        "records/s",
                        num(raw, f"drain.rows.{c}.rows_per_sec"), num(raw, f"drain.base.{c}.rows_per_sec"),
                        num(raw, f"drain.pgq.{c}.rows_per_sec"), num(raw, f"drain.pgmq.{c}.rows_per_sec"),
                        target=0.7))
    # the same range scan answered in get_records' shape (an array of
    # composites, unnested by the client): what that shape costs PostgreSQL
    for c in (1, 4):
        rows.append(Row("drain", "get_records drain", c, "vs the range scan in the same shape (one array per call, unnested)",
                        "records/s",
                        num(raw, f"drain.kinesis.{c}.rows_per_sec"), num(raw, f"drain.base_array.{c}.rows_per_sec"),
                        None, None, target=None, peers=False))
    # what keeping the reading backend's memory mapped brings
    for c in (1, 4):
        rows.append(Row("drain", "get_records drain", c, "kinesis.reader_memory_keep = 64MB (default) vs 0",
                        "records/s",
                        num(raw, f"drain.kinesis.{c}.rows_per_sec"), num(raw, f"drain.kinesis_nokeep.{c}.rows_per_sec"),
                        None, None, target=None, peers=False))
    for q in ("p50", "p99"):
        rows.append(Row("latency", "end-to-end latency", 1, f"commit to consumer, {q}, polling", "ms",
                        num(raw, f"lat.kinesis.{q}_ms"), num(raw, f"lat.base.{q}_ms"),
                        num(raw, f"lat.pgq.{q}_ms"), num(raw, f"lat.pgmq.{q}_ms"),
                        target=None, higher=False))
    rows.append(Row("put_records", "backend memory", 1, "peak RssAnon, put_records (500/call)", "MiB",
                    num(raw, "mem.put.kinesis.peak_rss_anon_kb", 1 / 1024, "max"),
                    num(raw, "mem.put.base.peak_rss_anon_kb", 1 / 1024, "max"),
                    num(raw, "mem.put.pgq.peak_rss_anon_kb", 1 / 1024, "max"),
                    num(raw, "mem.put.pgmq.peak_rss_anon_kb", 1 / 1024, "max"),
                    target=None, higher=False, peers=False))
    for kind, label in (("kinesis", "get_records"), ("rows", "read_records")):
        rows.append(Row("drain", "backend memory", 1, f"peak RssAnon, {label} drain", "MiB",
                        num(raw, f"drain.{kind}.1.peak_rss_anon_kb", 1 / 1024, "max"),
                        num(raw, "drain.base.1.peak_rss_anon_kb", 1 / 1024, "max"),
                        num(raw, "drain.pgq.1.peak_rss_anon_kb", 1 / 1024, "max"),
                        num(raw, "drain.pgmq.1.peak_rss_anon_kb", 1 / 1024, "max"),
                        target=None, higher=False, peers=False))
    rows.append(Row("drain", "storage", "–", "table + indexes per stored record, 100 B payload", "B/record",
                    num(raw, "store.kinesis"), num(raw, "store.base"),
                    num(raw, "store.pgq"), num(raw, "store.pgmq"),
                    target=1.3, higher=False))
    rows.append(Row("drain", "storage", "–", "table only, without indexes, 100 B payload", "B/record",
                    num(raw, "store.kinesis_table"), num(raw, "store.base_table"),
                    num(raw, "store.pgq_table"), num(raw, "store.pgmq_table"),
                    target=None, higher=False))
    # encryption: kinesis on an encrypted stream against kinesis on an
    # unencrypted one; no peers, no target
    vs = ", vs unencrypted"
    for c in [int(c) for c in raw.get("note.enc_clients", "1 4").split()]:
        rows.append(Row("encryption", "encrypted put_record", c, f"1 KiB, 16 shards{vs}", "tx/s",
                        num(raw, f"enc.put.kms.{c}"), num(raw, f"enc.put.plain.{c}"), None, None,
                        target=None, peers=False))
    rows.append(Row("encryption", "encrypted put_records (500/call)", 1, f"100 B, 16 shards{vs}",
                    "records/s", num(raw, "enc.batch.kms.1", 500), num(raw, "enc.batch.plain.1", 500), None, None,
                    target=None, peers=False))
    en = raw.get("note.enc_drain_records", "?")
    rows.append(Row("encryption", "encrypted read_records drain", 1,
                    (f"{int(en):,} records, 4 shards, limit 10,000" if en.isdigit() else "drain") + vs,
                    "records/s",
                    num(raw, "enc.drain.kms.1.rows_per_sec"), num(raw, "enc.drain.plain.1.rows_per_sec"), None, None,
                    target=None, peers=False))
    rows += gateway_rows(raw)
    return [r for r in rows if r.group in groups_run(raw)]


def per_record_us(raw, key, field):
    """CPU microseconds per record of the runs KEY#n: field / records."""
    cpu, n = num(raw, f"{key}.{field}"), num(raw, f"{key}.records")
    return cpu / n * 1e6 if cpu is not None and n else None


def gateway_rows(raw):
    """Workload 10: kinesis-gateway against kinesalite, the same boto3 code; the
    "kinesis" column is the gateway, "baseline" kinesalite or the SQL-level call."""
    rows = []
    g = "gateway"
    put = "gateway put_records (boto3, 500/call)"
    rows.append(Row(g, put, 4, "100 B, 4 shards, vs kinesalite", "records/s",
                    num(raw, "gw.put.gateway.records_per_sec"), num(raw, "gw.put.kinesalite.records_per_sec"),
                    None, None, target=5, peers=False))
    rows.append(Row(g, put, 4, "100 B, 4 shards, vs SQL put_records (psycopg2)", "records/s",
                    num(raw, "gw.put.gateway.records_per_sec"), num(raw, "gw.put.sql.records_per_sec"),
                    None, None, target=0.5, peers=False))
    lean = "lean client put_records (no boto3, 500/call)"
    rows.append(Row(g, lean, 4, "100 B, 4 shards, vs kinesalite (lean client)", "records/s",
                    num(raw, "gw.put.gateway_lean.records_per_sec"),
                    num(raw, "gw.put.kinesalite_lean.records_per_sec"), None, None, target=None, peers=False))
    rows.append(Row(g, lean, 4, "100 B, 4 shards, vs SQL put_records (psycopg2)", "records/s",
                    num(raw, "gw.put.gateway_lean.records_per_sec"), num(raw, "gw.put.sql.records_per_sec"),
                    None, None, target=None, peers=False))
    rows.append(Row(g, "kinesis.api('PutRecords') over libpq", 4,
                    "100 B, 4 shards, JSON body from the client, vs SQL put_records", "records/s",
                    num(raw, "gw.put.api.records_per_sec"), num(raw, "gw.put.sql.records_per_sec"),
                    None, None, target=None, peers=False))
    for who, label in (("client_s", "client (boto3; psycopg2 for SQL)"),
                       ("server_s", "server process (kinesis-gateway; kinesalite's node)")):
        rows.append(Row(g, "gateway put_records, CPU per record", 4, f"{label}, vs kinesalite", "µs/record",
                        per_record_us(raw, "gw.put.gateway", "cpu_" + who),
                        per_record_us(raw, "gw.put.kinesalite", "cpu_" + who), None, None,
                        target=None, higher=False, peers=False))
    rows.append(Row(g, "gateway put_records, CPU per record", 4, "PostgreSQL backends, vs SQL put_records",
                    "µs/record", per_record_us(raw, "gw.put.gateway", "cpu_pg_s"),
                    per_record_us(raw, "gw.put.sql", "cpu_pg_s"), None, None,
                    target=None, higher=False, peers=False))
    n = raw.get("note.drain_records", "?")
    for label, suffix, lean, target in (("gateway get_records drain (boto3)", "", "", 10),
                                        ("lean client get_records drain (no boto3)", "_lean",
                                         " (lean client)", None)):
        for c in (1, 4):
            kn = num(raw, f"gw.load.kinesalite.{c}.records")
            counts = (f"{int(n):,}" if n.isdigit() else "?") + (f" (kinesalite {kn:,.0f})" if kn is not None else "")
            rows.append(Row(g, label, c,
                            f"{counts} records, {c} shard{'s' if c > 1 else ''}, limit 10,000, vs kinesalite{lean}",
                            "records/s",
                            num(raw, f"gw.drain.gateway{suffix}.{c}.records_per_sec"),
                            num(raw, f"gw.drain.kinesalite{suffix}.{c}.records_per_sec"), None, None,
                            target=target, peers=False))
    nc = raw.get("note.gw_clients", "64")
    mix = "gateway, many clients (boto3)"
    rows.append(Row(g, mix, nc, "put_record 100 B / get_records limit 100, 4 shards, vs kinesalite",
                    "requests/s", num(raw, "gw.mixed.gateway.requests_per_sec"),
                    num(raw, "gw.mixed.kinesalite.requests_per_sec"), None, None, target=None, peers=False))
    rows.append(Row(g, mix, nc, "failed requests, vs kinesalite", "errors",
                    num(raw, "gw.mixed.gateway.errors"), num(raw, "gw.mixed.kinesalite.errors"), None, None,
                    target=None, higher=False, peers=False))
    for when in ("before", "after"):
        rows.append(Row(g, mix, nc, f"server's peak RSS (VmHWM), {when} the run, vs kinesalite", "MiB",
                        num(raw, f"gw.mixed.gateway.server_hwm_kb_{when}", 1 / 1024, "max"),
                        num(raw, f"gw.mixed.kinesalite.server_hwm_kb_{when}", 1 / 1024, "max"), None, None,
                        target=None, higher=False, peers=False))
    return rows


def gateway_split(raw):
    """Where the time goes in the gateway workloads: the CPU of the clients, of the
    server process and of PostgreSQL, as shares of the three, and their sum as a
    share of the machine (CPUs x wall time)."""
    ncpu = float(raw.get("note.gw_ncpu", "0") or 0)
    lines = []
    cases = [("put_records, 4 clients", "gw.put", ("gateway", "kinesalite", "gateway_lean", "kinesalite_lean",
                                                    "sql", "api"))]
    for c in (1, 4):
        cases.append((f"get_records drain, {c} consumer{'s' if c > 1 else ''}", "gw.drain",
                      tuple(f"{t}.{c}" for t in ("gateway", "kinesalite", "gateway_lean", "kinesalite_lean"))))
    cases.append((f"{raw.get('note.gw_clients', '64')} clients", "gw.mixed", ("gateway", "kinesalite")))
    names = {"gateway": "gateway", "kinesalite": "kinesalite", "gateway_lean": "gateway, lean client",
             "kinesalite_lean": "kinesalite, lean client", "sql": "SQL put_records",
             "api": "kinesis.api() over libpq"}
    for title, prefix, targets in cases:
        parts = []
        for t in targets:
            key = f"{prefix}.{t}"
            cl, sv, pg, wall, mach = (num(raw, f"{key}.{f}") for f in (
                "cpu_client_s", "cpu_server_s", "cpu_pg_s", "wall_s", "cpu_machine_s"))
            if None in (cl, sv, pg, wall) or cl + sv + pg <= 0:
                continue
            tot = cl + sv + pg
            kind = t.split(".")[0]
            server = {"gateway": "kinesis-gateway", "kinesalite": "node"}.get(kind.replace("_lean", ""))
            shares = [f"client {100 * cl / tot:.0f} %"]
            if server:
                shares.append(f"{server} {100 * sv / tot:.0f} %")
            if not kind.startswith("kinesalite"):
                shares.append(f"PostgreSQL {100 * pg / tot:.0f} %")
            busy = ""
            if ncpu:
                busy = f" (these {100 * tot / (ncpu * wall):.0f} % of the {ncpu:.0f} CPUs"
                if mach is not None:
                    busy += f", other processes {100 * max(0.0, mach - tot) / (ncpu * wall):.0f} %"
                busy += ")"
            unit = "request" if prefix == "gw.mixed" else "record"
            n = num(raw, f"{key}.requests" if unit == "request" else f"{key}.records")
            cost = f"{tot / n * 1e6:,.1f} µs of CPU per {unit}: " if n else ""
            parts.append(f"{names[kind]}: " + cost + ", ".join(shares) + busy)
        if parts:
            lines.append(f"{title} — " + "; ".join(parts))
    return lines


def groups_run(raw):
    """The workload groups of the run; a raw file without note.groups
    predates BENCH_ONLY and the encryption rows, and has every other group."""
    return raw["note.groups"].split() if "note.groups" in raw else [
        g for g in ALL_GROUPS if g not in ("encryption", "gateway")]


def peers_run(raw):
    """Did a group that compares with PgQ and pgmq run?"""
    return any(g in PEER_GROUPS for g in groups_run(raw))


HEADER = ["workload", "clients", "variant [unit]", "kinesis", "baseline", "ratio",
          "PgQ", "pgmq", "target", "met?"]


def text_table(rows):
    cells = [HEADER] + [r.cells() for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(HEADER))]
    right = {1, 3, 4, 5, 6, 7}
    out = []
    for n, c in enumerate(cells):
        out.append("  ".join(c[i].rjust(widths[i]) if i in right else c[i].ljust(widths[i])
                             for i in range(len(c))).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def markdown(raw, rows):
    lines = []
    lines.append(f"Run started {raw.get('note.started', '?')}, took {raw.get('note.elapsed_s', '?')} s; "
                 f"{raw.get('note.duration', '?')} s per pgbench run; kinesis at commit "
                 f"{raw.get('note.commit', '?')}.")
    if "note.only" in raw:
        lines.append("")
        lines.append(f"Partial run: only the workload groups {raw.get('note.groups', '?')} "
                     f"(`BENCH_ONLY={raw['note.only']}`).")
    lines.append("")
    lines.append(f"Machine: {raw.get('note.machine', '?')}; load average before "
                 f"{raw.get('note.load_before', '?')}, after {raw.get('note.load_after', '?')}; "
                 f"other PostgreSQL servers running on the machine: {raw.get('note.other_servers_before', '?')} "
                 f"at the start, {raw.get('note.other_servers_after', '?')} at the end.")
    lines.append("")
    settings = ", ".join(f"`{k[len('setting.'):]} = {v}`" for k, v in raw.items() if k.startswith("setting."))
    lines.append(f"Settings: {settings}.")
    lines.append("")
    peers = []
    peers.append(f"PgQ {raw['note.pgq_version']}" if "note.pgq_version" in raw else f"PgQ: {raw.get('note.pgq', 'not run')}")
    peers.append(f"pgmq {raw['note.pgmq_version']}" if "note.pgmq_version" in raw else raw.get("note.pgmq", "pgmq: not run"))
    if peers_run(raw):
        lines.append("Peers: " + "; ".join(peers) + ".")
        lines.append("")
    if "note.wakeup" in raw:
        lines.append(f"Wake-up mechanism: {raw['note.wakeup']}.")
        lines.append("")
    if "note.encryption" in raw:
        lines.append(f"Encryption: {raw['note.encryption']}.")
        lines.append("")
    if "gateway" in groups_run(raw):
        lines.extend(gateway_notes(raw))
    lines.append("| " + " | ".join(HEADER) + " |")
    lines.append("|" + "|".join("---:" if i in (1, 3, 4, 5, 6, 7) else "---" for i in range(len(HEADER))) + "|")
    for r in rows:
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in r.cells()) + " |")
    return "\n".join(lines) + "\n"


def gateway_notes(raw):
    """The gateway group's header lines: what ran, what could not, where the time
    goes."""
    lines = []
    gw = (f"kinesis-gateway ({raw['note.gw_binary']}, --auth sigv4, --pool-size {raw.get('note.gw_pool', '?')}), "
          f"extension {raw.get('note.gw_extversion', '?')}" if "note.gw_binary" in raw
          else f"kinesis-gateway not run: {raw.get('note.gateway', '?')}")
    if "note.gw_binary" in raw and "note.gateway" in raw:
        gw += f" ({raw['note.gateway']})"
    kl = (f"kinesalite {raw['note.kinesalite_version']} (in memory, every delay 0)"
          if "note.kinesalite_version" in raw else f"kinesalite not run: {raw.get('note.kinesalite', '?')}")
    lines.append(f"Gateway: {gw}; {kl}; clients boto3/botocore {raw.get('note.gw_boto3', '?')} "
                 f"(/usr/bin/python3), the same code for both.")
    lines.append("")
    checks = []
    if "gw.requests_logged" in raw:
        checks.append(f"{raw.get('gw.errors_5xx', '?')} responses 5xx among the {int(raw['gw.requests_logged']):,} "
                      f"requests of the gateway's log")
    if "note.gateway_exit" in raw:
        checks.append(f"the gateway's exit status on SIGTERM (each start): {raw['note.gateway_exit']}")
    if "note.gateway_alive" in raw:
        checks.append(f"the gateway after the runs: {raw['note.gateway_alive']}")
    hwm = num(raw, "gw.mem.gateway.after_drain_hwm_kb", 1 / 1024)
    if hwm is not None:
        checks.append(f"the gateway's peak RSS after the drains (responses of 10,000 records): {hwm:.1f} MiB")
    errs = sorted(k for k in raw if k.startswith("gw.") and (k.endswith(".error") or k.endswith(".first_error")))
    if errs:
        checks.append("failed: " + "; ".join(f"{k} {raw[k]}" for k in errs))
    if checks:
        lines.append("Gateway checks: " + "; ".join(checks) + ".")
        lines.append("")
    split = gateway_split(raw)
    if split:
        lines.append("Gateway, where the CPU time goes (shares of the CPU time of the clients, the server "
                     "process and PostgreSQL during the timed part):")
        lines.append("")
        lines.extend(f"* {x}." for x in split)
        lines.append("")
    return lines


def main():
    raw_path, md_path, csv_path = sys.argv[1:4]
    raw = load(raw_path)
    rows = build(raw)
    print()
    print(text_table(rows))
    print()
    if "note.pgq" in raw and peers_run(raw):
        print("PgQ: " + raw["note.pgq"])
    if "note.pgmq" in raw and peers_run(raw):
        print(raw["note.pgmq"])
    if "note.encryption" in raw:
        print("encryption: " + raw["note.encryption"])
    if "gateway" in groups_run(raw):
        for line in gateway_notes(raw):
            if line:
                print(line)
    if FAILED:
        print("runs that failed (see the log): " + ", ".join(sorted(set(FAILED))))
    with open(md_path, "w", encoding="utf-8") as f:
        f.write(markdown(raw, rows))
    with open(csv_path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["workload", "clients", "variant", "unit", "kinesis", "baseline", "ratio",
                    "pgq", "pgmq", "target", "met"])
        for r in rows:
            w.writerow([r.workload, r.clients, r.variant, r.unit,
                        "" if r.k is None else round(r.k, 3), "" if r.b is None else round(r.b, 3),
                        "" if r.ratio is None else round(r.ratio, 3),
                        "" if r.pgq is None else round(r.pgq, 3), "" if r.pgmq is None else round(r.pgmq, 3),
                        r.target_text(), r.met()])


if __name__ == "__main__":
    main()
