"""The designated villages in the API: where they are, their cohort and status, and how each
pillar is doing (the pillar matrix, as on the village page)."""

from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.permissions import Action, can
from dashboards.api import ApiView, AreaSerializer, Pagination, allowed, parse_cohort, parse_region
from villages.models import Designation
from villages.selectors import get_designation_for_user_or_404


class VillagePillarSerializer(serializers.Serializer):
    code = serializers.CharField(source="pillar.code")
    name = serializers.CharField(source="pillar.name")
    order = serializers.IntegerField(source="pillar.order")
    active = serializers.BooleanField(
        help_text=_("Any activity within PILLAR_ACTIVE_DAYS days (90 by default).")
    )
    last_activity = serializers.DateField(allow_null=True)


class DesignatedVillageSerializer(serializers.Serializer):
    code = serializers.CharField(source="village_id")
    name = serializers.CharField(source="village.label")
    district = AreaSerializer(source="village.parent")
    regency = AreaSerializer(source="village.parent.parent")
    province = AreaSerializer(source="village.parent.parent.parent")
    cohort = serializers.IntegerField(source="cohort_year")
    status = serializers.ChoiceField(choices=Designation.Status.choices)
    variant = serializers.CharField(source="variant.code")
    variant_name = serializers.CharField(source="variant.name")
    start_date = serializers.DateField(allow_null=True)
    pillars = VillagePillarSerializer(
        many=True,
        source="pillar_states",
        help_text=_("The pillars of the village's programme variant; empty without the right."),
    )


def _with_pillars(user, designations: list[Designation]) -> list[Designation]:
    """Attach each village's pillar states (two queries for the whole page)."""
    matrix = {}
    if can(user, Action.VIEW_PILLARS) and designations:
        from pillars.services import pillar_matrix

        matrix = pillar_matrix(designations)
    for designation in designations:
        designation.pillar_states = matrix.get(designation.village_id, [])
    return designations


def _designations(user):
    return (
        Designation.objects.for_user(user)
        .select_related("village__parent__parent__parent", "variant")
        .order_by("village_id")
    )


class VillageListView(ApiView):
    permission_classes = [allowed(Action.VIEW_VILLAGES)]
    pagination_class = Pagination

    @extend_schema(
        operation_id="villages_list",
        summary=_("Designated villages"),
        description=_(
            "The Desmigratif villages in your scope, by region code, with their pillars."
        ),
        parameters=[
            OpenApiParameter(
                "region", str, description=_("Only villages under this region code (35.07).")
            ),
            OpenApiParameter("cohort", int, description=_("Only villages of this cohort.")),
            OpenApiParameter(
                "status", str, enum=Designation.Status.values, description=_("Designation status.")
            ),
        ],
        responses=DesignatedVillageSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        queryset = _designations(request.user)
        params = request.query_params
        region = parse_region(params.get("region"))
        if region:
            queryset = queryset.filter(
                Q(village__code__startswith=region + ".") | Q(village_id=region)
            )
        cohort = parse_cohort(params.get("cohort"))
        if cohort:
            queryset = queryset.filter(cohort_year=cohort)
        if params.get("status"):
            if params["status"] not in Designation.Status.values:
                raise ValidationError(
                    {"status": [_("One of: %s.") % ", ".join(Designation.Status.values)]}
                )
            queryset = queryset.filter(status=params["status"])
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, request, view=self)
        page = _with_pillars(request.user, page)
        return paginator.get_paginated_response(DesignatedVillageSerializer(page, many=True).data)


class VillageDetailView(ApiView):
    permission_classes = [allowed(Action.VIEW_VILLAGES)]

    @extend_schema(
        operation_id="villages_retrieve",
        summary=_("One designated village"),
        responses=DesignatedVillageSerializer,
    )
    def get(self, request: Request, code: str) -> Response:
        designation = get_designation_for_user_or_404(request.user, code)
        _with_pillars(request.user, [designation])
        return Response(DesignatedVillageSerializer(designation).data)
