"""Failures of the machine around the auditor, each one clear line and nothing stored lost: a full disk (under the
database, or under the evidence spool), a port already in use, a truncated database. (Error bodies that are not
JSON: tests/test_hostile_collection.py and tests/test_secrets.py.)"""

from __future__ import annotations

import hashlib
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from auditor.emulator.generator import generate_fleet
from auditor.emulator.server import EmulatorServer
from auditor.store import rollback_quietly
from tests.emulated import small_fleet
from tests.evidence import cluster, store_scan

TOKEN = {"AUDITOR_ACCESS_TOKEN": "environment-test-token"}


def auditor(*args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "auditor", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **TOKEN},
        **kwargs,  # type: ignore[arg-type]
    )


def scan_ids(db: Path) -> list[str]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return [row[0] for row in con.execute("SELECT scan_id FROM scans ORDER BY scan_id").fetchall()]
    finally:
        con.close()


def _can_mount_tmpfs() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"], capture_output=True, timeout=30
    )
    return probe.returncode == 0


@pytest.mark.skipif(not _can_mount_tmpfs(), reason="needs unshare -rm to mount a small tmpfs (user namespaces)")
def test_a_full_disk_under_the_database_is_named_and_earlier_scans_survive(tmp_path: Path) -> None:
    seed = tmp_path / "seed.duckdb"
    first = store_scan(seed, [cluster(f"c{i}") for i in range(5)])
    mount = tmp_path / "mnt"
    mount.mkdir()
    size_kib = seed.stat().st_size // 1024 + 200  # room for the database, not for a 300-cluster scan's log
    db = mount / "a.duckdb"
    python = f"{sys.executable} -m auditor"
    script = (
        f"mount -t tmpfs -o size={size_kib}k tmpfs {mount} && cp {seed} {db} && "
        f'{python} scan --db {db} --endpoint "$1" --ca-bundle "$2" 2> {tmp_path}/scan.err; '
        f"echo $? > {tmp_path}/scan.rc; "
        f"{python} findings --db {db} --format json > {tmp_path}/findings.json 2> {tmp_path}/findings.err; "
        f"cp {db} {tmp_path}/after.duckdb"
    )
    fleet = generate_fleet(clusters=300, subscriptions=10, regions=5, seed=2)
    with EmulatorServer(fleet, state_dir=tmp_path / "emu", resource_graph_quota=None, rp_burst=None) as server:
        subprocess.run(
            ["unshare", "-rm", "sh", "-c", script, "sh", server.endpoint, str(server.ca_file)],
            env={**os.environ, **TOKEN},
            timeout=300,
            check=True,
        )
    stderr = (tmp_path / "scan.err").read_text()
    assert (tmp_path / "scan.rc").read_text().strip() == "1"
    assert stderr.count("\n") == 1, stderr
    assert "No space left on device" in stderr and "nothing of it was stored and earlier scans are intact" in stderr
    assert "rollback" not in stderr
    assert (tmp_path / "findings.err").read_text() == ""
    assert first in (tmp_path / "findings.json").read_text() or scan_ids(tmp_path / "after.duckdb") == [first]
    assert scan_ids(tmp_path / "after.duckdb") == [first]


def test_a_full_disk_under_the_evidence_spool_is_named_and_nothing_is_stored(tmp_path: Path) -> None:
    db = tmp_path / "a.duckdb"
    first = store_scan(db, [cluster("c")])
    spools = tmp_path / "tmp"
    spools.mkdir()

    def small_files() -> None:  # any write past 2 KB fails, as on a full disk (EFBIG instead of ENOSPC)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (2048, 2048))

    with EmulatorServer(small_fleet(), state_dir=tmp_path / "emu") as server:
        result = subprocess.run(
            [sys.executable, "-m", "auditor", "scan", "--db", str(db)]
            + ["--endpoint", server.endpoint, "--ca-bundle", str(server.ca_file)],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, **TOKEN, "TMPDIR": str(spools)},
            preexec_fn=small_files,  # the limit applies to the child only
        )
    assert result.returncode == 1
    assert result.stderr.startswith("error: cannot write the evidence spool ") and "File too large" in result.stderr
    assert result.stderr.count("\n") == 1
    assert scan_ids(db) == [first]
    assert list(spools.iterdir()) == []


def test_a_port_in_use_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = auditor("emulator", "serve", "--port", str(port), "--state-dir", str(tmp_path / "emu"))
    assert result.returncode == 1
    assert result.stderr == (
        f"error: cannot listen on 127.0.0.1:{port}: the port is already in use (another emulator?); "
        "choose another with --port, or --port 0 for any free port\n"
    )


@pytest.fixture(scope="module")
def whole_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("truncate") / "whole.duckdb"
    store_scan(db, [cluster(f"c{i}") for i in range(50)])
    return db


@pytest.mark.parametrize(
    ("command", "keep"),
    [
        (["findings", "--format", "json"], 0.05),
        (["findings", "--format", "json"], 0.5),
        (["findings", "--format", "json"], 0.99),
        (["report", "--format", "json"], 0.5),
        (["trend"], 0.5),
        (["history"], 0.99),
        (["scan", "--endpoint", "https://127.0.0.1:9"], 0.99),
    ],
    ids=lambda value: value[0] if isinstance(value, list) else str(value),
)
def test_a_truncated_database_is_one_line_and_left_untouched(
    whole_db: Path, tmp_path: Path, keep: float, command: list[str]
) -> None:
    db = tmp_path / "cut.duckdb"
    data = whole_db.read_bytes()
    db.write_bytes(data[: int(len(data) * keep)])
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    extra = ["--out", str(tmp_path / "out")] if command[0] == "report" else []
    result = auditor(*command, "--db", str(db), *extra)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert "truncated" in result.stderr and "unexpected" not in result.stderr
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
    assert not db.with_name(db.name + ".wal").exists()


def test_a_rollback_after_duckdb_aborted_the_transaction_keeps_quiet(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "x.duckdb"))
    try:
        rollback_quietly(con)  # no transaction is active: nothing to hide the real error behind
    finally:
        con.close()
