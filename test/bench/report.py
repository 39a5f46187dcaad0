#!/usr/bin/env python3
"""Turn the raw figures of test/bench/run.sh into one table.

    report.py RAW.tsv OUT.md OUT.csv

RAW.tsv has one "key<TAB>value" line per figure (see run.sh).  The table is
printed to stdout as aligned text and written as Markdown and CSV.  Ratios
are kinesis / baseline, measured in the same run (for the encryption rows:
kinesis on an encrypted stream / kinesis on an unencrypted one).

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
ALL_GROUPS = ["put_record", "put_records", "long", "trigger", "drain", "latency", "encryption"]
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
    if unit in ("MiB", "B/record"):
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
    return [r for r in rows if r.group in groups_run(raw)]


def groups_run(raw):
    """The workload groups of the run; a raw file without note.groups
    predates BENCH_ONLY and the encryption rows, and has every other group."""
    return raw["note.groups"].split() if "note.groups" in raw else ALL_GROUPS[:-1]


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
    lines.append("| " + " | ".join(HEADER) + " |")
    lines.append("|" + "|".join("---:" if i in (1, 3, 4, 5, 6, 7) else "---" for i in range(len(HEADER))) + "|")
    for r in rows:
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in r.cells()) + " |")
    return "\n".join(lines) + "\n"


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
