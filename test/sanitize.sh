#!/usr/bin/env bash
# Runs the regress and isolation suites of the kinesis extension against a
# build instrumented with UndefinedBehaviorSanitizer, and optionally the
# regress suite with the server under valgrind.  Run it as root from the
# checkout:
#
#   bash test/sanitize.sh                 UBSan: regress + isolation
#   VALGRIND=1 bash test/sanitize.sh      ... then valgrind: regress
#   UBSAN=0 VALGRIND=1 bash test/sanitize.sh    valgrind only
#
# The last line is "sanitizers: N reports"; the exit status is 1 if N > 0,
# 2 if a suite could not run at all (no instance, no test reported), else 0.
# Test failures (diffs) are listed but do not by themselves fail the script:
# timing-dependent output differs under valgrind, and the point here is the
# sanitizer reports.
#
# The shared, system-wide install of the extension is never touched
# -------------------------------------------------------------------
# Other test runs on this machine use /usr/lib/postgresql/15/lib/kinesis.so
# and /usr/share/postgresql/15/extension/kinesis*.  This script therefore
# never runs `make install` into them.  Instead, for each build it makes a
# private copy of the PostgreSQL installation (the directories that
# `pg_config --bindir`, `--pkglibdir` and `--sharedir` name, at the same
# paths below a private root) and installs the extension into that copy with
# `make install DESTDIR=<root>`.  PostgreSQL 15 has no
# extension_control_path; but its binaries are relocatable: postgres, initdb
# and pg_config compute $libdir and the share directory relative to where
# their own executable lives.  A server started from <root>/usr/lib/
# postgresql/15/bin/postgres therefore loads <root>/usr/lib/postgresql/15/
# lib/kinesis.so and <root>/usr/share/postgresql/15/extension/kinesis*, and
# nothing else.  The script checks this three ways: the private pg_config
# must report the private pkglibdir; the private server, started once in
# single-user mode with shared_preload_libraries = 'kinesis', must report
# the private PKGLIBDIR in its pg_config view and have mapped the private
# kinesis.so (/proc/self/maps); and the postmaster run under valgrind must
# have mapped it too.  pg_regress gets --bindir of the private tree through
# the private pg_config (make installcheck PG_CONFIG=<root>/.../pg_config),
# so its temporary instances run the private server.  Nothing is installed
# outside KINESIS_SAN_DIR; the only package that may be installed is
# valgrind (with VALGRIND=1), besides those of test/setup.sh.
#
# Layout (KINESIS_SAN_DIR, default /var/tmp/kinesis-san; removed and
# recreated on each run, only if it carries the marker file .kinesis-san):
#
#   ubsan/src        copy of the checkout, built with UBSan (owned by postgres)
#   ubsan/pg         private PostgreSQL tree with the instrumented kinesis.so
#   ubsan/reports.txt  every report, with the test/statement that preceded it
#   valgrind/src     copy of the checkout, normal build
#   valgrind/pg      private PostgreSQL tree with that kinesis.so
#   valgrind/data    the cluster the server runs under valgrind on
#   valgrind/logs    one valgrind log per process (vg.PID.log)
#   valgrind/reports.txt  errors whose stack involves kinesis.so
#
# UBSan
# -----
# gcc, -fsanitize=undefined plus float-cast-overflow (not part of
# "undefined" in gcc), added through COPT (PGXS appends it to CFLAGS and
# LDFLAGS, so the Makefile's own PG_CPPFLAGS and SHLIB_LINK = -lcrypto stay
# as they are; setting SHLIB_LINK on the make command line would replace
# -lcrypto).  The checks are left recoverable (no -fno-sanitize-recover):
# with halt_on_error=0 each report is printed and the backend carries on, so
# one run collects every report instead of crashing the backend at the first
# one (set UBSAN_ABORT=1 to build with -fno-sanitize-recover=all instead; a
# report then terminates the backend and shows up as a crash and a failed
# test).  UBSan reports each source location once per process.
#
# The UBSan runtime reads UBSAN_OPTIONS from /proc/self/environ, and only
# when it first needs them: in a backend, at its first report.  By then the
# postmaster has long overwritten its original argv/environ area (that is
# where it writes its process title), so the runtime would see no options
# at all (no stack traces, whatever UBSAN_OPTIONS says).  The script
# therefore builds a tiny library that defines __ubsan_default_options(),
# returning getenv("UBSAN_OPTIONS") (getenv() still works: PostgreSQL moved
# the environment before overwriting the area), and preloads it into the
# server with LD_PRELOAD.  Reports go to the server's stderr, i.e. the
# postmaster.log of each suite; each is attributed to the last log line
# before it that names a session (the suites run their tests one at a time),
# which gives the test and usually the statement (log_statement = all).
# Server processes that die from a signal count as reports too.
#
# Valgrind (VALGRIND=1)
# ---------------------
# Normal build (no sanitizer).  A cluster is initdb'ed from the private tree,
# gets the settings of test/kinesis.conf (plus jit = off and logging of
# connections), and the postmaster itself is started under
#   valgrind --trace-children=yes --track-origins=yes --error-exitcode=128
#            --suppressions=test/valgrind.supp --leak-check=no
# on port KINESIS_SAN_VG_PORT (default 5494; other scripts use 5496-5499),
# a Unix socket in a directory of its own only.  Backends
# are forked, so they run under valgrind too; a backend with an error exits
# with status 128, which the postmaster treats as a crash.  pg_regress then
# runs the regress tests against it (VALGRIND_TESTS, default all of sql/*.sql,
# e.g. VALGRIND_TESTS="data_plane encryption"; VALGRIND_SUITES="regress
# isolation" runs the isolation specs against it too).  The full regress
# suite takes about 3 minutes under valgrind here, against 8 seconds without;
# tests that depend on timing (control_plane, data_plane, throttling) show
# diffs under valgrind, which is expected.  Every valgrind error whose
# stack has a frame in kinesis.so counts as a report; the others are listed
# separately (they are PostgreSQL's or a library's, add a suppression to
# test/valgrind.supp if they are noise; a kinesis.so frame can also be a
# mere pass-through, such as the ProcessUtility hook in src/utility.c, so
# read the top frames).  Note that the Debian server is not
# built with USE_VALGRIND: memory-context chunks are not marked, so valgrind
# catches uses of uninitialised memory and accesses outside malloc'ed blocks,
# but not reads of pfree'd chunks or overruns inside a memory-context block.
#
# Other knobs: PG_CONFIG (pg_config of the installation to copy, default
# /usr/lib/postgresql/15/bin/pg_config), UBSAN_SUITES (default
# "regress isolation"), UBSAN_EXTRA_COPT (more compiler options for the
# UBSan build; e.g. "-fno-wrapv": PostgreSQL compiles with -fwrapv, which
# makes signed overflow defined and hides it from UBSan; with -fno-wrapv it
# is reported).

set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# shellcheck source=test/setup.sh
source test/setup.sh

SAN_DIR="${KINESIS_SAN_DIR:-/var/tmp/kinesis-san}"
UBSAN="${UBSAN:-1}"
VALGRIND="${VALGRIND:-0}"
VALGRIND_TESTS="${VALGRIND_TESTS:-}"
VALGRIND_SUITES="${VALGRIND_SUITES:-regress}"
VG_PORT="${KINESIS_SAN_VG_PORT:-5494}"
UBSAN_ABORT="${UBSAN_ABORT:-0}"
UBSAN_EXTRA_COPT="${UBSAN_EXTRA_COPT:-}"
UBSAN_SUITES="${UBSAN_SUITES:-regress isolation}"

REPORTS=0
INCOMPLETE=0
NOTES=()

note() {
	NOTES+=("$*")
	kinesis_log "$*"
}

finish() {
	echo
	echo "==================== summary ===================="
	local line
	for line in "${NOTES[@]}"; do
		echo "$line"
	done
	echo "sanitizers: $REPORTS reports"
	if [ "$REPORTS" -gt 0 ]; then
		exit 1
	fi
	if [ "$INCOMPLETE" -ne 0 ]; then
		exit 2
	fi
	exit 0
}

if [ "$(id -u)" -ne 0 ]; then
	kinesis_die "run as root (the build and the clusters run as $KINESIS_PG_USER)"
	exit 2
fi
if [ "$VALGRIND" = 1 ]; then
	KINESIS_PACKAGES+=(valgrind)
fi
kinesis_install_packages || {
	echo "package installation failed"
	exit 2
}

PG_BINDIR="$("$PG_CONFIG" --bindir)"
PG_PKGLIBDIR="$("$PG_CONFIG" --pkglibdir)"
PG_SHAREDIR="$("$PG_CONFIG" --sharedir)"

# ------------------------------------------------------------------ set-up

kinesis_safe_rmdir "$SAN_DIR" .kinesis-san || exit 2
mkdir -p "$SAN_DIR"
touch "$SAN_DIR/.kinesis-san"

# copy_checkout DEST: the checkout without build products or test output
# (the run_* functions are called from "if", where set -e does not apply:
# every step checks its status itself)
copy_checkout() {
	local dest="$1"
	mkdir -p "$dest" || return 1
	tar -C "$KINESIS_SRC_DIR" \
		--exclude=./.git --exclude='*.o' --exclude='*.so' --exclude='*.bc' \
		--exclude=./results --exclude=./output_iso --exclude='./tmp_*' \
		--exclude=./tmp_check --exclude=./log --exclude='./regression.*' \
		--exclude=./test/fuzz/build --exclude=./test/bench/results \
		-cf - . | tar -C "$dest" -xf - || return 1
	chown -R "$KINESIS_PG_USER:$KINESIS_PG_USER" "$dest" || return 1
	# a generated install script that came along would be stale
	kinesis_as_postgres_in "$dest" make -s clean PG_CONFIG="$PG_CONFIG" >/dev/null
}

# private_pg ROOT: copy the PostgreSQL installation to the same paths under
# ROOT, without any kinesis files, and check that it relocates.
private_pg() {
	local root="$1" dir got
	for dir in "$PG_BINDIR" "$PG_PKGLIBDIR" "$PG_SHAREDIR"; do
		mkdir -p "$root$(dirname "$dir")" || return 1
		cp -a "$dir" "$root$dir" || return 1
	done
	rm -rf "$root$PG_PKGLIBDIR"/kinesis.so "$root$PG_PKGLIBDIR"/bitcode/kinesis \
		"$root$PG_PKGLIBDIR"/bitcode/kinesis.index.bc "$root$PG_SHAREDIR"/extension/kinesis[.-]*
	got="$("$root$PG_BINDIR/pg_config" --pkglibdir)"
	if [ "$got" != "$root$PG_PKGLIBDIR" ]; then
		kinesis_die "the copied pg_config reports pkglibdir $got, not $root$PG_PKGLIBDIR: this PostgreSQL build is not relocatable"
		return 1
	fi
}

# build_install SRC ROOT COPT: build in SRC as postgres, install into ROOT
build_install() {
	local src="$1" root="$2" copt="$3"
	kinesis_log "building in $src (COPT='$copt')"
	# with_llvm=no: no JIT bitcode, the private server runs with jit = off
	kinesis_as_postgres_in "$src" make -j"$(nproc)" PG_CONFIG="$PG_CONFIG" \
		with_llvm=no COPT="$copt" >"$src/build.log" 2>&1 || {
		tail -n 50 "$src/build.log"
		return 1
	}
	(cd "$src" && make install PG_CONFIG="$PG_CONFIG" with_llvm=no DESTDIR="$root") \
		>>"$src/build.log" 2>&1 || {
		tail -n 50 "$src/build.log"
		return 1
	}
	[ -f "$root$PG_PKGLIBDIR/kinesis.so" ] || {
		kinesis_die "kinesis.so was not installed into $root"
		return 1
	}
}

# check_private_server ROOT: start the private tree's server once in
# single-user mode (no port, no socket) with shared_preload_libraries =
# 'kinesis' and make sure that it computes its $libdir inside ROOT and has
# mapped ROOT's kinesis.so, not the system-wide one.
check_private_server() {
	local root="$1" d="$1/check" out want
	want="$root$PG_PKGLIBDIR/kinesis.so"
	mkdir -p "$d"
	chown "$KINESIS_PG_USER:" "$d"
	kinesis_as_postgres "$root$PG_BINDIR/initdb" -D "$d/data" -U postgres -A trust \
		--encoding=UTF8 --locale=C.UTF-8 >"$d/initdb.log" 2>&1 || {
		cat "$d/initdb.log"
		return 1
	}
	out="$(printf '%s\n' \
		"SELECT 'pkglibdir:' || setting FROM pg_config WHERE name = 'PKGLIBDIR'" \
		"SELECT 'mapped:' || substring(m from '/\\S*kinesis\\.so') FROM regexp_split_to_table(pg_read_file('/proc/self/maps'), E'\\n') AS m WHERE m LIKE '%kinesis.so%' LIMIT 1" |
		kinesis_as_postgres "$root$PG_BINDIR/postgres" --single -D "$d/data" \
			-c shared_preload_libraries=kinesis -c jit=off postgres 2>&1)" || true
	rm -rf "$d"
	if ! grep -qF "\"pkglibdir:$root$PG_PKGLIBDIR\"" <<<"$out" ||
		! grep -qF "\"mapped:$want\"" <<<"$out"; then
		echo "$out"
		kinesis_die "the private server in $root does not load $want"
		return 1
	fi
	kinesis_log "checked: the server in $root loads $want"
}

# count the pg_regress verdicts in a log: prints "OK BAD"
count_tests() {
	local ok bad
	ok=$(grep -cE '^(test +| +)[^ ]+ +\.\.\. +ok( |$)|^ok [0-9]+ +[-+] ' "$1" || true)
	bad=$(grep -cE '^(test +| +)[^ ]+ +\.\.\. +(FAILED|failed)|^not ok [0-9]+ ' "$1" || true)
	echo "$ok $bad"
}

# ubsan_extract LOG SUITE: print every UBSan report and every server process
# death in a server log as a block, with the session (backend type, PID,
# application name = pg_regress/TEST or isolation/SPEC/SESSION) and the
# statement of the last log line that preceded it.
ubsan_extract() {
	awk -v suite="$2" '
	function ctxof(line,   c) {
		c = line
		sub(/^[^ ]+ [^ ]+ [^ ]+ /, "", c)
		sub(/ (LOG|ERROR|WARNING|NOTICE|INFO|DEBUG[0-9]?|FATAL|PANIC|STATEMENT|DETAIL|HINT|CONTEXT): .*$/, "", c)
		return c
	}
	/^[0-9]+-[0-9]+-[0-9]+ [0-9:.]+ [A-Z]+ / {
		inrep = 0
		cont = 0
		# a process that crashed; background workers exit with 1 when the
		# server shuts down
		if ($0 ~ /was terminated by signal|exited with exit code ([2-9]|[1-9][0-9])/ ||
			($0 ~ /exited with exit code 1/ && $0 !~ /background worker/)) {
			printf "==== %s: %s\n", suite, $0
			printf "     session: %s\n     statement: %s\n\n", ctx, substr(stmt, 1, 300)
			next
		}
		if ($0 ~ / (postmaster|checkpointer|background writer|walwriter|autovacuum launcher|autovacuum worker|logical replication launcher|startup)\[/)
			next
		ctx = ctxof($0)
		if ($0 ~ / (LOG|ERROR): +statement: /) {
			stmt = $0
			sub(/^.* statement: +/, "", stmt)
			cont = 1
		}
		next
	}
	/runtime error:/ {
		printf "==== %s: %s\n", suite, $0
		printf "     session: %s\n     statement: %s\n", ctx, substr(stmt, 1, 300)
		inrep = 1
		frames = 0
		cont = 0
		next
	}
	inrep && /^ +#[0-9]+ / { if (++frames <= 12) print "    " $0; next }
	inrep && /^ *$/ { print ""; inrep = 0; next }
	# continuation lines of a multi-line statement
	cont && /^\t/ { if (length(stmt) < 300) stmt = stmt " " substr($0, 2); next }
	{ cont = 0 }
	' "$1"
}

# ------------------------------------------------------------------- UBSan

run_ubsan() {
	local base="$SAN_DIR/ubsan" copt priv_config suite log rc ok bad n
	local srv_log expected
	copt='-fsanitize=undefined -fsanitize=float-cast-overflow -fno-omit-frame-pointer'
	if [ "$UBSAN_ABORT" = 1 ]; then
		copt="$copt -fno-sanitize-recover=all"
	fi
	copt="$copt $UBSAN_EXTRA_COPT"
	mkdir -p "$base"
	copy_checkout "$base/src" || return 1
	private_pg "$base/pg" || return 1
	build_install "$base/src" "$base/pg" "$copt" || return 1
	check_private_server "$base/pg" || return 1
	if ! ldd "$base/pg$PG_PKGLIBDIR/kinesis.so" | grep -q libubsan; then
		kinesis_die "kinesis.so is not linked with the UBSan runtime"
		return 1
	fi
	# UBSAN_OPTIONS for the runtime, through getenv() (see the top)
	cat >"$base/ubsan_options.c" <<-'EOF'
		#include <stdlib.h>
		const char *__ubsan_default_options(void);
		const char *
		__ubsan_default_options(void)
		{
			const char *o = getenv("UBSAN_OPTIONS");

			return o ? o : "";
		}
	EOF
	gcc -shared -fPIC -O2 -o "$base/ubsan_options.so" "$base/ubsan_options.c" || return 1
	priv_config="$base/pg$PG_BINDIR/pg_config"

	# Extra settings for the suites' temporary instances (after test/kinesis.conf)
	cat >"$base/extra.conf" <<-EOF || return 1
		# test/sanitize.sh: attribute reports to tests and statements
		log_connections = on
		log_statement = 'all'
		jit = off
	EOF
	chown "$KINESIS_PG_USER:" "$base/extra.conf" || return 1

	: >"$base/reports.txt"
	for suite in $UBSAN_SUITES; do
		log="$base/$suite.log"
		rc=0
		case "$suite" in
		regress)
			expected=$(find "$base/src/sql" -name '*.sql' | wc -l)
			srv_log="$base/src/log/postmaster.log"
			set -- ISOLATION= TAP_TESTS= ;;
		isolation)
			expected=$(find "$base/src/test/specs" -name '*.spec' | wc -l)
			srv_log="$base/src/output_iso/log/postmaster.log"
			set -- REGRESS= TAP_TESTS= ;;
		*)
			kinesis_die "unknown suite in UBSAN_SUITES: $suite"
			return 1 ;;
		esac
		echo
		echo "==================== UBSan: $suite ($expected tests) ===================="
		SECONDS=0
		kinesis_as_postgres_in "$base/src" env \
			LD_PRELOAD="$base/ubsan_options.so" \
			UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=0:print_summary=0" \
			make installcheck PG_CONFIG="$priv_config" "$@" \
			EXTRA_REGRESS_OPTS="--temp-config=$base/extra.conf" >"$log" 2>&1 || rc=$?
		grep -E '^(test +| +)[^ ]+ +\.\.\. |tests? (passed|failed)|^not ok|^ok ' "$log" || true
		read -r ok bad <<<"$(count_tests "$log")"
		note "UBSan $suite: $ok passed, $bad failed of $expected (make exit status $rc, ${SECONDS}s)"
		if [ $((ok + bad)) -eq 0 ]; then
			INCOMPLETE=1
			tail -n 30 "$log"
		fi
		if [ -f "$srv_log" ]; then
			ubsan_extract "$srv_log" "$suite" >>"$base/reports.txt"
			cp "$srv_log" "$base/$suite-postmaster.log"
		else
			note "UBSan $suite: no server log at $srv_log"
			INCOMPLETE=1
		fi
	done
	n=$(grep -c '^==== ' "$base/reports.txt" || true)
	REPORTS=$((REPORTS + n))
	echo
	echo "==================== UBSan reports: $n ===================="
	if [ "$n" -gt 0 ]; then
		echo "-- distinct sites: count, site (addresses as ADDR), first session that hit it"
		grep -A1 '^==== ' "$base/reports.txt" | awk '
			/^==== / {
				site = $0
				sub(/^==== [a-z]+: /, "", site)
				gsub(/0x[0-9a-f]+/, "ADDR", site)
				cur = site
				count[site]++
				next
			}
			/^ +session: / && !(cur in first) {
				first[cur] = $0
				sub(/^ +session: /, "", first[cur])
			}
			END { for (s in count) printf "%s\t%d\t%s\n", s, count[s], first[s] }
		' | sort -t "$(printf '\t')" -k1,1V | awk -F '\t' '{ printf "%6d  %s\n        (first: %s)\n", $2, $1, $3 }'
		echo "-- every report with its stack: $base/reports.txt"
		head -c 20000 "$base/reports.txt"
	fi
	note "UBSan: $n reports ($base/reports.txt)"
}

# vg_collect BASE: sort the errors in BASE/logs/vg.PID.log into
# BASE/reports.txt (a frame of kinesis.so or of its sources, in the error's
# stack or in the origin of an uninitialised value) and BASE/other.txt
vg_collect() {
	local base="$1" vglog="$1/logs" srvlog="$1/server.log" n other
	# One block per error: from "==PID== <what>" to the next blank "==PID== ".
	# Each goes to reports.txt (a kinesis.so frame) or other.txt, headed by
	# the session that the process served.
	: >"$base/reports.txt"
	: >"$base/other.txt"
	local f p who
	for f in "$vglog"/vg.*.log; do
		[ -s "$f" ] || continue
		p="${f##*/vg.}"
		p="${p%.log}"
		# "client backend[PID] pg_regress/TEST", from its first log line
		# that carries the application name
		who="$(grep -E "\[$p\] " "$srvlog" | grep -v '\[unknown\]' | head -n 1 |
			sed -E 's/^[^ ]+ [^ ]+ [^ ]+ //; s/ [A-Z]+: .*$//' || true)"
		awk -v who="${who:-[$p]}" -v rep="$base/reports.txt" -v oth="$base/other.txt" '
			function flush() {
				if (blk == "") return
				out = (blk ~ /kinesis\.so|\(src\/[a-z_]+\.c:[0-9]+\)/) ? rep : oth
				printf "==== %s\n%s\n\n", who, blk >> out
				blk = ""
			}
			# an error starts with "==PID== Text" (one space); its frames,
			# notes and the suppression that --gen-suppressions prints follow
			/^==[0-9]+== [^ ]/ { flush(); blk = $0; next }
			blk != "" && !/^==[0-9]+== *$/ { blk = blk "\n" $0 }
			END { flush() }
		' "$f"
	done
	# suppression stanzas that --gen-suppressions printed are part of the blocks
	n=$(grep -c '^==== ' "$base/reports.txt" || true)
	other=$(grep -c '^==== ' "$base/other.txt" || true)
	REPORTS=$((REPORTS + n))
	echo
	echo "==================== valgrind errors in kinesis.so: $n (others: $other) ===================="
	head -c 40000 "$base/reports.txt"
	if [ "$other" -gt 0 ]; then
		echo "-- errors without a kinesis.so frame (PostgreSQL/library noise?): $base/other.txt"
		head -c 10000 "$base/other.txt"
	fi
	if grep -qE 'terminated by signal|exited with exit code' "$srvlog"; then
		echo "-- server processes that died (exit code 128 = valgrind found an error):"
		grep -E 'terminated by signal|exited with exit code' "$srvlog" | head -n 50
	fi
	note "valgrind: $n errors with a kinesis.so frame, $other without ($base/reports.txt, $base/other.txt)"
}

# ---------------------------------------------------------------- valgrind

# vg_stop: stop the server started under valgrind (and only that one: its
# data directory, then its process by the PID we started it with)
VG_JOB="" VG_DATA="" VG_BINDIR=""
vg_stop() {
	local t=0
	[ -n "$VG_JOB" ] || return 0
	if kill -0 "$VG_JOB" 2>/dev/null; then
		kinesis_log "stopping the server under valgrind"
		kinesis_as_postgres "$VG_BINDIR/pg_ctl" -D "$VG_DATA" -w -t 300 -m fast stop ||
			kinesis_as_postgres "$VG_BINDIR/pg_ctl" -D "$VG_DATA" -w -t 60 -m immediate stop ||
			true
	fi
	# valgrind writes its last words after the postmaster has exited
	while kill -0 "$VG_JOB" 2>/dev/null && [ "$t" -lt 120 ]; do
		sleep 1
		t=$((t + 1))
	done
	if kill -0 "$VG_JOB" 2>/dev/null; then
		kill "$VG_JOB" 2>/dev/null || true
	fi
	VG_JOB=""
}
trap vg_stop EXIT

run_valgrind() {
	local base="$SAN_DIR/valgrind" data sock vglog srvlog pid job tests rc ok bad
	local -a vg_cmd
	mkdir -p "$base"
	copy_checkout "$base/src" || return 1
	private_pg "$base/pg" || return 1
	build_install "$base/src" "$base/pg" "" || return 1
	check_private_server "$base/pg" || return 1
	local bindir="$base/pg$PG_BINDIR"
	data="$base/data"
	sock="$base/socket"
	vglog="$base/logs"
	srvlog="$base/server.log"
	mkdir -p "$sock" "$vglog" || return 1
	: >"$srvlog"
	chown -R "$KINESIS_PG_USER:" "$base/logs" "$sock" "$srvlog" || return 1
	chown "$KINESIS_PG_USER:" "$base" || return 1

	kinesis_log "initdb $data"
	kinesis_as_postgres "$bindir/initdb" -D "$data" -U postgres -A trust \
		--encoding=UTF8 --locale=C.UTF-8 >"$base/initdb.log" 2>&1 || {
		cat "$base/initdb.log"
		return 1
	}
	{
		printf '\n# test/sanitize.sh (server under valgrind)\n'
		printf 'port = %s\n' "$VG_PORT"
		printf "listen_addresses = ''\n"
		printf "unix_socket_directories = '%s'\n" "$sock"
		printf "log_line_prefix = '%%m %%b[%%p] %%q%%a '\n"
		printf 'log_connections = on\n'
		printf 'jit = off\n'
		printf '# valgrind is slow: no time-outs on start-up or checkpoints\n'
		printf "authentication_timeout = '10min'\n"
		printf "checkpoint_timeout = '1h'\n"
		printf '\n# test/kinesis.conf\n'
		cat "$KINESIS_SRC_DIR/test/kinesis.conf"
	} >>"$data/postgresql.conf" || return 1

	vg_cmd=(valgrind --quiet --trace-children=yes --track-origins=yes
		--error-exitcode=128 --leak-check=no --num-callers=40
		--suppressions="$KINESIS_SRC_DIR/test/valgrind.supp"
		--gen-suppressions=all --fullpath-after="$base/src/"
		--log-file="$vglog/vg.%p.log")
	kinesis_log "starting postgres under valgrind: port $VG_PORT, socket $sock"
	# $! is the runuser wrapper; it lives as long as the postmaster does
	kinesis_as_postgres "${vg_cmd[@]}" "$bindir/postgres" -D "$data" \
		>>"$srvlog" 2>&1 </dev/null &
	job=$!
	VG_JOB="$job" VG_DATA="$data" VG_BINDIR="$bindir"
	local waited=0
	until kinesis_as_postgres "$bindir/pg_isready" -q -h "$sock" -p "$VG_PORT"; do
		if ! kill -0 "$job" 2>/dev/null || [ "$waited" -ge 600 ]; then
			tail -n 50 "$srvlog"
			kinesis_die "the server under valgrind did not start"
			vg_stop
			vg_collect "$base"
			return 1
		fi
		sleep 2
		waited=$((waited + 2))
	done
	pid="$(head -n 1 "$data/postmaster.pid")"
	kinesis_log "server up after ${waited}s, postmaster PID $pid"
	# it must be the private tree's kinesis.so
	if [ "$(grep -o '/[^ ]*kinesis\.so' "/proc/$pid/maps" | sort -u)" != "$base/pg$PG_PKGLIBDIR/kinesis.so" ]; then
		grep kinesis "/proc/$pid/maps" || true
		kinesis_die "the server under valgrind did not load $base/pg$PG_PKGLIBDIR/kinesis.so"
		vg_stop
		return 1
	fi

	local suite
	for suite in $VALGRIND_SUITES; do
		case "$suite" in
		regress)
			if [ -n "$VALGRIND_TESTS" ]; then
				tests="$VALGRIND_TESTS"
			else
				tests="$(find "$base/src/sql" -maxdepth 1 -name '*.sql' -printf '%f\n' |
					sort | sed 's|\.sql$||' | tr '\n' ' ')"
			fi
			set -- "$base/pg$PG_PKGLIBDIR/pgxs/src/test/regress/pg_regress" \
				--inputdir=. --outputdir=valgrind_out ;;
		isolation)
			tests="$(find "$base/src/test/specs" -maxdepth 1 -name '*.spec' -printf '%f\n' |
				sort | sed 's|\.spec$||' | tr '\n' ' ')"
			set -- "$base/pg$PG_PKGLIBDIR/pgxs/src/test/isolation/pg_isolation_regress" \
				--inputdir=test --outputdir=valgrind_out_iso ;;
		*)
			kinesis_die "unknown suite in VALGRIND_SUITES: $suite"
			INCOMPLETE=1
			continue ;;
		esac
		echo
		echo "==================== valgrind: $suite ($tests) ===================="
		SECONDS=0
		rc=0
		# shellcheck disable=SC2086  # one test name per word
		kinesis_as_postgres_in "$base/src" "$@" --bindir="$bindir" \
			--host="$sock" --port="$VG_PORT" --dbname=contrib_regression \
			--load-extension=kinesis $tests >"$base/$suite.log" 2>&1 || rc=$?
		grep -E '^(test +| +)[^ ]+ +\.\.\. |tests? (passed|failed)' "$base/$suite.log" || true
		read -r ok bad <<<"$(count_tests "$base/$suite.log")"
		note "valgrind $suite: $ok passed, $bad failed (exit status $rc, ${SECONDS}s)"
		if [ $((ok + bad)) -eq 0 ]; then
			INCOMPLETE=1
			tail -n 30 "$base/$suite.log"
		fi
	done

	vg_stop
	vg_collect "$base"
}

if [ "$UBSAN" = 1 ]; then
	if ! run_ubsan; then
		note "UBSan run could not complete"
		INCOMPLETE=1
	fi
fi
if [ "$VALGRIND" = 1 ]; then
	if ! run_valgrind; then
		note "valgrind run could not complete"
		INCOMPLETE=1
	fi
fi
finish
