import logging

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.models import Role
from desmigratif.celery import app as celery_app

logger = logging.getLogger(__name__)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Each role lands where it works: an officer on their village, the others on the list."""
    user = request.user
    if user.role in (Role.VILLAGE_OFFICER, Role.VILLAGE_HEAD) and user.scope_id:
        return redirect("villages:detail", code=user.scope_id)
    return redirect("villages:list")


def _check_database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        logger.warning("health: database unreachable: %s", exc)
        return {"ok": False, "detail": "unreachable"}
    return {"ok": True, "vendor": connection.vendor}


def _check_broker() -> dict:
    if celery_app.conf.task_always_eager:
        return {"ok": True, "detail": "inline (no broker configured)"}
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:
        logger.warning("health: broker unreachable: %s", exc)
        return {"ok": False, "detail": "unreachable"}
    return {"ok": True}


def _check_workers(broker_ok: bool) -> dict:
    if celery_app.conf.task_always_eager:
        return {"ok": True, "detail": "inline (tasks run in the web process)", "count": 0}
    if not broker_ok:
        return {"ok": False, "detail": "broker unreachable", "count": 0}
    try:
        replies = celery_app.control.ping(timeout=settings.HEALTH_WORKER_TIMEOUT) or []
    except Exception as exc:
        logger.warning("health: worker ping failed: %s", exc)
        replies = []
    return {"ok": bool(replies), "count": len(replies)}


@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """Database, broker and workers; 200 when all are up, 503 otherwise. No secrets, no names."""
    database = _check_database()
    broker = _check_broker()
    workers = _check_workers(broker["ok"])
    ok = database["ok"] and broker["ok"] and workers["ok"]
    return JsonResponse(
        {
            "status": "ok" if ok else "degraded",
            "database": database,
            "broker": broker,
            "workers": workers,
        },
        status=200 if ok else 503,
    )


def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    return render(request, "403.html", status=403)


def page_not_found(request: HttpRequest, exception=None) -> HttpResponse:
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    # No context processors that touch the database: the error may be the database.
    from django.template import loader

    return HttpResponse(loader.get_template("500.html").render(), status=500)
