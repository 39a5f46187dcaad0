#!/usr/bin/env bash
# CPU profiles of one server backend per workload, to find where the time of
# a missed benchmark target goes; run it as root from the checkout:
#
#   bash test/bench/profile.sh [WORKLOAD...]
#
# WORKLOADs (default: all): put_record (1 client, 100 B, 1 shard),
# put_records (1 client, 500 per call, 16 shards), trigger (1 client, INSERT
# with kinesis.capture_trigger), drain (get_records over 4 shards of
# BENCH_DRAIN_RECORDS records, 1 consumer), and the same for the baselines
# (base_put_record, base_put_records, base_trigger, base_drain).
#
# Builds and installs the extension, starts a cluster of its own
# (/var/tmp/kinesis-bench/prof, port 5497, the settings of cluster.conf),
# runs each workload on one connection and samples that connection's
# backend with `perf record -e cpu-clock -g -p PID` for PROFILE_SECONDS
# (default 10).  For each workload it prints the time per shared object and
# the hottest functions (self time, then inclusive), and keeps perf.data and
# the full reports in /var/tmp/kinesis-bench/prof-out/.  Debian's postgres
# binary carries only its exported symbols, so static functions show as
# addresses.

set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

export KINESIS_BUILD_DIR="${KINESIS_BUILD_DIR:-/var/tmp/kinesis-bench/build}"
# shellcheck source=test/setup.sh
source test/setup.sh

PROFILE_SECONDS="${PROFILE_SECONDS:-10}"
BENCH_DRAIN_RECORDS="${BENCH_DRAIN_RECORDS:-1000000}"
BENCH_DIR="$KINESIS_SRC_DIR/test/bench"
PROF_DATADIR=/var/tmp/kinesis-bench/prof
PROF_PORT=5497
OUT=/var/tmp/kinesis-bench/prof-out
DRV="$OUT/benchdrv"
DRAIN_N=$((BENCH_DRAIN_RECORDS / 4000 * 4000))
[ "$DRAIN_N" -ge 4000 ] || DRAIN_N=4000

WORKLOADS=("$@")
if [ "${#WORKLOADS[@]}" -eq 0 ]; then
	WORKLOADS=(put_record base_put_record put_records base_put_records trigger base_trigger
		drain base_drain)
fi

if ! perf record -q -e cpu-clock -o /dev/null true >/dev/null 2>&1; then
	kinesis_die "perf cannot sample here (install linux-perf; check kernel.perf_event_paranoid)"
fi

kinesis_install_packages
rm -rf "$OUT"
mkdir -p "$OUT"
kinesis_log "building and installing the extension (output in $OUT/build.log)"
kinesis_build_copy >"$OUT/build.log" 2>&1 || { tail -n 30 "$OUT/build.log"; exit 1; }
gcc -O2 -Wall -o "$DRV" "$BENCH_DIR/benchdrv.c" \
	-I"$("$PG_CONFIG" --includedir)" -L"$("$PG_CONFIG" --libdir)" -lpq -lpthread

mapfile -t CLUSTER_CONF < <(grep -vE '^[[:space:]]*(#|$)' "$BENCH_DIR/cluster.conf")
# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
	kinesis_stop_cluster "$PROF_DATADIR" >/dev/null 2>&1 || true
}
trap cleanup EXIT
kinesis_start_cluster "$PROF_DATADIR" "$PROF_PORT" "${CLUSTER_CONF[@]}" >"$OUT/cluster.log" 2>&1
export PGHOST="$KINESIS_PGHOST" PGPORT="$PROF_PORT" PGUSER=postgres PGDATABASE=bench
"$KINESIS_PGBIN/createdb" bench
psql_q() { "$KINESIS_PGBIN/psql" -X -q -v ON_ERROR_STOP=1 "$@"; }
psql_q -c "CREATE EXTENSION kinesis" -f "$BENCH_DIR/sql/setup.sql" >/dev/null

DATA100="\\x$(head -c 100 /dev/urandom | od -An -v -tx1 | tr -d ' \n')"
loaded=0
load_drain() {
	[ "$loaded" = 0 ] || return 0
	kinesis_log "loading $DRAIN_N records into stream drain and bench.drain_base"
	"$KINESIS_PGBIN/pgbench" -n -M prepared -c 2 -j 2 -t $((DRAIN_N / 1000)) \
		-f "$BENCH_DIR/sql/put_records.sql" -D stream=drain -D "data=$DATA100" bench >/dev/null
	psql_q -c "INSERT INTO bench.drain_base SELECT 1, i % 4, i / 4 + 1, clock_timestamp(),
		(random() * 1e9)::int::text, '$DATA100'::bytea FROM generate_series(0, $DRAIN_N - 1) AS i" \
		-c "VACUUM ANALYZE" -c "CHECKPOINT" >/dev/null
	loaded=1
}

# backend_pid APPNAME: the pid of the (single) backend of that application
backend_pid() {
	local pid="" _
	for _ in $(seq 1 50); do
		pid="$(psql_q -At -c "SELECT pid FROM pg_stat_activity WHERE application_name = '$1' LIMIT 1")"
		[ -z "$pid" ] || break
		sleep 0.1
	done
	printf '%s\n' "$pid"
}

# top N: the first N lines of a perf report that carry figures
top() {
	grep -E '^ +[0-9]' | sed -n "1,${1}p" || true
}

# profile NAME: perf the backend of the running workload, then print
profile() {
	local name="$1" pid="$2"
	local data="$OUT/$name.perf.data" rep="$OUT/$name.txt"
	if [ -z "$pid" ]; then
		echo "no backend found for $name"
		return 0
	fi
	sleep 1
	perf record -q -e cpu-clock -F 2000 -g -p "$pid" -o "$data" -- sleep "$PROFILE_SECONDS" \
		>/dev/null 2>&1 || true
	{
		echo "######## $name: time per shared object (self)"
		perf report -i "$data" --no-children --sort dso -g none --stdio 2>/dev/null | top 8
		echo "######## $name: hottest functions (self time)"
		perf report -i "$data" --no-children --sort dso,sym -g none --stdio 2>/dev/null | top 25
		echo "######## $name: kinesis.so functions (self time)"
		perf report -i "$data" --no-children --dsos kinesis.so --sort sym -g none --stdio 2>/dev/null | top 12
		echo "######## $name: inclusive time (children), top 30"
		perf report -i "$data" --children --sort sym -g none --stdio 2>/dev/null | top 30
	} >"$rep" || true
	cat "$rep"
	echo
}

# run_pgbench NAME SCRIPT [OPTIONS...]: one client, profile it, stop it
run_pgbench() {
	local name="$1" script="$2" bpid
	shift 2
	psql_q -c "TRUNCATE kinesis.records, bench.base, bench.outbox, bench.orders_k, bench.orders_b" \
		-c CHECKPOINT >/dev/null
	PGAPPNAME="prof_$name" "$KINESIS_PGBIN/pgbench" -n -M prepared -c 1 \
		-T $((PROFILE_SECONDS + 3)) -f "$BENCH_DIR/sql/$script" "$@" bench >"$OUT/$name.pgbench" 2>&1 &
	bpid=$!
	profile "$name" "$(backend_pid "prof_$name")"
	wait "$bpid" || true
	grep -E '^tps' "$OUT/$name.pgbench" || true
}

run_drain() {
	local name="$1" kind="$2" dpid
	shift 2
	load_drain
	# read everything over and over on one connection until perf is done
	PGAPPNAME="prof_$name" BENCHDRV_REPEAT=1000 timeout $((PROFILE_SECONDS + 3)) \
		"$DRV" drain "$kind" 1 "$@" >/dev/null 2>&1 &
	dpid=$!
	profile "$name" "$(backend_pid "prof_$name")"
	wait "$dpid" || true
}

for w in "${WORKLOADS[@]}"; do
	kinesis_log "profiling $w for ${PROFILE_SECONDS}s"
	case "$w" in
	put_record) run_pgbench "$w" put_record.sql -D stream=b1 -D "data=$DATA100" ;;
	base_put_record) run_pgbench "$w" base_insert.sql -D shards=1 -D "data=$DATA100" ;;
	put_records) run_pgbench "$w" put_records.sql -D stream=b16 -D "data=$DATA100" ;;
	base_put_records) run_pgbench "$w" base_insert_select.sql -D shards=16 -D "data=$DATA100" ;;
	trigger) run_pgbench "$w" trigger_kinesis.sql ;;
	base_trigger) run_pgbench "$w" trigger_outbox.sql ;;
	drain)
		run_drain "$w" kinesis drain,shardId-000000000000 drain,shardId-000000000001 \
			drain,shardId-000000000002 drain,shardId-000000000003 ;;
	base_drain) run_drain "$w" base 0 1 2 3 ;;
	*) echo "unknown workload $w" ;;
	esac
done
kinesis_log "reports and perf.data files are in $OUT"
