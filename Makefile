# Two commands on a fresh machine with Python 3.11+ and make:
#   make run   set up, migrate, load demo data, serve on http://127.0.0.1:8000 (SQLite)
#   make test  set up and run the whole suite (ruff, mypy, pytest)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DB_FILE ?= callvault.db
export CALLVAULT_DATABASE_URL ?= sqlite:///$(abspath $(DB_FILE))

.PHONY: run test lint typecheck pytest setup clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(BIN)/callvault db upgrade
	$(BIN)/callvault demo --days 14 --if-empty --save .demo-login.json
	$(BIN)/callvault serve --host 127.0.0.1 --port 8000

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest

test: lint typecheck pytest

clean:
	rm -rf $(VENV) $(DB_FILE) $(DB_FILE)-wal $(DB_FILE)-shm
