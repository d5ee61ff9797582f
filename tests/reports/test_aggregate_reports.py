"""The aggregate reports (regency recap, national evaluation, placement statistics): their
figures against a small world counted by hand, both formats, the area they cover, and the
national report's query count, which must not grow with the register."""

import datetime
import uuid

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from dashboards.summaries import refresh_summaries
from pillars import services as pillar_services
from pillars.models import (
    Cooperative,
    CooperativeMember,
    CooperativePeriod,
    Outreach,
    PillarKind,
    ServiceLog,
)
from reports.builders import national_evaluation, placements, regency_recap
from reports.builders.base import ReportError
from reports.models import ReportFormat, ReportJob, ReportKind
from tests.migrants.factories import (
    ARJOWILANGUN,
    BRONGKAL,
    KENANGA,
    come_home,
    depart,
    register,
)

TODAY = timezone.localdate()
THIS_MONTH = TODAY.replace(day=1)
MALANG = "35.07"


def months_ago(n: int) -> datetime.date:
    day = THIS_MONTH
    for _ in range(n):
        day = (day - datetime.timedelta(days=1)).replace(day=1)
    return day


PERIOD = (months_ago(11), THIS_MONTH)  # the last twelve months


def record(actor, instance, kind):
    pillar_services.record_create(actor=actor, instance=instance, kind=kind)
    return instance


@pytest.fixture
def figures(world):
    """Arjowilangun: a woman gone to Hong Kong this month (procedural, domestic worker, P to P),
    a woman gone to Hong Kong two months ago (non-procedural, "domestic  WORKER", P to P), a
    man home from Taiwan (contract ended), a family member without a NIK, and a man gone to
    Japan twelve months ago (outside the period: the year before this month); two services and
    an outreach event (10 men, 15 women) this month; a cooperative with one member and its
    figures this month (capital 25,000,000; loans 4,000,000 disbursed, 12,500,000 outstanding).
    Brongkal: a woman gone to Malaysia this month (procedural); one service.
    Kenanga (Indramayu): a man gone to Saudi Arabia this month; an outreach event (5, 5)."""
    malang = world["coordinator_malang"]
    arjo = world["officer_arjowilangun"]
    a = register(actor=malang, sex="P")
    depart(
        a,
        actor=malang,
        on=THIS_MONTH,
        country="HK",
        procedural_status="procedural",
        job_title="Domestic worker",
        placement_scheme="p2p",
        sector="informal",
        employer_type="individual",
    )
    b = register(actor=malang, sex="P")
    depart(
        b,
        actor=malang,
        on=months_ago(2),
        country="HK",
        procedural_status="non_procedural",
        job_title="domestic  WORKER",
        placement_scheme="p2p",
        sector="informal",
    )
    c = register(actor=malang, sex="L")
    depart(c, actor=malang, on=months_ago(5), country="TW", procedural_status="procedural")
    come_home(c, actor=malang, on=months_ago(2))
    register(actor=malang, sex="P", nik=None)  # family, no NIK yet
    g = register(actor=malang, sex="L")
    depart(g, actor=malang, on=months_ago(12), country="JP")
    e = register(actor=malang, village=BRONGKAL, sex="P")
    depart(e, actor=malang, on=THIS_MONTH, country="MY", procedural_status="procedural")
    kenanga = world["officer_kenanga"]
    f = register(actor=kenanga, village=KENANGA, sex="L")
    depart(f, actor=kenanga, on=THIS_MONTH, country="SA")

    record(
        arjo,
        Outreach(
            village_id=ARJOWILANGUN,
            date=TODAY,
            topic="Migrasi aman",
            attendees_male=10,
            attendees_female=15,
        ),
        PillarKind.SERVICE_CENTRE,
    )
    for service in ("information", "safe_migration"):
        record(
            arjo,
            ServiceLog(village_id=ARJOWILANGUN, date=TODAY, service_type=service, officer=arjo),
            PillarKind.SERVICE_CENTRE,
        )
    brongkal = world["officer_brongkal"]
    record(
        brongkal,
        ServiceLog(village_id=BRONGKAL, date=TODAY, service_type="information", officer=brongkal),
        PillarKind.SERVICE_CENTRE,
    )
    record(
        kenanga,
        Outreach(
            village_id=KENANGA,
            date=TODAY,
            topic="Bahaya calo",
            attendees_male=5,
            attendees_female=5,
        ),
        PillarKind.SERVICE_CENTRE,
    )
    cooperative = record(
        arjo,
        Cooperative(village_id=ARJOWILANGUN, name="Koperasi Migran", type="cooperative"),
        PillarKind.COOPERATIVE,
    )
    record(
        arjo,
        CooperativeMember(
            village_id=ARJOWILANGUN, cooperative=cooperative, person=a, joined_on=months_ago(3)
        ),
        PillarKind.COOPERATIVE,
    )
    record(
        arjo,
        CooperativePeriod(
            village_id=ARJOWILANGUN,
            cooperative=cooperative,
            period=THIS_MONTH,
            capital=25_000_000,
            loans_disbursed=4_000_000,
            loans_outstanding=12_500_000,
        ),
        PillarKind.COOPERATIVE,
    )
    refresh_summaries()
    return world


def a_job(kind: str, fmt: str, *, scope: str | None, user=None, cohort=None) -> ReportJob:
    return ReportJob.objects.create(
        kind=kind,
        format=fmt,
        scope_id=scope,
        period_start=PERIOD[0],
        period_end=PERIOD[1],
        cohort_year=cohort,
        requested_by=user,
        idempotency_key=uuid.uuid4().hex,
    )


def built(module, job: ReportJob, tmp_path):
    """Build the job's file in English and return its path, checking the progress reported."""
    path = tmp_path / f"{job.kind}.{job.format}"
    seen: list[int] = []
    with translation.override("en"):
        module.build(job, path, seen.append)
    assert seen
    assert all(0 <= p <= 100 for p in seen)
    assert path.stat().st_size > 0
    return path


def rows_of(sheet) -> list[list]:
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def header_index(rows: list[list], first: str) -> int:
    return next(i for i, row in enumerate(rows) if row and row[0] == first)


def table(sheet, first_header: str) -> tuple[list, list[list]]:
    """The header row starting with `first_header` and the rows under it, up to a blank row."""
    rows = rows_of(sheet)
    start = header_index(rows, first_header)
    body = []
    for row in rows[start + 1 :]:
        if not any(value not in (None, "") for value in row):
            break
        body.append(row)
    return rows[start], body


def by_first(body: list[list]) -> dict:
    return {row[0]: row for row in body}


def pdf_text(path) -> str:
    """The PDF's text, pages ended by a form feed (as pdftotext writes it)."""
    from pypdf import PdfReader

    return "".join(page.extract_text() + "\f" for page in PdfReader(path).pages)


def pdf_pages(path) -> int:
    from pypdf import PdfReader

    assert path.read_bytes().startswith(b"%PDF")
    return len(PdfReader(path).pages)


def pdf_has_image(path) -> bool:
    from pypdf import PdfReader

    return any(page.images for page in PdfReader(path).pages)


# --- The regency recap ------------------------------------------------------------------------


def test_the_regency_recap_has_a_row_per_village_of_the_regency_with_its_figures(figures, tmp_path):
    job = a_job(
        ReportKind.REGENCY_RECAP,
        ReportFormat.XLSX,
        scope=MALANG,
        user=figures["coordinator_malang"],
    )
    book = openpyxl.load_workbook(built(regency_recap, job, tmp_path))
    assert book.sheetnames == ["About", "Recap", "Monthly reports"]
    sheet = book["Recap"]
    header, body = table(sheet, "Village")
    assert header[:4] == ["Village", "District", "Code", "Cohort"]
    rows = by_first(body)
    assert set(rows) == {"Arjowilangun", "Sumberpetung", "Balearjo", "Brongkal", "Total"}
    arjo = dict(zip(header, rows["Arjowilangun"], strict=True))
    assert arjo["District"] == "Kalipare"
    assert arjo["PMI abroad"] == 3  # two in Hong Kong, one in Japan
    assert arjo["Purna PMI"] == 1
    assert arjo["Total"] == 5
    assert arjo["Services given"] == 2
    assert (arjo["Outreach events"], arjo["Attendance"]) == (1, 25)
    assert arjo["Members (end of period)"] == 1
    assert arjo["Capital (Rp)"] == 25_000_000
    assert arjo["Loans disbursed (Rp)"] == 4_000_000
    assert arjo["Loans outstanding (Rp)"] == 12_500_000
    brongkal = dict(zip(header, rows["Brongkal"], strict=True))
    assert (brongkal["Services given"], brongkal["PMI abroad"]) == (1, 1)
    total = dict(zip(header, rows["Total"], strict=True))
    assert total["Services given"] == 3
    assert total["Outreach events"] == 1  # Kenanga's is not Malang's
    # The pillar of each column stands above it, merged; the headers stay in view.
    group_row = rows_of(sheet)[header_index(rows_of(sheet), "Village") - 1]
    assert "Migration service centre" in group_row
    assert any(str(r).startswith("A") for r in sheet.merged_cells.ranges)
    assert sheet.freeze_panes == f"B{header_index(rows_of(sheet), 'Village') + 2}"
    assert sheet.cell(row=header_index(rows_of(sheet), "Village") + 2, column=20).number_format in (
        "#,##0",
        "General",
    )
    months_header, months_body = table(book["Monthly reports"], "Village")
    assert len(months_header) == 2 + 12
    assert {row[0] for row in months_body} >= {"Arjowilangun", "Brongkal"}


def test_a_regency_recap_for_malang_holds_no_village_of_indramayu(figures, tmp_path):
    job = a_job(
        ReportKind.REGENCY_RECAP, ReportFormat.PDF, scope=MALANG, user=figures["coordinator_malang"]
    )
    path = built(regency_recap, job, tmp_path)
    assert pdf_pages(path) > 1
    text = pdf_text(path)
    assert "Arjowilangun" in text
    assert "Brongkal" in text
    assert "Kenanga" not in text
    assert "Kuripan" not in text
    assert "Contents" in text


def test_a_regency_recap_of_an_area_without_designated_villages_says_so(figures, tmp_path):
    job = a_job(ReportKind.REGENCY_RECAP, ReportFormat.XLSX, scope="35.73", user=figures["admin"])
    with pytest.raises(ReportError):
        built(regency_recap, job, tmp_path)


# --- The national evaluation report -----------------------------------------------------------


def test_the_national_evaluation_workbook_has_a_sheet_per_section(figures, tmp_path):
    job = a_job(
        ReportKind.NATIONAL_EVALUATION, ReportFormat.XLSX, scope=None, user=figures["evaluator"]
    )
    book = openpyxl.load_workbook(built(national_evaluation, job, tmp_path))
    assert book.sheetnames == [
        "About",
        "Coverage",
        "Pillar matrix",
        "Inactive pillars",
        "People",
        "Departures and returns",
        "Pillar activity",
        "Data quality",
    ]
    header, body = table(book["Coverage"], "Province")
    assert header[:2] == ["Province", "Regency/city"]
    assert header[-2:] == ["Total", "Active"]
    jatim = [row for row in body if row[0] == "Jawa Timur" and row[1] == "all"]
    assert jatim[0][-2] == 4
    malang = [row for row in body if row[1] == "Kab. Malang"]
    assert malang[0][-2] == 4
    assert body[-1][0] == "Total"
    assert body[-1][-2] == 6
    assert (
        book["Coverage"].freeze_panes
        == f"C{header_index(rows_of(book['Coverage']), 'Province') + 2}"
    )

    header, body = table(book["Pillar matrix"], "Province")
    arjo_regency = next(row for row in body if row[1] == "Kab. Malang")
    row = dict(zip(header, arjo_regency, strict=True))
    assert row["Active villages"] == 4
    # Services this month in Arjowilangun and Brongkal; the cooperative in Arjowilangun.
    assert row["Pusat Layanan Migrasi"] == 2
    assert row["Koperasi / BUMDes / Lembaga Keuangan"] == 1
    assert row["Usaha Produktif"] == 0
    assert row["All pillars"] == 0
    header, body = table(book["Inactive pillars"], "Village")
    inactive = by_first(body)
    assert "Usaha Produktif" in inactive["Arjowilangun"][4]
    assert "Pusat Layanan Migrasi" not in inactive["Arjowilangun"][4]

    header, body = table(book["People"], "Dimension")
    people = {(r[0], r[1]): r[2] for r in body}
    assert people[("Status", "PMI (abroad)")] == 5
    assert people[("Status", "purna PMI (returned)")] == 1
    assert people[("Destination country (PMI abroad)", "Hong Kong")] == 2

    header, body = table(book["Data quality"], "Province")
    total = dict(zip(header, body[-1], strict=True))
    assert total["People"] == 7
    assert total["Missing NIK"] == 1

    header, body = table(book["Departures and returns"], "Month")
    assert body[-1][0] == "Total"
    assert body[-1][1] == 6  # the 24 months: Japan's twelve months ago too


def test_the_national_evaluation_pdf_has_a_cover_contents_and_the_sections(figures, tmp_path):
    job = a_job(
        ReportKind.NATIONAL_EVALUATION, ReportFormat.PDF, scope=None, user=figures["evaluator"]
    )
    path = built(national_evaluation, job, tmp_path)
    assert pdf_pages(path) > 3
    text = pdf_text(path)
    for words in (
        "National evaluation report",
        "Contents",
        "Coverage",
        "Pillar matrix",
        "Data quality",
        "Kab. Malang",
        "Kab. Indramayu",
        "Page 2 /",
    ):
        assert words in text


def test_a_scheduled_national_evaluation_is_built_without_a_requester(figures, tmp_path):
    job = a_job(ReportKind.NATIONAL_EVALUATION, ReportFormat.XLSX, scope=None, user=None)
    book = openpyxl.load_workbook(built(national_evaluation, job, tmp_path))
    _header, body = table(book["Coverage"], "Province")
    assert body[-1][-2] == 6


def test_a_regency_evaluation_covers_its_districts_and_villages_only(figures, tmp_path):
    job = a_job(
        ReportKind.NATIONAL_EVALUATION,
        ReportFormat.XLSX,
        scope=MALANG,
        user=figures["coordinator_malang"],
    )
    book = openpyxl.load_workbook(built(national_evaluation, job, tmp_path))
    header, body = table(book["Coverage"], "District")
    assert header[1] == "Village"
    assert {row[0] for row in body} == {"Kalipare", "Pagelaran", "Total"}
    assert body[-1][-2] == 4
    everything = " ".join(str(v) for sheet in book for row in rows_of(sheet) for v in row if v)
    assert "Kenanga" not in everything
    assert "Indramayu" not in everything


def test_a_requester_cannot_get_an_evaluation_of_an_area_outside_their_scope(figures, tmp_path):
    job = a_job(
        ReportKind.NATIONAL_EVALUATION,
        ReportFormat.XLSX,
        scope="32.12",
        user=figures["coordinator_malang"],
    )
    with pytest.raises(ReportError):
        built(national_evaluation, job, tmp_path)


def test_the_national_evaluation_query_count_does_not_grow_with_the_register(figures, tmp_path):
    job = a_job(
        ReportKind.NATIONAL_EVALUATION, ReportFormat.XLSX, scope=None, user=figures["evaluator"]
    )

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            built(national_evaluation, job, tmp_path)
        return len(captured)

    before = queries()
    malang = figures["coordinator_malang"]
    for n in range(15):
        person = register(actor=malang, village=BRONGKAL if n % 2 else ARJOWILANGUN, sex="L")
        depart(person, actor=malang, on=months_ago(n % 6), country=["QA", "KR", "TW"][n % 3])
    refresh_summaries()
    assert queries() == before
    assert before <= 20


# --- Placement statistics ---------------------------------------------------------------------


def test_placements_count_the_departures_of_the_period_in_the_agency_dimensions(figures, tmp_path):
    job = a_job(ReportKind.PLACEMENTS, ReportFormat.XLSX, scope=None, user=figures["evaluator"])
    book = openpyxl.load_workbook(built(placements, job, tmp_path))
    assert book.sheetnames == [
        "About",
        "By country",
        "By scheme",
        "Country, job, scheme",
        "By origin",
        "By month",
    ]
    header, body = table(book["By country"], "Destination country")
    countries = {row[0]: dict(zip(header, row, strict=True)) for row in body}
    assert countries["Hong Kong"]["Women"] == 2
    assert countries["Hong Kong"]["Procedural"] == 1
    assert countries["Hong Kong"]["Informal"] == 2
    assert countries["Taiwan"]["Men"] == 1
    assert "Japan" not in countries  # it left twelve months ago, before the period
    assert countries["Total"]["Total"] == 5

    header, body = table(book["Country, job, scheme"], "Destination country")
    hong_kong = [row for row in body if row[0] == "Hong Kong"]
    assert len(hong_kong) == 1  # "Domestic worker" and "domestic  WORKER" are one title
    assert hong_kong[0][1] == "Domestic worker"
    assert hong_kong[0][2] == "P to P"
    assert hong_kong[0][3:] == [0, 2, 2]

    header, body = table(book["By origin"], "Province")
    origin = {(row[0], row[1]): dict(zip(header, row, strict=True)) for row in body}
    assert origin[("Jawa Timur", "all")]["Total"] == 4
    assert origin[("Jawa Timur", "Kab. Malang")]["Women"] == 3
    assert origin[("Jawa Barat", "Kab. Indramayu")]["Men"] == 1

    header, body = table(book["By month"], "Month")
    assert header == ["Month", "Departures", "Same month a year earlier", "Change"]
    this_month = body[-2]  # the last month, before the total
    assert this_month[1:3] == [3, 1]  # Hong Kong, Malaysia, Saudi Arabia; Japan a year earlier
    assert this_month[3] == pytest.approx(2.0)
    assert (
        book["By month"]
        .cell(row=header_index(rows_of(book["By month"]), "Month") + 2, column=4)
        .number_format
        == "0.0%"
    )


def test_placements_of_malang_leave_out_the_other_regencies(figures, tmp_path):
    job = a_job(
        ReportKind.PLACEMENTS, ReportFormat.XLSX, scope=MALANG, user=figures["coordinator_malang"]
    )
    book = openpyxl.load_workbook(built(placements, job, tmp_path))
    _header, body = table(book["By country"], "Destination country")
    countries = {row[0] for row in body}
    assert countries == {"Hong Kong", "Taiwan", "Malaysia", "Total"}


def test_the_placements_pdf_has_tables_and_a_chart(figures, tmp_path):
    job = a_job(ReportKind.PLACEMENTS, ReportFormat.PDF, scope=None, user=figures["evaluator"])
    path = built(placements, job, tmp_path)
    assert pdf_pages(path) > 2
    assert pdf_has_image(path)
    text = pdf_text(path)
    assert "Hong Kong" in text
    assert "Same month a year earlier" in text
