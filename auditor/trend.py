"""Drift across scans: per-scan results, failures new and resolved since the previous scan, how long open
failures have lasted, and the time to remediate (docs/trend.md). It reads the findings cache
(auditor.findings_cache), which evaluates and keeps every scan not yet cached under the policy.
"""

from __future__ import annotations

import functools
import itertools
import json
import operator
import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from typing import IO, Any

import duckdb

from auditor import sql
from auditor.controls import STATUSES, load_catalog
from auditor.errors import InputError
from auditor.findings_cache import ensure_cached
from auditor.policy import Policy
from auditor.store import Scan, ScanScope, list_scans, scan_scopes
from auditor.vocabulary import ProgressHook, iso_utc, score, version_key

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

    @property
    def top_minor(self) -> tuple[str, int] | None:
        """The version most clusters run and how many (ties: the newest version), None for an empty scan."""
        if not self.versions:
            return None
        return max(self.versions.items(), key=lambda kv: (kv[1], version_key(kv[0])))

    def control_score(self, control_id: str) -> float | None:
        """The pass share of one control in this scan (None when it judged nothing)."""
        return score(self.controls.get(control_id, {}))

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
            "started_at": iso_utc(self.scan.started_at),
            "finished_at": iso_utc(self.scan.finished_at),
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


def _days(later: datetime, earlier: datetime) -> float:
    return round((later - earlier).total_seconds() / 86400.0, 1)


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
    progress: ProgressHook | None = None,
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
    key = ensure_cached(con, computed, policy, progress)
    baseline_id = baseline.scan_id if baseline else None
    if not window:
        return Trend([], [], _remediation([], {}), policy, key, since, baseline_id, chosen, others)
    # The working tables live on a cursor of their own: nothing the caller has on con is touched. In the mask form
    # the counts per scan, control and status read the cache on a second cursor, in a thread, while the runs and
    # the changes are worked out on the first (DuckDB runs both at once; the runs' queries are mostly serial).
    cursor = con.cursor()
    counts_cursor = con.cursor()
    # A second thread builds the open failures (Python) while the first cursor's later queries run (DuckDB, which
    # lets go of the GIL while it works).
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="trend")
    offset = 1 if baseline else 0
    counts: Future[list[tuple[Any, ...]]] | None = None
    try:
        masks = _select(cursor, key, computed)
        if masks:
            counts = pool.submit(_counts, counts_cursor, "trend/21_counts.sql", offset, _selected(computed), key)
        else:
            counts = Future()
            counts.set_result(_counts(cursor, "trend/20_counts.sql", offset))
        listed, fixed, removed = _runs(cursor, computed, masks, pool)
        entries = _entries(cursor, key, computed, offset, details, masks, counts)
        open_failures = listed.result()
        remediation = _remediation(open_failures, fixed, removed)
    finally:
        if counts is not None and not counts.done():
            counts_cursor.interrupt()  # an error on the first cursor: the counts are not wanted
        pool.shutdown(wait=True)
        counts_cursor.close()
        sql.run(cursor, "trend/99_drop.sql")
        cursor.close()
    return Trend(entries, open_failures, remediation, policy, key, since, baseline_id, chosen, others)


# Scans up to which the trend works on a bit mask per finding (a bit per scan in a BIGINT, below its sign bit):
# one read of the cache, and runs found by bit arithmetic. Above it, or when a finding appears twice in one scan,
# the general form: every observation of the findings that ever failed, and window passes over them.
MASK_SCANS = 62


def _selected(scans: list[Scan]) -> list[dict[str, Any]]:
    """The scans as the queries take them ($scans): index, id, whether partial."""
    return [{"idx": i, "scan_id": s.scan_id, "partial": s.status != "complete"} for i, s in enumerate(scans)]


def _select(con: duckdb.DuckDBPyConnection, key: str, scans: list[Scan]) -> bool:
    """Temp tables of the scans (_tsel) and their cached findings; whether in the mask form (11_masks.sql: masks
    _tmask) or else the general one (10_select.sql: _tobs, _tkeys, _tf)."""
    selected = _selected(scans)
    if len(scans) <= MASK_SCANS and sql.run(con, "trend/11_masks.sql", scans=selected, evaluator=key).scalar() == 0:
        return True
    sql.run(con, "trend/10_select.sql", scans=selected, evaluator=key)
    return False


def _counts(
    con: duckdb.DuckDBPyConnection, name: str, offset: int, scans: list[dict[str, Any]] | None = None, key: str = ""
) -> list[tuple[Any, ...]]:
    """Findings per scan index, control and status from `offset` on: 21_counts.sql from the cache (the mask form,
    given the scans and the evaluator key), 20_counts.sql from the general form's _tobs."""
    if scans is None:
        return sql.run(con, name, offset=offset).rows
    return sql.run(con, name, offset=offset, scans=scans, evaluator=key).rows


def _entries(
    con: duckdb.DuckDBPyConnection,
    key: str,
    scans: list[Scan],
    offset: int,
    details: bool,
    masks: bool,
    counted: Future[list[tuple[Any, ...]]],
) -> list[TrendEntry]:
    catalog_ids = [c.id for c in load_catalog()]
    counts: dict[int, dict[str, dict[str, int]]] = defaultdict(
        lambda: {cid: {s: 0 for s in STATUSES} for cid in catalog_ids}
    )
    stats = {row[0]: row[1:] for row in sql.run(con, "trend/30_stats.sql", evaluator=key)}
    if not masks:
        sql.run(con, "trend/40_new_resolved.sql", offset=offset)
        sizes_rows = sql.run(con, "trend/45_sizes.sql")
    elif details:
        sql.run(con, "trend/41_new_resolved.sql")
        sql.run(con, "trend/42_other_status.sql", evaluator=key, offset=offset)
        sizes_rows = sql.run(con, "trend/45_sizes.sql")
    else:  # only the counts: the view of the changes counted, never materialised
        sql.run(con, "trend/41_new_resolved.sql")
        sizes_rows = sql.run(con, "trend/46_change_sizes.sql", offset=offset)
    sizes: dict[tuple[int, str], int] = {(idx, name): n for idx, name, n in sizes_rows}
    texts: dict[tuple[int, str], str] = {}
    if details:
        texts = {(idx, name): text for idx, name, text in sql.run(con, "trend/50_lists.sql")}
    for idx, control_id, status, n in counted.result():
        counts[idx].setdefault(control_id, {s: 0 for s in STATUSES})[status] = n
    entries = []
    for idx in range(offset, len(scans)):
        subscriptions, clusters, pools, versions, median, p90 = stats[idx]
        entries.append(
            TrendEntry(
                scan=scans[idx],
                previous_scan_id=scans[idx - 1].scan_id if idx else None,
                controls=counts[idx],
                fleet={"subscriptions": subscriptions, "clusters": clusters, "pools": pools},
                versions=dict(sorted(json.loads(versions).items(), key=lambda kv: version_key(kv[0]))),
                image_age_median=median,
                image_age_p90=p90,
                new_count=sizes.get((idx, "new_findings"), 0),
                resolved_count=sizes.get((idx, "resolved_findings"), 0),
                unverified_count=sizes.get((idx, "unverified_findings"), 0),
                lists_json={name: texts[(idx, name)] for name in _LISTS if (idx, name) in texts},
            )
        )
    return entries


def _runs(
    con: duckdb.DuckDBPyConnection, scans: list[Scan], masks: bool, pool: ThreadPoolExecutor
) -> tuple[Future[list[dict[str, Any]]], dict[str, list[float]], int]:
    """Open failures of the newest scan with their streak (built on `pool`), and the days to remediate of the runs
    that ended in a pass, per control, and how many ended with their resource gone."""
    last = len(scans) - 1
    sql.run(con, "trend/61_runs.sql" if masks else "trend/60_runs.sql")
    rows = sql.run(con, "trend/71_open_failures.sql" if masks else "trend/70_open_failures.sql", last=last).rows
    listed = pool.submit(_open_failures, rows, scans)
    fixed: dict[str, list[float]] = defaultdict(list)
    starts = [s.started_at for s in scans]
    between: dict[tuple[int, int], float] = {}  # days from a first failing scan to the fixing scan, per pair once
    # Each (control, first failing scan, scan it passed in) once, with its number of runs: the same days as one row
    # per run (a mean by fsum and a median do not depend on the order).
    for control_id, first_idx, ended_at, runs in sql.run(con, "trend/80_fixed.sql"):
        days = between.get((first_idx, ended_at))
        if days is None:
            days = between[(first_idx, ended_at)] = _days(starts[ended_at], starts[first_idx])
        fixed[control_id].extend([days] * runs)
    removed = int(sql.run(con, "trend/85_removed.sql").scalar())
    return listed, fixed, removed


def _open_failures(rows: list[tuple[Any, ...]], scans: list[Scan]) -> list[dict[str, Any]]:
    """The rows of 70/71_open_failures.sql as the trend lists them, oldest first."""
    last = len(scans) - 1
    severity = {c.id: c.severity for c in load_catalog()}
    # Per scan, once: its id, when it started, its age at the newest scan, whether it is the first (thousands of
    # failures share a few scans).
    age = [_days(scans[last].started_at, s.started_at) for s in scans]
    since = [(s.scan_id, iso_utc(s.started_at), age[i], i == 0) for i, s in enumerate(scans)]
    open_failures = []
    for control_id, resource_id, pool, cluster, group, subscription_id, first_idx, count in rows:
        since_scan_id, since_at, days, since_first_scan = since[first_idx]
        open_failures.append(
            {
                "control_id": control_id,
                "severity": severity.get(control_id, ""),
                "resource_id": resource_id,
                "cluster": cluster,
                "node_pool": pool,
                "resource_group": group,
                "subscription_id": subscription_id,
                "since_scan_id": since_scan_id,
                "since": since_at,
                "scans": count,
                "days": days,
                "since_first_scan": since_first_scan,
            }
        )
    # The query returns them by first failing scan, control, lower-case resource id and pool: this order already,
    # unless two scans are the same age to a tenth of a day or a resource id is not ASCII (DuckDB's lower() and
    # Python's can differ there). Only then are they sorted here (a sort key per failure costs tens of ms).
    distinct_ages = all(a > b for a, b in itertools.pairwise(age))
    if not (distinct_ages and all(map(str.isascii, map(operator.itemgetter(1), rows)))):
        open_failures.sort(key=_open_failure_order)
    return open_failures


def _open_failure_order(failure: dict[str, Any]) -> tuple[float, str, str, str]:
    """Oldest first, then by control, resource (ignoring case) and pool."""
    return (-failure["days"], failure["control_id"], failure["resource_id"].lower(), failure["node_pool"] or "")


def _remediation(
    open_failures: list[dict[str, Any]], fixed: dict[str, list[float]], removed: int = 0
) -> dict[str, Any]:
    every = list(itertools.chain.from_iterable(fixed.values()))
    open_by_control = Counter(map(operator.itemgetter("control_id"), open_failures))
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
