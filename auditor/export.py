"""`auditor export`: the store as Parquet, partitioned by scan date, for Power BI, Fabric, Spark or DuckDB.

Tables (one directory each under the output directory, in Hive-style ``scan_date=YYYY-MM-DD`` partitions, as
Spark, Fabric and DuckDB read them; every table also carries the scan's start time as a column, for readers
that ignore directory names, such as Power BI's folder connector):

- ``scans``: one row per committed scan, with its fleet size and node-image age summary;
- ``findings``: every finding of every scan under the policy given (read from the findings cache, each scan
  evaluated once if it is not cached yet);
- ``clusters`` and ``pools``: the inventory of every scan, read from the raw evidence as queries/shape/ parses it
  (the model and the ledger read the same shape);
- ``upgrade_events``: the upgrade ledger, partitioned by the date a scan first saw each event.

Timestamps are UTC, without a time zone in the files (as in the database). ``export-manifest.json`` beside the
tables records what was written, row counts, the policy and the evaluator key.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb

from auditor import sql
from auditor.errors import AuditorError
from auditor.findings_cache import ensure_cached
from auditor.model.functions import register_functions
from auditor.paths import output_directory
from auditor.policy import Policy
from auditor.store import list_scans, open_db
from auditor.version import __version__
from auditor.vocabulary import ProgressHook, iso_utc

TABLES = ("scans", "findings", "clusters", "pools", "upgrade_events")


@dataclass
class ExportResult:
    """What was written where."""

    out_dir: Path
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    manifest: Path | None = None


def _copy(con: duckdb.DuckDBPyConnection, name: str, target: Path, **params: Any) -> int:
    """Write queries/export/<name>.sql as Parquet in Hive partitions by scan date; returns the rows written.

    One partition at a time (rather than COPY ... PARTITION_BY, which holds every partition's row groups in
    memory at once: 4.8 GB for the findings of 24 scans of 10,000 clusters): memory stays that of one scan.
    The query takes the partition's scans as $scan_ids, which reaches down to the evidence and findings scans.
    """
    by_date: dict[date, list[str]] = {}
    for scan_id, day in sql.run(con, "export/scan_days.sql"):
        by_date.setdefault(day, []).append(scan_id)
    if target.exists():
        shutil.rmtree(target)
    rows = 0
    for day, scan_ids in by_date.items():
        folder = target / f"scan_date={day.isoformat()}"
        folder.mkdir(parents=True)
        file = folder / "data_0.parquet"
        sql.relation(con, f"export/{name}.sql", scan_ids=scan_ids, **params).write_parquet(
            str(file), compression="zstd"
        )
        count = int(con.read_parquet(str(file)).aggregate("count(*)").fetchall()[0][0])
        if not count:
            shutil.rmtree(folder)  # no row of this table in that scan
            continue
        rows += count
    return rows


def export_parquet(db_path: Path, out_dir: Path, policy: Policy, progress: ProgressHook | None = None) -> ExportResult:
    """Write every table as Parquet under out_dir; returns what was written."""
    output_directory(out_dir)
    result = ExportResult(out_dir)
    con = open_db(db_path)
    try:
        scans = list_scans(con)
        if not scans:
            raise AuditorError(f"{db_path} holds no scan yet: nothing to export")
        key = ensure_cached(con, scans, policy, progress)
        register_functions(con)
        sql.run_all(con, sql.files("shape"))  # clusters and pools read the payloads as shaped_clusters parses them
        for number, name in enumerate(TABLES):
            if progress:
                progress("writing the export", number, len(TABLES))
            params = {"evaluator": key} if name in ("scans", "findings") else {}
            rows = _copy(con, name, out_dir / name, **params)
            result.tables[name] = {"rows": rows, "path": name if rows else None, "partitioned_by": "scan_date"}
            if rows == 0:
                result.notes.append(f"{name}: no rows, nothing written")
        if progress:
            progress("writing the export", len(TABLES), len(TABLES))
        manifest = {
            "generated_at": iso_utc(datetime.now(UTC)),
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
