"""Health checks of the containers (compose.yaml) and of a server (docs/deploy.md).

    python deploy/healthcheck.py web [--strict]   GET /health/ of the gunicorn on this machine
    python deploy/healthcheck.py beat             the database and the broker are reachable

`web` passes when the site answers and reaches its database: a web container is healthy while
it can serve pages, even if the workers are down (their own check says so). `--strict` passes
only on a 200, when the database, the broker and at least one worker answer: what monitoring
should watch. The answer of /health/ is printed either way.

The request goes to the loopback with a host name of ALLOWED_HOSTS and, when BEHIND_TLS_PROXY
is set, `X-Forwarded-Proto: https`, as the reverse proxy would send it; otherwise Django would
refuse the host or redirect to https.
"""

import http.client
import json
import os
import sys
from pathlib import Path


def _host() -> str:
    for host in os.environ.get("ALLOWED_HOSTS", "").split(","):
        host = host.strip().lstrip(".")
        if host and host != "*":
            return host
    return "localhost"


def check_web(strict: bool) -> int:
    port = int(os.environ.get("GUNICORN_BIND", "127.0.0.1:8000").rsplit(":", 1)[1])
    headers = {"Host": _host()}
    if os.environ.get("BEHIND_TLS_PROXY", "").lower() in ("1", "true", "yes", "on"):
        headers["X-Forwarded-Proto"] = "https"
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", "/health/", headers=headers)
        response = connection.getresponse()
        body = response.read().decode("utf-8", "replace")
    except OSError as exc:
        print(f"no answer on port {port}: {exc}")
        return 1
    print(response.status, body)
    if response.status == 200:
        return 0
    if strict or response.status != 503:
        return 1
    try:
        return 0 if json.loads(body)["database"]["ok"] else 1
    except (ValueError, KeyError, TypeError):
        return 1


def check_beat() -> int:
    # Run as `python deploy/healthcheck.py`: the project is the folder above this one.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "desmigratif.settings")
    import django

    django.setup()
    from django.db import connection

    from desmigratif.celery import app

    try:
        connection.ensure_connection()
        if not app.conf.task_always_eager:
            with app.connection_for_write() as broker:
                broker.ensure_connection(max_retries=1, timeout=5)
    except Exception as exc:
        print(f"unhealthy: {type(exc).__name__}")
        return 1
    print("ok")
    return 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["web"]:
        return check_web(strict="--strict" in argv)
    if argv[:1] == ["beat"]:
        return check_beat()
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
