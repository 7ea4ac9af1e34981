"""Remediation commands are filled in SQL (queries/evaluate/finish.sql) from templates compiled by
auditor.controls.remediation.compile_template: the same command, byte for byte, as `fill`, and hostile names stay
one shell word each."""

from __future__ import annotations

import shlex
import subprocess
from itertools import product

import duckdb
import pytest

from auditor import sql
from auditor.controls import load_catalog
from auditor.controls.catalog import STATUSES
from auditor.controls.evaluate import remediation_templates
from auditor.controls.remediation import compile_template, fill

HOSTILE = [
    "plain",
    "rg 1",
    "it's",
    "a'b'c",
    "$(touch /tmp/owned)",
    "`id`",
    "x; rm -rf /",
    "line\nbreak",
    'double "quoted"',
    "tab\there",
    "back\\slash",
    "ünïcödé",
    "-n",
    "agentPoolProfiles[3]",
    "agentPoolProfiles[3]x",
    "AUDITORSLOT1X",
    "{cluster}",
    "",
    None,
]


def _cursor() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    sql.run(con, "evaluate/setup.sql")
    return con


@pytest.mark.parametrize("value", [v for v in HOSTILE if v is not None])
def test_shell_quote_in_sql_is_shlex_quote(value: str) -> None:
    con = _cursor()
    quoted = con.execute("SELECT shell_quote($value)", {"value": value}).fetchone()
    assert quoted is not None and quoted[0] == shlex.quote(value)


def test_a_quoted_hostile_name_is_one_word_to_the_shell() -> None:
    con = _cursor()
    for value in [v for v in HOSTILE if v]:
        quoted = con.execute("SELECT shell_quote($value)", {"value": value}).fetchone()
        assert quoted is not None
        echoed = subprocess.run(["sh", "-c", f"printf %s {quoted[0]}"], capture_output=True, text=True, check=True)
        assert echoed.stdout == value


def test_every_template_fills_in_sql_as_fill_does_with_hostile_values() -> None:
    catalog = load_catalog()
    values = ["rg 1", "it's", "$(id)", "line\nbreak", "", None]
    pools = ["p", "agentPoolProfiles[2]", "$(id)", "", None]
    for control in catalog:
        targets = [None, "", "1.33.2", "it's here", *(t for t, _ in control.remediation_variants)]
        rows = [(control.id, g, c, p, t) for g, c, p, t in product(values, values[:3], pools, targets)]
        con = _cursor()
        con.execute(
            "CREATE TEMP TABLE given_rows AS SELECT *, 'fail' AS status, 'high' AS severity, '/r' AS resource_id, "
            "'m' AS message, 't' AS title, '' AS subscription_id, '' AS subscription_name, '' AS location, "
            "'{}' AS tags, CAST(rid AS VARCHAR) AS evidence, 1 AS resource_rank "
            "FROM (SELECT unnest($rows::STRUCT(rid BIGINT, control_id VARCHAR, resource_group VARCHAR, "
            "cluster VARCHAR, node_pool VARCHAR, target VARCHAR)[], recursive := true))",
            {
                "rows": [
                    {"rid": i, "control_id": c, "resource_group": g, "cluster": n, "node_pool": p, "target": t}
                    for i, (c, g, n, p, t) in enumerate(rows)
                ]
            },
        )
        # What queries/evaluate/findings.sql leaves for finish.sql (which drops it): the rows, as a view.
        con.execute("CREATE TEMP VIEW eval_rows AS SELECT * FROM given_rows")
        con.execute("CREATE TEMP TABLE eval_controls AS SELECT $id AS control_id", {"id": control.id})
        con.execute("CREATE TEMP TABLE eval_context AS SELECT 1 AS x")
        sql.run(
            con,
            "evaluate/finish.sql",
            templates=remediation_templates((control,)),
            waivers=[],
            statuses=list(STATUSES),
        )
        got = dict(con.execute("SELECT CAST(evidence AS INTEGER), remediation FROM eval_findings").fetchall())
        for rid, (_, group, cluster, pool, target) in enumerate(rows):
            expected = control.remediation_for(group or "", cluster or "", pool, target)
            assert got[rid] == expected, (control.id, group, cluster, pool, target)


def test_a_template_compiles_to_literals_around_quoted_values() -> None:
    template = "az aks nodepool add -g {resource_group} --cluster-name {cluster} -n {pool}2 --os-sku {target}"
    compiled = {mask: (literals, fields) for mask, literals, fields in compile_template(template)}
    assert compiled[0] == (
        ("az aks nodepool add -g ", " --cluster-name ", " -n ", "2 --os-sku ", ""),
        ("resource_group", "cluster", "pool", "target"),
    )
    literals, fields = compiled[0b0100]  # no pool: its option and the glued "2" go, a comment says why
    assert fields == ("resource_group", "cluster", "target")
    assert literals[-1] == "  # -n omitted: the pool has no name in the evidence"
    assert fill(template, {"resource_group": "g", "cluster": "c", "pool": None, "target": "t"}) == (
        "az aks nodepool add -g g --cluster-name c --os-sku t  # -n omitted: the pool has no name in the evidence"
    )
    with pytest.raises(ValueError, match="stand-in"):
        compile_template("az aks update -n AUDITORSLOT0X")


def test_a_template_may_insert_at_most_six_values() -> None:
    """finish.sql concatenates six value slots: a template that inserts more is refused when compiled."""
    seven = "az x -g {resource_group} -n {cluster} && az y -g {resource_group} -n {cluster} -p {pool} {pool} {target}"
    with pytest.raises(ValueError, match="more than 6"):
        compile_template(seven)
