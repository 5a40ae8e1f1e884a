# Two commands on a fresh machine with Python >= 3.11 and make:
#   make run    set up .venv and run the default comparison
#   make test   set up .venv and run the tests
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)
PIP := $(BIN)/python -m pip --disable-pip-version-check --quiet

.PHONY: run test bench validate calibrate setup clean chromium

setup: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -r requirements.lock
	$(PIP) install --no-deps --no-build-isolation -e .
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/ontschot run
	$(BIN)/ontschot report outputs --latest

# Headless Chromium for the browser tests (Debian's package; Playwright drives it, its own download cannot work here).
chromium:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium; } \
		|| echo "chromium could not be installed: the browser tests will be skipped"

test: $(STAMP) chromium
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_model_year.py
	$(BIN)/python benchmarks/bench_sweep.py

validate: $(STAMP)
	$(BIN)/ontschot validate

calibrate: $(STAMP)
	$(BIN)/python -m experiments.calibrate --write

clean:
	rm -rf $(VENV) build *.egg-info
