"""deploy/gunicorn.conf.py: its values come from the environment, and its access line holds no
query string and no full NIK."""

import json
import os
import runpy
import subprocess
import sys
from pathlib import Path

from django.conf import settings

CONF = Path(settings.BASE_DIR, "deploy", "gunicorn.conf.py")


def load(**env: str) -> dict:
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        return runpy.run_path(str(CONF))
    finally:
        os.environ.clear()
        os.environ.update(saved)


def test_workers_threads_and_timeouts_come_from_the_environment():
    conf = load(WEB_CONCURRENCY="3", GUNICORN_THREADS="2", GUNICORN_TIMEOUT="90")

    assert conf["workers"] == 3
    assert conf["threads"] == 2
    assert conf["timeout"] == 90
    assert conf["worker_class"] == "gthread"
    assert conf["wsgi_app"] == "desmigratif.wsgi:application"


def test_only_the_local_proxy_is_trusted_unless_told():
    assert load()["forwarded_allow_ips"] == "127.0.0.1,::1"
    assert load(FORWARDED_ALLOW_IPS="10.0.0.5")["forwarded_allow_ips"] == "10.0.0.5"


def test_the_access_line_has_no_query_string_no_referrer_and_no_nik():
    """Gunicorn's own logger, configured by the file, writes one request's line."""
    script = f"""
import datetime, runpy, types
from gunicorn.config import Config
from gunicorn.glogging import Logger

conf = runpy.run_path({str(CONF)!r})
cfg = Config()
for name in ("access_log_format", "logconfig_dict"):
    cfg.set(name, conf[name])
log = Logger(cfg)
response = types.SimpleNamespace(status="404 Not Found", sent=12,
                                 headers=[("X-Request-ID", "abc123abc123")])
environ = {{"REQUEST_METHOD": "GET", "RAW_URI": "/register/?q=3507114509870001",
           "PATH_INFO": "/register/3507114509870002/", "QUERY_STRING": "q=3507114509870001",
           "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
           "HTTP_REFERER": "https://x/register/?q=3507114509870001"}}
request = types.SimpleNamespace(headers=[("X-FORWARDED-FOR", "203.0.113.9")])
log.access(response, request, environ, datetime.timedelta(milliseconds=42))
"""
    result = subprocess.run(  # noqa: S603 (our own interpreter)
        [sys.executable, "-c", script],
        cwd=settings.BASE_DIR,
        env={**os.environ, "LOG_FORMAT": "json"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    [line] = result.stderr.strip().splitlines()
    entry = json.loads(line)
    assert entry["logger"] == "gunicorn.access"
    message = entry["message"]
    assert "3507114509870001" not in line  # the query string, the referrer
    assert "3507114509870002" not in line  # the path: masked
    assert 'path="/register/3507\u2022\u2022\u2022\u2022\u2022\u2022\u2022\u20220002/"' in message
    assert "status=404" in message
    assert "duration_ms=42" in message
    assert "request_id=abc123abc123" in message
    assert 'client="203.0.113.9"' in message
