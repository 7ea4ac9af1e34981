"""Credential and endpoint mistakes are one clear line each, never the SDK's pages."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from auditor.cli import cli
from auditor.emulator import EmulatorServer
from auditor.emulator.generator import generate_fleet

FLEET = generate_fleet(clusters=2, subscriptions=1, seed=1, as_of=datetime(2026, 11, 24, tzinfo=UTC))


@pytest.fixture(scope="module")
def emulator() -> EmulatorServer:
    with EmulatorServer(FLEET) as server:
        yield server


def _scan(*args: str, token: str | None = "test-token") -> tuple[int, str, str]:
    env = {"AUDITOR_ACCESS_TOKEN": token} if token else {}
    result = CliRunner().invoke(cli, ["scan", "-q", *args], env=env)
    return result.exit_code, result.stdout, result.stderr


def _one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def test_no_credential_is_one_line_saying_how_to_sign_in(tmp_path: Path, emulator: EmulatorServer) -> None:
    """The real DefaultAzureCredential with nothing to find: no login, no identity, no token variable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "AUDITOR_", "IDENTITY_", "MSI_"))}
    env.update(HOME=str(tmp_path), PATH=str(Path(sys.executable).parent))  # no `az`, no cached login
    db = tmp_path / "store.duckdb"
    before = emulator.counters()["requests"]
    done = subprocess.run(
        [sys.executable, "-m", "auditor", "scan", "--db", str(db), "--endpoint", emulator.endpoint,
         "--ca-bundle", str(emulator.ca_file)],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1
    line = _one_line(done.stderr)
    assert line.startswith("error: no Azure credential: sign in with `az login`")
    assert "workload identity" in line and "AUDITOR_ACCESS_TOKEN" in line
    assert done.stdout == ""
    assert not db.exists()
    assert emulator.counters()["requests"] == before  # the token is asked for before any call is made


@pytest.mark.parametrize(
    ("endpoint", "expected"),
    [
        ("http://127.0.0.1:8443", "is plain HTTP: the bearer token is only ever sent over HTTPS"),
        ("127.0.0.1:8443", "is not an HTTPS URL: give it as https://host[:port]"),
        ("https://", "is not an HTTPS URL"),
        ("https://127.0.0.1:port", "has an invalid port"),
    ],
)
def test_a_plain_http_or_malformed_endpoint_is_a_usage_error(endpoint: str, expected: str, tmp_path: Path) -> None:
    code, stdout, stderr = _scan("--db", str(tmp_path / "s.duckdb"), "--endpoint", endpoint)
    assert code == 2, stderr
    assert expected in stderr and stdout == ""
    assert not (tmp_path / "s.duckdb").exists()


def test_an_untrusted_certificate_says_so_and_how_to_fix_it(tmp_path: Path, emulator: EmulatorServer) -> None:
    before = emulator.counters()["requests"]
    code, _, stderr = _scan("--db", str(tmp_path / "s.duckdb"), "--endpoint", emulator.endpoint)
    assert code == 1
    line = _one_line(stderr)
    assert line.startswith(f"error: the TLS certificate of {emulator.endpoint} is not trusted (")
    assert "pass --ca-bundle" in line
    assert emulator.counters()["requests"] == before  # the handshake failed: no request was served
    assert not (tmp_path / "s.duckdb").exists()


def test_a_ca_bundle_without_a_certificate_is_a_usage_error(tmp_path: Path, emulator: EmulatorServer) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("not a certificate\n", encoding="utf-8")
    code, _, stderr = _scan(
        "--db", str(tmp_path / "s.duckdb"), "--endpoint", emulator.endpoint, "--ca-bundle", str(bundle)
    )
    assert code == 2
    assert "holds no usable PEM CA certificate" in stderr


def test_nothing_listening_is_connection_refused(tmp_path: Path) -> None:
    code, _, stderr = _scan("--db", str(tmp_path / "s.duckdb"), "--endpoint", "https://127.0.0.1:9")
    assert code == 1
    assert _one_line(stderr) == (
        "error: cannot reach https://127.0.0.1:9: connection refused (nothing listens there; is the emulator running?)"
    )
