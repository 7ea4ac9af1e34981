"""The PDF as an auditor reads it, page by page: read back with pypdf (text, outline), laid
out by WeasyPrint (box geometry), and the inputs of its charts checked against the findings."""

from __future__ import annotations

import itertools
import json
import math
import re
from datetime import timedelta
from typing import Any

import pytest
from pypdf import PdfReader

from auditor.controls import control_ids, load_catalog
from auditor.policy import load_policy
from auditor.report import build_report
from auditor.report.charts import MINOR_PALETTE, heatmap_cells, minor_colours, threshold_bins
from auditor.report.html import render_html_text
from auditor.store import ErrorRow, open_db
from tests.evidence import AS_OF, cluster, pool, store_scan
from tests.library import write_reports

OLD = "AKSUbuntu-2204gen2containerd-202607.01.0"
NEW = "AKSUbuntu-2204gen2containerd-202611.10.0"
FAMILY = "AKSUbuntu-2204gen2containerd"
TEAMS = ("analytics-platform", "checkout-payments", "identity-gateway", "observability", "search-indexing")


def _fleet(second: bool) -> list[dict[str, Any]]:
    fleet = [
        # Fails seven controls, each on one resource or two: it has the most failing controls.
        cluster(
            "aks-most-controls-westeurope-01",
            rg="rg-most-controls-westeurope",
            version="1.33.1",
            channel="stable" if second else None,
            node_os=None,
            pools=[
                pool("system", version="1.33.1", image=OLD, upgrade_settings={"maxUnavailable": "5"}),
                pool("user", mode="User", version="1.32.2", image=OLD),
            ],
        ),
        # Fails four controls on many pools: the most failing findings, and more weight under the old ranking.
        cluster(
            "aks-many-pools-eastus-01",
            rg="rg-many-pools-eastus",
            version="1.28.5",
            pools=[pool("system", version="1.28.5", image=OLD)]
            + [pool(f"user{i}", mode="User", version="1.28.5", image=OLD) for i in range(7)],
        ),
        cluster("aks-maintenance-unreadable-eastus-01", rg="rg-maintenance-unreadable-eastus"),
    ]
    for number, team in enumerate(TEAMS * 3):
        fleet.append(
            cluster(
                f"aks-{team}-prod-eastus-{number:02d}",
                rg=f"rg-{team}-prod-eastus",
                channel=None if number % 3 == 0 else "stable",
                version=["1.33.2", "1.32.2", "1.34.2"][number % 3],
                tags={"environment": ["prod", "dev", "staging"][number % 3]},
                pools=[
                    pool("system", version=["1.33.2", "1.32.2", "1.34.2"][number % 3], image=NEW),
                    pool(
                        "user",
                        mode="User",
                        version=["1.33.2", "1.32.2", "1.34.2"][number % 3],
                        image=OLD if number % 2 or second else NEW,
                    ),
                ],  # fmt: skip
            )
        )
    return fleet


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("layout")
    db = work / "a.duckdb"
    unreadable = _fleet(False)[2]["id"]
    error = ErrorRow("maintenance_configurations", unreadable, 403, "AuthorizationFailed", "no read access")
    latest = {("eastus", FAMILY): NEW}
    store_scan(db, _fleet(False), errors=[error], latest_images=latest, started_at=AS_OF - timedelta(days=30))
    scan_id = store_scan(db, _fleet(True), errors=[error], latest_images=latest)
    out = work / "out"
    write_reports(db, scan_id, None, ["pdf", "html", "json"], out)
    reader = PdfReader(out / "report.pdf")
    return {
        "db": db,
        "out": out,
        "reader": reader,
        "pages": [page.extract_text() for page in reader.pages],
        "findings": json.loads((out / "findings.json").read_text(encoding="utf-8")),
        "html": (out / "report.html").read_text(encoding="utf-8"),
    }


def _flat(text: str) -> str:
    return " ".join(text.split())


def _bookmarks(reader: PdfReader) -> dict[str, int]:
    marks: dict[str, int] = {}

    def walk(items: list[Any]) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item)
            else:
                number = reader.get_destination_page_number(item)
                if number is not None:
                    marks.setdefault(str(item.title), number)

    walk(reader.outline)
    return marks


def test_cluster_level_tables_have_no_pool_column(report: dict[str, Any]) -> None:
    html = report["html"]
    for control in load_catalog():
        section = re.search(rf'<section class="control" id="{control.id}">(.*?)</section>', html, re.S)
        assert section, control.id
        table = re.search(r'<table class="grid findings ([a-z-]+)">\s*<thead><tr>(.*?)</tr></thead>', section.group(1))
        if table is None:
            continue  # nothing to list for this control
        headers = re.findall(r"<th>(.*?)</th>", table.group(2))
        if control.level == "pool":
            assert table.group(1) == "by-pool" and "Pool" in headers, control.id
        else:
            assert table.group(1) == "by-cluster" and "Pool" not in headers, control.id


def test_commands_break_only_between_words(report: dict[str, Any]) -> None:
    """Every command the PDF shows reads back whole once line breaks count as spaces: a break inside a name or an
    option ("rg-checkout-" / "prod") would leave a space where the command has none."""
    text = _flat(" ".join(report["pages"]))
    shown = [f["remediation"] for f in report["findings"] if f["remediation"]]
    assert len(shown) > 40 and max(len(c) for c in shown) > 110  # long enough to wrap on the page
    # A remediation may end in a shell comment after two spaces (an option left out, docs/controls.md): HTML shows
    # runs of spaces as one, which the shell reads the same.
    missing = [c for c in shown if _flat(c) not in text]
    assert missing == [], missing[:3]
    # The control's template reads as a command too: placeholders, and single braces in ORD-01's query.
    assert 'az aks nodepool list -g <resource-group> --cluster-name <cluster> -o table --query "[].{pool:name,' in text
    assert "{{" not in text and "{resource_group}" not in text


def test_control_headings_sit_with_their_rule(report: dict[str, Any]) -> None:
    marks = _bookmarks(report["reader"])
    for control in load_catalog():
        heading = f"{control.id} — {control.title}"
        page = _flat(report["pages"][marks[heading]])
        assert heading in page, heading
        assert "Rule. " + _flat(control.rule)[:40].replace("`", "") in page.replace("`", ""), heading


def _boxes(box: Any, cell: Any = None) -> Any:
    """Every layout box with the table cell it sits in (None outside tables)."""
    yield box, cell
    inner = box if type(box).__name__ == "TableCellBox" else cell
    for child in getattr(box, "children", None) or []:
        yield from _boxes(child, inner)


def test_badges_fit_inside_their_cells(report: dict[str, Any]) -> None:
    """The 'unknown' badge never spills over the next column (and hides the start of a cluster's name)."""
    from weasyprint import HTML

    con = open_db(report["db"])
    try:
        # The findings stay in DuckDB until the renderer reads them: render before the store closes.
        with build_report(con, "latest", load_policy(None, known_controls=control_ids())) as data:
            document = HTML(string=render_html_text(data, "pdf")).render()
    finally:
        con.close()
    checked: dict[str, int] = {}
    for page in document.pages:
        for box, cell in _boxes(page._page_box):
            element = getattr(box, "element", None)
            classes = (element.get("class") or "").split() if element is not None else []
            if "badge" in classes and type(box).__name__ == "InlineBlockBox" and cell is not None:
                right = cell.content_box_x() + cell.width + cell.padding_right
                assert box.position_x + box.margin_width() <= right + 0.01, element.text
                checked[element.text] = checked.get(element.text, 0) + 1
    assert checked.get("unknown", 0) > 5 and checked.get("fail", 0) > 20


def test_drift_table_keeps_ids_whole_and_adds_up(report: dict[str, Any]) -> None:
    marks = _bookmarks(report["reader"])
    page = report["pages"][marks["Drift across scans"]]
    con = open_db(report["db"])
    try:
        data = build_report(con, "latest", load_policy(None, known_controls=control_ids()))
    finally:
        con.close()
    drift = data.drift
    assert drift is not None and drift.enough and drift.unreconciled == []
    for entry in drift.entries:
        # One line per scan: date, whole scan id, whole status word.
        assert f"{entry.scan.started_at:%Y-%m-%d} {entry.scan.scan_id} {entry.scan.status}" in page
    first, second = drift.entries
    assert second.totals["fail"] == first.totals["fail"] + second.new_count - second.resolved_count - (
        second.unverified_count
    )
    assert "Fail = the previous scan's Fail + New − Resolved − Unverified" in _flat(page)


def test_clusters_ranked_by_failing_controls_with_their_counts(report: dict[str, Any]) -> None:
    failing: dict[str, set[str]] = {}
    findings: dict[str, int] = {}
    for f in report["findings"]:
        if f["status"] == "fail":
            failing.setdefault(f["cluster"], set()).add(f["control_id"])
            findings[f["cluster"]] = findings.get(f["cluster"], 0) + 1
    most = max(failing, key=lambda c: len(failing[c]))
    assert most == "aks-most-controls-westeurope-01"
    assert max(findings, key=lambda c: findings[c]) == "aks-many-pools-eastus-01"  # more findings, fewer controls
    marks = _bookmarks(report["reader"])
    page = _flat(report["pages"][marks["Clusters with the most failing controls"]])
    row = re.search(r"aks-most-controls-westeurope-01 rg-most-controls-westeurope .+? (\d+) (\d+) (\d+) AKS-", page)
    assert row, page[:400]
    assert int(row.group(1)) == len(failing[most]) and int(row.group(3)) == findings[most]
    assert page.index("aks-most-controls-westeurope-01") < page.index("aks-many-pools-eastus-01")


def test_image_age_bins_have_an_edge_at_the_limit_and_reconcile_with_img01(report: dict[str, Any]) -> None:
    con = open_db(report["db"])
    try:
        data = build_report(con, "latest", load_policy(None, known_controls=control_ids()))
    finally:
        con.close()
    limit = int(data.policy.thresholds["image_max_age_days"])
    bins = threshold_bins(data.image_ages, limit)
    assert any(b["hi"] == limit for b in bins) and all(b["hi"] is None or b["lo"] <= b["hi"] for b in bins)
    assert all(b["within"] == (b["hi"] is not None and b["hi"] <= limit) for b in bins)
    img01 = next(s for s in data.sections if s.control.id == "AKS-IMG-01")
    assert sum(b["count"] for b in bins if b["within"]) == img01.counts["pass"]
    assert sum(b["count"] for b in bins if not b["within"]) == img01.counts["fail"]
    # 30 days: bins 0–10, 11–20, 21–30 within; 31 is the first day beyond.
    assert [b["label"] for b in threshold_bins([], 30)][:4] == ["0–10", "11–20", "21–30", "31–40"]


def _lab(colour: str) -> tuple[float, float, float]:
    """sRGB hex to CIELAB (D65)."""

    def linear(c: float) -> float:
        return ((c + 0.055) / 1.055) ** 2.4 if c > 0.04045 else c / 12.92

    r, g, b = (linear(int(colour[i : i + 2], 16) / 255) for i in (1, 3, 5))
    x = (r * 0.4124 + g * 0.3576 + b * 0.1805) / 0.95047
    y = r * 0.2126 + g * 0.7152 + b * 0.0722
    z = (r * 0.0193 + g * 0.1192 + b * 0.9505) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116

    return (116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z)))


def test_minor_colours_can_be_told_apart() -> None:
    minors = [f"1.{n}" for n in range(24, 40)]
    colours = list(minor_colours(minors).values())
    assert len(set(colours)) == len(minors) == len(MINOR_PALETTE)
    neighbours = [math.dist(_lab(a), _lab(b)) for a, b in itertools.pairwise(colours)]
    assert min(neighbours) >= 40  # stacked next to each other
    assert min(math.dist(_lab(a), _lab(b)) for a, b in itertools.combinations(colours[:10], 2)) >= 20
    assert min(math.dist(_lab(a), _lab(b)) for a, b in itertools.combinations(colours, 2)) >= 12
    assert list(minor_colours(["1.10", "1.9"])) == ["1.9", "1.10"]  # numeric order, not text


def test_compliance_heat_map_cells_are_the_scores(report: dict[str, Any]) -> None:
    con = open_db(report["db"])
    try:
        data = build_report(con, "latest", load_policy(None, known_controls=control_ids()))
    finally:
        con.close()
    assert data.drift is not None
    entries = data.drift.entries
    from auditor.vocabulary import score

    series = {c.id: [score(e.controls.get(c.id, {})) for e in entries] for c in load_catalog()}
    cells = heatmap_cells(series, [e.score for e in entries])
    assert cells[0] == [e.score for e in entries]
    assert len(cells) == len(load_catalog()) + 1 and all(len(row) == len(entries) for row in cells)
    assert cells[1:] == list(series.values())


def test_method_appendix_counts_items_against_their_call(report: dict[str, Any]) -> None:
    marks = _bookmarks(report["reader"])
    page = _flat(report["pages"][marks["How the evidence was collected"]])
    clusters = len(_fleet(True))
    # The Resource Graph query returned the clusters: one row, no "cluster: no calls" beside "0 items".
    assert re.search(
        rf"resource_graph Resource Graph: managed clusters \(evidence kind cluster\) \d+ 0 {clusters}\b", page
    )
    # Every call's count is recorded (the population note further down may say a directly stored scan has none).
    assert "not recorded" not in page.split("Population reconciliation", 1)[0]
