"""Journey (a): the village officer of Arjowilangun signs in, registers a person (the wrong NIK
is refused in Indonesian, then corrected), records the person's departure, imports a register
file with errors, downloads the rows with errors, fixes them and imports the file."""

import datetime
import io

import openpyxl

from migrants.columns import ERROR_HEADER
from migrants.models import Episode, Person
from migrants.nik import nik_for
from tests.browser.pages import browser_test, sign_in
from tests.migrants.files import row, xlsx_bytes

pytestmark = browser_test

BORN = datetime.date(1993, 3, 8)
GOOD_NIK = nik_for(district_code="35.07.11", birth_date=BORN, sex="P", serial=4321)
WRONG_NIK = GOOD_NIK[:-1]  # one digit short


def test_the_village_officer_registers_a_person_records_a_departure_and_imports_a_file(
    world, journey
):
    tab = journey("a-village-officer")
    page = tab.page
    sign_in(tab, "officer_arjowilangun")
    tab.seen("home")
    assert "Arjowilangun" in page.inner_text("header")

    tab.goto("/register/", "register list")
    tab.goto("/register/baru/", "person form")
    page.fill("#id_full_name", "Wulan Sari Dewi")
    page.select_option("#id_sex", "P")
    page.fill("#id_birth_date", BORN.isoformat())
    page.fill("#id_nik", WRONG_NIK)
    page.click("main button[type=submit]")
    tab.seen("person form with the wrong NIK")
    assert "NIK terdiri dari 16 digit; yang ini 15 digit." in tab.text()
    assert Person.objects.filter(full_name="Wulan Sari Dewi").count() == 0

    page.fill("#id_nik", GOOD_NIK)
    page.click("main button[type=submit]")
    tab.seen("person detail")
    person = Person.objects.get(full_name="Wulan Sari Dewi")
    assert person.nik == GOOD_NIK
    assert page.url.endswith(f"/register/{person.pk}/")

    # The departure: a migration episode; the person is abroad from then on.
    page.click("main a[href$='/berangkat/']")
    tab.seen("departure form")
    page.fill(
        "#id_departure_date", (datetime.date.today() - datetime.timedelta(days=3)).isoformat()
    )
    page.select_option("#id_destination_country", "HK")
    page.fill("#id_job_title", "Penata laksana rumah tangga")
    page.click("main button[type=submit]")
    tab.seen("person detail after the departure")
    episode = Episode.objects.get(person=person)
    assert episode.destination_country == "HK"
    person.refresh_from_db()
    assert person.status == "pmi"
    assert "Hong Kong" in tab.text()

    # The import: a file of three people, two of them wrong.
    good = row(Nama_Lengkap="Dewi Lestari")
    bad_nik = row(Nama_Lengkap="Rina Marlina", NIK="35071155061500")  # 14 digits
    bad_country = row(Nama_Lengkap="Yuli Astuti", Negara_Tujuan="Atlantis")
    tab.goto("/register/impor/baru/", "import")
    page.set_input_files(
        "main input[type=file]",
        files=[
            {
                "name": "register-desa.xlsx",
                "mimeType": XLSX,
                "buffer": xlsx_bytes([good, bad_nik, bad_country]),
            }
        ],
    )
    page.click("main button[type=submit]")
    tab.seen("import check with errors")
    counts = stat_counts(page)
    assert counts == {
        "Baris": 3,
        "Baru": 1,
        "Diperbarui": 0,
        "Tidak berubah": 0,
        "Dengan peringatan": 0,
        "Dengan kesalahan": 2,
    }, counts

    assert "Atlantis" in tab.text()  # the rows with errors, by row and column

    with page.expect_download() as download:
        page.click("main a[href$='/kesalahan.xlsx']")
    assert download.value.suggested_filename.endswith(".xlsx")
    errors = openpyxl.load_workbook(io.BytesIO(download.value.path().read_bytes())).worksheets[0]
    header, *rows = [list(values) for values in errors.iter_rows(values_only=True)]
    assert header[-1] == ERROR_HEADER
    assert [r[header.index("Nama Lengkap")] for r in rows] == ["Rina Marlina", "Yuli Astuti"]
    messages = [r[-1] for r in rows]
    assert "16 digit" in messages[0]
    assert "Atlantis" in messages[1]

    # Fixed in the file, as the officer would in Excel: the error column goes, the cells are
    # corrected, and the whole file is uploaded again.
    fixed = [
        good,
        row(Nama_Lengkap="Rina Marlina"),
        row(Nama_Lengkap="Yuli Astuti", Negara_Tujuan="Taiwan"),
    ]
    tab.goto("/register/impor/baru/", "import again", axe=False)
    page.set_input_files(
        "main input[type=file]",
        files=[
            {"name": "register-desa-diperbaiki.xlsx", "mimeType": XLSX, "buffer": xlsx_bytes(fixed)}
        ],
    )
    page.click("main button[type=submit]")
    tab.seen("import check without errors")
    assert stat_counts(page)["Baru"] == 3
    assert stat_counts(page)["Dengan kesalahan"] == 0
    page.click("main form[action$='/konfirmasi/'] button")
    tab.seen("import committed")
    assert "3 baru" in tab.text()

    names = {"Dewi Lestari", "Rina Marlina", "Yuli Astuti"}
    imported = Person.objects.filter(full_name__in=names)
    assert {p.full_name for p in imported} == names
    assert {p.village_id for p in imported} == {"35.07.11.2008"}
    tab.goto("/register/?q=Marlina", "register search")
    assert "Rina Marlina" in tab.text()
    assert "Dewi Lestari" not in tab.text()

    # The village's pillars and this month's report, which the officer writes.
    tab.goto("/pilar/", "pillars of the village")
    assert "Pusat Layanan Migrasi" in tab.text()
    tab.goto("/pilar/laporan/", "monthly reports of the village")
    tab.goto("/pilar/laporan/tulis/", "monthly report form")
    tab.assert_accessible()


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def stat_counts(page) -> dict[str, int]:
    return {
        div.query_selector("dt").inner_text(): int(div.query_selector("dd").inner_text())
        for div in page.query_selector_all(".stat-grid > div")
    }
