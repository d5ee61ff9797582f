"""The load scenario of issue 8: village officers, regency coordinators and national/province
readers working in SI-Desmigratif as they do in a browser (pages, forms, uploads, downloads).

    LOAD_WORLD=bench/out/load/users.json .venv/bin/locust -f bench/load/locustfile.py \
        --host http://127.0.0.1:8100 --headless ...

`python -m bench.load.run` (`make load`) runs it; see bench/README.md. Each simulated user
signs in with an account of the load world (bench.load.seed), then does, by weight:

- 40 lists and searches: the register (page 1 or a later page, sorted or filtered), a name
  search, the pillar registers, the dashboard of its area (and drilling down), the
  verification queue and the villages (coordinators);
- 30 detail pages: a person, a pillar record, a village;
- 15 creating and editing: a person (valid NIK and No. KK), a person's data, a service
  log entry (pillar 1);
- 5 imports: a 500-row xlsx in the template's columns for the villages of its area, uploaded,
  its check watched, confirmed, watched until imported;
- 5 exports: the register as xlsx or csv (officers, after the password confirmation the page
  asks for), or a report file (a monthly report, a regency recap, the national evaluation,
  placement statistics) requested, watched until built and downloaded;
- 5 sign-ins: sign out, sign in again (with the authenticator code for the roles that need
  one).

Readers (the province and ministry evaluators) may not write: they do the lists, details,
exports and sign-ins only. Every 4xx and 5xx counts as a failure (there is no expected one),
and so does a page that comes back as the sign-in page. Figures per request name and phase
go to LOAD_RESULTS (JSON) at the end; bench.load.run writes them into docs/benchmarks.md.

The server runs with production settings behind a pretend TLS proxy: every request carries
`X-Forwarded-Proto: https` (the server has BEHIND_TLS_PROXY=true) and an `Origin`, as a
browser behind the proxy would, and the client sends back the `Secure` cookies over the local
plain-http hop (http.cookiejar refuses that by default; the patch below is this process's
only).
"""

import contextlib
import http.cookiejar
import itertools
import json
import os
import random
import re
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlparse

from locust import HttpUser, LoadTestShape, between, events, task
from locust.exception import StopUser

from bench.load import pages, workbook

# The client plays the browser behind the TLS proxy: Secure cookies go back over the local hop.
http.cookiejar.DefaultCookiePolicy.return_ok_secure = lambda self, cookie, request: True

WORLD = json.loads(Path(os.environ.get("LOAD_WORLD", "bench/out/load/users.json")).read_text())
RESULTS = Path(os.environ.get("LOAD_RESULTS", "bench/out/load/results.json"))
USERS = int(os.environ.get("LOAD_USERS", "100"))
SPAWN_RATE = float(os.environ.get("LOAD_SPAWN_RATE", "10"))
MAIN_SECONDS = float(os.environ.get("LOAD_MAIN_SECONDS", "600"))
SPIKE_USERS = int(os.environ.get("LOAD_SPIKE_USERS", "300"))
SPIKE_SECONDS = float(os.environ.get("LOAD_SPIKE_SECONDS", "120"))
IMPORT_ROWS = int(os.environ.get("LOAD_IMPORT_ROWS", "500"))
# Seconds a user reads a page before the next step (at random between the two).
WAIT = [float(v) for v in os.environ.get("LOAD_WAIT", "3,10").split(",")]
POLL_SECONDS = 2.0  # what the pages' own refresh does
POLL_LIMIT = 300.0  # give up watching after this long (the database check at the end judges)

PASSWORD = WORLD["password"]
VILLAGES = WORLD["villages"]
COLUMNS = WORLD["columns"]
PILLAR_LISTS = [
    "/pilar/layanan/layanan-desa/",
    "/pilar/layanan/sosialisasi/",
    "/pilar/usaha/usaha/",
    "/pilar/usaha/pelatihan/",
    "/pilar/usaha/rujukan/",
    "/pilar/keluarga/kelompok/",
    "/pilar/keluarga/pertemuan/",
    "/pilar/koperasi/lembaga/",
    "/pilar/koperasi/anggota/",
    "/pilar/koperasi/keuangan/",
]
# Cases and enrolled children are for those who work with them (officers, coordinators).
PILLAR_LISTS_WORKERS = [*PILLAR_LISTS, "/pilar/layanan/kasus/", "/pilar/keluarga/anak/"]
NAMES = ["siti", "budi", "sri wahyuni", "agus", "dewi", "slamet", "aminah", "eko prasetyo"]
PERSON_LINK = r"/register/[0-9a-f-]{36}/"
RECORD_LINK = r"/pilar/[a-z-]+/[a-z-]+/\d+/"

_accounts = {
    role: itertools.cycle(
        [a for a in WORLD["mfa"] + WORLD["officers"] if a["role"] in roles]
        or [{"username": "?", "role": "?", "scope": None, "totp": None}]
    )
    for role, roles in {
        "officer": ("village_officer",),
        "coordinator": ("coordinator",),
        "reader": ("province_viewer", "evaluator"),
    }.items()
}
_addresses = itertools.count(1)
# An authenticator code is accepted once per account: the last step each account used.
_totp_used: dict[str, int] = {}


# --- Figures: every request, by phase and name -----------------------------------------------

_started = time.monotonic()
_records: dict[tuple[str, str], list] = defaultdict(list)
_status: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
_errors: dict[str, int] = defaultdict(int)


_stopping = False


@events.test_stopping.add_listener
def _on_stopping(**_kwargs) -> None:
    """The users are being stopped: their requests in flight are cut off, not answered late."""
    global _stopping
    _stopping = True


def phase() -> str:
    return "main" if time.monotonic() - _started < MAIN_SECONDS else "spike"


@events.test_start.add_listener
def _on_start(environment, **_kwargs) -> None:
    global _started
    _started = time.monotonic()


@events.request.add_listener
def _on_request(request_type, name, response_time, response_length, response, exception, **_kw):
    if _stopping:
        return
    key = (phase(), name)
    _records[key].append(response_time)
    counts = _status[key]
    counts["requests"] += 1
    if exception is not None:
        counts["failures"] += 1
        _errors[f"{name}: {str(exception)[:160]}"] += 1
    codes = [r.status_code for r in getattr(response, "history", [])]
    if response is not None and getattr(response, "status_code", None):
        codes.append(response.status_code)
    if any(code >= 500 for code in codes):
        counts["5xx"] += 1
    elif any(400 <= code < 500 for code in codes):
        counts["4xx"] += 1
    if response is not None and getattr(response, "status_code", 0) == 0:
        counts["no_response"] += 1


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))
    return ordered[index]


@events.quitting.add_listener
def _on_quit(environment, **_kwargs) -> None:
    rows = []
    for (stage, name), times in sorted(_records.items()):
        counts = _status[(stage, name)]
        rows.append(
            {
                "phase": stage,
                "name": name,
                "requests": counts["requests"],
                "failures": counts["failures"],
                "median": _percentile(times, 0.50),
                "p95": _percentile(times, 0.95),
                "p99": _percentile(times, 0.99),
                "max": max(times) if times else 0.0,
                "5xx": counts["5xx"],
                "4xx": counts["4xx"],
                "no_response": counts["no_response"],
            }
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "rows": rows,
                "errors": dict(sorted(_errors.items(), key=lambda kv: -kv[1])),
                "users": USERS,
                "spike_users": SPIKE_USERS,
                "main_seconds": MAIN_SECONDS,
                "spike_seconds": SPIKE_SECONDS,
            },
            indent=1,
        )
    )


class Shape(LoadTestShape):
    """USERS (ramping at SPAWN_RATE a second) for MAIN_SECONDS, then SPIKE_USERS for
    SPIKE_SECONDS (none when SPIKE_SECONDS is 0)."""

    def tick(self):
        elapsed = self.get_run_time()
        if elapsed < MAIN_SECONDS:
            return USERS, SPAWN_RATE
        if elapsed < MAIN_SECONDS + SPIKE_SECONDS:
            return SPIKE_USERS, SPAWN_RATE
        return None


# --- The users -----------------------------------------------------------------------------------


class Failed(Exception):
    pass


class DesmigratifUser(HttpUser):
    abstract = True
    wait_time = between(WAIT[0], WAIT[-1])
    kind = "officer"
    may_write = True

    def on_start(self) -> None:
        self.account = next(_accounts[self.kind])
        self.rng = random.Random()
        self.people: list[str] = []
        self.records: list[str] = []
        netloc = urlparse(self.host).netloc
        # As behind the TLS proxy: https, and the client's own address (each load user is one
        # browser on its own connection; the server trusts one proxy hop).
        number = next(_addresses)
        self.client.headers.update(
            {
                "X-Forwarded-Proto": "https",
                "X-Forwarded-For": f"10.{number >> 16 & 255}.{number >> 8 & 255}.{number & 255}",
                "Origin": f"https://{netloc}",
            }
        )
        self.attempt(self.login)

    # --- helpers

    def get(self, path: str, name: str, **kwargs):
        return self._request("GET", path, name, **kwargs)

    def post(self, path: str, name: str, **kwargs):
        return self._request("POST", path, name, **kwargs)

    def _request(self, method: str, path: str, name: str, *, signing_in: bool = False, **kwargs):
        with self.client.request(method, path, name=name, catch_response=True, **kwargs) as r:
            if r.status_code >= 400 or r.status_code == 0:
                reason = f"HTTP {r.status_code}" + (f" ({r.error!r:.120})" if r.error else "")
                r.failure(reason)
                raise Failed(f"{name}: {reason}")
            if not signing_in and ("/accounts/login/" in r.url or "/2fa/authenticate/" in r.url):
                r.failure("sent to the sign-in page")
                raise Failed(f"{name}: sent to the sign-in page")
            r.success()
            return r

    def submit(self, page, name: str, action: str = "", values: dict | None = None, **kwargs):
        """Send the page's form (as rendered, with `values` changed) to its action."""
        form = pages.form(page.text, action)
        if form is None:
            raise Failed(f"{name}: no form {action!r} on {page.url}")
        target = form.action or urlparse(page.url).path + (
            "?" + urlparse(page.url).query if urlparse(page.url).query else ""
        )
        if target.startswith("?"):
            target = urlparse(page.url).path + target
        data = {**form.fields, **(values or {})}
        return self.post(target, name, data=data, **kwargs)

    def pick(self, values: list[str]) -> str:
        choices = [v for v in values if v]
        return self.rng.choice(choices) if choices else ""

    def remember(self, page) -> None:
        people = pages.links(page.text, PERSON_LINK)
        if people:
            self.people = people
        records = pages.links(page.text, RECORD_LINK)
        if records:
            self.records = records

    def login(self) -> None:
        page = self.get("/accounts/login/", "login: form", signing_in=True)
        page = self.submit(
            page,
            "login: password",
            "/accounts/login/",
            {"login": self.account["username"], "password": PASSWORD},
            signing_in=True,
        )
        if "/2fa/authenticate/" in page.url:
            secret = self.account["totp"]
            if not secret:
                raise StopUser(f"{self.account['username']} is asked for a code it has no app for")
            # A code is good for its 30 s step only: one that waited in the server's queue past
            # it comes back refused, and the person types the new one (up to three tries).
            for _try in range(3):
                step = int(time.time() // 30)
                while _totp_used.get(self.account["username"]) == step:
                    time.sleep(30 - time.time() % 30 + 0.2)  # one code per step and account
                    step = int(time.time() // 30)
                _totp_used[self.account["username"]] = step
                page = self.submit(
                    page,
                    "login: authenticator code",
                    "/2fa/authenticate/",
                    {"code": pages.totp_code(secret, step)},
                    signing_in=True,
                )
                if "/2fa/authenticate/" not in page.url:
                    break
                _errors["login: authenticator code refused (late), typed again"] += 1
        if "/accounts/" in page.url:
            raise Failed(f"sign-in of {self.account['username']} ended on {page.url}")

    # --- 40: lists and searches

    @task(40)
    def lists(self) -> None:
        self.attempt(self.rng.choice(self.list_tasks()))

    def list_tasks(self):
        return [
            self.register_list,
            self.register_list,
            self.register_search,
            self.pillar_list,
            self.pillar_list,
            self.dashboard,
        ]

    def register_list(self) -> None:
        query = self.rng.choice(
            ["", "?page=2", "?sort=-updated", "?status=pmi", "?status=purna&sort=birth"]
        )
        self.remember(self.get(f"/register/{query}", "list: register"))

    def register_search(self) -> None:
        page = self.get("/register/", "list: register")
        self.remember(
            self.submit(page, "list: register name search", "", {"q": self.rng.choice(NAMES)})
        )

    def pillar_list(self) -> None:
        lists = PILLAR_LISTS_WORKERS if self.may_write else PILLAR_LISTS
        path = self.rng.choice(["/pilar/", *lists])
        self.remember(
            self.get(
                path, "list: pillars overview" if path == "/pilar/" else "list: pillar register"
            )
        )

    def dashboard(self) -> None:
        page = self.get("/dasbor/", "list: dashboard")
        children = [
            link
            for link in pages.links(page.text, r"/dasbor/\d\d(\.\d\d(\.\d\d(\.\d{4})?)?)?/")
            if link != urlparse(page.url).path
        ]
        if children and self.rng.random() < 0.5:
            self.get(self.rng.choice(children), "list: dashboard")

    # --- 30: detail pages

    @task(30)
    def details(self) -> None:
        self.attempt(self.rng.choice([self.person_detail, self.person_detail, self.record_detail]))

    def person_detail(self) -> None:
        if not self.people:
            self.register_list()
        if self.people:
            self.get(self.rng.choice(self.people), "detail: person")

    def record_detail(self) -> None:
        if not self.records:
            self.remember(self.get("/pilar/layanan/layanan-desa/", "list: pillar register"))
        if self.records:
            self.get(self.rng.choice(self.records), "detail: pillar record")

    # --- 15: create and edit

    @task(15)
    def writes(self) -> None:
        if self.may_write:
            self.attempt(
                self.rng.choice([self.person_create, self.person_edit, self.service_create])
            )

    def person_create(self) -> None:
        page = self.get("/register/baru/", "form: person create")
        form = pages.form(page.text, "")
        village = form.fields.get("village") if form else ""
        if not village or form.options.get("village"):
            village = self.pick(form.options.get("village", [])) if form else ""
        village = village or self.rng.choice(self.villages())
        entry = workbook.person(self.rng, village, time_today())
        values = {
            "village": village,
            "nik": entry["nik"],
            "no_kk": workbook.new_kk(self.rng, village, time_today()),
            "full_name": entry["full_name"],
            "sex": entry["sex"],
            "birth_place": entry["birth_place"],
            "birth_date": entry["birth_date"].isoformat(),
            "address": entry["address"],
            "education": "sma",
            "marital_status": "married",
            "relationship": "head",
        }
        done = self.submit(page, "write: person create", "", values)
        if not re.search(PERSON_LINK + "$", urlparse(done.url).path):
            raise Failed(f"person create stayed on {done.url}: {_form_errors(done.text)}")

    def person_edit(self) -> None:
        if not self.people:
            self.register_list()
        if not self.people:
            return
        page = self.get(self.rng.choice(self.people) + "ubah/", "form: person edit")
        values = {"phone": f"08{self.rng.randrange(10**9, 10**10)}"}
        done = self.submit(page, "write: person edit", "", values)
        if done.url.rstrip("/").endswith("ubah"):
            raise Failed(f"person edit stayed on the form: {_form_errors(done.text)}")

    def service_create(self) -> None:
        page = self.get("/pilar/layanan/layanan-desa/baru/", "form: service log")
        choose = pages.form(page.text, "", method="get")
        if choose is not None and "village" in choose.options:  # above a village: choose one
            village = self.pick(choose.options["village"])
            page = self.get(
                f"/pilar/layanan/layanan-desa/baru/?village={village}", "form: service log"
            )
        form = pages.form(page.text, "")
        values = {"notes": "Konsultasi dokumen (uji beban)."}
        if form is not None:
            values["service_type"] = self.pick(form.options.get("service_type", []))
            if "village_code" in form.fields:
                values["village_code"] = self.pick(form.options.get("village_code", []))
            elif form.options.get("person"):
                values["person"] = self.pick(form.options["person"])
        done = self.submit(page, "write: service log create", "", values)
        if done.url.endswith("/baru/"):
            raise Failed(f"service log stayed on the form: {_form_errors(done.text)}")

    # --- 5: imports

    @task(5)
    def register_import(self) -> None:
        if self.may_write:
            self.attempt(self._import)

    def _import(self) -> None:
        page = self.get("/register/impor/baru/", "import: form")
        form = pages.form(page.text, "")
        data = workbook.import_file(self.rng, COLUMNS, self.villages(), IMPORT_ROWS)
        name = f"load-{self.account['username']}-{int(time.time() * 1000)}.xlsx"
        page = self.post(
            urlparse(page.url).path,
            "import: upload",
            data=form.fields if form else {},
            files={"file": (name, data, XLSX)},
        )
        page = self.watch(page, "import: watch")
        confirm = pages.form(page.text, "/konfirmasi/", classes="inline")
        if confirm is None:
            raise Failed(f"import not ready to confirm: {_badge(page.text)} {page.url}")
        page = self.post(confirm.action, "import: confirm", data=confirm.fields)
        page = self.watch(page, "import: watch")
        if pages.form(page.text, "/konfirmasi/") is not None:
            raise Failed(f"import did not commit: {_badge(page.text)}")

    def watch(self, page, name: str):
        deadline = time.monotonic() + POLL_LIMIT
        while pages.refreshing(page.text) and time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
            page = self.get(urlparse(page.url).path, name)
        return page

    # --- 5: exports

    @task(5)
    def export(self) -> None:
        choices = [self.report]
        if self.kind == "officer":
            choices.append(self.register_export)
        self.attempt(self.rng.choice(choices))

    def register_export(self) -> None:
        page = self.get("/register/ekspor/", "export: register form")
        fmt = self.rng.choice(["xlsx", "csv"])
        done = self.submit(page, "export: register (to the password check)", "?", {"format": fmt})
        if "/reauthenticate/" in done.url:
            done = self.submit(
                done,
                f"export: register {fmt} (password, file)",
                "reauthenticate",
                {"password": PASSWORD},
            )
        kind = done.headers.get("Content-Type", "")
        if "csv" not in kind and "spreadsheet" not in kind:
            raise Failed(f"register export gave {kind} at {done.url}")

    def report(self) -> None:
        page = self.get("/unduhan/minta/", "report: form")
        form = pages.form(page.text, "")
        if form is None:
            raise Failed("no report form")
        kinds = [k for k in form.options.get("kind", []) if k != "register"]
        kind = self.pick(kinds)
        area = form.fields.get("area", "")
        areas = form.options.get("area", [])
        if kind == "village_monthly":
            area = self.pick([a for a in areas if len(a) == 13]) or area
        elif kind == "regency_recap":
            area = self.pick([a for a in areas if len(a) == 5]) or area
        elif self.kind == "reader" and areas:
            area = self.pick([a for a in areas if len(a) <= 5] + [""])
        today = time_today()
        end = self.rng.randrange(1, 13)
        span = 0 if kind == "village_monthly" else self.rng.randrange(0, 12)
        month_to = _month(today, -end)
        month_from = _month(today, -end - span)
        values = {
            "kind": kind,
            "format": "pdf" if self.rng.random() < 0.2 else "xlsx",
            "area": area,
            "month_from": month_from,
            "month_to": month_to,
        }
        page = self.submit(page, "report: request", "", values)
        if not re.search(r"/unduhan/[0-9a-f-]{36}/$", urlparse(page.url).path):
            raise Failed(f"report request stayed on {page.url}: {_form_errors(page.text)}")
        page = self.watch(page, "report: watch")
        download = pages.links(page.text, r"/unduhan/[0-9a-f-]{36}/unduh/")
        if not download:
            raise Failed(f"report not downloadable: {page.url}")
        self.get(download[0], "report: download")

    # --- 5: signing in again

    @task(5)
    def sign_in_again(self) -> None:
        self.attempt(self._sign_in_again)

    def _sign_in_again(self) -> None:
        page = self.get("/", "login: home")
        self.submit(page, "logout", "/accounts/logout/", signing_in=True)
        self.client.cookies.clear()
        self.login()

    # --- plumbing

    def villages(self) -> list[str]:
        scope = self.account.get("scope") or ""
        mine = [v for v in VILLAGES if not scope or v == scope or v.startswith(scope + ".")]
        return mine or VILLAGES

    def attempt(self, step) -> None:
        """Run one step; a failed request is counted already, so the user just goes on (a
        step after a failed sign-in signs in again)."""
        try:
            step()
        except Failed as exc:
            _errors[f"{self.account['username']}: {str(exc)[:160]}"] += 1
            if "sign-in" in str(exc) or "login:" in str(exc):
                self.client.cookies.clear()
                with contextlib.suppress(Failed):
                    self.login()


class VillageOfficer(DesmigratifUser):
    weight = 7
    kind = "officer"


class Coordinator(DesmigratifUser):
    weight = 2
    kind = "coordinator"

    def list_tasks(self):
        return [*super().list_tasks(), self.verification_queue, self.villages_list]

    def verification_queue(self) -> None:
        self.remember(self.get("/register/verifikasi/", "list: verification queue"))

    def villages_list(self) -> None:
        self.get("/desa/", "list: villages")


class Reader(DesmigratifUser):
    """Province viewers and ministry evaluators: read, export, sign in."""

    weight = 1
    kind = "reader"
    may_write = False


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def time_today():
    import datetime

    return datetime.date.today()


def _month(today, offset: int) -> str:
    index = today.year * 12 + today.month - 1 + offset
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _form_errors(html: str) -> str:
    found = re.findall(r'class="[^"]*error[^"]*"[^>]*>(.*?)<', html, re.S)
    return "; ".join(e.strip() for e in found if e.strip())[:200] or "(no message)"


def _badge(html: str) -> str:
    match = re.search(r'<span class="badge">(.*?)</span>', html)
    return match.group(1) if match else "?"
