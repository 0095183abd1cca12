# Folio — every target installs what it needs (uv from PyPI if missing, then `uv sync`).
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
PYTEST_ARGS ?=
# Tests run in parallel on this many workers (each with its own embedded PostgreSQL); 0 runs them in one process.
PYTEST_WORKERS ?= 2

.PHONY: setup run tour test lint bench clean-db

setup:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || \
		{ echo "Installing uv (from PyPI) ..."; python3 -m pip install --quiet uv; }
	@[ -d .venv ] || echo "Creating .venv with the locked Python dependencies (the first time takes a minute) ..."
	@$(UV) sync --all-packages --locked --quiet
	@scripts/setup_interop.sh

run: setup
	@$(UV) run --no-sync folio chat

# The profile server answering through a real MCP session, no language model needed.
tour: setup
	@$(UV) run --no-sync python scripts/tour.py

test: setup
	@scripts/setup_browser.sh
	$(UV) run --no-sync pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

lint: setup
	$(UV) run --no-sync ruff check .
	$(UV) run --no-sync ruff format --check .
	$(UV) run --no-sync mypy

bench: setup
	$(UV) run --no-sync python tests/bench/run.py

# Stop the embedded PostgreSQL of the default data directory, whoever holds it.
clean-db: setup
	$(UV) run --no-sync python -c "from folio_core.settings import FolioSettings; from folio_core.db import embedded_postgres; embedded_postgres(FolioSettings().data_dir).stop()"
