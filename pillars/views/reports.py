"""The monthly village report (laporan bulanan): the officer writes it over the month's
figures and submits it; the coordinator verifies it or returns it with a comment, and sees
which villages have not reported."""

import datetime

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.models import User
from accounts.permissions import Action, can, require
from desmigratif.pagination import window
from pillars import services
from pillars.models import AuditEntry, MonthlyReport, ServiceType
from pillars.views.records import apply_errors, own_village
from villages.models import Designation
from villages.selectors import get_designation_for_user_or_404

MONTHS_OFFERED = 24

# How the figures of services.month_figures read: (section, title, [(key, label, money)]).
FIGURES = [
    (
        "register",
        gettext_lazy("Register"),
        [
            ("registered", gettext_lazy("People registered"), False),
            ("departures", gettext_lazy("Departures"), False),
            ("returns", gettext_lazy("Returns"), False),
        ],
    ),
    (
        "services",
        gettext_lazy("Migration service centre"),
        [("total", gettext_lazy("Services given"), False)],
    ),
    (
        "outreach",
        gettext_lazy("Outreach events"),
        [
            ("events", gettext_lazy("Events"), False),
            ("men", gettext_lazy("Men attending"), False),
            ("women", gettext_lazy("Women attending"), False),
        ],
    ),
    (
        "enterprises",
        gettext_lazy("Productive enterprises"),
        [
            ("running", gettext_lazy("Enterprises running"), False),
            ("started", gettext_lazy("Enterprises started in the month"), False),
            ("trainings", gettext_lazy("Trainings finished"), False),
            ("trained", gettext_lazy("Training participants"), False),
        ],
    ),
    (
        "parenting",
        gettext_lazy("Community parenting"),
        [
            ("sessions", gettext_lazy("Sessions"), False),
            ("children", gettext_lazy("Children attending"), False),
            ("adults", gettext_lazy("Parents and carers attending"), False),
            ("enrolled", gettext_lazy("Children enrolled"), False),
        ],
    ),
    (
        "cooperative",
        gettext_lazy("Cooperative / BUMDes"),
        [
            ("entities", gettext_lazy("Active cooperatives / BUMDes"), False),
            ("members", gettext_lazy("Members"), False),
            ("capital", gettext_lazy("Capital (Rp)"), True),
            ("loans_disbursed", gettext_lazy("Loans disbursed in the month (Rp)"), True),
            ("loans_outstanding", gettext_lazy("Loans outstanding (Rp)"), True),
        ],
    ),
    (
        "referrals",
        gettext_lazy("Partner referrals"),
        [
            ("referred", gettext_lazy("Referred"), False),
            ("disbursed", gettext_lazy("Disbursed"), False),
            ("amount_disbursed", gettext_lazy("Amount disbursed (Rp)"), True),
        ],
    ),
    (
        "cases",
        gettext_lazy("Cases and complaints"),
        [
            ("opened", gettext_lazy("Cases opened"), False),
            ("closed", gettext_lazy("Cases closed"), False),
            ("open_now", gettext_lazy("Cases still open"), False),
        ],
    ),
]


def _number(value) -> str:
    if isinstance(value, int | float):
        return formats.number_format(value, force_grouping=True)
    return str(value)


def figure_tables(figures: dict) -> list[dict]:
    """The figures as titled tables of (label, number) rows. Keys this code does not know
    (a snapshot taken by another version) are shown by their name rather than dropped."""
    tables = []
    known = set()
    for section, title, rows in FIGURES:
        known.add(section)
        values = figures.get(section)
        if not isinstance(values, dict):
            continue
        shown, labelled = [], set()
        for key, label, _money in rows:
            labelled.add(key)
            if key in values:
                shown.append((label, _number(values[key])))
        if section == "services":
            labelled.add("by_type")
            by_type = values.get("by_type") or {}
            for code, count in sorted(by_type.items()):
                label = ServiceType(code).label if code in ServiceType.values else code
                shown.append((_("of which: %(service)s") % {"service": label}, _number(count)))
        for key, value in values.items():
            if key not in labelled and not isinstance(value, dict):
                shown.append((key, _number(value)))
        tables.append({"key": section, "title": title, "rows": shown})
    for section, values in figures.items():
        if section not in known and isinstance(values, dict):
            rows = [(k, _number(v)) for k, v in values.items() if not isinstance(v, dict)]
            tables.append({"key": section, "title": section, "rows": rows})
    return tables


# --- Months ---------------------------------------------------------------------------


def this_month() -> datetime.date:
    return services.month_start(timezone.localdate())


def parse_month(value: str | None) -> datetime.date:
    """A month from `YYYY-MM`; anything else, or a future month, is this month."""
    try:
        year, month = (int(part) for part in (value or "").split("-"))
        chosen = datetime.date(year, month, 1)
    except ValueError:
        return this_month()
    return min(chosen, this_month())


def month_choices() -> list[tuple[str, str]]:
    month, choices = this_month(), []
    for _i in range(MONTHS_OFFERED):
        choices.append((f"{month:%Y-%m}", formats.date_format(month, "YEAR_MONTH_FORMAT")))
        month = (month - datetime.timedelta(days=1)).replace(day=1)
    return choices


def _month_param(month: datetime.date) -> str:
    return f"{month:%Y-%m}"


def write_url(report: MonthlyReport) -> str:
    params = {"month": _month_param(report.month), "village": report.village_id}
    return f"{reverse('pillars:report-write')}?{urlencode(params)}"


# --- Forms ---------------------------------------------------------------------------


class ReportForm(forms.Form):
    narrative = forms.CharField(
        label=gettext_lazy("What happened this month"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=gettext_lazy("Needed to submit; a draft can be saved without it."),
    )
    obstacles = forms.CharField(
        label=gettext_lazy("Obstacles"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    plans = forms.CharField(
        label=gettext_lazy("Plans for next month"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("verify", gettext_lazy("Verify")), ("return", gettext_lazy("Return"))]
    )
    comment = forms.CharField(
        label=gettext_lazy("Comment to the officer"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Required when you return the report: say what to correct."),
    )


# --- Fetching ---------------------------------------------------------------------------


def get_report_for_user_or_404(user: User, pk: int) -> MonthlyReport:
    return get_object_or_404(
        MonthlyReport.objects.for_user(user).select_related(
            "village", "submitted_by", "verified_by"
        ),
        pk=pk,
    )


def _writing_village(request: HttpRequest) -> Designation:
    """The village whose report the user writes: their own, or (for a national user allowed
    to) the one named in the address; outside the scope or undesignated, 404."""
    code = request.GET.get("village") or own_village(request.user)
    if not code:
        raise Http404
    return get_designation_for_user_or_404(request.user, code)


# --- Views ---------------------------------------------------------------------------


@never_cache
@login_required
def report_list(request: HttpRequest) -> HttpResponse:
    """A village's own reports month by month; above a village, the reports of the scope."""
    user = request.user
    require(user, Action.VIEW_PILLARS)
    village = own_village(user)
    if village is not None:
        designation = get_designation_for_user_or_404(user, village)
        reports = {
            r.month: r for r in MonthlyReport.objects.for_user(user).filter(village_id=village)
        }
        # The last twelve months, written or not, and any older report.
        months = {
            datetime.date.fromisoformat(f"{value}-01") for value, _label in month_choices()[:12]
        }
        rows = [(m, reports.get(m)) for m in sorted(months | set(reports), reverse=True)]
        return render(
            request,
            "pillars/reports/village_list.html",
            {
                "designation": designation,
                "rows": rows,
                "can_submit": can(user, Action.SUBMIT_REPORT),
            },
        )

    reports = MonthlyReport.objects.for_user(user).select_related("village")
    state = request.GET.get("state", "")
    if state in MonthlyReport.State.values:
        reports = reports.filter(state=state)
    else:
        state = ""
    month = request.GET.get("month", "")
    if month:
        reports = reports.filter(month=parse_month(month))
    page = window(
        reports.order_by("-month", "village__name"), request.GET.get("page"), settings.PAGE_SIZE
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "pillars/reports/list.html",
        {
            "page": page,
            "states": MonthlyReport.State.choices,
            "state": state,
            "months": month_choices(),
            "month": month,
            "query": query.urlencode(),
            "can_verify": can(user, Action.VERIFY_REPORT),
        },
    )


@never_cache
@login_required
def report_write(request: HttpRequest) -> HttpResponse:
    """The officer's form for a month: the month's figures from the data, live, and the
    narrative; save the draft or submit it."""
    user = request.user
    require(user, Action.SUBMIT_REPORT)
    designation = _writing_village(request)
    village = designation.village_id
    month = parse_month(request.GET.get("month"))
    report = MonthlyReport.objects.for_user(user).filter(village_id=village, month=month).first()
    if report is not None and report.state in (
        MonthlyReport.State.SUBMITTED,
        MonthlyReport.State.VERIFIED,
    ):
        return redirect("pillars:report-detail", report.pk)
    initial = {}
    if report is not None:
        initial = {"narrative": report.narrative, "obstacles": report.obstacles}
        initial["plans"] = report.plans
    form = ReportForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        submitting = "submit" in request.POST
        try:
            report = services.report_save(
                actor=user, village_code=village, month=month, **form.cleaned_data
            )
            if submitting:
                # The draft above is kept even when submitting fails (e.g. no narrative).
                report = services.report_submit(actor=user, report=report)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            if submitting:
                messages.success(request, _("The report is submitted to the coordinator."))
                return redirect("pillars:report-detail", report.pk)
            messages.success(request, _("The draft is saved."))
            return redirect(write_url(report))
    return render(
        request,
        "pillars/reports/write.html",
        {
            "designation": designation,
            "report": report,
            "month": month,
            "month_value": _month_param(month),
            "months": month_choices(),
            "form": form,
            "figures": figure_tables(services.month_figures(village, month)),
            "own": own_village(user) == village,
        },
    )


def _detail(request: HttpRequest, report: MonthlyReport, review_form=None) -> HttpResponse:
    user = request.user
    snapshot = report.state != MonthlyReport.State.DRAFT and report.figures
    figures = (
        report.figures if snapshot else services.month_figures(report.village_id, report.month)
    )
    can_review = can(user, Action.VERIFY_REPORT) and report.state == MonthlyReport.State.SUBMITTED
    trail = (
        AuditEntry.objects.for_user(user)
        .filter(model=MonthlyReport._meta.model_name, object_id=str(report.pk))
        .select_related("actor")[:50]
    )
    return render(
        request,
        "pillars/reports/detail.html",
        {
            "report": report,
            "snapshot": bool(snapshot),
            "figures": figure_tables(figures),
            "review_form": review_form or (ReviewForm() if can_review else None),
            "can_edit": can(user, Action.SUBMIT_REPORT)
            and report.state in (MonthlyReport.State.DRAFT, MonthlyReport.State.RETURNED),
            "write_url": write_url(report),
            "trail": trail,
        },
    )


@never_cache
@login_required
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require(request.user, Action.VIEW_PILLARS)
    return _detail(request, get_report_for_user_or_404(request.user, pk))


@never_cache
@login_required
@require_POST
def report_review(request: HttpRequest, pk: int) -> HttpResponse:
    require(request.user, Action.VERIFY_REPORT)
    report = get_report_for_user_or_404(request.user, pk)
    form = ReviewForm(request.POST)
    if form.is_valid():
        approve = form.cleaned_data["decision"] == "verify"
        try:
            services.report_review(
                actor=request.user,
                report=report,
                approve=approve,
                comment=form.cleaned_data["comment"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            if approve:
                messages.success(request, _("The report is verified."))
            else:
                messages.success(request, _("The report is returned to the officer."))
            return redirect("pillars:report-queue")
    return _detail(request, report, review_form=form)


@never_cache
@login_required
def report_queue(request: HttpRequest) -> HttpResponse:
    """Submitted reports of the scope waiting for the coordinator, oldest first."""
    require(request.user, Action.VERIFY_REPORT)
    reports = (
        MonthlyReport.objects.for_user(request.user)
        .filter(state=MonthlyReport.State.SUBMITTED)
        .select_related("village", "submitted_by")
        .order_by("submitted_at", "pk")
    )
    page = window(reports, request.GET.get("page"), settings.PAGE_SIZE)
    return render(request, "pillars/reports/queue.html", {"page": page, "query": ""})


@never_cache
@login_required
def report_missing(request: HttpRequest) -> HttpResponse:
    """The active villages of the scope that have not submitted the month's report."""
    user = request.user
    require(user, Action.VIEW_PILLARS)
    month = parse_month(request.GET.get("month"))
    missing = services.missing_reports(user, month)
    started = dict(
        MonthlyReport.objects.for_user(user)
        .filter(month=month, village_id__in=[d.village_id for d in missing])
        .values_list("village_id", "state")
    )
    states = dict(MonthlyReport.State.choices)
    total = Designation.objects.for_user(user).filter(status=Designation.Status.ACTIVE).count()
    return render(
        request,
        "pillars/reports/missing.html",
        {
            "rows": [(d, states.get(started.get(d.village_id), "")) for d in missing],
            "month": month,
            "month_value": _month_param(month),
            "months": month_choices(),
            "total": total,
            "reported": total - len(missing),
        },
    )
