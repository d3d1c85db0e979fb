#!/usr/bin/env bash
# Local PostgreSQL for development and tests (Debian's packaging: pg_ctlcluster & co).
#   postgres.sh up    install if missing; cluster <version>/main on 127.0.0.1:5432, started;
#                     role `automation` (password `automation`, CREATEDB) and database
#                     `automation` owned by it -- the default DATABASE_URL.
#   postgres.sh down  stop the cluster.
set -euo pipefail
# shellcheck source=infra/lib.sh
. "$(dirname "$0")/lib.sh"

PG_CLUSTER=main
PG_HOST=127.0.0.1
PG_PORT=5432

# Debian 12 ships 15; if a machine has several servers the newest one is used, unless
# PG_VERSION says otherwise.
installed_version() {
  # Only versions with a server: the client package alone also fills /usr/lib/postgresql/<v>.
  # shellcheck disable=SC2012
  ls -d /usr/lib/postgresql/*/bin/postgres 2>/dev/null | cut -d/ -f5 | sort -V | tail -n1
}

is_running() { as_root pg_ctlcluster "$PG_VERSION" "$PG_CLUSTER" status >/dev/null 2>&1; }

# Our settings go in a drop-in file of the cluster's conf.d/ (read after postgresql.conf),
# leaving the packaged postgresql.conf untouched. Returns 0 if the file changed.
write_conf() {
  local file="/etc/postgresql/$PG_VERSION/$PG_CLUSTER/conf.d/automation.conf" want
  want="# Written by infra/postgres.sh. Loopback only: a development database with a known password.
listen_addresses = '$PG_HOST'
port = $PG_PORT
# Each end-to-end test stack holds about two dozen connections, and a test session runs
# several stacks at once: the default of 100 is too tight.
max_connections = 400"
  [ "$(as_root cat "$file" 2>/dev/null)" = "$want" ] && return 1
  printf '%s\n' "$want" | as_root tee "$file" >/dev/null
}

up() {
  PG_VERSION="${PG_VERSION:-$(installed_version)}"
  if [ -z "$PG_VERSION" ] || [ ! -x "/usr/lib/postgresql/$PG_VERSION/bin/postgres" ]; then
    log "PostgreSQL server not installed; installing it"
    apt_install postgresql
    PG_VERSION="$(installed_version)"
  fi
  if ! as_root pg_lsclusters -h | awk -v v="$PG_VERSION" -v c="$PG_CLUSTER" '$1 == v && $2 == c { f = 1 } END { exit !f }'; then
    log "creating cluster $PG_VERSION/$PG_CLUSTER"
    as_root pg_createcluster "$PG_VERSION" "$PG_CLUSTER" --port "$PG_PORT"
  fi

  local changed=""
  write_conf && changed=1

  if ! is_running; then
    log "starting cluster $PG_VERSION/$PG_CLUSTER"
    as_root pg_ctlcluster "$PG_VERSION" "$PG_CLUSTER" start
  elif [ -n "$changed" ]; then
    log "restarting cluster $PG_VERSION/$PG_CLUSTER to apply its settings"
    as_root pg_ctlcluster "$PG_VERSION" "$PG_CLUSTER" restart
  fi

  local i
  for ((i = 0; i < 60; i++)); do
    pg_isready -q -h "$PG_HOST" -p "$PG_PORT" && break
    sleep 0.5
  done
  pg_isready -q -h "$PG_HOST" -p "$PG_PORT" || die "PostgreSQL is not answering on $PG_HOST:$PG_PORT"

  # Through the local socket as the postgres superuser (peer authentication).
  as_root runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -p "$PG_PORT" -d postgres <<'SQL'
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'automation') THEN
    CREATE ROLE automation LOGIN CREATEDB PASSWORD 'automation';
  END IF;
END
$$;
SELECT 'CREATE DATABASE automation OWNER automation'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'automation')
\gexec
SQL
  log "PostgreSQL $PG_VERSION up on $PG_HOST:$PG_PORT (database automation)"
}

down() {
  PG_VERSION="${PG_VERSION:-$(installed_version)}"
  if [ -n "$PG_VERSION" ] && command -v pg_ctlcluster >/dev/null && is_running; then
    as_root pg_ctlcluster "$PG_VERSION" "$PG_CLUSTER" stop
    log "PostgreSQL $PG_VERSION stopped"
  else
    log "PostgreSQL not running"
  fi
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  *) die "usage: $0 up|down" ;;
esac
