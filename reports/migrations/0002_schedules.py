"""The beat entries: summary refresh, report reaper, old-file cleanup, monthly reports and
their e-mails (reports.schedules.install_schedules; safe to run again)."""

from django.db import migrations


def install(apps, schema_editor):
    from reports.schedules import install_schedules

    install_schedules(apps=apps)


def uninstall(apps, schema_editor):
    from reports.schedules import uninstall_schedules

    uninstall_schedules(apps=apps)


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
