"""Beat entries, the monthly scheduled reports, the e-mails to their subscribers, and the
subscription page."""

import datetime
import importlib

import pytest
from django.apps import apps as django_apps
from django.core import mail
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from accounts.models import User
from reports import schedules
from reports.models import ReportFormat, ReportJob, ReportKind, ReportSubscription
from villages.models import Designation, Region

URL = reverse("subscriptions:list")
SITE = "https://desmigratif.example.go.id"
TODAY = timezone.localdate()
LAST_MONTH_END = TODAY.replace(day=1) - datetime.timedelta(days=1)
LAST_MONTH = LAST_MONTH_END.replace(day=1)
REGENCIES = {"32.12", "33.07", "35.07"}  # those with Desmigratif villages in the world


@pytest.fixture(autouse=True)
def _site_and_cache(settings):
    settings.CSRF_TRUSTED_ORIGINS = [SITE]
    settings.LANGUAGE_CODE = "en"
    cache.clear()
    yield
    cache.clear()


def subscribe(user: User, kind: str, fmt: str = ReportFormat.XLSX) -> None:
    ReportSubscription.objects.create(user=user, kind=kind, format=fmt)


def jobs() -> set[tuple[str, str | None, str]]:
    return set(ReportJob.objects.values_list("kind", "scope_id", "format"))


# --- Beat entries ------------------------------------------------------------------------------


@pytest.fixture
def installed(db):
    """The entries as the data migration writes them. Its function is run here again rather
    than trusting the rows of the test database: a transactional test flushes those."""
    migration = importlib.import_module("reports.migrations.0002_schedules")
    assert migration.Migration.operations[0].code is migration.install
    migration.install(django_apps, None)


def test_the_migration_installs_the_beat_entries(installed):
    entries = {task.name: task for task in PeriodicTask.objects.select_related("interval")}
    tasks = {entry.task for entry in entries.values()}
    assert {
        "dashboards.tasks.refresh_summaries",
        "reports.tasks.reap_stuck_reports",
        "reports.tasks.remove_old_reports",
        "reports.schedules.monthly_reports",
        "reports.schedules.notify_subscribers",
    } <= tasks
    monthly = PeriodicTask.objects.get(task="reports.schedules.monthly_reports").crontab
    assert (monthly.minute, monthly.hour, monthly.day_of_month) == ("0", "2", "1")
    assert (monthly.month_of_year, monthly.day_of_week) == ("*", "*")
    assert str(monthly.timezone) == "Asia/Jakarta"
    reaper = PeriodicTask.objects.get(task="reports.tasks.reap_stuck_reports").interval
    assert (reaper.every, reaper.period) == (5, "minutes")
    cleanup = PeriodicTask.objects.get(task="reports.tasks.remove_old_reports")
    assert cleanup.crontab.day_of_month == "*"
    assert cleanup.crontab.hour == "3"


def test_the_retention_rule_runs_every_night(db):
    """The entry a database migrated before it existed gets from reports.0003."""
    PeriodicTask.objects.filter(task="migrants.privacy.anonymise_expired_records").delete()
    migration = importlib.import_module("reports.migrations.0003_retention_schedule")
    migration.install(django_apps, None)

    retention = PeriodicTask.objects.get(task="migrants.privacy.anonymise_expired_records")
    assert retention.enabled
    assert (retention.crontab.minute, retention.crontab.hour) == ("45", "3")
    assert retention.crontab.day_of_month == "*"
    assert str(retention.crontab.timezone) == "Asia/Jakarta"


def test_installing_again_changes_nothing_but_follows_the_settings(installed, settings):
    before = (PeriodicTask.objects.count(), IntervalSchedule.objects.count())
    crontabs = CrontabSchedule.objects.count()
    PeriodicTask.objects.filter(name=schedules.CLEANUP).update(enabled=False)
    schedules.install_schedules()
    schedules.install_schedules()
    assert (PeriodicTask.objects.count(), IntervalSchedule.objects.count()) == before
    assert CrontabSchedule.objects.count() == crontabs
    # What an administrator switched off stays off.
    assert not PeriodicTask.objects.get(name=schedules.CLEANUP).enabled

    settings.SUMMARY_REFRESH_MINUTES = 7
    schedules.install_schedules()
    refresh = PeriodicTask.objects.get(task="dashboards.tasks.refresh_summaries")
    assert (refresh.interval.every, refresh.expire_seconds) == (7, 7 * 60)
    assert PeriodicTask.objects.filter(task="dashboards.tasks.refresh_summaries").count() == 1


# --- The monthly reports -----------------------------------------------------------------------


def test_monthly_reports_ask_for_each_regency_and_the_country(world):
    assert schedules.monthly_reports() == 4
    assert jobs() == {
        ("regency_recap", "32.12", "xlsx"),
        ("regency_recap", "33.07", "xlsx"),
        ("regency_recap", "35.07", "xlsx"),
        ("national_evaluation", None, "xlsx"),
    }
    for job in ReportJob.objects.all():
        assert job.scheduled
        assert job.requested_by is None
        assert (job.period_start, job.period_end) == (LAST_MONTH, LAST_MONTH_END)
        assert job.state == ReportJob.State.QUEUED


def test_a_second_run_joins_the_same_jobs(world):
    schedules.monthly_reports()
    first = set(ReportJob.objects.values_list("pk", flat=True))
    schedules.monthly_reports()
    assert set(ReportJob.objects.values_list("pk", flat=True)) == first


def test_pdf_where_a_subscriber_of_the_area_wants_it(world):
    subscribe(world["coordinator_malang"], ReportKind.REGENCY_RECAP, ReportFormat.PDF)
    subscribe(world["evaluator"], ReportKind.NATIONAL_EVALUATION, ReportFormat.PDF)
    schedules.request_monthly_reports(today=TODAY)
    pdfs = {(kind, scope) for kind, scope, fmt in jobs() if fmt == "pdf"}
    assert pdfs == {("regency_recap", "35.07"), ("national_evaluation", None)}


def test_no_recap_for_a_regency_without_active_villages(world):
    Designation.objects.filter(village_id="33.07.10.2004").update(
        status=Designation.Status.GRADUATED
    )
    Region.objects.filter(code="32.12").update(retired_at=timezone.now())
    schedules.request_monthly_reports(today=TODAY)
    regencies = {scope for kind, scope, _fmt in jobs() if kind == "regency_recap"}
    assert regencies == {"35.07"}


def test_the_monthly_run_costs_a_few_queries_per_job_whatever_the_subscribers(
    world, django_assert_max_num_queries
):
    with django_assert_max_num_queries(3 + 4 * 8):
        schedules.request_monthly_reports(today=TODAY)
    ReportJob.objects.all().delete()
    for name in ("coordinator_malang", "province_jatim", "evaluator", "admin"):
        subscribe(world[name], ReportKind.REGENCY_RECAP)
    with django_assert_max_num_queries(3 + 4 * 8):
        schedules.request_monthly_reports(today=TODAY)


# --- E-mails to subscribers --------------------------------------------------------------------


def _build_all(*, state=ReportJob.State.DONE) -> None:
    """As if the workers had built every queued job."""
    ReportJob.objects.filter(state=ReportJob.State.QUEUED).update(
        state=state,
        file="reports/x.xlsx" if state == ReportJob.State.DONE else "",
        finished_at=timezone.now() if state == ReportJob.State.DONE else None,
        progress=100 if state == ReportJob.State.DONE else 10,
    )


def mails_to(address: str) -> list:
    return [message for message in mail.outbox if address in message.to]


@pytest.fixture
def subscribed_only(world):
    subscribe(world["coordinator_malang"], ReportKind.REGENCY_RECAP)
    subscribe(world["province_jatim"], ReportKind.REGENCY_RECAP)
    subscribe(world["evaluator"], ReportKind.NATIONAL_EVALUATION)
    subscribe(world["evaluator"], ReportKind.REGENCY_RECAP, ReportFormat.PDF)
    return world


@pytest.fixture
def subscribed(subscribed_only):
    schedules.request_monthly_reports(today=TODAY)
    return subscribed_only


def test_subscribers_get_one_email_with_links_to_their_reports(subscribed):
    _build_all()
    assert schedules.notify() == 3
    malang_recap = ReportJob.objects.get(scope_id="35.07", format="xlsx")
    national = ReportJob.objects.get(kind="national_evaluation", format="xlsx")

    (coordinator,) = mails_to("coordinator_malang@example.org")
    link = SITE + reverse("reports:detail", args=[malang_recap.pk])
    assert link in coordinator.body
    assert "32.12" not in coordinator.body
    assert "Indramayu" not in coordinator.body
    assert str(national.pk) not in coordinator.body
    assert SITE + URL in coordinator.body

    (province,) = mails_to("province_jatim@example.org")
    assert link in province.body

    (evaluator,) = mails_to("evaluator@example.org")
    assert reverse("reports:detail", args=[national.pk]) in evaluator.body
    assert evaluator.body.count(SITE) == 1 + 3 + 1  # the national report, 3 PDF recaps, page
    assert not mails_to("coordinator_indramayu@example.org")


def test_each_subscriber_is_told_only_once(subscribed):
    _build_all()
    schedules.notify()
    sent = len(mail.outbox)
    assert schedules.notify() == 0
    schedules.monthly_reports()  # the same month again joins the same, built, jobs
    assert schedules.notify() == 0
    assert len(mail.outbox) == sent


def test_a_subscriber_waits_until_all_their_reports_are_built(subscribed):
    ReportJob.objects.filter(scope_id="35.07").update(
        state=ReportJob.State.RUNNING, started_at=timezone.now()
    )
    _build_all()
    schedules.notify()
    assert not mails_to("coordinator_malang@example.org")
    assert not mails_to("province_jatim@example.org")
    assert mails_to("evaluator@example.org") == []  # the Malang PDF recap is still building
    ReportJob.objects.filter(scope_id="35.07").update(state=ReportJob.State.QUEUED)
    _build_all()
    schedules.notify()
    assert len(mails_to("coordinator_malang@example.org")) == 1
    assert len(mails_to("evaluator@example.org")) == 1


def test_failed_reports_do_not_hold_the_others_back(subscribed):
    ReportJob.objects.filter(scope_id="33.07").update(state=ReportJob.State.FAILED)
    _build_all()
    schedules.notify()
    (evaluator,) = mails_to("evaluator@example.org")
    failed = ReportJob.objects.filter(scope_id="33.07").values_list("pk", flat=True)
    assert all(str(pk) not in evaluator.body for pk in failed)


def test_a_failed_email_is_sent_at_the_next_run(subscribed, monkeypatch):
    _build_all()
    real_send = schedules.send_mail

    def broken(**kwargs):
        raise OSError("smtp down")

    monkeypatch.setattr(schedules, "send_mail", broken)
    assert schedules.notify() == 0
    monkeypatch.setattr(schedules, "send_mail", real_send)
    assert schedules.notify() == 3


def test_no_email_for_old_reports_inactive_users_or_unsubscribed_kinds(subscribed):
    User.objects.filter(username="province_jatim").update(is_active=False)
    ReportJob.objects.filter(kind="national_evaluation").update(
        state=ReportJob.State.DONE,
        file="reports/x.xlsx",
        finished_at=timezone.now() - schedules.NOTIFY_WINDOW - datetime.timedelta(hours=1),
    )
    _build_all()
    schedules.notify()
    assert not mails_to("province_jatim@example.org")
    (evaluator,) = mails_to("evaluator@example.org")
    national = ReportJob.objects.filter(kind="national_evaluation").values_list("pk", flat=True)
    assert all(str(pk) not in evaluator.body for pk in national)


def test_a_coordinator_who_became_a_village_officer_gets_no_recap(subscribed):
    User.objects.filter(username="coordinator_malang").update(
        role="village_officer", scope_id="35.07.11.2008"
    )
    _build_all()
    schedules.notify()
    assert not mails_to("coordinator_malang@example.org")


def test_without_workers_the_monthly_run_builds_and_mails_at_once(
    subscribed_only, settings, tmp_path, monkeypatch, django_capture_on_commit_callbacks
):
    """Tasks inline (no broker): the jobs are built as they are asked for, and the
    subscribers are written to when the run ends."""
    from reports.builders import BUILDERS

    def stub(job, path, progress):
        progress(50)
        path.write_bytes(b"PK")

    settings.MEDIA_ROOT = tmp_path
    monkeypatch.setitem(BUILDERS, ReportKind.REGENCY_RECAP, stub)
    monkeypatch.setitem(BUILDERS, ReportKind.NATIONAL_EVALUATION, stub)
    with django_capture_on_commit_callbacks(execute=True):
        schedules.monthly_reports()
    assert set(ReportJob.objects.values_list("state", flat=True)) == {ReportJob.State.DONE}
    assert len(mail.outbox) == 3


# --- The subscription page ---------------------------------------------------------------------


def test_anonymous_is_sent_to_sign_in(anonymous):
    response = anonymous.get(URL)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("persona", ["head_arjowilangun", "officer_arjowilangun"])
def test_village_roles_have_no_monthly_reports(persona, request, world):
    client = request.getfixturevalue(persona)
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"regency_recap:xlsx": "1"}).status_code == 403
    assert not ReportSubscription.objects.exists()


def test_a_coordinator_subscribes_to_recaps_only(coordinator_malang, world):
    page = coordinator_malang.get(URL).content.decode()
    assert 'name="regency_recap:xlsx"' in page
    assert "national_evaluation" not in page
    response = coordinator_malang.post(
        URL, {"regency_recap:pdf": "1", "national_evaluation:xlsx": "1"}
    )
    assert response.status_code == 302
    subscriptions = ReportSubscription.objects.values_list("user__username", "kind", "format")
    assert list(subscriptions) == [("coordinator_malang", "regency_recap", "pdf")]
    page = coordinator_malang.get(URL).content.decode()
    assert 'name="regency_recap:pdf" id="id_regency_recappdf" value="1" checked' in page


def test_national_users_subscribe_to_both_and_can_stop(
    evaluator, world, django_assert_max_num_queries
):
    evaluator.post(URL, {"regency_recap:xlsx": "1", "national_evaluation:pdf": "1"})
    assert set(ReportSubscription.objects.values_list("kind", "format")) == {
        ("regency_recap", "xlsx"),
        ("national_evaluation", "pdf"),
    }
    with django_assert_max_num_queries(3):
        assert evaluator.get(URL).status_code == 200
    evaluator.post(URL, {})
    assert not ReportSubscription.objects.exists()


def test_subscribing_beyond_ones_role_is_refused_by_the_service(world):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        schedules.subscriptions_set(
            user=world["province_jatim"], wanted={(ReportKind.NATIONAL_EVALUATION, "xlsx")}
        )
