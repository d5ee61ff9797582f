"""Pillar 2, productive enterprises: the enterprise register, trainings, the partners and
their programmes, and referrals of people and enterprises to those programmes."""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.models import User
from accounts.permissions import Action, can, require
from migrants.models import Person, Status, child_cutoff
from pillars import services
from pillars.models import (
    Enterprise,
    Partner,
    PartnerProgramme,
    PillarKind,
    Referral,
    Training,
)
from pillars.views.people import hide_people_in_choices
from pillars.views.records import RecordForm, Register, apply_errors
from villages.models import Region

# Children's names stay out of these registers: the enterprise list and the referrals show the
# people they name to every reader (evaluators, the province), who may not see children.
# A training may include children; its detail page lists only the participants the reader
# may see.


def _adults(people: QuerySet) -> QuerySet:
    return people.filter(birth_date__lte=child_cutoff())


# --- Enterprises ---------------------------------------------------------------------------

OWNER_STATUSES = (Status.PURNA, Status.FAMILY)


class EnterpriseForm(RecordForm):
    person_fields = ("owner",)

    class Meta:
        model = Enterprise
        fields = [
            "owner",
            "name",
            "sector",
            "products",
            "start_date",
            "state",
            "workers",
            "revenue_band",
            "export_ready",
            "assistance",
        ]

    def _limit_people(self) -> None:
        super()._limit_people()
        owner = self.fields["owner"]
        eligible = Q(status__in=OWNER_STATUSES, birth_date__lte=child_cutoff())
        if self.instance.owner_id:
            # Someone who left again after starting the business still owns it.
            eligible |= Q(pk=self.instance.owner_id)
        owner.queryset = owner.queryset.filter(eligible)
        owner.help_text = gettext_lazy(
            "An adult purna PMI or family member from the village's register."
        )


def enterprise_extra(request: HttpRequest, record: Enterprise) -> dict:
    referrals = (
        Referral.objects.for_user(request.user)
        .alive()
        .filter(enterprise=record)
        .select_related("programme__partner")
    )
    return {"referrals": list(referrals)}


enterprise = Register(
    slug="enterprise",
    model=Enterprise,
    form=EnterpriseForm,
    title=gettext_lazy("Enterprises"),
    singular=gettext_lazy("enterprise"),
    kind=PillarKind.ENTERPRISE,
    columns=[
        (gettext_lazy("Name"), "name"),
        (gettext_lazy("Owner"), "owner.full_name"),
        (gettext_lazy("Sector"), "sector"),
        (gettext_lazy("State"), "state"),
        (gettext_lazy("Workers"), "workers"),
        (gettext_lazy("Started on"), "start_date"),
    ],
    search_fields=("name", "products", "owner__full_name"),
    select_related=("owner",),
    date_field="start_date",
    detail_template="pillars/enterprise/enterprise_detail.html",
    detail_extra=enterprise_extra,
    filters=[
        ("sector", gettext_lazy("Sector"), Enterprise.Sector.choices),
        ("state", gettext_lazy("State"), Enterprise.State.choices),
    ],
)


# --- Trainings -----------------------------------------------------------------------------


class TrainingForm(RecordForm):
    person_fields = ("participants",)

    class Meta:
        model = Training
        fields = ["topic", "organiser", "start_date", "end_date", "participants", "notes"]
        widgets = {"participants": forms.SelectMultiple(attrs={"size": 12})}
        help_texts = {
            "participants": gettext_lazy(
                "People of the village's register. On a computer, hold Ctrl (Cmd on a Mac) "
                "and click to choose more than one."
            )
        }

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", _("The training cannot end before it starts."))
        return data


@dataclass
class TrainingRegister(Register):
    """Trainings count their participants in the same query as the rows."""

    def queryset(self, user: User) -> QuerySet:
        return (
            super()
            .queryset(user)
            .annotate(
                participant_count=Count(
                    "participants", filter=Q(participants__deleted_at__isnull=True)
                )
            )
        )

    def described(self, record) -> list[tuple[str, object]]:
        # Participants are listed apart, only those the reader may see (see training_extra).
        return [
            (label, value)
            for label, value in super().described(record)
            if label != Training._meta.get_field("participants").verbose_name
        ]


def training_extra(request: HttpRequest, record: Training) -> dict:
    visible = list(
        Person.objects.for_user(request.user)
        .alive()
        .filter(trainings=record)
        .order_by("full_name")
        .only("pk", "full_name", "status")
    )
    return {
        "participants": visible,
        "participants_hidden": max(record.participant_count - len(visible), 0),
    }


training = TrainingRegister(
    slug="training",
    model=Training,
    form=TrainingForm,
    title=gettext_lazy("Trainings"),
    singular=gettext_lazy("training"),
    kind=PillarKind.ENTERPRISE,
    columns=[
        (gettext_lazy("Topic"), "topic"),
        (gettext_lazy("Organiser"), "organiser"),
        (gettext_lazy("From"), "start_date"),
        (gettext_lazy("Until"), "end_date"),
        (gettext_lazy("Participants"), "participant_count"),
    ],
    search_fields=("topic", "organiser"),
    date_field="end_date",
    detail_template="pillars/enterprise/training_detail.html",
    detail_extra=training_extra,
)


# --- Referrals -----------------------------------------------------------------------------

# Where a referral may go from each stage; disbursed and rejected are final.
NEXT_STAGES: dict[str, tuple[str, ...]] = {
    Referral.Stage.REFERRED: (Referral.Stage.ACCEPTED, Referral.Stage.REJECTED),
    Referral.Stage.ACCEPTED: (Referral.Stage.DISBURSED, Referral.Stage.REJECTED),
}
STAGE_DATE = {
    Referral.Stage.ACCEPTED: "accepted_on",
    Referral.Stage.DISBURSED: "disbursed_on",
    Referral.Stage.REJECTED: "rejected_on",
}


def _day(value: datetime.date) -> str:
    return formats.date_format(value, "SHORT_DATE_FORMAT")


def _rupiah(value: Decimal | None) -> str:
    if value is None:
        return "—"
    return formats.number_format(value, decimal_pos=0, force_grouping=True)


@transaction.atomic
def move_referral(
    actor: User,
    referral: Referral,
    stage: str,
    date: datetime.date | None,
    amount: Decimal | None = None,
) -> Referral:
    """Move a referral one stage on: referred -> accepted -> disbursed (with the amount), or
    -> rejected from referred or accepted. Never back, never skipping acceptance, dated no
    earlier than the previous step and not in the future. Saved (and audited) through
    `services.record_update`; returns the saved referral."""
    if not can(actor, Action.EDIT_PILLARS) or not services.village_in_scope(
        actor, referral.village_id
    ):
        raise PermissionDenied
    current = Referral.objects.select_for_update().get(pk=referral.pk)
    if current.deleted_at is not None:
        raise ValidationError(_("This referral has been deleted."))
    if stage not in NEXT_STAGES.get(current.stage, ()):
        if current.stage not in NEXT_STAGES:
            message = _("This referral is already %(current)s: its stage can no longer change.")
        elif stage in Referral.Stage.values:
            message = _("A referral that is %(current)s cannot become %(stage)s.")
        else:
            message = _("Choose a valid next stage.")
        raise ValidationError(
            message
            % {
                "current": current.get_stage_display(),
                "stage": Referral.Stage(stage).label if stage in Referral.Stage.values else "",
            }
        )

    errors = {}
    previous = current.accepted_on or current.referred_on
    if date is None:
        errors["date"] = _("Give the date.")
    elif date > timezone.localdate():
        errors["date"] = _("The date cannot be in the future.")
    elif date < current.referred_on:
        errors["date"] = _("The date cannot be before the referral (%(date)s).") % {
            "date": _day(current.referred_on)
        }
    elif date < previous:
        errors["date"] = _("The date cannot be before the acceptance (%(date)s).") % {
            "date": _day(previous)
        }
    if stage == Referral.Stage.DISBURSED:
        if amount is None:
            errors["amount"] = _("Give the amount disbursed.")
        elif amount <= 0:
            errors["amount"] = _("The amount disbursed must be more than zero.")
    elif amount is not None:
        errors["amount"] = _("An amount is only given when the money is disbursed.")
    if errors:
        raise ValidationError(errors)

    current.stage = stage
    setattr(current, STAGE_DATE[stage], date)
    if stage == Referral.Stage.DISBURSED:
        current.amount_disbursed = amount
    services.record_update(actor=actor, instance=current)
    return current


class ReferralForm(RecordForm):
    person_fields = ("person",)

    class Meta:
        model = Referral
        fields = ["programme", "person", "enterprise", "referred_on", "amount_requested", "notes"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        offered = Q(active=True, partner__active=True)
        if self.instance.programme_id:
            offered |= Q(pk=self.instance.programme_id)
        programme = self.fields["programme"]
        programme.queryset = (
            PartnerProgramme.objects.filter(offered)
            .select_related("partner")
            .order_by("partner__name", "name")
        )
        programme.label_from_instance = lambda p: f"{p.name} ({p.partner.name})"

    def _limit_people(self) -> None:
        super()._limit_people()
        village = self.village or self.data.get(self.add_prefix("village_code")) or ""
        self.fields["person"].queryset = _adults(self.fields["person"].queryset)
        enterprise_field = self.fields["enterprise"]
        enterprise_field.queryset = (
            Enterprise.objects.for_user(self.user)
            .alive()
            .filter(village_id=village)
            .select_related("owner")
            .order_by("name")
        )
        enterprise_field.label_from_instance = lambda e: f"{e.name} ({e.owner.full_name})"
        # An enterprise stays in the village when its owner moves away.
        hide_people_in_choices(enterprise_field, self.user)
        enterprise_field.help_text = gettext_lazy("Choose the person, the enterprise, or both.")

    def clean(self) -> dict:
        data = super().clean()
        if not (self.has_error("person") or self.has_error("enterprise")) and not (
            data.get("person") or data.get("enterprise")
        ):
            # On the field (not the form), so the model's own check does not say it again.
            self.add_error("person", _("Choose the person or the enterprise referred."))
        referred_on = data.get("referred_on")
        if referred_on:
            later = [
                getattr(self.instance, name)
                for name in STAGE_DATE.values()
                if getattr(self.instance, name)
            ]
            if referred_on > timezone.localdate():
                self.add_error("referred_on", _("The date cannot be in the future."))
            elif later and referred_on > min(later):
                self.add_error(
                    "referred_on",
                    _("The referral cannot be dated after its next stage (%(date)s).")
                    % {"date": _day(min(later))},
                )
        return data


class TransitionForm(forms.Form):
    date = forms.DateField(
        label=gettext_lazy("Date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    amount = forms.DecimalField(
        label=gettext_lazy("Amount disbursed (Rp)"),
        max_digits=15,
        decimal_places=0,
        min_value=0,
        required=False,
    )

    def __init__(self, *args, stage: str, **kwargs) -> None:
        kwargs.setdefault("prefix", stage)
        super().__init__(*args, **kwargs)
        self.stage = stage
        if stage == Referral.Stage.DISBURSED:
            self.fields["amount"].required = True
        else:
            del self.fields["amount"]

    @property
    def title(self) -> str:
        return {
            Referral.Stage.ACCEPTED: _("Accepted by the partner"),
            Referral.Stage.DISBURSED: _("Money disbursed"),
            Referral.Stage.REJECTED: _("Rejected by the partner"),
        }[self.stage]


def _who(row: Referral) -> str:
    names = [e.name for e in [row.enterprise] if e] + [p.full_name for p in [row.person] if p]
    return " · ".join(names)


def referral_extra(request: HttpRequest, record: Referral) -> dict:
    failed = getattr(request, "transition_form", None)
    forms_ = []
    if can(request.user, Action.EDIT_PILLARS):
        for stage in NEXT_STAGES.get(record.stage, ()):
            if failed is not None and failed.stage == stage:
                forms_.append(failed)
                continue
            initial = {"date": timezone.localdate()}
            if stage == Referral.Stage.DISBURSED:
                initial["amount"] = record.amount_requested
            forms_.append(TransitionForm(stage=stage, initial=initial))
    stages = [
        (
            Referral._meta.get_field(name).verbose_name,
            formats.date_format(getattr(record, name), "j F Y") if getattr(record, name) else "—",
        )
        for name in ("accepted_on", "disbursed_on", "rejected_on")
    ]
    requested = Referral._meta.get_field("amount_requested").verbose_name
    return {
        "fields": [
            *(
                (label, _rupiah(record.amount_requested) if label == requested else value)
                for label, value in referral.described(record)
            ),
            (Referral._meta.get_field("stage").verbose_name, record.get_stage_display()),
            *stages,
            (
                Referral._meta.get_field("amount_disbursed").verbose_name,
                _rupiah(record.amount_disbursed),
            ),
        ],
        "transition_forms": forms_,
    }


class _ProgrammeChoices:
    """The programmes as filter choices, read when the list is shown (not at import)."""

    def __iter__(self):
        return iter(PartnerProgramme.objects.order_by("name").values_list("pk", "name"))


referral = Register(
    slug="referral",
    model=Referral,
    form=ReferralForm,
    title=gettext_lazy("Referrals to partner programmes"),
    singular=gettext_lazy("referral"),
    kind=PillarKind.ENTERPRISE,
    columns=[
        (gettext_lazy("Programme"), "programme.name"),
        (gettext_lazy("Referred"), _who),
        (gettext_lazy("Stage"), "stage"),
        (gettext_lazy("Referred on"), "referred_on"),
        (gettext_lazy("Requested (Rp)"), lambda row: _rupiah(row.amount_requested)),
        (gettext_lazy("Disbursed (Rp)"), lambda row: _rupiah(row.amount_disbursed)),
    ],
    search_fields=("person__full_name", "enterprise__name"),
    select_related=("programme__partner", "person", "enterprise__owner"),
    date_field="referred_on",
    detail_template="pillars/enterprise/referral_detail.html",
    detail_extra=referral_extra,
    filters=[
        ("stage", gettext_lazy("Stage"), Referral.Stage.choices),
        ("programme", gettext_lazy("Programme"), _ProgrammeChoices()),
    ],
)


@never_cache
@login_required
@require_POST
def referral_move(request: HttpRequest, pk: int) -> HttpResponse:
    """One step of a referral (accepted, disbursed or rejected), from its detail page."""
    require(request.user, Action.EDIT_PILLARS)
    record = referral.get(request.user, pk)
    stage = request.POST.get("stage", "")
    if stage not in STAGE_DATE:
        messages.error(request, _("Choose a valid next stage."))
        return redirect("pillars:referral-detail", record.pk)
    form = TransitionForm(request.POST, stage=stage)
    if form.is_valid():
        try:
            move_referral(
                request.user,
                record,
                stage,
                form.cleaned_data["date"],
                form.cleaned_data.get("amount"),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                _("The referral is now %(stage)s.") % {"stage": Referral.Stage(stage).label},
            )
            return redirect("pillars:referral-detail", record.pk)
    if stage not in NEXT_STAGES.get(record.stage, ()):
        # No form for that stage on the page: say why at the top.
        for message in form.non_field_errors():
            messages.error(request, message)
        return redirect("pillars:referral-detail", record.pk)
    # Show the detail page again with this form's errors in place.
    request.transition_form = form
    return referral.detail_view(request, pk)


# --- Partners and their programmes -----------------------------------------------------------


@dataclass
class ProgrammeRow:
    programme: PartnerProgramme
    stages: dict[str, int] = field(default_factory=dict)
    requested: Decimal = Decimal(0)
    disbursed: Decimal = Decimal(0)

    @property
    def total(self) -> int:
        return sum(self.stages.values())

    def by_stage(self) -> list[int]:
        return [self.stages.get(stage, 0) for stage in Referral.Stage.values]


@dataclass
class VillageRow:
    village: str  # label
    programme: str
    referred: int
    accepted: int
    disbursed: int
    amount: Decimal


def partner_totals(user: User) -> tuple[list, list[VillageRow], dict]:
    """Referral totals of the user's scope per programme (by stage) and per village and
    programme: two grouped queries plus two for the partners and their programmes, whatever
    the number of rows. Returns [(partner, [ProgrammeRow])], the village rows, the totals."""
    referrals = Referral.objects.for_user(user).alive()
    partners_ = list(
        Partner.objects.order_by("name").prefetch_related(
            Prefetch("programmes", queryset=PartnerProgramme.objects.order_by("name"))
        )
    )
    programmes = {
        programme.pk: ProgrammeRow(programme)
        for partner in partners_
        for programme in partner.programmes.all()
    }
    for row in (
        referrals.values("programme_id", "stage")
        .annotate(
            n=Count("id"),
            requested=Sum("amount_requested", default=0),
            disbursed=Sum("amount_disbursed", default=0),
        )
        .order_by()
    ):
        totals = programmes[row["programme_id"]]
        totals.stages[row["stage"]] = row["n"]
        totals.requested += row["requested"]
        totals.disbursed += row["disbursed"]

    done = Q(stage=Referral.Stage.DISBURSED)
    villages = [
        VillageRow(
            village=Region(code=row["village_id"], name=row["village__name"]).label,
            programme=programmes[row["programme_id"]].programme.name,
            referred=row["referred"],
            accepted=row["accepted"],
            disbursed=row["disbursed"],
            amount=row["amount"],
        )
        for row in referrals.values("village_id", "village__name", "programme_id")
        .annotate(
            referred=Count("id"),
            accepted=Count(
                "id", filter=Q(stage__in=[Referral.Stage.ACCEPTED, Referral.Stage.DISBURSED])
            ),
            disbursed=Count("id", filter=done),
            amount=Sum("amount_disbursed", filter=done, default=0),
        )
        .order_by()
    ]
    villages.sort(key=lambda v: (v.village, v.programme))
    grand = {
        "by_stage": [
            sum(p.stages.get(stage, 0) for p in programmes.values())
            for stage in Referral.Stage.values
        ],
        "total": sum(p.total for p in programmes.values()),
        "requested": sum((p.requested for p in programmes.values()), Decimal(0)),
        "disbursed": sum((p.disbursed for p in programmes.values()), Decimal(0)),
        "village_referred": sum(v.referred for v in villages),
        "village_accepted": sum(v.accepted for v in villages),
        "village_disbursed": sum(v.disbursed for v in villages),
        "village_amount": sum((v.amount for v in villages), Decimal(0)),
    }
    by_partner = [
        (partner, [programmes[p.pk] for p in partner.programmes.all()]) for partner in partners_
    ]
    return by_partner, villages, grand


@never_cache
@login_required
def partners(request: HttpRequest) -> HttpResponse:
    require(request.user, Action.VIEW_PILLARS)
    by_partner, villages, grand = partner_totals(request.user)
    return render(
        request,
        "pillars/enterprise/partners.html",
        {
            "partners": by_partner,
            "stages": Referral.Stage.choices,
            "villages": villages,
            "grand": grand,
        },
    )
