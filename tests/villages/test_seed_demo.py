from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from tests.conftest import WORLD_REGIONS
from villages.models import Designation
from villages.services import regions_load


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_seed_demo_needs_the_regions_first(db):
    with pytest.raises(CommandError, match="load_regions"):
        seed()


def test_seed_demo_designates_six_villages_and_prints_one_user_per_role(db, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "rahasia-demo-1")
    regions_load(regions=WORLD_REGIONS, edition="test", source="tests")
    output = seed()
    for username in (
        "officer_arjowilangun",
        "officer_kenanga",
        "head_arjowilangun",
        "coordinator_malang",
        "coordinator_indramayu",
        "province_jatim",
        "evaluator",
        "admin",
    ):
        assert username in output
        assert User.objects.get(username=username).check_password("rahasia-demo-1")
    assert "rahasia-demo-1" in output
    assert set(Designation.objects.values_list("village__name", flat=True)) == {
        "Kenanga",
        "Kuripan",
        "Arjowilangun",
        "Sumberpetung",
        "Balearjo",
        "Brongkal",
    }
    assert set(
        Designation.objects.filter(cohort_year=2016).values_list("village_id", flat=True)
    ) == {"32.12.16.2004", "33.07.10.2004"}


def test_seed_demo_twice_changes_nothing(db):
    regions_load(regions=WORLD_REGIONS, edition="test", source="tests")
    seed()
    before = (User.objects.count(), Designation.objects.count())
    seed()
    assert (User.objects.count(), Designation.objects.count()) == before
    arjowilangun = Designation.objects.get(village_id="35.07.11.2008")
    assert list(arjowilangun.officers.values_list("username", flat=True).order_by("username")) == [
        "head_arjowilangun",
        "officer_arjowilangun",
    ]
