import pytest
from django.urls import reverse

from tests.factories import DesignationFactory, RegionFactory

LIST = reverse("villages:list")
ARJOWILANGUN = reverse("villages:detail", args=["35.07.11.2008"])
KENANGA = reverse("villages:detail", args=["32.12.16.2004"])
ALL_SIX = ["Kenanga", "Kuripan", "Arjowilangun", "Sumberpetung", "Balearjo", "Brongkal"]


def names_in(response) -> set[str]:
    return {d.village.name for d in response.context["page"].object_list}


def test_anonymous_is_sent_to_login_from_every_page(anonymous, world):
    for url in (LIST, ARJOWILANGUN, reverse("home")):
        response = anonymous.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_login"))


def test_officer_lands_on_their_village(officer_arjowilangun):
    response = officer_arjowilangun.get(reverse("home"))
    assert response.url == ARJOWILANGUN


def test_coordinator_and_evaluator_land_on_the_village_list(coordinator_malang, evaluator):
    assert coordinator_malang.get(reverse("home")).url == LIST
    assert evaluator.get(reverse("home")).url == LIST


def test_officer_sees_their_village_and_not_kenanga(officer_arjowilangun):
    assert officer_arjowilangun.get(ARJOWILANGUN).status_code == 200
    assert officer_arjowilangun.get(KENANGA).status_code == 404
    assert names_in(officer_arjowilangun.get(LIST)) == {"Arjowilangun"}


def test_village_head_reads_their_village_only(head_arjowilangun):
    assert head_arjowilangun.get(ARJOWILANGUN).status_code == 200
    assert (
        head_arjowilangun.get(reverse("villages:detail", args=["35.07.33.2006"])).status_code == 404
    )


def test_coordinator_sees_the_four_malang_villages_and_not_kenanga(coordinator_malang):
    response = coordinator_malang.get(LIST)
    assert names_in(response) == {"Arjowilangun", "Sumberpetung", "Balearjo", "Brongkal"}
    assert b"Kenanga" not in response.content
    assert coordinator_malang.get(KENANGA).status_code == 404
    assert coordinator_malang.get(ARJOWILANGUN).status_code == 200


def test_other_coordinator_sees_only_indramayu(coordinator_indramayu):
    assert names_in(coordinator_indramayu.get(LIST)) == {"Kenanga"}
    assert coordinator_indramayu.get(ARJOWILANGUN).status_code == 404


def test_province_viewer_sees_east_java_only(province_jatim):
    assert names_in(province_jatim.get(LIST)) == {
        "Arjowilangun",
        "Sumberpetung",
        "Balearjo",
        "Brongkal",
    }
    assert province_jatim.get(KENANGA).status_code == 404


def test_evaluator_sees_all_six(evaluator):
    assert names_in(evaluator.get(LIST)) == set(ALL_SIX)
    assert evaluator.get(KENANGA).status_code == 200


def test_unknown_village_is_the_same_404_as_a_foreign_one(officer_arjowilangun):
    assert (
        officer_arjowilangun.get(reverse("villages:detail", args=["99.99.99.9999"])).status_code
        == 404
    )


def test_deactivated_user_cannot_sign_in(anonymous, world):
    response = anonymous.post(
        reverse("account_login"), {"login": "deactivated_officer", "password": "test-password-123"}
    )
    assert not response.wsgi_request.user.is_authenticated


def test_filter_choices_offer_only_areas_in_scope(coordinator_malang):
    form = coordinator_malang.get(LIST).context["form"]
    assert [code for code, _label in form.fields["province"].choices] == ["", "35"]
    assert [code for code, _label in form.fields["regency"].choices] == ["", "35.07"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("province=32", {"Kenanga"}),
        ("regency=35.07", {"Arjowilangun", "Sumberpetung", "Balearjo", "Brongkal"}),
        ("cohort=2016", {"Kenanga", "Kuripan"}),
        ("status=active&q=wilangun", {"Arjowilangun"}),
        ("status=graduated", set()),
    ],
)
def test_evaluator_filters_the_list(evaluator, query, expected):
    assert names_in(evaluator.get(f"{LIST}?{query}")) == expected


def test_a_filter_outside_scope_finds_nothing(coordinator_malang):
    # Kenanga's province is not an offered choice: the form rejects it and shows no row.
    response = coordinator_malang.get(f"{LIST}?province=32")
    assert names_in(response) == set()


def test_list_sorts_by_cohort_newest_first(evaluator):
    response = evaluator.get(f"{LIST}?sort=-cohort")
    years = [d.cohort_year for d in response.context["page"].object_list]
    assert years == sorted(years, reverse=True)


def test_village_page_shows_designation_and_officers(officer_arjowilangun):
    response = officer_arjowilangun.get(ARJOWILANGUN)
    content = response.content.decode()
    assert "Arjowilangun" in content
    assert "Kab. Malang" in content
    assert "Siti Aminah" in content  # the assigned officer
    assert "2017" in content


def test_list_query_count_does_not_grow_with_villages(evaluator, django_assert_max_num_queries):
    def count_queries() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert evaluator.get(LIST).status_code == 200
        return len(queries)

    before = count_queries()
    for n in range(30):
        DesignationFactory(village=RegionFactory(code=f"35.07.33.{3100 + n}", parent_id="35.07.33"))
    assert count_queries() == before
    with django_assert_max_num_queries(8):
        evaluator.get(LIST)


def test_detail_query_count_is_pinned(officer_arjowilangun, django_assert_num_queries):
    officer_arjowilangun.get(ARJOWILANGUN)  # warm the session
    with django_assert_num_queries(7):
        # session, user (with scope), designation with its region path, officers,
        # register counts (one aggregate), the variant's pillars, their last activities
        # (one UNION)
        officer_arjowilangun.get(ARJOWILANGUN)


def test_the_village_page_shows_each_pillar_active_or_not_with_its_last_activity(
    world, officer_arjowilangun
):
    import datetime

    from django.utils import timezone

    from pillars import services
    from pillars.models import Outreach

    page = officer_arjowilangun.get(ARJOWILANGUN).content.decode()
    assert page.count('class="badge inactive"') == 4
    held = timezone.localdate() - datetime.timedelta(days=5)
    services.record_create(
        actor=world["officer_arjowilangun"],
        instance=Outreach(village_id="35.07.11.2008", date=held, topic="Migrasi aman"),
        kind="service_centre",
    )
    page = officer_arjowilangun.get(ARJOWILANGUN).content.decode()
    assert page.count('class="badge inactive"') == 3
    assert page.count('class="badge active"') >= 1
    assert f"{held.day} " in page
