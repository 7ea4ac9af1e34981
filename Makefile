# Two commands on a fresh machine: `make demo` and `make test`. Both build .venv from the machine's python3.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean test-tools screenshots

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is required, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/auditor demo --out output

test: $(STAMP) test-tools
	$(BIN)/python -m pytest -q

# Debian tools some tests drive: chromium with chromium-driver (tests/test_report_browser.py) and qpdf (the PDF's
# structure, tests/test_pdf_evidence.py). Installed here when missing and possible (root with apt-get;
# AUDITOR_NO_TEST_TOOLS_INSTALL=1 opts out); otherwise those tests skip and say why.
TEST_TOOLS = chromium chromium-driver qpdf
APT_TEST_TOOLS = DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(TEST_TOOLS)
test-tools:
	@if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 && command -v qpdf >/dev/null 2>&1; then :; \
	elif [ -n "$$AUDITOR_NO_TEST_TOOLS_INSTALL" ]; then echo "note: not installing $(TEST_TOOLS) (AUDITOR_NO_TEST_TOOLS_INSTALL): tests that need them skip" >&2; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing $(TEST_TOOLS) for the browser and PDF tests (apt-get)" >&2; \
	  { $(APT_TEST_TOOLS) >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 && $(APT_TEST_TOOLS) >/dev/null 2>&1; }; } \
	  || echo "warning: could not install $(TEST_TOOLS): the tests that need them will be skipped" >&2; \
	else echo "note: $(TEST_TOOLS) are missing and cannot be installed here (needs root and apt-get): the tests that need them will be skipped" >&2; fi

# The README's pictures, rendered from the current demo's report.pdf and period-report.pdf (needs pdftoppm).
screenshots: $(STAMP)
	$(BIN)/python scripts/render_pages.py

lint: $(STAMP)
	$(BIN)/ruff check auditor tests bench scripts
	$(BIN)/ruff format --check auditor tests bench scripts
	$(BIN)/mypy
	$(BIN)/deptry .

# Benchmarks print ratios measured side by side; they are not tests. bench/scan.py alone takes ~20 minutes.
bench: $(STAMP)
	$(BIN)/python bench/evaluate.py
	$(BIN)/python bench/report.py
	$(BIN)/python bench/trend.py
	$(BIN)/python bench/incluster.py
	$(BIN)/python bench/period.py
	$(BIN)/python bench/waivers.py
	$(BIN)/python bench/scan.py

clean:
	rm -rf $(VENV) output/*.pdf output/*.html output/*.csv output/*.json output/*.duckdb output/emulator
