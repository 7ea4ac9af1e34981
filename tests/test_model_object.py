"""The model is an object: its tables live on its own cursor, for as long as it is open, and an evaluation's
findings stay in DuckDB until read."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from auditor.controls import STATUSES, evaluate, evaluate_scan, findings_digest
from auditor.model import Model
from auditor.policy import default_policy
from auditor.store import open_db
from tests.evidence import AS_OF, cluster, store_scan


def _two_scans(db: Path) -> tuple[str, str]:
    first = store_scan(db, [cluster("alpha"), cluster("bravo", version="1.31.1")], scan_id="s1")
    second = store_scan(db, [cluster("charlie")], started_at=AS_OF + timedelta(days=1), scan_id="s2")
    return first, second


def test_the_model_tables_live_on_the_models_cursor_only(tmp_path: Path) -> None:
    db = tmp_path / "m.duckdb"
    first, _ = _two_scans(db)
    con = open_db(db)
    try:
        with Model(con, first, default_policy()) as model:
            names = {r[0] for r in model.cursor.execute("SELECT name FROM clusters").fetchall()}
            assert names == {"alpha", "bravo"}
            assert model.scan_id == first and model.as_of == AS_OF.date()
            with pytest.raises(duckdb.CatalogException):
                con.execute("SELECT * FROM clusters")  # nothing is left on the caller's connection
        with pytest.raises(duckdb.ConnectionException):
            model.cursor.execute("SELECT 1")  # closed with the model
    finally:
        con.close()


def test_two_models_of_two_scans_do_not_meet(tmp_path: Path) -> None:
    db = tmp_path / "m.duckdb"
    first, second = _two_scans(db)
    con = open_db(db)
    try:
        with Model(con, first, default_policy()) as one, Model(con, second, default_policy()) as two:
            assert one.cursor.execute("SELECT count(*) FROM clusters").fetchall() == [(2,)]
            assert two.cursor.execute("SELECT count(*) FROM clusters").fetchall() == [(1,)]
            assert {f.cluster for f in evaluate(one).findings() if f.cluster} == {"alpha", "bravo"}
            assert {f.cluster for f in evaluate(two).findings() if f.cluster} == {"charlie"}
    finally:
        con.close()


def test_an_evaluation_answers_from_duckdb_what_its_findings_say(tmp_path: Path) -> None:
    db = tmp_path / "m.duckdb"
    first, _ = _two_scans(db)
    con = open_db(db)
    try:
        with Model(con, first, default_policy()) as model:
            evaluation = evaluate(model)
            findings = list(evaluation.findings(batch=7))  # several batches, one order
            counts = evaluation.counts()
            assert set(counts) == set(STATUSES) and sum(counts.values()) == len(findings)
            for status in STATUSES:
                assert counts[status] == sum(1 for f in findings if f.status == status)
            failing = {f.severity for f in findings if f.status == "fail"}
            order = ("info", "low", "medium", "high", "critical")
            assert evaluation.worst_failing() == max(failing, key=order.index)
            assert evaluation.digest() == findings_digest(findings)
        assert findings == evaluate_scan(con, first, default_policy())
    finally:
        con.close()


def test_a_scan_that_is_not_stored_is_an_error_and_leaves_nothing_open(tmp_path: Path) -> None:
    db = tmp_path / "m.duckdb"
    _two_scans(db)
    con = open_db(db)
    try:
        with pytest.raises(Exception, match="not in the database"):
            Model(con, "no-such-scan", default_policy())
    finally:
        con.close()
