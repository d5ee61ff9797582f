"""`manage.py check --deploy` passes with the settings production runs (issue 7, item 2).

It runs in a fresh process: the settings module reads the environment once, at import, and the
test process has DEBUG on.
"""

import os
import secrets
import subprocess
import sys

from django.conf import settings

# Variables whose development values would hide what production gets.
LOCAL_ONLY = (
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "MFA_REQUIRED",
    "DATABASE_URL",
    "CACHE_URL",
    "CELERY_BROKER_URL",
    "DJANGO_ALLOW_ASYNC_UNSAFE",  # the browser tests' (tests/browser/conftest.py)
)


def production_environment(**changes: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name not in LOCAL_ONLY}
    env.update(
        DJANGO_SETTINGS_MODULE="desmigratif.settings",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(48),
        ALLOWED_HOSTS="desmigratif.example.go.id",
        CSRF_TRUSTED_ORIGINS="https://desmigratif.example.go.id",
        BEHIND_TLS_PROXY="true",
    )
    env.update(changes)
    return env


def deploy_check(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_deploy_check_passes_with_production_settings():
    result = deploy_check(production_environment())

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_deploy_check_fails_when_a_weak_secret_key_is_set():
    # The same check, to show it is not silenced: a short key is a warning, so it fails.
    result = deploy_check(production_environment(SECRET_KEY="short"))

    assert result.returncode != 0
    assert "security.W009" in result.stderr
