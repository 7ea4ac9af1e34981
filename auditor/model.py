"""Shape one scan's raw evidence into the model tables the controls read (queries/model/*.sql)."""

from __future__ import annotations

import duckdb

from auditor.nodeimage import parse_node_image
from auditor.paths import queries_dir
from auditor.policy import THRESHOLDS, Policy


def _image_family(value: str | None) -> str | None:
    parsed = parse_node_image(value) if value else None
    return parsed.family if parsed else None


def _image_date(value: str | None):  # type: ignore[no-untyped-def]
    parsed = parse_node_image(value) if value else None
    return parsed.release_date if parsed else None


def register_functions(con: duckdb.DuckDBPyConnection) -> None:
    """Node-image parsing as SQL functions: the one Python parser serves SQL too."""
    existing = {r[0] for r in con.execute("SELECT function_name FROM duckdb_functions()").fetchall()}
    if "node_image_family" not in existing:
        con.create_function("node_image_family", _image_family, ["VARCHAR"], "VARCHAR",
                            null_handling="special", side_effects=False)
    if "node_image_date" not in existing:
        con.create_function("node_image_date", _image_date, ["VARCHAR"], "DATE",
                            null_handling="special", side_effects=False)


def prepare_model(con: duckdb.DuckDBPyConnection, scan_id: str, policy: Policy) -> None:
    """Build the model temp tables for one scan and the per-cluster thresholds of the policy."""
    register_functions(con)
    for sql_file in sorted((queries_dir() / "model").glob("*.sql")):
        text = sql_file.read_text(encoding="utf-8")
        for statement in _statements(text):
            con.execute(statement, {"scan_id": scan_id} if "$scan_id" in statement else None)
    _cluster_params(con, policy)


def _statements(text: str) -> list[str]:
    # Model files hold a few plain statements; none has a ';' inside a literal.
    body = "\n".join(line for line in text.splitlines() if not line.strip().startswith("--"))
    return [s.strip() for s in body.split(";") if s.strip()]


def _sql_literal(value: object) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_sql_literal(v) for v in value) + "]::VARCHAR[]"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return str(int(value))  # type: ignore[call-overload]


def _cluster_params(con: duckdb.DuckDBPyConnection, policy: Policy) -> None:
    """One row per cluster with the thresholds in effect: defaults, then each matching scope in order."""
    columns = ", ".join(f"{_sql_literal(policy.thresholds[name])} AS {name}" for name in THRESHOLDS)
    con.execute(f"CREATE OR REPLACE TEMP TABLE cluster_params AS SELECT cluster_id, '' AS scope_name, {columns} "
                "FROM clusters")
    for scope in policy.scopes:
        conditions: list[str] = []
        params: list[object] = []
        for key, value in scope.tags.items():
            conditions.append("c.tags->>? = ?")
            params.extend(["$." + '"' + key.replace('"', '') + '"', value])
        if scope.subscriptions:
            conditions.append("c.subscription_id IN (SELECT unnest(?::VARCHAR[]))")
            params.append(list(scope.subscriptions))
        if scope.resource_groups:
            conditions.append("lower(c.resource_group) IN (SELECT unnest(?::VARCHAR[]))")
            params.append(list(scope.resource_groups))
        assignments = [f"{name} = {_sql_literal(value)}" for name, value in scope.thresholds.items()]
        assignments.append(f"scope_name = {_sql_literal(scope.name)}")
        con.execute(
            f"UPDATE cluster_params SET {', '.join(assignments)} WHERE cluster_id IN "
            f"(SELECT c.cluster_id FROM clusters c WHERE {' AND '.join(conditions)})",
            params,
        )
