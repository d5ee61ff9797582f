#!/usr/bin/env bash
# Back up the SI-Desmigratif PostgreSQL database: one pg_dump archive (custom format) per run,
# named <database>-<UTC time>.dump, then remove this script's archives older than N days.
#
#   deploy/backup.sh [--dbname NAME|URI] [--dir DIR] [--keep-days N]
#
# The connection comes from --dbname (a name or a postgres:// URI) and libpq's variables
# (PGHOST, PGPORT, PGUSER, PGPASSWORD or ~/.pgpass). Connect as a superuser or a BYPASSRLS
# backup role, never as the application role: row-level security hides its rows from pg_dump
# (docs/security.md).
#
# Safe to run again at any time: an archive is written under a temporary name and renamed only
# once pg_restore can read it back, a failed run leaves nothing behind and removes nothing, two
# runs never overlap (a lock in DIR), and old archives are removed only after a good new one.
# Prints the archive's path on its last line.
set -euo pipefail

DBNAME="${PGDATABASE:-desmigratif}"
DIR="${BACKUP_DIR:-/var/backups/desmigratif}"
KEEP_DAYS="${BACKUP_KEEP_DAYS:-14}"

usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
die() { echo "backup: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
  case "$1" in
    --dbname) DBNAME="${2:?--dbname needs a value}"; shift 2 ;;
    --dir) DIR="${2:?--dir needs a value}"; shift 2 ;;
    --keep-days) KEEP_DAYS="${2:?--keep-days needs a value}"; shift 2 ;;
    -h|--help) usage 0 ;;
    *) echo "backup: unknown argument: $1" >&2; usage 2 ;;
  esac
done
[[ "$KEEP_DAYS" =~ ^[0-9]+$ ]] && [ "$KEEP_DAYS" -ge 1 ] || die "--keep-days must be a whole number of days, at least 1"
command -v pg_dump >/dev/null || die "pg_dump is not installed (postgresql-client)"

# The archives hold personal data: readable by their owner only.
umask 077
mkdir -p "$DIR"

exec 9>"$DIR/.backup.lock"
if command -v flock >/dev/null; then
  flock -n 9 || die "another backup is running in $DIR"
fi

name=$(psql --dbname="$DBNAME" --no-psqlrc --tuples-only --no-align --command 'SELECT current_database()') \
  || die "cannot connect to the database"
[[ "$name" =~ ^[A-Za-z0-9_.-]+$ ]] || die "unexpected database name: $name"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
final="$DIR/$name-$stamp.dump"
[ -e "$final" ] && die "$final exists already (two backups in the same second?)"
partial="$final.partial"
trap 'rm -f "$partial"' EXIT

pg_dump --dbname="$DBNAME" --format=custom --compress=6 --no-password --file="$partial"
# An archive that pg_restore cannot list is no backup.
pg_restore --list "$partial" >/dev/null || die "the archive cannot be read back"
mv "$partial" "$final"
trap - EXIT

# Retention: only this database's archives, only after a good one was written, never it.
find "$DIR" -maxdepth 1 -type f -name "$name-*.dump" -mtime +"$((KEEP_DAYS - 1))" \
  ! -path "$final" -print -delete | sed 's/^/backup: removed old archive /' >&2

echo "backup: $(du -h "$final" | cut -f1) written" >&2
echo "$final"
