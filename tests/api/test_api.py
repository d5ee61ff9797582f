"""The read-only API: token authentication, scope, report jobs, the schema and its docs."""

import datetime
import json
import re
import uuid

import pytest
import yaml
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts.models import User
from dashboards.summaries import refresh_summaries
from reports.api import ReportRequestThrottle
from reports.models import ReportDownload, ReportFormat, ReportJob, ReportKind
from tests.api.conftest import token_client
from tests.factories import DesignationFactory, RegionFactory
from tests.migrants.factories import BRONGKAL, KENANGA, depart, register

MALANG_VILLAGES = {"35.07.11.2003", "35.07.11.2008", "35.07.33.2004", "35.07.33.2006"}
ALL_VILLAGES = MALANG_VILLAGES | {"32.12.16.2004", "33.07.10.2004"}
LAST_MONTH = (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)


def codes(response) -> set[str]:
    return {village["code"] for village in response.json()["results"]}


@pytest.fixture
def roleless(world) -> User:
    return User.objects.create_user("roleless", "roleless@example.org", "x" * 12)


# --- Authentication ----------------------------------------------------------------------------


def test_a_token_opens_the_api(api):
    response = api("evaluator").get("/api/villages/")
    assert response.status_code == 200
    assert codes(response) == ALL_VILLAGES


def test_without_a_token_the_api_answers_401_in_json(world):
    response = APIClient().get("/api/villages/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    # Indonesian unless the user chose English.
    assert response.json() == {"detail": "Data autentikasi tidak diberikan."}


def test_english_errors_for_those_who_chose_english(world):
    client = APIClient()
    client.cookies["django_language"] = "en"
    response = client.get("/api/villages/")
    assert response.json() == {"detail": "Authentication credentials were not provided."}


def test_a_wrong_expired_or_deactivated_token_answers_401(world):
    wrong = APIClient()
    wrong.credentials(HTTP_AUTHORIZATION="Token " + "0" * 64)
    assert wrong.get("/api/villages/").status_code == 401

    expired = token_client(world["evaluator"])
    AuthToken.objects.filter(user=world["evaluator"]).update(
        expiry=timezone.now() - datetime.timedelta(minutes=1)
    )
    assert expired.get("/api/villages/").status_code == 401

    client = token_client(world["coordinator_malang"])
    User.objects.filter(username="coordinator_malang").update(is_active=False)
    assert client.get("/api/villages/").status_code == 401


def test_no_password_login_over_the_api(world):
    response = APIClient().post(
        "/api/login/", {"username": "evaluator", "password": "test-password-123"}
    )
    assert response.status_code == 404
    assert not AuthToken.objects.exists()


def test_a_user_without_a_role_is_refused_with_403(roleless):
    client = token_client(roleless)
    for url in ("/api/villages/", "/api/indicators/", "/api/reports/"):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "detail" in response.json()


def test_reads_only_for_the_data(api):
    client = api("admin")
    assert client.post("/api/villages/", {}).status_code == 405
    assert client.delete("/api/villages/35.07.11.2008/").status_code == 405
    assert client.post("/api/indicators/", {}).status_code == 405


def test_the_api_is_throttled(api, monkeypatch):
    from rest_framework.throttling import UserRateThrottle

    monkeypatch.setitem(UserRateThrottle.THROTTLE_RATES, "user", "3/hour")
    client = api("evaluator")
    statuses = [client.get("/api/villages/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


# --- Villages ------------------------------------------------------------------------------------


def test_coordinator_indramayu_sees_no_malang_village(api):
    response = api("coordinator_indramayu").get("/api/villages/")
    assert codes(response) == {"32.12.16.2004"}
    assert api("coordinator_indramayu").get("/api/villages/35.07.11.2008/").status_code == 404
    assert codes(api("coordinator_indramayu").get("/api/villages/", {"region": "35.07"})) == set()


def test_a_village_officer_sees_their_village_only(api):
    assert codes(api("officer_arjowilangun").get("/api/villages/")) == {"35.07.11.2008"}


def test_a_village_with_its_area_and_pillars(api):
    response = api("coordinator_malang").get("/api/villages/35.07.11.2008/")
    assert response.status_code == 200
    village = response.json()
    assert village["name"] == "Arjowilangun"
    assert village["district"] == {"code": "35.07.11", "name": "Kalipare"}
    assert village["regency"] == {"code": "35.07", "name": "Kab. Malang"}
    assert village["province"] == {"code": "35", "name": "Jawa Timur"}
    assert village["cohort"] == 2017
    assert village["status"] == "active"
    assert village["variant"] == "desmigratif-4-pilar"
    assert len(village["pillars"]) == 4
    assert set(village["pillars"][0]) == {"code", "name", "order", "active", "last_activity"}


def test_villages_filtered_by_cohort_and_region(api):
    client = api("evaluator")
    assert codes(client.get("/api/villages/", {"cohort": 2018})) == {
        "35.07.11.2003",
        "35.07.33.2004",
    }
    assert codes(client.get("/api/villages/", {"region": "35.07.33"})) == {
        "35.07.33.2004",
        "35.07.33.2006",
    }
    assert codes(client.get("/api/villages/", {"region": "35.07.33.2006"})) == {"35.07.33.2006"}


def test_villages_are_paginated(api):
    response = api("evaluator").get("/api/villages/", {"limit": 2, "offset": 2})
    body = response.json()
    assert body["count"] == 6
    assert len(body["results"]) == 2
    assert "offset=4" in body["next"]


@pytest.mark.parametrize(
    "params",
    [{"cohort": "soon"}, {"cohort": "1999"}, {"region": "35-07"}, {"status": "asleep"}],
)
def test_bad_village_filters_are_a_400_naming_the_field(api, params):
    response = api("evaluator").get("/api/villages/", params)
    assert response.status_code == 400
    assert set(response.json()) == set(params)


def test_the_village_list_costs_the_same_queries_whatever_the_villages(
    api, django_assert_max_num_queries
):
    client = api("evaluator")
    # 6 + 1: whether the token's owner has the MFA their role needs (issue 7).
    with django_assert_max_num_queries(7):
        small = client.get("/api/villages/")
    for number in range(12):
        DesignationFactory(village=RegionFactory(code=f"35.07.11.{3100 + number}"))
    with django_assert_max_num_queries(7):
        large = client.get("/api/villages/")
    assert large.json()["count"] == small.json()["count"] + 12


# --- Indicators ----------------------------------------------------------------------------------


@pytest.fixture
def figures(world):
    """Brongkal: one woman abroad (procedural); Kenanga: one man abroad; Arjowilangun: one
    family member. Departures last month."""
    malang, kenanga = world["coordinator_malang"], world["officer_kenanga"]
    woman = register(actor=malang, village=BRONGKAL, sex="P")
    depart(woman, actor=malang, on=LAST_MONTH, country="MY", procedural_status="procedural")
    man = register(actor=kenanga, village=KENANGA, sex="L")
    depart(man, actor=kenanga, on=LAST_MONTH, country="SA", procedural_status="procedural")
    register(actor=malang, sex="P")
    refresh_summaries()
    return world


def test_indicators_of_a_regency(api, figures):
    month = f"{LAST_MONTH:%Y-%m}"
    response = api("coordinator_malang").get(
        "/api/indicators/", {"region": "35.07", "from": month, "to": month}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["region"] == {"code": "35.07", "name": "Kab. Malang", "level": 2}
    assert [step["code"] for step in body["trail"]] == ["", "35", "35.07"]
    assert (body["from"], body["to"]) == (month, month)
    assert body["people_total"] == 2
    assert {row["key"]: row["value"] for row in body["people_by_status"] if row["value"]} == {
        "pmi": 1,
        "keluarga": 1,
    }
    assert body["procedural_share"] == 1.0
    assert body["villages"] == 4
    assert {child["code"] for child in body["children"]} == {"35.07.11", "35.07.33"}
    assert {row["code"] for row in body["matrix"]} == MALANG_VILLAGES
    assert len(body["months"]) == len(body["departures_by_month"]) == 24
    assert body["departures_by_month"][body["months"].index(month)] == 1


def test_national_indicators_for_national_users(api, figures):
    body = api("evaluator").get("/api/indicators/").json()
    assert body["region"] is None
    assert body["people_total"] == 3
    assert {row["code"] for row in body["coverage"]} == {"32", "33", "35"}


def test_indicators_outside_the_scope_are_a_404(api, figures):
    client = api("coordinator_indramayu")
    assert client.get("/api/indicators/", {"region": "35.07"}).status_code == 404
    assert client.get("/api/indicators/", {"region": "35"}).status_code == 404
    assert client.get("/api/indicators/").status_code == 404  # the country
    assert client.get("/api/indicators/", {"region": "32.12"}).status_code == 200
    assert client.get("/api/indicators/", {"region": "99.99"}).status_code == 404


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2024-13"},
        {"to": "July"},
        {"from": "2024-06", "to": "2024-01"},
        {"from": "2000-01", "to": "2024-01"},
        {"cohort": "x"},
    ],
)
def test_bad_indicator_parameters_are_a_400(api, world, params):
    response = api("evaluator").get("/api/indicators/", params)
    assert response.status_code == 400
    assert set(response.json()) <= {"from", "to", "cohort"}


def test_indicators_cost_a_fixed_number_of_queries(api, figures, django_assert_max_num_queries):
    client = api("evaluator")
    # 13 + 1: whether the token's owner has the MFA their role needs (issue 7).
    with django_assert_max_num_queries(14):
        assert client.get("/api/indicators/").status_code == 200
    with django_assert_max_num_queries(14):
        assert client.get("/api/indicators/", {"region": "35.07"}).status_code == 200


# --- Report jobs ---------------------------------------------------------------------------------


def _job(*, scope: str | None, state=ReportJob.State.DONE, file: str = "", **extra) -> ReportJob:
    month = LAST_MONTH
    return ReportJob.objects.create(
        kind=extra.pop("kind", ReportKind.REGENCY_RECAP),
        format=ReportFormat.XLSX,
        scope_id=scope,
        period_start=month,
        period_end=month,
        idempotency_key=uuid.uuid4().hex,
        state=state,
        file=file,
        finished_at=timezone.now() if state == ReportJob.State.DONE else None,
        **extra,
    )


@pytest.fixture
def built(settings, tmp_path):
    """A built Malang recap with its file, in a temporary MEDIA_ROOT."""
    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "malang.xlsx").write_bytes(b"PK fake xlsx")
    return _job(scope="35.07", file="reports/malang.xlsx", size=12)


def test_asking_for_a_report(api, world):
    month = f"{LAST_MONTH:%Y-%m}"
    response = api("coordinator_malang").post(
        "/api/reports/",
        {"kind": "regency_recap", "format": "pdf", "region": "35.07", "from": month, "to": month},
        format="json",
    )
    assert response.status_code == 202
    body = response.json()
    job = ReportJob.objects.get()
    assert body["id"] == str(job.pk)
    assert response["Location"] == body["url"]
    assert body["url"].endswith(f"/api/reports/{job.pk}/")
    assert body["state"] == "queued"
    assert body["download_url"] is None
    assert (body["from"], body["to"]) == (str(LAST_MONTH), str(job.period_end))
    assert job.requested_by == world["coordinator_malang"]
    assert (job.kind, job.format, job.scope_id) == ("regency_recap", "pdf", "35.07")


def test_asking_twice_joins_the_same_job(api, world):
    month = f"{LAST_MONTH:%Y-%m}"
    client = api("coordinator_malang")
    data = {"kind": "regency_recap", "region": "35.07", "from": month, "to": month}
    first = client.post("/api/reports/", data, format="json").json()
    second = client.post("/api/reports/", data, format="json").json()
    assert first["id"] == second["id"]
    assert ReportJob.objects.count() == 1


def test_asking_for_an_area_outside_the_scope_is_a_404(api, world):
    month = f"{LAST_MONTH:%Y-%m}"
    response = api("coordinator_indramayu").post(
        "/api/reports/",
        {"kind": "regency_recap", "region": "35.07", "from": month, "to": month},
        format="json",
    )
    assert response.status_code == 404
    national = api("coordinator_indramayu").post(
        "/api/reports/", {"kind": "national_evaluation", "from": month, "to": month}
    )
    assert national.status_code == 404
    assert not ReportJob.objects.exists()


def test_asking_for_a_report_needs_a_role_and_a_token(roleless):
    month = f"{LAST_MONTH:%Y-%m}"
    data = {"kind": "register", "region": "35.07"}
    assert token_client(roleless).post("/api/reports/", data).status_code == 403
    assert APIClient().post("/api/reports/", {"kind": "register", "from": month}).status_code == 401
    assert not ReportJob.objects.exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "regency_recap", "region": "35.07.11.2008"}, "detail"),  # wrong level
        ({"kind": "regency_recap", "region": "35.07", "from": "2024-13"}, "from"),
        ({"kind": "everything", "region": "35.07"}, "kind"),
        ({"kind": "register", "region": "35.07", "format": "docx"}, "format"),
    ],
)
def test_a_request_that_cannot_be_made_is_a_400(api, world, data, field):
    data = {"from": f"{LAST_MONTH:%Y-%m}", "to": f"{LAST_MONTH:%Y-%m}", **data}
    response = api("coordinator_malang").post("/api/reports/", data, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not ReportJob.objects.exists()


def test_asking_for_reports_is_throttled_harder(api, world, monkeypatch):
    monkeypatch.setattr(ReportRequestThrottle, "rate", "2/hour")
    client = api("coordinator_malang")
    data = {"kind": "register", "region": "35.07"}
    statuses = [client.post("/api/reports/", data).status_code for _ in range(3)]
    assert statuses == [202, 202, 429]
    assert client.get("/api/reports/").status_code == 200  # reading is not counted with them


def test_the_jobs_of_the_scope_only(api, world, django_assert_max_num_queries):
    malang = _job(scope="35.07")
    indramayu = _job(scope="32.12")
    national = _job(scope=None, kind=ReportKind.NATIONAL_EVALUATION)
    client = api("coordinator_indramayu")
    # 4 + 1: whether the token's owner has the MFA their role needs (issue 7).
    with django_assert_max_num_queries(5):
        response = client.get("/api/reports/")
    assert [job["id"] for job in response.json()["results"]] == [str(indramayu.pk)]
    everything = api("evaluator").get("/api/reports/").json()
    assert {job["id"] for job in everything["results"]} == {
        str(malang.pk),
        str(indramayu.pk),
        str(national.pk),
    }
    assert client.get(f"/api/reports/{malang.pk}/").status_code == 404
    assert client.get(f"/api/reports/{uuid.uuid4()}/").status_code == 404
    for _number in range(10):
        _job(scope="32.12")
    with django_assert_max_num_queries(5):
        assert client.get("/api/reports/").json()["count"] == 11


def test_job_list_filters(api, world):
    _job(scope="35.07", state=ReportJob.State.FAILED, error="no")
    done = _job(scope="35.07", scheduled=True)
    client = api("coordinator_malang")
    results = client.get("/api/reports/", {"state": "done"}).json()["results"]
    assert [job["id"] for job in results] == [str(done.pk)]
    results = client.get("/api/reports/", {"scheduled": "true"}).json()["results"]
    assert [job["id"] for job in results] == [str(done.pk)]
    assert client.get("/api/reports/", {"state": "lost"}).status_code == 400


def test_a_job_with_its_progress_and_download_address(api, built):
    body = api("coordinator_malang").get(f"/api/reports/{built.pk}/").json()
    assert body["state"] == "done"
    assert body["progress"] == 0 or body["progress"] <= 100
    assert body["region"] == {"code": "35.07", "name": "Kab. Malang"}
    assert body["download_url"].endswith(f"/api/reports/{built.pk}/download/")
    assert body["page_url"].endswith(f"/{built.pk}/")


def test_downloading_through_the_api_is_logged_as_such(api, built, world):
    response = api("province_jatim").get(f"/api/reports/{built.pk}/download/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"PK fake xlsx"
    assert "attachment" in response["Content-Disposition"]
    download = ReportDownload.objects.get()
    assert (download.job, download.user, download.via) == (built, world["province_jatim"], "api")


def test_no_download_outside_the_scope_nor_before_it_is_built(api, built):
    assert api("coordinator_indramayu").get(f"/api/reports/{built.pk}/download/").status_code == (
        404
    )
    running = _job(scope="35.07", state=ReportJob.State.RUNNING, progress=40)
    response = api("coordinator_malang").get(f"/api/reports/{running.pk}/download/")
    assert response.status_code == 409
    assert "detail" in response.json()
    assert not ReportDownload.objects.exists()


# --- Schema and docs -----------------------------------------------------------------------------


def test_the_schema_describes_the_api(world):
    response = APIClient().get("/api/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "SI-Desmigratif API"
    assert {
        "/api/villages/",
        "/api/villages/{code}/",
        "/api/indicators/",
        "/api/reports/",
        "/api/reports/{id}/",
        "/api/reports/{id}/download/",
    } <= set(schema["paths"])
    assert set(schema["paths"]["/api/reports/"]) == {"get", "post"}
    assert "knoxApiToken" in schema["components"]["securitySchemes"]
    parameters = {p["name"] for p in schema["paths"]["/api/indicators/"]["get"]["parameters"]}
    assert parameters == {"region", "cohort", "from", "to"}
    as_json = APIClient().get("/api/schema/", {"format": "json"})
    assert json.loads(as_json.content)["paths"].keys() == schema["paths"].keys()


def test_the_docs_page_loads_from_our_own_static_files(world):
    response = APIClient().get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()
    # No inline script or style: a strict Content-Security-Policy lets the page run.
    assert re.findall(r"<script(?![^>]*\ssrc=)[^>]*>", html) == []
    assert "<style" not in html
    assert "style=" not in html
    script = APIClient().get("/api/docs/", {"script": ""})
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "/api/schema/" in script.content.decode()


def test_the_schema_is_valid_and_generated_without_warnings(world):
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    GENERATOR_STATS.reset()
    schema = SchemaGenerator().get_schema(request=None, public=True)
    validate_schema(schema)
    assert not GENERATOR_STATS, dict(GENERATOR_STATS._warn_cache)
