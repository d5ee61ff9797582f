#!/usr/bin/env bash
# Run once by the postgres image on an empty data volume (/docker-entrypoint-initdb.d): the two
# roles of docs/security.md. desmigratif_owner owns the tables and runs the migrations;
# desmigratif_app (web, worker, beat) is neither superuser, nor owner, nor BYPASSRLS, so the
# row-level security policies bind it.
set -euo pipefail
: "${DB_OWNER_PASSWORD:?DB_OWNER_PASSWORD is not set}"
: "${DB_APP_PASSWORD:?DB_APP_PASSWORD is not set}"
DB="${POSTGRES_DB:-desmigratif}"

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v owner_pw="$DB_OWNER_PASSWORD" -v app_pw="$DB_APP_PASSWORD" -v db="$DB" <<'SQL'
CREATE ROLE desmigratif_owner LOGIN PASSWORD :'owner_pw';
CREATE ROLE desmigratif_app LOGIN PASSWORD :'app_pw';
ALTER DATABASE :"db" OWNER TO desmigratif_owner;
SQL

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$DB" <<'SQL'
ALTER SCHEMA public OWNER TO desmigratif_owner;
GRANT USAGE ON SCHEMA public TO desmigratif_app;
ALTER DEFAULT PRIVILEGES FOR ROLE desmigratif_owner IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO desmigratif_app;
ALTER DEFAULT PRIVILEGES FOR ROLE desmigratif_owner IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO desmigratif_app;
SQL
