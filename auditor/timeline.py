"""Upgrade timelines: the ledger's events as of a scan (the model's history tables), oldest first per cluster,
with their campaign, and how `auditor history` reads and prints them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from auditor import sql
from auditor.errors import AuditorError, InputError
from auditor.ledger import LedgerUpdate, rebuild_ledger
from auditor.model import Model
from auditor.policy import Policy
from auditor.store import open_db, resolve_scan

# --- timelines ---------------------------------------------------------------------------------------------

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
    rows = sql.run(
        model.cursor,
        "timeline/events.sql",
        cluster=cluster or None,
        cluster_ids=None if cluster_ids is None else [c.lower() for c in cluster_ids],
    )
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
        known = [r[0] for r in sql.run(model.cursor, "timeline/clusters_named.sql", cluster=cluster)]
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
