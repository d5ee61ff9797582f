"""Pillar 4, cooperative / BUMDes / financial institution: the entity, its members from the
register and its monthly figures (capital and loans)."""

from django.db.models import Count, F, Q
from django.http import HttpRequest
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from migrants.models import child_cutoff
from pillars.models import Cooperative, CooperativeMember, CooperativePeriod, PillarKind
from pillars.views.parts import MonthField, PartForm, PartRegister, month_widget
from pillars.views.records import RecordForm, Register

# How many members and months a cooperative's page lists (the registers have them all).
MEMBERS_SHOWN = 100
MONTHS_SHOWN = 24


def rupiah(value) -> str:
    return formats.number_format(value, decimal_pos=0, use_l10n=True, force_grouping=True)


class CooperativeForm(RecordForm):
    class Meta:
        model = Cooperative
        fields = ["type", "name", "legal_number", "founded_on", "state"]


class MemberForm(PartForm):
    parent_field = "cooperative"
    person_fields = ("person",)

    class Meta:
        model = CooperativeMember
        fields = ["cooperative", "person", "joined_on", "left_on"]

    def _limit_people(self) -> None:
        super()._limit_people()
        # Members are adults: a cooperative's members must be able to act at law.
        field_ = self.fields["person"]
        field_.queryset = field_.queryset.filter(birth_date__lte=child_cutoff())

    def clean(self) -> dict:
        cleaned = super().clean()
        cooperative, person = cleaned.get("cooperative"), cleaned.get("person")
        if cooperative and person and self.duplicate_of(cooperative=cooperative, person=person):
            self.add_error("person", _("This person is already a member of this cooperative."))
        self.check_dates_in_order("joined_on", "left_on")
        return cleaned


class FiguresForm(PartForm):
    parent_field = "cooperative"

    class Meta:
        model = CooperativePeriod
        fields = ["cooperative", "period", "capital", "loans_disbursed", "loans_outstanding"]
        field_classes = {"period": MonthField}
        help_texts = {"period": _("The month the figures are for (YYYY-MM).")}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # RecordForm gives every date a day picker; this one is a month.
        self.fields["period"].widget = month_widget()

    def clean(self) -> dict:
        cleaned = super().clean()
        cooperative, period = cleaned.get("cooperative"), cleaned.get("period")
        if cooperative and period and self.duplicate_of(cooperative=cooperative, period=period):
            self.add_error(
                "period", _("The figures of this month are already recorded for this cooperative.")
            )
        return cleaned


def cooperative_more(request: HttpRequest, cooperative: Cooperative) -> dict:
    """A cooperative's members and its latest monthly figures."""
    user = request.user
    members = member.queryset(user).filter(cooperative=cooperative)
    today = timezone.localdate()
    return {
        # Those still members first.
        "members": list(
            members.order_by(F("left_on").desc(nulls_first=True), "person__full_name", "pk")[
                :MEMBERS_SHOWN
            ]
        ),
        "member_counts": members.aggregate(
            total=Count("pk"),
            now=Count("pk", filter=Q(left_on__isnull=True) | Q(left_on__gt=today)),
        ),
        "months": list(
            CooperativePeriod.objects.for_user(user)
            .alive()
            .filter(cooperative=cooperative)[:MONTHS_SHOWN]
        ),
        "shown": MEMBERS_SHOWN,
    }


cooperative = Register(
    slug="cooperative",
    model=Cooperative,
    form=CooperativeForm,
    title=_("Cooperatives and BUMDes"),
    singular=_("cooperative / BUMDes"),
    kind=PillarKind.COOPERATIVE,
    columns=[
        (_("Name"), "name"),
        (_("Type"), "type"),
        (_("Legal entity number"), "legal_number"),
        (_("State"), "state"),
        (_("Founded on"), "founded_on"),
    ],
    search_fields=("name", "legal_number"),
    select_related=("pillar",),
    date_field="founded_on",
    detail_template="pillars/cooperative/cooperative_detail.html",
    detail_extra=cooperative_more,
    filters=[
        ("type", _("Type"), Cooperative.Type.choices),
        ("state", _("State"), Cooperative.State.choices),
    ],
)

member = PartRegister(
    slug="member",
    model=CooperativeMember,
    form=MemberForm,
    title=_("Cooperative members"),
    singular=_("member"),
    kind=PillarKind.COOPERATIVE,
    columns=[
        (_("Member"), "person.full_name"),
        (_("Cooperative"), "cooperative.name"),
        (_("Joined on"), "joined_on"),
        (_("Left on"), "left_on"),
    ],
    search_fields=("person__full_name", "cooperative__name"),
    select_related=("pillar", "cooperative", "person"),
    date_field="joined_on",
    parent=cooperative,
    parent_field="cooperative",
    people_field="person",
)

figures = PartRegister(
    slug="figures",
    model=CooperativePeriod,
    form=FiguresForm,
    title=_("Cooperatives' monthly figures"),
    singular=_("month's figures"),
    kind=PillarKind.COOPERATIVE,
    columns=[
        (_("Month"), lambda row: formats.date_format(row.period, "YEAR_MONTH_FORMAT")),
        (_("Cooperative"), "cooperative.name"),
        (_("Capital (Rp)"), lambda row: rupiah(row.capital)),
        (_("Loans disbursed (Rp)"), lambda row: rupiah(row.loans_disbursed)),
        (_("Loans outstanding (Rp)"), lambda row: rupiah(row.loans_outstanding)),
    ],
    search_fields=("cooperative__name",),
    select_related=("pillar", "cooperative"),
    date_field="period",
    parent=cooperative,
    parent_field="cooperative",
)
