from django import template
from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext_lazy as _

from migrants.models import Episode, Person

register = template.Library()

WARNING_LABELS = {
    "prefix_unknown": _("The region code at the start of the NIK is not in the region list."),
    "birth_date_mismatch": _("The date of birth does not agree with the NIK."),
    "sex_mismatch": _("The sex does not agree with the NIK (women: day + 40)."),
    "kk_prefix_unknown": _("The region code at the start of the No. KK is not in the list."),
    "kk_kk_date": _("The date inside the No. KK is not a real date."),
}


@register.filter
def nik_warning(code: str) -> str:
    return WARNING_LABELS.get(code, code)


@register.filter
def choice_label(value, field: str):
    """A stored choice (e.g. "P") shown as its label ("female") in the history."""
    for model in (Person, Episode):
        try:
            choices = model._meta.get_field(field).choices
        except FieldDoesNotExist:
            continue
        if choices:
            return dict(choices).get(value, value)
    if field == "destination_country" and value:
        from migrants.countries import country_name

        return country_name(value)
    return value


@register.filter
def field_label(name: str) -> str:
    """The translated label of a person or episode field named in a history entry."""
    if name == "village":
        return _("village")
    for model in (Person, Episode):
        try:
            return model._meta.get_field(name).verbose_name
        except FieldDoesNotExist:
            continue
    return name


@register.filter
def country(code: str) -> str:
    """A destination's name in the page's language (codes are for machines)."""
    from django.utils.translation import get_language

    from migrants.countries import country_name

    if not code:
        return ""
    return country_name(code, "en" if (get_language() or "id").startswith("en") else "id")
