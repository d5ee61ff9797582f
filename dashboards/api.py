"""The read-only API: what every endpoint shares, and the indicators of a region and period.

Every endpoint answers for the token owner's scope only, through the same `for_user` helpers
as the pages: a region or object outside it is a 404, exactly as if it did not exist.
Errors are JSON (`{"detail": ...}` or field errors), in the owner's language (Indonesian
unless chosen otherwise), never an HTML page.
"""

import datetime
import logging
import re

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import APIException
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView, exception_handler

from accounts.permissions import Action, can
from dashboards import indicators

logger = logging.getLogger(__name__)

REGION_CODE = re.compile(r"^\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?$")
MONTH = re.compile(r"^(\d{4})-(\d{2})$")


# --- What every endpoint shares -----------------------------------------------------------------


class ServerError(APIException):
    status_code = status.HTTP_500_INTERNAL_SERVER_ERROR
    default_detail = _("Something went wrong on our side; the error was recorded.")
    default_code = "server_error"


def api_exception_handler(exc, context):
    """DRF's handler, plus: a service's ValidationError is a 400 with its messages, and an
    unexpected error is logged and answered in JSON rather than with the HTML error page."""
    if isinstance(exc, DjangoValidationError):
        exc = ApiValidationError(
            detail=exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        )
    response = exception_handler(exc, context)
    if response is None:
        logger.exception("API error", exc_info=exc)
        response = exception_handler(ServerError(), context)
    return response


class ApiView(APIView):
    """The base of our endpoints: JSON errors everywhere (see api_exception_handler)."""

    def get_exception_handler(self):
        return api_exception_handler


def allowed(action: Action) -> type[BasePermission]:
    """A permission class: the token owner's role may do `action` (accounts.permissions)."""

    class RoleMay(BasePermission):
        message = _("Your role does not allow this.")

        def has_permission(self, request, view) -> bool:
            return can(request.user, action)

    RoleMay.__name__ = f"RoleMay_{action.value}"
    return RoleMay


class Pagination(LimitOffsetPagination):
    default_limit = 100
    max_limit = 500


def parse_region(value: str | None, *, field: str = "region") -> str | None:
    if not value:
        return None
    value = value.strip()
    if not REGION_CODE.match(value):
        raise ApiValidationError({field: [_("A region code looks like 35 or 35.07 or 35.07.11.")]})
    return value


def parse_month(value: str | None, *, field: str) -> datetime.date | None:
    if not value:
        return None
    match = MONTH.match(value.strip())
    if match and 1 <= int(match[2]) <= 12 and int(match[1]) >= 1900:
        return datetime.date(int(match[1]), int(match[2]), 1)
    raise ApiValidationError({field: [_("A month looks like 2024-07 (YYYY-MM).")]})


def parse_cohort(value: str | None) -> int | None:
    if not value:
        return None
    if not value.strip().isdigit() or not 2016 <= int(value) <= 2100:
        raise ApiValidationError({"cohort": [_("A cohort is a year, 2016 or later.")]})
    return int(value)


class AreaSerializer(serializers.Serializer):
    """A region named as people read it ("Kab. Malang")."""

    code = serializers.CharField()
    name = serializers.CharField(source="label")


# --- Indicators --------------------------------------------------------------------------------


class RowSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    value = serializers.IntegerField()


class TrailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text=_("Empty for the country."))
    name = serializers.CharField()

    def to_representation(self, instance):
        code, name = instance
        return {"code": code, "name": str(name)}


class RegionSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField(source="label")
    level = serializers.IntegerField()


class ReferralSerializer(serializers.Serializer):
    programme = serializers.CharField()
    stages = RowSerializer(many=True)
    amount = serializers.IntegerField(help_text=_("Amount disbursed in the period (rupiah)."))


class ChildSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField(source="label")
    people = serializers.IntegerField()
    pmi = serializers.IntegerField()
    departures = serializers.IntegerField()
    returns = serializers.IntegerField()
    villages = serializers.IntegerField()


class PillarSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    order = serializers.IntegerField()


class PillarStateSerializer(serializers.Serializer):
    pillar = serializers.CharField(help_text=_("The pillar's code."))
    last_activity = serializers.DateField(allow_null=True)
    active = serializers.BooleanField()

    def to_representation(self, instance):
        pillar, last, active = instance
        return {
            "pillar": pillar.code,
            "last_activity": last.isoformat() if last else None,
            "active": active,
        }


class MatrixRowSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField(source="label")
    cohort = serializers.IntegerField()
    active = serializers.IntegerField(help_text=_("Number of active pillars."))
    pillars = PillarStateSerializer(many=True, source="states")


class CoverageSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField(source="label")
    villages = serializers.IntegerField()
    active = serializers.ListField(
        child=serializers.IntegerField(),
        help_text=_("Villages where each pillar is active, in the order of `pillars`."),
    )


class SilentSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField(source="label")
    last_report = serializers.DateField(allow_null=True)
    last_activity = serializers.DateField(allow_null=True)


@extend_schema_field(OpenApiTypes.STR)
class MonthField(serializers.Field):
    def to_representation(self, value: datetime.date) -> str:
        return f"{value:%Y-%m}"


class QualitySerializer(serializers.Serializer):
    total = serializers.IntegerField()
    missing_nik = serializers.IntegerField()
    nik_warnings = serializers.IntegerField()
    unverified = serializers.IntegerField()


class DashboardSerializer(serializers.Serializer):
    region = RegionSerializer(allow_null=True, help_text=_("Null for the whole country."))
    level = serializers.IntegerField(help_text=_("0 national, 1 province ... 4 village."))
    trail = TrailSerializer(many=True)
    cohort = serializers.IntegerField(allow_null=True)
    refreshed_at = serializers.DateTimeField(
        allow_null=True, help_text=_("When the summary tables were last rebuilt.")
    )
    villages = serializers.IntegerField()
    people_total = serializers.IntegerField()
    people_by_status = RowSerializer(many=True)
    people_by_sex = RowSerializer(many=True)
    people_by_country = RowSerializer(many=True)
    people_by_job = RowSerializer(many=True)
    people_by_scheme = RowSerializer(many=True)
    people_by_sector = RowSerializer(many=True)
    departures_by_procedure = RowSerializer(many=True)
    procedural_share = serializers.FloatField(allow_null=True)
    months = serializers.ListField(child=MonthField())
    departures_by_month = serializers.ListField(child=serializers.IntegerField())
    returns_by_month = serializers.ListField(child=serializers.IntegerField())
    returns_by_reason = RowSerializer(many=True)
    pillar_activity = RowSerializer(many=True)
    referrals = ReferralSerializer(many=True)
    cases_by_type = RowSerializer(many=True)
    cases_by_status = RowSerializer(many=True)
    quality = QualitySerializer()
    child_level = serializers.IntegerField(allow_null=True)
    children = ChildSerializer(many=True)
    pillars = PillarSerializer(many=True)
    matrix = MatrixRowSerializer(many=True, help_text=_("Regency level and below."))
    coverage = CoverageSerializer(many=True, help_text=_("Above the regency level."))
    silent = SilentSerializer(many=True)

    def get_fields(self):
        # The period is named as in the request; "from" cannot be a Python attribute.
        fields = super().get_fields()
        fields["from"] = MonthField(source="start")
        fields["to"] = MonthField(source="end")
        return fields


class IndicatorsView(ApiView):
    permission_classes = [allowed(Action.VIEW_PILLARS)]

    @extend_schema(
        operation_id="indicators",
        summary=_("Indicators of a region and period"),
        description=_(
            "The dashboard figures of the country (no region) or of a province, regency, "
            "district or village inside your scope, read from the summary tables. A region "
            "outside your scope answers 404."
        ),
        parameters=[
            OpenApiParameter("region", str, description=_("Region code; none = the country.")),
            OpenApiParameter("cohort", int, description=_("Only villages of this cohort.")),
            OpenApiParameter("from", str, description=_("First month, YYYY-MM.")),
            OpenApiParameter("to", str, description=_("Last month, YYYY-MM.")),
        ],
        responses=DashboardSerializer,
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        region = parse_region(params.get("region"))
        cohort = parse_cohort(params.get("cohort"))
        start = parse_month(params.get("from"), field="from")
        end = parse_month(params.get("to"), field="to")
        if start and end is None:
            end = max(start, indicators.default_period()[1])
        elif end and start is None:
            start = indicators.months_between(end.replace(year=end.year - 1), end)[1]
        if start and end and start > end:
            raise ApiValidationError({"from": [_("The first month comes after the last.")]})
        if start and end and (end.year - start.year) * 12 + end.month - start.month >= 120:
            raise ApiValidationError({"from": [_("A period is at most ten years.")]})
        result = indicators.dashboard(request.user, region, cohort=cohort, start=start, end=end)
        return Response(DashboardSerializer(result).data)
