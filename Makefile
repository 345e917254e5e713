# The README's two commands are `make run` and `make test`. Everything else here serves them.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000
CHROMIUM ?= /usr/bin/chromium

.PHONY: run test install install-dev services web web-deps browser lint typecheck pytest web-test e2e bench lock clean

## install everything and run the app on its embedded defaults (SQLite, ./blobs dir, scripted model)
run: install web
	$(VENV)/bin/aga-swarm serve --host $(HOST) --port $(PORT)

## install what tests need and run every test (lint, types, Python suites on SQLite + PostgreSQL, web, browser)
test: install-dev services web browser lint typecheck pytest web-test e2e

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

install: $(VENV)/bin/activate
	$(PIP) install -q -r requirements.lock
	$(PIP) install -q --no-deps -e .

install-dev: install

## emulators the Python tests start (Azurite for the Azure blob store), pinned in tests/services/package-lock.json
SERVICES_STAMP := tests/services/node_modules/.installed
services: $(SERVICES_STAMP)

$(SERVICES_STAMP): tests/services/package-lock.json
	cd tests/services && npm ci --no-audit --no-fund
	touch $@

web-deps:
	cd web && npm ci --no-audit --no-fund

web: web-deps
	cd web && npm run build

browser:
	@test -x $(CHROMIUM) || (command -v apt-get >/dev/null && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)) || true
	@test -x $(CHROMIUM) || (echo "Chromium is missing at $(CHROMIUM): browser tests cannot run" >&2; exit 1)

lint:
	$(VENV)/bin/ruff check src tests bench

typecheck:
	$(VENV)/bin/mypy

pytest:
	$(VENV)/bin/pytest -q -p no:cacheprovider

web-test:
	cd web && npm run lint && npm run check:types && npm test

e2e:
	cd web && AGA_CHROMIUM=$(CHROMIUM) AGA_SWARM_BIN=$(CURDIR)/$(VENV)/bin/aga-swarm npm run e2e

## benchmarks (figures go to bench/RESULTS.md by hand, with date and machine)
bench: install
	$(PY) bench/bench_engine.py
	$(PY) bench/bench_agents.py

## refresh the pinned Python dependency set after changing pyproject.toml
lock: $(VENV)/bin/activate
	$(PIP) install -q -e '.[server,postgres,dev,bench]'
	$(PIP) freeze --exclude-editable | grep -v '^aga-swarm' > requirements.lock

clean:
	rm -rf $(VENV) web/node_modules tests/services/node_modules src/aga_swarm/server/static test-artifacts
