"""Upgrade timelines: the ledger's events as of a scan (the model's history tables), oldest first per cluster,
with their campaign, and how `auditor history` reads and prints them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from auditor.errors import AuditorError, InputError
from auditor.ledger import LedgerUpdate, rebuild_ledger
from auditor.model import Model
from auditor.policy import Policy
from auditor.store import open_db, resolve_scan

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
    model: Model, *, cluster: str | None = None, cluster_ids: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """Events of the ledger as of the model's scan, oldest first per cluster, with their campaign.

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
    rows = model.cursor.execute(_TIMELINE_SQL.format(where=" AND ".join(conditions)), params).fetchall()
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
    con = open_db(db_path, read_only=not rebuild)
    try:
        rebuilt = rebuild_ledger(con) if rebuild else None
        scan = resolve_scan(con, scan_selector)
        with Model(con, scan.scan_id, policy) as model:
            return scan.scan_id, _cluster_timeline(model, cluster), rebuilt
    finally:
        con.close()


def _cluster_timeline(model: Model, cluster: str | None) -> list[dict[str, Any]]:
    """The timeline of every cluster, or of the one cluster `cluster` names (a name two clusters share does not
    choose one)."""
    if cluster:
        known = [
            r[0]
            for r in model.cursor.execute(
                "SELECT DISTINCT cluster_id FROM history_snapshots WHERE lower(name) = lower(?) "
                "OR cluster_id = lower(?) ORDER BY cluster_id",
                [cluster, cluster],
            ).fetchall()
        ]
        if not known:
            raise AuditorError(f"no cluster named '{cluster}' in the scans up to {model.scan_id}")
        if len(known) > 1:
            # Clusters are identified by ARM id: a name two clusters share does not choose one.
            raise InputError(
                f"--cluster {cluster!r} names {len(known)} clusters: pass the ARM id of one of " + ", ".join(known)
            )
    return timeline(model, cluster=cluster)


def describe_target(event: dict[str, Any]) -> str:
    """'control plane', 'system (System)', 'the cluster' (a scheduled event), or the raw pool index."""
    target = str(event["target"])
    if target == "control_plane":
        return "control plane"
    if target == "cluster":
        return "the cluster"
    return f"{target} ({event['pool_mode']})" if event.get("pool_mode") else target
