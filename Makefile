# The one entry point. `make run` to use Parley locally, `make test` to run the suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
ADMIN_PATH = $(or $(ADMIN_URL),admin/)

# Production serving (make serve); override from the environment.
WEB_BIND ?= 127.0.0.1:8000
WEB_WORKERS ?= 2
WEB_THREADS ?= 8
# config/settings.py reads it too, to give the database pool room for every thread.
export WEB_THREADS

.PHONY: run test editor add-editor check check-deploy serve bench soak lint format clean

# Installing is stamped, so a second `make run` skips it and starts in seconds.
$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.runtime-installed: requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime-installed

# Local development: debug on, SQLite unless DATABASE_URL says otherwise.
run editor add-editor: export DJANGO_DEBUG ?= 1

run: $(VENV)/.runtime-installed
	$(PY) manage.py migrate --noinput
	$(PY) manage.py setup_roles
	$(PY) manage.py import_dataset talks/seed --if-empty
	@echo ""
	@echo "  Parley:        http://127.0.0.1:8000/"
	@echo "  Editors' admin: http://127.0.0.1:8000/$(ADMIN_PATH)"
	@echo "  Create an editor login (in another terminal): make editor"
	@echo ""
	$(PY) manage.py runserver 127.0.0.1:8000

editor: $(VENV)/.runtime-installed
	$(PY) manage.py migrate --noinput
	$(PY) manage.py setup_roles
	$(PY) manage.py createsuperuser

# An editor's login in one step: make add-editor NAME=alice (CHIEF=1 for a chief editor).
add-editor: $(VENV)/.runtime-installed
	@test -n "$(NAME)" || { echo "Say whose login: make add-editor NAME=alice (CHIEF=1 for a chief editor)"; exit 2; }
	$(PY) manage.py migrate --noinput
	$(PY) manage.py create_editor "$(NAME)" $(if $(CHIEF),--chief)

test: $(VENV)/.dev-installed
	$(PY) -m pytest

# What CI checks beyond the tests: no model change without its migration, and Django's system checks.
check: export DJANGO_DEBUG ?= 1
check: $(VENV)/.dev-installed
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) manage.py check

# Production: debug off, settings from the environment (see README), gunicorn's threaded workers,
# which keep streaming long downloads instead of killing them.
serve: $(VENV)/.runtime-installed
	$(PY) manage.py check
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py migrate --noinput
	$(PY) manage.py setup_roles
	$(VENV)/bin/gunicorn config.wsgi:application --worker-class gthread --workers $(WEB_WORKERS) \
		--threads $(WEB_THREADS) --bind $(WEB_BIND) --access-logfile - --error-logfile - --timeout 120

# The production settings pass Django's deployment checklist (a throwaway key, as CI has no secrets).
check-deploy: $(VENV)/.runtime-installed
	DJANGO_DEBUG=0 DJANGO_ALLOWED_HOSTS=parley.example.org \
	DJANGO_SECRET_KEY="$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')" \
	$(PY) manage.py check --deploy --fail-level WARNING

# On the archive generate_demo_data built, served as make serve serves it (plain HTTP, locally):
# bench times each page for one client; soak runs readers and editors at once for a minute and
# fails on any 5xx or lost write.
bench_COMMAND = run_benchmark $(BENCH_ARGS)
soak_COMMAND = run_soak $(SOAK_ARGS)
bench soak: export DJANGO_DEBUG = 0
bench soak: export DJANGO_ALLOWED_HOSTS = 127.0.0.1,localhost
bench soak: export DJANGO_SECURE_SSL_REDIRECT = 0
bench soak: export DJANGO_SECURE_COOKIES = 0
bench soak: $(VENV)/.dev-installed
	DJANGO_SECRET_KEY="$${DJANGO_SECRET_KEY:-$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')}" \
	sh -c '$(PY) manage.py collectstatic --noinput --verbosity 0 && $(PY) manage.py $($@_COMMAND)'

lint: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
