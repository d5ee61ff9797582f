"""Pillar status at a glance, and the register of `other` pillars' activities.

A village's officer and head see their own village's pillars as cards, with the registers
behind each; everyone above a village sees the matrix of villages by pillars, weakest
villages first, so a coordinator sees which village is weak in which pillar.
"""

from collections import defaultdict
from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

from accounts.models import User
from accounts.permissions import Action, can, require
from pillars import services
from pillars.models import Activity, MonthlyReport, Pillar, PillarKind, ProgrammeVariant
from pillars.views.records import RecordForm, Register, own_village
from villages.models import Designation

# The registers behind each kind of pillar: (URL name, label, action needed to open it).
REGISTERS: dict[str, list[tuple[str, str, Action]]] = {
    PillarKind.SERVICE_CENTRE: [
        ("pillars:service-list", _("Service log"), Action.VIEW_PILLARS),
        ("pillars:outreach-list", _("Outreach events"), Action.VIEW_PILLARS),
        ("pillars:case-list", _("Cases and complaints"), Action.VIEW_CASES),
    ],
    PillarKind.ENTERPRISE: [
        ("pillars:enterprise-list", _("Enterprises"), Action.VIEW_PILLARS),
        ("pillars:training-list", _("Trainings"), Action.VIEW_PILLARS),
        ("pillars:referral-list", _("Partner referrals"), Action.VIEW_PILLARS),
        ("pillars:partners", _("Partners and programmes"), Action.VIEW_PILLARS),
    ],
    PillarKind.PARENTING: [
        ("pillars:group-list", _("Parenting groups"), Action.VIEW_PILLARS),
        ("pillars:session-list", _("Parenting sessions"), Action.VIEW_PILLARS),
        ("pillars:child-list", _("Enrolled children"), Action.VIEW_CHILDREN),
    ],
    PillarKind.COOPERATIVE: [
        ("pillars:cooperative-list", _("Cooperatives / BUMDes"), Action.VIEW_PILLARS),
        ("pillars:member-list", _("Members"), Action.VIEW_PILLARS),
        ("pillars:figures-list", _("Monthly figures"), Action.VIEW_PILLARS),
    ],
    PillarKind.OTHER: [
        ("pillars:activity-list", _("Activities"), Action.VIEW_PILLARS),
    ],
}


def register_links(user: User, kind: str, pillar: Pillar | None = None) -> list[tuple[str, str]]:
    """(label, URL) of the registers of a pillar kind that the user may open."""
    links = []
    for name, label, action in REGISTERS.get(kind, []):
        if not can(user, action):
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:  # a register not mounted (yet): no dead link
            continue
        if kind == PillarKind.OTHER and pillar is not None:
            url += f"?pillar={pillar.pk}"
        links.append((label, url))
    return links


# --- Overview --------------------------------------------------------------------------------


@dataclass
class VillageRow:
    designation: Designation
    states: list[services.PillarState]

    @property
    def active_count(self) -> int:
        return sum(1 for state in self.states if state.active)

    @property
    def total(self) -> int:
        return len(self.states)


@dataclass
class VariantTable:
    variant: ProgrammeVariant
    pillars: list[Pillar]
    rows: list[VillageRow]
    # For each pillar: in how many of the (filtered) villages it is active.
    active_per_pillar: list[int]
    villages: int

    @property
    def pillar_totals(self) -> list[tuple[Pillar, int]]:
        return list(zip(self.pillars, self.active_per_pillar, strict=True))


class OverviewFilter(forms.Form):
    cohort = forms.TypedChoiceField(label=_("Cohort"), required=False, coerce=int, empty_value=None)
    status = forms.ChoiceField(label=_("Status"), required=False)

    def __init__(self, data, *, cohorts: list[int]) -> None:
        data = data.copy()
        data.setdefault("status", Designation.Status.ACTIVE)
        super().__init__(data)
        self.fields["cohort"].choices = [("", _("All")), *((y, str(y)) for y in cohorts)]
        self.fields["status"].choices = [("all", _("All")), *Designation.Status.choices]

    def filter(self, designations):
        if not self.is_valid():
            return designations.none()
        if self.cleaned_data["cohort"]:
            designations = designations.filter(cohort_year=self.cleaned_data["cohort"])
        status = self.cleaned_data["status"]
        if status and status != "all":
            designations = designations.filter(status=status)
        return designations


@never_cache
@login_required
def overview(request: HttpRequest) -> HttpResponse:
    require(request.user, Action.VIEW_PILLARS)
    village = own_village(request.user)
    if village is not None:
        return _village_overview(request, village)
    return _matrix(request)


def _village_overview(request: HttpRequest, village: str) -> HttpResponse:
    user = request.user
    designation = (
        Designation.objects.for_user(user)
        .select_related("village", "variant")
        .filter(village_id=village)
        .first()
    )
    cards, report = [], None
    if designation is not None:
        for state in services.pillar_matrix([designation])[village]:
            cards.append((state, register_links(user, state.pillar.kind, state.pillar)))
        report = (
            MonthlyReport.objects.for_user(user)
            .filter(village_id=village, month=services.month_start(timezone.localdate()))
            .first()
        )
    return render(
        request,
        "pillars/overview/village.html",
        {
            "designation": designation,
            "cards": cards,
            "active_count": sum(1 for state, _links in cards if state.active),
            "active_days": settings.PILLAR_ACTIVE_DAYS,
            "report": report,
            "can_submit": can(user, Action.SUBMIT_REPORT),
        },
    )


def _matrix(request: HttpRequest) -> HttpResponse:
    user = request.user
    scoped = Designation.objects.for_user(user)
    cohorts = sorted(set(scoped.values_list("cohort_year", flat=True)))
    form = OverviewFilter(request.GET, cohorts=cohorts)
    designations = list(
        form.filter(scoped).select_related("village", "variant").order_by("village_id")
    )
    matrix = services.pillar_matrix(designations)

    by_variant: dict[int, list[VillageRow]] = defaultdict(list)
    for designation in designations:
        row = VillageRow(designation, matrix[designation.village_id])
        by_variant[designation.variant_id].append(row)
    tables = []
    for rows in by_variant.values():
        # The weakest villages first: those with the fewest active pillars.
        rows.sort(key=lambda r: (r.active_count, r.designation.village.label))
        pillars = [state.pillar for state in rows[0].states]
        tables.append(
            VariantTable(
                variant=rows[0].designation.variant,
                pillars=pillars,
                rows=rows,
                active_per_pillar=[
                    sum(1 for r in rows if r.states[i].active) for i in range(len(pillars))
                ],
                villages=len(rows),
            )
        )
    tables.sort(key=lambda t: t.variant.name)
    # Long lists are paged per programme; a page number applies to each programme's table.
    page_number = request.GET.get("page")
    paged = []
    for table in tables:
        page = Paginator(table.rows, settings.PAGE_SIZE).get_page(page_number)
        paged.append((table, page))
    kinds = []
    for table in tables:
        for pillar in table.pillars:
            if pillar.kind not in kinds:
                kinds.append(pillar.kind)
    registers = [(PillarKind(kind).label, register_links(user, kind)) for kind in kinds]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "pillars/overview/matrix.html",
        {
            "form": form,
            "tables": paged,
            "villages": len(designations),
            "registers": [(label, links) for label, links in registers if links],
            "active_days": settings.PILLAR_ACTIVE_DAYS,
            "query": query.urlencode(),
            "can_verify": can(user, Action.VERIFY_REPORT),
        },
    )


# --- Activities of `other` pillars -------------------------------------------------------------


class OtherPillarChoices:
    """The `other` pillars of the active variants, for the list's filter; read when iterated,
    so pillars an administrator adds show up without a restart."""

    def __iter__(self):
        pillars = Pillar.objects.filter(
            kind=PillarKind.OTHER, active=True, variant__active=True
        ).select_related("variant")
        return iter([(p.pk, f"{p.name} ({p.variant.name})") for p in pillars])


class ActivityForm(RecordForm):
    class Meta:
        model = Activity
        fields = ["pillar", "date", "title", "participants", "notes"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["pillar"]
        village = self.village or self.data.get(self.add_prefix("village_code")) or ""
        if village:
            try:
                ids = [p.pk for p in services.pillars_of(village) if p.kind == PillarKind.OTHER]
            except ValidationError:
                ids = []
            field.queryset = Pillar.objects.filter(pk__in=ids)
        else:
            # The village is picked in this same form: offer the `other` pillars of the
            # programmes in the user's scope; the service checks the village has the pillar.
            variants = Designation.objects.for_user(self.user).values("variant_id")
            field.queryset = Pillar.objects.filter(
                variant_id__in=variants, kind=PillarKind.OTHER, active=True
            )
        field.label_from_instance = lambda pillar: pillar.name
        field.help_text = _(
            "Pillars of the village's programme that have no register of their own."
        )

    def clean_pillar(self) -> Pillar:
        pillar = self.cleaned_data["pillar"]
        if pillar.kind != PillarKind.OTHER:
            raise ValidationError(_("Record this pillar's work in its own register."))
        return pillar


activity = Register(
    slug="activity",
    model=Activity,
    form=ActivityForm,
    title=_("Activities of other pillars"),
    singular=_("activity"),
    kind=None,
    columns=[
        (_("Activity"), "title"),
        (_("Date"), "date"),
        (_("Pillar"), "pillar.name"),
        (_("Participants"), "participants"),
    ],
    search_fields=("title", "notes"),
    select_related=("pillar",),
    filters=[("pillar", _("Pillar"), OtherPillarChoices())],
)
