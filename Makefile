# dialflow: `make demo` places a simulated phone call, `make test` runs every test.
# Both install first; neither needs an API key or the internet beyond PyPI.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/dialflow call --record call.wav

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/dialflow check --strict flows.yaml

test: lint
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python -m bench.engine_bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
