"""Summary tables the dashboards read: rebuilt by a Celery task, never edited by hand.

At a million people the live aggregates take seconds; these tables hold the same figures
pre-added per region (every level, the country included), cohort and month, so a dashboard is a
handful of index look-ups whatever the size of the register.
"""

from django.db import models

NATIONAL = ""  # the region code of the whole country in the summary tables


class Fact(models.Model):
    """One figure: `value` of `metric` (with its `key`, e.g. metric "people.status", key "pmi")
    for the villages under `region` of one cohort, in one month (or now, when `month` is null).

    A region's row is the sum of its children's rows; `parent` leads to them (drill-down).
    """

    id = models.BigAutoField(primary_key=True)
    region = models.CharField(max_length=13)  # "" = national
    parent = models.CharField(max_length=13, null=True)  # noqa: DJ001 (null: the national row)
    level = models.PositiveSmallIntegerField()  # 0 national, 1 province ... 4 village
    cohort_year = models.PositiveSmallIntegerField()
    month = models.DateField(null=True)  # first day of the month; null = a snapshot
    metric = models.CharField(max_length=40)
    key = models.CharField(max_length=120, blank=True)
    value = models.BigIntegerField()

    class Meta:
        indexes = [
            models.Index(fields=["region", "metric", "month"], name="fact_region"),
            models.Index(fields=["parent", "metric"], name="fact_parent"),
        ]

    def __str__(self) -> str:
        return f"{self.region or 'national'} {self.metric}:{self.key} {self.month} = {self.value}"


class PillarActivity(models.Model):
    """The last activity of each pillar in each designated village (the pillar matrix)."""

    village = models.CharField(max_length=13)
    pillar_id = models.IntegerField()
    last_activity = models.DateField()

    class Meta:
        indexes = [models.Index(fields=["village"], name="pillaractivity_village")]

    def __str__(self) -> str:
        return f"{self.village} {self.pillar_id} {self.last_activity}"


class SummaryRun(models.Model):
    """Each rebuild of the summaries: the dashboards say how fresh their figures are."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True)
    facts = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} ({self.facts} facts)"
