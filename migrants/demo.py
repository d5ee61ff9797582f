"""The demo register of `seed_demo`: a few hundred people in the six demo villages.

Households share a No. KK; NIKs agree with birth date, sex and district; workers go where
workers from these regencies go, in the jobs the agencies write down. Everything comes from
`random.Random(2017)` and today's date, so a run on a given day always gives the same people.

It writes through `migrants.services`, acting as the village's demo officer (or the regency
coordinator, or the ministry admin where the demo has no officer), so the history of each
record reads like real work: registered, migration recorded, departed, returned, submitted,
verified. A whole village is one transaction.
"""

import datetime
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from accounts.models import User
from migrants.models import (
    EmployerType,
    Episode,
    Person,
    PersonHistory,
    PlacementScheme,
    Procedural,
    Relationship,
    ReturnReason,
    Sector,
    Status,
    Verification,
)
from migrants.nik import nik_for
from migrants.services import (
    episode_add,
    episode_update,
    person_register,
    person_send_back,
    persons_submit,
    persons_verify,
)
from villages.models import Region

SEED = 2017
SOURCE = "demo"
EARLIEST_DEPARTURE = datetime.date(2015, 1, 1)
# Passports issued from this date (Permenkumham 18/2022) are valid for ten years, before it five.
TEN_YEAR_PASSPORTS = datetime.date(2022, 10, 12)
MIN_WORKING_AGE = 19
# The villages have kept the register in the system for this long; older migrations were
# typed in from paper at once, newer ones recorded step by step (see _write_episode).
LIVE_DAYS = 365

# --- Names and places -------------------------------------------------------------------------

JAVANESE_WOMEN = [
    "Siti Aminah", "Sri Wahyuni", "Dewi Lestari", "Tri Handayani", "Nur Hidayah", "Suwarni",
    "Sulastri", "Sumiati", "Endang Susilowati", "Yuli Astutik", "Lilik Nurhayati",
    "Wiwik Setyowati", "Ani Rahayu", "Sri Mulyani", "Siti Fatimah", "Umi Kulsum", "Nanik Suryani",
    "Puji Lestari", "Titik Susanti", "Erna Wati", "Dwi Ningsih", "Eka Kurniawati", "Sutini",
    "Marsini", "Tumini", "Sriatun", "Sumarni", "Juwariyah", "Musripah", "Siti Khotimah",
    "Rina Wulandari", "Yuni Sarah", "Kasiyem", "Suprihatin", "Wahyu Ningsih", "Anik Mardiyah",
]  # fmt: skip
JAVANESE_MEN = [
    "Kusnadi", "Slamet", "Agus Salim", "Darsono", "Suparman", "Sutikno", "Wahyudi", "Sugianto",
    "Suwandi", "Mujiono", "Paiman", "Sumadi", "Kasiran", "Ngatman", "Agus Setiawan",
    "Eko Prasetyo", "Budi Santoso", "Joko Susilo", "Heri Purnomo", "Imam Safii",
    "Bambang Sutrisno", "Sugeng Riyadi", "Dwi Cahyono", "Moch. Arifin", "Muhammad Ridwan",
    "Ahmad Fauzi", "Hadi Sucipto", "Yudi Hartono", "Samsul Huda", "Mulyono",
]  # fmt: skip
INDRAMAYU_WOMEN = [
    "Wartini", "Casmini", "Tarsih", "Rasinah", "Warsinah", "Carinah", "Karsinah", "Daswinah",
    "Sunarsih", "Taryem", "Darini", "Ratnasih", "Kartini", "Wasriah", "Tarminah", "Caswati",
    "Darsih", "Rusminah", "Sanirah", "Nur Hidayah", "Siti Aminah", "Siti Masitoh",
    "Euis Kurniasih", "Neneng Hasanah", "Iis Rohaeti", "Entin Kartini", "Dewi Lestari",
    "Sri Wahyuni", "Yuyun Yuningsih", "Cucu Sumarni",
]  # fmt: skip
INDRAMAYU_MEN = [
    "Darsono", "Kusnadi", "Warsita", "Caswadi", "Tarmuji", "Rasdi", "Wartono", "Carmadi",
    "Dasuki", "Sukarta", "Karsono", "Kadmiri", "Taryono", "Casmadi", "Warsono",
    "Asep Saepudin", "Dedi Kurniawan", "Ujang Suherman", "Yayan Sopyan", "Agus Salim", "Slamet",
    "Tarsono", "Rusdi", "Kardi",
]  # fmt: skip
# Names given since the mid-1990s, in both regions.
YOUNG_WOMEN = [
    "Nabila Putri", "Dinda Ayu Lestari", "Salsabila", "Aisyah Nur Azizah", "Citra Dewi",
    "Keisha Aulia", "Zahra Amelia", "Nayla Putri Ramadhani", "Alya Safitri", "Anisa Rahma",
    "Putri Handayani", "Siti Nurhaliza", "Intan Permatasari", "Dewi Anggraini", "Riska Amalia",
    "Novi Astuti", "Fitri Wulandari", "Indah Purnamasari",
]  # fmt: skip
YOUNG_MEN = [
    "Aditya Pratama", "Rizky Ramadhan", "Fajar Nugroho", "Muhammad Rafi", "Bima Saputra",
    "Naufal Hakim", "Dimas Aditya", "Farhan Maulana", "Ilham Akbar", "Reza Firmansyah",
    "Galang Prakoso", "Arya Wibowo", "Yoga Pratama", "Andi Setiawan", "Rendi Kurniawan",
]  # fmt: skip


@dataclass(frozen=True)
class DemoVillage:
    code: str
    name: str
    birth_place: str
    nearby_birth_places: tuple[str, ...]
    women: list[str]
    men: list[str]
    dusuns: tuple[str, ...]
    registrar: str  # the demo user who enters the records
    verifier: str  # the demo user who verifies them
    agencies: tuple[int, ...]  # indexes into AGENCIES: those with a branch in the regency
    size: tuple[int, int]  # people, at least and at most
    country_tilt: dict[str, float] = field(default_factory=dict)


DEMO_REGISTER_VILLAGES = [
    DemoVillage(
        "32.12.16.2004", "Kenanga", "Indramayu", ("Cirebon", "Majalengka"),
        INDRAMAYU_WOMEN, INDRAMAYU_MEN, ("Blok Kenanga", "Blok Pasar", "Blok Tegal", "Blok Sawah"),
        "officer_kenanga", "coordinator_indramayu", (0, 2, 4, 6), (70, 90),
        # Indramayu sent many women to the Gulf before the 2015 moratorium; some still go.
        {"SA": 2.5, "TW": 1.2},
    ),
    DemoVillage(
        "33.07.10.2004", "Kuripan", "Wonosobo", ("Banjarnegara", "Temanggung"),
        JAVANESE_WOMEN, JAVANESE_MEN, ("Kuripan", "Krajan", "Gondang"),
        # No officer and no coordinator for Wonosobo in the demo: the ministry admin enters it.
        "admin", "admin", (1, 3, 5), (50, 65), {"HK": 1.3, "SG": 1.3},
    ),
    DemoVillage(
        "35.07.11.2008", "Arjowilangun", "Malang", ("Blitar", "Kediri"),
        JAVANESE_WOMEN, JAVANESE_MEN, ("Krajan", "Sumberagung", "Jeruk", "Kedungsalam"),
        "officer_arjowilangun", "coordinator_malang", (0, 1, 3, 5), (75, 90),
    ),
    DemoVillage(
        "35.07.11.2003", "Sumberpetung", "Malang", ("Blitar",),
        JAVANESE_WOMEN, JAVANESE_MEN, ("Krajan", "Sumberpetung", "Rejoslamet"),
        "coordinator_malang", "coordinator_malang", (0, 3, 5), (55, 70),
    ),
    DemoVillage(
        "35.07.33.2004", "Balearjo", "Malang", ("Blitar", "Lumajang"),
        JAVANESE_WOMEN, JAVANESE_MEN, ("Krajan", "Balearjo", "Sumbersari"),
        "coordinator_malang", "coordinator_malang", (1, 3, 5), (50, 65),
    ),
    DemoVillage(
        "35.07.33.2006", "Brongkal", "Malang", ("Kediri",),
        JAVANESE_WOMEN, JAVANESE_MEN, ("Krajan", "Brongkal", "Sumberbendo"),
        "coordinator_malang", "coordinator_malang", (0, 1, 5), (55, 70),
    ),
]  # fmt: skip

# --- Jobs, countries, agencies ----------------------------------------------------------------

DOMESTIC = "Penata Laksana Rumah Tangga (domestic worker)"
CAREGIVER = "Caregiver"
FACTORY = "Operator Pabrik"
PLANTATION = "Pekerja Perkebunan"
FISHING = "ABK Perikanan"
CONSTRUCTION = "Pekerja Konstruksi"

# Who employs whom: households are individual employers (informal sector); caregivers in
# Japan work in care homes, so they are formal like factory, plantation, ship and site work.
HOUSEHOLD_JOBS = {DOMESTIC, CAREGIVER}

WOMEN_COUNTRIES = {"HK": 30, "TW": 26, "MY": 16, "SG": 10, "SA": 9, "JP": 5, "KR": 4}
MEN_COUNTRIES = {"MY": 40, "TW": 24, "KR": 14, "JP": 10, "SA": 7, "SG": 5}
WOMEN_JOBS = {
    "HK": {DOMESTIC: 88, CAREGIVER: 12},
    "TW": {CAREGIVER: 60, DOMESTIC: 15, FACTORY: 25},
    "MY": {DOMESTIC: 55, FACTORY: 35, PLANTATION: 10},
    "SG": {DOMESTIC: 90, CAREGIVER: 10},
    "SA": {DOMESTIC: 100},
    "JP": {CAREGIVER: 60, FACTORY: 40},
    "KR": {FACTORY: 100},
}
MEN_JOBS = {
    "MY": {PLANTATION: 45, CONSTRUCTION: 30, FACTORY: 25},
    "TW": {FACTORY: 55, FISHING: 30, CONSTRUCTION: 15},
    "KR": {FACTORY: 75, FISHING: 20, CONSTRUCTION: 5},
    "JP": {FACTORY: 50, CONSTRUCTION: 30, FISHING: 20},
    "SA": {CONSTRUCTION: 100},
    "SG": {CONSTRUCTION: 60, FACTORY: 25, FISHING: 15},
}
CONTRACT_DAYS = {"KR": 4 * 365 + 300, "JP": 3 * 365}  # EPS: 4 years 10 months; others 2 years
DEFAULT_CONTRACT_DAYS = 2 * 365

# Fictional placement agencies (P3MI) and their licences.
AGENCIES = [
    ("PT Sumber Rezeki Jaya", "Kepmenaker No. 112 Tahun 2019"),
    ("PT Mitra Karya Sejahtera", "Kepmenaker No. 87 Tahun 2020"),
    ("PT Bintang Timur Abadi", "Kepmenaker No. 145 Tahun 2018"),
    ("PT Cahaya Harapan Mandiri", "Kepmenaker No. 203 Tahun 2019"),
    ("PT Duta Insani Makmur", "Kepmenaker No. 58 Tahun 2021"),
    ("PT Arta Buana Karya", "Kepmenaker No. 176 Tahun 2017"),
    ("PT Lintas Samudra Perkasa", "Kepmenaker No. 31 Tahun 2022"),
]
# Fictional foreign partners (agencies abroad) for P to P placements.
PARTNERS = {
    "HK": ["Bright Star Employment Agency Ltd.", "Harbour Home Helpers Agency"],
    "TW": ["Formosa Harmony Manpower Co., Ltd.", "Jade Mountain Human Resources Co."],
    "MY": ["Sinar Harapan Recruitment Sdn. Bhd.", "Bukit Hijau Plantation Services Sdn. Bhd."],
    "SG": ["Lion City Home Care Agency Pte. Ltd.", "Merlion Manpower Pte. Ltd."],
    "SA": ["Al-Waha Recruitment Office", "Riyadh Golden Services Est."],
    "JP": ["Sakura Ginou Kumiai", "Nagoya Career Support Co."],
    "KR": ["Hanbit Manpower Co."],
}
# The government bodies on the other side of G to G programmes.
G2G_PARTNERS = {"KR": "HRD Korea (EPS)", "JP": "JICWELS (IJEPA)"}

# The share of each status in a village's register; the rest are family members.
SHARES = {Status.PMI: 0.35, Status.PURNA: 0.35, Status.CPMI: 0.15}
RETURN_REASONS = {
    ReturnReason.CONTRACT_ENDED: 72,
    ReturnReason.LEAVE: 10,
    ReturnReason.PROBLEM: 10,
    ReturnReason.DEPORTED: 8,
}
STREETS = ["Jl. Raya {village}", "Jl. Masjid", "Jl. Kenari", "Gang Mawar", "Jl. Balai Desa"]
SEND_BACK_NOTES = [
    "Tanggal lahir tidak sesuai dengan NIK; mohon dicek dengan KTP/KK.",
    "NIK tidak cocok dengan tanggal lahir di KK; mohon diperbaiki.",
]

# Episode fields entered at each step of a migration, as an officer would.
DEPARTURE_FIELDS = ("departure_date", "contract_start", "contract_end")
RETURN_FIELDS = ("return_date", "return_reason")


# --- The specification of the register (no database) -----------------------------------------


@dataclass
class PersonSpec:
    data: dict[str, Any]
    episodes: list[dict[str, Any]] = field(default_factory=list)
    verification: str = Verification.VERIFIED
    send_back_note: str = ""
    nik_mismatch: bool = False  # the NIK's date deliberately disagrees with the birth date

    @property
    def status(self) -> str:
        if not self.episodes:
            return Status.FAMILY
        last = self.episodes[-1]
        if last.get("return_date"):
            return Status.PURNA
        return Status.PMI if last.get("departure_date") else Status.CPMI


@dataclass
class VillageSpec:
    village: DemoVillage
    persons: list[PersonSpec]


def _weighted(rng: random.Random, weights: dict) -> Any:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[key] for key in keys])[0]


def _days(rng: random.Random, start: datetime.date, end: datetime.date) -> datetime.date:
    """A random date from start to end, both included (start when the range is empty)."""
    return start + datetime.timedelta(days=rng.randint(0, max(0, (end - start).days)))


def _years_after(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _birth(rng: random.Random, today: datetime.date, age_min: int, age_max: int):
    """A birth date for someone aged age_min to age_max today."""
    oldest = _years_after(today, -(age_max + 1)) + datetime.timedelta(days=1)
    youngest = _years_after(today, -age_min)
    return _days(rng, oldest, youngest)


def _age(born: datetime.date, today: datetime.date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


class _Numbers:
    """Unique NIK and No. KK serials per district, skipping numbers already in the database."""

    def __init__(self, taken: set[str]):
        self.taken = taken
        self.serials: Counter[str] = Counter()

    def next(self, prefix: str, make: Callable[[int], str]) -> str:
        while True:
            self.serials[prefix] += 1
            number = make(self.serials[prefix])
            if number not in self.taken:
                self.taken.add(number)
                return number


class _Builder:
    def __init__(self, rng: random.Random, today: datetime.date, taken: set[str]):
        self.rng = rng
        self.today = today
        self.niks = _Numbers(taken)
        self.kks = _Numbers(set(taken))
        self.passports = 0

    # People -------------------------------------------------------------------------------

    def name(self, village: DemoVillage, sex: str, born: datetime.date) -> str:
        rng = self.rng
        young = born.year >= 1995 and rng.random() < 0.7
        if sex == "P":
            return rng.choice(YOUNG_WOMEN if young else village.women)
        return rng.choice(YOUNG_MEN if young else village.men)

    def education(self, born: datetime.date) -> str:
        age = _age(born, self.today)
        if age < 7:
            return ""
        if age < 13:
            return "sd"
        if age < 16:
            return "smp"
        if age < 19:
            return "sma"
        weights = (
            {"none": 8, "sd": 50, "smp": 30, "sma": 12}
            if born.year < 1970
            else {"sd": 22, "smp": 40, "sma": 33, "diploma": 3, "s1": 2}
        )
        return _weighted(self.rng, weights)

    def phone(self) -> str:
        prefix = self.rng.choice(["812", "813", "852", "853", "857", "877", "878", "895", "896"])
        return f"0{prefix}{self.rng.randint(10_000_000, 99_999_999)}"

    def person(
        self,
        village: DemoVillage,
        *,
        sex: str,
        born: datetime.date,
        relationship: str,
        marital: str,
        home: dict[str, str],
        birth_place: str | None = None,
    ) -> PersonSpec:
        adult = _age(born, self.today) >= 17
        return PersonSpec(
            data={
                "full_name": self.name(village, sex, born),
                "sex": sex,
                "birth_place": birth_place or village.birth_place,
                "birth_date": born,
                "relationship": relationship,
                "marital_status": marital,
                "education": self.education(born),
                "phone": self.phone() if adult and self.rng.random() < 0.7 else "",
                **home,
            }
        )

    def household(self, village: DemoVillage) -> list[PersonSpec]:
        """The members of one family card that the register holds.

        Villages record workers and the family they leave behind, not every resident: half
        of the cards bring only the worker, a quarter only the couple, a fifth the children
        (and sometimes a grandparent) too.
        """
        rng, today = self.rng, self.today
        dusun = rng.choice(village.dusuns)
        home = {
            "dusun": dusun,
            "rt": f"{rng.randint(1, 9):03d}",
            "rw": f"{rng.randint(1, 5):03d}",
            "address": (
                f"{rng.choice(STREETS).format(village=village.name)} No. {rng.randint(1, 120)}"
                if rng.random() < 0.3
                else ""
            ),
        }
        kind = _weighted(rng, {"family": 21, "couple": 25, "single": 54})
        if kind == "single":
            # A young worker on the parents' card, or a woman who heads her own.
            sex = "P" if rng.random() < 0.75 else "L"
            if rng.random() < 0.6:
                born = _birth(rng, today, 20, 30)
                relationship, marital = Relationship.CHILD, "single"
            else:
                born = _birth(rng, today, 26, 48)
                marital = _weighted(rng, {"divorced": 6, "widowed": 2, "married": 4})
                # A married woman's card is headed by her husband, who is not on the register.
                married_woman = marital == "married" and sex == "P"
                relationship = Relationship.SPOUSE if married_woman else Relationship.HEAD
            return [
                self.person(
                    village,
                    sex=sex,
                    born=born,
                    relationship=relationship,
                    marital=marital,
                    home=home,
                )
            ]
        head_born = _birth(rng, today, 24, 58)
        members = [
            self.person(
                village,
                sex="L",
                born=head_born,
                relationship=Relationship.HEAD,
                marital="married",
                home=home,
            )
        ]
        gap = datetime.timedelta(days=rng.randint(-400, 2500))
        wife_born = min(head_born + gap, _birth(rng, today, 21, 21))
        place = rng.choice(village.nearby_birth_places) if rng.random() < 0.12 else None
        members.append(
            self.person(
                village,
                sex="P",
                born=wife_born,
                relationship=Relationship.SPOUSE,
                marital="married",
                home=home,
                birth_place=place,
            )
        )
        if kind == "couple":
            return members
        # Children born from the mother's 20th year until she is 42 or today.
        first_child = _years_after(wife_born, 20)
        last_child = min(_years_after(wife_born, 42), today - datetime.timedelta(days=30))
        children = _weighted(rng, {1: 50, 2: 38, 3: 12}) if first_child < last_child else 0
        for _child in range(children):
            born = _days(rng, first_child, last_child)
            members.append(
                self.person(
                    village,
                    sex=rng.choice("LP"),
                    born=born,
                    relationship=Relationship.CHILD,
                    marital="single" if _age(born, today) >= 17 else "",
                    home=home,
                )
            )
        if _age(head_born, today) < 45 and rng.random() < 0.15:
            members.append(
                self.person(
                    village,
                    sex=rng.choice("LP"),
                    born=_years_after(head_born, -rng.randint(22, 30)),
                    relationship=rng.choice([Relationship.PARENT, Relationship.PARENT_IN_LAW]),
                    marital="widowed",
                    home=home,
                )
            )
        return members

    def identity_numbers(self, village: DemoVillage, members: list[PersonSpec]) -> None:
        """One No. KK for the household, issued after its youngest member's birth; NIKs."""
        rng, today = self.rng, self.today
        district = village.code.rsplit(".", 1)[0]
        youngest = max(member.data["birth_date"] for member in members)
        issued = _days(
            rng,
            max(datetime.date(2012, 1, 1), youngest + datetime.timedelta(days=20)),
            today - datetime.timedelta(days=14),
        )
        digits = district.replace(".", "")
        no_kk = self.kks.next(digits, lambda serial: f"{digits}{issued:%d%m%y}{serial:04d}")
        for member in members:
            member.data["no_kk"] = no_kk
            member.data["nik"] = self.nik(district, member.data["birth_date"], member.data["sex"])

    def nik(self, district: str, born: datetime.date, sex: str) -> str:
        return self.niks.next(
            district,
            lambda serial: nik_for(district_code=district, birth_date=born, sex=sex, serial=serial),
        )

    # Migrations ---------------------------------------------------------------------------

    def job(self, village: DemoVillage, sex: str) -> tuple[str, str]:
        base = WOMEN_COUNTRIES if sex == "P" else MEN_COUNTRIES
        weights = {
            code: weight * village.country_tilt.get(code, 1) for code, weight in base.items()
        }
        country = _weighted(self.rng, weights)
        job = _weighted(self.rng, (WOMEN_JOBS if sex == "P" else MEN_JOBS)[country])
        return country, job

    def placement(self, village: DemoVillage, country: str, job: str) -> dict[str, Any]:
        """Who placed the worker and how; procedural status and its source."""
        rng = self.rng
        household = job in HOUSEHOLD_JOBS and country != "JP"
        episode: dict[str, Any] = {
            "destination_country": country,
            "job_title": job,
            "sector": Sector.INFORMAL if household else Sector.FORMAL,
            "employer_type": EmployerType.INDIVIDUAL if household else EmployerType.LEGAL_ENTITY,
        }
        g2g = country == "KR" or (country == "JP" and (job == CAREGIVER or rng.random() < 0.4))
        if g2g:
            procedural = Procedural.PROCEDURAL
        elif country == "SA" and household:
            # Domestic work in Saudi Arabia has been closed since 2015: most go around it.
            procedural = _weighted(rng, {"non_procedural": 65, "unknown": 20, "procedural": 15})
        elif country == "MY" and household:
            procedural = _weighted(rng, {"non_procedural": 40, "unknown": 15, "procedural": 45})
        elif country == "MY":
            procedural = _weighted(rng, {"non_procedural": 15, "unknown": 10, "procedural": 75})
        else:
            procedural = _weighted(rng, {"procedural": 88, "unknown": 7, "non_procedural": 5})
        episode["procedural_status"] = procedural
        episode["procedural_source"] = {
            Procedural.PROCEDURAL: _weighted(
                rng, {"national_register": 60, "officer": 25, "self_reported": 15}
            ),
            Procedural.NON_PROCEDURAL: _weighted(rng, {"officer": 60, "self_reported": 40}),
            Procedural.UNKNOWN: "",
        }[procedural]
        if g2g:
            episode["placement_scheme"] = PlacementScheme.G_TO_G
            episode["foreign_partner"] = G2G_PARTNERS[country]
            episode["bpjs_member"] = True
        elif procedural == Procedural.NON_PROCEDURAL:
            episode["placement_scheme"] = PlacementScheme.MANDIRI if rng.random() < 0.5 else ""
            episode["bpjs_member"] = False if rng.random() < 0.7 else None
        elif not household and rng.random() < 0.12:
            episode["placement_scheme"] = PlacementScheme.MANDIRI
            episode["bpjs_member"] = rng.random() < 0.8
        else:
            name, licence = AGENCIES[rng.choice(village.agencies)]
            episode["placement_scheme"] = PlacementScheme.P_TO_P
            episode["p3mi_name"] = name
            episode["p3mi_licence"] = licence
            episode["foreign_partner"] = rng.choice(PARTNERS[country])
            episode["bpjs_member"] = (
                None if procedural == Procedural.UNKNOWN else rng.random() < 0.92
            )
        return episode

    def passport(self, episode: dict[str, Any], issued: datetime.date) -> None:
        if episode["procedural_status"] == Procedural.NON_PROCEDURAL and self.rng.random() < 0.4:
            return  # crossed over without one
        self.passports += 1
        letter = "E" if issued >= datetime.date(2020, 1, 1) else self.rng.choice("BC")
        episode["passport_number"] = f"{letter}{self.rng.randint(1000, 9999)}{self.passports:03d}"
        years = 10 if issued >= TEN_YEAR_PASSPORTS else 5
        episode["passport_expiry"] = _years_after(issued, years) - datetime.timedelta(days=1)

    def departed(self, episode: dict[str, Any], departure: datetime.date) -> int:
        """Departure and contract dates; returns the contract length in days."""
        rng = self.rng
        self.passport(episode, departure - datetime.timedelta(days=rng.randint(30, 150)))
        days = CONTRACT_DAYS.get(episode["destination_country"], DEFAULT_CONTRACT_DAYS)
        episode["departure_date"] = departure
        if episode["procedural_status"] != Procedural.NON_PROCEDURAL:
            start = departure + datetime.timedelta(days=rng.randint(0, 3))
            episode["contract_start"] = start
            episode["contract_end"] = start + datetime.timedelta(days=days - 1)
        return days

    def returned_episode(
        self, village: DemoVillage, sex: str, earliest: datetime.date, latest_return: datetime.date
    ) -> dict[str, Any] | None:
        """A migration that has ended by latest_return; None if there is no room for one."""
        rng = self.rng
        country, job = self.job(village, sex)
        episode = self.placement(village, country, job)
        reasons = dict(RETURN_REASONS)
        if episode["procedural_status"] == Procedural.NON_PROCEDURAL:
            reasons[ReturnReason.DEPORTED] *= 4
        reason = _weighted(rng, reasons)
        contract = CONTRACT_DAYS.get(country, DEFAULT_CONTRACT_DAYS)
        stay = {
            ReturnReason.CONTRACT_ENDED: contract + rng.randint(-10, 25),
            ReturnReason.LEAVE: rng.randint(300, max(301, contract - 60)),
            ReturnReason.PROBLEM: rng.randint(30, 400),
            ReturnReason.DEPORTED: rng.randint(90, 900),
        }[reason]
        last_departure = latest_return - datetime.timedelta(days=stay)
        if last_departure < earliest:
            return None
        self.departed(episode, _days(rng, earliest, last_departure))
        episode["return_date"] = episode["departure_date"] + datetime.timedelta(days=stay)
        episode["return_reason"] = reason
        return episode

    def migrations(self, village: DemoVillage, person: PersonSpec, status: str) -> None:
        """Fill the person's episodes for the status wanted, or the nearest one there is room
        for (someone too young to have come back yet is still to leave)."""
        rng, today = self.rng, self.today
        sex = person.data["sex"]
        yesterday = today - datetime.timedelta(days=1)
        earliest = max(EARLIEST_DEPARTURE, _years_after(person.data["birth_date"], MIN_WORKING_AGE))
        episodes: list[dict[str, Any]] = []
        if status == Status.PURNA:
            # Some went twice: an earlier migration, then a gap at home, then the last one.
            if rng.random() < 0.3:
                first = self.returned_episode(
                    village, sex, earliest, today - datetime.timedelta(days=4 * 365)
                )
                if first is not None:
                    episodes.append(first)
                    earliest = first["return_date"] + datetime.timedelta(days=rng.randint(90, 540))
            last = self.returned_episode(village, sex, earliest, yesterday)
            if last is None:
                status = Status.CPMI if not episodes else Status.PURNA
            else:
                episodes.append(last)
        if status == Status.PMI:
            if rng.random() < 0.2:
                first = self.returned_episode(
                    village, sex, earliest, today - datetime.timedelta(days=3 * 365)
                )
                if first is not None:
                    episodes.append(first)
                    earliest = first["return_date"] + datetime.timedelta(days=rng.randint(90, 540))
            country, job = self.job(village, sex)
            episode = self.placement(village, country, job)
            contract = CONTRACT_DAYS.get(country, DEFAULT_CONTRACT_DAYS)
            # Abroad now: left within the contract length (a few stay on past its end).
            window_start = max(earliest, today - datetime.timedelta(days=contract + 120))
            if window_start <= today - datetime.timedelta(days=7):
                self.departed(episode, _days(rng, window_start, today - datetime.timedelta(days=7)))
                episodes.append(episode)
            else:
                status = Status.CPMI
        if status == Status.CPMI:
            if (
                not episodes
                and earliest < today - datetime.timedelta(days=3 * 365)
                and rng.random() < 0.15
            ):
                first = self.returned_episode(
                    village, sex, earliest, today - datetime.timedelta(days=180)
                )
                if first is not None:
                    episodes.append(first)
            country, job = self.job(village, sex)
            episode = self.placement(village, country, job)
            if episode["procedural_status"] == Procedural.NON_PROCEDURAL:
                # Nobody registers a non-procedural departure in advance at the village office.
                episode["procedural_status"] = Procedural.UNKNOWN
                episode["procedural_source"] = ""
            if rng.random() < 0.5:
                self.passport(episode, today - datetime.timedelta(days=rng.randint(5, 120)))
            episodes.append(episode)
        person.episodes = episodes

    # Villages -----------------------------------------------------------------------------

    def village(self, village: DemoVillage) -> VillageSpec:
        target = self.rng.randint(*village.size)
        persons: list[PersonSpec] = []
        while len(persons) < target:
            members = self.household(village)
            self.identity_numbers(village, members)
            persons.extend(members)
        self.assign_migrations(village, persons)
        self.data_quality(village, persons)
        return VillageSpec(village=village, persons=persons)

    def assign_migrations(self, village: DemoVillage, persons: list[PersonSpec]) -> None:
        """About 35% abroad, 35% returned and 15% still to leave; the rest are family.

        Quotas rather than independent draws, so every village and every day gives that mix;
        a status there was no room for (too young to have come back) is made up by the next.
        """
        rng, today = self.rng, self.today
        quota = Counter({status: round(share * len(persons)) for status, share in SHARES.items()})
        candidates = [
            person
            for person in persons
            if MIN_WORKING_AGE <= _age(person.data["birth_date"], today) <= 62
        ]
        rng.shuffle(candidates)
        # Past fifty people have come home rather than leave: they take returned places first.
        candidates.sort(key=lambda person: _age(person.data["birth_date"], today) <= 50)
        for person in candidates:
            husband = person.data["relationship"] == Relationship.HEAD and person.data["sex"] == "L"
            if husband and rng.random() < 0.15:
                continue  # stays home with the children
            if _age(person.data["birth_date"], today) > 50:
                wanted = Status.PURNA if quota[Status.PURNA] > 0 else None
            else:
                wanted = _weighted(rng, +quota) if +quota else None
            if wanted is None:
                continue
            self.migrations(village, person, wanted)
            quota[person.status] -= 1

    def data_quality(self, village: DemoVillage, persons: list[PersonSpec]) -> None:
        """Verification states, a few records without NIK and a few NIKs that disagree."""
        rng = self.rng
        adults = [p for p in persons if _age(p.data["birth_date"], self.today) >= 20]
        for person in persons:
            person.verification = _weighted(
                rng,
                {Verification.VERIFIED: 74, Verification.SUBMITTED: 14, Verification.DRAFT: 12},
            )
        without = rng.sample(persons, k=max(1, round(len(persons) * 0.03)))
        for person in without:
            person.data["nik"] = None
            person.verification = rng.choice([Verification.DRAFT, Verification.SUBMITTED])
        candidates = [p for p in adults if p.data["nik"]]
        district = village.code.rsplit(".", 1)[0]
        for index, person in enumerate(rng.sample(candidates, k=2)):
            # Typed with the wrong year of birth: a NIK that is valid but not this person's.
            wrong = _years_after(person.data["birth_date"], rng.choice([-1, 1]))
            person.data["nik"] = self.nik(district, wrong, person.data["sex"])
            person.nik_mismatch = True
            if index == 0 and village.verifier != village.registrar:
                person.verification = Verification.RETURNED
                person.send_back_note = rng.choice(SEND_BACK_NOTES)
            else:
                person.verification = Verification.SUBMITTED

    def duplicate(self, original: PersonSpec, *, shouting: bool) -> PersonSpec:
        """The same worker entered again from another form, without NIK or No. KK."""
        data = dict(original.data, nik=None, no_kk="", phone="", relationship="")
        if shouting:
            data["full_name"] = original.data["full_name"].upper()
        else:
            data["full_name"] = original.data["full_name"].replace(" ", "  ") + "."
        return PersonSpec(
            data=data,
            episodes=[dict(episode) for episode in original.episodes[-1:]],
            verification=Verification.DRAFT,
        )


def build_register(
    *, today: datetime.date | None = None, taken: set[str] | None = None
) -> list[VillageSpec]:
    """The whole demo register, as data: the same for the same `today`.

    `taken` holds NIKs and No. KKs already in the database; serials skip them.
    """
    today = today or demo_today()
    rng = random.Random(SEED)  # noqa: S311 (demo data, not secrets)
    builder = _Builder(rng, today, set(taken or ()))
    villages = [builder.village(village) for village in DEMO_REGISTER_VILLAGES]
    by_code = {spec.village.code: spec for spec in villages}

    def workers(code: str) -> list[PersonSpec]:
        return [
            p for p in by_code[code].persons if p.episodes and p.data["nik"] and not p.nik_mismatch
        ]

    # Likely duplicates for the coordinators' duplicate page: two in Kab. Malang (one moved
    # between villages, one entered twice), one in Kenanga.
    for source, target, shouting in (
        ("35.07.11.2008", "35.07.11.2003", True),
        ("35.07.33.2004", "35.07.33.2004", False),
        ("32.12.16.2004", "32.12.16.2004", True),
    ):
        original = rng.choice(workers(source))
        by_code[target].persons.append(builder.duplicate(original, shouting=shouting))
    return villages


def demo_today() -> datetime.date:
    """Today, by the services' clock and the machine's, whichever is earlier: no date the
    seed writes is ever in the future by either."""
    return min(datetime.date.today(), timezone.localdate())


# --- Writing through the services -------------------------------------------------------------


@dataclass
class RegisterSeedResult:
    added: Counter[str] = field(default_factory=Counter)  # village code -> people added
    skipped: list[str] = field(default_factory=list)  # village codes left as they were


def _users(usernames: set[str]) -> dict[str, User]:
    users = {user.username: user for user in User.objects.filter(username__in=usernames)}
    missing = usernames - set(users)
    if missing:
        raise User.DoesNotExist(f"demo users missing: {', '.join(sorted(missing))}")
    return users


def seed_register(*, today: datetime.date | None = None) -> RegisterSeedResult:
    """Fill the demo villages' registers; run `villages.demo.seed_demo` first.

    Idempotent by village: a village that already has any Person row (alive or deleted, from
    an earlier seed or entered by hand while trying the demo) is left exactly as it is, so a
    second run adds nothing and never mixes demo people into someone's own records.
    """
    today = today or demo_today()
    result = RegisterSeedResult()
    codes = [village.code for village in DEMO_REGISTER_VILLAGES]
    filled = set(
        Person.objects.filter(village_id__in=codes).values_list("village_id", flat=True).distinct()
    )
    result.skipped = [code for code in codes if code in filled]
    if len(filled) == len(codes):
        return result
    prefixes = {code.rsplit(".", 1)[0].replace(".", "") for code in codes}
    taken = _taken_numbers(prefixes)
    specs = build_register(today=today, taken=taken)
    users = _users(
        {v.registrar for v in DEMO_REGISTER_VILLAGES} | {v.verifier for v in DEMO_REGISTER_VILLAGES}
    )
    villages = Region.objects.in_bulk(codes)
    for spec in specs:
        if spec.village.code in filled:
            continue
        result.added[spec.village.code] = _write_village(
            spec,
            region=villages[spec.village.code],
            registrar=users[spec.village.registrar],
            verifier=users[spec.village.verifier],
            live_since=today - datetime.timedelta(days=LIVE_DAYS),
        )
    return result


def _taken_numbers(prefixes: set[str]) -> set[str]:
    taken: set[str] = set()
    for prefix in prefixes:
        rows = Person.objects.filter(nik__startswith=prefix).values_list("nik", flat=True)
        taken.update(rows)
        rows = Person.objects.filter(no_kk__startswith=prefix).values_list("no_kk", flat=True)
        taken.update(rows)
    return taken


@transaction.atomic
def _write_village(
    spec: VillageSpec,
    *,
    region: Region,
    registrar: User,
    verifier: User,
    live_since: datetime.date,
) -> int:
    written: list[tuple[Person, PersonSpec]] = []
    for person_spec in spec.persons:
        person = person_register(
            village=region, data=person_spec.data, actor=registrar, source=SOURCE
        )
        for data in person_spec.episodes:
            _write_episode(person, data, actor=registrar, live_since=live_since)
        written.append((person, person_spec))
    to_submit = [p for p, s in written if s.verification != Verification.DRAFT]
    persons_submit(persons=to_submit, actor=registrar)
    to_verify = [
        p for p, s in written if s.verification in (Verification.VERIFIED, Verification.RETURNED)
    ]
    persons_verify(persons=to_verify, actor=verifier)
    for person, person_spec in written:
        if person_spec.verification == Verification.RETURNED:
            person_send_back(person=person, actor=verifier, reason=person_spec.send_back_note)
    # The verification services write no source: mark this village's new rows as demo ones.
    PersonHistory.objects.filter(person__village=region).exclude(source=SOURCE).update(
        source=SOURCE
    )
    return len(written)


def _write_episode(
    person: Person, data: dict[str, Any], *, actor: User, live_since: datetime.date
) -> Episode:
    """A migration as the village would have recorded it.

    What happened before `live_since` was typed in from the paper register in one go; after
    it, each step was recorded when it happened: a procedural migration is registered before
    it departs, a non-procedural one only once the person has gone, and the return follows.
    """
    known = {key: value for key, value in data.items() if key not in DEPARTURE_FIELDS}
    known = {key: value for key, value in known.items() if key not in RETURN_FIELDS}
    departure = {key: data[key] for key in DEPARTURE_FIELDS if key in data}
    homecoming = {key: data[key] for key in RETURN_FIELDS if key in data}
    action = PersonHistory.Action.EPISODE_ADDED
    if departure and departure["departure_date"] < live_since:
        known |= departure
        departure = {}
        if homecoming and homecoming["return_date"] < live_since:
            known |= homecoming
            homecoming = {}
    elif departure and data["procedural_status"] != Procedural.PROCEDURAL:
        known |= departure
        departure = {}
        action = PersonHistory.Action.DEPARTED
    episode = episode_add(person=person, data=known, actor=actor, action=action, source=SOURCE)
    for step, action in (
        (departure, PersonHistory.Action.DEPARTED),
        (homecoming, PersonHistory.Action.RETURNED_HOME),
    ):
        if step:
            episode = episode_update(
                episode=episode, data=step, actor=actor, action=action, source=SOURCE
            )
    return episode


def register_summary(result: RegisterSeedResult) -> str:
    """One line for `seed_demo`: the demo villages' register as it now stands."""
    codes = [village.code for village in DEMO_REGISTER_VILLAGES]
    people = Person.objects.alive().filter(village_id__in=codes)
    by_status = Counter(dict(people.values_list("status").annotate(n=Count("pk")).order_by()))
    villages = people.values("village_id").distinct().count()
    labels = {Status.CPMI: "CPMI", Status.PMI: "PMI", Status.PURNA: "purna"}
    labels[Status.FAMILY] = "keluarga"
    counts = ", ".join(f"{label} {by_status[status]}" for status, label in labels.items())
    added = sum(result.added.values())
    note = f"{added} added now" if added else "already seeded, nothing added"
    if added and result.skipped:
        note += f"; {len(result.skipped)} villages already had people and were left as they were"
    return f"Register: {sum(by_status.values())} people in {villages} villages ({counts}; {note})"
