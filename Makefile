# footy: one entry point for setting up, testing and running the pipeline.
SHELL := /bin/bash
PY := .venv/bin/python
PIP := .venv/bin/pip

.PHONY: help setup system-packages venv ferretdb test lint run run-distributed services stop \
	airflow status

help:
	@echo "make run      run the pipeline on its embedded default (FerretDB + stand-in APIs + Airflow)"
	@echo "make run-distributed   the same on Celery workers, PostgreSQL and Redis"
	@echo "make test     install what is missing, start what the tests need, run the test suite"
	@echo "make setup    install system packages, the Python environment and FerretDB"
	@echo "make services / make stop / make status   local services (scripts/service)"
	@echo "make lint     ruff"

setup: system-packages venv ferretdb

system-packages:
	@bash scripts/install-system-packages.sh

venv: .venv/.installed

.venv/.installed: requirements.txt requirements-dev.txt constraints.txt pyproject.toml
	@test -x $(PY) || python3.11 -m venv .venv || python3 -m venv .venv
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements-dev.txt -c constraints.txt
	$(PIP) install --quiet --no-deps -e .
	@touch $@

ferretdb:
	@bash scripts/install-ferretdb.sh

# Two workers: the end-to-end run mostly waits on its match day's clock, so the rest of the
# suite runs beside it (tests/conftest.py keeps tests that share state on one worker).
test: setup
	$(PY) -m pytest -q -ra -n 2 --dist loadgroup

lint: venv
	.venv/bin/ruff check dags plugins include tests benchmarks

run: setup
	@.venv/bin/python scripts/run_demo.py

# Two Celery workers, two triggerers, metadata on PostgreSQL, Redis as the broker.
run-distributed: setup
	@FOOTY_AIRFLOW_LAYOUT=distributed .venv/bin/python scripts/run_demo.py

services: setup
	@scripts/service start ferretdb
	@scripts/service start moto

airflow: setup
	@scripts/service start ferretdb
	@scripts/service start airflow

stop:
	@scripts/service stop all

status:
	@scripts/service status all
