from django.urls import reverse

from dashboards.models import SummaryRun

URL = reverse("dashboards:refresh")


def test_asking_for_fresh_figures_rebuilds_them_and_returns_to_the_page(
    evaluator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = evaluator.post(URL, {"next": "/dasbor/35/"})
    assert response.status_code == 302
    assert response.url == "/dasbor/35/"
    assert SummaryRun.objects.filter(finished_at__isnull=False).count() == 1


def test_the_return_address_stays_on_this_site(evaluator):
    response = evaluator.post(URL, {"next": "https://example.com/"})
    assert response.url == reverse("dashboards:national")


def test_only_signed_in_users_with_a_role_may_ask_and_only_by_post(anonymous, evaluator):
    assert anonymous.post(URL).status_code == 302
    assert "/accounts/login/" in anonymous.post(URL).url
    assert evaluator.get(URL).status_code == 405
    assert not SummaryRun.objects.exists()
