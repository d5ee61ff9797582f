from django import forms
from django.utils.translation import gettext_lazy as _

from migrants.countries import COUNTRY_CHOICES
from migrants.models import (
    Episode,
    Person,
    Procedural,
    Sex,
    Status,
    Verification,
)
from migrants.services import EPISODE_FIELDS, PERSON_FIELDS
from villages.models import Designation, Region


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


def _country_field(required: bool = False) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=_("Destination country"),
        choices=[("", "—"), *COUNTRY_CHOICES],
        required=required,
    )


class PersonForm(forms.ModelForm):
    """The person's data. NIK and No. KK rules and the duplicate check are the service's
    (one validation path with the import); their messages come back onto these fields."""

    village = forms.ModelChoiceField(
        label=_("Village"), queryset=Region.objects.none(), required=True
    )
    # Longer than 16: spaces, dashes and full-width digits are allowed, then normalised.
    nik = forms.CharField(
        label=_("NIK"),
        max_length=40,
        required=False,
        help_text=_("16 digits; leave empty if the person has none yet."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    no_kk = forms.CharField(
        label=_("No. KK"),
        max_length=40,
        required=False,
        help_text=_("16 digits of the family card; it links the household."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    class Meta:
        model = Person
        fields = ["village", *PERSON_FIELDS]  # the service's list: one place to add a field
        widgets = {
            "birth_date": DateInput(),
            "phone": forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
        }

    def __init__(self, *args, actor, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        villages = Region.objects.filter(
            code__in=Designation.objects.for_user(actor).values("village_id")
        ).order_by("name")
        self.fields["village"].queryset = villages
        self.fields["village"].label_from_instance = lambda region: region.label
        if len(villages) == 1:
            self.fields["village"].initial = villages[0]
            self.fields["village"].widget = forms.HiddenInput()
        if not self.instance._state.adding:
            # Moving a person is a transfer, with its own page and rules.
            del self.fields["village"]
            self._keep_identifiers_hidden()

    def _keep_identifiers_hidden(self) -> None:
        """The edit page never shows a full NIK or No. KK (showing one is a logged reveal):
        the fields start empty, and empty means "keep the number on record"."""
        for field, masked in (
            ("nik", self.instance.masked_nik),
            ("no_kk", self.instance.masked_kk),
        ):
            if masked:
                self.initial[field] = ""
                self.fields[field].help_text = _(
                    "On record: %(masked)s. Leave empty to keep it; type the full number to "
                    "change it."
                ) % {"masked": masked}

    def clean_nik(self) -> str:
        value = self.cleaned_data["nik"].strip()
        return value or (self.instance.nik or "")

    def clean_no_kk(self) -> str:
        value = self.cleaned_data["no_kk"].strip()
        return value or self.instance.no_kk

    def validate_unique(self) -> None:
        # The NIK's uniqueness is checked by the service, with a message that leaks nothing.
        pass

    def _post_clean(self) -> None:
        # The service validates the whole person (and normalises NIK and No. KK).
        pass


class EpisodeForm(forms.ModelForm):
    destination_country = _country_field()

    class Meta:
        model = Episode
        fields = list(EPISODE_FIELDS)  # the service's list: one place to add a field
        widgets = {
            field: DateInput()
            for field in (
                "contract_start",
                "contract_end",
                "passport_expiry",
                "departure_date",
                "return_date",
            )
        } | {"bpjs_member": forms.NullBooleanSelect()}

    def _post_clean(self) -> None:
        pass


class DepartureForm(EpisodeForm):
    destination_country = _country_field(required=True)

    class Meta(EpisodeForm.Meta):
        fields = [
            "departure_date",
            "destination_country",
            "job_title",
            "sector",
            "employer_type",
            "placement_scheme",
            "p3mi_name",
            "p3mi_licence",
            "contract_start",
            "contract_end",
            "passport_number",
            "passport_expiry",
            "procedural_status",
            "procedural_source",
            "bpjs_member",
        ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["departure_date"].required = True


class ReturnForm(forms.ModelForm):
    class Meta:
        model = Episode
        fields = ["return_date", "return_reason"]
        widgets = {"return_date": DateInput()}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["return_date"].required = True
        self.fields["return_reason"].required = True

    def _post_clean(self) -> None:
        pass


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 3})
    )


class TransferForm(forms.Form):
    to_village = forms.CharField(
        label=_("New village (region code)"),
        max_length=13,
        help_text=_("The Kemendagri code of the village, e.g. 35.07.11.2008."),
    )
    reason = forms.CharField(
        label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 3})
    )

    def clean_to_village(self) -> Region:
        code = self.cleaned_data["to_village"].strip()
        region = Region.objects.filter(code=code, level=Region.Level.VILLAGE).first()
        if region is None:
            raise forms.ValidationError(_("No village has this code."))
        return region


class RegisterFilterForm(forms.Form):
    SORTS = {
        "name": ("name_key", "id"),
        "-updated": ("-updated_at", "id"),
        "birth": ("birth_date", "id"),
    }

    q = forms.CharField(label=_("Name or NIK"), required=False, max_length=100)
    village = forms.ChoiceField(label=_("Village"), required=False)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All")), *Status.choices]
    )
    country = forms.ChoiceField(
        label=_("Destination"), required=False, choices=[("", _("All")), *COUNTRY_CHOICES]
    )
    sex = forms.ChoiceField(label=_("Sex"), required=False, choices=[("", _("All")), *Sex.choices])
    procedural = forms.ChoiceField(
        label=_("Procedural"), required=False, choices=[("", _("All")), *Procedural.choices]
    )
    verification = forms.ChoiceField(
        label=_("Verification"),
        required=False,
        choices=[("", _("All")), *Verification.choices],
    )
    missing_nik = forms.BooleanField(label=_("Without NIK only"), required=False)
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[
            ("name", _("Name")),
            ("-updated", _("Last changed")),
            ("birth", _("Date of birth")),
        ],
    )

    def __init__(self, *args, villages: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if len(villages) > 1:
            self.fields["village"].choices = [("", _("All")), *villages]
        else:
            del self.fields["village"]

    def filter(self, queryset):
        from migrants.nik import normalize_number
        from migrants.services import name_key

        if not self.is_valid():
            return queryset.none()
        data = self.cleaned_data
        query = data["q"].strip()
        if query:
            try:
                digits = normalize_number(query)
            except ValueError:  # e.g. "3.5E+15" pasted from a number cell
                digits = ""
            if digits.isdigit() and len(digits) >= 6:
                queryset = queryset.filter(nik__startswith=digits)
            else:
                key = name_key(query)
                if not key:  # a few digits or signs: no name to look for
                    return queryset.none()
                queryset = queryset.filter(name_key__contains=key)
        if data.get("village"):
            queryset = queryset.filter(village_id=data["village"])
        for field, column in (
            ("status", "status"),
            ("country", "current_country"),
            ("sex", "sex"),
            ("procedural", "current_procedural"),
            ("verification", "verification"),
        ):
            if data[field]:
                queryset = queryset.filter(**{column: data[field]})
        if data["missing_nik"]:
            queryset = queryset.filter(nik__isnull=True)
        return queryset.order_by(*self.SORTS[data["sort"] or "name"])


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Spreadsheet (xlsx or csv)"),
        help_text=_("Use the template: one row per person with their current migration."),
    )

    def clean_file(self):
        from django.conf import settings

        upload = self.cleaned_data["file"]
        if upload.size > settings.IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(mb)d MB. Split it into smaller files.")
                % {"mb": settings.IMPORT_MAX_BYTES // (1024 * 1024)}
            )
        return upload


class ExportForm(forms.Form):
    format = forms.ChoiceField(
        label=_("Format"),
        choices=[("xlsx", "Excel (xlsx)"), ("csv", "CSV")],
        widget=forms.RadioSelect,
        initial="xlsx",
    )
    full_nik = forms.BooleanField(
        label=_("Include full NIK and No. KK"),
        required=False,
        help_text=_("Only when the work needs them; the export is logged with your reason."),
    )
    reason = forms.CharField(label=_("Reason"), required=False, max_length=255)

    def __init__(self, *args, may_reveal: bool, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not may_reveal:
            del self.fields["full_nik"]
            del self.fields["reason"]

    def clean(self) -> dict:
        data = super().clean()
        if data.get("full_nik") and not (data.get("reason") or "").strip():
            self.add_error("reason", _("Say why the full numbers are needed."))
        return data
