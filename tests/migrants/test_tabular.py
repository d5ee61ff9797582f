"""Reading an uploaded file: xlsx or CSV decided by its bytes, hostile files refused before
anything is inflated or parsed, and every refusal a FileRejected with a message for the user."""

import datetime
import io
import random
import time
import zipfile

import pytest
from django.test import override_settings
from django.utils import translation
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from migrants.tabular import FileRejected, read_table
from tests.migrants import files
from tests.migrants.files import HEADERS, csv_bytes, row, xlsx_bytes, xlsx_members, zip_bytes

SHEET = "xl/worksheets/sheet1.xml"
MB = 1024 * 1024
FUZZ = hypothesis_settings(
    max_examples=50,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def refusal(data: bytes) -> str:
    """The English message a file is refused with (the test fails if it is read)."""
    with translation.override("en"), pytest.raises(FileRejected) as refused:
        read_table(data)
    return refused.value.message


@pytest.fixture
def calamine_never_called(monkeypatch):
    """Fails the test if the xlsx parser is reached: hostile files stop before it."""
    import python_calamine

    class Forbidden:
        @staticmethod
        def from_filelike(*args, **kwargs):
            pytest.fail("the sheet was parsed; the file should have been refused before")

    monkeypatch.setattr(python_calamine, "CalamineWorkbook", Forbidden)


# --- What is read -------------------------------------------------------------------------------


def test_an_xlsx_is_read_with_its_header_and_rows_numbered_as_the_spreadsheet_shows_them():
    first, second = row(Nama_Lengkap="Sri Wahyuni"), row(Nama_Lengkap="Siti Aminah")
    table = read_table(xlsx_bytes([first, second]))
    assert table.kind == "xlsx"
    assert table.header == HEADERS
    assert [number for number, _cells in table.rows] == [2, 3]
    assert table.rows[0][1][HEADERS.index("Nama Lengkap")] == "Sri Wahyuni"
    assert table.rows[1][1][HEADERS.index("NIK")] == second["NIK"]


def test_empty_rows_between_people_are_skipped_but_keep_the_numbering():
    data = xlsx_bytes([row(Nama_Lengkap="Sri")], raw_rows=[[], [None, None, "Siti"]])
    table = read_table(data)
    assert [number for number, _cells in table.rows] == [2, 4]


def test_a_csv_is_read_whatever_the_file_is_called_or_says_it_is():
    table = read_table(csv_bytes([row(Nama_Lengkap="Sri Wahyuni")]))
    assert table.kind == "csv"
    assert table.rows[0][1][HEADERS.index("Nama Lengkap")] == "Sri Wahyuni"


@pytest.mark.parametrize(
    ("encoding", "delimiter"),
    [("cp1252", ","), ("utf-16", ","), ("utf-8-sig", ";"), ("utf-8", ";"), ("utf-8", ",")],
    ids=["windows-1252", "utf-16-bom", "utf-8-bom-semicolon", "utf-8-semicolon", "utf-8"],
)
def test_csv_in_the_encodings_excel_saves_is_read_correctly(encoding, delimiter):
    names = ["José Muñoz", "Ñoño Pérez", "Siti Aminah"]
    data = csv_bytes(
        [row(Nama_Lengkap=name, Alamat="Jl. Mawar 3, RT 002") for name in names],
        encoding=encoding,
        delimiter=delimiter,
    )
    table = read_table(data)
    assert table.header == HEADERS  # no byte order mark left on "NIK"
    assert [cells[HEADERS.index("Nama Lengkap")] for _n, cells in table.rows] == names
    # The comma inside the address is not taken for a delimiter.
    assert table.rows[0][1][HEADERS.index("Alamat")] == "Jl. Mawar 3, RT 002"


def test_an_excel_date_cell_is_read_as_a_date():
    table = read_table(xlsx_bytes([row(Tanggal_Lahir=datetime.date(1995, 6, 15))]))
    assert table.rows[0][1][HEADERS.index("Tanggal Lahir")] == datetime.date(1995, 6, 15)


def test_a_formula_typed_in_a_csv_stays_text():
    table = read_table(csv_bytes([row(Nama_Lengkap="=1+1")]))
    assert table.rows[0][1][HEADERS.index("Nama Lengkap")] == "=1+1"


# --- Files that are not a register ----------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"   \r\n\r\n", b"\xef\xbb\xbf", b",,,\r\n,,\r\n"])
def test_an_empty_file_is_refused_as_empty(data):
    assert "empty" in refusal(data)


def test_an_xlsx_without_any_cell_is_refused_as_empty():
    assert "empty" in refusal(xlsx_bytes(header=[]))


def test_the_messages_are_in_indonesian_by_default():
    with pytest.raises(FileRejected) as refused:
        read_table(b"")
    assert "kosong" in refused.value.message


def test_a_header_without_rows_is_read_as_a_table_without_rows():
    # The importer says "a header but no rows" (tested with the plan).
    for data in (csv_bytes([]), xlsx_bytes([])):
        table = read_table(data)
        assert table.header == HEADERS
        assert table.rows == []


@pytest.mark.parametrize(
    "data",
    [
        files.PNG,
        files.PDF,
        random.Random(7).randbytes(4096),
        bytes(range(256)) * 8,
    ],
    ids=["png", "pdf", "random-binary", "all-bytes"],
)
def test_a_file_that_is_neither_xlsx_nor_text_is_refused_by_its_content(data):
    assert "neither an xlsx spreadsheet nor a CSV" in refusal(data)


def test_an_old_xls_file_is_refused_with_what_to_do():
    message = refusal(files.XLS)
    assert ".xls" in message
    assert "save it as .xlsx" in message


def test_a_zip_that_is_not_a_spreadsheet_is_refused():
    assert "not a valid xlsx" in refusal(zip_bytes({"hello.txt": b"hello"}))


def test_a_truncated_xlsx_is_refused():
    data = xlsx_bytes([row()])
    assert "not a valid xlsx" in refusal(data[: len(data) // 2])


# --- Hostile xlsx ---------------------------------------------------------------------------------


@override_settings(IMPORT_MAX_UNCOMPRESSED=5 * MB)
def test_a_zip_bomb_is_refused_from_its_directory_without_inflating_it(calamine_never_called):
    members = xlsx_members()
    sheet = members[SHEET]
    members[SHEET] = sheet.replace(b"</sheetData>", b"</sheetData>" + b" " * (6 * MB), 1)
    bomb = zip_bytes(members)
    assert len(bomb) < 64 * 1024  # small on the wire, 6 MB inflated

    started = time.monotonic()
    message = refusal(bomb)
    # The issue asks for a refusal "in under a second"; generous on a slow machine.
    assert time.monotonic() - started < 1.0
    assert "5 MB" in message
    assert "unsafe" in message


def test_a_member_compressed_suspiciously_well_is_refused(calamine_never_called):
    members = xlsx_members()
    members["xl/media/image1.png"] = b"\0" * (2 * MB)
    assert "zip bomb" in refusal(zip_bytes(members))


@override_settings(IMPORT_MAX_ZIP_MEMBERS=200)
def test_an_xlsx_with_too_many_parts_is_refused(calamine_never_called):
    members = xlsx_members()
    for n in range(200):
        members[f"xl/media/image{n}.png"] = files.PNG
    assert "too many parts" in refusal(zip_bytes(members))


def test_an_entity_bomb_in_the_sheet_is_refused(calamine_never_called):
    data = files.xlsx_with_parts({SHEET: files.entity_bomb_sheet()})
    assert "unsafe" in refusal(data)


def test_an_entity_bomb_in_the_workbook_part_is_refused(calamine_never_called):
    workbook = xlsx_members()["xl/workbook.xml"]
    data = files.xlsx_with_parts({"xl/workbook.xml": files.entity_bomb_workbook(workbook)})
    assert "unsafe" in refusal(data)


def _padded_dtd(part: bytes, *, encoding: str = "UTF-8") -> bytes:
    """A DTD pushed past the first 4 KB by a long comment, with an entity used in the part."""
    dtd = files.BILLION_LAUGHS.split(b"?>", 1)[1]
    body = part.replace(b"Pekerja Berkas", b"&lol3;")
    text = (
        f'<?xml version="1.0" encoding="{encoding}"?><!--{"x" * 5000}-->'.encode()
        + dtd
        + body.split(b"?>", 1)[-1]
    )
    return text if encoding == "UTF-8" else text.decode().encode("utf-16")


@pytest.mark.parametrize("encoding", ["UTF-8", "UTF-16"])
def test_an_entity_bomb_hidden_after_a_long_comment_is_still_refused(encoding):
    members = xlsx_members()
    for part in (SHEET, "xl/workbook.xml"):
        data = files.xlsx_with_parts({part: _padded_dtd(members[part], encoding=encoding)})
        with pytest.raises(FileRejected):
            read_table(data)


# --- Limits ---------------------------------------------------------------------------------------


@override_settings(IMPORT_MAX_ROWS=10)
@pytest.mark.parametrize("build", [xlsx_bytes, csv_bytes], ids=["xlsx", "csv"])
def test_a_file_over_the_row_limit_is_refused_and_one_at_the_limit_is_read(build):
    assert len(read_table(build([row() for _ in range(10)])).rows) == 10
    message = refusal(build([row() for _ in range(11)]))
    assert "11 rows" in message
    assert "at most 10" in message
    assert "Split" in message


@override_settings(IMPORT_MAX_BYTES=1 * MB)
def test_a_file_over_the_byte_limit_is_refused_before_it_is_read(calamine_never_called):
    data = csv_bytes([row(Alamat="x" * 200) for _ in range(4000)])
    assert len(data) > MB
    message = refusal(data)
    assert "larger than 1 MB" in message


# --- Malformed files ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data", [b"\xff\xfeN\x00I\x00K", b"\xff\xfe\x00\xd8,\x00"], ids=["odd-length", "surrogate"]
)
def test_a_broken_utf16_file_is_refused(data):
    assert refusal(data)


def _damaged(member: str, how: str) -> bytes:
    """A valid xlsx whose `member` is corrupted, encrypted or packed in an unknown way,
    changed in the zip's own headers (zipfile cannot write such files)."""
    import struct

    data = bytearray(xlsx_bytes([row()]))
    info = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo(member)
    local = info.header_offset
    central = next(
        offset
        for offset in _all(bytes(data), b"PK\x01\x02")
        if data[offset + 46 : offset + 46 + len(member)] == member.encode()
    )
    if how == "corrupt":
        start = local + 30 + len(info.filename) + len(info.extra)
        for i in range(start, start + min(20, info.compress_size)):
            data[i] ^= 0xFF
    elif how == "bad-crc":
        for crc_at in (local + 14, central + 16):
            data[crc_at] ^= 0xFF
    elif how == "encrypted":
        for flags_at in (local + 6, central + 8):
            (flags,) = struct.unpack("<H", data[flags_at : flags_at + 2])
            data[flags_at : flags_at + 2] = struct.pack("<H", flags | 1)
    elif how == "unknown-method":
        for method_at in (local + 8, central + 10):
            data[method_at : method_at + 2] = struct.pack("<H", 99)
    return bytes(data)


def _all(data: bytes, needle: bytes):
    offset = data.find(needle)
    while offset >= 0:
        yield offset
        offset = data.find(needle, offset + 1)


@pytest.mark.parametrize("how", ["corrupt", "bad-crc", "encrypted", "unknown-method"])
def test_an_xlsx_with_a_damaged_part_is_refused_as_invalid(how):
    assert "not a valid xlsx" in refusal(_damaged(SHEET, how))


# --- Fuzz: whatever the bytes, a Table or a FileRejected ------------------------------------------


def _read_or_refuse(data: bytes) -> None:
    try:
        table = read_table(data)
    except FileRejected as exc:
        refused = exc.message
        assert refused
        return
    assert table.kind in ("xlsx", "csv")
    assert all(number >= 2 for number, _cells in table.rows)


@FUZZ
@given(data=st.binary(max_size=2048))
def test_random_bytes_give_a_table_or_a_refusal(data):
    _read_or_refuse(data)


@FUZZ
@given(text=st.text(max_size=500), encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]))
def test_random_text_gives_a_table_or_a_refusal(text, encoding):
    _read_or_refuse(text.encode(encoding, errors="replace"))


VALID_XLSX = xlsx_bytes([row(), row()])


@FUZZ
@given(
    flips=st.lists(
        st.tuples(st.integers(0, len(VALID_XLSX) - 1), st.integers(1, 255)),
        min_size=1,
        max_size=8,
    )
)
def test_an_xlsx_with_random_bytes_changed_gives_a_table_or_a_refusal(flips):
    data = bytearray(VALID_XLSX)
    for offset, mask in flips:
        data[offset] ^= mask
    _read_or_refuse(bytes(data))
