"""Ctrl-C, a second Ctrl-C, SIGTERM and kill -9 during a scan, with real processes and signals: the scan stops
within 2 s without a traceback, stores nothing, leaves no evidence spool behind, and a spool left by a killed
scan is removed by the next one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from auditor.collect.limiter import Limiter, ScanCancelled
from auditor.emulator.server import EmulatorServer
from auditor.store import EvidenceSpool, remove_stale_spools
from tests.emulated import small_fleet

STOP_WITHIN_S = 2.0


@pytest.fixture
def hanging_emulator(tmp_path: Path) -> Iterator[EmulatorServer]:
    """Maintenance configuration calls hang for a minute: a scan is always mid-call when the signal comes."""
    with EmulatorServer(
        small_fleet(),
        state_dir=tmp_path / "emu",
        timeout_rate=1.0,
        timeout_seconds=60,
        timeout_kinds=["maintenance_configurations"],
    ) as server:
        yield server


def start_scan(server: EmulatorServer, tmp_path: Path) -> tuple[subprocess.Popen[str], Path]:
    spools = tmp_path / "tmp"
    spools.mkdir(exist_ok=True)
    process = subprocess.Popen(
        [sys.executable, "-m", "auditor", "scan", "--db", str(tmp_path / "a.duckdb")]
        + ["--endpoint", server.endpoint, "--ca-bundle", str(server.ca_file)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "AUDITOR_ACCESS_TOKEN": "interrupt-test-token", "TMPDIR": str(spools)},
    )
    deadline = time.monotonic() + 60
    while server.counters()["timeouts"] < 2:  # both workers' calls are hanging
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the scan never reached its hanging calls"
        time.sleep(0.02)
    assert list(spools.glob("auditor-evidence-*.ndjson")), "the scan has no evidence spool"
    return process, spools


def stop(process: subprocess.Popen[str], *signals: int) -> tuple[float, str]:
    began = time.monotonic()
    for number in signals:
        process.send_signal(number)
    _, stderr = process.communicate(timeout=30)
    return time.monotonic() - began, stderr


def scans_stored(db: Path) -> int:
    if not db.exists():
        return 0
    con = duckdb.connect(str(db), read_only=True)
    try:
        return int(con.execute("SELECT count(*) FROM scans").fetchone()[0])  # type: ignore[index]
    finally:
        con.close()


@pytest.mark.parametrize(
    ("signals", "code", "word"),
    [
        ((signal.SIGINT,), 130, "interrupted"),
        ((signal.SIGTERM,), 143, "terminated"),
        ((signal.SIGINT, signal.SIGINT), 130, "interrupted"),
    ],
    ids=["ctrl-c", "sigterm", "ctrl-c-twice"],
)
def test_a_signal_stops_the_scan_at_once_and_cleanly(
    hanging_emulator: EmulatorServer, tmp_path: Path, signals: tuple[int, ...], code: int, word: str
) -> None:
    process, spools = start_scan(hanging_emulator, tmp_path)
    took, stderr = stop(process, *signals)
    assert took < STOP_WITHIN_S, f"took {took:.2f} s"
    assert process.returncode == code, stderr
    assert stderr.startswith(word) or stderr.startswith("interrupted again"), stderr
    assert "Traceback" not in stderr and "Exception ignored" not in stderr
    assert scans_stored(tmp_path / "a.duckdb") == 0
    if len(signals) == 1:
        assert list(spools.glob("auditor-evidence-*")) == []


def test_a_spool_left_by_a_killed_scan_is_removed_by_the_next(hanging_emulator: EmulatorServer, tmp_path: Path) -> None:
    process, spools = start_scan(hanging_emulator, tmp_path)
    process.kill()
    process.communicate(timeout=30)
    left = list(spools.glob("auditor-evidence-*.ndjson"))
    assert len(left) == 1  # kill -9 runs no cleanup
    # The next scan's spool is created beside it: the stale one goes, the new one stays.
    running = EvidenceSpool(spools)
    try:
        assert list(spools.glob("auditor-evidence-*.ndjson")) == [running.path]
        # A running scan's spool (this process holds it) is never taken for a stale one.
        assert remove_stale_spools(spools) == []
        assert running.path.exists()
    finally:
        running.discard()


def test_a_new_scan_removes_stale_spools_of_older_versions_only_when_old(tmp_path: Path) -> None:
    recent = tmp_path / "auditor-evidence-abcd1234.ndjson"  # an older version's name: no process, no lock
    recent.write_text("{}\n")
    old = tmp_path / "auditor-evidence-efgh5678.ndjson"
    old.write_text("{}\n")
    two_days_ago = time.time() - 2 * 86400
    os.utime(old, (two_days_ago, two_days_ago))
    spool = EvidenceSpool(tmp_path)
    spool.discard()
    assert recent.exists() and not old.exists()


def test_stopping_the_limiter_wakes_every_waiting_worker() -> None:
    limiter = Limiter()
    outcomes: list[str] = []

    def wait() -> None:
        try:
            limiter.sleep(60)
            outcomes.append("slept")
        except ScanCancelled:
            outcomes.append("cancelled")

    workers = [threading.Thread(target=wait) for _ in range(4)]
    for worker in workers:
        worker.start()
    time.sleep(0.1)
    began = time.monotonic()
    limiter.stop()
    for worker in workers:
        worker.join(timeout=5)
    assert time.monotonic() - began < 0.5
    assert outcomes == ["cancelled"] * 4
    with pytest.raises(ScanCancelled):
        limiter.sleep(1)
