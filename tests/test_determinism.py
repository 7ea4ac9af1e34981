"""Findings are a pure function of (stored evidence, policy, catalog, tool version).

Every scan of the demo store is evaluated in fresh processes with DuckDB at 1 thread and at 4, and again on a copy
of the store whose rows were written in another physical order: every (scan, control) digest must be the same.
The catalog is read at run time, so a control added later is covered without touching this test.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb

from auditor.controls import load_catalog

# Prints {scan_id: {control_id: digest, "*": digest of all}} for every scan of a store.
_WORKER = r"""
import json, sys
from pathlib import Path
from auditor.controls import control_ids, evaluate_scan, findings_digest, load_catalog
from auditor.policy import load_policy
from auditor.report.tabular import findings_json
from auditor.store import list_scans, open_db

con = open_db(Path(sys.argv[1]), read_only=True)
con.execute(f"SET threads = {int(sys.argv[2])}")
policy = load_policy(None, known_controls=control_ids())
out = {}
for scan in list_scans(con):
    findings = evaluate_scan(con, scan.scan_id, policy)
    per_control = {c.id: findings_digest([f for f in findings if f.control_id == c.id]) for c in load_catalog()}
    per_control["*"] = findings_digest(findings)
    # What `findings --format json` prints must be byte-stable too, not only the sorted digest.
    import hashlib
    per_control["json"] = hashlib.sha256(findings_json(findings).encode()).hexdigest()
    per_control["count"] = len(findings)
    per_control["controls_seen"] = sorted({f.control_id for f in findings})
    out[scan.scan_id] = per_control
print(json.dumps(out, sort_keys=True))
"""


def _digests(db: Path, threads: int) -> dict[str, dict[str, object]]:
    done = subprocess.run(
        [sys.executable, "-c", _WORKER, str(db), str(threads)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def _differences(reference: dict[str, dict[str, object]], other: dict[str, dict[str, object]]) -> list[str]:
    diffs = []
    for scan_id, controls in reference.items():
        for control_id, digest in controls.items():
            if other.get(scan_id, {}).get(control_id) != digest:
                diffs.append(f"{scan_id} {control_id}")
    return diffs


def _shuffled_copy(source: Path, target: Path) -> None:
    """The same rows in every table, written in reverse (evidence) or random order: ties that a query breaks by
    physical row order come out differently here."""
    shutil.copy(source, target)
    con = duckdb.connect(str(target))
    try:
        tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE NOT temporary").fetchall()]
        con.execute("BEGIN TRANSACTION")
        for table in tables:
            con.execute(f"CREATE TEMP TABLE _copy AS SELECT * FROM {table} ORDER BY hash(COLUMNS(*)::VARCHAR) DESC")
            con.execute(f"DELETE FROM {table}")
            con.execute(f"INSERT INTO {table} SELECT * FROM _copy")
            con.execute("DROP TABLE _copy")
        con.execute("COMMIT")
    finally:
        con.close()


def test_every_scan_evaluates_to_the_same_findings_in_every_process(demo_store: Path, tmp_path: Path) -> None:
    reference = _digests(demo_store, 1)
    assert len(reference) == 6
    # The demo store exercises every control of the catalog, so the comparison below covers each of them.
    seen = {control for scan in reference.values() for control in scan["controls_seen"]}  # type: ignore[attr-defined]
    assert {c.id for c in load_catalog()} <= seen
    threaded = _digests(demo_store, 4)
    assert threaded == reference, f"1 and 4 threads differ: {_differences(reference, threaded)[:20]}"
    shuffled = tmp_path / "shuffled.duckdb"
    _shuffled_copy(demo_store, shuffled)
    moved = _digests(shuffled, 4)
    assert moved == reference, f"physical row order changed findings: {_differences(reference, moved)[:20]}"
