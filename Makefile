# SI-Desmigratif: every developer task runs from here, locally and in CI alike.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export DEMO_PASSWORD ?= desmigratif-demo
# Local runs and tests; production sets DEBUG=false and a SECRET_KEY in its environment.
export DEBUG ?= true

.PHONY: run test lint format messages bench load install clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

## run: the local demo on SQLite with Celery tasks inline; no service needed.
run: export MFA_REQUIRED ?= false
run: $(STAMP)
	$(PY) manage.py compilemessages --ignore=.venv -v 0
	env -u DATABASE_URL -u CELERY_BROKER_URL $(PY) manage.py migrate --no-input
	env -u DATABASE_URL -u CELERY_BROKER_URL $(PY) manage.py load_regions
	env -u DATABASE_URL -u CELERY_BROKER_URL $(PY) manage.py seed_demo
	@case "$$MFA_REQUIRED" in [Ff]alse|0|[Nn]o|[Oo]ff) echo "*** Local demo: MFA is OFF (MFA_REQUIRED=$$MFA_REQUIRED). Production requires an authenticator app for coordinators, province and ministry users. ***";; esac
	env -u DATABASE_URL -u CELERY_BROKER_URL $(PY) manage.py runserver 127.0.0.1:8000

## test: the whole suite; PostgreSQL and a real worker when DATABASE_URL / CELERY_BROKER_URL are set.
test: $(STAMP)
	$(PY) manage.py compilemessages --ignore=.venv -v 0
	$(PY) -m pytest $(PYTEST_ARGS)

## lint: ruff, migrations in step with the models, bandit (medium severity and above fail).
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/bandit -c pyproject.toml -r . -ll -q

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## messages: refresh the Indonesian catalogue after changing user-facing text.
messages: $(STAMP)
	$(PY) manage.py makemessages -l id --ignore=.venv --ignore=bench --no-obsolete
	$(PY) manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) db.sqlite3 .pytest_cache

## bench: the register import benchmark (issue 4): ours against stock django-import-export on a
## scratch PostgreSQL database it creates and drops; writes the figures into docs/benchmarks.md.
## BENCH_ARGS="--rows 20000 --no-docs" for a quick run; see bench/README.md. Then the register
## list at a million people, and the dashboards and reports at a million people (issue 6;
## DASH_BENCH_ARGS=--reuse measures a kept desmigratif_dash_bench database).
bench: export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/desmigratif_bench
bench: $(STAMP)
	$(PY) -m bench.import_bench $(BENCH_ARGS)
	$(PY) -m bench.register_bench
	$(PY) -m bench.dashboard_bench $(DASH_BENCH_ARGS)

## load: the load run of issue 8: a scratch PostgreSQL database desmigratif_load (dropped and
## recreated), gunicorn on 127.0.0.1:8100 and a Celery worker on Redis db 14 with production
## settings, locust 100 users for 10 minutes then 300; figures into docs/benchmarks.md, exit 1 when
## a criterion fails. LOAD_ARGS="--users 20 --minutes 1 --no-spike --no-docs" for a trial.
load: $(STAMP)
	$(PY) -m bench.load.run $(LOAD_ARGS)
