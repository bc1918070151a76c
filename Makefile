# 装修客户管家 — two commands: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi

.PHONY: run test lint format install migrate seed worker scheduler fake-wechat clean fonts browser

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.testing: requirements.txt requirements-test.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-test.txt
	touch $@ $(VENV)/.runtime

install: $(VENV)/.runtime fonts

## run: venv, install, migrate the SQLite default, demo data, serve on http://127.0.0.1:5000
run: install
	$(FLASK) db upgrade
	$(FLASK) seed demo
	$(FLASK) run --host 127.0.0.1 --port 5000

## fonts, browser: Debian packages, installed with apt-get only when missing: fonts-noto-cjk
## (the CJK font trace label sheets embed, and Chinese in screenshots) and chromium (the
## console's and the scan page's browser tests drive /usr/bin/chromium through Playwright)
define apt_get
	@if [ ! -e $(1) ]; then \
	  if command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(2); \
	  else echo "!!! install the Debian package $(2) ($(1))"; exit 1; fi; \
	fi
endef
fonts:
	$(call apt_get,/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc,fonts-noto-cjk)
browser: fonts
	$(call apt_get,/usr/bin/chromium,chromium)

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
