"""The access matrix (issue 7, item 3): every URL pattern of the project x every persona x an
object inside and outside the persona's scope x GET and POST.

Each answer must be the one tests/security/matrix/table.py gives, and no answer, whatever its
status, may show a NIK, a No. KK (full or masked) or the name of someone the persona may not
see. The world is built once for the module (tests/security/matrix/world.py) and every request
runs in a savepoint that is rolled back, so each sees the same world.
"""

import datetime

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.security.matrix import leaks
from tests.security.matrix.runner import expected, judge, send
from tests.security.matrix.table import full_table
from tests.security.matrix.world import (
    KENANGA,
    NATIONAL,
    PERSONAS,
    SCOPES,
    World,
    build_world,
)

TABLE = full_table()
FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Pages that show a full NIK or No. KK of someone the persona sees: the reveal (on an explicit,
# logged request), the subject-access report, and an import's file as it was sent (the numbers
# the importer typed). Everywhere else numbers are masked.
FULL_NUMBERS_SHOWN = {
    "migrants:reveal",
    "privacy:subject-access",
    "migrants:import-original",
}


def patterns(resolver=None, prefix: str = "", namespace: str = ""):
    """(key, route) of every URL pattern, through includes, with namespaces."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from patterns(pattern, route, inner)
        elif isinstance(pattern, URLPattern):
            if pattern.name:
                yield (f"{namespace}:{pattern.name}" if namespace else pattern.name), route
            else:
                yield f"route:{route}", route


@pytest.fixture(scope="module")
def matrix_world(django_db_setup, django_db_blocker, tmp_path_factory):
    """The world, built once in a transaction that is rolled back after the module."""
    from desmigratif.celery import app

    media = tmp_path_factory.mktemp("matrix-media")
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    with (
        django_db_blocker.unblock(),
        override_settings(MEDIA_ROOT=str(media), PASSWORD_HASHERS=FAST_HASHER, MFA_REQUIRED=False),
    ):
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield build_world()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            app.conf.task_always_eager = eager
            cache.clear()


@pytest.fixture
def world(matrix_world, db) -> World:
    cache.clear()  # the API's throttle and allauth's rate limits count in the cache
    return matrix_world


# Someone served by Arjowilangun's pillars who then moved to Kenanga (services.person_transfer):
# the village's records stay, and no page names the person to the old village any more.
MOVED_AWAY = "Pindah Arjomatrix"


# --- The table covers every URL ----------------------------------------------------------------


def test_every_url_pattern_has_a_row_in_the_matrix():
    keys = {key for key, _route in patterns()}
    missing = sorted(keys - set(TABLE))
    assert not missing, f"URL patterns missing from the access matrix: {missing}"
    stale = sorted(set(TABLE) - keys)
    assert not stale, f"rows of the access matrix without a URL pattern: {stale}"


# --- Every URL x persona x inside/outside x GET/POST ------------------------------------------


@pytest.mark.parametrize("key", sorted(TABLE))
def test_the_url_answers_each_persona_as_the_matrix_says_and_leaks_nothing(world, key):
    entry = TABLE[key]
    banned = {persona: leaks.forbidden(world, persona) for persona in PERSONAS}
    problems = []
    for persona in PERSONAS:
        for method in ("GET", "POST"):
            for where in ("inside", "outside") if entry.scoped_for(method) else ("inside",):
                try:
                    answer = send(world, persona, key, entry, method, where)
                except Exception as exc:
                    problems.append(f"{persona} {method} {where}: raised {exc!r}")
                    continue
                wrong = judge(entry, expected(entry, persona, method, where), answer)
                if wrong:
                    problems.append(f"{persona} {method} {where} {answer.url}: {wrong}")
                shown = leaks.leaked(answer.text, banned[persona], answer.asked)
                if shown:
                    problems.append(
                        f"LEAK {persona} {method} {where} {answer.url}: shows {sorted(shown)}"
                    )
                if key not in FULL_NUMBERS_SHOWN:
                    full = leaks.full_numbers(world, persona) & leaks.shown(answer.text)
                    full -= {n for n in full if n in answer.asked}
                    if full:
                        problems.append(
                            f"FULL NUMBER {persona} {method} {where} {answer.url}: "
                            f"shows {sorted(full)} without a reveal"
                        )
    assert not problems, "\n".join(problems)


# --- What the lists, searches, files and figures show -----------------------------------------

SIGNED_IN_PERSONAS = [p for p in PERSONAS if p not in ("anonymous", "deactivated_officer")]
VILLAGE_WORKERS = [p for p in SIGNED_IN_PERSONAS if p not in ("province_jatim", "evaluator")]


def as_persona(world: World, persona: str) -> Client:
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[persona]
    return client


def with_token(world: World, persona: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Token {world.tokens[persona]}")


def first_of(side: str) -> str:
    return {"A": "Sumirah Arjomatrix", "K": "Sumirah Kenamatrix"}[side]


def home(persona: str) -> str:
    return "K" if (SCOPES[persona] or "").startswith("32") else "A"


def away(persona: str) -> str:
    return "A" if home(persona) == "K" else "K"


def assert_shows_no_one_it_should_not(world: World, persona: str, text: str, asked: str = ""):
    assert not leaks.leaked(text, leaks.forbidden(world, persona), asked)
    assert not (leaks.full_numbers(world, persona) & leaks.shown(text) - {asked})


def test_the_world_is_as_the_matrix_needs_it(matrix_world):
    from reports.models import ReportJob

    assert {job.state for job in matrix_world.jobs.values()} == {ReportJob.State.DONE}
    assert all(job.file for job in matrix_world.jobs.values())


def test_the_leak_check_sees_what_it_looks_for(world):
    """The search of the responses finds names and masked NIKs where they are (a check that
    finds nothing because it looks wrong would pass every test above)."""
    response = as_persona(world, "officer_arjowilangun").get(reverse("migrants:register"))
    text = leaks.body_text(response)
    first = world.seeded(first_of("A"))
    from migrants.nik import mask

    assert {first.name.lower(), mask(first.nik)} <= leaks.shown(text)
    assert leaks.leaked(text, leaks.forbidden(world, "officer_kenanga"))
    assert not leaks.leaked(text, leaks.forbidden(world, "officer_arjowilangun"))


@pytest.mark.parametrize("persona", SIGNED_IN_PERSONAS)
def test_a_search_for_someone_outside_the_scope_finds_nothing(world, persona):
    client = as_persona(world, persona)
    outside = [world.seeded(first_of(away(persona)))] if persona not in NATIONAL else []
    if persona in ("province_jatim", "evaluator"):
        outside.append(world.seeded("Anak Arjomatrix"))  # a child: not for their eyes
    for person in outside:
        for query in (person.nik, person.name):
            response = client.get(reverse("migrants:register"), {"q": query})
            assert response.status_code == 200
            assert response.context["page"].object_list == []
            assert_shows_no_one_it_should_not(
                world, persona, leaks.body_text(response), asked=query
            )
    inside = world.seeded(first_of(home(persona)))
    response = client.get(reverse("migrants:register"), {"q": inside.nik})
    assert [p.full_name for p in response.context["page"].object_list] == [inside.name]


@pytest.mark.parametrize("persona", ["officer_arjowilangun", "coordinator_malang"])
def test_registering_a_nik_held_outside_the_scope_says_nothing_of_its_holder(world, persona):
    from migrants.models import Person

    holder = world.seeded(first_of("K"))
    response = as_persona(world, persona).post(
        reverse("migrants:create"),
        {
            "village": world.sides["A"].village,
            "nik": holder.nik,
            "full_name": "Baru Arjomatrix",
            "sex": "P",
            "birth_date": "1991-04-09",
        },
    )
    assert response.status_code == 200
    assert "nik" in response.context["form"].errors
    assert not Person.objects.filter(full_name="Baru Arjomatrix").exists()
    text = leaks.body_text(response).lower()
    from migrants.nik import mask

    for shown in (holder.name, holder.kk, mask(holder.kk), "kenanga", "indramayu"):
        assert shown.lower() not in text


def test_importing_a_nik_held_outside_the_scope_says_nothing_of_its_holder(world, settings):
    from migrants.importer import import_upload, validate_batch
    from migrants.nik import mask
    from tests.migrants.files import row, xlsx_bytes

    holder = world.seeded(first_of("K"))
    officer = world.user("officer_arjowilangun")
    data = xlsx_bytes([row(NIK=holder.nik, Nama_Lengkap="Baru Arjomatrix", Kode_Desa=KENANGA)])
    data = xlsx_bytes(
        [row(NIK=holder.nik, Nama_Lengkap="Baru Arjomatrix", Kode_Desa="35.07.11.2008")]
    )
    batch = import_upload(actor=officer, data=data, filename="dup.xlsx")
    validate_batch(batch_id=str(batch.pk))
    client = as_persona(world, "officer_arjowilangun")
    pages = [
        client.get(reverse("migrants:import-batch", args=[batch.pk]), {"rows": kind})
        for kind in ("error", "warning", "new", "updated", "unchanged")
    ]
    pages.append(client.get(reverse("migrants:import-errors", args=[batch.pk])))
    assert any("nik" in leaks.body_text(page).lower() for page in pages)
    for page in pages:
        assert page.status_code == 200
        text = leaks.body_text(page).lower()
        for shown in (holder.name, holder.kk, mask(holder.kk), "kenanga", "indramayu"):
            assert shown.lower() not in text


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
@pytest.mark.parametrize("persona", SIGNED_IN_PERSONAS)
def test_the_register_export_holds_the_personas_people_only(world, persona, fmt):
    response = as_persona(world, persona).post(reverse("migrants:export"), {"format": fmt})
    assert response.status_code == 200
    text = leaks.body_text(response)
    assert_shows_no_one_it_should_not(world, persona, text)
    assert world.seeded(first_of(home(persona))).name.lower() in leaks.shown(text)


@pytest.mark.parametrize("persona", VILLAGE_WORKERS)
def test_an_export_with_full_numbers_has_only_those_of_the_personas_people(world, persona):
    response = as_persona(world, persona).post(
        reverse("migrants:export"),
        {"format": "csv", "full_nik": "on", "reason": "Matrix: the numbers a check needs"},
    )
    assert response.status_code == 200
    numbers = {n for n in leaks.shown(leaks.body_text(response)) if n.isdigit()}
    assert numbers
    assert numbers <= leaks.full_numbers(world, persona)


def _covers(persona: str, scope: str | None) -> bool:
    mine = SCOPES[persona]
    if mine is None:
        return True
    return bool(scope) and (scope == mine or scope.startswith(mine + "."))


@pytest.mark.parametrize("persona", SIGNED_IN_PERSONAS)
def test_report_files_reach_only_those_whose_scope_covers_them(world, persona):
    """A register report was built for two villages, two regencies, a province and the
    country; each persona downloads (site and API) exactly those of its area."""
    site, api = as_persona(world, persona), with_token(world, persona)
    for job in world.jobs.values():
        answers = [
            site.get(reverse("reports:download", args=[job.pk])),
            api.get(reverse("api:report-download", args=[job.pk])),
            api.get(reverse("api:report-detail", args=[job.pk])),
        ]
        for answer in answers:
            if _covers(persona, job.scope_id):
                assert answer.status_code == 200, (job.scope_id, answer.status_code)
                assert_shows_no_one_it_should_not(world, persona, leaks.body_text(answer))
            else:
                assert answer.status_code == 404, (job.scope_id, answer.status_code)
    listed = api.get(reverse("api:report-list")).json()["results"]
    assert {job["id"] for job in listed} == {
        str(job.pk) for job in world.jobs.values() if _covers(persona, job.scope_id)
    }
    own = world.jobs["A" if home(persona) == "A" else "K"]
    if _covers(persona, own.scope_id):
        text = leaks.body_text(site.get(reverse("reports:download", args=[own.pk])))
        assert world.seeded(first_of(home(persona))).name.lower() in leaks.shown(text)


@pytest.mark.parametrize("persona", SIGNED_IN_PERSONAS)
def test_dashboards_and_their_figures_name_no_one(world, persona):
    """Figures only: no name or number of anyone, even inside the scope, in a dashboard page,
    any of its charts' CSV or xlsx, or the API's indicators."""
    from dashboards import charts as chart_layout
    from dashboards.indicators import dashboard

    code = SCOPES[persona]
    client = as_persona(world, persona)
    slugs = list(chart_layout.build(dashboard(world.user(persona), code)).items)
    assert slugs
    answers = [
        client.get(reverse("dashboards:region", args=[code]) if code else "/dasbor/"),
        with_token(world, persona).get(reverse("api:indicators"), {"region": code or ""}),
    ]
    for slug in slugs:
        for fmt in ("csv", "xlsx"):
            answers.append(
                client.get(
                    reverse("dashboards:data", kwargs={"chart": slug, "fmt": fmt}),
                    {"region": code or ""},
                )
            )
    for answer in answers:
        assert answer.status_code == 200
        assert not leaks.shown(leaks.body_text(answer)), answer


@pytest.mark.parametrize("persona", SIGNED_IN_PERSONAS)
def test_a_childs_record_opens_only_for_those_who_work_with_children(world, persona):
    child = world.sides[home(persona)].child_person
    response = as_persona(world, persona).get(reverse("migrants:detail", args=[child]))
    assert response.status_code == (200 if persona in VILLAGE_WORKERS else 404)


def test_the_api_lists_only_the_villages_of_the_scope(world):
    for persona in SIGNED_IN_PERSONAS:
        listed = with_token(world, persona).get(reverse("api:village-list")).json()["results"]
        codes = {village["code"] for village in listed}
        assert codes, persona
        assert all(_covers(persona, code) for code in codes), persona


# --- A coordinator without two-factor authentication ------------------------------------------

# What a user who must set up MFA may still open (the issue: "before anything else").
MFA_OPEN = {
    "mfa_index",
    "mfa_activate_totp",
    "mfa_view_recovery_codes",
    "mfa_generate_recovery_codes",
    "mfa_download_recovery_codes",
    "mfa_reauthenticate",
    "account_reauthenticate",
    "account_logout",
    "set_language",
    "health",
}


def test_a_coordinator_without_mfa_reaches_nothing_but_its_set_up(world, settings):
    from tests.security.matrix.runner import send
    from tests.security.matrix.table import API
    from tests.security.matrix.world import NO_MFA

    settings.MFA_REQUIRED = True
    set_up = reverse("mfa_activate_totp")
    problems = []
    for key, entry in TABLE.items():
        for method in ("GET", "POST"):
            answer = send(world, NO_MFA, key, entry, method, "inside")
            if answer.status >= 500:
                problems.append(f"{method} {answer.url}: {answer.status}")
            elif key in MFA_OPEN:
                if answer.location.startswith(set_up):
                    problems.append(f"{method} {answer.url}: sent to the set-up, yet open")
            elif entry.login == API or answer.url.startswith("/api/"):
                if answer.status != 403:
                    problems.append(f"{method} {answer.url}: {answer.status}, expected 403")
            elif answer.status != 302 or not answer.location.startswith(set_up):
                problems.append(
                    f"{method} {answer.url}: {answer.status} {answer.location!r}, "
                    "expected the MFA set-up"
                )
    assert not problems, "\n".join(problems)


def test_records_of_someone_who_moved_away_no_longer_name_them(world):
    """Arjowilangun served someone who then moved to Kenanga: Arjowilangun's records stay, but
    no page may name that person to Arjowilangun's officer, head, coordinator or province."""
    from migrants.models import Person
    from pillars.models import Case, CooperativeMember, Enterprise, Referral, ServiceLog, Training

    moved = Person.objects.get(full_name=MOVED_AWAY)
    pages = [
        reverse(f"pillars:{register}-list")
        for register in ("service", "case", "enterprise", "referral", "training", "member")
    ]
    pages += [
        reverse(f"pillars:{register}-create") + "?village=35.07.11.2008"
        for register in ("service", "case", "referral")
    ]
    staff_pages = []
    for model, register, field in (
        (ServiceLog, "service", "person"),
        (Case, "case", "person"),
        (Enterprise, "enterprise", "owner"),
        (Referral, "referral", "person"),
        (CooperativeMember, "member", "person"),
    ):
        record = model.objects.get(**{field: moved})
        pages += [
            reverse(f"pillars:{register}-{view}", args=[record.pk]) for view in ("detail", "edit")
        ]
        staff_pages.append(
            reverse(f"admin:pillars_{model._meta.model_name}_change", args=[record.pk])
        )
    training = Training.objects.get(participants=moved)
    pages += [
        reverse(f"pillars:training-{view}", args=[training.pk]) for view in ("detail", "edit")
    ]
    staff_pages.append(reverse("admin:pillars_training_change", args=[training.pk]))
    named = []
    for persona in (
        "officer_arjowilangun",
        "head_arjowilangun",
        "coordinator_malang",
        "province_jatim",
    ):
        client = as_persona(world, persona)
        for page in pages + (staff_pages if persona == "coordinator_malang" else []):
            response = client.get(page)
            if MOVED_AWAY.lower() in leaks.shown(leaks.body_text(response)):
                named.append(f"{persona} {page}")
    assert not named, "\n".join(named)


# --- Writes that name an object in their body -------------------------------------------------


def test_a_coordinator_cannot_move_someone_out_of_the_regency(world):
    from migrants.models import Person

    person = world.sides["A"].person
    response = as_persona(world, "coordinator_malang").post(
        reverse("migrants:transfer", args=[person]),
        {"to_village": KENANGA, "reason": "Matrix: moving"},
    )
    assert response.status_code == 200
    assert Person.objects.get(pk=person).village_id == world.sides["A"].village


def test_duplicates_cannot_pair_someone_inside_with_someone_outside(world):
    from migrants.models import DuplicateDismissal

    response = as_persona(world, "coordinator_malang").post(
        reverse("migrants:duplicates"),
        {"first": world.sides["A"].twin, "second": world.sides["K"].person, "action": "dismiss"},
    )
    assert response.status_code == 404
    assert not DuplicateDismissal.objects.exists()


@pytest.mark.parametrize(
    "persona", ["officer_arjowilangun", "coordinator_malang", "province_jatim"]
)
def test_no_report_can_be_asked_for_an_area_outside_the_scope(world, persona):
    from reports.models import ReportJob

    before = ReportJob.objects.count()
    month = datetime.date.today().replace(day=1) - datetime.timedelta(days=1)
    response = as_persona(world, persona).post(
        reverse("reports:request"),
        {
            "kind": "register",
            "format": "xlsx",
            "area": KENANGA,
            "period_0": f"{month:%Y-%m}",
            "period_1": f"{month:%Y-%m}",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    assert ReportJob.objects.count() == before
    api = with_token(world, persona).post(
        reverse("api:report-list"), {"kind": "register", "format": "xlsx", "region": KENANGA}
    )
    assert api.status_code == 404
    assert ReportJob.objects.count() == before
