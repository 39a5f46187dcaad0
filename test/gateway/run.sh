#!/usr/bin/env bash
# Drives kinesis-gateway with the real clients: boto3, the AWS CLI, the AWS SDK for
# JavaScript v3, hand-built CBOR requests (as the Java SDK sends them) and a load test.
#
#   KGW_BIN=gateway/kinesis-gateway PGHOST=/tmp PGPORT=5433 PGUSER=postgres PGDATABASE=postgres \
#       bash test/gateway/run.sh [suite ...]
#
# Needs: a running cluster where `CREATE EXTENSION kinesis CASCADE` is done, reached with
# PGHOST/PGPORT/PGUSER (a superuser)/PGDATABASE; the packages of packages.sh
# (kgw_install_packages); run as root or postgres.  HOME need not be writable.
#
# What it does:
#   1. creates the login-less roles gw_admin (kinesis_admin), gw_producer
#      (kinesis_producer), gw_consumer (kinesis_consumer), gw_nobody (nothing) and
#      gw_scoped (kinesis:PutRecord/PutRecords on the stream kgw_scoped_stream only),
#      and an access key for each (deleted again at the end);
#   2. starts the gateway twice: --auth sigv4 on one free port (flags), --auth none on
#      another (the same settings through --config);
#   3. runs the suites (all, or those named: boto3 awscli sdk_js sdk_js_noauth cbor load;
#      sdk_js_noauth is the JavaScript suite again against the --auth none gateway, which
#      tells HTTP/2 transport problems apart from SigV4 ones), each
#      printing its own counts, with KGW_ENDPOINT, KGW_ENDPOINT_NOAUTH, KGW_REGION,
#      KGW_ACCOUNT, KGW_<ROLE>_KEY/SECRET, KGW_<ROLE>_ROLE, KGW_SCOPED_STREAM, KGW_PID;
#   4. stops both gateways with SIGTERM and checks that each exits 0 (the 'gateway'
#      suite, with the pid and request-log checks);
#   5. prints a summary per suite and ends with "N passed, N failed"; exits non-zero if
#      anything failed or nothing ran.
#
# Knobs: KGW_POOL_SIZE (8), KGW_SUITE_TIMEOUT (seconds per suite, 900), KGW_KEEP_TMP=1
# (keep the logs), and the load test's KGW_LOAD_* (see load.py).

set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
PY=/usr/bin/python3
[ -x "$PY" ] || PY="$(command -v python3)"

if [ -z "${KGW_BIN:-}" ]; then
	if [ -x "$REPO/gateway/kinesis-gateway" ]; then
		KGW_BIN="$REPO/gateway/kinesis-gateway"
	else
		KGW_BIN="$(command -v kinesis-gateway || true)"
	fi
fi
REGION="${KGW_REGION:-us-east-1}"
POOL="${KGW_POOL_SIZE:-8}"
SUITE_TIMEOUT="${KGW_SUITE_TIMEOUT:-900}"
SCOPED_STREAM=kgw_scoped_stream
ALL_SUITES=(boto3 awscli sdk_js sdk_js_noauth cbor load)
if [ $# -gt 0 ]; then SUITES=("$@"); else SUITES=("${ALL_SUITES[@]}"); fi

TMP="$(mktemp -d /tmp/kgw-gateway-test.XXXXXX)"
chmod 755 "$TMP"
# no writable HOME is assumed: everything a client wants to write goes here
export HOME="$TMP/home" XDG_CONFIG_HOME="$TMP/home/.config" XDG_CACHE_HOME="$TMP/home/.cache"
mkdir -p "$HOME"
export npm_config_cache="$TMP/npm-cache" npm_config_update_notifier=false npm_config_fund=false \
	npm_config_audit=false
export AWS_CONFIG_FILE="$TMP/aws-config" AWS_SHARED_CREDENTIALS_FILE="$TMP/aws-credentials"
: >"$AWS_CONFIG_FILE"
: >"$AWS_SHARED_CREDENTIALS_FILE"
export AWS_PAGER="" AWS_EC2_METADATA_DISABLED=true AWS_SDK_LOAD_CONFIG=0
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN \
	AWS_ENDPOINT_URL AWS_DEFAULT_REGION AWS_REGION
export PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1

PASSED=0
FAILED=0
SUMMARY=()
GW_PIDS=()
KEYS=()

record() { # record SUITE PASSED FAILED [note]
	PASSED=$((PASSED + $2))
	FAILED=$((FAILED + $3))
	SUMMARY+=("$(printf '%-14s %4d passed, %4d failed%s' "$1" "$2" "$3" "${4:+  ($4)}")")
}

psql_q() { psql -X -q -v ON_ERROR_STOP=1 -At "$@"; }

cleanup() {
	local p
	for p in "${GW_PIDS[@]}"; do
		if kill -0 "$p" 2>/dev/null; then kill -TERM "$p" 2>/dev/null; fi
	done
	sleep 0.2
	for p in "${GW_PIDS[@]}"; do
		if kill -0 "$p" 2>/dev/null; then kill -KILL "$p" 2>/dev/null; fi
	done
	for k in "${KEYS[@]}"; do
		psql_q -c "SELECT kinesis.delete_access_key('$k')" >/dev/null 2>&1
	done
	if [ "${KGW_KEEP_TMP:-}" = 1 ]; then
		echo "logs kept in $TMP"
	else
		rm -rf "$TMP"
	fi
}
trap cleanup EXIT

finish() {
	echo
	echo "==================== gateway client suites ===================="
	local line
	for line in "${SUMMARY[@]}"; do echo "$line"; done
	echo
	if [ $((PASSED + FAILED)) -eq 0 ]; then echo "no test ran"; fi
	echo "$PASSED passed, $FAILED failed"
	if [ "$FAILED" -ne 0 ] || [ $((PASSED + FAILED)) -eq 0 ]; then exit 1; fi
	exit 0
}

dump() { # dump FILE...: the end of each file, so that a log shows why
	local f
	for f in "$@"; do
		[ -s "$f" ] || continue
		echo "---------------- $f (last 60 lines) ----------------"
		tail -n 60 "$f"
	done
}

# ------------------------------------------------------------------ preconditions
if [ -z "$KGW_BIN" ] || [ ! -x "$KGW_BIN" ]; then
	echo "KGW_BIN (the kinesis-gateway binary) not found: '${KGW_BIN}'"
	record setup 0 1 "no gateway binary"
	finish
fi
for v in PGHOST PGPORT PGUSER PGDATABASE; do
	if [ -z "${!v:-}" ]; then
		echo "$v is not set"
		record setup 0 1 "$v not set"
		finish
	fi
done
if ! psql_q -c "SELECT 1 FROM pg_extension WHERE extname = 'kinesis'" | grep -q 1; then
	echo "the kinesis extension is not installed in $PGDATABASE (or the cluster is unreachable)"
	record setup 0 1 "no extension"
	finish
fi
DSN="host=$PGHOST port=$PGPORT user=$PGUSER dbname=$PGDATABASE"
[ -n "${PGPASSWORD:-}" ] && DSN="$DSN password=$PGPASSWORD"
ACCOUNT="$(psql_q -c "SELECT coalesce(current_setting('kinesis.account_id', true), '000000000000')")"
[ -n "$ACCOUNT" ] || ACCOUNT=000000000000

# ------------------------------------------------------------------ roles and keys
if ! psql_q >"$TMP/roles.log" 2>&1 <<EOF
DO \$\$
DECLARE r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['gw_admin', 'gw_producer', 'gw_consumer', 'gw_nobody', 'gw_scoped'] LOOP
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) THEN
            EXECUTE format('CREATE ROLE %I NOLOGIN', r);
        END IF;
    END LOOP;
END
\$\$;
GRANT kinesis_admin TO gw_admin;
GRANT kinesis_producer TO gw_producer;
GRANT kinesis_consumer TO gw_consumer;
SELECT kinesis.revoke_stream_access('gw_scoped', '$SCOPED_STREAM');
SELECT kinesis.grant_stream_access('gw_scoped', '$SCOPED_STREAM', ARRAY['kinesis:PutRecord', 'kinesis:PutRecords']);
EOF
then
	cat "$TMP/roles.log"
	record setup 0 1 "roles"
	finish
fi
for role in admin producer consumer nobody scoped; do
	line="$(psql_q -F ' ' -c "SELECT access_key_id, secret_access_key FROM kinesis.create_access_key('gw_$role')" 2>&1)"
	key="${line%% *}"
	secret="${line#* }"
	if [ -z "$key" ] || [ -z "$secret" ] || [ "$key" = "$line" ]; then
		echo "kinesis.create_access_key('gw_$role') failed: $line"
		record setup 0 1 "access keys"
		finish
	fi
	KEYS+=("$key")
	up="$(echo "$role" | tr a-z A-Z)"
	export "KGW_${up}_KEY=$key" "KGW_${up}_SECRET=$secret" "KGW_${up}_ROLE=gw_$role"
done
export KGW_SCOPED_STREAM="$SCOPED_STREAM" KGW_REGION="$REGION" KGW_ACCOUNT="$ACCOUNT" KGW_BACKEND=gateway

# ------------------------------------------------------------------ gateways
free_port() {
	"$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
wait_listening() { # wait_listening PID PORT: up to 20 s
	local i
	for i in $(seq 1 200); do
		kill -0 "$1" 2>/dev/null || return 1
		if (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	return 1
}

G_PASS=0
G_FAIL=0
gcheck() { # gcheck NAME CONDITION-STATUS
	if [ "$2" -eq 0 ]; then
		G_PASS=$((G_PASS + 1)); echo "ok - gateway: $1"
	else
		G_FAIL=$((G_FAIL + 1)); echo "not ok - gateway: $1"
	fi
}

PORT1="$(free_port)"
PORT2="$(free_port)"
while [ "$PORT2" = "$PORT1" ]; do PORT2="$(free_port)"; done

"$KGW_BIN" --listen "127.0.0.1:$PORT1" --dsn "$DSN" --pool-size "$POOL" --auth sigv4 \
	--region "$REGION" --log "$TMP/gw-sigv4.log" --pid-file "$TMP/gw-sigv4.pid" \
	>"$TMP/gw-sigv4.out" 2>&1 &
GW1=$!
GW_PIDS+=("$GW1")

cat >"$TMP/gw-noauth.conf" <<EOF
# kinesis-gateway settings, as name = value lines
listen = 127.0.0.1:$PORT2
dsn = $DSN
pool-size = 4
auth = none
region = $REGION
log = $TMP/gw-noauth.log
pid-file = $TMP/gw-noauth.pid
EOF
"$KGW_BIN" --config "$TMP/gw-noauth.conf" >"$TMP/gw-noauth.out" 2>&1 &
GW2=$!
GW_PIDS+=("$GW2")

wait_listening "$GW1" "$PORT1"; s1=$?
wait_listening "$GW2" "$PORT2"; s2=$?
gcheck "sigv4 gateway (flags) listens on 127.0.0.1:$PORT1" $s1
gcheck "auth-none gateway (--config) listens on 127.0.0.1:$PORT2" $s2
if [ $s1 -ne 0 ]; then
	dump "$TMP/gw-sigv4.out" "$TMP/gw-noauth.out"
	record gateway "$G_PASS" $((G_FAIL + 1)) "did not start"
	finish
fi
[ "$(cat "$TMP/gw-sigv4.pid" 2>/dev/null)" = "$GW1" ]; gcheck "--pid-file holds the pid" $?
[ "$(cat "$TMP/gw-noauth.pid" 2>/dev/null)" = "$GW2" ]; gcheck "pid-file from --config holds the pid" $?

export KGW_ENDPOINT="http://127.0.0.1:$PORT1"
export KGW_ENDPOINT_NOAUTH="http://127.0.0.1:$PORT2"
export KGW_PID="$GW1"
[ $s2 -eq 0 ] || export KGW_ENDPOINT_NOAUTH=""
echo "gateway $KGW_BIN: sigv4 $KGW_ENDPOINT (pid $GW1), none $KGW_ENDPOINT_NOAUTH (pid $GW2)"

# ------------------------------------------------------------------ suites
# parse_counts LOG: "P F" from a closing "N passed, N failed" line or node's TAP counts
parse_counts() {
	local line p f
	line="$(grep -E '^([A-Za-z]+: )?[0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1)"
	if [ -n "$line" ]; then
		p="$(echo "$line" | sed -E 's/^([A-Za-z]+: )?([0-9]+) passed, ([0-9]+) failed.*/\2/')"
		f="$(echo "$line" | sed -E 's/^([A-Za-z]+: )?([0-9]+) passed, ([0-9]+) failed.*/\3/')"
		echo "$p $f"
		return 0
	fi
	if grep -qE '^# pass [0-9]+' "$1"; then
		p="$(grep -E '^# pass [0-9]+' "$1" | tail -n 1 | awk '{print $3}')"
		f="$(grep -E '^# fail [0-9]+' "$1" | tail -n 1 | awk '{print $3}')"
		local c
		c="$(grep -E '^# cancelled [0-9]+' "$1" | tail -n 1 | awk '{print $3}')"
		echo "$p $(( ${f:-0} + ${c:-0} ))"
		return 0
	fi
	return 1
}

prepare_js() { # sets JS_DIR to a directory with node_modules, or returns 1
	JS_DIR="$HERE/sdk_js"
	if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
		echo "node or npm not found"
		return 1
	fi
	if [ -d "$JS_DIR/node_modules/@aws-sdk/client-kinesis" ]; then return 0; fi
	if [ ! -w "$JS_DIR" ]; then
		mkdir -p "$TMP/sdk_js"
		cp "$JS_DIR/package.json" "$JS_DIR/package-lock.json" "$JS_DIR/test.mjs" "$TMP/sdk_js/"
		JS_DIR="$TMP/sdk_js"
	fi
	echo "npm ci in $JS_DIR"
	(cd "$JS_DIR" && if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi) \
		>"$TMP/npm.log" 2>&1 || { cat "$TMP/npm.log"; return 1; }
}

run_suite() { # run_suite NAME
	local name="$1" log="$TMP/suite-$1.log" rc counts
	echo
	echo "==================== $name ===================="
	case "$name" in
	boto3) (cd "$HERE" && timeout -k 10 "$SUITE_TIMEOUT" "$PY" test_boto3.py) >"$log" 2>&1 ;;
	cbor) (cd "$HERE" && timeout -k 10 "$SUITE_TIMEOUT" "$PY" test_cbor.py) >"$log" 2>&1 ;;
	load) (cd "$HERE" && timeout -k 10 "$SUITE_TIMEOUT" "$PY" load.py) >"$log" 2>&1 ;;
	awscli) (cd "$HERE" && timeout -k 10 "$SUITE_TIMEOUT" bash test_awscli.sh) >"$log" 2>&1 ;;
	sdk_js | sdk_js_noauth)
		if ! prepare_js >"$log" 2>&1; then
			cat "$log"
			record "$name" 0 1 "npm ci failed"
			return
		fi
		if [ "$name" = sdk_js_noauth ]; then
			if [ -z "$KGW_ENDPOINT_NOAUTH" ]; then
				record "$name" 0 1 "no auth-none gateway"
				return
			fi
			(cd "$JS_DIR" && KGW_ENDPOINT="$KGW_ENDPOINT_NOAUTH" KGW_JS_NOAUTH=1 NODE_NO_WARNINGS=1 \
				timeout -k 10 "$SUITE_TIMEOUT" node --test --test-reporter=tap test.mjs) >>"$log" 2>&1
		else
			(cd "$JS_DIR" && NODE_NO_WARNINGS=1 timeout -k 10 "$SUITE_TIMEOUT" node --test --test-reporter=tap test.mjs) >>"$log" 2>&1
		fi
		;;
	*)
		echo "unknown suite $name"
		record "$name" 0 1 "unknown suite"
		return
		;;
	esac
	rc=$?
	cat "$log"
	if counts="$(parse_counts "$log")"; then
		set -- $counts
		if [ "$rc" -ne 0 ] && [ "$2" -eq 0 ]; then
			record "$name" "$1" 1 "exit status $rc"
		else
			record "$name" "$1" "$2" "$([ "$rc" -eq 124 ] && echo timed out)"
		fi
	else
		record "$name" 0 1 "no counts in its output, exit status $rc"
	fi
}

for s in "${SUITES[@]}"; do
	run_suite "$s"
done

# ------------------------------------------------------------------ the gateways' end
echo
echo "==================== gateway ===================="
kill -0 "$GW1" 2>/dev/null; gcheck "sigv4 gateway still running after the suites" $?
[ "$(wc -l <"$TMP/gw-sigv4.log" 2>/dev/null || echo 0)" -gt 0 ]; gcheck "--log has one line per request" $?
stop_gateway() { # stop_gateway PID LABEL
	local i rc
	if ! kill -0 "$1" 2>/dev/null; then
		wait "$1"; rc=$?
		echo "# $2 had already exited with $rc"
		gcheck "$2 exits 0 on SIGTERM" 1
		return
	fi
	kill -TERM "$1"
	for i in $(seq 1 150); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$1" 2>/dev/null; then
		echo "# $2 still running 15 s after SIGTERM"
		kill -KILL "$1" 2>/dev/null
		wait "$1" 2>/dev/null
		gcheck "$2 exits 0 on SIGTERM" 1
		return
	fi
	wait "$1"; rc=$?
	[ "$rc" -eq 0 ] || echo "# $2 exited with $rc"
	gcheck "$2 exits 0 on SIGTERM" "$rc"
}
stop_gateway "$GW1" "sigv4 gateway"
if [ $s2 -eq 0 ]; then stop_gateway "$GW2" "auth-none gateway"; fi
record gateway "$G_PASS" "$G_FAIL"
if [ "$FAILED" -ne 0 ]; then dump "$TMP/gw-sigv4.out" "$TMP/gw-noauth.out"; fi
finish
