# Arbiter: two commands on a fresh machine with Python 3.11+ and make.
#   make demo   create .venv, install, run the main job on the embedded SQLite database
#   make test   create .venv, install dev tools, run ruff, mypy and the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip install --quiet --disable-pip-version-check

.PHONY: demo test lint typecheck validate bench bench-quick clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "Arbiter needs Python 3.11 or newer (found: $$($(PYTHON) --version))" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime: pyproject.toml | $(BIN)/python
	$(PIP) -e .
	@touch $@

$(VENV)/.dev: pyproject.toml | $(BIN)/python
	$(PIP) -e '.[dev]'
	@touch $@ $(VENV)/.runtime

# The benchmarks compare with peers that pin older numpy and pandas: their own venv.
BENCH_VENV := .venv-bench

$(BENCH_VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "Arbiter needs Python 3.11 or newer (found: $$($(PYTHON) --version))" >&2; exit 1; }
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -e '.[bench]'
	@touch $@

demo: $(VENV)/.runtime
	$(BIN)/arbiter demo

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.dev
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/pytest

validate: $(VENV)/.runtime
	$(BIN)/python -m stats.validate

bench: $(BENCH_VENV)/.installed
	$(BENCH_VENV)/bin/python -m bench

bench-quick: $(BENCH_VENV)/.installed
	$(BENCH_VENV)/bin/python -m bench --quick

clean:
	rm -rf $(VENV) $(BENCH_VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
