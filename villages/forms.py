from django import forms
from django.utils.translation import gettext_lazy as _

from villages.models import Designation, Region


class DesignationFilterForm(forms.Form):
    """Filters of the designated-village list; the choices are only areas the user can see."""

    SORTS = {
        "code": ("village_id",),
        "name": ("village__name", "village_id"),
        "cohort": ("cohort_year", "village_id"),
        "-cohort": ("-cohort_year", "village_id"),
    }

    q = forms.CharField(label=_("Village name"), required=False, max_length=100)
    province = forms.ChoiceField(label=_("Province"), required=False)
    regency = forms.ChoiceField(label=_("Regency/city"), required=False)
    cohort = forms.TypedChoiceField(label=_("Cohort"), required=False, coerce=int, empty_value=None)
    status = forms.ChoiceField(label=_("Status"), required=False)
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[
            ("code", _("Region code")),
            ("name", _("Village name")),
            ("cohort", _("Cohort, oldest first")),
            ("-cohort", _("Cohort, newest first")),
        ],
    )

    def __init__(self, *args, scoped: "models.QuerySet[Designation]", **kwargs) -> None:  # noqa: F821
        super().__init__(*args, **kwargs)
        codes = list(scoped.values_list("village_id", "cohort_year"))
        prefixes = {code[:2] for code, _cohort in codes} | {code[:5] for code, _cohort in codes}
        names = dict(Region.objects.filter(code__in=prefixes).values_list("code", "name"))
        label = lambda code: Region(code=code, name=names.get(code, code)).label  # noqa: E731
        everything = [("", _("All"))]
        self.fields["province"].choices = everything + sorted(
            ((c, label(c)) for c in prefixes if len(c) == 2), key=lambda item: item[1]
        )
        self.fields["regency"].choices = everything + sorted(
            ((c, label(c)) for c in prefixes if len(c) == 5), key=lambda item: item[1]
        )
        self.fields["cohort"].choices = everything + [
            (year, str(year)) for year in sorted({cohort for _code, cohort in codes})
        ]
        self.fields["status"].choices = everything + list(Designation.Status.choices)

    def filter(self, queryset):
        if not self.is_valid():
            return queryset.none()
        data = self.cleaned_data
        if data["q"]:
            queryset = queryset.filter(village__name__icontains=data["q"].strip())
        if data["regency"]:
            queryset = queryset.filter(village__code__startswith=data["regency"] + ".")
        elif data["province"]:
            queryset = queryset.filter(village__code__startswith=data["province"] + ".")
        if data["cohort"]:
            queryset = queryset.filter(cohort_year=data["cohort"])
        if data["status"]:
            queryset = queryset.filter(status=data["status"])
        return queryset.order_by(*self.SORTS[data["sort"] or "code"])
