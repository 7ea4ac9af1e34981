"""`auditor demo`: months of an evolving fleet, each month served by the emulator and scanned (the last scan
today), and the reports of the latest scan with its drift section."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from auditor import demo
from auditor.cli import cli
from auditor.errors import AuditorError
from auditor.store import list_scans, open_db
from tests.evidence import cluster, store_scan


def _scans(db: Path) -> list[Any]:
    con = open_db(db, read_only=True)
    try:
        return list_scans(con)
    finally:
        con.close()


def test_demo_scans_six_months_and_reports_the_drift(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    paths = demo.run(out, clusters=8, subscriptions=2, seed=5, formats=("html", "json")).paths
    assert [p.name for p in paths] == [
        "report.html",
        "findings.json",
        "report-manifest.json",
        "report.intoto.json",
        "period-report.html",
        "period.json",
        "maintenance.ics",
        "preflight.json",
    ]
    # The calendar of the latest scan, and three upgrade gates against a cluster caught mid-upgrade.
    from icalendar import Calendar

    events = [c for c in Calendar.from_ical((out / "maintenance.ics").read_bytes()).walk() if c.name == "VEVENT"]
    assert events and all(str(e["UID"]) for e in events)
    gates = json.loads((out / "preflight.json").read_text(encoding="utf-8"))["gates"]
    assert [(g["step"], g["allowed"]) for g in gates] == [
        ("user-pool", False),
        ("control-plane", True),
        ("user-pool", False),
    ]
    assert "System pool(s)" in gates[0]["verdict"] and "behind the target" in gates[2]["verdict"]
    scans = _scans(out / "demo.duckdb")
    assert len(scans) == 6
    assert all(s.status == "complete" and s.endpoint.startswith("https://127.0.0.1:") for s in scans)
    days = [s.started_at.date() for s in scans]
    assert days[-1] == datetime.now(UTC).date()
    assert [(b.year * 12 + b.month) - (a.year * 12 + a.month) for a, b in zip(days, days[1:], strict=False)] == [1] * 5
    html = " ".join((out / "report.html").read_text(encoding="utf-8").split())
    assert f"6 scans from {days[0]:%Y-%m-%d} to {days[-1]:%Y-%m-%d}" in html
    assert scans[-1].scan_id in html
    # The period report covers the six months: every scan, patch latency of node images and Kubernetes patches.
    period = json.loads((out / "period.json").read_text(encoding="utf-8"))
    assert period["scans"] == 6 and period["from"] == f"{days[0]:%Y-%m-%d}" and period["to"] == f"{days[-1]:%Y-%m-%d}"
    assert [p["scan_id"] for p in period["population"]] == [s.scan_id for s in scans]
    # Each demo scan reconciled its population (scan_coverage): both subscriptions proven, no cluster missing.
    assert {
        (p["coverage_recorded"], p["subscriptions_in_scope"], p["subscriptions_not_covered"], p["missing_clusters"])
        for p in period["population"]
    } == {(True, 2, 0, 0)}
    latency = period["patch_latency"]["node_image"]["total"]
    assert latency["updates"] > 0 and latency["adopted"] > 0 and latency["p50_days"] > 0
    assert period["patch_latency"]["kubernetes_patch"]["total"] is not None
    # The history carries resource changes for the upgrade ledger.
    con = open_db(out / "demo.duckdb", read_only=True)
    try:
        changes = con.execute(
            "SELECT count(DISTINCT scan_id), count(*) FROM evidence WHERE kind = 'resource_change'"
        ).fetchall()
    finally:
        con.close()
    assert changes[0][0] >= 5 and changes[0][1] >= 20

    # A second run replaces the demo's own store: the history is the new run's, not both.
    demo.run(out, clusters=4, subscriptions=1, seed=6, months=2, formats=("json",))
    assert len(_scans(out / "demo.duckdb")) == 2
    assert not [p.name for p in out.iterdir() if p.name.startswith(".demo.duckdb")]  # nothing half-built left


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_demo_leaves_the_default_store_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`make demo` runs `auditor demo --out output`: a user's scans in output/auditor.duckdb stay untouched."""
    monkeypatch.chdir(tmp_path)
    default = tmp_path / "output" / "auditor.duckdb"
    scan_id = store_scan(default, [cluster("prod")])
    before = _digest(default)
    # What `auditor demo --out output` runs (the CLI's wiring is test_demo_cli_options); JSON only, for speed.
    demo.run(Path("output"), clusters=4, subscriptions=1, seed=2, months=2, formats=("json",))
    assert _digest(default) == before
    assert [s.scan_id for s in _scans(default)] == [scan_id]
    assert len(_scans(tmp_path / "output" / "demo.duckdb")) == 2


def test_demo_never_replaces_a_store_it_did_not_create(tmp_path: Path) -> None:
    out = tmp_path / "out"
    store_scan(out / "demo.duckdb", [cluster("prod")])  # a real store that happens to bear the demo's name
    before = _digest(out / "demo.duckdb")
    with pytest.raises(AuditorError, match="was not created by `auditor demo`"):
        demo.run(out, clusters=4, subscriptions=1, seed=1, months=2, formats=("json",))
    assert _digest(out / "demo.duckdb") == before
    (out / "other.duckdb").write_bytes(b"not a database")
    (out / "other.duckdb").rename(out / "demo.duckdb")
    with pytest.raises(AuditorError, match="is not a demo store"):
        demo.run(out, clusters=4, subscriptions=1, seed=1, months=2, formats=("json",))
    assert (out / "demo.duckdb").read_bytes() == b"not a database"


def test_demo_cli_options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    def fake(out_dir: Path, **kwargs: Any) -> demo.DemoResult:
        seen.update(kwargs, out_dir=out_dir)
        return demo.DemoResult((out_dir / "report.pdf",), ())

    monkeypatch.setattr(demo, "run", fake)
    result = CliRunner().invoke(cli, ["demo", "--out", str(tmp_path), "--months", "9", "--clusters", "30", "-q"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(tmp_path / "report.pdf")
    assert seen["months"] == 9 and seen["clusters"] == 30
    assert seen["on_month"] is None and seen["on_gate"] is None and seen["progress"] is None  # -q: nothing on stderr
    assert CliRunner().invoke(cli, ["demo", "--months", "0"]).exit_code == 2
