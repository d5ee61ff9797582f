"""What changes pillar data: every write goes through here, checked, scoped and audited.

Views and imports call these; nothing else saves a pillar record. Reads go through each
model's `for_user` (the scope rule of accounts.scope).
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Count, Max, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.permissions import Action, can
from accounts.scope import scope_prefix
from pillars.models import (
    Activity,
    AuditEntry,
    Case,
    ChildEnrolment,
    Cooperative,
    CooperativeMember,
    CooperativePeriod,
    Enterprise,
    MonthlyReport,
    Outreach,
    ParentingSession,
    Pillar,
    PillarKind,
    Referral,
    ServiceLog,
    Training,
    VillageRecord,
)
from villages.models import Designation, Region

# The rows that count as activity in a pillar, with the date that says when it happened.
ACTIVITY_SOURCES: list[tuple[type[VillageRecord], str]] = [
    (ServiceLog, "date"),
    (Outreach, "date"),
    (Case, "reported_on"),
    (Enterprise, "start_date"),
    (Training, "end_date"),
    (Referral, "referred_on"),
    (ParentingSession, "date"),
    (ChildEnrolment, "enrolled_on"),
    (CooperativeMember, "joined_on"),
    (CooperativePeriod, "period"),
    (Activity, "date"),
]

# Which action a model's writes need: cases are sensitive.
WRITE_ACTION = {Case: Action.EDIT_CASES}


# --- Pillars of a village ---------------------------------------------------------------------


def village_in_scope(user: User, village_code: str) -> bool:
    prefix = scope_prefix(user)
    if prefix is None:
        return True
    return village_code == prefix or village_code.startswith(prefix + ".")


def designation_of(village_code: str) -> Designation:
    try:
        return Designation.objects.select_related("variant").get(village_id=village_code)
    except Designation.DoesNotExist:
        raise ValidationError(
            _("This village is not a Desmigratif village: its pillars cannot be recorded.")
        ) from None


def pillars_of(village_code: str) -> list[Pillar]:
    """The active pillars of the variant the village follows, in order."""
    designation = designation_of(village_code)
    return list(Pillar.objects.filter(variant_id=designation.variant_id, active=True))


def pillar_for(village_code: str, kind: str) -> Pillar:
    """The village's pillar of a kind (the one its variant gives that register)."""
    designation = designation_of(village_code)
    pillar = (
        Pillar.objects.filter(variant_id=designation.variant_id, kind=kind, active=True)
        .order_by("order", "id")
        .first()
    )
    if pillar is None:
        raise ValidationError(
            _("The programme this village follows (%(variant)s) has no pillar for %(kind)s.")
            % {"variant": designation.variant.name, "kind": PillarKind(kind).label}
        )
    return pillar


# --- Writing records ---------------------------------------------------------------------------


def _shown(value: object) -> object:
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    if isinstance(value, models.Model):
        return str(value.pk)
    if value is None:
        return ""
    if isinstance(value, int | float | bool | str):
        return value
    return str(value)


def _fields(instance: models.Model) -> dict[str, object]:
    skip = {"id", "created_at", "updated_at", "created_by", "deleted_at", "deleted_by"}
    return {
        f.attname: getattr(instance, f.attname)
        for f in instance._meta.concrete_fields
        if f.name not in skip
    }


def _check_write(actor: User, instance: VillageRecord) -> None:
    action = WRITE_ACTION.get(type(instance), Action.EDIT_PILLARS)
    if not can(actor, action) or not village_in_scope(actor, instance.village_id):
        raise PermissionDenied


def audit(
    *, actor: User | None, instance: models.Model, village_id: str, action: str, changes=None
) -> AuditEntry:
    return AuditEntry.objects.create(
        actor=actor,
        village_id=village_id,
        model=instance._meta.model_name,
        object_id=str(instance.pk),
        action=action,
        changes=changes or {},
    )


def _check_people(instance: VillageRecord, before: VillageRecord | None = None) -> None:
    """People a record points to must live in its village (no borrowing across scopes). A
    person the record already named may since have moved away: the record keeps them."""
    for field in instance._meta.concrete_fields:
        if field.is_relation and field.related_model._meta.label == "migrants.Person":
            if before is not None and getattr(before, field.attname) == getattr(
                instance, field.attname
            ):
                continue
            person = getattr(instance, field.name)
            if person is not None and person.village_id != instance.village_id:
                raise ValidationError({field.name: _("This person is not in the village.")})


@transaction.atomic
def record_create(*, actor: User, instance: VillageRecord, kind: str | None = None) -> None:
    """Save a new pillar record for its village, tagged with the village's pillar of `kind`
    (records of an `other` pillar come with theirs), after the model's own checks."""
    _check_write(actor, instance)
    if kind is not None:
        instance.pillar = pillar_for(instance.village_id, kind)
    elif instance.pillar_id is not None:
        allowed = {p.pk for p in pillars_of(instance.village_id)}
        if instance.pillar_id not in allowed:
            raise ValidationError({"pillar": _("This pillar is not one of the village's.")})
    _check_people(instance)
    now = timezone.now()
    instance.created_by = actor
    instance.created_at = instance.updated_at = now
    instance.full_clean()
    instance.save()
    audit(
        actor=actor,
        instance=instance,
        village_id=instance.village_id,
        action=AuditEntry.Action.CREATED,
        changes={k: ["", _shown(v)] for k, v in _fields(instance).items() if v not in (None, "")},
    )


@transaction.atomic
def record_update(*, actor: User, instance: VillageRecord) -> dict:
    """Save the changed fields of a record (already set on `instance`); returns the diff."""
    _check_write(actor, instance)
    before = type(instance).objects.select_for_update().get(pk=instance.pk)
    if before.deleted_at is not None:
        raise ValidationError(_("This record has been deleted."))
    if before.village_id != instance.village_id:
        raise ValidationError(_("A record stays in its village."))
    if before.pillar_id != instance.pillar_id and instance.pillar_id not in {
        p.pk for p in pillars_of(instance.village_id)
    }:
        raise ValidationError({"pillar": _("This pillar is not one of the village's.")})
    _check_people(instance, before)
    instance.full_clean()
    old, new = _fields(before), _fields(instance)
    diff = {k: [_shown(old[k]), _shown(new[k])] for k in new if old[k] != new[k]}
    if not diff:
        return diff
    instance.updated_at = timezone.now()
    instance.save()
    audit(
        actor=actor,
        instance=instance,
        village_id=instance.village_id,
        action=AuditEntry.Action.UPDATED,
        changes=diff,
    )
    return diff


@transaction.atomic
def record_delete(*, actor: User, instance: VillageRecord, reason: str = "") -> None:
    """Soft deletion: the row stays (with who and when) and the audit trail says why."""
    _check_write(actor, instance)
    if instance.deleted_at is not None:
        return
    instance.deleted_at = timezone.now()
    instance.deleted_by = actor
    instance.save(update_fields=["deleted_at", "deleted_by"])
    entry = audit(
        actor=actor,
        instance=instance,
        village_id=instance.village_id,
        action=AuditEntry.Action.DELETED,
    )
    if reason:
        entry.note = reason
        entry.save(update_fields=["note"])


# --- Pillar status ----------------------------------------------------------------------------


@dataclass
class PillarState:
    pillar: Pillar
    last_activity: datetime.date | None
    active: bool


def last_activity(villages: Iterable[str]) -> dict[tuple[str, int], datetime.date]:
    """(village, pillar id) -> the date of the latest activity: one query (a UNION of one
    grouped query per source), whatever the number of villages or rows."""
    codes = list(villages)
    latest: dict[tuple[str, int], datetime.date] = {}
    if not codes:
        return latest
    today = timezone.localdate()
    parts = [
        model.objects.alive()
        .filter(village_id__in=codes, **{f"{date_field}__lte": today})
        .values("village_id", "pillar_id")
        .annotate(last=Max(date_field))
        .order_by()
        for model, date_field in ACTIVITY_SOURCES
    ]
    for village_id, pillar_id, last in (
        parts[0].union(*parts[1:], all=True).values_list("village_id", "pillar_id", "last")
    ):
        if isinstance(last, str):  # SQLite hands back a UNION's dates as text
            last = datetime.date.fromisoformat(last)
        key = (village_id, pillar_id)
        if last and (key not in latest or last > latest[key]):
            latest[key] = last
    return latest


def active_since() -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=settings.PILLAR_ACTIVE_DAYS)


def pillar_matrix(designations: list[Designation]) -> dict[str, list[PillarState]]:
    """For each designated village, each pillar of its variant: active or not (any activity
    within PILLAR_ACTIVE_DAYS) and the date of the last activity."""
    variants = {d.variant_id for d in designations}
    by_variant: dict[int, list[Pillar]] = defaultdict(list)
    for pillar in Pillar.objects.filter(variant_id__in=variants, active=True):
        by_variant[pillar.variant_id].append(pillar)
    latest = last_activity(d.village_id for d in designations)
    since = active_since()
    matrix = {}
    for designation in designations:
        states = []
        for pillar in by_variant[designation.variant_id]:
            last = latest.get((designation.village_id, pillar.pk))
            states.append(PillarState(pillar, last, last is not None and last >= since))
        matrix[designation.village_id] = states
    return matrix


# --- Monthly report ---------------------------------------------------------------------------


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def month_end(month: datetime.date) -> datetime.date:
    following = (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return following - datetime.timedelta(days=1)


def month_figures(village_code: str, month: datetime.date) -> dict:
    """The month's figures of a village, from its data: the part of the monthly report nobody
    types. Plain numbers (JSON), stored on the report when it is submitted."""
    from migrants.models import Episode, Person

    first, last = month, month_end(month)
    in_month = {"village_id": village_code}

    def between(field: str) -> dict:
        return {f"{field}__gte": first, f"{field}__lte": last}

    services = ServiceLog.objects.alive().filter(**in_month, **between("date"))
    outreach = (
        Outreach.objects.alive()
        .filter(**in_month, **between("date"))
        .aggregate(
            events=Count("id"),
            men=Sum("attendees_male", default=0),
            women=Sum("attendees_female", default=0),
        )
    )
    trainings = Training.objects.alive().filter(**in_month, **between("end_date"))
    sessions = (
        ParentingSession.objects.alive()
        .filter(**in_month, **between("date"))
        .aggregate(
            sessions=Count("id"),
            children=Sum("children_attending", default=0),
            adults=Sum("adults_attending", default=0),
        )
    )
    enrolled = (
        ChildEnrolment.objects.alive()
        .filter(**in_month, enrolled_on__lte=last)
        .filter(Q(left_on__isnull=True) | Q(left_on__gte=first))
        .count()
    )
    members = (
        CooperativeMember.objects.alive()
        .filter(**in_month, joined_on__lte=last)
        .filter(Q(left_on__isnull=True) | Q(left_on__gte=first))
        .count()
    )
    money = (
        CooperativePeriod.objects.alive()
        .filter(**in_month, period=first)
        .aggregate(
            capital=Sum("capital", default=0),
            disbursed=Sum("loans_disbursed", default=0),
            outstanding=Sum("loans_outstanding", default=0),
        )
    )
    referrals = Referral.objects.alive().filter(**in_month, **between("referred_on"))
    disbursed = (
        Referral.objects.alive()
        .filter(**in_month, stage=Referral.Stage.DISBURSED, **between("disbursed_on"))
        .aggregate(count=Count("id"), amount=Sum("amount_disbursed", default=0))
    )
    cases = Case.objects.alive().filter(**in_month)
    people = Person.objects.alive().filter(village_id=village_code)
    episodes = Episode.objects.filter(person__village_id=village_code, person__deleted_at=None)
    return {
        "register": {
            "registered": people.filter(
                created_at__date__gte=first, created_at__date__lte=last
            ).count(),
            "departures": episodes.filter(**between("departure_date")).count(),
            "returns": episodes.filter(**between("return_date")).count(),
        },
        "services": {
            "total": services.count(),
            "by_type": {
                row["service_type"]: row["n"]
                for row in services.values("service_type").annotate(n=Count("id")).order_by()
            },
        },
        "outreach": outreach,
        "enterprises": {
            "running": Enterprise.objects.alive()
            .filter(**in_month, state=Enterprise.State.RUNNING)
            .count(),
            "started": Enterprise.objects.alive()
            .filter(**in_month, **between("start_date"))
            .count(),
            "trainings": trainings.count(),
            "trained": trainings.aggregate(n=Count("participants"))["n"],
        },
        "parenting": {**sessions, "enrolled": enrolled},
        "cooperative": {
            "members": members,
            "capital": int(money["capital"]),
            "loans_disbursed": int(money["disbursed"]),
            "loans_outstanding": int(money["outstanding"]),
            "entities": Cooperative.objects.alive()
            .filter(**in_month, state=Cooperative.State.ACTIVE)
            .count(),
        },
        "referrals": {
            "referred": referrals.count(),
            "disbursed": disbursed["count"],
            "amount_disbursed": int(disbursed["amount"]),
        },
        "cases": {
            "opened": cases.filter(**between("reported_on")).count(),
            "closed": cases.filter(**between("closed_on")).count(),
            "open_now": cases.filter(
                resolution__in=[Case.Resolution.OPEN, Case.Resolution.IN_PROGRESS]
            ).count(),
        },
    }


def _report_for_update(report: MonthlyReport) -> MonthlyReport:
    return MonthlyReport.objects.select_for_update().get(pk=report.pk)


@transaction.atomic
def report_save(
    *,
    actor: User,
    village_code: str,
    month: datetime.date,
    narrative: str,
    obstacles: str = "",
    plans: str = "",
) -> MonthlyReport:
    """Create or edit the draft of a month (also a returned report, to correct it)."""
    if not can(actor, Action.SUBMIT_REPORT) or not village_in_scope(actor, village_code):
        raise PermissionDenied
    designation_of(village_code)
    month = month_start(month)
    if month > month_start(timezone.localdate()):
        raise ValidationError({"month": _("A report cannot be written for a future month.")})
    report, created = MonthlyReport.objects.select_for_update().get_or_create(
        village_id=village_code, month=month
    )
    if report.state in (MonthlyReport.State.SUBMITTED, MonthlyReport.State.VERIFIED):
        raise ValidationError(
            _("This report is %(state)s and can no longer be edited.")
            % {"state": report.get_state_display()}
        )
    diff = {}
    for field, value in (("narrative", narrative), ("obstacles", obstacles), ("plans", plans)):
        if getattr(report, field) != value:
            diff[field] = [getattr(report, field), value]
            setattr(report, field, value)
    report.updated_at = timezone.now()
    report.save()
    if created or diff:
        audit(
            actor=actor,
            instance=report,
            village_id=village_code,
            action=AuditEntry.Action.CREATED if created else AuditEntry.Action.UPDATED,
            changes=diff,
        )
    return report


@transaction.atomic
def report_submit(*, actor: User, report: MonthlyReport) -> MonthlyReport:
    if not can(actor, Action.SUBMIT_REPORT) or not village_in_scope(actor, report.village_id):
        raise PermissionDenied
    report = _report_for_update(report)
    if report.state not in (MonthlyReport.State.DRAFT, MonthlyReport.State.RETURNED):
        raise ValidationError(_("This report has already been submitted."))
    if not report.narrative.strip():
        raise ValidationError({"narrative": _("Write the narrative before submitting.")})
    report.figures = month_figures(report.village_id, report.month)
    report.state = MonthlyReport.State.SUBMITTED
    report.submitted_by = actor
    report.submitted_at = report.updated_at = timezone.now()
    report.save()
    audit(actor=actor, instance=report, village_id=report.village_id, action="submitted")
    return report


@transaction.atomic
def report_review(
    *, actor: User, report: MonthlyReport, approve: bool, comment: str = ""
) -> MonthlyReport:
    """The coordinator verifies a submitted report, or returns it with a comment."""
    if not can(actor, Action.VERIFY_REPORT) or not village_in_scope(actor, report.village_id):
        raise PermissionDenied
    report = _report_for_update(report)
    if report.state != MonthlyReport.State.SUBMITTED:
        raise ValidationError(_("Only a submitted report can be verified or returned."))
    if not approve and not comment.strip():
        raise ValidationError({"comment": _("Say what needs correcting.")})
    now = timezone.now()
    report.review_comment = comment.strip()
    report.updated_at = now
    if approve:
        report.state = MonthlyReport.State.VERIFIED
        report.verified_by = actor
        report.verified_at = now
    else:
        report.state = MonthlyReport.State.RETURNED
    report.save()
    audit(
        actor=actor,
        instance=report,
        village_id=report.village_id,
        action=AuditEntry.Action.VERIFIED if approve else AuditEntry.Action.RETURNED,
        changes={"comment": report.review_comment} if report.review_comment else {},
    )
    return report


def missing_reports(user: User, month: datetime.date) -> list[Designation]:
    """The active designated villages of the user's scope without a submitted (or verified)
    report for the month."""
    reported = MonthlyReport.objects.filter(
        month=month_start(month),
        state__in=[MonthlyReport.State.SUBMITTED, MonthlyReport.State.VERIFIED],
    ).values("village_id")
    return list(
        Designation.objects.for_user(user)
        .filter(status=Designation.Status.ACTIVE)
        .exclude(village_id__in=reported)
        .select_related("village")
        .order_by("village__name")
    )


def village_label(code: str) -> str:
    region = Region.objects.filter(code=code).first()
    return region.label if region else code
