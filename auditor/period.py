"""A period of time, as an auditor asks about it: every scan of one scope between two dates (docs/period.md).

The period layer sits above the findings cache (auditor/findings_cache.py) and below the reports: it reads the cached
findings of every scan in the period and the raw evidence of the same scans, and computes, in the SQL files of
queries/period/:

- per control, the share of scans in which each resource complied, and the resources out of compliance longest;
- patch latency: for every node pool and image family, the days from the first scan in which a newer node image
  was the newest of its region to the first scan in which the pool ran it; the same for the Kubernetes patches
  of control planes; both judged against the policy's `patch_deadline_days` (30 by default, as PCI DSS v4.0
  6.3.3 asks for critical patches), with p50/p90 per environment and image family (or minor);
- the exceptions (waivers) active in the period, and what each covered;
- the population of every scan (subscriptions, clusters, pools, failed calls, and its reconciliation where the scan
  recorded one: scan_coverage), so the auditor can reconcile it.

The same figures are returned by `auditor report --from --to` (period-report.pdf/.html, period.json) and by
`auditor trend --format json` (its "period" member). Every list has a total order: the same store and policy
give byte-identical figures.
"""

from __future__ import annotations

import hashlib
import io
import json
import statistics
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cached_property
from typing import Any

import duckdb

from auditor import sql
from auditor.controls import load_catalog
from auditor.errors import AuditorError
from auditor.findings_cache import ensure_cached
from auditor.model.functions import register_functions
from auditor.model.params import cluster_params as _cluster_params
from auditor.policy import Policy, Waiver
from auditor.store import Scan, ScanScope, list_scans, scan_scopes
from auditor.trend import Trend, build_trend, select_scope
from auditor.vocabulary import ProgressHook, score

# Where a period begins and ends when a bound is not given: the first and the last scan of the scope.
# Resources listed per control in the report (the JSON lists them all).
LONGEST_PER_CONTROL = 5
LATENCY_KINDS = ("node_image", "kubernetes_patch")
VERDICTS = ("on_time", "late", "overdue", "pending", "not_judged")


# ---------------------------------------------------------------------------------------------- the period


@dataclass
class Period:
    """The figures of one period (see the module docstring); `as_dict` is period.json."""

    start: date
    end: date
    requested: dict[str, str | None]
    scope: ScanScope
    policy: Policy
    evaluator: str
    scans: list[Scan]
    history_scans: int
    population: list[dict[str, Any]]
    compliance: list[dict[str, Any]]
    latency: dict[str, dict[str, Any]]
    exceptions: list[dict[str, Any]]
    scores: dict[str, list[float | None]] = field(default_factory=dict)  # control -> score per scan of the period
    fleet_scores: list[float | None] = field(default_factory=list)  # the fleet score per scan of the period
    notes: list[str] = field(default_factory=list)
    other_scopes: list[dict[str, Any]] = field(default_factory=list)

    @property
    def deadline_days(self) -> int:
        return int(self.policy.thresholds["patch_deadline_days"])

    @property
    def environment_tag(self) -> str:
        return str(self.policy.thresholds["ring_tag"])

    @property
    def scan_interval_days(self) -> dict[str, float | None]:
        gaps = [
            round((b.started_at - a.started_at).total_seconds() / 86400.0, 1)
            for a, b in zip(self.scans, self.scans[1:], strict=False)
        ]
        return {
            "median": round(statistics.median(gaps), 1) if gaps else None,
            "max": max(gaps) if gaps else None,
        }

    def figures(self) -> dict[str, Any]:
        """The figures, every list of rows as dicts (what the report templates read)."""
        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "requested": self.requested,
            "scope": self.scope.as_dict(),
            "other_scopes": self.other_scopes,
            "policy": {"source": self.policy.source, "sha256": self.policy.sha256},
            "evaluator": self.evaluator,
            "deadline_days": self.deadline_days,
            "environment_tag": self.environment_tag,
            "scans": len(self.scans),
            "history_scans": self.history_scans,
            "scan_interval_days": self.scan_interval_days,
            "population": self.population,
            "compliance": self.compliance,
            "scores": {"scans": [s.scan_id for s in self.scans], "fleet": self.fleet_scores, "controls": self.scores},
            "patch_latency": self.latency,
            "exceptions": self.exceptions,
            "notes": self.notes,
        }

    def as_dict(self) -> dict[str, Any]:
        """The figures as JSON-ready data (period.json; `auditor trend --format json` under "period"). The long
        lists (every pending update, every resource's share, every run) are tables, {"columns": [...], "rows":
        [[...], ...]}: at 10,000 clusters they hold hundreds of thousands of rows, and naming every field of every
        row would triple their size."""
        figures = self.figures()
        figures["compliance"] = [
            {
                **control,
                "longest": control["longest"].as_json(),
                "resource_shares": control["resource_shares"].as_json(),
            }
            for control in figures["compliance"]
        ]
        figures["patch_latency"] = {
            kind: {**values, "updates": values["updates"].as_json()}
            for kind, values in figures["patch_latency"].items()
        }
        return figures

    def write_json(self, out: Any) -> None:
        """period.json's text written in pieces (at 10,000 clusters it runs to hundreds of MB)."""
        json.dump(self.as_dict(), out, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        out.write("\n")

    def canonical_json(self) -> str:
        """period.json's text: compact, sorted keys, so the same store and policy give the same bytes."""
        buffer = io.StringIO()
        self.write_json(buffer)
        return buffer.getvalue()

    @cached_property
    def sha256(self) -> str:
        """SHA-256 of period.json, computed as it is written (never held whole)."""
        digest = _HashWriter()
        self.write_json(digest)
        return digest.hexdigest()


class _HashWriter:
    """A text sink that only hashes what is written (UTF-8)."""

    def __init__(self) -> None:
        self._digest = hashlib.sha256()

    def write(self, text: str) -> int:
        self._digest.update(text.encode("utf-8"))
        return len(text)

    def hexdigest(self) -> str:
        return self._digest.hexdigest()


class Table:
    """Rows of one long list, kept as DuckDB returned them (tuples in `columns` order): hundreds of thousands of
    dicts would cost gigabytes. Iterating or slicing gives dicts, with the cluster's name, resource group and
    subscription read from its ARM id."""

    def __init__(self, columns: Sequence[str], rows: list[tuple[Any, ...]] | None = None) -> None:
        self.columns = tuple(columns)
        self.rows: list[tuple[Any, ...]] = rows if rows is not None else []
        self._id = next((i for i, c in enumerate(self.columns) if c in ("cluster_id", "resource_id")), None)

    def __len__(self) -> int:
        return len(self.rows)

    def __bool__(self) -> bool:
        return bool(self.rows)

    def _dict(self, row: tuple[Any, ...]) -> dict[str, Any]:
        record = dict(zip(self.columns, row, strict=True))
        if self._id is not None:
            record.update(arm_parts(str(row[self._id] or "")))
        return record

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return (self._dict(row) for row in self.rows)

    def __getitem__(self, index: slice) -> list[dict[str, Any]]:
        return [self._dict(row) for row in self.rows[index]]

    def as_json(self) -> dict[str, Any]:
        return {"columns": list(self.columns), "rows": self.rows}


def arm_parts(resource_id: str) -> dict[str, str]:
    """The subscription, resource group and name in a cluster's ARM id."""
    parts = resource_id.split("/")
    lowered = [p.lower() for p in parts]

    def after(segment: str) -> str:
        return parts[lowered.index(segment) + 1] if segment in lowered[:-1] else ""

    return {
        "subscription_id": after("subscriptions").lower(),
        "resource_group": after("resourcegroups"),
        "cluster": parts[-1],
    }


# What re-performing a period compares: every figure but the bounds as typed (an open bound is the first or last
# scan, stated in "from" and "to"), the findings-cache key (which names the tool version) and where the policy
# file was read from (its digest is compared).
NOT_REPERFORMED = ("requested", "evaluator")


def figures_sha256(figures: dict[str, Any]) -> str:
    """SHA-256 of a period's figures (period.json's content) without NOT_REPERFORMED, canonical JSON."""
    kept = {k: v for k, v in figures.items() if k not in NOT_REPERFORMED}
    # The policy by its digest: the same file read from elsewhere (the PDF's attachment) is the same policy.
    kept["policy"] = {"sha256": dict(figures.get("policy") or {}).get("sha256")}
    return hashlib.sha256(
        json.dumps(kept, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    ).hexdigest()


def _execute(cursor: duckdb.DuckDBPyConnection, name: str, **params: Any) -> Table:
    """Run queries/period/<name> with its `$name` parameters (auditor.sql); the rows of its last statement
    (tuples, with their column names)."""
    sql_file = sql.load(f"period/{name}")
    sql_file.check(params)
    table = Table(())
    for statement in sql_file.statements:
        result = cursor.execute(statement.parsed, {k: params[k] for k in statement.parameters} or None)
        if result.description and statement.parsed.type == duckdb.StatementType.SELECT:
            # The same cluster id, image or date repeats across hundreds of thousands of rows: one string each.
            seen: dict[Any, Any] = {}
            rows = []
            while batch := result.fetchmany(50_000):
                rows += [tuple(seen.setdefault(v, v) if isinstance(v, str) else v for v in row) for row in batch]
            table = Table([d[0] for d in result.description], rows)
    return table


def _run(cursor: duckdb.DuckDBPyConnection, name: str, **params: Any) -> list[dict[str, Any]]:
    """Run one query file with its `$name` parameters; the rows of its last statement, as dicts (short lists)."""
    table = _execute(cursor, name, **params)
    return [dict(zip(table.columns, row, strict=True)) for row in table.rows]


def select_period_scans(
    con: duckdb.DuckDBPyConnection, start: date | None, end: date | None, scope: str | None = None
) -> tuple[ScanScope, list[Scan], list[Scan], list[dict[str, Any]]]:
    """The scope (the newest scan's up to `end`, or the one whose id starts with `scope`; auditor/store.py's
    ScanScope, as trend's), its scans up to `end` (history) and those from `start` on (the period), and the
    store's other scopes (id, label, scans) that were left out."""

    every = list_scans(con)
    if not every:
        raise AuditorError("the database holds no scan yet: run `auditor scan` first")
    upto = [s for s in every if end is None or s.started_at.date() <= end]
    if not upto:
        raise AuditorError(
            f"no scan on or before {end}: the store holds scans from {every[0].started_at:%Y-%m-%d} "
            f"to {every[-1].started_at:%Y-%m-%d}"
        )
    scopes = scan_scopes(con, every)
    if scope and scope != "latest":
        chosen, _, _ = select_scope(con, scope, every)  # an unknown or ambiguous id is a usage error
        assert chosen is not None
    else:
        chosen = scopes[upto[-1].scan_id]
    history = [s for s in upto if scopes[s.scan_id] == chosen]
    if not history:
        raise AuditorError(
            f"no scan of {chosen.label} on or before {end}: the store holds scans of it from "
            f"{min(s.started_at for s in every if scopes[s.scan_id] == chosen):%Y-%m-%d}"
        )
    period = [s for s in history if start is None or s.started_at.date() >= start]
    if not period:
        raise AuditorError(
            f"no scan of {chosen.label} between {start} and {end or 'now'}: the store holds scans of it from "
            f"{history[0].started_at:%Y-%m-%d} to {history[-1].started_at:%Y-%m-%d}"
        )
    counts: dict[str, int] = defaultdict(int)
    labels: dict[str, str] = {}
    for scan in upto:  # up to the end only: later scans never change a period's figures
        other = scopes[scan.scan_id]
        if other != chosen:
            counts[other.scope_id] += 1
            labels[other.scope_id] = other.label
    others = [{"id": sid, "label": labels[sid], "scans": counts[sid]} for sid in sorted(counts)]
    return chosen, history, period, others


def build_period(
    con: duckdb.DuckDBPyConnection,
    policy: Policy,
    *,
    start: date | None = None,
    end: date | None = None,
    scope: str | None = None,
    progress: ProgressHook | None = None,
) -> Period:
    """The figures of the period [start, end] (whole days, UTC; an open bound is the first or last scan) over
    the scans of one scope: the scope whose id starts with `scope`, or the newest scan's up to `end`."""
    if start and end and start > end:
        raise AuditorError(f"the period starts ({start}) after it ends ({end})")
    chosen, history, scans, others = select_period_scans(con, start, end, scope)
    key = ensure_cached(con, history, policy, progress)
    first_in_period = len(history) - len(scans)
    cursor = con.cursor()
    try:
        register_functions(cursor)
        # The model's SQL macros (minor_num, patch_num, ...): the period's queries parse versions the same way.
        sql.run(cursor, "model/00_macros.sql")
        sql.run_all(cursor, sql.files("shape"))  # the inventory reads the payloads as shaped_clusters/_pools parse them
        period_scans = [
            {
                "idx": i,
                "scan_id": s.scan_id,
                "started_at": s.started_at.astimezone(UTC).replace(tzinfo=None),
                "in_period": i >= first_in_period,
                "partial": s.status != "complete",
            }
            for i, s in enumerate(history)
        ]
        _run(cursor, "00_scans.sql", scans=period_scans)
        if progress:
            progress(
                f"computing the period over {len(scans)} scan(s) ({len(history) - len(scans)} earlier as history)", 0, 0
            )
        _run(cursor, "10_inventory.sql", ring_tag=str(policy.thresholds["ring_tag"]))
        _deadlines(cursor, policy)
        shares = _execute(cursor, "20_compliance.sql", evaluator=key)
        per_scan = _run(cursor, "21_per_scan.sql")
        runs = _execute(cursor, "30_longest.sql")
        _run(cursor, "40_image_latency.sql")
        _run(cursor, "50_kubernetes_latency.sql")
        _run(cursor, "60_latency.sql")
        summary = _run(cursor, "61_latency_summary.sql")
        latency_rows = _execute(cursor, "62_latency_rows.sql")
        population = _run(cursor, "70_population.sql")
        controls = sorted({w.control for w in policy.waivers})
        waiver_rows = _run(cursor, "80_waivers.sql", controls=controls) if controls else []
    finally:
        cursor.close()
    period_start = start or scans[0].started_at.date()
    period_end = end or scans[-1].started_at.date()
    result = Period(
        start=period_start,
        end=period_end,
        requested={"from": start.isoformat() if start else None, "to": end.isoformat() if end else None},
        scope=chosen,
        policy=policy,
        evaluator=key,
        scans=scans,
        history_scans=len(history) - len(scans),
        population=[_population_row(r) for r in population],
        compliance=_compliance(shares, runs, len(scans)),
        scores=_scores(per_scan, scans),
        fleet_scores=_fleet_scores(per_scan, scans),
        latency=_latency(summary, latency_rows),
        exceptions=_exceptions(policy, waiver_rows, period_start, period_end),
        other_scopes=others,
    )
    result.notes = _notes(result)
    return result


def trend_and_period(
    con: duckdb.DuckDBPyConnection,
    policy: Policy,
    *,
    since: date | None,
    until: date | None,
    scope: str | None = None,
    progress: ProgressHook | None = None,
    details: bool = True,
    with_period: bool = True,
) -> tuple[Trend, Period | None]:
    """`auditor trend`: the trend of the scans of one scope (`scope`, or the newest scan's up to `until`) from
    `since` to `until`, and the period's figures over the same days and scope (None when not asked for, or when
    the selection holds no scan)."""
    scans = [s for s in list_scans(con) if until is None or s.started_at.date() <= until]
    trend = build_trend(con, policy, since=since, scans=scans, scope=scope, progress=progress, details=details)
    if not with_period or not trend.entries or trend.scope is None:
        return trend, None
    return trend, build_period(con, policy, start=since, end=until, scope=trend.scope.scope_id, progress=progress)


def _deadlines(cursor: duckdb.DuckDBPyConnection, policy: Policy) -> None:
    """period_deadlines (cluster_key, deadline_days): patch_deadline_days as the policy's scopes set it for each
    cluster, matched on the cluster as last seen in the period (tags, subscription, resource group)."""

    _run(cursor, "05_deadline_clusters.sql")
    _cluster_params(cursor, policy)
    _run(cursor, "06_deadlines.sql")


def _iso(moment: Any) -> str | None:
    if moment is None:
        return None
    if isinstance(moment, datetime):
        return moment.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"
    return str(moment)


def _population_row(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "started_at": _iso(row["started_at"])}


# Share buckets of the compliance table: (label, lowest share included).
SHARE_BUCKETS = (("100%", 1.0), ("75–99%", 0.75), ("50–74%", 0.5), ("25–49%", 0.25), ("under 25%", 0.0))


def _bucket(share: float) -> str:
    for label, floor in SHARE_BUCKETS:
        if share >= floor:
            return label
    return SHARE_BUCKETS[-1][0]


def _split(table: Table, key: str) -> tuple[tuple[str, ...], dict[str, list[tuple[Any, ...]]]]:
    """A table's rows by the value of its first column `key`, the other columns kept."""
    assert table.columns[0] == key or not table.columns, table.columns
    groups: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for row in table.rows:
        groups[row[0]].append(row[1:])
    return table.columns[1:], groups


def _compliance(shares: Table, runs: Table, scans: int) -> list[dict[str, Any]]:
    """Per control: its resources' compliance shares and its longest runs out of compliance."""
    share_columns, by_control = _split(shares, "control_id")
    run_columns, runs_by_control = _split(runs, "control_id")
    observed_at, complied_at, share_at = (share_columns.index(c) for c in ("observed", "complied", "share"))
    out = []
    for control in load_catalog():
        resources = by_control.get(control.id, [])
        buckets = {label: 0 for label, _ in SHARE_BUCKETS}
        for r in resources:
            buckets[_bucket(r[share_at])] += 1
        observed = sum(r[observed_at] for r in resources)
        complied = sum(r[complied_at] for r in resources)
        out.append(
            {
                "control_id": control.id,
                "title": control.title,
                "level": control.level,
                "severity": control.severity,
                "scans": scans,
                "resources": len(resources),
                "always_complied": buckets["100%"],
                "never_complied": sum(1 for r in resources if r[complied_at] == 0),
                "verdicts": observed,
                "complied_verdicts": complied,
                "share": round(complied / observed, 4) if observed else None,
                "buckets": buckets,
                "longest": Table(run_columns, runs_by_control.get(control.id, [])),
                "resource_shares": Table(share_columns, resources),
            }
        )
    return out


def _scores(rows: list[dict[str, Any]], scans: list[Scan]) -> dict[str, list[float | None]]:
    """Per control, its score in each scan of the period (as the report's: pass and waived over decided)."""
    counts: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for row in rows:
        counts[(row["control_id"], row["scan_id"])][row["status"]] = row["n"]
    return {c.id: [score(counts.get((c.id, s.scan_id), {})) for s in scans] for c in load_catalog()}


def _fleet_scores(rows: list[dict[str, Any]], scans: list[Scan]) -> list[float | None]:
    """The fleet score of each scan of the period: every control's verdicts together."""
    totals: dict[str, dict[str, int]] = {s.scan_id: defaultdict(int) for s in scans}
    for row in rows:
        totals[row["scan_id"]][row["status"]] += row["n"]
    return [score(totals[s.scan_id]) for s in scans]


def _latency(summary: list[dict[str, Any]], rows: Table) -> dict[str, dict[str, Any]]:
    """Per kind: totals, per environment, per environment and group, and every pending release."""
    columns, by_kind = _split(rows, "kind")
    out: dict[str, dict[str, Any]] = {
        kind: {"total": None, "environments": [], "groups": [], "updates": Table(columns, by_kind.get(kind, []))}
        for kind in LATENCY_KINDS
    }
    for row in summary:
        entry = {k: v for k, v in row.items() if k != "kind"}
        target = out[row["kind"]]
        if row["environment"] is None:
            target["total"] = entry
        elif row["grp"] is None:
            target["environments"].append(entry)
        else:
            target["groups"].append(entry)
    return out


def _exceptions(policy: Policy, rows: list[dict[str, Any]], start: date, end: date) -> list[dict[str, Any]]:
    """The waivers active at some time in the period (expiring on or after its first day), with the verdicts
    each turned into `waived` and those that failed again once it had expired. A verdict is credited to the
    waiver the evaluation applies (the active matching one expiring last; once all expired, the last to)."""
    by_control: dict[str, list[Waiver]] = defaultdict(list)
    for waiver in policy.waivers:
        by_control[waiver.control].append(waiver)
    waived: dict[int, list[dict[str, Any]]] = defaultdict(list)
    failing: dict[int, list[dict[str, Any]]] = defaultdict(list)
    index = {id(w): n for n, w in enumerate(policy.waivers)}
    for row in rows:
        matching = [
            w
            for w in by_control[row["control_id"]]
            if w.matches(row["control_id"], row["resource_id"], row["node_pool"])
        ]
        if not matching:
            continue
        active = [w for w in matching if w.active(row["scan_date"])]
        waiver = max(active or matching, key=lambda w: (w.expires, -index[id(w)]))
        if row["status"] == "waived" and active:
            waived[index[id(waiver)]].append(row)
        elif row["status"] == "fail" and not active:
            failing[index[id(waiver)]].append(row)
    register = []
    for number, waiver in enumerate(policy.waivers):
        if waiver.expires < start:
            continue
        covered = waived.get(number, [])
        again = failing.get(number, [])
        register.append(
            {
                "control": waiver.control,
                "resource": waiver.resource,
                "reason": waiver.reason,
                "approver": waiver.approver,
                "expires": waiver.expires.isoformat(),
                "line": waiver.line,
                "state": "active throughout" if waiver.expires >= end else "expired during the period",
                "waived_verdicts": len(covered),
                "waived_resources": _names(covered),
                "failing_after_expiry": len(again),
                "failing_resources": _names(again),
            }
        )
    register.sort(key=lambda e: (e["control"], e["expires"], e["resource"], e["line"] or 0))
    return register


def _names(rows: list[dict[str, Any]]) -> list[str]:
    return sorted(
        {f"{r['cluster']}/{r['node_pool']}" if r["node_pool"] else r["cluster"] for r in rows},
        key=lambda n: (n.lower(), n),
    )


def _days(value: float) -> str:
    """'1 day', '31 days', '30.5 days'."""
    return f"{value:g} day" + ("" if value == 1 else "s")


def _notes(period: Period) -> list[str]:
    """What the reader must know to read the figures right."""
    notes = []
    interval = period.scan_interval_days["median"]
    if interval is not None and interval >= period.deadline_days:
        notes.append(
            f"The scans are {_days(interval)} apart (median), not less than the {_days(period.deadline_days)} of "
            "the deadline: latency is measured between scans, so a patch adopted by the next scan counts as "
            f"{_days(interval)} however soon it was applied. Scan more often (weekly) to show adoption within the "
            "deadline."
        )
    if period.history_scans == 0:
        notes.append(
            "The period begins with the scope's first scan: what was already pending or failing then is dated from "
            "that scan (marked ≥), since nothing earlier was seen."
        )
    partial = [p["scan_id"] for p in period.population if p["status"] != "complete"]
    if partial:
        notes.append(
            f"{len(partial)} scan(s) of the period are partial ({', '.join(partial)}): resources they could not "
            "see are neither compliant nor failing in them, and their population is incomplete."
        )
    unproven = [p["scan_id"] for p in period.population if p["coverage_recorded"] and p["subscriptions_not_covered"]]
    if unproven:
        notes.append(
            f"{len(unproven)} scan(s) of the period did not prove their population complete ({', '.join(unproven)}): "
            "some subscriptions in scope were not covered (see Population per scan and each scan's report)."
        )
    unrecorded = [p["scan_id"] for p in period.population if not p["coverage_recorded"]]
    if unrecorded:
        notes.append(
            f"{len(unrecorded)} scan(s) of the period were made before the population reconciliation was recorded "
            f"({', '.join(unrecorded)}): which subscriptions they covered is not proven."
        )
    if period.other_scopes:
        notes.append(
            "The store also holds scans of other scopes, left out of this period (`auditor report --scope ID` "
            "reports one of them): "
            + "; ".join(f"{o['label']} (id {o['id']}, {o['scans']} scan(s))" for o in period.other_scopes)
        )
    return notes
