# Two commands on a fresh machine with Python >= 3.11 and make:
#   make run    set up .venv and run the default comparison
#   make test   set up .venv (and Debian's Chromium for the browser tests) and run the tests
#   make page   set up .venv and serve the workshop page on http://127.0.0.1:8765
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)
PIP := $(BIN)/python -m pip --disable-pip-version-check --quiet

.PHONY: run test bench validate calibrate cases setup browser page clean

setup: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -r requirements.lock
	$(PIP) install --no-deps --no-build-isolation -e .
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/ontschot run --report --ensemble

# The report's and the page's browser tests drive Debian's Chromium through Playwright (Playwright's own browser
# download cannot work on the project's machines); install it when it is missing.
browser:
	@if [ -x /usr/lib/chromium/chromium ] || [ -n "$$CHROMIUM_PATH" ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	elif command -v sudo >/dev/null; then sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else echo "Debian's chromium package is needed for the browser tests: apt-get install chromium" >&2; exit 1; fi

test: $(STAMP) browser
	$(BIN)/python -m pytest

page: $(STAMP)
	$(BIN)/ontschot page

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_model_year.py
	$(BIN)/python benchmarks/bench_sweep.py
	$(BIN)/python benchmarks/bench_run.py
	$(BIN)/python benchmarks/bench_ensemble.py
	$(BIN)/python benchmarks/bench_page.py

validate: $(STAMP)
	$(BIN)/ontschot validate

# The calibration's ensemble (history matching), installed for run --ensemble; the single best point into the
# parameter file is `$(BIN)/python -m experiments.calibrate --write`.
calibrate: $(STAMP)
	$(BIN)/ontschot calibrate --write

# The source documents' cases: one row per claim, reproduced or not; docs/cases.md is written from the results.
cases: $(STAMP)
	$(BIN)/ontschot cases --doc docs/cases.md

clean:
	rm -rf $(VENV) build *.egg-info
