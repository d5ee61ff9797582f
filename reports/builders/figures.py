"""What the aggregate reports (regency recap, national evaluation, placements) share: who a
report is read as, the period in whole months, and the rows of the area it covers.

The rows are those of the job's area (reports.builders.base.scope_q), and never beyond the
scope of whoever requested the job: their scope was checked when they asked, and is applied
again here in case it has narrowed since. A scheduled job (nobody asked for it) is read by a
system reader with the whole country in scope.
"""

import datetime
from dataclasses import dataclass

from django.db.models import Q
from django.utils import translation
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from accounts.models import Role, User
from accounts.scope import scope_filter
from migrants.countries import country_name
from pillars.services import month_end
from reports.builders.base import month_label, months, scope_q
from reports.models import ReportJob


def system_reader() -> User:
    """The reader of a scheduled report: an evaluator of the whole country, never saved."""
    return User(username="system", role=Role.EVALUATOR, is_active=True)


def reader_of(job: ReportJob) -> User:
    return job.requested_by or system_reader()


@dataclass(frozen=True)
class Period:
    """A report covers whole months: from the first day of the start's month to the last day
    of the end's month, as the dashboards read a period."""

    first: datetime.date
    last: datetime.date

    @property
    def months(self) -> list[datetime.date]:
        return months(self.first, self.last)

    def year_earlier(self) -> "Period":
        first = self.first.replace(year=self.first.year - 1)
        return Period(first, month_end(self.last.replace(year=self.last.year - 1, day=1)))

    @property
    def label(self) -> str:
        if (self.first.year, self.first.month) == (self.last.year, self.last.month):
            return month_label(self.first)
        return f"{month_label(self.first)} – {month_label(self.last)}"


def period_of(job: ReportJob) -> Period:
    return Period(job.period_start.replace(day=1), month_end(job.period_end.replace(day=1)))


def area_q(job: ReportJob, village_path: str) -> Q:
    """Rows whose village (reached through `village_path`) lies in the job's area and in its
    reader's scope."""
    reader = scope_filter(reader_of(job), village_path)
    if reader is None:  # a reader who may see nothing any more gets nothing
        return Q(pk__in=[])
    return scope_q(job.scope_id, village_path) & reader


def country(code: str) -> str:
    if not code:
        return capfirst(_("not given"))
    language = (translation.get_language() or "id").split("-")[0]
    return country_name(code, language if language in ("id", "en") else "id")
