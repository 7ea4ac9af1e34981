"""The upgrade ledger: upgrade events from every scan, de-duplicated, kept beyond Azure's retention.

Sources (docs/history.md): Resource Graph `resourcechanges` rows, `containerserviceeventresources` scheduled
events, the differences between consecutive scans of a cluster, and Fleet Manager update runs and gate
approvals. The fold of one scan is SQL (queries/history/fold.sql); this module decides which scans to fold,
into which tables, in which transaction.

- `update_ledger(con)` folds every committed scan the ledger does not hold yet, oldest first, in one
  transaction of its own (`scan_and_store` calls it right after `write_scan` commits). A scan that arrives
  older than one already folded rebuilds the whole ledger instead: the ledger never depends on arrival order.
- `rebuild_ledger(con)` empties the ledger and folds every scan again: the same rows, so it is idempotent.
- `prepare_history(con, scan_id, thresholds)` gives an evaluation the ledger "as of" a scan (every event and
  upgrade override first seen in that scan or an earlier one) as temp tables, folding on the fly any scan the
  ledger lacks (without writing), then builds the campaigns (queries/history/campaigns.sql). Findings therefore
  never depend on whether the ledger has caught up, and an older scan evaluates the same way after later scans
  were folded.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import duckdb

from auditor import sql
from auditor.errors import AuditorError, InputError
from auditor.policy import Policy
from auditor.store import rollback_quietly

EVENTS = "upgrade_events"
SNAPSHOTS = "upgrade_snapshots"
OVERRIDES = "upgrade_overrides"  # upgrade overrides seen (AKS-OVR-01), queries/history/fold_overrides.sql
LEDGER_SCANS = "upgrade_ledger_scans"
# Built-in defaults for clusters that are not in the evaluated scan (the policy's top-level thresholds win).
_DEFAULT_WINDOW_HOURS = 72


@cache
def _fold_statements() -> tuple[sql.Statement, ...]:
    folds = ("history/fold.sql", "history/fold_overrides.sql")  # fold_overrides.sql reads fold.sql's fold_scan
    return tuple(s for name in folds for s in sql.load(name).statements)


@cache
def _campaign_statements() -> tuple[str, ...]:
    return tuple(s.text for s in sql.load("history/campaigns.sql").statements)


@dataclass(frozen=True)
class LedgerUpdate:
    """What one ledger update did."""

    scans: int  # scans folded
    new_events: int
    seen_events: int  # candidates already in the ledger (seen again)
    rebuilt: bool = False

    def summary(self) -> str:
        if not self.scans:
            return "upgrade ledger: up to date"
        verb = "rebuilt from" if self.rebuilt else "updated with"
        return (
            f"upgrade ledger {verb} {self.scans} scan(s): {self.new_events} new event(s), {self.seen_events} seen again"
        )


def _fold(con: duckdb.DuckDBPyConnection, scan_id: str, events: str, snapshots: str, overrides: str) -> tuple[int, int]:
    """Fold one scan into the given tables; returns (new events, events seen again)."""
    for statement in _fold_statements():
        text = statement.text.replace("__EVENTS__", events).replace("__SNAPSHOTS__", snapshots)
        text = text.replace("__OVERRIDES__", overrides)
        con.execute(text, {"scan_id": scan_id} if "scan_id" in statement.parameters else None)
    candidates = _count(con, "SELECT count(*) FROM fold_candidates")
    new = _count(con, f"SELECT count(*) FROM {events} WHERE first_seen_scan_id = ?", [scan_id])
    return new, candidates - new


def _drop_fold_tables(con: duckdb.DuckDBPyConnection) -> None:
    for name in (
        "fold_scan",
        "fold_changes",
        "fold_rc",
        "fold_se",
        "fold_pairs",
        "fold_sd",
        "fold_fleet_members",
        "fold_fr",
        "fold_fg",
        "fold_candidates",
        "fold_override_candidates",
    ):
        con.execute(f"DROP TABLE IF EXISTS temp.{name}")


def _count(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | None = None) -> int:
    row = con.execute(sql, params).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def _scans(con: duckdb.DuckDBPyConnection) -> list[tuple[str, datetime]]:
    """Every committed scan, oldest first (the order scans are folded in)."""
    rows = con.execute("SELECT scan_id, started_at FROM scans ORDER BY started_at, scan_id").fetchall()
    return [(r[0], r[1]) for r in rows]


def _folded(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in con.execute(f"SELECT scan_id FROM {LEDGER_SCANS}").fetchall()}


def _fold_into_ledger(con: duckdb.DuckDBPyConnection, scans: list[tuple[str, datetime]]) -> tuple[int, int]:
    new_total = seen_total = 0
    now = datetime.now(UTC).replace(tzinfo=None)
    for scan_id, started_at in scans:
        new, seen = _fold(con, scan_id, EVENTS, SNAPSHOTS, OVERRIDES)
        con.execute(f"INSERT INTO {LEDGER_SCANS} VALUES (?, ?, ?, ?, ?)", [scan_id, started_at, now, new, seen])
        new_total += new
        seen_total += seen
    _drop_fold_tables(con)
    return new_total, seen_total


def update_ledger(con: duckdb.DuckDBPyConnection) -> LedgerUpdate:
    """Fold every committed scan the ledger lacks, in one transaction. A second call does nothing."""
    con.execute("BEGIN TRANSACTION")
    try:
        scans = _scans(con)
        folded = _folded(con)
        pending = [s for s in scans if s[0] not in folded]
        if not pending:
            con.execute("COMMIT")
            return LedgerUpdate(0, 0, 0)
        newest_folded = max((i for i, s in enumerate(scans) if s[0] in folded), default=-1)
        rebuilt = scans.index(pending[0]) < newest_folded
        if rebuilt:  # a scan older than one already folded: its diffs and mappings change later ones
            _empty_ledger(con)
            pending = scans
        new, seen = _fold_into_ledger(con, pending)
        con.execute("COMMIT")
    except BaseException:
        rollback_quietly(con)  # an I/O error has already aborted it: keep that error, not the rollback's
        raise
    return LedgerUpdate(len(pending), new, seen, rebuilt)


def rebuild_ledger(con: duckdb.DuckDBPyConnection) -> LedgerUpdate:
    """Empty the ledger and fold every scan again, in one transaction. Gives the same rows every time."""
    con.execute("BEGIN TRANSACTION")
    try:
        _empty_ledger(con)
        scans = _scans(con)
        new, seen = _fold_into_ledger(con, scans)
        con.execute("COMMIT")
    except BaseException:
        rollback_quietly(con)  # an I/O error has already aborted it: keep that error, not the rollback's
        raise
    return LedgerUpdate(len(scans), new, seen, rebuilt=True)


def _empty_ledger(con: duckdb.DuckDBPyConnection) -> None:
    for table in (EVENTS, SNAPSHOTS, OVERRIDES, LEDGER_SCANS):
        con.execute(f"DELETE FROM {table}")


def record_scan(con: duckdb.DuckDBPyConnection) -> LedgerUpdate | None:
    """Update the ledger right after a scan committed. The scan is already safe: a failure here is a warning
    on stderr, not an error (the next update catches up, and evaluation folds the scan itself meanwhile)."""
    try:
        return update_ledger(con)
    except (duckdb.Error, AuditorError) as exc:
        print(
            f"warning: the upgrade ledger was not updated ({' '.join(str(exc).split())[:300]}); the scan is "
            "stored and its findings are unaffected; `auditor history --rebuild` retries",
            file=sys.stderr,
        )
        return None


# --- the ledger as of one scan (evaluation, `auditor history`, the report) ----------------------------------


def prepare_history(con: duckdb.DuckDBPyConnection, scan_id: str, thresholds: dict[str, Any] | None = None) -> None:
    """Temp tables history_events, history_snapshots and history_overrides (the ledger as of the scan), then the
    campaigns.

    Reads only: scans the ledger lacks are folded into the temp tables, never into the ledger.
    """
    row = con.execute("SELECT started_at FROM scans WHERE scan_id = ?", [scan_id]).fetchone()
    if row is None:
        raise AuditorError(f"scan {scan_id} is not in the database")
    as_of: datetime = row[0]
    window = int((thresholds or {}).get("campaign_window_hours", _DEFAULT_WINDOW_HOURS))
    con.execute(f"CREATE OR REPLACE TEMP TABLE history_defaults AS SELECT {window}::INTEGER AS campaign_window_hours")
    scans = [s for s in _scans(con) if (s[1], s[0]) <= (as_of, scan_id)]
    folded = _folded(con)
    pending = [s for s in scans if s[0] not in folded]
    newest_folded = max((i for i, s in enumerate(scans) if s[0] in folded), default=-1)
    from_scratch = bool(pending) and scans.index(pending[0]) < newest_folded
    as_of_events = (
        "(first_seen_at < $at OR (first_seen_at = $at AND first_seen_scan_id <= $id))" if not from_scratch else "false"
    )
    as_of_snapshots = "(taken_at < $at OR (taken_at = $at AND scan_id <= $id))" if not from_scratch else "false"
    params = {"at": as_of, "id": scan_id}
    for name in ("history_events", "history_snapshots", "history_overrides"):
        _drop_temp(con, name)
    if not pending:
        # Nothing to fold: read the ledger through views, no copy.
        con.execute(
            f"CREATE TEMP VIEW history_events AS SELECT * FROM {EVENTS} WHERE "
            + as_of_events.replace("$at", _ts(as_of)).replace("$id", _literal(scan_id))
        )
        con.execute(
            f"CREATE TEMP VIEW history_snapshots AS SELECT * FROM {SNAPSHOTS} WHERE "
            + as_of_snapshots.replace("$at", _ts(as_of)).replace("$id", _literal(scan_id))
        )
        con.execute(
            f"CREATE TEMP VIEW history_overrides AS SELECT * FROM {OVERRIDES} WHERE "
            + as_of_events.replace("$at", _ts(as_of)).replace("$id", _literal(scan_id))
        )
    else:
        con.execute(
            f"CREATE TEMP TABLE history_events AS SELECT * FROM {EVENTS} WHERE {as_of_events}",
            params if not from_scratch else None,
        )
        con.execute(
            f"CREATE TEMP TABLE history_snapshots AS SELECT * FROM {SNAPSHOTS} WHERE {as_of_snapshots}",
            params if not from_scratch else None,
        )
        con.execute(
            f"CREATE TEMP TABLE history_overrides AS SELECT * FROM {OVERRIDES} WHERE {as_of_events}",
            params if not from_scratch else None,
        )
        for pending_id, _ in scans if from_scratch else pending:
            _fold(con, pending_id, "history_events", "history_snapshots", "history_overrides")
        _drop_fold_tables(con)
    for statement in _campaign_statements():
        con.execute(statement)


def _drop_temp(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Drop the temp table or view of that name (the previous evaluation may have made either)."""
    row = con.execute(
        "SELECT 'VIEW' FROM duckdb_views() WHERE temporary AND view_name = ? "
        "UNION ALL SELECT 'TABLE' FROM duckdb_tables() WHERE temporary AND table_name = ?",
        [name, name],
    ).fetchone()
    if row:
        con.execute(f"DROP {row[0]} temp.{name}")


def _ts(value: datetime) -> str:
    return f"TIMESTAMP '{value.isoformat(sep=' ')}'"


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


# --- timelines ---------------------------------------------------------------------------------------------

_TIMELINE_SQL = """
WITH names AS (
    SELECT cluster_id, arg_max(name, (taken_at, name)) AS name FROM history_snapshots GROUP BY cluster_id
),
step_campaign AS (
    SELECT cluster_id, kind, target, to_version, campaign_key
    FROM upgrade_campaign_members WHERE role = 'step'
),
labelled AS (
    SELECT
        e.*,
        coalesce(s.campaign_key, (
            SELECT arg_min(c.campaign_key,
                           (greatest(epoch(c.first_at) - epoch(e.window_end),
                                     epoch(e.window_start) - epoch(c.last_at), 0), c.campaign_key))
            FROM upgrade_campaigns c
            WHERE c.cluster_id = e.cluster_id AND c.kind = e.kind
              AND e.window_end >= c.first_at - to_hours(w.window_hours)
              AND e.window_start <= c.last_at + to_hours(w.window_hours))) AS campaign_key
    FROM history_events e
    LEFT JOIN history_window w USING (cluster_id)
    LEFT JOIN step_campaign s
      ON e.phase = 'reached' AND s.cluster_id = e.cluster_id AND s.kind = e.kind AND s.target = e.target
     AND s.to_version = e.to_version
)
SELECT
    l.cluster_id, coalesce(n.name, regexp_extract(l.cluster_id, '([^/]+)$', 1)) AS cluster, l.target,
    l.pool_mode, l.kind, l.phase, l.from_version, l.to_version, l.event_time, l.window_start, l.window_end,
    l.source, l.field,
    l.mapping, l.note, l.evidence_ref, l.first_seen_scan_id, l.seen_count, c.label AS campaign
FROM labelled l
LEFT JOIN names n USING (cluster_id)
LEFT JOIN upgrade_campaigns c USING (campaign_key)
WHERE {where}
ORDER BY cluster, l.window_end, l.window_start,
         CASE l.target WHEN 'control_plane' THEN 0 WHEN 'cluster' THEN 1 ELSE 2 END, l.target, l.kind, l.phase,
         l.source, l.evidence_ref, l.event_key
"""

TIMELINE_COLUMNS = (
    "cluster_id",
    "cluster",
    "target",
    "pool_mode",
    "kind",
    "phase",
    "from_version",
    "to_version",
    "event_time",
    "window_start",
    "window_end",
    "source",
    "field",
    "mapping",
    "note",
    "evidence_ref",
    "first_seen_scan_id",
    "seen_count",
    "campaign",
)


def timeline(
    con: duckdb.DuckDBPyConnection, *, cluster: str | None = None, cluster_ids: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """Events of the ledger as prepared by `prepare_history`, oldest first per cluster, with their campaign.

    `cluster` matches a cluster name or ARM id (case-insensitive); `cluster_ids` keeps only these clusters.
    """
    conditions = ["true"]
    params: list[Any] = []
    if cluster:
        conditions.append("(lower(coalesce(n.name, '')) = lower(?) OR l.cluster_id = lower(?))")
        params += [cluster, cluster]
    if cluster_ids is not None:
        conditions.append("l.cluster_id IN (SELECT unnest(?::VARCHAR[]))")
        params.append([c.lower() for c in cluster_ids])
    rows = con.execute(_TIMELINE_SQL.format(where=" AND ".join(conditions)), params).fetchall()
    return [dict(zip(TIMELINE_COLUMNS, row, strict=True)) for row in rows]


def describe_time(event: dict[str, Any]) -> str:
    """'2026-11-12 03:14' for an exact event, 'between 2026-10-24 06:00 and 2026-11-24 06:00' for a window."""
    if event.get("event_time") is not None:
        return f"{event['event_time']:%Y-%m-%d %H:%M}"
    return f"between {event['window_start']:%Y-%m-%d %H:%M} and {event['window_end']:%Y-%m-%d %H:%M}"


def describe_change(event: dict[str, Any]) -> str:
    """'1.32.5 -> 1.33.2', or the phase when no version moved (a start, a failure, a scheduled event)."""
    phase = str(event.get("phase") or "")
    versions = ""
    if event.get("from_version") or event.get("to_version"):
        versions = f"{event.get('from_version') or '?'} -> {event.get('to_version') or '?'}"
        if not event.get("from_version"):
            versions = f"to {event['to_version']}"  # Fleet Manager records the target, not where it came from
    if phase == "reached":
        return versions
    return f"{phase} {versions}".strip()


def json_ready(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Events with times as ISO 8601 UTC strings."""
    out: list[dict[str, Any]] = []
    for event in events:
        item = dict(event)
        for key in ("event_time", "window_start", "window_end"):
            value = item.get(key)
            if isinstance(value, datetime):
                item[key] = value.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z")
        out.append(item)
    return out


# --- `auditor history` -------------------------------------------------------------------------------------


def history_timeline(
    db_path: Path,
    policy: Policy,
    *,
    scan_selector: str = "latest",
    cluster: str | None = None,
    rebuild: bool = False,
) -> tuple[str, list[dict[str, Any]], LedgerUpdate | None]:
    """What `auditor history` prints: the scan id, the timeline as of that scan, what a rebuild did."""
    from auditor.model import prepare_model
    from auditor.store import open_db, resolve_scan

    con = open_db(db_path, read_only=not rebuild)
    try:
        rebuilt = rebuild_ledger(con) if rebuild else None
        scan = resolve_scan(con, scan_selector)
        prepare_model(con, scan.scan_id, policy)
        if cluster:
            known = [
                r[0]
                for r in con.execute(
                    "SELECT DISTINCT cluster_id FROM history_snapshots WHERE lower(name) = lower(?) "
                    "OR cluster_id = lower(?) ORDER BY cluster_id",
                    [cluster, cluster],
                ).fetchall()
            ]
            if not known:
                raise AuditorError(f"no cluster named '{cluster}' in the scans up to {scan.scan_id}")
            if len(known) > 1:
                # Clusters are identified by ARM id: a name two clusters share does not choose one.
                raise InputError(
                    f"--cluster {cluster!r} names {len(known)} clusters: pass the ARM id of one of " + ", ".join(known)
                )
        return scan.scan_id, timeline(con, cluster=cluster), rebuilt
    finally:
        con.close()


def print_timeline(events: list[dict[str, Any]], output_format: str, *, show_cluster: bool = True) -> None:
    """The timeline on stdout: a table (notes and references are in the JSON), or a JSON array."""
    if output_format == "json":
        import json

        print(json.dumps(json_ready(events), indent=2))
        return
    from rich.markup import escape
    from rich.table import Table

    from auditor.terminal import cluster_labels, stdout_console

    labels = cluster_labels(
        (
            e["cluster_id"],
            str(e["cluster"]),
            _id_part(e["cluster_id"], "subscriptions"),
            _id_part(e["cluster_id"], "resourcegroups"),
        )
        for e in events
    )

    table = Table(show_lines=False)
    columns = ["When (UTC)", "Cluster", "Target", "Change", "Source", "Campaign"]
    if not show_cluster:
        columns.remove("Cluster")
    for column in columns:
        table.add_column(column, overflow="fold")
    for event in events:
        cells = [
            describe_time(event).replace("between ", "").replace(" and ", " .. "),
            labels.get(str(event["cluster_id"]).lower(), str(event["cluster"])),
            describe_target(event),
            f"{'node image' if event['kind'] == 'node-image' else 'kubernetes'} {describe_change(event)}",
            str(event["source"]),
            str(event.get("campaign") or ""),
        ]
        if not show_cluster:
            del cells[1]
        table.add_row(*(escape(c) for c in cells))
    stdout_console().print(table)


def _id_part(resource_id: str, segment: str) -> str:
    """The value after `segment` in an ARM id ('subscriptions' -> the subscription id)."""
    parts = resource_id.split("/")
    lowered = [p.lower() for p in parts]
    return parts[lowered.index(segment) + 1] if segment in lowered and lowered.index(segment) + 1 < len(parts) else ""


def describe_target(event: dict[str, Any]) -> str:
    """'control plane', 'system (System)', 'the cluster' (a scheduled event), or the raw pool index."""
    target = str(event["target"])
    if target == "control_plane":
        return "control plane"
    if target == "cluster":
        return "the cluster"
    return f"{target} ({event['pool_mode']})" if event.get("pool_mode") else target
