import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone, translation

from accounts.models import User
from migrants.importer import execute_plan, plan_import
from migrants.models import ImportBatch
from migrants.tabular import FileRejected, read_table


class Command(BaseCommand):
    help = (
        "Check (and with --commit, import) a register file as a given user: the same code "
        "path as the upload page. Exits 1 when the file has errors."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--as", dest="username", required=True, help="The user whose scope and rights apply."
        )
        parser.add_argument(
            "--commit", action="store_true", help="Write the valid rows (all of them or none)."
        )
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")

    def handle(self, *args, file: Path, username: str, commit: bool, json: bool, **options):
        translation.activate("id")  # the messages officials read
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user {username!r}.")
        if not file.is_file():
            raise CommandError(f"No such file: {file}")
        data = file.read_bytes()
        try:
            table = read_table(data)
        except FileRejected as exc:
            raise CommandError(exc.message) from exc
        try:
            plan = plan_import(table=table, actor=user)
        except FileRejected as exc:
            raise CommandError(exc.message) from exc
        problems = [
            {"row": 1, "column": "", "level": level, "message": message}
            for level, message in plan.file_problems
        ]
        for row in plan.rows:
            problems += [
                {"row": row.row, "column": column, "level": "error", "message": m}
                for column, m in row.errors
            ]
            problems += [
                {"row": row.row, "column": column, "level": "warning", "message": m}
                for column, m in row.warnings
            ]
        counts = plan.counts
        if commit and plan.valid_rows:
            self._commit(plan=plan, user=user, file=file, data=data, kind=table.kind)
        if json:
            self.stdout.write(_dumps({**counts, "problems": problems}))
        else:
            for problem in problems:
                prefix = "" if problem["level"] == "error" else "warning: "
                self.stdout.write(
                    f"row {problem['row']}, column {problem['column'] or '-'}: "
                    f"{prefix}{problem['message']}"
                )
            self.stdout.write(
                " ".join(
                    f"{key}={counts[key]}"
                    for key in ("rows", "new", "updated", "unchanged", "warnings", "errors")
                )
            )
        if counts["errors"] or any(p["level"] == "error" for p in problems):
            raise SystemExit(1)

    def _commit(self, *, plan, user: User, file: Path, data: bytes, kind: str) -> None:
        import hashlib

        from django.core.files.base import ContentFile

        with transaction.atomic():
            batch = ImportBatch(
                created_by=user,
                committed_by=user,
                scope_id=user.scope_id,
                filename=file.name,
                sha256=hashlib.sha256(data).hexdigest(),
                size=len(data),
                kind=kind,
                state=ImportBatch.State.COMMITTING,
            )
            batch.file.save(f"{batch.pk.hex}.bin", ContentFile(data), save=False)
            batch.save()
            counts = execute_plan(plan=plan, batch=batch, actor=user)
            batch.state = ImportBatch.State.COMMITTED
            batch.counts = counts
            batch.committed_at = timezone.now()
            batch.validated_at = batch.committed_at
            batch.progress = 100
            batch.save()


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False)
