"""Shape one scan's raw evidence into the model tables the controls read (queries/model/*.sql).

Tables (temp, per connection, rebuilt for each scan): clusters, node_pools, region_versions, maintenance,
maintenance_collected, latest_images, scan, scan_errors, subscriptions (all from SQL files), maintenance_occurrences
and maintenance_window_problems (auditor/window_model.py), version_calendar (the bundled AKS calendar), os_support
(the bundled end of support of node OS releases and pool types), cluster_params (the policy thresholds in effect per
cluster), and the upgrade
history as of the scan: history_events, history_snapshots, upgrade_steps, upgrade_campaign_members,
upgrade_campaigns (auditor/history.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import cache, lru_cache
from typing import Any

import duckdb
from duckdb.func import FunctionNullHandling

from auditor import sql
from auditor.kubelabels import selector_matches_json
from auditor.nodeimage import parse_node_image
from auditor.policy import THRESHOLDS, Policy
from auditor.window_model import materialise_occurrences

# A fleet has few distinct node images (a handful per family and week), so parsing is memoised.
_parse = lru_cache(maxsize=8192)(parse_node_image)


def _image_family(value: str | None) -> str | None:
    parsed = _parse(value) if value else None
    return parsed.family if parsed else None


def _image_date(value: str | None) -> date | None:
    parsed = _parse(value) if value else None
    return parsed.release_date if parsed else None


def register_functions(con: duckdb.DuckDBPyConnection) -> None:
    """Node-image parsing as SQL functions: the one Python parser serves SQL too."""
    existing = {
        r[0]
        for r in con.execute(
            "SELECT function_name FROM duckdb_functions() "
            "WHERE function_name IN ('node_image_family', 'node_image_date', 'label_selector_matches')"
        ).fetchall()
    }
    functions: dict[str, tuple[Callable[..., Any], list[str], str]] = {
        "node_image_family": (_image_family, ["VARCHAR"], "VARCHAR"),
        "node_image_date": (_image_date, ["VARCHAR"], "DATE"),
        # Kubernetes label selector semantics (auditor/kubelabels.py): selector JSON, labels JSON -> BOOLEAN.
        "label_selector_matches": (selector_matches_json, ["VARCHAR", "VARCHAR"], "BOOLEAN"),
    }
    for name, (function, parameters, returns) in functions.items():
        if name not in existing:
            con.create_function(
                name,
                function,
                parameters,  # type: ignore[arg-type]
                returns,
                null_handling=FunctionNullHandling.SPECIAL,
                side_effects=False,
            )


@cache
def _model_statements() -> tuple[sql.Statement, ...]:
    return tuple(s for name in sql.files("model") for s in sql.load(name).statements)


def prepare_model(con: duckdb.DuckDBPyConnection, scan_id: str, policy: Policy) -> None:
    """Build the model temp tables for one scan and the per-cluster thresholds of the policy."""
    register_functions(con)
    for statement in _model_statements():
        con.execute(statement.text, {"scan_id": scan_id} if "scan_id" in statement.parameters else None)
    # Maintenance windows expanded into occurrences by the one expander (auditor/window_model.py).
    materialise_occurrences(con)
    _version_calendar(con)
    con.execute(_os_support_sql())
    _cluster_params(con, policy)
    # The upgrade ledger as of this scan, and its campaigns (auditor/history.py, queries/history/).
    from auditor.history import prepare_history

    prepare_history(con, scan_id, policy.thresholds)


def _date_literal(value: date | None) -> str:
    return f"DATE '{value.isoformat()}'" if value else "NULL::DATE"


@cache
def _calendar_sql() -> str:
    from auditor.catalog import load_calendar

    rows = [
        f"('{m.minor}', {_date_literal(m.aks_ga)}, {_date_literal(m.end_of_support)}, "
        f"{_date_literal(m.platform_support_end)}, {_date_literal(m.lts_end)})"
        for m in load_calendar()
    ]
    columns = "(minor, aks_ga, end_of_support, platform_support_end, lts_end)"
    source = (
        f"(VALUES {', '.join(rows)}) AS t{columns}"
        if rows
        else ("(SELECT NULL::VARCHAR, NULL::DATE, NULL::DATE, NULL::DATE, NULL::DATE WHERE false) AS t" + columns)
    )
    return (
        "CREATE OR REPLACE TEMP TABLE version_calendar AS "
        f"SELECT minor, minor_num(minor) AS minor_num, aks_ga, end_of_support, platform_support_end, lts_end "
        f"FROM {source}"
    )


def _version_calendar(con: duckdb.DuckDBPyConnection) -> None:
    """The bundled AKS calendar (auditor.catalog): GA, end of support and LTS end of every minor."""
    con.execute(_calendar_sql())


@cache
def _os_support_sql() -> str:
    """The bundled end-of-support table (auditor/catalog/data/os_support.csv); `priority` is its row order."""
    from auditor.catalog import load_os_support

    rows = [
        f"({priority}, {_sql_literal(r.key)}, {_sql_literal(r.label)}, {_sql_literal(r.applies_to)}, "
        f"{_sql_literal(r.image_family_pattern)}, {_sql_literal(list(r.os_skus))}, {_date_literal(r.end_of_support)}, "
        f"{_date_literal(r.images_removed)}, {_sql_literal(r.migrate_to)}, {_sql_literal(r.migration)}, "
        f"{_sql_literal(r.source)})"
        for priority, r in enumerate(load_os_support(), start=1)
    ]
    columns = (
        "(priority, key, label, applies_to, image_family_pattern, os_skus, end_of_support, images_removed, "
        "migrate_to, migration, source)"
    )
    return f"CREATE OR REPLACE TEMP TABLE os_support AS SELECT * FROM (VALUES {', '.join(rows)}) AS t{columns}"


def _sql_literal(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_sql_literal(v) for v in value) + "]::VARCHAR[]"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return str(int(value))  # type: ignore[call-overload]


def _cluster_params(con: duckdb.DuckDBPyConnection, policy: Policy) -> None:
    """One row per cluster with the thresholds in effect: defaults, then each matching scope in file order
    (a later scope wins for the thresholds it sets). `scope_name` lists every matching scope."""
    columns = ", ".join(f"{_sql_literal(policy.thresholds[name])} AS {name}" for name in THRESHOLDS)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE cluster_params AS SELECT cluster_id, '' AS scope_name, {columns} FROM clusters"
    )
    # The top-level thresholds, for what belongs to no cluster of the scan (a Fleet's update runs).
    con.execute(f"CREATE OR REPLACE TEMP TABLE policy_defaults AS SELECT {columns}")
    for scope in policy.scopes:
        conditions: list[str] = []
        params: list[object] = []
        for key, values in scope.tags.items():
            conditions.append("list_has_any(c.tag_pairs, ?::VARCHAR[])")
            params.append([f"{key.lower()}\x1f{value.lower()}" for value in values])
        if scope.subscriptions:
            conditions.append("c.subscription_id IN (SELECT unnest(?::VARCHAR[]))")
            params.append([s.lower() for s in scope.subscriptions])
        if scope.resource_groups:
            conditions.append("lower(c.resource_group) IN (SELECT unnest(?::VARCHAR[]))")
            params.append([g.lower() for g in scope.resource_groups])
        if not conditions:
            continue
        assignments = [f"{name} = {_sql_literal(value)}" for name, value in scope.thresholds.items()]
        assignments.append(
            f"scope_name = CASE WHEN scope_name = '' THEN {_sql_literal(scope.name)} "
            f"ELSE scope_name || ', ' || {_sql_literal(scope.name)} END"
        )
        con.execute(
            f"UPDATE cluster_params SET {', '.join(assignments)} WHERE cluster_id IN "
            f"(SELECT c.cluster_id FROM clusters c WHERE {' AND '.join(conditions)})",
            params,
        )
