"""The load world: `bench.generate.fill` at a smaller scale, passwords for its village officers,
and load accounts with an authenticator app (TOTP) for the roles that need MFA.

    DEBUG=true DATABASE_URL=postgres://postgres@127.0.0.1:5432/desmigratif_load \
        .venv/bin/python -m bench.load.seed --people 60000 --out bench/out/load/users.json

Run after `migrate` and `load_regions` on the scratch database (bench.load.run
does all of it). Writes the accounts the locust users sign in with to `--out` (JSON): the
username, role, scope, password and, for the MFA roles, the TOTP secret.
"""

import argparse
import base64
import json
import os
import sys
import time
from pathlib import Path

# Load accounts per MFA role (each locust user of that role signs in with its own account: an
# authenticator code is accepted once per 30-second period and account).
COORDINATORS = 24
PROVINCE_VIEWERS = 8
EVALUATORS = 8


def log(message: str) -> None:
    print(f"load: {message}", file=sys.stderr, flush=True)


def totp_secret(username: str) -> str:
    """A fixed secret per account (the load run is reproducible; these accounts live only in
    the scratch database)."""
    import hashlib

    digest = hashlib.sha256(f"load-totp:{username}".encode()).digest()[:20]
    return base64.b32encode(digest).decode()


def seed(*, people: int, episodes: int, activities: int, villages: int, password: str) -> dict:
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from accounts.models import Role, User
    from bench.generate import fill
    from dashboards.summaries import refresh_summaries
    from migrants.columns import COLUMNS
    from villages.demo import seed_demo
    from villages.models import Designation

    seed_demo(password=password)  # the demo's villages and users (not its register: fill's own)
    started = time.perf_counter()
    result = fill(
        people=people, episodes=episodes, activities=activities, villages=villages, log=log
    )
    log(f"world filled in {time.perf_counter() - started:.0f} s: {result.counts}")

    hashed = make_password(password)
    with transaction.atomic():
        officers = User.objects.filter(username__startswith="bench_officer_")
        officers.update(password=hashed)
        village_codes = sorted(Designation.objects.values_list("village_id", flat=True))
        regencies = sorted({code[:5] for code in village_codes})
        provinces = sorted({code[:2] for code in village_codes})

        mfa_accounts = []

        def account(username: str, role: str, scope: str | None) -> dict:
            user, _created = User.objects.update_or_create(
                username=username,
                defaults={
                    "first_name": "Load",
                    "last_name": role,
                    "email": f"{username}@example.org",
                    "role": role,
                    "scope_id": scope,
                    "is_active": True,
                },
            )
            user.password = hashed
            user.save(update_fields=["password"])
            secret = totp_secret(username)
            Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).delete()
            TOTP.activate(user, secret)
            entry = {"username": username, "role": role, "scope": scope, "totp": secret}
            mfa_accounts.append(entry)
            return entry

        # The busiest regencies (most designated villages) first.
        by_size = sorted(regencies, key=lambda r: (-sum(c.startswith(r) for c in village_codes), r))
        for regency in by_size[:COORDINATORS]:
            account(f"load_coordinator_{regency.replace('.', '')}", Role.COORDINATOR, regency)
        for index in range(PROVINCE_VIEWERS):
            province = provinces[index % len(provinces)]
            account(f"load_province_{index:02d}_{province}", Role.PROVINCE_VIEWER, province)
        for index in range(EVALUATORS):
            account(f"load_evaluator_{index:02d}", Role.EVALUATOR, None)

    officer_accounts = [
        {"username": username, "role": Role.VILLAGE_OFFICER, "scope": scope, "totp": None}
        for username, scope in User.objects.filter(role=Role.VILLAGE_OFFICER, is_active=True)
        .exclude(username__startswith="officer_")  # the demo's two stay for people to try
        .order_by("username")
        .values_list("username", "scope_id")
    ]
    # load_regions leaves the region table without statistics until autovacuum comes by (it
    # had not, minutes later, on this busy machine): the planner then guessed 14,508 regions
    # instead of 91,219 and scanned them all to label the 200 villages of a national register
    # page (60 ms). A server that has been running has them.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE villages_region")
    started = time.perf_counter()
    run = refresh_summaries()
    log(f"summaries refreshed in {time.perf_counter() - started:.0f} s ({run.facts} figures)")
    return {
        "password": password,
        "officers": officer_accounts,
        "mfa": mfa_accounts,
        "counts": result.counts,
        "villages": village_codes,
        # The register template's columns (key, header, identifier): the import files.
        "columns": [[c.key, c.header, c.is_identifier] for c in COLUMNS],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.load.seed", description=__doc__)
    parser.add_argument("--people", type=int, default=60_000)
    parser.add_argument("--episodes", type=int, default=None, help="default: 1.3 per person")
    parser.add_argument("--activities", type=int, default=None, help="default: 3 per person")
    parser.add_argument("--villages", type=int, default=200)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if "load" not in os.environ.get("DATABASE_URL", "").rsplit("/", 1)[-1]:
        sys.exit("load: DATABASE_URL must name the scratch load database (its name holds 'load').")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "desmigratif.settings")
    import django

    django.setup()
    from desmigratif.rls import NATIONAL, set_process_scope

    set_process_scope(NATIONAL)
    world = seed(
        people=args.people,
        episodes=args.episodes or round(args.people * 1.3),
        activities=args.activities or args.people * 3,
        villages=args.villages,
        password=os.environ.get("DEMO_PASSWORD") or "desmigratif-demo",
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(world, indent=1))
    log(f"{len(world['officers'])} officers, {len(world['mfa'])} MFA accounts -> {args.out}")


if __name__ == "__main__":
    main()
