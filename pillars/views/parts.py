"""Registers whose records belong to another record of the same village: a parenting group's
sessions and enrolled children, a cooperative's members and monthly figures.

Such a record takes its village (and so its pillar) from its parent. The create page is
reached from the parent (`?group=<pk>`, `?cooperative=<pk>`), which picks the parent in the
form and brings the user back to the parent's page; a user with several villages who comes
without a parent or a village first picks the village. Everything else is the generic
Register's.
"""

from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from accounts.models import User
from accounts.permissions import can, require
from pillars import services
from pillars.views.records import (
    RecordForm,
    Register,
    apply_errors,
    designated_villages,
    own_village,
)


class PartForm(RecordForm):
    """A record's form whose parent (named by `parent_field`) is one of the village's living
    parents. The village is always known (the create view makes sure of it)."""

    parent_field: str = ""

    def __init__(self, *args, user: User, village: str | None = None, **kwargs) -> None:
        super().__init__(*args, user=user, village=village, **kwargs)
        parent_model = self._meta.model._meta.get_field(self.parent_field).related_model
        alive = Q(deleted_at__isnull=True)
        current = getattr(self.instance, f"{self.parent_field}_id", None)
        if current is not None:  # a record whose parent was deleted since can still be edited
            alive |= Q(pk=current)
        field_ = self.fields[self.parent_field]
        field_.queryset = (
            parent_model.objects.for_user(user).filter(alive).filter(village_id=self.village or "")
        )

    def duplicate_of(self, **values) -> bool:
        """Whether another living record of the user's scope already has these values."""
        rows = type(self.instance).objects.for_user(self.user).alive().filter(**values)
        if self.instance.pk:
            rows = rows.exclude(pk=self.instance.pk)
        return rows.exists()

    def check_dates_in_order(self, start: str, end: str) -> None:
        first, last = self.cleaned_data.get(start), self.cleaned_data.get(end)
        if first and last and last < first:
            self.add_error(
                end, _("Give a date on or after “%(field)s”.") % {"field": self.fields[start].label}
            )


class MonthField(forms.DateField):
    """A month (`<input type="month">`, YYYY-MM; a full date is accepted too), kept as its
    first day."""

    input_formats = ["%Y-%m", "%Y-%m-%d"]

    def to_python(self, value):
        day = super().to_python(value)
        return day.replace(day=1) if day else day


MONTH_WIDGET_ATTRS = {"type": "month", "placeholder": "YYYY-MM"}


def month_widget() -> forms.DateInput:
    return forms.DateInput(attrs=dict(MONTH_WIDGET_ATTRS), format="%Y-%m")


@dataclass
class PartRegister(Register):
    """A Register of records that belong to a record of `parent` (through `parent_field`)."""

    parent: Register | None = None
    parent_field: str = ""
    # The field pointing to a person of the register: rows whose person the user may not see
    # (children, for roles that do not work with them) are left out of every page.
    people_field: str | None = None

    def __post_init__(self) -> None:
        if self.detail_extra is None:
            self.detail_extra = self.parent_link
        if self.detail_template == Register.detail_template:
            self.detail_template = "pillars/parts/detail.html"

    def queryset(self, user: User) -> QuerySet:
        rows = super().queryset(user)
        if self.people_field:
            from migrants.models import Person

            rows = rows.filter(
                **{f"{self.people_field}__in": Person.objects.for_user(user).values("pk")}
            )
        return rows

    def parent_link(self, request: HttpRequest, record) -> dict:
        parent = getattr(record, self.parent_field)
        return {
            "parent_record": parent,
            "parent_register": self.parent,
            "parent_url": reverse(f"pillars:{self.parent.slug}-detail", args=[parent.pk]),
        }

    @property
    def create_view(self):
        @never_cache
        @login_required
        def view(request: HttpRequest) -> HttpResponse:
            require(request.user, self.view_action)
            require(request.user, self.edit_action)
            parent = None
            parent_pk = request.GET.get(self.parent_field, "")
            if parent_pk:
                if not (parent_pk.isascii() and parent_pk.isdigit()):
                    raise Http404
                parent = self.parent.get(request.user, int(parent_pk))
                village = parent.village_id
            else:
                village = request.GET.get("village") or own_village(request.user)
                if village and not services.village_in_scope(request.user, village):
                    raise Http404
            if village is None:
                return self.choose(request)
            initial = {self.parent_field: parent.pk} if parent else {}
            form = self.form(
                request.POST or None, user=request.user, village=village, initial=initial
            )
            if not form.fields[self.parent_field].queryset.exists():
                return self.choose(request, village=village)
            if request.method == "POST" and form.is_valid():
                record = form.save(commit=False)
                # The parent says where the record belongs.
                record.village_id = getattr(record, self.parent_field).village_id
                try:
                    services.record_create(actor=request.user, instance=record, kind=self.kind)
                    form.save_m2m()
                except ValidationError as exc:
                    apply_errors(form, exc)
                except PermissionDenied:
                    form.add_error(None, _("You cannot record data for this village."))
                except IntegrityError:
                    # Two people saving the same thing at once: the database keeps one.
                    form.add_error(None, _("This has just been recorded. Check the list."))
                else:
                    messages.success(request, _("Saved."))
                    if parent is not None:
                        return redirect(f"pillars:{self.parent.slug}-detail", parent.pk)
                    return redirect(f"pillars:{self.slug}-detail", record.pk)
            return render(
                request,
                "pillars/record_form.html",
                {"register": self, "form": form, "creating": True},
            )

        return view

    def choose(self, request: HttpRequest, village: str | None = None) -> HttpResponse:
        """Ask for the village first; or say the village has no parent to attach a record to."""
        villages = designated_villages(request.user) if village is None else []
        return render(
            request,
            "pillars/parts/choose.html",
            {
                "register": self,
                "village": village,
                "village_label": services.village_label(village) if village else "",
                "villages": villages,
                "can_add_parent": can(request.user, self.parent.edit_action),
            },
        )
