"""API tokens on the website: made and shown once, listed, revoked; each user's own only."""

import re

import pytest
from django.test import Client
from django.urls import reverse
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts.models import AccountEvent, User
from dashboards.views_tokens import MAX_TOKENS, TOKEN_CREATED, TOKEN_REVOKED, token_create

URL = reverse("tokens:list")
REVOKE = reverse("tokens:revoke")


def secret_in(response) -> str:
    match = re.search(r'id="new-token"[^>]*value="([0-9a-f]{20,})"', response.content.decode())
    assert match, "no token shown"
    return match[1]


def api_status(secret: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return client.get("/api/villages/").status_code


def test_anonymous_is_sent_to_sign_in(anonymous):
    response = anonymous.get(URL)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    assert anonymous.post(REVOKE, {"token": "x"}).status_code == 302


def test_a_user_without_a_role_gets_a_403(world):
    user = User.objects.create_user("roleless", "roleless@example.org", "x" * 12)
    client = Client()
    client.force_login(user)
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"name": "script"}).status_code == 403
    assert not AuthToken.objects.exists()


def test_a_new_token_is_shown_once_and_opens_the_api(evaluator, world):
    response = evaluator.post(URL, {"name": "  BP2MI   dashboard "})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    secret = secret_in(response)
    assert api_status(secret) == 200

    token = AuthToken.objects.get()
    assert token.user == world["evaluator"]
    assert secret not in str(AuthToken.objects.values_list())  # only its digest is kept
    event = AccountEvent.objects.get(kind=TOKEN_CREATED)
    assert (event.actor, event.user) == (world["evaluator"], world["evaluator"])
    assert event.detail["name"] == "BP2MI dashboard"
    assert secret not in str(event.detail)

    again = evaluator.get(URL).content.decode()
    assert secret not in again
    assert "BP2MI dashboard" in again
    assert secret[:8] in again  # "starts with", to tell tokens apart


def test_the_list_shows_only_ones_own_tokens(evaluator, world, django_assert_max_num_queries):
    token_create(user=world["evaluator"], name="mine")
    token_create(user=world["admin"], name="the ministry's script")
    with django_assert_max_num_queries(4):
        page = evaluator.get(URL).content.decode()
    assert "mine" in page
    assert "the ministry&#x27;s script" not in page
    assert "the ministry's script" not in page


def test_revoking_a_token_closes_the_api_to_it(coordinator_malang, world):
    token, secret = token_create(user=world["coordinator_malang"], name="laptop")
    response = coordinator_malang.post(REVOKE, {"token": token.digest})
    assert response.status_code == 302
    assert not AuthToken.objects.exists()
    assert api_status(secret) == 401
    event = AccountEvent.objects.get(kind=TOKEN_REVOKED)
    assert event.detail["digest"] == token.digest


def test_another_users_token_cannot_be_revoked(coordinator_malang, world):
    token, _secret = token_create(user=world["coordinator_indramayu"], name="theirs")
    assert coordinator_malang.post(REVOKE, {"token": token.digest}).status_code == 404
    assert coordinator_malang.post(REVOKE, {"token": "nonsense"}).status_code == 404
    assert coordinator_malang.get(REVOKE).status_code == 405
    assert AuthToken.objects.filter(pk=token.pk).exists()
    assert not AccountEvent.objects.filter(kind=TOKEN_REVOKED).exists()


def test_a_token_needs_a_name(evaluator):
    response = evaluator.post(URL, {"name": "  "})
    assert response.status_code == 200
    assert 'id="new-token"' not in response.content.decode()
    assert not AuthToken.objects.exists()


def test_at_most_a_few_live_tokens(evaluator, world):
    for number in range(MAX_TOKENS):
        token_create(user=world["evaluator"], name=f"token {number}")
    response = evaluator.post(URL, {"name": "one more"})
    assert 'id="new-token"' not in response.content.decode()
    assert AuthToken.objects.count() == MAX_TOKENS


@pytest.mark.parametrize("persona", ["officer_arjowilangun", "head_arjowilangun", "province_jatim"])
def test_every_role_may_have_tokens(persona, world, request):
    client = request.getfixturevalue(persona)
    assert client.get(URL).status_code == 200
