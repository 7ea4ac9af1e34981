"""A scan is visible only once whole: Ctrl-C, a crash or kill -9 leave earlier scans intact and no half scan."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from auditor.emulator.server import EmulatorServer
from auditor.store import list_scans, open_db
from tests.emulated import small_fleet
from tests.evidence import cluster, store_scan

KILL_MID_COMMIT = """
import os, signal, sys
from datetime import UTC, datetime
from pathlib import Path
from auditor.store import EvidenceRow, ScanRecord, open_db, write_scan
import duckdb

con = open_db(Path(sys.argv[1]))
real_execute = duckdb.DuckDBPyConnection.execute
record = ScanRecord("second", datetime.now(UTC), datetime.now(UTC), "t", "AzureCloud", "x", {}, {},
                    [EvidenceRow("cluster", f"/c/{i}", "GET", {"i": i}) for i in range(5000)])

class Dying:
    # Die between the evidence insert and the scans row: the worst moment for a crash.
    def __init__(self, con):
        self.con, self.calls = con, 0
    def execute(self, statement, *args):
        # A statement of queries/store/insert_scan.sql (auditor.sql passes DuckDB's parsed statements).
        if "INSERT INTO scans" in getattr(statement, "query", statement):
            os.kill(os.getpid(), signal.SIGKILL)
        return self.con.execute(statement, *args)
    def __getattr__(self, name):
        return getattr(self.con, name)

write_scan(Dying(con), record)
"""


def _scan_ids(db: Path) -> list[str]:
    con = open_db(db)
    try:
        return [s.scan_id for s in list_scans(con)]
    finally:
        con.close()


def _evidence_scans(db: Path) -> set[str]:
    con = open_db(db)
    try:
        return {r[0] for r in con.execute("SELECT DISTINCT scan_id FROM evidence").fetchall()}
    finally:
        con.close()


def test_kill_9_in_the_middle_of_a_commit_leaves_no_half_scan(tmp_path: Path) -> None:
    db = tmp_path / "a.duckdb"
    first = store_scan(db, [cluster("c1")])
    result = subprocess.run(
        [sys.executable, "-c", KILL_MID_COMMIT, str(db)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == -signal.SIGKILL, result.stderr
    assert _scan_ids(db) == [first]
    assert _evidence_scans(db) == {first}


def test_ctrl_c_during_collection_stores_nothing_and_leaves_no_spool(tmp_path: Path) -> None:
    db = tmp_path / "a.duckdb"
    first = store_scan(db, [cluster("c1")])
    spool_dir = tmp_path / "tmp"
    spool_dir.mkdir()
    fleet = small_fleet()
    with EmulatorServer(fleet, state_dir=tmp_path / "emu", latency_ms=400) as server:
        env = {**os.environ, "AUDITOR_ACCESS_TOKEN": "t", "TMPDIR": str(spool_dir)}
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "auditor",
                "scan",
                "--db",
                str(db),
                "--endpoint",
                server.endpoint,
                "--ca-bundle",
                str(server.ca_file),
                "--concurrency",
                "2",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(2.5)  # inside the collection: several 400 ms calls, one at a time
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    assert _scan_ids(db) == [first]
    assert list(spool_dir.iterdir()) == []  # the evidence spool (under TMPDIR) was removed
