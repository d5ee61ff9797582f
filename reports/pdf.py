"""PDF reports: a Django template rendered to HTML, laid out by WeasyPrint on A4.

Templates extend `reports/pdf/base.html`, which makes the cover (title, area, period, when,
by SI-Desmigratif) and numbers the pages. Charts come in as PNG data URIs; WeasyPrint fetches
nothing else, so a report never reaches out to the network or the file system.
"""

import base64
from pathlib import Path

from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from reports.builders.base import about_rows, period_label, report_title, scope_label
from reports.models import ReportJob


def png_data_uri(png: bytes) -> str:
    """An image for an <img src>: charts drawn in memory, embedded in the PDF."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def css_string(text: str) -> str:
    """A quoted CSS string for the page margins (the <style> element is raw text: no HTML
    escaping applies there, so the CSS escaping must be complete on its own)."""
    escaped = []
    for ch in str(text):
        if ch in '\\"<>&' or ord(ch) < 32:
            escaped.append(f"\\{ord(ch):x} ")
        else:
            escaped.append(ch)
    quoted = '"' + "".join(escaped) + '"'
    # Every character that could end the string or the <style> element is escaped above.
    return mark_safe(quoted)  # noqa: S308  # nosec B308 B703


def cover_context(job: ReportJob) -> dict:
    scope, period = scope_label(job.scope), period_label(job)
    return {
        "job": job,
        "title": report_title(job),
        "scope_label": scope,
        "period_label": period,
        "about": about_rows(job),
        "css_running_head": css_string(f"{scope} · {period}"),
        "css_page_word": css_string(_("Page")),
    }


def render_html(*, template_name: str, job: ReportJob, context: dict | None = None) -> str:
    return render_to_string(template_name, {**cover_context(job), **(context or {})})


def render_pdf(
    *, template_name: str, job: ReportJob, path: Path, context: dict | None = None
) -> None:
    """Render `template_name` (extending reports/pdf/base.html) for `job` into `path`."""
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    html = render_html(template_name=template_name, job=job, context=context)
    fetcher = URLFetcher(allowed_protocols={"data"}, allow_redirects=False)
    HTML(string=html, url_fetcher=fetcher, base_url=None).write_pdf(str(path))
