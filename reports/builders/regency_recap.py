"""The regency recap: a row per designated village, a column group per pillar.

For the job's area (a regency, usually) and period: what each village did in each pillar, its
register now, and the state of its monthly report in each month of the period. The figures are
live grouped queries over the pillar tables of the area (one per figure, whatever the number of
villages), so the recap is exact for any period, not only the months the summaries keep.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.db.models import Count, F, Q, Sum
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from migrants.models import Person, Status
from pillars.models import (
    Case,
    ChildEnrolment,
    CooperativeMember,
    CooperativePeriod,
    Enterprise,
    MonthlyReport,
    Outreach,
    ParentingSession,
    PillarKind,
    Referral,
    ServiceLog,
    Training,
)
from reports.builders.base import ReportError, month_label
from reports.builders.figures import (
    Period,
    area_q,
    period_of,
)
from reports.builders.tables import (
    INT,
    MONEY,
    TEXT,
    YEAR,
    Document,
    Progress,
    Section,
    Table,
    write_pdf,
    write_xlsx,
)
from reports.models import ReportFormat, ReportJob
from villages.models import Designation, Region


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    money: bool = False


@dataclass(frozen=True)
class Group:
    label: str
    columns: list[Column]


def column_groups() -> list[Group]:
    """The figures of a village, grouped as the recap's header shows them."""
    return [
        Group(
            _("Register now"),
            [
                Column("people.keluarga", _("Family members")),
                Column("people.cpmi", _("CPMI")),
                Column("people.pmi", _("PMI abroad")),
                Column("people.purna", _("Purna PMI")),
                Column("people.total", _("Total")),
            ],
        ),
        Group(
            capfirst(PillarKind.SERVICE_CENTRE.label),
            [
                Column("services", _("Services given")),
                Column("outreach.events", _("Outreach events")),
                Column("outreach.attendees", _("Attendance")),
            ],
        ),
        Group(
            capfirst(PillarKind.ENTERPRISE.label),
            [
                Column("enterprises.running", _("Enterprises running now")),
                Column("trainings", _("Trainings")),
                Column("trainings.participants", _("Participants")),
            ],
        ),
        Group(
            capfirst(PillarKind.PARENTING.label),
            [
                Column("sessions", _("Sessions")),
                Column("sessions.children", _("Children attending")),
                Column("children.enrolled", _("Children enrolled (end of period)")),
            ],
        ),
        Group(
            capfirst(PillarKind.COOPERATIVE.label),
            [
                Column("cooperative.members", _("Members (end of period)")),
                Column("cooperative.capital", _("Capital (Rp)"), money=True),
                Column("cooperative.loans", _("Loans disbursed (Rp)"), money=True),
                Column("cooperative.outstanding", _("Loans outstanding (Rp)"), money=True),
            ],
        ),
        Group(
            _("Partner referrals"),
            [
                Column("referrals", _("Referred")),
                Column("referrals.disbursed", _("Disbursed")),
                Column("referrals.amount", _("Amount disbursed (Rp)"), money=True),
            ],
        ),
        Group(
            _("Cases and complaints"),
            [
                Column("cases.opened", _("Opened in the period")),
                Column("cases.open", _("Open now")),
            ],
        ),
    ]


@dataclass
class VillageRow:
    code: str
    village: str
    district: str
    cohort: int
    figures: dict[str, int]
    reports: list[str]  # the report's state in each month of the period, "" when none


@dataclass
class Recap:
    job: ReportJob
    period: Period
    cohort: int | None
    groups: list[Group]
    months: list[datetime.date]
    rows: list[VillageRow] = field(default_factory=list)

    @property
    def columns(self) -> list[Column]:
        return [column for group in self.groups for column in group.columns]

    @property
    def totals(self) -> dict[str, int]:
        return {
            column.key: sum(row.figures.get(column.key, 0) for row in self.rows)
            for column in self.columns
        }

    @property
    def reports_submitted(self) -> list[int]:
        """Per month, the villages whose report was submitted or verified."""
        done = {MonthlyReport.State.SUBMITTED, MonthlyReport.State.VERIFIED}
        return [
            sum(1 for row in self.rows if row.reports[index] in done)
            for index in range(len(self.months))
        ]

    @property
    def month_labels(self) -> list[str]:
        return [month_label(month) for month in self.months]


def _per_village(figures, queryset, codes: list[str], **aggregates) -> None:
    rows = queryset.filter(village_id__in=codes).values("village_id").annotate(**aggregates)
    for row in rows.order_by():
        for key in aggregates:
            figures[row["village_id"]][key] += int(row[key] or 0)


def _cooperative_money(figures, codes: list[str], period: Period) -> None:
    """Loans disbursed add up over the months; capital and loans outstanding are stocks: each
    cooperative's figures of its latest month in the period."""
    latest: dict[int, tuple[datetime.date, str, Decimal, Decimal]] = {}
    rows = (
        CooperativePeriod.objects.alive()
        .filter(village_id__in=codes, period__gte=period.first, period__lte=period.last)
        .values_list(
            "village_id",
            "cooperative_id",
            "period",
            "capital",
            "loans_disbursed",
            "loans_outstanding",
        )
    )
    for village, cooperative, month, capital, disbursed, outstanding in rows:
        figures[village]["cooperative.loans"] += int(disbursed or 0)
        if cooperative not in latest or month > latest[cooperative][0]:
            latest[cooperative] = (month, village, capital, outstanding)
    for _month, village, capital, outstanding in latest.values():
        figures[village]["cooperative.capital"] += int(capital or 0)
        figures[village]["cooperative.outstanding"] += int(outstanding or 0)


def recap(job: ReportJob) -> Recap:
    """The recap's figures: a fixed number of grouped queries, whatever the size of the area."""
    period = period_of(job)
    result = Recap(
        job=job,
        period=period,
        cohort=job.cohort_year,
        groups=column_groups(),
        months=period.months,
    )
    designations = Designation.objects.filter(area_q(job, "village")).select_related("village")
    if job.cohort_year:
        designations = designations.filter(cohort_year=job.cohort_year)
    designations = list(designations.order_by("village_id"))
    codes = [d.village_id for d in designations]
    if not codes:
        raise ReportError(_("There is no designated village in this area."))
    first, last = period.first, period.last
    figures: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))

    def between(name: str) -> dict:
        return {f"{name}__gte": first, f"{name}__lte": last}

    statuses = {f"people.{s.value}": Count("pk", filter=Q(status=s.value)) for s in Status}
    _per_village(
        figures, Person.objects.alive(), codes, **statuses, **{"people.total": Count("pk")}
    )
    _per_village(
        figures, ServiceLog.objects.alive().filter(**between("date")), codes, services=Count("pk")
    )
    _per_village(
        figures,
        Outreach.objects.alive().filter(**between("date")),
        codes,
        **{
            "outreach.events": Count("pk"),
            "outreach.attendees": Sum(F("attendees_male") + F("attendees_female")),
        },
    )
    _per_village(
        figures,
        Enterprise.objects.alive().filter(state=Enterprise.State.RUNNING),
        codes,
        **{"enterprises.running": Count("pk")},
    )
    _per_village(
        figures,
        Training.objects.alive().filter(**between("end_date")),
        codes,
        **{
            "trainings": Count("pk", distinct=True),
            "trainings.participants": Count("participants"),
        },
    )
    _per_village(
        figures,
        ParentingSession.objects.alive().filter(**between("date")),
        codes,
        **{"sessions": Count("pk"), "sessions.children": Sum("children_attending")},
    )
    still_in = Q(left_on__isnull=True) | Q(left_on__gt=last)
    _per_village(
        figures,
        ChildEnrolment.objects.alive().filter(still_in, enrolled_on__lte=last),
        codes,
        **{"children.enrolled": Count("pk")},
    )
    _per_village(
        figures,
        CooperativeMember.objects.alive().filter(still_in, joined_on__lte=last),
        codes,
        **{"cooperative.members": Count("pk")},
    )
    _cooperative_money(figures, codes, period)
    _per_village(
        figures,
        Referral.objects.alive().filter(**between("referred_on")),
        codes,
        referrals=Count("pk"),
    )
    _per_village(
        figures,
        Referral.objects.alive().filter(stage=Referral.Stage.DISBURSED, **between("disbursed_on")),
        codes,
        **{"referrals.disbursed": Count("pk"), "referrals.amount": Sum("amount_disbursed")},
    )
    _per_village(
        figures,
        Case.objects.alive(),
        codes,
        **{
            "cases.opened": Count("pk", filter=Q(**between("reported_on"))),
            "cases.open": Count(
                "pk", filter=Q(resolution__in=[Case.Resolution.OPEN, Case.Resolution.IN_PROGRESS])
            ),
        },
    )
    states = {
        (village, month): state
        for village, month, state in MonthlyReport.objects.filter(
            village_id__in=codes, month__gte=first, month__lte=last
        ).values_list("village_id", "month", "state")
    }
    districts = {
        region.code: region.label
        for region in Region.objects.filter(code__in={code[:8] for code in codes})
    }
    result.rows = sorted(
        (
            VillageRow(
                code=d.village_id,
                village=d.village.label,
                district=districts.get(d.village_id[:8], d.village_id[:8]),
                cohort=d.cohort_year,
                figures=dict(figures[d.village_id]),
                reports=[states.get((d.village_id, month), "") for month in result.months],
            )
            for d in designations
        ),
        key=lambda row: (row.district, row.village),
    )
    return result


def report_state_label(state: str) -> str:
    if not state:
        return "–"
    return str(MonthlyReport.State(state).label)


def _village_cells(row: VillageRow) -> list[object]:
    return [row.village, row.district, row.code, row.cohort]


def layout(data: Recap) -> Document:
    """The recap as tables: the figures (cut in two for the PDF page) and the monthly reports."""
    info_headers = [_("Village"), _("District"), _("Code"), _("Cohort")]
    info_kinds = [TEXT, TEXT, TEXT, YEAR]
    totals = data.totals

    def figures_table(groups: list[Group], *, with_info: bool, caption: str = "") -> Table:
        columns = [column for group in groups for column in group.columns]
        headers = (info_headers if with_info else info_headers[:1]) + [c.label for c in columns]
        kinds = (info_kinds if with_info else info_kinds[:1]) + [
            MONEY if c.money else INT for c in columns
        ]
        info = len(headers) - len(columns)
        rows = [
            (_village_cells(row) if with_info else [row.village])
            + [row.figures.get(c.key, 0) for c in columns]
            for row in data.rows
        ]
        total = [_("Total"), *[""] * (info - 1), *[totals[c.key] for c in columns]]
        return Table(
            headers=headers,
            kinds=kinds,
            rows=rows,
            caption=caption,
            groups=[("", info)] + [(g.label, len(g.columns)) for g in data.groups if g in groups],
            total=total if rows else None,
        )

    groups = data.groups
    submitted = data.reports_submitted
    villages = len(data.rows)
    reports = Table(
        headers=[_("Village"), _("District"), *data.month_labels],
        kinds=[TEXT] * (2 + len(data.months)),
        rows=[
            [row.village, row.district, *[report_state_label(s) for s in row.reports]]
            for row in data.rows
        ],
        groups=[("", 2), (_("State of the monthly report"), len(data.months))],
        total=[_("Submitted or verified"), "", *[f"{n} / {villages}" for n in submitted]]
        if data.rows
        else None,
    )
    period_note = _(
        "Activities are counted in the period; register figures, running enterprises and open "
        "cases are as of today; members and enrolled children as of the end of the period; "
        "capital and loans outstanding from each cooperative's latest monthly figures in the "
        "period."
    )
    return Document(
        job=data.job,
        details=[
            (_("Designated villages"), str(villages)),
        ],
        notes=[period_note],
        landscape=True,
        sections=[
            Section(
                sheet=_("Recap"),
                title=_("Villages and pillars"),
                intro=period_note,
                tables=[figures_table(groups, with_info=True)],
                pdf_tables=[
                    figures_table(
                        groups[:3], with_info=True, caption=_("Register and pillars 1–2")
                    ),
                    figures_table(
                        groups[3:], with_info=False, caption=_("Pillars 3–4, referrals and cases")
                    ),
                ],
            ),
            Section(
                sheet=_("Monthly reports"),
                title=_("Monthly reports"),
                intro=_("The state of each village's monthly report, month by month."),
                tables=[reports],
            ),
        ],
    )


def build(job: ReportJob, path: Path, progress: Progress) -> None:
    document = layout(recap(job))
    progress(40)
    if job.format == ReportFormat.PDF:
        write_pdf(document, path, progress)
    else:
        write_xlsx(document, path, progress)
