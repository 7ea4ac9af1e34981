"""The scan's maintenance windows expanded into model tables, by the one expander (auditor.maintenance_windows):

- ``maintenance_occurrences``: every occurrence of every aksManagedAutoUpgradeSchedule and
  aksManagedNodeOSUpgradeSchedule window (UTC, naive TIMESTAMPs), from a lookback of two recurrence periods before
  the scan's start to HORIZON_DAYS after it, with the end of the occurrence before each one (NULL for the first
  occurrence ever).
- ``maintenance_window_problems``: windows that cannot be expanded, and why (a control reports them unknown).
- ``maintenance_horizon``: the scan's start, the horizon's end and its length in days.

The window controls (AKS-WIN-04, AKS-WIN-05) read these tables; `auditor calendar` expands the same windows with
the same code over the weeks it shows.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import duckdb
import numpy as np

from auditor.maintenance_windows import (
    Occurrence,
    WindowError,
    occurrences,
    parse_cached,
    previous_occurrence,
    window_kind,
)

# Every schedule AKS allows (intervalMonths at most 6) opens at least once in 184 days unless a freeze hides it.
HORIZON_DAYS = 184
# Room before the scan for the longest lead a policy may ask of a lower ring (ring_window_lead_hours <= 168).
_LEAD_ROOM = timedelta(days=8)

_COLUMNS = (
    "cluster_id",
    "config_key",
    "kind",
    "starts_at",
    "ends_at",
    "previous_end",
    "clipped",
    "phase_assumed",
    "in_horizon",
)


@lru_cache(maxsize=4096)
def _expanded(window_json: str, since: datetime, until: datetime) -> tuple[tuple[Occurrence, ...], Occurrence | None]:
    """Occurrences of a window in [since, until) and the one before the first (memoised: fleets repeat a few window
    definitions many times)."""
    window = parse_cached(window_json)
    found = tuple(occurrences(window, since, until))
    before = previous_occurrence(window, found[0].starts) if found else None
    return found, before


def _naive(moment: datetime) -> np.datetime64:
    return np.datetime64(moment.astimezone(UTC).replace(tzinfo=None), "s")


def materialise_occurrences(con: duckdb.DuckDBPyConnection) -> None:
    """Create maintenance_occurrences and maintenance_window_problems from the `maintenance` and `scan` tables."""
    row = con.execute("SELECT started_at FROM scan").fetchone()
    rows = con.execute(
        "SELECT cluster_id, lower(config_name), CAST(payload->'$.properties.maintenanceWindow' AS VARCHAR) "
        "FROM maintenance WHERE form = 'window' ORDER BY cluster_id, lower(config_name)"
    ).fetchall()
    columns: dict[str, list[object]] = {name: [] for name in _COLUMNS}
    problems: list[tuple[str, str, str, str]] = []
    if row is not None:
        started = row[0].replace(tzinfo=UTC)
        horizon_end = started + timedelta(days=HORIZON_DAYS)
        for cluster_id, config_key, window_json in rows:
            kind = window_kind(config_key)
            if kind is None or window_json is None:
                continue
            # Canonical text, so equal windows share one expansion whatever their key order.
            canonical = json.dumps(json.loads(window_json), sort_keys=True, separators=(",", ":"))
            try:
                period = parse_cached(canonical).period
                since = started - 2 * period - _LEAD_ROOM
                found, before = _expanded(canonical, since, horizon_end)
            except WindowError as exc:
                problems.append((cluster_id, config_key, kind, str(exc)))
                continue
            previous = before
            for occurrence in found:
                columns["cluster_id"].append(cluster_id)
                columns["config_key"].append(config_key)
                columns["kind"].append(kind)
                columns["starts_at"].append(_naive(occurrence.starts))
                columns["ends_at"].append(_naive(occurrence.ends))
                columns["previous_end"].append(_naive(previous.ends) if previous else np.datetime64("NaT"))
                columns["clipped"].append(occurrence.clipped)
                columns["phase_assumed"].append(occurrence.phase_assumed)
                columns["in_horizon"].append(occurrence.ends > started)
                previous = occurrence
    arrays = {
        "cluster_id": np.array(columns["cluster_id"], dtype=object),
        "config_key": np.array(columns["config_key"], dtype=object),
        "kind": np.array(columns["kind"], dtype=object),
        "starts_at": np.array(columns["starts_at"], dtype="datetime64[s]"),
        "ends_at": np.array(columns["ends_at"], dtype="datetime64[s]"),
        "previous_end": np.array(columns["previous_end"], dtype="datetime64[s]"),
        "clipped": np.array(columns["clipped"], dtype=bool),
        "phase_assumed": np.array(columns["phase_assumed"], dtype=bool),
        "in_horizon": np.array(columns["in_horizon"], dtype=bool),
    }
    con.register("_occurrence_arrays", arrays)
    try:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE maintenance_occurrences AS SELECT cluster_id::VARCHAR AS cluster_id, "
            "config_key::VARCHAR AS config_key, kind::VARCHAR AS kind, CAST(starts_at AS TIMESTAMP) AS starts_at, "
            "CAST(ends_at AS TIMESTAMP) AS ends_at, CAST(previous_end AS TIMESTAMP) AS previous_end, "
            "clipped, phase_assumed, in_horizon FROM _occurrence_arrays"
        )
    finally:
        con.unregister("_occurrence_arrays")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE maintenance_horizon AS SELECT started_at, "
        f"started_at + INTERVAL {HORIZON_DAYS} DAY AS ends_at, {HORIZON_DAYS} AS days FROM scan"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE maintenance_window_problems "
        "(cluster_id VARCHAR, config_key VARCHAR, kind VARCHAR, problem VARCHAR)"
    )
    if problems:
        con.executemany("INSERT INTO maintenance_window_problems VALUES (?, ?, ?, ?)", problems)
