"""`auditor demo`: months of an evolving fleet, each month served by the emulator and scanned (the last scan
today), and the reports of the latest scan with its drift section."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from auditor import app
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
    paths = app.run_demo(out, clusters=8, subscriptions=2, seed=5, quiet=True, formats=("html", "json"))
    assert [p.name for p in paths] == [
        "report.html",
        "findings.json",
        "report-manifest.json",
        "report.intoto.json",
        "period-report.html",
        "period.json",
    ]
    scans = _scans(out / "auditor.duckdb")
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
    latency = period["patch_latency"]["node_image"]["total"]
    assert latency["updates"] > 0 and latency["adopted"] > 0 and latency["p50_days"] > 0
    assert period["patch_latency"]["kubernetes_patch"]["total"] is not None
    # The history carries resource changes for the upgrade ledger.
    con = open_db(out / "auditor.duckdb", read_only=True)
    try:
        changes = con.execute(
            "SELECT count(DISTINCT scan_id), count(*) FROM evidence WHERE kind = 'resource_change'"
        ).fetchall()
    finally:
        con.close()
    assert changes[0][0] >= 5 and changes[0][1] >= 20

    # A second run replaces the demo database: the history is the new run's, not both.
    app.run_demo(out, clusters=4, subscriptions=1, seed=6, quiet=True, months=2, formats=("json",))
    assert len(_scans(out / "auditor.duckdb")) == 2


def test_demo_never_replaces_a_real_database(tmp_path: Path) -> None:
    out = tmp_path / "out"
    store_scan(out / "auditor.duckdb", [cluster("prod")])  # endpoint https://test: not the emulator
    with pytest.raises(AuditorError, match="not only of the emulator"):
        app.run_demo(out, clusters=4, subscriptions=1, seed=1, quiet=True, months=2, formats=("json",))
    assert len(_scans(out / "auditor.duckdb")) == 1


def test_demo_cli_options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    def fake(out_dir: Path, **kwargs: Any) -> list[Path]:
        seen.update(kwargs, out_dir=out_dir)
        return [out_dir / "report.pdf"]

    monkeypatch.setattr(app, "run_demo", fake)
    result = CliRunner().invoke(cli, ["demo", "--out", str(tmp_path), "--months", "9", "--clusters", "30", "-q"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(tmp_path / "report.pdf")
    assert seen["months"] == 9 and seen["clusters"] == 30 and seen["quiet"]
    assert CliRunner().invoke(cli, ["demo", "--months", "0"]).exit_code == 2
