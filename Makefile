# Two commands on a fresh machine: `make demo` and `make test`. Both build .venv from the machine's python3.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean browser-deps

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is required, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/auditor demo --out output

test: $(STAMP) browser-deps
	$(BIN)/python -m pytest -q

# tests/test_report_browser.py drives Debian's chromium with chromium-driver. Installed here when missing and
# possible (root with apt-get; AUDITOR_NO_BROWSER_INSTALL=1 opts out); otherwise those tests skip and say why.
APT_BROWSER = DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver
browser-deps:
	@if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then :; \
	elif [ -n "$$AUDITOR_NO_BROWSER_INSTALL" ]; then echo "note: browser tests skipped (AUDITOR_NO_BROWSER_INSTALL)" >&2; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing chromium and chromium-driver for the browser tests (apt-get)" >&2; \
	  { $(APT_BROWSER) >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 && $(APT_BROWSER) >/dev/null 2>&1; }; } \
	  || echo "warning: could not install chromium and chromium-driver: the browser tests will be skipped" >&2; \
	else echo "note: chromium and chromium-driver are missing and cannot be installed here (needs root and apt-get): the browser tests will be skipped" >&2; fi

lint: $(STAMP)
	$(BIN)/ruff check auditor tests bench scripts
	$(BIN)/ruff format --check auditor tests bench scripts
	$(BIN)/mypy

# Benchmarks print ratios measured side by side; they are not tests. bench/scan.py alone takes ~20 minutes.
bench: $(STAMP)
	$(BIN)/python bench/evaluate.py
	$(BIN)/python bench/report.py
	$(BIN)/python bench/trend.py
	$(BIN)/python bench/scan.py

clean:
	rm -rf $(VENV) output/*.pdf output/*.html output/*.csv output/*.json output/*.duckdb output/emulator
