"""Readers are never locked out: a scan holds the store only to check it and to commit."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from click.testing import CliRunner

from auditor.cli import cli
from auditor.emulator import EmulatorServer
from auditor.emulator.generator import generate_fleet
from auditor.store import list_scans, open_db
from tests.evidence import cluster, store_scan

AS_OF = datetime(2026, 11, 24, tzinfo=UTC)


def _auditor(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "auditor", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "AUDITOR_ACCESS_TOKEN": "test-token", **(env or {})},
    )


def _scans(db: Path) -> list[str]:
    con = open_db(db, read_only=True)
    try:
        return [s.scan_id for s in list_scans(con)]
    finally:
        con.close()


def test_findings_trend_and_report_run_while_a_scan_collects(tmp_path: Path) -> None:
    db = tmp_path / "store.duckdb"
    first = store_scan(db, [cluster("prod")])
    fleet = generate_fleet(clusters=24, subscriptions=2, seed=3, as_of=AS_OF)
    # 250 ms per call and one call at a time: the scan collects for about ten seconds, longer than four CLI processes
    # take to start and read on a loaded 2-core machine (at 120 ms the scan sometimes finished first there).
    with EmulatorServer(fleet, latency_ms=250, resource_graph_quota=None, rp_burst=None) as server:
        scan = _auditor(
            "scan", "--db", str(db), "--endpoint", server.endpoint, "--ca-bundle", str(server.ca_file),
            "--concurrency", "1", "-q",
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while server.counters()["requests"] < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        readers = {
            "findings": _auditor("findings", "--db", str(db), "--format", "json"),
            "trend": _auditor("trend", "--db", str(db), "--format", "json", "-q"),
            "report": _auditor("report", "--db", str(db), "--format", "json", "--out", str(tmp_path / "r"), "-q"),
            "history": _auditor("history", "--db", str(db), "--format", "json"),
        }
        results = {name: proc.communicate(timeout=120) + (proc.returncode,) for name, proc in readers.items()}
        still_collecting = scan.poll() is None
        out, err = scan.communicate(timeout=120)
    for name, (_, stderr, code) in results.items():
        assert code == 0, f"{name}: {stderr}"
        assert "lock" not in stderr.lower(), f"{name}: {stderr}"
    assert still_collecting, "the scan ended before the readers did: the test proved nothing"
    assert scan.returncode == 0, err
    assert _scans(db) == [first, out.strip()]


def test_a_scan_waits_for_a_reader_to_let_go_before_committing(tmp_path: Path) -> None:
    db = tmp_path / "store.duckdb"
    store_scan(db, [cluster("prod")])
    fleet = generate_fleet(clusters=3, subscriptions=1, seed=4, as_of=AS_OF)
    reader = duckdb.connect(str(db), read_only=True)  # another process's reader, as far as the scan can tell
    try:
        with EmulatorServer(fleet) as server:
            scan = _auditor("scan", "--db", str(db), "--endpoint", server.endpoint, "--ca-bundle", str(server.ca_file))
            assert scan.stderr is not None
            lines: list[str] = []
            watcher = threading.Thread(target=lambda: lines.extend(scan.stderr), daemon=True)  # type: ignore[arg-type]
            watcher.start()
            deadline = time.monotonic() + 60
            while not any("waiting for" in line for line in lines) and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(0.5)
            assert scan.poll() is None, lines
            reader.close()
            scan.wait(timeout=120)
            watcher.join(timeout=10)
            err = "".join(lines)
    finally:
        reader.close()
    assert scan.returncode == 0, err
    assert "note: waiting for" in err
    assert len(_scans(db)) == 2


def test_a_failed_scan_leaves_no_new_file(tmp_path: Path, monkeypatch: object) -> None:
    db = tmp_path / "new" / "store.duckdb"
    result = CliRunner().invoke(
        cli,
        ["scan", "--db", str(db), "--endpoint", "https://127.0.0.1:9", "-q"],
        env={"AUDITOR_ACCESS_TOKEN": "test-token"},
    )
    assert result.exit_code == 1, result.output
    assert not (tmp_path / "new").exists()


def test_a_scan_into_an_unwritable_place_fails_before_any_call(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with EmulatorServer(generate_fleet(clusters=2, subscriptions=1, seed=1, as_of=AS_OF)) as server:
        result = CliRunner().invoke(
            cli,
            ["scan", "--db", str(blocker / "store.duckdb"), "--endpoint", server.endpoint,
             "--ca-bundle", str(server.ca_file)],
            env={"AUDITOR_ACCESS_TOKEN": "test-token"},
        )  # fmt: skip
        calls = server.counters()["requests"]
    assert result.exit_code == 1
    assert "not a writable directory" in result.output
    assert calls == 0
