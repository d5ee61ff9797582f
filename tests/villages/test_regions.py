"""The Kemendagri region tree: loading editions one after another, and reading it back."""

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import translation

from tests.factories import DesignationFactory
from villages.models import Designation, Region, RegionEdition
from villages.services import packaged_edition_label, regions_load

SMALL_EDITION = """\
35,JAWA TIMUR
35.07,KAB. MALANG
35.07.11,Kalipare
35.07.11.2001,Putukrejo
35.07.11.2003,Sumberpetung
35.07.11.2008,Arjowilangun
"""

# Putukrejo is renamed and Sumberpetung is gone.
NEWER_EDITION = """\
35,JAWA TIMUR
35.07,KAB. MALANG
35.07.11,Kalipare
35.07.11.2001,Putuk Rejo
35.07.11.2008,Arjowilangun
"""

# Sumberpetung is back.
LATER_EDITION = NEWER_EDITION + "35.07.11.2003,Sumberpetung\n"


@pytest.fixture(autouse=True)
def english():
    """Messages and labels are asserted in English, whatever LANGUAGE_CODE says."""
    with translation.override("en"):
        yield


def load_regions(*args: str) -> str:
    out = StringIO()
    call_command("load_regions", *args, stdout=out)
    return out.getvalue().strip()


def load_file(path, edition: str) -> str:
    return load_regions("--file", str(path), "--edition", edition)


def csv_file(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def region_rows() -> list[tuple]:
    return list(
        Region.objects.order_by("code").values_list(
            "code", "name", "level", "parent_id", "introduced_in", "retired_in", "retired_at"
        )
    )


def require_postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the query plan is PostgreSQL's")


# The packaged edition ------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.django_db
def test_packaged_edition_loads_the_whole_tree_once_and_a_second_run_changes_nothing():
    first = load_regions()

    assert first == (
        "provinces=34 regencies=514 districts=7230 villages=83441 created=91219 updated=0 retired=0"
    )
    assert Region.objects.count() == 91219
    levels = [Region.objects.filter(level=level).count() for level in (1, 2, 3, 4)]
    assert levels == [34, 514, 7230, 83441]
    arjowilangun = Region.objects.select_related("parent").get(code="35.07.11.2008")
    assert arjowilangun.name == "Arjowilangun"
    assert arjowilangun.level == Region.Level.VILLAGE
    assert (arjowilangun.parent.code, arjowilangun.parent.name) == ("35.07.11", "Kalipare")
    assert arjowilangun.parent.level == Region.Level.DISTRICT
    east_java = Region.objects.get(code="35")
    assert east_java.parent_id is None
    assert east_java.level == Region.Level.PROVINCE
    assert Region.objects.get(code="12.07.28.1007").name == "Lubuk Pakam I,II"
    rows = region_rows()
    assert all(
        parent == (code.rsplit(".", 1)[0] if "." in code else None) and level == code.count(".") + 1
        for code, _name, level, parent, *_rest in rows
    )
    assert {row[4] for row in rows} == {packaged_edition_label()}

    second = load_regions()

    assert second == (
        "provinces=34 regencies=514 districts=7230 villages=83441 created=0 updated=0 retired=0"
    )
    assert region_rows() == rows
    assert list(RegionEdition.objects.order_by("pk").values_list("label", "created")) == [
        (packaged_edition_label(), 91219),
        (packaged_edition_label(), 0),
    ]


# A newer edition from a file ----------------------------------------------------------------


@pytest.fixture
def small_edition(db, tmp_path):
    output = load_file(csv_file(tmp_path, "small.csv", SMALL_EDITION), "Kepmendagri 2022")
    assert output == (
        "provinces=1 regencies=1 districts=1 villages=3 created=6 updated=0 retired=0"
    )


def test_a_newer_edition_renames_one_village_and_retires_the_one_that_is_gone(
    small_edition, tmp_path
):
    output = load_file(csv_file(tmp_path, "newer.csv", NEWER_EDITION), "Kepmendagri 2025")

    assert output == (
        "provinces=1 regencies=1 districts=1 villages=2 created=0 updated=1 retired=1"
    )
    assert Region.objects.get(code="35.07.11.2001").name == "Putuk Rejo"
    edition = RegionEdition.objects.order_by("-pk").first()
    assert (edition.label, edition.created, edition.updated, edition.retired) == (
        "Kepmendagri 2025",
        0,
        1,
        1,
    )


def test_a_village_gone_from_the_edition_is_retired_never_deleted(small_edition, tmp_path):
    load_file(csv_file(tmp_path, "newer.csv", NEWER_EDITION), "Kepmendagri 2025")

    sumberpetung = Region.objects.get(code="35.07.11.2003")
    assert sumberpetung.is_retired
    assert sumberpetung.retired_at is not None
    assert sumberpetung.retired_in == "Kepmendagri 2025"
    assert sumberpetung.introduced_in == "Kepmendagri 2022"
    assert Region.objects.count() == 6
    assert "35.07.11.2003" not in set(Region.objects.active().values_list("code", flat=True))
    assert not Region.objects.get(code="35.07.11.2008").is_retired


def test_a_designation_of_a_retired_village_still_loads(small_edition, tmp_path):
    DesignationFactory(village=Region.objects.get(code="35.07.11.2003"), cohort_year=2018)

    load_file(csv_file(tmp_path, "newer.csv", NEWER_EDITION), "Kepmendagri 2025")

    designation = Designation.objects.select_related("village", "variant").get(
        village_id="35.07.11.2003"
    )
    assert designation.village.name == "Sumberpetung"
    assert designation.village.is_retired
    assert designation.variant.code == "desmigratif-4-pilar"
    assert designation.cohort_year == 2018


def test_a_code_that_comes_back_in_a_later_edition_is_reinstated(small_edition, tmp_path):
    load_file(csv_file(tmp_path, "newer.csv", NEWER_EDITION), "Kepmendagri 2025")

    output = load_file(csv_file(tmp_path, "later.csv", LATER_EDITION), "Kepmendagri 2026")

    assert output == (
        "provinces=1 regencies=1 districts=1 villages=3 created=0 updated=1 retired=0"
    )
    sumberpetung = Region.objects.get(code="35.07.11.2003")
    assert not sumberpetung.is_retired
    assert sumberpetung.retired_in == ""
    assert Region.objects.active().count() == 6


def test_loading_the_newer_edition_again_changes_nothing(small_edition, tmp_path):
    newer = csv_file(tmp_path, "newer.csv", NEWER_EDITION)
    load_file(newer, "Kepmendagri 2025")
    rows = region_rows()

    output = load_file(newer, "Kepmendagri 2025")

    assert output == (
        "provinces=1 regencies=1 districts=1 villages=2 created=0 updated=0 retired=0"
    )
    assert region_rows() == rows


def test_without_an_edition_label_the_file_name_is_the_label(db, tmp_path):
    load_regions("--file", str(csv_file(tmp_path, "wilayah-2025.csv", SMALL_EDITION)))

    assert RegionEdition.objects.get().label == "wilayah-2025.csv"
    assert set(Region.objects.values_list("introduced_in", flat=True)) == {"wilayah-2025.csv"}


# Bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "35,JAWA TIMUR\n35.7,KAB. MALANG\n",
            "Line 2: 35.7 is not a Kemendagri region code.",
            id="malformed-code",
        ),
        pytest.param(
            "35,JAWA TIMUR\n35.07.11,Kalipare\n",
            "The region 35.07.11 has no parent 35.07 in the file.",
            id="child-without-parent",
        ),
        pytest.param("", "The file holds no regions.", id="empty-file"),
        pytest.param("code,name\n\n", "The file holds no regions.", id="header-only"),
        pytest.param(
            "35,JAWA TIMUR\n35.07,KAB. MALANG\n35,JATIM\n",
            "Line 3: the code 35 appears twice.",
            id="duplicated-code",
        ),
        pytest.param(
            "35,JAWA TIMUR\n35.07\n",
            "Line 2: expected two columns, code and name.",
            id="one-column",
        ),
        pytest.param("35,JAWA TIMUR\n35.07, \n", "Line 2: the name is empty.", id="empty-name"),
    ],
)
def test_bad_input_stops_the_load_with_a_clear_message_and_writes_nothing(
    small_edition, tmp_path, text, message
):
    rows, editions = region_rows(), RegionEdition.objects.count()

    with pytest.raises(CommandError, match=f"^{re.escape(message)}$"):
        load_file(csv_file(tmp_path, "bad.csv", text), "Kepmendagri 2025")

    assert RegionEdition.objects.count() == editions
    assert region_rows() == rows


def test_a_missing_file_stops_the_load_and_writes_nothing(small_edition, tmp_path):
    rows, editions = region_rows(), RegionEdition.objects.count()
    missing = tmp_path / "missing.csv"

    with pytest.raises(CommandError, match=f"^No such file: {re.escape(str(missing))}$"):
        load_file(missing, "Kepmendagri 2025")

    assert RegionEdition.objects.count() == editions
    assert region_rows() == rows


# Input that would corrupt the tree or crash the load --------------------------------------


def test_a_typo_in_the_first_row_is_refused_not_skipped_as_a_header(small_edition, tmp_path):
    rows = region_rows()
    text = SMALL_EDITION.replace("35.07.11.2008,Arjowilangun\n", "")
    text = "35.07.11.208,Arjowilangun\n" + text

    with pytest.raises(CommandError, match=r"^Line 1: 35\.07\.11\.208 is not a Kemendagri"):
        load_file(csv_file(tmp_path, "typo.csv", text), "Kepmendagri 2025")

    assert region_rows() == rows


def test_a_name_too_long_for_the_column_is_refused_with_a_clear_message(small_edition, tmp_path):
    rows = region_rows()
    text = SMALL_EDITION.replace("Arjowilangun", "A" * 101)

    with pytest.raises(CommandError, match=r"^Line 6: "):
        load_file(csv_file(tmp_path, "long.csv", text), "Kepmendagri 2025")

    assert region_rows() == rows


def test_an_edition_label_too_long_for_the_column_is_refused(small_edition, tmp_path):
    rows = region_rows()

    with pytest.raises(CommandError):
        load_file(csv_file(tmp_path, "newer.csv", NEWER_EDITION), "E" * 61)

    assert region_rows() == rows


def test_a_file_that_is_not_utf8_is_refused_with_a_clear_message(small_edition, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("35,JAWA TIMUR\n35.07,KAB. M\xc1LANG\n".encode("latin-1"))

    with pytest.raises(CommandError):
        load_file(path, "Kepmendagri 2025")


# The CSV format -----------------------------------------------------------------------------


def test_quoted_names_with_commas_load_whole_and_the_header_row_is_skipped(db, tmp_path):
    text = (
        "code,name\n"
        "12,SUMATERA UTARA\n"
        "12.07,KAB. DELI SERDANG\n"
        "12.07.28,Lubuk Pakam\n"
        '12.07.28.1007,"Lubuk Pakam I,II"\n'
        "14,RIAU\n"
        "14.02,KAB. INDRAGIRI HULU\n"
        "14.02.09,Lirik\n"
        '14.02.09.2010,"Lambang Sari I, II, III"\n'
    )

    output = load_file(csv_file(tmp_path, "quoted.csv", text), "Kepmendagri 2025")

    assert output == (
        "provinces=2 regencies=2 districts=2 villages=2 created=8 updated=0 retired=0"
    )
    assert Region.objects.get(code="12.07.28.1007").name == "Lubuk Pakam I,II"
    assert Region.objects.get(code="14.02.09.2010").name == "Lambang Sari I, II, III"
    assert not Region.objects.filter(code="code").exists()
    assert not Region.objects.filter(name="name").exists()


# Reading the tree ---------------------------------------------------------------------------

MALANG_DESCENDANTS = {
    "35.07.11",
    "35.07.11.2001",
    "35.07.11.2003",
    "35.07.11.2008",
    "35.07.33",
    "35.07.33.2004",
    "35.07.33.2006",
}


def test_under_a_regency_is_everything_below_it_and_nothing_else(world):
    codes = set(Region.objects.under("35.07").values_list("code", flat=True))

    assert codes == MALANG_DESCENDANTS
    assert "35.07" not in codes
    assert "35.73" not in codes


def test_label_title_cases_official_names_but_keeps_dki_upper():
    assert Region(code="35.07", name="KAB. MALANG", level=2).label == "Kab. Malang"
    assert Region(code="31", name="DKI JAKARTA", level=1).label == "DKI Jakarta"
    assert Region(code="35.07.11", name="Kalipare", level=3).label == "Kalipare"


def test_kind_label_tells_a_city_from_a_regency(world):
    assert str(Region.objects.get(code="35.73").kind_label) == "city"
    assert str(Region.objects.get(code="35.07").kind_label) == "regency"


# PostgreSQL: "everything under this code" is an index range scan ----------------------------

# "Index Scan using i on t", "Index Only Scan using i on t" or "Bitmap Index Scan on i".
INDEX_SCAN = re.compile(
    r"(?:(?:Index Scan|Index Only Scan)(?: Backward)? using|Bitmap Index Scan on) (\S+)"
)


def a_few_hundred_regions() -> dict[str, str]:
    """Two provinces of five regencies, five districts each and eight villages a district."""
    regions = {}
    for province in ("33", "35"):
        regions[province] = f"PROVINSI {province}"
        for regency in ("01", "05", "07", "09", "73"):
            code = f"{province}.{regency}"
            regions[code] = f"KAB. {code}"
            for district in range(1, 6):
                district_code = f"{code}.{district:02d}"
                regions[district_code] = f"Kecamatan {district_code}"
                for village in range(1, 9):
                    regions[f"{district_code}.{2000 + village}"] = f"Desa {village}"
    return regions


def plan_of(queryset) -> str:
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE villages_region")
        cursor.execute("ANALYZE villages_designation")
        cursor.execute("SET LOCAL enable_seqscan = off")
    return queryset.explain()


def assert_prefix_range_scan(plan: str, *, index_of: str) -> None:
    """The plan reads a `<table>_<column>_..._like` (pattern_ops) index by range."""
    indexes = INDEX_SCAN.findall(plan)
    assert any(name.startswith(index_of) and name.endswith("_like") for name in indexes), plan
    assert "~>=~" in plan, plan
    assert "~<~" in plan, plan


@pytest.fixture
def few_hundred_regions(db):
    require_postgresql()
    regions = a_few_hundred_regions()
    regions_load(regions=regions, edition="test", source="tests")
    villages = list(Region.objects.filter(level=Region.Level.VILLAGE).order_by("code"))
    for village in villages[::2]:
        DesignationFactory(village=village)
    return regions


def test_everything_under_a_code_is_an_index_range_scan(few_hundred_regions):
    plan = plan_of(Region.objects.under("35.07"))

    assert_prefix_range_scan(plan, index_of="villages_region_code_")
    assert Region.objects.under("35.07").count() == 5 + 5 * 8


def test_designations_under_a_code_are_an_index_range_scan_on_the_village_column(
    few_hundred_regions,
):
    plan = plan_of(Designation.objects.filter(village__code__startswith="35.07."))

    assert_prefix_range_scan(plan, index_of="villages_designation_village_id_")
    assert Designation.objects.filter(village__code__startswith="35.07.").count() == 20
