"""The HTML report in a real headless Chromium (Debian's chromium and chromium-driver, driven by Selenium): the
page runs under its own Content-Security-Policy without a console error, and the findings table filters,
sorts and pages. `make test` installs the two packages with apt-get where it can; elsewhere this is skipped."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from auditor.paths import templates_dir
from tests.evidence import cluster, pool, store_scan
from tests.library import write_reports

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="needs Debian's chromium and chromium-driver (make test installs them with apt-get when run as root "
    "with apt; install them by hand elsewhere)",
)
OLD_IMAGE = "AKSUbuntu-2204gen2containerd-202607.01.0"
_PAGE = re.search(r"var PAGE = (\d+);", (templates_dir() / "report.js").read_text(encoding="utf-8"))
assert _PAGE is not None
PAGE_ROWS = int(_PAGE.group(1))  # rows per page of the findings table, as the script has it


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("browser")
    db = work / "a.duckdb"
    fleet = [
        cluster(
            f"web-{i:02d}",
            rg=f"rg-{i % 4}",
            version=["1.33.2", "1.28.5"][i % 3 == 0],
            channel=[None, "stable"][i % 2],
            tags={"env": "prod" if i % 2 else "dev"},
            pools=[pool("system"), pool("user", mode="User", image=OLD_IMAGE)],
        )
        for i in range(24)
    ]
    store_scan(db, fleet)
    out = work / "out"
    write_reports(db, "latest", None, ["html", "json"], out)
    findings = json.loads((out / "findings.json").read_text())
    assert len(findings) > 2 * PAGE_ROWS  # three pages at least, so paging shows
    return {"html": out / "report.html", "findings": findings, "work": work}


@pytest.fixture(scope="module")
def browser(report: dict[str, Any]) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    # Root, no display, a closed network: no sandbox, no GPU, nothing that phones home, a fresh profile.
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={report['work'] / 'profile'}",
        "--window-size=1400,1000",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    try:
        driver.get(report["html"].as_uri())
        yield driver
    finally:
        driver.quit()


def _rows(driver: Any) -> list[dict[str, str]]:
    script = """
      return Array.from(document.querySelectorAll('#all tbody tr')).map(function (tr) {
        var c = tr.cells;
        return {control: c[0].textContent, status: c[1].textContent, severity: c[2].textContent,
                cluster: c[4].firstChild && c[4].firstChild.nodeType === 3 ? c[4].firstChild.nodeValue : '',
                pool: c[5].textContent};
      });"""
    return list(driver.execute_script(script))


def _text(driver: Any, css: str) -> str:
    return str(driver.find_element("css selector", css).text)


def _reset_to(driver: Any, path: Path) -> None:
    driver.get(path.as_uri())


def test_no_console_error_under_the_reports_csp(browser: Any, report: dict[str, Any]) -> None:
    _reset_to(browser, report["html"])
    entries = browser.get_log("browser")
    errors = [e for e in entries if e["level"] in ("SEVERE", "ERROR")]
    assert errors == [], errors
    csp = browser.execute_script(
        "return document.querySelector('meta[http-equiv=\"Content-Security-Policy\"]').content"
    )
    assert "default-src 'none'" in csp and "script-src 'sha256-" in csp
    # The log is live: an error raised now would have been seen above.
    browser.execute_script("console.error('probe from the test')")
    assert any("probe from the test" in e["message"] for e in browser.get_log("browser"))


def test_the_script_ran_and_draws_the_first_page(browser: Any, report: dict[str, Any]) -> None:
    _reset_to(browser, report["html"])
    total = len(report["findings"])
    rows = _rows(browser)
    assert len(rows) == PAGE_ROWS
    assert _text(browser, "#shown") == f"{total:,} of {total:,} findings"
    assert rows[0]["status"] == "fail"  # failures first


def test_an_inline_script_not_allowed_by_the_csp_does_not_run(browser: Any, report: dict[str, Any]) -> None:
    hostile = report["work"] / "hostile.html"
    page = report["html"].read_text(encoding="utf-8")
    hostile.write_text(page.replace("</body>", "<script>document.title = 'pwned';</script></body>"), encoding="utf-8")
    browser.get(hostile.as_uri())
    assert browser.title != "pwned"
    messages = [e["message"] for e in browser.get_log("browser")]
    assert any("Content Security Policy" in m for m in messages), messages
    _reset_to(browser, report["html"])


def test_sorting_by_cluster_ascending_then_descending(browser: Any, report: dict[str, Any]) -> None:
    _reset_to(browser, report["html"])
    header = browser.find_element("css selector", '#all th[data-column="cluster"]')
    header.click()
    first = [r["cluster"] for r in _rows(browser)]
    assert header.get_attribute("aria-sort") == "ascending"
    everything = sorted({f["cluster"] for f in report["findings"]}, key=lambda v: (v.lower(), v))
    assert first == sorted(first, key=lambda v: (v.lower(), v)) and first[0] == everything[0]
    header.click()
    second = [r["cluster"] for r in _rows(browser)]
    assert header.get_attribute("aria-sort") == "descending"
    assert second[0] == everything[-1] and second == sorted(second, key=lambda v: (v.lower(), v), reverse=True)


def test_filtering_by_status_and_by_search(browser: Any, report: dict[str, Any]) -> None:
    from selenium.webdriver.support.ui import Select, WebDriverWait

    _reset_to(browser, report["html"])
    failing = [f for f in report["findings"] if f["status"] == "fail"]
    Select(browser.find_element("css selector", 'select[data-column="status"]')).select_by_visible_text("fail")
    rows = _rows(browser)
    assert rows and {r["status"] for r in rows} == {"fail"}
    assert _text(browser, "#shown").startswith(f"{len(failing):,} of ")
    Select(browser.find_element("css selector", 'select[data-column="status"]')).select_by_visible_text("all")
    search = browser.find_element("css selector", "#filter")
    search.send_keys("web-07")
    expected = sum(1 for f in report["findings"] if f["cluster"] == "web-07")
    WebDriverWait(browser, 5).until(lambda d: _text(d, "#shown").startswith(f"{expected:,} of "))
    assert {r["cluster"] for r in _rows(browser)} == {"web-07"}


def test_paging_forward_and_back(browser: Any, report: dict[str, Any]) -> None:
    _reset_to(browser, report["html"])
    total = len(report["findings"])
    pages = -(-total // PAGE_ROWS)
    prev = browser.find_element("css selector", "#pager .prev")
    following = browser.find_element("css selector", "#pager .next")
    assert _text(browser, "#pager .page") == f"page 1 of {pages}" and not prev.is_enabled()
    first = _rows(browser)
    following.click()
    assert _text(browser, "#pager .page") == f"page 2 of {pages}" and prev.is_enabled()
    assert _rows(browser) != first
    for _ in range(pages):
        if following.is_enabled():
            following.click()
    assert _text(browser, "#pager .page") == f"page {pages} of {pages}" and not following.is_enabled()
    assert len(_rows(browser)) == total - (pages - 1) * PAGE_ROWS
    prev.click()
    assert _text(browser, "#pager .page") == f"page {pages - 1} of {pages}"


def test_status_and_severity_sort_by_seriousness(browser: Any, report: dict[str, Any]) -> None:
    from auditor.report.html import SERIOUSNESS

    # The integrator's order: missing evidence (unknown) is more serious than a warning.
    assert list(SERIOUSNESS["status"]) == ["fail", "unknown", "warn", "waived", "pass", "not_applicable"]
    assert list(SERIOUSNESS["severity"]) == ["critical", "high", "medium", "low", "info"]
    for column in ("status", "severity"):
        values = list(SERIOUSNESS[column])
        _reset_to(browser, report["html"])
        present = [v for v in values if any(f[column] == v for f in report["findings"])]
        assert len(present) >= 2
        header = browser.find_element("css selector", f'#all th[data-column="{column}"]')
        header.click()
        seen = [r[column] for r in _rows(browser)]
        # Most serious first (fail, then unknown, then warn; high before medium), not alphabetical.
        assert seen[0] == present[0]
        assert seen == sorted(seen, key=values.index)
        header.click()
        assert _rows(browser)[0][column] == present[-1]
