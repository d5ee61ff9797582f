"""What the browser tests share: whether they can run here, and a Browser that walks the live
server, keeps a screenshot of every page it sees and runs axe-core on the main ones."""

import itertools
import os
import re
import shutil
from pathlib import Path

import pytest
from django.conf import settings

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium")
AXE = Path(__file__).with_name("node_modules") / "axe-core" / "axe.min.js"
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts" / "browser"
# axe's two highest impacts; "moderate" and "minor" are reported by axe but do not fail here.
BLOCKING = ("serious", "critical")


def _missing() -> str:
    """Why the browser tests cannot run on this machine ("" when they can)."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[dev]')"
    if not CHROMIUM.exists():
        return f"no chromium at {CHROMIUM} (Debian: apt-get install chromium)"
    if not AXE.exists():
        return "axe-core is not installed (npm ci --prefix tests/browser)"
    return ""


MISSING = _missing()
# CI installs chromium and axe-core (.ci/run): there, a missing one is a failure, not a skip.
IN_CI = os.environ.get("CI", "").lower() == "true"

# Every browser test: skipped on a laptop without chromium or axe-core, before any database is
# set up; against the live server, so transactional (serialized_rollback: the data migrations'
# rows are there at the start, as in tests/reports/test_worker.py).
browser_test = [
    pytest.mark.skipif(bool(MISSING) and not IN_CI, reason=f"browser tests: {MISSING}"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


class Journey:
    """One user's tab on the live server. `seen(name)` keeps a screenshot of the page as
    test-artifacts/browser/<journey>/NN-<name>.png and, for a main page, runs axe-core on it;
    the findings are gathered and asserted at the end (all of them at once)."""

    def __init__(self, page, base_url: str, name: str) -> None:
        self.page = page
        self.base_url = base_url
        self.folder = ARTIFACTS / name
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        self.counter = itertools.count(1)
        self.violations: dict[str, list[str]] = {}
        self.checked: list[str] = []
        self.console_errors: list[str] = []
        page.on(
            "console",
            lambda message: (
                self.console_errors.append(f"{page.url}: {message.text}")
                if message.type == "error" and "favicon.ico" not in message.location.get("url", "")
                else None
            ),
        )

    def url(self, path: str) -> str:
        return self.base_url + path

    def goto(self, path: str, name: str, *, axe: bool = True):
        response = self.page.goto(self.url(path))
        assert response is not None
        assert response.status < 400, f"{path}: HTTP {response.status}"
        self.seen(name, axe=axe)
        return response

    def seen(self, name: str, *, axe: bool = True) -> None:
        self.page.wait_for_load_state("load")
        number = next(self.counter)
        self.page.screenshot(path=self.folder / f"{number:02d}-{slug(name)}.png", full_page=True)
        if axe:
            self.check_accessibility(name)

    def check_accessibility(self, name: str) -> None:
        """axe's serious and critical findings fail the journey."""
        # axe comes with every document (an init script, which the page's CSP does not block).
        results = self.page.evaluate(
            "async () => { const r = await axe.run(document);"
            " return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
            " nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)})); }"
        )
        self.checked.append(name)
        where = f"{name} {self.page.url}"
        for v in results:
            if v["impact"] in BLOCKING:
                self.violations.setdefault(where, []).append(
                    f"{v['id']} ({v['impact']}): {v['help']} at {v['nodes']}"
                )

    def text(self) -> str:
        return self.page.inner_text("main")

    def assert_accessible(self) -> None:
        found = [f"{page}\n  " + "\n  ".join(rules) for page, rules in self.violations.items()]
        assert not found, "serious or critical accessibility violations:\n" + "\n".join(found)
        assert self.console_errors == []


def sign_in(tab: Journey, username: str) -> None:
    """Through the real sign-in page, with the password of tests/conftest.py."""
    from tests.conftest import PASSWORD

    tab.goto("/accounts/login/", "sign-in")
    tab.page.fill("#id_login", username)
    tab.page.fill("#id_password", PASSWORD)
    tab.page.click("main button[type=submit]")
    tab.page.wait_for_load_state("load")


def current_code(secret: str) -> str:
    """What the authenticator app shows now for this TOTP secret."""
    from allauth.mfa.totp.internal.auth import (
        format_hotp_value,
        hotp_value,
        yield_hotp_counters_from_time,
    )

    return format_hotp_value(hotp_value(secret, next(yield_hotp_counters_from_time())))
