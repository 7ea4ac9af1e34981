"""Bad input gets one clear line and a non-zero exit, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    environment = {**os.environ, **(env or {})}
    environment.pop("AUDITOR_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "auditor", *args], capture_output=True, text=True, timeout=120, env=environment
    )


def _one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines, "expected an error message on stderr"
    return lines[-1]


def test_bad_flag_is_a_usage_error() -> None:
    result = run("findings", "--no-such-flag")
    assert result.returncode == 2
    assert "No such option" in _one_line_error(result)


def test_missing_database(tmp_path: Path) -> None:
    result = run("findings", "--db", str(tmp_path / "missing.duckdb"))
    assert result.returncode == 1
    assert _one_line_error(result).startswith("error: no database at")
    assert not (tmp_path / "missing.duckdb").exists()


def test_unknown_report_format(tmp_path: Path) -> None:
    result = run("report", "--db", str(tmp_path / "x.duckdb"), "--format", "pdf,docx")
    assert result.returncode == 2


@pytest.mark.parametrize("endpoint", ["https://127.0.0.1:9", "https://127.0.0.1:1"])
def test_unreachable_endpoint(tmp_path: Path, endpoint: str) -> None:
    result = run(
        "scan",
        "--db",
        str(tmp_path / "a.duckdb"),
        "--endpoint",
        endpoint,
        "-q",
        env={"AUDITOR_ACCESS_TOKEN": "secret-token-value"},
    )
    assert result.returncode == 1
    line = _one_line_error(result)
    assert line.startswith("error: cannot reach https://127.0.0.1")
    assert "secret-token-value" not in result.stderr + result.stdout


def test_bad_policy_file_names_the_line(tmp_path: Path) -> None:
    from tests.evidence import cluster, store_scan

    db = tmp_path / "a.duckdb"
    store_scan(db, [cluster("c1")])
    policy = tmp_path / "policy.toml"
    policy.write_text("[thresholds]\nimage_max_age_days = 30\nmystery = 1\n")
    result = run("findings", "--db", str(db), "--policy", str(policy))
    assert result.returncode == 1
    assert _one_line_error(result) == (
        f"error: {policy}:3: unknown key 'mystery' in [thresholds] (allowed: allowed_node_os_upgrade_channels, "
        "allowed_upgrade_channels, "
        "campaign_window_hours, history_lookback_days, image_max_age_days, node_image_order, patch_deadline_days, "
        "ring_order, ring_tag, support_warning_days, system_max_unavailable, window_max_hours)"
    )


def test_findings_json_goes_to_stdout_alone(tmp_path: Path) -> None:
    import json

    from tests.evidence import cluster, store_scan

    db = tmp_path / "a.duckdb"
    store_scan(db, [cluster("c1", channel=None)])
    result = run("findings", "--db", str(db), "--format", "json")
    assert result.returncode == 0, result.stderr
    findings = json.loads(result.stdout)
    assert {"control_id", "status", "severity", "resource_id", "node_pool", "message"} <= set(findings[0])
    failing = run("findings", "--db", str(db), "--format", "json", "--fail-on", "medium")
    assert failing.returncode == 3
    assert json.loads(failing.stdout) == findings


@pytest.mark.parametrize("command", [["report", "--format", "csv"], ["export", "--format", "parquet"]])
def test_unwritable_output_directory(tmp_path: Path, command: list[str]) -> None:
    from tests.evidence import cluster, store_scan

    db = tmp_path / "a.duckdb"
    store_scan(db, [cluster("c1")])
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    result = run(*command, "--db", str(db), "--out", str(blocker / "out"))
    assert result.returncode == 1
    assert _one_line_error(result).startswith(f"error: cannot create the output directory {blocker / 'out'}")
