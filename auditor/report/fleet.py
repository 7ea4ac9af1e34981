"""The report's Fleet Manager section: each fleet's strategies as stages, its auto-upgrade profiles, and its latest
update runs with stage timings, gates and who approved them (docs/fleet.md).

Reads the Fleet model tables of the evaluated scan (queries/model/80_fleet.sql), so call it right after evaluate().
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime
from typing import Any

import duckdb

from auditor import sql
from auditor.controls import Finding

LATEST_RUNS = 5  # per fleet, the most recent; the CSV/JSON findings and `auditor history` carry the rest


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M}" if moment else ""


def _duration(start: datetime | None, end: datetime | None) -> str:
    if not start or not end:
        return ""
    minutes = int((end - start).total_seconds() // 60)
    if minutes >= 48 * 60:
        return f"{minutes / 1440:.1f} d"
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def _wait(seconds: int) -> str:
    if not seconds:
        return ""
    return f"{seconds // 3600} h" if seconds % 3600 == 0 else f"{seconds // 60} min"


def _objects(value: Any) -> list[dict[str, Any]]:
    """The objects of a JSON list (anything else in it, or a value that is no list, is left out)."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _seconds(value: Any) -> int:
    try:
        return max(0, int(value or 0))
    except (TypeError, ValueError):
        return 0


def _stages(strategy_json: str | None) -> list[dict[str, Any]] | None:
    """A strategy's stages as the report draws them; None when the stored strategy is not readable as one."""
    strategy = json.loads(strategy_json) if strategy_json else {}
    if not isinstance(strategy, dict) or not isinstance(strategy.get("stages") or [], list):
        return None
    out = []
    for stage in strategy.get("stages") or []:
        if not isinstance(stage, dict):
            return None
        out.append(
            {
                "name": str(stage.get("name") or ""),
                "groups": [str(g.get("name") or "") for g in _objects(stage.get("groups"))],
                "wait": _wait(_seconds(stage.get("afterStageWaitInSeconds"))),
                "before_gates": [
                    str(g.get("displayName") or g.get("type") or "") for g in _objects(stage.get("beforeGates"))
                ],
                "after_gates": [
                    str(g.get("displayName") or g.get("type") or "") for g in _objects(stage.get("afterGates"))
                ],
            }
        )
    return out


def fleet_overview(con: duckdb.DuckDBPyConnection, findings: list[Finding]) -> list[dict[str, Any]]:
    """One entry per fleet of the scan, ordered by name then id."""
    verdicts = {f.resource_id.lower(): f for f in findings if f.control_id == "AKS-FLT-01"}
    fleets = sql.run(con, "report/fleet_fleets.sql").rows
    if not fleets:
        return []
    strategies: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for fleet_key, name, strategy in sql.run(con, "report/fleet_strategies.sql"):
        stages_drawn = _stages(strategy)
        strategies[fleet_key].append({"name": name, "stages": stages_drawn or [], "unreadable": stages_drawn is None})
    profiles: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in sql.run(con, "report/fleet_profiles.sql"):
        fleet_key, name, channel, strategy, disabled, selection, triggered, status, versions, target = row
        profiles[fleet_key].append(
            {
                "name": name,
                "channel": (channel or "?") + (f" {target}" if target else ""),
                "strategy": strategy or "one by one",
                "state": "disabled" if disabled else "enabled",
                "node_images": "" if (channel or "").lower() == "nodeimage" else selection,
                "last_trigger": " ".join(x for x in (_when(triggered), status or "", versions or "") if x),
            }
        )
    runs: dict[str, list[dict[str, Any]]] = defaultdict(list)
    run_rows = sql.run(con, "report/fleet_runs.sql").rows
    wanted = [r for r in run_rows if r[11] <= LATEST_RUNS]
    keys = [r[1] for r in wanted]
    stages: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for run_key, name, state, start, end, wait, members, failed, skipped in sql.run(
        con, "report/fleet_stages.sql", run_keys=keys
    ):
        stages[run_key].append(
            {
                "name": name,
                "state": state or "",
                "start": _when(start),
                "end": _when(end),
                "took": _duration(start, end),
                "wait": _wait(int(wait or 0)),
                "members": members,
                "failed": failed,
                "skipped": skipped,
            }
        )
    gates: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for run_key, stage, group, timing, display, state, approved_by, approved_at, source in sql.run(
        con, "report/fleet_gates.sql", run_keys=keys
    ):
        where = f"{timing.lower()} {'group ' + group + ' of ' if group else ''}stage {stage or '?'}"
        gates[run_key].append(
            {
                "where": where,
                "name": display or "",
                "state": state or "",
                "approved_by": approved_by
                or ("approver not collected" if state == "Completed" and source != "arm" else ""),
                "approved_at": _when(approved_at) if state == "Completed" else "",
            }
        )
    for fleet_key, run_key, name, kind, version, selection, state, start, end, has_status, images, _ in wanted:
        runs[fleet_key].append(
            {
                "name": name,
                "change": f"{kind or '?'}{' ' + version if version else ''}",
                "node_images": selection if (kind or "").lower() != "controlplaneonly" else "",
                "images": images or "",
                "state": state if has_status else "status not collected or unreadable",
                "start": _when(start),
                "end": _when(end),
                "took": _duration(start, end),
                "stages": stages.get(run_key, []),
                "gates": gates.get(run_key, []),
            }
        )
    out = []
    for fleet_key, fleet_id, name, group, location, subscription, members in fleets:
        verdict = verdicts.get(fleet_id.lower())
        total = sum(1 for r in run_rows if r[0] == fleet_key)
        out.append(
            {
                "name": name,
                "resource_group": group,
                "subscription": subscription,
                "location": location,
                "members": members,
                "status": verdict.status if verdict else "",
                "message": verdict.message if verdict else "",
                "strategies": strategies.get(fleet_key, []),
                "profiles": profiles.get(fleet_key, []),
                "runs": runs.get(fleet_key, []),
                "total_runs": total,
            }
        )
    return out
