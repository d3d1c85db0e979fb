#!/usr/bin/env bash
# The services' login role, made when the postgres image initialises an empty volume (it runs
# /docker-entrypoint-initdb.d/* once, as POSTGRES_USER). It may only log in here: `automation
# db upgrade` (the db-migrate one-shot, as the owner) grants it everything but rewriting the
# stored events. For a volume made before this script existed, run the CREATE ROLE by hand,
# then the db-migrate one-shot again.
set -euo pipefail
psql -v ON_ERROR_STOP=1 -v app_password="${POSTGRES_APP_PASSWORD:?}" \
     --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<'SQL'
CREATE ROLE automation_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'app_password';
SQL
