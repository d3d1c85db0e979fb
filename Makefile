# Commands of CONTRACT §1; the work is done by the scripts in infra/ (each explains itself at the top)
# and, for the schema, by `automation db upgrade` (DATABASE_URL's database, as its owner; tests migrate their own).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Touched after a successful install: dependencies are reinstalled only when pyproject.toml
# is newer than it (or the virtualenv is gone).
VENV_STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: help venv services services-down test up down demo bench

help:
	@echo "make demo | test | services | services-down | up | down | bench | venv"

venv: $(VENV_STAMP)

# shared/events is also installed as the automation-events package (import name
# automation_events), which the example publisher uses like any outside consumer.
$(VENV_STAMP): pyproject.toml shared/events/pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]' -e ./shared/events
	touch $@

services: venv
	bash infra/postgres.sh up
	bash infra/kafka.sh up
	$(VENV)/bin/automation db upgrade

services-down:
	bash infra/kafka.sh down
	bash infra/postgres.sh down

test: venv services
	bash infra/browser.sh up
	$(VENV)/bin/lint-imports
	$(PY) -m pytest $(PYTEST_ARGS)

up: venv services
	bash infra/app.sh up

down:
	bash infra/app.sh down

demo: venv
	$(VENV)/bin/automation demo

bench: venv services
	@if [ -f benchmarks/__init__.py ] || [ -f benchmarks/__main__.py ]; then \
	  $(PY) -m benchmarks; \
	else \
	  echo "No benchmarks written yet (no benchmarks/ package)."; \
	fi
