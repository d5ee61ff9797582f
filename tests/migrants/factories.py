"""People and migrations for the register tests, made through the services.

The services derive the status, normalise the NIK and write the history; building rows by
hand would skip exactly what the tests are about. Each helper takes the acting user.
"""

import datetime
import itertools
from typing import Any

from django.utils import timezone

from accounts.models import User
from migrants import services
from migrants.models import Episode, Person, ReturnReason
from migrants.nik import nik_for
from villages.models import Region

ARJOWILANGUN = "35.07.11.2008"  # Kalipare, Kab. Malang
SUMBERPETUNG = "35.07.11.2003"  # Kalipare, Kab. Malang
BALEARJO = "35.07.33.2004"  # Pagelaran, Kab. Malang
BRONGKAL = "35.07.33.2006"  # Pagelaran, Kab. Malang
KENANGA = "32.12.16.2004"  # Sindang, Kab. Indramayu
KURIPAN = "33.07.10.2004"  # Watumalang, Kab. Wonosobo

BORN = datetime.date(1990, 1, 2)
DEPARTED = datetime.date(2023, 3, 1)
RETURNED = datetime.date(2024, 3, 1)

_serials = itertools.count()
_names = itertools.count(1)
_NEW = object()


def a_nik(*, village: str = ARJOWILANGUN, birth_date: datetime.date = BORN, sex: str = "P") -> str:
    """A valid NIK never handed out before in this test run, issued in the village's district."""
    return nik_for(
        district_code=village[:8],
        birth_date=birth_date,
        sex=sex,
        serial=next(_serials) % 9999 + 1,
    )


def a_kk(*, village: str = ARJOWILANGUN) -> str:
    """A valid No. KK (issued 1 Feb 2010) in the village's district."""
    return f"{village[:8].replace('.', '')}010210{next(_serials) % 9999 + 1:04d}"


def child_birth_date() -> datetime.date:
    """Ten years old today: a child whatever day the tests run."""
    return timezone.localdate() - datetime.timedelta(days=10 * 365)


def register(
    *,
    actor: User,
    village: str = ARJOWILANGUN,
    nik: Any = _NEW,
    full_name: str | None = None,
    sex: str = "P",
    birth_date: datetime.date = BORN,
    **data: Any,
) -> Person:
    """Register a person through the service; a fresh valid NIK unless `nik` is given (None:
    no NIK)."""
    if nik is _NEW:
        nik = a_nik(village=village, birth_date=birth_date, sex=sex)
    return services.person_register(
        village=Region.objects.get(code=village),
        data={
            "nik": nik,
            "full_name": full_name or f"Warga Uji {next(_names)}",
            "sex": sex,
            "birth_date": birth_date,
            **data,
        },
        actor=actor,
    )


def plan(person: Person, *, actor: User, country: str = "HK", **data: Any) -> Episode:
    """Register a migration that has not departed yet (the person becomes CPMI)."""
    return services.episode_add(
        person=person, data={"destination_country": country, **data}, actor=actor
    )


def depart(
    person: Person,
    *,
    actor: User,
    on: datetime.date = DEPARTED,
    country: str = "HK",
    **data: Any,
) -> Episode:
    return services.person_record_departure(
        person=person,
        data={"departure_date": on, "destination_country": country, **data},
        actor=actor,
    )


def come_home(
    person: Person,
    *,
    actor: User,
    on: datetime.date = RETURNED,
    reason: str = ReturnReason.CONTRACT_ENDED,
) -> Episode:
    return services.person_record_return(
        person=person, data={"return_date": on, "return_reason": reason}, actor=actor
    )


def household(
    *, actor: User, size: int, village: str = ARJOWILANGUN, no_kk: str | None = None
) -> list[Person]:
    """`size` people sharing one No. KK, each with a migration (planned, abroad or home)."""
    no_kk = no_kk or a_kk(village=village)
    people = []
    for n in range(size):
        person = register(actor=actor, village=village, no_kk=no_kk)
        if n % 3 == 0:
            plan(person, actor=actor)
        elif n % 3 == 1:
            depart(person, actor=actor, country="TW")
        else:
            depart(person, actor=actor, country="MY")
            come_home(person, actor=actor)
        people.append(person)
    return people


def person_form(**overrides: Any) -> dict[str, str]:
    """What the register form posts for a person (all fields, the optional ones empty)."""
    return {
        "village": ARJOWILANGUN,
        "nik": "",
        "no_kk": "",
        "full_name": "Warga Formulir",
        "sex": "P",
        "birth_place": "",
        "birth_date": BORN.isoformat(),
        "dusun": "",
        "rt": "",
        "rw": "",
        "address": "",
        "phone": "",
        "education": "",
        "marital_status": "",
        "relationship": "",
        **overrides,
    }


def fresh(person: Person) -> Person:
    """The person as the database has it now (deleted ones included)."""
    return Person.objects.get(pk=person.pk)
