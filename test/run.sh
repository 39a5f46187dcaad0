#!/usr/bin/env bash
# Runs every test of the kinesis extension; run it as root from the checkout:
#
#   bash test/run.sh
#
# 1. installs the Debian packages it needs (test/setup.sh),
# 2. builds in a postgres-owned copy of the tree and installs as root,
# 3. as postgres, in that copy, runs each PGXS suite on its own, so that one
#    failing suite does not hide the others:
#      regress    sql/*.sql + expected/*.out        (temporary instance)
#      isolation  test/specs/*.spec + test/expected (temporary instance)
#      TAP        test/t/*.pl through prove         (clusters of their own)
# 4. runs each executable test/stress/*.py with python3 as postgres, each
#    against a fresh throwaway cluster (port 5498, /var/tmp/kinesis-test/data)
#    with PGHOST/PGPORT/PGUSER/PGDATABASE set; a script passes by exiting 0;
# 5. runs the wire gateway's unit tests (gateway/test) and drives the
#    gateway with boto3, the AWS CLI and the AWS SDK for JavaScript
#    (test/gateway/run.sh) against a throwaway cluster;
# 6. fuzzes the C parsers briefly (test/fuzz/run.sh, KINESIS_FUZZ_SECONDS
#    per target, default 10).
#
# Counting: one per pg_regress test, one per isolation spec, one per TAP
# assertion (a TAP file that dies or breaks its plan adds one failure), one
# per stress script, one per fuzz target, and the gateway suites' own counts
# (one per check).  A suite that cannot run counts each of its tests as
# failed.  The last line is "N passed, N failed"; the exit status is non-zero
# if anything failed or nothing ran.
#
# Knobs: KINESIS_STRESS_SCALE (passed through to the stress scripts),
# KINESIS_STRESS_TIMEOUT (seconds per stress script, default 1200),
# KINESIS_BUILD_DIR (default /var/tmp/kinesis-build).

set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# shellcheck source=test/setup.sh
source test/setup.sh

TEST_BASE=/var/tmp/kinesis-test
STRESS_DATADIR="$TEST_BASE/data"
STRESS_PORT=5498
STRESS_TIMEOUT="${KINESIS_STRESS_TIMEOUT:-1200}"
LOGDIR="$TEST_BASE/logs"
DUMP_LIMIT=200000

PASSED=0
FAILED=0
SUMMARY=()

rm -rf "$LOGDIR"
mkdir -p "$LOGDIR"

record() { # record LABEL PASSED FAILED
	PASSED=$((PASSED + $2))
	FAILED=$((FAILED + $3))
	SUMMARY+=("$(printf '%-12s %4d passed, %4d failed' "$1" "$2" "$3")")
}

finish() {
	echo
	echo "==================== summary ===================="
	local line
	for line in "${SUMMARY[@]}"; do
		echo "$line"
	done
	echo
	if [ $((PASSED + FAILED)) -eq 0 ]; then
		echo "no test ran"
	fi
	echo "$PASSED passed, $FAILED failed"
	if [ "$FAILED" -ne 0 ] || [ $((PASSED + FAILED)) -eq 0 ]; then
		exit 1
	fi
	exit 0
}

# Print files (bounded in total) so that CI logs show why something failed.
dump_files() {
	local f
	for f in "$@"; do
		[ -f "$f" ] || continue
		echo "---------------- $f ----------------"
		cat "$f"
	done | head -c "$DUMP_LIMIT"
	echo
}

count_matching() { # count_matching REGEX FILE
	grep -cE "$1" "$2" || true
}

# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
	kinesis_stop_cluster "$STRESS_DATADIR" >/dev/null 2>&1 || true
}
trap cleanup EXIT

# ---------------------------------------------------------------- set-up

if ! kinesis_install_packages; then
	echo "package installation failed"
	record setup 0 1
	finish
fi
if ! kinesis_build_copy; then
	echo "build failed"
	record build 0 1
	finish
fi
B="$KINESIS_BUILD_DIR"

shopt -s nullglob
regress_tests=("$B"/sql/*.sql)
isolation_tests=("$B"/test/specs/*.spec)
tap_tests=("$B"/test/t/*.pl)
stress_tests=()
for f in "$B"/test/stress/*.py; do
	[ -x "$f" ] && stress_tests+=("$f")
done
shopt -u nullglob

# ------------------------------------------------ pg_regress-style suites

# run_pg_suite LABEL EXPECTED_COUNT OUTPUT_DIR MAKE_OVERRIDES...
# Runs `make installcheck` with the other two suites switched off, so the
# options stay exactly those of the Makefile.
run_pg_suite() {
	local label="$1" expected="$2" outdir="$3"
	shift 3
	local log="$LOGDIR/$label.log" rc=0 ok bad
	echo
	echo "==================== $label ($expected tests) ===================="
	kinesis_as_postgres_in "$B" make installcheck PG_CONFIG="$PG_CONFIG" "$@" 2>&1 |
		tee "$log" || rc=$?
	# PostgreSQL 15 prints "test NAME ... ok|FAILED|failed (ignored)";
	# later releases print TAP-style "ok N - NAME" / "not ok N - NAME".
	ok=$(count_matching '^(test +| +)[^ ]+ +\.\.\. +ok( |$)|^ok [0-9]+ +[-+] ' "$log")
	bad=$(count_matching '^(test +| +)[^ ]+ +\.\.\. +(FAILED|failed)|^not ok [0-9]+ ' "$log")
	if [ "$rc" -ne 0 ] || [ $((ok + bad)) -ne "$expected" ]; then
		# Tests that never reported (instance did not start, crash, ...)
		# count as failed, and a failing run always counts at least one.
		if [ $((ok + bad)) -lt "$expected" ]; then
			bad=$((expected - ok))
		fi
		if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
			bad=1
		fi
	fi
	if [ "$bad" -ne 0 ]; then
		echo "---- $label failed (make exit status $rc); diffs and server log follow ----"
		if [ -f "$outdir/regression.diffs" ]; then
			dump_files "$outdir/regression.diffs"
		else
			# No diffs at all (e.g. an expected file is missing): show results.
			dump_files "$outdir"/results/*.out
		fi
		if [ -f "$outdir/log/postmaster.log" ]; then
			echo "---------------- $outdir/log/postmaster.log (last 300 lines) ----------------"
			tail -n 300 "$outdir/log/postmaster.log" | head -c "$DUMP_LIMIT"
		fi
	fi
	record "$label" "$ok" "$bad"
}

if [ "${#regress_tests[@]}" -gt 0 ]; then
	run_pg_suite regress "${#regress_tests[@]}" "$B" ISOLATION= TAP_TESTS=
fi
if [ "${#isolation_tests[@]}" -gt 0 ]; then
	run_pg_suite isolation "${#isolation_tests[@]}" "$B/output_iso" REGRESS= TAP_TESTS=
fi

# ------------------------------------------------------------------- TAP

if [ "${#tap_tests[@]}" -gt 0 ]; then
	log="$LOGDIR/tap.log"
	rc=0
	echo
	echo "==================== TAP (${#tap_tests[@]} files) ===================="
	kinesis_as_postgres_in "$B" make installcheck PG_CONFIG="$PG_CONFIG" \
		REGRESS= ISOLATION= 2>&1 | tee "$log" || rc=$?
	total=$(sed -nE 's/^Files=[0-9]+, Tests=([0-9]+),.*/\1/p' "$log" | tail -n 1)
	if [ -z "$total" ]; then
		# prove never reached its summary: every file counts as failed.
		ok=0
		bad=${#tap_tests[@]}
	else
		# "Test Summary Report" has one line per failing file:
		#   test/t/x.pl (Wstat: 256 (exited 1) Tests: 5 Failed: 1)
		# A file with "Failed: 0" there died or broke its plan: one failure.
		bad=$(sed -nE 's/^[^ ].* \(Wstat: .*Tests: [0-9]+ Failed: ([0-9]+)\)$/\1/p' "$log" |
			awk '{ n += ($1 > 0 ? $1 : 1) } END { print n + 0 }')
		failed_asserts=$(sed -nE 's/^[^ ].* \(Wstat: .*Tests: [0-9]+ Failed: ([0-9]+)\)$/\1/p' "$log" |
			awk '{ n += $1 } END { print n + 0 }')
		ok=$((total - failed_asserts))
		if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
			bad=1
		fi
	fi
	if [ "$bad" -ne 0 ]; then
		echo "---- TAP failed (make exit status $rc); test logs follow ----"
		dump_files "$B"/tmp_check/log/regress_log_* "$B"/tmp_check/log/*.log
	fi
	record TAP "$ok" "$bad"
fi

# ---------------------------------------------------------------- stress

if [ "${#stress_tests[@]}" -gt 0 ]; then
	echo
	echo "==================== stress (${#stress_tests[@]} scripts) ===================="
	ok=0
	bad=0
	for script in "${stress_tests[@]}"; do
		name="test/stress/$(basename "$script")"
		log="$LOGDIR/stress-$(basename "$script" .py).log"
		echo
		echo "---- $name ----"
		# A fresh throwaway cluster for each script: one script's leftovers
		# (prepared transactions, locks, a crashed server) cannot fail the next.
		if ! kinesis_start_cluster "$STRESS_DATADIR" "$STRESS_PORT"; then
			echo "FAIL: $name (cluster did not start)"
			bad=$((bad + 1))
			continue
		fi
		export PGHOST="$KINESIS_PGHOST" PGPORT="$STRESS_PORT" PGUSER=postgres \
			PGDATABASE=postgres PYTHONUNBUFFERED=1
		rc=0
		kinesis_as_postgres_in "$B" timeout -k 30 "$STRESS_TIMEOUT" \
			python3 "$script" 2>&1 | tee "$log" || rc=$?
		unset PGHOST PGPORT PGUSER PGDATABASE
		if [ "$rc" -eq 0 ]; then
			echo "PASS: $name"
			ok=$((ok + 1))
		else
			if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
				echo "FAIL: $name (timed out after ${STRESS_TIMEOUT}s)"
			else
				echo "FAIL: $name (exit status $rc)"
			fi
			bad=$((bad + 1))
			echo "---- last lines of the server log $KINESIS_PGLOG ----"
			tail -n 200 "$KINESIS_PGLOG" | head -c "$DUMP_LIMIT"
		fi
		kinesis_stop_cluster "$STRESS_DATADIR" || true
	done
	record stress "$ok" "$bad"
fi

# --------------------------------------------------------------- gateway

# The wire gateway's own unit tests (CBOR codec, SigV4, event-stream
# framing; gateway/test: six programs, each ending with "N passed, N
# failed", each counted as one test), then the gateway driven by the real
# AWS clients against a throwaway cluster (test/gateway/run.sh, one count
# per check).
sum_counts() { # sum_counts LOG -> "passed failed": one per "N passed, N failed" line
	sed -nE 's/^([0-9]+) passed, ([0-9]+) failed.*/\2/p' "$1" |
		awk '{ if ($1 == 0) p++; else f++ } END { print p + 0, f + 0 }'
}

if [ -f "$B/gateway/test/Makefile" ]; then
	echo
	echo "==================== gateway unit tests ===================="
	log="$LOGDIR/gateway-unit.log"
	rc=0
	kinesis_as_postgres_in "$B" make -C gateway/test check 2>&1 | tee "$log" || rc=$?
	read -r ok bad <<<"$(sum_counts "$log")"
	if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
		bad=1
	fi
	record gateway-unit "$ok" "$bad"
fi

if [ -f "$B/test/gateway/run.sh" ]; then
	echo
	echo "==================== gateway (real AWS clients) ===================="
	log="$LOGDIR/gateway.log"
	rc=0
	# shellcheck source=test/gateway/packages.sh
	source "$B/test/gateway/packages.sh"
	if ! kgw_install_packages; then
		echo "FAIL: the gateway suite's packages could not be installed"
		record gateway 0 1
	elif ! kinesis_start_cluster "$STRESS_DATADIR" "$STRESS_PORT"; then
		echo "FAIL: the gateway suite's cluster did not start"
		record gateway 0 1
	else
		kinesis_as_postgres "$KINESIS_PGBIN/psql" -X -q -h "$KINESIS_PGHOST" -p "$STRESS_PORT" \
			-U postgres -d postgres -c 'CREATE EXTENSION kinesis CASCADE' || rc=$?
		if [ "$rc" -eq 0 ]; then
			(cd "$B" && KGW_BIN="$KINESIS_PGBIN/kinesis-gateway" PGHOST="$KINESIS_PGHOST" \
				PGPORT="$STRESS_PORT" PGUSER=postgres PGDATABASE=postgres \
				runuser -u "$KINESIS_PG_USER" -- timeout -k 30 2400 bash test/gateway/run.sh) 2>&1 |
				tee "$log" || rc=$?
		fi
		ok=$(sed -nE 's/^([0-9]+) passed, ([0-9]+) failed.*/\1/p' "$log" | tail -n 1)
		bad=$(sed -nE 's/^([0-9]+) passed, ([0-9]+) failed.*/\2/p' "$log" | tail -n 1)
		ok=${ok:-0}
		bad=${bad:-0}
		if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
			bad=1
		fi
		if [ "$bad" -ne 0 ]; then
			echo "---- last lines of the server log $KINESIS_PGLOG ----"
			tail -n 100 "$KINESIS_PGLOG" | head -c "$DUMP_LIMIT"
		fi
		record gateway "$ok" "$bad"
		kinesis_stop_cluster "$STRESS_DATADIR" || true
	fi
fi

# ------------------------------------------------------------------ fuzz

# The C parsers under libFuzzer with ASan and UBSan: a short run of each
# target after replaying its seeds and the inputs of past failures.
fuzz_targets=("$B"/test/fuzz/fuzz_*.c)
if [ -e "${fuzz_targets[0]}" ]; then
	echo
	echo "==================== fuzz (${#fuzz_targets[@]} targets, ${KINESIS_FUZZ_SECONDS:-10}s each) ===================="
	log="$LOGDIR/fuzz.log"
	rc=0
	FUZZ_SECONDS="${KINESIS_FUZZ_SECONDS:-10}" bash "$B"/test/fuzz/run.sh 2>&1 | tee "$log" || rc=$?
	ok=$(grep -cE '^fuzz [a-z_]+: ok' "$log" || true)
	bad=$((${#fuzz_targets[@]} - ok))
	if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
		bad=1
	fi
	record fuzz "$ok" "$bad"
fi

finish
