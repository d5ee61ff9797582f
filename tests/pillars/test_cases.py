"""Cases and complaints: sensitive, so only those who handle them (the village officer, the
regency coordinator, the ministry) ever see one; everyone else gets 403 and no rows."""

import datetime

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from pillars import services
from pillars.models import AuditEntry, Case, CaseStep, PillarKind
from pillars.views.service import add_case_step
from tests.migrants.factories import ARJOWILANGUN, BRONGKAL, register

LOGIN = reverse("account_login")
REPORTED = datetime.date(2025, 2, 3)
SECRET = "Dijanjikan kerja di pabrik, ternyata dijual ke penampung"

HANDLERS = ["officer_arjowilangun", "coordinator_malang", "ministry_admin"]
OUTSIDERS = ["officer_kenanga", "officer_brongkal", "coordinator_indramayu"]
NOT_FOR_THEM = ["head_arjowilangun", "province_jatim", "evaluator"]
USERNAME = {"ministry_admin": "admin"}  # the persona's account


def url(name: str, *args) -> str:
    return reverse(f"pillars:{name}", args=args)


def in_english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def a_case(world, *, village=ARJOWILANGUN, actor="officer_arjowilangun", **data) -> Case:
    record = Case(
        village_id=village,
        case_type=data.pop("case_type", Case.Type.TRAFFICKING),
        channel=data.pop("channel", Case.Channel.WALK_IN),
        reported_on=data.pop("reported_on", REPORTED),
        summary=data.pop("summary", SECRET),
        **data,
    )
    services.record_create(actor=world[actor], instance=record, kind=PillarKind.SERVICE_CENTRE)
    return record


def case_form(**overrides) -> dict[str, str]:
    return {
        "reported_on": REPORTED.isoformat(),
        "case_type": Case.Type.UNPAID_WAGES,
        "channel": Case.Channel.PHONE,
        "person": "",
        "country": "MY",
        "procedural_status": "non_procedural",
        "summary": "Gaji tidak dibayar enam bulan",
        "resolution": Case.Resolution.OPEN,
        "closed_on": "",
        **overrides,
    }


def step_form(**overrides) -> dict[str, str]:
    return {
        "date": (REPORTED + datetime.timedelta(days=1)).isoformat(),
        "action": "Lapor ke Disnaker",
        "notes": "",
        **overrides,
    }


@pytest.fixture
def case(world) -> Case:
    return a_case(world)


# --- The permission trio, for every page -------------------------------------------------------

PAGES = ["list", "create", "detail", "edit", "delete", "step-add"]
RECORD_PAGES = ["detail", "edit", "delete", "step-add"]


def request_page(client, page: str, case: Case):
    if page in ("list", "create"):
        return client.get(url(f"case-{page}"))
    if page == "delete":
        return client.post(url("case-delete", case.pk), {"reason": "salah input"})
    if page == "step-add":
        return client.post(url("case-step-add", case.pk), step_form())
    return client.get(url(f"case-{page}", case.pk))


def untouched(case: Case) -> bool:
    return (
        Case.objects.get(pk=case.pk).deleted_at is None
        and not CaseStep.objects.filter(case=case).exists()
    )


@pytest.mark.parametrize("page", PAGES)
def test_anonymous_is_sent_to_login(anonymous, case, page):
    response = request_page(anonymous, page, case)
    assert response.status_code == 302
    assert response.url.startswith(LOGIN)
    assert untouched(case)


@pytest.mark.parametrize("persona", HANDLERS)
@pytest.mark.parametrize("page", ["list", "create", "detail", "edit"])
def test_those_who_handle_cases_open_every_page(request, case, persona, page):
    response = request_page(request.getfixturevalue(persona), page, case)
    assert response.status_code == 200


@pytest.mark.parametrize("persona", HANDLERS)
def test_those_who_handle_cases_add_steps(request, world, case, persona):
    response = request_page(request.getfixturevalue(persona), "step-add", case)
    assert response.status_code == 302
    assert response.url == url("case-detail", case.pk)
    assert CaseStep.objects.get(case=case).by == world[USERNAME.get(persona, persona)]


@pytest.mark.parametrize("persona", OUTSIDERS)
@pytest.mark.parametrize("page", RECORD_PAGES)
def test_outside_the_scope_the_case_does_not_exist(request, case, persona, page):
    assert request_page(request.getfixturevalue(persona), page, case).status_code == 404
    assert untouched(case)


@pytest.mark.parametrize("persona", OUTSIDERS)
def test_outside_the_scope_the_list_is_empty(request, case, persona):
    response = request.getfixturevalue(persona).get(url("case-list"))
    assert response.status_code == 200
    assert list(response.context["page"].object_list) == []
    assert SECRET not in response.content.decode()


@pytest.mark.parametrize("persona", NOT_FOR_THEM)
@pytest.mark.parametrize("page", PAGES)
def test_the_village_head_province_and_evaluators_get_403_everywhere(request, case, persona, page):
    response = request_page(request.getfixturevalue(persona), page, case)
    assert response.status_code == 403
    assert SECRET not in response.content.decode()
    assert untouched(case)


@pytest.mark.parametrize("persona", NOT_FOR_THEM)
def test_case_rows_never_reach_them(world, case, persona):
    user = world[USERNAME.get(persona, persona)]
    assert not Case.objects.for_user(user).exists()
    with pytest.raises(PermissionDenied):
        add_case_step(actor=user, case=case, date=REPORTED, action="Lihat")


@pytest.mark.parametrize("persona", NOT_FOR_THEM)
def test_they_see_no_link_to_cases(request, world, case, persona):
    from pillars.views.overview import register_links

    client = request.getfixturevalue(persona)
    for page in ("service-list", "outreach-list"):
        assert url("case-list") not in client.get(url(page)).content.decode()
    links = [link for _label, link in register_links(world[persona], PillarKind.SERVICE_CENTRE)]
    assert url("case-list") not in links
    assert url("case-list") in [
        link
        for _label, link in register_links(world["officer_arjowilangun"], PillarKind.SERVICE_CENTRE)
    ]


def test_an_unknown_case_is_the_same_404(officer_arjowilangun, world):
    assert officer_arjowilangun.get(url("case-detail", 999999)).status_code == 404
    assert officer_arjowilangun.post(url("case-step-add", 999999), step_form()).status_code == 404


# --- Recording a case ------------------------------------------------------------------------


def test_the_officer_records_a_case(officer_arjowilangun, world):
    sri = register(actor=world["officer_arjowilangun"], full_name="Sri Wahyuni")

    response = officer_arjowilangun.post(url("case-create"), case_form(person=sri.pk))

    record = Case.objects.get()
    assert response.status_code == 302
    assert response.url == url("case-detail", record.pk)
    assert (record.village_id, record.person, record.country, record.created_by) == (
        ARJOWILANGUN,
        sri,
        "MY",
        world["officer_arjowilangun"],
    )
    assert record.pillar.kind == PillarKind.SERVICE_CENTRE
    assert AuditEntry.objects.filter(
        model="case", object_id=str(record.pk), action=AuditEntry.Action.CREATED
    ).exists()
    page = officer_arjowilangun.get(response.url).content.decode()
    assert "Malaysia" in page
    assert "Sri Wahyuni" in page


def test_the_country_is_chosen_from_the_registers_list(officer_arjowilangun):
    form = officer_arjowilangun.get(url("case-create")).context["form"]
    codes = {code for code, _name in form.fields["country"].choices}
    assert {"", "HK", "TW", "MY", "SA"} <= codes
    assert "ID" not in codes

    response = officer_arjowilangun.post(url("case-create"), case_form(country="XX"))
    assert response.status_code == 200
    assert "country" in response.context["form"].errors
    assert not Case.objects.exists()


def test_a_case_needs_no_country_or_person(officer_arjowilangun):
    response = officer_arjowilangun.post(url("case-create"), case_form(country=""))
    assert response.status_code == 302
    record = Case.objects.get()
    assert (record.country, record.person) == ("", None)


def test_the_list_shows_the_country_by_name(officer_arjowilangun, world):
    a_case(world, country="HK")
    response = officer_arjowilangun.get(url("case-list"))
    assert "Hong Kong" in response.content.decode()


def test_a_person_of_another_village_cannot_be_attached(officer_arjowilangun, world):
    stranger = register(actor=world["officer_brongkal"], village=BRONGKAL)

    response = officer_arjowilangun.post(url("case-create"), case_form(person=stranger.pk))

    assert response.status_code == 200
    assert "person" in response.context["form"].errors
    assert not Case.objects.exists()


def test_the_coordinator_cannot_attach_a_person_of_another_village(coordinator_malang, world):
    stranger = register(actor=world["officer_brongkal"], village=BRONGKAL)

    response = coordinator_malang.post(
        url("case-create"), case_form(village_code=ARJOWILANGUN, person=stranger.pk)
    )

    assert response.status_code == 200
    assert "person" in response.context["form"].errors
    assert not Case.objects.exists()


def test_the_coordinator_records_a_case_for_a_village_of_the_regency(coordinator_malang, world):
    response = coordinator_malang.post(url("case-create"), case_form(village_code=BRONGKAL))
    assert response.status_code == 302
    assert Case.objects.get().village_id == BRONGKAL


@pytest.mark.parametrize("resolution", [Case.Resolution.RESOLVED, Case.Resolution.UNRESOLVED])
def test_closing_a_case_needs_the_closing_date(officer_arjowilangun, case, resolution):
    response = in_english(officer_arjowilangun).post(
        url("case-edit", case.pk), case_form(resolution=resolution)
    )
    assert response.status_code == 200
    assert response.context["form"].errors["closed_on"] == ["Give the date the case was closed."]
    assert Case.objects.get(pk=case.pk).resolution == Case.Resolution.OPEN

    closed = (REPORTED + datetime.timedelta(days=30)).isoformat()
    response = officer_arjowilangun.post(
        url("case-edit", case.pk), case_form(resolution=resolution, closed_on=closed)
    )
    assert response.status_code == 302
    saved = Case.objects.get(pk=case.pk)
    assert (saved.resolution, saved.closed_on.isoformat()) == (resolution, closed)
    entry = AuditEntry.objects.get(model="case", action=AuditEntry.Action.UPDATED)
    assert entry.changes["resolution"] == ["open", resolution]


def test_an_open_case_has_no_closing_date(officer_arjowilangun, case):
    response = officer_arjowilangun.post(
        url("case-edit", case.pk),
        case_form(resolution=Case.Resolution.IN_PROGRESS, closed_on=REPORTED.isoformat()),
    )
    assert response.status_code == 200
    assert "closed_on" in response.context["form"].errors
    assert Case.objects.get(pk=case.pk).closed_on is None


def test_a_case_cannot_close_before_it_was_reported(officer_arjowilangun, case):
    response = officer_arjowilangun.post(
        url("case-edit", case.pk),
        case_form(
            resolution=Case.Resolution.RESOLVED,
            closed_on=(REPORTED - datetime.timedelta(days=1)).isoformat(),
        ),
    )
    assert response.status_code == 200
    assert "closed_on" in response.context["form"].errors


def test_cases_filter_by_type_and_resolution(officer_arjowilangun, world):
    scam = a_case(world, case_type=Case.Type.JOB_SCAM)
    a_case(world, case_type=Case.Type.DEATH)
    closed_scam = a_case(
        world,
        case_type=Case.Type.JOB_SCAM,
        resolution=Case.Resolution.RESOLVED,
        closed_on=REPORTED,
    )

    def listed(**params) -> set[int]:
        response = officer_arjowilangun.get(url("case-list"), params)
        return {row.pk for row in response.context["page"].object_list}

    assert listed(case_type="job_scam") == {scam.pk, closed_scam.pk}
    assert listed(case_type="job_scam", resolution="resolved") == {closed_scam.pk}
    assert len(listed(resolution="open")) == 2


def test_deleting_a_case_keeps_the_row_and_the_trail(officer_arjowilangun, world, case):
    response = officer_arjowilangun.post(url("case-delete", case.pk), {"reason": "dobel"})

    assert response.status_code == 302
    kept = Case.objects.get(pk=case.pk)
    assert (kept.deleted_at is not None, kept.deleted_by) == (True, world["officer_arjowilangun"])
    entry = AuditEntry.objects.get(model="case", action=AuditEntry.Action.DELETED)
    assert (entry.object_id, entry.note) == (str(case.pk), "dobel")
    assert officer_arjowilangun.get(url("case-detail", case.pk)).status_code == 404
    assert officer_arjowilangun.post(url("case-step-add", case.pk), step_form()).status_code == 404


# --- Handling steps -----------------------------------------------------------------------------


def test_steps_are_added_by_the_user_audited_and_shown_in_order(officer_arjowilangun, world, case):
    for day, action in ((5, "Kirim surat ke P3MI"), (1, "Terima pengaduan"), (9, "Mediasi")):
        date = (REPORTED + datetime.timedelta(days=day)).isoformat()
        response = officer_arjowilangun.post(
            url("case-step-add", case.pk), step_form(date=date, action=action)
        )
        assert response.status_code == 302

    steps = CaseStep.objects.filter(case=case)
    assert {step.by for step in steps} == {world["officer_arjowilangun"]}
    assert (
        AuditEntry.objects.filter(
            model="casestep", village_id=ARJOWILANGUN, action=AuditEntry.Action.CREATED
        ).count()
        == 3
    )
    page = officer_arjowilangun.get(url("case-detail", case.pk))
    assert [step.action for step in page.context["steps"]] == [
        "Terima pengaduan",
        "Kirim surat ke P3MI",
        "Mediasi",
    ]
    content = page.content.decode()
    assert (
        content.index("Terima pengaduan") < content.index("Kirim surat") < content.index("Mediasi")
    )


def test_a_step_needs_what_was_done(officer_arjowilangun, case):
    response = officer_arjowilangun.post(url("case-step-add", case.pk), step_form(action=""))
    assert response.status_code == 200
    assert "action" in response.context["form"].errors
    assert not CaseStep.objects.exists()


def test_a_step_cannot_come_before_the_case(officer_arjowilangun, case):
    before = (REPORTED - datetime.timedelta(days=1)).isoformat()
    response = officer_arjowilangun.post(url("case-step-add", case.pk), step_form(date=before))
    assert response.status_code == 200
    assert "date" in response.context["form"].errors
    assert not CaseStep.objects.exists()


def test_the_step_form_page_opens_for_a_handler(officer_arjowilangun, case):
    assert officer_arjowilangun.get(url("case-step-add", case.pk)).status_code == 200


def test_the_step_service_checks_the_scope(world, case):
    with pytest.raises(PermissionDenied):
        add_case_step(actor=world["officer_kenanga"], case=case, date=REPORTED, action="x")
    with pytest.raises(ValidationError):
        add_case_step(actor=world["officer_arjowilangun"], case=case, date=REPORTED, action="")
    assert not CaseStep.objects.exists()


# --- Query counts -----------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["officer_arjowilangun", "coordinator_malang"])
def test_the_case_list_costs_the_same_queries_for_many_rows(
    request, world, persona, django_assert_max_num_queries
):
    client = request.getfixturevalue(persona)
    a_case(world, country="HK")
    with django_assert_max_num_queries(12) as few:
        assert client.get(url("case-list")).status_code == 200
    for _n in range(15):
        a_case(world, country="TW", person=register(actor=world["officer_arjowilangun"]))
    a_case(world, village=BRONGKAL, actor="officer_brongkal")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url("case-list"))
    assert len(response.context["rows"]) >= 16


def test_the_case_page_costs_the_same_queries_for_many_steps(
    officer_arjowilangun, world, case, django_assert_max_num_queries
):
    add_case_step(actor=world["officer_arjowilangun"], case=case, date=REPORTED, action="a")
    with django_assert_max_num_queries(15) as few:
        officer_arjowilangun.get(url("case-detail", case.pk))
    for n in range(10):
        add_case_step(actor=world["officer_arjowilangun"], case=case, date=REPORTED, action=f"{n}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = officer_arjowilangun.get(url("case-detail", case.pk))
    assert len(response.context["steps"]) == 11
