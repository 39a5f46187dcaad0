#!/usr/bin/env bash
# The kinesis demo; run it as root from the checkout on a fresh Debian 12:
#
#   bash demo/run.sh
#
# Installs the Debian packages it needs, builds and installs the extension,
# starts a throwaway PostgreSQL 15 cluster (data /var/tmp/kinesis-demo/data,
# port 5499, Unix socket only), runs demo/demo.sql against it, then starts
# the wire gateway (kinesis-gateway on 127.0.0.1:4567) with an access key
# and reads the same stream with an unchanged boto3 client
# (demo/gateway_demo.py).  The cluster and the gateway keep running so that
# you can look around.  Running it again recreates both from scratch.
# Debian's own cluster (port 5432) is not touched.

set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# shellcheck source=test/setup.sh
source test/setup.sh

DEMO_DATADIR=/var/tmp/kinesis-demo/data
DEMO_PORT=5499
GATEWAY_ADDR="${KINESIS_DEMO_GATEWAY:-127.0.0.1:4567}"
GATEWAY_PID=/var/tmp/kinesis-demo/gateway.pid
GATEWAY_LOG=/var/tmp/kinesis-demo/gateway.log

kinesis_install_packages
# a gateway of an earlier run goes first
if [ -f "$GATEWAY_PID" ]; then
	kill "$(cat "$GATEWAY_PID")" 2>/dev/null || true
	sleep 1
fi
kinesis_build_copy
kinesis_start_cluster "$DEMO_DATADIR" "$DEMO_PORT"

echo
echo "==> running demo/demo.sql"
# The build copy is readable by postgres even when the checkout is not.
rc=0
kinesis_as_postgres "$KINESIS_PGBIN/psql" -X -v ON_ERROR_STOP=1 \
	-h "$KINESIS_PGHOST" -p "$DEMO_PORT" -U postgres -d postgres \
	-f "$KINESIS_BUILD_DIR/demo/demo.sql" || rc=$?
if [ "$rc" -ne 0 ]; then
	echo
	echo "==> demo/demo.sql FAILED (psql exit status $rc); last lines of the server log:"
	tail -n 40 "$KINESIS_PGLOG" || true
fi

if [ "$rc" -eq 0 ]; then
	echo
	echo "==> starting the wire gateway on $GATEWAY_ADDR"
	keys=$(kinesis_as_postgres "$KINESIS_PGBIN/psql" -X -At -F ' ' -h "$KINESIS_PGHOST" -p "$DEMO_PORT" \
		-U postgres -d postgres -c "SELECT * FROM kinesis.create_access_key('postgres')")
	read -r KEY_ID SECRET <<<"$keys"
	rm -f "$GATEWAY_PID"
	touch "$GATEWAY_LOG" && chown "$KINESIS_PG_USER" "$GATEWAY_LOG" "$(dirname "$GATEWAY_PID")"
	# in a session of its own, so that it outlives this script's terminal
	(cd / && exec setsid runuser -u "$KINESIS_PG_USER" -- "$KINESIS_PGBIN/kinesis-gateway" \
		--listen "$GATEWAY_ADDR" \
		--dsn "host=$KINESIS_PGHOST port=$DEMO_PORT dbname=postgres user=postgres" \
		--log "$GATEWAY_LOG" --pid-file "$GATEWAY_PID") </dev/null >/dev/null 2>&1 &
	for _ in $(seq 50); do
		[ -s "$GATEWAY_PID" ] && break
		sleep 0.1
	done
	if [ ! -s "$GATEWAY_PID" ]; then
		echo "==> the gateway did not start; its log:"
		cat "$GATEWAY_LOG"
		rc=1
	else
		echo "==> reading the stream with boto3 through the gateway (demo/gateway_demo.py)"
		/usr/bin/python3 "$KINESIS_BUILD_DIR/demo/gateway_demo.py" "http://$GATEWAY_ADDR" "$KEY_ID" "$SECRET" || rc=$?
	fi
fi

cat <<EOF

==> The demo cluster and the gateway are still running.
    Connect:  psql -h $KINESIS_PGHOST -p $DEMO_PORT -U postgres
    Gateway:  AWS_ACCESS_KEY_ID=${KEY_ID:-} AWS_SECRET_ACCESS_KEY=${SECRET:-} \\
              aws kinesis list-streams --endpoint-url http://$GATEWAY_ADDR --region us-east-1
              (log: $GATEWAY_LOG)
    Stop:     kill \$(cat $GATEWAY_PID); runuser -u postgres -- $KINESIS_PGBIN/pg_ctl -D $DEMO_DATADIR stop
    Log:      $KINESIS_PGLOG
EOF
exit "$rc"
