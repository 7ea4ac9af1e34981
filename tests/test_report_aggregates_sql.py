"""The report's aggregates computed in DuckDB over eval_findings (report.data: per control, per subscription, top
clusters, failing clusters, the findings of one control or with a waiver) equal the Python passes over the Finding
objects in the report's order, on a fleet with ties, case variants, hostile names, Fleet Manager resources and
findings without a cluster; names DuckDB might lower-case otherwise are left to Python."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from auditor import sql
from auditor.controls import Finding, control_ids, evaluate
from auditor.integrity import findings_digest
from auditor.model import Model
from auditor.policy import load_policy
from auditor.report import build_report
from auditor.report.data import (
    ReportFindings,
    _control_counts,
    _failing_resources,
    _sort_key,
    _subscriptions,
    _subscriptions_sql,
    _top_clusters,
    _top_clusters_sql,
    canonical_records,
    read_findings,
    report_order,
)
from auditor.store import open_db
from tests.evidence import AS_OF, store_scan
from tests.test_findings_digest_sql import _table

NAMES = ["a", "A", "b", "B", "", 'x"y', "<script>", "=cmd|' /C calc'!A0", "a,b", " a", "a ", "z\\q"]
STATUSES = ["pass", "fail", "fail", "warn", "unknown", "waived", "not_applicable"]
SEVERITIES = ["info", "low", "medium", "high", "critical"]


def _fleet(seed: int, accent: str = "") -> list[Finding]:
    rng = random.Random(seed)
    findings = []
    for n in range(600):
        sub = rng.choice(["s1", "s2", "S3", "s4"])
        group = rng.choice(NAMES[:6]) or "rg"
        cluster = rng.choice(NAMES) + (accent if n % 7 == 0 else "")
        kind = rng.choice(["managedClusters"] * 6 + ["fleets"])
        resource_id = (
            f"/subscriptions/{sub}/resourceGroups/{group}/providers/Microsoft.ContainerService/{kind}/{cluster}"
        )
        if n % 11 == 0:
            resource_id = resource_id.upper()  # a case variant of the same resource
        if n % 23 == 0:
            resource_id = f"/other/{cluster}"  # not under a subscription
        findings.append(
            Finding(
                rng.choice(["AKS-A", "AKS-B", "AKS-C", "AKS-ORD-01"]),
                rng.choice(STATUSES),
                rng.choice(SEVERITIES),
                resource_id,
                rng.choice([None, "", "p1", "P1", "p2"]),
                f"m{n}",
                cluster="" if n % 13 == 0 else cluster,
                subscription_id=sub.lower(),
                subscription_name=rng.choice(["", "Sub", "sub", "SUB two", 'Sub "3"']),
                resource_group=group,
                tags={"env": rng.choice(["prod", "dev"])},
                waiver=rng.choice([None, None, {"reason": "r", "resource": "*", "expires": "2027-01-01"}]),
            )
        )
    return findings


def _report_order(findings: list[Finding]) -> list[Finding]:
    canonical = sorted(findings, key=lambda f: (f.control_id, f.resource_id.lower(), f.node_pool or ""))
    return sorted(canonical, key=_sort_key)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_aggregates_in_duckdb_are_pythons(seed: int) -> None:
    findings = _fleet(seed)
    con = _table(findings)
    assert sql.run(con, "report/findings_ascii.sql").scalar() == 0
    ordered = _report_order(findings)
    scan: Any = SimpleNamespace(scope={"subscriptions": ["S5", "s1"]})

    counts, failing = _control_counts(con)
    for control in {f.control_id for f in findings}:
        for status in STATUSES:
            assert counts.get((control, status), 0) == sum(
                1 for f in findings if f.control_id == control and f.status == status
            )
    assert failing == _failing_resources(ordered)
    names = {"s2": "Named two"}
    assert _subscriptions_sql(con, dict(names), scan) == _subscriptions(ordered, dict(names), scan)
    top = _top_clusters_sql(con)
    assert top == _top_clusters(ordered) and top
    assert sql.run(con, "report/failing_clusters.sql").scalar() == len(
        {f.resource_id for f in findings if f.status == "fail" and f.cluster}
    )

    from_sql = ReportFindings()
    from_sql._model = SimpleNamespace(cursor=con)  # type: ignore[assignment]
    in_memory = ReportFindings(findings=ordered)
    for statuses in (("fail",), ("fail", "waived"), tuple(STATUSES)):
        assert from_sql.of_control("AKS-ORD-01", statuses) == in_memory.of_control("AKS-ORD-01", statuses)
    assert sorted(from_sql.waived(), key=_sort_key) == sorted(in_memory.waived(), key=_sort_key)
    assert from_sql.all() == ordered


def test_ties_rank_by_name_then_id() -> None:
    base = _fleet(4)[0]
    same = [
        replace(
            base, control_id="AKS-A", status="fail", severity="high", resource_id=f"/subscriptions/s/x/{n}", cluster=c
        )
        for n, c in enumerate(("b", "B", "a", "A"))
    ]
    con = _table(same)
    assert [r["cluster"] for r in _top_clusters_sql(con)] == [r["cluster"] for r in _top_clusters(_report_order(same))]
    assert [r["cluster"] for r in _top_clusters_sql(con)] == ["a", "A", "b", "B"]  # equal counts: name, then id


@pytest.mark.parametrize("accent", ["İ", "Éé", "\u212a"])  # the Kelvin sign lower-cases to ASCII k
def test_non_ascii_names_are_left_to_python(accent: str) -> None:
    assert sql.run(_table(_fleet(5, accent)), "report/findings_ascii.sql").scalar() > 0


def test_the_findings_read_after_the_drift_are_the_scans(tmp_path: Path) -> None:
    """The drift evaluates the earlier scan on the same store before the renderers read this scan's findings."""
    from tests.test_report_layout import _fleet as layout_fleet

    db = tmp_path / "a.duckdb"
    store_scan(db, layout_fleet(False), started_at=AS_OF - timedelta(days=30))
    scan_id = store_scan(db, layout_fleet(True))
    policy = load_policy(None, known_controls=control_ids())
    con = open_db(db)
    try:
        with build_report(con, scan_id, policy) as data:
            assert data.drift is not None and data.drift.scans == 2
            findings = data.findings
        with Model(con, scan_id, policy) as model:
            evaluate(model)
            expected = report_order(model.cursor, read_findings(model.cursor))
    finally:
        con.close()
    assert findings == expected and findings
    assert findings_digest(canonical_records(findings)) == data.findings_sha256
    assert data.failing_clusters == len({f.resource_id for f in findings if f.status == "fail" and f.cluster})
    assert data.totals == {s: sum(1 for f in findings if f.status == s) for s in data.totals}


def test_a_scan_with_non_ascii_names_is_aggregated_in_python_to_the_same_rows(tmp_path: Path) -> None:
    """Names DuckDB and Python lower-case alike (é): the Python path of build_report gives the SQL path's rows."""
    from tests.test_report_layout import _fleet as layout_fleet

    fleet = layout_fleet(True)
    for n, entry in enumerate(fleet[:6]):
        renamed = entry["name"] + "-é" * (n % 2)
        entry["id"] = entry["id"].replace(entry["name"], renamed)
        entry["name"] = renamed
    db = tmp_path / "a.duckdb"
    scan_id = store_scan(db, fleet)
    policy = load_policy(None, known_controls=control_ids())
    con = open_db(db)
    try:
        with build_report(con, scan_id, policy) as data:
            cursor = data.evaluation._cursor
            assert sql.run(cursor, "report/findings_ascii.sql").scalar() > 0  # the Python path
            scan: Any = data.scan
            names = dict(sql.run(cursor, "report/subscription_names.sql").rows)
            assert data.subscriptions == _subscriptions_sql(cursor, names, scan)
            assert data.top_clusters == _top_clusters_sql(cursor) and data.top_clusters
            counts, _ = _control_counts(cursor)
            for section in data.sections:
                assert section.counts == {s: counts.get((section.control.id, s), 0) for s in section.counts}
            assert data.failing_clusters == sql.run(cursor, "report/failing_clusters.sql").scalar()
    finally:
        con.close()
