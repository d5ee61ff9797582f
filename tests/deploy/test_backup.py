"""deploy/backup.sh and deploy/restore.sh: an archive restored into a scratch database holds
every row of every table (issue 8, item 4). PostgreSQL only."""

import os
import shutil
import subprocess
import time
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from accounts.models import User
from tests.migrants.factories import plan, register

pytestmark = [
    # Committed rows, which pg_dump sees; serialized_rollback brings the data migrations' rows
    # back for the next test.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
        reason="backup and restore are PostgreSQL's",
    ),
    pytest.mark.skipif(
        not all(shutil.which(tool) for tool in ("bash", "pg_dump", "pg_restore", "psql")),
        reason="needs bash and the PostgreSQL client tools",
    ),
]

DEPLOY = Path(settings.BASE_DIR, "deploy")
TABLES = """
    SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) FROM pg_tables
    WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1
"""


def libpq_environment() -> dict[str, str]:
    db = connection.settings_dict
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update(
        PGHOST=db["HOST"] or "127.0.0.1",
        PGPORT=str(db["PORT"] or 5432),
        PGUSER=db["USER"] or "postgres",
    )
    if db["PASSWORD"]:
        env["PGPASSWORD"] = db["PASSWORD"]
    return env


def run(script: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 (our own scripts)
        ["bash", str(DEPLOY / script), *args],  # noqa: S607
        env=libpq_environment(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def row_counts(cursor) -> dict[str, int]:
    cursor.execute(TABLES)
    tables = [name for (name,) in cursor.fetchall()]
    counts = {}
    for table in tables:
        cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 (names from pg_tables)
        counts[table] = cursor.fetchone()[0]
    return counts


def connect(dbname: str) -> psycopg.Connection:
    env = libpq_environment()
    return psycopg.connect(
        host=env["PGHOST"],
        port=env["PGPORT"],
        user=env["PGUSER"],
        password=env.get("PGPASSWORD"),
        dbname=dbname,
        autocommit=True,
    )


@pytest.fixture
def scratch_database():
    name = f"{connection.settings_dict['NAME']}_restore"[:63]
    with connect("postgres") as maintenance:
        maintenance.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    yield name
    with connect("postgres") as maintenance:
        maintenance.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_backup_restores_into_a_scratch_database_with_every_row(
    world, tmp_path, scratch_database
):
    officer = world["officer_arjowilangun"]
    for name in ("Sri Wahyuni", "Siti Aminah", "Dwi Lestari"):
        plan(register(actor=officer, full_name=name), actor=officer)
    with connection.cursor() as cursor:
        before = row_counts(cursor)
    assert before["public.migrants_person"] >= 3
    assert before["public.migrants_episode"] >= 3
    assert before["public.migrants_personhistory"] >= 3
    assert before["public.villages_region"] > 0

    backup = run("backup.sh", "--dbname", connection.settings_dict["NAME"], "--dir", str(tmp_path))
    assert backup.returncode == 0, backup.stderr
    archive = Path(backup.stdout.strip().splitlines()[-1])
    assert archive.parent == tmp_path
    assert archive.name.startswith(connection.settings_dict["NAME"] + "-")
    assert archive.suffix == ".dump"
    assert archive.stat().st_mode & 0o077 == 0  # personal data: the owner's only

    restore = run("restore.sh", str(archive), "--target", scratch_database)
    assert restore.returncode == 0, restore.stderr
    with connect(scratch_database) as restored:
        after = row_counts(restored.cursor())

    assert after == before


@pytest.fixture
def owner_role(scratch_database):
    """A role to own the restored tables, like desmigratif_owner (docs/security.md)."""
    name = f"{scratch_database}_owner"[:63]
    with connect("postgres") as maintenance:
        maintenance.execute(f'DROP ROLE IF EXISTS "{name}"')
        maintenance.execute(f'CREATE ROLE "{name}" NOLOGIN')
    yield name
    with connect("postgres") as maintenance:
        maintenance.execute(f'DROP DATABASE IF EXISTS "{scratch_database}" WITH (FORCE)')
        maintenance.execute(f'DROP ROLE IF EXISTS "{name}"')


def test_a_restore_refuses_a_database_that_is_not_empty_unless_forced(
    world, tmp_path, scratch_database, owner_role
):
    backup = run("backup.sh", "--dbname", connection.settings_dict["NAME"], "--dir", str(tmp_path))
    archive = backup.stdout.strip().splitlines()[-1]
    assert run("restore.sh", archive, "--target", scratch_database).returncode == 0

    again = run("restore.sh", archive, "--target", scratch_database)
    assert again.returncode != 0
    assert "is not empty" in again.stderr

    forced = run(
        "restore.sh", archive, "--target", scratch_database, "--force", "--owner", owner_role
    )
    assert forced.returncode == 0, forced.stderr
    with connect(scratch_database) as restored:
        count = restored.execute("SELECT count(*) FROM accounts_user").fetchone()[0]
        owners = restored.execute(
            "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
        forced_rls = restored.execute(
            "SELECT relforcerowsecurity FROM pg_class WHERE relname = 'migrants_person'"
        ).fetchone()[0]
    # Every user once: the forced restore replaced the first rather than adding to it.
    assert count == User.objects.count()
    # The tables belong to the owner role, and row-level security still binds it.
    assert owners == [(owner_role,)]
    assert forced_rls is True


def test_old_archives_of_the_database_are_removed_and_nothing_else(db, tmp_path):
    name = connection.settings_dict["NAME"]
    month_ago = time.time() - 30 * 86400
    old = tmp_path / f"{name}-20000101T000000Z.dump"
    recent = tmp_path / f"{name}-20000102T000000Z.dump"
    other = tmp_path / "another-database-20000101T000000Z.dump"
    for path in (old, recent, other):
        path.write_bytes(b"not checked")
    os.utime(old, (month_ago, month_ago))
    os.utime(other, (month_ago, month_ago))

    backup = run("backup.sh", "--dbname", name, "--dir", str(tmp_path), "--keep-days", "7")

    assert backup.returncode == 0, backup.stderr
    assert not old.exists()
    assert recent.exists()  # younger than 7 days by its time on disk
    assert other.exists()  # not this database's
    assert Path(backup.stdout.strip().splitlines()[-1]).exists()


def test_a_backup_that_fails_leaves_nothing_and_removes_nothing(db, tmp_path):
    old = tmp_path / "no_such_database-20000101T000000Z.dump"
    old.write_bytes(b"kept")
    os.utime(old, (0, 0))

    backup = run("backup.sh", "--dbname", "no_such_database", "--dir", str(tmp_path))

    assert backup.returncode != 0
    assert old.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".backup.lock", old.name]
