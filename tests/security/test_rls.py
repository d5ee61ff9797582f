"""Row-level security, the second wall (desmigratif.rls, migrants.0007, pillars.0006).

On PostgreSQL the people, their migrations and history, the cases and their handling steps and
the enrolled children are kept to the scope written into the database session, whatever SQL
the application runs. These tests act as the application's database role (neither superuser
nor the tables' owner, as in production) and run raw SQL, past the application's own scoping,
the first wall. SQLite runs without the second wall, so they are PostgreSQL's only.
"""

import datetime
import json
import uuid
from collections.abc import Iterator

import pytest
from celery import shared_task
from celery import signals as celery_signals
from django.core.signals import request_finished
from django.db import DatabaseError, close_old_connections, connection, transaction
from django.http import JsonResponse, StreamingHttpResponse
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from psycopg.errors import InsufficientPrivilege

from desmigratif import rls
from desmigratif.bulk import insert_rows
from migrants.models import Person
from pillars import services as pillar_services
from pillars.models import Case, ChildEnrolment, ParentingGroup, PillarKind
from pillars.views.service import add_case_step
from tests.migrants.factories import (
    ARJOWILANGUN,
    BRONGKAL,
    KENANGA,
    SUMBERPETUNG,
    a_nik,
    child_birth_date,
    depart,
    person_form,
    register,
)

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="row-level security is PostgreSQL's; SQLite runs without the second wall",
)

MALANG = {ARJOWILANGUN, SUMBERPETUNG, BRONGKAL}
EVERYWHERE = MALANG | {KENANGA}
OFFICERS = {
    ARJOWILANGUN: "officer_arjowilangun",
    BRONGKAL: "officer_brongkal",
    KENANGA: "officer_kenanga",
    SUMBERPETUNG: "coordinator_malang",
}

# The village of every row of each walled table, read as superuser (past the policies).
ROW_VILLAGES = {
    "migrants_person": "SELECT id::text, village_id FROM migrants_person",
    "migrants_episode": "SELECT e.id::text, p.village_id FROM migrants_episode e "
    "JOIN migrants_person p ON p.id = e.person_id",
    "migrants_personhistory": "SELECT h.id::text, p.village_id FROM migrants_personhistory h "
    "JOIN migrants_person p ON p.id = h.person_id",
    "pillars_case": "SELECT id::text, village_id FROM pillars_case",
    "pillars_casestep": "SELECT s.id::text, c.village_id FROM pillars_casestep s "
    "JOIN pillars_case c ON c.id = s.case_id",
    "pillars_childenrolment": "SELECT id::text, village_id FROM pillars_childenrolment",
}


def raw(sql: str, params=None) -> list:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def raw_niks() -> set[str]:
    return set(raw("SELECT nik FROM migrants_person WHERE nik IS NOT NULL"))


def niks_view(request):
    """A careless view: raw SQL, no scoping of its own."""
    return JsonResponse({"niks": sorted(raw_niks())})


def through_middleware(user, view=niks_view):
    """The view run as in a request of `user`, through the row-level security middleware."""
    request = RequestFactory().get("/")
    request.user = user
    return rls.RowLevelSecurityMiddleware(view)(request)


def niks_seen_by(user) -> set[str]:
    return set(json.loads(through_middleware(user).content)["niks"])


@shared_task(name="tests.security.test_rls.visible_niks")
def visible_niks() -> list[str]:
    return sorted(raw_niks())


# --- The world: people, migrations, history, cases, steps and children in four villages --------


def a_case(actor, village: str) -> Case:
    case = Case(
        village_id=village,
        case_type=Case.Type.TRAFFICKING,
        channel=Case.Channel.WALK_IN,
        reported_on=datetime.date(2025, 2, 3),
        summary="Dijanjikan kerja di pabrik",
    )
    pillar_services.record_create(actor=actor, instance=case, kind=PillarKind.SERVICE_CENTRE)
    add_case_step(actor=actor, case=case, date=datetime.date(2025, 2, 4), action="Lapor")
    return case


def an_enrolled_child(actor, village: str) -> ChildEnrolment:
    group = ParentingGroup(village_id=village, name="Rumah Belajar", facilitators="Bu Sri")
    pillar_services.record_create(actor=actor, instance=group, kind=PillarKind.PARENTING)
    child = register(actor=actor, village=village, birth_date=child_birth_date())
    enrolment = ChildEnrolment(
        village_id=village, group=group, child=child, enrolled_on=datetime.date(2025, 1, 6)
    )
    pillar_services.record_create(actor=actor, instance=enrolment, kind=PillarKind.PARENTING)
    return enrolment


@pytest.fixture
def niks(world) -> dict[str, set[str]]:
    """The NIKs of each village's people (and every walled table filled in every village)."""
    by_village: dict[str, set[str]] = {}
    for village, username in OFFICERS.items():
        actor = world[username]
        people = [register(actor=actor, village=village) for _ in range(2)]
        depart(people[0], actor=actor)
        a_case(actor, village)
        people.append(an_enrolled_child(actor, village).child)
        by_village[village] = {person.nik for person in people}
    return by_village


def niks_of(niks: dict[str, set[str]], villages) -> set[str]:
    return set().union(*(niks[village] for village in villages))


@pytest.fixture
def row_villages(niks) -> dict[str, dict[str, str]]:
    """{table: {row id: village}}, read before the connection becomes the application's."""
    villages = {}
    for table, sql in ROW_VILLAGES.items():
        with connection.cursor() as cursor:
            cursor.execute(sql)
            villages[table] = dict(cursor.fetchall())
    return villages


def superuser() -> bool:
    return raw("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")[0]


@pytest.fixture
def app_role(niks, row_villages) -> Iterator[str]:
    """From here to the end of the test the connection acts as an application role: not a
    superuser, not the tables' owner. The test's transaction takes the role away again."""
    if not superuser():
        # The whole suite runs as one (tests/security/rls_app_role.py), national outside
        # requests; these tests start from no scope at all, as a production process does.
        rls.set_process_scope(rls.NO_ACCESS)
        yield raw("SELECT current_user")[0]
        rls.set_process_scope(rls.NATIONAL)
        return
    role = f"desmigratif_app_test_{uuid.uuid4().hex[:12]}"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {role} NOLOGIN")
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
        cursor.execute(
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}"
        )
        cursor.execute(f"SET ROLE {role}")
    yield role


# --- Reading ------------------------------------------------------------------------------------


def test_raw_sql_in_an_officers_request_sees_only_their_village(world, niks, app_role):
    assert niks_seen_by(world["officer_arjowilangun"]) == niks[ARJOWILANGUN]
    assert niks_seen_by(world["officer_kenanga"]) == niks[KENANGA]


def test_raw_sql_in_a_coordinators_request_sees_their_regency(world, niks, app_role):
    assert niks_seen_by(world["coordinator_malang"]) == niks_of(niks, MALANG)
    assert niks_seen_by(world["coordinator_indramayu"]) == niks[KENANGA]


@pytest.mark.parametrize("username", ["admin", "evaluator"])
def test_raw_sql_in_a_national_request_sees_the_whole_country(world, niks, app_role, username):
    assert niks_seen_by(world[username]) == niks_of(niks, EVERYWHERE)


def test_the_province_sees_its_province(world, niks, app_role):
    assert niks_seen_by(world["province_jatim"]) == niks_of(niks, MALANG)


def test_without_a_scope_the_application_role_sees_nothing(world, niks, app_role):
    from django.contrib.auth.models import AnonymousUser

    assert raw_niks() == set()  # nothing set on the session
    assert niks_seen_by(AnonymousUser()) == set()
    assert niks_seen_by(world["deactivated_officer"]) == set()
    raw("SELECT set_config(%s, '', false)", [rls.SETTING])
    assert raw_niks() == set()


@pytest.mark.parametrize("table", ROW_VILLAGES)
@pytest.mark.parametrize(
    ("username", "villages"),
    [
        ("officer_arjowilangun", {ARJOWILANGUN}),
        ("coordinator_malang", MALANG),
        ("admin", EVERYWHERE),
    ],
)
def test_every_personal_table_is_kept_to_the_scope(
    world, row_villages, app_role, table, username, villages
):
    def ids_view(request):
        return JsonResponse({"ids": raw(f"SELECT id::text FROM {table}")})  # noqa: S608

    seen = json.loads(through_middleware(world[username], ids_view).content)["ids"]

    expected = {pk for pk, village in row_villages[table].items() if village in villages}
    assert expected, "the world has rows of this table in the scope"
    assert sorted(seen) == sorted(expected)


# --- Writing ------------------------------------------------------------------------------------


def test_writes_reach_only_the_rows_of_the_scope(world, niks, app_role):
    with rls.acting_for(world["officer_arjowilangun"]), connection.cursor() as cursor:
        cursor.execute("UPDATE migrants_person SET phone = '0812'")
        assert cursor.rowcount == len(niks[ARJOWILANGUN])
        cursor.execute("UPDATE pillars_case SET summary = 'diubah'")
        assert cursor.rowcount == 1
    assert set(Person.objects.filter(phone="0812").values_list("nik", flat=True)) == set()
    with rls.system_scope():
        changed = set(Person.objects.filter(phone="0812").values_list("nik", flat=True))
    assert changed == niks[ARJOWILANGUN]


@pytest.mark.parametrize(
    "sql",
    [
        # Moving one's own person to a village outside the scope.
        "UPDATE migrants_person SET village_id = '32.12.16.2004' WHERE village_id = %s",
        # A case recorded for another village.
        "INSERT INTO pillars_case (village_id, pillar_id, created_at, updated_at, case_type, "
        "channel, country, procedural_status, reported_on, summary, resolution) "
        "SELECT '32.12.16.2004', pillar_id, now(), now(), case_type, channel, country, "
        "procedural_status, reported_on, summary, resolution FROM pillars_case "
        "WHERE village_id = %s",
    ],
)
def test_rows_cannot_be_written_outside_the_scope(world, niks, app_role, sql):
    with (
        rls.acting_for(world["officer_arjowilangun"]),
        pytest.raises(DatabaseError, match="row-level security"),
        transaction.atomic(),
    ):
        raw_execute(sql, [ARJOWILANGUN])


def raw_execute(sql: str, params) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def person_row(village: str) -> dict:
    now = timezone.now()
    return {
        "id": uuid.uuid4(),
        "nik": a_nik(village=village),
        "full_name": "Warga Salinan",
        "name_key": "warga salinan",
        "sex": "P",
        "birth_date": datetime.date(1990, 1, 2),
        "village_id": village,
        "created_at": now,
        "updated_at": now,
    }


def test_a_bulk_copy_goes_through_the_policy(world, niks, app_role):
    """PostgreSQL refuses COPY into a table under row-level security: desmigratif.bulk
    stages the rows and inserts them, so the import still runs, inside the scope."""
    mine = [person_row(ARJOWILANGUN) for _ in range(3)]
    with rls.acting_for(world["officer_arjowilangun"]):
        insert_rows(Person, iter(mine), count=len(mine), copy_threshold=0)
        assert raw_niks() == niks[ARJOWILANGUN] | {row["nik"] for row in mine}
        with pytest.raises(InsufficientPrivilege, match="row-level security"), transaction.atomic():
            insert_rows(Person, iter([person_row(KENANGA)]), count=1, copy_threshold=0)


# --- The scope's lifetime -----------------------------------------------------------------------


def test_the_scope_ends_with_the_request(world, niks, app_role):
    """A persistent connection serves the next request: each sets its own scope, and nothing is
    left on the session in between."""
    assert niks_seen_by(world["coordinator_malang"]) == niks_of(niks, MALANG)
    assert raw_niks() == set()
    assert niks_seen_by(world["officer_brongkal"]) == niks[BRONGKAL]
    assert raw_niks() == set()


def streaming_view(request):
    """A streamed export: its rows are read after the view has returned."""
    return StreamingHttpResponse(f"{nik}\n" for nik in sorted(raw_niks()))


def test_a_streamed_body_is_read_in_the_scope_of_its_request(world, niks, app_role):
    response = through_middleware(world["officer_arjowilangun"], streaming_view)
    body = b"".join(response.streaming_content).decode()

    assert set(body.split()) == niks[ARJOWILANGUN]
    assert raw_niks() == set()


def test_a_streamed_body_left_unread_ends_the_scope_when_the_response_is_closed(
    world, niks, app_role
):
    response = through_middleware(world["officer_arjowilangun"], streaming_view)
    assert raw_niks() == niks[ARJOWILANGUN]  # the body is still to be sent

    # The client went away: the server closes the response unread (keeping the test's
    # connection open, as Django's test client does).
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)

    assert raw_niks() == set()


def test_an_api_token_request_works_in_the_token_owners_scope(world, niks, app_role):
    """The middleware runs before the API reads the token, so it sees an anonymous request;
    the token's authentication gives the request its owner's scope."""
    from django.contrib.auth.models import AnonymousUser
    from knox.models import AuthToken
    from rest_framework.response import Response
    from rest_framework.views import APIView

    class CarelessApiView(APIView):
        def get(self, request):
            return Response({"niks": sorted(raw_niks())})

    _token, secret = AuthToken.objects.create(user=world["officer_arjowilangun"])
    request = RequestFactory().get("/", HTTP_AUTHORIZATION=f"Token {secret}")
    request.user = AnonymousUser()
    response = rls.RowLevelSecurityMiddleware(CarelessApiView.as_view())(request)
    response.render()

    assert set(json.loads(response.content)["niks"]) == niks[ARJOWILANGUN]
    assert raw_niks() == set()


def test_the_system_scope_is_lifted_for_the_block_only(world, niks, app_role):
    with rls.acting_for(world["officer_arjowilangun"]):
        with rls.system_scope():
            assert raw_niks() == niks_of(niks, EVERYWHERE)
        assert raw_niks() == niks[ARJOWILANGUN]
    assert raw_niks() == set()


def test_a_superuser_connection_passes_the_policies(world, niks):
    """Development and the test suite connect as a superuser, which row-level security does
    not bind: the first wall alone decides there."""
    if not superuser():
        pytest.skip("the suite runs as the application role (rls_app_role)")
    with rls.acting_for(world["officer_arjowilangun"]):
        assert raw_niks() == niks_of(niks, EVERYWHERE)


# --- The application itself, as the application role -------------------------------------------


def test_a_nik_registered_elsewhere_is_still_refused_with_the_leak_free_message(
    officer_kenanga, world, niks, app_role
):
    """The NIK is unique in the whole country: the check looks past the wall (system_scope),
    the answer does not say where."""
    [elsewhere, *_] = sorted(niks[ARJOWILANGUN])

    response = officer_kenanga.post(
        reverse("migrants:create"), person_form(village=KENANGA, nik=elsewhere, full_name="X")
    )

    assert response.status_code == 200
    assert response.context["form"].errors["nik"]
    assert "Arjowilangun" not in response.content.decode()


def test_the_register_list_works_as_the_application_role(officer_arjowilangun, niks, app_role):
    response = officer_arjowilangun.get(reverse("migrants:register"))

    assert response.status_code == 200
    shown = {person.nik for person in response.context["page"].object_list}
    assert shown
    assert shown <= niks[ARJOWILANGUN]


# --- Tasks --------------------------------------------------------------------------------------


def test_a_task_for_the_user_runs_in_the_scope_of_the_request_that_sent_it(
    world, niks, app_role, monkeypatch
):
    monkeypatch.setattr(rls, "USER_TASKS", rls.USER_TASKS | {visible_niks.name})

    def view(request):
        return JsonResponse({"niks": visible_niks.delay().get()})

    seen = json.loads(through_middleware(world["officer_arjowilangun"], view).content)["niks"]

    assert set(seen) == niks[ARJOWILANGUN]


def test_a_system_task_counts_the_whole_country_whoever_asked(world, niks, app_role):
    """A dashboard refresh a village officer asked for must not shrink the country's figures."""

    def view(request):
        return JsonResponse({"niks": visible_niks.delay().get()})

    seen = json.loads(through_middleware(world["officer_arjowilangun"], view).content)["niks"]

    assert set(seen) == niks_of(niks, EVERYWHERE)


def test_a_task_for_the_user_carries_the_scope_to_the_worker(world, niks, app_role, monkeypatch):
    monkeypatch.setattr(rls, "USER_TASKS", rls.USER_TASKS | {visible_niks.name})
    headers: dict = {}

    def send(request):
        celery_signals.before_task_publish.send(sender=visible_niks.name, headers=headers)
        return JsonResponse({})

    through_middleware(world["coordinator_malang"], send)
    assert headers == {rls.TASK_HEADER: "35.07"}

    # The worker runs it in that scope (apply() delivers the headers as a worker would).
    assert set(visible_niks.apply(headers=headers).get()) == niks_of(niks, MALANG)
    assert raw_niks() == set()


def test_a_system_task_sends_no_scope(world):
    headers: dict = {}
    with rls.acting_for(world["officer_arjowilangun"]):
        celery_signals.before_task_publish.send(
            sender="dashboards.tasks.refresh_summaries", headers=headers
        )
    assert headers == {}
