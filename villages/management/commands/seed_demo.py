import os

from django.core.management.base import BaseCommand, CommandError

from dashboards.summaries import refresh_summaries
from migrants.demo import register_summary, seed_register
from pillars.demo import pillars_summary, seed_pillars
from villages.demo import RegionsMissing, seed_demo


class Command(BaseCommand):
    help = "Designate the demo villages and create one demo user per role (idempotent)."

    def handle(self, *args, **options) -> None:
        password = os.environ.get("DEMO_PASSWORD") or "desmigratif-demo"
        try:
            users = seed_demo(password=password)
        except RegionsMissing as exc:
            raise CommandError(
                f"Regions {', '.join(exc.args[0])} are missing: run `manage.py load_regions` first."
            ) from exc
        self.stdout.write(f"Demo users (password: {password}):")
        for user in users:
            scope = user.scope.label if user.scope else "Nasional"
            self.stdout.write(f"  {user.username:<24} {user.get_role_display():<28} {scope}")
        self.stdout.write(register_summary(seed_register()))
        self.stdout.write(pillars_summary(seed_pillars()))
        run = refresh_summaries()
        self.stdout.write(f"Dashboards: {run.facts} summary figures in {run.seconds} s")
