# shellcheck shell=bash
# Shared helpers for demo/run.sh and test/run.sh.  Source it, do not run it:
#
#   source test/setup.sh
#   kinesis_install_packages           # as root: Debian packages we need
#   kinesis_build_copy                 # copy the checkout, build as postgres, install
#   kinesis_start_cluster DATADIR PORT [EXTRA_CONF_LINE...]
#   kinesis_stop_cluster DATADIR
#
# Everything that touches a cluster or the build tree runs as the `postgres`
# operating-system user (initdb refuses root).  The Debian default cluster
# (15/main, port 5432) is never used, started or stopped: our clusters listen
# on a Unix socket in a directory of their own only (listen_addresses = '').
#
# Environment knobs:
#   PG_CONFIG          pg_config to build against (/usr/lib/postgresql/15/bin/pg_config)
#   KINESIS_BUILD_DIR  where the postgres-owned build copy goes (/var/tmp/kinesis-build)
#   KINESIS_SOCKET_DIR Unix socket directory for kinesis_start_cluster
#                      (default: "socket" beside the data directory)

set -euo pipefail

KINESIS_SRC_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PG_CONFIG="${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}"
KINESIS_PGBIN="${KINESIS_PGBIN:-$(dirname "$PG_CONFIG")}"
KINESIS_BUILD_DIR="${KINESIS_BUILD_DIR:-/var/tmp/kinesis-build}"
KINESIS_PG_USER="${KINESIS_PG_USER:-postgres}"
export KINESIS_SRC_DIR PG_CONFIG KINESIS_PGBIN KINESIS_BUILD_DIR KINESIS_PG_USER

KINESIS_PACKAGES=(
	postgresql-15 postgresql-server-dev-15 postgresql-15-cron postgresql-15-pgq3
	libssl-dev libipc-run-perl make gcc python3 python3-psycopg2
	libpq-dev libmicrohttpd-dev libnghttp2-dev libjansson-dev zlib1g-dev
	python3-boto3 awscli python3-cbor2
)

# Connection settings from the caller's environment must not leak into the
# clusters these scripts start; sourcing this file clears them.
unset PGHOST PGHOSTADDR PGPORT PGUSER PGDATABASE PGDATA PGOPTIONS PGSERVICE \
	PGSERVICEFILE PGSSLMODE PGTARGETSESSIONATTRS

kinesis_log() {
	printf '==> %s\n' "$*"
}

kinesis_die() {
	printf 'ERROR: %s\n' "$*" >&2
	return 1
}

# Run a command as the postgres OS user from a directory it may enter (the
# caller's working directory may be a root-only checkout).  The environment
# is kept (runuser without --login), apart from HOME/USER/LOGNAME/SHELL.
kinesis_as_postgres() {
	(cd / && runuser -u "$KINESIS_PG_USER" -- "$@")
}

# Same, but from directory $1.
kinesis_as_postgres_in() {
	local dir="$1"
	shift
	(cd "$dir" && runuser -u "$KINESIS_PG_USER" -- "$@")
}

kinesis_missing_packages() {
	local pkg status
	for pkg in "${KINESIS_PACKAGES[@]}"; do
		status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
		if [ "$status" != "install ok installed" ]; then
			printf '%s\n' "$pkg"
		fi
	done
}

kinesis_install_packages() {
	local missing
	missing="$(kinesis_missing_packages)"
	if [ -z "$missing" ]; then
		kinesis_log "all required Debian packages are installed"
	else
		# shellcheck disable=SC2086  # one package name per word
		kinesis_log "installing missing packages:" $missing
		if [ "$(id -u)" -ne 0 ]; then
			kinesis_die "must run as root to install packages" || return 1
		fi
		# Installing postgresql-15 may create (and try to start) Debian's
		# default cluster 15/main on port 5432.  We leave it alone either
		# way: nothing here needs it, stops it, or uses its port.
		export DEBIAN_FRONTEND=noninteractive
		apt-get update </dev/null || return 1
		# shellcheck disable=SC2086
		apt-get install -y --no-install-recommends \
			-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
			$missing </dev/null || return 1
		missing="$(kinesis_missing_packages)"
		if [ -n "$missing" ]; then
			# shellcheck disable=SC2086
			kinesis_die "packages still missing after install:" $missing || return 1
		fi
	fi
	id "$KINESIS_PG_USER" >/dev/null 2>&1 ||
		kinesis_die "operating-system user '$KINESIS_PG_USER' does not exist" || return 1
	[ -x "$PG_CONFIG" ] || kinesis_die "pg_config not found at $PG_CONFIG" || return 1
}

# Refuse to delete anything that is not clearly ours.
kinesis_safe_rmdir() {
	local dir="$1" marker="$2"
	case "$dir" in
	/ | /root | /home | /tmp | /var | /var/tmp | /usr | /etc | "" | *..*)
		kinesis_die "refusing to remove '$dir'" || return 1 ;;
	/*) ;;
	*) kinesis_die "refusing to remove relative path '$dir'" || return 1 ;;
	esac
	if [ -e "$dir" ]; then
		if [ -n "$(ls -A "$dir" 2>/dev/null)" ] && [ ! -e "$dir/$marker" ]; then
			kinesis_die "'$dir' exists, is not empty and has no $marker; not removing it" || return 1
		fi
		rm -rf -- "$dir" || return 1
	fi
}

# Copy the checkout to a postgres-owned directory, build there as postgres,
# then `make install` as root.  Sets and exports KINESIS_BUILD_DIR.
kinesis_build_copy() {
	local dest="$KINESIS_BUILD_DIR"
	kinesis_log "copying $KINESIS_SRC_DIR to $dest"
	kinesis_safe_rmdir "$dest" .kinesis-build-copy || return 1
	mkdir -p "$dest" || return 1
	touch "$dest/.kinesis-build-copy" || return 1
	# Build products and test output stay behind (see .gitignore).
	tar -C "$KINESIS_SRC_DIR" \
		--exclude=./.git --exclude='*.o' --exclude='*.so' --exclude='*.bc' \
		--exclude=./results --exclude=./output_iso --exclude='./tmp_*' \
		--exclude=./tmp_check --exclude=./log --exclude='./regression.*' \
		--exclude=./test/fuzz/build --exclude=./gateway/kinesis-gateway \
		--exclude=./test/gateway/sdk_js/node_modules \
		-cf - . | tar -C "$dest" -xf - || return 1
	chown -R "$KINESIS_PG_USER:$KINESIS_PG_USER" "$dest" || return 1
	# Removes a stale generated install script (DATA_built) if one came along.
	kinesis_as_postgres_in "$dest" make -s clean PG_CONFIG="$PG_CONFIG" >/dev/null || return 1
	kinesis_log "building as $KINESIS_PG_USER in $dest"
	kinesis_as_postgres_in "$dest" make -j"$(nproc)" PG_CONFIG="$PG_CONFIG" || return 1
	kinesis_log "installing (make install as root)"
	(cd "$dest" && make install PG_CONFIG="$PG_CONFIG") || return 1
	export KINESIS_BUILD_DIR="$dest"
}

kinesis_socket_dir_for() {
	local datadir="${1%/}"
	printf '%s\n' "${KINESIS_SOCKET_DIR:-$(dirname "$datadir")/socket}"
}

kinesis_cluster_running() {
	local datadir="$1"
	[ -f "$datadir/postmaster.pid" ] &&
		kinesis_as_postgres "$KINESIS_PGBIN/pg_ctl" -D "$datadir" status >/dev/null 2>&1
}

kinesis_stop_cluster() {
	local datadir="${1%/}"
	if kinesis_cluster_running "$datadir"; then
		kinesis_log "stopping cluster in $datadir"
		kinesis_as_postgres "$KINESIS_PGBIN/pg_ctl" -D "$datadir" -w -t 60 -m fast stop ||
			kinesis_as_postgres "$KINESIS_PGBIN/pg_ctl" -D "$datadir" -w -m immediate stop ||
			return 1
	fi
}

# kinesis_start_cluster DATADIR PORT [EXTRA_CONF_LINE...]
# Throwaway cluster: whatever was in DATADIR is stopped and removed.  Exports
# KINESIS_PGDATA, KINESIS_PGPORT, KINESIS_PGHOST (the socket directory) and
# KINESIS_PGLOG (server log file DATADIR.log, beside the data directory).
kinesis_start_cluster() {
	local datadir="${1%/}" port="$2" sockdir logfile line
	shift 2
	case "$datadir" in
	/*) ;;
	*) kinesis_die "data directory must be an absolute path: $datadir" || return 1 ;;
	esac
	sockdir="$(kinesis_socket_dir_for "$datadir")"
	logfile="$datadir.log"
	if [ "${#sockdir}" -gt 90 ]; then
		kinesis_die "socket directory path too long for a Unix socket: $sockdir" || return 1
	fi

	kinesis_stop_cluster "$datadir" || return 1
	kinesis_safe_rmdir "$datadir" PG_VERSION || return 1
	mkdir -p "$(dirname "$datadir")" "$datadir" "$sockdir" || return 1
	chown "$KINESIS_PG_USER:$KINESIS_PG_USER" "$datadir" "$sockdir" || return 1
	chmod 0700 "$datadir" || return 1
	chmod 0755 "$sockdir" || return 1
	: >"$logfile" || return 1
	chown "$KINESIS_PG_USER:$KINESIS_PG_USER" "$logfile" || return 1

	kinesis_log "initdb $datadir"
	kinesis_as_postgres "$KINESIS_PGBIN/initdb" -D "$datadir" -U postgres -A trust \
		--encoding=UTF8 --locale=C.UTF-8 >/dev/null || return 1
	{
		printf '\n# added by test/setup.sh (throwaway cluster)\n'
		printf "port = %s\n" "$port"
		printf "listen_addresses = ''\n"
		printf "unix_socket_directories = '%s'\n" "$sockdir"
		printf "shared_preload_libraries = 'pg_cron,kinesis'\n"
		printf "cron.database_name = 'postgres'\n"
		printf "max_prepared_transactions = 5\n"
		for line in "$@"; do
			printf '%s\n' "$line"
		done
	} >>"$datadir/postgresql.conf" || return 1

	kinesis_log "starting cluster: $datadir, port $port, socket $sockdir, log $logfile"
	if ! kinesis_as_postgres "$KINESIS_PGBIN/pg_ctl" -D "$datadir" -l "$logfile" -w -t 120 start; then
		echo "---- server log $logfile ----"
		tail -n 50 "$logfile" || true
		kinesis_die "could not start the cluster in $datadir" || return 1
	fi
	export KINESIS_PGDATA="$datadir" KINESIS_PGPORT="$port"
	export KINESIS_PGHOST="$sockdir" KINESIS_PGLOG="$logfile"
}
