# Every target creates what it needs itself; a fresh clone needs only make and a python3.13 (the Lambda runtime's
# minor version, so tests run on what ships). Found on PATH or under pyenv; override with `make PYTHON=/path/to/python3.13`.
PY_MINOR := 3.13
comma    := ,
ifndef PYTHON
PYTHON := $(firstword $(foreach p,python$(PY_MINOR) $(wildcard $(HOME)/.pyenv/versions/$(PY_MINOR)*/bin/python$(PY_MINOR)) \
	/usr/local/bin/python$(PY_MINOR) /usr/bin/python$(PY_MINOR),$(shell $(p) -c 'import sys; \
	print(sys.executable) if sys.version_info[:2] == ($(subst .,$(comma),$(PY_MINOR))) else None' 2>/dev/null)))
endif
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(PY_MINOR)
LOCK   := requirements.lock
# aws-sam-cli lives in its own venv: it pins its own boto3/flask/pydantic ranges, which must not drag the dev
# venv (moto, the translator, the runtime deps under test) away from the lock.
SAM_VENV ?= .venv-sam
SAM      := $(SAM_VENV)/bin/sam
SAM_CLI_VERSION := 1.170.0
LAYER_REQS := layers/core/python/requirements.txt
export AWS_DEFAULT_REGION ?= us-east-1
export SAM_CLI_TELEMETRY ?= 0

# Test tiers are directories (tests/unit, tests/integration, tests/e2e, tests/infrastructure); `slow` marks the
# long proofs (the 1,000 x 5 chaos run, sam build of the artifacts) that CI runs after `make test`.
XDIST := -n auto --dist worksteal

.PHONY: demo test test-slow lint typecheck pytest unit integration e2e infrastructure bench build lock \
	layer-requirements openapi clean python browser

python:
	@test -n "$(PYTHON)" || { echo "python$(PY_MINOR) not found (PATH, ~/.pyenv/versions/$(PY_MINOR)*). Install it," \
		"e.g. 'pyenv install $(PY_MINOR)', or run make PYTHON=/path/to/python$(PY_MINOR)" >&2; exit 1; }

# A venv made by another Python minor is replaced, not reused; one of the right minor is updated in place.
$(STAMP): pyproject.toml $(LOCK) | python
	$(BIN)/python -c 'import sys; sys.exit(sys.version_info[:2] != ($(subst .,$(comma),$(PY_MINOR))))' 2>/dev/null \
		|| { rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c $(LOCK) -e '.[dev]'
	touch $(STAMP)

# The one lock of what is installed: every package of `.[dev]` at one version. After a merge adds a dependency to
# pyproject.toml, regenerate it with `make lock` (fresh resolve in a scratch venv), then `make layer-requirements`.
lock: | python
	rm -rf .venv-lock
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install -q --upgrade pip
	.venv-lock/bin/python -m pip install -q -e '.[dev]'
	{ echo "# make lock: every package .[dev] installs, python$(PY_MINOR). Do not edit; regenerate."; \
	  .venv-lock/bin/python -m pip freeze --exclude-editable | sort -f; } > $(LOCK)
	rm -rf .venv-lock

# The layer's requirements: pyproject's runtime dependencies and what they pull in, at the lock's versions.
layer-requirements: $(STAMP)
	$(BIN)/python tools/layer_requirements.py > $(LAYER_REQS)

demo: $(STAMP)
	$(BIN)/ledgerbridge demo

test: lint typecheck browser pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy layers/core/python sandbox
	for f in functions/*/; do $(BIN)/mypy $$f/app.py || exit 1; done

# Every tier but `slow`, on every core; the 15 slowest tests are listed so a new slow one is seen.
pytest: $(STAMP)
	$(BIN)/pytest $(XDIST) -m 'not slow' --durations=15

# One tier: `make unit`, `make integration`, `make e2e`, `make infrastructure`.
unit integration e2e infrastructure: $(STAMP)
	$(BIN)/pytest $(XDIST) -m 'not slow' tests/$@

# CI only (.ci/run): the long proofs.
test-slow: $(STAMP) $(SAM)
	SAM_CLI=$(abspath $(SAM)) $(BIN)/pytest $(XDIST) -m slow --durations=15
# The console's browser tests drive Debian's chromium through chromium-driver (apt, as root or with sudo).
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium chromium-driver; }


bench: $(STAMP)
	$(BIN)/python -m bench

openapi: $(STAMP)
	$(BIN)/python -m sandbox.openapi

$(SAM): | python
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install -q aws-sam-cli==$(SAM_CLI_VERSION)

# No Docker: SAM builds with this python$(PY_MINOR); the layer is built by layers/core/Makefile (see there).
build: $(SAM)
	PATH="$(dir $(PYTHON)):$$PATH" $(SAM) build

clean:
	rm -rf $(VENV) $(SAM_VENV) .venv-lock .aws-sam .mypy_cache .ruff_cache
