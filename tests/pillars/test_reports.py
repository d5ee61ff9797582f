"""The monthly village report: the officer writes and submits it over the month's figures,
the coordinator verifies it or returns it with a comment, and sees who has not reported."""

import datetime

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from pillars import services
from pillars.models import AuditEntry, MonthlyReport, Outreach, PillarKind
from tests.migrants.factories import ARJOWILANGUN, BRONGKAL, KENANGA

LIST = reverse("pillars:report-list")
WRITE = reverse("pillars:report-write")
QUEUE = reverse("pillars:report-queue")
MISSING = reverse("pillars:report-missing")
LOGIN = reverse("account_login")
MALANG = {"Arjowilangun", "Sumberpetung", "Balearjo", "Brongkal"}


def detail(report: MonthlyReport) -> str:
    return reverse("pillars:report-detail", args=[report.pk])


def review(report: MonthlyReport) -> str:
    return reverse("pillars:report-review", args=[report.pk])


def this_month() -> datetime.date:
    return timezone.localdate().replace(day=1)


def last_month() -> datetime.date:
    return (this_month() - datetime.timedelta(days=1)).replace(day=1)


def outreach(actor: User, *, village: str = ARJOWILANGUN, women: int = 12) -> Outreach:
    record = Outreach(
        village_id=village, date=timezone.localdate(), topic="Migrasi aman", attendees_female=women
    )
    services.record_create(actor=actor, instance=record, kind=PillarKind.SERVICE_CENTRE)
    return record


def report_of(village: str = ARJOWILANGUN, month: datetime.date | None = None) -> MonthlyReport:
    return MonthlyReport.objects.get(village_id=village, month=month or this_month())


def submitted(
    world, village: str = ARJOWILANGUN, narrative: str = "Bulan yang ramai."
) -> MonthlyReport:
    """A report of this month submitted through the services by the village's officer."""
    officer = world["officer_arjowilangun" if village == ARJOWILANGUN else "officer_brongkal"]
    report = services.report_save(
        actor=officer, village_code=village, month=this_month(), narrative=narrative
    )
    return services.report_submit(actor=officer, report=report)


def in_english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


# --- The officer writes ---------------------------------------------------------------------


def test_the_write_page_shows_this_months_figures_live(officer_arjowilangun, world):
    outreach(world["officer_arjowilangun"], women=7)

    response = in_english(officer_arjowilangun).get(WRITE)

    assert response.status_code == 200
    assert response.context["month"] == this_month()
    outreach_table = next(t for t in response.context["figures"] if t["key"] == "outreach")
    assert ("Events", "1") in outreach_table["rows"]
    assert ("Women attending", "7") in outreach_table["rows"]
    assert "<caption>Outreach events</caption>" in response.content.decode()


def test_a_draft_is_saved_without_a_narrative(officer_arjowilangun, world):
    response = officer_arjowilangun.post(WRITE, {"obstacles": "Hujan", "save": "1"})

    assert response.status_code == 302
    report = report_of()
    assert (report.state, report.obstacles, report.narrative) == ("draft", "Hujan", "")
    assert report.figures == {}
    draft_page = officer_arjowilangun.get(response.url)
    assert draft_page.context["form"].initial["obstacles"] == "Hujan"


def test_submitting_needs_a_narrative(officer_arjowilangun, world):
    response = in_english(officer_arjowilangun).post(WRITE, {"narrative": "  ", "submit": "1"})

    assert response.status_code == 200
    assert response.context["form"].errors["narrative"] == [
        "Write the narrative before submitting."
    ]
    assert report_of().state == MonthlyReport.State.DRAFT


def test_submitting_keeps_the_months_figures_as_they_were(officer_arjowilangun, world):
    officer = world["officer_arjowilangun"]
    outreach(officer, women=5)

    response = officer_arjowilangun.post(
        WRITE, {"narrative": "Sosialisasi migrasi aman.", "plans": "Pelatihan", "submit": "1"}
    )

    report = report_of()
    assert response.status_code == 302
    assert response.url == detail(report)
    assert report.state == MonthlyReport.State.SUBMITTED
    assert report.submitted_by == officer
    assert report.figures["outreach"] == {"events": 1, "men": 0, "women": 5}
    assert report.figures == services.month_figures(ARJOWILANGUN, this_month())

    outreach(officer, women=100)  # after submission: the report keeps what it said
    page = officer_arjowilangun.get(detail(report))
    assert page.context["snapshot"] is True
    outreach_table = next(t for t in page.context["figures"] if t["key"] == "outreach")
    assert outreach_table["rows"][2][1] == "5"


def test_a_submitted_report_is_read_only_for_the_officer(officer_arjowilangun, world):
    report = submitted(world)

    assert officer_arjowilangun.get(WRITE).url == detail(report)
    officer_arjowilangun.post(WRITE, {"narrative": "Diubah", "save": "1"})
    assert report_of().narrative == "Bulan yang ramai."
    page = officer_arjowilangun.get(detail(report))
    assert page.context["can_edit"] is False
    assert page.context["review_form"] is None


def test_the_officer_picks_an_earlier_month_but_not_a_future_one(officer_arjowilangun, world):
    earlier = officer_arjowilangun.get(WRITE, {"month": f"{last_month():%Y-%m}"})
    assert earlier.context["month"] == last_month()

    officer_arjowilangun.post(
        f"{WRITE}?month={last_month():%Y-%m}", {"narrative": "Bulan lalu", "save": "1"}
    )
    assert report_of(month=last_month()).narrative == "Bulan lalu"

    future = (this_month() + datetime.timedelta(days=40)).replace(day=1)
    assert officer_arjowilangun.get(WRITE, {"month": f"{future:%Y-%m}"}).context["month"] == (
        this_month()
    )
    assert officer_arjowilangun.get(WRITE, {"month": "nonsense"}).context["month"] == this_month()


def test_the_officers_list_shows_the_last_twelve_months_and_their_states(
    officer_arjowilangun, world
):
    report = submitted(world)
    response = officer_arjowilangun.get(LIST)
    rows = response.context["rows"]
    assert len(rows) == 12
    assert rows[0] == (this_month(), report)
    assert rows[1] == (last_month(), None)


# --- The coordinator reviews ----------------------------------------------------------------


def test_the_coordinators_queue_holds_the_submitted_reports_of_the_regency(
    coordinator_malang, coordinator_indramayu, world
):
    report = submitted(world)
    services.report_save(
        actor=world["officer_brongkal"], village_code=BRONGKAL, month=this_month(), narrative="x"
    )  # a draft: not for the coordinator yet

    assert list(coordinator_malang.get(QUEUE).context["page"].object_list) == [report]
    assert list(coordinator_indramayu.get(QUEUE).context["page"].object_list) == []


def test_the_coordinator_verifies(coordinator_malang, world):
    report = submitted(world)

    page = coordinator_malang.get(detail(report))
    assert page.context["review_form"] is not None
    response = coordinator_malang.post(review(report), {"decision": "verify"})

    assert response.status_code == 302
    report.refresh_from_db()
    assert report.state == MonthlyReport.State.VERIFIED
    assert report.verified_by == world["coordinator_malang"]
    assert coordinator_malang.get(detail(report)).context["review_form"] is None


def test_returning_needs_a_comment(coordinator_malang, world):
    report = submitted(world)

    response = in_english(coordinator_malang).post(review(report), {"decision": "return"})

    assert response.status_code == 200
    assert response.context["review_form"].errors["comment"] == ["Say what needs correcting."]
    report.refresh_from_db()
    assert report.state == MonthlyReport.State.SUBMITTED


def test_a_returned_report_shows_the_comment_and_is_corrected_and_resubmitted(
    officer_arjowilangun, coordinator_malang, world
):
    report = submitted(world)
    coordinator_malang.post(
        review(report), {"decision": "return", "comment": "Jumlah peserta belum ditulis."}
    )
    report.refresh_from_db()
    assert report.state == MonthlyReport.State.RETURNED

    write_page = officer_arjowilangun.get(WRITE)
    assert write_page.status_code == 200
    assert "Jumlah peserta belum ditulis." in write_page.content.decode()
    assert officer_arjowilangun.get(detail(report)).context["can_edit"] is True
    outreach(world["officer_arjowilangun"], women=3)

    officer_arjowilangun.post(
        WRITE, {"narrative": "Sosialisasi: 3 peserta perempuan.", "submit": "1"}
    )

    report.refresh_from_db()
    assert report.state == MonthlyReport.State.SUBMITTED
    assert report.narrative == "Sosialisasi: 3 peserta perempuan."
    assert report.figures["outreach"]["women"] == 3
    coordinator_malang.post(review(report), {"decision": "verify"})
    report.refresh_from_db()
    assert report.state == MonthlyReport.State.VERIFIED
    actions = list(
        AuditEntry.objects.filter(model="monthlyreport", object_id=str(report.pk))
        .order_by("at", "id")
        .values_list("action", flat=True)
    )
    assert actions == ["created", "submitted", "returned", "updated", "submitted", "verified"]


def test_a_verified_report_cannot_be_reviewed_again(coordinator_malang, world):
    report = submitted(world)
    coordinator_malang.post(review(report), {"decision": "verify"})

    response = coordinator_malang.post(review(report), {"decision": "return", "comment": "x"})

    assert response.status_code == 200
    report.refresh_from_db()
    assert report.state == MonthlyReport.State.VERIFIED


# --- Only the right roles --------------------------------------------------------------------


@pytest.mark.parametrize(
    "persona", ["head_arjowilangun", "coordinator_malang", "evaluator", "province_jatim"]
)
def test_only_the_village_officer_writes_the_report(request, world, persona):
    client = request.getfixturevalue(persona)
    assert client.get(WRITE).status_code == 403
    assert client.post(WRITE, {"narrative": "x", "submit": "1"}).status_code == 403
    assert not MonthlyReport.objects.exists()


@pytest.mark.parametrize(
    "persona", ["officer_arjowilangun", "head_arjowilangun", "evaluator", "province_jatim"]
)
def test_only_the_coordinator_and_ministry_review(request, world, persona):
    report = submitted(world)
    client = request.getfixturevalue(persona)
    assert client.post(review(report), {"decision": "verify"}).status_code == 403
    assert client.get(QUEUE).status_code == 403
    report.refresh_from_db()
    assert report.state == MonthlyReport.State.SUBMITTED


def test_the_ministry_reviews_anywhere(ministry_admin, world):
    report = submitted(world)
    assert ministry_admin.post(review(report), {"decision": "verify"}).status_code == 302


@pytest.mark.parametrize(
    "persona", ["head_arjowilangun", "evaluator", "province_jatim", "coordinator_malang"]
)
def test_readers_in_scope_read_a_report(request, world, persona):
    report = submitted(world)
    assert request.getfixturevalue(persona).get(detail(report)).status_code == 200


# --- Scope ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "persona", ["officer_kenanga", "officer_brongkal", "coordinator_indramayu"]
)
def test_a_report_outside_the_scope_is_not_found(request, world, persona):
    report = submitted(world)
    client = request.getfixturevalue(persona)
    assert client.get(detail(report)).status_code == 404


def test_a_coordinator_of_another_regency_cannot_review(coordinator_indramayu, world):
    report = submitted(world)
    assert coordinator_indramayu.post(review(report), {"decision": "verify"}).status_code == 404
    report.refresh_from_db()
    assert report.state == MonthlyReport.State.SUBMITTED


def test_an_officer_cannot_write_another_villages_report(officer_arjowilangun, world):
    assert officer_arjowilangun.get(WRITE, {"village": KENANGA}).status_code == 404
    response = officer_arjowilangun.post(f"{WRITE}?village={BRONGKAL}", {"narrative": "x"})
    assert response.status_code == 404
    assert not MonthlyReport.objects.exists()


def test_an_unknown_report_is_the_same_404(officer_arjowilangun, world):
    assert officer_arjowilangun.get(reverse("pillars:report-detail", args=[999])).status_code == (
        404
    )


def test_the_coordinators_list_holds_the_regencys_reports_only(coordinator_malang, world):
    mine = submitted(world)
    services.report_save(
        actor=world["officer_kenanga"], village_code=KENANGA, month=this_month(), narrative="x"
    )
    response = coordinator_malang.get(LIST)
    assert list(response.context["page"].object_list) == [mine]
    assert list(coordinator_malang.get(LIST, {"state": "draft"}).context["page"].object_list) == []


# --- Anonymous and the role-less ------------------------------------------------------------------


@pytest.mark.parametrize("page", ["list", "write", "queue", "missing", "detail"])
def test_anonymous_is_sent_to_login(anonymous, world, page):
    url = {"list": LIST, "write": WRITE, "queue": QUEUE, "missing": MISSING}.get(page)
    url = url or detail(submitted(world))
    response = anonymous.get(url)
    assert response.status_code == 302
    assert response.url.startswith(LOGIN)


def test_anonymous_cannot_review(anonymous, world):
    report = submitted(world)
    assert anonymous.post(review(report), {"decision": "verify"}).status_code == 302
    report.refresh_from_db()
    assert report.state == MonthlyReport.State.SUBMITTED


@pytest.mark.parametrize("url", [LIST, MISSING])
def test_an_account_without_a_role_may_not_read_reports(world, url):
    from django.test import Client

    user = User.objects.create_user("roleless", "r@example.org", "x", role="")
    client = Client()
    client.force_login(user)
    assert client.get(url).status_code == 403


# --- Who has not reported -----------------------------------------------------------------------


def names(response) -> set[str]:
    return {designation.village.name for designation, _state in response.context["rows"]}


def test_the_coordinator_sees_which_villages_have_not_reported(coordinator_malang, world):
    assert names(coordinator_malang.get(MISSING)) == MALANG

    submitted(world)
    services.report_save(
        actor=world["officer_brongkal"], village_code=BRONGKAL, month=this_month(), narrative=""
    )

    response = coordinator_malang.get(MISSING)
    assert names(response) == MALANG - {"Arjowilangun"}
    states = {d.village_id: state for d, state in response.context["rows"]}
    assert states[BRONGKAL] == MonthlyReport.State.DRAFT.label
    assert (response.context["reported"], response.context["total"]) == (1, 4)


def test_the_missing_list_has_a_month_selector(coordinator_malang, world):
    submitted(world)
    response = coordinator_malang.get(MISSING, {"month": f"{last_month():%Y-%m}"})
    assert response.context["month"] == last_month()
    assert names(response) == MALANG  # last month nobody reported
    assert len(response.context["months"]) == 24


def test_a_returned_report_counts_as_not_reported(coordinator_malang, world):
    report = submitted(world)
    services.report_review(
        actor=world["coordinator_malang"], report=report, approve=False, comment="Kurang"
    )
    assert "Arjowilangun" in names(coordinator_malang.get(MISSING))


def test_the_missing_list_stays_in_the_scope(coordinator_indramayu, officer_arjowilangun):
    assert names(coordinator_indramayu.get(MISSING)) == {"Kenanga"}
    assert names(officer_arjowilangun.get(MISSING)) == {"Arjowilangun"}


# --- Query counts --------------------------------------------------------------------------------


def test_the_queue_costs_the_same_queries_for_one_report_or_four(
    coordinator_malang, world, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import DesignationFactory, RegionFactory

    submitted(world)
    with CaptureQueriesContext(connection) as one:
        coordinator_malang.get(QUEUE)
    for _i in range(3):
        village = DesignationFactory(village=RegionFactory()).village_id
        MonthlyReport.objects.create(
            village_id=village,
            month=this_month(),
            narrative="x",
            state=MonthlyReport.State.SUBMITTED,
            submitted_by=world["officer_arjowilangun"],
            submitted_at=timezone.now(),
        )

    with django_assert_num_queries(len(one.captured_queries)):
        response = coordinator_malang.get(QUEUE)
    assert len(response.context["page"].object_list) == 4


def test_the_missing_list_costs_the_same_queries_for_more_villages(
    coordinator_malang, world, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import DesignationFactory, RegionFactory

    with CaptureQueriesContext(connection) as four:
        coordinator_malang.get(MISSING)
    for _i in range(5):
        DesignationFactory(village=RegionFactory())

    with django_assert_num_queries(len(four.captured_queries)):
        response = coordinator_malang.get(MISSING)
    assert len(response.context["rows"]) == 9
