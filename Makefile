# Two commands on a fresh machine with Python >= 3.11 and make:
#   make run    set up .venv and run the default comparison
#   make test   set up .venv and run the tests
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)
PIP := $(BIN)/python -m pip --disable-pip-version-check --quiet

.PHONY: run test bench validate calibrate setup clean

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

test: $(STAMP)
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
