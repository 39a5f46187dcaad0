#!/usr/bin/env bash
# The kinesis benchmark suite; run it as root from the checkout:
#
#   bash test/bench/run.sh
#
# 1. installs the Debian packages it needs, builds and installs the
#    extension (test/setup.sh) and compiles the C driver test/bench/benchdrv.c;
# 2. fetches pgmq's SQL install script from the npm registry (the
#    @electric-sql/pglite-pgmq package ships it); if that fails, pgmq's
#    columns say why and everything else runs;
# 3. starts its own cluster (/var/tmp/kinesis-bench/data, port 5496) with
#    the fixed settings of test/bench/cluster.conf, and loads kinesis, PgQ,
#    pgmq and the baselines into the database "bench";
# 4. runs every workload (see BENCHMARKS.md) side by side: for each row,
#    kinesis, its baseline and the peers run one after the other in the same
#    run, each on freshly truncated tables after a CHECKPOINT, in the order
#    A B C .. C B A with half of BENCH_DURATION each (the figure is the mean
#    of the two), so that a disturbance weighs on all of them alike;
# 5. the gateway group: installs kinesalite with npm (cached in
#    /var/tmp/kinesis-bench/cache), starts kinesis-gateway (the one the build
#    installed) against the cluster and kinesalite beside it, and drives both
#    with the same boto3 code (test/bench/gateway.py);
# 6. prints one table and writes it to test/bench/results/latest.md and
#    latest.csv, with the raw figures in latest.raw.tsv (partial.* instead
#    when BENCH_ONLY selects some workload groups only).
#
# These are benchmarks, not tests: nothing here fails on a figure.  The exit
# status is non-zero only if the suite itself could not run.
#
# Knobs (environment):
#   BENCH_DURATION        seconds of pgbench per figure (default 10: two
#                         runs of 5 s)
#   BENCH_DRAIN_RECORDS   records loaded for the get_records drain (default
#                         1000000, rounded down to a multiple of 4000)
#   BENCH_DRAIN_PASSES    times each drain run of kinesis and the baseline
#                         reads everything (default 3; the peers consume
#                         what they read and read once)
#   BENCH_CLIENTS         client counts (default "1 4 16")
#   BENCH_SYNC_COMMIT     synchronous_commit of the cluster (default off)
#   BENCH_KEEP_CLUSTER    1 = leave the cluster running at the end
#   BENCH_PGMQ_PACKAGE    npm package that ships pgmq's SQL
#                         (default @electric-sql/pglite-pgmq@0.0.6)
#   BENCH_ONLY            the workload groups to run, separated by spaces
#                         (default all of them): put_record put_records
#                         long trigger drain latency encryption gateway;
#                         e.g. BENCH_ONLY=encryption runs only the
#                         encryption rows.  pgmq is fetched and PgQ loaded
#                         only when a group that compares with them is run.
#   BENCH_GW_SECONDS      the gateway group: seconds of each put_records
#                         figure (default 16: two runs of 8 s) and of each
#                         64-client run (the same)
#   BENCH_GW_KINESALITE_RECORDS  records loaded into kinesalite for its drain
#                         (default 200000, at most BENCH_DRAIN_RECORDS;
#                         loading stops after 90 s per stream)
#   BENCH_GW_CLIENTS      clients of the many-clients run (default 64: 8
#                         processes of 8 threads)
#   BENCH_GW_POOL         the gateway's --pool-size (default 8)
#   BENCH_GW_BIN          the gateway program (default: the one the build
#                         installed, $(pg_config --bindir)/kinesis-gateway)

set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

# a build copy of our own, so that a test run at the same time keeps its own
export KINESIS_BUILD_DIR="${KINESIS_BUILD_DIR:-/var/tmp/kinesis-bench/build}"

# shellcheck source=test/setup.sh
source test/setup.sh

BENCH_DURATION="${BENCH_DURATION:-10}"
BENCH_DRAIN_RECORDS="${BENCH_DRAIN_RECORDS:-1000000}"
BENCH_DRAIN_PASSES="${BENCH_DRAIN_PASSES:-3}"
BENCH_CLIENTS="${BENCH_CLIENTS:-1 4 16}"
BENCH_SYNC_COMMIT="${BENCH_SYNC_COMMIT:-off}"
BENCH_PGMQ_PACKAGE="${BENCH_PGMQ_PACKAGE:-@electric-sql/pglite-pgmq@0.0.6}"
BENCH_GW_SECONDS="${BENCH_GW_SECONDS:-16}"
BENCH_GW_KINESALITE_RECORDS="${BENCH_GW_KINESALITE_RECORDS:-200000}"
BENCH_GW_CLIENTS="${BENCH_GW_CLIENTS:-64}"
BENCH_GW_POOL="${BENCH_GW_POOL:-8}"

# the workload groups, in the order they run (BENCHMARKS.md, "Workloads")
ALL_GROUPS="put_record put_records long trigger drain latency encryption gateway"
BENCH_ONLY="${BENCH_ONLY:-$ALL_GROUPS}"
for g in $BENCH_ONLY; do
	case " $ALL_GROUPS " in
	*" $g "*) ;;
	*) kinesis_die "BENCH_ONLY: no workload group '$g' (the groups: $ALL_GROUPS)" ;;
	esac
done
# the selected groups in run order (the report lists the rows of these only)
GROUPS_RUN=""
for g in $ALL_GROUPS; do
	case " $BENCH_ONLY " in *" $g "*) GROUPS_RUN+="${GROUPS_RUN:+ }$g" ;; esac
done
[ -n "$GROUPS_RUN" ] || kinesis_die "BENCH_ONLY names no workload group (the groups: $ALL_GROUPS)"
# want GROUP: is the workload group selected?
want() {
	case " $GROUPS_RUN " in *" $1 "*) return 0 ;; esac
	return 1
}
# the groups that compare with PgQ and pgmq
want_peers() {
	want put_record || want put_records || want long || want drain || want latency
}

BENCH_BASE=/var/tmp/kinesis-bench
BENCH_DATADIR="$BENCH_BASE/data"
BENCH_PORT=5496
BENCH_DIR="$KINESIS_SRC_DIR/test/bench"
RESULTS_DIR="$BENCH_DIR/results"
WORK="$BENCH_BASE/work"
RAW="$WORK/raw.tsv"
LOG="$WORK/bench.log"
DRV="$WORK/benchdrv"

DRAIN_N=$((BENCH_DRAIN_RECORDS / 4000 * 4000))
[ "$DRAIN_N" -ge 4000 ] || DRAIN_N=4000

# The cluster's fixed settings: test/bench/cluster.conf, then the
# synchronous_commit knob (a later line wins).
mapfile -t CLUSTER_CONF < <(grep -vE '^[[:space:]]*(#|$)' "$BENCH_DIR/cluster.conf")
CLUSTER_CONF+=("synchronous_commit = $BENCH_SYNC_COMMIT")

# ------------------------------------------------------------------ helpers

SECONDS=0
log() { printf '==> [%4ds] %s\n' "$SECONDS" "$*"; }

# record KEY VALUE: one raw figure (or a note) for the report
record() {
	printf '%s\t%s\n' "$1" "$2" >>"$RAW"
}

psql_bench() {
	"$KINESIS_PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -d bench "$@"
}

# sql_value SQL: the single value of a query
sql_value() {
	psql_bench -At -c "$1"
}

# reset: empty every table the producers write, fresh peer queues, CHECKPOINT
# load_streams N STREAM...: N records into each stream (put_records of 500
# x 100 B, random keys), then VACUUM ANALYZE the bucket tables and
# checkpoint, so that the drains that follow read settled tables
load_streams() {
	local n="$1" s
	shift
	for s in "$@"; do
		"$KINESIS_PGBIN/pgbench" -n -M prepared -c 2 -j 2 -t $((n / 1000)) \
			-f "$BENCH_DIR/sql/put_records.sql" -D stream="$s" -D "data=$DATA100" bench >>"$LOG" 2>&1 ||
			log "  loading $s failed (see $LOG)"
	done
	psql_bench >>"$LOG" <<-EOF
		SELECT format('VACUUM ANALYZE %s', i.inhrelid::regclass) FROM pg_inherits i
		 WHERE i.inhparent = 'kinesis.records'::regclass \gexec
		ANALYZE kinesis.records;
		CHECKPOINT;
	EOF
}

reset_state() {
	psql_bench >>"$LOG" 2>&1 <<-EOF
		TRUNCATE kinesis.records, bench.base, bench.outbox, bench.orders_k, bench.orders_b;
		ALTER SEQUENCE bench.base_seq RESTART;
		ALTER SEQUENCE bench.outbox_seq RESTART;
		$PGQ_RESET
		$PGMQ_RESET
		CHECKPOINT;
	EOF
}

# pgb SECONDS KEY CLIENTS SCRIPT [PGBENCH OPTIONS...]: one timed pgbench run
# on fresh tables; records KEY = tps, or the error.
pgb() {
	local secs="$1" key="$2" clients="$3" script="$4" out rc=0 tps threads
	shift 4
	threads=$((clients < 2 ? clients : 2))
	reset_state
	out="$("$KINESIS_PGBIN/pgbench" -n -M prepared -T "$secs" -c "$clients" \
		-j "$threads" -f "$BENCH_DIR/sql/$script" "$@" bench 2>&1)" || rc=$?
	printf '%s\n---- %s (exit %s)\n%s\n' "$key" "$script" "$rc" "$out" >>"$LOG"
	tps="$(printf '%s\n' "$out" | sed -nE 's/^tps = ([0-9.]+) .*/\1/p' | tail -n 1)"
	if [ "$rc" -ne 0 ] || [ -z "$tps" ]; then
		record "$key" "error"
		log "  $key: pgbench failed (see $LOG)"
		printf '%s\n' "$out" | grep -m 3 -iE 'error|abort' || true
		return 0
	fi
	record "$key" "$tps"
	log "  $key = $tps tps"
}

# add KEY CLIENTS SCRIPT [PGBENCH OPTIONS...]: queue a run for run_group.
# run_group runs the queued runs in order, then in reverse order, each for
# half of BENCH_DURATION (A B C C B A): a disturbance or a drift during the
# group weighs on every system alike.  The raw figures are KEY#1 and KEY#2;
# the report takes their mean.
GROUP=()
add() {
	local IFS=$'\x1f'
	GROUP+=("$*")
}
run_group() {
	local half=$((BENCH_DURATION / 2)) n=${#GROUP[@]} i pass args
	[ "$half" -ge 1 ] || half=1
	for pass in 1 2; do
		for ((i = 0; i < n; i++)); do
			if [ "$pass" = 1 ]; then
				IFS=$'\x1f' read -r -a args <<<"${GROUP[$i]}"
			else
				IFS=$'\x1f' read -r -a args <<<"${GROUP[$((n - 1 - i))]}"
			fi
			args[0]="${args[0]}#$pass"
			pgb "$half" "${args[@]}"
		done
	done
	GROUP=()
}

# drv KEY ARGS...: run the C driver, record each key=value it prints as
# KEY.name
drv() {
	local key="$1" out rc=0 kv
	shift
	out="$("$DRV" "$@" 2>&1)" || rc=$?
	printf '%s\n---- benchdrv %s (exit %s)\n%s\n' "$key" "$*" "$rc" "$out" >>"$LOG"
	if [ "$rc" -ne 0 ] && ! printf '%s' "$out" | grep -q '='; then
		record "$key.error" "$(printf '%s' "$out" | sed -n "1,1p")"
		log "  $key: driver failed: $(printf '%s' "$out" | sed -n "1,2p")"
		return 0
	fi
	for kv in $(printf '%s\n' "$out" | tail -n 1); do
		record "$key.${kv%%=*}" "${kv#*=}"
	done
	log "  $key: $(printf '%s\n' "$out" | tail -n 1)"
}

# other_servers: PostgreSQL servers on the machine besides ours (a postmaster
# is a postgres process whose parent is not one)
other_servers() {
	ps -eo pid=,ppid=,comm= | awk -v ours="$(sed -n 1p "$BENCH_DATADIR/postmaster.pid" 2>/dev/null)" '
		{ comm[$1] = $3; parent[$1] = $2 }
		END { n = 0; for (p in comm) if (comm[p] == "postgres" && comm[parent[p]] != "postgres" && p != ours) n++; print n }'
}

# commas N: N with thousands separators
commas() { printf '%s\n' "$1" | sed -E ':a; s/([0-9])([0-9]{3})($|,)/\1,\2\3/; ta'; }

# stop_pid NAME PID: SIGTERM to a process this script started, SIGKILL
# after 10 s; records note.NAME_exit: how each one of that name ended
declare -A STOPPED=()
stop_pid() {
	local name="$1" pid="$2" i rc=0
	[ -n "$pid" ] || return 0
	if ! kill -0 "$pid" 2>/dev/null; then
		# it ended by itself (a crash): its status, if it was our child
		wait "$pid" 2>/dev/null || rc=$?
		STOPPED[$name]+="${STOPPED[$name]:+, }ended before SIGTERM with status $rc"
		[ -f "$RAW" ] && record "note.${name}_exit" "${STOPPED[$name]}"
		return 0
	fi
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null || true
		STOPPED[$name]+="${STOPPED[$name]:+, }killed after 10 s"
	fi
	wait "$pid" 2>/dev/null || rc=$?
	STOPPED[$name]+="${STOPPED[$name]:+, }$rc"
	[ -f "$RAW" ] && record "note.${name}_exit" "${STOPPED[$name]}"
	return 0
}

# wait_port PORT PID: wait (30 s at most) until 127.0.0.1:PORT accepts
# connections while PID lives
wait_port() {
	local i
	for ((i = 0; i < 300; i++)); do
		kill -0 "$2" 2>/dev/null || return 1
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# free_port: a TCP port of 127.0.0.1 nobody listens on
free_port() {
	/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# hex_bytes N: N random bytes as hex; base64_chars N: N random base64 chars
hex_bytes() { head -c "$1" /dev/urandom | od -An -v -tx1 | tr -d ' \n'; }
base64_chars() { head -c $(($1 * 3 / 4)) /dev/urandom | base64 -w0; }

# ------------------------------------------------------------------ set-up

kinesis_install_packages

mkdir -p "$BENCH_BASE" "$RESULTS_DIR"
rm -rf "$WORK"
mkdir -p "$WORK"
: >"$RAW"
: >"$LOG"

log "building and installing the extension (output in $WORK/build.log)"
if ! kinesis_build_copy >"$WORK/build.log" 2>&1; then
	tail -n 30 "$WORK/build.log"
	kinesis_die "the build failed"
fi

log "compiling the driver"
gcc -O2 -Wall -o "$DRV" "$BENCH_DIR/benchdrv.c" \
	-I"$("$PG_CONFIG" --includedir)" -L"$("$PG_CONFIG" --libdir)" -lpq -lpthread

# pgmq: its SQL install script, fetched from the npm registry at run time
PGMQ_SQL=""
PGMQ_WHY=""
fetch_pgmq() {
	local dir="$BENCH_BASE/pgmq" tgz inner
	if ! command -v npm >/dev/null 2>&1; then
		PGMQ_WHY="npm is not installed"
		return 0
	fi
	rm -rf "$dir"
	mkdir -p "$dir"
	if ! (cd "$dir" && timeout 300 npm pack --loglevel=error "$BENCH_PGMQ_PACKAGE" >npm.out 2>&1); then
		PGMQ_WHY="npm pack $BENCH_PGMQ_PACKAGE failed: $(grep -iE 'error|timed out' "$dir/npm.out" |
			sed -n "1,2p" | tr '\n' ' ' || true)"
		return 0
	fi
	tgz="$(find "$dir" -maxdepth 1 -name '*.tgz' | sed -n "1,1p")"
	mkdir -p "$dir/pkg" "$dir/ext"
	if [ -z "$tgz" ] || ! tar -C "$dir/pkg" -xzf "$tgz"; then
		PGMQ_WHY="npm pack $BENCH_PGMQ_PACKAGE gave no readable package"
		return 0
	fi
	inner="$(find "$dir/pkg" -name 'pgmq.tar.gz' | sed -n "1,1p")"
	if [ -z "$inner" ] || ! tar -C "$dir/ext" -xzf "$inner"; then
		PGMQ_WHY="$BENCH_PGMQ_PACKAGE has no readable pgmq.tar.gz"
		return 0
	fi
	# the install script of the newest version: pgmq--X.Y.Z.sql (no "--" twice)
	PGMQ_SQL="$(find "$dir/ext" -name 'pgmq--*.sql' ! -name 'pgmq--*--*.sql' |
		sort -V | tail -n 1)"
	if [ -z "$PGMQ_SQL" ]; then
		PGMQ_WHY="no pgmq install script in $BENCH_PGMQ_PACKAGE"
	fi
}

# kinesalite, for the gateway group: installed with npm into a cache of
# its own (kept across runs), started and stopped by this script
KL_DIR="$BENCH_BASE/cache/kinesalite"
KL_CLI="$KL_DIR/node_modules/kinesalite/cli.js"
KL_WHY=""
fetch_kinesalite() {
	local v
	if ! command -v node >/dev/null 2>&1; then
		KL_WHY="node is not installed"
		return 0
	fi
	if [ -f "$KL_CLI" ]; then
		v="$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$KL_DIR/node_modules/kinesalite/package.json")"
		case "$v" in 3.*) return 0 ;; esac
	fi
	if ! command -v npm >/dev/null 2>&1; then
		KL_WHY="npm is not installed"
		return 0
	fi
	rm -rf "$KL_DIR"
	mkdir -p "$KL_DIR"
	if ! (cd "$KL_DIR" && npm_config_cache="$BENCH_BASE/cache/npm" timeout 300 npm install \
		--no-audit --no-fund --loglevel=error --prefix . kinesalite@3 >npm.out 2>&1) || [ ! -f "$KL_CLI" ]; then
		KL_WHY="npm install kinesalite@3 failed: $(grep -iE 'error|timed out' "$KL_DIR/npm.out" |
			sed -n "1,2p" | tr '\n' ' ' || true)"
		return 0
	fi
}
GW_PID=""
KL_PID=""

if want_peers; then
	log "fetching pgmq's SQL install script ($BENCH_PGMQ_PACKAGE)"
	fetch_pgmq
else
	PGMQ_WHY="not needed by the workload groups run ($GROUPS_RUN)"
fi
if want gateway; then
	# the gateway group's clients: boto3 and psycopg2 of Debian's python3
	if ! /usr/bin/python3 -c 'import boto3, psycopg2' >/dev/null 2>&1; then
		log "installing python3-boto3 and python3-psycopg2 for the gateway group"
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
			python3-boto3 python3-psycopg2 </dev/null >>"$LOG" 2>&1 ||
			log "  could not install them (see $LOG); the gateway rows will say why they are empty"
	fi
	log "kinesalite (npm, cached in $KL_DIR)"
	fetch_kinesalite
fi

# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
	stop_pid gateway "$GW_PID"
	stop_pid kinesalite "$KL_PID"
	if [ "${BENCH_KEEP_CLUSTER:-0}" != 1 ]; then
		kinesis_stop_cluster "$BENCH_DATADIR" >/dev/null 2>&1 || true
	fi
}
trap cleanup EXIT

kinesis_start_cluster "$BENCH_DATADIR" "$BENCH_PORT" "${CLUSTER_CONF[@]}"
export PGHOST="$KINESIS_PGHOST" PGPORT="$BENCH_PORT" PGUSER=postgres PGDATABASE=bench
"$KINESIS_PGBIN/createdb" bench

# CASCADE: whatever kinesis requires (pgcrypto, for encryption) comes along
psql_bench -c "CREATE EXTENSION kinesis CASCADE" >>"$LOG"
HAVE_PGQ=1
PGQ_WHY=""
if ! want_peers; then
	HAVE_PGQ=0
	PGQ_WHY="not needed by the workload groups run ($GROUPS_RUN)"
elif ! psql_bench -c "CREATE EXTENSION pgq" >>"$LOG" 2>&1; then
	HAVE_PGQ=0
	PGQ_WHY="CREATE EXTENSION pgq failed (package postgresql-15-pgq3)"
fi
HAVE_PGMQ=0
if [ -n "$PGMQ_SQL" ]; then
	if psql_bench -f "$PGMQ_SQL" >>"$LOG" 2>&1; then
		HAVE_PGMQ=1
		record note.pgmq_version "$(basename "$PGMQ_SQL" .sql | sed 's/^pgmq--//')"
	else
		PGMQ_WHY="loading $(basename "$PGMQ_SQL") failed"
	fi
fi
psql_bench -f "$BENCH_DIR/sql/setup.sql" >>"$LOG"

PGQ_RESET=""
PGMQ_RESET=""
if [ "$HAVE_PGQ" = 1 ]; then
	record note.pgq_version "$(sql_value "SELECT extversion FROM pg_extension WHERE extname = 'pgq'")"
	PGQ_RESET="SELECT pgq.drop_queue(queue_name) FROM pgq.queue WHERE queue_name = 'q1';
		SELECT pgq.create_queue('q1');"
else
	record note.pgq "$PGQ_WHY"
	if want_peers; then
		log "PgQ is not available: $PGQ_WHY; its columns stay empty"
	fi
fi
if [ "$HAVE_PGMQ" = 1 ]; then
	PGMQ_RESET="SELECT pgmq.drop_queue(queue_name) FROM pgmq.list_queues() WHERE queue_name = 'q1';
		SELECT pgmq.create('q1');"
else
	if want_peers; then
		record note.pgmq "pgmq could not be installed: $PGMQ_WHY"
		log "pgmq could not be installed: $PGMQ_WHY; its columns stay empty"
	else
		record note.pgmq "pgmq not loaded: $PGMQ_WHY"
	fi
fi

# the fixed settings, as the server reports them
for g in server_version shared_buffers synchronous_commit fsync full_page_writes wal_level \
	max_connections max_wal_size checkpoint_timeout autovacuum jit work_mem \
	shared_preload_libraries kinesis.max_tracked_shards; do
	record "setting.$g" "$(sql_value "SHOW $g")"
done
record note.duration "$BENCH_DURATION"
record note.drain_records "$DRAIN_N"
record note.drain_passes "$BENCH_DRAIN_PASSES"
record note.clients "$BENCH_CLIENTS"
record note.groups "$GROUPS_RUN"
[ "$GROUPS_RUN" = "$ALL_GROUPS" ] || record note.only "$BENCH_ONLY"
record note.started "$(date -u '+%Y-%m-%d %H:%M UTC')"
record note.commit "$(git -C "$KINESIS_SRC_DIR" rev-parse --short HEAD 2>/dev/null || echo unknown)$(
	[ -z "$(git -C "$KINESIS_SRC_DIR" status --porcelain -- src Makefile kinesis.control 2>/dev/null)" ] ||
		echo ' with uncommitted changes in src/')"
HYPERVISOR="$(lscpu 2>/dev/null | sed -n 's/^Hypervisor vendor:[[:space:]]*//p')"
record note.machine "$(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | sed -n "1,1p")${HYPERVISOR:+ ($HYPERVISOR guest)}, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM, $(. /etc/os-release && echo "$PRETTY_NAME"), kernel $(uname -r)"
record note.load_before "$(cut -d' ' -f1-3 /proc/loadavg)"
record note.other_servers_before "$(other_servers)"

# payloads: random (incompressible) bytes for kinesis and the baselines,
# the same number of base64 characters for the peers (text / JSON string)
DATA100="\\x$(hex_bytes 100)"
DATA1K="\\x$(hex_bytes 1024)"
TEXT100="$(base64_chars 100)"
TEXT1K="$(base64_chars 1024)"
SHARDS=(shardId-000000000000 shardId-000000000001 shardId-000000000002 shardId-000000000003)

# --------------------------------------------- 1. put_record, 1 and 16 shards

if want put_record; then
	log "workload 1: put_record (${BENCH_DURATION}s per run)"
	for size in 100 1k; do
		if [ "$size" = 100 ]; then data="$DATA100" text="$TEXT100"; else data="$DATA1K" text="$TEXT1K"; fi
		for c in $BENCH_CLIENTS; do
			add "put.kinesis.$size.1.$c" "$c" put_record.sql -D stream=b1 -D "data=$data"
			add "put.base.$size.1.$c" "$c" base_insert.sql -D shards=1 -D "data=$data"
			add "put.kinesis.$size.16.$c" "$c" put_record.sql -D stream=b16 -D "data=$data"
			add "put.base.$size.16.$c" "$c" base_insert.sql -D shards=16 -D "data=$data"
			[ "$HAVE_PGQ" = 1 ] && add "put.pgq.$size.$c" "$c" pgq_insert.sql -D queue=q1 -D "text=$text"
			[ "$HAVE_PGMQ" = 1 ] && add "put.pgmq.$size.$c" "$c" pgmq_send.sql -D queue=q1 -D "json=\"$text\""
			run_group
		done
	done
fi

# ------------------------------------------------- 2. put_records (500)

if want put_records; then
	log "workload 2: put_records, 500 records per call, 100 B, 1 and 16 shards"
	for c in $BENCH_CLIENTS; do
		add "batch.kinesis.1.$c" "$c" put_records.sql -D stream=b1 -D "data=$DATA100"
		add "batch.base.1.$c" "$c" base_insert_select.sql -D shards=1 -D "data=$DATA100"
		add "batch.kinesis.16.$c" "$c" put_records.sql -D stream=b16 -D "data=$DATA100"
		add "batch.base.16.$c" "$c" base_insert_select.sql -D shards=16 -D "data=$DATA100"
		[ "$HAVE_PGQ" = 1 ] && add "batch.pgq.$c" "$c" pgq_insert_500.sql -D queue=q1 -D "text=$TEXT100"
		[ "$HAVE_PGMQ" = 1 ] && add "batch.pgmq.$c" "$c" pgmq_send_batch.sql -D queue=q1 -D "json=\"$TEXT100\""
		run_group
	done

	# backend memory while producing 500 per call (one connection, 5 s or less)
	MEMSEC=$((BENCH_DURATION < 5 ? BENCH_DURATION : 5))
	log "backend memory during put_records (${MEMSEC}s each)"
	reset_state
	drv mem.put.kinesis loop "$MEMSEC" \
		"SELECT failed_record_count FROM kinesis.put_records(records => ARRAY(SELECT ROW('$DATA100'::bytea, NULL, (random() * 1e9)::int::text)::kinesis.put_records_request_entry FROM generate_series(1, 500)), stream_name => 'b16')"
	drv mem.put.base loop "$MEMSEC" \
		"INSERT INTO bench.base SELECT 1, floor(random() * 16)::int, nextval('bench.base_seq'), clock_timestamp(), (random() * 1e9)::int::text, '$DATA100'::bytea FROM generate_series(1, 500)"
	[ "$HAVE_PGQ" = 1 ] && drv mem.put.pgq loop "$MEMSEC" \
		"SELECT count(pgq.insert_event('q1', 'put', '$TEXT100')) FROM generate_series(1, 500)"
	[ "$HAVE_PGMQ" = 1 ] && drv mem.put.pgmq loop "$MEMSEC" \
		"SELECT count(*) FROM pgmq.send_batch('q1', ARRAY(SELECT '\"$TEXT100\"'::jsonb FROM generate_series(1, 500)))"
fi

# ---------------------------------------- 3. long producer transactions

if want long; then
	log "workload 3: long producer transactions, 16 clients, 1 shard"
	add long.kinesis.16 16 long_put.sql -D stream=b1 -D "data=$DATA100"
	add long.base.16 16 long_base.sql -D "data=$DATA100"
	[ "$HAVE_PGQ" = 1 ] && add long.pgq.16 16 long_pgq.sql -D queue=q1 -D "text=$TEXT100"
	[ "$HAVE_PGMQ" = 1 ] && add long.pgmq.16 16 long_pgmq.sql -D queue=q1 -D "json=\"$TEXT100\""
	run_group
fi

# ---------------------------------------- 4. trigger-produced events

if want trigger; then
	log "workload 4: INSERT with a trigger that produces the event"
	for c in $BENCH_CLIENTS; do
		add "trig.kinesis.$c" "$c" trigger_kinesis.sql
		add "trig.base.$c" "$c" trigger_outbox.sql
		run_group
	done
fi

# ---------------------------------------- 5. get_records drain

if want drain; then
	log "workload 5: draining $DRAIN_N records (4 shards), loading"
	reset_state
	# kinesis: put_records of 500, random keys over the 4 shards of "drain"
	"$KINESIS_PGBIN/pgbench" -n -M prepared -c 2 -j 2 -t $((DRAIN_N / 1000)) \
		-f "$BENCH_DIR/sql/put_records.sql" -D stream=drain -D "data=$DATA100" bench >>"$LOG" 2>&1
	# baseline: the same row shape, shards interleaved as the puts interleave
	psql_bench >>"$LOG" <<-EOF
		INSERT INTO bench.drain_base (stream_id, shard_index, seq, arrival, partition_key, data)
		SELECT 1, i % 4, i / 4 + 1, clock_timestamp(), (random() * 1e9)::int::text, '$DATA100'::bytea
		  FROM generate_series(0, $DRAIN_N - 1) AS i;
	EOF
	if [ "$HAVE_PGQ" = 1 ]; then
		# four queues of N/4 events, a tick after every 10,000 (the batches);
		# consumer "solo" reads them one after the other, "par" one per process
		psql_bench >>"$LOG" <<-EOF
			SELECT pgq.create_queue('dq' || i) FROM generate_series(0, 3) AS i;
			SELECT pgq.register_consumer('dq' || i, 'solo'), pgq.register_consumer('dq' || i, 'par')
			  FROM generate_series(0, 3) AS i;
			SELECT set_config('bench.text', '$TEXT100', false), set_config('bench.n', '$DRAIN_N', false);
			DO \$\$
			DECLARE
			    per_queue int := current_setting('bench.n')::int / 4;
			    q int;
			    done int;
			    chunk int;
			BEGIN
			    FOR q IN 0..3 LOOP
			        done := 0;
			        WHILE done < per_queue LOOP
			            chunk := least(10000, per_queue - done);
			            PERFORM pgq.insert_event('dq' || q, 'put', current_setting('bench.text'))
			               FROM generate_series(1, chunk);
			            COMMIT;
			            PERFORM pgq.ticker('dq' || q);
			            COMMIT;
			            done := done + chunk;
			        END LOOP;
			    END LOOP;
			END
			\$\$;
		EOF
	fi
	if [ "$HAVE_PGMQ" = 1 ]; then
		# two sets of four queues of N/4 (reading deletes): mq* for one
		# consumer, mp* for four
		psql_bench >>"$LOG" <<-EOF
			SELECT pgmq.create(s || i) FROM generate_series(0, 3) AS i, unnest(ARRAY['mq', 'mp']) AS s;
			SELECT set_config('bench.json', '"$TEXT100"', false), set_config('bench.n', '$DRAIN_N', false);
			DO \$\$
			DECLARE
			    per_queue int := current_setting('bench.n')::int / 4;
			    q text;
			    done int;
			    chunk int;
			BEGIN
			    FOR q IN SELECT s || i FROM generate_series(0, 3) AS i, unnest(ARRAY['mq', 'mp']) AS s LOOP
			        done := 0;
			        WHILE done < per_queue LOOP
			            chunk := least(10000, per_queue - done);
			            PERFORM pgmq.send_batch(q, ARRAY(SELECT current_setting('bench.json')::jsonb
			                                               FROM generate_series(1, chunk)));
			            COMMIT;
			            done := done + chunk;
			        END LOOP;
			    END LOOP;
			END
			\$\$;
		EOF
	fi
	psql_bench -c "VACUUM ANALYZE" >>"$LOG"
	psql_bench -c "CHECKPOINT" >>"$LOG"

	# storage per stored record (heap + TOAST + indexes + FSM/VM after VACUUM),
	# and the same without the indexes (store.*_table: pg_table_size)
	# kinesis.records is the empty parent of the streams' bucket tables
	for f in pg_total_relation_size pg_table_size; do
		sfx=""
		[ "$f" = pg_table_size ] && sfx=_table
		record "store.kinesis$sfx" "$(sql_value "SELECT round((SELECT sum(${f}(i.inhrelid)) FROM pg_inherits i
			WHERE i.inhparent = 'kinesis.records'::regclass)::numeric / count(*), 1) FROM kinesis.records")"
		record "store.base$sfx" "$(sql_value "SELECT round(${f}('bench.drain_base')::numeric / count(*), 1) FROM bench.drain_base")"
		if [ "$HAVE_PGQ" = 1 ]; then
			record "store.pgq$sfx" "$(sql_value "SELECT round(sum(${f}(c.oid))::numeric / $DRAIN_N, 1)
				FROM pgq.queue q JOIN pg_inherits i ON i.inhparent = q.queue_data_pfx::regclass
				JOIN pg_class c ON c.oid = i.inhrelid WHERE q.queue_name LIKE 'dq_'")"
		fi
		if [ "$HAVE_PGMQ" = 1 ]; then
			record "store.pgmq$sfx" "$(sql_value "SELECT round(sum(${f}(format('pgmq.%I', 'q_mq' || i)::regclass))::numeric / $DRAIN_N, 1) FROM generate_series(0, 3) AS i")"
		fi
	done
	log "  bytes per record: kinesis $(grep -P '^store.kinesis\t' "$RAW" | cut -f2), baseline $(grep -P '^store.base\t' "$RAW" | cut -f2)"

	log "workload 5: draining"
	# kinesis (both forms) and the baseline read without consuming, A B C C B A,
	# the mean of the two; the peers consume what they read, so they read once
	# (each of those runs reads everything BENCH_DRAIN_PASSES times: a pass
	# of the range scan takes under a second, too short to be steady)
	for c in 1 4; do
		for run in 1 2; do
			kinds=(kinesis rows base base_array)
			[ "$run" = 2 ] && kinds=(base_array base rows kinesis)
			for k in "${kinds[@]}"; do
				case "$k" in
				base*) targets=(0 1 2 3) ;;
				*) targets=("${SHARDS[@]/#/drain,}") ;;
				esac
				BENCHDRV_REPEAT="$BENCH_DRAIN_PASSES" drv "drain.$k.$c#$run" drain "$k" "$c" "${targets[@]}"
			done
		done
		# get_records with the C library's memory defaults in the reading
		# backend (kinesis.reader_memory_keep = 0), against the default above
		for run in 1 2; do
			PGOPTIONS="-c kinesis.reader_memory_keep=0" BENCHDRV_REPEAT="$BENCH_DRAIN_PASSES" \
				drv "drain.kinesis_nokeep.$c#$run" drain kinesis "$c" "${SHARDS[@]/#/drain,}"
		done
		if [ "$c" = 1 ]; then
			[ "$HAVE_PGQ" = 1 ] && drv "drain.pgq.1#1" drain pgq 1 dq0,solo dq1,solo dq2,solo dq3,solo
			[ "$HAVE_PGMQ" = 1 ] && drv "drain.pgmq.1#1" drain pgmq 1 mq0 mq1 mq2 mq3
		else
			[ "$HAVE_PGQ" = 1 ] && drv "drain.pgq.4#1" drain pgq 4 dq0,par dq1,par dq2,par dq3,par
			[ "$HAVE_PGMQ" = 1 ] && drv "drain.pgmq.4#1" drain pgmq 4 mp0 mp1 mp2 mp3
		fi
	done
fi

# ---------------------------------------- 6. end-to-end latency

if want latency; then
	LAT_RATE=200
	log "workload 6: end-to-end latency, $LAT_RATE records/s for ${BENCH_DURATION}s, 1 ms poll sleep"
	reset_state
	LAT_SETUP=""
	if [ "$HAVE_PGQ" = 1 ]; then
		# the consumer ticks the queue itself; tick as soon as there is an event
		LAT_SETUP+="SELECT pgq.create_queue('lat');
			SELECT pgq.set_queue_config('lat', 'ticker_max_lag', '0');
			SELECT pgq.register_consumer('lat', 'lat');"
	fi
	if [ "$HAVE_PGMQ" = 1 ]; then
		LAT_SETUP+="SELECT pgmq.create('lat');"
	fi
	[ -z "$LAT_SETUP" ] || psql_bench -c "$LAT_SETUP" >>"$LOG" 2>&1
	drv lat.kinesis latency kinesis "$LAT_RATE" "$BENCH_DURATION" 1000
	drv lat.base latency base "$LAT_RATE" "$BENCH_DURATION" 1000
	[ "$HAVE_PGQ" = 1 ] && drv lat.pgq latency pgq "$LAT_RATE" "$BENCH_DURATION" 1000
	[ "$HAVE_PGMQ" = 1 ] && drv lat.pgmq latency pgmq "$LAT_RATE" "$BENCH_DURATION" 1000
	# a consumer-side wake-up (not wait_for_stream, which waits for a status)
	if psql_bench -At -c "SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
		WHERE n.nspname = 'kinesis' AND p.proname ~ '^(subscribe|wait_for_record|notify|listen)'" | grep -q 1; then
		record note.wakeup "the extension has a wake-up function, but this suite does not measure it yet"
	else
		record note.wakeup "none: the extension offers no wake-up mechanism (consumers poll)"
	fi
fi

# ------------------------------- 9. encryption at rest, against none

# kinesis against kinesis: the same workload on a stream encrypted with
# start_stream_encryption('KMS', 'alias/aws/kinesis') and on an unencrypted
# stream of the same shape, interleaved as everywhere else.  The streams are
# created here, so that the other workloads run with the streams they always
# had.
ENC_CLIENTS="1 4"
ENC_DRAIN_N=$((DRAIN_N < 300000 ? DRAIN_N : 300000))

# enc_sql SQL: run SQL, its output in ENC_OUT; on an error, ENC_WHY says
# what failed (the reason the encryption rows stay empty) and it fails
enc_sql() {
	local rc=0
	ENC_OUT="$(psql_bench -At -c "$1" 2>&1)" || rc=$?
	printf -- '---- encryption: %s (exit %s)\n%s\n' "$1" "$rc" "$ENC_OUT" >>"$LOG"
	if [ "$rc" -ne 0 ]; then
		ENC_WHY="$(printf '%s\n' "$ENC_OUT" | grep -m 1 -E 'ERROR|FATAL' || printf '%s\n' "$ENC_OUT" | sed -n 1p)"
		return 1
	fi
}

# enc_setup: the four streams, two of them encrypted, checked; sets ENC_WHY
# and fails when encryption cannot be measured
enc_setup() {
	local types
	ENC_WHY=""
	enc_sql "SELECT count(*) FROM pg_proc WHERE proname = 'start_stream_encryption'
		AND pronamespace = 'kinesis'::regnamespace" || return 1
	if [ "$ENC_OUT" = 0 ]; then
		ENC_WHY="the extension has no kinesis.start_stream_encryption"
		return 1
	fi
	# enc16 / plain16: the producers; encdrain / plaindrain: the drain
	enc_sql "SELECT kinesis.create_stream(stream_name => s.name, shard_count => s.shards)
		FROM (VALUES ('plain16', 16), ('enc16', 16), ('plaindrain', 4), ('encdrain', 4)) AS s(name, shards)" &&
		enc_sql "SELECT kinesis.wait_for_stream(n) FROM unnest(ARRAY['plain16', 'enc16', 'plaindrain', 'encdrain']) AS n" &&
		enc_sql "SELECT kinesis.start_stream_encryption(n, 'KMS', 'alias/aws/kinesis')
			FROM unnest(ARRAY['enc16', 'encdrain']) AS n" &&
		enc_sql "SELECT count(*) FROM kinesis.run_maintenance()" &&
		enc_sql "SELECT kinesis.wait_for_stream(n) FROM unnest(ARRAY['enc16', 'encdrain']) AS n" ||
		return 1
	# what put_record says of each stream (the probe records go with the
	# next reset)
	enc_sql "SELECT string_agg(n || '=' || coalesce((SELECT p.encryption_type
		FROM kinesis.put_record(n, '\\x00'::bytea, 'probe') AS p), 'NULL'), ' ' ORDER BY n)
		FROM unnest(ARRAY['enc16', 'encdrain', 'plain16', 'plaindrain']) AS n" || return 1
	types="$ENC_OUT"
	if [ "$types" != "enc16=KMS encdrain=KMS plain16=NONE plaindrain=NONE" ]; then
		ENC_WHY="put_record's encryption_type is not KMS on the encrypted streams and NONE on the others: $types"
		return 1
	fi
}

# enc_check_drain: the loaded drain streams hold N records each; the
# encrypted one holds no record's payload in plaintext, and read_records
# gives it back decrypted.  Sets ENC_WHY and fails otherwise; records what
# was seen in note.encryption.
enc_check_drain() {
	local counts plain got
	enc_sql "SELECT string_agg(s.stream_name || '=' || (SELECT count(*) || '/' || count(*) FILTER (WHERE r.data = '$DATA100'::bytea)
		FROM kinesis.records r WHERE r.stream_id = s.stream_id), ' ' ORDER BY s.stream_name)
		FROM kinesis.stream_meta s WHERE s.stream_name IN ('encdrain', 'plaindrain')" || return 1
	counts="$ENC_OUT"
	# encdrain=N/0 plaindrain=N/N: stored records / of them the plaintext
	plain="encdrain=$ENC_DRAIN_N/0 plaindrain=$ENC_DRAIN_N/$ENC_DRAIN_N"
	enc_sql "SELECT count(*) || '/' || count(*) FILTER (WHERE data = '$DATA100'::bytea)
		FROM kinesis.read_records(shard_iterator => kinesis.get_shard_iterator(stream_name => 'encdrain',
			shard_id => 'shardId-000000000000', shard_iterator_type => 'TRIM_HORIZON'), \"limit\" => 1000)
		WHERE sequence_number IS NOT NULL" || return 1
	got="$ENC_OUT"
	if [ "$counts" != "$plain" ] || [ "${got%/*}" = 0 ] || [ "${got%/*}" != "${got#*/}" ]; then
		ENC_WHY="the loaded streams are not as expected: stored/plaintext records $counts (want $plain); read back from encdrain's first shard $got (all should match the payload)"
		return 1
	fi
	record note.encryption "checked: put_record reports encryption_type KMS on the encrypted streams and NONE on the others; of the $(commas "$ENC_DRAIN_N") records of the encrypted drain stream none is stored in plaintext, and read_records returns them decrypted (the first ${got%/*} records of its first shard, read back, all equal the payload)"
}

if want encryption; then
	log "workload 9: encryption at rest (KMS) against none"
	record note.enc_clients "$ENC_CLIENTS"
	record note.enc_drain_records "$ENC_DRAIN_N"
	if ! enc_setup; then
		record note.encryption "not measured: $ENC_WHY"
		log "  encryption not measured: $ENC_WHY"
	else
		log "  put_record, 1 KiB, 16 shards; put_records, 500 x 100 B, 16 shards"
		for c in $ENC_CLIENTS; do
			add "enc.put.plain.$c" "$c" put_record.sql -D stream=plain16 -D "data=$DATA1K"
			add "enc.put.kms.$c" "$c" put_record.sql -D stream=enc16 -D "data=$DATA1K"
			run_group
		done
		add enc.batch.plain.1 1 put_records.sql -D stream=plain16 -D "data=$DATA100"
		add enc.batch.kms.1 1 put_records.sql -D stream=enc16 -D "data=$DATA100"
		run_group

		log "  read_records drain of $ENC_DRAIN_N records (4 shards), loading"
		reset_state
		# the same load into both: put_records of 500, random keys
		load_streams "$ENC_DRAIN_N" plaindrain encdrain
		if ! enc_check_drain; then
			record note.encryption "drain not measured: $ENC_WHY"
			log "  encrypted drain not measured: $ENC_WHY"
		else
			log "  draining"
			# read without consuming: A B B A, the mean of the two
			drv "enc.drain.plain.1#1" drain rows 1 "${SHARDS[@]/#/plaindrain,}"
			drv "enc.drain.kms.1#1" drain rows 1 "${SHARDS[@]/#/encdrain,}"
			drv "enc.drain.kms.1#2" drain rows 1 "${SHARDS[@]/#/encdrain,}"
			drv "enc.drain.plain.1#2" drain rows 1 "${SHARDS[@]/#/plaindrain,}"
		fi
	fi
fi

# ------------------------------- 10. the wire gateway, against kinesalite

# kinesis-gateway (HTTP, SigV4, kinesis.api() on a pool of connections to
# this cluster) and kinesalite (Node.js, in memory), driven by the same boto3
# code (test/bench/gateway.py); the SQL-level put_records of the same shape
# from the same harness (psycopg2), for the gateway / SQL ratio.
GW_BIN="${BENCH_GW_BIN:-$KINESIS_PGBIN/kinesis-gateway}"
[ -x "$GW_BIN" ] || GW_BIN="$KINESIS_BUILD_DIR/gateway/kinesis-gateway"
GW_DSN="host=$KINESIS_PGHOST port=$BENCH_PORT dbname=bench user=postgres"
GW_LOG="$WORK/gateway.log"
KL_LOG="$WORK/kinesalite.log"
GWPY=(/usr/bin/python3 "$BENCH_DIR/gateway.py")

# gwb KEY ARGS...: run test/bench/gateway.py, record each key=value of its
# last line as KEY.name (as drv does for benchdrv)
gwb() {
	local key="$1" out rc=0 kv
	shift
	out="$("${GWPY[@]}" "$@" 2>&1)" || rc=$?
	printf '%s\n---- gateway.py %s (exit %s)\n%s\n' "$key" "$*" "$rc" "$out" >>"$LOG"
	if [ "$rc" -ne 0 ] || ! printf '%s\n' "$out" | tail -n 1 | grep -q '='; then
		record "$key.error" "$(printf '%s\n' "$out" | tail -n 1)"
		log "  $key: failed: $(printf '%s\n' "$out" | tail -n 2 | tr '\n' ' ')"
		return 0
	fi
	for kv in $(printf '%s\n' "$out" | tail -n 1); do
		record "$key.${kv%%=*}" "${kv#*=}"
	done
	log "  $key: $(printf '%s\n' "$out" | tail -n 1)"
}

# gw_start: kinesis-gateway on a free port (GW_PID, GW_URL)
gw_start() {
	local port
	port="$(free_port)"
	"$GW_BIN" --listen "127.0.0.1:$port" --dsn "$GW_DSN" --auth sigv4 --pool-size "$BENCH_GW_POOL" \
		--log "$GW_LOG" --pid-file "$WORK/gateway.pid" >>"$WORK/gateway.out" 2>&1 &
	GW_PID=$!
	GW_URL="http://127.0.0.1:$port"
	if ! wait_port "$port" "$GW_PID"; then
		GW_WHY="kinesis-gateway did not start: $(tail -n 2 "$WORK/gateway.out" | tr '\n' ' ')"
		stop_pid gateway "$GW_PID"
		GW_PID=""
		return 1
	fi
}

# kl_start: kinesalite, in memory (no --path), every delay 0 (KL_PID, KL_URL)
kl_start() {
	local port
	[ -z "$KL_WHY" ] || return 1
	port="$(free_port)"
	node "$KL_CLI" --createStreamMs 0 --deleteStreamMs 0 --updateStreamMs 0 --shardLimit 10000 \
		--port "$port" >>"$KL_LOG" 2>&1 &
	KL_PID=$!
	KL_URL="http://127.0.0.1:$port"
	if ! wait_port "$port" "$KL_PID"; then
		KL_WHY="kinesalite did not start: $(tail -n 2 "$KL_LOG" | tr '\n' ' ')"
		stop_pid kinesalite "$KL_PID"
		KL_PID=""
		return 1
	fi
}

# status_kb PID FIELD: a line of /proc/PID/status, in kB
status_kb() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null || true; }

if want gateway; then
	log "workload 10: the wire gateway against kinesalite (boto3 from the same code)"
	GW_WHY=""
	PGPID="$(sed -n 1p "$BENCH_DATADIR/postmaster.pid")"
	GW_ROLE="$(sql_value "SELECT current_user")"
	record note.gw_extversion "$(sql_value "SELECT extversion FROM pg_extension WHERE extname = 'kinesis'")"
	record note.gw_pool "$BENCH_GW_POOL"
	record note.gw_seconds "$BENCH_GW_SECONDS"
	record note.gw_clients "$BENCH_GW_CLIENTS"
	record note.gw_ncpu "$(nproc)"
	record note.gw_boto3 "$(/usr/bin/python3 -c 'import boto3, botocore; print(boto3.__version__ + "/" + botocore.__version__)' 2>&1 | tail -n 1)"
	if [ ! -x "$GW_BIN" ]; then
		GW_WHY="no kinesis-gateway program (looked for $KINESIS_PGBIN/kinesis-gateway and $KINESIS_BUILD_DIR/gateway/kinesis-gateway)"
	elif ! GW_KEY="$(sql_value "SELECT access_key_id || ' ' || secret_access_key FROM kinesis.create_access_key('$GW_ROLE')" 2>&1)"; then
		GW_WHY="kinesis.create_access_key('$GW_ROLE') failed: $GW_KEY"
	else
		export GWB_KEY="${GW_KEY%% *}" GWB_SECRET="${GW_KEY#* }"
		record note.gw_binary "$GW_BIN"
		gw_start || true
	fi
	[ -z "$GW_WHY" ] || { record note.gateway "$GW_WHY"; log "  $GW_WHY; the gateway's columns stay empty"; }
	if kl_start; then
		record note.kinesalite_version "$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$KL_DIR/node_modules/kinesalite/package.json") on Node.js $(node --version)"
	else
		record note.kinesalite "$KL_WHY"
		log "  kinesalite is not available: $KL_WHY; its columns stay empty"
	fi
	GW_ARGS=(--endpoint "$GW_URL" --server-pid "${GW_PID:-0}" --pg-pid "$PGPID")
	KL_ARGS=(--endpoint "$KL_URL" --server-pid "${KL_PID:-0}")
	SQL_ARGS=(--dsn "$GW_DSN" --pg-pid "$PGPID")

	# ---- put_records, 500 x 100 B, 4 client processes, a 4-shard stream
	GW_HALF=$((BENCH_GW_SECONDS / 2))
	[ "$GW_HALF" -ge 1 ] || GW_HALF=1
	log "  put_records of 500 x 100 B, 4 client processes, 4 shards (${GW_HALF}s per run)"
	psql_bench -c "SELECT kinesis.create_stream(stream_name => 'gwput', shard_count => 4)" \
		-c "SELECT kinesis.wait_for_stream('gwput')" >>"$LOG"
	# boto3 on both servers; the same requests from a lean client (no boto3:
	# what is left when the client costs next to nothing); the SQL-level call
	# and kinesis.api() over libpq, from the same harness
	GW_PUT=()
	[ -n "$GW_PID" ] && GW_PUT+=(gateway)
	[ -n "$KL_PID" ] && GW_PUT+=(kinesalite)
	GW_PUT+=(sql api)
	[ -n "$GW_PID" ] && GW_PUT+=(gateway_lean)
	[ -n "$KL_PID" ] && GW_PUT+=(kinesalite_lean)
	for pass in 1 2; do
		if [ "$pass" = 1 ]; then order=("${GW_PUT[@]}"); else
			order=()
			for ((i = ${#GW_PUT[@]} - 1; i >= 0; i--)); do order+=("${GW_PUT[$i]}"); done
		fi
		for t in "${order[@]}"; do
			reset_state
			case "$t" in
			gateway | gateway_lean)
				gwb "gw.put.$t#$pass" put --target gateway --client "$([ "$t" = gateway ] && echo boto3 || echo lean)" \
					"${GW_ARGS[@]}" --stream gwput --procs 4 --seconds "$GW_HALF" ;;
			kinesalite | kinesalite_lean)
				"${GWPY[@]}" create --endpoint "$KL_URL" --stream gwput --shards 4 >>"$LOG" 2>&1
				gwb "gw.put.$t#$pass" put --target kinesalite --client "$([ "$t" = kinesalite ] && echo boto3 || echo lean)" \
					"${KL_ARGS[@]}" --stream gwput --procs 4 --seconds "$GW_HALF" ;;
			*) gwb "gw.put.$t#$pass" put --target "$t" "${SQL_ARGS[@]}" --stream gwput \
				--procs 4 --seconds "$GW_HALF" ;;
			esac
		done
	done

	# ---- get_records drain: 1 consumer on a 1-shard stream, 4 on 4 shards
	KL_DRAIN_N=$((BENCH_GW_KINESALITE_RECORDS < DRAIN_N ? BENCH_GW_KINESALITE_RECORDS : DRAIN_N))
	log "  get_records drain, loading $DRAIN_N records (gateway) and $KL_DRAIN_N (kinesalite) per stream"
	reset_state
	psql_bench -c "SELECT kinesis.create_stream(stream_name => s.n, shard_count => s.c)
		FROM (VALUES ('gwdrain1', 1), ('gwdrain4', 4)) AS s(n, c)" \
		-c "SELECT kinesis.wait_for_stream(n) FROM unnest(ARRAY['gwdrain1', 'gwdrain4']) AS n" >>"$LOG"
	load_streams "$DRAIN_N" gwdrain1 gwdrain4
	if [ -n "$KL_PID" ]; then
		for c in 1 4; do
			"${GWPY[@]}" create --endpoint "$KL_URL" --stream "kdrain$c" --shards "$c" >>"$LOG" 2>&1
			gwb "gw.load.kinesalite.$c" load --endpoint "$KL_URL" --stream "kdrain$c" --records "$KL_DRAIN_N" \
				--procs 4 --max-seconds 90
		done
	fi
	# read without consuming: boto3 gateway, kinesalite, then the lean client
	# on both, then boto3 kinesalite, gateway again (the boto3 figures are the
	# mean of two reads, the lean ones of one)
	for c in 1 4; do
		KL_N="$(grep -P "^gw.load.kinesalite.$c.records\t" "$RAW" | cut -f2 || true)"
		for run in gateway#1 kinesalite#1 gateway_lean#1 kinesalite_lean#1 kinesalite#2 gateway#2; do
			t="${run%#*}"
			cl=boto3
			case "$t" in *_lean) cl=lean ;; esac
			case "$t" in
			gateway*) [ -n "$GW_PID" ] && gwb "gw.drain.$t.$c#${run#*#}" drain --client "$cl" "${GW_ARGS[@]}" \
				--stream "gwdrain$c" --consumers "$c" --expect "$DRAIN_N" ;;
			kinesalite*) [ -n "$KL_PID" ] && gwb "gw.drain.$t.$c#${run#*#}" drain --client "$cl" "${KL_ARGS[@]}" \
				--stream "kdrain$c" --consumers "$c" --expect "${KL_N:-0}" ;;
			esac
		done
	done
	[ -n "$GW_PID" ] && record gw.mem.gateway.after_drain_hwm_kb "$(status_kb "$GW_PID" VmHWM)"
	[ -n "$KL_PID" ] && record gw.mem.kinesalite.after_drain_hwm_kb "$(status_kb "$KL_PID" VmHWM)"

	# ---- many clients: small put_record / get_records, both servers started
	# afresh (kinesalite keeps every record in its memory; the gateway's
	# peak is then that of this run)
	GW_PROCS=8
	GW_THREADS=$(((BENCH_GW_CLIENTS + GW_PROCS - 1) / GW_PROCS))
	log "  $((GW_PROCS * GW_THREADS)) clients ($GW_PROCS processes x $GW_THREADS threads), put_record / get_records, ${BENCH_GW_SECONDS}s"
	reset_state
	psql_bench -c "SELECT kinesis.create_stream(stream_name => 'gwmix', shard_count => 4)" \
		-c "SELECT kinesis.wait_for_stream('gwmix')" >>"$LOG"
	if [ -n "$GW_PID" ]; then
		stop_pid gateway "$GW_PID"
		GW_PID=""
		if gw_start; then
			GW_ARGS=(--endpoint "$GW_URL" --server-pid "$GW_PID" --pg-pid "$PGPID")
			gwb gw.mixed.gateway mixed "${GW_ARGS[@]}" --stream gwmix --procs "$GW_PROCS" \
				--threads "$GW_THREADS" --seconds "$BENCH_GW_SECONDS"
		else
			record note.gateway "$GW_WHY"
		fi
	fi
	if [ -n "$KL_PID" ]; then
		stop_pid kinesalite "$KL_PID"
		KL_PID=""
		if kl_start; then
			"${GWPY[@]}" create --endpoint "$KL_URL" --stream gwmix --shards 4 >>"$LOG" 2>&1
			gwb gw.mixed.kinesalite mixed --endpoint "$KL_URL" --server-pid "$KL_PID" --stream gwmix \
				--procs "$GW_PROCS" --threads "$GW_THREADS" --seconds "$BENCH_GW_SECONDS"
		fi
	fi
	# the gateway is still answering, and stops cleanly on SIGTERM (exit 0)
	if [ -n "$GW_PID" ]; then
		if ! "${GWPY[@]}" create --endpoint "$GW_URL" --stream gwcheck --shards 1 >>"$LOG" 2>&1; then
			record note.gateway_alive "no answer after the runs (see $LOG)"
		fi
		stop_pid gateway "$GW_PID"
		GW_PID=""
		record gw.errors_5xx "$(awk '$3 ~ /^HTTP/ && $6 ~ /^5[0-9][0-9]$/ { n++ } END { print n + 0 }' "$GW_LOG")"
		record gw.requests_logged "$(awk '$3 ~ /^HTTP/ { n++ } END { print n + 0 }' "$GW_LOG")"
	fi
	stop_pid kinesalite "$KL_PID"
	KL_PID=""
	[ -z "${GWB_KEY:-}" ] || psql_bench -c "SELECT kinesis.delete_access_key('$GWB_KEY')" >>"$LOG" 2>&1 || true
fi

# ---------------------------------------------------------------- report

record note.load_after "$(cut -d' ' -f1-3 /proc/loadavg)"
record note.other_servers_after "$(other_servers)"
record note.elapsed_s "$SECONDS"
# a run of some groups only (BENCH_ONLY) leaves latest.* alone
OUT_NAME=latest
[ "$GROUPS_RUN" = "$ALL_GROUPS" ] || OUT_NAME=partial
cp "$RAW" "$RESULTS_DIR/$OUT_NAME.raw.tsv"
python3 "$BENCH_DIR/report.py" "$RAW" "$RESULTS_DIR/$OUT_NAME.md" "$RESULTS_DIR/$OUT_NAME.csv"
log "done in ${SECONDS}s: $RESULTS_DIR/$OUT_NAME.md, $RESULTS_DIR/$OUT_NAME.csv (log: $LOG)"
