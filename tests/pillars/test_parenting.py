"""Pillar 3, community parenting: groups, sessions and enrolled children, and who may see the
children."""

import datetime

import pytest
from django.conf import settings
from django.urls import reverse

from accounts.models import User
from migrants.models import Person
from pillars import services
from pillars.models import ChildEnrolment, ParentingGroup, ParentingSession, PillarKind
from tests.conftest import _client_for, _user
from tests.migrants.factories import (
    ARJOWILANGUN,
    BRONGKAL,
    KENANGA,
    child_birth_date,
    register,
)

LOGIN = reverse("account_login")
CHILD_NAME = "Ani Rahasia"
ENROLLED = datetime.date(2025, 1, 6)


def url(name: str, *args) -> str:
    return reverse(f"pillars:{name}", args=args)


def in_english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def a_group(actor: User, village: str = ARJOWILANGUN, name: str = "Rumah Belajar Ceria"):
    group = ParentingGroup(village_id=village, name=name, facilitators="Bu Sri, Pak Joko")
    services.record_create(actor=actor, instance=group, kind=PillarKind.PARENTING)
    return group


def a_session(actor: User, group: ParentingGroup, on=datetime.date(2025, 2, 3), topic="Dongeng"):
    session = ParentingSession(
        village_id=group.village_id,
        group=group,
        date=on,
        topic=topic,
        children_attending=12,
        adults_attending=5,
    )
    services.record_create(actor=actor, instance=session, kind=PillarKind.PARENTING)
    return session


def a_child(actor: User, village: str = ARJOWILANGUN, name: str = CHILD_NAME) -> Person:
    return register(actor=actor, village=village, full_name=name, birth_date=child_birth_date())


def enrol(actor: User, group: ParentingGroup, child: Person, on=ENROLLED) -> ChildEnrolment:
    enrolment = ChildEnrolment(
        village_id=group.village_id, group=group, child=child, enrolled_on=on
    )
    services.record_create(actor=actor, instance=enrolment, kind=PillarKind.PARENTING)
    return enrolment


@pytest.fixture
def officer(world) -> User:
    return world["officer_arjowilangun"]


@pytest.fixture
def group(officer) -> ParentingGroup:
    return a_group(officer)


@pytest.fixture
def session(officer, group) -> ParentingSession:
    return a_session(officer, group)


@pytest.fixture
def ani(officer) -> Person:
    return a_child(officer)


@pytest.fixture
def enrolment(officer, group, ani) -> ChildEnrolment:
    return enrol(officer, group, ani)


@pytest.fixture
def nobody(world):
    """Signed in, but with no role: may do nothing."""
    return _client_for(_user("nobody", "", None))


# --- Every page: anonymous -> login, outside the scope -> 404, without the action -> 403 ------

REGISTERS = ["group", "session", "child"]
PAGES = ["list", "create", "detail", "edit", "delete"]
RECORD_PAGES = ["detail", "edit", "delete"]


@pytest.fixture
def records(group, session, enrolment) -> dict:
    return {"group": group, "session": session, "child": enrolment}


def open_page(client, slug: str, page: str, records: dict):
    name = f"{slug}-{page}"
    if page == "list":
        return client.get(url(name))
    if page == "create":
        if slug == "group":
            return client.get(url(name))
        return client.get(url(name) + f"?group={records['group'].pk}")
    if page == "delete":
        return client.post(url(name, records[slug].pk), {"reason": "entered twice"})
    return client.get(url(name, records[slug].pk))


def test_every_parenting_url_is_in_the_permission_table():
    from pillars import urls_parenting

    names = set()
    for pattern in urls_parenting.urlpatterns:
        names |= {p.name for p in pattern.url_patterns}
    assert names == {f"{slug}-{page}" for slug in REGISTERS for page in PAGES}


@pytest.mark.parametrize("slug", REGISTERS)
@pytest.mark.parametrize("page", PAGES)
def test_anonymous_is_sent_to_login(anonymous, records, slug, page):
    response = open_page(anonymous, slug, page, records)
    assert response.status_code == 302
    assert response.url.startswith(LOGIN)


@pytest.mark.parametrize("slug", REGISTERS)
@pytest.mark.parametrize("page", PAGES)
def test_the_officer_opens_every_page_of_the_own_village(officer_arjowilangun, records, slug, page):
    response = open_page(officer_arjowilangun, slug, page, records)
    assert response.status_code == (302 if page == "delete" else 200)


# A new group is for one's own village: there is nothing to look up on its create page.
LOOKUPS = [(slug, page) for slug in REGISTERS for page in [*RECORD_PAGES, "create"]]
LOOKUPS.remove(("group", "create"))


@pytest.mark.parametrize("persona", ["officer_brongkal", "coordinator_indramayu"])
@pytest.mark.parametrize(("slug", "page"), LOOKUPS)
def test_outside_the_scope_the_record_is_not_found(request, records, persona, slug, page):
    client = request.getfixturevalue(persona)
    assert open_page(client, slug, page, records).status_code == 404


@pytest.mark.parametrize("slug", ["session", "child"])
def test_an_officer_cannot_ask_for_a_form_of_another_village(officer_brongkal, world, slug):
    response = officer_brongkal.get(url(f"{slug}-create") + f"?village={ARJOWILANGUN}")
    assert response.status_code == 404


def test_an_unknown_or_malformed_group_is_not_found(officer_arjowilangun, world):
    assert officer_arjowilangun.get(url("session-create") + "?group=999999").status_code == 404
    assert officer_arjowilangun.get(url("session-create") + "?group=abc").status_code == 404
    assert officer_arjowilangun.get(url("session-create") + "?group=²").status_code == 404


@pytest.mark.parametrize("slug", REGISTERS)
def test_records_outside_the_scope_are_not_listed(officer_brongkal, records, slug):
    response = officer_brongkal.get(url(f"{slug}-list"))
    assert response.status_code == 200
    assert response.context["page"].object_list == []


@pytest.mark.parametrize("persona", ["province_jatim", "evaluator", "head_arjowilangun"])
@pytest.mark.parametrize("slug", REGISTERS)
@pytest.mark.parametrize("page", ["create", "edit", "delete"])
def test_read_only_roles_may_not_write(request, records, persona, slug, page):
    client = request.getfixturevalue(persona)
    assert open_page(client, slug, page, records).status_code == 403


@pytest.mark.parametrize("persona", ["province_jatim", "evaluator", "head_arjowilangun"])
@pytest.mark.parametrize("slug", ["group", "session"])
@pytest.mark.parametrize("page", ["list", "detail"])
def test_read_only_roles_read_groups_and_sessions(request, records, persona, slug, page):
    client = request.getfixturevalue(persona)
    assert open_page(client, slug, page, records).status_code == 200


@pytest.mark.parametrize("slug", REGISTERS)
@pytest.mark.parametrize("page", ["list", "detail"])
def test_a_user_without_a_role_reads_nothing(nobody, records, slug, page):
    assert open_page(nobody, slug, page, records).status_code == 403


@pytest.mark.parametrize("page", ["list", "detail"])
def test_the_village_head_reads_the_children(head_arjowilangun, records, page):
    response = open_page(head_arjowilangun, "child", page, records)
    assert response.status_code == 200
    assert CHILD_NAME in response.content.decode()


# --- Children's data: only for the roles that work with them ---------------------------------


@pytest.mark.parametrize("persona", ["province_jatim", "evaluator"])
@pytest.mark.parametrize("page", PAGES)
def test_province_and_evaluator_get_403_on_every_childrens_page(request, records, persona, page):
    client = request.getfixturevalue(persona)
    response = open_page(client, "child", page, records)
    assert response.status_code == 403
    assert CHILD_NAME not in response.content.decode()


@pytest.mark.parametrize("persona", ["province_jatim", "evaluator"])
def test_province_and_evaluator_never_see_a_childs_name(request, records, persona):
    client = in_english(request.getfixturevalue(persona))
    pages = [
        url("group-list"),
        url("group-detail", records["group"].pk),
        url("session-list"),
        url("session-detail", records["session"].pk),
    ]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        content = response.content.decode()
        assert CHILD_NAME not in content, page
        assert "Enrolled children" not in content, page
    group_page = client.get(url("group-detail", records["group"].pk))
    assert "Dongeng" in group_page.content.decode()  # the sessions are there


def test_the_group_page_lists_sessions_and_children_for_the_officer(officer_arjowilangun, records):
    response = in_english(officer_arjowilangun).get(url("group-detail", records["group"].pk))
    content = response.content.decode()
    assert "Dongeng" in content
    assert CHILD_NAME in content
    assert url("session-create") + f"?group={records['group'].pk}" in content
    assert url("child-create") + f"?group={records['group'].pk}" in content
    assert response.context["enrolment_counts"] == {"total": 1, "now": 1}


def test_the_village_head_sees_the_groups_children_but_no_forms(head_arjowilangun, records):
    response = head_arjowilangun.get(url("group-detail", records["group"].pk))
    content = response.content.decode()
    assert CHILD_NAME in content
    assert url("child-create") not in content


# --- Sessions take their village and pillar from the group -----------------------------------


def session_form(group: ParentingGroup, **overrides) -> dict:
    return {
        "group": group.pk,
        "date": "2025-03-10",
        "topic": "Mengenal emosi",
        "children_attending": "15",
        "adults_attending": "6",
        "notes": "",
        **overrides,
    }


def test_the_coordinator_records_a_session_from_the_group_page(coordinator_malang, world):
    brongkal_group = a_group(world["coordinator_malang"], village=BRONGKAL, name="RB Brongkal")

    response = coordinator_malang.post(
        url("session-create") + f"?group={brongkal_group.pk}", session_form(brongkal_group)
    )

    assert response.status_code == 302
    assert response.url == url("group-detail", brongkal_group.pk)
    session = ParentingSession.objects.get(topic="Mengenal emosi")
    assert session.village_id == BRONGKAL
    assert session.pillar.kind == PillarKind.PARENTING
    assert session.created_by == world["coordinator_malang"]


def test_the_group_page_link_opens_the_form_with_the_group_chosen(officer_arjowilangun, group):
    response = officer_arjowilangun.get(url("session-create") + f"?group={group.pk}")
    assert response.context["form"]["group"].value() == group.pk


def test_the_session_form_offers_the_villages_living_groups_only(officer_arjowilangun, world):
    officer = world["officer_arjowilangun"]
    own = a_group(officer, name="RB Mawar")
    closed = a_group(officer, name="RB Lama")
    services.record_delete(actor=officer, instance=closed, reason="closed")
    a_group(world["coordinator_malang"], village=BRONGKAL, name="RB Brongkal")

    response = officer_arjowilangun.get(url("session-create"))

    assert list(response.context["form"].fields["group"].queryset) == [own]


def test_a_group_of_another_village_is_refused(officer_arjowilangun, world):
    foreign = a_group(world["coordinator_malang"], village=BRONGKAL, name="RB Brongkal")
    a_group(world["officer_arjowilangun"])

    response = officer_arjowilangun.post(url("session-create"), session_form(foreign))

    assert response.status_code == 200
    assert "group" in response.context["form"].errors
    assert not ParentingSession.objects.exists()


def test_a_coordinator_without_a_village_chooses_one_first(coordinator_malang, world):
    response = in_english(coordinator_malang).get(url("session-create"))
    assert response.status_code == 200
    assert "pillars/parts/choose.html" in [t.name for t in response.templates]
    codes = [code for code, _label in response.context["villages"]]
    assert ARJOWILANGUN in codes
    assert KENANGA not in codes


def test_a_village_without_a_group_says_so(officer_arjowilangun, world):
    response = in_english(officer_arjowilangun).get(url("session-create"))
    assert response.status_code == 200
    assert "has no parenting group yet" in response.content.decode()
    assert url("group-create") + f"?village={ARJOWILANGUN}" in response.content.decode()


def test_the_officer_records_a_group(officer_arjowilangun, world):
    response = officer_arjowilangun.post(
        url("group-create"),
        {
            "name": "Rumah Belajar Pelangi",
            "facilitators": "Bu Ani",
            "meeting_place": "Balai desa",
            "founded_on": "2024-07-01",
            "active": "on",
        },
    )
    group = ParentingGroup.objects.get(name="Rumah Belajar Pelangi")
    assert response.status_code == 302
    assert group.village_id == ARJOWILANGUN
    assert group.pillar.kind == PillarKind.PARENTING


# --- Enrolling children -----------------------------------------------------------------------


def enrolment_form(group: ParentingGroup, child: Person, **overrides) -> dict:
    return {
        "group": group.pk,
        "child": child.pk,
        "enrolled_on": "2025-01-06",
        "left_on": "",
        **overrides,
    }


def test_the_officer_enrols_a_child_from_the_group_page(officer_arjowilangun, group, ani):
    response = officer_arjowilangun.post(
        url("child-create") + f"?group={group.pk}", enrolment_form(group, ani)
    )
    assert response.status_code == 302
    assert response.url == url("group-detail", group.pk)
    enrolment = ChildEnrolment.objects.get()
    assert (enrolment.village_id, enrolment.child, enrolment.pillar.kind) == (
        ARJOWILANGUN,
        ani,
        PillarKind.PARENTING,
    )


def test_only_children_of_the_village_are_offered(officer_arjowilangun, world, group, ani):
    register(actor=world["officer_arjowilangun"], full_name="Ibu Dewasa")
    a_child(world["coordinator_malang"], village=BRONGKAL, name="Anak Brongkal")

    response = officer_arjowilangun.get(url("child-create") + f"?group={group.pk}")

    assert list(response.context["form"].fields["child"].queryset) == [ani]


def test_a_child_of_another_village_is_refused(coordinator_malang, world, group):
    other = a_child(world["coordinator_malang"], village=BRONGKAL, name="Anak Brongkal")

    response = coordinator_malang.post(
        url("child-create") + f"?group={group.pk}", enrolment_form(group, other)
    )

    assert response.status_code == 200
    assert "child" in response.context["form"].errors
    assert not ChildEnrolment.objects.exists()


def test_enrolling_the_same_child_twice_is_a_clear_error(officer_arjowilangun, enrolment):
    response = in_english(officer_arjowilangun).post(
        url("child-create") + f"?group={enrolment.group_id}",
        enrolment_form(enrolment.group, enrolment.child, enrolled_on="2025-02-01"),
    )
    assert response.status_code == 200
    assert response.context["form"].errors["child"] == [
        "This child is already enrolled in this group."
    ]
    assert ChildEnrolment.objects.count() == 1


def test_a_child_whose_enrolment_was_deleted_can_be_enrolled_again(
    officer_arjowilangun, officer, enrolment
):
    services.record_delete(actor=officer, instance=enrolment, reason="wrong group")
    response = officer_arjowilangun.post(
        url("child-create"), enrolment_form(enrolment.group, enrolment.child)
    )
    assert response.status_code == 302
    assert ChildEnrolment.objects.alive().count() == 1


def test_editing_an_enrolment_into_a_duplicate_is_refused(officer_arjowilangun, officer, group):
    other_group = a_group(officer, name="RB Melati")
    ani, budi = a_child(officer), a_child(officer, name="Budi Kecil")
    enrol(officer, group, ani)
    second = enrol(officer, other_group, ani)
    enrol(officer, group, budi)

    response = officer_arjowilangun.post(url("child-edit", second.pk), enrolment_form(group, ani))

    assert response.status_code == 200
    assert "child" in response.context["form"].errors
    assert ChildEnrolment.objects.get(pk=second.pk).group == other_group


def test_a_child_cannot_leave_before_enrolling(officer_arjowilangun, group, ani):
    response = officer_arjowilangun.post(
        url("child-create"), enrolment_form(group, ani, left_on="2024-12-31")
    )
    assert response.status_code == 200
    assert "left_on" in response.context["form"].errors
    assert not ChildEnrolment.objects.exists()


# --- Query counts: flat in the number of rows --------------------------------------------------


LIST_QUERIES = 4
GROUP_PAGE_QUERIES = 8


def test_list_pages_cost_the_same_for_one_row_or_many(
    officer_arjowilangun, officer, records, django_assert_max_num_queries
):
    pages = [url("group-list"), url("session-list"), url("child-list")]
    for page in pages:
        with django_assert_max_num_queries(LIST_QUERIES):
            officer_arjowilangun.get(page)

    for n in range(15):
        group = a_group(officer, name=f"RB {n}")
        a_session(officer, group, topic=f"Topik {n}")
        enrol(officer, group, a_child(officer, name=f"Anak {n}"))

    for page in pages:
        with django_assert_max_num_queries(LIST_QUERIES):
            response = officer_arjowilangun.get(page)
        assert len(response.context["page"].object_list) == 16


def test_the_group_page_costs_the_same_with_many_sessions_and_children(
    officer_arjowilangun, officer, group, django_assert_max_num_queries
):
    page = url("group-detail", group.pk)
    with django_assert_max_num_queries(GROUP_PAGE_QUERIES):
        officer_arjowilangun.get(page)

    for n in range(15):
        a_session(officer, group, topic=f"Topik {n}")
        enrol(officer, group, a_child(officer, name=f"Anak {n}"))

    with django_assert_max_num_queries(GROUP_PAGE_QUERIES):
        response = officer_arjowilangun.get(page)
    assert len(response.context["sessions"]) == 15
    assert len(response.context["enrolments"]) == 15
