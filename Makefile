# 装修客户管家 — two commands: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi

.PHONY: run test lint format install migrate seed worker scheduler fake-wechat clean browser

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.testing: requirements.txt requirements-test.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-test.txt
	touch $@ $(VENV)/.runtime

install: $(VENV)/.runtime

## run: venv, install, migrate the SQLite default, demo data, serve on http://127.0.0.1:5000
run: install
	$(FLASK) db upgrade
	$(FLASK) seed demo
	$(FLASK) run --host 127.0.0.1 --port 5000

## browser: Debian's Chromium and CJK fonts for the console's browser tests (apt-get, when missing)
browser:
	@command -v chromium >/dev/null 2>&1 && dpkg -s fonts-noto-cjk >/dev/null 2>&1 || \
	  { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-noto-cjk; }

## test: ruff, then pytest on SQLite and again on PostgreSQL (with the real Redis)
test: $(VENV)/.testing lint browser
	TEST_DB=sqlite $(BIN)/pytest
	TEST_DB=postgres $(BIN)/pytest

## lint: ruff, and the import-linter contracts of pyproject.toml (layers, no circles)
lint: $(VENV)/.testing
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(VENV)/.testing
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

migrate: install
	$(FLASK) db upgrade

worker: install
	$(FLASK) worker

scheduler: install
	$(FLASK) scheduler

fake-wechat: $(VENV)/.testing
	$(BIN)/python -m tests.fakewechat --port 8099

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
