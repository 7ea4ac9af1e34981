"""Drift across scans: per-scan results, failures new and resolved since the previous scan, how long open
failures have lasted, and the time to remediate (docs/trend.md).

Evaluating a 10,000-cluster scan takes about 1.7 s, so evaluating 24 scans on every `auditor trend` would
take 40 s. Findings are therefore kept once evaluated, in the `evaluations` and `findings` tables (migration
0003), keyed by scan and by an evaluator key: a SHA-256 over the tool version, the policy, the model and
control queries, the bundled AKS catalog and the evaluating code. A cached evaluation is read only under the
very key it was written with, so a changed policy, catalog, query or tool never reads stale findings: the scan
is evaluated again. Scans are immutable once committed, so nothing else can make a cached evaluation stale.
"""

from __future__ import annotations

import hashlib
import json
import statistics
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from auditor import __version__
from auditor.controls import STATUSES, Finding, evaluate, load_catalog
from auditor.errors import AuditorError
from auditor.paths import queries_dir
from auditor.policy import Policy
from auditor.store import Scan, list_scans

# Bump when what is cached changes shape or meaning: every cached evaluation is then recomputed.
CACHE_FORMAT = "1"
# Evaluations kept per scan (other policies, other tool versions); older ones go when a scan is cached.
KEEP_EVALUATORS = 4
_PACKAGE = Path(__file__).resolve().parent
# The code that decides findings (history.py, the upgrade ledger when present, feeds AKS-ORD-01/AKS-RNG-01).
_CODE = (
    "controls.py",
    "model.py",
    "nodeimage.py",
    "policy.py",
    "history.py",
    "trend.py",
    "catalog/__init__.py",
)

_NOT_EVALUATED = ("kql", "schema", "trend", "frameworks")

Progress = Callable[[str], None]


@cache
def _static_digest() -> str:
    """SHA-256 over the queries, the bundled catalog data and the evaluating code (fixed for a process)."""
    digest = hashlib.sha256()
    root = queries_dir()
    # Every query file evaluation may read (model, controls, the upgrade history, any added later); only the
    # collection queries, the schema, the export queries and the framework mappings cannot change a finding.
    files = sorted(
        p for p in root.rglob("*") if p.is_file() and p.relative_to(root).parts[0] not in _NOT_EVALUATED
    )
    for path in files:
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    for path in sorted((_PACKAGE / "catalog" / "data").glob("*")):
        digest.update(b"catalog/" + path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    for name in _CODE:
        path = _PACKAGE / name
        if path.exists():
            digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def evaluator_key(policy: Policy) -> str:
    """The cache key of evaluations under this policy with this tool, catalog and queries."""
    text = "\0".join((CACHE_FORMAT, __version__, policy.sha256, _static_digest()))
    return hashlib.sha256(text.encode()).hexdigest()


# ---------------------------------------------------------------------------------------------- the cache

_FINDING_COLUMNS = (
    "control_id",
    "status",
    "severity",
    "resource_id",
    "node_pool",
    "cluster",
    "resource_group",
    "subscription_id",
    "subscription_name",
    "location",
    "message",
    "remediation",
)


def store_evaluation(
    con: duckdb.DuckDBPyConnection,
    scan_id: str,
    policy: Policy,
    findings: list[Finding],
    key: str | None = None,
) -> None:
    """Cache the findings just evaluated for scan_id (the model tables on con must still be that scan's)."""
    row = con.execute("SELECT scan_id FROM scan").fetchone()
    if row is None or row[0] != scan_id:
        raise AuditorError(f"internal: the model tables are not those of scan {scan_id}")
    key = key or evaluator_key(policy)
    stats = con.execute(
        "SELECT (SELECT count(*) FROM subscriptions), (SELECT count(*) FROM clusters), "
        "(SELECT count(*) FROM node_pools), "
        "(SELECT quantile_cont(date_diff('day', image_date, (SELECT as_of FROM scan)), 0.5) FROM node_pools "
        " WHERE image_date IS NOT NULL), "
        "(SELECT quantile_cont(date_diff('day', image_date, (SELECT as_of FROM scan)), 0.9) FROM node_pools "
        " WHERE image_date IS NOT NULL)"
    ).fetchone()
    assert stats is not None
    versions = dict(
        con.execute(
            "SELECT coalesce(current_minor, 'unknown'), count(*) FROM clusters GROUP BY 1 ORDER BY 1"
        ).fetchall()
    )
    columns = {
        name: np.array([getattr(f, name) for f in findings], dtype=object) for name in _FINDING_COLUMNS
    }
    view = f"_cache_{hashlib.sha256(scan_id.encode()).hexdigest()[:12]}"
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM findings WHERE scan_id = ? AND evaluator = ?", [scan_id, key])
        con.execute("DELETE FROM evaluations WHERE scan_id = ? AND evaluator = ?", [scan_id, key])
        if findings:
            con.register(view, columns)
            try:
                con.execute(
                    f"INSERT INTO findings SELECT ?, ?, {', '.join(_FINDING_COLUMNS)} FROM {view}",
                    [scan_id, key],
                )
            finally:
                con.unregister(view)
        con.execute(
            "INSERT INTO evaluations "
            "SELECT ?, ?, evidence_sha256, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? FROM scans WHERE scan_id = ?",
            [
                scan_id,
                key,
                policy.sha256,
                policy.source,
                __version__,
                datetime.now(UTC).replace(tzinfo=None),
                len(findings),
                stats[0],
                stats[1],
                stats[2],
                json.dumps(versions),
                stats[3],
                stats[4],
                scan_id,
            ],
        )
        # Keep the newest few evaluators of this scan: other policies stay cached, old tool versions go.
        con.execute(
            "DELETE FROM findings WHERE scan_id = ? AND evaluator NOT IN (SELECT evaluator FROM evaluations "
            "WHERE scan_id = ? ORDER BY evaluated_at DESC LIMIT ?)",
            [scan_id, scan_id, KEEP_EVALUATORS],
        )
        con.execute(
            "DELETE FROM evaluations WHERE scan_id = ? AND evaluator NOT IN "
            "(SELECT evaluator FROM evaluations WHERE scan_id = ? ORDER BY evaluated_at DESC LIMIT ?)",
            [scan_id, scan_id, KEEP_EVALUATORS],
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def cached_scans(con: duckdb.DuckDBPyConnection, key: str) -> set[str]:
    """Scans with a usable evaluation under this key: only if the scan's evidence is still what was evaluated
    (scans are immutable once committed; this is belt and braces)."""
    rows = con.execute(
        "SELECT e.scan_id FROM evaluations e JOIN scans s ON s.scan_id = e.scan_id "
        "AND s.evidence_sha256 = e.evidence_sha256 WHERE e.evaluator = ?",
        [key],
    ).fetchall()
    return {r[0] for r in rows}


def ensure_evaluated(
    con: duckdb.DuckDBPyConnection, scans: Sequence[Scan], policy: Policy, progress: Progress | None = None
) -> str:
    """Evaluate and cache every scan not yet cached under this policy; returns the evaluator key."""
    key = evaluator_key(policy)
    cached = cached_scans(con, key)
    missing = [s for s in scans if s.scan_id not in cached]
    for number, scan in enumerate(missing, start=1):
        if progress:
            progress(f"evaluating scan {scan.scan_id} ({number} of {len(missing)}; kept for next time)")
        # A connection of its own per scan: the model's temp tables of one scan never meet another's, nor
        # those of the caller (a report still reads its own scan's model tables afterwards).
        cursor = con.cursor()
        try:
            store_evaluation(cursor, scan.scan_id, policy, evaluate(cursor, scan.scan_id, policy), key)
        finally:
            cursor.close()
    return key


# ---------------------------------------------------------------------------------------------- the trend


@dataclass
class TrendEntry:
    """One scan's results and what changed since the previous scan."""

    scan: Scan
    previous_scan_id: str | None
    controls: dict[str, dict[str, int]]
    new_findings: list[dict[str, Any]]
    resolved_findings: list[dict[str, Any]]
    unverified_findings: list[dict[str, Any]]
    fleet: dict[str, int]
    versions: dict[str, int]
    image_age_median: float | None
    image_age_p90: float | None

    @property
    def totals(self) -> dict[str, int]:
        return {s: sum(c.get(s, 0) for c in self.controls.values()) for s in STATUSES}

    @property
    def score(self) -> float | None:
        return score(self.totals)

    def as_dict(self) -> dict[str, Any]:
        return {
            "scan_id": self.scan.scan_id,
            "started_at": _iso(self.scan.started_at),
            "finished_at": _iso(self.scan.finished_at),
            "status": self.scan.status,
            "previous_scan_id": self.previous_scan_id,
            "score": self.score,
            "controls": self.controls,
            "new_findings": self.new_findings,
            "resolved_findings": self.resolved_findings,
            "unverified_findings": self.unverified_findings,
            "fleet": self.fleet,
            "versions": self.versions,
            "node_image_age_days": {"median": self.image_age_median, "p90": self.image_age_p90},
        }


@dataclass
class Trend:
    """Every scan of the window, oldest first, with the open failures and remediation times."""

    entries: list[TrendEntry]
    open_failures: list[dict[str, Any]]
    remediation: dict[str, Any]
    policy: Policy
    evaluator: str
    since: date | None = None
    baseline_scan_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "policy": {"source": self.policy.source, "sha256": self.policy.sha256},
            "evaluator": self.evaluator,
            "since": self.since.isoformat() if self.since else None,
            "baseline_scan_id": self.baseline_scan_id,
            "scans": [e.as_dict() for e in self.entries],
            "open_failures": self.open_failures,
            "remediation": self.remediation,
        }


def score(counts: dict[str, int]) -> float | None:
    """Share of decided verdicts that pass (waived counts as pass), as the report's score."""
    good = counts.get("pass", 0) + counts.get("waived", 0)
    judged = good + counts.get("fail", 0) + counts.get("warn", 0) + counts.get("unknown", 0)
    return round(100.0 * good / judged, 1) if judged else None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _days(later: datetime, earlier: datetime) -> float:
    return round((later - earlier).total_seconds() / 86400.0, 1)


def build_trend(
    con: duckdb.DuckDBPyConnection,
    policy: Policy,
    *,
    since: date | None = None,
    scans: Sequence[Scan] | None = None,
    progress: Progress | None = None,
) -> Trend:
    """The trend over the scans (every committed scan by default; from `since` on when given).

    With `since`, the last scan before it is read too, as the baseline of the first entry's comparison.
    """
    every = list(scans) if scans is not None else list_scans(con)
    baseline: Scan | None = None
    window = every
    if since is not None:
        window = [s for s in every if s.started_at.date() >= since]
        earlier = [s for s in every if s.started_at.date() < since]
        baseline = earlier[-1] if earlier else None
    computed = ([baseline] if baseline else []) + window
    key = ensure_evaluated(con, computed, policy, progress)
    if not window:
        return Trend([], [], _remediation([], {}), policy, key, since, baseline.scan_id if baseline else None)
    offset = 1 if baseline else 0
    _selection(con, computed)
    try:
        entries = _entries(con, key, computed, offset)
        open_failures, remediation = _runs(con, key, computed)
    finally:
        for table in ("_tsel", "_tkeys", "_tf"):
            con.execute(f"DROP TABLE IF EXISTS {table}")
    return Trend(
        entries, open_failures, remediation, policy, key, since, baseline.scan_id if baseline else None
    )


def _selection(con: duckdb.DuckDBPyConnection, scans: list[Scan]) -> None:
    con.execute("CREATE OR REPLACE TEMP TABLE _tsel (idx INTEGER, scan_id VARCHAR, partial BOOLEAN)")
    con.executemany(
        "INSERT INTO _tsel VALUES (?, ?, ?)",
        [(i, s.scan_id, s.status != "complete") for i, s in enumerate(scans)],
    )


def _entries(con: duckdb.DuckDBPyConnection, key: str, scans: list[Scan], offset: int) -> list[TrendEntry]:
    catalog_ids = [c.id for c in load_catalog()]
    counts: dict[int, dict[str, dict[str, int]]] = defaultdict(
        lambda: {cid: {s: 0 for s in STATUSES} for cid in catalog_ids}
    )
    for idx, control_id, status, n in con.execute(
        "SELECT t.idx, f.control_id, f.status, count(*) FROM findings f JOIN _tsel t USING (scan_id) "
        "WHERE f.evaluator = ? AND t.idx >= ? GROUP BY ALL",
        [key, offset],
    ).fetchall():
        counts[idx].setdefault(control_id, {s: 0 for s in STATUSES})[status] = n
    stats = {
        row[0]: row[1:]
        for row in con.execute(
            "SELECT t.idx, e.subscriptions, e.clusters, e.pools, CAST(e.versions AS VARCHAR), "
            "e.image_age_median, e.image_age_p90 FROM evaluations e JOIN _tsel t USING (scan_id) "
            "WHERE e.evaluator = ?",
            [key],
        ).fetchall()
    }
    # Keys that failed in some scan of the selection: only these can be new, resolved or unverified.
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _tkeys AS SELECT DISTINCT f.control_id, lower(f.resource_id) AS rkey, "
        "coalesce(f.node_pool, '') AS pool FROM findings f JOIN _tsel t USING (scan_id) "
        "WHERE f.evaluator = ? AND f.status = 'fail'",
        [key],
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _tf AS SELECT t.idx, t.partial, f.control_id, "
        "lower(f.resource_id) AS rkey, coalesce(f.node_pool, '') AS pool, f.status, f.severity, "
        "f.resource_id, f.node_pool, f.cluster, "
        "f.subscription_id, f.resource_group FROM findings f JOIN _tsel t USING (scan_id) "
        "SEMI JOIN _tkeys k ON f.control_id = k.control_id AND lower(f.resource_id) = k.rkey "
        "AND coalesce(f.node_pool, '') = k.pool WHERE f.evaluator = ?",
        [key],
    )
    changes: dict[int, dict[str, list[dict[str, Any]]]] = defaultdict(
        lambda: {"new": [], "resolved": [], "unverified": []}
    )
    for idx, control_id, resource_id, pool, cluster, before in con.execute(
        "SELECT c.idx, c.control_id, c.resource_id, c.node_pool, c.cluster, coalesce(p.status, 'absent') "
        "FROM _tf c LEFT JOIN _tf p ON p.idx = c.idx - 1 AND p.control_id = c.control_id AND p.rkey = c.rkey "
        "AND p.pool = c.pool WHERE c.status = 'fail' AND c.idx >= ? AND c.idx >= 1 "
        "AND coalesce(p.status, '') != 'fail' ORDER BY ALL",
        [offset],
    ).fetchall():
        changes[idx]["new"].append(
            {
                "control_id": control_id,
                "resource_id": resource_id,
                "node_pool": pool,
                "cluster": cluster,
                "before": before,
            }
        )
    last = len(scans) - 1
    for idx, partial, control_id, resource_id, pool, cluster, now in con.execute(
        "SELECT p.idx + 1, n.partial, p.control_id, p.resource_id, p.node_pool, p.cluster, "
        "coalesce(c.status, 'absent') FROM _tf p JOIN _tsel n ON n.idx = p.idx + 1 "
        "LEFT JOIN _tf c ON c.idx = p.idx + 1 AND c.control_id = p.control_id AND c.rkey = p.rkey "
        "AND c.pool = p.pool WHERE p.status = 'fail' AND p.idx + 1 <= ? AND coalesce(c.status, '') != 'fail' "
        "ORDER BY ALL",
        [last],
    ).fetchall():
        item = {
            "control_id": control_id,
            "resource_id": resource_id,
            "node_pool": pool,
            "cluster": cluster,
            "now": now,
        }
        # Unknown, or gone from a partial scan, is not a fix: the evidence is missing, not the failure.
        unverified = now == "unknown" or (now == "absent" and partial)
        changes[idx]["unverified" if unverified else "resolved"].append(item)
    entries = []
    for idx in range(offset, len(scans)):
        subscriptions, clusters, pools, versions, median, p90 = stats[idx]
        found = changes.get(idx, {"new": [], "resolved": [], "unverified": []})
        entries.append(
            TrendEntry(
                scan=scans[idx],
                previous_scan_id=scans[idx - 1].scan_id if idx else None,
                controls=counts[idx],
                new_findings=found["new"],
                resolved_findings=found["resolved"],
                unverified_findings=found["unverified"],
                fleet={"subscriptions": subscriptions, "clusters": clusters, "pools": pools},
                versions=dict(sorted(json.loads(versions).items(), key=lambda kv: _minor_sort(kv[0]))),
                image_age_median=median,
                image_age_p90=p90,
            )
        )
    return entries


def _minor_sort(minor: str) -> tuple[int, ...]:
    return tuple(int(p) if p.isdigit() else -1 for p in minor.split("."))


_RUNS_SQL = """
WITH obs AS (
    -- One state per failing key and scan: fail, ok, gone (resource no longer in a complete scan),
    -- or skip (unknown, or absent from a partial scan: no evidence either way, it neither breaks
    -- nor ends a run).
    SELECT k.control_id, k.rkey, k.pool, s.idx,
           CASE WHEN f.status = 'fail' THEN 'fail'
                WHEN f.status = 'unknown' THEN 'skip'
                WHEN f.status IS NULL AND s.partial THEN 'skip'
                WHEN f.status IS NULL THEN 'gone'
                ELSE 'ok' END AS state
    FROM _tkeys k CROSS JOIN _tsel s
    LEFT JOIN _tf f ON f.idx = s.idx AND f.control_id = k.control_id AND f.rkey = k.rkey AND f.pool = k.pool
),
seen AS (
    SELECT *, lag(state) OVER w AS before, lead(state) OVER w AS after, lead(idx) OVER w AS after_idx
    FROM obs WHERE state != 'skip'
    WINDOW w AS (PARTITION BY control_id, rkey, pool ORDER BY idx)
),
marked AS (
    SELECT *, sum(CASE WHEN state = 'fail' AND coalesce(before, '') != 'fail' THEN 1 ELSE 0 END)
              OVER (PARTITION BY control_id, rkey, pool ORDER BY idx) AS run
    FROM seen
)
SELECT control_id, rkey, pool, min(idx) AS first_idx, max(idx) AS last_idx, count(*) AS scans,
       arg_max_null(after, idx) AS ended_by, arg_max_null(after_idx, idx) AS ended_at
FROM marked WHERE state = 'fail'
GROUP BY control_id, rkey, pool, run
"""


def _runs(
    con: duckdb.DuckDBPyConnection, key: str, scans: list[Scan]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Open failures of the newest scan with their streak, and remediation times of the runs that ended."""
    last = len(scans) - 1
    latest = {
        (r[0], r[1], r[2]): r[3:]
        for r in con.execute(
            "SELECT control_id, rkey, pool, resource_id, node_pool, cluster, subscription_id, severity, "
            "resource_group "
            "FROM _tf WHERE idx = ? AND status = 'fail'",
            [last],
        ).fetchall()
    }
    open_failures: list[dict[str, Any]] = []
    fixed: dict[str, list[float]] = defaultdict(list)
    removed = 0
    for control_id, rkey, pool, first_idx, last_idx, count, ended_by, ended_at in con.execute(
        _RUNS_SQL
    ).fetchall():
        if ended_by is None:
            found = latest.get((control_id, rkey, pool))
            if found is None or last_idx != last:
                continue  # failing when last seen, not seen since (unverified): neither open nor fixed
            resource_id, node_pool, cluster, subscription_id, severity, resource_group = found
            open_failures.append(
                {
                    "control_id": control_id,
                    "severity": severity,
                    "resource_id": resource_id,
                    "cluster": cluster,
                    "node_pool": node_pool,
                    "resource_group": resource_group,
                    "subscription_id": subscription_id,
                    "since_scan_id": scans[first_idx].scan_id,
                    "since": _iso(scans[first_idx].started_at),
                    "scans": count,
                    "days": _days(scans[last].started_at, scans[first_idx].started_at),
                    "since_first_scan": first_idx == 0,
                }
            )
        elif ended_by == "ok":
            fixed[control_id].append(_days(scans[ended_at].started_at, scans[first_idx].started_at))
        else:
            removed += 1
    open_failures.sort(
        key=lambda f: (-f["days"], f["control_id"], f["resource_id"].lower(), f["node_pool"] or "")
    )
    return open_failures, _remediation(open_failures, fixed, removed)


def _remediation(
    open_failures: list[dict[str, Any]], fixed: dict[str, list[float]], removed: int = 0
) -> dict[str, Any]:
    every = [d for days in fixed.values() for d in days]
    open_by_control: dict[str, int] = defaultdict(int)
    for failure in open_failures:
        open_by_control[failure["control_id"]] += 1
    by_control = {}
    for control in load_catalog():
        days = fixed.get(control.id, [])
        by_control[control.id] = {
            "resolved": len(days),
            "mean_days": round(statistics.fmean(days), 1) if days else None,
            "median_days": round(statistics.median(days), 1) if days else None,
            "open": open_by_control.get(control.id, 0),
        }
    return {
        "resolved": len(every),
        "mean_days": round(statistics.fmean(every), 1) if every else None,
        "median_days": round(statistics.median(every), 1) if every else None,
        "removed_while_failing": removed,
        "open": len(open_failures),
        "by_control": by_control,
    }


# ---------------------------------------------------------------------------------------------- output


def trend_json(trend: Trend) -> str:
    return json.dumps(trend.as_dict(), indent=2, ensure_ascii=False)


def print_trend_table(trend: Trend) -> None:
    """The trend as tables on stdout: one row per scan, then compliance per control across the scans."""
    import sys

    from rich.console import Console
    from rich.table import Table

    # A terminal decides its width; a pipe or a file gets wide tables rather than folded cells.
    console = Console(file=sys.stdout, soft_wrap=False, width=None if sys.stdout.isatty() else 140)
    if not trend.entries:
        console.print("No scan in the selection.")
        return
    partial = any(e.scan.status != "complete" for e in trend.entries)
    table = Table(
        title=f"Scans (policy: {trend.policy.source})", caption="* partial scan" if partial else None
    )
    table.add_column("Scan", no_wrap=True)
    table.add_column("Date", no_wrap=True)
    for column in ("Clusters", "Pools", "Score", "Fail", "New", "Fixed", "Img age p50/p90"):
        table.add_column(column, justify="right", no_wrap=True)
    table.add_column("Top minor", no_wrap=True)
    for e in trend.entries:
        top = max(e.versions.items(), key=lambda kv: (kv[1], _minor_sort(kv[0])), default=("—", 0))
        table.add_row(
            e.scan.scan_id + ("*" if e.scan.status != "complete" else ""),
            e.scan.started_at.strftime("%Y-%m-%d"),
            f"{e.fleet['clusters']:,}",
            f"{e.fleet['pools']:,}",
            "—" if e.score is None else f"{e.score:.1f}%",
            f"{e.totals['fail']:,}",
            f"{len(e.new_findings):,}" if e.previous_scan_id else "—",
            f"{len(e.resolved_findings):,}" if e.previous_scan_id else "—",
            f"{_fmt(e.image_age_median)}/{_fmt(e.image_age_p90)} d",
            f"{top[0]} ({top[1]})",
        )
    console.print(table)
    per_control = Table(title="Score per control (pass share)")
    per_control.add_column("Control", no_wrap=True)
    shown = trend.entries[-6:]
    for e in shown:
        per_control.add_column(e.scan.started_at.strftime("%y-%m-%d"), justify="right", no_wrap=True)
    per_control.add_column("Open", justify="right", no_wrap=True)
    per_control.add_column("MTTR d", justify="right", no_wrap=True)
    for control in load_catalog():
        cells = []
        for e in shown:
            value = score(e.controls.get(control.id, {}))
            cells.append("—" if value is None else f"{value:.0f}%")
        stats = trend.remediation["by_control"].get(control.id, {})
        cells.append(str(stats.get("open", 0)))
        cells.append(_fmt(stats.get("mean_days")))
        per_control.add_row(control.id, *cells)
    console.print(per_control)
    r = trend.remediation
    console.print(
        f"Open failures: {r['open']}; remediated: {r['resolved']} (mean {_fmt(r['mean_days'])} d, "
        f"median {_fmt(r['median_days'])} d); removed while failing: {r['removed_while_failing']}"
    )


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}"


# ---------------------------------------------------------------------------------------------- the report


@dataclass
class Drift:
    """The report's drift section: the trend of the scans up to the report's scan, and its charts."""

    scans: int
    trend: Trend | None = None
    image_limit: int = 30
    _charts: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def enough(self) -> bool:
        return self.trend is not None and len(self.trend.entries) >= 2

    @property
    def entries(self) -> list[TrendEntry]:
        return self.trend.entries if self.trend else []

    @property
    def first(self) -> TrendEntry:
        return self.entries[0]

    @property
    def last(self) -> TrendEntry:
        return self.entries[-1]

    @property
    def open_failures(self) -> list[dict[str, Any]]:
        return self.trend.open_failures if self.trend else []

    @property
    def remediation(self) -> dict[str, Any]:
        return self.trend.remediation if self.trend else {}

    @cached_property
    def charts(self) -> dict[str, str]:
        from auditor.report import charts

        entries = self.entries
        labels = [e.scan.started_at.strftime("%Y-%m-%d") for e in entries]
        series = {c.id: [score(e.controls.get(c.id, {})) for e in entries] for c in load_catalog()}
        return {
            "compliance": charts.drift_compliance(labels, series, [e.score for e in entries]),
            "image_age": charts.drift_image_age(
                labels,
                [e.image_age_median for e in entries],
                [e.image_age_p90 for e in entries],
                self.image_limit,
            ),
            "versions": charts.drift_versions(labels, [e.versions for e in entries]),
            "changes": charts.drift_new_resolved(
                labels[1:],
                [len(e.new_findings) for e in entries[1:]],
                [len(e.resolved_findings) for e in entries[1:]],
            ),
        }


def build_drift(con: duckdb.DuckDBPyConnection, scan: Scan, policy: Policy, findings: list[Finding]) -> Drift:
    """The drift of the scans up to `scan`, for its report. `findings` are the scan's own, just evaluated on
    con (its model tables are still in place): they are cached rather than evaluated again."""
    every = [s for s in list_scans(con) if (s.started_at, s.scan_id) <= (scan.started_at, scan.scan_id)]
    limit = int(policy.thresholds.get("image_max_age_days", 30))
    if len(every) < 2:
        return Drift(scans=len(every), image_limit=limit)
    key = evaluator_key(policy)
    if scan.scan_id not in cached_scans(con, key):
        store_evaluation(con, scan.scan_id, policy, findings, key)
    return Drift(scans=len(every), trend=build_trend(con, policy, scans=every), image_limit=limit)
