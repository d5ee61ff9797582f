"""Report pages: the jobs of the user's area, asking for a report, watching it build,
downloading it, trying again."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.reauth import require_reauthentication
from desmigratif.pagination import window
from reports import services
from reports.forms import ReportRequestForm
from reports.models import ReportJob, ReportKind

REFRESH_SECONDS = 2


def _require_reports(user) -> None:
    if not services.requestable_kinds(user):
        raise PermissionDenied


def _row(user, job: ReportJob) -> dict:
    done = job.state == ReportJob.State.DONE
    downloadable = done and services.file_path(job) is not None
    return {
        "job": job,
        "downloadable": downloadable,
        "may_retry": services.may_request_kind(user, job.kind)
        and (job.state == ReportJob.State.FAILED or (done and not downloadable)),
        "filename": services.download_filename(job) if downloadable else "",
    }


@never_cache
@login_required
def job_list(request: HttpRequest) -> HttpResponse:
    _require_reports(request.user)
    jobs = ReportJob.objects.for_user(request.user).select_related("scope", "requested_by")
    page = window(jobs, request.GET.get("page"), settings.PAGE_SIZE)
    page.object_list = [_row(request.user, job) for job in page.object_list]
    return render(
        request,
        "reports/job_list.html",
        {"page": page, "query": "", "keep_days": settings.REPORT_KEEP_DAYS},
    )


@never_cache
@login_required
def job_request(request: HttpRequest) -> HttpResponse:
    _require_reports(request.user)
    form = ReportRequestForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if data["kind"] == ReportKind.REGISTER:
            require_reauthentication(request)
        start, end = data["period"]
        try:
            job = services.request_report(
                user=request.user,
                kind=data["kind"],
                format=data["format"],
                scope_code=data.get("area") or None,
                period_start=start,
                period_end=end,
                cohort_year=data.get("cohort"),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            if job.state == ReportJob.State.DONE:
                messages.success(request, _("This report was built already: it is ready."))
            return redirect("reports:detail", job.pk)
    return render(request, "reports/request.html", {"form": form})


@never_cache
@login_required
def job_detail(request: HttpRequest, pk) -> HttpResponse:
    _require_reports(request.user)
    job = services.get_job_for_user_or_404(request.user, pk)
    if not services.may_request_kind(request.user, job.kind):
        raise PermissionDenied
    row = _row(request.user, job)
    running = job.state in (ReportJob.State.QUEUED, ReportJob.State.RUNNING)
    return render(
        request,
        "reports/job_detail.html",
        {
            **row,
            "running": running,
            "refresh": REFRESH_SECONDS if running else None,
            "downloads": job.downloads.count(),
        },
    )


@never_cache
@login_required
def job_download(request: HttpRequest, pk) -> HttpResponse:
    job = services.get_job_for_user_or_404(request.user, pk)
    if job.kind == ReportKind.REGISTER:
        # A register export, even masked, is personal data: like the export page.
        require_reauthentication(request)
    return services.download_response(job=job, user=request.user, via="web")


@require_POST
@login_required
def job_retry(request: HttpRequest, pk) -> HttpResponse:
    job = services.get_job_for_user_or_404(request.user, pk)
    job = services.retry_report(user=request.user, job=job)
    if job.state == ReportJob.State.QUEUED:
        messages.success(request, _("The report is queued again."))
    return redirect("reports:detail", job.pk)
