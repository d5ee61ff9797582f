"""NIKs, family card numbers and children (UU 27/2022): masked by default, revealed only on
request by roles that work with the village's people, every reveal logged."""

import re

import pytest
from django.urls import reverse

from migrants import services
from migrants.models import Person, SensitiveAccess
from migrants.nik import BULLET
from tests.migrants.factories import (
    a_kk,
    a_nik,
    child_birth_date,
    depart,
    fresh,
    register,
)

REGISTER = reverse("migrants:register")
EVERY_READER = [
    "officer_arjowilangun",
    "head_arjowilangun",
    "coordinator_malang",
    "province_jatim",
    "evaluator",
    "ministry_admin",
]
CHILD_READERS = ["officer_arjowilangun", "head_arjowilangun", "coordinator_malang"]
NO_CHILDREN = ["evaluator", "province_jatim"]


def detail(person: Person) -> str:
    return reverse("migrants:detail", args=[person.pk])


def reveal(person: Person) -> str:
    return reverse("migrants:reveal", args=[person.pk])


def page_without(response, query: str) -> str:
    """The page with the viewer's query and the per-response CSRF tokens taken out."""
    content = response.content.decode().replace(query, "QUERY")
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", content)


def masked(number: str) -> str:
    return number[:4] + BULLET * 8 + number[-4:]


@pytest.fixture
def sri(world) -> Person:
    """An adult PMI of Arjowilangun with a NIK, a No. KK and a changed NIK in her history."""
    officer = world["officer_arjowilangun"]
    person = register(actor=officer, full_name="Sri Wahyuni", no_kk=a_kk())
    services.person_update(person=person, data={"nik": a_nik()}, actor=officer)
    depart(person, actor=officer)
    return fresh(person)


@pytest.fixture
def child(world, sri) -> Person:
    """Sri's ten-year-old daughter, left in the village: same No. KK."""
    born = child_birth_date()
    return register(
        actor=world["officer_arjowilangun"],
        full_name="Putri Kecil",
        birth_date=born,
        nik=a_nik(birth_date=born),
        no_kk=sri.no_kk,
        relationship="child",
    )


def test_a_mask_shows_the_first_four_and_last_four_digits_around_eight_bullets(sri):
    assert re.fullmatch(rf"\d{{4}}{BULLET}{{8}}\d{{4}}", sri.masked_nik)
    assert sri.masked_nik == masked(sri.nik)
    assert sri.masked_kk == masked(sri.no_kk)


@pytest.mark.parametrize("persona", EVERY_READER)
def test_the_register_list_shows_the_masked_nik_never_the_full_one(request, sri, persona):
    content = request.getfixturevalue(persona).get(REGISTER).content.decode()

    assert "Sri Wahyuni" in content
    assert masked(sri.nik) in content
    assert sri.nik not in content
    assert sri.no_kk not in content


@pytest.mark.parametrize("persona", EVERY_READER)
def test_the_person_page_shows_masks_never_the_full_nik_or_kk(request, sri, persona):
    old_nik = sri.history.get(action="created").changes["nik"][1]
    response = request.getfixturevalue(persona).get(detail(sri))

    content = response.content.decode()
    assert response.status_code == 200
    assert masked(sri.nik) in content
    assert masked(sri.no_kk) in content
    assert sri.nik not in content
    assert sri.no_kk not in content
    assert old_nik in content  # the history shows the old NIK masked too


def test_opening_the_person_page_logs_no_sensitive_access(officer_arjowilangun, sri):
    officer_arjowilangun.get(detail(sri))
    assert not SensitiveAccess.objects.exists()


def test_the_edit_page_does_not_show_the_full_nik_without_logging_it(officer_arjowilangun, sri):
    content = officer_arjowilangun.get(reverse("migrants:edit", args=[sri.pk])).content.decode()
    assert sri.nik not in content
    assert sri.masked_nik in content


def test_revealing_shows_the_full_nik_and_logs_who_whose_and_what(officer_arjowilangun, sri, world):
    response = officer_arjowilangun.post(reveal(sri), {"what": "nik_reveal"})

    assert response.status_code == 200
    assert sri.nik in response.content.decode()
    access = SensitiveAccess.objects.get()
    assert (access.actor, access.person, access.kind) == (
        world["officer_arjowilangun"],
        sri,
        SensitiveAccess.Kind.NIK_REVEAL,
    )


def test_each_reveal_is_logged_again(officer_arjowilangun, sri):
    officer_arjowilangun.post(reveal(sri), {"what": "nik_reveal"})
    officer_arjowilangun.post(reveal(sri), {"what": "nik_reveal"})
    assert SensitiveAccess.objects.filter(person=sri, kind="nik_reveal").count() == 2


def test_revealing_the_family_card_shows_the_full_kk_and_logs_it(coordinator_malang, sri, world):
    response = coordinator_malang.post(reveal(sri), {"what": "kk_reveal"})

    content = response.content.decode()
    assert sri.no_kk in content
    assert sri.nik not in content
    access = SensitiveAccess.objects.get()
    assert (access.actor, access.kind) == (world["coordinator_malang"], "kk_reveal")


def test_the_village_head_may_reveal_too(head_arjowilangun, sri):
    assert head_arjowilangun.post(reveal(sri), {"what": "nik_reveal"}).status_code == 200
    assert SensitiveAccess.objects.count() == 1


def test_a_reveal_is_a_post_only(officer_arjowilangun, sri):
    assert officer_arjowilangun.get(reveal(sri)).status_code == 405
    assert not SensitiveAccess.objects.exists()


@pytest.mark.parametrize("persona", NO_CHILDREN)
def test_evaluators_and_province_viewers_cannot_reveal(request, sri, persona):
    response = request.getfixturevalue(persona).post(reveal(sri), {"what": "nik_reveal"})

    assert response.status_code == 403
    assert sri.nik not in response.content.decode()
    assert not SensitiveAccess.objects.exists()


@pytest.mark.parametrize("persona", NO_CHILDREN)
def test_evaluators_and_province_viewers_never_see_children(request, child, persona):
    client = request.getfixturevalue(persona)

    response = client.get(REGISTER)
    names = {person.full_name for person in response.context["page"].object_list}
    assert "Putri Kecil" not in names
    assert "Sri Wahyuni" in names
    assert client.get(detail(child)).status_code == 404
    assert client.get(REGISTER, {"q": child.nik}).context["page"].object_list == []


@pytest.mark.parametrize("persona", NO_CHILDREN)
def test_a_child_is_left_out_of_the_family_shown_to_evaluators(request, sri, child, persona):
    response = request.getfixturevalue(persona).get(detail(sri))

    assert response.context["family"] == []
    assert "Putri Kecil" not in response.content.decode()


@pytest.mark.parametrize("persona", CHILD_READERS)
def test_officers_heads_and_coordinators_see_children(request, sri, child, persona):
    client = request.getfixturevalue(persona)

    names = {person.full_name for person in client.get(REGISTER).context["page"].object_list}
    assert "Putri Kecil" in names
    assert client.get(detail(child)).status_code == 200
    assert [member.pk for member in client.get(detail(sri)).context["family"]] == [child.pk]


@pytest.mark.parametrize("persona", ["officer_kenanga", "coordinator_indramayu"])
def test_a_full_nik_is_never_shown_outside_the_viewers_area(request, sri, persona):
    client = request.getfixturevalue(persona)

    search = client.get(REGISTER, {"q": sri.nik})
    assert search.context["page"].object_list == []
    assert "Sri Wahyuni" not in search.content.decode()
    # The page echoes the query (search box, language switch): apart from that it is the
    # same page as for a NIK nobody has, so it tells nothing about the person.
    nobodys = a_nik()
    assert page_without(search, sri.nik) == page_without(
        client.get(REGISTER, {"q": nobodys}), nobodys
    )

    for response in (client.get(detail(sri)), client.post(reveal(sri), {"what": "nik_reveal"})):
        assert response.status_code == 404
        assert sri.nik not in response.content.decode()
        assert "Sri Wahyuni" not in response.content.decode()
    assert not SensitiveAccess.objects.exists()


@pytest.mark.parametrize("persona", ["officer_kenanga", "coordinator_indramayu"])
def test_a_nik_prefix_search_outside_the_area_finds_nobody(request, sri, persona):
    search = request.getfixturevalue(persona).get(REGISTER, {"q": sri.nik[:8]})
    assert search.context["page"].object_list == []
