"""The load run of issue 8, one command: `make load` (`python -m bench.load.run`).

    .venv/bin/python -m bench.load.run                       # 100 users 10 min, spike 300 x 2 min
    .venv/bin/python -m bench.load.run --users 20 --minutes 1 --no-spike --no-docs   # a trial

1. recreates the scratch database `desmigratif_load` (127.0.0.1:5432, user postgres), migrates
   it, loads the regions (`manage.py load_regions`) and seeds the load world (bench.load.seed:
   `bench.generate` at --people, passwords for its village officers, MFA load accounts);
2. collects the static files when they changed (production serves them from the manifest);
3. empties Redis db 14 and starts gunicorn on 127.0.0.1:8100 and a Celery worker on that db,
   both with production settings (DEBUG=false, a SECRET_KEY, ALLOWED_HOSTS=127.0.0.1,
   BEHIND_TLS_PROXY=true: the load client plays the TLS proxy) and RATE_LIMIT_IP_FACTOR=100
   (every load user signs in from 127.0.0.1);
4. runs locust headless (bench/load/locustfile.py): --users at --spawn-rate for --minutes, then
   --spike-users for --spike-minutes;
5. waits until every import and report job is finished (the database's job tables), at most
   5 minutes after the end, stops the server and the worker;
6. prints the figures per page, checks the pass criteria, writes them into
   docs/benchmarks.md (section "Load run (issue 8)") unless --no-docs, and exits 1 when a
   criterion does not hold.
"""

import argparse
import datetime
import json
import os
import platform
import signal
import subprocess  # nosec B404: the commands are this project's own, no shell
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
OUT = ROOT / "bench" / "out" / "load"
DOCS = ROOT / "docs" / "benchmarks.md"
PY = str(ROOT / ".venv" / "bin" / "python")
BIN = ROOT / ".venv" / "bin"
DATABASE = "desmigratif_load"
ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DATABASE}"
REDIS_URL = "redis://127.0.0.1:6379/14"
QUEUE = "desmigratif_load"
PORT = 8100
HOST = f"http://127.0.0.1:{PORT}"
FINISH_LIMIT = 300  # seconds after the end within which every import and export must be done
P95_LIMIT = 500.0  # ms, lists and detail pages
SECTION = "## Load run (issue 8)"
START = "<!-- bench:load:start -->"
END = "<!-- bench:load:end -->"
RUNNING_IMPORT = ("uploaded", "validating", "committing")
RUNNING_REPORT = ("queued", "running")


def log(message: str) -> None:
    print(f"load: {message}", file=sys.stderr, flush=True)


def base_env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "CELERY_"))}
    env.pop("CACHE_URL", None)
    env.update(
        DATABASE_URL=DATABASE_URL,
        PYTHONPATH=str(ROOT),
        DEMO_PASSWORD=os.environ.get("DEMO_PASSWORD") or "desmigratif-demo",
    )
    return env


def dev_env() -> dict:
    """For manage.py and the seeding: development settings on the load database."""
    return {**base_env(), "DEBUG": "true"}


def server_env() -> dict:
    """Production settings for gunicorn and the worker (the secret is this run's own)."""
    import secrets

    return {
        **base_env(),
        "DEBUG": "false",
        "SECRET_KEY": "load-" + secrets.token_urlsafe(48),
        "ALLOWED_HOSTS": "127.0.0.1",
        "BEHIND_TLS_PROXY": "true",
        # The client's address is the pretend proxy's X-Forwarded-For entry (one per load user).
        "TRUSTED_PROXY_COUNT": "1",
        "RATE_LIMIT_IP_FACTOR": "100",
        "MFA_REQUIRED": "true",
        "CELERY_BROKER_URL": REDIS_URL,
        "CACHE_URL": REDIS_URL,
        "CELERY_QUEUE": QUEUE,
        "MEDIA_ROOT": str(OUT / "media"),
        "STATIC_ROOT": str(OUT / "static"),
        "LOG_LEVEL": "WARNING",
    }


def run(args: list[str], env: dict, what: str) -> None:
    started = time.perf_counter()
    subprocess.run(args, env=env, cwd=ROOT, check=True)  # noqa: S603  # nosec B603 (ours)
    log(f"{what}: {time.perf_counter() - started:.0f} s")


# --- Database -----------------------------------------------------------------------------------


def recreate_database() -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        name = sql.Identifier(DATABASE)
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(name))


def query(sql_text: str, params: tuple = ()) -> list[tuple]:
    import psycopg

    with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
        return conn.execute(sql_text, params).fetchall()


def prepare(args) -> None:
    log(f"recreating the database {DATABASE}")
    recreate_database()
    env = dev_env()
    run([PY, "manage.py", "migrate", "--no-input", "-v", "0"], env, "migrate")
    run([PY, "manage.py", "load_regions"], env, "load_regions")
    run(
        [
            PY,
            "-m",
            "bench.load.seed",
            "--people",
            str(args.people),
            "--villages",
            str(args.villages),
            "--out",
            str(OUT / "users.json"),
        ],
        env,
        "seed",
    )


def collect_static() -> None:
    """`collectstatic` when a file under static/ is newer than the manifest (it takes minutes
    on this machine: every file compressed twice)."""
    manifest = OUT / "static" / "staticfiles.json"
    newest = max(p.stat().st_mtime for p in (ROOT / "static").rglob("*") if p.is_file())
    if manifest.exists() and manifest.stat().st_mtime > newest:
        log("static files: the manifest is up to date")
        return
    run([PY, "manage.py", "collectstatic", "--no-input", "-v", "0"], server_env(), "collectstatic")


# --- The server and the worker ---------------------------------------------------------------


class Services:
    def __init__(self, args) -> None:
        self.args = args
        self.processes: list[tuple[str, subprocess.Popen]] = []

    def start(self) -> None:
        import redis

        redis.Redis.from_url(REDIS_URL).flushdb()
        env = server_env()
        logs = OUT / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        commands = {
            "gunicorn": [
                str(BIN / "gunicorn"),
                "desmigratif.wsgi:application",
                "--bind",
                f"127.0.0.1:{PORT}",
                "--workers",
                str(self.args.workers),
                "--threads",
                str(self.args.threads),
                "--worker-class",
                "gthread",
                "--timeout",
                "120",
                # Longer than a user's pause: gunicorn's 2 s default closes idle connections
                # just as the client reuses them (behind a proxy, the proxy holds them).
                "--keep-alive",
                "30",
                # On SIGTERM, finish the requests in flight (a confirmation that queues an
                # import's commit among them) before the jobs are counted.
                "--graceful-timeout",
                "120",
            ],
            "celery": [
                str(BIN / "celery"),
                "-A",
                "desmigratif",
                "worker",
                "-Q",
                QUEUE,
                "--concurrency",
                str(self.args.celery_concurrency),
                "-l",
                "WARNING",
                "--without-gossip",
                "--without-mingle",
            ],
        }
        for name, command in commands.items():
            handle = (logs / f"{name}.log").open("w")
            process = subprocess.Popen(  # noqa: S603  # nosec B603 (our commands)
                command,
                env=env,
                cwd=ROOT,
                stdout=handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            self.processes.append((name, process))
            log(f"{name} started (pid {process.pid}), log {logs / f'{name}.log'}")
        self.wait_healthy()

    def wait_healthy(self, limit: float = 120) -> None:
        deadline = time.monotonic() + limit
        last = ""
        while time.monotonic() < deadline:
            for name, process in self.processes:
                if process.poll() is not None:
                    raise SystemExit(f"load: {name} exited ({process.returncode}); see its log")
            try:
                request = urllib.request.Request(  # noqa: S310 (our own http address)
                    f"{HOST}/health/", headers={"X-Forwarded-Proto": "https"}
                )
                with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310  # nosec B310
                    body = json.loads(response.read())
                if body.get("workers", {}).get("ok"):
                    log("server and worker are up")
                    return
                last = str(body)
            except Exception as exc:  # still starting
                last = str(exc)
            time.sleep(2)
        raise SystemExit(f"load: the server did not become healthy: {last}")

    def stop(self, only: str | None = None) -> None:
        """Stop the processes (or only the one named): SIGTERM, then SIGKILL after a wait."""
        chosen = [(n, p) for n, p in reversed(self.processes) if only in (None, n)]
        for _name, process in chosen:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for name, process in chosen:
            try:
                process.wait(timeout=150)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            log(f"{name} stopped ({process.returncode})")
        self.processes = [(n, p) for n, p in self.processes if (n, p) not in chosen]


# --- What else runs on the machine ----------------------------------------------------------------


class Watcher(threading.Thread):
    """Samples the load average and the busiest processes that are not this run's."""

    def __init__(self, own: list[int]) -> None:
        super().__init__(daemon=True)
        self.own = own
        self.samples: list[tuple[float, float]] = []
        self.others: dict[str, float] = {}
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            self.samples.append((time.time(), os.getloadavg()[0]))
            self._processes()
            self.stopping.wait(30)

    def _processes(self) -> None:
        try:
            out = subprocess.run(  # nosec B603 B607 (ps, fixed arguments)
                ["ps", "-eo", "pid,pgid,pcpu,args", "--sort=-pcpu"],  # noqa: S607
                capture_output=True,
                text=True,
                check=True,
            ).stdout.splitlines()[1:25]
        except (OSError, subprocess.CalledProcessError):
            return
        for line in out:
            parts = line.split(None, 3)
            if len(parts) < 4:
                continue
            pid, pgid, cpu, command = int(parts[0]), int(parts[1]), float(parts[2]), parts[3]
            ours = pgid in self.own or pid in self.own or "locust" in command
            if ours or command.startswith("ps ") or cpu < 5:
                continue
            label = describe_process(command)
            self.others[label] = max(self.others.get(label, 0.0), cpu)


def describe_process(command: str) -> str:
    words = command.split()
    for marker in ("pytest", "postgres", "redis-server", "celery", "gunicorn", "ruff", "chrom"):
        if marker in command:
            if marker == "postgres":
                return "postgres (" + " ".join(words[1:3])[:40] + ")"
            return marker + (" (" + " ".join(words[1:4])[:50] + ")" if marker == "pytest" else "")
    return " ".join(words[:2])[:60]


# --- The locust run -------------------------------------------------------------------------------


def run_locust(args) -> dict:
    results = OUT / "results.json"
    results.unlink(missing_ok=True)
    spike = 0 if args.no_spike else args.spike_minutes * 60
    env = {
        **base_env(),
        "LOAD_WORLD": str(OUT / "users.json"),
        "LOAD_RESULTS": str(results),
        "LOAD_USERS": str(args.users),
        "LOAD_SPAWN_RATE": str(args.spawn_rate),
        "LOAD_MAIN_SECONDS": str(args.minutes * 60),
        "LOAD_SPIKE_USERS": str(args.spike_users),
        "LOAD_SPIKE_SECONDS": str(spike),
        "LOAD_IMPORT_ROWS": str(args.import_rows),
        "LOAD_WAIT": args.wait,
    }
    command = [
        str(BIN / "locust"),
        "-f",
        str(ROOT / "bench" / "load" / "locustfile.py"),
        "--host",
        HOST,
        "--headless",
        "--only-summary",
        "--loglevel",
        "WARNING",
        "--csv",
        str(OUT / "locust"),
    ]
    log(
        f"locust: {args.users} users at {args.spawn_rate}/s for {args.minutes} min"
        + ("" if args.no_spike else f", then {args.spike_users} for {args.spike_minutes} min")
    )
    limit = args.minutes * 60 + spike + 600
    with (OUT / "logs" / "locust.log").open("w") as handle:
        subprocess.run(  # noqa: S603  # nosec B603 (our locust command)
            command,
            env=env,
            cwd=ROOT,
            stdout=handle,
            stderr=subprocess.STDOUT,
            timeout=limit,
            check=False,
        )
    if not results.exists():
        raise SystemExit(f"load: locust wrote no results; see {OUT / 'logs' / 'locust.log'}")
    return json.loads(results.read_text())


# --- The jobs -------------------------------------------------------------------------------------


def job_states() -> dict:
    imports = dict(query("SELECT state, count(*) FROM migrants_importbatch GROUP BY state"))
    reports = dict(query("SELECT state, count(*) FROM reports_reportjob GROUP BY state"))
    return {"imports": imports, "reports": reports}


def wait_for_jobs(ended: float) -> dict:
    """Wait until no import is being checked or committed and no report is queued or being
    built, at most FINISH_LIMIT seconds after `ended`."""
    while True:
        states = job_states()
        running = sum(states["imports"].get(s, 0) for s in RUNNING_IMPORT) + sum(
            states["reports"].get(s, 0) for s in RUNNING_REPORT
        )
        waited = time.time() - ended
        if not running or waited > FINISH_LIMIT:
            break
        log(f"waiting for {running} imports/reports ({waited:.0f} s after the end)")
        time.sleep(5)
    end = datetime.datetime.fromtimestamp(ended, tz=datetime.UTC)
    last_import = query(
        "SELECT max(greatest(validated_at, committed_at)) FROM migrants_importbatch"
    )[0][0]
    last_report = query("SELECT max(finished_at) FROM reports_reportjob")[0][0]
    rows = query(
        "SELECT coalesce(sum((counts->>'new')::int), 0) FROM migrants_importbatch "
        "WHERE state = 'committed'"
    )[0][0]
    return {
        **states,
        "running": running,
        "waited": round(max(0.0, time.time() - ended), 1),
        "last_import_after_end": _after(last_import, end),
        "last_report_after_end": _after(last_report, end),
        "imported_people": rows,
    }


def _after(moment, end) -> float | None:
    return None if moment is None else round((moment - end).total_seconds(), 1)


# --- Judging and writing ------------------------------------------------------------------------


def judged(name: str) -> bool:
    return name.startswith(("list:", "detail:"))


def criteria(results: dict, jobs: dict) -> list[tuple[str, bool, str]]:
    rows = results["rows"]
    errors_5xx = sum(r["5xx"] for r in rows)
    errors_4xx = sum(r["4xx"] for r in rows)
    lost = sum(r["no_response"] for r in rows)
    slow = [
        f"{r['name']} ({r['phase']}) p95 {r['p95']:.0f} ms"
        for r in rows
        if r["phase"] == "main" and judged(r["name"]) and r["p95"] >= P95_LIMIT
    ]
    failed_jobs = jobs["imports"].get("failed", 0) + jobs["imports"].get("rejected", 0)
    failed_jobs += jobs["reports"].get("failed", 0)
    return [
        ("no 5xx", errors_5xx == 0, f"{errors_5xx} responses with a 5xx"),
        ("no unexpected 4xx", errors_4xx == 0, f"{errors_4xx} responses with a 4xx"),
        ("every request answered", lost == 0, f"{lost} requests without a response"),
        (
            f"p95 < {P95_LIMIT:.0f} ms for lists and detail pages (100 users)",
            not slow,
            "; ".join(slow) or "all under",
        ),
        (
            f"every import and export finished within {FINISH_LIMIT // 60} minutes of the end",
            jobs["running"] == 0 and failed_jobs == 0,
            f"{jobs['running']} still running, {failed_jobs} failed/rejected",
        ),
    ]


def table(results: dict, stage: str) -> str:
    lines = [
        "| page / step | requests | failures | median ms | p95 ms | p99 ms | 5xx | 4xx |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    rows = [r for r in results["rows"] if r["phase"] == stage]
    order = ["list:", "detail:", "form:", "write:", "import:", "export:", "report:", "log"]

    def key(row):
        rank = next((i for i, p in enumerate(order) if row["name"].startswith(p)), len(order))
        return rank, row["name"]

    total = {"requests": 0, "failures": 0, "5xx": 0, "4xx": 0}
    for row in sorted(rows, key=key):
        mark = "**" if judged(row["name"]) and stage == "main" and row["p95"] >= P95_LIMIT else ""
        lines.append(
            f"| {row['name']} | {row['requests']:,} | {row['failures']:,} | {row['median']:.0f} "
            f"| {mark}{row['p95']:.0f}{mark} | {row['p99']:.0f} | {row['5xx']} | {row['4xx']} |"
        )
        for k in total:
            total[k] += row[k]
    lines.append(
        f"| **all** | {total['requests']:,} | {total['failures']:,} | | | | {total['5xx']} "
        f"| {total['4xx']} |"
    )
    return "\n".join(lines)


def machine() -> str:
    import django

    cores = os.cpu_count()
    try:
        pg = query("SHOW server_version")[0][0].split()[0]
    except Exception:
        pg = "?"
    return (
        f"{cores} cores, PostgreSQL {pg}, Python {platform.python_version()}, "
        f"Django {django.get_version()}"
    )


def render(args, results, jobs, checks, watcher, started, world) -> str:
    loads = [value for _at, value in watcher.samples]
    others = sorted(watcher.others.items(), key=lambda kv: -kv[1])[:8]
    spike = "" if args.no_spike else f", then {args.spike_users} users for {args.spike_minutes} min"
    lines = [
        f"Measured {started:%Y-%m-%d %H:%M} UTC with "
        f"`{' '.join(['python -m bench.load.run', *sys.argv[1:]])}`"
        + f" (`make load`): {machine()}; gunicorn {args.workers} workers x {args.threads} "
        f"threads (gthread), one Celery worker (concurrency {args.celery_concurrency}); "
        f"{args.users} users (spawn {args.spawn_rate}/s) for {args.minutes} min{spike}; each "
        f"user pauses {args.wait.replace(',', '–')} s between steps (reading the page).",
        "",
        f"World: {world['counts'].get('migrants_person', 0):,} people, "
        f"{world['counts'].get('migrants_episode', 0):,} episodes, "
        f"{sum(v for k, v in world['counts'].items() if k.startswith('pillars_')):,} pillar rows "
        f"in {len(world['villages'])} Desmigratif villages; {len(world['officers'])} village "
        f"officers, {len(world['mfa'])} coordinator / province / evaluator accounts with TOTP.",
        "",
        "What else was running: load average (1 min) "
        + (
            f"min {min(loads):.1f}, median {sorted(loads)[len(loads) // 2]:.1f}, "
            f"max {max(loads):.1f}"
            if loads
            else "not sampled"
        )
        + " during the run (2 cores); the busiest other processes seen (peak % CPU): "
        + (", ".join(f"{name} {cpu:.0f}%" for name, cpu in others) or "none above 5%")
        + ".",
        "",
        f"**{args.users} users** ({args.minutes} min, the ramp included):",
        "",
        table(results, "main"),
        "",
    ]
    if not args.no_spike:
        lines += [f"**Spike: {args.spike_users} users** ({args.spike_minutes} min):", ""]
        lines += [table(results, "spike"), ""]
    imports, reports = jobs["imports"], jobs["reports"]
    lines += [
        f"Jobs at the end: imports {dict(sorted(imports.items()))} "
        f"({jobs['imported_people']:,} people imported), reports "
        f"{dict(sorted(reports.items()))}; the last import finished "
        f"{_relative(jobs['last_import_after_end'])}, the last report "
        f"{_relative(jobs['last_report_after_end'])} the load stopped (the web server drained "
        f"and the jobs checked {jobs['waited']} s after it). Imports left "
        "`validated` were checked and waiting for a confirmation that their user, stopped with "
        "the load, never sent.",
        "",
        "Criteria:",
        "",
    ]
    for name, ok, detail in checks:
        lines.append(f"- {name}: **{'held' if ok else 'NOT held'}** ({detail})")
    if results.get("errors"):
        import re
        from collections import Counter

        grouped: Counter = Counter()
        for message, count in results["errors"].items():
            account = r"\b(bench_officer|load_coordinator|load_province|load_evaluator)_[\w]+"
            grouped[re.sub(account, "<account>", message).replace("|", "/")] += count
        lines += ["", "Failures seen by the load users (most frequent first):", ""]
        for message, count in grouped.most_common(12):
            lines.append(f"- {count} x {message}")
    return "\n".join(lines)


def _relative(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    return f"{abs(seconds):.0f} s {'after' if seconds >= 0 else 'before'}"


SECTION_TEXT = f"""{SECTION}

Goal (issue 8): 100 users (ramp 10/s) for 10 minutes against gunicorn with PostgreSQL and Redis on
this machine, then a spike to 300 users; zero 5xx, zero unexpected 4xx, p95 under 500 ms for
lists and detail pages, every import and export finished within 5 minutes of the end.

### Figures

{START}
{END}
"""


def write_docs(text: str) -> None:
    content = DOCS.read_text()
    if START not in content:
        content = content.rstrip("\n") + "\n\n" + SECTION_TEXT
    head, rest = content.split(START, 1)
    _old, tail = rest.split(END, 1)
    DOCS.write_text(f"{head}{START}\n{text}\n{END}{tail}")


# --- Main ---------------------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.load.run", description=__doc__.split("\n")[0])
    p.add_argument("--users", type=int, default=100)
    p.add_argument("--spawn-rate", type=float, default=10)
    p.add_argument("--minutes", type=float, default=10)
    p.add_argument("--spike-users", type=int, default=300)
    p.add_argument("--spike-minutes", type=float, default=2)
    p.add_argument("--no-spike", action="store_true")
    p.add_argument("--no-docs", action="store_true", help="leave docs/benchmarks.md alone")
    p.add_argument("--people", type=int, default=60_000)
    p.add_argument("--villages", type=int, default=200)
    p.add_argument("--import-rows", type=int, default=500)
    p.add_argument(
        "--wait", default="3,10", help="a user's pause between steps, seconds: min,max (3,10)"
    )
    p.add_argument("--workers", type=int, default=3, help="gunicorn workers (2 cores)")
    p.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    p.add_argument("--celery-concurrency", type=int, default=2)
    p.add_argument(
        "--reuse-db", action="store_true", help="keep the load database of a previous run"
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "logs").mkdir(exist_ok=True)
    started = datetime.datetime.now(datetime.UTC)
    if args.reuse_db and (OUT / "users.json").exists():
        log(f"reusing the database {DATABASE}")
    else:
        prepare(args)
    collect_static()
    world = json.loads((OUT / "users.json").read_text())
    services = Services(args)
    watcher = None
    try:
        services.start()
        watcher = Watcher([p.pid for _n, p in services.processes] + [os.getpid()])
        watcher.start()
        started = datetime.datetime.now(datetime.UTC)
        results = run_locust(args)
        ended = time.time()
        # The web server first: the requests the stopped users left in flight still finish
        # (and may queue work); then no new job can appear while the worker finishes them.
        services.stop("gunicorn")
        jobs = wait_for_jobs(ended)
    finally:
        if watcher:
            watcher.stopping.set()
        services.stop()
    checks = criteria(results, jobs)
    text = render(args, results, jobs, checks, watcher, started, world)
    (OUT / "report.md").write_text(text + "\n")
    print(text)
    if not args.no_docs:
        write_docs(text)
        log(f"figures written to {DOCS.relative_to(ROOT)}")
    failed = [f"{name}: {detail}" for name, ok, detail in checks if not ok]
    if failed:
        log("criteria NOT held:\n  " + "\n  ".join(failed))
        return 1
    log("all criteria held")
    return 0


if __name__ == "__main__":
    sys.exit(main())
