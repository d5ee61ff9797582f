"""Subscribing to the monthly reports: which kinds, in which formats, e-mailed as a link."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from reports.models import ReportFormat, ReportKind, ReportSubscription
from reports.schedules import subscribable_kinds, subscriptions_set


def _field(kind: str, fmt: str) -> str:
    return f"{kind}:{fmt}"


@login_required
def subscription_list(request: HttpRequest) -> HttpResponse:
    kinds = subscribable_kinds(request.user)
    if not kinds:
        raise PermissionDenied
    if request.method == "POST":
        wanted = {
            (kind, fmt)
            for kind in kinds
            for fmt in ReportFormat.values
            if request.POST.get(_field(kind, fmt))
        }
        subscriptions_set(user=request.user, wanted=wanted)
        if wanted:
            messages.success(request, _("Your subscriptions were saved."))
        else:
            messages.success(request, _("You no longer receive the monthly reports."))
        return redirect("subscriptions:list")
    current = set(
        ReportSubscription.objects.filter(user=request.user).values_list("kind", "format")
    )
    rows = [
        {
            "kind": kind,
            "label": ReportKind(kind).label,
            "formats": [
                {
                    "name": _field(kind, fmt),
                    "label": label,
                    "checked": (kind, fmt) in current,
                }
                for fmt, label in ReportFormat.choices
            ],
        }
        for kind in kinds
    ]
    return render(
        request,
        "reports/subscriptions.html",
        {"rows": rows, "formats": ReportFormat.choices, "subscribed": bool(current)},
    )
