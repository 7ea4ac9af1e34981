"""Everything a report shows, computed once from findings; renderers only format it."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, timedelta
from typing import Any

import duckdb

from auditor import sql
from auditor.controls import STATUSES, Control, Finding, evaluate, load_catalog
from auditor.integrity import NamedDigest, eval_findings_digest, findings_digest, sha256_hex
from auditor.maintenance_calendar import (
    REPORT_CHART_DAYS,
    CalendarEvent,
    MaintenanceCalendar,
    build_calendar,
    upcoming,
    weekly_load,
)
from auditor.model import Model
from auditor.paths import queries_dir
from auditor.policy import Policy
from auditor.report.drift import Drift, build_drift
from auditor.report.fleet import fleet_overview
from auditor.report.kubernetes import PDB_CONTROL, blocking_pdbs
from auditor.safetext import redact
from auditor.store import Scan, ScanScope, resolve_scan, scan_scopes
from auditor.timeline import describe_change, describe_target, describe_time, timeline
from auditor.version import __version__
from auditor.vocabulary import Severity, score

# The statuses a reader must look at, in the order a control section lists them.
ATTENTION = ("fail", "warn", "unknown", "waived")
TOP_RISKS = 6
TOP_CLUSTERS = 10


@dataclass
class ControlSection:
    """One control's results; its findings are read from the evaluation when a renderer asks for them."""

    control: Control
    counts: dict[str, int]
    source: ReportFindings

    @property
    def findings(self) -> list[Finding]:
        """Fail, warn, unknown, waived: the ones that need a reader's attention, in that order."""
        return self.source.attention(self.control.id)

    @property
    def evaluated(self) -> int:
        return sum(self.counts.values())

    @property
    def score(self) -> float | None:
        """Share of decided verdicts that pass (waived counts as pass), None when nothing was decided."""
        return score(self.counts)

    @property
    def verdict(self) -> str:
        """The control's headline result: its worst status present."""
        for status in ("fail", "unknown", "warn", "waived", "pass"):
            if self.counts.get(status):
                return status
        return "not_applicable"


@dataclass
class QueryFile:
    """One query file the scan or the evaluation ran, with its digest."""

    name: str
    kind: str  # 'Resource Graph (KQL)', 'model (DuckDB SQL)', 'control (DuckDB SQL)'
    text: str
    sha256: str
    show_text: bool


# Each collector's call, what it reads and the kind of evidence item it returns (auditor/collect/): the method
# appendix counts each call's items against the call, so "cluster" items sit beside the Resource Graph query.
CALLS: dict[str, tuple[str, str]] = {
    "subscription": ("Subscriptions the credential can read (ARM)", "subscription"),
    "resource_graph": ("Resource Graph: managed clusters", "cluster"),
    "resource_change": ("Resource Graph: resource changes of the last 14 days", "resource_change"),
    "scheduled_event": ("Resource Graph: AKS scheduled events", "scheduled_event"),
    "kubernetes_versions": ("AKS: Kubernetes versions, once per region", "kubernetes_versions"),
    "maintenance_configurations": ("AKS: maintenance configurations, once per cluster", "maintenance_configurations"),
    "pool_upgrade_profile": (
        "AKS: agent-pool upgrade profiles, once per region and image family",
        "pool_upgrade_profile",
    ),
}


def call_rows(stats: dict[str, Any], evidence_kinds: dict[str, int]) -> list[dict[str, Any]]:
    """One row per call made (and per kind of evidence no known call accounts for): what it reads, calls,
    retries and the items it returned."""
    calls, retries = stats.get("calls", {}), stats.get("retries", {})
    rows = []
    claimed = set()
    for call in sorted(set(calls) | {c for c, (_, kind) in CALLS.items() if kind in evidence_kinds}):
        label, kind = CALLS.get(call, (call, call))
        claimed.add(kind)
        rows.append(
            {
                "call": call,
                "label": label,
                "calls": calls.get(call, 0),
                "retries": retries.get(call, 0),
                "returned": evidence_kinds.get(kind, 0),
                "kind": kind,
            }
        )
    for kind in sorted(set(evidence_kinds) - claimed):
        rows.append(
            {"call": kind, "label": kind, "calls": None, "retries": 0, "returned": evidence_kinds[kind], "kind": kind}
        )
    return rows


@dataclass
class ReportData:
    """The content of every report format."""

    scan: Scan
    policy: Policy
    evaluation: ReportFindings  # the findings, read from DuckDB when a renderer asks for them
    sections: list[ControlSection]
    subscriptions: list[dict[str, Any]]
    errors: list[dict[str, Any]]
    queries: list[QueryFile]
    findings_sha256: str
    generated_at: datetime
    tool_version: str = __version__
    totals: dict[str, int] = field(default_factory=dict)
    clusters: int = 0
    pools: int = 0
    versions: dict[str, int] = field(default_factory=dict)
    image_ages: list[int] = field(default_factory=list)
    tenants: list[str] = field(default_factory=list)
    as_of: date | None = None
    evidence_rows: int = 0
    evidence_kinds: dict[str, int] = field(default_factory=dict)
    catalog_sha256: str = ""
    top_risks: list[dict[str, Any]] = field(default_factory=list)
    top_clusters: list[dict[str, Any]] = field(default_factory=list)
    exceptions: list[dict[str, Any]] = field(default_factory=list)
    error_summary: list[dict[str, Any]] = field(default_factory=list)
    drift: Drift | None = None  # the drift section: scans up to this one (auditor.report.drift)
    # Upgrade timelines of the clusters that fail AKS-ORD-01 (the upgrade ledger as of this scan).
    timelines: list[dict[str, Any]] = field(default_factory=list)
    # Azure Kubernetes Fleet Manager: strategies, profiles, latest update runs and their gates (auditor.report.fleet).
    fleets: list[dict[str, Any]] = field(default_factory=list)
    # Blocking PodDisruptionBudgets of the clusters that fail AKS-PDB-01 (auditor/report/kubernetes.py).
    blocking_pdbs: list[dict[str, Any]] = field(default_factory=list)
    # The population reconciliation (scan_coverage), gaps first; None for a scan made before it was recorded.
    coverage: list[dict[str, Any]] | None = None
    # Nodes outside agent pools that no control can see, one row per cluster and kind (model table unseen_nodes).
    not_covered: list[dict[str, Any]] = field(default_factory=list)
    # What the scan covered as asked (tenant, named subscriptions or management groups): drift compares only these.
    scope: ScanScope | None = None
    # The maintenance calendar from the scan's start (auditor.maintenance_calendar): chart weeks, table days.
    calendar: MaintenanceCalendar | None = None
    calendar_load: dict[str, list[list[int]]] = field(default_factory=dict)
    calendar_upcoming: list[CalendarEvent] = field(default_factory=list)
    failing_clusters: int = 0  # clusters (resources with a cluster name) that fail a control

    @property
    def findings(self) -> list[Finding]:
        """Every finding in the report's order, read from the evaluation on first use."""
        return self.evaluation.all()

    def close(self) -> None:
        """Release the evaluation (its model and findings in DuckDB); the findings read so far stay readable."""
        self.evaluation.close()

    def __enter__(self) -> ReportData:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def coverage_totals(self) -> dict[str, int]:
        """In scope, reached, forbidden, not listed, unreconciled, unproven; clusters per source."""
        rows = self.coverage or []
        return {
            "in_scope": len(rows),
            "reached": sum(1 for r in rows if r["arm_clusters"] is not None),
            "complete": sum(1 for r in rows if r["status"] == "complete"),
            "forbidden": sum(1 for r in rows if r["status"] == "forbidden"),
            "not_listed": sum(1 for r in rows if r["status"] == "not_listed"),
            "unreconciled": sum(1 for r in rows if r["status"] == "unreconciled"),
            "unproven": sum(1 for r in rows if r["status"] == "error"),
            "graph_clusters": sum(r["graph_clusters"] for r in rows),
            "arm_clusters": sum(r["arm_clusters"] or 0 for r in rows),
            "missing_clusters": sum(r["missing_clusters"] or 0 for r in rows),
        }

    @property
    def coverage_gaps(self) -> list[dict[str, Any]]:
        return [r for r in self.coverage or [] if r["status"] != "complete"]

    @property
    def score(self) -> float:
        """Share of decided verdicts that pass (waived counts as pass; unknown counts against)."""
        return score(self.totals) or 0.0

    @property
    def failing_controls(self) -> int:
        return sum(1 for s in self.sections if s.counts.get("fail"))

    @property
    def calls(self) -> list[dict[str, Any]]:
        """The method appendix's table of calls and the evidence items each returned."""
        return call_rows(self.scan.stats, self.evidence_kinds)

    @property
    def expired_waivers(self) -> int:
        return sum(1 for e in self.exceptions if e["state"] == "expired")


_FINDING_FIELDS = tuple(f.name for f in fields(Finding))


def finding_dict(finding: Finding) -> dict[str, Any]:
    """A finding as a dict: Finding.as_dict() without its deep copy (the values are plain JSON already).

    About twenty times faster than dataclasses.asdict at 200,000 findings; callers must not mutate nested
    values (tags, waiver), which are the finding's own.
    """
    return {name: getattr(finding, name) for name in _FINDING_FIELDS}


def canonical_records(findings: list[Finding]) -> Iterator[dict[str, Any]]:
    """The findings as records in the digest's canonical order (control, lower-case resource id, pool), for
    integrity.findings_digest: the same digest as controls.findings_digest, in flat memory."""
    for finding in sorted(findings, key=lambda f: (f.control_id, f.resource_id.lower(), f.node_pool or "")):
        yield finding_dict(finding)


def _sort_key(f: Finding) -> tuple[str, str, str, str, str]:
    return (f.control_id, f.subscription_name.lower(), f.resource_group.lower(), f.cluster.lower(), f.node_pool or "")


_BATCH = 8192


def plain_names(cursor: duckdb.DuckDBPyConnection) -> bool:
    """Whether every name and resource id the report lower-cases is ASCII: DuckDB's lower() is then Python's."""
    return not sql.run(cursor, "report/findings_ascii.sql").scalar()


def report_order(
    cursor: duckdb.DuckDBPyConnection, findings: list[Finding], plain: bool | None = None
) -> list[Finding]:
    """The evaluation's findings (in canonical order, as read_findings gives them) in the report's order: _sort_key,
    ties kept in canonical order. Ordered by DuckDB when the names it lower-cases are ASCII (plain_names, asked
    unless given: case folding then agrees with Python's), else by Python."""
    if not (plain_names(cursor) if plain is None else plain):
        return sorted(findings, key=_sort_key)
    return [findings[position] for (position,) in sql.run(cursor, "report/findings_order.sql")]


class _TextCache:
    """Each distinct tags or waiver text parsed once: a cluster's tags repeat on every finding of it, and parsing
    them was a third of reading the findings. Findings share those dicts; nothing mutates them."""

    def __init__(self) -> None:
        self.parsed: dict[str, Any] = {}

    def load(self, text: str) -> Any:
        value = self.parsed.get(text)
        if value is None:
            value = self.parsed[text] = json.loads(text)
        return value

    def finding(self, row: tuple[Any, ...]) -> Finding:
        """A row of a report finding query (Finding's fields in field order, tags and waiver as JSON text)."""
        return Finding.from_row(row, self.load)


def read_findings(cursor: duckdb.DuckDBPyConnection) -> list[Finding]:
    """The evaluation's findings on cursor (`eval_findings`) in canonical order, as Evaluation.findings() reads
    them, but each distinct tags or waiver text parsed once."""
    texts = _TextCache()
    findings: list[Finding] = []
    first = 1
    while rows := sql.run(cursor, "report/findings.sql", first=first, last=first + _BATCH - 1).rows:
        findings.extend(texts.finding(row) for row in rows)
        first += _BATCH
    return findings


class ReportFindings:
    """The findings of a report: left in DuckDB (`eval_findings` on the model's cursor) until a renderer asks for
    them, then read once, in the report's order. Owns the model: close() releases it."""

    def __init__(self, model: Model | None = None, findings: list[Finding] | None = None) -> None:
        self._model = model
        self._all = findings
        self._attention: dict[str, list[Finding]] | None = None
        self._plain: bool | None = None

    def plain(self) -> bool:
        """plain_names of the evaluation, asked once: the aggregates and the report's order both depend on it."""
        if self._plain is None:
            self._plain = plain_names(self._cursor)
        return self._plain

    @property
    def _cursor(self) -> duckdb.DuckDBPyConnection:
        if self._model is None:
            raise RuntimeError("the report's evaluation is closed and its findings were not read")
        return self._model.cursor

    def all(self) -> list[Finding]:
        """Every finding in the report's order (control, subscription, group, cluster, pool)."""
        if self._all is None:
            self._all = report_order(self._cursor, read_findings(self._cursor), self.plain())
        return self._all

    def canonical(self) -> Iterator[dict[str, Any]]:
        """Every finding as a record in the digest's canonical order (canonical_records)."""
        return canonical_records(self.all())

    def attention(self, control_id: str) -> list[Finding]:
        """A control's fail, warn, unknown and waived findings, in that order, each in the report's order."""
        if self._attention is None:
            by_control: dict[str, list[Finding]] = defaultdict(list)
            for finding in self.all():
                if finding.status in ATTENTION:
                    by_control[finding.control_id].append(finding)
            for findings in by_control.values():
                # Stable sort: within a status, the findings keep the (subscription, group, cluster, pool) order.
                findings.sort(key=lambda f: ATTENTION.index(f.status))
            self._attention = dict(by_control)
        return self._attention.get(control_id, [])

    def of_control(self, control_id: str, statuses: tuple[str, ...]) -> list[Finding]:
        """A control's findings with one of the statuses, in the report's order."""
        if self._all is not None:
            return [f for f in self._all if f.control_id == control_id and f.status in statuses]
        texts = _TextCache()
        rows = sql.run(self._cursor, "report/findings_of.sql", control_id=control_id, statuses=list(statuses))
        # Sorted by Python (stable on the canonical order): the same order as report_order, for a few findings.
        return sorted((texts.finding(row) for row in rows), key=_sort_key)

    def waived(self) -> list[Finding]:
        """The findings that record a waiver (active or expired)."""
        if self._all is not None:
            return [f for f in self._all if f.waiver]
        texts = _TextCache()
        return [texts.finding(row) for row in sql.run(self._cursor, "report/findings_waived.sql")]

    def close(self) -> None:
        if self._model is not None:
            self._model.close()
            self._model = None


def build_report(con: duckdb.DuckDBPyConnection, scan_selector: str, policy: Policy) -> ReportData:
    """Evaluate the scan and gather what the reports show. The findings stay in DuckDB until a renderer reads them:
    the report keeps the scan's model open, so close it (or use it as a context manager) when rendering is done."""
    scan = resolve_scan(con, scan_selector)
    model = Model(con, scan.scan_id, policy)
    try:
        return _build_report(model, scan, policy)
    except BaseException:
        model.close()
        raise


def _build_report(model: Model, scan: Scan, policy: Policy) -> ReportData:
    con = model.cursor
    evaluate(model)
    findings = ReportFindings(model)
    catalog = load_catalog()
    sub_names: dict[str, str] = dict(sql.run(con, "report/subscription_names.sql").rows)
    if not findings.plain():
        # DuckDB's lower() might not be Python's on these names: the aggregates over the Finding objects.
        everything = findings.all()
        sections = _sections(catalog, everything, findings)
        subscriptions = _subscriptions(everything, sub_names, scan)
        top_clusters = _top_clusters(everything)
        failing_resources = _failing_resources(everything)
    else:
        counts, failing_resources = _control_counts(con)
        sections = [
            ControlSection(control, {s: counts.get((control.id, s), 0) for s in STATUSES}, findings)
            for control in catalog
        ]
        subscriptions = _subscriptions_sql(con, sub_names, scan)
        top_clusters = _top_clusters_sql(con)
    as_of_rows = sql.run(con, "report/as_of.sql").rows
    as_of: date | None = as_of_rows[0][0] if as_of_rows else None
    error_rows = sql.run(con, "report/errors.sql")
    # Messages are redacted before they are stored; redacted again here for scans stored by older versions.
    errors = [
        dict(zip(("call", "scope", "status", "code", "message"), (*row[:4], redact(row[4] or "")), strict=True))
        for row in error_rows
    ]
    error_counts = Counter((e["call"], e["status"], e["code"] or "") for e in errors)
    error_summary = [
        {"call": call, "status": status, "code": code, "count": n}
        for (call, status, code), n in sorted(error_counts.items(), key=lambda kv: (-kv[1], kv[0][0]))
    ]
    versions = dict(sql.run(con, "report/versions.sql").rows)
    image_ages = [r[0] for r in sql.run(con, "report/image_ages.sql")]
    clusters, pools = sql.run(con, "report/inventory.sql").one()
    tenants = [r[0] for r in sql.run(con, "report/tenants.sql", scan_id=scan.scan_id)]
    evidence_kinds = dict(sql.run(con, "report/evidence_kinds.sql", scan_id=scan.scan_id).rows)
    totals = Counter[str]()
    for section in sections:
        totals.update(section.counts)
    queries, catalog_sha256 = query_files(catalog)
    timelines = upgrade_timelines(model, findings.of_control("AKS-ORD-01", ("fail",)))
    fleets = fleet_overview(con, findings.of_control("AKS-FLT-01", STATUSES))
    blocking = blocking_pdbs(con, findings.of_control(PDB_CONTROL, ("fail", "waived")))
    coverage = scan_coverage(con, scan.scan_id)
    not_covered = [
        dict(zip(("resource_id", "cluster", "subscription", "node_pool", "kind", "detail"), row, strict=True))
        for row in sql.run(con, "report/not_covered.sql")
    ]
    # The calendar as of the scan (not of the reading), from the model tables of this scan.
    start = scan.started_at.replace(tzinfo=UTC)
    calendar = build_calendar(
        con, start, start + timedelta(days=REPORT_CHART_DAYS), environment_tag=str(policy.thresholds["ring_tag"])
    )
    # In DuckDB over the evaluation's table (several times faster than encoding the Finding objects); in Python
    # when the table's order might not be the digest's.
    findings_sha256 = eval_findings_digest(con) or findings_digest(findings.canonical())
    # Last, as it evaluates earlier scans on con: the model tables above are this scan's until here.
    drift = build_drift(con, scan, policy)
    return ReportData(
        scan=scan,
        policy=policy,
        evaluation=findings,
        sections=sections,
        subscriptions=subscriptions,
        errors=errors,
        queries=queries,
        findings_sha256=findings_sha256,
        generated_at=datetime.now(UTC),
        totals={s: totals.get(s, 0) for s in STATUSES},
        clusters=clusters,
        pools=pools,
        versions=versions,
        image_ages=image_ages,
        tenants=tenants,
        as_of=as_of,
        evidence_rows=sum(evidence_kinds.values()),
        evidence_kinds=evidence_kinds,
        catalog_sha256=catalog_sha256,
        top_risks=_top_risks(sections, failing_resources),
        top_clusters=top_clusters,
        exceptions=_exceptions(policy, findings.waived(), as_of),
        error_summary=error_summary,
        drift=drift,
        timelines=timelines,
        fleets=fleets,
        blocking_pdbs=blocking,
        coverage=coverage,
        not_covered=not_covered,
        scope=scan_scopes(con, [scan])[scan.scan_id],
        calendar=calendar,
        calendar_load=weekly_load(calendar, policy.thresholds["ring_order"]),
        calendar_upcoming=upcoming(calendar),
        failing_clusters=int(sql.run(con, "report/failing_clusters.sql").scalar()),
    )


_COVERAGE_COLUMNS = (
    "subscription_id",
    "display_name",
    "in_scope_by",
    "listed",
    "cluster_read",
    "graph_clusters",
    "arm_clusters",
    "missing_clusters",
    "status",
    "note",
)
_COVERAGE_ORDER = {"forbidden": 0, "not_listed": 1, "unreconciled": 2, "error": 3, "complete": 4}


def scan_coverage(con: duckdb.DuckDBPyConnection, scan_id: str) -> list[dict[str, Any]] | None:
    """The scan's coverage rows, gaps first; None when the scan recorded none (made before schema version 4)."""
    rows = [
        dict(zip(_COVERAGE_COLUMNS, row, strict=True)) for row in sql.run(con, "report/coverage.sql", scan_id=scan_id)
    ]
    rows.sort(key=lambda r: (_COVERAGE_ORDER.get(r["status"], 9), str(r["display_name"] or "").lower()))
    return rows or None


TIMELINE_EVENTS = 40  # per cluster, the latest; `auditor history --cluster NAME` prints them all


def upgrade_timelines(model: Model, findings: list[Finding]) -> list[dict[str, Any]]:
    """For each cluster that fails AKS-ORD-01 (of findings, in the report's order): the finding and the cluster's
    upgrade events, oldest first.

    Reads the ledger as of the model's scan (auditor.timeline).
    """

    failing = [f for f in findings if f.control_id == "AKS-ORD-01" and f.status == "fail"]
    if not failing:
        return []
    by_cluster: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in timeline(model, cluster_ids=[f.resource_id for f in failing]):
        by_cluster[event["cluster_id"]].append(event)
    out = []
    for finding in failing:
        events = by_cluster.get(finding.resource_id.lower(), [])
        out.append(
            {
                "cluster": finding.cluster,
                "resource_id": finding.resource_id,
                "resource_group": finding.resource_group,
                "subscription": finding.subscription_name or finding.subscription_id,
                "message": finding.message,
                "total": len(events),
                "events": [
                    {
                        "when": describe_time(e),
                        "target": describe_target(e),
                        "change": ("node image " if e["kind"] == "node-image" else "Kubernetes ") + describe_change(e),
                        "source": e["source"],
                        "campaign": e.get("campaign") or "",
                        "note": e.get("note") or "",
                    }
                    for e in events[-TIMELINE_EVENTS:]
                ],
            }
        )
    return out


def _is_fleet(resource_id: str) -> bool:
    """Whether a finding names an Azure Kubernetes Fleet Manager resource rather than a cluster."""
    return "/providers/microsoft.containerservice/fleets/" in resource_id.lower()


def _sections(catalog: tuple[Control, ...], findings: list[Finding], source: ReportFindings) -> list[ControlSection]:
    """One section per control of the catalog, its counts from the Finding objects."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for finding in findings:
        counts[finding.control_id][finding.status] += 1
    return [ControlSection(c, {s: counts[c.id].get(s, 0) for s in STATUSES}, source) for c in catalog]


def _control_counts(
    con: duckdb.DuckDBPyConnection,
) -> tuple[dict[tuple[str, str], int], dict[str, tuple[int, int]]]:
    """Per control and status the findings; per control the distinct resources and subscriptions of its failing
    findings, as _failing_resources counts them (in DuckDB)."""
    counts: dict[tuple[str, str], int] = {}
    failing: dict[str, tuple[int, int]] = {}
    for control, status, n, resources, subscriptions in sql.run(con, "report/control_counts.sql"):
        counts[control, status] = n
        if status == "fail":
            failing[control] = (resources, subscriptions)
    return counts, failing


def _failing_resources(findings: list[Finding]) -> dict[str, tuple[int, int]]:
    """Per control: the distinct resources and subscriptions of its failing findings."""
    resources: dict[str, set[str]] = defaultdict(set)
    subscriptions: dict[str, set[str]] = defaultdict(set)
    for f in findings:
        if f.status == "fail":
            resources[f.control_id].add(f.resource_id)
            subscriptions[f.control_id].add(f.subscription_id)
    return {c: (len(resources[c]), len(subscriptions[c])) for c in resources}


def _subscriptions(findings: list[Finding], names: dict[str, str], scan: Scan) -> list[dict[str, Any]]:
    """One row per subscription in scope, including those without clusters."""
    per_sub: dict[str, Counter[str]] = defaultdict(Counter)
    clusters_per_sub: dict[str, set[str]] = defaultdict(set)
    failing_clusters: dict[str, set[str]] = defaultdict(set)
    for finding in findings:
        sid = finding.subscription_id
        per_sub[sid][finding.status] += 1
        if finding.subscription_name:
            names.setdefault(sid, finding.subscription_name)
        if _is_fleet(finding.resource_id):
            continue  # a Fleet Manager resource (AKS-FLT-01) is not a cluster
        clusters_per_sub[sid].add(finding.resource_id)
        if finding.status == "fail":
            failing_clusters[sid].add(finding.resource_id)
    clusters = {sid: (len(ids), len(failing_clusters[sid])) for sid, ids in clusters_per_sub.items()}
    return _subscription_rows(per_sub, clusters, names, scan)


def _subscriptions_sql(con: duckdb.DuckDBPyConnection, names: dict[str, str], scan: Scan) -> list[dict[str, Any]]:
    """_subscriptions, counted in DuckDB (for ASCII names and resource ids, where its lower() is Python's)."""
    per_sub: dict[str, dict[str, int]] = defaultdict(dict)
    for sid, status, n in sql.run(con, "report/subscription_counts.sql"):
        per_sub[sid][status] = n
    clusters = {sid: (n, failing) for sid, n, failing in sql.run(con, "report/subscription_clusters.sql")}
    # A name from the findings only where the scan has none: the report's order is costly to find, and rarely asked.
    unnamed = sorted(sid for sid in per_sub if sid not in names)
    if unnamed:
        names.update(sql.run(con, "report/subscription_first_names.sql", subscriptions=unnamed).rows)
    return _subscription_rows(per_sub, clusters, names, scan)


def _subscription_rows(
    per_sub: Mapping[str, Mapping[str, int]],
    clusters: Mapping[str, tuple[int, int]],
    names: dict[str, str],
    scan: Scan,
) -> list[dict[str, Any]]:
    """The rows of the per-subscription table from the counts per status and the (clusters, failing clusters) per
    subscription, for every subscription in scope, by name."""
    in_scope = set(names) | set(per_sub) | {s.lower() for s in scan.scope.get("subscriptions", []) or []}
    rows = []
    for sid in in_scope:
        counts = {s: per_sub.get(sid, {}).get(s, 0) for s in STATUSES}
        n, failing = clusters.get(sid, (0, 0))
        rows.append(
            {
                "subscription_id": sid,
                "name": names.get(sid, ""),
                "clusters": n,
                "failing_clusters": failing,
                "score": score(counts),
                **counts,
            }
        )
    rows.sort(key=lambda r: (str(r["name"] or r["subscription_id"]).lower(), str(r["subscription_id"])))
    return rows


def _top_risks(sections: list[ControlSection], failing: dict[str, tuple[int, int]]) -> list[dict[str, Any]]:
    """The failing controls that matter most: severity times the number of failing resources. `failing`: per
    control, the distinct resources and subscriptions of its failing findings."""
    risky = [s for s in sections if s.counts.get("fail") or s.counts.get("unknown")]
    # Weight: severity doubles per level; a resource without evidence counts half a failing one.
    risky.sort(
        key=lambda s: (
            -Severity(s.control.severity).weight * (s.counts.get("fail", 0) + s.counts.get("unknown", 0) / 2),
            s.control.id,
        )
    )
    risks = []
    for s in risky[:TOP_RISKS]:
        resources, subscriptions = failing.get(s.control.id, (0, 0))
        risks.append(
            {
                "control": s.control,
                "fail": s.counts.get("fail", 0),
                "unknown": s.counts.get("unknown", 0),
                "evaluated": s.evaluated,
                "clusters": resources,
                "subscriptions": subscriptions,
                "share": round(100.0 * s.counts.get("fail", 0) / s.evaluated, 1) if s.evaluated else 0.0,
            }
        )
    return risks


def _top_clusters(findings: list[Finding]) -> list[dict[str, Any]]:
    """Clusters with the most failing controls, with the counts they are ranked by: failing controls, then those
    of high or critical severity, then failing findings (a pool-level control can fail on several pools)."""
    controls: dict[str, set[str]] = defaultdict(set)
    serious: dict[str, set[str]] = defaultdict(set)
    failing: Counter[str] = Counter()
    worst: dict[str, int] = {}
    first: dict[str, Finding] = {}
    for f in findings:
        if (
            f.status != "fail"
            or not f.cluster
            or not f.resource_id.lower().startswith("/subscriptions/")
            or _is_fleet(f.resource_id)
        ):
            continue
        key = f.resource_id.lower()
        rank = Severity(f.severity).rank
        controls[key].add(f.control_id)
        if rank >= Severity.HIGH.rank:
            serious[key].add(f.control_id)
        failing[key] += 1
        worst[key] = max(worst.get(key, 0), rank)
        first.setdefault(key, f)
    ranked = sorted(
        controls,
        key=lambda k: (-len(controls[k]), -len(serious[k]), -failing[k], first[k].cluster.lower(), k),
    )[:TOP_CLUSTERS]
    names = {s.rank: s.value for s in Severity}
    return [
        {
            "cluster": first[k].cluster,
            "resource_group": first[k].resource_group,
            "subscription": first[k].subscription_name or first[k].subscription_id,
            "failing_controls": len(controls[k]),
            "serious_controls": len(serious[k]),
            "failing_findings": failing[k],
            "controls": sorted(controls[k]),
            "worst": names[worst[k]],
        }
        for k in ranked
    ]


def _top_clusters_sql(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """_top_clusters, aggregated and ranked in DuckDB (for ASCII names and resource ids, where its lower() is
    Python's)."""
    serious = [s.value for s in Severity if s.rank >= Severity.HIGH.rank]
    ranked = sql.run(con, "report/top_clusters.sql", serious=serious, limit=TOP_CLUSTERS).rows
    names = {s.rank: s.value for s in Severity}
    return [
        {
            "cluster": first["cluster"],
            "resource_group": first["resource_group"],
            "subscription": first["subscription_name"] or first["subscription_id"],
            "failing_controls": len(controls),
            "serious_controls": serious_controls,
            "failing_findings": failing,
            "controls": list(controls),
            "worst": names[max(Severity(s).rank for s in severities)],
        }
        for _, controls, serious_controls, failing, severities, first in ranked
    ]


def _covers(waiver: Any, finding: Finding) -> bool:
    """Whether this waiver is the one recorded on the finding (active or expired)."""
    record = finding.waiver or {}
    if finding.control_id != waiver.control or record.get("reason") != waiver.reason:
        return False
    if "resource" in record:
        return bool(record["resource"] == waiver.resource and record.get("expires") == str(waiver.expires))
    return bool(waiver.matches(finding.control_id, finding.resource_id))


def _exceptions(policy: Policy, findings: list[Finding], as_of: date | None) -> list[dict[str, Any]]:
    """The exceptions register: every waiver of the policy, its state on the scan date, what it covered."""
    # Findings by the waiver recorded on them, so each waiver finds its own in one lookup (linear in waivers plus
    # findings); a record without the waiver's resource (an older cache) is matched the slow way.
    recorded: dict[tuple[str, str, str, str], list[Finding]] = {}
    unkeyed: list[Finding] = []
    for finding in findings:
        record = finding.waiver
        if not record:
            continue
        if "resource" in record:
            key = (finding.control_id, str(record.get("reason")), str(record["resource"]), str(record.get("expires")))
            recorded.setdefault(key, []).append(finding)
        else:
            unkeyed.append(finding)
    register = []
    for waiver in policy.waivers:
        expires = getattr(waiver, "expires", None)
        expired = bool(as_of and expires and not waiver.active(as_of))
        covered = recorded.get((waiver.control, waiver.reason, waiver.resource, str(waiver.expires)), []) + [
            f for f in unkeyed if _covers(waiver, f)
        ]
        register.append(
            {
                "control": waiver.control,
                "resource": waiver.resource,
                "reason": waiver.reason,
                "approver": waiver.approver,
                "expires": expires,
                "state": "expired" if expired else "active",
                "line": getattr(waiver, "line", None),
                "waived": sum(1 for f in covered if f.status == "waived"),
                "failing": sum(1 for f in covered if f.status == "fail"),
                "clusters": sorted(
                    {f"{f.cluster}/{f.node_pool}" if f.node_pool else f.cluster for f in covered}, key=str.lower
                ),
            }
        )
    register.sort(key=lambda e: (e["state"] != "expired", e["control"], str(e["expires"])))
    return register


def query_files(catalog: tuple[Control, ...]) -> tuple[list[QueryFile], str]:
    """The query files behind the scan and the findings, and one digest over the whole catalog."""
    root = queries_dir()
    files: list[QueryFile] = []
    groups = (
        ("kql/*.kql", "Resource Graph (KQL)", True),
        ("model/*.sql", "model (DuckDB SQL)", False),
        ("controls/*.sql", "control (DuckDB SQL)", True),
    )
    catalog_digest = NamedDigest()
    for pattern, kind, show in groups:
        for path in sorted(root.glob(pattern)):
            raw = path.read_bytes()
            name = str(path.relative_to(root))
            files.append(QueryFile(name, kind, raw.decode("utf-8"), sha256_hex(raw), show))
            if kind != "Resource Graph (KQL)":
                catalog_digest.add(name, raw)
    for control in catalog:
        meta = root / "controls" / f"{control.id}.toml"
        if meta.exists():
            catalog_digest.add(meta.name, meta.read_bytes())
    return files, catalog_digest.hexdigest()
