#!/usr/bin/env bash
# Start a private PostgreSQL cluster for Beatplan on 127.0.0.1 and print its SQLAlchemy URL.
#
# Idempotent: installs Debian's `postgresql` when missing (sudo when not root), creates the
# cluster `beatplan` (port $BEATPLAN_PG_PORT, default 5439, listening on 127.0.0.1 only) with the
# Debian cluster tools (which run the server as the `postgres` user, so this works as root),
# starts it, and creates the role `beatplan` (password `beatplan`) and the database
# $BEATPLAN_PG_DB (default `beatplan_test`). Only the URL goes to stdout; logs go to stderr.
set -euo pipefail
port="${BEATPLAN_PG_PORT:-5439}"
db="${BEATPLAN_PG_DB:-beatplan_test}"
cluster=beatplan
log() { echo "postgres.sh: $*" >&2; }
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi

if ! command -v pg_createcluster >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  log "installing Debian's postgresql package"
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends postgresql >&2
fi
version="$(ls /usr/lib/postgresql | sort -V | tail -n 1)"

if ! pg_lsclusters -h 2>/dev/null | awk '{print $1, $2}' | grep -qx "$version $cluster"; then
  log "creating cluster $version/$cluster on 127.0.0.1:$port"
  $sudo pg_createcluster "$version" "$cluster" -p "$port" \
    -- --auth-local=peer --auth-host=scram-sha-256 >&2
fi
conf="/etc/postgresql/$version/$cluster/conf.d/beatplan.conf"
if [ ! -f "$conf" ]; then
  echo "listen_addresses = '127.0.0.1'" | $sudo tee "$conf" >/dev/null
fi
port="$(pg_lsclusters -h | awk -v v="$version" -v c="$cluster" '$1 == v && $2 == c {print $3}')"
status="$(pg_lsclusters -h | awk -v v="$version" -v c="$cluster" '$1 == v && $2 == c {print $4}')"
if [ "$status" != "online" ]; then
  log "starting cluster $version/$cluster"
  $sudo pg_ctlcluster "$version" "$cluster" start >&2
fi

as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi
}
psql_pg() { (cd / && as_postgres psql -X -q -v ON_ERROR_STOP=1 -p "$port" "$@"); }
for _ in $(seq 1 30); do
  if psql_pg -tAc "SELECT 1" >/dev/null 2>&1; then break; fi
  sleep 0.5
done
if [ "$(psql_pg -tAc "SELECT 1 FROM pg_roles WHERE rolname = 'beatplan'")" != "1" ]; then
  log "creating role beatplan"
  psql_pg -c "CREATE ROLE beatplan LOGIN PASSWORD 'beatplan'" >&2
fi
if [ "$(psql_pg -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'")" != "1" ]; then
  log "creating database $db"
  psql_pg -c "CREATE DATABASE \"$db\" OWNER beatplan" >&2
fi
echo "postgresql+psycopg://beatplan:beatplan@127.0.0.1:${port}/${db}"
