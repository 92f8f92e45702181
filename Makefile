# The entry points people type. `make run` and `make test` are the README's two commands.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CSS := build/static/consult/consult.css
DEFINITION := consult/consultations/definitions/facial-recognition.yaml

.PHONY: run serve test test-load audit bench lint typecheck static install clean messages

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts
	touch $@

$(CSS): node_modules/.package-lock.json consult/static/consult/consult.scss
	npx sass --no-source-map --style=compressed --quiet-deps --load-path=node_modules \
		consult/static/consult/consult.scss $(CSS)

static: $(STAMP) $(CSS)
	DEBUG=true $(BIN)/python manage.py collectstatic --noinput --verbosity 0 \
		--ignore '*.scss' --ignore '*.scss.map'

# Development server: DEBUG on, SQLite in db.sqlite3, emails printed to the console. The
# task worker (theme suggestions) runs beside it and stops with it; it does not reload on
# code changes (a reloading worker's child would outlive it): restart `make run` instead.
run: static
	DEBUG=true $(BIN)/python manage.py migrate --noinput
	DEBUG=true $(BIN)/python manage.py load_consultation $(DEFINITION)
	DEBUG=true $(BIN)/python manage.py db_worker --no-reload & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	DEBUG=true $(BIN)/python manage.py runserver 127.0.0.1:8000

# Production-style server; needs SECRET_KEY, ALLOWED_HOSTS and usually DATABASE_URL.
# Threaded workers keep answering the arbiter while a long download streams, so a
# download of a million responses is not cut off by the worker timeout.
# One task worker runs beside it and stops with it; more can run on other machines.
serve: static
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py db_worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/gunicorn consult.wsgi --bind $${BIND:-127.0.0.1:8000} --workers $${WEB_CONCURRENCY:-3} \
		--worker-class gthread --threads $${THREADS:-4} --timeout 60

# The whole suite on SQLite; again on PostgreSQL when TEST_POSTGRES_URL is set
# (.ci/run sets it). The browser tests need the stylesheet and axe-core from npm.
test: $(STAMP) $(CSS)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/bandit --quiet --configfile pyproject.toml --recursive consult --severity-level medium
	$(BIN)/python manage.py makemigrations --check --dry-run --settings=tests.settings > /dev/null
	env -u DATABASE_URL $(BIN)/pytest
	if [ -n "$$TEST_POSTGRES_URL" ]; then DATABASE_URL="$$TEST_POSTGRES_URL" $(BIN)/pytest; fi

# Long tests against live multi-process servers (concurrency, SIGKILL, two processes
# sharing Redis), on SQLite and on PostgreSQL when TEST_POSTGRES_URL is set, and the read
# replica against a lagging PostgreSQL standby of its own (once); .ci/run runs them.
test-load: $(STAMP) $(CSS)
	env -u DATABASE_URL $(BIN)/pytest -m "load and not postgres" tests/load tests/replica
	if [ -n "$$TEST_POSTGRES_URL" ]; then DATABASE_URL="$$TEST_POSTGRES_URL" $(BIN)/pytest -m load tests/load; fi

# Security linting of the code and known vulnerabilities in the installed dependencies.
audit: $(STAMP)
	$(BIN)/bandit --quiet --configfile pyproject.toml --recursive consult --severity-level medium
	$(BIN)/python .ci/pip_audit.py

# Benchmarks (long; not part of make test). Each appends its figures to bench/RESULTS.md.
bench: $(STAMP) $(CSS)
	$(BIN)/python -m bench.generate
	$(BIN)/python -m bench.results
	$(BIN)/python -m bench.downloads
	$(BIN)/python -m bench.pages
	$(BIN)/python -m bench.submissions
	$(BIN)/python -m bench.campaigns
	$(BIN)/python -m bench.themes

# After changing the public pages' wording: update each language's .po from the code, then
# (once the new messages are translated) compile the .mo files that are committed beside
# them. Needs Debian's gettext (xgettext, msgfmt); running the site does not.
messages: $(STAMP)
	cd consult && DEBUG=true ../$(BIN)/django-admin makemessages --all --no-location --no-obsolete --settings consult.settings --pythonpath ..
	cd consult && DEBUG=true ../$(BIN)/django-admin compilemessages --settings consult.settings --pythonpath ..

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

clean:
	rm -rf $(VENV) node_modules build staticfiles
