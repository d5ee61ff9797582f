"""Gunicorn's configuration for SI-Desmigratif: `gunicorn -c deploy/gunicorn.conf.py`.

Every value can be changed from the environment (docs/deploy.md lists the variables). The
defaults suit one web server behind a TLS reverse proxy on the same machine.
"""

import os

from desmigratif.env import env_int, env_str

wsgi_app = "desmigratif.wsgi:application"

# The reverse proxy talks to this address; the container listens on all its interfaces
# (GUNICORN_BIND=0.0.0.0:8000 in compose.yaml), a server behind nginx on the loopback only.
bind = env_str("GUNICORN_BIND", "127.0.0.1:8000")

# Processes, each with a few threads: a thread waiting on PostgreSQL, or streaming a large CSV
# export, leaves the others serving. Each thread holds its own database connection, so
# workers x threads connections per web server (plus the workers' and beat's) must fit in
# PostgreSQL's max_connections. Report files are built by Celery, never here.
workers = env_int("WEB_CONCURRENCY", min(2 * (os.cpu_count() or 1) + 1, 9))
threads = env_int("GUNICORN_THREADS", 4)
worker_class = "gthread"

# A worker silent this long is killed and replaced (a stuck process, not a slow request: with
# threads, a worker stays alive while one of its requests runs long).
timeout = env_int("GUNICORN_TIMEOUT", 120)
# On a restart (SIGHUP, a deploy), requests in flight get this long to finish.
graceful_timeout = env_int("GUNICORN_GRACEFUL_TIMEOUT", 60)
# The proxy keeps connections open to us; longer than its own keep-alive would cut them.
keepalive = env_int("GUNICORN_KEEPALIVE", 5)
# A worker is replaced after this many requests (with jitter, so not all at once): memory that
# a long life accumulates (xlsx parsing, large querysets) is given back.
max_requests = env_int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = max(max_requests // 10, 1) if max_requests else 0
# Uploads up to IMPORT_MAX_MB pass; request lines and headers stay small.
limit_request_line = 8190

# The heartbeat files in memory rather than on a container's overlay disk (gunicorn makes and
# unlinks them itself, so the shared directory holds nothing to take over).
SHARED_MEMORY = "/dev/shm"  # noqa: S108  # nosec B108
if os.path.isdir(SHARED_MEMORY):
    worker_tmp_dir = SHARED_MEMORY

# Addresses whose X-Forwarded-Proto/-For gunicorn believes: the reverse proxy. Django itself
# reads X-Forwarded-Proto when BEHIND_TLS_PROXY=true (settings.SECURE_PROXY_SSL_HEADER).
forwarded_allow_ips = env_str("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

proc_name = "desmigratif-web"
# No control socket (gunicornc): it would be made in $HOME, which the image's user cannot write.
# systemd or Docker restart and reload the server (HUP).
control_socket_disable = True

# --- Logs -------------------------------------------------------------------------------------
# The access line names the path without its query string (a NIK typed into the register's
# search travels in one) and without the referrer (which carries the previous page's); the
# NIK filter masks 16-digit numbers in the path too. The request id is the one the application
# used (desmigratif.logs), returned in the X-Request-ID header.
access_log_format = (
    'client="%({x-forwarded-for}i)s" peer=%(h)s method=%(m)s path="%(U)s" status=%(s)s '
    "bytes=%(B)s duration_ms=%(M)s request_id=%({x-request-id}o)s"
)
_log_format = env_str("LOG_FORMAT", "json")
_handler = {
    "class": "logging.StreamHandler",
    "formatter": _log_format if _log_format in ("json", "plain") else "json",
    "filters": ["redact_nik"],
    "stream": "ext://sys.stderr",
}
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "desmigratif.logs.JsonFormatter"},
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "filters": {"redact_nik": {"()": "desmigratif.redact.RedactNik"}},
    "handlers": {"gunicorn": _handler},
    "root": {"level": "INFO", "handlers": ["gunicorn"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["gunicorn"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": ["gunicorn"], "propagate": False},
    },
}
