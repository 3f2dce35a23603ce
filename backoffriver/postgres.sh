#!/usr/bin/env bash
# Runs a command against a PostgreSQL server of its own, then removes it:
#
#   bash postgres.sh go test ./...
#
# Installs Debian's postgresql with apt-get if it is missing, makes a
# cluster in a temporary directory, starts it on a Unix socket in that
# directory (no TCP port), creates a database, runs the command with
# BACKOFFRIVER_DATABASE_URL pointing at it, and stops the server and
# removes the directory when the command ends, whatever its outcome (or on
# Ctrl-C). Exits with the command's status. As root, the server runs as the
# user postgres, which the package creates.
set -euo pipefail

if [ $# -eq 0 ]; then
	echo "usage: bash postgres.sh COMMAND [ARG...]" >&2
	exit 2
fi

bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
if [ -z "$(bindir)" ] || [ ! -x "$(bindir)/initdb" ]; then
	echo "postgres.sh: installing Debian's postgresql" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq postgresql >/dev/null
fi
bin=$(bindir)

as_owner() { "$@"; }
if [ "$(id -u)" -eq 0 ]; then
	as_owner() { runuser -u postgres -- "$@"; }
fi

dir=$(mktemp -d /tmp/backoffriver-pg.XXXXXX)
cleanup() {
	status=$?
	if [ -f "$dir/data/postmaster.pid" ]; then
		as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
	fi
	rm -rf "$dir"
	exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM
if [ "$(id -u)" -eq 0 ]; then
	chown postgres "$dir"
fi

as_owner "$bin/initdb" -D "$dir/data" -U postgres -A trust --no-sync >"$dir/initdb.log" 2>&1 ||
	{ cat "$dir/initdb.log" >&2; exit 1; }
# A socket in the private directory and no TCP; durability off, for speed.
as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
	-o "-k $dir -c listen_addresses= -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" >/dev/null ||
	{ cat "$dir/server.log" >&2; exit 1; }
"$bin/psql" -h "$dir" -U postgres -d postgres -qc 'CREATE DATABASE backoffriver' >/dev/null

export BACKOFFRIVER_DATABASE_URL="postgres://postgres@/backoffriver?host=$dir&sslmode=disable"
echo "postgres.sh: PostgreSQL $("$bin/postgres" -V | awk '{print $3}') at $BACKOFFRIVER_DATABASE_URL" >&2
set +e
"$@"
