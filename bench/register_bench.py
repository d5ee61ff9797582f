"""Register list at a million people (issue 3): the pages must not slow down with the data.

    DEBUG=true .venv/bin/python -m bench.register_bench [--people 1000000]

Creates the scratch database `desmigratif_register_bench` on 127.0.0.1:5432, migrates it, loads
the regions and the demo users, then fills the register with SQL (generate_series: names, NIKs,
villages spread over Jawa Timur and Jawa Barat, statuses), VACUUM ANALYZEs, and times the
register list's queries as the evaluator (national), the Malang coordinator (a regency) and the
Arjowilangun officer (a village), with and without filters — the exact querysets the view runs,
one page of 50 rows without a COUNT. Prints the median of 5 runs per query, and drops the
database at the end.
"""

import argparse
import os
import secrets
import statistics
import time

DATABASE = "desmigratif_register_bench"
URL = f"postgres://postgres@127.0.0.1:5432/{DATABASE}"


def _admin():
    import psycopg

    return psycopg.connect(
        "host=127.0.0.1 port=5432 user=postgres dbname=postgres", autocommit=True
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--keep-db", action="store_true", help="Keep the database to explore.")
    args = parser.parse_args()
    with _admin() as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
        conn.execute(f"CREATE DATABASE {DATABASE}")
    os.environ["DATABASE_URL"] = URL
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "desmigratif.settings")
    os.environ.setdefault("DEBUG", "true")
    import django

    django.setup()
    try:
        _run(args.people)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep_db:
            with _admin() as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {DATABASE}")


def _run(people: int) -> None:
    from django.core.management import call_command
    from django.db import connection

    from accounts.models import User
    from desmigratif.pagination import window
    from migrants.forms import RegisterFilterForm
    from migrants.models import Person
    from villages.demo import seed_demo
    from villages.services import packaged_edition_path, read_region_csv, regions_load

    call_command("migrate", verbosity=0)
    regions_load(regions=read_region_csv(packaged_edition_path()), edition="bench", source="bench")
    seed_demo(password=secrets.token_urlsafe(16))  # nobody logs in to the bench
    started = time.perf_counter()
    with connection.cursor() as cursor:
        # Villages of Jawa Timur and Jawa Barat, the demo villages among them.
        cursor.execute("""
            CREATE TEMP TABLE v AS
            SELECT code, row_number() OVER (ORDER BY code) AS n FROM villages_region
            WHERE level = 4 AND (code LIKE '35.%%' OR code LIKE '32.%%')
        """)
        cursor.execute("SELECT count(*) FROM v")
        villages = cursor.fetchone()[0]
        cursor.execute(
            """
            INSERT INTO migrants_person (id, nik, no_kk, full_name, name_key, sex, birth_place,
                birth_date, village_id, dusun, rt, rw, address, phone, education,
                marital_status, relationship, status, current_country, current_procedural,
                verification, verification_note, nik_warnings, created_at, updated_at)
            SELECT md5(i::text)::uuid,
                   CASE WHEN i %% 33 = 0 THEN NULL ELSE '35' || lpad(i::text, 14, '0') END,
                   '', names.name || ' ' || substr(md5(i::text), 1, 6),
                   lower(names.name) || ' ' || substr(md5(i::text), 1, 6),
                   CASE WHEN i %% 3 = 0 THEN 'L' ELSE 'P' END, 'Malang',
                   date '1960-01-01' + (i %% 16000), v.code, '', '', '', '', '', '', '', '',
                   (ARRAY['keluarga','cpmi','pmi','purna'])[1 + i %% 4],
                   (ARRAY['HK','TW','MY','SA','SG','JP','KR'])[1 + i %% 7],
                   (ARRAY['procedural','non_procedural','unknown'])[1 + i %% 3],
                   (ARRAY['draft','submitted','verified','verified'])[1 + i %% 4],
                   '', '[]', now() - (i %% 500000) * interval '1 minute',
                   now() - (i %% 500000) * interval '1 minute'
            FROM generate_series(1, %s) AS i
            JOIN v ON v.n = 1 + (i %% %s)
            CROSS JOIN LATERAL (SELECT (ARRAY['Siti Aminah','Sri Wahyuni','Dewi Lestari',
                'Tri Handayani','Nur Hidayah','Suwarni','Kusnadi','Slamet','Agus Salim',
                'Wartini'])[1 + i %% 10] AS name) names
        """,
            [people, villages],
        )
        cursor.execute("VACUUM ANALYZE migrants_person")
    print(
        f"filled {people:,} people in {villages:,} villages in "
        f"{time.perf_counter() - started:.1f} s"
    )

    def timed(user, query: dict) -> tuple[float, int]:
        form = RegisterFilterForm(query, villages=[])
        runs = []
        count = 0
        for _ in range(5):
            begin = time.perf_counter()
            rows = window(
                form.filter(Person.objects.for_user(user).alive()).select_related("village"),
                "1",
                50,
            )
            count = len(rows.object_list)
            runs.append(time.perf_counter() - begin)
        return statistics.median(runs) * 1000, count

    cases = [
        ("evaluator", {"sort": "name"}),
        ("evaluator", {"sort": "-updated"}),
        ("evaluator", {"status": "pmi", "country": "HK", "sort": "name"}),
        ("evaluator", {"q": "wahyuni 12345", "sort": "name"}),
        ("evaluator", {"missing_nik": "on", "sort": "name"}),
        ("coordinator_malang", {"sort": "name"}),
        ("coordinator_malang", {"q": "siti", "sort": "name"}),
        ("coordinator_malang", {"verification": "submitted", "sort": "name"}),
        ("officer_arjowilangun", {"sort": "name"}),
        ("officer_arjowilangun", {"q": "3507", "sort": "name"}),
    ]
    print(f"{'user':<22} {'filters':<48} {'ms':>8} {'rows':>5}")
    for username, query in cases:
        user = User.objects.get(username=username)
        ms, count = timed(user, {**query})
        shown = ", ".join(f"{k}={v}" for k, v in query.items())
        print(f"{username:<22} {shown:<48} {ms:8.1f} {count:5d}")
        if os.environ.get("BENCH_EXPLAIN"):
            form = RegisterFilterForm(query, villages=[])
            print(form.filter(Person.objects.for_user(user).alive())[:51].explain())


if __name__ == "__main__":
    main()
