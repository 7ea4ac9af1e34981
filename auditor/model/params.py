"""What the model receives as parameters rather than from the scan: the bundled AKS calendar, the end of support
of node OS releases, and the policy thresholds in effect per cluster."""

from __future__ import annotations

from datetime import date
from functools import cache
from typing import Any

import duckdb

from auditor import sql
from auditor.catalog import load_calendar, load_os_support
from auditor.policy import THRESHOLDS, Policy


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


@cache
def calendar_rows() -> tuple[dict[str, Any], ...]:
    """$calendar of queries/model/06_version_calendar.sql: every minor of the bundled AKS calendar."""
    return tuple(
        {
            "minor": m.minor,
            "aks_ga": _iso(m.aks_ga),
            "end_of_support": _iso(m.end_of_support),
            "platform_support_end": _iso(m.platform_support_end),
            "lts_end": _iso(m.lts_end),
        }
        for m in load_calendar()
    )


@cache
def os_support_rows() -> tuple[dict[str, Any], ...]:
    """$os_support of queries/model/07_os_support.sql: the bundled end-of-support rows in match priority order."""
    return tuple(
        {
            "priority": priority,
            "key": r.key,
            "label": r.label,
            "applies_to": r.applies_to,
            "image_family_pattern": r.image_family_pattern,
            "os_skus": list(r.os_skus),
            "end_of_support": _iso(r.end_of_support),
            "images_removed": _iso(r.images_removed),
            "migrate_to": r.migrate_to,
            "migration": r.migration,
            "source": r.source,
        }
        for priority, r in enumerate(load_os_support(), start=1)
    )


def _thresholds(values: dict[str, Any]) -> dict[str, Any]:
    """Every threshold in THRESHOLDS order (the column order of cluster_params and policy_defaults)."""
    return {name: list(values[name]) if isinstance(values[name], tuple) else values[name] for name in THRESHOLDS}


def cluster_params(cursor: duckdb.DuckDBPyConnection, policy: Policy) -> None:
    """Tables cluster_params (one row per cluster of `clusters` with the thresholds in effect: the defaults, then
    each matching scope in file order, a later scope winning for the thresholds it sets; `scope_name` lists every
    matching scope) and policy_defaults (the top-level thresholds)."""
    scopes = [
        {
            "position": position,
            "tags": [[f"{key.lower()}\x1f{value.lower()}" for value in values] for key, values in scope.tags.items()],
            "subscriptions": [s.lower() for s in scope.subscriptions],
            "resource_groups": [g.lower() for g in scope.resource_groups],
        }
        for position, scope in enumerate(policy.scopes)
        if scope.tags or scope.subscriptions or scope.resource_groups  # a scope that names nothing matches nothing
    ]
    combinations = sql.run(cursor, "model/params/scope_matches.sql", scopes=scopes)
    param_sets = []
    for (matched,) in combinations:
        values = dict(policy.thresholds)
        names: list[str] = []
        for position in matched:
            values.update(policy.scopes[position].thresholds)
            names.append(policy.scopes[position].name)
        param_sets.append({"matched": list(matched), "scope_name": ", ".join(names), "thresholds": _thresholds(values)})
    sql.run(
        cursor,
        "model/params/cluster_params.sql",
        param_sets=param_sets or [{"matched": [], "scope_name": "", "thresholds": _thresholds(policy.thresholds)}],
        defaults=_thresholds(policy.thresholds),
    )
