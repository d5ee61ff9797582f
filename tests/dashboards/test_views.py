"""The dashboard pages and their downloads: who sees which region, the figures they show, the
filters, the files, and a query count that does not grow with the data."""

import csv
import datetime
import io
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import include, path
from django.utils import timezone
from openpyxl import load_workbook

from accounts.models import User
from dashboards.models import SummaryRun
from dashboards.summaries import refresh_summaries
from desmigratif import urls as root
from pillars import services as pillar_services
from pillars.models import Outreach, ServiceLog
from tests.conftest import PASSWORD
from tests.migrants.factories import (
    ARJOWILANGUN,
    BALEARJO,
    BRONGKAL,
    KENANGA,
    KURIPAN,
    SUMBERPETUNG,
    come_home,
    depart,
    register,
)
from villages.demo import seed_demo
from villages.models import Designation

# The project's URLs with the dashboards mounted as the lead mounts them, whether or not
# desmigratif/urls.py does so already.
handler403, handler404, handler500 = root.handler403, root.handler404, root.handler500
urlpatterns = [*root.urlpatterns]
if not any(getattr(p, "namespace", None) == "dashboards" for p in urlpatterns):
    urlpatterns.append(path("dasbor/", include("dashboards.urls")))

pytestmark = pytest.mark.urls(__name__)

TODAY = timezone.localdate()
THIS_MONTH = TODAY.replace(day=1)


def months_ago(n: int) -> datetime.date:
    day = THIS_MONTH
    for _ in range(n):
        day = (day - datetime.timedelta(days=1)).replace(day=1)
    return day


def populate(world, *, villages=(ARJOWILANGUN, BRONGKAL, KENANGA)) -> None:
    """Arjowilangun (cohort 2017): two women abroad in Hong Kong (one procedural, left this
    month; one not, two months ago), a man back from Taiwan (contract ended), a family member;
    Brongkal (2019): a woman abroad in Malaysia since this month (procedural); Kenanga (2016):
    a man abroad in Saudi Arabia since this month, registered without a NIK. One outreach and
    two services in Arjowilangun today."""
    malang, indramayu = world["coordinator_malang"], world["coordinator_indramayu"]
    if ARJOWILANGUN in villages:
        a = register(actor=malang, sex="P")
        depart(a, actor=malang, on=THIS_MONTH, country="HK", procedural_status="procedural")
        b = register(actor=malang, sex="P")
        depart(b, actor=malang, on=months_ago(2), country="HK", procedural_status="non_procedural")
        c = register(actor=malang, sex="L")
        depart(c, actor=malang, on=months_ago(5), country="TW", procedural_status="procedural")
        come_home(c, actor=malang, on=months_ago(2))
        register(actor=malang, sex="P")
        officer = world["officer_arjowilangun"]
        pillar_services.record_create(
            actor=officer,
            instance=Outreach(
                village_id=ARJOWILANGUN,
                date=TODAY,
                topic="Migrasi aman",
                attendees_male=10,
                attendees_female=15,
            ),
            kind="service_centre",
        )
        for service in ("information", "safe_migration"):
            pillar_services.record_create(
                actor=officer,
                instance=ServiceLog(
                    village_id=ARJOWILANGUN, date=TODAY, service_type=service, officer=officer
                ),
                kind="service_centre",
            )
    if BRONGKAL in villages:
        d = register(actor=malang, village=BRONGKAL, sex="P")
        depart(d, actor=malang, on=THIS_MONTH, country="MY", procedural_status="procedural")
    if KENANGA in villages:
        e = register(actor=indramayu, village=KENANGA, sex="L", nik=None)
        depart(e, actor=indramayu, on=THIS_MONTH, country="SA")


@pytest.fixture
def figures(world):
    populate(world)
    refresh_summaries()
    return world


@pytest.fixture
def roleless(world):
    from django.test import Client

    client = Client()
    client.force_login(User.objects.create_user("roleless", "r@example.org", PASSWORD, role=""))
    return client


def in_english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def key_figures(response) -> dict[str, int]:
    return {key: value for key, _label, value in response.context["key_figures"]}


def people(response) -> int:
    return response.context["board"].people_total


class Tables(HTMLParser):
    """The text of every cell of the tables with an id, row by row."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and attrs.get("id"):
            self._table = self.tables.setdefault(attrs["id"], [])
        elif self._table is not None and tag == "tr":
            self._table.append([])
        elif self._table is not None and tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "table":
            self._table = None
        elif tag in ("td", "th") and self._cell is not None and self._table is not None:
            self._table[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def page_table(response, slug: str) -> list[list[str]]:
    parser = Tables()
    parser.feed(response.content.decode())
    return parser.tables[f"table-{slug}"]


def csv_rows(response) -> list[list[str]]:
    content = response.content.decode("utf-8")
    assert content.startswith("\ufeff")
    return list(csv.reader(io.StringIO(content[1:])))


# --- Who sees what -----------------------------------------------------------------------------

PAGES = ["/dasbor/", "/dasbor/35.07/", "/dasbor/data/status.csv?region=35.07"]


@pytest.mark.parametrize("url", PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(figures, anonymous, url):
    response = anonymous.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("url", PAGES)
def test_an_account_without_a_role_may_not_read_dashboards(figures, roleless, url):
    assert roleless.get(url).status_code == 403


def test_a_coordinator_starts_at_the_regency_with_the_filters_kept(figures, coordinator_malang):
    response = coordinator_malang.get("/dasbor/?cohort=2017")
    assert response.status_code == 302
    assert response["Location"] == "/dasbor/35.07/?cohort=2017"


def test_a_village_officer_starts_at_the_village_and_sees_nothing_else(
    figures, officer_arjowilangun
):
    assert officer_arjowilangun.get("/dasbor/")["Location"] == f"/dasbor/{ARJOWILANGUN}/"
    response = officer_arjowilangun.get(f"/dasbor/{ARJOWILANGUN}/")
    assert response.status_code == 200
    assert people(response) == 4
    assert response.context["children_table"] is None  # a village has no children
    for url in (
        "/dasbor/35.07/",
        "/dasbor/35.07.11/",
        f"/dasbor/{BRONGKAL}/",
        f"/dasbor/data/status.csv?region={BRONGKAL}",
        "/dasbor/data/status.csv",
    ):
        assert officer_arjowilangun.get(url).status_code == 404, url


def test_a_coordinator_of_another_regency_gets_404(figures, coordinator_indramayu):
    assert coordinator_indramayu.get("/dasbor/35.07/").status_code == 404
    assert coordinator_indramayu.get(f"/dasbor/{ARJOWILANGUN}/").status_code == 404
    for fmt in ("csv", "xlsx"):
        response = coordinator_indramayu.get(f"/dasbor/data/status.{fmt}?region=35.07")
        assert response.status_code == 404
    assert coordinator_indramayu.get("/dasbor/32.12/").status_code == 200


def test_a_province_reads_its_own_province_only(figures, province_jatim):
    assert province_jatim.get("/dasbor/32/").status_code == 404
    assert province_jatim.get("/dasbor/data/country.xlsx?region=32").status_code == 404
    response = province_jatim.get("/dasbor/35/")
    assert response.status_code == 200
    assert people(response) == 5
    # The country above the province is shown, not linked: it is outside the scope.
    assert [(step["label"], step["url"]) for step in response.context["trail"]] == [
        ("Indonesia", None),
        ("Jawa Timur", None),
    ]


def test_an_unknown_region_or_chart_is_404(figures, evaluator):
    assert evaluator.get("/dasbor/99/").status_code == 404
    assert evaluator.get("/dasbor/data/nothing.csv").status_code == 404
    assert evaluator.get("/dasbor/data/status.csv?region=35.07%27").status_code == 404


# --- The figures -------------------------------------------------------------------------------


def test_the_national_dashboard_shows_the_totals_and_links_every_province(figures, evaluator):
    response = in_english(evaluator).get("/dasbor/")
    assert response.status_code == 200
    assert key_figures(response) == {
        "people": 6,
        "pmi": 4,
        "cpmi": 0,
        "purna": 1,
        "villages": 6,
        "departures": 5,
        "returns": 1,
    }
    children = {child.code: (child.people, url) for child, url in response.context["children"]}
    assert children == {
        "32": (1, "/dasbor/32/"),
        "33": (0, "/dasbor/33/"),
        "35": (5, "/dasbor/35/"),
    }
    html = response.content.decode()
    for url in ("/dasbor/32/", "/dasbor/35/"):
        assert f'href="{url}"' in html
    assert response.context["procedural_share"] == "60.0"  # 3 of 5 departures
    assert "60.0%</strong> <span>of the 5 departures in the period were procedural." in html
    assert page_table(response, "status") == [
        ["Status", "Number", "Share (%)"],
        ["family member", "1", "16.7"],
        ["CPMI (prospective)", "0", "0.0"],
        ["PMI (abroad)", "4", "66.7"],
        ["purna PMI (returned)", "1", "16.7"],
    ]
    # Coverage above the regency level: East Java's four villages, one runs the service centre.
    coverage = {
        entry.code: (entry.villages, active) for entry, _url, active in response.context["coverage"]
    }
    villages, active = coverage["35"]
    assert villages == 4
    assert active[0][1] == 1


def test_drilling_down_goes_province_regency_district_village(figures, evaluator):
    response = evaluator.get("/dasbor/35/?cohort=2017")
    links = [url for _child, url in response.context["children"]]
    assert links == ["/dasbor/35.07/?cohort=2017"]
    response = evaluator.get(links[0])
    # Pagelaran has no village of the 2017 cohort.
    assert [url for _c, url in response.context["children"]] == ["/dasbor/35.07.11/?cohort=2017"]
    # From the regency down, the matrix of villages by pillars, each village a link.
    assert f'href="/dasbor/{ARJOWILANGUN}/?cohort=2017"' in response.content.decode()
    response = evaluator.get(f"/dasbor/{ARJOWILANGUN}/?cohort=2017")
    trail = response.context["trail"]
    assert [step["url"] for step in trail] == [
        "/dasbor/?cohort=2017",
        "/dasbor/35/?cohort=2017",
        "/dasbor/35.07/?cohort=2017",
        "/dasbor/35.07.11/?cohort=2017",
        None,
    ]
    assert trail[-1]["current"]
    assert people(response) == 4


def test_the_cohort_filter_keeps_the_villages_of_that_cohort(figures, evaluator):
    assert people(evaluator.get("/dasbor/?cohort=2017")) == 4  # Arjowilangun
    assert people(evaluator.get("/dasbor/?cohort=2019")) == 1  # Brongkal
    assert people(evaluator.get("/dasbor/?cohort=2016")) == 1  # Kenanga
    cohort_choices = [
        value
        for value, _label in evaluator.get("/dasbor/").context["form"].fields["cohort"].choices
    ]
    assert cohort_choices == ["", 2016, 2017, 2018, 2019]


def test_a_coordinator_is_offered_the_cohorts_of_the_regency_only(figures, coordinator_malang):
    form = coordinator_malang.get("/dasbor/35.07/").context["form"]
    assert [value for value, _label in form.fields["cohort"].choices] == ["", 2017, 2018, 2019]


def test_the_period_filter_counts_the_departures_of_its_months(figures, evaluator):
    month = THIS_MONTH.strftime("%Y-%m")
    response = evaluator.get(f"/dasbor/?from={month}&to={month}")
    assert key_figures(response)["departures"] == 3
    assert key_figures(response)["returns"] == 0
    assert key_figures(response)["people"] == 6  # today's, whatever the period
    # The filters in effect travel with the drill-down links.
    assert response.context["children"][0][1] == f"/dasbor/32/?from={month}&to={month}"
    two_ago = months_ago(2).strftime("%Y-%m")
    response = evaluator.get(f"/dasbor/?from={two_ago}&to={two_ago}")
    assert key_figures(response)["departures"] == 1
    assert key_figures(response)["returns"] == 1


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=2024-13", "from"),
        ("from=next+year", "from"),
        ("to=%3Cscript%3E", "to"),
        (f"from={months_ago(1):%Y-%m}&to={months_ago(3):%Y-%m}", "to"),
        (f"from={months_ago(40):%Y-%m}&to={months_ago(1):%Y-%m}", "from"),
        (f"from={months_ago(1):%Y-%m}&to={(THIS_MONTH + datetime.timedelta(days=40)):%Y-%m}", "to"),
        ("cohort=1999", "cohort"),
    ],
)
def test_a_bad_filter_is_explained_and_the_default_figures_shown(figures, evaluator, query, field):
    response = evaluator.get(f"/dasbor/?{query}")
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert 'role="alert"' in response.content.decode()
    assert key_figures(response)["departures"] == 5  # the last 12 months
    download = evaluator.get(f"/dasbor/data/status.csv?{query}")
    assert download.status_code == 400


def test_the_page_says_how_fresh_the_figures_are(figures, evaluator):
    run = SummaryRun.objects.filter(finished_at__isnull=False).latest("finished_at")
    html = in_english(evaluator).get("/dasbor/").content.decode()
    assert f"Figures as of {timezone.localtime(run.finished_at):%-d %b %Y, %H:%M}" in html


def test_before_the_first_summary_run_the_page_says_figures_are_being_prepared(world, evaluator):
    response = in_english(evaluator).get("/dasbor/")
    assert response.status_code == 200
    assert "The figures are being prepared" in response.content.decode()
    assert people(response) == 0


def test_the_regency_shows_the_pillar_matrix_weakest_first(figures, coordinator_malang):
    response = coordinator_malang.get("/dasbor/35.07/")
    rows = [row for row, _cells in response.context["matrix"]]
    assert len(rows) == 4
    assert rows[-1].code == ARJOWILANGUN  # the only village with an active pillar
    assert response.context["coverage"] == []
    silent = {village.code for village, _url in response.context["silent"]}
    assert silent == {ARJOWILANGUN, SUMBERPETUNG, BALEARJO, BRONGKAL}  # nobody reported


# --- Downloads ---------------------------------------------------------------------------------


@pytest.mark.parametrize("slug", ["status", "sex", "country", "procedure", "returns", "quality"])
def test_the_csv_and_xlsx_hold_the_table_of_the_page(figures, evaluator, slug):
    page = in_english(evaluator).get("/dasbor/")
    shown = page_table(page, slug)
    response = evaluator.get(f"/dasbor/data/{slug}.csv?region=")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    rows = csv_rows(response)
    assert shown == [[cell or "–" for cell in row] for row in rows]  # "–": no share of 0
    workbook = load_workbook(io.BytesIO(evaluator.get(f"/dasbor/data/{slug}.xlsx").content))
    assert [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)] == [
        rows[0],
        *([label, *(float(value) for value in values)] for label, *values in rows[1:]),
    ]


def test_the_month_series_downloads_with_iso_months(figures, evaluator):
    rows = csv_rows(evaluator.get("/dasbor/data/months.csv"))
    assert len(rows) == 25
    assert rows[-1] == [THIS_MONTH.strftime("%Y-%m"), "3", "0"]
    assert sum(int(row[1]) for row in rows[1:]) == 5


def test_a_region_download_is_scoped_and_filtered(figures, coordinator_malang):
    response = coordinator_malang.get("/dasbor/data/children.csv?region=35.07&cohort=2017")
    assert response.status_code == 200
    rows = csv_rows(response)
    assert rows[1][:4] == ["Kalipare", "35.07.11", "1", "4"]
    assert "angkatan-2017" in response["Content-Disposition"]
    workbook = load_workbook(
        io.BytesIO(coordinator_malang.get("/dasbor/data/matrix.xlsx?region=35.07").content)
    )
    codes = [row[1] for row in workbook.worksheets[0].iter_rows(min_row=2, values_only=True)]
    assert sorted(codes) == sorted([ARJOWILANGUN, SUMBERPETUNG, BALEARJO, BRONGKAL])


def test_text_that_looks_like_a_formula_is_escaped_in_the_files(world, evaluator):
    malang = world["coordinator_malang"]
    person = register(actor=malang, sex="P")
    depart(person, actor=malang, on=THIS_MONTH, country="HK", job_title="=HYPERLINK(1)")
    refresh_summaries()
    rows = csv_rows(evaluator.get("/dasbor/data/job.csv"))
    assert rows[1][0].startswith("'=")  # the register tidies the case of job titles
    workbook = load_workbook(io.BytesIO(evaluator.get("/dasbor/data/job.xlsx").content))
    cell = workbook.worksheets[0]["A2"]
    assert (cell.value, cell.data_type) == (rows[1][0], "s")


# --- Cost --------------------------------------------------------------------------------------

NATIONAL_QUERIES = 14  # session, user, cohorts, then the 11 of indicators.dashboard


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context.captured_queries)


def test_the_dashboards_cost_the_same_queries_with_one_village_or_many(
    world, evaluator, coordinator_malang, django_assert_max_num_queries
):
    # One designated village with a few people...
    Designation.objects.exclude(village_id=ARJOWILANGUN).delete()
    populate(world, villages=(ARJOWILANGUN,))
    refresh_summaries()
    small = count_queries(evaluator, "/dasbor/")
    small_regency = count_queries(coordinator_malang, "/dasbor/35.07/")
    # ...then all six villages, more people everywhere, more activity.
    seed_demo(password=PASSWORD)  # the designations back (and new passwords: sign in again)
    evaluator.force_login(User.objects.get(username="evaluator"))
    coordinator_malang.force_login(User.objects.get(username="coordinator_malang"))
    populate(world)
    for village in (KURIPAN, SUMBERPETUNG, BALEARJO, BRONGKAL):
        for _ in range(3):
            depart(
                register(actor=world["admin"], village=village), actor=world["admin"], on=THIS_MONTH
            )
    refresh_summaries()
    with django_assert_max_num_queries(NATIONAL_QUERIES):
        evaluator.get("/dasbor/")
    assert count_queries(evaluator, "/dasbor/") == small
    assert count_queries(coordinator_malang, "/dasbor/35.07/") == small_regency
    with django_assert_max_num_queries(NATIONAL_QUERIES):
        evaluator.get("/dasbor/data/status.xlsx")
