from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.permissions import Action, can, require
from villages.forms import DesignationFilterForm
from villages.models import Designation
from villages.selectors import get_designation_for_user_or_404


@login_required
def designation_list(request: HttpRequest) -> HttpResponse:
    require(request.user, Action.VIEW_VILLAGES)
    scoped = Designation.objects.for_user(request.user)
    form = DesignationFilterForm(request.GET or None, scoped=scoped)
    if not form.is_bound:
        form = DesignationFilterForm({"sort": "code"}, scoped=scoped)
    queryset = form.filter(scoped).select_related("village__parent__parent__parent", "variant")
    page = Paginator(queryset, settings.PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "villages/designation_list.html",
        {"form": form, "page": page, "query": query.urlencode()},
    )


@login_required
def designation_detail(request: HttpRequest, code: str) -> HttpResponse:
    require(request.user, Action.VIEW_VILLAGES)
    designation = get_designation_for_user_or_404(request.user, code)
    officers = designation.officers.filter(is_active=True).order_by("first_name", "username")
    register_counts = _register_counts(request.user, designation.village_id)
    pillar_states = []
    if can(request.user, Action.VIEW_PILLARS):
        from pillars.services import pillar_matrix

        pillar_states = pillar_matrix([designation])[designation.village_id]
    return render(
        request,
        "villages/designation_detail.html",
        {
            "designation": designation,
            "officers": officers,
            "can_manage": can(request.user, Action.MANAGE_DESIGNATIONS),
            "register_counts": register_counts,
            "can_view_register": can(request.user, Action.VIEW_REGISTER),
            "pillar_states": pillar_states,
            "active_days": settings.PILLAR_ACTIVE_DAYS,
        },
    )


def _register_counts(user, village_code: str) -> dict:
    """People of the village by status, verified and not verified kept apart (one query)."""
    from django.db.models import Count

    from migrants.models import Person, Status, Verification

    rows = (
        Person.objects.for_user(user)
        .alive()
        .filter(village_id=village_code)
        .values("status", "verification")
        .annotate(n=Count("*"))
        .order_by()
    )
    table = {
        status: {"label": label, "verified": 0, "unverified": 0} for status, label in Status.choices
    }
    for row in rows:
        column = "verified" if row["verification"] == Verification.VERIFIED else "unverified"
        table[row["status"]][column] += row["n"]
    total = {
        "verified": sum(r["verified"] for r in table.values()),
        "unverified": sum(r["unverified"] for r in table.values()),
    }
    return {"rows": list(table.values()), "total": total}
