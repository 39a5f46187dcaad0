#!/usr/bin/env bash
# The kinesis demo; run it as root from the checkout on a fresh Debian 12:
#
#   bash demo/run.sh
#
# Installs the Debian packages it needs, builds and installs the extension,
# starts a throwaway PostgreSQL 15 cluster (data /var/tmp/kinesis-demo/data,
# port 5499, Unix socket only), runs demo/demo.sql against it and leaves the
# cluster running so that you can look around.  Running it again recreates
# the cluster from scratch.  Debian's own cluster (port 5432) is not touched.

set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# shellcheck source=test/setup.sh
source test/setup.sh

DEMO_DATADIR=/var/tmp/kinesis-demo/data
DEMO_PORT=5499

kinesis_install_packages
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

cat <<EOF

==> The demo cluster is still running.
    Connect:  psql -h $KINESIS_PGHOST -p $DEMO_PORT -U postgres
    Stop:     runuser -u postgres -- $KINESIS_PGBIN/pg_ctl -D $DEMO_DATADIR stop
    Log:      $KINESIS_PGLOG
EOF
exit "$rc"
