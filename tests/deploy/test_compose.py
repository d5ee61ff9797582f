"""compose.yaml and the Dockerfile, read as data: Docker itself is not available to the tests.

What a broken deployment file would not say until a server's first start: a service missing or
without its health check, the broker without its append-only file, the cache persisted, the
application started before its migrations, a variable nobody documents.
"""

import re
from pathlib import Path

import pytest
import yaml
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
LONG_RUNNING = {"postgres", "redis-broker", "redis-cache", "web", "worker", "beat"}
APPLICATION = {"migrate", "web", "worker", "beat"}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def command_of(service: dict) -> list[str]:
    command = service.get("command", [])
    return command.split() if isinstance(command, str) else command


def test_every_service_of_the_deployment_is_there(services):
    assert set(services) >= LONG_RUNNING | APPLICATION


def test_every_long_running_service_has_a_health_check(services):
    for name in LONG_RUNNING:
        check = services[name].get("healthcheck", {})
        assert check.get("test"), name
        assert not check.get("disable"), name


def test_the_web_server_is_gunicorn_and_its_health_is_the_health_page(services):
    web = services["web"]
    assert command_of(web) == ["gunicorn", "-c", "deploy/gunicorn.conf.py"]
    assert web["healthcheck"]["test"] == ["CMD", "python", "deploy/healthcheck.py", "web"]
    assert "/health/" in (ROOT / "deploy/healthcheck.py").read_text()
    # Published on the host's loopback only: the TLS proxy is the way in.
    assert all(port.startswith("127.0.0.1:") for port in web["ports"])


def test_the_broker_keeps_its_queue_on_disk_and_never_evicts(services):
    broker = command_of(services["redis-broker"])
    assert broker[broker.index("--appendonly") + 1] == "yes"
    assert broker[broker.index("--maxmemory-policy") + 1] == "noeviction"
    assert services["redis-broker"]["volumes"]


def test_the_cache_is_a_separate_redis_without_persistence(services, compose):
    cache = command_of(services["redis-cache"])
    assert cache[cache.index("--save") + 1] == ""
    assert cache[cache.index("--appendonly") + 1] == "no"
    assert cache[cache.index("--maxmemory-policy") + 1] == "allkeys-lru"
    assert "--maxmemory" in cache
    assert "volumes" not in services["redis-cache"]
    environment = services["web"]["environment"]
    assert "redis-cache" in environment["CACHE_URL"]
    assert "redis-broker" in environment["CELERY_BROKER_URL"]


def test_the_application_starts_after_its_migrations(services):
    migrate = services["migrate"]
    assert command_of(migrate) == ["python", "manage.py", "migrate", "--no-input"]
    assert migrate["restart"] == "no"
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }, name
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_migrations_run_as_the_owner_and_the_rest_as_the_application_role(services):
    assert "//desmigratif_owner:" in services["migrate"]["environment"]["DATABASE_URL"]
    for name in ("web", "worker", "beat"):
        assert "//desmigratif_app:" in services[name]["environment"]["DATABASE_URL"], name


def test_the_application_reads_its_settings_from_the_env_file(services):
    for name in APPLICATION:
        assert services[name]["env_file"] == ".env", name


def test_workers_and_web_share_the_report_files_and_beat_uses_the_database_schedule(services):
    assert "media:/data/media" in services["web"]["volumes"]
    assert "media:/data/media" in services["worker"]["volumes"]
    beat = command_of(services["beat"])
    assert beat[:3] == ["celery", "--app=desmigratif", "beat"]
    assert "--scheduler=django_celery_beat.schedulers:DatabaseScheduler" in beat


def test_every_variable_compose_reads_is_in_env_example(compose):
    text = (ROOT / "compose.yaml").read_text()
    used = set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)", text))
    assert used - documented_variables() == set()


def documented_variables() -> set[str]:
    lines = (ROOT / ".env.example").read_text().splitlines()
    return {line.split("=", 1)[0].strip("# ") for line in lines if re.match(r"#? ?[A-Z_]+=", line)}


def test_every_variable_the_settings_and_gunicorn_read_is_in_env_example():
    read = set()
    for path in ("desmigratif/settings.py", "deploy/gunicorn.conf.py"):
        read |= set(re.findall(r"env_\w+\(\s*\"([A-Z_][A-Z0-9_]*)\"", (ROOT / path).read_text()))
    assert read - documented_variables() == set()


def test_the_image_is_slim_python_with_pdf_libraries_built_assets_and_no_root():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim", dockerfile, re.M)
    for package in ("libpango-1.0-0", "libpangoft2-1.0-0", "gettext"):
        assert package in dockerfile
    assert "compilemessages" in dockerfile
    assert "collectstatic --no-input" in dockerfile
    users = re.findall(r"^USER (\S+)", dockerfile, re.M)
    assert users
    assert users[-1] not in ("root", "0")
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".env", ".git", ".venv", "media", "db.sqlite3*"} <= set(ignored)
