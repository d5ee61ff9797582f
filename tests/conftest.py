"""Named personas and the small region world they live in.

The world is the demo's: the 2016 pilots Kenanga (Indramayu) and Kuripan (Wonosobo) and Kab.
Malang's Arjowilangun, Sumberpetung (Kalipare), Balearjo and Brongkal (Pagelaran).
"""

import pytest
from django.test import Client

from accounts.models import Role, User
from villages.demo import seed_demo
from villages.services import regions_load

PASSWORD = "test-password-123"

# The regions of the demo villages and their ancestors, plus one undesignated village.
WORLD_REGIONS = {
    "32": "JAWA BARAT",
    "32.12": "KAB. INDRAMAYU",
    "32.12.16": "Sindang",
    "32.12.16.2004": "Kenanga",
    "33": "JAWA TENGAH",
    "33.07": "KAB. WONOSOBO",
    "33.07.10": "Watumalang",
    "33.07.10.2004": "Kuripan",
    "35": "JAWA TIMUR",
    "35.07": "KAB. MALANG",
    "35.07.11": "Kalipare",
    "35.07.11.2003": "Sumberpetung",
    "35.07.11.2008": "Arjowilangun",
    "35.07.11.2001": "Kalipare",
    "35.07.33": "Pagelaran",
    "35.07.33.2004": "Balearjo",
    "35.07.33.2006": "Brongkal",
    "35.73": "KOTA MALANG",
}


@pytest.fixture
def world(db):
    """Regions, the six designated villages and the demo users (password PASSWORD)."""
    regions_load(regions=WORLD_REGIONS, edition="test", source="tests")
    users = {user.username: user for user in seed_demo(password=PASSWORD)}
    users["officer_brongkal"] = _user("officer_brongkal", Role.VILLAGE_OFFICER, "35.07.33.2006")
    users["deactivated_officer"] = _user(
        "deactivated_officer", Role.VILLAGE_OFFICER, "35.07.11.2008", is_active=False
    )
    return users


def _user(username: str, role: str, scope: str | None, **extra) -> User:
    user = User(
        username=username, email=f"{username}@example.org", role=role, scope_id=scope, **extra
    )
    user.set_password(PASSWORD)
    user.save()
    return user


def _client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def anonymous() -> Client:
    return Client()


@pytest.fixture
def officer_arjowilangun(world) -> Client:
    return _client_for(world["officer_arjowilangun"])


@pytest.fixture
def officer_brongkal(world) -> Client:
    return _client_for(world["officer_brongkal"])


@pytest.fixture
def officer_kenanga(world) -> Client:
    return _client_for(world["officer_kenanga"])


@pytest.fixture
def head_arjowilangun(world) -> Client:
    return _client_for(world["head_arjowilangun"])


@pytest.fixture
def coordinator_malang(world) -> Client:
    return _client_for(world["coordinator_malang"])


@pytest.fixture
def coordinator_indramayu(world) -> Client:
    return _client_for(world["coordinator_indramayu"])


@pytest.fixture
def province_jatim(world) -> Client:
    return _client_for(world["province_jatim"])


@pytest.fixture
def evaluator(world) -> Client:
    return _client_for(world["evaluator"])


@pytest.fixture
def ministry_admin(world) -> Client:
    return _client_for(world["admin"])
