import re

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import AccountEvent, Role, User

USERS = reverse("accounts:list")
CREATE = reverse("accounts:create")


def invite(client, **overrides):
    data = {
        "username": "officer_balearjo",
        "first_name": "Nur",
        "last_name": "Hasanah",
        "email": "nur@example.org",
        "role": Role.VILLAGE_OFFICER,
        "scope": "35.07.33.2004",
    }
    data.update(overrides)
    return client.post(CREATE, data)


def test_anonymous_is_sent_to_login(anonymous, world):
    for url in (USERS, CREATE):
        assert anonymous.get(url).url.startswith(reverse("account_login"))


@pytest.mark.parametrize(
    "persona", ["officer_arjowilangun", "head_arjowilangun", "province_jatim", "evaluator"]
)
def test_roles_without_account_management_get_403(request, persona):
    client = request.getfixturevalue(persona)
    assert client.get(USERS).status_code == 403
    assert client.get(CREATE).status_code == 403
    assert invite(client).status_code == 403
    assert not User.objects.filter(username="officer_balearjo").exists()


def test_coordinator_lists_only_accounts_of_their_regency(coordinator_malang):
    usernames = {u.username for u in coordinator_malang.get(USERS).context["page"].object_list}
    assert usernames == {
        "officer_arjowilangun",
        "head_arjowilangun",
        "coordinator_malang",
        "officer_brongkal",
        "deactivated_officer",
    }


def test_coordinator_creates_a_village_account_and_the_user_sets_a_password(
    coordinator_malang, anonymous, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = invite(coordinator_malang)
    assert response.status_code == 302
    user = User.objects.get(username="officer_balearjo")
    assert user.scope_id == "35.07.33.2004"
    assert not user.has_usable_password()
    assert AccountEvent.objects.filter(user=user, kind=AccountEvent.Kind.CREATED).exists()

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["nur@example.org"]
    link = re.search(r"http://testserver(/accounts/password/reset/key/\S+)", mail.outbox[0].body)
    assert link, mail.outbox[0].body

    form_page = anonymous.get(link.group(1), follow=True)
    assert form_page.status_code == 200
    anonymous.post(
        form_page.redirect_chain[-1][0] if form_page.redirect_chain else link.group(1),
        {"password1": "kuat-sekali-2026", "password2": "kuat-sekali-2026"},
    )
    user.refresh_from_db()
    assert user.check_password("kuat-sekali-2026")


def test_coordinator_cannot_create_accounts_outside_their_regency(coordinator_malang):
    response = invite(coordinator_malang, scope="32.12.16.2004")
    assert response.status_code == 200
    assert "scope" in response.context["form"].errors
    # The message does not say whether the foreign code exists.
    assert "Kenanga" not in response.content.decode()
    assert not User.objects.filter(username="officer_balearjo").exists()


def test_coordinator_cannot_hand_out_coordinator_or_ministry_roles(coordinator_malang):
    for role in (Role.COORDINATOR, Role.EVALUATOR, Role.MINISTRY_ADMIN):
        response = invite(coordinator_malang, role=role, scope="35.07")
        assert "role" in response.context["form"].errors
    assert not User.objects.filter(username="officer_balearjo").exists()


def test_role_and_region_level_must_agree(ministry_admin):
    response = invite(ministry_admin, role=Role.COORDINATOR, scope="35.07.33.2004")
    assert "scope" in response.context["form"].errors
    response = invite(ministry_admin, role=Role.COORDINATOR, scope="35.07")
    assert response.status_code == 302
    assert not mail.outbox  # sent only once the account is committed
    assert User.objects.get(username="officer_balearjo").is_staff


def test_duplicate_username_and_email_are_refused_with_a_message(coordinator_malang):
    response = invite(coordinator_malang, username="officer_arjowilangun")
    assert "username" in response.context["form"].errors
    response = invite(coordinator_malang, email="officer_arjowilangun@example.org")
    assert "email" in response.context["form"].errors


def test_coordinator_deactivates_and_reactivates_an_officer(coordinator_malang, world):
    officer = world["officer_brongkal"]
    url = reverse("accounts:toggle-active", args=[officer.pk])
    assert coordinator_malang.get(url).status_code == 405
    coordinator_malang.post(url)
    officer.refresh_from_db()
    assert not officer.is_active
    coordinator_malang.post(url)
    officer.refresh_from_db()
    assert officer.is_active
    kinds = list(AccountEvent.objects.filter(user=officer).values_list("kind", flat=True))
    assert sorted(kinds) == ["deactivated", "reactivated"]


def test_coordinator_cannot_touch_accounts_of_another_regency(coordinator_malang, world):
    url = reverse("accounts:toggle-active", args=[world["officer_kenanga"].pk])
    assert coordinator_malang.post(url).status_code == 404
    world["officer_kenanga"].refresh_from_db()
    assert world["officer_kenanga"].is_active


def test_nobody_can_sign_up(anonymous, world):
    anonymous.post(
        reverse("account_signup"),
        {
            "username": "x",
            "email": "x@example.org",
            "password1": "abc-def-123-x",
            "password2": "abc-def-123-x",
        },
    )
    assert not User.objects.filter(username="x").exists()


def test_login_by_username_and_by_email(anonymous, world):
    for login in ("officer_kenanga", "officer_kenanga@example.org"):
        response = anonymous.post(
            reverse("account_login"), {"login": login, "password": "test-password-123"}
        )
        assert response.status_code == 302
        assert anonymous.get(reverse("home")).url == reverse(
            "villages:detail", args=["32.12.16.2004"]
        )
        anonymous.logout()


def test_user_list_query_count_is_flat(coordinator_malang, django_assert_num_queries, world):
    coordinator_malang.get(USERS)
    with django_assert_num_queries(4):  # session, user, count, page with scopes
        coordinator_malang.get(USERS)
    for n in range(10):
        User.objects.create(
            username=f"extra{n}", role=Role.VILLAGE_OFFICER, scope_id="35.07.11.2003"
        )
    with django_assert_num_queries(4):
        coordinator_malang.get(USERS)
