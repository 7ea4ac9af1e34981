"""`auditor export`: the store as Parquet, partitioned by scan date, for Power BI, Fabric, Spark or DuckDB.

Tables (one directory each under the output directory, in Hive-style ``scan_date=YYYY-MM-DD`` partitions, as
Spark, Fabric and DuckDB read them; every table also carries the scan's start time as a column, for readers
that ignore directory names, such as Power BI's folder connector):

- ``scans``: one row per committed scan, with its fleet size and node-image age summary;
- ``findings``: every finding of every scan under the policy given (read from the findings cache, each scan
  evaluated once if it is not cached yet);
- ``clusters`` and ``pools``: the inventory of every scan, shaped from the raw evidence;
- ``upgrade_events``: the upgrade ledger (issue 5), partitioned by the date a scan first saw each event,
  when the database has the ledger.

Timestamps are UTC, without a time zone in the files (as in the database). ``export-manifest.json`` beside the
tables records what was written, row counts, the policy and the evaluator key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from auditor import __version__
from auditor.errors import AuditorError
from auditor.model import register_functions
from auditor.paths import read_query
from auditor.policy import Policy
from auditor.store import list_scans, open_db
from auditor.trend import Progress, ensure_evaluated

TABLES = ("scans", "findings", "clusters", "pools", "upgrade_events")


@dataclass
class ExportResult:
    """What was written where."""

    out_dir: Path
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    manifest: Path | None = None


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _copy(con: duckdb.DuckDBPyConnection, query: str, target: Path) -> int:
    """Write one query as Parquet partitioned by its scan_date column; returns the rows written."""
    row = con.execute(f"SELECT count(*) FROM ({query})").fetchone()
    rows = int(row[0]) if row else 0
    if rows == 0:
        return 0
    con.execute(
        f"COPY ({query}) TO {_literal(str(target))} "
        "(FORMAT PARQUET, PARTITION_BY (scan_date), OVERWRITE true, COMPRESSION zstd)"
    )
    return rows


def export_parquet(db_path: Path, out_dir: Path, policy: Policy,
                   progress: Progress | None = None) -> ExportResult:
    """Write every table as Parquet under out_dir; returns what was written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    result = ExportResult(out_dir)
    con = open_db(db_path)
    try:
        scans = list_scans(con)
        if not scans:
            raise AuditorError(f"{db_path} holds no scan yet: nothing to export")
        key = ensure_evaluated(con, scans, policy, progress)
        register_functions(con)
        con.execute("SET VARIABLE auditor_evaluator = ?", [key])
        queries = {name: _strip(read_query(f"trend/export_{name}.sql")) for name in TABLES[:4]}
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        if "upgrade_events" in tables:
            # Partitioned by the date of the scan that first saw the event (the ledger's "as of").
            queries["upgrade_events"] = (
                "SELECT *, CAST(first_seen_at AS DATE) AS scan_date FROM upgrade_events")
        else:
            result.notes.append("upgrade_events: skipped, the database has no upgrade ledger (issue 5)")
        for name, query in queries.items():
            if progress:
                progress(f"writing {name}")
            target = out_dir / name
            rows = _copy(con, query, target)
            result.tables[name] = {"rows": rows, "path": name if rows else None,
                                   "partitioned_by": "scan_date"}
            if rows == 0:
                result.notes.append(f"{name}: no rows, nothing written")
        manifest = {
            "generated_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "tool_version": __version__,
            "database": str(db_path),
            "scans": len(scans),
            "policy": {"source": policy.source, "sha256": policy.sha256},
            "evaluator": key,
            "format": "parquet, Hive partitions scan_date=YYYY-MM-DD, zstd; timestamps are UTC",
            "tables": result.tables,
            "notes": result.notes,
        }
        result.manifest = out_dir / "export-manifest.json"
        result.manifest.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    finally:
        con.close()
    return result


def _strip(sql: str) -> str:
    """A query file as one subquery: comment lines and the trailing semicolon removed."""
    body = "\n".join(line for line in sql.splitlines() if not line.strip().startswith("--"))
    return body.strip().rstrip(";")
