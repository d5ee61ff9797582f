"""The spreadsheets the register hands out: template, error report, export; and the escaping
that keeps a typed formula from running in the user's spreadsheet."""

import csv
import datetime
import io
import tempfile
from pathlib import Path

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

from migrants.columns import COLUMNS, ERROR_HEADER
from migrants.models import Education, Person, Procedural
from migrants.nik import mask
from migrants.spreadsheets import (
    CSV_BOM,
    DANGEROUS_PREFIXES,
    FULLWIDTH_PREFIXES,
    error_report_xlsx,
    escape_cell,
    export_header,
    iter_export_rows,
    person_row,
    stream_csv,
    template_xlsx,
    write_xlsx,
)
from tests.migrants.factories import (
    ARJOWILANGUN,
    BORN,
    DEPARTED,
    RETURNED,
    a_kk,
    come_home,
    depart,
    plan,
    register,
)

HEADERS = [column.header for column in COLUMNS]
DANGEROUS = set(DANGEROUS_PREFIXES + FULLWIDTH_PREFIXES)
NIK = "3507114505900003"


def letter_of(header: str) -> str:
    return openpyxl.utils.get_column_letter(HEADERS.index(header) + 1)


def calamine_rows(data: bytes) -> list[list]:
    workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
    return workbook.get_sheet_by_index(0).to_python()


# --- escape_cell ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "=1+1",
        "+62 812 3456",
        "-2+3",
        "@SUM(A1:A2)",
        "\t=1+1",
        "\r=1+1",
        "\0=1+1",
        '  =HYPERLINK("http://x")',
        "\u00a0=1+1",
        "\u200b=1+1",
        "\uff1d1+1",
        "\uff0b1",
        "\uff0d1",
        "\uff20SUM(A1)",
    ],
)
def test_text_that_a_spreadsheet_would_run_gets_a_leading_apostrophe(text):
    assert escape_cell(text) == "'" + text


@pytest.mark.parametrize("text", ["Sri Wahyuni", "", "   ", NIK, "Jl. Mawar 3", "'=1+1"])
def test_plain_text_is_left_alone(text):
    assert escape_cell(text) == text


@pytest.mark.parametrize("value", [None, 7, -7, 1.5, datetime.date(2024, 3, 1), True])
def test_values_that_are_not_text_are_left_alone(value):
    assert escape_cell(value) is value


@given(st.text())
def test_escaped_text_never_starts_with_a_dangerous_character(text):
    escaped = escape_cell(text)
    assert escaped.lstrip(" ")[:1] not in DANGEROUS
    assert escaped in (text, "'" + text)


@given(st.text())
def test_escaping_twice_changes_nothing_more(text):
    assert escape_cell(escape_cell(text)) == escape_cell(text)


safe_start = st.characters(
    blacklist_categories=("Cc", "Cf", "Zs", "Zl", "Zp", "Cs"),
    blacklist_characters="".join(DANGEROUS),
)


@given(st.integers(min_value=0, max_value=5), safe_start, st.text())
def test_text_that_starts_safely_after_its_spaces_is_unchanged(spaces, first, rest):
    text = " " * spaces + first + rest
    assert escape_cell(text) == text


# --- Template ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def template_bytes():
    return template_xlsx()


@pytest.fixture(scope="module")
def template(template_bytes):
    return openpyxl.load_workbook(io.BytesIO(template_bytes))


def test_template_header_is_every_column_in_order_bold_and_frozen(template):
    data = template["Data"]
    assert [cell.value for cell in data[1]] == HEADERS
    assert all(cell.font.bold for cell in data[1])
    assert data.freeze_panes == "A2"


def test_template_columns_have_the_widths_of_their_definitions(template):
    data = template["Data"]
    for column in COLUMNS:
        assert data.column_dimensions[letter_of(column.header)].width == column.width


def test_template_drop_down_lists_offer_the_canonical_spellings(template):
    formulas = {
        str(validation.sqref): validation.formula1
        for validation in template["Data"].data_validations.dataValidation
    }
    expected = {
        "Jenis Kelamin": '"L,P"',
        "Status": '"CPMI,PMI,Purna PMI"',
        "Sektor": '"Formal,Informal"',
        "Prosedural": '"Ya,Tidak,Tidak Tahu"',
        "Skema Penempatan": '"G to G,G to P,P to P,UKPS,Mandiri"',
        "Alasan Pulang": '"Kontrak Selesai,Cuti,Dideportasi,Bermasalah,Meninggal Dunia"',
        "Pendidikan": '"Tidak Sekolah,SD,SMP,SMA/SMK,Diploma,S1,S2"',
    }
    assert formulas == {
        f"{letter_of(header)}2:{letter_of(header)}5001": formula
        for header, formula in expected.items()
    }


def test_template_drop_down_lists_explain_a_refused_value(template):
    for validation in template["Data"].data_validations.dataValidation:
        assert validation.type == "list"
        assert validation.allow_blank
        assert validation.showErrorMessage
        assert validation.error


def test_template_keeps_nik_and_kk_as_text_and_dates_as_dates(template):
    data = template["Data"]
    for row in (2, 5001):
        assert data[f"{letter_of('NIK')}{row}"].number_format == "@"
        assert data[f"{letter_of('No KK')}{row}"].number_format == "@"
        assert data[f"{letter_of('Tanggal Lahir')}{row}"].number_format == "yyyy-mm-dd"
    assert data[f"{letter_of('Nama Lengkap')}2"].number_format == "General"


def test_template_guide_explains_every_column(template):
    guide = template["Petunjuk"]
    rows = list(guide.iter_rows(values_only=True))
    table_start = rows.index(("Kolom", "Wajib", "Isi yang diterima", "Keterangan"))
    table = {row[0]: row for row in rows[table_start + 1 :]}
    assert list(table) == HEADERS
    assert table["Nama Lengkap"][1] == "Ya"
    assert table["NIK"][1] == "Tidak"
    assert table["Jenis Kelamin"][2] == "L, P"
    assert table_start > 5  # the general notes come first


def test_template_headers_read_back_the_same_with_calamine(template_bytes):
    assert calamine_rows(template_bytes)[0] == HEADERS


# --- Error report -----------------------------------------------------------------------------

UPLOADED_HEADER = ["NIK", "No. KK", "Nama Lengkap", "Tanggal Lahir", "Catatan Desa"]


@pytest.fixture
def report_bytes():
    return error_report_xlsx(
        UPLOADED_HEADER,
        [
            (
                2,
                [3507114505900003.0, "3507110102100001", "=1+1", datetime.date(1990, 1, 2), "x"],
                ["Kolom NIK: sudah terdaftar.", "Kolom Nama Lengkap: tidak boleh rumus."],
            ),
            (3, ["", None, "Sri Wahyuni"], ["Kolom Tanggal Lahir: wajib diisi."]),
        ],
    )


@pytest.fixture
def report(report_bytes):
    return openpyxl.load_workbook(io.BytesIO(report_bytes))[ERROR_HEADER]


def test_error_report_header_is_the_original_one_plus_kesalahan(report):
    header = [cell.value for cell in report[1]]
    assert header == [*UPLOADED_HEADER, "Kesalahan"]
    assert report.freeze_panes == "A2"
    assert all(cell.font.bold for cell in report[1])
    assert report["F1"].fill.fgColor.rgb.endswith("FFC7CE")


def test_error_report_writes_a_nik_that_arrived_as_a_number_as_its_digits(report):
    nik = report["A2"]
    assert nik.value == "3507114505900003"
    assert nik.data_type == "s"
    assert nik.number_format == "@"
    assert report["B2"].value == "3507110102100001"
    assert report["B2"].number_format == "@"


def test_error_report_keeps_empty_nik_cells_formatted_as_text_for_the_fix(report):
    assert report["A3"].value is None
    assert report["A3"].number_format == "@"


def test_error_report_escapes_formulas_and_keeps_dates(report):
    assert report["C2"].value == "'=1+1"
    assert report["D2"].is_date
    assert report["D2"].value.date() == datetime.date(1990, 1, 2)
    assert report["E2"].value == "x"


def test_error_report_joins_the_messages_of_a_row_in_the_last_column(report):
    assert report["F2"].value == (
        "Kolom NIK: sudah terdaftar.; Kolom Nama Lengkap: tidak boleh rumus."
    )
    assert report["F3"].value == "Kolom Tanggal Lahir: wajib diisi."
    assert report["C3"].value == "Sri Wahyuni"


def test_error_report_reads_back_with_calamine_as_the_importer_does(report_bytes):
    rows = calamine_rows(report_bytes)
    assert rows[0] == [*UPLOADED_HEADER, "Kesalahan"]
    assert rows[1][0] == NIK


def test_error_report_of_a_reuploaded_report_has_one_kesalahan_column():
    data = error_report_xlsx(
        ["NIK", "Nama Lengkap", "Kesalahan"],
        [(2, [NIK, "Sri", "Kolom NIK: lama."], ["Kolom NIK: baru."])],
    )
    rows = calamine_rows(data)
    assert rows == [["NIK", "Nama Lengkap", "Kesalahan"], [NIK, "Sri", "Kolom NIK: baru."]]


def test_error_report_keeps_messages_under_kesalahan_whatever_the_row_length():
    data = error_report_xlsx(
        ["NIK", "Nama Lengkap"],
        [(2, [NIK, "Sri", "extra", "cells"], ["long"]), (3, [NIK], ["short"])],
    )
    rows = calamine_rows(data)
    assert [row[-1] for row in rows] == ["Kesalahan", "long", "short"]
    assert all(len(row) == 3 for row in rows)


def test_error_report_drops_control_characters_xlsx_cannot_hold():
    data = error_report_xlsx(["Nama Lengkap"], [(2, ["\x01=cmd\x02"], ["bad"])])
    assert calamine_rows(data)[1] == ["'=cmd", "bad"]


# --- Export -----------------------------------------------------------------------------------


@pytest.fixture
def officer(world):
    return world["officer_arjowilangun"]


def people_in_arjowilangun():
    return Person.objects.filter(village_id=ARJOWILANGUN).order_by("created_at")


def exported(*, full_nik=False):
    return [
        dict(zip(export_header(), row, strict=True))
        for row in iter_export_rows(people_in_arjowilangun(), full_nik=full_nik)
    ]


def test_export_header_is_the_template_header():
    assert export_header() == HEADERS


def test_export_masks_nik_and_kk_by_default(officer):
    person = register(actor=officer, no_kk=a_kk())
    [row] = exported()
    assert row["NIK"] == mask(person.nik)
    assert row["NIK"] != person.nik
    assert row["No KK"] == mask(person.no_kk)


def test_export_shows_full_nik_and_kk_when_asked(officer):
    person = register(actor=officer, no_kk=a_kk())
    [row] = exported(full_nik=True)
    assert row["NIK"] == person.nik
    assert row["No KK"] == person.no_kk


def test_export_of_a_person_without_nik_has_empty_identifier_cells(officer):
    register(actor=officer, nik=None)
    [row] = exported()
    assert row["NIK"] == ""
    assert row["No KK"] == ""


def test_export_escapes_a_name_that_is_a_formula(officer):
    register(actor=officer, full_name='=HYPERLINK("http://x")')
    [row] = exported()
    assert row["Nama Lengkap"] == '\'=HYPERLINK("http://x")'


def test_export_writes_the_person_in_the_spellings_the_import_reads(officer):
    register(
        actor=officer,
        full_name="Sri Wahyuni",
        sex="P",
        birth_place="Malang",
        education=Education.SMA,
        dusun="Krajan",
        rt="002",
        rw="005",
        address="Jl. Mawar 3",
        phone="081234567890",
    )
    [row] = exported()
    assert row["Jenis Kelamin"] == "P"
    assert row["Tempat Lahir"] == "Malang"
    assert row["Tanggal Lahir"] == BORN
    assert row["Kode Desa"] == ARJOWILANGUN
    assert row["Alamat"] == "Jl. Mawar 3, Dusun Krajan, RT 002/RW 005"
    assert row["No HP"] == "081234567890"
    assert row["Pendidikan"] == "SMA/SMK"


def test_export_of_a_family_member_has_no_migration(officer):
    register(actor=officer)
    [row] = exported()
    assert row["Status"] == "Keluarga"
    assert row["Negara Tujuan"] == ""
    assert row["Tanggal Berangkat"] is None
    assert row["Prosedural"] == ""


def test_export_of_a_returned_worker_shows_the_migration(officer):
    person = register(actor=officer)
    depart(
        person,
        actor=officer,
        country="HK",
        job_title="Penata laksana rumah tangga",
        sector="informal",
        placement_scheme="p2p",
        p3mi_name="PT Contoh",
        procedural_status=Procedural.PROCEDURAL,
    )
    come_home(person, actor=officer)
    [row] = exported()
    assert row["Status"] == "Purna PMI"
    assert row["Negara Tujuan"] == "Hong Kong"
    assert row["Jabatan"] == "Penata laksana rumah tangga"
    assert row["Sektor"] == "Informal"
    assert row["Skema Penempatan"] == "P to P"
    assert row["P3MI"] == "PT Contoh"
    assert row["Tanggal Berangkat"] == DEPARTED
    assert row["Tanggal Pulang"] == RETURNED
    assert row["Alasan Pulang"] == "Kontrak Selesai"
    assert row["Prosedural"] == "Ya"


def test_export_of_a_person_with_two_migrations_shows_the_latest(officer):
    person = register(actor=officer)
    depart(person, actor=officer, country="MY")
    come_home(person, actor=officer)
    plan(person, actor=officer, country="TW")
    [row] = exported()
    assert row["Status"] == "CPMI"
    assert row["Negara Tujuan"] == "Taiwan"
    assert row["Tanggal Berangkat"] is None


def test_person_row_without_episode_matches_the_header_length(officer):
    person = register(actor=officer)
    assert len(person_row(person, None, full_nik=False)) == len(export_header())


def register_migrants(officer, count):
    for _ in range(count):
        depart(register(actor=officer), actor=officer)


def export_queries(**options):
    with CaptureQueriesContext(connection) as queries:
        list(iter_export_rows(people_in_arjowilangun(), full_nik=False, **options))
    return len(queries)


def test_export_query_count_does_not_grow_with_the_people(officer):
    register_migrants(officer, 5)
    five = export_queries()
    register_migrants(officer, 20)
    assert export_queries() == five == 2  # the people, then their episodes


def test_export_runs_one_query_for_the_people_and_one_per_chunk_for_episodes(officer):
    register_migrants(officer, 25)
    assert export_queries(chunk_size=10) == 1 + 3


def test_csv_starts_with_a_bom_and_parses_back(officer):
    person = register(actor=officer, full_name="Siti Fatimah, S.Pd.")
    data = b"".join(
        stream_csv(export_header(), iter_export_rows(people_in_arjowilangun(), full_nik=True))
    )
    assert data.startswith(CSV_BOM)
    header, row = list(csv.reader(io.StringIO(data[len(CSV_BOM) :].decode("utf-8"))))
    assert header == HEADERS
    values = dict(zip(header, row, strict=True))
    assert values["NIK"] == person.nik
    assert values["Nama Lengkap"] == "Siti Fatimah, S.Pd."
    assert values["Tanggal Lahir"] == "1990-01-02"
    assert values["Tanggal Berangkat"] == ""


def test_csv_escapes_text_the_rows_did_not_escape():
    data = b"".join(stream_csv(["Nama Lengkap"], [["=1+1"]]))
    assert data == CSV_BOM + b"Nama Lengkap\r\n'=1+1\r\n"


def test_csv_of_many_rows_comes_in_blocks_that_join_to_every_row():
    rows = [[f"Warga {n}", datetime.date(1990, 1, 2)] for n in range(5000)]
    blocks = list(stream_csv(["Nama Lengkap", "Tanggal Lahir"], rows))
    assert len(blocks) > 1
    lines = b"".join(blocks)[len(CSV_BOM) :].decode("utf-8").splitlines()
    assert len(lines) == 5001
    assert lines[-1] == "Warga 4999,1990-01-02"


def test_xlsx_export_keeps_nik_as_text_and_dates_as_dates(officer):
    person = register(actor=officer, no_kk=a_kk())
    depart(person, actor=officer)
    data = write_xlsx(
        export_header(),
        iter_export_rows(people_in_arjowilangun(), full_nik=True),
        sheet_title="Register",
    )
    sheet = openpyxl.load_workbook(io.BytesIO(data))["Register"]
    assert [cell.value for cell in sheet[1]] == HEADERS
    assert sheet.freeze_panes == "A2"
    assert all(cell.font.bold for cell in sheet[1])
    nik, kk = sheet[f"{letter_of('NIK')}2"], sheet[f"{letter_of('No KK')}2"]
    assert (nik.value, nik.data_type, nik.number_format) == (person.nik, "s", "@")
    assert (kk.value, kk.data_type, kk.number_format) == (person.no_kk, "s", "@")
    departed = sheet[f"{letter_of('Tanggal Berangkat')}2"]
    assert departed.is_date
    assert departed.value.date() == DEPARTED
    assert calamine_rows(data)[1][0] == person.nik


def test_xlsx_export_never_writes_a_formula():
    data = write_xlsx(["Nama Lengkap"], [["=1+1"], ["@cmd"]], sheet_title="Register")
    sheet = openpyxl.load_workbook(io.BytesIO(data))["Register"]
    assert [cell.data_type for cell in sheet["A"][1:]] == ["s", "s"]
    assert [cell.value for cell in sheet["A"][1:]] == ["'=1+1", "'@cmd"]


def openpyxl_temporary_files():
    return set(Path(tempfile.gettempdir()).glob("openpyxl.*"))


def test_xlsx_export_refuses_rows_that_do_not_match_the_header_and_leaves_no_file():
    before = openpyxl_temporary_files()
    with pytest.raises(ValueError, match="zip"):
        write_xlsx(["NIK", "Nama Lengkap"], [[NIK, "Sri"], [NIK]], sheet_title="Register")
    assert openpyxl_temporary_files() == before


def test_error_report_that_fails_midway_leaves_no_file():
    def rows():
        yield (2, [NIK], ["Kolom NIK: sudah terdaftar."])
        raise RuntimeError("the import stopped")

    before = openpyxl_temporary_files()
    with pytest.raises(RuntimeError):
        error_report_xlsx(["NIK"], rows())
    assert openpyxl_temporary_files() == before
