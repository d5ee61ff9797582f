"""Journey (c): the ministry evaluator signs in with the authenticator app, reads the national
and a province dashboard, asks for the national evaluation report as xlsx and as PDF, watches
each job's progress bar and downloads the files, which the test opens and reads.

With a broker and PostgreSQL (CI), a real worker process builds the reports while the page
is watched; elsewhere the build runs inline and the page shows it done."""

import io
import re
import time
from pathlib import Path

import openpyxl
import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.conf import settings

from dashboards.summaries import refresh_summaries
from desmigratif.celery import app
from migrants.demo import seed_register
from pillars.demo import seed_pillars
from reports.models import ReportJob
from tests.browser.pages import browser_test, current_code, sign_in

# A real worker reads what the live server wrote only from a shared database.
WORKER = bool(settings.CELERY_BROKER_URL) and settings.DATABASES["default"]["ENGINE"].endswith(
    "postgresql"
)

pytestmark = [*browser_test, pytest.mark.celery_worker]

SHEETS = [
    "Tentang",
    "Cakupan",
    "Matriks pilar",
    "Pilar tidak aktif",
    "Warga",
    "Keberangkatan dan kepulangan",
    "Kegiatan pilar",
    "Kualitas data",
]


@pytest.fixture
def builder(request):
    """Who builds the reports: the real worker when there is one, else the request itself."""
    if WORKER:
        yield request.getfixturevalue("celery_worker")
        return
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield None
    app.conf.task_always_eager = previous


@pytest.fixture
def demo(world):
    seed_register()
    seed_pillars()
    refresh_summaries()
    # The evaluator's authenticator app, with a secret this test knows.
    evaluator = world["evaluator"]
    Authenticator.objects.filter(user=evaluator).delete()
    secret = generate_totp_secret()
    TOTP.activate(evaluator, secret)
    return world, secret


def request_report(tab, fmt: str) -> ReportJob:
    page = tab.page
    tab.goto("/unduhan/minta/", f"request a report ({fmt})", axe=fmt == "xlsx")
    page.select_option("#id_kind", "national_evaluation")
    page.check(f"input[name=format][value={fmt}]")
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/unduhan/[0-9a-f-]{36}/$"))
    return ReportJob.objects.get(pk=page.url.rstrip("/").rsplit("/", 1)[1])


def watch(tab, job: ReportJob, fmt: str) -> list[int]:
    """Read the job's page as the user does (it refreshes itself) until the file is ready;
    returns the progress values the bar showed."""
    page = tab.page
    shown: list[int] = []
    deadline = time.monotonic() + 120
    while not page.query_selector("main a[href$='/unduh/']"):
        assert time.monotonic() < deadline, f"the {fmt} report was not ready in time"
        bar = page.query_selector("main progress")
        if bar is not None:
            shown.append(int(bar.get_attribute("value")))
            if len(shown) == 1:
                tab.seen(f"report job in progress ({fmt})", axe=fmt == "xlsx")
                # The page reloads itself, and its reader can pause that (WCAG 2.2.1).
                assert page.is_visible("main [data-refresh-toggle]")
        assert "gagal" not in tab.text().lower(), tab.text()
        page.wait_for_timeout(300)
        page.reload()
    tab.seen(f"report job done ({fmt})", axe=fmt == "xlsx")
    job.refresh_from_db()
    assert job.state == ReportJob.State.DONE
    assert job.progress == 100
    assert shown == sorted(shown)  # the bar never goes back
    return shown


def download(tab) -> tuple[str, bytes]:
    with tab.page.expect_download() as info:
        tab.page.click("main a[href$='/unduh/']")
    return info.value.suggested_filename, Path(info.value.path()).read_bytes()


def test_the_evaluator_builds_and_reads_the_national_evaluation_report(demo, builder, journey):
    _world, secret = demo
    tab = journey("c-ministry-evaluator")
    page = tab.page
    sign_in(tab, "evaluator")
    assert "/2fa/authenticate/" in page.url
    tab.seen("two-factor code")
    page.fill("#id_code", current_code(secret))
    page.click("main button[type=submit]")
    tab.seen("home")

    # The country, then a province.
    tab.goto("/dasbor/", "national dashboard")
    page.click("main a[href$='/dasbor/35/']")
    tab.seen("dashboard of the province")
    assert "JAWA TIMUR" in page.inner_text("h1").upper()
    page.click("main a[href$='/dasbor/35.07/']")
    tab.seen("dashboard of the regency")
    assert "MALANG" in page.inner_text("h1").upper()

    jobs = {}
    for fmt in ("xlsx", "pdf"):
        job = request_report(tab, fmt)
        jobs[fmt] = job
        watch(tab, job, fmt)
        name, data = download(tab)
        assert name.endswith(f".{fmt}")
        jobs[fmt] = (job, data)
    tab.goto("/unduhan/", "report files")
    assert tab.text().count("Laporan evaluasi nasional") >= 2

    try:
        book = openpyxl.load_workbook(io.BytesIO(jobs["xlsx"][1]))
        assert book.sheetnames == SHEETS
        coverage = [list(r) for r in book["Cakupan"].iter_rows(values_only=True)]
        total = next(r for r in coverage if r[0] == "Jumlah")
        assert total[-2] == 6  # the six designated demo villages
        malang = next(r for r in coverage if r[1] == "Kab. Malang")
        assert malang[-2] == 4

        from pypdf import PdfReader  # a dev dependency: imported here, not at collection

        pdf = PdfReader(io.BytesIO(jobs["pdf"][1]))
        assert len(pdf.pages) > 3
        text = "\n".join(p.extract_text() for p in pdf.pages)
        for words in ("Laporan evaluasi nasional", "Daftar isi", "Cakupan", "Kab. Malang"):
            assert words in text
    finally:
        for job, _data in jobs.values():
            if job.file:
                (Path(settings.MEDIA_ROOT) / job.file).unlink(missing_ok=True)
    tab.assert_accessible()
