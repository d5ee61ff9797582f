"""API tokens, made and revoked on the website by their owner (the API has no password login).

A token is shown once, when it is made; only its digest is stored (knox). Its name lives in the
account's audit trail (AccountEvent "token_created"), which records who made or revoked which
token and when.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from knox.models import AuthToken
from knox.settings import knox_settings

from accounts.models import AccountEvent, User
from accounts.reauth import require_reauthentication

# AccountEvent kinds of the API tokens (values of AccountEvent.Kind).
TOKEN_CREATED = "token_created"  # noqa: S105 (an event name, not a secret)
TOKEN_REVOKED = "token_revoked"  # noqa: S105
MAX_TOKENS = 10


class TokenForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name of the token"),
        max_length=60,
        help_text=gettext_lazy("What uses it, e.g. “BP2MI dashboard” or “my laptop”."),
    )

    def clean_name(self) -> str:
        return " ".join(self.cleaned_data["name"].split())


def _require_role(user) -> None:
    if not user.is_active or not (user.role or user.is_superuser):
        raise PermissionDenied


def _live_tokens(user: User):
    return AuthToken.objects.filter(user=user).filter(
        Q(expiry__isnull=True) | Q(expiry__gt=timezone.now())
    )


# --- Services ------------------------------------------------------------------------------------


@transaction.atomic
def token_create(*, user: User, name: str) -> tuple[AuthToken, str]:
    """A new token for `user` (valid REST_KNOX TOKEN_TTL): the row and the secret, which is
    never stored and cannot be shown again."""
    _require_role(user)
    # Lock the account so two simultaneous requests cannot both pass the limit.
    User.objects.select_for_update().filter(pk=user.pk).first()
    if _live_tokens(user).count() >= MAX_TOKENS:
        raise ValidationError(
            _("You have %(count)d tokens already: revoke one you no longer use first.")
            % {"count": MAX_TOKENS}
        )
    token, secret = AuthToken.objects.create(user=user)
    AccountEvent.objects.create(
        actor=user,
        user=user,
        kind=TOKEN_CREATED,
        detail={
            "digest": token.digest,
            "name": name,
            "starts": token.token_key[:8],
            "expiry": token.expiry.isoformat() if token.expiry else None,
        },
    )
    return token, secret


@transaction.atomic
def token_revoke(*, user: User, token: AuthToken) -> None:
    if token.user_id != user.pk:
        raise PermissionDenied
    AccountEvent.objects.create(
        actor=user,
        user=user,
        kind=TOKEN_REVOKED,
        detail={"digest": token.digest, "starts": token.token_key[:8]},
    )
    token.delete()


def tokens_of(user: User) -> list[dict]:
    """The user's live tokens, newest first, with their names (two queries)."""
    tokens = list(_live_tokens(user).order_by("-created"))
    names = {}
    if tokens:
        events = AccountEvent.objects.filter(
            user=user, kind=TOKEN_CREATED, detail__digest__in=[t.digest for t in tokens]
        ).values_list("detail", flat=True)
        names = {detail["digest"]: detail.get("name", "") for detail in events}
    return [
        {
            "digest": token.digest,
            "name": names.get(token.digest) or _("(no name)"),
            "starts": token.token_key[:8],
            "created": token.created,
            "expiry": token.expiry,
        }
        for token in tokens
    ]


# --- Pages ---------------------------------------------------------------------------------------


def _page(request: HttpRequest, form: TokenForm, *, new: dict | None = None) -> HttpResponse:
    return render(
        request,
        "dashboards/tokens.html",
        {
            "form": form,
            "tokens": tokens_of(request.user),
            "new": new,
            "max_tokens": MAX_TOKENS,
            "ttl_days": knox_settings.TOKEN_TTL.days if knox_settings.TOKEN_TTL else None,
            "example_url": request.build_absolute_uri(reverse("api:village-list")),
        },
    )


@never_cache
@login_required
def token_list(request: HttpRequest) -> HttpResponse:
    """The user's tokens; POST makes one and shows it, this once (the page is not cached and
    is not a redirect, so the secret never sits in a session or a cache)."""
    _require_role(request.user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # A token reads the API (register reports included) for months without asking again.
        require_reauthentication(request)
        try:
            token, secret = token_create(user=request.user, name=form.cleaned_data["name"])
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            new = {"name": form.cleaned_data["name"], "secret": secret, "expiry": token.expiry}
            return _page(request, TokenForm(), new=new)
    return _page(request, form)


@login_required
@require_POST
def token_delete(request: HttpRequest) -> HttpResponse:
    _require_role(request.user)
    token = _live_tokens(request.user).filter(digest=request.POST.get("token", "")).first()
    if token is None:
        raise Http404
    token_revoke(user=request.user, token=token)
    messages.success(request, _("The token was revoked: it no longer opens the API."))
    return redirect("tokens:list")
