"""What the personal-data law (UU 27/2022) asks of the register, besides masking and the
access log (migrants.access):

- NIKs stay out of addresses: a register search for a NIK is posted, kept in the session
  and named in the address by a token (web server logs, browser history and the export log
  never see it);
- the subject-access report (Ps. 32): everything held about the holder of a NIK, with its
  history of changes, its reads and the exports that may have held it, in one request;
- correction requests (Ps. 6 and 30), carried out through the register's own services;
- the retention rule (Ps. 43-44): records deleted more than RETENTION_YEARS ago, with no
  activity since, are emptied of personal data by a scheduled task, which leaves a
  tombstone so the references to them hold.

docs/privacy.md describes the processing and the risks these measures answer.
"""

import datetime
import io
import logging
import re
import secrets
from dataclasses import dataclass, field

from celery import shared_task
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.http import QueryDict
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.permissions import Action, can
from migrants.access import log_read
from migrants.models import (
    CorrectionRequest,
    Episode,
    ExportLog,
    ImportBatch,
    ImportChange,
    ImportProblem,
    Person,
    PersonHistory,
    SensitiveAccess,
)
from migrants.nik import mask, normalize_number

logger = logging.getLogger(__name__)


# --- NIKs out of addresses -----------------------------------------------------------------------

SEARCHES_KEY = "register_searches"
SEARCHES_KEPT = 20
SEARCH_MARK = "~"
# The register searches the NIK from this many digits on (RegisterFilterForm.filter).
NUMBER_QUERY_DIGITS = 6


class SearchExpired(Exception):
    """The address names a search the session no longer holds (another browser, logged out)."""


def number_in(text: str) -> str:
    """The digits of a query that is a NIK or part of one, else ""."""
    try:
        digits = normalize_number(text.strip())
    except (ValueError, TypeError):
        return ""
    return digits if digits.isdigit() and len(digits) >= NUMBER_QUERY_DIGITS else ""


def stash_search(request, data: QueryDict) -> str:
    """The register's query string for the filters posted in `data`, without empty values;
    a NIK query is kept in the session and the address carries a token for it."""
    query = QueryDict(mutable=True)
    for key in data:
        if key in ("csrfmiddlewaretoken", "page"):
            continue
        values = [value for value in data.getlist(key) if value.strip()]
        if values:
            query.setlist(key, values)
    text = query.get("q", "")
    if number_in(text):
        token = secrets.token_urlsafe(9)
        searches = dict(request.session.get(SEARCHES_KEY, {}))
        searches[token] = text.strip()
        request.session[SEARCHES_KEY] = dict(list(searches.items())[-SEARCHES_KEPT:])
        query["q"] = SEARCH_MARK + token
    return query.urlencode()


def unstash_search(request, data: QueryDict) -> QueryDict:
    """`data` with a search token replaced by the query it stands for; SearchExpired when the
    session does not hold it."""
    text = data.get("q", "")
    if not text.startswith(SEARCH_MARK):
        return data
    query = request.session.get(SEARCHES_KEY, {}).get(text[len(SEARCH_MARK) :])
    if query is None:
        raise SearchExpired
    data = data.copy()
    data["q"] = query
    return data


def loggable_filters(data: QueryDict) -> dict[str, str]:
    """The register filters as the export log keeps them: a NIK query masked."""
    filters = {key: value for key, value in data.items() if key != "page"}
    if number_in(filters.get("q", "")):
        filters["q"] = mask(number_in(filters["q"]))
    return filters


def describe_filters(filters: dict) -> str:
    """An export's filters in one line, for the access log (any NIK in them masked)."""
    shown = []
    for key, value in sorted(filters.items()):
        if key in ("source", "sort") or value in ("", None):
            continue
        text = str(value)
        digits = number_in(text)
        shown.append(f"{key}={mask(digits) if digits else text}")
    return ", ".join(shown)[:300]


# --- Who may answer the data subject --------------------------------------------------------


def may_answer_subject_requests(user) -> bool:
    """Regency coordinators (for their regency) and the ministry's administrators."""
    return can(user, Action.USE_ADMIN) and can(user, Action.REVEAL_NIK)


def may_use_privacy_pages(user) -> bool:
    """Whether the menu shows the personal-data pages: any of them is open to the user."""
    from migrants.access import may_view_access_log

    return (
        can(user, Action.EDIT_REGISTER)
        or may_answer_subject_requests(user)
        or may_view_access_log(user)
    )


def _require_answerer(actor: User, person: Person) -> None:
    if not may_answer_subject_requests(actor):
        raise PermissionDenied
    if not Person.objects.for_user(actor).filter(pk=person.pk).exists():
        raise PermissionDenied


def find_subject(*, actor: User, nik: str) -> Person | None:
    """The record holding this NIK among those the actor may see, deleted ones included.
    Outside the actor's area it is None, as for a NIK nobody holds."""
    digits = number_in(nik)
    if len(digits) != 16:
        return None
    return (
        Person.objects.for_user(actor)
        .filter(nik=digits)
        .select_related("village__parent__parent__parent", "created_by", "deleted_by")
        .first()
    )


# --- Exports that may have held a person (best effort) ----------------------------------------


def _ancestors(code: str) -> list[str]:
    parts = code.split(".")
    return [".".join(parts[: n + 1]) for n in range(len(parts))]


def _villages_of(person: Person) -> set[str]:
    """The villages the person has lived in, as far as the history tells."""
    villages = set(PersonHistory.objects.filter(person=person).values_list("village_id", flat=True))
    return villages | {person.village_id}


def _filters_may_match(filters: dict, person: Person, villages: set[str]) -> bool:
    village = filters.get("village")
    if village and village not in villages:
        return False
    if filters.get("missing_nik") and person.nik:
        return False
    query = str(filters.get("q") or "")
    if filters.get("source") == "admin" or not query:
        return True
    leading = re.match(r"\d+", query)
    if leading:
        return bool(person.nik) and person.nik.startswith(leading.group())
    from migrants.services import name_key

    return name_key(query) in name_key(person.full_name)


def exports_that_may_include(people: list[Person]) -> list[int]:
    """Exports of the register that may have held one of these people: made while the
    record existed, by someone whose area covered one of its villages, with filters that
    did not leave it out. Best effort: an export keeps its filters, not its rows."""
    pks: list[int] = []
    for person in people:
        villages = _villages_of(person)
        areas = {code for village in villages for code in _ancestors(village)}
        exports = ExportLog.objects.filter(
            Q(scope__isnull=True) | Q(scope_id__in=areas), at__gte=person.created_at
        )
        if person.deleted_at:
            exports = exports.filter(at__lt=person.deleted_at)
        pks += [
            pk
            for pk, filters in exports.values_list("pk", "filters")
            if _filters_may_match(filters or {}, person, villages)
        ]
    return pks


def downloads_that_may_include(people: list[Person]) -> list[int]:
    """Downloads of register reports (masked lists of adults) whose area covers one of the
    people's villages, built while the record existed and the person was of age."""
    from migrants.models import child_cutoff
    from reports.models import ReportDownload, ReportKind

    pks: list[int] = []
    for person in people:
        areas = {code for village in _villages_of(person) for code in _ancestors(village)}
        downloads = ReportDownload.objects.filter(
            Q(job__scope__isnull=True) | Q(job__scope_id__in=areas),
            job__kind=ReportKind.REGISTER,
            job__created_at__gte=person.created_at,
        )
        if person.deleted_at:
            downloads = downloads.filter(job__created_at__lt=person.deleted_at)
        pks += [
            pk
            for pk, built in downloads.values_list("pk", "job__created_at")
            if person.birth_date <= child_cutoff(timezone.localdate(built))
        ]
    return pks


# --- The subject-access report ------------------------------------------------------------------


@dataclass
class Section:
    title: str
    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)
    note: str = ""


@dataclass
class SubjectReport:
    person: Person
    made_at: datetime.datetime
    made_by: User
    sections: list[Section]


def _text(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, datetime.datetime):
        return formats.date_format(timezone.localtime(value), "d-m-Y H:i")
    if isinstance(value, datetime.date):
        return formats.date_format(value, "d-m-Y")
    return str(value)


def _who(user: User | None) -> str:
    """The role and area of whoever did something, not their name: the subject's copy must
    not disclose other people's personal data (Ps. 33)."""
    if user is None:
        return _("the system")
    role = user.get_role_display() or _("administrator")
    return f"{role}, {user.scope.label}" if user.scope_id else f"{role}, {_('national')}"


def _field_value(instance, name: str) -> str:
    model_field = instance._meta.get_field(name)
    if model_field.choices:
        return _text(getattr(instance, f"get_{name}_display")())
    return _text(getattr(instance, name))


def _label(model, name: str) -> str:
    return str(model._meta.get_field(name).verbose_name).capitalize()


def related_ids(person: Person) -> list:
    """The person and the duplicates merged into them (their reads stay on the old record)."""
    ids, frontier = [person.pk], [person.pk]
    while frontier:
        frontier = list(
            Person.objects.filter(merged_into__in=frontier).values_list("pk", flat=True)
        )
        ids += frontier
    return ids


def _profile(person: Person) -> Section:
    from migrants.services import PERSON_FIELDS

    rows = [[_label(Person, name), _field_value(person, name)] for name in PERSON_FIELDS]
    rows += [
        [_("Village"), person.village.label],
        [_label(Person, "status"), person.get_status_display()],
        [_label(Person, "verification"), person.get_verification_display()],
        [_("Registered on"), _text(person.created_at)],
        [_("Last changed"), _text(person.updated_at)],
        [_("Deleted on"), _text(person.deleted_at)],
    ]
    return Section(_("Personal data held"), [_("Field"), _("Value")], rows)


EPISODE_SHOWN = (
    "destination_country",
    "job_title",
    "sector",
    "employer_type",
    "placement_scheme",
    "p3mi_name",
    "p3mi_licence",
    "foreign_partner",
    "contract_start",
    "contract_end",
    "passport_number",
    "passport_expiry",
    "departure_date",
    "return_date",
    "return_reason",
    "procedural_status",
    "procedural_source",
    "bpjs_member",
)


def _episodes(person: Person) -> Section:
    rows = []
    for episode in person.episodes.order_by("created_at"):
        row = []
        for name in EPISODE_SHOWN:
            if name == "destination_country":
                row.append(_text(episode.country_name))
            else:
                row.append(_field_value(episode, name))
        rows.append(row)
    headers = [_label(Episode, name) for name in EPISODE_SHOWN]
    return Section(_("Migrations"), headers, rows)


def _changes_text(changes: dict) -> str:
    from migrants.templatetags.migrants_tags import choice_label, field_label

    parts = []
    for name, change in (changes or {}).items():
        if not isinstance(change, list | tuple) or len(change) != 2:
            continue
        old, new = (_text(choice_label(value, name)) for value in change)
        parts.append(f"{field_label(name)}: {old} → {new}")
    return "; ".join(parts)


def _history(ids: list) -> Section:
    entries = PersonHistory.objects.filter(person__in=ids).select_related("actor__scope", "village")
    rows = [
        [
            _text(entry.at),
            entry.get_action_display(),
            _who(entry.actor),
            entry.village.label,
            _changes_text(entry.changes) or "—",
            entry.note or "—",
        ]
        for entry in entries.order_by("at", "id")
    ]
    return Section(
        _("History of changes"),
        [_("When"), _("What"), _("By"), _("Village"), _("Changes"), _("Note")],
        rows,
        note=_("Identity numbers are masked in the history, as they are stored."),
    )


def _reads(ids: list) -> Section:
    reads = SensitiveAccess.objects.filter(person__in=ids).select_related("actor__scope")
    rows = [
        [_text(read.at), read.get_kind_display(), _who(read.actor), read.reason or "—"]
        for read in reads.order_by("at", "id")
    ]
    return Section(_("Reads of the record"), [_("When"), _("What"), _("By"), _("Reason")], rows)


def _exports(person: Person) -> Section:
    from reports.models import ReportDownload

    rows = []
    exports = ExportLog.objects.filter(pk__in=exports_that_may_include([person])).select_related(
        "actor__scope", "scope"
    )
    for export in exports:
        area = export.scope.label if export.scope_id else _("whole country")
        what = _("register export (%(format)s, %(rows)d rows)") % {
            "format": export.format,
            "rows": export.rows,
        }
        nik = _("full NIK") if export.full_nik else _("masked NIK")
        rows.append((export.at, [_text(export.at), what, area, nik, _who(export.actor)]))
    downloads = ReportDownload.objects.filter(
        pk__in=downloads_that_may_include([person])
    ).select_related("user__scope", "job__scope")
    for download in downloads:
        job = download.job
        area = job.scope.label if job.scope_id else _("whole country")
        rows.append(
            (
                download.at,
                [
                    _text(download.at),
                    job.get_kind_display(),
                    area,
                    _("masked NIK"),
                    _who(download.user),
                ],
            )
        )
    rows.sort(key=lambda pair: pair[0])
    return Section(
        _("Exports that may have included the record"),
        [_("When"), _("What"), _("Area"), _("NIK"), _("By")],
        [row for _at, row in rows],
        note=_(
            "An export keeps its filters, not its rows: these are the exports whose area and "
            "filters covered the record while it existed."
        ),
    )


def _date_of(record) -> object:
    for name in ("date", "reported_on", "enrolled_on", "joined_on", "referred_on"):
        if hasattr(record, name):
            return getattr(record, name)
    return record.created_at


def _programme_records(actor: User, ids: list) -> Section:
    rows = []
    relations = [
        relation
        for relation in Person._meta.related_objects
        if relation.related_model._meta.app_label == "pillars"
    ]
    for relation in relations:
        model = relation.related_model
        records = (
            model.objects.for_user(actor)
            .filter(**{f"{relation.field.name}__in": ids})
            .select_related("village")
            .distinct()  # a training lists its participants: one row per training
        )
        for record in records:
            rows.append(
                [
                    str(model._meta.verbose_name).capitalize(),
                    f"#{record.pk}",
                    record.village.label,
                    _text(_date_of(record)),
                    str(record),
                    _("deleted") if record.deleted_at else _("current"),
                ]
            )
    return Section(
        _("Programme records about the person"),
        [_("Register"), _("Record"), _("Village"), _("Date"), _("What"), _("State")],
        rows,
        note=_(
            "The narrative of a case is not part of this report: it may name other people "
            "(Ps. 33). It is given after review, on request."
        ),
    )


def _corrections(ids: list) -> Section:
    requests = CorrectionRequest.objects.filter(person__in=ids).order_by("recorded_at")
    rows = [
        [
            _text(request.received_on),
            request.wrong,
            request.requested_change,
            request.get_state_display(),
            request.outcome or "—",
            _text(request.decided_at),
        ]
        for request in requests
    ]
    return Section(
        _("Correction requests"),
        [
            _("Received"),
            _("What is wrong"),
            _("Requested change"),
            _("State"),
            _("Outcome"),
            _("Closed"),
        ],
        rows,
    )


@transaction.atomic
def subject_report(*, actor: User, person: Person, reason: str) -> SubjectReport:
    """Everything held about the person, logged as a sensitive read with its reason."""
    _require_answerer(actor, person)
    if not reason.strip():
        raise ValidationError({"reason": [_("Say why the report is made.")]})
    log_read(
        actor=actor, kind=SensitiveAccess.Kind.SUBJECT_ACCESS, person=person, reason=reason.strip()
    )
    ids = related_ids(person)
    return SubjectReport(
        person=person,
        made_at=timezone.now(),
        made_by=actor,
        sections=[
            _profile(person),
            _episodes(person),
            _history(ids),
            _reads(ids),
            _exports(person),
            _programme_records(actor, ids),
            _corrections(ids),
        ],
    )


def subject_report_xlsx(report: SubjectReport) -> bytes:
    """The report as a workbook, one sheet per section; every cell is text."""
    import xlsxwriter

    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    bold = workbook.add_format({"bold": True})
    wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
    cover = workbook.add_worksheet(_("Report")[:31])
    cover.set_column(0, 0, 30)
    cover.set_column(1, 1, 60)
    cover.write_string(0, 0, _("Subject-access report (UU 27/2022 Ps. 32)"), bold)
    cover.write_string(2, 0, _("Made on"))
    cover.write_string(2, 1, _text(report.made_at))
    cover.write_string(3, 0, _("Made by"))
    cover.write_string(3, 1, _who(report.made_by))
    cover.write_string(4, 0, _("Controller"))
    cover.write_string(4, 1, _("Ministry of Manpower of the Republic of Indonesia"))
    for number, section in enumerate(report.sections, start=1):
        sheet = workbook.add_worksheet(f"{number} {section.title}"[:31])
        sheet.freeze_panes(1, 0)
        for column, header in enumerate(section.headers):
            sheet.set_column(column, column, 24)
            sheet.write_string(0, column, header, bold)
        for row_number, row in enumerate(section.rows, start=1):
            for column, value in enumerate(row):
                sheet.write_string(row_number, column, str(value), wrap)
        if section.note:
            sheet.write_string(len(section.rows) + 2, 0, section.note)
    workbook.close()
    return buffer.getvalue()


# --- Correction requests ----------------------------------------------------------------------

# Changes that are not corrections: the verification's steps.
_NOT_CORRECTIONS = (
    PersonHistory.Action.SUBMITTED,
    PersonHistory.Action.VERIFIED,
    PersonHistory.Action.SENT_BACK,
)


def _require_corrector(actor: User, person: Person) -> None:
    if not can(actor, Action.EDIT_REGISTER):
        raise PermissionDenied
    if not Person.objects.for_user(actor).filter(pk=person.pk).exists():
        raise PermissionDenied


@transaction.atomic
def correction_record(
    *,
    person: Person,
    actor: User,
    wrong: str,
    requested_change: str,
    received_on: datetime.date | None = None,
) -> CorrectionRequest:
    _require_corrector(actor, person)
    if person.anonymised_at:
        raise ValidationError(_("This record no longer holds personal data."))
    request = CorrectionRequest(
        person=person,
        wrong=wrong.strip(),
        requested_change=requested_change.strip(),
        received_on=received_on or timezone.localdate(),
        recorded_by=actor,
    )
    if request.received_on > timezone.localdate():
        raise ValidationError({"received_on": [_("The date is in the future.")]})
    request.full_clean()
    request.save()
    return request


def changes_since(request: CorrectionRequest):
    """The history entries of the person written since the request was recorded."""
    return (
        PersonHistory.objects.filter(person=request.person, at__gte=request.recorded_at)
        .exclude(action__in=_NOT_CORRECTIONS)
        .select_related("actor")
        .order_by("at", "id")
    )


@transaction.atomic
def correction_close(
    *, request: CorrectionRequest, actor: User, state: str, outcome: str = ""
) -> CorrectionRequest:
    """Done (the change is in the record's history by now) or refused (with the reason)."""
    _require_corrector(actor, request.person)
    outcome = outcome.strip()
    if state == CorrectionRequest.State.REFUSED:
        if not outcome:
            raise ValidationError({"outcome": [_("Say why the request is refused.")]})
    elif state == CorrectionRequest.State.DONE:
        if not changes_since(request).exists():
            raise ValidationError(
                _(
                    "The record has not changed since the request: make the correction on "
                    "the record first, then close the request as done."
                )
            )
    else:
        raise ValidationError(_("Choose done or refused."))
    now = timezone.now()
    closed = CorrectionRequest.objects.filter(
        pk=request.pk, state=CorrectionRequest.State.REQUESTED
    ).update(state=state, outcome=outcome, decided_by=actor, decided_at=now)
    if not closed:
        raise ValidationError(_("This request is already closed."))
    request.refresh_from_db()
    return request


def correction_due(request: CorrectionRequest) -> datetime.datetime:
    """Ps. 30: a correction is made within 3 x 24 hours of the request."""
    return request.recorded_at + datetime.timedelta(hours=72)


# --- Retention --------------------------------------------------------------------------------

ANONYMISED_NAME = "—"
ANONYMISED_BIRTH_DATE = datetime.date(1900, 1, 1)
CHUNK = 500


def retention_cutoff(now: datetime.datetime | None = None) -> datetime.datetime:
    now = now or timezone.now()
    years = settings.RETENTION_YEARS
    try:
        return now.replace(year=now.year - years)
    except ValueError:  # 29 February
        return now.replace(year=now.year - years, day=28)


def expired_people(now: datetime.datetime | None = None):
    """Deleted records whose deletion, and every later activity, is older than the
    retention period, not anonymised yet."""
    cutoff = retention_cutoff(now)
    # Per candidate, on the history's (person, -at) index: the candidates are few.
    recent = PersonHistory.objects.filter(person=OuterRef("pk"), at__gte=cutoff)
    return Person.objects.filter(deleted_at__lt=cutoff, anonymised_at__isnull=True).exclude(
        Exists(recent)
    )


def _anonymise_people(pks: list, *, now: datetime.datetime) -> int:
    """Empty these records of personal data, in one transaction: the person's fields, the
    migrations, the history's changes and notes, the import's saved values, the correction
    requests' texts. The rows stay (a tombstone: village, sex, status, dates of the record)."""
    with transaction.atomic():
        people = Person.objects.filter(pk__in=pks, anonymised_at__isnull=True)
        count = people.update(
            nik=None,
            no_kk="",
            full_name=ANONYMISED_NAME,
            name_key="",
            birth_place="",
            birth_date=ANONYMISED_BIRTH_DATE,
            dusun="",
            rt="",
            rw="",
            address="",
            phone="",
            education="",
            marital_status="",
            relationship="",
            current_country="",
            current_procedural="",
            verification_note="",
            nik_warnings=[],
            anonymised_at=now,
        )
        Episode.objects.filter(person__in=pks).delete()
        PersonHistory.objects.filter(person__in=pks).update(changes={}, note="")
        ImportChange.objects.filter(person__in=pks).update(before={}, episode_before={})
        corrections = CorrectionRequest.objects.filter(person__in=pks)
        corrections.update(wrong="", requested_change="")
        corrections.exclude(state=CorrectionRequest.State.REFUSED).update(outcome="")
        corrections.filter(state=CorrectionRequest.State.REFUSED).update(outcome=ANONYMISED_NAME)
    return count


def _empty_old_cases(cutoff: datetime.datetime) -> int:
    """Cases deleted before the cutoff lose their narrative, steps and audited changes."""
    from pillars.models import AuditEntry, Case, CaseStep

    pks = list(
        Case.objects.filter(deleted_at__lt=cutoff).exclude(summary="").values_list("pk", flat=True)
    )
    if not pks:
        return 0
    with transaction.atomic():
        Case.objects.filter(pk__in=pks).update(summary="")
        CaseStep.objects.filter(case__in=pks).update(action=ANONYMISED_NAME, notes="")
        AuditEntry.objects.filter(
            model=Case._meta.model_name, object_id__in=[str(pk) for pk in pks]
        ).update(changes={}, note="")
        steps = [
            str(pk) for pk in CaseStep.objects.filter(case__in=pks).values_list("pk", flat=True)
        ]
        AuditEntry.objects.filter(model=CaseStep._meta.model_name, object_id__in=steps).update(
            changes={}, note=""
        )
    return len(pks)


def _remove_old_import_files(cutoff: datetime.datetime) -> int:
    """Uploaded spreadsheets older than the cutoff are copies of personal data: their files,
    row outcomes and problem messages go; the import's row and counts stay."""
    from pillars.models import PillarImport

    removed = 0
    for model in (ImportBatch, PillarImport):
        for batch in model.objects.filter(created_at__lt=cutoff).exclude(file=""):
            batch.file.delete(save=False)
            fields = {"file": ""}
            if hasattr(batch, "outcomes"):
                fields["outcomes"] = []
            model.objects.filter(pk=batch.pk).update(**fields)
            if model is ImportBatch:
                ImportProblem.objects.filter(batch=batch).delete()
                ImportChange.objects.filter(batch=batch).update(before={}, episode_before={})
            removed += 1
    return removed


def apply_retention(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Anonymise what the retention rule says has expired; safe to run again at any time."""
    now = now or timezone.now()
    cutoff = retention_cutoff(now)
    people = 0
    while True:
        pks = list(expired_people(now).values_list("pk", flat=True)[:CHUNK])
        if not pks:
            break
        people += _anonymise_people(pks, now=now)
    counts = {
        "people": people,
        "cases": _empty_old_cases(cutoff),
        "import_files": _remove_old_import_files(cutoff),
    }
    logger.info("retention: %s", counts)
    return counts


@shared_task(acks_late=True, soft_time_limit=1800, time_limit=1860, ignore_result=True)
def anonymise_expired_records() -> dict[str, int]:
    return apply_retention()
