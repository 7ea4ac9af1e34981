"""The README's by-hand flow, as a user runs it: generate, serve, scan, findings, report."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path


def auditor(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "auditor", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
        cwd=cwd,
    )


def test_generate_serve_scan_findings_report(tmp_path: Path) -> None:
    fleet = tmp_path / "fleet.json"
    generated = auditor(
        "emulator", "generate", "--clusters", "8", "--subscriptions", "2", "--seed", "4", "--out", str(fleet)
    )
    assert generated.returncode == 0, generated.stderr
    assert json.loads(fleet.read_text())["managedClusters"]
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "auditor",
            "emulator",
            "serve",
            "--fleet",
            str(fleet),
            "--port",
            "0",
            "--state-dir",
            str(tmp_path / "emu"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        lines = [server.stdout.readline() for _ in range(3)]
        endpoint = next(line.split()[-1] for line in lines if "endpoint:" in line)
        ca_file = next(line.split()[-1] for line in lines if "CA file:" in line)
        db = tmp_path / "a.duckdb"
        token = {"AUDITOR_ACCESS_TOKEN": "flow-token"}
        scanned = auditor("scan", "--db", str(db), "--endpoint", endpoint, "--ca-bundle", ca_file, env=token)
        assert scanned.returncode == 0, scanned.stderr
        scan_id = scanned.stdout.strip()
        assert scan_id and "\n" not in scan_id
        assert "8 clusters in 2 subscriptions" in scanned.stderr
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=30)
    listed = auditor("findings", "--db", str(db), "--scan", scan_id, "--format", "json")
    assert listed.returncode == 0, listed.stderr
    findings = json.loads(listed.stdout)
    assert {f["control_id"] for f in findings} >= {"AKS-VER-01", "AKS-IMG-01", "AKS-CHN-01"}
    reported = auditor("report", "--db", str(db), "--format", "html,csv", "--out", str(tmp_path / "out"))
    assert reported.returncode == 0, reported.stderr
    assert (tmp_path / "out" / "report.html").exists() and (tmp_path / "out" / "findings.csv").exists()
    assert "flow-token" not in (tmp_path / "out" / "report.html").read_text()
