"""The upgrade ledger end to end: a fleet with resource changes and scheduled events served by the emulator,
scanned through the real SDK by `scan_and_store` (which updates the ledger), two scans a week apart for scan
diffs and de-duplication, AKS-ORD-01 verdicts, and `auditor history`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from auditor.cli import cli
from auditor.controls import Finding, evaluate_scan, load_catalog
from auditor.emulator.server import EmulatorServer
from auditor.policy import default_policy
from auditor.store import open_db
from tests.emulated import arm_cluster, small_fleet
from tests.evidence import AS_OF
from tests.library import scan_and_store
from tests.test_history import (
    NEW_IMAGE,
    OLD_IMAGE,
    at,
    completed_event,
    control_plane_rows,
    in_order_rows,
    pool_rows,
    two_pools,
)

WEEK = timedelta(days=7)


def fleet(*, quiet_upgraded: bool) -> dict[str, Any]:
    """Three clusters of one subscription: one upgraded in order, one whose User pool went first, and one with
    no history in Resource Graph (upgraded between the two scans in the second fleet)."""
    ordered = arm_cluster("ordered", **two_pools())
    user_first = arm_cluster("user-first", **two_pools())
    quiet = arm_cluster("quiet", **(two_pools() if quiet_upgraded else two_pools("1.32.5", OLD_IMAGE)))
    data = small_fleet()
    data["managedClusters"] = [ordered, user_first, quiet]
    data["subscriptions"] = data["subscriptions"][:1]
    data["resourceChanges"] = [
        *reversed(in_order_rows(ordered)),
        *control_plane_rows(user_first, at(0), at(12), "1.32.5", "1.33.2"),
        *pool_rows(user_first, 1, at(14), at(30), "1.32.5", "1.33.2"),
        *pool_rows(user_first, 0, at(31), at(50), "1.32.5", "1.33.2"),
    ]
    data["scheduledEvents"] = [completed_event(ordered)]
    return data


def scan(db: Path, data: dict[str, Any], moment: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AUDITOR_ACCESS_TOKEN", "e2e-token")
    with EmulatorServer(data, state_dir=tmp_path / "emu") as server:
        result = scan_and_store(db, endpoint=server.endpoint, ca_bundle=str(server.ca_file), clock=lambda: moment)
    assert result.status == "complete", result
    return result.scan_id


def ord01(db: Path, scan_id: str) -> dict[str, Finding]:
    con = open_db(db, read_only=True)
    try:
        control = tuple(c for c in load_catalog() if c.id == "AKS-ORD-01")
        return {f.cluster: f for f in evaluate_scan(con, scan_id, default_policy(), controls=control)}
    finally:
        con.close()


@pytest.fixture(scope="module")
def two_scans(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str, str]]:
    tmp_path = tmp_path_factory.mktemp("e2e")
    db = tmp_path / "auditor.duckdb"
    with pytest.MonkeyPatch.context() as monkeypatch:
        first = scan(db, fleet(quiet_upgraded=False), AS_OF, tmp_path, monkeypatch)
        # The first scan's findings before the second scan exists: re-evaluated later, they must not change.
        findings = ord01(db, first)
        second = scan(db, fleet(quiet_upgraded=True), AS_OF + WEEK, tmp_path, monkeypatch)
    assert ord01(db, first) == findings
    yield db, first, second


def test_first_scan_ord01_verdicts(two_scans: tuple[Path, str, str]) -> None:
    db, first, _ = two_scans
    found = ord01(db, first)
    assert found["ordered"].status == "pass", found["ordered"].message
    assert "user pool 'apps'" in found["ordered"].message
    assert found["user-first"].status == "fail"
    assert "user pool 'apps' reached 1.33.2 at" in found["user-first"].message
    assert found["quiet"].status == "unknown"
    assert "no upgrade history covers this cluster" in found["quiet"].message


def test_ledger_is_updated_after_each_scan_and_deduplicated(two_scans: tuple[Path, str, str]) -> None:
    db, first, second = two_scans
    con = open_db(db, read_only=True)
    try:
        folded = con.execute("SELECT scan_id FROM upgrade_ledger_scans ORDER BY started_at").fetchall()
        by_source = dict(
            con.execute(
                "SELECT source || '/' || first_seen_scan_id || '/' || seen_count, count(*) "
                "FROM upgrade_events GROUP BY ALL"
            ).fetchall()
        )
        diffs = con.execute(
            "SELECT target, kind, from_version, to_version, window_start, window_end FROM upgrade_events "
            "WHERE source = 'scan_diff' ORDER BY target, kind"
        ).fetchall()
    finally:
        con.close()
    assert folded == [(first,), (second,)]
    # Resource changes and the scheduled event were seen by both scans: one event each, seen twice.
    assert by_source == {
        f"resource_change/{first}/2": 22,
        f"scheduled_event/{first}/2": 1,
        f"scan_diff/{second}/1": 5,
    }
    window = (AS_OF.replace(tzinfo=None), (AS_OF + WEEK).replace(tzinfo=None))
    assert diffs == [
        ("apps", "kubernetes", "1.32.5", "1.33.2", *window),
        ("apps", "node-image", OLD_IMAGE, NEW_IMAGE, *window),
        ("control_plane", "kubernetes", "1.32.5", "1.33.2", *window),
        ("system", "kubernetes", "1.32.5", "1.33.2", *window),
        ("system", "node-image", OLD_IMAGE, NEW_IMAGE, *window),
    ]


def test_second_scan_verdicts(two_scans: tuple[Path, str, str]) -> None:
    db, _, second = two_scans
    found = ord01(db, second)
    assert found["ordered"].status == "pass"
    assert found["user-first"].status == "fail"
    # Only the scans bracket the upgrade: everything moved within one window, so the order is not proven.
    assert found["quiet"].status == "unknown"
    assert "cannot be proven" in found["quiet"].message


def test_history_command(two_scans: tuple[Path, str, str]) -> None:
    db, first, _ = two_scans
    runner = CliRunner()
    result = runner.invoke(cli, ["history", "--db", str(db), "--cluster", "user-first", "--format", "json"])
    assert result.exit_code == 0, result.output
    events = json.loads(result.stdout)
    assert {e["cluster"] for e in events} == {"user-first"}
    reached = [(e["target"], e["event_time"]) for e in events if e["phase"] == "reached" and e["kind"] == "kubernetes"]
    assert reached == [
        ("control_plane", at(12).astimezone(UTC).isoformat().replace("+00:00", "Z")),
        ("apps", at(30).isoformat().replace("+00:00", "Z")),
        ("system", at(50).isoformat().replace("+00:00", "Z")),
    ]
    assert {e["campaign"] for e in events} == {
        "Kubernetes 1.33.2 upgrade of 2026-11-19",
        "node-image rollout of 2026-11-19",
    }
    table = runner.invoke(cli, ["history", "--db", str(db), "--scan", first])
    assert table.exit_code == 0
    assert "ordered" in table.stdout and "quiet" not in table.stdout
    assert f"as of scan {first}" in table.stderr
    rebuilt = runner.invoke(cli, ["history", "--db", str(db), "--rebuild", "--format", "json"])
    assert rebuilt.exit_code == 0
    assert "upgrade ledger rebuilt from 2 scan(s): 28 new event(s), 23 seen again" in rebuilt.stderr
    assert len(json.loads(rebuilt.stdout)) == 28
    unknown = runner.invoke(cli, ["history", "--db", str(db), "--cluster", "nope"])
    assert unknown.exit_code == 1 and "no cluster named 'nope'" in unknown.stderr


def test_report_shows_the_timeline_of_clusters_failing_ord01(two_scans: tuple[Path, str, str], tmp_path: Path) -> None:
    from tests.library import write_reports

    db, _, second = two_scans
    (html,) = [p for p in write_reports(db, second, None, ["html"], tmp_path) if p.suffix == ".html"]
    text = html.read_text(encoding="utf-8")
    section = text.split('<h1 id="timelines">Upgrade timelines</h1>', 1)[1].split("</section>", 1)[0]
    assert "user-first" in section and "ordered" not in section and "quiet" not in section
    assert "user pool &#39;apps&#39; reached 1.33.2" in section or "user pool 'apps' reached 1.33.2" in section
    assert "Kubernetes 1.32.5 -&gt; 1.33.2" in section
    assert "Kubernetes 1.33.2 upgrade of 2026-11-19" in section
    assert '<a href="#timelines">Upgrade timelines</a>' in text
