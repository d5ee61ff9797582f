"""Journey (b): the regency coordinator of Kab. Malang signs in without an authenticator app,
is made to set one up (TOTP), verifies Arjowilangun's submitted register records and its
monthly report, reads the pillar matrix and drills down the dashboard to a village."""

import pytest
from allauth.mfa.models import Authenticator

from dashboards.summaries import refresh_summaries
from migrants.demo import seed_register
from migrants.models import Person, Verification
from pillars.demo import seed_pillars
from pillars.models import MonthlyReport
from tests.browser.pages import browser_test, current_code, sign_in
from tests.conftest import PASSWORD

pytestmark = browser_test

ARJOWILANGUN = "35.07.11.2008"


@pytest.fixture
def demo(world, settings):
    settings.MFA_REQUIRED = True
    seed_register()
    seed_pillars()
    refresh_summaries()
    # A coordinator as on the day the account was made: no authenticator app yet.
    Authenticator.objects.filter(user=world["coordinator_malang"]).delete()
    return world


def test_the_coordinator_sets_up_mfa_verifies_a_village_and_drills_down(demo, journey):
    coordinator = demo["coordinator_malang"]
    tab = journey("b-regency-coordinator")
    page = tab.page
    sign_in(tab, "coordinator_malang")

    # Nothing else opens before the authenticator app is set up.
    tab.seen("two-factor required")
    assert "2fa" in page.url
    tab.page.goto(tab.url("/register/"))
    assert "2fa" in page.url
    if "/reauthenticate/" in page.url:
        # allauth asks for the password again before an account change.
        tab.seen("password confirmation")
        page.fill("#id_password", PASSWORD)
        page.click("main button[type=submit]")
    assert "/accounts/2fa/totp/activate/" in page.url
    tab.seen("two-factor set-up")
    secret = page.input_value("#authenticator_secret")
    page.fill("#id_code", current_code(secret))
    page.click("main button[type=submit]")
    tab.seen("authenticator app added")
    assert Authenticator.objects.filter(user=coordinator, type="totp").exists()

    # The village's submitted records: the coordinator verifies Arjowilangun's only.
    tab.goto("/register/verifikasi/", "verification queue")
    assert page.url.endswith("/register/verifikasi/")  # no longer sent to the set-up
    chosen, left = [], []
    for line in page.query_selector_all("main tbody tr"):
        box = line.query_selector("input[type=checkbox]")
        if "Arjowilangun" in line.inner_text():
            chosen.append(box.get_attribute("value"))
        else:
            box.uncheck()
            left.append(box.get_attribute("value"))
    assert chosen
    page.click("main form button[type=submit]")
    tab.seen("verification queue after verifying")
    assert set(Person.objects.filter(pk__in=chosen).values_list("verification", flat=True)) == {
        Verification.VERIFIED
    }
    assert set(Person.objects.filter(pk__in=left).values_list("verification", flat=True)) <= {
        Verification.SUBMITTED
    }

    # The village's monthly report.
    tab.goto("/pilar/laporan/periksa/", "monthly reports to verify")
    page.click(f"main tbody tr:has-text('{ARJOWILANGUN}') a")
    tab.seen("monthly report")
    report = MonthlyReport.objects.get(pk=int(page.url.rstrip("/").rsplit("/", 1)[1]))
    assert report.village_id == ARJOWILANGUN
    assert report.state == MonthlyReport.State.SUBMITTED
    page.click("main button[name=decision][value=verify]")
    tab.seen("monthly report verified")
    report.refresh_from_db()
    assert report.state == MonthlyReport.State.VERIFIED

    # The pillar matrix of the regency: its four villages, a row each.
    tab.goto("/pilar/", "pillar matrix")
    matrix = tab.text()
    for village in ("Arjowilangun", "Sumberpetung", "Balearjo", "Brongkal"):
        assert village in matrix
    assert "Kenanga" not in matrix

    # The dashboard, from the regency down to a village.
    tab.goto("/dasbor/", "dashboard")
    assert "35.07/" in page.url or "MALANG" in tab.text().upper()
    page.click("main a[href$='/dasbor/35.07.11/']")
    tab.seen("dashboard of the district")
    assert page.url.endswith("/dasbor/35.07.11/")
    page.click(f"main a[href$='/dasbor/{ARJOWILANGUN}/']")
    tab.seen("dashboard of the village")
    assert "Arjowilangun" in page.inner_text("h1")
    tab.assert_accessible()
