"""The report builders, by kind: `BUILDERS[kind](job, path, progress)` writes the file of
`job.format` at `path`. See reports/builders/base.py for the contract."""

from collections.abc import Callable
from pathlib import Path

from reports.builders import (
    national_evaluation,
    placements,
    regency_recap,
    register,
    village_monthly,
)
from reports.models import ReportJob, ReportKind

Builder = Callable[[ReportJob, Path, Callable[[int], None]], None]

BUILDERS: dict[str, Builder] = {
    ReportKind.REGISTER: register.build,
    ReportKind.VILLAGE_MONTHLY: village_monthly.build,
    ReportKind.REGENCY_RECAP: regency_recap.build,
    ReportKind.NATIONAL_EVALUATION: national_evaluation.build,
    ReportKind.PLACEMENTS: placements.build,
}
