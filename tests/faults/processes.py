"""The processes the fault tests start and stop: a Redis and a PostgreSQL of their own on spare
ports (the machine's shared ones are never touched), Celery workers and a gunicorn web server
pointed at them, each in a process group of its own so that the whole of it can be killed."""

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import requests
from django.conf import settings

BIN = Path(sys.executable).parent


def wait_for(predicate, *, what: str, seconds: float = 90, every: float = 0.2):
    """Poll until `predicate()` is true; a deadline, not a timing assertion."""
    deadline = time.monotonic() + seconds
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(every)


def spare_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def artefact(name: str) -> Path:
    path = Path(settings.BASE_DIR, "test-artifacts", "faults", name)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _stop(process: subprocess.Popen, *, sig=signal.SIGTERM, timeout: float = 20) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=timeout)


class ScratchRedis:
    """A Redis of the test's own, without persistence; stop() and start() keep its port."""

    def __init__(self) -> None:
        self.port = spare_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log = artefact(f"redis-{self.port}.log")
        self.process: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 (our own command line)
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
            stdout=self.log.open("a"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for(self.answers, what="the scratch Redis", seconds=20)

    def answers(self) -> bool:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 1):
            return True
        return False

    def stop(self) -> None:
        if self.process is not None:
            _stop(self.process)
            self.process = None


class ScratchPostgres:
    """A PostgreSQL cluster of the test's own in a temporary folder, run by the `postgres` user
    when the tests run as root (initdb refuses root)."""

    def __init__(self) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not found:
            raise RuntimeError("no PostgreSQL server binaries in /usr/lib/postgresql")
        self.bin = Path(found[-1]).parent
        self.port = spare_port()
        # Not under pytest's tmp_path: the postgres user cannot reach into root's folders.
        self.directory = Path(tempfile.mkdtemp(prefix="desmigratif-faults-pg-"))
        self.data = self.directory / "data"
        self.log = self.directory / "postgres.log"
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            shutil.chown(self.directory, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync")
        self.start()

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bin / tool), *args]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)  # noqa: S603
        if done.returncode:
            raise RuntimeError(f"{tool} failed: {done.stdout}{done.stderr}")

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def _options(self) -> str:
        return f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", self._options(),
                  "-w", "start")  # fmt: skip

    def restart(self) -> None:
        """A fast restart: every open connection is cut, as an upgrade or a crash would."""
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", self._options(),
                  "-m", "fast", "-w", "restart")  # fmt: skip

    def stop(self) -> None:
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        with contextlib.suppress(OSError):
            shutil.copy(self.log, artefact(f"postgres-{self.port}.log"))
        shutil.rmtree(self.directory, ignore_errors=True)


def django_env(*, database_url: str, broker_url: str, queue: str, **extra: str) -> dict:
    """The environment of a Django process (worker, web server) of a fault test."""
    return dict(
        os.environ,
        DEBUG="true",
        DATABASE_URL=database_url,
        CELERY_BROKER_URL=broker_url,
        CELERY_RESULT_BACKEND=broker_url,
        CELERY_QUEUE=queue,
        MEDIA_ROOT=str(settings.MEDIA_ROOT),
        PYTHONPATH=str(settings.BASE_DIR),
        **extra,
    )


class Worker:
    """A Celery worker of tests/faults/worker_app.py, one pool process, in a process group of
    its own."""

    def __init__(self, env: dict, *, log: Path) -> None:
        self.name = f"{env['CELERY_QUEUE']}-{uuid.uuid4().hex[:4]}@localhost"
        self.log = log
        start = log.stat().st_size if log.exists() else 0
        self.process = subprocess.Popen(  # noqa: S603 (our own command line)
            [
                str(BIN / "celery"),
                "-A",
                "tests.faults.worker_app",
                "worker",
                "-Q",
                env["CELERY_QUEUE"],
                "-n",
                self.name,
                "-c",
                "1",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-l",
                "info",
            ],
            env=env,
            cwd=settings.BASE_DIR,
            stdout=log.open("a"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

        def ready() -> bool:
            if self.process.poll() is not None:
                raise RuntimeError(f"the worker stopped; see {log}")
            with log.open() as handle:
                handle.seek(start)
                return " ready." in handle.read()

        try:
            wait_for(ready, what=f"the worker to start (see {log})", seconds=90)
        except BaseException:
            self.kill()
            raise

    def child(self) -> int:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        (child,) = children.read_text().split()
        return int(child)

    def kill_child(self) -> None:
        """SIGKILL to the pool process: the main process sees it lost (an OOM kill)."""
        os.kill(self.child(), signal.SIGKILL)

    def kill(self) -> None:
        """SIGKILL to the whole worker: nothing acknowledged, nothing cleaned."""
        _stop(self.process, sig=signal.SIGKILL)

    def stop(self) -> None:
        _stop(self.process)


class WebServer:
    """gunicorn serving the project, as in production."""

    def __init__(self, env: dict, *, log: Path, workers: int = 1) -> None:
        self.port = spare_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(  # noqa: S603 (our own command line)
            [
                str(BIN / "gunicorn"),
                "desmigratif.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(workers),
                "--timeout",
                "120",
            ],
            env=env,
            cwd=settings.BASE_DIR,
            stdout=log.open("a"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

        def answers() -> bool:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn stopped; see {log}")
            try:
                requests.get(self.base + "/health/", timeout=30)
            except (requests.ConnectionError, requests.Timeout):
                return False
            return True

        try:
            wait_for(answers, what=f"gunicorn to answer (see {log})", seconds=90)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        _stop(self.process)


def session_for(user, base: str) -> requests.Session:
    """A browser signed in as `user`: the session is written to the database the web server
    reads, its cookie handed to a requests.Session."""
    from tests.conftest import _client_for  # signed in, the password confirmed a moment ago

    key = _client_for(user).cookies[settings.SESSION_COOKIE_NAME].value
    browser = requests.Session()
    browser.cookies.set(settings.SESSION_COOKIE_NAME, key)
    browser.headers["Referer"] = base + "/"
    return browser


def form_fields(html: str) -> dict[str, str]:
    """The hidden fields of the first POST form with a one-time token in a page (the CSRF
    token and the submit-once token)."""
    import re

    fields = {}
    for name in ("csrfmiddlewaretoken", "_submit_once"):
        match = re.search(rf'name="{name}" value="([^"]+)"', html)
        if match:
            fields[name] = match.group(1)
    return fields
