"""Spreadsheets and CSV files for the import tests, built in memory.

Rows are dicts keyed by the template's headers ("NIK", "Nama Lengkap", ...); `row()` gives a
valid person of Arjowilangun that tests then spoil one cell at a time.
"""

import datetime
import io
import itertools
import zipfile
from collections.abc import Iterable, Sequence

import openpyxl

from migrants.columns import COLUMNS
from migrants.nik import nik_for

HEADERS = [column.header for column in COLUMNS]
IDENTIFIER_HEADERS = {column.header for column in COLUMNS if column.is_identifier}

# Born on another day than the factories' people, so a file's NIKs never collide with theirs.
FILE_BORN = datetime.date(1995, 6, 15)
ARJOWILANGUN = "35.07.11.2008"

_serials = itertools.count(1)
_names = itertools.count(1)


def file_nik(*, serial: int | None = None, district: str = "35.07.11", sex: str = "P") -> str:
    """A valid NIK of a woman born on FILE_BORN: a fresh serial unless one is given."""
    if serial is None:
        serial = next(_serials) % 9999 + 1
    return nik_for(district_code=district, birth_date=FILE_BORN, sex=sex, serial=serial)


def row(**cells: object) -> dict[str, object]:
    """A valid row: a CPMI woman of Arjowilangun bound for Hong Kong, with a fresh NIK.

    Keyword arguments name headers with spaces as underscores (Nama_Lengkap="Sri").
    """
    values: dict[str, object] = {
        "NIK": file_nik(),
        "Nama Lengkap": f"Pekerja Berkas {next(_names)}",
        "Jenis Kelamin": "P",
        "Tanggal Lahir": FILE_BORN.isoformat(),
        "Kode Desa": ARJOWILANGUN,
        "Status": "CPMI",
        "Negara Tujuan": "Hong Kong",
    }
    values.update({name.replace("_", " "): value for name, value in cells.items()})
    return values


def as_lists(
    rows: Iterable[dict[str, object]], header: Sequence[str] = HEADERS
) -> list[list[object]]:
    return [[values.get(name) for name in header] for values in rows]


def xlsx_bytes(
    rows: Iterable[dict[str, object]] = (),
    *,
    header: Sequence[str] = HEADERS,
    raw_rows: Iterable[Sequence[object]] = (),
    formulas: bool = False,
) -> bytes:
    """An xlsx as a user's Excel would save it; NIK and No KK columns formatted as text.

    Cells keep their Python type: a str is a text cell, an int or float a number cell, a
    date a date cell. `raw_rows` are appended as given, after the dict rows. Text starting
    with "=" is a text cell unless `formulas`, when it is a formula (with no cached value).
    """
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Data"
    if header:
        sheet.append(list(header))
    for values in [*as_lists(rows, header), *raw_rows]:
        sheet.append(list(values))
    if not formulas:
        # openpyxl takes any text starting with "=" for a formula; a typed "=1+1" in a cell
        # formatted as text is a string.
        for cells in sheet.iter_rows(min_row=2):
            for cell in cells:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    cell.data_type = "s"
    for index, name in enumerate(header, start=1):
        if name in IDENTIFIER_HEADERS:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                if isinstance(cell.value, str):
                    cell.number_format = "@"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_text(
    rows: Iterable[dict[str, object]] = (),
    *,
    header: Sequence[str] = HEADERS,
    delimiter: str = ",",
) -> str:
    import csv

    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    for values in as_lists(rows, header):
        writer.writerow(["" if value is None else value for value in values])
    return buffer.getvalue()


def csv_bytes(
    rows: Iterable[dict[str, object]] = (),
    *,
    header: Sequence[str] = HEADERS,
    delimiter: str = ",",
    encoding: str = "utf-8",
) -> bytes:
    """CSV as Excel saves it: `encoding="utf-8-sig"` adds the BOM, "utf-16" adds its own."""
    return csv_text(rows, header=header, delimiter=delimiter).encode(encoding)


# --- Hostile zips -------------------------------------------------------------------------------


def xlsx_members(data: bytes | None = None) -> dict[str, bytes]:
    """The parts of an xlsx (a valid one of one row unless given)."""
    with zipfile.ZipFile(io.BytesIO(data or xlsx_bytes([row()]))) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def zip_bytes(
    members: dict[str, bytes],
    *,
    compression: int = zipfile.ZIP_DEFLATED,
    compresslevel: int | None = 9,
) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression, compresslevel=compresslevel) as z:
        for name, content in members.items():
            z.writestr(name, content)
    return buffer.getvalue()


def xlsx_with_parts(parts: dict[str, bytes], *, drop: Iterable[str] = ()) -> bytes:
    members = xlsx_members()
    members.update(parts)
    for name in drop:
        members.pop(name, None)
    return zip_bytes(members)


BILLION_LAUGHS = b"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
"""


def entity_bomb_sheet() -> bytes:
    return BILLION_LAUGHS + (
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row>'
        b"</sheetData></worksheet>"
    )


def entity_bomb_workbook(original: bytes) -> bytes:
    """The workbook part with a DTD spliced in after its XML declaration."""
    body = original.split(b"?>", 1)[1] if original.startswith(b"<?xml") else original
    return BILLION_LAUGHS + body.replace(b"<sheets>", b"<sheets><!-- &lol9; -->", 1)


PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81"
    b"\x84\x00\x00\x00\x00IEND\xaeB`\x82"
)
PDF = (
    b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
    b"3 0 obj\n<< /Length 12 /Filter /FlateDecode >>\nstream\nx\x9c\x03\x00\x00\x00\x00\x01"
    b"\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
)
# The first bytes of a compound document: Excel 97-2003 (.xls), Word .doc and the like.
XLS = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + b"\x00" * 512


# Tests that confirm through commit_batch once carried an xfail here: on PostgreSQL the batch
# lock joined a nullable relation ("FOR UPDATE cannot be applied to the nullable side of an
# outer join"). Fixed with select_for_update(of=("self",)); the mark is kept as a no-op so the
# tests keep their history.
def COMMIT_FAILS_ON_POSTGRESQL(test):
    return test
