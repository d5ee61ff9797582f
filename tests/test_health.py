import pytest
from django.db import connection
from django.urls import reverse

from desmigratif.celery import app

HEALTH = reverse("health")


def test_health_is_ok_with_inline_tasks(anonymous, db):
    response = anonymous.get(HEALTH)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is True
    assert body["workers"]["ok"] is True
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.fixture
def broker_down(monkeypatch):
    from kombu import Connection

    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    # Nothing listens on port 9: the broker is "down" whatever the environment configures.
    monkeypatch.setattr(app, "connection_for_write", lambda: Connection("redis://127.0.0.1:9/0"))
    yield
    app.conf.task_always_eager = eager


def test_health_is_503_when_the_broker_is_down(anonymous, db, broker_down):
    response = anonymous.get(HEALTH)
    assert response.status_code == 503
    body = response.json()
    assert body["broker"] == {"ok": False, "detail": "unreachable"}
    assert body["workers"]["ok"] is False
    assert body["database"]["ok"] is True


def test_health_is_503_when_the_database_is_down(anonymous, db, monkeypatch):
    class DownDatabase:
        vendor = connection.vendor

        def cursor(self):
            raise connection.Database.OperationalError("connection refused")

    monkeypatch.setattr("desmigratif.views.connection", DownDatabase())
    response = anonymous.get(HEALTH)
    assert response.status_code == 503
    assert response.json()["database"] == {"ok": False, "detail": "unreachable"}
    assert "refused" not in response.content.decode()  # no internals in the answer


def test_health_answers_get_only(anonymous, db):
    assert anonymous.post(HEALTH).status_code == 405


@pytest.mark.celery_worker
def test_health_counts_the_real_worker(anonymous, celery_worker, db):
    response = anonymous.get(HEALTH)
    assert response.status_code == 200, response.json()
    assert response.json()["workers"]["count"] >= 1
