"""One set of views for every pillar register (service log, outreach, enterprises, ...).

A register is declared once (`Register`: its model, form, pillar kind, columns, filters) and
gets a list, a detail page with its audit trail, a create form, an edit form and a soft
delete, all scoped by `Model.objects.for_user` and written through `pillars.services`.
Registers with more to them (a case's steps, a training's participants) add their own views
next to these and reuse the helpers below.
"""

import datetime
import decimal
from collections.abc import Callable
from dataclasses import dataclass, field

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.models import User
from accounts.permissions import Action, can, require
from desmigratif.pagination import window
from migrants.access import log_read
from pillars import services
from pillars.models import AuditEntry, VillageRecord
from pillars.views.people import hide_people, person_search, with_people_shown
from villages.models import Designation


def apply_errors(form: forms.Form, exc: ValidationError) -> None:
    """Put a service's errors on the form's fields (or on top when the field is not there)."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def designated_villages(user: User) -> list[tuple[str, str]]:
    """(code, label) of the Desmigratif villages in the user's scope, by name."""
    designations = Designation.objects.for_user(user).select_related("village")
    return sorted(((d.village_id, d.village.label) for d in designations), key=lambda v: v[1])


def own_village(user: User) -> str | None:
    """The village of a village-scoped user, else None."""
    return user.scope_id if user.scope_id and len(user.scope_id) == 13 else None


def people_of(village_code: str, user: User, *, children: bool = False) -> QuerySet:
    """The register's living people of a village that the user may see, for a choice list."""
    from migrants.models import Person

    people = Person.objects.for_user(user).alive().filter(village_id=village_code)
    if children:
        from migrants.models import child_cutoff

        people = people.filter(birth_date__gt=child_cutoff())
    return people.order_by("full_name")


class RecordForm(forms.ModelForm):
    """A pillar record's form: the village is chosen among the user's designated villages
    (fixed for a village officer); fields pointing to people offer that village's register."""

    # Names of fields that point to people of the register.
    person_fields: tuple[str, ...] = ()
    child_fields: tuple[str, ...] = ()

    def __init__(self, *args, user: User, village: str | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        if self.instance.pk:
            self.village = self.instance.village_id
        else:
            self.village = village or own_village(user)
            if self.village is None:
                choices = designated_villages(user)
                self.fields = {
                    "village_code": forms.ChoiceField(
                        label=gettext_lazy("Village"), choices=[("", "—"), *choices]
                    ),
                    **self.fields,
                }
        self._limit_people()
        for widget_field in self.fields.values():
            if isinstance(widget_field, forms.DateField):
                widget_field.widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")

    def _limit_people(self) -> None:
        village = self.village or self.data.get(self.add_prefix("village_code")) or ""
        for name in self.person_fields + self.child_fields:
            if name in self.fields:
                field_ = self.fields[name]
                field_.queryset = people_of(village, self.user, children=name in self.child_fields)
                field_.label_from_instance = lambda p: f"{p.full_name} ({p.birth_date:%d-%m-%Y})"

    def clean(self) -> dict:
        cleaned = super().clean()
        if self.instance.pk:
            # A list of people keeps those the form cannot offer (someone who moved away, a
            # child the user may not see): whoever cannot see them cannot take them off.
            for name in self.person_fields + self.child_fields:
                model_field = self._meta.model._meta.get_field(name)
                if name not in cleaned:
                    continue
                offered = self.fields[name].queryset.values("pk")
                if model_field.many_to_many:
                    kept = getattr(self.instance, name).exclude(pk__in=offered)
                    cleaned[name] = [*cleaned[name], *kept]
                elif cleaned[name] is None:
                    # A single person the form cannot offer shows as no choice: an edit of
                    # the record's other fields keeps them (choosing someone else replaces).
                    current = getattr(self.instance, model_field.attname)
                    if current is not None and not offered.filter(pk=current).exists():
                        cleaned[name] = getattr(self.instance, name)
        return cleaned

    def chosen_village(self) -> str:
        return self.village or self.cleaned_data["village_code"]


@dataclass
class Register:
    """A pillar register's declaration; see the module docstring."""

    slug: str  # URL names: pillars:<slug>-list, -create, -detail, -edit, -delete
    model: type[VillageRecord]
    form: type[RecordForm]
    title: str  # lazy: the list's title
    singular: str  # lazy: "service", "outreach event"
    kind: str | None  # the pillar kind records are tagged with; None: the form picks a pillar
    columns: list[tuple[str, str | Callable]]  # (label, attribute or function of the row)
    search_fields: tuple[str, ...] = ()
    select_related: tuple[str, ...] = ()
    view_action: Action = Action.VIEW_PILLARS
    edit_action: Action = Action.EDIT_PILLARS
    date_field: str | None = "date"
    detail_template: str = "pillars/record_detail.html"
    # Extra context for the detail page: a function (request, record) -> dict.
    detail_extra: Callable | None = None
    filters: list[tuple[str, str, list]] = field(default_factory=list)  # (field, label, choices)
    # Opening a record of a sensitive register (a case, a child) is logged in the access log:
    # (SensitiveAccess.Kind, the record's field naming the person).
    logged_read: tuple[str, str] | None = None

    def queryset(self, user: User) -> QuerySet:
        """The user's living records, each knowing which of its people the user may see."""
        return with_people_shown(
            self.model.objects.for_user(user)
            .alive()
            .select_related("village", *self.select_related),
            user,
        )

    def get(self, user: User, pk) -> Model:
        """The record if the user may see it, else 404 (never 403: no hint it exists)."""
        return get_object_or_404(self.queryset(user), pk=pk)

    def cell(self, row, accessor) -> object:
        if callable(accessor):
            return accessor(row)
        value = row
        for part in accessor.split("."):
            display = getattr(value, f"get_{part}_display", None)
            value = display() if display else getattr(value, part)
            if value is None:
                return "—"
        return value

    def urls(self) -> list:
        return [
            path("", self.list_view, name=f"{self.slug}-list"),
            path("baru/", self.create_view, name=f"{self.slug}-create"),
            path("<int:pk>/", self.detail_view, name=f"{self.slug}-detail"),
            path("<int:pk>/ubah/", self.edit_view, name=f"{self.slug}-edit"),
            path("<int:pk>/hapus/", self.delete_view, name=f"{self.slug}-delete"),
        ]

    # --- views ---------------------------------------------------------------------------

    @property
    def list_view(self):
        @never_cache
        @login_required
        def view(request: HttpRequest) -> HttpResponse:
            require(request.user, self.view_action)
            rows = self.queryset(request.user)
            villages = designated_villages(request.user)
            chosen = request.GET.get("village", "")
            if chosen:
                rows = rows.filter(village_id=chosen)
            query = request.GET.get("q", "").strip()[:100]
            if query and self.search_fields:
                condition = Q()
                for name in self.search_fields:
                    condition |= person_search(self.model, name, query, request.user)
                rows = rows.filter(condition)
            chosen_filters = {}
            for name, _label, choices in self.filters:
                value = request.GET.get(name, "")
                if value and value in {str(c[0]) for c in choices}:
                    rows = rows.filter(**{name: value})
                    chosen_filters[name] = value
            page = window(rows, request.GET.get("page"), settings.PAGE_SIZE)
            hide_people(request.user, page.object_list)
            params = request.GET.copy()
            params.pop("page", None)
            return render(
                request,
                "pillars/record_list.html",
                {
                    "register": self,
                    "page": page,
                    "rows": [
                        (row, [self.cell(row, accessor) for _label, accessor in self.columns])
                        for row in page.object_list
                    ],
                    "villages": villages if len(villages) > 1 else [],
                    "chosen_village": chosen,
                    "q": query,
                    "filters": [
                        (name, label, choices, chosen_filters.get(name, ""))
                        for name, label, choices in self.filters
                    ],
                    "query": params.urlencode(),
                    "can_edit": can(request.user, self.edit_action),
                },
            )

        return view

    @property
    def detail_view(self):
        @never_cache
        @login_required
        def view(request: HttpRequest, pk: int) -> HttpResponse:
            require(request.user, self.view_action)
            record = self.get(request.user, pk)
            if self.logged_read:
                kind, person_field = self.logged_read
                log_read(
                    actor=request.user,
                    kind=kind,
                    person=getattr(record, person_field),
                    record=record,
                )
            hide_people(request.user, [record])
            trail = AuditEntry.objects.filter(
                model=self.model._meta.model_name, object_id=str(record.pk)
            ).select_related("actor")[:50]
            context = {
                "register": self,
                "record": record,
                "fields": self.described(record),
                "trail": trail,
                "can_edit": can(request.user, self.edit_action),
            }
            if self.detail_extra:
                context.update(self.detail_extra(request, record))
            return render(request, self.detail_template, context)

        return view

    def described(self, record) -> list[tuple[str, object]]:
        """(label, shown value) of the record's form fields, for the detail page."""
        shown = []
        for name in self.form._meta.fields:
            model_field = self.model._meta.get_field(name)
            if model_field.many_to_many:
                value = ", ".join(str(v) for v in getattr(record, name).all()) or "—"
            elif model_field.is_relation:
                related = getattr(record, name)
                value = getattr(related, "full_name", None) or related or "—"
            elif model_field.choices:
                value = getattr(record, f"get_{name}_display")() or "—"
            else:
                value = getattr(record, name)
                if value in (None, ""):
                    value = "—"
                elif isinstance(value, bool):
                    value = _("yes") if value else _("no")
                elif isinstance(value, datetime.date):
                    value = date_format(value, "j F Y")
                elif isinstance(value, int | decimal.Decimal):
                    value = number_format(value, force_grouping=True)
            shown.append((model_field.verbose_name, value))
        return shown

    @property
    def create_view(self):
        @never_cache
        @login_required
        def view(request: HttpRequest) -> HttpResponse:
            require(request.user, self.edit_action)
            village = request.GET.get("village") or None
            if village and not services.village_in_scope(request.user, village):
                raise Http404
            if village is None and own_village(request.user) is None and request.method == "GET":
                # Regency and national users pick the village first, so the form's lists of
                # people and officers are that village's.
                villages = designated_villages(request.user)
                if len(villages) == 1:
                    return redirect(f"{request.path}?village={villages[0][0]}")
                return render(
                    request,
                    "pillars/choose_village.html",
                    {"register": self, "villages": villages},
                )
            form = self.form(request.POST or None, user=request.user, village=village)
            if request.method == "POST" and form.is_valid():
                record = form.save(commit=False)
                record.village_id = form.chosen_village()
                try:
                    services.record_create(actor=request.user, instance=record, kind=self.kind)
                    form.save_m2m()
                except ValidationError as exc:
                    apply_errors(form, exc)
                except PermissionDenied:
                    form.add_error(None, _("You cannot record data for this village."))
                else:
                    messages.success(request, _("Saved."))
                    return redirect(f"pillars:{self.slug}-detail", record.pk)
            return render(
                request,
                "pillars/record_form.html",
                {"register": self, "form": form, "creating": True},
            )

        return view

    @property
    def edit_view(self):
        @never_cache
        @login_required
        def view(request: HttpRequest, pk: int) -> HttpResponse:
            require(request.user, self.edit_action)
            record = self.get(request.user, pk)
            form = self.form(request.POST or None, instance=record, user=request.user)
            if request.method == "POST" and form.is_valid():
                try:
                    services.record_update(actor=request.user, instance=form.save(commit=False))
                    form.save_m2m()
                except ValidationError as exc:
                    apply_errors(form, exc)
                else:
                    messages.success(request, _("Saved."))
                    return redirect(f"pillars:{self.slug}-detail", record.pk)
            return render(
                request,
                "pillars/record_form.html",
                {"register": self, "form": form, "record": record, "creating": False},
            )

        return view

    @property
    def delete_view(self):
        @never_cache
        @login_required
        @require_POST
        def view(request: HttpRequest, pk: int) -> HttpResponse:
            require(request.user, self.edit_action)
            record = self.get(request.user, pk)
            reason = request.POST.get("reason", "").strip()[:500]
            if not reason:
                messages.error(request, _("Give the reason for deleting."))
                return redirect(f"pillars:{self.slug}-detail", record.pk)
            services.record_delete(actor=request.user, instance=record, reason=reason)
            messages.success(request, _("Deleted. The record and its history are kept."))
            return redirect(reverse(f"pillars:{self.slug}-list"))

        return view
