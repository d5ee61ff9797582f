"""The report pages: the jobs of one's area, asking for a report, watching it build,
downloading it and trying again; nobody sees a job outside their scope."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from reports.models import ReportDownload, ReportFormat, ReportJob, ReportKind
from tests.migrants.factories import ARJOWILANGUN, KENANGA
from tests.reports.helpers import ask, fresh

pytestmark = pytest.mark.usefixtures("report_pages", "media")

LOGIN = "/accounts/login/"
State = ReportJob.State


def url(name: str, job: ReportJob | None = None) -> str:
    return reverse(f"reports:{name}", args=[job.pk] if job else [])


def last_month() -> datetime.date:
    return (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)


@pytest.fixture
def roleless(world) -> Client:
    user = User.objects.create_user("no_role", "no_role@example.org", "x", scope_id=ARJOWILANGUN)
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def malang_job(world, django_capture_on_commit_callbacks) -> ReportJob:
    """The register of Kab. Malang, built."""
    with django_capture_on_commit_callbacks(execute=True):
        job = ask(world["coordinator_malang"])
    return fresh(job)


@pytest.fixture
def queued_job(world, django_capture_on_commit_callbacks) -> ReportJob:
    with django_capture_on_commit_callbacks(execute=False):
        job = ask(world["coordinator_malang"], format=ReportFormat.PDF)
    return fresh(job)


# --- Permission trio ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["list", "request"])
def test_anonymous_is_sent_to_login_from_every_page(anonymous, malang_job, name):
    response = anonymous.get(url(name))
    assert response.status_code == 302
    assert response.url.startswith(LOGIN)


@pytest.mark.parametrize("name", ["detail", "download"])
def test_anonymous_is_sent_to_login_from_a_job(anonymous, malang_job, name):
    response = anonymous.get(url(name, malang_job))
    assert response.status_code == 302
    assert response.url.startswith(LOGIN)
    response = anonymous.post(url("retry", malang_job))
    assert response.status_code == 302
    assert response.url.startswith(LOGIN)


@pytest.mark.parametrize("name", ["detail", "download"])
def test_a_job_outside_ones_scope_is_not_found(
    coordinator_indramayu, officer_arjowilangun, malang_job, name
):
    assert coordinator_indramayu.get(url(name, malang_job)).status_code == 404
    assert officer_arjowilangun.get(url(name, malang_job)).status_code == 404
    assert ReportDownload.objects.count() == 0


def test_a_failed_job_outside_ones_scope_cannot_be_retried(coordinator_indramayu, malang_job):
    ReportJob.objects.filter(pk=malang_job.pk).update(state=State.FAILED, error="x")
    assert coordinator_indramayu.post(url("retry", malang_job)).status_code == 404
    assert fresh(malang_job).state == State.FAILED


def test_a_user_without_a_role_is_refused(roleless, malang_job):
    assert roleless.get(url("list")).status_code == 403
    assert roleless.get(url("request")).status_code == 403
    assert roleless.get(url("detail", malang_job)).status_code == 403


def test_a_page_for_an_unknown_job_is_not_found(evaluator):
    assert evaluator.get("/unduhan/00000000-0000-0000-0000-000000000000/").status_code == 404
    assert evaluator.get("/unduhan/not-a-uuid/").status_code == 404


# --- The list -----------------------------------------------------------------------------------


def test_the_list_shows_the_jobs_of_ones_area_only(
    world, coordinator_malang, coordinator_indramayu, province_jatim, malang_job, queued_job
):
    page = coordinator_malang.get(url("list"))
    assert page.status_code == 200
    html = page.content.decode()
    assert url("detail", malang_job) in html
    assert url("detail", queued_job) in html
    assert url("download", malang_job) in html
    assert url("download", queued_job) not in html
    assert url("detail", malang_job) in province_jatim.get(url("list")).content.decode()
    assert url("detail", malang_job) not in coordinator_indramayu.get(url("list")).content.decode()


def test_the_list_takes_the_same_number_of_queries_for_many_jobs(
    world, evaluator, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    def count() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert evaluator.get(url("list")).status_code == 200
        return len(queries)

    with django_capture_on_commit_callbacks(execute=False):
        ask(world["evaluator"], scope=None)
    few = count()
    with django_capture_on_commit_callbacks(execute=False):
        for scope in ("35", "35.07", ARJOWILANGUN, KENANGA, "32.12"):
            ask(world["evaluator"], scope=scope)
    assert count() == few
    with django_assert_max_num_queries(8):
        evaluator.get(url("list"))


# --- Asking for a report ------------------------------------------------------------------------


def test_the_form_offers_the_areas_of_ones_scope(
    officer_arjowilangun, coordinator_malang, evaluator
):
    officer = officer_arjowilangun.get(url("request")).content.decode()
    assert f'value="{ARJOWILANGUN}"' in officer
    assert f'value="{KENANGA}"' not in officer
    assert 'value="35.07"' not in officer
    coordinator = coordinator_malang.get(url("request")).content.decode()
    assert 'value="35.07"' in coordinator
    assert f'value="{ARJOWILANGUN}"' in coordinator
    assert 'value="35"' not in coordinator
    assert f'value="{KENANGA}"' not in coordinator
    national = evaluator.get(url("request")).content.decode()
    for code in ("35", "35.07", "32.12", KENANGA):
        assert f'value="{code}"' in national
    assert 'type="month"' in national


def test_asking_for_a_report_queues_it_and_shows_its_page(
    world, coordinator_malang, django_capture_on_commit_callbacks
):
    month = last_month().strftime("%Y-%m")
    data = {
        "kind": ReportKind.VILLAGE_MONTHLY,
        "format": ReportFormat.XLSX,
        "area": ARJOWILANGUN,
        "month_from": month,
        "month_to": month,
    }
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = coordinator_malang.post(url("request"), data)
    job = ReportJob.objects.get()
    assert response.status_code == 302
    assert response.url == url("detail", job)
    assert (job.kind, job.scope_id, job.period_start) == (
        ReportKind.VILLAGE_MONTHLY,
        ARJOWILANGUN,
        last_month(),
    )
    assert len(callbacks) == 1
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        again = coordinator_malang.post(url("request"), data)
    assert again.url == url("detail", job)
    assert ReportJob.objects.count() == 1
    assert not callbacks


def test_an_officer_cannot_ask_for_the_country(officer_arjowilangun):
    month = last_month().strftime("%Y-%m")
    page = officer_arjowilangun.get(url("request"))
    kinds = [value for value, _label in page.context["form"].fields["kind"].choices]
    assert kinds == [ReportKind.VILLAGE_MONTHLY, ReportKind.REGISTER]  # nothing above a village
    for kind in (ReportKind.NATIONAL_EVALUATION, ReportKind.REGISTER):
        response = officer_arjowilangun.post(
            url("request"),
            {
                "kind": kind,
                "format": ReportFormat.PDF,
                "area": "",
                "month_from": month,
                "month_to": month,
            },
        )
        assert response.status_code == 200
        assert response.context["form"].errors
    assert ReportJob.objects.count() == 0


def test_a_kind_for_another_level_of_area_is_explained(coordinator_malang):
    month = last_month().strftime("%Y-%m")
    response = coordinator_malang.post(
        url("request"),
        {
            "kind": ReportKind.VILLAGE_MONTHLY,
            "format": ReportFormat.XLSX,
            "area": "35.07",
            "month_from": month,
            "month_to": month,
        },
    )
    assert response.status_code == 200
    assert "choose a village" in str(response.context["form"].errors["area"])
    assert ReportJob.objects.count() == 0


# --- A job's page -------------------------------------------------------------------------------


def test_a_queued_job_refreshes_itself_and_shows_its_progress(coordinator_malang, queued_job):
    ReportJob.objects.filter(pk=queued_job.pk).update(state=State.RUNNING, progress=45)
    html = coordinator_malang.get(url("detail", queued_job)).content.decode()
    assert 'data-refresh-seconds="2"' in html
    assert '<progress max="100" value="45"' in html
    assert "<script" not in html.split("<body>", 1)[1]


def test_a_done_job_offers_its_download_and_stops_refreshing(coordinator_malang, malang_job):
    html = coordinator_malang.get(url("detail", malang_job)).content.decode()
    assert "data-refresh-seconds" not in html
    assert url("download", malang_job) in html


def test_a_failed_job_shows_its_reason_and_a_retry_button(
    coordinator_malang, queued_job, django_capture_on_commit_callbacks
):
    ReportJob.objects.filter(pk=queued_job.pk).update(
        state=State.FAILED, error="The server was restarted."
    )
    html = coordinator_malang.get(url("detail", queued_job)).content.decode()
    assert "The server was restarted." in html
    assert url("retry", queued_job) in html
    with django_capture_on_commit_callbacks(execute=True):
        response = coordinator_malang.post(url("retry", queued_job))
    assert response.status_code == 302
    assert response.url == url("detail", queued_job)
    job = fresh(queued_job)
    assert (job.state, job.error) == (State.DONE, "")


def test_retry_is_a_post(coordinator_malang, queued_job):
    assert coordinator_malang.get(url("retry", queued_job)).status_code == 405


def test_the_detail_page_takes_a_fixed_number_of_queries(
    coordinator_malang, malang_job, django_assert_max_num_queries
):
    with django_assert_max_num_queries(6):
        assert coordinator_malang.get(url("detail", malang_job)).status_code == 200


# --- Downloading --------------------------------------------------------------------------------


def test_downloading_gives_the_file_and_logs_who(world, province_jatim, malang_job):
    response = province_jatim.get(url("download", malang_job))
    assert response.status_code == 200
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment; filename=")
    assert "register-pmi-kab-malang-" in disposition
    assert disposition.endswith('.xlsx"')
    assert (
        response["Cache-Control"] == "private, no-store" or "no-store" in response["Cache-Control"]
    )
    assert b"".join(response.streaming_content).startswith(b"PK")
    download = ReportDownload.objects.get()
    assert (download.user, download.via) == (world["province_jatim"], "web")


def test_a_job_not_done_has_nothing_to_download(coordinator_malang, queued_job):
    assert coordinator_malang.get(url("download", queued_job)).status_code == 404
    assert ReportDownload.objects.count() == 0
