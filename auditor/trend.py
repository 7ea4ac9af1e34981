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

import functools
import hashlib
import io
import json
import statistics
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache, cached_property
from pathlib import Path
from typing import IO, Any

import duckdb
import numpy as np

from auditor.controls import STATUSES, Finding, evaluate, load_catalog
from auditor.errors import AuditorError, InputError
from auditor.model import Model
from auditor.paths import queries_dir
from auditor.policy import Policy
from auditor.store import Scan, ScanScope, list_scans, rollback_quietly, scan_scopes
from auditor.version import __version__

# Bump when what is cached changes shape or meaning: every cached evaluation is then recomputed.
CACHE_FORMAT = "1"
# Evaluations kept per scan (other policies, other tool versions); older ones go when a scan is cached.
KEEP_EVALUATORS = 4
_PACKAGE = Path(__file__).resolve().parent
# The code that decides findings (ledger.py, the upgrade ledger when present, feeds AKS-ORD-01/AKS-RNG-01).
_CODE = (
    "controls/__init__.py",
    "controls/catalog.py",
    "controls/evaluate.py",
    "controls/finding.py",
    "controls/remediation.py",
    "model/__init__.py",
    "model/functions.py",
    "model/params.py",
    "model/windows.py",
    "nodeimage.py",
    "kubelabels.py",  # the label selector semantics behind AKS-PDB-01
    "policy.py",
    "ledger.py",
    "trend.py",
    "catalog/__init__.py",
    "maintenance_windows.py",
)

_NOT_EVALUATED = ("kql", "schema", "trend", "period", "frameworks")

Progress = Callable[[str], None]


@cache
def _static_digest() -> str:
    """SHA-256 over the queries, the bundled catalog data and the evaluating code (fixed for a process)."""
    digest = hashlib.sha256()
    root = queries_dir()
    # Every query file evaluation may read (model, controls, the upgrade history, any added later); only the
    # collection queries, the schema, the export queries and the framework mappings cannot change a finding.
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.relative_to(root).parts[0] not in _NOT_EVALUATED)
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
    columns = {name: np.array([getattr(f, name) for f in findings], dtype=object) for name in _FINDING_COLUMNS}
    view = f"_cache_{hashlib.sha256(scan_id.encode()).hexdigest()[:12]}"
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM findings WHERE scan_id = ? AND evaluator = ?", [scan_id, key])
        con.execute("DELETE FROM evaluations WHERE scan_id = ? AND evaluator = ?", [scan_id, key])
        if findings:
            con.register(view, columns)
            try:
                # New identities first (control, lower-case resource, pool), numbered after the last one...
                con.execute(
                    "INSERT INTO finding_keys SELECT (SELECT coalesce(max(key_id), 0) FROM finding_keys) "
                    "+ row_number() OVER (ORDER BY n.control_id, n.resource_key, n.node_pool), n.* FROM ("
                    "SELECT control_id, lower(resource_id) AS resource_key, "
                    "coalesce(node_pool, '') AS node_pool, min(resource_id), min(cluster), "
                    "min(resource_group), min(subscription_id) "
                    f"FROM {view} GROUP BY ALL) n ANTI JOIN finding_keys k ON k.control_id = n.control_id "
                    "AND k.resource_key = n.resource_key AND k.node_pool = n.node_pool"
                )
                # ...then the findings with their identity.
                con.execute(
                    f"INSERT INTO findings SELECT ?, ?, k.key_id, "
                    f"{', '.join('v.' + c for c in _FINDING_COLUMNS)} FROM {view} v JOIN finding_keys k "
                    "ON k.control_id = v.control_id AND k.resource_key = lower(v.resource_id) "
                    "AND k.node_pool = coalesce(v.node_pool, '')",
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
        rollback_quietly(con)  # an I/O error has already aborted it: keep that error, not the rollback's
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
        # Each scan's model on a cursor of its own: its tables never meet another scan's, nor the caller's.
        with Model(con, scan.scan_id, policy) as model:
            store_evaluation(model.cursor, scan.scan_id, policy, list(evaluate(model).findings()), key)
    return key


# ---------------------------------------------------------------------------------------------- the trend


@dataclass
class TrendEntry:
    """One scan's results and what changed since the previous scan.

    The lists of new, resolved and unverified findings are built only when asked for (`details`); their counts
    always are.
    """

    scan: Scan
    previous_scan_id: str | None
    controls: dict[str, dict[str, int]]
    fleet: dict[str, int]
    versions: dict[str, int]
    image_age_median: float | None
    image_age_p90: float | None
    new_count: int = 0
    resolved_count: int = 0
    unverified_count: int = 0
    lists_json: dict[str, str] = field(default_factory=dict, repr=False)  # name -> JSON array text

    @property
    def totals(self) -> dict[str, int]:
        return {s: sum(c.get(s, 0) for c in self.controls.values()) for s in STATUSES}

    @property
    def score(self) -> float | None:
        return score(self.totals)

    def _list(self, name: str) -> list[dict[str, Any]]:
        return list(json.loads(self.lists_json.get(name, "[]")))

    @cached_property
    def new_findings(self) -> list[dict[str, Any]]:
        return self._list("new_findings")

    @cached_property
    def resolved_findings(self) -> list[dict[str, Any]]:
        return self._list("resolved_findings")

    @cached_property
    def unverified_findings(self) -> list[dict[str, Any]]:
        return self._list("unverified_findings")

    def head(self) -> dict[str, Any]:
        """Everything but the lists."""
        return {
            "scan_id": self.scan.scan_id,
            "started_at": _iso(self.scan.started_at),
            "finished_at": _iso(self.scan.finished_at),
            "status": self.scan.status,
            "previous_scan_id": self.previous_scan_id,
            "score": self.score,
            "controls": self.controls,
            "fleet": self.fleet,
            "versions": self.versions,
            "node_image_age_days": {"median": self.image_age_median, "p90": self.image_age_p90},
            "counts": {
                "new": self.new_count,
                "resolved": self.resolved_count,
                "unverified": self.unverified_count,
            },
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.head(),
            "new_findings": self.new_findings,
            "resolved_findings": self.resolved_findings,
            "unverified_findings": self.unverified_findings,
        }


_LISTS = ("new_findings", "resolved_findings", "unverified_findings")


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
    # The scope every scan of the trend shares, and the other scopes the store holds scans of (id, label, scans).
    scope: ScanScope | None = None
    other_scopes: list[dict[str, Any]] = field(default_factory=list)

    def head(self) -> dict[str, Any]:
        return {
            "scope": self.scope.as_dict() if self.scope else None,
            "other_scopes": self.other_scopes,
            "policy": {"source": self.policy.source, "sha256": self.policy.sha256},
            "evaluator": self.evaluator,
            "since": self.since.isoformat() if self.since else None,
            "baseline_scan_id": self.baseline_scan_id,
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.head(),
            "scans": [e.as_dict() for e in self.entries],
            "open_failures": self.open_failures,
            "remediation": self.remediation,
        }

    def write_json(self, out: IO[str], extra: dict[str, Any] | None = None) -> None:
        """The trend as one compact JSON object, streamed (the lists of a large fleet run to hundreds of MB:
        they are written as DuckDB built them, never held as Python objects); `extra` members go last."""
        dump = functools.partial(json.dumps, ensure_ascii=False, separators=(",", ":"))
        out.write(dump(self.head())[:-1] + ',"scans":[')
        for number, entry in enumerate(self.entries):
            out.write(("," if number else "") + dump(entry.head())[:-1])
            for name in _LISTS:
                out.write(f',"{name}":{entry.lists_json.get(name, "[]")}')
            out.write("}")
        out.write('],"open_failures":')
        out.write(dump(self.open_failures))
        out.write(',"remediation":' + dump(self.remediation))
        for name, value in (extra or {}).items():
            out.write(f",{dump(name)}:")
            json.dump(value, out, ensure_ascii=False, separators=(",", ":"))  # in pieces, never one large text
        out.write("}\n")


def score(counts: dict[str, int]) -> float | None:
    """Share of decided verdicts that pass (waived counts as pass), as the report's score."""
    good = counts.get("pass", 0) + counts.get("waived", 0)
    judged = good + counts.get("fail", 0) + counts.get("warn", 0) + counts.get("unknown", 0)
    return round(100.0 * good / judged, 1) if judged else None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _days(later: datetime, earlier: datetime) -> float:
    return round((later - earlier).total_seconds() / 86400.0, 1)


_TEMP = ("_tsel", "_tkeys", "_tf", "_tnew", "_tgone")


def select_scope(
    con: duckdb.DuckDBPyConnection, selector: str | None = None, scans: Sequence[Scan] | None = None
) -> tuple[ScanScope | None, list[Scan], list[dict[str, Any]]]:
    """The scans of one scope (the newest scan's by default, or the scope whose id starts with `selector`), and
    the other scopes of the store as (id, label, scans) for the user to choose from."""
    every = list(scans) if scans is not None else list_scans(con)
    scopes = scan_scopes(con, every)
    counts: dict[str, int] = defaultdict(int)
    by_id: dict[str, ScanScope] = {}
    for scan in every:
        scope = scopes[scan.scan_id]
        counts[scope.scope_id] += 1
        by_id[scope.scope_id] = scope
    if not every:
        return None, [], []
    if selector and selector != "latest":
        matches = [sid for sid in by_id if sid.startswith(selector.lower())]
        if len(matches) != 1:
            known = "; ".join(f"{sid} ({by_id[sid].label}, {counts[sid]} scan(s))" for sid in sorted(by_id))
            problem = "matches no scope" if not matches else "is ambiguous"
            raise InputError(f"--scope {selector!r} {problem}: the store holds {known}")
        chosen = by_id[matches[0]]
    else:
        chosen = scopes[every[-1].scan_id]
    others = [
        {"id": sid, "label": by_id[sid].label, "scans": counts[sid]} for sid in sorted(by_id) if sid != chosen.scope_id
    ]
    return chosen, [s for s in every if scopes[s.scan_id] == chosen], others


def build_trend(
    con: duckdb.DuckDBPyConnection,
    policy: Policy,
    *,
    since: date | None = None,
    scans: Sequence[Scan] | None = None,
    scope: str | None = None,
    progress: Progress | None = None,
    details: bool = True,
) -> Trend:
    """The trend over the scans of one scope (the newest scan's, or `scope`; see select_scope), from `since` on
    when given. Scans of another tenant, or of other subscriptions, are never compared with these.

    With `since`, the last scan before it is read too, as the baseline of the first entry's comparison.
    `details` builds the lists of new, resolved and unverified findings (their counts are always there).
    """
    chosen, every, others = select_scope(con, scope, scans)
    baseline: Scan | None = None
    window = every
    if since is not None:
        window = [s for s in every if s.started_at.date() >= since]
        earlier = [s for s in every if s.started_at.date() < since]
        baseline = earlier[-1] if earlier else None
    computed = ([baseline] if baseline else []) + window
    key = ensure_evaluated(con, computed, policy, progress)
    baseline_id = baseline.scan_id if baseline else None
    if not window:
        return Trend([], [], _remediation([], {}), policy, key, since, baseline_id, chosen, others)
    try:
        _select(con, key, computed)
        entries = _entries(con, key, computed, 1 if baseline else 0, details)
        open_failures, remediation = _runs(con, computed)
    finally:
        for table in _TEMP:
            con.execute(f"DROP TABLE IF EXISTS {table}")
    return Trend(entries, open_failures, remediation, policy, key, since, baseline_id, chosen, others)


def _select(con: duckdb.DuckDBPyConnection, key: str, scans: list[Scan]) -> None:
    """Temp tables: the scans (_tsel), the findings that failed in any of them (_tkeys), and every
    observation of those (_tf: scan index, key, status)."""
    con.execute("CREATE OR REPLACE TEMP TABLE _tsel (idx INTEGER, scan_id VARCHAR, partial BOOLEAN)")
    con.executemany(
        "INSERT INTO _tsel VALUES (?, ?, ?)",
        [(i, s.scan_id, s.status != "complete") for i, s in enumerate(scans)],
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _tkeys AS SELECT DISTINCT f.key_id AS k FROM findings f "
        "JOIN _tsel t USING (scan_id) WHERE f.evaluator = ? AND f.status = 'fail'",
        [key],
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _tf AS SELECT t.idx, f.key_id AS k, f.status FROM findings f "
        "JOIN _tsel t USING (scan_id) SEMI JOIN _tkeys x ON x.k = f.key_id WHERE f.evaluator = ?",
        [key],
    )


# Failing now, not failing (or absent) in the previous scan.
_NEW_SQL = """
CREATE OR REPLACE TEMP TABLE _tnew AS
SELECT c.idx, c.k, coalesce(p.status, 'absent') AS other, 'new_findings' AS list
FROM _tf c LEFT JOIN _tf p ON p.k = c.k AND p.idx = c.idx - 1
WHERE c.status = 'fail' AND c.idx >= greatest($offset, 1) AND coalesce(p.status, '') != 'fail'
UNION ALL
-- Failing in the previous scan, not now. Unknown, or absent from a partial scan, is not a fix: unverified.
SELECT p.idx + 1, p.k, coalesce(c.status, 'absent'),
       CASE WHEN c.status = 'unknown' OR (c.status IS NULL AND n.partial) THEN 'unverified_findings'
            ELSE 'resolved_findings' END
FROM _tf p JOIN _tsel n ON n.idx = p.idx + 1
LEFT JOIN _tf c ON c.k = p.k AND c.idx = p.idx + 1
WHERE p.status = 'fail' AND p.idx + 1 >= $offset AND coalesce(c.status, '') != 'fail'
"""

_LIST_SQL = """
SELECT n.idx, n.list,
       to_json(list({'control_id': k.control_id, 'resource_id': k.resource_id,
                     'node_pool': nullif(k.node_pool, ''), 'cluster': k.cluster, 'before': n.other}
                    ORDER BY k.control_id, k.resource_key, k.node_pool))
FROM _tnew n JOIN finding_keys k ON k.key_id = n.k
WHERE n.list = 'new_findings'
GROUP BY ALL
UNION ALL
SELECT n.idx, n.list,
       to_json(list({'control_id': k.control_id, 'resource_id': k.resource_id,
                     'node_pool': nullif(k.node_pool, ''), 'cluster': k.cluster, 'now': n.other}
                    ORDER BY k.control_id, k.resource_key, k.node_pool))
FROM _tnew n JOIN finding_keys k ON k.key_id = n.k
WHERE n.list != 'new_findings'
GROUP BY ALL
"""


def _entries(
    con: duckdb.DuckDBPyConnection, key: str, scans: list[Scan], offset: int, details: bool
) -> list[TrendEntry]:
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
    con.execute(_NEW_SQL, {"offset": offset})
    sizes: dict[tuple[int, str], int] = {
        (idx, name): n for idx, name, n in con.execute("SELECT idx, list, count(*) FROM _tnew GROUP BY ALL").fetchall()
    }
    texts: dict[tuple[int, str], str] = {}
    if details:
        texts = {(idx, name): text for idx, name, text in con.execute(_LIST_SQL).fetchall()}
    entries = []
    for idx in range(offset, len(scans)):
        subscriptions, clusters, pools, versions, median, p90 = stats[idx]
        entries.append(
            TrendEntry(
                scan=scans[idx],
                previous_scan_id=scans[idx - 1].scan_id if idx else None,
                controls=counts[idx],
                fleet={"subscriptions": subscriptions, "clusters": clusters, "pools": pools},
                versions=dict(sorted(json.loads(versions).items(), key=lambda kv: _minor_sort(kv[0]))),
                image_age_median=median,
                image_age_p90=p90,
                new_count=sizes.get((idx, "new_findings"), 0),
                resolved_count=sizes.get((idx, "resolved_findings"), 0),
                unverified_count=sizes.get((idx, "unverified_findings"), 0),
                lists_json={name: texts[(idx, name)] for name in _LISTS if (idx, name) in texts},
            )
        )
    return entries


def _minor_sort(minor: str) -> tuple[int, ...]:
    return tuple(int(p) if p.isdigit() else -1 for p in minor.split("."))


# Runs of consecutive failing scans per finding. Each finding's observations are fail or ok; unknown is no
# evidence either way (it neither breaks nor extends a run). Where a finding is missing from one or more
# complete scans between two observations (or after the last), its resource was gone: a 'gone' mark goes
# there. A scan that is partial and lacks the finding is, again, no evidence either way.
_RUNS_SQL = """
WITH scan_marks AS (
    SELECT idx, sum(CASE WHEN partial THEN 0 ELSE 1 END) OVER (ORDER BY idx) AS complete_upto FROM _tsel
),
present AS (
    SELECT f.k, f.idx, f.status, lead(f.idx) OVER (PARTITION BY f.k ORDER BY f.idx) AS next_idx FROM _tf f
),
marked AS (
    -- Complete scans strictly between this observation and the next (or after the last): C[next-1] - C[idx].
    SELECT p.k, p.idx, p.status,
           coalesce(nx.complete_upto, (SELECT max(complete_upto) FROM scan_marks)) - cur.complete_upto > 0
               AS gone_after
    FROM present p
    JOIN scan_marks cur ON cur.idx = p.idx
    LEFT JOIN scan_marks nx ON nx.idx = p.next_idx - 1
),
seq AS (
    SELECT k, CAST(idx AS DOUBLE) AS pos, idx, CASE WHEN status = 'fail' THEN 'fail' ELSE 'ok' END AS state
    FROM marked WHERE status != 'unknown'
    UNION ALL
    SELECT k, idx + 0.5, NULL, 'gone' FROM marked WHERE gone_after
),
ordered AS (
    SELECT *, lag(state) OVER w AS before, lead(state) OVER w AS after, lead(idx) OVER w AS after_idx
    FROM seq WINDOW w AS (PARTITION BY k ORDER BY pos)
),
runs AS (
    SELECT *, sum(CASE WHEN state = 'fail' AND coalesce(before, '') != 'fail' THEN 1 ELSE 0 END)
              OVER (PARTITION BY k ORDER BY pos) AS run
    FROM ordered
)
SELECT k, min(idx) AS first_idx, max(idx) AS last_idx, count(*) AS scans,
       arg_max_null(after, pos) AS ended_by, arg_max_null(after_idx, pos) AS ended_at
FROM runs WHERE state = 'fail'
GROUP BY k, run
"""


def _runs(con: duckdb.DuckDBPyConnection, scans: list[Scan]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Open failures of the newest scan with their streak, and remediation times of the runs that ended."""
    last = len(scans) - 1
    severity = {c.id: c.severity for c in load_catalog()}
    con.execute(f"CREATE OR REPLACE TEMP TABLE _tgone AS {_RUNS_SQL}")
    open_failures: list[dict[str, Any]] = []
    for control_id, resource_id, pool, cluster, group, subscription_id, first_idx, count in con.execute(
        "SELECT k.control_id, k.resource_id, nullif(k.node_pool, ''), k.cluster, k.resource_group, "
        "k.subscription_id, r.first_idx, r.scans FROM _tgone r JOIN finding_keys k ON k.key_id = r.k "
        "JOIN _tf f ON f.k = r.k AND f.idx = ? AND f.status = 'fail' "
        "WHERE r.ended_by IS NULL AND r.last_idx = ?",
        [last, last],
    ).fetchall():
        open_failures.append(
            {
                "control_id": control_id,
                "severity": severity.get(control_id, ""),
                "resource_id": resource_id,
                "cluster": cluster,
                "node_pool": pool,
                "resource_group": group,
                "subscription_id": subscription_id,
                "since_scan_id": scans[first_idx].scan_id,
                "since": _iso(scans[first_idx].started_at),
                "scans": count,
                "days": _days(scans[last].started_at, scans[first_idx].started_at),
                "since_first_scan": first_idx == 0,
            }
        )
    open_failures.sort(key=lambda f: (-f["days"], f["control_id"], f["resource_id"].lower(), f["node_pool"] or ""))
    fixed: dict[str, list[float]] = defaultdict(list)
    starts = [s.started_at for s in scans]
    for control_id, first_idx, ended_at in con.execute(
        "SELECT k.control_id, r.first_idx, r.ended_at FROM _tgone r JOIN finding_keys k ON k.key_id = r.k "
        "WHERE r.ended_by = 'ok'"
    ).fetchall():
        fixed[control_id].append(_days(starts[ended_at], starts[first_idx]))
    row = con.execute("SELECT count(*) FROM _tgone WHERE ended_by = 'gone'").fetchone()
    return open_failures, _remediation(open_failures, fixed, int(row[0]) if row else 0)


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
    """The trend as compact JSON text (Trend.write_json streams it instead)."""
    buffer = io.StringIO()
    trend.write_json(buffer)
    return buffer.getvalue()


def print_trend_table(trend: Trend) -> None:
    """The trend as tables on stdout: one row per scan, then compliance per control across the scans."""
    from rich.table import Table

    from auditor.terminal import stdout_console

    # A terminal decides its width; a pipe or a file gets wide tables rather than folded cells.
    console = stdout_console()
    if trend.scope is not None:
        console.print(f"Scope: {trend.scope.label} (id {trend.scope.scope_id})", markup=False, highlight=False)
    if not trend.entries:
        console.print("No scan in the selection.")
        return
    partial = any(e.scan.status != "complete" for e in trend.entries)
    table = Table(title=f"Scans (policy: {trend.policy.source})", caption="* partial scan" if partial else None)
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
            f"{e.new_count:,}" if e.previous_scan_id else "—",
            f"{e.resolved_count:,}" if e.previous_scan_id else "—",
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

    @property
    def unreconciled(self) -> list[str]:
        """The scans whose failure count does not follow from the previous one's: fail = previous fail + new
        - resolved - unverified holds whenever a scan has one finding per control, resource and pool."""
        entries = self.entries
        return [
            e.scan.scan_id
            for before, e in zip(entries, entries[1:], strict=False)
            if e.totals["fail"] != before.totals["fail"] + e.new_count - e.resolved_count - e.unverified_count
        ]

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
                labels[1:], [e.new_count for e in entries[1:]], [e.resolved_count for e in entries[1:]]
            ),
        }


def build_drift(con: duckdb.DuckDBPyConnection, scan: Scan, policy: Policy, findings: list[Finding]) -> Drift:
    """The drift of the scans up to `scan`, for its report. `findings` are the scan's own, just evaluated on
    con (its model tables are still in place): they are cached rather than evaluated again."""
    # Only earlier scans of the same scope: another tenant's fleet, or a subset of this one, is not drift.
    every = [s for s in list_scans(con) if (s.started_at, s.scan_id) <= (scan.started_at, scan.scan_id)]
    scopes = scan_scopes(con, every)
    every = [s for s in every if scopes[s.scan_id] == scopes[scan.scan_id]]
    limit = int(policy.thresholds.get("image_max_age_days", 30))
    if len(every) < 2:
        return Drift(scans=len(every), image_limit=limit)
    key = evaluator_key(policy)
    if scan.scan_id not in cached_scans(con, key):
        store_evaluation(con, scan.scan_id, policy, findings, key)
    return Drift(scans=len(every), trend=build_trend(con, policy, scans=every, details=False), image_limit=limit)
