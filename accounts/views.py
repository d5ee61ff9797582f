from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.forms import UserInviteForm
from accounts.models import User
from accounts.permissions import Action, require
from accounts.reauth import require_reauthentication
from accounts.services import user_invite, user_set_active
from villages.models import Designation


def get_user_for_user_or_404(viewer: User, pk: int) -> User:
    user = User.objects.for_user(viewer).select_related("scope").filter(pk=pk).first()
    if user is None:
        raise Http404
    return user


@login_required
def user_list(request: HttpRequest) -> HttpResponse:
    require(request.user, Action.MANAGE_USERS)
    users = (
        User.objects.for_user(request.user).select_related("scope").order_by("scope_id", "username")
    )
    page = Paginator(users, settings.PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "accounts/user_list.html", {"page": page})


@login_required
def user_create(request: HttpRequest) -> HttpResponse:
    require(request.user, Action.MANAGE_USERS)
    form = UserInviteForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        # Giving someone a role is a role change: confirm who is at the keyboard.
        require_reauthentication(request)
        try:
            user = user_invite(
                actor=request.user,
                set_password_base_url=request.build_absolute_uri("/"),
                **form.cleaned_data,
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(
                request,
                _("Account %(username)s created; a link to set the password was sent to %(email)s.")
                % {"username": user.username, "email": user.email},
            )
            return redirect("accounts:list")
    villages = (
        Designation.objects.for_user(request.user)
        .select_related("village")
        .order_by("village__name")
    )
    return render(request, "accounts/user_form.html", {"form": form, "villages": villages})


@login_required
@require_POST
def user_toggle_active(request: HttpRequest, pk: int) -> HttpResponse:
    require(request.user, Action.MANAGE_USERS)
    user = get_user_for_user_or_404(request.user, pk)
    require_reauthentication(request)
    try:
        user_set_active(actor=request.user, user=user, active=not user.is_active)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if user.is_active:
            messages.success(
                request, _("%(username)s can sign in again.") % {"username": user.username}
            )
        else:
            messages.success(
                request, _("%(username)s can no longer sign in.") % {"username": user.username}
            )
    return redirect("accounts:list")
