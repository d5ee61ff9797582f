"""Static files through WhiteNoise: served by the application, cacheable, and under a policy of
their own (desmigratif.static_headers) since the page middleware does not see them."""

from desmigratif.static_headers import STATIC_POLICY


def test_a_static_file_is_served_with_its_security_headers(anonymous):
    response = anonymous.get("/static/css/app.css")

    assert response.status_code == 200
    assert response["Content-Security-Policy"] == STATIC_POLICY
    assert response["Cross-Origin-Resource-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" not in response.get("Cache-Control", "")


def test_a_static_file_stays_cacheable_for_a_signed_in_user(officer_arjowilangun):
    response = officer_arjowilangun.get("/static/js/dashboard.js")

    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")


def test_pages_keep_the_strict_policy(anonymous, db):
    response = anonymous.get("/accounts/login/")

    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "'unsafe-inline'" not in policy
    assert "X-Request-ID" in response
