"""The demo world of `seed_demo`: the 2016 pilots and Kab. Malang's four villages."""

import datetime

from django.db import transaction

from accounts.models import Role, User
from pillars.models import ProgrammeVariant
from villages.models import Designation, Region

DEMO_VILLAGES = [
    # code, cohort year, start date
    ("32.12.16.2004", 2016, datetime.date(2016, 11, 1)),  # Kenanga, Sindang, Indramayu
    ("33.07.10.2004", 2016, datetime.date(2016, 11, 1)),  # Kuripan, Watumalang, Wonosobo
    ("35.07.11.2008", 2017, datetime.date(2017, 9, 11)),  # Arjowilangun, Kalipare, Malang
    ("35.07.11.2003", 2018, datetime.date(2018, 3, 1)),  # Sumberpetung, Kalipare, Malang
    ("35.07.33.2004", 2018, datetime.date(2018, 3, 1)),  # Balearjo, Pagelaran, Malang
    ("35.07.33.2006", 2019, datetime.date(2019, 2, 1)),  # Brongkal, Pagelaran, Malang
]

DEMO_USERS = [
    # username, first name, last name, role, scope code
    ("officer_arjowilangun", "Siti", "Aminah", Role.VILLAGE_OFFICER, "35.07.11.2008"),
    ("officer_kenanga", "Dedi", "Supriadi", Role.VILLAGE_OFFICER, "32.12.16.2004"),
    ("head_arjowilangun", "Slamet", "Riyadi", Role.VILLAGE_HEAD, "35.07.11.2008"),
    ("coordinator_malang", "Rina", "Wulandari", Role.COORDINATOR, "35.07"),
    ("coordinator_indramayu", "Asep", "Hidayat", Role.COORDINATOR, "32.12"),
    ("province_jatim", "Budi", "Santoso", Role.PROVINCE_VIEWER, "35"),
    ("evaluator", "Dewi", "Lestari", Role.EVALUATOR, None),
    ("admin", "Admin", "Kementerian", Role.MINISTRY_ADMIN, None),
]


class RegionsMissing(Exception):
    pass


@transaction.atomic
def seed_demo(*, password: str) -> list[User]:
    """Create or refresh the demo designations and users; safe to run again."""
    codes = [code for code, _year, _start in DEMO_VILLAGES]
    found = set(Region.objects.filter(code__in=codes).values_list("code", flat=True))
    if found != set(codes):
        raise RegionsMissing(sorted(set(codes) - found))
    variant = ProgrammeVariant.objects.get(code="desmigratif-4-pilar")
    for code, year, start in DEMO_VILLAGES:
        Designation.objects.update_or_create(
            village_id=code,
            defaults={
                "cohort_year": year,
                "variant": variant,
                "status": Designation.Status.ACTIVE,
                "start_date": start,
                "decree_reference": f"Data demo: penetapan Desmigratif angkatan {year}",
            },
        )
    users = []
    for username, first, last, role, scope in DEMO_USERS:
        user, _created = User.objects.update_or_create(
            username=username,
            defaults={
                "first_name": first,
                "last_name": last,
                "email": f"{username}@example.org",
                "role": role,
                "scope_id": scope,
                "is_active": True,
                "is_staff": role in (Role.COORDINATOR, Role.MINISTRY_ADMIN),
                "is_superuser": username == "admin",
            },
        )
        user.set_password(password)
        user.save(update_fields=["password"])
        users.append(user)
        if role in (Role.VILLAGE_OFFICER, Role.VILLAGE_HEAD):
            Designation.objects.get(village_id=scope).officers.add(user)
    return users
