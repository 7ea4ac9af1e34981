# Two commands on a fresh machine: `make demo` and `make test`. Both build .venv from the machine's python3.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is required, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/auditor demo --out output

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check auditor tests bench scripts
	$(BIN)/ruff format --check auditor tests bench scripts
	$(BIN)/mypy

# Benchmarks print ratios measured side by side; they are not tests. bench/scan.py alone takes ~20 minutes.
bench: $(STAMP)
	$(BIN)/python bench/evaluate.py
	$(BIN)/python bench/report.py
	$(BIN)/python bench/trend.py
	$(BIN)/python bench/incluster.py
	$(BIN)/python bench/scan.py

clean:
	rm -rf $(VENV) output/*.pdf output/*.html output/*.csv output/*.json output/*.duckdb output/emulator
