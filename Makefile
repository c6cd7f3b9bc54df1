# Amparo developer commands. Recipes are plain bash and use the tools in .venv/.
#   make test    the full check (lint, migrations, pytest) with private PostgreSQL/Redis
#   make demo    run the app locally with demo data: http://127.0.0.1:8000/
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV   := .venv
PY     := $(VENV)/bin/python
RUFF   := $(VENV)/bin/ruff
PYTHON ?= $(shell command -v python3.11 || command -v python3)
STAMP  := $(VENV)/.installed
VAR    := $(or $(AMPARO_VAR_DIR),var)
PYTEST_ARGS ?=

# The folders the file-backed Celery broker and the file storage write to (settings.py).
VAR_DIRS := $(addprefix $(VAR)/,celery-queue celery-processed celery-control private)

.PHONY: help venv test lint format demo demo-packages var-dirs messages clean distclean

help:
	@echo "make venv      create $(VENV) and install requirements-test.txt (when changed)"
	@echo "make test      ruff, makemigrations --check and pytest, with private PostgreSQL + Redis"
	@echo "               unless DATABASE_URL is set; pass pytest options as PYTEST_ARGS=..."
	@echo "make demo      migrate, seed demo data and run web, Celery workers, beat and the Stripe sandbox (DEBUG=1)"
	@echo "make scan      wapiti security scan of a production-like instance on 127.0.0.1 (~15 min,"
	@echo "               SCAN_MINUTES=...); reports in var/scan/<timestamp>/"
	@echo "make bench     every staff-page scenario (locust, one gunicorn worker, baselines) on the"
	@echo "               PostgreSQL of DATABASE_URL (see bench/README.md), then its table in bench/README.md"
	@echo "make lint      ruff check + ruff format --check, import-linter contracts, mypy"
	@echo "make format    ruff check --fix + ruff format"
	@echo "make clean     remove caches and compiled translations; distclean also removes $(VENV)"

venv: $(STAMP)

# Reinstall only when a requirements file is newer than the stamp.
$(STAMP): requirements.txt requirements-test.txt constraints.txt
	@if ! $(PY) -c 'import sys' >/dev/null 2>&1; then \
		if ! $(PYTHON) -c 'import ensurepip' >/dev/null 2>&1; then \
			scripts/system-packages.sh "$$($(PYTHON) -c 'import sys; print("python%d.%d-venv" % sys.version_info[:2])')"; \
		fi; \
		echo "Creating $(VENV) with $(PYTHON) ($$($(PYTHON) --version))"; \
		rm -rf $(VENV); \
		$(PYTHON) -m venv $(VENV); \
	fi
	$(PY) -m pip install --disable-pip-version-check --progress-bar off -r requirements-test.txt
	@touch $@

test: venv
	scripts/test.sh $(PYTEST_ARGS)

# ruff (style, imports at the top, no private names across packages), the import-linter
# contracts of docs/architecture.md (layers, no cycles), and mypy (strict on services, selectors, kernel).
lint: venv
	$(RUFF) check .
	$(RUFF) format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

format: venv
	$(RUFF) check --fix .
	$(RUFF) format .

# gettext (msgfmt, for compilemessages) and WeasyPrint's libraries: installed when run as
# root, else the command to run is printed. `make test` checks its own (scripts/test.sh).
demo-packages:
	@scripts/system-packages.sh demo

var-dirs:
	@mkdir -p $(VAR_DIRS)

messages: venv demo-packages
	@if [ -n "$$(find . -path ./$(VENV) -prune -o -path ./node_modules -prune -o -type d -name locale -print -quit)" ]; then \
		DEBUG=1 $(PY) manage.py compilemessages --ignore=$(VENV) --verbosity 0; \
	fi

demo: venv messages var-dirs
	DEBUG=1 $(PY) manage.py migrate
	DEBUG=1 $(PY) manage.py seed_demo
	@echo "Starting web (http://127.0.0.1:8000/), two Celery workers, beat and the Stripe sandbox (http://127.0.0.1:12111/); Ctrl-C stops them all."
	DEBUG=1 $(VENV)/bin/honcho start -f Procfile.dev

# Not part of `make test`: slow, and its findings are for a human to judge (scripts/scan.sh).
.PHONY: scan
scan: venv
	scripts/scan.sh

# Not part of `make test`: needs a database filled by `bench/bigdata.py` (manage.py seed_scale).
.PHONY: bench
bench: venv
	bench/run_all.sh

# The software bill of materials: every installed package with its version, licence and hashes,
# as CycloneDX JSON in var/sbom.cdx.json (the vendored browser files are listed in static/README.md).
.PHONY: sbom constraints
sbom: venv
	@mkdir -p var
	$(VENV)/bin/cyclonedx-py environment --pyproject pyproject.toml --output-reproducible --output-file var/sbom.cdx.json $(VENV)
	@echo "SBOM written to var/sbom.cdx.json"

# Re-pin the whole dependency tree after a change to requirements*.txt (see constraints.txt).
constraints: venv
	@{ sed -n '/^#/p' constraints.txt; $(PY) -m pip freeze --exclude-editable; } > constraints.txt.new
	mv constraints.txt.new constraints.txt

clean:
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -print0 | xargs -0r rm -rf
	find . -path ./$(VENV) -prune -o -type f -path '*/locale/*' -name '*.mo' -print0 | xargs -0r rm -f
	rm -rf .pytest_cache .ruff_cache test-results

distclean: clean
	rm -rf $(VENV)
