"""A form sent twice - a double click - makes one record (desmigratif/submit_once.py): the
second request runs nothing and is sent where the first went. Shown on the register's person
form and on a pillar register's create form (outreach events), first in the test process, then
with two requests at the same moment on two gunicorn processes sharing the cache (Redis)."""

import datetime
import re
import threading

import pytest
import requests
from django.conf import settings
from django.urls import reverse

from migrants.models import Person
from pillars.models import Outreach
from tests.faults.conftest import NEEDS_SERVICES
from tests.faults.processes import WebServer, django_env, form_fields, session_for
from tests.migrants.factories import person_form

PERSON_CREATE = reverse("migrants:create")
OUTREACH_CREATE = reverse("pillars:outreach-create")


def outreach_form(topic: str) -> dict[str, str]:
    return {
        "date": datetime.date(2025, 3, 10).isoformat(),
        "topic": topic,
        "location": "Balai desa",
        "attendees_male": "12",
        "attendees_female": "30",
        "notes": "",
    }


FORMS = {
    "person": (PERSON_CREATE, lambda name: person_form(full_name=name), Person, "full_name"),
    "outreach": (OUTREACH_CREATE, outreach_form, Outreach, "topic"),
}


def token_of(page) -> str:
    return re.search(r'name="_submit_once" value="([^"]+)"', page.content.decode()).group(1)


# --- In the test process (no service needed) ------------------------------------------------


@pytest.mark.parametrize("form", FORMS)
def test_a_form_sent_twice_makes_one_record(officer_arjowilangun, form):
    path, data_for, model, field = FORMS[form]
    data = {**data_for("Klik Dua Kali"), "_submit_once": token_of(officer_arjowilangun.get(path))}

    first = officer_arjowilangun.post(path, data)
    second = officer_arjowilangun.post(path, data)

    assert first.status_code == second.status_code == 302
    assert second.url == first.url  # the record the first one made
    assert model.objects.filter(**{field: "Klik Dua Kali"}).count() == 1


def test_each_rendering_of_a_form_has_its_own_token(officer_arjowilangun):
    path, data_for, model, _field = FORMS["person"]
    token = token_of(officer_arjowilangun.get(path))
    assert token != token_of(officer_arjowilangun.get(path))

    # Two separate visits of the form are two records, as asked.
    for name in ("Warga Satu", "Warga Dua"):
        data = {**data_for(name), "_submit_once": token_of(officer_arjowilangun.get(path))}
        assert officer_arjowilangun.post(path, data).status_code == 302
    assert model.objects.filter(full_name__startswith="Warga ").count() >= 2


def test_a_form_with_errors_can_be_sent_again_with_its_token(officer_arjowilangun):
    token = token_of(officer_arjowilangun.get(PERSON_CREATE))
    wrong = {**person_form(full_name="Warga Koreksi", sex=""), "_submit_once": token}
    assert officer_arjowilangun.post(PERSON_CREATE, wrong).status_code == 200  # errors shown

    fixed = {**person_form(full_name="Warga Koreksi"), "_submit_once": token}
    assert officer_arjowilangun.post(PERSON_CREATE, fixed).status_code == 302
    assert Person.objects.filter(full_name="Warga Koreksi").count() == 1


def test_a_token_answers_only_the_user_it_was_given_to(officer_arjowilangun, head_arjowilangun):
    data = {
        **outreach_form("Satu Token"),
        "_submit_once": token_of(officer_arjowilangun.get(OUTREACH_CREATE)),
    }
    assert officer_arjowilangun.post(OUTREACH_CREATE, data).status_code == 302
    # Another user sending the same token is not sent to the officer's record: their request
    # goes through the view as usual (a village head may not write: 403).
    assert head_arjowilangun.post(OUTREACH_CREATE, data).status_code == 403


# --- Two requests at once, two web processes, the shared cache --------------------------------


def double_click(browser: requests.Session, url: str, data: dict) -> list[requests.Response]:
    """Two POSTs of the same form at the same moment, as two clicks of an impatient user."""
    start = threading.Barrier(2)
    answers: list[requests.Response] = []

    def click(tab: requests.Session) -> None:
        start.wait()
        answers.append(tab.post(url, data=data, allow_redirects=False, timeout=60))

    second_tab = requests.Session()
    second_tab.cookies.update(browser.cookies)
    second_tab.headers.update(browser.headers)
    clicks = [threading.Thread(target=click, args=(tab,)) for tab in (browser, second_tab)]
    for thread in clicks:
        thread.start()
    for thread in clicks:
        thread.join()
    return answers


@NEEDS_SERVICES[0]
@NEEDS_SERVICES[1]
@NEEDS_SERVICES[2]
def test_a_double_click_on_two_web_processes_makes_one_record(
    world, media, log, processes, test_database_url
):
    env = django_env(
        database_url=test_database_url,
        broker_url=settings.CELERY_BROKER_URL,
        queue="unused",
        CACHE_URL=settings.CELERY_BROKER_URL,  # the shared cache, as deployed
    )
    web = WebServer(env, log=log, workers=2)
    processes.append(web)
    browser = session_for(world["officer_arjowilangun"], web.base)
    for path, data_for, model, field in FORMS.values():
        page = browser.get(web.base + path, timeout=60)
        assert page.status_code == 200
        data = {**form_fields(page.text), **data_for("Klik Ganda")}
        assert data["_submit_once"]

        answers = double_click(browser, web.base + path, data)

        assert [answer.status_code for answer in answers] == [302, 302]
        assert answers[0].headers["Location"] == answers[1].headers["Location"]
        assert model.objects.filter(**{field: "Klik Ganda"}).count() == 1

        # The same double click without the token (a form outside the include) is what the
        # guard stops: two records.
        del data["_submit_once"]
        data.update(data_for("Tanpa Token"))
        assert [a.status_code for a in double_click(browser, web.base + path, data)] == [302, 302]
        assert model.objects.filter(**{field: "Tanpa Token"}).count() == 2
