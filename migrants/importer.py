"""The bulk import of the register: plan (validate every row, set-based), then write in bulk.

The rules are the forms' rules (`services.identity_problems`, `services.episode_problems`);
what differs is how the database is asked: one query for all the file's NIKs, one for its
village codes, one for the districts, instead of a few per row (django-import-export's row-by-row
path manages ~400 rows/s; see docs/benchmarks.md).
"""

import datetime
import re
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.permissions import Action, can
from accounts.scope import scope_prefix
from desmigratif.bulk import insert_rows
from desmigratif.rls import system_scope
from migrants import services
from migrants.columns import (
    BY_KEY,
    HEADER_INDEX,
    VALUE_INDEX,
    header_key,
    value_key,
    written_value,
)
from migrants.countries import lookup_country
from migrants.models import (
    Episode,
    ImportBatch,
    ImportChange,
    Person,
    PersonHistory,
    SensitiveAccess,
    Status,
    Verification,
)
from migrants.nik import mask
from migrants.spreadsheets import escape_cell
from migrants.tabular import FileRejected, Table
from villages.models import Region

PERSON_KEYS = (
    "nik",
    "no_kk",
    "full_name",
    "sex",
    "birth_place",
    "birth_date",
    "address",
    "phone",
    "education",
)
EPISODE_KEYS = (
    "destination_country",
    "job_title",
    "sector",
    "placement_scheme",
    "p3mi_name",
    "departure_date",
    "return_date",
    "return_reason",
    "procedural_status",
)
MAX_LENGTH = {
    "full_name": 150,
    "birth_place": 100,
    "address": 255,
    "phone": 20,
    "job_title": 100,
    "p3mi_name": 200,
}
REQUIRED_HEADERS = ("full_name", "sex", "birth_date")
IGNORED_HEADERS = {
    header_key("Kesalahan"),
    header_key("Errors"),
    header_key("Baris"),
    header_key("No"),
    header_key("No."),
}
CHUNK = 5000
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DMY_DATE = re.compile(r"^(\d{1,2})[/-](\d{1,2})[/-](\d{4})$")
_DIGITS = re.compile(r"^\d{10}$")
_CODE = re.compile(r"^\d{2}\.\d{2}\.\d{2}\.\d{4}$")


class Outcome:
    NEW = "new"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    ERROR = "error"


@dataclass
class RowPlan:
    row: int
    cells: list
    outcome: str = Outcome.NEW
    errors: list[tuple[str, str]] = field(default_factory=list)  # (column header, message)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    person: dict[str, Any] = field(default_factory=dict)
    episode: dict[str, Any] | None = None
    village: str = ""
    existing: Person | None = None
    existing_episodes: list[Episode] = field(default_factory=list)
    new_person_id: uuid.UUID | None = None
    new_episode: dict | None = None
    changes: dict[str, Any] = field(default_factory=dict)
    episode_target: Episode | None = None
    episode_changes: dict[str, Any] = field(default_factory=dict)
    nik_warnings: list[str] = field(default_factory=list)


@dataclass
class Plan:
    header: list[str]
    rows: list[RowPlan]
    file_problems: list[tuple[str, str]]  # (level, message) about the file as a whole

    @property
    def counts(self) -> dict[str, int]:
        outcomes = Counter(row.outcome for row in self.rows)
        return {
            "rows": len(self.rows),
            "new": outcomes[Outcome.NEW],
            "updated": outcomes[Outcome.UPDATED],
            "unchanged": outcomes[Outcome.UNCHANGED],
            "warnings": sum(1 for row in self.rows if row.warnings),
            "errors": outcomes[Outcome.ERROR],
        }

    @property
    def valid_rows(self) -> list[RowPlan]:
        return [row for row in self.rows if row.outcome in (Outcome.NEW, Outcome.UPDATED)]


# --- Reading cells -----------------------------------------------------------------------------


class CellError(ValueError):
    pass


def _text(value: object) -> str:
    if value.__class__ is str:
        text = value.strip()
    elif value is None:
        return ""
    elif isinstance(value, float) and value.is_integer():
        return str(int(value))
    elif isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()[:10]
    else:
        text = str(value).strip()
    if text[:1] == "'" and escape_cell(text[1:]) == text:
        # Our own escaping of a formula-like cell (export, error report): undo it.
        return text[1:].strip()
    return text


def _date(value: object) -> datetime.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, int | float):
        raise CellError(
            _("is a number, not a date: format the cell as a date or type it as YYYY-MM-DD.")
        )
    text = str(value).strip()
    if not text:
        return None
    match = _ISO_DATE.match(text)
    if match:
        year, month, day = (int(part) for part in match.groups())
    else:
        match = _DMY_DATE.match(text)
        if not match:
            raise CellError(
                _("%(value)s is not a date: use YYYY-MM-DD, DD/MM/YYYY or DD-MM-YYYY.")
                % {"value": text[:40]}
            )
        day, month, year = (int(part) for part in match.groups())
    try:
        return datetime.date(year, month, day)
    except ValueError as exc:
        raise CellError(
            _("%(value)s is not a real date (day %(day)d, month %(month)d).")
            % {"value": text[:40], "day": day, "month": month}
        ) from exc


_CHOICE_MEMO: dict[tuple[str, str], str] = {}


def _choice(key: str, value: object) -> str:
    text = _text(value)
    if not text:
        return ""
    # The same few spellings repeat on every row: remember each one's answer.
    stored = _CHOICE_MEMO.get((key, text))
    if stored is not None:
        return stored
    stored = VALUE_INDEX[key].get(value_key(text))
    if stored is not None:
        if len(_CHOICE_MEMO) < 10_000:
            _CHOICE_MEMO[(key, text)] = stored
        return stored
    if stored is None:
        column = BY_KEY[key]
        allowed = ", ".join(
            written_value(column, value) for value in dict.fromkeys(column.values.values())
        )
        raise CellError(
            _("%(value)s is not allowed; use one of: %(allowed)s.")
            % {"value": text[:40], "allowed": allowed}
        )
    return stored


def _village_code(value: object) -> str:
    text = _text(value).replace(" ", "")
    if not text:
        return ""
    if _DIGITS.match(text):
        text = f"{text[:2]}.{text[2:4]}.{text[4:6]}.{text[6:]}"
    if not _CODE.match(text):
        raise CellError(
            _("%(value)s is not a village code (PP.KK.CC.DDDD).") % {"value": text[:40]}
        )
    return text


# --- Planning ------------------------------------------------------------------------------


def map_header(header: list[str]) -> tuple[dict[int, str], list[tuple[str, str]]]:
    """Column index -> field key; and problems with the header as a whole."""
    mapping: dict[int, str] = {}
    problems: list[tuple[str, str]] = []
    seen: dict[str, str] = {}
    for index, name in enumerate(header):
        key = HEADER_INDEX.get(header_key(name))
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
                    % {"first": seen[key], "second": name},
                )
            )
            continue
        seen[key] = name
        mapping[index] = key
    missing = [BY_KEY[key].header for key in REQUIRED_HEADERS if key not in seen]
    if missing:
        problems.append(
            (
                "error",
                _(
                    "The file lacks the columns %(missing)s. Use the template: its first row "
                    "must hold the column names (found: %(found)s)."
                )
                % {
                    "missing": ", ".join(missing),
                    "found": ", ".join(h for h in header if h.strip())[:300] or "—",
                },
            )
        )
    return mapping, problems


class _Lookups:
    """Everything the rows need from the database, fetched once per file."""

    def __init__(
        self,
        *,
        actor: User,
        districts: set[str],
        niks: set[str],
        villages: set[str],
        name_keys: set[str],
    ) -> None:
        self.prefix = scope_prefix(actor)
        self.districts = districts
        self.villages: dict[str, Region] = {}
        for chunk in _chunks(sorted(villages)):
            for region in Region.objects.filter(code__in=chunk):
                self.villages[region.code] = region
        self.by_nik: dict[str, Person] = {}
        # Every NIK in the country: one registered outside the area is refused, with a message
        # that does not say where (desmigratif.rls would hide it otherwise).
        with system_scope():
            for chunk in _chunks(sorted(niks)):
                for person in Person.objects.filter(nik__in=chunk):
                    self.by_nik[person.nik] = person
        self.in_scope = {
            pk
            for chunk in _chunks([p.pk for p in self.by_nik.values()])
            for pk in Person.objects.for_user(actor)
            .filter(pk__in=chunk)
            .values_list("pk", flat=True)
        }
        self.episodes: dict[uuid.UUID, list[Episode]] = defaultdict(list)
        for chunk in _chunks(sorted(self.in_scope, key=str)):
            for episode in Episode.objects.filter(person_id__in=chunk):
                self.episodes[episode.person_id].append(episode)
        self.same_name: dict[tuple[str, datetime.date, str], int] = Counter()
        for chunk in _chunks(sorted(name_keys)):
            rows = (
                Person.objects.for_user(actor)
                .alive()
                .filter(name_key__in=chunk)
                .values_list("name_key", "birth_date", "village_id")
            )
            for name_key, birth_date, village in rows:
                self.same_name[(name_key, birth_date, village[:5])] += 1

    def village_in_scope(self, code: str) -> bool:
        if self.prefix is None:
            return True
        return code == self.prefix or code.startswith(self.prefix + ".")


def _chunks(items: list, size: int = CHUNK) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def plan_import(
    *, table: Table, actor: User, progress: Callable[[int], None] | None = None
) -> Plan:
    if not can(actor, Action.IMPORT_REGISTER):
        raise FileRejected(_("Your role cannot import into the register."))
    mapping, file_problems = map_header(table.header)
    rows = [RowPlan(row=number, cells=cells) for number, cells in table.rows]
    plan = Plan(header=table.header, rows=rows, file_problems=file_problems)
    if any(level == "error" for level, _message in file_problems):
        for row in rows:
            row.outcome = Outcome.ERROR
        return plan
    if not rows:
        plan.file_problems.append(("error", _("The file has a header but no rows.")))
        return plan
    today = timezone.localdate()
    own_village = actor.scope_id if actor.scope_id and len(actor.scope_id) == 13 else ""

    # Pass 1: every cell read on its own, and the NIK and No. KK rules (no database but the
    # district list).
    districts = set(
        Region.objects.filter(level=Region.Level.DISTRICT).values_list("code", flat=True)
    )
    readers = compile_readers(mapping)
    for row in rows:
        _read_row(row, readers, own_village)
        _check_identity(row, districts=districts, today=today)
        row.cells = None  # read: the error report reads the file again
    niks = {row.person["nik"] for row in rows if row.person.get("nik")}
    villages = {row.village for row in rows if row.village}
    name_keys = {
        services.name_key(row.person.get("full_name", ""))
        for row in rows
        if not row.person.get("nik")
    }
    lookups = _Lookups(
        actor=actor, districts=districts, niks=niks, villages=villages, name_keys=name_keys
    )
    if progress:
        progress(30)

    # Pass 2: the rules that need the database or the other rows.
    nik_rows = Counter(row.person.get("nik") for row in rows if row.person.get("nik"))
    total = len(rows)
    for index, row in enumerate(rows, start=1):
        _check_row(row, lookups=lookups, nik_rows=nik_rows, today=today)
        if progress and index % 5000 == 0:
            progress(30 + int(65 * index / total))
    return plan


def compile_readers(mapping: dict[int, str]) -> list[tuple[int, str, str, str, bool]]:
    """Per mapped column, once per file: (cell index, field, header, kind, is a person field)."""
    readers = []
    for index, key in mapping.items():
        column = BY_KEY[key]
        if column.is_identifier:
            kind = "identifier"
        elif column.is_date:
            kind = "date"
        elif key in ("village", "status", "destination_country"):
            kind = key
        elif column.values:
            kind = "choice"
        else:
            kind = "text"
        readers.append((index, key, column.header, kind, key in PERSON_KEYS))
    return readers


def _read_row(row: RowPlan, readers: list, own_village: str) -> None:
    cells = row.cells
    size = len(cells)
    person: dict[str, Any] = {}
    episode: dict[str, Any] = {}
    for index, key, header, kind, of_person in readers:
        value = cells[index] if index < size else None
        target = person if of_person else episode
        try:
            if kind == "text":
                text = _text(value)
                limit = MAX_LENGTH.get(key, 255)
                if len(text) > limit:
                    raise CellError(_("is longer than %(max)d characters.") % {"max": limit})
                target[key] = text
            elif kind == "choice":
                target[key] = _choice(key, value)
            elif kind == "date":
                target[key] = _date(value)
            elif kind == "identifier":
                if isinstance(value, datetime.date | bool):
                    raise CellError(_("is not a number: type it as text, 16 digits."))
                person[key] = value  # checked with the birth date and sex, below
            elif kind == "village":
                row.village = _village_code(value)
            elif kind == "status":
                episode["_status"] = _choice(key, value)
            else:  # destination_country
                text = _text(value)
                if text:
                    code = lookup_country(text)
                    if code is None:
                        raise CellError(
                            _("%(value)s is not a known country.") % {"value": text[:40]}
                        )
                    episode[key] = code
        except CellError as exc:
            row.errors.append((header, str(exc)))
    refused = {column for column, _message in row.errors}
    for key in REQUIRED_HEADERS:
        if not person.get(key) and BY_KEY[key].header not in refused:
            row.errors.append((BY_KEY[key].header, _("is required.")))
    if not row.village:
        if own_village:
            row.village = own_village
        elif BY_KEY["village"].header not in refused:
            row.errors.append((BY_KEY["village"].header, _("is required (the village code).")))
    status = episode.pop("_status", "")
    has_episode = any(episode.get(key) for key in EPISODE_KEYS) or status in (
        Status.CPMI,
        Status.PMI,
        Status.PURNA,
    )
    if has_episode:
        episode.setdefault("procedural_status", "")
        if not episode["procedural_status"]:
            episode["procedural_status"] = "unknown"
        row.episode = episode
        _check_status(row, status)
    elif status == Status.FAMILY or not status:
        row.episode = None
    row.person = person


def _check_status(row: RowPlan, status: str) -> None:
    episode = row.episode or {}
    departed, returned = episode.get("departure_date"), episode.get("return_date")
    header = BY_KEY["status"].header
    if status == Status.CPMI and departed:
        row.errors.append(
            (
                header,
                _(
                    "CPMI means not yet departed, but the row has a departure "
                    "date: use PMI or Purna PMI."
                ),
            )
        )
    elif status == Status.PMI and (not departed or returned):
        row.errors.append(
            (header, _("PMI means abroad now: it needs a departure date and no return date."))
        )
    elif status == Status.PURNA and not returned:
        row.errors.append((header, _("Purna PMI means returned: it needs the return date.")))
    elif status == Status.FAMILY:
        row.errors.append(
            (
                header,
                _(
                    "A family member has no migration: empty the migration "
                    "columns or change the status."
                ),
            )
        )


class _Identity:
    """The four fields the identity rules read: a Person instance per row costs seconds."""

    __slots__ = ("birth_date", "nik", "no_kk", "sex")

    def __init__(self, nik, no_kk, birth_date, sex) -> None:
        self.nik, self.no_kk, self.birth_date, self.sex = nik, no_kk, birth_date, sex


class _Migration:
    """The fields the episode rules read, without a model instance."""

    __slots__ = (
        "contract_end",
        "contract_start",
        "departure_date",
        "destination_country",
        "return_date",
        "return_reason",
    )

    def __init__(self, data: dict) -> None:
        for name in self.__slots__:
            setattr(
                self,
                name,
                data.get(name)
                or ("" if name in ("destination_country", "return_reason") else None),
            )


def _check_identity(row: RowPlan, *, districts: set[str], today: datetime.date) -> None:
    """The forms' NIK and No. KK rules; leaves the normalised numbers on the row."""
    from migrants.templatetags.migrants_tags import WARNING_LABELS

    person_data = row.person
    candidate = _Identity(
        person_data.get("nik"),
        person_data.get("no_kk") or "",
        person_data.get("birth_date"),
        person_data.get("sex") or "",
    )
    errors, warnings = services.identity_problems(
        person=candidate, known_district=districts.__contains__, today=today
    )
    for key, messages in errors.items():
        row.errors.extend((BY_KEY[key].header, message) for message in messages)
    if "nik" in person_data or candidate.nik:
        person_data["nik"] = None if "nik" in errors else (candidate.nik or None)
    if "no_kk" in person_data:
        person_data["no_kk"] = "" if "no_kk" in errors else candidate.no_kk
    row.nik_warnings = warnings
    for code in warnings:
        column = BY_KEY["no_kk" if code.startswith("kk_") else "nik"].header
        row.warnings.append((column, str(WARNING_LABELS.get(code, code))))


def _check_row(row: RowPlan, *, lookups: _Lookups, nik_rows: Counter, today: datetime.date) -> None:
    person_data = row.person
    if row.village:
        region = lookups.villages.get(row.village)
        if region is None or region.level != Region.Level.VILLAGE:
            row.errors.append(
                (
                    BY_KEY["village"].header,
                    _("%(code)s is not a village code in the region list.") % {"code": row.village},
                )
            )
        elif not lookups.village_in_scope(row.village):
            row.errors.append(
                (
                    BY_KEY["village"].header,
                    _("The village %(code)s is outside your area.") % {"code": row.village},
                )
            )
        elif region.is_retired:
            row.errors.append(
                (
                    BY_KEY["village"].header,
                    _("The village code %(code)s is retired; use the current code.")
                    % {"code": row.village},
                )
            )

    if row.episode is not None:
        episode = _Migration(row.episode)
        for key, messages in services.episode_problems(episode, today=today).items():
            row.errors.extend((BY_KEY.get(key, BY_KEY["status"]).header, m) for m in messages)

    nik = person_data.get("nik")
    if nik and nik_rows[nik] > 1:
        row.errors.append(
            (
                "NIK",
                _("This NIK appears %(count)d times in the file; a person can be on one row only.")
                % {"count": nik_rows[nik]},
            )
        )
    existing = lookups.by_nik.get(nik) if nik else None
    if existing is not None:
        if existing.pk not in lookups.in_scope:
            row.errors.append(("NIK", services.nik_elsewhere_message()))
        elif existing.is_deleted:
            row.errors.append(("NIK", services.nik_deleted_message()))
        elif row.village and existing.village_id != row.village:
            row.errors.append(
                (
                    BY_KEY["village"].header,
                    _(
                        "This person is registered in %(village)s; move the record with a transfer "
                        "instead of changing the village code."
                    )
                    % {"village": existing.village_id},
                )
            )
        else:
            row.existing = existing
            row.existing_episodes = lookups.episodes.get(existing.pk, [])
    if not nik and person_data.get("full_name") and person_data.get("birth_date"):
        key = (
            services.name_key(person_data["full_name"]),
            person_data["birth_date"],
            row.village[:5],
        )
        if lookups.same_name.get(key):
            row.warnings.append(
                (
                    BY_KEY["full_name"].header,
                    _(
                        "A person with this name and date of birth is already registered in the "
                        "regency: it may be the same person (add the NIK to be sure)."
                    ),
                )
            )

    if row.errors:
        row.outcome = Outcome.ERROR
        return
    if row.existing is None:
        row.outcome = Outcome.NEW
        return
    _plan_update(row, row.existing_episodes)


def _plan_update(row: RowPlan, episodes: list[Episode]) -> None:
    """An existing person: empty cells keep what is recorded; filled cells that differ are
    changes. The row's migration updates the one with the same departure (or the one not yet
    departed), or adds a new one."""
    person = row.existing
    for key, value in row.person.items():
        if value in (None, "") or key not in PERSON_KEYS:
            continue
        if getattr(person, key) != value:
            row.changes[key] = value
    if row.episode is not None:
        departure = row.episode.get("departure_date")
        target = next((e for e in episodes if e.departure_date == departure), None)
        if target is None and departure is None:
            target = next((e for e in episodes if e.departure_date is None), None)
        if target is None:
            latest = services.latest_episode(episodes)
            if (
                latest is not None
                and latest.stage == Episode.Stage.ABROAD
                and not row.episode.get("return_date")
            ):
                row.errors.append(
                    (
                        BY_KEY["departure_date"].header,
                        _(
                            "This person is abroad on another migration: give the return date of "
                            "that migration first."
                        ),
                    )
                )
                row.outcome = Outcome.ERROR
                return
            row.episode_changes = {k: v for k, v in row.episode.items() if v not in (None, "")}
        else:
            row.episode_target = target
            row.episode_changes = {
                key: value
                for key, value in row.episode.items()
                if value not in (None, "") and getattr(target, key) != value
            }
    row.outcome = Outcome.UPDATED if (row.changes or row.episode_changes) else Outcome.UNCHANGED


# --- Writing ---------------------------------------------------------------------------------


def _created_changes(person: dict, episode: dict | None) -> dict:
    """The history of a created row: every filled field as ["", value], identifiers masked
    (the same as services._diff({}, ...) gives, written out for speed)."""
    changes = {}
    for source in (person, episode or {}):
        for key, value in source.items():
            if value is None or value == "":
                continue
            if key == "nik" or key == "no_kk":
                value = mask(value)
            elif value.__class__ is datetime.date:
                value = value.isoformat()
            changes[key] = ["", value]
    return changes


def _new_people(rows: list[RowPlan], *, actor: User, now) -> Iterable[dict]:
    village_key = Person._meta.get_field("village").attname
    for row in rows:
        data = {k: v for k, v in row.person.items() if k in PERSON_KEYS}
        person_id = uuid.uuid4()
        row.new_person_id = person_id
        episode = None
        if row.episode is not None:
            episode = {k: v for k, v in row.episode.items() if k in EPISODE_KEYS and v is not None}
            episode.update(id=uuid.uuid4(), person_id=person_id, created_at=now, updated_at=now)
        row.new_episode = episode
        yield {
            **{k: (v if v is not None else ("" if k != "nik" else None)) for k, v in data.items()},
            "id": person_id,
            village_key: row.village,
            "created_by_id": actor.pk,
            "created_at": now,
            "updated_at": now,
            "name_key": services.name_key(data["full_name"]),
            "nik_warnings": row.nik_warnings,
            "verification": Verification.DRAFT,
            **services.derived_fields([_EpisodeView(episode)] if episode else []),
        }


def _new_history(rows: list[RowPlan], *, actor: User, batch: ImportBatch, now) -> Iterable[dict]:
    for row in rows:
        yield {
            "person_id": row.new_person_id,
            "village_id": row.village,
            "at": now,
            "actor_id": actor.pk,
            "action": PersonHistory.Action.IMPORTED,
            "source": "import",
            "batch_id": batch.pk,
            "note": "",
            "changes": _created_changes(row.person, row.episode),
        }


def execute_plan(*, plan: Plan, batch: ImportBatch, actor: User) -> dict[str, int]:
    """Write every valid row of the plan, in the caller's transaction, in bulk."""
    now = timezone.now()
    new_episodes: list[Episode] = []
    history: list[PersonHistory] = []
    changes: list[ImportChange] = []
    updated_people: list[Person] = []
    updated_episodes: list[Episode] = []
    person_fields: set[str] = set()
    episode_fields: set[str] = set()

    new_rows = [row for row in plan.valid_rows if row.outcome == Outcome.NEW]
    # New rows stream into COPY as plain column values: no model instances (at 50,000 rows
    # they alone cost seconds), and PostgreSQL inserts on the other core while Python builds.
    _insert_rows(Person, _new_people(new_rows, actor=actor, now=now), count=len(new_rows))
    new_migrations = [row.new_episode for row in new_rows if row.new_episode is not None]
    _insert_rows(Episode, new_migrations, count=len(new_migrations))
    _insert_rows(
        PersonHistory,
        _new_history(new_rows, actor=actor, batch=batch, now=now),
        count=len(new_rows),
    )
    for row in plan.valid_rows:
        if row.outcome == Outcome.NEW:
            continue
        person = row.existing
        before = {key: services._shown(key, getattr(person, key)) for key in row.changes}
        change = ImportChange(
            batch=batch,
            person_id=person.pk,
            created=False,
            before={key: _json(getattr(person, key)) for key in row.changes},
        )
        diff = {
            key: [before[key], services._shown(key, value)] for key, value in row.changes.items()
        }
        for key, value in row.changes.items():
            setattr(person, key, value)
            person_fields.add(key)
        episodes = list(row.existing_episodes)
        if row.episode_changes:
            if row.episode_target is None:
                episode = Episode(
                    id=uuid.uuid4(),
                    person_id=person.pk,
                    created_at=now,
                    updated_at=now,
                    **row.episode_changes,
                )
                new_episodes.append(episode)
                episodes.append(episode)
                change.episode_id = episode.id
                change.episode_created = True
            else:
                episode = row.episode_target
                change.episode_id = episode.pk
                change.episode_before = {
                    key: _json(getattr(episode, key)) for key in row.episode_changes
                }
                for key, value in row.episode_changes.items():
                    diff[key] = [
                        services._shown(key, getattr(episode, key)),
                        services._shown(key, value),
                    ]
                    setattr(episode, key, value)
                    episode_fields.add(key)
                episode.updated_at = now
                updated_episodes.append(episode)
            for key in ("departure_date", "return_date", "destination_country"):
                if key in row.episode_changes and key not in diff:
                    diff[key] = ["", services._shown(key, row.episode_changes[key])]
        change.before.update(
            {
                key: _json(getattr(person, key))
                for key in (
                    "status",
                    "current_country",
                    "current_procedural",
                    "verification",
                    "nik_warnings",
                )
                if key not in change.before
            }
        )
        change.before["__derived__"] = True
        for key, value in services.derived_fields(episodes).items():
            setattr(person, key, value)
        if person.verification == Verification.VERIFIED:
            person.verification = Verification.DRAFT
            person.verified_by = None
            person.verified_at = None
        person.nik_warnings = row.nik_warnings
        if "full_name" in row.changes:
            person.name_key = services.name_key(person.full_name)
            person_fields.add("name_key")
        person.updated_at = now
        updated_people.append(person)
        changes.append(change)
        history.append(
            PersonHistory(
                person_id=person.pk,
                village_id=person.village_id,
                at=now,
                actor=actor,
                action=PersonHistory.Action.UPDATED,
                source="import",
                batch=batch,
                changes=diff,
            )
        )

    _bulk_insert(Episode, new_episodes)
    if updated_people:
        fields = sorted(
            person_fields
            | {
                "status",
                "current_country",
                "current_procedural",
                "verification",
                "verified_by",
                "verified_at",
                "nik_warnings",
                "updated_at",
            }
        )
        Person.objects.bulk_update(updated_people, fields, batch_size=1000)
    if updated_episodes:
        Episode.objects.bulk_update(
            updated_episodes, sorted(episode_fields | {"updated_at"}), batch_size=1000
        )
    _bulk_insert(PersonHistory, history)
    _bulk_insert(ImportChange, changes)
    counts = plan.counts
    return counts


def _json(value: object) -> object:
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


class _EpisodeView:
    """Just enough of an Episode for `derived_fields`, from a row of column values."""

    __slots__ = (
        "created_at",
        "departure_date",
        "destination_country",
        "procedural_status",
        "return_date",
    )

    def __init__(self, row: dict) -> None:
        self.created_at = row["created_at"]
        self.departure_date = row.get("departure_date")
        self.return_date = row.get("return_date")
        self.destination_country = row.get("destination_country", "")
        self.procedural_status = row.get("procedural_status", "unknown")

    @property
    def stage(self) -> str:
        if self.return_date:
            return Episode.Stage.RETURNED
        if self.departure_date:
            return Episode.Stage.ABROAD
        return Episode.Stage.PLANNED


def _bulk_insert(model, objects: list) -> None:
    if objects:
        model.objects.bulk_create(objects, batch_size=1000)


def _insert_rows(model, rows: Iterable[dict], *, count: int) -> None:
    """Insert rows given as {attname: value}: COPY on PostgreSQL, bulk_create elsewhere."""
    insert_rows(model, rows, count=count, copy_threshold=COPY_THRESHOLD)


COPY_THRESHOLD = 2000


# --- Undo --------------------------------------------------------------------------------


class UndoRefused(Exception):
    pass


def undo_import(*, batch: ImportBatch, actor: User) -> int:
    """Take a whole import back while no later change touched its rows."""
    with transaction.atomic():
        locked = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        if locked.state != ImportBatch.State.COMMITTED:
            raise UndoRefused(_("Only a completed import can be undone."))
        changes = list(ImportChange.objects.filter(batch=locked))
        # The people it created are known by their "imported" history rows (no change rows:
        # at 50,000 rows they would double the writes). Subqueries, not lists of ids: SQLite
        # limits the parameters of one query.
        created = PersonHistory.objects.filter(
            batch=locked, action=PersonHistory.Action.IMPORTED
        ).values("person_id")
        touched = PersonHistory.objects.filter(batch=locked).values("person_id")
        later = PersonHistory.objects.filter(
            person_id__in=touched, at__gt=locked.committed_at
        ).exclude(batch=locked)
        if later.exists():
            raise UndoRefused(
                _(
                    "Some of the imported records were changed after the import; "
                    "the import can no longer be undone as a whole."
                )
            )
        if SensitiveAccess.objects.filter(person_id__in=touched).exists():
            # Someone has read these records since (a NIK shown): their trace must stay.
            raise UndoRefused(
                _(
                    "Some of the imported records have been looked at in full since the import; "
                    "the import can no longer be undone as a whole."
                )
            )
        count = touched.values("person_id").distinct().count()
        updated = [c for c in changes if not c.created]
        episodes_created = [c.episode_id for c in updated if c.episode_created and c.episode_id]
        for change in updated:
            person = Person.objects.get(pk=change.person_id)
            for key, value in change.before.items():
                if key.startswith("__"):
                    continue
                field = Person._meta.get_field(key)
                setattr(person, field.attname, field.to_python(value))
            person.save()
            if change.episode_id and not change.episode_created:
                episode = Episode.objects.get(pk=change.episode_id)
                for key, value in change.episode_before.items():
                    setattr(episode, key, Episode._meta.get_field(key).to_python(value))
                episode.save()
            PersonHistory.objects.create(
                person=person,
                village_id=person.village_id,
                actor=actor,
                action=PersonHistory.Action.UPDATED,
                source="undo",
                note=_("The import %(file)s was undone.") % {"file": locked.filename},
                changes={
                    key: ["", services._shown(key, getattr(person, key))]
                    for key in change.before
                    if not key.startswith("__")
                },
            )
        Episode.objects.filter(pk__in=episodes_created).delete()
        # Rows the import created never existed before it: they go, with their history; the
        # batch keeps the file, the counts and who undid it.
        ImportChange.objects.filter(batch=locked).delete()
        created_ids = list(created.values_list("person_id", flat=True))
        for chunk in _chunks(created_ids):
            PersonHistory.objects.filter(person_id__in=chunk).delete()
            Episode.objects.filter(person_id__in=chunk).delete()
            Person.objects.filter(pk__in=chunk).delete()
        locked.state = ImportBatch.State.UNDONE
        locked.undone_at = timezone.now()
        locked.undone_by = actor
        locked.save(update_fields=["state", "undone_at", "undone_by"])
    return count


__all__ = ["Outcome", "Plan", "execute_plan", "plan_import", "undo_import"]


# --- The import as a job: upload, validate, confirm, commit ---------------------------------

DOUBLE_UPLOAD_WINDOW = datetime.timedelta(minutes=10)
MAX_COMMIT_ATTEMPTS = 3


def progress_key(batch_id) -> str:
    return f"import-progress:{batch_id}"


def set_progress(batch_id, value: int) -> None:
    # The cache, not the batch row: during the commit the row is inside an open transaction
    # that nobody else can read.
    from django.core.cache import cache

    cache.set(progress_key(batch_id), value, timeout=3600)


def get_progress(batch: ImportBatch) -> int:
    from django.core.cache import cache

    if not batch.is_running:
        return (
            100
            if batch.state in (ImportBatch.State.VALIDATED, ImportBatch.State.COMMITTED)
            else batch.progress
        )
    return int(cache.get(progress_key(batch.pk), batch.progress))


def import_upload(*, actor: User, data: bytes, filename: str) -> ImportBatch:
    """Store the file and queue its validation. The same file sent twice by the same user
    within minutes (a double click) gives back the first upload."""
    import hashlib

    from django.core.exceptions import PermissionDenied
    from django.core.files.base import ContentFile

    if not can(actor, Action.IMPORT_REGISTER):
        raise PermissionDenied
    digest = hashlib.sha256(data).hexdigest()
    with transaction.atomic():
        earlier = (
            ImportBatch.objects.select_for_update()
            .filter(
                created_by=actor,
                sha256=digest,
                created_at__gte=timezone.now() - DOUBLE_UPLOAD_WINDOW,
            )
            .exclude(
                state__in=[
                    ImportBatch.State.REJECTED,
                    ImportBatch.State.FAILED,
                    ImportBatch.State.CANCELLED,
                    ImportBatch.State.UNDONE,
                ]
            )
            .first()
        )
        if earlier is not None:
            return earlier
        safe_name = re.sub(r"[^\w.\- ]", "_", filename)[-120:] or "upload"
        batch = ImportBatch(
            created_by=actor,
            scope_id=actor.scope_id,
            filename=safe_name,
            sha256=digest,
            size=len(data),
        )
        batch.file.save(f"{uuid.uuid4().hex}.bin", ContentFile(data), save=False)
        batch.save()
        from migrants.tasks import validate_import

        validate_import.delay_on_commit(str(batch.pk))
    return batch


def _claim(batch_id, *, from_states: list[str], to_state: str) -> bool:
    """Move a batch from one state to the next only if nobody did it already."""
    return bool(
        ImportBatch.objects.filter(pk=batch_id, state__in=from_states).update(state=to_state)
    )


def validate_batch(*, batch_id) -> None:
    """The validation job: read the file, plan every row, keep the problems for the preview."""
    from migrants.models import ImportProblem
    from migrants.tabular import read_table

    if not _claim(
        batch_id, from_states=[ImportBatch.State.UPLOADED], to_state=ImportBatch.State.VALIDATING
    ):
        return  # already being validated or done: a redelivered task does nothing
    batch = ImportBatch.objects.select_related("created_by").get(pk=batch_id)
    set_progress(batch.pk, 5)
    try:
        with batch.file.open("rb") as handle:
            table = read_table(handle.read())
    except FileRejected as exc:
        ImportBatch.objects.filter(pk=batch.pk).update(
            state=ImportBatch.State.REJECTED, message=exc.message, progress=100
        )
        return
    set_progress(batch.pk, 15)
    plan = plan_import(
        table=table, actor=batch.created_by, progress=lambda value: set_progress(batch.pk, value)
    )
    problems = [
        ImportProblem(batch=batch, row=1, column="", level=level, message=message)
        for level, message in plan.file_problems
    ]
    outcomes = []
    for row in plan.rows:
        problems += [
            ImportProblem(batch=batch, row=row.row, column=column, level="error", message=message)
            for column, message in row.errors
        ]
        problems += [
            ImportProblem(batch=batch, row=row.row, column=column, level="warning", message=message)
            for column, message in row.warnings
        ]
        outcomes.append(
            [
                row.row,
                row.outcome,
                row.person.get("full_name", "")[:80],
                sorted({*row.changes, *row.episode_changes}),
            ]
        )
    with transaction.atomic():
        ImportProblem.objects.filter(batch=batch).delete()
        ImportProblem.objects.bulk_create(problems, batch_size=2000)
        file_error = any(level == "error" for level, _m in plan.file_problems)
        ImportBatch.objects.filter(pk=batch.pk).update(
            state=ImportBatch.State.REJECTED if file_error else ImportBatch.State.VALIDATED,
            kind=table.kind,
            counts=plan.counts,
            outcomes=outcomes,
            progress=100,
            validated_at=timezone.now(),
            message=" ".join(m for level, m in plan.file_problems if level == "error"),
        )


def confirm_batch(*, batch: ImportBatch, actor: User) -> bool:
    """The user confirms importing the valid rows; a second click does nothing."""
    from django.core.exceptions import PermissionDenied

    if not can(actor, Action.IMPORT_REGISTER):
        raise PermissionDenied
    with transaction.atomic():
        claimed = _claim(
            batch.pk,
            from_states=[ImportBatch.State.VALIDATED, ImportBatch.State.FAILED],
            to_state=ImportBatch.State.COMMITTING,
        )
        if claimed:
            # A retry after a failure starts its count of attempts again.
            ImportBatch.objects.filter(pk=batch.pk).update(
                committed_by=actor, progress=0, attempts=0, message=""
            )
            from migrants.tasks import commit_import

            commit_import.delay_on_commit(str(batch.pk))
    return claimed


def cancel_batch(*, batch: ImportBatch, actor: User) -> bool:
    return _claim(
        batch.pk, from_states=[ImportBatch.State.VALIDATED], to_state=ImportBatch.State.CANCELLED
    )


def commit_batch(*, batch_id) -> None:
    """The commit job: plan again on today's data and write all the valid rows, or none.

    The batch row is locked for the whole transaction, so a second delivery of the task
    (a worker killed, Redis redelivering) waits or finds the work done; a worker killed
    mid-way leaves nothing half-written, and the retry starts from the top.
    """
    from django.db.models import F

    from migrants.tabular import read_table

    # Counted outside the transaction, so a worker that dies mid-commit still leaves a trace
    # and a file that kills every worker fails after a few tries instead of looping forever.
    ImportBatch.objects.filter(pk=batch_id, state=ImportBatch.State.COMMITTING).update(
        attempts=F("attempts") + 1
    )
    attempts = ImportBatch.objects.filter(pk=batch_id).values_list("attempts", flat=True).first()
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
            ImportBatch.objects.select_for_update(of=("self",))
            .select_related("committed_by", "created_by")
            .filter(pk=batch_id)
            .first()
        )
        if batch is None or batch.state != ImportBatch.State.COMMITTING:
            return
        actor = batch.committed_by or batch.created_by
        set_progress(batch.pk, 5)
        with batch.file.open("rb") as handle:
            table = read_table(handle.read())
        plan = plan_import(
            table=table, actor=actor, progress=lambda value: set_progress(batch.pk, value // 2)
        )
        set_progress(batch.pk, 60)
        counts = execute_plan(plan=plan, batch=batch, actor=actor)
        batch.state = ImportBatch.State.COMMITTED
        batch.counts = counts
        batch.committed_at = timezone.now()
        batch.progress = 100
        batch.save(update_fields=["state", "counts", "committed_at", "progress"])
    set_progress(batch_id, 100)


# A batch waiting for a task whose message was lost (the broker was down when it was sent, or
# lost its data) is sent again by the reaper after this long.
RESEND_GRACE = datetime.timedelta(minutes=5)


def sent_key(batch_id) -> str:
    return f"import-sent:{batch_id}"


def resend_stalled() -> int:
    """Send again the tasks of register imports that wait for one (`resend_stalled_batches`)."""
    from migrants.tasks import commit_import, validate_import

    return resend_stalled_batches(
        ImportBatch, key=sent_key, validate_task=validate_import, commit_task=commit_import
    )


def resend_stalled_batches(model, *, key: Callable, validate_task, commit_task) -> int:
    """Send again the tasks of batches (of `model`, the register's or a pillar's imports) that
    wait for one: uploaded but not being checked, or confirmed but not being written (no
    transaction holds the row: the message was lost, or its worker died). A second message is
    harmless, as the tasks claim their row; the commit counts its tries, so a file that kills
    its worker still fails after a few. `key(pk)` names the cache entry of the last send."""
    from django.core.cache import cache

    from desmigratif.celery import send
    from desmigratif.rls import acting_for

    now = timezone.now()
    with transaction.atomic():
        committing = list(
            model.objects.select_for_update(skip_locked=True)
            .filter(state=model.State.COMMITTING)
            .values_list("pk", flat=True)
        )
    uploaded = list(
        model.objects.filter(
            state=model.State.UPLOADED, created_at__lt=now - RESEND_GRACE
        ).values_list("pk", flat=True)
    )
    batches = model.objects.select_related("created_by", "committed_by").in_bulk(
        committing + uploaded
    )
    resent = 0
    for pk, batch in batches.items():
        sent = cache.get(key(pk))
        if sent is not None and sent > now.timestamp() - RESEND_GRACE.total_seconds():
            continue
        task = commit_task if pk in committing else validate_task
        # In the scope of the user it works for, as when the request sent it.
        with acting_for(batch.committed_by or batch.created_by):
            if send(task, (str(pk),)):
                cache.set(key(pk), now.timestamp(), timeout=24 * 3600)
                resent += 1
    return resent


def fail_batch(*, batch_id, message: str) -> None:
    ImportBatch.objects.filter(pk=batch_id, state=ImportBatch.State.COMMITTING).update(
        state=ImportBatch.State.FAILED, message=message[:2000]
    )
