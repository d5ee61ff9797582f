"""The files and values the load users type: a register import of N rows in the template's
columns for the villages of the uploader's area, and valid NIKs / No. KK for the forms.

No Django here (the locust process does not load it): the template's columns come from
`users.json` (bench.load.seed writes `migrants.columns.COLUMNS` there) and the NIKs from
`migrants.nik.nik_for`, which needs no settings. Every NIK made in one process is new: serials
start at 5000 for each district, birth date and sex (the generated world uses small ones).
"""

import datetime
import io
import random
from collections import defaultdict

from migrants.nik import nik_for

FIRST_F = ["Siti", "Sri", "Dewi", "Nur", "Tri", "Eka", "Rina", "Yuli", "Ani", "Wahyuni", "Umi"]
FIRST_M = ["Ahmad", "Budi", "Slamet", "Agus", "Joko", "Eko", "Dedi", "Hadi", "Rudi", "Teguh"]
LAST = ["Aminah", "Wulandari", "Santoso", "Riyadi", "Hidayat", "Susanti", "Prasetyo", "Utami"]
JOBS = [  # country, job, sector, scheme
    ("Hong Kong", "Penata Laksana Rumah Tangga", "Informal", "P to P"),
    ("Taiwan", "Perawat Lansia", "Informal", "P to P"),
    ("Malaysia", "Pekerja Perkebunan", "Formal", "P to P"),
    ("Korea Selatan", "Operator Produksi", "Formal", "G to G"),
    ("Singapura", "Penata Laksana Rumah Tangga", "Informal", "P to P"),
]

_serials: dict[tuple, int] = defaultdict(lambda: 4999)
_kk_serials: dict[str, int] = defaultdict(lambda: 4999)


def _day(rng: random.Random, start: datetime.date, end: datetime.date) -> datetime.date:
    return start + datetime.timedelta(days=rng.randrange((end - start).days + 1))


def new_nik(rng: random.Random, village: str, born: datetime.date, sex: str) -> str:
    key = (village[:8], born, sex)
    _serials[key] += 1
    return nik_for(district_code=village[:8], birth_date=born, sex=sex, serial=_serials[key])


def new_kk(rng: random.Random, village: str, today: datetime.date) -> str:
    district = village[:8]
    _kk_serials[district] = _kk_serials[district] % 9999 + 1
    issued = _day(rng, datetime.date(2005, 1, 1), today - datetime.timedelta(days=30))
    return district.replace(".", "") + f"{issued:%d%m%y}{_kk_serials[district]:04d}"


def person(rng: random.Random, village: str, today: datetime.date, *, adult: bool = True) -> dict:
    sex = "P" if rng.random() < 0.6 else "L"
    born = _day(
        rng,
        datetime.date(1970, 1, 1) if adult else datetime.date(1960, 1, 1),
        datetime.date(2004, 12, 31) if adult else datetime.date(2020, 12, 31),
    )
    first = rng.choice(FIRST_F if sex == "P" else FIRST_M)
    return {
        "nik": new_nik(rng, village, born, sex),
        "full_name": f"{first} {rng.choice(LAST)}",
        "sex": sex,
        "birth_place": "Kota",
        "birth_date": born,
        "village": village,
        "address": f"Dusun Krajan RT {rng.randint(1, 12):03d} RW {rng.randint(1, 6):03d}",
    }


def import_rows(
    rng: random.Random, villages: list[str], count: int, keys: list[str], today: datetime.date
) -> list[list]:
    """Households of a migrant and 0-2 family members on one family card."""
    rows: list[list] = []
    while len(rows) < count:
        village = rng.choice(villages)
        no_kk = new_kk(rng, village, today)
        migrant = person(rng, village, today)
        country, job, sector, scheme = rng.choice(JOBS)
        migrant.update(
            no_kk=no_kk,
            phone=f"08{rng.randrange(10**9, 10**10)}",
            destination_country=country,
            job_title=job,
            sector=sector,
            placement_scheme=scheme,
            procedural_status="Ya",
        )
        if rng.random() < 0.3:
            migrant["status"] = "CPMI"
        else:
            migrant["status"] = "PMI"
            migrant["departure_date"] = _day(
                rng, datetime.date(2020, 1, 1), today - datetime.timedelta(days=30)
            )
        household = [migrant]
        for _member in range(rng.choice([0, 1, 1, 2])):
            member = person(rng, village, today, adult=False)
            member["no_kk"] = no_kk
            household.append(member)
        rows.extend([entry.get(key, "") for key in keys] for entry in household)
    return rows[:count]


def xlsx(columns: list[list[str]], rows: list[list]) -> bytes:
    """The rows under the template's headers; NIK and No. KK as text cells."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Data")
    sheet.append([header for _key, header, _ident in columns])

    def cell(value, identifier):
        if value == "":
            return None
        if identifier:
            text = WriteOnlyCell(sheet, value=value)
            text.number_format = "@"
            return text
        return value

    for row in rows:
        sheet.append([cell(v, ident) for v, (_k, _h, ident) in zip(row, columns, strict=True)])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def import_file(
    rng: random.Random, columns: list[list], villages: list[str], count: int = 500
) -> bytes:
    today = datetime.date.today()
    keys = [key for key, _header, _ident in columns]
    return xlsx(columns, import_rows(rng, villages, count, keys, today))
