# The one entry point. `make run` to use Parley locally, `make test` to run the suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
ADMIN_PATH = $(or $(ADMIN_URL),admin/)

.PHONY: run test editor check lint format clean

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
run editor: export DJANGO_DEBUG ?= 1

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

test: $(VENV)/.dev-installed
	$(PY) -m pytest

# What CI checks beyond the tests: no model change without its migration, and Django's system checks.
check: export DJANGO_DEBUG ?= 1
check: $(VENV)/.dev-installed
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) manage.py check

lint: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
