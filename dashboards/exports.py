"""Every chart's and table's figures as a file: CSV (UTF-8 with a BOM, so Excel reads it) or xlsx.

`/dasbor/data/<chart>.<csv|xlsx>?region=&cohort=&from=&to=` answers with the rows of the chart
as the dashboard of that region shows them (dashboards.charts), scoped the same way.
"""

import csv
import datetime
import io

import xlsxwriter
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from accounts.permissions import Action, require
from dashboards import charts as chart_layout
from dashboards.indicators import dashboard, region_in_scope
from dashboards.views import REGION_CODE, DashboardFilter, cohort_choices
from migrants.spreadsheets import escape_cell

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@never_cache
@login_required
def chart_data(request: HttpRequest, chart: str, fmt: str) -> HttpResponse:
    user = request.user
    require(user, Action.VIEW_PILLARS)
    code = request.GET.get("region") or None
    if code is not None and not REGION_CODE.fullmatch(code):
        raise Http404
    if not region_in_scope(user, code):
        raise Http404
    form = DashboardFilter(request.GET, cohorts=cohort_choices(user))
    if not form.is_valid():
        errors = [str(error) for errors in form.errors.values() for error in errors]
        return HttpResponseBadRequest(" ".join(errors), content_type="text/plain; charset=utf-8")
    cohort, start, end = form.figures_filter()
    board = dashboard(user, code, cohort=cohort, start=start, end=end)
    table = chart_layout.build(board).get(chart)
    if table is None:
        raise Http404
    name = f"dasbor-{chart}-{code or 'nasional'}-{start:%Y-%m}_{end:%Y-%m}"
    if cohort:
        name += f"-angkatan-{cohort}"
    if fmt == "csv":
        response = HttpResponse(csv_bytes(table), content_type=CSV_TYPE)
    else:
        about = [
            (_("Figures"), table.title),
            (_("Region"), " › ".join(label for _code, label in board.trail)),
            (_("Region code"), code or ""),
            (_("Period"), chart_layout.period_label(board.start, board.end)),
            (_("Cohort"), str(cohort) if cohort else _("All cohorts")),
            (
                _("Figures as of"),
                date_format(timezone.localtime(board.refreshed_at), "j M Y H:i")
                if board.refreshed_at
                else _("not yet computed"),
            ),
            (_("Downloaded"), date_format(timezone.localtime(), "j M Y H:i")),
        ]
        if table.note:
            about.append((_("Note"), table.note))
        response = HttpResponse(xlsx_bytes(table, about), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


def _plain(value, kind: str):
    """A cell value for a file: numbers stay numbers, months and dates in ISO form."""
    if value is None:
        return ""
    if kind == chart_layout.MONTH:
        return value.strftime("%Y-%m")
    if kind == chart_layout.DATE:
        return value.isoformat()
    if kind == chart_layout.TEXT:
        return escape_cell(str(value))
    return value


def csv_bytes(table: chart_layout.Chart) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([escape_cell(heading) for heading in table.header()])
    kinds = [column.kind for column in table.columns]
    for row in table.rows:
        writer.writerow([_plain(value, kind) for value, kind in zip(row, kinds, strict=True)])
    # The BOM tells Excel the file is UTF-8 (names such as "Pagelaran – Brongkal", "Rp").
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def xlsx_bytes(table: chart_layout.Chart, about: list[tuple[str, str]]) -> bytes:
    output = io.BytesIO()
    workbook = xlsxwriter.Workbook(output, {"in_memory": True})
    bold = workbook.add_format({"bold": True, "bg_color": "#E9EEF4", "text_wrap": True})
    formats = {
        chart_layout.INT: workbook.add_format({"num_format": "#,##0"}),
        chart_layout.MONEY: workbook.add_format({"num_format": "#,##0"}),
        chart_layout.PERCENT: workbook.add_format({"num_format": "0.0"}),
        chart_layout.MONTH: workbook.add_format({"num_format": "yyyy-mm"}),
        chart_layout.DATE: workbook.add_format({"num_format": "yyyy-mm-dd"}),
    }
    sheet = workbook.add_worksheet(_("Data")[:31])
    for col, column in enumerate(table.columns):
        sheet.write_string(0, col, escape_cell(str(column.label)), bold)
        width = 12
        if column.kind == chart_layout.TEXT:
            longest = max((len(str(row[col] or "")) for row in table.rows), default=0)
            width = min(max(longest, len(str(column.label)), 12) + 2, 60)
        elif column.kind == chart_layout.MONEY:
            width = 18
        sheet.set_column(col, col, max(width, min(len(str(column.label)), 30)))
    sheet.freeze_panes(1, 1)
    for r, row in enumerate(table.rows, start=1):
        for col, (value, column) in enumerate(zip(row, table.columns, strict=True)):
            if value is None or value == "":
                sheet.write_blank(r, col, None)
            elif column.kind == chart_layout.TEXT:
                sheet.write_string(r, col, escape_cell(str(value)))
            elif column.kind in (chart_layout.MONTH, chart_layout.DATE):
                sheet.write_datetime(
                    r, col, datetime.datetime.combine(value, datetime.time()), formats[column.kind]
                )
            else:
                sheet.write_number(r, col, value, formats[column.kind])
    info = workbook.add_worksheet(_("About")[:31])
    info.set_column(0, 0, 22)
    info.set_column(1, 1, 70)
    for r, (label, value) in enumerate(about):
        info.write_string(r, 0, escape_cell(str(label)), bold)
        info.write_string(r, 1, escape_cell(str(value)))
    workbook.close()
    return output.getvalue()
