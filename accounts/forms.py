from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import ROLE_SCOPE_LEVEL, Role, User
from accounts.permissions import grantable_roles
from villages.models import Region


class UserInviteForm(forms.Form):
    username = forms.RegexField(
        label=_("Username"),
        max_length=150,
        regex=r"^[\w.@+-]+$",
        help_text=_("Letters, digits and . @ + - _ only."),
    )
    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    email = forms.EmailField(
        label=_("E-mail"), help_text=_("The link to set a password is sent here.")
    )
    role = forms.ChoiceField(label=_("Role"))
    scope = forms.CharField(
        label=_("Region code"),
        required=False,
        max_length=13,
        help_text=_(
            "Village code for village roles (e.g. 35.07.11.2008), regency code for "
            "coordinators (35.07), province code for province viewers (35)."
        ),
    )

    def __init__(self, *args, actor: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.fields["role"].choices = [
            (value, label) for value, label in Role.choices if value in grantable_roles(actor)
        ]
        self.fields["scope"].widget.attrs["list"] = "scope-options"

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(_("This username is taken."))
        return username

    def clean(self) -> dict:
        data = super().clean()
        role, code = data.get("role"), (data.get("scope") or "").strip()
        if not role:
            return data
        level = ROLE_SCOPE_LEVEL[role]
        if level is None:
            data["scope"] = None
            return data
        region = Region.objects.for_user(self.actor).active().filter(code=code).first()
        if region is None:
            self.add_error("scope", _("Enter the code of a region inside your area."))
        elif region.level != level:
            self.add_error(
                "scope",
                _("This role needs the code of a %(level)s.")
                % {"level": Region.Level(level).label},
            )
        data["scope"] = region
        return data
