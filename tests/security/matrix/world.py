"""The world the access matrix walks: the personas, and one of every kind of object on each
side of the country, made through the services.

Side "A" is Arjowilangun (Kalipare, Kab. Malang, Jawa Timur), side "K" is Kenanga (Sindang,
Kab. Indramayu, Jawa Barat). Every object a URL can name exists on both sides, so each persona
gets one inside its scope and one outside it. National personas have no "outside": for them
the other side is "missing", identifiers of nothing at all, which must look exactly alike (404).

The people carry known NIKs, No. KKs and names that occur nowhere else, so every response can
be searched for those of people the persona may not see.
"""

import datetime
import time
import uuid
from dataclasses import dataclass, field, replace
from decimal import Decimal
from types import SimpleNamespace

from django.test import Client
from django.utils import timezone
from knox.models import AuthToken

from accounts.models import AccountEvent, Role, User
from migrants import services as register_services
from migrants.models import Person, PersonHistory, child_cutoff
from migrants.nik import mask, nik_for
from pillars import services as pillar_services
from pillars.models import (
    Activity,
    AuditEntry,
    Case,
    CaseStep,
    ChildEnrolment,
    Cooperative,
    CooperativeMember,
    CooperativePeriod,
    Enterprise,
    Outreach,
    ParentingGroup,
    ParentingSession,
    PartnerProgramme,
    Pillar,
    PillarKind,
    ProgrammeVariant,
    Referral,
    ServiceLog,
    ServiceType,
    Training,
)
from reports import services as report_services
from reports.models import ReportDownload, ReportFormat, ReportJob, ReportKind
from tests.conftest import PASSWORD, WORLD_REGIONS, _user
from villages.demo import seed_demo
from villages.models import Designation, Region
from villages.services import regions_load

ARJOWILANGUN = "35.07.11.2008"
BRONGKAL = "35.07.33.2006"
KENANGA = "32.12.16.2004"
KURIPAN = "33.07.10.2004"
# A village of the region table that is not a Desmigratif village.
UNDESIGNATED = "35.07.11.2001"
# A region code that names nothing.
NOWHERE = "99.99.99.9999"

BORN = datetime.date(1991, 4, 9)

# persona -> username of the account behind it (None: nobody signed in).
USERNAMES: dict[str, str | None] = {
    "anonymous": None,
    "deactivated_officer": "deactivated_officer",
    "officer_arjowilangun": "officer_arjowilangun",
    "officer_kenanga": "officer_kenanga",
    "head_arjowilangun": "head_arjowilangun",
    "coordinator_malang": "coordinator_malang",
    "coordinator_indramayu": "coordinator_indramayu",
    "province_jatim": "province_jatim",
    "evaluator": "evaluator",
    "ministry_admin": "admin",
}
PERSONAS = list(USERNAMES)
# A regency coordinator who has not set up two-factor authentication (checked on its own, with
# MFA_REQUIRED on: the rest of the matrix runs with it off).
NO_MFA = "coordinator_nomfa"

# The region each persona's rows lie under (None: the whole country).
SCOPES: dict[str, str | None] = {
    "anonymous": ARJOWILANGUN,
    "deactivated_officer": ARJOWILANGUN,
    "officer_arjowilangun": ARJOWILANGUN,
    "officer_kenanga": KENANGA,
    "head_arjowilangun": ARJOWILANGUN,
    "coordinator_malang": "35.07",
    "coordinator_indramayu": "32.12",
    "province_jatim": "35",
    "evaluator": None,
    "ministry_admin": None,
    NO_MFA: "35.07",
}
NATIONAL = {"evaluator", "ministry_admin"}
# Roles that see children and may ask for full NIKs (Action.VIEW_CHILDREN / REVEAL_NIK).
SEES_CHILDREN = {
    "officer_arjowilangun",
    "officer_kenanga",
    "head_arjowilangun",
    "coordinator_malang",
    "coordinator_indramayu",
    "ministry_admin",
}


def home_side(persona: str) -> str:
    """The side whose objects lie inside the persona's scope."""
    scope = SCOPES[persona]
    return "K" if scope and scope.startswith("32") else "A"


def away_side(persona: str) -> str:
    if persona in NATIONAL:
        return "missing"
    return "A" if home_side(persona) == "K" else "K"


@dataclass(frozen=True)
class Seeded:
    """A person of the world with the identifiers that must not leak."""

    name: str
    nik: str | None
    kk: str
    village: str
    child: bool = False

    def visible_to(self, persona: str) -> bool:
        scope = SCOPES[persona]
        if persona in ("anonymous", "deactivated_officer"):
            return False
        if self.child and persona not in SEES_CHILDREN:
            return False
        return scope is None or self.village == scope or self.village.startswith(scope + ".")

    def identifiers(self) -> list[str]:
        shown = [self.name]
        for number in (self.nik, self.kk):
            if number:
                shown += [number, mask(number)]
        return shown


@dataclass
class World:
    users: dict[str, User]
    sides: dict[str, SimpleNamespace]
    people: list[Seeded]
    sessions: dict[str, str] = field(default_factory=dict)  # persona -> session key
    tokens: dict[str, str] = field(default_factory=dict)  # persona -> API token secret
    token_digests: dict[str, str] = field(default_factory=dict)
    jobs: dict[str, ReportJob] = field(default_factory=dict)  # scope label -> built job

    def user(self, persona: str) -> User | None:
        username = USERNAMES.get(persona, persona)
        return self.users[username] if username else None

    def seeded(self, name: str) -> Seeded:
        return next(person for person in self.people if person.name == name)


# --- Building --------------------------------------------------------------------------------

_serial = iter(range(101, 9999))


def _nik(village: str, *, born: datetime.date = BORN, sex: str = "P") -> str:
    return nik_for(district_code=village[:8], birth_date=born, sex=sex, serial=next(_serial))


def _kk(village: str) -> str:
    return f"{village[:8].replace('.', '')}010210{next(_serial):04d}"


def _person(world_people: list, actor: User, village: str, name: str, **data) -> Person:
    born = data.pop("birth_date", BORN)
    nik = data.pop("nik", "new")
    if nik == "new":
        nik = _nik(village, born=born)
    kk = data.pop("no_kk", None) or _kk(village)
    person = register_services.person_register(
        village=Region.objects.get(code=village),
        data={
            "nik": nik,
            "no_kk": kk,
            "full_name": name,
            "sex": "P",
            "birth_date": born,
            **data,
        },
        actor=actor,
    )
    world_people.append(
        Seeded(name=name, nik=nik, kk=kk, village=village, child=born > child_cutoff())
    )
    return person


def _record(actor: User, instance, kind: str | None = None):
    pillar_services.record_create(actor=actor, instance=instance, kind=kind)
    return instance


def _side(
    *,
    tag: str,
    village: str,
    regency: str,
    officer: User,
    coordinator: User,
    target: User,
    people: list[Seeded],
    other_pillar: Pillar,
) -> SimpleNamespace:
    """One of every object on one side, with names made of `tag`."""
    today = timezone.localdate()
    first = _person(people, officer, village, f"Sumirah {tag}matrix")
    family = _person(
        people,
        officer,
        village,
        f"Wartini {tag}matrix",
        no_kk=Person.objects.get(pk=first.pk).no_kk,
    )
    child = _person(
        people,
        officer,
        village,
        f"Anak {tag}matrix",
        birth_date=today - datetime.timedelta(days=9 * 365),
    )
    # Twins of name and birth date, one without a NIK: the regency's likely duplicates.
    twin_born = datetime.date(1988, 8, 8)
    twin = _person(people, officer, village, f"Kembar {tag}matrix", birth_date=twin_born)
    _person(people, officer, village, f"Kembar {tag}matrix", birth_date=twin_born, nik=None)
    gone = _person(people, officer, village, f"Terhapus {tag}matrix")
    register_services.person_delete(person=gone, actor=officer, reason="Matrix: double entry")
    episode = register_services.person_record_departure(
        person=first,
        data={"departure_date": datetime.date(2023, 3, 1), "destination_country": "HK"},
        actor=officer,
    )

    service = _record(
        officer,
        ServiceLog(
            village_id=village,
            date=today,
            service_type=ServiceType.INFORMATION,
            person=first,
            officer=officer,
            notes=f"Layanan {tag}",
        ),
        PillarKind.SERVICE_CENTRE,
    )
    outreach = _record(
        officer,
        Outreach(village_id=village, date=today, topic=f"Sosialisasi {tag}", attendees_female=3),
        PillarKind.SERVICE_CENTRE,
    )
    case = _record(
        officer,
        Case(
            village_id=village,
            person=first,
            case_type=Case.Type.UNPAID_WAGES,
            channel=Case.Channel.WALK_IN,
            reported_on=today,
            summary=f"Gaji belum dibayar {tag}",
        ),
        PillarKind.SERVICE_CENTRE,
    )
    CaseStep.objects.create(case=case, date=today, action="Matrix: called the agency", by=officer)
    enterprise = _record(
        officer,
        Enterprise(
            village_id=village, owner=family, name=f"Keripik {tag}", sector=Enterprise.Sector.FOOD
        ),
        PillarKind.ENTERPRISE,
    )
    training = _record(
        officer,
        Training(
            village_id=village,
            topic=f"Pelatihan {tag}",
            organiser="Disnaker",
            start_date=today - datetime.timedelta(days=3),
            end_date=today - datetime.timedelta(days=2),
        ),
        PillarKind.ENTERPRISE,
    )
    training.participants.set([first, family, child])
    referral = _record(
        officer,
        Referral(
            village_id=village,
            programme=PartnerProgramme.objects.filter(active=True).order_by("pk").first(),
            person=family,
            referred_on=today - datetime.timedelta(days=1),
            amount_requested=Decimal(5_000_000),
        ),
        PillarKind.ENTERPRISE,
    )
    group = _record(
        officer,
        ParentingGroup(village_id=village, name=f"Rumah Belajar {tag}", facilitators="Bu Sri"),
        PillarKind.PARENTING,
    )
    session = _record(
        officer,
        ParentingSession(
            village_id=village, group=group, date=today, topic=f"Dongeng {tag}", adults_attending=2
        ),
        PillarKind.PARENTING,
    )
    enrolment = _record(
        officer,
        ChildEnrolment(village_id=village, group=group, child=child, enrolled_on=today),
        PillarKind.PARENTING,
    )
    cooperative = _record(
        officer,
        Cooperative(village_id=village, type=Cooperative.Type.BUMDES, name=f"BUMDes {tag}"),
        PillarKind.COOPERATIVE,
    )
    member = _record(
        officer,
        CooperativeMember(
            village_id=village, cooperative=cooperative, person=family, joined_on=today
        ),
        PillarKind.COOPERATIVE,
    )
    figures = _record(
        officer,
        CooperativePeriod(
            village_id=village,
            cooperative=cooperative,
            period=today.replace(day=1),
            capital=Decimal(1_000_000),
            loans_disbursed=Decimal(0),
            loans_outstanding=Decimal(0),
        ),
        PillarKind.COOPERATIVE,
    )
    activity = _record(
        officer,
        Activity(village_id=village, pillar=other_pillar, date=today, title=f"Kegiatan {tag}"),
    )
    month = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    report = pillar_services.report_save(
        actor=officer, village_code=village, month=month, narrative=f"Laporan {tag}"
    )
    report = pillar_services.report_submit(actor=officer, report=report)
    batch = _register_import(officer, village, tag, people)
    pillar_batch = _pillar_import(officer, village)
    event = AccountEvent.objects.create(
        actor=coordinator, user=target, kind=AccountEvent.Kind.CREATED
    )
    correction = _correction(officer, first)
    return SimpleNamespace(
        village=village,
        region=village,
        regency=regency,
        province=regency[:2],
        person=first.pk,
        person_nik=first.nik,
        correction=correction.pk,
        family=family.pk,
        child_person=child.pk,
        twin=twin.pk,
        deleted_person=gone.pk,
        episode=episode.pk,
        history=PersonHistory.objects.filter(person=first).order_by("pk").first().pk,
        service=service.pk,
        outreach=outreach.pk,
        case=case.pk,
        enterprise=enterprise.pk,
        training=training.pk,
        referral=referral.pk,
        group=group.pk,
        session=session.pk,
        child=enrolment.pk,
        cooperative=cooperative.pk,
        member=member.pk,
        figures=figures.pk,
        activity=activity.pk,
        report=report.pk,
        import_batch=batch.pk,
        pillar_import=pillar_batch.pk,
        user=target.pk,
        account_event=event.pk,
        designation=Designation.objects.get(village_id=village).pk,
        audit=AuditEntry.objects.filter(village_id=village).order_by("pk").first().pk,
    )


def _missing_side() -> SimpleNamespace:
    """Identifiers of nothing: "does not exist" must look like "not yours"."""
    nothing = uuid.uuid4()
    return SimpleNamespace(
        village=NOWHERE,
        region=NOWHERE,
        person_nik=nik_for(district_code="35.07.11", birth_date=BORN, sex="P", serial=9999),
        regency="99.99",
        province="99",
        **dict.fromkeys(
            (
                "person",
                "family",
                "child_person",
                "twin",
                "deleted_person",
                "episode",
                "import_batch",
                "pillar_import",
                "job",
                "correction",
            ),
            nothing,
        ),
        **dict.fromkeys(
            (
                "history",
                "service",
                "outreach",
                "case",
                "enterprise",
                "training",
                "referral",
                "group",
                "session",
                "child",
                "cooperative",
                "member",
                "figures",
                "activity",
                "report",
                "user",
                "account_event",
                "designation",
                "audit",
                "download",
            ),
            987654,
        ),
    )


def _moved_away(people: list[Seeded], users: dict[str, User], other_pillar: Pillar) -> None:
    """Someone served by Arjowilangun's pillars who then moved to Kenanga: the village's
    records stay, the person is no longer Arjowilangun's to see."""
    officer = users["officer_arjowilangun"]
    person = _person(people, officer, ARJOWILANGUN, "Pindah Arjomatrix")
    today = timezone.localdate()
    _record(
        officer,
        ServiceLog(
            village_id=ARJOWILANGUN,
            date=today,
            service_type=ServiceType.INFORMATION,
            person=person,
            officer=officer,
        ),
        PillarKind.SERVICE_CENTRE,
    )
    _record(
        officer,
        Case(
            village_id=ARJOWILANGUN,
            person=person,
            case_type=Case.Type.UNPAID_WAGES,
            channel=Case.Channel.PHONE,
            reported_on=today,
            summary="Matrix: moved away since",
        ),
        PillarKind.SERVICE_CENTRE,
    )
    enterprise = _record(
        officer,
        Enterprise(
            village_id=ARJOWILANGUN,
            owner=person,
            name="Warung Pindah",
            sector=Enterprise.Sector.FOOD,
        ),
        PillarKind.ENTERPRISE,
    )
    _record(
        officer,
        Referral(
            village_id=ARJOWILANGUN,
            programme=PartnerProgramme.objects.filter(active=True).order_by("pk").first(),
            person=person,
            enterprise=enterprise,
            referred_on=today - datetime.timedelta(days=1),
        ),
        PillarKind.ENTERPRISE,
    )
    cooperative = Cooperative.objects.filter(village_id=ARJOWILANGUN).first()
    _record(
        officer,
        CooperativeMember(
            village_id=ARJOWILANGUN, cooperative=cooperative, person=person, joined_on=today
        ),
        PillarKind.COOPERATIVE,
    )
    Training.objects.filter(village_id=ARJOWILANGUN).first().participants.add(person)
    register_services.person_transfer(
        person=person,
        to_village=Region.objects.get(code=KENANGA),
        actor=users["admin"],
        reason="Matrix: moved to Indramayu",
    )
    registered = people.pop()  # as _person noted it, in Arjowilangun
    people.append(replace(registered, village=KENANGA))


def _correction(officer: User, person: Person):
    """A data subject's correction request (the personal-data pages)."""
    from migrants.privacy import correction_record

    return correction_record(
        person=person,
        actor=officer,
        wrong="Matrix: the birth place",
        requested_change="Matrix: Malang",
    )


def _register_import(officer: User, village: str, tag: str, people: list[Seeded]):
    from migrants.importer import import_upload, validate_batch
    from tests.migrants.files import row, xlsx_bytes

    name = f"Berkas {tag}matrix"
    nik = _nik(village)
    data = xlsx_bytes(
        [
            row(NIK=nik, Nama_Lengkap=name, Kode_Desa=village),
            # A row with an error, so the error report has something to say.
            row(NIK="123", Nama_Lengkap=f"Salah {tag}matrix", Kode_Desa=village),
        ]
    )
    people.append(Seeded(name=name, nik=nik, kk="", village=village))
    people.append(Seeded(name=f"Salah {tag}matrix", nik=None, kk="", village=village))
    batch = import_upload(actor=officer, data=data, filename=f"register-{tag}.xlsx")
    validate_batch(batch_id=str(batch.pk))
    return batch


def _pillar_import(officer: User, village: str):
    from pillars import imports
    from pillars.models import PillarImport

    target = PillarImport.Target.ENTERPRISES
    data = imports.template_xlsx(imports.spec_for(target), references=None)
    return imports.import_upload(
        actor=officer, target=target, village=village, data=data, filename="pilar.xlsx"
    )


def _job(user: User, scope: str | None) -> ReportJob:
    month = (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    job = report_services.request_report(
        user=user,
        kind=ReportKind.REGISTER,
        format=ReportFormat.XLSX,
        scope_code=scope,
        period_start=month,
        period_end=month,
    )
    report_services.run_job(job.pk)
    return ReportJob.objects.get(pk=job.pk)


def build_world() -> World:
    regions_load(regions=WORLD_REGIONS, edition="test", source="tests")
    users = {user.username: user for user in seed_demo(password=PASSWORD)}
    users["deactivated_officer"] = _user(
        "deactivated_officer", Role.VILLAGE_OFFICER, ARJOWILANGUN, is_active=False
    )
    users["officer_brongkal"] = _user("officer_brongkal", Role.VILLAGE_OFFICER, BRONGKAL)
    users["target_a"] = _user("target_a", Role.VILLAGE_OFFICER, ARJOWILANGUN)
    users["target_k"] = _user("target_k", Role.VILLAGE_OFFICER, KENANGA)
    users[NO_MFA] = _user(NO_MFA, Role.COORDINATOR, "35.07", is_staff=True)
    other_pillar = Pillar.objects.create(
        variant=ProgrammeVariant.objects.get(code="desmigratif-4-pilar"),
        order=9,
        code="matrix-lain",
        name="Pilar lain (matrix)",
        kind=PillarKind.OTHER,
    )
    people: list[Seeded] = []
    sides = {
        "A": _side(
            tag="Arjo",
            village=ARJOWILANGUN,
            regency="35.07",
            officer=users["officer_arjowilangun"],
            coordinator=users["coordinator_malang"],
            target=users["target_a"],
            people=people,
            other_pillar=other_pillar,
        ),
        "K": _side(
            tag="Kena",
            village=KENANGA,
            regency="32.12",
            officer=users["officer_kenanga"],
            coordinator=users["coordinator_indramayu"],
            target=users["target_k"],
            people=people,
            other_pillar=other_pillar,
        ),
        "missing": _missing_side(),
    }
    _moved_away(people, users, other_pillar)
    # Someone of another village of the same regency, and of a third province.
    _person(people, users["officer_brongkal"], BRONGKAL, "Painem Brongmatrix")
    _person(people, users["admin"], KURIPAN, "Sarinah Kuripmatrix")

    world = World(users=users, sides=sides, people=people)
    world.jobs = {
        "A": _job(users["officer_arjowilangun"], ARJOWILANGUN),
        "K": _job(users["officer_kenanga"], KENANGA),
        "35.07": _job(users["coordinator_malang"], "35.07"),
        "32.12": _job(users["coordinator_indramayu"], "32.12"),
        "35": _job(users["province_jatim"], "35"),
        "national": _job(users["evaluator"], None),
    }
    sides["A"].job = world.jobs["A"].pk
    sides["K"].job = world.jobs["K"].pk
    for side in ("A", "K"):
        job = world.jobs[side]
        sides[side].download = ReportDownload.objects.create(job=job, user=job.requested_by).pk

    for persona, username in [*USERNAMES.items(), (NO_MFA, NO_MFA)]:
        if username is None:
            continue
        world.sessions[persona] = signed_in_session(users[username])
        token, secret = AuthToken.objects.create(user=users[username])
        world.tokens[persona] = secret
        world.token_digests[persona] = token.digest
    return world


def signed_in_session(user: User) -> str:
    """A session key of the user, signed in and having just confirmed the password: exports and
    downloads ask for that again (accounts.reauth), and the matrix is about what they show."""
    from allauth.account.internal.flows.login import (
        _AUTHENTICATION_METHODS_USER_SESSION_KEY,
        AUTHENTICATION_METHODS_SESSION_KEY,
    )

    client = Client()
    client.force_login(user)
    session = client.session
    # Dated ahead so that the confirmation still counts however long the module runs.
    session[AUTHENTICATION_METHODS_SESSION_KEY] = [
        {"method": "password", "at": time.time() + 24 * 3600, "reauthenticated": True}
    ]
    session[_AUTHENTICATION_METHODS_USER_SESSION_KEY] = str(user.pk)
    session.save()
    return session.session_key
