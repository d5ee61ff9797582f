"""Production log lines (desmigratif.logs): one JSON object per record, with the request's id,
and never a full NIK."""

import json
import logging
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.test import RequestFactory

from desmigratif.logs import JsonFormatter, RequestContext, RequestIdMiddleware
from desmigratif.redact import RedactNik
from tests.security.test_deploy_check import production_environment

NIK = "3507114509870001"


@pytest.fixture
def lines():
    """Records written through the production formatter and filters, as text."""

    class Collect(logging.Handler):
        def __init__(self):
            super().__init__()
            self.lines: list[str] = []

        def emit(self, record):
            self.lines.append(self.format(record))

    handler = Collect()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestContext())
    handler.addFilter(RedactNik())
    logger = logging.getLogger()  # the root: django.request's records reach it too
    logger.addHandler(handler)
    yield handler.lines
    logger.removeHandler(handler)


def test_a_record_is_one_json_line_with_its_fields(lines):
    logging.getLogger("tests.deploy").warning("import %s failed", 42)

    [line] = lines
    entry = json.loads(line)
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "tests.deploy"
    assert entry["message"] == "import 42 failed"
    assert entry["time"].endswith("+00:00")
    assert "request_id" not in entry


def test_a_traceback_stays_on_the_line_and_its_nik_is_masked(lines):
    try:
        raise ValueError(f"Key (nik)=({NIK}) already exists")
    except ValueError:
        logging.getLogger("tests.deploy").exception("commit of %s failed", NIK)

    [line] = lines
    assert "\n" not in line
    assert NIK not in line
    entry = json.loads(line)
    assert (
        entry["message"]
        == "commit of 3507\u2022\u2022\u2022\u2022\u2022\u2022\u2022\u20220001 failed"
    )
    assert "ValueError" in entry["exception"]


def test_a_record_written_in_a_request_carries_its_id(lines):
    def view(request):
        logging.getLogger("tests.deploy").info("in the view")
        from django.http import HttpResponse

        return HttpResponse()

    response = RequestIdMiddleware(view)(RequestFactory().get("/"))

    request_id = response["X-Request-ID"]
    assert len(request_id) == 32
    assert json.loads(lines[0])["request_id"] == request_id


def test_a_response_logged_after_the_middleware_still_carries_the_id(lines, anonymous, db):
    response = anonymous.get("/no-such-page/")

    assert response.status_code == 404
    [entry] = [json.loads(line) for line in lines if line and "Not Found" in line]
    assert entry["logger"] == "django.request"
    assert entry["request_id"] == response["X-Request-ID"]


def test_the_proxy_request_id_is_kept_and_a_strange_one_replaced():
    middleware = RequestIdMiddleware(lambda request: __import__("django").http.HttpResponse())
    proxy_id = "0f8e2a9c4b7d41e5a3c6b2d9e8f7a1c4"

    kept = middleware(RequestFactory().get("/", HTTP_X_REQUEST_ID=proxy_id))
    replaced = middleware(RequestFactory().get("/", HTTP_X_REQUEST_ID="<script>\n"))

    assert kept["X-Request-ID"] == proxy_id
    assert replaced["X-Request-ID"] != "<script>\n"


def test_development_and_tests_log_plain_lines_through_both_filters():
    handler = settings.LOGGING["handlers"]["console"]
    assert handler["formatter"] == "plain"  # DEBUG=true
    assert handler["filters"] == ["context", "redact_nik"]


def test_whitenoise_serves_static_files_right_after_the_security_middleware():
    middleware = settings.MIDDLEWARE
    assert middleware[0] == "desmigratif.logs.RequestIdMiddleware"
    assert middleware[1] == "django.middleware.security.SecurityMiddleware"
    assert middleware[2] == "whitenoise.middleware.WhiteNoiseMiddleware"
    # Without collectstatic in development and the tests.
    assert settings.STORAGES["staticfiles"]["BACKEND"].endswith(".StaticFilesStorage")


def test_production_logs_json_and_serves_hashed_compressed_files():
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.STORAGES['staticfiles']['BACKEND']); "
        "print(s.LOGGING['handlers']['console']['formatter'])"
    )
    result = subprocess.run(  # noqa: S603 (our own interpreter)
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env={k: v for k, v in production_environment().items() if k != "LOG_FORMAT"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "whitenoise.storage.CompressedManifestStaticFilesStorage",
        "json",
    ]


def test_a_bad_log_format_stops_the_start():
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DEBUG": "true", "LOG_FORMAT": "xml"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "LOG_FORMAT must be json or plain" in result.stderr
