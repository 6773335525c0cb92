#!/bin/sh
# Runs once, when the compose file's Postgres initialises an empty volume
# (docker-entrypoint-initdb.d): the two roles of docs/production.md, "Postgres:
# roles and TLS". escrow_owner owns the escrow database and runs the
# migrations; escrow_worker is what the worker connects as, and `migrate`
# (DATABASE_WORKER_ROLE=escrow_worker) grants it exactly the worker's rights.
# The passwords come from the environment and are never echoed.
set -eu
: "${ESCROW_OWNER_PASSWORD:?set ESCROW_OWNER_PASSWORD}"
: "${ESCROW_WORKER_PASSWORD:?set ESCROW_WORKER_PASSWORD}"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  --set owner_password="$ESCROW_OWNER_PASSWORD" --set worker_password="$ESCROW_WORKER_PASSWORD" <<'SQL'
CREATE ROLE escrow_owner LOGIN PASSWORD :'owner_password';
CREATE ROLE escrow_worker LOGIN PASSWORD :'worker_password';
ALTER DATABASE escrow OWNER TO escrow_owner;
SQL
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname escrow <<'SQL'
ALTER SCHEMA public OWNER TO escrow_owner;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
SQL
