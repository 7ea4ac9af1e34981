"""`auditor trend` and the report's drift section over hand-built scans: per-scan results, new and resolved
failures, streaks, time to remediate, and a findings cache that cannot serve stale results."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from auditor import findings_cache
from auditor import trend as trend_module
from auditor.cli import cli
from auditor.controls import STATUSES, control_ids, load_catalog
from auditor.findings_cache import EVALUATING, evaluator_key
from auditor.policy import load_policy
from auditor.store import ErrorRow, open_db
from auditor.trend import build_trend
from tests.evidence import AS_OF, cluster, pool, store_scan

T1, T2, T3 = AS_OF, AS_OF + timedelta(days=30), AS_OF + timedelta(days=60)


def _history(db: Path) -> list[str]:
    """Three monthly scans.

    - a: channel none (AKS-CHN-01 fails) then fixed in scan 2; its user pool lags a minor (AKS-VER-04) until
      scan 3.
    - b: fine, then its channel is switched off in scan 2 and stays off (a streak of two scans).
    - c: created failing in scan 2, deleted before scan 3.
    """
    lagging = [pool("system"), pool("user1", mode="User", version="1.32.2")]
    caught_up = [pool("system"), pool("user1", mode="User")]
    return [
        store_scan(db, [cluster("a", channel=None, pools=lagging), cluster("b")], started_at=T1),
        store_scan(
            db,
            [cluster("a", pools=lagging), cluster("b", channel=None), cluster("c", channel=None)],
            started_at=T2,
        ),
        store_scan(db, [cluster("a", pools=caught_up), cluster("b", channel=None)], started_at=T3),
    ]


def _trend(db: Path, **kwargs: Any) -> trend_module.Trend:
    con = open_db(db)
    try:
        return build_trend(con, load_policy(kwargs.pop("policy", None), known_controls=control_ids()), **kwargs)
    finally:
        con.close()


def _keys(items: list[dict[str, Any]], control: str) -> dict[tuple[str, str | None], str]:
    return {(i["cluster"], i["node_pool"]): i.get("before", i.get("now")) for i in items if i["control_id"] == control}


def test_one_entry_per_scan_oldest_first(tmp_path: Path) -> None:
    db = tmp_path / "a.duckdb"
    ids = _history(db)
    result = _trend(db)
    assert [e.scan.scan_id for e in result.entries] == ids
    first, second, third = result.entries
    assert first.previous_scan_id is None and first.new_findings == [] and first.resolved_findings == []
    assert second.previous_scan_id == ids[0] and third.previous_scan_id == ids[1]
    catalog = {c.id for c in load_catalog()}
    for entry in result.entries:
        assert set(entry.controls) == catalog
        assert all(set(counts) == set(STATUSES) for counts in entry.controls.values())
    assert first.controls["AKS-CHN-01"]["fail"] == 1 and first.controls["AKS-CHN-01"]["pass"] == 1
    assert second.controls["AKS-CHN-01"]["fail"] == 2
    assert [e.fleet for e in result.entries] == [
        {"subscriptions": 1, "clusters": 2, "pools": 3},
        {"subscriptions": 1, "clusters": 3, "pools": 4},
        {"subscriptions": 1, "clusters": 2, "pools": 3},
    ]
    assert first.versions == {"1.33": 2}
    # The default node image was released on 2026-11-10: 14 days old at the first scan, 30 more each month.
    assert [e.image_age_median for e in result.entries] == [14.0, 44.0, 74.0]
    assert first.image_age_p90 == 14.0


def test_new_and_resolved_failures(tmp_path: Path) -> None:
    db = tmp_path / "a.duckdb"
    _history(db)
    _, second, third = _trend(db).entries
    assert _keys(second.new_findings, "AKS-CHN-01") == {("b", None): "pass", ("c", None): "absent"}
    assert _keys(second.resolved_findings, "AKS-CHN-01") == {("a", None): "pass"}
    assert _keys(third.new_findings, "AKS-CHN-01") == {}
    # c was deleted: resolved, and said so; a's lagging pool caught up.
    assert _keys(third.resolved_findings, "AKS-CHN-01") == {("c", None): "absent"}
    assert _keys(third.resolved_findings, "AKS-VER-04") == {("a", "user1"): "pass"}
    assert third.unverified_findings == []
    item = next(i for i in third.resolved_findings if i["control_id"] == "AKS-VER-04")
    assert item["resource_id"].endswith("/managedClusters/a")


def test_streaks_and_time_to_remediate(tmp_path: Path) -> None:
    db = tmp_path / "a.duckdb"
    ids = _history(db)
    result = _trend(db)
    open_chn = [f for f in result.open_failures if f["control_id"] == "AKS-CHN-01"]
    assert len(open_chn) == 1
    failure = open_chn[0]
    assert failure["cluster"] == "b" and failure["since_scan_id"] == ids[1]
    assert failure["scans"] == 2 and failure["days"] == 30.0 and not failure["since_first_scan"]
    chn = result.remediation["by_control"]["AKS-CHN-01"]
    assert chn == {"resolved": 1, "mean_days": 30.0, "median_days": 30.0, "open": 1}
    ver = result.remediation["by_control"]["AKS-VER-04"]
    assert ver["resolved"] == 1 and ver["mean_days"] == 60.0 and ver["open"] == 0
    assert result.remediation["removed_while_failing"] >= 1  # c's failures left with c
    assert result.open_failures == sorted(result.open_failures, key=lambda f: -f["days"])


def test_missing_evidence_is_not_a_fix(tmp_path: Path) -> None:
    """b fails, then a partial scan misses it: neither resolved nor open, but unverified."""
    db = tmp_path / "a.duckdb"
    store_scan(db, [cluster("a"), cluster("b", channel=None)], started_at=T1)
    errors = [
        ErrorRow(
            "managed_clusters",
            "00000000-0000-0000-0000-000000000001",
            403,
            "AuthorizationFailed",
            "no access",
        )
    ]
    store_scan(db, [cluster("a")], started_at=T2, errors=errors)
    result = _trend(db)
    last = result.entries[-1]
    assert last.scan.status == "partial"
    assert _keys(last.resolved_findings, "AKS-CHN-01") == {}
    assert _keys(last.unverified_findings, "AKS-CHN-01") == {("b", None): "absent"}
    assert result.remediation["by_control"]["AKS-CHN-01"]["resolved"] == 0
    assert not [f for f in result.open_failures if f["control_id"] == "AKS-CHN-01"]


def test_since_keeps_the_previous_scan_as_baseline(tmp_path: Path) -> None:
    db = tmp_path / "a.duckdb"
    ids = _history(db)
    result = _trend(db, since=T2.date())
    assert [e.scan.scan_id for e in result.entries] == ids[1:]
    assert result.baseline_scan_id == ids[0]
    assert _keys(result.entries[0].new_findings, "AKS-CHN-01") == {("b", None): "pass", ("c", None): "absent"}
    assert _trend(db, since=date(2030, 1, 1)).entries == []


def test_the_cache_is_read_only_under_its_own_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "a.duckdb"
    _history(db)
    calls: list[tuple[str, int, int]] = []

    def progress(stage: str, done: int, total: int) -> None:
        calls.append((stage, done, total))

    def evaluated() -> list[tuple[str, int, int]]:
        """The progress hook's reports of a finished evaluation (done > 0)."""
        return [call for call in calls if call[1] > 0]

    first = _trend(db, progress=progress)
    assert evaluated() == [(EVALUATING, n, 3) for n in (1, 2, 3)]  # every scan evaluated once...
    calls.clear()
    again = _trend(db, progress=progress)
    assert calls == []  # ...and then read from the cache
    assert json.dumps(again.as_dict(), sort_keys=True) == json.dumps(first.as_dict(), sort_keys=True)

    # Another policy is another key: evaluated afresh, and the results follow the policy.
    lenient = tmp_path / "lenient.toml"
    lenient.write_text("[thresholds]\nallowed_upgrade_channels = ['stable', 'none']\n", encoding="utf-8")
    relaxed = _trend(db, policy=lenient, progress=progress)
    assert len(evaluated()) == 3
    assert all(e.controls["AKS-CHN-01"]["fail"] == 0 for e in relaxed.entries)
    assert relaxed.evaluator != first.evaluator

    # A new tool version (or catalog, or query) is another key too: the old findings are never read.
    calls.clear()
    monkeypatch.setattr(findings_cache, "__version__", "99.0.0")
    assert evaluator_key(load_policy(None, known_controls=control_ids())) != first.evaluator
    _trend(db, progress=progress)
    assert len(evaluated()) == 3
    con = open_db(db)
    try:
        per_scan = con.execute("SELECT scan_id, count(*) FROM evaluations GROUP BY 1").fetchall()
    finally:
        con.close()
    assert all(n == 3 for _, n in per_scan)  # one per key, kept side by side

    # An evaluation of other evidence than the scan now holds is not read either.
    con = open_db(db)
    try:
        con.execute(
            "UPDATE evaluations SET evidence_sha256 = 'other' WHERE scan_id = ?",
            [first.entries[0].scan.scan_id],
        )
    finally:
        con.close()
    calls.clear()
    _trend(db, progress=progress)
    assert evaluated() == [(EVALUATING, 1, 1)]  # that scan alone


def test_trend_cli_json_is_stdout_alone(tmp_path: Path) -> None:
    db = tmp_path / "a.duckdb"
    ids = _history(db)
    runner = CliRunner()
    result = runner.invoke(cli, ["trend", "--db", str(db), "--format", "json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert [s["scan_id"] for s in payload["scans"]] == ids
    scan = payload["scans"][1]
    assert {
        "scan_id",
        "finished_at",
        "controls",
        "new_findings",
        "resolved_findings",
        "fleet",
        "versions",
        "node_image_age_days",
    } <= set(scan)
    assert scan["node_image_age_days"] == {"median": 44.0, "p90": 44.0}
    assert scan["counts"] == {
        "new": len(scan["new_findings"]),
        "resolved": len(scan["resolved_findings"]),
        "unverified": 0,
    }
    assert all(set(i) == {"control_id", "resource_id", "node_pool", "cluster", "before"} for i in scan["new_findings"])
    assert all(
        set(i) == {"control_id", "resource_id", "node_pool", "cluster", "now"} for i in scan["resolved_findings"]
    )
    assert "evaluating scan" in result.stderr
    table = runner.invoke(cli, ["trend", "--db", str(db), "--since", "2026-12-01"])
    assert table.exit_code == 0 and ids[1] in table.stdout and ids[0] not in table.stdout
    bad = runner.invoke(cli, ["trend", "--db", str(db), "--since", "yesterday"])
    assert bad.exit_code == 2


def test_report_drift_section(tmp_path: Path) -> None:
    from tests.library import write_reports

    db = tmp_path / "a.duckdb"
    store_scan(db, [cluster("a")], started_at=T1 - timedelta(days=1))
    write_reports(db, "latest", None, ["html"], tmp_path / "one")
    html = (tmp_path / "one" / "report.html").read_text(encoding="utf-8")
    assert 'id="drift"' in html and "drift needs at least two scans" in html

    _history(db)
    write_reports(db, "latest", None, ["html"], tmp_path / "four")
    html = " ".join((tmp_path / "four" / "report.html").read_text(encoding="utf-8").split())
    assert "4 scans from 2026-11-23 to 2027-01-23" in html
    for alt in (
        "Compliance per control across scans",
        "Node-image age over time",
        "Clusters per control-plane minor over time",
        "New and resolved failures per scan",
    ):
        assert f'alt="{alt}' in html
    assert "Open failures and how long they have failed" in html and "Time to remediate" in html


def test_a_trend_entry_names_its_top_version_and_scores_each_control() -> None:
    from datetime import datetime

    from auditor.store import Scan
    from auditor.trend import TrendEntry

    moment = datetime(2026, 11, 1)
    scan = Scan("s1", moment, moment, "complete", "0", "AzureCloud", "", {}, {}, "")
    entry = TrendEntry(
        scan=scan,
        previous_scan_id=None,
        controls={"AKS-VER-01": {"pass": 3, "fail": 1}, "AKS-IMG-01": {"not_applicable": 2}},
        fleet={"clusters": 7, "pools": 9},
        versions={"1.30.1": 3, "1.31.2": 3, "1.29.0": 1},
        image_age_median=None,
        image_age_p90=None,
    )
    # A tie goes to the newer version (compared as versions, not as text).
    assert entry.top_minor == ("1.31.2", 3)
    assert entry.control_score("AKS-VER-01") == 75.0
    assert entry.control_score("AKS-IMG-01") is None  # judged nothing: no score, not 0 %
    assert entry.control_score("AKS-WIN-01") is None
    empty = TrendEntry(scan, None, {}, {"clusters": 0, "pools": 0}, {}, None, None)
    assert empty.top_minor is None
