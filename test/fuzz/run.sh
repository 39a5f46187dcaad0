#!/usr/bin/env bash
# Short CI fuzzing run of the kinesis extension's C parsers:
#
#   bash test/fuzz/run.sh [target...]        (default: every target)
#
# 1. makes sure clang-14, libFuzzer (libclang-rt-14-dev), the PostgreSQL 15
#    server headers and libpgcommon (postgresql-server-dev-15), OpenSSL
#    headers (libssl-dev) and jansson (libjansson-dev, for fuzz_cbor) are
#    there, installing them with apt-get when run as root;
# 2. builds every target (test/fuzz/Makefile) into test/fuzz/build/;
# 3. for each target, replays test/fuzz/regressions/<target>/* first, then
#    fuzzes for FUZZ_SECONDS seconds (default 20; 0 only runs the seeds and
#    corpus once) starting from
#    test/fuzz/seeds/<target>/ and the corpus kept in
#    test/fuzz/build/corpus/<target>/;
# 4. prints one line per target, "fuzz <target>: ok (<execs> runs)" or
#    "fuzz <target>: FAILED (...)", and exits non-zero if any target failed.
#
# A crash, sanitizer report, property failure, timeout or out-of-memory is
# a failure; the input is copied into test/fuzz/regressions/<target>/ so
# that every later run replays it first, and the report is in
# test/fuzz/build/logs/<target>.log (<target>.replay.log for regressions).
#
# Knobs: FUZZ_SECONDS (per target), FUZZ_TIMEOUT (seconds per input,
# default 10), FUZZ_RSS_MB (default 2048), FUZZ_FRESH=1 (forget the kept
# corpus), FUZZ_STATS=1 (print the harnesses' outcome counters).

set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
FUZZ_DIR=$(pwd)

FUZZ_SECONDS="${FUZZ_SECONDS:-20}"
FUZZ_TIMEOUT="${FUZZ_TIMEOUT:-10}"
FUZZ_RSS_MB="${FUZZ_RSS_MB:-2048}"
ALL_TARGETS=(fuzz_seqnum fuzz_hashkey fuzz_shardid fuzz_validate fuzz_iterator fuzz_token fuzz_cbor)
if [ $# -gt 0 ]; then
	TARGETS=("$@")
else
	TARGETS=("${ALL_TARGETS[@]}")
fi

case "$FUZZ_SECONDS" in
	'' | *[!0-9]*) echo "FUZZ_SECONDS must be a whole number of seconds" >&2; exit 2 ;;
esac

PG_CONFIG="${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}"

# ---------------------------------------------------------------------
# prerequisites
# ---------------------------------------------------------------------
missing_prereqs() {
	local fuzzer_lib
	command -v clang-14 >/dev/null 2>&1 || { echo clang-14; return; }
	fuzzer_lib="$(clang-14 -print-resource-dir)/lib/linux/libclang_rt.fuzzer-x86_64.a"
	[ -f "$fuzzer_lib" ] || { echo libclang-rt-14-dev; return; }
	[ -x "$PG_CONFIG" ] && [ -f "$("$PG_CONFIG" --includedir-server)/postgres.h" ] &&
		[ -f "$("$PG_CONFIG" --pkglibdir)/libpgcommon.a" ] || { echo postgresql-server-dev-15; return; }
	[ -f /usr/include/openssl/evp.h ] || { echo libssl-dev; return; }
	[ -f /usr/include/jansson.h ] || { echo libjansson-dev; return; }
	command -v make >/dev/null 2>&1 || { echo make; return; }
}

if [ -n "$(missing_prereqs)" ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "installing clang-14 libclang-rt-14-dev postgresql-server-dev-15 libssl-dev libjansson-dev make"
		apt-get update </dev/null >/dev/null &&
			DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
				clang-14 libclang-rt-14-dev postgresql-server-dev-15 libssl-dev libjansson-dev make </dev/null >/dev/null
	fi
	if [ -n "$(missing_prereqs)" ]; then
		echo "fuzz: missing $(missing_prereqs) (apt-get install it, as root)" >&2
		exit 2
	fi
fi

# ---------------------------------------------------------------------
# build
# ---------------------------------------------------------------------
mkdir -p build/logs
if ! make -s -j"$(nproc 2>/dev/null || echo 2)" PG_CONFIG="$PG_CONFIG" all >build/logs/build.log 2>&1; then
	cat build/logs/build.log >&2
	for t in "${TARGETS[@]}"; do
		echo "fuzz $t: FAILED (build)"
	done
	exit 1
fi
if [ ! -d seeds ] && command -v python3 >/dev/null 2>&1; then
	python3 gen_seeds.py >/dev/null
fi

# ---------------------------------------------------------------------
# replay and fuzz
# ---------------------------------------------------------------------
FAILED=0

# save_artifacts TARGET ARTIFACT_DIR: into regressions/, prints the names
save_artifacts() {
	local target=$1 dir=$2 f name saved=()
	mkdir -p "regressions/$target"
	for f in "$dir"/*; do
		[ -f "$f" ] || continue
		name=$(basename "$f")
		cp "$f" "regressions/$target/$name"
		saved+=("regressions/$target/$name")
	done
	echo "${saved[*]}"
}

# the first lines that say what went wrong
summarize_log() {
	grep -m 6 -E '==fuzz==|ERROR: AddressSanitizer|runtime error|ERROR: libFuzzer|SUMMARY:|ERROR: LeakSanitizer' "$1" |
		sed 's/^/    /'
}

for target in "${TARGETS[@]}"; do
	bin="build/$target"
	log="build/logs/$target.log"
	replay_log="build/logs/$target.replay.log"
	if [ ! -x "$bin" ]; then
		echo "fuzz $target: FAILED (no such target)"
		FAILED=1
		continue
	fi
	: >"$log"
	: >"$replay_log"

	# regressions first: each file is run once
	regressions=()
	if [ -d "regressions/$target" ]; then
		while IFS= read -r -d '' f; do
			regressions+=("$f")
		done < <(find "regressions/$target" -maxdepth 1 -type f ! -name '.*' ! -name '*.md' -print0 | sort -z)
	fi
	if [ ${#regressions[@]} -gt 0 ]; then
		if ! "$bin" -timeout="$FUZZ_TIMEOUT" -rss_limit_mb="$FUZZ_RSS_MB" "${regressions[@]}" >>"$replay_log" 2>&1; then
			last=$(grep -oE 'Running: [^ ]+' "$replay_log" | tail -n 1 | sed 's/Running: //')
			echo "fuzz $target: FAILED (regression input test/fuzz/${last:-?} crashes; see test/fuzz/$replay_log)"
			summarize_log "$replay_log"
			FAILED=1
			continue
		fi
	fi

	# then fuzz
	corpus="build/corpus/$target"
	artifacts="build/artifacts/$target"
	[ "${FUZZ_FRESH:-0}" = 1 ] && rm -rf "$corpus"
	rm -rf "$artifacts"
	mkdir -p "$corpus" "$artifacts"
	seed_dirs=()
	[ -d "seeds/$target" ] && seed_dirs+=("seeds/$target")
	rc=0
	if [ "$FUZZ_SECONDS" -gt 0 ]; then
		budget=(-max_total_time="$FUZZ_SECONDS")
	else
		budget=(-runs=0)		# just run the corpus and seeds once
	fi
	"$bin" "${budget[@]}" -timeout="$FUZZ_TIMEOUT" -rss_limit_mb="$FUZZ_RSS_MB" \
		-use_value_profile=1 -print_final_stats=1 -artifact_prefix="$artifacts/" \
		"$corpus" "${seed_dirs[@]}" >>"$log" 2>&1 || rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	if [ $rc -ne 0 ] || ls "$artifacts"/* >/dev/null 2>&1; then
		saved=$(save_artifacts "$target" "$artifacts")
		echo "fuzz $target: FAILED (exit $rc after ${execs:-?} runs; input saved as test/fuzz/${saved:-<none>}; see test/fuzz/$log)"
		summarize_log "$log"
		FAILED=1
	else
		echo "fuzz $target: ok (${execs:-?} runs)"
	fi
	if [ "${FUZZ_STATS:-0}" = 1 ]; then
		grep '^fuzz-stat' "$log" | sed 's/^/    /'
	fi
done

exit $FAILED
