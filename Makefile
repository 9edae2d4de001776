# mcp-gate developer commands. On a fresh machine `make run` needs Python 3.11+ (it
# installs the gate and its `demo` extra only); `make test` also needs Node 20+ and npm,
# installs the `dev` extra, and installs redis-server, redis-sentinel, nginx, chromium and wrk with
# apt-get when they are missing (scripts/install-test-system-packages.sh).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# One stamp per extra: `demo` (the gate and the demo's stdio server) for `make run`, `dev`
# (tests, linters, benchmark tools; includes `demo`) for everything else.
DEMO_STAMP := $(VENV)/.installed-demo
STAMP := $(VENV)/.installed-dev
NODE_SERVERS := tests/servers/node_modules/.package-lock.json
NODE_OIDC := tests/servers/oidc/node_modules/.package-lock.json
CONFIG ?=

.PHONY: run test lint format bench screenshots clean system-packages

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-%: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[$*]'
	touch $@

$(NODE_SERVERS): tests/servers/package-lock.json
	npm ci --prefix tests/servers --no-audit --no-fund --loglevel=error

$(NODE_OIDC): tests/servers/oidc/package-lock.json
	npm ci --prefix tests/servers/oidc --no-audit --no-fund --loglevel=error

## run: the gate on its embedded demo config (or CONFIG=gate.yaml) at http://127.0.0.1:8080
run: $(DEMO_STAMP)
	$(BIN)/mcp-gate serve $(if $(CONFIG),--config $(CONFIG))

system-packages:
	scripts/install-test-system-packages.sh

## test: install what the tests need, then run them all
test: system-packages $(STAMP) $(NODE_SERVERS) $(NODE_OIDC)
	$(BIN)/pytest -q -p no:cacheprovider

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## bench: overhead of the gate against direct calls (writes bench/results/)
bench: system-packages $(STAMP) $(NODE_SERVERS) $(NODE_OIDC)
	$(BIN)/python -m bench

## screenshots: the home page in Chromium, signed out and in, for the README (docs/images/)
screenshots: system-packages $(STAMP)
	$(BIN)/python scripts/home_screenshots.py

clean:
	rm -rf $(VENV) tests/servers/node_modules tests/servers/oidc/node_modules .pytest_cache
