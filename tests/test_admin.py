from django.urls import reverse

from villages.models import Designation

DESIGNATIONS = reverse("admin:villages_designation_changelist")
USERS = reverse("admin:accounts_user_changelist")


def change_url(code: str) -> str:
    pk = Designation.objects.get(village_id=code).pk
    return reverse("admin:villages_designation_change", args=[pk])


def test_admin_login_goes_through_allauth(anonymous, world):
    response = anonymous.get(reverse("admin:index"), follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("account_login"))
    assert response.status_code == 200


def test_coordinator_sees_only_their_regency_in_the_admin(coordinator_malang):
    response = coordinator_malang.get(DESIGNATIONS)
    assert response.status_code == 200
    villages = {d.village.name for d in response.context["cl"].result_list}
    assert villages == {"Arjowilangun", "Sumberpetung", "Balearjo", "Brongkal"}
    assert coordinator_malang.get(change_url("32.12.16.2004")).status_code == 302  # "not found"
    users = {u.username for u in coordinator_malang.get(USERS).context["cl"].result_list}
    assert "officer_kenanga" not in users
    assert "officer_arjowilangun" in users


def test_coordinator_reads_but_cannot_change_designations(coordinator_malang):
    url = change_url("35.07.11.2008")
    response = coordinator_malang.get(url)
    assert response.status_code == 200
    assert response.context["has_change_permission"] is False
    coordinator_malang.post(url, {"cohort_year": 2030})
    assert Designation.objects.get(village_id="35.07.11.2008").cohort_year == 2017


def test_coordinator_search_in_admin_does_not_reach_other_regencies(coordinator_malang):
    response = coordinator_malang.get(DESIGNATIONS, {"q": "Kenanga"})
    assert list(response.context["cl"].result_list) == []


def test_ministry_admin_changes_a_designation(ministry_admin):
    url = change_url("32.12.16.2004")
    response = ministry_admin.get(url)
    assert response.status_code == 200
    assert response.context["has_change_permission"] is True


def test_officers_and_evaluators_have_no_admin(officer_arjowilangun, evaluator):
    for client in (officer_arjowilangun, evaluator):
        response = client.get(DESIGNATIONS)
        assert response.status_code in (302, 403)
        assert "cl" not in (response.context or {})


def test_admin_designation_list_query_count_is_flat(ministry_admin, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        ministry_admin.get(DESIGNATIONS)
