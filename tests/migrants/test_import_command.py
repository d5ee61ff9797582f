"""`manage.py import_register`: the upload page's check (and commit) from a shell, for the
ministry's bulk loads and for scripts; it must say exactly what the page says."""

import io
import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import resolve, reverse

from migrants.models import Episode, ImportBatch, Person, PersonHistory
from tests.migrants.files import HEADERS, csv_bytes, file_nik, row, xlsx_bytes

SUMMARY = re.compile(
    r"^rows=(\d+) new=(\d+) updated=(\d+) unchanged=(\d+) warnings=(\d+) errors=(\d+)$"
)
COUNT_KEYS = ("rows", "new", "updated", "unchanged", "warnings", "errors")


@pytest.fixture(autouse=True)
def _uploads_in_a_temporary_folder(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def register_size() -> tuple[int, int, int]:
    return Person.objects.count(), Episode.objects.count(), PersonHistory.objects.count()


@pytest.fixture
def write(tmp_path):
    def write(data: bytes, name: str = "register.xlsx") -> str:
        path = tmp_path / name
        path.write_bytes(data)
        return str(path)

    return write


def run(path: str, *options: str, user: str = "officer_arjowilangun") -> tuple[int, str]:
    """The command's exit status and what it printed."""
    out = io.StringIO()
    try:
        call_command("import_register", path, "--as", user, *options, stdout=out)
    except SystemExit as exc:
        return exc.code, out.getvalue()
    return 0, out.getvalue()


def mixed_file() -> bytes:
    """Four people: two fine, one whose NIK says another birthday (a warning), one with an
    unknown sex (an error, on spreadsheet row 5); and a column the import does not know."""
    rows = [
        row(Nama_Lengkap="Sri Wahyuni"),
        row(Nama_Lengkap="Siti Aminah"),
        row(Nama_Lengkap="Beda Tanggal", Tanggal_Lahir="1995-06-16"),
        row(Nama_Lengkap="Salah Kelamin", Jenis_Kelamin="X"),
    ]
    return xlsx_bytes([{**r, "Hobi": "Menyanyi"} for r in rows], header=[*HEADERS, "Hobi"])


@pytest.mark.usefixtures("world")
def test_the_check_prints_each_problem_by_row_and_column_then_the_counts(write):
    status, output = run(write(mixed_file()))
    lines = output.splitlines()
    assert status == 1
    assert SUMMARY.match(lines[-1]).groups() == ("4", "3", "0", "0", "1", "1")
    assert lines[-1] == "rows=4 new=3 updated=0 unchanged=0 warnings=1 errors=1"
    problems = lines[:-1]
    assert any(
        line.startswith("row 5, column Jenis Kelamin: X tidak diizinkan") for line in problems
    )
    assert any(line.startswith("row 4, column NIK: warning: ") for line in problems)
    assert any(
        line.startswith("row 1, column -: warning: ") and "Hobi" in line for line in problems
    )
    assert all(re.match(r"^row \d+, column [^:]+: ", line) for line in problems)


@pytest.mark.usefixtures("world")
def test_the_check_alone_writes_nothing(write):
    before = register_size()
    status, output = run(write(xlsx_bytes([row(), row()])))
    assert status == 0
    assert output.splitlines()[-1] == "rows=2 new=2 updated=0 unchanged=0 warnings=0 errors=0"
    assert register_size() == before
    assert not ImportBatch.objects.exists()


def test_commit_writes_the_rows_as_one_logged_import(world, write):
    before = register_size()
    status, _output = run(write(xlsx_bytes([row(), row()]), "desa.xlsx"), "--commit")
    assert status == 0
    assert register_size() == (before[0] + 2, before[1] + 2, before[2] + 2)
    batch = ImportBatch.objects.get()
    assert (batch.state, batch.filename, batch.created_by) == (
        ImportBatch.State.COMMITTED,
        "desa.xlsx",
        world["officer_arjowilangun"],
    )
    assert batch.counts["new"] == 2
    assert set(PersonHistory.objects.values_list("source", "batch_id")) == {("import", batch.pk)}


@pytest.mark.usefixtures("world")
def test_commit_writes_the_valid_rows_and_still_exits_1_for_the_others(write):
    before = register_size()
    status, output = run(write(mixed_file()), "--commit")
    assert status == 1
    assert register_size()[0] == before[0] + 3
    assert not Person.objects.filter(full_name="Salah Kelamin").exists()
    assert output.splitlines()[-1].endswith("errors=1")


@pytest.mark.usefixtures("world")
def test_json_prints_one_object_with_the_counts_and_the_problems(write):
    status, output = run(write(mixed_file()), "--json")
    assert status == 1
    result = json.loads(output)
    assert set(result) == {*COUNT_KEYS, "problems"}
    assert [result[key] for key in COUNT_KEYS] == [4, 3, 0, 0, 1, 1]
    for problem in result["problems"]:
        assert set(problem) == {"row", "column", "level", "message"}
        assert problem["level"] in ("error", "warning")
        assert problem["message"]
    located = {(p["row"], p["column"], p["level"]) for p in result["problems"]}
    assert (5, "Jenis Kelamin", "error") in located
    assert (4, "NIK", "warning") in located
    assert (1, "", "warning") in located  # the unknown column: about the header row


@pytest.mark.usefixtures("world")
def test_a_file_refused_as_a_whole_is_a_command_error_with_its_message(write):
    with pytest.raises(CommandError, match="kosong"):
        run(write(b"", "kosong.csv"))
    with pytest.raises(CommandError, match=r"\.xls"):
        run(write(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(1000), "lama.xls"))


@pytest.mark.usefixtures("world")
def test_a_file_without_the_required_columns_exits_1_and_says_which(write):
    data = csv_bytes([{"Nama": "Sri"}], header=["Nama"])
    before = register_size()
    status, output = run(write(data, "nama.csv"), "--commit")
    assert status == 1
    assert "Jenis Kelamin" in output
    assert "Tanggal Lahir" in output
    assert register_size() == before


@pytest.mark.usefixtures("world")
def test_an_unknown_user_or_file_is_a_command_error(write, tmp_path):
    with pytest.raises(CommandError, match="nobody"):
        run(write(xlsx_bytes([row()])), user="nobody")
    with pytest.raises(CommandError, match="No such file"):
        run(str(tmp_path / "missing.xlsx"))
    with pytest.raises(CommandError, match="deactivated_officer"):
        run(write(xlsx_bytes([row()])), user="deactivated_officer")


@pytest.mark.usefixtures("world")
def test_a_user_whose_role_cannot_import_is_a_command_error(write):
    with pytest.raises(CommandError):
        run(write(xlsx_bytes([row()])), user="evaluator")


def test_a_5000_row_file_with_one_bad_row_commits_4999_from_the_shell(world, write):
    """The bulk path (COPY on PostgreSQL past 2,000 rows) for people, migrations and history."""
    rows = [
        row(NIK=file_nik(serial=n), Nama_Lengkap=f"Pekerja {n}", Tempat_Lahir="Malang")
        for n in range(1, 5001)
    ]
    rows[2499]["Jenis Kelamin"] = "X"
    before = register_size()
    status, output = run(write(csv_bytes(rows), "besar.csv"), "--commit")
    assert status == 1
    assert output.splitlines()[-1] == (
        "rows=5000 new=4999 updated=0 unchanged=0 warnings=0 errors=1"
    )
    assert register_size() == (before[0] + 4999, before[1] + 4999, before[2] + 4999)
    assert not Person.objects.filter(nik=file_nik(serial=2500)).exists()
    written = Person.objects.get(nik=file_nik(serial=4321))
    assert (written.full_name, written.status, written.current_country) == (
        "Pekerja 4321",
        "cpmi",
        "HK",
    )
    assert written.episodes.get().destination_country == "HK"
    assert written.history.get().batch == ImportBatch.objects.get()


def test_the_command_and_the_upload_page_agree_on_the_same_file(
    write, officer_arjowilangun, django_capture_on_commit_callbacks
):
    data = mixed_file()
    with django_capture_on_commit_callbacks(execute=True):
        response = officer_arjowilangun.post(
            reverse("migrants:import"), {"file": SimpleUploadedFile("register.xlsx", data)}
        )
    batch = ImportBatch.objects.get(pk=resolve(response.url).kwargs["pk"])
    assert batch.state == ImportBatch.State.VALIDATED

    _status, output = run(write(data), "--json")
    result = json.loads(output)
    assert {key: result[key] for key in COUNT_KEYS} == batch.counts
    assert {(p["row"], p["column"], p["level"]) for p in result["problems"]} == set(
        batch.problems.values_list("row", "column", "level")
    )
    # The same words too: both speak Indonesian unless the user chose otherwise.
    assert sorted(p["message"] for p in result["problems"]) == sorted(
        batch.problems.values_list("message", flat=True)
    )
