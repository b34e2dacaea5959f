# Every target creates .venv itself, so a fresh clone needs only python3 (3.11+) and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
export AWS_DEFAULT_REGION ?= us-east-1

.PHONY: demo test lint typecheck unit bench build openapi clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/ledgerbridge demo

test: lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy layers/core/python sandbox
	for f in functions/*/; do $(BIN)/mypy $$f/app.py || exit 1; done

unit: $(STAMP)
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python -m bench

openapi: $(STAMP)
	$(BIN)/python -m sandbox.openapi

build:
	sam build

clean:
	rm -rf $(VENV) .aws-sam .mypy_cache .ruff_cache
