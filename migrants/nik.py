"""NIK and No. KK: normalizing what people type or paste, and checking it without a database.

One module for forms, imports and the API, so a number is judged the same way everywhere.
It runs on every row of 50,000-row imports: the valid path does no regex, no gettext and no
exception handling beyond a few integer conversions.
"""

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from numbers import Number
from typing import Literal

from django.utils.translation import gettext

NIK_LENGTH = 16
BULLET = "\u2022"

ERROR: Literal["error"] = "error"
WARNING: Literal["warning"] = "warning"

# Separators people type or that spreadsheets and PDFs leave behind (hyphens, dashes, minus,
# dots, soft hyphen, zero-width characters, their full-width forms); Unicode whitespace in
# general is removed separately by str.split().
_INVISIBLE_OR_SEPARATOR = (
    "-.\u00ad\u200b\u200c\u200d\u2060\ufeff\u2010\u2011\u2012\u2013\u2014\u2015\u2212\uff0d\uff0e"
)
_TRANSLATE = str.maketrans(
    {chr(0xFF10 + digit): str(digit) for digit in range(10)}
    | dict.fromkeys(_INVISIBLE_OR_SEPARATOR)
)
# A 15- or 16-digit number cell once a CSV export has turned it into text ("3.50711E+15",
# "3,50711E+15"); other exponents are left to the digit check, so "1e5" in a search box is
# just a non-digit value.
_SCIENTIFIC = re.compile(r"\d(?:[.,]\d*)?[eE]\+?1[45]")

# Feb allows 29: the NIK gives only two digits of the year, so the century is unknown.
_MAX_DAY = (0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_FEMALE_DAY_OFFSET = 40


class NikNumberCell(ValueError):
    """The value came as a number: a spreadsheet has already rounded it to 15 digits."""


@dataclass(frozen=True, slots=True)
class Problem:
    code: str
    level: Literal["error", "warning"]
    message: str


@dataclass(frozen=True, slots=True)
class NikCheck:
    value: str
    problems: tuple[Problem, ...] = ()
    district_code: str | None = None
    birth_date: date | None = None
    sex: Literal["L", "P"] | None = None

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(problem for problem in self.problems if problem.level == ERROR)

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(problem for problem in self.problems if problem.level == WARNING)

    @property
    def ok(self) -> bool:
        return not any(problem.level == ERROR for problem in self.problems)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(problem.code for problem in self.problems)


def normalize_number(value: object) -> str:
    """The digits to check, from a str as typed or pasted; None gives "".

    Raises NikNumberCell for numbers (int, float, Decimal) and for text in scientific
    notation, and TypeError for anything else that is not a str.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        text = value
    elif isinstance(value, Number):
        # Excel keeps 15 significant digits: the 16th is gone before we ever see the cell.
        raise NikNumberCell(value)
    else:
        raise TypeError(f"a NIK or No. KK is text, not {type(value).__name__}")
    if len(text) == NIK_LENGTH and text.isascii() and text.isdigit():
        return text
    if ("e" in text or "E" in text) and _SCIENTIFIC.fullmatch(text.strip()):
        raise NikNumberCell(value)
    text = "".join(text.translate(_TRANSLATE).split())
    if not text.isascii():
        # Arabic-Indic, Devanagari and other decimal digits come from phone keyboards.
        text = "".join(_ascii_digit(ch) for ch in text)
    return text


def _ascii_digit(ch: str) -> str:
    digit = unicodedata.decimal(ch, None)
    return ch if digit is None else str(digit)


def _is_digits(text: str) -> bool:
    # str.isdigit() alone also accepts superscripts and other digits int() may reject.
    return text.isascii() and text.isdigit()


def _century_year(yy: int, month: int, day: int, today: date) -> int:
    year = 2000 + yy
    if (year, month, day) > (today.year, today.month, today.day):
        year -= 100
    return year


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _check_prefix(
    digits: str,
    problems: list[Problem],
    known_district: Callable[[str], bool] | None,
    *,
    kk: bool,
) -> str | None:
    """The district code of the first six digits, or None when it cannot be a region code."""
    code = f"{digits[0:2]}.{digits[2:4]}.{digits[4:6]}"
    if digits[0:2] == "00" or digits[2:4] == "00" or digits[4:6] == "00":
        problems.append(
            Problem(
                "prefix",
                ERROR,
                gettext(
                    "The region code %(code)s at the start of this number cannot exist: "
                    "no part of a region code is 00."
                )
                % {"code": code},
            )
        )
        return None
    if known_district is not None and not known_district(code):
        message = (
            gettext(
                "The region code %(code)s of this No. KK is not in the region list; "
                "check it (codes change between editions)."
            )
            if kk
            else gettext(
                "The region code %(code)s of this NIK is not in the region list; "
                "check it (codes change between editions)."
            )
        )
        problems.append(Problem("prefix_unknown", WARNING, message % {"code": code}))
    return code


def _check_shape(digits: str, problems: list[Problem], *, kk: bool) -> bool:
    """True when the value is 16 ASCII digits; otherwise says what is wrong with it."""
    if len(digits) == NIK_LENGTH and _is_digits(digits):
        return True
    # Both problems at once, so a row in an import report is fixed in one go.
    count = sum(ch in "0123456789" for ch in digits)
    if count != NIK_LENGTH:
        message = (
            gettext("A No. KK has 16 digits; this one has %(count)d.")
            if kk
            else gettext("A NIK has 16 digits; this one has %(count)d.")
        )
        problems.append(Problem("length", ERROR, message % {"count": count}))
    if count != len(digits):
        message = (
            gettext("A No. KK contains only digits.")
            if kk
            else gettext("A NIK contains only digits.")
        )
        problems.append(Problem("non_digit", ERROR, message))
    return False


def _number_cell(*, kk: bool) -> NikCheck:
    message = (
        gettext(
            "The No. KK arrived as a number, so Excel has already changed its last digit. "
            "Format the No. KK column as text and type it again."
        )
        if kk
        else gettext(
            "The NIK arrived as a number, so Excel has already changed its last digit. "
            "Format the NIK column as text and type it again."
        )
    )
    return NikCheck(value="", problems=(Problem("number_cell", ERROR, message),))


def check_nik(
    value: object,
    *,
    birth_date: date | None = None,
    sex: str | None = None,
    known_district: Callable[[str], bool] | None = None,
    today: date | None = None,
) -> NikCheck:
    """Check a NIK against its structure and, when given, the person's data.

    An empty value is fine here: a person may have no NIK yet, and callers that need one say
    so. A number cell gives value "" with its error: what is left of it must not be stored.
    `sex` is "L" or "P" (empty or None: not known); `today` only decides the century of the
    decoded birth date.
    """
    if sex is not None and sex not in ("", "L", "P"):
        raise ValueError(f"sex must be 'L' or 'P', not {sex!r}")
    try:
        digits = normalize_number(value)
    except NikNumberCell:
        return _number_cell(kk=False)
    if not digits:
        return NikCheck(value="")

    problems: list[Problem] = []
    if not _check_shape(digits, problems, kk=False):
        return NikCheck(value=digits, problems=tuple(problems))

    district_code = _check_prefix(digits, problems, known_district, kk=False)

    raw_day = int(digits[6:8])
    month = int(digits[8:10])
    yy = int(digits[10:12])
    nik_sex: Literal["L", "P"] = "P" if raw_day > _FEMALE_DAY_OFFSET else "L"
    day = raw_day - _FEMALE_DAY_OFFSET if nik_sex == "P" else raw_day
    month_ok = 1 <= month <= 12
    day_ok = 1 <= day <= (_MAX_DAY[month] if month_ok else 31)
    if not day_ok:
        problems.append(
            Problem(
                "day",
                ERROR,
                gettext(
                    "Digits 7-8 of this NIK (%(digits)s) are not a possible day of birth; "
                    "for women the day is 41 to 71."
                )
                % {"digits": digits[6:8]},
            )
        )
    if not month_ok:
        problems.append(
            Problem(
                "month",
                ERROR,
                gettext("Digits 9-10 of this NIK (%(digits)s) are not a month (01 to 12).")
                % {"digits": digits[8:10]},
            )
        )
    if digits[12:16] == "0000":
        problems.append(
            Problem(
                "serial",
                ERROR,
                gettext("The last four digits of a NIK (its serial number) cannot be 0000."),
            )
        )

    decoded_birth_date: date | None = None
    decoded_sex: Literal["L", "P"] | None = None
    if day_ok and month_ok:
        decoded_sex = nik_sex
        year = _century_year(yy, month, day, today or date.today())
        # 29 Feb of a year that is not leap in either century: accepted, but no date exists.
        if not (month == 2 and day == 29 and not _is_leap(year)):
            decoded_birth_date = date(year, month, day)
        if birth_date is not None and (
            birth_date.day != day or birth_date.month != month or birth_date.year % 100 != yy
        ):
            # Only day, month and two-digit year: the century is a guess, the rest is data.
            problems.append(
                Problem(
                    "birth_date_mismatch",
                    WARNING,
                    gettext(
                        "The birth date in this NIK (%(nik_date)s) does not match the date "
                        "of birth entered (%(birth_date)s)."
                    )
                    % {
                        "nik_date": f"{day:02d}-{month:02d}-{yy:02d}",
                        "birth_date": f"{birth_date.day:02d}-{birth_date.month:02d}-"
                        f"{birth_date.year:04d}",
                    },
                )
            )
        if sex and sex != nik_sex:
            message = (
                gettext(
                    "This NIK is a woman's (its day of birth has 40 added), "
                    "but the sex entered is male."
                )
                if nik_sex == "P"
                else gettext(
                    "This NIK is a man's (its day of birth has no 40 added), "
                    "but the sex entered is female."
                )
            )
            problems.append(Problem("sex_mismatch", WARNING, message))

    return NikCheck(
        value=digits,
        problems=tuple(problems),
        district_code=district_code,
        birth_date=decoded_birth_date,
        sex=decoded_sex,
    )


def check_kk(
    value: object,
    *,
    known_district: Callable[[str], bool] | None = None,
) -> NikCheck:
    """Check a No. KK (family card number); empty is fine, as for check_nik.

    Its middle six digits are the card's issue date: old cards carry odd dates there, so an
    impossible one is only a warning.
    """
    try:
        digits = normalize_number(value)
    except NikNumberCell:
        return _number_cell(kk=True)
    if not digits:
        return NikCheck(value="")

    problems: list[Problem] = []
    if not _check_shape(digits, problems, kk=True):
        return NikCheck(value=digits, problems=tuple(problems))

    district_code = _check_prefix(digits, problems, known_district, kk=True)
    day = int(digits[6:8])
    month = int(digits[8:10])
    if not (1 <= month <= 12 and 1 <= day <= _MAX_DAY[month]):
        problems.append(
            Problem(
                "kk_date",
                WARNING,
                gettext(
                    "Digits 7-12 of a No. KK are the card's issue date, and %(digits)s is not "
                    "a possible date; check the number."
                )
                % {"digits": digits[6:12]},
            )
        )
    if digits[12:16] == "0000":
        problems.append(
            Problem(
                "serial",
                ERROR,
                gettext("The last four digits of a No. KK (its serial number) cannot be 0000."),
            )
        )
    return NikCheck(value=digits, problems=tuple(problems), district_code=district_code)


def mask(value: str) -> str:
    """Hide the middle of a NIK or No. KK: 3507114508900003 -> 3507••••••••0003.

    Short (invalid) values reveal less, so a masked value never gives most of itself away.
    """
    length = len(value)
    if length < 8:
        return BULLET * length
    shown = min(4, length // 4)
    return value[:shown] + BULLET * (length - 2 * shown) + value[-shown:]


_DISTRICT_CODE = re.compile(r"(\d{2})\.(\d{2})\.(\d{2})")


def nik_for(*, district_code: str, birth_date: date, sex: str, serial: int) -> str:
    """A structurally valid NIK, for demo data and tests; ValueError on bad input."""
    match = _DISTRICT_CODE.fullmatch(district_code)
    if match is None or "00" in match.groups():
        raise ValueError(f"district code must look like 35.07.11, not {district_code!r}")
    if sex not in ("L", "P"):
        raise ValueError(f"sex must be 'L' or 'P', not {sex!r}")
    if isinstance(serial, bool) or not isinstance(serial, int) or not 1 <= serial <= 9999:
        raise ValueError(f"serial must be an integer from 1 to 9999, not {serial!r}")
    if not isinstance(birth_date, date):
        raise ValueError(f"birth_date must be a date, not {birth_date!r}")
    day = birth_date.day + (_FEMALE_DAY_OFFSET if sex == "P" else 0)
    return (
        "".join(match.groups())
        + f"{day:02d}{birth_date.month:02d}{birth_date.year % 100:02d}{serial:04d}"
    )
