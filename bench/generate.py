# The SQL below is assembled from this module's own constants (no outside input reaches it).
# ruff: noqa: S608
"""A million-person Desmigratif world in a scratch PostgreSQL database, for the dashboards and
reports benchmarks (issue 6).

    DEBUG=true .venv/bin/python -m bench.generate --people 1000000 --episodes 1300000 \
        --activities 3000000 [--villages 500] [--database desmigratif_dash_bench] [--keep-db]
    DEBUG=true .venv/bin/python -m bench.generate --small --keep-db      # 2,000 people, seconds

Recreates the database (its name must contain "bench"), migrates it, loads the packaged region
edition and the demo users, then fills it with SQL (`INSERT ... SELECT generate_series`, every
value drawn from a hash of the row number, so a run is reproducible):

- ~500 Desmigratif villages in twelve migrant-sending provinces, four to a regency, cohorts
  2017-2024 in the programme's proportions (the demo's six villages among them), all following
  the four-pillar variant, each with an officer account;
- the people (62% migrant workers, the rest family, half of them children), NIKs consistent
  with the district, birth date and sex (7% missing, 3% with a warning), verification states;
- their migration episodes over five years (1-5 per worker; the person's status, country and
  procedural status are those of the latest), countries, job titles, schemes, sectors, return
  reasons in plausible proportions;
- pillar records over 36 months: services, outreach, cases, enterprises, trainings (with their
  participants), referrals, parenting sessions, enrolled children, cooperative members and
  monthly figures, each in a village that runs that pillar (not every village runs all four;
  4% have gone silent) and tagged with the village's pillar of the record's kind; the groups
  and cooperatives they belong to; soft-deleted rows (0.5%);
- monthly reports for most villages and months (draft, submitted, verified, returned).

`--activities` counts the rows of the ten activity tables (ServiceLog, Outreach, Case,
Enterprise, Training, Referral, ParentingSession, ChildEnrolment, CooperativeMember,
CooperativePeriod); groups, cooperatives, training participants and monthly reports come on
top. The database is dropped at the end unless --keep-db (the dashboard benchmark reuses it).

`fill()` is the generator itself, against Django's connection; the tests run it small.
"""

import argparse
import datetime
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import unquote, urlparse

DEFAULT_DATABASE = "desmigratif_dash_bench"
SMALL_DATABASE = "desmigratif_dash_small_bench"
SMALL = {"people": 2_000, "episodes": 2_600, "activities": 6_000, "villages": 20}
# Above this many people the tables' secondary indexes are dropped during the load and built
# again afterwards (one sorted build instead of millions of scattered inserts), and foreign
# keys are not checked (the rows are generated from the keys themselves).
FAST_FROM = 100_000

# Migrant-sending provinces and their share of the villages (12 provinces, as in 2019).
PROVINCES = {
    "35": 110, "33": 90, "32": 80, "52": 50, "53": 30, "18": 30,
    "36": 20, "12": 20, "61": 20, "73": 20, "51": 15, "34": 15,
}  # fmt: skip
VILLAGES_PER_REGENCY = 4
COHORTS = [  # year, share of the villages (120 in 2017, 402 by 2019, 503 by 2022)
    (2017, 0.23), (2018, 0.27), (2019, 0.27), (2020, 0.07),
    (2021, 0.05), (2022, 0.06), (2023, 0.03), (2024, 0.02),
]  # fmt: skip
# Which pillars a village runs (a 2023 review: not every village runs all four).
RUNS = {"service_centre": 0.95, "enterprise": 0.80, "parenting": 0.62, "cooperative": 0.55}
SILENT = 0.04  # villages with nothing recorded for the last 60+ days
MIGRANT_SHARE = 0.62
YEARS = 5  # episodes over this many years
MONTHS = 36  # pillar activity over this many months

# The activity tables and their share of --activities; the service log takes the rest.
SHARES = {
    "outreach": 0.05,
    "case": 0.05,
    "enterprise": 0.05,
    "training": 0.02,
    "referral": 0.08,
    "session": 0.12,
    "enrolment": 0.06,
    "member": 0.10,
    "period": 0.02,
}
ACTIVITY_TABLES = {
    "service": "pillars_servicelog",
    "outreach": "pillars_outreach",
    "case": "pillars_case",
    "enterprise": "pillars_enterprise",
    "training": "pillars_training",
    "referral": "pillars_referral",
    "session": "pillars_parentingsession",
    "enrolment": "pillars_childenrolment",
    "member": "pillars_cooperativemember",
    "period": "pillars_cooperativeperiod",
}
# The activity tables by the kind of pillar their rows belong to (pillars.demo.KIND).
KIND_OF = {
    "pillars_servicelog": "service_centre",
    "pillars_outreach": "service_centre",
    "pillars_case": "service_centre",
    "pillars_enterprise": "enterprise",
    "pillars_training": "enterprise",
    "pillars_referral": "enterprise",
    "pillars_parentinggroup": "parenting",
    "pillars_parentingsession": "parenting",
    "pillars_childenrolment": "parenting",
    "pillars_cooperative": "cooperative",
    "pillars_cooperativemember": "cooperative",
    "pillars_cooperativeperiod": "cooperative",
}
OTHER_TABLES = [
    "villages_designation",
    "accounts_user",
    "migrants_person",
    "migrants_episode",
    "pillars_parentinggroup",
    "pillars_cooperative",
    "pillars_training_participants",
    "pillars_monthlyreport",
]

# Placements: country, job title, sector, employer type, scheme, weight.
PLACEMENTS = [
    ("HK", "Penata Laksana Rumah Tangga", "informal", "individual", "p2p", 18),
    ("HK", "Perawat Lansia", "informal", "individual", "p2p", 4),
    ("TW", "Perawat Lansia", "informal", "individual", "p2p", 14),
    ("TW", "Operator Pabrik", "formal", "legal_entity", "p2p", 8),
    ("TW", "Anak Buah Kapal Perikanan", "formal", "legal_entity", "p2p", 3),
    ("MY", "Pekerja Perkebunan", "formal", "legal_entity", "p2p", 10),
    ("MY", "Penata Laksana Rumah Tangga", "informal", "individual", "mandiri", 4),
    ("MY", "Operator Pabrik", "formal", "legal_entity", "p2p", 6),
    ("MY", "Pekerja Konstruksi", "formal", "legal_entity", "ukps", 2),
    ("SA", "Penata Laksana Rumah Tangga", "informal", "individual", "p2p", 3),
    ("SG", "Penata Laksana Rumah Tangga", "informal", "individual", "p2p", 7),
    ("KR", "Operator Produksi", "formal", "legal_entity", "g2g", 6),
    ("JP", "Pekerja Konstruksi", "formal", "legal_entity", "g2g", 2),
    ("JP", "Perawat", "formal", "legal_entity", "g2p", 2),
    ("BN", "Pekerja Restoran", "formal", "legal_entity", "p2p", 2),
    ("AE", "Penata Laksana Rumah Tangga", "informal", "individual", "p2p", 1),
    ("QA", "Pekerja Konstruksi", "formal", "legal_entity", "p2p", 1),
    ("DE", "Perawat", "formal", "legal_entity", "g2p", 1),
]
AGENCIES = [
    "PT Bina Karya Mandiri", "PT Sukses Mitra Abadi", "PT Jatim Citra Sarana",
    "PT Mutiara Lintas Samudra", "PT Duta Wibawa Insani", "PT Graha Ayu Karsa",
]  # fmt: skip
FIRST_F = [
    "Siti", "Sri", "Dewi", "Nur", "Tri", "Eka", "Rina", "Yuli", "Ani", "Lestari", "Wahyuni",
    "Endang", "Sumarni", "Suci", "Puji", "Rahayu", "Indah", "Fitri", "Umi", "Kartini",
]  # fmt: skip
FIRST_M = [
    "Ahmad", "Muhammad", "Budi", "Slamet", "Agus", "Joko", "Eko", "Dedi", "Hadi", "Bambang",
    "Rudi", "Yusuf", "Sugeng", "Heru", "Imam", "Arif", "Wahyu", "Anton", "Dwi", "Teguh",
]  # fmt: skip
LAST = [
    "Aminah", "Wulandari", "Santoso", "Riyadi", "Hidayat", "Susanti", "Prasetyo", "Kurniawan",
    "Setiawan", "Handayani", "Saputra", "Rahmawati", "Purnomo", "Nugroho", "Maulana",
    "Kusuma", "Hartono", "Syahputra", "Lestari", "Utami",
]  # fmt: skip


# --- SQL helpers --------------------------------------------------------------------------------


def _literal(value) -> str:
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return repr(value)


def pick(values: list, weights: list[float], u: str, cast: str = "text") -> str:
    """SQL choosing one of `values` with `weights`, by the uniform [0, 1) expression `u`."""
    total = float(sum(weights))
    bounds, running = [], 0.0
    for weight in weights:
        bounds.append(running / total)
        running += weight
    items = ", ".join(_literal(v) for v in values)
    cuts = ", ".join(f"{b:.6f}" for b in bounds)
    return f"(ARRAY[{items}]::{cast}[])[width_bucket({u}, ARRAY[{cuts}]::float8[])]"


def array(values: list, cast: str = "text") -> str:
    return f"(ARRAY[{', '.join(_literal(v) for v in values)}]::{cast}[])"


def h(key: str, salt: int) -> str:
    """A uniform [0, 1) draw for the row `key`, independent for each salt."""
    return f"pg_temp.h(({key})::bigint, {salt})"


# --- The generator ------------------------------------------------------------------------------


@dataclass
class Result:
    counts: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    planned: dict[str, int] = field(default_factory=dict)

    @property
    def activities(self) -> int:
        return sum(self.counts[table] for table in ACTIVITY_TABLES.values())

    @property
    def seconds(self) -> float:
        return sum(self.timings.values())


def episode_levels(migrants: int, episodes: int) -> list[int]:
    """How many workers have at least 2, 3, ... episodes (each count <= the one before), so
    that `migrants` workers have exactly `episodes` episodes, most of them one or two."""
    extra = episodes - migrants
    if extra <= 0:
        return []
    ratio = 0.35
    while True:
        levels = 2 if ratio >= 1 else 8
        weights = [ratio**n for n in range(levels)]
        counts = [math.floor(extra * w / sum(weights)) for w in weights]
        counts[0] += extra - sum(counts)
        if counts[0] <= migrants:
            return [c for c in counts if c > 0]
        ratio = min(ratio + 0.1, 1.0)
        if ratio >= 1 and extra > migrants * 8:
            raise ValueError("more than eight episodes per worker: add people")


def _coprime_multiplier(n: int) -> int:
    for candidate in (7919, 104729, 1299709, 15485863):
        if math.gcd(candidate, n) == 1:
            return candidate
    return 1


def fill(
    *,
    people: int,
    episodes: int,
    activities: int,
    villages: int = 500,
    today: datetime.date | None = None,
    fast: bool | None = None,
    log: Callable[[str], None] = print,
) -> Result:
    """Fill the database Django is connected to (regions, the pillar variant and partner
    programmes must be there; the demo's designations and users are used when present)."""
    from django.db import connection
    from django.utils import timezone

    from migrants.models import child_cutoff

    if people < 1 or episodes < 0 or activities < 0 or villages < 1:
        raise ValueError("sizes must be positive")
    today = today or timezone.localdate()
    fast = people >= FAST_FROM if fast is None else fast
    migrants = min(round(people * MIGRANT_SHARE), episodes) if episodes else 0
    levels = episode_levels(migrants, episodes) if migrants else []
    result = Result()
    params = {
        "today": today,
        "cutoff": child_cutoff(today),
        "people": people,
        "migrants": migrants,
        "mult": _coprime_multiplier(max(migrants, 1)),
        "months": MONTHS,
        "window_start": today - datetime.timedelta(days=round(YEARS * 365.25)),
        "activity_start": today - datetime.timedelta(days=round(MONTHS * 30.44)),
    }

    def run(step: str, statements: list[str], extra: dict | None = None) -> None:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement, {**params, **(extra or {})})
        result.timings[step] = result.timings.get(step, 0.0) + time.perf_counter() - started
        log(f"  {step}: {time.perf_counter() - started:.1f} s")

    def scalar(query: str, extra: dict | None = None):
        with connection.cursor() as cursor:
            cursor.execute(query, {**params, **(extra or {})})
            return cursor.fetchone()[0]

    session = [
        "SET work_mem = '256MB'",
        "SET maintenance_work_mem = '512MB'",
        "SET synchronous_commit = off",
        # The generated expressions are long: compiling them took 13 s a statement.
        "SET jit = off",
    ]
    if fast:
        session.append("SET session_replication_role = replica")  # no FK triggers
    session.append(
        "CREATE OR REPLACE FUNCTION pg_temp.h(i bigint, s bigint) RETURNS float8 "
        "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS "
        "$$ SELECT (hashint8extended(i, s) & 9007199254740991)::float8 / 9007199254740992.0 $$"
    )
    run("session", session)
    tables = list(ACTIVITY_TABLES.values()) + OTHER_TABLES[2:]
    dropped = _drop_indexes(tables) if fast else []

    run("villages", _village_sql(villages), {"wanted": villages})
    params["villages"] = scalar("SELECT count(*) FROM bv")
    run("people", [HOUSEHOLDS_SQL, _people_sql(levels)])
    run("episodes", [_episodes_sql(levels)] if migrants else [])
    run("lookups", _lookup_sql())
    ranked = {kind: scalar(f"SELECT count(*) FROM bv WHERE r_{kind} IS NOT NULL") for kind in RUNS}
    params.update({f"v_{kind}": n for kind, n in ranked.items()})
    run("groups_and_cooperatives", _parents_sql())
    cooperatives = scalar("SELECT count(*) FROM bco")

    planned = {name: round(activities * share) for name, share in SHARES.items()}
    planned["period"] = min(planned["period"], cooperatives * MONTHS)
    if not ranked["enterprise"]:
        planned.update(enterprise=0, training=0, referral=0)
    if not ranked["parenting"]:
        planned.update(session=0, enrolment=0)
    if not ranked["cooperative"]:
        planned.update(member=0, period=0)
    planned["service"] = activities - sum(planned.values())
    if planned["service"] < 0 or (planned["service"] and not ranked["service_centre"]):
        raise ValueError("not enough villages running the service centre for these sizes")
    params.update({f"n_{name}": n for name, n in planned.items()})
    result.planned = {ACTIVITY_TABLES[name]: n for name, n in planned.items()}
    for name, statements in _activity_sql().items():
        if name == "enterprise_lookup":
            run("activities.enterprise", statements)
            continue
        run(f"activities.{name}", statements if params[f"n_{name}"] else [])
    run("training_participants", [_participants_sql()])
    run("monthly_reports", [_reports_sql()])
    if dropped:
        run("indexes", dropped)
    cleanup = ["DROP TABLE IF EXISTS bv, ba, bc, bg, bco, be"]
    cleanup += [
        f"RESET {name}"
        for name in ("work_mem", "maintenance_work_mem", "synchronous_commit", "jit")
    ]
    if fast:
        cleanup.append("SET session_replication_role = DEFAULT")
    run("cleanup", cleanup)
    started = time.perf_counter()
    analyze([*tables, "villages_designation", "accounts_user"])
    result.timings["analyze"] = time.perf_counter() - started
    log(f"  analyze: {result.timings['analyze']:.1f} s")
    with connection.cursor() as cursor:
        for table in list(ACTIVITY_TABLES.values()) + OTHER_TABLES:
            cursor.execute(f"SELECT count(*) FROM {table}")
            result.counts[table] = cursor.fetchone()[0]
    return result


def analyze(tables: list[str]) -> None:
    """VACUUM (ANALYZE) outside a transaction (fresh visibility maps for index-only scans),
    plain ANALYZE inside one (the tests)."""
    from django.db import connection

    verb = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"{verb} {table}")


def _drop_indexes(tables: list[str]) -> list[str]:
    """Drop the tables' secondary indexes (not those behind a constraint); returns the
    statements that build them again."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT i.schemaname, i.indexname, i.indexdef FROM pg_indexes i
            WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s)
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                              WHERE c.conindid = (quote_ident(i.schemaname) || '.' ||
                                                  quote_ident(i.indexname))::regclass)
            """,
            [tables],
        )
        rows = cursor.fetchall()
        for schema, name, _definition in rows:
            cursor.execute(f'DROP INDEX "{schema}"."{name}"')
    return [definition for _schema, _name, definition in rows]


def _village_sql(_wanted: int) -> list[str]:
    quotas = ", ".join(f"('{code}', {share})" for code, share in PROVINCES.items())
    total_share = sum(PROVINCES.values())
    cohort = pick([y for y, _ in COHORTS], [s for _, s in COHORTS], "c.u", "int")
    runs = ",\n".join(
        f"({h('n', 20 + i)} < {share}) AS runs_{kind}"
        for i, (kind, share) in enumerate(RUNS.items())
    )
    return [
        # New designations: four villages (desa) a regency, regencies taken round-robin in
        # each province, up to the province's share of the villages still wanted.
        f"""
        WITH quota(province, share) AS (VALUES {quotas}),
        wanted AS (
            SELECT greatest(%(wanted)s - (SELECT count(*) FROM villages_designation), 0) AS n
        ),
        regency AS (
            SELECT r.code, r.parent_id AS province,
                   row_number() OVER (PARTITION BY r.parent_id ORDER BY md5(r.code)) AS rr
            FROM villages_region r JOIN quota q ON q.province = r.parent_id
            WHERE r.level = 2 AND r.retired_at IS NULL AND split_part(r.code, '.', 2)::int < 71
        ),
        village AS (
            SELECT v.code, g.province, g.rr,
                   row_number() OVER (PARTITION BY g.code ORDER BY md5(v.code)) AS vr
            FROM villages_region v JOIN regency g ON left(v.code, 5) = g.code
            WHERE v.level = 4 AND v.retired_at IS NULL AND left(split_part(v.code, '.', 4), 1) = '2'
              AND NOT EXISTS (SELECT 1 FROM villages_designation d WHERE d.village_id = v.code)
        ),
        ranked AS (
            SELECT v.code, v.province,
                   row_number() OVER (PARTITION BY v.province
                                      ORDER BY (v.vr - 1) / {VILLAGES_PER_REGENCY}, v.rr, v.vr) AS k
            FROM village v
        ),
        chosen AS (
            SELECT r.code FROM ranked r JOIN quota q ON q.province = r.province, wanted w
            WHERE r.k <= ceil(w.n * q.share / {total_share}.0)
            ORDER BY r.k, md5(r.code) LIMIT (SELECT n FROM wanted)
        ),
        c AS (
            SELECT code, pg_temp.h(('x' || left(md5(code), 15))::bit(60)::bigint, 1) AS u,
                   pg_temp.h(('x' || left(md5(code), 15))::bit(60)::bigint, 2) AS u2
            FROM chosen
        )
        INSERT INTO villages_designation (village_id, cohort_year, variant_id, status,
            decree_reference, start_date, created_at, updated_at)
        SELECT c.code, y.cohort, (SELECT id FROM pillars_programmevariant
                                  WHERE code = 'desmigratif-4-pilar'),
               CASE WHEN c.u2 < 0.05 THEN 'inactive'
                    WHEN c.u2 < 0.10 AND y.cohort <= 2019 THEN 'graduated' ELSE 'active' END,
               'Data uji: penetapan Desmigratif angkatan ' || y.cohort,
               CASE WHEN y.cohort = 2017 THEN date '2017-09-11'
                    ELSE make_date(y.cohort, 1 + floor(c.u2 * 12)::int, 1) END,
               now(), now()
        FROM c CROSS JOIN LATERAL (SELECT {cohort} AS cohort) y
        """,
        # Every designated village: its number, window of activity, pillars and officer.
        f"""
        CREATE TEMP TABLE bv AS
        SELECT n, code, variant_id, start_date, lo,
               CASE WHEN silent THEN greatest(lo, %(today)s - 61 - floor({h("n", 19)} * 240)::int)
                    ELSE %(today)s END AS hi,
               silent, {runs},
               (SELECT min(p.id) FROM pillars_pillar p WHERE p.variant_id = d.variant_id
                AND p.kind = 'service_centre' AND p.active) AS p_service_centre,
               (SELECT min(p.id) FROM pillars_pillar p WHERE p.variant_id = d.variant_id
                AND p.kind = 'enterprise' AND p.active) AS p_enterprise,
               (SELECT min(p.id) FROM pillars_pillar p WHERE p.variant_id = d.variant_id
                AND p.kind = 'parenting' AND p.active) AS p_parenting,
               (SELECT min(p.id) FROM pillars_pillar p WHERE p.variant_id = d.variant_id
                AND p.kind = 'cooperative' AND p.active) AS p_cooperative,
               NULL::bigint AS officer_id, 0 AS adults, 0 AS children, 0 AS households,
               1 + floor({h("n", 30)} * 3)::int AS groups,
               1 + floor({h("n", 31)} * 2)::int AS coops,
               NULL::int AS r_service_centre, NULL::int AS r_enterprise,
               NULL::int AS r_parenting, NULL::int AS r_cooperative
        FROM (
            SELECT row_number() OVER (ORDER BY md5(village_id))::int AS n, village_id AS code,
                   variant_id, coalesce(start_date, make_date(cohort_year, 1, 1)) AS start_date,
                   greatest(coalesce(start_date, make_date(cohort_year, 1, 1)),
                            %(activity_start)s) AS lo
            FROM villages_designation
        ) d CROSS JOIN LATERAL (SELECT {h("d.n", 18)} < {SILENT} AS silent) s
        """,
        "ALTER TABLE bv ADD PRIMARY KEY (n)",
        "CREATE UNIQUE INDEX ON bv (code)",
        """
        INSERT INTO accounts_user (password, is_superuser, username, first_name, last_name,
            email, is_staff, is_active, date_joined, role, phone, scope_id)
        SELECT '!bench', false, 'bench_officer_' || replace(code, '.', ''), 'Petugas',
               code, '', false, true, now(), 'village_officer', '', code
        FROM bv ON CONFLICT (username) DO NOTHING
        """,
        """
        UPDATE bv SET officer_id = u.id FROM accounts_user u
        WHERE u.username = 'bench_officer_' || replace(bv.code, '.', '')
        """,
        """
        INSERT INTO villages_designation_officers (designation_id, user_id)
        SELECT d.id, bv.officer_id FROM bv JOIN villages_designation d ON d.village_id = bv.code
        ON CONFLICT DO NOTHING
        """,
    ]


# Expected people per village (the draw in _people_sql), for the family-card numbers.
HOUSEHOLDS_SQL = """
UPDATE bv SET households = greatest(1, round(
    %(people)s * (power(n::float8 / %(villages)s, 0.8)
                  - power((n - 1)::float8 / %(villages)s, 0.8)) / 3.5))
"""


def _episode_count_sql(k: str, levels: list[int]) -> str:
    perm = f"mod(({k} - 1)::bigint * %(mult)s, %(migrants)s)"
    return "1" + "".join(f" + ({perm} < {level})::int" for level in levels)


def _placement(index: str) -> dict[str, str]:
    columns = list(zip(*PLACEMENTS, strict=True))
    names = ["country", "job", "sector", "employer", "scheme"]
    return {
        name: f"({array(list(values))})[{index}]"
        for name, values in zip(names, columns[:5], strict=True)
    }


def _placement_index(u: str) -> str:
    return pick(list(range(1, len(PLACEMENTS) + 1)), [p[5] for p in PLACEMENTS], u, "int")


def _procedural(key: str) -> str:
    return pick(["procedural", "non_procedural", "unknown"], [72, 18, 10], h(key, 11))


STATUS_WEIGHTS = (["cpmi", "pmi", "purna"], [15, 45, 40])


def _people_sql(levels: list[int]) -> str:
    last_key = "g.i * 16 + m.e"
    place = _placement("m.place")
    first_f, first_m, last = array(FIRST_F), array(FIRST_M), array(LAST)
    education = pick(
        ["sd", "smp", "sma", "diploma", "s1", "none"], [30, 32, 28, 4, 4, 2], h("g.i", 40)
    )
    marital = pick(["married", "single", "divorced", "widowed"], [60, 28, 9, 3], h("g.i", 41))
    verification = pick(
        ["draft", "submitted", "verified", "returned"], [15, 15, 65, 5], h("g.i", 42)
    )
    relationship = {
        "worker": pick(["head", "spouse", "child"], [40, 35, 25], h("g.i", 49)),
        "child": pick(["child", "grandchild"], [85, 15], h("g.i", 49)),
        "adult": pick(
            ["spouse", "parent", "parent_in_law", "other_family"], [45, 35, 12, 8], h("g.i", 49)
        ),
    }
    places = array(["Malang", "Blitar", "Indramayu", "Wonosobo", "Lombok Timur", "Cilacap",
                    "Kupang", "Lampung Timur", "Ponorogo", "Tulungagung"])  # fmt: skip
    return f"""
    INSERT INTO migrants_person (id, nik, no_kk, full_name, name_key, sex, birth_place,
        birth_date, village_id, dusun, rt, rw, address, phone, education, marital_status,
        relationship, status, current_country, current_procedural, verification,
        verification_note, verified_at, nik_warnings, deleted_at, created_at, updated_at)
    SELECT id,
           CASE WHEN has_nik THEN nik12 || lpad((row_number() OVER (
               PARTITION BY nik12 ORDER BY i))::text, 4, '0') END,
           no_kk, full_name, lower(full_name), sex, birth_place, birth_date, village_id,
           'Dusun ' || (1 + mod(i, 5)), lpad((1 + mod(i, 12))::text, 3, '0'),
           lpad((1 + mod(i, 6))::text, 3, '0'), 'Jl. Desa No. ' || (1 + mod(i, 150)),
           CASE WHEN adult THEN '08' || lpad(mod(i::bigint * 7919, 1000000000)::text, 10, '0')
                ELSE '' END,
           CASE WHEN adult THEN education ELSE '' END,
           CASE WHEN adult THEN marital ELSE 'single' END,
           relationship, status, country, procedural, verification,
           CASE WHEN verification = 'returned' THEN 'NIK dan alamat perlu dicek.' ELSE '' END,
           CASE WHEN verification = 'verified' THEN updated_at END,
           CASE WHEN has_nik AND warning <> '' THEN jsonb_build_array(warning)
                ELSE '[]'::jsonb END,
           CASE WHEN {h("i", 43)} < 0.003 THEN updated_at END,
           created_at, updated_at
    FROM (
        SELECT g.i, md5('p' || g.i)::uuid AS id, bv.code AS village_id, m.e, s.status,
               s.sex, s.birth_date, s.adult,
               CASE WHEN m.e > 0 THEN {place["country"]} ELSE '' END AS country,
               CASE WHEN m.e > 0 THEN {_procedural(last_key)} ELSE '' END AS procedural,
               CASE WHEN s.sex = 'P' THEN {first_f}[1 + floor({h("g.i", 44)} * {len(FIRST_F)})::int]
                    ELSE {first_m}[1 + floor({h("g.i", 44)} * {len(FIRST_M)})::int] END
                   || ' ' || {last}[1 + floor({h("g.i", 45)} * {len(LAST)})::int] AS full_name,
               {places}[1 + mod(bv.n, 10)] AS birth_place,
               CASE WHEN {h("g.i", 46)} < 0.9 THEN
                   left(replace(bv.code, '.', ''), 6)
                   || to_char(date '2004-01-01' + mod(hh.hh * 37 + bv.n, 6500), 'DDMMYY')
                   || lpad((1 + mod(hh.hh, 9999))::text, 4, '0')
               ELSE '' END AS no_kk,
               {h("g.i", 48)} >= CASE WHEN s.adult THEN 0.05 ELSE 0.25 END AS has_nik,
               w.warning,
               CASE w.warning WHEN 'prefix_unknown' THEN left(replace(bv.code, '.', ''), 4) || '99'
                    ELSE left(replace(bv.code, '.', ''), 6) END
               || lpad((extract(day FROM w.nik_date)::int
                        + CASE WHEN (s.sex = 'P') <> (w.warning = 'sex_mismatch') THEN 40 ELSE 0 END
                       )::text, 2, '0')
               || to_char(w.nik_date, 'MMYY') AS nik12,
               {education} AS education, {marital} AS marital,
               CASE WHEN m.e > 0 THEN {relationship["worker"]}
                    WHEN NOT s.adult THEN {relationship["child"]}
                    ELSE {relationship["adult"]} END AS relationship,
               {verification} AS verification,
               t.created_at, t.created_at + (now() - t.created_at) * {h("g.i", 50)} AS updated_at
        FROM generate_series(1, %(people)s) AS g(i)
        JOIN bv ON bv.n = 1 + floor(%(villages)s * power({h("g.i", 1)}, 1.25))::int
        CROSS JOIN LATERAL (
            SELECT floor({h("g.i", 47)} * bv.households)::int AS hh  -- the family card
        ) hh
        CROSS JOIN LATERAL (
            SELECT CASE WHEN g.i <= %(migrants)s THEN {_episode_count_sql("g.i", levels)}
                        ELSE 0 END AS e
        ) m0
        CROSS JOIN LATERAL (
            SELECT m0.e,
                   CASE WHEN m0.e > 0 THEN {_placement_index(h("g.i * 16 + m0.e", 10))} END AS place
        ) m
        CROSS JOIN LATERAL (
            SELECT st.status, st.adult, st.sex,
                   %(today)s - CASE WHEN m.e > 0 THEN 7300 + floor({h("g.i", 4)} * 10950)::int
                                    WHEN NOT st.adult THEN floor({h("g.i", 4)} * 6500)::int
                                    ELSE 6600 + floor({h("g.i", 4)} * 20000)::int END AS birth_date
            FROM (
                SELECT CASE WHEN m.e > 0 THEN {pick(*STATUS_WEIGHTS, h("g.i", 2))}
                            ELSE 'keluarga' END AS status,
                       m.e > 0 OR {h("g.i", 5)} >= 0.55 AS adult,
                       CASE WHEN m.e > 0 THEN
                                CASE WHEN {h("g.i", 3)} < CASE WHEN {place["sector"]} = 'informal'
                                                              THEN 0.9 ELSE 0.3 END
                                     THEN 'P' ELSE 'L' END
                            WHEN {h("g.i", 3)} < 0.5 THEN 'P' ELSE 'L' END AS sex
            ) st
        ) s
        CROSS JOIN LATERAL (
            SELECT CASE WHEN {h("g.i", 6)} < 0.015 THEN 'birth_date_mismatch'
                        WHEN {h("g.i", 6)} < 0.022 THEN 'sex_mismatch'
                        WHEN {h("g.i", 6)} < 0.030 THEN 'prefix_unknown' ELSE '' END AS warning,
                   s.birth_date + CASE WHEN {h("g.i", 6)} < 0.015 THEN 3 ELSE 0 END AS nik_date
        ) w
        CROSS JOIN LATERAL (
            SELECT (%(window_start)s + floor({h("g.i", 7)} * (%(today)s - %(window_start)s))::int
                    + time '08:00' + {h("g.i", 8)} * interval '9 hours')
                   AT TIME ZONE 'Asia/Jakarta' AS created_at
        ) t
    ) p
    """


def _episodes_sql(levels: list[int]) -> str:
    key = "k.k * 16 + s.s"
    place = _placement("x.place")
    reason = pick(
        ["contract_ended", "leave", "problem", "deported", "death"], [62, 14, 12, 10, 2], h(key, 12)
    )
    source = {
        "procedural": pick(
            ["national_register", "officer", "self_reported"], [5, 3, 2], h(key, 13)
        ),
        "non_procedural": pick(["officer", "self_reported"], [6, 4], h(key, 13)),
        "unknown": pick(["", "self_reported"], [7, 3], h(key, 13)),
    }
    agencies = array(AGENCIES)
    return f"""
    INSERT INTO migrants_episode (id, person_id, destination_country, job_title, sector,
        employer_type, placement_scheme, p3mi_name, p3mi_licence, foreign_partner,
        contract_start, contract_end, passport_number, passport_expiry, departure_date,
        return_date, return_reason, procedural_status, procedural_source, bpjs_member,
        created_at, updated_at)
    SELECT md5('e' || k.k || '.' || s.s)::uuid, md5('p' || k.k)::uuid,
           {place["country"]}, {place["job"]}, {place["sector"]}, {place["employer"]},
           {place["scheme"]},
           CASE WHEN {place["scheme"]} IN ('p2p', 'ukps')
                THEN {agencies}[1 + floor({h(key, 14)} * {len(AGENCIES)})::int] ELSE '' END,
           CASE WHEN {place["scheme"]} IN ('p2p', 'ukps')
                THEN 'KEP.' || (100 + floor({h(key, 14)} * 900)::int) || '/2019' ELSE '' END,
           '',
           d.departure, d.departure + 730,
           CASE WHEN d.departure IS NOT NULL OR {h(key, 15)} < 0.5
                THEN 'C' || lpad(floor({h(key, 16)} * 10000000)::text, 7, '0') ELSE '' END,
           d.departure + 1825,
           d.departure, d.return_date,
           CASE WHEN d.return_date IS NOT NULL THEN {reason} ELSE '' END,
           x.procedural,
           CASE x.procedural WHEN 'procedural' THEN {source["procedural"]}
                             WHEN 'non_procedural' THEN {source["non_procedural"]}
                             ELSE {source["unknown"]} END,
           CASE WHEN {h(key, 17)} < CASE WHEN x.procedural = 'procedural' THEN 0.85 ELSE 0.2 END
                THEN true WHEN {h(key, 17)} < 0.92 THEN false END,
           c.created_at, greatest(c.created_at, (coalesce(d.return_date, d.departure,
               c.created_at::date) + time '10:00') AT TIME ZONE 'Asia/Jakarta')
    FROM generate_series(1, %(migrants)s) AS k(k)
    CROSS JOIN LATERAL (
        SELECT {_episode_count_sql("k.k", levels)} AS e,
               {pick(*STATUS_WEIGHTS, h("k.k", 2))} AS status
    ) m
    CROSS JOIN LATERAL generate_series(1, m.e) AS s(s)
    CROSS JOIN LATERAL (
        SELECT {_placement_index(h(key, 10))} AS place, {_procedural(key)} AS procedural,
               CASE WHEN s.s < m.e THEN 'returned'
                    WHEN m.status = 'cpmi' THEN 'planned'
                    WHEN m.status = 'pmi' THEN 'abroad' ELSE 'returned' END AS stage,
               %(window_start)s + floor((s.s - 1) * (%(today)s - %(window_start)s)::float8
                                        / m.e)::int AS slot_start,
               %(window_start)s + floor(s.s * (%(today)s - %(window_start)s)::float8
                                        / m.e)::int AS slot_end
    ) x
    CROSS JOIN LATERAL (
        SELECT CASE x.stage
                   WHEN 'planned' THEN NULL
                   WHEN 'abroad' THEN greatest(x.slot_start, %(today)s - 1100)
                       + floor({h(key, 18)} * (x.slot_end
                               - greatest(x.slot_start, %(today)s - 1100)))::int
                   ELSE x.slot_start + floor({h(key, 18)} * 0.7 * (x.slot_end - x.slot_start))::int
               END AS departure
    ) d0
    CROSS JOIN LATERAL (
        SELECT d0.departure,
               CASE WHEN x.stage = 'returned'
                    THEN d0.departure + floor({h(key, 19)} * (x.slot_end - d0.departure))::int
               END AS return_date
    ) d
    CROSS JOIN LATERAL (
        SELECT (coalesce(d.departure - 60 - floor({h(key, 20)} * 120)::int,
                         %(today)s - floor({h(key, 20)} * 365)::int) + time '09:00')
               AT TIME ZONE 'Asia/Jakarta' AS created_at
    ) c
    """


def _lookup_sql() -> list[str]:
    ranks = []
    for kind in RUNS:
        condition = f"runs_{kind} AND adults > 0 AND p_{kind} IS NOT NULL"
        if kind == "parenting":
            condition += " AND children > 0"
        ranks += [
            # At least one village runs each pillar (a small world might have drawn none).
            f"""
            UPDATE bv SET runs_{kind} = true
            WHERE NOT EXISTS (SELECT 1 FROM bv b WHERE {condition})
              AND n = (SELECT min(n) FROM bv b WHERE b.adults > 0 AND b.children > 0
                       AND b.p_{kind} IS NOT NULL)
            """,
            f"""
            UPDATE bv SET r_{kind} = r.k FROM (
                SELECT code, row_number() OVER (ORDER BY n)::int AS k FROM bv WHERE {condition}
            ) r WHERE r.code = bv.code
            """,
        ]
    return [
        # Adults and children of each village who may be named on a record (alive).
        """
        CREATE TEMP TABLE ba AS
        SELECT p.village_id, row_number() OVER (PARTITION BY p.village_id ORDER BY p.id)::int AS rn,
               p.id
        FROM migrants_person p JOIN bv ON bv.code = p.village_id
        WHERE p.deleted_at IS NULL AND p.birth_date <= %(cutoff)s
        """,
        """
        CREATE TEMP TABLE bc AS
        SELECT p.village_id, row_number() OVER (PARTITION BY p.village_id ORDER BY p.id)::int AS rn,
               p.id
        FROM migrants_person p JOIN bv ON bv.code = p.village_id
        WHERE p.deleted_at IS NULL AND p.birth_date > %(cutoff)s
        """,
        "CREATE UNIQUE INDEX ON ba (village_id, rn)",
        "CREATE UNIQUE INDEX ON bc (village_id, rn)",
        "ANALYZE ba",
        "ANALYZE bc",
        """
        UPDATE bv SET adults = coalesce((SELECT max(rn) FROM ba WHERE ba.village_id = bv.code), 0),
                      children = coalesce((SELECT max(rn) FROM bc WHERE bc.village_id = bv.code), 0)
        """,
        *ranks,
        "ANALYZE bv",
    ]


def _stamp(day: str, salt_key: str, salt: int) -> str:
    return (
        f"(({day}) + time '08:00' + {h(salt_key, salt)} * interval '8 hours') "
        "AT TIME ZONE 'Asia/Jakarta'"
    )


def _parents_sql() -> list[str]:
    group_names = array(["Rumah Belajar", "Kelompok Parenting", "Taman Belajar Anak"])
    coop_names = array(["Koperasi Purna Migran", "BUMDes", "KSP Desmigratif", "Koperasi Wanita"])
    coop_type = pick(
        ["cooperative", "bumdes", "financial", "other"], [50, 35, 10, 5], h("bv.n * 8 + c", 61)
    )
    return [
        f"""
        INSERT INTO pillars_parentinggroup (village_id, pillar_id, created_by_id, created_at,
            updated_at, name, facilitators, meeting_place, founded_on, active)
        SELECT bv.code, bv.p_parenting, bv.officer_id, {_stamp("bv.lo", "bv.n * 8 + g", 60)},
               {_stamp("bv.lo", "bv.n * 8 + g", 60)},
               {group_names}[1 + mod(bv.n + g, 3)] || ' ' || g, 'Fasilitator ' || bv.n || '.' || g,
               'Balai Desa', bv.lo, true
        FROM bv CROSS JOIN LATERAL generate_series(1, bv.groups) AS g
        WHERE bv.r_parenting IS NOT NULL
        """,
        f"""
        INSERT INTO pillars_cooperative (village_id, pillar_id, created_by_id, created_at,
            updated_at, type, name, legal_number, founded_on, state)
        SELECT bv.code, bv.p_cooperative, bv.officer_id, {_stamp("bv.lo", "bv.n * 8 + c", 62)},
               {_stamp("bv.lo", "bv.n * 8 + c", 62)}, {coop_type},
               {coop_names}[1 + mod(bv.n + c, 4)] || ' ' || bv.n || '.' || c,
               'AHU-' || lpad((bv.n * 10 + c)::text, 7, '0'), bv.lo - 400,
               CASE WHEN {h("bv.n * 8 + c", 63)} < 0.85 THEN 'active' ELSE 'dormant' END
        FROM bv CROSS JOIN LATERAL generate_series(1, bv.coops) AS c
        WHERE bv.r_cooperative IS NOT NULL
        """,
        """
        CREATE TEMP TABLE bg AS
        SELECT village_id, row_number() OVER (PARTITION BY village_id ORDER BY id)::int AS gn, id
        FROM pillars_parentinggroup WHERE village_id IN (SELECT code FROM bv)
        """,
        """
        CREATE TEMP TABLE bco AS
        SELECT village_id, row_number() OVER (PARTITION BY village_id ORDER BY id)::int AS cn,
               row_number() OVER (ORDER BY id)::int AS k, id
        FROM pillars_cooperative WHERE village_id IN (SELECT code FROM bv)
        """,
        "CREATE UNIQUE INDEX ON bg (village_id, gn)",
        "CREATE UNIQUE INDEX ON bco (village_id, cn)",
        "CREATE UNIQUE INDEX ON bco (k)",
        "ANALYZE bg",
        "ANALYZE bco",
    ]


def _village_of(kind: str, salt: int, skew: float = 1.15) -> str:
    return f"JOIN bv ON bv.r_{kind} = 1 + floor(%(v_{kind})s * power({h('j', salt)}, {skew}))::int"


def _quota_rows(kind: str, capacity: str, count: str) -> str:
    """FROM clause: %(count)s rows `j`, shared among the villages running `kind` in proportion
    to `capacity` (exactly: telescoping floors of the running share); `q.e` numbers a
    village's rows from 0."""
    return f"""
        FROM (
            SELECT b.code,
                   floor(%({count})s::numeric * (sum(b.cap) OVER w) / t.total)::int
                   - floor(%({count})s::numeric * (sum(b.cap) OVER w - b.cap) / t.total)::int
                   AS quota
            FROM (SELECT code, r_{kind}, {capacity} AS cap FROM bv
                  WHERE r_{kind} IS NOT NULL) b,
                 (SELECT sum({capacity}) AS total FROM bv WHERE r_{kind} IS NOT NULL) t
            WINDOW w AS (ORDER BY b.r_{kind})
        ) qv
        JOIN bv ON bv.code = qv.code
        CROSS JOIN LATERAL generate_series(0, qv.quota - 1) AS q(e)
        CROSS JOIN LATERAL (SELECT bv.n::bigint * 10000000 + q.e AS j) jj"""


def _day(salt: int) -> str:
    return f"bv.lo + floor({h('j', salt)} * (bv.hi - bv.lo + 1))::int"


def _common(salt: int) -> str:
    """created_by, created_at, updated_at, deleted_at of an activity row dated `dd.d`."""
    stamp = _stamp("dd.d", "j", salt)
    return (
        f"bv.officer_id, {stamp}, {stamp}, "
        f"CASE WHEN {h('j', salt + 1)} < 0.005 THEN {stamp} + interval '1 day' END"
    )


COMMON_COLUMNS = "village_id, pillar_id, created_by_id, created_at, updated_at, deleted_at"


def _activity_sql() -> dict[str, list[str]]:
    services = pick(
        ["information", "safe_migration", "document_ktp", "document_kk", "document_passport",
         "job_information", "complaint", "departure_monitoring", "return_monitoring",
         "family_help", "referral"],
        [20, 15, 8, 8, 10, 12, 4, 8, 7, 5, 3],
        h("j", 103),
    )  # fmt: skip
    topics = pick(
        ["Migrasi aman dan prosedural", "Bahaya penempatan non-prosedural", "Informasi pasar kerja",
         "Perlindungan PMI dan keluarga", "Pengelolaan remitansi"],
        [30, 20, 20, 15, 15], h("j", 202),
    )  # fmt: skip
    case_type = pick(
        ["wants_home", "failed_departure", "unpaid_wages", "social_security", "death", "illness",
         "deportation", "job_scam", "trafficking", "placement_fees", "other"],
        [14, 12, 16, 8, 4, 8, 10, 9, 3, 10, 6], h("j", 303),
    )  # fmt: skip
    channel = pick(
        ["walk_in", "phone", "message", "letter", "social_media", "agency"],
        [40, 15, 25, 5, 5, 10],
        h("j", 304),
    )
    case_procedural = pick(["procedural", "non_procedural", "unknown"], [45, 35, 20], h("j", 309))
    resolution = pick(
        ["open", "in_progress", "resolved", "unresolved"], [15, 20, 50, 15], h("j", 305)
    )
    countries = pick(
        ["MY", "TW", "HK", "SA", "SG", "KR", "JP", ""], [28, 22, 18, 10, 8, 4, 2, 8], h("j", 306)
    )
    sector = pick(
        ["agriculture", "livestock", "fishery", "food", "craft", "trade", "services", "other"],
        [15, 15, 5, 30, 10, 15, 8, 2],
        h("j", 403),
    )
    products = array(["Keripik", "Kue kering", "Ternak kambing", "Batik", "Warung", "Jahit",
                      "Kopi bubuk", "Sambal", "Anyaman", "Ikan asap"])  # fmt: skip
    revenue = pick(["lt1", "1-5", "5-25", "gt25", ""], [35, 40, 12, 3, 10], h("j", 406))
    training_topic = pick(
        ["Kewirausahaan", "Pengolahan pangan", "Pemasaran digital", "Menjahit", "Peternakan",
         "Literasi keuangan"], [25, 20, 20, 10, 10, 15], h("j", 502),
    )  # fmt: skip
    organiser = pick(
        ["Disnaker Kabupaten", "BP3MI", "Kementerian Ketenagakerjaan", "Kartu Prakerja", "BLK"],
        [35, 20, 20, 15, 10],
        h("j", 503),
    )
    stage = pick(["referred", "accepted", "disbursed", "rejected"], [25, 20, 40, 15], h("j", 603))
    session_topic = pick(
        ["Belajar bersama", "Pengasuhan anak PMI", "Membaca dan menulis", "Permainan edukatif",
         "Kesehatan anak"], [30, 25, 20, 15, 10], h("j", 702),
    )  # fmt: skip
    activity_end = "least(%(today)s, bv.hi)"
    return {
        "service": [
            f"""
        INSERT INTO pillars_servicelog ({COMMON_COLUMNS}, date, person_id, service_type,
            officer_id, notes)
        SELECT bv.code, bv.p_service_centre, {_common(104)}, dd.d,
               CASE WHEN {h("j", 106)} < 0.75 THEN ba.id END, {services}, bv.officer_id, ''
        FROM generate_series(1, %(n_service)s) AS j
        {_village_of("service_centre", 101)}
        CROSS JOIN LATERAL (SELECT {_day(102)} AS d) dd
        LEFT JOIN ba ON ba.village_id = bv.code
                    AND ba.rn = 1 + floor({h("j", 107)} * bv.adults)::int
        """
        ],
        "outreach": [
            f"""
        INSERT INTO pillars_outreach ({COMMON_COLUMNS}, date, topic, location, attendees_male,
            attendees_female, notes)
        SELECT bv.code, bv.p_service_centre, {_common(204)}, dd.d, {topics}, 'Balai Desa',
               5 + floor({h("j", 206)} * 40)::int, 5 + floor({h("j", 207)} * 60)::int, ''
        FROM generate_series(1, %(n_outreach)s) AS j
        {_village_of("service_centre", 201)}
        CROSS JOIN LATERAL (SELECT {_day(203)} AS d) dd
        """
        ],
        "case": [
            f"""
        INSERT INTO pillars_case ({COMMON_COLUMNS}, person_id, case_type, channel, country,
            procedural_status, reported_on, summary, resolution, closed_on)
        SELECT bv.code, bv.p_service_centre, {_common(307)}, ba.id, t.case_type, {channel},
               {countries}, {case_procedural},
               dd.d, 'Data uji: pengaduan ' || t.case_type, t.resolution,
               CASE WHEN t.resolution IN ('resolved', 'unresolved')
                    THEN least(dd.d + 3 + floor({h("j", 310)} * 120)::int, %(today)s) END
        FROM generate_series(1, %(n_case)s) AS j
        {_village_of("service_centre", 301)}
        CROSS JOIN LATERAL (SELECT {_day(302)} AS d) dd
        CROSS JOIN LATERAL (SELECT {case_type} AS case_type, {resolution} AS resolution) t
        LEFT JOIN ba ON {h("j", 311)} < 0.8 AND ba.village_id = bv.code
                    AND ba.rn = 1 + floor({h("j", 312)} * bv.adults)::int
        """
        ],
        "enterprise": [
            f"""
        INSERT INTO pillars_enterprise ({COMMON_COLUMNS}, owner_id, name, sector, products,
            start_date, state, workers, revenue_band, export_ready, assistance)
        SELECT bv.code, bv.p_enterprise, {_common(407)}, ba.id,
               'Usaha ' || {products}[1 + floor({h("j", 404)} * 10)::int] || ' ' || j,
               {sector}, {products}[1 + floor({h("j", 404)} * 10)::int], dd.d,
               CASE WHEN {h("j", 405)} < 0.8 THEN 'running' ELSE 'stopped' END,
               1 + floor(power({h("j", 409)}, 3) * 12)::int, {revenue}, {h("j", 410)} < 0.05, ''
        FROM generate_series(1, %(n_enterprise)s) AS j
        {_village_of("enterprise", 401)}
        CROSS JOIN LATERAL (SELECT {_day(402)} AS d) dd
        JOIN ba ON ba.village_id = bv.code AND ba.rn = 1 + floor({h("j", 411)} * bv.adults)::int
        """
        ],
        "enterprise_lookup": [
            """
            CREATE TEMP TABLE be AS
            SELECT village_id, row_number() OVER (PARTITION BY village_id ORDER BY id)::int AS en,
                   id, count(*) OVER (PARTITION BY village_id)::int AS total
            FROM pillars_enterprise
            WHERE deleted_at IS NULL AND village_id IN (SELECT code FROM bv)
            """,
            "CREATE UNIQUE INDEX ON be (village_id, en)",
            "ANALYZE be",
        ],
        "training": [
            f"""
        INSERT INTO pillars_training ({COMMON_COLUMNS}, topic, organiser, start_date, end_date,
            notes)
        SELECT bv.code, bv.p_enterprise, {_common(504)}, {training_topic}, {organiser},
               dd.d - floor({h("j", 506)} * 5)::int, dd.d, ''
        FROM generate_series(1, %(n_training)s) AS j
        {_village_of("enterprise", 501)}
        CROSS JOIN LATERAL (SELECT {_day(507)} AS d) dd
        """
        ],
        "referral": [
            f"""
        INSERT INTO pillars_referral ({COMMON_COLUMNS}, programme_id, person_id, enterprise_id,
            stage, referred_on, accepted_on, disbursed_on, rejected_on, amount_requested,
            amount_disbursed, notes)
        SELECT bv.code, bv.p_enterprise, {_common(604)},
               (SELECT array_agg(id ORDER BY id) FROM pillars_partnerprogramme)[
                   1 + floor({h("j", 606)} * (SELECT count(*) FROM pillars_partnerprogramme))::int
               ],
               CASE WHEN e.id IS NULL THEN ba.id END, e.id, t.stage, dd.d,
               CASE WHEN t.stage IN ('accepted', 'disbursed') THEN t.accepted END,
               CASE WHEN t.stage = 'disbursed'
                    THEN least(t.accepted + 7 + floor({h("j", 607)} * 50)::int, {activity_end})
               END,
               CASE WHEN t.stage = 'rejected'
                    THEN least(dd.d + 5 + floor({h("j", 608)} * 25)::int, {activity_end}) END,
               t.requested,
               CASE WHEN t.stage = 'disbursed'
                    THEN round((t.requested * (0.5 + 0.5 * {h("j", 609)}))::numeric, -5) END, ''
        FROM generate_series(1, %(n_referral)s) AS j
        {_village_of("enterprise", 601)}
        CROSS JOIN LATERAL (SELECT {_day(602)} AS d) dd
        CROSS JOIN LATERAL (
            SELECT {stage} AS stage,
                   least(dd.d + 7 + floor({h("j", 610)} * 30)::int, {activity_end}) AS accepted,
                   (2 + floor(power({h("j", 611)}, 2) * 48)::int) * 1000000::numeric AS requested
        ) t
        JOIN ba ON ba.village_id = bv.code AND ba.rn = 1 + floor({h("j", 612)} * bv.adults)::int
        LEFT JOIN be e ON {h("j", 613)} < 0.3 AND e.village_id = bv.code
                      AND e.en = 1 + floor({h("j", 614)} * e.total)::int
        """
        ],
        "session": [
            f"""
        INSERT INTO pillars_parentingsession ({COMMON_COLUMNS}, group_id, date, topic,
            children_attending, adults_attending, notes)
        SELECT bv.code, bv.p_parenting, {_common(704)}, bg.id, dd.d, {session_topic},
               5 + floor({h("j", 706)} * 30)::int, floor({h("j", 707)} * 15)::int, ''
        FROM generate_series(1, %(n_session)s) AS j
        {_village_of("parenting", 701)}
        CROSS JOIN LATERAL (SELECT {_day(703)} AS d) dd
        JOIN bg ON bg.village_id = bv.code AND bg.gn = 1 + floor({h("j", 708)} * bv.groups)::int
        """
        ],
        # Child x group pairs are unique among live rows: each village takes rows in
        # proportion to its pairs, and its e-th row its e-th (child, group) pair; a row past
        # a village's pairs (only when the sizes ask for more) is soft-deleted (the unique
        # index skips deleted rows).
        "enrolment": [
            f"""
        INSERT INTO pillars_childenrolment ({COMMON_COLUMNS}, group_id, child_id, enrolled_on,
            left_on)
        SELECT bv.code, bv.p_parenting, bv.officer_id, {_stamp("dd.d", "j", 804)},
               {_stamp("dd.d", "j", 804)},
               CASE WHEN q.e >= bv.children * bv.groups OR {h("j", 805)} < 0.005
                    THEN {_stamp("dd.d", "j", 804)} + interval '1 day' END,
               bg.id, bc.id, dd.d,
               CASE WHEN {h("j", 806)} < 0.2
                    THEN least(dd.d + 30 + floor({h("j", 807)} * 400)::int, {activity_end}) END
        {_quota_rows("parenting", "children * groups", "n_enrolment")}
        CROSS JOIN LATERAL (SELECT {_day(803)} AS d) dd
        JOIN bc ON bc.village_id = bv.code AND bc.rn = 1 + mod(q.e, bv.children)
        JOIN bg ON bg.village_id = bv.code AND bg.gn = 1 + mod(q.e / bv.children, bv.groups)
        """
        ],
        "member": [
            f"""
        INSERT INTO pillars_cooperativemember ({COMMON_COLUMNS}, cooperative_id, person_id,
            joined_on, left_on)
        SELECT bv.code, bv.p_cooperative, bv.officer_id, {_stamp("dd.d", "j", 904)},
               {_stamp("dd.d", "j", 904)},
               CASE WHEN q.e >= bv.adults * bv.coops OR {h("j", 905)} < 0.005
                    THEN {_stamp("dd.d", "j", 904)} + interval '1 day' END,
               bco.id, ba.id, dd.d,
               CASE WHEN {h("j", 906)} < 0.1
                    THEN least(dd.d + 30 + floor({h("j", 907)} * 400)::int, {activity_end}) END
        {_quota_rows("cooperative", "adults * coops", "n_member")}
        CROSS JOIN LATERAL (SELECT {_day(903)} AS d) dd
        JOIN ba ON ba.village_id = bv.code AND ba.rn = 1 + mod(q.e, bv.adults)
        JOIN bco ON bco.village_id = bv.code AND bco.cn = 1 + mod(q.e / bv.adults, bv.coops)
        """
        ],
        # A cooperative's figures for each month, most recent first (unique per month).
        "period": [
            f"""
        INSERT INTO pillars_cooperativeperiod ({COMMON_COLUMNS}, cooperative_id, period, capital,
            loans_disbursed, loans_outstanding)
        SELECT bv.code, bv.p_cooperative, bv.officer_id, {_stamp("dd.d", "j", 1004)},
               {_stamp("dd.d", "j", 1004)}, NULL, bco.id, dd.d,
               (50 + floor({h("bco.k", 1005)} * 950)::int) * 1000000::numeric
                   + (%(months)s - q.m) * 2000000,
               floor({h("j", 1006)} * 40)::int * 1000000::numeric,
               (10 + floor({h("bco.k", 1007)} * 300)::int) * 1000000::numeric
        FROM generate_series(1, %(n_period)s) AS j
        CROSS JOIN LATERAL (SELECT 1 + mod(j - 1, (SELECT count(*) FROM bco))::int AS k,
                                   ((j - 1) / (SELECT count(*) FROM bco))::int AS m) q
        JOIN bco ON bco.k = q.k
        JOIN bv ON bv.code = bco.village_id
        CROSS JOIN LATERAL (
            SELECT (date_trunc('month', %(today)s::date) - q.m * interval '1 month')::date AS d
        ) dd
        """
        ],
    }


def _participants_sql() -> str:
    return f"""
    INSERT INTO pillars_training_participants (training_id, person_id)
    SELECT t.id, ba.id
    FROM pillars_training t
    JOIN bv ON bv.code = t.village_id
    CROSS JOIN LATERAL generate_series(
        0, least(3 + floor({h("t.id", 1101)} * 18)::int, bv.adults) - 1) AS q
    JOIN ba ON ba.village_id = bv.code
           AND ba.rn = 1 + mod(floor({h("t.id", 1102)} * bv.adults)::int + q, bv.adults)
    """


def _reports_sql() -> str:
    state = pick(["verified", "submitted", "returned"], [85, 10, 5], h("r.k", 1203))
    recent = pick(["submitted", "draft", "returned"], [60, 30, 10], h("r.k", 1203))
    return f"""
    INSERT INTO pillars_monthlyreport (village_id, month, narrative, obstacles, plans, figures,
        state, submitted_by_id, submitted_at, verified_at, review_comment, created_at,
        updated_at)
    SELECT r.code, r.month, 'Kegiatan bulan ini berjalan sesuai rencana.', '', '',
           jsonb_build_object(
               'services', jsonb_build_object('total', floor({h("r.k", 1204)} * 120)::int),
               'outreach', jsonb_build_object('events', floor({h("r.k", 1205)} * 6)::int),
               'cases', jsonb_build_object('opened', floor({h("r.k", 1206)} * 8)::int)),
           s.state,
           CASE WHEN s.state <> 'draft' THEN r.officer_id END,
           CASE WHEN s.state <> 'draft' THEN r.stamp END,
           CASE WHEN s.state = 'verified' THEN r.stamp + interval '5 days' END,
           CASE WHEN s.state = 'returned' THEN 'Mohon lengkapi data kegiatan.' ELSE '' END,
           r.stamp, r.stamp
    FROM (
        SELECT bv.code, bv.officer_id, bv.hi, m.month::date AS month,
               bv.n * 1000 + (extract(year FROM m.month) * 12 + extract(month FROM m.month))::int
                   AS k,
               ((m.month + interval '1 month' + interval '3 days')::date + time '10:00')
                   AT TIME ZONE 'Asia/Jakarta' AS stamp,
               date_trunc('month', %(today)s::date)::date - m.month::date AS age
        FROM bv CROSS JOIN LATERAL generate_series(
            greatest(date_trunc('month', bv.start_date),
                     date_trunc('month', %(today)s::date) - (%(months)s - 1) * interval '1 month'),
            date_trunc('month', %(today)s::date), interval '1 month') AS m(month)
    ) r
    CROSS JOIN LATERAL (
        SELECT CASE WHEN r.age = 0 THEN 'draft' WHEN r.age <= 31 THEN {recent} ELSE {state} END
               AS state
    ) s
    WHERE r.month <= r.hi
      AND {h("r.k", 1201)} < CASE WHEN r.age = 0 THEN 0.3 WHEN r.age <= 31 THEN 0.75 ELSE 0.92 END
    """


# --- The scratch database ---------------------------------------------------------------------


def database(name: str) -> dict:
    """Connection settings for the scratch database `name`: the server of DATABASE_URL when
    it is a PostgreSQL one, else postgres@127.0.0.1:5432. Refuses names without "bench"."""
    if "bench" not in name or name in ("postgres", "template0", "template1"):
        sys.exit(
            f"bench: refusing to recreate the database {name!r}: its name must contain 'bench'."
        )
    url = urlparse(os.environ.get("DATABASE_URL", ""))
    if url.scheme not in ("postgres", "postgresql", "pgsql"):
        url = urlparse("postgres://postgres@127.0.0.1:5432/postgres")
    return {
        "name": name,
        "host": url.hostname or "127.0.0.1",
        "port": url.port or 5432,
        "user": unquote(url.username or "postgres"),
        "password": unquote(url.password) if url.password else None,
    }


def database_url(db: dict) -> str:
    auth = db["user"] + (f":{db['password']}" if db["password"] else "")
    return f"postgres://{auth}@{db['host']}:{db['port']}/{db['name']}"


def _admin(db: dict):
    import psycopg

    return psycopg.connect(
        host=db["host"],
        port=db["port"],
        user=db["user"],
        password=db["password"],
        dbname="postgres",
        autocommit=True,
    )


def recreate_database(db: dict) -> None:
    from psycopg import sql

    with _admin(db) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db["name"]))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db["name"])))


def drop_database(db: dict) -> None:
    from django.db import connections
    from psycopg import sql

    connections.close_all()
    with _admin(db) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db["name"]))
        )


def database_exists(db: dict) -> bool:
    with _admin(db) as conn:
        return (
            conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db["name"]]).fetchone()
            is not None
        )


def use_database(db: dict) -> None:
    """Point Django at the scratch database (before django.setup())."""
    os.environ["DATABASE_URL"] = database_url(db)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "desmigratif.settings")
    os.environ.setdefault("DEBUG", "true")
    import django

    django.setup()


def prepare(log: Callable[[str], None] = print) -> dict[str, float]:
    """Migrate, load the packaged regions, seed the demo designations and users."""
    from django.core.management import call_command

    from villages.demo import seed_demo
    from villages.services import (
        packaged_edition_label,
        packaged_edition_path,
        read_region_csv,
        regions_load,
    )

    timings = {}
    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    timings["migrate"] = time.perf_counter() - started
    log(f"  migrate: {timings['migrate']:.1f} s")
    started = time.perf_counter()
    path = packaged_edition_path()
    regions_load(regions=read_region_csv(path), edition=packaged_edition_label(), source=str(path))
    timings["regions"] = time.perf_counter() - started
    log(f"  regions: {timings['regions']:.1f} s")
    seed_demo(password=os.environ.get("DEMO_PASSWORD") or "desmigratif-demo")
    return timings


def generate(args, log: Callable[[str], None] = print) -> Result:
    """Recreate the scratch database and fill it: what `python -m bench.generate` does."""
    db = database(args.database)
    log(f"bench: scratch database {db['name']} on {db['host']}:{db['port']} (recreated)")
    recreate_database(db)
    use_database(db)
    started = time.perf_counter()
    setup = prepare(log)
    result = fill(
        people=args.people,
        episodes=args.episodes,
        activities=args.activities,
        villages=args.villages,
        log=log,
    )
    result.timings = {**{f"setup.{k}": v for k, v in setup.items()}, **result.timings}
    log(f"bench: generated in {time.perf_counter() - started:.1f} s")
    return result


def describe(result: Result) -> str:
    lines = [f"{'table':<34} {'rows':>12}"]
    for table, count in result.counts.items():
        lines.append(f"{table:<34} {count:>12,}")
    lines.append(f"{'activity rows (the ten tables)':<34} {result.activities:>12,}")
    lines.append("")
    lines.append(f"{'step':<34} {'seconds':>12}")
    for step, seconds in result.timings.items():
        lines.append(f"{step:<34} {seconds:>12.1f}")
    lines.append(f"{'total':<34} {result.seconds:>12.1f}")
    return "\n".join(lines)


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.generate", description=__doc__.split("\n")[0]
    )
    add_arguments(parser)
    parser.add_argument("--keep-db", action="store_true", help="keep the database afterwards")
    return parser


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--episodes", type=int, default=1_300_000)
    parser.add_argument("--activities", type=int, default=3_000_000)
    parser.add_argument("--villages", type=int, default=500)
    parser.add_argument("--small", action="store_true", help="2,000 people, 20 villages: seconds")
    parser.add_argument(
        "--database",
        default=DEFAULT_DATABASE,
        help=f"must contain 'bench' ({DEFAULT_DATABASE}; {SMALL_DATABASE} with --small)",
    )


def apply_small(args) -> None:
    if args.small:
        for name, value in SMALL.items():
            setattr(args, name, value)
        if args.database == DEFAULT_DATABASE:  # never the kept million-person database
            args.database = SMALL_DATABASE


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    apply_small(args)
    db = database(args.database)
    try:
        result = generate(args, log)
        print(describe(result))
    finally:
        if not args.keep_db:
            drop_database(db)
            log(f"bench: dropped the database {db['name']}")
        else:
            log(f"bench: kept the database {db['name']} ({database_url(db)})")


if __name__ == "__main__":
    main()
