"""API clients holding a persona's token, and a clean cache (the throttle counts requests
there)."""

import pytest
from django.core.cache import cache
from knox.models import AuthToken
from rest_framework.test import APIClient


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()
    yield
    cache.clear()


def token_client(user) -> APIClient:
    _token, secret = AuthToken.objects.create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return client


@pytest.fixture
def api(world):
    """api("coordinator_malang") -> a client sending that persona's token."""
    return lambda username: token_client(world[username])
