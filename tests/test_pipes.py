"""Output survives a closed pipe (`| head`) silently, and a table written to a pipe keeps one row per line.
Real processes on the demo store."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

COMMANDS = [
    ["trend"],
    ["trend", "--format", "json"],
    ["history"],
    ["history", "--format", "json"],
    ["findings", "--format", "json"],
    ["findings", "--format", "csv"],
    ["controls", "--format", "json"],
]


@pytest.fixture(scope="module")
def store(demo_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pipes") / "demo.duckdb"
    shutil.copy(demo_store, path)
    return path


def _args(command: list[str], store: Path) -> list[str]:
    db = [] if command[0] == "controls" else ["--db", str(store)]
    return [sys.executable, "-m", "auditor", *command, *db]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_a_reader_that_goes_away_is_not_an_error(command: list[str], store: Path) -> None:
    # `| head -0`: the reader is gone before the first byte, so every write meets a closed pipe.
    proc = subprocess.Popen(_args(command, store), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    stderr = proc.stderr.read()
    assert proc.wait(timeout=120) == 0, stderr
    assert "Error" not in stderr and "Exception" not in stderr and "Traceback" not in stderr, stderr


def test_head_keeps_the_exit_code_of_the_gate(store: Path) -> None:
    done = subprocess.run(
        f"{' '.join(_args(['findings', '--format', 'json', '--fail-on', 'high'], store))} | head -1; "
        "exit ${PIPESTATUS[0]}",
        shell=True,
        executable="/bin/bash",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 3, done.stderr
    assert done.stdout == "[\n"
    assert "Broken" not in done.stderr and "Exception" not in done.stderr


def test_a_table_to_a_pipe_is_not_folded_at_80_columns(store: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    done = subprocess.run(
        _args(["findings", "--status", "fail"], store), capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    rows = [line for line in lines if line.startswith("│ AKS-")]
    assert rows and len(lines) <= len(rows) + 6  # a header and borders, no continuation lines
    assert max(len(line) for line in lines) > 120
