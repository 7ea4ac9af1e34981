"""`ord` of queries/evaluate/finish.sql is the canonical order: control, lower-case resource id, pool, status, then
message, evidence, remediation and waiver for findings that share the first four (the tie-break path)."""

from __future__ import annotations

import random

import duckdb

from auditor import sql
from auditor.controls.catalog import STATUSES


def _rows(seed: int) -> list[dict[str, object]]:
    """Findings with many shared keys: few controls, resources, pools and statuses, varied texts."""
    rng = random.Random(seed)
    rows = []
    for rid in range(600):
        rows.append(
            {
                "rid": rid,
                "control_id": rng.choice(["AKS-B-01", "AKS-A-02", "AKS-A-01"]),
                "resource_id": rng.choice(["/s/B", "/s/a", "/s/c", "/s/A2"]),
                "node_pool": rng.choice([None, "", "system", "user1", "User1"]),
                "status": rng.choice(list(STATUSES)),
                "message": rng.choice(["m", "m2", "M", ""]),
                "evidence": rng.choice(["e", "e2", ""]),
                "waiver": rng.choice([None, "{}", '{"expired": "true"}']),
            }
        )
    return rows


def _ordered(rows: list[dict[str, object]]) -> list[int]:
    """The rids in the canonical order, sorted in Python (a NULL waiver sorts last, as SQL's ASC does)."""

    def key(row: dict[str, object]) -> tuple[object, ...]:
        waiver = row["waiver"]
        return (
            row["control_id"],
            str(row["resource_id"]).lower(),
            row["node_pool"] or "",
            row["status"],
            row["message"],
            row["evidence"],
            "",
            waiver is None,
            waiver or "",
        )

    return [int(str(r["rid"])) for r in sorted(rows, key=key)]


def test_ord_follows_the_canonical_order_through_ties() -> None:
    for seed in range(5):
        rows = _rows(seed)
        con = duckdb.connect()
        sql.run(con, "evaluate/setup.sql")
        con.execute(
            "CREATE TEMP TABLE given_rows AS SELECT * EXCLUDE (waiver), 'high' AS severity, 't' AS title, "
            "'' AS cluster, '' AS subscription_id, '' AS subscription_name, '' AS resource_group, '' AS location, "
            "'{}' AS tags, NULL::VARCHAR AS target, dense_rank() OVER (ORDER BY lower(resource_id)) AS resource_rank "
            "FROM (SELECT unnest($rows::STRUCT(rid BIGINT, control_id VARCHAR, resource_id VARCHAR, "
            "node_pool VARCHAR, status VARCHAR, message VARCHAR, evidence VARCHAR, waiver VARCHAR)[], "
            "recursive := true))",
            {"rows": rows},
        )
        # What queries/evaluate/findings.sql leaves for finish.sql (which drops it): the rows, as a view; the waiver
        # of a finding comes from the waivers finish.sql is given.
        con.execute("CREATE TEMP VIEW eval_rows AS SELECT * FROM given_rows")
        waivers = [
            {"rid": r["rid"], "status": r["status"], "message": r["message"], "waiver": r["waiver"]}
            for r in rows
            if r["waiver"] is not None
        ]
        con.execute("CREATE TEMP TABLE eval_controls AS SELECT DISTINCT control_id FROM given_rows")
        con.execute("CREATE TEMP TABLE eval_context AS SELECT 1 AS x")
        sql.run(con, "evaluate/finish.sql", templates=[], waivers=waivers, statuses=list(STATUSES))
        got = [int(e) for (e,) in con.execute("SELECT ord FROM eval_findings ORDER BY ord").fetchall()]
        assert got == list(range(1, len(rows) + 1))
        evidence_order = con.execute(
            "SELECT control_id, lower(resource_id), coalesce(node_pool, ''), status, message, evidence, waiver "
            "FROM eval_findings ORDER BY ord"
        ).fetchall()
        expected = [rows[rid] for rid in _ordered(rows)]
        assert evidence_order == [
            (
                r["control_id"],
                str(r["resource_id"]).lower(),
                r["node_pool"] or "",
                r["status"],
                r["message"],
                r["evidence"],
                r["waiver"],
            )
            for r in expected
        ]
