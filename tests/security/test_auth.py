"""Signing in (issue 7): MFA required for the roles that see more than a village, rate limits
that slow a guesser without locking an officer out, re-authentication before exports, role
changes and bulk deletes, notices by e-mail, password rules."""

import json
import time
import types

import pytest
from allauth.core import context
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.contrib.auth.password_validation import validate_password
from django.core import mail
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.test import Client, RequestFactory
from django.urls import NoReverseMatch, reverse
from knox.models import AuthToken

from accounts.models import Role, User
from migrants.models import ExportLog
from reports.models import ReportFormat, ReportJob, ReportKind
from tests.conftest import PASSWORD
from tests.reports.helpers import last_month

SETUP = reverse("mfa_activate_totp")
REAUTH = reverse("account_reauthenticate")
LOGIN = reverse("account_login")

# Pages of every kind a coordinator would open: none may show data before MFA is set up.
DATA_PAGES = [
    reverse("home"),
    reverse("villages:list"),
    reverse("migrants:register"),
    reverse("migrants:export"),
    reverse("dashboards:national"),
    reverse("reports:list"),
    reverse("accounts:list"),
    reverse("tokens:list"),
    reverse("account_change_password"),
    reverse("usersessions_list"),
    reverse("admin:index"),
    reverse("admin:migrants_person_changelist"),
]
# The users whose role needs MFA; the world gives them an authenticator app (tests/conftest.py).
MFA_USERS = ["coordinator_malang", "province_jatim", "evaluator", "admin"]


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    # allauth counts attempts in the cache; each test starts from none.
    cache.clear()
    yield
    cache.clear()


def signed_in(user: User) -> Client:
    """Signed in, without the fresh password confirmation of the conftest personas."""
    client = Client()
    client.force_login(user)
    return client


def without_mfa(user: User) -> User:
    Authenticator.objects.filter(user=user).delete()
    return user


@pytest.fixture
def bare_coordinator(world) -> Client:
    """Rina, coordinator of Malang, before she set up her authenticator app."""
    return signed_in(without_mfa(world["coordinator_malang"]))


def current_code(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, next(yield_hotp_counters_from_time())))


def token_for(user: User) -> Client:
    _token, secret = AuthToken.objects.create(user=user)
    return Client(HTTP_AUTHORIZATION=f"Token {secret}")


def confirm_password(client: Client, next_url: str, password: str = PASSWORD):
    return client.post(f"{REAUTH}?next={next_url}", {"password": password})


# --- MFA is required for coordinators, province and ministry users -------------------------------


@pytest.mark.parametrize("username", MFA_USERS)
def test_a_user_whose_role_needs_mfa_is_sent_to_the_totp_setup_from_every_page(world, username):
    client = signed_in(without_mfa(world[username]))
    for url in DATA_PAGES:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url == SETUP, url


def test_without_mfa_no_post_reaches_a_view(bare_coordinator):
    response = bare_coordinator.post(
        reverse("accounts:create"), {"username": "someone", "role": Role.VILLAGE_OFFICER}
    )
    assert response.url == SETUP
    assert not User.objects.filter(username="someone").exists()


def test_the_setup_page_says_why(bare_coordinator):
    response = bare_coordinator.get(reverse("home"), follow=True)
    shown = [str(message) for message in response.context["messages"]]
    assert any("autentikasi dua langkah" in message for message in shown)


def test_without_mfa_the_api_answers_403_in_json_to_the_session(bare_coordinator):
    response = bare_coordinator.get(reverse("api:village-list"))
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    assert "autentikasi dua langkah" in json.loads(response.content)["detail"]


def test_without_mfa_an_api_token_is_refused_in_json(world):
    client = token_for(without_mfa(world["coordinator_malang"]))
    response = client.get(reverse("api:village-list"))
    assert response.status_code == 403
    assert "autentikasi dua langkah" in response.json()["detail"]
    assert "35.07.11.2008" not in response.content.decode()


def test_the_setup_and_leaving_stay_open(bare_coordinator):
    assert bare_coordinator.get(reverse("mfa_index")).status_code == 200
    assert bare_coordinator.get(reverse("health")).status_code == 200
    # allauth asks for the password before adding an authenticator: that page is open too.
    setup = bare_coordinator.get(SETUP)
    assert setup.status_code == 302
    assert setup.url.startswith(REAUTH)
    assert bare_coordinator.get(setup.url).status_code == 200
    language = bare_coordinator.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert language.status_code == 302
    bare_coordinator.post(reverse("account_logout"))
    assert bare_coordinator.get(reverse("home")).url.startswith(LOGIN)


def test_a_coordinator_sets_up_totp_and_then_works(
    world, bare_coordinator, settings, django_capture_on_commit_callbacks
):
    settings.MFA_TOTP_TOLERANCE = 1  # a code made at the end of a period stays valid
    assert bare_coordinator.get(reverse("home")).url == SETUP
    confirmed = confirm_password(bare_coordinator, SETUP)
    assert confirmed.url == SETUP

    page = bare_coordinator.get(SETUP)
    assert page.status_code == 200
    secret = page.context["form"].secret
    with django_capture_on_commit_callbacks() as on_commit:
        activated = bare_coordinator.post(SETUP, {"code": current_code(secret)})
    assert activated.status_code == 302
    assert Authenticator.objects.filter(
        user=world["coordinator_malang"], type=Authenticator.Type.TOTP
    ).exists()
    # Recovery codes come with the first authenticator, for a lost phone.
    assert Authenticator.objects.filter(
        user=world["coordinator_malang"], type=Authenticator.Type.RECOVERY_CODES
    ).exists()

    assert bare_coordinator.get(reverse("villages:list")).status_code == 200
    assert bare_coordinator.get(reverse("migrants:register")).status_code == 200
    # And the owner is told by e-mail, in case it was not them: allauth mails when the request's
    # transaction commits (the test's never does, so run its callbacks as a request would).
    with context.request_context(RequestFactory().post(SETUP)):
        for callback in on_commit:
            callback()
    assert [message.to for message in mail.outbox] == [["coordinator_malang@example.org"]]


def test_signing_in_with_totp_asks_for_the_code(world, anonymous, settings):
    settings.MFA_TOTP_TOLERANCE = 1
    secret = generate_totp_secret()
    TOTP.activate(without_mfa(world["coordinator_malang"]), secret)
    response = anonymous.post(LOGIN, {"login": "coordinator_malang", "password": PASSWORD})
    assert response.url == reverse("mfa_authenticate")
    assert anonymous.get(reverse("home")).url.startswith(LOGIN)
    anonymous.post(reverse("mfa_authenticate"), {"code": current_code(secret)})
    assert anonymous.get(reverse("migrants:register")).status_code == 200


@pytest.mark.parametrize("username", MFA_USERS)
def test_with_an_authenticator_app_every_role_passes(world, username):
    user = world[username]
    client = signed_in(user)
    assert client.get(reverse("villages:list")).status_code == 200
    assert client.get(reverse("reports:list")).status_code == 200
    assert token_for(user).get(reverse("api:village-list")).status_code == 200


def test_the_admin_opens_with_an_authenticator_app(world):
    client = signed_in(world["admin"])
    assert client.get(reverse("admin:index")).status_code == 200


@pytest.mark.parametrize("persona", ["officer_arjowilangun", "head_arjowilangun"])
def test_village_officers_and_heads_are_not_forced(request, persona):
    client = request.getfixturevalue(persona)
    assert client.get(reverse("villages:list")).status_code == 200
    assert client.get(reverse("migrants:register")).status_code == 200


def test_a_superuser_without_a_role_is_forced_too(db):
    root = User.objects.create_superuser("root", "root@example.org", PASSWORD)
    assert signed_in(root).get(reverse("admin:index")).url == SETUP


def test_mfa_required_false_turns_the_rule_off(world, bare_coordinator, settings):
    settings.MFA_REQUIRED = False
    assert bare_coordinator.get(reverse("migrants:register")).status_code == 200
    token = token_for(world["coordinator_malang"])
    assert token.get(reverse("api:village-list")).status_code == 200


def test_removing_the_authenticator_brings_the_rule_back(world):
    user = world["coordinator_malang"]
    client = signed_in(user)
    assert client.get(reverse("villages:list")).status_code == 200
    Authenticator.objects.filter(user=user).delete()
    assert client.get(reverse("villages:list")).url == SETUP


def test_the_check_costs_no_query(world, settings, django_assert_num_queries):
    """The authenticator is loaded with the user: a page costs what it cost without the rule."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    coordinator = signed_in(world["coordinator_malang"])
    page = reverse("villages:list")
    coordinator.get(page)
    settings.MFA_REQUIRED = False
    with CaptureQueriesContext(connection) as without_rule:
        coordinator.get(page)
    settings.MFA_REQUIRED = True
    with django_assert_num_queries(len(without_rule.captured_queries)):
        assert coordinator.get(page).status_code == 200


# --- Rate limits: slow a guesser, lock nobody out ------------------------------------------------


def fail_login(client: Client, login: str, ip: str):
    return client.post(LOGIN, {"login": login, "password": "not-the-password"}, REMOTE_ADDR=ip)


def test_failed_sign_ins_for_one_account_are_slowed_with_a_clear_message(world, monkeypatch):
    client = Client()
    for attempt in range(5):
        response = fail_login(client, "officer_arjowilangun", f"10.0.0.{attempt + 1}")
        assert "Terlalu banyak percobaan masuk yang gagal" not in response.content.decode()
    response = fail_login(client, "officer_arjowilangun", "10.0.0.99")
    assert "Terlalu banyak percobaan masuk yang gagal" in response.content.decode()
    assert "akun Anda tidak diblokir" in response.content.decode()

    # A minute later the officer signs in: the account was never locked.
    import allauth.core.internal.ratelimit as ratelimit

    later = types.SimpleNamespace(
        time=lambda: time.time() + 61, monotonic=time.monotonic, sleep=time.sleep
    )
    monkeypatch.setattr(ratelimit, "time", later)
    response = client.post(
        LOGIN, {"login": "officer_arjowilangun", "password": PASSWORD}, REMOTE_ADDR="10.0.0.7"
    )
    assert response.status_code == 302
    assert client.get(reverse("migrants:register")).status_code == 200
    assert User.objects.get(username="officer_arjowilangun").is_active


def test_failed_sign_ins_from_one_address_are_limited_across_accounts(world):
    client = Client()
    names = [f"nobody{n}" for n in range(20)]
    for name in names:
        fail_login(client, name, "10.1.1.1")
    response = fail_login(client, "someone-else", "10.1.1.1")
    assert "Terlalu banyak percobaan masuk yang gagal" in response.content.decode()
    # Another address is not affected.
    ok = client.post(
        LOGIN, {"login": "officer_arjowilangun", "password": PASSWORD}, REMOTE_ADDR="10.2.2.2"
    )
    assert ok.status_code == 302


def test_a_successful_sign_in_does_not_count_as_a_failure(world):
    for _ in range(8):
        client = Client()
        response = client.post(
            LOGIN, {"login": "officer_arjowilangun", "password": PASSWORD}, REMOTE_ADDR="10.3.3.3"
        )
        assert response.status_code == 302


def test_login_by_e_mail_code_is_off(settings):
    assert settings.ACCOUNT_LOGIN_BY_CODE_ENABLED is False
    with pytest.raises(NoReverseMatch):
        reverse("account_request_login_code")


def test_the_admin_signs_in_through_allauth(anonymous, db):
    response = anonymous.get(reverse("admin:login"))
    assert response.status_code == 302
    assert response.url.startswith(LOGIN)


# --- Re-authentication before exports, role changes and bulk deletes -----------------------------


def test_exporting_the_register_asks_for_the_password_first(world):
    officer_arjowilangun = signed_in(world["officer_arjowilangun"])
    export = reverse("migrants:export")
    assert officer_arjowilangun.get(export).status_code == 200  # the form itself is open
    response = officer_arjowilangun.post(export, {"format": "csv"})
    assert response.status_code == 302
    assert response.url.startswith(REAUTH)
    assert not ExportLog.objects.exists()

    wrong = confirm_password(officer_arjowilangun, export, password="not-the-password")
    assert wrong.status_code == 200
    assert not ExportLog.objects.exists()

    # Confirmed: the suspended export goes on and the file comes back.
    done = confirm_password(officer_arjowilangun, export)
    assert done.status_code == 200
    assert done["Content-Disposition"].startswith("attachment")
    assert ExportLog.objects.count() == 1
    # For a while, no second confirmation is asked.
    again = officer_arjowilangun.post(export, {"format": "csv"})
    assert again.status_code == 200
    assert ExportLog.objects.count() == 2


def test_exporting_from_the_admin_asks_for_the_password_first(world):
    admin = signed_in(world["admin"])
    response = admin.post(reverse("admin:migrants_person_export"), {"format": "0"})
    assert response.url.startswith(REAUTH)
    assert not ExportLog.objects.exists()


def test_a_role_without_export_gets_403_not_a_password_prompt(world, officer_arjowilangun):
    from accounts import permissions

    # Everyone may export today; a role that may not is refused before any prompt.
    previous = permissions.POLICY[Role.VILLAGE_OFFICER]
    permissions.POLICY[Role.VILLAGE_OFFICER] = previous - {permissions.Action.EXPORT_REGISTER}
    try:
        response = officer_arjowilangun.post(reverse("migrants:export"), {"format": "csv"})
    finally:
        permissions.POLICY[Role.VILLAGE_OFFICER] = previous
    assert response.status_code == 403


def test_deactivating_an_account_asks_for_the_password_first(world):
    coordinator = signed_in(world["coordinator_malang"])
    officer = world["officer_arjowilangun"]
    url = reverse("accounts:toggle-active", args=[officer.pk])
    response = coordinator.post(url)
    assert response.url.startswith(REAUTH)
    officer.refresh_from_db()
    assert officer.is_active

    confirm_password(coordinator, url)
    officer.refresh_from_db()
    assert not officer.is_active


def test_deactivating_out_of_scope_is_404_before_any_prompt(world):
    coordinator = signed_in(world["coordinator_malang"])
    response = coordinator.post(
        reverse("accounts:toggle-active", args=[world["officer_kenanga"].pk])
    )
    assert response.status_code == 404


def test_province_viewer_gets_403_before_any_prompt(world):
    province = signed_in(world["province_jatim"])
    response = province.post(
        reverse("accounts:toggle-active", args=[world["officer_arjowilangun"].pk])
    )
    assert response.status_code == 403


def test_giving_a_role_asks_for_the_password_first(world):
    coordinator = signed_in(world["coordinator_malang"])
    data = {
        "username": "officer_balearjo",
        "first_name": "Nur",
        "last_name": "Hasanah",
        "email": "nur@example.org",
        "role": Role.VILLAGE_OFFICER,
        "scope": "35.07.33.2004",
    }
    response = coordinator.post(reverse("accounts:create"), data)
    assert response.url.startswith(REAUTH)
    assert not User.objects.filter(username="officer_balearjo").exists()
    confirm_password(coordinator, reverse("accounts:create"))
    assert User.objects.get(username="officer_balearjo").role == Role.VILLAGE_OFFICER


def test_changing_a_role_in_the_admin_asks_for_the_password_first(world):
    admin = signed_in(world["admin"])
    officer = world["officer_arjowilangun"]
    url = reverse("admin:accounts_user_change", args=[officer.pk])
    form = admin.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(
        {
            "role": Role.VILLAGE_HEAD,
            "scope": officer.scope_id,
            "date_joined_0": officer.date_joined.strftime("%Y-%m-%d"),
            "date_joined_1": officer.date_joined.strftime("%H:%M:%S"),
            "groups": [],
            "user_permissions": [],
        }
    )
    data.pop("date_joined", None)
    data.pop("last_login", None)
    data.pop("password", None)
    response = admin.post(url, data)
    assert response.url.startswith(REAUTH)
    officer.refresh_from_db()
    assert officer.role == Role.VILLAGE_OFFICER

    confirm_password(admin, url)
    officer.refresh_from_db()
    assert officer.role == Role.VILLAGE_HEAD


def test_deleting_a_selection_in_the_admin_asks_for_the_password_first(world):
    from villages.models import Designation

    admin = signed_in(world["admin"])
    designation = Designation.objects.first()
    response = admin.post(
        reverse("admin:villages_designation_changelist"),
        {"action": "delete_selected", "_selected_action": [designation.pk]},
    )
    assert response.url.startswith(REAUTH)
    assert Designation.objects.filter(pk=designation.pk).exists()


def test_undoing_an_import_asks_for_the_password_first(world):
    from migrants.models import ImportBatch

    coordinator = signed_in(world["coordinator_malang"])
    batch = ImportBatch.objects.create(
        created_by=world["officer_arjowilangun"],
        scope_id="35.07.11.2008",
        file="imports/a.xlsx",
        filename="a.xlsx",
        sha256="0" * 64,
        size=1,
        state=ImportBatch.State.COMMITTED,
    )
    response = coordinator.post(reverse("migrants:import-undo", args=[batch.pk]))
    assert response.url.startswith(REAUTH)
    batch.refresh_from_db()
    assert batch.state == ImportBatch.State.COMMITTED


def test_asking_for_a_register_report_asks_for_the_password_first(world):
    coordinator = signed_in(world["coordinator_malang"])
    month = last_month().strftime("%Y-%m")
    data = {
        "kind": ReportKind.REGISTER,
        "format": ReportFormat.XLSX,
        "area": "35.07",
        "month_from": month,
        "month_to": month,
    }
    response = coordinator.post(reverse("reports:request"), data)
    assert response.url.startswith(REAUTH)
    assert not ReportJob.objects.exists()
    confirm_password(coordinator, reverse("reports:request"))
    assert ReportJob.objects.filter(kind=ReportKind.REGISTER).count() == 1


def test_other_reports_need_no_confirmation(world):
    coordinator = signed_in(world["coordinator_malang"])
    month = last_month().strftime("%Y-%m")
    response = coordinator.post(
        reverse("reports:request"),
        {
            "kind": ReportKind.VILLAGE_MONTHLY,
            "format": ReportFormat.XLSX,
            "area": "35.07.11.2008",
            "month_from": month,
            "month_to": month,
        },
    )
    assert not response.url.startswith(REAUTH)
    assert ReportJob.objects.count() == 1


def test_making_an_api_token_asks_for_the_password_first(world):
    officer_arjowilangun = signed_in(world["officer_arjowilangun"])
    response = officer_arjowilangun.post(reverse("tokens:list"), {"name": "my laptop"})
    assert response.url.startswith(REAUTH)
    assert not AuthToken.objects.exists()
    confirm_password(officer_arjowilangun, reverse("tokens:list"))
    assert AuthToken.objects.count() == 1


# --- Notices and password rules ------------------------------------------------------------------


def test_a_changed_password_is_announced_by_e_mail(world, officer_arjowilangun):
    new = "tiga-ekor-kucing-2026"
    response = officer_arjowilangun.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": new, "password2": new},
    )
    assert response.status_code == 302
    assert [message.to for message in mail.outbox] == [["officer_arjowilangun@example.org"]]
    assert "Kata sandi Anda telah diubah" in mail.outbox[0].body  # Indonesian by default


@pytest.mark.parametrize(
    "password",
    [
        "Kuda-lari-1",  # shorter than 12
        "password1234",  # a common password
        "794613852046",  # only digits
        "officer_arjowilangun1",  # too like the username
    ],
)
def test_weak_passwords_are_refused(world, password):
    with pytest.raises(ValidationError):
        validate_password(password, user=world["officer_arjowilangun"])


def test_a_long_uncommon_password_is_accepted(world):
    validate_password("tiga-ekor-kucing-2026", user=world["officer_arjowilangun"])
