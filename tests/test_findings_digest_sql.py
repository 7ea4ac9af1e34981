"""The report's findings digest built in DuckDB (integrity.eval_findings_digest) is byte for byte the Python one
(integrity.findings_digest over the Finding objects), hostile strings included; where the order could differ it
declines (None) so the caller digests in Python."""

from __future__ import annotations

import json
from dataclasses import replace

import duckdb
import numpy as np
import pytest

from auditor.controls import Finding, evaluate
from auditor.integrity import eval_findings_digest, findings_digest
from auditor.model import Model
from auditor.policy import load_policy
from auditor.report.data import canonical_records
from auditor.store import open_db

# Every control character, DEL, quotes, backslashes, escapes spelled out literally, non-ASCII, emoji, line and
# paragraph separators, a byte-order mark, markup.
HOSTILE = "".join(chr(c) for c in range(32)) + '\x7f"\\\\u001A\\n/<script>é中文😀\u2028\u2029\ufeff\u202e'
PLAIN = [
    Finding("AKS-A", "pass", "low", "/subscriptions/s/resourceGroups/rg/providers/x/managedClusters/a", None, "ok"),
    Finding(
        "AKS-A",
        "fail",
        "high",
        "/subscriptions/s/resourceGroups/rg/providers/x/managedClusters/B",
        "pool1",
        "too old",
        title="Title",
        cluster="B",
        subscription_id="s",
        subscription_name="Sub",
        resource_group="rg",
        location="westeurope",
        tags={"z": "1", "a": "2", "env": "prod"},
        evidence="e",
        remediation="az aks upgrade",
        waiver={"reason": "r", "approver": "p", "expires": "2027-01-01", "resource": "*", "expired": "true"},
    ),
]


def _table(findings: list[Finding], tags_text: dict[int, str] | None = None) -> duckdb.DuckDBPyConnection:
    """An eval_findings table as evaluate() leaves it (tags and waiver as JSON text; tags_text: the stored text of
    the tags of some findings, by index)."""
    con = duckdb.connect()
    texts = [(tags_text or {}).get(i, json.dumps(f.tags)) for i, f in enumerate(findings)]
    # `ord` is the canonical order (control, lower-case resource id, pool), as evaluate() numbers it.
    order = sorted(
        range(len(findings)),
        key=lambda i: (findings[i].control_id, findings[i].resource_id.lower(), findings[i].node_pool or ""),
    )
    findings = [findings[i] for i in order]
    rows = {
        "ord": list(range(1, len(findings) + 1)),
        **{
            name: [getattr(f, name) for f in findings]
            for name in (
                "control_id",
                "status",
                "severity",
                "resource_id",
                "node_pool",
                "message",
                "title",
                "cluster",
                "subscription_id",
                "subscription_name",
                "resource_group",
                "location",
                "evidence",
                "remediation",
            )
        },
        "tags": [texts[i] for i in order],
        "waiver": [json.dumps(f.waiver) if f.waiver is not None else None for f in findings],
    }
    con.register(
        "rows", {name: np.array(values, dtype=object if name != "ord" else np.int64) for name, values in rows.items()}
    )
    con.execute("CREATE TEMP TABLE eval_findings AS SELECT * FROM rows ORDER BY ord")
    return con


def _python(findings: list[Finding]) -> str:
    return findings_digest(canonical_records(findings))


def test_plain_findings_same_digest() -> None:
    assert eval_findings_digest(_table(PLAIN)) == _python(PLAIN)


@pytest.mark.parametrize("field", ["message", "cluster", "resource_group", "evidence", "remediation", "title"])
def test_hostile_strings_same_digest(field: str) -> None:
    findings = [replace(f, **{field: f"{getattr(f, field)}{HOSTILE}"}) for f in PLAIN]
    assert eval_findings_digest(_table(findings)) == _python(findings)


def test_each_control_character_same_digest() -> None:
    findings = [replace(PLAIN[1], message=f"m{chr(c)}m", node_pool=f"p{c:03d}") for c in [*range(32), 0x7F]]
    assert eval_findings_digest(_table(findings)) == _python(findings)


def test_hostile_tags_and_waivers_same_digest() -> None:
    waiver = {"reason": HOSTILE, "approver": "ä", "expires": "2027-01-01", "resource": "*\\x"}
    findings = [
        replace(PLAIN[1], tags={HOSTILE: HOSTILE, "b": "", "a": "1"}, waiver=waiver),
        replace(PLAIN[1], node_pool="p2", tags={}, waiver=None),
        replace(PLAIN[1], node_pool="p3"),
        # No control character: encoded in SQL, tags and waiver embedded as JSON.
        replace(
            PLAIN[1],
            node_pool="p4",
            tags={"é": 'a"b\\c/d中😀\u2028', "A": "<script>"},
            waiver={"reason": 'q"\\/ü', "approver": "ä", "expires": "2027-01-01", "resource": "*"},
        ),
    ]
    # The same tags spelled three ways in the table (key order, escapes, a duplicate key Python reads last-wins).
    texts = {
        0: json.dumps(findings[0].tags, ensure_ascii=True),
        1: "{}",
        2: '{"env": "x", "z":"1","a":"2","env":"prod"}',
    }
    assert eval_findings_digest(_table(findings, texts)) == _python(findings)


def test_order_python_might_fold_otherwise_declines() -> None:
    # Python lower-cases 'İ' to 'i̇' (two code points); where DuckDB's lower case differs, the order might too.
    dotted = [replace(PLAIN[0], resource_id=PLAIN[0].resource_id + "İ")]
    lowered = duckdb.connect().execute("SELECT lower(?)", [dotted[0].resource_id]).fetchone()
    expected = None if lowered is None or lowered[0] != dotted[0].resource_id.lower() else _python(dotted)
    assert eval_findings_digest(_table(dotted)) == expected
    # Non-ASCII that folds alike in both keeps the SQL path.
    accented = [replace(PLAIN[0], resource_id=PLAIN[0].resource_id + "É")]
    assert eval_findings_digest(_table(accented)) == _python(accented)


def test_ties_with_different_context_decline() -> None:
    # One (control, resource, pool) key twice, with different clusters: the report's order could break the tie.
    findings = [replace(PLAIN[1], cluster="x"), replace(PLAIN[1], cluster="a", message="other")]
    assert eval_findings_digest(_table(findings)) is None


def test_evaluated_scan_same_digest(demo_store: object) -> None:
    from pathlib import Path

    from auditor.controls import control_ids
    from auditor.store import list_scans

    con = open_db(Path(str(demo_store)), read_only=True)
    try:
        policy = load_policy(None, known_controls=control_ids())
        scan = list_scans(con)[-1]
        with Model(con, scan.scan_id, policy) as model:
            evaluation = evaluate(model)
            findings = list(evaluation.findings())
            assert findings
            assert eval_findings_digest(model.cursor) == _python(findings) == evaluation.digest()
    finally:
        con.close()


def test_ord_not_numbered_from_one_declines() -> None:
    # Each JSON text carries its separator by `ord` (none for 1): another numbering would misplace them.
    con = _table(PLAIN)
    con.execute("UPDATE eval_findings SET ord = ord + 1")
    assert eval_findings_digest(con) is None


def test_no_findings_same_digest() -> None:
    con = _table(PLAIN)
    con.execute("DELETE FROM eval_findings")
    assert eval_findings_digest(con) == _python([])
