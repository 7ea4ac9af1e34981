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
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import duckdb
import numpy as np

from auditor import sql
from auditor.maintenance_windows import (
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


@dataclass(frozen=True)
class _Columns:
    """One window's occurrences as column values (epoch seconds, UTC): cheap to repeat for every cluster using it."""

    starts: tuple[int, ...]
    ends: tuple[int, ...]
    previous_ends: tuple[int, ...]  # -1: no earlier occurrence
    clipped: tuple[bool, ...]
    phase_assumed: tuple[bool, ...]
    in_horizon: tuple[bool, ...]


@lru_cache(maxsize=4096)
def _expanded(window_json: str, started: datetime, until: datetime) -> _Columns:
    """A window's occurrences from two recurrence periods (and the lead room) before `started` to `until`, with the
    end of the occurrence before each (memoised: fleets repeat a few window definitions many times)."""
    window = parse_cached(window_json)
    found = occurrences(window, started - 2 * window.period - _LEAD_ROOM, until)
    before = previous_occurrence(window, found[0].starts) if found else None
    previous = [before, *found[:-1]] if found else []
    return _Columns(
        tuple(int(o.starts.timestamp()) for o in found),
        tuple(int(o.ends.timestamp()) for o in found),
        tuple(int(p.ends.timestamp()) if p is not None else -1 for p in previous),
        tuple(o.clipped for o in found),
        tuple(o.phase_assumed for o in found),
        tuple(o.ends > started for o in found),
    )


def materialise_occurrences(cursor: duckdb.DuckDBPyConnection, started_at: datetime | None) -> None:
    """Create maintenance_occurrences, maintenance_horizon and maintenance_window_problems from the `maintenance`
    table of a scan that started at `started_at` (None: no such scan, no occurrences). Each distinct window is
    expanded once in Python; SQL gives every configuration that uses it its occurrences (a join)."""
    rows = sql.run(cursor, "model/windows/inputs.sql")
    uses: dict[str, list[Any]] = {"cluster_id": [], "config_key": [], "kind": [], "window_id": []}
    windows: dict[str, tuple[int, _Columns]] = {}  # canonical window text -> its id and occurrences
    problems: list[dict[str, str]] = []
    if started_at is not None:
        started = started_at.replace(tzinfo=UTC)
        horizon_end = started + timedelta(days=HORIZON_DAYS)
        for cluster_id, config_key, window_json in rows:
            kind = window_kind(config_key)
            if kind is None or window_json is None:
                continue
            canonical = _canonical(window_json)
            try:
                if canonical not in windows:
                    windows[canonical] = (len(windows), _expanded(canonical, started, horizon_end))
            except WindowError as exc:
                problems.append({"cluster_id": cluster_id, "config_key": config_key, "kind": kind, "problem": str(exc)})
                continue
            uses["cluster_id"].append(cluster_id)
            uses["config_key"].append(config_key)
            uses["kind"].append(kind)
            uses["window_id"].append(windows[canonical][0])
    values: dict[str, list[Any]] = {name: [] for name in _Columns.__dataclass_fields__}
    occurrence_windows: list[int] = []
    for window_id, columns in windows.values():
        occurrence_windows.extend([window_id] * len(columns.starts))
        for name in values:
            values[name].extend(getattr(columns, name))
    epoch = {name: np.array(values[name], dtype=np.int64) for name in ("starts", "ends", "previous_ends")}
    previous = epoch["previous_ends"].astype("datetime64[s]")
    previous[epoch["previous_ends"] < 0] = np.datetime64("NaT")
    occurrence_arrays = {
        "window_id": np.array(occurrence_windows, dtype=np.int64),
        "starts_at": epoch["starts"].astype("datetime64[s]"),
        "ends_at": epoch["ends"].astype("datetime64[s]"),
        "previous_end": previous,
        "clipped": np.array(values["clipped"], dtype=bool),
        "phase_assumed": np.array(values["phase_assumed"], dtype=bool),
        "in_horizon": np.array(values["in_horizon"], dtype=bool),
    }
    window_uses = {
        "cluster_id": np.array(uses["cluster_id"], dtype=object),
        "config_key": np.array(uses["config_key"], dtype=object),
        "kind": np.array(uses["kind"], dtype=object),
        "window_id": np.array(uses["window_id"], dtype=np.int64),
    }
    cursor.register("occurrence_arrays", occurrence_arrays)
    cursor.register("window_uses", window_uses)
    try:
        sql.run(cursor, "model/windows/tables.sql", horizon_days=HORIZON_DAYS, problems=problems)
    finally:
        cursor.unregister("window_uses")
        cursor.unregister("occurrence_arrays")


@lru_cache(maxsize=4096)
def _canonical(window_json: str) -> str:
    """The window as canonical text, so equal windows share one expansion whatever their key order."""
    return json.dumps(json.loads(window_json), sort_keys=True, separators=(",", ":"))
