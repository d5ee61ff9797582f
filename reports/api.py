"""Report jobs in the API: ask for a report, follow it, download it.

The same rules as the report pages (reports.services): the role must be allowed the kind, the
area must lie in the token owner's scope (outside it: 404), a request of the same report joins
the existing job; every download is logged, as coming from the API.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle

from dashboards.api import (
    ApiView,
    AreaSerializer,
    Pagination,
    parse_cohort,
    parse_month,
    parse_region,
)
from reports import services
from reports.models import ReportFormat, ReportJob, ReportKind


class MayRequestReports(BasePermission):
    """As the report pages: a role that may ask for at least one kind of report."""

    message = _("Your role does not allow reports.")

    def has_permission(self, request, view) -> bool:
        return bool(services.requestable_kinds(request.user))


class ReportRequestThrottle(UserRateThrottle):
    """Asking for reports queues work for the workers: fewer requests than reads."""

    scope = "report_request"
    rate = "60/hour"


class NotReady(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The report is not ready yet.")
    default_code = "not_ready"


class ReportJobSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=ReportKind.choices)
    kind_name = serializers.CharField(source="get_kind_display")
    format = serializers.ChoiceField(choices=ReportFormat.choices)
    region = AreaSerializer(source="scope", allow_null=True, help_text=_("Null: the country."))
    cohort = serializers.IntegerField(source="cohort_year", allow_null=True)
    state = serializers.ChoiceField(choices=ReportJob.State.choices)
    state_name = serializers.CharField(source="get_state_display")
    progress = serializers.IntegerField(help_text=_("Percent, 0 to 100."))
    attempts = serializers.IntegerField()
    error = serializers.CharField(help_text=_("Why the report failed; empty otherwise."))
    size = serializers.IntegerField(help_text=_("Bytes of the file, once built."))
    scheduled = serializers.BooleanField()
    requested_at = serializers.DateTimeField(source="created_at")
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(
        allow_null=True, help_text=_("When the file will be removed.")
    )
    url = serializers.SerializerMethodField()
    page_url = serializers.SerializerMethodField(help_text=_("The job's page on the website."))
    download_url = serializers.SerializerMethodField(
        help_text=_("Null until the report is built (and after its file was removed).")
    )

    def get_fields(self):
        # The period is named as in the request; "from" cannot be a Python attribute.
        fields = super().get_fields()
        fields["from"] = serializers.DateField(source="period_start", read_only=True)
        fields["to"] = serializers.DateField(source="period_end", read_only=True)
        return fields

    def _absolute(self, path: str) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path

    def get_url(self, job: ReportJob) -> str:
        return self._absolute(reverse("api:report-detail", args=[job.pk]))

    def get_page_url(self, job: ReportJob) -> str:
        return self._absolute(reverse("reports:detail", args=[job.pk]))

    def get_download_url(self, job: ReportJob) -> str | None:
        if job.state != ReportJob.State.DONE or not job.file:
            return None
        return self._absolute(reverse("api:report-download", args=[job.pk]))


class ReportRequestSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ReportKind.choices)
    format = serializers.ChoiceField(choices=ReportFormat.choices, default=ReportFormat.XLSX)
    region = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text=_("Region code of the area; empty for the country (national users)."),
    )
    cohort = serializers.IntegerField(required=False, allow_null=True)

    def get_fields(self):
        fields = super().get_fields()
        for name in ("from", "to"):
            fields[name] = serializers.CharField(
                required=False,
                allow_blank=True,
                help_text=_("Month, YYYY-MM (not needed for the register export)."),
            )
        return fields

    def validate(self, attrs: dict) -> dict:
        attrs["region"] = parse_region(attrs.get("region"))
        attrs["start"] = parse_month(attrs.pop("from", None), field="from")
        attrs["end"] = parse_month(attrs.pop("to", None), field="to")
        cohort = attrs.get("cohort")
        attrs["cohort"] = parse_cohort(str(cohort)) if cohort is not None else None
        return attrs


def _job_or_404(user, pk) -> ReportJob:
    job = services.get_job_for_user_or_404(user, pk)
    if not services.may_request_kind(user, job.kind):
        raise PermissionDenied
    return job


class ReportListView(ApiView):
    permission_classes = [MayRequestReports]
    pagination_class = Pagination

    def get_throttles(self):
        throttles = super().get_throttles()
        if self.request.method == "POST":
            throttles.append(ReportRequestThrottle())
        return throttles

    @extend_schema(
        operation_id="reports_list",
        summary=_("Report jobs in your scope"),
        parameters=[
            OpenApiParameter("kind", str, enum=ReportKind.values),
            OpenApiParameter("state", str, enum=ReportJob.State.values),
            OpenApiParameter("scheduled", bool, description=_("Only the monthly scheduled ones.")),
        ],
        responses=ReportJobSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        jobs = (
            ReportJob.objects.for_user(request.user)
            .filter(kind__in=services.requestable_kinds(request.user))
            .select_related("scope")
            .order_by("-created_at")
        )
        params = request.query_params
        if params.get("kind"):
            if params["kind"] not in ReportKind.values:
                raise ValidationError({"kind": [_("Unknown report.")]})
            jobs = jobs.filter(kind=params["kind"])
        if params.get("state"):
            if params["state"] not in ReportJob.State.values:
                raise ValidationError({"state": [_("Unknown state.")]})
            jobs = jobs.filter(state=params["state"])
        if params.get("scheduled") in ("true", "1"):
            jobs = jobs.filter(scheduled=True)
        elif params.get("scheduled") in ("false", "0"):
            jobs = jobs.filter(scheduled=False)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(jobs, request, view=self)
        data = ReportJobSerializer(page, many=True, context={"request": request}).data
        return paginator.get_paginated_response(data)

    @extend_schema(
        operation_id="reports_request",
        summary=_("Ask for a report"),
        description=_(
            "Queues the report, or joins the job of the same report asked for before (a built "
            "one is returned as it is). Follow its `url` until `state` is done, then download "
            "it from `download_url`."
        ),
        request=ReportRequestSerializer,
        responses={
            202: ReportJobSerializer,
            400: OpenApiResponse(description=_("The request cannot be made.")),
            403: OpenApiResponse(description=_("Your role may not ask for this report.")),
            404: OpenApiResponse(description=_("The area is not in your scope.")),
        },
    )
    def post(self, request: Request) -> Response:
        form = ReportRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        if not services.may_request_kind(request.user, data["kind"]):
            raise PermissionDenied
        if not services.covers(request.user, data["region"]):
            raise Http404
        job = services.request_report(
            user=request.user,
            kind=data["kind"],
            format=data["format"],
            scope_code=data["region"],
            period_start=data["start"],
            period_end=data["end"],
            cohort_year=data["cohort"],
        )
        job = ReportJob.objects.select_related("scope").get(pk=job.pk)
        body = ReportJobSerializer(job, context={"request": request}).data
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["url"]})


class ReportDetailView(ApiView):
    permission_classes = [MayRequestReports]

    @extend_schema(
        operation_id="reports_retrieve",
        summary=_("A report job: state, progress, download address"),
        responses=ReportJobSerializer,
    )
    def get(self, request: Request, pk) -> Response:
        job = _job_or_404(request.user, pk)
        return Response(ReportJobSerializer(job, context={"request": request}).data)


class ReportDownloadView(ApiView):
    permission_classes = [MayRequestReports]

    @extend_schema(
        operation_id="reports_download",
        summary=_("Download the report's file"),
        responses={
            (200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"): (
                OpenApiTypes.BINARY
            ),
            (200, "application/pdf"): OpenApiTypes.BINARY,
            404: OpenApiResponse(description=_("No such report in your scope, or file removed.")),
            409: OpenApiResponse(description=_("The report is not built yet.")),
        },
    )
    def get(self, request: Request, pk):
        job = _job_or_404(request.user, pk)
        if job.state in (ReportJob.State.QUEUED, ReportJob.State.RUNNING):
            raise NotReady
        return services.download_response(job=job, user=request.user, via="api")
