"""The spreadsheets the register hands out: the import template, the error report of an import
and the export (xlsx and CSV).

Headers and values come from migrants.columns, so what we write is what the import reads back.
Every string bound for a cell goes through escape_cell: names, addresses and the cells of an
uploaded file are typed by people, and a spreadsheet runs text that looks like a formula.
"""

import contextlib
import csv
import datetime
import io
import unicodedata
from collections.abc import Callable, Iterable, Iterator

from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from migrants.columns import (
    BY_KEY,
    COLUMNS,
    ERROR_HEADER,
    HEADER_INDEX,
    Column,
    header_key,
    written_value,
)
from migrants.countries import country_name
from migrants.models import Episode, Person
from migrants.nik import mask
from migrants.services import latest_episode

# --- Formula injection ------------------------------------------------------------------------

DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\0")
# Full-width forms of = + - @: East Asian input methods type them, and spreadsheets that
# normalise their input read them as the ASCII sign.
FULLWIDTH_PREFIXES = ("\uff1d", "\uff0b", "\uff0d", "\uff20")
_DANGEROUS = frozenset(DANGEROUS_PREFIXES + FULLWIDTH_PREFIXES)
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf"})  # control characters, zero-width marks


def escape_cell(value: object) -> object:
    """Text a spreadsheet would run as a formula, made plain text by a leading apostrophe.

    Not only the first character is looked at: a spreadsheet, or a user tidying the cell, may
    drop leading spaces and invisible characters, and what comes after them must not be a
    formula either. Numbers, dates and None are returned as they are.
    """
    if not isinstance(value, str):
        return value
    for ch in value:
        if ch in _DANGEROUS:
            return "'" + value
        if not (ch.isspace() or unicodedata.category(ch) in _INVISIBLE_CATEGORIES):
            return value
    return value


# --- Shared pieces ----------------------------------------------------------------------------

TEXT_FORMAT = "@"
DATE_FORMAT = "yyyy-mm-dd"
DEFAULT_WIDTH = 18
ERROR_WIDTH = 60
BOLD = Font(bold=True)
ERROR_HEADER_FILL = PatternFill(fill_type="solid", fgColor="FFC7CE")  # Excel's "Bad" style
ERROR_HEADER_FONT = Font(bold=True, color="9C0006")
IDENTIFIER_KEYS = frozenset(column.key for column in COLUMNS if column.is_identifier)
_ERROR_KEY = header_key(ERROR_HEADER)

# Spellings preferred over the first one columns.py lists: "SMA" alone would read as if
# vocational schools (SMK) did not count. Used by the template and the export alike, so an
# exported sheet passes the template's drop-down lists.
_PREFERRED_SPELLING: dict[tuple[str, str], str] = {("education", "sma"): "SMA/SMK"}
# An empty Status means a family member (the column's help says so): "Keluarga" is accepted
# and exported, but not offered in the drop-down list.
_NOT_OFFERED: dict[str, frozenset[str]] = {"status": frozenset({"keluarga"})}


def preferred_spelling(column: Column, stored: str) -> str:
    """The spelling we write for a stored value."""
    return _PREFERRED_SPELLING.get((column.key, stored)) or written_value(column, stored)


def offered_values(column: Column) -> list[str]:
    """The spellings a drop-down list offers: one per stored value, in the order listed."""
    hidden = _NOT_OFFERED.get(column.key, frozenset())
    stored_values = [s for s in dict.fromkeys(column.values.values()) if s not in hidden]
    return [preferred_spelling(column, stored) for stored in stored_values]


def _is_identifier_header(header: object) -> bool:
    return HEADER_INDEX.get(header_key(header)) in IDENTIFIER_KEYS


def _width(header: object) -> int:
    key = HEADER_INDEX.get(header_key(header))
    return BY_KEY[key].width if key else DEFAULT_WIDTH


def _identifier_text(value: object) -> str:
    """A NIK or No. KK as text; a number cell becomes its digits (3.507e15 -> "3507...")."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _legal_text(value: str) -> str:
    # Control characters cannot be stored in xlsx (openpyxl refuses the whole cell); they come
    # from CSV uploads and carry no meaning.
    return ILLEGAL_CHARACTERS_RE.sub("", value)


def _xlsx_value(sheet: Worksheet, value: object, *, identifier: bool) -> object:
    """What a write-only sheet gets for one cell.

    Identifier cells are text cells formatted as text even when empty, so a NIK typed there
    later keeps its 16 digits. Dates need nothing: openpyxl gives them a date format.
    """
    if value == "":
        value = None
    if identifier:
        text = None if value is None else escape_cell(_legal_text(_identifier_text(value)))
        cell = WriteOnlyCell(sheet, value=text)
        cell.number_format = TEXT_FORMAT
        return cell
    if isinstance(value, str):
        return escape_cell(_legal_text(value))
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        # xlsx has no time zones; openpyxl refuses aware datetimes.
        return timezone.localtime(value).replace(tzinfo=None)
    return value


def _header_cell(sheet: Worksheet, text: object) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=escape_cell(_legal_text(str(text))))
    cell.font = BOLD
    return cell


def _workbook_bytes(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _write_only_bytes(workbook: Workbook, write_rows: Callable[[], None]) -> bytes:
    try:
        write_rows()
    except BaseException:
        # A write-only sheet keeps its rows in a temporary file that openpyxl removes when the
        # workbook is saved, or else only when the process exits: a failed export in a
        # long-lived worker would leave it behind. Saving to nowhere removes it.
        with contextlib.suppress(Exception):
            workbook.save(io.BytesIO())
        raise
    return _workbook_bytes(workbook)


# --- Import template --------------------------------------------------------------------------

TEMPLATE_SHEET = "Data"
GUIDE_SHEET = "Petunjuk"
TEMPLATE_ROWS = 5000  # rows 2..5001 get formats and drop-down lists
_TEMPLATE_LAST_ROW = TEMPLATE_ROWS + 1


def template_xlsx() -> bytes:
    """The import template: the "Data" sheet to fill in and the "Petunjuk" sheet explaining it.

    Always in Indonesian, like the headers: the file goes from the ministry to the villages.
    """
    with translation.override("id"):
        workbook = Workbook()
        data = workbook.active
        data.title = TEMPLATE_SHEET
        _fill_template_data(data)
        _fill_template_guide(workbook.create_sheet(GUIDE_SHEET))
        return _workbook_bytes(workbook)


def _fill_template_data(sheet: Worksheet) -> None:
    sheet.append([column.header for column in COLUMNS])
    for cell in sheet[1]:
        cell.font = BOLD
    sheet.freeze_panes = "A2"
    for index, column in enumerate(COLUMNS, start=1):
        letter = get_column_letter(index)
        dimension = sheet.column_dimensions[letter]
        dimension.width = column.width
        number_format = (
            TEXT_FORMAT if column.is_identifier else DATE_FORMAT if column.is_date else None
        )
        if number_format:
            # The column style covers rows past the prepared ones in Excel and LibreOffice;
            # the cells themselves carry it too, since not every reader applies column styles.
            dimension.number_format = number_format
            for row in range(2, _TEMPLATE_LAST_ROW + 1):
                sheet.cell(row=row, column=index).number_format = number_format
        if column.values:
            values = offered_values(column)
            validation = DataValidation(
                type="list",
                formula1='"' + ",".join(values) + '"',
                allow_blank=True,
                showErrorMessage=True,
                errorTitle=_("Value not in the list"),
                error=_("Choose one of: %(values)s.") % {"values": ", ".join(values)},
            )
            validation.add(f"{letter}2:{letter}{_TEMPLATE_LAST_ROW}")
            sheet.add_data_validation(validation)


def _fill_template_guide(sheet: Worksheet) -> None:
    notes = [
        _("How to fill in the Data sheet"),
        _("One row is one person, with their current (latest) migration."),
        _(
            "Uploading a row whose NIK is already in the register updates that person; it does "
            "not add a second record."
        ),
        _(
            "An empty cell never erases what is already recorded: to change a value, type the "
            "new one."
        ),
        _(
            "Dates: an Excel date, or YYYY-MM-DD (DD/MM/YYYY and DD-MM-YYYY are accepted too). "
            "The date columns are already formatted."
        ),
        _(
            "NIK and No KK must be typed as text (their columns are already formatted as text): "
            "as a number, Excel keeps only 15 digits and the 16th is lost."
        ),
        _("Do not change the headers in the first row of the Data sheet."),
    ]
    for note in notes:
        sheet.append([note])
    sheet["A1"].font = BOLD
    sheet.append([])
    sheet.append(["Kolom", "Wajib", "Isi yang diterima", "Keterangan"])
    for cell in sheet[sheet.max_row]:
        cell.font = BOLD
    for column in COLUMNS:
        sheet.append(
            [
                column.header,
                "Ya" if column.required else "Tidak",
                _accepted(column),
                str(column.help),
            ]
        )
    wrap = Alignment(wrap_text=True, vertical="top")
    for letter, width in (("A", 22), ("B", 8), ("C", 48), ("D", 70)):
        sheet.column_dimensions[letter].width = width
    for row in sheet.iter_rows(min_row=len(notes) + 3):
        for cell in row:
            cell.alignment = wrap


def _accepted(column: Column) -> str:
    if column.values:
        return ", ".join(offered_values(column))
    if column.is_identifier:
        return _("16 digits, as text")
    if column.is_date:
        return _("A date")
    return _("Text")


# --- Error report -----------------------------------------------------------------------------


def error_report_xlsx(header: list[str], rows: Iterable[tuple[int, list, list[str]]]) -> bytes:
    """The rows an import refused, to fix and upload again as they are.

    `rows` holds (row number, original cells, messages). The sheet has the original header and
    a last "Kesalahan" column with the messages, nothing else: the importer ignores "Kesalahan"
    as an unknown column, and an error column of an earlier report is dropped, so a report of
    a report does not grow a second one. The row number is not written (it would be one more
    column to delete); row order is kept.
    """
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(ERROR_HEADER)
    kept = [i for i, text in enumerate(header) if header_key(text) != _ERROR_KEY]
    identifiers = [_is_identifier_header(header[i]) for i in kept]
    # Styles of columns and panes must be set before the first row is written.
    for position, i in enumerate(kept, start=1):
        sheet.column_dimensions[get_column_letter(position)].width = _width(header[i])
    sheet.column_dimensions[get_column_letter(len(kept) + 1)].width = ERROR_WIDTH
    sheet.freeze_panes = "A2"

    error_cell = _header_cell(sheet, ERROR_HEADER)
    error_cell.font = ERROR_HEADER_FONT
    error_cell.fill = ERROR_HEADER_FILL
    sheet.append([*(_header_cell(sheet, header[i]) for i in kept), error_cell])

    def write_rows() -> None:
        for _number, cells, messages in rows:
            # Cells past the header are dropped, missing ones left empty, so the messages are
            # always under "Kesalahan".
            values = [
                _xlsx_value(sheet, cells[i] if i < len(cells) else None, identifier=identifier)
                for i, identifier in zip(kept, identifiers, strict=True)
            ]
            values.append(_xlsx_value(sheet, "; ".join(messages), identifier=False))
            sheet.append(values)

    return _write_only_bytes(workbook, write_rows)


# --- Export -----------------------------------------------------------------------------------


def export_header() -> list[str]:
    return [column.header for column in COLUMNS]


def _written(key: str, stored: str) -> str:
    return preferred_spelling(BY_KEY[key], stored) if stored else ""


def _address(person: Person) -> str:
    """One address cell from the separate fields: "Jl. Mawar 3, Dusun Krajan, RT 002/RW 005"."""
    parts = [person.address.strip()]
    dusun = person.dusun.strip()
    if dusun and not dusun.casefold().startswith(("dusun", "dsn")):
        dusun = f"Dusun {dusun}"
    parts.append(dusun)
    neighbourhood = (_prefixed("RT", person.rt), _prefixed("RW", person.rw))
    parts.append("/".join(part for part in neighbourhood if part))
    return ", ".join(part for part in parts if part)


def _prefixed(prefix: str, value: str) -> str:
    value = value.strip()
    return f"{prefix} {value}" if value else ""


_NO_EPISODE: dict[str, object] = {
    "destination_country": "",
    "job_title": "",
    "sector": "",
    "placement_scheme": "",
    "p3mi_name": "",
    "departure_date": None,
    "return_date": None,
    "return_reason": "",
    "procedural_status": "",
}


def person_row(person: Person, episode: Episode | None, *, full_nik: bool) -> list:
    """One export row, in COLUMNS order; NIK and No. KK masked unless `full_nik`.

    Text empty as "", dates as date objects or None; strings are escaped already.
    """
    nik = person.nik or ""
    values: dict[str, object] = {
        "nik": nik if full_nik else mask(nik),
        "no_kk": person.no_kk if full_nik else mask(person.no_kk),
        "full_name": person.full_name,
        "sex": _written("sex", person.sex),
        "birth_place": person.birth_place,
        "birth_date": person.birth_date,
        "village": person.village_id,
        "address": _address(person),
        "phone": person.phone,
        "education": _written("education", person.education),
        "status": _written("status", person.status),
    }
    if episode is None:
        values.update(_NO_EPISODE)
    else:
        country = episode.destination_country
        values.update(
            destination_country=country_name(country) if country else "",
            job_title=episode.job_title,
            sector=_written("sector", episode.sector),
            placement_scheme=_written("placement_scheme", episode.placement_scheme),
            p3mi_name=episode.p3mi_name,
            departure_date=episode.departure_date,
            return_date=episode.return_date,
            return_reason=_written("return_reason", episode.return_reason),
            procedural_status=_written("procedural_status", episode.procedural_status),
        )
    # Indexing (not .get) so a column added to columns.py without an export value fails the
    # tests instead of exporting silently empty.
    return [escape_cell(values[column.key]) for column in COLUMNS]


def iter_export_rows(
    queryset: QuerySet[Person], *, full_nik: bool, chunk_size: int = 2000
) -> Iterator[list]:
    """Export rows of `queryset`, which the caller has already scoped with `for_user`.

    People are read `chunk_size` at a time with their episodes prefetched per chunk: one
    query per chunk for the people and one for their episodes, however many rows.
    """
    people = queryset.prefetch_related("episodes").iterator(chunk_size=chunk_size)
    for person in people:
        yield person_row(person, latest_episode(person.episodes.all()), full_nik=full_nik)


# --- Writers ----------------------------------------------------------------------------------

CSV_BOM = b"\xef\xbb\xbf"
# Lines are sent in blocks of about this size: row by row would mean one write (and one gzip
# flush, behind GZipMiddleware) per row.
CSV_BLOCK_BYTES = 64 * 1024


class _Line:
    """csv.writer's file: hands each line back instead of keeping it."""

    def write(self, line: str) -> str:
        return line


def _csv_value(value: object) -> object:
    if isinstance(value, datetime.datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return escape_cell(value)


def stream_csv(header: list[str], rows: Iterable[list]) -> Iterator[bytes]:
    """UTF-8 CSV, comma-separated, in blocks for a StreamingHttpResponse.

    It starts with a byte order mark: without it Excel reads UTF-8 as the local code page and
    mangles names. Dates are written YYYY-MM-DD. Memory stays constant whatever the row count.
    """
    writer = csv.writer(_Line())
    block = [CSV_BOM, writer.writerow([_csv_value(text) for text in header]).encode("utf-8")]
    size = 0
    for row in rows:
        line = writer.writerow([_csv_value(value) for value in row]).encode("utf-8")
        block.append(line)
        size += len(line)
        if size >= CSV_BLOCK_BYTES:
            yield b"".join(block)
            block, size = [], 0
    if block:
        yield b"".join(block)


def write_xlsx(header: list[str], rows: Iterable[list], *, sheet_title: str) -> bytes:
    """An xlsx of one sheet, returned as bytes (a 50,000-row export is a few MB).

    Rows are streamed through openpyxl's write-only mode, which keeps them in a temporary
    file rather than in memory. The header is bold and frozen; columns whose header is NIK or
    No KK (in any spelling the import accepts) are text cells, dates keep a date format.
    `sheet_title` must be a valid Excel sheet name (at most 31 characters, none of []:*?/\\).
    """
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title)
    identifiers = [_is_identifier_header(text) for text in header]
    for position, text in enumerate(header, start=1):
        sheet.column_dimensions[get_column_letter(position)].width = _width(text)
    sheet.freeze_panes = "A2"
    sheet.append([_header_cell(sheet, text) for text in header])

    def write_rows() -> None:
        for row in rows:
            sheet.append(
                [
                    _xlsx_value(sheet, value, identifier=identifier)
                    for value, identifier in zip(row, identifiers, strict=True)
                ]
            )

    return _write_only_bytes(workbook, write_rows)
