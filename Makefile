# The README's two commands are `make run` and `make test`. Everything else here serves them.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000
CHROMIUM ?= /usr/bin/chromium
NPM ?= npm

# Installs and builds are files with real prerequisites, so a second `make run` starts at once: the venv is
# reinstalled only when requirements.lock or pyproject.toml changed (the package itself is editable), npm ci
# runs only when web/package*.json changed, and the web app is rebuilt only when its sources changed.
INSTALLED := $(VENV)/.installed
WEB_DEPS := web/node_modules/.installed
WEB_BUILD := src/aga_swarm/server/static/index.html
WEB_SOURCES := $(shell find web/src web/public -type f 2>/dev/null) web/index.html web/vite.config.ts \
	web/tsconfig.json web/tsconfig.node.json web/package.json web/package-lock.json

.PHONY: run test install install-dev services mcp-servers web web-deps port-free browser lint typecheck pytest web-test e2e bench lock clean

## install everything and run the app on its embedded defaults (SQLite, ./blobs dir, scripted model)
run: port-free install web
	$(VENV)/bin/aga-swarm serve --host $(HOST) --port $(PORT)

# before any install or build: a busy port is one clear line, not a failure after a minute of building
define CHECK_PORT
import errno, socket, sys
host, port = sys.argv[1], int(sys.argv[2])
family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
with socket.socket(family, socket.SOCK_STREAM) as probe:
    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        probe.bind(address)
    except OSError as exc:
        busy = exc.errno == errno.EADDRINUSE
        sys.exit(f"error: port {port} on {host} is already in use; stop the other server or run make run PORT=..."
                 if busy else f"error: cannot serve on {host}:{port}: {exc.strerror}")
endef
export CHECK_PORT

port-free:
	@$(PYTHON) -c "$$CHECK_PORT" $(HOST) $(PORT)

## install what tests need and run every test (lint, types, Python suites on SQLite + PostgreSQL, web, browser)
test: install-dev services mcp-servers web browser lint typecheck pytest web-test e2e

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

install: $(INSTALLED)

$(INSTALLED): $(VENV)/bin/activate requirements.lock pyproject.toml
	$(PIP) install -q -r requirements.lock
	$(PIP) install -q --no-deps -e .
	@touch $@

## the tests also need the example plugin of docs/custom-actions.md (tests/test_docs_example.py)
install-dev: $(VENV)/.installed-dev

$(VENV)/.installed-dev: $(INSTALLED) examples/weather/pyproject.toml
	$(PIP) install -q --no-deps -e examples/weather
	@touch $@

## emulators the Python tests start (Azurite for the Azure blob store), pinned in tests/services/package-lock.json
SERVICES_STAMP := tests/services/node_modules/.installed
services: $(SERVICES_STAMP)

$(SERVICES_STAMP): tests/services/package-lock.json
	cd tests/services && $(NPM) ci --no-audit --no-fund
	touch $@

## real MCP servers the tests start over stdio (server-filesystem, server-everything), pinned in tests/mcp/package-lock.json
MCP_STAMP := tests/mcp/node_modules/.installed
mcp-servers: $(MCP_STAMP)

$(MCP_STAMP): tests/mcp/package-lock.json
	cd tests/mcp && $(NPM) ci --no-audit --no-fund
	touch $@

web-deps: $(WEB_DEPS)

$(WEB_DEPS): web/package.json web/package-lock.json
	cd web && $(NPM) ci --no-audit --no-fund
	@touch $@

web: $(WEB_BUILD)

$(WEB_BUILD): $(WEB_DEPS) $(WEB_SOURCES)
	cd web && $(NPM) run build
	@touch $@

browser:
	@test -x $(CHROMIUM) || (command -v apt-get >/dev/null && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)) || true
	@test -x $(CHROMIUM) || (echo "Chromium is missing at $(CHROMIUM): browser tests cannot run" >&2; exit 1)

lint:
	$(VENV)/bin/ruff check src tests bench examples
	$(VENV)/bin/lint-imports --no-cache

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
	$(PIP) install -q -e '.[server,postgres,mcp,dev,bench]'
	$(PIP) freeze --exclude-editable | grep -v '^aga-swarm' > requirements.lock

clean:
	rm -rf $(VENV) web/node_modules tests/services/node_modules tests/mcp/node_modules src/aga_swarm/server/static test-artifacts
