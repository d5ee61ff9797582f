"""The access log: every read of sensitive data, searchable by the ministry administrator.

Three tables hold it, each written where the read happens and never changed afterwards:
`SensitiveAccess` (a full NIK or No. KK shown, a child's record or a case opened, a
subject-access report), `ExportLog` (an export of the register) and `reports.ReportDownload`
(a report file downloaded). `access_log()` reads them as one list, newest first, without a
table of its own; no page or admin of the application edits or deletes a row of any of them.
"""

import datetime
from dataclasses import dataclass, field

from django.db.models import CharField, F, Q, QuerySet, Value
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.permissions import Action, can
from migrants.models import ExportLog, Person, SensitiveAccess

EXPORT = "export"
REPORT_DOWNLOAD = "report_download"
# What the log can be filtered on: the kinds of SensitiveAccess, and the two other tables.
WHAT_CHOICES = [
    *SensitiveAccess.Kind.choices,
    (EXPORT, _("register exported")),
    (REPORT_DOWNLOAD, _("report file downloaded")),
]


def may_view_access_log(user) -> bool:
    """The ministry's administrators: the log spans the country."""
    return can(user, Action.USE_ADMIN) and user.is_national


def log_read(*, actor, kind: str, person: Person | None = None, record=None, reason: str = ""):
    """Record that `actor` read something sensitive; `record` names the row read when it is
    not the person's own page (a case, a child's enrolment)."""
    reference = ""
    if record is not None:
        reference = f"{record._meta.label_lower}:{record.pk}"[:60]
    return SensitiveAccess.objects.create(
        actor=actor, person=person, kind=kind, record=reference, reason=reason[:255]
    )


class LoggedReadAdminMixin:
    """For a ModelAdmin showing sensitive rows: opening one row is logged like the page is.
    `logged_read(obj)` returns (kind, person) or None when that row is not sensitive."""

    def logged_read(self, obj):  # pragma: no cover - each admin says what it logs
        return None

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method == "GET" and response.status_code == 200:
            obj = self.get_object(request, object_id)
            read = self.logged_read(obj) if obj is not None else None
            if read is not None:
                kind, person = read
                record = None if isinstance(obj, Person) else obj
                log_read(actor=request.user, kind=kind, person=person, record=record)
        return response


# --- The merged log ---------------------------------------------------------------------------


@dataclass
class LogFilter:
    user: str = ""  # part of a username, name or e-mail
    what: str = ""  # a WHAT_CHOICES value
    since: datetime.date | None = None
    until: datetime.date | None = None
    # People whose NIK was searched for: the reads of their records, the exports that may
    # have held them. None: no NIK given; an empty list: a NIK that matches nobody.
    people: list[Person] | None = None
    # Filled by access_log: the exports and downloads matched for `people`.
    matched: dict = field(default_factory=dict)


@dataclass
class LogRow:
    at: datetime.datetime
    what: str
    what_label: str
    actor: object
    person: Person | None = None
    detail: str = ""
    reason: str = ""
    may_include: bool = False  # an export that may have held the searched person


def _user_condition(text: str, path: str) -> Q:
    condition = Q()
    for part in ("username", "first_name", "last_name", "email"):
        condition |= Q(**{f"{path}__{part}__icontains": text})
    return condition


def _dated(queryset: QuerySet, flt: LogFilter) -> QuerySet:
    zone = timezone.get_current_timezone()
    if flt.since:
        start = datetime.datetime.combine(flt.since, datetime.time.min, tzinfo=zone)
        queryset = queryset.filter(at__gte=start)
    if flt.until:
        end = datetime.datetime.combine(
            flt.until + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone
        )
        queryset = queryset.filter(at__lt=end)
    return queryset


def _sources(flt: LogFilter) -> list[tuple[str, QuerySet]]:
    """The filtered rows of each table, as (source, queryset)."""
    from migrants.privacy import downloads_that_may_include, exports_that_may_include
    from reports.models import ReportDownload

    reads = SensitiveAccess.objects.all()
    exports = ExportLog.objects.all()
    downloads = ReportDownload.objects.all()
    if flt.what in SensitiveAccess.Kind.values:
        reads = reads.filter(kind=flt.what)
        exports = downloads = None
    elif flt.what == EXPORT:
        reads = downloads = None
    elif flt.what == REPORT_DOWNLOAD:
        reads = exports = None
    if flt.people is not None:
        pks = [person.pk for person in flt.people]
        if reads is not None:
            reads = reads.filter(person__in=pks)
        if exports is not None:
            exports = exports.filter(pk__in=exports_that_may_include(flt.people))
        if downloads is not None:
            downloads = downloads.filter(pk__in=downloads_that_may_include(flt.people))
    sources = []
    for name, queryset, actor in (
        ("read", reads, "actor"),
        ("export", exports, "actor"),
        ("download", downloads, "user"),
    ):
        if queryset is None:
            continue
        if flt.user:
            queryset = queryset.filter(_user_condition(flt.user, actor))
        sources.append((name, _dated(queryset, flt)))
    return sources


def access_log(flt: LogFilter, *, offset: int, limit: int) -> list[LogRow]:
    """One page of the merged log, newest first: one query for the page's keys (a UNION of
    the three tables), then one per table for the rows on the page."""
    from reports.models import ReportDownload

    sources = _sources(flt)
    if not sources:
        return []
    keyed = [
        queryset.order_by()
        .annotate(source=Value(name, output_field=CharField()), key=F("pk"))
        .values_list("at", "source", "key")
        for name, queryset in sources
    ]
    union = keyed[0].union(*keyed[1:], all=True) if len(keyed) > 1 else keyed[0]
    keys = list(union.order_by("-at", "-key")[offset : offset + limit])
    wanted: dict[str, list[int]] = {"read": [], "export": [], "download": []}
    for _at, source, key in keys:
        wanted[source].append(key)
    reads = SensitiveAccess.objects.filter(pk__in=wanted["read"]).select_related(
        "actor", "person__village"
    )
    exports = ExportLog.objects.filter(pk__in=wanted["export"]).select_related("actor", "scope")
    downloads = ReportDownload.objects.filter(pk__in=wanted["download"]).select_related(
        "user", "job__scope"
    )
    found = {
        **{("read", row.pk): _read_row(row) for row in (reads if wanted["read"] else [])},
        **{("export", row.pk): _export_row(row) for row in (exports if wanted["export"] else [])},
        **{
            ("download", row.pk): _download_row(row)
            for row in (downloads if wanted["download"] else [])
        },
    }
    rows = [found[(source, key)] for _at, source, key in keys if (source, key) in found]
    if flt.people is not None:
        for row in rows:
            row.may_include = row.what in (EXPORT, REPORT_DOWNLOAD)
    return rows


def _read_row(row: SensitiveAccess) -> LogRow:
    detail = ""
    if row.record:
        label, _sep, pk = row.record.partition(":")
        detail = f"{label.split('.')[-1]} #{pk}"
    return LogRow(
        at=row.at,
        what=row.kind,
        what_label=row.get_kind_display(),
        actor=row.actor,
        person=row.person,
        detail=detail,
        reason=row.reason,
    )


def _export_row(row: ExportLog) -> LogRow:
    from migrants.privacy import describe_filters

    parts = [row.format, _("%(rows)d rows") % {"rows": row.rows}]
    if row.full_nik:
        parts.append(str(_("full NIKs")))
    area = row.scope.label if row.scope_id else _("whole country")
    parts.append(str(area))
    filters = describe_filters(row.filters)
    if filters:
        parts.append(filters)
    return LogRow(
        at=row.at,
        what=EXPORT,
        what_label=str(_("register exported")),
        actor=row.actor,
        detail=", ".join(str(part) for part in parts),
        reason=row.reason,
    )


def _download_row(row) -> LogRow:
    job = row.job
    area = job.scope.label if job.scope_id else _("whole country")
    detail = (
        f"{job.get_kind_display()}, {job.format}, {area}, "
        f"{job.period_start:%Y-%m}–{job.period_end:%Y-%m} ({row.via})"
    )
    return LogRow(
        at=row.at,
        what=REPORT_DOWNLOAD,
        what_label=str(_("report file downloaded")),
        actor=row.user,
        detail=detail,
    )
