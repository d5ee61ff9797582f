"""Name search is `name_key LIKE '%...%'`; on PostgreSQL a trigram index keeps it fast at a
million people. SQLite (the local demo) goes without."""

from django.db import migrations


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS person_name_key_trgm "
        "ON migrants_person USING gin (name_key gin_trgm_ops)"
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS person_name_key_trgm")


class Migration(migrations.Migration):
    dependencies = [("migrants", "0001_initial")]
    operations = [migrations.RunPython(create_index, drop_index)]
