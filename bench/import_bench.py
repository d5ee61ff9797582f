"""Register import benchmark (issue 4): ours against stock django-import-export, one run.

    DEBUG=true DATABASE_URL=postgres://postgres@127.0.0.1:5432/desmigratif_bench \
        .venv/bin/python -m bench.import_bench [--rows 50000] [--stock-rows 5000]

or `make bench`. The benchmark creates its own scratch PostgreSQL database (the one named in
DATABASE_URL, which must contain "bench" in its name), migrates it, loads the packaged region
edition, seeds the demo users, writes an xlsx of --rows rows in the template's columns to
bench/out/, then measures, each in a fresh child process (so the peak RSS of a step is its own):

1. parsing only: read_table (python-calamine), openpyxl read-only, import-export's XLSX format;
2. ours: read_table + plan_import + execute_plan in one transaction (what the commit job does,
   without the batch state machine), --repeat times, plus one run under tracemalloc;
3. stock django-import-export with its defaults (a plain ModelResource for Person) on the first
   --stock-rows rows of the same data, and ours on that same subset.

The migrants tables are truncated (and vacuumed) before every run. The figures are printed and
written into docs/benchmarks.md between the markers of the "Register import (issue 4)" section
(--no-docs to skip). The scratch database is dropped at the end (--keep-db to keep it).
"""

import argparse
import datetime
import hashlib
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
import warnings
from collections import defaultdict
from pathlib import Path
from urllib.parse import unquote, urlparse

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/desmigratif_bench"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "desmigratif.settings")
os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
DOCS = ROOT / "docs" / "benchmarks.md"
IMPORT_START = "<!-- bench:import:start -->"
IMPORT_END = "<!-- bench:import:end -->"
REGIONS_START = "<!-- bench:regions:start -->"
REGIONS_END = "<!-- bench:regions:end -->"
GOAL_RATE = 10_000
TARGET_RATE = 20_000
GOAL_MEMORY_MB = 300
SEED = 20240
# The actor's regency: Kab. Malang (33 districts, 390 villages in the packaged edition).
ACTORS = {"coordinator_malang": "35.07", "admin": "35"}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- The scratch database -----------------------------------------------------------------


def _database() -> dict:
    url = urlparse(os.environ["DATABASE_URL"])
    if url.scheme not in ("postgres", "postgresql", "pgsql"):
        sys.exit(f"bench: DATABASE_URL must point to PostgreSQL, not {url.scheme!r}.")
    name = unquote(url.path.lstrip("/"))
    if "bench" not in name or name in ("postgres", "template0", "template1"):
        sys.exit(
            f"bench: refusing to create and drop the database {name!r}: the benchmark only "
            "works on a scratch database with 'bench' in its name (the default is "
            f"{DEFAULT_DATABASE_URL})."
        )
    return {
        "name": name,
        "host": url.hostname or "127.0.0.1",
        "port": url.port or 5432,
        "user": unquote(url.username or "postgres"),
        "password": unquote(url.password) if url.password else None,
    }


def _admin_connection():
    import psycopg

    db = _database()
    return psycopg.connect(
        host=db["host"],
        port=db["port"],
        user=db["user"],
        password=db["password"],
        dbname="postgres",
        autocommit=True,
    )


def recreate_database() -> None:
    from psycopg import sql

    name = _database()["name"]
    with _admin_connection() as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database() -> None:
    from django.db import connections
    from psycopg import sql

    connections.close_all()
    name = _database()["name"]
    with _admin_connection() as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def _register_tables() -> list[str]:
    from django.apps import apps

    return [model._meta.db_table for model in apps.get_app_config("migrants").get_models()]


def reset_register() -> None:
    """Every run starts from the same state: empty register tables, fresh statistics."""
    from django.db import connection

    tables = _register_tables()
    with connection.cursor() as cursor:
        quoted = ", ".join(connection.ops.quote_name(t) for t in tables)
        cursor.execute(f"TRUNCATE {quoted} CASCADE")
    vacuum_analyze(tables)


def vacuum_analyze(tables: list[str] | None = None) -> None:
    from django.db import connection

    for table in tables or _register_tables():
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(table)}")


# --- Memory ---------------------------------------------------------------------------------


def current_rss_mb() -> float:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


# --- The generated file ---------------------------------------------------------------------

FIRST_NAMES_F = [
    "Siti", "Sri", "Dewi", "Nur", "Tri", "Eka", "Rina", "Yuli", "Ani", "Lestari", "Wahyuni",
    "Endang", "Sumarni", "Suci", "Puji", "Rahayu", "Indah", "Fitri", "Umi", "Kartini",
]  # fmt: skip
FIRST_NAMES_M = [
    "Ahmad", "Muhammad", "Budi", "Slamet", "Agus", "Joko", "Eko", "Dedi", "Hadi", "Bambang",
    "Rudi", "Yusuf", "Sugeng", "Heru", "Imam", "Arif", "Wahyu", "Anton", "Dwi", "Teguh",
]  # fmt: skip
LAST_NAMES = [
    "Aminah", "Wulandari", "Santoso", "Riyadi", "Hidayat", "Susanti", "Prasetyo", "Kurniawan",
    "Setiawan", "Handayani", "Saputra", "Rahmawati", "Purnomo", "Nugroho", "Maulana",
    "Kusuma", "Hartono", "Syahputra", "Lestari", "Utami", "", "",
]  # fmt: skip
PLACES = ["Malang", "Blitar", "Kepanjen", "Turen", "Gondanglegi", "Kalipare", "Surabaya"]
EDUCATION = ["SD", "SD", "SMP", "SMP", "SMA/SMK", "SMA/SMK", "Diploma", "S1", "Tidak Sekolah"]
# country, job, sector, scheme
JOBS = [
    ("Hong Kong", "Penata Laksana Rumah Tangga", "Informal", "P to P"),
    ("Taiwan", "Perawat Lansia", "Informal", "P to P"),
    ("Taiwan", "Operator Pabrik", "Formal", "P to P"),
    ("Malaysia", "Pekerja Perkebunan", "Formal", "P to P"),
    ("Malaysia", "Penata Laksana Rumah Tangga", "Informal", "Mandiri"),
    ("Arab Saudi", "Penata Laksana Rumah Tangga", "Informal", "P to P"),
    ("Singapura", "Penata Laksana Rumah Tangga", "Informal", "P to P"),
    ("Korea Selatan", "Operator Produksi", "Formal", "G to G"),
    ("Jepang", "Pekerja Konstruksi", "Formal", "G to G"),
    ("Brunei", "Pekerja Restoran", "Formal", "P to P"),
]
AGENCIES = [
    "PT Bina Karya Mandiri", "PT Sukses Mitra Abadi", "PT Jatim Citra Sarana",
    "PT Mutiara Lintas Samudra", "PT Duta Wibawa Insani", "",
]  # fmt: skip
PROCEDURAL = ["Ya"] * 8 + ["Tidak", "Tidak Tahu"]


def _date_between(rng: random.Random, start: datetime.date, end: datetime.date) -> datetime.date:
    return start + datetime.timedelta(days=rng.randrange((end - start).days + 1))


def generate_rows(count: int, prefix: str) -> list[list]:
    """Households of one migrant and 0-2 family members on the same family card (~60% of the
    rows carry a migration), in villages of the actor's area; every NIK valid and unique."""
    from django.utils import timezone

    from migrants.columns import COLUMNS
    from migrants.nik import nik_for
    from villages.models import Region

    villages = list(
        Region.objects.filter(
            level=Region.Level.VILLAGE, code__startswith=prefix + ".", retired_at__isnull=True
        )
        .order_by("code")
        .values_list("code", flat=True)
    )
    if not villages:
        sys.exit(f"bench: no villages under {prefix}; were the regions loaded?")
    keys = [column.key for column in COLUMNS]
    today = timezone.localdate()
    rng = random.Random(SEED)
    serials: dict[tuple, int] = defaultdict(int)
    kk_serials: dict[str, int] = defaultdict(int)

    def person(village: str, sex: str, born: datetime.date) -> dict:
        district = village[:8]
        key = (district, born, sex)
        serials[key] += 1
        first = rng.choice(FIRST_NAMES_F if sex == "P" else FIRST_NAMES_M)
        return {
            "nik": nik_for(district_code=district, birth_date=born, sex=sex, serial=serials[key]),
            "full_name": f"{first} {rng.choice(LAST_NAMES)}".strip(),
            "sex": sex,
            "birth_place": rng.choice(PLACES),
            "birth_date": born,
            "village": village,
            "address": f"Dusun Krajan RT {rng.randint(1, 12):03d} RW {rng.randint(1, 6):03d}",
            "education": rng.choice(EDUCATION),
        }

    rows: list[list] = []
    while len(rows) < count:
        village = rng.choice(villages)
        district = village[:8]
        kk_serials[district] += 1
        issued = _date_between(rng, datetime.date(2005, 1, 1), today)
        no_kk = district.replace(".", "") + f"{issued:%d%m%y}{kk_serials[district] % 9999 + 1:04d}"
        sex = "P" if rng.random() < 0.65 else "L"
        migrant = person(
            village, sex, _date_between(rng, datetime.date(1972, 1, 1), datetime.date(2004, 12, 31))
        )
        migrant["no_kk"] = no_kk
        migrant["phone"] = f"08{rng.randrange(10**9, 10**10)}"
        country, job, sector, scheme = rng.choice(JOBS)
        migrant.update(
            destination_country=country,
            job_title=job,
            sector=sector,
            placement_scheme=scheme,
            p3mi_name="" if scheme == "Mandiri" else rng.choice(AGENCIES),
            procedural_status=rng.choice(PROCEDURAL),
        )
        draw = rng.random()
        if draw < 0.2:
            migrant["status"] = "CPMI"
        elif draw < 0.75:
            migrant["status"] = "PMI"
            migrant["departure_date"] = _date_between(
                rng, datetime.date(2019, 1, 1), today - datetime.timedelta(days=30)
            )
        else:
            migrant["status"] = "Purna PMI"
            departed = _date_between(rng, datetime.date(2012, 1, 1), datetime.date(2022, 6, 30))
            migrant["departure_date"] = departed
            migrant["return_date"] = min(today, departed + datetime.timedelta(days=730))
            migrant["return_reason"] = rng.choice(["Kontrak Selesai"] * 4 + ["Cuti"])
        household = [migrant]
        for _member in range(rng.choice([0, 0, 0, 1, 1, 2])):
            sex = rng.choice("LP")
            member = person(
                village,
                sex,
                _date_between(rng, datetime.date(1950, 1, 1), datetime.date(2020, 12, 31)),
            )
            member["no_kk"] = no_kk
            member["phone"] = f"08{rng.randrange(10**9, 10**10)}" if rng.random() < 0.3 else ""
            household.append(member)
        for entry in household:
            rows.append([entry.get(key, "") for key in keys])
    return rows[:count]


def write_file(path: Path, rows: list[list]) -> None:
    """A template-shaped xlsx through openpyxl's write-only mode; NIK and No KK as text."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.utils import get_column_letter

    from migrants.columns import COLUMNS

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Data")
    sheet.append([column.header for column in COLUMNS])
    identifiers = [column.is_identifier for column in COLUMNS]

    def cell(value, identifier):
        if value == "":
            return None
        if identifier:
            text = WriteOnlyCell(sheet, value=value)
            text.number_format = "@"
            return text
        return value

    for row in rows:
        sheet.append([cell(v, ident) for v, ident in zip(row, identifiers, strict=True)])
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    _add_dimension(path, f"A1:{get_column_letter(len(COLUMNS))}{len(rows) + 1}")


def _add_dimension(path: Path, ref: str) -> None:
    """Give the sheet the <dimension> element Excel writes and openpyxl's write-only mode
    leaves out: without it openpyxl's read-only mode (so django-import-export) does not pad
    rows whose last cells are empty, and tablib refuses the ragged rows."""
    import zipfile

    name = "xl/worksheets/sheet1.xml"
    temporary = path.with_suffix(".tmp")
    with (
        zipfile.ZipFile(path) as source,
        zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for member in source.infolist():
            data = source.read(member)
            if member.filename == name:
                data = data.replace(
                    b"</sheetPr>", f'</sheetPr><dimension ref="{ref}" />'.encode(), 1
                )
            target.writestr(member, data)
    temporary.replace(path)


# --- Stock django-import-export --------------------------------------------------------------


def stock_resource():
    """A plain ModelResource, defaults everywhere: Person only, the template's headers."""
    from import_export import fields, resources, widgets

    from migrants.models import Person
    from villages.models import Region

    def text(attribute: str, header: str) -> fields.Field:
        return fields.Field(
            attribute=attribute, column_name=header, widget=widgets.CharWidget(allow_blank=True)
        )

    class StockPersonResource(resources.ModelResource):
        nik = text("nik", "NIK")
        no_kk = text("no_kk", "No KK")
        full_name = text("full_name", "Nama Lengkap")
        sex = text("sex", "Jenis Kelamin")
        birth_place = text("birth_place", "Tempat Lahir")
        birth_date = fields.Field(
            attribute="birth_date", column_name="Tanggal Lahir", widget=widgets.DateWidget()
        )
        village = fields.Field(
            attribute="village",
            column_name="Kode Desa",
            widget=widgets.ForeignKeyWidget(Region, "code"),
        )
        address = text("address", "Alamat")
        phone = text("phone", "No HP")

        class Meta:
            model = Person
            fields = (
                "nik",
                "no_kk",
                "full_name",
                "sex",
                "birth_place",
                "birth_date",
                "village",
                "address",
                "phone",
            )
            import_id_fields = ["nik"]

    return StockPersonResource()


# --- Child phases ----------------------------------------------------------------------------


def phase_parse(args) -> dict:
    from import_export.formats.base_formats import XLSX
    from openpyxl import load_workbook

    from migrants.tabular import read_table

    data = Path(args.file).read_bytes()
    calamine = []
    for _attempt in range(3):
        start = time.perf_counter()
        table = read_table(data)
        calamine.append(time.perf_counter() - start)
    rows = len(table.rows)
    del table
    start = time.perf_counter()
    import io

    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    counted = sum(1 for _row in workbook.worksheets[0].iter_rows(min_row=2, values_only=True))
    workbook.close()
    openpyxl_seconds = time.perf_counter() - start
    start = time.perf_counter()
    dataset = XLSX().create_dataset(data)
    tablib_seconds = time.perf_counter() - start
    return {
        "rows": rows,
        "calamine_seconds": statistics.median(calamine),
        "calamine_all": calamine,
        "openpyxl_rows": counted,
        "openpyxl_seconds": openpyxl_seconds,
        "import_export_xlsx_rows": len(dataset),
        "import_export_xlsx_seconds": tablib_seconds,
    }


def phase_ours(args) -> dict:
    from django.db import transaction
    from django.utils import timezone

    from accounts.models import User
    from migrants.importer import execute_plan, plan_import
    from migrants.models import Episode, ImportBatch, Person, PersonHistory
    from migrants.tabular import read_table

    actor = User.objects.get(username=args.actor)
    reset_register()
    path = Path(args.file)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    rss_start = current_rss_mb()
    if args.trace:
        tracemalloc.start()
    start = time.perf_counter()
    data = path.read_bytes()
    with transaction.atomic():
        batch = ImportBatch.objects.create(
            created_by=actor,
            committed_by=actor,
            scope_id=actor.scope_id,
            file=f"imports/bench/{path.name}",
            filename=path.name,
            sha256=digest,
            size=len(data),
            state=ImportBatch.State.COMMITTING,
        )
        read_start = time.perf_counter()
        table = read_table(data)
        plan_start = time.perf_counter()
        plan = plan_import(table=table, actor=actor)
        write_start = time.perf_counter()
        counts = execute_plan(plan=plan, batch=batch, actor=actor)
        batch.state = ImportBatch.State.COMMITTED
        batch.kind = table.kind
        batch.counts = counts
        batch.committed_at = timezone.now()
        batch.progress = 100
        batch.save(update_fields=["state", "kind", "counts", "committed_at", "progress"])
    end = time.perf_counter()
    traced_peak = None
    if args.trace:
        traced_peak = tracemalloc.get_traced_memory()[1] / 1024 / 1024
        tracemalloc.stop()
    result = {
        "rows": len(table.rows),
        "counts": counts,
        "read_seconds": plan_start - read_start,
        "plan_seconds": write_start - plan_start,
        "write_seconds": end - write_start,  # execute_plan, the batch row and the COMMIT
        "total_seconds": end - start,
        "rss_start_mb": rss_start,
        "max_rss_mb": max_rss_mb(),
        "traced_peak_mb": traced_peak,
        "persons": Person.objects.count(),
        "episodes": Episode.objects.count(),
        "history": PersonHistory.objects.count(),
        "warnings_sample": [w for row in plan.rows for w in row.warnings][:3],
        "errors_sample": [e for row in plan.rows for e in row.errors][:3],
    }
    del plan, table
    if args.floor:
        result["floor"] = database_floor()
    if args.revalidate:
        # The same file again, against a register that now holds every row: the validation
        # job of a re-upload (all rows unchanged).
        vacuum_analyze()
        start = time.perf_counter()
        again = plan_import(table=read_table(path.read_bytes()), actor=actor)
        result["revalidate_seconds"] = time.perf_counter() - start
        result["revalidate_counts"] = again.counts
    return result


def database_floor() -> dict:
    """The database's own share: the rows the import just wrote, dumped with COPY TO and
    written again with COPY FROM prepared text, the deferred foreign-key checks included (they
    run at COMMIT). No Python work per row: what no importer on this schema can beat."""
    from django.db import connection, transaction

    from migrants.models import Episode, ImportChange, Person, PersonHistory

    tables = [m._meta.db_table for m in (Person, Episode, PersonHistory, ImportChange)]
    dumps: dict[str, bytes] = {}
    with connection.cursor() as cursor:
        for table in tables:
            buffer = bytearray()
            with cursor.cursor.copy(f"COPY {connection.ops.quote_name(table)} TO STDOUT") as copy:
                for block in copy:
                    buffer += block
            dumps[table] = bytes(buffer)
    # Empty the four tables only: the import batch the rows point to stays.
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE " + ", ".join(connection.ops.quote_name(t) for t in tables) + " CASCADE"
        )
    vacuum_analyze(tables)
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    with transaction.atomic():
        with connection.cursor() as cursor:
            for table in tables:
                step = time.perf_counter()
                with cursor.cursor.copy(
                    f"COPY {connection.ops.quote_name(table)} FROM STDIN"
                ) as copy:
                    copy.write(dumps[table])
                seconds[table] = time.perf_counter() - step
            step = time.perf_counter()
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            seconds["foreign_key_checks"] = time.perf_counter() - step
        step = time.perf_counter()
    seconds["commit"] = time.perf_counter() - step
    seconds["total"] = time.perf_counter() - start
    return seconds


def phase_stock(args) -> dict:
    from import_export.formats.base_formats import XLSX

    from migrants.models import Person

    reset_register()
    resource_ = stock_resource()
    path = Path(args.file)
    rss_start = current_rss_mb()
    start = time.perf_counter()
    dataset = XLSX().create_dataset(path.read_bytes())
    parsed = time.perf_counter()
    result = resource_.import_data(dataset, dry_run=False)
    end = time.perf_counter()
    errors = [str(e.error) for e in result.base_errors][:3]
    for _number, row_errors in result.row_errors()[:3]:
        errors += [str(e.error) for e in row_errors]
    invalid = [str(row.error_dict) for row in result.invalid_rows[:3]]
    return {
        "rows": len(dataset),
        "totals": dict(result.totals),
        "errors_sample": errors + invalid,
        "parse_seconds": parsed - start,
        "import_seconds": end - parsed,
        "total_seconds": end - start,
        "rss_start_mb": rss_start,
        "max_rss_mb": max_rss_mb(),
        "persons": Person.objects.count(),
    }


PHASES = {"parse": phase_parse, "ours": phase_ours, "stock": phase_stock}


def run_child(phase: str, file: Path, *extra: str) -> dict:
    """One measurement in a fresh interpreter: its peak RSS is its own."""
    command = [sys.executable, "-m", "bench.import_bench", "--phase", phase, "--file", str(file)]
    command += list(extra)
    completed = subprocess.run(  # noqa: S603 (this interpreter, this module, our arguments)
        command, cwd=ROOT, env=os.environ.copy(), stdout=subprocess.PIPE, text=True, check=False
    )
    if completed.returncode != 0:
        sys.exit(f"bench: the {phase} step failed ({' '.join(command)})")
    for line in reversed(completed.stdout.splitlines()):
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    sys.exit(f"bench: the {phase} step printed no result")


# --- The run ---------------------------------------------------------------------------------


def rate(rows: int, seconds: float) -> float:
    return rows / seconds if seconds else float("inf")


def machine() -> dict:
    from importlib.metadata import version

    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0]
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            cpu = next(
                (line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")),
                cpu,
            )
    except OSError:
        pass
    return {
        "date": datetime.date.today().isoformat(),
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": cpu,
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30),
        "postgresql": server,
        "python": platform.python_version(),
        "django": version("django"),
        "django_import_export": version("django-import-export"),
        "python_calamine": version("python-calamine"),
        "openpyxl": version("openpyxl"),
        "psycopg": version("psycopg"),
        "debug": os.environ.get("DEBUG", ""),
        "load": ", ".join(f"{value:.1f}" for value in os.getloadavg()),
    }


def time_regions() -> dict:
    from villages.services import (
        packaged_edition_label,
        packaged_edition_path,
        read_region_csv,
        regions_load,
    )

    seconds = []
    for run in range(2):
        start = time.perf_counter()
        result = regions_load(
            regions=read_region_csv(packaged_edition_path()),
            edition=packaged_edition_label(),
            source=str(packaged_edition_path()),
        )
        seconds.append(time.perf_counter() - start)
        log(f"  load_regions run {run + 1}: {seconds[-1]:.2f} s ({result.summary()})")
    return {"first_seconds": seconds[0], "second_seconds": seconds[1], "regions": result.summary()}


def orchestrate(args) -> None:
    import django

    OUT.mkdir(parents=True, exist_ok=True)
    if args.rows > 50_000:
        os.environ["IMPORT_MAX_ROWS"] = str(args.rows)  # the upload limit, for bigger runs
    db = _database()
    log(f"bench: scratch database {db['name']} on {db['host']}:{db['port']} (recreated)")
    recreate_database()
    django.setup()
    from django.core.management import call_command

    from accounts.models import User
    from villages.demo import seed_demo

    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    log(f"  migrate: {time.perf_counter() - started:.1f} s")
    regions = time_regions()
    seed_demo(password=os.environ.get("DEMO_PASSWORD") or "desmigratif-demo")
    actor = User.objects.get(username=args.actor)
    info = machine()
    log(f"  actor: {actor.username} (scope {actor.scope_id or 'national'})")

    started = time.perf_counter()
    rows = generate_rows(args.rows, ACTORS[args.actor])
    full = OUT / f"register_{args.rows}.xlsx"
    write_file(full, rows)
    stock_rows = min(args.stock_rows, args.rows)
    subset = OUT / f"register_{args.rows}_first_{stock_rows}.xlsx"
    write_file(subset, rows[:stock_rows])
    del rows
    log(
        f"  wrote {full.relative_to(ROOT)} ({full.stat().st_size / 1e6:.1f} MB) and "
        f"{subset.relative_to(ROOT)} in {time.perf_counter() - started:.1f} s"
    )
    from django.db import connections

    connections.close_all()

    log("bench: parsing")
    parse = run_child("parse", full)
    log(f"bench: ours, {args.repeat} run(s) of {args.rows} rows")
    ours_runs = []
    for attempt in range(args.repeat):
        extra = ["--actor", args.actor] + (["--revalidate", "--floor"] if attempt == 0 else [])
        run = run_child("ours", full, *extra)
        log(
            f"  run {attempt + 1}: {rate(run['rows'], run['total_seconds']):,.0f} rows/s end to "
            f"end, {run['max_rss_mb']:.0f} MB peak RSS, counts {run['counts']}"
        )
        ours_runs.append(run)
    log("bench: ours under tracemalloc (Python heap peak; its rate is not reported)")
    traced = run_child("ours", full, "--actor", args.actor, "--trace")
    log(f"bench: ours on the first {stock_rows} rows")
    ours_subset = run_child("ours", subset, "--actor", args.actor)
    log(f"bench: stock django-import-export on the first {stock_rows} rows")
    stock = run_child("stock", subset)
    log(f"  stock totals {stock['totals']}, errors {stock['errors_sample']}")

    results = summarize(args, info, regions, parse, ours_runs, traced, ours_subset, stock)
    (OUT / "results.json").write_text(json.dumps(results, indent=2, default=str))
    print(render_table(results))
    if not args.no_docs:
        write_docs(results)
        log(f"bench: figures written to {DOCS.relative_to(ROOT)}")
    if args.keep_db:
        log(f"bench: kept the database {db['name']}")
    else:
        drop_database()
        log(f"bench: dropped the database {db['name']}")


def summarize(args, info, regions, parse, ours_runs, traced, ours_subset, stock) -> dict:
    def median(key: str) -> float:
        return statistics.median(run[key] for run in ours_runs)

    rows = ours_runs[0]["rows"]
    first = ours_runs[0]
    ours = {
        "rows": rows,
        "runs": len(ours_runs),
        "counts": first["counts"],
        "read_rate": rate(rows, median("read_seconds")),
        "plan_rate": rate(rows, median("plan_seconds")),
        "write_rate": rate(rows, median("write_seconds")),
        "total_seconds": median("total_seconds"),
        "total_rate": rate(rows, median("total_seconds")),
        "total_rates_all": [rate(rows, run["total_seconds"]) for run in ours_runs],
        "max_rss_mb": max(run["max_rss_mb"] for run in ours_runs),
        "rss_start_mb": statistics.median(run["rss_start_mb"] for run in ours_runs),
        "traced_peak_mb": traced["traced_peak_mb"],
        "revalidate_rate": rate(rows, first["revalidate_seconds"]),
        "floor": first["floor"],
        "floor_rate": rate(rows, first["floor"]["total"]),
        "revalidate_counts": first["revalidate_counts"],
        "persons": first["persons"],
        "episodes": first["episodes"],
        "history": first["history"],
        "errors_sample": first["errors_sample"],
        "warnings_sample": first["warnings_sample"],
    }
    stock_rate = rate(stock["rows"], stock["total_seconds"])
    subset_rate = rate(ours_subset["rows"], ours_subset["total_seconds"])
    return {
        "command": command_line(args),
        "machine": info,
        "actor": args.actor,
        "regions": regions,
        "parse": {
            **parse,
            "calamine_rate": rate(parse["rows"], parse["calamine_seconds"]),
            "openpyxl_rate": rate(parse["openpyxl_rows"], parse["openpyxl_seconds"]),
            "import_export_xlsx_rate": rate(
                parse["import_export_xlsx_rows"], parse["import_export_xlsx_seconds"]
            ),
        },
        "ours": ours,
        "ours_subset": {**ours_subset, "total_rate": subset_rate},
        "stock": {
            **stock,
            "rate": stock_rate,
            "import_rate": rate(stock["rows"], stock["import_seconds"]),
        },
        "ratio": ours["total_rate"] / stock_rate,
        "ratio_same_rows": subset_rate / stock_rate,
        "goal": {
            "rate_ok": ours["total_rate"] >= GOAL_RATE,
            "target_ok": ours["total_rate"] >= TARGET_RATE,
            "memory_ok": ours["max_rss_mb"] < GOAL_MEMORY_MB,
        },
    }


def command_line(args) -> str:
    parts = [
        "python -m bench.import_bench",
        f"--rows {args.rows}",
        f"--stock-rows {args.stock_rows}",
    ]
    if args.repeat != 3:
        parts.append(f"--repeat {args.repeat}")
    if args.actor != "coordinator_malang":
        parts.append(f"--actor {args.actor}")
    return " ".join(parts)


def _n(value: float) -> str:
    return f"{value:,.0f}"


def render_table(r: dict) -> str:
    ours, stock, parse = r["ours"], r["stock"], r["parse"]
    rows = ours["rows"]
    lines = [
        "| Step | rows | seconds | rows/s |",
        "|---|---:|---:|---:|",
        f"| parse: `read_table` (python-calamine, with the zip and XML checks) | {_n(rows)} | "
        f"{parse['calamine_seconds']:.2f} | {_n(parse['calamine_rate'])} |",
        f"| parse: openpyxl read-only, values only (reference) | {_n(parse['openpyxl_rows'])} | "
        f"{parse['openpyxl_seconds']:.2f} | {_n(parse['openpyxl_rate'])} |",
        f"| parse: import-export's `XLSX` format (openpyxl into tablib, reference) | "
        f"{_n(parse['import_export_xlsx_rows'])} | {parse['import_export_xlsx_seconds']:.2f} | "
        f"{_n(parse['import_export_xlsx_rate'])} |",
        f"| ours: validation (`plan_import`) | {_n(rows)} | {rows / ours['plan_rate']:.2f} | "
        f"{_n(ours['plan_rate'])} |",
        f"| ours: write (`execute_plan` + COMMIT) | {_n(rows)} | {rows / ours['write_rate']:.2f} | "
        f"{_n(ours['write_rate'])} |",
        f"| **ours: end to end** (read + validate + write, one transaction) | {_n(rows)} | "
        f"{ours['total_seconds']:.2f} | **{_n(ours['total_rate'])}** |",
        f"| ours: re-validating the same file against the filled register | {_n(rows)} | "
        f"{rows / ours['revalidate_rate']:.2f} | {_n(ours['revalidate_rate'])} |",
        f"| database floor: the same rows written again by COPY from prepared text, with the "
        f"foreign-key checks (no Python per row) | {_n(rows)} | {ours['floor']['total']:.2f} | "
        f"{_n(ours['floor_rate'])} |",
        f"| ours: end to end, first {_n(stock['rows'])} rows only | {_n(stock['rows'])} | "
        f"{r['ours_subset']['total_seconds']:.2f} | {_n(r['ours_subset']['total_rate'])} |",
        f"| **stock django-import-export {r['machine']['django_import_export']}, defaults** "
        f"(first {_n(stock['rows'])} rows, Person only) | {_n(stock['rows'])} | "
        f"{stock['total_seconds']:.2f} | **{_n(stock['rate'])}** |",
        "",
        f"Ratio ours / stock: **{r['ratio']:.1f}x** (ours on {_n(rows)} rows against stock on "
        f"{_n(stock['rows'])}); on the same {_n(stock['rows'])} rows: {r['ratio_same_rows']:.1f}x.",
        "",
        "The floor, step by step (seconds): "
        + ", ".join(
            f"{name.removeprefix('migrants_')} {value:.2f}"
            for name, value in ours["floor"].items()
            if name != "total"
        )
        + ".",
        "",
        "| Memory | MB |",
        "|---|---:|",
        f"| ours, peak RSS of the importing process ({_n(rows)} rows) | {ours['max_rss_mb']:.0f} |",
        f"| ours, RSS of that process before the import (Django loaded) | "
        f"{ours['rss_start_mb']:.0f} |",
        f"| ours, Python heap peak during the import (tracemalloc) | "
        f"{ours['traced_peak_mb']:.0f} |",
        f"| stock, peak RSS of the importing process ({_n(stock['rows'])} rows) | "
        f"{stock['max_rss_mb']:.0f} |",
        "",
        f"Goal ≥ {_n(GOAL_RATE)} rows/s: {'met' if r['goal']['rate_ok'] else 'NOT met'}; "
        f"target {_n(TARGET_RATE)} rows/s: {'met' if r['goal']['target_ok'] else 'not met'}; "
        f"peak memory < {GOAL_MEMORY_MB} MB: {'met' if r['goal']['memory_ok'] else 'NOT met'}. "
        f"End-to-end rates of the {ours['runs']} runs: "
        + ", ".join(_n(v) for v in ours["total_rates_all"])
        + " rows/s (the median is shown).",
    ]
    return "\n".join(lines)


def render_import_section(r: dict) -> str:
    m, ours = r["machine"], r["ours"]
    counts = ours["counts"]
    setting = (
        f"Measured {m['date']} with `{r['command']}` (`make bench`): {m['nproc']} cores "
        f"(`nproc`), {m['cpu']}, {m['memory_gb']} GB RAM, PostgreSQL {m['postgresql']}, "
        f"Python {m['python']}, Django {m['django']}, django-import-export "
        f"{m['django_import_export']}, python-calamine {m['python_calamine']}, "
        f"openpyxl {m['openpyxl']}, psycopg {m['psycopg']}, DEBUG={m['debug']}; "
        f"load average at the start: {m['load']}."
    )
    data = (
        f"Importing actor: `{r['actor']}`. The file: {counts['rows']:,} rows; the import made "
        f"{counts['new']:,} new people, {ours['episodes']:,} migration episodes and "
        f"{ours['history']:,} history entries ({counts['errors']} errors, "
        f"{counts['warnings']} warnings)."
    )
    return "\n".join([IMPORT_START, setting, "", data, "", render_table(r), IMPORT_END])


def render_regions_section(r: dict) -> str:
    g, m = r["regions"], r["machine"]
    return "\n".join(
        [
            REGIONS_START,
            f"Re-measured {m['date']} by the import benchmark in its scratch database "
            f"(`regions_load` of the packaged edition, in-process, without Django's start-up): "
            f"first run {g['first_seconds']:.1f} s, second run {g['second_seconds']:.1f} s "
            f"({g['regions']}).",
            REGIONS_END,
        ]
    )


def _replace(text: str, start: str, end: str, section: str) -> str:
    if start in text and end in text:
        head, rest = text.split(start, 1)
        _old, tail = rest.split(end, 1)
        return head + section + tail
    return text.rstrip("\n") + "\n\n" + section + "\n"


def write_docs(r: dict) -> None:
    text = DOCS.read_text() if DOCS.exists() else "# Benchmarks\n"
    text = _replace(text, IMPORT_START, IMPORT_END, render_import_section(r))
    text = _replace(text, REGIONS_START, REGIONS_END, render_regions_section(r))
    DOCS.write_text(text)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.import_bench", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--rows", type=int, default=50_000, help="rows in the file (50,000)")
    parser.add_argument(
        "--stock-rows",
        type=int,
        default=5_000,
        help="rows of the same file given to stock django-import-export (5,000; it runs ~400/s)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of ours (median shown)")
    parser.add_argument("--actor", choices=sorted(ACTORS), default="coordinator_malang")
    parser.add_argument("--no-docs", action="store_true", help="do not update docs/benchmarks.md")
    parser.add_argument("--keep-db", action="store_true", help="keep the scratch database")
    parser.add_argument("--phase", choices=sorted(PHASES), help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--revalidate", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--floor", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rows < 1 or args.stock_rows < 1 or args.repeat < 1:
        parser.error("--rows, --stock-rows and --repeat must be positive")
    _database()  # refuses anything but a scratch PostgreSQL database, before touching it
    # migrants/admin.py's export resource warns about its field list at every start-up.
    warnings.filterwarnings("ignore", message=".*not declared in 'fields' whitelist")
    if args.phase:
        import django

        django.setup()
        print("RESULT " + json.dumps(PHASES[args.phase](args), default=str), flush=True)
        return
    orchestrate(args)


if __name__ == "__main__":
    main()
