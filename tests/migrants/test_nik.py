"""NIK and No. KK checks: what forms, imports and the API all rely on."""

from datetime import date
from decimal import Decimal

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from migrants.nik import (
    BULLET,
    NikNumberCell,
    check_kk,
    check_nik,
    mask,
    nik_for,
    normalize_number,
)

# A woman born 5 Aug 1990 (day 05 + 40), first registered in Kalipare (35.07.11).
SITI = "3507114508900003"
# A man born 17 Mar 2004, same district.
BUDI = "3507111703040021"
KALIPARE = "35.07.11"

NIK_CODES = {
    "number_cell",
    "length",
    "non_digit",
    "prefix",
    "day",
    "month",
    "serial",
    "prefix_unknown",
    "birth_date_mismatch",
    "sex_mismatch",
}


@pytest.fixture(autouse=True)
def english():
    """Messages are asserted in English, whatever LANGUAGE_CODE says."""
    with translation.override("en"):
        yield


def codes(value: object, **kwargs) -> list[str]:
    return [problem.code for problem in check_nik(value, **kwargs).problems]


def only_kalipare(code: str) -> bool:
    return code == KALIPARE


# --- normalization ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        SITI,
        f"  {SITI}\n",
        "3507 1145 0890 0003",
        "3507-1145-0890-0003",
        "35.07.11.450890.0003",
        "3507\u00a01145\u200b0890\u20130003",
        "".join(chr(0xFF10 + int(d)) for d in SITI),  # full-width: ３５０７…
        "".join(chr(0x0660 + int(d)) for d in SITI),  # Arabic-Indic: ٣٥٠٧…
    ],
)
def test_spaces_dashes_dots_and_other_digit_forms_normalize_to_ascii_digits(typed):
    assert normalize_number(typed) == SITI
    assert check_nik(typed).problems == ()


def test_none_normalizes_to_an_empty_string():
    assert normalize_number(None) == ""


@pytest.mark.parametrize("cell", [3507114508900003, 3507114508900003.0, Decimal(SITI)])
def test_a_number_is_refused_because_a_spreadsheet_has_already_rounded_it(cell):
    with pytest.raises(NikNumberCell):
        normalize_number(cell)


@pytest.mark.parametrize("cell", [3507114508900003, 3.507114508900003e15, "3.50711E+15"])
def test_a_number_cell_is_a_number_cell_error_asking_for_a_text_column(cell):
    check = check_nik(cell)
    assert [p.code for p in check.errors] == ["number_cell"]
    assert "Format the NIK column as text" in check.errors[0].message
    assert not check.ok


@pytest.mark.parametrize("text", ["3,50711E+15", "3.507114508900003e15", "3E+14"])
def test_a_number_cell_exported_as_text_in_scientific_notation_is_a_number_cell(text):
    with pytest.raises(NikNumberCell):
        normalize_number(text)


def test_other_text_with_an_e_is_just_not_digits():
    assert normalize_number("12e5") == "12e5"
    assert codes("12e5") == ["length", "non_digit"]


def test_a_value_that_is_neither_text_nor_number_is_a_programming_error():
    with pytest.raises(TypeError):
        normalize_number(date(1990, 8, 5))


# --- empty, length, digits ---------------------------------------------------------------------


@pytest.mark.parametrize("empty", ["", "   ", None])
def test_an_empty_nik_is_fine_because_a_person_may_have_none_yet(empty):
    check = check_nik(empty)
    assert check.ok
    assert check.value == ""
    assert check.problems == ()


def test_a_nik_that_is_not_16_digits_says_how_many_it_has():
    check = check_nik("350711450890003")
    assert check.codes == ("length",)
    assert check.errors[0].message == "A NIK has 16 digits; this one has 15."


def test_a_letter_in_a_nik_is_a_non_digit_error():
    assert codes("350711450890000O") == ["length", "non_digit"]
    assert codes("35071145089000O3") == ["length", "non_digit"]
    assert codes("3507114508900003X") == ["non_digit"]


def test_superscript_digits_are_not_digits():
    assert "non_digit" in codes("35071145089000²3")


# --- the date and sex part ---------------------------------------------------------------------


def test_a_valid_nik_decodes_district_birth_date_and_sex():
    check = check_nik(SITI, birth_date=date(1990, 8, 5), sex="P")
    assert check.ok
    assert check.problems == ()
    assert check.district_code == KALIPARE
    assert check.birth_date == date(1990, 8, 5)
    assert check.sex == "P"


def test_a_woman_adds_40_to_her_day_of_birth():
    assert check_nik("3507114101900003").birth_date == date(1990, 1, 1)
    assert check_nik("3507117112900003").birth_date == date(1990, 12, 31)
    assert check_nik("3507114101900003").sex == "P"
    assert check_nik("3507110101900003").sex == "L"


def test_29_february_is_accepted_since_the_century_is_unknown():
    assert check_nik("3507112902000003").birth_date == date(2000, 2, 29)
    assert check_nik("3507116902840003").birth_date == date(1984, 2, 29)
    # No 29 Feb in 1901 or 2001: accepted as typed, but there is no date to decode.
    check = check_nik("3507112902010003")
    assert check.ok
    assert check.birth_date is None
    assert check.sex == "L"


@pytest.mark.parametrize(
    "ddmm",
    ["3104", "7104", "3002", "0001", "4001", "3201", "3901", "7201", "9901"],
)
def test_an_impossible_day_is_a_day_error(ddmm):
    check = check_nik(f"350711{ddmm}900003")
    assert check.codes == ("day",)
    assert check.birth_date is None
    assert check.sex is None


@pytest.mark.parametrize("month", ["00", "13", "99"])
def test_a_month_outside_1_to_12_is_a_month_error(month):
    assert codes(f"35071105{month}900003") == ["month"]


def test_the_century_is_the_one_that_keeps_the_birth_date_in_the_past():
    today = date(2026, 3, 1)
    assert check_nik("3507110501050003", today=today).birth_date == date(2005, 1, 5)
    assert check_nik("3507110501300003", today=today).birth_date == date(1930, 1, 5)
    assert check_nik("3507110102260003", today=today).birth_date == date(2026, 2, 1)
    assert check_nik("3507110203260003", today=today).birth_date == date(1926, 3, 2)


def test_a_serial_of_0000_is_a_serial_error():
    assert codes("3507114508900000") == ["serial"]


@pytest.mark.parametrize("nik", ["0007114508900003", "3500114508900003", "3507004508900003"])
def test_a_region_code_with_a_00_part_is_a_prefix_error(nik):
    check = check_nik(nik)
    assert check.codes == ("prefix",)
    assert check.district_code is None


def test_several_errors_are_reported_together():
    assert codes("0007117213000000") == ["prefix", "day", "month", "serial"]


# --- warnings ----------------------------------------------------------------------------------


def test_an_unknown_region_code_is_only_a_warning_and_only_when_a_region_list_is_given():
    assert codes("1101014508900003") == []
    check = check_nik("1101014508900003", known_district=only_kalipare)
    assert check.codes == ("prefix_unknown",)
    assert check.ok
    assert "11.01.01" in check.warnings[0].message
    assert codes(SITI, known_district=only_kalipare) == []


def test_a_birth_date_that_disagrees_with_the_nik_is_a_warning():
    check = check_nik(SITI, birth_date=date(1990, 8, 6))
    assert check.codes == ("birth_date_mismatch",)
    assert check.ok
    assert "05-08-90" in check.warnings[0].message
    assert "06-08-1990" in check.warnings[0].message
    assert codes(SITI, birth_date=date(1990, 9, 5)) == ["birth_date_mismatch"]
    assert codes(SITI, birth_date=date(1991, 8, 5)) == ["birth_date_mismatch"]


def test_the_birth_date_comparison_ignores_the_century():
    assert codes(SITI, birth_date=date(1890, 8, 5)) == []
    assert codes(BUDI, birth_date=date(1904, 3, 17)) == []


def test_a_sex_that_disagrees_with_the_nik_is_a_warning():
    assert codes(SITI, sex="L") == ["sex_mismatch"]
    assert codes(BUDI, sex="P") == ["sex_mismatch"]
    assert codes(SITI, sex="P") == []
    assert codes(BUDI, sex="L") == []
    assert codes(BUDI, sex="") == []


def test_an_unknown_sex_value_is_a_programming_error():
    with pytest.raises(ValueError, match="sex"):
        check_nik(SITI, sex="F")


def test_no_date_or_sex_warning_is_added_to_a_day_error():
    assert codes("3507117208900003", birth_date=date(1990, 8, 5), sex="L") == ["day"]


def test_errors_and_warnings_are_split_and_ok_means_no_errors():
    check = check_nik("3507114508900000", sex="L", known_district=only_kalipare)
    assert [p.code for p in check.errors] == ["serial"]
    assert [p.code for p in check.warnings] == ["sex_mismatch"]
    assert not check.ok


# --- No. KK ------------------------------------------------------------------------------------


def test_a_valid_kk_passes_and_decodes_its_district():
    check = check_kk("3507 1112 0315 0007", known_district=only_kalipare)
    assert check.problems == ()
    assert check.value == "3507111203150007"
    assert check.district_code == KALIPARE


def test_an_empty_kk_is_fine():
    assert check_kk("").ok
    assert check_kk(None).problems == ()


def test_kk_errors_speak_of_the_no_kk():
    check = check_kk("35071112031500")
    assert check.codes == ("length",)
    assert check.errors[0].message == "A No. KK has 16 digits; this one has 14."
    assert check_kk("350711120315000A").codes == ("length", "non_digit")
    number_cell = check_kk(3507111203150007)
    assert number_cell.codes == ("number_cell",)
    assert "No. KK column" in number_cell.errors[0].message


def test_a_kk_serial_of_0000_is_an_error():
    assert check_kk("3507111203150000").codes == ("serial",)


def test_an_impossible_kk_issue_date_is_only_a_warning():
    check = check_kk("3507114513150007")
    assert check.codes == ("kk_date",)
    assert check.ok


def test_an_unknown_kk_region_is_a_warning_about_the_kk():
    check = check_kk("1101011203150007", known_district=only_kalipare)
    assert check.codes == ("prefix_unknown",)
    assert "No. KK" in check.warnings[0].message


# --- masking -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        (SITI, "3507••••••••0003"),
        ("", ""),
        ("1234567", "•••••••"),
        ("12345678", "12••••78"),
        ("123456789012", "123••••••012"),
    ],
)
def test_mask_shows_only_the_ends_and_never_most_of_a_short_value(value, masked):
    assert mask(value) == masked


# --- building NIKs -----------------------------------------------------------------------------


def test_nik_for_builds_a_womans_nik_with_the_day_plus_40():
    nik = nik_for(district_code=KALIPARE, birth_date=date(1990, 8, 5), sex="P", serial=3)
    assert nik == SITI


@pytest.mark.parametrize(
    ("kwargs", "complaint"),
    [
        ({"district_code": "35.07", "sex": "L", "serial": 1}, "district code"),
        ({"district_code": "350711", "sex": "L", "serial": 1}, "district code"),
        ({"district_code": "35.00.11", "sex": "L", "serial": 1}, "district code"),
        ({"district_code": KALIPARE, "sex": "X", "serial": 1}, "sex"),
        ({"district_code": KALIPARE, "sex": "L", "serial": 0}, "serial"),
        ({"district_code": KALIPARE, "sex": "L", "serial": 10000}, "serial"),
    ],
)
def test_nik_for_refuses_bad_input(kwargs, complaint):
    with pytest.raises(ValueError, match=complaint):
        nik_for(birth_date=date(1990, 8, 5), **kwargs)


# --- properties --------------------------------------------------------------------------------

district_codes = st.builds(
    "{:02d}.{:02d}.{:02d}".format,
    st.integers(11, 94),
    st.integers(1, 99),
    st.integers(1, 99),
)
birth_dates = st.dates(min_value=date(1940, 1, 1), max_value=date.today())
sexes = st.sampled_from(["L", "P"])
serials = st.integers(1, 9999)
valid_niks = st.builds(
    lambda code, born, sex, serial: nik_for(
        district_code=code, birth_date=born, sex=sex, serial=serial
    ),
    district_codes,
    birth_dates,
    sexes,
    serials,
)


@given(district_codes, birth_dates, sexes, serials)
def test_every_built_nik_passes_and_decodes_back_to_its_person(code, born, sex, serial):
    nik = nik_for(district_code=code, birth_date=born, sex=sex, serial=serial)
    check = check_nik(nik, birth_date=born, sex=sex, known_district=lambda c: c == code)
    assert check.problems == ()
    assert check.value == nik
    assert check.district_code == code
    assert check.sex == sex
    assert (check.birth_date.day, check.birth_date.month) == (born.day, born.month)
    assert check.birth_date.year % 100 == born.year % 100


@given(st.one_of(st.text(), st.none(), st.integers(), st.floats()))
def test_any_input_gives_no_exception_and_only_documented_problem_codes(value):
    check = check_nik(value)
    assert {problem.code for problem in check.problems} <= NIK_CODES
    assert {problem.level for problem in check.problems} <= {"error", "warning"}


@given(valid_niks)
def test_a_serial_of_0000_is_always_an_error(nik):
    assert "serial" in codes(nik[:12] + "0000")


@given(valid_niks)
def test_a_masked_nik_hides_digits_5_to_12_and_keeps_its_length(nik):
    masked = mask(nik)
    assert len(masked) == 16
    assert masked[4:12] == BULLET * 8
    assert masked[:4] == nik[:4]
    assert masked[12:] == nik[12:]
