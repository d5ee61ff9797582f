"""Every write to the register: keyword-only, atomic, validated, and written to the history."""

import datetime
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.permissions import Action, can
from desmigratif.rls import system_scope
from migrants.countries import COUNTRY_CHOICES
from migrants.models import (
    DuplicateDismissal,
    Episode,
    Person,
    PersonHistory,
    SensitiveAccess,
    Status,
    Verification,
)
from migrants.nik import check_kk, check_nik, mask
from villages.models import Region

PERSON_FIELDS = (
    "nik",
    "no_kk",
    "full_name",
    "sex",
    "birth_place",
    "birth_date",
    "dusun",
    "rt",
    "rw",
    "address",
    "phone",
    "education",
    "marital_status",
    "relationship",
)
EPISODE_FIELDS = (
    "destination_country",
    "job_title",
    "sector",
    "employer_type",
    "placement_scheme",
    "p3mi_name",
    "p3mi_licence",
    "foreign_partner",
    "contract_start",
    "contract_end",
    "passport_number",
    "passport_expiry",
    "departure_date",
    "return_date",
    "return_reason",
    "procedural_status",
    "procedural_source",
    "bpjs_member",
)
COUNTRY_CODES = frozenset(code for code, _name in COUNTRY_CHOICES)
MASKED_FIELDS = {"nik", "no_kk", "passport_number"}
_NOT_LETTERS = re.compile(r"[^a-z ]+")
_SPACES = re.compile(r"\s+")


def name_key(full_name: str) -> str:
    """The name as duplicate detection compares it: no case, accents, punctuation or extra
    spaces ("Siti  Aminah," and "SITI AMINAH" match)."""
    text = unicodedata.normalize("NFKD", full_name).encode("ascii", "ignore").decode()
    text = _NOT_LETTERS.sub(" ", text.casefold())
    return _SPACES.sub(" ", text).strip()


def _shown(field: str, value: Any) -> Any:
    if value in (None, ""):
        return ""
    if field in MASKED_FIELDS:
        return mask(str(value)) if field != "passport_number" else "•" * len(str(value))
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def _diff(before: dict, after: dict) -> dict[str, list]:
    """Field-level changes as [old, new], dates as ISO text, identifiers masked."""
    changes = {}
    for field in after:
        old, new = _shown(field, before.get(field)), _shown(field, after.get(field))
        if old != new:
            changes[field] = [old, new]
    return changes


def _log(
    *,
    person: Person,
    action: str,
    actor: User | None,
    changes: dict | None = None,
    note: str = "",
    source: str = "web",
    village_id: str | None = None,
) -> PersonHistory:
    return PersonHistory.objects.create(
        person=person,
        village_id=village_id or person.village_id,
        actor=actor,
        action=action,
        changes=changes or {},
        note=note,
        source=source,
    )


def _require(actor: User, action: Action) -> None:
    if not can(actor, action):
        raise PermissionDenied


def _require_person_in_scope(actor: User, person: Person) -> None:
    if not Person.objects.for_user(actor).filter(pk=person.pk).exists():
        raise PermissionDenied


def _require_village_in_scope(actor: User, village: Region) -> None:
    if village.level != Region.Level.VILLAGE or village.is_retired:
        raise ValidationError({"village": _("Choose an active village.")})
    if not Region.objects.for_user(actor).filter(code=village.code).exists():
        raise PermissionDenied


def district_exists(code: str) -> bool:
    return Region.objects.filter(code=code, level=Region.Level.DISTRICT).exists()


def nik_elsewhere_message() -> str:
    """Said of a NIK registered outside the user's area: nothing about where or whom."""
    return _(
        "This NIK is already registered in another village. The regency coordinator can "
        "transfer that record to your village."
    )


def nik_deleted_message() -> str:
    return _(
        "This NIK belongs to a deleted record in your area. The regency coordinator can "
        "restore it from the deleted records."
    )


def nik_taken_message(*, nik: str, actor: User, exclude: Person | None = None) -> str | None:
    """The message for a NIK that is already registered, or None when it is free.

    Outside the actor's scope it says only that the NIK is registered elsewhere: no name,
    no village, nothing that would tell where the person lives.
    """
    others = Person.objects.filter(nik=nik)
    if exclude is not None:
        others = others.exclude(pk=exclude.pk)
    with system_scope():  # the NIK is unique in the whole country, the user's area or not
        if not others.exists():
            return None
    mine = Person.objects.for_user(actor).filter(nik=nik)
    if exclude is not None:
        mine = mine.exclude(pk=exclude.pk)
    deleted_at = mine.values_list("deleted_at", flat=True)[:1]
    if not deleted_at:
        return nik_elsewhere_message()
    if deleted_at[0] is not None:
        return nik_deleted_message()
    return _("This NIK is already registered in your area: search the register for it.")


def identity_problems(
    *, person: Person, known_district, today: datetime.date
) -> tuple[dict[str, list[str]], list[str]]:
    """The NIK and No. KK rules and the date of birth, without touching the database:
    returns the errors by field and the warning codes, and normalises both numbers on the
    person. Forms (through validate_identity) and the bulk import share it."""
    errors: dict[str, list[str]] = {}
    warnings: list[str] = []
    nik = check_nik(
        person.nik or "",
        birth_date=person.birth_date,
        sex=person.sex if person.sex in ("L", "P") else None,
        known_district=known_district,
        today=today,
    )
    if nik.errors:
        errors["nik"] = [problem.message for problem in nik.errors]
    else:
        person.nik = nik.value or None
        warnings += [problem.code for problem in nik.warnings]
    kk = check_kk(person.no_kk or "", known_district=known_district)
    if kk.errors:
        errors["no_kk"] = [problem.message for problem in kk.errors]
    else:
        person.no_kk = kk.value
        warnings += [f"kk_{problem.code}" for problem in kk.warnings]
    if person.birth_date and person.birth_date > today:
        errors.setdefault("birth_date", []).append(_("The date of birth is in the future."))
    return errors, warnings


def validate_identity(*, person: Person, actor: User) -> None:
    """NIK and No. KK rules, the duplicate check; stores the NIK warnings on the person."""
    errors, warnings = identity_problems(
        person=person, known_district=district_exists, today=timezone.localdate()
    )
    if person.nik and "nik" not in errors:
        taken = nik_taken_message(nik=person.nik, actor=actor, exclude=person)
        if taken:
            errors["nik"] = [taken]
    if errors:
        raise ValidationError(errors)
    person.nik_warnings = warnings


def _save_person(person: Person, *, actor: User) -> None:
    person.name_key = name_key(person.full_name)
    person.updated_at = timezone.now()
    # The NIK was checked above, with a leak-free message; the database constraints stay as the
    # backstop, so full_clean does not spend a query on each of them.
    person.full_clean(exclude=["nik"], validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            person.save()
    except IntegrityError as exc:
        # Two officers saving the same NIK at once: the constraint decides, the message stays.
        taken = person.nik and nik_taken_message(nik=person.nik, actor=actor, exclude=person)
        if taken:
            raise ValidationError({"nik": [taken]}) from exc
        raise


@transaction.atomic
def person_register(
    *, village: Region, data: dict[str, Any], actor: User, source: str = "web"
) -> Person:
    _require(actor, Action.EDIT_REGISTER)
    _require_village_in_scope(actor, village)
    fields = {field: data[field] for field in PERSON_FIELDS if field in data}
    person = Person(village=village, created_by=actor, **fields)
    validate_identity(person=person, actor=actor)
    _save_person(person, actor=actor)
    _log(
        person=person,
        action=PersonHistory.Action.CREATED,
        actor=actor,
        source=source,
        changes=_diff({}, {f: getattr(person, f) for f in PERSON_FIELDS}),
    )
    return person


@transaction.atomic
def person_update(
    *, person: Person, data: dict[str, Any], actor: User, source: str = "web"
) -> Person:
    _require(actor, Action.EDIT_REGISTER)
    _require_person_in_scope(actor, person)
    if person.is_deleted:
        raise ValidationError(_("This record is deleted; restore it first."))
    before = {field: getattr(person, field) for field in PERSON_FIELDS}
    for field in PERSON_FIELDS:
        if field in data:
            setattr(person, field, data[field])
    validate_identity(person=person, actor=actor)
    after = {field: getattr(person, field) for field in PERSON_FIELDS}
    changes = _diff(before, after)
    if not changes:
        return person
    note = _unverify(person)
    _save_person(person, actor=actor)
    _log(
        person=person,
        action=PersonHistory.Action.UPDATED,
        actor=actor,
        changes=changes,
        note=note,
        source=source,
    )
    return person


def _unverify(person: Person) -> str:
    """A verified record that changes must be verified again; returns the note saying so."""
    if person.verification != Verification.VERIFIED:
        return ""
    person.verification = Verification.DRAFT
    person.verified_by = None
    person.verified_at = None
    return _("The record was verified; it changed and needs verifying again.")


def _unverify_after_episode_change(person: Person) -> str:
    note = _unverify(person)
    if note:
        person.save(update_fields=["verification", "verified_by", "verified_at"])
    return note


def latest_episode(episodes: Iterable[Episode]) -> Episode | None:
    """The episode that decides the status: one not yet departed is the newest; otherwise the
    latest departure; ties go to the later record."""
    far_future = datetime.date.max

    def key(episode: Episode):
        return (episode.departure_date or far_future, episode.created_at)

    return max(episodes, key=key, default=None)


_STAGE_STATUS = {
    Episode.Stage.PLANNED: Status.CPMI,
    Episode.Stage.ABROAD: Status.PMI,
    Episode.Stage.RETURNED: Status.PURNA,
}


def status_for(episodes: Iterable[Episode]) -> str:
    latest = latest_episode(episodes)
    return Status.FAMILY if latest is None else _STAGE_STATUS[latest.stage]


def derived_fields(episodes: Iterable[Episode]) -> dict[str, str]:
    """What the person row copies from its latest episode: status, country, procedural."""
    latest = latest_episode(episodes)
    if latest is None:
        return {"status": Status.FAMILY, "current_country": "", "current_procedural": ""}
    return {
        "status": _STAGE_STATUS[latest.stage],
        "current_country": latest.destination_country,
        "current_procedural": latest.procedural_status,
    }


def _refresh_status(person: Person) -> None:
    derived = derived_fields(person.episodes.all())
    if any(getattr(person, field) != value for field, value in derived.items()):
        for field, value in derived.items():
            setattr(person, field, value)
        person.updated_at = timezone.now()
        person.save(update_fields=[*derived, "updated_at"])


def episode_problems(episode: Episode, *, today: datetime.date) -> dict[str, list[str]]:
    """The rules of a migration episode, without the database (shared with the import)."""
    errors: dict[str, list[str]] = {}
    if episode.destination_country and episode.destination_country not in COUNTRY_CODES:
        errors["destination_country"] = [_("Choose a country from the list.")]
    for field in ("departure_date", "return_date"):
        value = getattr(episode, field)
        if value and value > today:
            errors.setdefault(field, []).append(_("This date is in the future."))
    if episode.return_date and not episode.departure_date:
        errors.setdefault("return_date", []).append(_("A return needs a departure date first."))
    if (
        episode.return_date
        and episode.departure_date
        and episode.return_date < episode.departure_date
    ):
        errors.setdefault("return_date", []).append(
            _("The return date is before the departure date.")
        )
    if (
        episode.contract_start
        and episode.contract_end
        and episode.contract_end < episode.contract_start
    ):
        errors.setdefault("contract_end", []).append(_("The contract ends before it starts."))
    if episode.return_date and not episode.return_reason:
        errors.setdefault("return_reason", []).append(_("Give the reason for the return."))
    return errors


def _validate_episode(episode: Episode) -> None:
    errors = episode_problems(episode, today=timezone.localdate())
    if errors:
        raise ValidationError(errors)
    episode.full_clean(exclude=["person"], validate_constraints=False)


@transaction.atomic
def episode_add(
    *,
    person: Person,
    data: dict[str, Any],
    actor: User,
    action: str = PersonHistory.Action.EPISODE_ADDED,
    source: str = "web",
) -> Episode:
    _require(actor, Action.EDIT_REGISTER)
    _require_person_in_scope(actor, person)
    episode = Episode(person=person, **{f: data[f] for f in EPISODE_FIELDS if f in data})
    _validate_episode(episode)
    latest = latest_episode(person.episodes.all())
    if latest is not None and latest.stage == Episode.Stage.ABROAD and not episode.return_date:
        # Two open migrations at once would make the status meaningless.
        raise ValidationError(
            _("This person is abroad: record the return of that migration first.")
        )
    episode.save()
    _log(
        person=person,
        action=action,
        actor=actor,
        source=source,
        changes=_diff({}, {f: getattr(episode, f) for f in EPISODE_FIELDS}),
        note=_unverify_after_episode_change(person),
    )
    _refresh_status(person)
    return episode


@transaction.atomic
def episode_update(
    *,
    episode: Episode,
    data: dict[str, Any],
    actor: User,
    action: str = PersonHistory.Action.EPISODE_UPDATED,
    source: str = "web",
) -> Episode:
    person = episode.person
    _require(actor, Action.EDIT_REGISTER)
    _require_person_in_scope(actor, person)
    before = {f: getattr(episode, f) for f in EPISODE_FIELDS}
    for field in EPISODE_FIELDS:
        if field in data:
            setattr(episode, field, data[field])
    _validate_episode(episode)
    changes = _diff(before, {f: getattr(episode, f) for f in EPISODE_FIELDS})
    if not changes:
        return episode
    episode.updated_at = timezone.now()
    episode.save()
    _log(
        person=person,
        action=action,
        actor=actor,
        changes=changes,
        source=source,
        note=_unverify_after_episode_change(person),
    )
    _refresh_status(person)
    return episode


@transaction.atomic
def person_record_departure(
    *, person: Person, data: dict[str, Any], actor: User, source: str = "web"
) -> Episode:
    """Departure: completes the registered (not yet departed) migration, or starts a new one."""
    latest = latest_episode(person.episodes.all())
    if latest is not None and latest.stage == Episode.Stage.ABROAD:
        raise ValidationError(_("This person is abroad already: record the return first."))
    if not data.get("departure_date"):
        raise ValidationError({"departure_date": [_("Give the departure date.")]})
    if latest is not None and latest.stage == Episode.Stage.PLANNED:
        return episode_update(
            episode=latest,
            data=data,
            actor=actor,
            action=PersonHistory.Action.DEPARTED,
            source=source,
        )
    return episode_add(
        person=person,
        data=data,
        actor=actor,
        action=PersonHistory.Action.DEPARTED,
        source=source,
    )


@transaction.atomic
def person_record_return(
    *, person: Person, data: dict[str, Any], actor: User, source: str = "web"
) -> Episode:
    latest = latest_episode(person.episodes.all())
    if latest is None or latest.stage != Episode.Stage.ABROAD:
        raise ValidationError(_("This person is not abroad: there is no departure to close."))
    if not data.get("return_date"):
        raise ValidationError({"return_date": [_("Give the return date.")]})
    return episode_update(
        episode=latest,
        data=data,
        actor=actor,
        action=PersonHistory.Action.RETURNED_HOME,
        source=source,
    )


@transaction.atomic
def person_delete(*, person: Person, actor: User, reason: str) -> Person:
    """Soft delete: the record leaves the lists but stays, with its history, for undo."""
    _require(actor, Action.EDIT_REGISTER)
    _require_person_in_scope(actor, person)
    if not reason.strip():
        raise ValidationError({"reason": [_("Give the reason for deleting.")]})
    if person.is_deleted:
        return person
    person.deleted_at = timezone.now()
    person.deleted_by = actor
    person.save(update_fields=["deleted_at", "deleted_by"])
    _log(person=person, action=PersonHistory.Action.DELETED, actor=actor, note=reason.strip())
    return person


@transaction.atomic
def person_restore(*, person: Person, actor: User) -> Person:
    _require(actor, Action.RESTORE_DELETED)
    _require_person_in_scope(actor, person)
    if not person.is_deleted:
        return person
    if person.merged_into_id:
        raise ValidationError(_("This record was merged into another one; it cannot come back."))
    if person.anonymised_at:
        raise ValidationError(
            _("This record was emptied by the retention rule; it cannot come back.")
        )
    person.deleted_at = None
    person.deleted_by = None
    person.save(update_fields=["deleted_at", "deleted_by"])
    _log(person=person, action=PersonHistory.Action.RESTORED, actor=actor)
    return person


@transaction.atomic
def person_transfer(*, person: Person, to_village: Region, actor: User, reason: str) -> Person:
    """Move a person to another village: the coordinator within the regency, the ministry
    anywhere. Each side keeps an entry in its history."""
    _require_person_in_scope(actor, person)
    if to_village.level != Region.Level.VILLAGE or to_village.is_retired:
        raise ValidationError({"to_village": [_("Choose an active village.")]})
    if to_village.code == person.village_id:
        raise ValidationError({"to_village": [_("The person is already in this village.")]})
    if can(actor, Action.TRANSFER_ANYWHERE):
        pass
    elif can(actor, Action.TRANSFER_IN_REGENCY):
        if not Region.objects.for_user(actor).filter(code=to_village.code).exists():
            message = _(
                "That village is in another regency: ask the ministry to transfer the record."
            )
            raise ValidationError({"to_village": [message]})
    else:
        raise PermissionDenied
    old_village = person.village_id
    person.village = to_village
    person.updated_at = timezone.now()
    person.save(update_fields=["village", "updated_at"])
    _log(
        person=person,
        action=PersonHistory.Action.TRANSFERRED_OUT,
        actor=actor,
        village_id=old_village,
        note=reason,
    )
    _log(
        person=person,
        action=PersonHistory.Action.TRANSFERRED_IN,
        actor=actor,
        changes={"village": [old_village, to_village.code]},
        note=reason,
    )
    return person


@transaction.atomic
def persons_merge(*, keep: Person, other: Person, actor: User) -> Person:
    """Merge a duplicate into the record to keep: its migrations and history move over, empty
    fields are filled from it, and it stays as a deleted record pointing at the one kept."""
    _require(actor, Action.MERGE_DUPLICATES)
    _require_person_in_scope(actor, keep)
    _require_person_in_scope(actor, other)
    if keep.pk == other.pk or keep.is_deleted or other.is_deleted:
        raise ValidationError(_("Choose two different records that are not deleted."))
    if keep.nik and other.nik and keep.nik != other.nik:
        raise ValidationError(_("These records have different NIKs: they are different people."))
    filled: dict[str, list] = {}
    if other.nik and not keep.nik:
        nik = other.nik
        other.nik = None  # the NIK moves over; free it first, it is unique
        other.save(update_fields=["nik"])
        keep.nik = nik
        filled["nik"] = ["", _shown("nik", nik)]
    for field in PERSON_FIELDS:
        value = getattr(other, field)
        if field != "nik" and value and not getattr(keep, field):
            setattr(keep, field, value)
            filled[field] = ["", _shown(field, value)]
    other.episodes.update(person=keep)
    other.history.update(person=keep)
    other.merged_into = keep
    other.deleted_at = timezone.now()
    other.deleted_by = actor
    other.save(update_fields=["merged_into", "deleted_at", "deleted_by"])
    keep.name_key = name_key(keep.full_name)
    keep.updated_at = timezone.now()
    keep.save()
    note = _("Merged with the duplicate record of %(name)s.") % {"name": other.full_name}
    _log(person=keep, action=PersonHistory.Action.MERGED, actor=actor, changes=filled, note=note)
    _log(
        person=other,
        action=PersonHistory.Action.MERGED,
        actor=actor,
        note=_("Merged into another record; this one is kept as deleted."),
    )
    _refresh_status(keep)
    return keep


def likely_duplicates(*, actor: User) -> list[list[Person]]:
    """Groups of living records with the same name and date of birth in one regency, at
    least one of them without a NIK, less the pairs the coordinator dismissed."""
    scoped = Person.objects.for_user(actor).alive()
    keys = (
        scoped.annotate(regency=Substr("village_id", 1, 5))
        .values("name_key", "birth_date", "regency")
        .annotate(count=Count("*"), without_nik=Count("pk", filter=Q(nik__isnull=True)))
        .filter(count__gt=1, without_nik__gt=0)
        .order_by("name_key", "birth_date")[:200]
    )
    condition = Q(pk__in=[])
    for key in keys:
        condition |= Q(
            name_key=key["name_key"],
            birth_date=key["birth_date"],
            village__code__startswith=key["regency"] + ".",
        )
    people = (
        list(scoped.filter(condition).select_related("village").order_by("name_key", "created_at"))
        if keys
        else []
    )
    dismissed = set(
        DuplicateDismissal.objects.filter(first__in=[p.pk for p in people]).values_list(
            "first_id", "second_id"
        )
    )
    groups: dict[tuple, list[Person]] = {}
    for person in people:
        groups.setdefault((person.name_key, person.birth_date, person.village_id[:5]), []).append(
            person
        )
    result = []
    for members in groups.values():
        pairs = [
            (a, b)
            for i, a in enumerate(members)
            for b in members[i + 1 :]
            if tuple(sorted((a.pk, b.pk))) not in dismissed and not (a.nik and b.nik)
        ]
        if pairs:
            result.append(members)
    return result


@transaction.atomic
def duplicate_dismiss(*, first: Person, second: Person, actor: User) -> None:
    _require(actor, Action.MERGE_DUPLICATES)
    _require_person_in_scope(actor, first)
    _require_person_in_scope(actor, second)
    a, b = sorted((first.pk, second.pk))
    DuplicateDismissal.objects.get_or_create(first_id=a, second_id=b, defaults={"by": actor})


def _transition(
    *,
    persons: Iterable[Person],
    actor: User,
    allowed_from: set[str],
    to: str,
    action: str,
    note: str = "",
    source: str = "web",
) -> int:
    changed = 0
    now = timezone.now()
    for person in persons:
        _require_person_in_scope(actor, person)
        if person.verification not in allowed_from or person.is_deleted:
            continue
        person.verification = to
        person.verification_note = note
        if to == Verification.VERIFIED:
            person.verified_by, person.verified_at = actor, now
        person.save(
            update_fields=["verification", "verification_note", "verified_by", "verified_at"]
        )
        _log(person=person, action=action, actor=actor, note=note, source=source)
        changed += 1
    return changed


@transaction.atomic
def persons_submit(*, persons: Iterable[Person], actor: User, source: str = "web") -> int:
    """The village sends its draft (or returned) records to the coordinator."""
    _require(actor, Action.EDIT_REGISTER)
    return _transition(
        persons=persons,
        actor=actor,
        to=Verification.SUBMITTED,
        allowed_from={Verification.DRAFT, Verification.RETURNED},
        action=PersonHistory.Action.SUBMITTED,
        source=source,
    )


@transaction.atomic
def persons_verify(*, persons: Iterable[Person], actor: User, source: str = "web") -> int:
    _require(actor, Action.VERIFY_REGISTER)
    return _transition(
        persons=persons,
        actor=actor,
        to=Verification.VERIFIED,
        allowed_from={Verification.SUBMITTED},
        action=PersonHistory.Action.VERIFIED,
        source=source,
    )


@transaction.atomic
def person_send_back(*, person: Person, actor: User, reason: str, source: str = "web") -> Person:
    _require(actor, Action.VERIFY_REGISTER)
    if not reason.strip():
        raise ValidationError({"reason": [_("Say what the village must correct.")]})
    _transition(
        persons=[person],
        actor=actor,
        to=Verification.RETURNED,
        allowed_from={Verification.SUBMITTED, Verification.VERIFIED},
        action=PersonHistory.Action.SENT_BACK,
        note=reason.strip(),
        source=source,
    )
    return person


@transaction.atomic
def nik_reveal(
    *, person: Person, actor: User, kind: str = SensitiveAccess.Kind.NIK_REVEAL, reason: str = ""
) -> str:
    """The full NIK (or No. KK), shown on an explicit request and logged."""
    _require(actor, Action.REVEAL_NIK)
    _require_person_in_scope(actor, person)
    SensitiveAccess.objects.create(actor=actor, person=person, kind=kind, reason=reason[:255])
    return (person.nik or "") if kind == SensitiveAccess.Kind.NIK_REVEAL else person.no_kk
