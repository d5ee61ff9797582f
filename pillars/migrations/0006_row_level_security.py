"""Row-level security on the cases, their handling steps and the enrolled children, with the
scope test of migrants.0007 (see there and desmigratif.rls). SQLite goes without."""

from django.db import migrations

POLICIES = {
    "pillars_case": "desmigratif_in_scope(village_id)",
    "pillars_casestep": (
        "current_setting('desmigratif.scope', true) = '*' OR EXISTS (SELECT 1 FROM pillars_case c "
        "WHERE c.id = pillars_casestep.case_id AND desmigratif_in_scope(c.village_id))"
    ),
    "pillars_childenrolment": "desmigratif_in_scope(village_id)",
}


def enable(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, condition in POLICIES.items():
        schema_editor.execute(
            f"""
ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
ALTER TABLE {table} FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS scope ON {table};
CREATE POLICY scope ON {table} FOR ALL USING ({condition}) WITH CHECK ({condition});
""",
            params=None,
        )


def disable(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in POLICIES:
        schema_editor.execute(
            f"""
DROP POLICY IF EXISTS scope ON {table};
ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY;
ALTER TABLE {table} DISABLE ROW LEVEL SECURITY;
""",
            params=None,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("pillars", "0005_pillarimport"),
        ("migrants", "0007_row_level_security"),
    ]

    operations = [migrations.RunPython(enable, disable, elidable=False)]
