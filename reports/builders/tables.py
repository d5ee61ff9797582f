"""The aggregate reports as a document of sections and tables, written as xlsx or PDF.

A builder gathers its figures, lays them out once as sections of tables (and charts), and the
same layout becomes a workbook (a sheet per section: title rows, merged group headers, frozen
header rows, widths, number formats) or a PDF (a cover, a table of contents, the tables with the
charts beside them, page numbers).
"""

import datetime
from dataclasses import dataclass, field
from pathlib import Path

from django.utils.formats import number_format

from migrants.spreadsheets import escape_cell
from reports.builders.base import (
    Progress,
    XlsxReport,
    period_label,
    report_title,
    scope_label,
)
from reports.models import ReportJob
from reports.pdf import render_pdf

TEXT, INT, MONEY, PERCENT, DATE, YEAR = "text", "int", "money", "percent", "date", "year"
NUMBER_FORMATS = {INT: "#,##0", MONEY: "#,##0", PERCENT: "0.0%", DATE: "yyyy-mm-dd", YEAR: "0"}
MAX_WIDTH = {TEXT: 40, INT: 16, MONEY: 20, PERCENT: 12, DATE: 12, YEAR: 8}


def printed(value: object, kind: str) -> str:
    """A cell as text in the active language's number format (1.234.567 in Indonesian)."""
    if value is None or value == "":
        return ""
    if kind in (INT, MONEY):
        return number_format(value, decimal_pos=0, force_grouping=True)
    if kind == PERCENT:
        # number_format cuts the digits off; round first (1/6 is 16.7 %, not 16.6 %).
        return number_format(round(float(value) * 100, 1), decimal_pos=1) + "\u00a0%"
    if kind == DATE and isinstance(value, datetime.date):
        return value.isoformat()
    if kind == YEAR:
        return str(int(value))
    return str(value)


@dataclass
class Table:
    headers: list[str]
    kinds: list[str]  # per column: TEXT, INT, MONEY, PERCENT, DATE
    rows: list[list[object]]
    caption: str = ""
    groups: list[tuple[str, int]] = field(default_factory=list)  # (label, columns) over headers
    subtotals: set[int] = field(default_factory=set)  # indexes of rows shown in bold
    total: list[object] | None = None  # a last row in bold
    frozen_columns: int = 1
    note: str = ""

    def __post_init__(self) -> None:
        # Labels may come lazy (gettext_lazy, model choices): the writers want plain text.
        self.headers = [str(header) for header in self.headers]
        self.groups = [(str(label), span) for label, span in self.groups]
        self.caption, self.note = str(self.caption), str(self.note)
        if len(self.headers) != len(self.kinds):
            raise ValueError("a kind for every header")
        if self.groups and sum(span for _label, span in self.groups) != len(self.headers):
            raise ValueError("the groups must span every column")

    @property
    def numeric(self) -> list[bool]:
        return [kind != TEXT for kind in self.kinds]

    @property
    def printed_headers(self) -> list[tuple[str, bool]]:
        return list(zip(self.headers, self.numeric, strict=True))

    @property
    def printed_body(self) -> list[tuple[list[tuple[str, bool]], bool]]:
        """The rows as the PDF shows them: (text, is a number) per cell, and bold or not."""
        return [
            ([(printed(v, k), k != TEXT) for v, k in zip(row, self.kinds, strict=True)], bold)
            for row, bold in self.body
        ]

    @property
    def body(self) -> list[tuple[list[object], bool]]:
        """Every row with whether it is shown in bold (a subtotal or the total)."""
        rows = [(row, index in self.subtotals) for index, row in enumerate(self.rows)]
        if self.total is not None:
            rows.append((self.total, True))
        return rows


@dataclass
class Chart:
    title: str
    uri: str  # a data URI of the PNG
    description: str = ""  # the alternative text


@dataclass
class Section:
    sheet: str  # the sheet's name in the workbook
    title: str
    tables: list[Table]
    intro: str = ""
    charts: list[Chart] = field(default_factory=list)
    pdf_tables: list[Table] | None = None  # when the PDF needs them cut narrower

    @property
    def printed_tables(self) -> list[Table]:
        return self.tables if self.pdf_tables is None else self.pdf_tables


@dataclass
class Document:
    """A report laid out: its job (title, area, period, cover), a few more facts for the cover
    and the About sheet, notes, and the sections."""

    job: ReportJob
    sections: list[Section]
    details: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    landscape: bool = False

    @property
    def title(self) -> str:
        return report_title(self.job)

    @property
    def subtitle(self) -> str:
        return f"{scope_label(self.job.scope)} · {period_label(self.job)}"


# --- xlsx -------------------------------------------------------------------------------------


def _cell_text(value: object) -> object:
    if isinstance(value, str):
        return escape_cell(value)
    return value


def _shown_length(value: object, kind: str) -> int:
    if value is None:
        return 0
    if kind in (INT, MONEY) and isinstance(value, int | float):
        return len(f"{value:,.0f}")
    if kind in (PERCENT, YEAR):
        return 7
    if kind == DATE:
        return 10
    return max((len(part) for part in str(value).split("\n")), default=0)


def _widths(table: Table) -> list[float]:
    widths = []
    for index, kind in enumerate(table.kinds):
        longest = max((_shown_length(row[index], kind) for row, _bold in table.body), default=0)
        header = max((len(word) for word in table.headers[index].split()), default=0)
        widths.append(min(max(longest + 2, header + 2, 8), MAX_WIDTH[kind]))
    return widths


class _Formats:
    def __init__(self, workbook) -> None:
        border = {"border": 1, "border_color": "#BFBFBF"}
        self.title = workbook.add_format({"bold": True, "font_size": 14})
        self.detail = workbook.add_format({"font_color": "#404040"})
        self.caption = workbook.add_format({"bold": True, "font_size": 11})
        self.note = workbook.add_format({"italic": True, "font_color": "#595959"})
        header = {"bold": True, "bg_color": "#DDEBF7", "text_wrap": True, "valign": "top", **border}
        self.header = workbook.add_format(header)
        self.group = workbook.add_format({**header, "align": "center", "bg_color": "#BDD7EE"})
        self.cells: dict[tuple[str, bool], object] = {}
        for kind in (TEXT, INT, MONEY, PERCENT, DATE, YEAR):
            for bold in (False, True):
                spec = {**border, "valign": "top"}
                if kind in NUMBER_FORMATS:
                    spec["num_format"] = NUMBER_FORMATS[kind]
                if kind == TEXT:
                    spec["text_wrap"] = True
                if bold:
                    spec.update(bold=True, bg_color="#F2F2F2")
                self.cells[(kind, bold)] = workbook.add_format(spec)


def write_xlsx(document: Document, path: Path, progress: Progress | None = None) -> None:
    """An About sheet, then a sheet per section; written row after row (constant memory)."""
    with XlsxReport(path, job=document.job) as report:
        report.about_sheet(
            document.job,
            notes=[*(f"{label}: {value}" for label, value in document.details), *document.notes],
        )
        formats = _Formats(report.book)
        for number, section in enumerate(document.sections, start=1):
            sheet = report.book.add_worksheet(report._sheet_name(section.sheet))
            _write_section(sheet, formats, document, section)
            if progress is not None:
                progress(40 + int(55 * number / len(document.sections)))


def _write_section(sheet, formats: _Formats, document: Document, section: Section) -> None:
    sheet.write_string(0, 0, _cell_text(f"{document.title}: {section.title}"), formats.title)
    sheet.write_string(1, 0, _cell_text(document.subtitle), formats.detail)
    row = 2
    if section.intro:
        sheet.write_string(row, 0, _cell_text(section.intro), formats.note)
        row += 1
    widths: list[float] = []
    frozen = False
    for table in section.tables:
        row += 1
        if table.caption:
            sheet.write_string(row, 0, _cell_text(table.caption), formats.caption)
            row += 1
        if table.groups:
            column = 0
            for label, span in table.groups:
                if span > 1:
                    sheet.merge_range(row, column, row, column + span - 1, label, formats.group)
                else:
                    sheet.write_string(row, column, label, formats.group)
                column += span
            row += 1
        for column, header in enumerate(table.headers):
            sheet.write_string(row, column, header, formats.header)
        sheet.set_row(row, 30 if max(len(h) for h in table.headers) > 14 else None)
        header_row = row
        row += 1
        if not frozen:  # the first table's header stays in view
            sheet.freeze_panes(row, table.frozen_columns)
            frozen = True
        for values, bold in table.body:
            for column, (value, kind) in enumerate(zip(values, table.kinds, strict=True)):
                cell = formats.cells[(kind, bold)]
                if value is None or value == "":
                    sheet.write_blank(row, column, None, cell)
                elif kind == TEXT:
                    sheet.write_string(row, column, str(_cell_text(str(value))), cell)
                elif kind == DATE and isinstance(value, datetime.date):
                    sheet.write_datetime(row, column, value, cell)
                else:
                    sheet.write_number(row, column, float(value), cell)
            row += 1
        if len(section.tables) == 1 and table.rows:
            last_data_row = row - 1 - (1 if table.total is not None else 0)
            sheet.autofilter(header_row, 0, last_data_row, len(table.headers) - 1)
        if table.note:
            sheet.write_string(row, 0, _cell_text(table.note), formats.note)
            row += 1
        for column, width in enumerate(_widths(table)):
            if column >= len(widths):
                widths.append(width)
            else:
                widths[column] = max(widths[column], width)
    for column, width in enumerate(widths):
        sheet.set_column(column, column, width)


# --- PDF --------------------------------------------------------------------------------------


def write_pdf(document: Document, path: Path, progress: Progress | None = None) -> None:
    if progress is not None:
        progress(60)
    render_pdf(
        template_name="reports/pdf/aggregate.html",
        job=document.job,
        path=path,
        context={"document": document},
    )
