"""The register export as a report: the people of the job's area and cohort, NIK and No. KK
masked, no children, text from users escaped; the PDF a summary and the first rows."""

import io

import pytest
from openpyxl import load_workbook

from migrants.nik import mask
from reports.builders import register as register_builder
from reports.models import ReportFormat, ReportJob, ReportKind
from tests.migrants.factories import (
    ARJOWILANGUN,
    BRONGKAL,
    KENANGA,
    child_birth_date,
    depart,
    register,
)
from tests.reports.helpers import ask, fresh


def built(user, django_capture_on_commit_callbacks, **kwargs) -> ReportJob:
    with django_capture_on_commit_callbacks(execute=True):
        job = ask(user, kind=ReportKind.REGISTER, **kwargs)
    job = fresh(job)
    assert job.state == ReportJob.State.DONE, job.error
    return job


def sheet_rows(job: ReportJob, media, sheet: str = "Register") -> list[tuple]:
    workbook = load_workbook(io.BytesIO((media / job.file).read_bytes()), read_only=False)
    return list(workbook[sheet].iter_rows(values_only=True))


@pytest.fixture
def people(world):
    officer = world["officer_arjowilangun"]
    brongkal = world["officer_brongkal"]
    kenanga = world["officer_kenanga"]
    aminah = register(actor=officer, village=ARJOWILANGUN, full_name="Aminah")
    depart(aminah, actor=officer, country="HK")
    child = register(
        actor=officer,
        village=ARJOWILANGUN,
        full_name="Anak Aminah",
        birth_date=child_birth_date(),
        sex="L",
    )
    formula = register(actor=brongkal, village=BRONGKAL, full_name="=HYPERLINK(1)")
    elsewhere = register(actor=kenanga, village=KENANGA, full_name="Dedi Kenanga")
    return {"aminah": aminah, "child": child, "formula": formula, "elsewhere": elsewhere}


def test_the_xlsx_holds_the_adults_of_the_area_with_masked_numbers(
    world, media, people, django_capture_on_commit_callbacks
):
    job = built(world["coordinator_malang"], django_capture_on_commit_callbacks)
    workbook = load_workbook(io.BytesIO((media / job.file).read_bytes()))
    assert workbook.sheetnames == ["About", "Register"]
    sheet = workbook["Register"]
    assert sheet.freeze_panes == "A2"
    rows = list(sheet.iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    assert header[0] == "NIK"
    names = {row[header.index("Nama Lengkap")] for row in body}
    assert names == {"Aminah", "'=HYPERLINK(1)"}  # no child, nobody from Indramayu
    aminah = next(row for row in body if row[header.index("Nama Lengkap")] == "Aminah")
    assert aminah[0] == mask(people["aminah"].nik)
    assert people["aminah"].nik not in {str(value) for row in body for value in row}
    about = [row for row in workbook["About"].iter_rows(values_only=True) if any(row)]
    assert ("Area", "Kab. Malang, Jawa Timur") in about
    assert any("2 people" in str(row[0]) for row in about)


def test_the_cohort_narrows_the_register_to_its_villages(
    world, media, people, django_capture_on_commit_callbacks
):
    job = built(world["coordinator_malang"], django_capture_on_commit_callbacks, cohort=2019)
    names = {row[2] for row in sheet_rows(job, media)[1:]}
    assert names == {"'=HYPERLINK(1)"}  # Brongkal is of 2019, Arjowilangun of 2017


def test_a_village_officer_gets_their_village_only(
    world, media, people, django_capture_on_commit_callbacks
):
    job = built(world["officer_arjowilangun"], django_capture_on_commit_callbacks)
    names = {row[2] for row in sheet_rows(job, media)[1:]}
    assert names == {"Aminah"}


def test_the_pdf_sums_up_and_lists_the_first_rows_with_a_note(
    world, media, people, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(register_builder, "PDF_ROWS", 1)
    seen = {}
    original = register_builder.render_pdf

    def capture(**kwargs):
        seen.update(kwargs["context"])
        original(**kwargs)

    monkeypatch.setattr(register_builder, "render_pdf", capture)
    job = built(
        world["coordinator_malang"], django_capture_on_commit_callbacks, format=ReportFormat.PDF
    )
    assert (media / job.file).read_bytes().startswith(b"%PDF")
    assert seen["count"] == 2
    assert len(seen["rows"]) == 1
    assert [v["code"] for v in seen["villages"]] == [ARJOWILANGUN, BRONGKAL]
    assert seen["totals"][0] == 2
    assert all(mask(people["aminah"].nik) in row or "Aminah" not in row for row in seen["rows"])


def test_an_empty_area_still_gives_a_file(world, media, django_capture_on_commit_callbacks):
    job = built(world["officer_kenanga"], django_capture_on_commit_callbacks)
    assert sheet_rows(job, media)[1:] == []
    pdf = built(
        world["officer_kenanga"], django_capture_on_commit_callbacks, format=ReportFormat.PDF
    )
    assert (media / pdf.file).read_bytes().startswith(b"%PDF")


def test_the_register_is_read_in_chunks_whatever_its_size(
    world, media, django_assert_max_num_queries
):
    officer = world["officer_arjowilangun"]
    for _ in range(12):
        register(actor=officer, village=ARJOWILANGUN)
    job = ReportJob.objects.create(
        kind=ReportKind.REGISTER,
        format=ReportFormat.XLSX,
        scope_id=ARJOWILANGUN,
        period_start="2026-01-01",
        period_end="2026-01-31",
        idempotency_key="x",
    )
    job = ReportJob.objects.select_related("scope").get(pk=job.pk)
    path = media / "register.xlsx"
    path.parent.mkdir(parents=True)
    # count, the scope's names, and one query per chunk for people plus one for episodes
    with django_assert_max_num_queries(6):
        register_builder.build(job, path, lambda value: None)
    workbook = load_workbook(path, read_only=True)
    assert len(list(workbook["Register"].iter_rows(values_only=True))) == 13
