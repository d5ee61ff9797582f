"""The bulk import as a service: every row checked first (with clear messages on the right
column), then all the valid rows written together, once, or none; undone as a whole.

Files go through the same path as an upload: `import_upload` stores and validates (Celery
runs inline in tests, on transaction commit), `confirm_batch` commits.
"""

import datetime
import random
from collections.abc import Callable

import pytest
from django.db import IntegrityError
from django.test import override_settings
from django.utils import timezone, translation
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from migrants import importer
from migrants.importer import (
    Outcome,
    Plan,
    confirm_batch,
    import_upload,
    plan_import,
    validate_batch,
)
from migrants.models import Episode, ImportBatch, ImportChange, Person, PersonHistory
from migrants.tabular import FileRejected, read_table
from tests.migrants import files
from tests.migrants.factories import KENANGA, register
from tests.migrants.files import (
    COMMIT_FAILS_ON_POSTGRESQL,
    FILE_BORN,
    HEADERS,
    csv_bytes,
    file_nik,
    row,
    xlsx_bytes,
)

MB = 1024 * 1024
FUZZ = hypothesis_settings(
    max_examples=50,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@pytest.fixture(autouse=True)
def _uploads_in_a_temporary_folder(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def register_size() -> tuple[int, int, int]:
    return Person.objects.count(), Episode.objects.count(), PersonHistory.objects.count()


@pytest.fixture
def upload(django_capture_on_commit_callbacks) -> Callable[..., ImportBatch]:
    """Upload a file as `actor`; it is checked at once (the task runs inline on commit)."""

    def upload(actor, data: bytes, filename: str = "register.xlsx") -> ImportBatch:
        with django_capture_on_commit_callbacks(execute=True):
            batch = import_upload(actor=actor, data=data, filename=filename)
        batch.refresh_from_db()
        return batch

    return upload


@pytest.fixture
def confirm(django_capture_on_commit_callbacks) -> Callable[..., bool]:
    """Confirm a checked file; the commit runs at once. Returns whether the click counted."""

    def confirm(batch: ImportBatch, actor) -> bool:
        with django_capture_on_commit_callbacks(execute=True):
            claimed = confirm_batch(batch=batch, actor=actor)
        batch.refresh_from_db()
        return claimed

    return confirm


@pytest.fixture
def officer(world):
    return world["officer_arjowilangun"]


def plan_of(data: bytes, actor) -> Plan:
    return plan_import(table=read_table(data), actor=actor)


def errors_of(plan: Plan, number: int) -> dict[str, list[str]]:
    """The errors of the row the spreadsheet numbers `number`, by column header."""
    found: dict[str, list[str]] = {}
    for planned in plan.rows:
        if planned.row == number:
            for column, message in planned.errors:
                found.setdefault(column, []).append(message)
    return found


def all_messages(plan: Plan, number: int) -> list[str]:
    (planned,) = [r for r in plan.rows if r.row == number]
    return [message for _column, message in planned.errors + planned.warnings]


# --- Files refused as a whole: a clear message, nothing written ---------------------------------


def _missing_name() -> bytes:
    header = [h for h in HEADERS if h != "Nama Lengkap"]
    return xlsx_bytes([row()], header=header)


def _zip_bomb() -> bytes:
    members = files.xlsx_members()
    sheet = members["xl/worksheets/sheet1.xml"]
    members["xl/worksheets/sheet1.xml"] = sheet.replace(
        b"</sheetData>", b"</sheetData>" + b" " * (6 * MB), 1
    )
    return files.zip_bytes(members)


def _entity_bomb() -> bytes:
    return files.xlsx_with_parts({"xl/worksheets/sheet1.xml": files.entity_bomb_sheet()})


def _entity_bomb_in_the_workbook() -> bytes:
    workbook = files.xlsx_members()["xl/workbook.xml"]
    return files.xlsx_with_parts({"xl/workbook.xml": files.entity_bomb_workbook(workbook)})


def _too_many_parts() -> bytes:
    members = files.xlsx_members()
    members.update({f"xl/media/image{n}.png": files.PNG for n in range(201)})
    return files.zip_bytes(members)


REFUSED_FILES = {
    # name: (the file, a word of the English message)
    "missing-nama-lengkap": (_missing_name, "Nama Lengkap"),
    "foreign-headers": (
        lambda: csv_bytes([{"Name of worker": "Sri"}], header=["Name of worker", "Age"]),
        "Jenis Kelamin",
    ),
    "empty": (lambda: b"", "empty"),
    "header-only": (lambda: xlsx_bytes([]), "no rows"),
    "header-only-csv": (lambda: csv_bytes([]), "no rows"),
    "png-named-xlsx": (lambda: files.PNG, "neither an xlsx spreadsheet nor a CSV"),
    "pdf-named-xlsx": (lambda: files.PDF, "neither an xlsx spreadsheet nor a CSV"),
    "random-binary": (
        lambda: random.Random(3).randbytes(3000),
        "neither an xlsx spreadsheet nor a CSV",
    ),
    "old-xls": (lambda: files.XLS, ".xls"),
    "zip-bomb": (_zip_bomb, "unsafe"),
    "too-many-parts": (_too_many_parts, "too many parts"),
    "entity-bomb": (_entity_bomb, "unsafe"),
    "entity-bomb-in-the-workbook": (_entity_bomb_in_the_workbook, "unsafe"),
    "over-the-row-limit": (lambda: csv_bytes([row() for _ in range(11)]), "at most 10 rows"),
    "over-the-byte-limit": (
        lambda: csv_bytes([row(Alamat="x" * 200) for _ in range(4000)]),
        "larger than 1 MB",
    ),
}


@override_settings(IMPORT_MAX_ROWS=10, IMPORT_MAX_BYTES=MB, IMPORT_MAX_UNCOMPRESSED=5 * MB)
@pytest.mark.parametrize("name", REFUSED_FILES)
def test_a_refused_file_says_why_and_writes_nothing(upload, confirm, officer, name):
    build, word = REFUSED_FILES[name]
    before = register_size()
    with translation.override("en"):
        batch = upload(officer, build())
    assert batch.state == ImportBatch.State.REJECTED
    assert word in batch.message
    assert not confirm(batch, officer)  # a refused file cannot be confirmed either
    assert register_size() == before
    assert not ImportChange.objects.exists()


def test_the_refusal_is_in_indonesian_by_default(upload, officer):
    assert "kosong" in upload(officer, b"").message
    assert "Nama Lengkap" in upload(officer, _missing_name()).message


def test_an_unknown_column_is_a_warning_not_a_refusal(officer):
    plan = plan_of(csv_bytes([{**row(), "Hobi": "Menyanyi"}], header=[*HEADERS, "Hobi"]), officer)
    (level, message) = plan.file_problems[0]
    assert level == "warning"
    assert "Hobi" in message
    assert plan.counts["new"] == 1


def test_the_same_field_twice_refuses_the_file(officer):
    with translation.override("en"):
        plan = plan_of(csv_bytes([row()], header=[*HEADERS, "Full name"]), officer)
    (level, message) = plan.file_problems[0]
    assert level == "error"
    assert "Nama Lengkap" in message
    assert "Full name" in message


def test_a_role_that_cannot_import_is_refused_before_any_row_is_read(world):
    with pytest.raises(FileRejected):
        plan_of(csv_bytes([row()]), world["evaluator"])


@pytest.mark.parametrize(
    ("encoding", "delimiter"),
    [("cp1252", ","), ("utf-16", ","), ("utf-8-sig", ";")],
    ids=["windows-1252", "utf-16-bom", "utf-8-bom-semicolon"],
)
def test_csv_names_with_accents_arrive_as_typed_in_every_encoding(officer, encoding, delimiter):
    names = ["José Muñoz", "Ñoño Pérez"]
    data = csv_bytes(
        [row(Nama_Lengkap=name) for name in names], encoding=encoding, delimiter=delimiter
    )
    plan = plan_of(data, officer)
    assert plan.counts["new"] == 2
    assert [planned.person["full_name"] for planned in plan.rows] == names


# --- Cells: formulas, dates, NIKs ---------------------------------------------------------------


@COMMIT_FAILS_ON_POSTGRESQL
@pytest.mark.parametrize("build", [xlsx_bytes, csv_bytes], ids=["xlsx", "csv"])
def test_a_formula_in_a_name_is_stored_as_the_text_typed(upload, confirm, officer, build):
    batch = upload(officer, build([row(Nama_Lengkap="=1+1"), row(Nama_Lengkap="@SUM(1)")]))
    assert batch.counts["new"] == 2
    confirm(batch, officer)
    assert set(Person.objects.values_list("full_name", flat=True)) == {"=1+1", "@SUM(1)"}


@pytest.mark.parametrize(
    "value",
    [
        "1995-06-15",
        "15/06/1995",
        "15-06-1995",
        "1995-6-15",
        datetime.date(1995, 6, 15),
        datetime.datetime(1995, 6, 15, 0, 0),
    ],
    ids=["iso", "dd/mm/yyyy", "dd-mm-yyyy", "iso-short", "excel-date", "excel-datetime"],
)
def test_every_accepted_date_form_is_read_as_the_same_day(officer, value):
    plan = plan_of(xlsx_bytes([row(Tanggal_Lahir=value)]), officer)
    (planned,) = plan.rows
    assert planned.errors == []
    assert planned.person["birth_date"] == datetime.date(1995, 6, 15)


@pytest.mark.parametrize(
    "value",
    ["13/13/2020", "2020/01/02", "1/2/20", "31/02/1995", "kemarin", 44927, 44927.5],
    ids=["month-13", "slashed-iso", "short-year", "30-february", "words", "number", "fraction"],
)
@pytest.mark.parametrize("header", ["Tanggal Lahir", "Tanggal Berangkat"])
def test_an_ambiguous_or_impossible_date_is_an_error_on_its_column(officer, header, value):
    with translation.override("en"):
        plan = plan_of(
            xlsx_bytes([row(**{header.replace(" ", "_"): value, "Status": ""})]), officer
        )
    errors = errors_of(plan, 2)
    assert errors[header], errors
    assert any("date" in message for message in errors[header])
    assert plan.counts["errors"] == 1


@pytest.mark.parametrize(
    ("header", "value"), [("Jenis Kelamin", "X"), ("Tanggal Lahir", "31/02/1995")]
)
def test_a_refused_value_in_a_required_column_is_one_message_not_also_missing(
    officer, header, value
):
    with translation.override("en"):
        plan = plan_of(xlsx_bytes([row(**{header.replace(" ", "_"): value})]), officer)
    (message,) = errors_of(plan, 2)[header]
    assert value in message


def test_a_date_typed_as_a_number_in_a_csv_is_an_error_too(officer):
    with translation.override("en"):
        plan = plan_of(csv_bytes([row(Tanggal_Lahir="44927")]), officer)
    assert "44927 is not a date" in errors_of(plan, 2)["Tanggal Lahir"][0]


def test_a_nik_in_a_number_cell_is_an_error_telling_to_format_it_as_text(officer):
    nik = file_nik()
    with translation.override("en"):
        plan = plan_of(xlsx_bytes([row(NIK=int(nik))]), officer)
    (message,) = errors_of(plan, 2)["NIK"]
    assert "as text" in message
    with translation.override("id"):
        plan = plan_of(xlsx_bytes([row(NIK=int(nik))]), officer)
    assert "teks" in errors_of(plan, 2)["NIK"][0]


def test_a_nik_in_a_date_cell_is_an_error_on_the_nik_column(officer):
    plan = plan_of(xlsx_bytes([row(NIK=datetime.date(2020, 1, 1))]), officer)
    assert errors_of(plan, 2)["NIK"]


def _fullwidth(digits: str) -> str:
    return "".join(chr(0xFF10 + int(d)) for d in digits)


@COMMIT_FAILS_ON_POSTGRESQL
@pytest.mark.parametrize(
    "spell",
    [
        lambda nik: " ".join(nik[i : i + 4] for i in range(0, 16, 4)),
        lambda nik: "-".join(nik[i : i + 4] for i in range(0, 16, 4)),
        lambda nik: f" {nik} ",
        lambda nik: nik[:6] + "." + nik[6:12] + "." + nik[12:],
        _fullwidth,
    ],
    ids=["spaces", "dashes", "padded", "dots", "full-width"],
)
def test_a_nik_with_separators_or_full_width_digits_is_accepted_and_stored_normalised(
    upload, confirm, officer, spell
):
    nik = file_nik()
    batch = upload(officer, xlsx_bytes([row(NIK=spell(nik))]))
    assert batch.counts["new"] == 1, list(batch.problems.values_list("message", flat=True))
    confirm(batch, officer)
    assert Person.objects.get().nik == nik


def test_a_nik_twice_in_the_file_is_an_error_on_both_rows(officer):
    nik = file_nik()
    with translation.override("en"):
        plan = plan_of(xlsx_bytes([row(NIK=nik), row(), row(NIK=nik)]), officer)
    for number in (2, 4):
        (message,) = errors_of(plan, number)["NIK"]
        assert "2 times" in message
    assert errors_of(plan, 3) == {}
    assert plan.counts == {
        "rows": 3,
        "new": 1,
        "updated": 0,
        "unchanged": 0,
        "warnings": 0,
        "errors": 2,
    }


def test_a_nik_registered_in_a_village_outside_the_scope_is_refused_without_saying_where(
    world, officer
):
    elsewhere = register(
        actor=world["officer_kenanga"],
        village=KENANGA,
        full_name="Rahasia Kenanga",
        birth_place="Indramayu",
        address="Jl. Rahasia 9",
    )
    with translation.override("en"):
        plan = plan_of(xlsx_bytes([row(NIK=elsewhere.nik, Nama_Lengkap="Sri")]), officer)
    (message,) = errors_of(plan, 2)["NIK"]
    assert "another village" in message
    said = " ".join(all_messages(plan, 2))
    for secret in ("Rahasia", "Kenanga", "Indramayu", "Sindang", KENANGA, "32.12", "Jl."):
        assert secret not in said
    assert plan.rows[0].existing is None


@pytest.mark.parametrize(
    ("code", "word"),
    [
        (KENANGA, "outside your area"),
        ("35.07.33.2006", "outside your area"),  # Brongkal: the same regency, another village
        ("35.07.11.9999", "not a village code in the region list"),
        ("35.07.11", "not a village code"),
    ],
    ids=["other-province", "other-village", "unknown", "a-district"],
)
def test_a_village_outside_the_uploaders_area_is_an_error(officer, code, word):
    with translation.override("en"):
        plan = plan_of(xlsx_bytes([row(Kode_Desa=code)]), officer)
    (message,) = errors_of(plan, 2)["Kode Desa"]
    assert word in message


def test_an_officers_rows_without_village_code_go_to_the_officers_village(officer):
    (planned,) = plan_of(xlsx_bytes([row(Kode_Desa="")]), officer).rows
    assert planned.errors == []
    assert planned.village == "35.07.11.2008"


def test_a_coordinators_rows_need_the_village_code(world):
    with translation.override("en"):
        plan = plan_of(xlsx_bytes([row(Kode_Desa="")]), world["coordinator_malang"])
    assert "village code" in errors_of(plan, 2)["Kode Desa"][0]


# --- One bad row among 5,000 ----------------------------------------------------------------------


@COMMIT_FAILS_ON_POSTGRESQL
def test_one_bad_row_among_5000_leaves_4999_written_and_only_the_bad_one_out(
    upload, confirm, officer
):
    rows = [
        row(NIK=file_nik(serial=n), Nama_Lengkap=f"Pekerja {n}", Tempat_Lahir="Malang")
        for n in range(1, 5001)
    ]
    rows[2499]["Jenis Kelamin"] = "X"  # spreadsheet row 2501
    before = register_size()

    batch = upload(officer, xlsx_bytes(rows))
    assert batch.state == ImportBatch.State.VALIDATED
    assert batch.counts == {
        "rows": 5000,
        "new": 4999,
        "updated": 0,
        "unchanged": 0,
        "warnings": 0,
        "errors": 1,
    }
    assert set(batch.problems.values_list("row", "column", "level")) == {
        (2501, "Jenis Kelamin", "error")
    }

    confirm(batch, officer)
    assert batch.state == ImportBatch.State.COMMITTED, batch.message
    assert register_size() == (before[0] + 4999, before[1] + 4999, before[2] + 4999)
    assert not Person.objects.filter(nik=file_nik(serial=2500)).exists()
    assert Person.objects.filter(full_name="Pekerja 5000", village_id="35.07.11.2008").exists()
    written = Person.objects.get(nik=file_nik(serial=1))
    assert (written.status, written.current_country, written.birth_date) == (
        "cpmi",
        "HK",
        FILE_BORN,
    )


# --- Fuzz: random input never crashes the check and never writes ----------------------------------


def _check_never_crashes(data: bytes, actor) -> None:
    before = register_size()
    try:
        plan = plan_of(data, actor)
    except FileRejected as exc:
        refused = exc.message
        assert refused
    else:
        for planned in plan.rows:
            assert planned.outcome in (Outcome.NEW, Outcome.UPDATED, Outcome.UNCHANGED, "error")
    assert register_size() == before


@FUZZ
@given(data=st.binary(max_size=4096))
def test_random_bytes_are_read_or_refused_never_crash_and_write_nothing(officer, data):
    _check_never_crashes(data, officer)


@FUZZ
@given(text=st.text(max_size=1000))
def test_random_text_as_csv_is_read_or_refused_never_crash_and_write_nothing(officer, text):
    _check_never_crashes(text.encode("utf-8"), officer)


_PLAUSIBLE = st.sampled_from(
    [
        "",
        "P",
        "L",
        "X",
        "CPMI",
        "PMI",
        "Purna PMI",
        "Keluarga",
        "Hong Kong",
        "TW",
        "Atlantis",
        "1995-06-15",
        "15/06/1995",
        "31/02/1995",
        "2999-01-01",
        "35.07.11.2008",
        "3507112008",
        "32.12.16.2004",
        "3507115506950001",
        "3507 1155 0695 0001",
        "=1+1",
        "Ya",
        "Kontrak Selesai",
        "SMA/SMK",
        "x" * 300,
    ]
)
_CELL = st.one_of(_PLAUSIBLE, st.text(max_size=20))


@FUZZ
@given(rows=st.lists(st.lists(_CELL, min_size=len(HEADERS), max_size=len(HEADERS)), max_size=6))
def test_random_cells_under_the_template_header_never_crash_the_check(officer, rows):
    text = files.csv_text([dict(zip(HEADERS, cells, strict=True)) for cells in rows])
    _check_never_crashes(text.encode("utf-8"), officer)


# --- Importing the same file again --------------------------------------------------------------


def _an_hour_later(batch: ImportBatch) -> None:
    """Move the batch an hour back, out of the double-click window."""
    ImportBatch.objects.filter(pk=batch.pk).update(
        created_at=timezone.now() - datetime.timedelta(hours=1)
    )


@COMMIT_FAILS_ON_POSTGRESQL
def test_importing_the_same_file_again_changes_nothing(upload, confirm, officer):
    rows = [row(Tempat_Lahir="Malang", Alamat="Jl. Mawar 3") for _ in range(3)]
    rows.append(
        row(
            Status="Purna PMI",
            Tanggal_Berangkat="2021-03-01",
            Tanggal_Pulang="01/03/2023",
            Alasan_Pulang="Kontrak Selesai",
            Negara_Tujuan="Taiwan",
        )
    )
    rows.append(row(Status="", Negara_Tujuan=""))  # a family member: no migration
    data = xlsx_bytes(rows)
    first = upload(officer, data)
    confirm(first, officer)
    assert first.state == ImportBatch.State.COMMITTED
    _an_hour_later(first)
    before = register_size()
    stamps = dict(Person.objects.values_list("pk", "updated_at"))

    second = upload(officer, data)
    assert second.pk != first.pk
    assert second.counts["unchanged"] == 5
    assert (second.counts["new"], second.counts["updated"], second.counts["errors"]) == (0, 0, 0)
    confirm(second, officer)
    assert register_size() == before
    assert dict(Person.objects.values_list("pk", "updated_at")) == stamps
    assert not ImportChange.objects.filter(batch=second).exists()


@COMMIT_FAILS_ON_POSTGRESQL
def test_changing_one_cell_updates_that_person_with_an_import_history_entry(
    upload, confirm, officer
):
    rows = [row(Tempat_Lahir="Malang") for _ in range(3)]
    first = upload(officer, xlsx_bytes(rows))
    confirm(first, officer)
    _an_hour_later(first)
    history_before = PersonHistory.objects.count()

    rows[1]["Tempat Lahir"] = "Blitar"
    second = upload(officer, xlsx_bytes(rows))
    assert (second.counts["updated"], second.counts["unchanged"]) == (1, 2)
    confirm(second, officer)

    changed = Person.objects.get(nik=rows[1]["NIK"])
    assert changed.birth_place == "Blitar"
    assert PersonHistory.objects.count() == history_before + 1
    entry = PersonHistory.objects.latest("id")
    assert (entry.person_id, entry.source, entry.batch_id) == (changed.pk, "import", second.pk)
    assert entry.actor == officer
    assert entry.changes == {"birth_place": ["Malang", "Blitar"]}


@COMMIT_FAILS_ON_POSTGRESQL
def test_an_empty_cell_never_erases_what_is_recorded(upload, confirm, officer):
    person = row(Tempat_Lahir="Malang", Alamat="Jl. Mawar 3")
    first = upload(officer, xlsx_bytes([person]))
    confirm(first, officer)
    _an_hour_later(first)

    second = upload(officer, xlsx_bytes([{**person, "Tempat Lahir": "", "Alamat": None}]))
    assert second.counts["unchanged"] == 1
    stored = Person.objects.get()
    assert (stored.birth_place, stored.address) == ("Malang", "Jl. Mawar 3")


# --- Double clicks --------------------------------------------------------------------------------


def test_the_same_file_uploaded_twice_within_minutes_is_one_batch(upload, officer):
    data = xlsx_bytes([row(), row()])
    first = upload(officer, data, "register.xlsx")
    second = upload(officer, data, "register (1).xlsx")
    assert second.pk == first.pk
    assert ImportBatch.objects.count() == 1


def test_the_same_file_from_another_user_is_another_batch(upload, world):
    data = xlsx_bytes([row()])
    first = upload(world["officer_arjowilangun"], data)
    second = upload(world["coordinator_malang"], data)
    assert second.pk != first.pk


@COMMIT_FAILS_ON_POSTGRESQL
def test_confirming_twice_imports_once(upload, confirm, officer):
    batch = upload(officer, xlsx_bytes([row(), row(), row()]))
    before = register_size()
    assert confirm(batch, officer)
    assert not confirm(batch, officer)
    assert batch.state == ImportBatch.State.COMMITTED
    assert register_size() == (before[0] + 3, before[1] + 3, before[2] + 3)


@COMMIT_FAILS_ON_POSTGRESQL
def test_a_redelivered_validation_or_commit_task_does_nothing(upload, confirm, officer):
    batch = upload(officer, xlsx_bytes([row()]))
    validate_batch(batch_id=batch.pk)  # a second delivery of the validation
    confirm(batch, officer)
    size = register_size()
    importer.commit_batch(batch_id=batch.pk)  # a second delivery of the commit
    assert register_size() == size


# --- All or nothing -------------------------------------------------------------------------------


@COMMIT_FAILS_ON_POSTGRESQL
def test_confirming_a_checked_file_commits_it(upload, confirm, officer):
    batch = upload(officer, xlsx_bytes([row(), row()]))
    assert confirm(batch, officer)
    assert batch.state == ImportBatch.State.COMMITTED, batch.message
    assert batch.counts["new"] == 2


@COMMIT_FAILS_ON_POSTGRESQL
def test_a_commit_that_fails_midway_writes_nothing_and_a_retry_imports_once(
    upload, confirm, officer, monkeypatch
):
    batch = upload(officer, xlsx_bytes([row(), row(), row()]))
    before = register_size()

    def failing_on_history(insert):
        def failing(model, items, **options):
            if model is PersonHistory:
                raise IntegrityError("the disk is full")
            insert(model, items, **options)

        return failing

    # The history goes in last: people and migrations are already inserted when it fails.
    # (_insert_rows: new rows written as plain values, where the importer has it.)
    inserts = {
        name: getattr(importer, name)
        for name in ("_bulk_insert", "_insert_rows")
        if hasattr(importer, name)
    }
    for name, insert in inserts.items():
        monkeypatch.setattr(importer, name, failing_on_history(insert))
    confirm(batch, officer)
    assert batch.state == ImportBatch.State.FAILED
    assert "the disk is full" in batch.message
    assert register_size() == before  # the people inserted before the failure are gone too
    assert not ImportChange.objects.exists()

    for name, insert in inserts.items():
        monkeypatch.setattr(importer, name, insert)
    assert confirm(batch, officer)  # "Try again"
    assert batch.state == ImportBatch.State.COMMITTED
    assert batch.message == ""
    assert register_size() == (before[0] + 3, before[1] + 3, before[2] + 3)


@COMMIT_FAILS_ON_POSTGRESQL
def test_the_commit_checks_the_rows_again_against_todays_register(upload, confirm, officer, world):
    """A NIK registered elsewhere between the check and the confirmation is not imported."""
    taken = row()
    batch = upload(officer, xlsx_bytes([taken, row()]))
    assert batch.counts["new"] == 2
    register(actor=world["officer_kenanga"], village=KENANGA, nik=taken["NIK"])
    confirm(batch, officer)
    assert batch.counts["new"] == 1
    assert Person.objects.filter(village_id="35.07.11.2008").count() == 1


def test_a_nul_character_in_a_cell_neither_reaches_the_register_nor_breaks_the_import(
    upload, confirm, officer
):
    rows = [row() for _ in range(60)]  # past the 4 KB the reader looks at for binary files
    rows.append(row(Nama_Lengkap="Sri\x00 Wahyuni"))
    data = csv_bytes(rows)
    assert data.index(b"\x00") > 4096
    batch = upload(officer, data, "register.csv")
    assert batch.state == ImportBatch.State.VALIDATED
    confirm(batch, officer)
    assert batch.state == ImportBatch.State.COMMITTED, batch.message
    names = Person.objects.values_list("full_name", flat=True)
    assert not [name for name in names if "\x00" in name]


def _stored(batch: ImportBatch) -> list[tuple]:
    """What an import wrote, independent of ids and clocks: each person with their warnings,
    migration and history entry, by NIK."""
    stored = []
    people = Person.objects.filter(history__batch_id=batch.pk).prefetch_related("episodes")
    for person in people.order_by("nik"):
        entry = PersonHistory.objects.get(person=person, batch_id=batch.pk)
        episodes = [
            (e.destination_country, e.departure_date, e.return_date, e.procedural_status)
            for e in person.episodes.all()
        ]
        stored.append(
            (
                person.nik[-4:],
                person.full_name,
                person.status,
                person.nik_warnings,
                episodes,
                entry.action,
                entry.village_id,
                entry.actor_id,
                {key: value for key, value in entry.changes.items() if key != "nik"},
            )
        )
    return stored


def test_big_imports_through_copy_store_the_same_values_as_small_ones(
    upload, confirm, officer, monkeypatch
):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("COPY is the PostgreSQL path of big imports")

    def rows(serial: int) -> list[dict]:
        return [
            row(NIK=file_nik(serial=serial), Nama_Lengkap="Siti Aminah"),
            row(
                NIK=file_nik(serial=serial + 1),
                Nama_Lengkap="Dewi Lestari",
                Status="Purna PMI",
                Negara_Tujuan="Taiwan",
                Tanggal_Berangkat="2021-03-01",
                Tanggal_Pulang="2023-03-01",
                Alasan_Pulang="Kontrak Selesai",
            ),
            # A NIK from a district missing in today's list: stored with its warning.
            row(NIK=file_nik(serial=serial + 2, district="35.07.99"), Nama_Lengkap="Rina"),
        ]

    monkeypatch.setattr(importer, "COPY_THRESHOLD", 10_000)
    small = upload(officer, xlsx_bytes(rows(10)))
    confirm(small, officer)
    monkeypatch.setattr(importer, "COPY_THRESHOLD", 0)
    big = upload(officer, xlsx_bytes(rows(20)))
    confirm(big, officer)

    assert big.counts["new"] == small.counts["new"] == 3
    through_copy, through_orm = _stored(big), _stored(small)
    assert [entry[1:] for entry in through_copy] == [entry[1:] for entry in through_orm]
    # JSON arrives as JSON, not as a string holding JSON.
    assert any(entry[3] for entry in through_copy)
    assert all(isinstance(entry[3], list) for entry in through_copy)
    assert all(entry[8]["full_name"] == ["", entry[1]] for entry in through_copy)
