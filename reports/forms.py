import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.scope import scope_prefix
from reports import services
from reports.models import ReportFormat, ReportKind
from villages.models import Designation, Region


class MonthInput(forms.DateInput):
    input_type = "month"

    def format_value(self, value):
        if isinstance(value, datetime.date):
            return f"{value:%Y-%m}"
        return value


class MonthField(forms.Field):
    """A month typed as YYYY-MM (a month picker where the browser has one)."""

    widget = MonthInput

    def to_python(self, value) -> datetime.date | None:
        if value in (None, ""):
            return None
        if isinstance(value, datetime.date):
            return value.replace(day=1)
        try:
            year, month = (int(part) for part in str(value).strip().split("-")[:2])
            return datetime.date(year, month, 1)
        except ValueError:
            raise ValidationError(_("Give a month as YYYY-MM, e.g. 2026-10.")) from None


def area_choices(user) -> tuple[list, dict[str, Region]]:
    """The areas the user may ask reports for: their scope, and under it the provinces and
    regencies that have Desmigratif villages, and those villages (grouped by regency).

    Two queries whatever the size of the scope.
    """
    prefix = scope_prefix(user)
    villages = list(
        Designation.objects.for_user(user)
        .order_by("village_id")
        .values_list("village_id", flat=True)
    )
    codes = {code[:2] for code in villages} | {code[:5] for code in villages} | set(villages)
    if prefix:
        codes = {code for code in codes if code == prefix or code.startswith(prefix + ".")}
        codes.add(prefix)
    regions = {region.code: region for region in Region.objects.filter(code__in=codes)}
    choices: list = []
    if prefix is None:
        choices.append(("", _("National (all of Indonesia)")))
    areas = [
        (code, f"{region.label} ({code})")
        for code, region in sorted(regions.items())
        if region.level < Region.Level.VILLAGE or code == prefix
    ]
    if areas:
        choices.append((_("Areas"), areas))
    by_regency: dict[str, list] = {}
    for code in villages:
        if code in regions and code != prefix:
            by_regency.setdefault(code[:5], []).append((code, f"{regions[code].label} ({code})"))
    for regency, options in sorted(by_regency.items()):
        title = regions[regency].label if regency in regions else regency
        choices.append((_("Villages of %(regency)s") % {"regency": title}, options))
    return choices, regions


def last_month() -> datetime.date:
    return (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)


class ReportRequestForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Report"))
    format = forms.ChoiceField(
        label=gettext_lazy("Format"),
        choices=ReportFormat.choices,
        widget=forms.RadioSelect,
        initial=ReportFormat.XLSX,
    )
    area = forms.ChoiceField(label=gettext_lazy("Area"), required=False)
    month_from = MonthField(
        label=gettext_lazy("From (month)"),
        required=False,
        help_text=gettext_lazy(
            "YYYY-MM. Not needed for the register export, which is as of today."
        ),
    )
    month_to = MonthField(label=gettext_lazy("Until (month)"), required=False)
    cohort = forms.TypedChoiceField(
        label=gettext_lazy("Cohort"),
        required=False,
        coerce=int,
        empty_value=None,
        help_text=gettext_lazy("Only the villages designated in that year."),
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["kind"].choices = [
            (kind, ReportKind(kind).label[:1].upper() + ReportKind(kind).label[1:])
            for kind in services.requestable_kinds(user)
        ]
        choices, self.regions = area_choices(user)
        self.fields["area"].choices = choices
        prefix = scope_prefix(user)
        if prefix:
            self.fields["area"].initial = prefix
        cohorts = sorted(
            set(
                Designation.objects.for_user(user)
                .order_by()
                .values_list("cohort_year", flat=True)
                .distinct()
            )
        )
        self.fields["cohort"].choices = [("", _("All cohorts"))] + [
            (year, str(year)) for year in cohorts
        ]
        month = last_month()
        self.fields["month_from"].initial = month
        self.fields["month_to"].initial = month

    def clean(self) -> dict:
        data = super().clean()
        kind = data.get("kind")
        if not kind:
            return data
        code = data.get("area") or None
        scope = self.regions.get(code) if code else None
        if not services.covers(self.user, code) or (code and scope is None):
            self.add_error("area", _("Choose an area from the list."))
            return data
        problem = services.level_problem(kind, scope)
        if problem:
            self.add_error("area", problem)
        try:
            data["period"] = services.normalise_period(
                kind, data.get("month_from"), data.get("month_to")
            )
        except ValidationError as exc:
            self.add_error("month_to" if data.get("month_from") else "month_from", exc)
        return data
