"""Pillar 1, the migration service centre: the service log, outreach events, cases.

Cases and complaints are sensitive (trafficking, deaths): only roles with VIEW_CASES open
their pages (`Case.objects.for_user` returns nothing to the others anyway), and only roles
with EDIT_CASES write them or add handling steps.
"""

import datetime

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from accounts.models import User
from accounts.permissions import Action, can, require
from migrants.countries import COUNTRY_CHOICES, country_name
from migrants.models import SensitiveAccess
from pillars import services
from pillars.models import AuditEntry, Case, CaseStep, Outreach, PillarKind, ServiceLog, ServiceType
from pillars.views.records import RecordForm, Register, apply_errors

# --- Service log -------------------------------------------------------------------------------


def officers_of(village_code: str, user: User, current: int | None = None):
    """Who may be named as a service's officer: active accounts of the village (its scope or
    its designation's assigned officers), the user writing, and whoever is named already."""
    chosen = Q(pk=user.pk)
    if current is not None:
        chosen |= Q(pk=current)
    if village_code:
        chosen |= Q(is_active=True) & (
            Q(scope_id=village_code) | Q(designations__village_id=village_code)
        )
    return User.objects.filter(chosen).distinct().order_by("first_name", "last_name", "username")


def officer_label(user: User) -> str:
    return user.get_full_name() or user.username


class ServiceLogForm(RecordForm):
    person_fields = ("person",)

    class Meta:
        model = ServiceLog
        fields = ["date", "service_type", "person", "officer", "notes"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        village = self.village or self.data.get(self.add_prefix("village_code")) or ""
        officer = self.fields["officer"]
        officer.queryset = officers_of(village, self.user, self.instance.officer_id)
        officer.label_from_instance = officer_label
        if not self.instance.pk:
            officer.initial = self.user.pk
            self.fields["date"].initial = timezone.localdate()
        self.fields["person"].help_text = _("Optional: someone from the village's register.")


service = Register(
    slug="service",
    model=ServiceLog,
    form=ServiceLogForm,
    title=gettext_lazy("Service log"),
    singular=gettext_lazy("service"),
    kind=PillarKind.SERVICE_CENTRE,
    columns=[
        (gettext_lazy("Service"), "service_type"),
        (gettext_lazy("Date"), "date"),
        (gettext_lazy("Person"), "person.full_name"),
        (gettext_lazy("Officer"), lambda row: officer_label(row.officer)),
    ],
    search_fields=("notes", "person__full_name"),
    select_related=("person", "officer"),
    filters=[("service_type", gettext_lazy("Service"), ServiceType.choices)],
)


# --- Outreach events ---------------------------------------------------------------------------


class OutreachForm(RecordForm):
    class Meta:
        model = Outreach
        fields = ["date", "topic", "location", "attendees_male", "attendees_female", "notes"]


outreach = Register(
    slug="outreach",
    model=Outreach,
    form=OutreachForm,
    title=gettext_lazy("Outreach events"),
    singular=gettext_lazy("outreach event"),
    kind=PillarKind.SERVICE_CENTRE,
    columns=[
        (gettext_lazy("Topic"), "topic"),
        (gettext_lazy("Date"), "date"),
        (gettext_lazy("Men"), "attendees_male"),
        (gettext_lazy("Women"), "attendees_female"),
        (gettext_lazy("Total attending"), "attendees"),
    ],
    search_fields=("topic", "location"),
)


# --- Cases and complaints ----------------------------------------------------------------------

CLOSED = (Case.Resolution.RESOLVED, Case.Resolution.UNRESOLVED)


class CaseForm(RecordForm):
    person_fields = ("person",)

    country = forms.ChoiceField(
        label=gettext_lazy("Country"), choices=[("", "—"), *COUNTRY_CHOICES], required=False
    )

    class Meta:
        model = Case
        fields = [
            "reported_on",
            "case_type",
            "channel",
            "person",
            "country",
            "procedural_status",
            "summary",
            "resolution",
            "closed_on",
        ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["person"].help_text = _("Optional: someone from the village's register.")
        self.fields["closed_on"].help_text = _("Required once the case is resolved or closed.")

    def clean(self) -> dict:
        cleaned = super().clean()
        resolution, closed_on = cleaned.get("resolution"), cleaned.get("closed_on")
        reported_on = cleaned.get("reported_on")
        if resolution in CLOSED and not closed_on:
            self.add_error("closed_on", _("Give the date the case was closed."))
        elif resolution and resolution not in CLOSED and closed_on:
            self.add_error(
                "closed_on", _("An open case has no closing date: change its resolution too.")
            )
        if closed_on and reported_on and closed_on < reported_on:
            self.add_error("closed_on", _("A case cannot close before it was reported."))
        return cleaned


class CaseRegister(Register):
    """The generic register, with the country shown by name."""

    def described(self, record) -> list[tuple[str, object]]:
        shown = super().described(record)
        return [
            (label, case_country(record) if name == "country" else value)
            for name, (label, value) in zip(self.form._meta.fields, shown, strict=True)
        ]


def case_country(row: Case) -> str:
    return country_name(row.country) if row.country else "—"


def case_steps(request: HttpRequest, record: Case) -> dict:
    return {
        "steps": record.steps.select_related("by").order_by("date", "id"),
        "step_form": CaseStepForm(initial={"date": timezone.localdate()}),
    }


case = CaseRegister(
    slug="case",
    model=Case,
    form=CaseForm,
    title=gettext_lazy("Cases and complaints"),
    singular=gettext_lazy("case"),
    kind=PillarKind.SERVICE_CENTRE,
    columns=[
        (gettext_lazy("Type"), "case_type"),
        (gettext_lazy("Reported on"), "reported_on"),
        (gettext_lazy("Channel"), "channel"),
        (gettext_lazy("Country"), case_country),
        (gettext_lazy("Resolution"), "resolution"),
    ],
    view_action=Action.VIEW_CASES,
    edit_action=Action.EDIT_CASES,
    date_field="reported_on",
    detail_template="pillars/service/case_detail.html",
    detail_extra=case_steps,
    logged_read=(SensitiveAccess.Kind.CASE, "person"),
    filters=[
        ("case_type", gettext_lazy("Type"), Case.Type.choices),
        ("resolution", gettext_lazy("Resolution"), Case.Resolution.choices),
    ],
)


# --- Handling steps ----------------------------------------------------------------------------


@transaction.atomic
def add_case_step(
    *, actor: User, case: Case, date: datetime.date, action: str, notes: str = ""
) -> CaseStep:
    """Record what was done on a case, by whom; audited like every pillar write."""
    if not can(actor, Action.EDIT_CASES) or not services.village_in_scope(actor, case.village_id):
        raise PermissionDenied
    if case.deleted_at is not None:
        raise ValidationError(_("This record has been deleted."))
    if date < case.reported_on:
        raise ValidationError({"date": _("A step cannot come before the case was reported.")})
    step = CaseStep(case=case, date=date, action=action.strip(), notes=notes.strip(), by=actor)
    step.full_clean()
    step.save()
    services.audit(
        actor=actor,
        instance=step,
        village_id=case.village_id,
        action=AuditEntry.Action.CREATED,
        changes={
            "case": ["", str(case.pk)],
            "date": ["", date.isoformat()],
            "action": ["", step.action],
        },
    )
    return step


class CaseStepForm(forms.ModelForm):
    class Meta:
        model = CaseStep
        fields = ["date", "action", "notes"]
        widgets = {
            "date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }


@never_cache
@login_required
def case_step_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Add a handling step (the case page carries the form; errors come back here)."""
    require(request.user, Action.EDIT_CASES)
    record = case.get(request.user, pk)
    form = CaseStepForm(request.POST or None, initial={"date": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            add_case_step(actor=request.user, case=record, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Step added."))
            return redirect("pillars:case-detail", record.pk)
    return render(request, "pillars/service/case_step_form.html", {"record": record, "form": form})


def case_urls() -> list:
    return [*case.urls(), path("<int:pk>/langkah/", case_step_add, name="case-step-add")]
