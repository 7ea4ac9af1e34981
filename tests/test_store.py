"""The store: schema versions, atomic scans, scan lookup."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from auditor.errors import StoreError
from auditor.store import list_scans, open_db, resolve_scan, schema_version
from tests.evidence import cluster, store_scan


def test_missing_database_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no database at"):
        open_db(tmp_path / "none.duckdb")


def test_foreign_duckdb_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "other.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE mine (x INTEGER)")
    con.execute("INSERT INTO mine VALUES (42)")
    con.close()
    with pytest.raises(StoreError, match="not an aks-upgrade-auditor store"):
        open_db(path, create=True)
    con = duckdb.connect(str(path))
    assert con.execute("SELECT x FROM mine").fetchall() == [(42,)]
    con.close()


def test_newer_schema_is_refused_and_data_kept(tmp_path: Path) -> None:
    path = tmp_path / "a.duckdb"
    scan_id = store_scan(path, [cluster("c1")])
    con = duckdb.connect(str(path))
    con.execute("UPDATE auditor_meta SET value = ? WHERE key = 'schema_version'", [str(schema_version() + 1)])
    con.close()
    with pytest.raises(StoreError, match="newer than this tool"):
        open_db(path)
    con = duckdb.connect(str(path))
    assert con.execute("SELECT count(*) FROM scans WHERE scan_id = ?", [scan_id]).fetchone() == (1,)
    con.close()


def test_scans_resolve_by_latest_id_and_prefix(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    path = tmp_path / "a.duckdb"
    first = store_scan(path, [cluster("c1")], started_at=datetime(2026, 10, 1, tzinfo=UTC), scan_id="20261001-aaa")
    second = store_scan(path, [cluster("c1")], started_at=datetime(2026, 11, 1, tzinfo=UTC), scan_id="20261101-bbb")
    con = open_db(path)
    try:
        assert [s.scan_id for s in list_scans(con)] == [first, second]
        assert resolve_scan(con, "latest").scan_id == second
        assert resolve_scan(con, "20261001").scan_id == first
        with pytest.raises(StoreError, match="ambiguous"):
            resolve_scan(con, "2026")
        with pytest.raises(StoreError, match="no scan 'nope'"):
            resolve_scan(con, "nope")
        assert len(resolve_scan(con, second).evidence_sha256) == 64
    finally:
        con.close()


def test_empty_database_has_no_latest_scan(tmp_path: Path) -> None:
    con = open_db(tmp_path / "a.duckdb", create=True)
    try:
        with pytest.raises(StoreError, match="holds no scan"):
            resolve_scan(con)
    finally:
        con.close()


def test_stored_evidence_rehashes_to_the_recorded_digest(tmp_path: Path) -> None:
    from auditor.store import stored_evidence_digest

    path = tmp_path / "a.duckdb"
    scan_id = store_scan(path, [cluster("c1", tags={"owner": "Zoë 👩‍💻", "quote": 'a"b'}), cluster("c2")])
    con = open_db(path)
    try:
        recorded = resolve_scan(con, scan_id).evidence_sha256
        assert stored_evidence_digest(con, scan_id) == recorded
        con.execute("UPDATE evidence SET scope = 'tampered' WHERE scan_id = ? AND seq = 1", [scan_id])
        assert stored_evidence_digest(con, scan_id) != recorded
    finally:
        con.close()
