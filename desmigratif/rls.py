"""Row-level security, the second wall: PostgreSQL itself keeps the personal-data tables to the
scope of whoever a connection works for.

The application's own scoping (`for_user`, accounts.scope) is the first wall, and the only one
on SQLite. On PostgreSQL the policies of migrants.0007 and pillars.0006 key every row of the
people, episodes, history, cases, handling steps and enrolled children on one setting of the
database session, `desmigratif.scope`:

    '*'              the whole country
    '35.07'          rows whose village code is 35.07 or starts with '35.07.'
    '' or not set    no row at all

This module writes that setting: the middleware for each request (the user's scope), the Celery
hooks for each task, `system_scope()` around the few reads the system makes on its own behalf,
and `set_process_scope()` for management commands. The policies bind the application's database
role, which is neither superuser nor the tables' owner (docs/security.md, "Row-level
security"); a superuser, as in development and the tests, passes through them.

The setting is written through the driver's own cursor, like Django's connection set-up: it is
infrastructure, not a query of the page, so the pinned query counts do not see it.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from celery import signals as celery_signals
from django.conf import settings
from django.db import DatabaseError, connection
from django.db.backends.signals import connection_created
from django.dispatch import receiver
from django.http import FileResponse

SETTING = "desmigratif.scope"
NATIONAL = "*"
NO_ACCESS = ""
TASK_HEADER = "desmigratif_scope"

# Tasks that work for the user who asked for them (an import, a report): they run in the scope
# of the request that sent them. Every other task is the system's own (summaries, reaping,
# schedules, retention) and runs national: a dashboard refresh a village officer asked for must
# still count the whole country. A new user task belongs here; left out, it runs national,
# behind the first wall only.
USER_TASKS = frozenset(
    {
        "migrants.tasks.validate_import",
        "migrants.tasks.commit_import",
        "pillars.tasks.validate_pillar_import",
        "pillars.tasks.commit_pillar_import",
        "reports.tasks.build_report",
    }
)

# The scope of the request, task or block being run; None outside all of them.
_current: ContextVar[str | None] = ContextVar("desmigratif_scope", default=None)
# Outside requests and tasks: nothing, unless the process says otherwise (manage.py).
_process_scope = NO_ACCESS


def scope_for_user(user) -> str:
    """The setting for a user: the same rule as accounts.scope (no role, inactive or anonymous:
    nothing; a national role: everything; otherwise the region code of the user's scope)."""
    from accounts.scope import scope_filter, scope_prefix

    if user is None or scope_filter(user, "village") is None:
        return NO_ACCESS
    prefix = scope_prefix(user)
    return NATIONAL if prefix is None else prefix


def current_scope() -> str:
    scope = _current.get()
    return _process_scope if scope is None else scope


def set_process_scope(scope: str) -> None:
    """The scope of this process outside requests and tasks: manage.py sets the national one,
    since a command is run by an operator (migrations included)."""
    global _process_scope
    _process_scope = scope
    # Before Django is set up (manage.py) there is no session to write to yet: a new one
    # takes the scope when it opens.
    if _current.get() is None and settings.configured:
        _write(connection, scope)


def _write(db, scope: str) -> None:
    """Write the scope into the open PostgreSQL session, if there is one; a new session gets it
    when it opens (`_scope_new_session`)."""
    if db.vendor != "postgresql" or db.connection is None:
        return
    from psycopg import pq

    raw = db.connection
    if raw.info.transaction_status == pq.TransactionStatus.INERROR:
        # The failed transaction is about to be rolled back, and a rollback restores the value
        # the setting had when that transaction (or savepoint) began.
        return
    with db.wrap_database_errors, raw.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, %s, false)", [SETTING, scope])


def _enter(scope: str) -> str | None:
    previous = _current.get()
    _current.set(scope)
    _write(connection, scope)
    return previous


def _leave(previous: str | None) -> None:
    _current.set(previous)
    _write(connection, current_scope())


def reset() -> None:
    """Back to outside any request or task: the process's own scope."""
    _leave(None)


def enter_user_scope(user) -> None:
    """The request's user became known after the middleware ran (an API token, read by the
    API's authentication): their scope for the rest of the request, which the middleware
    ends as usual."""
    _enter(scope_for_user(user))


@receiver(connection_created, dispatch_uid="desmigratif.rls.scope_new_session")
def _scope_new_session(sender, connection, **kwargs) -> None:
    # A session opened in the middle of a request or task (the first query, or after Celery
    # closed the previous one) starts with the scope of that request or task.
    scope = current_scope()
    if scope != NO_ACCESS:
        _write(connection, scope)


@contextmanager
def scoped(scope: str) -> Iterator[None]:
    """`scope` on the database for the block, then back to what it was."""
    previous = _enter(scope)
    try:
        yield
    finally:
        _leave(previous)


def acting_for(user):
    """The user's scope for a block run outside a request, e.g. a command working as a user."""
    return scoped(scope_for_user(user))


def system_scope():
    """The whole country for a read the system makes on its own behalf, never for rows shown
    to the user: whether a NIK is registered anywhere (the answer outside the user's scope is
    only "registered elsewhere")."""
    return scoped(NATIONAL)


class RowLevelSecurityMiddleware:
    """Writes the user's scope into the database session at the start of every request (a
    persistent connection still holds whatever the last one left) and takes it away at the
    end, or at the end of a streamed body, which is read after the view returned."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        try:
            scope = scope_for_user(getattr(request, "user", None))
        except DatabaseError:
            # The session or user could not be read: nothing, and the view meets the same error.
            scope = NO_ACCESS
        _enter(scope)  # and afterwards reset(), whatever an earlier request left behind
        try:
            response = self.get_response(request)
        except BaseException:
            reset()
            raise
        if response.streaming and not response.is_async and not isinstance(response, FileResponse):
            response.streaming_content = _ScopedStream(response.streaming_content)
        else:
            reset()
        return response


class _ScopedStream:
    """A streamed body that ends the request's scope when it has been read, or when the
    server closes the response without reading it (the client went away)."""

    def __init__(self, chunks) -> None:
        self.chunks = chunks
        self.open = True

    def __iter__(self):
        try:
            yield from self.chunks
        finally:
            self.close()

    def close(self) -> None:
        if self.open:
            self.open = False
            reset()


# --- Celery -------------------------------------------------------------------------------------

# The scope each running task replaced, to put back when it ends (an inline task runs inside
# the request that sent it).
_replaced: dict[str, str | None] = {}


@celery_signals.before_task_publish.connect(dispatch_uid="desmigratif.rls.send_scope")
def _send_scope_with_task(sender=None, headers=None, **kwargs) -> None:
    if sender in USER_TASKS and headers is not None:
        headers[TASK_HEADER] = current_scope()


def task_scope(task) -> str:
    if task.name not in USER_TASKS:
        return NATIONAL
    request = task.request
    sent = getattr(request, TASK_HEADER, None)
    if sent is None:
        sent = (getattr(request, "headers", None) or {}).get(TASK_HEADER)
    if sent is not None:
        return sent
    if getattr(request, "is_eager", False):
        return current_scope()  # run inline, in the request (or block) that called it
    # Sent without a scope (by a release before this one): behind the first wall only.
    return NATIONAL


@celery_signals.task_prerun.connect(dispatch_uid="desmigratif.rls.enter_task")
def _enter_task(sender=None, task_id=None, task=None, **kwargs) -> None:
    if task is not None and task_id is not None:
        _replaced[task_id] = _enter(task_scope(task))


@celery_signals.task_postrun.connect(dispatch_uid="desmigratif.rls.leave_task")
def _leave_task(sender=None, task_id=None, **kwargs) -> None:
    if task_id in _replaced:
        _leave(_replaced.pop(task_id))
