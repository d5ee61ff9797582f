"""Importing enterprises, cooperative members and parenting attendance from a spreadsheet:
checked first (counts and problems per row and column), then all the valid rows written
through the audited service, once, or none; who may open which page.

Files go the way an upload goes: `import_upload` stores and checks (Celery runs inline in
tests, on transaction commit), `confirm_batch` commits.
"""

import datetime
import io
from collections.abc import Callable

import openpyxl
import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import resolve, reverse
from django.utils import timezone, translation

from migrants import services as register_services
from migrants.columns import ERROR_HEADER
from migrants.models import Person
from pillars import imports, services
from pillars.imports import confirm_batch, import_upload
from pillars.models import (
    AuditEntry,
    Cooperative,
    CooperativeMember,
    Enterprise,
    ParentingGroup,
    ParentingSession,
    PillarImport,
    PillarKind,
)
from tests.migrants import files
from tests.migrants.factories import ARJOWILANGUN, BRONGKAL, KENANGA, register

LOGIN = reverse("account_login")
LIST = reverse("pillars:import-list")
START = reverse("pillars:import")
State = PillarImport.State

ENTERPRISE_HEADER = [
    "NIK Pemilik",
    "Nama Pemilik",
    "Nama Usaha",
    "Sektor",
    "Produk",
    "Tanggal Mulai",
    "Status Usaha",
    "Tenaga Kerja",
    "Omzet per Bulan",
    "Siap Ekspor",
    "Bantuan yang Diterima",
]
MEMBER_HEADER = [
    "Nama Koperasi",
    "NIK Anggota",
    "Nama Anggota",
    "Tanggal Bergabung",
    "Tanggal Keluar",
]
ATTENDANCE_HEADER = [
    "Nama Kelompok",
    "Tanggal",
    "Topik",
    "Anak Hadir",
    "Orang Tua Hadir",
    "Catatan",
]
NIK_HEADERS = {"NIK Pemilik", "NIK Anggota"}
COOPERATIVE = "Koperasi Purna Sejahtera"
GROUP = "Rumah Belajar Melati"


def url(name: str, *args) -> str:
    return reverse(f"pillars:{name}", args=args)


def in_english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def xlsx(header: list[str], rows: list[dict]) -> bytes:
    """An xlsx as Excel saves it, NIK columns formatted as text; rows keyed by header."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Data"
    sheet.append(header)
    for values in rows:
        sheet.append([values.get(name) for name in header])
    for cells in sheet.iter_rows(min_row=2):
        for cell in cells:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # typed text, not a formula
    for index, name in enumerate(header, start=1):
        if name in NIK_HEADERS:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = "@"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def workbook_of(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def rows_of(data: bytes, sheet: int = 0) -> list[list]:
    return [list(v) for v in workbook_of(data).worksheets[sheet].iter_rows(values_only=True)]


def counts(batch: PillarImport) -> dict:
    return {k: batch.counts[k] for k in ("rows", "new", "unchanged", "errors")}


def errors_by_row(batch: PillarImport) -> dict[int, dict[str, list[str]]]:
    found: dict[int, dict[str, list[str]]] = {}
    for problem in batch.problems:
        if problem["level"] == "error":
            found.setdefault(problem["row"], {}).setdefault(problem["column"], []).append(
                problem["message"]
            )
    return found


def pillar_sizes() -> tuple[int, int, int, int]:
    return (
        Enterprise.objects.count(),
        CooperativeMember.objects.count(),
        ParentingSession.objects.count(),
        AuditEntry.objects.count(),
    )


@pytest.fixture(autouse=True)
def _uploads_in_a_temporary_folder(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def officer(world):
    return world["officer_arjowilangun"]


@pytest.fixture
def upload(django_capture_on_commit_callbacks) -> Callable[..., PillarImport]:
    """Upload a file as `actor`; it is checked at once (the task runs inline on commit)."""

    def upload(
        actor, data: bytes, target: str, village: str = ARJOWILANGUN, filename: str = "data.xlsx"
    ) -> PillarImport:
        with django_capture_on_commit_callbacks(execute=True):
            batch = import_upload(
                actor=actor, target=target, village=village, data=data, filename=filename
            )
        batch.refresh_from_db()
        return batch

    return upload


@pytest.fixture
def confirm(django_capture_on_commit_callbacks) -> Callable[..., bool]:
    """Confirm a checked file; the commit runs at once. Returns whether the click counted."""

    def confirm(batch: PillarImport, actor) -> bool:
        with django_capture_on_commit_callbacks(execute=True):
            claimed = confirm_batch(batch=batch, actor=actor)
        batch.refresh_from_db()
        return claimed

    return confirm


@pytest.fixture
def people(officer) -> list[Person]:
    """Three adults of Arjowilangun's register."""
    return [register(actor=officer, full_name=name) for name in ("Sri Wahyuni", "Ani", "Budi")]


@pytest.fixture
def cooperative(officer) -> Cooperative:
    coop = Cooperative(village_id=ARJOWILANGUN, type=Cooperative.Type.COOPERATIVE, name=COOPERATIVE)
    services.record_create(actor=officer, instance=coop, kind=PillarKind.COOPERATIVE)
    return coop


@pytest.fixture
def group(officer) -> ParentingGroup:
    found = ParentingGroup(village_id=ARJOWILANGUN, name=GROUP, facilitators="Bu Tini")
    services.record_create(actor=officer, instance=found, kind=PillarKind.PARENTING)
    return found


def enterprise_row(owner: Person, **cells) -> dict:
    values = {
        "NIK Pemilik": owner.nik,
        "Nama Pemilik": owner.full_name,
        "Nama Usaha": f"Usaha {owner.full_name}",
        "Sektor": "Makanan dan Minuman",
        "Produk": "Keripik tempe",
        "Tanggal Mulai": datetime.date(2023, 5, 1),
        "Status Usaha": "Berjalan",
        "Tenaga Kerja": 3,
        "Omzet per Bulan": "1-5 juta",
        "Siap Ekspor": "Tidak",
        "Bantuan yang Diterima": "Pelatihan pengemasan",
    }
    values.update({name.replace("_", " "): value for name, value in cells.items()})
    return values


def member_row(person: Person, **cells) -> dict:
    values = {
        "Nama Koperasi": COOPERATIVE,
        "NIK Anggota": person.nik,
        "Nama Anggota": person.full_name,
        "Tanggal Bergabung": "2024-01-15",
        "Tanggal Keluar": None,
    }
    values.update({name.replace("_", " "): value for name, value in cells.items()})
    return values


def session_row(**cells) -> dict:
    values = {
        "Nama Kelompok": GROUP,
        "Tanggal": "05/02/2025",
        "Topik": "Pola asuh jarak jauh",
        "Anak Hadir": 14,
        "Orang Tua Hadir": 9,
        "Catatan": "",
    }
    values.update({name.replace("_", " "): value for name, value in cells.items()})
    return values


# --- Each register: the preview counts, then the commit writes exactly the valid rows ----------


def test_enterprises_are_previewed_then_written_with_their_audit_trail(
    upload, confirm, officer, people
):
    data = xlsx(ENTERPRISE_HEADER, [enterprise_row(people[0]), enterprise_row(people[1])])
    batch = upload(officer, data, "enterprises")
    assert batch.state == State.CHECKED, batch.message
    assert counts(batch) == {"rows": 2, "new": 2, "unchanged": 0, "errors": 0}
    assert not Enterprise.objects.exists()  # checked, not written

    assert confirm(batch, officer)
    assert batch.state == State.COMMITTED, batch.message
    written = Enterprise.objects.order_by("name")
    assert [e.owner for e in written] == [people[1], people[0]]
    first = written.get(owner=people[0])
    assert first.sector == Enterprise.Sector.FOOD
    assert first.revenue_band == Enterprise.Revenue.FROM_1M
    assert first.workers == 3
    assert first.start_date == datetime.date(2023, 5, 1)
    assert first.export_ready is False
    assert first.pillar.kind == PillarKind.ENTERPRISE
    assert first.village_id == ARJOWILANGUN
    assert first.created_by == officer
    created = AuditEntry.objects.filter(model="enterprise", action=AuditEntry.Action.CREATED)
    assert {entry.object_id for entry in created} == {str(e.pk) for e in written}
    assert all(entry.actor == officer for entry in created)
    imported = AuditEntry.objects.get(model="pillarimport", action=AuditEntry.Action.IMPORTED)
    assert imported.object_id == str(batch.pk)
    assert imported.changes["written"] == 2


def test_cooperative_members_are_previewed_then_written(
    upload, confirm, officer, people, cooperative
):
    data = xlsx(
        MEMBER_HEADER,
        [member_row(people[0]), member_row(people[1], Tanggal_Keluar="2025-01-31")],
    )
    batch = upload(officer, data, "members")
    assert counts(batch) == {"rows": 2, "new": 2, "unchanged": 0, "errors": 0}
    assert confirm(batch, officer)
    members = CooperativeMember.objects.filter(cooperative=cooperative)
    assert {m.person_id for m in members} == {people[0].pk, people[1].pk}
    left = members.get(person=people[1])
    assert left.joined_on == datetime.date(2024, 1, 15)
    assert left.left_on == datetime.date(2025, 1, 31)
    assert left.pillar.kind == PillarKind.COOPERATIVE
    assert AuditEntry.objects.filter(model="cooperativemember", action="created").count() == 2


def test_parenting_attendance_is_previewed_then_written(upload, confirm, officer, group):
    data = xlsx(
        ATTENDANCE_HEADER,
        [session_row(), session_row(Tanggal=datetime.date(2025, 3, 5), Anak_Hadir=11.0)],
    )
    batch = upload(officer, data, "attendance")
    assert counts(batch) == {"rows": 2, "new": 2, "unchanged": 0, "errors": 0}
    assert confirm(batch, officer)
    sessions = ParentingSession.objects.filter(group=group).order_by("date")
    assert [(s.date, s.children_attending, s.adults_attending) for s in sessions] == [
        (datetime.date(2025, 2, 5), 14, 9),
        (datetime.date(2025, 3, 5), 11, 9),
    ]
    assert {s.pillar.kind for s in sessions} == {PillarKind.PARENTING}
    assert AuditEntry.objects.filter(model="parentingsession", action="created").count() == 2


def test_headers_match_without_case_and_in_english(upload, confirm, officer, people):
    header = ["OWNER NIK", "enterprise name", "Sector", "workers", "export ready"]
    rows = [
        {
            "OWNER NIK": people[0].nik,
            "enterprise name": "Warung Sri",
            "Sector": "trade",
            "workers": "2",
            "export ready": "yes",
        }
    ]
    batch = upload(officer, files.csv_bytes(rows, header=header), "enterprises")
    assert counts(batch)["new"] == 1, batch.problems
    confirm(batch, officer)
    enterprise = Enterprise.objects.get()
    assert (enterprise.sector, enterprise.workers, enterprise.export_ready) == ("trade", 2, True)
    assert enterprise.state == Enterprise.State.RUNNING  # empty means running


# --- Bad rows are left out; a bad file writes nothing -------------------------------------------


def test_a_bad_row_is_shown_on_its_column_and_left_out(upload, confirm, officer, people):
    data = xlsx(
        ENTERPRISE_HEADER,
        [
            enterprise_row(people[0]),
            enterprise_row(people[1], Sektor="Tambang"),
            enterprise_row(people[2]),
        ],
    )
    with translation.override("en"):
        batch = upload(officer, data, "enterprises")
    assert counts(batch) == {"rows": 3, "new": 2, "unchanged": 0, "errors": 1}
    problems = errors_by_row(batch)
    assert list(problems) == [3]
    assert "Tambang is not allowed" in problems[3]["Sektor"][0]
    confirm(batch, officer)
    assert set(Enterprise.objects.values_list("owner", flat=True)) == {people[0].pk, people[2].pk}


@pytest.mark.parametrize(
    ("cells", "column", "words"),
    [
        ({"Tanggal_Mulai": "31/02/2024"}, "Tanggal Mulai", "not a real date"),
        ({"Tanggal_Mulai": "2999-01-01"}, "Tanggal Mulai", "in the future"),
        ({"Tenaga_Kerja": -2}, "Tenaga Kerja", "negative"),
        ({"Tenaga_Kerja": 2.5}, "Tenaga Kerja", "whole number"),
        ({"Omzet_per_Bulan": "milyaran"}, "Omzet per Bulan", "not allowed"),
        ({"Nama_Usaha": ""}, "Nama Usaha", "required"),
        ({"Nama_Usaha": "x" * 201}, "Nama Usaha", "longer than 200"),
        ({"NIK_Pemilik": "3507"}, "NIK Pemilik", "16 digits"),
        ({"NIK_Pemilik": 3507115506950001}, "NIK Pemilik", "as a number"),
    ],
)
def test_each_cell_rule_says_what_is_wrong(upload, officer, people, cells, column, words):
    with translation.override("en"):
        batch = upload(
            officer, xlsx(ENTERPRISE_HEADER, [enterprise_row(people[0], **cells)]), "enterprises"
        )
    assert counts(batch)["errors"] == 1
    assert words in " ".join(errors_by_row(batch)[2][column])


def test_a_group_not_recorded_in_the_village_is_an_error(upload, officer, group):
    with translation.override("en"):
        unknown = upload(
            officer,
            xlsx(ATTENDANCE_HEADER, [session_row(Nama_Kelompok="Kelompok Mawar")]),
            "attendance",
        )
    assert "no parenting group called Kelompok Mawar" in unknown.problems[0]["message"]


def test_members_left_before_joining_and_unknown_people_are_errors(
    upload, officer, people, cooperative
):
    nobody = files.file_nik()
    data = xlsx(
        MEMBER_HEADER,
        [
            member_row(people[0], Tanggal_Keluar="2023-01-01"),
            member_row(people[1], NIK_Anggota=nobody),
        ],
    )
    with translation.override("en"):
        batch = upload(officer, data, "members")
    problems = errors_by_row(batch)
    assert "before the date of joining" in problems[2]["Tanggal Keluar"][0]
    assert "register the person first" in problems[3]["NIK Anggota"][0]


def test_a_name_that_differs_from_the_register_is_a_warning(upload, officer, people):
    data = xlsx(ENTERPRISE_HEADER, [enterprise_row(people[0], Nama_Pemilik="Sri Wahyu")])
    with translation.override("en"):
        batch = upload(officer, data, "enterprises")
    assert counts(batch)["new"] == 1
    assert batch.counts["warnings"] == 1
    (warning,) = [p for p in batch.problems if p["level"] == "warning"]
    assert warning["column"] == "Nama Pemilik"
    assert "Sri Wahyuni" in warning["message"]


def test_the_same_record_twice_in_the_file_is_an_error_on_both_rows(upload, officer, people):
    row = enterprise_row(people[0])
    data = xlsx(ENTERPRISE_HEADER, [row, enterprise_row(people[1]), {**row, "Produk": "Lain"}])
    with translation.override("en"):
        batch = upload(officer, data, "enterprises")
    assert counts(batch) == {"rows": 3, "new": 1, "unchanged": 0, "errors": 2}
    problems = errors_by_row(batch)
    assert set(problems) == {2, 4}
    assert "2 times" in problems[2]["NIK Pemilik"][0]


def _missing_column() -> bytes:
    return xlsx([h for h in ENTERPRISE_HEADER if h != "Sektor"], [{"Nama Usaha": "Warung"}])


REFUSED = {
    # name: (the file, a word of the English message)
    "missing-required-column": (_missing_column, "Sektor"),
    "empty": (lambda: b"", "empty"),
    "header-only": (lambda: xlsx(ENTERPRISE_HEADER, []), "no rows"),
    "png-named-xlsx": (lambda: files.PNG, "neither an xlsx spreadsheet nor a CSV"),
    "old-xls": (lambda: files.XLS, ".xls"),
    "entity-bomb": (
        lambda: files.xlsx_with_parts({"xl/worksheets/sheet1.xml": files.entity_bomb_sheet()}),
        "unsafe",
    ),
    "over-the-row-limit": (
        lambda: xlsx(ENTERPRISE_HEADER, [{"Nama Usaha": f"U{n}"} for n in range(4)]),
        "at most 3 rows",
    ),
}


@override_settings(PILLAR_IMPORT_MAX_ROWS=3)
@pytest.mark.parametrize("name", REFUSED)
def test_a_refused_file_says_why_and_writes_nothing(upload, confirm, officer, people, name):
    build, word = REFUSED[name]
    before = pillar_sizes()
    with translation.override("en"):
        batch = upload(officer, build(), "enterprises")
    assert batch.state == State.REJECTED
    assert word in batch.message
    assert not confirm(batch, officer)  # a refused file cannot be confirmed either
    assert pillar_sizes() == before


def test_a_village_whose_programme_lacks_the_pillar_refuses_the_file(
    upload, officer, people, cooperative
):
    from villages.models import Designation

    Designation.objects.filter(village_id=ARJOWILANGUN).delete()
    with translation.override("en"):
        batch = upload(officer, xlsx(MEMBER_HEADER, [member_row(people[0])]), "members")
    assert batch.state == State.REJECTED
    assert "not a Desmigratif village" in batch.message


# --- Scope: a NIK outside the area tells nothing ------------------------------------------------


def test_a_nik_outside_the_area_gets_the_register_message_and_nothing_else(
    upload, officer, world, officer_arjowilangun
):
    stranger = register(actor=world["officer_kenanga"], village=KENANGA, full_name="Warga Jauh")
    neighbour = register(actor=world["officer_brongkal"], village=BRONGKAL, full_name="Tetangga")
    data = xlsx(ENTERPRISE_HEADER, [enterprise_row(stranger), enterprise_row(neighbour)])
    batch = upload(officer, data, "enterprises")
    problems = errors_by_row(batch)
    expected = register_services.nik_elsewhere_message()
    assert problems[2]["NIK Pemilik"] == [expected]
    assert problems[3]["NIK Pemilik"] == [expected]
    # Neither the preview nor the error report says who or where.
    page = officer_arjowilangun.get(url("import-batch", batch.pk)).content.decode()
    report = str(rows_of(officer_arjowilangun.get(url("import-errors", batch.pk)).content))
    for text in (page, report, str(batch.problems), str(batch.outcomes)):
        for secret in (KENANGA, BRONGKAL, "Kenanga", "Brongkal"):
            assert secret not in text
    assert "Warga Jauh" not in page
    assert "Tetangga" not in page


def test_the_coordinator_is_told_when_a_person_of_the_regency_lives_in_another_village(
    upload, world, people
):
    neighbour = register(actor=world["officer_brongkal"], village=BRONGKAL)
    data = xlsx(ENTERPRISE_HEADER, [enterprise_row(people[0]), enterprise_row(neighbour)])
    with translation.override("en"):
        batch = upload(world["coordinator_malang"], data, "enterprises")
    assert counts(batch) == {"rows": 2, "new": 1, "unchanged": 0, "errors": 1}
    assert BRONGKAL in errors_by_row(batch)[3]["NIK Pemilik"][0]


def test_an_upload_for_a_village_outside_the_area_is_refused(world):
    with pytest.raises(PermissionDenied):
        import_upload(
            actor=world["coordinator_malang"],
            target="enterprises",
            village=KENANGA,
            data=b"x",
            filename="a.csv",
        )
    assert not PillarImport.objects.exists()


# --- Idempotence: double clicks, re-imports, redeliveries, failures ------------------------------


def test_the_same_file_uploaded_twice_within_minutes_is_one_batch(upload, officer, people):
    data = xlsx(ENTERPRISE_HEADER, [enterprise_row(people[0])])
    first = upload(officer, data, "enterprises", filename="usaha.xlsx")
    second = upload(officer, data, "enterprises", filename="usaha (1).xlsx")
    assert second.pk == first.pk
    assert PillarImport.objects.count() == 1


def test_confirming_twice_commits_once(upload, confirm, officer, people):
    batch = upload(
        officer, xlsx(ENTERPRISE_HEADER, [enterprise_row(p) for p in people]), "enterprises"
    )
    assert confirm(batch, officer)
    assert not confirm(batch, officer)
    assert batch.state == State.COMMITTED
    assert Enterprise.objects.count() == 3


def test_a_redelivered_check_or_commit_does_nothing(upload, confirm, officer, people):
    batch = upload(officer, xlsx(ENTERPRISE_HEADER, [enterprise_row(people[0])]), "enterprises")
    imports.validate_batch(batch_id=batch.pk)
    confirm(batch, officer)
    size = pillar_sizes()
    imports.commit_batch(batch_id=batch.pk)
    assert pillar_sizes() == size


def test_importing_the_same_file_again_adds_nothing(upload, confirm, officer, people, group):
    data = xlsx(ATTENDANCE_HEADER, [session_row(), session_row(Topik="Gizi anak")])
    confirm(upload(officer, data, "attendance"), officer)
    PillarImport.objects.update(created_at=timezone.now() - datetime.timedelta(hours=1))
    again = upload(officer, data, "attendance")
    assert counts(again) == {"rows": 2, "new": 0, "unchanged": 2, "errors": 0}
    assert ParentingSession.objects.count() == 2


def test_a_row_that_differs_from_the_recorded_one_is_refused(
    upload, confirm, officer, people, cooperative
):
    confirm(upload(officer, xlsx(MEMBER_HEADER, [member_row(people[0])]), "members"), officer)
    changed = xlsx(MEMBER_HEADER, [member_row(people[0], Tanggal_Bergabung="2024-02-01")])
    with translation.override("en"):
        batch = upload(officer, changed, "members")
    assert counts(batch)["errors"] == 1
    assert "already recorded with other details (joined on)" in batch.problems[0]["message"]


def test_a_commit_that_fails_midway_writes_nothing_and_a_retry_imports_once(
    upload, confirm, officer, people, monkeypatch
):
    batch = upload(
        officer, xlsx(ENTERPRISE_HEADER, [enterprise_row(p) for p in people]), "enterprises"
    )
    before = pillar_sizes()
    real = services.record_create
    calls = []

    def failing(**kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real(**kwargs)

    monkeypatch.setattr(services, "record_create", failing)
    confirm(batch, officer)
    assert batch.state == State.FAILED
    assert "disk full" in batch.message
    assert pillar_sizes() == before
    monkeypatch.setattr(services, "record_create", real)
    assert confirm(batch, officer)  # the retry button
    assert batch.state == State.COMMITTED
    assert Enterprise.objects.count() == 3


def test_the_commit_checks_the_rows_again_against_todays_data(
    upload, confirm, officer, people, cooperative
):
    batch = upload(officer, xlsx(MEMBER_HEADER, [member_row(p) for p in people[:2]]), "members")
    assert batch.counts["new"] == 2
    services.record_create(
        actor=officer,
        instance=CooperativeMember(
            village_id=ARJOWILANGUN,
            cooperative=cooperative,
            person=people[0],
            joined_on=datetime.date(2024, 1, 15),
        ),
        kind=PillarKind.COOPERATIVE,
    )
    confirm(batch, officer)
    assert batch.state == State.COMMITTED
    assert batch.counts["written"] == 1
    assert CooperativeMember.objects.count() == 2


def test_a_cancelled_import_writes_nothing_and_cannot_be_confirmed(
    upload, confirm, officer, people
):
    batch = upload(officer, xlsx(ENTERPRISE_HEADER, [enterprise_row(people[0])]), "enterprises")
    assert imports.cancel_batch(batch=batch, actor=officer)
    assert not confirm(batch, officer)
    assert batch.state == State.CANCELLED
    assert not Enterprise.objects.exists()


# --- Templates and the error report --------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "header"),
    [
        ("enterprises", ENTERPRISE_HEADER),
        ("members", MEMBER_HEADER),
        ("attendance", ATTENDANCE_HEADER),
    ],
)
def test_each_template_opens_with_its_headers_a_guide_and_drop_downs(
    officer_arjowilangun, cooperative, group, target, header
):
    response = officer_arjowilangun.get(url("import-template", target))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    workbook = workbook_of(response.content)
    data = workbook["Data"]
    assert [cell.value for cell in data[1]] == header
    guide = [row[0] for row in workbook["Petunjuk"].iter_rows(values_only=True)]
    assert all(h in guide for h in header)
    assert data.data_validations.dataValidation  # drop-down lists and number checks
    for index, name in enumerate(header, start=1):
        if name in NIK_HEADERS:
            assert data.cell(row=2, column=index).number_format == "@"


def test_a_village_template_lists_its_groups_as_a_drop_down(coordinator_malang, group, officer):
    other = ParentingGroup(village_id=BRONGKAL, name="Kelompok Brongkal", facilitators="X")
    services.record_create(actor=officer_of(BRONGKAL), instance=other, kind=PillarKind.PARENTING)
    response = coordinator_malang.get(
        url("import-template", "attendance"), {"village": ARJOWILANGUN}
    )
    workbook = workbook_of(response.content)
    assert [r[0] for r in workbook["Daftar"].iter_rows(values_only=True)] == [
        "Nama Kelompok",
        GROUP,
    ]
    formulas = [v.formula1 for v in workbook["Data"].data_validations.dataValidation]
    assert "Daftar!$A$2:$A$2" in formulas


def officer_of(village: str):
    from accounts.models import User

    return User.objects.get(scope_id=village, role="village_officer")


def test_the_error_report_has_the_bad_rows_and_a_kesalahan_column(
    officer_arjowilangun, upload, officer, people
):
    data = xlsx(
        ENTERPRISE_HEADER,
        [enterprise_row(people[0]), enterprise_row(people[1], Sektor="Tambang", Produk="=1+1")],
    )
    batch = upload(officer, data, "enterprises")
    response = officer_arjowilangun.get(url("import-errors", batch.pk))
    assert response.status_code == 200
    sheet = workbook_of(response.content).worksheets[0]
    rows = [list(v) for v in sheet.iter_rows(values_only=True)]
    assert rows[0] == [*ENTERPRISE_HEADER, ERROR_HEADER]
    assert len(rows) == 2
    assert rows[1][0] == people[1].nik
    assert sheet.cell(row=2, column=1).number_format == "@"
    assert rows[1][4] == "'=1+1"  # a formula typed in a cell stays text
    assert "Sektor" in rows[1][-1]

    # Fixed and sent again as it is, the report imports (its "Kesalahan" column is ignored).
    fixed = openpyxl.load_workbook(io.BytesIO(response.content))
    fixed.worksheets[0]["D2"] = "Perdagangan"
    buffer = io.BytesIO()
    fixed.save(buffer)
    again = upload(officer, buffer.getvalue(), "enterprises")
    assert counts(again) == {"rows": 1, "new": 1, "unchanged": 0, "errors": 0}
    assert not [p for p in again.problems if p["level"] == "warning"]


# --- Pages: the flow in the browser ------------------------------------------------------------


@pytest.fixture
def send(django_capture_on_commit_callbacks):
    """Upload through the page; the check runs at once. Returns the response."""

    def send(client, data: bytes, target: str, filename: str = "data.xlsx", **extra):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                START, {"target": target, "file": SimpleUploadedFile(filename, data), **extra}
            )

    return send


@pytest.fixture
def click(django_capture_on_commit_callbacks):
    def click(client, name: str, batch: PillarImport):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url(name, batch.pk))

    return click


def batch_of(response) -> PillarImport:
    assert response.status_code == 302, response.content[:800]
    return PillarImport.objects.get(pk=resolve(response.url).kwargs["pk"])


def test_an_officer_uploads_reads_the_preview_and_confirms(
    officer_arjowilangun, send, click, people
):
    client = in_english(officer_arjowilangun)
    form = client.get(START)
    assert form.status_code == 200
    assert 'name="village"' not in form.content.decode()  # their own village, fixed
    data = xlsx(
        ENTERPRISE_HEADER, [enterprise_row(people[0]), enterprise_row(people[1], Sektor="Tambang")]
    )
    batch = batch_of(send(client, data, "enterprises"))
    assert batch.village_id == ARJOWILANGUN
    page = client.get(url("import-batch", batch.pk))
    text = page.content.decode()
    assert "Import the 1 valid rows only" in text
    assert '<td data-label="Column">Sektor</td>' in text
    assert "Tambang" in text
    new_rows = client.get(url("import-batch", batch.pk), {"rows": "new"}).content.decode()
    assert "Usaha Sri Wahyuni" in new_rows
    response = click(client, "import-confirm", batch)
    assert response.status_code == 302
    assert Enterprise.objects.count() == 1
    assert "1 new records" in client.get(url("import-batch", batch.pk)).content.decode()
    again = click(client, "import-confirm", batch)
    assert again.status_code == 302
    assert "already on its way" in client.get(url("import-batch", batch.pk)).content.decode()
    assert Enterprise.objects.count() == 1


def test_a_running_check_shows_a_progress_bar_that_refreshes(officer_arjowilangun, officer):
    batch = PillarImport.objects.create(
        target="enterprises",
        village_id=ARJOWILANGUN,
        created_by=officer,
        file=SimpleUploadedFile("a.csv", b"x"),
        filename="a.csv",
        sha256="0" * 64,
        size=1,
        state=State.VALIDATING,
        progress=40,
    )
    text = officer_arjowilangun.get(url("import-batch", batch.pk)).content.decode()
    assert 'data-refresh-seconds="2"' in text
    assert '<progress max="100" value="40"' in text


def test_a_coordinator_chooses_among_the_villages_of_the_regency(
    coordinator_malang, send, people, world
):
    client = in_english(coordinator_malang)
    data = xlsx(ENTERPRISE_HEADER, [enterprise_row(people[0])])
    refused = send(client, data, "enterprises", village=KENANGA)
    assert refused.status_code == 200
    assert "village" in refused.context["form"].errors
    assert not PillarImport.objects.exists()
    batch = batch_of(send(client, data, "enterprises", village=ARJOWILANGUN))
    assert batch.village_id == ARJOWILANGUN
    assert batch.created_by == world["coordinator_malang"]


def test_the_list_shows_the_imports_of_the_area_only(
    upload, world, people, coordinator_malang, officer_brongkal, django_assert_max_num_queries
):
    officer = world["officer_arjowilangun"]
    for n in range(3):
        upload(officer, xlsx(ENTERPRISE_HEADER, [enterprise_row(people[n])]), "enterprises")
    with django_assert_max_num_queries(8):
        response = coordinator_malang.get(LIST)
    assert len(response.context["page"].object_list) == 3
    assert not officer_brongkal.get(LIST).context["page"].object_list


# --- Every page: anonymous -> login, outside the area -> 404, role without the action -> 403 ---

# url name: (HTTP method, whether the URL names a batch)
URLS = {
    "import-list": ("get", False),
    "import": ("get", False),
    "import-template": ("get", False),
    "import-batch": ("get", True),
    "import-confirm": ("post", True),
    "import-cancel": ("post", True),
    "import-errors": ("get", True),
    "import-original": ("get", True),
}


@pytest.fixture
def checked(upload, officer, people) -> PillarImport:
    data = xlsx(
        ENTERPRISE_HEADER, [enterprise_row(people[0]), enterprise_row(people[1], Sektor="?")]
    )
    batch = upload(officer, data, "enterprises")
    assert batch.state == State.CHECKED
    return batch


def address(name: str, batch: PillarImport) -> str:
    if name == "import-template":
        return url(name, "enterprises")
    return url(name, batch.pk) if URLS[name][1] else url(name)


def test_every_import_url_is_in_the_permission_table():
    from pillars import urls_imports

    assert {pattern.name for pattern in urls_imports.urlpatterns} == set(URLS)


@pytest.mark.parametrize("name", URLS)
def test_the_officer_of_the_village_may_open_every_page(officer_arjowilangun, checked, name):
    method, _names_batch = URLS[name]
    response = getattr(officer_arjowilangun, method)(address(name, checked))
    assert response.status_code in (200, 302)


@pytest.mark.parametrize("name", URLS)
def test_anonymous_is_sent_to_log_in(anonymous, checked, name):
    method, _names_batch = URLS[name]
    response = getattr(anonymous, method)(address(name, checked))
    assert response.status_code == 302
    assert response.url.startswith(LOGIN)


@pytest.mark.parametrize("name", [n for n, (_m, names_batch) in URLS.items() if names_batch])
@pytest.mark.parametrize("persona", ["officer_brongkal", "coordinator_indramayu"])
def test_a_batch_outside_the_area_is_not_found(request, checked, name, persona):
    client = request.getfixturevalue(persona)
    method, _names_batch = URLS[name]
    assert getattr(client, method)(address(name, checked)).status_code == 404
    checked.refresh_from_db()
    assert checked.state == State.CHECKED


def test_a_template_for_a_village_outside_the_area_is_not_found(coordinator_malang):
    response = coordinator_malang.get(url("import-template", "members"), {"village": KENANGA})
    assert response.status_code == 404
    assert coordinator_malang.get("/pilar/impor/template/nothing.xlsx").status_code == 404


@pytest.mark.parametrize("name", URLS)
@pytest.mark.parametrize("persona", ["head_arjowilangun", "evaluator", "province_jatim"])
def test_roles_that_do_not_edit_pillars_are_forbidden(request, checked, name, persona):
    client = request.getfixturevalue(persona)
    method, _names_batch = URLS[name]
    assert getattr(client, method)(address(name, checked)).status_code == 403


def test_a_confirmed_import_whose_commit_was_lost_is_sent_again_by_the_reaper(
    upload, officer, people
):
    """The broker was down at the confirmation (no on-commit callback runs here): no
    transaction holds the batch, so the reaper sends its commit again, and it writes once."""
    from pillars.imports import resend_stalled

    batch = upload(officer, xlsx(ENTERPRISE_HEADER, [enterprise_row(people[0])]), "enterprises")
    assert confirm_batch(batch=batch, actor=officer)
    batch.refresh_from_db()
    assert batch.state == State.COMMITTING
    assert not Enterprise.objects.exists()

    assert resend_stalled() == 1
    batch.refresh_from_db()
    assert batch.state == State.COMMITTED, batch.message
    assert Enterprise.objects.count() == 1
    assert resend_stalled() == 0
