# Two commands matter on a fresh clone: `make run` and `make test`.
# Both create .venv and install what they need the first time.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run demo test fuzz soak lint typecheck check messages clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev,bench]"
	touch $(STAMP)

## Start helpwire on SQLite (./helpwire.db) at http://127.0.0.1:8000
run: $(STAMP)
	$(BIN)/helpwire serve --host 127.0.0.1 --port 8000

## Fill ./helpwire.db with a demo helpdesk (then `make run` and sign in as it says)
demo: $(STAMP)
	$(BIN)/helpwire demo

## Run the whole test suite (SQLite always; PostgreSQL when reachable)
test: $(STAMP)
	$(BIN)/pytest -n auto

## Fuzz the API and the F5 face at length: HELPWIRE_FUZZ_EXAMPLES examples per operation
## (default 100; the suite runs 20), new ones each run, on SQLite and PostgreSQL
fuzz: $(STAMP)
	HELPWIRE_FUZZ_EXAMPLES=$${HELPWIRE_FUZZ_EXAMPLES:-100} $(BIN)/pytest -p no:randomly -q -s tests/fuzz

## The crash test at length: 20 SIGKILLs per run (HELPWIRE_SOAK_KILLS=N for more); figures
## printed and written to .pytest_cache/helpwire-crash-report.json (or HELPWIRE_SOAK_REPORT)
soak: $(STAMP)
	HELPWIRE_SOAK_KILLS=$${HELPWIRE_SOAK_KILLS:-20} $(BIN)/pytest -p no:randomly -s -q \
		tests/reliability/test_crash.py

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

## mypy: strict on src/; the tests are type-checked too, with untyped test functions allowed
typecheck: $(STAMP)
	$(BIN)/mypy
	$(BIN)/mypy --config-file tests/mypy.ini tests

## What CI checks besides the tests: lint, format and types
check: lint typecheck

## The web UI's text: extract what is marked for translation and bring each catalogue up
## to date (then translate the new entries of src/helpwire/web/locale/*/LC_MESSAGES/*.po)
messages: $(STAMP)
	mkdir -p build
	$(BIN)/pybabel extract -F babel.cfg -k translate:2 --no-location --sort-output \
		--project helpwire --copyright-holder "helpwire contributors" -o build/messages.pot .
	$(BIN)/pybabel update -i build/messages.pot -d src/helpwire/web/locale \
		--no-fuzzy-matching --ignore-obsolete

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
