from django.db import migrations


def create_variant(apps, schema_editor):
    ProgrammeVariant = apps.get_model("pillars", "ProgrammeVariant")
    ProgrammeVariant.objects.get_or_create(
        code="desmigratif-4-pilar",
        defaults={
            "name": "Desmigratif (4 pilar)",
            "description": (
                "Desa Migran Produktif menurut Permenaker 2/2019: pusat layanan migrasi, "
                "usaha produktif, komunitas pembangunan keluarga, dan koperasi/BUMDes."
            ),
        },
    )


class Migration(migrations.Migration):
    dependencies = [("pillars", "0001_initial")]
    operations = [migrations.RunPython(create_variant, migrations.RunPython.noop)]
