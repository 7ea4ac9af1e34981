"""Everything a report shows, computed once from findings; renderers only format it."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import duckdb

from auditor import __version__
from auditor.controls import STATUSES, Control, Finding, evaluate, findings_digest, load_catalog
from auditor.policy import Policy
from auditor.store import Scan, resolve_scan


@dataclass
class ControlSection:
    """One control's results."""

    control: Control
    counts: dict[str, int]
    findings: list[Finding]  # fail, warn, unknown, waived: the ones that need a reader's attention

    @property
    def evaluated(self) -> int:
        return sum(self.counts.values())


@dataclass
class ReportData:
    """The content of every report format."""

    scan: Scan
    policy: Policy
    findings: list[Finding]
    sections: list[ControlSection]
    subscriptions: list[dict[str, Any]]
    errors: list[dict[str, Any]]
    queries: list[tuple[str, str]]
    findings_sha256: str
    generated_at: datetime
    tool_version: str = __version__
    totals: dict[str, int] = field(default_factory=dict)
    clusters: int = 0
    pools: int = 0
    versions: dict[str, int] = field(default_factory=dict)
    image_ages: list[int] = field(default_factory=list)

    @property
    def score(self) -> float:
        """Share of decided cluster/pool verdicts that pass (waived counts as pass; unknown counts against)."""
        good = self.totals.get("pass", 0) + self.totals.get("waived", 0)
        judged = good + self.totals.get("fail", 0) + self.totals.get("warn", 0) + self.totals.get("unknown", 0)
        return round(100.0 * good / judged, 1) if judged else 0.0


def build_report(con: duckdb.DuckDBPyConnection, scan_selector: str, policy: Policy) -> ReportData:
    """Evaluate the scan and gather what the reports show."""
    from auditor.paths import queries_dir

    scan = resolve_scan(con, scan_selector)
    findings = evaluate(con, scan.scan_id, policy)
    by_control: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        by_control[finding.control_id].append(finding)
    sections = []
    for control in load_catalog():
        results = by_control.get(control.id, [])
        counts = Counter(f.status for f in results)
        attention = [f for f in results if f.status in ("fail", "warn", "unknown", "waived")]
        attention.sort(key=lambda f: (STATUSES.index(f.status) if f.status != "fail" else -1, f.cluster, f.node_pool or ""))
        sections.append(ControlSection(control, {s: counts.get(s, 0) for s in STATUSES}, attention))
    per_sub: dict[str, Counter[str]] = defaultdict(Counter)
    names: dict[str, str] = {}
    clusters_per_sub: dict[str, set[str]] = defaultdict(set)
    for finding in findings:
        per_sub[finding.subscription_id][finding.status] += 1
        names[finding.subscription_id] = finding.subscription_name
        clusters_per_sub[finding.subscription_id].add(finding.resource_id)
    subscriptions = [
        {"subscription_id": sid, "name": names[sid], "clusters": len(clusters_per_sub[sid]),
         **{s: per_sub[sid].get(s, 0) for s in STATUSES}}
        for sid in sorted(per_sub, key=lambda s: (names[s].lower(), s))
    ]
    errors = [
        dict(zip(("call", "scope", "status", "code", "message"), row, strict=True))
        for row in con.execute("SELECT call, scope, status, code, message FROM scan_errors ORDER BY call, scope")
        .fetchall()
    ]
    queries = [(str(p.relative_to(queries_dir())), p.read_text(encoding="utf-8"))
               for p in sorted(queries_dir().glob("kql/*.kql"))]
    versions = dict(con.execute(
        "SELECT coalesce(current_minor, 'unknown'), count(*) FROM clusters GROUP BY 1 ORDER BY 1").fetchall())
    image_ages = [r[0] for r in con.execute(
        "SELECT date_diff('day', image_date, (SELECT as_of FROM scan)) FROM node_pools WHERE image_date IS NOT NULL"
    ).fetchall()]
    counts_row = con.execute("SELECT (SELECT count(*) FROM clusters), (SELECT count(*) FROM node_pools)").fetchone()
    totals = Counter(f.status for f in findings)
    return ReportData(
        scan=scan, policy=policy, findings=findings, sections=sections, subscriptions=subscriptions,
        errors=errors, queries=queries, findings_sha256=findings_digest(findings),
        generated_at=datetime.now(UTC), totals={s: totals.get(s, 0) for s in STATUSES},
        clusters=counts_row[0] if counts_row else 0, pools=counts_row[1] if counts_row else 0,
        versions=versions, image_ages=image_ages,
    )
