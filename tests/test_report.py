"""The four report formats of one scan, rendered once for the module and read back as readers would."""

from __future__ import annotations

import csv
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from pypdf import PdfReader

from auditor.controls import control_ids, evaluate_scan, findings_digest, load_catalog
from auditor.integrity import findings_digest as streamed_digest
from auditor.policy import load_policy
from auditor.report.data import canonical_records, finding_dict
from auditor.report.html import PDF_ROWS_PER_CONTROL, untrusted
from auditor.report.tabular import CONTRACT_FIELDS, neutralise_cell
from auditor.store import ErrorRow, open_db
from tests.evidence import cluster, pool, store_scan
from tests.library import write_reports

ROOT = Path(__file__).resolve().parent.parent
OLD_IMAGE = "AKSUbuntu-2204gen2containerd-202607.01.0"

POLICY = """\
organisation = "Fabrikam Audit Ltd"
classification = "Internal - audit use"

[[waivers]]
control = "AKS-VER-01"
resource = "*/managedClusters/old-0"
reason = "Vendor appliance certified on 1.28 only"
approver = "ciso@fabrikam.example"
expires = 2027-03-31

[[waivers]]
control = "AKS-CHN-01"
resource = "*/managedClusters/manual-*"
reason = "Change freeze for the migration"
approver = "cab@fabrikam.example"
expires = 2026-09-30
"""


def _fleet() -> list[dict[str, Any]]:
    clusters = []
    for i in range(70):  # more failing pools than PDF_ROWS_PER_CONTROL, so the cap shows
        clusters.append(
            cluster(
                f"app-{i:02d}",
                rg=f"rg-{i % 3}",
                version="1.33.2",
                tags={"env": "prod" if i % 2 else "dev"},
                pools=[pool("system"), pool("user1", mode="User", image=OLD_IMAGE)],
            )
        )
    clusters += [
        cluster("old-0", version="1.28.5"),
        cluster("old-1", version="1.28.5"),
        cluster("manual-0", channel=None, node_os=None),
        cluster("manual-1", channel="none"),
        cluster("blind", version="1.33.2"),
    ]
    return clusters


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("report")
    db = work / "a.duckdb"
    blind = _fleet()[-1]["id"]
    error = ErrorRow("maintenance_configurations", blind, 403, "AuthorizationFailed", "no read access")
    scan_id = store_scan(db, _fleet(), errors=[error])
    policy = work / "policy.toml"
    policy.write_text(POLICY, encoding="utf-8")
    out = work / "out"
    paths = write_reports(db, scan_id, policy, ["pdf", "html", "csv", "json"], out)
    return {
        "db": db,
        "scan_id": scan_id,
        "policy": policy,
        "out": out,
        "paths": paths,
        "pdf": PdfReader(out / "report.pdf"),
    }


@pytest.fixture(scope="module")
def pdf_text(reports: dict[str, Any]) -> list[str]:
    return [page.extract_text() for page in reports["pdf"].pages]


def test_every_format_and_the_manifest_are_written(reports: dict[str, Any]) -> None:
    names = [p.name for p in reports["paths"]]
    assert names == [
        "report.pdf",
        "report.html",
        "findings.csv",
        "findings.json",
        "report-manifest.json",
        "report.intoto.json",
    ]
    manifest = json.loads((reports["out"] / "report-manifest.json").read_text())
    assert manifest["scan"]["scan_id"] == reports["scan_id"]
    assert set(manifest["files"]) == {"report.pdf", "report.html", "findings.csv", "findings.json"}


def test_pdf_text_names_the_scan_every_control_and_the_cover_facts(
    reports: dict[str, Any], pdf_text: list[str]
) -> None:
    text = "\n".join(pdf_text)
    assert reports["scan_id"] in text
    for control in load_catalog():
        assert control.id in text
    cover = pdf_text[0]
    assert "Fabrikam Audit Ltd" in cover and "INTERNAL - AUDIT USE" in cover.upper()
    manifest = json.loads((reports["out"] / "report-manifest.json").read_text())
    assert manifest["scan"]["evidence_sha256"] in text and manifest["findings"]["sha256"] in text
    assert manifest["policy"]["sha256"] in text
    assert "partial" in cover  # one collection error


def test_pdf_page_furniture(reports: dict[str, Any], pdf_text: list[str]) -> None:
    reader = reports["pdf"]
    pages = len(reader.pages)
    # A section per control (rows capped at PDF_ROWS_PER_CONTROL) and a method appendix that prints every model and
    # control query: about 4 pages per control at most (76 pages for 18 controls when measured).
    assert 8 <= pages <= 20 + 5 * len(load_catalog())
    assert f"Page {pages} of {pages}" in pdf_text[-1]
    # Running header with the scan id and the classification on every page after the cover.
    for text in pdf_text[1:]:
        assert reports["scan_id"] in text
        assert "INTERNAL - AUDIT USE" in text.upper()
    titles = _outline_titles(reader.outline)
    for wanted in (
        "Executive summary",
        "Results by control",
        "Exceptions register",
        "Per-subscription summary",
        "Appendix A: method",
        "Appendix B: evidence integrity",
    ):
        assert wanted in titles
    assert any(t.startswith("AKS-VER-01") for t in titles)


def _outline_titles(outline: list[Any]) -> list[str]:
    titles: list[str] = []
    for item in outline:
        if isinstance(item, list):
            titles += _outline_titles(item)
        else:
            titles.append(item.title)
    return titles


def test_pdf_caps_rows_per_control_and_points_to_the_full_inventory(pdf_text: list[str]) -> None:
    text = " ".join(" ".join(pdf_text).split())
    assert f"at most {PDF_ROWS_PER_CONTROL} resources per control" in text
    assert "more resources need attention for this control" in text
    assert "findings.csv" in text


def test_pdf_exceptions_register_flags_the_expired_waiver(pdf_text: list[str]) -> None:
    page = next(t for t in pdf_text if "Exceptions register" in t and "Approver" in t)
    packed = "".join(page.split())  # table cells wrap anywhere: compare without whitespace
    assert "ciso@fabrikam.example" in packed and "cab@fabrikam.example" in packed
    assert "2026-09-30" in packed and "expired" in packed and "active" in packed
    assert "Vendorappliancecertifiedon1.28only" in packed
    assert "2026-09-30expired02" in packed  # covers nothing now; both clusters fail again
    assert "2027-03-31active10" in packed


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[str, str, str]] = []
        self.scripts: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href", "action", "data", "poster") and value:
                self.refs.append((tag, name, value))
        if tag == "script":
            self.scripts.append(dict(attrs))


def test_each_control_section_cites_its_sources(reports: dict[str, Any], pdf_text: list[str]) -> None:
    """The control's `references` (Microsoft's pages the rule rests on) are links in the HTML section and text in
    the PDF section of that control."""
    html = (reports["out"] / "report.html").read_text(encoding="utf-8")
    text = "\n".join(pdf_text).replace("\n", "")
    for control in load_catalog():
        section = html.split(f'<section class="control" id="{control.id}">', 1)[1].split("</section>", 1)[0]
        for url in control.references:
            assert f'<a href="{url}">{url}</a>' in section, (control.id, url)
            assert url in text, (control.id, url)


def test_html_is_self_contained(reports: dict[str, Any]) -> None:
    html = (reports["out"] / "report.html").read_text(encoding="utf-8")
    parser = _Refs()
    parser.feed(html)
    # Nothing is loaded from elsewhere; the only outbound links are the controls' sources, followed by a reader.
    sources = {url for control in load_catalog() for url in control.references}
    for tag, _, value in parser.refs:
        if tag == "a" and value in sources:
            continue
        assert value.startswith(("#", "data:")), f"<{tag}> refers to {value[:80]}"
    assert "<link" not in html and "@import" not in html
    assert not re.search(r"url\(\s*['\"]?https?:", html)
    # Exactly the table script (allowed by its CSP hash) and the inert data block.
    assert [s.get("type") for s in parser.scripts] == ["application/json", None]
    assert "Content-Security-Policy" in html and "script-src 'sha256-" in html


def test_html_findings_table_holds_every_finding(reports: dict[str, Any]) -> None:
    html = (reports["out"] / "report.html").read_text(encoding="utf-8")
    blob = re.search(r'<script type="application/json" id="findings-data">(.*?)</script>', html, re.S)
    assert blob
    data = json.loads(blob.group(1))
    findings = json.loads((reports["out"] / "findings.json").read_text())
    assert data["n"] == len(findings)
    width = len(data["columns"])
    assert len(data["rows"]) == width * data["n"]
    status = data["columns"].index("status")
    first = data["dicts"][status][data["rows"][status]]
    assert first == "fail"  # failures first
    from auditor.report.html import SERIOUSNESS

    for name, d in zip(data["columns"], data["dicts"], strict=True):
        # Sorted, so index order is value order: status and severity by seriousness, the rest as text.
        rank = SERIOUSNESS.get(name, {})
        assert d == sorted(d, key=lambda v: (rank.get(v, len(rank)), v.lower(), v))
    assert data["dicts"][status] == [s for s in SERIOUSNESS["status"] if s in data["dicts"][status]]
    severity = data["columns"].index("severity")
    assert data["dicts"][severity] == [s for s in SERIOUSNESS["severity"] if s in data["dicts"][severity]]


def test_json_validates_against_the_published_schema(reports: dict[str, Any]) -> None:
    schema = json.loads((ROOT / "docs" / "findings.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    findings = json.loads((reports["out"] / "findings.json").read_text())
    jsonschema.validate(findings, schema, cls=jsonschema.Draft202012Validator)
    assert list(findings[0])[:6] == list(CONTRACT_FIELDS)
    waived = [f for f in findings if f["status"] == "waived"]
    assert waived and all(f["waiver"]["approver"] == "ciso@fabrikam.example" for f in waived)
    assert any(f["node_pool"] is None for f in findings) and any(f["node_pool"] for f in findings)
    bad = [dict(findings[0], status="broken")]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema, cls=jsonschema.Draft202012Validator)


def test_csv_has_every_finding_and_the_columns_auditors_need(reports: dict[str, Any]) -> None:
    raw = (reports["out"] / "findings.csv").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(raw.decode("utf-8").splitlines()))
    findings = json.loads((reports["out"] / "findings.json").read_text())
    assert len(rows) == len(findings)
    for column in (
        "cluster",
        "node_pool",
        "subscription_name",
        "resource_group",
        "tags",
        "control_id",
        "status",
        "severity",
        "message",
        "remediation",
    ):
        assert column in rows[0]
    expired = [r for r in rows if r["waiver_state"] == "expired"]
    assert expired and all(r["status"] == "fail" and r["cluster"].startswith("manual-") for r in expired)
    assert any(r["remediation"].startswith("az aks") for r in rows if r["status"] == "fail")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\nx"),  # a line break: the cell is neutralised, its CR becomes an LF (always quoted)
        ("  =cmd", "'  =cmd"),
        ("\uff1dcmd", "'\uff1dcmd"),
        ("aks-1", "aks-1"),
        ("", ""),
        ("a=b", "a=b"),
    ],
)
def test_neutralise_cell(value: str, expected: str) -> None:
    assert neutralise_cell(value) == expected


def test_untrusted_makes_disguises_visible_and_clips() -> None:
    assert untrusted("abc\u202etxt.exe") == "abc[U+202E]txt.exe"
    assert untrusted("a\u200bb\x00c") == "a[U+200B]b[U+0000]c"
    long = untrusted("x" * 10_000, 100)
    assert long.startswith("x" * 100) and "10,000 characters" in long and len(long) < 200
    assert untrusted(None) == ""


def test_streamed_findings_digest_equals_the_catalog_digest(reports: dict[str, Any]) -> None:
    con = open_db(reports["db"], read_only=True)
    try:
        findings = evaluate_scan(con, reports["scan_id"], load_policy(reports["policy"], known_controls=control_ids()))
    finally:
        con.close()
    assert any(f.waiver for f in findings) and any(f.tags for f in findings)
    assert streamed_digest(canonical_records(findings)) == findings_digest(findings)
    assert all(finding_dict(f) == f.as_dict() for f in findings)
    manifest = json.loads((reports["out"] / "report-manifest.json").read_text())
    assert manifest["findings"]["sha256"] == findings_digest(findings)
