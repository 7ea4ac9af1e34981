"""`auditor export --format parquet`: every table written as Parquet partitioned by scan date, read back with
DuckDB as Spark or Fabric would read it (Hive partitions)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import duckdb
from click.testing import CliRunner

from auditor.cli import cli
from auditor.store import open_db
from tests.evidence import AS_OF, cluster, pool, store_scan


def _read(out: Path, table: str) -> duckdb.DuckDBPyRelation:
    return duckdb.sql(f"SELECT * FROM read_parquet('{out / table}/**/*.parquet', hive_partitioning = true)")


def test_export_reads_back(tmp_path: Path) -> None:
    db = tmp_path / "a.duckdb"
    first = store_scan(
        db,
        [cluster("a", channel=None), cluster("b", pools=[pool(), pool("user1", mode="User")])],
        started_at=AS_OF,
    )
    second = store_scan(db, [cluster("a"), cluster("b"), cluster("c")], started_at=AS_OF + timedelta(days=31))
    out = tmp_path / "export"
    result = CliRunner().invoke(cli, ["export", "--format", "parquet", "--db", str(db), "--out", str(out)])
    assert result.exit_code == 0, result.output
    manifest_path = Path(result.stdout.strip())
    assert manifest_path == out / "export-manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))

    scans = _read(out, "scans").order("started_at").fetchall()
    columns = _read(out, "scans").columns
    assert [row[columns.index("scan_id")] for row in scans] == [first, second]
    assert [row[columns.index("clusters")] for row in scans] == [2, 3]
    assert sorted(p.name for p in (out / "findings").iterdir()) == [
        "scan_date=2026-11-24",
        "scan_date=2026-12-25",
    ]

    con = open_db(db, read_only=True)
    try:
        cached = con.execute("SELECT scan_id, count(*) FROM findings GROUP BY 1 ORDER BY 1").fetchall()
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    finally:
        con.close()
    exported = _read(out, "findings").aggregate("scan_id, count(*)", "scan_id").order("scan_id").fetchall()
    assert exported == cached
    assert manifest["tables"]["findings"]["rows"] == sum(n for _, n in cached)
    failing = (
        _read(out, "findings")
        .filter("control_id = 'AKS-CHN-01' AND status = 'fail'")
        .project("cluster, CAST(scan_date AS VARCHAR)")
        .fetchall()
    )
    assert failing == [("a", "2026-11-24")]

    clusters = (
        _read(out, "clusters")
        .project("scan_id, name, current_minor, upgrade_channel")
        .order("scan_id, name")
        .fetchall()
    )
    assert clusters[:2] == [(first, "a", "1.33", "none"), (first, "b", "1.33", "stable")]
    assert len(clusters) == 5
    pools = (
        _read(out, "pools")
        .filter(f"scan_id = '{first}'")
        .project("pool_name, mode, image_age_days")
        .order("pool_name")
        .fetchall()
    )
    assert pools == [("system", "System", 14), ("system", "System", 14), ("user1", "User", 14)]

    if "upgrade_events" in tables:
        assert "upgrade_events" in manifest["tables"]
    else:
        assert any(note.startswith("upgrade_events: skipped") for note in manifest["notes"])

    # Exporting again replaces the tables, it does not add to them.
    again = CliRunner().invoke(cli, ["export", "--db", str(db), "--out", str(out), "-q"])
    assert again.exit_code == 0, again.output
    assert _read(out, "findings").count("*").fetchall() == [(sum(n for _, n in cached),)]


def test_export_of_an_empty_database_is_an_error(tmp_path: Path) -> None:
    db = tmp_path / "empty.duckdb"
    open_db(db, create=True).close()
    result = CliRunner().invoke(cli, ["export", "--db", str(db), "--out", str(tmp_path / "x")])
    assert result.exit_code == 1 and "holds no scan" in result.stderr
