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
    return render(
        request,
        "villages/designation_detail.html",
        {
            "designation": designation,
            "officers": officers,
            "can_manage": can(request.user, Action.MANAGE_DESIGNATIONS),
        },
    )
