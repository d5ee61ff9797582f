"""Fault tests (issue 8), on the real PostgreSQL, Redis and Celery worker; what each failure
does and how it recovers is in docs/operations.md.

- test_redis_down: Redis stopped, pages work, queued work runs when it is back;
- test_import_killed: a worker killed during an import's commit;
- a worker killed during a report build: tests/reports/test_worker.py (not repeated here);
- test_poison_job: a job that always kills its worker;
- test_rollback: a task sent in a transaction that rolls back;
- test_postgres_restart: PostgreSQL restarted under the web server and the worker;
- test_double_submit: a form sent twice.
"""
