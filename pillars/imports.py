"""Importing the list-like pillar registers from a spreadsheet: enterprises, cooperative
members and parenting attendance (sessions), one village per file.

The same flow as the register import (migrants.importer): the file is stored and read safely
(migrants.tabular), every row is checked first and the problems are shown per row and column;
the user downloads the rows with errors (an extra "Kesalahan" column) or confirms, and the
commit writes all the valid rows in one transaction through pillars.services.record_create
(each row checked and audited like a form's), or none. A row the register already holds with
the same details is "unchanged" and skipped, so importing a file twice adds nothing; a row
that matches a record but differs is an error (records are changed in the register, not by
re-importing).

People are named by NIK: they must be in the village's register, in the uploader's area; a NIK
outside it gets the register import's message, which tells nothing about where or whom.
"""

import datetime
import hashlib
import io
import logging
import re
import unicodedata
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from accounts.models import User
from accounts.permissions import Action, can
from desmigratif.rls import system_scope
from migrants import services as register_services
from migrants.columns import ERROR_HEADER, header_key, value_key
from migrants.importer import CellError, _date, _text
from migrants.models import Person
from migrants.nik import check_nik
from migrants.spreadsheets import escape_cell
from migrants.tabular import FileRejected, Table, read_table
from pillars import services
from pillars.models import (
    AuditEntry,
    Cooperative,
    CooperativeMember,
    Enterprise,
    ParentingGroup,
    ParentingSession,
    PillarImport,
    PillarKind,
    VillageRecord,
)

Target = PillarImport.Target
logger = logging.getLogger(__name__)

# A pillar list is a village's: a few hundred rows. Each row is written through the service
# (checked and audited one by one), so the limit is lower than the register's.
DEFAULT_MAX_ROWS = 5000
DOUBLE_UPLOAD_WINDOW = datetime.timedelta(minutes=10)
MAX_COMMIT_ATTEMPTS = 3
MAX_COUNT = 100_000  # workers, children or adults on one row: beyond it, a typing slip
IGNORED_HEADERS = {header_key(h) for h in (ERROR_HEADER, "Errors", "Baris", "No", "No.", "Row")}


def max_rows() -> int:
    return getattr(settings, "PILLAR_IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS)


# --- Columns -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # Indonesian, as the template writes it
    aliases: tuple[str, ...] = ()  # other spellings accepted, English among them
    kind: str = "text"  # text, nik, date, count, choice, name (read only to check the NIK)
    help: Any = ""
    required: bool = False
    values: dict[str, Any] = field(default_factory=dict)  # spelling -> stored; first is written
    max_length: int = 255
    width: int = 18
    default: Any = ""

    def offered(self) -> list[str]:
        """One spelling per stored value, in the order listed: the drop-down's."""
        seen: dict[Any, str] = {}
        for spelling, stored in self.values.items():
            seen.setdefault(stored, spelling)
        return list(seen.values())


YES_NO = {
    "Ya": True,
    "Tidak": False,
    "Yes": True,
    "No": False,
    "Y": True,
    "T": False,
    "N": False,
    "True": True,
    "False": False,
    "1": True,
    "0": False,
}
SECTORS = {
    "Pertanian": Enterprise.Sector.AGRICULTURE,
    "Peternakan": Enterprise.Sector.LIVESTOCK,
    "Perikanan": Enterprise.Sector.FISHERY,
    "Makanan dan Minuman": Enterprise.Sector.FOOD,
    "Kerajinan": Enterprise.Sector.CRAFT,
    "Perdagangan": Enterprise.Sector.TRADE,
    "Jasa": Enterprise.Sector.SERVICES,
    "Lainnya": Enterprise.Sector.OTHER,
    "Makanan": Enterprise.Sector.FOOD,
    "Kuliner": Enterprise.Sector.FOOD,
    "Mamin": Enterprise.Sector.FOOD,
    "Dagang": Enterprise.Sector.TRADE,
    "Lain-lain": Enterprise.Sector.OTHER,
    "Agriculture": Enterprise.Sector.AGRICULTURE,
    "Livestock": Enterprise.Sector.LIVESTOCK,
    "Fishery": Enterprise.Sector.FISHERY,
    "Fisheries": Enterprise.Sector.FISHERY,
    "Food and drink": Enterprise.Sector.FOOD,
    "Food": Enterprise.Sector.FOOD,
    "Crafts": Enterprise.Sector.CRAFT,
    "Craft": Enterprise.Sector.CRAFT,
    "Trade": Enterprise.Sector.TRADE,
    "Services": Enterprise.Sector.SERVICES,
    "Other": Enterprise.Sector.OTHER,
}
ENTERPRISE_STATES = {
    "Berjalan": Enterprise.State.RUNNING,
    "Berhenti": Enterprise.State.STOPPED,
    "Aktif": Enterprise.State.RUNNING,
    "Tidak Aktif": Enterprise.State.STOPPED,
    "Tutup": Enterprise.State.STOPPED,
    "Running": Enterprise.State.RUNNING,
    "Active": Enterprise.State.RUNNING,
    "Stopped": Enterprise.State.STOPPED,
    "Closed": Enterprise.State.STOPPED,
}
REVENUE_BANDS = {
    "Di bawah 1 juta": Enterprise.Revenue.UNDER_1M,
    "1-5 juta": Enterprise.Revenue.FROM_1M,
    "5-25 juta": Enterprise.Revenue.FROM_5M,
    "Di atas 25 juta": Enterprise.Revenue.OVER_25M,
    "Kurang dari 1 juta": Enterprise.Revenue.UNDER_1M,
    "Lebih dari 25 juta": Enterprise.Revenue.OVER_25M,
    "Rp 1-5 juta": Enterprise.Revenue.FROM_1M,
    "Rp 5-25 juta": Enterprise.Revenue.FROM_5M,
    "Under 1 million": Enterprise.Revenue.UNDER_1M,
    "1-5 million": Enterprise.Revenue.FROM_1M,
    "5-25 million": Enterprise.Revenue.FROM_5M,
    "Over 25 million": Enterprise.Revenue.OVER_25M,
    "lt1": Enterprise.Revenue.UNDER_1M,
    "gt25": Enterprise.Revenue.OVER_25M,
}
DATE_HELP = gettext_lazy(
    "An Excel date, or YYYY-MM-DD, DD/MM/YYYY or DD-MM-YYYY; not in the future."
)


@dataclass(frozen=True)
class Spec:
    """What one target's spreadsheet holds and which register it fills."""

    target: str
    model: type[VillageRecord]
    kind: str  # the pillar kind its records are tagged with
    slug: str  # the template's file name
    columns: tuple[Column, ...]
    notes: tuple[Any, ...] = ()  # the guide sheet's first lines (lazy strings)
    reference: str = ""  # the column naming a group or cooperative, for the template's list

    @cached_property
    def by_key(self) -> dict[str, Column]:
        return {column.key: column for column in self.columns}

    @cached_property
    def header_index(self) -> dict[str, str]:
        index: dict[str, str] = {}
        for column in self.columns:
            for name in (column.header, column.key, *column.aliases):
                index.setdefault(header_key(name), column.key)
        return index

    @property
    def label(self) -> str:
        return Target(self.target).label


ENTERPRISES = Spec(
    target=Target.ENTERPRISES,
    model=Enterprise,
    kind=PillarKind.ENTERPRISE,
    slug="usaha",
    columns=(
        Column(
            "owner",
            "NIK Pemilik",
            ("nik", "nik pemilik", "owner nik", "nik of the owner"),
            "nik",
            gettext_lazy(
                "The owner's NIK, typed as text; the owner must be in the village's register."
            ),
            required=True,
            width=20,
        ),
        Column(
            "owner_name",
            "Nama Pemilik",
            ("pemilik", "owner", "owner name", "owner's name"),
            "name",
            gettext_lazy("For checking only: the NIK decides who the owner is."),
            width=24,
        ),
        Column(
            "name",
            "Nama Usaha",
            ("usaha", "nama usaha", "enterprise", "enterprise name", "business", "business name"),
            required=True,
            max_length=200,
            width=28,
        ),
        Column(
            "sector",
            "Sektor",
            ("sektor", "bidang usaha", "sector"),
            "choice",
            required=True,
            values=SECTORS,
            width=20,
        ),
        Column("products", "Produk", ("produk", "produk utama", "products", "product"), width=28),
        Column(
            "start_date",
            "Tanggal Mulai",
            ("tanggal mulai", "tgl mulai", "mulai usaha", "start date", "started on", "started"),
            "date",
            DATE_HELP,
            width=14,
            default=None,
        ),
        Column(
            "state",
            "Status Usaha",
            ("status", "status usaha", "state"),
            "choice",
            gettext_lazy("Empty means running."),
            values=ENTERPRISE_STATES,
            width=14,
            default=Enterprise.State.RUNNING,
        ),
        Column(
            "workers",
            "Tenaga Kerja",
            ("jumlah tenaga kerja", "pekerja", "karyawan", "workers", "employees"),
            "count",
            gettext_lazy("How many people work in it, the owner included. Empty means 1."),
            width=12,
            default=1,
        ),
        Column(
            "revenue_band",
            "Omzet per Bulan",
            ("omzet", "omset", "omset per bulan", "monthly revenue", "revenue", "revenue band"),
            "choice",
            values=REVENUE_BANDS,
            width=18,
        ),
        Column(
            "export_ready",
            "Siap Ekspor",
            ("ekspor", "export ready", "export-ready", "export"),
            "choice",
            gettext_lazy("Ya or Tidak; empty means Tidak."),
            values=YES_NO,
            width=12,
            default=False,
        ),
        Column(
            "assistance",
            "Bantuan yang Diterima",
            ("bantuan", "assistance", "assistance received"),
            max_length=2000,
            width=32,
        ),
    ),
    notes=(
        gettext_lazy("One row is one enterprise of a returned migrant worker or their family."),
        gettext_lazy(
            "An enterprise already recorded with the same owner and name, with the same "
            "details, is skipped; with other details it is refused: change it in the register."
        ),
    ),
)

MEMBERS = Spec(
    target=Target.MEMBERS,
    model=CooperativeMember,
    kind=PillarKind.COOPERATIVE,
    slug="anggota-koperasi",
    reference="cooperative",
    columns=(
        Column(
            "cooperative",
            "Nama Koperasi",
            (
                "koperasi",
                "nama koperasi",
                "bumdes",
                "nama bumdes",
                "lembaga",
                "cooperative",
                "cooperative name",
            ),
            "text",
            gettext_lazy(
                "The name of a cooperative, BUMDes or financial institution already recorded "
                "for the village."
            ),
            required=True,
            max_length=200,
            width=28,
        ),
        Column(
            "person",
            "NIK Anggota",
            ("nik", "nik anggota", "member nik"),
            "nik",
            gettext_lazy(
                "The member's NIK, typed as text; the member must be in the village's register."
            ),
            required=True,
            width=20,
        ),
        Column(
            "person_name",
            "Nama Anggota",
            ("nama", "nama anggota", "member", "member name", "name"),
            "name",
            gettext_lazy("For checking only: the NIK decides who the member is."),
            width=24,
        ),
        Column(
            "joined_on",
            "Tanggal Bergabung",
            (
                "tanggal bergabung",
                "tgl bergabung",
                "tanggal masuk",
                "bergabung",
                "joined",
                "joined on",
            ),
            "date",
            DATE_HELP,
            required=True,
            width=16,
            default=None,
        ),
        Column(
            "left_on",
            "Tanggal Keluar",
            ("tanggal keluar", "tgl keluar", "keluar", "left", "left on"),
            "date",
            gettext_lazy("Empty while the person is a member; not before joining."),
            width=16,
            default=None,
        ),
    ),
    notes=(
        gettext_lazy("One row is one member of one cooperative or BUMDes."),
        gettext_lazy(
            "A membership already recorded with the same dates is skipped; with other dates it "
            "is refused: change it in the register."
        ),
    ),
)

ATTENDANCE = Spec(
    target=Target.ATTENDANCE,
    model=ParentingSession,
    kind=PillarKind.PARENTING,
    slug="kehadiran-parenting",
    reference="group",
    columns=(
        Column(
            "group",
            "Nama Kelompok",
            ("kelompok", "nama kelompok", "rumah belajar", "group", "group name"),
            "text",
            gettext_lazy(
                "The name of a parenting group or Rumah Belajar already recorded for the village."
            ),
            required=True,
            max_length=200,
            width=28,
        ),
        Column(
            "date",
            "Tanggal",
            ("tanggal", "tanggal kegiatan", "tgl", "date", "session date"),
            "date",
            DATE_HELP,
            required=True,
            width=14,
            default=None,
        ),
        Column(
            "topic",
            "Topik",
            ("topik", "tema", "materi", "topic"),
            required=True,
            max_length=200,
            width=32,
        ),
        Column(
            "children_attending",
            "Anak Hadir",
            ("anak hadir", "jumlah anak", "anak", "children", "children attending"),
            "count",
            gettext_lazy("A whole number; empty means 0."),
            width=12,
            default=0,
        ),
        Column(
            "adults_attending",
            "Orang Tua Hadir",
            (
                "orang tua hadir",
                "orang tua/pengasuh hadir",
                "pengasuh hadir",
                "orang tua",
                "dewasa hadir",
                "adults",
                "adults attending",
                "parents attending",
                "parents and carers attending",
            ),
            "count",
            gettext_lazy("Parents and carers; a whole number, empty means 0."),
            width=14,
            default=0,
        ),
        Column(
            "notes",
            "Catatan",
            ("catatan", "keterangan", "notes", "note"),
            max_length=2000,
            width=32,
        ),
    ),
    notes=(
        gettext_lazy("One row is one session of a parenting group, with its attendance."),
        gettext_lazy(
            "A session already recorded (same group, date and topic) with the same figures is "
            "skipped; with other figures it is refused: change it in the register."
        ),
    ),
)

SPECS: dict[str, Spec] = {spec.target: spec for spec in (ENTERPRISES, MEMBERS, ATTENDANCE)}


def spec_for(target: str) -> Spec:
    return SPECS[target]


def name_norm(text: str) -> str:
    """A group's or cooperative's name as compared: no case, extra spaces or width forms."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


# --- Reading cells -------------------------------------------------------------------------------


def _count(value: object) -> int | None:
    if value is None or isinstance(value, bool):
        if isinstance(value, bool):
            raise CellError(_("is not a number."))
        return None
    if isinstance(value, datetime.date | datetime.datetime):
        raise CellError(_("is a date, not a number."))
    if isinstance(value, int | float):
        if isinstance(value, float) and not value.is_integer():
            raise CellError(_("is not a whole number."))
        number = int(value)
    else:
        text = _text(value).replace(" ", "")
        if not text:
            return None
        if not re.fullmatch(r"-?\d+", text):
            raise CellError(_("%(value)s is not a whole number.") % {"value": text[:40]})
        number = int(text)
    if number < 0:
        raise CellError(_("cannot be negative."))
    if number > MAX_COUNT:
        raise CellError(_("is larger than %(max)d.") % {"max": MAX_COUNT})
    return number


def _choice(column: Column, value: object) -> Any:
    text = _text(value)
    if not text:
        return None
    wanted = value_key(text)
    for spelling, stored in column.values.items():
        if value_key(spelling) == wanted:
            return stored
    raise CellError(
        _("%(value)s is not allowed; use one of: %(allowed)s.")
        % {"value": text[:40], "allowed": ", ".join(column.offered())}
    )


def _nik(value: object) -> str:
    if isinstance(value, datetime.date | bool):
        raise CellError(_("is not a NIK: type it as text, 16 digits."))
    if isinstance(value, str):
        value = _text(value)
    result = check_nik(value)
    if result.errors:
        raise CellError(" ".join(problem.message for problem in result.errors))
    return result.value


# --- The plan ------------------------------------------------------------------------------------


class Outcome:
    NEW = "new"
    UNCHANGED = "unchanged"
    ERROR = "error"


@dataclass
class RowPlan:
    row: int
    values: dict[str, Any] = field(default_factory=dict)
    outcome: str = Outcome.NEW
    errors: list[tuple[str, str]] = field(default_factory=list)  # (column header, message)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    label: str = ""
    instance: VillageRecord | None = None


@dataclass
class Plan:
    spec: Spec
    village: str
    header: list[str]
    rows: list[RowPlan]
    file_problems: list[tuple[str, str]]  # (level, message) about the file as a whole

    @property
    def refused(self) -> bool:
        return any(level == "error" for level, _message in self.file_problems)

    @property
    def counts(self) -> dict[str, int]:
        outcomes = Counter(row.outcome for row in self.rows)
        return {
            "rows": len(self.rows),
            "new": 0 if self.refused else outcomes[Outcome.NEW],
            "unchanged": 0 if self.refused else outcomes[Outcome.UNCHANGED],
            "warnings": sum(1 for row in self.rows if row.warnings),
            "errors": len(self.rows) if self.refused else outcomes[Outcome.ERROR],
        }

    @property
    def new_rows(self) -> list[RowPlan]:
        if self.refused:
            return []
        return [row for row in self.rows if row.outcome == Outcome.NEW]

    def problems(self) -> list[dict[str, Any]]:
        found = [
            {"row": 1, "column": "", "level": level, "message": message}
            for level, message in self.file_problems
        ]
        for row in self.rows:
            found += [
                {"row": row.row, "column": column, "level": "error", "message": message}
                for column, message in row.errors
            ]
            found += [
                {"row": row.row, "column": column, "level": "warning", "message": message}
                for column, message in row.warnings
            ]
        return found


def map_header(spec: Spec, header: list[str]) -> tuple[dict[int, str], list[tuple[str, str]]]:
    """Column index -> column key; and problems with the header as a whole."""
    index = spec.header_index
    mapping: dict[int, str] = {}
    problems: list[tuple[str, str]] = []
    seen: dict[str, str] = {}
    for position, name in enumerate(header):
        key = index.get(header_key(name))
        if key is None:
            if name.strip() and header_key(name) not in IGNORED_HEADERS:
                problems.append(
                    (
                        "warning",
                        _("The column %(name)s is not known and is ignored.") % {"name": name[:60]},
                    )
                )
            continue
        if key in seen:
            problems.append(
                (
                    "error",
                    _("The columns %(first)s and %(second)s are the same field; keep one.")
                    % {"first": seen[key], "second": name[:60]},
                )
            )
            continue
        seen[key] = name
        mapping[position] = key
    missing = [c.header for c in spec.columns if c.required and c.key not in seen]
    if missing:
        problems.append(
            (
                "error",
                _(
                    "The file lacks the columns %(missing)s. Use the template of %(register)s: "
                    "its first row must hold the column names (found: %(found)s)."
                )
                % {
                    "missing": ", ".join(missing),
                    "register": spec.label,
                    "found": ", ".join(h for h in header if h.strip())[:300] or "—",
                },
            )
        )
    return mapping, problems


def _read_row(spec: Spec, row: RowPlan, cells: list, mapping: dict[int, str]) -> None:
    by_key = spec.by_key
    size = len(cells)
    values: dict[str, Any] = {}
    for position, key in mapping.items():
        column = by_key[key]
        value = cells[position] if position < size else None
        try:
            if column.kind == "nik":
                values[key] = _nik(value)
            elif column.kind == "date":
                values[key] = _date(value)
            elif column.kind == "count":
                values[key] = _count(value)
            elif column.kind == "choice":
                values[key] = _choice(column, value)
            else:
                text = _text(value)
                if len(text) > column.max_length:
                    raise CellError(
                        _("is longer than %(max)d characters.") % {"max": column.max_length}
                    )
                values[key] = text
        except CellError as exc:
            row.errors.append((column.header, str(exc)))
    refused = {header for header, _message in row.errors}
    for column in spec.columns:
        if values.get(column.key) in (None, ""):
            if column.required and column.header not in refused:
                row.errors.append((column.header, _("is required.")))
            values[column.key] = column.default
    row.values = values


def _check_dates(spec: Spec, row: RowPlan, today: datetime.date) -> None:
    by_key = spec.by_key
    for column in spec.columns:
        value = row.values.get(column.key)
        if column.kind == "date" and value is not None and value > today:
            row.errors.append((column.header, _("is in the future.")))
    if spec.target == Target.MEMBERS:
        joined, left = row.values.get("joined_on"), row.values.get("left_on")
        if joined and left and left < joined:
            row.errors.append((by_key["left_on"].header, _("is before the date of joining.")))


def _file_key(spec: Spec, values: dict) -> tuple | None:
    """What makes two rows of one file the same record."""
    if spec.target == Target.ENTERPRISES:
        parts = (values.get("owner"), name_norm(values.get("name") or ""))
    elif spec.target == Target.MEMBERS:
        parts = (name_norm(values.get("cooperative") or ""), values.get("person"))
    else:
        parts = (
            name_norm(values.get("group") or ""),
            values.get("date"),
            name_norm(values.get("topic") or ""),
        )
    return parts if all(parts) else None


class _Lookups:
    """What the rows need from the database, fetched once per file, within the actor's scope."""

    def __init__(self, *, spec: Spec, village: str, actor: User, rows: list[RowPlan]) -> None:
        nik_keys = [c.key for c in spec.columns if c.kind == "nik"]
        niks = {row.values[key] for row in rows for key in nik_keys if row.values.get(key)}
        # Every NIK, wherever it is: a NIK outside the area must get the leak-free message,
        # not "unknown" (the register import does the same).
        self.by_nik: dict[str, Person] = {}
        with system_scope():  # desmigratif.rls would hide the NIKs outside the area
            for chunk in _chunks(sorted(niks)):
                for person in Person.objects.filter(nik__in=chunk).only(
                    "pk", "nik", "village_id", "deleted_at", "full_name", "name_key"
                ):
                    self.by_nik[person.nik] = person
        self.in_scope = set(
            Person.objects.for_user(actor)
            .filter(pk__in=[p.pk for p in self.by_nik.values()])
            .values_list("pk", flat=True)
        )
        self.references: dict[str, list] = {}
        if spec.reference:
            model = Cooperative if spec.reference == "cooperative" else ParentingGroup
            for item in model.objects.for_user(actor).alive().filter(village_id=village):
                self.references.setdefault(name_norm(item.name), []).append(item)
        self.existing: dict[tuple, VillageRecord] = {}
        records = spec.model.objects.for_user(actor).alive().filter(village_id=village)
        if spec.target == Target.ENTERPRISES:
            owners = [p.pk for p in self.by_nik.values() if p.pk in self.in_scope]
            for record in records.filter(owner_id__in=owners):
                self.existing[(record.owner_id, name_norm(record.name))] = record
        elif spec.target == Target.MEMBERS:
            people = [p.pk for p in self.by_nik.values() if p.pk in self.in_scope]
            for record in records.filter(person_id__in=people):
                self.existing[(record.cooperative_id, record.person_id)] = record
        else:
            dates = {row.values["date"] for row in rows if row.values.get("date")}
            for record in records.filter(date__in=dates):
                self.existing[(record.group_id, record.date, name_norm(record.topic))] = record


def _chunks(items: list, size: int = 2000) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _person(
    row: RowPlan, column: Column, lookups: _Lookups, village: str, name_column: Column
) -> Person | None:
    nik = row.values.get(column.key)
    if not nik:
        return None
    person = lookups.by_nik.get(nik)
    if person is None:
        row.errors.append(
            (
                column.header,
                _("No one with this NIK is in the register: register the person first."),
            )
        )
        return None
    if person.pk not in lookups.in_scope:
        row.errors.append((column.header, register_services.nik_elsewhere_message()))
        return None
    if person.deleted_at is not None:
        row.errors.append((column.header, register_services.nik_deleted_message()))
        return None
    if person.village_id != village:
        row.errors.append(
            (
                column.header,
                _(
                    "This person is registered in another village of your area (%(village)s), "
                    "not in the village of this import."
                )
                % {"village": person.village_id},
            )
        )
        return None
    given = row.values.get(name_column.key)
    if given and register_services.name_key(given) != person.name_key:
        row.warnings.append(
            (
                name_column.header,
                _("The register has this NIK under another name: %(name)s.")
                % {"name": person.full_name},
            )
        )
    return person


def _reference(row: RowPlan, column: Column, lookups: _Lookups, what: str):
    name = row.values.get(column.key)
    if not name:
        return None
    found = lookups.references.get(name_norm(name), [])
    if not found:
        row.errors.append(
            (
                column.header,
                _("There is no %(what)s called %(name)s in this village: record it first.")
                % {"what": what, "name": name[:80]},
            )
        )
        return None
    if len(found) > 1:
        row.errors.append(
            (
                column.header,
                _(
                    "%(count)d %(what)s records of this village are called %(name)s: rename "
                    "one in the register first."
                )
                % {"count": len(found), "what": what, "name": name[:80]},
            )
        )
        return None
    return found[0]


# Fields compared with an existing record to call a row "unchanged".
COMPARED = {
    Target.ENTERPRISES: (
        "sector",
        "products",
        "start_date",
        "state",
        "workers",
        "revenue_band",
        "export_ready",
        "assistance",
    ),
    Target.MEMBERS: ("joined_on", "left_on"),
    Target.ATTENDANCE: ("children_attending", "adults_attending", "notes"),
}


def _plan_row(
    spec: Spec, row: RowPlan, *, lookups: _Lookups, village: str, in_file: Counter
) -> None:
    by_key = spec.by_key
    values = row.values
    file_key = _file_key(spec, values)
    if file_key is not None and in_file[file_key] > 1:
        first = spec.columns[0]
        row.errors.append(
            (
                first.header,
                _("The same record appears %(count)d times in the file (%(what)s); keep one row.")
                % {"count": in_file[file_key], "what": _what_duplicates(spec)},
            )
        )
    if spec.target == Target.ENTERPRISES:
        owner = _person(row, by_key["owner"], lookups, village, by_key["owner_name"])
        row.label = f"{values['name']} ({owner.full_name})" if owner else values["name"]
        if row.errors:
            row.outcome = Outcome.ERROR
            return
        instance = Enterprise(
            village_id=village,
            owner=owner,
            **{k: values[k] for k in ("name", *COMPARED[spec.target])},
        )
        key = (owner.pk, name_norm(values["name"]))
    elif spec.target == Target.MEMBERS:
        cooperative = _reference(row, by_key["cooperative"], lookups, _("cooperative"))
        person = _person(row, by_key["person"], lookups, village, by_key["person_name"])
        if cooperative and person:
            row.label = f"{cooperative.name}: {person.full_name}"
        if row.errors:
            row.outcome = Outcome.ERROR
            return
        instance = CooperativeMember(
            village_id=village,
            cooperative=cooperative,
            person=person,
            joined_on=values["joined_on"],
            left_on=values["left_on"],
        )
        key = (cooperative.pk, person.pk)
    else:
        group = _reference(row, by_key["group"], lookups, _("parenting group"))
        if group and values["date"]:
            row.label = f"{group.name}, {values['date']:%d-%m-%Y}: {values['topic']}"
        if row.errors:
            row.outcome = Outcome.ERROR
            return
        instance = ParentingSession(
            village_id=village,
            group=group,
            date=values["date"],
            topic=values["topic"],
            children_attending=values["children_attending"],
            adults_attending=values["adults_attending"],
            notes=values["notes"],
        )
        key = (group.pk, values["date"], name_norm(values["topic"]))
    existing = lookups.existing.get(key)
    if existing is not None:
        differing = [
            name for name in COMPARED[spec.target] if getattr(existing, name) != values[name]
        ]
        if differing:
            row.errors.append(
                (
                    spec.columns[0].header,
                    _(
                        "This is already recorded with other details (%(fields)s); change the "
                        "record in the register instead."
                    )
                    % {
                        "fields": ", ".join(
                            str(spec.model._meta.get_field(name).verbose_name) for name in differing
                        )
                    },
                )
            )
            row.outcome = Outcome.ERROR
        else:
            row.outcome = Outcome.UNCHANGED
        return
    # The model's own field rules, without the queries its relations would cost (those were
    # checked above): anything the reading missed shows here, on the row, not at the commit.
    try:
        instance.clean_fields(
            exclude=[f.name for f in spec.model._meta.concrete_fields if f.is_relation]
        )
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            column = by_key.get(name)
            header = column.header if column else name
            row.errors.extend((header, message) for message in messages)
        row.outcome = Outcome.ERROR
        return
    row.instance = instance
    row.outcome = Outcome.NEW


def _what_duplicates(spec: Spec) -> str:
    if spec.target == Target.ENTERPRISES:
        return _("same owner and enterprise name")
    if spec.target == Target.MEMBERS:
        return _("same cooperative and member")
    return _("same group, date and topic")


def plan_import(
    *,
    table: Table,
    target: str,
    village: str,
    actor: User,
    progress: Callable[[int], None] | None = None,
) -> Plan:
    """Check every row of the file against the village's data; nothing is written."""
    spec = spec_for(target)
    if not can(actor, Action.EDIT_PILLARS) or not services.village_in_scope(actor, village):
        raise FileRejected(_("You cannot record pillar data for this village."))
    mapping, file_problems = map_header(spec, table.header)
    rows = [RowPlan(row=number) for number, _cells in table.rows]
    plan = Plan(spec=spec, village=village, header=table.header, rows=rows, file_problems=[])
    plan.file_problems = file_problems
    try:
        services.pillar_for(village, spec.kind)
    except ValidationError as exc:
        plan.file_problems += [("error", message) for message in exc.messages]
    if len(rows) > max_rows():
        plan.file_problems.append(
            (
                "error",
                _(
                    "The file has %(count)d rows; at most %(max)d rows can be imported at once. "
                    "Split it into smaller files."
                )
                % {"count": len(rows), "max": max_rows()},
            )
        )
    if not rows and not plan.refused:
        plan.file_problems.append(("error", _("The file has a header but no rows.")))
    if plan.refused:
        for row in rows:
            row.outcome = Outcome.ERROR
        return plan

    today = timezone.localdate()
    for row, (_number, cells) in zip(rows, table.rows, strict=True):
        _read_row(spec, row, cells, mapping)
        _check_dates(spec, row, today)
    if progress:
        progress(40)
    lookups = _Lookups(spec=spec, village=village, actor=actor, rows=rows)
    in_file = Counter(key for row in rows if (key := _file_key(spec, row.values)) is not None)
    total = len(rows)
    for index, row in enumerate(rows, start=1):
        _plan_row(spec, row, lookups=lookups, village=village, in_file=in_file)
        if progress and index % 500 == 0:
            progress(40 + int(55 * index / total))
    return plan


def execute_plan(*, plan: Plan, actor: User, progress: Callable[[int], None] | None = None) -> int:
    """Write the plan's new rows, each through the service (checked, tagged with the village's
    pillar, audited), in the caller's transaction. Returns how many were written."""
    rows = plan.new_rows
    for index, row in enumerate(rows, start=1):
        try:
            services.record_create(actor=actor, instance=row.instance, kind=plan.spec.kind)
        except ValidationError as exc:
            raise ValidationError(
                _("Row %(row)d: %(message)s") % {"row": row.row, "message": " ".join(exc.messages)}
            ) from exc
        if progress and index % 100 == 0:
            progress(60 + int(39 * index / len(rows)))
    return len(rows)


# --- The import as a job: upload, validate, confirm, commit --------------------------------------


def progress_key(batch_id) -> str:
    return f"pillar-import-progress:{batch_id}"


def set_progress(batch_id, value: int) -> None:
    # The cache, not the batch row: during the commit the row is locked in an open transaction.
    cache.set(progress_key(batch_id), min(int(value), 100), timeout=3600)


def get_progress(batch: PillarImport) -> int:
    if not batch.is_running:
        done = (PillarImport.State.CHECKED, PillarImport.State.COMMITTED)
        return 100 if batch.state in done else batch.progress
    return int(cache.get(progress_key(batch.pk), batch.progress))


def import_upload(
    *, actor: User, target: str, village: str, data: bytes, filename: str
) -> PillarImport:
    """Store the file and queue its check. The same file sent again by the same user for the
    same register and village within minutes (a double click) gives back the first upload."""
    if target not in SPECS:
        raise ValidationError({"target": _("Choose what the file holds.")})
    if not can(actor, Action.EDIT_PILLARS) or not services.village_in_scope(actor, village):
        raise PermissionDenied
    digest = hashlib.sha256(data).hexdigest()
    with transaction.atomic():
        earlier = (
            PillarImport.objects.select_for_update()
            .filter(
                created_by=actor,
                sha256=digest,
                target=target,
                village_id=village,
                created_at__gte=timezone.now() - DOUBLE_UPLOAD_WINDOW,
            )
            .exclude(
                state__in=[
                    PillarImport.State.REJECTED,
                    PillarImport.State.FAILED,
                    PillarImport.State.CANCELLED,
                ]
            )
            .first()
        )
        if earlier is not None:
            return earlier
        batch = PillarImport(
            target=target,
            village_id=village,
            created_by=actor,
            filename=re.sub(r"[^\w.\- ]", "_", filename)[-120:] or "upload",
            sha256=digest,
            size=len(data),
        )
        batch.file.save(f"{uuid.uuid4().hex}.bin", ContentFile(data), save=False)
        batch.save()
        from pillars.tasks import validate_pillar_import

        validate_pillar_import.delay_on_commit(str(batch.pk))
    return batch


def _claim(batch_id, *, from_states: list[str], to_state: str) -> bool:
    """Move a batch on only if nobody did it already (a conditional UPDATE)."""
    return bool(
        PillarImport.objects.filter(pk=batch_id, state__in=from_states).update(state=to_state)
    )


def read_batch(batch: PillarImport) -> Table:
    with batch.file.open("rb") as handle:
        return read_table(handle.read())


def validate_batch(*, batch_id) -> None:
    """The check: read the file, plan every row, keep the problems for the preview."""
    if not _claim(
        batch_id,
        from_states=[PillarImport.State.UPLOADED],
        to_state=PillarImport.State.VALIDATING,
    ):
        return  # already checked or being checked: a redelivered task does nothing
    batch = PillarImport.objects.select_related("created_by").get(pk=batch_id)
    set_progress(batch.pk, 5)
    try:
        table = read_batch(batch)
        set_progress(batch.pk, 15)
        plan = plan_import(
            table=table,
            target=batch.target,
            village=batch.village_id,
            actor=batch.created_by,
            progress=lambda value: set_progress(batch.pk, value),
        )
    except FileRejected as exc:
        _reject(batch.pk, exc.message)
        return
    except Exception:
        # A bug, not the user's file: the batch must not stay "being checked" for ever.
        logger.exception("pillar import %s could not be checked", batch.pk)
        _reject(batch.pk, _("The file could not be checked. Try again later."))
        raise
    outcomes = [[row.row, row.outcome, row.label[:120]] for row in plan.rows]
    PillarImport.objects.filter(pk=batch.pk).update(
        state=PillarImport.State.REJECTED if plan.refused else PillarImport.State.CHECKED,
        kind=table.kind,
        counts=plan.counts,
        problems=plan.problems(),
        outcomes=[] if plan.refused else outcomes,
        progress=100,
        checked_at=timezone.now(),
        message=" ".join(m for level, m in plan.file_problems if level == "error"),
    )


def _reject(batch_id, message: str) -> None:
    PillarImport.objects.filter(pk=batch_id).update(
        state=PillarImport.State.REJECTED,
        message=message,
        problems=[{"row": 1, "column": "", "level": "error", "message": message}],
        progress=100,
        checked_at=timezone.now(),
    )


def confirm_batch(*, batch: PillarImport, actor: User) -> bool:
    """The user confirms importing the valid rows; a second click does nothing."""
    if not can(actor, Action.EDIT_PILLARS) or not services.village_in_scope(
        actor, batch.village_id
    ):
        raise PermissionDenied
    with transaction.atomic():
        claimed = _claim(
            batch.pk,
            from_states=[PillarImport.State.CHECKED, PillarImport.State.FAILED],
            to_state=PillarImport.State.COMMITTING,
        )
        if claimed:
            # A retry after a failure starts its count of attempts again.
            PillarImport.objects.filter(pk=batch.pk).update(
                committed_by=actor, progress=0, attempts=0, message=""
            )
            from pillars.tasks import commit_pillar_import

            commit_pillar_import.delay_on_commit(str(batch.pk))
    return claimed


def cancel_batch(*, batch: PillarImport, actor: User) -> bool:
    if not can(actor, Action.EDIT_PILLARS) or not services.village_in_scope(
        actor, batch.village_id
    ):
        raise PermissionDenied
    return _claim(
        batch.pk,
        from_states=[PillarImport.State.CHECKED],
        to_state=PillarImport.State.CANCELLED,
    )


class ImportRefused(Exception):
    pass


def commit_batch(*, batch_id) -> None:
    """The commit: check every row again on today's data and write all the valid rows, or none.

    The batch row is locked for the whole transaction, so a second delivery of the task waits
    and then finds the work done; a worker killed mid-way leaves nothing half-written.
    """
    # Counted outside the transaction, so a file that kills every worker fails after a few
    # tries instead of looping forever.
    PillarImport.objects.filter(pk=batch_id, state=PillarImport.State.COMMITTING).update(
        attempts=F("attempts") + 1
    )
    attempts = PillarImport.objects.filter(pk=batch_id).values_list("attempts", flat=True).first()
    if attempts is not None and attempts > MAX_COMMIT_ATTEMPTS:
        fail_batch(
            batch_id=batch_id,
            message=_(
                "The import stopped %(count)d times before it finished; it was not retried again."
            )
            % {"count": attempts - 1},
        )
        return
    with transaction.atomic():
        batch = (
            PillarImport.objects.select_for_update(of=("self",))
            .select_related("committed_by", "created_by")
            .filter(pk=batch_id)
            .first()
        )
        if batch is None or batch.state != PillarImport.State.COMMITTING:
            return
        actor = batch.committed_by or batch.created_by
        set_progress(batch.pk, 5)
        plan = plan_import(
            table=read_batch(batch),
            target=batch.target,
            village=batch.village_id,
            actor=actor,
            progress=lambda value: set_progress(batch.pk, value * 6 // 10),
        )
        if plan.refused:
            raise ImportRefused(" ".join(m for level, m in plan.file_problems if level == "error"))
        written = execute_plan(
            plan=plan, actor=actor, progress=lambda value: set_progress(batch.pk, value)
        )
        counts = {**plan.counts, "written": written}
        services.audit(
            actor=actor,
            instance=batch,
            village_id=batch.village_id,
            action=AuditEntry.Action.IMPORTED,
            changes={"file": batch.filename, "register": batch.target, **counts},
        )
        batch.state = PillarImport.State.COMMITTED
        batch.counts = counts
        batch.committed_at = timezone.now()
        batch.progress = 100
        batch.save(update_fields=["state", "counts", "committed_at", "progress"])
    set_progress(batch_id, 100)


def sent_key(batch_id) -> str:
    return f"pillar-import-sent:{batch_id}"


def resend_stalled() -> int:
    """Send again the tasks of pillar imports that wait for one (as the register's do)."""
    from migrants.importer import resend_stalled_batches
    from pillars.tasks import commit_pillar_import, validate_pillar_import

    return resend_stalled_batches(
        PillarImport,
        key=sent_key,
        validate_task=validate_pillar_import,
        commit_task=commit_pillar_import,
    )


def fail_batch(*, batch_id, message: str) -> None:
    PillarImport.objects.filter(pk=batch_id, state=PillarImport.State.COMMITTING).update(
        state=PillarImport.State.FAILED, message=message[:2000]
    )


# --- Spreadsheets ---------------------------------------------------------------------------------

TEMPLATE_SHEET = "Data"
GUIDE_SHEET = "Petunjuk"
LIST_SHEET = "Daftar"
TEMPLATE_ROWS = 2000
BOLD = Font(bold=True)
TEXT_FORMAT = "@"
DATE_FORMAT = "yyyy-mm-dd"


def template_xlsx(spec: Spec, *, references: list[str] | None = None) -> bytes:
    """The template of one register: the "Data" sheet to fill in, the "Petunjuk" sheet that
    explains each column; with `references` (the village's cooperatives or groups) a "Daftar"
    sheet listing them, offered as a drop-down. Always in Indonesian, like the headers."""
    with translation.override("id"):
        workbook = Workbook()
        sheet = workbook.active
        sheet.title = TEMPLATE_SHEET
        sheet.append([column.header for column in spec.columns])
        for cell in sheet[1]:
            cell.font = BOLD
        sheet.freeze_panes = "A2"
        last = TEMPLATE_ROWS + 1
        for position, column in enumerate(spec.columns, start=1):
            letter = get_column_letter(position)
            dimension = sheet.column_dimensions[letter]
            dimension.width = column.width
            number_format = {"nik": TEXT_FORMAT, "date": DATE_FORMAT, "count": "0"}.get(column.kind)
            if number_format:
                # Column styles are not read by every program: the cells carry it too.
                dimension.number_format = number_format
                for row in range(2, last + 1):
                    sheet.cell(row=row, column=position).number_format = number_format
            if column.kind == "choice":
                values = column.offered()
                validation = DataValidation(
                    type="list",
                    formula1='"' + ",".join(values) + '"',
                    allow_blank=True,
                    showErrorMessage=True,
                    errorTitle=_("Value not in the list"),
                    error=_("Choose one of: %(values)s.") % {"values": ", ".join(values)},
                )
                validation.add(f"{letter}2:{letter}{last}")
                sheet.add_data_validation(validation)
            elif column.kind == "count":
                validation = DataValidation(
                    type="whole",
                    operator="between",
                    formula1="0",
                    formula2=str(MAX_COUNT),
                    allow_blank=True,
                    showErrorMessage=True,
                    error=_("A whole number, 0 or more."),
                )
                validation.add(f"{letter}2:{letter}{last}")
                sheet.add_data_validation(validation)
            elif column.key == spec.reference and references:
                lists = workbook.create_sheet(LIST_SHEET)
                lists.append([column.header])
                lists["A1"].font = BOLD
                lists.column_dimensions["A"].width = 40
                for name in references:
                    lists.append([escape_cell(ILLEGAL_CHARACTERS_RE.sub("", name))])
                validation = DataValidation(
                    type="list",
                    formula1=f"{LIST_SHEET}!$A$2:$A${len(references) + 1}",
                    allow_blank=True,
                    showErrorMessage=True,
                    # A warning, not a stop: a group recorded after the download is valid too.
                    errorStyle="warning",
                    error=_("This name is not in the Daftar sheet."),
                )
                validation.add(f"{letter}2:{letter}{last}")
                sheet.add_data_validation(validation)
        _fill_guide(spec, workbook.create_sheet(GUIDE_SHEET, 1))
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()


def _fill_guide(spec: Spec, sheet) -> None:
    notes = [
        _("How to fill in the Data sheet"),
        *(str(note) for note in spec.notes),
        _("The file is for one village: the one chosen when uploading."),
        _(
            "Dates: an Excel date, or YYYY-MM-DD (DD/MM/YYYY and DD-MM-YYYY are accepted too). "
            "The date columns are already formatted."
        ),
        _(
            "NIK columns must be typed as text (they are already formatted as text): as a "
            "number, Excel keeps only 15 digits and the 16th is lost."
        ),
        _("Do not change the headers in the first row of the Data sheet."),
    ]
    for note in notes:
        sheet.append([note])
    sheet["A1"].font = BOLD
    sheet.append([])
    sheet.append(["Kolom", "Wajib", "Isi yang diterima", "Keterangan"])
    for cell in sheet[sheet.max_row]:
        cell.font = BOLD
    accepted = {
        "nik": _("16 digits, as text"),
        "date": _("A date"),
        "count": _("A whole number, 0 or more"),
        "name": _("Text"),
        "text": _("Text"),
    }
    for column in spec.columns:
        sheet.append(
            [
                column.header,
                "Ya" if column.required else "Tidak",
                ", ".join(column.offered()) if column.kind == "choice" else accepted[column.kind],
                str(column.help),
            ]
        )
    wrap = Alignment(wrap_text=True, vertical="top")
    for letter, width in (("A", 24), ("B", 8), ("C", 44), ("D", 70)):
        sheet.column_dimensions[letter].width = width
    for row in sheet.iter_rows(min_row=len(notes) + 3):
        for cell in row:
            cell.alignment = wrap


ERROR_FILL = PatternFill(fill_type="solid", fgColor="FFC7CE")
ERROR_FONT = Font(bold=True, color="9C0006")


def _cell(sheet, value: object, *, nik: bool = False) -> object:
    if value == "":
        value = None
    if isinstance(value, float) and nik and value.is_integer():
        value = str(int(value))
    if isinstance(value, str):
        value = escape_cell(ILLEGAL_CHARACTERS_RE.sub("", value))
    elif isinstance(value, datetime.datetime) and value.tzinfo is not None:
        value = timezone.localtime(value).replace(tzinfo=None)
    if nik:
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = TEXT_FORMAT
        return cell
    return value


def error_report_xlsx(
    spec: Spec, header: list[str], rows: Iterable[tuple[list, list[str]]]
) -> bytes:
    """The refused rows as they were sent, with a last "Kesalahan" column: fix and upload the
    file again as it is (the import ignores "Kesalahan"; an earlier one is dropped)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(ERROR_HEADER)
    error_key = header_key(ERROR_HEADER)
    kept = [i for i, text in enumerate(header) if header_key(text) != error_key]
    index = spec.header_index
    by_key = spec.by_key
    niks = [by_key.get(index.get(header_key(header[i]), ""), None) for i in kept]
    niks = [column is not None and column.kind == "nik" for column in niks]
    for position, i in enumerate(kept, start=1):
        column = by_key.get(index.get(header_key(header[i]), ""))
        sheet.column_dimensions[get_column_letter(position)].width = column.width if column else 18
    sheet.column_dimensions[get_column_letter(len(kept) + 1)].width = 60
    sheet.freeze_panes = "A2"
    head = []
    for i in kept:
        cell = WriteOnlyCell(sheet, value=escape_cell(ILLEGAL_CHARACTERS_RE.sub("", header[i])))
        cell.font = BOLD
        head.append(cell)
    error_cell = WriteOnlyCell(sheet, value=ERROR_HEADER)
    error_cell.font = ERROR_FONT
    error_cell.fill = ERROR_FILL
    sheet.append([*head, error_cell])
    for cells, messages in rows:
        sheet.append(
            [
                *(
                    _cell(sheet, cells[i] if i < len(cells) else None, nik=nik)
                    for i, nik in zip(kept, niks, strict=True)
                ),
                _cell(sheet, "; ".join(messages)),
            ]
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def error_report(batch: PillarImport) -> bytes:
    """The error report of a checked batch, from its stored problems and its file."""
    by_row: dict[int, list[str]] = {}
    for problem in batch.problems:
        if problem["level"] == "error" and problem["row"] > 1:
            column, message = problem["column"], problem["message"]
            by_row.setdefault(problem["row"], []).append(
                f"{column}: {message}" if column else message
            )
    table = read_batch(batch)
    rows = [(cells, by_row[number]) for number, cells in table.rows if number in by_row]
    return error_report_xlsx(spec_for(batch.target), table.header, rows)


def reference_names(spec: Spec, *, village: str, actor: User) -> list[str]:
    """The village's cooperatives or groups a template offers, by name."""
    if not spec.reference:
        return []
    model = Cooperative if spec.reference == "cooperative" else ParentingGroup
    return list(
        model.objects.for_user(actor)
        .alive()
        .filter(village_id=village)
        .order_by("name")
        .values_list("name", flat=True)
    )
