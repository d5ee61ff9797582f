from django.conf import settings
from django.urls import reverse


def test_pages_open_in_indonesian_even_for_an_english_browser(anonymous, db):
    response = anonymous.get(reverse("account_login"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response["Content-Language"] == "id"
    assert '<html lang="id">' in response.content.decode()
    assert "Masuk" in response.content.decode()


def test_the_switch_turns_the_pages_english_and_back(anonymous, db):
    login = reverse("account_login")
    anonymous.post(reverse("set_language"), {"language": "en", "next": login})
    assert anonymous.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    response = anonymous.get(login)
    assert response["Content-Language"] == "en"
    assert "Sign in" in response.content.decode()
    anonymous.post(reverse("set_language"), {"language": "id", "next": login})
    assert anonymous.get(login)["Content-Language"] == "id"


def test_an_unknown_language_cookie_falls_back_to_indonesian(anonymous, db):
    anonymous.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    assert anonymous.get(reverse("account_login"))["Content-Language"] == "id"
