"""The beat entry of the retention rule (migrants.privacy.anonymise_expired_records), added
to the others by running reports.schedules.install_schedules again (it is idempotent)."""

from django.db import migrations


def install(apps, schema_editor):
    from reports.schedules import install_schedules

    install_schedules(apps=apps)


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0002_schedules"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    # Unapplying leaves the entries: 0002's reverse removes them all.
    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
