"""Production log lines: one JSON object per record, tied to its request or task.

A log collector (journald, Docker's json-file, Loki, Elasticsearch) reads a line as one record,
so a traceback must not spill over several lines, and the fields must not need a regular
expression to be found. Each line carries:

    time        ISO 8601 in UTC, to the millisecond
    level       INFO, WARNING, ERROR...
    logger      the logger's name (django.request, reports.tasks, gunicorn.access...)
    message     the message, its 16-digit numbers masked (desmigratif.redact)
    request_id  the request's id (the proxy's X-Request-ID, or one made here), when in a request
    task_id     the Celery task's id, when in a task
    exception   the traceback, when there is one (masked too)

The request id is also sent back in the response's `X-Request-ID` header, which the gunicorn
access log prints (deploy/gunicorn.conf.py): the access line of a request and the application's
lines about it share the id.

No personal data is added here: no user name, no query string, no form field. The NIK filter
(desmigratif.redact.RedactNik) stays on every handler; the formatter masks the finished line
once more, so a field added later cannot carry a NIK either.

Like desmigratif.redact, this module imports none of Django's models: logging is configured
before the apps load (and gunicorn's master uses it without Django at all).
"""

import datetime
import json
import logging
import re
import uuid
from contextvars import ContextVar

from desmigratif.redact import redact

REQUEST_ID_HEADER = "X-Request-ID"
# What a proxy may hand us as an id (nginx's $request_id is 32 hex digits); anything else is
# replaced rather than copied into every log line.
_ACCEPTED_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

_request_id: ContextVar[str | None] = ContextVar("desmigratif_request_id", default=None)


def current_request_id() -> str | None:
    return _request_id.get()


class RequestIdMiddleware:
    """Gives every request an id for the log lines written while it runs."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = incoming if _ACCEPTED_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = _request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(token)
        response.headers.setdefault(REQUEST_ID_HEADER, request_id)
        return response


def _current_task_id() -> str | None:
    # Celery is imported lazily: gunicorn's master formats its own lines without it.
    from celery import current_task

    try:
        request = current_task.request if current_task else None
    except Exception:  # no app, or a task half torn down: the line matters more than the id
        return None
    return getattr(request, "id", None)


class RequestContext(logging.Filter):
    """Adds `request_id` and `task_id` to the record (None outside a request or task)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            # Django logs a 4xx response once the middleware has returned, with the request.
            request = getattr(record, "request", None)
            record.request_id = _request_id.get() or getattr(request, "request_id", None)
        if not hasattr(record, "task_id"):
            record.task_id = _current_task_id()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line (see the module's docstring for the fields)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.datetime.fromtimestamp(record.created, tz=datetime.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in ("request_id", "task_id"):
            value = getattr(record, field, None)
            if value:
                entry[field] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return redact(json.dumps(entry, ensure_ascii=False, default=str))
