#!/usr/bin/env bash
# Restore an archive of deploy/backup.sh into a named database.
#
#   deploy/restore.sh ARCHIVE --target NAME [--force] [--owner ROLE] [--no-privileges]
#
# The database NAME is created if it does not exist. If it exists and holds any table, view or
# sequence, the restore refuses, unless --force: then NAME is dropped and created again (it
# refuses while anyone is connected to it: stop web, worker and beat first).
# --owner ROLE: the new database and every restored table, sequence, view, function and the
# schemas belong to ROLE (in production desmigratif_owner, docs/security.md); without it, to
# the user running the restore. The rows are loaded as that user all the same: row-level
# security is forced on the owner, and would refuse them.
# --no-privileges: leave out the archive's GRANTs (when its roles do not exist here).
#
# The connection comes from libpq's variables (PGHOST, PGPORT, PGUSER, PGPASSWORD or
# ~/.pgpass), as a role that may create databases; --maintenance-db (default postgres) is the
# database it connects to for that. The restore runs in one transaction: all or nothing.
set -euo pipefail

ARCHIVE=""
TARGET=""
FORCE=0
OWNER=""
PRIVILEGES=1
MAINTENANCE_DB="postgres"

usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
die() { echo "restore: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
  case "$1" in
    --target) TARGET="${2:?--target needs a value}"; shift 2 ;;
    --force) FORCE=1; shift ;;
    --owner) OWNER="${2:?--owner needs a value}"; shift 2 ;;
    --no-privileges) PRIVILEGES=0; shift ;;
    --maintenance-db) MAINTENANCE_DB="${2:?--maintenance-db needs a value}"; shift 2 ;;
    -h|--help) usage 0 ;;
    -*) echo "restore: unknown option: $1" >&2; usage 2 ;;
    *) [ -z "$ARCHIVE" ] || die "one archive at a time"; ARCHIVE="$1"; shift ;;
  esac
done
[ -n "$ARCHIVE" ] || usage 2
[ -n "$TARGET" ] || die "--target NAME is required (the database to restore into)"
# Names are put into SQL below: plain identifiers only.
[[ "$TARGET" =~ ^[a-z_][a-z0-9_]{0,62}$ ]] || die "--target must be a plain lower-case name"
[ -z "$OWNER" ] || [[ "$OWNER" =~ ^[a-z_][a-z0-9_]{0,62}$ ]] || die "--owner must be a plain lower-case name"
[ -r "$ARCHIVE" ] || die "cannot read $ARCHIVE"
pg_restore --list "$ARCHIVE" >/dev/null || die "$ARCHIVE is not a pg_dump custom-format archive"

sql() { psql --no-psqlrc --quiet --tuples-only --no-align -v ON_ERROR_STOP=1 "$@"; }

exists=$(sql --dbname="$MAINTENANCE_DB" -c "SELECT 1 FROM pg_database WHERE datname = '$TARGET'")
if [ "$exists" = "1" ]; then
  objects=$(sql --dbname="$TARGET" -c "
    SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
      AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'")
  if [ "$objects" != "0" ]; then
    [ "$FORCE" = 1 ] || die "database $TARGET is not empty ($objects tables, views or sequences); --force replaces it"
    sessions=$(sql --dbname="$MAINTENANCE_DB" -c \
      "SELECT count(*) FROM pg_stat_activity WHERE datname = '$TARGET' AND pid <> pg_backend_pid()")
    [ "$sessions" = "0" ] || die "$sessions sessions are connected to $TARGET: stop web, worker and beat first"
    echo "restore: dropping database $TARGET (--force)" >&2
    sql --dbname="$MAINTENANCE_DB" -c "DROP DATABASE \"$TARGET\""
    exists=""
  fi
fi
if [ "$exists" != "1" ]; then
  sql --dbname="$MAINTENANCE_DB" -c "CREATE DATABASE \"$TARGET\"${OWNER:+ OWNER \"$OWNER\"}"
fi

args=(--dbname="$TARGET" --no-owner --exit-on-error --single-transaction --no-password)
[ "$PRIVILEGES" = 1 ] || args+=(--no-privileges)
pg_restore "${args[@]}" "$ARCHIVE"

if [ -n "$OWNER" ]; then
  # Sequences that belong to a column follow their table.
  sql --dbname="$TARGET" <<SQL
DO \$\$
DECLARE
  item record;
BEGIN
  FOR item IN
    SELECT n.nspname FROM pg_namespace n
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'
  LOOP
    EXECUTE format('ALTER SCHEMA %I OWNER TO $OWNER', item.nspname);
  END LOOP;
  FOR item IN
    SELECT n.nspname, c.relname, c.relkind FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
      AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'
      AND NOT EXISTS (
        SELECT 1 FROM pg_depend d
        WHERE d.objid = c.oid AND d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i'))
  LOOP
    EXECUTE format('ALTER %s %I.%I OWNER TO $OWNER',
      CASE item.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW'
        WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END,
      item.nspname, item.relname);
  END LOOP;
  FOR item IN
    SELECT p.oid::regprocedure AS signature, p.prokind FROM pg_proc p
    JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
  LOOP
    EXECUTE format('ALTER %s %s OWNER TO $OWNER',
      CASE item.prokind WHEN 'p' THEN 'PROCEDURE' WHEN 'a' THEN 'AGGREGATE' ELSE 'FUNCTION' END,
      item.signature);
  END LOOP;
END
\$\$;
SQL
  echo "restore: every object of $TARGET now belongs to $OWNER" >&2
fi
# pg_restore does not carry the planner's statistics over.
sql --dbname="$TARGET" -c "ANALYZE" >/dev/null
echo "restore: $ARCHIVE restored into database $TARGET" >&2
