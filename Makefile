# Two commands do all the set-up: `make run` serves the portal, `make test` runs the whole suite.
# Both create .venv and install the locked dependencies (uv.lock) by themselves.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV_VERSION := 0.13.9
PORTAL_PORT ?= 8000
DEMO_USERS ?= 200
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)

.PHONY: install run test test-fast test-sqlite lint audit format check-deploy clean bench bench-smoke \
	loadtest loadtest-short wrk mutate

$(VENV)/.installed: pyproject.toml uv.lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	@$(VENV)/bin/uv sync --locked --quiet
	@touch $@

install: $(VENV)/.installed

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo --users $(DEMO_USERS)
	@$(PY) manage.py banner --port $(PORTAL_PORT)
	PORTAL_PORT=$(PORTAL_PORT) $(VENV)/bin/honcho -f Procfile.embedded start

# The whole suite on PostgreSQL and Redis (started for the run if installed but not running).
# Each checkout gets its own test database, so two clones on one server do not collide.
export TEST_DATABASE_NAME ?= test_workpex_$(shell printf '%s' "$(CURDIR)" | md5sum | cut -c1-8)
test: install
	$(PY) scripts/with_services.py -- $(PY) -m pytest --create-db $(PYTEST_ARGS)

# The quick part, for the edit loop: the same suite without the tests that start processes
# (markers in pyproject.toml: browser, worker, bench, load). Keeps the test database (--reuse-db,
# pytest's default here): pass PYTEST_ARGS=--create-db after changing migrations.
FAST_MARKERS := not browser and not worker and not bench and not load
test-fast: install
	$(PY) scripts/with_services.py -- $(PY) -m pytest -m "$(FAST_MARKERS)" $(PYTEST_ARGS)

# Benchmarks (bench/, see docs/benchmarks.md): a dedicated PostgreSQL database, BENCH_DATABASE_URL.
# The unsubscribe throughput benchmark drives gunicorn with wrk (Debian's), installed when missing
# (without it, a slower Python load generator stands in).
BENCH_ARGS ?=
bench: install wrk
	$(PY) -m bench.run $(BENCH_ARGS)

bench-smoke: install wrk
	$(PY) -m bench.run --sizes smoke --out var/bench-smoke.md $(BENCH_ARGS)

wrk:
	@command -v wrk >/dev/null 2>&1 || { echo "Installing wrk for the throughput benchmark"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null \
		|| echo "could not install wrk: the Python load generator stands in"; }

# Load test (loadtest/, see docs/benchmarks.md, "Load test"): gunicorn, a Celery worker and beat with the
# load-test settings on LOADTEST_DATABASE_URL, Locust from a second process; fails on a 5xx, a
# lost write or growing memory. The short form also runs in `make test` (tests/test_loadtest.py).
DURATION ?= 300
LOAD_USERS ?= 20
loadtest: install
	$(PY) scripts/with_services.py -- $(PY) -m loadtest.run --duration $(DURATION) --users $(LOAD_USERS)

loadtest-short: install
	$(PY) scripts/with_services.py -- $(PY) -m loadtest.run --duration 25 --users 6

# Mutation testing of the core rules (docs/mutation.md): mutmut per rule, with only that rule's
# tests, one mutant at a time, on PostgreSQL (a test database per rule). Slow: not part of
# `make test` or CI. RULES=consent_gate age ... picks rules; MUTATE_ARGS=--survivors reruns
# only the last run's survivors.
RULES ?=
MUTATE_ARGS ?=
mutate: install
	$(PY) scripts/with_services.py -- $(PY) scripts/mutate.py $(MUTATE_ARGS) $(RULES)

# The same suite on the embedded default: SQLite and the filesystem broker. From a fresh clone
# too: var/ is made, and what a killed run left (journal files, queued messages) is cleared.
SQLITE_TEST_DB := $(CURDIR)/var/test-embedded-db.sqlite3
test-sqlite: install
	@mkdir -p var
	@rm -rf $(SQLITE_TEST_DB)-wal $(SQLITE_TEST_DB)-shm $(SQLITE_TEST_DB)-journal var/test-broker
	DATABASE_URL=sqlite:///$(CURDIR)/var/test-embedded.sqlite3 CELERY_BROKER_URL=filesystem:// \
	TEST_SQLITE_NAME=$(notdir $(SQLITE_TEST_DB)) CELERY_BROKER_FOLDER=$(CURDIR)/var/test-broker \
		$(PY) -m pytest --create-db $(PYTEST_ARGS)

# ruff, and the import-linter contracts of pyproject.toml (the design's dependency rules).
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

# pip-audit on the locked dependencies: fails on a known vulnerability; says which packages it
# could not audit (DEPENDENCY_AUDIT_REQUIRED=1 makes that fail too). See SECURITY.md.
audit: install
	$(PY) scripts/dependency_audit.py

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

check-deploy: install
	@mkdir -p var
	DJANGO_SETTINGS_MODULE=workpex_portal.settings.production \
	SECRET_KEY=check-deploy-$$(date +%s)-a-long-random-looking-secret-key-for-the-check \
	DATABASE_URL=sqlite:///$(CURDIR)/var/check.sqlite3 CELERY_BROKER_URL=redis://127.0.0.1:6379/0 \
	ALLOWED_HOSTS=privacy.workpex.example SITE_URL=https://privacy.workpex.example \
	STORAGE_BUCKET=workpex-check-deploy \
	PAYMENT_TOKEN_KEYS=$$($(PY) -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())") \
	CONSENT_RECEIPT_SIGNING_KEY="$$($(PY) -c "from cryptography.hazmat.primitives.asymmetric import ec; from cryptography.hazmat.primitives import serialization as s; print(ec.generate_private_key(ec.SECP256R1()).private_bytes(s.Encoding.PEM, s.PrivateFormat.PKCS8, s.NoEncryption()).decode())")" \
	CONTROLLER_EMAIL=privacy@workpex.com CONTROLLER_PHONE="+49 30 1234567" \
	CONTROLLER_STREET="Beispielstraße 1" CONTROLLER_LOCALITY=Berlin CONTROLLER_POSTAL_CODE=10115 \
	CONTROLLER_COUNTRY=DE \
		$(PY) manage.py check --deploy --fail-level WARNING

clean:
	rm -rf $(VENV) var/staticfiles var/broker .pytest_cache tests/e2e/axe/node_modules
