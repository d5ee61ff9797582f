"""Row-level security on the people, their migrations and their history (desmigratif.rls).

Every row is visible, and writable, only when its village lies in the scope written into the
database session (`desmigratif.scope`): '*' for the whole country, a region code for itself
and everything under it, nothing when the setting is empty or missing. FORCE binds the tables'
owner too, so an application connected as the owner is still kept in; only a superuser (or a
role with BYPASSRLS) passes. SQLite, the local demo, goes without.
"""

from django.db import migrations

# The scope test on a village code, in one place for every policy (pillars.0006 uses it too):
# a range of codes, from the scope itself up to, not including, the scope followed by '/'
# (the character after '.'), so '35.07' admits '35.07' and every '35.07.…' and nothing else;
# the whole country is every code below '~' (codes are digits and dots); no scope, the empty
# range. Byte-wise operators (~>=~, ~<~): no collation, and no wildcard in the setting can
# widen the match. Plain SQL functions of one expression, which PostgreSQL inlines: the range
# becomes an index condition on the varchar_pattern_ops indexes of the village code, where an
# OR of cases would leave a filter over the whole table (a coordinator's count of a million-
# row register: 10 ms against 450 ms; figures in docs/security.md).
IN_SCOPE = """
CREATE OR REPLACE FUNCTION desmigratif_scope_from() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE coalesce(current_setting('desmigratif.scope', true), '')
        WHEN '*' THEN ''
        ELSE coalesce(current_setting('desmigratif.scope', true), '')
    END
$$;
CREATE OR REPLACE FUNCTION desmigratif_scope_to() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE coalesce(current_setting('desmigratif.scope', true), '')
        WHEN '*' THEN '~'
        WHEN '' THEN ''
        ELSE current_setting('desmigratif.scope', true) || '/'
    END
$$;
CREATE OR REPLACE FUNCTION desmigratif_in_scope(code text) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT code ~>=~ desmigratif_scope_from() AND code ~<~ desmigratif_scope_to()
$$;
"""

# The person's village decides for the person's episodes and history too: the history of a
# person moved in from another village goes with them, as the register shows it
# (PersonHistory.objects.for_user goes through the person as well). The whole country is
# tested first, so national work (the dashboards' refresh) skips the per-row look-up.
PERSON_IN_SCOPE = (
    "current_setting('desmigratif.scope', true) = '*' OR EXISTS (SELECT 1 FROM migrants_person p "
    "WHERE p.id = {table}.person_id AND desmigratif_in_scope(p.village_id))"
)
POLICIES = {
    "migrants_person": "desmigratif_in_scope(village_id)",
    "migrants_episode": PERSON_IN_SCOPE.format(table="migrants_episode"),
    "migrants_personhistory": PERSON_IN_SCOPE.format(table="migrants_personhistory"),
}


def enable_sql(table: str, condition: str) -> str:
    return f"""
ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
ALTER TABLE {table} FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS scope ON {table};
CREATE POLICY scope ON {table} FOR ALL USING ({condition}) WITH CHECK ({condition});
"""


def disable_sql(table: str) -> str:
    return f"""
DROP POLICY IF EXISTS scope ON {table};
ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY;
ALTER TABLE {table} DISABLE ROW LEVEL SECURITY;
"""


def enable(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(IN_SCOPE, params=None)
    for table, condition in POLICIES.items():
        schema_editor.execute(enable_sql(table, condition), params=None)


def disable(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in POLICIES:
        schema_editor.execute(disable_sql(table), params=None)
    schema_editor.execute(
        "DROP FUNCTION IF EXISTS desmigratif_in_scope(text); "
        "DROP FUNCTION IF EXISTS desmigratif_scope_from(); "
        "DROP FUNCTION IF EXISTS desmigratif_scope_to();",
        params=None,
    )


class Migration(migrations.Migration):
    dependencies = [("migrants", "0006_history_snapshot_references")]

    operations = [migrations.RunPython(enable, disable, elidable=False)]
